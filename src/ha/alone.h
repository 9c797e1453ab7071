/**
 * @file alone.h  When the active may go on without its standby
 * (docs/design/cluster.md 4, invariant 3): the decision, I/O-free.
 *
 * The standby went silent (or its link dropped) while confirmations were
 * parked for its ACK. Without a witness the active goes on alone at once
 * (the documented risk). With one it first records the standby outdated
 * (W_OUTDATED(standby, offset)) and releases the parked confirmations
 * only when the witness echoes it: the witness then never grants the
 * standby the lease, so nothing confirmed can be lost to a takeover. No
 * echo: it keeps holding; its lease runs out, it fences, and the parked
 * confirmations are dropped, never confirmed.
 */
#ifndef TANDEM_HA_ALONE_H
#define TANDEM_HA_ALONE_H

#include <stdbool.h>
#include <stdint.h>

enum alone_state {
	ALONE_NO,          /* in sync, or never was */
	ALONE_ASKING,      /* W_OUTDATED sent: holding the parked ones */
	ALONE_RECORDED,    /* going on alone (recorded, or no witness) */
};

/** What the caller must do now. */
enum alone_do {
	ALONE_DO_NOTHING,
	ALONE_DO_ASK,      /* send W_OUTDATED(standby, offset); keep holding */
	ALONE_DO_RELEASE,  /* release every parked confirmation */
	ALONE_DO_DROP,     /* drop them: never confirmed */
};

struct alone {
	enum alone_state st;
	uint64_t offset;   /* the journal's head when the standby went silent */
};

const char *alone_state_name(enum alone_state s);
/** The standby went silent at offset; witness: one is configured. */
enum alone_do alone_silent(struct alone *a, bool witness, uint64_t offset);
/** The witness echoed W_OUTDATED at offset (RELEASE once, when asking
 * and offset is not behind the one asked for). */
enum alone_do alone_recorded(struct alone *a, uint64_t offset);
/** The node stops serving (fenced, demoted): DROP when still asking. */
enum alone_do alone_stop(struct alone *a);
/** The standby is in sync again. */
void alone_sync(struct alone *a);

#endif
