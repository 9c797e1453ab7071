/**
 * @file presence_subscribe.c  SUBSCRIBE requests (RFC 6665 4.2.1): who
 * subscribes (digest as for REGISTER, chan_sip's 401), to what (a hint in
 * the peer's subscribecontext, or the peer's mailbox=), for how long
 * (subminexpiry/submaxexpiry), and the answer: 200 then a NOTIFY, or
 * 400/401/403/404/406/423/481/489/503. Also NOTIFYs Tandem did not ask
 * for. The subscriptions themselves live in presence.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "pbx/pbx.h"
#include "pbx/presence_int.h"
#include "pbx/registrar.h"
#include "sip/auth.h"

#define ALLOW_EVENTS "Allow-Events: dialog, message-summary\r\n"

static uint32_t opt_u32(const char *name, uint32_t def)
{
	const char *v = presence_opt(NULL, name, NULL);
	char *e;
	unsigned long x;

	if (!v)
		return def;
	x = strtoul(v, &e, 10);
	return (e == v || *e || x > 86400 * 7) ? def : (uint32_t)x;
}

static void sub_limits(uint32_t *min, uint32_t *max)
{
	*min = opt_u32("subminexpiry", PRESENCE_MIN_EXPIRY);
	*max = opt_u32("submaxexpiry", PRESENCE_MAX_EXPIRY);
	if (*max < *min)
		*max = *min;
}

static void challenge(struct sip_strans *st, const char *realm, bool stale)
{
	char hdrs[1024];

	if (auth_challenge(hdrs, sizeof(hdrs), "WWW-Authenticate", realm, stale) < 0)
		sip_strans_reply(st, 500, NULL, NULL, NULL, NULL, 0);
	else
		sip_strans_reply_stateless(st, 401, NULL, hdrs);
}

static void security(const struct sip_src *src, const struct pl *user, const char *why)
{
	char a[80], u[128];

	sip_sa_str(&src->addr, a, sizeof(a));
	pl_strcpy(user, u, sizeof(u));
	log_security("auth_failed", a, u, why);
}

/*
 * The subscriber: the peer named by the From user (else by the digest
 * username), authenticated as the registrar does (chan_sip challenges
 * SUBSCRIBE with 401). NULL when the request was answered.
 */
static const struct peer *subscriber(struct sip_strans *st, const struct sip_msg *msg,
				     const struct sip_src *src)
{
	const struct sipconf *sc = pbx_sipconf();
	const char *realm = sc->gen.realm;
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	const struct peer *p = sipconf_peer(sc, &msg->from.uri.user);
	struct sip_auth cred;
	bool have = false;

	if (!h)
		h = sip_msg_hdr(msg, SIP_HDR_PROXY_AUTHORIZATION);
	memset(&cred, 0, sizeof(cred));
	if (h && sip_auth_decode(&cred, &h->val) == 0)
		have = true;
	if (!p && have)
		p = sipconf_peer(sc, &cred.username);
	if (p && !acl_permits(p->ha, &src->addr)) {
		security(src, &msg->from.uri.user,
			 "source address denied by permit/deny (SUBSCRIBE)");
		challenge(st, realm, false);
		return NULL;
	}
	if (p && !p->secret)
		return p;
	if (!h) {
		challenge(st, realm, false);
		return NULL;
	}
	if (!have) {
		security(src, &msg->from.uri.user, "malformed credentials (SUBSCRIBE)");
		challenge(st, realm, false);
		return NULL;
	}
	if (p && pl_strcmp(&cred.username, p->name) &&
	    !(p->defaultuser && !pl_strcmp(&cred.username, p->defaultuser)))
		p = NULL;
	switch (auth_verify(&cred, &msg->met, realm, p ? p->secret : NULL)) {
	case AUTH_OK:
		return p;
	case AUTH_STALE:
		challenge(st, realm, true);
		return NULL;
	case AUTH_REPLAY:
		security(src, &cred.username, "nonce reused (SUBSCRIBE)");
		break;
	default:
		security(src, &cred.username, p ? "wrong password (SUBSCRIBE)"
						: "unknown user (SUBSCRIBE)");
		break;
	}
	challenge(st, realm, false);
	return NULL;
}

/* Event: dialog / message-summary, with its ;id= kept. ENOENT: none. */
static int event_parse(const struct sip_msg *msg, enum presence_event *ev, char *param,
		       size_t psize)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct pl v, id;
	const char *semi;

	if (!h)
		return ENOENT;
	v = h->val;
	semi = pl_chr(&v, ';');
	struct pl name = { v.p, semi ? (size_t)(semi - v.p) : v.l };
	pl_trim(&name);
	if (!pl_strcasecmp(&name, "dialog"))
		*ev = PRESENCE_EV_DIALOG;
	else if (!pl_strcasecmp(&name, "message-summary"))
		*ev = PRESENCE_EV_MWI;
	else
		return ENOTSUP;
	param[0] = '\0';
	struct pl params = { semi, semi ? v.l - (size_t)(semi - v.p) : 0 };
	if (semi && sip_param_get(&params, "id", &id) == 0 && id.l && id.l < psize - 5)
		snprintf(param, psize, ";id=%.*s", PL_ARG(id));
	return 0;
}

struct accept_req { const char *type; bool ok; };

static int accept_one(const struct pl *val, void *arg)
{
	struct accept_req *a = arg;
	const char *semi = pl_chr(val, ';');
	struct pl t = { val->p, semi ? (size_t)(semi - val->p) : val->l };

	pl_trim(&t);
	if (!pl_strcasecmp(&t, a->type) || !pl_strcasecmp(&t, "*/*") ||
	    !pl_strcasecmp(&t, "application/*"))
		a->ok = true;
	return a->ok;
}

/* No Accept (or an empty one) means the package's default (RFC 6665 7.2). */
static bool accepts(const struct sip_msg *msg, enum presence_event ev)
{
	struct accept_req a = { ev == PRESENCE_EV_DIALOG ? PRESENCE_CT_DIALOG
							   : PRESENCE_CT_MWI, false };
	const struct sip_hdr *h;
	bool any = false;

	for (h = sip_msg_hdr(msg, SIP_HDR_ACCEPT); h && !a.ok; h = sip_msg_hdr_next(msg, h)) {
		if (h->val.l)
			any = true;
		sip_hdr_values(&h->val, accept_one, &a);
	}
	return a.ok || !any;
}

static void contact_of(const struct sip_src *to, char *buf, size_t size)
{
	char host[64];
	uint16_t port;

	if (sip_transp_local(to, host, sizeof(host), &port) != 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	snprintf(buf, size, "sip:tandem@%s:%u", host, port);
}

/* "HOST[:PORT]" of the Request-URI, IPv6 in brackets. */
static void ruri_host(const struct sip_msg *msg, char *buf, size_t size)
{
	const struct sip_uri *u = &msg->ruri;
	char port[8] = "";

	if (u->port)
		snprintf(port, sizeof(port), ":%u", u->port);
	snprintf(buf, size, "%s%.*s%s%s", u->ipv6 ? "[" : "", PL_ARG(u->host),
		 u->ipv6 ? "]" : "", port);
}

static void reply_ok(struct sip_strans *st, const struct presence_sub *s, uint32_t expires)
{
	char extra[400];

	snprintf(extra, sizeof(extra), "Expires: %u\r\nContact: <%s>\r\n", expires,
		 s->dlg->contact);
	sip_strans_reply(st, 200, NULL, extra, NULL, NULL, 0);
}

/* Fill the subscription's target; 0 or the status to answer with. */
static uint16_t sub_target_set(struct presence_sub *s, const struct sip_msg *msg,
			       const struct peer *p)
{
	char host[160];

	ruri_host(msg, host, sizeof(host));
	if (s->ev == PRESENCE_EV_MWI) {
		if (!p->mailbox || !*p->mailbox)
			return 404;   /* chan_sip: "Not found (no mailbox)" */
		snprintf(s->mailboxes, sizeof(s->mailboxes), "%s", p->mailbox);
		snprintf(s->account, sizeof(s->account), "sip:%s@%s",
			 presence_opt(p, "vmexten", "asterisk"), host);
		s->buggymwi = presence_opt_bool(p, "buggymwi", false);
		return 0;
	}
	if (!pl_isset(&msg->ruri.user) || msg->ruri.user.l >= sizeof(s->exten))
		return 404;
	pl_strcpy(&msg->ruri.user, s->exten, sizeof(s->exten));
	snprintf(s->context, sizeof(s->context), "%s",
		 presence_opt(p, "subscribecontext", p->context ? p->context : "default"));
	char buf[512];
	if (!presence_hint_get(s->context, s->exten, buf, sizeof(buf))) {
		log_info("presence: %s subscribed to %s@%s, which has no hint: 404", p->name,
			 s->exten, s->context);
		return 404;
	}
	snprintf(s->entity, sizeof(s->entity), "sip:%s@%s", s->exten, host);
	return 0;
}

static void sub_new(struct sip_strans *st, const struct sip_msg *msg,
		    const struct sip_src *src, const struct peer *p, enum presence_event ev,
		    const char *evparam, uint32_t expires)
{
	char contact[128];
	struct presence_sub *s;
	uint16_t status;

	if (!sip_msg_hdr(msg, SIP_HDR_CONTACT)) {
		sip_strans_reply(st, 400, "Bad Request (Contact)", NULL, NULL, NULL, 0);
		return;
	}
	if (!accepts(msg, ev)) {
		sip_strans_reply(st, 406, "Not Acceptable",
				 "Accept: " PRESENCE_CT_DIALOG ", " PRESENCE_CT_MWI "\r\n",
				 NULL, NULL, 0);
		return;
	}
	if (presence_subs_of(p->name) >= PRESENCE_MAX_PER_PEER) {
		log_notice("presence: %s holds %u subscriptions already: 503", p->name,
			   PRESENCE_MAX_PER_PEER);
		sip_strans_reply(st, 503, NULL, "Retry-After: 60\r\n", NULL, NULL, 0);
		return;
	}
	s = presence_sub_alloc();
	if (!s) {
		sip_strans_reply(st, 500, NULL, NULL, NULL, NULL, 0);
		return;
	}
	s->ev = ev;
	snprintf(s->peer, sizeof(s->peer), "%s", p->name);
	snprintf(s->evparam, sizeof(s->evparam), "%s", evparam);
	status = sub_target_set(s, msg, p);
	contact_of(src, contact, sizeof(contact));
	if (!status && sip_dialog_uas(&s->dlg, msg, src, sip_strans_totag(st), contact, s))
		status = 400;
	if (status) {
		sip_strans_reply(st, status, status == 400 ? "Bad Request (dialog)" : NULL,
				 NULL, NULL, NULL, 0);
		mem_deref(s);
		return;
	}
	sip_dialog_confirm(s->dlg);
	presence_sub_add(s);
	reply_ok(st, s, expires);
	if (!expires) {   /* a fetch (RFC 6665 4.4.3): one NOTIFY, then over */
		presence_sub_end(s, "timeout");
		return;
	}
	char t[300];
	log_info("presence: %s subscribed to %s %s for %u s", s->peer, presence_event_name(ev),
		 presence_sub_target(s, t, sizeof(t)), expires);
	presence_sub_start(s, expires);
}

static void sub_refresh(struct sip_strans *st, const struct sip_msg *msg,
			const struct sip_src *src, const struct peer *p,
			enum presence_event ev, uint32_t expires)
{
	struct sip_dialog *d = sip_dialog_find(msg);
	struct presence_sub *s = presence_sub_of(d);

	if (!s || s->state != PRESENCE_SUB_ACTIVE) {
		sip_strans_reply(st, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (!sip_dialog_rseq_ok(d, msg)) {
		sip_strans_reply(st, 500, "Out of order CSeq", NULL, NULL, NULL, 0);
		return;
	}
	if (strcmp(s->peer, p->name)) {
		security(src, &msg->from.uri.user, "SUBSCRIBE in another peer's subscription");
		sip_strans_reply(st, 403, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (s->ev != ev) {
		sip_strans_reply(st, 489, "Bad Event", ALLOW_EVENTS, NULL, NULL, 0);
		return;
	}
	sip_dialog_update_target(d, msg);
	d->dst = *src;     /* a phone behind NAT may have moved */
	reply_ok(st, s, expires);
	if (!expires) {
		presence_sub_end(s, "timeout");
		return;
	}
	presence_sub_start(s, expires);   /* the full state again (4.2.1.2) */
}

void presence_subscribe(struct sip_strans *st, const struct sip_msg *msg,
			const struct sip_src *src)
{
	const struct sip_hdr *h;
	const struct peer *p;
	enum presence_event ev;
	char evparam[80], extra[64];
	uint32_t expires = PRESENCE_DEFAULT_EXPIRY, min, max;
	int err;

	if (!presence_ready()) {
		sip_strans_reply(st, 503, NULL, NULL, NULL, NULL, 0);
		return;
	}
	err = event_parse(msg, &ev, evparam, sizeof(evparam));
	if (err == ENOENT) {
		sip_strans_reply(st, 400, "Bad Request (no Event)", NULL, NULL, NULL, 0);
		return;
	}
	if (err) {
		sip_strans_reply(st, 489, "Bad Event", ALLOW_EVENTS, NULL, NULL, 0);
		return;
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_EXPIRES)) && pl_u32(&h->val, &expires) != 0) {
		sip_strans_reply(st, 400, "Bad Request (Expires)", NULL, NULL, NULL, 0);
		return;
	}
	if (!(p = subscriber(st, msg, src)))
		return;
	if (!presence_opt_bool(p, "allowsubscribe", true)) {
		sip_strans_reply(st, 403, "Forbidden (allowsubscribe=no)", NULL, NULL, NULL, 0);
		return;
	}
	sub_limits(&min, &max);
	if (expires && expires < min) {
		snprintf(extra, sizeof(extra), "Min-Expires: %u\r\n", min);
		sip_strans_reply(st, 423, NULL, extra, NULL, NULL, 0);
		return;
	}
	if (expires > max)
		expires = max;
	if (pl_isset(&msg->to.tag))
		sub_refresh(st, msg, src, p, ev, expires);
	else
		sub_new(st, msg, src, p, ev, evparam, expires);
}

void presence_notify_in(struct sip_strans *st, const struct sip_msg *msg,
			const struct sip_src *src)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct pl ev = h ? h->val : (struct pl)PL_INIT;
	const char *semi = pl_chr(&ev, ';');

	(void)src;
	if (semi)
		ev.l = (size_t)(semi - ev.p);
	pl_trim(&ev);
	if (!pl_strcasecmp(&ev, "keep-alive") || !pl_strcasecmp(&ev, "message-summary"))
		sip_strans_reply(st, 200, NULL, NULL, NULL, NULL, 0);
	else if (pl_isset(&msg->to.tag))
		sip_strans_reply(st, 481, NULL, NULL, NULL, NULL, 0);
	else
		sip_strans_reply(st, 489, "Bad Event", ALLOW_EVENTS, NULL, NULL, 0);
}
