/**
 * @file role.h  The role machine's side of ha.h for the cluster code:
 * start, epoch, admin standby, the hook, the eligibility file and what
 * `cluster status` shows of roles (docs/design/cluster.md 5, 8.1, 8.5).
 * The roles themselves (ha_role, ha_role_set, ...) are declared in ha.h.
 */
#ifndef TANDEM_HA_ROLE_H
#define TANDEM_HA_ROLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ha/ha.h"

struct cluster_conf;

/**
 * Enter cluster mode: role STARTING, hook and eligibility file from cc,
 * admin standby read from DATADIR/cluster/admin_standby. Then, at the
 * first loop turn, unless replication took the step (ha_role_autosync(false)
 * any time before), STARTING -> SYNCING -> STANDBY. 0 or an errno (logged).
 */
int ha_role_start(const struct cluster_conf *cc, unsigned self, const char *datadir);
/** Back to SINGLE, forget the watchers (tandemd's exit, tests). */
void ha_role_stop(void);
/** Replication moves STARTING -> SYNCING -> STANDBY itself (call before
 * ha_role_start with false). */
void ha_role_autosync(bool on);
/** The epoch the log lines and the hook show (the write path's P_SHIFT sets
 * it; ha_position() holds the journal's). */
void ha_role_epoch_set(uint64_t epoch);
uint64_t ha_role_epoch(void);

/**
 * Both nodes cold (neither serves, neither in sync with an active): the
 * one chosen (the witness's grant; without a witness the higher position,
 * then the name sorting first) may go STARTING|SYNCING -> PROMOTING and is
 * eligible meanwhile (design 5). failover.c decides.
 */
void ha_role_cold_set(bool on);
bool ha_role_cold(void);

/** A reason this node must not take the address ("" or NULL: none), e.g.
 * "peer silent; not taking over without a witness". Logged, in status. */
void ha_role_hold_set(const char *why);
const char *ha_role_hold(void);

/** The persisted `cluster standby` flag (pcs `node standby`). 0 or errno. */
int  ha_role_admin_standby_set(bool on);
bool ha_role_admin_standby(void);
/** Eligible to hold the address (design 5's table, minus admin standby). */
bool ha_role_eligible(void);

/**
 * Called when the loop may have been frozen (a turn older than 300 ms):
 * h checks, synchronously, whether this node still holds the address and
 * steps down if not, before anything is served again.
 */
typedef void (ha_resume_h)(void);
void ha_role_on_resume(ha_resume_h *h);
/** The heartbeat timer's tick (health.c): loop time of the last turn. */
void ha_role_tick(uint64_t now_ms);

/** "last_failover" of cluster status (null before the first), role fields. */
json_t *ha_role_status_json(void);
/** Role changes of this node since start: promotions to ACTIVE, and
 * steps down from it (`/metrics`). */
void ha_role_counts(unsigned long *promoted, unsigned long *stepped_down);

#endif
