/**
 * @file sdp.h  SDP (RFC 4566): a zero-copy parser for the bodies peers send
 * and an encoder for the offers and answers Tandem sends (RFC 3264).
 *
 * sdp_decode() fills a struct sdp_session with pl views into the caller's
 * buffer, which must outlive it. It rejects what cannot be a session
 * description with EBADMSG (the call layer answers 488) and ignores what
 * it does not know (unknown a= attributes, unknown type letters).
 */
#ifndef TANDEM_SDP_H
#define TANDEM_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/pl.h"
#include "media/codec.h"

#define SDP_MEDIA_MAX 8     /* more m= lines: EBADMSG (488) */
#define SDP_FMT_MAX   32    /* formats kept per m= line; extra ones ignored */

enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

/** "sendrecv", "sendonly", ... */
const char *sdp_dir_name(enum sdp_dir d);
/** The direction that answers d (sendonly <-> recvonly). */
enum sdp_dir sdp_dir_reverse(enum sdp_dir d);
/** Direction allowed by both a and b (e.g. sendonly & recvonly = inactive). */
enum sdp_dir sdp_dir_and(enum sdp_dir a, enum sdp_dir b);

/** c= (or the address part of o= and a=rtcp). */
struct sdp_conn {
	struct pl addrtype;    /* "IP4" / "IP6" */
	struct pl addr;        /* without "/ttl" */
};

/** One format of an m= line with its rtpmap and fmtp, if any. */
struct sdp_fmt {
	struct pl id;          /* as written in m= */
	int pt;                /* 0-127 for RTP profiles, -1 otherwise */
	struct pl name;        /* rtpmap encoding name; empty without rtpmap */
	uint32_t rate;         /* rtpmap clock rate; 0 without rtpmap */
	struct pl params;      /* rtpmap encoding parameters (channels) */
	struct pl fmtp;        /* a=fmtp value after the format */
	enum codec codec;      /* CODEC_NONE when unknown */
};

struct sdp_media {
	struct pl type;        /* "audio", "video", ... */
	uint16_t port;         /* 0: stream disabled */
	struct pl proto;       /* "RTP/AVP", ... */
	struct sdp_fmt fmt[SDP_FMT_MAX];
	size_t nfmt;
	struct sdp_conn c;     /* media-level c=, addr empty when absent */
	enum sdp_dir dir;      /* explicit or inherited from session level */
	uint32_t ptime;        /* a=ptime, 0 when absent */
	uint16_t rtcp_port;    /* a=rtcp (RFC 3605), 0 when absent */
	struct sdp_conn rtcp_c;
	bool rtcp_mux;         /* a=rtcp-mux (RFC 5761) */
	bool rtp;              /* proto is an RTP profile (RTP/AVP, RTP/SAVP...) */
};

struct sdp_session {
	struct pl o_user;
	uint64_t sess_id, sess_ver;
	struct sdp_conn o_addr;
	struct pl name;        /* s= */
	struct sdp_conn c;     /* session-level c=, addr empty when absent */
	enum sdp_dir dir;      /* session-level direction attribute */
	struct sdp_media media[SDP_MEDIA_MAX];
	size_t nmedia;
};

/**
 * Parse an SDP body of len bytes (CRLF or LF line ends). 0 or EBADMSG.
 * Demands v=0 first, a well-formed o=, well-formed m=/c= lines and a
 * connection address for every enabled media stream.
 */
int sdp_decode(struct sdp_session *s, const char *buf, size_t len);

/** The connection that applies to m (media c= or session c=), or NULL. */
const struct sdp_conn *sdp_media_conn(const struct sdp_session *s,
				      const struct sdp_media *m);
/**
 * Remote RTP and RTCP addresses of m: c= and port, RTCP at port+1 or from
 * a=rtcp. EADDRNOTAVAIL when the address is not an IP literal (Tandem does
 * not resolve names in SDP); EINVAL when the stream is disabled.
 * An RFC 2543 hold address 0.0.0.0 is returned as is (see sdp_media_dir).
 */
int sdp_media_addr(const struct sdp_session *s, const struct sdp_media *m,
		   struct sockaddr_storage *rtp, struct sockaddr_storage *rtcp);
/** m's direction, with c=0.0.0.0 (RFC 3264 8.4 old-style hold) as sendonly. */
enum sdp_dir sdp_media_dir(const struct sdp_session *s, const struct sdp_media *m);
/** First audio m= line with an RTP profile, or NULL. */
const struct sdp_media *sdp_audio(const struct sdp_session *s);

/* ---- encoding ---- */

/** One payload type we put in an m= line. */
struct sdp_pt {
	uint8_t pt;
	enum codec codec;
};

struct sdp_lmedia {
	struct pl type;        /* "audio"; another type is written rejected */
	struct pl proto;       /* "RTP/AVP" when empty */
	uint16_t port;         /* 0: reject the stream (RFC 3264 6) */
	struct sdp_pt pts[SDP_FMT_MAX];
	size_t npts;
	struct pl rejfmt;      /* format written for a rejected stream ("0") */
	enum sdp_dir dir;
	uint32_t ptime;        /* 0: no a=ptime */
};

/** Our side of one session: what sdp_encode() writes. */
struct sdp_local {
	const char *user;      /* o= user, "tandem" when NULL */
	struct sockaddr_storage addr;  /* relay address for o= and c= */
	struct sdp_lmedia media[SDP_MEDIA_MAX];
	size_t nmedia;
};

/**
 * o= identity of one of our session descriptions. RFC 3264 8: the version
 * must grow on every change and stay when the same description is sent
 * again; sdp_encode() does that by comparing a digest of the body.
 */
struct sdp_origin {
	uint64_t id;           /* 0: sdp_encode picks one */
	uint64_t ver;
	uint64_t digest;
};

/**
 * Write l as an SDP body into buf (size bytes, NUL-terminated), bumping
 * o->ver when the body differs from the last one encoded with o.
 * Returns 0 and the length through lenp, ENOSPC when buf is too small,
 * EINVAL for an address family other than IPv4/IPv6.
 */
int sdp_encode(char *buf, size_t size, size_t *lenp, struct sdp_origin *o,
	       const struct sdp_local *l);

#endif
