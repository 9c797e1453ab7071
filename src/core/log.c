/** @file log.c  Log sinks and the security log. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

static FILE *main_log;
static FILE *sec_log;
static enum log_level cur_level = LOG_LVL_INFO;
static unsigned long counts[LOG_LVL_DEBUG + 1];
static unsigned long sec_auth_failed, sec_rejected;

unsigned long log_security_count(const char *event)
{
	return !strcmp(event, "auth_failed") ? sec_auth_failed
	     : !strcmp(event, "request_rejected") ? sec_rejected : 0;
}

unsigned long log_count(enum log_level lvl)
{
	return lvl <= LOG_LVL_DEBUG ? counts[lvl] : 0;
}

static const char *lvl_name[] = { "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG" };

int log_init(const char *path, enum log_level level)
{
	cur_level = level;
	if (!path) {
		main_log = NULL;
		return 0;
	}
	main_log = fopen(path, "a");
	if (!main_log)
		return errno;
	setvbuf(main_log, NULL, _IOLBF, 0);
	return 0;
}

int log_security_open(const char *path)
{
	if (sec_log)
		fclose(sec_log);
	sec_log = NULL;
	if (!path)
		return 0;
	sec_log = fopen(path, "a");
	if (!sec_log)
		return errno;
	setvbuf(sec_log, NULL, _IOLBF, 0);
	return 0;
}

void log_close(void)
{
	if (main_log)
		fclose(main_log);
	if (sec_log)
		fclose(sec_log);
	main_log = sec_log = NULL;
}

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

static void stamp(char *buf, size_t size)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03uZ", (unsigned)(tv.tv_usec / 1000) % 1000u);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char ts[48];
	va_list ap;
	FILE *f = main_log ? main_log : stderr;

	counts[lvl]++;
	if (lvl > cur_level)
		return;
	stamp(ts, sizeof(ts));
	fprintf(f, "%s tandemd[%d]: %s: ", ts, (int)getpid(), lvl_name[lvl]);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* Replace anything that could break the line format. */
static void sanitize(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && *src && i + 1 < size; src++) {
		unsigned char c = (unsigned char)*src;
		dst[i++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	dst[i] = '\0';
}

void log_security(const char *event, const char *src, const char *user,
		  const char *reason)
{
	char ts[48], u[128], r[160];

	if (!strcmp(event, "auth_failed"))
		sec_auth_failed++;
	else if (!strcmp(event, "request_rejected"))
		sec_rejected++;
	stamp(ts, sizeof(ts));
	sanitize(u, sizeof(u), user ? user : "");
	sanitize(r, sizeof(r), reason ? reason : "");
	if (sec_log)
		fprintf(sec_log, "%s tandemd[%d]: SECURITY event=%s src=%s user=\"%s\" reason=\"%s\"\n",
			ts, (int)getpid(), event, src, u, r);
	log_msg(LOG_LVL_NOTICE, "SECURITY event=%s src=%s user=\"%s\" reason=\"%s\"",
		event, src, u, r);
}
