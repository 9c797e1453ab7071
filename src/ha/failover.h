/**
 * @file failover.h  Who holds the floating address and what the roles do
 * about it: keepalived or tandemd itself (engine = none), health, and the
 * `tandemctl cluster notify|standby|unstandby|takeover` commands
 * (docs/design/cluster.md 5, 8.1-8.5).
 */
#ifndef TANDEM_HA_FAILOVER_H
#define TANDEM_HA_FAILOVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ha/cluster_conf.h"

/**
 * After cluster_start (which starts the roles): the heartbeat, the keepalived configuration and the address
 * watch for cc (nothing without [cluster]). 0, or an errno with why in err
 * (keepalived config not ours or refused, interface missing).
 */
int  failover_start(const struct cluster_conf *cc, const char *nodename, const char *datadir,
		    char *err, size_t errsize);
void failover_stop(void);

/** `cluster notify|standby|unstandby|takeover ...` (args[0] is the verb). */
json_t *failover_ctl_cmd(json_t *args, char *err, size_t errsize);
/** This node's roles, address and last failover for `cluster status`. */
json_t *failover_status_json(void);

/** Replication tells whether the standby holds every byte (FO_WAIT_SYNC). */
typedef bool (failover_synced_h)(void);
void failover_set_synced(failover_synced_h *h);

/** engine = pacemaker (pcmk.c): the promotion's named steps (P_SHIFT,
 * P_RESTORE) and the step-down (DEMOTING -> STANDBY), at once. 0 or EINVAL. */
int failover_promote(const char *why);
int failover_demote(const char *why);

#endif
