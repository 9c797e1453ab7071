/**
 * @file merge_name.c  The names a merge gives the loser's files (merge.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ha/merge.h"

/* "…/msgNNNN.ext": NNNN (four digits or more, as app_voicemail writes
 * them); *dirlen = length of the directory part with its '/', *ext points
 * at the '.' of the extension. -1 for any other name. */
int merge_msgnum(const char *rel, size_t *dirlen, const char **ext)
{
	const char *base = strrchr(rel, '/'), *p, *dot;
	int n = 0;

	base = base ? base + 1 : rel;
	if (strncmp(base, "msg", 3))
		return -1;
	for (p = base + 3; *p >= '0' && *p <= '9'; p++) {
		if (n > 99999)
			return -1;
		n = n * 10 + (*p - '0');
	}
	dot = p;
	if (p - base < 7 || *dot != '.' || !dot[1] || strchr(dot + 1, '.'))
		return -1;
	*dirlen = (size_t)(base - rel);
	*ext = dot;
	return n;
}

/* "dir/name.ext" -> "dir/name-node.ext" ("dir/name" -> "dir/name-node"). */
int merge_suffixed(char *out, size_t size, const char *rel, const char *node)
{
	const char *base = strrchr(rel, '/'), *dot;
	int n;

	base = base ? base + 1 : rel;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	n = snprintf(out, size, "%.*s-%s%s", (int)(dot - rel), rel, node, dot);
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

/* "dir/name" -> "dir/name.conflict-node-1718270680" */
int merge_conflict_name(char *out, size_t size, const char *rel, const char *node,
			int64_t unix_s)
{
	int n = snprintf(out, size, "%s.conflict-%s-%" PRId64, rel, node, unix_s);

	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}
