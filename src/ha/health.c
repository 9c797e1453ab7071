/**
 * @file health.c  The heartbeat file and its check (health.h; design 8.2).
 *
 * The writer never blocks: the file is mapped once at start and each turn
 * stores one 64-bit timestamp in it. The reader never talks to tandemd
 * (a stopped daemon would make a control-socket request block): it reads
 * the 64 bytes, checks the pid with kill(pid, 0) and the age of the turn.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include "ha/ha.h"
#include "ha/health.h"
#include "ha/role.h"

static struct {
	volatile struct ha_heartbeat *hb;
	struct tmr tick;
	bool hooked;
} g;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* End of every turn: the loop is alive. */
static void turn(void *arg)
{
	(void)arg;
	if (!g.hb)
		return;
	g.hb->role = (uint32_t)ha_role();
	g.hb->serving = ha_role() == HA_ROLE_ACTIVE;
	g.hb->turn_ms = mono_ms();
}

static void tick(void *arg)
{
	(void)arg;
	ha_role_tick(loop_now_update());
	tmr_start(&g.tick, HA_HEALTH_TICK_MS, tick, NULL);
}

int ha_health_start(const char *datadir)
{
	char path[PATH_MAX];
	void *p;
	int fd, e;

	snprintf(path, sizeof(path), "%s/cluster", datadir);
	if ((e = fs_mkdirs(path, 0750)))
		goto out;
	snprintf(path, sizeof(path), "%s/cluster/heartbeat", datadir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, sizeof(struct ha_heartbeat)) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	p = mmap(NULL, sizeof(struct ha_heartbeat), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	e = p == MAP_FAILED ? errno : 0;
	close(fd);
	if (e)
		goto out;
	g.hb = p;
	g.hb->pid = (uint32_t)getpid();
	g.hb->role = (uint32_t)ha_role();
	g.hb->serving = 0;
	g.hb->turn_ms = mono_ms();
	g.hb->magic = HA_HEALTH_MAGIC;
	if (!g.hooked && (e = loop_turn_hook(turn, NULL)))
		goto out;
	g.hooked = true;
	tmr_init(&g.tick);
	tmr_start(&g.tick, HA_HEALTH_TICK_MS, tick, NULL);
	return 0;
out:
	log_error("cluster: heartbeat %s: %s", path, strerror(e));
	ha_health_stop();
	return e;
}

void ha_health_stop(void)
{
	tmr_cancel(&g.tick);
	if (g.hb) {
		g.hb->pid = 0;   /* a clean exit is not a hang: tell the reader */
		munmap((void *)g.hb, sizeof(struct ha_heartbeat));
	}
	g.hb = NULL;
}

int ha_health_check(const char *datadir, char *why, size_t whysize)
{
	struct ha_heartbeat hb;
	char path[PATH_MAX];
	uint64_t now;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/cluster/heartbeat", datadir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whysize, "%s: %s (not a cluster node, or tandemd never ran)",
			 path, strerror(errno));
		return 1;
	}
	n = pread(fd, &hb, sizeof(hb), 0);
	close(fd);
	if (n != (ssize_t)sizeof(hb) || hb.magic != HA_HEALTH_MAGIC) {
		snprintf(why, whysize, "%s: not a heartbeat file", path);
		return 1;
	}
	if (!hb.pid) {
		snprintf(why, whysize, "tandemd stopped (clean exit)");
		return 1;
	}
	if (kill((pid_t)hb.pid, 0) < 0 && errno == ESRCH) {
		snprintf(why, whysize, "tandemd (pid %u) is not running", hb.pid);
		return 1;
	}
	now = mono_ms();
	if (now > hb.turn_ms + HA_HEALTH_MAX_AGE_MS) {
		snprintf(why, whysize, "last loop turn %llu ms ago (> %d ms): tandemd (pid %u) "
			 "is stopped or stuck", (unsigned long long)(now - hb.turn_ms),
			 HA_HEALTH_MAX_AGE_MS, hb.pid);
		return 1;
	}
	snprintf(why, whysize, "ok: pid %u, last turn %llu ms ago, role %s", hb.pid,
		 (unsigned long long)(now > hb.turn_ms ? now - hb.turn_ms : 0),
		 ha_role_name((enum ha_role)hb.role));
	return 0;
}

/* FILE <- "0\n" or "1\n" through a rename (keepalived reads it by inotify). */
static int verdict_write(const char *file, bool healthy)
{
	char tmp[PATH_MAX + 8];
	int fd, e = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	if (write(fd, healthy ? "0\n" : "1\n", 2) != 2)
		e = errno ? errno : EIO;
	close(fd);
	if (!e && rename(tmp, file) < 0)
		e = errno;
	return e;
}

/* Remove FILE.pid if it still names this process (a newer watcher's stays). */
static void pidfile_drop(const char *pidfile)
{
	char buf[32] = "";
	FILE *f = fopen(pidfile, "r");

	if (!f)
		return;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (strtol(buf, NULL, 10) == (long)getpid())
		unlink(pidfile);
}

int ha_health_watch(const char *datadir, const char *file)
{
	char why[512], pidfile[PATH_MAX + 8], path[PATH_MAX];
	pid_t owner = getppid();   /* the tandemd that started us */
	int last = -1, missing = 0, rc = 0;
	FILE *f;

	snprintf(pidfile, sizeof(pidfile), "%s.pid", file);
	if ((f = fopen(pidfile, "w"))) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/cluster/heartbeat", datadir);
	for (;;) {
		struct ha_heartbeat hb = { 0 };
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		int healthy = !ha_health_check(datadir, why, sizeof(why));
		bool read_ok = false;

		if (fd >= 0) {
			read_ok = pread(fd, &hb, sizeof(hb), 0) == (ssize_t)sizeof(hb) &&
				  hb.magic == HA_HEALTH_MAGIC;
			close(fd);
		}
		if (read_ok && hb.pid && (pid_t)hb.pid != owner && owner != 1 &&
		    kill((pid_t)hb.pid, 0) == 0)
			break;   /* a newer tandemd runs, with its own watcher */
		if (!read_ok && ++missing > 50) {   /* DATADIR gone for 5 s */
			rc = 1;
			break;
		}
		if (read_ok)
			missing = 0;
		if (healthy != last && !verdict_write(file, healthy)) {
			last = healthy;
			fprintf(stderr, "tandemctl health: %s\n", why);
		}
		if (read_ok && !hb.pid && last == 0)
			break;   /* tandemd stopped cleanly and "1" is written */
		nanosleep(&(struct timespec){ 0, HA_HEALTH_TICK_MS * 1000000L }, NULL);
	}
	pidfile_drop(pidfile);
	return rc;
}
