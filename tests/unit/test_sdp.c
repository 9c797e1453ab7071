/** @file test_sdp.c  Placeholder until the sdp tests land. */
#include "suites.h"
int test_sdp_run(void) { return 0; }
