/**
 * @file rtp.c  RTP/RTCP relay between the two legs of a call.
 *
 * Ports. rtp.conf [general] rtpstart..rtpend is a pool of pairs: an even
 * port for RTP, the next odd one for RTCP (RFC 3550 11). Pairs are handed
 * out round-robin from a cursor, so a port just released is the last to
 * be reused (late packets of an old call do not reach a new one); the
 * cursor starts at a random pair, so a node that takes over does not hand
 * out first the ports the other node's cut calls were using; a pair
 * held by a relay is never handed out, and one bound by another program
 * (bind fails) is skipped. rtp_ports_in_use() is the leak check.
 *
 * Latching (symmetric RTP). A leg accepts RTP from one source address:
 * the first valid packet after rtp_relay_leg_set() latches it. Packets
 * from another source are dropped (rx_foreign) while the latched source
 * keeps sending; when it has been silent for RTP_RELATCH_MS, the next
 * valid packet latches anew (a phone that changed its NAT binding, or a
 * re-INVITE the call layer did not report). rtp_relay_leg_set() (every
 * re-INVITE) always allows a new latch. This is Asterisk's strictrtp
 * without its probation; it defeats "RTP bleed" injection during a call.
 * comedia (NAT) decides where we send: to the latched source when set,
 * else to the SDP address (also the comedia fallback before any packet).
 * RTCP is accepted from the IP the RTP is latched to (any port) and sent
 * to the latched RTCP source (comedia) or the SDP RTCP address (port+1 or
 * a=rtcp, RFC 3605).
 *
 * Payload types. Each leg has its own PT -> codec map (its SDP). A packet
 * from leg L with PT p carries codec c = L.map[p]; it goes to the other
 * leg D under D's PT for c, or, when D lacks c and c is one G.711 law and
 * D has the other, translated in place (g711.h) under D's PT for that
 * law. telephone-event (RFC 4733) is just a codec here: its PT is
 * rewritten. Anything else is dropped and counted. A leg given no PT list
 * relays PTs unchanged.
 *
 * Continuity (RFC 3550 5.1, 8). Toward each leg we are the source: our
 * own SSRC per leg, and sequence and timestamp = incoming + offset. The
 * offsets start at 0 and are recomputed when the incoming stream
 * restarts (new SSRC, or a sequence jump beyond RFC 3550 A.1's
 * MAX_DROPOUT 3000 / MAX_MISORDER 100): the next packet gets our last
 * sequence + 1 and our last timestamp + the wall-clock time elapsed in
 * clock units (at least one 20 ms frame), with the marker bit set. So a
 * re-INVITE that makes the far end restart its stream is invisible to
 * the other phone.
 *
 * Hold. A leg that declared sendonly or inactive (it does not receive)
 * gets no RTP; RTCP keeps flowing (RFC 3264 5.1).
 *
 * Counters per leg (rtp_leg_stats) and a timeout: a leg expected to send
 * (sendrecv/sendonly) that sent nothing for rtptimeout seconds calls the
 * call layer back. One timer per relay, re-armed at most once per timeout
 * period, never per packet.
 *
 * Hot path: recvmmsg() of up to RX_BATCH datagrams into static buffers,
 * rewritten in place, sendmmsg() to the other leg: no allocation, one
 * table lookup per packet.
 *
 * Local media (rtp_local.c): a leg may be fed by a player instead of the
 * other leg (prompts, music on hold), may be sent RFC 4733 digits, and
 * what it sends may be decoded for DTMF or recorded. While a leg hears a
 * local source, packets relayed toward it are dropped (rx_muted on the
 * sending leg); the stream toward it keeps its SSRC, sequence and
 * timestamp across every switch, through the same out_* state the relay
 * uses for re-INVITEs. DTMF handlers are called at the end of a batch,
 * with a reference held, so they may free the relay.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "ha/ha.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "media/rtp_int.h"

#define RX_BATCH      32
#define PKT_MAX       2048
#define MAX_DROPOUT   3000
#define MAX_MISORDER  100

static struct {
	uint16_t start;
	size_t npairs, cursor, in_use;
	uint8_t *used;
	struct rtp_relay *relays;
	size_t nrelays;
	uint64_t rnd;
	bool ready;
} pool;

static int64_t clock_skew;      /* tests only: rtp_test_clock_skew() */

static uint64_t now_ms(void)
{
	return (uint64_t)((int64_t)loop_now() + clock_skew);
}

void rtp_test_clock_skew(int64_t ms)
{
	clock_skew += ms;
}

uint64_t rtp_now(void)
{
	return now_ms();
}

/* Receive and send batches, shared: the loop runs on one thread. */
static uint8_t rxbuf[RX_BATCH][PKT_MAX];
static struct iovec rxiov[RX_BATCH], txiov[RX_BATCH];
static struct sockaddr_storage rxsrc[RX_BATCH];
static struct mmsghdr rxmsg[RX_BATCH], txmsg[RX_BATCH];

/* ================================================================
 * Port pool
 * ================================================================ */

uint32_t rtp_rnd32(void)
{
	/* xorshift64*, seeded once from getrandom() */
	pool.rnd ^= pool.rnd >> 12;
	pool.rnd ^= pool.rnd << 25;
	pool.rnd ^= pool.rnd >> 27;
	return (uint32_t)((pool.rnd * 0x2545F4914F6CDD1DULL) >> 32);
}

static unsigned long conf_port(const struct conf *c, const char *name, unsigned long def)
{
	const struct conf_section *sec = c ? conf_section(c, "general") : NULL;
	const char *v = sec ? conf_get(sec, name) : NULL;
	char *end;
	unsigned long n;

	if (!v)
		return def;
	n = strtoul(v, &end, 10);
	if (end == v || *end) {
		log_warn("rtp.conf: %s = %s is not a number, using %lu", name, v, def);
		return def;
	}
	return n;
}

int rtp_init(const struct conf *rtp_conf)
{
	unsigned long start = conf_port(rtp_conf, "rtpstart", RTP_PORT_START);
	unsigned long end = conf_port(rtp_conf, "rtpend", RTP_PORT_END);
	uint8_t *used;

	if (pool.nrelays)
		return EBUSY;
	if (start < 1024) {
		log_warn("rtp.conf: rtpstart %lu below 1024, using 1024", start);
		start = 1024;
	}
	if (end > 65535) {
		log_warn("rtp.conf: rtpend %lu above 65535, using 65535", end);
		end = 65535;
	}
	if (start & 1)
		start++;
	if (start + 1 > end) {
		log_warn("rtp.conf: rtpstart %lu past rtpend %lu, using %d-%d",
			 start, end, RTP_PORT_START, RTP_PORT_END);
		start = RTP_PORT_START;
		end = RTP_PORT_END;
	}
	used = calloc((end - start + 1) / 2, 1);
	if (!used)
		return ENOMEM;
	free(pool.used);
	pool.used = used;
	pool.start = (uint16_t)start;
	pool.npairs = (end - start + 1) / 2;
	pool.in_use = 0;
	if (!pool.rnd && getrandom(&pool.rnd, sizeof(pool.rnd), 0) != sizeof(pool.rnd))
		pool.rnd = (uint64_t)loop_now_update() * 0x9E3779B97F4A7C15ULL;
	pool.rnd |= 1;
	/* a random first pair: after a failover, phones of the calls cut on
	 * the other node still send to its ports (the same pool, from the
	 * same start); a new call here rarely gets one of those */
	pool.cursor = rtp_rnd32() % pool.npairs;
	g711_tables_init();
	pool.ready = true;
	log_info("rtp: ports %lu-%lu (%zu pairs)", start, start + 2 * pool.npairs - 1,
		 pool.npairs);
	return 0;
}

size_t rtp_ports_in_use(void)
{
	return pool.in_use;
}

size_t rtp_ports_total(void)
{
	return pool.npairs;
}

size_t rtp_relay_count(void)
{
	return pool.nrelays;
}

struct rtp_totals rtp_tot;

const struct rtp_totals *rtp_totals(void)
{
	return &rtp_tot;
}

/* freebind: the address may not be ours yet (a restored call's floating
 * address arrives a moment after the promotion: IP_FREEBIND). */
static int udp_bind(const struct sockaddr_storage *local, uint16_t port, bool freebind,
		    int *fdp)
{
	struct sockaddr_storage sa = *local;
	socklen_t len;
	int fd, one = 1;

	if (sa.ss_family == AF_INET) {
		((struct sockaddr_in *)&sa)->sin_port = htons(port);
		len = sizeof(struct sockaddr_in);
	} else if (sa.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
		len = sizeof(struct sockaddr_in6);
	} else {
		return EAFNOSUPPORT;
	}
	fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (freebind)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		int err = errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

static uint16_t sa_port_of(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

/* Bind port (RTP) and port + 1 (RTCP) for leg, pair i of the pool. */
static int pair_bind(struct leg *l, const struct sockaddr_storage *local, size_t i,
		     bool freebind)
{
	uint16_t port = (uint16_t)(pool.start + 2 * i);
	int a = -1, b = -1, err;

	err = udp_bind(local, port, freebind, &a);
	if (!err) {
		err = udp_bind(local, (uint16_t)(port + 1), freebind, &b);
		if (err)
			close(a);
	}
	if (err)
		return err;
	pool.used[i] = 1;
	pool.in_use++;
	l->port = port;
	l->rtp.fd = a;
	l->rtcp.fd = b;
	return 0;
}

/* Bind leg's RTP/RTCP pair to the next free port pair. */
static int pair_alloc(struct leg *l, const struct sockaddr_storage *local)
{
	int err = EADDRINUSE;

	for (size_t tries = 0; tries < pool.npairs; tries++) {
		size_t i = pool.cursor;

		pool.cursor = (pool.cursor + 1) % pool.npairs;
		if (pool.used[i])
			continue;
		err = pair_bind(l, local, i, false);
		if (err != EADDRINUSE)
			return err;     /* bound, or a real error */
		/* someone else's port: next pair */
	}
	return err;
}

/* Bind leg's pair to the given even port of the pool (a restored call
 * keeps its ports): EADDRINUSE when held here or by another program,
 * ERANGE when outside rtpstart..rtpend or odd. */
static int pair_claim(struct leg *l, const struct sockaddr_storage *local, uint16_t port)
{
	size_t i = (size_t)(port - pool.start) / 2;

	if (port < pool.start || (port & 1) || i >= pool.npairs)
		return ERANGE;
	if (pool.used[i])
		return EADDRINUSE;
	return pair_bind(l, local, i, true);
}

static void pair_free(struct leg *l)
{
	if (l->rtp.fd >= 0) {
		loop_fd_forget(l->rtp.fd);
		close(l->rtp.fd);
	}
	if (l->rtcp.fd >= 0) {
		loop_fd_forget(l->rtcp.fd);
		close(l->rtcp.fd);
	}
	if (l->port && pool.used) {
		size_t i = (size_t)(l->port - pool.start) / 2;
		if (i < pool.npairs && pool.used[i]) {
			pool.used[i] = 0;
			pool.in_use--;
		}
	}
	l->rtp.fd = l->rtcp.fd = -1;
	l->port = 0;
}

/* ================================================================
 * Addresses
 * ================================================================ */

static bool sa_set(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET || sa->ss_family == AF_INET6;
}

socklen_t rtp_sa_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

static bool sa_ip_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static bool sa_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (!sa_ip_eq(a, b))
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_port ==
		       ((const struct sockaddr_in *)b)->sin_port;
	return ((const struct sockaddr_in6 *)a)->sin6_port ==
	       ((const struct sockaddr_in6 *)b)->sin6_port;
}

/* Where RTP (rtcp false) or RTCP toward leg d goes; NULL: nowhere yet. */
const struct sockaddr_storage *rtp_dest(const struct leg *d, bool rtcp)
{
	const struct sockaddr_storage *sdp = rtcp ? &d->conf.rtcp : &d->conf.rtp;
	const struct sockaddr_storage *src = rtcp ? &d->src_rtcp : &d->src_rtp;
	bool latched = rtcp ? d->rtcp_latched : d->latched;

	if (latched && (d->conf.comedia || !sa_set(sdp)))
		return src;
	return sa_set(sdp) ? sdp : NULL;
}

/* ================================================================
 * Payload type translation
 * ================================================================ */

static void fwd_build(struct leg *l, const struct leg *d)
{
	bool transparent = !l->conf.npts || !d->conf.npts;

	for (unsigned pt = 0; pt < 128; pt++) {
		struct xlat x = { (uint8_t)pt, X_DROP };
		enum codec c = (enum codec)l->pt_codec[pt];

		if (transparent) {
			x.op = X_COPY;
		} else if (c == CODEC_NONE) {
			x.op = X_DROP;
		} else if (d->codec_pt[c] != 0xff) {
			x.pt = d->codec_pt[c];
			x.op = X_COPY;
		} else if (c == CODEC_PCMA && d->codec_pt[CODEC_PCMU] != 0xff) {
			x.pt = d->codec_pt[CODEC_PCMU];
			x.op = X_A2U;
		} else if (c == CODEC_PCMU && d->codec_pt[CODEC_PCMA] != 0xff) {
			x.pt = d->codec_pt[CODEC_PCMA];
			x.op = X_U2A;
		}
		l->fwd[pt] = x;
	}
}

/* ================================================================
 * Relay lifetime
 * ================================================================ */

static void relay_unlink(struct rtp_relay *r)
{
	if (!r->prev && pool.relays != r)
		return;         /* not linked (closed by rtp_close) */
	if (r->prev)
		r->prev->next = r->next;
	else
		pool.relays = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	pool.nrelays--;
}

static void relay_shut(struct rtp_relay *r)
{
	tmr_cancel(&r->tmr);
	rtp_local_shut(r);
	pair_free(&r->leg[0]);
	pair_free(&r->leg[1]);
	relay_unlink(r);
}

static void relay_destroy(void *data)
{
	relay_shut(data);
}

void rtp_close(void)
{
	while (pool.relays)
		relay_shut(pool.relays);
	rtp_local_close();
	free(pool.used);
	pool.used = NULL;
	pool.npairs = pool.in_use = pool.cursor = 0;
	pool.ready = false;
	clock_skew = 0;
}

static void on_rtp(int fd, uint32_t events, void *arg);
static void on_rtcp(int fd, uint32_t events, void *arg);

static int leg_open(struct rtp_relay *r, enum rtp_leg_id id,
		    const struct sockaddr_storage *local, bool keep_port)
{
	struct leg *l = &r->leg[id];
	int err;

	l->r = r;
	l->id = id;
	l->rtp = (struct rsock){ -1, false, l };
	l->rtcp = (struct rsock){ -1, true, l };
	memset(l->pt_codec, CODEC_NONE, sizeof(l->pt_codec));
	memset(l->codec_pt, 0xff, sizeof(l->codec_pt));
	l->conf.dir = SDP_SENDRECV;
	l->out_ssrc = rtp_rnd32();
	if (!local)
		return EINVAL;
	err = keep_port ? pair_claim(l, local, sa_port_of(local)) : pair_alloc(l, local);
	if (err)
		return err;
	l->local = *local;
	if (l->local.ss_family == AF_INET)
		((struct sockaddr_in *)&l->local)->sin_port = htons(l->port);
	else
		((struct sockaddr_in6 *)&l->local)->sin6_port = htons(l->port);
	err = loop_fd_listen(l->rtp.fd, EPOLLIN, on_rtp, &l->rtp);
	if (!err)
		err = loop_fd_listen(l->rtcp.fd, EPOLLIN, on_rtcp, &l->rtcp);
	return err;
}

static int relay_alloc(struct rtp_relay **rp, const struct sockaddr_storage *local_a,
		       const struct sockaddr_storage *local_b, bool keep_port)
{
	struct rtp_relay *r;
	int err;

	if (!rp || !pool.ready)
		return EINVAL;
	r = mem_zalloc(sizeof(*r), relay_destroy);
	if (!r)
		return ENOMEM;
	r->leg[0].rtp.fd = r->leg[0].rtcp.fd = -1;
	r->leg[1].rtp.fd = r->leg[1].rtcp.fd = -1;
	tmr_init(&r->tmr);
	r->next = pool.relays;
	if (pool.relays)
		pool.relays->prev = r;
	pool.relays = r;
	pool.nrelays++;
	err = leg_open(r, RTP_LEG_A, local_a, keep_port);
	if (!err)
		err = leg_open(r, RTP_LEG_B, local_b, keep_port);
	if (err) {
		log_warn("rtp: cannot allocate a relay: %s", strerror(err));
		mem_deref(r);
		return err;
	}
	fwd_build(&r->leg[0], &r->leg[1]);
	fwd_build(&r->leg[1], &r->leg[0]);
	*rp = r;
	return 0;
}

int rtp_relay_alloc(struct rtp_relay **rp, const struct sockaddr_storage *local_a,
		    const struct sockaddr_storage *local_b)
{
	return relay_alloc(rp, local_a, local_b, false);
}

int rtp_relay_alloc_at(struct rtp_relay **rp, const struct sockaddr_storage *local_a,
		       const struct sockaddr_storage *local_b)
{
	return relay_alloc(rp, local_a, local_b, true);
}

struct rtp_relay *rtp_relay_free(struct rtp_relay *r)
{
	if (r) {
		r->dh = NULL;       /* no callbacks after this, even if a batch holds r */
		r->th = NULL;
	}
	return mem_deref(r);
}

uint16_t rtp_relay_port(const struct rtp_relay *r, enum rtp_leg_id leg)
{
	return r->leg[leg & 1].port;
}

void rtp_relay_local(const struct rtp_relay *r, enum rtp_leg_id leg,
		     struct sockaddr_storage *out)
{
	*out = r->leg[leg & 1].local;
}

bool rtp_relay_remote(const struct rtp_relay *r, enum rtp_leg_id leg,
		      struct sockaddr_storage *out)
{
	const struct sockaddr_storage *d = rtp_dest(&r->leg[leg & 1], false);

	if (!d)
		return false;
	*out = *d;
	return true;
}

const struct rtp_leg_stats *rtp_relay_stats(const struct rtp_relay *r, enum rtp_leg_id leg)
{
	return &r->leg[leg & 1].st;
}

int rtp_relay_leg_set(struct rtp_relay *r, enum rtp_leg_id leg,
		      const struct rtp_leg_conf *c)
{
	struct leg *l;

	if (!r || !c || c->npts > SDP_FMT_MAX)
		return EINVAL;
	for (size_t i = 0; i < c->npts; i++)
		if (c->pts[i].pt > 127 || (unsigned)c->pts[i].codec > 255)
			return EINVAL;
	l = &r->leg[leg & 1];
	l->conf = *c;
	memset(l->pt_codec, CODEC_NONE, sizeof(l->pt_codec));
	memset(l->codec_pt, 0xff, sizeof(l->codec_pt));
	for (size_t i = 0; i < c->npts; i++) {
		if (l->pt_codec[c->pts[i].pt] == CODEC_NONE)
			l->pt_codec[c->pts[i].pt] = (uint8_t)c->pts[i].codec;
		if (l->codec_pt[c->pts[i].codec] == 0xff)
			l->codec_pt[c->pts[i].codec] = c->pts[i].pt;
	}
	l->latched = l->rtcp_latched = false;
	fwd_build(&r->leg[0], &r->leg[1]);
	fwd_build(&r->leg[1], &r->leg[0]);
	return 0;
}

/* ================================================================
 * Timeout
 * ================================================================ */

static bool expects_rtp(const struct leg *l)
{
	return l->conf.dir == SDP_SENDRECV || l->conf.dir == SDP_SENDONLY;
}

static void on_timer(void *arg)
{
	struct rtp_relay *r = arg;
	uint64_t now = now_ms(), next = UINT64_MAX;

	for (int i = 0; i < 2; i++) {
		const struct leg *l = &r->leg[i];
		uint64_t last = l->st.last_rx > r->armed_at ? l->st.last_rx : r->armed_at;

		if (!expects_rtp(l))
			continue;
		if (now - last > r->timeout_ms) {
			log_info("rtp: no RTP on port %u for %llu ms", l->port,
				 (unsigned long long)(now - last));
			if (r->th)
				r->th(r, (enum rtp_leg_id)i, r->targ);   /* may free r */
			return;
		}
		if (last + r->timeout_ms + 1 < next)
			next = last + r->timeout_ms + 1;
	}
	if (next == UINT64_MAX)
		next = now + r->timeout_ms;     /* both on hold: look again later */
	tmr_start(&r->tmr, next - now, on_timer, r);
}

void rtp_relay_timeout(struct rtp_relay *r, uint32_t secs, rtp_timeout_h *h, void *arg)
{
	tmr_cancel(&r->tmr);
	r->th = h;
	r->targ = arg;
	r->timeout_ms = (uint64_t)secs * 1000;
	r->armed_at = now_ms();
	if (secs && h)
		tmr_start(&r->tmr, r->timeout_ms, on_timer, r);
}

void rtp_relay_timeout_since(struct rtp_relay *r, uint64_t silent_ms, uint64_t floor_ms)
{
	uint64_t now = now_ms(), due;

	if (!r->timeout_ms || !r->th)
		return;
	r->armed_at = now - (silent_ms < now ? silent_ms : now);
	due = r->armed_at + r->timeout_ms + 1;
	if (due < now + floor_ms)
		due = now + floor_ms;
	tmr_start(&r->tmr, due - now, on_timer, r);
}

/* ================================================================
 * Packet path
 * ================================================================ */

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Payload offset and length of an RTP packet (RFC 3550 5.1); false if bad. */
static bool rtp_parse(const uint8_t *b, size_t n, size_t *off, size_t *plen)
{
	size_t hl, pad = 0;

	if (n < 12 || (b[0] >> 6) != 2)
		return false;
	hl = 12 + 4 * (size_t)(b[0] & 0x0f);
	if (b[0] & 0x10) {
		if (hl + 4 > n)
			return false;
		hl += 4 + 4 * (size_t)get16(b + hl + 2);
	}
	if (hl > n)
		return false;
	if (b[0] & 0x20) {
		pad = b[n - 1];
		if (!pad || pad > n - hl)
			return false;
	}
	*off = hl;
	*plen = n - hl - pad;
	return true;
}

/* Track the stream leg l receives; true when it restarted. */
static bool in_track(struct leg *l, uint32_t ssrc, uint16_t seq)
{
	uint16_t d;

	if (!l->in_init || ssrc != l->in_ssrc) {
		bool restart = l->in_init;
		l->in_init = true;
		l->in_ssrc = ssrc;
		l->in_seq = seq;
		return restart;
	}
	d = (uint16_t)(seq - l->in_seq);
	if (d == 0)
		return false;
	if (d < MAX_DROPOUT) {
		l->st.lost += d - 1u;
		rtp_tot.lost += d - 1u;
		l->in_seq = seq;
		return false;
	}
	if (d > 65536 - MAX_MISORDER) {
		if (l->st.lost)
			l->st.lost--;       /* a late packet we counted lost */
		return false;
	}
	l->in_seq = seq;
	return true;
}

/* Accept a packet on l from src (latching rules above); false: drop. */
static bool latch_rtp(struct leg *l, const struct sockaddr_storage *src, uint64_t now)
{
	if (l->latched && sa_eq(src, &l->src_rtp))
		return true;
	if (l->latched && now - l->st.last_rx < RTP_RELATCH_MS) {
		l->st.rx_foreign++;
		return false;
	}
	if (l->latched)
		log_info("rtp: port %u re-latched after %llu ms of silence", l->port,
			 (unsigned long long)(now - l->st.last_rx));
	l->src_rtp = *src;
	l->latched = true;
	return true;
}

/* Rewrite one packet from l toward d in place; false: drop it. */
static bool relay_one(struct leg *l, struct leg *d, uint8_t *b, size_t n,
		      const struct sockaddr_storage *src, uint64_t now)
{
	size_t off, plen;
	uint32_t ssrc, ts;
	uint16_t seq, oseq;
	struct xlat x;
	bool restart;

	if (!rtp_parse(b, n, &off, &plen)) {
		l->st.rx_bad++;
		return false;
	}
	if (!latch_rtp(l, src, now))
		return false;
	l->st.rx_pkts++;
	rtp_tot.rx_pkts++;
	l->st.rx_bytes += n;
	l->st.last_rx = now;
	seq = get16(b + 2);
	ts = get32(b + 4);
	ssrc = get32(b + 8);
	restart = in_track(l, ssrc, seq);
	if (restart) {
		l->st.restarts++;
		d->out_resync = true;
	}
	if (rtp_local_wants_rx(l))
		rtp_local_rx(l, b[1] & 0x7f, ts, restart, b + off, plen);
	if (l->dtmf_norelay && l->pt_codec[b[1] & 0x7f] == CODEC_TELEVENT) {
		l->st.rx_muted++;
		return false;
	}
	x = l->fwd[b[1] & 0x7f];
	if (x.op == X_DROP || d->conf.dir == SDP_SENDONLY || d->conf.dir == SDP_INACTIVE) {
		l->st.rx_dropped++;
		return false;
	}
	if (d->ticking) {
		l->st.rx_muted++;       /* d hears a local source now */
		return false;
	}
	if (!d->out_init || d->out_resync) {
		if (d->out_init) {
			const struct codec_info *ci = codec_info((enum codec)l->pt_codec[b[1] & 0x7f]);
			uint32_t rate = ci ? ci->rate : 8000;
			uint64_t el = (now > d->out_ms ? now - d->out_ms : 0) * rate / 1000;
			if (el < rate / 50)
				el = rate / 50;
			d->seq_off = (uint16_t)(d->out_seq + 1 - seq);
			d->ts_off = (uint32_t)(d->out_ts + el - ts);
			b[1] |= 0x80;          /* marker: new talkspurt */
		}
		d->out_init = true;
		d->out_resync = false;
		d->out_seq = (uint16_t)(seq + d->seq_off - 1);
	}
	oseq = (uint16_t)(seq + d->seq_off);
	if ((int16_t)(oseq - d->out_seq) > 0) {
		d->out_seq = oseq;
		d->out_ts = ts + d->ts_off;
	}
	d->out_ms = now;
	b[1] = (uint8_t)((b[1] & 0x80) | x.pt);
	put16(b + 2, oseq);
	put32(b + 4, ts + d->ts_off);
	put32(b + 8, d->out_ssrc);
	if (x.op == X_A2U) {
		g711_alaw_to_ulaw(b + off, plen);
		l->st.transcoded++;
	} else if (x.op == X_U2A) {
		g711_ulaw_to_alaw(b + off, plen);
		l->st.transcoded++;
	}
	return true;
}

/* Receive up to RX_BATCH datagrams; the headers are set up once and only
 * the fields recvmmsg wrote are restored after use. */
static int rx_batch(int fd)
{
	static int used = RX_BATCH;
	int n;

	for (int i = 0; i < used; i++) {
		rxiov[i].iov_base = rxbuf[i];
		rxiov[i].iov_len = PKT_MAX;
		rxmsg[i].msg_hdr = (struct msghdr){
			.msg_name = &rxsrc[i], .msg_namelen = sizeof(rxsrc[i]),
			.msg_iov = &rxiov[i], .msg_iovlen = 1,
		};
	}
	n = recvmmsg(fd, rxmsg, RX_BATCH, MSG_DONTWAIT, NULL);
	used = n > 0 ? n : 0;
	return n;
}

/* Send the ntx queued packets out of fd to dst; returns packets sent. */
static int tx_batch(int fd, const struct sockaddr_storage *dst, int ntx)
{
	int done = 0;

	for (int i = 0; i < ntx; i++)
		txmsg[i].msg_hdr = (struct msghdr){
			.msg_name = (void *)dst, .msg_namelen = rtp_sa_len(dst),
			.msg_iov = &txiov[i], .msg_iovlen = 1,
		};
	while (done < ntx) {
		int k = sendmmsg(fd, txmsg + done, (unsigned)(ntx - done), MSG_DONTWAIT);
		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			break;          /* buffer full or unreachable: drop the rest */
		}
		done += k;
	}
	return done;
}

static void on_rtp(int fd, uint32_t events, void *arg)
{
	struct leg *l = ((struct rsock *)arg)->leg;
	struct leg *d = &l->r->leg[l->id ^ 1];
	const struct sockaddr_storage *dst;
	uint64_t now = now_ms(), bytes = 0;
	int n, ntx = 0, sent;

	(void)events;
	n = rx_batch(fd);
	if (n <= 0 || !ha_serving())   /* a node that does not serve relays nothing */
		return;
	mem_ref(l->r);          /* DTMF handlers run at the end and may free it */
	for (int i = 0; i < n; i++) {
		uint8_t *b = rxbuf[i];
		size_t len = rxmsg[i].msg_len;

		if (rxmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
			l->st.rx_bad++;
			continue;
		}
		if (!relay_one(l, d, b, len, &rxsrc[i], now))
			continue;
		txiov[ntx].iov_base = b;
		txiov[ntx].iov_len = len;
		ntx++;
	}
	dst = rtp_dest(d, false);
	if (ntx && !dst)
		l->st.rx_dropped += (uint64_t)ntx;
	if (ntx && dst) {
		sent = tx_batch(d->rtp.fd, dst, ntx);
		for (int i = 0; i < sent; i++)
			bytes += txiov[i].iov_len;
		d->st.tx_pkts += (uint64_t)sent;
		rtp_tot.tx_pkts += (uint64_t)sent;
		d->st.tx_bytes += bytes;
	}
	rtp_local_deliver();
	mem_deref(l->r);
}

/* RFC 5761 4: RTCP packet types 192-223; version 2; at least a header. */
static bool rtcp_valid(const uint8_t *b, size_t n)
{
	return n >= 8 && (b[0] >> 6) == 2 && b[1] >= 192 && b[1] <= 223;
}

static void on_rtcp(int fd, uint32_t events, void *arg)
{
	struct leg *l = ((struct rsock *)arg)->leg;
	struct leg *d = &l->r->leg[l->id ^ 1];
	const struct sockaddr_storage *dst;
	int n, ntx = 0, sent;

	(void)events;
	n = rx_batch(fd);
	if (n <= 0 || !ha_serving())   /* a node that does not serve relays nothing */
		return;
	for (int i = 0; i < n; i++) {
		const struct sockaddr_storage *src = &rxsrc[i];

		if ((rxmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ||
		    !rtcp_valid(rxbuf[i], rxmsg[i].msg_len)) {
			l->st.rtcp_bad++;
			continue;
		}
		/* from the IP the RTP is latched to, or anyone before that */
		if (l->latched && !sa_ip_eq(src, &l->src_rtp)) {
			l->st.rx_foreign++;
			continue;
		}
		l->src_rtcp = *src;
		l->rtcp_latched = true;
		l->st.rtcp_rx++;
		txiov[ntx].iov_base = rxbuf[i];
		txiov[ntx].iov_len = rxmsg[i].msg_len;
		ntx++;
	}
	dst = rtp_dest(d, true);
	if (!ntx || !dst)
		return;
	sent = tx_batch(d->rtcp.fd, dst, ntx);
	d->st.rtcp_tx += (uint64_t)sent;
}
