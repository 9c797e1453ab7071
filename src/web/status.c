/**
 * @file status.c  What the status page and /metrics show. The data comes
 * from tandemctl's own commands (ctl_call: status, registrations, calls,
 * queue show, cluster status), so the page and `tandemctl ... --json`
 * cannot disagree. /metrics is Prometheus' text format 0.0.4: HELP and
 * TYPE lines, counters named *_total.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ha/ha.h"
#include "ha/role.h"
#include "ctl/commands.h"
#include "ctl/ctl.h"
#include "media/rtp.h"
#include "pbx/call.h"
#include "pbx/pbx.h"
#include "pbx/registrar.h"
#include "sip/sip.h"
#include "web/http.h"
#include "web/tftp.h"

/* One command's data, or {"error": "..."} (e.g. cluster on a single node). */
static json_t *cmd(const char *name, const char *arg)
{
	char err[512] = "";
	json_t *args = arg ? json_pack("[s]", arg) : json_array();
	json_t *d = ctl_call(name, args, err, sizeof(err));

	json_decref(args);
	return d ? d : json_pack("{s:s}", "error", err[0] ? err : "failed");
}

json_t *web_status_json(void)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o}",
			 "status", cmd("status", NULL),
			 "registrations", cmd("registrations", NULL),
			 "calls", cmd("calls", NULL),
			 "queues", cmd("queue", "show"),
			 "cluster", cmd("cluster", "status"));
}

/* ------------------------------------------------------------- metrics */

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *p = realloc(b->s, b->cap * 2 + (size_t)n);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

static void metric(struct buf *b, const char *name, const char *type, const char *help,
		   unsigned long long v)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

/* Role, failovers and replication lag; nothing on a single node. The lag
 * comes from `cluster status` (repl.lag_bytes / lag_ms of each node). */
static void cluster_metrics(struct buf *b)
{
	unsigned long promoted, stepped;
	json_t *cs, *nodes, *n;
	size_t i;

	if (ha_role() == HA_ROLE_SINGLE)
		return;
	ha_role_counts(&promoted, &stepped);
	metric(b, "tandem_cluster_serving", "gauge",
	       "1 while this node is the active one (answers SIP), else 0.",
	       ha_serving() ? 1 : 0);
	put(b, "# HELP tandem_failovers_total Role changes of this node since start: "
		"promoted to active, stepped down from active.\n"
		"# TYPE tandem_failovers_total counter\n"
		"tandem_failovers_total{change=\"promoted\"} %lu\n"
		"tandem_failovers_total{change=\"stepped_down\"} %lu\n", promoted, stepped);
	cs = cmd("cluster", "status");
	nodes = json_object_get(cs, "nodes");
	if (json_array_size(nodes)) {
		put(b, "# HELP tandem_replication_lag_bytes Journal bytes the node has not "
			"acknowledged yet.\n# TYPE tandem_replication_lag_bytes gauge\n");
		json_array_foreach(nodes, i, n)
			put(b, "tandem_replication_lag_bytes{node=\"%s\"} %lld\n",
			    json_string_value(json_object_get(n, "name")),
			    (long long)json_integer_value(json_object_get(
				json_object_get(n, "repl"), "lag_bytes")));
		put(b, "# HELP tandem_replication_lag_seconds Age of the oldest turn the "
			"node has not acknowledged.\n# TYPE tandem_replication_lag_seconds gauge\n");
		json_array_foreach(nodes, i, n)
			put(b, "tandem_replication_lag_seconds{node=\"%s\"} %.3f\n",
			    json_string_value(json_object_get(n, "name")),
			    (double)json_integer_value(json_object_get(
				json_object_get(n, "repl"), "lag_ms")) / 1000.0);
	}
	json_decref(cs);
}

char *web_metrics_text(void)
{
	const struct sip_transp_stats *ts = sip_transp_stats();
	const struct rtp_totals *rt = rtp_totals();
	const struct tftp_stats *tf = tftp_stats();
	struct buf b = { malloc(4096), 0, 4096, false };
	const char *node = tandemd_nodename() ? tandemd_nodename() : "";

	if (!b.s)
		return NULL;
	b.s[0] = '\0';
	put(&b, "# HELP tandem_info Version and node name of this tandemd.\n"
		"# TYPE tandem_info gauge\ntandem_info{version=\"%s\",node=\"", TANDEM_VERSION);
	for (const char *c = node; *c; c++)   /* label value escaping */
		put(&b, "%s%c", (*c == '"' || *c == '\\') ? "\\" : "", *c == '\n' ? 'n' : *c);
	put(&b, "\"} 1\n");
	metric(&b, "tandem_uptime_seconds", "gauge", "Seconds since tandemd started.",
	       (unsigned long long)(time(NULL) - tandemd_started()));
	metric(&b, "tandem_peers", "gauge", "Peers in sip.conf.",
	       (unsigned long long)pbx_sipconf()->npeers);
	metric(&b, "tandem_registrations", "gauge", "Peers registered now.",
	       (unsigned long long)registrar_count());
	metric(&b, "tandem_calls_active", "gauge", "Calls in progress.",
	       (unsigned long long)call_count());
	metric(&b, "tandem_calls_total", "counter",
	       "Calls set up since start; calls per second is rate(tandem_calls_total[1m]).",
	       (unsigned long long)call_started_total());
	put(&b, "# HELP tandem_sip_messages_total SIP messages received and sent.\n"
		"# TYPE tandem_sip_messages_total counter\n"
		"tandem_sip_messages_total{direction=\"rx\"} %llu\n"
		"tandem_sip_messages_total{direction=\"tx\"} %llu\n",
		(unsigned long long)ts->rx_msgs, (unsigned long long)ts->tx_msgs);
	metric(&b, "tandem_sip_malformed_total", "counter", "SIP messages refused as malformed.",
	       (unsigned long long)ts->rx_bad);
	put(&b, "# HELP tandem_rtp_packets_total RTP packets received from and sent to phones "
		"and trunks.\n# TYPE tandem_rtp_packets_total counter\n"
		"tandem_rtp_packets_total{direction=\"rx\"} %llu\n"
		"tandem_rtp_packets_total{direction=\"tx\"} %llu\n",
		(unsigned long long)rt->rx_pkts, (unsigned long long)rt->tx_pkts);
	metric(&b, "tandem_rtp_packets_lost_total", "counter",
	       "RTP packets estimated lost from sequence gaps (RFC 3550 A.3).",
	       (unsigned long long)rt->lost);
	metric(&b, "tandem_rtp_relays", "gauge", "RTP relays (call media) open now.",
	       (unsigned long long)rtp_relay_count());
	metric(&b, "tandem_auth_failures_total", "counter",
	       "Failed authentications (SIP digest and HTTP), as in the security log.",
	       (unsigned long long)log_security_count("auth_failed"));
	metric(&b, "tandem_requests_rejected_total", "counter",
	       "Requests rejected as hostile or malformed, as in the security log.",
	       (unsigned long long)log_security_count("request_rejected"));
	put(&b, "# HELP tandem_tftp_transfers_total TFTP read requests by outcome.\n"
		"# TYPE tandem_tftp_transfers_total counter\n"
		"tandem_tftp_transfers_total{result=\"sent\"} %llu\n"
		"tandem_tftp_transfers_total{result=\"failed\"} %llu\n"
		"tandem_tftp_transfers_total{result=\"refused\"} %llu\n",
		(unsigned long long)tf->sent, (unsigned long long)tf->failed,
		(unsigned long long)tf->refused);
	metric(&b, "tandem_tftp_transfers_active", "gauge", "TFTP transfers in progress.",
	       tf->active);
	cluster_metrics(&b);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
