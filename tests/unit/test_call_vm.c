/** @file test_call_vm.c  VoiceMail and VoiceMailMain (src/pbx/call_vm.c)
 * run by the real dialplan engine on a fake call, as test_call_apps.c
 * does: media ops stood in for, the recording tap handing the test the
 * recording to write samples into, a spool in a temporary DATADIR;
 * events are injected, no network, no clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/mem.h"
#include "dialplan/dialplan.h"
#include "dialplan/exec.h"
#include "media/rec.h"
#include "pbx/call_play.h"
#include "pbx/call_vm.h"
#include "pbx/voicemail_conf.h"
#include "pbx/voicemail_spool.h"
#include "suites.h"

static size_t mem_before;
static char dir[PATH_MAX];

/* ------------------------------------------------------------ parsing */

static void test_parse(void **state)
{
	struct call_vm_args a;

	(void)state;
	assert_int_equal(call_vm_parse("tfg@default&200 , us", &a), 0);
	assert_int_equal(a.nboxes, 2);
	assert_string_equal(a.boxes[0], "tfg@default");
	assert_string_equal(a.boxes[1], "200@default");
	assert_true(a.unavail);
	assert_true(a.skip);
	assert_false(a.busy);
	assert_int_equal(call_vm_parse("100@sales,g(3)b", &a), 0);
	assert_int_equal(a.nboxes, 1);
	assert_string_equal(a.boxes[0], "100@sales");
	assert_true(a.busy);
	assert_false(a.unavail);
	assert_false(a.skip);
	assert_int_equal(call_vm_parse("", &a), EINVAL);
	assert_int_equal(call_vm_parse(",u", &a), EINVAL);
	assert_int_equal(call_vm_parse("@ctx", &a), EINVAL);
}

/* ------------------------------------------------------------ fixtures */

struct fc {
	char log[4096];
	bool answered, playing;
	call_play_h *h;
	void *arg;
	unsigned timer;
	int resumes;
	struct rec *rec;   /* what the tap records into (not referenced) */
};

static struct fc F;
static struct dp_chan *CH;
static struct vmconf *VC;

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
	return !strcmp(what, "language") ? "en" : "";
}
static int m_set(struct call *c, const char *what, const char *value)
{
	(void)c, (void)what, (void)value;
	return 0;
}
static bool m_answered(struct call *c) { (void)c; return F.answered; }
static int m_files(struct call *c, const char *lang, const char *list)
{
	(void)c, (void)lang;
	/* spool paths shortened to what follows DATADIR */
	if (!strncmp(list, dir, strlen(dir)))
		logf_("play(DATA%s);", list + strlen(dir));
	else
		logf_("play(%s);", list);
	F.playing = true;
	return 0;
}
static bool m_playing(struct call *c) { (void)c; return F.playing; }
static int m_moh(struct call *c, const char *cls) { (void)c, (void)cls; return 0; }
static int m_tone(struct call *c, const char *name) { (void)c, (void)name; return 0; }
static void m_stop(struct call *c) { (void)c; F.playing = false; }
static void m_listen(struct call *c, enum call_play_keys keys, call_play_h *h, void *arg)
{
	void *old = F.arg;

	(void)c, (void)keys;
	F.h = h;
	F.arg = mem_ref(arg);
	mem_deref(old);
}
static void *m_arg(struct call *c) { (void)c; return F.arg; }
static void m_timer(struct call *c, unsigned ms) { (void)c; F.timer = ms; }
static char m_take(struct call *c) { (void)c; return 0; }
static void m_resume(struct call *c) { (void)c; F.resumes++; }

static const struct call_play_ops fake_ops = {
	.get = m_get, .set = m_set, .answered = m_answered, .files = m_files,
	.playing = m_playing, .moh = m_moh, .tone = m_tone, .stop = m_stop,
	.listen = m_listen, .arg = m_arg, .timer = m_timer, .take = m_take,
	.resume = m_resume,
};

static int fake_tap(struct call *c, struct rec *rec)
{
	(void)c;
	logf_(rec ? "rec;" : "unrec;");
	F.rec = rec;
	return 0;
}

static int d_answer(void *c) { (void)c; F.answered = true; logf_("answer;"); return 0; }
static int d_hangup(void *c, int cause) { (void)c, (void)cause; return 0; }
static const char *d_get(void *c, const char *what)
{
	(void)c;
	if (!strcmp(what, "callerid_num"))
		return "100-tfg";
	if (!strcmp(what, "callerid_name"))
		return "Recepcion";
	if (!strcmp(what, "channel"))
		return "SIP/100-tfg-00000001";
	return NULL;
}
static const struct dp_chan_ops dops = { .answer = d_answer, .hangup = d_hangup, .get = d_get };

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

static enum dp_run start(struct dialplan *dp, const char *exten)
{
	memset(&F, 0, sizeof(F));
	assert_int_equal(dp_chan_alloc(&CH, dp, &dops, &F, "vm", exten, 1), 0);
	return dp_chan_run(CH);
}

static enum dp_run ev(enum call_play_ev e, char digit)
{
	int before = F.resumes;

	assert_non_null(F.h);
	if (e == CALL_PLAY_DONE)
		F.playing = false;
	F.log[0] = '\0';
	F.h((struct call *)&F, e, digit, F.arg);
	if (F.resumes == before)
		return DP_WAIT;
	return dp_chan_resume(CH, DP_RES_CONTINUE);
}

static enum dp_run keys(const char *k)
{
	enum dp_run r = DP_WAIT;

	for (; *k && r == DP_WAIT; k++)
		r = ev(CALL_PLAY_DIGIT, *k);
	return r;
}

static void speak(unsigned secs)
{
	int16_t pcm[800] = { 0 };

	assert_non_null(F.rec);
	for (unsigned i = 0; i < secs * 10; i++)
		assert_int_equal(rec_write(F.rec, pcm, 800), 0);
}

static void done(void)
{
	dp_chan_free(CH);
	CH = NULL;
	assert_null(F.arg);
}

static const char *var(const char *name)
{
	const char *v = dp_chan_var_get(CH, name);

	return v ? v : "(unset)";
}

static bool spool_has(const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/voicemail/default/tfg/%s", dir, rel);
	return access(p, F_OK) == 0;
}

static int count_of(const char *box, const char *folder)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/voicemail/default/%s/%s", dir, box, folder);
	return vm_folder_count(p);
}

static int count(const char *folder)
{
	return count_of("tfg", folder);
}

#define VMCONF \
	"[general]\nminsecs=2\nmaxlogins=2\n[default]\ntfg => 2020,TFG Empresa\n" \
	"200 => 1234,Otro,,,maxmsg=1\n"
#define EXT \
	"[vm]\n" \
	"exten => 1,1,VoiceMail(tfg@default,u)\n" \
	" same => n,Set(S=${VMSTATUS})\n" \
	"exten => 2,1,VoiceMailMain(tfg@default)\n" \
	" same => n,Set(S=left)\n" \
	"exten => 3,1,VoiceMail(nobody@default)\n" \
	" same => n,Set(S=${VMSTATUS})\n" \
	"exten => 4,1,VoiceMail(tfg@default&200@default,s)\n" \
	" same => n,Set(S=${VMSTATUS})\n" \
	"exten => 5,1,VoiceMail(200,b)\n" \
	" same => n,Set(S=${VMSTATUS})\n"

static int setup(void **state)
{
	struct conf *conf = NULL;
	char err[256];

	(void)state;
	mem_before = mem_live();
	snprintf(dir, sizeof(dir), "/tmp/tandem-vm-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(conf_parse_buf(&conf, NULL, "voicemail.conf", VMCONF, strlen(VMCONF),
					err, sizeof(err)), 0);
	assert_int_equal(vmconf_build(&VC, conf, err, sizeof(err)), 0);
	call_vm_init(dir);
	call_vm_test_hooks(&fake_ops, fake_tap, VC);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	call_vm_test_hooks(NULL, NULL, NULL);
	vmconf_free(VC);
	VC = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mem_live(), mem_before);
	return 0;
}

/* ------------------------------------------------------------ VoiceMail */

static void test_leave(void **state)
{
	struct dialplan *dp = build(EXT);
	char p[PATH_MAX * 2];
	struct vm_msg_info m;

	(void)state;
	/* standard prompts (no unavail.wav; "tfg" has no digits to say) */
	assert_int_equal(start(dp, "1"), DP_WAIT);
	assert_string_equal(F.log, "answer;play(vm-theperson&vm-isunavail&vm-intro&beep);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_string_equal(F.log, "rec;");
	speak(3);
	assert_int_equal(keys("#"), DP_WAIT);
	assert_string_equal(F.log, "unrec;play(auth-thankyou);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	assert_string_equal(var("S"), "SUCCESS");
	done();
	assert_int_equal(count("INBOX"), 1);
	assert_true(spool_has("INBOX/msg0000.wav"));
	snprintf(p, sizeof(p), "%s/voicemail/default/tfg/INBOX/msg0000.txt", dir);
	assert_int_equal(vm_msg_info_read(p, &m), 0);
	assert_string_equal(m.callerid, "\"Recepcion\" <100-tfg>");
	assert_string_equal(m.origmailbox, "tfg");
	assert_string_equal(m.callerchan, "SIP/100-tfg-00000001");
	assert_string_equal(m.context, "vm");
	assert_int_equal(m.duration, 3);

	/* too short (minsecs=2): discarded, FAILED, nothing left */
	assert_int_equal(start(dp, "1"), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	speak(1);
	assert_int_equal(keys("#"), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	assert_string_equal(var("S"), "FAILED");
	done();
	assert_int_equal(count("INBOX"), 1);
	assert_false(spool_has("INBOX/msg0001.wav"));

	/* the caller hangs up while recording: kept */
	assert_int_equal(start(dp, "1"), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	speak(2);
	assert_int_equal(dp_chan_hangup(CH, 16), DP_HANGUP);
	assert_string_equal(var("VMSTATUS"), "SUCCESS");
	done();
	assert_int_equal(count("INBOX"), 2);
	assert_true(spool_has("INBOX/msg0001.wav"));

	/* '*' during the greeting: USEREXIT, no recording */
	assert_int_equal(start(dp, "1"), DP_WAIT);
	assert_int_equal(keys("*"), DP_HANGUP);
	assert_string_equal(var("S"), "USEREXIT");
	done();

	/* an unknown mailbox: FAILED at once */
	assert_int_equal(start(dp, "3"), DP_HANGUP);
	assert_string_equal(var("S"), "FAILED");
	assert_string_equal(F.log, "");
	done();
	assert_int_equal(count("INBOX"), 2);
	assert_int_equal(count("tmp"), 0);

	/* two boxes: saved in the first, copied to the second */
	assert_int_equal(start(dp, "4"), DP_WAIT);
	assert_string_equal(F.log, "answer;play(beep);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	speak(2);
	assert_int_equal(keys("#"), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	assert_string_equal(var("S"), "SUCCESS");
	done();
	assert_int_equal(count("INBOX"), 3);
	assert_int_equal(count_of("200", "INBOX"), 1);

	/* 200 is full (maxmsg=1): vm-mailboxfull, FAILED, nothing recorded */
	assert_int_equal(start(dp, "5"), DP_WAIT);
	assert_string_equal(F.log, "answer;play(vm-theperson&digits/2&digits/0&digits/0&"
			    "vm-isonphone&vm-intro&beep);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_string_equal(F.log, "play(vm-mailboxfull);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	assert_string_equal(var("S"), "FAILED");
	done();
	assert_int_equal(count_of("200", "INBOX"), 1);
	assert_int_equal(count_of("200", "tmp"), 0);
	dialplan_free(dp);
}

/* ------------------------------------------------------- VoiceMailMain */

static void test_main(void **state)
{
	struct dialplan *dp = build(EXT);

	(void)state;
	/* one message first */
	assert_int_equal(start(dp, "1"), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	speak(2);
	assert_int_equal(keys("#"), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	done();

	assert_int_equal(start(dp, "2"), DP_WAIT);
	assert_string_equal(F.log, "answer;play(vm-password);");
	assert_int_equal(keys("12#"), DP_WAIT);   /* wrong */
	assert_string_equal(F.log, "play(vm-incorrect);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_string_equal(F.log, "play(vm-password);");
	assert_int_equal(keys("2020#"), DP_WAIT);
	assert_string_equal(F.log, "play(vm-youhave&digits/1&vm-INBOX&vm-message&"
			    "vm-onefor&vm-INBOX&vm-opts);");
	assert_int_equal(keys("1"), DP_WAIT);   /* play: heard, to Old */
	assert_string_equal(F.log, "play(DATA/voicemail/default/tfg/INBOX/msg0000);");
	assert_int_equal(count("INBOX"), 0);
	assert_int_equal(count("Old"), 1);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);   /* waits for 7, 9, # */
	assert_int_equal(keys("#"), DP_WAIT);
	assert_string_equal(F.log, "play(vm-nomore);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_string_equal(F.log, "play(vm-youhave&digits/1&vm-Old&vm-message&"
			    "vm-onefor&vm-INBOX&vm-opts);");
	assert_int_equal(keys("1"), DP_WAIT);   /* the old one, then 7 deletes */
	assert_string_equal(F.log, "play(DATA/voicemail/default/tfg/Old/msg0000);");
	assert_int_equal(keys("7"), DP_WAIT);
	assert_string_equal(F.log, "play(vm-deleted);");
	assert_int_equal(count("Old"), 0);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_string_equal(F.log, "play(vm-nomore);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_string_equal(F.log, "play(vm-youhave&vm-no&vm-messages&vm-onefor&vm-INBOX&vm-opts);");
	/* options: 1 records the unavailable greeting */
	assert_int_equal(keys("0"), DP_WAIT);
	assert_string_equal(F.log, "play(vm-options);");
	assert_int_equal(keys("1"), DP_WAIT);
	assert_string_equal(F.log, "play(vm-rec-unv&beep);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_string_equal(F.log, "rec;");
	speak(2);
	assert_int_equal(keys("#"), DP_WAIT);
	assert_string_equal(F.log, "unrec;play(vm-msgsaved);");
	assert_true(spool_has("unavail.wav"));
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_string_equal(F.log, "play(vm-options);");
	assert_int_equal(keys("*"), DP_WAIT);
	assert_int_equal(keys("#"), DP_WAIT);
	assert_string_equal(F.log, "play(vm-goodbye);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	assert_string_equal(var("S"), "(unset)");   /* VoiceMailMain hangs up */
	done();

	/* the greeting is now played by VoiceMail u */
	assert_int_equal(start(dp, "1"), DP_WAIT);
	assert_string_equal(F.log, "answer;play(DATA/voicemail/default/tfg/unavail&vm-intro&beep);");
	assert_int_equal(dp_chan_hangup(CH, 16), DP_HANGUP);
	done();

	/* maxlogins=2: two wrong PINs and goodbye */
	assert_int_equal(start(dp, "2"), DP_WAIT);
	assert_int_equal(keys("1#"), DP_WAIT);
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_WAIT);
	assert_int_equal(keys("1#"), DP_WAIT);
	assert_string_equal(F.log, "play(vm-goodbye);");
	assert_int_equal(ev(CALL_PLAY_DONE, 0), DP_HANGUP);
	done();
	assert_int_equal(count("tmp"), 0);
	dialplan_free(dp);
}

int test_call_vm_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_leave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_main, setup, teardown),
	};

	return cmocka_run_group_tests_name("call_vm", tests, NULL, NULL);
}
