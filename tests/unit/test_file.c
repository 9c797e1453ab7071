/**
 * @file test_file.c  Files in the journal on the receiving node
 * (src/ha/file_apply.c): a transfer whose sha256 matches is installed with
 * its mode and mtime and no part file; a mismatch, a chunk out of order or
 * a symlink planted in the area leave nothing; deletes and renames are
 * idempotent; the encoder refuses a relpath with ".." or a leading '/'
 * (the decoder's refusal is test_jnl's).
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

#include "ha/file.h"
#include "suites.h"

static char root[64], conf[128], data[128], outside[128];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/tandem-file.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(conf, sizeof(conf), "%s/conf", root);
	snprintf(data, sizeof(data), "%s/data", root);
	snprintf(outside, sizeof(outside), "%s/outside", root);
	assert_int_equal(mkdir(conf, 0750), 0);
	assert_int_equal(mkdir(outside, 0750), 0);
	assert_int_equal(ha_file_init(conf, data), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	ha_file_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static void sha(const void *p, size_t n, uint8_t out[32])
{
	unsigned len = 32;

	assert_true(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL));
}

static int begin(uint32_t xfer, enum jnl_area area, const char *rel, uint64_t size)
{
	struct jnl_entry e = { .type = JNL_FILE_BEGIN };

	e.u.fbegin = (struct jnl_file_begin){ xfer, (uint8_t)area, jnl_pl(rel), size, 0640,
					      1700000000123456789LL };
	return ha_file_apply(&e, HA_APPLY_REMOTE);
}

static int chunk(uint32_t xfer, uint64_t off, const char *p, size_t n)
{
	struct jnl_entry e = { .type = JNL_FILE_CHUNK };

	e.u.fchunk = (struct jnl_file_chunk){ xfer, off, pl_of(p, n) };
	return ha_file_apply(&e, HA_APPLY_REMOTE);
}

static int end(uint32_t xfer, const uint8_t *digest)
{
	struct jnl_entry e = { .type = JNL_FILE_END };

	e.u.fend = (struct jnl_file_end){ xfer, digest };
	return ha_file_apply(&e, HA_APPLY_REMOTE);
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", data, rel);
	return stat(p, &st) == 0;
}

static void t_put(void **state)
{
	const char msg[] = "RIFF....WAVEfmt hello";
	uint8_t d[32];
	char p[512], got[64] = "";
	struct stat st;
	FILE *f;

	(void)state;
	sha(msg, sizeof(msg) - 1, d);
	assert_int_equal(begin(7, JNL_AREA_VOICEMAIL, "default/tfg/INBOX/msg0000.wav",
			       sizeof(msg) - 1), 0);
	assert_true(exists("voicemail/default/tfg/INBOX/msg0000.wav.tandem-part"));
	assert_false(exists("voicemail/default/tfg/INBOX/msg0000.wav"));
	assert_int_equal(chunk(7, 0, msg, 8), 0);
	assert_int_equal(chunk(7, 8, msg + 8, sizeof(msg) - 9), 0);
	assert_int_equal(end(7, d), 0);
	assert_false(exists("voicemail/default/tfg/INBOX/msg0000.wav.tandem-part"));
	snprintf(p, sizeof(p), "%s/voicemail/default/tfg/INBOX/msg0000.wav", data);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_mtim.tv_sec, 1700000000);
	assert_int_equal(st.st_mtim.tv_nsec, 123456789);
	assert_non_null(f = fopen(p, "r"));
	assert_int_equal(fread(got, 1, sizeof(got), f), sizeof(msg) - 1);
	fclose(f);
	assert_string_equal(got, msg);

	/* rename (INBOX -> Old), twice: the second finds nothing, fine */
	struct jnl_entry e = { .type = JNL_FILE_RENAME };
	e.u.frename = (struct jnl_file_rename){ JNL_AREA_VOICEMAIL,
		PL("default/tfg/INBOX/msg0000.wav"), PL("default/tfg/Old/msg0000.wav") };
	assert_int_equal(ha_file_apply(&e, HA_APPLY_REMOTE), 0);
	assert_int_equal(ha_file_apply(&e, HA_APPLY_REMOTE), 0);
	assert_true(exists("voicemail/default/tfg/Old/msg0000.wav"));
	assert_false(exists("voicemail/default/tfg/INBOX/msg0000.wav"));
	e = (struct jnl_entry){ .type = JNL_FILE_DEL };
	e.u.fdel = (struct jnl_file_del){ JNL_AREA_VOICEMAIL, PL("default/tfg/Old/msg0000.wav") };
	assert_int_equal(ha_file_apply(&e, HA_APPLY_REMOTE), 0);
	assert_int_equal(ha_file_apply(&e, HA_APPLY_REMOTE), 0);
	assert_false(exists("voicemail/default/tfg/Old/msg0000.wav"));
	/* LOCAL (the active's own change): the file is its own already */
	assert_int_equal(begin(8, JNL_AREA_MONITOR, "x.wav", 1), 0);
	e = (struct jnl_entry){ .type = JNL_FILE_BEGIN };
	e.u.fbegin = (struct jnl_file_begin){ 9, JNL_AREA_MONITOR, PL("y.wav"), 1, 0640, 0 };
	assert_int_equal(ha_file_apply(&e, HA_APPLY_LOCAL), 0);
	assert_false(exists("monitor/y.wav.tandem-part"));
}

static void t_bad_sha(void **state)
{
	uint8_t d[32];

	(void)state;
	sha("other", 5, d);
	assert_int_equal(begin(1, JNL_AREA_PROVISIONING, "phone.cfg", 5), 0);
	assert_int_equal(chunk(1, 0, "hello", 5), 0);
	assert_int_equal(end(1, d), EBADMSG);
	assert_false(exists("provisioning/phone.cfg"));
	assert_false(exists("provisioning/phone.cfg.tandem-part"));
	/* a chunk out of order: the part file goes at once */
	assert_int_equal(begin(2, JNL_AREA_PROVISIONING, "phone.cfg", 10), 0);
	assert_int_equal(chunk(2, 5, "hello", 5), EBADMSG);
	assert_false(exists("provisioning/phone.cfg.tandem-part"));
	/* chunks and ends of a transfer not begun are ignored */
	assert_int_equal(chunk(3, 0, "x", 1), 0);
	assert_int_equal(end(3, d), 0);
}

static void t_symlink(void **state)
{
	char link[256], p[256];

	(void)state;
	snprintf(link, sizeof(link), "%s/sounds/evil", data);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_not_equal(begin(4, JNL_AREA_SOUNDS, "evil/x.wav", 1), 0);
	snprintf(p, sizeof(p), "%s/x.wav.tandem-part", outside);
	assert_int_not_equal(access(p, F_OK), 0);
	struct jnl_entry e = { .type = JNL_FILE_DEL };
	snprintf(p, sizeof(p), "%s/victim", outside);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	e.u.fdel = (struct jnl_file_del){ JNL_AREA_SOUNDS, PL("evil/victim") };
	assert_int_not_equal(ha_file_apply(&e, HA_APPLY_REMOTE), 0);
	assert_int_equal(access(p, F_OK), 0);
}

static void t_encode_refuses(void **state)
{
	static const char *const bad[] = { "../etc/passwd", "/etc/passwd", "a/../b", "a//b",
					   "./a", "" };
	struct jnl_wbuf b = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jnl_entry e = { .type = JNL_FILE_BEGIN };
		e.u.fbegin = (struct jnl_file_begin){ 1, JNL_AREA_CONFDIR, jnl_pl(bad[i]), 0, 0600, 0 };
		assert_int_equal(jnl_entry_encode(&b, &e), EINVAL);
	}
	assert_int_equal(b.len, 0);
	/* and ha_file_put refuses them before any I/O (no journal here: 0) */
	assert_int_equal(ha_file_put(JNL_AREA_CONFDIR, "../x", "/etc/hostname"), 0);
	jnl_wbuf_free(&b);
}

int test_file_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_put, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_sha, setup, teardown),
		cmocka_unit_test_setup_teardown(t_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(t_encode_refuses, setup, teardown),
	};
	return cmocka_run_group_tests_name("file", tests, NULL, NULL);
}
