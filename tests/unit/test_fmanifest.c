/**
 * @file test_fmanifest.c  The files of a full resync
 * (src/ha/file_manifest.c, file_scan.c): the FILE_LIST, FILE_WANT and
 * FILE_DATA codecs round trip across frames; a hostile manifest (a path
 * out of its area, an absurd size, an unknown area, repeated or unordered
 * entries, trailing bytes) is refused with the reason; the difference
 * (missing, stale, extra; mtime alone is no difference); the scan leaves
 * out what file_watch.c leaves out, removes part files when asked, and a
 * second scan takes every sha256 from the cache.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "core/loop.h"
#include "ha/file_scan.h"
#include "suites.h"

static const uint8_t S1[32] = { 1 }, S2[32] = { 2 };

static void add(struct fm_list *l, uint8_t area, const char *rel, uint64_t size,
		const uint8_t *sha)
{
	assert_int_equal(fm_list_add(l, area, rel, strlen(rel), size, 1000, sha), 0);
}

static void t_list_roundtrip(void **state)
{
	struct fm_list l = { 0 }, d = { 0 };
	struct jnl_wbuf b = { 0 };
	size_t at = 0, frames = 0;
	bool last = false;
	char name[160], err[256];

	(void)state;
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "dir%03u/%0100u.wav", i % 7, i);
		add(&l, (uint8_t)(i % JNL_AREA_COUNT), name, i * 1000ull, S1);
	}
	add(&l, FM_AREA_QLOG, "queue_log", 77, S2);
	fm_list_sort(&l);
	while (!last) {
		b.len = 0;
		assert_int_equal(fm_list_encode(&b, &l, &at), 0);
		assert_true(b.len <= FM_FRAME_FILL);
		assert_int_equal(fm_list_decode(&d, b.p, b.len, &last, err, sizeof(err)), 0);
		frames++;
	}
	assert_true(frames >= 2);
	assert_int_equal(d.n, l.n);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(d.v[i].area, l.v[i].area);
		assert_string_equal(d.v[i].rel, l.v[i].rel);
		assert_int_equal(d.v[i].size, l.v[i].size);
		assert_int_equal(d.v[i].mtime_ns, 1000);
		assert_memory_equal(d.v[i].sha256, l.v[i].sha256, 32);
	}
	assert_int_equal(fm_list_find(&d, FM_AREA_QLOG, "queue_log"), (long)d.n - 1);
	assert_int_equal(fm_list_find(&d, 0, "nonexistent"), -1);
	/* an empty manifest is one frame, last */
	fm_list_free(&d);
	fm_list_free(&l);
	at = 0;
	b.len = 0;
	assert_int_equal(fm_list_encode(&b, &l, &at), 0);
	assert_int_equal(fm_list_decode(&d, b.p, b.len, &last, err, sizeof(err)), 0);
	assert_true(last);
	assert_int_equal(d.n, 0);
	jnl_wbuf_free(&b);
}

/* One entry (raw fields) in a FILE_LIST payload; EBADMSG expected with
 * want in the reason. */
static void hostile(uint8_t area, const char *rel, uint64_t size, const char *want)
{
	struct jnl_wbuf b = { 0 };
	struct fm_list l = { 0 };
	uint8_t hdr[5] = { 1, 1, 0, 0, 0 }, x[8];
	uint16_t rl = (uint16_t)strlen(rel);
	char err[1400] = "";
	bool last;

	jnl_wbuf_reserve(&b, 4096);
	memcpy(b.p, hdr, 5);
	b.p[5] = area;
	b.p[6] = (uint8_t)rl;
	b.p[7] = (uint8_t)(rl >> 8);
	memcpy(b.p + 8, rel, rl);
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(size >> (8 * i));
	memcpy(b.p + 8 + rl, x, 8);
	memset(b.p + 16 + rl, 0, 40);
	b.len = 56 + rl;
	assert_int_equal(fm_list_decode(&l, b.p, b.len, &last, err, sizeof(err)), EBADMSG);
	if (!strstr(err, want))
		fail_msg("reason '%s' does not say '%s'", err, want);
	assert_int_equal(l.n, 0);
	fm_list_free(&l);
	jnl_wbuf_free(&b);
}

static void t_list_hostile(void **state)
{
	struct fm_list l = { 0 }, d = { 0 };
	struct jnl_wbuf b = { 0 };
	size_t at = 0;
	bool last;
	char err[1400];

	(void)state;
	hostile(JNL_AREA_VOICEMAIL, "../../etc/passwd", 10,
		"manifest entry 1: bad file name voicemail/../../etc/passwd");
	hostile(JNL_AREA_MONITOR, "/etc/shadow", 10, "bad file name monitor//etc/shadow");
	hostile(JNL_AREA_SOUNDS, "en/../../x", 10, "bad file name sounds/en/../../x");
	hostile(JNL_AREA_SOUNDS, "en//x", 10, "bad file name");
	hostile(JNL_AREA_CONFDIR, "", 10, "bad file name");
	hostile(FM_AREA_QLOG, "passwd", 10, "bad file name queue_log/passwd");
	hostile(9, "x", 10, "unknown area 9");
	hostile(JNL_AREA_MONITOR, "big.wav", 1ull << 50,
		"monitor/big.wav of 1125899906842624 bytes (over 1099511627776)");
	hostile(JNL_AREA_MONITOR, "max.wav", UINT64_MAX, "over");

	/* repeated, then out of order, across frames */
	add(&l, JNL_AREA_MONITOR, "b.wav", 1, S1);
	b.len = 0;
	assert_int_equal(fm_list_encode(&b, &l, &at), 0);
	assert_int_equal(fm_list_decode(&d, b.p, b.len, &last, err, sizeof(err)), 0);
	assert_int_equal(fm_list_decode(&d, b.p, b.len, &last, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "monitor/b.wav repeated or out of order"));
	fm_list_free(&l);
	add(&l, JNL_AREA_MONITOR, "a.wav", 1, S1);
	at = 0;
	b.len = 0;
	assert_int_equal(fm_list_encode(&b, &l, &at), 0);
	assert_int_equal(fm_list_decode(&d, b.p, b.len, &last, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "out of order"));
	/* truncated, trailing bytes, a count beyond the limit */
	fm_list_free(&d);
	assert_int_equal(fm_list_decode(&d, b.p, b.len - 1, &last, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "truncated"));
	jnl_wbuf_reserve(&b, 1);
	b.p[b.len] = 0;
	assert_int_equal(fm_list_decode(&d, b.p, b.len + 1, &last, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "after the entries"));
	fm_list_free(&d);
	b.p[1] = 0xff;
	b.p[2] = 0xff;
	b.p[3] = 0xff;
	b.p[4] = 0xff;
	assert_int_equal(fm_list_decode(&d, b.p, b.len, &last, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "manifest of more than"));
	b.p[0] = 2;
	assert_int_equal(fm_list_decode(&d, b.p, b.len, &last, err, sizeof(err)), EBADMSG);
	fm_list_free(&d);
	fm_list_free(&l);
	jnl_wbuf_free(&b);
}

static void t_want(void **state)
{
	uint32_t idx[40000], *got = NULL;
	struct jnl_wbuf b = { 0 };
	size_t at = 0, n = 0, frames = 0;
	bool last = false;
	char err[256];

	(void)state;
	for (uint32_t i = 0; i < 40000; i++)
		idx[i] = 2 * i + 1;
	while (!last) {
		b.len = 0;
		assert_int_equal(fm_want_encode(&b, idx, 40000, &at), 0);
		assert_int_equal(fm_want_decode(&got, &n, 80000, b.p, b.len, &last, err,
						sizeof(err)), 0);
		frames++;
	}
	assert_int_equal(frames, 1);
	assert_int_equal(n, 40000);
	assert_memory_equal(got, idx, sizeof(idx));
	/* the same again: not above the last one */
	assert_int_equal(fm_want_decode(&got, &n, 80000, b.p, b.len, &last, err, sizeof(err)),
			 EBADMSG);
	free(got);
	got = NULL;
	n = 0;
	/* an index outside the manifest */
	assert_int_equal(fm_want_decode(&got, &n, 100, b.p, b.len, &last, err, sizeof(err)),
			 EBADMSG);
	free(got);
	got = NULL;
	n = 0;
	assert_int_equal(fm_want_decode(&got, &n, 80000, b.p, b.len - 1, &last, err,
					sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "malformed"));
	free(got);
	jnl_wbuf_free(&b);
}

static void t_data(void **state)
{
	struct jnl_wbuf b = { 0 };
	struct fm_data d = { .kind = FM_DATA_BEGIN, .index = 7, .size = 12345, .mode = 0640,
			     .mtime_ns = -5 }, o;

	(void)state;
	assert_int_equal(fm_data_encode(&b, &d), 0);
	assert_int_equal(fm_data_decode(&o, b.p, b.len), 0);
	assert_int_equal(o.kind, FM_DATA_BEGIN);
	assert_int_equal(o.index, 7);
	assert_int_equal(o.size, 12345);
	assert_int_equal(o.mode, 0640);
	assert_int_equal(o.mtime_ns, -5);
	assert_int_equal(fm_data_decode(&o, b.p, b.len - 1), EBADMSG);
	b.len = 0;
	d = (struct fm_data){ .kind = FM_DATA_CHUNK, .index = 7, .off = 4096 };
	assert_int_equal(fm_data_encode(&b, &d), 0);
	assert_int_equal(fm_data_decode(&o, b.p, b.len), EBADMSG);   /* no data */
	jnl_wbuf_reserve(&b, 3);
	memcpy(b.p + b.len, "abc", 3);
	assert_int_equal(fm_data_decode(&o, b.p, b.len + 3), 0);
	assert_int_equal(o.off, 4096);
	assert_int_equal(o.len, 3);
	assert_memory_equal(o.data, "abc", 3);
	b.len = 0;
	d = (struct fm_data){ .kind = FM_DATA_END, .index = 7 };
	memcpy(d.sha256, S2, 32);
	assert_int_equal(fm_data_encode(&b, &d), 0);
	assert_int_equal(fm_data_decode(&o, b.p, b.len), 0);
	assert_memory_equal(o.sha256, S2, 32);
	jnl_wbuf_reserve(&b, 1);
	b.p[b.len] = 0;
	assert_int_equal(fm_data_decode(&o, b.p, b.len + 1), EBADMSG);   /* trailing */
	b.p[0] = 9;
	assert_int_equal(fm_data_decode(&o, b.p, b.len), EBADMSG);       /* kind */
	b.len = 0;
	d = (struct fm_data){ .kind = FM_DATA_BEGIN, .size = (1ull << 40) + 1 };
	assert_int_equal(fm_data_encode(&b, &d), 0);
	assert_int_equal(fm_data_decode(&o, b.p, b.len), EBADMSG);       /* absurd size */
	jnl_wbuf_free(&b);
}

static void t_diff(void **state)
{
	struct fm_list a = { 0 }, s = { 0 };
	uint32_t *want, *extra;
	size_t nw, ne;

	(void)state;
	add(&a, JNL_AREA_CONFDIR, "sip.conf", 10, S1);        /* 0: same */
	add(&a, JNL_AREA_MONITOR, "missing.wav", 10, S1);     /* 1: missing */
	add(&a, JNL_AREA_MONITOR, "stale.wav", 10, S1);       /* 2: same size, other bytes */
	add(&a, JNL_AREA_MONITOR, "longer.wav", 11, S1);      /* 3: other size */
	add(&a, JNL_AREA_SOUNDS, "touched.wav", 10, S1);      /* 4: other mtime only */
	add(&a, FM_AREA_QLOG, "queue_log", 5, S2);            /* 5: differs */
	fm_list_sort(&a);
	add(&s, JNL_AREA_CONFDIR, "sip.conf", 10, S1);
	add(&s, JNL_AREA_CONFDIR, "extra.conf", 10, S1);
	add(&s, JNL_AREA_MONITOR, "stale.wav", 10, S2);
	add(&s, JNL_AREA_MONITOR, "longer.wav", 10, S1);
	add(&s, JNL_AREA_MONITOR, "zz-extra.wav", 10, S1);
	assert_int_equal(fm_list_add(&s, JNL_AREA_SOUNDS, "touched.wav", 11, 10, 99, S1), 0);
	add(&s, FM_AREA_QLOG, "queue_log", 5, S1);
	fm_list_sort(&s);
	assert_int_equal(fm_diff(&a, &s, &want, &nw, &extra, &ne), 0);
	assert_int_equal(nw, 4);
	assert_string_equal(a.v[want[0]].rel, "longer.wav");
	assert_string_equal(a.v[want[1]].rel, "missing.wav");
	assert_string_equal(a.v[want[2]].rel, "stale.wav");
	assert_string_equal(a.v[want[3]].rel, "queue_log");
	assert_int_equal(ne, 2);
	assert_string_equal(s.v[extra[0]].rel, "extra.conf");
	assert_string_equal(s.v[extra[1]].rel, "zz-extra.wav");
	free(want);
	free(extra);
	/* an empty standby wants everything; an empty active removes everything */
	fm_list_free(&s);
	assert_int_equal(fm_diff(&a, &s, &want, &nw, &extra, &ne), 0);
	assert_int_equal(nw, a.n);
	assert_int_equal(ne, 0);
	free(want);
	free(extra);
	assert_int_equal(fm_diff(&s, &a, &want, &nw, &extra, &ne), 0);
	assert_int_equal(nw, 0);
	assert_int_equal(ne, a.n);
	free(want);
	free(extra);
	fm_list_free(&a);
}

/* ------------------------------------------------------------ the scan */

static char root[64];

static void put_file(const char *rel, const char *text)
{
	char p[256], cmd[300];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	assert_int_equal(system(cmd), 0);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static void scan(bool clean, struct fm_list *out, struct fm_scan_stats *st)
{
	static const char *const sub[FM_AREAS] = { "conf", "d/voicemail", "d/monitor",
						   "d/sounds", "d/provisioning", "d/queue_log" };
	struct fm_scan_req r = { .qlog_size = -1, .clean_parts = clean };
	struct fm_scan *s = NULL;

	for (unsigned a = 0; a < FM_AREAS; a++)
		snprintf(r.root[a], sizeof(r.root[a]), "%s/%s", root, sub[a]);
	snprintf(r.cache, sizeof(r.cache), "%s/d/files.cache", root);
	assert_int_equal(fm_scan_start(&s, &r, NULL, NULL), 0);
	assert_int_equal(fm_scan_end(s, false, out, st), 0);   /* joins */
}

static void t_scan(void **state)
{
	struct fm_list l = { 0 };
	struct fm_scan_stats st;
	char p[256];
	uint8_t sha[32];
	unsigned n = 0;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/tandem-fman.XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_int_equal(loop_init(), 0);
	put_file("conf/sip.conf", "[general]\n");
	put_file("conf/.sip.conf.swp", "x");
	put_file("conf/sip.conf~", "x");
	put_file("d/voicemail/default/tfg/INBOX/msg0000.txt", "msg");
	put_file("d/voicemail/default/tfg/tmp/recording.wav", "x");
	put_file("d/monitor/rec.wav", "abc");
	put_file("d/monitor/live.wav.part", "x");
	put_file("d/provisioning/a.cfg.tandem-part", "cut short");
	put_file("d/queue_log", "1|NONE|q|NONE|QUEUESTART|\n");
	snprintf(p, sizeof(p), "%s/d/sounds", root);
	mkdir(p, 0750);
	snprintf(p, sizeof(p), "%s/d/sounds/link.wav", root);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	scan(true, &l, &st);
	assert_int_equal(l.n, 4);
	assert_int_equal(st.parts_removed, 1);
	assert_int_equal(st.hashed, 4);
	snprintf(p, sizeof(p), "%s/d/provisioning/a.cfg.tandem-part", root);
	assert_int_equal(access(p, F_OK), -1);
	assert_true(fm_list_find(&l, JNL_AREA_CONFDIR, "sip.conf") >= 0);
	assert_true(fm_list_find(&l, JNL_AREA_VOICEMAIL, "default/tfg/INBOX/msg0000.txt") >= 0);
	assert_true(fm_list_find(&l, FM_AREA_QLOG, "queue_log") >= 0);
	long i = fm_list_find(&l, JNL_AREA_MONITOR, "rec.wav");
	assert_true(i >= 0);
	EVP_Digest("abc", 3, sha, &n, EVP_sha256(), NULL);
	assert_memory_equal(l.v[i].sha256, sha, 32);
	assert_int_equal(l.v[i].size, 3);
	fm_list_free(&l);
	/* again: every file but queue_log from the cache; a change is seen */
	scan(false, &l, &st);
	assert_int_equal(st.hashed, 1);
	fm_list_free(&l);
	usleep(10000);
	put_file("d/monitor/rec.wav", "abd");
	scan(false, &l, &st);
	assert_int_equal(st.hashed, 2);
	i = fm_list_find(&l, JNL_AREA_MONITOR, "rec.wav");
	EVP_Digest("abd", 3, sha, &n, EVP_sha256(), NULL);
	assert_memory_equal(l.v[i].sha256, sha, 32);
	fm_list_free(&l);
	loop_close();
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

int test_fmanifest_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_list_roundtrip),
		cmocka_unit_test(t_list_hostile),
		cmocka_unit_test(t_want),
		cmocka_unit_test(t_data),
		cmocka_unit_test(t_diff),
		cmocka_unit_test(t_scan),
	};
	return cmocka_run_group_tests_name("fmanifest", tests, NULL, NULL);
}
