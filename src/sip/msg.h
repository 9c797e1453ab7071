/**
 * @file msg.h  SIP message parser (RFC 3261 section 7, 20, 25), zero-copy.
 *
 * sip_msg_decode() makes one pass over the start line and the header
 * names, recording pointer-length views into the caller's buffer, and
 * parses the headers every transaction needs (top Via, From, To, Call-ID,
 * CSeq, Content-Length, Max-Forwards). Other headers are parsed on demand
 * with the sip_*_decode() helpers. Compact forms (RFC 3261 7.3.3) map to
 * the same ids; folded lines (CRLF followed by SP/HTAB) stay inside the
 * value view and every helper treats them as whitespace. No I/O here: the
 * parser is fuzzed (tests/fuzz/fuzz_sip_msg.c).
 */
#ifndef TANDEM_SIP_MSG_H
#define TANDEM_SIP_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pl.h"

#define SIP_MSG_MAX      65535u   /* largest message we accept */
#define SIP_MAX_HDRS     160u     /* more headers than this: 400 */

enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_ACCEPT,
	SIP_HDR_ALLOW,
	SIP_HDR_ALLOW_EVENTS,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_CALL_ID,
	SIP_HDR_CONTACT,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CSEQ,
	SIP_HDR_EVENT,
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REFER_TO,
	SIP_HDR_REFERRED_BY,
	SIP_HDR_REQUIRE,
	SIP_HDR_ROUTE,
	SIP_HDR_SESSION_EXPIRES,
	SIP_HDR_SUBJECT,
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_SUPPORTED,
	SIP_HDR_TO,
	SIP_HDR_USER_AGENT,
	SIP_HDR_VIA,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_COUNT
};

struct sip_hdr {
	enum sip_hdr_id id;
	struct pl name;     /* as written (may be compact) */
	struct pl val;      /* trimmed; may contain folded CRLF WSP */
};

struct sip_uri {
	struct pl scheme;   /* "sip", "sips", "tel", ... */
	struct pl user;     /* escaped as written */
	struct pl password;
	struct pl host;     /* IPv6 literals without the brackets */
	uint16_t port;      /* 0 when absent */
	bool ipv6;
	struct pl params;   /* ";a=b;c" including the leading ';' */
	struct pl headers;  /* "?a=b" without the '?' */
};

struct sip_via {
	struct pl transport;  /* "UDP", "TCP", ... */
	struct pl host;       /* sent-by host, IPv6 without brackets */
	uint16_t port;        /* 0 when absent */
	struct pl branch;
	struct pl received;
	struct pl rport;      /* value if any */
	bool has_rport;       /* ;rport present, with or without value */
	struct pl params;
	struct pl val;        /* this via-parm as written */
};

struct sip_addr {
	struct pl dname;      /* display name, quotes kept */
	struct pl auri;       /* the URI text */
	struct sip_uri uri;
	struct pl params;     /* header params after the URI, e.g. ";tag=x" */
	struct pl tag;
	bool star;            /* Contact: * */
};

struct sip_cseq {
	uint32_t num;
	struct pl met;
};

struct sip_msg {
	const char *buf;
	size_t len;           /* whole message including body */
	bool req;
	/* request line */
	struct pl met;
	struct pl ruri_s;
	struct sip_uri ruri;
	/* status line */
	uint16_t scode;
	struct pl reason;
	struct pl ver;
	/* headers, in order */
	struct sip_hdr hdrv[SIP_MAX_HDRS];
	unsigned hdrc;
	/* parsed at decode time */
	struct sip_via via;           /* topmost Via */
	struct sip_addr from, to;
	struct pl callid;
	struct sip_cseq cseq;
	uint32_t maxfwd;
	bool has_maxfwd;
	uint32_t clen;
	bool has_clen;
	struct pl body;
	/* why decode failed; a short phrase usable after "400 " */
	const char *err;
};

/**
 * Find the end of one message in a stream (TCP framing by Content-Length).
 * Leading CRLFs (keep-alives) are counted in *skip. Returns 0 with *msglen,
 * EAGAIN when more bytes are needed, EBADMSG when the head is malformed or
 * larger than SIP_MSG_MAX, EMSGSIZE when Content-Length exceeds the cap.
 */
int sip_msg_frame(const char *buf, size_t len, size_t *skip, size_t *msglen);

/**
 * Parse one message (a whole datagram or a framed stream message). Returns
 * 0, or EBADMSG with msg->err set. For UDP, a body longer than
 * Content-Length is truncated to it; a shorter one is an error (18.3).
 * When a request fails after its Via, From, To, Call-ID and CSeq were
 * read, msg->req is true and those fields are usable for a 400 reply.
 */
int sip_msg_decode(struct sip_msg *msg, const char *buf, size_t len);

/** First header with id, or NULL. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id);
/** Next header with the same id after prev, or NULL. */
const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg,
				       const struct sip_hdr *prev);
/** First header with this (full, case-insensitive) name, or NULL. */
const struct sip_hdr *sip_msg_hdr_name(const struct sip_msg *msg, const char *name);
/** Method of the message: request method or CSeq method for responses. */
static inline const struct pl *sip_msg_method(const struct sip_msg *msg)
{
	return msg->req ? &msg->met : &msg->cseq.met;
}

/** Callback for each comma-separated value; return non-zero to stop. */
typedef int (sip_val_h)(const struct pl *val, void *arg);
/**
 * Split a header value on commas outside quotes and <...>, trimmed.
 * Returns the handler's non-zero value or 0.
 */
int sip_hdr_values(const struct pl *val, sip_val_h *h, void *arg);

int sip_uri_decode(struct sip_uri *uri, const struct pl *pl);
int sip_addr_decode(struct sip_addr *addr, const struct pl *pl);
/** Decode the first via-parm of a Via value (more may follow after ','). */
int sip_via_decode(struct sip_via *via, const struct pl *pl);
int sip_cseq_decode(struct sip_cseq *cseq, const struct pl *pl);

/**
 * Find ";name[=value]" in params (case-insensitive name). Returns 0 and
 * the (possibly empty) value, or ENOENT.
 */
int sip_param_get(const struct pl *params, const char *name, struct pl *val);

/** Digest credentials (RFC 3261 22.4, RFC 7616/8760). */
struct sip_auth {
	struct pl scheme;     /* "Digest" */
	struct pl username, realm, nonce, uri, response;
	struct pl algorithm, cnonce, opaque, qop, nc;
	bool userhash;
};
/** Parse an Authorization / Proxy-Authorization value; quotes stripped. */
int sip_auth_decode(struct sip_auth *auth, const struct pl *pl);

/** Case-insensitive method comparison helper. */
static inline bool sip_met_is(const struct pl *met, const char *name)
{
	return pl_strcmp(met, name) == 0;  /* methods are case-sensitive (7.1) */
}

#endif
