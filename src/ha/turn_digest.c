/**
 * @file turn_digest.c  `tandemctl cluster digest` (docs/design/cluster.md
 * 1.2, 8.5): sha256 per store over a canonical dump, so two nodes at one
 * position can be shown to hold the same state.
 *
 * Dumps: every row of the replicated tables in key order, each column as
 * text (NULL as \N) ended by a tab, each row by a newline: tandem.db
 * bindings by peer; astdb.sqlite3 astdb by key; cdr.db cdr by uniqueid
 * (the spool and its ids are local bookkeeping, not compared); queue_log
 * its lines without QUEUESTART (each process writes its own). Reads the
 * committed files through a separate read-only connection, in a thread
 * for the ctl command (below).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "ha/ha.h"
#include "ha/turn.h"
#include "pbx/queue_log.h"
#include "store/astdb.h"
#include "store/cdr.h"
#include "store/store.h"

static void hex(const unsigned char *d, unsigned n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int finish(EVP_MD_CTX *c, char out[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!EVP_DigestFinal_ex(c, d, &n))
		return EIO;
	hex(d, n, out);
	return 0;
}

/*
 * A digest reads a consistent snapshot without blocking the loop (a
 * 369 MB cdr.db took 0.5 s): job_begin(), on the loop, opens one read-only
 * connection on tandem.db with cdr.db and astdb.sqlite3 ATTACHed, BEGINs
 * and reads each schema, which pins the three WAL snapshots at the last
 * committed turn (every turn commits all stores together), and notes the
 * position and queue_log's size; job_run() then hashes from any thread.
 */
struct digest_job {
	sqlite3 *db;
	char qlog[4096];
	long qlog_size;            /* -1: no queue_log */
	struct ha_digest d;
	int err;
};

static int attach(sqlite3 *db, const char *path, const char *name)
{
	sqlite3_stmt *st = NULL;
	char sql[64];
	int rc;

	snprintf(sql, sizeof(sql), "ATTACH ? AS %s", name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return EIO;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : EIO;
}

static void job_free(struct digest_job *j)
{
	if (j->db) {
		sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(j->db);
	}
	j->db = NULL;
}

static int job_begin(struct digest_job *j)
{
	const char *t = store_path(), *a = astdb_path(), *c = cdr_store_path(), *q;
	struct stat sb;

	memset(j, 0, sizeof(*j));
	if (!t || !*t || !a || !*a || !c || !*c)
		return ENODEV;
	ha_position(j->d.replid, &j->d.offset, j->d.replid2, &j->d.offset2, &j->d.epoch);
	if (sqlite3_open_v2(t, &j->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    attach(j->db, a, "astdb") || attach(j->db, c, "cdr") ||
	    sqlite3_exec(j->db, "BEGIN; SELECT count(*) FROM main.sqlite_master; "
			 "SELECT count(*) FROM astdb.sqlite_master; "
			 "SELECT count(*) FROM cdr.sqlite_master;", NULL, NULL, NULL) != SQLITE_OK) {
		job_free(j);
		return EIO;
	}
	q = queue_log_path();
	j->qlog_size = -1;
	if (q && *q && !stat(q, &sb)) {
		snprintf(j->qlog, sizeof(j->qlog), "%s", q);
		j->qlog_size = (long)sb.st_size;
	}
	return 0;
}

/* sha256 of `SELECT ... ORDER BY ...` on the job's connection. */
static int digest_sql(sqlite3 *db, const char *sql, char out[65])
{
	sqlite3_stmt *st = NULL;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int rc, e = EIO;

	if (!c)
		return ENOMEM;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    !EVP_DigestInit_ex(c, EVP_sha256(), NULL))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *v = sqlite3_column_text(st, i);
			int n = sqlite3_column_bytes(st, i);

			if (v)
				EVP_DigestUpdate(c, v, (size_t)n);
			else
				EVP_DigestUpdate(c, "\\N", 2);
			EVP_DigestUpdate(c, "\t", 1);
		}
		EVP_DigestUpdate(c, "\n", 1);
	}
	if (rc == SQLITE_DONE)
		e = finish(c, out);
out:
	sqlite3_finalize(st);
	EVP_MD_CTX_free(c);
	return e;
}

/* queue_log's first size bytes (its size when the job began). */
static int digest_qlog(const char *path, long size, char out[65])
{
	EVP_MD_CTX *c;
	char line[4096];
	long left = size;
	FILE *f;
	int e;

	if (size < 0) {   /* no queue_log: the digest of nothing */
		snprintf(out, 65, "%s",
			 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		return 0;
	}
	if (!(f = fopen(path, "r")))
		return errno;
	if (!(c = EVP_MD_CTX_new())) {
		fclose(f);
		return ENOMEM;
	}
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (left > 0 && fgets(line, (int)(left + 1 < (long)sizeof(line) ?
					     left + 1 : (long)sizeof(line)), f)) {
		left -= (long)strlen(line);
		if (!strstr(line, "|QUEUESTART|"))
			EVP_DigestUpdate(c, line, strlen(line));
	}
	e = ferror(f) ? EIO : finish(c, out);
	fclose(f);
	EVP_MD_CTX_free(c);
	return e;
}

static void job_run(struct digest_job *j)
{
	struct ha_digest *d = &j->d;

	if (!(j->err = digest_sql(j->db, "SELECT peer, contact, source, callid, cseq, "
				  "expires_at, user_agent FROM main.bindings ORDER BY peer",
				  d->bindings)) &&
	    !(j->err = digest_sql(j->db, "SELECT key, value FROM astdb.astdb ORDER BY key",
				  d->astdb)) &&
	    !(j->err = digest_sql(j->db, "SELECT * FROM cdr.cdr ORDER BY uniqueid, sequence",
				  d->cdr)))
		j->err = digest_qlog(j->qlog, j->qlog_size, d->queue_log);
	job_free(j);
}

int ha_digest(struct ha_digest *d)
{
	struct digest_job j;
	int e;

	memset(d, 0, sizeof(*d));
	if ((e = job_begin(&j)))
		return e;
	job_run(&j);
	*d = j.d;
	return j.err;
}

/* The ctl command runs the job in a thread: the first call starts it and
 * answers {"pending": true}; tandemctl asks again until the result. */
static struct {
	bool running;
	atomic_bool done;
	pthread_t th;
	struct digest_job job;
	int64_t done_us;
} A;

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *job_main(void *arg)
{
	(void)arg;
	job_run(&A.job);
	A.done_us = mono_us();
	atomic_store(&A.done, true);
	return NULL;
}

static json_t *digest_result(const struct ha_digest *d)
{
	char text[512];

	snprintf(text, sizeof(text), "position  %s:%" PRIu64 " epoch %" PRIu64 "\n"
		 "bindings  %s\nastdb     %s\ncdr       %s\nqueue_log %s", d->replid, d->offset,
		 d->epoch, d->bindings, d->astdb, d->cdr, d->queue_log);
	return json_pack("{s:s, s:s, s:I, s:I, s:{s:s, s:s, s:s, s:s}}", "result", text,
			 "replid", d->replid, "offset", (json_int_t)d->offset,
			 "epoch", (json_int_t)d->epoch, "stores", "bindings", d->bindings,
			 "astdb", d->astdb, "cdr", d->cdr, "queue_log", d->queue_log);
}

json_t *ha_digest_json(char *err, size_t errsize)
{
	int e;

	if (A.running && atomic_load(&A.done)) {
		pthread_join(A.th, NULL);
		A.running = false;
		/* a result nobody collected for 10 s is stale: start again */
		if (mono_us() - A.done_us < 10000000) {
			if (A.job.err) {
				snprintf(err, errsize, "cluster digest: cannot read the stores: %s",
					 strerror(A.job.err));
				return NULL;
			}
			return digest_result(&A.job.d);
		}
	}
	if (A.running)
		return json_pack("{s:s, s:b}", "result", "computing", "pending", 1);
	if ((e = job_begin(&A.job))) {
		snprintf(err, errsize, "cluster digest: cannot read the stores: %s", strerror(e));
		return NULL;
	}
	atomic_store(&A.done, false);
	if ((e = pthread_create(&A.th, NULL, job_main, NULL))) {
		job_free(&A.job);
		snprintf(err, errsize, "cluster digest: cannot start its thread: %s", strerror(e));
		return NULL;
	}
	A.running = true;
	return json_pack("{s:s, s:b}", "result", "computing", "pending", 1);
}
