/**
 * @file repl_files.c  The files of a full resync (docs/design/cluster.md
 * 3.4 step 4), both ends; repl_full.c calls in.
 *
 * Active: repl_files_out_start() (at FULLRESYNC, the journal's head O)
 * notes queue_log's size and builds the manifest in a thread (file_scan.c)
 * while the databases are copied and sent; once the last SNAP_END is out,
 * repl_files_out_pump() sends it as FILE_LIST frames, waits for the
 * standby's FILE_WANT, then sends each wanted file as FILE_DATA
 * BEGIN/CHUNK.../END (GONE when it vanished meanwhile), read with pread
 * on the loop a bounded amount per turn like SNAP; then repl_full.c sends
 * SYNC_DONE(O).
 * Standby: repl_files_in_start() (at FULLRESYNC) builds its own manifest
 * in a thread (removing *.tandem-part left by a transfer cut short); with
 * the active's complete, it removes the files the active does not have,
 * sends FILE_WANT for those it lacks or holds with another size or
 * sha256, and installs each as a journal FILE_BEGIN/CHUNK/END would be
 * (file_apply.c: opened beneath the area's root, part file, sha256,
 * rename); queue_log, cut at O, replaces DATADIR/queue_log, and the
 * stream from O appends what came after.
 *
 * Why frames and not the journal's FILE_* entries: the manifest
 * describes the active at about O, and what changes after O is in the
 * stream anyway; putting every wanted file into the journal would write
 * gigabytes into the backlog (and to disk) for one standby, and
 * queue_log is no area of the journal. Changes racing the manifest are
 * harmless: a file written or removed after O comes again in the stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "ha/file.h"
#include "ha/file_int.h"
#include "ha/file_scan.h"
#include "ha/repl_int.h"
#include "ha/turn.h"
#include "pbx/queue_log.h"

#define g g_repl
#define XFER_BASE 0xf5000000u      /* FILE_BEGIN ids of the files phase */

static struct {                     /* the active */
	struct fm_scan *scan;
	bool on, scanned, listed, wanted, started;
	int64_t qlog_size;
	char qpath[PATH_MAX + 64];
	struct fm_list man;
	size_t list_at;
	uint32_t *want;
	size_t nwant, want_at;
	int fd;
	bool begun;
	uint64_t off, size, want_bytes, sent_bytes, t0_us;
	unsigned gone;
	EVP_MD_CTX *md;
} A = { .fd = -1 };

static struct {                     /* the standby */
	struct fm_scan *scan;
	bool on, scanned, man_done, diffed, done, conf_changed;
	struct fm_list man;
	uint32_t *want;
	size_t nwant, next;
	bool cur_on;
	uint64_t size, got, bytes;
	int qfd;
	EVP_MD_CTX *qmd;
} B = { .qfd = -1 };

static void roots(struct fm_scan_req *r, int64_t qlog_size)
{
	const char *q = queue_log_path();

	memset(r, 0, sizeof(*r));
	for (unsigned a = 0; a < JNL_AREA_COUNT; a++)
		snprintf(r->root[a], sizeof(r->root[a]), "%s", ha_file_roots.root[a]);
	if (q && *q)
		snprintf(r->root[FM_AREA_QLOG], sizeof(r->root[0]), "%s", q);
	else
		snprintf(r->root[FM_AREA_QLOG], sizeof(r->root[0]), "%s/queue_log", g.datadir);
	r->qlog_size = qlog_size;
	snprintf(r->cache, sizeof(r->cache), "%s/repl/files.cache", g.datadir);
}

static void scan_log(const char *who, const struct fm_scan_stats *st)
{
	log_notice("cluster: %s files: %u (%.1f MB) in %.2f s, %u (%.1f MB) hashed, the rest "
		   "from the cache%s", who, st->files, (double)st->bytes / 1e6, st->secs,
		   st->hashed, (double)st->hashed_bytes / 1e6, st->skipped ? "; some skipped" : "");
}

/* ------------------------------------------------------------ the active */

static void out_file_close(void)
{
	if (A.fd >= 0)
		close(A.fd);
	A.fd = -1;
	EVP_MD_CTX_free(A.md);
	A.md = NULL;
	A.begun = false;
}

static void out_scanned_h(int fd, uint32_t events, void *arg)
{
	uint64_t v;

	(void)events;
	(void)arg;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	A.scanned = true;
	repl_kick(0);
}

void repl_files_out_start(void)
{
	struct fm_scan_req req;
	struct stat st;
	char dir[PATH_MAX];
	int e;

	repl_files_abort();
	A.on = true;
	A.t0_us = repl_now_us();
	/* queue_log as of O: the stream from O appends the lines after it */
	roots(&req, 0);
	snprintf(A.qpath, sizeof(A.qpath), "%s", req.root[FM_AREA_QLOG]);
	A.qlog_size = !stat(A.qpath, &st) ? (int64_t)st.st_size : -1;
	if (A.qlog_size > 0) {   /* lines of this turn come after O, in the stream */
		size_t t = ha_turn_qlog_bytes();

		A.qlog_size = (uint64_t)A.qlog_size > t ? A.qlog_size - (int64_t)t : 0;
	}
	req.qlog_size = A.qlog_size < 0 ? 0 : A.qlog_size;
	repl_mkdirs(g.datadir, "incoming", dir, sizeof(dir));
	if ((e = fm_scan_start(&A.scan, &req, out_scanned_h, NULL)))
		log_error("cluster: cannot list the files for the full resync: %s", strerror(e));
}

static int send_list(bool *wait)
{
	while (A.list_at < A.man.n || !A.listed) {
		if (ha_link_pending(g.link) > REPL_PENDING_MAX) {
			repl_kick(1);
			*wait = true;
			return 0;
		}
		g.frame.len = 0;
		int e = fm_list_encode(&g.frame, &A.man, &A.list_at);
		if (e || (e = ha_link_send(g.link, HA_F_FILE_LIST, g.frame.p, g.frame.len)))
			return e;
		A.listed = A.list_at >= A.man.n;
	}
	return 0;
}

static int send_data(const struct fm_data *d, const void *data, size_t n)
{
	int e;

	g.frame.len = 0;
	if ((e = fm_data_encode(&g.frame, d)) || (e = jnl_wbuf_reserve(&g.frame, n)))
		return e;
	if (n)
		memcpy(g.frame.p + g.frame.len, data, n);
	g.frame.len += n;
	return ha_link_send(g.link, HA_F_FILE_DATA, g.frame.p, g.frame.len);
}

/* Open the wanted file w and send BEGIN (GONE when it is no more). */
static int out_begin(uint32_t w)
{
	const struct fm_entry *x = &A.man.v[w];
	struct fm_data d = { .kind = FM_DATA_BEGIN, .index = w };
	char path[PATH_MAX + 64 + JNL_RELPATH_MAX + 2];
	struct stat st;

	if (x->area == FM_AREA_QLOG)
		snprintf(path, sizeof(path), "%s", A.qpath);
	else
		snprintf(path, sizeof(path), "%s/%s", ha_file_roots.root[x->area], x->rel);
	A.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (A.fd < 0 || fstat(A.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (x->area == FM_AREA_QLOG && x->size == 0) {
			st = (struct stat){ .st_mode = S_IFREG | 0640 };   /* an empty one */
		} else {
			out_file_close();
			A.gone++;
			A.want_at++;
			d.kind = FM_DATA_GONE;
			return send_data(&d, NULL, 0);
		}
	}
	A.md = EVP_MD_CTX_new();
	if (!A.md || !EVP_DigestInit_ex(A.md, EVP_sha256(), NULL))
		return ENOMEM;
	if (A.fd >= 0)
		posix_fadvise(A.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* queue_log: only what it held at O */
	A.size = x->area == FM_AREA_QLOG ? x->size : (uint64_t)st.st_size;
	A.off = 0;
	A.begun = true;
	d.size = A.size;
	d.mode = st.st_mode & 07777;
	d.mtime_ns = x->area == FM_AREA_QLOG ? 0 :
		     (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return send_data(&d, NULL, 0);
}

/* The next piece of the current file: a CHUNK, or END. */
static int out_step(size_t *sent)
{
	uint32_t w = A.want[A.want_at];
	struct fm_data d = { .kind = FM_DATA_CHUNK, .index = w, .off = A.off };
	size_t n = A.size - A.off > REPL_SNAP_CHUNK ? REPL_SNAP_CHUNK : (size_t)(A.size - A.off);
	static uint8_t buf[REPL_SNAP_CHUNK];
	unsigned l = 32;
	ssize_t r = 0;

	if (n) {
		r = pread(A.fd, buf, n, (off_t)A.off);
		if (r < 0 && errno == EINTR)
			return 0;
		if (r < 0)
			log_warn("cluster: reading %s/%s to send it to %s: %s; sent as far as read",
				 fm_area_name(A.man.v[w].area), A.man.v[w].rel,
				 g.cc.nodes[!g.self].name, strerror(errno));
	}
	if (r > 0) {
		EVP_DigestUpdate(A.md, buf, (size_t)r);
		A.off += (uint64_t)r;
		A.sent_bytes += (uint64_t)r;
		*sent += (size_t)r;
		repl_progress_add((uint64_t)r);
		return send_data(&d, buf, (size_t)r);
	}
	/* the end (or the file shrank: what was sent is what it is) */
	d.kind = FM_DATA_END;
	EVP_DigestFinal_ex(A.md, d.sha256, &l);
	out_file_close();
	A.want_at++;
	return send_data(&d, NULL, 0);
}

int repl_files_out_pump(bool *done)
{
	uint64_t t0 = repl_now_us();
	size_t sent = 0;
	bool wait = false;
	struct fm_scan_stats st;
	int e;

	*done = false;
	if (!A.on || (!A.scan && !A.scanned))
		return EIO;   /* the scan could not start (logged) */
	if (!A.started) {
		A.started = true;
		g.prog.phase = "files";
	}
	if (!A.scanned)
		return 0;     /* out_scanned_h kicks */
	if (A.scan) {
		e = fm_scan_end(A.scan, false, &A.man, &st);
		A.scan = NULL;
		if (e) {
			log_error("cluster: cannot list the files for the full resync: %s",
				  strerror(e));
			return e;
		}
		scan_log("full resync: this node's", &st);
	}
	if ((e = send_list(&wait)) || wait || !A.wanted)
		return e;     /* repl_files_want_got kicks */
	while (A.want_at < A.nwant && sent < REPL_TURN_BYTES &&
	       repl_now_us() - t0 < REPL_TURN_US) {
		if (ha_link_pending(g.link) > REPL_PENDING_MAX) {
			repl_kick(1);
			return 0;
		}
		if ((e = A.begun ? out_step(&sent) : out_begin(A.want[A.want_at])))
			return e;
	}
	if (A.want_at < A.nwant) {
		repl_kick(0);
		return 0;
	}
	log_notice("cluster: full resync to %s: %zu of %zu files sent (%.1f MB, %u gone "
		   "meanwhile), the rest the same on both nodes", g.cc.nodes[!g.self].name,
		   A.nwant - A.gone, A.man.n, (double)A.sent_bytes / 1e6, A.gone);
	*done = true;
	return 0;
}

void repl_files_want_got(const uint8_t *p, size_t len)
{
	char err[160] = "";
	bool last = false;
	int e;

	if (!A.on || !A.listed || A.wanted) {
		snprintf(err, sizeof(err), "unexpected FILE_WANT");
		e = EBADMSG;
	} else {
		e = fm_want_decode(&A.want, &A.nwant, A.man.n, p, len, &last, err, sizeof(err));
	}
	if (e) {
		log_error("cluster: full resync to %s: %s; link dropped", g.cc.nodes[!g.self].name,
			  e == ENOMEM ? "out of memory" : err);
		ha_link_error(g.link, e == ENOMEM ? "out of memory" : err);
		return;
	}
	if (!last)
		return;
	A.wanted = true;
	for (size_t i = 0; i < A.nwant; i++)
		A.want_bytes += A.man.v[A.want[i]].size;
	g.prog.total += A.want_bytes;
	log_notice("cluster: full resync to %s: it wants %zu of %zu files (%.1f MB)",
		   g.cc.nodes[!g.self].name, A.nwant, A.man.n, (double)A.want_bytes / 1e6);
	repl_kick(0);
}

/* ------------------------------------------------------------ the standby */

static void in_refuse(const char *fmt, const char *detail)
{
	char what[PATH_MAX + 256];

	snprintf(what, sizeof(what), fmt, detail);
	log_error("cluster: full resync from %s refused: %s; link dropped",
		  g.cc.nodes[!g.self].name, what);
	ha_link_error(g.link, what);
}

static void in_qlog_close(bool unlink_part)
{
	char part[PATH_MAX + 64];

	if (B.qfd >= 0)
		close(B.qfd);
	B.qfd = -1;
	EVP_MD_CTX_free(B.qmd);
	B.qmd = NULL;
	snprintf(part, sizeof(part), "%s/repl/incoming/queue_log.part", g.datadir);
	if (unlink_part)
		unlink(part);
}

static void in_diff(void);

static void in_scanned_h(int fd, uint32_t events, void *arg)
{
	uint64_t v;

	(void)events;
	(void)arg;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	B.scanned = true;
	in_diff();
}

void repl_files_in_start(void)
{
	struct fm_scan_req req;
	int e;

	repl_files_abort();
	B.on = true;
	roots(&req, -1);
	req.clean_parts = true;
	if ((e = fm_scan_start(&B.scan, &req, in_scanned_h, NULL))) {
		log_error("cluster: cannot list this node's files: %s", strerror(e));
		in_refuse("cannot list the standby's files: %s", strerror(e));
	}
}

static void in_finish(void)
{
	struct jnl_entry e = { .type = JNL_CONF_APPLY };
	static const uint8_t zero[JNL_SHA256_LEN];

	B.done = true;
	fm_list_free(&B.man);
	free(B.want);
	B.want = NULL;
	log_notice("cluster: full resync from %s: %zu files received (%.1f MB)",
		   g.cc.nodes[!g.self].name, B.nwant, (double)B.bytes / 1e6);
	if (B.conf_changed) {   /* CONFDIR changed: reload, as after CONF_APPLY */
		e.u.conf_apply.manifest_sha256 = zero;
		ha_file_apply(&e, HA_APPLY_REMOTE);
	}
}

static int remove_extra(const struct fm_entry *x)
{
	struct jnl_entry e = { .type = JNL_FILE_DEL };

	if (x->area >= JNL_AREA_COUNT)
		return 0;
	e.u.fdel = (struct jnl_file_del){ x->area, jnl_pl(x->rel) };
	return ha_file_apply(&e, HA_APPLY_REMOTE);
}

/* Both manifests known: remove the extra files, ask for the difference. */
static void in_diff(void)
{
	struct fm_list mine = { 0 };
	struct fm_scan_stats st;
	uint32_t *extra = NULL;
	size_t nextra = 0, at = 0;
	unsigned per[FM_AREAS] = { 0 }, failed = 0;
	char areas[256] = "";
	size_t al = 0;
	uint64_t bytes = 0;
	int e;

	if (!B.on || !B.man_done || !B.scanned || B.diffed)
		return;
	B.diffed = true;
	e = fm_scan_end(B.scan, false, &mine, &st);
	B.scan = NULL;
	if (e || (e = fm_diff(&B.man, &mine, &B.want, &B.nwant, &extra, &nextra))) {
		fm_list_free(&mine);
		in_refuse("cannot list the standby's files: %s", strerror(e));
		return;
	}
	scan_log("full resync: this node's", &st);
	for (size_t i = 0; i < nextra; i++) {
		const struct fm_entry *x = &mine.v[extra[i]];

		if (remove_extra(x)) {
			failed++;
			continue;
		}
		per[x->area]++;
		B.conf_changed |= x->area == JNL_AREA_CONFDIR;
	}
	for (unsigned a = 0; a < FM_AREAS; a++)
		if (per[a])
			al += (size_t)snprintf(areas + al, sizeof(areas) - al, "%s%s %u",
					       al ? ", " : "", fm_area_name(a), per[a]);
	if (nextra || st.parts_removed)
		log_notice("cluster: full resync from %s: removed %zu files the active does not "
			   "have (%s)%s; %u part files of cut transfers removed",
			   g.cc.nodes[!g.self].name, nextra - failed, al ? areas : "none",
			   failed ? "; some could not be removed" : "", st.parts_removed);
	for (size_t i = 0; i < B.nwant; i++)
		bytes += B.man.v[B.want[i]].size;
	log_notice("cluster: full resync from %s: %zu of %zu files differ or are missing "
		   "here (%.1f MB to fetch)", g.cc.nodes[!g.self].name, B.nwant, B.man.n,
		   (double)bytes / 1e6);
	free(extra);
	fm_list_free(&mine);
	g.prog.phase = "files";
	g.prog.total += bytes;
	do {
		g.frame.len = 0;
		if ((e = fm_want_encode(&g.frame, B.want, B.nwant, &at)) ||
		    (e = ha_link_send(g.link, HA_F_FILE_WANT, g.frame.p, g.frame.len))) {
			in_refuse("cannot send FILE_WANT: %s", strerror(e));
			return;
		}
	} while (at < B.nwant);
	if (!B.nwant)
		in_finish();
}

static void list_got(const uint8_t *p, size_t len)
{
	char err[1400] = "";
	bool last = false;
	int e;

	if (B.man_done) {
		in_refuse("%s", "FILE_LIST after the manifest's end");
		return;
	}
	if ((e = fm_list_decode(&B.man, p, len, &last, err, sizeof(err)))) {
		in_refuse("bad manifest: %s", e == ENOMEM ? "out of memory" : err);
		return;
	}
	if (last) {
		B.man_done = true;
		in_diff();
	}
}

/* One FILE_DATA piece for a file area: as the journal's FILE_* entry. */
static int apply_piece(const struct fm_entry *x, const struct fm_data *d)
{
	struct jnl_entry e = { 0 };
	uint32_t id = XFER_BASE + d->index;

	switch (d->kind) {
	case FM_DATA_BEGIN:
		e.type = JNL_FILE_BEGIN;
		e.u.fbegin = (struct jnl_file_begin){ id, x->area, jnl_pl(x->rel), d->size,
						      d->mode, d->mtime_ns };
		break;
	case FM_DATA_CHUNK:
		e.type = JNL_FILE_CHUNK;
		e.u.fchunk = (struct jnl_file_chunk){ id, d->off,
						      pl_of((const char *)d->data, d->len) };
		break;
	default:
		e.type = JNL_FILE_END;
		e.u.fend = (struct jnl_file_end){ id, d->sha256 };
		break;
	}
	return ha_file_apply(&e, HA_APPLY_REMOTE);
}

/* The same for queue_log: repl/incoming/queue_log.part, renamed over it. */
static int qlog_piece(const struct fm_data *d)
{
	char part[PATH_MAX + 64], live[PATH_MAX + 16];
	uint8_t sha[32];
	unsigned l = 32;
	const char *q = queue_log_path();

	snprintf(part, sizeof(part), "%s/repl/incoming/queue_log.part", g.datadir);
	if (d->kind == FM_DATA_BEGIN) {
		in_qlog_close(true);
		B.qfd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
		B.qmd = EVP_MD_CTX_new();
		if (B.qfd < 0 || !B.qmd || !EVP_DigestInit_ex(B.qmd, EVP_sha256(), NULL))
			return B.qfd < 0 ? errno : ENOMEM;
		return 0;
	}
	if (d->kind == FM_DATA_CHUNK) {
		for (size_t at = 0; at < d->len;) {
			ssize_t w = pwrite(B.qfd, d->data + at, d->len - at, (off_t)(d->off + at));

			if (w <= 0)
				return w < 0 ? errno : ENOSPC;
			at += (size_t)w;
		}
		EVP_DigestUpdate(B.qmd, d->data, d->len);
		return 0;
	}
	EVP_DigestFinal_ex(B.qmd, sha, &l);
	if (memcmp(sha, d->sha256, 32))
		return EBADMSG;
	snprintf(live, sizeof(live), "%s", q && *q ? q : "");
	if (!live[0])
		snprintf(live, sizeof(live), "%s/queue_log", g.datadir);
	if (fsync(B.qfd) || rename(part, live))
		return errno;
	in_qlog_close(false);
	if (q && *q)
		queue_log_reopen();   /* appends go to the new file */
	return 0;
}

static void data_got(const uint8_t *p, size_t len)
{
	struct fm_data d;
	const struct fm_entry *x;
	char what[JNL_RELPATH_MAX + 64];
	int e;

	if (fm_data_decode(&d, p, len)) {
		in_refuse("%s", "malformed FILE_DATA");
		return;
	}
	if (!B.diffed || B.done || B.next >= B.nwant || d.index != B.want[B.next] ||
	    B.cur_on != (d.kind == FM_DATA_CHUNK || d.kind == FM_DATA_END)) {
		in_refuse("%s", "FILE_DATA for a file not asked for, or out of order");
		return;
	}
	x = &B.man.v[d.index];
	snprintf(what, sizeof(what), "%s/%s", fm_area_name(x->area), x->rel);
	if (d.kind == FM_DATA_CHUNK && (d.off != B.got || d.len > B.size - B.got)) {
		in_refuse("FILE_DATA of %s beyond its size or out of order", what);
		return;
	}
	if (d.kind == FM_DATA_GONE) {   /* removed meanwhile: the stream says so */
		B.next++;
	} else {
		e = x->area == FM_AREA_QLOG ? qlog_piece(&d) : apply_piece(x, &d);
		if (e) {
			if (x->area == FM_AREA_QLOG)
				in_qlog_close(true);
			in_refuse("cannot install %s (logged above)", what);
			return;
		}
		if (d.kind == FM_DATA_BEGIN) {
			B.cur_on = true;
			B.size = d.size;
			B.got = 0;
		} else if (d.kind == FM_DATA_CHUNK) {
			B.got += d.len;
			B.bytes += d.len;
			repl_progress_add(d.len);
		} else {
			B.cur_on = false;
			B.next++;
			B.conf_changed |= x->area == JNL_AREA_CONFDIR;
		}
	}
	if (B.next == B.nwant)
		in_finish();
}

void repl_files_frame(uint8_t type, const uint8_t *p, size_t len)
{
	if (!B.on) {
		in_refuse("%s", "file frame outside a full resync");
		return;
	}
	if (type == HA_F_FILE_LIST)
		list_got(p, len);
	else
		data_got(p, len);
}

bool repl_files_in_pending(void)
{
	return B.on && !B.done;
}

/* ------------------------------------------------------------ both */

void repl_files_abort(void)
{
	if (A.scan)
		fm_scan_end(A.scan, true, NULL, NULL);
	out_file_close();
	fm_list_free(&A.man);
	free(A.want);
	memset(&A, 0, sizeof(A));
	A.fd = -1;
	if (B.scan)
		fm_scan_end(B.scan, true, NULL, NULL);
	if (B.cur_on && B.next < B.nwant)   /* a file cut short: its part file goes */
		ha_file_xfer_drop(XFER_BASE + B.want[B.next]);
	in_qlog_close(B.on);
	fm_list_free(&B.man);
	free(B.want);
	memset(&B, 0, sizeof(B));
	B.qfd = -1;
}
