/** @file cluster.c  Starting the cluster and its control command (cluster.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "ha/cluster.h"
#include "ha/failover.h"
#include "ha/ha.h"
#include "ha/link.h"
#include "ha/repl.h"
#include "ha/role.h"
#include "ha/turn.h"
#include "ha/vip.h"
#include "ha/witness.h"

static struct {
	struct cluster_conf cc;
	unsigned self;
	struct ha_link *link;
	char datadir[4096];
	bool running;
} g;

int cluster_start(const struct cluster_conf *cc, const char *nodename, const char *datadir,
		  char *err, size_t errsize)
{
	int e;

	if (!cc->enabled)
		return 0;
	g.cc = *cc;
	snprintf(g.datadir, sizeof(g.datadir), "%s", datadir);
	e = cluster_conf_self(&g.cc, nodename, &g.self, err, errsize);
	/* roles: STARTING -> STANDBY at the first turn (a cold pair has no
	 * active until `cluster takeover` or keepalived names one); from then
	 * on replication moves a standby to SYNCING while it catches up */
	if (!e)
		e = ha_role_start(&g.cc, g.self, datadir);
	if (!e)
		e = repl_init(&g.cc, g.self, datadir);
	if (!e)
		failover_set_synced(repl_synced);
	if (!e)
		e = ha_link_start(&g.link, &g.cc, g.self, &repl_link_handlers, NULL);
	if (!e)
		repl_set_link(g.link);
	if (e) {
		repl_close();
		ha_role_stop();
		if (!err[0])
			snprintf(err, errsize, "cluster: cannot start the replication link: %s",
				 strerror(e));
		cluster_conf_clear(&g.cc);
		return e;
	}
	g.running = true;
	log_notice("cluster %s: node %s, peer %s at %s: replication link started",
		   g.cc.name, g.cc.nodes[g.self].name, g.cc.nodes[!g.self].name,
		   g.cc.nodes[!g.self].addr_str);
	return 0;
}

void cluster_reloaded(const struct cluster_conf *cc)
{
	if (cc->enabled == g.running &&
	    (!g.running || !memcmp(cc->digest, g.cc.digest, sizeof(cc->digest))))
		return;
	log_warn("reload: tandem.conf [cluster] changed; the change takes effect at the "
		 "next restart of tandemd");
}

void cluster_stop(void)
{
	if (!g.running)
		return;
	ha_link_stop(g.link);
	g.link = NULL;
	repl_close();
	ha_role_stop();
	cluster_conf_clear(&g.cc);
	g.running = false;
}

static json_t *node_json(unsigned i)
{
	bool self = i == g.self, up = self || ha_link_state(g.link) == HA_LINK_UP;
	json_t *n, *repl = self ? repl_status_json() : repl_peer_status_json();
	const char *role = "down";

	if (self)
		role = ha_role_contract(ha_role());
	else if (up)
		role = json_string_value(json_object_get(repl, "role"));
	n = json_pack("{s:s, s:s, s:s, s:b}", "name", g.cc.nodes[i].name,
		      "address", g.cc.nodes[i].addr_str, "role", role ? role : "standby",
		      "self", self);
	if (self) {
		json_t *f = failover_status_json();

		json_object_set_new(n, "state", json_string(ha_role_name(ha_role())));
		json_object_set_new(n, "holds_vip", g.cc.has_vip ? json_boolean(vip_held())
								  : json_null());
		json_object_set(n, "admin_standby", json_object_get(f, "admin_standby"));
		json_object_set(n, "keepalived", json_object_get(f, "keepalived"));
		json_object_set(n, "eligible", json_object_get(f, "eligible"));   /* pcmk */
		json_decref(f);
	} else {
		json_object_set_new(n, "state", json_string(up ? json_string_value(
			json_object_get(repl, "role_state")) : "DOWN"));
		json_object_set_new(n, "holds_vip", json_null());   /* not known here */
	}
	json_object_del(repl, "role");
	json_object_del(repl, "role_state");
	json_object_set_new(n, "repl", repl);
	return n;
}

static json_t *status_json(void)
{
	json_t *j = json_object(), *nodes = json_array(), *roles = ha_role_status_json();
	const char *holder = NULL;
	unsigned i;

	json_object_set_new(j, "cluster", json_string(g.cc.name));
	json_object_set_new(j, "engine", json_string(cluster_engine_name(g.cc.engine)));
	json_object_set_new(j, "node", json_string(g.cc.nodes[g.self].name));
	json_object_set_new(j, "epoch", json_incref(json_object_get(roles, "epoch")));
	for (i = 0; i < 2; i++)
		json_array_append_new(nodes, node_json(i));
	json_object_set_new(j, "nodes", nodes);
	if (g.cc.has_vip && vip_held())
		holder = g.cc.nodes[g.self].name;
	json_object_set_new(j, "vip_holder", holder ? json_string(holder) : json_null());
	json_object_set_new(j, "vip", g.cc.has_vip ? json_string(g.cc.vip_str) : json_null());
	json_object_set_new(j, "replication", json_pack("{s:s}", "state",
							repl_state_name(repl_state())));
	json_object_set_new(j, "last_failover",
			    json_incref(json_object_get(roles, "last_failover")));
	json_object_set_new(j, "link", ha_link_status_json(g.link));
	json_object_set_new(j, "quorum", quorum_status_json());   /* quorum.c */
	json_decref(roles);
	return j;
}

bool cluster_peer_up(void)
{
	return g.running && g.link && ha_link_state(g.link) == HA_LINK_UP;
}

json_t *cluster_ctl_cmd(json_t *args, char *err, size_t errsize)
{
	const char *sub = json_string_value(json_array_get(args, 0));

	if (!g.running) {
		snprintf(err, errsize, "this node runs alone: tandem.conf has no [cluster]");
		return NULL;
	}
	if (!sub || !strcmp(sub, "status"))
		return status_json();
	if (!strcmp(sub, "digest"))
		return ha_digest_json(err, errsize);     /* turn_digest.c */
	/* roles/failover's verbs (failover.c; its owner's only lines here) */
	if (!strcmp(sub, "standby") || !strcmp(sub, "unstandby") ||
	    !strcmp(sub, "takeover") || !strcmp(sub, "notify"))
		return failover_ctl_cmd(args, err, errsize);
	snprintf(err, errsize, "usage: cluster status|digest|standby|unstandby|takeover|notify");
	return NULL;
}
