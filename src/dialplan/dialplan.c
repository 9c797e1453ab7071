/**
 * @file dialplan.c  Building the dialplan snapshot from extensions.conf
 * (what Asterisk's pbx_config does), looking extensions up through
 * includes (pbx.c pbx_find_extension), and showing it as JSON.
 *
 * `exten => EXT[/CID],PRIO[(label)],App(data)`: PRIO is a number, `n`
 * (the last priority of the context + 1), `s` (the same), `hint`, or
 * `n+K`. App and data split at the first '(' and the last ')'; text
 * with no '(' is all application name, as in Asterisk 13. `same =>`
 * continues the last extension. Duplicate priorities keep the first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/pl.h"
#include "dialplan/dp_int.h"

static dialplan_warn_h *warn_h;
static void *warn_arg;

void dialplan_set_warn_hook(dialplan_warn_h *h, void *arg)
{
	warn_h = h;
	warn_arg = arg;
}

void dp_warn(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("%s", msg);
	if (warn_h)
		warn_h(msg, warn_arg);
}

/* ------------------------------------------------------------------ */
/* Freeing                                                             */

void dp_vars_free(struct dp_var *v)
{
	while (v) {
		struct dp_var *n = v->next;

		free(v->name);
		free(v->value);
		free(v);
		v = n;
	}
}

static void exten_free(struct dp_exten *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->nprios; i++) {
		free(e->prios[i].label);
		free(e->prios[i].app);
		free(e->prios[i].data);
	}
	free(e->prios);
	free(e->name);
	free(e->cid);
	free(e->hint);
	free(e);
}

static void context_free(struct dp_context *c)
{
	size_t i;

	for (i = 0; i < c->next; i++)
		exten_free(c->ext[i]);
	free(c->ext);
	for (i = 0; i < c->ninc; i++) {
		free(c->inc[i].name);
		free(c->inc[i].timing_spec);
		dp_timing_clear(&c->inc[i].timing);
	}
	free(c->inc);
	for (i = 0; i < c->nign; i++)
		free(c->ignorepats[i]);
	free(c->ignorepats);
	free(c->name);
	free(c);
}

static void dialplan_destroy(void *arg)
{
	struct dialplan *dp = arg;
	size_t i;

	for (i = 0; i < dp->nctx; i++)
		context_free(dp->ctx[i]);
	free(dp->ctx);
	hash_close(&dp->ctxh);
	dp_vars_free(dp->globals);
	for (i = 0; i < dp->nfiles; i++)
		free(dp->files[i]);
	free(dp->files);
}

void dialplan_init(void)
{
	dp_apps_builtin();
}

void dialplan_close(void)
{
}

void dialplan_free(struct dialplan *dp)
{
	mem_deref(dp);
}

/* ------------------------------------------------------------------ */
/* Building                                                            */

struct build {
	struct dialplan *dp;
	const struct conf *conf;
	/* per context */
	struct dp_context *c;
	char lastext[DP_NAME_MAX];
	char lastcid[DP_NAME_MAX];
	bool have_last;
	int lastpri;
};

static const char *file_of(struct build *b, const char *file)
{
	size_t i;

	for (i = 0; i < b->dp->nfiles; i++)
		if (!strcmp(b->dp->files[i], file))
			return b->dp->files[i];
	return "?";
}

static int copy_files(struct dialplan *dp, const struct conf *conf)
{
	size_t n = 0;

	while (conf->files && conf->files[n])
		n++;
	dp->files = calloc(n + 1, sizeof(char *));
	if (!dp->files)
		return ENOMEM;
	for (dp->nfiles = 0; dp->nfiles < n; dp->nfiles++)
		if (!(dp->files[dp->nfiles] = dp_strdup(conf->files[dp->nfiles])))
			return ENOMEM;
	return 0;
}

static int context_get(struct build *b, const struct conf_section *s,
		       struct dp_context **out)
{
	struct dialplan *dp = b->dp;
	struct dp_context *c = dp_context_find(dp, s->name), **nc;

	if (c) {
		*out = c;
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->name = dp_strdup(s->name))) {
		free(c);
		return ENOMEM;
	}
	nc = realloc(dp->ctx, (dp->nctx + 1) * sizeof(*nc));
	if (!nc) {
		free(c->name);
		free(c);
		return ENOMEM;
	}
	dp->ctx = nc;
	dp->ctx[dp->nctx++] = c;
	c->file = file_of(b, s->file);
	c->line = s->line;
	hash_add(&dp->ctxh, &c->le, dp_name_hash(c->name), c);
	*out = c;
	return 0;
}

static struct dp_exten *exten_get(struct dp_context *c, const char *name,
				  const char *cid, const char *file, unsigned line)
{
	struct dp_exten *e;
	size_t i;

	for (i = 0; i < c->next; i++) {
		e = c->ext[i];
		if (!strcmp(e->name, name) &&
		    ((!e->cid && !cid) || (e->cid && cid && !strcmp(e->cid, cid))))
			return e;
	}
	if (c->next == c->aext) {
		size_t na = c->aext ? c->aext * 2 : 8;
		struct dp_exten **ne = realloc(c->ext, na * sizeof(*ne));

		if (!ne)
			return NULL;
		c->ext = ne;
		c->aext = na;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = dp_strdup(name)) || (cid && !(e->cid = dp_strdup(cid)))) {
		exten_free(e);
		return NULL;
	}
	e->file = file;
	e->line = line;
	c->ext[c->next++] = e;
	return e;
}

static int prio_add(struct dp_exten *e, int prio, const char *label,
		    const char *app, const char *data, const char *file,
		    unsigned line, const char *ctxname, bool *dup)
{
	struct dp_prio *np, *p;
	size_t i;

	*dup = false;
	for (i = 0; i < e->nprios; i++) {
		if (e->prios[i].prio == prio) {
			dp_warn("%s:%u: extension '%s' priority %d in [%s] is already defined at %s:%u: this one is ignored",
				file, line, e->name, prio, ctxname, e->prios[i].file,
				e->prios[i].line);
			*dup = true;
			return 0;
		}
	}
	np = realloc(e->prios, (e->nprios + 1) * sizeof(*np));
	if (!np)
		return ENOMEM;
	e->prios = np;
	/* keep sorted by priority */
	for (i = e->nprios; i > 0 && e->prios[i - 1].prio > prio; i--)
		e->prios[i] = e->prios[i - 1];
	p = &e->prios[i];
	memset(p, 0, sizeof(*p));
	e->nprios++;
	p->prio = prio;
	p->file = file;
	p->line = line;
	p->app = dp_strdup(app);
	p->data = dp_strdup(data);
	if (label)
		p->label = dp_strdup(label);
	if (!p->app || !p->data || (label && !p->label))
		return ENOMEM;
	return 0;
}

/* Split "App(data)" the way Asterisk 13's pbx_config does. */
static void split_app(char *appl, char **app, char **data, bool *no_paren,
		      const char *file, unsigned line)
{
	char *lp = strchr(appl, '(');

	*no_paren = false;
	*data = (char *)"";
	if (!lp) {
		*no_paren = true;
	} else {
		*lp = '\0';
		if (strstr(appl, "${") || strstr(appl, "$[")) {
			*lp = '(';
		} else {
			char *rp;

			*data = lp + 1;
			rp = strrchr(*data, ')');
			if (rp)
				*rp = '\0';
			else
				dp_warn("%s:%u: no closing parenthesis found in '%s(%s'",
					file, line, dp_trim(appl), *data);
		}
	}
	*app = dp_trim(appl);
}

static int parse_exten(struct build *b, const struct conf_var *v, bool same)
{
	const char *file = file_of(b, v->file);
	unsigned line = v->line;
	char *tc = dp_strdup(v->value), *rest, *ext, *pri, *label = NULL, *plus;
	char *app, *data, *cid = NULL, name[DP_NAME_MAX];
	int ipri, rc = 0;
	bool no_paren, dup;
	struct dp_exten *e;

	if (!tc)
		return ENOMEM;
	rest = tc;
	if (same) {
		if (!b->have_last) {
			dp_warn("%s:%u: 'same =>' with no 'exten =>' before it in [%s]: ignored",
				file, line, b->c->name);
			goto out;
		}
		ext = b->lastext;
		cid = b->lastcid[0] ? b->lastcid : NULL;
	} else {
		ext = strsep(&rest, ",");
		ext = dp_trim(ext);
		if ((cid = strchr(ext, '/')))
			*cid++ = '\0';
		if (!*ext) {
			dp_warn("%s:%u: extension with no name in [%s]: ignored", file, line,
				b->c->name);
			goto out;
		}
	}
	pri = rest ? strsep(&rest, ",") : NULL;
	if (!pri || !rest) {
		dp_warn("%s:%u: '%s' needs EXTEN,PRIORITY,Application: ignored", file,
			line, v->value);
		goto out;
	}
	pri = dp_trim(pri);
	if ((label = strchr(pri, '('))) {
		char *rp;

		*label++ = '\0';
		if ((rp = strchr(label, ')')))
			*rp = '\0';
		else
			dp_warn("%s:%u: label '%s' has no closing ')'", file, line, label);
		label = dp_trim(label);
		if (!*label)
			label = NULL;
		pri = dp_trim(pri);
	}
	if ((plus = strchr(pri, '+')))
		*plus++ = '\0';
	if (!strcmp(pri, "hint")) {
		ipri = DP_PRIO_HINT;
	} else if (!strcmp(pri, "n") || !strcmp(pri, "next")) {
		ipri = b->lastpri + 1;
	} else if (!strcmp(pri, "s") || !strcmp(pri, "same")) {
		ipri = b->lastpri;
		if (!ipri)
			dp_warn("%s:%u: can't use 'same' priority on the first entry", file, line);
	} else {
		char *end;
		long l = strtol(pri, &end, 10);

		ipri = (end != pri && !*end && l > 0 && l < 1000000) ? (int)l : 0;
		if (!ipri)
			dp_warn("%s:%u: invalid priority '%s': ignored", file, line, pri);
	}
	if (!ipri)
		goto out;
	if (plus && ipri > 0)
		ipri += atoi(plus);
	split_app(rest, &app, &data, &no_paren, file, line);
	if (!same) {
		dp_ext_normalize(name, sizeof(name), ext);
		dp_strlcpy(b->lastext, name, sizeof(b->lastext));
		dp_strlcpy(b->lastcid, cid ? cid : "", sizeof(b->lastcid));
		b->have_last = true;
		ext = name;
		if (!strcmp(ext, "_.") || !strcmp(ext, "_!"))
			dp_warn("%s:%u: the use of '%s' for an extension is strongly discouraged and can have unexpected behavior; use '_X%c' instead",
				file, line, ext, ext[1]);
	}
	e = exten_get(b->c, ext, cid, file, line);
	if (!e) {
		rc = ENOMEM;
		goto out;
	}
	if (ipri == DP_PRIO_HINT) {
		if (e->hint) {
			dp_warn("%s:%u: extension '%s' in [%s] already has a hint: this one is ignored",
				file, line, e->name, b->c->name);
		} else if (!(e->hint = dp_strdup(app))) {
			rc = ENOMEM;
		}
		goto out;
	}
	b->lastpri = ipri;
	rc = prio_add(e, ipri, label, app, data, file, line, b->c->name, &dup);
	if (!rc && !dup)
		dp_check_prio(b->dp, b->c, e, dp_prio_in(e, ipri, NULL), no_paren);
out:
	free(tc);
	return rc;
}

static int add_include(struct build *b, const struct conf_var *v)
{
	struct dp_context *c = b->c;
	struct dp_include *ni, *inc;
	char *val = dp_strdup(v->value), *spec;
	int rc = 0;

	if (!val)
		return ENOMEM;
	spec = strpbrk(val, ",|");
	if (spec)
		*spec++ = '\0';
	ni = realloc(c->inc, (c->ninc + 1) * sizeof(*ni));
	if (!ni) {
		free(val);
		return ENOMEM;
	}
	c->inc = ni;
	inc = &c->inc[c->ninc++];
	memset(inc, 0, sizeof(*inc));
	inc->file = file_of(b, v->file);
	inc->line = v->line;
	inc->name = dp_strdup(dp_trim(val));
	if (!inc->name)
		rc = ENOMEM;
	if (!rc && spec && *dp_trim(spec)) {
		inc->timing_spec = dp_strdup(dp_trim(spec));
		rc = inc->timing_spec ? dp_timing_parse(&inc->timing, inc->timing_spec,
							inc->file, inc->line)
				      : ENOMEM;
	}
	free(val);
	return rc;
}

static int add_ignorepat(struct dp_context *c, const char *pat)
{
	char **n = realloc(c->ignorepats, (c->nign + 1) * sizeof(*n));

	if (!n)
		return ENOMEM;
	c->ignorepats = n;
	if (!(n[c->nign] = dp_strdup(pat)))
		return ENOMEM;
	c->nign++;
	return 0;
}

static int load_context(struct build *b, const struct conf_section *s)
{
	const struct conf_var *v;
	int rc;

	rc = context_get(b, s, &b->c);
	if (rc)
		return rc;
	b->have_last = false;
	b->lastpri = 0;
	for (v = s->vars; v; v = v->next) {
		const char *file = file_of(b, v->file);

		if (!strcasecmp(v->name, "exten"))
			rc = parse_exten(b, v, false);
		else if (!strcasecmp(v->name, "same"))
			rc = parse_exten(b, v, true);
		else if (!strcasecmp(v->name, "include"))
			rc = add_include(b, v);
		else if (!strcasecmp(v->name, "ignorepat"))
			rc = add_ignorepat(b->c, v->value);
		else if (!strcasecmp(v->name, "switch") || !strcasecmp(v->name, "lswitch") ||
			 !strcasecmp(v->name, "eswitch"))
			dp_warn("%s:%u: '%s => %s': switches are not supported: ignored",
				file, v->line, v->name, v->value);
		else
			dp_warn("%s:%u: unknown keyword '%s' in context [%s]: ignored",
				file, v->line, v->name, s->name);
		if (rc)
			return rc;
	}
	return 0;
}

static int load_globals(struct build *b, const struct conf_section *s)
{
	const struct conf_var *v;
	char buf[DP_BUF];

	for (v = s->vars; v; v = v->next) {
		int rc;

		dp_subst_globals(b->dp, v->value, buf, sizeof(buf));
		rc = dp_global_set(b->dp, v->name, buf);
		if (rc)
			return rc;
	}
	return 0;
}

static int ext_sort_cmp(const void *a, const void *b)
{
	const struct dp_exten *x = *(const struct dp_exten *const *)a;
	const struct dp_exten *y = *(const struct dp_exten *const *)b;
	int c = dp_ext_cmp(x->name, y->name);

	if (c)
		return c;
	if (!x->cid != !y->cid)
		return x->cid ? -1 : 1;
	return x->cid ? dp_ext_cmp(x->cid, y->cid) : 0;
}

int dialplan_build(struct dialplan **out, const struct conf *conf, char *err,
		   size_t errsize)
{
	struct build b = { 0 };
	const struct conf_section *s;
	struct dialplan *dp;
	size_t i;
	int rc;

	dp_apps_builtin();
	dp = mem_zalloc(sizeof(*dp), dialplan_destroy);
	if (!dp)
		goto oom;
	b.dp = dp;
	b.conf = conf;
	rc = hash_init(&dp->ctxh, 64);
	if (!rc)
		rc = copy_files(dp, conf);
	for (s = conf->sections; s && !rc; s = s->next) {
		if (s->is_template || !strcasecmp(s->name, "general"))
			continue;
		if (!strcasecmp(s->name, "globals"))
			rc = load_globals(&b, s);
		else
			rc = load_context(&b, s);
	}
	if (rc)
		goto oom;
	for (i = 0; i < dp->nctx; i++)
		if (dp->ctx[i]->next > 1)
			qsort(dp->ctx[i]->ext, dp->ctx[i]->next, sizeof(struct dp_exten *),
			      ext_sort_cmp);
	dp_check_dialplan(dp);
	*out = dp;
	return 0;
oom:
	mem_deref(dp);
	snprintf(err, errsize, "%s: out of memory building the dialplan",
		 conf->files && conf->files[0] ? conf->files[0] : "extensions.conf");
	return ENOMEM;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

/* A JSON string even when the file was not UTF-8 (bytes >= 0x80 -> '?'). */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *copy, *p;

	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	copy = dp_strdup(s);
	if (!copy)
		return json_null();
	for (p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

static json_t *context_json(const struct dp_context *c)
{
	json_t *inc = json_array(), *ign = json_array(), *exts = json_array();
	size_t i, j;

	for (i = 0; i < c->ninc; i++) {
		char buf[DP_NAME_MAX * 2];

		if (c->inc[i].timing_spec)
			snprintf(buf, sizeof(buf), "%.255s,%.255s", c->inc[i].name,
				 c->inc[i].timing_spec);
		else
			dp_strlcpy(buf, c->inc[i].name, sizeof(buf));
		json_array_append_new(inc, jstr(buf));
	}
	for (i = 0; i < c->nign; i++)
		json_array_append_new(ign, jstr(c->ignorepats[i]));
	for (i = 0; i < c->next; i++) {
		const struct dp_exten *e = c->ext[i];
		json_t *prios = json_array(), *je;

		for (j = 0; j < e->nprios; j++) {
			const struct dp_prio *p = &e->prios[j];

			json_array_append_new(prios, json_pack("{s:i, s:o, s:o, s:o, s:o, s:i}",
				"prio", p->prio, "label", jstr(p->label), "app", jstr(p->app),
				"data", jstr(p->data), "file", jstr(p->file), "line", (int)p->line));
		}
		je = json_pack("{s:o, s:o}", "exten", jstr(e->name), "priorities", prios);
		if (e->cid)
			json_object_set_new(je, "cid", jstr(e->cid));
		if (e->hint)
			json_object_set_new(je, "hint", jstr(e->hint));
		json_array_append_new(exts, je);
	}
	return json_pack("{s:o, s:o, s:i, s:o, s:o, s:o}", "name", jstr(c->name),
			 "file", jstr(c->file), "line", (int)c->line, "includes", inc,
			 "ignorepats", ign, "extensions", exts);
}

json_t *dialplan_json(const struct dialplan *dp, const char *context)
{
	json_t *ctxs = json_array(), *globals = json_object();
	const struct dp_var *v;
	size_t i;

	if (context && !dp_context_find(dp, context)) {
		json_decref(ctxs);
		json_decref(globals);
		return NULL;
	}
	for (i = 0; i < dp->nctx; i++)
		if (!context || !strcmp(dp->ctx[i]->name, context))
			json_array_append_new(ctxs, context_json(dp->ctx[i]));
	for (v = dp->globals; v; v = v->next)
		json_object_set_new(globals, v->name, jstr(v->value));
	return json_pack("{s:o, s:o}", "contexts", ctxs, "globals", globals);
}
