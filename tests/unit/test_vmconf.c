/**
 * @file test_vmconf.c  voicemail.conf (src/pbx/voicemail_conf.c) and the
 * voicemail spool (src/pbx/voicemail_spool.c): the seed's file, an
 * Asterisk-sample file with its warnings, errors, lookups, paths, the
 * msgNNNN.txt format, numbering, atomic commits and a write that fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "pbx/voicemail_conf.h"
#include "pbx/voicemail_spool.h"
#include "logcap.h"
#include "suites.h"

#define DATA TANDEM_SOURCE_DIR "/tests/data/conf"

static char err[512];

/* ------------------------------------------------------------ helpers */

static struct vmconf *load(const char *dir, char **log)
{
	struct conf *c = NULL;
	struct vmconf *vc = NULL;

	logcap_start();
	assert_int_equal(conf_load(&c, dir, "voicemail.conf", err, sizeof(err)), 0);
	if (vmconf_build(&vc, c, err, sizeof(err)))
		fail_msg("vmconf_build: %s", err);
	*log = logcap_end();
	return vc;
}

/* Build from text that must fail with msg. */
static void build_err(const char *text, const char *msg)
{
	struct conf *c = NULL;
	struct vmconf *vc = NULL;

	assert_int_equal(conf_parse_buf(&c, NULL, "voicemail.conf", text, strlen(text), err,
					sizeof(err)), 0);
	assert_int_equal(vmconf_build(&vc, c, err, sizeof(err)), EINVAL);
	assert_null(vc);
	assert_string_equal(err, msg);
}

static struct vmconf *build(const char *text)
{
	struct conf *c = NULL;
	struct vmconf *vc = NULL;

	assert_int_equal(conf_parse_buf(&c, NULL, "voicemail.conf", text, strlen(text), err,
					sizeof(err)), 0);
	assert_int_equal(vmconf_build(&vc, c, err, sizeof(err)), 0);
	return vc;
}

/* ---------------------------------------------------- voicemail.conf */

static void t_seed(void **state)
{
	char *log;
	struct vmconf *vc = load(DATA "/tfg", &log);
	const struct vm_mailbox *b;

	(void)state;
	assert_int_equal(logcap_count(log, "WARNING"), 0);
	free(log);
	assert_int_equal(vc->nboxes, 3);
	b = vmconf_mailbox(vc, "tfg@default");
	assert_non_null(b);
	assert_ptr_equal(b, vmconf_mailbox(vc, "tfg"));
	assert_ptr_equal(b, vmconf_mailbox(vc, "TFG@Default"));
	assert_string_equal(b->pin, "2020");
	assert_false(b->pin_locked);
	assert_string_equal(b->fullname, "TFG Empresa");
	assert_string_equal(b->email, "");
	assert_true(b->o.saycid);
	assert_true(b->o.attach);             /* [general] attach=yes */
	assert_int_equal(b->o.maxsecs, 180);
	assert_string_equal(b->o.tz, "european");
	assert_string_equal(vmconf_zone(vc, "european")->timezone, "Europe/Madrid");
	assert_int_equal(vc->gen.nformats, 3);
	assert_string_equal(vc->gen.formats[0], "wav49");
	assert_string_equal(vm_format_ext(vc->gen.formats[0]), "WAV");
	assert_int_equal(vc->gen.maxsilence, 10);
	b = vmconf_mailbox(vc, "101");
	assert_non_null(b);
	assert_true(b->pin_locked);
	assert_string_equal(b->pin, "1010");
	assert_string_equal(b->email, "puesto101@example.com");
	assert_null(vmconf_mailbox(vc, "102"));
	assert_null(vmconf_mailbox(vc, "tfg@other"));
	vmconf_free(vc);
}

static void t_asterisk_sample(void **state)
{
	char *log;
	struct vmconf *vc = load(DATA "/asterisk", &log);
	const struct vm_mailbox *b;

	(void)state;
	assert_int_equal(logcap_count(log, "WARNING"), 6);
	assert_non_null(strstr(log, "voicemail.conf:4: format 'mp9' is not"));
	assert_non_null(strstr(log, "voicemail.conf:7: maxmsg=12000 in [general] is more "
				    "than 9999; 9999 is used"));
	assert_non_null(strstr(log, "voicemail.conf:19: unknown option 'colour' in [general]"));
	assert_non_null(strstr(log, "voicemail.conf:25: zone 'broken' must be written"));
	assert_non_null(strstr(log, "voicemail.conf:32: tz=european of mailbox 4235@default: "
				    "no such zone"));
	assert_non_null(strstr(log, "voicemail.conf:35: mailbox 1234@default is already "
				    "defined at voicemail.conf:28"));
	free(log);

	assert_int_equal(vc->gen.nformats, 3);
	assert_int_equal(vc->gen.defaults.maxmsg, 9999);
	assert_true(vc->gen.defaults.review);
	b = vmconf_mailbox(vc, "1234");
	assert_string_equal(b->pin, "4242");          /* the first definition */
	assert_int_equal(b->o.maxmsg, 9999);
	b = vmconf_mailbox(vc, "4200@default");
	assert_false(b->o.attach);
	assert_string_equal(b->o.serveremail, "myaddy@digium.com");
	assert_string_equal(b->o.fromstring, "MySystem");
	assert_string_equal(b->o.tz, "central");
	assert_int_equal(b->o.maxmsg, 10);
	assert_string_equal(b->pager, "mypager@digium.com");
	b = vmconf_mailbox(vc, "4069");
	assert_string_equal(b->o.dialout, "fromvm");
	assert_int_equal(b->o.saydurationm, 1);
	assert_true(b->o.saycid);
	b = vmconf_mailbox(vc, "4073");
	assert_true(b->o.delete_after);
	assert_string_equal(b->o.emailsubject, "You have a new voicemail.");
	b = vmconf_mailbox(vc, "4235");
	assert_string_equal(b->o.tz, "european");     /* "Tz=": keys ignore case */
	b = vmconf_mailbox(vc, "4310");
	assert_true(b->pin_locked);
	assert_string_equal(b->pin, "5432");
	b = vmconf_mailbox(vc, "4400");               /* ','-separated options */
	assert_true(b->o.attach);
	assert_string_equal(b->o.tz, "eastern");
	assert_string_equal(b->o.emailbody, "Hello, you have mail");
	/* aliasescontext and a second context */
	assert_ptr_equal(vmconf_mailbox(vc, "1234@devices"), vmconf_mailbox(vc, "1234"));
	b = vmconf_mailbox(vc, "1234@other");
	assert_non_null(b);
	assert_string_equal(b->pin, "5678");
	assert_null(vmconf_mailbox(vc, "directoryintro@other"));
	assert_null(vmconf_mailbox(vc, "1234@myaliases"));
	assert_int_equal(vc->nboxes, 8);
	vmconf_free(vc);
}

static void t_errors(void **state)
{
	(void)state;
	build_err("[general]\nattach=maybe\n",
		  "voicemail.conf:2: attach in [general] must be yes or no, not 'maybe'");
	build_err("[general]\nmaxsecs=3m\n",
		  "voicemail.conf:2: maxsecs in [general] must be a whole number, not '3m'");
	build_err("[default]\n100 => 1,A,,,maxsecs=-1\n",
		  "voicemail.conf:2: maxsecs in the options of mailbox 100@default must be a "
		  "whole number, not '-1'");
	build_err("[default]\n100 => 1,A,,,review=perhaps|tz=x\n",
		  "voicemail.conf:2: review in the options of mailbox 100@default must be yes "
		  "or no, not 'perhaps'");
	build_err("[general]\nvolgain=loud\n",
		  "voicemail.conf:2: volgain in [general] must be a number, not 'loud'");
}

static void t_lookups(void **state)
{
	struct vmconf *vc;

	(void)state;
	vc = build("[general]\nsearchcontexts=yes\n[other]\n555 => 1\n[default]\n556 => 2\n");
	assert_string_equal(vmconf_mailbox(vc, "555")->context, "other");
	assert_string_equal(vmconf_mailbox(vc, "556")->context, "default");
	assert_null(vmconf_mailbox(vc, "555@default"));
	assert_null(vmconf_mailbox(vc, ""));
	assert_null(vmconf_mailbox(vc, NULL));
	vmconf_free(vc);

	vc = build("[default]\n7 => \n8 => ,,,,\n");   /* empty PIN: none asked */
	assert_string_equal(vmconf_mailbox(vc, "7")->pin, "");
	assert_string_equal(vmconf_mailbox(vc, "8")->fullname, "");
	vmconf_free(vc);

	assert_int_equal(vmconf_build(&vc, NULL, err, sizeof(err)), 0);   /* no file */
	assert_int_equal(vc->nboxes, 0);
	assert_int_equal(vc->gen.defaults.maxmsg, 100);
	assert_string_equal(vc->gen.formats[0], "wav");
	assert_string_equal(vc->gen.mailcmd, "/usr/sbin/sendmail -t");
	assert_null(vmconf_mailbox(vc, "1"));
	vmconf_free(vc);
}

/* -------------------------------------------------------------- spool */

static char datadir[64];

static int spool_setup(void **state)
{
	(void)state;
	snprintf(datadir, sizeof(datadir), "/tmp/tandem-vm-XXXXXX");
	assert_non_null(mkdtemp(datadir));
	return 0;
}

static int spool_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", datadir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool exists(const char *fmt, ...)
{
	char p[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	return access(p, F_OK) == 0;
}

static int files_in(const char *dir)
{
	char cmd[512], buf[32] = "";
	FILE *p;

	assert_true((size_t)snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir) < sizeof(cmd));
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = '\0';
	pclose(p);
	return atoi(buf);
}

/* Record a fake message into tfg@default's folder f; returns its number. */
static int leave(enum vm_folder f, uint32_t maxmsg, const char *cid, int *e)
{
	struct vm_rec r;
	struct vm_msg_info m;
	char p[4096];
	static const char *const exts[] = { "wav", "WAV", "gsm", NULL };
	int n = -1;

	assert_int_equal(vm_rec_begin(&r, datadir, "default", "tfg"), 0);
	assert_int_equal(vm_rec_path(&r, "wav", p, sizeof(p)), 0);
	put_file(p, "RIFF....WAVE");
	assert_int_equal(vm_rec_path(&r, "gsm", p, sizeof(p)), 0);
	put_file(p, "gsm");
	vm_msg_info_init(&m, 1583143445);
	snprintf(m.callerid, sizeof(m.callerid), "%s", cid);
	m.duration = 7;
	*e = vm_rec_commit(&r, f, maxmsg, &m, exts, &n);
	return n;
}

static void t_paths(void **state)
{
	char p[4096];

	(void)state;
	assert_int_equal(vm_path_msg(p, sizeof(p), "/d", "default", "tfg", VM_INBOX, 0, "wav"), 0);
	assert_string_equal(p, "/d/voicemail/default/tfg/INBOX/msg0000.wav");
	assert_int_equal(vm_path_msg(p, sizeof(p), "/d", "default", "tfg", VM_OLD, 12, NULL), 0);
	assert_string_equal(p, "/d/voicemail/default/tfg/Old/msg0012");
	assert_int_equal(vm_path_greeting(p, sizeof(p), "/d", "default", "tfg", VM_GREET_UNAVAIL,
					  "wav"), 0);
	assert_string_equal(p, "/d/voicemail/default/tfg/unavail.wav");
	assert_int_equal(vm_path_greeting(p, sizeof(p), "/d", "c", "b", VM_GREET_NAME, "wav"), 0);
	assert_string_equal(p, "/d/voicemail/c/b/greet.wav");
	assert_int_equal(vm_path_greeting(p, sizeof(p), "/d", "c", "b", VM_GREET_BUSY, "wav"), 0);
	assert_string_equal(p, "/d/voicemail/c/b/busy.wav");
	assert_int_equal(vm_path_greeting(p, sizeof(p), "/d", "c", "b", VM_GREET_TEMP, NULL), 0);
	assert_string_equal(p, "/d/voicemail/c/b/temp");
	assert_int_equal(vm_path_folder(p, sizeof(p), "/d", "c", "b", VM_URGENT), 0);
	assert_string_equal(p, "/d/voicemail/c/b/Urgent");
	assert_int_equal(vm_path_box(p, sizeof(p), "/d", "..", "b"), EINVAL);
	assert_int_equal(vm_path_box(p, sizeof(p), "/d", "c", "a/b"), EINVAL);
	assert_int_equal(vm_path_box(p, sizeof(p), "/d", "c", ""), EINVAL);
	assert_int_equal(vm_path_box(p, 10, "/d", "c", "b"), ENAMETOOLONG);
	assert_int_equal(vm_path_msg(p, sizeof(p), "/d", "c", "b", VM_INBOX, 10000, "wav"),
			 EINVAL);

	enum vm_folder f;
	assert_int_equal(vm_folder_parse("old", &f), 0);
	assert_int_equal(f, VM_OLD);
	assert_int_equal(vm_folder_parse("Cust3", &f), 0);
	assert_int_equal(f, VM_CUST3);
	assert_int_equal(vm_folder_parse("Spam", &f), ENOENT);
	assert_string_equal(vm_folder_name(VM_DELETED), "Deleted");
}

static void t_msg_info(void **state)
{
	struct vm_msg_info m, back;
	char buf[4096];

	(void)state;
	vm_msg_info_init(&m, 1583143445);   /* Mon 2 Mar 2020 10:04:05 UTC */
	snprintf(m.origmailbox, sizeof(m.origmailbox), "tfg");
	snprintf(m.context, sizeof(m.context), "in-tfg");
	snprintf(m.exten, sizeof(m.exten), "997452141");
	m.priority = 7;
	snprintf(m.callerchan, sizeof(m.callerchan), "SIP/trunk-00000003");
	snprintf(m.callerid, sizeof(m.callerid), "\"Cliente\" <600111222>");
	m.duration = 12;
	assert_string_equal(m.origdate, "Mon Mar  2 10:04:05 AM UTC 2020");
	assert_int_equal(strncmp(m.msg_id, "1583143445-", 11), 0);
	assert_int_equal(vm_msg_info_format(&m, buf, sizeof(buf)), 0);
	char want[1024];
	snprintf(want, sizeof(want),
		 ";\n; Message Information file\n;\n[message]\norigmailbox=tfg\n"
		 "context=in-tfg\nmacrocontext=\nexten=997452141\nrdnis=unknown\npriority=7\n"
		 "callerchan=SIP/trunk-00000003\ncallerid=\"Cliente\" <600111222>\n"
		 "origdate=Mon Mar  2 10:04:05 AM UTC 2020\norigtime=1583143445\ncategory=\n"
		 "msg_id=%s\nflag=\nduration=12\n", m.msg_id);
	assert_string_equal(buf, want);
	assert_int_equal(vm_msg_info_parse(buf, strlen(buf), &back), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	assert_int_equal(vm_msg_info_format(&m, buf, 100), ENOSPC);

	/* what a hand-edited or foreign file may look like */
	static const char odd[] = "; x\r\n[other]\nexten=9\n[message]\r\n exten = 100 \r\n"
				  "flag=Urgent\nnonsense\nunknown=1\nduration => 5\n";
	assert_int_equal(vm_msg_info_parse(odd, sizeof(odd) - 1, &back), 0);
	assert_string_equal(back.exten, "100");
	assert_string_equal(back.flag, "Urgent");
	assert_int_equal(back.duration, 5);
	assert_int_equal(vm_msg_info_parse("exten=1\n", 8, &back), EINVAL);
}

static void t_commit_numbering(void **state)
{
	char inbox[4096], p[4096];
	struct vm_msg_info m;
	int e, nw, old, urg;

	(void)state;
	assert_int_equal(leave(VM_INBOX, 100, "A", &e), 0);
	assert_int_equal(e, 0);
	assert_int_equal(leave(VM_INBOX, 100, "B", &e), 1);
	assert_int_equal(leave(VM_INBOX, 100, "C", &e), 2);
	assert_int_equal(leave(VM_URGENT, 100, "U", &e), 0);
	vm_path_folder(inbox, sizeof(inbox), datadir, "default", "tfg", VM_INBOX);
	assert_true(exists("%s/msg0002.wav", inbox));
	assert_true(exists("%s/msg0002.gsm", inbox));
	assert_true(exists("%s/msg0002.txt", inbox));
	assert_false(exists("%s/msg0002.WAV", inbox));   /* not recorded: skipped */
	snprintf(p, sizeof(p), "%s/voicemail/default/tfg/tmp", datadir);
	assert_int_equal(files_in(p), 0);
	assert_int_equal(vm_box_counts(datadir, "default", "tfg", &nw, &old, &urg), 0);
	assert_int_equal(nw, 3);
	assert_int_equal(old, 0);
	assert_int_equal(urg, 1);
	vm_path_msg(p, sizeof(p), datadir, "default", "tfg", VM_INBOX, 1, "txt");
	assert_int_equal(vm_msg_info_read(p, &m), 0);
	assert_string_equal(m.callerid, "B");
	assert_int_equal(m.duration, 7);

	/* delete 1: a gap; a new message goes after the highest (Asterisk) */
	assert_int_equal(vm_msg_delete(inbox, 1), 0);
	assert_false(exists("%s/msg0001.wav", inbox));
	assert_int_equal(vm_folder_count(inbox), 2);
	assert_int_equal(vm_folder_last(inbox), 2);
	assert_int_equal(leave(VM_INBOX, 100, "D", &e), 3);
	/* closing the mailbox renumbers 0, 2, 3 as 0, 1, 2 */
	assert_int_equal(vm_folder_resequence(inbox), 3);
	assert_int_equal(vm_folder_last(inbox), 2);
	vm_path_msg(p, sizeof(p), datadir, "default", "tfg", VM_INBOX, 1, "txt");
	assert_int_equal(vm_msg_info_read(p, &m), 0);
	assert_string_equal(m.callerid, "C");
	vm_path_msg(p, sizeof(p), datadir, "default", "tfg", VM_INBOX, 2, "txt");
	assert_int_equal(vm_msg_info_read(p, &m), 0);
	assert_string_equal(m.callerid, "D");
	assert_true(exists("%s/msg0002.gsm", inbox));
	assert_false(exists("%s/msg0003.txt", inbox));
	assert_int_equal(vm_msg_delete(inbox, 42), 0);   /* nothing there */

	/* heard: INBOX 0 to Old */
	int nn = -1;
	assert_int_equal(vm_msg_move(datadir, "default", "tfg", VM_INBOX, 0, VM_OLD, 100, &nn),
			 0);
	assert_int_equal(nn, 0);
	assert_int_equal(vm_msg_move(datadir, "default", "tfg", VM_INBOX, 0, VM_OLD, 100, &nn),
			 ENOENT);
	assert_int_equal(vm_box_counts(datadir, "default", "tfg", &nw, &old, NULL), 0);
	assert_int_equal(nw, 2);
	assert_int_equal(old, 1);
	assert_int_equal(vm_msg_move(datadir, "default", "tfg", VM_INBOX, 1, VM_OLD, 1, &nn),
			 EDQUOT);
	assert_int_equal(vm_folder_resequence(inbox), 2);
	vm_path_msg(p, sizeof(p), datadir, "default", "tfg", VM_INBOX, 0, "txt");
	assert_int_equal(vm_msg_info_read(p, &m), 0);
	assert_string_equal(m.callerid, "C");
}

static void t_commit_failures(void **state)
{
	char inbox[4096], tmp[4096], p[4096];
	struct vm_rec r;
	struct vm_msg_info m;
	static const char *const wav[] = { "wav", NULL };
	int e, n = -1;
	struct rlimit old, lim;

	(void)state;
	vm_path_folder(inbox, sizeof(inbox), datadir, "default", "tfg", VM_INBOX);
	snprintf(tmp, sizeof(tmp), "%s/voicemail/default/tfg/tmp", datadir);
	/* mailbox full (maxmsg 2) */
	leave(VM_INBOX, 2, "A", &e);
	leave(VM_INBOX, 2, "B", &e);
	assert_int_equal(e, 0);
	assert_int_equal(leave(VM_INBOX, 2, "C", &e), -1);
	assert_int_equal(e, EDQUOT);
	assert_int_equal(vm_folder_count(inbox), 2);
	assert_int_equal(files_in(inbox), 6);   /* 2 x wav, gsm, txt */
	assert_int_equal(files_in(tmp), 0);

	/* no audio was recorded (caller hung up at once) */
	assert_int_equal(vm_rec_begin(&r, datadir, "default", "tfg"), 0);
	vm_msg_info_init(&m, 1);
	assert_int_equal(vm_rec_commit(&r, VM_INBOX, 100, &m, wav, &n), ENOENT);
	assert_int_equal(files_in(tmp), 0);
	assert_int_equal(vm_folder_count(inbox), 2);

	/* hang-up while recording: abort */
	assert_int_equal(vm_rec_begin(&r, datadir, "default", "tfg"), 0);
	vm_rec_path(&r, "wav", p, sizeof(p));
	put_file(p, "half a message");
	vm_rec_abort(&r);
	assert_int_equal(files_in(tmp), 0);

	/* the disk fills up while the .txt is written: RLIMIT_FSIZE stands in
	 * for a full disk (as root, permissions would not stop the write) */
	assert_int_equal(vm_rec_begin(&r, datadir, "default", "tfg"), 0);
	vm_rec_path(&r, "wav", p, sizeof(p));
	put_file(p, "RIFF");
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 16;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	e = vm_rec_commit(&r, VM_OLD, 100, &m, wav, &n);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_true(e == EFBIG || e == ENOSPC);
	assert_int_equal(files_in(tmp), 0);
	snprintf(p, sizeof(p), "%s/voicemail/default/tfg/Old", datadir);
	assert_int_equal(files_in(p), 0);
	assert_int_equal(vm_folder_count(inbox), 2);

	/* greetings: record in tmp, install */
	assert_int_equal(vm_rec_begin(&r, datadir, "default", "tfg"), 0);
	vm_rec_path(&r, "wav", p, sizeof(p));
	put_file(p, "hello");
	vm_path_greeting(p, sizeof(p), datadir, "default", "tfg", VM_GREET_UNAVAIL, "wav");
	assert_int_equal(vm_rec_install(&r, "wav", p), 0);
	assert_true(exists("%s", p));
	assert_int_equal(files_in(tmp), 0);
}

static void t_clean(void **state)
{
	char inbox[4096], p[4096 + 64];
	int e;

	(void)state;
	leave(VM_INBOX, 100, "A", &e);
	assert_int_equal(e, 0);
	vm_path_folder(inbox, sizeof(inbox), datadir, "default", "tfg", VM_INBOX);
	snprintf(p, sizeof(p), "%s/msg0005.wav", inbox);   /* crash between renames */
	put_file(p, "orphan");
	snprintf(p, sizeof(p), "%s/voicemail/default/tfg/tmp/rec-1-0.wav", datadir);
	put_file(p, "interrupted");
	snprintf(p, sizeof(p), "%s/voicemail/default/tfg/tmp/rec-1-0.txt", datadir);
	put_file(p, "interrupted");
	logcap_start();
	assert_int_equal(vm_spool_clean(datadir), 3);
	free(logcap_end());
	assert_false(exists("%s/msg0005.wav", inbox));
	assert_true(exists("%s/msg0000.wav", inbox));
	assert_true(exists("%s/msg0000.txt", inbox));
	assert_int_equal(vm_spool_clean(datadir), 0);
	assert_int_equal(vm_spool_clean("/nonexistent-tandem"), 0);
}

int test_vmconf_run(void)
{
#define S(f) cmocka_unit_test_setup_teardown(f, spool_setup, spool_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_seed),
		cmocka_unit_test(t_asterisk_sample),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_lookups),
		cmocka_unit_test(t_paths),
		cmocka_unit_test(t_msg_info),
		S(t_commit_numbering),
		S(t_commit_failures),
		S(t_clean),
	};
#undef S
	return cmocka_run_group_tests_name("vmconf", tests, NULL, NULL);
}
