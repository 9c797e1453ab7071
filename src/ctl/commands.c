/**
 * @file commands.c  The daemon side of tandemctl: status, peers,
 * registrations, reload, calls, dialplan, registry, db. Commands of parts
 * not built yet answer with an error saying so (tandemctl exits 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/loop.h"
#include "ctl/commands.h"
#include "ctl/ctl.h"
#include "dialplan/dialplan.h"
#include "ha/cluster.h"
#include "ha/ha.h"
#include "media/rtp.h"
#include "pbx/call.h"
#include "pbx/outreg.h"
#include "pbx/pbx.h"
#include "pbx/queue.h"
#include "pbx/registrar.h"
#include "sip/sip.h"
#include "store/astdb.h"
#include "store/cdr.h"

static json_t *cmd_status(json_t *args, char *err, size_t errsize)
{
	const struct sip_transp_stats *ts = sip_transp_stats();
	char lst[256];

	(void)args;
	(void)err;
	(void)errsize;
	sip_transp_describe(lst, sizeof(lst));
	json_t *st = json_pack("{s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}}",
		"node", tandemd_nodename() ? tandemd_nodename() : "",
		"version", TANDEM_VERSION,
		"sip_ready", sip_transp_nlisteners() > 0,
		"listen", lst,
		"uptime", (json_int_t)(time(NULL) - tandemd_started()),
		"peers", (json_int_t)pbx_sipconf()->npeers,
		"registrations", (json_int_t)registrar_count(),
		"server_transactions", (json_int_t)sip_strans_count(),
		"client_transactions", (json_int_t)sip_ctrans_count(),
		"sip", "rx", (json_int_t)ts->rx_msgs, "tx", (json_int_t)ts->tx_msgs,
		"rx_bad", (json_int_t)ts->rx_bad, "tcp_connections", (json_int_t)ts->tcp_conns);
	if (st) {
		json_object_set_new(st, "calls", json_integer((json_int_t)call_count()));
		/* a cluster's standby has its sockets open but answers nothing */
		json_object_set_new(st, "role", json_string(ha_role_contract(ha_role())));
		json_object_set_new(st, "serving", json_boolean(ha_serving()));
		json_object_set_new(st, "rtp", json_pack("{s:I, s:I, s:I}",
			"ports_in_use", (json_int_t)rtp_ports_in_use(),
			"ports_total", (json_int_t)rtp_ports_total(),
			"relays", (json_int_t)rtp_relay_count()));
		if (dialplan_clock_faked()) {   /* tandemd --fake-time */
			char when[32];
			struct tm tm;
			time_t now = dialplan_now();

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
			json_object_set_new(st, "dialplan_time", json_string(when));
		}
	}
	return st;
}

static json_t *cmd_peers(json_t *args, char *err, size_t errsize)
{
	const struct sipconf *sc = pbx_sipconf();
	json_t *arr = json_array();
	size_t i;

	(void)args;
	(void)err;
	(void)errsize;
	for (i = 0; i < sc->npeers; i++) {
		const struct peer *p = sc->list[i];
		struct binding *b = registrar_find(p->name);
		char status[64], addr[96] = "", cg[192], pg[192];

		registrar_peer_status(p, status, sizeof(status));
		if (b)
			sip_src_str(&b->src, addr, sizeof(addr));
		else if (p->host)
			snprintf(addr, sizeof(addr), "%s:%u", p->host, p->port);
		peer_group_str(p->callgroup, cg, sizeof(cg));   /* 0-63: always fits */
		peer_group_str(p->pickupgroup, pg, sizeof(pg));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:i, s:s, s:b, "
						     "s:s, s:s}",
			"name", p->name, "type", peer_type_name(p->type),
			"host", p->dynamic ? "dynamic" : (p->host ? p->host : ""),
			"registered", b != NULL, "address", addr, "status", status,
			"latency_ms", b && (b->qstate == QUALIFY_OK || b->qstate == QUALIFY_LAGGED)
				? (int)b->latency_ms : -1,
			"context", p->context ? p->context : "",
			"auth", p->secret != NULL, "callgroup", cg, "pickupgroup", pg));
	}
	return json_pack("{s:o}", "peers", arr);
}

static json_t *cmd_registrations(json_t *args, char *err, size_t errsize)
{
	(void)args;
	(void)err;
	(void)errsize;
	return registrar_json();
}

static json_t *cmd_reload(json_t *args, char *err, size_t errsize)
{
	(void)args;
	if (tandemd_reload(err, errsize))
		return NULL;
	return json_pack("{s:s}", "result", "configuration reloaded");
}

static json_t *cmd_calls(json_t *args, char *err, size_t errsize)
{
	const char *sub = json_string_value(json_array_get(args, 0));
	const char *id = json_string_value(json_array_get(args, 1));

	if (!sub)
		return call_json();
	if (!strcmp(sub, "hangup") && id) {
		char *e;
		unsigned long n = strtoul(id, &e, 10);
		if (*e || call_hangup_id((uint32_t)n)) {
			snprintf(err, errsize, "no call with id '%s'", id);
			return NULL;
		}
		return json_pack("{s:s}", "result", "call hung up");
	}
	snprintf(err, errsize, "usage: calls [hangup ID]");
	return NULL;
}

static json_t *cmd_dialplan(json_t *args, char *err, size_t errsize)
{
	const char *ctx = json_string_value(json_array_get(args, 0));
	json_t *j = dialplan_json(pbx_dialplan(), ctx);

	if (!j)
		snprintf(err, errsize, "there is no context '%s'", ctx ? ctx : "");
	return j;
}

static json_t *cmd_registry(json_t *args, char *err, size_t errsize)
{
	(void)args;
	(void)err;
	(void)errsize;
	return outreg_json();
}

/* ------------------------------------------------------------------ db */

static void db_error(int e, const char *family, const char *key, char *err,
		     size_t errsize)
{
	switch (e) {
	case ENOENT:
		snprintf(err, errsize, "Database entry not found: /%s/%s", family, key);
		break;
	case ENODEV:
		snprintf(err, errsize, "the database %s is not open (see the log)",
			 astdb_path());
		break;
	case EROFS:
		snprintf(err, errsize, "the database %s is read-only", astdb_path());
		break;
	case EBUSY:
		snprintf(err, errsize, "the database %s is locked by another process; "
			 "try again", astdb_path());
		break;
	case EINVAL:
		snprintf(err, errsize, "family and key must not be empty");
		break;
	default:
		snprintf(err, errsize, "cannot use the database %s: %s (see the log)",
			 astdb_path(), strerror(e));
	}
}

static void db_entry(const char *family, const char *key, const char *value, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s}", "family", family,
					     "key", key, "value", value));
}

static json_t *db_show(const char *family, char *err, size_t errsize)
{
	json_t *arr = json_array();
	int e = arr ? astdb_show(family, db_entry, arr) : ENOMEM;

	if (e) {
		json_decref(arr);
		db_error(e, family ? family : "", "", err, errsize);
		return NULL;
	}
	return json_pack("{s:o, s:I, s:o}", "family", family ? json_string(family) : json_null(),
			 "count", (json_int_t)json_array_size(arr), "entries", arr);
}

/* A write answers once it is committed (the turn's transaction with it). */
static int db_write(int e)
{
	return e ? e : astdb_commit();
}

static json_t *cmd_db(json_t *args, char *err, size_t errsize)
{
	const char *sub = json_string_value(json_array_get(args, 0));
	const char *fam = json_string_value(json_array_get(args, 1));
	const char *key = json_string_value(json_array_get(args, 2));
	const char *val = json_string_value(json_array_get(args, 3));
	size_t n = json_array_size(args), removed = 0;
	char *v = NULL;
	int e;

	if (sub && !strcmp(sub, "show") && n <= 2)
		return db_show(fam, err, errsize);
	if (!sub || !fam || (!key && strcmp(sub, "deltree"))) {
		snprintf(err, errsize, "usage: db get|del FAMILY KEY | db put FAMILY KEY VALUE | "
			 "db show [FAMILY] | db deltree FAMILY [KEYTREE]");
		return NULL;
	}
	if (!strcmp(sub, "get") && n == 3) {
		if ((e = astdb_get(fam, key, &v)))
			goto fail;
		json_t *r = json_pack("{s:s, s:s, s:s}", "family", fam, "key", key, "value", v);
		free(v);
		return r;
	}
	if (!strcmp(sub, "put") && n == 4) {
		if ((e = db_write(astdb_put(fam, key, val))))
			goto fail;
		return json_pack("{s:s, s:s, s:s, s:s}", "result", "Updated database successfully",
				 "family", fam, "key", key, "value", val);
	}
	if (!strcmp(sub, "del") && n == 3) {
		if ((e = db_write(astdb_del(fam, key))))
			goto fail;
		return json_pack("{s:s, s:s, s:s}", "result", "Database entry removed.",
				 "family", fam, "key", key);
	}
	if (!strcmp(sub, "deltree") && n <= 3) {
		char msg[64];

		if ((e = db_write(astdb_deltree(fam, key, &removed))))
			goto fail;
		snprintf(msg, sizeof(msg), "%zu database entries removed.", removed);
		return json_pack("{s:s, s:s, s:I}", "result", msg, "family", fam,
				 "removed", (json_int_t)removed);
	}
	snprintf(err, errsize, "usage: db get|del FAMILY KEY | db put FAMILY KEY VALUE | "
		 "db show [FAMILY] | db deltree FAMILY [KEYTREE]");
	return NULL;
fail:
	db_error(e, fam, key ? key : "", err, errsize);
	return NULL;
}

int ctl_commands_init(void)
{
	int e = 0;

	e |= ctl_register("status", cmd_status);
	e |= ctl_register("peers", cmd_peers);
	e |= ctl_register("registrations", cmd_registrations);
	e |= ctl_register("reload", cmd_reload);
	e |= ctl_register("calls", cmd_calls);
	e |= ctl_register("cdr", cdr_ctl_cmd);
	e |= ctl_register("dialplan", cmd_dialplan);
	e |= ctl_register("registry", cmd_registry);
	e |= ctl_register("db", cmd_db);
	e |= ctl_register("queue", queue_ctl_cmd);
	e |= ctl_register("cluster", cluster_ctl_cmd);
	return e;
}
