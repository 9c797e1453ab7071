/**
 * @file alone.c  Going on alone only once the witness recorded it
 * (alone.h; docs/design/cluster.md 4). No I/O, no clock.
 */
#include "ha/alone.h"

const char *alone_state_name(enum alone_state s)
{
	switch (s) {
	case ALONE_NO:       return "no";
	case ALONE_ASKING:   return "asking the witness";
	case ALONE_RECORDED: return "alone";
	default:             return "?";
	}
}

enum alone_do alone_silent(struct alone *a, bool witness, uint64_t offset)
{
	if (a->st != ALONE_NO)
		return ALONE_DO_NOTHING;
	a->offset = offset;
	if (!witness) {
		a->st = ALONE_RECORDED;
		return ALONE_DO_RELEASE;
	}
	a->st = ALONE_ASKING;
	return ALONE_DO_ASK;
}

enum alone_do alone_recorded(struct alone *a, uint64_t offset)
{
	if (a->st != ALONE_ASKING || offset < a->offset)
		return ALONE_DO_NOTHING;
	a->st = ALONE_RECORDED;
	return ALONE_DO_RELEASE;
}

enum alone_do alone_stop(struct alone *a)
{
	enum alone_state was = a->st;

	a->st = ALONE_NO;
	return was == ALONE_ASKING ? ALONE_DO_DROP : ALONE_DO_NOTHING;
}

void alone_sync(struct alone *a)
{
	a->st = ALONE_NO;
}
