/** @file test_core.c  pl, mem and the timer heap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
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

int test_core_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_pl),
		cmocka_unit_test(t_mem),
		cmocka_unit_test(t_timers),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
