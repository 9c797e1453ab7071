/**
 * @file timing.c  Time ranges `times,weekdays,mdays,months[,timezone]`
 * as Asterisk's ast_build_timing/ast_check_timing read them: `*` or an
 * empty field is "always"; each field is a '&' list of values or ranges
 * that may wrap (fri-mon, 22:00-06:00); times are minute-exact and the
 * end minute is included (9:00-14:00 still holds at 14:00, not at 14:01);
 * weekdays and months by name (sun..sat, jan..dec, any case) or number.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>

#include "dialplan/dp_int.h"

static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu",
					 "fri", "sat", NULL };
static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };

static void where(char *buf, size_t size, const char *file, unsigned line)
{
	if (file)
		snprintf(buf, size, "%s:%u: ", file, line);
	else
		buf[0] = '\0';
}

/* Value of one item: index 0..max-1, or -1. */
static int lookup(const char *s, int max, const char *const *names)
{
	int i;

	if (names)
		for (i = 0; names[i]; i++)
			if (!strcasecmp(s, names[i]))
				return i;
	if (sscanf(s, "%2d", &i) == 1 && i >= 1 && i <= max)
		return i - 1;
	return -1;
}

/* Parse a '&' list of items or ranges into a bit mask of max bits. */
static uint32_t get_range(char *s, int max, const char *const *names,
			  const char *what, const char *loc)
{
	uint32_t mask = 0;
	char *part, *save = NULL;

	s = dp_trim(s);
	if (!*s || !strcmp(s, "*"))
		return max == 32 ? 0xffffffffu : (1u << max) - 1;
	for (part = strtok_r(s, "&", &save); part; part = strtok_r(NULL, "&", &save)) {
		char *e = strchr(part, '-');
		int start, end;

		if (e)
			*e++ = '\0';
		part = dp_trim(part);
		start = lookup(part, max, names);
		if (start < 0) {
			dp_warn("%sinvalid %s '%s' in a time range: ignored", loc, what, part);
			continue;
		}
		end = start;
		if (e) {
			e = dp_trim(e);
			end = lookup(e, max, names);
			if (end < 0) {
				dp_warn("%sinvalid %s '%s' in a time range: ignored", loc, what, e);
				continue;
			}
		}
		for (;;) {
			mask |= 1u << start;
			if (start == end)
				break;
			start = (start + 1) % max;
		}
	}
	return mask;
}

static void set_min(struct dp_timing *t, int m)
{
	t->minmask[m / 8] |= (uint8_t)(1u << (m % 8));
}

static bool parse_hm(const char *s, int *min)
{
	int h, m;
	char extra;

	if (sscanf(s, "%2d:%2d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 ||
	    m < 0 || m > 59)
		return false;
	*min = h * 60 + m;
	return true;
}

static void get_times(struct dp_timing *t, char *s, const char *loc)
{
	char *part, *save = NULL;

	s = dp_trim(s);
	if (!*s || !strcmp(s, "*")) {
		memset(t->minmask, 0xff, sizeof(t->minmask));
		return;
	}
	for (part = strtok_r(s, "&", &save); part; part = strtok_r(NULL, "&", &save)) {
		char *e = strchr(part, '-');
		int a, b, x;

		if (!e) {
			dp_warn("%stime range '%s' has no '-': taken as all day", loc, part);
			memset(t->minmask, 0xff, sizeof(t->minmask));
			return;
		}
		*e++ = '\0';
		part = dp_trim(part);
		e = dp_trim(e);
		if (!parse_hm(part, &a) || !parse_hm(e, &b)) {
			dp_warn("%sinvalid time range '%s-%s' (want HH:MM-HH:MM): taken as all day",
				loc, part, e);
			memset(t->minmask, 0xff, sizeof(t->minmask));
			return;
		}
		for (x = a; x != b; x = (x + 1) % (24 * 60))
			set_min(t, x);
		set_min(t, b);
	}
}

void dp_timing_clear(struct dp_timing *t)
{
	free(t->tz);
	t->tz = NULL;
}

int dp_timing_parse(struct dp_timing *t, const char *spec, const char *file,
		    unsigned line)
{
	char *copy = dp_strdup(spec ? spec : ""), *f[5] = { NULL }, *p;
	char loc[320];
	int i;

	if (!copy)
		return ENOMEM;
	where(loc, sizeof(loc), file, line);
	memset(t, 0, sizeof(*t));
	p = copy;
	for (i = 0; i < 5 && p; i++) {
		f[i] = p;
		p = strpbrk(p, ",|");
		if (p)
			*p++ = '\0';
	}
	get_times(t, f[0] ? f[0] : copy, loc);
	t->dowmask = (uint8_t)get_range(f[1] ? f[1] : (char *)"*", 7, dow_names, "weekday", loc);
	t->daymask = get_range(f[2] ? f[2] : (char *)"*", 31, NULL, "day of month", loc);
	t->monthmask = (uint16_t)get_range(f[3] ? f[3] : (char *)"*", 12, month_names, "month", loc);
	if (f[4] && *dp_trim(f[4])) {
		t->tz = dp_strdup(dp_trim(f[4]));
		if (!t->tz) {
			free(copy);
			return ENOMEM;
		}
	}
	free(copy);
	return 0;
}

static void local_tm(time_t now, const char *tz, struct tm *tm)
{
	char *old = NULL;
	const char *cur;

	if (!tz) {
		localtime_r(&now, tm);
		return;
	}
	cur = getenv("TZ");
	if (cur)
		old = dp_strdup(cur);
	setenv("TZ", tz, 1);
	tzset();
	localtime_r(&now, tm);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}

bool dp_timing_check(const struct dp_timing *t, time_t now)
{
	struct tm tm;
	int m;

	local_tm(now, t->tz, &tm);
	if (!(t->monthmask & (1u << tm.tm_mon)) ||
	    !(t->daymask & (1u << (tm.tm_mday - 1))) ||
	    !(t->dowmask & (1u << tm.tm_wday)))
		return false;
	m = tm.tm_hour * 60 + tm.tm_min;
	return t->minmask[m / 8] & (1u << (m % 8));
}
