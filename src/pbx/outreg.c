/**
 * @file outreg.c  Outbound registrations (RFC 3261 10.2) to providers.
 *
 * One client per `register =>` line: REGISTER, answer one challenge per
 * attempt with the line's credentials (22.2), refresh at 90% of the
 * granted expiry, retry after failures with backoff. Registrations are
 * rebuilt on reload; an unchanged line keeps its state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "pbx/outreg.h"
#include "sip/auth.h"
#include "sip/sip.h"

#define RETRY_MIN 20      /* s, chan_sip's registertimeout */
#define RETRY_MAX 300
#define EXPIRY    120     /* s asked for, chan_sip's default */

struct outreg {
	struct outreg *next;
	char *line;           /* as written, to keep state across reloads */
	char user[64], secret[64], authuser[64], host[128], contact[64];
	struct sip_src dst;
	enum outreg_state state;
	char callid[40], tag[17];
	uint32_t cseq;
	uint32_t retry;       /* s, current backoff */
	uint32_t expires;     /* s granted */
	bool challenged;      /* this attempt answered a challenge already */
	struct tmr tmr;
	struct sip_ctrans *ct;
	uint16_t last_status;
};

static struct outreg *regs;

static const char *names[] = { "Unregistered", "Request Sent", "Registered",
			       "Auth. Failed", "Rejected", "No Answer" };

const char *outreg_state_name(enum outreg_state s)
{
	return (unsigned)s < 6 ? names[s] : "?";
}

static void send_register(void *arg);

static void schedule(struct outreg *r, uint32_t secs)
{
	tmr_start(&r->tmr, (uint64_t)secs * 1000, send_register, r);
}

static void failed(struct outreg *r, enum outreg_state s)
{
	r->state = s;
	r->retry = r->retry ? (r->retry * 2 > RETRY_MAX ? RETRY_MAX : r->retry * 2) : RETRY_MIN;
	log_notice("register %s@%s: %s (status %u), retrying in %u s", r->user, r->host,
		   outreg_state_name(s), r->last_status, r->retry);
	schedule(r, r->retry);
}

static int send_req(struct outreg *r, const char *authz);

static void resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct outreg *r = arg;
	const struct sip_hdr *h;
	char authz[1024], cnonce[17], ruri[160];

	snprintf(ruri, sizeof(ruri), "sip:%s", r->host);
	if (!msg || err) {
		r->ct = NULL;
		r->last_status = 408;
		failed(r, OUTREG_NO_ANSWER);
		return;
	}
	if (msg->scode < 200)
		return;
	r->ct = NULL;
	r->last_status = msg->scode;
	if (msg->scode == 401 || msg->scode == 407) {
		h = sip_msg_hdr(msg, msg->scode == 401 ? SIP_HDR_WWW_AUTHENTICATE
						       : SIP_HDR_PROXY_AUTHENTICATE);
		sip_rand_token(cnonce, 16);
		if (!r->challenged && h && r->secret[0] &&
		    auth_client_response(authz, sizeof(authz), msg->scode == 401 ?
					 "Authorization" : "Proxy-Authorization", &h->val,
					 r->authuser[0] ? r->authuser : r->user, r->secret,
					 "REGISTER", ruri, 1, cnonce) == 0) {
			r->challenged = true;
			if (send_req(r, authz) == 0)
				return;
		}
		failed(r, OUTREG_AUTH_FAILED);
		return;
	}
	if (msg->scode >= 300) {
		failed(r, OUTREG_REJECTED);
		return;
	}
	h = sip_msg_hdr(msg, SIP_HDR_EXPIRES);
	uint32_t e = EXPIRY;
	if (h) {
		struct pl v = h->val;
		pl_trim(&v);
		pl_u32(&v, &e);
	}
	if (!e)
		e = EXPIRY;
	if (r->state != OUTREG_REGISTERED)
		log_notice("register %s@%s: registered for %u s", r->user, r->host, e);
	r->state = OUTREG_REGISTERED;
	r->expires = e;
	r->retry = 0;
	schedule(r, e > 10 ? e * 9 / 10 : e);
}

static int send_req(struct outreg *r, const char *authz)
{
	char hdrs[2048], ruri[160], host[64];
	uint16_t port;

	if (sip_transp_local(&r->dst, host, sizeof(host), &port) != 0)
		return EHOSTUNREACH;
	snprintf(ruri, sizeof(ruri), "sip:%s", r->host);
	snprintf(hdrs, sizeof(hdrs),
		 "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n"
		 "Call-ID: %s\r\nCSeq: %u REGISTER\r\nContact: <sip:%s@%s:%u>\r\n"
		 "Expires: %u\r\nUser-Agent: Tandem/" TANDEM_VERSION "\r\n%s",
		 r->user, r->host, r->tag, r->user, r->host, r->callid, ++r->cseq,
		 r->contact[0] ? r->contact : r->user, host, port, EXPIRY, authz ? authz : "");
	r->state = OUTREG_REQUEST_SENT;
	return sip_ctrans_request(&r->ct, &r->dst, "REGISTER", ruri, hdrs, NULL, NULL, 0,
				  resp_h, r);
}

static void send_register(void *arg)
{
	struct outreg *r = arg;

	r->challenged = false;
	if (send_req(r, NULL) != 0)
		failed(r, OUTREG_NO_ANSWER);
}

/* Copy a field; a value too long for it is an error, never cut short. */
static int field(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return EINVAL;
	memcpy(dst, src, n + 1);
	return 0;
}

/* user[:secret[:authuser]]@host[:port][/contact]; "peer?" prefix ignored */
static int parse_line(struct outreg *r, const char *line)
{
	char buf[512], *at, *slash, *q, *c, *f1, *f2;
	int e = 0;

	if (field(buf, sizeof(buf), line))
		return EINVAL;
	q = strchr(buf, '?');
	at = strrchr(buf, '@');
	if (!at)
		return EINVAL;
	*at = '\0';
	c = q && q < at ? q + 1 : buf;
	slash = strchr(at + 1, '/');
	if (slash) {
		*slash = '\0';
		e |= field(r->contact, sizeof(r->contact), slash + 1);
	}
	e |= field(r->host, sizeof(r->host), at + 1);
	f1 = strchr(c, ':');
	f2 = f1 ? strchr(f1 + 1, ':') : NULL;
	if (f2) {
		*f2 = '\0';
		e |= field(r->authuser, sizeof(r->authuser), f2 + 1);
	}
	if (f1) {
		*f1 = '\0';
		e |= field(r->secret, sizeof(r->secret), f1 + 1);
	}
	e |= field(r->user, sizeof(r->user), c);
	memset(&r->dst, 0, sizeof(r->dst));
	r->dst.fd = -1;
	r->dst.tp = SIP_TRANSP_UDP;
	if (e || !r->user[0] || sip_sa_resolve(r->host, 5060, &r->dst.addr) != 0)
		return EINVAL;
	return 0;
}

static void outreg_free(struct outreg *r)
{
	tmr_cancel(&r->tmr);
	if (r->ct)
		sip_ctrans_abandon(r->ct);
	free(r->line);
	free(r);
}

int outreg_configure(const struct conf_section *general)
{
	struct outreg *old = regs, *fresh = NULL, **tail = &fresh, *r, **pp;
	const struct conf_var *v;

	for (v = general ? general->vars : NULL; v; v = v->next) {
		if (strcasecmp(v->name, "register"))
			continue;
		/* an unchanged line keeps its state */
		for (pp = &old; *pp && strcmp((*pp)->line, v->value); pp = &(*pp)->next)
			;
		if ((r = *pp)) {
			*pp = r->next;
		} else {
			r = calloc(1, sizeof(*r));
			if (!r || !(r->line = strdup(v->value))) {
				free(r);
				return ENOMEM;
			}
			tmr_init(&r->tmr);
			if (parse_line(r, v->value) != 0) {
				log_warn("%s:%u: register => %s: expected "
					 "user[:secret[:authuser]]@host[:port][/contact] with an "
					 "address for host (names are not resolved yet); ignored",
					 v->file, v->line, v->value);
				outreg_free(r);
				continue;
			}
			sip_rand_token(r->callid, 32);
			sip_rand_token(r->tag, 16);
			schedule(r, 0);
		}
		r->next = NULL;
		*tail = r;
		tail = &r->next;
	}
	while (old) {
		r = old;
		old = old->next;
		outreg_free(r);
	}
	regs = fresh;
	return 0;
}

void outreg_close(void)
{
	while (regs) {
		struct outreg *r = regs;
		regs = r->next;
		outreg_free(r);
	}
}

json_t *outreg_json(void)
{
	json_t *arr = json_array();
	struct outreg *r;

	for (r = regs; r; r = r->next)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:i}",
			"user", r->user, "host", r->host, "state", outreg_state_name(r->state),
			"expires", (int)r->expires, "last_status", (int)r->last_status));
	return json_pack("{s:o}", "registry", arr);
}
