/**
 * @file test_media.c  Local media on relay legs over loopback sockets with
 * a driven clock: prompts fed to a leg and back to relaying (one valid
 * stream throughout), DTMF in (RFC 4733 and in-band) and out, recording.
 *
 * The ticker is driven with loop_test_advance(); relayed packets need
 * pump() (loop_run), which brings the clock back to real time, so a test
 * never pumps while it counts ticks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <spandsp/telephony.h>
#include <spandsp/complex.h>
#include <spandsp/logging.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>

#include "core/conf.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/g711.h"
#include "media/play.h"
#include "media/rec.h"
#include "media/rtp.h"
#include "media/sound.h"
#include "sndfix.h"
#include "suites.h"

static size_t mem_before;

struct phone {
	int fd;
	struct sockaddr_storage sa;
};

struct pkt {
	ssize_t n;
	uint8_t b[400];
	uint8_t pt;
	bool m;
	uint16_t seq;
	uint32_t ts, ssrc;
};

static void phone_open(struct phone *p)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&p->sa;
	socklen_t l = sizeof(p->sa);

	memset(&p->sa, 0, sizeof(p->sa));
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(p->fd >= 0);
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(p->fd, (struct sockaddr *)in, sizeof(*in)), 0);
	assert_int_equal(getsockname(p->fd, (struct sockaddr *)&p->sa, &l), 0);
}

static void stop_cb(void *arg)
{
	(void)arg;
	loop_stop();
}

/* Run the loop a few milliseconds so the relay reads what is queued. */
static void pump(void)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, 3, stop_cb, NULL);
	loop_run();
	tmr_cancel(&t);
}

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void send_rtp(const struct phone *p, const struct sockaddr_storage *dst, uint8_t pt,
		     bool m, uint16_t seq, uint32_t ts, uint32_t ssrc, const uint8_t *pl,
		     size_t n)
{
	uint8_t b[400];

	b[0] = 0x80;
	b[1] = (uint8_t)((m ? 0x80 : 0) | pt);
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	memcpy(b + 12, pl, n);
	assert_int_equal(sendto(p->fd, b, 12 + n, 0, (const struct sockaddr *)dst,
				sizeof(struct sockaddr_in)), (ssize_t)(12 + n));
}

/* An A-law frame of constant v from phone p. */
static void send_alaw(const struct phone *p, const struct sockaddr_storage *dst,
		      uint16_t seq, uint32_t ts, uint32_t ssrc, int16_t v)
{
	uint8_t pl[160];

	memset(pl, g711_alaw_encode(v), sizeof(pl));
	send_rtp(p, dst, 8, false, seq, ts, ssrc, pl, sizeof(pl));
}

/* The next datagram for p, if one is queued (no waiting: the ticker
 * sends synchronously, pump() has returned). */
static bool recv_pkt(const struct phone *p, struct pkt *k)
{
	k->n = recv(p->fd, k->b, sizeof(k->b), MSG_DONTWAIT);
	if (k->n < 12)
		return false;
	k->m = k->b[1] & 0x80;
	k->pt = k->b[1] & 0x7f;
	k->seq = g16(k->b + 2);
	k->ts = g32(k->b + 4);
	k->ssrc = g32(k->b + 8);
	return true;
}

static void drain(const struct phone *p)
{
	struct pkt k;

	while (recv_pkt(p, &k))
		;
}

static int16_t alaw_at(const struct pkt *k, size_t i)
{
	return g711_alaw_decode(k->b[12 + i]);
}

static const struct sdp_pt alaw_te[] = { { 8, CODEC_PCMA }, { 101, CODEC_TELEVENT } };
static const struct sdp_pt ulaw_te[] = { { 0, CODEC_PCMU }, { 96, CODEC_TELEVENT } };
static const struct sdp_pt g729_only[] = { { 18, CODEC_G729 } };

static struct rtp_leg_conf leg_conf(const struct phone *p, const struct sdp_pt *pts,
				    size_t n, enum sdp_dir dir)
{
	struct rtp_leg_conf c;

	memset(&c, 0, sizeof(c));
	c.rtp = p->sa;
	memcpy(c.pts, pts, n * sizeof(pts[0]));
	c.npts = n;
	c.dir = dir;
	return c;
}

static struct rtp_relay *mk_relay(const struct phone *a, const struct phone *b,
				  const struct sdp_pt *pa, size_t na,
				  const struct sdp_pt *pb, size_t nb)
{
	struct rtp_relay *r = NULL;
	struct rtp_leg_conf c;

	assert_int_equal(rtp_relay_alloc(&r, &a->sa, &b->sa), 0);
	c = leg_conf(a, pa, na, SDP_SENDRECV);
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &c), 0);
	c = leg_conf(b, pb, nb, SDP_SENDRECV);
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_B, &c), 0);
	return r;
}

static struct sockaddr_storage relay_addr(const struct rtp_relay *r, enum rtp_leg_id leg)
{
	struct sockaddr_storage sa;

	rtp_relay_local(r, leg, &sa);
	return sa;
}

static int setup(void **state)
{
	static const char cf[] = "[general]\nrtpstart=47200\nrtpend=47239\n";
	struct conf *c = NULL;
	char err[128];

	(void)state;
	mem_before = mem_live();
	assert_int_equal(loop_init(), 0);
	assert_int_equal(conf_parse_buf(&c, NULL, "rtp.conf", cf, sizeof(cf) - 1, err,
					sizeof(err)), 0);
	assert_int_equal(rtp_init(c), 0);
	conf_free(c);
	sndfix_open();
	sndfix_mkdirs("sys");
	assert_int_equal(sound_init(NULL, sndfix_path("sys"), 0), 0);
	loop_now_update();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(rtp_relay_count(), 0);
	assert_int_equal(rtp_local_legs(), 0);
	rtp_close();
	sound_close();
	sndfix_close();
	loop_close();
	assert_int_equal(mem_live(), mem_before);
	return 0;
}

static int dones;
static void on_done(struct player *p, void *arg)
{
	(void)p;
	(void)arg;
	dones++;
}

/* ---- feeding a leg ---- */

static void t_feed_and_back(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct sockaddr_storage rb;
	struct player *p;
	struct pkt k, prev;
	const struct rtp_leg_stats *sb;

	(void)state;
	phone_open(&a);
	phone_open(&b);
	r = mk_relay(&a, &b, alaw_te, 2, ulaw_te, 2);
	rb = relay_addr(r, RTP_LEG_B);
	/* relaying: B talks, A hears it */
	for (int i = 0; i < 3; i++)
		send_rtp(&b, &rb, 0, false, (uint16_t)(100 + i), 5000 + 160u * i, 0xB,
			 (const uint8_t[160]){ 0 }, 160);
	pump();
	for (int i = 0; i < 3; i++)
		assert_true(recv_pkt(&a, &k));
	prev = k;
	assert_int_equal(k.pt, 8);
	/* a prompt of 400 samples fed to A */
	sndfix_const("sys/es/hola.wav", 400, 1000);
	assert_int_equal(player_alloc(&p, on_done, NULL), 0);
	assert_int_equal(play_file(p, "es", "hola"), 0);
	dones = 0;
	assert_int_equal(rtp_relay_feed(r, RTP_LEG_A, p), 0);
	assert_ptr_equal(rtp_relay_feeder(r, RTP_LEG_A), p);
	assert_int_equal(rtp_local_legs(), 1);
	for (int i = 0; i < 4; i++) {
		loop_test_advance(RTP_TICK_MS);
		assert_true(recv_pkt(&a, &k));
		assert_int_equal(k.n, 12 + 160);
		assert_int_equal(k.pt, 8);              /* A negotiated PCMA */
		assert_int_equal(k.ssrc, prev.ssrc);
		assert_int_equal(k.seq, (uint16_t)(prev.seq + 1));
		if (i == 0) {
			assert_true(k.m);               /* a new talkspurt */
			assert_true(k.ts - prev.ts >= 160 && k.ts - prev.ts < 0x80000000u);
		} else {
			assert_false(k.m);
			assert_int_equal(k.ts, prev.ts + 160);
		}
		if (i < 2) {
			assert_int_equal(alaw_at(&k, 0), g711_alaw_decode(g711_alaw_encode(1000)));
			assert_int_equal(alaw_at(&k, 159), alaw_at(&k, 0));
		} else if (i == 2) {
			assert_int_equal(alaw_at(&k, 79), alaw_at(&prev, 0));
			assert_true(alaw_at(&k, 80) > -16 && alaw_at(&k, 80) < 16);
		} else {
			assert_true(alaw_at(&k, 0) > -16 && alaw_at(&k, 0) < 16);  /* idle: silence */
		}
		prev = k;
	}
	assert_int_equal(dones, 1);                     /* the prompt ended */
	sb = rtp_relay_stats(r, RTP_LEG_A);
	assert_int_equal(sb->tx_local, 4);
	/* B keeps talking while A hears the prompt: not relayed */
	send_rtp(&b, &rb, 0, false, 103, 5480, 0xB, (const uint8_t[160]){ 0 }, 160);
	pump();
	assert_false(recv_pkt(&a, &k));
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_B)->rx_muted, 1);
	/* back to relaying: the same stream goes on */
	assert_int_equal(rtp_relay_feed(r, RTP_LEG_A, NULL), 0);
	assert_int_equal(rtp_local_legs(), 0);
	assert_int_equal(tmr_count(), 0);               /* the ticker stopped */
	send_rtp(&b, &rb, 0, false, 104, 5640, 0xB, (const uint8_t[160]){ 0 }, 160);
	send_rtp(&b, &rb, 0, false, 105, 5800, 0xB, (const uint8_t[160]){ 0 }, 160);
	pump();
	assert_true(recv_pkt(&a, &k));
	assert_int_equal(k.ssrc, prev.ssrc);
	assert_int_equal(k.seq, (uint16_t)(prev.seq + 1));
	assert_true(k.m);
	assert_true(k.ts - prev.ts >= 160 && k.ts - prev.ts < 0x80000000u);
	prev = k;
	assert_true(recv_pkt(&a, &k));
	assert_int_equal(k.seq, (uint16_t)(prev.seq + 1));
	assert_int_equal(k.ts, prev.ts + 160);
	assert_false(k.m);
	/* and fed again: continues once more */
	loop_now_update();
	assert_int_equal(rtp_relay_feed(r, RTP_LEG_A, p), 0);
	loop_test_advance(RTP_TICK_MS);
	prev = k;
	assert_true(recv_pkt(&a, &k));
	assert_int_equal(k.seq, (uint16_t)(prev.seq + 1));
	assert_true(k.m);
	assert_int_equal(k.ssrc, prev.ssrc);
	rtp_relay_free(r);                              /* drops the feed too */
	assert_int_equal(rtp_local_legs(), 0);
	mem_deref(p);
	close(a.fd);
	close(b.fd);
}

static void t_feed_codecs_and_hold(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct rtp_leg_conf c;
	struct player *p;
	struct pkt k, prev;

	(void)state;
	phone_open(&a);
	phone_open(&b);
	assert_int_equal(player_alloc(&p, NULL, NULL), 0);
	assert_int_equal(play_tone(p, "1000", 0), 0);
	/* mu-law leg: PT 0 */
	r = mk_relay(&a, &b, ulaw_te, 2, g729_only, 1);
	assert_int_equal(rtp_relay_feed(r, RTP_LEG_A, p), 0);
	/* a leg we cannot encode for */
	assert_int_equal(rtp_relay_feed(r, RTP_LEG_B, p), ENOTSUP);
	assert_null(rtp_relay_feeder(r, RTP_LEG_B));
	loop_test_advance(RTP_TICK_MS);
	assert_true(recv_pkt(&a, &k));
	assert_int_equal(k.pt, 0);
	assert_false(recv_pkt(&b, &k));
	/* A holds (sendonly: it does not receive): nothing is sent, the
	 * clock runs; off hold the timestamps show the time passed */
	prev = k;
	c = leg_conf(&a, ulaw_te, 2, SDP_SENDONLY);
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &c), 0);
	for (int i = 0; i < 10; i++)
		loop_test_advance(RTP_TICK_MS);
	assert_false(recv_pkt(&a, &k));
	c.dir = SDP_SENDRECV;
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &c), 0);
	loop_test_advance(RTP_TICK_MS);
	assert_true(recv_pkt(&a, &k));
	assert_int_equal(k.seq, (uint16_t)(prev.seq + 1));
	assert_int_equal(k.ts, prev.ts + 11 * 160);
	rtp_relay_free(r);
	/* three fed calls, one timer */
	{
		struct rtp_relay *rs[3];
		for (int i = 0; i < 3; i++) {
			rs[i] = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
			assert_int_equal(rtp_relay_feed(rs[i], RTP_LEG_A, p), 0);
			assert_int_equal(rtp_relay_feed(rs[i], RTP_LEG_B, p), 0);
		}
		assert_int_equal(rtp_local_legs(), 6);
		assert_int_equal(tmr_count(), 1);
		loop_test_advance(RTP_TICK_MS);
		for (int i = 0; i < 3; i++) {
			assert_true(recv_pkt(&a, &k));
			assert_true(recv_pkt(&b, &k));
		}
		/* a late timer: the frames owed are sent, at most 3 */
		loop_test_advance(0);
		drain(&a);
		for (int i = 0; i < 3; i++)
			rtp_relay_free(rs[i]);
	}
	drain(&b);
	/* a transparent leg (no PT list): PCMU/0 */
	{
		struct rtp_leg_conf t;
		assert_int_equal(rtp_relay_alloc(&r, &a.sa, &b.sa), 0);
		memset(&t, 0, sizeof(t));
		t.rtp = a.sa;
		assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &t), 0);
		assert_int_equal(rtp_relay_feed(r, RTP_LEG_A, p), 0);
		loop_test_advance(RTP_TICK_MS);
		assert_true(recv_pkt(&a, &k));
		assert_int_equal(k.pt, 0);
		rtp_relay_free(r);
	}
	mem_deref(p);
	close(a.fd);
	close(b.fd);
}

static void t_catch_up(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct player *p;
	struct pkt k, prev;
	uint32_t first;
	int n = 0;

	(void)state;
	phone_open(&a);
	phone_open(&b);
	assert_int_equal(player_alloc(&p, NULL, NULL), 0);
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	assert_int_equal(rtp_relay_feed(r, RTP_LEG_A, p), 0);
	loop_test_advance(RTP_TICK_MS);
	assert_true(recv_pkt(&a, &prev));
	first = prev.ts;
	/* the loop was busy for 200 ms: 3 frames now, the rest skipped */
	rtp_test_clock_skew(200);
	loop_test_advance(RTP_TICK_MS);
	while (recv_pkt(&a, &k)) {
		assert_int_equal(k.seq, (uint16_t)(prev.seq + 1));
		n++;
		prev = k;
	}
	assert_int_equal(n, 3);
	/* the timestamps cover the whole time: 11 frames since the first */
	assert_int_equal(prev.ts - first, 11 * 160);
	loop_test_advance(RTP_TICK_MS);
	assert_true(recv_pkt(&a, &k));
	assert_int_equal(k.ts - prev.ts, 160);
	rtp_test_clock_skew(-200);
	rtp_relay_free(r);
	mem_deref(p);
	close(a.fd);
	close(b.fd);
}

/* ---- DTMF in ---- */

struct dev {
	enum rtp_leg_id leg;
	char digit;
	enum dtmf_ev ev;
	uint32_t ms;
};
static struct dev devs[64];
static size_t ndev;
static bool free_on_end;

static void on_dtmf(struct rtp_relay *r, enum rtp_leg_id leg, char digit, enum dtmf_ev ev,
		    uint32_t ms, void *arg)
{
	(void)arg;
	if (ndev < 64)
		devs[ndev++] = (struct dev){ leg, digit, ev, ms };
	if (free_on_end && ev == DTMF_END)
		rtp_relay_free(r);              /* the caller hung up, say */
}

static void send_key(const struct phone *p, const struct sockaddr_storage *dst, uint8_t pt,
		     uint8_t ev, uint16_t *seq, uint32_t ts, uint16_t dur)
{
	uint8_t pl[4];

	for (uint16_t d = 160; d < dur; d += 160) {
		pl[0] = ev;
		pl[1] = 10;
		pl[2] = (uint8_t)(d >> 8);
		pl[3] = (uint8_t)d;
		send_rtp(p, dst, pt, d == 160, (*seq)++, ts, 0xA, pl, 4);
	}
	for (int i = 0; i < 3; i++) {
		pl[0] = ev;
		pl[1] = 0x80 | 10;
		pl[2] = (uint8_t)(dur >> 8);
		pl[3] = (uint8_t)dur;
		send_rtp(p, dst, pt, false, (*seq)++, ts, 0xA, pl, 4);
	}
}

static void t_dtmf_in(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct sockaddr_storage ra;
	struct pkt k;
	uint16_t seq = 1;
	int n = 0;

	(void)state;
	phone_open(&a);
	phone_open(&b);
	r = mk_relay(&a, &b, alaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	ndev = 0;
	free_on_end = false;
	rtp_relay_dtmf_handler(r, on_dtmf, NULL);
	send_alaw(&a, &ra, seq++, 0, 0xA, 0);
	send_key(&a, &ra, 101, 5, &seq, 160, 800);
	pump();
	assert_int_equal(ndev, 2);
	assert_int_equal(devs[0].leg, RTP_LEG_A);
	assert_int_equal(devs[0].digit, '5');
	assert_int_equal(devs[0].ev, DTMF_BEGIN);
	assert_int_equal(devs[1].ev, DTMF_END);
	assert_int_equal(devs[1].ms, 100);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->dtmf_rx, 1);
	/* relayed to B as well, under B's telephone-event PT */
	while (recv_pkt(&b, &k)) {
		if (k.pt == 96)
			n++;
	}
	assert_int_equal(n, 7);
	/* kept local: decoded, not relayed */
	rtp_relay_dtmf_relay(r, RTP_LEG_A, false);
	send_key(&a, &ra, 101, 11, &seq, 2000, 480);
	pump();
	assert_int_equal(ndev, 4);
	assert_int_equal(devs[3].digit, '#');
	assert_false(recv_pkt(&b, &k));
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->rx_muted, 5);
	/* a handler that frees the relay: later events are not delivered */
	free_on_end = true;
	send_key(&a, &ra, 101, 1, &seq, 4000, 320);
	send_key(&a, &ra, 101, 2, &seq, 6000, 320);
	pump();
	assert_int_equal(ndev, 6);                      /* '1' begin, end: then freed */
	assert_int_equal(rtp_relay_count(), 0);
	close(a.fd);
	close(b.fd);
}

static void t_dtmf_inband(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct sockaddr_storage ra;
	dtmf_tx_state_t *tx;
	int16_t pcm[160];
	uint8_t pl[160];
	uint16_t seq = 1;

	(void)state;
	phone_open(&a);
	phone_open(&b);
	r = mk_relay(&a, &b, alaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	ndev = 0;
	free_on_end = false;
	rtp_relay_dtmf_handler(r, on_dtmf, NULL);
	assert_int_equal(rtp_relay_dtmf_inband(r, RTP_LEG_A, true), 0);
	/* the phone plays "59" as tones in its audio (spandsp's generator) */
	tx = dtmf_tx_init(NULL);
	dtmf_tx_put(tx, "59", -1);
	for (int i = 0; i < 30; i++) {
		int got = dtmf_tx(tx, pcm, 160);
		if (got < 160)
			memset(pcm + got, 0, (size_t)(160 - got) * sizeof(pcm[0]));
		g711_alaw_encode_buf(pl, pcm, 160);
		send_rtp(&a, &ra, 8, false, seq++, 160u * (uint32_t)i, 0xA, pl, 160);
		if (i % 8 == 7)
			pump();
	}
	dtmf_tx_free(tx);
	pump();
	assert_int_equal(ndev, 4);
	assert_int_equal(devs[0].digit, '5');
	assert_int_equal(devs[0].ev, DTMF_BEGIN);
	assert_int_equal(devs[1].digit, '5');
	assert_int_equal(devs[1].ev, DTMF_END);
	assert_true(devs[1].ms >= 20);
	assert_int_equal(devs[3].digit, '9');
	assert_int_equal(devs[3].ev, DTMF_END);
	assert_int_equal(rtp_relay_dtmf_inband(r, RTP_LEG_A, false), 0);
	rtp_relay_free(r);
	close(a.fd);
	close(b.fd);
}

/* ---- DTMF out ---- */

static void t_dtmf_out(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct player *p;
	struct pkt k, prev;
	uint32_t ts1 = 0;

	(void)state;
	phone_open(&a);
	phone_open(&b);
	r = mk_relay(&a, &b, alaw_te, 2, g729_only, 1);
	assert_int_equal(rtp_relay_dtmf_send(r, RTP_LEG_B, "1", 0), ENOTSUP);
	assert_int_equal(rtp_relay_dtmf_send(r, RTP_LEG_A, "1x", 0), EINVAL);
	assert_int_equal(rtp_relay_dtmf_send(r, RTP_LEG_A, "123456789012345678901234567890123",
					     0), ENOSPC);
	assert_int_equal(rtp_local_legs(), 0);
	assert_int_equal(rtp_relay_dtmf_send(r, RTP_LEG_A, "1#", 100), 0);
	/* '1': 100 ms = 800 units: updates 160..640, end 800 three times */
	for (int i = 0; i < 7; i++) {
		loop_test_advance(RTP_TICK_MS);
		assert_true(recv_pkt(&a, &k));
		assert_int_equal(k.pt, 101);
		assert_int_equal(k.n, 16);
		assert_int_equal(k.b[12], 1);
		if (i == 0) {
			assert_true(k.m);
			ts1 = k.ts;
		} else {
			assert_false(k.m);
			assert_int_equal(k.seq, (uint16_t)(prev.seq + 1));
			assert_int_equal(k.ts, ts1);
		}
		assert_int_equal(g16(k.b + 14), i < 5 ? 160 * (i + 1) : 800);
		assert_int_equal(!!(k.b[13] & 0x80), i >= 4);
		prev = k;
	}
	/* a pause of three frames, then '#' */
	for (int i = 0; i < 3; i++) {
		loop_test_advance(RTP_TICK_MS);
		assert_false(recv_pkt(&a, &k));
	}
	loop_test_advance(RTP_TICK_MS);
	assert_true(recv_pkt(&a, &k));
	assert_int_equal(k.b[12], 11);
	assert_true(k.m);
	assert_int_equal(k.seq, (uint16_t)(prev.seq + 1));
	assert_int_equal(k.ts, ts1 + 10 * 160);
	for (int i = 0; i < 6; i++)
		loop_test_advance(RTP_TICK_MS);
	drain(&a);
	assert_int_equal(rtp_local_legs(), 0);         /* done: back to relaying */
	/* digits during a prompt: the audio pauses, its clock does not */
	assert_int_equal(player_alloc(&p, NULL, NULL), 0);
	assert_int_equal(play_tone(p, "1000", 0), 0);
	assert_int_equal(rtp_relay_feed(r, RTP_LEG_A, p), 0);
	loop_test_advance(RTP_TICK_MS);
	assert_true(recv_pkt(&a, &prev));
	assert_int_equal(prev.pt, 8);
	assert_int_equal(rtp_relay_dtmf_send(r, RTP_LEG_A, "7", 40), 0);
	for (int i = 0; i < 4; i++) {           /* 40 ms: an update, the end 3 times */
		loop_test_advance(RTP_TICK_MS);
		assert_true(recv_pkt(&a, &k));
		assert_int_equal(k.pt, 101);
		if (!i)
			assert_int_equal(k.ts, prev.ts + 160);
	}
	loop_test_advance(RTP_TICK_MS);
	assert_true(recv_pkt(&a, &k));
	assert_int_equal(k.pt, 8);                      /* audio again */
	assert_int_equal(k.ts, prev.ts + 5 * 160);
	assert_int_equal(k.seq, (uint16_t)(prev.seq + 5));
	rtp_relay_free(r);
	mem_deref(p);
	close(a.fd);
	close(b.fd);
}

/* ---- recording ---- */

static void read_wav(const char *path, int16_t *buf, size_t max, size_t *n)
{
	SF_INFO info;
	SNDFILE *sf;

	memset(&info, 0, sizeof(info));
	sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal(info.channels, 1);
	*n = (size_t)sf_read_short(sf, buf, (sf_count_t)max);
	sf_close(sf);
}

static bool exists(const char *p)
{
	struct stat st;

	return !stat(p, &st);
}

static void t_record(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct sockaddr_storage ra;
	struct rec *rec;
	int16_t buf[4000];
	size_t n;
	const char *path = sndfix_path("vm/msg0000.wav");
	char part[600];

	(void)state;
	phone_open(&a);
	phone_open(&b);
	sndfix_mkdirs("vm");
	snprintf(part, sizeof(part), "%s.part", path);
	r = mk_relay(&a, &b, alaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	assert_int_equal(rec_open(&rec, path), 0);
	assert_int_equal(rec_open(&rec, path), EEXIST);   /* one writer per file */
	assert_int_equal(rtp_relay_record(r, RTP_LEG_A, rec), 0);
	send_alaw(&a, &ra, 1, 1000, 0xA, 1000);
	send_alaw(&a, &ra, 2, 1160, 0xA, 2000);
	send_alaw(&a, &ra, 4, 1480, 0xA, 3000);            /* one packet lost */
	send_alaw(&a, &ra, 2, 1160, 0xA, 9999);            /* a duplicate */
	pump();
	send_alaw(&a, &ra, 900, 777777, 0xC, 4000);        /* re-INVITE: new stream */
	pump();
	assert_int_equal(rtp_relay_record(r, RTP_LEG_A, NULL), 0);
	assert_true(exists(part));
	assert_false(exists(path));                      /* not yet a message */
	assert_int_equal(rec_samples(rec), 5 * 160);
	assert_int_equal(rec_finish(rec), 0);
	assert_false(exists(part));
	read_wav(path, buf, 4000, &n);
	assert_int_equal(n, 5 * 160);
	assert_int_equal(buf[0], g711_alaw_decode(g711_alaw_encode(1000)));
	assert_int_equal(buf[160], g711_alaw_decode(g711_alaw_encode(2000)));
	assert_int_equal(buf[320], 0);                   /* the lost packet */
	assert_int_equal(buf[480], g711_alaw_decode(g711_alaw_encode(3000)));
	assert_int_equal(buf[640], g711_alaw_decode(g711_alaw_encode(4000)));
	assert_int_equal(rec_finish(rec), EBADF);
	mem_deref(rec);
	assert_true(exists(path));
	/* abandoned (the caller hung up): nothing left */
	assert_int_equal(rec_open(&rec, sndfix_path("vm/msg0001.wav")), 0);
	assert_int_equal(rtp_relay_record(r, RTP_LEG_A, rec), 0);
	send_alaw(&a, &ra, 901, 777937, 0xC, 4000);
	pump();
	rtp_relay_free(r);
	mem_deref(rec);
	assert_false(exists(sndfix_path("vm/msg0001.wav")));
	assert_false(exists(sndfix_path("vm/msg0001.wav.part")));
	/* formats by extension */
	assert_int_equal(rec_open(&rec, sndfix_path("vm/x.mp3")), ENOTSUP);
	assert_int_equal(rec_open(&rec, sndfix_path("vm/x.WAV")), 0);
	assert_int_equal(rec_silence(rec, 1000), 0);
	assert_int_equal(rec_finish(rec), 0);
	mem_deref(rec);
	assert_int_equal(rec_open(&rec, sndfix_path("nodir/x.wav")), ENOENT);
	close(a.fd);
	close(b.fd);
}

static void t_record_disk_full(void **state)
{
	struct rec *rec;
	struct rlimit old, lim;
	int16_t buf[8000];
	void (*prev)(int);
	int err = 0;

	(void)state;
	memset(buf, 0x11, sizeof(buf));
	sndfix_mkdirs("full");
	/* a file size limit stands in for a full disk (EFBIG as ENOSPC) */
	assert_int_equal(rec_open(&rec, sndfix_path("full/m.wav")), 0);
	prev = signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 20000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 5 && !err; i++)
		err = rec_write(rec, buf, 8000);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, prev);
	assert_int_equal(err, EFBIG);
	assert_true(rec_failed(rec));
	assert_int_equal(rec_write(rec, buf, 10), EFBIG);   /* sticky, logged once */
	assert_int_equal(rec_finish(rec), EFBIG);
	mem_deref(rec);
	assert_false(exists(sndfix_path("full/m.wav")));
	assert_false(exists(sndfix_path("full/m.wav.part")));
}

static void t_close_with_media(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct player *p;
	struct rec *rec;

	(void)state;
	phone_open(&a);
	phone_open(&b);
	r = mk_relay(&a, &b, alaw_te, 2, ulaw_te, 2);
	assert_int_equal(player_alloc(&p, NULL, NULL), 0);
	assert_int_equal(rtp_relay_feed(r, RTP_LEG_A, p), 0);
	assert_int_equal(rtp_relay_dtmf_send(r, RTP_LEG_B, "123", 0), 0);
	assert_int_equal(rtp_relay_dtmf_inband(r, RTP_LEG_A, true), 0);
	sndfix_mkdirs("c");
	assert_int_equal(rec_open(&rec, sndfix_path("c/r.wav")), 0);
	assert_int_equal(rtp_relay_record(r, RTP_LEG_B, rec), 0);
	mem_deref(rec);
	rtp_close();                    /* shutdown with all of it running */
	assert_int_equal(rtp_local_legs(), 0);
	assert_int_equal(tmr_count(), 0);
	assert_false(exists(sndfix_path("c/r.wav.part")));
	rtp_relay_free(r);
	mem_deref(p);
	close(a.fd);
	close(b.fd);
	{
		static const char cf[] = "[general]\nrtpstart=47200\nrtpend=47239\n";
		struct conf *c = NULL;
		char err[128];
		assert_int_equal(conf_parse_buf(&c, NULL, "rtp.conf", cf, sizeof(cf) - 1,
						err, sizeof(err)), 0);
		assert_int_equal(rtp_init(c), 0);
		conf_free(c);
	}
}

int test_media_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_feed_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(t_feed_codecs_and_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(t_catch_up, setup, teardown),
		cmocka_unit_test_setup_teardown(t_dtmf_in, setup, teardown),
		cmocka_unit_test_setup_teardown(t_dtmf_inband, setup, teardown),
		cmocka_unit_test_setup_teardown(t_dtmf_out, setup, teardown),
		cmocka_unit_test_setup_teardown(t_record, setup, teardown),
		cmocka_unit_test_setup_teardown(t_record_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(t_close_with_media, setup, teardown),
	};

	return cmocka_run_group_tests_name("media", tests, NULL, NULL);
}
