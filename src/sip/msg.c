/**
 * @file msg.c  SIP message framing and decoding (RFC 3261 7, 18.3, 20), zero-copy.
 *
 * sip_msg_decode() walks the message once: the start line, then each
 * header line, whose name is mapped to an id (compact forms included) and
 * whose value is kept as a view, folds and all. The headers every
 * transaction needs (top Via, From, To, Call-ID, CSeq, Max-Forwards,
 * Content-Length) are parsed once the walk is done; the others wait for
 * the caller and the helpers of hdr.c.
 *
 * Errors come in two weights. A start line that cannot be read, a message
 * over SIP_MSG_MAX, or a missing or broken Via, From, To, Call-ID or CSeq
 * leaves msg->req false: nothing can be answered and the caller drops the
 * message. Everything else (a bad Request-URI, an unsupported version, a
 * CSeq method that differs from the request's, duplicated single-valued
 * headers, a bad or conflicting Content-Length, a short body, a header
 * line without "name:" (skipped), more than SIP_MAX_HDRS headers (the rest
 * are not stored but still looked at)) lets the walk go on, so that a
 * request keeps req true and its five key fields for the 400 (or 505)
 * reply. msg->err names the first problem found; "Version Not Supported"
 * means answer 505. A response with any error is to be dropped.
 *
 * Leniency, on purpose:
 *  - lines may end in a bare LF instead of CRLF (RFC 3261 7 asks for CRLF;
 *    many stacks send LF), in the head and in the stream framing;
 *  - CRLFs before the start line are skipped, in datagrams as in streams;
 *  - a datagram that ends without the empty line after the headers is
 *    taken as having no body;
 *  - Max-Forwards takes any 32-bit value (RFC 3261 says 0..255);
 *  - repeated Content-Length headers with the same value are accepted.
 * And strictness: the Request-URI must be exactly one token between single
 * spaces, with no headers part (RFC 4475 lwsruri, lwsstart, trws, escruri,
 * ltgtruri), and status codes are three digits, 100..699 (bigcode).
 *
 * Framing (18.3): on streams Content-Length is mandatory and decides where
 * the message ends; on datagrams it may be absent (the body is then the
 * rest), a longer datagram is cut at Content-Length (dblreq) and a shorter
 * one is an error (clerr). sip_msg_frame() keeps no state between calls:
 * each one rescans the buffered head, never more than SIP_MSG_MAX bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "sip/msg.h"

/* token (RFC 3261 25.1): alphanum and -.!%*_+`'~, as a 256-bit map */
static const uint32_t tokmap[8] = {
	0x00000000, 0x03ff6ca2, 0x87fffffe, 0x47ffffff,
};

static inline bool is_tok(char c)
{
	unsigned char u = (unsigned char)c;
	return (tokmap[u >> 5] >> (u & 31)) & 1;
}

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static const char *scan_tok(const char *p, const char *e)
{
	while (p < e && is_tok(*p))
		p++;
	return p;
}

/* ---------------------------------------------------------------------- */
/* Header names                                                           */
/* ---------------------------------------------------------------------- */

struct hname {
	const char *name;    /* lower case */
	size_t len;
	enum sip_hdr_id id;
};

#define H(s, id) { s, sizeof(s) - 1, id }
static const struct hname hn_a[] = {
	H("accept", SIP_HDR_ACCEPT), H("allow", SIP_HDR_ALLOW),
	H("allow-events", SIP_HDR_ALLOW_EVENTS),
	H("authorization", SIP_HDR_AUTHORIZATION), { NULL, 0, 0 } };
static const struct hname hn_c[] = {
	H("call-id", SIP_HDR_CALL_ID), H("contact", SIP_HDR_CONTACT),
	H("content-encoding", SIP_HDR_CONTENT_ENCODING),
	H("content-length", SIP_HDR_CONTENT_LENGTH),
	H("content-type", SIP_HDR_CONTENT_TYPE), H("cseq", SIP_HDR_CSEQ),
	{ NULL, 0, 0 } };
static const struct hname hn_e[] = {
	H("event", SIP_HDR_EVENT), H("expires", SIP_HDR_EXPIRES), { NULL, 0, 0 } };
static const struct hname hn_f[] = { H("from", SIP_HDR_FROM), { NULL, 0, 0 } };
static const struct hname hn_m[] = {
	H("max-forwards", SIP_HDR_MAX_FORWARDS),
	H("min-expires", SIP_HDR_MIN_EXPIRES), { NULL, 0, 0 } };
static const struct hname hn_p[] = {
	H("proxy-authenticate", SIP_HDR_PROXY_AUTHENTICATE),
	H("proxy-authorization", SIP_HDR_PROXY_AUTHORIZATION),
	H("proxy-require", SIP_HDR_PROXY_REQUIRE), { NULL, 0, 0 } };
static const struct hname hn_r[] = {
	H("record-route", SIP_HDR_RECORD_ROUTE), H("refer-to", SIP_HDR_REFER_TO),
	H("referred-by", SIP_HDR_REFERRED_BY), H("require", SIP_HDR_REQUIRE),
	H("route", SIP_HDR_ROUTE), { NULL, 0, 0 } };
static const struct hname hn_s[] = {
	H("session-expires", SIP_HDR_SESSION_EXPIRES),
	H("subject", SIP_HDR_SUBJECT),
	H("subscription-state", SIP_HDR_SUBSCRIPTION_STATE),
	H("supported", SIP_HDR_SUPPORTED), { NULL, 0, 0 } };
static const struct hname hn_t[] = { H("to", SIP_HDR_TO), { NULL, 0, 0 } };
static const struct hname hn_u[] = { H("user-agent", SIP_HDR_USER_AGENT), { NULL, 0, 0 } };
static const struct hname hn_v[] = { H("via", SIP_HDR_VIA), { NULL, 0, 0 } };
static const struct hname hn_w[] = {
	H("www-authenticate", SIP_HDR_WWW_AUTHENTICATE), { NULL, 0, 0 } };
#undef H

/* Compact forms: RFC 3261 7.3.3, RFC 6665 (o, u), RFC 3515 (r), RFC 3892
 * (b), RFC 4028 (x). y (Identity) and a (Accept-Contact) have no id. */
static enum sip_hdr_id compact_id(char c)
{
	switch (lower(c)) {
	case 'i': return SIP_HDR_CALL_ID;
	case 'm': return SIP_HDR_CONTACT;
	case 'e': return SIP_HDR_CONTENT_ENCODING;
	case 'l': return SIP_HDR_CONTENT_LENGTH;
	case 'c': return SIP_HDR_CONTENT_TYPE;
	case 'f': return SIP_HDR_FROM;
	case 's': return SIP_HDR_SUBJECT;
	case 'k': return SIP_HDR_SUPPORTED;
	case 't': return SIP_HDR_TO;
	case 'v': return SIP_HDR_VIA;
	case 'o': return SIP_HDR_EVENT;
	case 'u': return SIP_HDR_ALLOW_EVENTS;
	case 'r': return SIP_HDR_REFER_TO;
	case 'b': return SIP_HDR_REFERRED_BY;
	case 'x': return SIP_HDR_SESSION_EXPIRES;
	default:  return SIP_HDR_OTHER;
	}
}

static enum sip_hdr_id hdr_id(const char *p, size_t l)
{
	const struct hname *t;
	size_t i;

	if (l == 1)
		return compact_id(p[0]);
	switch (lower(p[0])) {
	case 'a': t = hn_a; break;
	case 'c': t = hn_c; break;
	case 'e': t = hn_e; break;
	case 'f': t = hn_f; break;
	case 'm': t = hn_m; break;
	case 'p': t = hn_p; break;
	case 'r': t = hn_r; break;
	case 's': t = hn_s; break;
	case 't': t = hn_t; break;
	case 'u': t = hn_u; break;
	case 'v': t = hn_v; break;
	case 'w': t = hn_w; break;
	default:  return SIP_HDR_OTHER;
	}
	for (; t->name; t++) {
		if (t->len != l)
			continue;
		for (i = 1; i < l && lower(p[i]) == t->name[i]; i++)
			;
		if (i == l)
			return t->id;
	}
	return SIP_HDR_OTHER;
}

/* ---------------------------------------------------------------------- */
/* Lines                                                                  */
/* ---------------------------------------------------------------------- */

/**
 * End of the logical line that starts at p: the LF that is not followed by
 * SP/HTAB (a fold), or e. *next is the start of the following line.
 */
static const char *line_end(const char *p, const char *e, const char **next)
{
	const char *nl;

	while (p < e && (nl = memchr(p, '\n', (size_t)(e - p)))) {
		if (nl + 1 < e && (nl[1] == ' ' || nl[1] == '\t')) {
			p = nl + 1;
			continue;
		}
		*next = nl + 1;
		return nl;
	}
	*next = e;
	return e;
}

/** An empty line at p: the position after it, else NULL. */
static const char *empty_line(const char *p, const char *e)
{
	if (p < e && *p == '\n')
		return p + 1;
	if (e - p >= 2 && p[0] == '\r' && p[1] == '\n')
		return p + 2;
	return NULL;
}

struct hline {
	struct pl name;
	struct pl val;      /* trimmed, folds kept */
	bool bad;           /* no "token SWS :" */
};

/** The header line at p (p < e, not empty). Returns the next line. */
static const char *hline_parse(const char *p, const char *e, struct hline *hl)
{
	const char *n = p, *q, *s, *end, *next;

	q = scan_tok(p, e);
	for (s = q; s < e && (*s == ' ' || *s == '\t'); s++)
		;
	end = line_end(s, e, &next);
	hl->name = pl_of(n, (size_t)(q - n));
	hl->bad = q == n || s == end || *s != ':';
	if (hl->bad) {
		hl->val = pl_of(n, 0);
		return next;
	}
	for (s++; s < end && is_ws(*s); s++)
		;
	while (end > s && is_ws(end[-1]))
		end--;
	hl->val = pl_of(s, (size_t)(end - s));
	return next;
}

/* ---------------------------------------------------------------------- */
/* Stream framing (RFC 3261 18.3)                                         */
/* ---------------------------------------------------------------------- */

/** The start of the line after the one at p (no folding), or e. */
static const char *next_line(const char *p, const char *e)
{
	const char *nl = p < e ? memchr(p, '\n', (size_t)(e - p)) : NULL;

	return nl ? nl + 1 : e;
}

/**
 * The position after the empty line that ends the head, or NULL. Looks at
 * no more than SIP_MSG_MAX bytes, so a caller polling a large buffer does
 * not pay for all of it on every call.
 */
static const char *head_end(const char *p, const char *e)
{
	const char *nl, *b;

	if (e - p > (ptrdiff_t)SIP_MSG_MAX)
		e = p + SIP_MSG_MAX;
	while (p < e && (nl = memchr(p, '\n', (size_t)(e - p)))) {
		b = empty_line(nl + 1, e);
		if (b)
			return b;
		p = nl + 1;
	}
	return NULL;
}

int sip_msg_frame(const char *buf, size_t len, size_t *skip, size_t *msglen)
{
	const char *p, *e, *body, *q;
	uint32_t clen = 0, v;
	bool has_clen = false;
	size_t s = 0, hlen;

	if ((!buf && len) || !skip || !msglen)
		return EINVAL;
	while (s < len && (buf[s] == '\r' || buf[s] == '\n'))
		s++;
	*skip = s;
	if (s == len)
		return EAGAIN;
	p = buf + s;
	e = buf + len;
	body = head_end(p, e);
	if (!body)
		return len - s >= SIP_MSG_MAX ? EBADMSG : EAGAIN;
	hlen = (size_t)(body - p);

	q = next_line(p, body);      /* past the start line */
	while (q < body && !empty_line(q, body)) {
		struct hline hl;

		q = hline_parse(q, body, &hl);
		if (hl.bad || hdr_id(hl.name.p, hl.name.l) != SIP_HDR_CONTENT_LENGTH)
			continue;
		if (pl_u32(&hl.val, &v))
			return EBADMSG;
		if (has_clen && v != clen)
			return EBADMSG;
		clen = v;
		has_clen = true;
	}
	if (!has_clen)
		return EBADMSG;
	if (clen > SIP_MSG_MAX || hlen + clen > SIP_MSG_MAX)
		return EMSGSIZE;
	if (len - s < hlen + clen)
		return EAGAIN;
	*msglen = hlen + clen;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Start line (RFC 3261 7.1, 7.2)                                         */
/* ---------------------------------------------------------------------- */

static void soft(struct sip_msg *msg, const char *err)
{
	if (!msg->err)
		msg->err = err;
}

/** "SIP/" 1*DIGIT "." 1*DIGIT; *v2 tells whether it is 2.0. */
static bool version_ok(const struct pl *ver, bool *v2)
{
	const char *p = ver->p, *e = ver->p + ver->l, *d;

	if (ver->l < 7 || strncasecmp(p, "SIP/", 4))
		return false;
	p += 4;
	for (d = p; p < e && is_digit(*p); p++)
		;
	if (p == d || p == e || *p != '.')
		return false;
	for (d = ++p; p < e && is_digit(*p); p++)
		;
	if (p == d || p != e)
		return false;
	*v2 = ver->l == 7 && memcmp(ver->p + 4, "2.0", 3) == 0;
	return true;
}

static int status_line(struct sip_msg *msg, const char *p, const char *e)
{
	const char *sp = memchr(p, ' ', (size_t)(e - p)), *q;
	bool v2;

	if (!sp)
		return EBADMSG;
	msg->ver = pl_of(p, (size_t)(sp - p));
	if (!version_ok(&msg->ver, &v2))
		return EBADMSG;
	if (!v2) {
		soft(msg, "Version Not Supported");
		return EBADMSG;
	}
	p = sp + 1;
	if (e - p < 3 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2])
	    || p[0] < '1' || p[0] > '6' || (e - p > 3 && p[3] != ' ')) {
		soft(msg, "Bad Status Code");
		return EBADMSG;
	}
	msg->scode = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	p += e - p > 3 ? 4 : 3;
	for (q = p; q < e; q++)
		if ((unsigned char)*q < 0x20 && *q != '\t')
			return EBADMSG;
	msg->reason = pl_of(p, (size_t)(e - p));
	return 0;
}

/** Method SP Request-URI SP SIP-Version; a bad URI or version is soft. */
static int request_line(struct sip_msg *msg, const char *p, const char *e)
{
	const char *m = scan_tok(p, e), *sp;
	bool v2;

	if (m == p || m == e || *m != ' ')
		return EBADMSG;
	msg->req = true;
	msg->met = pl_of(p, (size_t)(m - p));
	p = m + 1;
	if (e > p && (e[-1] == ' ' || e[-1] == '\t')) {
		soft(msg, "Malformed Request Line");     /* trws */
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
	}
	for (sp = e; sp > p && sp[-1] != ' '; sp--)
		;
	if (sp <= p)
		return EBADMSG;
	msg->ver = pl_of(sp, (size_t)(e - sp));
	if (!version_ok(&msg->ver, &v2))
		return EBADMSG;
	msg->ruri_s = pl_of(p, (size_t)(sp - 1 - p));
	if (!v2)
		soft(msg, "Version Not Supported");
	/* headers are not allowed in a Request-URI (19.1.1, escruri) */
	if (sip_uri_decode(&msg->ruri, &msg->ruri_s) || msg->ruri.headers.l)
		soft(msg, "Bad Request-URI");
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Decoding                                                               */
/* ---------------------------------------------------------------------- */

/* First occurrence and count of the headers parsed at decode time. */
struct seen {
	struct pl via, from, to, callid, cseq, maxfwd;
	unsigned nvia, nfrom, nto, ncallid, ncseq, nmaxfwd;
	bool clen_bad;
};

static void note(struct pl *first, unsigned *n, const struct pl *val)
{
	if (!(*n)++)
		*first = *val;
}

static void clen_add(struct sip_msg *msg, struct seen *st, const struct pl *val)
{
	uint32_t v;

	if (pl_u32(val, &v)) {
		soft(msg, "Bad Content-Length");
		st->clen_bad = true;
	}
	else if (msg->has_clen && msg->clen != v) {
		soft(msg, "Conflicting Content-Length");
		st->clen_bad = true;
	}
	else {
		msg->clen = v;
		msg->has_clen = true;
	}
}

static void hdr_add(struct sip_msg *msg, struct seen *st, const struct hline *hl)
{
	enum sip_hdr_id id = hdr_id(hl->name.p, hl->name.l);

	if (msg->hdrc < SIP_MAX_HDRS) {
		struct sip_hdr *h = &msg->hdrv[msg->hdrc++];
		h->id = id;
		h->name = hl->name;
		h->val = hl->val;
	}
	else
		soft(msg, "Too Many Headers");

	switch (id) {
	case SIP_HDR_VIA:      note(&st->via, &st->nvia, &hl->val); break;
	case SIP_HDR_FROM:     note(&st->from, &st->nfrom, &hl->val); break;
	case SIP_HDR_TO:       note(&st->to, &st->nto, &hl->val); break;
	case SIP_HDR_CALL_ID:  note(&st->callid, &st->ncallid, &hl->val); break;
	case SIP_HDR_CSEQ:     note(&st->cseq, &st->ncseq, &hl->val); break;
	case SIP_HDR_MAX_FORWARDS:
		note(&st->maxfwd, &st->nmaxfwd, &hl->val);
		break;
	case SIP_HDR_CONTENT_LENGTH:
		clen_add(msg, st, &hl->val);
		break;
	default:
		break;
	}
}

static bool fail(struct sip_msg *msg, const char *err)
{
	soft(msg, err);
	return false;
}

/** Call-ID = word [ "@" word ]: here, any run of visible characters. */
static bool callid_ok(const struct pl *c)
{
	size_t i;

	for (i = 0; i < c->l; i++)
		if ((unsigned char)c->p[i] <= 0x20 || c->p[i] == 0x7f)
			return false;
	return c->l > 0;
}

/** Via, From, To, Call-ID, CSeq: true when all five are usable. */
static bool key_fields(struct sip_msg *msg, const struct seen *st)
{
	bool ok = true;

	if (!st->nvia)
		ok = fail(msg, "Missing Via");
	else if (sip_via_decode(&msg->via, &st->via))
		ok = fail(msg, "Malformed Via");
	if (!st->nfrom)
		ok = fail(msg, "Missing From");
	else if (sip_addr_decode(&msg->from, &st->from) || msg->from.star)
		ok = fail(msg, "Malformed From");
	if (!st->nto)
		ok = fail(msg, "Missing To");
	else if (sip_addr_decode(&msg->to, &st->to) || msg->to.star)
		ok = fail(msg, "Malformed To");
	if (!st->ncallid)
		ok = fail(msg, "Missing Call-ID");
	else if (!callid_ok(&st->callid))
		ok = fail(msg, "Bad Call-ID");
	else
		msg->callid = st->callid;
	if (!st->ncseq)
		ok = fail(msg, "Missing CSeq");
	else if (sip_cseq_decode(&msg->cseq, &st->cseq))
		ok = fail(msg, "Bad CSeq");
	return ok;
}

/** Checks that leave the key fields usable. */
static void other_fields(struct sip_msg *msg, const struct seen *st)
{
	if (st->nfrom > 1)
		soft(msg, "Multiple From");
	if (st->nto > 1)
		soft(msg, "Multiple To");
	if (st->ncallid > 1)
		soft(msg, "Multiple Call-ID");
	if (st->ncseq > 1)
		soft(msg, "Multiple CSeq");
	if (msg->req && pl_cmp(&msg->cseq.met, &msg->met))
		soft(msg, "CSeq Method Mismatch");
	if (st->nmaxfwd) {
		if (pl_u32(&st->maxfwd, &msg->maxfwd))
			soft(msg, "Bad Max-Forwards");
		else
			msg->has_maxfwd = true;
		if (st->nmaxfwd > 1)
			soft(msg, "Multiple Max-Forwards");
	}
}

/** Body by Content-Length (18.3); msg->len ends at the body's end. */
static void set_body(struct sip_msg *msg, const struct seen *st,
		     const char *body, const char *e)
{
	size_t avail = (size_t)(e - body);

	msg->body = pl_of(body, 0);
	msg->len = (size_t)(e - msg->buf);
	if (st->clen_bad)
		return;
	if (!msg->has_clen) {
		msg->body.l = avail;
		return;
	}
	if (msg->clen > avail) {
		soft(msg, "Truncated Body");
		return;
	}
	msg->body.l = msg->clen;
	msg->len = (size_t)(body - msg->buf) + msg->clen;
}

static void msg_reset(struct sip_msg *msg)
{
	memset(msg, 0, offsetof(struct sip_msg, hdrv));
	memset(&msg->hdrc, 0, sizeof(*msg) - offsetof(struct sip_msg, hdrc));
}

int sip_msg_decode(struct sip_msg *msg, const char *buf, size_t len)
{
	struct seen st;
	const char *p, *e, *le, *body = NULL;
	bool resp;
	int err;

	if (!msg || (!buf && len))
		return EINVAL;
	msg_reset(msg);
	memset(&st, 0, sizeof(st));
	p = buf;
	e = buf + len;
	while (p < e && (*p == '\r' || *p == '\n'))
		p++;
	msg->buf = p;
	if (p == e) {
		msg->err = "Empty Message";
		return EBADMSG;
	}

	if (e - p > (ptrdiff_t)SIP_MSG_MAX) {
		msg->err = "Message Too Large";
		return EBADMSG;
	}

	/* start line */
	body = next_line(p, e);
	le = body;
	if (le > p && le[-1] == '\n')
		le--;
	if (le > p && le[-1] == '\r')
		le--;
	resp = le - p >= 4 && strncasecmp(p, "SIP/", 4) == 0;
	err = resp ? status_line(msg, p, le) : request_line(msg, p, le);
	if (err) {
		soft(msg, resp ? "Malformed Status Line" : "Malformed Request Line");
		msg->req = false;
		return EBADMSG;
	}

	/* headers, one pass */
	for (p = body; ; ) {
		struct hline hl;

		if (p == e) {
			body = e;
			break;
		}
		body = empty_line(p, e);
		if (body)
			break;
		p = hline_parse(p, e, &hl);
		if (hl.bad)
			soft(msg, "Malformed Header");
		else
			hdr_add(msg, &st, &hl);
	}

	if (!key_fields(msg, &st))
		msg->req = false;
	else
		other_fields(msg, &st);
	set_body(msg, &st, body, e);
	return msg->err ? EBADMSG : 0;
}

/* ---------------------------------------------------------------------- */
/* Lookup                                                                 */
/* ---------------------------------------------------------------------- */

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id)
{
	unsigned i;

	if (!msg)
		return NULL;
	for (i = 0; i < msg->hdrc; i++)
		if (msg->hdrv[i].id == id)
			return &msg->hdrv[i];
	return NULL;
}

const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg,
				       const struct sip_hdr *prev)
{
	const struct sip_hdr *h, *end;

	if (!msg || !prev || prev < msg->hdrv || prev >= msg->hdrv + msg->hdrc)
		return NULL;
	end = msg->hdrv + msg->hdrc;
	for (h = prev + 1; h < end; h++) {
		if (h->id != prev->id)
			continue;
		if (h->id != SIP_HDR_OTHER || pl_casecmp(&h->name, &prev->name) == 0)
			return h;
	}
	return NULL;
}

const struct sip_hdr *sip_msg_hdr_name(const struct sip_msg *msg, const char *name)
{
	size_t l;
	unsigned i;
	enum sip_hdr_id id;

	if (!msg || !name)
		return NULL;
	l = strlen(name);
	id = l ? hdr_id(name, l) : SIP_HDR_OTHER;
	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(msg, id);
	for (i = 0; i < msg->hdrc; i++)
		if (msg->hdrv[i].name.l == l
		    && strncasecmp(msg->hdrv[i].name.p, name, l) == 0)
			return &msg->hdrv[i];
	return NULL;
}
