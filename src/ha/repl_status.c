/**
 * @file repl_status.c  The "repl" objects of `cluster status`
 * (docs/design/cluster.md 8.5): this node's position and state, and what
 * this node knows of the peer's. lag_bytes = head - the standby's ACKed
 * offset; lag_ms = now - the write time of the oldest unACKed turn (the
 * active knows both; a standby shows what the active last told it).
 */
#include <inttypes.h>

#include "ha/ha.h"
#include "ha/jnl.h"
#include "ha/repl_int.h"

#define g g_repl

static json_t *progress_json(void)
{
	const struct repl_progress *p = &g.prog;
	double left = p->total > p->done ? (double)(p->total - p->done) : 0;

	return json_pack("{s:s, s:I, s:I, s:I, s:o}", "phase", p->phase,
			 "done_bytes", (json_int_t)p->done, "total_bytes", (json_int_t)p->total,
			 "rate_bps", (json_int_t)p->rate_bps,
			 "eta_s", p->rate_bps > 0 ? json_integer((json_int_t)(left / p->rate_bps))
						  : json_null());
}

static uint64_t head(void)
{
	return ha_jnl() ? jnl_head(ha_jnl()) : 0;
}

json_t *repl_status_json(void)
{
	char replid[JNL_REPLID_LEN + 1], replid2[JNL_REPLID_LEN + 1];
	uint64_t off, off2, epoch, h = head();
	json_t *j;

	ha_position(replid, &off, replid2, &off2, &epoch);
	j = json_pack("{s:s, s:I, s:s, s:I}", "id", replid, "offset", (json_int_t)off,
		      "state", g.state == REPL_NONE && g.link &&
		      ha_link_state(g.link) == HA_LINK_REFUSED ? "refused" :
		      repl_state_name(g.state), "epoch", (json_int_t)epoch);
	if (g.receiver) {
		json_object_set_new(j, "lag_bytes", json_integer(g.peer_offset > h ?
			(json_int_t)(g.peer_offset - h) : 0));
		json_object_set_new(j, "lag_ms", g.state == REPL_SYNC ? json_integer(0)
								  : json_null());
	} else {
		json_object_set_new(j, "lag_bytes", json_integer(0));
		json_object_set_new(j, "lag_ms", json_integer(0));
	}
	if (ha_jnl())
		json_object_set_new(j, "backlog", json_pack("{s:I, s:I}", "first",
			(json_int_t)jnl_first(ha_jnl()),
			"bytes", (json_int_t)(h - jnl_first(ha_jnl()))));
	if (g.prog.phase)
		json_object_set_new(j, "sync", progress_json());
	json_object_set_new(j, "last_resync", g.last.kind ? json_pack("{s:s, s:I, s:f}",
		"kind", g.last.kind, "bytes", (json_int_t)g.last.bytes, "seconds", g.last.secs)
		: json_null());
	return j;
}

json_t *repl_peer_status_json(void)
{
	const struct ha_link_hello *p = &g.peer_hello;
	uint64_t h = head();
	json_t *j;

	if (!g.have_peer)
		return json_object();
	j = json_pack("{s:s, s:s, s:s, s:I}", "id", p->replid,
		      "role", ha_role_contract((enum ha_role)g.peer_role),
		      "role_state", ha_role_name((enum ha_role)g.peer_role),
		      "epoch", (json_int_t)p->epoch);
	if (g.source) {
		/* the active: the standby's ACKs */
		json_object_set_new(j, "offset", json_integer((json_int_t)g.acked));
		json_object_set_new(j, "lag_bytes", json_integer(h > g.acked ?
			(json_int_t)(h - g.acked) : 0));
		json_object_set_new(j, "lag_ms", json_integer(g.nfifo ?
			(json_int_t)((repl_now_us() - g.fifo[0].mono_us) / 1000) : 0));
		json_object_set_new(j, "state", json_string(repl_state_name(g.state)));
		if (g.prog.phase)
			json_object_set_new(j, "sync", progress_json());
	} else {
		json_object_set_new(j, "offset", json_integer((json_int_t)g.peer_offset));
		json_object_set_new(j, "lag_bytes", json_integer(0));
		json_object_set_new(j, "lag_ms", json_integer(0));
		json_object_set_new(j, "state", json_string(
			repl_state_name((enum repl_state)g.peer_repl_state)));
	}
	return j;
}
