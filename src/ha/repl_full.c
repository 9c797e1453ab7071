/**
 * @file repl_full.c  Full resync (docs/design/cluster.md 3.4), both ends.
 *
 * Active, one step per loop turn (repl_full_pump, each bounded by
 * REPL_TURN_US and REPL_TURN_BYTES, paused while the link has
 * REPL_PENDING_MAX queued):
 *   1. copy: repl_snap_step() until the three databases are copied at the
 *      journal's head O (jnl_set_floor(O) keeps the journal from there);
 *   2. FULLRESYNC(replid, O, total bytes);
 *   3. per database: SNAP(db, off, up to 1 MiB) read with pread, sha256
 *      over the bytes sent, then SNAP_END(db, size, sha256);
 *   4. the files: manifest, FILE_WANT, FILE_DATA (repl_files.c);
 *   5. SYNC_DONE(O), then STREAM from O (repl.c).
 * Standby: SNAP data goes to DATADIR/repl/incoming/NAME.part in order (a
 * gap, an unknown database or data past a SNAP_END is refused); SNAP_END
 * checks size and sha256; SYNC_DONE needs all three, then installs each
 * into the live database (repl_install_*, bounded per turn), resets the
 * journal to (replid, O) and takes the epoch from tandem.db's stamp.
 * Any failure (disk full included) drops the link with the reason; the
 * live databases are untouched until every file arrived whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "ha/file.h"
#include "ha/ha.h"
#include "ha/jnl.h"
#include "ha/merge.h"
#include "ha/repl_int.h"
#include "ha/turn.h"
#include "pbx/call_survive.h"
#include "pbx/queue.h"
#include "pbx/registrar.h"
#include "store/cdr.h"
#include "store/repl_meta.h"
#include "store/store.h"

#define g g_repl

static struct repl_install *inst;
static unsigned inst_db;
static struct tmr inst_tmr;
static struct jnl_wbuf held;          /* STREAM payloads during install */
static struct repl_ckpt *ckpt;        /* the installed WALs being checkpointed */
static bool installing;               /* SYNC_DONE came: copying, checkpointing,
				       * applying what was held */
static size_t held_at;                /* next held frame to apply */
static struct tmr held_tmr;
#define REPL_HELD_MAX (64u << 20)
static void install_h(void *arg);
static void ckpt_done_h(int fd, uint32_t events, void *arg);

/* ------------------------------------------------------------ progress */

static void progress_start(const char *phase, uint64_t total)
{
	memset(&g.prog, 0, sizeof(g.prog));
	g.prog.phase = phase;
	g.prog.total = total;
	g.prog.t0_us = g.prog.last_us = g.prog.last_log_us = repl_now_us();
}

void repl_progress_add(uint64_t n)
{
	struct repl_progress *p = &g.prog;
	uint64_t now = repl_now_us();

	p->done += n;
	if (now - p->last_us >= 100000) {            /* EWMA over ~1 s */
		double inst_rate = (double)(p->done - p->last_done) * 1e6 /
				   (double)(now - p->last_us);

		p->rate_bps = p->rate_bps ? 0.9 * p->rate_bps + 0.1 * inst_rate : inst_rate;
		p->last_us = now;
		p->last_done = p->done;
	}
	if (now - p->last_log_us >= 10000000) {
		p->last_log_us = now;
		log_notice("cluster: full resync %s %s: %.1f of %.1f MB, %.0f MB/s",
			   g.source ? "to" : "from", g.cc.nodes[!g.self].name, (double)p->done / 1e6,
			   (double)p->total / 1e6, p->rate_bps / 1e6);
	}
}

static void progress_end(void)
{
	double s = (double)(repl_now_us() - g.prog.t0_us) / 1e6;

	log_notice("cluster: full resync %s %s: %.1f MB in %.2f s, %.0f MB/s",
		   g.source ? "to" : "from", g.cc.nodes[!g.self].name, (double)g.prog.done / 1e6,
		   s, s > 0 ? (double)g.prog.done / 1e6 / s : 0.0);
	g.last.kind = "full";
	g.last.bytes = g.prog.done;
	g.last.secs = s;
	g.prog.phase = NULL;
}

/* ------------------------------------------------------------ the active */

static void out_close(void)
{
	struct repl_full_out *o = &g.out;

	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	EVP_MD_CTX_free(o->sha);
	o->sha = NULL;
}

void repl_full_start(void)
{
	struct repl_full_out *o = &g.out;
	int e;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->offset = jnl_head(ha_jnl());
	jnl_set_floor(ha_jnl(), o->offset);
	if ((e = repl_snap_begin(&o->snap, g.datadir))) {
		log_error("cluster: cannot snapshot the databases for %s: %s",
			  g.cc.nodes[!g.self].name, strerror(e));
		ha_link_error(g.link, "the active cannot make a snapshot");
		return;
	}
	g.full = true;
	g.resync_from = o->offset;
	repl_set_state(REPL_FULLSYNC);
	progress_start("snapshot", 0);
	repl_files_out_start();   /* the manifest, in a thread meanwhile */
	repl_kick(0);
}

static int send_chunk(void)
{
	struct repl_full_out *o = &g.out;
	uint64_t size = repl_snap_size(o->snap, o->db);
	size_t n = size - o->off > REPL_SNAP_CHUNK ? REPL_SNAP_CHUNK : (size_t)(size - o->off);
	ssize_t r;

	if (o->fd < 0) {
		o->fd = open(repl_snap_path(o->snap, o->db), O_RDONLY | O_CLOEXEC);
		o->sha = EVP_MD_CTX_new();
		if (o->fd < 0 || !o->sha || !EVP_DigestInit_ex(o->sha, EVP_sha256(), NULL))
			return EIO;
		posix_fadvise(o->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	if (n) {
		g.frame.len = 0;
		if (repl_snap_encode_hdr(&g.frame, (uint8_t)o->db, o->off) ||
		    jnl_wbuf_reserve(&g.frame, n))
			return ENOMEM;
		r = pread(o->fd, g.frame.p + g.frame.len, n, (off_t)o->off);
		if (r != (ssize_t)n)
			return r < 0 ? errno : EIO;
		EVP_DigestUpdate(o->sha, g.frame.p + g.frame.len, n);
		g.frame.len += n;
		o->off += n;
		repl_progress_add(n);
		return ha_link_send(g.link, HA_F_SNAP, g.frame.p, g.frame.len);
	}
	struct repl_snap_end se = { .db = (uint8_t)o->db, .size = size };
	unsigned int l = 32;

	EVP_DigestFinal_ex(o->sha, se.sha256, &l);
	out_close();
	g.frame.len = 0;
	if (repl_snap_end_encode(&g.frame, &se))
		return ENOMEM;
	o->db++;
	o->off = 0;
	return ha_link_send(g.link, HA_F_SNAP_END, g.frame.p, g.frame.len);
}

void repl_full_pump(void)
{
	struct repl_full_out *o = &g.out;
	uint64_t t0 = repl_now_us();
	size_t sent = 0;
	bool done;
	int e = 0;

	if (!o->copied) {
		if ((e = repl_snap_step(o->snap, &done)))
			goto fail;
		if (!done) {
			repl_kick(0);
			return;
		}
		o->copied = true;
		uint64_t total = 0;
		for (unsigned i = 0; i < REPL_DB_COUNT; i++)
			total += repl_snap_size(o->snap, i);
		struct repl_full f = { .offset = o->offset, .db_bytes = total };
		uint64_t off2, ep, head;
		char r2[JNL_REPLID_LEN + 1];

		ha_position(f.replid, &head, r2, &off2, &ep);
		g.frame.len = 0;
		if ((e = repl_full_encode(&g.frame, &f)) ||
		    (e = ha_link_send(g.link, HA_F_FULLRESYNC, g.frame.p, g.frame.len)))
			goto fail;
		log_notice("cluster: full resync to %s: snapshot at offset %" PRIu64 ", %.1f MB",
			   g.cc.nodes[!g.self].name, o->offset, (double)total / 1e6);
		progress_start("snapshot", total);
	}
	while (o->db < REPL_DB_COUNT && sent < REPL_TURN_BYTES &&
	       repl_now_us() - t0 < REPL_TURN_US) {
		if (ha_link_pending(g.link) > REPL_PENDING_MAX) {
			repl_kick(1);
			return;
		}
		if ((e = send_chunk()))
			goto fail;
		sent += REPL_SNAP_CHUNK;
	}
	if (o->db < REPL_DB_COUNT) {
		repl_kick(0);
		return;
	}
	if ((e = repl_files_out_pump(&done)))   /* design 3.4 step 4 */
		goto fail;
	if (!done)
		return;
	progress_end();
	g.frame.len = 0;
	if ((e = repl_u64_encode(&g.frame, o->offset)) ||
	    (e = ha_link_send(g.link, HA_F_SYNC_DONE, g.frame.p, g.frame.len)))
		goto fail;
	uint64_t from = o->offset;
	repl_full_abort();
	g.prog.phase = "catchup";
	repl_stream_from(from, false);
	return;
fail:
	log_error("cluster: full resync to %s failed: %s", g.cc.nodes[!g.self].name,
		  strerror(e));
	ha_link_error(g.link, "full resync failed on the active");
}

/* ------------------------------------------------------------ the standby */

static void part_path(unsigned db, char *out, size_t size)
{
	snprintf(out, size, "%s/repl/incoming/%s.part", g.datadir, repl_db_file(db));
}

static void in_close(bool unlink_parts)
{
	struct repl_full_in *in = &g.in;

	for (unsigned i = 0; i < REPL_DB_COUNT; i++) {
		char p[PATH_MAX + 64];

		if (in->fd[i] > 0)
			close(in->fd[i]);
		in->fd[i] = 0;
		EVP_MD_CTX_free(in->sha[i]);
		in->sha[i] = NULL;
		part_path(i, p, sizeof(p));
		if (unlink_parts)
			unlink(p);
	}
	in->on = false;
}

void repl_full_abort(void)
{
	if (g.out.snap) {
		repl_snap_end(g.out.snap);
		g.out.snap = NULL;
	}
	out_close();
	repl_files_abort();
	g.full = false;
	if (g.in.on)
		in_close(true);
	if (inst) {
		repl_install_end(inst);
		inst = NULL;
	}
	repl_defer_cancel(&inst_tmr);
	repl_defer_cancel(&held_tmr);
	held_at = 0;
	if (ckpt) {
		repl_ckpt_end(ckpt);    /* waits for the thread's checkpoint */
		ckpt = NULL;
	}
	installing = false;
	inst_db = REPL_DB_COUNT;
	jnl_wbuf_free(&held);
}

static void refuse(const char *fmt, const char *detail)
{
	char what[PATH_MAX + 256];

	snprintf(what, sizeof(what), fmt, detail);
	log_error("cluster: full resync from %s refused: %s; link dropped, the databases are "
		  "unchanged", g.cc.nodes[!g.self].name, what);
	in_close(true);
	ha_link_error(g.link, what);
}

/*
 * Design 3.3 step 4: this node was active and wrote
 * past the point where the peer's history branched off ours (its replid2 is
 * our replid, our head is beyond its offset2: turns never ACKed before the
 * failover, or written while split). The full resync replaces them: say how
 * much and of which kinds, and keep those turns as they were in
 * DATADIR/repl/discarded/<replid>-<offset2>.jnl (whole turns, the journal's
 * encoding) for audit: sent as MERGE before the PSYNC (repl_merge.c),
 * they come back from the winner with this resync.
 */
static void diverged_note(void)
{
	const struct ha_link_hello *h = &g.peer_hello;
	struct jnl *j = ha_jnl();
	struct jnl_reader *r = NULL;
	unsigned n[256] = { 0 };
	const uint8_t *buf;
	size_t len, used, pos;
	struct jnl_entry e;
	char kinds[600] = "", dir[PATH_MAX], path[PATH_MAX + 128] = "";
	size_t kl = 0;
	int fd = -1;
	struct merge_pos self, peer = { h->replid, h->replid2, h->offset2, h->offset };
	char replid[JNL_REPLID_LEN + 1], replid2[JNL_REPLID_LEN + 1];
	uint64_t at, off, epoch;

	if (!j)
		return;
	self.replid = jnl_replid(j);
	ha_position(replid, &off, replid2, &self.offset2, &epoch);
	self.replid2 = replid2;
	self.head = jnl_head(j);
	if (!merge_branch(&self, &peer, &at))
		return;
	if (!repl_mkdirs(g.datadir, "discarded", dir, sizeof(dir))) {
		snprintf(path, sizeof(path), "%s/%s-%" PRIu64 ".jnl", dir, jnl_replid(j),
			 at);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
			path[0] = '\0';
	}
	if (at >= jnl_first(j) && !jnl_reader_open(&r, j, at)) {
		while (!jnl_reader_next(r, &buf, &len)) {
			if (fd >= 0 && write(fd, buf, len) != (ssize_t)len)
				path[0] = '\0';
			for (pos = 0; pos < len &&
			     !jnl_entry_decode(&e, buf + pos, len - pos, &used); pos += used)
				n[e.type & 0xff]++;
		}
		jnl_reader_close(r);
	}
	if (fd >= 0 && close(fd))
		path[0] = '\0';
	for (unsigned t = 0; t < 256; t++)
		if (n[t] && t != JNL_TURN && kl < sizeof(kinds) - 64)
			kl += (size_t)snprintf(kinds + kl, sizeof(kinds) - kl, "%s%u %s",
					       kl ? ", " : "", n[t], jnl_type_name((uint16_t)t));
	log_warn("cluster: %" PRIu64 " bytes written by %s after the split %s: "
		 "%s (%u turns, offsets %" PRIu64 "-%" PRIu64 " of history %s; %s continues "
		 "history %s from %" PRIu64 "); kept in %s", jnl_head(j) - at,
		 g.cc.nodes[g.self].name, g.merge_sent ? "were sent to be merged (they come "
		 "back with this resync)" : "are discarded (not merged)",
		 kl ? kinds : "entries not readable",
		 n[JNL_TURN], at, jnl_head(j), jnl_replid(j),
		 g.cc.nodes[!g.self].name, h->replid, at,
		 path[0] ? path : "no file (it could not be written)");
}

static void fullresync_got(const uint8_t *p, size_t len)
{
	struct repl_full_in *in = &g.in;
	struct repl_full f;
	char dir[PATH_MAX];
	int e;

	if (repl_full_decode(&f, p, len)) {
		refuse("%s", "malformed FULLRESYNC");
		return;
	}
	diverged_note();
	in_close(true);
	if ((e = repl_mkdirs(g.datadir, "incoming", dir, sizeof(dir)))) {
		refuse("cannot create repl/incoming: %s", strerror(e));
		return;
	}
	memset(in, 0, sizeof(*in));
	in->on = true;
	memcpy(in->replid, f.replid, sizeof(in->replid));
	in->offset = f.offset;
	for (unsigned i = 0; i < REPL_DB_COUNT; i++) {
		char path[PATH_MAX + 64];

		part_path(i, path, sizeof(path));
		in->fd[i] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		in->sha[i] = EVP_MD_CTX_new();
		if (in->fd[i] < 0 || !in->sha[i] ||
		    !EVP_DigestInit_ex(in->sha[i], EVP_sha256(), NULL)) {
			in->fd[i] = in->fd[i] < 0 ? 0 : in->fd[i];
			refuse("cannot create %s", path);
			return;
		}
	}
	repl_set_state(REPL_FULLSYNC);
	/* the calls held are from before: the active sends every live call's
	 * snapshot again once this node is in sync (call_survive.c) */
	call_survive_forget();
	progress_start("snapshot", f.db_bytes);
	repl_files_in_start();    /* this node's files, in a thread meanwhile */
	log_notice("cluster: full resync from %s: snapshot at %s:%" PRIu64 ", %.1f MB",
		   g.cc.nodes[!g.self].name, f.replid, f.offset, (double)f.db_bytes / 1e6);
}

static void snap_got(const uint8_t *p, size_t len)
{
	struct repl_full_in *in = &g.in;
	struct repl_snap s;
	size_t at = 0;

	if (repl_snap_decode(&s, p, len)) {
		refuse("%s", "malformed SNAP frame");
		return;
	}
	if (s.off != in->got[s.db] || in->ended[s.db]) {
		refuse("SNAP of %s out of order", repl_db_file(s.db));
		return;
	}
	while (at < s.len) {
		ssize_t w = pwrite(in->fd[s.db], s.data + at, s.len - at, (off_t)(s.off + at));

		if (w <= 0) {
			char why[128];

			snprintf(why, sizeof(why), "%s (%s)", repl_db_file(s.db),
				 w < 0 ? strerror(errno) : "short write");
			refuse("cannot write the snapshot of %s", why);
			return;
		}
		at += (size_t)w;
	}
	EVP_DigestUpdate(in->sha[s.db], s.data, s.len);
	in->got[s.db] += s.len;
	repl_progress_add(s.len);
}

static void snap_end_got(const uint8_t *p, size_t len)
{
	struct repl_full_in *in = &g.in;
	struct repl_snap_end se;
	uint8_t sha[32];
	unsigned int l = 32;

	if (repl_snap_end_decode(&se, p, len)) {
		refuse("%s", "malformed SNAP_END frame");
		return;
	}
	if (in->ended[se.db] || se.size != in->got[se.db]) {
		refuse("snapshot of %s truncated or repeated", repl_db_file(se.db));
		return;
	}
	EVP_DigestFinal_ex(in->sha[se.db], sha, &l);
	if (memcmp(sha, se.sha256, 32)) {
		refuse("snapshot of %s: sha256 differs", repl_db_file(se.db));
		return;
	}
	in->ended[se.db] = true;
}

bool repl_full_installing(void)
{
	return installing;
}

void repl_full_hold(const uint8_t *p, size_t len)
{
	uint8_t n[4] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
			 (uint8_t)(len >> 24) };

	if (held.len + len + 4 > REPL_HELD_MAX || jnl_wbuf_reserve(&held, len + 4)) {
		refuse("%s", "too much stream while installing the snapshot");
		return;
	}
	memcpy(held.p + held.len, n, 4);
	memcpy(held.p + held.len + 4, p, len);
	held.len += len + 4;
}

/* The installed tandem.db carries the history's epoch and replid2; the
 * registrar's memory view is read again from it (the other views follow
 * their stores on use). */
static void repl_full_installed(void)
{
	struct repl_stamp st;
	int e;

	if (!store_stamp_get(&st)) {
		struct pl r2 = pl_of(st.replid2, strlen(st.replid2));

		ha_position_epoch(st.epoch, &r2, st.offset2);
	}
	/* the memory views follow the installed databases */
	if ((e = registrar_reload()))
		log_warn("cluster: after the snapshot, the registrations could not be read "
			 "again from %s: %s", store_path(), strerror(e));
	queue_store_reload();
	cdr_store_reload();
	ha_quiesce();
}

/* Apply the STREAM frames held during the install, a few ms a loop turn
 * (hundreds of turns, three commits each, would stall the loop and the
 * link); frames arriving meanwhile queue behind them. */
static void held_h(void *arg)
{
	uint64_t t0 = repl_now_us();

	(void)arg;
	while (held_at + 4 <= held.len && repl_now_us() - t0 < REPL_TURN_US) {
		size_t n = (size_t)held.p[held_at] | (size_t)held.p[held_at + 1] << 8 |
			   (size_t)held.p[held_at + 2] << 16 | (size_t)held.p[held_at + 3] << 24;
		const uint8_t *f = held.p + held_at + 4;

		held_at += 4 + n;
		repl_stream_got(f, n);
		if (!installing)          /* refused: the link dropped, all reset */
			return;
	}
	if (held_at + 4 <= held.len) {
		repl_defer(&held_tmr, held_h);
		return;
	}
	jnl_wbuf_free(&held);
	held_at = 0;
	installing = false;
}

static void install_fail(int e)
{
	log_error("cluster: installing the snapshot from %s failed (%s): a database may be "
		  "half copied; the next full resync replaces it", g.cc.nodes[!g.self].name,
		  strerror(e));
	repl_install_end(inst);
	inst = NULL;
	installing = false;
	in_close(true);
	ha_link_error(g.link, "standby cannot install the snapshot");
}

/* After SYNC_DONE: copy each file into the live database, a turn at a time. */
static void install_h(void *arg)
{
	char part[PATH_MAX + 64], live[PATH_MAX + 32];
	bool done = false;
	int e;

	(void)arg;
	while (inst_db < REPL_DB_COUNT) {
		if (!inst) {
			part_path(inst_db, part, sizeof(part));
			snprintf(live, sizeof(live), "%s/%s", g.datadir, repl_db_file(inst_db));
			if ((e = repl_install_begin(&inst, part, live)))
				goto fail;
		}
		if ((e = repl_install_step(inst, &done)))
			goto fail;
		if (!done) {
			repl_defer(&inst_tmr, install_h);
			return;
		}
		repl_install_end(inst);
		inst = NULL;
		inst_db++;
	}
	in_close(true);
	if (!(e = repl_ckpt_start(&ckpt, g.datadir, ckpt_done_h, NULL)))
		return;
fail:
	install_fail(e);
}

/* The installed databases are checkpointed: the journal continues at O. */
static void ckpt_done_h(int fd, uint32_t events, void *arg)
{
	int e;

	(void)fd;
	(void)events;
	(void)arg;
	if (repl_ckpt_end(ckpt))
		log_warn("cluster: the installed snapshot could not be checkpointed at once; "
			 "the stores' next commits do it");
	ckpt = NULL;
	if ((e = jnl_reset(ha_jnl(), g.in.replid, g.in.offset))) {
		log_error("cluster: cannot reset the journal to %s:%" PRIu64 ": %s", g.in.replid,
			  g.in.offset, strerror(e));
		ha_link_error(g.link, "standby cannot reset its journal");
		return;
	}
	progress_end();
	g.prog.phase = "catchup";
	repl_set_state(REPL_CATCHUP);
	log_notice("cluster: snapshot installed; the stream continues at %s:%" PRIu64,
		   g.in.replid, g.in.offset);
	repl_send_ack(g.in.offset, 0);     /* the snapshot's position is ours now */
	repl_full_installed();
	held_at = 0;
	held_h(NULL);
}

static void sync_done_got(const uint8_t *p, size_t len)
{
	uint64_t off;

	if (repl_u64_decode(&off, p, len) || off != g.in.offset) {
		refuse("%s", "malformed SYNC_DONE");
		return;
	}
	for (unsigned i = 0; i < REPL_DB_COUNT; i++)
		if (!g.in.ended[i]) {
			refuse("SYNC_DONE before the snapshot of %s ended", repl_db_file(i));
			return;
		}
	if (repl_files_in_pending()) {
		refuse("%s", "SYNC_DONE before the files of the manifest arrived");
		return;
	}
	inst_db = 0;
	installing = true;
	install_h(NULL);
}

void repl_full_frame(uint8_t type, const uint8_t *p, size_t len)
{
	if (type != HA_F_FULLRESYNC && !g.in.on) {
		refuse("%s", "snapshot frame outside a full resync");
		return;
	}
	switch (type) {
	case HA_F_FULLRESYNC: fullresync_got(p, len); break;
	case HA_F_SNAP: snap_got(p, len); break;
	case HA_F_SNAP_END: snap_end_got(p, len); break;
	case HA_F_SYNC_DONE: sync_done_got(p, len); break;
	case HA_F_FILE_LIST:
	case HA_F_FILE_DATA: repl_files_frame(type, p, len); break;
	}
}
