/**
 * @file find.c  Looking extensions up as Asterisk's pbx_find_extension
 * does: in a context, the first extension in match order (literals, then
 * patterns by specificity; caller-id matches first) that matches, and
 * the priority or label in it; when that extension lacks it, each include
 * in order (time-ranged ones only when their range holds), depth-first,
 * never entering a context twice. Also hints and global variables, and
 * the "could more digits match" lookups digit collection needs
 * (ast_canmatch_extension, ast_matchmore_extension).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/pl.h"
#include "dialplan/dp_int.h"

/* ------------------------------------------------------------------ */
/* Lookup                                                              */

uint32_t dp_name_hash(const char *s)
{
	struct pl pl = pl_of(s, strlen(s));

	return pl_hash(&pl, false);
}

static bool ctx_cmp(const void *obj, const void *arg)
{
	return strcmp(((const struct dp_context *)obj)->name, arg) == 0;
}

struct dp_context *dp_context_find(const struct dialplan *dp, const char *name)
{
	if (!dp || !name)
		return NULL;
	return hash_find(&dp->ctxh, dp_name_hash(name), ctx_cmp, name);
}

bool dialplan_has_context(const struct dialplan *dp, const char *name)
{
	return dp_context_find(dp, name) != NULL;
}

static bool cid_ok(const struct dp_exten *e, const char *cid)
{
	if (!e->cid)
		return true;
	return cid && dp_ext_match(e->cid, cid);
}

/* Best match for exten in c itself (no includes), hints aside. */
static const struct dp_exten *best(const struct dp_context *c, const char *exten,
				   const char *cid)
{
	size_t i;

	for (i = 0; i < c->next; i++) {
		const struct dp_exten *e = c->ext[i];

		if (dp_ext_match(e->name, exten) && cid_ok(e, cid))
			return e;
	}
	return NULL;
}

const struct dp_prio *dp_prio_in(const struct dp_exten *e, int prio,
				 const char *label)
{
	size_t i;

	for (i = 0; i < e->nprios; i++) {
		const struct dp_prio *p = &e->prios[i];

		if (label ? (p->label && !strcmp(p->label, label)) : p->prio == prio)
			return p;
	}
	return NULL;
}

struct find {
	const char *exten, *label, *cid;
	int prio;
	time_t now;
	const struct dp_context *stack[DP_INCLUDE_DEPTH];
	int depth;
	const struct dp_context *found_ctx;
	const struct dp_exten *found;
};

static const struct dp_prio *find_in(const struct dialplan *dp,
				     const struct dp_context *c, struct find *f)
{
	const struct dp_exten *e;
	const struct dp_prio *p;
	size_t i;
	int k;

	for (k = 0; k < f->depth; k++)
		if (f->stack[k] == c)
			return NULL;
	if (f->depth >= DP_INCLUDE_DEPTH)
		return NULL;
	f->stack[f->depth++] = c;
	e = best(c, f->exten, f->cid);
	if (e && (p = dp_prio_in(e, f->prio, f->label))) {
		f->found_ctx = c;
		f->found = e;
		return p;
	}
	for (i = 0; i < c->ninc; i++) {
		const struct dp_include *inc = &c->inc[i];
		const struct dp_context *ic;

		if (inc->timing_spec && !dp_timing_check(&inc->timing, f->now))
			continue;
		ic = dp_context_find(dp, inc->name);
		if (ic && (p = find_in(dp, ic, f)))
			return p;
	}
	return NULL;
}

static const struct dp_prio *find(const struct dialplan *dp, const char *context,
				  struct find *f)
{
	const struct dp_context *c = dp_context_find(dp, context);

	if (!c || !f->exten)
		return NULL;
	return find_in(dp, c, f);
}

const struct dp_prio *dp_find(const struct dialplan *dp, const char *context,
			      const char *exten, int prio, const char *label,
			      const char *cid, time_t now)
{
	struct find f = { .exten = exten, .label = label, .cid = cid,
			  .prio = prio, .now = now };

	return find(dp, context, &f);
}

bool dp_exten_exists(const struct dialplan *dp, const char *context,
		     const char *exten, int prio, const char *cid, time_t now)
{
	return dp_find(dp, context, exten, prio, NULL, cid, now) != NULL;
}

int dialplan_match(const struct dialplan *dp, const char *context,
		   const char *exten, const char *callerid, time_t now,
		   const char **found_ctx, const char **pattern)
{
	struct find f = { .exten = exten, .cid = callerid, .prio = 1, .now = now };

	if (!find(dp, context, &f))
		return ENOENT;
	if (found_ctx)
		*found_ctx = f.found_ctx->name;
	if (pattern)
		*pattern = f.found->name;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Could more digits match? (digit collection: Background, WaitExten)  */

enum mm { MM_CANMATCH, MM_MATCHMORE };

static bool in_set(const char *p, const char *end, unsigned char c)
{
	while (p < end) {
		unsigned char c1 = (unsigned char)p[0], c2 = c1;

		if (p + 2 < end && p[1] == '-') {
			c2 = (unsigned char)p[2];
			p += 2;
		}
		p++;
		if (c >= c1 && c <= c2)
			return true;
	}
	return false;
}

/* Asterisk's _extension_match_core in E_CANMATCH / E_MATCHMORE mode:
 * 0 no, 1 yes, 2 an early match ('!': final for E_MATCHMORE). */
static int match_mode(const char *pattern, const char *data, enum mm mode)
{
	if (pattern[0] != '_') {   /* literal: data is a prefix of it */
		size_t lp = 0, ld = 0;
		const char *p = pattern, *d = data;

		for (;;) {
			while (*p == '-')
				p++;
			while (*d == '-')
				d++;
			if (!*d)
				break;
			if (*p != *d)
				return 0;
			p++;
			d++;
		}
		for (p = pattern; *p; p++)
			lp += *p != '-';
		for (d = data; *d; d++)
			ld += *d != '-';
		return mode == MM_MATCHMORE ? lp > ld : 1;
	}
	pattern++;
	while (*data == '-')
		data++;
	if (!*data || !*pattern)
		return 0;
	while (*data && *pattern) {
		const char *end;

		if (*data == '-') {
			data++;
			continue;
		}
		switch (toupper((unsigned char)*pattern)) {
		case '[':
			end = strchr(pattern + 1, ']');
			if (!end || !in_set(pattern + 1, end, (unsigned char)*data))
				return 0;
			pattern = end;
			break;
		case 'N':
			if (*data < '2' || *data > '9')
				return 0;
			break;
		case 'X':
			if (*data < '0' || *data > '9')
				return 0;
			break;
		case 'Z':
			if (*data < '1' || *data > '9')
				return 0;
			break;
		case '.':
			return 1;
		case '!':
			return 2;
		case ' ':
		case '-':
			pattern++;
			continue;
		default:
			if (*data != *pattern)
				return 0;
			break;
		}
		data++;
		pattern++;
	}
	if (*data)
		return 0;
	if (!*pattern)
		return mode == MM_MATCHMORE ? 0 : 1;
	return *pattern == '!' ? 2 : 1;
}

/* 1 yes, 0 no, -1 no and final (an early-match '!' extension). */
static int more_in(const struct dialplan *dp, const struct dp_context *c,
		   struct find *f, enum mm mode)
{
	size_t i;
	int k, r;

	for (k = 0; k < f->depth; k++)
		if (f->stack[k] == c)
			return 0;
	if (f->depth >= DP_INCLUDE_DEPTH)
		return 0;
	f->stack[f->depth++] = c;
	for (i = 0; i < c->next; i++) {
		const struct dp_exten *e = c->ext[i];
		int m = match_mode(e->name, f->exten, mode);

		if (!m || !cid_ok(e, f->cid))
			continue;
		if (m == 2 && mode == MM_MATCHMORE)
			return -1;
		if (dp_prio_in(e, 1, NULL))
			return 1;
	}
	for (i = 0; i < c->ninc; i++) {
		const struct dp_include *inc = &c->inc[i];
		const struct dp_context *ic;

		if (inc->timing_spec && !dp_timing_check(&inc->timing, f->now))
			continue;
		ic = dp_context_find(dp, inc->name);
		if (ic && (r = more_in(dp, ic, f, mode)))
			return r;
	}
	return 0;
}

static bool more(const struct dialplan *dp, const char *context, const char *exten,
		 const char *callerid, time_t now, enum mm mode)
{
	const struct dp_context *c = dp_context_find(dp, context);
	struct find f = { .exten = exten, .cid = callerid, .prio = 1, .now = now };

	return c && exten && more_in(dp, c, &f, mode) > 0;
}

bool dialplan_canmatch(const struct dialplan *dp, const char *context,
		       const char *exten, const char *callerid, time_t now)
{
	return more(dp, context, exten, callerid, now, MM_CANMATCH);
}

bool dialplan_matchmore(const struct dialplan *dp, const char *context,
			const char *exten, const char *callerid, time_t now)
{
	return more(dp, context, exten, callerid, now, MM_MATCHMORE);
}

const char *dialplan_hint(const struct dialplan *dp, const char *context,
			  const char *exten)
{
	const struct dp_context *c = dp_context_find(dp, context);
	size_t i;

	if (!c || !exten)
		return NULL;
	for (i = 0; i < c->next; i++)
		if (c->ext[i]->hint && dp_ext_match(c->ext[i]->name, exten))
			return c->ext[i]->hint;
	return NULL;
}

const char *dialplan_global(const struct dialplan *dp, const char *name)
{
	const struct dp_var *v;

	for (v = dp ? dp->globals : NULL; v; v = v->next)
		if (!strcmp(v->name, name))
			return v->value;
	return NULL;
}

int dp_global_set(struct dialplan *dp, const char *name, const char *value)
{
	struct dp_var **pv, *v;

	for (pv = &dp->globals; *pv; pv = &(*pv)->next) {
		if (strcmp((*pv)->name, name))
			continue;
		v = *pv;
		if (!value || !*value) {
			*pv = v->next;
			v->next = NULL;
			dp_vars_free(v);
			return 0;
		}
		char *nv = dp_strdup(value);

		if (!nv)
			return ENOMEM;
		free(v->value);
		v->value = nv;
		return 0;
	}
	if (!value || !*value)
		return 0;
	v = calloc(1, sizeof(*v));
	if (!v || !(v->name = dp_strdup(name)) || !(v->value = dp_strdup(value))) {
		dp_vars_free(v);
		return ENOMEM;
	}
	*pv = v;
	return 0;
}

