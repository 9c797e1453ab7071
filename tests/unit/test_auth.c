/** @file test_auth.c  Digest auth: RFC vectors, challenges, nonces, client side. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sip/auth.h"
#include "suites.h"

#define REALM  "tandem.test"
#define USER   "alice"
#define PASS   "s3cret!"
#define URI    "sip:tandem.test"
#define NONCE_LEN 40

static const struct pl met = { "REGISTER", 8 };

static int setup(void **state)
{
	(void)state;
	return auth_init(30);
}

static int teardown(void **state)
{
	(void)state;
	auth_close();
	return 0;
}


/* ---------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------ */

/* Issue a challenge and copy its nonce out. */
static void fresh_nonce(char nonce[NONCE_LEN + 1])
{
	char buf[512];
	const char *p;

	assert_true(auth_challenge(buf, sizeof(buf), "WWW-Authenticate", REALM,
				   false) > 0);
	p = strstr(buf, "nonce=\"");
	assert_non_null(p);
	memcpy(nonce, p + 7, NONCE_LEN);
	nonce[NONCE_LEN] = '\0';
	assert_int_equal(p[7 + NONCE_LEN], '"');
}

/* Credentials as a client would send them; views point into the struct. */
struct creds {
	struct sip_auth a;
	char realm[64], nonce[64], nc[9], resp[65];
};

static void creds_make(struct creds *c, enum auth_alg alg, const char *pass,
		       const char *realm, const char *nonce, uint32_t nc,
		       bool qop)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->realm, sizeof(c->realm), "%s", realm);
	snprintf(c->nonce, sizeof(c->nonce), "%s", nonce);
	snprintf(c->nc, sizeof(c->nc), "%08x", nc);
	assert_int_equal(auth_digest(alg, USER, realm, pass, "REGISTER", URI,
				     nonce, qop ? c->nc : NULL,
				     qop ? "0a4f113b" : NULL,
				     qop ? "auth" : NULL, c->resp), 0);
	c->a.scheme = PL("Digest");
	c->a.username = PL(USER);
	c->a.realm = pl_of(c->realm, strlen(c->realm));
	c->a.nonce = pl_of(c->nonce, strlen(c->nonce));
	c->a.uri = PL(URI);
	c->a.response = pl_of(c->resp, strlen(c->resp));
	c->a.algorithm = alg == AUTH_ALG_MD5 ? PL("MD5") : PL("SHA-256");
	if (qop) {
		c->a.qop = PL("auth");
		c->a.nc = pl_of(c->nc, 8);
		c->a.cnonce = PL("0a4f113b");
	}
}

static enum auth_result verify(const struct creds *c, const char *pass)
{
	return auth_verify(&c->a, &met, REALM, pass);
}

/* Replace the 40 characters after every nonce=" with 'x'. */
static void mask_nonces(char *s)
{
	while ((s = strstr(s, "nonce=\"")) != NULL) {
		s += 7;
		assert_true(strlen(s) > NONCE_LEN);
		memset(s, 'x', NONCE_LEN);
	}
}

/*
 * Parse the Authorization line written by auth_client_response() into a
 * struct sip_auth (views into line); a stand-in for sip_auth_decode().
 */
static void cred_parse(const char *line, struct sip_auth *a)
{
	const char *p = strstr(line, ": Digest ");
	const char *name, *v;
	size_t nl, vl;

	assert_non_null(p);
	memset(a, 0, sizeof(*a));
	a->scheme = pl_of(p + 2, 6);
	p += 9;
	while (*p && *p != '\r') {
		name = p;
		p = strchr(p, '=');
		assert_non_null(p);
		nl = (size_t)(p - name);
		if (*++p == '"') {
			v = ++p;
			p = strchr(p, '"');
			assert_non_null(p);
			vl = (size_t)(p++ - v);
		} else {
			v = p;
			vl = strcspn(p, ",\r");
			p += vl;
		}
		struct pl n = pl_of(name, nl), val = pl_of(v, vl);
		if (!pl_strcmp(&n, "username")) a->username = val;
		else if (!pl_strcmp(&n, "realm")) a->realm = val;
		else if (!pl_strcmp(&n, "nonce")) a->nonce = val;
		else if (!pl_strcmp(&n, "uri")) a->uri = val;
		else if (!pl_strcmp(&n, "response")) a->response = val;
		else if (!pl_strcmp(&n, "algorithm")) a->algorithm = val;
		else if (!pl_strcmp(&n, "cnonce")) a->cnonce = val;
		else if (!pl_strcmp(&n, "qop")) a->qop = val;
		else if (!pl_strcmp(&n, "nc")) a->nc = val;
		else if (!pl_strcmp(&n, "opaque")) a->opaque = val;
		if (*p == ',')
			p += 2;
	}
	assert_string_equal(p, "\r\n");
}


/* ---------------------------------------------------------------------
 * auth_digest: published vectors
 * ------------------------------------------------------------------ */

static void t_rfc2617(void **state)
{
	char out[65];

	(void)state;
	/* RFC 2617 section 3.5 */
	assert_int_equal(auth_digest(AUTH_ALG_MD5, "Mufasa",
				     "testrealm@host.com", "Circle Of Life",
				     "GET", "/dir/index.html",
				     "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				     "00000001", "0a4f113b", "auth", out), 0);
	assert_string_equal(out, "6629fae49393a05397450978507c4ef1");
	/* RFC 2069 section 2.4 without qop, value as corrected by erratum 749 */
	assert_int_equal(auth_digest(AUTH_ALG_MD5, "Mufasa",
				     "testrealm@host.com", "CircleOfLife",
				     "GET", "/dir/index.html",
				     "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				     NULL, NULL, NULL, out), 0);
	assert_string_equal(out, "1949323746fe6a43ef61f9606e7febea");
}

static void t_rfc7616(void **state)
{
	static const char nonce[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
	static const char cnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
	char out[65];

	(void)state;
	/* RFC 7616 section 3.9.1; password "Circle of Life" (erratum 4495) */
	assert_int_equal(auth_digest(AUTH_ALG_SHA256, "Mufasa",
				     "http-auth@example.org", "Circle of Life",
				     "GET", "/dir/index.html", nonce, "00000001",
				     cnonce, "auth", out), 0);
	assert_string_equal(out, "753927fa0e85d155564e2e272a28d180"
				 "2ca10daf4496794697cf8db5856cb6c1");
	assert_int_equal(auth_digest(AUTH_ALG_MD5, "Mufasa",
				     "http-auth@example.org", "Circle of Life",
				     "GET", "/dir/index.html", nonce, "00000001",
				     cnonce, "auth", out), 0);
	assert_string_equal(out, "8ca523f5e9506fed4657c9700eebdbec");
}

static void t_digest_sess_args(void **state)
{
	static const char n[] = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
	char out[65];

	(void)state;
	/* -sess: HA1 = H(H(user:realm:pass):nonce:cnonce); values from hashlib */
	assert_int_equal(auth_digest(AUTH_ALG_MD5_SESS, "bob", "biloxi.com",
				     "zanzibar", "INVITE", "sip:bob@biloxi.com",
				     n, "00000001", "0a4f113b", "auth", out), 0);
	assert_string_equal(out, "e4e4ea61d186d07a92c9e1f6919902e9");
	assert_int_equal(auth_digest(AUTH_ALG_SHA256_SESS, "bob", "biloxi.com",
				     "zanzibar", "INVITE", "sip:bob@biloxi.com",
				     n, "00000001", "0a4f113b", "auth", out), 0);
	assert_string_equal(out, "5da59c9ca40954be9d5063a15a174066"
				 "c8251be2c10cf47c144c366dc7daf792");
	assert_int_equal(auth_digest(AUTH_ALG_MD5, NULL, "r", "p", "GET", "/",
				     "n", NULL, NULL, NULL, out), EINVAL);
	assert_int_equal(auth_digest(AUTH_ALG_MD5, "u", "r", "p", "GET", "/",
				     "n", NULL, "c", "auth", out), EINVAL);
	assert_int_equal(auth_digest(AUTH_ALG_MD5_SESS, "u", "r", "p", "GET",
				     "/", "n", NULL, NULL, NULL, out), EINVAL);
	assert_int_equal(auth_digest((enum auth_alg)9, "u", "r", "p", "GET",
				     "/", "n", NULL, NULL, NULL, out), EINVAL);
}


/* ---------------------------------------------------------------------
 * Challenges
 * ------------------------------------------------------------------ */

static void t_challenge_format(void **state)
{
	char a[512], b[512], want[512], nonce[NONCE_LEN + 1];
	const char *p;
	int na, nb;
	size_t i;

	(void)state;
	na = auth_challenge(a, sizeof(a), "WWW-Authenticate", REALM, false);
	assert_true(na > 0);
	assert_int_equal((size_t)na, strlen(a));
	p = strstr(a, "nonce=\"") + 7;
	memcpy(nonce, p, NONCE_LEN);
	nonce[NONCE_LEN] = '\0';
	for (i = 0; i < NONCE_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", nonce[i]));
	snprintf(want, sizeof(want),
		 "WWW-Authenticate: Digest realm=\"" REALM "\", nonce=\"%s\", "
		 "algorithm=SHA-256, qop=\"auth\"\r\n"
		 "WWW-Authenticate: Digest realm=\"" REALM "\", nonce=\"%s\", "
		 "algorithm=MD5, qop=\"auth\"\r\n", nonce, nonce);
	assert_string_equal(a, want);

	/* a second call: fresh nonce, otherwise byte for byte the same */
	nb = auth_challenge(b, sizeof(b), "WWW-Authenticate", REALM, false);
	assert_int_equal(na, nb);
	assert_string_not_equal(a, b);
	mask_nonces(a);
	mask_nonces(b);
	assert_string_equal(a, b);

	/* stale=true on each header, still equal lengths */
	na = auth_challenge(a, sizeof(a), "Proxy-Authenticate", REALM, true);
	nb = auth_challenge(b, sizeof(b), "Proxy-Authenticate", REALM, true);
	assert_true(na > 0);
	assert_int_equal(na, nb);
	p = strstr(a, "qop=\"auth\", stale=true\r\nProxy-Authenticate: Digest ");
	assert_non_null(p);
	assert_non_null(strstr(p + 10, "algorithm=MD5, qop=\"auth\", "
				       "stale=true\r\n"));
	assert_int_equal(strncmp(a, "Proxy-Authenticate: Digest realm=", 33), 0);
}

static void t_challenge_errors(void **state)
{
	char buf[512];
	int n;

	(void)state;
	n = auth_challenge(buf, sizeof(buf), "WWW-Authenticate", REALM, false);
	assert_true(n > 0);
	/* every size short of n + 1 fails and leaves an empty string */
	assert_int_equal(auth_challenge(buf, (size_t)n, "WWW-Authenticate",
					REALM, false), -1);
	assert_string_equal(buf, "");
	assert_int_equal(auth_challenge(buf, 40, "WWW-Authenticate", REALM,
					false), -1);
	assert_int_equal(auth_challenge(buf, (size_t)n + 1, "WWW-Authenticate",
					REALM, false), n);
	assert_int_equal(auth_challenge(buf, 0, "WWW-Authenticate", REALM,
					false), -1);
	/* realms that would break the quoted string or the header */
	assert_false(auth_realm_valid(""));
	assert_false(auth_realm_valid(NULL));
	assert_false(auth_realm_valid("a\"b"));
	assert_false(auth_realm_valid("a\\b"));
	assert_false(auth_realm_valid("a\r\nX: y"));
	assert_true(auth_realm_valid("pbx.example.com"));
	assert_int_equal(auth_challenge(buf, sizeof(buf), "WWW-Authenticate",
					"a\"b", false), -1);
	auth_close();
	assert_int_equal(auth_challenge(buf, sizeof(buf), "WWW-Authenticate",
					REALM, false), -1);
}


/* ---------------------------------------------------------------------
 * Verification
 * ------------------------------------------------------------------ */

static void roundtrip(enum auth_alg alg)
{
	char nonce[NONCE_LEN + 1];
	struct creds c;

	fresh_nonce(nonce);
	creds_make(&c, alg, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_OK);
	assert_int_equal(verify(&c, PASS), AUTH_REPLAY);   /* same nc again */
	creds_make(&c, alg, PASS, REALM, nonce, 3, true);
	assert_int_equal(verify(&c, PASS), AUTH_OK);       /* higher nc */
	creds_make(&c, alg, PASS, REALM, nonce, 2, true);
	assert_int_equal(verify(&c, PASS), AUTH_REPLAY);   /* lower nc */
	creds_make(&c, alg, PASS, REALM, nonce, 0, true);
	assert_int_equal(verify(&c, PASS), AUTH_REPLAY);   /* nc 0 never */
	creds_make(&c, alg, "wrong", REALM, nonce, 9, true);
	assert_int_equal(verify(&c, PASS), AUTH_FAIL);     /* wrong password */
	creds_make(&c, alg, PASS, REALM, nonce, 9, true);
	assert_int_equal(verify(&c, NULL), AUTH_FAIL);     /* unknown user */
	assert_int_equal(verify(&c, PASS), AUTH_OK);       /* failures left nc */
}

static void t_roundtrip_sha256(void **state)
{
	(void)state;
	roundtrip(AUTH_ALG_SHA256);
}

static void t_roundtrip_md5(void **state)
{
	(void)state;
	roundtrip(AUTH_ALG_MD5);
}

static void t_algorithm_absent_upper_hex(void **state)
{
	char nonce[NONCE_LEN + 1];
	struct creds c;
	size_t i;

	(void)state;
	fresh_nonce(nonce);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 1, true);
	c.a.algorithm = pl_of(NULL, 0);                    /* absent: MD5 */
	for (i = 0; i < strlen(c.resp); i++)
		if (c.resp[i] >= 'a' && c.resp[i] <= 'f')
			c.resp[i] = (char)(c.resp[i] - 'a' + 'A');
	assert_int_equal(verify(&c, PASS), AUTH_OK);
	/* a SHA-256 response labelled MD5 has the wrong length */
	creds_make(&c, AUTH_ALG_SHA256, PASS, REALM, nonce, 2, true);
	c.a.algorithm = PL("MD5");
	assert_int_equal(verify(&c, PASS), AUTH_FAIL);
}

static void t_unknown_user(void **state)
{
	char nonce[NONCE_LEN + 1];
	struct creds c;

	(void)state;
	fresh_nonce(nonce);
	/* whatever the client used, NULL password is FAIL, never STALE/OK */
	creds_make(&c, AUTH_ALG_SHA256, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, NULL), AUTH_FAIL);
	creds_make(&c, AUTH_ALG_SHA256, "", REALM, nonce, 1, true);
	assert_int_equal(verify(&c, NULL), AUTH_FAIL);
	c.nonce[3] = c.nonce[3] == '0' ? '1' : '0';
	assert_int_equal(verify(&c, NULL), AUTH_FAIL);
	/* the nonce was not consumed by those */
	creds_make(&c, AUTH_ALG_SHA256, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_OK);
}

static void t_tampered_nonce(void **state)
{
	char nonce[NONCE_LEN + 1], bad[NONCE_LEN + 1];
	static const size_t pos[] = { 0, 7, 8, 15, 16, 39 };  /* time, seq, mac */
	struct creds c;
	size_t i;

	(void)state;
	fresh_nonce(nonce);
	for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		memcpy(bad, nonce, sizeof(bad));
		bad[pos[i]] = bad[pos[i]] == 'a' ? 'b' : 'a';
		/* right password over the forged nonce: stale, retry */
		creds_make(&c, AUTH_ALG_SHA256, PASS, REALM, bad, 1, true);
		assert_int_equal(verify(&c, PASS), AUTH_STALE);
		assert_int_equal(verify(&c, NULL), AUTH_FAIL);
		creds_make(&c, AUTH_ALG_SHA256, "wrong", REALM, bad, 1, true);
		assert_int_equal(verify(&c, PASS), AUTH_FAIL);
	}
	/* not even our format: same rules */
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, "dcd98b7102dd2f0e8b11", 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_STALE);
	for (i = 0; i < NONCE_LEN; i++)
		bad[i] = (char)(nonce[i] >= 'a' ? nonce[i] - 'a' + 'A' : nonce[i]);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, bad, 1, true);
	assert_int_equal(verify(&c, strcmp(bad, nonce) ? PASS : "x"),
			 strcmp(bad, nonce) ? AUTH_STALE : AUTH_FAIL);
	/* a response computed for one nonce does not fit another */
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 1, true);
	fresh_nonce(c.nonce);
	assert_int_equal(verify(&c, PASS), AUTH_FAIL);
}

static void t_expired(void **state)
{
	char nonce[NONCE_LEN + 1];
	struct creds c;

	(void)state;
	assert_int_equal(auth_init(1), 0);
	fresh_nonce(nonce);
	auth_test_clock_shift(5);
	creds_make(&c, AUTH_ALG_SHA256, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_STALE);
	assert_int_equal(verify(&c, NULL), AUTH_FAIL);
	creds_make(&c, AUTH_ALG_SHA256, "wrong", REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_FAIL);
	/* a nonce from the future (clock moved back) is no better */
	fresh_nonce(nonce);
	auth_test_clock_shift(-10);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_STALE);

	/* default lifetime (0 = 30 s): 10 s old is fine, 31 s is not */
	assert_int_equal(auth_init(0), 0);
	fresh_nonce(nonce);
	auth_test_clock_shift(10);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_OK);
	auth_test_clock_shift(21);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 2, true);
	assert_int_equal(verify(&c, PASS), AUTH_STALE);

	/* a restart (new key) makes every old nonce stale */
	assert_int_equal(auth_init(30), 0);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 3, true);
	assert_int_equal(verify(&c, PASS), AUTH_STALE);
}

static void t_ring_evicted(void **state)
{
	char nonce[NONCE_LEN + 1], buf[512];
	struct creds c;
	unsigned i;

	(void)state;
	fresh_nonce(nonce);
	/* 2^17 later challenges: the last one takes over the nonce's slot */
	for (i = 0; i < (1u << 17) - 1; i++)
		assert_true(auth_challenge(buf, sizeof(buf), "WWW-Authenticate",
					   REALM, false) > 0);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_OK);       /* still owned */
	fresh_nonce(buf);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 2, true);
	assert_int_equal(verify(&c, PASS), AUTH_STALE);
}

static void t_wrong_realm(void **state)
{
	char nonce[NONCE_LEN + 1];
	struct creds c;

	(void)state;
	fresh_nonce(nonce);
	creds_make(&c, AUTH_ALG_SHA256, PASS, "other.test", nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_FAIL);
	creds_make(&c, AUTH_ALG_SHA256, PASS, "TANDEM.TEST", nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_FAIL);
	/* the realm in the creds matches but the hash used another one */
	creds_make(&c, AUTH_ALG_SHA256, PASS, "other.test", nonce, 1, true);
	c.a.realm = PL(REALM);
	assert_int_equal(verify(&c, PASS), AUTH_FAIL);
	creds_make(&c, AUTH_ALG_SHA256, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_OK);
}

static void t_malformed(void **state)
{
	char nonce[NONCE_LEN + 1];
	struct creds c;
	int i;

	(void)state;
	fresh_nonce(nonce);
	for (i = 0; i < 16; i++) {
		creds_make(&c, AUTH_ALG_SHA256, PASS, REALM, nonce, 1, true);
		switch (i) {
		case 0:  c.a.scheme = PL("Basic"); break;
		case 1:  c.a.username = pl_of(NULL, 0); break;
		case 2:  c.a.uri = pl_of(NULL, 0); break;
		case 3:  c.a.nonce = pl_of(NULL, 0); break;
		case 4:  c.a.realm = pl_of(NULL, 0); break;
		case 5:  c.a.algorithm = PL("SHA-256-sess"); break;
		case 6:  c.a.algorithm = PL("SHA-512-256"); break;
		case 7:  c.a.qop = PL("auth-int"); break;
		case 8:  c.a.nc = PL("0000001"); break;
		case 9:  c.a.nc = PL("0000001g"); break;
		case 10: c.a.cnonce = pl_of(NULL, 0); break;
		case 11: c.a.response.l--; break;
		case 12: c.resp[5] = 'g'; break;
		case 13: c.a.userhash = true; break;
		case 14: c.a.nc = PL("000000001"); break;
		case 15: c.a.scheme = pl_of(NULL, 0); break;
		}
		assert_int_equal(verify(&c, PASS), AUTH_FAIL);
	}
	/* none of those consumed the nonce */
	creds_make(&c, AUTH_ALG_SHA256, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_OK);
	assert_int_equal(auth_verify(NULL, &met, REALM, PASS), AUTH_FAIL);
	assert_int_equal(auth_verify(&c.a, &met, "", PASS), AUTH_FAIL);
	auth_close();
	assert_int_equal(verify(&c, PASS), AUTH_FAIL);
}

static void t_noqop_single_use(void **state)
{
	char nonce[NONCE_LEN + 1];
	struct creds c;

	(void)state;
	fresh_nonce(nonce);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 1, false);
	c.a.algorithm = pl_of(NULL, 0);
	assert_int_equal(verify(&c, PASS), AUTH_OK);
	assert_int_equal(verify(&c, PASS), AUTH_REPLAY);
	/* a qop=auth response on the used nonce needs nc above 1 */
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 1, true);
	assert_int_equal(verify(&c, PASS), AUTH_REPLAY);
	creds_make(&c, AUTH_ALG_MD5, PASS, REALM, nonce, 2, true);
	assert_int_equal(verify(&c, PASS), AUTH_OK);
	/* SHA-256 without qop too, and the wrong password still fails */
	fresh_nonce(nonce);
	creds_make(&c, AUTH_ALG_SHA256, "wrong", REALM, nonce, 1, false);
	assert_int_equal(verify(&c, PASS), AUTH_FAIL);
	creds_make(&c, AUTH_ALG_SHA256, PASS, REALM, nonce, 1, false);
	assert_int_equal(verify(&c, PASS), AUTH_OK);
	assert_int_equal(verify(&c, PASS), AUTH_REPLAY);
}

static void t_result_name(void **state)
{
	(void)state;
	assert_string_equal(auth_result_name(AUTH_OK), "ok");
	assert_string_equal(auth_result_name(AUTH_FAIL), "fail");
	assert_string_equal(auth_result_name(AUTH_STALE), "stale");
	assert_string_equal(auth_result_name(AUTH_REPLAY), "replay");
}


/* ---------------------------------------------------------------------
 * Client side
 * ------------------------------------------------------------------ */

static void t_chall_decode(void **state)
{
	struct pl v = PL(" digest Realm = \"a\\\"b\" ,NONCE=n1,\r\n qop=\"auth-int, "
			 "auth\", stale=TRUE, domain=\"sip:x\", Basic realm=\"z\"");
	struct auth_chall ch;

	(void)state;
	assert_int_equal(auth_chall_decode(&ch, &v), 0);
	assert_int_equal(pl_strcmp(&ch.realm, "a\\\"b"), 0);
	assert_int_equal(pl_strcmp(&ch.nonce, "n1"), 0);
	assert_int_equal(pl_strcmp(&ch.qop, "auth-int, auth"), 0);
	assert_false(pl_isset(&ch.algorithm));
	assert_null(ch.opaque.p);
	assert_true(ch.stale);

	v = PL("Digest realm=\"\", nonce=\"\", opaque=\"\", stale=false");
	assert_int_equal(auth_chall_decode(&ch, &v), 0);
	assert_int_equal(ch.realm.l, 0);
	assert_non_null(ch.opaque.p);
	assert_false(ch.stale);

	v = PL("Basic realm=\"x\"");
	assert_int_equal(auth_chall_decode(&ch, &v), ENOTSUP);
	v = PL("");
	assert_int_equal(auth_chall_decode(&ch, &v), EBADMSG);
	v = PL("Digest realm=\"x\"");
	assert_int_equal(auth_chall_decode(&ch, &v), EBADMSG);
	v = PL("Digest realm=\"x\", nonce=\"abc");
	assert_int_equal(auth_chall_decode(&ch, &v), EBADMSG);
	v = PL("Digest realm=\"x\", nonce=\"a\\");
	assert_int_equal(auth_chall_decode(&ch, &v), EBADMSG);
	v = PL("Digest realm=\"x\" nonce=\"y\"");
	assert_int_equal(auth_chall_decode(&ch, &v), EBADMSG);
	v = PL("Digest realm=\"x\", nonce=\"y\", realm=\"z\"");
	assert_int_equal(auth_chall_decode(&ch, &v), EBADMSG);
	v = PL("Digest realm=\"x\", nonce=\"a\rb\"");
	assert_int_equal(auth_chall_decode(&ch, &v), EBADMSG);
	v = PL("Digest realm=\"x\", nonce=");
	assert_int_equal(auth_chall_decode(&ch, &v), EBADMSG);
	v = PL("Digest realm=\"x\",, nonce=\"y\"");
	assert_int_equal(auth_chall_decode(&ch, &v), EBADMSG);
}

static void t_client_rfc7616(void **state)
{
	struct pl ch = PL("Digest realm=\"http-auth@example.org\", "
			  "qop=\"auth, auth-int\", algorithm=SHA-256, "
			  "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
			  "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
	char buf[1024];

	(void)state;
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&ch, "Mufasa", "Circle of Life", "GET", "/dir/index.html", 1,
		"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"), 0);
	assert_string_equal(buf,
		"Authorization: Digest username=\"Mufasa\", "
		"realm=\"http-auth@example.org\", "
		"nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
		"uri=\"/dir/index.html\", "
		"response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
		"algorithm=SHA-256, "
		"cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
		"qop=auth, nc=00000001, "
		"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"\r\n");
}

/* Answer header number idx (0 SHA-256, 1 MD5) of a fresh challenge. */
static void client_answer(char *out, size_t size, int idx, uint32_t nc)
{
	char chal[512];
	const char *p, *e;
	struct pl v;

	assert_true(auth_challenge(chal, sizeof(chal), "WWW-Authenticate",
				   REALM, false) > 0);
	p = chal;
	if (idx)
		p = strstr(p, "\r\n") + 2;
	p += strlen("WWW-Authenticate: ");
	e = strstr(p, "\r\n");
	v = pl_of(p, (size_t)(e - p));
	assert_int_equal(auth_client_response(out, size, "Authorization", &v,
					      USER, PASS, "REGISTER", URI, nc,
					      "c1ff"), 0);
}

static void t_client_roundtrip(void **state)
{
	char line[512], line2[512], nonce[NONCE_LEN + 1], chal[256];
	struct sip_auth a;
	struct pl v;

	(void)state;
	client_answer(line, sizeof(line), 0, 1);
	assert_non_null(strstr(line, "algorithm=SHA-256, cnonce=\"c1ff\", "
				     "qop=auth, nc=00000001\r\n"));
	cred_parse(line, &a);
	assert_int_equal(auth_verify(&a, &met, REALM, PASS), AUTH_OK);
	assert_int_equal(auth_verify(&a, &met, REALM, PASS), AUTH_REPLAY);
	assert_int_equal(auth_verify(&a, &met, REALM, "other"), AUTH_FAIL);

	client_answer(line, sizeof(line), 1, 7);
	assert_non_null(strstr(line, "algorithm=MD5, "));
	cred_parse(line, &a);
	assert_int_equal(auth_verify(&a, &met, REALM, NULL), AUTH_FAIL);
	assert_int_equal(auth_verify(&a, &met, REALM, PASS), AUTH_OK);

	/* an RFC 2069 style challenge (no qop, no algorithm) on our nonce */
	fresh_nonce(nonce);
	snprintf(chal, sizeof(chal), "Digest realm=\"%s\", nonce=\"%s\"",
		 REALM, nonce);
	v = pl_of(chal, strlen(chal));
	assert_int_equal(auth_client_response(line2, sizeof(line2),
		"Proxy-Authorization", &v, USER, PASS, "REGISTER", URI, 1, ""), 0);
	assert_null(strstr(line2, "qop"));
	assert_null(strstr(line2, "algorithm"));
	assert_int_equal(strncmp(line2, "Proxy-Authorization: Digest ", 28), 0);
	cred_parse(line2, &a);
	assert_int_equal(auth_verify(&a, &met, REALM, PASS), AUTH_OK);
	assert_int_equal(auth_verify(&a, &met, REALM, PASS), AUTH_REPLAY);
}

static void t_client_escapes(void **state)
{
	struct pl ch = PL("Digest realm=\"a\\\"b\", nonce=n1");
	char buf[512], want[65], resp[80];

	(void)state;
	/* realm echoed as sent, hashed unescaped; user and uri escaped */
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&ch, "bob", "zanzibar", "REGISTER", "sip:x", 1, "c"), 0);
	assert_int_equal(auth_digest(AUTH_ALG_MD5, "bob", "a\"b", "zanzibar",
				     "REGISTER", "sip:x", "n1", NULL, NULL,
				     NULL, want), 0);
	assert_string_equal(want, "8a2d373fd86efe33b0661b12c03c8d64");
	snprintf(resp, sizeof(resp), "response=\"%s\"", want);
	assert_non_null(strstr(buf, resp));
	assert_non_null(strstr(buf, "realm=\"a\\\"b\", nonce=\"n1\""));
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&ch, "b\"o\\b", "p", "REGISTER", "sip:x", 1, "c"), 0);
	assert_non_null(strstr(buf, "username=\"b\\\"o\\\\b\""));
}

static void t_client_sess(void **state)
{
	struct pl ch = PL("Digest realm=\"biloxi.com\", algorithm=md5-SESS, "
			  "qop=\"auth\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"");
	char buf[512];

	(void)state;
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&ch, "bob", "zanzibar", "INVITE", "sip:bob@biloxi.com", 1,
		"0a4f113b"), 0);
	assert_non_null(strstr(buf, "response=\"e4e4ea61d186d07a92c9e1f6919902e9\", "
				    "algorithm=MD5-sess, cnonce=\"0a4f113b\""));
}

static void t_client_errors(void **state)
{
	struct pl ok = PL("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"");
	struct pl v;
	char buf[512];

	(void)state;
	v = PL("Basic realm=\"r\"");
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&v, "u", "p", "REGISTER", "sip:r", 1, "c"), ENOTSUP);
	v = PL("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256");
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&v, "u", "p", "REGISTER", "sip:r", 1, "c"), ENOTSUP);
	v = PL("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"");
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&v, "u", "p", "REGISTER", "sip:r", 1, "c"), ENOTSUP);
	v = PL("Digest realm=\"r\"");
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&v, "u", "p", "REGISTER", "sip:r", 1, "c"), EBADMSG);
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&ok, "u\r\nX: y", "p", "REGISTER", "sip:r", 1, "c"), EINVAL);
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&ok, "u", "p", "REGISTER", "sip:r\n", 1, "c"), EINVAL);
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&ok, "u", "p", "REGISTER", "sip:r", 1, ""), EINVAL);
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&ok, NULL, "p", "REGISTER", "sip:r", 1, "c"), EINVAL);
	assert_int_equal(auth_client_response(buf, 60, "Authorization",
		&ok, "u", "p", "REGISTER", "sip:r", 1, "c"), ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(auth_client_response(buf, sizeof(buf), "Authorization",
		&ok, "u", "p", "REGISTER", "sip:r", 1, "c"), 0);
	assert_int_equal(auth_client_response(buf, strlen(buf), "Authorization",
		&ok, "u", "p", "REGISTER", "sip:r", 1, "c"), ENOSPC);
}


int test_auth_run(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_rfc2617),
		cmocka_unit_test(t_rfc7616),
		cmocka_unit_test(t_digest_sess_args),
		T(t_challenge_format),
		T(t_challenge_errors),
		T(t_roundtrip_sha256),
		T(t_roundtrip_md5),
		T(t_algorithm_absent_upper_hex),
		T(t_unknown_user),
		T(t_tampered_nonce),
		T(t_expired),
		T(t_ring_evicted),
		T(t_wrong_realm),
		T(t_malformed),
		T(t_noqop_single_use),
		cmocka_unit_test(t_result_name),
		cmocka_unit_test(t_chall_decode),
		cmocka_unit_test(t_client_rfc7616),
		T(t_client_roundtrip),
		cmocka_unit_test(t_client_escapes),
		cmocka_unit_test(t_client_sess),
		cmocka_unit_test(t_client_errors),
	};
#undef T
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
