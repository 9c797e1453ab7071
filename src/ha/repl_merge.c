/**
 * @file repl_merge.c  MERGE frames on the link (merge.h; design 3.3 step
 * 4 and 7): the loser streams its tail before its PSYNC, the winner checks
 * where each frame belongs and hands the turns to merge.c.
 *
 *   loser  -> MERGE(start = offset2, whole turns) ... MERGE(head) (empty)
 *   loser  -> PSYNC(replid, head)      the winner answers FULLRESYNC
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "ha/ha.h"
#include "ha/jnl.h"
#include "ha/merge.h"
#include "ha/repl_int.h"

#define g g_repl

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ------------------------------------------------------------ the loser */

bool repl_merge_start(void)
{
	uint64_t from;
	struct jnl *j = ha_jnl();
	int e;

	struct merge_pos peer = { g.peer_hello.replid, g.peer_hello.replid2,
				  g.peer_hello.offset2, g.peer_hello.offset };

	if (g.merge_sent || g.mrd || !merge_out_wanted(&peer, &from))
		return false;
	if ((e = jnl_reader_open(&g.mrd, j, from))) {
		log_error("cluster: cannot read this node's journal from offset %" PRIu64
			  " to merge it: %s", from, strerror(e));
		return false;
	}
	g.msent = from;
	log_warn("cluster: this node wrote %" PRIu64 " bytes after %s's history branched off "
		 "at offset %" PRIu64 ": sending them to %s to be merged", jnl_head(j) - from,
		 g.cc.nodes[!g.self].name, from, g.cc.nodes[!g.self].name);
	repl_kick(0);
	return true;
}

void repl_merge_pump(void)
{
	size_t sent = 0;
	int e = 0;

	while (g.mrd && sent < REPL_TURN_BYTES) {
		if (ha_link_pending(g.link) > REPL_PENDING_MAX) {
			repl_kick(1);
			return;
		}
		e = repl_send_turns(&g.mrd, &g.msent, HA_F_MERGE, &sent);
		if (e == ENODATA)
			break;
		if (e == ECONNRESET)
			return;
		if (e) {
			log_error("cluster: cannot send this node's journal at offset %" PRIu64
				  " to merge it: %s", g.msent, e == EMSGSIZE ?
				  "a turn larger than a frame" : strerror(e));
			ha_link_error(g.link, "journal read failed");
			return;
		}
	}
	if (!g.mrd)
		return;
	if (e != ENODATA) {
		repl_kick(0);
		return;
	}
	jnl_reader_close(g.mrd);
	g.mrd = NULL;
	g.merge_sent = true;
	g.frame.len = 0;
	repl_stream_encode_hdr(&g.frame, g.msent);       /* the end: no turns */
	if (!repl_send_frame(HA_F_MERGE))
		repl_send_psync();
}

/* ------------------------------------------------------------ the winner */

void repl_merge_frame(const uint8_t *p, size_t len)
{
	char replid[JNL_REPLID_LEN + 1], replid2[JNL_REPLID_LEN + 1], err[256] = "";
	uint64_t off, off2, epoch, start;
	struct repl_stream s;

	if (!ha_serving() || g.receiver || len < 8) {
		repl_refuse(len < 8 ? "malformed MERGE" : "MERGE to a node that does not serve");
		return;
	}
	start = get64(p);
	if (!merge_in_active()) {
		struct merge_pos peer = { g.peer_hello.replid, g.peer_hello.replid2,
					  g.peer_hello.offset2, g.peer_hello.offset };
		struct merge_pos self = { replid, replid2, 0, 0 };
		uint64_t from;

		ha_position(replid, &off, replid2, &off2, &epoch);
		self.offset2 = off2;
		self.head = off;
		/* the peer's tail begins where our histories branched */
		if (!merge_branch(&peer, &self, &from) || start != from) {
			repl_refuse("MERGE of a history this node did not branch from");
			return;
		}
		if (merge_in_begin(g.cc.nodes[!g.self].name, from)) {
			repl_refuse("merge could not start");
			return;
		}
		g.mnext = start;
	}
	if (start != g.mnext) {
		repl_refuse("MERGE out of place");
		return;
	}
	if (len == 8) {
		merge_in_end();
		g.merged = true;
		return;
	}
	if (repl_stream_decode(&s, p, len, err, sizeof(err))) {
		repl_refuse(err);
		return;
	}
	if (merge_in_turns(s.turns, s.len)) {
		repl_refuse("a merged entry could not be applied");
		return;
	}
	g.mnext += s.len;
}

void repl_merge_reset(void)
{
	if (g.mrd) {
		jnl_reader_close(g.mrd);
		g.mrd = NULL;
	}
	g.merge_sent = g.merged = false;
	merge_in_abort();
}
