/**
 * @file cdr.c  The CDR state machine (see cdr.h), Asterisk's rules for
 * disposition, duration and billsec, and uniqueids.
 *
 * Asterisk's main/cdr.c is the reference:
 *  - duration = (end - start) in whole seconds, truncated;
 *  - billsec = (end - answer) truncated, 0 when never answered; with
 *    initiatedseconds a fraction of .5 s or more counts as a second;
 *  - disposition: the dial status when one was set (DIALSTATUS ANSWER,
 *    BUSY, NOANSWER/CANCEL, CONGESTION, CHANUNAVAIL...), else ANSWERED
 *    when answered, else from the hangup cause, else FAILED;
 *    CONGESTION is written as FAILED unless cdr.conf's congestion = yes.
 *  - uniqueid "<systemname>-<epoch>.<sequence>" (Asterisk prefixes the
 *    systemname when one is set); the sequence is per node and persisted
 *    so it never repeats, the node name makes it unique in the cluster.
 *
 * Times: the wall clock is read once at start (calldate); answer and end
 * are start plus the monotonic time elapsed, so a clock step during a call
 * does not change its duration.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "ha/ha.h"
#include "ha/turn.h"
#include "store/cdr.h"
#include "store/cdr_int.h"

struct cdr {
	struct cdr_record r;
	enum cdr_state state;
	int64_t start_mono, answer_mono, end_mono;
	bool answered;
	int cause;                 /* Q.850 hangup cause, 0: none */
	struct cdr *prev, *next;   /* list of CDRs not finalised */
};

static struct cdr *open_head;
static size_t open_n;
static const int64_t *test_wall, *test_mono;

/* ------------------------------------------------------------- clocks */

void cdr_test_clock(const int64_t *wall_us, const int64_t *mono_us)
{
	test_wall = wall_us;
	test_mono = mono_us;
}

static int64_t ts_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cdr_wall_us(void)
{
	return test_wall ? *test_wall : ts_us(CLOCK_REALTIME);
}

int64_t cdr_mono_us(void)
{
	return test_mono ? *test_mono : ts_us(CLOCK_MONOTONIC);
}

void cdr_fmt_time(int64_t us, bool gmt, char *buf, size_t size)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (us <= 0 || !(gmt ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) ||
	    !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		buf[0] = '\0';
}

/* ------------------------------------------------------------- fields */

void cdr_strcpy(char *dst, size_t size, const char *src)
{
	size_t n;

	if (!size)
		return;
	n = src ? strlen(src) : 0;
	if (n >= size) {
		n = size - 1;
		/* back off to the first byte of a UTF-8 sequence we cut */
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

const char *cdr_disposition_name(enum cdr_disposition d)
{
	switch (d) {
	case CDR_DISP_NO_ANSWER:  return "NO ANSWER";
	case CDR_DISP_FAILED:     return "FAILED";
	case CDR_DISP_BUSY:       return "BUSY";
	case CDR_DISP_ANSWERED:   return "ANSWERED";
	case CDR_DISP_CONGESTION: return "CONGESTION";
	case CDR_DISP_NULL:       break;
	}
	return "";
}

enum cdr_disposition cdr_disposition_from_dialstatus(const char *s)
{
	static const struct {
		const char *status;
		enum cdr_disposition d;
	} map[] = {
		{ "ANSWER", CDR_DISP_ANSWERED }, { "ANSWERED", CDR_DISP_ANSWERED },
		{ "BUSY", CDR_DISP_BUSY }, { "NOANSWER", CDR_DISP_NO_ANSWER },
		{ "NO ANSWER", CDR_DISP_NO_ANSWER }, { "CANCEL", CDR_DISP_NO_ANSWER },
		{ "CONGESTION", CDR_DISP_CONGESTION }, { "CHANUNAVAIL", CDR_DISP_FAILED },
	};
	size_t i;

	for (i = 0; s && i < sizeof(map) / sizeof(*map); i++)
		if (!strcasecmp(s, map[i].status))
			return map[i].d;
	return CDR_DISP_FAILED;   /* DONTCALL, TORTURE, INVALIDARGS, unknown */
}

const char *cdr_amaflags_name(enum cdr_amaflags a)
{
	switch (a) {
	case CDR_AMA_OMIT:    return "OMIT";
	case CDR_AMA_BILLING: return "BILLING";
	case CDR_AMA_DEFAULT:
	case CDR_AMA_DOCUMENTATION: break;
	}
	return "DOCUMENTATION";
}

void cdr_compute(struct cdr_record *r, bool initiatedseconds)
{
	int64_t ms;

	r->duration = r->end_us > r->start_us ? (r->end_us - r->start_us) / 1000000 : 0;
	if (!r->answer_us || r->end_us <= r->answer_us) {
		r->billsec = 0;
		return;
	}
	ms = (r->end_us - r->answer_us) / 1000;
	r->billsec = ms / 1000 + (initiatedseconds && ms % 1000 >= 500 ? 1 : 0);
}

/* One CSV field, Asterisk Master.csv style: "text" with "" for ". */
static size_t csv_field(char *buf, size_t size, size_t off, const char *v, bool last)
{
	if (off + 1 < size)
		buf[off++] = '"';
	for (; *v && off + 2 < size; v++) {
		if (*v == '"')
			buf[off++] = '"';
		buf[off++] = (*v == '\n' || *v == '\r') ? ' ' : *v;
	}
	if (off + 1 < size)
		buf[off++] = '"';
	if (!last && off + 1 < size)
		buf[off++] = ',';
	buf[off < size ? off : size - 1] = '\0';
	return off < size ? off : size - 1;
}

void cdr_record_csv(const struct cdr_record *r, char *buf, size_t size)
{
	bool gmt = cdr_conf_active()->usegmtime;
	char st[CDR_TIME], an[CDR_TIME], en[CDR_TIME], du[24], bi[24], sq[24];
	size_t off = 0;

	if (!size)
		return;
	buf[0] = '\0';
	cdr_fmt_time(r->start_us, gmt, st, sizeof(st));
	cdr_fmt_time(r->answer_us, gmt, an, sizeof(an));
	cdr_fmt_time(r->end_us, gmt, en, sizeof(en));
	snprintf(du, sizeof(du), "%" PRId64, r->duration);
	snprintf(bi, sizeof(bi), "%" PRId64, r->billsec);
	snprintf(sq, sizeof(sq), "%" PRIu64, r->sequence);
	const char *f[] = {
		r->accountcode, r->src, r->dst, r->dcontext, r->clid, r->channel,
		r->dstchannel, r->lastapp, r->lastdata, st, an, en, du, bi,
		cdr_disposition_name(r->disposition), cdr_amaflags_name(r->amaflags),
		r->uniqueid, r->userfield, r->peeraccount, r->linkedid, sq,
	};
	size_t i, n = sizeof(f) / sizeof(*f);

	for (i = 0; i < n; i++)
		off = csv_field(buf, size, off, f[i], i + 1 == n);
}

/* ------------------------------------------------------ state machine */

const char *cdr_state_name(enum cdr_state s)
{
	switch (s) {
	case CDR_STATE_OPEN:      return "open";
	case CDR_STATE_UP:        return "up";
	case CDR_STATE_FINALISED: return "finalised";
	case CDR_STATE_POSTED:    return "posted";
	case CDR_STATE_LOST:      return "lost";
	}
	return "?";
}

enum cdr_state cdr_state(const struct cdr *c)
{
	return c->state;
}

const struct cdr_record *cdr_record(const struct cdr *c)
{
	return &c->r;
}

size_t cdr_open_count(void)
{
	return open_n;
}

static void set_state(struct cdr *c, enum cdr_state to)
{
	log_debug("cdr %s: %s -> %s", c->r.uniqueid, cdr_state_name(c->state),
		  cdr_state_name(to));
	c->state = to;
}

static bool live(const struct cdr *c, const char *what)
{
	if (c->state <= CDR_STATE_UP)
		return true;
	log_debug("cdr %s: %s ignored, record is %s", c->r.uniqueid, what,
		  cdr_state_name(c->state));
	return false;
}

static void unlink_open(struct cdr *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (open_head == c)
		open_head = c->next;
	else
		return;   /* not linked */
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	open_n--;
}

/* c joins the list of calls whose record is still open. */
static void open_link(struct cdr *c)
{
	c->next = open_head;
	if (open_head)
		open_head->prev = c;
	open_head = c;
	open_n++;
}

static void destroy(void *data)
{
	struct cdr *c = data;

	if (c->state <= CDR_STATE_UP) {
		log_warn("cdr %s: released while %s; finalised now", c->r.uniqueid,
			 cdr_state_name(c->state));
		cdr_close(c);
	}
	unlink_open(c);
}

int cdr_open(struct cdr **cp, const struct cdr_start *s)
{
	const char *node = cdr_node();
	struct cdr *c;

	c = mem_zalloc(sizeof(*c), destroy);
	if (!c) {
		log_error("cdr: call record lost: out of memory opening it (src %s dst %s)",
			  s->src ? s->src : "", s->dst ? s->dst : "");
		return ENOMEM;
	}
	c->r.start_us = cdr_wall_us();
	c->start_mono = cdr_mono_us();
	c->r.sequence = cdr_seq_next();
	snprintf(c->r.uniqueid, sizeof(c->r.uniqueid), "%s%s%" PRId64 ".%" PRIu64, node,
		 node[0] ? "-" : "", c->r.start_us / 1000000, c->r.sequence);
	cdr_strcpy(c->r.linkedid, sizeof(c->r.linkedid),
		   s->linkedid && s->linkedid[0] ? s->linkedid : c->r.uniqueid);
	cdr_strcpy(c->r.clid, sizeof(c->r.clid), s->clid);
	cdr_strcpy(c->r.src, sizeof(c->r.src), s->src);
	cdr_strcpy(c->r.dst, sizeof(c->r.dst), s->dst);
	cdr_strcpy(c->r.dcontext, sizeof(c->r.dcontext), s->dcontext);
	cdr_strcpy(c->r.channel, sizeof(c->r.channel), s->channel);
	cdr_strcpy(c->r.accountcode, sizeof(c->r.accountcode), s->accountcode);
	cdr_strcpy(c->r.peeraccount, sizeof(c->r.peeraccount), s->peeraccount);
	cdr_strcpy(c->r.userfield, sizeof(c->r.userfield), s->userfield);
	c->r.amaflags = s->amaflags ? s->amaflags : CDR_AMA_DOCUMENTATION;
	c->state = CDR_STATE_OPEN;
	open_link(c);
	log_debug("cdr %s: open (src %s dst %s)", c->r.uniqueid, c->r.src, c->r.dst);
	if (ha_jnl()) {   /* a cluster node: the standby knows the call is up */
		struct jnl_entry e = { .type = JNL_CDR_OPEN };
		e.u.cdr_open = (struct jnl_cdr_open){
			jnl_pl(c->r.uniqueid), jnl_pl(c->r.linkedid), c->r.start_us,
			jnl_pl(c->r.clid), jnl_pl(c->r.src), jnl_pl(c->r.dst),
			jnl_pl(c->r.dcontext), jnl_pl(c->r.channel), jnl_pl(c->r.accountcode),
			jnl_pl(c->r.peeraccount),
		};
		ha_write(&e);
	}
	*cp = c;
	return 0;
}

int cdr_restore(struct cdr **cp, const struct cdr_record *r)
{
	int64_t wall = cdr_wall_us(), mono = cdr_mono_us();
	struct cdr *c;

	if (!r->uniqueid[0] || r->start_us <= 0 || r->start_us > wall)
		return EINVAL;
	if (!(c = mem_zalloc(sizeof(*c), destroy)))
		return ENOMEM;
	c->r = *r;
	c->r.end_us = c->r.duration = c->r.billsec = 0;
	/* the wall-clock times came from the other node: ours count on from
	 * them, so duration and billsec cover the whole call, once */
	c->start_mono = mono - (wall - r->start_us);
	if (r->answer_us > 0 && r->answer_us >= r->start_us && r->answer_us <= wall) {
		c->answered = true;
		c->answer_mono = mono - (wall - r->answer_us);
		c->state = CDR_STATE_UP;
	} else {
		c->r.answer_us = 0;
		c->state = CDR_STATE_OPEN;
	}
	open_link(c);
	log_debug("cdr %s: restored %s", c->r.uniqueid, cdr_state_name(c->state));
	*cp = c;
	return 0;
}

void cdr_handover(struct cdr *c)
{
	if (!c || c->state > CDR_STATE_UP)
		return;
	unlink_open(c);
	log_info("cdr %s: handed over to the node that serves now", c->r.uniqueid);
	set_state(c, CDR_STATE_POSTED);   /* the other node finalises it */
}

bool cdr_is_live(const struct pl *uniqueid)
{
	for (const struct cdr *c = open_head; c; c = c->next)
		if (!pl_strcmp(uniqueid, c->r.uniqueid))
			return true;
	return false;
}

void cdr_set_dst(struct cdr *c, const char *dst, const char *dcontext)
{
	if (!live(c, "set_dst"))
		return;
	cdr_strcpy(c->r.dst, sizeof(c->r.dst), dst);
	cdr_strcpy(c->r.dcontext, sizeof(c->r.dcontext), dcontext);
}

void cdr_set_app(struct cdr *c, const char *app, const char *data)
{
	if (!live(c, "set_app"))
		return;
	cdr_strcpy(c->r.lastapp, sizeof(c->r.lastapp), app);
	cdr_strcpy(c->r.lastdata, sizeof(c->r.lastdata), data);
}

void cdr_set_dstchannel(struct cdr *c, const char *dstchannel)
{
	if (live(c, "set_dstchannel"))
		cdr_strcpy(c->r.dstchannel, sizeof(c->r.dstchannel), dstchannel);
}

void cdr_userfield(struct cdr *c, const char *text)
{
	if (live(c, "userfield"))
		cdr_strcpy(c->r.userfield, sizeof(c->r.userfield), text);
}

void cdr_answer(struct cdr *c)
{
	if (!live(c, "answer") || c->answered)
		return;
	c->answered = true;
	c->answer_mono = cdr_mono_us();
	c->r.answer_us = c->r.start_us + (c->answer_mono - c->start_mono);
	set_state(c, CDR_STATE_UP);
	if (ha_jnl()) {
		struct jnl_entry e = { .type = JNL_CDR_UP };
		e.u.cdr_up = (struct jnl_cdr_up){ jnl_pl(c->r.uniqueid), c->r.answer_us };
		ha_write(&e);
	}
}

void cdr_disposition(struct cdr *c, enum cdr_disposition d)
{
	if (!live(c, "disposition"))
		return;
	c->r.disposition = d;
	if (d == CDR_DISP_ANSWERED)
		cdr_answer(c);
}

void cdr_hangupcause(struct cdr *c, int cause)
{
	if (live(c, "hangupcause"))
		c->cause = cause;
}

/* Asterisk's cdr_object_set_disposition(): NULL when the cause says nothing. */
static enum cdr_disposition from_cause(int cause)
{
	switch (cause) {
	case 17:            /* USER_BUSY */
		return CDR_DISP_BUSY;
	case 34:            /* NORMAL_CIRCUIT_CONGESTION */
		return CDR_DISP_CONGESTION;
	case 3:             /* NO_ROUTE_DESTINATION */
	case 20:            /* SUBSCRIBER_ABSENT (unregistered) */
		return CDR_DISP_FAILED;
	case 16:            /* NORMAL_CLEARING */
	case 19:            /* NO_ANSWER */
		return CDR_DISP_NO_ANSWER;
	default:
		return CDR_DISP_NULL;
	}
}

int cdr_close(struct cdr *c)
{
	int e;

	if (!c || c->state > CDR_STATE_UP)
		return 0;
	c->end_mono = cdr_mono_us();
	c->r.end_us = c->r.start_us + (c->end_mono - c->start_mono);
	/* Asterisk's cdr_object_finalize(): the dial status, else answered,
	 * else the hangup cause, else FAILED */
	if (c->r.disposition == CDR_DISP_NULL)
		c->r.disposition = c->answered ? CDR_DISP_ANSWERED : from_cause(c->cause);
	if (c->r.disposition == CDR_DISP_NULL)
		c->r.disposition = CDR_DISP_FAILED;
	if (c->r.disposition == CDR_DISP_CONGESTION && !cdr_conf_active()->congestion)
		c->r.disposition = CDR_DISP_FAILED;
	cdr_compute(&c->r, cdr_conf_active()->initiatedseconds);
	unlink_open(c);
	set_state(c, CDR_STATE_FINALISED);
	e = cdr_post(&c->r);
	set_state(c, e ? CDR_STATE_LOST : CDR_STATE_POSTED);
	return e;
}

size_t cdr_finalise_all(void)
{
	size_t n = 0;

	while (open_head) {
		cdr_close(open_head);
		n++;
	}
	return n;
}

const char *cdr_uniqueid(const struct cdr *c)
{
	return c ? c->r.uniqueid : "";
}
