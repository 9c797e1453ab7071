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

/*
 * Where this node's history and the peer's branched, when this node wrote
 * past that point (design 3.3 step 4, 7):
 *  - the peer was promoted from this node's history: its replid2 is our
 *    replid; we wrote past its offset2 (unACKed turns, or while split);
 *  - both were promoted from the same history (a double failover: equal
 *    replid2, other replids): the common part ends at the earlier of the
 *    two promotions.
 */
bool merge_branch(const struct merge_pos *self, const struct merge_pos *peer, uint64_t *from)
{
	uint64_t at;

	if (!peer->replid2[0])
		return false;
	if (!strcmp(peer->replid2, self->replid))
		at = peer->offset2;
	else if (self->replid2[0] && !strcmp(peer->replid2, self->replid2) &&
		 strcmp(peer->replid, self->replid))
		at = self->offset2 < peer->offset2 ? self->offset2 : peer->offset2;
	else
		return false;
	if (self->head <= at)
		return false;
	*from = at;
	return true;
}
