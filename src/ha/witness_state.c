/**
 * @file witness_state.c  The witness's decisions and its state file
 * (witness_state.h; docs/design/cluster.md 4, 6).
 *
 * DIR/witness.state, rewritten whole when the durable part changes (a new
 * holder or epoch, outdated set or cleared; not on renewals):
 *   epoch 7
 *   holder a
 *   outdated b 81234
 * ("holder -" and "outdated - 0" for none). A restarted witness does not
 * know whether the holder's lease still runs, so it grants nothing, not
 * even the holder's renewal, for one lease.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ha/witness_state.h"

static struct wit_node *node_of(struct wit_state *w, const char *name)
{
	for (int i = 0; i < 2; i++)
		if (name && !strcmp(w->nodes[i].name, name))
			return &w->nodes[i];
	return NULL;
}

void wit_state_init(struct wit_state *w, const char *n0, const char *n1,
		    uint32_t lease_ms, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->nodes[0].name, sizeof(w->nodes[0].name), "%s", n0);
	snprintf(w->nodes[1].name, sizeof(w->nodes[1].name), "%s", n1);
	w->lease_ms = lease_ms;
	w->quiet_until = now + lease_ms;
	w->served = true;           /* not known after a restart: assume used */
}

void wit_role(struct wit_state *w, const char *node, bool active)
{
	if (active && node && !strcmp(w->holder, node))
		w->served = true;
}

void wit_seen(struct wit_state *w, const char *node, uint64_t epoch, uint64_t offset)
{
	struct wit_node *n = node_of(w, node);

	if (!n)
		return;
	n->seen = true;
	n->epoch = epoch + 1;       /* as a W_REQUEST would say: the epoch it would ask */
	n->offset = offset;
}

uint32_t wit_ms_left(const struct wit_state *w, uint64_t now)
{
	if (!w->holder[0] || w->lease_end <= now)
		return 0;
	return (uint32_t)(w->lease_end - now);
}

__attribute__((format(printf, 4, 5)))
static int deny(struct wit_state *w, struct wit_answer *a, uint64_t now, const char *fmt, ...)
{
	va_list ap;

	a->granted = false;
	a->epoch = w->epoch;
	a->ms_left = wit_ms_left(w, now);
	snprintf(a->holder, sizeof(a->holder), "%s", w->holder);
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	return 0;
}

int wit_request(struct wit_state *w, const char *node, uint64_t epoch, uint64_t offset,
		uint64_t now, struct wit_answer *a)
{
	struct wit_node *me = node_of(w, node), *other;

	memset(a, 0, sizeof(*a));
	if (!me)
		return EINVAL;
	other = me == &w->nodes[0] ? &w->nodes[1] : &w->nodes[0];
	me->seen = true;
	me->epoch = epoch;
	me->offset = offset;
	if (now < w->quiet_until)
		return deny(w, a, now, "witness restarted: granting nothing for %" PRIu64
			    " ms", w->quiet_until - now);
	if (!strcmp(w->holder, node) && epoch == w->epoch) {
		w->lease_end = now + w->lease_ms;            /* renewal */
		goto grant;
	}
	if (wit_ms_left(w, now))
		return deny(w, a, now, "lease held by %s (%" PRIu64 " ms left)", w->holder,
			    (uint64_t)wit_ms_left(w, now));
	if (!strcmp(w->outdated, node))
		return deny(w, a, now, "%s is outdated at offset %" PRIu64
			    " until it catches up", node, w->outdated_off);
	if (epoch <= w->epoch && (w->served || !w->holder[0] || epoch < w->prev_epoch))
		return deny(w, a, now, "epoch %" PRIu64 " already granted", w->epoch);
	if (strcmp(w->holder, other->name) && other->seen &&
	    (other->epoch > epoch || (other->epoch == epoch && other->offset > offset)))
		return deny(w, a, now, "%s is ahead (offset %" PRIu64 ")", other->name,
			    other->offset);
	if (epoch > w->epoch)
		w->prev_epoch = w->epoch;
	w->epoch = epoch;
	snprintf(w->holder, sizeof(w->holder), "%s", node);
	w->lease_end = now + w->lease_ms;
	w->served = false;
	w->dirty = true;
grant:
	a->granted = true;
	a->epoch = epoch;
	a->lease_ms = w->lease_ms;
	snprintf(a->holder, sizeof(a->holder), "%s", node);
	return 0;
}

void wit_release(struct wit_state *w, const char *node)
{
	if (node && !strcmp(w->holder, node))
		w->lease_end = 0;
}

void wit_in_sync(struct wit_state *w, const char *node)
{
	if (node && w->outdated[0] && !strcmp(w->outdated, node)) {
		w->outdated[0] = '\0';
		w->outdated_off = 0;
		w->dirty = true;
	}
}

int wit_outdated(struct wit_state *w, const char *from, const char *node, uint64_t offset)
{
	if (!from || strcmp(w->holder, from) || !node_of(w, node) || !strcmp(node, from))
		return EPERM;
	if (strcmp(w->outdated, node) || w->outdated_off != offset)
		w->dirty = true;
	snprintf(w->outdated, sizeof(w->outdated), "%s", node);
	w->outdated_off = offset;
	return 0;
}

int wit_current(struct wit_state *w, const char *from, const char *node)
{
	if (!from || strcmp(w->holder, from) || !node_of(w, node))
		return EPERM;
	if (!strcmp(w->outdated, node)) {
		w->outdated[0] = '\0';
		w->outdated_off = 0;
		w->dirty = true;
	}
	return 0;
}

/* ------------------------------------------------------------ the file */

static int path_of(char *buf, size_t size, const char *dir, const char *name)
{
	return snprintf(buf, size, "%s/%s", dir, name) >= (int)size ? ENAMETOOLONG : 0;
}

int wit_state_load(struct wit_state *w, const char *dir, char *err, size_t errsize)
{
	char path[4096], line[256], a[CLUSTER_NAME_MAX];
	uint64_t epoch = 0, off = 0;
	char holder[CLUSTER_NAME_MAX] = "", outdated[CLUSTER_NAME_MAX] = "";
	unsigned ln = 0;
	FILE *f;
	int e = 0;

	if ((e = path_of(path, sizeof(path), dir, "witness.state")))
		return e;
	if (!(f = fopen(path, "r")))
		return errno;
	while (fgets(line, sizeof(line), f)) {
		ln++;
		if (sscanf(line, "epoch %" SCNu64, &epoch) == 1)
			continue;
		if (sscanf(line, "holder %63s", a) == 1) {
			snprintf(holder, sizeof(holder), "%s", strcmp(a, "-") ? a : "");
			continue;
		}
		if (sscanf(line, "outdated %63s %" SCNu64, a, &off) == 2) {
			snprintf(outdated, sizeof(outdated), "%s", strcmp(a, "-") ? a : "");
			continue;
		}
		snprintf(err, errsize, "%s:%u: expected 'epoch N', 'holder NAME' or "
			 "'outdated NAME OFFSET'", path, ln);
		e = EBADMSG;
		break;
	}
	fclose(f);
	if (e)
		return e;
	if ((holder[0] && !node_of(w, holder)) || (outdated[0] && !node_of(w, outdated))) {
		snprintf(err, errsize, "%s: names a node not in [cluster] (%s)", path,
			 holder[0] && !node_of(w, holder) ? holder : outdated);
		return EBADMSG;
	}
	w->epoch = epoch;
	snprintf(w->holder, sizeof(w->holder), "%s", holder);
	snprintf(w->outdated, sizeof(w->outdated), "%s", outdated);
	w->outdated_off = outdated[0] ? off : 0;
	return 0;
}

int wit_state_save(struct wit_state *w, const char *dir)
{
	char path[4096], tmp[4096];
	int fd, e = 0, n;
	char buf[3 * CLUSTER_NAME_MAX + 96];

	if ((e = path_of(path, sizeof(path), dir, "witness.state")) ||
	    (e = path_of(tmp, sizeof(tmp), dir, "witness.state.tmp")))
		return e;
	n = snprintf(buf, sizeof(buf), "epoch %" PRIu64 "\nholder %s\noutdated %s %" PRIu64 "\n",
		     w->epoch, w->holder[0] ? w->holder : "-",
		     w->outdated[0] ? w->outdated : "-", w->outdated_off);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return errno;
	if (write(fd, buf, (size_t)n) != n || fsync(fd))
		e = errno ? errno : EIO;
	if (close(fd) && !e)
		e = errno;
	if (!e && rename(tmp, path))
		e = errno;
	if (!e && (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd))
			e = errno;
		close(fd);
	}
	if (!e)
		w->dirty = false;
	return e;
}
