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
 * committed files through a separate read-only connection.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

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

/* sha256 of `SELECT ... ORDER BY ...` on file path ("" -> ENODEV). */
static int digest_sql(const char *path, const char *sql, char out[65])
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int rc, e = EIO;

	if (!c)
		return ENOMEM;
	if (!path || !*path) {
		e = ENODEV;
		goto out;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
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
	sqlite3_close(db);
	EVP_MD_CTX_free(c);
	return e;
}

static int digest_qlog(const char *path, char out[65])
{
	EVP_MD_CTX *c;
	char line[4096];
	FILE *f;
	int e;

	if (!path || !*path)
		return ENODEV;
	if (!(f = fopen(path, "r")))
		return errno;
	if (!(c = EVP_MD_CTX_new())) {
		fclose(f);
		return ENOMEM;
	}
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (fgets(line, sizeof(line), f))
		if (!strstr(line, "|QUEUESTART|"))
			EVP_DigestUpdate(c, line, strlen(line));
	e = ferror(f) ? EIO : finish(c, out);
	fclose(f);
	EVP_MD_CTX_free(c);
	return e;
}

int ha_digest(struct ha_digest *d)
{
	int e;

	memset(d, 0, sizeof(*d));
	ha_position(d->replid, &d->offset, d->replid2, &d->offset2, &d->epoch);
	if ((e = digest_sql(store_path(), "SELECT peer, contact, source, callid, cseq, "
			    "expires_at, user_agent FROM bindings ORDER BY peer", d->bindings)) ||
	    (e = digest_sql(astdb_path(), "SELECT key, value FROM astdb ORDER BY key",
			    d->astdb)) ||
	    (e = digest_sql(cdr_store_path(), "SELECT * FROM cdr ORDER BY uniqueid, "
			    "sequence", d->cdr)))
		return e;
	e = digest_qlog(queue_log_path(), d->queue_log);
	if (e == ENODEV || e == ENOENT) {   /* no queue_log: the digest of nothing */
		snprintf(d->queue_log, sizeof(d->queue_log), "%s",
			 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		e = 0;
	}
	return e;
}

json_t *ha_digest_json(char *err, size_t errsize)
{
	struct ha_digest d;
	char text[512];
	int e = ha_digest(&d);

	if (e) {
		snprintf(err, errsize, "cluster digest: cannot read the stores: %s", strerror(e));
		return NULL;
	}
	snprintf(text, sizeof(text), "position  %s:%" PRIu64 " epoch %" PRIu64 "\n"
		 "bindings  %s\nastdb     %s\ncdr       %s\nqueue_log %s", d.replid, d.offset,
		 d.epoch, d.bindings, d.astdb, d.cdr, d.queue_log);
	return json_pack("{s:s, s:s, s:I, s:I, s:{s:s, s:s, s:s, s:s}}", "result", text,
			 "replid", d.replid, "offset", (json_int_t)d.offset,
			 "epoch", (json_int_t)d.epoch, "stores", "bindings", d.bindings,
			 "astdb", d.astdb, "cdr", d.cdr, "queue_log", d.queue_log);
}
