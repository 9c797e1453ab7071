/**
 * @file call_survive.c  Calls that survive a failover (docs/design/
 * cluster.md 9, first step: an answered call bridged between two SIP
 * legs over UDP).
 *
 * The active journals a CALL_SNAP (call_codec.c) when such a call is
 * bridged, again when a re-INVITE through it is answered and when its
 * relay changed in a way that matters (a leg latched, the first packet
 * sent toward a leg: looked at once a second, never per packet), and a
 * CALL_END when it goes. They ride in the turn like every entry but
 * confirm nothing and nothing waits for them: a call bridged in the last
 * turn before a crash is lost (cut, as before). A standby that comes
 * into sync (after a full or partial resync, call_survive_resnap()) gets
 * every live call's snapshot again within a second, bridged or in setup:
 * a call answered or ringing before it (re)joined survives (or is told)
 * too.
 *
 * The standby keeps the last snapshot of each call in memory (the TLV
 * bytes, keyed by the call's uniqueid); CALL_END drops it. On promotion
 * (ha_restore, P_RESTORE) each one whose record is still in the
 * replicated table of calls up (cdr_open: proof it had not ended, also
 * after a resync) is rebuilt: both dialogs back in the table (lseq +
 * 1000, RFC 3261 12.2.1.1), the relay on the same ports with the latched
 * addresses and each stream's SSRC carried on (rtp_snap.c), the CDR live
 * again with its uniqueid and times. cdr_open_cut() then cuts only the
 * others. A restored call has no dialplan: it ends when either side
 * hangs up (no h extension), or by rtptimeout, counted from when a leg
 * went silent if the snapshot says it was (timeout_carry). Tandem has no
 * absolute call limit (Dial's L/S are ignored, TIMEOUT(absolute) reads
 * 0) and Dial's timeout ends with the setup: no other timer to carry.
 *
 * Calls in setup (the caller got a provisional, callee legs out) are
 * journaled too (call_survive_setup, call_setup_codec.c): at promotion
 * the caller's INVITE gets 500 with Retry-After from a server
 * transaction that looks like the original, each leg that rang a CANCEL
 * (setup_end); their records are cut as before.
 *
 * Not carried: calls in a prompt, voicemail or queue, calls with a TCP
 * leg (the connection is gone), transactions in flight.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ha/ha.h"
#include "ha/turn.h"
#include "pbx/call_codec.h"
#include "pbx/call_int.h"
#include "pbx/call_survive.h"

#define LSEQ_JUMP 1000      /* design 9: no unsnapshotted CSeq repeats */
#define LOOK_MS   1000      /* how often a bridged call's relay is looked at */

static uint32_t gen = 1;    /* bumped when a standby comes into sync */

/* ------------------------------------------------------------ active */

static bool survivable(const struct call *c)
{
	return c->state == CALL_UP && c->bridged && c->bridged->state == LEG_UP &&
	       c->bridged->dlg && c->adlg && c->relay && c->cdr && c->answered &&
	       c->asrc.tp == SIP_TRANSP_UDP && c->bridged->dst.tp == SIP_TRANSP_UDP &&
	       !c->ending;
}

static void fill(struct call_snap *s, const struct call *c)
{
	const struct leg *l = c->bridged;

	memset(s, 0, sizeof(*s));
	s->taken_ms = loop_wall_ms();
#define CP(dst, src) snprintf(dst, sizeof(dst), "%s", src)
	CP(s->caller, c->caller);
	CP(s->callerid, c->callerid);
	CP(s->exten, c->exten);
	CP(s->context, c->context);
	CP(s->cidname, c->cidname);
	CP(s->cidnum, c->cidnum);
	CP(s->channel, c->channel);
	CP(s->apeer, c->apeer_name);
	CP(s->bpeer, c->bpeer_name);
	CP(s->b.peer, l->peer);
	CP(s->b.channel, l->channel);
	CP(s->b.callid, l->callid);
#undef CP
	s->start = c->start;
	s->answered = c->answered;
	s->asrc = c->asrc;
	s->a_cap = c->a_cap;
	s->b_off = c->b_off;
	s->b_neg = c->b_neg;
	s->a_origin = c->a_origin;
	s->b_origin = c->b_origin;
	s->adlg = c->adlg;              /* borrowed: not cleared */
	s->b.dlg = l->dlg;
	s->b.from_hdr = l->from_hdr;
	s->b.ruri = l->ruri;
	s->b.cseq = l->cseq;
	s->b.dst = l->dst;
	s->b.status = l->status;
	rtp_relay_snap(c->relay, RTP_LEG_A, &s->rtp[0]);
	rtp_relay_snap(c->relay, RTP_LEG_B, &s->rtp[1]);
	s->cdr = *cdr_record(c->cdr);
}

/* What makes a new snapshot worth it: latching, the streams' start, a leg
 * going silent (RTP_SILENT_MS: its rtptimeout's start) or sending again. */
static bool rtp_changed(const struct rtp_leg_snap *a, const struct rtp_leg_snap *b)
{
	return a->latched != b->latched || a->out_init != b->out_init ||
	       a->out_ssrc != b->out_ssrc || !a->rx_wall_ms != !b->rx_wall_ms ||
	       memcmp(&a->src_rtp, &b->src_rtp, sizeof(a->src_rtp));
}

/* Journal b, the encoding of c's snapshot what (encode_err: how encoding
 * went), as a CALL_SNAP keyed by uniqueid; 0, or the error, logged. */
static int journal(const struct call *c, const char *what, int encode_err,
		   const char *uniqueid, int64_t taken_ms, const struct jnl_wbuf *b)
{
	struct jnl_entry e = { .type = JNL_CALL_SNAP, .ts_us = taken_ms * 1000 };
	int err;

	if (encode_err) {
		log_warn("call %u: %s for the standby not written: %s", c->id, what,
			 strerror(encode_err));
		return encode_err;
	}
	e.u.call = (struct jnl_call){ jnl_pl(uniqueid), 1, pl_of((const char *)b->p, b->len) };
	if ((err = ha_write(&e)))
		log_warn("call %u: %s for the standby not journaled: %s", c->id, what,
			 strerror(err));
	return err;
}

static void look(void *arg);

static void emit(struct call *c)
{
	static struct jnl_wbuf b;
	struct call_snap s;

	fill(&s, c);
	b.len = 0;
	if (journal(c, "snapshot", call_snap_encode(&b, &s), s.cdr.uniqueid, s.taken_ms, &b))
		return;
	c->snapped = true;
	c->snap_gen = gen;
	c->snap_rtp[0] = s.rtp[0];
	c->snap_rtp[1] = s.rtp[1];
	log_debug("call %u: snapshot %s (%zu bytes)", c->id, s.cdr.uniqueid, b.len);
}

static void look(void *arg)
{
	struct call *c = arg;
	struct rtp_leg_snap a, b;

	if (!survivable(c) || !ha_recording() || !ha_serving())
		return;
	rtp_relay_snap(c->relay, RTP_LEG_A, &a);
	rtp_relay_snap(c->relay, RTP_LEG_B, &b);
	if (!c->snapped || c->snap_gen != gen || rtp_changed(&a, &c->snap_rtp[0]) || rtp_changed(&b, &c->snap_rtp[1]))
		emit(c);
	tmr_start(&c->snap_tmr, LOOK_MS, look, c);
}

/* CALL_END: the standby drops what it holds of c (cut at a failover). */
static void end_entry(struct call *c)
{
	struct jnl_entry e = { .type = JNL_CALL_END, .ts_us = (int64_t)time(NULL) * 1000000 };

	e.u.call.call_key = jnl_pl(cdr_uniqueid(c->cdr));
	if (ha_write(&e))
		log_warn("call %u: its end not journaled for the standby", c->id);
	c->snapped = c->snapped_setup = false;
}

void call_survive_snap(struct call *c)
{
	if (!ha_jnl() || !ha_recording() || !ha_serving())
		return;
	if (!survivable(c)) {
		if (c->snapped_setup && c->cdr)
			end_entry(c);   /* answered but not carried: no setup snapshot left */
		return;
	}
	c->snapped_setup = false;
	emit(c);
	tmr_start(&c->snap_tmr, LOOK_MS, look, c);
}

void call_survive_resnap(void)
{
	gen++;
}

void call_survive_end(struct call *c)
{
	tmr_cancel(&c->snap_tmr);
	if (!c->snapped || !ha_recording() || !ha_serving() || !c->cdr)
		return;       /* handed over (not serving): the standby's journal is the active's */
	end_entry(c);
}

/* ------------------------------------------------------ calls in setup */

/*
 * A call in setup: the caller's INVITE (UDP, a provisional sent, no final)
 * and each callee leg that rang (UDP, its INVITE transaction in
 * Proceeding). Journaled when a leg goes out and when each leg first
 * rings; the bridged snapshot (same key) or CALL_END replace it.
 */
static bool in_setup(const struct call *c)
{
	return c->st && c->cdr && !c->answered && !c->ending && c->asrc.tp == SIP_TRANSP_UDP &&
	       (c->state == CALL_DIALING || c->state == CALL_RINGING) &&
	       sip_strans_state(c->st) == STRANS_PROCEEDING;
}

static void setup_look(void *arg);

void call_survive_setup(struct call *c)
{
	static struct jnl_wbuf b;
	struct call_setup_snap s;
	struct sip_msg inv;

	if (!ha_jnl() || !ha_recording() || !ha_serving() || !in_setup(c) ||
	    sip_strans_request(c->st, &inv))
		return;
	memset(&s, 0, sizeof(s));
	s.taken_ms = loop_wall_ms();
	snprintf(s.uniqueid, sizeof(s.uniqueid), "%s", cdr_uniqueid(c->cdr));
	snprintf(s.caller, sizeof(s.caller), "%s", c->caller);
	snprintf(s.exten, sizeof(s.exten), "%s", c->exten);
	snprintf(s.totag, sizeof(s.totag), "%s", sip_strans_totag(c->st));
	s.inv = (char *)inv.buf;      /* borrowed: not cleared */
	s.invlen = inv.len;
	s.asrc = c->asrc;
	for (unsigned i = 0; i < c->nlegs && s.nlegs < CALL_SETUP_LEGS; i++) {
		const struct leg *l = c->legs[i];

		if (l->state != LEG_RINGING || !l->ct || l->dst.tp != SIP_TRANSP_UDP ||
		    sip_ctrans_state(l->ct) != CTRANS_PROCEEDING)
			continue;
		s.legs[s.nlegs].inv = (char *)sip_ctrans_req(l->ct, &s.legs[s.nlegs].invlen);
		s.legs[s.nlegs++].dst = l->dst;
	}
	b.len = 0;
	if (journal(c, "setup snapshot", call_setup_encode(&b, &s), s.uniqueid, s.taken_ms, &b))
		return;
	c->snapped = c->snapped_setup = true;
	c->snap_gen = gen;
	tmr_start(&c->snap_tmr, LOOK_MS, setup_look, c);
	log_debug("call %u: setup snapshot %s, %u legs ringing (%zu bytes)", c->id,
		  s.uniqueid, s.nlegs, b.len);
}

/* Once a second while a journaled call is in setup: a standby that came
 * into sync since (gen bumped) gets its setup snapshot again. Nothing is
 * written otherwise. */
static void setup_look(void *arg)
{
	struct call *c = arg;

	if (!c->snapped_setup || !in_setup(c) || !ha_recording() || !ha_serving())
		return;
	if (c->snap_gen != gen)
		call_survive_setup(c);      /* re-arms the look */
	else
		tmr_start(&c->snap_tmr, LOOK_MS, setup_look, c);
}

void call_survive_setup_over(struct call *c)
{
	if (c->snapped_setup && c->cdr && ha_recording() && ha_serving())
		end_entry(c);
}

/* A node that stops serving (demoted by a planned switchover, fenced
 * after a hang) still holds the calls it served: the other node restored
 * them (or cut them). Dropping them silently keeps this one from hanging
 * them up later (rtptimeout, BYE) or writing their records twice. */
static void role_h(enum ha_role from, enum ha_role to, void *arg)
{
	size_t n;

	(void)arg;
	if (from != HA_ROLE_ACTIVE || to == HA_ROLE_ACTIVE || !call_list())
		return;
	n = call_handover_all();
	log_notice("cluster: %zu calls handed over: this node no longer serves (%s)", n,
		   ha_role_name(to));
}

void call_survive_init(void)
{
	static bool watching;

	if (!watching && !ha_role_watch(role_h, NULL))
		watching = true;
}

/* ------------------------------------------------------------ standby */

struct held {
	char key[CDR_ID];
	uint8_t *tlv;
	size_t len;
};

static struct held *held;
static size_t nheld, capheld;

static struct held *held_find(const struct pl *key)
{
	for (size_t i = 0; i < nheld; i++)
		if (!pl_strcmp(key, held[i].key))
			return &held[i];
	return NULL;
}

static void held_drop(struct held *h)
{
	free(h->tlv);
	*h = held[--nheld];
}

size_t call_survive_held(void)
{
	return nheld;
}

int call_survive_apply(const struct jnl_entry *e)
{
	const struct jnl_call *j = &e->u.call;
	struct held *h = held_find(&j->call_key);
	uint8_t *copy;

	if (e->type == JNL_CALL_END) {
		if (h)
			held_drop(h);
		return 0;
	}
	if (j->call_key.l >= CDR_ID)
		return 0;       /* not one of ours: a uniqueid is shorter */
	if (!(copy = malloc(j->tlv.l ? j->tlv.l : 1)))
		return ENOMEM;
	if (j->tlv.l)
		memcpy(copy, j->tlv.p, j->tlv.l);
	if (!h) {
		if (nheld == capheld) {
			size_t n = capheld ? capheld * 2 : 16;
			struct held *p = realloc(held, n * sizeof(*p));
			if (!p) {
				free(copy);
				return ENOMEM;
			}
			held = p;
			capheld = n;
		}
		h = &held[nheld++];
		memset(h, 0, sizeof(*h));
		memcpy(h->key, j->call_key.p, j->call_key.l);
	}
	free(h->tlv);
	h->tlv = copy;
	h->len = j->tlv.l;
	return 0;
}

void call_survive_forget(void)
{
	while (nheld)
		held_drop(&held[nheld - 1]);
	free(held);
	held = NULL;
	capheld = 0;
}

/* ------------------------------------------------------------ promotion */

static struct leg *leg_from(struct call *c, struct call_snap *s)
{
	struct leg *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->call = c;
	l->state = LEG_UP;
	snprintf(l->peer, sizeof(l->peer), "%s", s->b.peer);
	snprintf(l->channel, sizeof(l->channel), "%s", s->b.channel);
	snprintf(l->callid, sizeof(l->callid), "%s", s->b.callid);
	l->from_hdr = s->b.from_hdr;
	l->ruri = s->b.ruri;
	s->b.from_hdr = s->b.ruri = NULL;
	l->cseq = s->b.cseq;
	l->dst = s->b.dst;
	l->status = s->b.status;
	tmr_init(&l->retx.tmr);
	return l;
}

/* Free a call that could not be restored completely (nothing sent). */
static void unbuild(struct call *c)
{
	if (c->bridged) {
		sip_dialog_free(c->bridged->dlg);
		free(c->bridged->from_hdr);
		free(c->bridged->ruri);
		free(c->bridged);
	}
	sip_dialog_free(c->adlg);
	if (c->relay)
		rtp_relay_free(c->relay);
	free(c);      /* its row stays in cdr_open: cdr_open_cut() ends it */
}

/*
 * rtptimeout as a wall-clock deadline (design 9): a leg silent in the
 * snapshot has been silent since its rx_wall_ms, so the timeout counts
 * from then; one already past fires within SPREAD_MS, calls spread over
 * it by their order. Legs that were sending count from now.
 */
#define SPREAD_MS 100

static void timeout_carry(struct call *c, const struct call_snap *s, size_t nth)
{
	int64_t now, since = 0;

	for (int i = 0; i < 2; i++)
		if (s->rtp[i].rx_wall_ms && (!since || s->rtp[i].rx_wall_ms < since))
			since = s->rtp[i].rx_wall_ms;
	if (!since)
		return;
	now = loop_wall_ms();
	if (since > now || now - since > 86400000)
		return;        /* clocks disagree: counted from now */
	rtp_relay_timeout_since(c->relay, (uint64_t)(now - since), nth % 10 * (SPREAD_MS / 10));
	log_info("call %u: silent since %.1f s before the restore: rtptimeout counts from then",
		 c->id, (double)(now - since) / 1000);
}

static int restore_one(struct call_snap *s, size_t nth)
{
	struct call *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return ENOMEM;
	tmr_init(&c->dial_tmr);
	tmr_init(&c->retx.tmr);
	tmr_init(&c->wait_tmr);
	tmr_init(&c->snap_tmr);
	c->state = CALL_UP;
	c->restored = true;
	memcpy(c->caller, s->caller, sizeof(c->caller));
	memcpy(c->callerid, s->callerid, sizeof(c->callerid));
	memcpy(c->exten, s->exten, sizeof(c->exten));
	memcpy(c->context, s->context, sizeof(c->context));
	memcpy(c->cidname, s->cidname, sizeof(c->cidname));
	memcpy(c->cidnum, s->cidnum, sizeof(c->cidnum));
	memcpy(c->channel, s->channel, sizeof(c->channel));
	memcpy(c->apeer_name, s->apeer, sizeof(c->apeer_name));
	memcpy(c->bpeer_name, s->bpeer, sizeof(c->bpeer_name));
	c->start = (time_t)s->start;
	c->answered = (time_t)s->answered;
	c->asrc = s->asrc;
	c->a_cap = s->a_cap;
	c->b_off = s->b_off;
	c->b_neg = s->b_neg;
	c->b_media = true;
	c->a_origin = s->a_origin;
	c->b_origin = s->b_origin;
	c->adlg = s->adlg;
	s->adlg = NULL;
	c->bridged = leg_from(c, s);
	if (!c->bridged) {
		err = ENOMEM;
		goto fail;
	}
	c->bridged->dlg = s->b.dlg;
	s->b.dlg = NULL;
	c->legs[0] = c->bridged;
	c->nlegs = 1;
	c->adlg->lseq += LSEQ_JUMP;
	c->bridged->dlg->lseq += LSEQ_JUMP;
	if ((err = sip_dialog_insert(c->adlg, c)) ||
	    (err = sip_dialog_insert(c->bridged->dlg, c->bridged)))
		goto fail;
	if ((err = rtp_relay_restore(&c->relay, s->rtp)))
		goto fail;
	if ((err = cdr_restore(&c->cdr, &s->cdr)))
		goto fail;
	call_adopt(c);
	call_media_up(c);    /* rtptimeout counts from now ... */
	timeout_carry(c, s, nth);   /* ... or from a silence before the failover */
	tmr_start(&c->snap_tmr, LOOK_MS, look, c);   /* journaled for a next standby */
	log_notice("call %u restored (%s, %s -> %s): RTP ports %u and %u", c->id,
		   s->cdr.uniqueid, c->caller, c->exten,
		   rtp_relay_port(c->relay, RTP_LEG_A), rtp_relay_port(c->relay, RTP_LEG_B));
	return 0;
fail:
	unbuild(c);
	return err;
}

/*
 * A call in setup at the failover: the caller's INVITE answered from the
 * snapshot with SETUP_STATUS and Retry-After, in a server transaction
 * that looks like the original one (same Via, To tag: RFC 3261 17.2.1)
 * and retransmits it until the ACK (timer G, H); each leg that rang gets
 * a CANCEL (9.1) in its INVITE transaction, taken over, which ACKs the
 * 487 and hangs up a 2xx. The record is not ours to end: cdr_open_cut()
 * ends it (NO ANSWER, cut by failover).
 */
#define SETUP_STATUS 500
#define SETUP_REASON "Server Failover"

static void setup_end(struct call_setup_snap *s)
{
	struct sip_strans *st;
	unsigned sent = 0;
	int err = sip_strans_restore(&st, s->inv, s->invlen, &s->asrc, s->totag);

	if (!err)
		err = sip_strans_reply(st, SETUP_STATUS, SETUP_REASON, "Retry-After: 5\r\n",
				       NULL, NULL, 0);
	for (unsigned i = 0; i < s->nlegs; i++) {
		int e = sip_ctrans_restore_cancel(&s->legs[i].dst, s->legs[i].inv,
						  s->legs[i].invlen);
		if (e)
			log_warn("call %s: leg %u not CANCELled: %s", s->uniqueid, i + 1,
				 strerror(e));
		else
			sent++;
	}
	if (err)
		log_warn("call %s (%s -> %s) in setup at the failover: no %u to the caller: "
			 "%s; CANCEL to %u of %u ringing legs", s->uniqueid, s->caller,
			 s->exten, SETUP_STATUS, strerror(err), sent, s->nlegs);
	else
		log_notice("call %s (%s -> %s) in setup at the failover: %u to the caller, "
			   "CANCEL to %u of %u ringing legs", s->uniqueid, s->caller, s->exten,
			   SETUP_STATUS, sent, s->nlegs);
}

/* Answered on the next loop turn, once this node is ACTIVE: requests
 * then leave from the floating address (sip_transp_set_source). */
static struct call_setup_snap *pending;
static size_t npending;
static struct tmr setup_tmr;

static void setup_run(void *arg)
{
	bool send = !arg;

	for (size_t i = 0; i < npending; i++) {
		if (send && ha_serving())
			setup_end(&pending[i]);
		call_setup_clear(&pending[i]);
	}
	free(pending);
	pending = NULL;
	npending = 0;
}

static void setup_later(struct call_setup_snap *s)
{
	struct call_setup_snap *p = realloc(pending, (npending + 1) * sizeof(*p));

	if (!p) {
		log_warn("call %s: in setup at the failover, not answered: %s", s->uniqueid,
			 strerror(ENOMEM));
		call_setup_clear(s);
		return;
	}
	pending = p;
	pending[npending++] = *s;     /* owns what s owned */
	memset(s, 0, sizeof(*s));
	if (npending == 1) {
		tmr_init(&setup_tmr);
		tmr_start(&setup_tmr, 0, setup_run, NULL);
	}
}

size_t call_survive_restore(void)
{
	size_t n = 0;

	for (size_t i = 0; i < nheld; i++) {
		struct call_snap s;
		struct call_setup_snap ss;
		struct pl tlv = pl_of((const char *)held[i].tlv, held[i].len);
		int err = call_setup_decode(&ss, tlv);

		if (!err) {
			if (cdr_store_call_open(ss.uniqueid))
				setup_later(&ss);
			call_setup_clear(&ss);
			continue;
		}
		if (err != ENOENT) {
			log_warn("call %s: its setup snapshot does not decode (%s): cut",
				 held[i].key, strerror(err));
			continue;
		}
		err = call_snap_decode(&s, tlv);

		if (err) {
			log_warn("call %s: its snapshot does not decode (%s): cut", held[i].key,
				 strerror(err));
			continue;
		}
		if (!cdr_store_call_open(s.cdr.uniqueid)) {
			log_info("call %s: ended before the failover (not in cdr_open): not "
				 "restored", s.cdr.uniqueid);
		} else if ((err = restore_one(&s, n))) {
			log_warn("call %s (%s -> %s): not restored (%s): cut", s.cdr.uniqueid,
				 s.caller, s.exten, strerror(err));
		} else {
			n++;
		}
		call_snap_clear(&s);
	}
	call_survive_forget();
	return n;
}

void call_survive_close(void)
{
	call_survive_forget();
	if (npending) {           /* shut down before the next turn: nothing sent */
		tmr_cancel(&setup_tmr);
		setup_run(&npending);
	}
}
