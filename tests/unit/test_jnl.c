/**
 * @file test_jnl.c  CRC-32C, journal entries (every record type round trip,
 * every refusal) and segments on disk (append, reopen, roll-over,
 * retention, readers, torn and corrupt tails, a failed write cut back).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "ha/crc32c.h"
#include "ha/jnl.h"
#include "ha/jnl_codec.h"
#include "suites.h"

static const char R1[] = "0123456789abcdef0123456789abcdef01234567";
static const char R2[] = "fedcba9876543210fedcba9876543210fedcba98";
static const uint8_t SHA[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

/* ------------------------------------------------------------ crc32c */

static void t_crc32c(void **state)
{
	uint8_t buf[300];
	uint8_t zeros[32] = { 0 };

	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aau);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len < 40; len++)
			assert_int_equal(crc32c(0, buf + off, len), crc32c_sw(0, buf + off, len));
	/* incremental = whole */
	assert_int_equal(crc32c(crc32c(0, buf, 100), buf + 100, 200), crc32c(0, buf, 300));
}

/* ------------------------------------------------------- sample entries */

static struct jnl_wbuf aux;   /* lists and TLVs of the samples */

/* A filled entry of each type; lists and TLVs are built into aux. */
static void sample(uint16_t type, struct jnl_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->ts_us = 1718270680123456;
	switch (type) {
	case JNL_TURN:
		e->u.turn = (struct jnl_turn){ 42, 3 };
		break;
	case JNL_EPOCH:
		e->u.epoch = (struct jnl_epoch){ 8, PL("b"), PL(R1), PL(R2), 81234,
						 PL("a exited; witness granted") };
		break;
	case JNL_MEMBERS:
		aux.len = 0;
		jnl_strlist_add(&aux, PL("a"));
		jnl_strlist_add(&aux, PL("10.0.0.1"));
		jnl_strlist_add(&aux, PL("b"));
		jnl_strlist_add(&aux, PL("10.0.0.2:7381"));
		e->u.members = (struct jnl_members){ 7, 2, pl_of((char *)aux.p, aux.len),
						     PL("10.0.0.3") };
		break;
	case JNL_SEQ:
		e->u.seq = (struct jnl_seq){ PL("cdr"), 1000 };
		break;
	case JNL_BINDING_PUT:
		e->u.bput = (struct jnl_binding_put){ PL("100-tfg"), PL("sip:100@1.2.3.4:5062"),
			PL("udp:1.2.3.4:5062"), PL("abc@host"), 17, 1718274280,
			PL("Yealink"), PL("a") };
		break;
	case JNL_BINDING_DEL:
		e->u.bdel = (struct jnl_binding_del){ PL("100-tfg"), JNL_EXPIRED };
		break;
	case JNL_CDR_OPEN:
		e->u.cdr_open = (struct jnl_cdr_open){ PL("a-1718270680.1"), PL("a-1718270680.1"),
			-5, PL("\"Ana\" <100>"), PL("100"), PL("997452141"), PL("from-internal"),
			PL("SIP/100-tfg-00000001"), PL(""), PL("") };
		break;
	case JNL_CDR_UP:
		e->u.cdr_up = (struct jnl_cdr_up){ PL("a-1718270680.1"), 1718270690000000 };
		break;
	case JNL_CDR:
		e->u.cdr = (struct jnl_cdr){ 1, 2, 3, 4, 5, 4, 3, 99, PL("clid"), PL("src"),
			PL("dst"), PL("ctx"), PL("chan"), PL("dchan"), PL("Dial"),
			PL("SIP/101,30"), PL("acc"), PL("pacc"), PL("uf"), PL("a-1.2"),
			PL("a-1.1") };
		break;
	case JNL_CDR_SPOOL_DONE:
		aux.len = 0;
		jnl_strlist_add(&aux, PL("a-1.1"));
		jnl_strlist_add(&aux, PL("a-1.2"));
		jnl_strlist_add(&aux, PL("b-7.1"));
		e->u.spool_done = (struct jnl_spool_done){ 3, pl_of((char *)aux.p, aux.len) };
		break;
	case JNL_DB_PUT:
		e->u.db = (struct jnl_db){ PL("blacklist"), PL("600123123"), PL("spam") };
		break;
	case JNL_DB_DEL:
		e->u.db = (struct jnl_db){ PL("blacklist"), PL("600123123"), PL_INIT };
		break;
	case JNL_DB_DELTREE:
		e->u.db = (struct jnl_db){ PL("blacklist"), PL(""), PL_INIT };
		break;
	case JNL_QMEMBER_PUT:
		e->u.qput = (struct jnl_qmember_put){ PL("cola-tfg"), PL("SIP/100-tfg"),
			PL("Ana"), PL("SIP/100-tfg"), -3, 1, PL("lunch"), 0 };
		break;
	case JNL_QMEMBER_DEL:
		e->u.qdel = (struct jnl_qmember_del){ PL("cola-tfg"), PL("SIP/100-tfg") };
		break;
	case JNL_QUEUE_LOG:
		e->u.qlog.line = PL("1718270680|a-1.1|cola-tfg|NONE|ENTERQUEUE||100|1\n");
		break;
	case JNL_FILE_BEGIN:
		e->u.fbegin = (struct jnl_file_begin){ 5, JNL_AREA_VOICEMAIL,
			PL("default/100/INBOX/msg0000.wav"), 123456, 0640, 1718270680123456789 };
		break;
	case JNL_FILE_CHUNK:
		e->u.fchunk = (struct jnl_file_chunk){ 5, 65536, PL("RIFF\0\0\0\0WAVE") };
		break;
	case JNL_FILE_END:
		e->u.fend = (struct jnl_file_end){ 5, SHA };
		break;
	case JNL_FILE_DEL:
		e->u.fdel = (struct jnl_file_del){ JNL_AREA_MONITOR, PL("2025/06/13/rec.wav") };
		break;
	case JNL_FILE_RENAME:
		e->u.frename = (struct jnl_file_rename){ JNL_AREA_VOICEMAIL,
			PL("default/100/INBOX/msg0000.wav"), PL("default/100/Old/msg0000.wav") };
		break;
	case JNL_CONF_APPLY:
		e->u.conf_apply.manifest_sha256 = SHA;
		break;
	case JNL_CALL_SNAP:
	case JNL_CALL_UPD:
		aux.len = 0;
		jnl_tlv_add(&aux, 1, PL("state=up"));
		jnl_tlv_add(&aux, 9999, PL(""));
		e->u.call = (struct jnl_call){ PL("a-1.1"), 3, pl_of((char *)aux.p, aux.len) };
		break;
	case JNL_CALL_END:
		e->u.call = (struct jnl_call){ PL("a-1.1"), 0, PL_INIT };
		break;
	}
}

static const uint16_t all_types[] = {
	JNL_TURN, JNL_EPOCH, JNL_MEMBERS, JNL_SEQ, JNL_BINDING_PUT, JNL_BINDING_DEL,
	JNL_CDR_OPEN, JNL_CDR_UP, JNL_CDR, JNL_CDR_SPOOL_DONE, JNL_DB_PUT, JNL_DB_DEL,
	JNL_DB_DELTREE, JNL_QMEMBER_PUT, JNL_QMEMBER_DEL, JNL_QUEUE_LOG, JNL_FILE_BEGIN,
	JNL_FILE_CHUNK, JNL_FILE_END, JNL_FILE_DEL, JNL_FILE_RENAME, JNL_CONF_APPLY,
	JNL_CALL_SNAP, JNL_CALL_UPD, JNL_CALL_END,
};
#define NTYPES (sizeof(all_types) / sizeof(*all_types))

static void t_roundtrip(void **state)
{
	struct jnl_wbuf a = { 0 }, b = { 0 };
	struct jnl_entry e, d;
	size_t used;

	(void)state;
	for (size_t i = 0; i < NTYPES; i++) {
		sample(all_types[i], &e);
		a.len = b.len = 0;
		assert_int_equal(jnl_entry_encode(&a, &e), 0);
		assert_int_equal(jnl_entry_decode(&d, a.p, a.len, &used), 0);
		assert_int_equal(used, a.len);
		assert_int_equal(d.len, a.len);
		assert_int_equal(d.type, all_types[i]);
		assert_int_equal(d.ts_us, e.ts_us);
		assert_string_not_equal(jnl_type_name(d.type), "?");
		/* the decoded views encode to the same bytes */
		assert_int_equal(jnl_entry_encode(&b, &d), 0);
		assert_int_equal(b.len, a.len);
		assert_memory_equal(a.p, b.p, a.len);
	}
	/* a few fields by hand */
	sample(JNL_CDR, &e);
	a.len = 0;
	assert_int_equal(jnl_entry_encode(&a, &e), 0);
	assert_int_equal(jnl_entry_decode(&d, a.p, a.len, &used), 0);
	assert_int_equal(d.u.cdr.disposition, 4);
	assert_int_equal(d.u.cdr.sequence, 99);
	assert_int_equal(pl_strcmp(&d.u.cdr.lastdata, "SIP/101,30"), 0);
	assert_int_equal(pl_strcmp(&d.u.cdr.linkedid, "a-1.1"), 0);

	sample(JNL_MEMBERS, &e);
	a.len = 0;
	assert_int_equal(jnl_entry_encode(&a, &e), 0);
	assert_int_equal(jnl_entry_decode(&d, a.p, a.len, &used), 0);
	struct pl list = d.u.members.list, name, addr;
	assert_true(jnl_members_next(&list, &name, &addr));
	assert_int_equal(pl_strcmp(&name, "a"), 0);
	assert_true(jnl_members_next(&list, &name, &addr));
	assert_int_equal(pl_strcmp(&addr, "10.0.0.2:7381"), 0);
	assert_false(jnl_members_next(&list, &name, &addr));

	sample(JNL_QMEMBER_PUT, &e);
	a.len = 0;
	assert_int_equal(jnl_entry_encode(&a, &e), 0);
	assert_int_equal(jnl_entry_decode(&d, a.p, a.len, &used), 0);
	assert_int_equal(d.u.qput.penalty, -3);

	sample(JNL_CALL_SNAP, &e);
	a.len = 0;
	assert_int_equal(jnl_entry_encode(&a, &e), 0);
	assert_int_equal(jnl_entry_decode(&d, a.p, a.len, &used), 0);
	struct pl tlv = d.u.call.tlv, val;
	uint16_t tag;
	assert_true(jnl_tlv_next(&tlv, &tag, &val));
	assert_int_equal(tag, 1);
	assert_true(jnl_tlv_next(&tlv, &tag, &val));
	assert_int_equal(tag, 9999);
	assert_int_equal(val.l, 0);
	assert_false(jnl_tlv_next(&tlv, &tag, &val));

	sample(JNL_FILE_END, &e);
	a.len = 0;
	assert_int_equal(jnl_entry_encode(&a, &e), 0);
	assert_int_equal(jnl_entry_decode(&d, a.p, a.len, &used), 0);
	assert_memory_equal(d.u.fend.sha256, SHA, 32);
	jnl_wbuf_free(&a);
	jnl_wbuf_free(&b);
	jnl_wbuf_free(&aux);
}

/* Encoding e must fail with EINVAL and leave b as it was. */
static void refused(const struct jnl_entry *e)
{
	struct jnl_wbuf b = { 0 };

	assert_int_equal(jnl_entry_encode(&b, e), EINVAL);
	assert_int_equal(b.len, 0);
	jnl_wbuf_free(&b);
}

static void t_encode_refuses(void **state)
{
	struct jnl_entry e;
	char big[JNL_RELPATH_MAX + 2];
	static char huge[70000];

	(void)state;
	sample(JNL_FILE_DEL, &e);
	const char *bad[] = { "/etc/passwd", "../x", "a/../b", "a/./b", "a//b", "a/", ".",
			      "..", "", "a/..", "./a" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		e.u.fdel.relpath = jnl_pl(bad[i]);
		assert_false(jnl_relpath_ok(&e.u.fdel.relpath));
		refused(&e);
	}
	e.u.fdel.relpath = pl_of("a\0b", 3);
	refused(&e);
	memset(big, 'x', sizeof(big));
	e.u.fdel.relpath = pl_of(big, JNL_RELPATH_MAX + 1);
	refused(&e);
	e.u.fdel.relpath = pl_of(big, JNL_RELPATH_MAX);
	assert_true(jnl_relpath_ok(&e.u.fdel.relpath));
	e.u.fdel.relpath = PL("..a/b..c/.d");
	assert_true(jnl_relpath_ok(&e.u.fdel.relpath));
	e.u.fdel.area = JNL_AREA_COUNT;
	refused(&e);

	sample(JNL_EPOCH, &e);
	e.u.epoch.replid = PL("0123456789ABCDEF0123456789abcdef01234567");
	refused(&e);
	e.u.epoch.replid = PL("0123");
	refused(&e);
	sample(JNL_BINDING_PUT, &e);
	e.u.bput.peer = PL("");
	refused(&e);
	sample(JNL_BINDING_DEL, &e);
	e.u.bdel.why = 3;
	refused(&e);
	sample(JNL_CDR, &e);
	e.u.cdr.disposition = 6;
	refused(&e);
	sample(JNL_QMEMBER_PUT, &e);
	e.u.qput.paused = 2;
	refused(&e);
	sample(JNL_FILE_BEGIN, &e);
	e.u.fbegin.mode = 010000;
	refused(&e);
	sample(JNL_FILE_CHUNK, &e);
	e.u.fchunk.data = pl_of(huge, JNL_CHUNK_MAX + 1);
	refused(&e);
	e.u.fchunk.data = pl_of(huge, JNL_CHUNK_MAX);
	struct jnl_wbuf ok = { 0 };
	assert_int_equal(jnl_entry_encode(&ok, &e), 0);
	jnl_wbuf_free(&ok);
	sample(JNL_DB_PUT, &e);
	e.u.db.value = pl_of(huge, 70000);      /* str over 65535 */
	refused(&e);
	sample(JNL_CDR_SPOOL_DONE, &e);
	e.u.spool_done.n = 4;                    /* list holds 3 */
	refused(&e);
	jnl_wbuf_free(&aux);
	sample(JNL_CALL_SNAP, &e);
	e.u.call.tlv = PL("\x01\x00\x05\x00\x00\x00ab");  /* value cut short */
	refused(&e);
	e.type = 0x99;
	refused(&e);
	sample(JNL_TURN, &e);
	e.flags = 1;
	refused(&e);
}

/* Rewrite the CRC after editing an encoded entry. */
static void recrc(uint8_t *p, size_t n)
{
	uint32_t c = crc32c(0, p, n - 4);

	for (int i = 0; i < 4; i++)
		p[n - 4 + i] = (uint8_t)(c >> (8 * i));
}

static void t_decode_refuses(void **state)
{
	struct jnl_wbuf b = { 0 };
	struct jnl_entry e, d;
	uint8_t buf[64];
	size_t used, n;

	(void)state;
	sample(JNL_DB_PUT, &e);
	assert_int_equal(jnl_entry_encode(&b, &e), 0);
	n = b.len;
	/* every prefix: EAGAIN, never a read past it */
	for (size_t k = 0; k < n; k++) {
		uint8_t *cut = malloc(k ? k : 1);
		memcpy(cut, b.p, k);
		assert_int_equal(jnl_entry_decode(&d, cut, k, &used), EAGAIN);
		assert_int_equal(used, k < 4 ? 0 : n);
		free(cut);
	}
	/* every bit flipped: EBADMSG (or EAGAIN when the length grew) */
	for (size_t k = 0; k < n * 8; k++) {
		b.p[k / 8] ^= (uint8_t)(1u << (k % 8));
		int rc = jnl_entry_decode(&d, b.p, n, &used);
		assert_true(rc == EBADMSG || (rc == EAGAIN && k < 32));
		b.p[k / 8] ^= (uint8_t)(1u << (k % 8));
	}
	assert_int_equal(jnl_entry_decode(&d, b.p, n, &used), 0);
	/* flags, unknown type, with a good CRC */
	b.p[6] = 1;
	recrc(b.p, n);
	assert_int_equal(jnl_entry_decode(&d, b.p, n, &used), EBADMSG);
	b.p[6] = 0;
	b.p[4] = 0x77;
	recrc(b.p, n);
	assert_int_equal(jnl_entry_decode(&d, b.p, n, &used), EBADMSG);
	jnl_wbuf_free(&b);

	/* a payload with a trailing byte */
	sample(JNL_CDR_UP, &e);
	assert_int_equal(jnl_entry_encode(&b, &e), 0);
	n = b.len;
	assert_true(n + 1 <= sizeof(buf));
	memcpy(buf, b.p, n - 4);
	buf[n - 4] = 0;
	buf[0] = (uint8_t)(n + 1);
	recrc(buf, n + 1);
	assert_int_equal(jnl_entry_decode(&d, buf, n + 1, &used), EBADMSG);
	/* lengths out of range */
	memset(buf, 0, sizeof(buf));
	buf[0] = 19;
	assert_int_equal(jnl_entry_decode(&d, buf, sizeof(buf), &used), EBADMSG);
	buf[0] = 0;
	buf[2] = 0x10;
	buf[3] = 0x00;   /* 1 MiB + 0: allowed length, EAGAIN */
	assert_int_equal(jnl_entry_decode(&d, buf, sizeof(buf), &used), EAGAIN);
	buf[0] = 1;      /* 1 MiB + 1 */
	assert_int_equal(jnl_entry_decode(&d, buf, sizeof(buf), &used), EBADMSG);
	jnl_wbuf_free(&b);
}

static void t_turn_check(void **state)
{
	struct jnl_wbuf b = { 0 };
	struct jnl_entry e;
	size_t used;
	uint64_t turn;

	(void)state;
	sample(JNL_DB_PUT, &e);
	assert_int_equal(jnl_entry_encode(&b, &e), 0);
	assert_int_equal(jnl_entry_encode(&b, &e), 0);
	size_t two = b.len;
	assert_int_equal(jnl_turn_check(b.p, b.len, &used, NULL), EAGAIN);
	e = (struct jnl_entry){ .type = JNL_TURN, .u.turn = { 9, 2 } };
	assert_int_equal(jnl_entry_encode(&b, &e), 0);
	assert_int_equal(jnl_turn_check(b.p, b.len, &used, &turn), 0);
	assert_int_equal(used, b.len);
	assert_int_equal(turn, 9);
	assert_int_equal(jnl_turn_check(b.p, b.len - 1, &used, NULL), EAGAIN);
	/* a count that does not match */
	b.len = two;
	e.u.turn.entries = 3;
	assert_int_equal(jnl_entry_encode(&b, &e), 0);
	assert_int_equal(jnl_turn_check(b.p, b.len, &used, NULL), EBADMSG);
	jnl_wbuf_free(&b);
}

/* ------------------------------------------------------------ segments */

static char dir[64];

static void rm_dir(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	char p[512];

	if (!dp)
		return;
	while ((de = readdir(dp)))
		if (de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
			unlink(p);
		}
	closedir(dp);
	rmdir(d);
}

static int seg_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tandem-jnl-XXXXXX");
	assert_non_null(mkdtemp(dir));
	log_set_level(LOG_LVL_ERROR);
	return 0;
}

static int seg_teardown(void **state)
{
	char j[96];

	(void)state;
	snprintf(j, sizeof(j), "%s/journal", dir);
	rm_dir(j);
	rm_dir(dir);
	log_set_level(LOG_LVL_INFO);
	return 0;
}

/* One turn of k DB_PUT entries, key "kN" for N from first. */
static void make_turn(struct jnl_wbuf *b, unsigned first, unsigned k, size_t pad)
{
	static char value[4096];
	struct jnl_entry e;
	char key[16];

	memset(value, 'v', sizeof(value));
	b->len = 0;
	for (unsigned i = 0; i < k; i++) {
		snprintf(key, sizeof(key), "k%u", first + i);
		e = (struct jnl_entry){ .type = JNL_DB_PUT, .ts_us = jnl_now_us(),
			.u.db = { PL("fam"), jnl_pl(key), pl_of(value, pad) } };
		assert_int_equal(jnl_entry_encode(b, &e), 0);
	}
	e = (struct jnl_entry){ .type = JNL_TURN, .u.turn = { first, k } };
	assert_int_equal(jnl_entry_encode(b, &e), 0);
}

static uint64_t append_turn(struct jnl *j, unsigned first, unsigned k, size_t pad)
{
	struct jnl_wbuf b = { 0 };
	struct iovec iov;
	uint64_t end;

	make_turn(&b, first, k, pad);
	iov = (struct iovec){ b.p, b.len };
	assert_int_equal(jnl_append(j, &iov, 1, &end), 0);
	jnl_wbuf_free(&b);
	return end;
}

static struct jnl *jopen(const struct jnl_opts *o)
{
	char jd[96], err[512];
	struct jnl *j = NULL;

	snprintf(jd, sizeof(jd), "%s/journal", dir);
	assert_int_equal(jnl_open(&j, jd, o, err, sizeof(err)), 0);
	return j;
}

static int jopen_err(const struct jnl_opts *o, char *err, size_t errsize)
{
	char jd[96];
	struct jnl *j = NULL;
	int rc;

	snprintf(jd, sizeof(jd), "%s/journal", dir);
	rc = jnl_open(&j, jd, o, err, errsize);
	jnl_close(j);
	return rc;
}

/* Path of the last segment of the journal (by start offset). */
static void last_seg(char *out, size_t size)
{
	char jd[96];
	DIR *dp;
	struct dirent *de;
	unsigned long long best = 0;
	bool any = false;

	snprintf(jd, sizeof(jd), "%s/journal", dir);
	assert_non_null(dp = opendir(jd));
	while ((de = readdir(dp))) {
		const char *dash = strchr(de->d_name, '-');
		if (!dash || !strstr(de->d_name, ".jnl"))
			continue;
		unsigned long long s = strtoull(dash + 1, NULL, 10);
		if (!any || s >= best) {
			best = s;
			any = true;
			snprintf(out, size, "%s/%s", jd, de->d_name);
		}
	}
	closedir(dp);
	assert_true(any);
}

static void t_jnl_basic(void **state)
{
	struct jnl *j;
	char id[JNL_REPLID_LEN + 1], first_id[JNL_REPLID_LEN + 1];
	uint64_t h1, h2;

	(void)state;
	assert_int_equal(jnl_replid_new(id), 0);
	assert_int_equal(strlen(id), 40);
	assert_int_equal(strspn(id, "0123456789abcdef"), 40);

	j = jopen(NULL);
	assert_int_equal(jnl_head(j), 0);
	assert_int_equal(jnl_first(j), 0);
	assert_int_equal(jnl_segments(j), 1);
	snprintf(first_id, sizeof(first_id), "%s", jnl_replid(j));
	h1 = append_turn(j, 0, 3, 10);
	h2 = append_turn(j, 3, 1, 10);
	assert_true(h2 > h1 && h1 > 0);
	assert_int_equal(jnl_head(j), h2);
	/* an empty append moves nothing */
	assert_int_equal(jnl_append(j, NULL, 0, &h1), 0);
	assert_int_equal(h1, h2);
	jnl_close(j);

	j = jopen(NULL);
	assert_int_equal(jnl_head(j), h2);
	assert_string_equal(jnl_replid(j), first_id);
	assert_true(jnl_covers(j, 0));
	assert_true(jnl_covers(j, h2));
	assert_false(jnl_covers(j, h2 + 1));
	jnl_close(j);

	/* fsync = yes: the same, with fdatasync after each append */
	struct jnl_opts o = { .fsync = true };
	j = jopen(&o);
	h1 = append_turn(j, 4, 2, 10);
	assert_true(h1 > h2);
	jnl_close(j);
}

static void t_jnl_reader(void **state)
{
	struct jnl *j = jopen(NULL);
	struct jnl_reader *r;
	const uint8_t *buf;
	uint64_t ends[5], t;
	size_t len, used;

	(void)state;
	for (unsigned i = 0; i < 5; i++)
		ends[i] = append_turn(j, i * 10, i + 1, 100);
	assert_int_equal(jnl_reader_open(&r, j, 0), 0);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(jnl_reader_next(r, &buf, &len), 0);
		assert_int_equal(jnl_turn_check(buf, len, &used, &t), 0);
		assert_int_equal(used, len);
		assert_int_equal(t, i * 10);
		assert_int_equal(jnl_reader_offset(r), ends[i]);
	}
	assert_int_equal(jnl_reader_next(r, &buf, &len), ENODATA);
	/* a later append is seen */
	append_turn(j, 50, 2, 100);
	assert_int_equal(jnl_reader_next(r, &buf, &len), 0);
	assert_int_equal(jnl_turn_check(buf, len, &used, &t), 0);
	assert_int_equal(t, 50);
	jnl_reader_close(r);
	/* from a turn boundary in the middle; not from inside a turn */
	assert_int_equal(jnl_reader_open(&r, j, ends[2]), 0);
	assert_int_equal(jnl_reader_next(r, &buf, &len), 0);
	assert_int_equal(jnl_turn_check(buf, len, &used, &t), 0);
	assert_int_equal(t, 30);
	jnl_reader_close(r);
	assert_int_equal(jnl_reader_open(&r, j, ends[2] + 1), EINVAL);
	assert_int_equal(jnl_reader_open(&r, j, jnl_head(j) + 1), ERANGE);
	assert_int_equal(jnl_reader_open(&r, j, jnl_head(j)), 0);
	assert_int_equal(jnl_reader_next(r, &buf, &len), ENODATA);
	jnl_reader_close(r);
	jnl_close(j);
}

static void t_jnl_rollover(void **state)
{
	struct jnl_opts o = { .seg_size = 4096, .backlog = 8192, .backlog_max = 32768 };
	struct jnl *j = jopen(&o);
	struct jnl_reader *r;
	const uint8_t *buf;
	size_t len, used;
	uint64_t t;

	(void)state;
	/* ~1 KiB turns: four per segment */
	for (unsigned i = 0; i < 8; i++)
		append_turn(j, i, 1, 1000);
	assert_true(jnl_segments(j) >= 2);
	assert_int_equal(jnl_first(j), 0);
	uint64_t mid = jnl_head(j);
	/* a standby's floor at mid keeps what follows it */
	jnl_set_floor(j, mid);
	for (unsigned i = 8; i < 24; i++)
		append_turn(j, i, 1, 1000);
	assert_true(jnl_covers(j, mid));
	assert_true(jnl_head(j) - jnl_first(j) > o.backlog);
	/* floor gone: back to the backlog */
	jnl_set_floor(j, UINT64_MAX);
	assert_false(jnl_covers(j, mid));
	assert_true(jnl_head(j) - jnl_first(j) >= o.backlog);
	assert_true(jnl_head(j) - jnl_first(j) <= o.backlog + o.seg_size + 1100);
	/* a floor too far behind (> backlog_max) is not honoured */
	uint64_t first = jnl_first(j);
	for (unsigned i = 24; i < 60; i++)
		append_turn(j, i, 1, 1000);
	jnl_set_floor(j, first);
	assert_false(jnl_covers(j, first));
	jnl_set_floor(j, UINT64_MAX);
	/* reading across segments from the first offset kept */
	size_t nseg = jnl_segments(j);
	uint64_t head = jnl_head(j);
	assert_int_equal(jnl_reader_open(&r, j, jnl_first(j)), 0);
	unsigned turns = 0;
	while (jnl_reader_next(r, &buf, &len) == 0) {
		assert_int_equal(jnl_turn_check(buf, len, &used, &t), 0);
		turns++;
	}
	assert_int_equal(jnl_reader_offset(r), head);
	assert_true(turns >= 8);
	jnl_reader_close(r);
	jnl_close(j);
	/* reopen: same segments and head */
	j = jopen(&o);
	assert_int_equal(jnl_segments(j), nseg);
	assert_int_equal(jnl_head(j), head);
	/* a reader left behind by retention: ESTALE (the standby needs a full
	 * resync) */
	assert_int_equal(jnl_reader_open(&r, j, jnl_first(j)), 0);
	for (unsigned i = 60; i < 90; i++)
		append_turn(j, i, 1, 1000);
	assert_true(jnl_first(j) > jnl_reader_offset(r));
	int rc = 0;
	for (int k = 0; k < 100 && rc == 0; k++)
		rc = jnl_reader_next(r, &buf, &len);
	assert_int_equal(rc, ESTALE);
	jnl_reader_close(r);
	jnl_close(j);
}

static void t_jnl_torn(void **state)
{
	struct jnl *j = jopen(NULL);
	struct jnl_wbuf b = { 0 };
	char path[512], err[512];
	uint64_t head;
	int fd;

	(void)state;
	append_turn(j, 0, 2, 50);
	head = append_turn(j, 2, 2, 50);
	jnl_close(j);
	/* a crash inside the writev of the next turn: a part of it */
	make_turn(&b, 4, 3, 50);
	last_seg(path, sizeof(path));
	for (size_t cut = 1; cut < b.len; cut += 37) {
		assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
		assert_int_equal(write(fd, b.p, cut), (ssize_t)cut);
		close(fd);
		unsigned long warns = log_count(LOG_LVL_WARN);
		j = jopen(NULL);
		assert_int_equal(jnl_head(j), head);
		assert_int_equal(log_count(LOG_LVL_WARN), warns + 1);
		jnl_close(j);
	}
	/* zeros where the data never reached the disk */
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	memset(b.p, 0, 100);
	assert_int_equal(write(fd, b.p, 100), 100);
	close(fd);
	j = jopen(NULL);
	assert_int_equal(jnl_head(j), head);
	/* appending goes on after the cut */
	assert_true(append_turn(j, 4, 1, 50) > head);
	jnl_close(j);
	/* damage before the end: an error naming the file and offset */
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, "X", 1, JNL_SEG_HDR + 30), 1);
	close(fd);
	assert_int_equal(jopen_err(NULL, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "(offset 0)"));
	jnl_wbuf_free(&b);
}

static void t_jnl_bad_header(void **state)
{
	struct jnl *j = jopen(NULL);
	char path[512], err[512];
	int fd;

	(void)state;
	append_turn(j, 0, 1, 10);
	jnl_close(j);
	last_seg(path, sizeof(path));
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 9), 1);   /* in the replid */
	close(fd);
	assert_int_equal(jopen_err(NULL, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "bad segment header"));
	/* a segment cut inside its header (a crash creating it) goes */
	assert_int_equal(truncate(path, 20), 0);
	j = jopen(NULL);
	assert_int_equal(jnl_head(j), 0);
	jnl_close(j);
}

static void t_jnl_shift_reset(void **state)
{
	struct jnl *j = jopen(NULL);
	char old[JNL_REPLID_LEN + 1], nid[JNL_REPLID_LEN + 1];
	struct jnl_reader *r;
	const uint8_t *buf;
	size_t len;
	uint64_t h;

	(void)state;
	snprintf(old, sizeof(old), "%s", jnl_replid(j));
	h = append_turn(j, 0, 1, 10);
	assert_int_equal(jnl_replid_new(nid), 0);
	assert_int_equal(jnl_shift(j, "nothex"), EINVAL);
	assert_int_equal(jnl_shift(j, old), EINVAL);     /* the current one */
	assert_int_equal(jnl_shift(j, nid), 0);
	assert_string_equal(jnl_replid(j), nid);
	uint64_t h2 = append_turn(j, 1, 1, 10);
	assert_int_equal(jnl_segments(j), 2);
	jnl_close(j);
	/* reopen: the new history, the old bytes still readable */
	j = jopen(NULL);
	assert_string_equal(jnl_replid(j), nid);
	assert_int_equal(jnl_head(j), h2);
	assert_int_equal(jnl_reader_open(&r, j, 0), 0);
	assert_int_equal(jnl_reader_next(r, &buf, &len), 0);
	assert_int_equal(jnl_reader_offset(r), h);
	assert_int_equal(jnl_reader_next(r, &buf, &len), 0);
	assert_int_equal(jnl_reader_offset(r), h2);
	jnl_reader_close(r);
	/* a full resync: everything goes, history restarts at 5000 */
	assert_int_equal(jnl_reset(j, old, 5000), 0);
	assert_int_equal(jnl_segments(j), 1);
	assert_int_equal(jnl_head(j), 5000);
	assert_int_equal(jnl_first(j), 5000);
	assert_false(jnl_covers(j, 0));
	append_turn(j, 7, 1, 10);
	jnl_close(j);
	j = jopen(NULL);
	assert_string_equal(jnl_replid(j), old);
	assert_int_equal(jnl_first(j), 5000);
	jnl_close(j);
}

static void t_jnl_write_fails(void **state)
{
	struct jnl *j = jopen(NULL);
	struct jnl_wbuf b = { 0 };
	struct rlimit old, lim;
	struct iovec iov;
	char path[512];
	struct stat st;
	uint64_t head, end = 0;

	(void)state;
	head = append_turn(j, 0, 1, 10);
	last_seg(path, sizeof(path));
	make_turn(&b, 1, 5, 200);
	iov = (struct iovec){ b.p, b.len };
	/* a file size limit that lets half of the turn through */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = JNL_SEG_HDR + head + b.len / 2;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(jnl_append(j, &iov, 1, &end), EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(jnl_head(j), head);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, JNL_SEG_HDR + head);
	/* and the next append works */
	assert_int_equal(jnl_append(j, &iov, 1, &end), 0);
	assert_int_equal(end, head + b.len);
	jnl_close(j);
	jnl_wbuf_free(&b);
	j = jopen(NULL);
	assert_int_equal(jnl_head(j), end);
	jnl_close(j);
}

int test_jnl_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_crc32c),
		cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_encode_refuses),
		cmocka_unit_test(t_decode_refuses),
		cmocka_unit_test(t_turn_check),
		cmocka_unit_test_setup_teardown(t_jnl_basic, seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(t_jnl_reader, seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(t_jnl_rollover, seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(t_jnl_torn, seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(t_jnl_bad_header, seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(t_jnl_shift_reset, seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(t_jnl_write_fails, seg_setup, seg_teardown),
	};
	return cmocka_run_group_tests_name("jnl", tests, NULL, NULL);
}
