/**
 * @file loop.h  The event loop: epoll for file descriptors, a binary heap
 * of timers, and end-of-turn hooks.
 *
 * One thread owns signalling, registrar and storage state (STYLE.md). Each
 * turn waits in epoll, dispatches every ready descriptor, fires due timers,
 * then runs the end-of-turn hooks: the store commits the turn's writes in
 * one transaction and only then are the deferred replies sent (group
 * commit). docs/design/loop.md says why this is a lean epoll loop and not
 * libuv.
 */
#ifndef TANDEM_LOOP_H
#define TANDEM_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

typedef void (fd_h)(int fd, uint32_t events, void *arg);
typedef void (tmr_h)(void *arg);
typedef void (turn_h)(void *arg);

struct tmr {
	uint64_t when;     /* monotonic ms */
	size_t idx;        /* heap index + 1; 0 when not armed */
	tmr_h *h;
	void *arg;
};

int  loop_init(void);
void loop_close(void);
/** Watch fd for events (EPOLLIN/EPOLLOUT); call again to change them. */
int  loop_fd_listen(int fd, uint32_t events, fd_h *h, void *arg);
/** Stop watching fd (does not close it). */
void loop_fd_forget(int fd);
/** Run until loop_stop(); returns 0. */
int  loop_run(void);
void loop_stop(void);
/** Register a hook run at the end of every turn, in registration order. */
int  loop_turn_hook(turn_h *h, void *arg);
/** Monotonic milliseconds, refreshed at every turn. */
uint64_t loop_now(void);
/** Refresh and return the monotonic clock. */
uint64_t loop_now_update(void);
/** Wall-clock (CLOCK_REALTIME) milliseconds since the epoch, read now: for
 * times that travel to the other node, whose monotonic clock differs. */
int64_t loop_wall_ms(void);

static inline void tmr_init(struct tmr *t) { t->idx = 0; t->h = NULL; t->arg = NULL; }
/** Arm (or re-arm) t to fire after delay ms. */
void tmr_start(struct tmr *t, uint64_t delay, tmr_h *h, void *arg);
void tmr_cancel(struct tmr *t);
static inline bool tmr_isset(const struct tmr *t) { return t->idx != 0; }
/** Milliseconds until t fires, 0 when due or not armed. */
uint64_t tmr_left(const struct tmr *t);
/** Number of armed timers (tests, metrics). */
size_t tmr_count(void);

/**
 * Tests only: move the clock forward by ms and fire every timer due by
 * then, in order, as the loop would.
 */
void loop_test_advance(uint64_t ms);

#endif
