/**
 * @file test_presence.c  BLF and MWI: the dialog-info and message-summary
 * bodies, device and hint states, and subscriptions (RFC 6665) through the
 * real stack: digest required, 200 then NOTIFY, state changes with one
 * NOTIFY in flight, refresh, unsubscribe, expiry on the loop's test clock,
 * 481 and timeouts ending a subscription, unsolicited MWI.
 * The call layer is a test double (presence_usage_h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conf.h"
#include "core/loop.h"
#include "core/mem.h"
#include "dialplan/dialplan.h"
#include "pbx/mwi.h"
#include "pbx/pbx.h"
#include "pbx/presence.h"
#include "pbx/registrar.h"
#include "sip/auth.h"
#include "sip/dialog.h"
#include "store/store.h"
#include "sipnet.h"
#include "suites.h"

static struct sipnet net;
static char datadir[64];
static size_t live0;

static const char sipconf[] =
	"[general]\nrealm=tandem\nminexpiry=60\nmaxexpiry=3600\n"
	"[tpl](!)\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\n"
	"subscribecontext=hints-tfg\n"
	"[100-tfg](tpl)\nmailbox=tfg@default\n"
	"[101-tfg](tpl)\n[102-tfg](tpl)\n"
	"[closed](tpl)\nallowsubscribe=no\n"
	"[phone]\ntype=friend\nhost=dynamic\nmailbox=tfg&other@sales\n"
	"[quiet]\ntype=friend\nhost=dynamic\nmailbox=tfg\nsubscribemwi=yes\n";

static const char extensions[] =
	"[hints-tfg]\n"
	"exten => 101,hint,SIP/101-tfg\n"
	"exten => 200,hint,SIP/101-tfg&SIP/102-tfg\n"
	"exten => 300,hint,Custom:door\n"
	"exten => _10X,hint,SIP/${EXTEN}-tfg\n"
	"[default]\nexten => 101,1,Hangup()\n";

/* ------------------------------------------------ the call layer double */

static struct { const char *peer; struct presence_usage u; } usage[4];

static void usage_double(const char *peer, struct presence_usage *u)
{
	size_t i;

	u->ringing = u->inuse = 0;
	for (i = 0; i < 4; i++)
		if (usage[i].peer && !strcmp(usage[i].peer, peer))
			*u = usage[i].u;
}

static void set_usage(const char *peer, unsigned ringing, unsigned inuse)
{
	size_t i;

	for (i = 0; i < 4 && usage[i].peer && strcmp(usage[i].peer, peer); i++)
		;
	assert_true(i < 4);
	usage[i].peer = peer;
	usage[i].u.ringing = ringing;
	usage[i].u.inuse = inuse;
	presence_device_changed(peer);
}

/* ------------------------------------------------------------- harness */

static void load_conf(void)
{
	struct conf *c = NULL;
	struct sipconf *sc = NULL;
	struct dialplan *dp = NULL;
	char err[256];

	assert_int_equal(conf_parse_buf(&c, NULL, "sip.conf", sipconf, strlen(sipconf),
					err, sizeof(err)), 0);
	assert_int_equal(sipconf_build(&sc, c, err, sizeof(err)), 0);
	pbx_set_sipconf(sc);
	c = NULL;
	assert_int_equal(conf_parse_buf(&c, NULL, "extensions.conf", extensions,
					strlen(extensions), err, sizeof(err)), 0);
	assert_int_equal(dialplan_build(&dp, c, err, sizeof(err)), 0);
	conf_free(c);
	pbx_set_dialplan(dp);
}

static int setup(void **state)
{
	struct sip_stack_handlers h = { pbx_request, pbx_ack };

	(void)state;
	live0 = mem_live();
	snprintf(datadir, sizeof(datadir), "/tmp/tandem-unit-XXXXXX");
	assert_non_null(mkdtemp(datadir));
	sipnet_open(&net);
	assert_int_equal(loop_init(), 0);
	assert_int_equal(store_init(datadir), 0);
	assert_int_equal(auth_init(30), 0);
	assert_int_equal(sip_transp_init(sip_stack_recv, NULL), 0);
	assert_int_equal(sip_stack_init(&h), 0);
	assert_int_equal(registrar_init(), 0);
	assert_int_equal(sip_dialog_init(), 0);
	assert_int_equal(presence_init(), 0);
	assert_int_equal(mwi_init(datadir), 0);
	memset(usage, 0, sizeof(usage));
	presence_set_usage_h(usage_double);
	load_conf();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	mwi_close();
	presence_close();
	sip_dialog_close();
	registrar_close();
	store_commit();
	sip_stack_close();
	sip_transp_close();
	pbx_close();
	auth_close();
	store_close();
	loop_close();
	sipnet_close(&net);
	assert_int_equal(mem_live(), live0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", datadir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void deliver(const char *text)
{
	sipnet_deliver(&net, text);
	store_commit();
}

/* The next message the peer received, "" when none is waiting. */
static char *next(void)
{
	static char buf[8192];
	ssize_t r = recv(net.pfd, buf, sizeof(buf) - 1, 0);

	buf[r > 0 ? r : 0] = '\0';
	return buf;
}

/* Drop whatever is waiting. */
static void drain(void)
{
	while (*next())
		;
}

static int code(const char *m)
{
	int c = 0;
	sscanf(m, "SIP/2.0 %d", &c);
	return c;
}

/* Value of header name in m (first one), into buf; "" when absent. */
static char *hdr(const char *m, const char *name, char *buf, size_t size)
{
	char key[64];
	const char *p, *e;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	buf[0] = '\0';
	if (!(p = strstr(m, key)))
		return buf;
	p += strlen(key);
	e = strstr(p, "\r\n");
	snprintf(buf, size, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
	return buf;
}

static const char *body(const char *m)
{
	const char *b = strstr(m, "\r\n\r\n");
	return b ? b + 4 : "";
}

/* Answer a request the peer received (a NOTIFY) with scode. */
static void respond(const char *req, int scode)
{
	char m[4096], via[512], from[512], to[512], cid[256], cseq[64];

	snprintf(m, sizeof(m), "SIP/2.0 %d X\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\n"
		 "Call-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n", scode,
		 hdr(req, "Via", via, sizeof(via)), hdr(req, "From", from, sizeof(from)),
		 hdr(req, "To", to, sizeof(to)), hdr(req, "Call-ID", cid, sizeof(cid)),
		 hdr(req, "CSeq", cseq, sizeof(cseq)));
	deliver(m);
}

struct subreq {
	const char *user, *target, *event, *expires, *accept;
	const char *totag;        /* in-dialog when set */
	const char *callid;
	int cseq;
	const char *authz;
};

static void subscribe(const struct subreq *r)
{
	static unsigned branch;
	char m[4096];

	snprintf(m, sizeof(m),
		 "SUBSCRIBE sip:%s@127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKsub%u;rport\r\n"
		 "From: <sip:%s@127.0.0.1>;tag=s1\r\nTo: <sip:%s@127.0.0.1>%s%s\r\n"
		 "Call-ID: %s\r\nCSeq: %d SUBSCRIBE\r\nMax-Forwards: 70\r\n"
		 "Contact: <sip:%s@127.0.0.1:5999>\r\n%s%s%s%s%s%s%s%s%s"
		 "Content-Length: 0\r\n\r\n",
		 r->target, ++branch, r->user, r->target, r->totag ? ";tag=" : "",
		 r->totag ? r->totag : "", r->callid ? r->callid : "sub-1", r->cseq, r->user,
		 r->event ? "Event: " : "", r->event ? r->event : "", r->event ? "\r\n" : "",
		 r->expires ? "Expires: " : "", r->expires ? r->expires : "",
		 r->expires ? "\r\n" : "", r->accept ? "Accept: " : "",
		 r->accept ? r->accept : "", r->accept ? "\r\n" : "");
	if (r->authz) {   /* before Content-Length */
		char *cl = strstr(m, "Content-Length: 0");
		char tail[64];
		snprintf(tail, sizeof(tail), "%s", cl);
		snprintf(cl, sizeof(m) - (size_t)(cl - m), "%s%s", r->authz, tail);
	}
	deliver(m);
}

/* SUBSCRIBE, answer the 401, return the final answer (copied to out). */
static int subscribe_auth(struct subreq *r, const char *pass, char *out, size_t size)
{
	char r401[8192], authz[1024], ruri[128], *m;
	const char *h;

	r->authz = NULL;
	subscribe(r);
	snprintf(r401, sizeof(r401), "%s", next());
	assert_int_equal(code(r401), 401);
	h = strstr(r401, "WWW-Authenticate: ");
	assert_non_null(h);
	h += strlen("WWW-Authenticate: ");
	struct pl val = { h, (size_t)(strstr(h, "\r\n") - h) };
	snprintf(ruri, sizeof(ruri), "sip:%s@127.0.0.1", r->target);
	assert_int_equal(auth_client_response(authz, sizeof(authz), "Authorization", &val,
					      r->user, pass, "SUBSCRIBE", ruri, 1, "c0ffee"), 0);
	r->authz = authz;
	r->cseq++;
	subscribe(r);
	r->cseq++;
	r->authz = NULL;
	m = next();
	snprintf(out, size, "%s", m);
	return code(out);
}

/* Subscribe 100-tfg to target; the 200 and first NOTIFY (answered 200)
 * are checked; totag gets our tag. */
static void subscribe_ok(struct subreq *r, char *totag, size_t tsize, char *notify,
			 size_t nsize)
{
	char ok[8192], to[512];

	assert_int_equal(subscribe_auth(r, "tf2020", ok, sizeof(ok)), 200);
	hdr(ok, "To", to, sizeof(to));
	assert_non_null(strstr(to, ";tag="));
	snprintf(totag, tsize, "%s", strstr(to, ";tag=") + 5);
	snprintf(notify, nsize, "%s", next());
	assert_true(!strncmp(notify, "NOTIFY sip:100-tfg@127.0.0.1:5999 SIP/2.0", 41));
	respond(notify, 200);
}

/* ------------------------------------------------------------- bodies */

static void t_dialog_info(void **state)
{
	char b[1024];

	(void)state;
	assert_true(presence_dialog_info(b, sizeof(b), 3, "sip:101@pbx", "101", "early") > 0);
	assert_string_equal(b,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"3\" "
		"state=\"full\" entity=\"sip:101@pbx\">\n"
		"<dialog id=\"101\" direction=\"recipient\"><state>early</state></dialog>\n"
		"</dialog-info>\n");
	assert_true(presence_dialog_info(b, sizeof(b), 0, "sip:a&b@<x>", "\"1\"",
					 "terminated") > 0);
	assert_non_null(strstr(b, "entity=\"sip:a&amp;b@&lt;x&gt;\""));
	assert_non_null(strstr(b, "<dialog id=\"&quot;1&quot;\"><state>terminated</state>"));
	assert_int_equal(presence_dialog_info(b, 40, 0, "sip:101@pbx", "101", "early"), -1);

	/* chan_sip's notifyringing: no (0), yes (1), notinuse (2) */
	assert_string_equal(presence_dialog_state(PRESENCE_DEV_IDLE, 1), "terminated");
	assert_string_equal(presence_dialog_state(PRESENCE_DEV_UNAVAILABLE, 1), "terminated");
	assert_string_equal(presence_dialog_state(PRESENCE_DEV_RINGING, 1), "early");
	assert_string_equal(presence_dialog_state(PRESENCE_DEV_RINGING, 0), "terminated");
	assert_string_equal(presence_dialog_state(PRESENCE_DEV_INUSE, 1), "confirmed");
	assert_string_equal(presence_dialog_state(PRESENCE_DEV_RINGINUSE, 1), "early");
	assert_string_equal(presence_dialog_state(PRESENCE_DEV_RINGINUSE, 2), "confirmed");
	assert_string_equal(presence_dialog_state(PRESENCE_DEV_RINGINUSE, 0), "confirmed");
}

static void t_mwi_body(void **state)
{
	struct mwi_counts c = { 3, 2, 1 };
	char b[512];

	(void)state;
	assert_true(mwi_body(b, sizeof(b), &c, "sip:asterisk@pbx", false) > 0);
	assert_string_equal(b, "Messages-Waiting: yes\r\nMessage-Account: sip:asterisk@pbx\r\n"
			       "Voice-Message: 3/2 (1/0)\r\n");
	c.newmsgs = c.urgent = 0;
	assert_true(mwi_body(b, sizeof(b), &c, NULL, true) > 0);
	assert_string_equal(b, "Messages-Waiting: no\r\nVoice-Message: 0/2\r\n");
	assert_int_equal(mwi_body(b, 20, &c, NULL, false), -1);

	assert_true(mwi_list_has("tfg@default", "tfg@default"));
	assert_true(mwi_list_has("tfg", "TFG@default"));
	assert_true(mwi_list_has("a@x & tfg", "tfg"));
	assert_true(mwi_list_has("a@x,b@y", "b@y"));
	assert_false(mwi_list_has("a@x,b@y", "b@x"));
	assert_false(mwi_list_has("tfg@sales", "tfg"));
	assert_false(mwi_list_has("", "tfg"));
	assert_false(mwi_list_has(NULL, NULL));
	assert_true(mwi_list_has("x", NULL));
}

static void spool_msg(const char *ctx, const char *box, const char *folder, int n)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "mkdir -p %s/voicemail/%s/%s/%s", datadir, ctx, box, folder);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/voicemail/%s/%s/%s/msg%04d.txt", datadir, ctx, box, folder, n);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(";\n[message]\norigmailbox=tfg\n", f);
	fclose(f);
}

static void spool_rm(const char *ctx, const char *box, const char *folder, int n)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/voicemail/%s/%s/%s/msg%04d.txt", datadir, ctx, box, folder, n);
	assert_int_equal(unlink(p), 0);
}

static void t_mwi_counts(void **state)
{
	struct mwi_counts c;

	(void)state;
	assert_int_equal(mwi_counts_get("tfg@default", &c), 0);
	assert_int_equal(c.newmsgs + c.oldmsgs + c.urgent, 0);
	spool_msg("default", "tfg", "INBOX", 0);
	spool_msg("default", "tfg", "INBOX", 1);
	spool_msg("default", "tfg", "Old", 0);
	spool_msg("default", "tfg", "Urgent", 0);
	spool_msg("sales", "other", "INBOX", 0);
	assert_int_equal(mwi_counts_get("tfg@default", &c), 0);
	assert_int_equal(c.newmsgs, 3);   /* INBOX + Urgent, as Asterisk counts */
	assert_int_equal(c.oldmsgs, 1);
	assert_int_equal(c.urgent, 1);
	assert_int_equal(mwi_counts_get("tfg&other@sales", &c), 0);
	assert_int_equal(c.newmsgs, 4);
	assert_int_equal(mwi_counts_get("../x@..", &c), 0);   /* refused paths count 0 */
}

static void t_hint_states(void **state)
{
	(void)state;
	assert_true(presence_hint_has("SIP/101-tfg&SIP/102-tfg", "102-tfg"));
	assert_true(presence_hint_has("sip/101-tfg", "101-tfg"));
	assert_false(presence_hint_has("SIP/101-tfg&Custom:x", "x"));
	assert_false(presence_hint_has("SIP/1010", "101"));
	/* not registered (host=dynamic): unavailable; unknown devices too */
	assert_int_equal(presence_device_state("101-tfg"), PRESENCE_DEV_UNAVAILABLE);
	assert_int_equal(presence_device_state("nobody"), PRESENCE_DEV_UNAVAILABLE);
	assert_int_equal(presence_hint_state("SIP/101-tfg&SIP/102-tfg"),
			 PRESENCE_DEV_UNAVAILABLE);
	assert_int_equal(presence_hint_state("Custom:door"), PRESENCE_DEV_IDLE);
	char buf[64];
	assert_string_equal(presence_hint_get("hints-tfg", "102", buf, sizeof(buf)),
			    "SIP/102-tfg");   /* a pattern hint, ${EXTEN} expanded */
	assert_string_equal(presence_hint_get("hints-tfg", "101", buf, sizeof(buf)),
			    "SIP/101-tfg");   /* the exact one before the pattern */
	assert_null(presence_hint_get("hints-tfg", "102", buf, 8));
	assert_null(presence_hint_get("hints-tfg", "999", buf, sizeof(buf)));
	assert_null(presence_hint_get("nowhere", "101", buf, sizeof(buf)));
	set_usage("101-tfg", 1, 0);
	assert_int_equal(presence_device_state("101-tfg"), PRESENCE_DEV_RINGING);
	assert_int_equal(presence_hint_state("SIP/101-tfg&SIP/102-tfg"), PRESENCE_DEV_RINGING);
	set_usage("102-tfg", 0, 1);
	assert_int_equal(presence_hint_state("SIP/101-tfg&SIP/102-tfg"),
			 PRESENCE_DEV_RINGINUSE);
	set_usage("101-tfg", 0, 0);
	assert_int_equal(presence_hint_state("SIP/101-tfg & SIP/102-tfg"), PRESENCE_DEV_INUSE);
	assert_int_equal(presence_device_state("102-tfg"), PRESENCE_DEV_INUSE);
	loop_test_advance(0);   /* nobody subscribed: nothing to send */
	assert_string_equal(next(), "");
}

/* ------------------------------------------------------- subscriptions */

static void t_auth_required(void **state)
{
	struct subreq r = { .user = "100-tfg", .target = "101", .event = "dialog",
			    .expires = "600", .cseq = 1 };
	char out[8192];

	(void)state;
	subscribe(&r);
	char *m = next();
	assert_int_equal(code(m), 401);
	assert_non_null(strstr(m, "WWW-Authenticate: Digest realm=\"tandem\""));
	assert_int_equal(presence_count(), 0);
	assert_string_equal(next(), "");     /* and no NOTIFY */

	/* a wrong password and an unknown user: the same 401 again */
	r.cseq = 2;
	assert_int_equal(subscribe_auth(&r, "wrong", out, sizeof(out)), 401);
	r.user = "intruder";
	assert_int_equal(subscribe_auth(&r, "tf2020", out, sizeof(out)), 401);
	assert_int_equal(presence_count(), 0);
	assert_string_equal(next(), "");

	/* allowsubscribe=no: 403 once authenticated */
	r.user = "closed";
	assert_int_equal(subscribe_auth(&r, "tf2020", out, sizeof(out)), 403);
	assert_int_equal(presence_count(), 0);
}

static void t_refusals(void **state)
{
	struct subreq r = { .user = "100-tfg", .target = "101", .event = "dialog",
			    .expires = "600", .cseq = 1 };
	char out[8192];

	(void)state;
	r.event = "presence";
	subscribe(&r);
	char *m = next();
	assert_int_equal(code(m), 489);
	assert_non_null(strstr(m, "Allow-Events: dialog, message-summary"));
	r.event = NULL;
	subscribe(&r);
	assert_int_equal(code(next()), 400);
	r.event = "dialog";
	r.expires = "10";
	assert_int_equal(subscribe_auth(&r, "tf2020", out, sizeof(out)), 423);
	assert_non_null(strstr(out, "Min-Expires: 60"));
	r.expires = "600";
	r.target = "999";     /* no hint */
	assert_int_equal(subscribe_auth(&r, "tf2020", out, sizeof(out)), 404);
	r.target = "101";
	r.accept = "application/pidf+xml";
	assert_int_equal(subscribe_auth(&r, "tf2020", out, sizeof(out)), 406);
	r.accept = NULL;
	r.totag = "nosuchtag";
	assert_int_equal(subscribe_auth(&r, "tf2020", out, sizeof(out)), 481);
	/* message-summary without mailbox= */
	r.totag = NULL;
	r.user = "101-tfg";
	r.event = "message-summary";
	assert_int_equal(subscribe_auth(&r, "tf2020", out, sizeof(out)), 404);
	assert_int_equal(presence_count(), 0);
	assert_string_equal(next(), "");
}

static void t_dialog_flow(void **state)
{
	struct subreq r = { .user = "100-tfg", .target = "101", .event = "dialog;id=7",
			    .expires = "600", .accept = "application/dialog-info+xml",
			    .callid = "blf-1", .cseq = 1 };
	char totag[64], n[8192], v[256];

	(void)state;
	subscribe_ok(&r, totag, sizeof(totag), n, sizeof(n));
	assert_string_equal(hdr(n, "Event", v, sizeof(v)), "dialog;id=7");
	assert_string_equal(hdr(n, "Subscription-State", v, sizeof(v)), "active;expires=600");
	assert_string_equal(hdr(n, "Content-Type", v, sizeof(v)), "application/dialog-info+xml");
	assert_string_equal(hdr(n, "Call-ID", v, sizeof(v)), "blf-1");
	assert_non_null(strstr(body(n), "version=\"0\""));
	assert_non_null(strstr(body(n), "entity=\"sip:101@127.0.0.1\""));
	assert_non_null(strstr(body(n), "<dialog id=\"101\"><state>terminated</state>"));
	assert_int_equal(presence_count(), 1);

	/* rings: early, version 1 */
	set_usage("101-tfg", 1, 0);
	assert_string_equal(next(), "");     /* not before the next loop turn */
	loop_test_advance(0);
	snprintf(n, sizeof(n), "%s", next());
	assert_non_null(strstr(body(n), "version=\"1\""));
	assert_non_null(strstr(body(n), "direction=\"recipient\"><state>early</state>"));
	/* answered while that NOTIFY is unanswered: held back, then sent */
	set_usage("101-tfg", 0, 1);
	loop_test_advance(0);
	assert_string_equal(next(), "");
	respond(n, 200);
	snprintf(n, sizeof(n), "%s", next());
	assert_non_null(strstr(body(n), "version=\"2\""));
	assert_non_null(strstr(body(n), "<state>confirmed</state>"));
	respond(n, 200);
	/* a change elsewhere is no news */
	set_usage("102-tfg", 1, 0);
	loop_test_advance(0);
	assert_string_equal(next(), "");
	/* hangs up */
	set_usage("101-tfg", 0, 0);
	loop_test_advance(0);
	snprintf(n, sizeof(n), "%s", next());
	assert_non_null(strstr(body(n), "version=\"3\""));
	assert_non_null(strstr(body(n), "<state>terminated</state>"));
	respond(n, 200);

	/* refresh in the dialog: 200 with the new expiry, full state again */
	char ok[8192];
	r.totag = totag;
	r.expires = "120";
	assert_int_equal(subscribe_auth(&r, "tf2020", ok, sizeof(ok)), 200);
	assert_string_equal(hdr(ok, "Expires", v, sizeof(v)), "120");
	snprintf(n, sizeof(n), "%s", next());
	assert_string_equal(hdr(n, "Subscription-State", v, sizeof(v)), "active;expires=120");
	assert_non_null(strstr(body(n), "version=\"4\""));
	respond(n, 200);
	/* another peer may not refresh it */
	struct subreq o = r;
	o.user = "102-tfg";
	assert_int_equal(subscribe_auth(&o, "tf2020", ok, sizeof(ok)), 403);

	/* unsubscribe: 200 Expires: 0, then the final NOTIFY */
	r.expires = "0";
	assert_int_equal(subscribe_auth(&r, "tf2020", ok, sizeof(ok)), 200);
	assert_string_equal(hdr(ok, "Expires", v, sizeof(v)), "0");
	snprintf(n, sizeof(n), "%s", next());
	assert_string_equal(hdr(n, "Subscription-State", v, sizeof(v)),
			    "terminated;reason=timeout");
	respond(n, 200);
	assert_int_equal(presence_count(), 0);
	assert_int_equal(sip_dialog_count(), 0);
	/* the dialog is gone: 481 */
	r.expires = "600";
	assert_int_equal(subscribe_auth(&r, "tf2020", ok, sizeof(ok)), 481);
}

static void t_expiry(void **state)
{
	struct subreq r = { .user = "100-tfg", .target = "200", .event = "dialog",
			    .expires = "90000", .cseq = 1 };
	char totag[64], n[8192], v[256];

	(void)state;
	/* capped at submaxexpiry (3600) */
	subscribe_ok(&r, totag, sizeof(totag), n, sizeof(n));
	assert_string_equal(hdr(n, "Subscription-State", v, sizeof(v)), "active;expires=3600");
	/* the two-device hint: 102-tfg rings */
	set_usage("102-tfg", 1, 0);
	loop_test_advance(0);
	snprintf(n, sizeof(n), "%s", next());
	assert_non_null(strstr(body(n), "<state>early</state>"));
	assert_non_null(strstr(body(n), "entity=\"sip:200@127.0.0.1\""));
	respond(n, 200);
	loop_test_advance(3599 * 1000);
	drain();
	assert_int_equal(presence_count(), 1);
	loop_test_advance(1000);
	snprintf(n, sizeof(n), "%s", next());
	assert_string_equal(hdr(n, "Subscription-State", v, sizeof(v)),
			    "terminated;reason=timeout");
	assert_int_equal(presence_count(), 0);
	respond(n, 200);
	/* a fetch (Expires: 0): 200, one final NOTIFY with the state */
	r.callid = "fetch";
	r.expires = "0";
	r.cseq = 1;
	subscribe_ok(&r, totag, sizeof(totag), n, sizeof(n));
	assert_string_equal(hdr(n, "Subscription-State", v, sizeof(v)),
			    "terminated;reason=timeout");
	assert_non_null(strstr(body(n), "<state>early</state>"));
	assert_int_equal(presence_count(), 0);
}

static void t_notify_failures(void **state)
{
	struct subreq r = { .user = "100-tfg", .target = "101", .event = "dialog",
			    .expires = "600", .cseq = 1, .callid = "a" };
	char totag[64], n[8192];

	(void)state;
	subscribe_ok(&r, totag, sizeof(totag), n, sizeof(n));
	set_usage("101-tfg", 1, 0);
	loop_test_advance(0);
	snprintf(n, sizeof(n), "%s", next());
	respond(n, 481);      /* the phone forgot it: gone, no NOTIFY */
	assert_int_equal(presence_count(), 0);
	set_usage("101-tfg", 0, 0);
	loop_test_advance(0);
	assert_string_equal(next(), "");

	/* a NOTIFY nobody answers: retransmitted, then Timer F ends it */
	r.callid = "b";
	r.cseq = 1;
	subscribe_ok(&r, totag, sizeof(totag), n, sizeof(n));
	set_usage("101-tfg", 1, 0);
	loop_test_advance(0);
	assert_true(!strncmp(next(), "NOTIFY ", 7));
	loop_test_advance(600);
	assert_true(!strncmp(next(), "NOTIFY ", 7));   /* Timer E */
	loop_test_advance(64 * sip_t1);
	drain();
	assert_int_equal(presence_count(), 0);

	/* 500 fails only the transaction: the subscription stays */
	r.callid = "c";
	r.cseq = 1;
	subscribe_ok(&r, totag, sizeof(totag), n, sizeof(n));
	set_usage("101-tfg", 0, 1);
	loop_test_advance(0);
	snprintf(n, sizeof(n), "%s", next());
	respond(n, 500);
	assert_int_equal(presence_count(), 1);
	/* a hint removed by a reload: noresource */
	struct conf *c = NULL;
	struct dialplan *dp = NULL;
	char err[128];
	static const char none[] = "[hints-tfg]\nexten => 200,hint,SIP/102-tfg\n";
	assert_int_equal(conf_parse_buf(&c, NULL, "extensions.conf", none, strlen(none), err,
					sizeof(err)), 0);
	assert_int_equal(dialplan_build(&dp, c, err, sizeof(err)), 0);
	conf_free(c);
	pbx_set_dialplan(dp);
	presence_device_changed(NULL);
	loop_test_advance(0);
	char v[128];
	snprintf(n, sizeof(n), "%s", next());
	assert_string_equal(hdr(n, "Subscription-State", v, sizeof(v)),
			    "terminated;reason=noresource");
	assert_int_equal(presence_count(), 0);
}

static void t_mwi_subscription(void **state)
{
	struct subreq r = { .user = "100-tfg", .target = "100-tfg",
			    .event = "message-summary", .expires = "600",
			    .accept = "application/simple-message-summary", .cseq = 1 };
	char totag[64], n[8192], v[256];

	(void)state;
	subscribe_ok(&r, totag, sizeof(totag), n, sizeof(n));
	assert_string_equal(hdr(n, "Event", v, sizeof(v)), "message-summary");
	assert_string_equal(hdr(n, "Content-Type", v, sizeof(v)),
			    "application/simple-message-summary");
	assert_non_null(strstr(body(n), "Messages-Waiting: no\r\n"));
	assert_non_null(strstr(body(n), "Message-Account: sip:asterisk@127.0.0.1\r\n"));
	assert_non_null(strstr(body(n), "Voice-Message: 0/0 (0/0)\r\n"));
	assert_true(presence_mwi_subscribed("100-tfg"));

	spool_msg("default", "tfg", "INBOX", 0);
	mwi_mailbox_changed("tfg@default");
	snprintf(n, sizeof(n), "%s", next());
	assert_non_null(strstr(body(n), "Messages-Waiting: yes\r\n"));
	assert_non_null(strstr(body(n), "Voice-Message: 1/0 (0/0)\r\n"));
	respond(n, 200);
	mwi_mailbox_changed("other@sales");   /* not its mailbox */
	mwi_mailbox_changed("tfg@default");   /* nothing changed */
	assert_string_equal(next(), "");
	spool_rm("default", "tfg", "INBOX", 0);
	mwi_poll();
	snprintf(n, sizeof(n), "%s", next());
	assert_non_null(strstr(body(n), "Messages-Waiting: no\r\n"));
	respond(n, 200);
}

static void register_phone(const char *peer)
{
	char m[2048];

	snprintf(m, sizeof(m),
		 "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKreg%s;rport\r\n"
		 "From: <sip:%s@127.0.0.1>;tag=r1\r\nTo: <sip:%s@127.0.0.1>\r\n"
		 "Call-ID: reg-%s\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
		 "Contact: <sip:%s@127.0.0.1:5999>\r\nExpires: 600\r\n"
		 "Content-Length: 0\r\n\r\n", peer, peer, peer, peer, peer);
	deliver(m);
	assert_int_equal(code(next()), 200);
	assert_non_null(registrar_find(peer));
}

static void t_mwi_unsolicited(void **state)
{
	char n[8192], v[256], cid[256];

	(void)state;
	/* not registered: nothing to send */
	spool_msg("sales", "other", "INBOX", 0);
	mwi_mailbox_changed("other@sales");
	assert_string_equal(next(), "");
	register_phone("phone");
	register_phone("quiet");
	mwi_peer_registered("phone");     /* the registrar's hook */
	mwi_peer_registered("quiet");     /* subscribemwi=yes: never unsolicited */
	loop_test_advance(0);
	assert_string_equal(next(), "");  /* not in this turn: after the 200 */
	loop_test_advance(50);
	snprintf(n, sizeof(n), "%s", next());
	assert_true(!strncmp(n, "NOTIFY sip:phone@127.0.0.1:5999 SIP/2.0", 39));
	assert_string_equal(hdr(n, "Event", v, sizeof(v)), "message-summary");
	assert_string_equal(hdr(n, "Subscription-State", v, sizeof(v)), "");   /* chan_sip */
	assert_string_equal(hdr(n, "To", v, sizeof(v)), "<sip:phone@127.0.0.1:5999>");
	assert_non_null(strstr(body(n), "Messages-Waiting: yes\r\n"));
	assert_non_null(strstr(body(n), "Voice-Message: 1/0 (0/0)\r\n"));
	hdr(n, "Call-ID", cid, sizeof(cid));
	assert_string_equal(hdr(n, "CSeq", v, sizeof(v)), "1 NOTIFY");
	respond(n, 200);
	assert_string_equal(next(), "");

	/* unchanged: nothing; changed: the same Call-ID, next CSeq */
	mwi_mailbox_changed("tfg@default");
	assert_string_equal(next(), "");
	spool_msg("default", "tfg", "Old", 0);
	mwi_mailbox_changed("tfg@default");
	snprintf(n, sizeof(n), "%s", next());
	assert_non_null(strstr(body(n), "Voice-Message: 1/1 (0/0)\r\n"));
	assert_string_equal(hdr(n, "Call-ID", v, sizeof(v)), cid);
	assert_string_equal(hdr(n, "CSeq", v, sizeof(v)), "2 NOTIFY");
	respond(n, 200);
	spool_rm("sales", "other", "INBOX", 0);
	mwi_poll();
	snprintf(n, sizeof(n), "%s", next());
	assert_non_null(strstr(body(n), "Messages-Waiting: no\r\n"));
	respond(n, 200);
	assert_string_equal(next(), "");
	/* registering again sends the state even though it did not change */
	mwi_peer_registered("phone");
	loop_test_advance(50);
	snprintf(n, sizeof(n), "%s", next());
	assert_non_null(strstr(body(n), "Messages-Waiting: no\r\n"));
	respond(n, 200);
}

static void t_notify_in(void **state)
{
	char m[1024];

	(void)state;
	snprintf(m, sizeof(m),
		 "NOTIFY sip:tandem@127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKn1;rport\r\n"
		 "From: <sip:x@127.0.0.1>;tag=n1\r\nTo: <sip:tandem@127.0.0.1>\r\n"
		 "Call-ID: n-1\r\nCSeq: 1 NOTIFY\r\nMax-Forwards: 70\r\n"
		 "Event: keep-alive\r\nContent-Length: 0\r\n\r\n");
	deliver(m);
	assert_int_equal(code(next()), 200);
	deliver("NOTIFY sip:tandem@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKn2;rport\r\n"
		"From: <sip:x@127.0.0.1>;tag=n1\r\nTo: <sip:tandem@127.0.0.1>\r\n"
		"Call-ID: n-2\r\nCSeq: 1 NOTIFY\r\nMax-Forwards: 70\r\n"
		"Event: presence\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(code(next()), 489);
	deliver("NOTIFY sip:tandem@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKn3;rport\r\n"
		"From: <sip:x@127.0.0.1>;tag=n1\r\nTo: <sip:tandem@127.0.0.1>;tag=zz\r\n"
		"Call-ID: n-3\r\nCSeq: 1 NOTIFY\r\nMax-Forwards: 70\r\n"
		"Event: dialog\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(code(next()), 481);
	deliver("PUBLISH sip:tandem@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKn4;rport\r\n"
		"From: <sip:x@127.0.0.1>;tag=n1\r\nTo: <sip:tandem@127.0.0.1>\r\n"
		"Call-ID: n-4\r\nCSeq: 1 PUBLISH\r\nMax-Forwards: 70\r\n"
		"Event: presence\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(code(next()), 405);
}

static void t_close_ends_all(void **state)
{
	struct subreq r = { .user = "100-tfg", .target = "101", .event = "dialog",
			    .expires = "600", .cseq = 1 };
	char totag[64], n[8192], v[256];

	(void)state;
	subscribe_ok(&r, totag, sizeof(totag), n, sizeof(n));
	presence_close();
	snprintf(n, sizeof(n), "%s", next());
	assert_string_equal(hdr(n, "Subscription-State", v, sizeof(v)),
			    "terminated;reason=deactivated");
	assert_int_equal(presence_count(), 0);
	presence_device_changed("101-tfg");   /* harmless once closed */
	assert_int_equal(presence_init(), 0);  /* teardown closes it again */
}

int test_presence_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_dialog_info),
		cmocka_unit_test(t_mwi_body),
		cmocka_unit_test_setup_teardown(t_mwi_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hint_states, setup, teardown),
		cmocka_unit_test_setup_teardown(t_auth_required, setup, teardown),
		cmocka_unit_test_setup_teardown(t_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(t_dialog_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(t_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(t_notify_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(t_mwi_subscription, setup, teardown),
		cmocka_unit_test_setup_teardown(t_mwi_unsolicited, setup, teardown),
		cmocka_unit_test_setup_teardown(t_notify_in, setup, teardown),
		cmocka_unit_test_setup_teardown(t_close_ends_all, setup, teardown),
	};
	return cmocka_run_group_tests_name("presence", tests, NULL, NULL);
}
