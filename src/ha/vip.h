/**
 * @file vip.h  The floating address on `interface`, seen and moved through
 * rtnetlink (docs/design/cluster.md 8.3).
 *
 * keepalived moves the address; tandemd watches RTM_NEWADDR/RTM_DELADDR in
 * the loop and tells the owner (failover.c) whether it holds it. With
 * `engine = none` tandemd adds and removes it itself (RTM_NEWADDR/DELADDR
 * requests, then three gratuitous ARPs for IPv4).
 */
#ifndef TANDEM_HA_VIP_H
#define TANDEM_HA_VIP_H

#include <stdbool.h>

#include "ha/cluster_conf.h"

/** Called in the loop when the address appears (true) or goes (false). */
typedef void (vip_change_h)(bool held, void *arg);

/** Watch cc's vip on cc's interface. 0, or an errno with why in err. */
int  vip_start(const struct cluster_conf *cc, vip_change_h *h, void *arg, char *err,
	       size_t errsize);
void vip_stop(void);
/** The last state the watch saw. */
bool vip_held(void);
/** Ask the kernel now (a dump, bounded to 200 ms): the truth after a freeze. */
bool vip_check_now(void);
/** engine = none: add the address (and announce it) or remove it. 0/errno. */
int  vip_add(void);
int  vip_del(void);

#endif
