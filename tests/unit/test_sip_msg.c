/**
 * @file test_sip_msg.c  SIP message parser: RFC 4475 torture messages,
 * every header helper, compact forms, folding, lists, IPv6, stream framing.
 *
 * The RFC 4475 messages live in tests/data/rfc4475/NAME.dat and are read
 * into buffers of their exact size, so that ASan catches any read past the
 * end of a message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sip/msg.h"
#include "suites.h"

#define RFC4475_DIR TANDEM_SOURCE_DIR "/tests/data/rfc4475/"

static struct sip_msg msg;    /* 6 KB: keep it off the stack */

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

static char *load(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), RFC4475_DIR "%s.dat", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The message text in an exact-size heap copy (ASan guards its end). */
static char *dup_msg(const char *s, size_t *len)
{
	char *b;

	*len = strlen(s);
	b = malloc(*len ? *len : 1);
	assert_non_null(b);
	memcpy(b, s, *len);
	return b;
}

static int decode_str(const char *s, char **keep)
{
	size_t len;
	char *b = dup_msg(s, &len);
	int err = sip_msg_decode(&msg, b, len);

	*keep = b;
	return err;
}

#define assert_pl(x, s) do { \
	const struct pl pl_ = (x); \
	char b_[1024]; \
	pl_strcpy(&pl_, b_, sizeof(b_)); \
	assert_string_equal(b_, (s)); \
	assert_int_equal(pl_.l, strlen(s)); \
} while (0)

#define assert_pl_empty(x) assert_int_equal((x).l, 0)

static struct pl P(const char *s)
{
	return pl_of(s, strlen(s));
}

static int uri(const char *s, struct sip_uri *u)
{
	struct pl pl = P(s);
	return sip_uri_decode(u, &pl);
}

static int addr(const char *s, struct sip_addr *a)
{
	struct pl pl = P(s);
	return sip_addr_decode(a, &pl);
}

static int via(const char *s, struct sip_via *v)
{
	struct pl pl = P(s);
	return sip_via_decode(v, &pl);
}

/* ---------------------------------------------------------------------- */
/* RFC 4475 3.1.1: valid messages                                         */
/* ---------------------------------------------------------------------- */

struct valid_case {
	const char *file;
	const char *met;       /* NULL for a response */
	uint16_t scode;
	const char *callid;
	uint32_t cseq;
	const char *cmet;
	const char *branch;    /* "" when the top Via has none */
	const char *ftag;
	size_t blen;
};

static const struct valid_case valid[] = {
	{ "wsinv", "INVITE", 0, "wsinv.ndaksdj@192.0.2.1", 9, "INVITE",
	  "390skdjuw", "98asjd8", 150 },
	{ "intmeth", "!interesting-Method0123456789_*+`.%indeed'~", 0,
	  "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", 139122385,
	  "!interesting-Method0123456789_*+`.%indeed'~",
	  "z9hG4bK-.!%66*_+`'~", "_token~1'+`*%!-.", 0 },
	{ "esc01", "INVITE", 0, "esc01.239409asdfakjkn23onasd0-3234", 234234,
	  "INVITE", "z9hG4bKkdjuw", "938", 150 },
	{ "escnull", "REGISTER", 0, "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
	  14398234, "REGISTER", "z9hG4bKkdjuw", "839923423", 0 },
	{ "esc02", "RE%47IST%45R", 0, "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf",
	  29344, "RE%47IST%45R", "z9hG4bK209%fzsnel234", "f232jadfj23", 0 },
	{ "lwsdisp", "OPTIONS", 0, "lwsdisp.1234abcd@funky.example.com", 60,
	  "OPTIONS", "z9hG4bKkdjuw", "323", 0 },
	{ "longreq", "INVITE", 0, "longreq.onereallyreallyreallyreallyreally"
	  "reallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreally"
	  "reallyreallyreallyreallylongcallid", 3882340, "INVITE", "",
	  "1298298298298298298298298298298298298298298298298298298298298298"
	  "2982982982982982982982982982982982982982982982982982982982982982"
	  "982982982982982982982982424", 150 },
	{ "dblreq", "REGISTER", 0, "dblreq.0ha0isndaksdj99sdfafnl3lk233412", 8,
	  "REGISTER", "z9hG4bKkdjuw23492", "43251j3j324", 0 },
	{ "semiuri", "OPTIONS", 0, "semiuri.0ha0isndaksdj", 8, "OPTIONS",
	  "z9hG4bKkdjuw", "33242", 0 },
	{ "transports", "OPTIONS", 0, "transports.kijh4akdnaqjkwendsasfdj", 60,
	  "OPTIONS", "z9hG4bKkdjuw", "323", 0 },
	{ "mpart01", "MESSAGE", 0, "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..",
	  1, "MESSAGE", "z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-", "2fb0dcc9",
	  553 },
	{ "unreason", NULL, 200, "unreason.1234ksdfak3j2erwedfsASdf", 35, "INVITE",
	  "z9hG4bK1324923", "11141343", 154 },
	{ "noreason", NULL, 100, "noreason.asndj203insdf99223ndf", 35, "INVITE",
	  "z9hG4bK2398ndaoe", "39ansfi3", 0 },
};

static void t_rfc4475_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const struct valid_case *c = &valid[i];
		size_t len;
		char *b = load(c->file, &len);
		int err = sip_msg_decode(&msg, b, len);

		if (err)
			fail_msg("%s: %s", c->file, msg.err);
		assert_null(msg.err);
		if (c->met) {
			assert_true(msg.req);
			assert_pl(msg.met, c->met);
		}
		else {
			assert_false(msg.req);
			assert_int_equal(msg.scode, c->scode);
		}
		assert_pl(msg.callid, c->callid);
		assert_int_equal(msg.cseq.num, c->cseq);
		assert_pl(msg.cseq.met, c->cmet);
		assert_pl(*sip_msg_method(&msg), c->cmet);
		assert_pl(msg.via.branch, c->branch);
		assert_pl(msg.from.tag, c->ftag);
		assert_int_equal(msg.body.l, c->blen);
		assert_true(msg.len <= len);
		free(b);
	}
}

static void t_rfc4475_wsinv(void **state)
{
	const struct sip_hdr *h;
	struct sip_addr a;
	struct sip_via v;
	struct pl val;
	size_t len;
	char *b = load("wsinv", &len);

	(void)state;
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.ruri.user, "vivekg");
	assert_pl(msg.ruri.host, "chair-dnrc.example.com");
	assert_pl(msg.ruri.params, ";unknownparam");
	assert_pl(msg.to.tag, "1918181833n");
	assert_pl(msg.to.uri.host, "chair-dnrc.example.com");
	assert_pl(msg.from.dname, "\"J Rosenberg \\\\\\\"\"");
	assert_true(msg.has_maxfwd);
	assert_int_equal(msg.maxfwd, 68);
	assert_true(msg.has_clen);
	assert_int_equal(msg.clen, 150);
	assert_pl(msg.via.transport, "UDP");
	assert_pl(msg.via.host, "192.0.2.2");
	assert_int_equal(msg.via.port, 0);
	assert_false(msg.via.has_rport);

	/* the empty Subject ("s :") and the folded unknown header */
	h = sip_msg_hdr(&msg, SIP_HDR_SUBJECT);
	assert_non_null(h);
	assert_pl(h->name, "s");
	assert_pl_empty(h->val);
	h = sip_msg_hdr_name(&msg, "newfangledheader");
	assert_non_null(h);
	assert_pl(h->val, "newfangled value\r\n continued newfangled value");
	h = sip_msg_hdr_name(&msg, "UnknownHeaderWithUnusualValue");
	assert_pl(h->val, ";;,,;;,;");

	/* second Via header: two via-parms, folded everywhere */
	h = sip_msg_hdr_next(&msg, sip_msg_hdr(&msg, SIP_HDR_VIA));
	assert_non_null(h);
	assert_pl(h->name, "v");
	assert_int_equal(sip_via_decode(&v, &h->val), 0);
	assert_pl(v.transport, "TCP");
	assert_pl(v.host, "spindle.example.com");
	assert_pl(v.branch, "z9hG4bK9ikj8");
	assert_null(sip_msg_hdr_next(&msg, h));

	/* compact Contact with header params around folds */
	h = sip_msg_hdr(&msg, SIP_HDR_CONTACT);
	assert_non_null(h);
	assert_int_equal(sip_addr_decode(&a, &h->val), 0);
	assert_pl(a.dname, "\"Quoted string \\\"\\\"\"");
	assert_pl(a.uri.user, "jdrosen");
	assert_int_equal(sip_param_get(&a.params, "newparam", &val), 0);
	assert_pl(val, "newvalue");
	assert_int_equal(sip_param_get(&a.params, "secondparam", &val), 0);
	assert_pl_empty(val);
	assert_int_equal(sip_param_get(&a.params, "q", &val), 0);
	assert_pl(val, "0.33");

	h = sip_msg_hdr(&msg, SIP_HDR_ROUTE);
	assert_int_equal(sip_addr_decode(&a, &h->val), 0);
	assert_pl(a.uri.params, ";lr;unknownwith=value;unknown-no-value");
	free(b);
}

static void t_rfc4475_intmeth(void **state)
{
	const struct sip_hdr *h;
	struct pl val;
	size_t len;
	char *b;

	(void)state;

	/* intmeth: unusual characters everywhere, a NUL in a quoted-pair */
	b = load("intmeth", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_pl(msg.ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_pl(msg.ruri.host, "example.com");
	assert_int_equal(msg.to.dname.l, 22);
	assert_memory_equal(msg.to.dname.p, "\"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\"", 22);
	assert_pl(msg.from.dname, "token1~` token2'+_ token3*%!.-");
	assert_int_equal(sip_param_get(&msg.from.params, "fromParam''~+*_!.-%", &val), 0);
	assert_int_equal(val.l, 22);     /* quoted UTF-8, quotes kept */
	assert_int_equal(msg.maxfwd, 255);
	h = sip_msg_hdr_name(&msg, "extensionHeader-!.%*+_`'~");
	assert_non_null(h);
	assert_int_equal(h->val.l, 12);
	free(b);

}

static void t_rfc4475_escapes(void **state)
{
	const struct sip_hdr *h;
	struct sip_addr a;
	struct pl val;
	size_t len, n;
	char *b;
	(void)state;

	/* esc01: escapes stay as written */
	b = load("esc01", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.ruri.user, "sips%3Auser%40example.com");
	assert_pl(msg.to.uri.user, "%75se%72");
	assert_pl(msg.from.uri.user, "I%20have%20spaces");
	h = sip_msg_hdr(&msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_addr_decode(&a, &h->val), 0);
	assert_pl(a.uri.params, ";%6C%72;n%61me=v%61lue%25%34%31");
	assert_int_equal(sip_param_get(&a.uri.params, "n%61me", &val), 0);
	assert_pl(val, "v%61lue%25%34%31");
	assert_pl(sip_msg_hdr(&msg, SIP_HDR_CONTENT_TYPE)->name, "C");
	free(b);

	/* escnull: two Contacts whose users are escaped NULs */
	b = load("escnull", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	h = sip_msg_hdr(&msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_addr_decode(&a, &h->val), 0);
	assert_pl(a.uri.user, "%00");
	h = sip_msg_hdr_next(&msg, h);
	assert_int_equal(sip_addr_decode(&a, &h->val), 0);
	assert_pl(a.uri.user, "%00%00");
	assert_pl(msg.to.uri.user, "null-%00-null");
	free(b);

	/* esc02: C%6Fntact is an unknown header, not a third Contact */
	b = load("esc02", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.from.dname, "\"%Z%45\"");
	for (n = 0, h = sip_msg_hdr(&msg, SIP_HDR_CONTACT); h; h = sip_msg_hdr_next(&msg, h))
		n++;
	assert_int_equal(n, 2);
	h = sip_msg_hdr_name(&msg, "c%6fntact");
	assert_non_null(h);
	assert_int_equal(h->id, SIP_HDR_OTHER);
	free(b);

}

static void t_rfc4475_long(void **state)
{
	const struct sip_hdr *h;
	struct pl val;
	size_t len, n;
	char *b;
	(void)state;

	/* lwsdisp: display name touching the '<' */
	b = load("lwsdisp", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.from.dname, "caller");
	free(b);

	/* longreq: 34 Via headers in every case and compact spelling */
	b = load("longreq", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_int_equal(msg.to.uri.port, 6000);
	assert_pl(msg.via.host, "sip33.example.com");
	for (n = 0, h = sip_msg_hdr(&msg, SIP_HDR_VIA); h; h = sip_msg_hdr_next(&msg, h))
		n++;
	assert_int_equal(n, 34);
	assert_int_equal(sip_param_get(&msg.from.params,
				       "unknownValuelessparamnameparamnameparamname"
				       "paramnameparamnameparamnameparamnameparamname"
				       "paramnameparamname", &val), 0);
	assert_pl_empty(val);
	free(b);

	/* dblreq: the INVITE after the REGISTER's empty body is noise */
	b = load("dblreq", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_true(msg.len < len);
	assert_int_equal((size_t)(msg.body.p - b), msg.len);
	free(b);

	/* semiuri: the user part keeps its ';' and escaped '@' */
	b = load("semiuri", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.ruri.user, "user;par=u%40example.net");
	assert_pl(msg.ruri.host, "example.com");
	assert_pl_empty(msg.ruri.params);
	free(b);

}

static void t_rfc4475_bodies(void **state)
{
	size_t len;
	char *b;
	(void)state;

	/* mpart01: binary body with NULs, framed by Content-Length */
	b = load("mpart01", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_int_equal(msg.len, len);
	assert_non_null(memchr(msg.body.p, '\0', msg.body.l));
	assert_true(msg.via.has_rport);
	assert_pl_empty(msg.via.rport);
	assert_int_equal(msg.via.port, 5070);
	free(b);

	/* unreason / noreason */
	b = load("unreason", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_int_equal(msg.reason.l, 14 + 60);
	assert_memory_equal(msg.reason.p, "= 2**3 * 5**2 \xd0\xbd\xd0\xbe", 18);
	free(b);
	b = load("noreason", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl_empty(msg.reason);
	assert_pl(msg.ver, "SIP/2.0");
	free(b);
}

/* ---------------------------------------------------------------------- */
/* RFC 4475 3.1.2: invalid messages                                       */
/* ---------------------------------------------------------------------- */

struct invalid_case {
	const char *file;
	int err;
	bool req;          /* key fields usable for a reply */
	const char *why;
};

/*
 * RFC 4475 asks for a reply (400, or 505 for badvers) to most of these.
 * Where the Via, From, To, Call-ID and CSeq parse, msg.req stays true and
 * the transport answers with them. Where one of them is itself the broken
 * part (badinv01's Via, quotbal's and badaspec's To, baddn's From,
 * scalar02's CSeq) no well-formed reply can be built and the message is
 * dropped: a strict reading of "reasonable to reject" in the RFC.
 * baddate and regbadct parse: the Date and Contact headers are not read
 * by the message layer, and their users (the registrar for Contact)
 * reject them when they decode them (see the checks below).
 */
static const struct invalid_case invalid[] = {
	{ "badinv01",   EBADMSG, false, "Malformed Via" },
	{ "clerr",      EBADMSG, true,  "Truncated Body" },
	{ "ncl",        EBADMSG, true,  "Bad Content-Length" },
	{ "scalar02",   EBADMSG, false, "Bad CSeq" },
	{ "scalarlg",   EBADMSG, false, "Bad CSeq" },
	{ "quotbal",    EBADMSG, false, "Malformed To" },
	{ "ltgtruri",   EBADMSG, true,  "Bad Request-URI" },
	{ "lwsruri",    EBADMSG, true,  "Bad Request-URI" },
	{ "lwsstart",   EBADMSG, true,  "Bad Request-URI" },
	{ "trws",       EBADMSG, true,  "Malformed Request Line" },
	{ "escruri",    EBADMSG, true,  "Bad Request-URI" },
	{ "baddate",    0,       true,  NULL },
	{ "regbadct",   0,       true,  NULL },
	{ "badaspec",   EBADMSG, false, "Malformed To" },
	{ "baddn",      EBADMSG, false, "Malformed From" },
	{ "badvers",    EBADMSG, true,  "Version Not Supported" },
	{ "mismatch01", EBADMSG, true,  "CSeq Method Mismatch" },
	{ "mismatch02", EBADMSG, true,  "CSeq Method Mismatch" },
	{ "bigcode",    EBADMSG, false, "Bad Status Code" },
};

static void t_rfc4475_invalid(void **state)
{
	const struct sip_hdr *h;
	struct sip_addr a;
	size_t i, len;
	char *b;

	(void)state;
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct invalid_case *c = &invalid[i];
		int err;

		b = load(c->file, &len);
		err = sip_msg_decode(&msg, b, len);
		if (err != c->err)
			fail_msg("%s: got %d (%s)", c->file, err, msg.err ? msg.err : "-");
		if (c->why)
			assert_string_equal(msg.err, c->why);
		else
			assert_null(msg.err);
		assert_int_equal(msg.req, c->req);
		if (c->req) {
			assert_true(msg.callid.l > 0);
			assert_true(msg.via.host.l > 0);
			assert_true(msg.from.uri.scheme.l > 0);
			assert_true(msg.to.uri.scheme.l > 0);
			assert_true(msg.cseq.met.l > 0);
		}
		free(b);
	}

	/* regbadct: the Contact addr-spec carries '?' outside <> */
	b = load("regbadct", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	h = sip_msg_hdr(&msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_addr_decode(&a, &h->val), EBADMSG);
	free(b);

	/* badvers: the transport answers 505 from these fields */
	b = load("badvers", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), EBADMSG);
	assert_pl(msg.ver, "SIP/7.0");
	assert_pl(msg.via.branch, "z9hG4bKkdjuw");
	free(b);

	/* bigcode and scalarlg are responses: dropped */
	b = load("bigcode", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), EBADMSG);
	assert_int_equal(msg.scode, 0);
	free(b);
}

/* ---------------------------------------------------------------------- */
/* RFC 4475 3.2-3.4: semantics above the parser                           */
/* ---------------------------------------------------------------------- */

static int count_val(const struct pl *v, void *arg)
{
	(void)v;
	(*(int *)arg)++;
	return 0;
}

static void t_rfc4475_semantic(void **state)
{
	const struct sip_hdr *h;
	struct sip_addr a;
	size_t len;
	char *b;
	int n;

	(void)state;

	/* 3.2.1 badbranch: a bare magic cookie; the transaction layer's call */
	b = load("badbranch", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.via.branch, "z9hG4bK");
	free(b);

	/* 3.3.1 insuf: no From, To or Call-ID: nothing to answer with */
	b = load("insuf", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), EBADMSG);
	assert_string_equal(msg.err, "Missing From");
	assert_false(msg.req);
	free(b);

	/* 3.3.2 unkscm, 3.3.3 novelsc: parsed, the UA answers 416 */
	b = load("unkscm", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.ruri.scheme, "nobodyKnowsThisScheme");
	assert_pl(msg.ruri.host, "totallyopaquecontent");
	free(b);
	b = load("novelsc", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.ruri.scheme, "soap.beep");
	free(b);

	/* 3.3.4 unksm2: other schemes in To, From, Contact; the registrar
	 * refuses an AOR that is not sip/sips */
	b = load("unksm2", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(msg.to.uri.scheme, "isbn");
	assert_pl(msg.from.uri.scheme, "http");
	assert_pl(msg.from.tag, "3234233");
	h = sip_msg_hdr(&msg, SIP_HDR_CONTACT);
	assert_int_equal(sip_addr_decode(&a, &h->val), 0);
	assert_pl(a.uri.scheme, "name");
	free(b);

	/* 3.3.5 bext01: Require/Proxy-Require are the UA's and proxy's (420) */
	b = load("bext01", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	n = 0;
	assert_int_equal(sip_hdr_values(&sip_msg_hdr(&msg, SIP_HDR_REQUIRE)->val,
					count_val, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	sip_hdr_values(&sip_msg_hdr(&msg, SIP_HDR_PROXY_REQUIRE)->val, count_val, &n);
	assert_int_equal(n, 2);
	free(b);

}

static void t_rfc4475_semantic2(void **state)
{
	const struct sip_hdr *h;
	struct sip_auth au;
	size_t len;
	char *b;
	(void)state;

	/* 3.3.6 invut: unknown body type, the UA's 415 */
	b = load("invut", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(sip_msg_hdr(&msg, SIP_HDR_CONTENT_TYPE)->val, "application/unknownformat");
	assert_int_equal(msg.body.l, 40);
	free(b);

	/* 3.3.7 regaut01: unknown scheme, treated as no credentials (401) */
	b = load("regaut01", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	h = sip_msg_hdr(&msg, SIP_HDR_AUTHORIZATION);
	assert_int_equal(sip_auth_decode(&au, &h->val), ENOTSUP);
	assert_int_equal(msg.clen, 0);
	free(b);

	/* 3.3.8 multi01: duplicated single-valued fields: 400 with the first */
	b = load("multi01", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), EBADMSG);
	assert_string_equal(msg.err, "Multiple From");
	assert_true(msg.req);
	assert_pl(msg.callid, "multi01.98asdh@192.0.2.1");
	assert_int_equal(msg.cseq.num, 5);
	free(b);

	/* 3.3.9 mcl01: conflicting Content-Length: 400 on UDP, and a stream
	 * cannot be framed at all */
	b = load("mcl01", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), EBADMSG);
	assert_string_equal(msg.err, "Conflicting Content-Length");
	assert_true(msg.req);
	{
		size_t skip, ml;
		assert_int_equal(sip_msg_frame(b, len, &skip, &ml), EBADMSG);
	}
	free(b);

	/* 3.3.10 bcast: the transaction layer must not send to 255.255.255.255 */
	b = load("bcast", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_int_equal(msg.scode, 200);
	{
		struct sip_via v;
		h = sip_msg_hdr_next(&msg, sip_msg_hdr(&msg, SIP_HDR_VIA));
		assert_int_equal(sip_via_decode(&v, &h->val), 0);
		assert_pl(v.host, "255.255.255.255");
	}
	free(b);

}

static void t_rfc4475_semantic3(void **state)
{
	const struct sip_hdr *h;
	struct sip_addr a;
	size_t len;
	char *b;
	(void)state;

	/* 3.3.11 zeromf: Max-Forwards 0 is the proxy's 483, not a parse error */
	b = load("zeromf", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_true(msg.has_maxfwd);
	assert_int_equal(msg.maxfwd, 0);
	free(b);

	/* 3.3.12 cparam01: in addr-spec form ;unknownparam is a header param */
	b = load("cparam01", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_int_equal(sip_addr_decode(&a, &sip_msg_hdr(&msg, SIP_HDR_CONTACT)->val), 0);
	assert_pl(a.params, ";unknownparam");
	assert_pl_empty(a.uri.params);
	assert_pl(a.uri.user, "+19725552222");
	free(b);

	/* 3.3.13 cparam02: inside <> it is a URI param */
	b = load("cparam02", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_int_equal(sip_addr_decode(&a, &sip_msg_hdr(&msg, SIP_HDR_CONTACT)->val), 0);
	assert_pl(a.uri.params, ";unknownparam");
	assert_pl_empty(a.params);
	free(b);

	/* 3.3.14 regescrt: escaped header in a Contact URI, kept as written */
	b = load("regescrt", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	h = sip_msg_hdr(&msg, SIP_HDR_CONTACT);
	assert_pl(h->name, "M");
	assert_int_equal(sip_addr_decode(&a, &h->val), 0);
	assert_pl(a.uri.headers, "Route=%3Csip:sip.example.com%3E");
	free(b);

	/* 3.3.15 sdp01: Accept is the UA's (406) */
	b = load("sdp01", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl(sip_msg_hdr(&msg, SIP_HDR_ACCEPT)->val, "text/nobodyKnowsThis");
	free(b);

	/* 3.4.1 inv2543: no branch, no From tag, no Max-Forwards, no
	 * Content-Length (UDP: the body is the rest) */
	b = load("inv2543", &len);
	assert_int_equal(sip_msg_decode(&msg, b, len), 0);
	assert_pl_empty(msg.via.branch);
	assert_pl_empty(msg.from.tag);
	assert_false(msg.has_maxfwd);
	assert_false(msg.has_clen);
	assert_int_equal(msg.body.l, 105);
	free(b);
}

/* Every RFC 4475 file through the stream framer, as if sent over TCP. */
static void t_rfc4475_frame(void **state)
{
	static const char *const all[] = {
		"wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp",
		"longreq", "dblreq", "semiuri", "transports", "mpart01",
		"unreason", "noreason", "badinv01", "clerr", "ncl", "scalar02",
		"scalarlg", "quotbal", "ltgtruri", "lwsruri", "lwsstart", "trws",
		"escruri", "baddate", "regbadct", "badaspec", "baddn", "badvers",
		"mismatch01", "mismatch02", "bigcode", "badbranch", "insuf",
		"unkscm", "novelsc", "unksm2", "bext01", "invut", "regaut01",
		"multi01", "mcl01", "bcast", "zeromf", "cparam01", "cparam02",
		"regescrt", "sdp01", "inv2543",
	};
	size_t i, skip, ml, len;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char *b = load(all[i], &len);
		int err = sip_msg_frame(b, len, &skip, &ml);

		if (!strcmp(all[i], "clerr"))
			assert_int_equal(err, EAGAIN);     /* waits for 9999 bytes */
		else if (!strcmp(all[i], "ncl") || !strcmp(all[i], "mcl01")
			 || !strcmp(all[i], "inv2543"))
			assert_int_equal(err, EBADMSG);    /* no usable length */
		else {
			if (err)
				fail_msg("%s: frame %d", all[i], err);
			assert_int_equal(skip, 0);
			if (strcmp(all[i], "dblreq"))
				assert_int_equal(ml, len);
		}
		free(b);
	}
}

/* ---------------------------------------------------------------------- */
/* URI                                                                    */
/* ---------------------------------------------------------------------- */

static void t_uri(void **state)
{
	static const char *const bad[] = {
		"", "sip:", "sip:@host", "sip:user@", "sip:host:0",
		"sip:host:65536", "sip:host:12a", "sip:host:", "sip:[::1",
		"sip:[zz::1]", "sip:[]", "sip:host;", "sip:host;=x",
		"sip:host;a=", "sip:host?", "sip:us er@host", "sip:user@ho st",
		"<sip:x@y>", "sip:2001:db8::10", "sip:1.2.3.256", "sip:%4@host",
		"sip:%zz@host", "1sip:x", ":x", "sip:host..com", "sip:.host",
		"sip:a@b@c", "tel:", "tel:a b", "sip:user:pa ss@host",
		"sip:host extra", "sip:host;a b", "sip:host?h=1 2",
	};
	struct sip_uri u;
	size_t i;

	(void)state;
	assert_int_equal(uri("sip:alice@example.com", &u), 0);
	assert_pl(u.scheme, "sip");
	assert_pl(u.user, "alice");
	assert_pl_empty(u.password);
	assert_pl(u.host, "example.com");
	assert_int_equal(u.port, 0);
	assert_false(u.ipv6);

	assert_int_equal(uri("SIPS:al%20ice:s3cr=t@[2001:db8::1]:5061;transport=tcp;lr"
			     "?subject=x&h=%20y", &u), 0);
	assert_pl(u.scheme, "SIPS");
	assert_pl(u.user, "al%20ice");
	assert_pl(u.password, "s3cr=t");
	assert_pl(u.host, "2001:db8::1");
	assert_true(u.ipv6);
	assert_int_equal(u.port, 5061);
	assert_pl(u.params, ";transport=tcp;lr");
	assert_pl(u.headers, "subject=x&h=%20y");

	assert_int_equal(uri("sip:192.0.2.1:65535", &u), 0);
	assert_pl(u.host, "192.0.2.1");
	assert_int_equal(u.port, 65535);
	assert_pl_empty(u.user);

	assert_int_equal(uri("sip:[2001:db8::10:5070]", &u), 0);   /* RFC 5118 4.3 */
	assert_pl(u.host, "2001:db8::10:5070");
	assert_int_equal(u.port, 0);
	assert_int_equal(uri("sip:[2001:db8::10]:5070", &u), 0);   /* RFC 5118 4.4 */
	assert_int_equal(u.port, 5070);
	assert_int_equal(uri("sip:[::ffff:192.0.2.1]", &u), 0);
	assert_int_equal(uri("sip:user:@host.example.com.", &u), 0);
	assert_pl_empty(u.password);
	assert_int_equal(uri("sip:my_host-1.example.com;maddr=[::1]", &u), 0);
	assert_pl(u.params, ";maddr=[::1]");

	assert_int_equal(uri("tel:+1-212-555-0101;phone-context=example.com", &u), 0);
	assert_pl(u.scheme, "tel");
	assert_pl(u.host, "+1-212-555-0101;phone-context=example.com");
	assert_pl_empty(u.params);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (uri(bad[i], &u) != EBADMSG)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(sip_uri_decode(&u, NULL), EINVAL);
	{
		struct pl x = PL("sip:x");
		assert_int_equal(sip_uri_decode(NULL, &x), EINVAL);
	}
}

/* ---------------------------------------------------------------------- */
/* name-addr / addr-spec                                                  */
/* ---------------------------------------------------------------------- */

static void t_addr(void **state)
{
	static const char *const bad[] = {
		"", "   ", "\"unterminated <sip:a@b>", "<sip:a@b", "sip:a@b>x",
		"Bell, Alexander <sip:a@b>", "< sip:a@b >", "<sip:a@b> x",
		"sip:a@b?Route=x", "sip:a@b,sip:c@d", "<sip:a@b>;;", "<sip:a@b>;",
		"<sip:a@b>;tag=", "<sip:a@b>, <sip:c@d>", "\"x\" sip:a@b",
		"<sip:a@b>;tag=\"x", "**", "<>",
	};
	struct sip_addr a;
	struct pl v;
	size_t i;

	(void)state;
	assert_int_equal(addr(" \"Alice \\\"A\\\"\" <sip:alice@example.com;lr>;tag=1928 ;x=\"a;b\" ", &a), 0);
	assert_pl(a.dname, "\"Alice \\\"A\\\"\"");
	assert_pl(a.auri, "sip:alice@example.com;lr");
	assert_pl(a.uri.params, ";lr");
	assert_pl(a.params, ";tag=1928 ;x=\"a;b\"");
	assert_pl(a.tag, "1928");
	assert_int_equal(sip_param_get(&a.params, "x", &v), 0);
	assert_pl(v, "\"a;b\"");
	assert_false(a.star);

	assert_int_equal(addr("Bob Smith\t<sip:bob@[::1]:5080>", &a), 0);
	assert_pl(a.dname, "Bob Smith");
	assert_true(a.uri.ipv6);
	assert_int_equal(a.uri.port, 5080);
	assert_pl_empty(a.tag);
	assert_pl_empty(a.params);

	assert_int_equal(addr("<sip:carol@example.com>", &a), 0);
	assert_pl_empty(a.dname);

	/* addr-spec: ;params belong to the header (RFC 3261 20.10) */
	assert_int_equal(addr("sip:dave@example.com;transport=tcp;TAG=x1", &a), 0);
	assert_pl(a.auri, "sip:dave@example.com");
	assert_pl_empty(a.uri.params);
	assert_pl(a.params, ";transport=tcp;TAG=x1");
	assert_pl(a.tag, "x1");

	assert_int_equal(addr("sip:e@example.com\r\n ;tag = 7", &a), 0);
	assert_pl(a.tag, "7");

	assert_int_equal(addr(" * ", &a), 0);
	assert_true(a.star);

	assert_int_equal(addr("<urn:service:sos>", &a), 0);
	assert_pl(a.uri.scheme, "urn");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (addr(bad[i], &a) != EBADMSG)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(sip_addr_decode(NULL, &v), EINVAL);
}

/* ---------------------------------------------------------------------- */
/* Via                                                                    */
/* ---------------------------------------------------------------------- */

static void t_via(void **state)
{
	static const char *const bad[] = {
		"", "SIP/2.0/UDP", "SIP/2.0/UDP ", "SIP/2.0 UDP host", "SIP/2.0/UDPhost",
		"SIP/2.0/UDP host:0", "SIP/2.0/UDP host:99999", "SIP/2.0/UDP host;;",
		"SIP/2.0/UDP host;branch=", "SIP/2.0/UDP [::1", "XMPP/2.0/UDP host",
		"SIP/2.0/UDP host x", "SIP//UDP host", "SIP/2.0/UDP 192.0.2.15;;,;,,",
	};
	struct sip_via v;
	size_t i;

	(void)state;
	assert_int_equal(via("SIP/2.0/UDP pc33.example.com:5066;branch=z9hG4bK776asdhds"
			     ";received=192.0.2.1;rport=5070", &v), 0);
	assert_pl(v.transport, "UDP");
	assert_pl(v.host, "pc33.example.com");
	assert_int_equal(v.port, 5066);
	assert_pl(v.branch, "z9hG4bK776asdhds");
	assert_pl(v.received, "192.0.2.1");
	assert_true(v.has_rport);
	assert_pl(v.rport, "5070");
	assert_pl(v.params, ";branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5070");

	/* whitespace around '/', ':' and ';', folds, only the first via-parm */
	assert_int_equal(via(" SIP /\r\n 2.0 / TCP  host.example.com : 5070 ;\r\n\tbranch = z9hG4bKx ; rport ,"
			     " SIP/2.0/UDP other.example.com;branch=z9hG4bKy", &v), 0);
	assert_pl(v.transport, "TCP");
	assert_int_equal(v.port, 5070);
	assert_pl(v.branch, "z9hG4bKx");
	assert_true(v.has_rport);
	assert_pl_empty(v.rport);
	assert_pl(v.val, "SIP /\r\n 2.0 / TCP  host.example.com : 5070 ;\r\n\tbranch = z9hG4bKx ; rport");

	/* IPv6 sent-by and received with or without brackets (RFC 5118 4.5) */
	assert_int_equal(via("SIP/2.0/UDP [2001:db8::9:1]:5060;received=[2001:db8::9:255]"
			     ";branch=z9hG4bKas3-111", &v), 0);
	assert_pl(v.host, "2001:db8::9:1");
	assert_int_equal(v.port, 5060);
	assert_pl(v.received, "[2001:db8::9:255]");
	assert_int_equal(via("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3", &v), 0);
	assert_pl(v.received, "2001:db8::9:255");

	/* no params at all, unknown transport, quoted extension value */
	assert_int_equal(via("SIP/2.0/UNKNOWN t4.example.com", &v), 0);
	assert_pl(v.transport, "UNKNOWN");
	assert_pl_empty(v.branch);
	assert_pl_empty(v.params);
	assert_false(v.has_rport);
	assert_int_equal(via("SIP/2.0/WSS h.invalid;branch=z9hG4bK1;x=\"a, b\"", &v), 0);
	assert_pl(v.val, "SIP/2.0/WSS h.invalid;branch=z9hG4bK1;x=\"a, b\"");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (via(bad[i], &v) != EBADMSG)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

/* ---------------------------------------------------------------------- */
/* CSeq, params, value lists                                              */
/* ---------------------------------------------------------------------- */

static void t_cseq(void **state)
{
	static const char *const bad[] = {
		"", "INVITE", "1", "1 ", "4294967296 INVITE", "1INVITE",
		"1 INV ITE", "-1 INVITE", "1 INVITE x", "1 IN/VITE",
		"36893488147419103232 REGISTER",
	};
	struct sip_cseq c;
	struct pl pl;
	size_t i;

	(void)state;
	pl = P("4294967295 REGISTER");
	assert_int_equal(sip_cseq_decode(&c, &pl), 0);
	assert_int_equal(c.num, 4294967295u);
	assert_pl(c.met, "REGISTER");
	pl = P(" 0009\r\n  INVITE ");
	assert_int_equal(sip_cseq_decode(&c, &pl), 0);
	assert_int_equal(c.num, 9);
	assert_pl(c.met, "INVITE");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pl = P(bad[i]);
		if (sip_cseq_decode(&c, &pl) != EBADMSG)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void t_param(void **state)
{
	struct pl params = P(";lr ; Tag = abc;q=0.5;x=\"a;tag=no\";expires=60;empty");
	struct pl v;

	(void)state;
	assert_int_equal(sip_param_get(&params, "tag", &v), 0);
	assert_pl(v, "abc");
	assert_int_equal(sip_param_get(&params, "TAG", &v), 0);
	assert_int_equal(sip_param_get(&params, "lr", &v), 0);
	assert_pl_empty(v);
	assert_int_equal(sip_param_get(&params, "x", &v), 0);
	assert_pl(v, "\"a;tag=no\"");
	assert_int_equal(sip_param_get(&params, "expires", &v), 0);
	assert_pl(v, "60");
	assert_int_equal(sip_param_get(&params, "empty", &v), 0);
	assert_pl_empty(v);
	assert_int_equal(sip_param_get(&params, "no", &v), ENOENT);
	assert_int_equal(sip_param_get(&params, "t", &v), ENOENT);
	v = P(";a=1");
	assert_int_equal(sip_param_get(&(struct pl)PL_INIT, "a", &v), ENOENT);
	assert_int_equal(sip_param_get(&params, NULL, &v), EINVAL);
}

struct vals {
	char v[8][64];
	int n;
	int stop_at;
};

static int collect(const struct pl *val, void *arg)
{
	struct vals *vs = arg;

	if (vs->n == vs->stop_at)
		return 42;
	pl_strcpy(val, vs->v[vs->n++], sizeof(vs->v[0]));
	return 0;
}

static void t_values(void **state)
{
	struct vals vs;
	struct pl pl;

	(void)state;
	memset(&vs, 0, sizeof(vs));
	vs.stop_at = -1;
	pl = P(" \"Doe, John\" <sip:j@x;a=1,2>;q=0.5 ,\r\n <sip:k@y> , ,"
	       "\"esc \\\" , q\" <sip:l@z>,");
	assert_int_equal(sip_hdr_values(&pl, collect, &vs), 0);
	assert_int_equal(vs.n, 3);
	assert_string_equal(vs.v[0], "\"Doe, John\" <sip:j@x;a=1,2>;q=0.5");
	assert_string_equal(vs.v[1], "<sip:k@y>");
	assert_string_equal(vs.v[2], "\"esc \\\" , q\" <sip:l@z>");

	memset(&vs, 0, sizeof(vs));
	vs.stop_at = 1;
	pl = P("a, b, c");
	assert_int_equal(sip_hdr_values(&pl, collect, &vs), 42);
	assert_int_equal(vs.n, 1);

	memset(&vs, 0, sizeof(vs));
	vs.stop_at = -1;
	pl = P("\"unterminated, x");
	assert_int_equal(sip_hdr_values(&pl, collect, &vs), 0);
	assert_int_equal(vs.n, 1);

	memset(&vs, 0, sizeof(vs));
	vs.stop_at = -1;
	assert_int_equal(sip_hdr_values(&(struct pl)PL_INIT, collect, &vs), 0);
	assert_int_equal(vs.n, 0);
}

/* ---------------------------------------------------------------------- */
/* Digest credentials                                                     */
/* ---------------------------------------------------------------------- */

static void t_auth(void **state)
{
	static const char *const bad[] = {
		"", "Digest username", "Digest username=", "Digest username=\"x",
		"Digest realm=a realm=b", "Digest realm=a, realm=b",
		"Digest uri=\"/\" , URI=\"/x\"", "Digest nc=1 2", "Digest=x",
		"Digest realm=a;b=c", "Digest, =x",
	};
	struct sip_auth a;
	struct pl pl;
	size_t i;

	(void)state;
	pl = P("Digest username=\"bob\", realm=\"biloxi.com\",\r\n nonce=\"dcd98b\","
	       " uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001,"
	       " cnonce=\"0a4f113b\", response=\"6629fae4\", opaque=\"5ccc\","
	       " algorithm=SHA-256, unknown=\"x, y\", other=token");
	assert_int_equal(sip_auth_decode(&a, &pl), 0);
	assert_pl(a.scheme, "Digest");
	assert_pl(a.username, "bob");
	assert_pl(a.realm, "biloxi.com");
	assert_pl(a.nonce, "dcd98b");
	assert_pl(a.uri, "sip:bob@biloxi.com");
	assert_pl(a.qop, "auth");
	assert_pl(a.nc, "00000001");
	assert_pl(a.cnonce, "0a4f113b");
	assert_pl(a.response, "6629fae4");
	assert_pl(a.opaque, "5ccc");
	assert_pl(a.algorithm, "SHA-256");
	assert_false(a.userhash);

	/* any order, case-insensitive names, escapes kept, empty elements */
	pl = P("digest  ,RESPONSE=\"r\",, userhash=TRUE , username=\"a\\\"b\" ,realm=\"\"");
	assert_int_equal(sip_auth_decode(&a, &pl), 0);
	assert_pl(a.response, "r");
	assert_pl(a.username, "a\\\"b");
	assert_pl_empty(a.realm);
	assert_true(a.userhash);
	assert_pl_empty(a.nonce);

	pl = P("Digest");
	assert_int_equal(sip_auth_decode(&a, &pl), 0);

	pl = P("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	assert_int_equal(sip_auth_decode(&a, &pl), ENOTSUP);
	pl = P("Digestrealm=a");
	assert_int_equal(sip_auth_decode(&a, &pl), ENOTSUP);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pl = P(bad[i]);
		if (sip_auth_decode(&a, &pl) != EBADMSG)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

/* ---------------------------------------------------------------------- */
/* Whole messages                                                         */
/* ---------------------------------------------------------------------- */

#define REGISTER_MSG \
	"REGISTER sip:example.com SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds7;rport\r\n" \
	"Max-Forwards: 70\r\n" \
	"From: \"100\" <sip:100@example.com>;tag=a73kszlfl\r\n" \
	"To: <sip:100@example.com>\r\n" \
	"Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10\r\n" \
	"CSeq: 1 REGISTER\r\n" \
	"Contact: <sip:100@192.0.2.10:5060;transport=udp>;expires=3600\r\n" \
	"Authorization: Digest username=\"100\", realm=\"example.com\", nonce=\"n\", uri=\"sip:example.com\", response=\"r\"\r\n" \
	"Content-Length: 0\r\n" \
	"\r\n"

static void t_register(void **state)
{
	const struct sip_hdr *h;
	struct sip_auth a;
	char *b;

	(void)state;
	assert_int_equal(decode_str(REGISTER_MSG, &b), 0);
	assert_true(msg.req);
	assert_pl(msg.met, "REGISTER");
	assert_pl(msg.ruri_s, "sip:example.com");
	assert_pl(msg.ruri.host, "example.com");
	assert_pl(msg.ver, "SIP/2.0");
	assert_int_equal(msg.hdrc, 9);
	assert_pl(msg.via.host, "192.0.2.10");
	assert_int_equal(msg.via.port, 5060);
	assert_pl(msg.from.dname, "\"100\"");
	assert_pl(msg.from.uri.user, "100");
	assert_pl_empty(msg.to.tag);
	assert_int_equal(msg.maxfwd, 70);
	assert_true(msg.has_clen);
	assert_int_equal(msg.len, strlen(REGISTER_MSG));
	assert_ptr_equal(msg.buf, b);
	h = sip_msg_hdr(&msg, SIP_HDR_AUTHORIZATION);
	assert_int_equal(sip_auth_decode(&a, &h->val), 0);
	assert_pl(a.username, "100");
	assert_null(sip_msg_hdr(&msg, SIP_HDR_ROUTE));
	assert_null(sip_msg_hdr_name(&msg, "X-Nothing"));
	assert_ptr_equal(sip_msg_hdr_name(&msg, "CALL-ID"), sip_msg_hdr(&msg, SIP_HDR_CALL_ID));
	free(b);
}

static void t_compact(void **state)
{
	static const struct { const char *name; enum sip_hdr_id id; } c[] = {
		{ "i", SIP_HDR_CALL_ID }, { "m", SIP_HDR_CONTACT },
		{ "e", SIP_HDR_CONTENT_ENCODING }, { "l", SIP_HDR_CONTENT_LENGTH },
		{ "c", SIP_HDR_CONTENT_TYPE }, { "f", SIP_HDR_FROM },
		{ "s", SIP_HDR_SUBJECT }, { "k", SIP_HDR_SUPPORTED },
		{ "t", SIP_HDR_TO }, { "v", SIP_HDR_VIA }, { "o", SIP_HDR_EVENT },
		{ "u", SIP_HDR_ALLOW_EVENTS }, { "r", SIP_HDR_REFER_TO },
		{ "b", SIP_HDR_REFERRED_BY }, { "x", SIP_HDR_SESSION_EXPIRES },
		{ "y", SIP_HDR_OTHER }, { "a", SIP_HDR_OTHER },
	};
	const char *text =
		"SUBSCRIBE sip:b@example.com SIP/2.0\r\n"
		"V: SIP/2.0/TCP h.example.com;branch=z9hG4bK1\r\n"
		"F: <sip:a@example.com>;tag=1\r\n"
		"T: <sip:b@example.com>\r\n"
		"I: c1\r\n"
		"CSeq: 1 SUBSCRIBE\r\n"
		"M: <sip:a@h.example.com>\r\n"
		"E: gzip\r\n"
		"C: text/plain\r\n"
		"S: hi\r\n"
		"K: timer\r\n"
		"O: presence\r\n"
		"U: dialog\r\n"
		"R: <sip:c@example.com>\r\n"
		"B: <sip:a@example.com>\r\n"
		"X: 1800\r\n"
		"Y: identity\r\n"
		"A: *;audio\r\n"
		"L: 2\r\n"
		"\r\nok";
	char *b;
	size_t i;

	(void)state;
	assert_int_equal(decode_str(text, &b), 0);
	assert_pl(msg.body, "ok");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const struct sip_hdr *h = NULL;
		unsigned j;

		for (j = 0; j < msg.hdrc; j++)
			if (msg.hdrv[j].name.l == 1 && (msg.hdrv[j].name.p[0] | 0x20) == c[i].name[0])
				h = &msg.hdrv[j];
		assert_non_null(h);
		if (h->id != c[i].id)
			fail_msg("compact %s -> %d", c[i].name, h->id);
	}
	assert_pl(sip_msg_hdr_name(&msg, "Content-Encoding")->val, "gzip");
	assert_pl(sip_msg_hdr_name(&msg, "Session-Expires")->val, "1800");
	assert_pl(sip_msg_hdr_name(&msg, "y")->val, "identity");
	free(b);
}

static void t_full_names(void **state)
{
	static const struct { const char *name; enum sip_hdr_id id; } n[] = {
		{ "Accept", SIP_HDR_ACCEPT }, { "allow", SIP_HDR_ALLOW },
		{ "Allow-Events", SIP_HDR_ALLOW_EVENTS },
		{ "AUTHORIZATION", SIP_HDR_AUTHORIZATION },
		{ "Content-Encoding", SIP_HDR_CONTENT_ENCODING },
		{ "Content-Type", SIP_HDR_CONTENT_TYPE }, { "Event", SIP_HDR_EVENT },
		{ "Expires", SIP_HDR_EXPIRES }, { "Min-Expires", SIP_HDR_MIN_EXPIRES },
		{ "Proxy-Authenticate", SIP_HDR_PROXY_AUTHENTICATE },
		{ "Proxy-Authorization", SIP_HDR_PROXY_AUTHORIZATION },
		{ "Proxy-Require", SIP_HDR_PROXY_REQUIRE },
		{ "Record-Route", SIP_HDR_RECORD_ROUTE }, { "Refer-To", SIP_HDR_REFER_TO },
		{ "Referred-By", SIP_HDR_REFERRED_BY }, { "Require", SIP_HDR_REQUIRE },
		{ "Route", SIP_HDR_ROUTE }, { "Session-Expires", SIP_HDR_SESSION_EXPIRES },
		{ "Subject", SIP_HDR_SUBJECT },
		{ "Subscription-State", SIP_HDR_SUBSCRIPTION_STATE },
		{ "Supported", SIP_HDR_SUPPORTED }, { "User-Agent", SIP_HDR_USER_AGENT },
		{ "WWW-Authenticate", SIP_HDR_WWW_AUTHENTICATE },
		{ "Contentlength", SIP_HDR_OTHER }, { "Vias", SIP_HDR_OTHER },
		{ "Toe", SIP_HDR_OTHER }, { "Q", SIP_HDR_OTHER },
	};
	char text[4096];
	size_t i, off;
	char *b;

	(void)state;
	off = (size_t)snprintf(text, sizeof(text), "%s",
			       "OPTIONS sip:x@example.com SIP/2.0\r\n"
			       "Via: SIP/2.0/UDP h;branch=z9hG4bK2\r\n"
			       "From: <sip:a@example.com>;tag=1\r\nTo: <sip:x@example.com>\r\n"
			       "Call-ID: c2\r\nCSeq: 2 OPTIONS\r\n");
	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s: v%zu\r\n", n[i].name, i);
	snprintf(text + off, sizeof(text) - off, "\r\n");
	assert_int_equal(decode_str(text, &b), 0);
	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		const struct sip_hdr *h = &msg.hdrv[5 + i];

		assert_pl(h->name, n[i].name);
		if (h->id != n[i].id)
			fail_msg("%s -> %d", n[i].name, h->id);
	}
	free(b);
}

static void t_folding(void **state)
{
	const char *text =
		"INVITE sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP\r\n   host.example.com\r\n\t;branch=z9hG4bKf\r\n"
		"From:\r\n <sip:alice@example.com>\r\n ;tag=9\r\n"
		"To: <sip:bob@example.com>\r\n"
		"Call-ID:\r\n\tfold@x\r\n"
		"CSeq: 7\r\n INVITE\r\n"
		"Subject: first\r\n second\r\n \r\n"
		"Max-Forwards: \r\n 10\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	const struct sip_hdr *h;
	char *b;

	(void)state;
	assert_int_equal(decode_str(text, &b), 0);
	assert_pl(msg.via.host, "host.example.com");
	assert_pl(msg.via.branch, "z9hG4bKf");
	assert_pl(msg.from.tag, "9");
	assert_pl(msg.callid, "fold@x");
	assert_int_equal(msg.cseq.num, 7);
	assert_int_equal(msg.maxfwd, 10);
	h = sip_msg_hdr(&msg, SIP_HDR_SUBJECT);
	assert_pl(h->val, "first\r\n second");
	assert_int_equal(msg.hdrc, 8);
	free(b);
}

static void t_bare_lf(void **state)
{
	const char *text =
		"\r\n\nMESSAGE sip:bob@example.com SIP/2.0\n"
		"Via: SIP/2.0/TCP h.example.com;branch=z9hG4bKlf\n"
		"From: <sip:alice@example.com>;tag=lf\n"
		"To: <sip:bob@example.com>\r\n"
		"Call-ID: lf@h\n"
		"CSeq: 3 MESSAGE\n"
		"Subject: a\n b\n"
		"l: 5\n"
		"\n"
		"hello";
	size_t skip, ml, len;
	char *b;

	(void)state;
	assert_int_equal(decode_str(text, &b), 0);
	assert_ptr_equal(msg.buf, b + 3);
	assert_pl(msg.body, "hello");
	assert_pl(sip_msg_hdr(&msg, SIP_HDR_SUBJECT)->val, "a\n b");
	len = strlen(text);
	assert_int_equal(sip_msg_frame(b, len, &skip, &ml), 0);
	assert_int_equal(skip, 3);
	assert_int_equal(ml, len - 3);
	free(b);
}

static void t_ipv6(void **state)
{
	const char *text =
		"REGISTER sip:[2001:db8::10]:5070 SIP/2.0\r\n"
		"To: sip:user@example.com\r\n"
		"From: sip:user@example.com;tag=81x2\r\n"
		"Via: SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111\r\n"
		"Call-ID: SSG9559905523997077@hlau_4100\r\n"
		"Max-Forwards: 70\r\n"
		"Contact: \"Caller\" <sip:caller@[2001:db8::1]>\r\n"
		"CSeq: 98176 REGISTER\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sip_addr a;
	char *b;

	(void)state;
	assert_int_equal(decode_str(text, &b), 0);
	assert_true(msg.ruri.ipv6);
	assert_pl(msg.ruri.host, "2001:db8::10");
	assert_int_equal(msg.ruri.port, 5070);
	assert_pl(msg.via.host, "2001:db8::9:1");
	assert_pl(msg.via.received, "[2001:db8::9:255]");
	assert_int_equal(sip_addr_decode(&a, &sip_msg_hdr(&msg, SIP_HDR_CONTACT)->val), 0);
	assert_pl(a.uri.host, "2001:db8::1");
	assert_true(a.uri.ipv6);
	free(b);

	/* RFC 5118 4.2: IPv6 without brackets in the Request-URI: 400 */
	assert_int_equal(decode_str(
		"REGISTER sip:2001:db8::10 SIP/2.0\r\n"
		"To: sip:user@example.com\r\n"
		"From: sip:user@example.com;tag=81x2\r\n"
		"Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111\r\n"
		"Call-ID: SSG9559905523997077@hlau_4100\r\n"
		"CSeq: 98176 REGISTER\r\n"
		"Content-Length: 0\r\n\r\n", &b), EBADMSG);
	assert_string_equal(msg.err, "Bad Request-URI");
	assert_true(msg.req);
	free(b);
}

#define KEYS \
	"Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKk\r\n" \
	"From: <sip:a@example.com>;tag=k\r\n" \
	"To: <sip:b@example.com>\r\n" \
	"Call-ID: keys@h\r\n"

static void t_udp_length(void **state)
{
	const char *longer = "OPTIONS sip:b@example.com SIP/2.0\r\n" KEYS
		"CSeq: 1 OPTIONS\r\nContent-Length: 3\r\n\r\nabcdef";
	char *b;

	(void)state;

	/* longer datagram: cut at Content-Length */
	assert_int_equal(decode_str(longer, &b), 0);
	assert_pl(msg.body, "abc");
	assert_int_equal(msg.len, strlen(longer) - 3);
	free(b);
	/* shorter: 400 */
	assert_int_equal(decode_str("OPTIONS sip:b@example.com SIP/2.0\r\n" KEYS
				    "CSeq: 1 OPTIONS\r\nContent-Length: 10\r\n\r\nabc", &b), EBADMSG);
	assert_string_equal(msg.err, "Truncated Body");
	assert_true(msg.req);
	assert_pl_empty(msg.body);
	free(b);
	/* absent: the rest */
	assert_int_equal(decode_str("OPTIONS sip:b@example.com SIP/2.0\r\n" KEYS
				    "CSeq: 1 OPTIONS\r\n\r\nabc", &b), 0);
	assert_false(msg.has_clen);
	assert_pl(msg.body, "abc");
	free(b);
	/* no empty line at all: no body */
	assert_int_equal(decode_str("OPTIONS sip:b@example.com SIP/2.0\r\n" KEYS
				    "CSeq: 1 OPTIONS", &b), 0);
	assert_pl(msg.cseq.met, "OPTIONS");
	assert_pl_empty(msg.body);
	free(b);
	/* the same value twice is fine, two values are not */
	assert_int_equal(decode_str("OPTIONS sip:b@example.com SIP/2.0\r\n" KEYS
				    "CSeq: 1 OPTIONS\r\nl: 1\r\nContent-Length: 1\r\n\r\nx", &b), 0);
	free(b);
	assert_int_equal(decode_str("OPTIONS sip:b@example.com SIP/2.0\r\n" KEYS
				    "CSeq: 1 OPTIONS\r\nl: 1\r\nContent-Length: 0\r\n\r\nx", &b), EBADMSG);
	assert_string_equal(msg.err, "Conflicting Content-Length");
	free(b);
	assert_int_equal(decode_str("OPTIONS sip:b@example.com SIP/2.0\r\n" KEYS
				    "CSeq: 1 OPTIONS\r\nContent-Length: 4294967296\r\n\r\n", &b), EBADMSG);
	assert_string_equal(msg.err, "Bad Content-Length");
	free(b);
}

static void t_errors(void **state)
{
	static const struct { const char *text; bool req; const char *err; } c[] = {
		{ "", false, "Empty Message" },
		{ "\r\n\r\n", false, "Empty Message" },
		{ "hello\r\n\r\n", false, "Malformed Request Line" },
		{ "INVITE\r\n\r\n", false, "Malformed Request Line" },
		{ "INVITE sip:a@b\r\n\r\n", false, "Malformed Request Line" },
		{ " INVITE sip:a@b SIP/2.0\r\n\r\n", false, "Malformed Request Line" },
		{ "INVITE sip:a@b HTTP/1.1\r\n\r\n", false, "Malformed Request Line" },
		{ "INVITE sip:a@b SIP/2.\r\n\r\n", false, "Malformed Request Line" },
		{ "INV(ITE sip:a@b SIP/2.0\r\n\r\n", false, "Malformed Request Line" },
		{ "SIP/2.0\r\n\r\n", false, "Malformed Status Line" },
		{ "SIP/2.0 20 OK\r\n\r\n", false, "Bad Status Code" },
		{ "SIP/2.0 2000 OK\r\n\r\n", false, "Bad Status Code" },
		{ "SIP/2.0 700 Nope\r\n\r\n", false, "Bad Status Code" },
		{ "SIP/2.0 099 Nope\r\n\r\n", false, "Bad Status Code" },
		{ "SIP/3.0 200 OK\r\n\r\n", false, "Version Not Supported" },
		{ "SIP/2.0 200 O\x01K\r\n\r\n", false, "Malformed Status Line" },
		{ "INVITE sip:a@b SIP/2.0\r\n" KEYS "\r\n", false, "Missing CSeq" },
		{ "INVITE sip:a@b SIP/2.0\r\nVia: x\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n", false, "Malformed Via" },
		{ "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\n"
		  "To: *\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n", false, "Malformed To" },
		{ "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\n"
		  "To: <sip:a@b>\r\nCall-ID: c d\r\nCSeq: 1 INVITE\r\n\r\n", false, "Bad Call-ID" },
		{ "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\n"
		  "To: <sip:a@b>\r\nCall-ID: \r\nCSeq: 1 INVITE\r\n\r\n", false, "Bad Call-ID" },
		{ "INVITE sip:a@b SIP/2.0\r\n" KEYS "CSeq: 1 INVITE\r\nMax-Forwards: 7O\r\n\r\n",
		  true, "Bad Max-Forwards" },
		{ "INVITE sip:a@b SIP/2.0\r\n" KEYS "CSeq: 1 INVITE\r\nMax-Forwards: 7\r\n"
		  "Max-Forwards: 7\r\n\r\n", true, "Multiple Max-Forwards" },
		{ "INVITE sip:a@b SIP/2.0\r\n" KEYS "CSeq: 1 INVITE\r\nNo colon here\r\n\r\n",
		  true, "Malformed Header" },
		{ "INVITE sip:a@b SIP/2.0\r\n continued start\r\n" KEYS "CSeq: 1 INVITE\r\n\r\n",
		  true, "Malformed Header" },
		{ "INVITE sip:a@b SIP/2.0\r\n" KEYS "CSeq: 1 INVITE\r\n: novalue\r\n\r\n",
		  true, "Malformed Header" },
		{ "INVITE sip:a@b SIP/2.0\r\n" KEYS "CSeq: 1 invite\r\n\r\n",
		  true, "CSeq Method Mismatch" },
		{ "INVITE sip:a@b SIP/2.0\r\n" KEYS "Call-ID: other\r\nCSeq: 1 INVITE\r\n\r\n",
		  true, "Multiple Call-ID" },
		{ "INVITE sip:a@b SIP/2.0\r\n" KEYS "CSeq: 1 INVITE\r\nCSeq: 2 INVITE\r\n\r\n",
		  true, "Multiple CSeq" },
		{ "INVITE sip:a@b SIP/2.0\r\n" KEYS "t: <sip:c@d>\r\nCSeq: 1 INVITE\r\n\r\n",
		  true, "Multiple To" },
		{ "INVITE tel:+123 SIP/2.0\r\n" KEYS "CSeq: 1 INVITE\r\n\r\n", true, NULL },
		{ "SIP/2.0 200 OK\r\n" KEYS "CSeq: 1 INVITE\r\n\r\n", false, NULL },
		{ "sip/2.0 180\r\n" KEYS "CSeq: 1 INVITE\r\n\r\n", false, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *b;
		int err = decode_str(c[i].text, &b);

		if (c[i].err == NULL ? err != 0 : (err != EBADMSG || !msg.err
						    || strcmp(msg.err, c[i].err)))
			fail_msg("case %zu: %d %s", i, err, msg.err ? msg.err : "-");
		if (msg.req != c[i].req)
			fail_msg("case %zu: req %d", i, msg.req);
		free(b);
	}
	assert_int_equal(sip_msg_decode(NULL, "x", 1), EINVAL);
	assert_int_equal(sip_msg_decode(&msg, NULL, 1), EINVAL);
}

static void t_max_hdrs(void **state)
{
	size_t cap = 200 * 16 + 512, off, i;
	char *text = malloc(cap);
	char *b;

	(void)state;
	assert_non_null(text);
	off = (size_t)snprintf(text, cap, "OPTIONS sip:b@example.com SIP/2.0\r\n" KEYS);
	for (i = 0; i < 200; i++)
		off += (size_t)snprintf(text + off, cap - off, "X-%zu: %zu\r\n", i, i);
	snprintf(text + off, cap - off, "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(decode_str(text, &b), EBADMSG);
	assert_string_equal(msg.err, "Too Many Headers");
	assert_int_equal(msg.hdrc, SIP_MAX_HDRS);
	assert_true(msg.req);                    /* CSeq found past the cap */
	assert_int_equal(msg.cseq.num, 1);
	free(b);
	free(text);
}

/* ---------------------------------------------------------------------- */
/* Stream framing                                                         */
/* ---------------------------------------------------------------------- */

#define STREAM_MSG \
	"MESSAGE sip:b@example.com SIP/2.0\r\n" KEYS \
	"CSeq: 4 MESSAGE\r\n" \
	"Content-Length   :  5\r\n" \
	"\r\n" \
	"hello"

static void t_frame_bytewise(void **state)
{
	size_t len = strlen(STREAM_MSG), k, skip, ml;
	char *b;

	(void)state;
	for (k = 0; k < len; k++) {
		b = malloc(k ? k : 1);
		assert_non_null(b);
		memcpy(b, STREAM_MSG, k);
		skip = ml = 999;
		assert_int_equal(sip_msg_frame(b, k, &skip, &ml), EAGAIN);
		assert_int_equal(ml, 999);
		free(b);
	}
	b = dup_msg(STREAM_MSG, &len);
	assert_int_equal(sip_msg_frame(b, len, &skip, &ml), 0);
	assert_int_equal(skip, 0);
	assert_int_equal(ml, len);
	assert_int_equal(sip_msg_decode(&msg, b, ml), 0);
	assert_pl(msg.body, "hello");
	free(b);
}

static void t_frame_stream(void **state)
{
	const char *stream =
		"\r\n\r\n" STREAM_MSG "\r\n"
		"OPTIONS sip:b@example.com SIP/2.0\n" KEYS
		"CSeq: 5 OPTIONS\r\nl: 0\r\n\r\n"
		"\r\n\r\n" STREAM_MSG;
	size_t len, off = 0, skip, ml;
	uint32_t cseqs[4];
	unsigned n = 0;
	char *b = dup_msg(stream, &len);

	(void)state;
	for (;;) {
		int err = sip_msg_frame(b + off, len - off, &skip, &ml);

		if (err == EAGAIN) {
			assert_int_equal(off + skip, len);
			break;
		}
		assert_int_equal(err, 0);
		off += skip;
		assert_int_equal(sip_msg_decode(&msg, b + off, ml), 0);
		assert_true(n < 4);
		cseqs[n++] = msg.cseq.num;
		off += ml;
	}
	assert_int_equal(n, 3);
	assert_int_equal(cseqs[0], 4);
	assert_int_equal(cseqs[1], 5);
	assert_int_equal(cseqs[2], 4);
	free(b);

	/* keep-alives only: consumed, nothing framed */
	b = dup_msg("\r\n\r\n", &len);
	ml = 7;
	assert_int_equal(sip_msg_frame(b, len, &skip, &ml), EAGAIN);
	assert_int_equal(skip, 4);
	assert_int_equal(ml, 7);
	free(b);
	assert_int_equal(sip_msg_frame(NULL, 0, &skip, &ml), EAGAIN);
	assert_int_equal(sip_msg_frame(NULL, 1, &skip, &ml), EINVAL);
}

static void t_frame_errors(void **state)
{
	size_t len, skip, ml;
	char *b, *big;

	(void)state;
	/* Content-Length is mandatory on streams */
	b = dup_msg("OPTIONS sip:b@example.com SIP/2.0\r\n" KEYS "CSeq: 1 OPTIONS\r\n\r\n", &len);
	assert_int_equal(sip_msg_frame(b, len, &skip, &ml), EBADMSG);
	free(b);
	/* not a number */
	b = dup_msg("OPTIONS sip:b SIP/2.0\r\nContent-Length: x\r\n\r\n", &len);
	assert_int_equal(sip_msg_frame(b, len, &skip, &ml), EBADMSG);
	free(b);
	/* over the cap */
	b = dup_msg("OPTIONS sip:b SIP/2.0\r\nl: 65536\r\n\r\n", &len);
	assert_int_equal(sip_msg_frame(b, len, &skip, &ml), EMSGSIZE);
	free(b);
	b = dup_msg("OPTIONS sip:b SIP/2.0\r\nContent-Length: 65530\r\n\r\n", &len);
	assert_int_equal(sip_msg_frame(b, len, &skip, &ml), EMSGSIZE);
	free(b);
	b = dup_msg("OPTIONS sip:b SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n", &len);
	assert_int_equal(sip_msg_frame(b, len, &skip, &ml), EBADMSG);
	free(b);

	/* a head that never ends */
	len = SIP_MSG_MAX + 2;
	big = malloc(len);
	assert_non_null(big);
	memset(big, 'a', len);
	memcpy(big, "OPTIONS sip:b SIP/2.0\r\nX: ", 26);
	assert_int_equal(sip_msg_frame(big, SIP_MSG_MAX - 1, &skip, &ml), EAGAIN);
	assert_int_equal(sip_msg_frame(big, SIP_MSG_MAX, &skip, &ml), EBADMSG);
	assert_int_equal(sip_msg_frame(big, len, &skip, &ml), EBADMSG);
	/* a head that ends past the cap */
	memcpy(big + len - 4, "\r\n\r\n", 4);
	assert_int_equal(sip_msg_frame(big, len, &skip, &ml), EBADMSG);
	/* the decoder refuses more than SIP_MSG_MAX, takes a long header */
	assert_int_equal(sip_msg_decode(&msg, big, len), EBADMSG);
	assert_string_equal(msg.err, "Message Too Large");
	assert_int_equal(sip_msg_decode(&msg, big, SIP_MSG_MAX), EBADMSG);
	assert_string_equal(msg.err, "Missing Via");
	free(big);
	/* a head of exactly the cap, with an empty body, frames */
	len = SIP_MSG_MAX;
	big = malloc(len);
	assert_non_null(big);
	memset(big, 'a', len);
	memcpy(big, "OPTIONS sip:b SIP/2.0\r\nl: 0\r\nX: ", 33);
	memcpy(big + len - 4, "\r\n\r\n", 4);
	assert_int_equal(sip_msg_frame(big, len, &skip, &ml), 0);
	assert_int_equal(ml, SIP_MSG_MAX);
	free(big);
}

int test_sip_msg_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_rfc4475_valid),
		cmocka_unit_test(t_rfc4475_wsinv),
		cmocka_unit_test(t_rfc4475_intmeth),
		cmocka_unit_test(t_rfc4475_escapes),
		cmocka_unit_test(t_rfc4475_long),
		cmocka_unit_test(t_rfc4475_bodies),
		cmocka_unit_test(t_rfc4475_invalid),
		cmocka_unit_test(t_rfc4475_semantic),
		cmocka_unit_test(t_rfc4475_semantic2),
		cmocka_unit_test(t_rfc4475_semantic3),
		cmocka_unit_test(t_rfc4475_frame),
		cmocka_unit_test(t_uri),
		cmocka_unit_test(t_addr),
		cmocka_unit_test(t_via),
		cmocka_unit_test(t_cseq),
		cmocka_unit_test(t_param),
		cmocka_unit_test(t_values),
		cmocka_unit_test(t_auth),
		cmocka_unit_test(t_register),
		cmocka_unit_test(t_compact),
		cmocka_unit_test(t_full_names),
		cmocka_unit_test(t_folding),
		cmocka_unit_test(t_bare_lf),
		cmocka_unit_test(t_ipv6),
		cmocka_unit_test(t_udp_length),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_max_hdrs),
		cmocka_unit_test(t_frame_bytewise),
		cmocka_unit_test(t_frame_stream),
		cmocka_unit_test(t_frame_errors),
	};
	return cmocka_run_group_tests_name("sip_msg", tests, NULL, NULL);
}
