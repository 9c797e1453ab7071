/**
 * @file quorum.c  Two votes of three, the nodes' side (witness.h;
 * docs/design/cluster.md 4, 6).
 *
 * With `witness = ADDR[:PORT]` each node dials the witness (the link of
 * link.h, PINGs every 50 ms are W_STATE) and, every 100 ms:
 *  - ACTIVE: renews its lease (W_REQUEST in its epoch). The lease ends at
 *    the send time of the granted request + 0.95 x lease on this node's
 *    clock, before the witness's view of it. Holding neither the lease nor
 *    the peer's vote, it is FENCED: SIP unread, eligibility off, so
 *    keepalived drops the address; replication brings it back as SYNCING
 *    once the peer is heard.
 *  - The peer's vote is a lease too: a node that does not serve grants it
 *    in each PONG (vote_lease_ms); the active's vote ends at the send time
 *    of the PING that the granting PONG answered + 0.95 x lease, on its
 *    own clock. The granting node promises not to promote, nor ask the
 *    witness, before its last grant + lease, unless the active's link
 *    closed (FIN, RST: failover.c). A link that is cut therefore cannot
 *    leave the active serving on a vote that the standby no longer keeps,
 *    whatever peer_timeout is. The active drops the vote when the link
 *    closes (for silence too): its FIN may reach the standby, which takes
 *    it as a release.
 *  - A standby that would promote on the peer's silence (failover.c asks
 *    quorum_vote()) requests the lease for the next epoch; denied while
 *    the holder's lease runs, it asks again when it ends, and gives up
 *    (ineligible) if the holder renewed meanwhile, or at once when it is
 *    outdated or behind.
 * A stopped node resumed (role.c's resume check) fences when its lease is
 * past before serving anything.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "ha/cluster.h"
#include "ha/ha.h"
#include "ha/repl.h"
#include "ha/role.h"
#include "ha/witness.h"

#define Q_TICK_MS 100
#define Q_RING    32

static struct {
	bool on;
	struct cluster_conf cc;
	unsigned self;
	struct ha_link *link;
	struct tmr tick, retry, expire;
	uint64_t sent[Q_RING];          /* send times of unanswered requests */
	unsigned head, n;
	uint64_t lease_end;             /* own clock; 0 none */
	uint64_t release_until;         /* promoted on the peer's release: its vote */
	uint64_t lease_epoch;
	/* a standby's vote */
	enum quorum_vote vote;
	bool asking, retried;
	bool transient;                 /* DENIED for a reason that may pass */
	uint64_t denied_at;
	uint64_t ask_epoch, ask_since;
	char why[480];
	/* what the witness last said (status) */
	char holder[CLUSTER_NAME_MAX];
	uint32_t ms_left;
	uint64_t answered;              /* loop time of the last answer */
	quorum_changed_h *changed;
	/* going alone recorded (W_OUTDATED), W_CURRENT once in sync again */
	bool outdated_ok;
	uint64_t outdated_sent;         /* loop time; 0 none */
	/* W_CURRENT sent, not echoed yet (the witness refuses silently: an
	 * answer to a W_REQUEST sent after it says it was handled) */
	unsigned current_unanswered;
	uint64_t req_sent, req_answered, current_after;
} q;

bool quorum_witness(void)
{
	return q.on;
}

bool quorum_lease_valid(void)
{
	return q.on && q.lease_end > loop_now_update();
}

const char *quorum_denied(void)
{
	return q.vote == QV_DENIED ? q.why : "";
}

void quorum_on_change(quorum_changed_h *h)
{
	q.changed = h;
}

/* ------------------------------------------------------ the peer's vote */

static struct {
	uint32_t lease_ms;
	uint64_t vote_end;     /* ACTIVE: the peer's vote runs until (own clock) */
	uint64_t granted_at;   /* not serving: our last granting PONG */
} pv;

void quorum_peer_start(uint32_t lease_ms)
{
	memset(&pv, 0, sizeof(pv));
	pv.lease_ms = lease_ms;
}

uint32_t quorum_peer_grant(void)
{
	enum ha_role r = ha_role();

	return r == HA_ROLE_ACTIVE || r == HA_ROLE_PROMOTING || r == HA_ROLE_SINGLE ? 0
										    : pv.lease_ms;
}

void quorum_peer_pinged(void)
{
	if (quorum_peer_grant())
		pv.granted_at = loop_now_update();
}

void quorum_peer_ponged(uint64_t sent_ms, uint32_t lease_ms)
{
	uint64_t end = sent_ms + (uint64_t)lease_ms * 95 / 100;

	/* the echo of our own clock: never a time to come */
	if (lease_ms && sent_ms <= loop_now_update() && end > pv.vote_end)
		pv.vote_end = end;
}

void quorum_peer_lost(void)
{
	pv.vote_end = 0;
}

bool quorum_peer_vote(void)
{
	return pv.vote_end > loop_now_update();
}

uint64_t quorum_promise_left(void)
{
	uint64_t now = loop_now_update(), end = pv.granted_at + pv.lease_ms;

	return pv.granted_at && end > now ? end - now : 0;
}

static bool peer_heard(void)
{
	return quorum_peer_vote();
}

static void send_request(uint64_t epoch)
{
	struct wit_msg m = { 0 };
	struct jnl_wbuf b = { 0 };
	char id[JNL_REPLID_LEN + 1], id2[JNL_REPLID_LEN + 1];
	uint64_t off2, e;

	if (!q.link || ha_link_state(q.link) != HA_LINK_UP)
		return;
	ha_position(id, &m.offset, id2, &off2, &e);
	m.epoch = epoch;
	if (!wit_msg_encode(&b, HA_F_W_REQUEST, &m) &&
	    !ha_link_send(q.link, HA_F_W_REQUEST, b.p, b.len)) {
		if (q.n == Q_RING) {           /* answers lost: forget the oldest */
			q.head = (q.head + 1) % Q_RING;
			q.n--;
		}
		q.sent[(q.head + q.n++) % Q_RING] = loop_now_update();
		q.req_sent++;
	}
	jnl_wbuf_free(&b);
}

static bool send_plain(uint8_t type, const struct wit_msg *m)
{
	struct jnl_wbuf b = { 0 };
	bool sent = false;

	if (q.link && ha_link_state(q.link) == HA_LINK_UP && !wit_msg_encode(&b, type, m))
		sent = !ha_link_send(q.link, type, b.p, b.len);
	jnl_wbuf_free(&b);
	return sent;
}

static void vote_set(enum quorum_vote v, const char *why)
{
	bool changed = q.vote != v;

	if (v == QV_DENIED)
		q.denied_at = loop_now_update();
	q.vote = v;
	q.asking = v == QV_WAIT;
	snprintf(q.why, sizeof(q.why), "%s", why ? why : "");
	if (changed && q.changed)
		q.changed();
}

static void fence(const char *why)
{
	if (ha_role() != HA_ROLE_ACTIVE)
		return;
	if (!ha_role_set(HA_ROLE_FENCED, why))
		ha_quiesce();
}

/* ACTIVE: self + (peer or witness), else FENCED. */
static void check_votes(void)
{
	char why[200];
	uint64_t now = loop_now_update();

	if (ha_role() != HA_ROLE_ACTIVE || quorum_lease_valid() || peer_heard() ||
	    now < q.release_until)
		return;
	snprintf(why, sizeof(why), "votes lost: the vote of peer %s %s and the witness lease %s",
		 q.cc.nodes[!q.self].name, pv.vote_end ? "ran out" : "was never granted",
		 q.lease_end ? "ran out" : "was never granted");
	if (q.lease_end && now > q.lease_end)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " %llu ms ago",
			 (unsigned long long)(now - q.lease_end));
	fence(why);
}

/*
 * Design 4: the active without its standby in sync records at the witness
 * that the standby is outdated (at this offset), so the witness never
 * grants it the lease, and that it is current again once in sync. Only
 * the holder may: sent while the lease runs, again every 500 ms until
 * the witness echoes it. The echo lets repl.c go on alone (alone.h).
 */
static void alone_check(void)
{
	char id[JNL_REPLID_LEN + 1], id2[JNL_REPLID_LEN + 1];
	uint64_t off, off2, e, now = loop_now();

	if (repl_state() == REPL_SYNC) {
		if (q.outdated_sent) {
			quorum_current();
			q.outdated_sent = 0;
			q.outdated_ok = false;
		}
		return;
	}
	if (!quorum_lease_valid() || q.outdated_ok ||
	    (q.outdated_sent && now - q.outdated_sent < 500))
		return;
	ha_position(id, &off, id2, &off2, &e);
	quorum_outdated(off);
	q.outdated_sent = now ? now : 1;
}

static void expire_h(void *arg);

/* Fence at the end of the later vote, not at the next tick. */
static void arm_expire(void)
{
	uint64_t now = loop_now_update(), end = q.lease_end;

	if (pv.vote_end > end)
		end = pv.vote_end;
	if (q.release_until > end)
		end = q.release_until;
	if (ha_role() == HA_ROLE_ACTIVE && end > now)
		tmr_start(&q.expire, end - now + 1, expire_h, NULL);
}

static void tick_h(void *arg)
{
	enum ha_role r = ha_role();

	(void)arg;
	/* no answer for two leases (the witness unreachable too): give up, so
	 * that keepalived drops the address this standby cannot serve */
	if (q.asking && !tmr_isset(&q.retry) && q.answered < q.ask_since &&
	    loop_now() - q.ask_since > 2ull * q.cc.lease_ms) {
		char why[400];

		snprintf(why, sizeof(why), "witness %s unreachable (link %s): not taking over",
			 q.cc.witness_str, ha_link_state_name(ha_link_state(q.link)));
		if (strcmp(why, q.why))
			log_warn("cluster: %s", why);
		q.transient = true;
		vote_set(QV_DENIED, why);
	}
	/* held back for a reason that may pass: ask again every lease, in the
	 * background (no address needed); a grant makes this node eligible */
	if (q.vote == QV_DENIED && q.transient && !q.n && !quorum_promise_left() &&
	    loop_now() - q.denied_at >= q.cc.lease_ms) {
		q.ask_epoch = ha_role_epoch() + 1;
		q.ask_since = q.denied_at = loop_now();
		q.retried = false;
		q.asking = true;
		send_request(q.ask_epoch);
	}
	if (r == HA_ROLE_ACTIVE)
		send_request(ha_role_epoch());
	else if (q.asking && !q.n && !tmr_isset(&q.retry))
		send_request(q.ask_epoch);
	if (r == HA_ROLE_ACTIVE)
		alone_check();
	check_votes();
	arm_expire();
	tmr_start(&q.tick, Q_TICK_MS, tick_h, NULL);
}

static void retry_h(void *arg)
{
	(void)arg;
	if (q.asking)
		send_request(q.ask_epoch);
}

static void expire_h(void *arg)
{
	(void)arg;
	check_votes();
}

static void granted(const struct wit_msg *m, uint64_t sent)
{
	q.lease_end = sent + (uint64_t)m->lease_ms * 95 / 100;
	arm_expire();
	q.lease_epoch = m->epoch;
	snprintf(q.holder, sizeof(q.holder), "%s", q.cc.nodes[q.self].name);
	q.ms_left = m->lease_ms;
	if (q.asking && m->epoch == q.ask_epoch) {
		log_notice("cluster: witness granted the lease for epoch %llu",
			   (unsigned long long)m->epoch);
		vote_set(QV_GRANTED, "witness granted");
	}
}

static void denied(const struct wit_msg *m)
{
	snprintf(q.holder, sizeof(q.holder), "%s", m->node);
	q.ms_left = m->ms_left;
	if (!q.asking)
		return;
	if (m->ms_left && (!strcmp(m->node, q.cc.nodes[!q.self].name) ||
			   strstr(m->why, "restarted"))) {
		if (q.retried && !strstr(m->why, "restarted")) {
			char why[400];

			snprintf(why, sizeof(why), "witness: %s renewed its lease: it is alive and "
				 "serving (%s)", m->node, m->why);
			if (q.vote != QV_DENIED)
				log_warn("cluster: not taking over: %s", why);
			q.transient = true;
			vote_set(QV_DENIED, why);
			return;
		}
		q.retried = true;
		tmr_start(&q.retry, m->ms_left + 5, retry_h, NULL);
		return;
	}
	if (m->ms_left)
		return;
	{
		char why[400];

		snprintf(why, sizeof(why), "witness denied: %s", m->why);
		log_warn("cluster: not taking over: %s", why);
		q.transient = false;
		vote_set(QV_DENIED, why);
	}
}

static void frame_h(struct ha_link *l, uint8_t type, const uint8_t *p, size_t len, void *arg)
{
	struct wit_msg m;
	uint64_t sent = loop_now_update();

	(void)arg;
	if (wit_msg_decode(&m, type, p, len)) {
		ha_link_error(l, "malformed witness frame");
		return;
	}
	q.answered = loop_now();
	switch (type) {
	case HA_F_W_GRANT:
	case HA_F_W_DENY:
		if (++q.req_answered > q.current_after)
			q.current_unanswered = 0;
		if (q.n) {
			sent = q.sent[q.head];
			q.head = (q.head + 1) % Q_RING;
			q.n--;
		}
		if (type == HA_F_W_GRANT)
			granted(&m, sent);
		else
			denied(&m);
		break;
	case HA_F_W_OUTDATED:
		/* an echo sent before a W_CURRENT still unanswered is stale */
		if (q.current_unanswered || strcmp(m.node, q.cc.nodes[!q.self].name))
			break;
		q.outdated_ok = true;
		log_notice("cluster: witness recorded %s as outdated at offset %llu", m.node,
			   (unsigned long long)m.offset);
		repl_alone_recorded(m.offset);
		break;
	case HA_F_W_CURRENT:
		if (q.current_unanswered)
			q.current_unanswered--;
		log_notice("cluster: witness recorded %s as current", m.node);
		break;
	default:
		break;
	}
}

/* A new witness link, or none: no request of the old one is answered. */
static void forget_requests(void)
{
	q.n = 0;
	q.head = 0;
	q.current_unanswered = 0;
	q.req_sent = q.req_answered = q.current_after = 0;
}

static void up_h(struct ha_link *l, const struct ha_link_hello *peer, void *arg)
{
	(void)l;
	(void)peer;
	(void)arg;
	forget_requests();
	if (ha_role() == HA_ROLE_ACTIVE)
		send_request(ha_role_epoch());
}

static void down_h(struct ha_link *l, const char *why, void *arg)
{
	(void)l;
	(void)arg;
	forget_requests();
	log_warn("cluster: witness link down (%s); the lease runs out in %lld ms", why,
		 (long long)(q.lease_end > loop_now() ? q.lease_end - loop_now() : 0));
}

static void pos_h(struct ha_link_pos *pos, void *arg)
{
	char id2[JNL_REPLID_LEN + 1];
	uint64_t e;

	(void)arg;
	ha_position(pos->replid, &pos->offset, id2, &pos->offset2, &e);
	pos->epoch = ha_role_epoch();
	pos->role = (uint8_t)ha_role();
	pos->repl_state = (uint8_t)repl_state();
}

/* A role change ends a standby's asking; leaving ACTIVE gives the lease back. */
static void role_h(enum ha_role from, enum ha_role to, void *arg)
{
	(void)arg;
	if (from == HA_ROLE_ACTIVE && to == HA_ROLE_DEMOTING) {
		send_plain(HA_F_W_RELEASE, &(struct wit_msg){ 0 });
		q.lease_end = 0;
	}
	if (to == HA_ROLE_FENCED)
		q.lease_end = 0;
	if (from == HA_ROLE_ACTIVE) {
		q.outdated_sent = 0;
		q.outdated_ok = false;
	}
	if (to != HA_ROLE_STANDBY && to != HA_ROLE_PROMOTING && to != HA_ROLE_ACTIVE) {
		tmr_cancel(&q.retry);
		q.asking = q.retried = false;
		q.vote = QV_NONE;
	}
	if (to == HA_ROLE_ACTIVE) {
		/* promoted on the peer's release (FIN, standby): that vote holds
		 * for one lease, time enough for the witness's grant */
		if (!quorum_lease_valid())
			q.release_until = loop_now_update() + (uint64_t)q.cc.lease_ms * 95 / 100;
		q.asking = false;
		q.vote = QV_NONE;
		send_request(ha_role_epoch());
	}
}

enum quorum_vote quorum_vote(void)
{
	if (!q.on)
		return QV_GRANTED;
	if (q.vote == QV_GRANTED && q.lease_epoch == ha_role_epoch() + 1 && quorum_lease_valid())
		return QV_GRANTED;
	if (q.vote == QV_DENIED)
		return QV_DENIED;
	if (!q.asking) {
		q.ask_epoch = ha_role_epoch() + 1;
		q.ask_since = loop_now_update();
		q.retried = false;
		q.vote = QV_WAIT;
		q.asking = true;
		send_request(q.ask_epoch);
	}
	return QV_WAIT;
}

bool quorum_granted(void)
{
	return q.on && q.vote == QV_GRANTED;
}

void quorum_vote_reset(void)
{
	tmr_cancel(&q.retry);
	q.asking = q.retried = false;
	q.vote = QV_NONE;
}

bool quorum_resume_ok(void)
{
	return !q.on || quorum_lease_valid();
}

void quorum_fence(const char *why)
{
	fence(why);
}

void quorum_outdated(uint64_t offset)
{
	struct wit_msg m = { .offset = offset };

	snprintf(m.node, sizeof(m.node), "%s", q.cc.nodes[!q.self].name);
	send_plain(HA_F_W_OUTDATED, &m);
}

void quorum_alone(uint64_t offset)
{
	if (!q.on)
		return;
	q.outdated_ok = false;
	quorum_outdated(offset);
	q.outdated_sent = loop_now() ? loop_now() : 1;
}

void quorum_current(void)
{
	struct wit_msg m = { 0 };

	snprintf(m.node, sizeof(m.node), "%s", q.cc.nodes[!q.self].name);
	if (send_plain(HA_F_W_CURRENT, &m)) {
		q.current_unanswered++;
		q.current_after = q.req_sent;
	}
}

json_t *quorum_status_json(void)
{
	bool peer = peer_heard();
	uint64_t now = loop_now_update();
	json_t *w = json_null();
	unsigned have = 1 + peer;

	if (q.on) {
		bool valid = quorum_lease_valid();
		uint64_t left = 0;

		if (valid)
			left = q.lease_end - now;
		else if (q.holder[0] && strcmp(q.holder, q.cc.nodes[q.self].name) &&
			 q.answered + q.ms_left > now)
			left = q.answered + q.ms_left - now;
		have += valid;
		w = json_pack("{s:s, s:s, s:s?, s:I}", "address", q.cc.witness_str,
			      "state", ha_link_state(q.link) == HA_LINK_UP ? "connected" :
			      ha_link_state_name(ha_link_state(q.link)),
			      "holder", valid ? q.cc.nodes[q.self].name :
			      (q.holder[0] && left ? q.holder : NULL), "lease_ms_left",
			      (json_int_t)left);
	}
	return json_pack("{s:I, s:I, s:o}", "have", (json_int_t)have, "of",
			 (json_int_t)(q.on ? 3 : 2), "witness", w);
}

int quorum_start(const struct cluster_conf *cc, unsigned self)
{
	static const struct ha_link_handlers h = {
		.up = up_h, .down = down_h, .frame = frame_h, .pos = pos_h,
	};
	struct ha_link_pair p = { 0 };
	int e;

	if (!cc->enabled || !cc->has_witness)
		return 0;
	memset(&q, 0, sizeof(q));
	q.cc = *cc;
	cluster_conf_clear(&q.cc);
	q.self = self;
	tmr_init(&q.tick);
	tmr_init(&q.retry);
	tmr_init(&q.expire);
	p.self = cc->nodes[self].name;
	p.peer = WITNESS_NAME;
	p.self_addr = cc->nodes[self].addr;
	witness_addr_of(&cc->witness, self, &p.peer_addr);
	p.dials = true;
	p.what = "witness link";
	if ((e = ha_link_start_pair(&q.link, cc, &p, &h, NULL)))
		return e;
	if ((e = ha_role_watch(role_h, NULL))) {
		ha_link_stop(q.link);
		q.link = NULL;
		return e;
	}
	q.on = true;
	tmr_start(&q.tick, Q_TICK_MS, tick_h, NULL);
	return 0;
}

void quorum_stop(void)
{
	if (!q.on)
		return;
	tmr_cancel(&q.tick);
	tmr_cancel(&q.retry);
	tmr_cancel(&q.expire);
	ha_link_stop(q.link);
	q.link = NULL;
	q.on = false;
}
