/** @file loop.c  epoll loop, timer heap and end-of-turn hooks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"

struct fdent {
	fd_h *h;
	void *arg;
	bool used;
};

struct hook {
	turn_h *h;
	void *arg;
};

static int epfd = -1;
static struct fdent *fds;
static size_t nfds;
static struct tmr **heap;
static size_t heap_n, heap_cap;
static struct hook hooks[8];
static size_t nhooks;
static volatile bool running;
static uint64_t now_ms;

uint64_t loop_now_update(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return now_ms;
}

int64_t loop_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t loop_now(void)
{
	return now_ms ? now_ms : loop_now_update();
}

int loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return errno;
	loop_now_update();
	return 0;
}

void loop_close(void)
{
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
	free(fds);
	fds = NULL;
	nfds = 0;
	free(heap);
	heap = NULL;
	heap_n = heap_cap = 0;
	nhooks = 0;
}

int loop_fd_listen(int fd, uint32_t events, fd_h *h, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	bool add;

	if (fd < 0)
		return EBADF;
	if ((size_t)fd >= nfds) {
		size_t n = (size_t)fd * 2 + 16;
		struct fdent *p = realloc(fds, n * sizeof(*p));
		if (!p)
			return ENOMEM;
		memset(p + nfds, 0, (n - nfds) * sizeof(*p));
		fds = p;
		nfds = n;
	}
	add = !fds[fd].used;
	if (epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0)
		return errno;
	fds[fd] = (struct fdent){ h, arg, true };
	return 0;
}

void loop_fd_forget(int fd)
{
	if (fd < 0 || (size_t)fd >= nfds || !fds[fd].used)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	fds[fd].used = false;
}

int loop_turn_hook(turn_h *h, void *arg)
{
	if (nhooks >= sizeof(hooks) / sizeof(hooks[0]))
		return ENOSPC;
	hooks[nhooks++] = (struct hook){ h, arg };
	return 0;
}

/* ---- timer heap (min-heap on when, idx stored 1-based in the timer) ---- */

static void heap_set(size_t i, struct tmr *t)
{
	heap[i] = t;
	t->idx = i + 1;
}

static void sift_up(size_t i)
{
	struct tmr *t = heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (heap[parent]->when <= t->when)
			break;
		heap_set(i, heap[parent]);
		i = parent;
	}
	heap_set(i, t);
}

static void sift_down(size_t i)
{
	struct tmr *t = heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= heap_n)
			break;
		if (c + 1 < heap_n && heap[c + 1]->when < heap[c]->when)
			c++;
		if (heap[c]->when >= t->when)
			break;
		heap_set(i, heap[c]);
		i = c;
	}
	heap_set(i, t);
}

void tmr_cancel(struct tmr *t)
{
	size_t i;
	struct tmr *last;

	if (!t || !t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	last = heap[--heap_n];
	if (i == heap_n)
		return;
	heap_set(i, last);
	if (i > 0 && heap[(i - 1) / 2]->when > last->when)
		sift_up(i);
	else
		sift_down(i);
}

void tmr_start(struct tmr *t, uint64_t delay, tmr_h *h, void *arg)
{
	tmr_cancel(t);
	if (heap_n == heap_cap) {
		size_t n = heap_cap ? heap_cap * 2 : 256;
		struct tmr **p = realloc(heap, n * sizeof(*p));
		if (!p) {
			log_error("loop: out of memory arming a timer");
			return;
		}
		heap = p;
		heap_cap = n;
	}
	t->when = loop_now() + delay;
	t->h = h;
	t->arg = arg;
	heap_set(heap_n++, t);
	sift_up(heap_n - 1);
}

uint64_t tmr_left(const struct tmr *t)
{
	uint64_t now = loop_now();

	if (!t->idx || t->when <= now)
		return 0;
	return t->when - now;
}

size_t tmr_count(void)
{
	return heap_n;
}

static void run_timers(void)
{
	unsigned budget = 100000;  /* bounded: timers armed now wait a turn */

	while (heap_n && heap[0]->when <= now_ms && budget--) {
		struct tmr *t = heap[0];
		tmr_cancel(t);
		t->h(t->arg);
	}
}

static int next_timeout(void)
{
	uint64_t d;

	if (!heap_n)
		return 1000;
	if (heap[0]->when <= now_ms)
		return 0;
	d = heap[0]->when - now_ms;
	return d > 1000 ? 1000 : (int)d;
}

void loop_stop(void)
{
	running = false;
}

int loop_run(void)
{
	struct epoll_event evs[64];
	size_t i;

	running = true;
	while (running) {
		int n = epoll_wait(epfd, evs, 64, next_timeout());
		if (n < 0 && errno != EINTR) {
			log_error("loop: epoll_wait: %s", strerror(errno));
			return errno;
		}
		loop_now_update();
		for (int k = 0; k < n; k++) {
			int fd = evs[k].data.fd;
			if ((size_t)fd < nfds && fds[fd].used)
				fds[fd].h(fd, evs[k].events, fds[fd].arg);
		}
		run_timers();
		for (i = 0; i < nhooks; i++)
			hooks[i].h(hooks[i].arg);
	}
	return 0;
}

void loop_test_advance(uint64_t ms)
{
	uint64_t target = now_ms + ms;

	while (heap_n && heap[0]->when <= target) {
		struct tmr *t = heap[0];
		if (t->when > now_ms)
			now_ms = t->when;
		tmr_cancel(t);
		t->h(t->arg);
	}
	now_ms = target;
}
