/**
 * @file merge_files.c  The loser's files merged on the winner (merge.h;
 * docs/design/cluster.md 7).
 *
 * A FILE_BEGIN is received under a hidden staging name in the same
 * directory ("." names are ignored by the watcher and by admins' ls), the
 * usual way (file_apply.c: sha256 checked, renamed at FILE_END); then the
 * staged file is placed by the area's rule and recorded with
 * ha_file_put() so the loser gets it back:
 *  - voicemail msgNNNN.*: the first file of a message decides for all of
 *    its files: free number -> kept; the same content there -> the same
 *    message (nothing to do); other content -> the next free number;
 *  - other voicemail files (greetings), CONFDIR, sounds, provisioning:
 *    last writer by mtime; CONFDIR, sounds and provisioning keep the older
 *    copy as NAME.conflict-<node>-<unix time>;
 *  - monitor (recordings): other content under the same name -> the
 *    loser's copy gets "-<node>" before its extension.
 * Deletes and renames apply unless the winner changed the file after the
 * loser did (mtime); a message renumbered here is deleted or moved under
 * its new number.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/log.h"
#include "ha/file.h"
#include "ha/file_int.h"
#include "ha/merge.h"

#define REL (JNL_RELPATH_MAX + 1)

struct staged {                 /* a file being received */
	uint32_t xfer;
	uint8_t area;
	int64_t mtime_ns;
	uint64_t size;
	char rel[REL], stage[REL];
	struct staged *next;
};

struct msgmap {                 /* a voicemail message's number here */
	uint8_t area;
	char dir[REL];
	int from, to;
	struct msgmap *next;
};

static struct staged *staged;
static struct msgmap *msgs;
static bool conf_changed;

/* ------------------------------------------------------------ helpers */

static int stat_rel(uint8_t area, const char *rel, struct stat *st)
{
	char base[256];
	int dfd = ha_file_open_parent(area, rel, base, sizeof(base)), e = 0;

	if (dfd < 0)
		return errno;
	if (fstatat(dfd, base, st, AT_SYMLINK_NOFOLLOW) < 0)
		e = errno;
	else if (!S_ISREG(st->st_mode))
		e = EISDIR;
	close(dfd);
	return e;
}

static bool same_sha(uint8_t area, const char *rel, const uint8_t sha[JNL_SHA256_LEN])
{
	char base[256];
	uint8_t buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	ssize_t r;
	int dfd = ha_file_open_parent(area, rel, base, sizeof(base)), fd;
	EVP_MD_CTX *c;

	if (dfd < 0)
		return false;
	fd = ha_file_openat2(dfd, base, O_RDONLY, 0);
	close(dfd);
	if (fd < 0)
		return false;
	if (!(c = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c);
		close(fd);
		return false;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(c, buf, (size_t)r);
	EVP_DigestFinal_ex(c, md, &n);
	EVP_MD_CTX_free(c);
	close(fd);
	return r == 0 && n == JNL_SHA256_LEN && !memcmp(md, sha, JNL_SHA256_LEN);
}

/* Record the placed file for the standby (the loser, after its resync). */
static void record(uint8_t area, const char *rel)
{
	char path[PATH_MAX + REL];

	snprintf(path, sizeof(path), "%s/%s", ha_file_roots.root[area], rel);
	ha_file_put((enum jnl_area)area, rel, path);
	if (area == JNL_AREA_CONFDIR)
		conf_changed = true;
}

/* The directory dir (dirlen bytes, with its '/') beneath the area's root,
 * for readdir; NULL when it cannot be opened. */
static DIR *open_dir(uint8_t area, const char *dir, size_t dirlen)
{
	char rel[REL], base[256];
	int dfd, fd;
	DIR *d;

	snprintf(rel, sizeof(rel), "%.*sx", (int)dirlen, dir);
	if ((dfd = ha_file_open_parent(area, rel, base, sizeof(base))) < 0)
		return NULL;
	fd = ha_file_openat2(dfd, ".", O_RDONLY | O_DIRECTORY, 0);
	close(dfd);
	if (fd < 0)
		return NULL;
	if (!(d = fdopendir(fd)))
		close(fd);
	return d;
}

/* Highest msgNNNN number in dir (as found on disk and given out by this
 * merge), -1 when none. */
static int max_msg(uint8_t area, const char *dir, size_t dirlen)
{
	int best = -1;
	DIR *d;
	struct dirent *de;

	for (const struct msgmap *m = msgs; m; m = m->next)
		if (m->area == area && strlen(m->dir) == dirlen && !memcmp(m->dir, dir, dirlen) &&
		    m->to > best)
			best = m->to;
	if (!(d = open_dir(area, dir, dirlen)))
		return best;
	while ((de = readdir(d))) {
		size_t dl;
		const char *ext;
		int n = merge_msgnum(de->d_name, &dl, &ext);

		if (n > best)
			best = n;
	}
	closedir(d);
	return best;
}

/* A message file in dir with extension ext, size bytes and this sha256
 * (the same message merged before, under another number): its number, or
 * -1. Files of another size are not read. */
static int same_msg(uint8_t area, const char *dir, size_t dirlen, const char *ext,
		    uint64_t size, const uint8_t sha[JNL_SHA256_LEN])
{
	char rel[REL];
	int found = -1;
	DIR *d = open_dir(area, dir, dirlen);
	struct dirent *de;
	struct stat st;

	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		size_t dl;
		const char *e;
		int n = merge_msgnum(de->d_name, &dl, &e);

		if (n < 0 || strcmp(e, ext) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
			continue;
		snprintf(rel, sizeof(rel), "%.*s%s", (int)dirlen, dir, de->d_name);
		if (same_sha(area, rel, sha))
			found = n;
	}
	closedir(d);
	return found;
}

static struct msgmap *msg_find(uint8_t area, const char *dir, size_t dirlen, int from)
{
	for (struct msgmap *m = msgs; m; m = m->next)
		if (m->area == area && m->from == from && strlen(m->dir) == dirlen &&
		    !memcmp(m->dir, dir, dirlen))
			return m;
	return NULL;
}

static struct msgmap *msg_add(uint8_t area, const char *dir, size_t dirlen, int from, int to)
{
	struct msgmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->area = area;
	snprintf(m->dir, sizeof(m->dir), "%.*s", (int)dirlen, dir);
	m->from = from;
	m->to = to;
	m->next = msgs;
	msgs = m;
	return m;
}

/* rel with a voicemail message renumbered by this merge, in out. */
static const char *mapped(uint8_t area, const char *rel, char *out, size_t size)
{
	size_t dl;
	const char *ext;
	int n = area == JNL_AREA_VOICEMAIL ? merge_msgnum(rel, &dl, &ext) : -1;
	const struct msgmap *m = n >= 0 ? msg_find(area, rel, dl, n) : NULL;

	if (!m || m->to == n)
		return rel;
	snprintf(out, size, "%.*smsg%04d%s", (int)dl, rel, m->to, ext);
	return out;
}

/* ------------------------------------------------------------ placing */

static int place(struct staged *s, const uint8_t sha[JNL_SHA256_LEN], const char *peer,
		 struct merge_stats *st)
{
	char target[REL], other[REL];
	struct stat here;
	size_t dl;
	const char *ext;
	int n = s->area == JNL_AREA_VOICEMAIL ? merge_msgnum(s->rel, &dl, &ext) : -1, e;
	bool exists;

	snprintf(target, sizeof(target), "%s", mapped(s->area, s->rel, other, sizeof(other)));
	exists = !stat_rel(s->area, target, &here);
	if (exists && same_sha(s->area, target, sha)) {
		if (n >= 0 && !msg_find(s->area, s->rel, dl, n))
			msg_add(s->area, s->rel, dl, n, n);     /* the same message */
		return ha_file_unlink_rel(s->area, s->stage);        /* merged before */
	}
	if (n >= 0 && !msg_find(s->area, s->rel, dl, n)) {
		int to = exists ? same_msg(s->area, s->rel, dl, ext, s->size, sha) : n;

		if (to >= 0 && to != n) {       /* merged before, renumbered then */
			if (!msg_add(s->area, s->rel, dl, n, to))
				return ENOMEM;
			return ha_file_unlink_rel(s->area, s->stage);
		}
		if (to < 0)
			to = max_msg(s->area, s->rel, dl) + 1;
		if (!msg_add(s->area, s->rel, dl, n, to))
			return ENOMEM;
		if (to != n) {
			st->renumbered++;
			snprintf(target, sizeof(target), "%.*smsg%04d%s", (int)dl, s->rel, to, ext);
			log_notice("cluster: merge: voicemail %.*smsg%04d from %s is msg%04d here "
				   "(this node has another message under that number)", (int)dl,
				   s->rel, n, peer, to);
			exists = !stat_rel(s->area, target, &here);
		}
	}
	if (exists && s->area == JNL_AREA_MONITOR) {
		if ((e = merge_suffixed(target, sizeof(target), s->rel, peer)))
			return e;
		st->conflicts++;
	} else if (exists) {
		int64_t mine = (int64_t)here.st_mtim.tv_sec * 1000000000 + here.st_mtim.tv_nsec;
		bool keep_mine = mine > s->mtime_ns;

		if (s->area == JNL_AREA_VOICEMAIL) {
			if (keep_mine)
				return ha_file_unlink_rel(s->area, s->stage);
		} else {
			const char *who = keep_mine ? peer : ha_node();
			int64_t when = (keep_mine ? s->mtime_ns : mine) / 1000000000;

			if ((e = merge_conflict_name(other, sizeof(other), target, who, when)))
				return e;
			st->conflicts++;
			log_warn("cluster: merge: %s/%s was changed on both nodes: %s's (newer) is "
				 "kept, the other as %s", ha_file_area_name(s->area), target,
				 keep_mine ? ha_node() : peer, other);
			if (keep_mine) {
				snprintf(target, sizeof(target), "%s", other);
			} else {
				if ((e = ha_file_rename_rel(s->area, target, other)))
					return e;
				record(s->area, other);
			}
		}
	}
	if ((e = ha_file_rename_rel(s->area, s->stage, target)))
		return e;
	st->files++;
	record(s->area, target);
	return 0;
}

/* ------------------------------------------------------------ entries */

static struct staged **find(uint32_t xfer)
{
	struct staged **p = &staged;

	while (*p && (*p)->xfer != xfer)
		p = &(*p)->next;
	return p;
}

static int begin(const struct jnl_entry *e)
{
	const struct jnl_file_begin *b = &e->u.fbegin;
	struct staged *s = calloc(1, sizeof(*s));
	struct jnl_entry t = *e;
	const char *base;
	int rc;

	if (!s)
		return ENOMEM;
	s->xfer = b->xfer;
	s->area = b->area;
	s->mtime_ns = b->mtime_ns;
	s->size = b->size;
	snprintf(s->rel, sizeof(s->rel), "%.*s", (int)b->relpath.l, b->relpath.p);
	base = strrchr(s->rel, '/');
	base = base ? base + 1 : s->rel;
	if (snprintf(s->stage, sizeof(s->stage), "%.*s.merge-%" PRIu32 "-%s",
		     (int)(base - s->rel), s->rel, b->xfer, base) >= (int)sizeof(s->stage)) {
		free(s);
		return ENAMETOOLONG;
	}
	t.u.fbegin.relpath = (struct pl){ s->stage, strlen(s->stage) };
	if ((rc = ha_file_apply(&t, HA_APPLY_REMOTE))) {
		free(s);
		return rc;
	}
	struct staged **old = find(b->xfer);
	if (*old) {
		struct staged *o = *old;
		*old = o->next;
		free(o);
	}
	s->next = staged;
	staged = s;
	return 0;
}

static int end(const struct jnl_entry *e, const char *peer, struct merge_stats *st)
{
	struct staged **p = find(e->u.fend.xfer), *s = *p;
	int rc = ha_file_apply(e, HA_APPLY_REMOTE);

	if (!s)
		return rc;
	*p = s->next;
	if (!rc && (rc = place(s, e->u.fend.sha256, peer, st))) {
		log_error("cluster: merge: cannot place %s/%s from %s: %s",
			  ha_file_area_name(s->area), s->rel, peer, strerror(rc));
		ha_file_unlink_rel(s->area, s->stage);
	}
	free(s);
	return rc;
}

/* The winner changed rel after the loser's change at ts_us? */
static bool newer_here(uint8_t area, const char *rel, int64_t ts_us)
{
	struct stat here;

	return !stat_rel(area, rel, &here) &&
	       (int64_t)here.st_mtim.tv_sec * 1000000 + here.st_mtim.tv_nsec / 1000 > ts_us;
}

static int del(const struct jnl_entry *e, struct merge_stats *st)
{
	char rel[REL], buf[REL];
	const char *r;
	struct stat here;
	int rc;

	snprintf(rel, sizeof(rel), "%.*s", (int)e->u.fdel.relpath.l, e->u.fdel.relpath.p);
	r = mapped(e->u.fdel.area, rel, buf, sizeof(buf));
	if (stat_rel(e->u.fdel.area, r, &here) || newer_here(e->u.fdel.area, r, e->ts_us)) {
		st->skipped++;
		return 0;
	}
	if ((rc = ha_file_unlink_rel(e->u.fdel.area, r)))
		return rc;
	st->files++;
	ha_file_del((enum jnl_area)e->u.fdel.area, r);
	return 0;
}

static int mv(const struct jnl_entry *e, const char *peer, struct merge_stats *st)
{
	const struct jnl_file_rename *m = &e->u.frename;
	char from[REL], to[REL], b1[REL], b2[REL], target[REL];
	const char *f, *t, *ext;
	struct stat here;
	size_t dl;
	int n, rc;

	snprintf(from, sizeof(from), "%.*s", (int)m->from.l, m->from.p);
	snprintf(to, sizeof(to), "%.*s", (int)m->to.l, m->to.p);
	f = mapped(m->area, from, b1, sizeof(b1));
	t = mapped(m->area, to, b2, sizeof(b2));
	if (stat_rel(m->area, f, &here) || newer_here(m->area, f, e->ts_us)) {
		st->skipped++;
		return 0;
	}
	snprintf(target, sizeof(target), "%s", t);
	if (!stat_rel(m->area, target, &here)) {
		n = m->area == JNL_AREA_VOICEMAIL ? merge_msgnum(to, &dl, &ext) : -1;
		if (n >= 0) {
			struct msgmap *mm = msg_find(m->area, to, dl, n);
			int nn = max_msg(m->area, to, dl) + 1;

			if (mm)
				mm->to = nn;
			else if (!msg_add(m->area, to, dl, n, nn))
				return ENOMEM;
			snprintf(target, sizeof(target), "%.*smsg%04d%s", (int)dl, to, nn, ext);
			st->renumbered++;
		} else if ((rc = merge_conflict_name(target, sizeof(target), t, peer,
						     e->ts_us / 1000000))) {
			return rc;
		} else {
			st->conflicts++;
		}
	}
	if ((rc = ha_file_rename_rel(m->area, f, target)))
		return rc;
	st->files++;
	ha_file_rename((enum jnl_area)m->area, f, target);
	return 0;
}

int merge_file_entry(const struct jnl_entry *e, const char *peer, struct merge_stats *st)
{
	switch (e->type) {
	case JNL_FILE_BEGIN:
		return begin(e);
	case JNL_FILE_CHUNK:
		return find(e->u.fchunk.xfer)[0] ? ha_file_apply(e, HA_APPLY_REMOTE) : 0;
	case JNL_FILE_END:
		return end(e, peer, st);
	case JNL_FILE_DEL:
		return del(e, st);
	case JNL_FILE_RENAME:
		return mv(e, peer, st);
	default:                 /* CONF_APPLY: decided by what was placed */
		return 0;
	}
}

bool merge_files_end(void)
{
	bool conf = conf_changed;

	while (staged) {              /* the tail ended inside a file: drop it */
		struct staged *s = staged;

		staged = s->next;
		ha_file_xfer_drop(s->xfer);
		ha_file_unlink_rel(s->area, s->stage);
		free(s);
	}
	while (msgs) {
		struct msgmap *m = msgs;

		msgs = m->next;
		free(m);
	}
	conf_changed = false;
	return conf;
}
