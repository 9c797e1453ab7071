/**
 * @file clock.c  The dialplan's clock (dialplan.h): the real one, or, for
 * tests, one that started at a chosen date and runs at normal speed
 * (tandemd --fake-time). Kept as an offset from time(NULL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dialplan/dialplan.h"

static time_t offset;
static bool faked;

void dialplan_clock_set(time_t t)
{
	faked = t != 0;
	offset = faked ? t - time(NULL) : 0;
}

time_t dialplan_now(void)
{
	return time(NULL) + offset;
}

bool dialplan_clock_faked(void)
{
	return faked;
}

int dialplan_clock_parse(const char *text, time_t *t)
{
	struct tm tm = { .tm_isdst = -1 };
	int y, mo, d, h, mi, sec = 0, n = 0;
	char sep;
	time_t r;

	if (!text)
		return EINVAL;
	if (text[0] == '@') {
		char *end;
		long long v = strtoll(text + 1, &end, 10);

		if (end == text + 1 || *end || v <= 0)
			return EINVAL;
		*t = (time_t)v;
		return 0;
	}
	if (sscanf(text, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &n) != 6 ||
	    (sep != ' ' && sep != 'T'))
		return EINVAL;
	if (text[n] == ':') {
		int m = 0;

		if (sscanf(text + n, ":%2d%n", &sec, &m) != 1)
			return EINVAL;
		n += m;
	}
	if (text[n] || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
		return EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	r = mktime(&tm);
	if (r == (time_t)-1 || tm.tm_mday != d)   /* 31 February */
		return EINVAL;
	*t = r;
	return 0;
}
