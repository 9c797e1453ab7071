/** @file main.c  Runs every unit-test group (tests/unit/suites.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "suites.h"

int main(int argc, char **argv)
{
	int failed = 0;

#define X(name) \
	if (argc < 2 || strcmp(argv[1], #name) == 0) \
		failed += test_##name##_run();
	TANDEM_SUITES
#undef X
	return failed ? 1 : 0;
}
