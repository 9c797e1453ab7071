/**
 * @file store.c  SQLite store with group commit (see store.h).
 */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ha/turn.h"
#include "store/repl_meta.h"
#include "store/store.h"

struct pending {
	store_commit_h *h;
	void *arg;
};

static sqlite3 *db;
static char dbpath[PATH_MAX];
static bool failing;   /* last commit failed: log recovery once */
static bool in_txn;
static bool txn_failed;
static struct pending *pend;
static size_t npend, cappend;
static sqlite3_stmt *st_put, *st_del;

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS bindings ("
	" peer TEXT PRIMARY KEY, contact TEXT NOT NULL, source TEXT NOT NULL,"
	" callid TEXT, cseq INTEGER, expires_at INTEGER NOT NULL, user_agent TEXT);";

const char *store_path(void)
{
	return dbpath;
}

static int exec(const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("store: %s: %s", dbpath, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return EIO;
	}
	return 0;
}

int store_init(const char *datadir)
{
	int rc;

	snprintf(dbpath, sizeof(dbpath), "%s/tandem.db", datadir);
	rc = sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_error("store: cannot open %s: %s", dbpath, sqlite3_errstr(rc));
		sqlite3_close(db);
		db = NULL;
		return EIO;
	}
	sqlite3_busy_timeout(db, 2000);
	if (exec("PRAGMA journal_mode=WAL;") || exec("PRAGMA synchronous=NORMAL;") ||
	    exec(schema))
		return EIO;
	if (repl_meta_init(db)) {
		log_error("store: %s: %s", dbpath, sqlite3_errmsg(db));
		return EIO;
	}
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO bindings VALUES (?,?,?,?,?,?,?)",
			       -1, &st_put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM bindings WHERE peer=?", -1, &st_del,
			       NULL) != SQLITE_OK) {
		log_error("store: %s: %s", dbpath, sqlite3_errmsg(db));
		return EIO;
	}
	return 0;
}

void store_close(void)
{
	store_commit();
	sqlite3_finalize(st_put);
	sqlite3_finalize(st_del);
	st_put = st_del = NULL;
	if (db)
		sqlite3_close(db);
	db = NULL;
	free(pend);
	pend = NULL;
	npend = cappend = 0;
}

static int begin(void)
{
	if (in_txn)
		return 0;
	if (exec("BEGIN;"))
		return EIO;
	in_txn = true;
	txn_failed = false;
	return 0;
}

static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		if (!failing && !txn_failed)
			log_error("store: write to %s failed: %s", dbpath, sqlite3_errmsg(db));
		txn_failed = true;
		return EIO;
	}
	return 0;
}

/* The write path (ha/turn.h): each change is an entry, recorded in the
 * turn when there is a journal, and applied by the apply functions below,
 * which the standby runs on the entries it receives. */
int store_binding_put(const struct store_binding *b)
{
	struct jnl_entry e = { .type = JNL_BINDING_PUT };

	e.u.bput = (struct jnl_binding_put){
		jnl_pl(b->peer), jnl_pl(b->contact), jnl_pl(b->source), jnl_pl(b->callid),
		b->cseq, b->expires_at, jnl_pl(b->user_agent), jnl_pl(ha_node())
	};
	return ha_write(&e);
}

int store_binding_del(const char *peer)
{
	struct jnl_entry e = { .type = JNL_BINDING_DEL };

	e.u.bdel = (struct jnl_binding_del){ jnl_pl(peer), JNL_UNREGISTER };
	return ha_write(&e);
}

static void bind_pl(sqlite3_stmt *st, int i, const struct pl *v)
{
	sqlite3_bind_text(st, i, v->p ? v->p : "", (int)v->l, SQLITE_STATIC);
}

int store_binding_apply_put(const struct jnl_binding_put *b)
{
	if (!db || begin())
		return EIO;
	bind_pl(st_put, 1, &b->peer);
	bind_pl(st_put, 2, &b->contact);
	bind_pl(st_put, 3, &b->source);
	bind_pl(st_put, 4, &b->callid);
	sqlite3_bind_int64(st_put, 5, b->cseq);
	sqlite3_bind_int64(st_put, 6, b->expires_at);
	bind_pl(st_put, 7, &b->user_agent);
	return step(st_put);
}

int store_binding_apply_del(const struct jnl_binding_del *b)
{
	if (!db || begin())
		return EIO;
	bind_pl(st_del, 1, &b->peer);
	return step(st_del);
}

int store_stamp(const struct repl_stamp *s)
{
	if (!db || begin())
		return EIO;
	if (repl_meta_put(db, s)) {
		if (!failing && !txn_failed)
			log_error("store: write to %s failed: %s", dbpath, sqlite3_errmsg(db));
		txn_failed = true;
		return EIO;
	}
	return 0;
}

int store_stamp_get(struct repl_stamp *s)
{
	return db ? repl_meta_get(db, s) : EIO;
}

bool store_failing(void)
{
	return failing;
}

void store_abort(void)
{
	if (in_txn)
		txn_failed = true;
}

int store_binding_load(store_binding_h *h, void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (!db)
		return EIO;
	if (sqlite3_prepare_v2(db, "SELECT peer,contact,source,callid,cseq,expires_at,"
			       "user_agent FROM bindings", -1, &st, NULL) != SQLITE_OK)
		return EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_binding b = {
			.peer = (const char *)sqlite3_column_text(st, 0),
			.contact = (const char *)sqlite3_column_text(st, 1),
			.source = (const char *)sqlite3_column_text(st, 2),
			.callid = (const char *)sqlite3_column_text(st, 3),
			.cseq = (uint32_t)sqlite3_column_int64(st, 4),
			.expires_at = sqlite3_column_int64(st, 5),
			.user_agent = (const char *)sqlite3_column_text(st, 6),
		};
		if (b.peer && b.contact && b.source)
			h(&b, arg);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : EIO;
}

int store_on_commit(store_commit_h *h, void *arg)
{
	if (npend == cappend) {
		size_t n = cappend ? cappend * 2 : 64;
		struct pending *p = realloc(pend, n * sizeof(*p));
		if (!p)
			return ENOMEM;
		pend = p;
		cappend = n;
	}
	pend[npend++] = (struct pending){ h, arg };
	return 0;
}

void store_commit(void)
{
	bool ok = true;
	size_t i, n;

	if (in_txn) {
		if (txn_failed || sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
			if (!txn_failed && !failing)   /* once, until writes succeed again */
				log_error("store: commit to %s failed: %s", dbpath,
					  sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
			ok = false;
			failing = true;
		} else if (failing) {
			log_notice("store: writes to %s succeed again", dbpath);
			failing = false;
		}
		in_txn = false;
		txn_failed = false;
	}
	if (!npend)
		return;
	/* callbacks may queue work for the next turn: detach the list first */
	struct pending *list = pend;
	n = npend;
	pend = NULL;
	npend = cappend = 0;
	for (i = 0; i < n; i++)
		list[i].h(ok, list[i].arg);
	free(list);
}
