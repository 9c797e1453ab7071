/**
 * @file presence.c  SUBSCRIBE/NOTIFY (RFC 6665) for busy lamps (dialog
 * event package, RFC 4235) and message waiting (message-summary, RFC 3842).
 *
 * One subscription is one SIP dialog (RFC 6665 4.1, 4.2), created by a
 * SUBSCRIBE without To tag and refreshed or ended by SUBSCRIBEs inside it:
 *
 *   SUBSCRIBE -> event known? (489) -> digest as for REGISTER (401) ->
 *   allowsubscribe (403) -> Expires: 0 < e < subminexpiry: 423; above
 *   submaxexpiry: capped -> target: a hint for the Request-URI user in the
 *   peer's subscribecontext (404), or the peer's mailbox= (404) ->
 *   200 OK with Expires -> NOTIFY with the full state at once (4.2.1.2).
 *
 *   ACTIVE --state changed--> NOTIFY (one in flight at a time; changes
 *           made meanwhile go in the next one, sent on its response)
 *   ACTIVE --refresh--> 200, new expiry, NOTIFY
 *   ACTIVE --Expires: 0 / expiry timer--> NOTIFY terminated;reason=timeout
 *   ACTIVE --hint removed (reload)--> NOTIFY terminated;reason=noresource
 *   ACTIVE --NOTIFY answered 481/408/... or timed out (Timer F)--> gone
 *           without NOTIFY (4.2.2; RFC 5057 for which codes end the usage)
 *
 * Device states come from the call layer (presence_usage_h) and the
 * registrar, aggregated per hint as Asterisk does, and shown as RFC 4235
 * dialog states per sip.conf's notifyringing (chan_sip's mapping: ringing
 * is "early", in use "confirmed", anything else "terminated").
 * presence_device_changed() only marks: a zero-delay timer brings the
 * subscriptions up to date once the event at hand (a SIP message, a
 * timer) has been handled, so the call layer's changes are complete.
 *
 * This file keeps the subscriptions and sends the NOTIFYs; SUBSCRIBE
 * requests are read in presence_subscribe.c, device states and the
 * dialog-info body are made in presence_dev.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "pbx/mwi.h"
#include "pbx/pbx.h"
#include "pbx/presence_int.h"
#include "pbx/registrar.h"   /* pbx_sipconf() */
#include "sip/dialog.h"

#define MAX_DIRTY 16

static struct hash subs;
static bool ready;
static struct tmr eval_tmr;
static char dirty[MAX_DIRTY][64];
static unsigned ndirty;
static bool dirty_all;

const char *presence_sub_state_name(enum presence_sub_state s)
{
	return s == PRESENCE_SUB_ACTIVE ? "Active" : s == PRESENCE_SUB_TERMINATED ?
	       "Terminated" : "?";
}

const char *presence_event_name(enum presence_event ev)
{
	return ev == PRESENCE_EV_DIALOG ? "dialog" : "message-summary";
}

/* ------------------------------------------------------- configuration */

static const struct conf_section *general(void)
{
	const struct sipconf *sc = pbx_sipconf();
	return sc ? conf_section(sc->conf, "general") : NULL;
}

/* A peer option, else [general]'s, else def. */
const char *presence_opt(const struct peer *p, const char *name, const char *def)
{
	const char *v = p ? conf_get(p->sec, name) : NULL;

	if (!v)
		v = conf_get(general(), name);
	return v ? v : def;
}

bool presence_opt_bool(const struct peer *p, const char *name, bool def)
{
	bool b;
	return conf_bool(presence_opt(p, name, def ? "yes" : "no"), &b) == 0 ? b : def;
}

/* chan_sip's notifyringing: 0 no, 1 yes (default), 2 notinuse. */
static int notifyringing(void)
{
	const char *v = presence_opt(NULL, "notifyringing", "yes");
	bool b;

	if (!strcasecmp(v, "notinuse"))
		return 2;
	return conf_bool(v, &b) == 0 && !b ? 0 : 1;
}

/* ------------------------------------------------------- subscriptions */

static uint32_t ptr_hash(const void *p)
{
	uint64_t v = (uint64_t)(uintptr_t)p;
	return (uint32_t)(v >> 4) ^ (uint32_t)(v >> 36);
}

static bool same_ptr(const void *obj, const void *arg)
{
	return obj == arg;
}

/* The subscription owning dialog d, or NULL (d may be a call's). */
struct presence_sub *presence_sub_of(const struct sip_dialog *d)
{
	return d ? hash_find(&subs, ptr_hash(d->owner), same_ptr, d->owner) : NULL;
}

static void sub_destroy(void *arg)
{
	struct presence_sub *s = arg;

	tmr_cancel(&s->expire);
	if (s->in_table)
		hash_del(&subs, &s->le);
	sip_dialog_free(s->dlg);
}

const char *presence_sub_target(const struct presence_sub *s, char *buf, size_t size)
{
	if (s->ev == PRESENCE_EV_DIALOG)
		snprintf(buf, size, "%s@%s", s->exten, s->context);
	else
		snprintf(buf, size, "%s", s->mailboxes);
	return buf;
}

/* What the subscription shows now; NULL when its hint is gone. */
static const char *dialog_now(const struct presence_sub *s)
{
	char buf[512];
	const char *hint = presence_hint_get(s->context, s->exten, buf, sizeof(buf));

	return hint ? presence_dialog_state(presence_hint_state(hint), notifyringing()) : NULL;
}

static void notify_resp(int err, const struct sip_msg *msg, void *arg);

/* Send a NOTIFY with the current state: active, or final with reason. */
static int notify_send(struct presence_sub *s, const char *reason)
{
	char extra[300], body[2048];
	const char *ctype = PRESENCE_CT_MWI;
	int n;

	if (s->ev == PRESENCE_EV_DIALOG) {
		const char *st = dialog_now(s);
		s->last_state = st ? st : "terminated";
		n = presence_dialog_info(body, sizeof(body), s->version++, s->entity, s->exten,
					 s->last_state);
		ctype = PRESENCE_CT_DIALOG;
	} else {
		if (mwi_counts_get(s->mailboxes, &s->last_mwi) != 0)
			memset(&s->last_mwi, 0, sizeof(s->last_mwi));
		n = mwi_body(body, sizeof(body), &s->last_mwi, s->account, s->buggymwi);
	}
	if (n < 0)
		return EMSGSIZE;
	s->force = false;
	if (reason) {
		snprintf(extra, sizeof(extra),
			 "Event: %s%s\r\nSubscription-State: terminated;reason=%s\r\n",
			 presence_event_name(s->ev), s->evparam, reason);
		return sip_dialog_request(s->dlg, "NOTIFY", extra, ctype, body, (size_t)n,
					  NULL, NULL, NULL);
	}
	uint64_t left = (tmr_left(&s->expire) + 999) / 1000;
	snprintf(extra, sizeof(extra),
		 "Event: %s%s\r\nSubscription-State: active;expires=%u\r\n",
		 presence_event_name(s->ev), s->evparam, (unsigned)left);
	int err = sip_dialog_request(s->dlg, "NOTIFY", extra, ctype, body, (size_t)n,
				     notify_resp, s, &s->ct);
	if (!err)
		mem_ref(s);   /* for notify_resp */
	return err;
}

static bool changed(struct presence_sub *s)
{
	if (s->force)
		return true;
	if (s->ev == PRESENCE_EV_DIALOG) {
		const char *st = dialog_now(s);
		return !st || !s->last_state || strcmp(st, s->last_state);
	}
	struct mwi_counts c;
	if (mwi_counts_get(s->mailboxes, &c) != 0)
		return false;
	return memcmp(&c, &s->last_mwi, sizeof(c)) != 0;
}

/* Bring the subscriber up to date (one NOTIFY in flight at a time). */
static void sub_update(struct presence_sub *s)
{
	int err;

	if (s->state != PRESENCE_SUB_ACTIVE || s->ct || !changed(s))
		return;
	if (s->ev == PRESENCE_EV_DIALOG && !dialog_now(s)) {
		log_info("presence: the hint of %s@%s is gone: %s's subscription ends",
			 s->exten, s->context, s->peer);
		presence_sub_end(s, "noresource");
		return;
	}
	err = notify_send(s, NULL);
	if (err) {
		log_notice("presence: NOTIFY to %s cannot be sent (%s): subscription ended",
			   s->peer, strerror(err));
		presence_sub_end(s, NULL);
	}
}

/* End s: a final NOTIFY when reason is set; s is released (callers that
 * still need it hold their own reference). */
void presence_sub_end(struct presence_sub *s, const char *reason)
{
	char t[300];

	if (s->state == PRESENCE_SUB_TERMINATED)
		return;
	s->state = PRESENCE_SUB_TERMINATED;
	tmr_cancel(&s->expire);
	if (s->ct) {
		sip_ctrans_abandon(s->ct);
		s->ct = NULL;
		mem_deref(s);   /* notify_resp's reference: the table's remains */
	}
	if (reason && notify_send(s, reason) != 0)
		log_info("presence: the final NOTIFY to %s could not be sent", s->peer);
	log_info("presence: %s's %s subscription to %s ended (%s)", s->peer,
		 presence_event_name(s->ev), presence_sub_target(s, t, sizeof(t)),
		 reason ? reason : "no answer");
	if (s->in_table) {
		hash_del(&subs, &s->le);
		s->in_table = false;
	}
	mem_deref(s);
}

/* 481, timeouts and the like end the dialog usage (RFC 6665 4.2.2, RFC
 * 5057 5.1); 401/407/491/500/503 only fail the transaction. */
static bool ends_usage(int err, uint16_t scode)
{
	if (err)
		return true;
	return scode >= 300 && scode != 401 && scode != 407 && scode != 491 &&
	       scode != 500 && scode != 503;
}

static void notify_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct presence_sub *s = arg;

	if (!err && msg->scode < 200)
		return;
	s->ct = NULL;
	if (s->state == PRESENCE_SUB_ACTIVE) {
		if (ends_usage(err, err ? 0 : msg->scode)) {
			log_info("presence: NOTIFY to %s: %s", s->peer,
				 err ? strerror(err) : sip_reason(msg->scode));
			presence_sub_end(s, NULL);
		} else {
			sub_update(s);   /* what changed while it was in flight */
		}
	}
	mem_deref(s);
}

static void expire_h(void *arg)
{
	presence_sub_end(arg, "timeout");
}

struct presence_sub *presence_sub_alloc(void)
{
	struct presence_sub *s = mem_zalloc(sizeof(*s), sub_destroy);

	if (s)
		tmr_init(&s->expire);
	return s;
}

void presence_sub_add(struct presence_sub *s)
{
	hash_add(&subs, &s->le, ptr_hash(s), s);
	s->in_table = true;
}

void presence_sub_start(struct presence_sub *s, uint32_t expires)
{
	tmr_start(&s->expire, (uint64_t)expires * 1000, expire_h, s);
	s->force = true;
	sub_update(s);
}

static bool count_peer(void *obj, void *arg)
{
	const struct presence_sub *s = obj;
	struct { const char *peer; unsigned n; } *c = arg;

	if (!strcmp(s->peer, c->peer))
		c->n++;
	return false;
}

unsigned presence_subs_of(const char *peer)
{
	struct { const char *peer; unsigned n; } c = { peer, 0 };

	hash_apply(&subs, count_peer, &c);
	return c.n;
}

/* ------------------------------------------------------------ evaluation */

static bool eval_one(void *obj, void *arg)
{
	struct presence_sub *s = obj;
	unsigned i;

	(void)arg;
	if (s->ev != PRESENCE_EV_DIALOG)
		return false;
	if (!dirty_all) {
		char buf[512];
		const char *hint = presence_hint_get(s->context, s->exten, buf, sizeof(buf));
		for (i = 0; hint && i < ndirty; i++)
			if (presence_hint_has(hint, dirty[i]))
				break;
		if (hint && i == ndirty)
			return false;
	}
	sub_update(s);
	return false;
}

static void eval_h(void *arg)
{
	(void)arg;
	hash_apply(&subs, eval_one, NULL);
	ndirty = 0;
	dirty_all = false;
}

void presence_device_changed(const char *peer)
{
	unsigned i;

	if (!ready)
		return;
	if (!peer) {
		dirty_all = true;
	} else if (!dirty_all) {
		for (i = 0; i < ndirty && strcmp(dirty[i], peer); i++)
			;
		if (i == ndirty && ndirty < MAX_DIRTY)
			snprintf(dirty[ndirty++], sizeof(dirty[0]), "%s", peer);
		else if (i == ndirty)
			dirty_all = true;
	}
	if (!tmr_isset(&eval_tmr))
		tmr_start(&eval_tmr, 0, eval_h, NULL);
}

static bool mwi_one(void *obj, void *arg)
{
	struct presence_sub *s = obj;

	if (s->ev == PRESENCE_EV_MWI && mwi_list_has(s->mailboxes, arg))
		sub_update(s);
	return false;
}

void presence_mwi_changed(const char *mailbox)
{
	if (ready)
		hash_apply(&subs, mwi_one, (void *)mailbox);
}

static bool has_mwi(void *obj, void *arg)
{
	const struct presence_sub *s = obj;
	return s->ev == PRESENCE_EV_MWI && s->state == PRESENCE_SUB_ACTIVE &&
	       !strcmp(s->peer, arg);
}

bool presence_mwi_subscribed(const char *peer)
{
	return ready && hash_apply(&subs, has_mwi, (void *)peer) != NULL;
}

/* -------------------------------------------------------------- status */

bool presence_ready(void)
{
	return ready;
}

size_t presence_count(void)
{
	return ready ? subs.count : 0;
}

static bool add_json(void *obj, void *arg)
{
	const struct presence_sub *s = obj;
	char t[300];
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}",
		"peer", s->peer, "event", presence_event_name(s->ev), "target",
		presence_sub_target(s, t, sizeof(t)), "state", presence_sub_state_name(s->state),
		"expires_in", (json_int_t)((tmr_left(&s->expire) + 999) / 1000),
		"call_id", s->dlg ? s->dlg->callid : "");

	if (s->ev == PRESENCE_EV_DIALOG) {
		json_object_set_new(j, "shown", json_string(s->last_state ? s->last_state : ""));
		json_object_set_new(j, "version", json_integer(s->version));
	} else {
		json_object_set_new(j, "new", json_integer(s->last_mwi.newmsgs));
		json_object_set_new(j, "old", json_integer(s->last_mwi.oldmsgs));
	}
	json_array_append_new(arg, j);
	return false;
}

json_t *presence_json(void)
{
	json_t *arr = json_array();

	if (ready)
		hash_apply(&subs, add_json, arr);
	return json_pack("{s:o}", "subscriptions", arr);
}

/* ----------------------------------------------------------- lifecycle */

int presence_init(void)
{
	int err = hash_init(&subs, 256);

	if (err)
		return err;
	tmr_init(&eval_tmr);
	ndirty = 0;
	dirty_all = false;
	ready = true;
	return 0;
}

static bool end_one(void *obj, void *arg)
{
	(void)arg;
	presence_sub_end(obj, "deactivated");   /* subscribe again (to the other node) */
	return false;
}

void presence_close(void)
{
	if (!ready)
		return;
	hash_apply(&subs, end_one, NULL);
	tmr_cancel(&eval_tmr);
	hash_close(&subs);
	ready = false;
	presence_set_usage_h(NULL);
}
