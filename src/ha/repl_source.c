/**
 * @file repl_source.c  The serving node's side of replication (repl.c has
 * the session and the link events; docs/design/cluster.md 3.3-3.5, 4):
 * answering PSYNC, streaming whole turns from the journal, the standby's
 * ACKs releasing confirmations, SYNC, and going alone when it falls
 * silent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "ha/ha.h"
#include "ha/jnl.h"
#include "ha/repl_int.h"
#include "ha/witness.h"
#include "pbx/call_survive.h"

#define g g_repl

/* The active: the standby went silent or away while we waited for it. */
static void check_sync(void);

/* Forget the unACKed turns the standby now holds (end <= acked). */
static void fifo_pop(uint64_t acked)
{
	size_t k = 0;

	while (k < g.nfifo && g.fifo[k].end <= acked)
		k++;
	if (k) {
		memmove(&g.fifo[0], &g.fifo[k], (g.nfifo - k) * sizeof(g.fifo[0]));
		g.nfifo -= k;
	}
}

void repl_go_alone(const char *why)
{
	uint64_t head = ha_jnl() ? jnl_head(ha_jnl()) : 0;
	const char *peer = g.cc.nodes[!g.self].name;

	g.waiting = false;
	g.alone_since_us = repl_now_us();
	g.alone_at = head;
	g.was_alone = true;
	snprintf(g.alone_why, sizeof(g.alone_why), "%s", why);
	switch (alone_silent(&g.alone, quorum_witness(), head)) {
	case ALONE_DO_RELEASE:
		ha_set_sync(false);
		log_warn("cluster: standby %s %s: going on alone at offset %" PRIu64 "; %s is "
			 "outdated until it catches up (no witness: not recorded)",
			 peer, why, head, peer);
		break;
	case ALONE_DO_ASK:
		log_warn("cluster: standby %s %s at offset %" PRIu64 ": recording it outdated "
			 "at the witness; confirmations held until then", peer, why, head);
		quorum_alone(head);
		break;
	default:
		break;
	}
}

void repl_alone_recorded(uint64_t offset)
{
	const char *peer = g.cc.nodes[!g.self].name;

	if (alone_recorded(&g.alone, offset) != ALONE_DO_RELEASE)
		return;
	ha_set_sync(false);
	log_warn("cluster: standby %s %s: going on alone at offset %" PRIu64 "; %s recorded "
		 "outdated at the witness", peer, g.alone_why, g.alone.offset, peer);
}

bool repl_alone_holding(void)
{
	return g.alone.st == ALONE_ASKING;
}

void repl_tick(void *arg)
{
	(void)arg;
	tmr_start(&g.tick, 50, repl_tick, NULL);
	if (g.waiting && g.nfifo &&
	    repl_now_us() - g.fifo[0].mono_us >= (uint64_t)g.cc.sync_timeout_ms * 1000u) {
		char why[64];

		snprintf(why, sizeof(why), "silent for %u ms", g.cc.sync_timeout_ms);
		repl_set_state(REPL_ALONE);
		repl_go_alone(why);
	}
}

/* Turns written on the active: remember when, for lag_ms and silence. */
void repl_feed(uint64_t start, uint64_t end, void *arg)
{
	(void)arg;
	(void)start;
	if (!g.source)
		return;
	if (g.nfifo == REPL_FIFO) {            /* merge the two oldest */
		memmove(&g.fifo[0], &g.fifo[1], (REPL_FIFO - 1) * sizeof(g.fifo[0]));
		g.nfifo--;
	}
	g.fifo[g.nfifo].end = end;
	g.fifo[g.nfifo].mono_us = repl_now_us();
	g.nfifo++;
	if (g.rd)
		repl_kick(0);
}

/* ------------------------------------------------------------ the active */

int repl_send_frame(uint8_t type)
{
	int e = ha_link_send(g.link, type, g.frame.p, g.frame.len);

	g.frame.len = 0;
	if (e && e != ENOTCONN) {
		log_error("cluster: cannot queue a replication frame to %s: %s",
			  g.cc.nodes[!g.self].name, strerror(e));
		ha_link_error(g.link, "replication frame could not be queued");
	}
	return e;
}

/** Open the reader at off and stream from there: CONTINUE (the standby
 * holds everything before off) or SYNC_DONE (it will once it installed
 * the snapshot, and says so with ACK(off)). */
int repl_stream_from(uint64_t off, bool holds)
{
	int e = jnl_reader_open(&g.rd, ha_jnl(), off);

	if (e) {
		log_error("cluster: cannot read the journal from offset %" PRIu64 " for %s: %s",
			  off, g.cc.nodes[!g.self].name, strerror(e));
		ha_link_error(g.link, "journal not readable at the asked offset");
		return e;
	}
	g.sent = off;
	if (holds) {
		g.acked = off;
		fifo_pop(off);
	}
	repl_set_state(REPL_CATCHUP);
	repl_kick(0);
	return 0;
}

int repl_send_turns(struct jnl_reader **rdp, uint64_t *pos, uint8_t type, size_t *sent)
{
	const uint8_t *buf;
	size_t len;
	int e = 0;

	g.frame.len = 0;
	repl_stream_encode_hdr(&g.frame, *pos);
	while (g.frame.len < REPL_FRAME_FILL && !(e = jnl_reader_next(*rdp, &buf, &len))) {
		if (8 + len > HA_LINK_FRAME_MAX - 1)
			return EMSGSIZE;
		if (g.frame.len + len > HA_LINK_FRAME_MAX - 1) {
			*sent += g.frame.len;
			repl_send_frame(type);
			if (!*rdp)
				return ECONNRESET;
			repl_stream_encode_hdr(&g.frame, *pos);
		}
		if (jnl_wbuf_reserve(&g.frame, len)) {
			e = ENOMEM;
			break;
		}
		memcpy(g.frame.p + g.frame.len, buf, len);
		g.frame.len += len;
		*pos += len;
	}
	if (g.frame.len > 8) {
		*sent += g.frame.len;
		repl_send_frame(type);
		if (!*rdp)
			return ECONNRESET;
	}
	return e;
}

/* Send whole turns from the reader, bounded per turn: several turns a
 * STREAM frame, up to REPL_FRAME_FILL, never one split across frames. */
static void pump_stream(void)
{
	uint64_t t0 = repl_now_us();
	size_t sent = 0;
	int e = 0;

	while (g.rd && sent < REPL_TURN_BYTES && repl_now_us() - t0 < REPL_TURN_US) {
		if (ha_link_pending(g.link) > REPL_PENDING_MAX) {
			repl_kick(1);
			return;
		}
		e = repl_send_turns(&g.rd, &g.sent, HA_F_STREAM, &sent);
		if (e == ENODATA) {
			check_sync();
			return;
		}
		if (e == ECONNRESET)
			return;
		if (e == EMSGSIZE) {
			log_error("cluster: turn at offset %" PRIu64 " is more than a frame holds: "
				  "cannot replicate it", g.sent);
			ha_link_error(g.link, "turn larger than a frame");
			return;
		}
		if (e) {
			log_error("cluster: cannot read the journal at offset %" PRIu64 " for %s: %s",
				  g.sent, g.cc.nodes[!g.self].name,
				  e == ESTALE ? "the backlog no longer holds it" : strerror(e));
			ha_link_error(g.link, "journal read failed");
			return;
		}
	}
	if (g.rd)
		repl_kick(0);
}

void repl_pump(void *arg)
{
	(void)arg;
	if (g.mrd && ha_link_state(g.link) == HA_LINK_UP) {
		repl_merge_pump();
		return;
	}
	if (!g.source || ha_link_state(g.link) != HA_LINK_UP)
		return;
	if (g.full)
		repl_full_pump();
	else
		pump_stream();
}

void repl_psync_got(const struct repl_pos *want)
{
	char replid[JNL_REPLID_LEN + 1], replid2[JNL_REPLID_LEN + 1];
	uint64_t off, off2, epoch;
	struct jnl *j = ha_jnl();

	ha_position(replid, &off, replid2, &off2, &epoch);
	g.peer_offset = want->offset;
	if (j && repl_can_continue(want, replid, replid2, off2, jnl_first(j), jnl_head(j))) {
		log_notice("cluster: %s asks to continue at %s:%" PRIu64 ": partial resync "
			   "(%" PRIu64 " bytes behind)", g.cc.nodes[!g.self].name, want->replid,
			   want->offset, jnl_head(j) - want->offset);
		g.resync_kind = "partial resync";
		g.resync_from = want->offset;
		g.frame.len = 0;
		if (repl_pos_encode(&g.frame, replid, want->offset))
			return;
		repl_send_frame(HA_F_CONTINUE);
		jnl_set_floor(j, want->offset);
		repl_stream_from(want->offset, true);
		return;
	}
	if (!strcmp(want->replid, replid2) && want->offset > off2)
		log_warn("cluster: %s at %s:%" PRIu64 " wrote %" PRIu64 " bytes past this "
			 "node's promotion at %" PRIu64 " (diverged): full resync; its "
			 "tail %s", g.cc.nodes[!g.self].name, want->replid,
			 want->offset, want->offset - off2, off2,
			 g.merged ? "was merged here" : "was not merged (not in its journal)");
	else
		log_notice("cluster: %s at %s:%" PRIu64 " is not in this node's journal "
			   "(%s:%" PRIu64 "-%" PRIu64 "): full resync%s", g.cc.nodes[!g.self].name,
			   want->replid, want->offset, replid, j ? jnl_first(j) : 0,
			   j ? jnl_head(j) : 0, g.merged ? " (its writes since our histories "
			   "branched were merged here)" : "");
	g.resync_kind = "full resync";
	repl_full_start();
}

/* The standby holds the journal's head: SYNC (and wait for it from now). */
static void check_sync(void)
{
	struct jnl *j = ha_jnl();
	uint64_t head = j ? jnl_head(j) : 0, now = repl_now_us();

	if (g.acked != head || g.sent != head || g.state == REPL_SYNC || g.full || !g.rd)
		return;
	fifo_pop(head);
	repl_set_state(REPL_SYNC);
	call_survive_resnap();   /* the calls up now, for a standby that missed them */
	g.prog.phase = NULL;
	if (!strcmp(g.resync_kind, "partial resync")) {
		g.last.kind = "partial";
		g.last.bytes = head - g.resync_from;
		g.last.secs = 0;
	}
	if (g.was_alone)
		log_notice("cluster: standby %s caught up (%s, %" PRIu64 " bytes, %.1f s alone)",
			   g.cc.nodes[!g.self].name, g.resync_kind, head - g.resync_from,
			   (double)(now - g.alone_since_us) / 1e6);
	else
		log_notice("cluster: standby %s in sync at offset %" PRIu64 " (%s)",
			   g.cc.nodes[!g.self].name, head, g.resync_kind);
	g.was_alone = false;
	alone_sync(&g.alone);
	if (g.cc.sync) {
		ha_set_sync(true);
		g.waiting = true;
	}
}

void repl_ack_got(const struct repl_ack *a)
{
	struct jnl *j = ha_jnl();

	if (a->offset > g.sent || a->offset < g.acked) {
		log_error("cluster: %s ACKed offset %" PRIu64 " outside what was sent (%" PRIu64
			  "-%" PRIu64 ")", g.cc.nodes[!g.self].name, a->offset, g.acked, g.sent);
		ha_link_error(g.link, "ACK outside the stream");
		return;
	}
	g.acked = a->offset;
	g.peer_offset = a->offset;
	g.ack_mono_us = repl_now_us();
	fifo_pop(a->offset);
	ha_durable_release(a->offset);
	if (j)
		jnl_set_floor(j, a->offset);
	check_sync();
}
