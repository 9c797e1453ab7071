/**
 * @file jnl.c  Journal segments on disk (jnl.h, docs/design/cluster.md 2.4).
 *
 * Segment file DIR/<replid>-<start>.jnl: a 64-byte header
 *
 *   0 "TNDJ" | 4 u16 version | 6 u16 header length (64) | 8 replid[40] |
 *   48 u64 start offset | 56 u32 seq | 60 u32 crc32c of bytes 0..59
 *
 * then the stream's bytes from `start`, whole turns only: a turn is written
 * by one writev and never split across segments, so every segment starts
 * at a turn boundary. `seq` grows by one per segment created and orders
 * two empty segments at one offset (a crash between creating a segment and
 * removing the empty one it replaces).
 *
 * Invariants after jnl_open(): segments are sorted and contiguous
 * (start[i] + len[i] == start[i + 1]), every byte of every segment decodes
 * into whole turns, the last segment is open for appending, and head =
 * start + len of the last one.
 *
 * Crash safety: an append either reaches the file whole or is cut back by
 * ftruncate; a crash inside the writev leaves a torn turn at the end of the
 * last segment, which jnl_open() cuts off (the turn was never committed to
 * the stores nor acknowledged). Anything else that does not decode is
 * damage we must not paper over: jnl_open() fails naming file and offset.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "core/log.h"
#include "ha/crc32c.h"
#include "ha/jnl.h"

#define SCAN_BLOCK  (1u << 20)
#define TURN_LIMIT  (256u << 20)    /* a turn larger than this is damage */

struct seg {
	char replid[JNL_REPLID_LEN + 1];
	uint64_t start;
	uint64_t len;            /* stream bytes after the header */
	uint32_t seq;
};

struct jnl {
	char *dir;
	int dirfd;
	struct jnl_opts o;
	struct seg *segs;
	size_t nsegs, cap;
	int fd;                  /* last segment, O_APPEND; -1 before the first */
	char replid[JNL_REPLID_LEN + 1];
	bool shift_pending;      /* next append opens a segment for replid */
	uint64_t floor;
	uint64_t bare_head;      /* head while there is no segment (failed reset) */
};

struct jnl_reader {
	struct jnl *j;
	uint64_t off;            /* next turn */
	int fd;
	uint64_t fd_start;       /* segment fd reads */
	uint8_t *buf;            /* bytes [base, base + blen) of the stream */
	size_t blen, bcap;
	uint64_t base;
};

/* ---------------------------------------------------------- helpers */

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool is_replid(const char *s)
{
	size_t i;

	for (i = 0; i < JNL_REPLID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0' || s[i] == '-';
}

int jnl_replid_new(char out[JNL_REPLID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[JNL_REPLID_LEN / 2];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return EIO;
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[JNL_REPLID_LEN] = '\0';
	return 0;
}

int64_t jnl_now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void seg_name(char *buf, size_t size, const struct seg *s)
{
	snprintf(buf, size, "%s-%" PRIu64 ".jnl", s->replid, s->start);
}

/* Path for messages: DIR/NAME. */
static void seg_path(char *buf, size_t size, const struct jnl *j, const struct seg *s)
{
	char n[96];

	seg_name(n, sizeof(n), s);
	snprintf(buf, size, "%s/%s", j->dir, n);
}

static int seg_open(const struct jnl *j, const struct seg *s, int flags)
{
	char n[96];

	seg_name(n, sizeof(n), s);
	return openat(j->dirfd, n, flags | O_CLOEXEC, 0600);
}

static void header_build(uint8_t h[JNL_SEG_HDR], const struct seg *s)
{
	memset(h, 0, JNL_SEG_HDR);
	memcpy(h, "TNDJ", 4);
	h[4] = JNL_VERSION;
	h[6] = JNL_SEG_HDR;
	memcpy(h + 8, s->replid, JNL_REPLID_LEN);
	for (int i = 0; i < 8; i++)
		h[48 + i] = (uint8_t)(s->start >> (8 * i));
	wr32(h + 56, s->seq);
	wr32(h + 60, crc32c(0, h, 60));
}

/* Check a header against the segment's name; fills s->seq. */
static bool header_ok(const uint8_t h[JNL_SEG_HDR], struct seg *s)
{
	if (memcmp(h, "TNDJ", 4) || h[4] != JNL_VERSION || h[5] || h[6] != JNL_SEG_HDR ||
	    h[7] || crc32c(0, h, 60) != rd32(h + 60) ||
	    memcmp(h + 8, s->replid, JNL_REPLID_LEN) || rd64(h + 48) != s->start)
		return false;
	s->seq = rd32(h + 56);
	return true;
}

static int segs_push(struct jnl *j, const struct seg *s)
{
	if (j->nsegs == j->cap) {
		size_t n = j->cap ? j->cap * 2 : 16;
		struct seg *p = realloc(j->segs, n * sizeof(*p));
		if (!p)
			return ENOMEM;
		j->segs = p;
		j->cap = n;
	}
	j->segs[j->nsegs++] = *s;
	return 0;
}

static void segs_drop(struct jnl *j, size_t i)
{
	memmove(j->segs + i, j->segs + i + 1, (j->nsegs - i - 1) * sizeof(*j->segs));
	j->nsegs--;
}

static void seg_unlink(struct jnl *j, size_t i, const char *why)
{
	char n[96];

	seg_name(n, sizeof(n), &j->segs[i]);
	if (unlinkat(j->dirfd, n, 0) < 0 && errno != ENOENT)
		log_warn("journal: %s/%s: cannot remove: %s", j->dir, n, strerror(errno));
	else
		log_info("journal: %s/%s removed (%s)", j->dir, n, why);
	segs_drop(j, i);
}

/* ------------------------------------------------------------ create */

/* Create the segment (replid, head) and make it the one appended to; an
 * empty segment it replaces at the same offset goes. */
static int seg_create(struct jnl *j, const char *replid, uint64_t start)
{
	struct seg s = { .start = start, .seq = j->nsegs ? j->segs[j->nsegs - 1].seq + 1 : 0 };
	uint8_t h[JNL_SEG_HDR];
	char path[PATH_MAX];
	int fd, e;

	memcpy(s.replid, replid, JNL_REPLID_LEN + 1);
	seg_path(path, sizeof(path), j, &s);
	fd = seg_open(j, &s, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
	if (fd < 0) {
		e = errno;
		log_error("journal: %s: cannot create: %s", path, strerror(e));
		return e;
	}
	header_build(h, &s);
	errno = 0;
	if (write(fd, h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    (j->o.fsync && (fdatasync(fd) < 0 || fsync(j->dirfd) < 0))) {
		e = errno ? errno : EIO;
		log_error("journal: %s: cannot write the header: %s", path, strerror(e));
		close(fd);
		unlinkat(j->dirfd, path + strlen(j->dir) + 1, 0);
		return e;
	}
	if ((e = segs_push(j, &s))) {
		close(fd);
		return e;
	}
	if (j->fd >= 0)
		close(j->fd);
	j->fd = fd;
	if (j->nsegs >= 2 && j->segs[j->nsegs - 2].len == 0 &&
	    j->segs[j->nsegs - 2].start == start)
		seg_unlink(j, j->nsegs - 2, "empty, replaced");
	return 0;
}

/* ------------------------------------------------------------ retention */

static void retain(struct jnl *j)
{
	uint64_t head = jnl_head(j);
	uint64_t keep = head > j->o.backlog ? head - j->o.backlog : 0;

	if (j->floor != UINT64_MAX && j->floor < keep && head - j->floor <= j->o.backlog_max)
		keep = j->floor;
	while (j->nsegs > 1 && j->segs[1].start <= keep)
		seg_unlink(j, 0, "past the backlog");
}

void jnl_set_floor(struct jnl *j, uint64_t floor)
{
	j->floor = floor;
	retain(j);
}

/* --------------------------------------------------------------- scan */

/* True when every byte of fd from pos to its end is zero (what a crash can
 * leave where the file grew but the data never reached the disk). */
static bool zeros_from(int fd, uint64_t pos)
{
	uint8_t b[4096];
	ssize_t n;

	while ((n = pread(fd, b, sizeof(b), (off_t)pos)) > 0) {
		for (ssize_t k = 0; k < n; k++)
			if (b[k])
				return false;
		pos += (uint64_t)n;
	}
	return n == 0;
}

/*
 * Walk the turns of segment i. Damage is EBADMSG with err filled. On the
 * last segment a torn turn at the end (a partial entry or entries without
 * their TURN, or zeros a crash left) is cut off.
 */
static int seg_scan(struct jnl *j, size_t i, char *err, size_t errsize)
{
	struct seg *s = &j->segs[i];
	bool last = i + 1 == j->nsegs;
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t cap = SCAN_BLOCK, have = 0, pos = 0, used;
	uint64_t done = 0;      /* stream bytes of s checked */
	bool eof = false;
	int fd, rc = 0;

	seg_path(path, sizeof(path), j, s);
	if ((fd = seg_open(j, s, O_RDONLY)) < 0) {
		rc = errno;
		snprintf(err, errsize, "%s: %s", path, strerror(rc));
		return rc;
	}
	if (!(buf = malloc(cap))) {
		close(fd);
		return ENOMEM;
	}
	while (done < s->len || have > pos) {
		rc = jnl_turn_check(buf + pos, have - pos, &used, NULL);
		if (rc == 0) {
			pos += used;
			done += used;
			continue;
		}
		if (rc == EAGAIN && !eof) {
			/* keep the partial turn, read more behind it */
			memmove(buf, buf + pos, have - pos);
			have -= pos;
			pos = 0;
			if (have == cap) {
				uint8_t *p;
				if (cap >= TURN_LIMIT || !(p = realloc(buf, cap * 2))) {
					rc = EBADMSG;
					break;
				}
				buf = p;
				cap *= 2;
			}
			uint64_t left = s->len - done - have;
			size_t want = left < cap - have ? (size_t)left : cap - have;
			ssize_t n = want ? pread(fd, buf + have, want,
						 (off_t)(JNL_SEG_HDR + done + have)) : 0;
			if (n < 0) {
				rc = errno;
				snprintf(err, errsize, "%s: %s", path, strerror(rc));
				goto out;
			}
			if (n == 0 || (uint64_t)n == left)
				eof = true;
			have += (size_t)n;
			rc = 0;
			continue;
		}
		break;
	}
	if (rc == 0)
		goto out;
	if (last && ((rc == EAGAIN && eof) || zeros_from(fd, JNL_SEG_HDR + done))) {
		int wfd = seg_open(j, s, O_WRONLY);
		if (wfd < 0 || ftruncate(wfd, (off_t)(JNL_SEG_HDR + done)) < 0) {
			rc = errno;
			snprintf(err, errsize, "%s: cannot cut a torn turn: %s", path,
				 strerror(rc));
			if (wfd >= 0)
				close(wfd);
			goto out;
		}
		close(wfd);
		log_warn("journal: %s: cut a turn torn by a crash: %" PRIu64 " bytes at "
			 "offset %" PRIu64 " (byte %" PRIu64 " of the file)", path,
			 s->len - done, s->start + done, JNL_SEG_HDR + done);
		s->len = done;
		rc = 0;
		goto out;
	}
	snprintf(err, errsize, "%s: at byte %" PRIu64 " (offset %" PRIu64 "): %s", path,
		 JNL_SEG_HDR + done, s->start + done,
		 rc == EAGAIN ? "turn cut short before the next segment"
			      : "entry or turn does not decode");
	rc = EBADMSG;
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- open */

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read the directory: every well-named segment with a good header. */
static int list_segs(struct jnl *j, char *err, size_t errsize)
{
	DIR *d;
	struct dirent *de;
	int dfd, rc = 0;

	if ((dfd = dup(j->dirfd)) < 0 || !(d = fdopendir(dfd))) {
		rc = errno;
		if (dfd >= 0)
			close(dfd);
		snprintf(err, errsize, "%s: %s", j->dir, strerror(rc));
		return rc;
	}
	rewinddir(d);
	while (!rc && (de = readdir(d))) {
		struct seg s = { 0 };
		const char *n = de->d_name;
		char *end, path[PATH_MAX];
		uint8_t h[JNL_SEG_HDR];
		struct stat st;
		int fd;

		size_t nl = strlen(n);
		if (nl < JNL_REPLID_LEN + 6 || strcmp(n + nl - 4, ".jnl") || !is_replid(n) ||
		    n[JNL_REPLID_LEN] != '-' || n[JNL_REPLID_LEN + 1] < '0' ||
		    n[JNL_REPLID_LEN + 1] > '9')
			continue;
		memcpy(s.replid, n, JNL_REPLID_LEN);
		errno = 0;
		s.start = strtoull(n + JNL_REPLID_LEN + 1, &end, 10);
		if (errno || strcmp(end, ".jnl"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", j->dir, n);
		if ((fd = openat(j->dirfd, n, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
			rc = errno;
			snprintf(err, errsize, "%s: %s", path, strerror(rc));
		} else if (st.st_size < (off_t)JNL_SEG_HDR ||
			   pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
			   !header_ok(h, &s)) {
			/* a segment whose creation a crash cut short: no data in it */
			if (st.st_size <= (off_t)JNL_SEG_HDR) {
				log_warn("journal: %s: removed, its header was torn by a crash", path);
				unlinkat(j->dirfd, n, 0);
			} else {
				snprintf(err, errsize, "%s: bad segment header", path);
				rc = EBADMSG;
			}
		} else {
			s.len = (uint64_t)st.st_size - JNL_SEG_HDR;
			rc = segs_push(j, &s);
		}
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	if (!rc && j->nsegs)
		qsort(j->segs, j->nsegs, sizeof(*j->segs), cmp_seg);
	return rc;
}

/* Empty segments superseded at their offset go; then no gap, no overlap. */
static int check_chain(struct jnl *j, char *err, size_t errsize)
{
	char a[PATH_MAX], b[PATH_MAX];

	for (size_t i = 0; i + 1 < j->nsegs;) {
		struct seg *s = &j->segs[i], *t = &j->segs[i + 1];
		if (s->len == 0 && s->start == t->start) {
			seg_unlink(j, i, "empty, replaced");
			continue;
		}
		if (s->start + s->len != t->start) {
			seg_path(a, sizeof(a), j, s);
			seg_path(b, sizeof(b), j, t);
			snprintf(err, errsize, "%s: ends at offset %" PRIu64 " but the next "
				 "segment %s starts at %" PRIu64, a, s->start + s->len, b, t->start);
			return EBADMSG;
		}
		i++;
	}
	return 0;
}

int jnl_open(struct jnl **jp, const char *dir, const struct jnl_opts *opts,
	     char *err, size_t errsize)
{
	struct jnl *j;
	int rc;

	if (!(j = calloc(1, sizeof(*j))) || !(j->dir = strdup(dir))) {
		free(j);
		return ENOMEM;
	}
	j->fd = -1;
	j->floor = UINT64_MAX;
	if (opts)
		j->o = *opts;
	if (!j->o.backlog)
		j->o.backlog = 256ull << 20;
	if (!j->o.backlog_max)
		j->o.backlog_max = 2048ull << 20;
	if (!j->o.seg_size)
		j->o.seg_size = JNL_SEG_SIZE;
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    (j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = errno;
		snprintf(err, errsize, "%s: %s", dir, strerror(rc));
		free(j->dir);
		free(j);
		return rc;
	}
	if ((rc = list_segs(j, err, errsize)) || (rc = check_chain(j, err, errsize)))
		goto fail;
	for (size_t i = 0; i < j->nsegs; i++)
		if ((rc = seg_scan(j, i, err, errsize)))
			goto fail;
	if (j->nsegs) {
		struct seg *l = &j->segs[j->nsegs - 1];
		memcpy(j->replid, l->replid, sizeof(j->replid));
		if ((j->fd = seg_open(j, l, O_WRONLY | O_APPEND)) < 0) {
			rc = errno;
			seg_path(err, errsize, j, l);
			goto fail;
		}
	} else {
		if ((rc = jnl_replid_new(j->replid)) || (rc = seg_create(j, j->replid, 0))) {
			snprintf(err, errsize, "%s: cannot start a journal: %s", dir, strerror(rc));
			goto fail;
		}
	}
	retain(j);
	*jp = j;
	return 0;
fail:
	jnl_close(j);
	return rc;
}

void jnl_close(struct jnl *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->segs);
	free(j->dir);
	free(j);
}

const char *jnl_replid(const struct jnl *j) { return j->replid; }
size_t jnl_segments(const struct jnl *j) { return j->nsegs; }

uint64_t jnl_head(const struct jnl *j)
{
	const struct seg *l;

	if (!j->nsegs)
		return j->bare_head;
	l = &j->segs[j->nsegs - 1];
	return l->start + l->len;
}

uint64_t jnl_first(const struct jnl *j)
{
	return j->nsegs ? j->segs[0].start : j->bare_head;
}

bool jnl_covers(const struct jnl *j, uint64_t off)
{
	return off >= jnl_first(j) && off <= jnl_head(j);
}

/* -------------------------------------------------------------- append */

int jnl_append(struct jnl *j, const struct iovec *iov, int iovcnt, uint64_t *end)
{
	struct iovec v[64];
	struct seg *l;
	uint64_t total = 0, before;
	char path[PATH_MAX];
	int n = 0, rc;

	if (iovcnt < 0 || iovcnt > (int)(sizeof(v) / sizeof(*v)))
		return EINVAL;
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len) {
			v[n++] = iov[i];
			total += iov[i].iov_len;
		}
	if (!total) {
		if (end)
			*end = jnl_head(j);
		return 0;
	}
	l = j->nsegs ? &j->segs[j->nsegs - 1] : NULL;
	if (!l || j->shift_pending || (l->len && l->len + total > j->o.seg_size)) {
		if ((rc = seg_create(j, j->replid, jnl_head(j))))
			return rc;
		j->shift_pending = false;
		retain(j);
		l = &j->segs[j->nsegs - 1];
	}
	before = l->len;
	for (int i = 0; i < n;) {
		ssize_t w = writev(j->fd, v + i, n - i);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? errno : EIO;
			goto fail;
		}
		while (i < n && (size_t)w >= v[i].iov_len)
			w -= (ssize_t)v[i++].iov_len;
		if (i < n) {
			v[i].iov_base = (char *)v[i].iov_base + w;
			v[i].iov_len -= (size_t)w;
		}
	}
	if (j->o.fsync && fdatasync(j->fd) < 0) {
		rc = errno;
		goto fail;
	}
	l->len += total;
	if (end)
		*end = jnl_head(j);
	return 0;
fail:
	seg_path(path, sizeof(path), j, l);
	if (ftruncate(j->fd, (off_t)(JNL_SEG_HDR + before)) < 0)
		log_error("journal: %s: write failed (%s) and cutting it back failed (%s): "
			  "the next start cuts the torn turn", path, strerror(rc),
			  strerror(errno));
	else
		log_error("journal: %s: write failed at offset %" PRIu64 ": %s; turn not "
			  "written", path, l->start + before, strerror(rc));
	return rc;
}

int jnl_shift(struct jnl *j, const char *new_replid)
{
	if (!is_replid(new_replid) || new_replid[JNL_REPLID_LEN] ||
	    !strcmp(new_replid, j->replid))
		return EINVAL;
	memcpy(j->replid, new_replid, JNL_REPLID_LEN + 1);
	j->shift_pending = true;
	return 0;
}

int jnl_reset(struct jnl *j, const char *replid, uint64_t offset)
{
	int rc;

	if (!is_replid(replid) || replid[JNL_REPLID_LEN])
		return EINVAL;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	while (j->nsegs)
		seg_unlink(j, 0, "full resync");
	j->bare_head = offset;
	memcpy(j->replid, replid, JNL_REPLID_LEN + 1);
	j->shift_pending = false;
	if ((rc = seg_create(j, replid, offset)))
		return rc;
	return 0;
}

/* --------------------------------------------------------------- reader */

/* Index of the segment holding offset off (the last one for the head). */
static bool seg_find(const struct jnl *j, uint64_t off, size_t *idx)
{
	for (size_t i = j->nsegs; i-- > 0;)
		if (off >= j->segs[i].start &&
		    (off < j->segs[i].start + j->segs[i].len || i + 1 == j->nsegs)) {
			*idx = i;
			return off <= j->segs[i].start + j->segs[i].len;
		}
	return false;
}

uint64_t jnl_reader_offset(const struct jnl_reader *r)
{
	return r->off;
}

int jnl_reader_next(struct jnl_reader *r, const uint8_t **buf, size_t *len)
{
	struct jnl *j = r->j;
	char path[PATH_MAX];
	size_t i, used;
	const struct seg *s;
	int rc;

	if (r->off >= jnl_head(j))
		return ENODATA;
	if (!seg_find(j, r->off, &i))
		return ESTALE;
	s = &j->segs[i];
	if (r->fd < 0 || r->fd_start != s->start) {
		if (r->fd >= 0)
			close(r->fd);
		if ((r->fd = seg_open(j, s, O_RDONLY)) < 0)
			return ESTALE;
		r->fd_start = s->start;
		r->blen = 0;
		r->base = r->off;
	}
	if (r->off < r->base || r->off > r->base + r->blen) {
		r->blen = 0;
		r->base = r->off;
	}
	for (;;) {
		size_t at = (size_t)(r->off - r->base);
		rc = jnl_turn_check(r->buf + at, r->blen - at, &used, NULL);
		if (rc == 0)
			break;
		uint64_t have_end = r->base + r->blen, seg_end = s->start + s->len;
		if (rc != EAGAIN || have_end >= seg_end || r->blen - at >= TURN_LIMIT) {
			seg_path(path, sizeof(path), j, s);
			log_error("journal: %s: turn at offset %" PRIu64 " does not decode",
				  path, r->off);
			return EBADMSG;
		}
		/* keep the partial turn at the front, read up to 1 MiB more */
		if (at)
			memmove(r->buf, r->buf + at, r->blen - at);
		r->blen -= at;
		r->base = r->off;
		if (r->bcap - r->blen < SCAN_BLOCK) {
			size_t n = r->bcap ? r->bcap * 2 : SCAN_BLOCK * 2;
			uint8_t *p = realloc(r->buf, n);
			if (!p)
				return ENOMEM;
			r->buf = p;
			r->bcap = n;
		}
		uint64_t want = seg_end - have_end;
		if (want > r->bcap - r->blen)
			want = r->bcap - r->blen;
		ssize_t n = pread(r->fd, r->buf + r->blen, (size_t)want,
				  (off_t)(JNL_SEG_HDR + have_end - s->start));
		if (n <= 0)
			return n < 0 ? errno : EBADMSG;
		r->blen += (size_t)n;
	}
	*buf = r->buf + (r->off - r->base);
	*len = used;
	r->off += used;
	return 0;
}

int jnl_reader_open(struct jnl_reader **rp, struct jnl *j, uint64_t off)
{
	struct jnl_reader *r;
	const uint8_t *b;
	size_t i, l;
	int rc;

	if (!jnl_covers(j, off))
		return ERANGE;
	if (!(r = calloc(1, sizeof(*r))) || !(r->buf = malloc(SCAN_BLOCK * 2))) {
		free(r);
		return ENOMEM;
	}
	r->bcap = SCAN_BLOCK * 2;
	r->j = j;
	r->fd = -1;
	/* segments start at turn boundaries: walk from there to off */
	r->off = off;
	if (off != jnl_head(j) && seg_find(j, off, &i))
		r->off = j->segs[i].start;
	while (r->off < off) {
		if ((rc = jnl_reader_next(r, &b, &l))) {
			jnl_reader_close(r);
			return rc;
		}
	}
	if (r->off != off) {
		jnl_reader_close(r);
		return EINVAL;
	}
	*rp = r;
	return 0;
}

void jnl_reader_close(struct jnl_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r);
}
