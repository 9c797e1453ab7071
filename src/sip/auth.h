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
 *
 * Client side (Tandem registering to a trunk): auth_chall_decode() and
 * auth_client_response(). The protocol notes are at the top of auth.c.
 */
#ifndef TANDEM_SIP_AUTH_H
#define TANDEM_SIP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"
#include "sip/msg.h"

enum auth_alg {
	AUTH_ALG_MD5,
	AUTH_ALG_SHA256,
	/* client side only (auth_client_response): never offered nor accepted */
	AUTH_ALG_MD5_SESS,
	AUTH_ALG_SHA256_SESS,
};

enum auth_result {
	AUTH_OK = 0,
	AUTH_FAIL,       /* wrong password, unknown user or malformed creds */
	AUTH_STALE,      /* right password, expired nonce: challenge stale=true */
	AUTH_REPLAY,     /* (nonce, nc) already used */
};

/**
 * Draw the nonce key and the dummy secret, reset the nonce ring; lifetime
 * in seconds, 0 meaning the default of 30. Calling it again starts over
 * (every outstanding nonce becomes stale). Returns 0, ENOMEM or EIO.
 */
int auth_init(uint32_t nonce_lifetime);
void auth_close(void);

/**
 * True when realm can be sent in a challenge: not empty, no control
 * characters, no '"' or '\\'. Check it when reading the configuration;
 * auth_challenge() refuses any other realm.
 */
bool auth_realm_valid(const char *realm);

/**
 * Append the challenge headers (one per algorithm, SHA-256 first, then MD5)
 * to buf: "WWW-Authenticate: Digest realm=..., nonce=..., ...\r\n".
 * hdr is "WWW-Authenticate" or "Proxy-Authenticate". Both headers carry the
 * same fresh nonce; two calls differ only in the nonce (same length).
 * Returns bytes written (NUL-terminated), or -1 when buf is too small, the
 * realm is not auth_realm_valid() or auth_init() was not called.
 */
int auth_challenge(char *buf, size_t size, const char *hdr, const char *realm,
		   bool stale);

/**
 * Choose the algorithms offered in challenges, most preferred first
 * (default SHA-256 then MD5, RFC 8760 2.4). EINVAL for anything but one
 * or two of AUTH_ALG_MD5 / AUTH_ALG_SHA256. Credentials using an algorithm
 * not offered fail verification.
 */
int auth_set_offer(const enum auth_alg *algs, size_t n);

/**
 * Verify credentials for a request. password NULL means the user is
 * unknown: the same work is done against a dummy and AUTH_FAIL returned.
 * On AUTH_OK the nonce's nc is consumed.
 */
enum auth_result auth_verify(const struct sip_auth *cred, const struct pl *method,
			     const char *realm, const char *password);

/**
 * Compute the response (lower-case hex, NUL-terminated) of RFC 7616 3.4.1
 * for qop=auth or, with qop NULL, RFC 2069 style (nc and cnonce unused).
 * out holds 65 bytes. Works without auth_init(). Returns 0, EINVAL or EIO.
 */
int auth_digest(enum auth_alg alg, const char *user, const char *realm,
		const char *password, const char *method, const char *uri,
		const char *nonce, const char *nc, const char *cnonce,
		const char *qop, char *out);

const char *auth_result_name(enum auth_result r);

/** A parsed WWW-Authenticate / Proxy-Authenticate value (Digest only). */
struct auth_chall {
	struct pl realm, nonce, opaque;  /* inside the quotes, escapes kept */
	struct pl algorithm;             /* unset: MD5 */
	struct pl qop;                   /* the list as written; unset: none */
	bool stale;
};

/**
 * Parse a challenge value ("Digest realm=..., nonce=..."). Zero-copy, no
 * I/O (fuzzable). Parsing stops at a following challenge of another scheme.
 * Returns 0, ENOTSUP when the scheme is not Digest, EBADMSG when malformed
 * or realm or nonce is missing.
 */
int auth_chall_decode(struct auth_chall *ch, const struct pl *val);

/**
 * Client side (Tandem authenticating to a trunk): answer the challenge
 * value with the line "HDR: Digest username=..., response=...\r\n" in buf
 * (NUL-terminated). hdr is "Authorization" or "Proxy-Authorization". Uses
 * qop=auth with nc and cnonce when offered, RFC 2069 style when no qop is
 * offered. Returns 0; EBADMSG (bad challenge), ENOTSUP (algorithm or qop
 * we cannot do), EINVAL (control characters in an argument), ENOSPC.
 */
int auth_client_response(char *buf, size_t size, const char *hdr,
			 const struct pl *challenge_value, const char *user,
			 const char *password, const char *method,
			 const char *uri, uint32_t nc, const char *cnonce);

/** Tests only: move the nonce clock by seconds (reset by auth_init). */
void auth_test_clock_shift(int32_t seconds);

#endif
