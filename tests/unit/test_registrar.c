/**
 * @file test_registrar.c  The registrar through the real stack, store and
 * digest code: challenge, success after commit, failures that cannot be
 * told apart, replay, stale nonces, expiry bounds, unregister, restart.
 * (End-to-end tests drive the same with SIPp and baresip.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conf.h"
#include "core/loop.h"
#include "pbx/pbx.h"
#include "pbx/registrar.h"
#include "sip/auth.h"
#include "store/store.h"
#include "sipnet.h"
#include "suites.h"

static struct sipnet net;   /* "server" and "peer" sockets */
static char datadir[64];

static const char sipconf[] =
	"[general]\nrealm=tandem\nminexpiry=60\ndefaultexpiry=120\nmaxexpiry=3600\n"
	"[tpl](!)\ntype=friend\nhost=dynamic\nsecret=tf2020\n"
	"[100-tfg](tpl)\n[101-tfg](tpl)\n"
	"[locked](tpl)\ndeny=0.0.0.0/0.0.0.0\npermit=10.0.0.0/8\n"
	"[lo-only](tpl)\ndeny=0.0.0.0/0\npermit=127.0.0.1\ncontactdeny=0.0.0.0/0\n"
	"contactpermit=127.0.0.0/255.0.0.0\n"
	"[trunk]\ntype=peer\nhost=192.0.2.1\nsecret=x\n";

static void load_conf(void)
{
	struct conf *c = NULL;
	struct sipconf *sc = NULL;
	char err[256];

	assert_int_equal(conf_parse_buf(&c, NULL, "sip.conf", sipconf, strlen(sipconf),
					err, sizeof(err)), 0);
	assert_int_equal(sipconf_build(&sc, c, err, sizeof(err)), 0);
	pbx_set_sipconf(sc);
}

static void start(void)
{
	struct sip_stack_handlers h = { pbx_request, pbx_ack };

	assert_int_equal(loop_init(), 0);
	assert_int_equal(store_init(datadir), 0);
	assert_int_equal(auth_init(30), 0);
	assert_int_equal(sip_transp_init(sip_stack_recv, NULL), 0);
	assert_int_equal(sip_stack_init(&h), 0);
	assert_int_equal(registrar_init(), 0);
	load_conf();
}

static void stop(void)
{
	registrar_close();
	store_commit();
	sip_stack_close();
	sip_transp_close();
	pbx_close();
	auth_close();
	store_close();
	loop_close();
}

static int setup(void **state)
{
	(void)state;
	snprintf(datadir, sizeof(datadir), "/tmp/tandem-unit-XXXXXX");
	assert_non_null(mkdtemp(datadir));
	sipnet_open(&net);
	start();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	stop();
	sipnet_close(&net);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", datadir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void deliver(const char *text)
{
	sipnet_deliver(&net, text);
	store_commit();   /* what the loop does at the end of every turn */
}

/* The last message the peer received (empty string when none). */
static char *reply(void)
{
	static char buf[8192];
	ssize_t r;

	buf[0] = '\0';
	while ((r = recv(net.pfd, buf, sizeof(buf) - 1, 0)) > 0)
		buf[r] = '\0';
	return buf;
}

static int code(const char *m)
{
	int c = 0;
	sscanf(m, "SIP/2.0 %d", &c);
	return c;
}

static void reg(const char *user, const char *branch, int cseq, const char *expires,
		const char *authz)
{
	char m[4096];

	snprintf(m, sizeof(m),
		 "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK%s;rport\r\n"
		 "From: <sip:%s@127.0.0.1>;tag=f1\r\nTo: <sip:%s@127.0.0.1>\r\n"
		 "Call-ID: reg-%s\r\nCSeq: %d REGISTER\r\nMax-Forwards: 70\r\n"
		 "Contact: <sip:%s@127.0.0.1:5999>\r\n%s%s%s%s"
		 "User-Agent: unit\r\nContent-Length: 0\r\n\r\n",
		 branch, user, user, branch, cseq, user,
		 expires ? "Expires: " : "", expires ? expires : "", expires ? "\r\n" : "",
		 authz ? authz : "");
	deliver(m);
}

/* Authorization line answering the first WWW-Authenticate of a 401. */
static void answer(const char *resp401, const char *user, const char *pass,
		   uint32_t nc, char *out, size_t size)
{
	const char *h = strstr(resp401, "WWW-Authenticate: ");
	const char *e;

	assert_non_null(h);
	h += strlen("WWW-Authenticate: ");
	e = strstr(h, "\r\n");
	struct pl val = { h, (size_t)(e - h) };
	assert_int_equal(auth_client_response(out, size, "Authorization", &val, user, pass,
					      "REGISTER", "sip:127.0.0.1", nc, "c0ffee"), 0);
}

static void t_register_ok(void **state)
{
	char r401[8192], authz[1024];
	const char *r;

	(void)state;
	reg("100-tfg", "a1", 1, "300", NULL);
	snprintf(r401, sizeof(r401), "%s", reply());
	assert_int_equal(code(r401), 401);
	/* SHA-256 offered first, then MD5 (RFC 8760 2.4) */
	const char *sha = strstr(r401, "algorithm=SHA-256"), *md5 = strstr(r401, "algorithm=MD5");
	assert_non_null(sha);
	assert_non_null(md5);
	assert_true(sha < md5);
	assert_null(registrar_find("100-tfg"));

	answer(r401, "100-tfg", "tf2020", 1, authz, sizeof(authz));
	reg("100-tfg", "a2", 2, "300", authz);
	r = reply();
	assert_int_equal(code(r), 200);
	assert_non_null(strstr(r, "Contact: <sip:100-tfg@127.0.0.1:5999>;expires=300"));
	assert_non_null(registrar_find("100-tfg"));
	assert_int_equal(registrar_count(), 1);

	/* the same credentials again (same nonce, same nc): a replay */
	reg("100-tfg", "a3", 3, "300", authz);
	assert_int_equal(code(reply()), 401);
	/* the next nc on that nonce is fine */
	answer(r401, "100-tfg", "tf2020", 2, authz, sizeof(authz));
	reg("100-tfg", "a4", 4, "300", authz);
	assert_int_equal(code(reply()), 200);
}

/* Replace every nonce="..." value by N so two answers can be compared. */
static void mask_nonces(char *s)
{
	char *p = s;

	while ((p = strstr(p, "nonce=\""))) {
		char *q = p + 7, *e = strchr(q, '"');
		if (!e)
			return;
		memmove(q + 1, e, strlen(e) + 1);
		*q = 'N';
		p = q + 2;
	}
}

static void t_failures_indistinguishable(void **state)
{
	char r401[8192], authz[1024], wrong[8192], unknown[8192];

	(void)state;
	reg("101-tfg", "b1", 1, NULL, NULL);
	snprintf(r401, sizeof(r401), "%s", reply());
	/* wrong password for a known peer */
	answer(r401, "101-tfg", "nope", 1, authz, sizeof(authz));
	reg("101-tfg", "b2", 2, NULL, authz);
	snprintf(wrong, sizeof(wrong), "%s", reply());
	/* an unknown user: same request, other name in To/From/Contact */
	answer(r401, "101-tfx", "nope", 1, authz, sizeof(authz));
	reg("101-tfx", "b2", 2, NULL, authz);
	snprintf(unknown, sizeof(unknown), "%s", reply());
	assert_int_equal(code(wrong), 401);
	assert_int_equal(code(unknown), 401);
	assert_int_equal(strlen(wrong), strlen(unknown));
	mask_nonces(wrong);
	mask_nonces(unknown);
	/* only the echoed user name may differ: 101-tfg vs 101-tfx */
	for (char *p = unknown; (p = strstr(p, "101-tfx")); p += 7)
		memcpy(p, "101-tfg", 7);
	assert_string_equal(wrong, unknown);
	assert_null(registrar_find("101-tfg"));
}

static void t_stale_nonce(void **state)
{
	char r401[8192], authz[1024];
	const char *r;

	(void)state;
	reg("100-tfg", "s1", 1, NULL, NULL);
	snprintf(r401, sizeof(r401), "%s", reply());
	auth_test_clock_shift(31);
	answer(r401, "100-tfg", "tf2020", 1, authz, sizeof(authz));
	reg("100-tfg", "s2", 2, NULL, authz);
	r = reply();
	assert_int_equal(code(r), 401);
	assert_non_null(strstr(r, "stale=true"));
	auth_test_clock_shift(-31);
}

static void t_expiry_bounds(void **state)
{
	char r401[8192], authz[1024];
	const char *r;

	(void)state;
	reg("100-tfg", "e1", 1, "30", NULL);
	snprintf(r401, sizeof(r401), "%s", reply());
	answer(r401, "100-tfg", "tf2020", 1, authz, sizeof(authz));
	reg("100-tfg", "e2", 2, "30", authz);
	r = reply();
	assert_int_equal(code(r), 423);
	assert_non_null(strstr(r, "Min-Expires: 60\r\n"));
	answer(r401, "100-tfg", "tf2020", 2, authz, sizeof(authz));
	reg("100-tfg", "e3", 3, "99999", authz);       /* capped at maxexpiry */
	r = reply();
	assert_int_equal(code(r), 200);
	assert_non_null(strstr(r, ";expires=3600"));
	answer(r401, "100-tfg", "tf2020", 3, authz, sizeof(authz));
	reg("100-tfg", "e4", 4, "0", authz);            /* unregister */
	assert_int_equal(code(reply()), 200);
	assert_null(registrar_find("100-tfg"));
}

static void t_static_peer_refused(void **state)
{
	char r401[8192], authz[1024];

	(void)state;
	reg("trunk", "t1", 1, NULL, NULL);
	snprintf(r401, sizeof(r401), "%s", reply());
	answer(r401, "trunk", "x", 1, authz, sizeof(authz));
	reg("trunk", "t2", 2, NULL, authz);
	assert_int_equal(code(reply()), 403);
}

static void t_acl(void **state)
{
	char r401[8192], authz[1024];

	(void)state;
	/* right password from an address deny/permit refuses: same as wrong */
	reg("locked", "l1", 1, NULL, NULL);
	snprintf(r401, sizeof(r401), "%s", reply());
	answer(r401, "locked", "tf2020", 1, authz, sizeof(authz));
	reg("locked", "l2", 2, NULL, authz);
	assert_int_equal(code(reply()), 401);
	assert_null(registrar_find("locked"));
	/* permitted source and contact */
	reg("lo-only", "l3", 1, NULL, NULL);
	snprintf(r401, sizeof(r401), "%s", reply());
	answer(r401, "lo-only", "tf2020", 1, authz, sizeof(authz));
	reg("lo-only", "l4", 2, NULL, authz);
	assert_int_equal(code(reply()), 200);
}

static void t_config_refusals(void **state)
{
	static const char *const bad[] = {
		"[p]\ntype=friend\nhost=dynamic\nmd5secret=0123\n",
		"[p]\ntype=friend\nhost=dynamic\nsecret=x\nacl=office\n",
		"[p]\ntype=friend\nhost=dynamic\nsecret=x\npermit=10.0.0.0/33\n",
		"[general]\nminexpiry=600\nmaxexpiry=60\n",
		"[general]\nrealm=a\"b\n",
	};
	static const char *const why[] = { "md5secret", "acl.conf", "permit", "minexpiry",
					   "realm" };
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct conf *c = NULL;
		struct sipconf *sc = NULL;
		assert_int_equal(conf_parse_buf(&c, NULL, "sip.conf", bad[i], strlen(bad[i]),
						err, sizeof(err)), 0);
		err[0] = '\0';
		assert_int_not_equal(sipconf_build(&sc, c, err, sizeof(err)), 0);
		assert_null(sc);
		assert_non_null(strstr(err, "sip.conf:"));
		assert_non_null(strstr(err, why[i]));
	}
	/* chan_sip's older bindaddr/bindport still choose the listener */
	const char *old = "[general]\nbindaddr=127.0.0.1\nbindport=5077\n";
	struct conf *c = NULL;
	struct sipconf *sc = NULL;
	assert_int_equal(conf_parse_buf(&c, NULL, "sip.conf", old, strlen(old), err,
					sizeof(err)), 0);
	assert_int_equal(sipconf_build(&sc, c, err, sizeof(err)), 0);
	assert_int_equal(sip_sa_port(&sc->gen.udpbind), 5077);
	sipconf_free(sc);
}

/* callgroup/pickupgroup as ast_get_group: lists and ranges of 0-63, bad
 * pieces skipped (the seed's peers use 38). */
static void t_groups(void **state)
{
	const char *txt = "[a]\ntype=friend\nhost=dynamic\ncallgroup=38\n"
			  "pickupgroup=1,3-5 , 63,64,x,7-2\n[b]\ntype=friend\n"
			  "host=localhost\nport=5099\n";
	struct conf *c = NULL;
	struct sipconf *sc = NULL;
	struct pl a = { "a", 1 }, b = { "b", 1 };
	char err[256], buf[64];
	const struct peer *p;

	(void)state;
	assert_int_equal(conf_parse_buf(&c, NULL, "sip.conf", txt, strlen(txt), err,
					sizeof(err)), 0);
	assert_int_equal(sipconf_build(&sc, c, err, sizeof(err)), 0);
	p = sipconf_peer(sc, &a);
	assert_true(p->callgroup == UINT64_C(1) << 38);
	assert_true(p->pickupgroup == (UINT64_C(0x3a) | UINT64_C(1) << 63));
	assert_int_equal(peer_group_str(p->pickupgroup, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1,3-5,63");
	assert_int_equal(peer_group_str(p->callgroup, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "38");
	assert_int_equal(peer_group_str(p->callgroup, buf, 2), ENOSPC);
	assert_int_equal(peer_group_str(UINT64_MAX, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0-63");
	p = sipconf_peer(sc, &b);
	assert_true(p->callgroup == 0 && p->pickupgroup == 0);
	/* a host name is resolved when sip.conf loads (/etc/hosts here) */
	assert_true(p->addr.ss_family == AF_INET || p->addr.ss_family == AF_INET6);
	assert_int_equal(sip_sa_port(&p->addr), 5099);
	assert_int_equal(peer_group_str(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	sipconf_free(sc);
}

static void t_restart_keeps_bindings(void **state)
{
	char r401[8192], authz[1024];

	(void)state;
	reg("100-tfg", "p1", 1, "600", NULL);
	snprintf(r401, sizeof(r401), "%s", reply());
	answer(r401, "100-tfg", "tf2020", 1, authz, sizeof(authz));
	reg("100-tfg", "p2", 2, "600", authz);
	assert_int_equal(code(reply()), 200);
	stop();
	start();
	assert_null(registrar_find("100-tfg"));
	assert_int_equal(registrar_restore(), 0);
	struct binding *b = registrar_find("100-tfg");
	assert_non_null(b);
	assert_string_equal(b->contact, "sip:100-tfg@127.0.0.1:5999");
	assert_string_equal(b->ua, "unit");
}

/* A stored binding that expires further away than maxexpiry (written under
 * a wall clock that ran ahead) is armed for maxexpiry at most; one that
 * expires sooner keeps its own time. */
static void t_restore_caps_expiry(void **state)
{
	struct store_binding sb = { "100-tfg", "sip:100-tfg@127.0.0.1:5999",
				    "udp:127.0.0.1:5999", "c1", 1, 0, "unit" };
	struct binding *b;

	(void)state;
	sb.expires_at = (int64_t)time(NULL) + 10 * 3600;   /* maxexpiry is 3600 */
	assert_int_equal(store_binding_put(&sb), 0);
	sb.peer = "101-tfg";
	sb.expires_at = (int64_t)time(NULL) + 600;
	assert_int_equal(store_binding_put(&sb), 0);
	store_commit();
	assert_int_equal(registrar_restore(), 0);
	b = registrar_find("100-tfg");
	assert_non_null(b);
	assert_true(tmr_isset(&b->expire));
	assert_true(tmr_left(&b->expire) <= 3600 * 1000);
	assert_true(tmr_left(&b->expire) > 3000 * 1000);
	b = registrar_find("101-tfg");
	assert_non_null(b);
	assert_true(tmr_left(&b->expire) <= 600 * 1000);
	assert_true(tmr_left(&b->expire) > 500 * 1000);
}

int test_registrar_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_groups),
		cmocka_unit_test_setup_teardown(t_register_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(t_failures_indistinguishable, setup, teardown),
		cmocka_unit_test_setup_teardown(t_stale_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(t_expiry_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(t_static_peer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(t_acl, setup, teardown),
		cmocka_unit_test(t_config_refusals),
		cmocka_unit_test_setup_teardown(t_restart_keeps_bindings, setup, teardown),
		cmocka_unit_test_setup_teardown(t_restore_caps_expiry, setup, teardown),
	};
	return cmocka_run_group_tests_name("registrar", tests, NULL, NULL);
}
