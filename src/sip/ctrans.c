/**
 * @file ctrans.c  Client transactions (RFC 3261 17.1, RFC 6026).
 *
 * INVITE:     CALLING (A retransmits, B gives up) -1xx-> PROCEEDING
 *             -2xx-> ACCEPTED (M: further 2xx go to the TU) -> TERMINATED
 *             -3xx..6xx-> COMPLETED (ACK sent, D absorbs) -> TERMINATED
 * non-INVITE: TRYING (E retransmits, F gives up) -1xx-> PROCEEDING
 *             -final-> COMPLETED (K absorbs) -> TERMINATED
 *
 * Responses match on the top Via branch and the CSeq method (17.1.3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "sip/sip.h"

struct sip_ctrans {
	struct hash_le le;
	enum sip_ctrans_state state;
	bool invite;
	bool in_table;
	struct sip_src dst;
	char branch[40];
	char met[16];
	char *req;            /* the request as sent */
	size_t reqlen;
	char *ack;            /* ACK for a non-2xx final (INVITE) */
	size_t acklen;
	uint32_t interval;
	bool got_provisional;
	bool cancel_pending;
	struct tmr retx;      /* A, E */
	struct tmr end;       /* B, D, F, K, M */
	sip_resp_h *h;
	void *arg;
};

static struct hash table;

static const char *state_names[] = {
	"Calling", "Trying", "Proceeding", "Completed", "Accepted", "Terminated"
};

const char *sip_ctrans_state_name(enum sip_ctrans_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(*state_names) ? state_names[s] : "?";
}

enum sip_ctrans_state sip_ctrans_state(const struct sip_ctrans *ct)
{
	return ct->state;
}

size_t sip_ctrans_count(void)
{
	return table.count;
}

static bool reliable(const struct sip_ctrans *ct)
{
	return ct->dst.tp != SIP_TRANSP_UDP;
}

static void destroy(void *arg)
{
	struct sip_ctrans *ct = arg;

	tmr_cancel(&ct->retx);
	tmr_cancel(&ct->end);
	if (ct->in_table)
		hash_del(&table, &ct->le);
	free(ct->req);
	free(ct->ack);
}

static void terminate(struct sip_ctrans *ct)
{
	if (ct->state == CTRANS_TERMINATED)
		return;
	ct->state = CTRANS_TERMINATED;
	tmr_cancel(&ct->retx);
	tmr_cancel(&ct->end);
	if (ct->in_table) {
		hash_del(&table, &ct->le);
		ct->in_table = false;
		mem_deref(ct);
	}
}

static void notify(struct sip_ctrans *ct, int err, const struct sip_msg *msg)
{
	sip_resp_h *h = ct->h;

	if (!h)
		return;
	if (err || (msg && msg->scode >= 200 && !ct->invite))
		ct->h = NULL;    /* final: the TU hears no more */
	h(err, msg, ct->arg);
}

static void timer_end(void *arg)
{
	struct sip_ctrans *ct = arg;

	mem_ref(ct);
	if (ct->state == CTRANS_CALLING || ct->state == CTRANS_TRYING ||
	    ct->state == CTRANS_PROCEEDING) {
		terminate(ct);
		notify(ct, ETIMEDOUT, NULL);   /* B or F */
	} else {
		terminate(ct);                 /* D, K, M */
	}
	mem_deref(ct);
}

static void timer_retx(void *arg)
{
	struct sip_ctrans *ct = arg;

	if (ct->state != CTRANS_CALLING && ct->state != CTRANS_TRYING &&
	    !(ct->state == CTRANS_PROCEEDING && !ct->invite))
		return;
	sip_transp_send(&ct->dst, ct->req, ct->reqlen);
	if (ct->invite)
		ct->interval *= 2;                                     /* A */
	else if (ct->state == CTRANS_PROCEEDING)
		ct->interval = SIP_T2;
	else
		ct->interval = ct->interval * 2 < SIP_T2 ? ct->interval * 2 : SIP_T2; /* E */
	tmr_start(&ct->retx, ct->interval, timer_retx, ct);
}

static bool match_cmp(const void *obj, const void *arg)
{
	const struct sip_ctrans *ct = obj;
	const struct sip_msg *msg = arg;

	return !pl_strcmp(&msg->via.branch, ct->branch) &&
	       !pl_strcmp(&msg->cseq.met, ct->met);
}

static bool match_branch(const void *obj, const void *arg)
{
	const struct sip_ctrans *ct = obj;

	return !pl_strcmp(arg, ct->branch) && ct->invite;
}

/* via: the Via value to send as it is (a CANCEL's, 9.1), or NULL for
 * ours with branch (NULL: a fresh one) */
static int request(struct sip_ctrans **ctp, const struct sip_src *dst,
		   const char *met, const char *ruri, const char *branch,
		   const struct pl *via, const char *hdrs, const char *ctype,
		   const char *body, size_t blen, sip_resp_h *h, void *arg)
{
	struct sip_ctrans *ct;
	char host[64];
	uint16_t port;
	size_t size;
	int n, err;

	err = sip_transp_local(dst, host, sizeof(host), &port);
	if (err)
		return err;
	ct = mem_zalloc(sizeof(*ct), destroy);
	if (!ct)
		return ENOMEM;
	tmr_init(&ct->retx);
	tmr_init(&ct->end);
	ct->dst = *dst;
	ct->invite = !strcmp(met, "INVITE");
	snprintf(ct->met, sizeof(ct->met), "%s", met);
	if (branch) {
		snprintf(ct->branch, sizeof(ct->branch), "%s", branch);
	} else {
		memcpy(ct->branch, "z9hG4bK", 7);
		sip_rand_token(ct->branch + 7, 24);
	}
	ct->h = h;
	ct->arg = arg;
	size = 512 + strlen(ruri) + strlen(hdrs) + blen + (ctype ? strlen(ctype) : 0) +
	       (via ? via->l : 0);
	ct->req = malloc(size);
	if (!ct->req) {
		mem_deref(ct);
		return ENOMEM;
	}
	if (via)
		n = snprintf(ct->req, size, "%s %s SIP/2.0\r\nVia: %.*s\r\n", met, ruri,
			     PL_ARG(*via));
	else
		n = snprintf(ct->req, size, "%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s:%u;branch=%s;rport\r\n",
			     met, ruri, dst->tp == SIP_TRANSP_TCP ? "TCP" : "UDP",
			     host, port, ct->branch);   /* sip_transp_local brackets IPv6 */
	if (n > 0 && (size_t)n < size)
		n += snprintf(ct->req + n, size - (size_t)n, "%s%s%s%sContent-Length: %zu\r\n\r\n",
			      hdrs, ctype ? "Content-Type: " : "", ctype ? ctype : "",
			      ctype ? "\r\n" : "", body ? blen : 0);
	if (n < 0 || (size_t)n + blen >= size) {
		mem_deref(ct);
		return EMSGSIZE;
	}
	if (body && blen)
		memcpy(ct->req + n, body, blen);
	ct->reqlen = (size_t)n + (body ? blen : 0);
	err = sip_transp_send(dst, ct->req, ct->reqlen);
	if (err) {
		mem_deref(ct);
		return err;
	}
	struct pl b = { ct->branch, strlen(ct->branch) };
	hash_add(&table, &ct->le, pl_hash(&b, false), ct);
	ct->in_table = true;
	ct->state = ct->invite ? CTRANS_CALLING : CTRANS_TRYING;
	if (!reliable(ct)) {
		ct->interval = sip_t1;
		tmr_start(&ct->retx, ct->interval, timer_retx, ct);
	}
	tmr_start(&ct->end, ct->invite ? sip_timer_b : 64 * sip_t1, timer_end, ct); /* B, F */
	if (ctp)
		*ctp = ct;
	return 0;
}

int sip_ctrans_request(struct sip_ctrans **ctp, const struct sip_src *dst,
		       const char *met, const char *ruri, const char *hdrs,
		       const char *ctype, const char *body, size_t blen,
		       sip_resp_h *h, void *arg)
{
	return request(ctp, dst, met, ruri, NULL, NULL, hdrs, ctype, body, blen, h, arg);
}

/* ACK for a non-2xx final response (17.1.1.3): same R-URI, top Via, From,
 * Call-ID, CSeq number and Route as the INVITE; To from the response. */
static void build_ack(struct sip_ctrans *ct, const struct sip_msg *resp)
{
	struct sip_msg inv;
	const struct sip_hdr *h, *to;
	size_t size = ct->reqlen + 512;
	int n;

	if (sip_msg_decode(&inv, ct->req, ct->reqlen) != 0)
		return;
	to = sip_msg_hdr(resp, SIP_HDR_TO);
	h = sip_msg_hdr(&inv, SIP_HDR_FROM);
	if (!to || !h)
		return;
	free(ct->ack);
	ct->ack = malloc(size);
	if (!ct->ack)
		return;
	n = snprintf(ct->ack, size,
		     "ACK %.*s SIP/2.0\r\nVia: %.*s\r\nMax-Forwards: 70\r\n"
		     "From: %.*s\r\nTo: %.*s\r\nCall-ID: %.*s\r\nCSeq: %u ACK\r\n",
		     PL_ARG(inv.ruri_s), PL_ARG(inv.via.val), PL_ARG(h->val),
		     PL_ARG(to->val), PL_ARG(inv.callid), inv.cseq.num);
	for (h = sip_msg_hdr(&inv, SIP_HDR_ROUTE); h && n > 0 && (size_t)n < size;
	     h = sip_msg_hdr_next(&inv, h))
		n += snprintf(ct->ack + n, size - (size_t)n, "Route: %.*s\r\n", PL_ARG(h->val));
	if (n > 0 && (size_t)n < size)
		n += snprintf(ct->ack + n, size - (size_t)n, "Content-Length: 0\r\n\r\n");
	if (n < 0 || (size_t)n >= size) {
		free(ct->ack);
		ct->ack = NULL;
		return;
	}
	ct->acklen = (size_t)n;
}

bool sip_ctrans_recv(const struct sip_msg *msg, const struct sip_src *src)
{
	struct sip_ctrans *ct;

	(void)src;
	ct = hash_find(&table, pl_hash(&msg->via.branch, false), match_cmp, msg);
	if (!ct)
		return false;
	mem_ref(ct);
	if (msg->scode < 200) {
		if (ct->state == CTRANS_CALLING || ct->state == CTRANS_TRYING) {
			ct->state = CTRANS_PROCEEDING;
			ct->got_provisional = true;
			if (ct->invite)
				tmr_cancel(&ct->retx);
			else if (!reliable(ct))
				tmr_start(&ct->retx, SIP_T2, timer_retx, ct);
			if (ct->cancel_pending) {
				ct->cancel_pending = false;
				sip_ctrans_cancel(ct);
			}
		}
		if (ct->state == CTRANS_PROCEEDING)
			notify(ct, 0, msg);
		goto out;
	}
	if (ct->invite && msg->scode < 300) {
		if (ct->state != CTRANS_ACCEPTED) {
			ct->state = CTRANS_ACCEPTED;
			tmr_cancel(&ct->retx);
			tmr_start(&ct->end, 64 * sip_t1, timer_end, ct);   /* M */
		}
		notify(ct, 0, msg);   /* every 2xx goes to the TU, which ACKs */
		goto out;
	}
	switch (ct->state) {
	case CTRANS_CALLING:
	case CTRANS_TRYING:
	case CTRANS_PROCEEDING:
		tmr_cancel(&ct->retx);
		ct->state = CTRANS_COMPLETED;
		if (ct->invite) {
			build_ack(ct, msg);
			if (ct->ack)
				sip_transp_send(&ct->dst, ct->ack, ct->acklen);
			tmr_start(&ct->end, reliable(ct) ? 0 : 32000, timer_end, ct);  /* D */
		} else {
			tmr_start(&ct->end, reliable(ct) ? 0 : SIP_T4, timer_end, ct); /* K */
		}
		notify(ct, 0, msg);
		if (ct->invite)
			ct->h = NULL;
		break;
	case CTRANS_COMPLETED:
		if (ct->invite && ct->ack)   /* retransmitted final: ACK again */
			sip_transp_send(&ct->dst, ct->ack, ct->acklen);
		break;
	default:
		break;
	}
out:
	mem_deref(ct);
	return true;
}

static void cancel_resp(int err, const struct sip_msg *msg, void *arg)
{
	(void)err;
	(void)msg;
	(void)arg;
}

int sip_ctrans_cancel(struct sip_ctrans *ct)
{
	struct sip_msg inv;
	const struct sip_hdr *h, *from, *to;
	char hdrs[4096];
	int n;

	if (!ct->invite || ct->state == CTRANS_TERMINATED ||
	    ct->state == CTRANS_COMPLETED || ct->state == CTRANS_ACCEPTED)
		return EALREADY;
	if (!ct->got_provisional) {     /* 9.1: wait for a provisional */
		ct->cancel_pending = true;
		return 0;
	}
	if (sip_msg_decode(&inv, ct->req, ct->reqlen) != 0)
		return EINVAL;
	from = sip_msg_hdr(&inv, SIP_HDR_FROM);
	to = sip_msg_hdr(&inv, SIP_HDR_TO);
	if (!from || !to)
		return EINVAL;
	n = snprintf(hdrs, sizeof(hdrs),
		     "Max-Forwards: 70\r\nFrom: %.*s\r\nTo: %.*s\r\nCall-ID: %.*s\r\n"
		     "CSeq: %u CANCEL\r\n", PL_ARG(from->val), PL_ARG(to->val),
		     PL_ARG(inv.callid), inv.cseq.num);
	for (h = sip_msg_hdr(&inv, SIP_HDR_ROUTE); h && n > 0 && (size_t)n < sizeof(hdrs);
	     h = sip_msg_hdr_next(&inv, h))
		n += snprintf(hdrs + n, sizeof(hdrs) - (size_t)n, "Route: %.*s\r\n",
			      PL_ARG(h->val));
	if (n < 0 || (size_t)n >= sizeof(hdrs))
		return EMSGSIZE;
	/* CANCEL carries the INVITE's top Via as it was, branch included
	 * (9.1): send it as its own non-INVITE transaction with that branch. */
	char ruri[1024];
	pl_strcpy(&inv.ruri_s, ruri, sizeof(ruri));
	return request(NULL, &ct->dst, "CANCEL", ruri, ct->branch, &inv.via.val, hdrs, NULL,
		       NULL, 0, cancel_resp, NULL);
}

/* A 2xx to an adopted INVITE: the callee answered a call that is gone. */
static void orphan_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct sip_ctrans *ct = arg;

	if (!err && msg && msg->scode >= 200 && msg->scode < 300)
		sip_dialog_stray_2xx(msg, &ct->dst);
}

int sip_ctrans_restore_cancel(const struct sip_src *dst, const char *req, size_t len)
{
	struct sip_ctrans *ct;
	struct sip_msg inv;
	int err;

	if (sip_msg_decode(&inv, req, len) != 0 || !inv.req ||
	    !sip_met_is(&inv.met, "INVITE") || !pl_isset(&inv.via.branch) ||
	    inv.via.branch.l >= sizeof(ct->branch))
		return EBADMSG;
	if (hash_find(&table, pl_hash(&inv.via.branch, false), match_branch, &inv.via.branch))
		return EEXIST;
	if (!(ct = mem_zalloc(sizeof(*ct), destroy)))
		return ENOMEM;
	tmr_init(&ct->retx);
	tmr_init(&ct->end);
	ct->dst = *dst;
	ct->invite = true;
	snprintf(ct->met, sizeof(ct->met), "INVITE");
	pl_strcpy(&inv.via.branch, ct->branch, sizeof(ct->branch));
	if (!(ct->req = malloc(len))) {
		mem_deref(ct);
		return ENOMEM;
	}
	memcpy(ct->req, req, len);
	ct->reqlen = len;
	ct->h = orphan_resp;
	ct->arg = ct;
	ct->state = CTRANS_PROCEEDING;     /* it rang: CANCEL may go (9.1) */
	ct->got_provisional = true;
	struct pl b = { ct->branch, strlen(ct->branch) };
	hash_add(&table, &ct->le, pl_hash(&b, false), ct);
	ct->in_table = true;
	tmr_start(&ct->end, sip_timer_b, timer_end, ct);   /* no 487 ever: gone after B */
	mem_ref(ct);
	err = sip_ctrans_cancel(ct);
	if (err)
		terminate(ct);
	mem_deref(ct);
	return err;
}

const char *sip_ctrans_req(const struct sip_ctrans *ct, size_t *len)
{
	*len = ct->reqlen;
	return ct->req;
}

void sip_ctrans_abandon(struct sip_ctrans *ct)
{
	if (ct)
		ct->h = NULL;
}

static bool term_all(void *obj, void *arg)
{
	(void)arg;
	terminate(obj);
	return false;
}

void sip_ctrans_close(void)
{
	hash_apply(&table, term_all, NULL);
	hash_close(&table);
}

int sip_ctrans_table_init(void);
int sip_ctrans_table_init(void)
{
	return hash_init(&table, 1024);
}
