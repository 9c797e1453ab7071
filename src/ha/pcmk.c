/**
 * @file pcmk.c  engine = pacemaker: Pacemaker decides who serves (pcmk.h).
 *
 * The promotable clone's agent runs `tandemctl cluster takeover` to promote
 * and `tandemctl cluster standby` to demote. Pacemaker orders them (the old
 * promoted instance is demoted or stopped before another is promoted, and
 * fencing or quorum keeps a cut-off node from promoting itself), so neither
 * waits for the peer's agreement:
 *  - takeover: STANDBY, or STARTING/SYNCING (both cold, or the peer died
 *    while this node caught up: Pacemaker's choice stands for the witness's
 *    grant), -> PROMOTING -> ACTIVE in failover.c's named steps (P_SHIFT:
 *    epoch + 1, P_RESTORE); the peer, when it runs, syncs from this node;
 *  - standby: ACTIVE -> DEMOTING -> STANDBY (ha_quiesce); the node then
 *    replicates from whichever node Pacemaker promotes.
 * The agent's monitor reads `eligible` in `cluster status` to set the
 * promotion score: a node in sync (or cold and ahead) before one catching up.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "ha/failover.h"
#include "ha/ha.h"
#include "ha/pcmk.h"
#include "ha/repl.h"
#include "ha/role.h"

static json_t *ok(const char *what)
{
	return json_pack("{s:s, s:s, s:s}", "result", what, "role",
			 ha_role_contract(ha_role()), "state", ha_role_name(ha_role()));
}

/* The peer's role as it last told us, "" when unknown (link down). */
static void peer_state(char *buf, size_t size)
{
	json_t *p = repl_peer_status_json();
	const char *s = json_string_value(json_object_get(p, "role_state"));

	snprintf(buf, size, "%s", s ? s : "");
	json_decref(p);
}

static json_t *takeover(char *err, size_t errsize)
{
	enum ha_role r = ha_role();
	char peer[32];

	if (r == HA_ROLE_ACTIVE)
		return ok("already active");
	if (r != HA_ROLE_STANDBY && r != HA_ROLE_STARTING && r != HA_ROLE_SYNCING) {
		snprintf(err, errsize, "cluster takeover: this node is %s; Pacemaker can "
			 "promote a node that is STANDBY, STARTING or SYNCING",
			 ha_role_name(r));
		return NULL;
	}
	peer_state(peer, sizeof(peer));
	if (!strcmp(peer, "ACTIVE") || !strcmp(peer, "PROMOTING"))
		log_warn("cluster: Pacemaker promotes this node while the peer last said "
			 "it was %s (it is being demoted or stopped, or the link is stale)",
			 peer);
	if (r != HA_ROLE_STANDBY) {
		log_warn("cluster: Pacemaker promotes this node from %s: %s", ha_role_name(r),
			 ha_role_cold() ? "both cold and this node is ahead" :
			 "it may not hold everything the peer wrote (the peer is down or "
			 "behind)");
		ha_role_cold_set(true);   /* Pacemaker's choice stands for the grant */
	}
	if (failover_promote(r == HA_ROLE_STANDBY ? "Pacemaker promote (cluster takeover)" :
			     "Pacemaker promote (cluster takeover) from a cold start")) {
		snprintf(err, errsize, "cluster takeover: promotion refused (see the log)");
		return NULL;
	}
	return ok("active");
}

static json_t *standby(char *err, size_t errsize)
{
	if (ha_role() != HA_ROLE_ACTIVE)
		return ok("already standby");
	if (failover_demote("Pacemaker demote (cluster standby)")) {
		snprintf(err, errsize, "cluster standby: the step down failed (see the log)");
		return NULL;
	}
	return ok("standby");
}

json_t *pcmk_ctl_cmd(json_t *args, char *err, size_t errsize)
{
	const char *verb = json_string_value(json_array_get(args, 0));

	err[0] = '\0';
	if (verb && !strcmp(verb, "takeover"))
		return takeover(err, errsize);
	if (verb && !strcmp(verb, "standby"))
		return standby(err, errsize);
	snprintf(err, errsize, "cluster %s: not a Pacemaker role change", verb ? verb : "");
	return NULL;
}
