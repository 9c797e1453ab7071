/** @file test_conf.c  The Asterisk-dialect config reader (src/core/conf.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/conf.h"
#include "core/log.h"
#include "suites.h"

#define DATA   TANDEM_SOURCE_DIR "/tests/data/conf"
#define SEED   TANDEM_SHARED_DIR "/reference-config/seed"
#define CORPUS TANDEM_SOURCE_DIR "/tests/fuzz/corpus/conf"

static char err[512];

/* Parse text as "t.conf" without includes; must succeed. */
static struct conf *parse(const char *text)
{
	struct conf *conf = NULL;
	int rc = conf_parse_buf(&conf, NULL, "t.conf", text, strlen(text), err,
				sizeof(err));

	if (rc)
		fail_msg("unexpected error %d: %s", rc, err);
	assert_non_null(conf);
	return conf;
}

/* Parse text that must fail with EINVAL and exactly msg. */
static void parse_err(const char *confdir, const char *text, size_t len,
		      const char *msg)
{
	struct conf *conf = NULL;
	int rc = conf_parse_buf(&conf, confdir, "t.conf", text, len, err,
				sizeof(err));

	assert_int_equal(rc, EINVAL);
	assert_null(conf);
	assert_string_equal(err, msg);
}

#define PARSE_ERR(text, msg) parse_err(NULL, text, sizeof(text) - 1, msg)

static size_t nvars(const struct conf_section *sec)
{
	const struct conf_var *v;
	size_t n = 0;

	for (v = sec->vars; v; v = v->next)
		n++;
	return n;
}

static size_t nsections(const struct conf *conf)
{
	const struct conf_section *s;
	size_t n = 0;

	for (s = conf->sections; s; s = s->next)
		n++;
	return n;
}

/* The section at position idx in file order. */
static const struct conf_section *nth(const struct conf *conf, size_t idx)
{
	const struct conf_section *s = conf->sections;

	while (s && idx--)
		s = s->next;
	assert_non_null(s);
	return s;
}

/* Values of sec's options called name, in order, joined with '|'. */
static const char *all(const struct conf_section *sec, const char *name)
{
	static char buf[1024];
	const struct conf_var *v;
	size_t o = 0;

	buf[0] = '\0';
	for (v = sec->vars; v; v = v->next)
		if (!strcmp(v->name, name))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
					      o ? "|" : "", v->value);
	return buf;
}

static bool listed(const struct conf *conf, const char *file)
{
	char **f;

	for (f = conf->files; *f; f++)
		if (*f == file)
			return true;
	return false;
}

/* ---------------------------------------------------------------------
 * Syntax
 */

static void t_basic(void **state)
{
	struct conf *conf = parse("[general]\n"
				  "  bindport   =  5060  \n"
				  "\n"
				  "   \t \n"
				  "context=default\n"
				  "exten => 100,1,Dial(SIP/100)\n"
				  "empty=\n"
				  "url=sip:a@b;transport=tcp\n"
				  "[second]\n"
				  "x=a=b\n");
	const struct conf_section *g, *s;
	const struct conf_var *v;

	(void)state;
	assert_int_equal(nsections(conf), 2);
	g = conf_section(conf, "general");
	assert_non_null(g);
	assert_ptr_equal(g, conf->sections);
	assert_string_equal(g->name, "general");
	assert_string_equal(g->file, "t.conf");
	assert_int_equal(g->line, 1);
	assert_false(g->is_template);
	assert_non_null(g->tpls);
	assert_null(g->tpls[0]);
	assert_int_equal(nvars(g), 5);

	v = g->vars;
	assert_string_equal(v->name, "bindport");
	assert_string_equal(v->value, "5060");
	assert_false(v->object);
	assert_false(v->inherited);
	assert_int_equal(v->line, 2);
	assert_ptr_equal(v->file, conf->files[0]);
	assert_string_equal(conf->files[0], "t.conf");
	assert_null(conf->files[1]);

	v = conf_var(g, "exten");
	assert_non_null(v);
	assert_true(v->object);
	assert_string_equal(v->value, "100,1,Dial(SIP/100)");
	assert_int_equal(v->line, 6);
	assert_string_equal(conf_get(g, "empty"), "");
	assert_string_equal(conf_get(g, "url"), "sip:a@b");   /* ';' comment */

	s = conf_section(conf, "second");
	assert_string_equal(conf_get(s, "x"), "a=b");
	assert_int_equal(s->line, 9);
	conf_free(conf);
}

static void t_empty(void **state)
{
	struct conf *conf = NULL;

	(void)state;
	assert_int_equal(conf_parse_buf(&conf, NULL, "e.conf", NULL, 0, err,
					sizeof(err)), 0);
	assert_null(conf->sections);
	assert_string_equal(conf->files[0], "e.conf");
	conf_free(conf);
	conf = parse("; only a comment\n\n;-- and a\nblock --;\n   \n");
	assert_null(conf->sections);
	conf_free(conf);
	conf_free(NULL);
}

static void t_comments(void **state)
{
	struct conf *conf = parse(
		"[c]\n"
		"a=1 ; trailing comment\n"
		"b=x\\;y\\;z ; escaped semicolons\n"
		";-----------------------  a ruler is a plain comment\n"
		"c=3\n"
		";-- a block comment\n"
		"hidden=1\n"
		"   ;-- nested --;\n"
		"hidden=2\n"
		"--;\n"
		"d=4\n"
		"e=1;-- inline --;2\n"
		"f=;-- starts here\n"
		"still hidden --; j = 6\n"
		"g=7--; not a block end outside a block\n"
		";--;\n"
		"hidden=3\n"
		"--;h=8\n"
		"i=\\;--not a block\n");
	const struct conf_section *c = conf_section(conf, "c");

	(void)state;
	assert_string_equal(conf_get(c, "a"), "1");
	assert_string_equal(conf_get(c, "b"), "x;y;z");
	assert_string_equal(conf_get(c, "c"), "3");
	assert_null(conf_get(c, "hidden"));
	assert_string_equal(conf_get(c, "d"), "4");
	assert_string_equal(conf_get(c, "e"), "12");
	assert_string_equal(conf_get(c, "f"), "");
	assert_int_equal(conf_var(c, "f")->line, 13);
	assert_string_equal(conf_get(c, "g"), "7--");
	assert_string_equal(conf_get(c, "h"), "8");
	assert_int_equal(conf_var(c, "h")->line, 18);
	assert_string_equal(conf_get(c, "i"), ";--not a block");
	/* the text after a block that ends on a later line is parsed */
	assert_string_equal(conf_get(c, "j"), "6");
	assert_int_equal(conf_var(c, "j")->line, 14);
	assert_int_equal(nvars(c), 10);
	conf_free(conf);
}

static void t_comment_unterminated(void **state)
{
	(void)state;
	PARSE_ERR("[c]\na=1\n;-- never closed\nb=2\n",
		  "t.conf:3: block comment ';--' is never closed (the rest of the file "
		  "would be ignored)");
}

static void t_crlf(void **state)
{
	struct conf *conf = parse("[a]\r\nx = 1\r\n; c\r\ny=>2 ; c\r\n\r\n[b]\r\nz=3");
	const struct conf_section *a = conf_section(conf, "a");

	(void)state;
	assert_string_equal(conf_get(a, "x"), "1");
	assert_string_equal(conf_get(a, "y"), "2");
	assert_true(conf_var(a, "y")->object);
	assert_string_equal(conf_get(conf_section(conf, "b"), "z"), "3");
	assert_int_equal(conf_section(conf, "b")->line, 6);
	conf_free(conf);

	/* a byte order mark is skipped */
	conf = parse("\xef\xbb\xbf[bom]\nx=1\n");
	assert_non_null(conf_section(conf, "bom"));
	conf_free(conf);
}

static void t_escape(void **state)
{
	struct conf *conf = parse("[e]\n\\[x]=1\n\\#y = 2\n\\=z=3\n\\\\=4\n");
	const struct conf_section *e = conf->sections;

	(void)state;
	assert_string_equal(conf_get(e, "[x]"), "1");
	assert_string_equal(conf_get(e, "#y"), "2");
	assert_string_equal(conf_get(e, "=z"), "3");
	assert_string_equal(conf_get(e, "\\"), "4");
	conf_free(conf);
}

static void t_plus_equals(void **state)
{
	struct conf *conf = parse("[t](!)\nallow=ulaw\n"
				  "[p](t)\n"
				  "allow += ,alaw\n"
				  "allow+=,g722\n"
				  "new += fresh \n"
				  "Allow+=x\n");
	const struct conf_section *p = conf_section(conf, "p");
	const struct conf_var *v = p->vars;

	(void)state;
	/* Asterisk joins the raw text after "+=" and trims the ends */
	assert_string_equal(v->value, "ulaw ,alaw,g722");
	assert_false(v->inherited);
	assert_int_equal(v->line, 2);
	assert_string_equal(conf_get(nth(conf, 0), "allow"), "ulaw");
	assert_string_equal(all(p, "new"), "fresh");
	assert_string_equal(all(p, "Allow"), "x");   /* exact name only */
	assert_int_equal(nvars(p), 3);
	conf_free(conf);
}

/* ---------------------------------------------------------------------
 * Sections: templates, inheritance, (+)
 */

static void t_templates(void **state)
{
	struct conf *conf = parse(
		"[base](!)\n"
		"type=friend\n"
		"secret=one\n"
		"[codecs](!)\n"
		"disallow=all\n"
		"allow=alaw\n"
		"[plain]\n"
		"host=dynamic\n"
		"[peer](base,codecs, plain )\n"
		"secret=two\n"
		"[tpl2](!,base)\n"
		"context=c2\n"
		"[peer2](tpl2)\n"
		"[ Spaced ]   (!)\n"
		"x=1\n");
	const struct conf_section *peer, *peer2, *base;
	const struct conf_var *v;

	(void)state;
	assert_int_equal(nsections(conf), 7);
	assert_null(conf_section(conf, "base"));        /* templates are hidden */
	base = nth(conf, 0);
	assert_true(base->is_template);
	assert_string_equal(base->name, "base");

	peer = conf_section(conf, "peer");
	assert_non_null(peer);
	assert_false(peer->is_template);
	assert_string_equal(peer->tpls[0], "base");
	assert_string_equal(peer->tpls[1], "codecs");
	assert_string_equal(peer->tpls[2], "plain");
	assert_null(peer->tpls[3]);
	assert_int_equal(nvars(peer), 6);
	v = peer->vars;
	assert_string_equal(v->name, "type");
	assert_true(v->inherited);
	assert_int_equal(v->line, 2);                   /* where it was written */
	v = v->next->next->next->next->next;
	assert_string_equal(v->name, "secret");
	assert_false(v->inherited);
	assert_string_equal(conf_get(peer, "secret"), "two");
	assert_string_equal(conf_get(peer, "SECRET"), "two");
	assert_true(conf_var(peer, "allow")->inherited);
	assert_string_equal(conf_get(peer, "host"), "dynamic");

	peer2 = conf_section(conf, "peer2");
	assert_true(nth(conf, 4)->is_template);
	assert_string_equal(nth(conf, 4)->tpls[0], "base");
	assert_string_equal(peer2->tpls[0], "tpl2");
	assert_null(peer2->tpls[1]);
	assert_string_equal(conf_get(peer2, "secret"), "one");
	assert_string_equal(conf_get(peer2, "context"), "c2");
	assert_true(conf_var(peer2, "context")->inherited);

	assert_string_equal(nth(conf, 6)->name, "Spaced");
	assert_true(nth(conf, 6)->is_template);
	conf_free(conf);
}

static void t_template_lookup(void **state)
{
	/* Like Asterisk: any case, and the first section of that name. */
	struct conf *conf = parse("[T](!)\nv=first\n[t](!)\nv=second\n"
				  "[p](t)\n[q](T)\n");

	(void)state;
	assert_string_equal(conf_get(conf_section(conf, "p"), "v"), "first");
	assert_string_equal(conf_section(conf, "p")->tpls[0], "T");
	assert_string_equal(conf_get(conf_section(conf, "q"), "v"), "first");
	conf_free(conf);
}

static void t_section_append(void **state)
{
	struct conf *conf = parse(
		"[a]\nx=1\n"
		"[b]\ny=1\n"
		"[a]\nx=2\n"             /* a second [a] */
		"[t](!)\nt=1\n"
		"[a](+)\nz=3\n"          /* goes to the most recent [a] */
		"[b](t,+)\n"             /* inherit, then append: vars move */
		"[t](+)\nu=2\n"          /* a template can be extended */
		"[c](t)\n"
		"[A](+)\nw=4\n");        /* names compare without case */
	const struct conf_section *a1 = nth(conf, 0), *a2 = nth(conf, 2);
	const struct conf_section *b = nth(conf, 1);

	(void)state;
	assert_int_equal(nsections(conf), 5);
	assert_ptr_equal(conf_section(conf, "a"), a1);
	assert_string_equal(all(a1, "x"), "1");
	assert_null(conf_get(a1, "z"));
	assert_string_equal(all(a2, "x"), "2");
	assert_string_equal(conf_get(a2, "z"), "3");
	assert_string_equal(conf_get(a2, "w"), "4");
	assert_int_equal(conf_var(a2, "z")->line, 10);
	assert_string_equal(conf_get(b, "t"), "1");
	assert_true(conf_var(b, "t")->inherited);
	assert_string_equal(b->tpls[0], "t");
	assert_string_equal(conf_get(conf_section(conf, "c"), "u"), "2");
	conf_free(conf);

	/* (!) with (+) turns the appended section into a template */
	conf = parse("[a]\nx=1\n[a](!,+)\ny=2\n");
	assert_int_equal(nsections(conf), 1);
	assert_true(conf->sections->is_template);
	assert_null(conf_section(conf, "a"));
	conf_free(conf);

	/* a section may inherit from itself once: no endless copy */
	conf = parse("[a]\nx=1\n[a](+,a)\n");
	assert_string_equal(all(conf->sections, "x"), "1|1");
	conf_free(conf);
}

static void t_lookup(void **state)
{
	struct conf *conf = parse("[peer](!)\nk=tpl\n[Peer]\nk=upper\n"
				  "[peer]\nk=1\nK=2\n[peer]\nk=3\n");
	const struct conf_section *s;

	(void)state;
	s = conf_section(conf, "peer");
	assert_ptr_equal(s, nth(conf, 2));              /* first non-template */
	assert_string_equal(conf_get(s, "k"), "2");     /* last, any case */
	assert_string_equal(conf_var(s, "k")->name, "K");
	assert_string_equal(conf_get(conf_section(conf, "Peer"), "k"), "upper");
	assert_null(conf_section(conf, "PEER"));
	assert_null(conf_section(conf, "nope"));
	assert_null(conf_section(NULL, "peer"));
	assert_null(conf_section(conf, NULL));
	assert_null(conf_get(s, "nope"));
	assert_null(conf_get(NULL, "k"));
	assert_null(conf_var(s, NULL));
	conf_free(conf);
}

static void t_bool(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "True", "y",
					   "t", "1", "on", "On" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "n",
					  "f", "0", "off", "OFF" };
	static const char *const bad[] = { "", "2", "yes ", "ye", "nope",
					   "enabled", "-1" };
	size_t i;
	bool b;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		b = false;
		assert_int_equal(conf_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (i = 0; i < sizeof(no) / sizeof(*no); i++) {
		b = true;
		assert_int_equal(conf_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		b = true;
		assert_int_equal(conf_bool(bad[i], &b), EINVAL);
		assert_true(b);                         /* untouched */
	}
	assert_int_equal(conf_bool(NULL, &b), EINVAL);
}

/* ---------------------------------------------------------------------
 * Errors
 */

static void t_errors(void **state)
{
	(void)state;
	PARSE_ERR("x=1\n", "t.conf:1: option before any [section]");
	PARSE_ERR("; c\n\n  x => 1\n", "t.conf:3: option before any [section]");
	PARSE_ERR("[a]\nx=1\nno equals here\n", "t.conf:3: no '=' in line");
	PARSE_ERR("[a]\nx=1\nsemi \\; only ; x=1\n", "t.conf:3: no '=' in line");
	PARSE_ERR("[a]\n= 1\n", "t.conf:2: no name before '='");
	PARSE_ERR("[a]\n  => 1\n", "t.conf:2: no name before '='");
	PARSE_ERR("[a]\n+=1\n", "t.conf:2: no name before '+='");
	PARSE_ERR("[a]\n\\ =1\n", "t.conf:2: nothing escaped by '\\'");
	PARSE_ERR("[a]\n\\\n", "t.conf:2: nothing escaped by '\\'");
	PARSE_ERR("[a\nx=1\n", "t.conf:1: no closing ']'");
	PARSE_ERR("[a]\n[b(!)\n", "t.conf:2: no closing ']'");
	PARSE_ERR("[a](!\n", "t.conf:1: no closing ')'");
	PARSE_ERR("[]\n", "t.conf:1: empty section name");
	PARSE_ERR("[  ](!)\n", "t.conf:1: empty section name");
	PARSE_ERR("[a] b\n", "t.conf:1: unexpected 'b' after section header");
	PARSE_ERR("[a](!) x\n", "t.conf:1: unexpected 'x' after section header");
	PARSE_ERR("[a]()\n", "t.conf:1: empty template name");
	PARSE_ERR("[t](!)\n[a](t,)\n", "t.conf:2: empty template name");
	PARSE_ERR("[a]\n[b](nope)\n",
		  "t.conf:2: template 'nope' is not defined before this line");
	PARSE_ERR("[b](b)\n",
		  "t.conf:1: template 'b' is not defined before this line");
	PARSE_ERR("[t](!)\n[p](t,later)\n[later]\n",
		  "t.conf:2: template 'later' is not defined before this line");
	PARSE_ERR("[a]\nx=1\n[b](+)\n",
		  "t.conf:3: (+) but no section [b] before this line");
	PARSE_ERR("[a](+type=peer)\n",
		  "t.conf:1: section filter '(+type=peer)' is not supported");
	PARSE_ERR("[a]\n#exec /bin/echo x=1\n", "t.conf:2: #exec is not supported");
	PARSE_ERR("#EXEC \"/bin/true\"\n", "t.conf:1: #exec is not supported");
	PARSE_ERR("[a]\n#includ x.conf\n", "t.conf:2: unknown directive '#includ'");
	PARSE_ERR("[a]\n# include x\n", "t.conf:2: unknown directive '#'");
	PARSE_ERR("[a]\n#include\n", "t.conf:2: #include needs a file name");
	PARSE_ERR("[a]\n#tryinclude \"\"\n", "t.conf:2: #tryinclude needs a file name");
	PARSE_ERR("[a]\n#include x.conf\n",
		  "t.conf:2: #include is not allowed here (no configuration directory)");
	PARSE_ERR("[a]\nx=1\0\n", "t.conf:2: NUL byte in line");
	PARSE_ERR("[a]\n; \0 even in a comment\n", "t.conf:2: NUL byte in line");
}

static void t_limits(void **state)
{
	size_t n = CONF_LINE_MAX + 16, i;
	char *buf = malloc(n + CONF_COMMENT_DEPTH * 4 + 64);
	struct conf *conf = NULL;

	(void)state;
	assert_non_null(buf);
	/* a line of exactly CONF_LINE_MAX bytes is fine, one more is not */
	strcpy(buf, "[a]\nx=");
	memset(buf + 6, 'v', CONF_LINE_MAX - 2);
	strcpy(buf + 4 + CONF_LINE_MAX, "\n");
	conf = parse(buf);
	assert_int_equal(strlen(conf_get(conf->sections, "x")), CONF_LINE_MAX - 2);
	conf_free(conf);
	strcpy(buf + 4 + CONF_LINE_MAX, "v\n");
	parse_err(NULL, buf, strlen(buf), "t.conf:2: line longer than 65536 bytes");
	strcpy(buf + 4 + CONF_LINE_MAX, "v");           /* no final newline */
	parse_err(NULL, buf, strlen(buf), "t.conf:2: line longer than 65536 bytes");

	/* "+=" may not grow a value past CONF_LINE_MAX */
	strcpy(buf + 4 + CONF_LINE_MAX, "\nx+=vvv\n");
	parse_err(NULL, buf, strlen(buf), "t.conf:3: value of 'x' longer than 65536 bytes");

	/* block comments nest CONF_COMMENT_DEPTH deep, not deeper */
	strcpy(buf, "[a]\n");
	for (i = 0; i < CONF_COMMENT_DEPTH; i++)
		strcat(buf, ";-- ");
	strcat(buf, "\n");
	for (i = 0; i < CONF_COMMENT_DEPTH; i++)
		strcat(buf, "--; ");
	strcat(buf, "x=1\n");
	conf = parse(buf);
	assert_string_equal(conf_get(conf->sections, "x"), "1");
	conf_free(conf);
	strcpy(buf, "[a]\n");
	for (i = 0; i <= CONF_COMMENT_DEPTH; i++)
		strcat(buf, ";-- ");
	parse_err(NULL, buf, strlen(buf), "t.conf:2: block comments nested deeper than 128");
	free(buf);
}

/* Inheritance that multiplies is stopped by the memory cap, not the OOM killer. */
/* Templates that copy templates: a few lines asking for millions of options. */
static int blowup(char *buf, unsigned copies, unsigned sections)
{
	char *o = buf;
	unsigned i;

	o += sprintf(o, "[a]\nx=1\n[b](a");
	for (i = 1; i < 4096; i++)
		o += sprintf(o, ",a");
	o += sprintf(o, ")\n[c](b");
	for (i = 1; i < copies; i++)
		o += sprintf(o, ",b");
	o += sprintf(o, ")\n");
	for (i = 0; i < sections; i++)
		o += sprintf(o, "[d%u](c)\n", i);
	return (int)(o - buf);
}

static void t_blowup(void **state)
{
	char *buf = malloc(64 * 1024);
	struct conf *conf = NULL;
	int rc, n;

	(void)state;
	assert_non_null(buf);
	/* one section of 4096 x 4096 options: stopped at 100,000 */
	n = blowup(buf, 4096, 0);
	rc = conf_parse_buf(&conf, NULL, "t.conf", buf, (size_t)n, err,
			    sizeof(err));
	assert_int_equal(rc, EFBIG);
	assert_null(conf);
	assert_string_equal(err, "t.conf:4: section [c] would have more than "
			    "100000 options");

	/* many sections of 98,304 each: stopped at the 128 MiB arena */
	n = blowup(buf, 24, 60);
	rc = conf_parse_buf(&conf, NULL, "t.conf", buf, (size_t)n, err,
			    sizeof(err));
	assert_int_equal(rc, EFBIG);
	assert_null(conf);
	assert_true(strstr(err, ": configuration needs more than 128 MiB") != NULL);

	/* (+) merging a section into itself doubles it: stopped as well */
	n = sprintf(buf, "[a]\nx=1\n");
	for (rc = 0; rc < 20; rc++)
		n += sprintf(buf + n, "[a](+,a)\n");
	rc = conf_parse_buf(&conf, NULL, "t.conf", buf, (size_t)n, err,
			    sizeof(err));
	assert_int_equal(rc, EFBIG);
	assert_string_equal(err, "t.conf:19: section [a] would have more than "
			    "100000 options");
	free(buf);
}

/* ---------------------------------------------------------------------
 * Files and includes
 */

static struct conf *load(const char *file)
{
	struct conf *conf = NULL;
	int rc = conf_load(&conf, DATA, file, err, sizeof(err));

	if (rc)
		fail_msg("loading %s: error %d: %s", file, rc, err);
	return conf;
}

static void load_err(const char *file, int expect, const char *msg)
{
	struct conf *conf = NULL;

	assert_int_equal(conf_load(&conf, DATA, file, err, sizeof(err)), expect);
	assert_null(conf);
	assert_string_equal(err, msg);
}

static void t_include(void **state)
{
	struct conf *conf = load("main.conf");
	const struct conf_section *g, *o, *l;

	(void)state;
	assert_string_equal(conf->files[0], "main.conf");
	assert_string_equal(conf->files[1], "inc/one.conf");
	assert_string_equal(conf->files[2], "inc/two.conf");
	assert_null(conf->files[3]);
	assert_int_equal(nsections(conf), 3);
	g = conf_section(conf, "general");
	o = conf_section(conf, "other");
	l = conf_section(conf, "last");
	assert_ptr_equal(g, nth(conf, 0));
	assert_ptr_equal(o, nth(conf, 1));
	assert_ptr_equal(l, nth(conf, 2));

	/* [general]: a, then c from inc/one.conf, then b after the #include */
	assert_string_equal(g->vars->name, "a");
	assert_string_equal(g->vars->next->name, "c");
	assert_string_equal(g->vars->next->file, "inc/one.conf");
	assert_ptr_equal(g->vars->next->file, conf->files[1]);
	assert_int_equal(g->vars->next->line, 1);
	assert_string_equal(g->vars->next->next->name, "b");
	assert_ptr_equal(g->vars->next->next->file, conf->files[0]);
	assert_int_equal(g->vars->next->next->line, 5);
	assert_int_equal(nvars(g), 3);

	/* [other] opened in inc/one.conf; inc/two.conf starts in it */
	assert_ptr_equal(o->file, conf->files[1]);
	assert_int_equal(o->line, 2);
	assert_string_equal(all(o, "d"), "4");
	assert_string_equal(all(o, "e"), "5");
	assert_ptr_equal(conf_var(o, "e")->file, conf->files[2]);
	assert_int_equal(conf_var(o, "e")->line, 2);
	assert_true(conf_var(l, "z")->object);
	assert_true(listed(conf, l->file));
	conf_free(conf);
}

static void t_include_glob(void **state)
{
	enum log_level lvl = log_get_level();
	const struct conf_section *g;
	struct conf *conf;

	(void)state;
	log_set_level(LOG_LVL_ERROR);   /* globdir/dir.conf is a directory */
	conf = load("glob.conf");
	log_set_level(lvl);
	assert_string_equal(conf->files[1], "globdir/10-a.conf");
	assert_string_equal(conf->files[2], "globdir/20-b.conf");
	assert_string_equal(conf->files[3], "globdir/30-c.conf");
	assert_null(conf->files[4]);
	g = conf_section(conf, "g");
	assert_string_equal(all(g, "order"), "a|b");
	assert_string_equal(all(g, "after"), "1");
	assert_string_equal(conf_get(conf_section(conf, "c-sec"), "order"), "c");
	conf_free(conf);
}

static void t_include_try(void **state)
{
	struct conf *conf = load("try.conf");

	(void)state;
	assert_null(conf->files[1]);
	assert_string_equal(conf_get(conf->sections, "x"), "1");
	conf_free(conf);
}

static void t_include_append(void **state)
{
	struct conf *conf = load("append.conf");

	(void)state;
	assert_int_equal(nsections(conf), 1);
	assert_string_equal(conf_get(conf->sections, "a"), "1");
	assert_string_equal(conf_get(conf->sections, "b"), "2");
	assert_ptr_equal(conf_var(conf->sections, "b")->file, conf->files[1]);
	conf_free(conf);
}

static void t_include_deep(void **state)
{
	struct conf *conf = load("deep/ok1.conf");

	(void)state;
	assert_string_equal(conf_get(conf->sections, "level10"), "10");
	assert_string_equal(conf->files[9], "deep/ok10.conf");
	conf_free(conf);
}

static void t_include_errors(void **state)
{
	enum log_level lvl = log_get_level();

	(void)state;
	log_set_level(LOG_LVL_ERROR);   /* "inc" is a directory: a warning */
	load_err("missing.conf", EINVAL, "missing.conf:3: #include \"nope.conf\": no such file");
	load_err("loop-a.conf", EINVAL,
		 "loop-b.conf:2: #include loop: loop-a.conf -> loop-b.conf -> loop-a.conf");
	load_err("self.conf", EINVAL, "self.conf:2: #include loop: self.conf -> self.conf");
	load_err("badinc.conf", EINVAL, "inc/bad.conf:3: no '=' in line");
	load_err("deep/d1.conf", EINVAL,
		 "deep/d10.conf:2: #include nested deeper than 10 files: "
		 "deep/d1.conf -> deep/d2.conf -> deep/d3.conf -> deep/d4.conf -> "
		 "deep/d5.conf -> deep/d6.conf -> deep/d7.conf -> deep/d8.conf -> "
		 "deep/d9.conf -> deep/d10.conf -> deep/d11.conf");
	load_err("nope.conf", ENOENT, "nope.conf: No such file or directory");
	load_err("inc", EINVAL, "inc: not a regular file");
	/* an included file that is only a directory is not there */
	parse_err(DATA, "[a]\n#include inc\n", 17, "t.conf:2: #include \"inc\": no such file");
	/* an include that matches nothing is an error, as in Asterisk */
	parse_err(DATA, "[a]\n#include \"none/*.conf\"\n", 27,
		  "t.conf:2: #include \"none/*.conf\": no such file");
	log_set_level(lvl);
}

static void t_include_abs(void **state)
{
	struct conf *conf = NULL;
	char buf[1024];

	(void)state;
	/* absolute paths keep their name; a buffer may include files too */
	snprintf(buf, sizeof(buf), "[general]\n#include \"%s/inc/one.conf\"\n", DATA);
	assert_int_equal(conf_parse_buf(&conf, "/nonexistent", "buf.conf", buf,
					strlen(buf), err, sizeof(err)), 0);
	assert_string_equal(conf->files[1], DATA "/inc/one.conf");
	assert_string_equal(conf_var(conf->sections, "c")->file, DATA "/inc/one.conf");
	conf_free(conf);

	snprintf(buf, sizeof(buf), "%s/main.conf", DATA);
	assert_int_equal(conf_load(&conf, "/nonexistent", buf, err, sizeof(err)), EINVAL);
	assert_string_equal(err, DATA "/main.conf:4: #include \"inc/one.conf\": no such file");
}

static void t_load_crlf(void **state)
{
	struct conf *conf = load("crlf.conf");

	(void)state;
	assert_string_equal(conf_get(conf_section(conf, "crlf"), "name"), "value");
	assert_true(conf_var(conf_section(conf, "crlf"), "obj")->object);
	conf_free(conf);
}

/* ---------------------------------------------------------------------
 * The reference configuration, verbatim
 */

static void t_seed_sip(void **state)
{
	struct conf *conf = NULL;
	const struct conf_section *s, *tpl;

	(void)state;
	assert_int_equal(conf_load(&conf, SEED, "sip.conf", err, sizeof(err)), 0);
	assert_int_equal(nsections(conf), 4);
	tpl = nth(conf, 1);
	assert_string_equal(tpl->name, "TFG-DAVID");
	assert_true(tpl->is_template);
	assert_null(conf_section(conf, "TFG-DAVID"));
	assert_string_equal(all(tpl, "allow"), "alaw");     /* ;allow=g729 */
	assert_string_equal(conf_get(tpl, "notifycid"), "yes");

	s = conf_section(conf, "general");
	assert_string_equal(conf_get(s, "udpbindaddr"), "0.0.0.0:5060");

	s = conf_section(conf, "100-tfg");
	assert_non_null(s);
	assert_string_equal(s->tpls[0], "TFG-DAVID");
	assert_null(s->tpls[1]);
	assert_string_equal(conf_get(s, "secret"), "tf2020");
	assert_true(conf_var(s, "secret")->inherited);
	assert_string_equal(conf_get(s, "context"), "from-audinercop");
	assert_string_equal(conf_get(s, "nat"), "force_rport,comedia");
	assert_string_equal(conf_get(s, "callerid"), "Puesto 100 <100>");
	assert_false(conf_var(s, "callerid")->inherited);
	assert_int_equal(conf_var(s, "callerid")->line, 34);
	assert_int_equal(nvars(s), nvars(tpl) + 1);
	s = conf_section(conf, "101-tfg");
	assert_string_equal(conf_get(s, "callerid"), "Puesto 101 <101>");
	assert_string_equal(conf_get(s, "secret"), "tf2020");
	conf_free(conf);
}

static void expect_section(const struct conf *conf, const char *name,
			   const char *file, size_t nobjects)
{
	const struct conf_section *s = conf_section(conf, name);
	const struct conf_var *v;
	size_t n = 0;

	if (!s)
		fail_msg("no section [%s]", name);
	assert_string_equal(s->file, file);
	assert_true(listed(conf, s->file));
	for (v = s->vars; v; v = v->next) {
		assert_true(v->object);
		assert_ptr_equal(v->file, s->file);
		n++;
	}
	assert_int_equal(n, nobjects);
}

static void t_seed_extensions(void **state)
{
	struct conf *conf = NULL;
	const struct conf_section *s;
	const struct conf_var *v;
	unsigned line = 0;

	(void)state;
	assert_int_equal(conf_load(&conf, SEED, "extensions.conf", err, sizeof(err)), 0);
	assert_string_equal(conf->files[0], "extensions.conf");
	assert_string_equal(conf->files[1], "dialplan/tfg/entrantes.dialplan");
	assert_string_equal(conf->files[2], "dialplan/tfg/macros.dialplan");
	assert_string_equal(conf->files[3], "dialplan/tfg/salientes.dialplan");
	assert_null(conf->files[4]);
	assert_int_equal(nsections(conf), 9);

	s = conf_section(conf, "globals");
	assert_string_equal(conf_get(s, "locuciones-tfg"), "tfg");
	assert_string_equal(conf_get(s, "mor_tfg"), "SIP/trunk-tfg/");
	assert_string_equal(conf_get(conf_section(conf, "general"), "static"), "yes");

	expect_section(conf, "in-tfg", "dialplan/tfg/entrantes.dialplan", 8);
	expect_section(conf, "macro-horario-tfg", "dialplan/tfg/macros.dialplan", 8);
	expect_section(conf, "macro-tfg-festivos", "dialplan/tfg/macros.dialplan", 8);
	expect_section(conf, "from-tfg", "dialplan/tfg/salientes.dialplan", 3);
	expect_section(conf, "tfg_internas", "dialplan/tfg/salientes.dialplan", 2);
	expect_section(conf, "tfg_fijos", "dialplan/tfg/salientes.dialplan", 3);
	expect_section(conf, "tfg_moviles", "dialplan/tfg/salientes.dialplan", 3);

	/* in order, verbatim, with the seed's defects kept */
	s = conf_section(conf, "in-tfg");
	v = s->vars;
	assert_string_equal(v->name, "exten");
	assert_string_equal(v->value, "997452141,1,noop(N\xc3\x9aMERO PRINCIPAL DEL CLIENTE)");
	for (; v; v = v->next) {
		assert_true(v->line > line);
		line = v->line;
		if (v != s->vars)
			assert_string_equal(v->name, "same");
	}
	assert_string_equal(s->vars->next->value, "n,Answer()");
	assert_string_equal(all(s, "same"),
			    "n,Answer()|n,Macro(tfg-festivos)|n,Macro(horario-tfg)|"
			    "n,Playback(${locuciones-tfg}/bienvenidaTFG)|"
			    "n,Queue cola-tfg,,60)|n,Voicemail(tfg@default,s)|n,Hangup()");
	assert_string_equal(conf_var(s, "same")->file, "dialplan/tfg/entrantes.dialplan");
	assert_int_equal(conf_var(s, "same")->line, 9);

	s = conf_section(conf, "macro-horario-tfg");
	assert_string_equal(s->vars->value, "s,1,GotoIfTime(9:00-14:00,mon-fri,*,*?abierto)");
	assert_string_equal(conf_var(s, "same")->value, "n,Hangup()");
	s = conf_section(conf, "from-tfg");
	assert_string_equal(all(s, "include"), "tfg_internas|tfg_fijos|tfg_moviles");
	s = conf_section(conf, "tfg_moviles");
	assert_string_equal(s->vars->value, "_[67]XXXXXXXX,1,Noop(llamada nacional)");
	assert_string_equal(s->vars->next->value, "n,Dial(${mor_tfg}34${EXTEN})");
	conf_free(conf);
}

/* ---------------------------------------------------------------------
 * Scale and the fuzz corpus
 */

static void t_many_peers(void **state)
{
	size_t cap = 4 * 1024 * 1024, len = 0, i;
	char *buf = malloc(cap);
	struct timespec t0, t1;
	struct conf *conf = NULL;
	const struct conf_section *s;
	double secs;
	char name[32];

	(void)state;
	assert_non_null(buf);
	len += (size_t)sprintf(buf + len, "[general]\ncontext=default\n[tpl](!)\n");
	for (i = 0; i < 25; i++)
		len += (size_t)sprintf(buf + len, "opt%zu=value%zu\n", i, i);
	for (i = 0; i < 10000; i++)
		len += (size_t)sprintf(buf + len,
				       "[peer%zu](tpl)\nsecret=s%zu\ncallerid=Peer %zu <%zu>\n"
				       "[peer%zu](+)\nopt3=own\n", i, i, i, i, i);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(conf_parse_buf(&conf, NULL, "sip.conf", buf, len, err,
					sizeof(err)), 0);
	for (i = 0; i < 10000; i += 7) {
		snprintf(name, sizeof(name), "peer%zu", i);
		s = conf_section(conf, name);
		assert_non_null(s);
		assert_string_equal(conf_get(s, "opt3"), "own");
		assert_int_equal(nvars(s), 28);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	conf_free(conf);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("10,000 peers: %.3f s\n", secs);
	assert_true(secs < 1.0);
	free(buf);
}

static void t_corpus(void **state)
{
	DIR *d = opendir(CORPUS);
	struct dirent *de;
	enum log_level lvl = log_get_level();
	size_t files = 0;

	(void)state;
	assert_non_null(d);
	log_set_level(LOG_LVL_ERROR);
	while ((de = readdir(d))) {
		char path[1024], *buf;
		struct conf *conf = NULL;
		struct stat st;
		FILE *f;
		size_t n;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", CORPUS, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		buf = malloc((size_t)st.st_size + 1);
		f = fopen(path, "rb");
		assert_non_null(buf);
		assert_non_null(f);
		n = fread(buf, 1, (size_t)st.st_size, f);
		fclose(f);
		rc = conf_parse_buf(&conf, NULL, de->d_name, buf, n, err, sizeof(err));
		if (rc) {
			assert_null(conf);
			assert_int_equal(strncmp(err, de->d_name, strlen(de->d_name)), 0);
		} else {
			assert_non_null(conf);
		}
		conf_free(conf);
		free(buf);
		files++;
	}
	closedir(d);
	log_set_level(lvl);
	assert_true(files >= 15);
}

int test_conf_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_basic),
		cmocka_unit_test(t_empty),
		cmocka_unit_test(t_comments),
		cmocka_unit_test(t_comment_unterminated),
		cmocka_unit_test(t_crlf),
		cmocka_unit_test(t_escape),
		cmocka_unit_test(t_plus_equals),
		cmocka_unit_test(t_templates),
		cmocka_unit_test(t_template_lookup),
		cmocka_unit_test(t_section_append),
		cmocka_unit_test(t_lookup),
		cmocka_unit_test(t_bool),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_limits),
		cmocka_unit_test(t_blowup),
		cmocka_unit_test(t_include),
		cmocka_unit_test(t_include_glob),
		cmocka_unit_test(t_include_try),
		cmocka_unit_test(t_include_append),
		cmocka_unit_test(t_include_deep),
		cmocka_unit_test(t_include_errors),
		cmocka_unit_test(t_include_abs),
		cmocka_unit_test(t_load_crlf),
		cmocka_unit_test(t_seed_sip),
		cmocka_unit_test(t_seed_extensions),
		cmocka_unit_test(t_many_peers),
		cmocka_unit_test(t_corpus),
	};
	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
