/**
 * @file queue_ctl.c  `tandemctl queue show|add|remove|pause|unpause`: the
 * JSON view of the queues, the daemon's command and the client's text,
 * which follows Asterisk's "queue show".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/queue.h"
#include "pbx/queue_log.h"

static json_t *member_json(const struct queue_member *m, time_t now)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:b, s:b, s:s, s:b, s:s, s:b, s:b, s:I, s:I, "
			 "s:I}",
		"interface", m->interface, "name", m->membername,
		"state_interface", m->state_interface, "penalty", m->penalty,
		"dynamic", m->dynamic, "paused", m->paused,
		"paused_reason", m->paused_reason ? m->paused_reason : "",
		"ringinuse", m->ringinuse, "status", queue_dev_name(m->status),
		"in_call", m->in_call, "ringing", m->ringing,
		"calls", (json_int_t)m->calls, "lastcall", (json_int_t)m->lastcall,
		"last_call_ago", (json_int_t)(m->lastcall ? now - m->lastcall : -1));
}

static json_t *one_json(const struct queue *q, time_t now)
{
	json_t *members = json_array(), *callers = json_array(), *j;
	double sl = 0, sl2 = 0;
	size_t i;

	if (q->completed)
		sl = 100.0 * q->completed_in_sl / q->completed;
	if (q->completed + q->abandoned)
		sl2 = 100.0 * (q->abandoned_in_sl + q->completed_in_sl) /
		      (q->abandoned + q->completed);
	for (i = 0; i < q->nmembers; i++)
		json_array_append_new(members, member_json(q->members[i], now));
	for (i = 0; i < q->ncallers; i++) {
		const struct queue_caller *c = q->callers[i];
		json_array_append_new(callers, json_pack("{s:i, s:s, s:s, s:s, s:I, s:i}",
			"position", c->pos, "id", c->id, "cidnum", c->cidnum,
			"cidname", c->cidname, "wait", (json_int_t)(now - c->start),
			"prio", c->prio));
	}
	j = json_pack("{s:s, s:s, s:i, s:I, s:i, s:i, s:i, s:I, s:I, s:I, s:f, s:f, s:b, "
		      "s:s, s:I, s:I, s:I}",
		"name", q->name, "strategy", queue_strategy_name(q->cf->strategy),
		"calls", (int)q->ncallers, "maxlen", (json_int_t)q->cf->maxlen,
		"holdtime", q->holdtime, "talktime", q->talktime, "weight", q->cf->weight,
		"completed", (json_int_t)q->completed, "abandoned", (json_int_t)q->abandoned,
		"servicelevel", (json_int_t)q->cf->servicelevel, "sl", sl, "sl2", sl2,
		"dead", q->dead, "musicclass", q->cf->musicclass ? q->cf->musicclass : "",
		"timeout", (json_int_t)q->cf->timeout, "retry", (json_int_t)q->cf->retry,
		"wrapuptime", (json_int_t)q->cf->wrapuptime);
	json_object_set_new(j, "members", members);
	json_object_set_new(j, "callers", callers);
	return j;
}

json_t *queue_state_json(const struct queue_state *qs, const char *name, time_t now)
{
	json_t *arr = json_array();
	size_t i, found = 0;

	for (i = 0; qs && i < qs->n; i++) {
		if (name && strcasecmp(qs->queues[i]->name, name))
			continue;
		json_array_append_new(arr, one_json(qs->queues[i], now));
		found++;
	}
	if (name && !found) {
		json_decref(arr);
		return NULL;
	}
	return json_pack("{s:o}", "queues", arr);
}

/* ---------------------------------------------------------- command */

static const char *arg(json_t *args, size_t i)
{
	return json_string_value(json_array_get(args, i));
}

static json_t *result(const char *fmt, const char *a, const char *b, const char *c)
{
	char buf[512];

	snprintf(buf, sizeof(buf), fmt, a, b, c ? c : "");
	return json_pack("{s:s}", "result", buf);
}

static json_t *do_add(struct queue_state *qs, json_t *args, char *err, size_t errsize)
{
	const char *q, *iface, *pen = NULL, *name = NULL, *si = NULL;
	size_t n = json_array_size(args), i;
	long penalty = 0;
	char *end;
	int e;

	if (arg(args, 1) && !strcmp(arg(args, 1), "member")) {
		/* add member IF to Q [penalty N [as NAME [state_interface SI]]] */
		iface = arg(args, 2);
		q = arg(args, 3) && !strcmp(arg(args, 3), "to") ? arg(args, 4) : NULL;
		for (i = 5; i + 1 < n; i += 2) {
			if (!strcmp(arg(args, i), "penalty"))
				pen = arg(args, i + 1);
			else if (!strcmp(arg(args, i), "as"))
				name = arg(args, i + 1);
			else if (!strcmp(arg(args, i), "state_interface"))
				si = arg(args, i + 1);
			else
				q = NULL;
		}
		if (n > 5 && (n - 5) % 2)
			q = NULL;
	} else {
		q = arg(args, 1);
		iface = arg(args, 2);
		pen = arg(args, 3);
		name = arg(args, 4);
		si = arg(args, 5);
		if (n > 6)
			q = NULL;
	}
	if (!q || !iface) {
		snprintf(err, errsize, "usage: queue add QUEUE INTERFACE [PENALTY [MEMBERNAME "
			 "[STATE_INTERFACE]]]");
		return NULL;
	}
	if (pen && (penalty = strtol(pen, &end, 10), *end || penalty < 0 || penalty > INT32_MAX)) {
		snprintf(err, errsize, "penalty must be a whole number >= 0, not '%s'", pen);
		return NULL;
	}
	e = queue_member_add(qs, q, iface, (int)penalty, false, name, si);
	if (e == ENOENT)
		snprintf(err, errsize, "Unable to add interface to queue '%s': No such queue", q);
	else if (e == EEXIST)
		snprintf(err, errsize, "Unable to add interface '%s' to queue '%s': Already there",
			 iface, q);
	else if (e)
		snprintf(err, errsize, "Unable to add interface '%s' to queue '%s': %s", iface, q,
			 strerror(e));
	if (e)
		return NULL;
	queue_log_member(queue_find(qs, q)->name, "CLI",
			 qs->cf->gen.log_membername_as_agent && name ? name : iface, 1, 0);
	return result("Added interface '%s' to queue '%s'%s", iface, queue_find(qs, q)->name,
		      NULL);
}

static json_t *do_remove(struct queue_state *qs, json_t *args, char *err, size_t errsize)
{
	const char *q, *iface, *agent;
	struct queue_member *m;
	char name[256] = "";
	int e;

	if (arg(args, 1) && !strcmp(arg(args, 1), "member")) {
		/* remove member IF from Q */
		iface = arg(args, 2);
		q = arg(args, 3) && !strcmp(arg(args, 3), "from") ? arg(args, 4) : NULL;
		if (json_array_size(args) != 5)
			q = NULL;
	} else {
		q = arg(args, 1);
		iface = arg(args, 2);
		if (json_array_size(args) != 3)
			q = NULL;
	}
	if (!q || !iface) {
		snprintf(err, errsize, "usage: queue remove QUEUE INTERFACE");
		return NULL;
	}
	if ((m = queue_member_find(queue_find(qs, q), iface)))
		snprintf(name, sizeof(name), "%s", m->membername);
	e = queue_member_remove(qs, q, iface);
	if (e == ENOENT)
		snprintf(err, errsize, "Unable to remove interface from queue '%s': No such "
			 "queue", q);
	else if (e == ESRCH)
		snprintf(err, errsize, "Unable to remove interface '%s' from queue '%s': Not "
			 "there", iface, q);
	else if (e == EPERM)
		snprintf(err, errsize, "Unable to remove interface '%s' from queue '%s': it is "
			 "a static member (queues.conf member =>), not a dynamic one", iface, q);
	if (e)
		return NULL;
	agent = qs->cf->gen.log_membername_as_agent && name[0] ? name : iface;
	queue_log_member(queue_find(qs, q)->name, "CLI", agent, 0, 0);
	return result("Removed interface '%s' from queue '%s'%s", iface, queue_find(qs, q)->name,
		      NULL);
}

static json_t *do_pause(struct queue_state *qs, json_t *args, bool paused, char *err,
			size_t errsize)
{
	const char *q = NULL, *iface, *reason = NULL;
	size_t n = json_array_size(args), i;
	bool ok = true;

	if (arg(args, 1) && !strcmp(arg(args, 1), "member")) {
		/* pause member IF [queue Q] [reason R] */
		iface = arg(args, 2);
		for (i = 3; i < n; i += 2) {
			if (i + 1 >= n)
				ok = false;
			else if (!strcmp(arg(args, i), "queue"))
				q = arg(args, i + 1);
			else if (!strcmp(arg(args, i), "reason"))
				reason = arg(args, i + 1);
			else
				ok = false;
		}
	} else {
		q = arg(args, 1);
		iface = arg(args, 2);
		reason = arg(args, 3);
		ok = q && n <= 4;
		if (q && !strcmp(q, "--all"))
			q = NULL;
	}
	if (!ok || !iface) {
		snprintf(err, errsize, "usage: queue %s QUEUE|--all INTERFACE [REASON]",
			 paused ? "pause" : "unpause");
		return NULL;
	}
	if (q && !queue_find(qs, q)) {
		snprintf(err, errsize, "No such queue: '%s'", q);
		return NULL;
	}
	if (queue_member_pause(qs, q, iface, paused, reason)) {
		snprintf(err, errsize, "Unable to %spause interface '%s'%s%s: not a member",
			 paused ? "" : "un", iface, q ? " in queue " : "", q ? q : "");
		return NULL;
	}
	return result(paused ? "paused interface '%s' in queue '%s' for reason '%s'"
			     : "unpaused interface '%s' in queue '%s'%s",
		      iface, q ? q : "(all)", paused ? (reason ? reason : "") : NULL);
}

json_t *queue_ctl_cmd(json_t *args, char *err, size_t errsize)
{
	struct queue_state *qs = queue_state_current();
	const char *sub = arg(args, 0);
	json_t *j;

	if (!qs) {
		snprintf(err, errsize, "queues are not running");
		return NULL;
	}
	if (!sub || !strcmp(sub, "show")) {
		const char *name = sub ? arg(args, 1) : NULL;
		if (json_array_size(args) > 2) {
			snprintf(err, errsize, "usage: queue show [QUEUE]");
			return NULL;
		}
		j = queue_state_json(qs, name, time(NULL));
		if (!j)
			snprintf(err, errsize, "No such queue: %s.", name);
		return j;
	}
	if (!strcmp(sub, "add"))
		return do_add(qs, args, err, errsize);
	if (!strcmp(sub, "remove"))
		return do_remove(qs, args, err, errsize);
	if (!strcmp(sub, "pause") || !strcmp(sub, "unpause"))
		return do_pause(qs, args, !strcmp(sub, "pause"), err, errsize);
	snprintf(err, errsize, "usage: queue show [QUEUE] | add QUEUE INTERFACE [PENALTY "
		 "[NAME [STATE_INTERFACE]]] | remove QUEUE INTERFACE | pause|unpause "
		 "QUEUE|--all INTERFACE [REASON]");
	return NULL;
}

/* ------------------------------------------------------ client text */

static const char *js(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static long long ji(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void print_member(FILE *f, const json_t *m)
{
	fprintf(f, "      %s", js(m, "name"));
	if (strcmp(js(m, "name"), js(m, "interface")))
		fprintf(f, " (%s from %s)", js(m, "interface"), js(m, "state_interface"));
	if (ji(m, "penalty"))
		fprintf(f, " with penalty %lld", ji(m, "penalty"));
	fprintf(f, " (ringinuse %s)%s%s%s (%s)",
		json_is_true(json_object_get(m, "ringinuse")) ? "enabled" : "disabled",
		json_is_true(json_object_get(m, "dynamic")) ? " (dynamic)" : "",
		json_is_true(json_object_get(m, "paused")) ? " (paused)" : "",
		json_is_true(json_object_get(m, "in_call")) ? " (in call)" : "",
		js(m, "status"));
	if (ji(m, "calls"))
		fprintf(f, " has taken %lld calls (last was %lld secs ago)\n", ji(m, "calls"),
			ji(m, "last_call_ago"));
	else
		fprintf(f, " has taken no calls yet\n");
}

void queue_print(FILE *f, const json_t *data)
{
	const json_t *queues = json_object_get(data, "queues"), *q, *x;
	size_t i, k;

	if (!queues) {
		fprintf(f, "%s\n", js(data, "result"));
		return;
	}
	if (!json_array_size(queues))
		fprintf(f, "No queues.\n");
	json_array_foreach(queues, i, q) {
		char max[32];

		snprintf(max, sizeof(max), "%lld", ji(q, "maxlen"));
		fprintf(f, "%s has %lld calls (max %s) in '%s' strategy (%llds holdtime, %llds "
			"talktime), W:%lld, C:%lld, A:%lld, SL:%2.1f%%, SL2:%2.1f%% within "
			"%llds%s\n", js(q, "name"), ji(q, "calls"),
			ji(q, "maxlen") ? max : "unlimited", js(q, "strategy"), ji(q, "holdtime"),
			ji(q, "talktime"), ji(q, "weight"), ji(q, "completed"), ji(q, "abandoned"),
			json_real_value(json_object_get(q, "sl")),
			json_real_value(json_object_get(q, "sl2")), ji(q, "servicelevel"),
			json_is_true(json_object_get(q, "dead")) ? " (removed from queues.conf)"
								  : "");
		if (!json_array_size(json_object_get(q, "members")))
			fprintf(f, "   No Members\n");
		else
			fprintf(f, "   Members: \n");
		json_array_foreach(json_object_get(q, "members"), k, x)
			print_member(f, x);
		if (!json_array_size(json_object_get(q, "callers")))
			fprintf(f, "   No Callers\n");
		else
			fprintf(f, "   Callers: \n");
		json_array_foreach(json_object_get(q, "callers"), k, x)
			fprintf(f, "      %lld. %s%s%s (wait: %lld:%02lld, prio: %lld)\n",
				ji(x, "position"), js(x, "id"), *js(x, "cidnum") ? " from " : "",
				js(x, "cidnum"), ji(x, "wait") / 60, ji(x, "wait") % 60,
				ji(x, "prio"));
		fprintf(f, "\n");
	}
}
