/**
 * @file auth.c  SIP digest authentication (RFC 3261 22, RFC 7616, RFC 8760).
 *
 * Server side. A 401/407 carries two challenges with one nonce, SHA-256
 * first and MD5 second (RFC 8760 2.4), both qop="auth". MD5-sess,
 * SHA-256-sess, auth-int and userhash are not offered and a response that
 * uses them fails. A response without qop (RFC 2069 clients) is accepted
 * once per nonce, as if nc were 1.
 *
 *   HA1      = H(username ":" realm ":" password)
 *   HA2      = H(method ":" uri)
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
 *              H(HA1 ":" nonce ":" HA2)                      (no qop)
 *
 * Nonce: 40 lower-case hex digits encoding 20 bytes,
 *
 *   time (4, big endian) | seq (4, big endian) | HMAC-SHA256(key, time|seq)[0..12)
 *
 * The key (32 bytes) is drawn by auth_init(); nonces do not survive a
 * restart, a client holding an old one gets stale=true and retries. time
 * counts seconds of CLOCK_MONOTONIC plus a random base drawn at init, so a
 * nonce reveals neither the uptime nor the wall clock and a clock step
 * cannot extend a nonce's life. seq counts challenges. A ring of 2^17 slots
 * indexed by seq holds {seq, highest nc accepted}; issuing a nonce claims
 * its slot. A nonce is fresh when its HMAC matches, its age is at most the
 * lifetime, and its slot still holds its seq.
 *
 * auth_verify() checks, in an order that tells an attacker nothing:
 *   1. format: scheme Digest, username, uri, nonce present, realm equal to
 *      ours, algorithm MD5/SHA-256, qop absent or auth (then 8-hex nc and a
 *      cnonce), response of the algorithm's length in hex;
 *   2. the expected response, always computed, with a random dummy
 *      password when the user is unknown (same hashing work);
 *   3. constant-time comparison (CRYPTO_memcmp) and the nonce check, both
 *      always done;
 *   4. unknown user or mismatch: FAIL; match with a bad or old nonce:
 *      STALE; nc not above the highest accepted for this nonce: REPLAY;
 *      else OK, and only then is nc recorded.
 * Without the password every answer is FAIL, whether the user exists or
 * not and whatever the nonce.
 *
 * Client side: auth_chall_decode() parses a challenge value and
 * auth_client_response() writes the Authorization line for it (MD5,
 * SHA-256 and their -sess variants, qop=auth or none).
 *
 * State is global and unlocked: only the event loop thread calls in.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "sip/auth.h"

enum {
	KEY_LEN      = 32,
	MAC_LEN      = 12,
	NONCE_BIN    = 8 + MAC_LEN,
	NONCE_HEX    = 2 * NONCE_BIN,
	RING_BITS    = 17,
	RING_SIZE    = 1 << RING_BITS,
	DUMMY_LEN    = 16,
	HEX_MAX      = 2 * EVP_MAX_MD_SIZE + 1,
	LIFETIME_DEF = 30,
	UNQ_MAX      = 512,   /* longest escaped challenge value we unescape */
};

struct slot {
	uint32_t seq;
	uint32_t nc;          /* highest nc accepted, 0 before the first */
};

static struct {
	bool ready;
	uint8_t key[KEY_LEN];
	char dummy[2 * DUMMY_LEN + 1];
	uint32_t lifetime;
	uint32_t seq;         /* of the last nonce issued */
	uint32_t tbase;       /* random offset of the nonce clock */
	uint32_t shift;       /* auth_test_clock_shift(), modulo 2^32 */
	struct slot *ring;
	EVP_MD *md[2];        /* MD5, SHA-256, fetched once */
	EVP_MAC *mac;
	EVP_MAC_CTX *hmac;    /* keyed template, duplicated per use */
} st;

static const char hexd[] = "0123456789abcdef";


/* ---------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------ */

static void hex_put(char *out, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Value of a hex digit, -1 when not one; lower_only rejects 'A'-'F'. */
static int hex_val(char c, bool lower_only)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (!lower_only && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 3261 25.1 token characters. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("-.!%*_+`'~", c));
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if (is_ctl((unsigned char)*s))
			return true;
	return false;
}

static const char *alg_name(enum auth_alg alg)
{
	switch (alg) {
	case AUTH_ALG_MD5:         return "MD5";
	case AUTH_ALG_SHA256:      return "SHA-256";
	case AUTH_ALG_MD5_SESS:    return "MD5-sess";
	case AUTH_ALG_SHA256_SESS: return "SHA-256-sess";
	}
	return "?";
}

static bool alg_sess(enum auth_alg alg)
{
	return alg == AUTH_ALG_MD5_SESS || alg == AUTH_ALG_SHA256_SESS;
}

/* Index into st.md: 0 for the MD5 family, 1 for SHA-256. */
static int alg_md(enum auth_alg alg)
{
	return alg == AUTH_ALG_SHA256 || alg == AUTH_ALG_SHA256_SESS;
}

/* Algorithm parameter to enum; absent means MD5. */
static int alg_decode(const struct pl *pl, enum auth_alg *alg)
{
	static const enum auth_alg all[] = {
		AUTH_ALG_MD5, AUTH_ALG_SHA256, AUTH_ALG_MD5_SESS,
		AUTH_ALG_SHA256_SESS,
	};
	size_t i;

	if (!pl_isset(pl)) {
		*alg = AUTH_ALG_MD5;
		return 0;
	}
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (pl_strcasecmp(pl, alg_name(all[i])) == 0) {
			*alg = all[i];
			return 0;
		}
	}
	return ENOTSUP;
}


/* ---------------------------------------------------------------------
 * Hashing
 * ------------------------------------------------------------------ */

/* Digest input; every field a view, cnonce and nc unused without qop. */
struct digest_in {
	struct pl user, realm, pass, method, uri, nonce, nc, cnonce, qop;
};

/* hex = lower-case hex of H(part0 ":" part1 ":" ... ). */
static int hash_join(enum auth_alg alg, char *hex, size_t n,
		     const struct pl *parts)
{
	static const char *const names[] = { "MD5", "SHA256" };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD *tmp = NULL;
	const EVP_MD *type = st.md[alg_md(alg)];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;
	size_t i;

	if (!type)
		type = tmp = EVP_MD_fetch(NULL, names[alg_md(alg)], NULL);
	ok = ctx && type && EVP_DigestInit_ex2(ctx, type, NULL);
	for (i = 0; ok && i < n; i++) {
		if (i)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && parts[i].l)
			ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].l);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(tmp);
	if (!ok)
		return EIO;
	hex_put(hex, md, mdlen);
	return 0;
}

/* RFC 7616 3.4.1 (and 3.4.2 for -sess); out gets the hex response. */
static int digest_calc(enum auth_alg alg, const struct digest_in *in,
		       char *out)
{
	char ha1[HEX_MAX], ha2[HEX_MAX];
	int err;

	err = hash_join(alg, ha1, 3,
			(const struct pl[]){ in->user, in->realm, in->pass });
	if (!err && alg_sess(alg))
		err = hash_join(alg, ha1, 3, (const struct pl[]){
			pl_of(ha1, strlen(ha1)), in->nonce, in->cnonce });
	if (!err)
		err = hash_join(alg, ha2, 2,
				(const struct pl[]){ in->method, in->uri });
	if (err)
		goto out;
	if (pl_isset(&in->qop))
		err = hash_join(alg, out, 6, (const struct pl[]){
			pl_of(ha1, strlen(ha1)), in->nonce, in->nc,
			in->cnonce, in->qop, pl_of(ha2, strlen(ha2)) });
	else
		err = hash_join(alg, out, 3, (const struct pl[]){
			pl_of(ha1, strlen(ha1)), in->nonce,
			pl_of(ha2, strlen(ha2)) });
 out:
	OPENSSL_cleanse(ha1, sizeof(ha1));
	return err;
}

static struct pl pl_str(const char *s)
{
	return s ? pl_of(s, strlen(s)) : pl_of(NULL, 0);
}

int auth_digest(enum auth_alg alg, const char *user, const char *realm,
		const char *password, const char *method, const char *uri,
		const char *nonce, const char *nc, const char *cnonce,
		const char *qop, char *out)
{
	struct digest_in in;

	if (!user || !realm || !password || !method || !uri || !nonce ||
	    !out || (unsigned)alg > AUTH_ALG_SHA256_SESS)
		return EINVAL;
	if ((qop && (!nc || !cnonce)) || (alg_sess(alg) && !cnonce))
		return EINVAL;
	in = (struct digest_in){
		.user = pl_str(user), .realm = pl_str(realm),
		.pass = pl_str(password), .method = pl_str(method),
		.uri = pl_str(uri), .nonce = pl_str(nonce),
		.nc = pl_str(nc), .cnonce = pl_str(cnonce),
		.qop = pl_str(qop),
	};
	return digest_calc(alg, &in, out);
}


/* ---------------------------------------------------------------------
 * Init, nonces
 * ------------------------------------------------------------------ */

void auth_close(void)
{
	free(st.ring);
	EVP_MAC_CTX_free(st.hmac);
	EVP_MAC_free(st.mac);
	EVP_MD_free(st.md[0]);
	EVP_MD_free(st.md[1]);
	OPENSSL_cleanse(&st, sizeof(st));   /* zeroes it: not ready */
}

static int hmac_setup(void)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	st.mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	st.hmac = st.mac ? EVP_MAC_CTX_new(st.mac) : NULL;
	if (!st.hmac || !EVP_MAC_init(st.hmac, st.key, KEY_LEN, params))
		return EIO;
	return 0;
}

int auth_init(uint32_t nonce_lifetime)
{
	uint8_t rnd[DUMMY_LEN + 8];
	int err = EIO;

	auth_close();
	st.lifetime = nonce_lifetime ? nonce_lifetime : LIFETIME_DEF;
	st.ring = calloc(RING_SIZE, sizeof(*st.ring));
	if (!st.ring) {
		err = ENOMEM;
		goto out;
	}
	if (RAND_bytes(st.key, KEY_LEN) != 1 ||
	    RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	hex_put(st.dummy, rnd, DUMMY_LEN);
	memcpy(&st.tbase, rnd + DUMMY_LEN, 4);
	memcpy(&st.seq, rnd + DUMMY_LEN + 4, 4);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	st.md[0] = EVP_MD_fetch(NULL, "MD5", NULL);
	st.md[1] = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!st.md[0] || !st.md[1] || hmac_setup())
		goto out;
	st.ready = true;
	err = 0;
 out:
	if (err)
		auth_close();
	return err;
}

void auth_test_clock_shift(int32_t seconds)
{
	st.shift += (uint32_t)seconds;
}

/* Nonce clock: monotonic seconds from a random base, modulo 2^32. */
static uint32_t clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return st.tbase + (uint32_t)ts.tv_sec + st.shift;
}

static void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* mac = HMAC-SHA256(key, msg[0..8)) truncated to MAC_LEN. */
static int nonce_mac(const uint8_t *msg, uint8_t *mac)
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t len = 0;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(st.hmac);
	int ok;

	ok = ctx && EVP_MAC_update(ctx, msg, 8) &&
	     EVP_MAC_final(ctx, full, &len, sizeof(full)) && len >= MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	if (!ok)
		return EIO;
	memcpy(mac, full, MAC_LEN);
	return 0;
}

/* Issue a fresh nonce into hex (NONCE_HEX + 1 bytes) and claim its slot. */
static int nonce_issue(char *hex)
{
	uint8_t bin[NONCE_BIN];
	uint32_t seq = st.seq + 1;
	int err;

	be32_put(bin, clock_now());
	be32_put(bin + 4, seq);
	err = nonce_mac(bin, bin + 8);
	if (err)
		return err;
	st.seq = seq;
	st.ring[seq & (RING_SIZE - 1)] = (struct slot){ .seq = seq, .nc = 0 };
	hex_put(hex, bin, NONCE_BIN);
	return 0;
}

/*
 * True when nonce is one of ours, young enough and still owns its slot;
 * *seqp gets its sequence. The HMAC is computed for any well-formed nonce.
 */
static bool nonce_fresh(const struct pl *nonce, uint32_t *seqp)
{
	uint8_t bin[NONCE_BIN], mac[MAC_LEN];
	uint32_t seq;
	size_t i;
	int hi, lo;

	if (nonce->l != NONCE_HEX)
		return false;
	for (i = 0; i < NONCE_BIN; i++) {
		hi = hex_val(nonce->p[2 * i], true);
		lo = hex_val(nonce->p[2 * i + 1], true);
		if (hi < 0 || lo < 0)
			return false;
		bin[i] = (uint8_t)(hi << 4 | lo);
	}
	if (nonce_mac(bin, mac) || CRYPTO_memcmp(mac, bin + 8, MAC_LEN))
		return false;
	if (clock_now() - be32_get(bin) > st.lifetime)
		return false;
	seq = be32_get(bin + 4);
	if (st.ring[seq & (RING_SIZE - 1)].seq != seq)
		return false;
	*seqp = seq;
	return true;
}


/* ---------------------------------------------------------------------
 * Server side: challenge and verification
 * ------------------------------------------------------------------ */

bool auth_realm_valid(const char *realm)
{
	const char *s;

	if (!realm || !*realm)
		return false;
	for (s = realm; *s; s++)
		if (is_ctl((unsigned char)*s) || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* Algorithms offered in challenges, in order of preference. */
static enum auth_alg offer[2] = { AUTH_ALG_SHA256, AUTH_ALG_MD5 };
static size_t noffer = 2;

/* Only what we offered is accepted (RFC 8760 3: the UAC answers one of
 * the challenges it was sent). */
static bool offered(enum auth_alg alg)
{
	size_t i;

	for (i = 0; i < noffer; i++)
		if (offer[i] == alg)
			return true;
	return false;
}

int auth_set_offer(const enum auth_alg *algs, size_t n)
{
	size_t i;

	if (!n || n > 2)
		return EINVAL;
	for (i = 0; i < n; i++)
		if (algs[i] != AUTH_ALG_MD5 && algs[i] != AUTH_ALG_SHA256)
			return EINVAL;
	memcpy(offer, algs, n * sizeof(*algs));
	noffer = n;
	return 0;
}

int auth_challenge(char *buf, size_t size, const char *hdr, const char *realm,
		   bool stale)
{
	static const char fmt[] =
		"%s: Digest realm=\"%s\", nonce=\"%s\", algorithm=%s, "
		"qop=\"auth\"%s\r\n";
	char nonce[NONCE_HEX + 1];
	const char *tail = stale ? ", stale=true" : "";
	size_t off = 0, i;
	int n;

	if (!buf || !size)
		return -1;
	buf[0] = '\0';
	if (!st.ready || !hdr || !auth_realm_valid(realm) || nonce_issue(nonce))
		return -1;
	for (i = 0; i < noffer; i++) {
		n = snprintf(buf + off, size - off, fmt, hdr, realm, nonce,
			     alg_name(offer[i]), tail);
		if (n < 0 || (size_t)n >= size - off) {
			buf[0] = '\0';
			return -1;
		}
		off += (size_t)n;
	}
	return (int)off;
}

/* nc: exactly 8 hex digits (RFC 7616 3.4). */
static int nc_decode(const struct pl *pl, uint32_t *nc)
{
	uint32_t v = 0;
	size_t i;
	int d;

	if (pl->l != 8)
		return EINVAL;
	for (i = 0; i < 8; i++) {
		d = hex_val(pl->p[i], false);
		if (d < 0)
			return EINVAL;
		v = v << 4 | (uint32_t)d;
	}
	*nc = v;
	return 0;
}

/*
 * Step 1 of auth_verify(): everything that can be checked without a
 * secret. On success *alg, *nc (1 without qop) and got (the response in
 * lower case, NUL-terminated) are set.
 */
static int cred_check(const struct sip_auth *cred, const char *realm,
		      enum auth_alg *alg, uint32_t *nc, char *got)
{
	size_t want, i;
	int d;

	if (pl_strcasecmp(&cred->scheme, "Digest") || cred->userhash ||
	    !pl_isset(&cred->username) || !pl_isset(&cred->uri) ||
	    !pl_isset(&cred->nonce) || pl_strcmp(&cred->realm, realm))
		return EINVAL;
	if (alg_decode(&cred->algorithm, alg) || alg_sess(*alg) || !offered(*alg))
		return EINVAL;
	if (!pl_isset(&cred->qop)) {
		*nc = 1;
	} else if (pl_strcasecmp(&cred->qop, "auth") ||
		   !pl_isset(&cred->cnonce) || nc_decode(&cred->nc, nc)) {
		return EINVAL;
	}
	want = *alg == AUTH_ALG_MD5 ? 32 : 64;
	if (cred->response.l != want)
		return EINVAL;
	for (i = 0; i < want; i++) {
		d = hex_val(cred->response.p[i], false);
		if (d < 0)
			return EINVAL;
		got[i] = hexd[d];
	}
	got[want] = '\0';
	return 0;
}

enum auth_result auth_verify(const struct sip_auth *cred, const struct pl *method,
			     const char *realm, const char *password)
{
	char expect[HEX_MAX], got[HEX_MAX];
	struct digest_in in;
	enum auth_alg alg;
	uint32_t nc, seq = 0;
	bool match, fresh;
	struct slot *slot;

	if (!st.ready || !cred || !method || !auth_realm_valid(realm))
		return AUTH_FAIL;
	if (cred_check(cred, realm, &alg, &nc, got))
		return AUTH_FAIL;
	in = (struct digest_in){
		.user = cred->username, .realm = pl_str(realm),
		.pass = pl_str(password ? password : st.dummy),
		.method = *method, .uri = cred->uri, .nonce = cred->nonce,
		.nc = cred->nc, .cnonce = cred->cnonce, .qop = cred->qop,
	};
	if (digest_calc(alg, &in, expect))
		return AUTH_FAIL;
	match = CRYPTO_memcmp(expect, got, strlen(got)) == 0;
	fresh = nonce_fresh(&cred->nonce, &seq);
	OPENSSL_cleanse(expect, sizeof(expect));
	if (!password || !match)
		return AUTH_FAIL;
	if (!fresh)
		return AUTH_STALE;
	slot = &st.ring[seq & (RING_SIZE - 1)];
	if (nc <= slot->nc)
		return AUTH_REPLAY;
	slot->nc = nc;
	return AUTH_OK;
}

const char *auth_result_name(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:     return "ok";
	case AUTH_FAIL:   return "fail";
	case AUTH_STALE:  return "stale";
	case AUTH_REPLAY: return "replay";
	}
	return "?";
}


/* ---------------------------------------------------------------------
 * Client side: challenge parser and Authorization writer
 * ------------------------------------------------------------------ */

struct cursor {
	const char *p, *end;
};

static void skip_lws(struct cursor *c)
{
	while (c->p < c->end && is_lws(*c->p))
		c->p++;
}

static struct pl read_token(struct cursor *c)
{
	const char *s = c->p;

	while (c->p < c->end && is_tchar(*c->p))
		c->p++;
	return pl_of(s, (size_t)(c->p - s));
}

/* Quoted string at c->p (on the '"'): *val is the inside, escapes kept. */
static int read_quoted(struct cursor *c, struct pl *val)
{
	const char *s = ++c->p;

	for (; c->p < c->end; c->p++) {
		if (*c->p == '"') {
			*val = pl_of(s, (size_t)(c->p - s));
			c->p++;
			return 0;
		}
		if (*c->p == '\\' && ++c->p == c->end)
			break;
		if (is_ctl((unsigned char)*c->p) && *c->p != '\t')
			return EBADMSG;
	}
	return EBADMSG;
}

/* Record one name=value; duplicates of realm or nonce are an error. */
static int chall_param(struct auth_chall *ch, const struct pl *name,
		       const struct pl *val)
{
	if (!pl_strcasecmp(name, "realm")) {
		if (ch->realm.p)
			return EBADMSG;
		ch->realm = *val;
	} else if (!pl_strcasecmp(name, "nonce")) {
		if (ch->nonce.p)
			return EBADMSG;
		ch->nonce = *val;
	} else if (!pl_strcasecmp(name, "opaque")) {
		ch->opaque = *val;
	} else if (!pl_strcasecmp(name, "algorithm")) {
		ch->algorithm = *val;
	} else if (!pl_strcasecmp(name, "qop")) {
		ch->qop = *val;
	} else if (!pl_strcasecmp(name, "stale")) {
		ch->stale = !pl_strcasecmp(val, "true");
	}
	return 0;
}

int auth_chall_decode(struct auth_chall *ch, const struct pl *val)
{
	struct auth_chall tmp = { .stale = false };
	struct cursor c = { val->p, val->p + val->l };
	struct pl name, v;
	int err;

	skip_lws(&c);
	name = read_token(&c);
	if (pl_strcasecmp(&name, "Digest"))
		return name.l ? ENOTSUP : EBADMSG;
	for (;;) {
		skip_lws(&c);
		if (c.p == c.end)
			break;
		name = read_token(&c);
		if (!name.l)
			return EBADMSG;
		skip_lws(&c);
		if (c.p == c.end || *c.p != '=')
			break;  /* the next challenge's scheme */
		c.p++;
		skip_lws(&c);
		if (c.p < c.end && *c.p == '"')
			err = read_quoted(&c, &v);
		else
			err = (v = read_token(&c)).l ? 0 : EBADMSG;
		if (!err)
			err = chall_param(&tmp, &name, &v);
		if (err)
			return err;
		skip_lws(&c);
		if (c.p < c.end && *c.p++ != ',')
			return EBADMSG;
	}
	if (!tmp.realm.p || !tmp.nonce.p)
		return EBADMSG;
	*ch = tmp;
	return 0;
}

/* True when the qop list (e.g. "auth,auth-int") holds the token auth. */
static bool qop_has_auth(const struct pl *qop)
{
	struct cursor c = { qop->p, qop->p + qop->l };
	struct pl tok;

	while (c.p < c.end) {
		skip_lws(&c);
		tok = read_token(&c);
		if (!pl_strcasecmp(&tok, "auth"))
			return true;
		while (c.p < c.end && *c.p++ != ',')
			;
	}
	return false;
}

/* Remove quoted-pair escapes from in, into buf when there are any. */
static int unescape(const struct pl *in, char *buf, size_t size,
		    struct pl *out)
{
	size_t i, n = 0;

	if (!pl_chr(in, '\\')) {
		*out = *in;
		return 0;
	}
	for (i = 0; i < in->l; i++) {
		if (in->p[i] == '\\' && i + 1 < in->l)
			i++;
		if (n == size)
			return ENOSPC;
		buf[n++] = in->p[i];
	}
	*out = pl_of(buf, n);
	return 0;
}

/* Output buffer: appends stop at the first overflow. */
struct obuf {
	char *p;
	size_t size, len;
	bool full;
};

static void out_fmt(struct obuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_fmt(struct obuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

/* The contents of a quoted string: s with '"' and '\' escaped. */
static void out_escaped(struct obuf *o, const char *s)
{
	for (; *s && !o->full; s++)
		out_fmt(o, "%s%c", (*s == '"' || *s == '\\') ? "\\" : "", *s);
}

int auth_client_response(char *buf, size_t size, const char *hdr,
			 const struct pl *challenge_value, const char *user,
			 const char *password, const char *method,
			 const char *uri, uint32_t nc, const char *cnonce)
{
	char rbuf[UNQ_MAX], nbuf[UNQ_MAX], ncs[9], resp[HEX_MAX];
	struct obuf o = { buf, size, 0, false };
	struct auth_chall ch;
	struct digest_in in;
	enum auth_alg alg;
	bool qop;
	int err;

	if (!buf || !size || !hdr || !challenge_value || !user || !password ||
	    !method || !uri || !cnonce)
		return EINVAL;
	if (has_ctl(hdr) || has_ctl(user) || has_ctl(method) || has_ctl(uri) ||
	    has_ctl(cnonce))
		return EINVAL;
	err = auth_chall_decode(&ch, challenge_value);
	if (err)
		return err;
	if (alg_decode(&ch.algorithm, &alg))
		return ENOTSUP;
	qop = pl_isset(&ch.qop);
	if (qop && !qop_has_auth(&ch.qop))
		return ENOTSUP;   /* auth-int only */
	if ((qop || alg_sess(alg)) && !*cnonce)
		return EINVAL;
	snprintf(ncs, sizeof(ncs), "%08x", nc);
	in = (struct digest_in){
		.user = pl_str(user), .pass = pl_str(password),
		.method = pl_str(method), .uri = pl_str(uri),
		.nc = pl_str(ncs), .cnonce = pl_str(cnonce),
		.qop = qop ? PL("auth") : pl_of(NULL, 0),
	};
	err = unescape(&ch.realm, rbuf, sizeof(rbuf), &in.realm);
	if (!err)
		err = unescape(&ch.nonce, nbuf, sizeof(nbuf), &in.nonce);
	if (!err)
		err = digest_calc(alg, &in, resp);
	if (err)
		return err;
	out_fmt(&o, "%s: Digest username=\"", hdr);
	out_escaped(&o, user);
	out_fmt(&o, "\", realm=\"%.*s\", nonce=\"%.*s\", uri=\"",
		PL_ARG(ch.realm), PL_ARG(ch.nonce));
	out_escaped(&o, uri);
	out_fmt(&o, "\", response=\"%s\"", resp);
	if (pl_isset(&ch.algorithm))
		out_fmt(&o, ", algorithm=%s", alg_name(alg));
	if (qop) {
		out_fmt(&o, ", cnonce=\"");
		out_escaped(&o, cnonce);
		out_fmt(&o, "\", qop=auth, nc=%s", ncs);
	}
	if (ch.opaque.p)
		out_fmt(&o, ", opaque=\"%.*s\"", PL_ARG(ch.opaque));
	out_fmt(&o, "\r\n");
	OPENSSL_cleanse(resp, sizeof(resp));
	if (o.full) {
		buf[0] = '\0';
		return ENOSPC;
	}
	return 0;
}
