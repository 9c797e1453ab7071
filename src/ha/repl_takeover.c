/**
 * @file repl_takeover.c  A planned takeover over the replication link
 * (repl.h; docs/design/cluster.md 8.5): `tandemctl cluster takeover` on the
 * standby sends FAILOVER(its replid, head); the active hands it to
 * failover.c (takeover_asked), which waits until the standby ACKed the
 * journal's head and then hands over. The payload is a position
 * (repl_pos_encode), fuzzed with the other replication frames.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "core/log.h"
#include "ha/ha.h"
#include "ha/repl_int.h"
#include "ha/role.h"

#define g g_repl

static repl_failover_h *failover_h;

void repl_on_failover(repl_failover_h *h)
{
	failover_h = h;
}

int repl_failover_ask(void)
{
	char replid[JNL_REPLID_LEN + 1], replid2[JNL_REPLID_LEN + 1];
	uint64_t off, off2, epoch;
	struct jnl_wbuf b = { 0 };
	int e;

	if (!g.link || ha_link_state(g.link) != HA_LINK_UP)
		return ENOTCONN;
	if (!g.receiver || g.state != REPL_SYNC)
		return EAGAIN;
	ha_position(replid, &off, replid2, &off2, &epoch);
	if ((e = repl_pos_encode(&b, replid, off)) == 0 &&
	    (e = ha_link_send(g.link, HA_F_FAILOVER, b.p, b.len)) == 0)
		log_notice("cluster: takeover: asking %s to hand over (this node at %s:%" PRIu64
			   ")", g.cc.nodes[!g.self].name, replid, off);
	else if (e != ENOTCONN)
		log_warn("cluster: takeover: cannot send FAILOVER to %s: %s",
			 g.cc.nodes[!g.self].name, strerror(e));
	jnl_wbuf_free(&b);
	return e == ENOTCONN ? ENOTCONN : e ? EIO : 0;
}

int repl_failover_frame(const uint8_t *p, size_t len)
{
	struct repl_pos pos;

	if (repl_pos_decode(&pos, p, len))
		return EBADMSG;
	if (!g.source)
		log_warn("cluster: %s asked for a takeover, but this node does not stream to "
			 "it (%s): ignored", g.cc.nodes[!g.self].name, ha_role_name(ha_role()));
	else if (failover_h)
		failover_h(&pos);
	return 0;
}
