/**
 * @file test_astdb.c  Asterisk's DB (src/store/astdb.c): put, get, del,
 * deltree, show, keys with '/', large values, Asterisk's file layout, the
 * turn's group commit, the write hook, SQLite failures (read-only file, a
 * file that is not a database, a full disk); the dialplan's DB, DB_EXISTS,
 * DB_DELETE, DBdel, DBdeltree and BLACKLIST (src/dialplan/func_db.c); and
 * the dialplan's clock (tandemd --fake-time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/mem.h"
#include "dialplan/dialplan.h"
#include "dialplan/exec.h"
#include "store/astdb.h"
#include "suites.h"

static char dir[64], dbfile[128], logfile[128];
static size_t live_before;
static struct rlimit fsize_before;

static int setup(void **state)
{
	(void)state;
	live_before = mem_live();
	snprintf(dir, sizeof(dir), "/tmp/tandem-astdb-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dbfile, sizeof(dbfile), "%s/astdb.sqlite3", dir);
	snprintf(logfile, sizeof(logfile), "%s/log", dir);
	assert_int_equal(log_init(logfile, LOG_LVL_DEBUG), 0);
	getrlimit(RLIMIT_FSIZE, &fsize_before);
	assert_int_equal(astdb_init(dir), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	setrlimit(RLIMIT_FSIZE, &fsize_before);
	signal(SIGXFSZ, SIG_DFL);
	if (geteuid() != getuid())
		assert_int_equal(seteuid(getuid()), 0);
	astdb_set_write_hook(NULL, NULL);
	astdb_close();
	dialplan_clock_set(0);
	dialplan_set_warn_hook(NULL, NULL);
	log_close();
	log_init(NULL, LOG_LVL_INFO);
	assert_int_equal(mem_live(), live_before);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Does the log have a line containing every one of the strings? */
static bool logged(const char *a, const char *b)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen(logfile, "r");

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, a) && (!b || strstr(line, b));
	fclose(f);
	return found;
}

static void assert_logged(const char *a, const char *b)
{
	if (!logged(a, b))
		fail_msg("no log line with '%s' and '%s'", a, b ? b : "");
}

/* Value of family/key, or NULL (static buffer). */
static const char *get(const char *family, const char *key)
{
	static char buf[256];
	char *v = NULL;
	int e = astdb_get(family, key, &v);

	if (e == ENOENT)
		return NULL;
	assert_int_equal(e, 0);
	snprintf(buf, sizeof(buf), "%s", v);
	free(v);
	return buf;
}

/* Rows of the file as another process (sqlite3, Asterisk's tools) sees them. */
static int outside_count(const char *where)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[256];
	int n = -1;

	assert_int_equal(sqlite3_open_v2(dbfile, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM astdb%s%s", where ? " WHERE " : "",
		 where ? where : "");
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* ------------------------------------------------------------------ */
/* The store                                                           */

static void t_put_get_del(void **state)
{
	(void)state;
	assert_null(get("cf", "100"));
	assert_int_equal(astdb_put("cf", "100", "600111222"), 0);
	assert_string_equal(get("cf", "100"), "600111222");
	assert_int_equal(astdb_put("cf", "100", "700"), 0);   /* replaces */
	assert_string_equal(get("cf", "100"), "700");
	assert_int_equal(astdb_put("cf", "101", ""), 0);      /* empty value is a value */
	assert_string_equal(get("cf", "101"), "");
	assert_int_equal(astdb_put("CF", "100", "upper"), 0); /* case matters */
	assert_string_equal(get("cf", "100"), "700");
	assert_int_equal(astdb_del("cf", "100"), 0);
	assert_null(get("cf", "100"));
	assert_int_equal(astdb_del("cf", "100"), ENOENT);
	assert_string_equal(get("CF", "100"), "upper");
	/* empty family or key */
	assert_int_equal(astdb_put("", "k", "v"), EINVAL);
	assert_int_equal(astdb_put("f", "", "v"), EINVAL);
	assert_int_equal(astdb_put(NULL, "k", "v"), EINVAL);
	char *v = NULL;
	assert_int_equal(astdb_get("f", "", &v), EINVAL);
	assert_null(v);
	assert_int_equal(astdb_commit(), 0);
}

struct shown {
	char text[4096];
	int n;
};

static void show_h(const char *family, const char *key, const char *value, void *arg)
{
	struct shown *s = arg;
	size_t l = strlen(s->text);

	snprintf(s->text + l, sizeof(s->text) - l, "%s|%s=%s;", family, key, value);
	s->n++;
}

static void t_slashes_deltree_show(void **state)
{
	struct shown sh = { "", 0 };
	size_t n = 99;

	(void)state;
	/* ("a","b/c") and ("a/b","c") are the same key "/a/b/c", as in Asterisk */
	assert_int_equal(astdb_put("a", "b/c", "1"), 0);
	assert_string_equal(get("a/b", "c"), "1");
	assert_int_equal(astdb_put("a", "b/d/e", "2"), 0);
	assert_int_equal(astdb_put("a", "bc", "3"), 0);       /* not under a/b */
	assert_int_equal(astdb_put("a", "x", "4"), 0);
	assert_int_equal(astdb_put("ab", "x", "5"), 0);       /* not in family a */
	assert_int_equal(astdb_put("A", "x", "6"), 0);
	assert_int_equal(astdb_put("a_", "x", "7"), 0);       /* '_' is no wildcard */
	assert_int_equal(astdb_put("a%", "x", "8"), 0);
	assert_int_equal(astdb_show("a", show_h, &sh), 0);
	assert_string_equal(sh.text, "a|b/c=1;a|b/d/e=2;a|bc=3;a|x=4;");
	memset(&sh, 0, sizeof(sh));
	assert_int_equal(astdb_show("a_", show_h, &sh), 0);
	assert_string_equal(sh.text, "a_|x=7;");
	memset(&sh, 0, sizeof(sh));
	assert_int_equal(astdb_show("nobody", show_h, &sh), 0);
	assert_int_equal(sh.n, 0);
	memset(&sh, 0, sizeof(sh));
	assert_int_equal(astdb_show(NULL, show_h, &sh), 0);
	assert_int_equal(sh.n, 8);
	assert_string_equal(sh.text, "A|x=6;a%|x=8;a|b/c=1;a|b/d/e=2;a|bc=3;a|x=4;a_|x=7;ab|x=5;");
	/* deltree of a key tree, then of the family */
	assert_int_equal(astdb_deltree("a", "b", &n), 0);
	assert_int_equal(n, 2);
	assert_null(get("a", "b/c"));
	assert_string_equal(get("a", "bc"), "3");
	assert_int_equal(astdb_deltree("a", NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(astdb_deltree("a", NULL, &n), 0);   /* nothing left: not an error */
	assert_int_equal(n, 0);
	memset(&sh, 0, sizeof(sh));
	assert_int_equal(astdb_show(NULL, show_h, &sh), 0);
	assert_string_equal(sh.text, "A|x=6;a%|x=8;a_|x=7;ab|x=5;");
	assert_int_equal(astdb_deltree("", NULL, NULL), EINVAL);
}

static void t_large_values(void **state)
{
	size_t big = 1 << 20, i;
	char *v = malloc(big + 1), *back = NULL, key[300];

	(void)state;
	assert_non_null(v);
	for (i = 0; i < big; i++)
		v[i] = (char)('a' + i % 26);
	v[big] = '\0';
	assert_int_equal(astdb_put("big", "one", v), 0);
	assert_int_equal(astdb_commit(), 0);
	assert_int_equal(astdb_get("big", "one", &back), 0);
	assert_int_equal(strlen(back), big);
	assert_memory_equal(back, v, big);
	free(back);
	/* text with newlines, quotes and UTF-8, and a long key */
	assert_int_equal(astdb_put("t", "k", "line 1\nline \"2\" ñ €"), 0);
	assert_string_equal(get("t", "k"), "line 1\nline \"2\" ñ €");
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(astdb_put("t", key, "long key"), 0);
	assert_string_equal(get("t", key), "long key");
	free(v);
}

/* The file is Asterisk's: an astdb.sqlite3 written by Asterisk is read,
 * and what Tandem writes is where Asterisk's tools look. */
static void t_asterisk_layout(void **state)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	astdb_close();
	unlink(dbfile);
	assert_int_equal(sqlite3_open(dbfile, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE astdb(key VARCHAR(256), value VARCHAR(256), PRIMARY KEY(key));"
		"INSERT INTO astdb VALUES ('/blacklist/600111222', '1');"
		"INSERT INTO astdb VALUES ('/CF/100', 600123456);"   /* an integer */
		"INSERT INTO astdb VALUES ('/SIP/Registry/100', '1.2.3.4:5060:3600:100:sip:100@1.2.3.4');",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(astdb_init(dir), 0);
	assert_string_equal(get("blacklist", "600111222"), "1");
	assert_string_equal(get("CF", "100"), "600123456");
	assert_string_equal(get("SIP", "Registry/100"), "1.2.3.4:5060:3600:100:sip:100@1.2.3.4");
	assert_int_equal(astdb_put("DND", "101", "YES"), 0);
	assert_int_equal(astdb_commit(), 0);
	assert_int_equal(outside_count("key='/DND/101' AND value='YES'"), 1);
	/* the schema is Asterisk's, word for word */
	assert_int_equal(sqlite3_open_v2(dbfile, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name='astdb'",
					    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "CREATE TABLE astdb(key VARCHAR(256), value VARCHAR(256), PRIMARY KEY(key))");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Writes of a turn are one transaction: visible to the daemon at once,
 * to other processes after astdb_commit(), durable across a reopen. */
static void t_group_commit(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		char k[16];

		snprintf(k, sizeof(k), "%d", i);
		assert_int_equal(astdb_put("turn", k, "x"), 0);
	}
	assert_string_equal(get("turn", "99"), "x");
	assert_int_equal(outside_count(NULL), 0);
	assert_int_equal(astdb_commit(), 0);
	assert_int_equal(outside_count(NULL), 100);
	assert_int_equal(astdb_commit(), 0);   /* nothing pending */
	assert_int_equal(astdb_put("turn", "last", "y"), 0);
	astdb_close();                         /* close commits */
	assert_int_equal(astdb_init(dir), 0);
	assert_string_equal(get("turn", "last"), "y");
	assert_int_equal(outside_count(NULL), 101);
}

struct hooked {
	char text[1024];
};

static void hook_h(const struct astdb_op *op, void *arg)
{
	struct hooked *h = arg;
	size_t l = strlen(h->text);
	static const char *const kind[] = { "put", "del", "deltree" };

	snprintf(h->text + l, sizeof(h->text) - l, "%s %s %s %s;", kind[op->kind], op->family,
		 op->key ? op->key : "-", op->value ? op->value : "-");
}

static void t_write_hook(void **state)
{
	struct hooked h = { "" };
	struct astdb_op op = { ASTDB_PUT, "r", "k", "v" };
	size_t n = 9;

	(void)state;
	astdb_set_write_hook(hook_h, &h);
	assert_int_equal(astdb_put("f", "k", "1"), 0);
	assert_int_equal(astdb_del("f", "k"), 0);
	assert_int_equal(astdb_del("f", "k"), ENOENT);   /* nothing changed: not passed on */
	assert_int_equal(astdb_put("f", "a/b", "2"), 0);
	assert_int_equal(astdb_deltree("f", NULL, NULL), 0);
	assert_int_equal(astdb_deltree("f", NULL, NULL), 0);
	assert_int_equal(astdb_apply(&op, &n), 0);       /* what a replica would call */
	assert_int_equal(n, 1);
	assert_string_equal(h.text, "put f k 1;del f k -;put f a/b 2;deltree f - -;put r k v;");
	assert_string_equal(get("r", "k"), "v");
	op.kind = ASTDB_DEL;
	op.key = NULL;
	assert_int_equal(astdb_apply(&op, &n), EINVAL);
}

/* A read-only file: opens with a warning, reads work, writes fail with
 * EROFS and an error line naming the file; no crash. */
static void t_readonly_file(void **state)
{
	(void)state;
	assert_int_equal(astdb_put("blacklist", "600111222", "1"), 0);
	astdb_close();
	assert_int_equal(chmod(dbfile, 0444), 0);
	if (geteuid() == 0) {
		/* root writes read-only files: be nobody, who may create the
		 * -wal and -shm files in the directory but not write the db */
		assert_int_equal(chmod(dir, 0777), 0);
		assert_int_equal(chmod(logfile, 0666), 0);
		char wal[160];
		snprintf(wal, sizeof(wal), "%s-wal", dbfile);
		unlink(wal);
		snprintf(wal, sizeof(wal), "%s-shm", dbfile);
		unlink(wal);
		assert_int_equal(seteuid(65534), 0);
	}
	assert_int_equal(astdb_init(dir), 0);
	assert_logged("WARNING", "is read-only");
	assert_string_equal(get("blacklist", "600111222"), "1");
	assert_int_equal(astdb_put("blacklist", "600999999", "1"), EROFS);
	assert_logged("ERROR: astdb: put /blacklist/600999999 in", dbfile);
	assert_int_equal(astdb_del("blacklist", "600111222"), EROFS);
	assert_int_equal(astdb_commit(), 0);
	assert_string_equal(get("blacklist", "600111222"), "1");
	astdb_close();
	if (geteuid() != getuid())
		assert_int_equal(seteuid(getuid()), 0);
	assert_int_equal(chmod(dbfile, 0644), 0);
	assert_int_equal(astdb_init(dir), 0);
}

static void t_not_a_database(void **state)
{
	FILE *f;

	(void)state;
	astdb_close();
	unlink(dbfile);
	f = fopen(dbfile, "w");
	assert_non_null(f);
	fputs("this is not an SQLite database, but it is long enough to look at it. "
	      "this is not an SQLite database, but it is long enough to look at it.\n", f);
	fclose(f);
	assert_int_equal(astdb_init(dir), EIO);
	assert_logged("ERROR: astdb", dbfile);
	char *v = NULL;
	assert_int_equal(astdb_get("a", "b", &v), ENODEV);
	assert_int_equal(astdb_put("a", "b", "c"), ENODEV);
	assert_int_equal(astdb_show(NULL, show_h, NULL), ENODEV);
	assert_int_equal(astdb_commit(), 0);
	astdb_close();   /* harmless when not open */
	unlink(dbfile);
	assert_int_equal(astdb_init(dir), 0);
}

static off_t size_of(const char *suffix)
{
	char p[160];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", dbfile, suffix);
	return stat(p, &st) == 0 ? st.st_size : 0;
}

/* The disk fills up (RLIMIT_FSIZE stands in): the turn's commit fails
 * with EIO and one error line; once there is room writes work again. */
static void t_disk_full(void **state)
{
	size_t big = 512 * 1024;
	char *v = malloc(big + 1);
	struct rlimit rl = fsize_before;
	off_t top = 0;

	(void)state;
	assert_non_null(v);
	memset(v, 'z', big);
	v[big] = '\0';
	assert_int_equal(astdb_put("small", "k", "1"), 0);
	assert_int_equal(astdb_commit(), 0);
	top = size_of("") > size_of("-wal") ? size_of("") : size_of("-wal");
	if (size_of("-shm") > top)
		top = size_of("-shm");
	signal(SIGXFSZ, SIG_IGN);
	rl.rlim_cur = (rlim_t)top + 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	int e = astdb_put("big", "k", v);
	if (!e)
		e = astdb_commit();
	assert_true(e == EIO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &fsize_before), 0);
	assert_true(logged("ERROR: astdb", dbfile));
	assert_null(get("big", "k"));
	assert_string_equal(get("small", "k"), "1");
	/* room again: writes succeed, and that is logged */
	assert_int_equal(astdb_put("big", "k", v), 0);
	assert_int_equal(astdb_commit(), 0);
	assert_logged("NOTICE: astdb: writes to", "succeed again");
	assert_int_equal(outside_count("key='/big/k'"), 1);
	free(v);
}

/* ------------------------------------------------------------------ */
/* The dialplan                                                        */

struct fake {
	const char *num, *name;
	char log[512];
};

static void note(struct fake *f, const char *what)
{
	size_t l = strlen(f->log);

	snprintf(f->log + l, sizeof(f->log) - l, "%s;", what);
}

static int f_busy(void *c) { note(c, "busy"); return 0; }
static int f_answer(void *c) { note(c, "answer"); return 0; }
static int f_hangup(void *c, int cause) { (void)cause; note(c, "hangup"); return 0; }
static int f_wait(void *c, unsigned ms) { (void)c; (void)ms; return 0; }
static int f_dial(void *c, const char *ds, unsigned t, const char *o)
{
	(void)t;
	(void)o;
	note(c, ds);
	return 0;
}
static const char *f_get(void *c, const char *what)
{
	struct fake *f = c;

	if (!strcmp(what, "callerid_num"))
		return f->num;
	if (!strcmp(what, "callerid_name"))
		return f->name;
	return NULL;
}

static const struct dp_chan_ops fops = {
	.answer = f_answer, .hangup = f_hangup, .busy = f_busy, .wait = f_wait,
	.dial = f_dial, .get = f_get,
};

static char warnings[4096];

static void on_warn(const char *msg, void *arg)
{
	size_t l = strlen(warnings);

	(void)arg;
	snprintf(warnings + l, sizeof(warnings) - l, "%s\n", msg);
}

static struct dialplan *build(const char *text)
{
	struct conf *conf = NULL;
	struct dialplan *dp = NULL;
	char err[256];

	dialplan_init();
	if (conf_parse_buf(&conf, NULL, "t.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("conf: %s", err);
	if (dialplan_build(&dp, conf, err, sizeof(err)))
		fail_msg("dialplan: %s", err);
	conf_free(conf);
	return dp;
}

/* Run exten@ctx for a caller; returns the channel (free it). */
static struct dp_chan *run(struct dialplan *dp, struct fake *f, const char *ctx,
			   const char *exten)
{
	struct dp_chan *ch = NULL;

	f->log[0] = '\0';
	assert_int_equal(dp_chan_alloc(&ch, dp, &fops, f, ctx, exten, 1), 0);
	dp_chan_run(ch);
	return ch;
}

static const char *var(struct dp_chan *ch, const char *name)
{
	const char *v = dp_chan_var_get(ch, name);

	return v ? v : "(unset)";
}

static void t_dialplan_db(void **state)
{
	static const char text[] =
		"[t]\n"
		"exten => s,1,Set(DB(test/k)=v1)\n"
		" same => n,Set(R=${DB(test/k)})\n"
		" same => n,Set(R1=${DB_RESULT})\n"
		" same => n,Set(E=${DB_EXISTS(test/k)})\n"
		" same => n,Set(E0=${DB_EXISTS(test/none)})\n"
		" same => n,Set(M=${DB(test/none)}x)\n"
		" same => n,Set(DB(a/b/c)=deep)\n"
		" same => n,Set(D=${DB(a/b/c)})\n"
		" same => n,Set(X=${DB_DELETE(test/k)})\n"
		" same => n,Set(X2=${DB_EXISTS(test/k)})\n"
		" same => n,Set(DB(test/k2)=1)\n"
		" same => n,DBdel(test/k2)\n"
		" same => n,Set(DB(tree/x/1)=1)\n"
		" same => n,Set(DB(tree/x/2)=2)\n"
		" same => n,Set(DB(tree/y)=3)\n"
		" same => n,DBdeltree(tree/x)\n"
		" same => n,Set(T=${DB_EXISTS(tree/x/1)}${DB_EXISTS(tree/x/2)}${DB_EXISTS(tree/y)})\n"
		" same => n,DBdeltree(tree)\n"
		" same => n,Set(T2=${DB_EXISTS(tree/y)})\n"
		" same => n,Set(DB(nokey)=1)\n"
		" same => n,Set(BAD=${DB(nokey)})\n"
		" same => n,Wait(1)\n";
	struct dialplan *dp;
	struct fake f = { "100", "Puesto 100", "" };
	struct dp_chan *ch;

	(void)state;
	warnings[0] = '\0';
	dialplan_set_warn_hook(on_warn, NULL);
	dp = build(text);
	ch = run(dp, &f, "t", "s");
	assert_string_equal(var(ch, "R"), "v1");
	assert_string_equal(var(ch, "R1"), "v1");
	assert_string_equal(var(ch, "E"), "1");
	assert_string_equal(var(ch, "E0"), "0");
	assert_string_equal(var(ch, "M"), "x");
	assert_string_equal(var(ch, "D"), "deep");
	assert_string_equal(get("a", "b/c"), "deep");
	assert_string_equal(var(ch, "X"), "v1");
	assert_string_equal(var(ch, "X2"), "0");
	assert_null(get("test", "k"));
	assert_null(get("test", "k2"));
	assert_string_equal(var(ch, "T"), "001");
	assert_string_equal(var(ch, "T2"), "0");
	assert_string_equal(var(ch, "BAD"), "(unset)");
	if (!strstr(warnings, "t.conf:21: DB requires an argument, DB(<family>/<key>)"))
		fail_msg("warnings:\n%s", warnings);
	dp_chan_free(ch);
	/* committed with the turn; the file has what the dialplan wrote */
	assert_int_equal(astdb_commit(), 0);
	assert_int_equal(outside_count("key='/a/b/c' AND value='deep'"), 1);
	/* a database that is not open: a warning with FILE:LINE, no crash */
	astdb_close();
	warnings[0] = '\0';
	ch = run(dp, &f, "t", "s");
	assert_string_equal(var(ch, "R"), "(unset)");
	assert_string_equal(var(ch, "E"), "0");
	if (!strstr(warnings, "t.conf:2: DB(test/k): the database is not open"))
		fail_msg("warnings:\n%s", warnings);
	dp_chan_free(ch);
	assert_int_equal(astdb_init(dir), 0);
	dialplan_free(dp);
}

static void t_dialplan_blacklist(void **state)
{
	static const char text[] =
		"[in]\n"
		"exten => 997452141,1,Set(B=${BLACKLIST()})\n"
		" same => n,GotoIf($[${BLACKLIST()}]?blocked)\n"
		" same => n,Dial(SIP/101-tfg,30)\n"
		" same => n,Hangup()\n"
		" same => n(blocked),Busy(5)\n";
	struct dialplan *dp = build(text);
	struct fake spam = { "600111222", "Spam", "" }, ok = { "600999999", "Friend", "" },
		    named = { "611", "Pesado", "" }, anon = { "", "", "" };
	struct dp_chan *ch;

	(void)state;
	assert_int_equal(astdb_put("blacklist", "600111222", "1"), 0);
	assert_int_equal(astdb_put("blacklist", "Pesado", "0"), 0);   /* any value counts */
	ch = run(dp, &spam, "in", "997452141");
	assert_string_equal(var(ch, "B"), "1");
	assert_string_equal(spam.log, "busy;");
	dp_chan_free(ch);
	ch = run(dp, &ok, "in", "997452141");
	assert_string_equal(var(ch, "B"), "0");
	assert_string_equal(ok.log, "SIP/101-tfg;");
	dp_chan_free(ch);
	ch = run(dp, &named, "in", "997452141");   /* the name, as Asterisk */
	assert_string_equal(var(ch, "B"), "1");
	dp_chan_free(ch);
	ch = run(dp, &anon, "in", "997452141");
	assert_string_equal(var(ch, "B"), "0");
	dp_chan_free(ch);
	/* taken off the list: through */
	assert_int_equal(astdb_del("blacklist", "600111222"), 0);
	ch = run(dp, &spam, "in", "997452141");
	assert_string_equal(spam.log, "SIP/101-tfg;");
	dp_chan_free(ch);
	dialplan_free(dp);
}

/* ------------------------------------------------------------------ */
/* The dialplan's clock (tandemd --fake-time)                          */

static time_t at(int y, int mon, int d, int h, int m)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = m, .tm_isdst = -1 };

	return mktime(&tm);
}

static void t_fake_clock(void **state)
{
	static const char text[] =
		"[office]\n"
		"include => open,09:00-14:00,mon-fri,*,*\n"
		"include => closed\n"
		"[open]\n"
		"exten => 1,1,Set(W=${STRFTIME(${EPOCH},,%a %Y-%m-%d %H:%M)})\n"
		" same => n,GotoIfTime(09:00-14:00,mon-fri,*,*?in)\n"
		" same => n,Set(WHERE=open-but-not-in-time)\n"
		" same => n,Hangup()\n"
		" same => n(in),Set(WHERE=open)\n"
		" same => n,Set(S=${STRFTIME(,,%H:%M)})\n"
		"[closed]\n"
		"exten => 1,1,Set(W=${STRFTIME(${EPOCH},,%a %Y-%m-%d %H:%M)})\n"
		" same => n,GotoIfTime(*,sun,*,*?sunday)\n"
		" same => n,Set(WHERE=closed)\n"
		" same => n,Hangup()\n"
		" same => n(sunday),Set(WHERE=sunday)\n";
	struct dialplan *dp = build(text);
	struct fake f = { "100", "", "" };
	struct dp_chan *ch;
	time_t t, now;

	(void)state;
	/* parsing */
	assert_int_equal(dialplan_clock_parse("2026-12-25 10:00", &t), 0);
	assert_int_equal(t, at(2026, 12, 25, 10, 0));
	assert_int_equal(dialplan_clock_parse("2026-12-25T10:00:30", &t), 0);
	assert_int_equal(t, at(2026, 12, 25, 10, 0) + 30);
	assert_int_equal(dialplan_clock_parse("@1798192800", &t), 0);
	assert_int_equal(t, 1798192800);
	assert_int_equal(dialplan_clock_parse("2026-02-31 10:00", &t), EINVAL);
	assert_int_equal(dialplan_clock_parse("2026-12-25", &t), EINVAL);
	assert_int_equal(dialplan_clock_parse("2026-12-25 25:00", &t), EINVAL);
	assert_int_equal(dialplan_clock_parse("2026-12-25 10:00x", &t), EINVAL);
	assert_int_equal(dialplan_clock_parse("tomorrow", &t), EINVAL);
	assert_int_equal(dialplan_clock_parse("@", &t), EINVAL);
	assert_false(dialplan_clock_faked());
	/* Friday 25 December 2026, 10:00: the include and GotoIfTime hold */
	dialplan_clock_set(at(2026, 12, 25, 10, 0));
	assert_true(dialplan_clock_faked());
	now = dialplan_now();
	assert_true(now >= at(2026, 12, 25, 10, 0) && now <= at(2026, 12, 25, 10, 0) + 2);
	ch = run(dp, &f, "office", "1");
	assert_string_equal(var(ch, "WHERE"), "open");
	assert_string_equal(var(ch, "W"), "Fri 2026-12-25 10:00");
	assert_string_equal(var(ch, "S"), "10:00");
	dp_chan_free(ch);
	/* 15:00 the same day: closed (the include's range no longer holds) */
	dialplan_clock_set(at(2026, 12, 25, 15, 0));
	ch = run(dp, &f, "office", "1");
	assert_string_equal(var(ch, "WHERE"), "closed");
	assert_string_equal(var(ch, "W"), "Fri 2026-12-25 15:00");
	dp_chan_free(ch);
	/* Sunday 27 December 10:00 */
	dialplan_clock_set(at(2026, 12, 27, 10, 0));
	ch = run(dp, &f, "office", "1");
	assert_string_equal(var(ch, "WHERE"), "sunday");
	dp_chan_free(ch);
	/* dp_chan_set_time (unit tests) still wins over the clock */
	assert_int_equal(dp_chan_alloc(&ch, dp, &fops, &f, "office", "1", 1), 0);
	dp_chan_set_time(ch, at(2026, 12, 28, 11, 0));
	dp_chan_run(ch);
	assert_string_equal(var(ch, "WHERE"), "open");
	assert_string_equal(var(ch, "W"), "Mon 2026-12-28 11:00");
	dp_chan_free(ch);
	/* back to the real clock */
	dialplan_clock_set(0);
	assert_false(dialplan_clock_faked());
	now = time(NULL);
	assert_true(dialplan_now() >= now && dialplan_now() <= now + 1);
	dialplan_free(dp);
}

int test_astdb_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_put_get_del, setup, teardown),
		cmocka_unit_test_setup_teardown(t_slashes_deltree_show, setup, teardown),
		cmocka_unit_test_setup_teardown(t_large_values, setup, teardown),
		cmocka_unit_test_setup_teardown(t_asterisk_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(t_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(t_write_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(t_readonly_file, setup, teardown),
		cmocka_unit_test_setup_teardown(t_not_a_database, setup, teardown),
		cmocka_unit_test_setup_teardown(t_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(t_dialplan_db, setup, teardown),
		cmocka_unit_test_setup_teardown(t_dialplan_blacklist, setup, teardown),
		cmocka_unit_test_setup_teardown(t_fake_clock, setup, teardown),
	};

	return cmocka_run_group_tests_name("astdb", tests, NULL, NULL);
}
