/**
 * @file failover.c  The address decides who serves (failover.h; design 8.3).
 *
 * keepalived moves the address; rtnetlink tells us (vip.c). A notify from
 * keepalived only wakes us (two quick notifies may arrive reversed):
 *  - address present and STANDBY (not admin standby): promote, in named
 *    steps timed in the log: P_VOTE (two-node mode: keepalived's election,
 *    the witness is not built) -> P_SHIFT (epoch + 1, an EPOCH entry) -> P_RESTORE
 *    (ha_restore: the registrar's timers, qualify) -> P_SERVE;
 *  - address gone and ACTIVE: DEMOTING -> STANDBY (ha_quiesce).
 * After a freeze (SIGSTOP, a stuck disk) role.c asks vip_check_now() before
 * the first SIP message is served, so a resumed node whose address moved
 * steps down without answering.
 * engine = none: only `tandemctl cluster standby|takeover` move roles, and
 * tandemd adds/removes the address itself (rtnetlink + gratuitous ARP).
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "ha/cluster.h"
#include "ha/failover.h"
#include "ha/ha.h"
#include "ha/health.h"
#include "ha/jnl.h"
#include "ha/keepalived.h"
#include "ha/pcmk.h"
#include "ha/repl.h"
#include "ha/turn.h"
#include "ha/role.h"
#include "ha/vip.h"
#include "ha/witness.h"

static struct {
	bool running;
	struct cluster_conf cc;     /* no key: cleared at copy */
	unsigned self;
	char datadir[PATH_MAX];
	char keepalived[16];        /* last notify: MASTER, BACKUP, FAULT */
	failover_synced_h *synced;
	pid_t watcher;
	struct tmr tick;
	bool forced;                /* takeover --force: eligible without the peer */
	bool promise_said;          /* logged: waiting out the peer's vote */
	bool handing;               /* FO_HANDOVER asked by the peer's takeover */
	struct tmr sync_wait;       /* its FO_WAIT_SYNC: the standby's ACK = head */
	uint64_t asked_at;
	uint64_t started;           /* loop time at failover_start */
	bool cold_asked, cold_alone; /* cold start alone: the witness asked, granted */
	struct tmr handover;        /* FO_HANDOVER's 2 s bound */
} g;

static void takeover_asked(const struct repl_pos *standby);

static uint64_t us_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void failover_set_synced(failover_synced_h *h)
{
	g.synced = h;
}

/* P_SHIFT: a new history (design 3.3, Redis shiftReplicationId): a new
 * replid from this offset on, replid2/offset2 = the history and position
 * it continues, epoch + 1, as an EPOCH entry of this turn. The standby and
 * the HELLO of a resumed old active see them: an old active that wrote
 * past offset2 (an unACKed tail) no longer gets CONTINUE. */
static void shift(const char *why)
{
	char id[JNL_REPLID_LEN + 1], id2[JNL_REPLID_LEN + 1], nid[JNL_REPLID_LEN + 1];
	uint64_t off, off2, epoch;
	struct jnl_entry e = { .type = JNL_EPOCH };
	struct jnl *j = ha_jnl();

	ha_position(id, &off, id2, &off2, &epoch);
	if (epoch < ha_role_epoch())
		epoch = ha_role_epoch();
	/* design 5 P_SHIFT: replid2 = replid, offset2 = offset, new replid */
	if (j && (jnl_replid_new(nid) || jnl_shift(j, nid))) {
		log_error("cluster: P_SHIFT: cannot start a new history; keeping %s", id);
		snprintf(nid, sizeof(nid), "%s", id);
	}
	e.u.epoch = (struct jnl_epoch){ epoch + 1, jnl_pl(g.cc.nodes[g.self].name), jnl_pl(nid),
					jnl_pl(id), off, jnl_pl(why) };
	if (j && ha_write(&e))
		log_error("cluster: P_SHIFT: the EPOCH entry was not journaled");
	ha_role_epoch_set(epoch + 1);
}

/* STANDBY -> PROMOTING -> ACTIVE in the design's named steps. */
static int promote(const char *why)
{
	uint64_t t0 = us_now(), t;
	char msg[200];

	if (ha_role_set(HA_ROLE_PROMOTING, why))
		return EINVAL;
	t = us_now();
	if (quorum_witness())
		log_info("cluster: P_VOTE: %s (%llu us)", quorum_granted() ?
			 "the witness granted the next epoch" : "the peer released the address",
			 (unsigned long long)(t - t0));
	else
		log_info("cluster: P_VOTE: two-node mode, keepalived's election stands for "
			 "the vote (%llu us)", (unsigned long long)(t - t0));
	shift(why);
	log_info("cluster: P_SHIFT: epoch %llu (%llu us)", (unsigned long long)ha_role_epoch(),
		 (unsigned long long)(us_now() - t));
	t = us_now();
	ha_restore();
	log_info("cluster: P_RESTORE: registrar timers and qualify (%llu us)",
		 (unsigned long long)(us_now() - t));
	snprintf(msg, sizeof(msg), "%s; promoted in %llu us", why,
		 (unsigned long long)(us_now() - t0));
	return ha_role_set(HA_ROLE_ACTIVE, msg);
}

static void demote(const char *why)
{
	if (ha_role_set(HA_ROLE_DEMOTING, why))
		return;
	ha_quiesce();
	ha_role_set(HA_ROLE_STANDBY, why);
}

/*
 * Both cold (design 5: STARTING -> PROMOTING "with the witness's grant to
 * the highest (epoch, offset)"):
 *  - the peer heard: neither serves nor is promoting, and this node has the
 *    higher (epoch, offset), or the same and the name sorting first (self +
 *    peer: two votes). Only that node is eligible, so keepalived's election
 *    cannot pick the other;
 *  - with a witness, the peer not heard for COLD_WAIT_MS since this node
 *    started: still STARTING (never in sync this run), it asks the witness
 *    for the next epoch at its offset, and is eligible once granted. The
 *    witness refuses while the other holds a lease, is ahead, or was
 *    granted a later epoch, and when this node was recorded outdated.
 * Without a witness a node alone at cold start waits for its peer (or
 * `tandemctl cluster takeover --force`); engine = none waits for
 * `takeover --force`, engine = pacemaker for Pacemaker's promote.
 */
#define COLD_WAIT_MS 2000

static bool cold_alone(void)
{
	enum quorum_vote v;
	char id[JNL_REPLID_LEN + 1], id2[JNL_REPLID_LEN + 1];
	uint64_t off, off2, epoch;

	if (!quorum_witness() || g.cc.engine != CLUSTER_ENGINE_KEEPALIVED ||
	    ha_role() != HA_ROLE_STARTING || cluster_peer_up() ||
	    loop_now() - g.started < COLD_WAIT_MS) {
		if (g.cold_asked && ha_role() != HA_ROLE_PROMOTING)
			quorum_vote_reset();   /* the peer is heard: the pair decides */
		g.cold_asked = g.cold_alone = false;
		return false;
	}
	if (!g.cold_asked) {
		ha_position(id, &off, id2, &off2, &epoch);
		log_notice("cluster: cold start: peer %s not heard for %u ms; asking the "
			   "witness for epoch %llu at offset %llu", g.cc.nodes[!g.self].name,
			   COLD_WAIT_MS, (unsigned long long)ha_role_epoch() + 1,
			   (unsigned long long)off);
		g.cold_asked = true;
	}
	v = quorum_vote();
	if (v == QV_GRANTED && !g.cold_alone)
		log_notice("cluster: cold start: the witness granted epoch %llu: this node "
			   "is the one to serve", (unsigned long long)ha_role_epoch() + 1);
	if (v == QV_GRANTED)
		g.cold_alone = true;
	else if (v == QV_DENIED)
		g.cold_alone = false;
	return g.cold_alone;
}

static void cold_eval(void)
{
	enum ha_role r = ha_role();
	bool cold = false;

	if (r == HA_ROLE_STARTING || r == HA_ROLE_SYNCING) {
		json_t *p = repl_peer_status_json();
		const char *ps = json_string_value(json_object_get(p, "role_state"));
		char id[JNL_REPLID_LEN + 1], id2[JNL_REPLID_LEN + 1];
		uint64_t mine = 0, mine2, epoch;

		if (cluster_peer_up() && ps && strcmp(ps, "ACTIVE") && strcmp(ps, "PROMOTING") &&
		    strcmp(ps, "DEMOTING")) {
			uint64_t theirs = (uint64_t)json_integer_value(json_object_get(p, "offset"));
			uint64_t te = (uint64_t)json_integer_value(json_object_get(p, "epoch"));

			ha_position(id, &mine, id2, &mine2, &epoch);
			if (ha_role_epoch() > epoch)
				epoch = ha_role_epoch();
			cold = epoch > te || (epoch == te && (mine > theirs || (mine == theirs &&
				strcmp(g.cc.nodes[g.self].name, g.cc.nodes[!g.self].name) < 0)));
		}
		json_decref(p);
	}
	if (cold_alone())
		cold = true;
	if (r == HA_ROLE_ACTIVE)
		g.forced = false;
	ha_role_cold_set(cold || (g.forced && r != HA_ROLE_ACTIVE));
}

/* The replication link as `cluster status` shows it: state, last error. */
static bool link_info(char *state, size_t ssize, char *last, size_t lsize)
{
	char err[256];
	json_t *args = json_pack("[s]", "status"), *st, *link;

	st = cluster_ctl_cmd(args, err, sizeof(err));
	json_decref(args);
	link = json_object_get(st, "link");
	snprintf(state, ssize, "%s", json_string_value(json_object_get(link, "state")) ?
		 json_string_value(json_object_get(link, "state")) : "");
	snprintf(last, lsize, "%s", json_string_value(json_object_get(link, "last_error")) ?
		 json_string_value(json_object_get(link, "last_error")) : "");
	json_decref(st);
	return state[0] != '\0';
}

/*
 * Design 6 without a witness: take the address when the peer released it
 * (the link is up: `cluster standby`, its health FAULT while it still
 * talks) or its death was signalled (the link closed by a FIN or reset,
 * or its port refuses connections), never on silence (a hang, a power cut, a cut
 * between the nodes: the peer may still serve) unless two_node_takeover =
 * yes. NULL when allowed, else why not.
 */
static const char ASKING[] = "asking the witness";
static const char PROMISED[] = "the peer holds our vote";

/* The peer's last word over the link: it serves (ACTIVE or PROMOTING). */
static bool peer_serving(void)
{
	json_t *p = repl_peer_status_json();
	const char *ps = json_string_value(json_object_get(p, "role_state"));
	bool serving = ps && (!strcmp(ps, "ACTIVE") || !strcmp(ps, "PROMOTING"));

	json_decref(p);
	return serving;
}

static const char *peer_silent(void)
{
	static char why[512];
	char state[32], last[200];

	if (!link_info(state, sizeof(state), last, sizeof(last)))
		return NULL;
	/* with a witness, a link still up with a peer that said it serves is
	 * not a release: the link may be cut and not yet closed for silence */
	if ((!strcmp(state, "up") && !(quorum_witness() && peer_serving())) ||
	    strstr(last, "connection closed") ||
	    strstr(last, "closed by") || strstr(last, "Connection refused") ||
	    /* a kill -9 with bytes still unread in its socket resets the
	     * connection instead of closing it: the peer's kernel answered for a
	     * process that is gone, a signalled death as much as a FIN */
	    strstr(last, "Connection reset by peer") || strstr(last, "Broken pipe"))
		return NULL;
	/* design 6: our PONGs granted the peer its vote; on silence, neither
	 * promote nor ask the witness before the last grant + lease. Without a
	 * witness the active never fences, so the promise would protect
	 * nothing (two_node_takeover = yes takes over after peer_timeout) */
	if (quorum_witness() && quorum_promise_left()) {
		if (!g.promise_said) {
			log_notice("cluster: peer %s serves or is silent (link %s: %s); it holds "
				   "this node's vote for %llu ms more: not promoting nor asking "
				   "the witness before it ends", g.cc.nodes[!g.self].name, state,
				   last[0] ? last : "-",
				   (unsigned long long)quorum_promise_left());
			g.promise_said = true;
		}
		return PROMISED;
	}
	g.promise_said = false;
	/* design 6: on silence a standby promotes with the witness's grant */
	if (quorum_witness()) {
		switch (quorum_vote()) {
		case QV_GRANTED: return NULL;
		case QV_DENIED: break;
		default: return ASKING;
		}
		if (snprintf(why, sizeof(why), "peer %s silent (link %s: %s); %s",
			     g.cc.nodes[!g.self].name, state, last[0] ? last : "-",
			     quorum_denied()) >= (int)sizeof(why))
			why[sizeof(why) - 2] = '.';
		return why;
	}
	if (g.cc.two_node_takeover)
		return NULL;
	if (snprintf(why, sizeof(why), "peer %s silent (link %s: %s); not taking over "
		     "without a witness (two_node_takeover = no): `tandemctl cluster takeover "
		     "--force` if it is dead", g.cc.nodes[!g.self].name, state,
		     last[0] ? last : "-") >= (int)sizeof(why))
		why[sizeof(why) - 2] = '.';   /* cut: still says why */
	return why;
}

/* keepalived engine: what the address says. */
static void decide(void)
{
	bool held = vip_held();
	enum ha_role r = ha_role();
	bool cold = (r == HA_ROLE_STARTING || r == HA_ROLE_SYNCING) && ha_role_cold();

	if (g.cc.engine != CLUSTER_ENGINE_KEEPALIVED)
		return;
	if (held && (r == HA_ROLE_STANDBY || cold) && !ha_role_admin_standby() &&
	    !ha_role_hold()[0]) {
		const char *no = cold || g.forced ? NULL : peer_silent();

		/* alone at cold start: a grant of the witness still running */
		if (cold && g.cold_alone && !g.forced && quorum_vote() != QV_GRANTED)
			return;                 /* asked again; quorum.c calls back */
		if (no == ASKING || no == PROMISED)
			return;                 /* quorum.c calls decide() with the answer,
						 * the tick when the promise ends */
		if (no) {
			ha_role_hold_set(no);   /* eligible=1: keepalived drops the address */
			return;
		}
		promote(cold && g.cold_alone && !g.forced ? "this node holds the address "
			"(keepalived MASTER); cold start, peer not heard: witness granted" :
			cold ? "this node holds the address (keepalived MASTER); both were "
			"cold and this node is ahead" : quorum_granted() ?
			"this node holds the address (keepalived MASTER); "
			"witness granted" : "this node holds the address (keepalived MASTER)");
	} else if (!held && r == HA_ROLE_ACTIVE) {
		demote("the address left this node (keepalived BACKUP or FAULT)");
	}
}

static void vip_h(bool held, void *arg)
{
	(void)held;
	(void)arg;
	decide();
}

/* A role change may make us eligible again while the address is here. */
static void role_h(enum ha_role from, enum ha_role to, void *arg)
{
	(void)from;
	(void)arg;
	if (to == HA_ROLE_STANDBY)
		decide();
}

static void tick(void *arg)
{
	char state[32], last[200];

	char id[JNL_REPLID_LEN + 1], id2[JNL_REPLID_LEN + 1];
	uint64_t off, off2, epoch;

	(void)arg;
	ha_position(id, &off, id2, &off2, &epoch);   /* EPOCH entries replicated */
	if (epoch > ha_role_epoch())
		ha_role_epoch_set(epoch);
	if (g.handing && ha_role() != HA_ROLE_ACTIVE && peer_serving()) {
		log_notice("cluster: takeover done: %s is ACTIVE", g.cc.nodes[!g.self].name);
		g.handing = false;
		tmr_cancel(&g.handover);
	}
	if (ha_role_hold()[0] && !g.handing &&
	    link_info(state, sizeof(state), last, sizeof(last)) && !strcmp(state, "up"))
		ha_role_hold_set(NULL);   /* the peer is heard again */
	if (quorum_witness() && ha_role() == HA_ROLE_STANDBY &&
	    link_info(state, sizeof(state), last, sizeof(last)) && !strcmp(state, "up"))
		quorum_vote_reset();
	if (ha_role_hold()[0] && quorum_granted())
		ha_role_hold_set(NULL);   /* asked again in the background: granted */
	cold_eval();
	decide();
	tmr_start(&g.tick, 100, tick, NULL);
}

/* role.c: the loop was frozen; is the address still ours? */
static void resume_h(void)
{
	log_warn("cluster: the loop was frozen over 300 ms; checking the address before "
		 "serving");
	if (ha_role() == HA_ROLE_ACTIVE && !quorum_resume_ok()) {
		quorum_fence("resumed after a freeze: the witness lease ran out meanwhile");
		return;
	}
	vip_check_now();
	if (g.cc.engine == CLUSTER_ENGINE_NONE && !vip_held() && ha_role() == HA_ROLE_ACTIVE)
		demote("the address is no longer on this node");
	else
		decide();
}

/* keepalived's health track: `tandemctl health --watch`, outliving us so
 * that our death or hang is reported (it leaves when a newer tandemd runs). */
static void watcher_start(void)
{
	char ctl[PATH_MAX], file[PATH_MAX + 32];
	char *argv[] = { "tandemctl", "-D", g.datadir, "health", "--watch", file, NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	posix_spawnattr_t at;
	int e;

	keepalived_tandemctl_path(ctl, sizeof(ctl));
	snprintf(file, sizeof(file), "%s/cluster/health", g.datadir);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
	e = posix_spawn(&g.watcher, ctl, NULL, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	if (e)
		log_error("cluster: cannot start %s health --watch: %s; keepalived sees a "
			  "hang only through its 1 s script", ctl, strerror(e));
	else
		log_info("cluster: health watcher pid %ld writes %s every %d ms",
			 (long)g.watcher, file, HA_HEALTH_TICK_MS);
}

int failover_start(const struct cluster_conf *cc, const char *nodename, const char *datadir,
		   char *err, size_t errsize)
{
	int e;

	if (!cc->enabled)
		return 0;
	g.cc = *cc;
	cluster_conf_clear(&g.cc);   /* the key stays with the link */
	quorum_peer_start(cc->lease_ms);
	snprintf(g.datadir, sizeof(g.datadir), "%s", datadir);
	if ((e = cluster_conf_self(cc, nodename, &g.self, err, errsize)))
		return e;
	if ((e = quorum_start(cc, g.self))) {   /* before the key is gone */
		snprintf(err, errsize, "cluster: cannot start the witness link: %s",
			 strerror(e));
		return e;
	}
	quorum_on_change(decide);
	repl_on_failover(takeover_asked);
	/* roles were started by cluster_start (ha_role_start); replication runs,
	 * so it, not role.c's autosync, moves STARTING -> SYNCING -> STANDBY: a
	 * node that has not caught up is never eligible (design 5) */
	ha_role_autosync(false);
	{
		char id[JNL_REPLID_LEN + 1], id2[JNL_REPLID_LEN + 1];
		uint64_t off, off2, epoch;

		ha_position(id, &off, id2, &off2, &epoch);
		ha_role_epoch_set(epoch);
	}
	if ((e = ha_health_start(datadir)))
		goto out;
	if ((e = ha_role_watch(role_h, NULL)))
		goto out;
	ha_role_on_resume(resume_h);
	if (cc->engine == CLUSTER_ENGINE_KEEPALIVED) {
		if ((e = keepalived_configure(cc, g.self, datadir, err, errsize)))
			goto out;
		watcher_start();
	}
	if (cc->engine != CLUSTER_ENGINE_PACEMAKER && cc->has_vip) {
		if ((e = vip_start(cc, vip_h, NULL, err, errsize)))
			goto out;
		if (cc->engine == CLUSTER_ENGINE_NONE && vip_held()) {
			log_warn("cluster: %s is on %s while this node starts as standby: "
				 "removing it (tandemctl cluster takeover moves it)", cc->vip_str,
				 cc->interface);
			vip_del();
		}
	}
	tmr_init(&g.tick);
	tmr_init(&g.handover);
	tmr_init(&g.sync_wait);
	tmr_start(&g.tick, 100, tick, NULL);
	g.started = loop_now_update();
	g.running = true;
	return 0;
out:
	if (!err[0])
		snprintf(err, errsize, "cluster: cannot start roles: %s", strerror(e));
	failover_stop();
	return e;
}

void failover_stop(void)
{
	quorum_stop();
	tmr_cancel(&g.tick);
	tmr_cancel(&g.handover);
	tmr_cancel(&g.sync_wait);
	repl_on_failover(NULL);
	vip_stop();
	ha_health_stop();
	ha_role_on_resume(NULL);
	g.running = false;
}

/* ------------------------------------------------------------ tandemctl */

static json_t *ok(const char *what)
{
	return json_pack("{s:s, s:s, s:s}", "result", what, "role",
			 ha_role_contract(ha_role()), "state", ha_role_name(ha_role()));
}

static json_t *cmd_notify(const char *state, char *err, size_t errsize)
{
	if (!state || (strcmp(state, "MASTER") && strcmp(state, "BACKUP") &&
		       strcmp(state, "FAULT") && strcmp(state, "STOP"))) {
		snprintf(err, errsize, "usage: cluster notify MASTER|BACKUP|FAULT");
		return NULL;
	}
	snprintf(g.keepalived, sizeof(g.keepalived), "%s", state);
	log_info("cluster: keepalived says %s", state);
	vip_check_now();   /* the address decides, not the notify's order */
	decide();
	return ok("noted");
}

/* FO_HANDOVER took over 2 s: the address is still here (keepalived down,
 * the peer not eligible): FO_ABORT, resume serving, say which step. */
static void handover_abort(void *arg)
{
	(void)arg;
	if (g.handing) {
		g.handing = false;
		tmr_cancel(&g.sync_wait);
		ha_role_hold_set(NULL);
		if (ha_role() == HA_ROLE_ACTIVE)
			log_warn("cluster: FO_ABORT: the takeover asked by %s: the address is "
				 "still on this node after 2 s (is keepalived running?); this "
				 "node goes on serving", g.cc.nodes[!g.self].name);
		else
			log_warn("cluster: FO_ABORT: %s did not become ACTIVE within 2 s of "
				 "the takeover it asked; this node is eligible again",
				 g.cc.nodes[!g.self].name);
		return;
	}
	if (ha_role() != HA_ROLE_ACTIVE)
		return;
	log_warn("cluster: FO_ABORT: FO_HANDOVER over 2 s: the address is still on this "
		 "node (is keepalived running, is the peer eligible?); admin standby "
		 "cleared, this node goes on serving");
	ha_role_admin_standby_set(false);
}

/*
 * `cluster takeover` on the standby (design 8.5), the mirror of `cluster
 * standby` here: FO_WAIT_SYNC (the standby ACKed the journal's head, within
 * 2 s) -> FO_HANDOVER (eligibility off until the peer is ACTIVE, so
 * keepalived drops the address; W_RELEASE when this node demotes). Every
 * confirmation this node gave was ACKed by the standby first (design 4),
 * so the standby holds it when it takes over. No admin standby is set: the
 * admin asked the peer to serve, not this node to stay out.
 */
static void handover_now(void)
{
	log_notice("cluster: FO_HANDOVER: %s holds every byte (takeover on it): "
		   "eligibility off, keepalived drops the address", g.cc.nodes[!g.self].name);
	g.handing = true;
	ha_role_hold_set("handing over: cluster takeover on the peer");
	tmr_start(&g.handover, 2000, handover_abort, NULL);
}

static void sync_wait_h(void *arg)
{
	(void)arg;
	if (ha_role() != HA_ROLE_ACTIVE)
		return;
	if (repl_state() != REPL_SYNC) {
		log_warn("cluster: takeover asked by %s refused: FO_WAIT_SYNC: it is no longer "
			 "in sync (replication %s)", g.cc.nodes[!g.self].name,
			 repl_state_name(repl_state()));
		return;
	}
	if (!g.synced || g.synced()) {
		handover_now();
		return;
	}
	if (loop_now_update() - g.asked_at >= 2000) {
		log_warn("cluster: takeover asked by %s refused: FO_WAIT_SYNC: it did not ACK "
			 "the journal's head within 2 s (see cluster status)",
			 g.cc.nodes[!g.self].name);
		return;
	}
	tmr_start(&g.sync_wait, 5, sync_wait_h, NULL);
}

static void takeover_asked(const struct repl_pos *standby)
{
	const char *peer = g.cc.nodes[!g.self].name;

	if (ha_role() != HA_ROLE_ACTIVE || g.cc.engine != CLUSTER_ENGINE_KEEPALIVED) {
		log_warn("cluster: takeover asked by %s refused: this node is %s%s", peer,
			 ha_role_name(ha_role()), g.cc.engine != CLUSTER_ENGINE_KEEPALIVED ?
			 " and engine is not keepalived" : "");
		return;
	}
	if (g.handing || tmr_isset(&g.sync_wait) || tmr_isset(&g.handover)) {
		log_info("cluster: takeover asked by %s again: a handover is under way", peer);
		return;
	}
	if (repl_state() != REPL_SYNC) {
		log_warn("cluster: takeover asked by %s refused: FO_WAIT_SYNC: it is not in "
			 "sync (replication %s)", peer, repl_state_name(repl_state()));
		return;
	}
	log_notice("cluster: takeover asked by %s (at %s:%llu): FO_WAIT_SYNC", peer,
		   standby->replid, (unsigned long long)standby->offset);
	g.asked_at = loop_now_update();
	sync_wait_h(NULL);
}

static json_t *cmd_standby(bool force, char *err, size_t errsize)
{
	enum ha_role r = ha_role();

	if (r == HA_ROLE_ACTIVE && !force && g.synced && !g.synced()) {
		snprintf(err, errsize, "cluster standby: FO_WAIT_SYNC: the standby does not "
			 "hold every byte yet (see cluster status); --force hands over anyway");
		return NULL;
	}
	if ((errno = ha_role_admin_standby_set(true))) {
		snprintf(err, errsize, "cluster standby: cannot persist the flag: %s",
			 strerror(errno));
		return NULL;
	}
	if (r != HA_ROLE_ACTIVE)
		return ok("admin standby set: this node will not take the address");
	log_notice("cluster: FO_HANDOVER: eligibility off, %s",
		   g.cc.engine == CLUSTER_ENGINE_NONE ? "removing the address" :
		   "keepalived drops the address");
	if (g.cc.engine == CLUSTER_ENGINE_NONE) {
		vip_del();
		demote("tandemctl cluster standby");
	}
	/* keepalived: eligible=1 -> FAULT -> address gone -> vip_h demotes */
	tmr_start(&g.handover, 2000, handover_abort, NULL);
	return ok("handing over");
}

/* `cluster takeover` without --force, engine = keepalived: ask the active
 * (takeover_asked on its side); refused when the link is down or this node
 * is not in sync. The admin standby flag is cleared only once asked. */
static json_t *takeover_ask(char *err, size_t errsize)
{
	const char *peer = g.cc.nodes[!g.self].name;
	char state[32], last[200];

	switch (repl_failover_ask()) {
	case 0:
		if (ha_role_admin_standby() && (errno = ha_role_admin_standby_set(false))) {
			snprintf(err, errsize, "cluster takeover: %s", strerror(errno));
			return NULL;
		}
		ha_role_hold_set(NULL);
		return ok("asked the active to hand over");
	case ENOTCONN:
		link_info(state, sizeof(state), last, sizeof(last));
		snprintf(err, errsize, "cluster takeover: the replication link to %s is down "
			 "(%s%s%s): a planned takeover needs the active to hand over; "
			 "`tandemctl cluster takeover --force` if %s is dead", peer,
			 state[0] ? state : "none", last[0] ? ": " : "", last, peer);
		return NULL;
	case EAGAIN:
		snprintf(err, errsize, "cluster takeover: this node is not in sync with %s "
			 "(replication %s): it would lose what it has not received; wait for "
			 "sync (cluster status), or takeover --force", peer,
			 repl_state_name(repl_state()));
		return NULL;
	default:
		snprintf(err, errsize, "cluster takeover: cannot ask %s (see the log)", peer);
		return NULL;
	}
}

static json_t *cmd_takeover(bool force, char *err, size_t errsize)
{
	if (ha_role() == HA_ROLE_ACTIVE)
		return ok("already active");
	if (ha_role() != HA_ROLE_STANDBY && !(force && (ha_role() == HA_ROLE_STARTING ||
						       ha_role() == HA_ROLE_SYNCING))) {
		snprintf(err, errsize, "cluster takeover: this node is %s, not STANDBY (in "
			 "sync with an active peer)%s", ha_role_name(ha_role()),
			 ha_role() == HA_ROLE_STARTING || ha_role() == HA_ROLE_SYNCING ?
			 "; takeover --force if the peer is dead or both are cold" : "");
		return NULL;
	}
	if (g.cc.engine == CLUSTER_ENGINE_KEEPALIVED && !force)
		return takeover_ask(err, errsize);
	if (ha_role_admin_standby() && (errno = ha_role_admin_standby_set(false))) {
		snprintf(err, errsize, "cluster takeover: %s", strerror(errno));
		return NULL;
	}
	if (g.cc.engine == CLUSTER_ENGINE_KEEPALIVED) {
		log_warn("cluster: takeover --force: the admin asserts the peer is down; "
			 "this node is eligible whatever its replication state");
		g.forced = true;
		ha_role_hold_set(NULL);
		cold_eval();
		decide();
		return ok("eligible: keepalived moves the address here");
	}
	if (!force) {
		snprintf(err, errsize, "cluster takeover: engine = none moves the address "
			 "only when you assert the peer no longer holds it: `tandemctl cluster "
			 "standby` on the peer first, or takeover --force if it is dead");
		return NULL;
	}
	log_warn("cluster: takeover --force: the admin asserts the peer is down");
	g.forced = true;
	ha_role_hold_set(NULL);
	cold_eval();   /* STARTING/SYNCING may promote now */
	if (vip_add())
		snprintf(err, errsize, "cluster takeover: cannot add the address (see the log)");
	else if (promote("tandemctl cluster takeover --force"))
		snprintf(err, errsize, "cluster takeover: promotion refused (see the log)");
	if (err[0]) {
		vip_del();
		return NULL;
	}
	return ok("active");
}

json_t *failover_ctl_cmd(json_t *args, char *err, size_t errsize)
{
	const char *verb = json_string_value(json_array_get(args, 0));
	const char *a1 = json_string_value(json_array_get(args, 1));
	bool force = a1 && !strcmp(a1, "--force");

	err[0] = '\0';
	if (!g.running) {
		snprintf(err, errsize, "cluster roles are not running on this node");
		return NULL;
	}
	if (!verb)
		verb = "";
	if (!strcmp(verb, "notify"))
		return cmd_notify(a1, err, errsize);
	if (g.cc.engine == CLUSTER_ENGINE_PACEMAKER &&
	    (!strcmp(verb, "standby") || !strcmp(verb, "takeover")))
		return pcmk_ctl_cmd(args, err, errsize);   /* Pacemaker decides: pcmk.c */
	if (!strcmp(verb, "standby"))
		return cmd_standby(force, err, errsize);
	if (!strcmp(verb, "unstandby")) {
		if ((errno = ha_role_admin_standby_set(false))) {
			snprintf(err, errsize, "cluster unstandby: %s", strerror(errno));
			return NULL;
		}
		decide();   /* no failback: only a free address is taken */
		return ok("admin standby cleared");
	}
	if (!strcmp(verb, "takeover"))
		return cmd_takeover(force, err, errsize);
	snprintf(err, errsize, "usage: cluster notify|standby|unstandby|takeover");
	return NULL;
}

/* engine = pacemaker (pcmk.c) */
int failover_promote(const char *why)
{
	return promote(why);
}

int failover_demote(const char *why)
{
	demote(why);
	return ha_role() == HA_ROLE_STANDBY ? 0 : EINVAL;
}

json_t *failover_status_json(void)
{
	json_t *j = ha_role_status_json();

	if (g.cc.has_vip)
		json_object_set_new(j, "vip", json_pack("{s:s, s:s, s:b}", "address",
			g.cc.vip_str, "interface", g.cc.interface, "held", vip_held()));
	json_object_set_new(j, "keepalived", g.keepalived[0] ? json_string(g.keepalived) :
			    json_null());
	return j;
}
