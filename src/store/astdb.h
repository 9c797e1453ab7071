/**
 * @file astdb.h  Asterisk's DB: families and keys, in SQLite at
 * DATADIR/astdb.sqlite3 in Asterisk's own layout (table astdb(key, value),
 * key "/family/key"), so a copy of Asterisk's astdb.sqlite3 works as it is
 * and admins' sqlite3 scripts keep working.
 *
 * Writes made during one loop turn go into one transaction that
 * astdb_commit() commits at the end of the turn (main.c's turn hook), the
 * group commit of store.h: WAL, synchronous=NORMAL, so a write costs an
 * insert into the page cache and the turn one WAL append, durable against
 * a killed process. The daemon's own reads see its uncommitted writes.
 * Failures are logged with the file and SQLite's reason, once until writes
 * succeed again, and returned as errno values:
 *   ENOENT no such key, ENODEV the DB is not open, EROFS the file is
 *   read-only, EBUSY another process holds the write lock, EIO anything
 *   else SQLite reports (disk full, I/O error, corrupt file), EINVAL an
 *   empty family or key, ENOMEM.
 *
 * A family may itself contain '/': ("a/b", "c") is the key "/a/b/c", the
 * same key DB(a/b/c) reaches (family "a", key "b/c"), as in Asterisk.
 */
#ifndef TANDEM_ASTDB_H
#define TANDEM_ASTDB_H

#include <stdbool.h>
#include <stddef.h>

/** Open (creating it if needed) DATADIR/astdb.sqlite3. A read-only file
 * opens read-only, with a warning: reads work, writes fail with EROFS. */
int  astdb_init(const char *datadir);
/** Commit what is pending and close. */
void astdb_close(void);
/** Path of the database file (for messages); "" before astdb_init. */
const char *astdb_path(void);
/** Commit this turn's writes now (end-of-turn hook; tandemctl before it
 * answers). 0, or EIO when the commit failed: the turn's writes are lost. */
int  astdb_commit(void);

/** Value of family/key in *value (malloc'd, the caller frees). */
int  astdb_get(const char *family, const char *key, char **value);
int  astdb_put(const char *family, const char *key, const char *value);
/** Delete family/key; ENOENT when it does not exist. */
int  astdb_del(const char *family, const char *key);
/** Delete every key of family (keytree NULL or "") or of family/keytree;
 * *deleted (may be NULL) gets how many. Deleting nothing is not an error. */
int  astdb_deltree(const char *family, const char *keytree, size_t *deleted);

/** One entry: the full key split at its second '/' ("/a/b/c": family
 * "a", key "b/c"). */
typedef void (astdb_entry_h)(const char *family, const char *key,
			     const char *value, void *arg);
/** Call h for every key of family (NULL: every key), in key order. */
int  astdb_show(const char *family, astdb_entry_h *h, void *arg);

/* ------------------------------------------------------------------ */
/* The write path                                                      */

enum astdb_op_kind { ASTDB_PUT, ASTDB_DEL, ASTDB_DELTREE };

/** One change: family and key as the functions above take them (key is
 * the keytree, possibly NULL, for ASTDB_DELTREE; value only for PUT). */
struct astdb_op {
	enum astdb_op_kind kind;
	const char *family;
	const char *key;
	const char *value;
};

/**
 * Apply one change. Every write goes through here (put, del and deltree
 * are wrappers), so this is where a replication layer hooks in: it appends
 * the op to the node's journal and applies journal entries, here and on
 * the other node, with this function. *changed (may be NULL) gets the
 * number of keys written or deleted; deleting nothing is 0 and no error.
 */
int  astdb_apply(const struct astdb_op *op, size_t *changed);

/** Called after each op that changed something, in order (NULL: off). */
typedef void (astdb_write_h)(const struct astdb_op *op, void *arg);
void astdb_set_write_hook(astdb_write_h *h, void *arg);

struct repl_stamp;
/** Stamp the journal position (store/repl_meta.h) in this turn's
 * transaction; astdb_stamp_get reads it (ENOENT: none). */
int  astdb_stamp(const struct repl_stamp *st);
int  astdb_stamp_get(struct repl_stamp *st);
/** Roll this turn's writes back (the journal write failed). */
void astdb_abort(void);

#endif
