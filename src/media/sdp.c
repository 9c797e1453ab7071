/**
 * @file sdp.c  SDP parser and encoder.
 *
 * RFC 4566 5: a body is "<type>=<value>" lines, v= first, then o=, s=,
 * session-level lines, then media sections each opened by m=. What the
 * parser insists on (anything else is EBADMSG, which the call layer turns
 * into 488 Not Acceptable Here):
 *   - every line is a lowercase letter, '=', then text without NUL or CR;
 *   - v=0 comes first; o= has six fields with numeric id and version;
 *   - c= is "IN IP4|IP6 <addr>[/ttl[/n]]";
 *   - m= is "<media> <port>[/n] <proto> <fmt>..." with at least one format,
 *     every field visible ASCII, and RTP profiles use numeric PTs 0-127;
 *   - a=rtpmap is "<pt> <name>/<rate>[/<params>]";
 *   - every enabled stream has a connection address (session or media c=);
 *   - at most SDP_MEDIA_MAX m= lines.
 * Leniencies, for interop: unknown type letters and unknown attributes
 * are skipped (RFC 4566 says to reject unknown letters; real phones send
 * y= and f=), s= and t= may be missing, LF alone ends a line, blank lines
 * are skipped, formats past SDP_FMT_MAX are ignored.
 *
 * The encoder writes our offers and answers (RFC 3264 5 and 6); the o=
 * version grows only when the body changes (RFC 3264 8).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "media/sdp.h"

/* ================================================================
 * Small helpers
 * ================================================================ */

const char *sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDRECV: return "sendrecv";
	case SDP_SENDONLY: return "sendonly";
	case SDP_RECVONLY: return "recvonly";
	case SDP_INACTIVE: return "inactive";
	}
	return "?";
}

enum sdp_dir sdp_dir_reverse(enum sdp_dir d)
{
	if (d == SDP_SENDONLY)
		return SDP_RECVONLY;
	if (d == SDP_RECVONLY)
		return SDP_SENDONLY;
	return d;
}

enum sdp_dir sdp_dir_and(enum sdp_dir a, enum sdp_dir b)
{
	bool send = (a == SDP_SENDRECV || a == SDP_SENDONLY) &&
		    (b == SDP_SENDRECV || b == SDP_SENDONLY);
	bool recv = (a == SDP_SENDRECV || a == SDP_RECVONLY) &&
		    (b == SDP_SENDRECV || b == SDP_RECVONLY);

	if (send && recv)
		return SDP_SENDRECV;
	if (send)
		return SDP_SENDONLY;
	if (recv)
		return SDP_RECVONLY;
	return SDP_INACTIVE;
}

/* Next space-separated token of *v (leading spaces skipped); empty at end. */
static struct pl tok(struct pl *v)
{
	struct pl t = PL_INIT;

	if (!v->p)
		return t;
	while (v->l && *v->p == ' ') {
		v->p++;
		v->l--;
	}
	t.p = v->p;
	t.l = 0;
	while (t.l < v->l && t.p[t.l] != ' ')
		t.l++;
	v->p += t.l;
	v->l -= t.l;
	return t;
}

static bool isdigits(const struct pl *t)
{
	if (!t->l)
		return false;
	for (size_t i = 0; i < t->l; i++)
		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
	return true;
}

/* RFC 4566 token: visible ASCII only (we echo these in our answers). */
static bool istoken(const struct pl *t)
{
	if (!t->l)
		return false;
	for (size_t i = 0; i < t->l; i++)
		if (t->p[i] <= ' ' || t->p[i] > '~')
			return false;
	return true;
}

/* Numeric 64-bit field; saturates instead of failing (o= values). */
static int num64(const struct pl *t, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigits(t))
		return EBADMSG;
	for (size_t i = 0; i < t->l; i++) {
		unsigned d = (unsigned)(t->p[i] - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*out = v;
	return 0;
}

static int num_max(const struct pl *t, uint32_t max, uint32_t *out)
{
	uint32_t v;

	if (!isdigits(t) || pl_u32(t, &v) || v > max)
		return EBADMSG;
	*out = v;
	return 0;
}

/* ================================================================
 * Decoding
 * ================================================================ */

struct pstate {
	struct sdp_session *s;
	struct sdp_media *m;          /* current media section, NULL at session */
	bool dir_set[SDP_MEDIA_MAX];
	bool seen_o;
};

static int conn_fields(struct sdp_conn *c, struct pl *v)
{
	struct pl net = tok(v), type = tok(v), addr = tok(v);
	const char *slash;

	if (pl_strcmp(&net, "IN") || !type.l || !addr.l || tok(v).l)
		return EBADMSG;
	slash = pl_chr(&addr, '/');
	if (slash)
		addr.l = (size_t)(slash - addr.p);
	if (!addr.l)
		return EBADMSG;
	c->addrtype = type;
	c->addr = addr;
	return 0;
}

static int line_o(struct pstate *ps, struct pl v)
{
	struct sdp_session *s = ps->s;
	struct pl user = tok(&v), id = tok(&v), ver = tok(&v);
	struct pl net = tok(&v), type = tok(&v), addr = tok(&v);

	if (ps->seen_o || ps->m || !user.l || !net.l || !type.l || !addr.l || tok(&v).l)
		return EBADMSG;
	if (num64(&id, &s->sess_id) || num64(&ver, &s->sess_ver))
		return EBADMSG;
	s->o_user = user;
	s->o_addr.addrtype = type;
	s->o_addr.addr = addr;
	ps->seen_o = true;
	return 0;
}

static int line_m(struct pstate *ps, struct pl v)
{
	struct sdp_session *s = ps->s;
	struct pl type = tok(&v), port = tok(&v), proto = tok(&v), f;
	const char *slash = pl_chr(&port, '/');
	struct sdp_media *m;
	uint32_t n;

	if (s->nmedia >= SDP_MEDIA_MAX || !istoken(&type) || !istoken(&proto))
		return EBADMSG;
	m = &s->media[s->nmedia];
	memset(m, 0, sizeof(*m));
	if (slash) {
		struct pl cnt = pl_of(slash + 1, port.l - (size_t)(slash - port.p) - 1);
		port.l = (size_t)(slash - port.p);
		if (num_max(&cnt, 65535, &n))
			return EBADMSG;
	}
	if (num_max(&port, 65535, &n))
		return EBADMSG;
	m->port = (uint16_t)n;
	m->type = type;
	m->proto = proto;
	m->rtp = proto.l >= 4 && !strncmp(proto.p, "RTP/", 4);
	m->dir = s->dir;
	while ((f = tok(&v)).l) {
		struct sdp_fmt *fmt;

		if (!istoken(&f) || (m->rtp && num_max(&f, 127, &n)))
			return EBADMSG;
		if (m->nfmt >= SDP_FMT_MAX)
			continue;
		fmt = &m->fmt[m->nfmt++];
		fmt->id = f;
		fmt->pt = m->rtp ? (int)n : -1;
		fmt->codec = CODEC_NONE;
	}
	if (!m->nfmt)
		return EBADMSG;
	s->nmedia++;
	ps->m = m;
	return 0;
}

static struct sdp_fmt *fmt_find(struct sdp_media *m, const struct pl *id)
{
	for (size_t i = 0; i < m->nfmt; i++)
		if (!pl_cmp(&m->fmt[i].id, id))
			return &m->fmt[i];
	return NULL;
}

/* a=rtpmap:<pt> <name>/<rate>[/<params>] */
static int attr_rtpmap(struct sdp_media *m, struct pl v)
{
	struct pl id = tok(&v), enc, rate, params = PL_INIT;
	const char *s1, *s2;
	struct sdp_fmt *f;
	uint32_t r;

	pl_trim(&v);
	if (!isdigits(&id) || !v.l)
		return EBADMSG;
	s1 = pl_chr(&v, '/');
	if (!s1 || s1 == v.p)
		return EBADMSG;
	enc = pl_of(v.p, (size_t)(s1 - v.p));
	rate = pl_of(s1 + 1, v.l - enc.l - 1);
	s2 = pl_chr(&rate, '/');
	if (s2) {
		params = pl_of(s2 + 1, rate.l - (size_t)(s2 - rate.p) - 1);
		rate.l = (size_t)(s2 - rate.p);
	}
	if (num_max(&rate, UINT32_MAX, &r) || !r)
		return EBADMSG;
	f = m ? fmt_find(m, &id) : NULL;
	if (!f)
		return 0;       /* rtpmap for a format not offered: ignored */
	f->name = enc;
	f->rate = r;
	f->params = params;
	return 0;
}

/* a=rtcp:<port> [IN IP4 <addr>] (RFC 3605) */
static int attr_rtcp(struct sdp_media *m, struct pl v)
{
	struct pl port = tok(&v);
	uint32_t n;

	if (num_max(&port, 65535, &n))
		return EBADMSG;
	pl_trim(&v);
	if (v.l && conn_fields(&m->rtcp_c, &v))
		return EBADMSG;
	m->rtcp_port = (uint16_t)n;
	return 0;
}

static int line_a(struct pstate *ps, struct pl v)
{
	const char *colon = pl_chr(&v, ':');
	struct pl name = v, val = PL_INIT;
	struct sdp_media *m = ps->m;
	int dir = -1;

	if (colon) {
		name.l = (size_t)(colon - v.p);
		val = pl_of(colon + 1, v.l - name.l - 1);
	}
	if (!name.l)
		return EBADMSG;
	if (!pl_strcmp(&name, "sendrecv"))
		dir = SDP_SENDRECV;
	else if (!pl_strcmp(&name, "sendonly"))
		dir = SDP_SENDONLY;
	else if (!pl_strcmp(&name, "recvonly"))
		dir = SDP_RECVONLY;
	else if (!pl_strcmp(&name, "inactive"))
		dir = SDP_INACTIVE;
	if (dir >= 0) {
		if (m) {
			m->dir = (enum sdp_dir)dir;
			ps->dir_set[m - ps->s->media] = true;
		} else {
			ps->s->dir = (enum sdp_dir)dir;
		}
		return 0;
	}
	if (!pl_strcmp(&name, "rtpmap"))
		return attr_rtpmap(m, val);
	if (!m)
		return 0;       /* other session-level attributes: not used */
	if (!pl_strcmp(&name, "fmtp")) {
		struct pl id = tok(&val);
		struct sdp_fmt *f = fmt_find(m, &id);
		pl_trim(&val);
		if (f)
			f->fmtp = val;
	} else if (!pl_strcmp(&name, "ptime")) {
		uint32_t n = 0;
		size_t i;
		for (i = 0; i < val.l && val.p[i] >= '0' && val.p[i] <= '9' && n < 100000; i++)
			n = n * 10 + (uint32_t)(val.p[i] - '0');
		m->ptime = i ? n : 0;
	} else if (!pl_strcmp(&name, "rtcp")) {
		return attr_rtcp(m, val);
	} else if (!pl_strcmp(&name, "rtcp-mux")) {
		m->rtcp_mux = true;
	}
	return 0;
}

static int line(struct pstate *ps, char type, struct pl v)
{
	struct sdp_session *s = ps->s;

	switch (type) {
	case 'v':
		return EBADMSG;          /* only once, first */
	case 'o':
		return line_o(ps, v);
	case 's':
		if (!ps->m)
			s->name = v;
		return 0;
	case 'c':
		return conn_fields(ps->m ? &ps->m->c : &s->c, &v);
	case 'm':
		return line_m(ps, v);
	case 'a':
		return line_a(ps, v);
	default:
		return 0;                /* i u e p b t r z k and unknown letters */
	}
}

static void resolve(struct pstate *ps)
{
	struct sdp_session *s = ps->s;

	for (size_t i = 0; i < s->nmedia; i++) {
		struct sdp_media *m = &s->media[i];
		if (!ps->dir_set[i])
			m->dir = s->dir;
		for (size_t k = 0; k < m->nfmt; k++) {
			struct sdp_fmt *f = &m->fmt[k];
			if (f->name.l)
				f->codec = codec_by_rtpmap(&f->name, f->rate);
			else if (f->pt >= 0 && f->pt < 96)
				f->codec = codec_by_static_pt((unsigned)f->pt);
		}
	}
}

int sdp_decode(struct sdp_session *s, const char *buf, size_t len)
{
	struct pstate ps;
	size_t pos = 0;
	bool first = true;
	int err;

	if (!s || !buf || memchr(buf, '\0', len))
		return EBADMSG;
	memset(s, 0, sizeof(*s));
	memset(&ps, 0, sizeof(ps));
	ps.s = s;
	while (pos < len) {
		const char *p = buf + pos, *nl = memchr(p, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - p) : len - pos;
		struct pl v;

		pos += l + (nl ? 1 : 0);
		if (l && p[l - 1] == '\r')
			l--;
		if (!l)
			continue;
		if (memchr(p, '\r', l))
			return EBADMSG;     /* a bare CR could smuggle lines */
		if (l < 2 || p[0] < 'a' || p[0] > 'z' || p[1] != '=')
			return EBADMSG;
		v = pl_of(p + 2, l - 2);
		while (v.l && (v.p[v.l - 1] == ' ' || v.p[v.l - 1] == '\t' ||
			       v.p[v.l - 1] == '\r'))
			v.l--;
		if (first) {
			if (p[0] != 'v' || pl_strcmp(&v, "0"))
				return EBADMSG;
			first = false;
			continue;
		}
		err = line(&ps, p[0], v);
		if (err)
			return err;
	}
	if (first || !ps.seen_o)
		return EBADMSG;
	for (size_t i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];
		if (m->port && !sdp_media_conn(s, m))
			return EBADMSG;
	}
	resolve(&ps);
	return 0;
}

/* ================================================================
 * Queries
 * ================================================================ */

const struct sdp_conn *sdp_media_conn(const struct sdp_session *s,
				      const struct sdp_media *m)
{
	if (m && m->c.addr.l)
		return &m->c;
	if (s->c.addr.l)
		return &s->c;
	return NULL;
}

static int conn_sa(const struct sdp_conn *c, uint16_t port, struct sockaddr_storage *sa)
{
	char host[64];

	if (!c || c->addr.l >= sizeof(host))
		return EADDRNOTAVAIL;
	pl_strcpy(&c->addr, host, sizeof(host));
	memset(sa, 0, sizeof(*sa));
	if (!pl_strcmp(&c->addrtype, "IP4")) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return EADDRNOTAVAIL;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		return 0;
	}
	if (!pl_strcmp(&c->addrtype, "IP6")) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return EADDRNOTAVAIL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return 0;
	}
	return EADDRNOTAVAIL;
}

int sdp_media_addr(const struct sdp_session *s, const struct sdp_media *m,
		   struct sockaddr_storage *rtp, struct sockaddr_storage *rtcp)
{
	const struct sdp_conn *c = sdp_media_conn(s, m);
	struct sockaddr_storage a, b;
	uint16_t rport;
	int err;

	if (!m->port)
		return EINVAL;
	err = conn_sa(c, m->port, &a);
	if (err)
		return err;
	/* a=rtcp-mux is an offer to multiplex (RFC 5761 5.1.1); we never
	 * accept it (our answers leave it out), so RTCP stays on its own port */
	rport = m->rtcp_port ? m->rtcp_port : (uint16_t)(m->port + 1);
	err = conn_sa(m->rtcp_c.addr.l ? &m->rtcp_c : c, rport, &b);
	if (err)
		return err;
	if (rtp)
		*rtp = a;
	if (rtcp)
		*rtcp = b;
	return 0;
}

enum sdp_dir sdp_media_dir(const struct sdp_session *s, const struct sdp_media *m)
{
	const struct sdp_conn *c = sdp_media_conn(s, m);

	if (c && !pl_strcmp(&c->addr, "0.0.0.0"))
		return sdp_dir_and(m->dir, SDP_SENDONLY);
	return m->dir;
}

const struct sdp_media *sdp_audio(const struct sdp_session *s)
{
	for (size_t i = 0; i < s->nmedia; i++)
		if (s->media[i].rtp && !pl_strcmp(&s->media[i].type, "audio"))
			return &s->media[i];
	return NULL;
}

/* ================================================================
 * Encoding
 * ================================================================ */

struct out {
	char *buf;
	size_t size, len;
	bool full;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void put_media(struct out *o, const struct sdp_lmedia *lm)
{
	struct pl type = lm->type.l ? lm->type : PL("audio");
	struct pl proto = lm->proto.l ? lm->proto : PL("RTP/AVP");

	put(o, "m=%.*s %u %.*s", PL_ARG(type), lm->port, PL_ARG(proto));
	if (!lm->port || !lm->npts) {
		struct pl f = lm->rejfmt.l ? lm->rejfmt : PL("0");
		put(o, " %.*s\r\n", PL_ARG(f));
		return;
	}
	for (size_t i = 0; i < lm->npts; i++)
		put(o, " %u", lm->pts[i].pt);
	put(o, "\r\n");
	for (size_t i = 0; i < lm->npts; i++) {
		const struct codec_info *ci = codec_info(lm->pts[i].codec);
		if (!ci)
			continue;
		if (ci->channels > 1)
			put(o, "a=rtpmap:%u %s/%u/%u\r\n", lm->pts[i].pt, ci->name,
			    ci->rate, ci->channels);
		else
			put(o, "a=rtpmap:%u %s/%u\r\n", lm->pts[i].pt, ci->name, ci->rate);
		if (ci->codec == CODEC_TELEVENT)
			put(o, "a=fmtp:%u 0-16\r\n", lm->pts[i].pt);
		else if (ci->codec == CODEC_G729)
			put(o, "a=fmtp:%u annexb=no\r\n", lm->pts[i].pt);
	}
	if (lm->ptime)
		put(o, "a=ptime:%u\r\n", lm->ptime);
	put(o, "a=%s\r\n", sdp_dir_name(lm->dir));
}

static uint64_t fnv64(const char *p, size_t l)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < l; i++) {
		h ^= (uint8_t)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int sdp_encode(char *buf, size_t size, size_t *lenp, struct sdp_origin *org,
	       const struct sdp_local *l)
{
	struct out o = { buf, size, 0, false };
	char host[INET6_ADDRSTRLEN], hdr[256];
	const char *ipv;
	uint64_t digest;
	int n;

	if (!buf || !size || !org || !l || l->nmedia > SDP_MEDIA_MAX)
		return EINVAL;
	if (l->addr.ss_family == AF_INET) {
		ipv = "IP4";
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&l->addr)->sin_addr,
			  host, sizeof(host));
	} else if (l->addr.ss_family == AF_INET6) {
		ipv = "IP6";
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&l->addr)->sin6_addr,
			  host, sizeof(host));
	} else {
		return EINVAL;
	}
	/* the body after o=, written first so it can be digested */
	put(&o, "s=%s\r\nc=IN %s %s\r\nt=0 0\r\n", l->user ? l->user : "tandem", ipv, host);
	for (size_t i = 0; i < l->nmedia; i++)
		put_media(&o, &l->media[i]);
	if (o.full)
		return ENOSPC;
	digest = fnv64(buf, o.len);
	if (!org->id) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		org->id = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	}
	if (!org->ver || digest != org->digest) {
		org->ver++;
		org->digest = digest;
	}
	n = snprintf(hdr, sizeof(hdr), "v=0\r\no=%s %llu %llu IN %s %s\r\n",
		     l->user ? l->user : "tandem", (unsigned long long)org->id,
		     (unsigned long long)org->ver, ipv, host);
	if (n < 0 || (size_t)n >= sizeof(hdr) || (size_t)n + o.len >= size)
		return ENOSPC;
	memmove(buf + n, buf, o.len);
	memcpy(buf, hdr, (size_t)n);
	buf[n + o.len] = '\0';
	if (lenp)
		*lenp = (size_t)n + o.len;
	return 0;
}
