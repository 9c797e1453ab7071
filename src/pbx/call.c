/**
 * @file call.c  The B2BUA: an incoming leg bridged to outgoing legs.
 *
 * Caller side (UAS, RFC 3261 13.3): a peer with a secret is challenged
 * with 407 (chan_sip's behaviour for INVITE) and a wrong password gets the
 * same challenge again; the 2xx we send is retransmitted until the ACK
 * arrives (13.3.1.4, T1 doubling to T2, 64*T1 in all).
 * Callee side (UAC, 13.2): one INVITE per target; provisional responses
 * go back to the caller; the first 2xx is bridged and ACKed, later ones
 * are ACKed and hung up; the rest are CANCELled (forking, Dial's '&').
 * In-dialog requests (BYE, re-INVITE, INFO) are passed to the other side
 * and their answers back.
 *
 * Media: every call goes through the RTP relay (call_media.c), which also
 * takes care of a late offer (an INVITE without SDP: our offer goes in
 * the 200 and the caller answers in its ACK).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "ha/ha.h"
#include "pbx/call.h"
#include "pbx/call_int.h"
#include "pbx/call_monitor.h"
#include "pbx/call_survive.h"
#include "pbx/presence.h"
#include "pbx/registrar.h"
#include "sip/auth.h"
#include "store/cdr.h"

static struct call *calls;
static uint64_t calls_started;   /* since start: /metrics derives CPS from it */

uint64_t call_started_total(void)
{
	return calls_started;
}
static uint32_t next_id = 1, chan_seq;
static bool handing_over;        /* call_handover_all(): records go with the calls */
static call_router_h *route;

static const char *state_names[] = { "Routing", "Dialing", "Ringing", "Up", "Ended" };

const char *call_state_name(enum call_state s)
{
	return (unsigned)s < 5 ? state_names[s] : "?";
}

struct call *call_list(void)
{
	return calls;
}

size_t call_count(void)
{
	size_t n = 0;
	struct call *c;

	for (c = calls; c; c = c->next)
		n++;
	return n;
}

/* ------------------------------------------------------------ lifecycle */

/*
 * Let go of the leg's INVITE transaction. The leg holds a reference: an
 * answered INVITE transaction outlives its final response (it passes
 * retransmitted 2xx up until Timer M, 32 s) and may end before the leg or
 * after it, so the pointer alone would dangle.
 */
static void leg_ct_drop(struct leg *l)
{
	if (!l->ct)
		return;
	sip_ctrans_abandon(l->ct);
	l->ct = mem_deref(l->ct);
}

static void leg_free(struct leg *l)
{
	if (!l)
		return;
	leg_ct_drop(l);
	call_retx_stop(&l->retx);
	sip_dialog_free(l->dlg);
	free(l->from_hdr);
	free(l->ruri);
	free(l->body);
	free(l);
}

void call_legs_reap(struct call *c)
{
	unsigned i, n = 0;

	for (i = 0; i < c->nlegs; i++) {
		struct leg *l = c->legs[i];

		if (l->state == LEG_ENDED && !l->ct && !l->dlg && l != c->bridged) {
			leg_free(l);
			continue;
		}
		c->legs[n++] = l;
	}
	c->nlegs = n;
}

static void call_free(struct call *c)
{
	struct call **pp;
	unsigned i;

	presence_device_changed(NULL);   /* BLF: its peers are free again */
	for (pp = &calls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	tmr_cancel(&c->dial_tmr);
	call_retx_stop(&c->retx);
	tmr_cancel(&c->wait_tmr);
	call_survive_end(c);
	for (i = 0; i < c->nlegs; i++)
		leg_free(c->legs[i]);
	if (c->dp) {
		if (c->cdr)
			cdr_set_app(c->cdr, dp_chan_lastapp(c->dp), dp_chan_lastdata(c->dp));
		dp_chan_free(c->dp);
	}
	sip_dialog_free(c->adlg);
	mem_deref(c->st);
	free(c->offer);
	call_monitor_free(c);   /* before the relay goes: the files are finished */
	call_play_free(c);
	call_media_free(c);
	if (c->cdr) {
		if (handing_over)
			cdr_handover(c->cdr);
		else
			cdr_close(c->cdr);
		c->cdr = mem_deref(c->cdr);
	}
	log_info("call %u (%s -> %s) %s", c->id, c->caller, c->exten,
		 handing_over ? "handed over" : "ended");
	free(c);
}

static void bye_resp(int err, const struct sip_msg *msg, void *arg)
{
	(void)err;
	(void)msg;
	(void)arg;
}

static void bye_durable(bool ok, void *arg)
{
	struct sip_strans *st = arg;

	sip_strans_release(st, ok);
	mem_deref(st);
}

/* The 200 to a BYE leaves once this turn (the call's CDR) is durable
 * (ha.h: committed, and ACKed by a standby in sync). */
static void bye_ok(struct sip_strans *st)
{
	if (sip_strans_hold(st, 200, NULL, NULL) != 0) {
		sip_strans_reply(st, 200, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (ha_on_durable(bye_durable, mem_ref(st)) != 0) {
		sip_strans_release(st, true);
		mem_deref(st);
	}
}

/* End the call: BYE every confirmed dialog, CANCEL ringing legs. */
void call_end(struct call *c, uint16_t caller_status)
{
	unsigned i;

	if (c->state == CALL_ENDED)
		return;
	call_dp_caller_gone(c);   /* unless the dialplan itself ended: h only */
	if (c->cdr && !c->answered && c->state != CALL_UP)
		cdr_disposition(c->cdr, caller_status == 486 ? CDR_DISP_BUSY :
				caller_status == 480 || caller_status == 487 ? CDR_DISP_NO_ANSWER :
				caller_status == 503 ? CDR_DISP_CONGESTION : CDR_DISP_FAILED);
	c->state = CALL_ENDED;
	for (i = 0; i < c->nlegs; i++) {
		struct leg *l = c->legs[i];
		if (l->state == LEG_UP && l->dlg)
			sip_dialog_request(l->dlg, "BYE", NULL, NULL, NULL, 0, bye_resp, NULL, NULL);
		else if (l->state != LEG_ENDED && l->ct)
			sip_ctrans_cancel(l->ct);
		leg_ct_drop(l);
		l->state = LEG_ENDED;
	}
	if (c->answered && c->adlg)
		sip_dialog_request(c->adlg, "BYE", NULL, NULL, NULL, 0, bye_resp, NULL, NULL);
	else if (caller_status && c->st)
		sip_strans_reply(c->st, caller_status, NULL, NULL, NULL, NULL, 0);
	call_free(c);
}

/* ------------------------------------------------------- caller (UAS) */

static void contact_of(const struct sip_src *to, char *buf, size_t size)
{
	char host[64];
	uint16_t port;

	if (sip_transp_local(to, host, sizeof(host), &port) != 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	snprintf(buf, size, "sip:tandem@%s:%u", host, port);
}

/* 200 to the caller: our answer through the relay, or our offer when the
 * caller's INVITE had none (resp is the callee's 2xx, or NULL when the
 * dialplan answers by itself). A caller already answered (Answer() before
 * Dial()) keeps its 200: only the callee's media is taken. */
void call_answer_caller(struct call *c, const struct sip_msg *resp)
{
	char extra[256], sdp[2048];
	size_t sdplen = 0;
	const char *body = resp && !c->relay ? resp->body.p : NULL;
	size_t blen = resp && !c->relay ? resp->body.l : 0;

	if (c->relay && resp && call_media_answer_in(c, c->bridged ? c->bridged->peer : "",
						     resp))
		log_notice("call %u: the callee's answer has no usable audio", c->id);
	if (c->answered) {
		if (c->cdr)
			cdr_set_dstchannel(c->cdr, c->bridged ? c->bridged->channel : "");
		c->state = CALL_UP;
		call_media_up(c);
		call_survive_snap(c);
		return;
	}
	if (c->relay && call_media_answer_out(c, sdp, sizeof(sdp), &sdplen) == 0) {
		body = sdp;
		blen = sdplen;
	}
	snprintf(extra, sizeof(extra), "Contact: <%s>\r\n", c->adlg->contact);
	sip_strans_reply(c->st, 200, NULL, extra, blen ? "application/sdp" : NULL, body, blen);
	sip_dialog_confirm(c->adlg);
	c->state = CALL_UP;
	c->answered = time(NULL);
	if (c->cdr) {
		cdr_set_dstchannel(c->cdr, c->bridged ? c->bridged->channel : "");
		cdr_answer(c->cdr);
		cdr_disposition(c->cdr, CDR_DISP_ANSWERED);
	}
	call_media_up(c);
	call_retx_start(&c->retx, c, c->st, &c->asrc);
	call_survive_snap(c);
}

/* ------------------------------------------------------- callee (UAC) */

static uint16_t caller_status_for(uint16_t s)
{
	switch (s) {
	case 486: case 600: return 486;   /* BUSY */
	case 408: return 480;             /* NOANSWER */
	case 503: return 503;             /* CONGESTION */
	case 404: case 480: return 480;   /* CHANUNAVAIL */
	default: return s >= 400 && s < 700 ? 480 : 500;
	}
}

/* SIP status of the callee -> Asterisk's DIALSTATUS. */
static const char *dialstatus_for(uint16_t s)
{
	switch (s) {
	case 486: case 600: return "BUSY";
	case 408: case 480: case 487: return "NOANSWER";
	case 503: return "CONGESTION";
	default: return "CHANUNAVAIL";
	}
}

static void legs_done(struct call *c)
{
	unsigned i;
	uint16_t best = 0;

	for (i = 0; i < c->nlegs; i++) {
		if (c->legs[i]->state != LEG_ENDED)
			return;
		if (c->legs[i]->status == 486 || !best)
			best = c->legs[i]->status;
	}
	tmr_cancel(&c->dial_tmr);
	call_survive_setup_over(c);   /* no leg left to CANCEL */
	c->last_status = caller_status_for(best ? best : 480);
	if (c->dp_waiting_dial) {
		call_dp_dial_done(c, dialstatus_for(best ? best : 480));
		return;
	}
	call_end(c, c->last_status);
}

static bool leg_authenticate(struct leg *l, const struct sip_msg *resp);

/* 180/183 from a callee, passed on to the caller (unless answered). */
static void leg_provisional(struct leg *l, const struct sip_msg *msg)
{
	struct call *c = l->call;
	char extra[256], sdp[2048];
	size_t sdplen = 0;

	if (msg->scode == 100 || c->state == CALL_UP || c->answered)
		return;
	bool first = l->state != LEG_RINGING;
	l->state = LEG_RINGING;
	c->state = CALL_RINGING;
	if (first)
		call_survive_setup(c);   /* after this turn's 18x: a CANCEL may go */
	if (call_play_dial_music(c))
		return;   /* Dial's m: the caller hears music, not ringing */
	snprintf(extra, sizeof(extra), "Contact: <%s>\r\n", c->adlg->contact);
	if (msg->body.l && c->relay && c->late_offer) {
		/* the callee's answer is kept, but our offer to a late-offer
		 * caller may not ride in an unreliable 1xx (RFC 3261 13.2.1):
		 * it goes in the 200 */
		(void)call_media_answer_in(c, l->peer, msg);
	} else if (msg->body.l && c->relay) {
		/* early media: through the relay like the rest */
		if (call_media_answer_in(c, l->peer, msg) == 0 &&
		    call_media_answer_out(c, sdp, sizeof(sdp), &sdplen) == 0) {
			sip_strans_reply(c->st, 183, NULL, extra, "application/sdp", sdp,
					 sdplen);
			return;
		}
	}
	sip_strans_reply(c->st, msg->scode == 183 ? 183 : 180, NULL, extra,
			 !c->relay && msg->body.l ? "application/sdp" : NULL,
			 c->relay ? NULL : msg->body.p, c->relay ? 0 : msg->body.l);
}

static void leg_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct leg *l = arg;
	struct call *c = l->call;
	unsigned i;

	presence_device_changed(l->peer);   /* BLF: rings, answered or gone */
	if (err || !msg) {
		leg_ct_drop(l);
		l->state = LEG_ENDED;
		l->status = 408;
		legs_done(c);
		return;
	}
	if (msg->scode < 200) {
		leg_provisional(l, msg);
		return;
	}
	if (msg->scode < 300) {
		struct sip_dialog *d = NULL;
		char contact[128];
		contact_of(&l->dst, contact, sizeof(contact));
		if (!l->dlg &&
		    sip_dialog_uac(&d, msg, &l->dst, l->from_hdr, contact, l->cseq, l) == 0)
			l->dlg = d;
		if (l->dlg)
			sip_dialog_ack(l->dlg, l->cseq, NULL, NULL, 0);
		if (l->state == LEG_UP)
			return;   /* a retransmitted 2xx: ACKed again */
		l->state = LEG_UP;
		if (c->bridged || c->state == CALL_ENDED) {
			/* another leg won: this one is hung up at once */
			if (l->dlg)
				sip_dialog_request(l->dlg, "BYE", NULL, NULL, NULL, 0, bye_resp,
						   NULL, NULL);
			l->state = LEG_ENDED;
			return;
		}
		c->bridged = l;
		tmr_cancel(&c->dial_tmr);
		for (i = 0; i < c->nlegs; i++) {
			struct leg *o = c->legs[i];
			if (o != l && o->state != LEG_ENDED && o->ct) {
				sip_ctrans_cancel(o->ct);
				o->state = LEG_ENDED;
			}
		}
		log_info("call %u: %s answered", c->id, l->channel);
		call_monitor_bridged(c);
		call_play_dial_end(c);
		call_answer_caller(c, msg);
		return;
	}
	if ((msg->scode == 401 || msg->scode == 407) && c->state != CALL_ENDED &&
	    leg_authenticate(l, msg))
		return;
	leg_ct_drop(l);
	l->state = LEG_ENDED;
	l->status = msg->scode;
	if (!c->bridged)
		legs_done(c);
}

static void dial_timeout(void *arg)
{
	struct call *c = arg;

	unsigned i;

	presence_device_changed(NULL);   /* BLF: the legs stop ringing */
	log_info("call %u: no answer within the dial timeout", c->id);
	for (i = 0; i < c->nlegs; i++) {
		struct leg *l = c->legs[i];
		if (l->state != LEG_ENDED && l->ct) {
			/* the transaction CANCELs (once a 1xx came, RFC 3261 9.1)
			 * and ends on its own; its late 487 or Timer B must not
			 * reach legs_done() while the dialplan has gone on */
			sip_ctrans_cancel(l->ct);
			leg_ct_drop(l);
		}
		l->state = LEG_ENDED;
	}
	c->last_status = 480;
	if (c->dp_waiting_dial)
		call_dp_dial_done(c, "NOANSWER");
	else
		call_end(c, 480);
}

/*
 * Where a dial target goes: SIP/peer rings a registered peer at its
 * contact, or a static host= peer; SIP/peer/number sends number to the
 * peer (a trunk). Fills dst and the Request-URI; ENOENT when unreachable.
 */
static int leg_target(const struct peer *p, const char *num, struct sip_src *dst,
		      char *ruri, size_t size)
{
	struct binding *b = registrar_find(p->name);
	char hp[80];

	if (b) {
		const char *at = strchr(b->contact, '@');
		const char *host = at ? at + 1 : b->contact + 4;
		*dst = b->src;
		if (num)
			snprintf(ruri, size, "sip:%s@%.*s", num, (int)strcspn(host, ";>"), host);
		else
			snprintf(ruri, size, "%s", b->contact);
		return 0;
	}
	if (!p->host)
		return ENOENT;     /* dynamic and not registered */
	memset(dst, 0, sizeof(*dst));
	dst->fd = -1;
	dst->tp = SIP_TRANSP_UDP;
	if (p->addr.ss_family == AF_UNSPEC) {
		log_warn("peer %s: host=%s did not resolve when sip.conf was loaded; "
			 "a reload tries again", p->name, p->host);
		return ENOENT;
	}
	dst->addr = p->addr;
	sip_sa_str(&dst->addr, hp, sizeof(hp));
	snprintf(ruri, size, "sip:%s@%s", num ? num : p->name, hp);
	return 0;
}

/* Send (or, after a challenge, send again with authz) the leg's INVITE. */
static int leg_send_invite(struct leg *l, const char *authz)
{
	char hdrs[3072], host[64];
	uint16_t port;
	int err;

	if (sip_transp_local(&l->dst, host, sizeof(host), &port) != 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	snprintf(hdrs, sizeof(hdrs),
		 "Max-Forwards: 70\r\nFrom: %s\r\nTo: <%s>\r\nCall-ID: %s\r\n"
		 "CSeq: %u INVITE\r\nContact: <sip:tandem@%s:%u>\r\n"
		 "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n"
		 "User-Agent: Tandem/" TANDEM_VERSION "\r\n%s",
		 l->from_hdr, l->ruri, l->callid, l->cseq, host, port, authz ? authz : "");
	err = sip_ctrans_request(&l->ct, &l->dst, "INVITE", l->ruri, hdrs,
				 l->body ? "application/sdp" : NULL, l->body, l->blen,
				 leg_resp, l);
	if (!err)
		mem_ref(l->ct);   /* released by leg_ct_drop */
	return err;
}

/* Calls a peer is in, as caller or as a callee leg not ended (chan_sip's
 * call-limit counts both directions). */
static int peer_calls(const char *peer)
{
	struct call *c;
	unsigned i;
	int n = 0;

	for (c = calls; c; c = c->next) {
		if (c->state == CALL_ENDED)
			continue;
		if (!strcmp(c->caller, peer))
			n++;
		for (i = 0; i < c->nlegs; i++)
			if (c->legs[i]->state != LEG_ENDED && !strcmp(c->legs[i]->peer, peer))
				n++;
	}
	return n;
}

/* Legs ringing peer (not answered yet) and calls it is in (placed, or
 * answered as a callee), for busy lamps. */
void call_peer_usage(const char *peer, struct presence_usage *u)
{
	struct call *c;
	unsigned i;

	u->ringing = u->inuse = 0;
	for (c = calls; c; c = c->next) {
		if (c->state == CALL_ENDED)
			continue;
		if (!strcmp(c->caller, peer))
			u->inuse++;
		for (i = 0; i < c->nlegs; i++) {
			const struct leg *l = c->legs[i];
			if (l->state == LEG_ENDED || strcmp(l->peer, peer))
				continue;
			if (l->state == LEG_UP)
				u->inuse++;
			else
				u->ringing++;
		}
	}
}

static int leg_start(struct call *c, const char *target)
{
	const struct peer *p;
	struct leg *l;
	char ruri[300], pname[64], host[64], tag[17], sdp[2048];
	const char *name = target, *num, *fromuser, *fromdomain;
	struct sip_src dst;
	uint16_t port;
	int err;

	if (!strncasecmp(name, "SIP/", 4))
		name += 4;
	num = strchr(name, '/');
	snprintf(pname, sizeof(pname), "%.*s", num ? (int)(num - name) : (int)strlen(name), name);
	if (num)
		num++;
	struct pl pn = { pname, strlen(pname) };
	if (!(p = sipconf_peer(pbx_sipconf(), &pn)) ||
	    leg_target(p, num, &dst, ruri, sizeof(ruri)) != 0)
		return ENOENT;     /* CHANUNAVAIL */
	if (p->call_limit >= 0 && peer_calls(p->name) >= p->call_limit) {
		log_notice("call %u: %s is at its call-limit (%d)", c->id, p->name,
			   p->call_limit);
		return EBUSY;
	}
	if (c->nlegs >= MAX_LEGS)
		return ENOSPC;
	l = calloc(1, sizeof(*l));
	if (!l)
		return ENOMEM;
	l->call = c;
	snprintf(l->peer, sizeof(l->peer), "%s", pname);
	snprintf(l->channel, sizeof(l->channel), "SIP/%s-%08x", pname, ++chan_seq);
	l->dst = dst;
	l->cseq = 1;
	sip_rand_token(l->callid, 32);
	sip_rand_token(tag, 16);
	if (sip_transp_local(&l->dst, host, sizeof(host), &port) != 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	/* chan_sip's fromuser=/fromdomain= replace the caller's identity */
	fromuser = conf_get(p->sec, "fromuser");
	fromdomain = conf_get(p->sec, "fromdomain");
	size_t fl = strlen(c->callerid) + strlen(c->cidnum) + strlen(host) + 256;
	l->from_hdr = malloc(fl);
	l->ruri = strdup(ruri);
	if (!l->from_hdr || !l->ruri) {
		leg_free(l);
		return ENOMEM;
	}
	snprintf(l->from_hdr, fl, "%s <sip:%s@%s>;tag=%s", c->callerid,
		 fromuser ? fromuser : c->cidnum, fromdomain ? fromdomain : host, tag);
	if (c->relay) {
		size_t sdplen = 0;
		if (call_media_offer(c, pname, sdp, sizeof(sdp), &sdplen) != 0 ||
		    !(l->body = malloc(sdplen))) {
			log_info("call %u: no codec %s can take: not dialled", c->id, pname);
			leg_free(l);
			return ENOENT;
		}
		memcpy(l->body, sdp, sdplen);
		l->blen = sdplen;
	} else if (c->offer && (l->body = malloc(c->offerlen))) {
		memcpy(l->body, c->offer, c->offerlen);
		l->blen = c->offerlen;
	}
	err = leg_send_invite(l, NULL);
	if (err) {
		leg_free(l);
		return err;
	}
	c->legs[c->nlegs++] = l;
	presence_device_changed(l->peer);   /* BLF: about to ring */
	return 0;
}

/*
 * A trunk challenged our INVITE (401/407): answer once with the peer's
 * credentials (defaultuser/username or the peer name, secret or
 * remotesecret), in a new transaction with the next CSeq (22.2).
 */
static bool leg_authenticate(struct leg *l, const struct sip_msg *resp)
{
	struct pl pn = { l->peer, strlen(l->peer) };
	const struct peer *p = sipconf_peer(pbx_sipconf(), &pn);
	const struct sip_hdr *h;
	const char *secret, *user, *hdr;
	char authz[1024], cnonce[17];

	if (l->auth_tried || !p)
		return false;
	secret = conf_get(p->sec, "remotesecret");
	if (!secret)
		secret = p->secret;
	user = p->defaultuser ? p->defaultuser : conf_get(p->sec, "fromuser");
	if (!user)
		user = p->name;
	h = sip_msg_hdr(resp, resp->scode == 401 ? SIP_HDR_WWW_AUTHENTICATE
						 : SIP_HDR_PROXY_AUTHENTICATE);
	hdr = resp->scode == 401 ? "Authorization" : "Proxy-Authorization";
	if (!secret || !h)
		return false;
	sip_rand_token(cnonce, 16);
	if (auth_client_response(authz, sizeof(authz), hdr, &h->val, user, secret, "INVITE",
				 l->ruri, 1, cnonce) != 0) {
		log_warn("peer %s: cannot answer its challenge", l->peer);
		return false;
	}
	l->auth_tried = true;
	l->cseq++;
	leg_ct_drop(l);
	return leg_send_invite(l, authz) == 0;
}

int call_dial(struct call *c, const char *targets, unsigned timeout_s)
{
	char buf[512], *tok, *save = NULL;
	unsigned started = 0;

	snprintf(buf, sizeof(buf), "%s", targets);
	unsigned busy = 0;
	for (tok = strtok_r(buf, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
		int err = leg_start(c, tok);
		if (err == EBUSY)
			busy++;
		else if (err)
			log_info("call %u: cannot dial %s: %s", c->id, tok,
				 err == ENOENT ? "not registered" : strerror(err));
		else
			started++;
	}
	if (c->cdr) {
		char data[600];
		snprintf(data, sizeof(data), "%s,%u", targets, timeout_s);
		cdr_set_app(c->cdr, "Dial", data);
	}
	if (!started) {
		c->last_status = busy ? 486 : 480;   /* DIALSTATUS BUSY / CHANUNAVAIL */
		return c->last_status;
	}
	c->state = CALL_DIALING;
	if (timeout_s)
		tmr_start(&c->dial_tmr, (uint64_t)timeout_s * 1000, dial_timeout, c);
	call_survive_setup(c);
	return 0;
}

size_t call_handover_all(void)
{
	size_t n = 0;

	handing_over = true;
	while (calls) {
		call_free(calls);
		n++;
	}
	handing_over = false;
	return n;
}

void call_adopt(struct call *c)
{
	c->id = next_id++;
	c->next = calls;
	calls = c;
	presence_device_changed(NULL);   /* BLF: both peers are in use */
}

static struct call *call_find(uint32_t id)
{
	struct call *c;

	for (c = calls; c && c->id != id; c = c->next)
		;
	return c;
}

/* ------------------------------------------------------------ incoming */

/* Does a static host= peer sit at src? With insecure=port any source
 * port will do (chan_sip). */
static bool host_matches(const struct peer *p, const struct sip_src *src)
{
	struct sockaddr_storage sa;
	const char *insecure = conf_get(p->sec, "insecure");
	bool anyport = insecure && strstr(insecure, "port");

	if (!p->host || p->addr.ss_family == AF_UNSPEC)
		return false;
	sa = p->addr;
	if (anyport) {
		if (sa.ss_family == AF_INET)
			((struct sockaddr_in *)&sa)->sin_port =
				((const struct sockaddr_in *)&src->addr)->sin_port;
		else
			((struct sockaddr_in6 *)&sa)->sin6_port =
				((const struct sockaddr_in6 *)&src->addr)->sin6_port;
	}
	return sip_sa_equal(&sa, &src->addr);
}

/*
 * Who is calling: a friend/user peer named by the From user (phones), or
 * else a type=peer/friend with a static host= at the source address
 * (trunks: chan_sip matches peers by IP).
 */
static const struct peer *caller_peer(const struct sip_msg *msg, const struct sip_src *src)
{
	const struct sipconf *sc = pbx_sipconf();
	struct peer *p = sipconf_peer(sc, &msg->from.uri.user);
	size_t i;

	if (p && p->type != PEER_PEER)
		return p;
	for (i = 0; i < sc->npeers; i++)
		if (sc->list[i]->type != PEER_USER && host_matches(sc->list[i], src))
			return sc->list[i];
	return NULL;
}

/* chan_sip's insecure=invite: INVITEs from this peer are not challenged. */
static bool insecure_invite(const struct peer *p)
{
	const char *insecure = conf_get(p->sec, "insecure");
	return insecure && strstr(insecure, "invite");
}

/* callerid=Name <number> (chan_sip): name and number, the peer's name
 * standing in for whichever is missing. */
/*
 * Caller id as chan_sip sets it: the From header's display name and user,
 * each replaced by the peer's callerid= part when that part is set (a
 * phone's callerid="Reception" <200>, a trunk usually has none, so the
 * provider's From number shows). The peer's name when all are empty.
 */
static void callerid_parse(const struct peer *p, const struct sip_addr *from,
			   char *name, size_t nsize, char *num, size_t numsize)
{
	const char *cid = p->callerid ? p->callerid : "", *lt = strchr(cid, '<');
	size_t nl = lt ? (size_t)(lt - cid) : strlen(cid);
	struct pl dn = from->dname;

	while (nl && (cid[nl - 1] == ' ' || cid[nl - 1] == '"'))
		nl--;
	while (nl && (*cid == ' ' || *cid == '"')) {
		cid++;
		nl--;
	}
	if (dn.l >= 2 && dn.p[0] == '"' && dn.p[dn.l - 1] == '"') {
		dn.p++;
		dn.l -= 2;
	}
	if (nl)
		snprintf(name, nsize, "%.*s", (int)nl, cid);
	else if (dn.l)
		snprintf(name, nsize, "%.*s", (int)dn.l, dn.p);
	else if (from->uri.user.l)
		snprintf(name, nsize, "%.*s", (int)from->uri.user.l, from->uri.user.p);
	else
		snprintf(name, nsize, "%s", p->name);
	if (lt && strchr(lt, '>') && strchr(lt, '>') > lt + 1)
		snprintf(num, numsize, "%.*s", (int)(strchr(lt, '>') - lt - 1), lt + 1);
	else if (from->uri.user.l)
		snprintf(num, numsize, "%.*s", (int)from->uri.user.l, from->uri.user.p);
	else
		snprintf(num, numsize, "%s", p->name);
}

/* The INVITE challenge (chan_sip answers INVITEs with 407). */
static void challenge_407(struct sip_strans *st, const char *realm, bool stale)
{
	char hdrs[1024];

	if (auth_challenge(hdrs, sizeof(hdrs), "Proxy-Authenticate", realm, stale) < 0)
		sip_strans_reply(st, 500, NULL, NULL, NULL, NULL, 0);
	else
		sip_strans_reply(st, 407, NULL, hdrs, NULL, NULL, 0);
}

static bool caller_auth(struct sip_strans *st, const struct sip_msg *msg,
			const struct sip_src *src, const struct peer *p)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_PROXY_AUTHORIZATION);
	const char *realm = pbx_sipconf()->gen.realm;
	char a[80], u[128];
	struct sip_auth cred;
	enum auth_result r = AUTH_FAIL;

	if (!acl_permits(p->ha, &src->addr))
		goto challenge;
	if (!p->secret)
		return true;
	if (!h) {
		r = AUTH_STALE;   /* first attempt: a plain challenge, not a failure */
		goto challenge;
	}
	memset(&cred, 0, sizeof(cred));
	if (sip_auth_decode(&cred, &h->val) == 0) {
		if (!pl_strcmp(&cred.username, p->name) ||
		    (p->defaultuser && !pl_strcmp(&cred.username, p->defaultuser)))
			r = auth_verify(&cred, &msg->met, realm, p->secret);
		else
			r = auth_verify(&cred, &msg->met, realm, NULL);
	}
	if (r == AUTH_OK)
		return true;
challenge:
	if (r != AUTH_STALE) {   /* an expired nonce is routine, not an attack */
		sip_sa_str(&src->addr, a, sizeof(a));
		pl_strcpy(&msg->from.uri.user, u, sizeof(u));
		log_security("auth_failed", a, u,
			     "wrong password or address not permitted (INVITE)");
	}
	challenge_407(st, realm, r == AUTH_STALE && h);
	return false;
}

static void unknown_caller(struct sip_strans *st, const struct sip_msg *msg,
			   const struct sip_src *src)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_PROXY_AUTHORIZATION);
	const char *realm = pbx_sipconf()->gen.realm;
	char a[80], u[128];
	struct sip_auth cred;

	if (h) {
		memset(&cred, 0, sizeof(cred));
		if (sip_auth_decode(&cred, &h->val) == 0)
			auth_verify(&cred, &msg->met, realm, NULL);   /* same work */
		sip_sa_str(&src->addr, a, sizeof(a));
		pl_strcpy(&msg->from.uri.user, u, sizeof(u));
		log_security("auth_failed", a, u, "unknown user (INVITE)");
	}
	challenge_407(st, realm, false);
}

void call_incoming(struct sip_strans *st, const struct sip_msg *msg,
		   const struct sip_src *src)
{
	const struct peer *p = caller_peer(msg, src);
	struct call *c;
	char contact[128];
	int status;

	if (!p) {
		/* chan_sip's alwaysauthreject: an unknown caller is challenged
		 * exactly like a known one with a wrong password */
		unknown_caller(st, msg, src);
		return;
	}
	if (!insecure_invite(p) && !caller_auth(st, msg, src, p))
		return;
	if (p->call_limit >= 0 && peer_calls(p->name) >= p->call_limit) {
		log_notice("%s is at its call-limit (%d): 480", p->name, p->call_limit);
		sip_strans_reply(st, 480, "Call Limit Reached", NULL, NULL, NULL, 0);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		sip_strans_reply(st, 500, NULL, NULL, NULL, NULL, 0);
		return;
	}
	c->id = next_id++;
	c->st = mem_ref(st);
	c->asrc = *src;
	c->start = time(NULL);
	tmr_init(&c->dial_tmr);
	tmr_init(&c->retx.tmr);
	tmr_init(&c->wait_tmr);
	tmr_init(&c->snap_tmr);
	snprintf(c->caller, sizeof(c->caller), "%s", p->name);
	callerid_parse(p, &msg->from, c->cidname, sizeof(c->cidname), c->cidnum,
		       sizeof(c->cidnum));
	snprintf(c->callerid, sizeof(c->callerid), "\"%s\"", c->cidname);
	/* the DID: the Request-URI's user, else the To user (some providers) */
	pl_strcpy(pl_isset(&msg->ruri.user) ? &msg->ruri.user : &msg->to.uri.user,
		  c->exten, sizeof(c->exten));
	snprintf(c->context, sizeof(c->context), "%s", p->context ? p->context : "default");
	snprintf(c->channel, sizeof(c->channel), "SIP/%s-%08x", p->name, ++chan_seq);
	if (msg->body.l) {
		c->offer = malloc(msg->body.l);
		if (c->offer) {
			memcpy(c->offer, msg->body.p, msg->body.l);
			c->offerlen = msg->body.l;
		}
	}
	contact_of(src, contact, sizeof(contact));
	if (sip_dialog_uas(&c->adlg, msg, src, sip_strans_totag(st), contact, c) != 0) {
		sip_strans_reply(st, 400, "Bad Request (dialog)", NULL, NULL, NULL, 0);
		mem_deref(c->st);
		free(c->offer);
		free(c);
		return;
	}
	char clid[200];
	snprintf(clid, sizeof(clid), "\"%s\" <%s>", c->cidname, c->cidnum);
	struct cdr_start cs = { .clid = clid, .src = c->cidnum, .dst = c->exten,
				.dcontext = c->context, .channel = c->channel };
	if (cdr_open(&c->cdr, &cs) != 0)
		log_warn("call %u: no call record could be opened", c->id);
	c->next = calls;
	calls = c;
	calls_started++;
	presence_device_changed(c->caller);   /* BLF: the caller is in use */
	log_info("call %u: %s -> %s@%s", c->id, c->caller, c->exten, c->context);
	uint32_t id = c->id;
	snprintf(c->apeer_name, sizeof(c->apeer_name), "%s", p->name);
	status = call_media_setup(c, msg);
	if (!status)
		status = route ? route(c, c->context, c->exten) : call_dp_start(c);
	if (status && call_find(id))
		call_end(c, (uint16_t)status);
}

/* ---------------------------------------------------- in-dialog requests */

static struct call *call_of_dialog(struct sip_dialog *d, struct sip_dialog **other)
{
	struct call *c;
	unsigned i;

	for (c = calls; c; c = c->next) {
		if (c->adlg == d) {
			*other = c->bridged ? c->bridged->dlg : NULL;
			return c;
		}
		for (i = 0; i < c->nlegs; i++)
			if (c->legs[i]->dlg == d) {
				*other = c->bridged == c->legs[i] ? c->adlg : NULL;
				return c;
			}
	}
	return NULL;
}

static void relay_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct relay_req *rr = arg;
	uint16_t code = err ? 408 : msg->scode;

	if (!err && msg->scode < 200)
		return;
	if (!err && rr->invite && msg->scode < 300)
		sip_dialog_ack(rr->to, msg->cseq.num, NULL, NULL, 0);
	char extra[300] = "", sdp[2048];
	size_t sdplen = 0;
	if (rr->from && code >= 200 && code < 300)   /* 12.1.1: a 2xx carries our Contact */
		snprintf(extra, sizeof(extra), "Contact: <%s>\r\n", rr->from->contact);
	if (!err && rr->media && code >= 200 && code < 300 &&
	    call_media_reanswer(rr->call, rr->from == rr->call->adlg, msg, sdp, sizeof(sdp),
				&sdplen) == 0)
		sip_strans_reply(rr->st, code, NULL, extra, "application/sdp", sdp, sdplen);
	else if (!err && msg->body.l && !rr->media)
		sip_strans_reply(rr->st, code, NULL, extra, "application/sdp", msg->body.p,
				 msg->body.l);
	else
		sip_strans_reply(rr->st, code, NULL, extra, NULL, NULL, 0);
	if (rr->invite && code >= 200 && code < 300)
		call_survive_snap(rr->call);   /* new target, new media */
	mem_deref(rr->st);
	free(rr);
}

static void cancel_incoming(struct sip_strans *st, const struct sip_msg *msg,
			    const struct sip_src *src)
{
	struct sip_strans *inv = sip_strans_find_invite(msg, src);
	struct call *c;

	for (c = calls; c && (!inv || c->st != inv); c = c->next)
		;
	if (!c) {
		sip_strans_reply(st, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	sip_strans_set_totag(st, sip_strans_totag(c->st));   /* 9.2: same To tag */
	sip_strans_reply(st, 200, NULL, NULL, NULL, NULL, 0);
	if (c->state != CALL_UP) {
		log_info("call %u: cancelled by the caller", c->id);
		call_end(c, 487);
	}
}

bool call_in_dialog(struct sip_strans *st, const struct sip_msg *msg,
		    const struct sip_src *src)
{
	struct sip_dialog *d, *other = NULL;
	struct call *c;

	if (sip_met_is(&msg->met, "CANCEL")) {
		cancel_incoming(st, msg, src);
		return true;
	}
	d = sip_dialog_find(msg);
	if (!d || !(c = call_of_dialog(d, &other))) {
		sip_strans_reply(st, 481, NULL, NULL, NULL, NULL, 0);
		return true;
	}
	if (!sip_dialog_rseq_ok(d, msg)) {
		sip_strans_reply(st, 500, "Out of order CSeq", NULL, NULL, NULL, 0);
		return true;
	}
	if (sip_met_is(&msg->met, "BYE")) {
		presence_device_changed(NULL);   /* BLF: re-read once this BYE is handled */
		bye_ok(st);
		d->state = DIALOG_TERMINATED;
		if (d == c->adlg)
			c->answered = 0;       /* no BYE back to the caller */
		else if (c->bridged) {
			c->bridged->state = LEG_ENDED;
			call_monitor_unbridged(c);
		}
		log_info("call %u: BYE from the %s", c->id, d == c->adlg ? "caller" : "callee");
		if (d != c->adlg && c->dp_waiting_dial) {
			/* Dial returns ANSWER; without option g the dialplan ends
			 * and the caller gets its BYE from call_end() */
			call_dp_dial_done(c, "ANSWER");
			return true;
		}
		if (d != c->adlg && c->adlg) {
			sip_dialog_request(c->adlg, "BYE", NULL, NULL, NULL, 0, bye_resp, NULL, NULL);
			c->answered = 0;
		}
		call_end(c, 0);
		return true;
	}
	if (!other) {
		sip_strans_reply(st, 491, NULL, NULL, NULL, NULL, 0);
		return true;
	}
	/* re-INVITE (hold, codec change), INFO, UPDATE: pass across */
	struct relay_req *rr = calloc(1, sizeof(*rr));
	if (!rr) {
		sip_strans_reply(st, 500, NULL, NULL, NULL, NULL, 0);
		return true;
	}
	rr->call = c;
	rr->st = mem_ref(st);
	rr->to = other;
	rr->from = d;
	rr->invite = sip_met_is(&msg->met, "INVITE");
	if (rr->invite)
		sip_dialog_update_target(d, msg);
	char met[16];
	const struct sip_hdr *ct = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	char ctype[96] = "";
	if (ct)
		pl_strcpy(&ct->val, ctype, sizeof(ctype));
	pl_strcpy(&msg->met, met, sizeof(met));
	const char *body = msg->body.p;
	size_t blen = msg->body.l;
	char sdp[2048];
	if (rr->invite && c->relay && msg->body.l) {
		if (call_media_reoffer(c, d == c->adlg, msg, sdp, sizeof(sdp), &blen) != 0) {
			sip_strans_reply(st, 488, NULL, NULL, NULL, NULL, 0);
			mem_deref(rr->st);
			free(rr);
			return true;
		}
		body = sdp;
		rr->media = true;
	}
	if (sip_dialog_request(other, met, NULL, ctype[0] ? ctype : NULL, body,
			       blen, relay_resp, rr, NULL) != 0) {
		sip_strans_reply(st, 500, NULL, NULL, NULL, NULL, 0);
		mem_deref(rr->st);
		free(rr);
	}
	return true;
}

void call_ack(const struct sip_msg *msg, const struct sip_src *src)
{
	struct sip_dialog *d = sip_dialog_find(msg), *other = NULL;
	struct call *c;

	(void)src;
	if (!d || !(c = call_of_dialog(d, &other)))
		return;
	if (d != c->adlg) {
		/* a picker's ACK to our 200 (call_pickup.c) */
		for (unsigned i = 0; i < c->nlegs; i++)
			if (c->legs[i]->dlg == d && c->legs[i]->retx.st)
				call_retx_ack(&c->legs[i]->retx);
		return;
	}
	if (call_retx_ack(&c->retx)) {
		if (call_media_ack(c, msg) != 0) {
			/* our 200 held an offer and the ACK, which must hold the
			 * answer (RFC 3261 13.2.1), has none we can use: the
			 * offer/answer exchange cannot complete, so BYE */
			log_notice("call %u: the caller's ACK has no usable SDP answer to our "
				   "offer: BYE", c->id);
			call_end(c, 0);
		}
	}
}

/* --------------------------------------------------------------- admin */

int call_hangup_id(uint32_t id)
{
	struct call *c;

	for (c = calls; c; c = c->next)
		if (c->id == id) {
			log_notice("call %u hung up by the administrator", id);
			call_end(c, 480);
			return 0;
		}
	return ENOENT;
}

json_t *call_json(void)
{
	json_t *arr = json_array();
	struct call *c;

	for (c = calls; c; c = c->next) {
		json_t *legs = json_array();
		unsigned i;
		for (i = 0; i < c->nlegs; i++)
			json_array_append_new(legs, json_pack("{s:s, s:s, s:b}",
				"channel", c->legs[i]->channel, "peer", c->legs[i]->peer,
				"bridged", c->bridged == c->legs[i]));
		json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:b}",
			"id", (int)c->id, "state", call_state_name(c->state),
			"channel", c->channel, "caller", c->caller, "exten", c->exten,
			"context", c->context, "duration", (json_int_t)(time(NULL) - c->start),
			"billsec", (json_int_t)(c->answered ? time(NULL) - c->answered : 0),
			"legs", legs, "media", call_media_json(c),
			"restored", c->restored));
	}
	return json_pack("{s:o}", "calls", arr);
}

/* ---------------------------------------------------------------- init */

int call_init(call_router_h *router)
{
	route = router;
	call_survive_init();
	return sip_dialog_init();
}

void call_close(void)
{
	while (calls)
		call_end(calls, 503);
	call_survive_close();   /* a standby's snapshots */
	sip_dialog_close();
}
