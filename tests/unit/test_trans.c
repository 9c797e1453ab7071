/**
 * @file test_trans.c  Server and client transactions (RFC 3261 17) over a
 * real loopback UDP socket pair, with the loop's clock driven by the test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/mem.h"
#include "sip/dialog.h"
#include "sip/sip.h"
#include "sipnet.h"
#include "suites.h"

static struct sipnet net;   /* "server" and "peer" sockets */
static int tu_calls, ack_calls;
static struct sip_strans *last_st;
static uint16_t tu_reply;                /* 0: TU does not answer */

static void tu_request(struct sip_strans *st, const struct sip_msg *msg,
		       const struct sip_src *src)
{
	(void)msg;
	(void)src;
	tu_calls++;
	last_st = st;
	if (tu_reply)
		sip_strans_reply(st, tu_reply, NULL, NULL, NULL, NULL, 0);
}

static void tu_ack(const struct sip_msg *msg, const struct sip_src *src)
{
	(void)msg;
	(void)src;
	ack_calls++;
}

static int setup(void **state)
{
	struct sip_stack_handlers h = { tu_request, tu_ack };

	(void)state;
	assert_int_equal(loop_init(), 0);
	assert_int_equal(sip_transp_init(sip_stack_recv, NULL), 0);
	assert_int_equal(sip_stack_init(&h), 0);
	sipnet_open(&net);
	tu_calls = ack_calls = 0;
	tu_reply = 0;
	last_st = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_stack_close();
	sip_transp_close();
	loop_close();
	sipnet_close(&net);
	assert_int_equal(sip_strans_count(), 0);
	assert_int_equal(sip_ctrans_count(), 0);
	return 0;
}

/* Deliver text as if it arrived at the server from the peer. */
static void deliver(const char *text)
{
	sipnet_deliver(&net, text);
}

/* Read everything the server sent to the peer; returns the count and
 * copies the last message into out. */
static int drain(char *out, size_t size)
{
	char buf[4096];
	int n = 0;
	ssize_t r;

	while ((r = recv(net.pfd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[r] = '\0';
		if (out)
			snprintf(out, size, "%s", buf);
		n++;
	}
	return n;
}

static int status_of(const char *msg)
{
	int code = 0;
	sscanf(msg, "SIP/2.0 %d", &code);
	return code;
}

#define REQ(met, branch, cseq) \
	met " sip:100@127.0.0.1 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=" branch ";rport\r\n" \
	"From: <sip:200@127.0.0.1>;tag=abc\r\nTo: <sip:100@127.0.0.1>\r\n" \
	"Call-ID: call-" branch "\r\nCSeq: " cseq "\r\nMax-Forwards: 70\r\n" \
	"Content-Length: 0\r\n\r\n"

static void t_nonInvite_server(void **state)
{
	char out[4096];

	(void)state;
	tu_reply = 200;
	deliver(REQ("OPTIONS", "z9hG4bK-n1", "1 OPTIONS"));
	assert_int_equal(tu_calls, 1);
	assert_int_equal(drain(out, sizeof(out)), 1);
	assert_int_equal(status_of(out), 200);
	assert_non_null(strstr(out, "received=127.0.0.1;rport="));
	/* retransmission: answered from the transaction, TU not called */
	deliver(REQ("OPTIONS", "z9hG4bK-n1", "1 OPTIONS"));
	assert_int_equal(tu_calls, 1);
	assert_int_equal(drain(out, sizeof(out)), 1);
	assert_int_equal(status_of(out), 200);
	assert_int_equal(sip_strans_count(), 1);
	loop_test_advance(64 * sip_t1 + 1);    /* timer J */
	assert_int_equal(sip_strans_count(), 0);
	/* after J a retransmission is a new request */
	deliver(REQ("OPTIONS", "z9hG4bK-n1", "1 OPTIONS"));
	assert_int_equal(tu_calls, 2);
	drain(NULL, 0);
	loop_test_advance(64 * sip_t1 + 1);
}

static void t_invite_server_error(void **state)
{
	char out[4096];
	int sent = 0;

	(void)state;
	tu_reply = 486;
	deliver(REQ("INVITE", "z9hG4bK-i1", "1 INVITE"));
	assert_int_equal(drain(out, sizeof(out)), 2);   /* 100 then 486 */
	assert_int_equal(status_of(out), 486);
	assert_non_null(strstr(out, ";tag="));
	assert_int_equal(sip_strans_state(last_st), STRANS_COMPLETED);
	/* timer G: 500, 1000, 2000, 4000 ms */
	loop_test_advance(500);
	sent += drain(NULL, 0);
	loop_test_advance(1000);
	sent += drain(NULL, 0);
	loop_test_advance(2000);
	sent += drain(NULL, 0);
	assert_int_equal(sent, 3);
	/* the ACK (same branch for a non-2xx) confirms; TU does not see it */
	deliver("ACK sip:100@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-i1;rport\r\n"
		"From: <sip:200@127.0.0.1>;tag=abc\r\nTo: <sip:100@127.0.0.1>;tag=x\r\n"
		"Call-ID: call-z9hG4bK-i1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\n"
		"Content-Length: 0\r\n\r\n");
	assert_int_equal(ack_calls, 0);
	assert_int_equal(sip_strans_state(last_st), STRANS_CONFIRMED);
	loop_test_advance(8000);
	assert_int_equal(drain(NULL, 0), 0);   /* no more retransmissions */
	assert_int_equal(sip_strans_count(), 0);   /* timer I */
}

static int ended;
static void end_h(struct sip_strans *st, int err, void *arg)
{
	(void)st;
	(void)arg;
	ended = err;
}

static void t_invite_server_noack(void **state)
{
	(void)state;
	tu_reply = 0;
	ended = 0;
	deliver(REQ("INVITE", "z9hG4bK-i2", "1 INVITE"));
	assert_int_equal(drain(NULL, 0), 1);    /* 100 Trying at once */
	/* retransmitted INVITE gets the 100 again */
	deliver(REQ("INVITE", "z9hG4bK-i2", "1 INVITE"));
	assert_int_equal(drain(NULL, 0), 1);
	assert_int_equal(tu_calls, 1);
	sip_strans_set_end_handler(last_st, end_h, NULL);
	sip_strans_reply(last_st, 404, NULL, NULL, NULL, NULL, 0);
	loop_test_advance(64 * sip_t1 + 1);    /* timer H */
	assert_int_equal(ended, ETIMEDOUT);
	assert_int_equal(sip_strans_count(), 0);
	drain(NULL, 0);
}

static void t_invite_server_2xx(void **state)
{
	(void)state;
	tu_reply = 200;
	deliver(REQ("INVITE", "z9hG4bK-i3", "1 INVITE"));
	drain(NULL, 0);
	assert_int_equal(sip_strans_state(last_st), STRANS_ACCEPTED);
	/* retransmitted INVITE absorbed in Accepted (RFC 6026) */
	deliver(REQ("INVITE", "z9hG4bK-i3", "1 INVITE"));
	assert_int_equal(tu_calls, 1);
	/* ACK for a 2xx has its own branch and goes to the TU */
	deliver("ACK sip:100@127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-ack3\r\n"
		"From: <sip:200@127.0.0.1>;tag=abc\r\nTo: <sip:100@127.0.0.1>;tag=x\r\n"
		"Call-ID: call-z9hG4bK-i3\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(ack_calls, 1);
	loop_test_advance(64 * sip_t1 + 1);    /* timer L */
	assert_int_equal(sip_strans_count(), 0);
	drain(NULL, 0);
}

static void t_hold_release(void **state)
{
	char out[4096];

	(void)state;
	tu_reply = 0;
	deliver(REQ("REGISTER", "z9hG4bK-r1", "1 REGISTER"));
	assert_non_null(last_st);
	assert_int_equal(sip_strans_hold(last_st, 200, NULL, "Expires: 60\r\n"), 0);
	assert_int_equal(drain(NULL, 0), 0);        /* nothing before commit */
	sip_strans_release(last_st, true);
	assert_int_equal(drain(out, sizeof(out)), 1);
	assert_int_equal(status_of(out), 200);
	assert_non_null(strstr(out, "Expires: 60\r\n"));
	deliver(REQ("REGISTER", "z9hG4bK-r2", "2 REGISTER"));
	sip_strans_hold(last_st, 200, NULL, NULL);
	sip_strans_release(last_st, false);          /* commit failed */
	assert_int_equal(drain(out, sizeof(out)), 1);
	assert_int_equal(status_of(out), 500);
	loop_test_advance(64 * sip_t1 + 1);
}

static void t_bad_request(void **state)
{
	char out[4096];

	(void)state;
	deliver("REGISTER sip:127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-b1\r\n"
		"From: <sip:200@127.0.0.1>;tag=abc\r\nTo: <sip:100@127.0.0.1>\r\n"
		"Call-ID: bad-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(tu_calls, 0);
	assert_int_equal(drain(out, sizeof(out)), 1);
	assert_int_equal(status_of(out), 400);
	/* garbage is dropped without an answer */
	deliver("\x01\x02garbage\r\n\r\n");
	assert_int_equal(drain(NULL, 0), 0);
	assert_int_equal(sip_strans_count(), 0);
}

/* ------------------------------------------------------------ clients */

static int resp_codes[8], nresp, resp_err;

static void resp_h(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (err)
		resp_err = err;
	else if (nresp < 8)
		resp_codes[nresp++] = msg->scode;
}

static struct sip_src peer_dst(void)
{
	struct sip_src d;

	memset(&d, 0, sizeof(d));
	d.addr = net.paddr;
	d.alen = sizeof(struct sockaddr_in);
	d.tp = SIP_TRANSP_UDP;
	d.fd = net.sfd;
	d.local = net.saddr;
	return d;
}

/* Answer the request the peer last received with status code. */
static void answer(const char *req, int code)
{
	char resp[4096], via[512] = "", from[256] = "", to[256] = "", cid[128] = "",
	     cseq[64] = "";
	const char *p;

	if ((p = strstr(req, "Via: ")))
		sscanf(p, "Via: %511[^\r]", via);
	if ((p = strstr(req, "From: ")))
		sscanf(p, "From: %255[^\r]", from);
	if ((p = strstr(req, "To: ")))
		sscanf(p, "To: %255[^\r]", to);
	if ((p = strstr(req, "Call-ID: ")))
		sscanf(p, "Call-ID: %127[^\r]", cid);
	if ((p = strstr(req, "CSeq: ")))
		sscanf(p, "CSeq: %63[^\r]", cseq);
	snprintf(resp, sizeof(resp), "SIP/2.0 %d X\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=t1\r\n"
		 "Call-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n", code, via, from,
		 to, cid, cseq);
	deliver(resp);
}

static void t_nonInvite_client_timeout(void **state)
{
	struct sip_src d = peer_dst();
	int retx = 0;

	(void)state;
	nresp = resp_err = 0;
	assert_int_equal(sip_ctrans_request(NULL, &d, "OPTIONS", "sip:100@127.0.0.1",
		"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:100@127.0.0.1>\r\n"
		"Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n",
		NULL, NULL, 0, resp_h, NULL), 0);
	assert_int_equal(drain(NULL, 0), 1);
	/* timer E: 500, 1000, 2000, 4000, 4000, ... capped at T2 */
	loop_test_advance(500);  retx += drain(NULL, 0);
	loop_test_advance(1000); retx += drain(NULL, 0);
	loop_test_advance(2000); retx += drain(NULL, 0);
	loop_test_advance(4000); retx += drain(NULL, 0);
	loop_test_advance(4000); retx += drain(NULL, 0);
	assert_int_equal(retx, 5);
	loop_test_advance(64 * sip_t1);   /* timer F */
	drain(NULL, 0);
	assert_int_equal(resp_err, ETIMEDOUT);
	assert_int_equal(sip_ctrans_count(), 0);
}

static void t_invite_client(void **state)
{
	struct sip_src d = peer_dst();
	char req[4096], ack[4096];
	struct sip_ctrans *ct = NULL;

	(void)state;
	nresp = resp_err = 0;
	assert_int_equal(sip_ctrans_request(&ct, &d, "INVITE", "sip:100@127.0.0.1",
		"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:100@127.0.0.1>\r\n"
		"Call-ID: c2\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n",
		NULL, NULL, 0, resp_h, NULL), 0);
	assert_int_equal(drain(req, sizeof(req)), 1);
	assert_int_equal(sip_ctrans_state(ct), CTRANS_CALLING);
	loop_test_advance(500);
	assert_int_equal(drain(NULL, 0), 1);     /* timer A */
	answer(req, 180);
	assert_int_equal(sip_ctrans_state(ct), CTRANS_PROCEEDING);
	loop_test_advance(4000);
	assert_int_equal(drain(NULL, 0), 0);     /* no retransmission after 1xx */
	answer(req, 486);
	assert_int_equal(drain(ack, sizeof(ack)), 1);
	assert_int_equal(strncmp(ack, "ACK sip:100@127.0.0.1 SIP/2.0", 29), 0);
	assert_non_null(strstr(ack, "tag=t1"));
	assert_non_null(strstr(ack, "CSeq: 1 ACK"));
	answer(req, 486);                         /* retransmitted final */
	assert_int_equal(drain(NULL, 0), 1);      /* ACKed again */
	assert_int_equal(nresp, 2);               /* 180 and one 486 */
	assert_int_equal(resp_codes[0], 180);
	assert_int_equal(resp_codes[1], 486);
	loop_test_advance(32001);                 /* timer D */
	assert_int_equal(sip_ctrans_count(), 0);
}

static void t_invite_client_cancel(void **state)
{
	struct sip_src d = peer_dst();
	char req[4096], cancel[4096];
	struct sip_ctrans *ct = NULL;

	(void)state;
	nresp = resp_err = 0;
	sip_ctrans_request(&ct, &d, "INVITE", "sip:100@127.0.0.1",
		"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:100@127.0.0.1>\r\n"
		"Call-ID: c3\r\nCSeq: 7 INVITE\r\nMax-Forwards: 70\r\n",
		NULL, NULL, 0, resp_h, NULL);
	drain(req, sizeof(req));
	assert_int_equal(sip_ctrans_cancel(ct), 0);   /* waits for a 1xx */
	assert_int_equal(drain(NULL, 0), 0);
	answer(req, 180);
	assert_int_equal(drain(cancel, sizeof(cancel)), 1);
	assert_int_equal(strncmp(cancel, "CANCEL sip:100@127.0.0.1 SIP/2.0", 32), 0);
	assert_non_null(strstr(cancel, "CSeq: 7 CANCEL"));
	/* same branch as the INVITE (9.1) */
	const char *b1 = strstr(req, "branch="), *b2 = strstr(cancel, "branch=");
	assert_non_null(b1);
	assert_non_null(b2);
	assert_int_equal(strncmp(b1, b2, 31), 0);
	answer(cancel, 200);
	answer(req, 487);
	assert_int_equal(drain(NULL, 0), 1);      /* ACK for the 487 */
	loop_test_advance(40000);
	assert_int_equal(sip_ctrans_count(), 0);
}

/* ------------------------------------------ taken over from a dead node */

#define DEAD_INV \
	"INVITE sip:300@127.0.0.1 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKdead1;rport\r\n" \
	"From: <sip:100@127.0.0.1>;tag=f9\r\nTo: <sip:300@127.0.0.1>\r\n" \
	"Call-ID: dead-1\r\nCSeq: 4 INVITE\r\nMax-Forwards: 70\r\n" \
	"Content-Length: 0\r\n\r\n"

/* The caller's INVITE answered from a setup snapshot: the response looks
 * like the original transaction's (Via, our To tag), is retransmitted
 * until the ACK, which the restored transaction absorbs. */
static void t_strans_restore(void **state)
{
	struct sip_src d = peer_dst();
	struct sip_strans *st = NULL;
	char resp[4096];
	const char *inv = REQ("INVITE", "z9hG4bKr1", "2 INVITE");

	(void)state;
	assert_int_equal(sip_strans_restore(&st, inv, strlen(inv), &d, "0123456789abcdef"), 0);
	assert_int_equal(drain(NULL, 0), 0);          /* no 100 of its own */
	assert_int_equal(sip_strans_restore(&st, inv, strlen(inv), &d, "x"), EEXIST);
	assert_int_equal(sip_strans_reply(st, 500, "Server Failover", "Retry-After: 5\r\n",
					  NULL, NULL, 0), 0);
	assert_int_equal(drain(resp, sizeof(resp)), 1);
	assert_int_equal(status_of(resp), 500);
	assert_non_null(strstr(resp, "branch=z9hG4bKr1"));
	assert_non_null(strstr(resp, ";tag=0123456789abcdef"));
	assert_non_null(strstr(resp, "Retry-After: 5\r\n"));
	assert_non_null(strstr(resp, "CSeq: 2 INVITE"));
	loop_test_advance(500);
	assert_int_equal(drain(NULL, 0), 1);          /* timer G */
	deliver(REQ("ACK", "z9hG4bKr1", "2 ACK"));
	assert_int_equal(ack_calls, 0);               /* the transaction's */
	loop_test_advance(4000);
	assert_int_equal(drain(NULL, 0), 0);
	assert_int_equal(tu_calls, 0);
	/* not an INVITE, or not SIP: refused */
	const char *opt = REQ("OPTIONS", "z9hG4bKr2", "1 OPTIONS");
	assert_int_equal(sip_strans_restore(&st, opt, strlen(opt), &d, "t"), EBADMSG);
	assert_int_equal(sip_strans_restore(&st, "garbage", 7, &d, "t"), EBADMSG);
	loop_test_advance(10000);
}

/* CANCEL for a dead node's INVITE: the INVITE's Via as it was, the 487
 * ACKed; a 2xx instead gets ACK and BYE, once. */
static void t_ctrans_restore_cancel(void **state)
{
	struct sip_src d = peer_dst();
	char cancel[4096], ack[4096], msg[4096];

	(void)state;
	assert_int_equal(sip_dialog_init(), 0);
	assert_int_equal(sip_ctrans_restore_cancel(&d, DEAD_INV, strlen(DEAD_INV)), 0);
	assert_int_equal(drain(cancel, sizeof(cancel)), 1);
	assert_int_equal(strncmp(cancel, "CANCEL sip:300@127.0.0.1 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKdead1;rport\r\n", 93), 0);
	assert_non_null(strstr(cancel, "CSeq: 4 CANCEL"));
	assert_non_null(strstr(cancel, "Call-ID: dead-1"));
	assert_int_equal(sip_ctrans_restore_cancel(&d, DEAD_INV, strlen(DEAD_INV)), EEXIST);
	answer(cancel, 200);
	answer(DEAD_INV, 487);
	assert_int_equal(drain(ack, sizeof(ack)), 1);
	assert_int_equal(strncmp(ack, "ACK sip:300@127.0.0.1 SIP/2.0", 29), 0);
	assert_non_null(strstr(ack, "branch=z9hG4bKdead1"));
	loop_test_advance(40000);
	assert_int_equal(sip_ctrans_count(), 0);
	/* the callee answered instead: ACK and BYE, and a retransmitted 200
	 * only the ACK again */
	assert_int_equal(sip_ctrans_restore_cancel(&d, DEAD_INV, strlen(DEAD_INV)), 0);
	drain(NULL, 0);
	snprintf(msg, sizeof(msg), "SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKdead1;rport\r\n"
		 "From: <sip:100@127.0.0.1>;tag=f9\r\nTo: <sip:300@127.0.0.1>;tag=t7\r\n"
		 "Call-ID: dead-1\r\nCSeq: 4 INVITE\r\nContact: <sip:300@127.0.0.1:5999>\r\n"
		 "Content-Length: 0\r\n\r\n");
	deliver(msg);
	assert_int_equal(drain(NULL, 0), 2);
	deliver(msg);
	assert_int_equal(drain(ack, sizeof(ack)), 1);
	assert_int_equal(strncmp(ack, "ACK sip:300@127.0.0.1:5999 SIP/2.0", 34), 0);
	assert_int_equal(sip_dialog_count(), 0);
	loop_test_advance(40000);
	drain(NULL, 0);
	assert_int_equal(sip_ctrans_count(), 0);
	/* not an INVITE */
	assert_int_equal(sip_ctrans_restore_cancel(&d, "OPTIONS x SIP/2.0\r\n\r\n", 21), EBADMSG);
	sip_dialog_close();
}

/* A 2xx to an INVITE nobody sent here (RFC 3261 13.2.2.4, 15): ACK then
 * BYE to its Contact; its retransmission the ACK only; one without a
 * Contact or a To tag dropped, logged. */
static void t_stray_2xx(void **state)
{
	char first[4096], msg[4096];
	int n = 0;
	ssize_t r;

	(void)state;
	assert_int_equal(sip_dialog_init(), 0);
	static const char ok[] = "SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKgone;rport\r\n"
		"Record-Route: <sip:p1@127.0.0.1;lr>\r\n"
		"From: \"A\" <sip:100@127.0.0.1>;tag=f1\r\nTo: <sip:300@127.0.0.1>;tag=t1\r\n"
		"Call-ID: stray-1\r\nCSeq: 9 INVITE\r\nContact: <sip:300@127.0.0.1:6000>\r\n"
		"Content-Length: 0\r\n\r\n";
	deliver(ok);
	while ((r = recv(net.pfd, msg, sizeof(msg) - 1, 0)) > 0) {
		msg[r] = '\0';
		if (!n++)
			snprintf(first, sizeof(first), "%s", msg);
	}
	assert_int_equal(n, 2);
	assert_int_equal(strncmp(first, "ACK sip:300@127.0.0.1:6000 SIP/2.0", 34), 0);
	assert_non_null(strstr(first, "CSeq: 9 ACK"));
	assert_non_null(strstr(first, "Route: <sip:p1@127.0.0.1;lr>"));
	assert_int_equal(strncmp(msg, "BYE sip:300@127.0.0.1:6000 SIP/2.0", 34), 0);
	assert_non_null(strstr(msg, "CSeq: 10 BYE"));
	assert_non_null(strstr(msg, "To: <sip:300@127.0.0.1>;tag=t1"));
	assert_non_null(strstr(msg, "From: \"A\" <sip:100@127.0.0.1>;tag=f1"));
	deliver(ok);                               /* retransmitted */
	assert_int_equal(drain(msg, sizeof(msg)), 1);
	assert_int_equal(strncmp(msg, "ACK ", 4), 0);
	/* no Contact, no To tag: nothing sent */
	deliver("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKg2\r\n"
		"From: <sip:100@127.0.0.1>;tag=f1\r\nTo: <sip:300@127.0.0.1>;tag=t2\r\n"
		"Call-ID: stray-2\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	deliver("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKg3\r\n"
		"From: <sip:100@127.0.0.1>;tag=f1\r\nTo: <sip:300@127.0.0.1>\r\n"
		"Call-ID: stray-3\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1>\r\n"
		"Content-Length: 0\r\n\r\n");
	assert_int_equal(drain(NULL, 0), 0);
	assert_int_equal(sip_dialog_count(), 0);
	loop_test_advance(40000);                  /* the BYE's timer F */
	drain(NULL, 0);
	/* a flood of forged 2xx: 64 BYEs per 64*T1, then ACKs only */
	for (int i = 0; i < 66; i++) {
		snprintf(msg, sizeof(msg), "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKf%d\r\n"
			 "From: <sip:100@127.0.0.1>;tag=f1\r\nTo: <sip:300@127.0.0.1>;tag=t1\r\n"
			 "Call-ID: flood-%d\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1>\r\n"
			 "Content-Length: 0\r\n\r\n", i, i);
		if (i == 65) {          /* the window moved on */
			loop_test_advance(64 * sip_t1);
			drain(NULL, 0);   /* the BYEs' retransmissions */
		}
		deliver(msg);
		assert_int_equal(drain(NULL, 0), i == 64 ? 1 : 2);
	}
	loop_test_advance(40000);
	drain(NULL, 0);
	sip_dialog_close();
}

int test_trans_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_nonInvite_server, setup, teardown),
		cmocka_unit_test_setup_teardown(t_invite_server_error, setup, teardown),
		cmocka_unit_test_setup_teardown(t_invite_server_noack, setup, teardown),
		cmocka_unit_test_setup_teardown(t_invite_server_2xx, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hold_release, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_request, setup, teardown),
		cmocka_unit_test_setup_teardown(t_nonInvite_client_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(t_invite_client, setup, teardown),
		cmocka_unit_test_setup_teardown(t_invite_client_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(t_strans_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ctrans_restore_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(t_stray_2xx, setup, teardown),
	};
	return cmocka_run_group_tests_name("trans", tests, NULL, NULL);
}
