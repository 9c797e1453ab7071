/** @file test_auth.c  Placeholder until the auth tests land. */
#include "suites.h"
int test_auth_run(void) { return 0; }
