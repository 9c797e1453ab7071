/**
 * @file subst.c  `${VAR}`, `${VAR:offset:length}`, `${FUNC(args)}`,
 * nested `${${X}}` and `$[expr]` substitution, as Asterisk's
 * pbx_substitute_variables_helper_full does it (including its reading of
 * an unterminated `${`: a warning, and the last character dropped), and
 * the dialplan functions CALLERID, CDR, IF, LEN, CUT, STRFTIME, GLOBAL,
 * ISNULL, EXISTS, and the table of functions other files register
 * (dp_func_register: DB, BLACKLIST, ... in func_db.c).
 *
 * Lookup order for a name: built-ins (EXTEN, CONTEXT, PRIORITY, CHANNEL,
 * UNIQUEID, EPOCH), channel variables, globals. EPOCH and STRFTIME read
 * the dialplan's clock (dp_chan_now, dialplan_now).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "dialplan/dp_int.h"

#define SUBST_DEPTH 15

struct sub {
	struct dp_chan *chan;
	const struct dialplan *dp;
	int depth;
};

static void subst(struct sub *s, const char *in, char *out, size_t size);

/* Append n bytes of src at *pos; truncates at size. */
static void put(char *out, size_t size, size_t *pos, const char *src, size_t n)
{
	if (*pos + 1 >= size)
		return;
	if (n > size - 1 - *pos)
		n = size - 1 - *pos;
	memcpy(out + *pos, src, n);
	*pos += n;
	out[*pos] = '\0';
}

/* ------------------------------------------------------------------ */
/* Functions                                                           */

#define FUNCS_MAX 64

static struct {
	char name[32];
	dp_func_read_h *rd;
	dp_func_write_h *wr;
} funcs[FUNCS_MAX];
static size_t nfuncs;

int dp_func_register(const char *name, dp_func_read_h *rd, dp_func_write_h *wr)
{
	size_t i;

	for (i = 0; i < nfuncs; i++)
		if (!strcasecmp(funcs[i].name, name))
			return EEXIST;
	if (nfuncs == FUNCS_MAX || strlen(name) >= sizeof(funcs[0].name))
		return ENOSPC;
	dp_strlcpy(funcs[nfuncs].name, name, sizeof(funcs[0].name));
	funcs[nfuncs].rd = rd;
	funcs[nfuncs].wr = wr;
	nfuncs++;
	return 0;
}

static size_t func_find(const char *name)
{
	size_t i;

	for (i = 0; i < nfuncs; i++)
		if (!strcasecmp(funcs[i].name, name))
			return i;
	return FUNCS_MAX;
}

static const char *call_get(const struct dp_chan *chan, const char *what)
{
	if (!chan || !chan->ops->get)
		return NULL;
	return chan->ops->get(chan->call, what);
}

/* CUT(var,delim,fields): fields "2", "2-3", "-2", "3-", '&' lists. */
static void fn_cut(struct sub *s, char *args, char *out, size_t size)
{
	char *var = args, *delim = NULL, *fields = NULL, *save = NULL, *f;
	char val[DP_BUF];
	const char *v;
	char d;
	size_t pos = 0;
	bool first = true;

	if ((delim = strchr(var, ','))) {
		*delim++ = '\0';
		if ((fields = strchr(delim, ',')))
			*fields++ = '\0';
	}
	if (!fields || !*fields) {
		dp_warn("CUT(%s): needs a variable, a delimiter and fields", var);
		return;
	}
	v = s->chan ? dp_chan_var_get(s->chan, var) : dialplan_global(s->dp, var);
	dp_strlcpy(val, v ? v : "", sizeof(val));
	d = delim && *delim ? delim[0] : '-';
	if (delim && delim[0] == '\\' && delim[1])
		d = delim[1];
	for (f = strtok_r(fields, "&", &save); f; f = strtok_r(NULL, "&", &save)) {
		int a = 1, b = INT_MAX, i = 1;
		char *dash = strchr(f, '-'), *p = val, *e;

		if (dash) {
			*dash = '\0';
			if (*f)
				a = atoi(f);
			if (dash[1])
				b = atoi(dash + 1);
		} else {
			a = b = atoi(f);
		}
		if (a < 1)
			a = 1;
		while (p) {
			e = strchr(p, d);
			if (i >= a && i <= b) {
				if (!first)
					put(out, size, &pos, &d, 1);
				put(out, size, &pos, p, e ? (size_t)(e - p) : strlen(p));
				first = false;
			}
			p = e ? e + 1 : NULL;
			i++;
		}
	}
}

static void fn_strftime(char *args, time_t now, char *out, size_t size)
{
	char *epoch = args, *tz = NULL, *fmt = NULL;
	time_t t = now;
	struct tm tm;
	char *old = NULL;
	const char *cur;

	if ((tz = strchr(epoch, ','))) {
		*tz++ = '\0';
		if ((fmt = strchr(tz, ',')))
			*fmt++ = '\0';
	}
	epoch = dp_trim(epoch);
	if (*epoch)
		t = (time_t)strtoll(epoch, NULL, 10);
	if (tz && *(tz = dp_trim(tz))) {
		cur = getenv("TZ");
		old = cur ? dp_strdup(cur) : NULL;
		setenv("TZ", tz, 1);
		tzset();
		localtime_r(&t, &tm);
		if (old)
			setenv("TZ", old, 1);
		else
			unsetenv("TZ");
		tzset();
		free(old);
	} else {
		localtime_r(&t, &tm);
	}
	if (!strftime(out, size, fmt && *fmt ? fmt : "%c", &tm))
		out[0] = '\0';
}

static void fn_callerid(struct sub *s, const char *arg, char *out, size_t size)
{
	struct dp_chan *c = s->chan;

	if (!c)
		return;
	if (!strcasecmp(arg, "num") || !strcasecmp(arg, "number"))
		dp_strlcpy(out, c->cid_num, size);
	else if (!strcasecmp(arg, "name"))
		dp_strlcpy(out, c->cid_name, size);
	else if (!strcasecmp(arg, "all")) {
		size_t pos = 0;

		if (c->cid_name[0]) {
			put(out, size, &pos, "\"", 1);
			put(out, size, &pos, c->cid_name, strlen(c->cid_name));
			put(out, size, &pos, "\" ", 2);
		}
		put(out, size, &pos, "<", 1);
		put(out, size, &pos, c->cid_num, strlen(c->cid_num));
		put(out, size, &pos, ">", 1);
	} else
		dp_warn("CALLERID(%s): unknown field (num, name, all)", arg);
}

static void func_read(struct sub *s, char *name, char *out, size_t size)
{
	char *args = strchr(name, '('), *end;
	size_t i;

	out[0] = '\0';
	*args++ = '\0';
	end = strrchr(args, ')');
	if (end)
		*end = '\0';
	if (!strcasecmp(name, "CALLERID")) {
		fn_callerid(s, dp_trim(args), out, size);
	} else if (!strcasecmp(name, "CDR")) {
		char what[DP_NAME_MAX];
		const char *v;

		snprintf(what, sizeof(what), "cdr:%.200s", dp_trim(args));
		if ((v = call_get(s->chan, what)))
			dp_strlcpy(out, v, size);
	} else if (!strcasecmp(name, "IF")) {
		char *q = strchr(args, '?'), *a = "", *b = "";

		if (q) {
			*q++ = '\0';
			a = q;
			if ((b = strchr(q, ':')))
				*b++ = '\0';
			else
				b = "";
		} else {
			dp_warn("IF(%s): syntax is IF(cond?true:false)", args);
		}
		dp_strlcpy(out, dp_cond(dp_trim(args)) ? a : b, size);
	} else if (!strcasecmp(name, "LEN")) {
		snprintf(out, size, "%zu", strlen(args));
	} else if (!strcasecmp(name, "CUT")) {
		fn_cut(s, args, out, size);
	} else if (!strcasecmp(name, "STRFTIME")) {
		fn_strftime(args, s->chan ? dp_chan_now(s->chan) : dialplan_now(), out, size);
	} else if (!strcasecmp(name, "GLOBAL")) {
		const char *v = dialplan_global(s->dp, dp_trim(args));

		dp_strlcpy(out, v ? v : "", size);
	} else if (!strcasecmp(name, "ISNULL")) {
		dp_strlcpy(out, *args ? "0" : "1", size);
	} else if (!strcasecmp(name, "EXISTS")) {
		dp_strlcpy(out, *args ? "1" : "0", size);
	} else if ((i = func_find(name)) < nfuncs && funcs[i].rd) {
		funcs[i].rd(s->chan, args, out, size);
		out[size - 1] = '\0';
	} else {
		dp_warn("function '%s' is not available: taken as empty", name);
	}
}

int dp_func_write(struct dp_chan *chan, const char *fname, const char *value)
{
	char name[DP_NAME_MAX], *args, *end;

	dp_strlcpy(name, fname, sizeof(name));
	args = strchr(name, '(');
	if (!args)
		return EINVAL;
	*args++ = '\0';
	if ((end = strrchr(args, ')')))
		*end = '\0';
	args = dp_trim(args);
	if (!value)
		value = "";
	if (!strcasecmp(name, "GLOBAL"))
		return dp_global_set(chan->dp, args, value);
	if (!strcasecmp(name, "CALLERID")) {
		if (!strcasecmp(args, "num") || !strcasecmp(args, "number")) {
			dp_strlcpy(chan->cid_num, value, sizeof(chan->cid_num));
		} else if (!strcasecmp(args, "name")) {
			dp_strlcpy(chan->cid_name, value, sizeof(chan->cid_name));
		} else if (!strcasecmp(args, "all")) {
			const char *lt = strchr(value, '<'), *gt = lt ? strchr(lt, '>') : NULL;

			if (lt && gt) {
				char nm[DP_NAME_MAX];
				size_t n = (size_t)(lt - value);

				snprintf(chan->cid_num, sizeof(chan->cid_num), "%.*s",
					 (int)(gt - lt - 1), lt + 1);
				if (n >= sizeof(nm))
					n = sizeof(nm) - 1;
				memcpy(nm, value, n);
				nm[n] = '\0';
				char *t = dp_trim(nm);
				size_t tl = strlen(t);

				if (tl >= 2 && t[0] == '"' && t[tl - 1] == '"') {
					t[tl - 1] = '\0';
					t++;
				}
				dp_strlcpy(chan->cid_name, t, sizeof(chan->cid_name));
			} else {
				dp_strlcpy(chan->cid_num, value, sizeof(chan->cid_num));
			}
		} else {
			dp_warn("Set(CALLERID(%s)): unknown field (num, name, all)", args);
			return EINVAL;
		}
		if (chan->ops->set) {
			chan->ops->set(chan->call, "callerid_num", chan->cid_num);
			chan->ops->set(chan->call, "callerid_name", chan->cid_name);
		}
		return 0;
	}
	if (!strcasecmp(name, "CDR")) {
		char what[DP_NAME_MAX];

		snprintf(what, sizeof(what), "cdr:%.200s", args);
		if (chan->ops->set)
			return chan->ops->set(chan->call, what, value);
		return 0;
	}
	size_t i = func_find(name);

	if (i < nfuncs && funcs[i].wr)
		return funcs[i].wr(chan, args, value);
	dp_warn("function '%s' cannot be written: ignored", name);
	return EINVAL;
}

/* ------------------------------------------------------------------ */
/* Variables                                                           */

static const char *builtin(struct sub *s, const char *name, char *buf, size_t size)
{
	struct dp_chan *c = s->chan;

	if (!c)
		return NULL;
	if (!strcmp(name, "EXTEN"))
		return c->exten;
	if (!strcmp(name, "CONTEXT"))
		return c->context;
	if (!strcmp(name, "PRIORITY")) {
		snprintf(buf, size, "%d", c->prio);
		return buf;
	}
	if (!strcmp(name, "EPOCH")) {
		snprintf(buf, size, "%lld", (long long)dp_chan_now(c));
		return buf;
	}
	if (!strcmp(name, "CHANNEL"))
		return call_get(c, "channel");
	if (!strcmp(name, "UNIQUEID"))
		return call_get(c, "uniqueid");
	if (!strcmp(name, "CALLERID(num)"))
		return c->cid_num;
	return NULL;
}

static void substring(const char *v, int off, int len, char *out, size_t size)
{
	int lr = (int)strlen(v);

	if (off < 0) {
		off += lr;
		if (off < 0)
			off = 0;
	}
	if (off >= lr) {
		out[0] = '\0';
		return;
	}
	if (len < 0) {
		len = lr - off + len;
		if (len < 0)
			len = 0;
	} else if (len > lr - off) {
		len = lr - off;
	}
	if ((size_t)len >= size)
		len = (int)size - 1;
	memcpy(out, v + off, (size_t)len);
	out[len] = '\0';
}

/* One ${...} body (already substituted): variable or function. */
static void expand(struct sub *s, char *var, char *out, size_t size)
{
	char *colon = NULL, *p, buf[64];
	int paren = 0, off = 0, len = INT_MAX;
	const char *v;
	size_t n = strlen(var);

	out[0] = '\0';
	for (p = var; *p; p++) {
		if (*p == '(')
			paren++;
		else if (*p == ')')
			paren--;
		else if (*p == ':' && !paren) {
			colon = p;
			break;
		}
	}
	if (colon) {
		char *c2;

		*colon++ = '\0';
		off = atoi(colon);
		if ((c2 = strchr(colon, ':')))
			len = atoi(c2 + 1);
		n = strlen(var);
	}
	if (n && var[n - 1] == ')' && strchr(var, '(')) {
		char *tmp = malloc(DP_BUF);

		if (!tmp)
			return;
		func_read(s, var, tmp, DP_BUF);
		substring(tmp, off, len, out, size);
		free(tmp);
		return;
	}
	v = builtin(s, var, buf, sizeof(buf));
	if (!v)
		v = s->chan ? dp_chan_var_get(s->chan, var) : dialplan_global(s->dp, var);
	if (v)
		substring(v, off, len, out, size);
}

/* Find the end of ${ or $[ body starting at vars; sets *len, *needsub. */
static const char *body_end(const char *vars, bool brace, size_t *len,
			    bool *needsub)
{
	const char *e = vars;
	int brackets = 1;

	*needsub = false;
	while (brackets && *e) {
		if (e[0] == '$' && (e[1] == '{' || e[1] == '[')) {
			*needsub = true;
			if (!brace && e[1] == '[') {
				brackets++;
				e++;
			} else if (brace && e[1] == '[') {
				e++;
			}
		} else if (brace ? e[0] == '{' : e[0] == '[') {
			brackets++;
		} else if (brace ? e[0] == '}' : e[0] == ']') {
			brackets--;
		}
		e++;
	}
	if (brackets)
		dp_warn("error in extension logic (missing '%c') in '%s%s'", brace ? '}' : ']',
			brace ? "${" : "$[", vars);
	*len = (size_t)(e - vars) - (e > vars ? 1 : 0);
	return e;
}

static void subst(struct sub *s, const char *in, char *out, size_t size)
{
	size_t pos = 0;

	if (!size)
		return;
	out[0] = '\0';
	if (++s->depth > SUBST_DEPTH) {
		dp_warn("substitution nested too deep in '%s'", in);
		s->depth--;
		return;
	}
	while (*in && pos + 1 < size) {
		const char *d = strstr(in, "$"), *end;
		char *body, *val;
		size_t len;
		bool needsub, brace;

		while (d && d[1] != '{' && d[1] != '[')
			d = strchr(d + 1, '$');
		if (!d) {
			put(out, size, &pos, in, strlen(in));
			break;
		}
		put(out, size, &pos, in, (size_t)(d - in));
		brace = d[1] == '{';
		end = body_end(d + 2, brace, &len, &needsub);
		body = malloc(len + 1);
		val = malloc(DP_BUF);
		if (!body || !val) {
			free(body);
			free(val);
			break;
		}
		memcpy(body, d + 2, len);
		body[len] = '\0';
		if (needsub) {
			char *tmp = malloc(DP_BUF);

			if (tmp) {
				subst(s, body, tmp, DP_BUF);
				free(body);
				body = tmp;
			}
		}
		if (brace)
			expand(s, body, val, DP_BUF);
		else
			dp_expr_eval(body, val, DP_BUF);
		put(out, size, &pos, val, strlen(val));
		free(body);
		free(val);
		in = end;
	}
	s->depth--;
}

void dp_subst(struct dp_chan *chan, const struct dialplan *dp, const char *in,
	      char *out, size_t size)
{
	struct sub s = { chan, dp, 0 };

	subst(&s, in ? in : "", out, size);
}

void dp_subst_globals(const struct dialplan *dp, const char *in, char *out,
		      size_t size)
{
	dp_subst(NULL, dp, in, out, size);
}
