/** @file test_core.c  pl, mem, the timer heap, spawn and the PRNG. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "core/rnd.h"
#include "core/spawn.h"
#include "suites.h"

static void t_pl(void **state)
{
	struct pl a = PL("Content-Length"), b = PL("content-length");
	uint32_t v;
	char buf[8];

	(void)state;
	assert_int_not_equal(pl_cmp(&a, &b), 0);
	assert_int_equal(pl_casecmp(&a, &b), 0);
	assert_int_equal(pl_hash(&a, true), pl_hash(&b, true));
	struct pl n = PL("4294967295");
	assert_int_equal(pl_u32(&n, &v), 0);
	assert_int_equal(v, 4294967295u);
	struct pl big = PL("4294967296");
	assert_int_not_equal(pl_u32(&big, &v), 0);
	struct pl t = PL("  x y \r\n");
	pl_trim(&t);
	assert_int_equal(pl_strcmp(&t, "x y"), 0);
	pl_strcpy(&a, buf, sizeof(buf));
	assert_string_equal(buf, "Content");
}

static int destroyed;
static void dtor(void *p) { (void)p; destroyed++; }

static void t_mem(void **state)
{
	size_t before = mem_live();
	int *x = mem_zalloc(sizeof(*x), dtor);

	(void)state;
	assert_non_null(x);
	mem_ref(x);
	assert_int_equal(mem_nrefs(x), 2);
	mem_deref(x);
	assert_int_equal(destroyed, 0);
	x = mem_deref(x);
	assert_null(x);
	assert_int_equal(destroyed, 1);
	assert_int_equal(mem_live(), before);
}

static int order[8], norder;
static void fire(void *arg) { order[norder++] = (int)(intptr_t)arg; }

static void t_timers(void **state)
{
	struct tmr t[5];
	int i;

	(void)state;
	assert_int_equal(loop_init(), 0);
	for (i = 0; i < 5; i++)
		tmr_init(&t[i]);
	tmr_start(&t[0], 50, fire, (void *)0);
	tmr_start(&t[1], 10, fire, (void *)1);
	tmr_start(&t[2], 30, fire, (void *)2);
	tmr_start(&t[3], 20, fire, (void *)3);
	tmr_start(&t[4], 40, fire, (void *)4);
	tmr_cancel(&t[2]);
	assert_int_equal(tmr_count(), 4);
	assert_false(tmr_isset(&t[2]));
	tmr_start(&t[0], 5, fire, (void *)0);  /* re-arm moves it first */
	assert_true(tmr_left(&t[0]) <= 5);
	assert_true(tmr_left(&t[4]) > tmr_left(&t[3]));
	for (i = 0; i < 5; i++)
		tmr_cancel(&t[i]);
	assert_int_equal(tmr_count(), 0);
	loop_close();
}

/* Stop the loop once every child is reaped; bounded by `left` ticks so a
 * child never reaped fails the test instead of hanging it. */
static struct tmr watch_tmr;
static int watch_left;

static void watch_h(void *arg)
{
	(void)arg;
	if (!spawn_running() || --watch_left <= 0) {
		loop_stop();
		return;
	}
	tmr_start(&watch_tmr, 10, watch_h, NULL);
}

static void run_until_reaped(void)
{
	watch_left = 3000;   /* 30 s of 10 ms ticks: a safety bound, not a threshold */
	tmr_init(&watch_tmr);
	tmr_start(&watch_tmr, 0, watch_h, NULL);
	loop_run();
	tmr_cancel(&watch_tmr);
}

static void t_spawn(void **state)
{
	char dir[] = "/tmp/tandem-spawn-XXXXXX", out[64], line[128] = "";
	char *argv[] = { "/bin/sh", "-c", "echo \"$X $1\" > \"$0\"", out, "arg", NULL };
	char *envp[] = { "X=env", NULL };
	char *sleeper[] = { "/bin/sleep", "30", NULL };
	struct spawn_opts o = { .path = "/bin/sh", .argv = argv, .envp = envp, .what = "t" };
	pid_t pid = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(loop_init(), 0);
	/* argv and envp reach the child; it is reaped */
	assert_int_equal(spawn_run(&o, &pid), 0);
	assert_true(pid > 0);
	assert_int_equal(spawn_running(), 1);
	run_until_reaped();
	assert_int_equal(spawn_running(), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "env arg\n");
	/* a failing command through the shell is reaped too */
	assert_int_equal(spawn_sh("exit 3", NULL, "t"), 0);
	run_until_reaped();
	assert_int_equal(spawn_running(), 0);
	/* one still running at its deadline is killed, then reaped */
	o = (struct spawn_opts){ .path = "/bin/sleep", .argv = sleeper, .kill_ms = 1,
				 .what = "t" };
	assert_int_equal(spawn_run(&o, &pid), 0);
	run_until_reaped();
	assert_int_equal(spawn_running(), 0);
	assert_int_equal(kill(pid, 0), -1);   /* reaped: no such process */
	/* a missing program is refused */
	o = (struct spawn_opts){ .path = "/nonexistent/x", .argv = sleeper, .what = "t" };
	assert_int_not_equal(spawn_run(&o, NULL), 0);
	assert_int_equal(spawn_running(), 0);
	assert_int_equal(spawn_sh("", NULL, "t"), EINVAL);
	spawn_close();
	loop_close();
	unlink(out);
	rmdir(dir);
}

static void t_rnd(void **state)
{
	uint32_t s = 0, a = 1, b = 1, first;

	(void)state;
	first = rnd_xorshift32(&s);   /* a zero seed still moves */
	assert_int_not_equal(first, 0);
	assert_int_equal(s, first);
	for (int i = 0; i < 1000; i++) {
		uint32_t x = rnd_xorshift32(&a);
		assert_int_not_equal(x, 0);
		assert_int_equal(x, rnd_xorshift32(&b));   /* same seed, same sequence */
	}
	assert_int_equal(rnd_xorshift32(&(uint32_t){ 1 }), 270369u);   /* Marsaglia's */
}

int test_core_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_pl),
		cmocka_unit_test(t_mem),
		cmocka_unit_test(t_timers),
		cmocka_unit_test(t_spawn),
		cmocka_unit_test(t_rnd),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
