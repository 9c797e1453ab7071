/** @file cluster.c  Starting the cluster and its control command (cluster.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "ha/cluster.h"
#include "ha/link.h"

static struct {
	struct cluster_conf cc;
	unsigned self;
	struct ha_link *link;
	bool running;
} g;

int cluster_start(const struct cluster_conf *cc, const char *nodename, char *err,
		  size_t errsize)
{
	static const struct ha_link_handlers h;   /* link.c logs up and down */
	int e;

	if (!cc->enabled)
		return 0;
	g.cc = *cc;
	e = cluster_conf_self(&g.cc, nodename, &g.self, err, errsize);
	if (!e)
		e = ha_link_start(&g.link, &g.cc, g.self, &h, NULL);
	if (e) {
		if (!err[0])
			snprintf(err, errsize, "cluster: cannot start the replication link: %s",
				 strerror(e));
		cluster_conf_clear(&g.cc);
		return e;
	}
	g.running = true;
	log_warn("cluster %s: node %s, peer %s at %s: the replication link runs; "
		 "replication and failover are not built yet, so this node serves alone",
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
	ha_link_stop(g.link);
	g.link = NULL;
	cluster_conf_clear(&g.cc);
	g.running = false;
}

static json_t *status_json(void)
{
	json_t *j = json_object(), *nodes = json_array();
	unsigned i;

	json_object_set_new(j, "cluster", json_string(g.cc.name));
	json_object_set_new(j, "engine", json_string(cluster_engine_name(g.cc.engine)));
	json_object_set_new(j, "node", json_string(g.cc.nodes[g.self].name));
	for (i = 0; i < 2; i++) {
		bool up = i == g.self || ha_link_state(g.link) == HA_LINK_UP;

		/* no roles yet: each node serves alone, so a peer we can reach
		 * is active too, and one we cannot is reported down */
		json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:b}",
			"name", g.cc.nodes[i].name, "address", g.cc.nodes[i].addr_str,
			"role", up ? "active" : "down",
			"self", i == g.self));
	}
	json_object_set_new(j, "nodes", nodes);
	json_object_set_new(j, "vip_holder", json_null());
	json_object_set_new(j, "vip", g.cc.has_vip ? json_string(g.cc.vip_str) : json_null());
	json_object_set_new(j, "replication", json_pack("{s:s, s:n, s:n}", "state",
		"not built yet", "offset", "lag_ms"));
	json_object_set_new(j, "link", ha_link_status_json(g.link));
	return j;
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
	if (!strcmp(sub, "standby") || !strcmp(sub, "unstandby") || !strcmp(sub, "takeover")) {
		snprintf(err, errsize, "cluster %s: role changes are not built yet", sub);
		return NULL;
	}
	snprintf(err, errsize, "usage: cluster status|standby|unstandby|takeover");
	return NULL;
}
