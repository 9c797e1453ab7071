/**
 * @file call_queue.c  Queue() and the member applications on calls, as
 * Asterisk's app_queue runs them.
 *
 * Queue(queuename[,options[,URL[,announceoverride[,timeout]]]]) drives
 * one waiting caller through queue.h's state:
 *
 *   WAIT    answered, hearing the queue's musicclass; a 1 s tick checks
 *           Queue()'s timeout (EXITWITHTIMEOUT, QUEUESTATUS=TIMEOUT),
 *           leavewhenempty (EXITEMPTY, LEAVEEMPTY) and, once `retry` has
 *           passed since the last round, whether it is the caller's turn;
 *           then queue_select() picks members and they are rung.
 *   RING    the members ring through the dial op (the machinery of Dial,
 *           SIP/peer interfaces, forked with '&') for the queue's timeout=
 *           (capped by what is left of Queue()'s), with Dial's m option so
 *           the caller keeps hearing music; a 100 ms poll sees the first
 *           leg answer (call.c bridges it and stops the music): CONNECT.
 *           No answer: RINGNOANSWER per member, back to WAIT.
 *   CONNECTED  bridged; when the member hangs up (the dial op returns
 *           ANSWER) COMPLETEAGENT, when the caller does COMPLETECALLER;
 *           queue_call_done() starts wrapuptime. As Asterisk, the caller
 *           is hung up when the member hangs up unless option c is given.
 *
 * The caller hanging up while waiting or ringing is ABANDON. QUEUESTATUS
 * takes Asterisk's values (TIMEOUT, FULL, JOINEMPTY, LEAVEEMPTY,
 * JOINUNAVAIL, LEAVEUNAVAIL, CONTINUE, UNKNOWN); it is not set on a call
 * that was connected.
 *
 * Differences from Asterisk: a round rings what queue_select() chose
 * (ringall: every member of the best metric; other strategies one) and a
 * member that refuses at once is tried again only after `retry` (Asterisk
 * rings the next one at once); the options other than c, the URL and
 * announceoverride are accepted and ignored. Announcements (announce-frequency: position and average hold
 * time; periodic-announce-frequency) play while waiting, not while the
 * members ring; the music comes back after them.
 *
 * AddQueueMember / RemoveQueueMember / PauseQueueMember /
 * UnpauseQueueMember work on queue_member_*() and set AQMSTATUS,
 * RQMSTATUS, PQMSTATUS, UPQMSTATUS as app_queue does.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "dialplan/exec.h"
#include "media/say.h"
#include "pbx/call_int.h"
#include "pbx/call_play.h"
#include "pbx/call_queue.h"
#include "pbx/presence.h"
#include "pbx/queue.h"
#include "pbx/queue_log.h"
#include "pbx/registrar.h"

#define RUNG_MAX MAX_LEGS
#define POLL_MS 100
#define TICK_MS 1000

enum qphase { QP_WAIT, QP_RING, QP_CONNECTED, QP_DONE };

static const char *phase_names[] = { "Wait", "Ring", "Connected", "Done" };

/* One caller in Queue(). */
struct qcall {
	struct qcall *next;
	struct dp_chan *chan;
	struct call *c;
	enum qphase phase;
	char queue[128];
	char uniqueid[64];
	char musicclass[80];
	struct queue_caller *qc;      /* NULL once it left the queue */
	struct tmr tmr;
	time_t next_try;              /* retry: no round before this */
	const char *status;           /* QUEUESTATUS when phase is QP_DONE */
	bool opt_c;                   /* continue when the member hangs up */
	/* announcements while waiting */
	bool announcing;              /* prompts play; music again after them */
	time_t last_pos;              /* last position announcement */
	bool holdtime_said;           /* announce-holdtime=once */
	time_t last_periodic;
	size_t periodic_idx;
	/* the round ringing now */
	char rung[RUNG_MAX][96];
	size_t nrung;
	uint64_t ring_start;          /* loop_now() ms */
	/* the connected member */
	char iface[96], agent[128];
	long holdtime;
	int opos;
	time_t connected;
};

static struct qcall *qcalls;

static void tick(void *arg);
static void ring_poll(void *arg);

/* ---------------------------------------------------------- helpers */

static void warn_at(struct dp_chan *chan, const char *msg, const char *arg)
{
	unsigned line = 0;
	const char *file = dp_chan_file(chan, &line);

	log_warn("%s:%u: %s%s", file, line, msg, arg ? arg : "");
}

static struct qcall *find(const struct dp_chan *chan)
{
	struct qcall *q;

	for (q = qcalls; q && q->chan != chan; q = q->next)
		;
	return q;
}

static void qcall_free(struct qcall *q)
{
	struct qcall **pp;

	for (pp = &qcalls; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	tmr_cancel(&q->tmr);
	free(q);
}

static const char *agent_of(const struct queue_state *qs, const struct queue_member *m)
{
	(void)qs;
	return m->membername && *m->membername ? m->membername : m->interface;
}

/*
 * Device states of the members whose state interface is SIP/peer, as
 * Asterisk's chan_sip devicestate: no such peer INVALID; a host=dynamic
 * peer not registered UNAVAILABLE; else from the calls it is in (ringing,
 * in use). Read before each decision (join, turn, selection); members of
 * other technologies keep theirs.
 */
static void devices_refresh(struct queue_state *qs)
{
	const struct sipconf *sc = pbx_sipconf();
	size_t i, k;

	for (i = 0; sc && i < qs->n; i++)
		for (k = 0; k < qs->queues[i]->nmembers; k++) {
			struct queue_member *m = qs->queues[i]->members[k];
			const char *si = m->state_interface ? m->state_interface : m->interface;
			struct presence_usage u;
			const struct peer *p;
			struct pl pn;

			if (strncasecmp(si, "SIP/", 4))
				continue;
			pn.p = si + 4;
			pn.l = strcspn(si + 4, "/");
			p = sipconf_peer(sc, &pn);
			if (!p) {
				m->status = QUEUE_DEV_INVALID;
				continue;
			}
			if (!p->host && !registrar_find(p->name)) {
				m->status = QUEUE_DEV_UNAVAILABLE;
				continue;
			}
			call_peer_usage(p->name, &u);
			m->status = u.inuse ? (u.ringing ? QUEUE_DEV_RINGINUSE : QUEUE_DEV_INUSE)
				  : u.ringing ? QUEUE_DEV_RINGING : QUEUE_DEV_NOT_INUSE;
		}
}

/* The rung members stop ringing; with log, each gets RINGNOANSWER. */
static void rung_end(struct qcall *q, bool log)
{
	struct queue_state *qs = queue_state_current();
	long ms = (long)(loop_now() - q->ring_start);

	for (size_t i = 0; i < q->nrung; i++) {
		struct queue *qu = qs ? queue_find(qs, q->queue) : NULL;
		struct queue_member *m = qu ? queue_member_find(qu, q->rung[i]) : NULL;

		if (qs)
			queue_member_ringing(qs, q->rung[i], false);
		if (log)
			queue_log_ringnoanswer(q->queue, q->uniqueid,
					       m ? agent_of(qs, m) : q->rung[i], ms);
	}
	q->nrung = 0;
	if (q->qc)
		q->qc->pending = false;
}

/* The caller leaves the queue waiting (not connected): event and log. */
static void leave(struct qcall *q, enum queue_leave_reason why, const char *event)
{
	struct queue_state *qs = queue_state_current();
	time_t now = time(NULL);

	if (!q->qc || !qs)
		return;
	queue_log_exit(q->queue, q->uniqueid, event, q->qc->pos, q->qc->opos,
		       (long)(now - q->qc->start));
	queue_leave(qs, q->qc, why, now);
	q->qc = NULL;
}

static void music(struct qcall *q)
{
	if (call_play_ops.moh(q->c, q->musicclass[0] ? q->musicclass : NULL))
		log_info("call %u: queue %s: no music on hold for the waiting caller", q->c->id,
			 q->queue);
}

/* ------------------------------------------------------ announcements */

static void add(char *list, size_t size, const char *item)
{
	size_t l = strlen(list);

	if (item && *item)
		snprintf(list + l, size - l, "%s%s", l ? "&" : "", item);
}

/*
 * app_queue's say_position(): "you are next" or "there are N calls
 * waiting" (announce-position, -limit), the average hold time in minutes
 * (announce-holdtime, when known), "thank you"; list gets the prompts.
 */
static void position_prompts(struct qcall *q, const char *lang, char *list, size_t size)
{
	const struct queue_conf *cf = q->qc->q->cf;
	int pos = q->qc->pos, mins = (q->qc->q->holdtime + 30) / 60;
	char num[256];

	list[0] = '\0';
	if (cf->announce_position == QUEUE_POS_YES ||
	    (cf->announce_position == QUEUE_POS_LIMIT &&
	     pos <= (int)cf->announce_position_limit) ||
	    cf->announce_position == QUEUE_POS_MORE) {
		if (pos == 1) {
			add(list, size, cf->sound_next);
		} else {
			/* announce-position=more past the limit: "more than N" */
			bool more = cf->announce_position == QUEUE_POS_MORE &&
				    pos > (int)cf->announce_position_limit;
			add(list, size, more ? cf->sound_quantity1 : cf->sound_thereare);
			if (say_number(more ? (int)cf->announce_position_limit : pos, lang, NULL,
				       num, sizeof(num)) == 0)
				add(list, size, num);
			add(list, size, more ? cf->sound_quantity2 : cf->sound_calls);
		}
	}
	if (cf->announce_holdtime != QUEUE_HOLDTIME_NO && mins > 0 &&
	    !(cf->announce_holdtime == QUEUE_HOLDTIME_ONCE && q->holdtime_said)) {
		add(list, size, cf->sound_holdtime);
		if (say_number(mins, lang, NULL, num, sizeof(num)) == 0)
			add(list, size, num);
		add(list, size, mins == 1 ? cf->sound_minute : cf->sound_minutes);
		q->holdtime_said = true;
	}
	if (list[0])
		add(list, size, cf->sound_thanks);
}

/* Start an announcement that is due (announce-frequency,
 * periodic-announce-frequency); true when prompts now play. */
static bool announce(struct qcall *q, time_t now)
{
	const struct queue_conf *cf = q->qc->q->cf;
	const char *lang = call_play_ops.get(q->c, "language");
	char list[1024] = "";
	const char *what = NULL;

	if (cf->announce_frequency && now - q->last_pos >= (time_t)cf->announce_frequency &&
	    now - q->last_pos >= (time_t)cf->min_announce_frequency) {
		position_prompts(q, lang ? lang : "en", list, sizeof(list));
		q->last_pos = now;
		what = "position";
	}
	if (!list[0] && cf->periodic_announce_frequency &&
	    now - q->last_periodic >= (time_t)cf->periodic_announce_frequency) {
		size_t n = cf->nperiodic ? cf->nperiodic : 1;
		add(list, sizeof(list), cf->periodic_announce[q->periodic_idx % n]);
		q->periodic_idx++;
		q->last_periodic = now;
		what = "periodic announcement";
	}
	if (!list[0])
		return false;
	log_info("call %u: queue %s: %s at position %d: %s", q->c->id, q->queue, what,
		 q->qc->pos, list);
	if (call_play_ops.files(q->c, lang ? lang : "en", list) && !call_play_ops.playing(q->c))
		return false;
	q->announcing = true;
	return true;
}

/* ------------------------------------------------------------- phases */

/* Leave the application from a timer (not from the engine): QUEUESTATUS
 * is set by resumed(). The call may be gone when this returns. */
static void done_from_timer(struct qcall *q, const char *status)
{
	q->phase = QP_DONE;
	q->status = status;
	call_dp_resume(q->c);
}

/* The first answer: the member is bridged (call.c stopped the music). */
static void connected(struct qcall *q)
{
	struct queue_state *qs = queue_state_current();
	struct leg *l = q->c->bridged;
	struct queue_member *m;
	time_t now = time(NULL);
	long ringtime = (long)((loop_now() - q->ring_start) / 1000);

	tmr_cancel(&q->tmr);
	snprintf(q->iface, sizeof(q->iface), "SIP/%s", l->peer);
	rung_end(q, false);
	if (!q->qc || !qs) {
		q->phase = QP_CONNECTED;
		return;
	}
	m = queue_member_find(q->qc->q, q->iface);
	snprintf(q->agent, sizeof(q->agent), "%s", m ? agent_of(qs, m) : q->iface);
	q->holdtime = (long)(now - q->qc->start);
	q->opos = q->qc->opos;
	if (m)
		queue_caller_connected(qs, q->qc, m, now);
	else
		queue_leave(qs, q->qc, QUEUE_LEFT_CONNECTED, now);
	q->qc = NULL;
	q->connected = now;
	q->phase = QP_CONNECTED;
	queue_log_connect(q->queue, q->uniqueid, q->agent, q->holdtime, l->channel, ringtime);
	log_info("call %u: queue %s: connected to %s after %ld s", q->c->id, q->queue,
		 q->iface, q->holdtime);
}

static void completed(struct qcall *q, bool by_caller)
{
	struct queue_state *qs = queue_state_current();
	time_t now = time(NULL);
	long talk = (long)(now - q->connected);

	queue_log_complete(q->queue, q->uniqueid, q->agent, by_caller, q->holdtime, talk,
			   q->opos);
	if (qs)
		queue_call_done(qs, q->queue, q->iface, q->holdtime, talk, now);
}

static void ring_poll(void *arg)
{
	struct qcall *q = arg;

	if (q->c->bridged && q->c->bridged->state == LEG_UP) {
		connected(q);
		return;
	}
	tmr_start(&q->tmr, POLL_MS, ring_poll, q);
}

/* Ring what queue_select() picks now; false when nothing rang. */
static bool ring_round(struct qcall *q, time_t now)
{
	struct queue_state *qs = queue_state_current();
	const struct queue_conf *cf = q->qc->q->cf;
	const struct dp_chan_ops *ops = dp_chan_ops(q->chan);
	struct queue_selection *sel;
	char targets[512] = "", opts[96];
	size_t i, len = 0;
	unsigned ring_s = cf->timeout;

	sel = malloc(sizeof(*sel));
	if (!sel)
		return false;
	queue_select(qs, q->qc, now, (uint32_t)rand(), NULL, NULL, sel);
	call_legs_reap(q->c);
	q->nrung = 0;
	for (i = 0; i < sel->nring && q->nrung < RUNG_MAX; i++) {
		const char *iface = sel->cand[i].m->interface;
		int w;

		if (strncasecmp(iface, "SIP/", 4)) {
			log_warn("queue %s: member %s: only SIP/ interfaces can be rung", q->queue,
				 iface);
			continue;
		}
		w = snprintf(targets + len, sizeof(targets) - len, "%s%s", len ? "&" : "", iface);
		if (w < 0 || (size_t)w >= sizeof(targets) - len)
			break;
		len += (size_t)w;
		snprintf(q->rung[q->nrung++], sizeof(q->rung[0]), "%s", iface);
	}
	if (sel->nring)
		queue_selection_commit(q->qc, sel);
	free(sel);
	if (!q->nrung)
		return false;
	if (q->qc->expire) {
		unsigned left = q->qc->expire > now ? (unsigned)(q->qc->expire - now) : 1;
		if (!ring_s || left < ring_s)
			ring_s = left;
	}
	if (q->musicclass[0])
		snprintf(opts, sizeof(opts), "m(%s)", q->musicclass);
	else
		snprintf(opts, sizeof(opts), "m");
	q->ring_start = loop_now();
	if (ops->dial(q->c, targets, ring_s, opts) != 0) {
		log_info("call %u: queue %s: none of %s could be rung", q->c->id, q->queue,
			 targets);
		q->nrung = 0;
		return false;
	}
	log_info("call %u: queue %s: ringing %s for %u s", q->c->id, q->queue, targets, ring_s);
	for (i = 0; i < q->nrung; i++)
		queue_member_ringing(qs, q->rung[i], true);
	q->qc->pending = true;
	q->phase = QP_RING;
	tmr_start(&q->tmr, POLL_MS, ring_poll, q);
	return true;
}

/* WAIT: the caller listens to the music; every second, see what is due. */
static void tick(void *arg)
{
	struct qcall *q = arg;
	struct queue_state *qs = queue_state_current();
	time_t now = time(NULL);

	if (!q->qc || !qs) {
		done_from_timer(q, "CONTINUE");
		return;
	}
	if (q->qc->expire && now >= q->qc->expire) {
		leave(q, QUEUE_LEFT_TIMEOUT, "EXITWITHTIMEOUT");
		done_from_timer(q, "TIMEOUT");
		return;
	}
	devices_refresh(qs);
	if (!queue_caller_may_stay(qs, q->qc, now)) {
		/* app_queue: no members at all is EMPTY, unreachable ones UNAVAIL */
		const char *st = q->qc->q->nmembers ? "LEAVEUNAVAIL" : "LEAVEEMPTY";
		leave(q, QUEUE_LEFT_EMPTY, "EXITEMPTY");
		done_from_timer(q, st);
		return;
	}
	if (now >= q->next_try && queue_caller_turn(qs, q->qc, now)) {
		q->announcing = false;   /* Dial's m puts the music back */
		if (ring_round(q, now))
			return;
		q->next_try = now + (q->qc->q->cf->retry ? q->qc->q->cf->retry : 1);
	}
	if (q->announcing && !call_play_ops.playing(q->c)) {
		q->announcing = false;
		music(q);
	}
	if (!q->announcing && announce(q, now)) {
		tmr_start(&q->tmr, POLL_MS, tick, q);
		return;
	}
	tmr_start(&q->tmr, q->announcing ? POLL_MS : TICK_MS, tick, q);
}

/*
 * The engine resumes Queue(): the caller hung up (res HANGUP), the ring
 * round ended (the dial op set DIALSTATUS), or a timer decided (QP_DONE).
 * Returns DP_APP_WAIT to wait on, else frees q.
 */
static enum dp_app_ret resumed(struct dp_chan *chan, enum dp_res res)
{
	struct qcall *q = find(chan);
	enum dp_app_ret ret = DP_APP_NEXT;
	time_t now = time(NULL);

	if (!q)
		return res == DP_RES_HANGUP ? DP_APP_HANGUP : DP_APP_NEXT;
	tmr_cancel(&q->tmr);
	if (q->phase == QP_RING && q->c->bridged)
		connected(q);   /* answered (and maybe over) before the poll saw it */
	if (res == DP_RES_HANGUP) {
		if (q->phase == QP_CONNECTED) {
			completed(q, true);
		} else if (q->phase != QP_DONE) {
			rung_end(q, false);
			leave(q, QUEUE_LEFT_ABANDON, "ABANDON");
		}
		qcall_free(q);
		return DP_APP_HANGUP;
	}
	switch (q->phase) {
	case QP_DONE:
		dp_chan_var_set(chan, "QUEUESTATUS", q->status);
		break;
	case QP_CONNECTED:
		/* the member hung up (Dial's ANSWER) */
		dp_chan_var_set(chan, "DIALSTATUS", "");
		completed(q, false);
		ret = q->opt_c ? DP_APP_NEXT : DP_APP_HANGUP;
		break;
	case QP_RING:
		/* nobody answered this round */
		dp_chan_var_set(chan, "DIALSTATUS", "");
		rung_end(q, true);
		call_legs_reap(q->c);
		if (q->c->answered)
			q->c->state = CALL_UP;   /* waiting again, not ringing (tandemctl calls) */
		q->phase = QP_WAIT;
		if (q->qc && q->qc->expire && now >= q->qc->expire) {
			leave(q, QUEUE_LEFT_TIMEOUT, "EXITWITHTIMEOUT");
			dp_chan_var_set(chan, "QUEUESTATUS", "TIMEOUT");
			break;
		}
		q->next_try = now + (q->qc ? q->qc->q->cf->retry : 0);
		music(q);
		tmr_start(&q->tmr, 0, tick, q);
		dp_chan_on_resume(chan, resumed);
		return DP_APP_WAIT;
	case QP_WAIT:
		/* resumed by something else: leave cleanly */
		leave(q, QUEUE_LEFT_TIMEOUT, "EXITWITHTIMEOUT");
		dp_chan_var_set(chan, "QUEUESTATUS", "CONTINUE");
		break;
	}
	log_debug("queue %s: caller %s leaves Queue() in phase %s", q->queue, q->uniqueid,
		  phase_names[q->phase]);
	qcall_free(q);
	return ret;
}

/* ------------------------------------------------------------- Queue */

static const char *join_status(enum queue_join_result r)
{
	switch (r) {
	case QUEUE_FULL: return "FULL";
	case QUEUE_JOINEMPTY: return "JOINEMPTY";
	case QUEUE_NOSUCHQUEUE: return "UNKNOWN";
	default: return "CONTINUE";
	}
}

static enum dp_app_ret app_queue(struct dp_chan *chan, const char *data)
{
	struct queue_state *qs = queue_state_current();
	const struct dp_chan_ops *ops = dp_chan_ops(chan);
	struct call *c = dp_chan_call(chan);
	struct queue_join_args ja = { .max_penalty = INT_MAX, .min_penalty = INT_MAX };
	enum queue_join_result jr = QUEUE_NOSUCHQUEUE;
	struct queue_caller *qc = NULL;
	const char *uid, *prio;
	char d[1024], *v[5];
	struct qcall *q;
	long t;

	snprintf(d, sizeof(d), "%s", data ? data : "");
	dp_args_split(d, v, 5);
	if (!v[0][0]) {
		warn_at(chan, "Queue requires an argument: queuename[,options[,URL"
			"[,announceoverride[,timeout]]]]", NULL);
		return DP_APP_NEXT;
	}
	t = atol(v[4]);
	uid = ops->get ? ops->get(c, "uniqueid") : NULL;
	ja.id = uid ? uid : c->channel;
	ja.cidnum = dp_chan_cid_num(chan);
	ja.cidname = dp_chan_cid_name(chan);
	ja.timeout = t > 0 ? (uint32_t)t : 0;
	if ((prio = dp_chan_var_get(chan, "QUEUE_PRIO")))
		ja.prio = atoi(prio);
	ja.arg = c;
	if (qs)
		devices_refresh(qs);
	if (qs && queue_join(qs, v[0], &ja, time(NULL), &qc, &jr) == ENOMEM)
		return DP_APP_HANGUP;
	if (jr != QUEUE_JOINED) {
		if (jr == QUEUE_NOSUCHQUEUE)
			warn_at(chan, "Queue: no such queue: ", v[0]);
		else
			log_info("%s: queue %s: not joined (%s)", ja.id, v[0],
				 queue_join_result_name(jr));
		if (jr == QUEUE_JOINEMPTY && queue_find(qs, v[0]) && queue_find(qs, v[0])->nmembers)
			dp_chan_var_set(chan, "QUEUESTATUS", "JOINUNAVAIL");
		else
			dp_chan_var_set(chan, "QUEUESTATUS", join_status(jr));
		return DP_APP_NEXT;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		queue_leave(qs, qc, QUEUE_LEFT_ABANDON, time(NULL));
		return DP_APP_HANGUP;
	}
	q->chan = chan;
	q->c = c;
	q->qc = qc;
	q->opt_c = strchr(v[1], 'c') != NULL;
	q->last_periodic = time(NULL);
	tmr_init(&q->tmr);
	snprintf(q->queue, sizeof(q->queue), "%s", qc->q->name);
	snprintf(q->uniqueid, sizeof(q->uniqueid), "%s", ja.id);
	if (qc->q->cf->musicclass)
		snprintf(q->musicclass, sizeof(q->musicclass), "%s", qc->q->cf->musicclass);
	q->next = qcalls;
	qcalls = q;
	queue_log_enterqueue(q->queue, q->uniqueid, v[2], ja.cidnum, qc->pos);
	log_info("call %u: joined queue %s at position %d (timeout %u s)", c->id, q->queue,
		 qc->pos, ja.timeout);
	if (ops->answer && ops->answer(c) != 0) {
		leave(q, QUEUE_LEFT_ABANDON, "ABANDON");
		qcall_free(q);
		return DP_APP_HANGUP;
	}
	music(q);
	q->phase = QP_WAIT;
	tmr_start(&q->tmr, 0, tick, q);
	dp_chan_on_resume(chan, resumed);
	return DP_APP_WAIT;
}

/* ----------------------------------------------------- member apps */

static const char *member_agent(const struct queue_state *qs, const char *queue,
				const char *iface)
{
	struct queue_member *m = queue_member_find(queue_find(qs, queue), iface);

	return m && qs->cf->gen.log_membername_as_agent ? agent_of(qs, m) : iface;
}

/* The interface argument, or the channel's own (Asterisk: the channel
 * name without its -suffix, "SIP/100-tfg"). */
static void own_iface(struct dp_chan *chan, const char *arg, char *out, size_t size)
{
	const struct dp_chan_ops *ops = dp_chan_ops(chan);
	const char *peer;

	if (arg && *arg) {
		snprintf(out, size, "%s", arg);
		return;
	}
	peer = ops->get ? ops->get(dp_chan_call(chan), "peer") : NULL;
	snprintf(out, size, "SIP/%s", peer ? peer : "");
}

/* AddQueueMember(queue[,interface[,penalty[,options[,membername[,stateinterface]]]]]) */
static enum dp_app_ret app_addmember(struct dp_chan *chan, const char *data)
{
	struct queue_state *qs = queue_state_current();
	char d[1024], *v[6], iface[128];
	const char *st;
	int e;

	snprintf(d, sizeof(d), "%s", data ? data : "");
	dp_args_split(d, v, 6);
	if (!v[0][0]) {
		warn_at(chan, "AddQueueMember requires an argument: queuename[,interface"
			"[,penalty[,options[,membername[,stateinterface]]]]]", NULL);
		return DP_APP_NEXT;
	}
	own_iface(chan, v[1], iface, sizeof(iface));
	e = qs ? queue_member_add(qs, v[0], iface, atoi(v[2]), false,
				  v[4][0] ? v[4] : NULL, v[5][0] ? v[5] : NULL) : ENOENT;
	st = e == 0 ? "ADDED" : e == EEXIST ? "MEMBERALREADY" : e == ENOENT ? "NOSUCHQUEUE"
								: "FAILED";
	if (e == 0)
		queue_log_member(queue_find(qs, v[0])->name, "NONE",
				 member_agent(qs, v[0], iface), 1, 0);
	else
		log_notice("AddQueueMember(%s,%s): %s", v[0], iface, st);
	dp_chan_var_set(chan, "AQMSTATUS", st);
	return DP_APP_NEXT;
}

/* RemoveQueueMember(queue[,interface]) */
static enum dp_app_ret app_removemember(struct dp_chan *chan, const char *data)
{
	struct queue_state *qs = queue_state_current();
	char d[1024], *v[3], iface[128], agent[256];
	const char *st;
	int e;

	snprintf(d, sizeof(d), "%s", data ? data : "");
	dp_args_split(d, v, 3);
	if (!v[0][0]) {
		warn_at(chan, "RemoveQueueMember requires an argument: queuename[,interface]",
			NULL);
		return DP_APP_NEXT;
	}
	own_iface(chan, v[1], iface, sizeof(iface));
	if (qs)
		snprintf(agent, sizeof(agent), "%s", member_agent(qs, v[0], iface));
	e = qs ? queue_member_remove(qs, v[0], iface) : ENOENT;
	st = e == 0 ? "REMOVED" : e == ENOENT ? "NOSUCHQUEUE" : e == ESRCH ? "NOTINQUEUE"
								: "NOTDYNAMIC";
	if (e == 0)
		queue_log_member(queue_find(qs, v[0])->name, "NONE", agent, 0, 0);
	else
		log_notice("RemoveQueueMember(%s,%s): %s", v[0], iface, st);
	dp_chan_var_set(chan, "RQMSTATUS", st);
	return DP_APP_NEXT;
}

/* [Un]PauseQueueMember([queue],interface[,options[,reason]]) */
static enum dp_app_ret pause_member(struct dp_chan *chan, const char *data, bool paused)
{
	struct queue_state *qs = queue_state_current();
	const char *var = paused ? "PQMSTATUS" : "UPQMSTATUS";
	char d[1024], *v[4];
	int e;

	snprintf(d, sizeof(d), "%s", data ? data : "");
	dp_args_split(d, v, 4);
	if (!v[1][0]) {
		warn_at(chan, paused ? "PauseQueueMember" : "UnpauseQueueMember",
			" requires an interface: [queuename],interface[,options[,reason]]");
		dp_chan_var_set(chan, var, "NOTFOUND");
		return DP_APP_NEXT;
	}
	e = qs ? queue_member_pause(qs, v[0][0] ? v[0] : NULL, v[1], paused,
				    v[3][0] ? v[3] : NULL) : ESRCH;
	dp_chan_var_set(chan, var, e ? "NOTFOUND" : paused ? "PAUSED" : "UNPAUSED");
	return DP_APP_NEXT;
}

static enum dp_app_ret app_pausemember(struct dp_chan *chan, const char *data)
{
	return pause_member(chan, data, true);
}

static enum dp_app_ret app_unpausemember(struct dp_chan *chan, const char *data)
{
	return pause_member(chan, data, false);
}

/* ------------------------------------------------------------- init */

void call_queue_init(void)
{
	static const struct { const char *name; dp_app_h *h; } apps[] = {
		{ "Queue", app_queue }, { "AddQueueMember", app_addmember },
		{ "RemoveQueueMember", app_removemember },
		{ "PauseQueueMember", app_pausemember },
		{ "UnpauseQueueMember", app_unpausemember },
	};

	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
		(void)dp_app_register(apps[i].name, apps[i].h);
}
