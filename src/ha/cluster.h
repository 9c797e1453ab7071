/**
 * @file cluster.h  The two-node cluster as the daemon runs it: the
 * replication link to the peer named in tandem.conf [cluster], and what
 * `tandemctl cluster status` shows. Replication, roles and failover come
 * in the phases of docs/design/cluster.md; today the link connects,
 * authenticates (TLS 1.3 PSK), exchanges HELLO and PINGs, and reports.
 */
#ifndef TANDEM_HA_CLUSTER_H
#define TANDEM_HA_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ha/cluster_conf.h"

/**
 * Start the cluster of cc (a copy is kept) for node nodename (NULL: host
 * name) with its stores in datadir: roles, replication, the link. Nothing
 * when cc has no [cluster]. 0, or an errno with "what is wrong" in err
 * (this node is not one of the two, link cannot listen).
 */
int  cluster_start(const struct cluster_conf *cc, const char *nodename, const char *datadir,
		   char *err, size_t errsize);
void cluster_stop(void);
/** After a reload: warn when [cluster] changed (it takes effect at restart). */
void cluster_reloaded(const struct cluster_conf *cc);
/** ctl handler of `cluster status|digest|standby|unstandby|takeover`. */
json_t *cluster_ctl_cmd(json_t *args, char *err, size_t errsize);
/** The replication link is up: the peer was heard within peer_timeout. */
bool cluster_peer_up(void);

#endif
