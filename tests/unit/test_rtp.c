/** @file test_rtp.c  Placeholder until the rtp tests land. */
#include "suites.h"
int test_rtp_run(void) { return 0; }
