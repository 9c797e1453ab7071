/**
 * @file test_play.c  Players read frame by frame without any clock: the
 * queue (gapless, Playback's a&b&c), silence, tones per country, music on
 * hold per listener and per class, the done handler.
 */
#include <errno.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/moh.h"
#include "media/play.h"
#include "media/sound.h"
#include "media/tone.h"
#include "sndfix.h"
#include "suites.h"

static size_t mem_before;
static int dones;

static int setup(void **state)
{
	(void)state;
	mem_before = mem_live();
	assert_int_equal(loop_init(), 0);
	sndfix_open();
	sndfix_mkdirs("data/sounds/es");
	sndfix_mkdirs("sys");
	assert_int_equal(sound_init(sndfix_path("data"), sndfix_path("sys"), 0), 0);
	dones = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sound_close();
	sndfix_close();
	loop_close();
	assert_int_equal(mem_live(), mem_before);
	return 0;
}

static void on_done(struct player *p, void *arg)
{
	(void)p;
	(void)arg;
	dones++;
}

/* n samples of frame f equal v (from sample a). */
static void expect_run(const int16_t *f, size_t a, size_t n, int16_t v)
{
	for (size_t i = a; i < a + n; i++)
		assert_int_equal(f[i], v);
}

/* ---- the queue ---- */

static void t_queue_gapless(void **state)
{
	struct player *p;
	int16_t f[PLAY_FRAME];

	(void)state;
	sndfix_const("data/sounds/es/a.wav", 250, 1000);
	sndfix_const("data/sounds/es/b.wav", 100, -1000);
	assert_int_equal(player_alloc(&p, on_done, NULL), 0);
	assert_false(play_busy(p));
	assert_false(play_read(p, f));          /* idle: silence */
	expect_run(f, 0, PLAY_FRAME, 0);
	assert_int_equal(play_file(p, "es", "a"), 0);
	assert_int_equal(play_silence(p, 20), 0);
	assert_int_equal(play_file(p, "es", "b"), 0);
	assert_true(play_busy(p));
	assert_true(play_read(p, f));
	expect_run(f, 0, 160, 1000);
	assert_true(play_read(p, f));
	expect_run(f, 0, 90, 1000);             /* a ends inside the frame */
	expect_run(f, 90, 70, 0);               /* silence goes on at once */
	assert_true(play_read(p, f));
	expect_run(f, 0, 90, 0);
	expect_run(f, 90, 70, -1000);
	loop_test_advance(0);
	assert_int_equal(dones, 0);
	assert_true(play_read(p, f));
	expect_run(f, 0, 30, -1000);
	expect_run(f, 30, 130, 0);
	assert_false(play_busy(p));
	assert_int_equal(dones, 0);             /* never from inside play_read */
	loop_test_advance(0);
	assert_int_equal(dones, 1);
	assert_false(play_read(p, f));
	loop_test_advance(100);
	assert_int_equal(dones, 1);
	/* an item that ends on a frame boundary: done right after that frame */
	assert_int_equal(play_silence(p, 40), 0);
	assert_true(play_read(p, f));
	assert_true(play_read(p, f));
	assert_false(play_busy(p));
	loop_test_advance(0);
	assert_int_equal(dones, 2);
	mem_deref(p);
}

static void t_playback_list(void **state)
{
	struct player *p;
	int16_t f[PLAY_FRAME];
	unsigned long w;
	int frames = 0;

	(void)state;
	sndfix_const("data/sounds/es/uno.wav", 160, 1);
	sndfix_const("sys/es_MX_f_Allison/dos.wav", 160, 2);
	assert_int_equal(player_alloc(&p, on_done, NULL), 0);
	w = log_count(LOG_LVL_WARN);
	/* Playback(uno&falta&dos): a warning names the missing one */
	assert_int_equal(play_files(p, "es", "uno&falta&dos"), ENOENT);
	assert_int_equal(log_count(LOG_LVL_WARN), w + 1);
	while (play_read(p, f))
		frames++;
	assert_int_equal(frames, 2);
	assert_int_equal(play_files(p, "es", "uno&&dos&"), 0);
	assert_true(play_read(p, f));
	expect_run(f, 0, 160, 1);
	/* queued again before the done handler ran: it does not run; stop
	 * empties the queue without a done either */
	play_stop(p);
	assert_false(play_busy(p));
	loop_test_advance(0);
	assert_int_equal(dones, 0);
	/* bad arguments */
	assert_int_equal(play_file(p, "es", "../x"), EINVAL);
	assert_int_equal(play_tone(p, "425/x", 0), EINVAL);
	/* a queue has a bound */
	for (int i = 0; i < PLAY_QUEUE_MAX; i++)
		assert_int_equal(play_silence(p, 20), 0);
	assert_int_equal(play_silence(p, 20), ENOSPC);
	mem_deref(p);                           /* frees the queue */
}

static void free_in_done(struct player *p, void *arg)
{
	(void)arg;
	dones++;
	mem_deref(p);
}

static void t_done_may_free(void **state)
{
	struct player *p, *q;
	int16_t f[PLAY_FRAME];

	(void)state;
	assert_int_equal(player_alloc(&p, free_in_done, NULL), 0);
	assert_int_equal(play_silence(p, 20), 0);
	assert_true(play_read(p, f));
	loop_test_advance(0);
	assert_int_equal(dones, 1);
	/* freed with a notification pending: the timer goes with it */
	assert_int_equal(player_alloc(&q, on_done, NULL), 0);
	assert_int_equal(play_silence(q, 20), 0);
	assert_true(play_read(q, f));
	mem_deref(q);
	loop_test_advance(0);
	assert_int_equal(dones, 1);
	assert_int_equal(tmr_count(), 0);
	/* queued again before the notification: no done */
	assert_int_equal(player_alloc(&q, on_done, NULL), 0);
	assert_int_equal(play_silence(q, 20), 0);
	assert_true(play_read(q, f));
	assert_int_equal(play_silence(q, 20), 0);
	loop_test_advance(0);
	assert_int_equal(dones, 1);
	mem_deref(q);
}

/* ---- tones ---- */

/* Frames of p until n samples; counts non-zero samples and sign changes. */
static void tone_stats(struct player *p, size_t from, size_t to, size_t *loud,
		       size_t *cross)
{
	int16_t f[PLAY_FRAME], prev = 0;

	*loud = *cross = 0;
	for (size_t s = 0; s < to; s += PLAY_FRAME) {
		play_read(p, f);
		for (size_t i = 0; i < PLAY_FRAME; i++) {
			if (s + i < from)
				continue;
			if (abs(f[i]) > 100)
				(*loud)++;
			if ((f[i] >= 0) != (prev >= 0))
				(*cross)++;
			prev = f[i];
		}
	}
}

static void t_tones(void **state)
{
	struct player *p;
	struct tone t;
	size_t loud, cross;
	int16_t f[PLAY_FRAME];

	(void)state;
	/* Spain's ringback: 1.5 s of 425 Hz, 3 s of silence, again */
	assert_string_equal(tone_lookup("es", "ring"), "425/1500,0/3000");
	assert_int_equal(player_alloc(&p, on_done, NULL), 0);
	assert_int_equal(play_tone(p, tone_lookup("es", "ring"), 0), 0);
	tone_stats(p, 0, 12000, &loud, &cross);          /* 0 - 1.5 s */
	assert_true(loud > 11000);
	assert_true(cross > 1270 && cross < 1280);       /* 425 Hz: 2 x 637.5 */
	tone_stats(p, 0, 24000, &loud, &cross);          /* 1.5 - 4.5 s */
	assert_true(loud < 10);
	tone_stats(p, 0, 12000, &loud, &cross);          /* it repeats */
	assert_true(loud > 11000);
	play_stop(p);
	/* US busy: 480+620 Hz, 0.5 s on, 0.5 s off */
	assert_int_equal(play_tone(p, tone_lookup("us", "busy"), 0), 0);
	tone_stats(p, 0, 4000, &loud, &cross);
	assert_true(loud > 3800);
	tone_stats(p, 0, 4000, &loud, &cross);
	assert_true(loud < 10);
	play_stop(p);
	/* a tone for a time, then done */
	assert_int_equal(play_tone(p, tone_lookup("es", "congestion"), 100), 0);
	assert_true(play_read(p, f));
	for (int i = 0; i < 4; i++)
		assert_true(play_read(p, f));
	assert_false(play_busy(p));
	loop_test_advance(0);
	assert_int_equal(dones, 1);
	/* a tone without repeat ends by itself */
	assert_int_equal(play_tone(p, "!950/20,!1400/20", 0), 0);
	assert_true(play_read(p, f));
	assert_true(play_read(p, f));
	assert_false(play_busy(p));
	mem_deref(p);
	/* the syntax */
	assert_int_equal(tone_parse("!350+440/100,!0/100,350+440", &t), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.rep, 2);
	assert_int_equal(t.part[0].f2, 440);
	assert_int_equal(t.part[2].ms, 0);
	assert_int_equal(tone_parse("480*620/500", &t), 0);
	assert_int_equal(tone_parse("", &t), EINVAL);
	assert_int_equal(tone_parse("M50/100", &t), EINVAL);
	assert_int_equal(tone_parse("425/", &t), EINVAL);
	assert_int_equal(tone_parse("425,,0", &t), EINVAL);
	assert_int_equal(tone_parse("99999", &t), EINVAL);
	assert_null(tone_lookup("xx", "ring"));
	assert_null(tone_lookup("es", "nope"));
	for (const char *c = "us\0es\0uk\0fr\0de\0mx\0"; *c; c += 3)
		for (const char *n = "dial\0busy\0ring\0congestion\0callwaiting\0"; *n;
		     n += strlen(n) + 1)
			assert_int_equal(tone_parse(tone_lookup(c, n), &t), 0);
}

/* ---- music on hold ---- */

static void mk_moh(void)
{
	sndfix_const("moh/b-second.wav", 200, 200);
	sndfix_const("moh/a-first.wav", 300, 100);
	sndfix_const("moh/a-first.gsm", 300, 5);        /* same name: wav wins */
	sndfix_bytes("moh/notes.txt", "x", 1);
}

static void t_moh_listener(void **state)
{
	struct moh_class *c, *c2;
	struct player *p, *q;
	int16_t f[PLAY_FRAME];

	(void)state;
	mk_moh();
	assert_int_equal(moh_class_dir(&c, "default", sndfix_path("moh"), MOH_SORT_ALPHA,
				       MOH_POS_LISTENER), 0);
	assert_int_equal(moh_class_nfiles(c), 2);
	assert_string_equal(moh_class_file(c, 0), sndfix_path("moh/a-first.wav"));
	assert_int_equal(player_alloc(&p, on_done, NULL), 0);
	assert_int_equal(player_alloc(&q, on_done, NULL), 0);
	assert_int_equal(play_moh(p, c), 0);
	play_tick();
	assert_true(play_read(p, f));
	expect_run(f, 0, 160, 100);
	play_tick();
	assert_true(play_read(p, f));
	expect_run(f, 0, 140, 100);
	expect_run(f, 140, 20, 200);            /* next file, no gap */
	/* a second listener starts at the beginning: its own place */
	assert_int_equal(play_moh(q, c), 0);
	assert_true(play_read(q, f));
	expect_run(f, 0, 160, 100);
	/* off hold and on again: p resumes where it was */
	play_stop(p);
	assert_int_equal(play_moh(p, c), 0);
	assert_true(play_read(p, f));
	expect_run(f, 0, 160, 200);
	assert_true(play_read(p, f));
	expect_run(f, 0, 20, 200);
	expect_run(f, 20, 140, 100);            /* it loops */
	/* another class starts afresh */
	play_stop(p);
	assert_int_equal(moh_class_list(&c2, "other", (const char *[]){
		sndfix_path("moh/b-second"), "/nonexistent/x" }, 2, MOH_SORT_ALPHA,
		MOH_POS_LISTENER), 0);
	assert_int_equal(moh_class_nfiles(c2), 1);
	assert_int_equal(play_moh(p, c2), 0);
	assert_true(play_read(p, f));
	expect_run(f, 0, 160, 200);
	play_stop(p);
	assert_int_equal(play_moh(p, c), 0);
	assert_true(play_read(p, f));
	expect_run(f, 0, 160, 100);
	/* music never ends by itself */
	for (int i = 0; i < 100; i++)
		assert_true(play_read(p, f));
	loop_test_advance(0);
	assert_int_equal(dones, 0);
	mem_deref(c);                           /* players keep it alive */
	mem_deref(c2);
	assert_true(play_read(p, f));
	mem_deref(p);
	mem_deref(q);
}

static void t_moh_class(void **state)
{
	struct moh_class *c;
	struct player *p[3];
	int16_t f[3][PLAY_FRAME];

	(void)state;
	mk_moh();
	assert_int_equal(moh_class_dir(&c, "shared", sndfix_path("moh"), MOH_SORT_ALPHA,
				       MOH_POS_CLASS), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(player_alloc(&p[i], NULL, NULL), 0);
	assert_int_equal(play_moh(p[0], c), 0);
	play_tick();
	assert_true(play_read(p[0], f[0]));
	expect_run(f[0], 0, 160, 100);
	/* a listener joining later hears the same stream, same tick */
	play_tick();
	assert_int_equal(play_moh(p[1], c), 0);
	assert_true(play_read(p[0], f[0]));
	assert_true(play_read(p[1], f[1]));
	assert_memory_equal(f[0], f[1], sizeof(f[0]));
	expect_run(f[1], 140, 20, 200);
	/* one mid-frame: a prompt then the music, aligned to the frame */
	sndfix_const("data/sounds/es/p.wav", 60, 7);
	assert_int_equal(play_file(p[2], "es", "p"), 0);
	assert_int_equal(play_moh(p[2], c), 0);
	play_tick();
	assert_true(play_read(p[0], f[0]));
	assert_true(play_read(p[2], f[2]));
	expect_run(f[2], 0, 60, 7);
	assert_memory_equal(f[2] + 60, f[0] + 60, 100 * sizeof(int16_t));
	for (int i = 0; i < 3; i++)
		mem_deref(p[i]);
	mem_deref(c);
}

static void t_moh_random(void **state)
{
	struct moh_class *c;
	struct player *p;
	int16_t f[PLAY_FRAME];
	int16_t last = 0;
	int changes = 0, firsts[6] = { 0 };

	(void)state;
	for (int i = 0; i < 6; i++) {
		char n[32];
		snprintf(n, sizeof(n), "r/%d.wav", i);
		sndfix_const(n, 160, (int16_t)(i + 1));
	}
	moh_test_seed(42);
	assert_int_equal(moh_class_dir(&c, "rnd", sndfix_path("r"), MOH_SORT_RANDOM,
				       MOH_POS_LISTENER), 0);
	assert_int_equal(player_alloc(&p, NULL, NULL), 0);
	assert_int_equal(play_moh(p, c), 0);
	for (int i = 0; i < 200; i++) {
		assert_true(play_read(p, f));
		expect_run(f, 0, 160, f[0]);    /* one file per frame */
		assert_true(f[0] >= 1 && f[0] <= 6);
		assert_int_not_equal(f[0], last);       /* never twice in a row */
		changes++;
		last = f[0];
	}
	assert_int_equal(changes, 200);
	mem_deref(p);
	mem_deref(c);
	/* randstart: a random first file, then in order */
	assert_int_equal(moh_class_dir(&c, "rs", sndfix_path("r"), MOH_SORT_RANDSTART,
				       MOH_POS_LISTENER), 0);
	for (int k = 0; k < 60; k++) {
		assert_int_equal(player_alloc(&p, NULL, NULL), 0);
		assert_int_equal(play_moh(p, c), 0);
		assert_true(play_read(p, f));
		firsts[f[0] - 1]++;
		last = f[0];
		assert_true(play_read(p, f));
		assert_int_equal(f[0], last % 6 + 1);
		mem_deref(p);
	}
	for (int i = 0; i < 6; i++)
		assert_true(firsts[i] > 0);
	mem_deref(c);
}

static void t_moh_bad(void **state)
{
	struct moh_class *c;
	struct player *p;
	int16_t f[PLAY_FRAME];
	unsigned long w;

	(void)state;
	/* empty or missing directories make no class */
	sndfix_mkdirs("empty");
	assert_int_equal(moh_class_dir(&c, "e", sndfix_path("empty"), MOH_SORT_ALPHA,
				       MOH_POS_LISTENER), ENOENT);
	assert_int_equal(moh_class_dir(&c, "m", sndfix_path("missing"), MOH_SORT_ALPHA,
				       MOH_POS_LISTENER), ENOENT);
	/* one corrupt file among good ones is skipped */
	sndfix_bytes("mix/1-bad.wav", "RIFFjunkjunkjunk", 16);
	sndfix_const("mix/2-good.wav", 160, 9);
	assert_int_equal(moh_class_dir(&c, "mix", sndfix_path("mix"), MOH_SORT_ALPHA,
				       MOH_POS_LISTENER), 0);
	assert_int_equal(player_alloc(&p, NULL, NULL), 0);
	assert_int_equal(play_moh(p, c), 0);
	for (int i = 0; i < 5; i++) {
		assert_true(play_read(p, f));
		expect_run(f, 0, 160, 9);
	}
	mem_deref(p);
	mem_deref(c);
	/* all corrupt: silence, one warning, no spin */
	sndfix_bytes("allbad/x.wav", "RIFFjunkjunkjunk", 16);
	assert_int_equal(moh_class_dir(&c, "bad", sndfix_path("allbad"), MOH_SORT_ALPHA,
				       MOH_POS_LISTENER), 0);
	assert_int_equal(player_alloc(&p, NULL, NULL), 0);
	assert_int_equal(play_moh(p, c), 0);
	w = log_count(LOG_LVL_WARN);
	for (int i = 0; i < 50; i++) {
		assert_true(play_read(p, f));
		expect_run(f, 0, 160, 0);
	}
	assert_true(log_count(LOG_LVL_WARN) <= w + 2);
	mem_deref(p);
	mem_deref(c);
}

int test_play_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_queue_gapless, setup, teardown),
		cmocka_unit_test_setup_teardown(t_playback_list, setup, teardown),
		cmocka_unit_test_setup_teardown(t_done_may_free, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tones, setup, teardown),
		cmocka_unit_test_setup_teardown(t_moh_listener, setup, teardown),
		cmocka_unit_test_setup_teardown(t_moh_class, setup, teardown),
		cmocka_unit_test_setup_teardown(t_moh_random, setup, teardown),
		cmocka_unit_test_setup_teardown(t_moh_bad, setup, teardown),
	};

	return cmocka_run_group_tests_name("play", tests, NULL, NULL);
}
