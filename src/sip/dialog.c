/**
 * @file dialog.c  SIP dialogs (RFC 3261 12) and in-dialog requests.
 *
 * Dialogs are kept in a table keyed by Call-ID and matched on both tags:
 * for a request we receive, its To tag is our local tag and its From tag
 * the remote one (12.2.2). The route set is the Record-Route of the
 * request (UAS, in order) or of the response (UAC, reversed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "sip/dialog.h"

static struct hash table;

const char *sip_dialog_state_name(enum sip_dialog_state s)
{
	switch (s) {
	case DIALOG_EARLY:      return "Early";
	case DIALOG_CONFIRMED:  return "Confirmed";
	case DIALOG_TERMINATED: return "Terminated";
	}
	return "?";
}

int sip_dialog_init(void)
{
	return hash_init(&table, 1024);
}

static bool free_one(void *obj, void *arg)
{
	(void)arg;
	sip_dialog_free(obj);
	return false;
}

static void stray_forget(void);

void sip_dialog_close(void)
{
	hash_apply(&table, free_one, NULL);
	hash_close(&table);
	stray_forget();
}

size_t sip_dialog_count(void)
{
	return table.count;
}

void sip_dialog_free(struct sip_dialog *d)
{
	if (!d)
		return;
	if (d->in_table)
		hash_del(&table, &d->le);
	free(d->callid);
	free(d->ltag);
	free(d->rtag);
	free(d->lhdr);
	free(d->rhdr);
	free(d->rtarget);
	free(d->routes);
	free(d->contact);
	free(d);
}

/* Record-Route values as Route lines; reversed for a UAC (12.1.2). */
static char *route_set(const struct sip_msg *msg, bool reverse)
{
	const struct sip_hdr *h;
	size_t size = 1;
	char *out, *p;

	for (h = sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE); h; h = sip_msg_hdr_next(msg, h))
		size += h->val.l + 10;
	out = calloc(1, size);
	if (!out)
		return NULL;
	if (!reverse) {
		p = out;
		for (h = sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE); h; h = sip_msg_hdr_next(msg, h))
			p += sprintf(p, "Route: %.*s\r\n", PL_ARG(h->val));
		return out;
	}
	/* reverse: walk the headers back to front */
	const struct sip_hdr *list[64];
	unsigned n = 0;
	for (h = sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE); h && n < 64; h = sip_msg_hdr_next(msg, h))
		list[n++] = h;
	p = out;
	while (n--)
		p += sprintf(p, "Route: %.*s\r\n", PL_ARG(list[n]->val));
	return out;
}

static char *contact_uri(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr a;

	if (!h || sip_addr_decode(&a, &h->val) != 0 || a.star)
		return NULL;
	return pl_strdup(&a.auri);
}

static bool same(const void *obj, const void *arg)
{
	const struct sip_dialog *a = obj, *b = arg;

	return !strcmp(a->callid, b->callid) && !strcmp(a->ltag, b->ltag) &&
	       !strcmp(a->rtag, b->rtag);
}

static void add(struct sip_dialog *d)
{
	struct pl cid = { d->callid, strlen(d->callid) };

	hash_add(&table, &d->le, pl_hash(&cid, false), d);
	d->in_table = true;
}

/* Every field was filled (a missing Contact or an allocation failure
 * leaves one NULL): enter the dialog in the table, or drop it. */
static int finish(struct sip_dialog *d, struct sip_dialog **dp)
{
	if (!d->callid || !d->ltag || !d->rtag || !d->lhdr || !d->rhdr || !d->rtarget ||
	    !d->routes || !d->contact) {
		sip_dialog_free(d);
		return EBADMSG;
	}
	add(d);
	*dp = d;
	return 0;
}

int sip_dialog_uas(struct sip_dialog **dp, const struct sip_msg *req,
		   const struct sip_src *src, const char *ltag, const char *contact,
		   void *owner)
{
	struct sip_dialog *d = calloc(1, sizeof(*d));
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	const struct sip_hdr *from = sip_msg_hdr(req, SIP_HDR_FROM);
	size_t n;

	if (!d)
		return ENOMEM;
	if (!to || !from)
		goto bad;
	d->uac = false;
	d->callid = pl_strdup(&req->callid);
	d->ltag = strdup(ltag);
	d->rtag = pl_strdup(&req->from.tag);
	d->rhdr = pl_strdup(&from->val);
	n = to->val.l + strlen(ltag) + 8;
	d->lhdr = malloc(n);
	if (d->lhdr)
		snprintf(d->lhdr, n, "%.*s;tag=%s", PL_ARG(to->val), ltag);
	d->rtarget = contact_uri(req);
	d->routes = route_set(req, false);
	d->contact = strdup(contact);
	d->rseq = req->cseq.num;
	d->lseq = 1;
	d->dst = *src;
	d->owner = owner;
	return finish(d, dp);
bad:
	sip_dialog_free(d);
	return EBADMSG;
}

int sip_dialog_uac(struct sip_dialog **dp, const struct sip_msg *resp,
		   const struct sip_src *dst, const char *from_hdr, const char *contact,
		   uint32_t cseq, void *owner)
{
	struct sip_dialog *d = calloc(1, sizeof(*d));
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);

	if (!d)
		return ENOMEM;
	if (!to || !pl_isset(&resp->to.tag))
		goto bad;
	d->uac = true;
	d->callid = pl_strdup(&resp->callid);
	d->ltag = pl_strdup(&resp->from.tag);
	d->rtag = pl_strdup(&resp->to.tag);
	d->lhdr = strdup(from_hdr);
	d->rhdr = pl_strdup(&to->val);
	d->rtarget = contact_uri(resp);
	d->routes = route_set(resp, true);
	d->contact = strdup(contact);
	d->lseq = cseq;
	d->dst = *dst;
	d->owner = owner;
	return finish(d, dp);
bad:
	sip_dialog_free(d);
	return EBADMSG;
}

int sip_dialog_insert(struct sip_dialog *d, void *owner)
{
	if (d->in_table)
		return EALREADY;
	if (hash_find(&table, pl_hash(&(struct pl){ d->callid, strlen(d->callid) }, false),
		      same, d))
		return EEXIST;
	d->owner = owner;
	add(d);
	return 0;
}

void sip_dialog_confirm(struct sip_dialog *d)
{
	d->state = DIALOG_CONFIRMED;
}

static bool match(const void *obj, const void *arg)
{
	const struct sip_dialog *d = obj;
	const struct sip_msg *m = arg;

	return !pl_strcmp(&m->callid, d->callid) && !pl_strcmp(&m->to.tag, d->ltag) &&
	       !pl_strcmp(&m->from.tag, d->rtag);
}

struct sip_dialog *sip_dialog_find(const struct sip_msg *req)
{
	if (!pl_isset(&req->to.tag))
		return NULL;
	return hash_find(&table, pl_hash(&req->callid, false), match, req);
}

bool sip_dialog_rseq_ok(struct sip_dialog *d, const struct sip_msg *req)
{
	if (sip_met_is(&req->met, "ACK") || sip_met_is(&req->met, "CANCEL"))
		return true;
	if (req->cseq.num < d->rseq)
		return false;
	d->rseq = req->cseq.num;
	return true;
}

void sip_dialog_update_target(struct sip_dialog *d, const struct sip_msg *msg)
{
	char *t = contact_uri(msg);

	if (t) {
		free(d->rtarget);
		d->rtarget = t;
	}
}

/* From/To as a request in this dialog carries them (12.2.1.1). */
static int hdrs(struct sip_dialog *d, char *buf, size_t size, const char *met,
		uint32_t cseq, const char *extra)
{
	int n = snprintf(buf, size,
			 "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
			 "CSeq: %u %s\r\n%sContact: <%s>\r\nUser-Agent: Tandem/" TANDEM_VERSION
			 "\r\n%s",
			 d->lhdr, d->rhdr, d->callid, cseq, met, d->routes, d->contact,
			 extra ? extra : "");
	return (n < 0 || (size_t)n >= size) ? EMSGSIZE : 0;
}

int sip_dialog_request(struct sip_dialog *d, const char *met, const char *extra,
		       const char *ctype, const char *body, size_t blen,
		       sip_resp_h *h, void *arg, struct sip_ctrans **ctp)
{
	char buf[4096];
	int err;

	if (d->state == DIALOG_TERMINATED)
		return ENOTCONN;
	err = hdrs(d, buf, sizeof(buf), met, ++d->lseq, extra);
	if (err)
		return err;
	return sip_ctrans_request(ctp, &d->dst, met, d->rtarget, buf, ctype, body, blen,
				  h, arg);
}

int sip_dialog_ack(struct sip_dialog *d, uint32_t cseq, const char *ctype,
		   const char *body, size_t blen)
{
	char hbuf[4096], branch[32], host[64], *msg;
	uint16_t port;
	size_t size;
	int n, err;

	err = hdrs(d, hbuf, sizeof(hbuf), "ACK", cseq, NULL);
	if (!err)
		err = sip_transp_local(&d->dst, host, sizeof(host), &port);
	if (err)
		return err;
	memcpy(branch, "z9hG4bK", 7);
	sip_rand_token(branch + 7, 20);
	size = strlen(hbuf) + strlen(d->rtarget) + blen + 512;
	msg = malloc(size);
	if (!msg)
		return ENOMEM;
	n = snprintf(msg, size,
		     "ACK %s SIP/2.0\r\nVia: SIP/2.0/%s %s:%u;branch=%s;rport\r\n%s"
		     "%s%s%sContent-Length: %zu\r\n\r\n",
		     d->rtarget, d->dst.tp == SIP_TRANSP_TCP ? "TCP" : "UDP",
		     host, port,   /* sip_transp_local brackets IPv6 hosts */
		     branch, hbuf, ctype ? "Content-Type: " : "", ctype ? ctype : "",
		     ctype ? "\r\n" : "", body ? blen : 0);
	if (n < 0 || (size_t)n + blen >= size) {
		free(msg);
		return EMSGSIZE;
	}
	if (body && blen)
		memcpy(msg + n, body, blen);
	err = sip_transp_send(&d->dst, msg, (size_t)n + (body ? blen : 0));
	free(msg);
	return err;
}

/* ------------------------------------------------------ a stray 2xx */

/* Dialogs already hung up this way (Call-ID and To tag hashed): the
 * callee retransmits its 2xx until our ACK reaches it (13.3.1.4), each
 * retransmission gets the ACK again but no second BYE. At most STRAY_MAX
 * BYEs per 64*T1 (each retransmits for that long): a flood of forged 2xx
 * gets ACKs only. */
#define STRAY_MAX 64
static struct { uint32_t cid, tag; uint64_t at; } stray[STRAY_MAX];
static unsigned stray_next;
static uint64_t stray_warned;

static void stray_forget(void)
{
	memset(stray, 0, sizeof(stray));
	stray_next = 0;
	stray_warned = 0;
}

/* 1: seen (ACK only), 2: too many (ACK only), 0: new (ACK and BYE) */
static int stray_seen(const struct sip_msg *resp)
{
	uint32_t cid = pl_hash(&resp->callid, false), tag = pl_hash(&resp->to.tag, false);
	uint64_t now = loop_now();

	for (unsigned i = 0; i < STRAY_MAX; i++)
		if (stray[i].at && stray[i].cid == cid && stray[i].tag == tag)
			return 1;
	if (stray[stray_next].at && now - stray[stray_next].at < 64 * (uint64_t)sip_t1)
		return 2;
	stray[stray_next].cid = cid;
	stray[stray_next].tag = tag;
	stray[stray_next].at = now ? now : 1;
	stray_next = (stray_next + 1) % STRAY_MAX;
	return 0;
}

static bool match_resp(const void *obj, const void *arg)
{
	const struct sip_dialog *d = obj;
	const struct sip_msg *m = arg;

	return d->uac && !pl_strcmp(&m->callid, d->callid) &&
	       !pl_strcmp(&m->from.tag, d->ltag) && !pl_strcmp(&m->to.tag, d->rtag);
}

void sip_dialog_stray_2xx(const struct sip_msg *resp, const struct sip_src *src)
{
	const struct sip_hdr *from = sip_msg_hdr(resp, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	struct sip_dialog *d;
	char a[80], host[64], contact[128];
	uint16_t port;
	int err;

	sip_src_str(src, a, sizeof(a));
	if (!pl_isset(&resp->to.tag) || !pl_isset(&resp->from.tag) || !from || !to) {
		log_info("sip: a %u to INVITE from %s without tags (Call-ID %.*s): dropped",
			 resp->scode, a, PL_ARG(resp->callid));
		return;
	}
	d = hash_find(&table, pl_hash(&resp->callid, false), match_resp, resp);
	if (d) {                /* ours: its first ACK was lost, send it again */
		sip_dialog_ack(d, resp->cseq.num, NULL, NULL, 0);
		return;
	}
	if (sip_transp_local(src, host, sizeof(host), &port) != 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	snprintf(contact, sizeof(contact), "sip:tandem@%s:%u", host, port);
	/* a dialog of our own making, never in the table: ACK and BYE only */
	if (!(d = calloc(1, sizeof(*d))))
		return;
	d->uac = true;
	d->callid = pl_strdup(&resp->callid);
	d->ltag = pl_strdup(&resp->from.tag);
	d->rtag = pl_strdup(&resp->to.tag);
	d->lhdr = pl_strdup(&from->val);
	d->rhdr = pl_strdup(&to->val);
	d->rtarget = contact_uri(resp);
	d->routes = route_set(resp, true);
	d->contact = strdup(contact);
	d->lseq = resp->cseq.num;
	d->dst = *src;
	if (!d->callid || !d->ltag || !d->rtag || !d->lhdr || !d->rhdr || !d->rtarget ||
	    !d->routes || !d->contact) {
		log_info("sip: a %u to INVITE from %s that no call knows (Call-ID %.*s) "
			 "has no usable Contact: not answered", resp->scode, a,
			 PL_ARG(resp->callid));
		sip_dialog_free(d);
		return;
	}
	switch (stray_seen(resp)) {
	case 2:
		if (!stray_warned || loop_now() - stray_warned >= 64 * (uint64_t)sip_t1) {
			stray_warned = loop_now() ? loop_now() : 1;
			log_warn("sip: a %u to INVITE from %s that no call knows (Call-ID %.*s): "
				 "ACK only: %u such answers hung up in the last %u ms already "
				 "(said once per %u ms)", resp->scode, a, PL_ARG(resp->callid),
				 STRAY_MAX, 64 * sip_t1, 64 * sip_t1);
		}
		/* fall through */
	case 1:
		sip_dialog_ack(d, resp->cseq.num, NULL, NULL, 0);   /* retransmitted */
		sip_dialog_free(d);
		return;
	default:
		break;
	}
	err = sip_dialog_ack(d, resp->cseq.num, NULL, NULL, 0);
	if (!err)
		err = sip_dialog_request(d, "BYE", NULL, NULL, NULL, 0, NULL, NULL, NULL);
	log_notice("sip: a %u to INVITE from %s that no call knows (Call-ID %.*s): "
		   "ACK and BYE%s%s", resp->scode, a, PL_ARG(resp->callid),
		   err ? ": not sent: " : "", err ? strerror(err) : "");
	sip_dialog_free(d);
}
