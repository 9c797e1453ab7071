/**
 * @file queue_select.c  Which members a waiting caller rings (see
 * queue.h): app_queue's can_ring_entry, compare_weight, calc_metric,
 * ring_one and store_next_rr/_lin as a pure function of the queue
 * state, the time and a random seed.
 */
#include <string.h>

#include "core/rnd.h"
#include "pbx/queue.h"
#include "pbx/queue_int.h"

/* ------------------------------------------------------- selection */

/* compare_weight(): a heavier queue with callers owns m first. */
static bool weighed_out(const struct queue_state *qs, const struct queue *q,
			const struct queue_member *m)
{
	size_t i;

	for (i = 0; i < qs->n; i++) {
		const struct queue *o = qs->queues[i];
		if (o != q && o->ncallers && o->cf->weight > q->cf->weight &&
		    queue_member_find(o, m->interface))
			return true;
	}
	return false;
}

static bool can_ring(const struct queue_state *qs, const struct queue *q,
		     const struct queue_member *m, time_t now, bool use_weight)
{
	if (m->paused)
		return false;
	if (m->status == QUEUE_DEV_INVALID || m->status == QUEUE_DEV_UNAVAILABLE)
		return false;
	if (!m->ringinuse && (m->ringing || m->in_call ||
			      (m->status != QUEUE_DEV_NOT_INUSE && m->status != QUEUE_DEV_UNKNOWN)))
		return false;
	if (in_wrapup(q, m, now))
		return false;
	return !use_weight || !weighed_out(qs, q, m);
}

void queue_select(const struct queue_state *qs, const struct queue_caller *c, time_t now,
		  uint32_t seed, queue_skip_h *skip, void *skip_arg,
		  struct queue_selection *sel)
{
	const struct queue *q = c->q;
	bool usepenalty = q->nmembers > q->cf->penaltymemberslimit, use_weight = false;
	bool rrwrapped = false, linwrapped = false;
	size_t i, j;

	memset(sel, 0, sizeof(*sel));
	for (i = 0; i < qs->n && !use_weight; i++)
		use_weight = qs->queues[i]->cf->weight != 0;
	for (i = 0; i < q->nmembers && sel->ncand < QUEUE_PICK_MAX; i++) {
		struct queue_member *m = q->members[i];
		int64_t metric = 0, pen = usepenalty ? (int64_t)m->penalty * 1000000 : 0;
		int64_t pos = m->queuepos;

		if (skip && skip(m, skip_arg))
			continue;
		if (usepenalty && penalty_out(m, c->max_penalty, c->min_penalty))
			continue;
		if (!can_ring(qs, q, m, now, use_weight))
			continue;
		switch (q->cf->strategy) {
		case QUEUE_RINGALL:
			metric = pen;
			break;
		case QUEUE_LINEAR:
			if (pos < (int64_t)c->linpos)
				metric = 1000 + pos;
			else {
				linwrapped |= pos > (int64_t)c->linpos;
				metric = pos;
			}
			metric += pen;
			break;
		case QUEUE_RRMEMORY:
		case QUEUE_RRORDERED:
			if (pos < (int64_t)q->rrpos)
				metric = 1000 + pos;
			else {
				rrwrapped |= pos > (int64_t)q->rrpos;
				metric = pos;
			}
			metric += pen;
			break;
		case QUEUE_RANDOM:
			metric = rnd_xorshift32(&seed) % 1000 + pen;
			break;
		case QUEUE_WRANDOM:
			metric = rnd_xorshift32(&seed) % ((1 + (uint32_t)m->penalty) * 1000u);
			break;
		case QUEUE_FEWESTCALLS:
			metric = m->calls + pen;
			break;
		case QUEUE_LEASTRECENT:
			metric = m->lastcall ? 1000000 - (int64_t)(now - m->lastcall) : 0;
			metric += pen;
			break;
		}
		/* insertion sort, stable: ties keep member order */
		for (j = sel->ncand; j > 0 && sel->cand[j - 1].metric > metric; j--)
			sel->cand[j] = sel->cand[j - 1];
		sel->cand[j].m = m;
		sel->cand[j].metric = metric;
		sel->ncand++;
	}
	if (sel->ncand) {
		sel->nring = 1;
		if (q->cf->strategy == QUEUE_RINGALL)
			while (sel->nring < sel->ncand &&
			       sel->cand[sel->nring].metric == sel->cand[0].metric)
				sel->nring++;
	}
	/* store_next_rr / store_next_lin: the best one not rung now is next */
	if (sel->nring < sel->ncand) {
		sel->next_rrpos = sel->next_linpos =
			(unsigned)(sel->cand[sel->nring].metric % 1000);
	} else {
		sel->next_rrpos = rrwrapped ? 0 : q->rrpos + 1;
		sel->next_linpos = linwrapped ? 0 : c->linpos + 1;
	}
	sel->next_rrwrapped = rrwrapped;
	sel->next_linwrapped = linwrapped;
}

void queue_selection_commit(struct queue_caller *c, const struct queue_selection *sel)
{
	struct queue *q = c->q;

	if (q->cf->strategy == QUEUE_RRMEMORY || q->cf->strategy == QUEUE_RRORDERED) {
		q->rrpos = sel->next_rrpos;
		q->rrwrapped = false;
	} else if (q->cf->strategy == QUEUE_LINEAR) {
		c->linpos = sel->next_linpos;
		c->linwrapped = false;
	}
}

