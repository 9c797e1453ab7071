/**
 * @file reply.c  Building responses (RFC 3261 8.2.6) and stateless replies.
 *
 * The top Via gets received= and rport= (RFC 3581) when the request asked
 * for rport or came from an address other than its sent-by; responses are
 * sent back to the source address and port (symmetric response routing,
 * as chan_sip's default nat=force_rport).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ha/turn.h"
#include "sip/sip.h"

const char sip_server_hdr[] = "Server: Tandem/" TANDEM_VERSION;

struct wbuf {
	char *p;
	size_t size, len;
	bool overflow;
};

static void w_mem(struct wbuf *w, const char *s, size_t n)
{
	if (w->overflow || w->len + n >= w->size) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void w_str(struct wbuf *w, const char *s)
{
	w_mem(w, s, strlen(s));
}

static void w_pl(struct wbuf *w, const struct pl *pl)
{
	w_mem(w, pl->p, pl->l);
}

static void w_fmt(struct wbuf *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void w_fmt(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->p + w->len, w->size - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->size - w->len)
		w->overflow = true;
	else
		w->len += (size_t)n;
}

static void src_ip(const struct sip_src *src, char *ip, size_t size)
{
	if (src->addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&src->addr)->sin6_addr,
			  ip, (socklen_t)size);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&src->addr)->sin_addr,
			  ip, (socklen_t)size);
}

/* Write the top via-parm with received/rport set, keeping other params. */
static void w_top_via(struct wbuf *w, const struct sip_msg *req, const struct sip_src *src)
{
	const struct sip_via *v = &req->via;
	char ip[64];
	struct pl host = v->host;
	bool same_host;
	const char *p, *end;

	src_ip(src, ip, sizeof(ip));
	same_host = pl_strcasecmp(&host, ip) == 0;
	if (!v->params.p) {
		w_pl(w, &v->val);
	} else {
		w_mem(w, v->val.p, (size_t)(v->params.p - v->val.p));
		/* copy params except received and rport */
		p = v->params.p;
		end = v->params.p + v->params.l;
		while (p < end) {
			const char *q = p + 1, *e;
			while (q < end && *q != ';')
				q++;
			struct pl name = { p + 1, (size_t)(q - p - 1) };
			e = pl_chr(&name, '=');
			if (e)
				name.l = (size_t)(e - name.p);
			pl_trim(&name);
			if (pl_strcasecmp(&name, "rport") && pl_strcasecmp(&name, "received"))
				w_mem(w, p, (size_t)(q - p));
			p = q;
		}
		/* anything after params inside val (should be nothing) */
		const char *vend = v->val.p + v->val.l;
		if (end < vend)
			w_mem(w, end, (size_t)(vend - end));
	}
	if (v->has_rport)
		w_fmt(w, ";received=%s;rport=%u", ip, sip_sa_port(&src->addr));
	else if (!same_host)
		w_fmt(w, ";received=%s", ip);
}

int sip_reply_build(char *buf, size_t size, const struct sip_msg *req,
		    const struct sip_src *src, uint16_t scode, const char *reason,
		    const char *to_tag, const char *extra, const char *ctype,
		    const char *body, size_t blen)
{
	struct wbuf w = { buf, size, 0, false };
	const struct sip_hdr *h;
	bool first = true;

	w_fmt(&w, "SIP/2.0 %u %s\r\n", scode, reason ? reason : sip_reason(scode));
	for (h = sip_msg_hdr(req, SIP_HDR_VIA); h; h = sip_msg_hdr_next(req, h)) {
		w_str(&w, "Via: ");
		if (first) {
			const char *rest = req->via.val.p + req->via.val.l;
			w_top_via(&w, req, src);
			if (rest >= h->val.p && rest < h->val.p + h->val.l)
				w_mem(&w, rest, (size_t)(h->val.p + h->val.l - rest));
			first = false;
		} else {
			w_pl(&w, &h->val);
		}
		w_str(&w, "\r\n");
	}
	if ((h = sip_msg_hdr(req, SIP_HDR_FROM))) {
		w_str(&w, "From: ");
		w_pl(&w, &h->val);
		w_str(&w, "\r\n");
	}
	if ((h = sip_msg_hdr(req, SIP_HDR_TO))) {
		w_str(&w, "To: ");
		w_pl(&w, &h->val);
		if (scode > 100 && to_tag && !pl_isset(&req->to.tag))
			w_fmt(&w, ";tag=%s", to_tag);
		w_str(&w, "\r\n");
	}
	w_str(&w, "Call-ID: ");
	w_pl(&w, &req->callid);
	w_fmt(&w, "\r\nCSeq: %u ", req->cseq.num);
	w_pl(&w, &req->cseq.met);
	w_str(&w, "\r\n");
	if (extra)
		w_str(&w, extra);
	w_str(&w, sip_server_hdr);
	if (*ha_node())   /* a cluster node names itself: replies leave from the VIP */
		w_fmt(&w, " (node %s)", ha_node());
	w_str(&w, "\r\n");
	if (ctype && body)
		w_fmt(&w, "Content-Type: %s\r\n", ctype);
	w_fmt(&w, "Content-Length: %zu\r\n\r\n", body ? blen : 0);
	if (body && blen)
		w_mem(&w, body, blen);
	if (w.overflow)
		return -1;
	return (int)w.len;
}

int sip_reply_stateless(const struct sip_msg *req, const struct sip_src *src,
			uint16_t scode, const char *reason, const char *extra)
{
	char buf[4096], tag[17];
	int n;

	/* A stable tag per request, so retransmissions get the same answer. */
	snprintf(tag, sizeof(tag), "%08x%08x", pl_hash(&req->callid, false),
		 pl_hash(&req->via.branch, false));
	n = sip_reply_build(buf, sizeof(buf), req, src, scode, reason, tag, extra,
			    NULL, NULL, 0);
	if (n < 0)
		return EMSGSIZE;
	return sip_transp_send(src, buf, (size_t)n);
}

void sip_rand_token(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[32];
	size_t i;

	if (n > 64)
		n = 64;
	RAND_bytes(r, (int)((n + 1) / 2));
	for (i = 0; i < n; i++)
		buf[i] = hex[(r[i / 2] >> ((i & 1) ? 0 : 4)) & 0xf];
	buf[n] = '\0';
}

const char *sip_reason(uint16_t scode)
{
	switch (scode) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 423: return "Interval Too Brief";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 491: return "Request Pending";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 603: return "Decline";
	default:
		if (scode < 200) return "Trying";
		if (scode < 300) return "OK";
		if (scode < 400) return "Redirect";
		if (scode < 500) return "Client Error";
		if (scode < 600) return "Server Error";
		return "Global Failure";
	}
}
