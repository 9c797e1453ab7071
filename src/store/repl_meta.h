/**
 * @file repl_meta.h  The position stamp each store file keeps
 * (docs/design/cluster.md 2.4): one row of repl_meta(replid, offset,
 * replid2, offset2, epoch), written in the turn's own transaction, so a
 * file's stamp names exactly the journal prefix its contents reflect.
 */
#ifndef TANDEM_STORE_REPL_META_H
#define TANDEM_STORE_REPL_META_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "ha/jnl_codec.h"

struct repl_stamp {
	char replid[JNL_REPLID_LEN + 1];    /* "" when the file has no stamp */
	uint64_t offset;
	char replid2[JNL_REPLID_LEN + 1];
	uint64_t offset2;
	uint64_t epoch;
};

/** Create the table if missing (SQL error: logged by the caller). */
int repl_meta_init(sqlite3 *db);
/** Write s as the file's stamp (inside the caller's transaction). */
int repl_meta_put(sqlite3 *db, const struct repl_stamp *s);
/** Read the stamp; 0, ENOENT (never stamped) or EIO. */
int repl_meta_get(sqlite3 *db, struct repl_stamp *s);

#endif
