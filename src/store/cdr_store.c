/**
 * @file cdr_store.c  DATADIR/cdr.db: the cdr table, the MariaDB spool and
 * the uniqueid sequence, written once per loop turn (group commit).
 *
 * Write path, every backend:
 *  1. cdr_post() keeps the complete record in memory (this turn's batch).
 *  2. cdr_store_commit(), at the end of the turn, writes the batch in one
 *     transaction into `cdr`; with backend = mariadb, also the uniqueid of
 *     each record into `cdr_spool` (id AUTOINCREMENT, so ids only grow).
 *     A failed commit (disk full, I/O error, locked) keeps the batch in
 *     memory and retries every second, logged once; past HOLD_MAX records
 *     the oldest half is logged as lost, in full, as CSV.
 *
 * MariaDB (cdr_mariadb.c runs the blocking client in its own thread):
 *  3. After a commit the loop hands the writer the spool rows with an id
 *     above the last one handed, at most INFLIGHT_MAX in flight.
 *  4. The writer INSERT IGNOREs them and reports their spool ids on its
 *     eventfd; the loop deletes them from `cdr_spool` in the next commit.
 *  Invariant: a record leaves the spool only after MariaDB acknowledged
 *  it. A crash or a stop at any point leaves it spooled; the next start
 *  sends it again and the UNIQUE key on uniqueid makes that a no-op, so
 *  every record arrives and none twice. A slow or dead server only makes
 *  the spool grow on disk; calls never wait for it.
 *
 * Only the serving node runs the writer thread; cdr_feed.c starts and
 * stops it with the role and hands it the spool (steps 3 and 4).
 *
 * The local `cdr` table keeps every record with either backend, so
 * `tandemctl cdr --last N` works while MariaDB is away.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ha/ha.h"
#include "ha/turn.h"
#include "store/repl_meta.h"
#include "store/cdr.h"
#include "store/cdr_int.h"

#define HOLD_MAX      10000   /* records kept in memory while cdr.db fails */
#define SEQ_BLOCK     1000    /* sequence numbers reserved per cdr.db write */
#define RETRY_MS      1000

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS cdr ("
	" calldate TEXT NOT NULL, clid TEXT NOT NULL DEFAULT '',"
	" src TEXT NOT NULL DEFAULT '', dst TEXT NOT NULL DEFAULT '',"
	" dcontext TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL DEFAULT '',"
	" dstchannel TEXT NOT NULL DEFAULT '', lastapp TEXT NOT NULL DEFAULT '',"
	" lastdata TEXT NOT NULL DEFAULT '', duration INTEGER NOT NULL DEFAULT 0,"
	" billsec INTEGER NOT NULL DEFAULT 0, disposition TEXT NOT NULL DEFAULT '',"
	" amaflags TEXT NOT NULL DEFAULT '', accountcode TEXT NOT NULL DEFAULT '',"
	" uniqueid TEXT NOT NULL UNIQUE, userfield TEXT NOT NULL DEFAULT '',"
	" linkedid TEXT NOT NULL DEFAULT '', peeraccount TEXT NOT NULL DEFAULT '',"
	" sequence INTEGER NOT NULL DEFAULT 0,"
	" start TEXT NOT NULL, answer TEXT, \"end\" TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS cdr_calldate ON cdr(calldate);"
	"CREATE TABLE IF NOT EXISTS cdr_spool ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, uniqueid TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS cdr_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

#define COLS "calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata," \
	"duration,billsec,disposition,amaflags,accountcode,uniqueid,userfield," \
	"linkedid,peeraccount,sequence,start,answer,\"end\""
#define NCOLS 22

static struct {
	sqlite3 *db;
	char path[PATH_MAX];
	struct cdr_conf cc;
	char *strs[6];                /* cc's strings, owned */
	char node[64];
	struct cdr_record *pend;      /* this turn's records (or held ones) */
	size_t npend, cappend;
	int64_t *del;                 /* spool ids MariaDB acknowledged */
	size_t ndel, capdel;
	bool failing;
	int64_t retry_at;             /* mono us */
	uint64_t seq_next, seq_reserved, mem_seq;
	sqlite3_stmt *st_ins, *st_spool, *st_del;
	struct repl_stamp stamp;      /* written with the next commit */
	bool stamped;
} s;

static struct cdr_conf defaults;
static bool defaults_set;

const struct cdr_conf *cdr_conf_active(void)
{
	if (s.db)
		return &s.cc;
	if (!defaults_set) {
		cdr_conf_defaults(&defaults);
		defaults_set = true;
	}
	return &defaults;
}

const char *cdr_node(void)
{
	return s.node;
}

const char *cdr_store_path(void)
{
	return s.path;
}

static int exec(const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s.db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("cdr: %s: %s", s.path, msg ? msg : sqlite3_errmsg(s.db));
		sqlite3_free(msg);
		return EIO;
	}
	return 0;
}

static void lost(const struct cdr_record *r, const char *why)
{
	char csv[2048];

	cdr_record_csv(r, csv, sizeof(csv));
	log_error("cdr: call record lost (%s): %s", why, csv);
}

/* ------------------------------------------------------------ sequence */

static int64_t meta_get(const char *name)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (sqlite3_prepare_v2(s.db, "SELECT value FROM cdr_meta WHERE name=?", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Outside any transaction: cdr.db only has one open inside commit. */
static void reserve(void)
{
	sqlite3_stmt *st;
	uint64_t upto = s.seq_next + SEQ_BLOCK;
	int rc = SQLITE_ERROR;

	if (sqlite3_prepare_v2(s.db, "INSERT OR REPLACE INTO cdr_meta VALUES ('sequence',?)",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)upto);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE)
		log_error("cdr: cannot save the sequence in %s: %s; uniqueids stay unique "
			  "unless tandemd restarts within this second", s.path,
			  sqlite3_errmsg(s.db));
	s.seq_reserved = upto;
	if (ha_recording()) {   /* the standby continues after this block */
		struct jnl_entry e = { .type = JNL_SEQ, .ts_us = cdr_wall_us() };

		e.u.seq = (struct jnl_seq){ jnl_pl("cdr"), upto };
		ha_record(&e);
	}
}

/* SEQ from the journal: never hand out a number below next (max wins). */
int cdr_store_apply_seq(const struct jnl_seq *q)
{
	if (!s.db || pl_strcmp(&q->name, "cdr") || q->next <= s.seq_next)
		return 0;
	s.seq_next = q->next;
	s.seq_reserved = q->next;
	reserve();
	return 0;
}

void cdr_store_reload(void)
{
	uint64_t v;

	if (!s.db)
		return;
	v = (uint64_t)meta_get("sequence");
	if (v > s.seq_next) {   /* never hand out a number below the installed one */
		s.seq_next = v;
		s.seq_reserved = v;
	}
	cdr_feed_reload();   /* the spool is the installed one */
}

uint64_t cdr_seq_next(void)
{
	if (!s.db)
		return ++s.mem_seq;
	if (s.seq_next >= s.seq_reserved)
		reserve();
	return s.seq_next++;
}

/* ---------------------------------------------------------------- posting */

int cdr_post(const struct cdr_record *in)
{
	const struct cdr_conf *cc = cdr_conf_active();
	struct cdr_record r = *in;
	const char *node = cdr_node();

	/* whatever the caller wrote, every string ends inside its field */
	r.clid[sizeof(r.clid) - 1] = r.src[sizeof(r.src) - 1] = '\0';
	r.dst[sizeof(r.dst) - 1] = r.dcontext[sizeof(r.dcontext) - 1] = '\0';
	r.channel[sizeof(r.channel) - 1] = r.dstchannel[sizeof(r.dstchannel) - 1] = '\0';
	r.lastapp[sizeof(r.lastapp) - 1] = r.lastdata[sizeof(r.lastdata) - 1] = '\0';
	r.accountcode[sizeof(r.accountcode) - 1] = '\0';
	r.peeraccount[sizeof(r.peeraccount) - 1] = '\0';
	r.userfield[sizeof(r.userfield) - 1] = r.uniqueid[sizeof(r.uniqueid) - 1] = '\0';
	r.linkedid[sizeof(r.linkedid) - 1] = '\0';
	if (r.disposition <= CDR_DISP_NULL || r.disposition > CDR_DISP_CONGESTION ||
	    r.start_us <= 0 || r.end_us < r.start_us ||
	    (r.answer_us && (r.answer_us < r.start_us || r.answer_us > r.end_us))) {
		lost(&r, "invalid: no disposition, or times out of order");
		return EINVAL;
	}
	if (!cc->enable) {
		log_debug("cdr %s: not stored, [cdr] enable = no", r.uniqueid);
		return 0;
	}
	if (!r.sequence)
		r.sequence = cdr_seq_next();
	if (!r.uniqueid[0])
		snprintf(r.uniqueid, sizeof(r.uniqueid), "%s%s%" PRId64 ".%" PRIu64, node,
			 node[0] ? "-" : "", r.start_us / 1000000, r.sequence);
	if (!r.linkedid[0])
		memcpy(r.linkedid, r.uniqueid, sizeof(r.linkedid));
	if (!r.amaflags)
		r.amaflags = CDR_AMA_DOCUMENTATION;
	if (r.disposition == CDR_DISP_CONGESTION && !cc->congestion)
		r.disposition = CDR_DISP_FAILED;
	cdr_compute(&r, cc->initiatedseconds);
	if (!s.db) {
		lost(&r, "the CDR store is not open");
		return ENODEV;
	}
	struct jnl_entry e = { .type = JNL_CDR };
	struct jnl_cdr *c = &e.u.cdr;
	*c = (struct jnl_cdr){
		r.start_us, r.answer_us, r.end_us, r.duration, r.billsec,
		(uint8_t)r.disposition, (uint8_t)r.amaflags, r.sequence,
		jnl_pl(r.clid), jnl_pl(r.src), jnl_pl(r.dst), jnl_pl(r.dcontext),
		jnl_pl(r.channel), jnl_pl(r.dstchannel), jnl_pl(r.lastapp),
		jnl_pl(r.lastdata), jnl_pl(r.accountcode), jnl_pl(r.peeraccount),
		jnl_pl(r.userfield), jnl_pl(r.uniqueid), jnl_pl(r.linkedid),
	};
	return ha_write(&e);
}

static void pl_field(char *dst, size_t size, const struct pl *v)
{
	size_t n = v->l < size - 1 ? v->l : size - 1;

	if (n)
		memcpy(dst, v->p, n);
	dst[n] = '\0';
}

/* A CDR entry, here or from the journal: keep it for this turn's commit. */
int cdr_store_apply(const struct jnl_cdr *c)
{
	struct cdr_record r = {
		.start_us = c->start_us, .answer_us = c->answer_us, .end_us = c->end_us,
		.duration = c->duration, .billsec = c->billsec,
		.disposition = (enum cdr_disposition)c->disposition,
		.amaflags = (enum cdr_amaflags)c->amaflags, .sequence = c->sequence,
	};

	pl_field(r.clid, sizeof(r.clid), &c->clid);
	pl_field(r.src, sizeof(r.src), &c->src);
	pl_field(r.dst, sizeof(r.dst), &c->dst);
	pl_field(r.dcontext, sizeof(r.dcontext), &c->dcontext);
	pl_field(r.channel, sizeof(r.channel), &c->channel);
	pl_field(r.dstchannel, sizeof(r.dstchannel), &c->dstchannel);
	pl_field(r.lastapp, sizeof(r.lastapp), &c->lastapp);
	pl_field(r.lastdata, sizeof(r.lastdata), &c->lastdata);
	pl_field(r.accountcode, sizeof(r.accountcode), &c->accountcode);
	pl_field(r.peeraccount, sizeof(r.peeraccount), &c->peeraccount);
	pl_field(r.userfield, sizeof(r.userfield), &c->userfield);
	pl_field(r.uniqueid, sizeof(r.uniqueid), &c->uniqueid);
	pl_field(r.linkedid, sizeof(r.linkedid), &c->linkedid);
	if (!s.db) {
		lost(&r, "the CDR store is not open");
		return ENODEV;
	}
	cdr_open_forget(&c->uniqueid);
	if (s.npend == HOLD_MAX) {
		size_t i, half = HOLD_MAX / 2;
		for (i = 0; i < half; i++)
			lost(&s.pend[i], "cdr.db has not been writable for too long");
		memmove(s.pend, s.pend + half, (s.npend - half) * sizeof(*s.pend));
		s.npend -= half;
	}
	if (s.npend == s.cappend) {
		size_t n = s.cappend ? s.cappend * 2 : 16;
		struct cdr_record *p = realloc(s.pend, n * sizeof(*p));
		if (!p) {
			lost(&r, "out of memory");
			return ENOMEM;
		}
		s.pend = p;
		s.cappend = n;
	}
	s.pend[s.npend++] = r;
	return 0;
}

/* -------------------------------------------------------------- commit */

static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : EIO;
}

static int write_record(const struct cdr_record *r)
{
	char st[CDR_TIME], an[CDR_TIME], en[CDR_TIME];
	bool gmt = s.cc.usegmtime;
	sqlite3_stmt *q = s.st_ins;
	const char *txt[] = {
		st, r->clid, r->src, r->dst, r->dcontext, r->channel, r->dstchannel,
		r->lastapp, r->lastdata,
	};
	int i;

	cdr_fmt_time(r->start_us, gmt, st, sizeof(st));
	cdr_fmt_time(r->answer_us, gmt, an, sizeof(an));
	cdr_fmt_time(r->end_us, gmt, en, sizeof(en));
	for (i = 0; i < 9; i++)
		sqlite3_bind_text(q, i + 1, txt[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 10, r->duration);
	sqlite3_bind_int64(q, 11, r->billsec);
	sqlite3_bind_text(q, 12, cdr_disposition_name(r->disposition), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 13, cdr_amaflags_name(r->amaflags), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 14, r->accountcode, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 15, r->uniqueid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 16, r->userfield, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 17, r->linkedid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 18, r->peeraccount, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 19, (sqlite3_int64)r->sequence);
	sqlite3_bind_text(q, 20, st, -1, SQLITE_STATIC);
	if (an[0])
		sqlite3_bind_text(q, 21, an, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 21);
	sqlite3_bind_text(q, 22, en, -1, SQLITE_STATIC);
	if (step(q))
		return EIO;
	if (!sqlite3_changes(s.db)) {
		log_warn("cdr: a record with uniqueid %s is already stored; the new one "
			 "is not kept", r->uniqueid);
		return 0;
	}
	if (s.cc.backend != CDR_BACKEND_MARIADB)
		return 0;
	sqlite3_bind_text(s.st_spool, 1, r->uniqueid, -1, SQLITE_STATIC);
	return step(s.st_spool);
}

void cdr_store_commit(void)
{
	size_t i;
	int e;

	if (!s.db || (!s.npend && !s.ndel && !s.stamped && !cdr_open_pending()))
		return;
	if (s.failing && cdr_mono_us() < s.retry_at)
		return;
	e = exec("BEGIN;");
	if (!e)
		e = cdr_open_flush(s.db);
	for (i = 0; !e && i < s.npend; i++)
		e = write_record(&s.pend[i]);
	for (i = 0; !e && i < s.ndel; i++) {
		sqlite3_bind_int64(s.st_del, 1, s.del[i]);
		e = step(s.st_del);
	}
	if (!e && s.stamped)
		e = repl_meta_put(s.db, &s.stamp);
	if (!e && sqlite3_exec(s.db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
		e = EIO;
	if (e) {
		if (!s.failing)
			log_error("cdr: cannot write to %s: %s; %zu call records are kept in "
				  "memory and written when it works again", s.path,
				  sqlite3_errmsg(s.db), s.npend);
		sqlite3_exec(s.db, "ROLLBACK;", NULL, NULL, NULL);
		s.failing = true;
		s.retry_at = cdr_mono_us() + RETRY_MS * 1000;
		return;
	}
	if (s.failing)
		log_notice("cdr: writes to %s succeed again (%zu call records written)",
			   s.path, s.npend);
	s.failing = false;
	s.npend = s.ndel = 0;
	s.stamped = false;
	cdr_open_done();
	cdr_feed_refill();
}

int cdr_store_stamp(const struct repl_stamp *st)
{
	if (!s.db)
		return ENODEV;
	s.stamp = *st;
	s.stamped = true;
	return 0;
}

int cdr_store_stamp_get(struct repl_stamp *st)
{
	return s.db ? repl_meta_get(s.db, st) : ENODEV;
}

/* -------------------------------------------------------------- spool */

unsigned long cdr_spool_count(void)
{
	sqlite3_stmt *st;
	unsigned long n = 0;

	if (!s.db || sqlite3_prepare_v2(s.db, "SELECT COUNT(*) FROM cdr_spool", -1, &st,
					NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (unsigned long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n + (s.cc.backend == CDR_BACKEND_MARIADB ? s.npend : 0);
}

void cdr_spool_del_add(int64_t id)
{
	if (s.ndel == s.capdel) {
		size_t n = s.capdel ? s.capdel * 2 : 64;
		int64_t *p = realloc(s.del, n * sizeof(*p));
		if (!p)
			return;   /* stays spooled: sent again later, ignored by MariaDB */
		s.del = p;
		s.capdel = n;
	}
	s.del[s.ndel++] = id;
}

/* ------------------------------------------------------------- queries */

static json_t *row_json(sqlite3_stmt *st, int first)
{
	static const char *const names[NCOLS] = {
		"calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel",
		"lastapp", "lastdata", "duration", "billsec", "disposition", "amaflags",
		"accountcode", "uniqueid", "userfield", "linkedid", "peeraccount",
		"sequence", "start", "answer", "end",
	};
	json_t *o = json_object();
	int i;

	for (i = 0; i < NCOLS; i++) {
		int c = first + i;
		json_t *v;
		if (sqlite3_column_type(st, c) == SQLITE_NULL)
			v = json_null();
		else if (sqlite3_column_type(st, c) == SQLITE_INTEGER)
			v = json_integer(sqlite3_column_int64(st, c));
		else
			v = json_string((const char *)sqlite3_column_text(st, c));
		json_object_set_new(o, names[i], v ? v : json_null());
	}
	return o;
}

json_t *cdr_last_json(unsigned n)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();

	if (!s.db)
		return json_pack("{s:o}", "cdr", arr);
	cdr_store_commit();   /* this turn's records too */
	if (sqlite3_prepare_v2(s.db, "SELECT " COLS " FROM cdr ORDER BY rowid DESC LIMIT ?",
			       -1, &st, NULL) != SQLITE_OK) {
		log_error("cdr: %s: %s", s.path, sqlite3_errmsg(s.db));
		return json_pack("{s:o}", "cdr", arr);
	}
	sqlite3_bind_int64(st, 1, n);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_insert_new(arr, 0, row_json(st, 0));
	sqlite3_finalize(st);
	return json_pack("{s:o}", "cdr", arr);
}

json_t *cdr_status_json(void)
{
	const struct cdr_conf *cc = cdr_conf_active();
	json_t *o = json_pack("{s:s, s:b, s:s, s:I, s:I, s:I, s:b}",
		"backend", cc->backend == CDR_BACKEND_MARIADB ? "mariadb" : "sqlite",
		"enabled", cc->enable, "database", s.path,
		"open", (json_int_t)cdr_open_count(),
		"spooled", (json_int_t)cdr_spool_count(),
		"pending", (json_int_t)s.npend, "failing", s.failing);

	json_t *m = cdr_feed_json();

	if (o && m)
		json_object_set_new(o, "mariadb", m);
	else
		json_decref(m);
	return o;
}

/* ----------------------------------------------------------- lifetime */

static int copy_conf(const struct cdr_conf *cc)
{
	const char *const *src[] = { &cc->host, &cc->socket, &cc->user, &cc->password,
				     &cc->database, &cc->table };
	const char **dst[] = { &s.cc.host, &s.cc.socket, &s.cc.user, &s.cc.password,
			       &s.cc.database, &s.cc.table };
	size_t i;

	s.cc = *cc;
	for (i = 0; i < 6; i++) {
		s.strs[i] = *src[i] ? strdup(*src[i]) : NULL;
		if (*src[i] && !s.strs[i])
			return ENOMEM;
		*dst[i] = s.strs[i];
	}
	return 0;
}

static int prepare_all(void)
{
	static const char *const sql[] = {
		"INSERT OR IGNORE INTO cdr (" COLS ") VALUES "
		"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		"INSERT INTO cdr_spool (uniqueid) VALUES (?)",
		"DELETE FROM cdr_spool WHERE id=?",
	};
	sqlite3_stmt **st[] = { &s.st_ins, &s.st_spool, &s.st_del };
	size_t i;

	for (i = 0; i < 3; i++)
		if (sqlite3_prepare_v2(s.db, sql[i], -1, st[i], NULL) != SQLITE_OK) {
			log_error("cdr: %s: %s", s.path, sqlite3_errmsg(s.db));
			return EIO;
		}
	return 0;
}

static void release(void)
{
	size_t i;

	sqlite3_finalize(s.st_ins);
	sqlite3_finalize(s.st_spool);
	sqlite3_finalize(s.st_del);
	cdr_feed_close();
	if (s.db)
		sqlite3_close(s.db);
	for (i = 0; i < 6; i++)
		free(s.strs[i]);
	free(s.pend);
	free(s.del);
	memset(&s, 0, sizeof(s));
	cdr_open_close();
}

bool cdr_store_call_open(const char *uniqueid)
{
	sqlite3_stmt *st;
	bool found = false;

	if (!s.db || sqlite3_prepare_v2(s.db, "SELECT 1 FROM cdr_open WHERE uniqueid=?", -1,
					&st, NULL) != SQLITE_OK)
		return false;   /* no table: no call was ever open here */
	sqlite3_bind_text(st, 1, uniqueid, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* Serving now: the calls that were up before (cdr_open) and were not
 * restored end as cut. */
static void cut_h(enum ha_role from, enum ha_role to, void *arg)
{
	(void)from;
	(void)arg;
	if (to == HA_ROLE_ACTIVE && s.db)
		cdr_open_cut(s.db);
}

int cdr_store_init(const struct cdr_conf *cc, const char *datadir, const char *node)
{
	static bool watching;
	int rc, e = EIO;

	if (s.db)
		return EALREADY;
	memset(&s, 0, sizeof(s));
	snprintf(s.path, sizeof(s.path), "%s/cdr.db", datadir);
	snprintf(s.node, sizeof(s.node), "%s", node ? node : "");
	if ((e = copy_conf(cc)))
		goto out;
	e = EIO;
	rc = sqlite3_open_v2(s.path, &s.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_error("cdr: cannot open %s: %s", s.path, sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(s.db, 100);
	if (exec("PRAGMA journal_mode=WAL;") || exec("PRAGMA synchronous=NORMAL;") ||
	    exec(schema) || prepare_all())
		goto out;
	if (repl_meta_init(s.db)) {
		log_error("cdr: %s: %s", s.path, sqlite3_errmsg(s.db));
		goto out;
	}
	s.seq_next = (uint64_t)meta_get("sequence");
	if (!s.seq_next)
		s.seq_next = 1;
	s.seq_reserved = s.seq_next;   /* reserve a block at the first use */
	if (!watching && !ha_role_watch(cut_h, NULL))
		watching = true;
	if (s.cc.backend == CDR_BACKEND_MARIADB) {
		if ((e = cdr_feed_start(s.db)))
			goto out;
	} else {
		unsigned long n = cdr_spool_count();
		if (n)
			log_notice("cdr: %lu call records in the spool of %s wait for "
				   "backend = mariadb; they are also in its cdr table", n, s.path);
	}
	return 0;
out:
	release();
	return e;
}

void cdr_store_close(void)
{
	size_t n, i;

	if (!s.db)
		return;
	n = cdr_finalise_all();
	if (n)
		log_notice("cdr: shutdown: %zu calls were still up; their records end now", n);
	s.retry_at = 0;
	cdr_store_commit();
	if (cdr_feed_stop()) {
		cdr_store_commit();   /* the last batch's SPOOL_DONE */
		n = cdr_spool_count();
		if (n)
			log_notice("cdr: %zu call records stay in the spool of %s for MariaDB "
				   "and are sent at the next start", n, s.path);
	}
	for (i = 0; i < s.npend; i++)
		lost(&s.pend[i], "cdr.db not writable at shutdown");
	release();
}
