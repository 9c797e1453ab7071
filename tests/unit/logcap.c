/**
 * @file logcap.c  Log capture for the unit tests (logcap.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "logcap.h"

static char logpath[64];
static enum log_level saved_level;

void logcap_start(void)
{
	int fd;

	snprintf(logpath, sizeof(logpath), "/tmp/tandem-unitlog-XXXXXX");
	fd = mkstemp(logpath);
	assert_true(fd >= 0);
	close(fd);
	saved_level = log_get_level();
	assert_int_equal(log_init(logpath, LOG_LVL_INFO), 0);
}

char *logcap_end(void)
{
	FILE *f;
	char *buf = calloc(1, 65536);

	log_close();
	log_init(NULL, saved_level);
	assert_non_null(buf);
	f = fopen(logpath, "r");
	assert_non_null(f);
	if (fread(buf, 1, 65535, f) == 0)
		buf[0] = '\0';
	fclose(f);
	unlink(logpath);
	return buf;
}

int logcap_count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}
