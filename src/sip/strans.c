/**
 * @file strans.c  Server transactions (RFC 3261 17.2, RFC 6026).
 *
 * non-INVITE:  TRYING -1xx-> PROCEEDING -final-> COMPLETED -J-> TERMINATED
 * INVITE:      PROCEEDING (100 sent at once) -2xx-> ACCEPTED -L-> TERMINATED
 *                         -3xx..6xx-> COMPLETED (G retransmits, H gives up)
 *                         COMPLETED -ACK-> CONFIRMED -I-> TERMINATED
 *
 * Matching (17.2.3): branch with the magic cookie, sent-by and method (an
 * ACK matches its INVITE); for RFC 2543 peers without the cookie, Call-ID,
 * CSeq number, From tag and the top Via stand in for the branch. A
 * retransmitted request is answered with the last response sent, never
 * passed to the TU again.
 *
 * A transaction is reference counted: the table holds one reference, a TU
 * that keeps the pointer past its handler takes another (mem_ref).
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
#include "sip/sip.h"

struct sip_strans {
	struct hash_le le;
	enum sip_strans_state state;
	bool invite;
	bool in_table;
	char *req;            /* copy of the request */
	size_t reqlen;
	struct sip_src src;
	char *key;            /* branch or RFC 2543 substitute */
	char *sentby;         /* host:port of the top Via */
	char met[16];         /* INVITE, REGISTER, ... (CANCEL kept apart) */
	char *resp;           /* last response sent */
	size_t resplen;
	uint16_t scode;
	char *held;           /* response waiting for a commit */
	size_t heldlen;
	uint16_t held_scode;
	char totag[17];
	struct tmr retx;      /* G */
	struct tmr end;       /* H, I, J, L, and the TU watchdog */
	uint32_t interval;
	sip_strans_end_h *endh;
	void *endarg;
};

static struct hash table;

static const char *state_names[] = {
	"Trying", "Proceeding", "Completed", "Confirmed", "Accepted", "Terminated"
};

const char *sip_strans_state_name(enum sip_strans_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(*state_names) ? state_names[s] : "?";
}

size_t sip_strans_count(void)
{
	return table.count;
}

static bool reliable(const struct sip_strans *st)
{
	return st->src.tp != SIP_TRANSP_UDP;
}

/* ------------------------------------------------------------------- keys */

static bool has_cookie(const struct pl *branch)
{
	return branch->l > 7 && !strncmp(branch->p, "z9hG4bK", 7);
}

/* Writes the match key of msg into buf; returns its length or 0. */
static size_t make_key(const struct sip_msg *msg, char *buf, size_t size)
{
	int n;

	if (has_cookie(&msg->via.branch))
		n = snprintf(buf, size, "%.*s", PL_ARG(msg->via.branch));
	else
		n = snprintf(buf, size, "2543|%.*s|%u|%.*s|%.*s", PL_ARG(msg->callid),
			     msg->cseq.num, PL_ARG(msg->from.tag), PL_ARG(msg->via.val));
	return (n > 0 && (size_t)n < size) ? (size_t)n : 0;
}

static void make_sentby(const struct sip_msg *msg, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s:%u", PL_ARG(msg->via.host),
		 msg->via.port ? msg->via.port : 5060);
}

struct match {
	const char *key;
	const char *sentby;
	const char *met;
};

static bool match_cmp(const void *obj, const void *arg)
{
	const struct sip_strans *st = obj;
	const struct match *m = arg;

	return !strcmp(st->key, m->key) && !strcasecmp(st->sentby, m->sentby) &&
	       !strcmp(st->met, m->met);
}

static struct sip_strans *lookup(const struct sip_msg *msg, const char *met)
{
	char key[512], sentby[300];
	struct match m = { key, sentby, met };
	size_t kl = make_key(msg, key, sizeof(key));

	if (!kl)
		return NULL;
	make_sentby(msg, sentby, sizeof(sentby));
	struct pl k = { key, kl };
	return hash_find(&table, pl_hash(&k, false), match_cmp, &m);
}

/* -------------------------------------------------------------- lifecycle */

static void destroy(void *arg)
{
	struct sip_strans *st = arg;

	tmr_cancel(&st->retx);
	tmr_cancel(&st->end);
	if (st->in_table)
		hash_del(&table, &st->le);
	free(st->req);
	free(st->key);
	free(st->sentby);
	free(st->resp);
	free(st->held);
}

static void terminate(struct sip_strans *st)
{
	if (st->state == STRANS_TERMINATED)
		return;
	st->state = STRANS_TERMINATED;
	tmr_cancel(&st->retx);
	tmr_cancel(&st->end);
	if (st->in_table) {
		hash_del(&table, &st->le);
		st->in_table = false;
		mem_deref(st);   /* the table's reference */
	}
}

static void send_resp(struct sip_strans *st)
{
	if (st->resp)
		sip_transp_send(&st->src, st->resp, st->resplen);
}

static void timer_end(void *arg)
{
	struct sip_strans *st = arg;

	if (st->state == STRANS_COMPLETED && st->invite) {
		/* Timer H: no ACK for our final response */
		char a[80];
		sip_src_str(&st->src, a, sizeof(a));
		log_info("sip: no ACK from %s for %u to INVITE (timer H)", a, st->scode);
		mem_ref(st);
		if (st->endh)
			st->endh(st, ETIMEDOUT, st->endarg);
		terminate(st);
		mem_deref(st);
		return;
	}
	if (st->state == STRANS_TRYING || st->state == STRANS_PROCEEDING) {
		if (!st->invite)
			log_warn("sip: %s transaction got no final response from the TU", st->met);
	}
	terminate(st);
}

static void timer_retx(void *arg)
{
	struct sip_strans *st = arg;

	if (st->state != STRANS_COMPLETED)
		return;
	send_resp(st);   /* Timer G */
	st->interval = st->interval * 2 < SIP_T2 ? st->interval * 2 : SIP_T2;
	tmr_start(&st->retx, st->interval, timer_retx, st);
}

static int create(struct sip_strans **stp, const struct sip_msg *msg,
		  const struct sip_src *src, bool send100)
{
	struct sip_strans *st;
	char key[512], sentby[300];
	size_t kl = make_key(msg, key, sizeof(key));

	if (!kl)
		return EINVAL;
	st = mem_zalloc(sizeof(*st), destroy);
	if (!st)
		return ENOMEM;
	tmr_init(&st->retx);
	tmr_init(&st->end);
	make_sentby(msg, sentby, sizeof(sentby));
	st->invite = sip_met_is(&msg->met, "INVITE");
	pl_strcpy(&msg->met, st->met, sizeof(st->met));
	st->req = malloc(msg->len + 1);
	st->key = strdup(key);
	st->sentby = strdup(sentby);
	if (!st->req || !st->key || !st->sentby) {
		mem_deref(st);
		return ENOMEM;
	}
	memcpy(st->req, msg->buf, msg->len);
	st->req[msg->len] = '\0';
	st->reqlen = msg->len;
	st->src = *src;
	sip_rand_token(st->totag, 16);
	struct pl k = { st->key, kl };
	hash_add(&table, &st->le, pl_hash(&k, false), st);
	st->in_table = true;
	if (st->invite) {
		st->state = STRANS_PROCEEDING;
		if (send100)
			sip_strans_reply(st, 100, NULL, NULL, NULL, NULL, 0);
	} else {
		st->state = STRANS_TRYING;
		/* watchdog: a TU that never answers must not leak us */
		tmr_start(&st->end, 64 * sip_t1, timer_end, st);
	}
	*stp = st;
	return 0;
}

int sip_strans_new(struct sip_strans **stp, const struct sip_msg *msg,
		   const struct sip_src *src)
{
	return create(stp, msg, src, true);
}

int sip_strans_restore(struct sip_strans **stp, const char *req, size_t len,
		       const struct sip_src *src, const char *totag)
{
	struct sip_msg msg;
	int err;

	if (sip_msg_decode(&msg, req, len) != 0 || !msg.req ||
	    !sip_met_is(&msg.met, "INVITE") || !pl_isset(&msg.via.branch))
		return EBADMSG;
	if (sip_strans_find_invite(&msg, src))
		return EEXIST;
	if ((err = create(stp, &msg, src, false)))
		return err;
	sip_strans_set_totag(*stp, totag);
	return 0;
}

/* ------------------------------------------------------------- responses */

static int build(struct sip_strans *st, char **out, size_t *outlen, uint16_t scode,
		 const char *reason, const char *extra, const char *ctype,
		 const char *body, size_t blen)
{
	struct sip_msg req;
	size_t size = 2048 + st->reqlen + blen + (extra ? strlen(extra) : 0);
	char *buf;
	int n;

	if (!st->req)
		return ENOENT;
	if (sip_msg_decode(&req, st->req, st->reqlen) != 0 && !req.req)
		return EINVAL;
	buf = malloc(size);
	if (!buf)
		return ENOMEM;
	n = sip_reply_build(buf, size, &req, &st->src, scode, reason, st->totag,
			    extra, ctype, body, blen);
	if (n < 0) {
		free(buf);
		return EMSGSIZE;
	}
	char *fit = realloc(buf, (size_t)n);   /* kept for up to 32 s: no slack */
	*out = fit ? fit : buf;
	*outlen = (size_t)n;
	return 0;
}

/* Move to the state a response of scode implies, and arm the timers. */
static void after_send(struct sip_strans *st, uint16_t scode)
{
	st->scode = scode;
	if (scode < 200) {
		if (st->state == STRANS_TRYING)
			st->state = STRANS_PROCEEDING;
		return;
	}
	tmr_cancel(&st->end);
	if (!st->invite) {
		st->state = STRANS_COMPLETED;
		/* only the response is needed to absorb retransmissions */
		free(st->req);
		st->req = NULL;
		st->reqlen = 0;
		if (reliable(st))
			terminate(st);
		else
			tmr_start(&st->end, 64 * sip_t1, timer_end, st);   /* J */
	} else if (scode < 300) {
		st->state = STRANS_ACCEPTED;
		tmr_start(&st->end, 64 * sip_t1, timer_end, st);       /* L */
	} else {
		st->state = STRANS_COMPLETED;
		if (!reliable(st)) {
			st->interval = sip_t1;
			tmr_start(&st->retx, st->interval, timer_retx, st); /* G */
		}
		tmr_start(&st->end, 64 * sip_t1, timer_end, st);       /* H */
	}
}

int sip_strans_reply(struct sip_strans *st, uint16_t scode, const char *reason,
		     const char *extra, const char *ctype, const char *body, size_t blen)
{
	char *buf;
	size_t len;
	int err;

	if (!st || st->state == STRANS_TERMINATED)
		return ENOENT;
	if (st->state != STRANS_TRYING && st->state != STRANS_PROCEEDING)
		return EALREADY;
	err = build(st, &buf, &len, scode, reason, extra, ctype, body, blen);
	if (err)
		return err;
	free(st->resp);
	st->resp = buf;
	st->resplen = len;
	send_resp(st);
	mem_ref(st);
	after_send(st, scode);
	mem_deref(st);
	return 0;
}

int sip_strans_reply_stateless(struct sip_strans *st, uint16_t scode,
			       const char *reason, const char *extra)
{
	int err;

	if (!st || st->state == STRANS_TERMINATED)
		return ENOENT;
	/* A tag derived from the request, not drawn at random: the same
	 * request gets the same answer, so nothing but the challenge's nonce
	 * tells two answers apart. */
	struct pl k = { st->key, strlen(st->key) }, sb = { st->sentby, strlen(st->sentby) };
	snprintf(st->totag, sizeof(st->totag), "%08x%08x", pl_hash(&k, false),
		 pl_hash(&sb, true));
	mem_ref(st);   /* over TCP the final response already terminates it */
	err = sip_strans_reply(st, scode, reason, extra, NULL, NULL, 0);
	terminate(st);
	mem_deref(st);
	return err;
}

int sip_strans_resend(struct sip_strans *st)
{
	if (!st || !st->resp)
		return ENOENT;
	return sip_transp_send(&st->src, st->resp, st->resplen);
}

int sip_strans_hold(struct sip_strans *st, uint16_t scode, const char *reason,
		    const char *extra)
{
	if (!st || st->held)
		return EALREADY;
	st->held_scode = scode;
	return build(st, &st->held, &st->heldlen, scode, reason, extra, NULL, NULL, 0);
}

void sip_strans_release(struct sip_strans *st, bool ok)
{
	if (!st || !st->held)
		return;
	if (!ok) {
		free(st->held);
		st->held = NULL;
		sip_strans_reply(st, 500, "Storage Failure", "Retry-After: 5\r\n",
				 NULL, NULL, 0);
		return;
	}
	if (st->state != STRANS_TRYING && st->state != STRANS_PROCEEDING) {
		free(st->held);
		st->held = NULL;
		return;
	}
	free(st->resp);
	st->resp = st->held;
	st->resplen = st->heldlen;
	st->held = NULL;
	send_resp(st);
	mem_ref(st);
	after_send(st, st->held_scode);
	mem_deref(st);
}

/* ----------------------------------------------------------- incoming */

/* Returns true when msg belonged to an existing server transaction. */
bool sip_strans_recv(const struct sip_msg *msg, const struct sip_src *src)
{
	bool ack = sip_met_is(&msg->met, "ACK");
	struct sip_strans *st;
	char met[16];

	(void)src;
	pl_strcpy(&msg->met, met, sizeof(met));
	st = lookup(msg, ack ? "INVITE" : met);
	if (!st)
		return false;
	if (ack) {
		if (st->state == STRANS_COMPLETED) {
			st->state = STRANS_CONFIRMED;
			tmr_cancel(&st->retx);
			tmr_cancel(&st->end);
			if (reliable(st))
				terminate(st);
			else
				tmr_start(&st->end, SIP_T4, timer_end, st);  /* I */
			return true;
		}
		/* ACK to a 2xx (ACCEPTED) belongs to the TU */
		return st->state != STRANS_ACCEPTED;
	}
	switch (st->state) {
	case STRANS_PROCEEDING:
	case STRANS_COMPLETED:
		send_resp(st);
		break;
	default:
		break;   /* TRYING, CONFIRMED, ACCEPTED: absorb */
	}
	return true;
}

struct sip_strans *sip_strans_find_invite(const struct sip_msg *cancel,
					  const struct sip_src *src)
{
	(void)src;
	return lookup(cancel, "INVITE");
}

int sip_strans_request(const struct sip_strans *st, struct sip_msg *msg)
{
	if (!st->req)
		return ENOENT;
	return sip_msg_decode(msg, st->req, st->reqlen);
}

const struct sip_src *sip_strans_src(const struct sip_strans *st)
{
	return &st->src;
}

enum sip_strans_state sip_strans_state(const struct sip_strans *st)
{
	return st->state;
}

const char *sip_strans_totag(const struct sip_strans *st)
{
	return st->totag;
}

void sip_strans_set_totag(struct sip_strans *st, const char *tag)
{
	snprintf(st->totag, sizeof(st->totag), "%s", tag);
}

void sip_strans_set_end_handler(struct sip_strans *st, sip_strans_end_h *h, void *arg)
{
	st->endh = h;
	st->endarg = arg;
}

static bool term_all(void *obj, void *arg)
{
	(void)arg;
	terminate(obj);
	return false;
}

void sip_strans_close(void)
{
	hash_apply(&table, term_all, NULL);
	hash_close(&table);
}

int sip_strans_table_init(void);
int sip_strans_table_init(void)
{
	return hash_init(&table, 4096);
}
