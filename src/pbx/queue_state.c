/**
 * @file queue_state.c  Live queues (see queue.h): callers in order,
 * members and their counters, reload, member selection per strategy and
 * the persistent member string. The rules are app_queue's (Asterisk 13):
 * join_queue, is_our_turn, num_available_members, get_member_status,
 * is_member_available, update_queue, recalc_holdtime, record_abandoned,
 * add_to_queue, remove_from_queue, set_member_paused, dump_queue_members,
 * reload_queue_members.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "pbx/queue.h"
#include "pbx/queue_int.h"
#include "pbx/queue_log.h"

static struct queue_state *current;

void queue_state_set_current(struct queue_state *qs)
{
	current = qs;
}

struct queue_state *queue_state_current(void)
{
	return current;
}

const char *queue_dev_name(enum queue_dev d)
{
	static const char *const names[] = {
		"Unknown", "Not in use", "In use", "Busy", "Invalid", "Unavailable",
		"Ringing", "Ring+Inuse", "On Hold"
	};

	return (unsigned)d < sizeof(names) / sizeof(*names) ? names[d] : "Unknown";
}

const char *queue_join_result_name(enum queue_join_result r)
{
	static const char *const names[] = { "JOINED", "FULL", "JOINEMPTY", "NOSUCHQUEUE" };

	return (unsigned)r < 4 ? names[r] : "UNKNOWN";
}

/* ------------------------------------------------------------ objects */

static void member_free(struct queue_member *m)
{
	if (!m)
		return;
	free(m->interface);
	free(m->membername);
	free(m->state_interface);
	free(m->paused_reason);
	free(m);
}

static struct queue_member *member_new(const char *interface, const char *name,
				       const char *si, int penalty)
{
	struct queue_member *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->interface = strdup(interface);
	m->membername = strdup(name && *name ? name : interface);
	m->state_interface = strdup(si && *si ? si : interface);
	m->penalty = penalty;
	m->wrapuptime = -1;
	m->ringinuse = true;
	if (!m->interface || !m->membername || !m->state_interface) {
		member_free(m);
		return NULL;
	}
	return m;
}

static void caller_free(struct queue_caller *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->cidnum);
	free(c->cidname);
	free(c);
}

static void queue_free(struct queue *q)
{
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->nmembers; i++)
		member_free(q->members[i]);
	free(q->members);
	for (i = 0; i < q->ncallers; i++)
		caller_free(q->callers[i]);
	free(q->callers);
	mem_deref(q->snap);
	free(q->name);
	free(q);
}

static struct queue *find_any(const struct queue_state *qs, const char *name)
{
	size_t i;

	for (i = 0; name && i < qs->n; i++)
		if (!strcasecmp(qs->queues[i]->name, name))
			return qs->queues[i];
	return NULL;
}

struct queue *queue_find(const struct queue_state *qs, const char *name)
{
	struct queue *q = qs ? find_any(qs, name) : NULL;

	return q && !q->dead ? q : NULL;
}

struct queue_member *queue_member_find(const struct queue *q, const char *interface)
{
	size_t i;

	for (i = 0; q && interface && i < q->nmembers; i++)
		if (!strcasecmp(q->members[i]->interface, interface))
			return q->members[i];
	return NULL;
}

/* Member array has room for one more. */
static int members_room(struct queue *q)
{
	struct queue_member **l = realloc(q->members, (q->nmembers + 1) * sizeof(*l));

	if (!l)
		return ENOMEM;
	q->members = l;
	return 0;
}

/* member_remove_from_queue + queue_member_follower_removal */
static void member_unlink(struct queue *q, size_t idx)
{
	struct queue_member *m = q->members[idx];
	size_t i;

	if (m->queuepos < q->rrpos)
		q->rrpos--;
	for (i = 0; i < q->nmembers; i++)
		if (q->members[i]->queuepos > m->queuepos)
			q->members[i]->queuepos--;
	memmove(&q->members[idx], &q->members[idx + 1],
		(q->nmembers - idx - 1) * sizeof(*q->members));
	q->nmembers--;
	member_free(m);
}

/*
 * Put q on snapshot cf (reload_single_queue with members): listed members
 * become static (kept in place, pause and counters kept), new ones are
 * appended, static ones no longer listed go, dynamic ones stay.
 */
static int queue_apply(struct queue *q, struct queuesconf *snap, const struct queue_conf *cf)
{
	struct queue_member **fresh = calloc(cf->nmembers ? cf->nmembers : 1, sizeof(*fresh));
	struct queue_member **l;
	size_t i, k;

	if (!fresh)
		return ENOMEM;
	for (i = 0; i < cf->nmembers; i++) {   /* allocate first: fail before changing */
		const struct queue_member_conf *mc = &cf->members[i];
		if (queue_member_find(q, mc->interface))
			continue;
		if (!(fresh[i] = member_new(mc->interface, mc->membername,
					    mc->state_interface, mc->penalty)))
			goto oom;
	}
	l = realloc(q->members, (q->nmembers + cf->nmembers + 1) * sizeof(*l));
	if (!l)
		goto oom;
	q->members = l;
	for (i = 0; i < q->nmembers; i++)
		q->members[i]->seen = false;
	for (i = 0; i < cf->nmembers; i++) {
		const struct queue_member_conf *mc = &cf->members[i];
		struct queue_member *m = fresh[i];

		if (m) {
			m->paused = mc->paused;
			m->queuepos = (unsigned)q->nmembers;
			q->members[q->nmembers++] = m;
		} else {
			m = queue_member_find(q, mc->interface);
			m->penalty = mc->penalty;
			if (strcmp(m->membername, mc->membername) ||
			    strcmp(m->state_interface, mc->state_interface)) {
				char *a = strdup(mc->membername), *b = strdup(mc->state_interface);
				if (a && b) {
					free(m->membername);
					free(m->state_interface);
					m->membername = a;
					m->state_interface = b;
				} else {
					free(a);
					free(b);
				}
			}
		}
		m->dynamic = false;
		m->ringinuse = mc->ringinuse != 0;
		m->wrapuptime = mc->wrapuptime;
		m->seen = true;
	}
	for (k = q->nmembers; k > 0; k--)
		if (!q->members[k - 1]->seen && !q->members[k - 1]->dynamic)
			member_unlink(q, k - 1);
	free(fresh);
	if (q->snap != snap) {
		mem_ref(snap);
		mem_deref(q->snap);
		q->snap = snap;
	}
	q->cf = cf;
	q->dead = false;
	return 0;
oom:
	for (i = 0; i < cf->nmembers; i++)
		member_free(fresh[i]);
	free(fresh);
	return ENOMEM;
}

static struct queue *queue_new(const char *name)
{
	struct queue *q = calloc(1, sizeof(*q));

	if (!q || !(q->name = strdup(name))) {
		free(q);
		return NULL;
	}
	return q;
}

int queue_state_new(struct queue_state **out, struct queuesconf *cf)
{
	struct queue_state *qs = calloc(1, sizeof(*qs));
	int e;

	if (!qs)
		return ENOMEM;
	if ((e = queue_state_reload(qs, cf))) {
		queue_state_free(qs);
		return e;
	}
	*out = qs;
	return 0;
}

void queue_state_free(struct queue_state *qs)
{
	size_t i;

	if (!qs)
		return;
	if (current == qs)
		current = NULL;
	for (i = 0; i < qs->n; i++)
		queue_free(qs->queues[i]);
	free(qs->queues);
	mem_deref(qs->cf);
	free(qs);
}

int queue_state_reload(struct queue_state *qs, struct queuesconf *cf)
{
	struct queue **l = calloc(cf->n + qs->n + 1, sizeof(*l));
	size_t i, n = 0;
	int e = 0;

	if (!l)
		return ENOMEM;
	for (i = 0; i < qs->n; i++)
		qs->queues[i]->seen_reload = false;
	for (i = 0; i < cf->n && !e; i++) {
		struct queue *q = find_any(qs, cf->list[i]->name), *fresh = NULL;

		if (!q && !(q = fresh = queue_new(cf->list[i]->name))) {
			e = ENOMEM;
			break;
		}
		if ((e = queue_apply(q, cf, cf->list[i]))) {
			queue_free(fresh);
			break;
		}
		q->seen_reload = true;
		l[n++] = q;
	}
	if (e) {   /* new queues made so far go; kept ones stay in qs->queues */
		for (i = 0; i < n; i++)
			if (!find_any(qs, l[i]->name))
				queue_free(l[i]);
		free(l);
		return e;
	}
	for (i = 0; i < qs->n; i++) {
		struct queue *q = qs->queues[i];

		if (q->seen_reload)
			continue;
		if (q->ncallers) {
			if (!q->dead)
				log_notice("queue %s is no longer in queues.conf; it goes when its "
					   "%zu waiting callers have left", q->name, q->ncallers);
			q->dead = true;
			l[n++] = q;
		} else {
			queue_free(q);
		}
	}
	free(qs->queues);
	qs->queues = l;
	qs->n = n;
	mem_ref(cf);
	mem_deref(qs->cf);
	qs->cf = cf;
	return 0;
}

void queue_state_set_persist(struct queue_state *qs, queue_persist_h *h, void *arg)
{
	qs->persist_h = h;
	qs->persist_arg = arg;
}

static void persist(struct queue_state *qs, const struct queue *q)
{
	char *v;

	if (!qs->persist_h || !qs->cf || !qs->cf->gen.persistentmembers)
		return;
	v = queue_persist_dump(q);
	if (!v) {
		log_error("out of memory saving the dynamic members of queue %s", q->name);
		return;
	}
	qs->persist_h(q->name, *v ? v : NULL, qs->persist_arg);
	free(v);
}

/* --------------------------------------------------- availability */

/* get_member_status(): is some member available under conditions? */
static bool some_member_available(const struct queue *q, int max, int min,
				  unsigned cond, time_t now)
{
	size_t i;

	for (i = 0; i < q->nmembers; i++) {
		const struct queue_member *m = q->members[i];
		unsigned why = 0;

		if (penalty_out(m, max, min) && (cond & QUEUE_EMPTY_PENALTY))
			continue;
		switch (m->status) {
		case QUEUE_DEV_INVALID: why = QUEUE_EMPTY_INVALID; break;
		case QUEUE_DEV_UNAVAILABLE: why = QUEUE_EMPTY_UNAVAILABLE; break;
		case QUEUE_DEV_INUSE: why = QUEUE_EMPTY_INUSE; break;
		case QUEUE_DEV_RINGING: why = QUEUE_EMPTY_RINGING; break;
		case QUEUE_DEV_UNKNOWN: why = QUEUE_EMPTY_UNKNOWN; break;
		default: break;
		}
		if (cond & why)
			continue;
		if (m->paused && (cond & QUEUE_EMPTY_PAUSED))
			continue;
		if ((cond & QUEUE_EMPTY_WRAPUP) && wrapup_of(q, m) &&
		    (m->in_call || in_wrapup(q, m, now)))
			continue;
		return true;
	}
	return false;
}

/* is_member_available() */
static bool member_available(const struct queue *q, const struct queue_member *m,
			     time_t now)
{
	bool avail = false;

	switch (m->status) {
	case QUEUE_DEV_INVALID:
	case QUEUE_DEV_UNAVAILABLE:
		break;
	case QUEUE_DEV_INUSE:
	case QUEUE_DEV_BUSY:
	case QUEUE_DEV_RINGING:
	case QUEUE_DEV_RINGINUSE:
	case QUEUE_DEV_ONHOLD:
		if (!m->ringinuse)
			break;
		/* fall through */
	case QUEUE_DEV_NOT_INUSE:
	case QUEUE_DEV_UNKNOWN:
		avail = !m->paused;
		break;
	}
	if (wrapup_of(q, m) && (m->in_call || in_wrapup(q, m, now)))
		avail = false;
	return avail;
}

/* num_available_members(): with autofill off or ringall, 1 is enough. */
static size_t available_count(const struct queue *q, time_t now)
{
	size_t i, n = 0;

	for (i = 0; i < q->nmembers; i++) {
		n += member_available(q, q->members[i], now);
		if ((!q->cf->autofill || q->cf->strategy == QUEUE_RINGALL) && n)
			break;
	}
	return n;
}

bool queue_caller_turn(const struct queue_state *qs, const struct queue_caller *c,
		       time_t now)
{
	const struct queue *q = c->q;
	size_t avl = available_count(q, now), idx = 0, i;

	(void)qs;
	for (i = 0; i < q->ncallers && idx < avl && q->callers[i] != c; i++)
		if (!q->callers[i]->pending)
			idx++;
	return i < q->ncallers && q->callers[i] == c && idx < avl &&
	       (q->cf->autofill || c->pos == 1);
}

bool queue_caller_may_stay(const struct queue_state *qs, const struct queue_caller *c,
			   time_t now)
{
	const struct queue *q = c->q;

	(void)qs;
	return !q->cf->leavewhenempty ||
	       some_member_available(q, c->max_penalty, c->min_penalty,
				     q->cf->leavewhenempty, now);
}

/* ---------------------------------------------------- join / leave */

static void renumber(struct queue *q)
{
	size_t i;

	for (i = 0; i < q->ncallers; i++)
		q->callers[i]->pos = (int)i + 1;
}

int queue_join(struct queue_state *qs, const char *name, const struct queue_join_args *a,
	       time_t now, struct queue_caller **out, enum queue_join_result *res)
{
	struct queue *q = queue_find(qs, name);
	struct queue_caller *c, **l;
	size_t at, i;

	*out = NULL;
	if (!q) {
		*res = QUEUE_NOSUCHQUEUE;
		return 0;
	}
	if (q->cf->joinempty &&
	    !some_member_available(q, a->max_penalty, a->min_penalty, q->cf->joinempty, now)) {
		*res = QUEUE_JOINEMPTY;
		return 0;
	}
	if (q->cf->maxlen && q->ncallers >= q->cf->maxlen) {
		*res = QUEUE_FULL;
		return 0;
	}
	if (!(c = calloc(1, sizeof(*c))))
		return ENOMEM;
	c->id = strdup(a->id ? a->id : "");
	c->cidnum = strdup(a->cidnum ? a->cidnum : "");
	c->cidname = strdup(a->cidname ? a->cidname : "");
	l = realloc(q->callers, (q->ncallers + 1) * sizeof(*l));
	if (!c->id || !c->cidnum || !c->cidname || !l) {
		if (l)
			q->callers = l;
		caller_free(c);
		return ENOMEM;
	}
	q->callers = l;
	c->prio = a->prio;
	c->start = now;
	c->expire = a->timeout ? now + (time_t)a->timeout : 0;
	c->max_penalty = a->max_penalty;
	c->min_penalty = a->min_penalty;
	c->q = q;
	c->arg = a->arg;
	/* after everyone of higher or equal priority, or at the asked position
	 * when no one of higher priority is there */
	for (at = 0; at < q->ncallers; at++) {
		const struct queue_caller *cur = q->callers[at];
		if (a->prio > cur->prio)
			break;
		if (a->position > 0 && a->prio >= cur->prio && (size_t)a->position <= at + 1)
			break;
	}
	for (i = q->ncallers; i > at; i--)
		q->callers[i] = q->callers[i - 1];
	q->callers[at] = c;
	q->ncallers++;
	renumber(q);
	c->opos = c->pos;
	*out = c;
	*res = QUEUE_JOINED;
	return 0;
}

void queue_leave(struct queue_state *qs, struct queue_caller *c,
		 enum queue_leave_reason why, time_t now)
{
	struct queue *q = c->q;
	size_t i;

	for (i = 0; i < q->ncallers && q->callers[i] != c; i++)
		;
	if (i == q->ncallers)
		return;
	memmove(&q->callers[i], &q->callers[i + 1], (q->ncallers - i - 1) * sizeof(c));
	q->ncallers--;
	renumber(q);
	if (why == QUEUE_LEFT_ABANDON || why == QUEUE_LEFT_TIMEOUT || why == QUEUE_LEFT_EMPTY) {
		q->abandoned++;
		if (now - c->start <= (time_t)q->cf->servicelevel)
			q->abandoned_in_sl++;
	}
	caller_free(c);
	if (q->dead && !q->ncallers) {   /* the last caller of a removed queue */
		for (i = 0; i < qs->n && qs->queues[i] != q; i++)
			;
		if (i < qs->n) {
			memmove(&qs->queues[i], &qs->queues[i + 1],
				(qs->n - i - 1) * sizeof(q));
			qs->n--;
		}
		queue_free(q);
	}
}

/* ------------------------------------------------------- members */

static int member_add(struct queue_state *qs, struct queue *q, const char *interface,
		      int penalty, bool paused, const char *membername,
		      const char *state_interface)
{
	struct queue_member *m;

	if (queue_member_find(q, interface))
		return EEXIST;
	if (members_room(q) || !(m = member_new(interface, membername, state_interface,
						 penalty)))
		return ENOMEM;
	m->dynamic = true;
	m->paused = paused;
	m->ringinuse = q->cf->ringinuse;
	m->queuepos = (unsigned)q->nmembers;
	q->members[q->nmembers++] = m;
	(void)qs;
	return 0;
}

int queue_member_add(struct queue_state *qs, const char *queue, const char *interface,
		     int penalty, bool paused, const char *membername,
		     const char *state_interface)
{
	struct queue *q = queue_find(qs, queue);
	int e;

	if (!q)
		return ENOENT;
	if (!interface || !*interface)
		return EINVAL;
	if ((e = member_add(qs, q, interface, penalty < 0 ? 0 : penalty, paused, membername,
			    state_interface)))
		return e;
	persist(qs, q);
	return 0;
}

int queue_member_remove(struct queue_state *qs, const char *queue, const char *interface)
{
	struct queue *q = queue_find(qs, queue);
	size_t i;

	if (!q)
		return ENOENT;
	for (i = 0; i < q->nmembers; i++) {
		if (strcasecmp(q->members[i]->interface, interface ? interface : ""))
			continue;
		if (!q->members[i]->dynamic)
			return EPERM;
		member_unlink(q, i);
		persist(qs, q);
		return 0;
	}
	return ESRCH;
}

int queue_member_pause(struct queue_state *qs, const char *queue, const char *interface,
		       bool paused, const char *reason)
{
	bool all = !queue || !*queue;
	size_t i, found = 0;

	for (i = 0; i < qs->n; i++) {
		struct queue *q = qs->queues[i];
		struct queue_member *m;

		if (q->dead || (!all && strcasecmp(q->name, queue)))
			continue;
		if (!(m = queue_member_find(q, interface)))
			continue;
		if (!found++ && all)
			queue_log_write("NONE", "NONE", m->membername,
					paused ? "PAUSEALL" : "UNPAUSEALL", "%s", "");
		m->paused = paused;
		free(m->paused_reason);
		m->paused_reason = paused && reason && *reason ? strdup(reason) : NULL;
		queue_log_pause(q->name, m->membername, paused, reason);
		persist(qs, q);
	}
	return found ? 0 : ESRCH;
}

void queue_device_state(struct queue_state *qs, const char *state_interface,
			enum queue_dev st)
{
	size_t i, k;

	for (i = 0; i < qs->n; i++)
		for (k = 0; k < qs->queues[i]->nmembers; k++) {
			struct queue_member *m = qs->queues[i]->members[k];
			if (!strcasecmp(m->state_interface, state_interface))
				m->status = st;
		}
}

/* Every member for interface, in q only or in all queues (shared_lastcall). */
static void for_member(struct queue_state *qs, struct queue *only, const char *interface,
		       void (*fn)(struct queue_member *m, void *arg), void *arg)
{
	size_t i;

	for (i = 0; i < qs->n; i++) {
		struct queue_member *m;
		if (only && qs->queues[i] != only)
			continue;
		if ((m = queue_member_find(qs->queues[i], interface)))
			fn(m, arg);
	}
}

static void set_ringing(struct queue_member *m, void *arg)
{
	m->ringing = *(bool *)arg;
}

void queue_member_ringing(struct queue_state *qs, const char *interface, bool ringing)
{
	for_member(qs, NULL, interface, set_ringing, &ringing);
}

static void set_in_call(struct queue_member *m, void *arg)
{
	(void)arg;
	m->in_call = true;
	m->ringing = false;
}

void queue_caller_connected(struct queue_state *qs, struct queue_caller *c,
			    struct queue_member *m, time_t now)
{
	struct queue *q = c->q;
	int held = (int)(now - c->start);

	q->holdtime = ((q->holdtime << 2) - q->holdtime + held) >> 2;   /* recalc_holdtime */
	for_member(qs, qs->cf->gen.shared_lastcall ? NULL : q, m->interface, set_in_call, NULL);
	queue_leave(qs, c, QUEUE_LEFT_CONNECTED, now);
}

static void call_ended(struct queue_member *m, void *arg)
{
	m->lastcall = *(time_t *)arg;
	m->calls++;
	m->in_call = false;
}

void queue_call_done(struct queue_state *qs, const char *queue, const char *interface,
		     long holdtime, long talktime, time_t now)
{
	struct queue *q = find_any(qs, queue);

	if (!q)
		return;
	for_member(qs, qs->cf->gen.shared_lastcall ? NULL : q, interface, call_ended, &now);
	q->completed++;
	if (holdtime <= (long)q->cf->servicelevel)
		q->completed_in_sl++;
	q->talktime = q->completed == 1 ? (int)talktime
					: ((q->talktime << 2) - q->talktime + (int)talktime) >> 2;
}

/* ---------------------------------------------------- persistence */

char *queue_persist_dump(const struct queue *q)
{
	size_t i, len = 1, off = 0;
	char *s;

	for (i = 0; i < q->nmembers; i++)
		if (q->members[i]->dynamic)
			len += strlen(q->members[i]->interface) + strlen(q->members[i]->membername) +
			       strlen(q->members[i]->state_interface) + 32;
	if (!(s = malloc(len)))
		return NULL;
	s[0] = '\0';
	for (i = 0; i < q->nmembers; i++) {
		const struct queue_member *m = q->members[i];
		if (!m->dynamic)
			continue;
		off += (size_t)snprintf(s + off, len - off, "%s%s;%d;%d;%s;%s", off ? "|" : "",
					m->interface, m->penalty, m->paused ? 1 : 0,
					m->membername, m->state_interface);
	}
	return s;
}

int queue_persist_load(struct queue_state *qs, const char *queue, const char *value)
{
	struct queue *q = queue_find(qs, queue);
	char *buf, *s, *mem;
	int added = 0, e = 0;

	if (!q)
		return -ENOENT;
	if (!(buf = strdup(value ? value : "")))
		return -ENOMEM;
	s = buf;
	while ((mem = strsep(&s, ",|")) != NULL) {
		char *iface, *pen, *pau, *name, *si, *end;
		long penalty, paused;

		if (!*mem)
			continue;
		iface = strsep(&mem, ";");
		pen = strsep(&mem, ";");
		pau = strsep(&mem, ";");
		name = strsep(&mem, ";");
		si = strsep(&mem, ";");
		if (!pen || !pau || !*iface) {
			log_warn("persistent members of queue %s: '%s' lacks its penalty or "
				 "paused field; the rest is ignored", queue, iface);
			e = EINVAL;
			break;
		}
		penalty = strtol(pen, &end, 10);
		paused = strtol(pau, NULL, 10);
		if (*end || paused < 0 || paused > 1) {
			log_warn("persistent members of queue %s: bad penalty '%s' or paused "
				 "'%s' of %s; the rest is ignored", queue, pen, pau, iface);
			e = EINVAL;
			break;
		}
		int r = member_add(qs, q, iface, (int)(penalty < 0 ? 0 : penalty), paused == 1,
				   name, si);
		if (r == ENOMEM) {
			e = ENOMEM;
			break;
		}
		added += r == 0;
	}
	free(buf);
	return e ? -e : added;
}
