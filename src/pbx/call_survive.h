/**
 * @file call_survive.h  Calls that survive a failover, as the cluster
 * code sees them (call_survive.c; docs/design/cluster.md 9).
 */
#ifndef TANDEM_PBX_CALL_SURVIVE_H
#define TANDEM_PBX_CALL_SURVIVE_H

#include <stddef.h>

struct jnl_entry;

/** Standby: keep a CALL_SNAP/CALL_UPD's snapshot, or drop it on CALL_END.
 * 0 or ENOMEM. */
int    call_survive_apply(const struct jnl_entry *e);
/** Snapshots held (standby). */
size_t call_survive_held(void);
/** Drop every snapshot held (full resync, shutdown). */
void   call_survive_forget(void);
/** Active: a standby just came into sync; journal every live call's
 * snapshot again (within LOOK_MS), for the calls it never saw. */
void   call_survive_resnap(void);
/**
 * Promotion (before cdr_open_cut): rebuild every held call still in the
 * replicated cdr_open table; the others are cut as before. Frees what was
 * held. Returns the number restored.
 */
size_t call_survive_restore(void);
/** Shutdown: call_survive_forget(), and calls in setup not yet answered
 * (call_survive_restore answers them on the next loop turn) dropped. */
void   call_survive_close(void);

#endif
