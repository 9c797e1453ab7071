/**
 * @file role.c  Who serves: the node role machine (docs/design/cluster.md 5).
 *
 * One role per node, moved only by ha_role_set(), which refuses (EINVAL,
 * logged) any transition the design's table does not allow:
 *
 *   STARTING -> SYNCING -> STANDBY           (replication in SYNC)
 *   STARTING|SYNCING -> PROMOTING            (both cold: ha_role_cold_set,
 *                                             the witness's grant or, without
 *                                             one, the better position)
 *   STANDBY  -> PROMOTING -> ACTIVE          (keepalived MASTER, takeover)
 *   PROMOTING -> STANDBY                     (a step failed)
 *   ACTIVE   -> DEMOTING -> STANDBY          (switchover, address gone)
 *   ACTIVE   -> FENCED -> SYNCING            (votes lost; peer heard again)
 *   STANDBY  -> SYNCING                      (replication fell behind)
 *
 * Every change logs `cluster: role A -> B (epoch N): why`, rewrites the
 * eligibility file keepalived's track_file reads (design 8.1: "0" eligible,
 * "1" not), calls the watchers and runs the `[cluster] hook` with
 * NEW OLD EPOCH WHY through core/spawn.c (reaped through a pidfd watched
 * by the loop, killed after 10 s): the loop never waits for it.
 * A single node (no [cluster]) stays HA_ROLE_SINGLE and serves, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/spawn.h"
#include "ha/cluster_conf.h"
#include "ha/role.h"

#define ROLE_WATCH_MAX  8
#define HOOK_KILL_MS    10000
#define FROZEN_MS       300    /* a turn older than this: we were stopped */

static struct {
	enum ha_role role;
	uint64_t epoch;
	bool autosync;
	struct tmr autosync_tmr;
	bool admin_standby;
	bool cold;                   /* both cold, this node the better one */
	char hold[160];              /* why this node must not take the address */
	char node[CLUSTER_NAME_MAX], peer[CLUSTER_NAME_MAX];
	char vip[64];
	char hook[PATH_MAX];
	char dir[PATH_MAX];          /* DATADIR/cluster */
	struct { ha_role_h *h; void *arg; } watch[ROLE_WATCH_MAX];
	unsigned nwatch;
	ha_resume_h *resume;
	uint64_t tick;
	bool in_resume;
	struct {
		bool set;
		char when[40], from[CLUSTER_NAME_MAX], to[CLUSTER_NAME_MAX], why[160];
	} last;
	unsigned long promoted, stepped_down;   /* since start (/metrics) */
} g = { .role = HA_ROLE_SINGLE, .autosync = true };

static const char *const names[] = {
	[HA_ROLE_SINGLE] = "SINGLE",     [HA_ROLE_STARTING] = "STARTING",
	[HA_ROLE_SYNCING] = "SYNCING",   [HA_ROLE_STANDBY] = "STANDBY",
	[HA_ROLE_PROMOTING] = "PROMOTING", [HA_ROLE_ACTIVE] = "ACTIVE",
	[HA_ROLE_DEMOTING] = "DEMOTING", [HA_ROLE_FENCED] = "FENCED",
};

enum ha_role ha_role(void)
{
	return g.role;
}

const char *ha_role_name(enum ha_role r)
{
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const char *ha_role_contract(enum ha_role r)
{
	return r == HA_ROLE_SINGLE || r == HA_ROLE_ACTIVE ? "active" : "standby";
}

bool ha_serving(void)
{
	if (g.role == HA_ROLE_SINGLE)
		return true;
	/* The loop was frozen (SIGSTOP, a stuck disk): the peer may have taken
	 * the address meanwhile. Check before serving anything again. */
	if (g.role == HA_ROLE_ACTIVE && g.resume && !g.in_resume &&
	    loop_now_update() > g.tick + FROZEN_MS) {
		g.in_resume = true;
		g.tick = loop_now();
		g.resume();
		g.in_resume = false;
	}
	return g.role == HA_ROLE_ACTIVE;
}

void ha_role_on_resume(ha_resume_h *h)
{
	g.resume = h;
}

void ha_role_tick(uint64_t now_ms)
{
	if (g.role == HA_ROLE_ACTIVE && g.resume && now_ms > g.tick + FROZEN_MS &&
	    g.tick && !g.in_resume) {
		g.in_resume = true;
		g.resume();
		g.in_resume = false;
	}
	g.tick = now_ms;
}

static bool allowed(enum ha_role from, enum ha_role to)
{
	switch (from) {
	case HA_ROLE_STARTING:  return to == HA_ROLE_SYNCING ||
				       (to == HA_ROLE_PROMOTING && g.cold);
	case HA_ROLE_SYNCING:   return to == HA_ROLE_STANDBY || to == HA_ROLE_FENCED ||
				       (to == HA_ROLE_PROMOTING && g.cold);
	case HA_ROLE_STANDBY:   return to == HA_ROLE_PROMOTING || to == HA_ROLE_SYNCING;
	case HA_ROLE_PROMOTING: return to == HA_ROLE_ACTIVE || to == HA_ROLE_STANDBY;
	case HA_ROLE_ACTIVE:    return to == HA_ROLE_DEMOTING || to == HA_ROLE_FENCED;
	case HA_ROLE_DEMOTING:  return to == HA_ROLE_STANDBY;
	case HA_ROLE_FENCED:    return to == HA_ROLE_SYNCING;
	case HA_ROLE_SINGLE:    return false;
	}
	return false;
}

bool ha_role_eligible(void)
{
	if (g.hold[0])
		return false;
	switch (g.role) {
	case HA_ROLE_STARTING:
	case HA_ROLE_SYNCING:   return g.cold && !g.admin_standby;
	case HA_ROLE_STANDBY:
	case HA_ROLE_PROMOTING:
	case HA_ROLE_ACTIVE:    return !g.admin_standby;   /* FO_HANDOVER: off */
	default:                return false;
	}
}

/* ------------------------------------------------------------ files */

/* DATADIR/cluster/NAME <- text, through a rename so readers (keepalived's
 * inotify) never see a half-written file. */
static int file_put(const char *name, const char *text)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
	size_t len = strlen(text);
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s/%s", g.dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	if (write(fd, text, len) != (ssize_t)len)
		e = errno ? errno : EIO;
	close(fd);
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e)
		log_error("cluster: cannot write %s: %s", path, strerror(e));
	return e;
}

static void eligible_write(void)
{
	if (g.dir[0])
		file_put("eligible", ha_role_eligible() ? "0\n" : "1\n");
}

void ha_role_cold_set(bool on)
{
	if (on == g.cold)
		return;
	g.cold = on;
	log_notice("cluster: cold start: this node %s the one to serve", on ? "is" : "is no "
		   "longer");
	eligible_write();
}

bool ha_role_cold(void)
{
	return g.cold;
}

void ha_role_hold_set(const char *why)
{
	if (!why)
		why = "";
	if (!strcmp(why, g.hold))
		return;
	if (why[0])
		log_warn("cluster: not eligible for the address: %s", why);
	else if (g.hold[0])
		log_notice("cluster: eligible again: the reason above no longer holds");
	snprintf(g.hold, sizeof(g.hold), "%s", why);
	eligible_write();
}

const char *ha_role_hold(void)
{
	return g.hold;
}

int ha_role_admin_standby_set(bool on)
{
	int e;

	if (!g.dir[0])
		return ENOTCONN;
	e = file_put("admin_standby", on ? "1\n" : "0\n");
	if (e)
		return e;
	if (on != g.admin_standby)
		log_notice("cluster: admin standby %s", on ? "set" : "cleared");
	g.admin_standby = on;
	eligible_write();
	return 0;
}

bool ha_role_admin_standby(void)
{
	return g.admin_standby;
}

static bool admin_standby_read(void)
{
	char path[PATH_MAX + 64], c = '0';
	int fd;

	snprintf(path, sizeof(path), "%s/admin_standby", g.dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = '0';
	close(fd);
	return c == '1';
}

/* ------------------------------------------------------------ hook */

/* The hook runs in the background (core/spawn.c reaps it, logs a failure
 * and kills it after HOOK_KILL_MS): the loop never waits for it. */
static void hook_run(enum ha_role to, enum ha_role from, const char *why)
{
	char epoch[24], envn[96], envp[96], envv[96], what[PATH_MAX + 48];
	char *argv[] = { g.hook, (char *)ha_role_name(to), (char *)ha_role_name(from),
			 epoch, (char *)why, NULL };
	char *envp_[] = { envn, envp, envv, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct spawn_opts o = { .path = g.hook, .argv = argv, .envp = envp_,
				.keep_output = true, .kill_ms = HOOK_KILL_MS, .what = what };

	if (!g.hook[0])
		return;
	snprintf(epoch, sizeof(epoch), "%llu", (unsigned long long)g.epoch);
	snprintf(envn, sizeof(envn), "TANDEM_NODE=%s", g.node);
	snprintf(envp, sizeof(envp), "TANDEM_PEER=%s", g.peer);
	snprintf(envv, sizeof(envv), "TANDEM_VIP=%s", g.vip);
	if (snprintf(what, sizeof(what), "cluster: hook %s for %s", g.hook,
		     ha_role_name(to)) >= (int)sizeof(what))
		snprintf(what, sizeof(what), "cluster: hook for %s", ha_role_name(to));
	(void)spawn_run(&o, NULL);   /* a failure is logged there */
}

/* ------------------------------------------------------------ transitions */

static void last_failover(enum ha_role from, enum ha_role to, const char *why)
{
	struct timespec ts;
	struct tm tm;
	const char *a, *b;

	if (to == HA_ROLE_ACTIVE && from == HA_ROLE_PROMOTING) {
		a = g.peer;
		b = g.node;
		g.promoted++;
	} else if (from == HA_ROLE_ACTIVE) {
		a = g.node;
		b = g.peer;
		g.stepped_down++;
	} else {
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(g.last.when, sizeof(g.last.when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(g.last.when + n, sizeof(g.last.when) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	snprintf(g.last.from, sizeof(g.last.from), "%s", a);
	snprintf(g.last.to, sizeof(g.last.to), "%s", b);
	snprintf(g.last.why, sizeof(g.last.why), "%s", why);
	g.last.set = true;
}

int ha_role_set(enum ha_role to, const char *why)
{
	enum ha_role from = g.role;

	if (!why)
		why = "";
	if (!allowed(from, to)) {
		log_error("cluster: role %s -> %s refused (not a transition of "
			  "docs/design/cluster.md 5): %s", ha_role_name(from), ha_role_name(to),
			  why);
		return EINVAL;
	}
	g.role = to;
	g.tick = loop_now_update();
	log_notice("cluster: role %s -> %s (epoch %llu): %s", ha_role_name(from),
		   ha_role_name(to), (unsigned long long)g.epoch, why);
	last_failover(from, to, why);
	eligible_write();
	for (unsigned i = 0; i < g.nwatch; i++)
		g.watch[i].h(from, to, g.watch[i].arg);
	hook_run(to, from, why);
	return 0;
}

int ha_role_watch(ha_role_h *h, void *arg)
{
	if (g.nwatch == ROLE_WATCH_MAX)
		return ENOMEM;
	g.watch[g.nwatch].h = h;
	g.watch[g.nwatch].arg = arg;
	g.nwatch++;
	return 0;
}

void ha_role_autosync(bool on)
{
	g.autosync = on;
}

void ha_role_epoch_set(uint64_t epoch)
{
	g.epoch = epoch;
}

uint64_t ha_role_epoch(void)
{
	return g.epoch;
}

/* First loop turn: nobody (replication) took STARTING -> SYNCING -> STANDBY. */
static void autosync_h(void *arg)
{
	(void)arg;
	if (!g.autosync || g.role != HA_ROLE_STARTING)
		return;
	ha_role_set(HA_ROLE_SYNCING, "stores open");
	ha_role_set(HA_ROLE_STANDBY, "no replication running: nothing to catch up");
}

int ha_role_start(const struct cluster_conf *cc, unsigned self, const char *datadir)
{
	int e;

	snprintf(g.node, sizeof(g.node), "%s", cc->nodes[self].name);
	snprintf(g.peer, sizeof(g.peer), "%s", cc->nodes[!self].name);
	snprintf(g.vip, sizeof(g.vip), "%s", cc->has_vip ? cc->vip_str : "");
	snprintf(g.hook, sizeof(g.hook), "%s", cc->hook);
	snprintf(g.dir, sizeof(g.dir), "%s/cluster", datadir);
	if ((e = fs_mkdirs(g.dir, 0750))) {
		log_error("cluster: cannot create %s: %s", g.dir, strerror(e));
		g.dir[0] = '\0';
		return e;
	}
	g.admin_standby = admin_standby_read();
	if (g.admin_standby)
		log_notice("cluster: admin standby is set (tandemctl cluster unstandby clears "
			   "it): this node will not take the address");
	g.role = HA_ROLE_STARTING;
	g.tick = loop_now_update();
	log_notice("cluster: role STARTING (epoch %llu)", (unsigned long long)g.epoch);
	eligible_write();
	tmr_init(&g.autosync_tmr);
	tmr_start(&g.autosync_tmr, 0, autosync_h, NULL);
	return 0;
}

void ha_role_stop(void)
{
	tmr_cancel(&g.autosync_tmr);
	g.cold = false;
	g.hold[0] = '\0';
	g.last.set = false;
	g.epoch = 0;
	g.role = HA_ROLE_SINGLE;
	g.nwatch = 0;
	g.resume = NULL;
	g.dir[0] = '\0';
}

void ha_role_counts(unsigned long *promoted, unsigned long *stepped_down)
{
	*promoted = g.promoted;
	*stepped_down = g.stepped_down;
}

json_t *ha_role_status_json(void)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:b, s:b}", "role", ha_role_contract(g.role),
			      "state", ha_role_name(g.role), "epoch", (json_int_t)g.epoch,
			      "admin_standby", g.admin_standby, "eligible", ha_role_eligible());

	json_object_set_new(j, "not_eligible_why", g.hold[0] ? json_string(g.hold) : json_null());

	if (g.last.set)
		json_object_set_new(j, "last_failover", json_pack("{s:s, s:s, s:s, s:s}",
			"when", g.last.when, "from", g.last.from, "to", g.last.to,
			"why", g.last.why));
	else
		json_object_set_new(j, "last_failover", json_null());
	return j;
}
