/** @file test_conf.c  Placeholder until the conf tests land. */
#include "suites.h"
int test_conf_run(void) { return 0; }
