/**
 * @file call_pickup.c  Call pickup, as Asterisk 13's features and
 * app_directed_pickup.
 *
 * Group pickup: a phone dials the pickup extension (features.conf
 * [general] pickupexten, default *8), checked before the dialplan as
 * Asterisk does. The oldest call (by start) that Dial is ringing at a
 * peer whose callgroup= shares a bit with the dialler's pickupgroup= is
 * taken; none: 480 (Asterisk hangs the picker up).
 *
 * Directed pickup: Pickup(exten[@context][&...]) takes a call ringing
 * for exten in context (the context the picker is in when none is
 * given): a call whose caller dialled exten@context (Asterisk copies
 * them to Dial's outgoing channel), or a leg ringing the peer named
 * exten. PickupChan(SIP/peer[&...]) takes the leg whose channel name
 * starts with the argument. Groups are not checked (as Asterisk). No
 * target: a notice and the next priority.
 *
 * Taking a call: the picker's INVITE (a new call, not answered yet,
 * with an SDP offer) becomes an answered outgoing leg of the ringing
 * call. Its offer sets leg B of that call's relay and our answer goes
 * in the 200; the ringing legs are CANCELled; the caller is answered
 * (or, answered already, only the CDR's dstchannel changes). The
 * picker's own call then ends without a SIP message: its dialog now
 * belongs to the picked call. Its CDR is ANSWERED with the picked call's
 * channel as dstchannel. Our 200 to the picker is sent again until its
 * ACK, as the caller's (call_retx_start, RFC 3261 13.3.1.4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/mem.h"
#include "dialplan/exec.h"
#include "pbx/call_int.h"
#include "pbx/call_monitor.h"
#include "pbx/call_pickup.h"
#include "pbx/pbx.h"
#include "pbx/presence.h"
#include "pbx/registrar.h"

#define PICKUPEXTEN_DEFAULT "*8"

static char features_exten[64];   /* features.conf's, "" when unset */

/* ------------------------------------------------------------- finding */

static const struct peer *peer_named(const char *name)
{
	struct pl n = { name, strlen(name) };
	return sipconf_peer(pbx_sipconf(), &n);
}

static const char *pickupexten(void)
{
	const char *v;

	if (features_exten[0])
		return features_exten;
	v = conf_get(conf_section(pbx_sipconf()->conf, "general"), "pickupexten");
	return v && *v ? v : PICKUPEXTEN_DEFAULT;
}

/* A call Dial is still ringing, other than the picker's own. */
static bool pickable(const struct call *c, const struct call *picker)
{
	return c != picker && c->state != CALL_ENDED && c->state != CALL_UP &&
	       !c->bridged && c->dp_waiting_dial && c->relay && c->adlg;
}

static bool leg_ringing(const struct leg *l)
{
	return l->state == LEG_RINGING || l->state == LEG_INVITING;
}

/* match: does this ringing leg of c fit what the picker asked for? */
typedef bool (match_h)(const struct call *c, const struct leg *l, const void *arg);

/* The oldest pickable call with a ringing leg that matches. */
static struct call *find(const struct call *picker, match_h *m, const void *arg)
{
	struct call *c, *best = NULL;
	unsigned i;

	for (c = call_list(); c; c = c->next) {
		if (!pickable(c, picker))
			continue;
		for (i = 0; i < c->nlegs; i++)
			if (leg_ringing(c->legs[i]) && m(c, c->legs[i], arg))
				break;
		if (i < c->nlegs && (!best || c->start < best->start ||
				     (c->start == best->start && c->id < best->id)))
			best = c;
	}
	return best;
}

static bool match_group(const struct call *c, const struct leg *l, const void *arg)
{
	const struct peer *picker = arg, *p = peer_named(l->peer);

	(void)c;
	return p && (p->callgroup & picker->pickupgroup) != 0;
}

struct exten_ctx {
	const char *exten, *context;
};

static bool match_exten(const struct call *c, const struct leg *l, const void *arg)
{
	const struct exten_ctx *x = arg;

	return (!strcmp(c->exten, x->exten) && !strcmp(c->context, x->context)) ||
	       !strcmp(l->peer, x->exten);
}

static bool match_chan(const struct call *c, const struct leg *l, const void *arg)
{
	const char *name = arg;

	(void)c;
	return !strncasecmp(l->channel, name, strlen(name));
}

/* --------------------------------------------------------------- taking */

/* The picker's SDP into leg B of c's relay; our answer into buf. */
static int media_take(struct call *c, const struct call *picker, char *buf, size_t size,
		      size_t *len)
{
	struct sip_msg offer, none;
	char toward_a[2048];
	size_t alen = 0;
	int err;

	memset(&offer, 0, sizeof(offer));
	memset(&none, 0, sizeof(none));
	offer.body.p = picker->offer;
	offer.body.l = picker->offerlen;
	snprintf(c->bpeer_name, sizeof(c->bpeer_name), "%s", picker->caller);
	/* the picker's offer sets leg B (the offer toward A it also writes is
	 * not needed: A is answered from b_neg below) */
	err = call_media_reoffer(c, false, &offer, toward_a, sizeof(toward_a), &alen);
	if (err)
		return err;
	c->b_media = true;
	/* no answer body: only our answer on leg B is written */
	return call_media_reanswer(c, false, &none, buf, size, len);
}

static void cancel_ringing(struct call *c, const struct leg *keep)
{
	unsigned i;

	for (i = 0; i < c->nlegs; i++) {
		struct leg *o = c->legs[i];
		if (o != keep && o->state != LEG_ENDED && o->ct) {
			sip_ctrans_cancel(o->ct);   /* its 487 comes to leg_resp */
			o->state = LEG_ENDED;
		}
	}
}

/*
 * The picker's call p takes call c: p's dialog becomes c's answered leg.
 * 0 or errno (nothing changed toward the phones). p is left to be ended
 * by the caller of this function: it answers nobody any more.
 */
static int take(struct call *p, struct call *c)
{
	char sdp[2048], extra[256];
	size_t sdplen = 0;
	struct leg *l;
	int err;

	if (p->answered || p->late_offer || !p->offer || !p->adlg || !p->st) {
		log_notice("call %u: pickup needs an unanswered INVITE with SDP", p->id);
		return EINVAL;
	}
	if (c->nlegs >= MAX_LEGS)
		return ENOSPC;
	l = calloc(1, sizeof(*l));
	if (!l)
		return ENOMEM;
	call_play_dial_end(c);   /* Dial's m: the caller's music stops */
	err = media_take(c, p, sdp, sizeof(sdp), &sdplen);
	if (err) {
		log_notice("call %u: pickup of call %u: no common audio", p->id, c->id);
		free(l);
		return err;
	}
	l->call = c;
	l->state = LEG_UP;
	snprintf(l->peer, sizeof(l->peer), "%s", p->caller);
	snprintf(l->channel, sizeof(l->channel), "%s", p->channel);
	l->dst = p->asrc;
	l->dlg = p->adlg;
	p->adlg = NULL;
	l->dlg->owner = l;   /* as an outgoing leg's dialog */
	snprintf(extra, sizeof(extra), "Contact: <%s>\r\n", l->dlg->contact);
	sip_strans_reply(p->st, 200, NULL, extra, "application/sdp", sdp, sdplen);
	sip_dialog_confirm(l->dlg);
	call_retx_start(&l->retx, c, p->st, &l->dst);   /* until the picker's ACK */
	p->st = mem_deref(p->st);
	c->legs[c->nlegs++] = l;
	c->bridged = l;
	call_monitor_bridged(c);
	tmr_cancel(&c->dial_tmr);
	cancel_ringing(c, l);
	log_info("call %u: picked up by %s (call %u)", c->id, p->channel, p->id);
	call_answer_caller(c, NULL);   /* CDR: ANSWERED, dstchannel the picker */
	presence_device_changed(NULL);
	/* the picker's own record: answered, to the picked call */
	p->answered = time(NULL);
	p->state = CALL_UP;
	if (p->cdr) {
		cdr_set_app(p->cdr, "Pickup", c->channel);
		cdr_set_dstchannel(p->cdr, c->channel);
		cdr_answer(p->cdr);
		cdr_disposition(p->cdr, CDR_DISP_ANSWERED);
	}
	return 0;
}

int call_pickup_exten(struct call *c)
{
	const struct peer *me;
	struct call *t;

	if (strcmp(c->exten, pickupexten()))
		return -1;
	me = peer_named(c->caller);
	t = me && me->pickupgroup ? find(c, match_group, me) : NULL;
	if (!t) {
		log_notice("call %u: %s dialled %s: no call ringing in its pickup groups: 480",
			   c->id, c->caller, c->exten);
		return 480;
	}
	if (take(c, t) != 0)
		return 480;
	call_end(c, 0);
	return 0;
}

/* ---------------------------------------------------------- applications */

typedef struct call *(finder_h)(struct dp_chan *chan, struct call *p, const char *tok);

static struct call *find_exten(struct dp_chan *chan, struct call *p, const char *tok)
{
	char buf[160];
	char *at;
	struct exten_ctx x;

	snprintf(buf, sizeof(buf), "%s", tok);
	at = strchr(buf, '@');
	if (at)
		*at++ = '\0';
	x.exten = buf;
	x.context = at && *at ? at : dp_chan_context(chan);
	if (!x.context)
		x.context = p->context;
	return find(p, match_exten, &x);
}

static struct call *find_chan(struct dp_chan *chan, struct call *p, const char *tok)
{
	(void)chan;
	return find(p, match_chan, tok);
}

static enum dp_app_ret pickup_run(struct dp_chan *chan, const char *data, const char *app,
				  finder_h *f)
{
	struct call *p = dp_chan_call(chan), *t = NULL;
	char buf[512], *tok, *save = NULL;

	if (!p || !data || !*data) {
		log_warn("%s requires an argument (extension[@context][&...])", app);
		return DP_APP_NEXT;
	}
	snprintf(buf, sizeof(buf), "%s", data);
	for (tok = strtok_r(buf, "&", &save); tok && !t; tok = strtok_r(NULL, "&", &save))
		t = f(chan, p, tok);
	if (!t) {
		log_notice("call %u: %s(%s): no target ringing", p->id, app, data);
		return DP_APP_NEXT;
	}
	if (take(p, t) != 0)
		return DP_APP_NEXT;
	return DP_APP_HANGUP;   /* p's dialog now belongs to t: p ends quietly */
}

static enum dp_app_ret app_pickup(struct dp_chan *chan, const char *data)
{
	return pickup_run(chan, data, "Pickup", find_exten);
}

static enum dp_app_ret app_pickupchan(struct dp_chan *chan, const char *data)
{
	return pickup_run(chan, data, "PickupChan", find_chan);
}

/* ----------------------------------------------------------------- init */

void call_pickup_init(const char *confdir)
{
	struct conf *f = NULL;
	char err[256];
	const char *v;

	features_exten[0] = '\0';
	if (confdir && conf_load(&f, confdir, "features.conf", err, sizeof(err)) == 0 && f) {
		v = conf_get(conf_section(f, "general"), "pickupexten");
		if (v && *v)
			snprintf(features_exten, sizeof(features_exten), "%s", v);
		conf_free(f);
	}
	(void)dp_app_register("Pickup", app_pickup);
	(void)dp_app_register("PickupChan", app_pickupchan);
}
