/**
 * @file test_call_codec.c  What a standby keeps of a bridged call
 * (docs/design/cluster.md 9): the dialog and call snapshot codecs round
 * trip, refuse what is bad (every truncation, a long string, a bad
 * range, a missing dialog) and skip unknown tags; a relay rebuilt from
 * its snapshot binds the same ports and carries each stream on; a call
 * in setup's snapshot (call_setup_codec.c) round trips and refuses what
 * is bad the same way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/mem.h"
#include "ha/jnl_codec.h"
#include "ha/tlv_val.h"
#include "media/rtp_int.h"
#include "pbx/call_codec.h"
#include "sip/dialog.h"
#include "suites.h"

static void sa4(struct sockaddr_storage *sa, const char *ip, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;

	memset(sa, 0, sizeof(*sa));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	inet_pton(AF_INET, ip, &in->sin_addr);
}

static struct sip_dialog *dlg_new(bool uac, const char *callid)
{
	struct sip_dialog *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->state = DIALOG_CONFIRMED;
	d->uac = uac;
	d->callid = strdup(callid);
	d->ltag = strdup("ltag1");
	d->rtag = strdup("rtag2");
	d->lhdr = strdup("<sip:101@10.0.0.100>;tag=ltag1");
	d->rhdr = strdup("\"Ann\" <sip:100-tfg@10.0.0.100>;tag=rtag2");
	d->rtarget = strdup("sip:100-tfg@10.0.0.10:5062");
	d->routes = strdup("");
	d->contact = strdup("sip:tandem@10.0.0.100:5060");
	d->lseq = 7;
	d->rseq = 4242;
	d->dst.fd = 9;
	d->dst.tp = SIP_TRANSP_UDP;
	sa4(&d->dst.addr, "10.0.0.10", 5062);
	sa4(&d->dst.local, "10.0.0.100", 5060);
	return d;
}

static void dlg_eq(const struct sip_dialog *a, const struct sip_dialog *b)
{
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->uac, b->uac);
	assert_string_equal(a->callid, b->callid);
	assert_string_equal(a->ltag, b->ltag);
	assert_string_equal(a->rtag, b->rtag);
	assert_string_equal(a->lhdr, b->lhdr);
	assert_string_equal(a->rhdr, b->rhdr);
	assert_string_equal(a->rtarget, b->rtarget);
	assert_string_equal(a->routes, b->routes);
	assert_string_equal(a->contact, b->contact);
	assert_int_equal(a->lseq, b->lseq);
	assert_int_equal(a->rseq, b->rseq);
	assert_int_equal(a->dst.tp, b->dst.tp);
	assert_memory_equal(&a->dst.addr, &b->dst.addr, sizeof(struct sockaddr_in));
	assert_memory_equal(&a->dst.local, &b->dst.local, sizeof(struct sockaddr_in));
	assert_false(b->in_table);
	assert_int_equal(b->dst.fd, -1);     /* the socket is rebuilt, not carried */
}

static void t_dialog_roundtrip(void **state)
{
	struct sip_dialog *d = dlg_new(true, "abc@host"), *o = NULL;
	struct jnl_wbuf b = { 0 };

	(void)state;
	assert_int_equal(sip_dialog_encode(&b, d), 0);
	assert_int_equal(sip_dialog_decode(&o, pl_of((const char *)b.p, b.len)), 0);
	dlg_eq(d, o);
	sip_dialog_free(o);
	/* an unknown tag (a newer node's field) is skipped */
	assert_int_equal(tlv_put_u64(&b, 999, 5), 0);
	assert_int_equal(sip_dialog_decode(&o, pl_of((const char *)b.p, b.len)), 0);
	dlg_eq(d, o);
	sip_dialog_free(o);
	/* a value of the wrong length, a state out of range */
	b.len = 0;
	assert_int_equal(sip_dialog_encode(&b, d), 0);
	assert_int_equal(jnl_tlv_add(&b, 11, pl_of("abc", 3)), 0);   /* lseq, 3 bytes */
	o = NULL;
	assert_int_equal(sip_dialog_decode(&o, pl_of((const char *)b.p, b.len)), EBADMSG);
	assert_null(o);
	b.len = 0;
	assert_int_equal(sip_dialog_encode(&b, d), 0);
	assert_int_equal(tlv_put_u64(&b, 1, 7), 0);                   /* state 7 */
	assert_int_equal(sip_dialog_decode(&o, pl_of((const char *)b.p, b.len)), EBADMSG);
	/* an empty tag cannot identify the dialog */
	b.len = 0;
	free(d->rtag);
	d->rtag = strdup("");
	assert_int_equal(sip_dialog_encode(&b, d), 0);
	assert_int_equal(sip_dialog_decode(&o, pl_of((const char *)b.p, b.len)), EBADMSG);
	jnl_wbuf_free(&b);
	sip_dialog_free(d);
}

static void snap_fill(struct call_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->taken_ms = 1764125000123;
	strcpy(s->caller, "100-tfg");
	strcpy(s->callerid, "\"Ann\"");
	strcpy(s->exten, "101");
	strcpy(s->context, "from-tfg");
	strcpy(s->cidname, "Ann");
	strcpy(s->cidnum, "100");
	strcpy(s->channel, "SIP/100-tfg-00000001");
	strcpy(s->apeer, "100-tfg");
	strcpy(s->bpeer, "101-tfg");
	s->start = 1764125000;
	s->answered = 1764125003;
	s->asrc.tp = SIP_TRANSP_UDP;
	sa4(&s->asrc.addr, "10.0.0.10", 5062);
	sa4(&s->asrc.local, "10.0.0.100", 5060);
	s->a_cap.npts = 2;
	/* member by member: a compound literal may carry garbage in its
	 * padding (clang), and snap_eq compares the bytes */
	s->a_cap.pts[0].pt = 8;
	s->a_cap.pts[0].codec = CODEC_PCMA;
	s->a_cap.pts[1].pt = 101;
	s->a_cap.pts[1].codec = CODEC_TELEVENT;
	s->a_cap.te_pt = 101;
	s->a_cap.dir = SDP_SENDRECV;
	s->a_cap.ptime = 20;
	s->b_off = s->a_cap;
	s->b_neg = s->a_cap;
	s->b_neg.dir = SDP_SENDONLY;
	s->b_neg.te_pt = -1;
	s->a_origin = (struct sdp_origin){ 11, 2, 33 };
	s->b_origin = (struct sdp_origin){ 44, 5, 66 };
	s->adlg = dlg_new(false, "a-call@10.0.0.10");
	s->b.dlg = dlg_new(true, "b-call@10.0.0.100");
	strcpy(s->b.peer, "101-tfg");
	strcpy(s->b.channel, "SIP/101-tfg-00000002");
	strcpy(s->b.callid, "b-call@10.0.0.100");
	s->b.from_hdr = strdup("<sip:100@10.0.0.100>;tag=ltag1");
	s->b.ruri = strdup("sip:101-tfg@10.0.0.10:5064");
	s->b.cseq = 102;
	s->b.dst.tp = SIP_TRANSP_UDP;
	sa4(&s->b.dst.addr, "10.0.0.10", 5064);
	s->b.status = 200;
	for (int i = 0; i < 2; i++) {
		struct rtp_leg_snap *r = &s->rtp[i];
		sa4(&r->local, "10.0.0.100", (uint16_t)(10000 + 2 * i));
		sa4(&r->conf.rtp, "10.0.0.10", (uint16_t)(4000 + 2 * i));
		sa4(&r->conf.rtcp, "10.0.0.10", (uint16_t)(4001 + 2 * i));
		r->conf.comedia = i;
		r->conf.npts = 1;
		r->conf.pts[0] = (struct sdp_pt){ 8, CODEC_PCMA };
		r->conf.dir = SDP_SENDRECV;
		sa4(&r->src_rtp, "10.0.0.10", (uint16_t)(4000 + 2 * i));
		r->latched = true;
		r->out_ssrc = 0xdeadbee0u + (uint32_t)i;
		r->out_init = true;
		r->out_seq = (uint16_t)(65530 + i);
		r->out_ts = 4000000000u + (uint32_t)i;
		r->out_wall_ms = 1764125004000 + i;
	}
	s->rtp[0].rx_wall_ms = 1764125010000;    /* the caller silent since then */
	strcpy(s->cdr.uniqueid, "a-1764125000.17");
	strcpy(s->cdr.linkedid, "a-1764125000.17");
	strcpy(s->cdr.src, "100");
	strcpy(s->cdr.dst, "101");
	strcpy(s->cdr.clid, "\"Ann\" <100>");
	strcpy(s->cdr.lastdata, "SIP/101-tfg,20");
	s->cdr.start_us = 1764125000000000;
	s->cdr.answer_us = 1764125003000000;
	s->cdr.disposition = CDR_DISP_ANSWERED;
	s->cdr.amaflags = CDR_AMA_DOCUMENTATION;
	s->cdr.sequence = 17;
}

/* Payload type lists compared field by field: struct sdp_pt has padding
 * that a compound literal need not zero (clang does not). */
static void pts_eq(const struct sdp_pt *a, const struct sdp_pt *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(a[i].pt, b[i].pt);
		assert_int_equal(a[i].codec, b[i].codec);
	}
}

static void neg_eq(const struct sdp_neg *a, const struct sdp_neg *b)
{
	assert_int_equal(a->npts, b->npts);
	pts_eq(a->pts, b->pts, a->npts);
	assert_int_equal(a->te_pt, b->te_pt);
	assert_int_equal(a->dir, b->dir);
	assert_int_equal(a->ptime, b->ptime);
}

static void snap_eq(const struct call_snap *a, const struct call_snap *b)
{
	assert_int_equal(a->taken_ms, b->taken_ms);
	assert_string_equal(a->caller, b->caller);
	assert_string_equal(a->callerid, b->callerid);
	assert_string_equal(a->exten, b->exten);
	assert_string_equal(a->context, b->context);
	assert_string_equal(a->cidname, b->cidname);
	assert_string_equal(a->cidnum, b->cidnum);
	assert_string_equal(a->channel, b->channel);
	assert_string_equal(a->apeer, b->apeer);
	assert_string_equal(a->bpeer, b->bpeer);
	assert_int_equal(a->start, b->start);
	assert_int_equal(a->answered, b->answered);
	assert_int_equal(a->asrc.tp, b->asrc.tp);
	assert_memory_equal(&a->asrc.addr, &b->asrc.addr, sizeof(struct sockaddr_in));
	assert_memory_equal(&a->asrc.local, &b->asrc.local, sizeof(struct sockaddr_in));
	neg_eq(&a->a_cap, &b->a_cap);
	neg_eq(&a->b_off, &b->b_off);
	neg_eq(&a->b_neg, &b->b_neg);
	assert_memory_equal(&a->a_origin, &b->a_origin, sizeof(a->a_origin));
	assert_memory_equal(&a->b_origin, &b->b_origin, sizeof(a->b_origin));
	dlg_eq(a->adlg, b->adlg);
	dlg_eq(a->b.dlg, b->b.dlg);
	assert_string_equal(a->b.peer, b->b.peer);
	assert_string_equal(a->b.channel, b->b.channel);
	assert_string_equal(a->b.callid, b->b.callid);
	assert_string_equal(a->b.from_hdr, b->b.from_hdr);
	assert_string_equal(a->b.ruri, b->b.ruri);
	assert_int_equal(a->b.cseq, b->b.cseq);
	assert_int_equal(a->b.status, b->b.status);
	assert_memory_equal(&a->b.dst.addr, &b->b.dst.addr, sizeof(struct sockaddr_in));
	for (int i = 0; i < 2; i++) {
		const struct rtp_leg_snap *x = &a->rtp[i], *y = &b->rtp[i];
		assert_memory_equal(&x->local, &y->local, sizeof(struct sockaddr_in));
		assert_memory_equal(&x->conf.rtp, &y->conf.rtp, sizeof(struct sockaddr_in));
		assert_memory_equal(&x->conf.rtcp, &y->conf.rtcp, sizeof(struct sockaddr_in));
		assert_memory_equal(&x->src_rtp, &y->src_rtp, sizeof(struct sockaddr_in));
		assert_int_equal(x->conf.comedia, y->conf.comedia);
		assert_int_equal(x->conf.npts, y->conf.npts);
		pts_eq(x->conf.pts, y->conf.pts, x->conf.npts);
		assert_int_equal(x->conf.dir, y->conf.dir);
		assert_int_equal(x->latched, y->latched);
		assert_int_equal(x->out_ssrc, y->out_ssrc);
		assert_int_equal(x->out_init, y->out_init);
		assert_int_equal(x->out_seq, y->out_seq);
		assert_int_equal(x->out_ts, y->out_ts);
		assert_int_equal(x->out_wall_ms, y->out_wall_ms);
		assert_int_equal(x->rx_wall_ms, y->rx_wall_ms);
	}
	assert_memory_equal(&a->cdr, &b->cdr, sizeof(a->cdr));
}

static void t_snap_roundtrip(void **state)
{
	struct call_snap s, o;
	struct jnl_wbuf b = { 0 };

	(void)state;
	snap_fill(&s);
	assert_int_equal(call_snap_encode(&b, &s), 0);
	assert_int_equal(call_snap_decode(&o, pl_of((const char *)b.p, b.len)), 0);
	snap_eq(&s, &o);
	call_snap_clear(&o);
	/* unknown tags, top level: skipped */
	assert_int_equal(jnl_tlv_add(&b, 9999, pl_of("new", 3)), 0);
	assert_int_equal(call_snap_decode(&o, pl_of((const char *)b.p, b.len)), 0);
	snap_eq(&s, &o);
	call_snap_clear(&o);
	jnl_wbuf_free(&b);
	call_snap_clear(&s);
}

/* A snapshot from an older node: its relay legs lack N_RX_WALL (18), and
 * a newer node's nested tag (99) is skipped. */
static void t_snap_old(void **state)
{
	struct call_snap s, o;
	struct jnl_wbuf b = { 0 }, old = { 0 };
	struct pl tlv, v, in;
	uint16_t tag, t;

	(void)state;
	snap_fill(&s);
	assert_int_equal(call_snap_encode(&b, &s), 0);
	tlv = pl_of((const char *)b.p, b.len);
	while (jnl_tlv_next(&tlv, &tag, &v)) {
		struct jnl_wbuf leg = { 0 };
		struct pl f;

		if (tag != 3 && tag != 4) {       /* T_RTP_A, T_RTP_B */
			assert_int_equal(jnl_tlv_add(&old, tag, v), 0);
			continue;
		}
		in = v;
		while (jnl_tlv_next(&in, &t, &f))
			if (t != 18)
				assert_int_equal(jnl_tlv_add(&leg, t, f), 0);
		assert_int_equal(jnl_tlv_add(&leg, 99, pl_of("x", 1)), 0);
		assert_int_equal(jnl_tlv_add(&old, tag, pl_of((const char *)leg.p, leg.len)), 0);
		jnl_wbuf_free(&leg);
	}
	assert_int_equal(tlv.l, 0);
	assert_true(old.len < b.len);
	assert_int_equal(call_snap_decode(&o, pl_of((const char *)old.p, old.len)), 0);
	assert_int_equal(o.rtp[0].rx_wall_ms, 0);   /* rtptimeout from the restore */
	s.rtp[0].rx_wall_ms = 0;
	snap_eq(&s, &o);
	call_snap_clear(&o);
	jnl_wbuf_free(&old);
	jnl_wbuf_free(&b);
	call_snap_clear(&s);
}

static void t_snap_hostile(void **state)
{
	struct call_snap s, o;
	struct jnl_wbuf b = { 0 }, x = { 0 };
	char big[200];

	(void)state;
	snap_fill(&s);
	assert_int_equal(call_snap_encode(&b, &s), 0);
	/* every truncation: refused or (cut at a TLV boundary after the
	 * needed fields) accepted, never a crash or a leak */
	for (size_t n = 0; n < b.len; n++) {
		int e = call_snap_decode(&o, pl_of((const char *)b.p, n));
		assert_true(e == 0 || e == EBADMSG);
		if (!e)
			call_snap_clear(&o);
		else
			assert_null(o.adlg);
	}
	/* a string longer than its field */
	memset(big, 'x', sizeof(big));
	jnl_wbuf_reserve(&x, b.len);
	memcpy(x.p, b.p, b.len);
	x.len = b.len;
	assert_int_equal(jnl_tlv_add(&x, 100, pl_of(big, sizeof(big))), 0);
	assert_int_equal(call_snap_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	/* a NUL inside a string */
	x.len = b.len;
	assert_int_equal(jnl_tlv_add(&x, 102, pl_of("1\0" "01", 4)), 0);
	assert_int_equal(call_snap_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	/* a disposition out of range */
	x.len = b.len;
	assert_int_equal(tlv_put_u64(&x, 222, 77), 0);
	assert_int_equal(call_snap_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	/* a nested relay leg that does not parse */
	x.len = b.len;
	assert_int_equal(jnl_tlv_add(&x, 3, pl_of("\x01\x00", 2)), 0);
	assert_int_equal(call_snap_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	/* no callee dialog */
	sip_dialog_free(s.b.dlg);
	s.b.dlg = dlg_new(true, "");
	free(s.b.dlg->ltag);
	s.b.dlg->ltag = strdup("");
	x.len = 0;
	assert_int_equal(call_snap_encode(&x, &s), 0);
	assert_int_equal(call_snap_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	jnl_wbuf_free(&x);
	jnl_wbuf_free(&b);
	call_snap_clear(&s);
}

/* ------------------------------------------------------ a call in setup */

static const char inv_a[] =
	"INVITE sip:300@10.0.0.100 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.10:5080;branch=z9hG4bK-a1;rport=5080;received=10.0.0.10\r\n"
	"Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-p1\r\n"
	"From: <sip:100-tfg@10.0.0.100>;tag=f1\r\nTo: <sip:300@10.0.0.100>\r\n"
	"Call-ID: ca1\r\nCSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n";
static const char inv_b[] =
	"INVITE sip:callee1@10.0.0.10:5090 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bK-b1;rport\r\n"
	"From: \"100-tfg\" <sip:100-tfg@10.0.0.100>;tag=f2\r\nTo: <sip:callee1@10.0.0.10:5090>\r\n"
	"Call-ID: cb1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

static void setup_fill(struct call_setup_snap *s, unsigned nlegs)
{
	memset(s, 0, sizeof(*s));
	s->taken_ms = 1795664483123;
	snprintf(s->uniqueid, sizeof(s->uniqueid), "a-1795664483.1");
	snprintf(s->caller, sizeof(s->caller), "100-tfg");
	snprintf(s->exten, sizeof(s->exten), "300");
	snprintf(s->totag, sizeof(s->totag), "0123456789abcdef");
	s->inv = (char *)inv_a;
	s->invlen = sizeof(inv_a) - 1;
	s->asrc.tp = SIP_TRANSP_UDP;
	s->asrc.fd = 7;
	sa4(&s->asrc.addr, "10.0.0.10", 5080);
	sa4(&s->asrc.local, "10.0.0.100", 5060);
	s->nlegs = nlegs;
	for (unsigned i = 0; i < nlegs; i++) {
		s->legs[i].inv = (char *)inv_b;
		s->legs[i].invlen = sizeof(inv_b) - 1;
		s->legs[i].dst.tp = SIP_TRANSP_UDP;
		sa4(&s->legs[i].dst.addr, "10.0.0.10", (uint16_t)(5090 + i));
	}
}

static void setup_eq(const struct call_setup_snap *a, const struct call_setup_snap *b)
{
	assert_int_equal(a->taken_ms, b->taken_ms);
	assert_string_equal(a->uniqueid, b->uniqueid);
	assert_string_equal(a->caller, b->caller);
	assert_string_equal(a->exten, b->exten);
	assert_string_equal(a->totag, b->totag);
	assert_int_equal(a->invlen, b->invlen);
	assert_memory_equal(a->inv, b->inv, a->invlen);
	assert_int_equal(a->asrc.tp, b->asrc.tp);
	assert_memory_equal(&a->asrc.addr, &b->asrc.addr, sizeof(struct sockaddr_in));
	assert_memory_equal(&a->asrc.local, &b->asrc.local, sizeof(struct sockaddr_in));
	assert_int_equal(b->asrc.fd, -1);
	assert_int_equal(b->asrc.alen, sizeof(struct sockaddr_in));
	assert_int_equal(a->nlegs, b->nlegs);
	for (unsigned i = 0; i < a->nlegs; i++) {
		assert_int_equal(a->legs[i].invlen, b->legs[i].invlen);
		assert_memory_equal(a->legs[i].inv, b->legs[i].inv, a->legs[i].invlen);
		assert_memory_equal(&a->legs[i].dst.addr, &b->legs[i].dst.addr,
				    sizeof(struct sockaddr_in));
		assert_int_equal(b->legs[i].dst.fd, -1);
	}
}

static void t_setup_roundtrip(void **state)
{
	struct call_setup_snap s, o;
	struct call_snap c;
	struct jnl_wbuf b = { 0 };
	struct pl p;

	(void)state;
	for (unsigned n = 0; n <= 2; n++) {
		setup_fill(&s, n);
		b.len = 0;
		assert_int_equal(call_setup_encode(&b, &s), 0);
		p = pl_of((const char *)b.p, b.len);
		assert_int_equal(call_setup_decode(&o, p), 0);
		setup_eq(&s, &o);
		call_setup_clear(&o);
		/* the bridged call's decoder skips T_SETUP and finds no call */
		assert_int_equal(call_snap_decode(&c, p), EBADMSG);
		assert_null(c.adlg);
	}
	/* unknown tags beside it and inside it: skipped */
	assert_int_equal(jnl_tlv_add(&b, 9999, pl_of("new", 3)), 0);
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)b.p, b.len)), 0);
	setup_eq(&s, &o);
	call_setup_clear(&o);
	jnl_wbuf_free(&b);
	/* a bridged call's snapshot is not a call in setup */
	struct call_snap cs;
	snap_fill(&cs);
	assert_int_equal(call_snap_encode(&b, &cs), 0);
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)b.p, b.len)), ENOENT);
	call_snap_clear(&cs);
	jnl_wbuf_free(&b);
	/* no caller INVITE: not encoded */
	setup_fill(&s, 1);
	s.inv = NULL;
	assert_int_equal(call_setup_encode(&b, &s), EINVAL);
	jnl_wbuf_free(&b);
}

/* T_SETUP around IN: a nested list the way the encoder makes it */
static void setup_wrap(struct jnl_wbuf *out, const struct jnl_wbuf *in)
{
	out->len = 0;
	assert_int_equal(jnl_tlv_add(out, 60, pl_of((const char *)in->p, in->len)), 0);
}

static void t_setup_hostile(void **state)
{
	struct call_setup_snap s, o;
	struct jnl_wbuf b = { 0 }, in = { 0 }, x = { 0 };
	char big[40];

	(void)state;
	setup_fill(&s, 2);
	assert_int_equal(call_setup_encode(&b, &s), 0);
	/* every truncation: refused, never a crash or a leak */
	for (size_t n = 0; n < b.len; n++) {
		int e = call_setup_decode(&o, pl_of((const char *)b.p, n));
		assert_true(e == EBADMSG || e == ENOENT);
		assert_null(o.inv);
	}
	/* the inner list: its fields one by one, then a bad one */
	memset(big, 'x', sizeof(big));
#define INNER(...) do { in.len = 0; \
		assert_int_equal(tlv_put_str(&in, 1, "u-1"), 0); \
		assert_int_equal(tlv_put_str(&in, 4, "tag"), 0); \
		assert_int_equal(jnl_tlv_add(&in, 5, pl_of(inv_a, sizeof(inv_a) - 1)), 0); \
		assert_int_equal(tlv_put_sa(&in, 6, &s.asrc.addr), 0); \
		__VA_ARGS__; setup_wrap(&x, &in); } while (0)
	INNER((void)0);
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)x.p, x.len)), 0);
	assert_int_equal(o.nlegs, 0);
	call_setup_clear(&o);
	/* a To tag longer than 16 */
	INNER(assert_int_equal(jnl_tlv_add(&in, 4, pl_of(big, 17)), 0));
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	/* an empty INVITE */
	INNER(assert_int_equal(jnl_tlv_add(&in, 5, pl_of("", 0)), 0));
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	/* a transport out of range */
	INNER(assert_int_equal(tlv_put_u64(&in, 8, 9), 0));
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	/* an address of 3 bytes */
	INNER(assert_int_equal(jnl_tlv_add(&in, 7, pl_of("abc", 3)), 0));
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	/* a leg without its INVITE, a leg without an address */
	struct jnl_wbuf l = { 0 };
	assert_int_equal(tlv_put_sa(&l, 2, &s.asrc.addr), 0);
	INNER(assert_int_equal(jnl_tlv_add(&in, 10, pl_of((const char *)l.p, l.len)), 0));
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	l.len = 0;
	assert_int_equal(jnl_tlv_add(&l, 1, pl_of(inv_b, sizeof(inv_b) - 1)), 0);
	INNER(assert_int_equal(jnl_tlv_add(&in, 10, pl_of((const char *)l.p, l.len)), 0));
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
	/* more legs than CALL_SETUP_LEGS: the rest skipped */
	assert_int_equal(tlv_put_sa(&l, 2, &s.asrc.addr), 0);
	INNER(for (int i = 0; i < CALL_SETUP_LEGS + 3; i++)
		assert_int_equal(jnl_tlv_add(&in, 10, pl_of((const char *)l.p, l.len)), 0));
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)x.p, x.len)), 0);
	assert_int_equal(o.nlegs, CALL_SETUP_LEGS);
	call_setup_clear(&o);
	/* no uniqueid */
	in.len = 0;
	assert_int_equal(jnl_tlv_add(&in, 5, pl_of(inv_a, sizeof(inv_a) - 1)), 0);
	assert_int_equal(tlv_put_str(&in, 4, "tag"), 0);
	assert_int_equal(tlv_put_sa(&in, 6, &s.asrc.addr), 0);
	setup_wrap(&x, &in);
	assert_int_equal(call_setup_decode(&o, pl_of((const char *)x.p, x.len)), EBADMSG);
#undef INNER
	jnl_wbuf_free(&l);
	jnl_wbuf_free(&in);
	jnl_wbuf_free(&x);
	jnl_wbuf_free(&b);
}

/* A relay rebuilt from its snapshot: same ports, same SSRCs, the streams
 * moved on by the time elapsed, the latched sources kept. */
static void t_relay_restore(void **state)
{
	struct sockaddr_storage lo;
	struct rtp_relay *r, *n;
	struct rtp_leg_snap s[2];
	uint16_t pa, pb;
	size_t before = mem_live();

	(void)state;
	assert_int_equal(loop_init(), 0);
	assert_int_equal(rtp_init(NULL), 0);
	sa4(&lo, "127.0.0.1", 0);
	assert_int_equal(rtp_relay_alloc(&r, &lo, &lo), 0);
	pa = rtp_relay_port(r, RTP_LEG_A);
	pb = rtp_relay_port(r, RTP_LEG_B);
	/* as if packets had flowed: latched, a stream sent toward each leg */
	for (int i = 0; i < 2; i++) {
		sa4(&r->leg[i].src_rtp, "127.0.0.1", (uint16_t)(40000 + i));
		r->leg[i].latched = true;
		r->leg[i].out_init = true;
		r->leg[i].out_seq = 100;
		r->leg[i].out_ts = 16000;
		r->leg[i].out_ms = rtp_now();
	}
	rtp_relay_snap(r, RTP_LEG_A, &s[0]);
	rtp_relay_snap(r, RTP_LEG_B, &s[1]);
	/* the ports are still held: the same ones cannot be had twice */
	assert_int_equal(rtp_relay_restore(&n, s), EADDRINUSE);
	r = rtp_relay_free(r);
	assert_int_equal(rtp_ports_in_use(), 0);
	/* the snapshot is 1 s old */
	s[0].out_wall_ms -= 1000;
	s[1].out_wall_ms -= 1000;
	assert_int_equal(rtp_relay_restore(&n, s), 0);
	assert_int_equal(rtp_relay_port(n, RTP_LEG_A), pa);
	assert_int_equal(rtp_relay_port(n, RTP_LEG_B), pb);
	for (int i = 0; i < 2; i++) {
		const struct leg *l = &n->leg[i];
		assert_int_equal(l->out_ssrc, s[i].out_ssrc);
		assert_true(l->latched);
		assert_memory_equal(&l->src_rtp, &s[i].src_rtp, sizeof(struct sockaddr_in));
		assert_true(l->out_init && l->out_resync);
		/* 1 s of 20 ms packets and one more: 51 to 52 on */
		assert_in_range((uint16_t)(l->out_seq - 100), 51, 52);
		assert_in_range(l->out_ts - 16000u, 8000, 8100);
	}
	/* a port outside the pool */
	n = rtp_relay_free(n);
	sa4(&s[0].local, "127.0.0.1", 1000);
	assert_int_equal(rtp_relay_restore(&n, s), ERANGE);
	assert_int_equal(rtp_ports_in_use(), 0);
	rtp_close();
	loop_close();
	assert_int_equal(mem_live(), before);
}

static void no_rtp(struct rtp_relay *r, enum rtp_leg_id leg, void *arg)
{
	(void)r;
	(void)leg;
	(void)arg;
}

/* rtptimeout carried: a leg silent for RTP_SILENT_MS or more says since
 * when (wall clock), one sending says nothing; the restored relay's
 * timeout counts from that moment, a past one fires after the floor. */
static void t_relay_silence(void **state)
{
	struct sockaddr_storage lo;
	struct rtp_relay *r;
	struct rtp_leg_snap s[2];
	struct timespec ts;
	int64_t wall;
	size_t before = mem_live();

	(void)state;
	assert_int_equal(loop_init(), 0);
	assert_int_equal(rtp_init(NULL), 0);
	sa4(&lo, "127.0.0.1", 0);
	assert_int_equal(rtp_relay_alloc(&r, &lo, &lo), 0);
	rtp_relay_snap(r, RTP_LEG_A, &s[0]);
	assert_int_equal(s[0].rx_wall_ms, 0);          /* not watched */
	rtp_relay_timeout(r, 30, no_rtp, NULL);
	rtp_test_clock_skew(RTP_SILENT_MS - 1);
	rtp_relay_snap(r, RTP_LEG_A, &s[0]);
	assert_int_equal(s[0].rx_wall_ms, 0);          /* not silent long enough */
	rtp_test_clock_skew(3002 - RTP_SILENT_MS);     /* 3001 ms since the arming */
	r->leg[1].st.last_rx = rtp_now() - 10;         /* B sends */
	clock_gettime(CLOCK_REALTIME, &ts);
	wall = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	rtp_relay_snap(r, RTP_LEG_A, &s[0]);
	rtp_relay_snap(r, RTP_LEG_B, &s[1]);
	/* the wall clock at the snapshot less the 3001 ms of loop time */
	assert_true(s[0].rx_wall_ms >= wall - 3001);
	clock_gettime(CLOCK_REALTIME, &ts);
	wall = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	assert_true(s[0].rx_wall_ms <= wall - 3001);
	assert_int_equal(s[1].rx_wall_ms, 0);
	/* B on hold (recvonly): not watched, so never silent */
	r->leg[1].conf.dir = SDP_RECVONLY;
	r->leg[1].st.last_rx = 0;
	rtp_relay_snap(r, RTP_LEG_B, &s[1]);
	assert_int_equal(s[1].rx_wall_ms, 0);
	/* silent 25 s before: fires 5 s on (not 30); 40 s: after the floor */
	rtp_relay_timeout_since(r, 25000, 0);
	assert_int_equal(r->armed_at, rtp_now() - 25000);
	assert_in_range(tmr_left(&r->tmr), 5000, 5002);
	rtp_relay_timeout_since(r, 40000, 70);
	assert_in_range(tmr_left(&r->tmr), 69, 71);
	/* disarmed: nothing */
	rtp_relay_timeout(r, 0, NULL, NULL);
	rtp_relay_timeout_since(r, 40000, 70);
	assert_int_equal(tmr_left(&r->tmr), 0);
	r = rtp_relay_free(r);
	rtp_test_clock_skew(-3001);
	rtp_close();
	loop_close();
	assert_int_equal(mem_live(), before);
}

int test_call_codec_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_dialog_roundtrip),
		cmocka_unit_test(t_snap_roundtrip),
		cmocka_unit_test(t_snap_old),
		cmocka_unit_test(t_snap_hostile),
		cmocka_unit_test(t_relay_restore),
		cmocka_unit_test(t_relay_silence),
		cmocka_unit_test(t_setup_roundtrip),
		cmocka_unit_test(t_setup_hostile),
	};

	return cmocka_run_group_tests_name("call_codec", tests, NULL, NULL);
}
