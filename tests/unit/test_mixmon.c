/**
 * @file test_mixmon.c  Two legs on one timeline (media/mixmon.c) and
 * appending to a recording (rec_open_append): placement by RTP
 * timestamps from the first packet's arrival, the mix and the per-leg
 * files, volume steps, late and runaway packets, b (inactive until
 * bridged), a failed file dropping the whole recording. The clock is
 * passed in: no timing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sndfile.h>

#include "core/mem.h"
#include "media/mixmon.h"
#include "media/rec.h"
#include "sndfix.h"
#include "suites.h"

static size_t mem_before;

static int setup(void **state)
{
	(void)state;
	mem_before = mem_live();
	sndfix_open();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sndfix_close();
	assert_int_equal(mem_live(), mem_before);
	return 0;
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static size_t read_wav(const char *path, int16_t *buf, size_t max)
{
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	sf_count_t n;

	assert_non_null(sf);
	assert_int_equal(info.samplerate, 8000);
	n = sf_read_short(sf, buf, (sf_count_t)max);
	sf_close(sf);
	return (size_t)n;
}

static void fill(int16_t *b, size_t n, int16_t v)
{
	for (size_t i = 0; i < n; i++)
		b[i] = v;
}

static struct rec *open_rec(const char *rel)
{
	struct rec *r = NULL;

	assert_int_equal(rec_open(&r, sndfix_path(rel)), 0);
	return r;
}

static void t_two_legs(void **state)
{
	static int16_t out[40000];
	struct rec *mix = open_rec("m.wav"), *a = open_rec("a.wav"), *b = open_rec("b.wav");
	struct mixmon *m = NULL;
	int16_t pa[160], pb[160];
	const int vol[2] = { 0, 1 };     /* B twice as loud (W/V(1)) */
	size_t n;

	(void)state;
	fill(pa, 160, 1000);
	fill(pb, 160, 300);
	assert_int_equal(mixmon_alloc(&m, mix, a, b, vol, true, 10000), 0);
	mem_deref(mix);
	mem_deref(a);
	mem_deref(b);
	/* A from 100 ms: ten packets, the sixth lost */
	for (int i = 0; i < 10; i++)
		if (i != 5)
			mixmon_put(m, 0, 5000 + 160 * i, false, pa, 160, 10100 + 20 * i);
	/* B from 150 ms, its own timestamps */
	for (int i = 0; i < 10; i++)
		mixmon_put(m, 1, 900000 + 160 * i, false, pb, 160, 10150 + 20 * i);
	/* A's packet lost earlier comes late, still in time */
	mixmon_put(m, 0, 5000 + 5 * 160, false, pa, 160, 10400);
	/* one more of B at 1 s: the timeline up to 0.5 s is written */
	mixmon_put(m, 1, 900000 + 1600, false, pb, 160, 11000);
	/* a late duplicate of A's first packet, already written: dropped,
	 * and A's stream is not moved by it */
	mixmon_put(m, 0, 5000, false, pb, 160, 11000);

	/* a timestamp 10 s ahead of the clock: placed at arrival instead */
	mixmon_put(m, 0, 5000 + 80000, false, pa, 160, 12000);
	assert_true(exists(sndfix_path("m.wav.part")));
	assert_false(exists(sndfix_path("m.wav")));
	assert_int_equal(mixmon_finish(m, 12100), 0);
	assert_int_equal(mixmon_finish(m, 12100), EBADF);
	assert_int_equal(mixmon_samples(m), 2100 * 8);   /* the time it ran */
	mem_deref(m);
	assert_false(exists(sndfix_path("m.wav.part")));

	n = read_wav(sndfix_path("m.wav"), out, 40000);
	assert_int_equal(n, 2100 * 8);
	assert_int_equal(out[799], 0);                   /* before A */
	assert_int_equal(out[800], 1000);                /* A alone, 100 ms */
	assert_int_equal(out[1200], 1000 + 600);         /* A and B (x2) */
	assert_int_equal(out[800 + 5 * 160], 1600);      /* A's late packet in its place */
	assert_int_equal(out[800 + 11 * 160], 600);      /* A over, B goes on */
	assert_int_equal(out[2000 * 8], 1000);           /* the runaway packet, at 2 s */
	n = read_wav(sndfix_path("a.wav"), out, 40000);
	assert_int_equal(n, 2100 * 8);
	assert_int_equal(out[1200], 1000);               /* A alone */
	n = read_wav(sndfix_path("b.wav"), out, 40000);
	assert_int_equal(out[1200], 600);                /* B alone, louder */
	assert_int_equal(out[800], 0);
}

static void t_bridged_only(void **state)
{
	static int16_t out[20000];
	struct rec *mix = open_rec("b.wav");
	struct mixmon *m = NULL;
	int16_t pa[160];
	size_t n;

	(void)state;
	fill(pa, 160, -2000);
	assert_int_equal(mixmon_alloc(&m, mix, NULL, NULL, NULL, false, 0), 0);
	mem_deref(mix);
	mixmon_put(m, 0, 0, false, pa, 160, 100);        /* not bridged yet */
	mixmon_active(m, true, 3000);                     /* bridged at 3 s */
	mixmon_put(m, 0, 160, false, pa, 160, 3100);
	assert_int_equal(mixmon_finish(m, 4000), 0);
	mem_deref(m);
	n = read_wav(sndfix_path("b.wav"), out, 20000);
	assert_int_equal(n, 1000 * 8);                   /* only the bridged second */
	assert_int_equal(out[799], 0);
	assert_int_equal(out[800], -2000);
	/* volume -4: a sixteenth */
	mix = open_rec("q.wav");
	assert_int_equal(mixmon_alloc(&m, mix, NULL, NULL, (const int[2]){ -4, 0 }, true, 0), 0);
	mem_deref(mix);
	mixmon_put(m, 0, 0, false, pa, 160, 0);
	assert_int_equal(mixmon_finish(m, 20), 0);
	mem_deref(m);
	n = read_wav(sndfix_path("q.wav"), out, 20000);
	assert_int_equal(n, 160);
	assert_int_equal(out[0], -2000 / 16);
}

static int16_t gen0(size_t i, int ch)
{
	(void)i;
	(void)ch;
	return 0;
}

static void t_append(void **state)
{
	static int16_t out[4000];
	struct rec *r = open_rec("ap.wav");
	int16_t p[160];

	(void)state;
	fill(p, 160, 111);
	assert_int_equal(rec_write(r, p, 160), 0);
	assert_int_equal(rec_finish(r), 0);
	mem_deref(r);
	assert_int_equal(rec_open_append(&r, sndfix_path("ap.wav")), 0);
	fill(p, 160, 222);
	assert_int_equal(rec_write(r, p, 160), 0);
	/* until finished, the old file is whole */
	assert_int_equal(read_wav(sndfix_path("ap.wav"), out, 4000), 160);
	assert_int_equal(rec_finish(r), 0);
	mem_deref(r);
	assert_int_equal(read_wav(sndfix_path("ap.wav"), out, 4000), 320);
	assert_int_equal(out[0], 111);
	assert_int_equal(out[160], 222);
	/* a file that does not exist yet is started */
	assert_int_equal(rec_open_append(&r, sndfix_path("new.wav")), 0);
	assert_int_equal(rec_write(r, p, 160), 0);
	assert_int_equal(rec_finish(r), 0);
	mem_deref(r);
	assert_int_equal(read_wav(sndfix_path("new.wav"), out, 4000), 160);
	/* not 8 kHz mono: refused, nothing left */
	sndfix_write("st.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, 100, gen0);
	assert_int_equal(rec_open_append(&r, sndfix_path("st.wav")), EINVAL);
	assert_false(exists(sndfix_path("st.wav.part")));
}

static void t_failed_file(void **state)
{
	struct rec *mix = open_rec("f.wav"), *a = open_rec("fa.wav");
	struct mixmon *m = NULL;
	struct rlimit old, lim;
	int16_t p[160] = { 7 };
	void (*prev)(int);

	(void)state;
	assert_int_equal(mixmon_alloc(NULL, mix, a, NULL, NULL, true, 0), EINVAL);
	assert_int_equal(mixmon_alloc(&m, NULL, NULL, NULL, NULL, true, 0), EINVAL);
	assert_int_equal(mixmon_alloc(&m, mix, a, NULL, NULL, true, 0), 0);
	mem_deref(mix);
	mem_deref(a);
	/* a file size limit stands in for a full disk (EFBIG as ENOSPC) */
	prev = signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 20000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	mixmon_put(m, 0, 0, false, p, 160, 0);
	mixmon_put(m, 0, 160 * 150, false, p, 160, 3000);   /* 2.5 s written */
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, prev);
	assert_int_equal(mixmon_finish(m, 3100), EIO);
	mem_deref(m);
	assert_false(exists(sndfix_path("f.wav")));
	assert_false(exists(sndfix_path("f.wav.part")));
	assert_false(exists(sndfix_path("fa.wav")));
	assert_false(exists(sndfix_path("fa.wav.part")));
}

int test_mixmon_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_two_legs, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bridged_only, setup, teardown),
		cmocka_unit_test_setup_teardown(t_append, setup, teardown),
		cmocka_unit_test_setup_teardown(t_failed_file, setup, teardown),
	};

	return cmocka_run_group_tests_name("mixmon", tests, NULL, NULL);
}
