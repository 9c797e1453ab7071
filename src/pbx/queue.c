/**
 * @file queue.c  queues.conf with app_queue's semantics (Asterisk 13
 * queue_set_param, queue_set_global_params, reload_single_member): the
 * options and defaults of each queue, its static members, [general].
 * Unknown options warn once with FILE:LINE; values Tandem cannot
 * understand for the options it uses are FILE:LINE errors.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "media/moh_conf.h"
#include "pbx/queue.h"

static const char *const strategies[] = {
	[QUEUE_RINGALL] = "ringall", [QUEUE_LEASTRECENT] = "leastrecent",
	[QUEUE_FEWESTCALLS] = "fewestcalls", [QUEUE_RANDOM] = "random",
	[QUEUE_RRMEMORY] = "rrmemory", [QUEUE_LINEAR] = "linear",
	[QUEUE_WRANDOM] = "wrandom", [QUEUE_RRORDERED] = "rrordered",
};

const char *queue_strategy_name(enum queue_strategy s)
{
	return (unsigned)s < sizeof(strategies) / sizeof(*strategies) ? strategies[s]
								       : "<unknown>";
}

int queue_strategy_parse(const char *s, enum queue_strategy *out)
{
	size_t i;

	if (!s)
		return EINVAL;
	if (!strcasecmp(s, "roundrobin")) {   /* app_queue's strategies[] alias */
		*out = QUEUE_RRMEMORY;
		return 0;
	}
	for (i = 0; i < sizeof(strategies) / sizeof(*strategies); i++) {
		if (!strcasecmp(s, strategies[i])) {
			*out = (enum queue_strategy)i;
			return 0;
		}
	}
	return EINVAL;
}

int queue_empty_parse(const char *value, bool joinempty, unsigned *out, char *bad,
		      size_t badsize)
{
	static const struct { const char *name; unsigned bit; } words[] = {
		{ "paused", QUEUE_EMPTY_PAUSED }, { "penalty", QUEUE_EMPTY_PENALTY },
		{ "inuse", QUEUE_EMPTY_INUSE }, { "ringing", QUEUE_EMPTY_RINGING },
		{ "invalid", QUEUE_EMPTY_INVALID }, { "wrapup", QUEUE_EMPTY_WRAPUP },
		{ "unavailable", QUEUE_EMPTY_UNAVAILABLE }, { "unknown", QUEUE_EMPTY_UNKNOWN },
	};
	const unsigned classic = QUEUE_EMPTY_PENALTY | QUEUE_EMPTY_INVALID | QUEUE_EMPTY_PAUSED;
	char buf[512], *s = buf, *w;
	unsigned v = 0;
	size_t i;
	bool b;

	snprintf(buf, sizeof(buf), "%s", value ? value : "");
	while ((w = strsep(&s, ",")) != NULL) {
		w = conf_strip(w);
		if (!*w)
			continue;
		for (i = 0; i < sizeof(words) / sizeof(*words); i++)
			if (!strcasecmp(words[i].name, w))
				break;
		if (i < sizeof(words) / sizeof(*words))
			v |= words[i].bit;
		else if (!strcasecmp(w, "loose"))
			v = QUEUE_EMPTY_PENALTY | QUEUE_EMPTY_INVALID;
		else if (!strcasecmp(w, "strict"))
			v = classic | QUEUE_EMPTY_UNAVAILABLE;
		else if (!conf_bool(w, &b))
			/* yes for leavewhenempty / no for joinempty: the classic set */
			v = (b != joinempty) ? classic : 0;
		else {
			snprintf(bad, badsize, "%s", w);
			return EINVAL;
		}
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------------ options */

enum otype { O_U32, O_INT, O_BOOL, O_STR, O_SPECIAL };

struct opt {
	const char *name;
	enum otype type;
	size_t off;
};

#define U(n, f) { n, O_U32, offsetof(struct queue_conf, f) }
#define B(n, f) { n, O_BOOL, offsetof(struct queue_conf, f) }
#define S(n, f) { n, O_STR, offsetof(struct queue_conf, f) }
#define X(n) { n, O_SPECIAL, 0 }

static const struct opt queue_opts[] = {
	X("strategy"), X("member"), X("joinempty"), X("leavewhenempty"),
	X("announce-holdtime"), X("announce-position"), X("timeoutpriority"),
	X("periodic-announce"), X("retry"), X("announce-round-seconds"),
	{ "weight", O_INT, offsetof(struct queue_conf, weight) },
	U("timeout", timeout), U("wrapuptime", wrapuptime), U("maxlen", maxlen),
	U("servicelevel", servicelevel), U("announce-frequency", announce_frequency),
	U("min-announce-frequency", min_announce_frequency),
	U("periodic-announce-frequency", periodic_announce_frequency),
	U("announce-position-limit", announce_position_limit),
	U("memberdelay", memberdelay), U("penaltymemberslimit", penaltymemberslimit),
	B("ringinuse", ringinuse), B("autofill", autofill),
	B("reportholdtime", reportholdtime), B("timeoutrestart", timeoutrestart),
	B("random-periodic-announce", random_periodic_announce),
	B("relative-periodic-announce", relative_periodic_announce),
	B("announce-to-first-user", announce_to_first_user),
	B("setinterfacevar", setinterfacevar), B("setqueuevar", setqueuevar),
	B("setqueueentryvar", setqueueentryvar),
	S("musicclass", musicclass), S("music", musicclass), S("musiconhold", musicclass),
	S("announce", announce), S("context", context), S("monitor-format", monitor_format),
	S("defaultrule", defaultrule),
	S("queue-youarenext", sound_next), S("queue-thereare", sound_thereare),
	S("queue-callswaiting", sound_calls), S("queue-quantity1", sound_quantity1),
	S("queue-quantity2", sound_quantity2), S("queue-holdtime", sound_holdtime),
	S("queue-minutes", sound_minutes), S("queue-minute", sound_minute),
	S("queue-seconds", sound_seconds), S("queue-thankyou", sound_thanks),
	S("queue-reporthold", sound_reporthold),
	S("queue-callerannounce", sound_callerannounce),
	{ NULL, O_STR, 0 }
};

/* app_queue options accepted without acting on them (yet). */
static const char *const queue_known[] = {
	"membermacro", "membergosub", "monitor-type", "autopause", "autopausedelay",
	"autopausebusy", "autopauseunavail", "periodic-announce-startdelay",
	"announce-position-only-up", "log-restricted-caller-id", NULL
};

static const char *const general_known[] = {
	"persistentmembers", "autofill", "monitor-type", "updatecdr", "shared_lastcall",
	"negative_penalty_invalid", "log_membername_as_agent", "keepstats",
	"enable_cidname_logging", "log-restricted-caller-id",
	"force_longest_waiting_caller", "log_caller_id_name", NULL
};

static bool in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (!strcasecmp(*l, s))
			return true;
	return false;
}

static int bad(char *err, size_t errsize, const struct conf_var *v, const char *what)
{
	snprintf(err, errsize, "%s:%u: %s must be %s, not '%s'", v->file, v->line, v->name,
		 what, v->value);
	return EINVAL;
}

static int parse_long(const char *s, long *out)
{
	char *e;

	errno = 0;
	*out = strtol(s, &e, 10);
	return errno || e == s || *conf_strip(e) ? EINVAL : 0;
}

static void set_defaults(struct queue_conf *q, const struct queue_general *g)
{
	q->strategy = QUEUE_RINGALL;
	q->timeout = 15;
	q->retry = 5;
	q->min_announce_frequency = 15;
	q->announce_position_limit = 10;
	q->announce_holdtime = QUEUE_HOLDTIME_YES;
	q->announce_position = QUEUE_POS_YES;
	q->ringinuse = true;
	q->autofill = g->autofill;
	q->sound_next = "queue-youarenext";
	q->sound_thereare = "queue-thereare";
	q->sound_calls = "queue-callswaiting";
	q->sound_quantity1 = "queue-quantity1";
	q->sound_quantity2 = "queue-quantity2";
	q->sound_holdtime = "queue-holdtime";
	q->sound_minutes = "queue-minutes";
	q->sound_minute = "queue-minute";
	q->sound_seconds = "queue-seconds";
	q->sound_thanks = "queue-thankyou";
	q->sound_reporthold = "queue-reporthold";
	q->periodic_announce[0] = "queue-periodic-announce";
	q->nperiodic = 1;
}

static int set_periodic(struct queue_conf *q, const struct conf_var *v)
{
	char *s, *w;

	free(q->pabuf);
	if (!(q->pabuf = strdup(v->value)))
		return ENOMEM;
	q->nperiodic = 0;
	for (s = q->pabuf; q->nperiodic < QUEUE_MAX_PERIODIC && (w = strsep(&s, ",|"));)
		q->periodic_announce[q->nperiodic++] = conf_strip(w);
	if (s)
		log_warn("%s:%u: more than %d periodic announcements; the rest are ignored",
			 v->file, v->line, QUEUE_MAX_PERIODIC);
	return 0;
}

static int special(struct queue_conf *q, const struct conf_var *v, char *err,
		   size_t errsize)
{
	const char *n = v->name, *val = v->value;
	char word[64];
	long x;
	bool b;

	if (!strcasecmp(n, "strategy")) {
		if (queue_strategy_parse(val, &q->strategy))
			return bad(err, errsize, v, "ringall, leastrecent, fewestcalls, random, "
				   "rrmemory, linear, wrandom or rrordered");
	} else if (!strcasecmp(n, "joinempty") || !strcasecmp(n, "leavewhenempty")) {
		bool join = !strcasecmp(n, "joinempty");
		if (queue_empty_parse(val, join, join ? &q->joinempty : &q->leavewhenempty,
				      word, sizeof(word))) {
			snprintf(err, errsize, "%s:%u: %s: '%s' is not one of paused, penalty, "
				 "inuse, ringing, unavailable, invalid, unknown, wrapup (or "
				 "yes, no, strict, loose)", v->file, v->line, n, word);
			return EINVAL;
		}
	} else if (!strcasecmp(n, "announce-holdtime")) {
		if (!strcasecmp(val, "once"))
			q->announce_holdtime = QUEUE_HOLDTIME_ONCE;
		else if (!conf_bool(val, &b))
			q->announce_holdtime = b ? QUEUE_HOLDTIME_YES : QUEUE_HOLDTIME_NO;
		else
			return bad(err, errsize, v, "yes, no or once");
	} else if (!strcasecmp(n, "announce-position")) {
		if (!strcasecmp(val, "limit"))
			q->announce_position = QUEUE_POS_LIMIT;
		else if (!strcasecmp(val, "more"))
			q->announce_position = QUEUE_POS_MORE;
		else if (!conf_bool(val, &b))
			q->announce_position = b ? QUEUE_POS_YES : QUEUE_POS_NO;
		else
			return bad(err, errsize, v, "yes, no, limit or more");
	} else if (!strcasecmp(n, "timeoutpriority")) {
		if (strcasecmp(val, "app") && strcasecmp(val, "conf"))
			return bad(err, errsize, v, "app or conf");
		q->timeoutpriority_conf = !strcasecmp(val, "conf");
	} else if (!strcasecmp(n, "periodic-announce")) {
		return set_periodic(q, v);
	} else if (!strcasecmp(n, "retry")) {
		if (parse_long(val, &x) || x > 86400)
			return bad(err, errsize, v, "a number of seconds");
		q->retry = x > 0 ? (uint32_t)x : 5;   /* app_queue: <= 0 is the default */
	} else if (!strcasecmp(n, "announce-round-seconds")) {
		if (parse_long(val, &x))
			return bad(err, errsize, v, "0, 5, 10, 15, 20 or 30");
		if (x != 0 && x != 5 && x != 10 && x != 15 && x != 20 && x != 30) {
			log_warn("%s:%u: announce-round-seconds=%s is not 0, 5, 10, 15, 20 or "
				 "30; 0 is used", v->file, v->line, val);
			x = 0;
		}
		q->announce_round_seconds = (uint32_t)x;
	}
	return 0;
}

static int set_option(struct queue_conf *q, const struct opt *o, const struct conf_var *v,
		      char *err, size_t errsize)
{
	char *p = (char *)q + o->off;
	long x;
	bool b;

	switch (o->type) {
	case O_U32:
		if (parse_long(v->value, &x) || x > INT32_MAX)
			return bad(err, errsize, v, "a whole number");
		*(uint32_t *)(void *)p = x < 0 ? 0 : (uint32_t)x;   /* app_queue: < 0 is 0 */
		if (x < 0 && !strcasecmp(o->name, "timeout"))
			q->timeout = 15;
		return 0;
	case O_INT:
		if (parse_long(v->value, &x) || x > INT32_MAX || x < INT32_MIN)
			return bad(err, errsize, v, "a whole number");
		*(int *)(void *)p = (int)x;
		return 0;
	case O_BOOL:
		if (conf_bool(v->value, &b))
			return bad(err, errsize, v, "yes or no");
		*(bool *)(void *)p = b;
		return 0;
	case O_STR:
		*(const char **)(void *)p = v->value;
		return 0;
	case O_SPECIAL:
		return special(q, v, err, errsize);
	}
	return 0;
}

/* ------------------------------------------------------------ members */

static void member_conf_free(struct queue_member_conf *m)
{
	free(m->interface);
	free(m->membername);
	free(m->state_interface);
}

static int parse_member(struct queue_conf *q, const struct conf_var *v,
			struct queue_member_conf *m, char *err, size_t errsize)
{
	char buf[1024], *s = buf, *f[7] = { 0 };
	size_t i;
	long x;
	bool b;

	memset(m, 0, sizeof(*m));
	m->ringinuse = -1;
	m->wrapuptime = -1;
	m->file = v->file;
	m->line = v->line;
	if ((size_t)snprintf(buf, sizeof(buf), "%s", v->value) >= sizeof(buf)) {
		snprintf(err, errsize, "%s:%u: member line too long", v->file, v->line);
		return EINVAL;
	}
	for (i = 0; i < 7 && s; i++)
		f[i] = conf_strip(strsep(&s, ","));
	if (!f[0] || !*f[0]) {
		snprintf(err, errsize, "%s:%u: member of queue [%s] without an interface "
			 "(member => Technology/Resource[,penalty[,membername[,"
			 "state_interface]]])", v->file, v->line, q->name);
		return EINVAL;
	}
	if (!strchr(f[0], '/'))
		log_warn("%s:%u: member '%s' of queue [%s] has no '/' (Technology/Resource, "
			 "e.g. SIP/100); it cannot be dialled", v->file, v->line, f[0], q->name);
	if (f[1] && *f[1]) {
		if (parse_long(f[1], &x) || x > INT32_MAX)
			return bad(err, errsize, v, "interface,penalty,...: the penalty a "
				   "whole number");
		if (x < 0) {
			log_warn("%s:%u: negative penalty of member %s taken as 0", v->file,
				 v->line, f[0]);
			x = 0;
		}
		m->penalty = (int)x;
	}
	if (f[4] && *f[4]) {
		if (conf_bool(f[4], &b))
			return bad(err, errsize, v, "interface,penalty,name,state_interface,"
				   "ringinuse: ringinuse yes or no");
		m->ringinuse = b;
	}
	if (f[5] && *f[5]) {
		if (parse_long(f[5], &x) || x < 0 || x > INT32_MAX)
			return bad(err, errsize, v, "...,wrapuptime: wrapuptime in seconds");
		m->wrapuptime = (int)x;
	}
	if (f[6] && *f[6]) {
		if (conf_bool(f[6], &b))
			return bad(err, errsize, v, "...,paused: paused yes or no");
		m->paused = b;
	}
	m->interface = strdup(f[0]);
	m->membername = strdup(f[2] && *f[2] ? f[2] : f[0]);
	m->state_interface = strdup(f[3] && *f[3] ? f[3] : f[0]);
	if (!m->interface || !m->membername || !m->state_interface) {
		member_conf_free(m);
		return ENOMEM;
	}
	return 0;
}

/* A member listed twice replaces the first in its place (app_queue). */
static int add_member(struct queue_conf *q, const struct conf_var *v, size_t *cap,
		      char *err, size_t errsize)
{
	struct queue_member_conf m;
	size_t i;
	int e = parse_member(q, v, &m, err, errsize);

	if (e)
		return e;
	for (i = 0; i < q->nmembers; i++) {
		if (!strcasecmp(q->members[i].interface, m.interface)) {
			log_warn("%s:%u: member %s of queue [%s] is already listed at line %u; "
				 "this line replaces it", v->file, v->line, m.interface, q->name,
				 q->members[i].line);
			member_conf_free(&q->members[i]);
			q->members[i] = m;
			return 0;
		}
	}
	if (q->nmembers == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct queue_member_conf *l = realloc(q->members, nc * sizeof(*l));
		if (!l) {
			member_conf_free(&m);
			return ENOMEM;
		}
		q->members = l;
		*cap = nc;
	}
	q->members[q->nmembers++] = m;
	return 0;
}

/* -------------------------------------------------------------- build */

static void queue_conf_free(struct queue_conf *q)
{
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->nmembers; i++)
		member_conf_free(&q->members[i]);
	free(q->members);
	free(q->pabuf);
	free(q);
}

static int build_queue(struct queuesconf *qc, const struct conf_section *sec,
		       struct queue_conf **out, char *err, size_t errsize)
{
	struct queue_conf *q = calloc(1, sizeof(*q));
	const struct conf_var *v;
	size_t cap = 0, i;
	int e = 0;

	if (!q)
		return ENOMEM;
	q->name = sec->name;
	q->file = sec->file;
	q->line = sec->line;
	q->sec = sec;
	set_defaults(q, &qc->gen);
	/* options first, members second, as reload_single_queue */
	for (v = sec->vars; v && !e; v = v->next) {
		const struct opt *o = NULL;

		for (i = 0; queue_opts[i].name; i++)
			if (!strcasecmp(queue_opts[i].name, v->name))
				o = &queue_opts[i];
		if (o && strcasecmp(v->name, "member"))
			e = set_option(q, o, v, err, errsize);
		else if (!o && !v->inherited && !in_list(queue_known, v->name))
			log_warn("%s:%u: unknown option '%s' in [%s] ignored", v->file, v->line,
				 v->name, sec->name);
	}
	for (v = sec->vars; v && !e; v = v->next)
		if (!strcasecmp(v->name, "member"))
			e = add_member(q, v, &cap, err, errsize);
	for (i = 0; i < q->nmembers && !e; i++)
		if (q->members[i].ringinuse < 0)
			q->members[i].ringinuse = q->ringinuse;
	if (e) {
		queue_conf_free(q);
		return e;
	}
	*out = q;
	return 0;
}

static int build_general(struct queuesconf *qc, const struct conf_section *sec,
			 char *err, size_t errsize)
{
	struct queue_general *g = &qc->gen;
	const struct conf_var *v;
	bool *flag;
	bool b;

	memset(g, 0, sizeof(*g));   /* a [general] turns the defaults off */
	for (v = sec->vars; v; v = v->next) {
		flag = NULL;
		if (!in_list(general_known, v->name)) {
			log_warn("%s:%u: unknown option '%s' in [general] ignored", v->file,
				 v->line, v->name);
			continue;
		}
		if (!strcasecmp(v->name, "monitor-type")) {
			g->monitor_mixmonitor = !strcasecmp(v->value, "mixmonitor");
			continue;
		}
		if (!strcasecmp(v->name, "persistentmembers"))
			flag = &g->persistentmembers;
		else if (!strcasecmp(v->name, "autofill"))
			flag = &g->autofill;
		else if (!strcasecmp(v->name, "shared_lastcall"))
			flag = &g->shared_lastcall;
		else if (!strcasecmp(v->name, "updatecdr"))
			flag = &g->updatecdr;
		else if (!strcasecmp(v->name, "negative_penalty_invalid"))
			flag = &g->negative_penalty_invalid;
		else if (!strcasecmp(v->name, "log_membername_as_agent"))
			flag = &g->log_membername_as_agent;
		if (!flag)
			continue;
		if (conf_bool(v->value, &b))
			return bad(err, errsize, v, "yes or no");
		*flag = b;
	}
	return 0;
}

static void qc_destroy(void *arg)
{
	struct queuesconf *qc = arg;
	size_t i;

	for (i = 0; i < qc->n; i++)
		queue_conf_free(qc->list[i]);
	free(qc->list);
	conf_free(qc->conf);
}

int queuesconf_build(struct queuesconf **out, struct conf *conf, char *err,
		     size_t errsize)
{
	struct queuesconf *qc = mem_zalloc(sizeof(*qc), qc_destroy);
	const struct conf_section *sec;
	size_t cap = 0;
	int e = 0;

	if (!qc) {
		conf_free(conf);
		return ENOMEM;
	}
	qc->conf = conf;
	qc->gen.autofill = true;          /* app_queue's values before any [general] */
	qc->gen.shared_lastcall = true;
	if ((sec = conf_section(conf, "general")))
		e = build_general(qc, sec, err, errsize);
	for (sec = conf ? conf->sections : NULL; sec && !e; sec = sec->next) {
		struct queue_conf *q = NULL;
		const struct queue_conf *old;

		if (sec->is_template || !strcmp(sec->name, "general"))
			continue;
		if ((old = queuesconf_find(qc, sec->name))) {
			snprintf(err, errsize, "%s:%u: queue [%s] is already defined at %s:%u",
				 sec->file, sec->line, sec->name, old->file, old->line);
			e = EINVAL;
			break;
		}
		if (qc->n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct queue_conf **l = realloc(qc->list, nc * sizeof(*l));
			if (!l) {
				e = ENOMEM;
				break;
			}
			qc->list = l;
			cap = nc;
		}
		e = build_queue(qc, sec, &q, err, errsize);
		if (!e)
			qc->list[qc->n++] = q;
	}
	if (e) {
		mem_deref(qc);
		return e;
	}
	*out = qc;
	return 0;
}

void queuesconf_free(struct queuesconf *qc)
{
	mem_deref(qc);
}

const struct queue_conf *queuesconf_find(const struct queuesconf *qc, const char *name)
{
	size_t i;

	for (i = 0; qc && name && i < qc->n; i++)
		if (!strcasecmp(qc->list[i]->name, name))
			return qc->list[i];
	return NULL;
}

int queuesconf_check_moh(const struct queuesconf *qc, const struct mohconf *mc)
{
	static const char *const names[] = { "musicclass", "music", "musiconhold" };
	size_t i, k;
	int n = 0;

	for (i = 0; qc && i < qc->n; i++) {
		const struct queue_conf *q = qc->list[i];
		const struct conf_var *v = NULL;

		if (!q->musicclass || !*q->musicclass || mohconf_find(mc, q->musicclass))
			continue;
		for (k = 0; k < 3 && !v; k++)
			v = conf_var(q->sec, names[k]);
		log_warn("%s:%u: musicclass=%s of queue [%s]: no such class in "
			 "musiconhold.conf; callers hear class 'default'", v ? v->file : q->file,
			 v ? v->line : q->line, q->musicclass, q->name);
		n++;
	}
	return n;
}
