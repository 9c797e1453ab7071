/** @file test_trans.c  Placeholder until the trans tests land. */
#include "suites.h"
int test_trans_run(void) { return 0; }
