/**
 * @file witness_state.h  The witness's decisions, I/O-free but for its
 * state file (docs/design/cluster.md 4, 6): one lease holder per epoch,
 * the outdated node, the quiet lease after a restart. Times are the
 * caller's monotonic milliseconds, so tests need no clock.
 */
#ifndef TANDEM_HA_WITNESS_STATE_H
#define TANDEM_HA_WITNESS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha/cluster_conf.h"

struct wit_node {
	char name[CLUSTER_NAME_MAX];
	bool seen;                 /* a W_REQUEST or state since start */
	uint64_t epoch, offset;    /* last reported position */
};

struct wit_state {
	/* durable (DIR/witness.state, fsync'd when they change) */
	uint64_t epoch;                       /* highest epoch granted */
	char holder[CLUSTER_NAME_MAX];        /* "" none */
	char outdated[CLUSTER_NAME_MAX];      /* "" none */
	uint64_t outdated_off;
	/* volatile */
	uint32_t lease_ms;
	uint64_t lease_end;                   /* holder's lease, witness clock */
	uint64_t quiet_until;                 /* no grant before (restart) */
	bool served;                          /* the holder said ACTIVE since its grant */
	uint64_t prev_epoch;                  /* w.epoch before the holder's grant */
	bool dirty;                           /* durable part changed */
	struct wit_node nodes[2];
};

/** The answer to a W_REQUEST. */
struct wit_answer {
	bool granted;
	uint64_t epoch;            /* granted epoch, or the witness's on deny */
	uint32_t lease_ms;         /* granted */
	uint32_t ms_left;          /* deny: the current lease's rest (0: none) */
	char holder[CLUSTER_NAME_MAX];
	char why[256];
};

/** Fresh state for nodes n0, n1; nothing granted before now + lease_ms. */
void wit_state_init(struct wit_state *w, const char *n0, const char *n1,
		    uint32_t lease_ms, uint64_t now);
/**
 * Node asks to hold (or renew) the lease for epoch (the epoch it serves
 * in: the active's current one, a standby's next one) at offset.
 * Granted when: the node holds it already for this epoch (renewal); or
 * no lease is valid (expired, released, holder's FIN), the restart's
 * quiet lease is over, the node is not outdated, epoch is above every
 * epoch granted (one holder per epoch; except that a grant its holder
 * never used, never saying ACTIVE, may be taken back by the other node
 * at an epoch not below the one before it) and, when neither node held the
 * last lease, its (epoch, offset) is not behind the other's. EINVAL for
 * an unknown node.
 */
int wit_request(struct wit_state *w, const char *node, uint64_t epoch, uint64_t offset,
		uint64_t now, struct wit_answer *a);
/** A node's W_STATE (its link's PING): active or not. */
void wit_role(struct wit_state *w, const char *node, bool active);
/** A node connected with its HELLO's position (its epoch, offset): kept as
 * a W_REQUEST for epoch + 1 at offset would be, so a cold node alone is
 * refused the lease while the other is ahead. */
void wit_seen(struct wit_state *w, const char *node, uint64_t epoch, uint64_t offset);
/** A node's W_STATE says it is a standby in sync with the active: it is
 * current (clears its outdated mark; dirty). */
void wit_in_sync(struct wit_state *w, const char *node);
/** The holder's W_RELEASE or its link closed (FIN): its lease ends now. */
void wit_release(struct wit_state *w, const char *node);
/** W_OUTDATED(node, offset) from the holder (other senders: EPERM). */
int wit_outdated(struct wit_state *w, const char *from, const char *node, uint64_t offset);
/** W_CURRENT(node) from the holder (EPERM otherwise). */
int wit_current(struct wit_state *w, const char *from, const char *node);
/** Milliseconds of the holder's lease left (0: none valid). */
uint32_t wit_ms_left(const struct wit_state *w, uint64_t now);

/** Read DIR/witness.state into w (ENOENT: none yet, w unchanged;
 * EBADMSG with FILE:LINE in err). */
int wit_state_load(struct wit_state *w, const char *dir, char *err, size_t errsize);
/** Write it (tmp file, fsync, rename, fsync of DIR); clears dirty. */
int wit_state_save(struct wit_state *w, const char *dir);

#endif
