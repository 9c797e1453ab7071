/**
 * @file repl_snap.c  Consistent copies of the SQLite databases for a full
 * resync (docs/design/cluster.md 3.4), with the online backup API.
 *
 * Active: one read-only connection opens tandem.db and ATTACHes cdr.db and
 * astdb.sqlite3, then BEGINs and reads each schema in the same loop turn:
 * the three WAL snapshots are pinned at the last committed turn, whose end
 * is the journal's head O (every turn commits all stores together).
 * sqlite3_backup_step() then copies REPL_SNAP_PAGES pages a call from that
 * read transaction into DATADIR/repl/out/NAME, a few calls per loop turn;
 * writes by the stores' own connections meanwhile do not reach it.
 *
 * Standby: repl_install_*() copies a received file into the live database
 * the same way, through a connection of its own (the stores keep theirs
 * open; WAL lets them read on, and a standby's stores do not write while a
 * snapshot is installed), so nothing is closed or reopened. The copy
 * lands in each database's WAL (no auto-checkpoint on that connection);
 * repl_ckpt_start() then checkpoints it from a thread with connections of
 * its own, so the stores' next commit does not checkpoint hundreds of MB
 * inside a loop turn (it measured 0.7 s for 389 MB: the link timed out).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "ha/repl_int.h"

#define REPL_SNAP_PAGES 256

static const char *const schema_of[REPL_DB_COUNT] = { "main", "cdr", "astdb" };

struct repl_snap_out {
	sqlite3 *src;
	sqlite3 *dst;
	sqlite3_backup *b;
	unsigned db;
	char path[REPL_DB_COUNT][PATH_MAX + 32];
	uint64_t size[REPL_DB_COUNT];
};

int repl_mkdirs(const char *datadir, const char *sub, char *out, size_t size)
{
	snprintf(out, size, "%s/repl", datadir);
	if (mkdir(out, 0700) && errno != EEXIST)
		return errno;
	snprintf(out, size, "%s/repl/%s", datadir, sub);
	if (mkdir(out, 0700) && errno != EEXIST)
		return errno;
	return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("cluster: snapshot: %s: %s", sql, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return EIO;
	}
	return 0;
}

int repl_snap_begin(struct repl_snap_out **sp, const char *datadir)
{
	struct repl_snap_out *s = calloc(1, sizeof(*s));
	char dir[PATH_MAX], sql[PATH_MAX + 64], file[PATH_MAX + 32];
	int e = ENOMEM;
	unsigned i;

	if (!s)
		return ENOMEM;
	if ((e = repl_mkdirs(datadir, "out", dir, sizeof(dir))))
		goto out;
	e = EIO;
	snprintf(file, sizeof(file), "%s/%s", datadir, repl_db_file(REPL_DB_TANDEM));
	if (sqlite3_open_v2(file, &s->src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)) {
		log_error("cluster: snapshot: cannot open %s: %s", file, sqlite3_errmsg(s->src));
		goto out;
	}
	for (i = 1; i < REPL_DB_COUNT; i++) {
		char *q;

		snprintf(file, sizeof(file), "%s/%s", datadir, repl_db_file(i));
		q = sqlite3_mprintf("ATTACH %Q AS %s", file, schema_of[i]);
		snprintf(sql, sizeof(sql), "%s", q ? q : "");
		sqlite3_free(q);
		if (exec(s->src, sql))
			goto out;
	}
	/* pin the three snapshots now, in this turn */
	if (exec(s->src, "BEGIN; SELECT count(*) FROM main.sqlite_master; "
		 "SELECT count(*) FROM cdr.sqlite_master; SELECT count(*) FROM astdb.sqlite_master;"))
		goto out;
	for (i = 0; i < REPL_DB_COUNT; i++)
		snprintf(s->path[i], sizeof(s->path[i]), "%s/%s", dir, repl_db_file(i));
	s->db = 0;
	*sp = s;
	return 0;
out:
	repl_snap_end(s);
	return e;
}

/* Start copying database s->db into its file. */
static int open_dst(struct repl_snap_out *s)
{
	const char *p = s->path[s->db];

	unlink(p);
	if (sqlite3_open_v2(p, &s->dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    exec(s->dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")) {
		log_error("cluster: snapshot: cannot create %s: %s", p, sqlite3_errmsg(s->dst));
		return EIO;
	}
	s->b = sqlite3_backup_init(s->dst, "main", s->src, schema_of[s->db]);
	if (!s->b) {
		log_error("cluster: snapshot of %s: %s", repl_db_file(s->db),
			  sqlite3_errmsg(s->dst));
		return EIO;
	}
	return 0;
}

/*
 * The copy was written without a journal, so SQLite marked its header
 * (bytes 18 and 19, file format versions) as a rollback-journal file;
 * the live databases are WAL files. Put back 2, 2 (WAL), or the installed
 * copy would turn the standby's WAL database into a rollback one under
 * its open connections.
 */
static int wal_header(const char *path)
{
	static const uint8_t wal[2] = { 2, 2 };
	int fd = open(path, O_RDWR | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (pwrite(fd, wal, 2, 18) != 2)
		e = errno ? errno : EIO;
	close(fd);
	return e;
}

int repl_snap_step(struct repl_snap_out *s, bool *done)
{
	uint64_t t0 = repl_now_us();
	struct stat st;
	int rc;

	*done = false;
	while (s->db < REPL_DB_COUNT && repl_now_us() - t0 < REPL_TURN_US) {
		if (!s->b && open_dst(s))
			return EIO;
		rc = sqlite3_backup_step(s->b, REPL_SNAP_PAGES);
		if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			continue;
		if (rc != SQLITE_DONE) {
			log_error("cluster: snapshot of %s: %s", repl_db_file(s->db),
				  sqlite3_errstr(rc));
			return rc == SQLITE_FULL ? ENOSPC : EIO;
		}
		sqlite3_backup_finish(s->b);
		s->b = NULL;
		sqlite3_close(s->dst);
		s->dst = NULL;
		if ((rc = wal_header(s->path[s->db])))
			return rc;
		if (stat(s->path[s->db], &st))
			return errno;
		s->size[s->db] = (uint64_t)st.st_size;
		s->db++;
	}
	*done = s->db == REPL_DB_COUNT;
	return 0;
}

uint64_t repl_snap_size(const struct repl_snap_out *s, unsigned db)
{
	return db < REPL_DB_COUNT ? s->size[db] : 0;
}

const char *repl_snap_path(const struct repl_snap_out *s, unsigned db)
{
	return db < REPL_DB_COUNT ? s->path[db] : NULL;
}

void repl_snap_end(struct repl_snap_out *s)
{
	if (!s)
		return;
	if (s->b)
		sqlite3_backup_finish(s->b);
	sqlite3_close(s->dst);
	if (s->src) {
		sqlite3_exec(s->src, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(s->src);
	}
	for (unsigned i = 0; i < REPL_DB_COUNT; i++)
		if (s->path[i][0])
			unlink(s->path[i]);
	free(s);
}

/* ------------------------------------------------------------ standby */

struct repl_install {
	sqlite3 *src, *dst;
	sqlite3_backup *b;
};

int repl_install_begin(struct repl_install **ip, const char *part, const char *live)
{
	struct repl_install *in = calloc(1, sizeof(*in));

	if (!in)
		return ENOMEM;
	if (sqlite3_open_v2(part, &in->src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_open_v2(live, &in->dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_error("cluster: cannot open %s or %s to install the snapshot", part, live);
		repl_install_end(in);
		return EIO;
	}
	sqlite3_busy_timeout(in->dst, 200);
	/* as the stores: WAL, no fsync per commit (a torn install is redone by
	 * the next full resync: the journal is reset only after it) */
	sqlite3_exec(in->dst, "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0",
		     NULL, NULL, NULL);
	in->b = sqlite3_backup_init(in->dst, "main", in->src, "main");
	if (!in->b) {
		log_error("cluster: cannot install the snapshot into %s: %s", live,
			  sqlite3_errmsg(in->dst));
		repl_install_end(in);
		return EIO;
	}
	*ip = in;
	return 0;
}

int repl_install_step(struct repl_install *in, bool *done)
{
	uint64_t t0 = repl_now_us();
	int rc;

	*done = false;
	while (repl_now_us() - t0 < REPL_TURN_US) {
		rc = sqlite3_backup_step(in->b, REPL_SNAP_PAGES);
		if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			continue;
		if (rc == SQLITE_DONE) {
			*done = true;
			return 0;
		}
		log_error("cluster: installing the snapshot: %s", sqlite3_errstr(rc));
		return rc == SQLITE_FULL ? ENOSPC : EIO;
	}
	return 0;
}

void repl_install_end(struct repl_install *in)
{
	if (!in)
		return;
	if (in->b)
		sqlite3_backup_finish(in->b);
	sqlite3_close(in->src);
	sqlite3_close(in->dst);
	free(in);
}

/* ------------------------------------------------------------ checkpoint */

struct repl_ckpt {
	pthread_t th;
	int efd;
	char path[REPL_DB_COUNT][PATH_MAX + 32];
	int failed;                       /* databases not checkpointed */

};

static void *ckpt_main(void *arg)
{
	struct repl_ckpt *c = arg;
	uint64_t one = 1;

	for (unsigned i = 0; i < REPL_DB_COUNT; i++) {
		sqlite3 *db = NULL;

		sqlite3_stmt *st = NULL;
		int rc;

		if (sqlite3_open_v2(c->path[i], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				    NULL) != SQLITE_OK ||
		    sqlite3_busy_timeout(db, 2000) != SQLITE_OK) {
			c->failed++;
			sqlite3_close(db);
			continue;
		}
		/* read first: a connection that has not opened the WAL yet
		 * checkpoints nothing (it answered -1 frames) */
		if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK)
			sqlite3_step(st);
		sqlite3_finalize(st);
		rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (rc != SQLITE_OK)
			c->failed++;
		sqlite3_close(db);
	}
	if (write(c->efd, &one, sizeof(one)) != sizeof(one))
		c->failed++;
	return NULL;
}

int repl_ckpt_start(struct repl_ckpt **cp, const char *datadir, fd_h *done, void *arg)
{
	struct repl_ckpt *c = calloc(1, sizeof(*c));
	int e;

	if (!c)
		return ENOMEM;
	for (unsigned i = 0; i < REPL_DB_COUNT; i++)
		snprintf(c->path[i], sizeof(c->path[i]), "%s/%s", datadir, repl_db_file(i));
	c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->efd < 0) {
		e = errno;
		free(c);
		return e;
	}
	if ((e = loop_fd_listen(c->efd, EPOLLIN, done, arg)) ||
	    (e = pthread_create(&c->th, NULL, ckpt_main, c))) {
		loop_fd_forget(c->efd);
		close(c->efd);
		free(c);
		return e;
	}
	*cp = c;
	return 0;
}

int repl_ckpt_end(struct repl_ckpt *c)
{
	int failed;

	if (!c)
		return 0;
	pthread_join(c->th, NULL);
	loop_fd_forget(c->efd);
	close(c->efd);
	failed = c->failed;
	free(c);
	return failed ? EIO : 0;
}
