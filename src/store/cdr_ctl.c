/**
 * @file cdr_ctl.c  `tandemctl cdr`: the daemon's command and the client's
 * table (see cdr.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/cdr.h"

#define LAST_DEFAULT 10
#define LAST_MAX     10000

static int parse_n(const char *s, unsigned *n)
{
	char *e;
	unsigned long v;

	if (!s || !*s)
		return EINVAL;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || *e || !v || v > LAST_MAX)
		return EINVAL;
	*n = (unsigned)v;
	return 0;
}

json_t *cdr_ctl_cmd(json_t *args, char *err, size_t errsize)
{
	unsigned n = LAST_DEFAULT;
	size_t i, na = json_array_size(args);

	for (i = 0; i < na; i++) {
		const char *a = json_string_value(json_array_get(args, i));
		if (a && !strcmp(a, "status") && na == 1)
			return cdr_status_json();
		if (a && !strcmp(a, "--last") && i + 1 < na &&
		    !parse_n(json_string_value(json_array_get(args, i + 1)), &n)) {
			i++;
			continue;
		}
		if (a && !strncmp(a, "--last=", 7) && !parse_n(a + 7, &n))
			continue;
		snprintf(err, errsize, "usage: cdr [--last N] | cdr status (N from 1 to %d)",
			 LAST_MAX);
		return NULL;
	}
	return cdr_last_json(n);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

void cdr_print(FILE *f, const json_t *data)
{
	const json_t *arr = json_object_get(data, "cdr"), *r, *m;
	size_t i;

	if (!arr) {   /* cdr status */
		fprintf(f, "Backend:   %s%s\n", str(data, "backend"),
			json_is_true(json_object_get(data, "enabled")) ? "" : " (disabled)");
		fprintf(f, "Database:  %s%s\n", str(data, "database"),
			json_is_true(json_object_get(data, "failing")) ? " (writes failing)" : "");
		if ((m = json_object_get(data, "mariadb")))
			fprintf(f, "MariaDB:   %s: %s%s%s\n", str(m, "target"), str(m, "state"),
				*str(m, "error") ? ", " : "", str(m, "error"));
		fprintf(f, "Spooled:   %lld\nOpen:      %lld\n", num(data, "spooled"),
			num(data, "open"));
		return;
	}
	fprintf(f, "%-19s %-12s %-12s %-12s %-10s %8s %8s %s\n", "Calldate", "Src", "Dst",
		"Context", "Disp", "Duration", "Billsec", "Uniqueid");
	for (i = 0; i < json_array_size(arr); i++) {
		r = json_array_get(arr, i);
		fprintf(f, "%-19s %-12s %-12s %-12s %-10s %8lld %8lld %s\n", str(r, "calldate"),
			str(r, "src"), str(r, "dst"), str(r, "dcontext"), str(r, "disposition"),
			num(r, "duration"), num(r, "billsec"), str(r, "uniqueid"));
	}
	fprintf(f, "%zu call records\n", json_array_size(arr));
}
