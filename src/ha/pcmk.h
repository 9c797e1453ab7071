/**
 * @file pcmk.h  engine = pacemaker: Pacemaker decides the roles through the
 * resource agent ocf:tandem:tandemd (docs/pacemaker.md).
 */
#ifndef TANDEM_HA_PCMK_H
#define TANDEM_HA_PCMK_H

#include <jansson.h>
#include <stddef.h>

/**
 * `cluster takeover|standby` with engine = pacemaker (args[0] is the verb):
 * the agent's promote and demote. Both act at once; no address handling
 * (IPaddr2, colocated with the promoted instance, moves it) and no admin
 * standby flag (Pacemaker's `pcs node standby` is the admin's). NULL with
 * why in err when the role cannot change.
 */
json_t *pcmk_ctl_cmd(json_t *args, char *err, size_t errsize);

#endif
