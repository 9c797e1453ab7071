/**
 * @file rtp_snap.c  A relay's state for a standby, and a relay rebuilt
 * from it on the node that takes over (docs/design/cluster.md 9).
 *
 * What survives: the local ports (bound again with IP_FREEBIND, the
 * floating address may come a moment later), each leg's SDP view (remote
 * addresses, PT map, direction, comedia), the latched sources (the first
 * destinations; a packet from elsewhere may latch at once, since nothing
 * was heard here yet), and the stream we send toward each leg: same SSRC,
 * sequence moved on by the 20 ms packets the wall time since the snapshot
 * allows plus one, timestamp by the time elapsed, marker bit on the first
 * packet (rtp.c's resync path). A far end that kept its sequence sees a
 * loss, never a new stream or a step back. A leg silent for RTP_SILENT_MS
 * or more carries when its silence started (wall clock): the new active's
 * rtptimeout counts from then (rtp_relay_timeout_since), not from the
 * failover, so a call whose phones vanished ends when it would have.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "media/codec.h"
#include "media/rtp.h"
#include "media/rtp_int.h"

void rtp_relay_snap(const struct rtp_relay *r, enum rtp_leg_id leg, struct rtp_leg_snap *s)
{
	const struct leg *l = &r->leg[leg & 1];
	uint64_t now = rtp_now();

	memset(s, 0, sizeof(*s));
	s->local = l->local;
	s->conf = l->conf;
	s->src_rtp = l->src_rtp;
	s->src_rtcp = l->src_rtcp;
	s->latched = l->latched;
	s->rtcp_latched = l->rtcp_latched;
	s->out_ssrc = l->out_ssrc;
	s->out_init = l->out_init;
	s->out_seq = l->out_seq;
	s->out_ts = l->out_ts;
	if (l->out_init)
		s->out_wall_ms = loop_wall_ms() - (int64_t)(now > l->out_ms ? now - l->out_ms : 0);
	if (r->timeout_ms && r->th &&
	    (l->conf.dir == SDP_SENDRECV || l->conf.dir == SDP_SENDONLY)) {
		uint64_t last = l->st.last_rx > r->armed_at ? l->st.last_rx : r->armed_at;

		if (now >= last + RTP_SILENT_MS)
			s->rx_wall_ms = loop_wall_ms() - (int64_t)(now - last);
	}
}

/* Carry leg l's outgoing stream forward to now. */
static void out_restore(struct leg *l, const struct rtp_leg_snap *s)
{
	const struct codec_info *ci = s->conf.npts ? codec_info(s->conf.pts[0].codec) : NULL;
	uint32_t rate = ci && ci->rate ? ci->rate : 8000;
	int64_t el = loop_wall_ms() - s->out_wall_ms;

	l->out_ssrc = s->out_ssrc;
	if (!s->out_init || !s->out_wall_ms)
		return;          /* nothing was sent yet: a stream starts afresh */
	if (el < 0 || el > 86400000)
		el = 0;          /* clocks disagree: a plain resync */
	l->out_init = true;
	l->out_resync = true;    /* the next packet: marker, new offsets */
	l->out_seq = (uint16_t)(s->out_seq + el / 20 + 1);
	l->out_ts = (uint32_t)(s->out_ts + (uint64_t)el * rate / 1000);
	l->out_ms = rtp_now();
}

int rtp_relay_restore(struct rtp_relay **rp, const struct rtp_leg_snap s[2])
{
	struct rtp_relay *r;
	int err;

	if (!rp || !s)
		return EINVAL;
	if ((err = rtp_relay_alloc_at(&r, &s[0].local, &s[1].local)))
		return err;
	for (int i = 0; i < 2; i++) {
		struct leg *l = &r->leg[i];

		if ((err = rtp_relay_leg_set(r, (enum rtp_leg_id)i, &s[i].conf))) {
			rtp_relay_free(r);
			return err;
		}
		/* latched before: the same source is where we send first, and
		 * last_rx 0 lets any source latch at once (latching open) */
		l->src_rtp = s[i].src_rtp;
		l->src_rtcp = s[i].src_rtcp;
		l->latched = s[i].latched;
		l->rtcp_latched = s[i].rtcp_latched;
		out_restore(l, &s[i]);
	}
	*rp = r;
	return 0;
}
