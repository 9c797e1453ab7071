/**
 * @file test_rtp.c  The RTP relay over real UDP sockets on loopback: two
 * "phones" per test, the loop run in short slices to move packets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conf.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "suites.h"

#define PSTART 47000
#define PEND   47039

static size_t mem_before;
static struct sockaddr_storage lo4;

struct phone {
	int fd;
	struct sockaddr_storage sa;
};

static void phone_open(struct phone *p, int family)
{
	socklen_t l = sizeof(p->sa);

	memset(&p->sa, 0, sizeof(p->sa));
	p->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(p->fd >= 0);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&p->sa;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(p->fd, (struct sockaddr *)in, sizeof(*in)), 0);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&p->sa;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		assert_int_equal(bind(p->fd, (struct sockaddr *)in6, sizeof(*in6)), 0);
	}
	assert_int_equal(getsockname(p->fd, (struct sockaddr *)&p->sa, &l), 0);
}

static uint16_t port_of(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static struct sockaddr_storage with_port(const struct sockaddr_storage *sa, uint16_t port)
{
	struct sockaddr_storage r = *sa;

	if (r.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&r)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&r)->sin_port = htons(port);
	return r;
}

static socklen_t salen(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

static void stop_cb(void *arg)
{
	(void)arg;
	loop_stop();
}

/* Run the loop for a few milliseconds so the relay moves what is queued. */
static void pump(void)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, 3, stop_cb, NULL);
	loop_run();
	tmr_cancel(&t);
}

static void send_raw(const struct phone *p, const struct sockaddr_storage *dst,
		     const void *buf, size_t len)
{
	assert_int_equal(sendto(p->fd, buf, len, 0, (const struct sockaddr *)dst, salen(dst)),
			 (ssize_t)len);
}

static size_t mk_rtp(uint8_t *b, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
		     uint8_t fill, size_t plen)
{
	b[0] = 0x80;
	b[1] = pt;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	for (size_t i = 0; i < plen; i++)
		b[12 + i] = (uint8_t)(fill + i);
	return 12 + plen;
}

static void send_rtp(const struct phone *p, const struct sockaddr_storage *dst,
		     uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	uint8_t b[200];
	size_t n = mk_rtp(b, pt, seq, ts, ssrc, 0, 160);

	send_raw(p, dst, b, n);
}

/* One datagram for p, waiting up to 200 ms; -1 when none. */
static ssize_t recv_pkt(const struct phone *p, uint8_t *buf, size_t size,
			struct sockaddr_storage *src)
{
	struct pollfd pfd = { p->fd, POLLIN, 0 };
	socklen_t l = sizeof(*src);

	if (poll(&pfd, 1, 200) <= 0)
		return -1;
	return recvfrom(p->fd, buf, size, 0, (struct sockaddr *)src, &l);
}

/* Nothing for p within a pump. */
static void expect_none(const struct phone *p)
{
	uint8_t b[64];

	pump();
	assert_true(recv(p->fd, b, sizeof(b), MSG_DONTWAIT) < 0);
}

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static struct rtp_leg_conf leg_conf(const struct sockaddr_storage *rtp,
				    const struct sockaddr_storage *rtcp,
				    const struct sdp_pt *pts, size_t n)
{
	struct rtp_leg_conf c;

	memset(&c, 0, sizeof(c));
	if (rtp)
		c.rtp = *rtp;
	if (rtcp)
		c.rtcp = *rtcp;
	memcpy(c.pts, pts, n * sizeof(pts[0]));
	c.npts = n;
	c.dir = SDP_SENDRECV;
	return c;
}

static const struct sdp_pt ulaw_te[] = { { 0, CODEC_PCMU }, { 101, CODEC_TELEVENT } };
static const struct sdp_pt alaw_te[] = { { 8, CODEC_PCMA }, { 101, CODEC_TELEVENT } };
static const struct sdp_pt ulaw_te96[] = { { 0, CODEC_PCMU }, { 96, CODEC_TELEVENT } };

/* A relay between phones a and b on loopback with the given PT lists. */
static struct rtp_relay *mk_relay(const struct phone *a, const struct phone *b,
				  const struct sdp_pt *pa, size_t na,
				  const struct sdp_pt *pb, size_t nb)
{
	struct rtp_relay *r = NULL;
	struct rtp_leg_conf c;

	assert_int_equal(rtp_relay_alloc(&r, &a->sa, &b->sa), 0);
	c = leg_conf(&a->sa, NULL, pa, na);
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &c), 0);
	c = leg_conf(&b->sa, NULL, pb, nb);
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_B, &c), 0);
	return r;
}

static struct sockaddr_storage relay_addr(const struct rtp_relay *r, enum rtp_leg_id leg)
{
	struct sockaddr_storage sa;

	rtp_relay_local(r, leg, &sa);
	return sa;
}

static int init_pool(void)
{
	static const char cf[] = "[general]\nrtpstart=47000\nrtpend=47039\n";
	struct conf *c = NULL;
	char err[128];
	int e;

	if (conf_parse_buf(&c, NULL, "rtp.conf", cf, sizeof(cf) - 1, err, sizeof(err)))
		return -1;
	e = rtp_init(c);
	conf_free(c);
	return e;
}

static int setup(void **state)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&lo4;

	(void)state;
	mem_before = mem_live();
	memset(&lo4, 0, sizeof(lo4));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(loop_init(), 0);
	assert_int_equal(init_pool(), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(rtp_relay_count(), 0);
	assert_int_equal(rtp_ports_in_use(), 0);
	rtp_close();
	loop_close();
	assert_int_equal(mem_live(), mem_before);
	return 0;
}

/* ---- ports ---- */

static void t_ports(void **state)
{
	struct rtp_relay *r[12] = { NULL };
	struct sockaddr_storage b;
	int fd, err;
	size_t n = 0;

	(void)state;
	assert_int_equal(rtp_ports_total(), 20);
	/* someone else holds 47004: that pair is skipped */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	b = with_port(&lo4, 47004);
	assert_int_equal(bind(fd, (struct sockaddr *)&b, sizeof(struct sockaddr_in)), 0);
	while ((err = rtp_relay_alloc(&r[n], &lo4, &lo4)) == 0) {
		uint16_t pa = rtp_relay_port(r[n], RTP_LEG_A);
		uint16_t pb = rtp_relay_port(r[n], RTP_LEG_B);
		assert_int_equal(pa % 2, 0);
		assert_true(pa >= PSTART && pb + 1 <= PEND && pa != 47004 && pb != 47004);
		n++;
		assert_true(n < 12);
	}
	assert_int_equal(err, EADDRINUSE);
	assert_int_equal(n, 9);                  /* 19 usable pairs, 2 a relay */
	assert_int_equal(rtp_ports_in_use(), 18);
	/* freed pairs go back to the pool */
	r[0] = rtp_relay_free(r[0]);
	assert_int_equal(rtp_ports_in_use(), 16);
	assert_int_equal(rtp_relay_alloc(&r[0], &lo4, &lo4), 0);
	assert_int_equal(rtp_ports_in_use(), 18);
	for (size_t i = 0; i < n; i++)
		r[i] = rtp_relay_free(r[i]);
	assert_int_equal(rtp_ports_in_use(), 0);
	close(fd);
	/* a local address of another family than the SDP is refused cleanly */
	memset(&b, 0, sizeof(b));
	b.ss_family = AF_UNIX;
	assert_int_equal(rtp_relay_alloc(&r[0], &lo4, &b), EAFNOSUPPORT);
	assert_int_equal(rtp_ports_in_use(), 0);
	assert_int_equal(rtp_relay_alloc(&r[0], &lo4, NULL), EINVAL);
}

static void t_conf(void **state)
{
	static const char *cfs[] = {
		"[general]\nrtpstart=47001\nrtpend=47010\n",     /* odd start */
		"[general]\nrtpstart=100\nrtpend=1100\n",        /* below 1024 */
		"[general]\nrtpstart=9000\nrtpend=8000\n",       /* reversed */
		"[general]\nrtpstart=abc\n",
	};
	static const size_t totals[] = { 4, 38, 13000, 13000 };
	struct rtp_relay *r = NULL;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct conf *c = NULL;
		char err[128];
		assert_int_equal(conf_parse_buf(&c, NULL, "rtp.conf", cfs[i], strlen(cfs[i]),
						err, sizeof(err)), 0);
		assert_int_equal(rtp_init(c), 0);
		assert_int_equal(rtp_ports_total(), totals[i]);
		conf_free(c);
	}
	assert_int_equal(rtp_init(NULL), 0);
	assert_int_equal(rtp_ports_total(), 13000);
	/* no reload of the range under live relays */
	assert_int_equal(rtp_relay_alloc(&r, &lo4, &lo4), 0);
	assert_int_equal(rtp_init(NULL), EBUSY);
	r = rtp_relay_free(r);
	assert_int_equal(init_pool(), 0);
}

/* ---- forwarding ---- */

static void t_forward(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct sockaddr_storage ra, rb, src;
	uint8_t buf[256];
	ssize_t n;
	const struct rtp_leg_stats *sa, *sb;

	(void)state;
	phone_open(&a, AF_INET);
	phone_open(&b, AF_INET);
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	rb = relay_addr(r, RTP_LEG_B);
	send_rtp(&a, &ra, 0, 100, 16000, 0x11111111);
	pump();
	n = recv_pkt(&b, buf, sizeof(buf), &src);
	assert_int_equal(n, 172);
	assert_int_equal(port_of(&src), port_of(&rb));  /* symmetric: from leg B's port */
	assert_int_equal(buf[1], 0);
	assert_int_equal(g16(buf + 2), 100);
	assert_int_equal(g32(buf + 4), 16000);
	assert_true(g32(buf + 8) != 0x11111111);         /* our SSRC */
	assert_int_equal(buf[12], 0);
	assert_int_equal(buf[171], 159);
	send_rtp(&b, &rb, 0, 7, 99, 0x22222222);
	pump();
	n = recv_pkt(&a, buf, sizeof(buf), &src);
	assert_int_equal(n, 172);
	assert_int_equal(port_of(&src), port_of(&ra));
	sa = rtp_relay_stats(r, RTP_LEG_A);
	sb = rtp_relay_stats(r, RTP_LEG_B);
	assert_int_equal(sa->rx_pkts, 1);
	assert_int_equal(sa->rx_bytes, 172);
	assert_int_equal(sa->tx_pkts, 1);
	assert_int_equal(sb->rx_pkts, 1);
	assert_int_equal(sb->tx_pkts, 1);
	assert_true(sa->last_rx > 0);
	assert_true(rtp_relay_remote(r, RTP_LEG_B, &src));
	assert_int_equal(port_of(&src), port_of(&b.sa));
	rtp_relay_free(r);
	close(a.fd);
	close(b.fd);
}

static void t_transcode_and_te(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct sockaddr_storage ra, rb, src;
	uint8_t buf[256], pkt[256];
	size_t len;
	ssize_t n;

	(void)state;
	g711_tables_init();
	phone_open(&a, AF_INET);
	phone_open(&b, AF_INET);
	/* A speaks A-law with telephone-event 101, B mu-law with 96 */
	r = mk_relay(&a, &b, alaw_te, 2, ulaw_te96, 2);
	ra = relay_addr(r, RTP_LEG_A);
	rb = relay_addr(r, RTP_LEG_B);
	len = mk_rtp(pkt, 8, 1, 160, 0xA, 0x10, 160);
	send_raw(&a, &ra, pkt, len);
	pump();
	n = recv_pkt(&b, buf, sizeof(buf), &src);
	assert_int_equal(n, (ssize_t)len);
	assert_int_equal(buf[1], 0);                     /* PT rewritten to PCMU */
	for (int i = 0; i < 160; i++) {
		uint8_t x = pkt[12 + i];
		g711_alaw_to_ulaw(&x, 1);
		assert_int_equal(buf[12 + i], x);
	}
	/* B -> A: mu-law to A-law */
	len = mk_rtp(pkt, 0, 1, 160, 0xB, 0x80, 160);
	send_raw(&b, &rb, pkt, len);
	pump();
	n = recv_pkt(&a, buf, sizeof(buf), &src);
	assert_int_equal(n, (ssize_t)len);
	assert_int_equal(buf[1], 8);
	for (int i = 0; i < 160; i++) {
		uint8_t x = pkt[12 + i];
		g711_ulaw_to_alaw(&x, 1);
		assert_int_equal(buf[12 + i], x);
	}
	/* RFC 4733 events: PT 96 <-> 101, payload untouched, marker kept */
	len = mk_rtp(pkt, 0x80 | 96, 2, 320, 0xB, 0, 4);
	pkt[12] = 5;            /* event '5', E=0, volume 10, duration 160 */
	pkt[13] = 10;
	pkt[14] = 0;
	pkt[15] = 160;
	send_raw(&b, &rb, pkt, len);
	pump();
	n = recv_pkt(&a, buf, sizeof(buf), &src);
	assert_int_equal(n, 16);
	assert_int_equal(buf[1], 0x80 | 101);
	assert_memory_equal(buf + 12, pkt + 12, 4);
	len = mk_rtp(pkt, 101, 2, 320, 0xA, 9, 4);
	send_raw(&a, &ra, pkt, len);
	pump();
	n = recv_pkt(&b, buf, sizeof(buf), &src);
	assert_int_equal(n, 16);
	assert_int_equal(buf[1], 96);
	assert_memory_equal(buf + 12, pkt + 12, 4);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->transcoded, 1);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_B)->transcoded, 1);
	/* a PT not negotiated (G.729) is dropped and counted */
	send_rtp(&a, &ra, 18, 3, 480, 0xA);
	expect_none(&b);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->rx_dropped, 1);
	rtp_relay_free(r);
	close(a.fd);
	close(b.fd);
}

static void t_comedia(void **state)
{
	struct phone a_sdp, a_nat, b;
	struct rtp_relay *r;
	struct rtp_leg_conf c;
	struct sockaddr_storage ra, rb, src;
	uint8_t buf[256];

	(void)state;
	phone_open(&a_sdp, AF_INET);     /* the private address A's SDP gives */
	phone_open(&a_nat, AF_INET);     /* where A's packets really come from */
	phone_open(&b, AF_INET);
	r = mk_relay(&a_sdp, &b, ulaw_te, 2, ulaw_te, 2);
	c = leg_conf(&a_sdp.sa, NULL, ulaw_te, 2);
	c.comedia = true;
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &c), 0);
	ra = relay_addr(r, RTP_LEG_A);
	rb = relay_addr(r, RTP_LEG_B);
	/* before A sent anything, B's audio goes to the SDP address */
	send_rtp(&b, &rb, 0, 1, 160, 0xB);
	pump();
	assert_true(recv_pkt(&a_sdp, buf, sizeof(buf), &src) > 0);
	/* A's first packet latches; from then on A is reached where it sends from */
	send_rtp(&a_nat, &ra, 0, 1, 160, 0xA);
	pump();
	assert_true(recv_pkt(&b, buf, sizeof(buf), &src) > 0);
	send_rtp(&b, &rb, 0, 2, 320, 0xB);
	pump();
	assert_true(recv_pkt(&a_nat, buf, sizeof(buf), &src) > 0);
	assert_int_equal(port_of(&src), port_of(&ra));
	expect_none(&a_sdp);
	assert_true(rtp_relay_remote(r, RTP_LEG_A, &src));
	assert_int_equal(port_of(&src), port_of(&a_nat.sa));
	/* without comedia the SDP address wins even after latching */
	c.comedia = false;
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &c), 0);
	send_rtp(&a_nat, &ra, 0, 2, 320, 0xA);
	send_rtp(&b, &rb, 0, 3, 480, 0xB);
	pump();
	assert_true(recv_pkt(&b, buf, sizeof(buf), &src) > 0);
	assert_true(recv_pkt(&a_sdp, buf, sizeof(buf), &src) > 0);
	expect_none(&a_nat);
	rtp_relay_free(r);
	close(a_sdp.fd);
	close(a_nat.fd);
	close(b.fd);
}

static void t_strict_source(void **state)
{
	struct phone a, evil, b;
	struct rtp_relay *r;
	struct rtp_leg_conf c;
	struct sockaddr_storage ra, src;
	uint8_t buf[256];

	(void)state;
	phone_open(&a, AF_INET);
	phone_open(&evil, AF_INET);
	phone_open(&b, AF_INET);
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	send_rtp(&a, &ra, 0, 1, 160, 0xA);
	pump();
	assert_true(recv_pkt(&b, buf, sizeof(buf), &src) > 0);
	/* injection from another port while A talks: dropped */
	send_rtp(&evil, &ra, 0, 50, 8000, 0xE);
	expect_none(&b);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->rx_foreign, 1);
	/* A silent for longer than RTP_RELATCH_MS: the new source latches */
	rtp_test_clock_skew(RTP_RELATCH_MS + 1);
	send_rtp(&evil, &ra, 0, 51, 8160, 0xE);
	pump();
	assert_true(recv_pkt(&b, buf, sizeof(buf), &src) > 0);
	send_rtp(&a, &ra, 0, 2, 320, 0xA);
	expect_none(&b);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->rx_foreign, 2);
	/* a re-INVITE (leg_set) lets A latch again at once */
	c = leg_conf(&a.sa, NULL, ulaw_te, 2);
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &c), 0);
	send_rtp(&a, &ra, 0, 3, 480, 0xA);
	pump();
	assert_true(recv_pkt(&b, buf, sizeof(buf), &src) > 0);
	rtp_relay_free(r);
	close(a.fd);
	close(evil.fd);
	close(b.fd);
}

static void t_rtcp(void **state)
{
	struct phone a, a_rtcp, b, b_rtcp;
	struct rtp_relay *r;
	struct rtp_leg_conf c;
	struct sockaddr_storage ra, rb, src;
	uint8_t sr[28] = { 0x80, 200, 0, 6 }, buf[256];
	ssize_t n;

	(void)state;
	phone_open(&a, AF_INET);
	phone_open(&a_rtcp, AF_INET);
	phone_open(&b, AF_INET);
	phone_open(&b_rtcp, AF_INET);
	assert_int_equal(rtp_relay_alloc(&r, &lo4, &lo4), 0);
	c = leg_conf(&a.sa, &a_rtcp.sa, ulaw_te, 2);
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &c), 0);
	c = leg_conf(&b.sa, &b_rtcp.sa, ulaw_te, 2);
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_B, &c), 0);
	ra = with_port(&lo4, rtp_relay_port(r, RTP_LEG_A) + 1);
	rb = with_port(&lo4, rtp_relay_port(r, RTP_LEG_B) + 1);
	for (int i = 4; i < 28; i++)
		sr[i] = (uint8_t)i;
	send_raw(&a_rtcp, &ra, sr, sizeof(sr));
	pump();
	n = recv_pkt(&b_rtcp, buf, sizeof(buf), &src);
	assert_int_equal(n, sizeof(sr));
	assert_memory_equal(buf, sr, sizeof(sr));       /* relayed as is */
	assert_int_equal(port_of(&src), rtp_relay_port(r, RTP_LEG_B) + 1);
	send_raw(&b_rtcp, &rb, sr, sizeof(sr));
	pump();
	assert_int_equal(recv_pkt(&a_rtcp, buf, sizeof(buf), &src), sizeof(sr));
	/* garbage: too short, wrong version, RTP PT on the RTCP port */
	send_raw(&a_rtcp, &ra, sr, 4);
	buf[0] = 0x40;
	buf[1] = 200;
	send_raw(&a_rtcp, &ra, buf, 8);
	buf[0] = 0x80;
	buf[1] = 0;
	send_raw(&a_rtcp, &ra, buf, 20);
	expect_none(&b_rtcp);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->rtcp_bad, 3);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->rtcp_rx, 1);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_B)->rtcp_tx, 1);
	rtp_relay_free(r);
	close(a.fd);
	close(a_rtcp.fd);
	close(b.fd);
	close(b_rtcp.fd);
}

/* ---- continuity ---- */

static void t_continuity(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct rtp_leg_conf c;
	struct sockaddr_storage ra, src;
	uint8_t buf[256];
	uint16_t seq0 = 0;
	uint32_t ts0 = 0, ssrc0 = 0, dts;

	(void)state;
	phone_open(&a, AF_INET);
	phone_open(&b, AF_INET);
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	for (int i = 0; i < 5; i++) {
		send_rtp(&a, &ra, 0, (uint16_t)(65533 + i), 1000 + 160u * i, 0xAAAA);
		pump();
		assert_int_equal(recv_pkt(&b, buf, sizeof(buf), &src), 172);
		if (i == 0) {
			seq0 = g16(buf + 2);
			ts0 = g32(buf + 4);
			ssrc0 = g32(buf + 8);
		}
		assert_int_equal(g16(buf + 2), (uint16_t)(seq0 + i));  /* wraps */
		assert_int_equal(g32(buf + 4), ts0 + 160u * i);
		assert_int_equal(g32(buf + 8), ssrc0);
	}
	/* re-INVITE: A restarts with a new SSRC, sequence and timestamp,
	 * after one second of silence; B sees one stream go on */
	c = leg_conf(&a.sa, NULL, ulaw_te, 2);
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_A, &c), 0);
	rtp_test_clock_skew(1000);
	send_rtp(&a, &ra, 0, 7, 123456, 0xBBBB);
	pump();
	assert_int_equal(recv_pkt(&b, buf, sizeof(buf), &src), 172);
	assert_int_equal(g16(buf + 2), (uint16_t)(seq0 + 5));
	assert_int_equal(g32(buf + 8), ssrc0);
	assert_true(buf[1] & 0x80);                      /* marker */
	dts = g32(buf + 4) - (ts0 + 160u * 4);
	assert_true(dts >= 8000 && dts <= 8000 + 8 * 200);   /* ~1 s of 8 kHz */
	ts0 = g32(buf + 4);
	send_rtp(&a, &ra, 0, 8, 123456 + 160, 0xBBBB);
	pump();
	assert_int_equal(recv_pkt(&b, buf, sizeof(buf), &src), 172);
	assert_int_equal(g16(buf + 2), (uint16_t)(seq0 + 6));
	assert_int_equal(g32(buf + 4), ts0 + 160);
	assert_false(buf[1] & 0x80);
	/* same SSRC but the sequence jumps far: a restart too */
	send_rtp(&a, &ra, 0, 30000, 555, 0xBBBB);
	pump();
	assert_int_equal(recv_pkt(&b, buf, sizeof(buf), &src), 172);
	assert_int_equal(g16(buf + 2), (uint16_t)(seq0 + 7));
	assert_true(g32(buf + 4) - ts0 >= 320);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->restarts, 2);
	/* loss estimate: 30001, 30004 -> two lost; late 30002 -> one */
	send_rtp(&a, &ra, 0, 30001, 715, 0xBBBB);
	send_rtp(&a, &ra, 0, 30004, 1195, 0xBBBB);
	pump();
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->lost, 2);
	send_rtp(&a, &ra, 0, 30002, 875, 0xBBBB);
	pump();
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->lost, 1);
	rtp_relay_free(r);
	close(a.fd);
	close(b.fd);
}

/* ---- bad input, hold, timeouts ---- */

static void t_garbage(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct sockaddr_storage ra, src;
	uint8_t pkt[3000], buf[256];
	size_t len;

	(void)state;
	phone_open(&a, AF_INET);
	phone_open(&b, AF_INET);
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	send_raw(&a, &ra, "hello", 5);                  /* short */
	len = mk_rtp(pkt, 0, 1, 1, 1, 0, 160);
	pkt[0] = 0x40;                                   /* version 1 */
	send_raw(&a, &ra, pkt, len);
	pkt[0] = 0x8f;                                   /* 15 CSRCs, 60 bytes: too many */
	send_raw(&a, &ra, pkt, 12 + 40);
	pkt[0] = 0x90;                                   /* extension past the end */
	pkt[12] = 0; pkt[13] = 0; pkt[14] = 0xff; pkt[15] = 0xff;
	send_raw(&a, &ra, pkt, 20);
	len = mk_rtp(pkt, 0, 1, 1, 1, 0, 10);
	pkt[0] = 0xa0;                                   /* padding longer than payload */
	pkt[len - 1] = 200;
	send_raw(&a, &ra, pkt, len);
	pkt[len - 1] = 0;                                /* zero padding count */
	send_raw(&a, &ra, pkt, len);
	len = mk_rtp(pkt, 0, 1, 1, 1, 0, 2900);          /* bigger than a buffer */
	send_raw(&a, &ra, pkt, len);
	expect_none(&b);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->rx_bad, 7);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->rx_pkts, 0);
	/* garbage did not latch anything: a valid packet still flows,
	 * with CSRC, extension and padding handled */
	len = mk_rtp(pkt, 0, 1, 160, 0xA, 0, 0);
	pkt[0] = 0x80 | 0x20 | 0x10 | 1;                 /* P, X, CC=1 */
	memset(pkt + 12, 0, 4);                          /* CSRC */
	pkt[16] = 0xbe; pkt[17] = 0xde; pkt[18] = 0; pkt[19] = 1;
	memset(pkt + 20, 0x11, 4);                       /* one extension word */
	memset(pkt + 24, 0x55, 8);                       /* payload */
	pkt[32] = 0; pkt[33] = 0; pkt[34] = 0; pkt[35] = 4;   /* 4 bytes padding */
	send_raw(&a, &ra, pkt, 36);
	pump();
	assert_int_equal(recv_pkt(&b, buf, sizeof(buf), &src), 36);
	assert_memory_equal(buf + 24, pkt + 24, 12);
	rtp_relay_free(r);
	close(a.fd);
	close(b.fd);
}

static void t_hold(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct rtp_leg_conf c;
	struct sockaddr_storage ra, rb, src;
	uint8_t buf[256];

	(void)state;
	phone_open(&a, AF_INET);
	phone_open(&b, AF_INET);
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	rb = relay_addr(r, RTP_LEG_B);
	/* B put A on hold (B sendonly): nothing goes to B, B's stream to A */
	c = leg_conf(&b.sa, NULL, ulaw_te, 2);
	c.dir = SDP_SENDONLY;
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_B, &c), 0);
	send_rtp(&a, &ra, 0, 1, 160, 0xA);
	expect_none(&b);
	assert_int_equal(rtp_relay_stats(r, RTP_LEG_A)->rx_dropped, 1);
	send_rtp(&b, &rb, 0, 1, 160, 0xB);
	pump();
	assert_true(recv_pkt(&a, buf, sizeof(buf), &src) > 0);
	/* inactive; then off hold */
	c.dir = SDP_INACTIVE;
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_B, &c), 0);
	send_rtp(&a, &ra, 0, 2, 320, 0xA);
	expect_none(&b);
	c.dir = SDP_SENDRECV;
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_B, &c), 0);
	send_rtp(&a, &ra, 0, 3, 480, 0xA);
	pump();
	assert_true(recv_pkt(&b, buf, sizeof(buf), &src) > 0);
	rtp_relay_free(r);
	close(a.fd);
	close(b.fd);
}

static int timeouts;
static enum rtp_leg_id timeout_leg;

static void on_timeout(struct rtp_relay *r, enum rtp_leg_id leg, void *arg)
{
	(void)arg;
	timeouts++;
	timeout_leg = leg;
	rtp_relay_free(r);       /* the call layer hangs up from here */
}

static void t_timeout(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct rtp_leg_conf c;
	struct sockaddr_storage ra, rb;

	(void)state;
	phone_open(&a, AF_INET);
	phone_open(&b, AF_INET);
	/* a peer that never sends anything: timeout, ports returned */
	timeouts = 0;
	loop_now_update();
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	rtp_relay_timeout(r, 2, on_timeout, NULL);
	loop_test_advance(2000);
	assert_int_equal(timeouts, 0);
	loop_test_advance(10);
	assert_int_equal(timeouts, 1);
	assert_int_equal(rtp_ports_in_use(), 0);
	assert_int_equal(tmr_count(), 0);

	/* A talks, B vanished: B times out (loop_now_update: the clock
	 * moved ahead by loop_test_advance comes back to real time) */
	loop_now_update();
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	rb = relay_addr(r, RTP_LEG_B);
	rtp_relay_timeout(r, 2, on_timeout, NULL);
	send_rtp(&b, &rb, 0, 1, 160, 0xB);
	pump();
	rtp_test_clock_skew(1500);
	send_rtp(&a, &ra, 0, 1, 160, 0xA);
	pump();
	loop_test_advance(2000);
	assert_int_equal(timeouts, 2);
	assert_int_equal(timeout_leg, RTP_LEG_B);
	assert_int_equal(rtp_ports_in_use(), 0);

	/* both talk: no timeout until they stop */
	loop_now_update();
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	rb = relay_addr(r, RTP_LEG_B);
	rtp_relay_timeout(r, 2, on_timeout, NULL);
	rtp_test_clock_skew(1500);       /* packets come 1.5 s after arming */
	send_rtp(&a, &ra, 0, 1, 160, 0xA);
	send_rtp(&b, &rb, 0, 1, 160, 0xB);
	pump();
	rtp_test_clock_skew(-1500);      /* back in step with the loop clock */
	loop_test_advance(2000);         /* first check: 0.5 s of silence */
	assert_int_equal(timeouts, 2);
	/* B holds (inactive) and A goes quiet: only A is watched */
	c = leg_conf(&b.sa, NULL, ulaw_te, 2);
	c.dir = SDP_INACTIVE;
	assert_int_equal(rtp_relay_leg_set(r, RTP_LEG_B, &c), 0);
	loop_test_advance(2000);
	assert_int_equal(timeouts, 3);
	assert_int_equal(timeout_leg, RTP_LEG_A);

	/* secs 0 disarms */
	loop_now_update();
	r = mk_relay(&a, &b, ulaw_te, 2, ulaw_te, 2);
	rtp_relay_timeout(r, 2, on_timeout, NULL);
	rtp_relay_timeout(r, 0, on_timeout, NULL);
	loop_test_advance(10000);
	assert_int_equal(timeouts, 3);
	rtp_relay_free(r);
	close(a.fd);
	close(b.fd);
}

static void t_ipv6(void **state)
{
	struct phone a, b;
	struct rtp_relay *r;
	struct sockaddr_storage ra, src;
	uint8_t buf[256];

	(void)state;
	phone_open(&a, AF_INET6);
	phone_open(&b, AF_INET6);
	r = mk_relay(&a, &b, alaw_te, 2, ulaw_te, 2);
	ra = relay_addr(r, RTP_LEG_A);
	assert_int_equal(ra.ss_family, AF_INET6);
	send_rtp(&a, &ra, 8, 1, 160, 0xA);
	pump();
	assert_int_equal(recv_pkt(&b, buf, sizeof(buf), &src), 172);
	assert_int_equal(src.ss_family, AF_INET6);
	assert_int_equal(buf[1], 0);
	rtp_relay_free(r);
	close(a.fd);
	close(b.fd);
}

static void t_close_frees_ports(void **state)
{
	struct rtp_relay *r1 = NULL, *r2 = NULL;

	(void)state;
	assert_int_equal(rtp_relay_alloc(&r1, &lo4, &lo4), 0);
	assert_int_equal(rtp_relay_alloc(&r2, &lo4, &lo4), 0);
	assert_int_equal(rtp_ports_in_use(), 4);
	rtp_close();                     /* shutdown with calls up */
	assert_int_equal(rtp_ports_in_use(), 0);
	assert_int_equal(rtp_relay_count(), 0);
	rtp_relay_free(r1);              /* owners let go later: harmless */
	rtp_relay_free(r2);
	assert_int_equal(init_pool(), 0);
}

int test_rtp_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(t_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(t_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(t_transcode_and_te, setup, teardown),
		cmocka_unit_test_setup_teardown(t_comedia, setup, teardown),
		cmocka_unit_test_setup_teardown(t_strict_source, setup, teardown),
		cmocka_unit_test_setup_teardown(t_rtcp, setup, teardown),
		cmocka_unit_test_setup_teardown(t_continuity, setup, teardown),
		cmocka_unit_test_setup_teardown(t_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(t_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(t_close_frees_ports, setup, teardown),
	};

	return cmocka_run_group_tests_name("rtp", tests, NULL, NULL);
}
