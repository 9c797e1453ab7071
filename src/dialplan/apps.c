/**
 * @file apps.c  The application registry and the built-in applications:
 * Answer, Hangup, Progress, Ringing, Busy, Congestion, Dial, Wait, Set,
 * NoOp, Verbose, Log, Goto, GotoIf, GotoIfTime, ExecIf, Macro, MacroExit,
 * Gosub, GosubIf, Return. Names are case-insensitive, as in Asterisk.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "dialplan/dp_int.h"

#define APPS_MAX 128
#define MACRO_RECURSION 7

struct app {
	char name[32];
	dp_app_h *h;
	dp_app_check_h *check;
};

static struct app apps[APPS_MAX];
static size_t napps;

static struct app *app_slot(const char *name, bool create)
{
	size_t i;

	for (i = 0; i < napps; i++)
		if (!strcasecmp(apps[i].name, name))
			return &apps[i];
	if (!create || napps == APPS_MAX || strlen(name) >= sizeof(apps[0].name))
		return NULL;
	memset(&apps[napps], 0, sizeof(apps[napps]));
	dp_strlcpy(apps[napps].name, name, sizeof(apps[napps].name));
	return &apps[napps++];
}

size_t dp_args_split(char *d, char **v, size_t max)
{
	size_t n = 0, i;
	int depth = 0;
	char *p;

	if (!max)
		return 0;
	v[n++] = d;
	for (p = d; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth)
			depth--;
		else if (*p == ',' && !depth && n < max) {
			*p = '\0';
			v[n++] = p + 1;
		}
	}
	for (i = 0; i < n; i++) {
		size_t l;

		while (*v[i] == ' ' || *v[i] == '\t')
			v[i]++;
		for (l = strlen(v[i]); l && (v[i][l - 1] == ' ' || v[i][l - 1] == '\t');)
			v[i][--l] = '\0';
	}
	for (i = n; i < max; i++)
		v[i] = d + strlen(d);   /* "" */
	return n;
}

int dp_app_register(const char *name, dp_app_h *h)
{
	struct app *a = app_slot(name, true);

	if (!a)
		return ENOSPC;
	if (a->h)
		return EEXIST;
	a->h = h;
	return 0;
}

int dp_app_register_check(const char *name, dp_app_check_h *h)
{
	struct app *a = app_slot(name, true);

	if (!a)
		return ENOSPC;
	a->check = h;
	return 0;
}

void dp_app_unregister(const char *name)
{
	struct app *a = app_slot(name, false);

	if (a)
		a->h = NULL;
}

dp_app_h *dp_app_find(const char *name)
{
	struct app *a = app_slot(name, false);

	return a ? a->h : NULL;
}

dp_app_check_h *dp_app_checker(const char *name)
{
	struct app *a = app_slot(name, false);

	return a ? a->check : NULL;
}

bool dp_cond(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return false;
	if (*s >= '0' && *s <= '9')
		return atoi(s) != 0;
	return true;
}

static char *dup_or_null(const char *s)
{
	return dp_strdup(s ? s : "");
}

static void where_warn(struct dp_chan *chan, const char *fmt, const char *a,
		       const char *b)
{
	unsigned line;
	const char *file = dp_chan_file(chan, &line);
	char msg[2048];

	snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
	dp_warn("%s:%u: %s", file, line, msg);
}

/* ------------------------------------------------------------------ */
/* Call control                                                        */

static enum dp_app_ret app_answer(struct dp_chan *chan, const char *data)
{
	(void)data;
	if (chan->ops->answer && chan->ops->answer(chan->call))
		return DP_APP_HANGUP;
	return DP_APP_NEXT;
}

static enum dp_app_ret app_hangup(struct dp_chan *chan, const char *data)
{
	int cause = atoi(data);

	chan->cause = cause > 0 && cause < 128 ? cause : 16;
	return DP_APP_HANGUP;
}

static enum dp_app_ret app_progress(struct dp_chan *chan, const char *data)
{
	(void)data;
	if (chan->ops->progress)
		chan->ops->progress(chan->call);
	return DP_APP_NEXT;
}

static enum dp_app_ret app_ringing(struct dp_chan *chan, const char *data)
{
	(void)data;
	if (chan->ops->ringing)
		chan->ops->ringing(chan->call);
	return DP_APP_NEXT;
}

static enum dp_app_ret end_after_wait(struct dp_chan *chan, enum dp_res res)
{
	(void)chan;
	(void)res;
	return DP_APP_HANGUP;
}

/* Busy/Congestion: indicate, then wait for the caller to hang up (or the
 * timeout given in seconds) and hang up. */
static enum dp_app_ret indicate(struct dp_chan *chan, const char *data, bool busy)
{
	double secs = atof(data);

	chan->cause = busy ? 17 : 34;
	if (busy ? chan->ops->busy == NULL : chan->ops->congestion == NULL)
		return DP_APP_HANGUP;
	if (busy)
		chan->ops->busy(chan->call);
	else
		chan->ops->congestion(chan->call);
	if (!chan->ops->wait ||
	    chan->ops->wait(chan->call, secs > 0 ? (unsigned)(secs * 1000) : 0))
		return DP_APP_HANGUP;
	dp_chan_on_resume(chan, end_after_wait);
	return DP_APP_WAIT;
}

static enum dp_app_ret app_busy(struct dp_chan *chan, const char *data)
{
	return indicate(chan, data, true);
}

static enum dp_app_ret app_congestion(struct dp_chan *chan, const char *data)
{
	return indicate(chan, data, false);
}

static enum dp_app_ret app_wait(struct dp_chan *chan, const char *data)
{
	double secs = atof(data);

	if (secs <= 0 || !chan->ops->wait)
		return DP_APP_NEXT;
	if (chan->ops->wait(chan->call, (unsigned)(secs * 1000)))
		return DP_APP_NEXT;
	return DP_APP_WAIT;
}

/* Is option letter o given at the top level of Dial options? */
static bool has_option(const char *opts, char o)
{
	int depth = 0;

	for (; *opts; opts++) {
		if (*opts == '(')
			depth++;
		else if (*opts == ')')
			depth--;
		else if (!depth && *opts == o)
			return true;
	}
	return false;
}

static enum dp_app_ret dial_resume(struct dp_chan *chan, enum dp_res res)
{
	const char *st = dp_chan_var_get(chan, "DIALSTATUS");

	if (res == DP_RES_HANGUP) {
		if (!st)
			dp_chan_var_set(chan, "DIALSTATUS", "CANCEL");
		return DP_APP_HANGUP;
	}
	if (st && !strcasecmp(st, "ANSWER")) {
		const char *data = chan->lastdata ? chan->lastdata : "";
		const char *c1 = strchr(data, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;

		if (!(c2 && has_option(c2 + 1, 'g')))
			return DP_APP_HANGUP;
	}
	return DP_APP_NEXT;
}

static enum dp_app_ret app_dial(struct dp_chan *chan, const char *data)
{
	char *d = dup_or_null(data), *rest, *dest, *tmo, *opts;
	unsigned timeout = 0;

	if (!d)
		return DP_APP_HANGUP;
	rest = d;
	dest = dp_trim(strsep(&rest, ","));
	tmo = rest ? dp_trim(strsep(&rest, ",")) : (char *)"";
	opts = rest ? dp_trim(strsep(&rest, ",")) : (char *)"";
	if (!*dest) {
		where_warn(chan, "Dial requires an argument (technology/resource)%s%s",
			   NULL, NULL);
		free(d);
		return DP_APP_HANGUP;
	}
	if (*tmo)
		timeout = (unsigned)atoi(tmo);
	dp_chan_var_set(chan, "DIALSTATUS", NULL);
	if (!chan->ops->dial || chan->ops->dial(chan->call, dest, timeout, opts)) {
		dp_chan_var_set(chan, "DIALSTATUS", "CHANUNAVAIL");
		free(d);
		return DP_APP_NEXT;
	}
	free(d);
	dp_chan_on_resume(chan, dial_resume);
	return DP_APP_WAIT;
}

/* ------------------------------------------------------------------ */
/* Variables and logging                                               */

static enum dp_app_ret app_noop(struct dp_chan *chan, const char *data)
{
	(void)chan;
	log_debug("NoOp(%s)", data);
	return DP_APP_NEXT;
}

static enum dp_app_ret app_set(struct dp_chan *chan, const char *data)
{
	char *d = dup_or_null(data), *eq;

	if (!d)
		return DP_APP_HANGUP;
	eq = strchr(d, '=');
	if (!eq) {
		where_warn(chan, "Set(%s): needs variable=value%s", data, NULL);
	} else {
		*eq = '\0';
		dp_chan_var_set(chan, dp_trim(d), eq + 1);
	}
	free(d);
	return DP_APP_NEXT;
}

static enum dp_app_ret app_verbose(struct dp_chan *chan, const char *data)
{
	const char *msg = data, *c = strchr(data, ',');

	(void)chan;
	if (c && c > data && strspn(data, "0123456789 ") == (size_t)(c - data))
		msg = c + 1;
	log_info("%s", msg);
	return DP_APP_NEXT;
}

static enum dp_app_ret app_log(struct dp_chan *chan, const char *data)
{
	const char *c = strchr(data, ',');
	size_t n = c ? (size_t)(c - data) : 0;
	enum log_level lvl = LOG_LVL_NOTICE;

	(void)chan;
	if (!c)
		return DP_APP_NEXT;
	if (n == 5 && !strncasecmp(data, "ERROR", 5))
		lvl = LOG_LVL_ERROR;
	else if (n == 7 && !strncasecmp(data, "WARNING", 7))
		lvl = LOG_LVL_WARN;
	else if (n == 5 && !strncasecmp(data, "DEBUG", 5))
		lvl = LOG_LVL_DEBUG;
	else if (n == 7 && !strncasecmp(data, "VERBOSE", 7))
		lvl = LOG_LVL_INFO;
	log_msg(lvl, "%s", c + 1);
	return DP_APP_NEXT;
}

/* ------------------------------------------------------------------ */
/* Jumps                                                               */

/* Split "[[ctx,]exten,]prio" into parts (in place). */
static void split_where(char *w, char **ctx, char **exten, char **prio)
{
	char *a = strsep(&w, ","), *b = w ? strsep(&w, ",") : NULL, *c = w;

	*ctx = *exten = NULL;
	if (c) {
		*ctx = dp_trim(a);
		*exten = dp_trim(b);
		*prio = dp_trim(c);
	} else if (b) {
		*exten = dp_trim(a);
		*prio = dp_trim(b);
	} else {
		*prio = dp_trim(a);
	}
}

/* Resolve a place; 0 and *out filled, or EINVAL (warned). */
static int resolve(struct dp_chan *chan, const char *where, char *ctx, char *exten,
		   int *prio)
{
	char *w = dup_or_null(where), *c, *e, *p;
	int ip;

	if (!w)
		return ENOMEM;
	split_where(w, &c, &e, &p);
	dp_strlcpy(ctx, c && *c ? c : chan->context, DP_NAME_MAX);
	dp_strlcpy(exten, e && *e ? e : chan->exten, DP_NAME_MAX);
	if (*p == '+' || (*p == '-' && isdigit((unsigned char)p[1]))) {
		ip = chan->prio + atoi(p);
	} else if (sscanf(p, "%30d", &ip) != 1) {
		const struct dp_prio *lp = dp_find(chan->dp, ctx, exten, 0, p,
						   chan->cid_num, dp_chan_now(chan));

		ip = lp ? lp->prio : 0;
	}
	if (ip < 1) {
		char tmp[DP_NAME_MAX * 2 + 2];

		snprintf(tmp, sizeof(tmp), "%.255s@%.255s", exten, ctx);
		where_warn(chan, "priority '%s' must be a number > 0, or a valid label of %s: hanging up",
			   p, tmp);
		free(w);
		return EINVAL;
	}
	*prio = ip;
	free(w);
	return 0;
}

enum dp_app_ret dp_chan_goto(struct dp_chan *chan, const char *where)
{
	char ctx[DP_NAME_MAX], exten[DP_NAME_MAX];
	int prio;

	if (!where || !*where) {
		where_warn(chan, "Goto requires an argument%s%s", NULL, NULL);
		return DP_APP_HANGUP;
	}
	if (resolve(chan, where, ctx, exten, &prio))
		return DP_APP_HANGUP;
	dp_chan_set_where(chan, ctx, exten, prio);
	return DP_APP_JUMP;
}

static enum dp_app_ret app_goto(struct dp_chan *chan, const char *data)
{
	return dp_chan_goto(chan, data);
}

/* "cond?a:b" (in place); false when there is no '?'. */
static bool split_cond(char *d, char **cond, char **a, char **b)
{
	char *q = strchr(d, '?');

	if (!q)
		return false;
	*q++ = '\0';
	*cond = d;
	*a = q;
	*b = strchr(q, ':');
	if (*b)
		*(*b)++ = '\0';
	return true;
}

static enum dp_app_ret branch(struct dp_chan *chan, bool yes, const char *a,
			      const char *b)
{
	const char *to = yes ? a : b;

	if (!to || !*dp_trim((char *)to))
		return DP_APP_NEXT;
	return dp_chan_goto(chan, dp_trim((char *)to));
}

static enum dp_app_ret app_gotoif(struct dp_chan *chan, const char *data)
{
	char *d = dup_or_null(data), *c, *a, *b;
	enum dp_app_ret r = DP_APP_NEXT;

	if (!d)
		return DP_APP_HANGUP;
	if (!split_cond(d, &c, &a, &b))
		where_warn(chan, "GotoIf(%s): no '?' in the condition: ignored%s", data, NULL);
	else
		r = branch(chan, dp_cond(c), a, b);
	free(d);
	return r;
}

static enum dp_app_ret app_gotoiftime(struct dp_chan *chan, const char *data)
{
	char *d = dup_or_null(data), *c, *a, *b;
	enum dp_app_ret r = DP_APP_NEXT;
	struct dp_timing t;
	unsigned line;
	const char *file = dp_chan_file(chan, &line);

	if (!d)
		return DP_APP_HANGUP;
	if (!split_cond(d, &c, &a, &b)) {
		where_warn(chan, "GotoIfTime(%s): no '?': ignored%s", data, NULL);
	} else if (!dp_timing_parse(&t, c, file, line)) {
		bool yes = dp_timing_check(&t, dp_chan_now(chan));

		dp_timing_clear(&t);
		r = branch(chan, yes, a, b);
	}
	free(d);
	return r;
}

static enum dp_app_ret run_app_text(struct dp_chan *chan, char *text)
{
	char *lp = strchr(text, '('), *rp, *name = text;
	dp_app_h *h;

	if (lp) {
		*lp++ = '\0';
		if ((rp = strrchr(lp, ')')))
			*rp = '\0';
	}
	name = dp_trim(name);
	h = dp_app_find(name);
	if (!h) {
		where_warn(chan, "ExecIf: no application '%s'%s", name, NULL);
		return DP_APP_HANGUP;
	}
	return h(chan, lp ? lp : "");
}

static enum dp_app_ret app_execif(struct dp_chan *chan, const char *data)
{
	char *d = dup_or_null(data), *c, *a, *b;
	enum dp_app_ret r = DP_APP_NEXT;

	if (!d)
		return DP_APP_HANGUP;
	if (!split_cond(d, &c, &a, &b)) {
		where_warn(chan, "ExecIf(%s): no '?': ignored%s", data, NULL);
	} else {
		char *which = dp_cond(c) ? a : b;

		if (which && *which)
			r = run_app_text(chan, which);
	}
	free(d);
	return r;
}

/* ------------------------------------------------------------------ */
/* Macro                                                               */

static int set_args(struct dp_chan *chan, char *rest, int *argc, int upto)
{
	char name[16];
	int n = 0, rc = 0;

	while (rest && !rc) {
		char *a = strsep(&rest, ",");

		snprintf(name, sizeof(name), "ARG%d", ++n);
		rc = dp_frame_setvar(chan, name, a);
	}
	*argc = n;
	while (!rc && n < upto) {
		snprintf(name, sizeof(name), "ARG%d", ++n);
		rc = dp_frame_setvar(chan, name, NULL);
	}
	return rc;
}

static enum dp_app_ret app_macro(struct dp_chan *chan, const char *data)
{
	char *d = dup_or_null(data), *rest, *name, full[DP_NAME_MAX], num[16];
	const char *s;
	int depth = 0, maxdepth = MACRO_RECURSION, argc, rc;

	if (!d)
		return DP_APP_HANGUP;
	rest = d;
	name = dp_trim(strsep(&rest, ","));
	if (!*name) {
		where_warn(chan, "Macro: invalid macro name%s%s", NULL, NULL);
		free(d);
		return DP_APP_NEXT;
	}
	snprintf(full, sizeof(full), "macro-%.240s", name);
	if (!dp_exten_exists(chan->dp, full, "s", 1, chan->cid_num, dp_chan_now(chan))) {
		where_warn(chan, dp_context_find(chan->dp, full)
			   ? "Macro: context '%s' for macro '%s' lacks 's' extension, priority 1"
			   : "Macro: no such context '%s' for macro '%s'", full, name);
		free(d);
		return DP_APP_NEXT;
	}
	if ((s = dp_chan_var_get(chan, "MACRO_RECURSION")))
		sscanf(s, "%30d", &maxdepth);
	if ((s = dp_chan_var_get(chan, "MACRO_DEPTH")))
		sscanf(s, "%30d", &depth);
	if (depth >= maxdepth || chan->depth >= DP_STACK_MAX) {
		where_warn(chan, "Macro(%s): possible infinite loop detected, returning early%s",
			   name, NULL);
		free(d);
		return DP_APP_NEXT;
	}
	rc = dp_frame_push(chan, true, full);
	snprintf(num, sizeof(num), "%d", chan->prio);
	if (!rc)
		rc = dp_frame_setvar(chan, "MACRO_EXTEN", chan->exten);
	if (!rc)
		rc = dp_frame_setvar(chan, "MACRO_CONTEXT", chan->context);
	if (!rc)
		rc = dp_frame_setvar(chan, "MACRO_PRIORITY", num);
	if (!rc)
		rc = dp_frame_setvar(chan, "MACRO_OFFSET", NULL);
	snprintf(num, sizeof(num), "%d", depth + 1);
	if (!rc)
		rc = dp_frame_setvar(chan, "MACRO_DEPTH", num);
	if (!rc)
		rc = set_args(chan, rest, &argc, 0);
	free(d);
	if (rc)
		return DP_APP_HANGUP;
	dp_chan_set_where(chan, full, "s", 1);
	return DP_APP_JUMP;
}

static enum dp_app_ret app_macroexit(struct dp_chan *chan, const char *data)
{
	(void)data;
	if (!chan->top || !chan->top->macro)
		return DP_APP_NEXT;
	dp_macro_return(chan);
	return DP_APP_JUMP;
}

/* ------------------------------------------------------------------ */
/* Gosub                                                               */

static enum dp_app_ret gosub(struct dp_chan *chan, char *d)
{
	char *lp = strchr(d, '('), *args = NULL, *rp, ctx[DP_NAME_MAX], exten[DP_NAME_MAX];
	char num[16];
	int prio, argc, prev = 0, rc;
	struct dp_frame *f;

	if (lp) {
		*lp = '\0';
		args = lp + 1;
		if ((rp = strrchr(args, ')')))
			*rp = '\0';
	}
	if (resolve(chan, d, ctx, exten, &prio))
		return DP_APP_HANGUP;
	if (!dp_exten_exists(chan->dp, ctx, exten, prio, chan->cid_num, dp_chan_now(chan))) {
		char tmp[DP_NAME_MAX * 2 + 16];

		snprintf(tmp, sizeof(tmp), "%.255s,%.255s,%d", ctx, exten, prio);
		where_warn(chan, "Gosub: attempt to reach a non-existent destination (%s)%s",
			   tmp, NULL);
		return DP_APP_HANGUP;
	}
	for (f = chan->top; f; f = f->up)
		if (!f->macro) {
			prev = f->argc;
			break;
		}
	chan->prio++;   /* the return address */
	rc = dp_frame_push(chan, false, NULL);
	chan->prio--;
	if (!rc)
		rc = set_args(chan, args, &argc, prev);
	if (!rc) {
		chan->top->argc = argc;
		snprintf(num, sizeof(num), "%d", argc);
		rc = dp_frame_setvar(chan, "ARGC", num);
	}
	if (rc) {
		if (rc == E2BIG)
			where_warn(chan, "Gosub: stack too deep%s%s", NULL, NULL);
		return DP_APP_HANGUP;
	}
	dp_chan_set_where(chan, ctx, exten, prio);
	return DP_APP_JUMP;
}

static enum dp_app_ret app_gosub(struct dp_chan *chan, const char *data)
{
	char *d = dup_or_null(data);
	enum dp_app_ret r;

	if (!d)
		return DP_APP_HANGUP;
	r = gosub(chan, d);
	free(d);
	return r;
}

static enum dp_app_ret app_gosubif(struct dp_chan *chan, const char *data)
{
	char *d = dup_or_null(data), *c, *a, *b, *to;
	enum dp_app_ret r = DP_APP_NEXT;

	if (!d)
		return DP_APP_HANGUP;
	if (!split_cond(d, &c, &a, &b)) {
		where_warn(chan, "GosubIf(%s): no '?': ignored%s", data, NULL);
	} else {
		to = dp_cond(c) ? a : b;
		if (to && *dp_trim(to))
			r = gosub(chan, dp_trim(to));
	}
	free(d);
	return r;
}

static enum dp_app_ret app_return(struct dp_chan *chan, const char *data)
{
	struct dp_frame *f = chan->top;
	char ctx[DP_NAME_MAX], exten[DP_NAME_MAX];
	int prio;

	if (!f || f->macro) {
		where_warn(chan, "Return without Gosub: stack is empty%s%s", NULL, NULL);
		return DP_APP_HANGUP;
	}
	dp_strlcpy(ctx, f->ctx, sizeof(ctx));
	dp_strlcpy(exten, f->exten, sizeof(exten));
	prio = f->prio;
	dp_frame_pop(chan);
	dp_chan_var_set(chan, "GOSUB_RETVAL", data);
	dp_chan_set_where(chan, ctx, exten, prio);
	return DP_APP_JUMP;
}

void dp_apps_builtin(void)
{
	static bool done;
	static const struct { const char *name; dp_app_h *h; } list[] = {
		{ "Answer", app_answer }, { "Hangup", app_hangup },
		{ "Progress", app_progress }, { "Ringing", app_ringing },
		{ "Busy", app_busy }, { "Congestion", app_congestion },
		{ "Dial", app_dial }, { "Wait", app_wait }, { "Set", app_set },
		{ "NoOp", app_noop }, { "Verbose", app_verbose }, { "Log", app_log },
		{ "Goto", app_goto }, { "GotoIf", app_gotoif },
		{ "GotoIfTime", app_gotoiftime }, { "ExecIf", app_execif },
		{ "Macro", app_macro }, { "MacroExit", app_macroexit },
		{ "Gosub", app_gosub }, { "GosubIf", app_gosubif },
		{ "Return", app_return },
	};
	size_t i;

	if (done)
		return;
	done = true;
	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		dp_app_register(list[i].name, list[i].h);
	dp_db_builtin();
	dp_check_register_builtin();
}
