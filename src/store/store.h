/**
 * @file store.h  Durable state under DATADIR in SQLite (DATADIR/tandem.db).
 *
 * Writes made during one loop turn go into one transaction, committed at
 * the end of the turn (group commit, WAL mode, synchronous=NORMAL: durable
 * against a killed process). Whatever must not be acknowledged before it
 * is durable registers a commit callback; callbacks run after the commit
 * with ok=false when it failed (disk full, I/O error), and the failure is
 * logged once with the database path and SQLite's reason.
 */
#ifndef TANDEM_STORE_H
#define TANDEM_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct store_binding {
	const char *peer;
	const char *contact;      /* Contact URI as registered */
	const char *source;       /* "udp:1.2.3.4:5062" where it came from */
	const char *callid;
	uint32_t cseq;
	int64_t expires_at;       /* wall clock, seconds since the epoch */
	const char *user_agent;
};

int  store_init(const char *datadir);
void store_close(void);
/** Path of the database file (for messages). */
const char *store_path(void);

int store_binding_put(const struct store_binding *b);
int store_binding_del(const char *peer);
typedef void (store_binding_h)(const struct store_binding *b, void *arg);
/** Call h for every stored binding (at start-up). */
int store_binding_load(store_binding_h *h, void *arg);

typedef void (store_commit_h)(bool ok, void *arg);
/** Run h after this turn's writes are committed (or failed). */
int store_on_commit(store_commit_h *h, void *arg);
/** Commit now (end of turn hook; also used at shutdown). */
void store_commit(void);

/* The write path (docs/design/cluster.md 2): store_binding_put/del make
 * journal entries (ha/turn.h); these apply them, on both nodes. */
struct jnl_binding_put;
struct jnl_binding_del;
struct repl_stamp;
int store_binding_apply_put(const struct jnl_binding_put *b);
int store_binding_apply_del(const struct jnl_binding_del *b);
/** Stamp the journal position in repl_meta, in this turn's transaction. */
int store_stamp(const struct repl_stamp *s);
/** The stamp; 0, ENOENT (none yet) or EIO. */
int store_stamp_get(struct repl_stamp *s);
/** The last commit failed (until one succeeds again). */
bool store_failing(void);
/** Make this turn's commit roll back instead (the journal write failed). */
void store_abort(void);

#endif
