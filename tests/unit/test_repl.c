/**
 * @file test_repl.c  Replication frames (src/ha/repl_codec.c): every
 * payload round trip, every refusal (short, trailing, bad replid, unknown
 * database), STREAM frames whose turns are truncated or corrupt refused
 * with the offset named, and the PSYNC decision of design 3.3; the
 * snapshot (repl_snap.c): consistent at the moment it began while rows are
 * written meanwhile, a WAL file, and installed into a live WAL database
 * that another connection keeps open.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "ha/merge.h"
#include "ha/repl.h"
#include "ha/repl_int.h"
#include "suites.h"

static const char R1[] = "0123456789abcdef0123456789abcdef01234567";
static const char R2[] = "fedcba9876543210fedcba9876543210fedcba98";

/* Two whole turns: DB_PUT + TURN, DB_DEL + TURN. */
static void turns(struct jnl_wbuf *b)
{
	struct jnl_entry e = { .type = JNL_DB_PUT, .ts_us = 1000 };

	e.u.db = (struct jnl_db){ jnl_pl("fam"), jnl_pl("key"), jnl_pl("value") };
	assert_int_equal(jnl_entry_encode(b, &e), 0);
	e = (struct jnl_entry){ .type = JNL_TURN, .ts_us = 1001 };
	e.u.turn = (struct jnl_turn){ 1, 1 };
	assert_int_equal(jnl_entry_encode(b, &e), 0);
	e = (struct jnl_entry){ .type = JNL_DB_DEL, .ts_us = 2000 };
	e.u.db = (struct jnl_db){ jnl_pl("fam"), jnl_pl("key"), { NULL, 0 } };
	assert_int_equal(jnl_entry_encode(b, &e), 0);
	e = (struct jnl_entry){ .type = JNL_TURN, .ts_us = 2001 };
	e.u.turn = (struct jnl_turn){ 2, 1 };
	assert_int_equal(jnl_entry_encode(b, &e), 0);
}

static void t_pos_full_ack(void **state)
{
	struct jnl_wbuf b = { 0 };
	struct repl_pos p;
	struct repl_full f = { .offset = 77, .db_bytes = 1u << 30 }, fd;
	struct repl_ack a = { 123456789012ull, -5 }, ad;
	uint64_t v;

	(void)state;
	assert_int_equal(repl_pos_encode(&b, R1, 42), 0);
	assert_int_equal(b.len, 48);
	assert_int_equal(repl_pos_decode(&p, b.p, b.len), 0);
	assert_string_equal(p.replid, R1);
	assert_int_equal(p.offset, 42);
	assert_int_equal(repl_pos_decode(&p, b.p, b.len - 1), EBADMSG);
	b.p[3] = 'X';                                         /* not hex */
	assert_int_equal(repl_pos_decode(&p, b.p, b.len), EBADMSG);
	b.len = 0;
	assert_int_equal(repl_pos_encode(&b, "", 0), 0);      /* no history yet */
	assert_int_equal(repl_pos_decode(&p, b.p, b.len), 0);
	assert_string_equal(p.replid, "0000000000000000000000000000000000000000");

	b.len = 0;
	memcpy(f.replid, R2, sizeof(R2));
	assert_int_equal(repl_full_encode(&b, &f), 0);
	assert_int_equal(repl_full_decode(&fd, b.p, b.len), 0);
	assert_string_equal(fd.replid, R2);
	assert_int_equal(fd.offset, 77);
	assert_int_equal(fd.db_bytes, 1u << 30);
	assert_int_equal(repl_full_decode(&fd, b.p, b.len + 0 - 1), EBADMSG);

	b.len = 0;
	assert_int_equal(repl_ack_encode(&b, &a), 0);
	assert_int_equal(repl_ack_decode(&ad, b.p, b.len), 0);
	assert_int_equal(ad.offset, a.offset);
	assert_int_equal(ad.ts_us, -5);
	assert_int_equal(repl_ack_decode(&ad, b.p, 15), EBADMSG);

	b.len = 0;
	assert_int_equal(repl_u64_encode(&b, 99), 0);
	assert_int_equal(repl_u64_decode(&v, b.p, b.len), 0);
	assert_int_equal(v, 99);
	assert_int_equal(repl_u64_decode(&v, b.p, 9), EBADMSG);
	jnl_wbuf_free(&b);
}

static void t_snap(void **state)
{
	struct jnl_wbuf b = { 0 };
	struct repl_snap s;
	struct repl_snap_end e = { .db = REPL_DB_CDR, .size = 5 }, ed;

	(void)state;
	assert_int_equal(repl_snap_encode_hdr(&b, REPL_DB_ASTDB, 4096), 0);
	assert_int_equal(jnl_wbuf_reserve(&b, 3), 0);
	memcpy(b.p + b.len, "abc", 3);
	b.len += 3;
	assert_int_equal(repl_snap_decode(&s, b.p, b.len), 0);
	assert_int_equal(s.db, REPL_DB_ASTDB);
	assert_int_equal(s.off, 4096);
	assert_int_equal(s.len, 3);
	assert_memory_equal(s.data, "abc", 3);
	assert_int_equal(repl_snap_decode(&s, b.p, 8), EBADMSG);   /* short header */
	b.p[0] = REPL_DB_COUNT;                                      /* unknown db */
	assert_int_equal(repl_snap_decode(&s, b.p, b.len), EBADMSG);

	b.len = 0;
	memset(e.sha256, 0xab, 32);
	assert_int_equal(repl_snap_end_encode(&b, &e), 0);
	assert_int_equal(repl_snap_end_decode(&ed, b.p, b.len), 0);
	assert_int_equal(ed.db, REPL_DB_CDR);
	assert_int_equal(ed.size, 5);
	assert_memory_equal(ed.sha256, e.sha256, 32);
	assert_int_equal(repl_snap_end_decode(&ed, b.p, b.len - 1), EBADMSG);
	b.p[0] = 9;
	assert_int_equal(repl_snap_end_decode(&ed, b.p, b.len), EBADMSG);
	assert_string_equal(repl_db_file(REPL_DB_TANDEM), "tandem.db");
	assert_null(repl_db_file(REPL_DB_COUNT));
	jnl_wbuf_free(&b);
}

static void t_stream(void **state)
{
	struct jnl_wbuf b = { 0 }, t = { 0 };
	struct repl_stream s;
	char err[256];
	size_t first;

	(void)state;
	turns(&t);
	assert_int_equal(repl_stream_encode_hdr(&b, 1000), 0);
	assert_int_equal(jnl_wbuf_reserve(&b, t.len), 0);
	memcpy(b.p + b.len, t.p, t.len);
	b.len += t.len;
	assert_int_equal(repl_stream_decode(&s, b.p, b.len, err, sizeof(err)), 0);
	assert_int_equal(s.start, 1000);
	assert_int_equal(s.len, t.len);
	assert_ptr_equal(s.turns, b.p + 8);

	/* truncated anywhere inside the second turn: refused, offset named */
	assert_int_equal(jnl_turn_check(t.p, t.len, &first, NULL), 0);
	for (size_t cut = 8 + first + 1; cut < b.len; cut += 7) {
		err[0] = '\0';
		assert_int_equal(repl_stream_decode(&s, b.p, cut, err, sizeof(err)), EBADMSG);
		assert_non_null(strstr(err, "truncated"));
		char want[64];
		snprintf(want, sizeof(want), "turn at offset %zu", 1000 + first);
		assert_non_null(strstr(err, want));
	}
	/* one flipped byte in the payload of the first entry: CRC refuses it */
	b.p[8 + 20] ^= 0x40;
	assert_int_equal(repl_stream_decode(&s, b.p, b.len, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "does not decode"));
	assert_non_null(strstr(err, "turn at offset 1000"));
	b.p[8 + 20] ^= 0x40;
	/* an entry without its TURN (a torn turn) */
	assert_int_equal(repl_stream_decode(&s, b.p, 8 + first - 1, err, sizeof(err)), EBADMSG);
	/* header only, or less */
	assert_int_equal(repl_stream_decode(&s, b.p, 8, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "empty STREAM"));
	assert_int_equal(repl_stream_decode(&s, b.p, 5, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "less than its header"));
	/* garbage after whole turns */
	memset(b.p + 8 + first, 0xff, b.len - 8 - first);
	assert_int_equal(repl_stream_decode(&s, b.p, b.len, err, sizeof(err)), EBADMSG);
	jnl_wbuf_free(&b);
	jnl_wbuf_free(&t);
}

/* design 3.3: CONTINUE or FULLRESYNC */
static void t_psync_decision(void **state)
{
	struct repl_pos w;

	(void)state;
	memcpy(w.replid, R1, sizeof(R1));
	w.offset = 500;
	/* same history, inside the journal, at its ends */
	assert_true(repl_can_continue(&w, R1, "", 0, 100, 900));
	w.offset = 100;
	assert_true(repl_can_continue(&w, R1, "", 0, 100, 900));
	w.offset = 900;
	assert_true(repl_can_continue(&w, R1, "", 0, 100, 900));
	/* older than the backlog, or ahead of the head */
	w.offset = 99;
	assert_false(repl_can_continue(&w, R1, "", 0, 100, 900));
	w.offset = 901;
	assert_false(repl_can_continue(&w, R1, "", 0, 100, 900));
	/* the previous history, up to where it ended (offset2) */
	w.offset = 400;
	assert_true(repl_can_continue(&w, R2, R1, 400, 100, 900));
	w.offset = 401;       /* wrote after the split: diverged */
	assert_false(repl_can_continue(&w, R2, R1, 400, 100, 900));
	/* another history altogether, or a fresh node */
	w.offset = 500;
	assert_false(repl_can_continue(&w, R2, "", 0, 100, 900));
	memcpy(w.replid, "0000000000000000000000000000000000000000", 41);
	w.offset = 0;
	assert_false(repl_can_continue(&w, R1, "0000000000000000000000000000000000000000", 0,
				       0, 900));
	assert_string_equal(repl_state_name(REPL_ALONE), "alone");
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int count(sqlite3 *db, const char *table)
{
	sqlite3_stmt *st;
	char sql[64];
	int n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void t_snapshot(void **state)
{
	char dir[] = "/tmp/tandem-repl-XXXXXX", path[256], live[256];
	sqlite3 *w[REPL_DB_COUNT], *db, *reader;
	struct repl_snap_out *s;
	struct repl_install *in;
	uint8_t hdr[2];
	bool done;
	FILE *f;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < REPL_DB_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, repl_db_file((unsigned)i));
		assert_int_equal(sqlite3_open(path, &w[i]), SQLITE_OK);
		exec_ok(w[i], "PRAGMA journal_mode=WAL; CREATE TABLE t(a, b);"
			"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
			"WHERE i < 5000) INSERT INTO t SELECT i, hex(randomblob(100)) FROM n;");
	}
	assert_int_equal(repl_snap_begin(&s, dir), 0);
	/* written after the snapshot began: not in it */
	for (i = 0; i < REPL_DB_COUNT; i++)
		exec_ok(w[i], "INSERT INTO t VALUES (-1, 'after')");
	do {
		assert_int_equal(repl_snap_step(s, &done), 0);
		exec_ok(w[0], "INSERT INTO t VALUES (-2, 'during')");
	} while (!done);
	for (i = 0; i < REPL_DB_COUNT; i++) {
		assert_true(repl_snap_size(s, (unsigned)i) > 5000 * 100);
		assert_int_equal(sqlite3_open(repl_snap_path(s, (unsigned)i), &db), SQLITE_OK);
		assert_int_equal(count(db, "t"), 5000);
		sqlite3_close(db);
		f = fopen(repl_snap_path(s, (unsigned)i), "rb");
		assert_non_null(f);
		assert_int_equal(fseek(f, 18, SEEK_SET), 0);
		assert_int_equal(fread(hdr, 1, 2, f), 2);
		fclose(f);
		assert_int_equal(hdr[0], 2);          /* a WAL file, as the live ones */
		assert_int_equal(hdr[1], 2);
	}
	/* install the cdr copy into another live WAL database kept open */
	snprintf(live, sizeof(live), "%s/live.db", dir);
	assert_int_equal(sqlite3_open(live, &reader), SQLITE_OK);
	exec_ok(reader, "PRAGMA journal_mode=WAL; CREATE TABLE old(x); INSERT INTO old VALUES (1);");
	assert_int_equal(repl_install_begin(&in, repl_snap_path(s, REPL_DB_CDR), live), 0);
	do
		assert_int_equal(repl_install_step(in, &done), 0);
	while (!done);
	repl_install_end(in);
	assert_int_equal(count(reader, "t"), 5000);   /* the open connection sees it */
	exec_ok(reader, "INSERT INTO t VALUES (0, 'after install')");
	assert_int_equal(count(reader, "t"), 5001);
	sqlite3_close(reader);
	assert_int_equal(repl_install_begin(&in, "/nonexistent/x.part", live), EIO);
	repl_snap_end(s);                              /* removes repl/out/... */
	for (i = 0; i < REPL_DB_COUNT; i++)
		sqlite3_close(w[i]);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/* The names a merge gives the loser's files (design 7). */
static void t_merge_names(void **state)
{
	char out[64];
	const char *ext;
	size_t dl;

	(void)state;
	assert_int_equal(merge_msgnum("default/tfg/INBOX/msg0007.wav", &dl, &ext), 7);
	assert_int_equal(dl, strlen("default/tfg/INBOX/"));
	assert_string_equal(ext, ".wav");
	assert_int_equal(merge_msgnum("msg12345.txt", &dl, &ext), 12345);
	assert_int_equal(dl, 0);
	assert_int_equal(merge_msgnum("default/tfg/unavail.wav", &dl, &ext), -1);
	assert_int_equal(merge_msgnum("INBOX/msg007.wav", &dl, &ext), -1);    /* 3 digits */
	assert_int_equal(merge_msgnum("INBOX/msg0007", &dl, &ext), -1);       /* no ext */
	assert_int_equal(merge_msgnum("INBOX/msg0007.wav.part", &dl, &ext), -1);
	assert_int_equal(merge_msgnum("INBOX/msg0x07.wav", &dl, &ext), -1);
	assert_int_equal(merge_msgnum("INBOX/msg99999999999.wav", &dl, &ext), -1);
	assert_int_equal(merge_suffixed(out, sizeof(out), "2026/rec600.wav", "a"), 0);
	assert_string_equal(out, "2026/rec600-a.wav");
	assert_int_equal(merge_suffixed(out, sizeof(out), "d.x/rec", "b"), 0);
	assert_string_equal(out, "d.x/rec-b");
	assert_int_equal(merge_suffixed(out, sizeof(out), ".hidden", "b"), 0);
	assert_string_equal(out, ".hidden-b");
	assert_int_equal(merge_conflict_name(out, sizeof(out), "sip.conf", "b", 1718270680), 0);
	assert_string_equal(out, "sip.conf.conflict-b-1718270680");
	assert_int_equal(merge_conflict_name(out, 10, "sip.conf", "b", 1), ENAMETOOLONG);
	assert_int_equal(merge_suffixed(out, 8, "recording.wav", "b"), ENAMETOOLONG);
}

/* Where two histories branched (design 3.3 step 4, 7). */
static void t_merge_branch(void **state)
{
	const char *R3 = "3333333333333333333333333333333333333333";
	uint64_t at = 0;

	(void)state;
	/* a (R1, head 900) meets b, promoted from R1 at 700: a's tail 700.. */
	struct merge_pos a = { R1, "", 0, 900 }, b = { R2, R1, 700, 1200 };
	assert_true(merge_branch(&a, &b, &at));
	assert_int_equal(at, 700);
	assert_false(merge_branch(&b, &a, &at));      /* b holds nothing a lacks */
	a.head = 700;                                  /* nothing past the branch */
	assert_false(merge_branch(&a, &b, &at));
	/* a double failover: both promoted from R1 (b at 700, a at 900) */
	struct merge_pos a3 = { R3, R1, 900, 1000 };
	assert_true(merge_branch(&a3, &b, &at));
	assert_int_equal(at, 700);
	assert_true(merge_branch(&b, &a3, &at));
	assert_int_equal(at, 700);
	/* the same history, or unrelated ones: no branch */
	struct merge_pos b2 = { R2, R1, 700, 1300 }, x = { R3, R2, 10, 20 };
	assert_false(merge_branch(&b2, &b, &at));
	assert_false(merge_branch(&x, &a, &at));
	struct merge_pos fresh = { R1, "", 0, 0 };
	assert_false(merge_branch(&a, &fresh, &at));
}

int test_repl_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_pos_full_ack),
		cmocka_unit_test(t_snap),
		cmocka_unit_test(t_stream),
		cmocka_unit_test(t_psync_decision),
		cmocka_unit_test(t_snapshot),
		cmocka_unit_test(t_merge_names),
		cmocka_unit_test(t_merge_branch),
	};
	return cmocka_run_group_tests_name("repl", tests, NULL, NULL);
}
