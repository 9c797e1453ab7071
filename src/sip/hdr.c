/**
 * @file hdr.c  SIP header value parsers: URI, name-addr, Via, CSeq, params,
 * Digest credentials and comma-separated lists (RFC 3261 19.1, 20, 25.1).
 *
 * Every parser takes a pointer-length view and fills a struct of views into
 * the same buffer; nothing is copied, unescaped or allocated. Whitespace is
 * SP, HTAB, CR and LF, so values that kept their folded CRLF WSP parse as if
 * the fold were a single space. Results are written only on success; the
 * error is EBADMSG for malformed input and EINVAL for missing arguments.
 *
 * Where RFC 3261 and practice differ we follow practice, as RFC 4475 asks:
 *  - a display name may touch the '<' (lwsdisp), '_' is allowed in host
 *    names, and unbracketed IPv6 or bracketed values in Via params
 *    (received=[::1], RFC 5118 4.5) are accepted;
 *  - a URI of a scheme other than sip/sips is kept opaque in uri->host;
 *  - escapes stay as written ("%41" is not "A"), quoted values keep their
 *    backslashes; only sip_auth_decode() strips the surrounding quotes.
 * And where RFC 4475 marks a message invalid we stay strict: LWS inside
 * <...> (badaspec), an unquoted display name with non-token characters
 * (baddn), an addr-spec carrying '?' or ',' (regbadct), empty params
 * (badinv01) and a port outside 1..65535 are all EBADMSG.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "sip/msg.h"

/* ---------------------------------------------------------------------- */
/* Character classes (RFC 3261 25.1)                                      */
/* ---------------------------------------------------------------------- */

enum {
	C_WS    = 1 << 0,   /* SP HTAB CR LF */
	C_DIG   = 1 << 1,
	C_ALPHA = 1 << 2,
	C_HEX   = 1 << 3,
	C_TOK   = 1 << 4,   /* token */
	C_UNR   = 1 << 5,   /* unreserved: alphanum mark */
	C_HST   = 1 << 6,   /* host name: alphanum "-" "." "_" */
	C_SCH   = 1 << 7,   /* scheme: alphanum "+" "-" "." */
	C_PVAL  = 1 << 8,   /* gen-value: token or host, incl. ":[]" */
	C_USR   = 1 << 9,   /* user-unreserved */
	C_PWD   = 1 << 10,  /* password extras */
	C_PRM   = 1 << 11,  /* param-unreserved */
	C_HNV   = 1 << 12,  /* hnv-unreserved, plus the "&" "=" separators */
	C_OPQ   = 1 << 13,  /* opaque URI of another scheme: VCHAR but <>" */
};

#define DIG  (C_DIG | C_HEX | C_TOK | C_UNR | C_HST | C_SCH | C_PVAL | C_OPQ)
#define LTR  (C_ALPHA | C_TOK | C_UNR | C_HST | C_SCH | C_PVAL | C_OPQ)
#define HEXL (LTR | C_HEX)

static const uint16_t cc[256] = {
	[0x09] = C_WS, [0x0a] = C_WS, [0x0d] = C_WS, [' '] = C_WS,
	['!'] = C_TOK | C_UNR | C_PVAL | C_OPQ,
	['#'] = C_OPQ,
	['$'] = C_USR | C_PWD | C_PRM | C_HNV | C_OPQ,
	['%'] = C_TOK | C_PVAL | C_OPQ,
	['&'] = C_USR | C_PWD | C_PRM | C_HNV | C_OPQ,
	['\''] = C_TOK | C_UNR | C_PVAL | C_OPQ,
	['('] = C_UNR | C_OPQ,
	[')'] = C_UNR | C_OPQ,
	['*'] = C_TOK | C_UNR | C_PVAL | C_OPQ,
	['+'] = C_TOK | C_SCH | C_PVAL | C_USR | C_PWD | C_PRM | C_HNV | C_OPQ,
	[','] = C_USR | C_PWD | C_OPQ,
	['-'] = C_TOK | C_UNR | C_HST | C_SCH | C_PVAL | C_OPQ,
	['.'] = C_TOK | C_UNR | C_HST | C_SCH | C_PVAL | C_OPQ,
	['/'] = C_USR | C_PRM | C_HNV | C_OPQ,
	[':'] = C_PVAL | C_PRM | C_HNV | C_OPQ,
	[';'] = C_USR | C_OPQ,
	['='] = C_USR | C_PWD | C_HNV | C_OPQ,
	['?'] = C_USR | C_HNV | C_OPQ,
	['@'] = C_OPQ,
	['['] = C_PVAL | C_PRM | C_HNV | C_OPQ,
	['\\'] = C_OPQ,
	[']'] = C_PVAL | C_PRM | C_HNV | C_OPQ,
	['^'] = C_OPQ,
	['_'] = C_TOK | C_UNR | C_HST | C_PVAL | C_OPQ,
	['`'] = C_TOK | C_PVAL | C_OPQ,
	['{'] = C_OPQ, ['|'] = C_OPQ, ['}'] = C_OPQ,
	['~'] = C_TOK | C_UNR | C_PVAL | C_OPQ,
	['0'] = DIG, ['1'] = DIG, ['2'] = DIG, ['3'] = DIG, ['4'] = DIG,
	['5'] = DIG, ['6'] = DIG, ['7'] = DIG, ['8'] = DIG, ['9'] = DIG,
	['A'] = HEXL, ['B'] = HEXL, ['C'] = HEXL, ['D'] = HEXL, ['E'] = HEXL,
	['F'] = HEXL, ['G'] = LTR, ['H'] = LTR, ['I'] = LTR, ['J'] = LTR,
	['K'] = LTR, ['L'] = LTR, ['M'] = LTR, ['N'] = LTR, ['O'] = LTR,
	['P'] = LTR, ['Q'] = LTR, ['R'] = LTR, ['S'] = LTR, ['T'] = LTR,
	['U'] = LTR, ['V'] = LTR, ['W'] = LTR, ['X'] = LTR, ['Y'] = LTR,
	['Z'] = LTR,
	['a'] = HEXL, ['b'] = HEXL, ['c'] = HEXL, ['d'] = HEXL, ['e'] = HEXL,
	['f'] = HEXL, ['g'] = LTR, ['h'] = LTR, ['i'] = LTR, ['j'] = LTR,
	['k'] = LTR, ['l'] = LTR, ['m'] = LTR, ['n'] = LTR, ['o'] = LTR,
	['p'] = LTR, ['q'] = LTR, ['r'] = LTR, ['s'] = LTR, ['t'] = LTR,
	['u'] = LTR, ['v'] = LTR, ['w'] = LTR, ['x'] = LTR, ['y'] = LTR,
	['z'] = LTR,
};

static inline bool is(char c, unsigned f)
{
	return (cc[(unsigned char)c] & f) != 0;
}

/** First position at or after p that is not in class f. */
static const char *scan(const char *p, const char *e, unsigned f)
{
	while (p < e && is(*p, f))
		p++;
	return p;
}

static const char *skip_ws(const char *p, const char *e)
{
	return scan(p, e, C_WS);
}

static const char *trim_end(const char *p, const char *e)
{
	while (e > p && is(e[-1], C_WS))
		e--;
	return e;
}

/** Like scan() but also takes "%" HEX HEX; NULL on a broken escape. */
static const char *scan_esc(const char *p, const char *e, unsigned f)
{
	while (p < e) {
		if (is(*p, f))
			p++;
		else if (*p == '%') {
			if (e - p < 3 || !is(p[1], C_HEX) || !is(p[2], C_HEX))
				return NULL;
			p += 3;
		}
		else
			break;
	}
	return p;
}

/** p at a '"': the position after the closing quote, or NULL. */
static const char *scan_quoted(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\' && ++p == e)
			break;
	}
	return NULL;
}

/** [*p, *e) of a view; an empty view may have a NULL p. */
static bool bounds(const struct pl *pl, const char **p, const char **e)
{
	if (!pl || (!pl->p && pl->l))
		return false;
	*p = pl->p ? pl->p : "";
	*e = *p + pl->l;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Hosts and ports                                                        */
/* ---------------------------------------------------------------------- */

static bool ipv4_ok(const char *p, const char *e)
{
	unsigned parts = 0;

	while (parts < 4) {
		const char *d = p;
		unsigned v = 0;

		while (p < e && is(*p, C_DIG) && p - d < 3)
			v = v * 10 + (unsigned)(*p++ - '0');
		if (p == d || v > 255)
			return false;
		if (++parts < 4) {
			if (p == e || *p != '.')
				return false;
			p++;
		}
	}
	return p == e;
}

static bool ipv6_ok(const char *p, const char *e)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char a[16];
	size_t l = (size_t)(e - p);

	if (!l || l >= sizeof(buf))
		return false;
	memcpy(buf, p, l);
	buf[l] = '\0';
	return inet_pton(AF_INET6, buf, a) == 1;
}

/** hostname / IPv4address; an all-numeric name must be a dotted quad. */
static bool hostname_ok(const char *p, const char *e)
{
	bool alpha = false;
	char prev = '.';
	const char *q;

	if (p == e)
		return false;
	for (q = p; q < e; q++) {
		if (!is(*q, C_HST))
			return false;
		if (*q == '.' && prev == '.')
			return false;
		if (*q != '.' && !is(*q, C_DIG))
			alpha = true;
		prev = *q;
	}
	return alpha || ipv4_ok(p, e);
}

/**
 * host [ ":" port ] at p; SWS around ':' when ws. Sets host/port/ipv6 and
 * returns the position after, or NULL.
 */
static const char *hostport(const char *p, const char *e, bool ws,
			    struct pl *host, uint16_t *port, bool *ipv6)
{
	const char *h, *q;

	if (p < e && *p == '[') {
		h = memchr(p, ']', (size_t)(e - p));
		if (!h || !ipv6_ok(p + 1, h))
			return NULL;
		*host = pl_of(p + 1, (size_t)(h - p - 1));
		*ipv6 = true;
		p = h + 1;
	}
	else {
		h = scan(p, e, C_HST);
		if (!hostname_ok(p, h))
			return NULL;
		*host = pl_of(p, (size_t)(h - p));
		*ipv6 = false;
		p = h;
	}
	*port = 0;
	q = ws ? skip_ws(p, e) : p;
	if (q < e && *q == ':') {
		uint32_t v = 0;

		q = ws ? skip_ws(q + 1, e) : q + 1;
		h = q;
		while (q < e && is(*q, C_DIG) && v <= 65535)
			v = v * 10 + (uint32_t)(*q++ - '0');
		if (q == h || v < 1 || v > 65535 || (q < e && is(*q, C_DIG)))
			return NULL;
		*port = (uint16_t)v;
		p = q;
	}
	return p;
}

/* ---------------------------------------------------------------------- */
/* URI (RFC 3261 19.1.1, 25.1)                                            */
/* ---------------------------------------------------------------------- */

static bool scheme_is_sip(const struct pl *s)
{
	return pl_strcasecmp(s, "sip") == 0 || pl_strcasecmp(s, "sips") == 0;
}

/** userinfo in [p, at): user [ ":" password ]. */
static int userinfo(struct sip_uri *u, const char *p, const char *at)
{
	const char *s = scan_esc(p, at, C_UNR | C_USR);

	if (!s || s == p)
		return EBADMSG;
	u->user = pl_of(p, (size_t)(s - p));
	if (s == at)
		return 0;
	if (*s != ':')
		return EBADMSG;
	p = s + 1;
	s = scan_esc(p, at, C_UNR | C_PWD);
	if (s != at)
		return EBADMSG;
	u->password = pl_of(p, (size_t)(s - p));
	return 0;
}

/** *( ";" pname [ "=" pvalue ] ) of a SIP URI from p; end or NULL. */
static const char *uri_params(const char *p, const char *e)
{
	while (p < e && *p == ';') {
		const char *n = p + 1, *q;

		q = scan_esc(n, e, C_UNR | C_PRM);
		if (!q || q == n)
			return NULL;
		if (q < e && *q == '=') {
			n = q + 1;
			q = scan_esc(n, e, C_UNR | C_PRM);
			if (!q || q == n)
				return NULL;
		}
		p = q;
	}
	return p;
}

int sip_uri_decode(struct sip_uri *uri, const struct pl *pl)
{
	struct sip_uri u;
	const char *p, *e, *s, *at;

	if (!uri || !bounds(pl, &p, &e))
		return EINVAL;
	memset(&u, 0, sizeof(u));
	s = scan(p, e, C_SCH);
	if (s == p || s == e || *s != ':' || !is(*p, C_ALPHA))
		return EBADMSG;
	u.scheme = pl_of(p, (size_t)(s - p));
	p = s + 1;

	if (!scheme_is_sip(&u.scheme)) {
		if (p == e || scan(p, e, C_OPQ) != e)
			return EBADMSG;
		u.host = pl_of(p, (size_t)(e - p));
		*uri = u;
		return 0;
	}

	/* '@' may only separate userinfo: user, params and headers escape it */
	at = memchr(p, '@', (size_t)(e - p));
	if (at) {
		if (userinfo(&u, p, at))
			return EBADMSG;
		p = at + 1;
	}
	p = hostport(p, e, false, &u.host, &u.port, &u.ipv6);
	if (!p)
		return EBADMSG;
	if (p < e && *p == ';') {
		s = p;
		p = uri_params(p, e);
		if (!p)
			return EBADMSG;
		u.params = pl_of(s, (size_t)(p - s));
	}
	if (p < e && *p == '?') {
		s = ++p;
		p = scan_esc(p, e, C_UNR | C_HNV);
		if (!p || p == s)
			return EBADMSG;
		u.headers = pl_of(s, (size_t)(p - s));
	}
	if (p != e)
		return EBADMSG;
	*uri = u;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Generic params (RFC 3261 25.1 generic-param, via-params)               */
/* ---------------------------------------------------------------------- */

/**
 * Validate *( SEMI generic-param ) from p. Stops at the end or at a ','
 * outside quotes, returned in *endp (trailing LWS skipped).
 */
static int gparams(const char *p, const char *e, const char **endp)
{
	for (;;) {
		const char *q = skip_ws(p, e), *n;

		if (q == e || *q == ',') {
			*endp = q;
			return 0;
		}
		if (*q != ';')
			return EBADMSG;
		q = skip_ws(q + 1, e);
		n = scan(q, e, C_TOK);
		if (n == q)
			return EBADMSG;
		p = n;
		q = skip_ws(n, e);
		if (q < e && *q == '=') {
			q = skip_ws(q + 1, e);
			if (q < e && *q == '"')
				n = scan_quoted(q, e);
			else
				n = scan(q, e, C_PVAL);
			if (!n || n == q)
				return EBADMSG;
			p = n;
		}
	}
}

int sip_param_get(const struct pl *params, const char *name, struct pl *val)
{
	const char *p, *e;
	size_t nl;

	if (!name || !val || !bounds(params, &p, &e))
		return EINVAL;
	nl = strlen(name);
	while (p < e) {
		const char *n, *ne, *v, *ve;

		p = memchr(p, ';', (size_t)(e - p));
		if (!p)
			break;
		n = skip_ws(p + 1, e);
		ne = n;
		while (ne < e && *ne != '=' && *ne != ';' && *ne != ','
		       && !is(*ne, C_WS))
			ne++;
		v = ve = ne;
		p = skip_ws(ne, e);
		if (p < e && *p == '=') {
			v = skip_ws(p + 1, e);
			if (v < e && *v == '"') {
				ve = scan_quoted(v, e);
				if (!ve)
					ve = e;
			}
			else {
				ve = v;
				while (ve < e && *ve != ';' && *ve != ','
				       && !is(*ve, C_WS))
					ve++;
			}
			p = ve;
		}
		if ((size_t)(ne - n) == nl && strncasecmp(n, name, nl) == 0) {
			*val = pl_of(v, (size_t)(ve - v));
			return 0;
		}
	}
	return ENOENT;
}

/* ---------------------------------------------------------------------- */
/* name-addr / addr-spec (RFC 3261 20.10, 20.20, 20.39)                   */
/* ---------------------------------------------------------------------- */

int sip_addr_decode(struct sip_addr *addr, const struct pl *pl)
{
	struct sip_addr a;
	const char *p, *e, *q, *lt = NULL, *end;

	if (!addr || !bounds(pl, &p, &e))
		return EINVAL;
	memset(&a, 0, sizeof(a));
	p = skip_ws(p, e);
	e = trim_end(p, e);
	if (p == e)
		return EBADMSG;
	if (e - p == 1 && *p == '*') {
		a.star = true;
		*addr = a;
		return 0;
	}

	if (*p == '"') {
		q = scan_quoted(p, e);
		if (!q)
			return EBADMSG;
		a.dname = pl_of(p, (size_t)(q - p));
		lt = skip_ws(q, e);
		if (lt == e || *lt != '<')
			return EBADMSG;
	}
	else {
		for (q = p; q < e && is(*q, C_TOK | C_WS); q++)
			;
		if (q < e && *q == '<') {
			lt = q;
			a.dname = pl_of(p, (size_t)(trim_end(p, q) - p));
		}
	}

	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(e - lt));

		if (!gt)
			return EBADMSG;
		a.auri = pl_of(lt + 1, (size_t)(gt - lt - 1));
		q = gt + 1;
	}
	else {
		/* addr-spec: params after the URI belong to the header */
		for (q = p; q < e && *q != ';' && !is(*q, C_WS); q++)
			if (*q == '?' || *q == ',')
				return EBADMSG;
		a.auri = pl_of(p, (size_t)(q - p));
	}
	if (sip_uri_decode(&a.uri, &a.auri))
		return EBADMSG;
	if (gparams(q, e, &end) || end != e)
		return EBADMSG;
	q = skip_ws(q, e);
	a.params = pl_of(q, (size_t)(e - q));
	if (sip_param_get(&a.params, "tag", &a.tag))
		a.tag = (struct pl)PL_INIT;
	*addr = a;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Via (RFC 3261 20.42)                                                   */
/* ---------------------------------------------------------------------- */

/** token SWS "/" SWS; returns the position after or NULL. */
static const char *proto_part(const char *p, const char *e, struct pl *tok)
{
	const char *q = scan(p, e, C_TOK);

	if (q == p)
		return NULL;
	*tok = pl_of(p, (size_t)(q - p));
	q = skip_ws(q, e);
	if (q == e || *q != '/')
		return NULL;
	return skip_ws(q + 1, e);
}

int sip_via_decode(struct sip_via *via, const struct pl *pl)
{
	struct sip_via v;
	struct pl name, ver;
	const char *p, *e, *start, *q, *end;
	bool ipv6;

	if (!via || !bounds(pl, &p, &e))
		return EINVAL;
	memset(&v, 0, sizeof(v));
	start = p = skip_ws(p, e);
	p = proto_part(p, e, &name);
	if (!p || pl_strcasecmp(&name, "SIP"))
		return EBADMSG;
	p = proto_part(p, e, &ver);
	if (!p)
		return EBADMSG;
	q = scan(p, e, C_TOK);
	if (q == p)
		return EBADMSG;
	v.transport = pl_of(p, (size_t)(q - p));
	p = skip_ws(q, e);
	if (p == q || p == e)
		return EBADMSG;
	p = hostport(p, e, true, &v.host, &v.port, &ipv6);
	if (!p || gparams(p, e, &end))
		return EBADMSG;
	end = trim_end(p, end);
	q = skip_ws(p, end);
	v.params = pl_of(q, (size_t)(end - q));
	v.val = pl_of(start, (size_t)(end - start));
	if (sip_param_get(&v.params, "branch", &v.branch))
		v.branch = (struct pl)PL_INIT;
	if (sip_param_get(&v.params, "received", &v.received))
		v.received = (struct pl)PL_INIT;
	if (sip_param_get(&v.params, "rport", &v.rport) == 0)
		v.has_rport = true;
	else
		v.rport = (struct pl)PL_INIT;
	*via = v;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* CSeq (RFC 3261 20.16)                                                  */
/* ---------------------------------------------------------------------- */

int sip_cseq_decode(struct sip_cseq *cseq, const struct pl *pl)
{
	const char *p, *e, *d, *q, *m;
	struct pl num;
	uint32_t n;

	if (!cseq || !bounds(pl, &p, &e))
		return EINVAL;
	p = skip_ws(p, e);
	d = scan(p, e, C_DIG);
	num = pl_of(p, (size_t)(d - p));
	if (d == p || pl_u32(&num, &n))
		return EBADMSG;
	q = skip_ws(d, e);
	m = scan(q, e, C_TOK);
	if (q == d || m == q || skip_ws(m, e) != e)
		return EBADMSG;
	cseq->num = n;
	cseq->met = pl_of(q, (size_t)(m - q));
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Comma-separated values (RFC 3261 7.3.1)                                */
/* ---------------------------------------------------------------------- */

static int emit(const char *p, const char *e, sip_val_h *h, void *arg)
{
	struct pl v;

	p = skip_ws(p, e);
	e = trim_end(p, e);
	if (p == e)
		return 0;     /* empty list elements are skipped */
	v = pl_of(p, (size_t)(e - p));
	return h(&v, arg);
}

int sip_hdr_values(const struct pl *val, sip_val_h *h, void *arg)
{
	const char *p, *e, *s;
	bool angle = false;
	int err;

	if (!h || !bounds(val, &p, &e))
		return EINVAL;
	for (s = p; p < e; p++) {
		switch (*p) {
		case '"':
			p = scan_quoted(p, e);
			if (!p)
				p = e;   /* unterminated: the rest is one value */
			p--;
			break;
		case '<':
			angle = true;
			break;
		case '>':
			angle = false;
			break;
		case ',':
			if (angle)
				break;
			err = emit(s, p, h, arg);
			if (err)
				return err;
			s = p + 1;
			break;
		default:
			break;
		}
	}
	return emit(s, e, h, arg);
}

/* ---------------------------------------------------------------------- */
/* Digest credentials (RFC 3261 22.4, RFC 7616 3.4)                       */
/* ---------------------------------------------------------------------- */

enum { A_USERNAME, A_REALM, A_NONCE, A_URI, A_RESPONSE, A_ALGORITHM,
       A_CNONCE, A_OPAQUE, A_QOP, A_NC, A_USERHASH, A_COUNT };

static const char *const auth_names[A_COUNT] = {
	"username", "realm", "nonce", "uri", "response", "algorithm",
	"cnonce", "opaque", "qop", "nc", "userhash",
};

static struct pl *auth_field(struct sip_auth *a, int i)
{
	struct pl *f[A_COUNT - 1] = {
		&a->username, &a->realm, &a->nonce, &a->uri, &a->response,
		&a->algorithm, &a->cnonce, &a->opaque, &a->qop, &a->nc,
	};
	return i < A_USERHASH ? f[i] : NULL;
}

/** One auth-param at p: name EQUAL ( token / quoted-string ). */
static const char *auth_param(const char *p, const char *e, struct pl *name,
			      struct pl *val)
{
	const char *q = scan(p, e, C_TOK), *v;

	if (q == p)
		return NULL;
	*name = pl_of(p, (size_t)(q - p));
	q = skip_ws(q, e);
	if (q == e || *q != '=')
		return NULL;
	q = skip_ws(q + 1, e);
	if (q < e && *q == '"') {
		v = scan_quoted(q, e);
		if (!v)
			return NULL;
		*val = pl_of(q + 1, (size_t)(v - q - 2));
		return v;
	}
	v = scan(q, e, C_TOK);
	if (v == q)
		return NULL;
	*val = pl_of(q, (size_t)(v - q));
	return v;
}

int sip_auth_decode(struct sip_auth *auth, const struct pl *pl)
{
	struct sip_auth a;
	struct pl uh = PL_INIT;
	const char *p, *e, *q;
	unsigned seen = 0;

	if (!auth || !bounds(pl, &p, &e))
		return EINVAL;
	memset(&a, 0, sizeof(a));
	p = skip_ws(p, e);
	q = scan(p, e, C_TOK);
	if (q == p)
		return EBADMSG;
	a.scheme = pl_of(p, (size_t)(q - p));
	if (pl_strcasecmp(&a.scheme, "Digest"))
		return ENOTSUP;
	p = skip_ws(q, e);
	if (p != e && p == q)
		return EBADMSG;

	while (p < e) {
		struct pl name, val;
		int i;

		if (*p == ',') {          /* empty list elements */
			p = skip_ws(p + 1, e);
			continue;
		}
		p = auth_param(p, e, &name, &val);
		if (!p)
			return EBADMSG;
		for (i = 0; i < A_COUNT; i++)
			if (pl_strcasecmp(&name, auth_names[i]) == 0)
				break;
		if (i < A_COUNT) {
			if (seen & (1u << i))
				return EBADMSG;
			seen |= 1u << i;
			if (i == A_USERHASH)
				uh = val;
			else
				*auth_field(&a, i) = val;
		}
		p = skip_ws(p, e);
		if (p < e && *p != ',')
			return EBADMSG;
	}
	a.userhash = pl_strcasecmp(&uh, "true") == 0;
	*auth = a;
	return 0;
}
