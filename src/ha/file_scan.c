/**
 * @file file_scan.c  Build a node's file manifest (file_manifest.h) in a
 * thread: walk the five areas and queue_log, sha256 of each file, taken
 * from DATADIR/repl/files.cache when its (size, mtime_ns) did not change
 * (so a second resync does not read gigabytes again), the cache rewritten
 * at the end. Names left out, as file_watch.c does: hidden files, "~"
 * backups, NAME.part (a recording in progress), voicemail's tmp folders,
 * symlinks; NAME.tandem-part (a transfer cut short) is removed when asked
 * (the standby) and left out otherwise. The loop learns the end through
 * an eventfd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ha/file_scan.h"

struct fm_scan {
	pthread_t th;
	int efd;
	atomic_bool stop;
	struct fm_scan_req req;
	struct fm_list cache, out;
	struct fm_scan_stats st;
	int err;
	uint8_t buf[1u << 20];
};

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	return n > k && !memcmp(s + n - k, suf, k);
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* sha256 of the first limit bytes of path (limit < 0: all of it). */
static int hash_file(struct fm_scan *s, const char *path, int64_t limit, uint8_t sha[32],
		     uint64_t *size)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint64_t got = 0;
	unsigned n = 0;
	int fd, e = 0;

	if (!c)
		return ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0 || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		e = fd < 0 ? errno : ENOMEM;
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		size_t want = sizeof(s->buf);
		ssize_t r;

		if (limit >= 0 && (uint64_t)limit - got < want)
			want = (size_t)((uint64_t)limit - got);
		if (!want)
			break;
		if (atomic_load(&s->stop)) {
			e = ECANCELED;
			goto out;
		}
		r = read(fd, s->buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			goto out;
		}
		if (!r)
			break;
		EVP_DigestUpdate(c, s->buf, (size_t)r);
		got += (uint64_t)r;
	}
	EVP_DigestFinal_ex(c, sha, &n);
	*size = got;
	s->st.hashed++;
	s->st.hashed_bytes += got;
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(c);
	return e;
}

static void one_file(struct fm_scan *s, uint8_t area, const char *rel, const char *path,
		     const struct stat *st)
{
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	long c = fm_list_find(&s->cache, area, rel);
	uint8_t sha[32];
	uint64_t size = (uint64_t)st->st_size;
	struct pl pr = jnl_pl(rel);

	if (!jnl_relpath_ok(&pr)) {
		s->st.skipped++;
		return;
	}
	if (c >= 0 && s->cache.v[c].size == size && s->cache.v[c].mtime_ns == mt) {
		memcpy(sha, s->cache.v[c].sha256, 32);
	} else if (hash_file(s, path, -1, sha, &size) ||
		   size != (uint64_t)st->st_size) {   /* gone, or changing: next time */
		s->st.skipped++;
		return;
	}
	if (fm_list_add(&s->out, area, rel, strlen(rel), size, mt, sha))
		s->err = ENOMEM;
	s->st.files++;
	s->st.bytes += size;
}

static void walk(struct fm_scan *s, uint8_t area, const char *rel)
{
	char path[PATH_MAX + 8], sub[JNL_RELPATH_MAX + 2];
	struct dirent *de;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s%s%s", s->req.root[area], *rel ? "/" : "", rel) >=
	    (int)sizeof(path) || !(d = opendir(path)))
		return;
	while (!s->err && !atomic_load(&s->stop) && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char p2[PATH_MAX + 300];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
		    (int)sizeof(sub) - 1 ||
		    snprintf(p2, sizeof(p2), "%s/%s", path, de->d_name) >= (int)sizeof(p2)) {
			s->st.skipped++;
			continue;
		}
		if (lstat(p2, &st) < 0)
			continue;
		if (S_ISREG(st.st_mode) && has_suffix(de->d_name, len, ".tandem-part")) {
			if (s->req.clean_parts && !unlink(p2))
				s->st.parts_removed++;
			continue;
		}
		if (de->d_name[0] == '.' || de->d_name[len - 1] == '~' ||
		    has_suffix(de->d_name, len, ".part"))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (!(area == JNL_AREA_VOICEMAIL && !strcmp(de->d_name, "tmp")))
				walk(s, area, sub);
		} else if (S_ISREG(st.st_mode)) {
			one_file(s, area, sub, p2, &st);
		}
	}
	closedir(d);
}

static void qlog(struct fm_scan *s)
{
	static const uint8_t empty[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
		0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
		0x78, 0x52, 0xb8, 0x55 };
	uint8_t sha[32];
	uint64_t size = 0;
	int e;

	if (!s->req.root[FM_AREA_QLOG][0])
		return;
	e = hash_file(s, s->req.root[FM_AREA_QLOG], s->req.qlog_size, sha, &size);
	if (e == ENOENT) {          /* none: an empty one */
		memcpy(sha, empty, 32);
		size = 0;
	} else if (e) {
		s->err = e;
		return;
	}
	if (fm_list_add(&s->out, FM_AREA_QLOG, "queue_log", 9, size, 0, sha))
		s->err = ENOMEM;
	s->st.files++;
	s->st.bytes += size;
}

/* ------------------------------------------------------------ the cache */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void cache_load(struct fm_scan *s)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if (!s->req.cache[0] || !(f = fopen(s->req.cache, "re")))
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		unsigned area;
		uint64_t size;
		int64_t mt;
		char hex[65];
		int off = 0;
		uint8_t sha[32];
		bool ok = true;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (sscanf(line, "%u\t%" SCNu64 "\t%" SCNd64 "\t%64s\t%n", &area, &size, &mt, hex,
			   &off) != 4 || !off || area >= JNL_AREA_COUNT || strlen(hex) != 64)
			continue;
		for (unsigned i = 0; i < 32 && ok; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

			ok = hi >= 0 && lo >= 0;
			sha[i] = (uint8_t)(hi << 4 | lo);
		}
		if (ok && fm_list_add(&s->cache, (uint8_t)area, line + off, strlen(line + off),
				      size, mt, sha))
			break;
	}
	free(line);
	fclose(f);
	fm_list_sort(&s->cache);
}

static void cache_save(struct fm_scan *s)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	bool ok = true;

	if (!s->req.cache[0] ||
	    snprintf(tmp, sizeof(tmp), "%s.new", s->req.cache) >= (int)sizeof(tmp) ||
	    !(f = fopen(tmp, "we")))
		return;
	for (size_t i = 0; i < s->out.n && ok; i++) {
		const struct fm_entry *x = &s->out.v[i];
		char hex[65];

		if (x->area >= JNL_AREA_COUNT || strpbrk(x->rel, "\t\n"))
			continue;
		for (unsigned k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", x->sha256[k]);
		ok = fprintf(f, "%u\t%" PRIu64 "\t%" PRId64 "\t%s\t%s\n", x->area, x->size,
			     x->mtime_ns, hex, x->rel) > 0;
	}
	if (fclose(f) || !ok || rename(tmp, s->req.cache))
		unlink(tmp);
}

/* ------------------------------------------------------------ the thread */

static void *scan_main(void *arg)
{
	struct fm_scan *s = arg;
	uint64_t one = 1, t0 = mono_us();

	cache_load(s);
	for (uint8_t a = 0; a < JNL_AREA_COUNT && !s->err; a++)
		walk(s, a, "");
	if (!s->err)
		qlog(s);
	if (atomic_load(&s->stop))
		s->err = ECANCELED;
	fm_list_sort(&s->out);
	if (!s->err)
		cache_save(s);
	fm_list_free(&s->cache);
	s->st.secs = (double)(mono_us() - t0) / 1e6;
	if (write(s->efd, &one, sizeof(one)) != sizeof(one) && !s->err)
		s->err = EIO;
	return NULL;
}

int fm_scan_start(struct fm_scan **sp, const struct fm_scan_req *req, fd_h *done, void *arg)
{
	struct fm_scan *s = calloc(1, sizeof(*s));
	int e;

	if (!s)
		return ENOMEM;
	s->req = *req;
	atomic_init(&s->stop, false);
	if ((s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		e = errno;
		free(s);
		return e;
	}
	if ((done && (e = loop_fd_listen(s->efd, EPOLLIN, done, arg))) ||
	    (e = pthread_create(&s->th, NULL, scan_main, s))) {
		loop_fd_forget(s->efd);
		close(s->efd);
		free(s);
		return e;
	}
	*sp = s;
	return 0;
}

int fm_scan_end(struct fm_scan *s, bool cancel, struct fm_list *out, struct fm_scan_stats *st)
{
	int e;

	if (!s)
		return 0;
	if (cancel)
		atomic_store(&s->stop, true);
	pthread_join(s->th, NULL);
	loop_fd_forget(s->efd);
	close(s->efd);
	e = s->err;
	if (st)
		*st = s->st;
	if (out && !e) {
		*out = s->out;
		memset(&s->out, 0, sizeof(s->out));
	}
	fm_list_free(&s->out);
	fm_list_free(&s->cache);
	free(s);
	return e;
}
