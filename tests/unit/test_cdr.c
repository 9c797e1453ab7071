/**
 * @file test_cdr.c  Call detail records: the state machine with Asterisk's
 * disposition/duration/billsec, uniqueids, cdr.db, the spool, shutdown,
 * [cdr] options, and (with TANDEM_TEST_MARIADB_SOCKET set, as
 * tests/e2e/test_cdr_mariadb.sh does) delivery to a real MariaDB that is
 * stopped and started under it.
 */
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <mysql.h>
#include <sqlite3.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "store/cdr.h"
#include "store/cdr_int.h"
#include "suites.h"

static char datadir[64];
static int64_t wall, mono;
static size_t live_before;

#define T0 ((int64_t)1700000000 * 1000000)   /* 2023-11-14 22:13:20 UTC */

static void tick_ms(int64_t ms)
{
	wall += ms * 1000;
	mono += ms * 1000;
}

static void commit_hook(void *arg)
{
	(void)arg;
	cdr_store_commit();
}

static void store_open(const struct cdr_conf *cc, const char *node)
{
	struct cdr_conf def;

	if (!cc) {
		cdr_conf_defaults(&def);
		cc = &def;
	}
	assert_int_equal(cdr_store_init(cc, datadir, node), 0);
}

static int setup(void **state)
{
	(void)state;
	live_before = mem_live();
	snprintf(datadir, sizeof(datadir), "/tmp/tandem-cdr-XXXXXX");
	assert_non_null(mkdtemp(datadir));
	wall = T0;
	mono = 1000000;
	cdr_test_clock(&wall, &mono);
	assert_int_equal(loop_init(), 0);
	assert_int_equal(loop_turn_hook(commit_hook, NULL), 0);
	store_open(NULL, "pbx1");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	cdr_store_close();
	loop_close();
	cdr_test_clock(NULL, NULL);
	assert_int_equal(cdr_open_count(), 0);
	assert_int_equal(mem_live(), live_before);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", datadir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct cdr *call(const char *src, const char *dst)
{
	struct cdr_start st = {
		.clid = "\"Alice\" <100>", .src = src, .dst = dst, .dcontext = "default",
		.channel = "SIP/100-00000001", .accountcode = "acct",
	};
	struct cdr *c = NULL;

	assert_int_equal(cdr_open(&c, &st), 0);
	assert_non_null(c);
	return c;
}

/* Run one call to its end; returns its record (valid until the deref). */
static const struct cdr_record *finish(struct cdr *c)
{
	assert_int_equal(cdr_close(c), 0);
	assert_int_equal(cdr_state(c), CDR_STATE_POSTED);
	return cdr_record(c);
}

static unsigned rows_in_sqlite(void)
{
	json_t *j = cdr_last_json(1000000);
	unsigned n = (unsigned)json_array_size(json_object_get(j, "cdr"));

	json_decref(j);
	return n;
}

/* A call taken over from the node that failed (cluster.md 9): the record
 * goes on with its uniqueid, start and answer; written once at the end
 * with the whole duration and billsec; not cut by cdr_open_cut. */
static void t_restore(void **state)
{
	struct cdr_record r;
	struct cdr *c = NULL;
	const struct cdr_record *out;
	struct pl uid = pl_of("a-1700000000.42", 15);

	(void)state;
	memset(&r, 0, sizeof(r));
	snprintf(r.uniqueid, sizeof(r.uniqueid), "a-1700000000.42");
	snprintf(r.linkedid, sizeof(r.linkedid), "a-1700000000.42");
	snprintf(r.src, sizeof(r.src), "100");
	snprintf(r.dst, sizeof(r.dst), "101");
	r.sequence = 42;
	r.start_us = T0;
	r.answer_us = T0 + 3000000;
	r.disposition = CDR_DISP_ANSWERED;
	/* the other node died 20 s after the start; restored here now */
	tick_ms(20000);
	assert_false(cdr_is_live(&uid));
	assert_int_equal(cdr_restore(&c, &r), 0);
	assert_true(cdr_is_live(&uid));
	assert_int_equal(cdr_state(c), CDR_STATE_UP);
	assert_int_equal(cdr_open_count(), 1);
	tick_ms(10500);
	out = finish(c);
	assert_string_equal(out->uniqueid, "a-1700000000.42");
	assert_int_equal(out->sequence, 42);
	assert_int_equal(out->duration, 30);   /* 30.5 s from the first start */
	assert_int_equal(out->billsec, 27);    /* 27.5 s from the first answer */
	assert_true(out->start_us == T0 && out->answer_us == T0 + 3000000);
	assert_false(cdr_is_live(&uid));
	mem_deref(c);
	cdr_store_commit();
	assert_int_equal(rows_in_sqlite(), 1);
	/* refused: no uniqueid, a start in the future */
	r.uniqueid[0] = '\0';
	assert_int_equal(cdr_restore(&c, &r), EINVAL);
	snprintf(r.uniqueid, sizeof(r.uniqueid), "x");
	r.start_us = wall + 5000000;
	assert_int_equal(cdr_restore(&c, &r), EINVAL);
	/* handed over: forgotten, nothing written */
	r.start_us = T0;
	assert_int_equal(cdr_restore(&c, &r), 0);
	cdr_handover(c);
	assert_int_equal(cdr_open_count(), 0);
	mem_deref(c);
	cdr_store_commit();
	assert_int_equal(rows_in_sqlite(), 1);
}

/* ------------------------------------------------- Asterisk semantics */

static void t_answered(void **state)
{
	struct cdr *c = call("100", "101");
	const struct cdr_record *r;

	(void)state;
	assert_int_equal(cdr_state(c), CDR_STATE_OPEN);
	cdr_set_app(c, "Dial", "SIP/101,30");
	cdr_set_dstchannel(c, "SIP/101-00000002");
	tick_ms(5200);
	cdr_answer(c);
	assert_int_equal(cdr_state(c), CDR_STATE_UP);
	tick_ms(60700);
	cdr_disposition(c, cdr_disposition_from_dialstatus("ANSWER"));
	r = finish(c);
	assert_int_equal(r->duration, 65);     /* 65.9 s, truncated */
	assert_int_equal(r->billsec, 60);      /* 60.7 s, truncated */
	assert_string_equal(cdr_disposition_name(r->disposition), "ANSWERED");
	assert_true(r->answer_us == T0 + 5200000);
	assert_true(r->end_us == T0 + 65900000);
	assert_string_equal(r->lastapp, "Dial");
	assert_string_equal(r->lastdata, "SIP/101,30");
	assert_string_equal(r->dstchannel, "SIP/101-00000002");
	mem_deref(c);

	json_t *j = cdr_last_json(1);
	json_t *row = json_array_get(json_object_get(j, "cdr"), 0);
	assert_non_null(row);
	assert_int_equal(json_integer_value(json_object_get(row, "duration")), 65);
	assert_int_equal(json_integer_value(json_object_get(row, "billsec")), 60);
	assert_string_equal(json_string_value(json_object_get(row, "disposition")), "ANSWERED");
	assert_string_equal(json_string_value(json_object_get(row, "amaflags")), "DOCUMENTATION");
	assert_string_equal(json_string_value(json_object_get(row, "clid")), "\"Alice\" <100>");
	assert_string_equal(json_string_value(json_object_get(row, "accountcode")), "acct");
	assert_string_equal(json_string_value(json_object_get(row, "dcontext")), "default");
	json_decref(j);
}

static void t_no_answer_busy_failed(void **state)
{
	static const struct {
		const char *dialstatus;
		const char *disp;
	} cases[] = {
		{ "NOANSWER", "NO ANSWER" }, { "CANCEL", "NO ANSWER" }, { "BUSY", "BUSY" },
		{ "CHANUNAVAIL", "FAILED" }, { "CONGESTION", "FAILED" },
		{ "DONTCALL", "FAILED" }, { NULL, "FAILED" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct cdr *c = call("100", "101");
		const struct cdr_record *r;

		tick_ms(20500);
		if (cases[i].dialstatus)
			cdr_disposition(c, cdr_disposition_from_dialstatus(cases[i].dialstatus));
		r = finish(c);
		assert_string_equal(cdr_disposition_name(r->disposition), cases[i].disp);
		assert_int_equal(r->duration, 20);
		assert_int_equal(r->billsec, 0);
		assert_true(r->answer_us == 0);
		mem_deref(c);
	}
	json_t *j = cdr_last_json(1);
	json_t *row = json_array_get(json_object_get(j, "cdr"), 0);
	assert_true(json_is_null(json_object_get(row, "answer")));
	json_decref(j);
}

static void t_hangupcause(void **state)
{
	struct cdr *c;

	(void)state;
	c = call("100", "101");
	cdr_hangupcause(c, 17);
	assert_int_equal(finish(c)->disposition, CDR_DISP_BUSY);
	mem_deref(c);

	c = call("100", "101");
	cdr_hangupcause(c, 19);
	assert_int_equal(finish(c)->disposition, CDR_DISP_NO_ANSWER);
	mem_deref(c);

	c = call("100", "101");   /* a cause that says nothing: FAILED */
	cdr_hangupcause(c, 127);
	assert_int_equal(finish(c)->disposition, CDR_DISP_FAILED);
	mem_deref(c);

	c = call("100", "101");   /* the dial status wins over the cause */
	cdr_disposition(c, CDR_DISP_BUSY);
	cdr_hangupcause(c, 16);
	assert_int_equal(finish(c)->disposition, CDR_DISP_BUSY);
	mem_deref(c);

	c = call("100", "101");   /* answered, no status: ANSWERED, whatever the cause */
	tick_ms(1000);
	cdr_answer(c);
	tick_ms(3000);
	cdr_hangupcause(c, 16);
	const struct cdr_record *r = finish(c);
	assert_int_equal(r->disposition, CDR_DISP_ANSWERED);
	assert_int_equal(r->billsec, 3);
	assert_int_equal(r->duration, 4);
	mem_deref(c);

	c = call("100", "101");   /* ANSWERED without cdr_answer(): answered now */
	tick_ms(2000);
	cdr_disposition(c, CDR_DISP_ANSWERED);
	tick_ms(2000);
	r = finish(c);
	assert_int_equal(r->billsec, 2);
	assert_int_equal(r->duration, 4);
	mem_deref(c);
}

static void t_options(void **state)
{
	struct cdr_conf cc;
	struct cdr *c;

	(void)state;
	cdr_store_close();
	cdr_conf_defaults(&cc);
	cc.initiatedseconds = true;
	cc.congestion = true;
	cc.usegmtime = true;
	store_open(&cc, "pbx1");
	c = call("100", "101");
	cdr_answer(c);
	tick_ms(60500);
	assert_int_equal(finish(c)->billsec, 61);   /* .5 s counts as a second */
	mem_deref(c);
	c = call("100", "101");
	cdr_answer(c);
	tick_ms(60499);
	assert_int_equal(finish(c)->billsec, 60);
	mem_deref(c);
	c = call("100", "101");
	cdr_disposition(c, cdr_disposition_from_dialstatus("CONGESTION"));
	assert_string_equal(cdr_disposition_name(finish(c)->disposition), "CONGESTION");
	mem_deref(c);

	json_t *j = cdr_last_json(1);
	json_t *row = json_array_get(json_object_get(j, "cdr"), 0);
	assert_string_equal(json_string_value(json_object_get(row, "calldate")),
			    "2023-11-14 22:15:20");   /* T0 + 120.999 s, UTC */
	assert_string_equal(json_string_value(json_object_get(row, "disposition")), "CONGESTION");
	json_decref(j);
}

static void t_state_machine(void **state)
{
	struct cdr_start st = { .src = "100", .linkedid = "pbx1-1.1", .amaflags = CDR_AMA_BILLING };
	struct cdr *c, *d;
	char big[400];

	(void)state;
	assert_string_equal(cdr_state_name(CDR_STATE_OPEN), "open");
	assert_string_equal(cdr_state_name(CDR_STATE_FINALISED), "finalised");
	assert_string_equal(cdr_state_name(CDR_STATE_LOST), "lost");

	c = call("100", "s");
	assert_string_equal(cdr_record(c)->linkedid, cdr_record(c)->uniqueid);
	assert_int_equal(cdr_record(c)->amaflags, CDR_AMA_DOCUMENTATION);
	assert_int_equal(cdr_open_count(), 1);
	cdr_set_dst(c, "101", "internal");
	tick_ms(1000);
	cdr_answer(c);
	tick_ms(1000);
	cdr_answer(c);             /* the first answer counts */
	tick_ms(1000);
	finish(c);
	assert_int_equal(cdr_open_count(), 0);
	assert_int_equal(cdr_record(c)->billsec, 2);
	assert_string_equal(cdr_record(c)->dst, "101");
	assert_string_equal(cdr_record(c)->dcontext, "internal");
	/* after the close: setters and a second close change nothing */
	cdr_set_dst(c, "999", "x");
	cdr_userfield(c, "late");
	cdr_disposition(c, CDR_DISP_BUSY);
	assert_int_equal(cdr_close(c), 0);
	assert_string_equal(cdr_record(c)->dst, "101");
	assert_int_equal(cdr_record(c)->disposition, CDR_DISP_ANSWERED);
	mem_deref(c);
	assert_int_equal(rows_in_sqlite(), 1);

	assert_int_equal(cdr_open(&d, &st), 0);
	assert_string_equal(cdr_record(d)->linkedid, "pbx1-1.1");
	assert_int_equal(cdr_record(d)->amaflags, CDR_AMA_BILLING);
	/* long values are cut at a UTF-8 character boundary */
	memset(big, 'a', sizeof(big));
	memcpy(big + 250, "\xc3\xa9\xc3\xa9\xc3\xa9", 6);   /* "ééé" across byte 255 */
	big[sizeof(big) - 1] = '\0';
	cdr_set_app(d, "Dial", big);
	assert_int_equal(strlen(cdr_record(d)->lastdata), 254);
	cdr_userfield(d, "vip");
	finish(d);
	assert_string_equal(cdr_record(d)->userfield, "vip");
	mem_deref(d);
	assert_int_equal(rows_in_sqlite(), 2);
}

/* A CDR released while the call is up is finalised, not dropped. */
static void t_release_open(void **state)
{
	struct cdr *c = call("100", "101");
	unsigned long warns = log_count(LOG_LVL_WARN);

	(void)state;
	tick_ms(1500);
	mem_deref(c);
	assert_int_equal(log_count(LOG_LVL_WARN), warns + 1);
	assert_int_equal(cdr_open_count(), 0);
	assert_int_equal(rows_in_sqlite(), 1);
}

/* ----------------------------------------------------------- uniqueid */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void t_uniqueid(void **state)
{
	enum { N = 5000 };
	char **ids = calloc(2 * N + 2, sizeof(*ids));
	uint64_t seq0 = 0, last = 0;
	regex_t re;
	size_t i, k = 0;

	(void)state;
	assert_non_null(ids);
	assert_int_equal(regcomp(&re, "^pbx[12]-1700000000\\.[0-9]+$", REG_EXTENDED), 0);
	for (i = 0; i < N; i++) {
		struct cdr *c = call("100", "101");
		const struct cdr_record *r = cdr_record(c);
		assert_int_equal(regexec(&re, r->uniqueid, 0, NULL, 0), 0);
		if (!i)
			seq0 = r->sequence;
		else
			assert_true(r->sequence == last + 1);
		last = r->sequence;
		ids[k++] = strdup(r->uniqueid);
		finish(c);
		mem_deref(c);
	}
	/* the other node, same clock: the node name keeps them apart; a restart
	 * does not reuse a sequence number */
	cdr_store_close();
	store_open(NULL, "pbx2");
	for (i = 0; i < N; i++) {
		struct cdr *c = call("100", "101");
		assert_int_equal(regexec(&re, cdr_record(c)->uniqueid, 0, NULL, 0), 0);
		assert_true(cdr_record(c)->sequence > last);
		ids[k++] = strdup(cdr_record(c)->uniqueid);
		finish(c);
		mem_deref(c);
	}
	/* no node name: Asterisk's "<epoch>.<sequence>" */
	cdr_store_close();
	store_open(NULL, NULL);
	struct cdr *c = call("100", "101");
	assert_int_equal(strncmp(cdr_record(c)->uniqueid, "1700000000.", 11), 0);
	ids[k++] = strdup(cdr_record(c)->uniqueid);
	finish(c);
	mem_deref(c);

	qsort(ids, k, sizeof(*ids), cmp_str);
	for (i = 1; i < k; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	for (i = 0; i < k; i++)
		free(ids[i]);
	free(ids);
	regfree(&re);
	assert_true(seq0 >= 1);
	assert_int_equal(rows_in_sqlite(), 2 * N + 1);
}

/* -------------------------------------------------------------- cdr.db */

static void t_sqlite_persist(void **state)
{
	char name[8];
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "10%d", i);
		struct cdr *c = call(name, "200");
		tick_ms(1000);
		if (i % 2)
			cdr_answer(c);
		tick_ms(1000);
		finish(c);
		mem_deref(c);
	}
	cdr_store_close();   /* written at close; read back after a restart */
	store_open(NULL, "pbx1");
	json_t *j = cdr_last_json(3), *arr = json_object_get(j, "cdr");
	assert_int_equal(json_array_size(arr), 3);
	for (i = 0; i < 3; i++) {   /* the last three, oldest first */
		json_t *row = json_array_get(arr, (size_t)i);
		snprintf(name, sizeof(name), "10%d", i + 2);
		assert_string_equal(json_string_value(json_object_get(row, "src")), name);
		assert_int_equal(json_integer_value(json_object_get(row, "duration")), 2);
		assert_int_equal(json_integer_value(json_object_get(row, "billsec")),
				 (i + 2) % 2 ? 1 : 0);
		assert_non_null(json_object_get(row, "sequence"));
		assert_non_null(json_object_get(row, "linkedid"));
		assert_non_null(json_object_get(row, "peeraccount"));
		assert_non_null(json_object_get(row, "end"));
	}
	json_decref(j);
	assert_int_equal(rows_in_sqlite(), 5);
	j = cdr_status_json();
	assert_string_equal(json_string_value(json_object_get(j, "backend")), "sqlite");
	assert_int_equal(json_integer_value(json_object_get(j, "spooled")), 0);
	json_decref(j);
}

static void t_post(void **state)
{
	struct cdr_record r;
	unsigned long errs = log_count(LOG_LVL_ERROR);

	(void)state;
	memset(&r, 0, sizeof(r));
	r.start_us = T0;
	r.answer_us = T0 + 2000000;
	r.end_us = T0 + 12500000;
	r.disposition = CDR_DISP_ANSWERED;
	snprintf(r.src, sizeof(r.src), "trunk");
	assert_int_equal(cdr_post(&r), 0);
	cdr_store_commit();
	json_t *j = cdr_last_json(1);
	json_t *row = json_array_get(json_object_get(j, "cdr"), 0);
	assert_int_equal(json_integer_value(json_object_get(row, "billsec")), 10);
	assert_int_equal(json_integer_value(json_object_get(row, "duration")), 12);
	assert_int_equal(strncmp(json_string_value(json_object_get(row, "uniqueid")),
				 "pbx1-1700000000.", 16), 0);
	json_decref(j);

	/* the same uniqueid again is not stored twice */
	j = cdr_last_json(1);
	snprintf(r.uniqueid, sizeof(r.uniqueid), "%s", json_string_value(json_object_get(
		json_array_get(json_object_get(j, "cdr"), 0), "uniqueid")));
	json_decref(j);
	assert_int_equal(cdr_post(&r), 0);
	cdr_store_commit();
	assert_int_equal(rows_in_sqlite(), 1);

	/* invalid or unstorable records are logged as lost */
	r.uniqueid[0] = '\0';
	r.end_us = T0 - 1;
	assert_int_equal(cdr_post(&r), EINVAL);
	assert_int_equal(log_count(LOG_LVL_ERROR), errs + 1);
	r.end_us = T0 + 1;
	r.disposition = CDR_DISP_NULL;
	assert_int_equal(cdr_post(&r), EINVAL);
	r.disposition = CDR_DISP_BUSY;
	cdr_store_close();
	assert_int_not_equal(cdr_post(&r), 0);
	assert_int_equal(log_count(LOG_LVL_ERROR), errs + 3);
	store_open(NULL, "pbx1");
	assert_int_equal(rows_in_sqlite(), 1);
}

/* cdr.db locked by someone else: records wait in memory, then go in. */
static void t_commit_retry(void **state)
{
	char path[128];
	sqlite3 *other;
	unsigned long errs = log_count(LOG_LVL_ERROR);
	struct cdr *c;

	(void)state;
	snprintf(path, sizeof(path), "%s/cdr.db", datadir);
	c = call("100", "101");   /* reserves a block of sequence numbers */
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE;", NULL, NULL, NULL), SQLITE_OK);
	finish(c);
	mem_deref(c);
	cdr_store_commit();
	assert_int_equal(log_count(LOG_LVL_ERROR), errs + 1);
	c = call("100", "102");
	finish(c);
	mem_deref(c);
	cdr_store_commit();   /* within the retry delay: not tried */
	tick_ms(1000);
	cdr_store_commit();   /* fails again: not logged again */
	assert_int_equal(log_count(LOG_LVL_ERROR), errs + 1);
	json_t *j = cdr_status_json();
	assert_true(json_is_true(json_object_get(j, "failing")));
	assert_int_equal(json_integer_value(json_object_get(j, "pending")), 2);
	json_decref(j);
	assert_int_equal(sqlite3_exec(other, "COMMIT;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	tick_ms(1000);
	cdr_store_commit();
	assert_int_equal(rows_in_sqlite(), 2);
	assert_int_equal(log_count(LOG_LVL_ERROR), errs + 1);
}

static void t_shutdown_finalises(void **state)
{
	struct cdr *a = call("100", "101"), *b = call("102", "103"), *c = call("104", "105");

	(void)state;
	tick_ms(2000);
	cdr_answer(b);
	tick_ms(3000);
	assert_int_equal(cdr_open_count(), 3);
	cdr_store_close();   /* tandemd stops with three calls up */
	assert_int_equal(cdr_open_count(), 0);
	assert_int_equal(cdr_state(a), CDR_STATE_POSTED);
	assert_int_equal(cdr_state(b), CDR_STATE_POSTED);
	assert_int_equal(cdr_record(b)->billsec, 3);
	assert_int_equal(cdr_record(b)->disposition, CDR_DISP_ANSWERED);
	assert_int_equal(cdr_record(a)->duration, 5);
	assert_int_equal(cdr_record(c)->disposition, CDR_DISP_FAILED);
	/* the call layer lets go later: nothing is posted twice */
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
	store_open(NULL, "pbx1");
	assert_int_equal(rows_in_sqlite(), 3);
}

/* `tandemctl cdr [--last N] | status`: the command and the table. */
static void t_ctl(void **state)
{
	char err[128], *out = NULL;
	size_t outlen = 0;
	json_t *args, *j;
	FILE *f;
	int i;

	(void)state;
	for (i = 0; i < 12; i++) {
		struct cdr *c = call("100", i ? "101" : "first");
		finish(c);
		mem_deref(c);
	}
	args = json_array();
	j = cdr_ctl_cmd(args, err, sizeof(err));   /* default: the last 10 */
	assert_int_equal(json_array_size(json_object_get(j, "cdr")), 10);
	json_decref(j);
	json_array_append_new(args, json_string("--last"));
	json_array_append_new(args, json_string("20"));
	j = cdr_ctl_cmd(args, err, sizeof(err));
	assert_int_equal(json_array_size(json_object_get(j, "cdr")), 12);
	f = open_memstream(&out, &outlen);
	cdr_print(f, j);
	fclose(f);
	assert_non_null(strstr(out, "Calldate"));
	assert_non_null(strstr(out, "first"));
	assert_non_null(strstr(out, "12 call records"));
	free(out);
	json_decref(j);
	json_array_clear(args);
	json_array_append_new(args, json_string("--last=2"));
	j = cdr_ctl_cmd(args, err, sizeof(err));
	assert_int_equal(json_array_size(json_object_get(j, "cdr")), 2);
	json_decref(j);
	json_array_set_new(args, 0, json_string("--last=0"));
	assert_null(cdr_ctl_cmd(args, err, sizeof(err)));
	assert_non_null(strstr(err, "usage"));
	json_array_set_new(args, 0, json_string("status"));
	j = cdr_ctl_cmd(args, err, sizeof(err));
	f = open_memstream(&out, &outlen);
	cdr_print(f, j);
	fclose(f);
	assert_non_null(strstr(out, "Backend:   sqlite"));
	free(out);
	json_decref(j);
	json_decref(args);
}

/* ------------------------------------------------------------- spool */

static const char *link_state(void)
{
	static char buf[32];
	json_t *j = cdr_status_json();
	json_t *m = json_object_get(j, "mariadb");

	snprintf(buf, sizeof(buf), "%s", m ? json_string_value(json_object_get(m, "state")) : "");
	json_decref(j);
	return buf;
}

static struct tmr poll_tmr;
static bool (*poll_cond)(void);
static uint64_t poll_end;

static void poll_h(void *arg)
{
	(void)arg;
	if (poll_cond() || loop_now() >= poll_end) {
		loop_stop();
		return;
	}
	tmr_start(&poll_tmr, 20, poll_h, NULL);
}

/* Run the loop until cond() or ms pass; returns cond(). */
static bool run_until(bool (*cond)(void), unsigned ms)
{
	if (cond())
		return true;
	poll_cond = cond;
	poll_end = loop_now_update() + ms;
	tmr_init(&poll_tmr);
	tmr_start(&poll_tmr, 20, poll_h, NULL);
	loop_run();
	tmr_cancel(&poll_tmr);
	return cond();
}

static bool is_down(void) { return !strcmp(link_state(), "down"); }
static bool spool_empty(void) { return cdr_spool_count() == 0; }

static void mariadb_conf(struct cdr_conf *cc, const char *sock)
{
	cdr_conf_defaults(cc);
	cc->backend = CDR_BACKEND_MARIADB;
	cc->socket = sock;
	cc->user = getenv("TANDEM_TEST_MARIADB_USER") ? getenv("TANDEM_TEST_MARIADB_USER")
						      : "tandem";
	cc->password = getenv("TANDEM_TEST_MARIADB_PASSWORD");
	cc->database = getenv("TANDEM_TEST_MARIADB_DATABASE") ?
		getenv("TANDEM_TEST_MARIADB_DATABASE") : "tandemcdr";
	cc->connect_timeout = 2;
}

static void post_calls(unsigned n, const char *dst)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct cdr *c = call("100", dst);
		if (i % 3 == 0)
			cdr_answer(c);
		cdr_disposition(c, i % 3 == 0 ? CDR_DISP_ANSWERED :
				   i % 3 == 1 ? CDR_DISP_BUSY : CDR_DISP_NO_ANSWER);
		finish(c);
		mem_deref(c);
	}
}

/* MariaDB unreachable: records are spooled durably and survive a restart. */
static void t_spool_survives_restart(void **state)
{
	struct cdr_conf cc;
	unsigned long warns;
	char sock[128];

	(void)state;
	cdr_test_clock(NULL, NULL);   /* real time: the writer backs off */
	cdr_store_close();
	snprintf(sock, sizeof(sock), "%s/no-such-mariadb.sock", datadir);
	mariadb_conf(&cc, sock);
	warns = log_count(LOG_LVL_WARN);
	store_open(&cc, "pbx1");
	post_calls(7, "101");
	cdr_store_commit();
	assert_int_equal(cdr_spool_count(), 7);
	assert_true(run_until(is_down, 5000));
	assert_int_equal(log_count(LOG_LVL_WARN), warns + 1);   /* once */
	post_calls(3, "102");
	assert_false(run_until(spool_empty, 1200));
	assert_int_equal(log_count(LOG_LVL_WARN), warns + 1);   /* still once */
	assert_int_equal(cdr_spool_count(), 10);
	cdr_store_close();

	store_open(&cc, "pbx1");
	assert_int_equal(cdr_spool_count(), 10);
	assert_int_equal(rows_in_sqlite(), 10);   /* tandemctl cdr works without it */
	cdr_store_close();

	/* back on sqlite the spool is kept (and said so) until mariadb returns */
	store_open(NULL, "pbx1");
	assert_int_equal(cdr_spool_count(), 10);
}

/* -------------------------------------------------------------- config */

/* cc's strings point into the conf: it lives until the next call. */
static int conf_of(const char *text, struct cdr_conf *cc, char *err, size_t errsize)
{
	static struct conf *c;

	conf_free(c);
	c = NULL;
	if (!text)
		return 0;
	assert_int_equal(conf_parse_buf(&c, NULL, "tandem.conf", text, strlen(text), err,
					errsize), 0);
	return cdr_conf_load(cc, c, err, errsize);
}

static void t_conf(void **state)
{
	struct cdr_conf cc;
	char err[256];
	struct conf *c = NULL;
	const char *good = "[cdr]\nbackend = mariadb\nhostname = db1\nport = 3307\n"
			   "user = tandem\npassword = pw\ndbname = calls\ntable = cdr_2024\n"
			   "usegmtime = yes\ncongestion = yes\nconnect_timeout = 5\n";

	(void)state;
	assert_int_equal(cdr_conf_load(&cc, NULL, err, sizeof(err)), 0);
	assert_int_equal(cc.backend, CDR_BACKEND_SQLITE);
	assert_true(cc.enable);
	assert_string_equal(cc.table, "cdr");

	assert_int_equal(conf_parse_buf(&c, NULL, "tandem.conf", good, strlen(good), err,
					sizeof(err)), 0);
	assert_int_equal(cdr_conf_load(&cc, c, err, sizeof(err)), 0);
	assert_int_equal(cc.backend, CDR_BACKEND_MARIADB);
	assert_string_equal(cc.host, "db1");
	assert_int_equal(cc.port, 3307);
	assert_string_equal(cc.database, "calls");
	assert_string_equal(cc.table, "cdr_2024");
	assert_true(cc.usegmtime && cc.congestion && !cc.initiatedseconds);
	assert_int_equal(cc.connect_timeout, 5);
	assert_null(cc.socket);
	conf_free(c);

	assert_int_equal(conf_of("[cdr]\nbackend = oracle\n", &cc, err, sizeof(err)), EINVAL);
	assert_string_equal(err, "tandem.conf:2: [cdr] backend must be sqlite or mariadb, "
			    "not 'oracle'");
	assert_int_equal(conf_of("[cdr]\nbackend = mariadb\n", &cc, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "needs user"));
	assert_int_equal(conf_of("[cdr]\ntable = cdr; drop\n", &cc, err, sizeof(err)), 0);
	assert_int_equal(conf_of("[cdr]\ntable = cdr`x\n", &cc, err, sizeof(err)), EINVAL);
	assert_int_equal(conf_of("[cdr]\nport = 70000\n", &cc, err, sizeof(err)), EINVAL);
	assert_int_equal(conf_of("[cdr]\nenable = maybe\n", &cc, err, sizeof(err)), EINVAL);
	assert_int_equal(conf_of("[cdr]\nenable = no\nbackend=mysql\nuser=u\nsock=/s\n", &cc,
				 err, sizeof(err)), 0);
	assert_false(cc.enable);
	assert_string_equal(cc.socket, "/s");
	conf_of(NULL, &cc, err, sizeof(err));
	assert_string_equal(cdr_conf_options[0], "enable");
}

/* ------------------------------------------------- MariaDB, for real */

static MYSQL *my_connect(void)
{
	struct cdr_conf cc;
	MYSQL *m = mysql_init(NULL);

	mariadb_conf(&cc, getenv("TANDEM_TEST_MARIADB_SOCKET"));
	assert_non_null(mysql_real_connect(m, NULL, cc.user, cc.password, cc.database, 0,
					   cc.socket, 0));
	return m;
}

/* COUNT(*) and COUNT(DISTINCT uniqueid) of the MariaDB table. */
static void my_counts(long *all, long *distinct)
{
	MYSQL *m = my_connect();
	MYSQL_RES *res;
	MYSQL_ROW row;

	assert_int_equal(mysql_query(m, "SELECT COUNT(*), COUNT(DISTINCT uniqueid) FROM cdr"), 0);
	res = mysql_store_result(m);
	row = mysql_fetch_row(res);
	*all = atol(row[0]);
	*distinct = atol(row[1]);
	mysql_free_result(res);
	mysql_close(m);
}

static void run_cmd(const char *env)
{
	const char *cmd = getenv(env);

	assert_non_null(cmd);
	assert_int_equal(system(cmd), 0);
}

static void expect_rows(long n)
{
	long all, distinct;

	assert_true(run_until(spool_empty, 60000));
	my_counts(&all, &distinct);
	assert_int_equal(all, n);
	assert_int_equal(distinct, n);
}

static void t_mariadb(void **state)
{
	const char *sock = getenv("TANDEM_TEST_MARIADB_SOCKET");
	struct cdr_conf cc;
	char path[128];
	sqlite3 *db;
	int64_t t;

	(void)state;
	if (!sock || !sock[0])
		skip();
	cdr_test_clock(NULL, NULL);
	cdr_store_close();
	mariadb_conf(&cc, sock);
	store_open(&cc, "pbx1");

	/* up: 50 records arrive */
	post_calls(50, "101");
	expect_rows(50);
	assert_string_equal(link_state(), "up");

	/* down: calls go on, records are spooled, then all arrive once */
	run_cmd("TANDEM_TEST_MARIADB_STOP");
	t = cdr_mono_us();
	post_calls(50, "102");
	cdr_store_commit();
	assert_true(cdr_mono_us() - t < 200000);   /* never waits for the database */
	assert_true(run_until(is_down, 30000));
	assert_int_equal(cdr_spool_count(), 50);
	run_cmd("TANDEM_TEST_MARIADB_START");
	expect_rows(100);

	/* down across a restart of tandemd */
	run_cmd("TANDEM_TEST_MARIADB_STOP");
	post_calls(20, "103");
	assert_true(run_until(is_down, 30000));
	cdr_store_close();
	store_open(&cc, "pbx1");
	assert_int_equal(cdr_spool_count(), 20);
	run_cmd("TANDEM_TEST_MARIADB_START");
	expect_rows(120);

	/* a lost acknowledgement: delivered rows sent again are not doubled */
	cdr_store_close();
	snprintf(path, sizeof(path), "%s/cdr.db", datadir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO cdr_spool (uniqueid) SELECT uniqueid "
				      "FROM cdr ORDER BY rowid LIMIT 10", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	store_open(&cc, "pbx1");
	assert_int_equal(cdr_spool_count(), 10);
	expect_rows(120);

	/* a hung server: posting does not wait, stopping is bounded */
	if (getenv("TANDEM_TEST_MARIADB_PAUSE") && getenv("TANDEM_TEST_MARIADB_RESUME")) {
		run_cmd("TANDEM_TEST_MARIADB_PAUSE");
		t = cdr_mono_us();
		post_calls(10, "104");
		cdr_store_commit();
		assert_true(cdr_mono_us() - t < 200000);
		run_until(spool_empty, 1000);
		t = cdr_mono_us();
		cdr_store_close();
		assert_true(cdr_mono_us() - t < 4000000);
		run_cmd("TANDEM_TEST_MARIADB_RESUME");
		store_open(&cc, "pbx1");
		expect_rows(130);
	}

	/* the fields as written */
	MYSQL *m = my_connect();
	MYSQL_RES *res;
	MYSQL_ROW row;
	assert_int_equal(mysql_query(m, "SELECT disposition, billsec, dst, dcontext, "
				     "amaflags, answer IS NULL, linkedid = uniqueid FROM cdr "
				     "WHERE dst = '102' ORDER BY sequence LIMIT 3"), 0);
	res = mysql_store_result(m);
	row = mysql_fetch_row(res);
	assert_string_equal(row[0], "ANSWERED");
	assert_string_equal(row[2], "102");
	assert_string_equal(row[3], "default");
	assert_string_equal(row[4], "DOCUMENTATION");
	assert_string_equal(row[5], "0");
	assert_string_equal(row[6], "1");
	row = mysql_fetch_row(res);
	assert_string_equal(row[0], "BUSY");
	assert_string_equal(row[1], "0");
	assert_string_equal(row[5], "1");
	row = mysql_fetch_row(res);
	assert_string_equal(row[0], "NO ANSWER");
	mysql_free_result(res);
	mysql_close(m);
}

int test_cdr_run(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(t_answered),
		T(t_restore),
		T(t_no_answer_busy_failed),
		T(t_hangupcause),
		T(t_options),
		T(t_state_machine),
		T(t_release_open),
		T(t_uniqueid),
		T(t_sqlite_persist),
		T(t_post),
		T(t_commit_retry),
		T(t_shutdown_finalises),
		T(t_ctl),
		T(t_spool_survives_restart),
		cmocka_unit_test(t_conf),
		T(t_mariadb),
	};
#undef T
	return cmocka_run_group_tests_name("cdr", tests, NULL, NULL);
}
