/**
 * @file conf.c  Reader for Asterisk's configuration dialect.
 *
 * The reference is Asterisk's main/config.c (config_text_file_load() and
 * process_text_line()). What it keeps from there:
 *
 *  - Comments are stripped before a line is parsed: ';' to the end of the
 *    line, "\;" is a literal ';', ";--" opens a block comment (";---" does
 *    not: it is the usual ";-----" ruler), "--;" closes one, block comments
 *    nest and may span lines but never cross a file boundary.
 *  - An included file starts in the section that was current when it was
 *    included (cfg->current); it may open sections of its own. The file
 *    that holds the #include goes on in its own section afterwards, and
 *    the next #include starts in whatever section was opened last.
 *  - (+) and template lookups compare names without case; inheritance
 *    copies the base's variables (its inherited ones included) in order.
 *  - "a += b" appends to the last option called exactly a (or sets it).
 *
 * Where Asterisk only warns or misbehaves, a config error is refused with
 * "FILE:LINE: what" instead: a line with no '=', options before any
 * section, unknown directives, #exec, #include without a name or that
 * names no file, more than CONF_INCLUDE_DEPTH nested files, include loops,
 * lines over CONF_LINE_MAX, NUL bytes, empty section or template names,
 * text after a section header, block comments nested deeper than
 * CONF_COMMENT_DEPTH, and "--;" outside a block comment is an ordinary
 * comment (Asterisk goes negative and swallows the rest of the file).
 *
 * Memory: sections, variables and strings live in a chunked arena owned
 * by the struct conf; inherited variables share their strings with the
 * base, so 10,000 peers on one template cost one small struct per option.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE              /* GLOB_BRACE, GLOB_NOMAGIC, strsep */
#endif
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/pl.h"

enum {
	CHUNK_SIZE = 64 * 1024,
	FILE_MAX = 64 * 1024 * 1024,     /* biggest file read */
	MEM_MAX = 128 * 1024 * 1024,     /* biggest arena per conf */
	SEC_VARS_MAX = 100000,           /* most options in one section */
	BUCKETS_MIN = 64,
};

/* ---------------------------------------------------------------------
 * Private types
 */

struct chunk {
	struct chunk *next;
	size_t used;
	size_t size;
	size_t pad;                      /* keeps data 16-byte aligned */
	unsigned char data[];
};

struct sec {
	struct conf_section pub;         /* first: a conf_section is a sec */
	struct conf_var *tail;
	size_t nvars;                    /* options in vars, inherited too */
	size_t ntpls, tplcap;
	uint32_t hash;
	struct sec *hnext;               /* hash chain, first of a name only */
	struct sec *same;                /* next section with the same name */
	struct sec *last;                /* first of a name: last of it */
};

struct cpriv {
	struct conf pub;                 /* first: a conf is a cpriv */
	struct chunk *chunks;
	size_t mem;
	bool too_big;
	struct sec *tail;
	struct sec **buckets;
	size_t nbuckets, nnames;
	size_t nfiles;
};

struct frame {
	const char *name;                /* in conf->files */
	dev_t dev;
	ino_t ino;
	bool has_id;
};

struct parser {
	struct cpriv *c;
	const char *confdir;
	char *err;
	size_t errsize;
	struct sec *current;             /* Asterisk's cfg->current */
	struct frame stack[CONF_INCLUDE_DEPTH];
	unsigned depth;
};

/* One file being read. */
struct fctx {
	const char *name;
	unsigned line;
	struct sec *cat;                 /* section lines go to */
	unsigned comment;                /* block comment depth */
	unsigned comment_line;
};

static char *no_tpls[1];

/* ---------------------------------------------------------------------
 * Arena and small helpers
 */

static void *arena_alloc(struct cpriv *c, size_t size, size_t align)
{
	struct chunk *ch = c->chunks;
	size_t off, csize;

	if (ch) {
		off = (ch->used + align - 1) & ~(align - 1);
		if (off <= ch->size && size <= ch->size - off) {
			ch->used = off + size;
			return ch->data + off;
		}
	}
	csize = size > CHUNK_SIZE / 4 ? size : CHUNK_SIZE;
	if (c->mem + csize > MEM_MAX) {
		c->too_big = true;
		return NULL;
	}
	ch = malloc(sizeof(*ch) + csize);
	if (!ch)
		return NULL;
	ch->size = csize;
	ch->used = size;
	c->mem += csize;
	if (csize == size && c->chunks) {
		/* dedicated chunk: keep filling the current one */
		ch->next = c->chunks->next;
		c->chunks->next = ch;
	} else {
		ch->next = c->chunks;
		c->chunks = ch;
	}
	return ch->data;
}

static char *arena_strndup(struct cpriv *c, const char *s, size_t n)
{
	char *d = arena_alloc(c, n + 1, 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
	       ch == '\v' || ch == '\f';
}

char *conf_strip(char *s)
{
	size_t n;

	while (is_ws(*s))
		s++;
	n = strlen(s);
	while (n && is_ws(s[n - 1]))
		s[--n] = '\0';
	return s;
}

static uint32_t name_hash(const char *name)
{
	struct pl pl = pl_of(name, strlen(name));

	return pl_hash(&pl, true);
}

__attribute__((format(printf, 5, 6)))
static int fail(struct parser *p, const char *file, unsigned line, int err,
		const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errsize)
		return err;
	if (line)
		n = snprintf(p->err, p->errsize, "%s:%u: ", file, line);
	else
		n = snprintf(p->err, p->errsize, "%s: ", file);
	if (n < 0 || (size_t)n >= p->errsize)
		return err;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errsize - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

static int oom(struct parser *p, const struct fctx *fc)
{
	if (p->c->too_big)
		return fail(p, fc->name, fc->line, EFBIG,
			    "configuration needs more than %d MiB",
			    MEM_MAX / (1024 * 1024));
	return fail(p, fc->name, fc->line, ENOMEM, "out of memory");
}

/* Record a file name in conf->files (once) and return the stored copy. */
static const char *file_add(struct cpriv *c, const char *name)
{
	char **files;
	char *s;
	size_t i;

	for (i = 0; i < c->nfiles; i++)
		if (!strcmp(c->pub.files[i], name))
			return c->pub.files[i];
	s = arena_strndup(c, name, strlen(name));
	if (!s)
		return NULL;
	files = realloc(c->pub.files, (c->nfiles + 2) * sizeof(*files));
	if (!files)
		return NULL;
	files[c->nfiles++] = s;
	files[c->nfiles] = NULL;
	c->pub.files = files;
	return s;
}

/* ---------------------------------------------------------------------
 * Sections, the name table and variables
 */

/* First section called name (any case), or NULL. */
static struct sec *sec_find(const struct cpriv *c, const char *name)
{
	uint32_t h;
	struct sec *s;

	if (!c->nbuckets)
		return NULL;
	h = name_hash(name);
	for (s = c->buckets[h % c->nbuckets]; s; s = s->hnext)
		if (s->hash == h && !strcasecmp(s->pub.name, name))
			return s;
	return NULL;
}

static int table_grow(struct cpriv *c)
{
	size_t n = c->nbuckets ? c->nbuckets * 2 : BUCKETS_MIN, i;
	struct sec **b = calloc(n, sizeof(*b)), *s, *next;

	if (!b)
		return ENOMEM;
	for (i = 0; i < c->nbuckets; i++) {
		for (s = c->buckets[i]; s; s = next) {
			next = s->hnext;
			s->hnext = b[s->hash % n];
			b[s->hash % n] = s;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
	return 0;
}

static struct sec *sec_new(struct cpriv *c, const char *name,
			   const char *file, unsigned line)
{
	struct sec *s = arena_alloc(c, sizeof(*s), _Alignof(struct sec));

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->pub.name = arena_strndup(c, name, strlen(name));
	if (!s->pub.name)
		return NULL;
	s->pub.file = file;
	s->pub.line = line;
	s->pub.tpls = no_tpls;
	s->hash = name_hash(name);
	return s;
}

/* Append s to the section list and the name table. */
static int sec_link(struct cpriv *c, struct sec *s)
{
	struct sec *first;

	if (c->nnames >= c->nbuckets && table_grow(c))
		return ENOMEM;
	first = sec_find(c, s->pub.name);
	if (first) {
		first->last->same = s;
		first->last = s;
	} else {
		s->last = s;
		s->hnext = c->buckets[s->hash % c->nbuckets];
		c->buckets[s->hash % c->nbuckets] = s;
		c->nnames++;
	}
	if (c->tail)
		c->tail->pub.next = &s->pub;
	else
		c->pub.sections = &s->pub;
	c->tail = s;
	return 0;
}

static int tpl_add(struct cpriv *c, struct sec *s, char *name)
{
	if (s->ntpls + 1 >= s->tplcap) {
		size_t cap = s->tplcap ? s->tplcap * 2 : 4;
		char **t = arena_alloc(c, cap * sizeof(*t), _Alignof(char *));

		if (!t)
			return ENOMEM;
		if (s->ntpls)
			memcpy(t, s->pub.tpls, s->ntpls * sizeof(*t));
		s->pub.tpls = t;
		s->tplcap = cap;
	}
	s->pub.tpls[s->ntpls++] = name;
	s->pub.tpls[s->ntpls] = NULL;
	return 0;
}

static void var_append(struct sec *s, struct conf_var *v)
{
	if (s->tail)
		s->tail->next = v;
	else
		s->pub.vars = v;
	s->tail = v;
	s->nvars++;
}

/*
 * Refuse to grow s past SEC_VARS_MAX options. Templates copy and (+) merges,
 * so a few lines can double a section again and again; without a bound a
 * small file would take minutes (and every lookup in it would crawl).
 */
static int var_room(struct parser *p, const struct fctx *fc,
		    const struct sec *s, size_t more)
{
	if (s->nvars + more <= SEC_VARS_MAX)
		return 0;
	return fail(p, fc->name, fc->line, EFBIG,
		    "section [%s] would have more than %d options",
		    s->pub.name, SEC_VARS_MAX);
}

static int var_add(struct parser *p, const struct fctx *fc, const char *name,
		   const char *value, bool object)
{
	struct cpriv *c = p->c;
	struct conf_var *v;

	if (var_room(p, fc, fc->cat, 1))
		return EFBIG;
	v = arena_alloc(c, sizeof(*v), _Alignof(struct conf_var));
	if (!v)
		return oom(p, fc);
	memset(v, 0, sizeof(*v));
	v->name = arena_strndup(c, name, strlen(name));
	v->value = arena_strndup(c, value, strlen(value));
	if (!v->name || !v->value)
		return oom(p, fc);
	v->object = object;
	v->file = fc->name;
	v->line = fc->line;
	var_append(fc->cat, v);
	return 0;
}

/* Copy base's variables (up to its current end) into dst as inherited. */
static int inherit(struct parser *p, const struct fctx *fc, struct sec *dst,
		   struct sec *base)
{
	const struct conf_var *v, *end = base->tail;
	struct conf_var *nv;

	if (var_room(p, fc, dst, base->nvars))
		return EFBIG;
	if (tpl_add(p->c, dst, base->pub.name))
		return oom(p, fc);
	for (v = base->pub.vars; v; v = v->next) {
		nv = arena_alloc(p->c, sizeof(*nv), _Alignof(struct conf_var));
		if (!nv)
			return oom(p, fc);
		*nv = *v;
		nv->inherited = true;
		nv->next = NULL;
		var_append(dst, nv);
		if (v == end)
			break;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Lines
 */

/*
 * Copy the text of one line that lies outside comments to out (which holds
 * len + 1 bytes), following Asterisk's scan: start is its new_buf, the
 * point after the last ';' dealt with, which "\;" and "--;" look back to.
 */
static int uncomment(struct parser *p, struct fctx *fc, const char *in,
		     size_t len, char *out)
{
	size_t i, o = 0, start = 0;

	for (i = 0; i < len; i++) {
		if (in[i] != ';') {
			if (!fc->comment)
				out[o++] = in[i];
			continue;
		}
		if (i > start && in[i - 1] == '\\') {
			if (!fc->comment)
				out[o - 1] = ';';
			start = i + 1;
		} else if (i + 2 < len && in[i + 1] == '-' && in[i + 2] == '-' &&
			   (i + 3 == len || in[i + 3] != '-')) {
			if (fc->comment == CONF_COMMENT_DEPTH)
				return fail(p, fc->name, fc->line, EINVAL,
					    "block comments nested deeper than %d",
					    CONF_COMMENT_DEPTH);
			if (!fc->comment++)
				fc->comment_line = fc->line;
			start = i + 3;
			i += 2;
		} else if (fc->comment && i >= start + 2 && in[i - 1] == '-' &&
			   in[i - 2] == '-') {
			fc->comment--;
			start = i + 1;
		} else if (fc->comment) {
			start = i + 1;
		} else {
			break;
		}
	}
	out[o] = '\0';
	return 0;
}

/* One entry of "[name](...)": "!", "+" or a template name. */
static int sec_option(struct parser *p, struct fctx *fc, const char *name,
		      char *tok, struct sec **newp, struct sec **dstp)
{
	struct sec *found;

	if (!strcmp(tok, "!")) {
		(*dstp)->pub.is_template = true;
		return 0;
	}
	if (!*tok)
		return fail(p, fc->name, fc->line, EINVAL, "empty template name");
	if (tok[0] != '+') {
		found = sec_find(p->c, tok);
		if (!found)
			return fail(p, fc->name, fc->line, EINVAL,
				    "template '%s' is not defined before this line",
				    tok);
		return inherit(p, fc, *dstp, found);
	}
	if (tok[1])
		return fail(p, fc->name, fc->line, EINVAL,
			    "section filter '(%s)' is not supported", tok);
	found = sec_find(p->c, name);
	if (!found)
		return fail(p, fc->name, fc->line, EINVAL,
			    "(+) but no section [%s] before this line", name);
	found = found->last;
	if (*newp) {
		struct sec *n = *newp;
		size_t i;

		found->pub.is_template |= n->pub.is_template;
		if (n->pub.vars) {
			if (var_room(p, fc, found, n->nvars))
				return EFBIG;
			var_append(found, n->pub.vars);
			found->tail = n->tail;
			found->nvars += n->nvars - 1;
		}
		for (i = 0; i < n->ntpls; i++)
			if (tpl_add(p->c, found, n->pub.tpls[i]))
				return oom(p, fc);
		*newp = NULL;
	}
	*dstp = found;
	return 0;
}

/* "[name]", "[name](!)", "[name](+)", "[name](tpl1,tpl2)" and mixes. */
static int parse_section(struct parser *p, struct fctx *fc, char *s)
{
	char *rb = strchr(s, ']'), *name, *opts = NULL, *rest, *rp;
	struct sec *newsec, *dst;
	int err;

	if (!rb)
		return fail(p, fc->name, fc->line, EINVAL, "no closing ']'");
	*rb = '\0';
	name = conf_strip(s + 1);
	if (!*name)
		return fail(p, fc->name, fc->line, EINVAL, "empty section name");
	rest = rb + 1;
	while (is_ws(*rest))
		rest++;
	if (*rest == '(') {
		rp = strchr(rest, ')');
		if (!rp)
			return fail(p, fc->name, fc->line, EINVAL, "no closing ')'");
		*rp = '\0';
		opts = rest + 1;
		rest = conf_strip(rp + 1);
	}
	if (*rest)
		return fail(p, fc->name, fc->line, EINVAL,
			    "unexpected '%s' after section header", rest);

	newsec = dst = sec_new(p->c, name, fc->name, fc->line);
	if (!newsec)
		return oom(p, fc);
	while (opts) {
		err = sec_option(p, fc, name, conf_strip(strsep(&opts, ",")),
				 &newsec, &dst);
		if (err)
			return err;
	}
	if (newsec && sec_link(p->c, newsec))
		return oom(p, fc);
	fc->cat = p->current = dst;
	return 0;
}

/* "name += more": append to the last option called exactly name. */
static int append_value(struct parser *p, struct fctx *fc, const char *name,
			char *more)
{
	struct conf_var *v, *last = NULL;
	size_t lo, lm;
	char *val;

	for (v = fc->cat->pub.vars; v; v = v->next)
		if (!strcmp(v->name, name))
			last = v;
	if (!last)
		return var_add(p, fc, name, conf_strip(more), false);
	lo = strlen(last->value);
	lm = strlen(more);
	if (lo + lm > CONF_LINE_MAX)
		return fail(p, fc->name, fc->line, EINVAL,
			    "value of '%s' longer than %d bytes", name,
			    CONF_LINE_MAX);
	val = arena_alloc(p->c, lo + lm + 1, 1);
	if (!val)
		return oom(p, fc);
	memcpy(val, last->value, lo);
	memcpy(val + lo, more, lm + 1);
	last->value = conf_strip(val);
	last->inherited = false;
	return 0;
}

/* "name = value", "name => value", "name += value", "\[name = value". */
static int parse_option(struct parser *p, struct fctx *fc, char *s)
{
	bool esc = s[0] == '\\', object = false;
	char *eq, *name, *value;

	if (!fc->cat)
		return fail(p, fc->name, fc->line, EINVAL,
			    "option before any [section]");
	if (esc && (unsigned char)*++s < 33)
		return fail(p, fc->name, fc->line, EINVAL,
			    "nothing escaped by '\\'");
	eq = strchr(s + esc, '=');
	if (!eq)
		return fail(p, fc->name, fc->line, EINVAL, "no '=' in line");
	value = eq + 1;
	if (eq > s + esc && eq[-1] == '+') {
		eq[-1] = '\0';
		name = conf_strip(s);
		if (!*name)
			return fail(p, fc->name, fc->line, EINVAL,
				    "no name before '+='");
		return append_value(p, fc, name, value);
	}
	*eq = '\0';
	if (*value == '>') {
		object = true;
		value++;
	}
	name = conf_strip(s);
	if (!*name)
		return fail(p, fc->name, fc->line, EINVAL, "no name before '='");
	return var_add(p, fc, name, conf_strip(value), object);
}

/* ---------------------------------------------------------------------
 * Files and includes
 */

static int parse_text(struct parser *p, const struct frame *fr,
		      const char *buf, size_t len);

/* Open path if it is a regular file; *fdp stays -1 when it is not. */
static int open_regular(const char *path, int *fdp, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	*fdp = -1;
	if (fd < 0)
		return errno;
	if (fstat(fd, st)) {
		int err = errno;

		close(fd);
		return err;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return 0;
	}
	*fdp = fd;
	return 0;
}

static int slurp(int fd, const struct stat *st, char **bufp, size_t *lenp)
{
	size_t size = (size_t)st->st_size, got = 0;
	char *buf;
	ssize_t n;

	if (st->st_size > FILE_MAX)
		return EFBIG;
	buf = malloc(size + 1);
	if (!buf)
		return ENOMEM;
	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			free(buf);
			return err;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*bufp = buf;
	*lenp = got;
	return 0;
}

/* "a -> b -> c" for the files open now, then last. */
static void chain(const struct parser *p, const char *last, char *out,
		  size_t size)
{
	size_t o = 0;
	unsigned i;
	int n;

	out[0] = '\0';
	for (i = 0; i < p->depth && o < size; i++) {
		n = snprintf(out + o, size - o, "%s -> ", p->stack[i].name);
		if (n < 0)
			return;
		o += (size_t)n;
	}
	if (o < size)
		snprintf(out + o, size - o, "%s", last);
}

/* Read one file found by an #include. *found is set when it was read. */
static int include_file(struct parser *p, struct fctx *fc, const char *path,
			const char *name, bool *found)
{
	char loop[512], *buf = NULL;
	struct frame *fr;
	struct stat st;
	size_t len = 0;
	unsigned i;
	int fd, err;

	err = open_regular(path, &fd, &st);
	if (err == ENOENT)
		return 0;
	if (err)
		return fail(p, fc->name, fc->line, EINVAL, "cannot read '%s': %s",
			    name, strerror(err));
	if (fd < 0) {
		log_warn("%s:%u: '%s' is not a regular file, ignored", fc->name,
			 fc->line, name);
		return 0;
	}
	*found = true;
	for (i = 0; i < p->depth; i++) {
		if (p->stack[i].has_id && p->stack[i].dev == st.st_dev &&
		    p->stack[i].ino == st.st_ino) {
			close(fd);
			chain(p, name, loop, sizeof(loop));
			return fail(p, fc->name, fc->line, EINVAL,
				    "#include loop: %s", loop);
		}
	}
	if (p->depth == CONF_INCLUDE_DEPTH) {
		close(fd);
		chain(p, name, loop, sizeof(loop));
		return fail(p, fc->name, fc->line, EINVAL,
			    "#include nested deeper than %d files: %s",
			    CONF_INCLUDE_DEPTH, loop);
	}
	err = slurp(fd, &st, &buf, &len);
	close(fd);
	if (err)
		return fail(p, fc->name, fc->line, err == ENOMEM ? ENOMEM : EINVAL,
			    "cannot read '%s': %s", name, strerror(err));
	fr = &p->stack[p->depth];
	fr->name = file_add(p->c, name);
	fr->dev = st.st_dev;
	fr->ino = st.st_ino;
	fr->has_id = true;
	if (!fr->name) {
		free(buf);
		return oom(p, fc);
	}
	p->depth++;
	err = parse_text(p, fr, buf, len);
	p->depth--;
	free(buf);
	return err;
}

/* confdir + "/" with glob(3)'s special characters escaped. */
static char *glob_escape(const char *dir, const char *arg)
{
	size_t n = strlen(dir), i, o = 0;
	char *s = malloc(2 * n + strlen(arg) + 2);

	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strchr("\\*?[]{}", dir[i]))
			s[o++] = '\\';
		s[o++] = dir[i];
	}
	s[o++] = '/';
	strcpy(s + o, arg);
	return s;
}

static int do_include(struct parser *p, struct fctx *fc, const char *arg,
		      bool try)
{
	size_t plen = p->confdir ? strlen(p->confdir) : 0, i;
	bool abs = arg[0] == '/', found = false;
	char *pattern;
	glob_t g;
	int rc, err = 0;

	if (!p->confdir)
		return fail(p, fc->name, fc->line, EINVAL,
			    "#include is not allowed here (no configuration directory)");
	pattern = abs ? strdup(arg) : glob_escape(p->confdir, arg);
	if (!pattern)
		return oom(p, fc);
	memset(&g, 0, sizeof(g));
	rc = glob(pattern, GLOB_BRACE | GLOB_NOMAGIC, NULL, &g);
	free(pattern);
	if (rc == GLOB_NOSPACE)
		err = oom(p, fc);
	else if (rc == GLOB_ABORTED)
		err = fail(p, fc->name, fc->line, EINVAL, "cannot read '%s'", arg);
	for (i = 0; rc == 0 && i < g.gl_pathc && !err; i++) {
		const char *path = g.gl_pathv[i], *name = path;

		if (!abs && !strncmp(path, p->confdir, plen) && path[plen] == '/')
			name = path + plen + 1;
		err = include_file(p, fc, path, name, &found);
	}
	globfree(&g);
	if (!err && !found && !try)
		err = fail(p, fc->name, fc->line, EINVAL,
			   "#include \"%s\": no such file", arg);
	return err;
}

/* "#include file", "#include \"file\"", "#tryinclude <file>", "#exec". */
static int parse_directive(struct parser *p, struct fctx *fc, char *s)
{
	char *word = s + 1, *arg = word;
	size_t n;
	bool try;

	while (*arg && !is_ws(*arg))
		arg++;
	if (*arg)
		*arg++ = '\0';
	arg = conf_strip(arg);
	if (!strcasecmp(word, "include"))
		try = false;
	else if (!strcasecmp(word, "tryinclude"))
		try = true;
	else if (!strcasecmp(word, "exec"))
		return fail(p, fc->name, fc->line, EINVAL,
			    "#exec is not supported");
	else
		return fail(p, fc->name, fc->line, EINVAL,
			    "unknown directive '#%s'", word);
	n = strlen(arg);
	if (n >= 2 && ((arg[0] == '"' && arg[n - 1] == '"') ||
		       (arg[0] == '<' && arg[n - 1] == '>'))) {
		arg[n - 1] = '\0';
		arg = conf_strip(arg + 1);
	}
	if (!*arg)
		return fail(p, fc->name, fc->line, EINVAL,
			    "#%s needs a file name", word);
	return do_include(p, fc, arg, try);
}

static int parse_text(struct parser *p, const struct frame *fr,
		      const char *buf, size_t len)
{
	struct fctx fc = { .name = fr->name, .cat = p->current };
	size_t pos = 0, n;
	const char *ln, *nl;
	char *work, *s;
	int err = 0;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		pos = 3;                 /* UTF-8 byte order mark */
	work = malloc((len < CONF_LINE_MAX ? len : CONF_LINE_MAX) + 1);
	if (!work)
		return oom(p, &fc);
	while (pos < len) {
		ln = buf + pos;
		nl = memchr(ln, '\n', len - pos);
		n = nl ? (size_t)(nl - ln) : len - pos;
		pos += n + (nl != NULL);
		fc.line++;
		if (n > CONF_LINE_MAX) {
			err = fail(p, fc.name, fc.line, EINVAL,
				   "line longer than %d bytes", CONF_LINE_MAX);
			goto out;
		}
		if (memchr(ln, '\0', n)) {
			err = fail(p, fc.name, fc.line, EINVAL, "NUL byte in line");
			goto out;
		}
		err = uncomment(p, &fc, ln, n, work);
		if (err)
			goto out;
		s = conf_strip(work);
		if (*s == '[')
			err = parse_section(p, &fc, s);
		else if (*s == '#')
			err = parse_directive(p, &fc, s);
		else if (*s)
			err = parse_option(p, &fc, s);
		if (err)
			goto out;
	}
	if (fc.comment)   /* Asterisk only warns and drops the rest: we refuse */
		err = fail(p, fc.name, fc.comment_line, EINVAL,
			   "block comment ';--' is never closed (the rest of the file "
			   "would be ignored)");
out:
	free(work);
	return err;
}

/* ---------------------------------------------------------------------
 * API
 */

static int conf_run(struct conf **confp, const char *confdir, const char *name,
		    const char *buf, size_t len, const struct stat *st,
		    char *err, size_t errsize)
{
	struct parser p = { .confdir = confdir, .err = err, .errsize = errsize };
	struct frame *fr = &p.stack[0];
	int rc;

	if (err && errsize)
		err[0] = '\0';
	p.c = calloc(1, sizeof(*p.c));
	if (!p.c)
		return fail(&p, name, 0, ENOMEM, "out of memory");
	fr->name = file_add(p.c, name);
	if (!fr->name) {
		conf_free(&p.c->pub);
		return fail(&p, name, 0, ENOMEM, "out of memory");
	}
	if (st) {
		fr->dev = st->st_dev;
		fr->ino = st->st_ino;
		fr->has_id = true;
	}
	p.depth = 1;
	rc = parse_text(&p, fr, buf, len);
	if (rc) {
		conf_free(&p.c->pub);
		return rc;
	}
	*confp = &p.c->pub;
	return 0;
}

int conf_parse_buf(struct conf **confp, const char *confdir, const char *name,
		   const char *buf, size_t len, char *err, size_t errsize)
{
	if (!confp || (!buf && len))
		return EINVAL;
	return conf_run(confp, confdir, name ? name : "-", buf, len, NULL, err,
			errsize);
}

int conf_load(struct conf **confp, const char *confdir, const char *filename,
	      char *err, size_t errsize)
{
	struct parser p = { .err = err, .errsize = errsize };
	char *path, *buf = NULL;
	struct stat st;
	size_t len = 0;
	int fd, rc;

	if (!confp || !filename)
		return EINVAL;
	if (filename[0] == '/' || !confdir) {
		path = strdup(filename);
	} else {
		path = malloc(strlen(confdir) + strlen(filename) + 2);
		if (path)
			sprintf(path, "%s/%s", confdir, filename);
	}
	if (!path)
		return fail(&p, filename, 0, ENOMEM, "out of memory");
	rc = open_regular(path, &fd, &st);
	free(path);
	if (rc)
		return fail(&p, filename, 0, rc, "%s", strerror(rc));
	if (fd < 0)
		return fail(&p, filename, 0, EINVAL, "not a regular file");
	rc = slurp(fd, &st, &buf, &len);
	close(fd);
	if (rc)
		return fail(&p, filename, 0, rc, "%s", strerror(rc));
	rc = conf_run(confp, confdir, filename, buf, len, &st, err, errsize);
	free(buf);
	return rc;
}

void conf_free(struct conf *conf)
{
	struct cpriv *c = (struct cpriv *)conf;
	struct chunk *ch, *next;

	if (!c)
		return;
	for (ch = c->chunks; ch; ch = next) {
		next = ch->next;
		free(ch);
	}
	free(c->buckets);
	free(c->pub.files);
	free(c);
}

const struct conf_section *conf_section(const struct conf *conf, const char *name)
{
	const struct sec *s;

	if (!conf || !name)
		return NULL;
	for (s = sec_find((const struct cpriv *)conf, name); s; s = s->same)
		if (!s->pub.is_template && !strcmp(s->pub.name, name))
			return &s->pub;
	return NULL;
}

const struct conf_var *conf_var(const struct conf_section *sec, const char *name)
{
	const struct conf_var *v, *last = NULL;

	if (!sec || !name)
		return NULL;
	for (v = sec->vars; v; v = v->next)
		if (!strcasecmp(v->name, name))
			last = v;
	return last;
}

const char *conf_get(const struct conf_section *sec, const char *name)
{
	const struct conf_var *v = conf_var(sec, name);

	return v ? v->value : NULL;
}

int conf_bool(const char *value, bool *out)
{
	static const char *const yes[] = { "yes", "true", "y", "t", "1", "on" };
	static const char *const no[] = { "no", "false", "n", "f", "0", "off" };
	size_t i;

	if (!value || !out)
		return EINVAL;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(value, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(value, no[i])) {
			*out = false;
			return 0;
		}
	}
	return EINVAL;
}
