/**
 * @file test_turn.c  The journal write path (src/ha/turn.c, apply.c):
 * changes made on one set of stores, shipped as journal bytes and applied
 * on a fresh set give the same state and digest; a crash that lost the
 * stores' last commit is replayed from the journal; a corrupt turn is
 * refused with nothing applied; confirmations wait for the standby's ACK;
 * the queue_log bytes of the turn not yet ended are counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/mem.h"
#include "ha/ha.h"
#include "ha/jnl.h"
#include "ha/turn.h"
#include "pbx/queue_log.h"
#include "pbx/registrar.h"
#include "store/astdb.h"
#include "store/cdr.h"
#include "store/store.h"
#include "suites.h"

static char root[64], dir_a[96], dir_b[96];

/* One node's stores (they are process-wide: one node open at a time). */
static void node_open(const char *dir, bool journal)
{
	struct cdr_conf cc;

	cdr_conf_defaults(&cc);
	assert_int_equal(store_init(dir), 0);
	assert_int_equal(astdb_init(dir), 0);
	assert_int_equal(cdr_store_init(&cc, dir, "a"), 0);
	assert_int_equal(registrar_init(), 0);
	ha_set_node("a");
	if (journal) {
		char err[256] = "";
		int e = ha_jnl_open(dir, err, sizeof(err));
		if (e)
			print_error("ha_jnl_open: %s\n", err);
		assert_int_equal(e, 0);
	}
	assert_int_equal(queue_log_open(dir), 0);
}

static void node_close(void)
{
	queue_log_close();
	registrar_close();
	cdr_store_close();
	ha_jnl_close();
	astdb_close();
	store_close();
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/tandem-turn-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(dir_a, sizeof(dir_a), "%s/a", root);
	snprintf(dir_b, sizeof(dir_b), "%s/b", root);
	assert_int_equal(mkdir(dir_a, 0700), 0);
	assert_int_equal(mkdir(dir_b, 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void post_cdr(const char *uid, int64_t start_s)
{
	struct cdr_record r = {
		.start_us = start_s * 1000000, .answer_us = (start_s + 2) * 1000000,
		.end_us = (start_s + 10) * 1000000, .disposition = CDR_DISP_ANSWERED,
	};

	snprintf(r.uniqueid, sizeof(r.uniqueid), "%s", uid);
	snprintf(r.src, sizeof(r.src), "100");
	snprintf(r.dst, sizeof(r.dst), "101");
	snprintf(r.channel, sizeof(r.channel), "SIP/100-tfg-0001");
	assert_int_equal(cdr_post(&r), 0);
}

/* Turn 1: two bindings, DB keys, a queue_log line, a CDR. */
static void changes_1(void)
{
	struct store_binding b1 = { "100-tfg", "sip:100@127.0.0.1:5062",
				    "udp:127.0.0.1:5062", "cid-1", 7, 4000000000LL, "SIPp" };
	struct store_binding b2 = { "101-tfg", "sip:101@127.0.0.1:5064",
				    "udp:127.0.0.1:5064", "cid-2", 3, 4000000000LL, "baresip" };

	assert_int_equal(store_binding_put(&b1), 0);
	assert_int_equal(store_binding_put(&b2), 0);
	assert_int_equal(astdb_put("blacklist", "5551234", "spam"), 0);
	assert_int_equal(astdb_put("cidname", "100", "Alice"), 0);
	assert_int_equal(astdb_put("Queue/PersistentMembers", "nosuchq",
				   "SIP/102-tfg;0;0;Bob;SIP/102-tfg"), 0);
	queue_log_write("q", "a-1.1", "Bob", "ADDMEMBER", NULL);
	post_cdr("a-1700000000.1", 1700000000);
	ha_turn_end();
}

/* Turn 2: one binding goes, one changes, a DB family goes, another CDR. */
static void changes_2(void)
{
	struct store_binding b2 = { "101-tfg", "sip:101@127.0.0.1:5066",
				    "udp:127.0.0.1:5066", "cid-3", 4, 4000000100LL, "baresip" };

	assert_int_equal(store_binding_del("100-tfg"), 0);
	assert_int_equal(store_binding_put(&b2), 0);
	assert_int_equal(astdb_deltree("cidname", NULL, NULL), 0);
	post_cdr("a-1700000100.2", 1700000100);
	ha_turn_end();
}

/* Every byte of the journal from offset 0 (malloc'd). */
static uint8_t *journal_bytes(size_t *len)
{
	struct jnl_reader *r;
	const uint8_t *p;
	uint8_t *all = NULL;
	size_t n, tot = 0;

	assert_int_equal(jnl_reader_open(&r, ha_jnl(), 0), 0);
	while (jnl_reader_next(r, &p, &n) == 0) {
		all = realloc(all, tot + n);
		assert_non_null(all);
		memcpy(all + tot, p, n);
		tot += n;
	}
	jnl_reader_close(r);
	*len = tot;
	return all;
}

static void same_state(const struct ha_digest *x, const struct ha_digest *y)
{
	assert_string_equal(x->replid, y->replid);
	assert_int_equal(x->offset, y->offset);
	assert_string_equal(x->bindings, y->bindings);
	assert_string_equal(x->astdb, y->astdb);
	assert_string_equal(x->cdr, y->cdr);
	assert_string_equal(x->queue_log, y->queue_log);
}

static void t_apply_on_fresh_stores(void **state)
{
	struct ha_digest da, db, empty;
	char replid[JNL_REPLID_LEN + 1], err[256] = "";
	uint8_t *buf;
	size_t len;
	uint64_t end = 0;
	struct binding *b;
	char *v = NULL;

	(void)state;
	node_open(dir_a, true);
	changes_1();
	changes_2();
	assert_int_equal(ha_digest(&da), 0);
	snprintf(replid, sizeof(replid), "%s", jnl_replid(ha_jnl()));
	buf = journal_bytes(&len);
	assert_int_equal(len, jnl_head(ha_jnl()));
	node_close();

	/* the standby: fresh stores, the active's history */
	node_open(dir_b, true);
	assert_int_equal(jnl_reset(ha_jnl(), replid, 0), 0);
	assert_int_equal(ha_digest(&empty), 0);
	assert_string_not_equal(empty.bindings, da.bindings);
	assert_int_equal(ha_turn_receive(0, buf, len, &end, err, sizeof(err)), 0);
	assert_int_equal(end, len);
	assert_int_equal(ha_digest(&db), 0);
	same_state(&da, &db);
	/* the memory view: what `tandemctl registrations` lists */
	assert_null(registrar_find("100-tfg"));
	assert_non_null(b = registrar_find("101-tfg"));
	assert_string_equal(b->contact, "sip:101@127.0.0.1:5066");
	assert_int_equal(b->cseq, 4);
	assert_int_equal(registrar_count(), 1);
	assert_int_equal(astdb_get("blacklist", "5551234", &v), 0);
	assert_string_equal(v, "spam");
	free(v);
	assert_int_equal(astdb_get("cidname", "100", &v), ENOENT);
	/* applied twice (a replay): nothing changes */
	uint64_t none[3] = { 0, 0, 0 };
	assert_int_equal(ha_apply_turns(buf, len, HA_APPLY_REPLAY, 0, none), 0);
	ha_turn_end();
	assert_int_equal(ha_digest(&db), 0);
	same_state(&da, &db);
	/* the same bytes again: not at the head */
	assert_int_equal(ha_turn_receive(0, buf, len, &end, err, sizeof(err)), ERANGE);
	node_close();
	free(buf);
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp %s/%s %s/%s", from_dir, name, to_dir, name);
	assert_int_equal(system(cmd), 0);
}

static void t_replay_after_crash(void **state)
{
	static const char *const files[] = { "tandem.db", "astdb.sqlite3", "cdr.db" };
	struct ha_digest want, got;
	char snap[128];
	size_t i;

	(void)state;
	snprintf(snap, sizeof(snap), "%s/snap", root);
	assert_int_equal(mkdir(snap, 0700), 0);
	node_open(dir_a, true);
	changes_1();
	node_close();
	for (i = 0; i < 3; i++)   /* the stores as turn 1 left them */
		copy_file(dir_a, snap, files[i]);
	node_open(dir_a, true);
	changes_2();
	assert_int_equal(ha_digest(&want), 0);
	node_close();
	/* crash: turn 2 reached the journal, the stores lost its commit */
	for (i = 0; i < 3; i++)
		copy_file(snap, dir_a, files[i]);
	node_open(dir_a, true);
	assert_int_equal(ha_digest(&got), 0);
	same_state(&want, &got);
	node_close();
	/* only cdr.db was behind: replay skips the others, same result */
	copy_file(snap, dir_a, "cdr.db");
	node_open(dir_a, true);
	assert_int_equal(ha_digest(&got), 0);
	same_state(&want, &got);
	node_close();
}

static void t_corrupt_refused(void **state)
{
	struct ha_digest before, after;
	char replid[JNL_REPLID_LEN + 1], err[256];
	uint8_t *buf;
	size_t len, i;
	uint64_t end = 77;

	(void)state;
	node_open(dir_a, true);
	changes_1();
	changes_2();
	snprintf(replid, sizeof(replid), "%s", jnl_replid(ha_jnl()));
	buf = journal_bytes(&len);
	node_close();

	node_open(dir_b, true);
	assert_int_equal(jnl_reset(ha_jnl(), replid, 0), 0);
	assert_int_equal(ha_digest(&before), 0);
	/* one bad byte in the second turn: the first turn is not applied either */
	buf[len - 30] ^= 0x40;
	err[0] = '\0';
	assert_int_equal(ha_turn_receive(0, buf, len, &end, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "at offset"));
	assert_non_null(strstr(err, "does not decode"));
	assert_int_equal(end, 77);
	buf[len - 30] ^= 0x40;
	/* cut short */
	err[0] = '\0';
	assert_int_equal(ha_turn_receive(0, buf, len - 5, &end, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "cut short"));
	/* garbage */
	uint8_t junk[64];
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 1);
	assert_int_equal(ha_turn_receive(0, junk, sizeof(junk), &end, err, sizeof(err)),
			 EBADMSG);
	assert_int_equal(jnl_head(ha_jnl()), 0);
	assert_int_equal(registrar_count(), 0);
	assert_int_equal(ha_digest(&after), 0);
	same_state(&before, &after);
	/* the intact bytes still go in */
	assert_int_equal(ha_turn_receive(0, buf, len, &end, err, sizeof(err)), 0);
	assert_int_equal(registrar_count(), 1);
	node_close();
	free(buf);
}

static int calls, oks;
static uint64_t fed_end;

static void durable_h(bool ok, void *arg)
{
	(void)arg;
	calls++;
	oks += ok;
}

static void feed_h(uint64_t start, uint64_t end, void *arg)
{
	(void)arg;
	assert_true(start < end);
	fed_end = end;
}

static void t_durable(void **state)
{
	struct store_binding b = { "100-tfg", "sip:100@127.0.0.1", "udp:127.0.0.1:5062",
				   "c", 1, 4000000000LL, "" };
	uint64_t first;

	(void)state;
	/* single node: at the end of the turn, as store_on_commit */
	node_open(dir_a, false);
	calls = oks = 0;
	assert_null(ha_jnl());
	assert_int_equal(store_binding_put(&b), 0);
	assert_int_equal(ha_on_durable(durable_h, NULL), 0);
	assert_int_equal(calls, 0);
	ha_turn_end();
	assert_int_equal(calls, 1);
	assert_int_equal(oks, 1);
	node_close();

	/* cluster, sync: parked until the standby ACKs the turn's end */
	node_open(dir_b, true);
	calls = oks = 0;
	ha_set_feed(feed_h, NULL);
	ha_set_sync(true);
	assert_int_equal(store_binding_put(&b), 0);
	assert_int_equal(ha_on_durable(durable_h, NULL), 0);
	ha_turn_end();
	first = fed_end;
	assert_true(first > 0);
	assert_int_equal(calls, 0);
	b.cseq = 2;
	assert_int_equal(store_binding_put(&b), 0);
	assert_int_equal(ha_on_durable(durable_h, NULL), 0);
	ha_turn_end();
	assert_true(fed_end > first);
	ha_durable_release(first - 1);
	assert_int_equal(calls, 0);
	ha_durable_release(first);
	assert_int_equal(calls, 1);
	/* alone again: everything parked goes */
	ha_set_sync(false);
	assert_int_equal(calls, 2);
	assert_int_equal(oks, 2);
	/* not sync: at once */
	assert_int_equal(ha_on_durable(durable_h, NULL), 0);
	ha_turn_end();
	assert_int_equal(calls, 3);
	/* closing with one parked: not confirmed */
	ha_set_sync(true);
	assert_int_equal(store_binding_put(&b), 0);
	assert_int_equal(ha_on_durable(durable_h, NULL), 0);
	ha_turn_end();
	assert_int_equal(calls, 3);
	/* dropped (fenced before going alone was recorded): not confirmed,
	 * and no longer waiting */
	assert_int_equal(ha_durable_drop(), 1);
	assert_int_equal(calls, 4);
	assert_int_equal(oks, 3);
	assert_int_equal(ha_durable_drop(), 0);
	assert_int_equal(ha_on_durable(durable_h, NULL), 0);
	ha_turn_end();
	assert_int_equal(calls, 5);
	assert_int_equal(oks, 4);
	/* closing with one parked: not confirmed */
	ha_set_sync(true);
	assert_int_equal(store_binding_put(&b), 0);
	assert_int_equal(ha_on_durable(durable_h, NULL), 0);
	ha_turn_end();
	assert_int_equal(calls, 5);
	node_close();
	assert_int_equal(calls, 6);
	assert_int_equal(oks, 4);
}


/* cdr_open rows in DIR/cdr.db: "uniqueid:answered" joined by spaces */
static void open_rows(const char *dir, char *out, size_t size)
{
	char path[160];
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/cdr.db", dir);
	out[0] = '\0';
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT uniqueid, answer_us IS NOT NULL FROM cdr_open "
			       "ORDER BY uniqueid", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW)
			n += (size_t)snprintf(out + n, size - n, "%s%s:%d", n ? " " : "",
					      sqlite3_column_text(st, 0),
					      sqlite3_column_int(st, 1));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

static void t_open_calls(void **state)
{
	struct cdr_start cs = { .src = "100", .dst = "200", .channel = "SIP/100-tfg-1" };
	struct ha_digest da, db;
	char replid[JNL_REPLID_LEN + 1], err[256], rows[256], want[256];
	struct cdr *c;
	uint8_t *buf;
	size_t len, h1;
	uint64_t end;

	(void)state;
	node_open(dir_a, true);
	assert_int_equal(cdr_open(&c, &cs), 0);
	cdr_answer(c);
	ha_turn_end();
	h1 = (size_t)jnl_head(ha_jnl());
	open_rows(dir_a, rows, sizeof(rows));
	snprintf(want, sizeof(want), "%s:1", cdr_uniqueid(c));
	assert_string_equal(rows, want);
	assert_int_equal(cdr_close(c), 0);
	mem_deref(c);
	ha_turn_end();
	open_rows(dir_a, rows, sizeof(rows));
	assert_string_equal(rows, "");
	assert_int_equal(ha_digest(&da), 0);
	snprintf(replid, sizeof(replid), "%s", jnl_replid(ha_jnl()));
	buf = journal_bytes(&len);
	node_close();

	node_open(dir_b, true);
	assert_int_equal(jnl_reset(ha_jnl(), replid, 0), 0);
	assert_int_equal(ha_turn_receive(0, buf, h1, &end, err, sizeof(err)), 0);
	open_rows(dir_b, rows, sizeof(rows));
	assert_string_equal(rows, want);   /* the standby knows the call is up */
	assert_int_equal(ha_turn_receive(h1, buf + h1, len - h1, &end, err, sizeof(err)), 0);
	open_rows(dir_b, rows, sizeof(rows));
	assert_string_equal(rows, "");
	assert_int_equal(ha_digest(&db), 0);
	same_state(&da, &db);
	node_close();
	free(buf);
}

static int count_bindings(const char *dir)
{
	char path[160];
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	snprintf(path, sizeof(path), "%s/tandem.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM bindings", -1, &st,
					    NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static int count_rows(const char *dir, const char *sql)
{
	char path[160];
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	snprintf(path, sizeof(path), "%s/cdr.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* tandem.db is locked by another process: the binding reaches the journal
 * but not the store (its commit fails); once the lock is gone the next
 * turn's catch-up replays it (design 2.5 step 2), without a restart. */
static void t_catch_up(void **state)
{
	struct store_binding b = { "100-tfg", "sip:100@127.0.0.1", "udp:127.0.0.1:5062",
				   "c", 1, 4000000000LL, "" };
	char path[160];
	sqlite3 *lock;

	(void)state;
	node_open(dir_a, true);
	snprintf(path, sizeof(path), "%s/tandem.db", dir_a);
	assert_int_equal(sqlite3_open_v2(path, &lock, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(lock, "BEGIN IMMEDIATE;", NULL, NULL, NULL), SQLITE_OK);
	store_binding_put(&b);   /* journaled; the store waits 2 s, then fails */
	ha_turn_end();
	assert_true(store_failing());
	assert_int_equal(count_bindings(dir_a), 0);
	sqlite3_exec(lock, "ROLLBACK;", NULL, NULL, NULL);
	sqlite3_close(lock);
	for (int i = 0; i < 40 && count_bindings(dir_a) == 0; i++) {
		usleep(50000);   /* the retry waits a second: bounded loop */
		ha_turn_end();
	}
	assert_int_equal(count_bindings(dir_a), 1);
	assert_false(store_failing());
	node_close();
}

/* CDR_SPOOL_DONE from the active empties those rows of the standby's
 * MariaDB spool (and only those). */
static void t_spool_done(void **state)
{
	struct jnl_wbuf list = { 0 }, turn = { 0 };
	struct jnl_entry e = { .type = JNL_CDR_SPOOL_DONE, .ts_us = 1 };
	char err[256];
	uint64_t end;

	(void)state;
	node_open(dir_b, true);
	assert_int_equal(count_rows(dir_b, "SELECT COUNT(*) FROM cdr_spool"), 0);
	node_close();
	assert_int_equal(count_rows(dir_b, "INSERT INTO cdr_spool (uniqueid) VALUES "
				    "('a-1.1'), ('a-1.2'), ('a-1.3')"), -1);
	node_open(dir_b, true);
	assert_int_equal(jnl_strlist_add(&list, jnl_pl("a-1.1")), 0);
	assert_int_equal(jnl_strlist_add(&list, jnl_pl("a-1.3")), 0);
	assert_int_equal(jnl_strlist_add(&list, jnl_pl("a-9.9")), 0);   /* not here: fine */
	e.u.spool_done = (struct jnl_spool_done){ 3, pl_of((const char *)list.p, list.len) };
	assert_int_equal(jnl_entry_encode(&turn, &e), 0);
	e = (struct jnl_entry){ .type = JNL_TURN, .ts_us = 1, .u.turn = { 1, 1 } };
	assert_int_equal(jnl_entry_encode(&turn, &e), 0);
	assert_int_equal(ha_turn_receive(0, turn.p, turn.len, &end, err, sizeof(err)), 0);
	node_close();
	assert_int_equal(count_rows(dir_b, "SELECT COUNT(*) FROM cdr_spool"), 1);
	assert_int_equal(count_rows(dir_b, "SELECT COUNT(*) FROM cdr_spool WHERE "
				    "uniqueid='a-1.2'"), 1);
	jnl_wbuf_free(&list);
	jnl_wbuf_free(&turn);
}

/* queue_log lines of the turn not yet ended: what a full resync cuts off
 * queue_log (they come after the snapshot's offset, in the stream). */
static void t_qlog_bytes(void **state)
{
	struct stat st;
	off_t before;

	(void)state;
	node_open(dir_a, true);
	assert_int_equal(ha_turn_qlog_bytes(), 0);
	changes_1();
	assert_int_equal(ha_turn_qlog_bytes(), 0);         /* that turn ended */
	assert_int_equal(stat(queue_log_path(), &st), 0);
	before = st.st_size;
	queue_log_write("q", "a-2.1", "Ann", "ADDMEMBER", NULL);
	assert_int_equal(astdb_put("cidname", "101", "Bob"), 0);
	queue_log_write("q", "a-2.2", "Ann", "REMOVEMEMBER", NULL);
	assert_int_equal(stat(queue_log_path(), &st), 0);
	assert_true(st.st_size > before);
	assert_int_equal(ha_turn_qlog_bytes(), (size_t)(st.st_size - before));
	ha_turn_end();
	assert_int_equal(ha_turn_qlog_bytes(), 0);
	node_close();
}

int test_turn_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_apply_on_fresh_stores, setup, teardown),
		cmocka_unit_test_setup_teardown(t_replay_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(t_corrupt_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(t_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(t_open_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(t_spool_done, setup, teardown),
		cmocka_unit_test_setup_teardown(t_catch_up, setup, teardown),
		cmocka_unit_test_setup_teardown(t_qlog_bytes, setup, teardown),
	};
	return cmocka_run_group_tests_name("turn", tests, NULL, NULL);
}
