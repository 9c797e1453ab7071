/**
 * @file astdb.c  Asterisk's DB in DATADIR/astdb.sqlite3 (see astdb.h).
 *
 * Layout, as Asterisk's main/db.c creates it:
 *   CREATE TABLE astdb(key VARCHAR(256), value VARCHAR(256), PRIMARY KEY(key))
 * with key "/family/key". A family's keys are the range
 * ["/family/", "/family0") ('0' follows '/'), which the primary key index
 * answers; Asterisk's LIKE would also take '_' and '%' in a family as
 * wildcards and compare without case.
 *
 * Group commit: the first write of a loop turn opens a transaction,
 * astdb_commit() closes it at the end of the turn. This is store.c's
 * design on a connection of its own: the file must be Asterisk's
 * astdb.sqlite3, and SQLite commits attached WAL databases one by one, so
 * sharing tandem.db's transaction would buy nothing.
 *
 * Failures are logged once (file, operation, SQLite's reason) until a write
 * is committed again; an error SQLite answers by rolling the whole
 * transaction back (disk full, I/O error) is logged as losing the turn's
 * earlier writes too.
 */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/astdb.h"
#include "store/repl_meta.h"

#define BUSY_MS 100   /* another process's write lock: wait this long */

static struct {
	sqlite3 *db;
	char path[PATH_MAX];
	bool readonly;
	bool in_txn;
	size_t turn_writes;   /* writes that succeeded in the open transaction */
	bool failing;         /* writes fail: logged once */
	bool turn_failed;     /* a write of this turn failed: no stamp */
	bool read_failing;    /* reads fail: logged once */
	sqlite3_stmt *st_get, *st_put, *st_del;
	astdb_write_h *hook;
	void *hook_arg;
} s;

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS astdb(key VARCHAR(256), value VARCHAR(256),"
	" PRIMARY KEY(key));";

const char *astdb_path(void)
{
	return s.path;
}

void astdb_set_write_hook(astdb_write_h *h, void *arg)
{
	s.hook = h;
	s.hook_arg = arg;
}

static int err_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_READONLY: return EROFS;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return EBUSY;
	case SQLITE_NOMEM: return ENOMEM;
	default: return EIO;
	}
}

static int exec(const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s.db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		log_error("astdb: %s: %s", s.path, msg ? msg : sqlite3_errmsg(s.db));
		sqlite3_free(msg);
		return err_of(rc);
	}
	return 0;
}

/* "/family/key" (or "/family" when key is NULL), malloc'd. */
static char *full_key(const char *family, const char *key)
{
	size_t fl = strlen(family), kl = key ? strlen(key) : 0;
	char *k = malloc(fl + kl + 3);

	if (!k)
		return NULL;
	k[0] = '/';
	memcpy(k + 1, family, fl);
	if (key) {
		k[fl + 1] = '/';
		memcpy(k + fl + 2, key, kl);
		k[fl + 2 + kl] = '\0';
	} else {
		k[fl + 1] = '\0';
	}
	return k;
}

/* ------------------------------------------------------------ lifetime */

static int prepare(const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(s.db, sql, -1, st, NULL) != SQLITE_OK) {
		log_error("astdb: %s: %s", s.path, sqlite3_errmsg(s.db));
		return EIO;
	}
	return 0;
}

static void release(void)
{
	sqlite3_finalize(s.st_get);
	sqlite3_finalize(s.st_put);
	sqlite3_finalize(s.st_del);
	if (s.db)
		sqlite3_close(s.db);
	s.db = NULL;
	s.st_get = s.st_put = s.st_del = NULL;
	s.in_txn = s.readonly = s.failing = s.read_failing = false;
	s.turn_writes = 0;
}

int astdb_init(const char *datadir)
{
	int rc, e = EIO;

	if (s.db)
		return EALREADY;
	snprintf(s.path, sizeof(s.path), "%s/astdb.sqlite3", datadir);
	rc = sqlite3_open_v2(s.path, &s.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_error("astdb: cannot open %s: %s", s.path, sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(s.db, BUSY_MS);
	s.readonly = sqlite3_db_readonly(s.db, "main") == 1;
	if (s.readonly) {
		log_warn("astdb: %s is read-only: DB() reads work, every write fails",
			 s.path);
	} else if ((e = exec("PRAGMA journal_mode=WAL;")) ||
		   (e = exec("PRAGMA synchronous=NORMAL;")) || (e = exec(schema))) {
		goto out;
	} else if (repl_meta_init(s.db)) {
		log_error("astdb: %s: %s", s.path, sqlite3_errmsg(s.db));
		goto out;
	}
	e = EIO;
	if (prepare("SELECT value FROM astdb WHERE key=?", &s.st_get) ||
	    prepare("INSERT OR REPLACE INTO astdb (key, value) VALUES (?, ?)", &s.st_put) ||
	    prepare("DELETE FROM astdb WHERE key=?", &s.st_del))
		goto out;
	return 0;
out:
	release();
	return e;
}

void astdb_close(void)
{
	if (!s.db)
		return;
	astdb_commit();
	release();
}

/* ------------------------------------------------------------- commit */

int astdb_commit(void)
{
	int rc;

	s.turn_failed = false;
	if (!s.db || !s.in_txn)
		return 0;
	s.in_txn = false;
	rc = sqlite3_exec(s.db, "COMMIT;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		if (!s.failing)
			log_error("astdb: commit to %s failed: %s; the %zu writes of this turn "
				  "are lost", s.path, sqlite3_errmsg(s.db), s.turn_writes);
		s.failing = true;
		s.turn_writes = 0;
		sqlite3_exec(s.db, "ROLLBACK;", NULL, NULL, NULL);
		return EIO;
	}
	if (s.failing && s.turn_writes) {
		log_notice("astdb: writes to %s succeed again", s.path);
		s.failing = false;
	}
	s.turn_writes = 0;
	return 0;
}

static int begin(void)
{
	int e;

	if (s.in_txn)
		return 0;
	if ((e = exec("BEGIN;")))
		return e;
	s.in_txn = true;
	return 0;
}

/* Run a write statement (bound by the caller) in the turn's transaction. */
static int wstep(sqlite3_stmt *st, const char *what, const char *key, size_t *changes)
{
	int rc = sqlite3_step(st), e = 0;

	if (rc == SQLITE_DONE) {
		*changes = (size_t)sqlite3_changes(s.db);
		s.turn_writes++;
	} else {
		e = err_of(rc);
		if (!s.failing)
			log_error("astdb: %s %s in %s failed: %s", what, key, s.path,
				  sqlite3_errmsg(s.db));
		s.failing = true;
		s.turn_failed = true;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (e && s.in_txn && sqlite3_get_autocommit(s.db)) {
		if (s.turn_writes)
			log_error("astdb: SQLite rolled back the %zu earlier writes of this turn "
				  "to %s", s.turn_writes, s.path);
		s.in_txn = false;
		s.turn_writes = 0;
	}
	return e;
}

/* ---------------------------------------------------------- the write path */

int astdb_stamp(const struct repl_stamp *st)
{
	int e;

	if (!s.db || s.readonly)
		return s.db ? EROFS : ENODEV;
	if (s.turn_failed)   /* the stamp stays behind: replayed at start */
		return EIO;
	if ((e = begin()))
		return e;
	if (repl_meta_put(s.db, st)) {
		if (!s.failing)
			log_error("astdb: stamp in %s failed: %s", s.path, sqlite3_errmsg(s.db));
		s.failing = true;
		return EIO;
	}
	return 0;
}

int astdb_stamp_get(struct repl_stamp *st)
{
	if (!s.db)
		return ENODEV;
	if (s.readonly)
		return ENOENT;
	return repl_meta_get(s.db, st);
}

void astdb_abort(void)
{
	if (!s.db || !s.in_txn)
		return;
	s.in_txn = false;
	s.turn_writes = 0;
	sqlite3_exec(s.db, "ROLLBACK;", NULL, NULL, NULL);
}

static int apply_deltree(const struct astdb_op *op, size_t *changes)
{
	sqlite3_stmt *st = NULL;
	char *pre = full_key(op->family, op->key && *op->key ? op->key : NULL);
	size_t pl;
	int e = ENOMEM;

	if (!pre)
		return ENOMEM;
	pl = strlen(pre);
	char *lo = malloc(pl + 2), *hi = malloc(pl + 2);
	if (!lo || !hi)
		goto out;
	memcpy(lo, pre, pl);
	memcpy(hi, pre, pl);
	lo[pl] = '/';
	hi[pl] = '/' + 1;
	lo[pl + 1] = hi[pl + 1] = '\0';
	if ((e = prepare("DELETE FROM astdb WHERE key=?1 OR (key>=?2 AND key<?3)", &st)))
		goto out;
	sqlite3_bind_text(st, 1, pre, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hi, -1, SQLITE_STATIC);
	e = wstep(st, "deltree", pre, changes);
out:
	sqlite3_finalize(st);
	free(pre);
	free(lo);
	free(hi);
	return e;
}

/*
 * THE write path: every change to the DB passes here (astdb_put, astdb_del
 * and astdb_deltree only build the op). A replication layer hooks in here
 * and nowhere else: journal the op, apply journalled ops with this function
 * on both nodes, and the DB follows.
 */
int astdb_apply(const struct astdb_op *op, size_t *changed)
{
	size_t n = 0;
	char *k = NULL;
	int e;

	if (!s.db)
		return ENODEV;
	if (!op || !op->family || !*op->family ||
	    (op->kind != ASTDB_DELTREE && (!op->key || !*op->key)))
		return EINVAL;
	if ((e = begin()))
		return e;
	switch (op->kind) {
	case ASTDB_PUT:
	case ASTDB_DEL:
		if (!(k = full_key(op->family, op->key)))
			return ENOMEM;
		if (op->kind == ASTDB_PUT) {
			sqlite3_bind_text(s.st_put, 1, k, -1, SQLITE_STATIC);
			sqlite3_bind_text(s.st_put, 2, op->value ? op->value : "", -1,
					  SQLITE_STATIC);
			e = wstep(s.st_put, "put", k, &n);
		} else {
			sqlite3_bind_text(s.st_del, 1, k, -1, SQLITE_STATIC);
			e = wstep(s.st_del, "del", k, &n);
		}
		free(k);
		break;
	case ASTDB_DELTREE:
		e = apply_deltree(op, &n);
		break;
	default:
		return EINVAL;
	}
	if (e)
		return e;
	if (changed)
		*changed = n;
	if (n && s.hook)
		s.hook(op, s.hook_arg);
	return 0;
}

int astdb_put(const char *family, const char *key, const char *value)
{
	struct astdb_op op = { ASTDB_PUT, family, key, value };

	return astdb_apply(&op, NULL);
}

int astdb_del(const char *family, const char *key)
{
	struct astdb_op op = { ASTDB_DEL, family, key, NULL };
	size_t n = 0;
	int e = astdb_apply(&op, &n);

	return e ? e : n ? 0 : ENOENT;
}

int astdb_deltree(const char *family, const char *keytree, size_t *deleted)
{
	struct astdb_op op = { ASTDB_DELTREE, family, keytree, NULL };
	size_t n = 0;
	int e = astdb_apply(&op, &n);

	if (!e && deleted)
		*deleted = n;
	return e;
}

/* ------------------------------------------------------------- reads */

static int read_failed(int rc, const char *key)
{
	if (!s.read_failing)
		log_error("astdb: reading %s from %s failed: %s", key, s.path,
			  sqlite3_errmsg(s.db));
	s.read_failing = true;
	return err_of(rc);
}

int astdb_get(const char *family, const char *key, char **value)
{
	char *k, *v = NULL;
	int rc, e = 0;

	if (!s.db)
		return ENODEV;
	if (!family || !*family || !key || !*key)
		return EINVAL;
	if (!(k = full_key(family, key)))
		return ENOMEM;
	sqlite3_bind_text(s.st_get, 1, k, -1, SQLITE_STATIC);
	rc = sqlite3_step(s.st_get);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s.st_get, 0);

		if (!(v = strdup(t ? t : "")))
			e = ENOMEM;
		s.read_failing = false;
	} else if (rc == SQLITE_DONE) {
		e = ENOENT;
		s.read_failing = false;
	} else {
		e = read_failed(rc, k);
	}
	sqlite3_reset(s.st_get);
	sqlite3_clear_bindings(s.st_get);
	free(k);
	if (!e)
		*value = v;
	return e;
}

/* Split "/a/b/c" into "a" and "b/c" (in place) and call h. */
static void emit(char *full, const char *value, astdb_entry_h *h, void *arg)
{
	char *fam = full[0] == '/' ? full + 1 : full, *key = strchr(fam, '/');

	if (key)
		*key++ = '\0';
	h(fam, key ? key : "", value ? value : "", arg);
}

int astdb_show(const char *family, astdb_entry_h *h, void *arg)
{
	sqlite3_stmt *st = NULL;
	char *lo = NULL, *hi = NULL;
	int rc, e;

	if (!s.db)
		return ENODEV;
	if (family && *family) {
		if (!(lo = full_key(family, "")) || !(hi = full_key(family, "")))
			goto oom;
		hi[strlen(hi) - 1] = '/' + 1;
		e = prepare("SELECT key, value FROM astdb WHERE key>=?1 AND key<?2 ORDER BY key",
			    &st);
		if (!e) {
			sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
		}
	} else {
		e = prepare("SELECT key, value FROM astdb ORDER BY key", &st);
	}
	if (e)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		char *copy = strdup(k ? k : "");

		if (!copy)
			goto oom;
		emit(copy, (const char *)sqlite3_column_text(st, 1), h, arg);
		free(copy);
	}
	e = rc == SQLITE_DONE ? 0 : read_failed(rc, lo ? lo : "every key");
	if (!e)
		s.read_failing = false;
	goto out;
oom:
	e = ENOMEM;
out:
	sqlite3_finalize(st);
	free(lo);
	free(hi);
	return e;
}
