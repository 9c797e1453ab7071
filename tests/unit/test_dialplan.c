/** @file test_dialplan.c  The dialplan (src/dialplan/): loading, match
 * order, expressions, substitution, execution, and the seed's defects. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/mem.h"
#include "dialplan/dialplan.h"
#include "dialplan/dp_int.h"
#include "dialplan/exec.h"
#include "suites.h"

#define DATA TANDEM_SOURCE_DIR "/tests/data/dialplan"
#define SEED TANDEM_SHARED_DIR "/reference-config/seed"

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */

#define MAXW 64
static char *warns[MAXW];
static size_t nwarns;

static void on_warn(const char *msg, void *arg)
{
	(void)arg;
	if (nwarns < MAXW)
		warns[nwarns++] = strdup(msg);
}

static void warns_clear(void)
{
	while (nwarns)
		free(warns[--nwarns]);
}

static bool warned(const char *text)
{
	size_t i;

	for (i = 0; i < nwarns; i++)
		if (strstr(warns[i], text))
			return true;
	return false;
}

static void dump_warns(void)
{
	size_t i;

	for (i = 0; i < nwarns; i++)
		print_message("  warning: %s\n", warns[i]);
}

#define assert_warned(t) do { if (!warned(t)) { dump_warns(); \
	fail_msg("no warning containing: %s", t); } } while (0)

static struct dialplan *build_text(const char *text)
{
	struct conf *conf = NULL;
	struct dialplan *dp = NULL;
	char err[256];

	if (conf_parse_buf(&conf, NULL, "t.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("conf: %s", err);
	if (dialplan_build(&dp, conf, err, sizeof(err)))
		fail_msg("dialplan: %s", err);
	conf_free(conf);
	return dp;
}

static struct dialplan *build_file(const char *dir, const char *name)
{
	struct conf *conf = NULL;
	struct dialplan *dp = NULL;
	char err[256];

	if (conf_load(&conf, dir, name, err, sizeof(err)))
		fail_msg("conf: %s", err);
	if (dialplan_build(&dp, conf, err, sizeof(err)))
		fail_msg("dialplan: %s", err);
	conf_free(conf);
	return dp;
}

/* A fake call that records what the dialplan asks of it. */
struct fake {
	char log[4096];
	char path[8192];
	int dial_rc;
	int nhangup;
};

static void logf_(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

static int f_answer(void *c) { logf_(((struct fake *)c)->log, 4096, "answer;"); return 0; }
static int f_hangup(void *c, int cause)
{
	struct fake *f = c;

	f->nhangup++;
	logf_(f->log, sizeof(f->log), "hangup(%d);", cause);
	return 0;
}
static int f_progress(void *c) { logf_(((struct fake *)c)->log, 4096, "progress;"); return 0; }
static int f_ringing(void *c) { logf_(((struct fake *)c)->log, 4096, "ringing;"); return 0; }
static int f_busy(void *c) { logf_(((struct fake *)c)->log, 4096, "busy;"); return 0; }
static int f_congestion(void *c) { logf_(((struct fake *)c)->log, 4096, "congestion;"); return 0; }
static int f_dial(void *c, const char *ds, unsigned t, const char *o)
{
	struct fake *f = c;

	logf_(f->log, sizeof(f->log), "dial(%s,%u,%s);", ds, t, o);
	return f->dial_rc;
}
static int f_wait(void *c, unsigned ms) { logf_(((struct fake *)c)->log, 4096, "wait(%u);", ms); return 0; }
static const char *f_get(void *c, const char *what)
{
	(void)c;
	if (!strcmp(what, "callerid_num"))
		return "100";
	if (!strcmp(what, "callerid_name"))
		return "Puesto 100";
	if (!strcmp(what, "channel"))
		return "SIP/100-tfg-00000001";
	if (!strcmp(what, "cdr:src"))
		return "100";
	return NULL;
}
static void f_trace(void *c, const char *ctx, const char *exten, int prio,
		    const char *app, const char *data)
{
	struct fake *f = c;

	logf_(f->path, sizeof(f->path), "%s,%s,%d:%s(%s)\n", ctx, exten, prio, app, data);
}

static const struct dp_chan_ops fops = {
	.answer = f_answer, .hangup = f_hangup, .progress = f_progress,
	.ringing = f_ringing, .busy = f_busy, .congestion = f_congestion,
	.dial = f_dial, .wait = f_wait, .get = f_get, .trace = f_trace,
};

/* Stand-ins for applications other parts provide, recording their data. */
static struct fake *cur_fake;
static enum dp_app_ret stub_app(struct dp_chan *chan, const char *data, const char *name)
{
	(void)chan;
	if (cur_fake)
		logf_(cur_fake->log, sizeof(cur_fake->log), "%s(%s);", name, data);
	return DP_APP_NEXT;
}
static enum dp_app_ret stub_playback(struct dp_chan *c, const char *d) { return stub_app(c, d, "Playback"); }
static enum dp_app_ret stub_voicemail(struct dp_chan *c, const char *d) { return stub_app(c, d, "VoiceMail"); }
static enum dp_app_ret stub_queue(struct dp_chan *c, const char *d) { return stub_app(c, d, "Queue"); }

static bool stubs_ours[3];

static void stubs_add(void)
{
	stubs_ours[0] = dp_app_register("Playback", stub_playback) == 0;
	stubs_ours[1] = dp_app_register("VoiceMail", stub_voicemail) == 0;
	stubs_ours[2] = dp_app_register("Queue", stub_queue) == 0;
}

static void stubs_remove(void)
{
	if (stubs_ours[0])
		dp_app_unregister("Playback");
	if (stubs_ours[1])
		dp_app_unregister("VoiceMail");
	if (stubs_ours[2])
		dp_app_unregister("Queue");
}

static time_t at(int y, int mon, int d, int h, int m)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = m, .tm_isdst = -1 };

	return mktime(&tm);
}

static struct dp_chan *chan_new(struct dialplan *dp, struct fake *f,
				const char *ctx, const char *exten)
{
	struct dp_chan *ch = NULL;

	memset(f, 0, sizeof(*f));
	assert_int_equal(dp_chan_alloc(&ch, dp, &fops, f, ctx, exten, 1), 0);
	return ch;
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LVL_ERROR);   /* warnings are checked, not shown */
	dialplan_set_warn_hook(on_warn, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dialplan_set_warn_hook(NULL, NULL);
	warns_clear();
	log_set_level(LOG_LVL_INFO);
	if (mem_live() != 0)
		fail_msg("%zu mem allocations leaked", mem_live());
	return 0;
}

/* ------------------------------------------------------------------ */
/* Patterns                                                            */

static void test_pattern_order(void **state)
{
	/* Asterisk's order (pbx.c ext_cmp), most specific first */
	static const char *const want[] = {
		"100", "1000", "101", "_1[0-1]X", "_1XXX", "_1XX", "_[12]XX",
		"_NXX", "_ZXX", "_XXX", "_X.", "_X!", "_.", "_!",
	};
	const size_t n = sizeof(want) / sizeof(want[0]);
	const char *v[sizeof(want) / sizeof(want[0])];
	size_t i, j;

	(void)state;
	/* every pair in the right order, both ways */
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int c = dp_ext_cmp(want[i], want[j]);

			if ((i < j && c >= 0) || (i > j && c <= 0) || (i == j && c))
				fail_msg("ext_cmp(%s, %s) = %d", want[i], want[j], c);
		}
	/* sorting a reversed list gives the order back */
	for (i = 0; i < n; i++)
		v[i] = want[n - 1 - i];
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && dp_ext_cmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
	/* '-' is eye candy; equal sets compare equal */
	assert_int_equal(dp_ext_cmp("555-1234", "5551234"), 0);
	assert_int_equal(dp_ext_cmp("_[2-9]XX", "_NXX"), 0);
}

static void test_pattern_match(void **state)
{
	static const struct { const char *pat, *ext; bool ok; } t[] = {
		{ "101", "101", true }, { "101", "1010", false }, { "101", "10-1", true },
		{ "_1XX", "101", true }, { "_1XX", "1011", false }, { "_1XX", "10", false },
		{ "_1XX", "201", false }, { "_NXX", "201", true }, { "_NXX", "101", false },
		{ "_ZXX", "101", true }, { "_ZXX", "001", false }, { "_XXX", "001", true },
		{ "_[67]XXXXXXXX", "600123456", true }, { "_[67]XXXXXXXX", "700123456", true },
		{ "_[67]XXXXXXXX", "800123456", false }, { "_[67]XXXXXXXX", "60012345", false },
		{ "_[9]XXXXXXXX", "912345678", true }, { "_[1-3a]X", "a5", true },
		{ "_[1-3a]X", "45", false }, { "_X.", "1", false }, { "_X.", "12", true },
		{ "_X!", "1", true }, { "_X!", "123", true }, { "_.", "", false },
		{ "_!", "", true }, { "_x", "7", true }, { "_n", "1", false },
		{ "_9X", "9*", false }, { "_*X", "*7", true }, { "_#", "#", true },
		{ "_1[", "1x", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (dp_ext_match(t[i].pat, t[i].ext) != t[i].ok)
			fail_msg("match(%s, %s) should be %d", t[i].pat, t[i].ext, t[i].ok);
}

static void test_match_order_and_includes(void **state)
{
	struct dialplan *dp = build_file(DATA, "features.conf");
	const char *ctx, *pat;

	(void)state;
	assert_int_equal(dialplan_match(dp, "order", "101", NULL, 0, &ctx, &pat), 0);
	assert_string_equal(pat, "101");
	assert_int_equal(dialplan_match(dp, "order", "102", NULL, 0, &ctx, &pat), 0);
	assert_string_equal(pat, "_1XX");
	assert_int_equal(dialplan_match(dp, "order", "1", NULL, 0, &ctx, &pat), 0);
	assert_string_equal(pat, "_1!");
	assert_int_equal(dialplan_match(dp, "order", "1234", NULL, 0, &ctx, &pat), 0);
	assert_string_equal(pat, "_1!");
	assert_int_equal(dialplan_match(dp, "order", "234", NULL, 0, &ctx, &pat), 0);
	assert_string_equal(pat, "_X.");
	assert_int_equal(dialplan_match(dp, "order", "", NULL, 0, &ctx, &pat), ENOENT);
	/* the context's own pattern before an include's literal */
	assert_int_equal(dialplan_match(dp, "inc-a", "101", NULL, 0, &ctx, &pat), 0);
	assert_string_equal(ctx, "inc-a");
	assert_string_equal(pat, "_1XX");
	/* includes in order */
	assert_int_equal(dialplan_match(dp, "inc-a", "555", NULL, 0, &ctx, &pat), 0);
	assert_string_equal(ctx, "inc-b");
	assert_int_equal(dialplan_match(dp, "inc-a", "777", NULL, 0, &ctx, &pat), 0);
	assert_string_equal(ctx, "inc-c");
	assert_int_equal(dialplan_match(dp, "inc-a", "888", NULL, 0, NULL, NULL), ENOENT);
	assert_int_equal(dialplan_match(dp, "nope", "1", NULL, 0, NULL, NULL), ENOENT);
	/* time-ranged include */
	assert_int_equal(dialplan_match(dp, "timed", "200", NULL, at(2024, 1, 8, 10, 0), &ctx, NULL), 0);
	assert_string_equal(ctx, "day");
	assert_int_equal(dialplan_match(dp, "timed", "200", NULL, at(2024, 1, 8, 17, 59), &ctx, NULL), 0);
	assert_string_equal(ctx, "day");
	assert_int_equal(dialplan_match(dp, "timed", "200", NULL, at(2024, 1, 8, 18, 0), &ctx, NULL), 0);
	assert_string_equal(ctx, "night");
	assert_int_equal(dialplan_match(dp, "timed", "200", NULL, at(2024, 1, 13, 10, 0), &ctx, NULL), 0);
	assert_string_equal(ctx, "night");
	/* caller id match first */
	assert_int_equal(dialplan_match(dp, "prios", "300", "100", 0, NULL, &pat), 0);
	assert_non_null(dp_find(dp, "prios", "300", 1, NULL, "100", 0));
	assert_string_equal(dp_find(dp, "prios", "300", 1, NULL, "100", 0)->data, "from 100");
	assert_string_equal(dp_find(dp, "prios", "300", 1, NULL, "101", 0)->data, "from anyone");
	assert_string_equal(dp_find(dp, "prios", "300", 1, NULL, NULL, 0)->data, "from anyone");
	assert_true(dialplan_has_context(dp, "inc-a"));
	assert_false(dialplan_has_context(dp, "from-audinercop"));
	dialplan_free(dp);
}

static void test_priorities_labels_hints(void **state)
{
	struct dialplan *dp = build_file(DATA, "features.conf");
	const struct dp_prio *p;
	json_t *j, *ext;

	(void)state;
	p = dp_find(dp, "prios", "100", 2, NULL, NULL, 0);
	assert_non_null(p);
	assert_string_equal(p->label, "two");
	assert_string_equal(p->file, "features.conf");
	assert_int_equal(p->line, 37);
	assert_int_equal(dp_find(dp, "prios", "100", 0, "two", NULL, 0)->prio, 2);
	assert_string_equal(dp_find(dp, "prios", "100", 3, NULL, NULL, 0)->data, "three");
	assert_string_equal(dp_find(dp, "prios", "100", 11, NULL, NULL, 0)->data, "eleven");
	assert_null(dp_find(dp, "prios", "100", 4, NULL, NULL, 0));
	assert_string_equal(dialplan_hint(dp, "prios", "100"), "SIP/100-tfg");
	assert_null(dialplan_hint(dp, "prios", "200"));
	/* duplicate priority: first kept, warned */
	assert_string_equal(dp_find(dp, "prios", "200", 1, NULL, NULL, 0)->data, "x");
	assert_warned("features.conf:43: extension '200' priority 1 in [prios] is already defined at features.conf:42");
	/* globals substituted at load */
	assert_string_equal(dialplan_global(dp, "G2"), "global-one-two");

	j = dialplan_json(dp, "prios");
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "contexts")), 1);
	json_t *c = json_array_get(json_object_get(j, "contexts"), 0);

	assert_string_equal(json_string_value(json_object_get(c, "name")), "prios");
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "ignorepats"), 0)), "9");
	ext = json_array_get(json_object_get(c, "extensions"), 0);
	assert_string_equal(json_string_value(json_object_get(ext, "exten")), "100");
	assert_string_equal(json_string_value(json_object_get(ext, "hint")), "SIP/100-tfg");
	assert_int_equal(json_array_size(json_object_get(ext, "priorities")), 5);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(ext, "priorities"), 1), "label")), "two");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "globals"), "G1")),
			    "global-one");
	json_decref(j);
	assert_null(dialplan_json(dp, "no-such"));
	j = dialplan_json(dp, NULL);
	assert_true(json_array_size(json_object_get(j, "contexts")) > 10);
	json_decref(j);
	dialplan_free(dp);
}

static void test_load_syntax_warnings(void **state)
{
	struct dialplan *dp;

	(void)state;
	warns_clear();
	dp = build_text("[c]\n"
			"exten => 1,x,NoOp()\n"
			"same => n,NoOp()\n"
			"exten => 2,1,Dial(SIP/1\n"
			"exten => 3,1\n"
			"include => missing\n"
			"exten => 4,1,Goto(elsewhere,1,1)\n"
			"exten => 5,1,Goto(nolabel)\n"
			"exten => 6,1,Macro(nomacro)\n"
			"foo => bar\n"
			"exten => _.,1,NoOp()\n"
			"exten => 7,1,Queue(q,,30)\n"
			"exten => 8,1,Set(A=${X)\n"
			"exten => 9,1,GotoIfTime(25:00-26:00,mon,*,*?1)\n"
			"exten => 10,1,GotoIf($[${X} = 1]?c,1,1:c,2,1)\n"
			" same => n,NoOp(never)\n"
			"exten => 11,1,GotoIf($[${X} = 1]?c,1,1)\n"
			" same => n,NoOp(reached when X != 1)\n");
	assert_warned("t.conf:2: invalid priority 'x': ignored");
	assert_warned("t.conf:3: 'same =>' with no 'exten =>' before it in [c]: ignored");
	assert_warned("t.conf:4: no closing parenthesis found in 'Dial(SIP/1'");
	assert_warned("t.conf:5: '3,1' needs EXTEN,PRIORITY,Application: ignored");
	assert_warned("t.conf:6: include => missing: no such context");
	assert_warned("t.conf:7: Goto to context 'elsewhere', which no dialplan file defines");
	assert_warned("t.conf:8: Goto: no label 'nolabel' in extension '5' of [c]");
	assert_warned("t.conf:9: Macro(nomacro): no context [macro-nomacro] defines it");
	assert_warned("t.conf:10: unknown keyword 'foo' in context [c]: ignored");
	assert_warned("t.conf:11: the use of '_.' for an extension is strongly discouraged");
	assert_warned("t.conf:12: application 'Queue' is not available");
	assert_warned("t.conf:12: Queue(q,,30): '30' is the 3rd argument, the URL, not the timeout (the 5th): did you mean Queue(q,,,,30)?");
	assert_warned("t.conf:13: '${' opened at '${X' is never closed with '}'");
	assert_warned("t.conf:14: invalid time range '25:00-26:00' (want HH:MM-HH:MM)");
	assert_warned("t.conf:16: priority 2 of 10@c can never run: the GotoIf at line 15 always jumps (to c,1,1 or c,2,1)");
	assert_false(warned("t.conf:18"));
	/* the dial still loaded, as Asterisk does */
	assert_string_equal(dp_find(dp, "c", "2", 1, NULL, NULL, 0)->data, "SIP/1");
	dialplan_free(dp);
	warns_clear();
}

/* ------------------------------------------------------------------ */
/* Time ranges                                                         */

static void test_timing(void **state)
{
	static const struct { const char *spec; int y, mo, d, h, mi; bool ok; } t[] = {
		{ "9:00-14:00,mon-fri,*,*", 2024, 1, 8, 10, 0, true },
		{ "9:00-14:00,mon-fri,*,*", 2024, 1, 8, 14, 0, true },   /* end minute included */
		{ "9:00-14:00,mon-fri,*,*", 2024, 1, 8, 14, 1, false },
		{ "9:00-14:00,mon-fri,*,*", 2024, 1, 8, 8, 59, false },
		{ "9:00-14:00,mon-fri,*,*", 2024, 1, 13, 10, 0, false },  /* Saturday */
		{ "*,*,1,jan", 2024, 1, 1, 0, 0, true },
		{ "*,*,1,jan", 2024, 1, 2, 0, 0, false },
		{ "*,*,19,mar", 2024, 3, 19, 12, 0, true },
		{ "*,*,1-15,*", 2024, 5, 15, 12, 0, true },
		{ "*,*,1-15,*", 2024, 5, 16, 12, 0, false },
		{ "22:00-06:00,*,*,*", 2024, 5, 16, 23, 0, true },        /* wraps */
		{ "22:00-06:00,*,*,*", 2024, 5, 16, 5, 59, true },
		{ "22:00-06:00,*,*,*", 2024, 5, 16, 12, 0, false },
		{ "*,fri-mon,*,*", 2024, 1, 14, 12, 0, true },            /* Sunday */
		{ "*,fri-mon,*,*", 2024, 1, 10, 12, 0, false },           /* Wednesday */
		{ "*,mon&wed,*,*", 2024, 1, 10, 12, 0, true },
		{ "*,*,*,dec-feb", 2024, 1, 10, 12, 0, true },
		{ "*,*,*,dec-feb", 2024, 6, 10, 12, 0, false },
		{ "*,*,*,*", 2024, 6, 10, 12, 0, true },
		{ "", 2024, 6, 10, 12, 0, true },
		{ "9:00-17:00|mon-fri|*|*", 2024, 1, 8, 12, 0, true },    /* old '|' */
		{ "00:00-23:59,*,*,*,UTC", 2024, 1, 8, 12, 0, true },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dp_timing tm;

		assert_int_equal(dp_timing_parse(&tm, t[i].spec, "t.conf", 1), 0);
		if (dp_timing_check(&tm, at(t[i].y, t[i].mo, t[i].d, t[i].h, t[i].mi)) != t[i].ok)
			fail_msg("timing '%s' at %d-%d-%d %d:%02d should be %d", t[i].spec,
				 t[i].y, t[i].mo, t[i].d, t[i].h, t[i].mi, t[i].ok);
		dp_timing_clear(&tm);
	}
	warns_clear();
	struct dp_timing tm;

	assert_int_equal(dp_timing_parse(&tm, "9-14,funday,*,*", "x.conf", 7), 0);
	assert_warned("x.conf:7: invalid time range '9-14' (want HH:MM-HH:MM): taken as all day");
	assert_warned("x.conf:7: invalid weekday 'funday' in a time range: ignored");
	dp_timing_clear(&tm);
	warns_clear();
}

/* ------------------------------------------------------------------ */
/* Expressions and substitution                                        */

static void test_expressions(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "1 + 1", "2" }, { "3+1", "4" }, { "2 * 3 + 4", "10" }, { "2 + 3 * 4", "14" },
		{ "(2 + 3) * 4", "20" }, { "3 / 2", "1.5" }, { "7 % 3", "1" }, { "10 - 4 - 3", "3" },
		{ "-5 + 2", "-3" }, { "- 5", "-5" }, { "1 = 1", "1" }, { "1 == 2", "0" },
		{ "2 > 10", "0" }, { "abc < abd", "1" }, { "10 > 9", "1" }, { "\"10\" > 9", "1" },
		{ "b > 10", "1" }, { "1 != 2", "1" }, { "3 >= 3", "1" }, { "3 <= 2", "0" },
		{ "foo = foo", "1" }, { "foo != bar", "1" }, { "0 | x", "x" }, { "a | b", "a" },
		{ " | b", "" }, { "a & b", "a" }, { "0 & b", "0" }, { "a & 0", "0" },
		{ "!0", "1" }, { "!1", "0" }, { "!abc", "0" }, { "1 ? yes :: no", "yes" },
		{ "0 ? yes :: no", "no" }, { "\"\" ? yes :: no", "no" },
		{ "abcde : ab", "2" }, { "abcde : b", "0" }, { "abcde =~ b", "1" },
		{ "12345 : \"(...)\"", "123" }, { "x12 : \"([0-9]+)\"", "" },
		{ "x12 =~ \"([0-9]+)\"", "12" }, { "5551234 : \"555([0-9]+)\"", "1234" },
		{ "12345 : (...)", "3" },   /* ( ) are operators: the group is lost */ { "1 + 2 = 3", "1" },
		{ "3 / 0", "2147483647" }, { "a + 1", "1" }, { "1 + a", "1" }, { "", "" },
		{ "2 + 3 > 4 & 1", "1" }, { "\"a b\" = \"a b\"", "1" }, { "08 + 1", "9" },
		{ "1.5 * 2", "3" }, { "0.5 + 0.25", "0.75" },
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dp_expr_eval(t[i].in, out, sizeof(out));
		if (strcmp(out, t[i].out))
			fail_msg("$[%s] = '%s', want '%s'", t[i].in, out, t[i].out);
	}
	warns_clear();
	assert_int_equal(dp_expr_eval("1 +", out, sizeof(out)), EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(dp_expr_eval("(1", out, sizeof(out)), EINVAL);
	assert_int_equal(dp_expr_eval("1 ? 2", out, sizeof(out)), EINVAL);
	assert_int_equal(dp_expr_eval("\"open", out, sizeof(out)), EINVAL);
	assert_int_equal(dp_expr_eval("a : \"(\"", out, sizeof(out)), 0);   /* bad regex */
	assert_string_equal(out, "");
	assert_warned("regcomp of '(' failed");
	assert_warned("syntax error in expression '1 +'");
	warns_clear();
}

static void test_substitution(void **state)
{
	struct dialplan *dp = build_file(DATA, "features.conf");
	struct fake f;
	struct dp_chan *ch = chan_new(dp, &f, "order", "34600123456");
	static const struct { const char *in, *out; } t[] = {
		{ "plain", "plain" }, { "${EXTEN}", "34600123456" }, { "${EXTEN:2}", "600123456" },
		{ "${EXTEN:-3}", "456" }, { "${EXTEN:2:3}", "600" }, { "${EXTEN:-6:3}", "123" },
		{ "${EXTEN:0:-2}", "346001234" }, { "${EXTEN:1:-1}", "460012345" },
		{ "${EXTEN:50}", "" }, { "${EXTEN:-50:2}", "34" }, { "${CONTEXT}", "order" },
		{ "${PRIORITY}", "1" }, { "${V}", "val" }, { "${NAME}", "V" }, { "${${NAME}}", "val" },
		{ "${${NAME}:1}", "al" }, { "${G1}", "global-one" }, { "${NOPE}", "" },
		{ "a${V}b${V}c", "avalbvalc" }, { "$[1 + 2]", "3" }, { "$[${N} * 2]", "14" },
		{ "$[$[1 + 1] * 3]", "6" }, { "${CALLERID(num)}", "100" },
		{ "${CALLERID(name)}", "Puesto 100" }, { "${CALLERID(all)}", "\"Puesto 100\" <100>" },
		{ "${CDR(src)}", "100" }, { "${CDR(nope)}", "" }, { "${LEN(${EXTEN})}", "11" },
		{ "${LEN()}", "0" }, { "${IF($[${N} > 5]?big:small)}", "big" },
		{ "${IF(0?big:small)}", "small" }, { "${IF(1?only)}", "only" },
		{ "${CUT(LIST,-,2)}", "b" }, { "${CUT(LIST,-,2-3)}", "b-c" }, { "${CUT(LIST,-,3-)}", "c-d" },
		{ "${CUT(LIST,-,-2)}", "a-b" }, { "${CUT(LIST,-,1&4)}", "a-d" },
		{ "${CUT(LIST,,2)}", "b" }, { "${GLOBAL(G2)}", "global-one-two" },
		{ "${STRFTIME(0,UTC,%Y-%m-%d %H:%M)}", "1970-01-01 00:00" },
		{ "${STRFTIME(86400,UTC,%A)}", "Friday" }, { "${ISNULL(${NOPE})}", "1" },
		{ "${EXISTS(${V})}", "1" }, { "${CHANNEL}", "SIP/100-tfg-00000001" },
		{ "$$", "$$" }, { "${mor_tfg}", "" }, { "${V", "" },
	};
	char out[DP_BUF];
	size_t i;

	(void)state;
	dp_chan_var_set(ch, "V", "val");
	dp_chan_var_set(ch, "NAME", "V");
	dp_chan_var_set(ch, "N", "7");
	dp_chan_var_set(ch, "LIST", "a-b-c-d");
	warns_clear();
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dp_chan_subst(ch, t[i].in, out, sizeof(out));
		if (strcmp(out, t[i].out))
			fail_msg("'%s' -> '%s', want '%s'", t[i].in, out, t[i].out);
	}
	assert_warned("missing '}'");
	/* Asterisk drops the last character of an unterminated ${ */
	dp_chan_var_set(ch, "MACRO_PRIORITY", "3");
	dp_chan_subst(ch, "x,${${MACRO_PRIORITY} + 1]", out, sizeof(out));
	assert_string_equal(out, "x,");
	dp_chan_subst(ch, "${MACRO_PRIORITY} + 1]", out, sizeof(out));
	assert_string_equal(out, "3 + 1]");
	/* truncation is safe */
	char small[8];

	dp_chan_subst(ch, "${LIST}${LIST}", small, sizeof(small));
	assert_string_equal(small, "a-b-c-d");
	warns_clear();
	dp_chan_free(ch);
	dialplan_free(dp);
}

static void collect(const char *name, const char *value, void *arg)
{
	logf_(arg, 256, "%s=%s;", name, value);
}

static void test_variables_inheritance(void **state)
{
	struct dialplan *dp = build_file(DATA, "features.conf");
	struct fake f, f2;
	struct dp_chan *ch = chan_new(dp, &f, "run", "s"), *kid;
	char inh[256] = "";

	(void)state;
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "X"), "5");
	assert_string_equal(dp_chan_var_get(ch, "INH"), "kid");
	assert_string_equal(dp_chan_var_get(ch, "ALL"), "everyone");
	assert_string_equal(dp_chan_var_get(ch, "RESULT"), "big-s-run-7");
	assert_string_equal(dp_chan_cid_num(ch), "999");
	assert_string_equal(dialplan_global(dp, "G3"), "set-by-call");
	assert_string_equal(dp_chan_var_get(ch, "AFTER"), "17");   /* h ran */
	assert_string_equal(f.log, "hangup(17);");
	assert_int_equal(f.nhangup, 1);
	dp_chan_inheritable(ch, collect, inh);
	assert_string_equal(inh, "INH=kid;__ALL=everyone;");
	kid = chan_new(dp, &f2, "run", "s");
	assert_int_equal(dp_chan_inherit(kid, ch), 0);
	assert_string_equal(dp_chan_var_get(kid, "INH"), "kid");
	assert_string_equal(dp_chan_var_get(kid, "ALL"), "everyone");
	inh[0] = '\0';
	dp_chan_inheritable(kid, collect, inh);
	assert_string_equal(inh, "__ALL=everyone;");   /* _X lasts one generation */
	/* set "" deletes; re-set replaces whatever prefix */
	dp_chan_var_set(kid, "INH", "");
	assert_null(dp_chan_var_get(kid, "INH"));
	dp_chan_var_set(kid, "ALL", "plain");
	inh[0] = '\0';
	dp_chan_inheritable(kid, collect, inh);
	assert_string_equal(inh, "");
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);   /* done stays done */
	dp_chan_free(kid);
	dp_chan_free(ch);
	dialplan_free(dp);
}

/* ------------------------------------------------------------------ */
/* Execution                                                           */

static void test_macro(void **state)
{
	struct dialplan *dp = build_file(DATA, "features.conf");
	struct fake f;
	struct dp_chan *ch = chan_new(dp, &f, "mac", "s");

	(void)state;
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "AFTER1"), "s/mac/1/a/b:");
	assert_string_equal(dp_chan_var_get(ch, "AFTER2"), "s/mac/3/c/d");
	assert_null(dp_chan_var_get(ch, "SKIPPED"));      /* MACRO_OFFSET=1 */
	assert_string_equal(dp_chan_var_get(ch, "OUT"), "x");  /* left the macro */
	assert_null(dp_chan_var_get(ch, "NEVER"));
	assert_null(dp_chan_var_get(ch, "MACRO_EXTEN"));
	assert_null(dp_chan_var_get(ch, "ARG1"));
	assert_string_equal(dp_chan_context(ch), "mac");
	assert_string_equal(dp_chan_exten(ch), "out");
	dp_chan_free(ch);
	dialplan_free(dp);
}

static void test_gosub(void **state)
{
	struct dialplan *dp = build_file(DATA, "features.conf");
	struct fake f;
	struct dp_chan *ch = chan_new(dp, &f, "gosub", "s");

	(void)state;
	warns_clear();
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "IN"), "xy2");
	assert_string_equal(dp_chan_var_get(ch, "R1"), "ret-xy2/");
	assert_string_equal(dp_chan_var_get(ch, "R2"), "deep");
	assert_null(dp_chan_var_get(ch, "ARGC"));
	assert_warned("features.conf:84: Return without Gosub: stack is empty");
	warns_clear();
	dp_chan_free(ch);
	dialplan_free(dp);
}

static void test_loop_cut(void **state)
{
	struct dialplan *dp = build_file(DATA, "features.conf");
	struct fake f;
	struct dp_chan *ch = chan_new(dp, &f, "loop", "s");

	(void)state;
	warns_clear();
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_warned("dialplan loop cut after 10000 steps");
	assert_true(warned("features.conf:91: dialplan loop cut") ||
		    warned("features.conf:92: dialplan loop cut"));
	assert_string_equal(f.log, "hangup(16);");
	warns_clear();
	dp_chan_free(ch);
	dialplan_free(dp);
}

static void test_unknown_app_and_exten(void **state)
{
	struct dialplan *dp;
	struct fake f;
	struct dp_chan *ch;

	(void)state;
	warns_clear();
	dp = build_file(DATA, "features.conf");
	assert_warned("features.conf:95: application 'NoSuchApp' is not available");
	warns_clear();
	ch = chan_new(dp, &f, "unknown", "s");
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_warned("features.conf:95: no application 'NoSuchApp' (extension s, priority 1 in [unknown]): hanging up");
	assert_null(dp_chan_var_get(ch, "NOTREACHED"));
	assert_string_equal(dp_chan_var_get(ch, "HRAN"), "1");
	dp_chan_free(ch);
	/* unknown extension goes to i */
	ch = chan_new(dp, &f, "invalid", "42");
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "INV"), "42");
	dp_chan_free(ch);
	/* so does a Goto to one */
	ch = chan_new(dp, &f, "invalid", "1");
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "INV"), "2");
	dp_chan_free(ch);
	/* no i: hang up, cause 1 */
	warns_clear();
	ch = chan_new(dp, &f, "prios", "999");
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_string_equal(f.log, "hangup(1);");
	assert_warned("no such extension");
	dp_chan_free(ch);
	ch = chan_new(dp, &f, "no-such-context", "1");
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_warned("no such context");
	dp_chan_free(ch);
	warns_clear();
	dialplan_free(dp);
}

static void test_dial_and_wait(void **state)
{
	struct dialplan *dp = build_file(DATA, "features.conf");
	struct fake f;
	struct dp_chan *ch;

	(void)state;
	/* NOANSWER: continue after Dial */
	ch = chan_new(dp, &f, "dial", "5551234");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_string_equal(f.log, "dial(SIP/5551234-tfg,20,tTm(moh)r);");
	assert_int_equal(dp_chan_run(ch), DP_ERROR);      /* waiting: resume, not run */
	dp_chan_var_set(ch, "DIALSTATUS", "NOANSWER");
	assert_int_equal(dp_chan_resume(ch, DP_RES_CONTINUE), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "ST"), "NOANSWER");
	assert_string_equal(dp_chan_lastapp(ch), "Set");
	assert_string_equal(f.log, "dial(SIP/5551234-tfg,20,tTm(moh)r);hangup(16);");
	dp_chan_free(ch);
	/* ANSWER without g: the dialplan ends with the call */
	ch = chan_new(dp, &f, "dial", "5551234");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	dp_chan_var_set(ch, "DIALSTATUS", "ANSWER");
	assert_int_equal(dp_chan_resume(ch, DP_RES_CONTINUE), DP_HANGUP);
	assert_null(dp_chan_var_get(ch, "ST"));
	dp_chan_free(ch);
	/* ANSWER with g: go on */
	ch = chan_new(dp, &f, "dial", "g");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_string_equal(f.log, "dial(SIP/g&SIP/trunk/1,0,g);");
	dp_chan_var_set(ch, "DIALSTATUS", "ANSWER");
	assert_int_equal(dp_chan_resume(ch, DP_RES_CONTINUE), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "ST"), "ANSWER");
	dp_chan_free(ch);
	/* the caller hangs up while dialling: CANCEL, no hangup op */
	ch = chan_new(dp, &f, "dial", "5551234");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_int_equal(dp_chan_resume(ch, DP_RES_HANGUP), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "DIALSTATUS"), "CANCEL");
	assert_int_equal(f.nhangup, 0);
	dp_chan_free(ch);
	/* dial op fails: CHANUNAVAIL, fall through with congestion cause */
	ch = chan_new(dp, &f, "dial", "5551234");
	f.dial_rc = EIO;
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "ST"), "CHANUNAVAIL");
	assert_string_equal(f.log, "dial(SIP/5551234-tfg,20,tTm(moh)r);hangup(34);");
	dp_chan_free(ch);
	/* Wait */
	ch = chan_new(dp, &f, "dial", "w");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_string_equal(f.log, "wait(1500);");
	assert_int_equal(dp_chan_hangup(ch, 16), DP_HANGUP);
	assert_null(dp_chan_var_get(ch, "WAITED"));
	assert_int_equal(f.nhangup, 0);
	dp_chan_free(ch);
	ch = chan_new(dp, &f, "dial", "w");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_int_equal(dp_chan_resume(ch, DP_RES_CONTINUE), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "WAITED"), "1");
	dp_chan_free(ch);
	dialplan_free(dp);
}

static void test_control_apps(void **state)
{
	struct dialplan *dp;
	struct fake f;
	struct dp_chan *ch;

	(void)state;
	dp = build_text("[c]\n"
			"exten => 1,1,Answer()\n"
			" same => n,Progress\n"
			" same => n,Ringing()\n"
			" same => n,NoOp(${CALLERID(num)})\n"
			" same => n,ExecIf($[1 = 1]?Set(E=yes):Set(E=no))\n"
			" same => n,ExecIf(0?Set(F=yes))\n"
			" same => n,Verbose(2,hello)\n"
			" same => n,Log(NOTICE,hi)\n"
			" same => n,GotoIf(1?skip)\n"
			" same => n,Set(SKIPPED=no)\n"
			" same => n(skip),GosubIf(0?nowhere:sub,1(z))\n"
			" same => n,Busy(2)\n"
			"exten => 2,1,Congestion()\n"
			"exten => sub,1,Return(${ARG1})\n");
	ch = chan_new(dp, &f, "c", "1");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_string_equal(f.log, "answer;progress;ringing;busy;wait(2000);");
	assert_string_equal(dp_chan_var_get(ch, "E"), "yes");
	assert_null(dp_chan_var_get(ch, "F"));
	assert_null(dp_chan_var_get(ch, "SKIPPED"));
	assert_string_equal(dp_chan_var_get(ch, "GOSUB_RETVAL"), "z");
	assert_int_equal(dp_chan_resume(ch, DP_RES_CONTINUE), DP_HANGUP);
	assert_string_equal(f.log, "answer;progress;ringing;busy;wait(2000);hangup(17);");
	if (!strstr(f.path, "c,1,4:NoOp(100)"))
		fail_msg("path:\n%s", f.path);
	dp_chan_free(ch);
	ch = chan_new(dp, &f, "c", "2");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_int_equal(dp_chan_hangup(ch, 16), DP_HANGUP);
	assert_string_equal(f.log, "congestion;wait(0);");
	dp_chan_free(ch);
	dialplan_free(dp);
}

/* ------------------------------------------------------------------ */
/* The seed                                                            */

static void test_seed_load_warnings(void **state)
{
	struct dialplan *dp;
	size_t i;
	static const char *const want[] = {
		/* defect 2 */
		"dialplan/tfg/entrantes.dialplan:7: application 'Queue cola-tfg,,60)' has no '(': did you mean Queue(cola-tfg,,60)?",
		/* defect 6 */
		"dialplan/tfg/entrantes.dialplan:7: Queue(cola-tfg,,60): '60' is the 3rd argument, the URL, not the timeout (the 5th): did you mean Queue(cola-tfg,,,,60)?",
		/* defect 3, both forms */
		"dialplan/tfg/macros.dialplan:8: broken expression '${${MACRO_PRIORITY} + 1]' ('$[' written as '${'): Asterisk reads a variable named '${MACRO_PRIORITY} + 1', which is empty; did you mean $[${MACRO_PRIORITY} + 1]?",
		"dialplan/tfg/macros.dialplan:18: broken expression '${MACRO_PRIORITY} + 1]' (a ']' with no '$['): Asterisk does no arithmetic here (a priority reads as the number it starts with); did you mean $[${MACRO_PRIORITY} + 1]?",
		/* defect 4 */
		"dialplan/tfg/macros.dialplan:13: priorities 2-3 of s@macro-tfg-festivos can never run: the GotoIfTime at line 12 always jumps (to cerrado or abierto)",
	};

	(void)state;
	warns_clear();
	stubs_add();
	dp = build_file(SEED, "extensions.conf");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_warned(want[i]);
	if (nwarns != sizeof(want) / sizeof(want[0])) {
		dump_warns();
		fail_msg("%zu warnings, want %zu", nwarns, sizeof(want) / sizeof(want[0]));
	}
	/* defect 1 is sip.conf's to report; the lead asks us */
	assert_false(dialplan_has_context(dp, "from-audinercop"));
	assert_true(dialplan_has_context(dp, "from-tfg"));
	/* the rest loaded */
	assert_string_equal(dialplan_global(dp, "mor_tfg"), "SIP/trunk-tfg/");
	assert_string_equal(dp_find(dp, "in-tfg", "997452141", 6, NULL, NULL, 0)->app,
			    "Queue cola-tfg,,60)");
	assert_string_equal(dp_find(dp, "in-tfg", "997452141", 7, NULL, NULL, 0)->app,
			    "Voicemail");
	warns_clear();
	stubs_remove();
	dialplan_free(dp);
}

static void test_seed_outbound(void **state)
{
	struct dialplan *dp;
	struct fake f;
	struct dp_chan *ch;

	(void)state;
	stubs_add();
	dp = build_file(SEED, "extensions.conf");
	warns_clear();
	ch = chan_new(dp, &f, "from-tfg", "600123456");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_string_equal(f.log, "dial(SIP/trunk-tfg/34600123456,0,);");
	dp_chan_var_set(ch, "DIALSTATUS", "BUSY");
	assert_int_equal(dp_chan_resume(ch, DP_RES_CONTINUE), DP_HANGUP);
	assert_string_equal(f.log, "dial(SIP/trunk-tfg/34600123456,0,);hangup(16);");
	dp_chan_free(ch);
	ch = chan_new(dp, &f, "from-tfg", "101");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_string_equal(f.log, "dial(SIP/101-tfg,0,);");
	dp_chan_free(ch);
	ch = chan_new(dp, &f, "from-tfg", "912345678");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_string_equal(f.log, "dial(SIP/trunk-tfg/34912345678,0,);");
	dp_chan_free(ch);
	ch = chan_new(dp, &f, "from-tfg", "712345678");
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	assert_string_equal(f.log, "dial(SIP/trunk-tfg/34712345678,0,);");
	dp_chan_free(ch);
	ch = chan_new(dp, &f, "from-tfg", "812345678");   /* no route */
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_string_equal(f.log, "hangup(1);");
	dp_chan_free(ch);
	assert_int_equal(warns[0] != NULL, 1);
	warns_clear();
	stubs_remove();
	dialplan_free(dp);
}

/* Run a seed macro on its own at time t: which label does it reach? */
static void seed_macro_at(struct dialplan *dp, const char *macro, time_t t,
			  const char *want_in_path, const char *want_log)
{
	struct fake f;
	struct dp_chan *ch = chan_new(dp, &f, macro, "s");

	cur_fake = &f;
	dp_chan_set_time(ch, t);
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	if (!strstr(f.path, want_in_path))
		fail_msg("%s: path lacks '%s':\n%s", macro, want_in_path, f.path);
	if (want_log && strcmp(f.log, want_log))
		fail_msg("%s: log '%s', want '%s'", macro, f.log, want_log);
	cur_fake = NULL;
	dp_chan_free(ch);
}

static void test_seed_gotoiftime(void **state)
{
	struct dialplan *dp;

	(void)state;
	stubs_add();
	dp = build_file(SEED, "extensions.conf");
	warns_clear();
	/* macro-horario-tfg: Mon 10:00 open, Mon 15:00 and Saturday closed */
	seed_macro_at(dp, "macro-horario-tfg", at(2024, 1, 8, 10, 0),
		      "macro-horario-tfg,s,7:goto(,,)", "hangup(16);");
	assert_warned("dialplan/tfg/macros.dialplan:8: priority '' must be a number > 0");
	seed_macro_at(dp, "macro-horario-tfg", at(2024, 1, 8, 17, 30),
		      "macro-horario-tfg,s,7:goto(", NULL);
	seed_macro_at(dp, "macro-horario-tfg", at(2024, 1, 8, 15, 0),
		      "macro-horario-tfg,s,3:Noop(Cerrado)",
		      "answer;Playback(tfg/fuera_horario);hangup(16);");
	seed_macro_at(dp, "macro-horario-tfg", at(2024, 1, 13, 10, 0),
		      "macro-horario-tfg,s,3:Noop(Cerrado)",
		      "answer;Playback(tfg/fuera_horario);hangup(16);");
	/* macro-tfg-festivos: 1 January closed, any other day open */
	seed_macro_at(dp, "macro-tfg-festivos", at(2024, 1, 1, 10, 0),
		      "macro-tfg-festivos,s,4:Playback(tfg/festividadlocal)",
		      "Playback(tfg/festividadlocal);VoiceMail(tfg@default,s);hangup(16);");
	seed_macro_at(dp, "macro-tfg-festivos", at(2024, 3, 19, 10, 0),
		      "macro-tfg-festivos,s,7:goto(", NULL);
	warns_clear();
	stubs_remove();
	dialplan_free(dp);
}

static void test_seed_inbound(void **state)
{
	struct dialplan *dp;
	struct fake f;
	struct dp_chan *ch;

	(void)state;
	stubs_add();
	dp = build_file(SEED, "extensions.conf");
	warns_clear();
	/* On 1 January the holiday branch answers, plays, takes a message. */
	ch = chan_new(dp, &f, "in-tfg", "997452141");
	cur_fake = &f;
	dp_chan_set_time(ch, at(2024, 1, 1, 10, 0));
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_string_equal(f.log, "answer;Playback(tfg/festividadlocal);VoiceMail(tfg@default,s);hangup(16);");
	dp_chan_free(ch);
	/* Any other day, as in Asterisk, the broken "${MACRO_PRIORITY} + 1]"
	 * reads as priority 3: Macro(tfg-festivos) again, for ever; cut. */
	ch = chan_new(dp, &f, "in-tfg", "997452141");
	dp_chan_set_time(ch, at(2024, 1, 8, 10, 0));
	assert_int_equal(dp_chan_run(ch), DP_HANGUP);
	assert_warned("dialplan loop cut after 10000 steps");
	assert_string_equal(f.log, "answer;hangup(16);");
	cur_fake = NULL;
	dp_chan_free(ch);
	warns_clear();
	stubs_remove();
	dialplan_free(dp);
}

static void test_snapshot_outlives_reload(void **state)
{
	struct dialplan *dp = build_file(DATA, "features.conf");
	struct fake f;
	struct dp_chan *ch = chan_new(dp, &f, "dial", "5551234");

	(void)state;
	assert_int_equal(dp_chan_run(ch), DP_WAIT);
	dialplan_free(dp);              /* a reload swapped it out */
	dp_chan_var_set(ch, "DIALSTATUS", "BUSY");
	assert_int_equal(dp_chan_resume(ch, DP_RES_CONTINUE), DP_HANGUP);
	assert_string_equal(dp_chan_var_get(ch, "ST"), "BUSY");
	dp_chan_free(ch);
}

int test_dialplan_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pattern_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pattern_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_order_and_includes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priorities_labels_hints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_syntax_warnings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expressions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_substitution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_variables_inheritance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_macro, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gosub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_app_and_exten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dial_and_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_apps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed_load_warnings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed_outbound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed_gotoiftime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed_inbound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_outlives_reload, setup, teardown),
	};

	return cmocka_run_group_tests_name("dialplan", tests, NULL, NULL);
}
