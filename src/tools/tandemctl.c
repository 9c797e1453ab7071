/**
 * @file tandemctl.c  The admin's client for DATADIR/tandemd.ctl.
 *
 * tandemctl [-D DATADIR] COMMAND [ARGS] [--json]
 * Exit status: 0 success, 1 the daemon refused or failed (message on
 * stderr), 2 no daemon answered.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ha/health.h"
#include "pbx/queue.h"
#include "store/cdr.h"

#define DEFAULT_DATADIR "/var/lib/tandem"
#define REQ_MAX 65535   /* the longest request line ctl.c reads, newline included */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandemctl [-D DATADIR] COMMAND [ARGS] [--json]\n"
		"commands:\n"
		"  status                 node state; exit 0 once SIP is accepted\n"
		"  peers                  sip.conf peers and their reachability\n"
		"  registrations          current registrations\n"
		"  reload                 re-read the configuration\n"
		"  calls [hangup ID]      calls in progress; hang one up\n"
		"  registry               registrations to providers (register =>)\n"
		"  db get FAMILY KEY      Asterisk's DB (DATADIR/astdb.sqlite3): a value\n"
		"  db put FAMILY KEY VALUE\n"
		"  db del FAMILY KEY\n"
		"  db show [FAMILY]\n"
		"  db deltree FAMILY [KEYTREE]\n"
		"  blacklist add|del NUMBER | blacklist show   ${BLACKLIST()}'s family\n"
		"  cdr [--last N] | dialplan [CONTEXT] | queue ... |\n"
		"  cluster status|standby [--force]|unstandby|takeover [--force]\n"
		"  cluster notify MASTER|BACKUP|FAULT   (keepalived's notify scripts)\n"
		"  health [--watch FILE]  heartbeat check without the daemon (exit 0 healthy)\n"
		"DATADIR defaults to $TANDEM_DATADIR or " DEFAULT_DATADIR ".\n");
}

static int rcv_timeout_s = 30;

static int request(const char *datadir, json_t *req, json_t **reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *out, buf[65536];
	size_t len = 0, cap = 0;
	char *in = NULL;
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/tandemd.ctl", datadir) >=
	    sizeof(sa.sun_path)) {
		fprintf(stderr, "tandemctl: data directory path too long\n");
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "tandemctl: no daemon answers on %s: %s\n", sa.sun_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	struct timeval tv = { rcv_timeout_s, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	out = json_dumps(req, JSON_COMPACT);
	if (out && strlen(out) + 1 > REQ_MAX) {
		fprintf(stderr, "tandemctl: request too long (%zu bytes; the control socket "
			"takes %d): use a shorter value\n", strlen(out), REQ_MAX - 1);
		free(out);
		close(fd);
		return 1;
	}
	if (!out || send(fd, out, strlen(out), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "tandemctl: cannot send to %s\n", sa.sun_path);
		free(out);
		close(fd);
		return 2;
	}
	free(out);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		if (len + (size_t)n + 1 > cap) {
			cap = (len + (size_t)n + 1) * 2;
			char *p = realloc(in, cap);
			if (!p)
				break;
			in = p;
		}
		memcpy(in + len, buf, (size_t)n);
		len += (size_t)n;
	}
	close(fd);
	json_error_t jerr;
	*reply = in ? json_loadb(in, len, 0, &jerr) : NULL;
	free(in);
	if (!*reply) {
		fprintf(stderr, "tandemctl: no valid answer from the daemon\n");
		return 2;
	}
	return 0;
}

static const char *js(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static long long ji(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void print_status(json_t *d)
{
	printf("Node:           %s\n", js(d, "node"));
	printf("Version:        %s\n", js(d, "version"));
	printf("SIP:            %s (%s)\n",
	       !json_is_true(json_object_get(d, "sip_ready")) ? "not ready" :
	       json_is_false(json_object_get(d, "serving")) ? "standby: answering nothing" :
	       "accepting", js(d, "listen"));
	if (*js(d, "role"))
		printf("Role:           %s\n", js(d, "role"));
	printf("Peers:          %lld\n", ji(d, "peers"));
	printf("Registrations:  %lld\n", ji(d, "registrations"));
	printf("Calls:          %lld\n", ji(d, "calls"));
	printf("RTP ports:      %lld of %lld in use\n",
	       (long long)json_integer_value(json_object_get(json_object_get(d, "rtp"), "ports_in_use")),
	       (long long)json_integer_value(json_object_get(json_object_get(d, "rtp"), "ports_total")));
	printf("Transactions:   %lld server, %lld client\n", ji(d, "server_transactions"),
	       ji(d, "client_transactions"));
	printf("Uptime:         %lld s\n", ji(d, "uptime"));
	if (*js(d, "dialplan_time"))
		printf("Dialplan time:  %s (tandemd --fake-time: for tests only)\n",
		       js(d, "dialplan_time"));
}

static void print_peers(json_t *d)
{
	json_t *arr = json_object_get(d, "peers"), *p;
	size_t i, online = 0;

	printf("%-24s %-28s %-4s %-8s %s\n", "Name", "Address", "Dyn", "Auth", "Status");
	json_array_foreach(arr, i, p) {
		const char *addr = js(p, "address");
		printf("%-24s %-28s %-4s %-8s %s\n", js(p, "name"), *addr ? addr : "(Unspecified)",
		       !strcmp(js(p, "host"), "dynamic") ? "D" : "",
		       json_is_true(json_object_get(p, "auth")) ? "digest" : "none", js(p, "status"));
		if (json_is_true(json_object_get(p, "registered")))
			online++;
	}
	printf("%zu sip peers [registered: %zu, not registered: %zu]\n", json_array_size(arr),
	       online, json_array_size(arr) - online);
}

static void print_calls(json_t *d)
{
	json_t *arr = json_object_get(d, "calls"), *c;
	size_t i;

	printf("%-5s %-26s %-14s %-20s %-9s %8s\n", "Id", "Channel", "Caller", "Exten@Context",
	       "State", "Duration");
	json_array_foreach(arr, i, c) {
		char dest[96];
		snprintf(dest, sizeof(dest), "%s@%s", js(c, "exten"), js(c, "context"));
		printf("%-5lld %-26s %-14s %-20s %-9s %7llds%s\n", ji(c, "id"), js(c, "channel"),
		       js(c, "caller"), dest, js(c, "state"), ji(c, "duration"),
		       json_is_true(json_object_get(c, "restored")) ? "  (restored)" : "");
	}
	printf("%zu active calls\n", json_array_size(arr));
}

/* As Asterisk's "dialplan show". */
static void print_dialplan(json_t *d)
{
	json_t *ctxs = json_object_get(d, "contexts"), *c, *x, *e, *p;
	size_t i, j, k, n = 0;

	json_array_foreach(ctxs, i, c) {
		printf("[ Context '%s' created in %s:%lld ]\n", js(c, "name"), js(c, "file"),
		       ji(c, "line"));
		json_array_foreach(json_object_get(c, "extensions"), j, e) {
			json_array_foreach(json_object_get(e, "priorities"), k, p) {
				char head[80], app[200];
				const char *label = js(p, "label");
				if (k)
					head[0] = '\0';
				else
					snprintf(head, sizeof(head), "'%s' =>", js(e, "exten"));
				snprintf(app, sizeof(app), "%lld.%s%s%s %s(%s)", ji(p, "prio"),
					 *label ? " (" : "", label, *label ? ")" : "", js(p, "app"),
					 js(p, "data"));
				printf("  %-20s %-50s [%s:%lld]\n", head, app, js(p, "file"),
				       ji(p, "line"));
				n++;
			}
		}
		json_array_foreach(json_object_get(c, "includes"), j, x)
			printf("  Include =>           '%s'\n",
			       json_is_string(x) ? json_string_value(x) : js(x, "context"));
		printf("\n");
	}
	printf("-= %zu contexts, %zu priorities =-\n", json_array_size(ctxs), n);
}

static void print_regs(json_t *d)
{
	json_t *arr = json_object_get(d, "registrations"), *r;
	size_t i;

	printf("%-20s %-36s %-26s %7s  %s\n", "Peer", "Contact", "Source", "Expires", "User-Agent");
	json_array_foreach(arr, i, r)
		printf("%-20s %-36s %-26s %6llds  %s\n", js(r, "peer"), js(r, "contact"),
		       js(r, "source"), ji(r, "expires_in"), js(r, "user_agent"));
	printf("%zu registrations\n", json_array_size(arr));
}

/* As Asterisk's "database show". */
static void print_db(json_t *d)
{
	json_t *arr = json_object_get(d, "entries"), *e;
	size_t i;

	if (!arr) {   /* get, put, del, deltree */
		json_t *v = json_object_get(d, "value");
		const char *r = js(d, "result");

		printf("%s\n", *r ? r : json_string_value(v) ? json_string_value(v) : "");
		return;
	}
	json_array_foreach(arr, i, e) {
		char key[1024];

		snprintf(key, sizeof(key), "/%s/%s", js(e, "family"), js(e, "key"));
		printf("%-50s: %-25s\n", key, js(e, "value"));
	}
	printf("%zu result%s found.\n", json_array_size(arr), json_array_size(arr) == 1 ? "" : "s");
}

/* One node's replication line: state, position, lag, full resync progress. */
static void print_repl(json_t *r)
{
	json_t *sy = json_object_get(r, "sync");

	if (!json_object_get(r, "state"))
		return;
	printf("      replication %s at %.12s:%lld", js(r, "state"), js(r, "id"), ji(r, "offset"));
	if (json_is_integer(json_object_get(r, "lag_bytes")))
		printf(", lag %lld bytes", ji(r, "lag_bytes"));
	if (json_is_integer(json_object_get(r, "lag_ms")))
		printf(" / %lld ms", ji(r, "lag_ms"));
	printf("\n");
	if (!sy)
		return;
	printf("      sync: %s %.1f of %.1f MB, %.1f MB/s", js(sy, "phase"),
	       (double)ji(sy, "done_bytes") / 1e6, (double)ji(sy, "total_bytes") / 1e6,
	       (double)ji(sy, "rate_bps") / 1e6);
	if (json_is_integer(json_object_get(sy, "eta_s")))
		printf(", eta %lld s", ji(sy, "eta_s"));
	printf("\n");
}

/* "Quorum: 3 of 3; witness 10.0.0.3:7390 connected, lease held by a (512 ms left)" */
static void print_quorum(json_t *q)
{
	json_t *w = json_object_get(q, "witness");

	if (!json_is_object(q))
		return;
	printf("Quorum: %lld of %lld", ji(q, "have"), ji(q, "of"));
	if (json_is_object(w)) {
		printf("; witness %s %s", js(w, "address"), js(w, "state"));
		if (*js(w, "holder"))
			printf(", lease held by %s (%lld ms left)", js(w, "holder"),
			       ji(w, "lease_ms_left"));
	} else {
		printf(" (no witness)");
	}
	printf("\n");
}

/* As `pcs status`: the cluster, its nodes and their roles, the link. */
static void print_cluster(json_t *d)
{
	json_t *nodes = json_object_get(d, "nodes"), *n, *l = json_object_get(d, "link");
	size_t i;

	printf("Cluster name: %s (engine %s)\n", js(d, "cluster"), js(d, "engine"));
	printf("Node List:\n");
	json_array_foreach(nodes, i, n) {
		printf("  * %s (%s): %s%s", js(n, "name"), js(n, "address"), js(n, "role"),
		       json_is_true(json_object_get(n, "self")) ? " (this node)" : "");
		if (*js(n, "state"))
			printf(" [%s]", js(n, "state"));
		printf("\n");
		print_repl(json_object_get(n, "repl"));
	}
	printf("Floating address: %s", *js(d, "vip") ? js(d, "vip") : "(none configured)");
	if (*js(d, "vip_holder"))
		printf(", held by %s", js(d, "vip_holder"));
	printf("\n");
	printf("Replication: %s\n", js(json_object_get(d, "replication"), "state"));
	printf("Link to %s: %s", js(l, "peer"), js(l, "state"));
	if (json_object_get(l, "rtt_ms"))
		printf(", rtt %lld ms", ji(l, "rtt_ms"));
	if (*js(l, "last_error"))
		printf(" (last error: %s)", js(l, "last_error"));
	printf("\n");
	print_quorum(json_object_get(d, "quorum"));
}

/* `blacklist add|del NUMBER`, `blacklist show`: the db command on family
 * "blacklist" (a key there, any value, makes ${BLACKLIST()} 1). */
static json_t *blacklist_args(json_t *args)
{
	const char *sub = json_string_value(json_array_get(args, 0));
	const char *num = json_string_value(json_array_get(args, 1));
	size_t n = json_array_size(args);

	if (sub && !strcmp(sub, "show") && n == 1)
		return json_pack("[s,s]", "show", "blacklist");
	if (sub && num && n == 2 && !strcmp(sub, "add"))
		return json_pack("[s,s,s,s]", "put", "blacklist", num, "1");
	if (sub && num && n == 2 && !strcmp(sub, "del"))
		return json_pack("[s,s,s]", "del", "blacklist", num);
	return NULL;
}

/* `cluster standby` on the active: done when this node is no longer ACTIVE
 * (the daemon aborts the handover after 2 s: FO_ABORT in its log).
 * `cluster takeover` on the standby: done when this node is ACTIVE (the
 * active refuses in its log when this node is not in sync). */
static int handover_wait(const char *datadir, bool takeover)
{
	for (int i = 0; i < 50; i++) {   /* 5 s */
		json_t *req = json_pack("{s:s, s:[s]}", "cmd", "cluster", "args", "status");
		json_t *reply = NULL, *n;
		const char *state = "";
		size_t k;
		int rc = request(datadir, req, &reply);

		json_decref(req);
		if (rc)
			return rc;
		json_array_foreach(json_object_get(json_object_get(reply, "data"), "nodes"), k, n)
			if (json_is_true(json_object_get(n, "self")))
				state = js(n, "state");
		if (takeover ? !strcmp(state, "ACTIVE") :
		    *state && strcmp(state, "ACTIVE") && strcmp(state, "DEMOTING")) {
			printf("done: this node is %s\n", state);
			json_decref(reply);
			return 0;
		}
		json_decref(reply);
		usleep(100000);
	}
	if (takeover)
		fprintf(stderr, "tandemctl: cluster takeover: this node is not ACTIVE after 5 s: "
			"the active refused or aborted the handover (FO_WAIT_SYNC or FO_ABORT "
			"in its log)\n");
	else
		fprintf(stderr, "tandemctl: cluster standby: this node is still active after 5 s "
			"(FO_ABORT: see the log)\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *datadir = getenv("TANDEM_DATADIR");
	bool as_json = false;
	json_t *args = json_array(), *req, *reply = NULL, *data;
	const char *cmd = NULL;
	int i, rc;

	if (!datadir)
		datadir = DEFAULT_DATADIR;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			as_json = true;
		else if (!strcmp(argv[i], "-D") && i + 1 < argc)
			datadir = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!cmd)
			cmd = argv[i];
		else
			json_array_append_new(args, json_string(argv[i]));
	}
	if (!cmd) {
		usage(stderr);
		json_decref(args);
		return 1;
	}
	if (!strcmp(cmd, "health")) {   /* never the control socket: health.h */
		const char *watch = NULL;
		char why[512];

		for (i = 1; i + 1 < argc; i++)
			if (!strcmp(argv[i], "--watch"))
				watch = argv[i + 1];
		json_decref(args);
		if (watch)
			return ha_health_watch(datadir, watch);
		rc = ha_health_check(datadir, why, sizeof(why));
		fprintf(rc ? stderr : stdout, "%s\n", why);
		return rc;
	}
	if (!strcmp(cmd, "cluster") && !strcmp(json_string_value(json_array_get(args, 0)) ?
						  json_string_value(json_array_get(args, 0)) : "",
						  "notify"))
		rcv_timeout_s = 2;   /* keepalived's notify: a hung daemon must not pile up */
	if (!strcmp(cmd, "blacklist")) {
		json_t *a = blacklist_args(args);

		json_decref(args);
		if (!a) {
			fprintf(stderr, "usage: tandemctl blacklist add|del NUMBER | blacklist show\n");
			return 1;
		}
		args = a;
		cmd = "db";
	}
	req = json_pack("{s:s, s:o}", "cmd", cmd, "args", args);
	rc = request(datadir, req, &reply);
	/* `cluster digest` runs in a thread of the daemon: ask again until the
	 * result is there (every 50 ms, at most 60 s) */
	for (int tries = 0; !rc && tries < 1200 && json_is_true(json_object_get(
		     json_object_get(reply, "data"), "pending")); tries++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		json_decref(reply);
		reply = NULL;
		nanosleep(&ts, NULL);
		rc = request(datadir, req, &reply);
	}
	json_decref(req);
	if (rc)
		return rc;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		fprintf(stderr, "tandemctl: %s: %s\n", cmd, js(reply, "error"));
		json_decref(reply);
		return 1;
	}
	data = json_object_get(reply, "data");
	rc = 0;
	if (!strcmp(cmd, "status") && !json_is_true(json_object_get(data, "sip_ready")))
		rc = 1;
	if (as_json) {
		char *s = json_dumps(data, JSON_INDENT(2));
		printf("%s\n", s ? s : "null");
		free(s);
	} else if (!strcmp(cmd, "status")) {
		print_status(data);
	} else if (!strcmp(cmd, "peers")) {
		print_peers(data);
	} else if (!strcmp(cmd, "registrations")) {
		print_regs(data);
	} else if (!strcmp(cmd, "registry")) {
		json_t *rg;
		size_t k;
		printf("%-30s %-16s %-14s %7s\n", "Host", "Username", "State", "Expires");
		json_array_foreach(json_object_get(data, "registry"), k, rg)
			printf("%-30s %-16s %-14s %6llds\n", js(rg, "host"), js(rg, "user"),
			       js(rg, "state"), ji(rg, "expires"));
	} else if (!strcmp(cmd, "dialplan")) {
		print_dialplan(data);
	} else if (!strcmp(cmd, "cdr")) {
		cdr_print(stdout, data);
	} else if (!strcmp(cmd, "db")) {
		print_db(data);
	} else if (!strcmp(cmd, "cluster") && json_object_get(data, "nodes")) {
		print_cluster(data);
	} else if (!strcmp(cmd, "queue") && json_object_get(data, "queues")) {
		queue_print(stdout, data);
	} else if (!strcmp(cmd, "calls") && json_object_get(data, "calls")) {
		print_calls(data);
	} else {
		const char *r = js(data, "result");
		printf("%s\n", *r ? r : "ok");
		if (!strcmp(cmd, "cluster") && !strcmp(r, "handing over"))
			rc = handover_wait(datadir, false);
		else if (!strcmp(cmd, "cluster") && !strcmp(r, "asked the active to hand over"))
			rc = handover_wait(datadir, true);
	}
	json_decref(reply);
	return rc;
}
