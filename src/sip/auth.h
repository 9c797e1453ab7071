/**
 * @file auth.h  Digest authentication, server side (RFC 3261 22, RFC 7616,
 * RFC 8760: SHA-256 and MD5, qop=auth).
 *
 * Nonces are stateless to issue and cheap to check: 4 bytes of issue time,
 * 4 bytes of sequence and a truncated HMAC-SHA256 under a key drawn at
 * start, hex-encoded. A ring indexed by the sequence remembers the highest
 * nc accepted for each recent nonce, so a (nonce, nc) pair is accepted at
 * most once; a nonce older than its lifetime, or pushed out of the ring, is
 * stale. An unknown user is checked against a dummy secret, doing the same
 * work as a known one, and both failures get the same answer.
 */
#ifndef TANDEM_SIP_AUTH_H
#define TANDEM_SIP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"
#include "sip/msg.h"

enum auth_alg { AUTH_ALG_MD5, AUTH_ALG_SHA256 };

enum auth_result {
	AUTH_OK = 0,
	AUTH_FAIL,       /* wrong password, unknown user or malformed creds */
	AUTH_STALE,      /* right password, expired nonce: challenge stale=true */
	AUTH_REPLAY,     /* (nonce, nc) already used */
};

/** Draw the nonce key; lifetime in seconds (default 30). */
int auth_init(uint32_t nonce_lifetime);
void auth_close(void);

/**
 * Append the challenge headers (one per algorithm, SHA-256 first, then MD5)
 * to buf: "WWW-Authenticate: Digest realm=..., nonce=..., ...\r\n".
 * hdr is "WWW-Authenticate" or "Proxy-Authenticate". Returns bytes
 * written, or -1 when buf is too small.
 */
int auth_challenge(char *buf, size_t size, const char *hdr, const char *realm,
		   bool stale);

/**
 * Verify credentials for a request. password NULL means the user is
 * unknown: the same work is done against a dummy and AUTH_FAIL returned.
 * On AUTH_OK the nonce's nc is consumed.
 */
enum auth_result auth_verify(const struct sip_auth *cred, const struct pl *method,
			     const char *realm, const char *password);

/**
 * Compute the response (lower-case hex, NUL-terminated) of RFC 7616 3.4.1
 * for qop=auth or, with qop NULL, RFC 2069 style. out holds 65 bytes.
 */
int auth_digest(enum auth_alg alg, const char *user, const char *realm,
		const char *password, const char *method, const char *uri,
		const char *nonce, const char *nc, const char *cnonce,
		const char *qop, char *out);

const char *auth_result_name(enum auth_result r);

#endif
