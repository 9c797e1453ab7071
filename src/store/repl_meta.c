/** @file repl_meta.c  Position stamps in each store file (repl_meta.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/repl_meta.h"

int repl_meta_init(sqlite3 *db)
{
	return sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS repl_meta ("
			    " id INTEGER PRIMARY KEY CHECK (id = 1), replid TEXT NOT NULL,"
			    " offset INTEGER NOT NULL, replid2 TEXT NOT NULL,"
			    " offset2 INTEGER NOT NULL, epoch INTEGER NOT NULL);",
			    NULL, NULL, NULL) == SQLITE_OK ? 0 : EIO;
}

int repl_meta_put(sqlite3 *db, const struct repl_stamp *s)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO repl_meta VALUES (1,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return EIO;
	sqlite3_bind_text(st, 1, s->replid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)s->offset);
	sqlite3_bind_text(st, 3, s->replid2, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)s->offset2);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)s->epoch);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : EIO;
}

int repl_meta_get(sqlite3 *db, struct repl_stamp *s)
{
	sqlite3_stmt *st;
	int rc, e = ENOENT;

	if (sqlite3_prepare_v2(db, "SELECT replid, offset, replid2, offset2, epoch "
			       "FROM repl_meta WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
		return EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		const char *r2 = (const char *)sqlite3_column_text(st, 2);

		memset(s, 0, sizeof(*s));
		snprintf(s->replid, sizeof(s->replid), "%s", r ? r : "");
		s->offset = (uint64_t)sqlite3_column_int64(st, 1);
		snprintf(s->replid2, sizeof(s->replid2), "%s", r2 ? r2 : "");
		s->offset2 = (uint64_t)sqlite3_column_int64(st, 3);
		s->epoch = (uint64_t)sqlite3_column_int64(st, 4);
		e = 0;
	} else if (rc != SQLITE_DONE) {
		e = EIO;
	}
	sqlite3_finalize(st);
	return e;
}
