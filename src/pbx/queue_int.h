/**
 * @file queue_int.h  Helpers shared by queue_state.c and queue_select.c;
 * not for other parts (they use queue.h).
 */
#ifndef TANDEM_PBX_QUEUE_INT_H
#define TANDEM_PBX_QUEUE_INT_H

#include "pbx/queue.h"

static inline int wrapup_of(const struct queue *q, const struct queue_member *m)
{
	return m->wrapuptime >= 0 ? m->wrapuptime : (int)q->cf->wrapuptime;
}

static inline bool in_wrapup(const struct queue *q, const struct queue_member *m, time_t now)
{
	int wu = wrapup_of(q, m);

	return wu && m->lastcall && now - wu < m->lastcall;
}

static inline bool penalty_out(const struct queue_member *m, int max, int min)
{
	return (max != INT_MAX && m->penalty > max) || (min != INT_MAX && m->penalty < min);
}

#endif
