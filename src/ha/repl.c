/**
 * @file repl.c  Replication of the journal (repl.h; docs/design/cluster.md
 * 3.3-3.5 and 4), Redis's replication.c read for a two-node PBX.
 *
 * Roles (ha_role(), owned by role.c): the serving node is the source
 * (repl_source.c), the other receives. Two serving nodes meeting: the lower (epoch, offset)
 * steps down (invariant 5; equal: the name sorting second).
 *
 * Handshake, after HELLO both ways (link.c):
 *   standby -> MERGE(start, whole turns)..., MERGE(head)   only when it wrote
 *              past the point where the histories branched (repl_merge.c)
 *   standby -> PSYNC(replid, offset)                its journal's head
 *   active  -> CONTINUE(replid, offset)             repl_can_continue()
 *           or FULLRESYNC(replid, O, bytes), SNAP..., SNAP_END x 3,
 *              FILE_LIST... (standby: FILE_WANT...), FILE_DATA...,
 *              SYNC_DONE(O)                          (repl_full.c, repl_files.c)
 *   active  -> STREAM(start, whole turns)...         from offset or O
 *   standby -> ACK(end, ts_us)                       after it committed
 *
 * Invariants:
 *  - STREAM frames carry whole turns read back from the active's journal
 *    (jnl_reader), in order, without gaps: frame n+1 starts where frame n
 *    ended; the standby refuses anything else (ERANGE from
 *    ha_turn_receive) and drops the link, so it never holds a torn turn.
 *  - The active confirms a turn (ha_durable_release) only for offsets the
 *    standby ACKed, and waits for ACKs (ha_set_sync(true)) only in SYNC:
 *    the standby's ACK reached the journal's head once.
 *  - Going alone: in SYNC, the oldest unACKed turn older than sync_timeout,
 *    or the link lost (alone.h). With a witness: W_OUTDATED(standby,
 *    head) first, parked confirmations held until the witness echoes it
 *    (repl_alone_recorded: ha_set_sync(false), one log line), dropped if
 *    the node stops serving before (its lease ran out: fenced). Without
 *    one: ha_set_sync(false) at once, recorded nowhere but the log.
 *  - The journal keeps the standby's ACKed offset (jnl_set_floor) so a
 *    short absence resumes with CONTINUE.
 *
 * Sending is bounded per loop turn (REPL_TURN_BYTES, REPL_TURN_US) and
 * paused while the link has REPL_PENDING_MAX bytes queued; a timer
 * resumes it on the next turn.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "ha/ha.h"
#include "ha/jnl.h"
#include "ha/repl_int.h"
#include "ha/role.h"
#include "ha/witness.h"
#include "sip/transp.h"

struct repl g_repl;
#define g g_repl

const char *repl_state_name(enum repl_state s)
{
	switch (s) {
	case REPL_NONE: return "none";
	case REPL_CONNECTING: return "connecting";
	case REPL_HANDSHAKE: return "handshake";
	case REPL_FULLSYNC: return "fullsync";
	case REPL_CATCHUP: return "catchup";
	case REPL_SYNC: return "sync";
	case REPL_ALONE: return "alone";
	case REPL_REFUSED: return "refused";
	}
	return "?";
}

enum repl_state repl_state(void)
{
	return g.state;
}

uint64_t repl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void repl_set_state(enum repl_state s)
{
	if (g.state == s)
		return;
	log_info("cluster: replication %s -> %s", repl_state_name(g.state), repl_state_name(s));
	g.state = s;
}

/*
 * Work that goes on over loop turns: a timer armed with delay 0 from its
 * own handler would fire again in the same run of the loop's timers, so
 * "next turn" work is armed from the end-of-turn hook instead.
 */
struct deferred { struct tmr *t; tmr_h *h; };
static struct deferred deferred[4];
static size_t ndeferred;

void repl_defer(struct tmr *t, tmr_h *h)
{
	for (size_t i = 0; i < ndeferred; i++)
		if (deferred[i].t == t)
			return;
	if (ndeferred < sizeof(deferred) / sizeof(deferred[0]))
		deferred[ndeferred++] = (struct deferred){ t, h };
}

static void end_of_turn(void *arg)
{
	size_t n = ndeferred;

	(void)arg;
	ndeferred = 0;
	for (size_t i = 0; i < n; i++)
		if (!tmr_isset(deferred[i].t))
			tmr_start(deferred[i].t, 0, deferred[i].h, NULL);
}

void repl_defer_cancel(struct tmr *t)
{
	for (size_t i = 0; i < ndeferred; i++)
		if (deferred[i].t == t)
			deferred[i] = deferred[--ndeferred];
	tmr_cancel(t);
}

void repl_kick(uint64_t delay_ms)
{
	if (!delay_ms)
		repl_defer(&g.kick, repl_pump);
	else if (!tmr_isset(&g.kick))
		tmr_start(&g.kick, delay_ms, repl_pump, NULL);
}

/* Standby: the role follows replication (role.c lets us, autosync off). */
static void role_to(enum ha_role to, const char *why)
{
	enum ha_role r = ha_role();

	if (r == to)
		return;
	if ((to == HA_ROLE_SYNCING && (r == HA_ROLE_STARTING || r == HA_ROLE_STANDBY ||
					 r == HA_ROLE_FENCED)) ||
	    (to == HA_ROLE_STANDBY && r == HA_ROLE_SYNCING))
		ha_role_set(to, why);
}

/* ------------------------------------------------------------ session */

/** Forget what the connection was doing (it dropped, or the roles changed). */
void repl_session_reset(void)
{
	if (g.rd) {
		jnl_reader_close(g.rd);
		g.rd = NULL;
	}
	repl_full_abort();
	repl_merge_reset();
	repl_defer_cancel(&g.kick);
	g.source = g.receiver = g.psync_wanted = false;
	g.nfifo = 0;
	g.acked = g.sent = 0;
	jnl_wbuf_free(&g.frame);
}

/* ------------------------------------------------------------ the standby */

void repl_refuse(const char *what)
{
	log_error("cluster: replication from %s refused: %s; link dropped, nothing applied "
		  "from it", g.cc.nodes[!g.self].name, what);
	ha_link_error(g.link, what);
}

void repl_send_psync(void)
{
	char replid[JNL_REPLID_LEN + 1], replid2[JNL_REPLID_LEN + 1];
	uint64_t off, off2, epoch;

	if (g.mrd || repl_merge_start())
		return;              /* the tail first: PSYNC when it is sent */

	ha_position(replid, &off, replid2, &off2, &epoch);
	g.frame.len = 0;
	if (repl_pos_encode(&g.frame, replid, off))
		return;
	g.receiver = true;
	log_notice("cluster: asking %s to continue at %s:%" PRIu64, g.cc.nodes[!g.self].name,
		   replid, off);
	repl_send_frame(HA_F_PSYNC);
	repl_set_state(REPL_HANDSHAKE);
	role_to(HA_ROLE_SYNCING, "replication starts");
}

/* ts_us of the last entry of whole turns p[0..len). */
static int64_t last_ts(const uint8_t *p, size_t len)
{
	struct jnl_entry e;
	size_t at = 0, used;
	int64_t ts = 0;

	while (at < len && !jnl_entry_decode(&e, p + at, len - at, &used)) {
		ts = e.ts_us;
		at += used;
	}
	return ts;
}

void repl_stream_got(const uint8_t *p, size_t len)
{
	struct repl_stream s;
	char err[256] = "";
	uint64_t end;
	int e;

	if (repl_stream_decode(&s, p, len, err, sizeof(err))) {
		repl_refuse(err);
		return;
	}
	e = ha_turn_receive(s.start, s.turns, s.len, &end, err, sizeof(err));
	if (e) {
		char what[400];

		snprintf(what, sizeof(what), "%s at offset %" PRIu64 " (%s)",
			 e == EIO ? "cannot store the stream" : e == ERANGE ?
			 "stream out of place" : "bad stream", s.start,
			 err[0] ? err : strerror(e));
		repl_refuse(what);
		return;
	}
	if (end > g.peer_offset)
		g.peer_offset = end;
	repl_send_ack(end, last_ts(s.turns, s.len));
}

void repl_send_ack(uint64_t offset, int64_t ts_us)
{
	struct repl_ack a = { offset, ts_us };

	g.frame.len = 0;
	if (!repl_ack_encode(&g.frame, &a))
		repl_send_frame(HA_F_ACK);
}

/* ------------------------------------------------------------ link events */

static int pos_cmp(uint64_t e1, uint64_t o1, uint64_t e2, uint64_t o2)
{
	if (e1 != e2)
		return e1 < e2 ? -1 : 1;
	return o1 < o2 ? -1 : o1 > o2;
}

/* Both serving: the lower (epoch, offset) steps down (design 3.3 step 2). */
static bool two_actives(const struct ha_link_hello *peer)
{
	char replid[JNL_REPLID_LEN + 1], replid2[JNL_REPLID_LEN + 1];
	uint64_t off, off2, epoch;
	int c;

	ha_position(replid, &off, replid2, &off2, &epoch);
	if (ha_role_epoch() > epoch)
		epoch = ha_role_epoch();     /* promoted since the journal's EPOCH */
	c = pos_cmp(epoch, off, peer->epoch, peer->offset);
	if (c > 0 || (c == 0 && strcmp(g.cc.nodes[g.self].name, peer->node) < 0))
		return false;            /* the peer steps down */
	log_warn("cluster: %s is active too, at epoch %" PRIu64 " offset %" PRIu64 " (ours: epoch %"
		 PRIu64 " offset %" PRIu64 "): this node steps down; what it wrote since "
		 "the split is merged into the peer's history", peer->node, peer->epoch,
		 peer->offset, epoch, off);
	if (!ha_role_set(HA_ROLE_DEMOTING, "two actives: the peer is ahead"))
		ha_role_set(HA_ROLE_STANDBY, "two actives: the peer is ahead");
	return true;
}

/* Start what this node does on the link, by its role now: the active
 * waits for PSYNC; a standby sends it once the peer is active (two
 * standbys wait: neither has anything to give). */
static void session_start(void)
{
	repl_session_reset();
	repl_set_state(REPL_HANDSHAKE);
	if (ha_serving())
		g.source = true;
	else if (g.peer_role == HA_ROLE_ACTIVE)
		repl_send_psync();
}

static void up_h(struct ha_link *l, const struct ha_link_hello *peer, void *arg)
{
	(void)l;
	(void)arg;
	g.peer_hello = *peer;
	g.have_peer = true;
	g.peer_offset = peer->offset;
	g.peer_role = peer->role;
	if (ha_serving() && peer->role == HA_ROLE_ACTIVE && two_actives(peer))
		return;           /* the role watcher starts the session */
	session_start();
}

static void down_h(struct ha_link *l, const char *why, void *arg)
{
	bool waited = g.waiting;

	(void)l;
	(void)arg;
	quorum_peer_lost();       /* our FIN may reach the peer: a release */
	repl_session_reset();
	if (waited) {
		char w[200];

		snprintf(w, sizeof(w), "unreachable (link lost: %s)", why);
		repl_go_alone(w);
		repl_set_state(REPL_ALONE);
		return;
	}
	if (g.state != REPL_ALONE)
		repl_set_state(REPL_NONE);
}

static void frame_h(struct ha_link *l, uint8_t type, const uint8_t *p, size_t len, void *arg)
{
	struct repl_pos pos;
	struct repl_ack a;

	(void)l;
	(void)arg;
	switch (type) {
	case HA_F_PSYNC:
		if (!ha_serving()) {
			/* not active (yet): answered when the role changes */
			g.psync_wanted = !repl_pos_decode(&g.psync, p, len);
			return;
		}
		if (repl_pos_decode(&pos, p, len)) {
			repl_refuse("malformed PSYNC");
			return;
		}
		g.source = true;
		repl_psync_got(&pos);
		return;
	case HA_F_ACK:
		if (!g.source || repl_ack_decode(&a, p, len)) {
			repl_refuse("malformed or unexpected ACK");
			return;
		}
		repl_ack_got(&a);
		return;
	case HA_F_CONTINUE:
		if (!g.receiver || repl_pos_decode(&pos, p, len)) {
			repl_refuse("malformed or unexpected CONTINUE");
			return;
		}
		log_notice("cluster: %s continues at offset %" PRIu64 ": partial resync",
			   g.cc.nodes[!g.self].name, pos.offset);
		repl_set_state(REPL_CATCHUP);
		return;
	case HA_F_STREAM:
		if (g.receiver && repl_full_installing()) {
			repl_full_hold(p, len);     /* applied once installed */
			return;
		}
		if (!g.receiver || g.state == REPL_FULLSYNC) {
			repl_refuse("unexpected STREAM");
			return;
		}
		repl_stream_got(p, len);
		return;
	case HA_F_MERGE:
		repl_merge_frame(p, len);
		return;
	case HA_F_FAILOVER:
		if (repl_failover_frame(p, len))
			repl_refuse("malformed FAILOVER");
		return;
	case HA_F_FILE_WANT:
		if (!g.source || !g.full) {
			repl_refuse("unexpected FILE_WANT");
			return;
		}
		repl_files_want_got(p, len);
		return;
	case HA_F_FULLRESYNC:
	case HA_F_SNAP:
	case HA_F_SNAP_END:
	case HA_F_FILE_LIST:
	case HA_F_FILE_DATA:
	case HA_F_SYNC_DONE:
		if (!g.receiver) {
			repl_refuse("unexpected full resync frame");
			return;
		}
		repl_full_frame(type, p, len);
		return;
	default:
		repl_refuse("unknown frame type");
		return;
	}
}

static void ping_h(struct ha_link *l, const struct ha_link_ping *pg, void *arg)
{
	(void)l;
	(void)arg;
	/* the peer's vote (design 6; quorum.c): a PONG grants it, a PING we
	 * answered granted ours */
	if (pg->pong)
		quorum_peer_ponged(pg->mono_ms, pg->vote_lease_ms);
	else
		quorum_peer_pinged();
	g.peer_repl_state = pg->repl_state;
	g.peer_role = pg->role;
	if (!g.receiver && !g.source && pg->role == HA_ROLE_ACTIVE && !ha_serving() &&
	    g.link && ha_link_state(g.link) == HA_LINK_UP) {
		repl_send_psync();             /* the peer became active */
		return;
	}
	if (!g.receiver)
		return;
	if (pg->repl_state == REPL_SYNC && g.state == REPL_CATCHUP) {
		repl_set_state(REPL_SYNC);
		g.prog.phase = NULL;
		log_notice("cluster: in sync with %s at offset %" PRIu64, g.cc.nodes[!g.self].name,
			   ha_jnl() ? jnl_head(ha_jnl()) : 0);
		role_to(HA_ROLE_STANDBY, "in sync with the active");
	} else if (pg->repl_state != REPL_SYNC && g.state == REPL_SYNC) {
		repl_set_state(REPL_CATCHUP);
	}
}

static void pos_h(struct ha_link_pos *pos, void *arg)
{
	uint64_t epoch;

	(void)arg;
	memset(pos, 0, sizeof(*pos));
	ha_position(pos->replid, &pos->offset, pos->replid2, &pos->offset2, &epoch);
	pos->epoch = ha_role_epoch() > epoch ? ha_role_epoch() : epoch;
	pos->role = (uint8_t)ha_role();
	pos->repl_state = (uint8_t)g.state;
	pos->vote_lease_ms = quorum_peer_grant();   /* sent in PONGs only */
}

const struct ha_link_handlers repl_link_handlers = {
	.up = up_h, .down = down_h, .frame = frame_h, .ping = ping_h, .pos = pos_h,
};

/* A role change while the link is up changes who streams. */
static void role_h(enum ha_role from, enum ha_role to, void *arg)
{
	bool was = from == HA_ROLE_ACTIVE || from == HA_ROLE_SINGLE;
	bool now = to == HA_ROLE_ACTIVE || to == HA_ROLE_SINGLE;

	(void)arg;
	if (was && !now && alone_stop(&g.alone) == ALONE_DO_DROP) {
		size_t n = ha_durable_drop();

		log_warn("cluster: no longer serving before the witness recorded %s outdated: "
			 "%zu held confirmations dropped (never confirmed)",
			 g.cc.nodes[!g.self].name, n);
	}
	/* while serving, requests to bindings restored or replicated here (no
	 * local address of their own) leave from the floating address too */
	if (g.cc.has_vip && was != now)
		sip_transp_set_source(now ? &g.cc.vip : NULL);
	if (was == now || !g.link || ha_link_state(g.link) != HA_LINK_UP)
		return;
	if (now && g.psync_wanted) {
		struct repl_pos want = g.psync;

		repl_session_reset();
		g.source = true;
		repl_psync_got(&want);
		return;
	}
	session_start();
}

bool repl_synced(void)
{
	return g.source && g.state == REPL_SYNC && ha_jnl() && g.acked == jnl_head(ha_jnl());
}

/* ------------------------------------------------------------ start, stop */

int repl_init(const struct cluster_conf *cc, unsigned self, const char *datadir)
{
	static bool hooked;         /* the loop has no way to remove a hook */

	memset(&g, 0, sizeof(g));
	g.cc = *cc;
	g.self = self;
	snprintf(g.datadir, sizeof(g.datadir), "%s", datadir);
	g.resync_kind = "partial resync";
	tmr_init(&g.kick);
	tmr_init(&g.tick);
	ha_set_feed(repl_feed, NULL);
	if (ha_role_watch(role_h, NULL))
		return ENOMEM;
	tmr_start(&g.tick, 50, repl_tick, NULL);
	if (!hooked && loop_turn_hook(end_of_turn, NULL))
		return ENOMEM;
	hooked = true;
	g.running = true;
	return 0;
}

void repl_set_link(struct ha_link *l)
{
	g.link = l;
}

void repl_close(void)
{
	if (!g.running)
		return;
	repl_session_reset();
	tmr_cancel(&g.tick);
	ha_set_feed(NULL, NULL);
	cluster_conf_clear(&g.cc);
	g.running = false;
}
