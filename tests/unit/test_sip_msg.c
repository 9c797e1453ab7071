/** @file test_sip_msg.c  Placeholder until the sip_msg tests land. */
#include "suites.h"
int test_sip_msg_run(void) { return 0; }
