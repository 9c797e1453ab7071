/** @file test_call_apps.c  SayDigits/SayNumber prompt lists (en, es),
 * digit collection (matchmore, canmatch, i, t) and the prompt and key
 * applications (src/pbx/call_apps.c) run by the real dialplan engine on
 * a fake call: the media ops are stood in for, keys and "prompt played"
 * and timer events are injected by the test, no network, no clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"
#include "dialplan/dialplan.h"
#include "dialplan/exec.h"
#include "media/say.h"
#include "pbx/call_play.h"
#include "suites.h"

static size_t mem_before;

/* ------------------------------------------------------------------ */
/* SayDigits, SayNumber                                                */

static void said(int num, const char *lang, const char *gender, const char *want)
{
	char out[1024];

	assert_int_equal(say_number(num, lang, gender, out, sizeof(out)), 0);
	if (strcmp(out, want))
		fail_msg("SayNumber(%d) in %s%s%s:\n  got  %s\n  want %s", num, lang,
			 gender ? " gender " : "", gender ? gender : "", out, want);
}

static void test_say_digits(void **state)
{
	char out[256], tiny[8];

	(void)state;
	assert_int_equal(say_digits("12*#0", out, sizeof(out)), 0);
	assert_string_equal(out, "digits/1&digits/2&digits/star&digits/pound&digits/0");
	assert_int_equal(say_digits("a-9", out, sizeof(out)), 0);   /* others skipped */
	assert_string_equal(out, "digits/9");
	assert_int_equal(say_digits("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(say_digits("123", tiny, sizeof(tiny)), ENOSPC);
	assert_string_equal(tiny, "");
}

static void test_say_number_en(void **state)
{
	(void)state;
	said(0, "en", NULL, "digits/0");
	said(7, "en", NULL, "digits/7");
	said(19, "en", NULL, "digits/19");
	said(20, "en", NULL, "digits/20");
	said(42, "en", NULL, "digits/40&digits/2");
	said(100, "en", NULL, "digits/1&digits/hundred");
	said(115, "en", NULL, "digits/1&digits/hundred&digits/15");
	said(999, "en", NULL, "digits/9&digits/hundred&digits/90&digits/9");
	said(1000, "en", NULL, "digits/1&digits/thousand");
	said(1234, "en", NULL,
	     "digits/1&digits/thousand&digits/2&digits/hundred&digits/30&digits/4");
	said(1000000, "en", NULL, "digits/1&digits/million");
	said(999999999, "en", NULL,
	     "digits/9&digits/hundred&digits/90&digits/9&digits/million&"
	     "digits/9&digits/hundred&digits/90&digits/9&digits/thousand&"
	     "digits/9&digits/hundred&digits/90&digits/9");
	said(1000000000, "en", NULL, "digits/1&digits/billion");
	said(-5, "en", NULL, "digits/minus&digits/5");
	said(31, "fr_XX", NULL, "digits/30&digits/1");   /* other languages: English */
	said(31, NULL, NULL, "digits/30&digits/1");
}

static void test_say_number_es(void **state)
{
	char out[1024];

	(void)state;
	said(0, "es", NULL, "digits/0");
	said(1, "es", NULL, "digits/1");
	said(1, "es", "f", "digits/1F");
	said(1, "es", "m", "digits/1M");
	said(1, "es", "n", "digits/1");
	said(15, "es", NULL, "digits/15");
	said(21, "es", NULL, "digits/21");            /* veintiuno: one file */
	said(30, "es", NULL, "digits/30");
	said(31, "es", NULL, "digits/30&digits/and&digits/1");   /* treinta y uno */
	said(31, "es", "f", "digits/30&digits/and&digits/1F");
	said(40, "es", NULL, "digits/40");
	said(99, "es", NULL, "digits/90&digits/and&digits/9");
	said(100, "es", NULL, "digits/hundred");      /* cien (Asterisk: digits/100) */
	said(101, "es", NULL, "digits/100-and&digits/1");        /* ciento uno */
	said(150, "es", NULL, "digits/100-and&digits/50");
	said(200, "es", NULL, "digits/200");
	said(345, "es", NULL, "digits/300&digits/40&digits/and&digits/5");
	said(999, "es", NULL, "digits/900&digits/90&digits/and&digits/9");
	said(1000, "es", NULL, "digits/thousand");    /* mil */
	said(1001, "es", NULL, "digits/thousand&digits/1");
	said(1999, "es", NULL,
	     "digits/thousand&digits/900&digits/90&digits/and&digits/9");
	said(2000, "es", NULL, "digits/2&digits/thousand");
	said(21000, "es", NULL, "digits/21&digits/thousand");
	said(100000, "es", NULL, "digits/hundred&digits/thousand");  /* cien mil */
	said(1000000, "es_MX", NULL, "digits/1M&digits/million");    /* un millon */
	said(1000001, "es", NULL, "digits/1M&digits/million&digits/1");
	said(2000000, "es", NULL, "digits/2&digits/millions");
	said(999999999, "es", NULL,
	     "digits/900&digits/90&digits/and&digits/9&digits/millions&"
	     "digits/900&digits/90&digits/and&digits/9&digits/thousand&"
	     "digits/900&digits/90&digits/and&digits/9");
	said(-3, "es", NULL, "digits/minus&digits/3");
	assert_int_equal(say_number(2147483647, "es", NULL, out, sizeof(out)), ERANGE);
	assert_int_equal(say_number(1234, "en", NULL, out, 10), ENOSPC);
}

/* Every prompt SayNumber names for es exists in Debian's es set (when
 * installed): the list follows the files, not a guess. */
static void test_say_files_exist_es(void **state)
{
	static const int nums[] = { 1, 15, 21, 31, 100, 101, 345, 1000, 2000, 1000000,
				    2000000, -1 };
	const char *root = "/usr/share/asterisk/sounds/es_MX_f_Allison";
	char out[1024], path[512], *save = NULL, *t;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/digits/1M.wav", root);
	if (!(f = fopen(path, "r")))
		skip();
	fclose(f);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		assert_int_equal(say_number(nums[i], "es", "m", out, sizeof(out)), 0);
		for (t = strtok_r(out, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
			snprintf(path, sizeof(path), "%s/%s.wav", root, t);
			if (!(f = fopen(path, "r")))
				fail_msg("SayNumber(%d) in es names %s, not in %s", nums[i], t, root);
			fclose(f);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Fixtures: a dialplan, a fake call and fake media                    */

static struct dialplan *build(const char *text)
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

/* What the applications did to the call. */
struct fc {
	char log[4096];
	bool answered;
	bool playing, music;
	char keys[64];
	enum call_play_keys mode;
	call_play_h *h;
	void *arg;
	unsigned timer;
	int resumes;
	int hangups, cause;
	char lang[16], musicclass[32];
	int files_err;
};

static struct fc F;
static struct dp_chan *CH;
static int next_files_err;   /* what the next call's files() returns */

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	size_t n = strlen(F.log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(F.log + n, sizeof(F.log) - n, fmt, ap);
	va_end(ap);
}

static const char *m_get(struct call *c, const char *what)
{
	(void)c;
	if (!strcmp(what, "language"))
		return F.lang;
	if (!strcmp(what, "musicclass"))
		return F.musicclass;
	return NULL;
}
static int m_set(struct call *c, const char *what, const char *value)
{
	(void)c;
	if (!strcmp(what, "language"))
		snprintf(F.lang, sizeof(F.lang), "%s", value);
	else if (!strcmp(what, "musicclass"))
		snprintf(F.musicclass, sizeof(F.musicclass), "%s", value);
	else
		return EINVAL;
	return 0;
}
static bool m_answered(struct call *c) { (void)c; return F.answered; }
static int m_files(struct call *c, const char *lang, const char *list)
{
	(void)c;
	logf_("play(%s%s%s);", lang ? lang : "", lang ? ":" : "", list);
	F.playing = F.files_err != ENOENT;
	F.music = false;
	return F.files_err;
}
static bool m_playing(struct call *c) { (void)c; return F.playing; }
static int m_moh(struct call *c, const char *cls)
{
	(void)c;
	logf_("moh(%s);", cls ? cls : "");
	F.music = true;
	F.playing = false;
	return 0;
}
static int m_tone(struct call *c, const char *name)
{
	(void)c;
	logf_("tone(%s);", name);
	return 0;
}
static void m_stop(struct call *c)
{
	(void)c;
	if (F.playing || F.music)
		logf_("stop;");
	F.playing = F.music = false;
}
static void m_listen(struct call *c, enum call_play_keys keys, call_play_h *h, void *arg)
{
	void *old = F.arg;

	(void)c;
	F.mode = keys;
	F.h = h;
	F.arg = mem_ref(arg);
	mem_deref(old);
}
static void *m_arg(struct call *c) { (void)c; return F.arg; }
static void m_timer(struct call *c, unsigned ms) { (void)c; F.timer = ms; }
static char m_take(struct call *c)
{
	char d = F.keys[0];

	(void)c;
	if (d)
		memmove(F.keys, F.keys + 1, strlen(F.keys));
	return d;
}
static void m_resume(struct call *c) { (void)c; F.resumes++; }

static const struct call_play_ops fake_ops = {
	.get = m_get, .set = m_set, .answered = m_answered, .files = m_files,
	.playing = m_playing, .moh = m_moh, .tone = m_tone, .stop = m_stop,
	.listen = m_listen, .arg = m_arg, .timer = m_timer, .take = m_take,
	.resume = m_resume,
};

static int d_answer(void *c) { (void)c; F.answered = true; logf_("answer;"); return 0; }
static int d_hangup(void *c, int cause) { (void)c; F.hangups++; F.cause = cause; return 0; }
static int d_wait(void *c, unsigned ms) { (void)c; logf_("wait(%u);", ms); return 0; }
static const char *d_get(void *c, const char *what)
{
	(void)c;
	if (!strcmp(what, "callerid_num"))
		return "100";
	if (!strcmp(what, "channel"))
		return "SIP/100-tfg-00000001";
	return NULL;
}

static const struct dp_chan_ops dops = {
	.answer = d_answer, .hangup = d_hangup, .wait = d_wait, .get = d_get,
};

/* Start exten@ctx; the fake call pointer is &F. */
static enum dp_run start(struct dialplan *dp, const char *ctx, const char *exten,
			 const char *keys)
{
	memset(&F, 0, sizeof(F));
	F.files_err = next_files_err;
	next_files_err = 0;
	snprintf(F.lang, sizeof(F.lang), "en");
	snprintf(F.keys, sizeof(F.keys), "%s", keys ? keys : "");
	assert_int_equal(dp_chan_alloc(&CH, dp, &dops, &F, ctx, exten, 1), 0);
	return dp_chan_run(CH);
}

/* Deliver an event as call_play.c would; resume the engine if asked. */
static enum dp_run ev(enum call_play_ev e, char digit)
{
	int before = F.resumes;

	assert_non_null(F.h);
	if (e == CALL_PLAY_DONE)
		F.playing = false;
	F.h((struct call *)&F, e, digit, F.arg);
	if (F.resumes == before)
		return DP_WAIT;
	return dp_chan_resume(CH, DP_RES_CONTINUE);
}

static enum dp_run key(char d)
{
	return ev(CALL_PLAY_DIGIT, d);
}

static void done(void)
{
	dp_chan_free(CH);
	CH = NULL;
	assert_null(F.arg);   /* every listener released */
}

static const char *var(const char *name)
{
	const char *v = dp_chan_var_get(CH, name);

	return v ? v : "(unset)";
}

static int setup(void **state)
{
	(void)state;
	mem_before = mem_live();
	call_apps_init();
	call_apps_test_ops(&fake_ops);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	call_apps_test_ops(NULL);
	assert_int_equal(mem_live(), mem_before);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Matching more digits                                                */

#define IVR \
	"[ivr]\n" \
	"exten => s,1,Answer()\n" \
	" same => n,Background(menu)\n" \
	" same => n,WaitExten(3)\n" \
	"exten => 1,1,Playback(one)\n" \
	" same => n,Hangup()\n" \
	"exten => 2,1,Set(CHOSE=two)\n" \
	" same => n,Hangup()\n" \
	"exten => 12,1,Set(CHOSE=twelve)\n" \
	" same => n,Hangup()\n" \
	"exten => _5X.,1,Set(CHOSE=long-${EXTEN})\n" \
	" same => n,Hangup()\n" \
	"exten => _7!,1,Set(CHOSE=early-${EXTEN})\n" \
	" same => n,Hangup()\n" \
	"exten => i,1,Playback(invalid)\n" \
	" same => n,Hangup()\n" \
	"exten => t,1,Set(CHOSE=timeout)\n" \
	" same => n,Hangup()\n" \
	"include => more\n" \
	"[more]\n" \
	"exten => 345,1,Set(CHOSE=included)\n" \
	"[noti]\n" \
	"exten => s,1,WaitExten(2)\n" \
	"exten => 1,1,Hangup()\n" \
	"[next]\n" \
	"exten => s,1,WaitExten(2)\n" \
	" same => n,Set(CHOSE=went-on)\n"

static void test_matchmore(void **state)
{
	struct dialplan *dp = build(IVR);
	time_t now = 0;

	(void)state;
	assert_true(dialplan_matchmore(dp, "ivr", "1", NULL, now));    /* 12 */
	assert_false(dialplan_matchmore(dp, "ivr", "2", NULL, now));
	assert_false(dialplan_matchmore(dp, "ivr", "12", NULL, now));
	assert_true(dialplan_matchmore(dp, "ivr", "5", NULL, now));    /* _5X. */
	assert_true(dialplan_matchmore(dp, "ivr", "55", NULL, now));
	assert_true(dialplan_matchmore(dp, "ivr", "5512345", NULL, now));
	assert_false(dialplan_matchmore(dp, "ivr", "7", NULL, now));   /* _7! is final */
	assert_true(dialplan_matchmore(dp, "ivr", "3", NULL, now));    /* 345, included */
	assert_true(dialplan_matchmore(dp, "ivr", "34", NULL, now));
	assert_false(dialplan_matchmore(dp, "ivr", "9", NULL, now));
	assert_false(dialplan_matchmore(dp, "nowhere", "1", NULL, now));
	assert_true(dialplan_canmatch(dp, "ivr", "2", NULL, now));
	assert_true(dialplan_canmatch(dp, "ivr", "34", NULL, now));
	assert_true(dialplan_canmatch(dp, "ivr", "7", NULL, now));
	assert_false(dialplan_canmatch(dp, "ivr", "9", NULL, now));
	assert_false(dialplan_canmatch(dp, "ivr", "13", NULL, now));
	dialplan_free(dp);
}

static void test_collect(void **state)
{
	struct dialplan *dp = build(IVR);
	struct dp_collect dc;

	(void)state;
	memset(&F, 0, sizeof(F));
	assert_int_equal(dp_chan_alloc(&CH, dp, &dops, &F, "ivr", "s", 1), 0);
	assert_int_equal(dp_chan_timeout(CH, DP_TIMEOUT_DIGIT), 5000);
	assert_int_equal(dp_chan_timeout(CH, DP_TIMEOUT_RESPONSE), 10000);
	/* "1" could be "12": wait; "2" then completes */
	assert_true(dp_collect_start(&dc, CH, "ivr", '1'));
	assert_false(dp_collect_digit(&dc, CH, '2'));
	assert_int_equal(dp_collect_end(&dc, CH), DP_APP_JUMP);
	assert_string_equal(dp_chan_exten(CH), "12");
	assert_int_equal(dp_chan_priority(CH), 1);
	/* "1" and the digit timeout: extension 1 */
	assert_true(dp_collect_start(&dc, CH, "ivr", '1'));
	assert_int_equal(dp_collect_end(&dc, CH), DP_APP_JUMP);
	assert_string_equal(dp_chan_exten(CH), "1");
	/* "9": nothing could match: at once to i, INVALID_EXTEN */
	assert_false(dp_collect_start(&dc, CH, "ivr", '9'));
	assert_int_equal(dp_collect_end(&dc, CH), DP_APP_JUMP);
	assert_string_equal(dp_chan_exten(CH), "i");
	assert_string_equal(var("INVALID_EXTEN"), "9");
	/* "13": invalid after two digits */
	assert_true(dp_collect_start(&dc, CH, "ivr", '1'));
	assert_false(dp_collect_digit(&dc, CH, '3'));
	assert_int_equal(dp_collect_end(&dc, CH), DP_APP_JUMP);
	assert_string_equal(var("INVALID_EXTEN"), "13");
	/* no i in [noti]: hang up */
	assert_false(dp_collect_start(&dc, CH, "noti", '9'));
	assert_int_equal(dp_collect_end(&dc, CH), DP_APP_HANGUP);
	/* a timeout with no digits: t, else hang up */
	assert_int_equal(dp_chan_goto_digits(CH, "ivr", ""), DP_APP_JUMP);
	assert_string_equal(dp_chan_exten(CH), "t");
	assert_int_equal(dp_chan_goto_digits(CH, "noti", ""), DP_APP_HANGUP);
	dp_chan_free(CH);
	dialplan_free(dp);
}

/* ------------------------------------------------------------------ */
/* The applications                                                    */

static void test_ivr_menu(void **state)
{
	struct dialplan *dp = build(IVR);

	(void)state;
	/* Answer, Background(menu): the prompt plays, keys are delivered */
	assert_int_equal(start(dp, "ivr", "s", NULL), DP_WAIT);
	assert_string_equal(F.log, "answer;play(menu);");
	assert_int_equal(F.mode, CALL_PLAY_DELIVER);
	assert_string_equal(var("BACKGROUNDSTATUS"), "SUCCESS");
	/* "2" interrupts: nothing longer starts with 2, straight there */
	assert_int_equal(key('2'), DP_HANGUP);
	assert_string_equal(F.log, "answer;play(menu);stop;");
	assert_string_equal(var("CHOSE"), "two");
	done();

	/* the prompt ends, WaitExten(3) waits 3 s; "1" might be "12": the
	 * digit timeout (5 s) passes: extension 1 plays its prompt */
	assert_int_equal(start(dp, "ivr", "s", NULL), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_int_equal(F.timer, 3000);
	assert_int_equal(key('1'), DP_WAIT);
	assert_int_equal(F.timer, 5000);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_WAIT);
	assert_string_equal(dp_chan_exten(CH), "1");
	assert_string_equal(F.log, "answer;play(menu);play(one);");
	assert_int_equal(F.mode, CALL_PLAY_DROP);   /* Playback drops keys */
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	assert_string_equal(var("PLAYBACKSTATUS"), "SUCCESS");
	done();

	/* "1" then "2" within the digit timeout: 12 */
	assert_int_equal(start(dp, "ivr", "s", NULL), DP_WAIT);
	assert_int_equal(key('1'), DP_WAIT);
	assert_int_equal(key('2'), DP_HANGUP);
	assert_string_equal(var("CHOSE"), "twelve");
	done();

	/* an included extension, three digits */
	assert_int_equal(start(dp, "ivr", "s", NULL), DP_WAIT);
	assert_int_equal(key('3'), DP_WAIT);
	assert_int_equal(key('4'), DP_WAIT);
	assert_int_equal(key('5'), DP_HANGUP);
	assert_string_equal(var("CHOSE"), "included");
	done();

	/* a pattern that always matches more: ends on the digit timeout */
	assert_int_equal(start(dp, "ivr", "s", NULL), DP_WAIT);
	assert_int_equal(key('5'), DP_WAIT);
	assert_int_equal(key('5'), DP_WAIT);
	assert_int_equal(key('0'), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_HANGUP);
	assert_string_equal(var("CHOSE"), "long-550");
	done();

	/* "_7!": an early match, no waiting */
	assert_int_equal(start(dp, "ivr", "s", NULL), DP_WAIT);
	assert_int_equal(key('7'), DP_HANGUP);
	assert_string_equal(var("CHOSE"), "early-7");
	done();

	/* "9": invalid: i plays invalid, INVALID_EXTEN=9 */
	assert_int_equal(start(dp, "ivr", "s", NULL), DP_WAIT);
	assert_int_equal(key('9'), DP_WAIT);
	assert_string_equal(dp_chan_exten(CH), "i");
	assert_string_equal(var("INVALID_EXTEN"), "9");
	assert_string_equal(F.log, "answer;play(menu);stop;play(invalid);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	done();

	/* nothing pressed: WaitExten's 3 s pass, t */
	assert_int_equal(start(dp, "ivr", "s", NULL), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_HANGUP);
	assert_string_equal(var("CHOSE"), "timeout");
	done();
	dialplan_free(dp);
}

static void test_keys_kept(void **state)
{
	struct dialplan *dp = build(IVR);

	(void)state;
	/* a key pressed before Background (kept by the call) stops it at
	 * once: the prompt never starts */
	assert_int_equal(start(dp, "ivr", "s", "2"), DP_HANGUP);
	assert_string_equal(F.log, "answer;");
	assert_string_equal(var("CHOSE"), "two");
	done();
	/* "1" kept, then "2" kept: collected without waiting */
	assert_int_equal(start(dp, "ivr", "s", "12"), DP_HANGUP);
	assert_string_equal(var("CHOSE"), "twelve");
	done();
	/* Playback drops the keys pressed before it */
	assert_int_equal(start(dp, "ivr", "1", "9"), DP_WAIT);
	assert_string_equal(F.keys, "");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	done();
	dialplan_free(dp);
}

static void test_waitexten_timeouts(void **state)
{
	struct dialplan *dp = build(IVR
		"[resp]\n"
		"exten => s,1,Set(TIMEOUT(response)=4)\n"
		" same => n,Set(TIMEOUT(digit)=2.5)\n"
		" same => n,Set(R=${TIMEOUT(response)}/${TIMEOUT(digit)})\n"
		" same => n,WaitExten()\n"
		"exten => 1,1,Hangup()\n"
		"exten => 12,1,Hangup()\n"
		"exten => t,1,Hangup()\n");

	(void)state;
	/* no t: hang up */
	assert_int_equal(start(dp, "noti", "s", NULL), DP_WAIT);
	assert_int_equal(F.timer, 2000);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_HANGUP);
	assert_int_equal(F.hangups, 1);
	done();
	/* a next priority: WaitExten's timeout goes on there */
	assert_int_equal(start(dp, "next", "s", NULL), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_HANGUP);
	assert_string_equal(var("CHOSE"), "went-on");
	done();
	/* TIMEOUT(response) is WaitExten's default, TIMEOUT(digit) the gap */
	assert_int_equal(start(dp, "resp", "s", NULL), DP_WAIT);
	assert_string_equal(var("R"), "4.000/2.500");
	assert_int_equal(F.timer, 4000);
	assert_int_equal(key('1'), DP_WAIT);
	assert_int_equal(F.timer, 2500);
	assert_int_equal(key('2'), DP_HANGUP);
	done();
	dialplan_free(dp);
}

static void test_read(void **state)
{
	struct dialplan *dp = build(
		"[r]\n"
		"exten => 1,1,Read(PIN,enter-pin,4)\n"
		" same => n,Set(GOT=${PIN}:${READSTATUS})\n"
		"exten => 2,1,Read(PIN,enter-pin,,,2,3)\n"
		" same => n,Set(GOT=${PIN}:${READSTATUS})\n"
		"exten => 3,1,Read(PIN,,,s)\n"
		" same => n,Set(GOT=${PIN}:${READSTATUS})\n"
		"exten => 4,1,Read(PIN,dial,,i)\n"
		" same => n,Set(GOT=${PIN}:${READSTATUS})\n"
		"exten => h,1,Set(H=${PIN}:${READSTATUS})\n");

	(void)state;
	/* '#' ends; the prompt stops at the first key */
	assert_int_equal(start(dp, "r", "1", NULL), DP_WAIT);
	assert_string_equal(F.log, "answer;play(enter-pin);");
	assert_int_equal(key('4'), DP_WAIT);
	assert_int_equal(F.timer, 5000);
	assert_int_equal(key('2'), DP_WAIT);
	assert_int_equal(key('#'), DP_HANGUP);
	assert_string_equal(var("GOT"), "42:OK");
	assert_string_equal(F.log, "answer;play(enter-pin);stop;");
	done();
	/* maxdigits ends it too */
	assert_int_equal(start(dp, "r", "1", "1234"), DP_HANGUP);
	assert_string_equal(var("GOT"), "1234:OK");
	done();
	/* '#' alone: empty, OK */
	assert_int_equal(start(dp, "r", "1", NULL), DP_WAIT);
	assert_int_equal(key('#'), DP_HANGUP);
	assert_string_equal(var("GOT"), ":OK");
	done();
	/* prompt played, keys then a pause: TIMEOUT with what was typed */
	assert_int_equal(start(dp, "r", "1", NULL), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_int_equal(F.timer, 10000);
	assert_int_equal(key('7'), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_HANGUP);
	assert_string_equal(var("GOT"), "7:TIMEOUT");
	done();
	/* nothing typed: asked again (attempts 2, timeout 3 s), then TIMEOUT */
	assert_int_equal(start(dp, "r", "2", NULL), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_int_equal(F.timer, 3000);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_WAIT);
	assert_string_equal(F.log, "answer;play(enter-pin);play(enter-pin);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_HANGUP);
	assert_string_equal(var("GOT"), ":TIMEOUT");
	done();
	/* the caller hangs up while typing: READSTATUS=HANGUP for h */
	assert_int_equal(start(dp, "r", "1", NULL), DP_WAIT);
	assert_int_equal(key('5'), DP_WAIT);
	assert_int_equal(dp_chan_hangup(CH, 16), DP_HANGUP);
	assert_string_equal(var("H"), "5:HANGUP");
	assert_int_equal(F.hangups, 0);
	done();
	/* s: not answered, skipped */
	assert_int_equal(start(dp, "r", "3", NULL), DP_HANGUP);
	assert_string_equal(var("GOT"), ":SKIPPED");
	assert_string_equal(F.log, "");
	done();
	/* i: the prompt is a tone, the timer runs while it plays */
	assert_int_equal(start(dp, "r", "4", NULL), DP_WAIT);
	assert_string_equal(F.log, "answer;tone(dial);");
	assert_int_equal(F.timer, 10000);
	assert_int_equal(key('3'), DP_WAIT);
	assert_int_equal(key('#'), DP_HANGUP);
	assert_string_equal(var("GOT"), "3:OK");
	done();
	dialplan_free(dp);
}

static void test_playback_and_say(void **state)
{
	struct dialplan *dp = build(
		"[p]\n"
		"exten => 1,1,Playback(hello&missing)\n"
		" same => n,Set(S=${PLAYBACKSTATUS})\n"
		"exten => 2,1,Playback(hello,noanswer)\n"
		"exten => 3,1,Playback(hello,skip)\n"
		" same => n,Set(S=${PLAYBACKSTATUS})\n"
		"exten => 4,1,Set(CHANNEL(language)=es)\n"
		" same => n,Set(L=${CHANNEL(language)})\n"
		" same => n,SayNumber(21)\n"
		" same => n,SayNumber(1,f)\n"
		" same => n,SayDigits(1#)\n"
		" same => n,SayNumber(x)\n"
		" same => n,Set(DONE=1)\n"
		"exten => 5,1,Set(SAY_DTMF_INTERRUPT=yes)\n"
		" same => n,SayDigits(55)\n"
		"exten => 6,1,Set(CHOSE=six)\n"
		"exten => 7,1,SayNumber(3,x)\n"
		" same => n,Set(NOT=reached)\n"
		"exten => 8,1,Background(menu,np,fr)\n"
		"exten => 9,1,Playback()\n"
		"[mus]\n"
		"exten => 1,1,MusicOnHold(masip_tecnico,20)\n"
		" same => n,StartMusicOnHold()\n"
		" same => n,Set(CHANNEL(musicclass)=jazz)\n"
		" same => n,Set(M=${CHANNEL(musicclass)})\n"
		" same => n,StopMusicOnHold()\n"
		" same => n,WaitExten(5,m(jazz))\n"
		"exten => t,1,Hangup()\n");

	(void)state;
	/* a missing file: PLAYBACKSTATUS=FAILED, the rest plays, the call
	 * goes on */
	next_files_err = EIO;
	assert_int_equal(start(dp, "p", "1", NULL), DP_WAIT);
	assert_string_equal(F.log, "answer;play(hello&missing);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	assert_string_equal(var("S"), "FAILED");
	done();
	next_files_err = ENOENT;   /* no file of the list exists */
	assert_int_equal(start(dp, "p", "1", NULL), DP_HANGUP);
	assert_string_equal(var("S"), "FAILED");
	done();
	/* noanswer: played without answering (call_play sends 183) */
	assert_int_equal(start(dp, "p", "2", NULL), DP_WAIT);
	assert_string_equal(F.log, "play(hello);");
	assert_false(F.answered);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	done();
	/* skip: not answered, nothing played */
	assert_int_equal(start(dp, "p", "3", NULL), DP_HANGUP);
	assert_string_equal(var("S"), "SUCCESS");
	assert_string_equal(F.log, "");
	done();
	/* the language picks the grammar; SayNumber does not answer */
	assert_int_equal(start(dp, "p", "4", NULL), DP_WAIT);
	assert_string_equal(var("L"), "es");
	assert_string_equal(F.log, "play(digits/21);");
	assert_int_equal(F.mode, CALL_PLAY_DROP);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);   /* SayNumber(x) warns */
	assert_string_equal(F.log, "play(digits/21);play(digits/1F);"
			  "play(digits/1&digits/pound);");
	assert_string_equal(var("DONE"), "1");
	done();
	/* SAY_DTMF_INTERRUPT: a key is dialled */
	assert_int_equal(start(dp, "p", "5", NULL), DP_WAIT);
	assert_int_equal(F.mode, CALL_PLAY_DELIVER);
	assert_int_equal(key('6'), DP_HANGUP);
	assert_string_equal(var("CHOSE"), "six");
	done();
	/* a bad gender: hang up, as Asterisk */
	assert_int_equal(start(dp, "p", "7", NULL), DP_HANGUP);
	assert_string_equal(var("NOT"), "(unset)");
	done();
	/* Background n (no answer), p (keys do not interrupt), language fr */
	assert_int_equal(start(dp, "p", "8", "5"), DP_WAIT);
	assert_string_equal(F.log, "play(fr:menu);");
	assert_int_equal(F.mode, CALL_PLAY_DROP);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	done();
	/* no file named: a warning and hang-up, as Asterisk */
	assert_int_equal(start(dp, "p", "9", NULL), DP_HANGUP);
	done();
	/* music: for 20 s, keys kept meanwhile; Start/Stop; WaitExten m */
	assert_int_equal(start(dp, "mus", "1", NULL), DP_WAIT);
	assert_string_equal(F.log, "moh(masip_tecnico);");
	assert_int_equal(F.mode, CALL_PLAY_KEEP);
	assert_int_equal(F.timer, 20000);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_WAIT);
	assert_string_equal(var("M"), "jazz");
	assert_string_equal(F.log, "moh(masip_tecnico);stop;moh();stop;moh(jazz);");
	assert_int_equal(F.timer, 5000);
	assert_int_equal(ev(CALL_PLAY_TIMER, 0), DP_HANGUP);
	assert_string_equal(F.log, "moh(masip_tecnico);stop;moh();stop;moh(jazz);stop;");
	done();
	dialplan_free(dp);
}

int test_call_apps_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_say_digits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_say_number_en, setup, teardown),
		cmocka_unit_test_setup_teardown(test_say_number_es, setup, teardown),
		cmocka_unit_test_setup_teardown(test_say_files_exist_es, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matchmore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ivr_menu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waitexten_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_playback_and_say, setup, teardown),
	};

	return cmocka_run_group_tests_name("call_apps", tests, NULL, NULL);
}
