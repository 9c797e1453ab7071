/**
 * @file test_moh_conf.c  musiconhold.conf (src/media/moh_conf.c): the
 * seed's class masip_tecnico falling back to default, an Asterisk-sample
 * file with its warnings, directory resolution, file lists and sorting.
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

#include "core/conf.h"
#include "core/log.h"
#include "media/moh_conf.h"
#include "logcap.h"
#include "suites.h"

#define DATA TANDEM_SOURCE_DIR "/tests/data/conf"

static char err[512];
static char root[64], datadir[128], sysdir[128];

static void touch(const char *dir, const char *name)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

static void mk(const char *base, const char *sub)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", base, sub);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* root/data (DATADIR) and root/sys (the system's /usr/share/asterisk) with
 * sys/moh holding Debian-like files. */
static int setup(void **state)
{
	char p[256];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/tandem-moh-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(datadir, sizeof(datadir), "%s/data", root);
	snprintf(sysdir, sizeof(sysdir), "%s/sys", root);
	mk(root, "data");
	mk(root, "sys");
	mk(sysdir, "moh");
	snprintf(p, sizeof(p), "%s/moh", sysdir);
	touch(p, "macroform-cold_day.wav");
	touch(p, "reno_project-system.wav");
	touch(p, "reno_project-system.gsm");   /* same name, worse format */
	touch(p, "manolo_camp-morning_coffee.ulaw");
	touch(p, "LICENSE-asterisk-moh-opsound-wav");
	touch(p, ".hidden.wav");
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

static struct mohconf *load(const char *dir, char **log)
{
	struct conf *c = NULL;
	struct mohconf *mc = NULL;

	logcap_start();
	assert_int_equal(conf_load(&c, dir, "musiconhold.conf", err, sizeof(err)), 0);
	if (mohconf_build(&mc, c, datadir, sysdir, err, sizeof(err)))
		fail_msg("mohconf_build: %s", err);
	*log = logcap_end();
	return mc;
}

static void t_seed(void **state)
{
	char *log, **files, want[256];
	struct mohconf *mc = load(DATA "/tfg", &log);
	const struct mohconf_class *def, *c;
	size_t n;

	(void)state;
	assert_int_equal(logcap_count(log, "WARNING"), 0);
	free(log);
	def = mohconf_find(mc, "default");
	assert_non_null(def);
	assert_false(def->builtin);
	snprintf(want, sizeof(want), "%s/moh", sysdir);
	assert_string_equal(def->dir, want);
	assert_int_equal(def->sort, MOHCONF_SORT_NONE);

	/* the seed's class is not defined: default, warned once */
	logcap_start();
	c = mohconf_class(mc, "masip_tecnico");
	assert_ptr_equal(c, def);
	assert_ptr_equal(mohconf_class(mc, "MASIP_TECNICO"), def);
	assert_ptr_equal(mohconf_class(mc, NULL), def);
	assert_ptr_equal(mohconf_class(mc, ""), def);
	assert_ptr_equal(mohconf_class(mc, "Default"), def);
	log = logcap_end();
	assert_int_equal(logcap_count(log, "WARNING"), 1);
	assert_non_null(strstr(log, "music on hold class 'masip_tecnico' is not in "
				    "musiconhold.conf; playing class 'default' instead"));
	free(log);

	assert_int_equal(mohconf_class_files(def, 0, &files, &n), 0);
	assert_int_equal(n, 3);
	snprintf(want, sizeof(want), "%s/moh/macroform-cold_day.wav", sysdir);
	assert_string_equal(files[0], want);
	snprintf(want, sizeof(want), "%s/moh/manolo_camp-morning_coffee.ulaw", sysdir);
	assert_string_equal(files[1], want);
	snprintf(want, sizeof(want), "%s/moh/reno_project-system.wav", sysdir);
	assert_string_equal(files[2], want);
	mohconf_files_free(files, n);

	/* the admin's own DATADIR/moh comes first */
	mk(datadir, "moh");
	touch(datadir, "moh/mine.wav");
	mohconf_free(mc);
	mc = load(DATA "/tfg", &log);
	free(log);
	def = mohconf_find(mc, "default");
	snprintf(want, sizeof(want), "%s/moh", datadir);
	assert_string_equal(def->dir, want);
	mohconf_free(mc);
}

static void t_asterisk_sample(void **state)
{
	char *log, **a, **b, want[256];
	struct mohconf *mc;
	const struct mohconf_class *c;
	size_t na, nb, i, j;

	(void)state;
	mk(datadir, "moh-abs");
	mc = load(DATA "/asterisk", &log);
	assert_int_equal(logcap_count(log, "WARNING"), 5);
	assert_non_null(strstr(log, "musiconhold.conf:17: mode=custom of class [manual] runs "
				    "an external player"));
	assert_non_null(strstr(log, "musiconhold.conf:22: mode=custom of class [ulawstream]"));
	assert_non_null(strstr(log, "musiconhold.conf:29: directory=does-not-exist of class "
				    "[missing]"));
	assert_non_null(strstr(log, "musiconhold.conf:33: class [nodir] has mode=files but "
				    "no directory="));
	assert_non_null(strstr(log, "musiconhold.conf:42: mode=quantum of class [weird] is "
				    "not a music on hold mode"));
	free(log);
	assert_int_equal(mc->n, 5);
	assert_null(mohconf_find(mc, "manual"));
	assert_null(mohconf_find(mc, "ulawstream"));
	assert_null(mohconf_find(mc, "nodir"));
	assert_null(mohconf_find(mc, "weird"));
	assert_non_null(mohconf_find(mc, "missing"));
	c = mohconf_find(mc, "absolute");   /* /var/lib/asterisk/... -> DATADIR */
	snprintf(want, sizeof(want), "%s/moh-abs", datadir);
	assert_string_equal(c->dir, want);
	c = mohconf_find(mc, "list");
	assert_int_equal(c->mode, MOHCONF_MODE_PLAYLIST);
	assert_int_equal(c->nentries, 2);
	assert_int_equal(mohconf_class_files(c, 0, &a, &na), 0);
	assert_int_equal(na, 2);
	assert_string_equal(a[1], "/var/lib/asterisk/sounds/en/tt-weasels.gsm");
	mohconf_files_free(a, na);
	assert_int_equal(mohconf_class_files(mohconf_find(mc, "missing"), 0, &a, &na), ENOENT);

	/* sort=random: a permutation, the same for the same seed */
	c = mohconf_find(mc, "native-random");
	assert_string_equal(c->digit, "#");
	assert_int_equal(c->sort, MOHCONF_SORT_RANDOM);
	assert_int_equal(mohconf_class_files(c, 7, &a, &na), 0);
	assert_int_equal(mohconf_class_files(c, 7, &b, &nb), 0);
	assert_int_equal(na, 3);
	assert_int_equal(nb, 3);
	for (i = 0; i < na; i++) {
		assert_string_equal(a[i], b[i]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(a[i], a[j]);
	}
	mohconf_files_free(a, na);
	mohconf_files_free(b, nb);
	mohconf_free(mc);
}

static void t_randstart_builtin_errors(void **state)
{
	struct conf *c = NULL;
	struct mohconf *mc = NULL;
	char **a, *log;
	size_t n;
	static const char bad[] = "[x]\nmode=files\ndirectory=moh\nsort=shuffle\n";
	static const char rs[] = "[default]\ndirectory=moh\nsort=randstart\n[default]\n"
				 "directory=other\n";

	(void)state;
	assert_int_equal(conf_parse_buf(&c, NULL, "musiconhold.conf", bad, sizeof(bad) - 1,
					err, sizeof(err)), 0);
	assert_int_equal(mohconf_build(&mc, c, datadir, sysdir, err, sizeof(err)), EINVAL);
	assert_string_equal(err, "musiconhold.conf:4: sort in [x] must be alpha, random or "
				 "randstart, not 'shuffle'");

	logcap_start();
	assert_int_equal(conf_parse_buf(&c, NULL, "musiconhold.conf", rs, sizeof(rs) - 1, err,
					sizeof(err)), 0);
	assert_int_equal(mohconf_build(&mc, c, datadir, sysdir, err, sizeof(err)), 0);
	log = logcap_end();
	assert_non_null(strstr(log, "musiconhold.conf:4: class [default] is defined twice"));
	free(log);
	assert_int_equal(mohconf_class_files(mohconf_find(mc, "default"), 1, &a, &n), 0);
	assert_int_equal(n, 3);   /* rotated: still every file once, in order after the start */
	assert_true(strcmp(a[0], a[1]) < 0 || strcmp(a[1], a[2]) < 0);
	mohconf_files_free(a, n);
	mohconf_free(mc);

	/* no musiconhold.conf: a built-in default on moh */
	assert_int_equal(mohconf_build(&mc, NULL, datadir, sysdir, err, sizeof(err)), 0);
	assert_int_equal(mc->n, 1);
	assert_true(mc->classes[0]->builtin);
	assert_ptr_equal(mohconf_class(mc, NULL), mc->classes[0]);
	assert_int_equal(mohconf_class_files(mc->classes[0], 0, &a, &n), 0);
	assert_int_equal(n, 3);
	mohconf_files_free(a, n);
	mohconf_free(mc);
}

int test_moh_conf_run(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(t_seed),
		T(t_asterisk_sample),
		T(t_randstart_builtin_errors),
	};
#undef T
	return cmocka_run_group_tests_name("moh_conf", tests, NULL, NULL);
}
