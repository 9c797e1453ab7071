/**
 * @file check.c  Load-time checks that turn silent misroutes into
 * "FILE:LINE: ..." warnings with the likely intent (the reference
 * configuration's defects, reference-config/README.md):
 *
 *  - `Queue cola-tfg,,60)`: application text with no '(' (Asterisk takes
 *    it all as the application name and hangs up there);
 *  - `${${X} + 1]` and `${X} + 1]`: broken forms of `$[${X} + 1]`;
 *  - a GotoIf/GotoIfTime with both branches followed by priorities
 *    without a label: they can never run;
 *  - Queue(name,,60): 60 is the URL, the timeout is the 5th argument;
 *  - include, Goto, Gosub and Macro targets in contexts nobody defines,
 *    and labels that do not exist;
 *  - applications that are not available (the call would hang up).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dialplan/dp_int.h"

static bool app_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* `Queue cola-tfg,,60)` -> name "Queue", data "cola-tfg,,60". */
static void check_no_paren(const struct dp_prio *p)
{
	const char *a = p->app;
	char name[64], data[DP_BUF];
	size_t n = 0, dl;
	dp_app_check_h *ch;

	while (app_char(a[n]) && n + 1 < sizeof(name)) {
		name[n] = a[n];
		n++;
	}
	name[n] = '\0';
	if (!n || !a[n] || strstr(a, "${") || strstr(a, "$["))
		return;
	a += n;
	while (*a == ' ' || *a == '\t' || *a == ',')
		a++;
	dp_strlcpy(data, a, sizeof(data));
	dl = strlen(data);
	while (dl && (data[dl - 1] == ')' || data[dl - 1] == ' '))
		data[--dl] = '\0';
	dp_warn("%s:%u: application '%s' has no '(': did you mean %s(%s)?",
		p->file, p->line, p->app, name, data);
	if ((ch = dp_app_checker(name)))
		ch(p->file, p->line, name, data);
}

/* `${${X} + 1]` and `${X} + 1]` where `$[${X} + 1]` was meant. */
static void check_brackets(const struct dp_prio *p, const char *s)
{
	struct { char t; size_t pos; } st[64];
	int top = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] == '$' && (s[i + 1] == '{' || s[i + 1] == '[')) {
			if (top < 64) {
				st[top].t = s[i + 1];
				st[top++].pos = i;
			}
			i++;
		} else if (s[i] == '}') {
			if (top && st[top - 1].t == '{')
				top--;
		} else if (s[i] == ']') {
			size_t start, len;
			bool as_brace = top > 0;

			if (top && st[top - 1].t == '[') {
				top--;
				continue;
			}
			if (as_brace) {
				start = st[--top].pos;
			} else {
				int depth = 0;
				size_t j;

				start = 0;
				for (j = 0; j < i; j++) {
					if (s[j] == '{' || s[j] == '(')
						depth++;
					else if (s[j] == '}' || s[j] == ')')
						depth--;
					else if (s[j] == ',' && depth <= 0)
						start = j + 1;
				}
				while (s[start] == ' ')
					start++;
			}
			len = i + 1 - start;
			if (as_brace)   /* Asterisk: a variable named "...", empty */
				dp_warn("%s:%u: broken expression '%.*s' ('$[' written as '${'): Asterisk reads a variable named '%.*s', which is empty; did you mean $[%.*s?",
					p->file, p->line, (int)len, s + start,
					(int)(len > 3 ? len - 3 : 0), s + start + 2,
					(int)(len - 2), s + start + 2);
			else            /* Asterisk: the text as it is */
				dp_warn("%s:%u: broken expression '%.*s' (a ']' with no '$['): Asterisk does no arithmetic here (a priority reads as the number it starts with); did you mean $[%.*s?",
					p->file, p->line, (int)len, s + start, (int)len, s + start);
		}
	}
	while (top > 0) {
		top--;
		dp_warn("%s:%u: '%s' opened at '%.20s' is never closed with '%c'",
			p->file, p->line, st[top].t == '{' ? "${" : "$[", s + st[top].pos,
			st[top].t == '{' ? '}' : ']');
	}
}

void dp_check_prio(const struct dialplan *dp, const struct dp_context *c,
		   const struct dp_exten *e, const struct dp_prio *p,
		   bool no_paren)
{
	dp_app_check_h *ch;
	bool weird = false;
	const char *a;

	(void)dp;
	(void)c;
	(void)e;
	if (!p)
		return;
	for (a = p->app; *a; a++)
		if (!app_char(*a))
			weird = true;
	if (no_paren && weird) {
		check_no_paren(p);
		check_brackets(p, p->app);
		return;
	}
	check_brackets(p, p->data);
	if (strstr(p->app, "${") || strstr(p->app, "$["))
		return;
	if (!dp_app_find(p->app))
		dp_warn("%s:%u: application '%s' is not available: a call that gets here hangs up",
			p->file, p->line, p->app);
	if ((ch = dp_app_checker(p->app)))
		ch(p->file, p->line, p->app, p->data);
}

/* ------------------------------------------------------------------ */
/* Whole-dialplan checks                                               */

static bool is_static(const char *s)
{
	return !strchr(s, '$');
}

/* Check one static jump target "[[ctx,]exten,]prio" seen at p in e@c. */
static void check_target(const struct dialplan *dp, const struct dp_context *c,
			 const struct dp_exten *e, const struct dp_prio *p,
			 const char *target)
{
	char buf[DP_BUF], *parts[3] = { NULL }, *w = buf, *lp;
	const char *ctx, *exten, *prio;
	const struct dp_context *tc;
	int n = 0;

	dp_strlcpy(buf, target, sizeof(buf));
	if ((lp = strchr(buf, '(')))   /* Gosub arguments */
		*lp = '\0';
	while (w && n < 3)
		parts[n++] = dp_trim(strsep(&w, ","));
	if (w || !n || !*parts[n - 1])
		return;
	ctx = n == 3 ? parts[0] : c->name;
	exten = n == 3 ? parts[1] : n == 2 ? parts[0] : NULL;
	prio = parts[n - 1];
	if (!is_static(ctx) || (exten && !is_static(exten)) || !is_static(prio))
		return;
	tc = dp_context_find(dp, ctx);
	if (!tc) {
		dp_warn("%s:%u: %s to context '%s', which no dialplan file defines",
			p->file, p->line, p->app, ctx);
		return;
	}
	if (isdigit((unsigned char)prio[0]) || prio[0] == '+' || prio[0] == '-')
		return;
	if (!exten) {
		size_t i;

		for (i = 0; i < e->nprios; i++)
			if (e->prios[i].label && !strcmp(e->prios[i].label, prio))
				return;
		dp_warn("%s:%u: %s: no label '%s' in extension '%s' of [%s]", p->file,
			p->line, p->app, prio, e->name, c->name);
		return;
	}
	if (!dp_find(dp, ctx, exten, 0, prio, NULL, 0) && exten[0] != '_') {
		/* time-ranged includes aside, the label is nowhere */
		size_t i, j;

		for (i = 0; i < tc->next; i++)
			if (dp_ext_match(tc->ext[i]->name, exten))
				for (j = 0; j < tc->ext[i]->nprios; j++)
					if (tc->ext[i]->prios[j].label &&
					    !strcmp(tc->ext[i]->prios[j].label, prio))
						return;
		dp_warn("%s:%u: %s: no label '%s' in extension '%s' of [%s]", p->file,
			p->line, p->app, prio, exten, ctx);
	}
}

/* Branches of "cond?a:b" (copies into a and b; empty when absent). */
static bool branches(const char *data, char *a, char *b, size_t size)
{
	const char *q = strchr(data, '?'), *colon;

	a[0] = b[0] = '\0';
	if (!q)
		return false;
	colon = strchr(q + 1, ':');
	if (colon) {
		snprintf(a, size, "%.*s", (int)(colon - q - 1), q + 1);
		dp_strlcpy(b, colon + 1, size);
	} else {
		dp_strlcpy(a, q + 1, size);
	}
	dp_trim(a);
	dp_trim(b);
	return true;
}

static void check_jumps(const struct dialplan *dp, const struct dp_context *c,
			const struct dp_exten *e, const struct dp_prio *p)
{
	char a[DP_NAME_MAX * 2], b[DP_NAME_MAX * 2];

	if (!strcasecmp(p->app, "Goto") || !strcasecmp(p->app, "Gosub")) {
		check_target(dp, c, e, p, p->data);
	} else if (!strcasecmp(p->app, "GotoIf") || !strcasecmp(p->app, "GotoIfTime") ||
		   !strcasecmp(p->app, "GosubIf")) {
		if (!strcasecmp(p->app, "GotoIfTime") && is_static(p->data)) {
			char cond[DP_BUF], *q;
			struct dp_timing t;

			dp_strlcpy(cond, p->data, sizeof(cond));
			if ((q = strchr(cond, '?')))
				*q = '\0';
			if (!dp_timing_parse(&t, cond, p->file, p->line))
				dp_timing_clear(&t);
		}
		if (branches(p->data, a, b, sizeof(a))) {
			if (*a)
				check_target(dp, c, e, p, dp_trim(a));
			if (*b)
				check_target(dp, c, e, p, dp_trim(b));
		}
	} else if (!strcasecmp(p->app, "Macro")) {
		char name[DP_NAME_MAX], full[DP_NAME_MAX + 8], *comma;

		dp_strlcpy(name, p->data, sizeof(name));
		if ((comma = strchr(name, ',')))
			*comma = '\0';
		dp_trim(name);
		if (*name && is_static(name)) {
			snprintf(full, sizeof(full), "macro-%s", name);
			if (!dp_context_find(dp, full))
				dp_warn("%s:%u: Macro(%s): no context [%s] defines it",
					p->file, p->line, name, full);
		}
	}
}

/* A GotoIf/GotoIfTime with both branches: the unlabelled priorities after
 * it can never run. */
static void check_unreachable(const struct dp_context *c, const struct dp_exten *e)
{
	char a[DP_NAME_MAX * 2], b[DP_NAME_MAX * 2];
	size_t i, j;

	for (i = 0; i + 1 < e->nprios; i = j) {
		const struct dp_prio *p = &e->prios[i];

		j = i + 1;
		if ((strcasecmp(p->app, "GotoIf") && strcasecmp(p->app, "GotoIfTime")) ||
		    !branches(p->data, a, b, sizeof(a)) || !*a || !*b)
			continue;
		while (j < e->nprios && !e->prios[j].label &&
		       e->prios[j].prio == e->prios[j - 1].prio + 1)
			j++;
		if (j == i + 1)
			continue;
		if (j == i + 2)
			dp_warn("%s:%u: priority %d of %s@%s can never run: the %s at line %u always jumps (to %s or %s)",
				e->prios[i + 1].file, e->prios[i + 1].line, e->prios[i + 1].prio,
				e->name, c->name, p->app, p->line, a, b);
		else
			dp_warn("%s:%u: priorities %d-%d of %s@%s can never run: the %s at line %u always jumps (to %s or %s)",
				e->prios[i + 1].file, e->prios[i + 1].line, e->prios[i + 1].prio,
				e->prios[j - 1].prio, e->name, c->name, p->app, p->line, a, b);
	}
}

void dp_check_dialplan(const struct dialplan *dp)
{
	size_t i, j, k;

	for (i = 0; i < dp->nctx; i++) {
		const struct dp_context *c = dp->ctx[i];

		for (j = 0; j < c->ninc; j++)
			if (!dp_context_find(dp, c->inc[j].name))
				dp_warn("%s:%u: include => %s: no such context",
					c->inc[j].file, c->inc[j].line, c->inc[j].name);
		for (j = 0; j < c->next; j++) {
			const struct dp_exten *e = c->ext[j];

			for (k = 0; k < e->nprios; k++)
				check_jumps(dp, c, e, &e->prios[k]);
			check_unreachable(c, e);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Per-application argument checks                                     */

/* Queue(queuename[,options[,URL[,announceoverride[,timeout[,...]]]]]) */
static void check_queue(const char *file, unsigned line, const char *app,
			const char *data)
{
	char buf[DP_BUF], *args[16], *w = buf, sugg[DP_BUF];
	size_t n = 0, i, pos;

	dp_strlcpy(buf, data, sizeof(buf));
	while (w && n < 16)
		args[n++] = strsep(&w, ",");
	if (n < 3 || !*args[2] || strspn(args[2], "0123456789") != strlen(args[2]))
		return;
	if (n >= 5 && *args[4])
		return;
	pos = (size_t)snprintf(sugg, sizeof(sugg), "%s,%s,,,%s", args[0], args[1], args[2]);
	for (i = 5; i < n && pos < sizeof(sugg); i++)
		pos += (size_t)snprintf(sugg + pos, sizeof(sugg) - pos, ",%s", args[i]);
	dp_warn("%s:%u: %s(%s): '%s' is the 3rd argument, the URL, not the timeout (the 5th): did you mean %s(%s)?",
		file, line, app, data, args[2], app, sugg);
}

void dp_check_register_builtin(void)
{
	dp_app_register_check("Queue", check_queue);
}
