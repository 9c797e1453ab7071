/**
 * @file rtp_local.c  Media made or consumed by Tandem itself on a relay
 * leg: players feeding a leg, RFC 4733 digits in and out, in-band DTMF
 * detection, recording.
 *
 * The ticker. One loop timer serves every leg that has local output (a
 * player, or digits to send): every RTP_TICK_MS it advances the media
 * clock (play_tick()) and gives each such leg one frame. Ticks are
 * counted from when the ticker started, so timer lateness does not
 * accumulate; a late timer sends the frames it owes (at most
 * MAX_CATCHUP per leg; beyond that the frames are skipped and the
 * timestamps jump, which a receiver treats as loss). One timer instead
 * of one per leg: one wakeup per 20 ms whatever the number of callers,
 * one heap operation instead of one per leg, and every leg's frame goes
 * out in one burst (docs/design/media.md has the numbers).
 *
 * Continuity. The first local packet toward a leg continues the stream
 * the relay was sending it: sequence + 1, timestamp advanced by the time
 * since the last packet (at least a frame), marker set. Local frames then
 * advance the timestamp 160 per tick (sent or not: a leg on hold or
 * without an address yet still ages). When the leg leaves the ticker
 * the relay's out_resync makes the next relayed packet continue from
 * there, exactly as after a re-INVITE. The SSRC never changes.
 *
 * DTMF out (RFC 4733 2.5.1): an event takes the timestamp of the frame
 * at which it starts; each tick sends an update with the duration so far
 * (the first with the marker bit), the last one with E set, three times
 * on three ticks; then RTP_DTMF_GAP ticks of audio before the next digit.
 * Audio toward the leg pauses during the event but its clock runs, so the
 * next audio frame is past the event's end.
 *
 * DTMF in: dtmf.c's state machine per leg; events are queued while a
 * batch is read and delivered by rtp_local_deliver() when the batch is
 * done (the handler may free the relay, see rtp.c). In-band detection
 * runs spandsp's dtmf_rx on the decoded G.711 audio; its realtime
 * callback gives key down and key up.
 *
 * Recording: G.711 from the leg decoded to PCM; the RTP timestamp says
 * where each packet goes, so a gap (silence suppression, loss, DTMF) is
 * written as silence up to MAX_GAP; duplicates and late packets are
 * dropped; a restarted stream (new SSRC) continues where we were.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <spandsp/telephony.h>
#include <spandsp/complex.h>
#include <spandsp/logging.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/g711.h"
#include "media/mixmon.h"
#include "media/play.h"
#include "media/rec.h"
#include "media/rtp_int.h"
#include "media/sound.h"

#define MAX_CATCHUP   3             /* frames sent late per leg in one tick */
#define RTP_DTMF_GAP  3             /* ticks between two digits we send */
#define MAX_GAP       (5 * SOUND_RATE)
#define PENDING_MAX   128

static struct {
	struct leg *head;
	size_t n;
	struct tmr tmr;
	uint64_t t0, done;              /* start time and ticks done since */
} tk;

struct pending {
	struct rtp_relay *r;
	enum rtp_leg_id leg;
	char digit;
	enum dtmf_ev ev;
	uint32_t ms;
};

static struct pending pend[PENDING_MAX];
static size_t npend;

size_t rtp_local_legs(void)
{
	return tk.n;
}

/* ================================================================
 * Sending
 * ================================================================ */

static bool receives(const struct leg *l)
{
	return l->conf.dir == SDP_SENDRECV || l->conf.dir == SDP_RECVONLY;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One packet toward l: header from l's outgoing state, payload pl. */
static void send_local(struct leg *l, uint8_t pt, bool marker, uint32_t ts,
		       const uint8_t *pl, size_t n)
{
	const struct sockaddr_storage *dst = rtp_dest(l, false);
	uint8_t b[12 + PLAY_FRAME];
	uint16_t seq;

	if (!dst || !receives(l) || n > PLAY_FRAME)
		return;
	seq = (uint16_t)(l->out_seq + 1);
	b[0] = 0x80;
	b[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	put32(b + 4, ts);
	put32(b + 8, l->out_ssrc);
	memcpy(b + 12, pl, n);
	if (sendto(l->rtp.fd, b, 12 + n, MSG_DONTWAIT, (const struct sockaddr *)dst,
		   rtp_sa_len(dst)) < 0)
		return;                 /* buffer full: a lost packet */
	l->out_seq = seq;
	l->st.tx_pkts++;
	rtp_tot.tx_pkts++;
	l->st.tx_bytes += 12 + n;
	l->st.tx_local++;
}

/* The G.711 law and PT we send toward l; false when it has neither. */
static bool audio_pt(const struct leg *l, enum codec *c, uint8_t *pt)
{
	if (!l->conf.npts) {
		*c = CODEC_PCMU;
		*pt = 0;
		return true;
	}
	for (size_t i = 0; i < l->conf.npts; i++) {
		enum codec k = l->conf.pts[i].codec;
		if (k == CODEC_PCMA || k == CODEC_PCMU) {
			*c = k;
			*pt = l->conf.pts[i].pt;
			return true;
		}
	}
	return false;
}

/* ================================================================
 * The ticker
 * ================================================================ */

static bool needs_tick(const struct leg *l)
{
	return l->feed || l->dout.qn || l->dout.on;
}

static void on_tick(void *arg);

static void tick_arm(uint64_t now)
{
	uint64_t next = tk.t0 + (tk.done + 1) * RTP_TICK_MS;

	tmr_start(&tk.tmr, next > now ? next - now : 0, on_tick, NULL);
}

static void leg_tick_on(struct leg *l)
{
	if (l->ticking)
		return;
	l->ticking = true;
	l->tprev = NULL;
	l->tnext = tk.head;
	if (tk.head)
		tk.head->tprev = l;
	tk.head = l;
	if (!tk.n++) {
		tk.t0 = rtp_now();
		tk.done = 0;
		tick_arm(tk.t0);
	}
}

static void leg_tick_off(struct leg *l)
{
	if (!l->ticking)
		return;
	l->ticking = false;
	if (l->tprev)
		l->tprev->tnext = l->tnext;
	else
		tk.head = l->tnext;
	if (l->tnext)
		l->tnext->tprev = l->tprev;
	l->tprev = l->tnext = NULL;
	l->dout.gap = 0;
	if (l->out_local) {
		l->out_local = false;
		l->out_resync = true;   /* the relay continues our stream */
	}
	if (!--tk.n)
		tmr_cancel(&tk.tmr);
}

/* Position the stream toward l for its first local frame. */
static void local_start(struct leg *l, uint64_t now)
{
	if (!l->out_init) {
		l->out_seq = (uint16_t)rtp_rnd32();
		l->out_ts = rtp_rnd32();
		l->out_init = true;
	} else {
		uint64_t el = (now > l->out_ms ? now - l->out_ms : 0) * (SOUND_RATE / 1000);
		l->out_ts += (uint32_t)(el < PLAY_FRAME ? PLAY_FRAME : el);
	}
	l->out_local = true;
	l->marker = true;
}

/* One tick of DTMF toward l; true when it took the frame. */
static bool dout_step(struct leg *l)
{
	struct dtmf_out *d = &l->dout;
	uint8_t pl[4], pt = l->codec_pt[CODEC_TELEVENT];
	bool first = false;

	if (!d->on) {
		if (d->gap) {
			d->gap--;
			return false;
		}
		if (!d->qn)
			return false;
		d->on = true;
		d->ev = d->q_ev[0];
		d->total = (uint32_t)d->q_ms[0] * (SOUND_RATE / 1000);
		memmove(d->q_ev, d->q_ev + 1, --d->qn * sizeof(d->q_ev[0]));
		memmove(d->q_ms, d->q_ms + 1, d->qn * sizeof(d->q_ms[0]));
		d->ts = l->out_ts;
		d->dur = 0;
		d->ends = 0;
		first = true;
	}
	if (pt == 0xff) {               /* renegotiated away: drop the digits */
		d->on = false;
		d->qn = 0;
		return false;
	}
	if (!d->ends) {
		d->dur += PLAY_FRAME;
		if (d->dur >= d->total) {
			d->dur = d->total;
			d->ends = 1;
		}
	} else {
		d->ends++;
	}
	dtmf_4733_encode(pl, d->ev, d->ends, 10, (uint16_t)d->dur);
	send_local(l, pt, first, d->ts, pl, sizeof(pl));
	if (d->ends == 3) {
		d->on = false;
		d->gap = RTP_DTMF_GAP;
	}
	return true;
}

/* What the caller hears from us (prompts, music) is the "write" side of
 * its recordings (mixmon side 1), in place of the callee's audio; each
 * switch between the two starts a new stream on the timeline. */
static void monitor_heard(struct leg *a, uint32_t ts, const int16_t *pcm, size_t n)
{
	struct rtp_relay *r = a->r;
	bool restart = !a->mon_local;

	if (!r->mon[0] && !r->mon[1])
		return;
	a->mon_local = true;
	for (int i = 0; i < RTP_MON_SLOTS; i++)
		if (r->mon[i])
			mixmon_put(r->mon[i], 1, ts, restart, pcm, n, rtp_now());
}

static void feed_step(struct leg *l)
{
	int16_t pcm[PLAY_FRAME];
	uint8_t pl[PLAY_FRAME];
	enum codec c;
	uint8_t pt;

	play_read(l->feed, pcm);
	if (!audio_pt(l, &c, &pt))
		return;
	if (l->id == RTP_LEG_A && receives(l))
		monitor_heard(l, l->out_ts, pcm, PLAY_FRAME);
	if (c == CODEC_PCMA)
		g711_alaw_encode_buf(pl, pcm, PLAY_FRAME);
	else
		g711_ulaw_encode_buf(pl, pcm, PLAY_FRAME);
	send_local(l, pt, l->marker, l->out_ts, pl, PLAY_FRAME);
	l->marker = false;
}

static void leg_tick(struct leg *l, uint64_t now)
{
	if (!l->out_local)
		local_start(l, now);
	else
		l->out_ts += PLAY_FRAME;
	l->out_ms = now;
	if (!dout_step(l) && l->feed)
		feed_step(l);
}

static void on_tick(void *arg)
{
	uint64_t now = rtp_now(), due, frames;

	(void)arg;
	if (now < tk.t0 + tk.done * RTP_TICK_MS) {      /* a clock set back (tests) */
		tk.t0 = now;
		tk.done = 0;
	}
	due = (now - tk.t0) / RTP_TICK_MS;
	if (due <= tk.done) {
		tick_arm(now);          /* early */
		return;
	}
	frames = due - tk.done;
	if (frames > MAX_CATCHUP) {
		uint32_t skip = (uint32_t)(frames - MAX_CATCHUP) * PLAY_FRAME;
		for (struct leg *l = tk.head; l; l = l->tnext)
			if (l->out_local)
				l->out_ts += skip;
		log_debug("rtp: media ticker %llu frames late, skipped some",
			  (unsigned long long)frames);
		frames = MAX_CATCHUP;
	}
	while (frames--) {
		struct leg *l = tk.head, *next;

		play_tick();
		for (; l; l = next) {
			next = l->tnext;
			leg_tick(l, now);
			if (!needs_tick(l))
				leg_tick_off(l);
		}
	}
	tk.done = due;
	if (tk.n)
		tick_arm(now);
}

/* ================================================================
 * Feeding and sending digits
 * ================================================================ */

int rtp_relay_feed(struct rtp_relay *r, enum rtp_leg_id leg, struct player *p)
{
	struct leg *l;
	enum codec c;
	uint8_t pt;

	if (!r)
		return EINVAL;
	l = &r->leg[leg & 1];
	if (p && !audio_pt(l, &c, &pt))
		return ENOTSUP;
	if (p == l->feed)
		return 0;
	mem_deref(l->feed);
	l->feed = mem_ref(p);
	if (l->feed)
		leg_tick_on(l);
	else if (!needs_tick(l))
		leg_tick_off(l);
	return 0;
}

struct player *rtp_relay_feeder(const struct rtp_relay *r, enum rtp_leg_id leg)
{
	return r ? r->leg[leg & 1].feed : NULL;
}

int rtp_relay_dtmf_send(struct rtp_relay *r, enum rtp_leg_id leg, const char *digits,
			uint32_t ms)
{
	struct leg *l;
	size_t n;

	if (!r || !digits)
		return EINVAL;
	l = &r->leg[leg & 1];
	if (l->codec_pt[CODEC_TELEVENT] == 0xff)
		return ENOTSUP;
	n = strlen(digits);
	for (size_t i = 0; i < n; i++)
		if (dtmf_event(digits[i]) < 0)
			return EINVAL;
	if (l->dout.qn + n > RTP_DTMF_QUEUE)
		return ENOSPC;
	if (!ms)
		ms = RTP_DTMF_MS;
	ms = ms < 40 ? 40 : ms > 5000 ? 5000 : ms;
	for (size_t i = 0; i < n; i++) {
		l->dout.q_ev[l->dout.qn] = (uint8_t)dtmf_event(digits[i]);
		l->dout.q_ms[l->dout.qn++] = (uint16_t)ms;
	}
	if (n)
		leg_tick_on(l);
	return 0;
}

/* ================================================================
 * Receiving: DTMF, in-band tones, recording
 * ================================================================ */

static void push_event(struct leg *l, char digit, enum dtmf_ev ev, uint32_t ms)
{
	if (ev == DTMF_END)
		l->st.dtmf_rx++;
	if (npend == PENDING_MAX) {
		log_warn("rtp: port %u: too many DTMF events in one batch, dropped", l->port);
		return;
	}
	pend[npend++] = (struct pending){ l->r, l->id, digit, ev, ms };
}

static void on_4733(char digit, enum dtmf_ev ev, uint32_t ms, void *arg)
{
	push_event(arg, digit, ev, ms);
}

static void on_inband(void *user, int code, int level, int delay)
{
	struct leg *l = user;

	(void)level;
	(void)delay;
	if (code) {
		if (l->ib_digit)
			push_event(l, l->ib_digit, DTMF_END,
				   (uint32_t)((l->ib_samples - l->ib_start) * 1000 / SOUND_RATE));
		l->ib_digit = (char)code;
		l->ib_start = l->ib_samples;
		push_event(l, (char)code, DTMF_BEGIN, 0);
	} else if (l->ib_digit) {
		push_event(l, l->ib_digit, DTMF_END,
			   (uint32_t)((l->ib_samples - l->ib_start) * 1000 / SOUND_RATE));
		l->ib_digit = 0;
	}
}

static void record(struct leg *l, uint32_t ts, bool restart, const int16_t *pcm, size_t n)
{
	uint32_t t;
	int32_t gap;

	if (!l->rec_init) {
		l->rec_init = true;
		l->rec_off = 0;
		l->rec_next = ts;
	} else if (restart) {
		l->rec_off = l->rec_next - ts;  /* a new stream continues ours */
	}
	t = ts + l->rec_off;
	gap = (int32_t)(t - l->rec_next);
	if (gap < 0)
		return;                         /* late or duplicate */
	if (gap > 0)
		rec_silence(l->rec, gap > MAX_GAP ? MAX_GAP : (size_t)gap);
	rec_write(l->rec, pcm, n);
	l->rec_next = t + (uint32_t)n;
}

void rtp_local_rx(struct leg *l, uint8_t pt, uint32_t ts, bool restart,
		  const uint8_t *pl, size_t plen)
{
	enum codec c = l->conf.npts ? (enum codec)l->pt_codec[pt] : codec_by_static_pt(pt);
	int16_t pcm[2048];

	if (restart && l->r->dh)
		dtmf_rx4733_reset(&l->dtmf, SOUND_RATE, on_4733, l);
	if (c == CODEC_NONE)
		return;                 /* not negotiated: the relay drops it */
	if (c == CODEC_TELEVENT) {
		if (l->r->dh && !l->inband)     /* in-band: the tones count, once */
			dtmf_rx4733_packet(&l->dtmf, pl, plen, ts, SOUND_RATE, on_4733, l);
		return;
	}
	if (l->r->dh)
		dtmf_rx4733_audio(&l->dtmf, ts, SOUND_RATE, on_4733, l);
	if ((c != CODEC_PCMA && c != CODEC_PCMU) || !plen ||
	    (!l->inband && !l->rec && !l->r->mon[0] && !l->r->mon[1]))
		return;
	if (plen > sizeof(pcm) / sizeof(pcm[0]))
		plen = sizeof(pcm) / sizeof(pcm[0]);
	if (c == CODEC_PCMA)
		g711_alaw_decode_buf(pcm, pl, plen);
	else
		g711_ulaw_decode_buf(pcm, pl, plen);
	if (l->inband) {
		dtmf_rx(l->inband, pcm, (int)plen);
		l->ib_samples += plen;
	}
	if (l->rec)
		record(l, ts, restart, pcm, plen);
	if (l->id == RTP_LEG_B && l->r->leg[RTP_LEG_A].feed)
		return;         /* the caller hears our prompts, not the callee */
	if (l->id == RTP_LEG_B && l->r->leg[RTP_LEG_A].mon_local) {
		l->r->leg[RTP_LEG_A].mon_local = false;
		restart = true;
	}
	for (int i = 0; i < RTP_MON_SLOTS; i++)
		if (l->r->mon[i])
			mixmon_put(l->r->mon[i], l->id, ts, restart, pcm, plen, rtp_now());
}

void rtp_local_deliver(void)
{
	size_t n = npend;

	npend = 0;
	for (size_t i = 0; i < n; i++) {
		struct pending *e = &pend[i];
		struct rtp_relay *r = e->r;

		if (!r)
			continue;
		mem_ref(r);
		if (r->dh)
			r->dh(r, e->leg, e->digit, e->ev, e->ms, r->darg);
		mem_deref(r);
	}
}

void rtp_relay_dtmf_handler(struct rtp_relay *r, rtp_dtmf_h *h, void *arg)
{
	r->dh = h;
	r->darg = arg;
}

int rtp_relay_dtmf_inband(struct rtp_relay *r, enum rtp_leg_id leg, bool on)
{
	struct leg *l = &r->leg[leg & 1];

	if (on && !l->inband) {
		l->inband = dtmf_rx_init(NULL, NULL, NULL);
		if (!l->inband)
			return ENOMEM;
		dtmf_rx_set_realtime_callback(l->inband, on_inband, l);
		l->ib_digit = 0;
	} else if (!on && l->inband) {
		dtmf_rx_free(l->inband);
		l->inband = NULL;
	}
	return 0;
}

void rtp_relay_dtmf_relay(struct rtp_relay *r, enum rtp_leg_id leg, bool relay)
{
	r->leg[leg & 1].dtmf_norelay = !relay;
}

int rtp_relay_record(struct rtp_relay *r, enum rtp_leg_id leg, struct rec *rec)
{
	struct leg *l;

	if (!r)
		return EINVAL;
	l = &r->leg[leg & 1];
	mem_deref(l->rec);
	l->rec = mem_ref(rec);
	l->rec_init = false;
	return 0;
}

int rtp_relay_monitor(struct rtp_relay *r, unsigned slot, struct mixmon *m)
{
	if (!r || slot >= RTP_MON_SLOTS)
		return EINVAL;
	mem_deref(r->mon[slot]);
	r->mon[slot] = mem_ref(m);
	return 0;
}

/* ================================================================
 * Teardown
 * ================================================================ */

void rtp_local_shut(struct rtp_relay *r)
{
	for (int i = 0; i < 2; i++) {
		struct leg *l = &r->leg[i];

		leg_tick_off(l);
		l->feed = mem_deref(l->feed);
		l->rec = mem_deref(l->rec);
		memset(&l->dout, 0, sizeof(l->dout));
		if (l->inband)
			dtmf_rx_free(l->inband);
		l->inband = NULL;
	}
	for (int i = 0; i < RTP_MON_SLOTS; i++)
		r->mon[i] = mem_deref(r->mon[i]);
	for (size_t i = 0; i < npend; i++)
		if (pend[i].r == r)
			pend[i].r = NULL;
	r->dh = NULL;
}

void rtp_local_close(void)
{
	while (tk.head)
		leg_tick_off(tk.head);
	tmr_cancel(&tk.tmr);
	npend = 0;
}
