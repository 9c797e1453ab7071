/** @file test_dialplan.c  Placeholder until the dialplan tests land. */
#include "suites.h"
int test_dialplan_run(void) { return 0; }
