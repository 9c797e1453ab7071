/**
 * @file cdr_open.c  The calls still up, in cdr.db's cdr_open table, on a
 * cluster node only (docs/design/cluster.md 2.2): CDR_OPEN adds a row,
 * CDR_UP sets its answer time, the call's CDR removes it. Both nodes hold
 * the same rows, so a new active knows which calls were up (call survival,
 * design 9, reads them). Rows are written in cdr_store_commit()'s
 * transaction, in the order the entries came.
 *
 * And the MariaDB spool: what the active's writer delivered becomes one
 * CDR_SPOOL_DONE entry (uniqueids), which removes them from the spool of
 * both nodes, so a new active resends only what MariaDB may lack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ha/ha.h"
#include "ha/turn.h"
#include "store/cdr_int.h"

enum op_kind { OP_OPEN, OP_UP, OP_DEL, OP_SPOOLED };

struct op {
	enum op_kind kind;
	char uniqueid[CDR_ID], linkedid[CDR_ID];
	int64_t start_us, answer_us;
	char clid[CDR_FIELD], src[CDR_FIELD], dst[CDR_FIELD], dcontext[CDR_FIELD];
	char channel[CDR_FIELD], accountcode[CDR_FIELD], peeraccount[CDR_FIELD];
};

static struct op *ops;
static size_t nops, capops;

static void cp(char *dst, size_t size, const struct pl *v)
{
	size_t n = v->l < size - 1 ? v->l : size - 1;

	if (n)
		memcpy(dst, v->p, n);
	dst[n] = '\0';
}

static struct op *op_new(enum op_kind k, const struct pl *uniqueid)
{
	if (nops == capops) {
		size_t n = capops ? capops * 2 : 32;
		struct op *p = realloc(ops, n * sizeof(*p));
		if (!p) {
			log_error("cdr: out of memory keeping an open call's row");
			return NULL;
		}
		ops = p;
		capops = n;
	}
	struct op *o = &ops[nops++];
	memset(o, 0, sizeof(*o));
	o->kind = k;
	cp(o->uniqueid, sizeof(o->uniqueid), uniqueid);
	return o;
}

int cdr_store_apply_open(const struct jnl_cdr_open *e)
{
	struct op *o = op_new(OP_OPEN, &e->uniqueid);

	if (!o)
		return ENOMEM;
	cp(o->linkedid, sizeof(o->linkedid), &e->linkedid);
	o->start_us = e->start_us;
	cp(o->clid, sizeof(o->clid), &e->clid);
	cp(o->src, sizeof(o->src), &e->src);
	cp(o->dst, sizeof(o->dst), &e->dst);
	cp(o->dcontext, sizeof(o->dcontext), &e->dcontext);
	cp(o->channel, sizeof(o->channel), &e->channel);
	cp(o->accountcode, sizeof(o->accountcode), &e->accountcode);
	cp(o->peeraccount, sizeof(o->peeraccount), &e->peeraccount);
	return 0;
}

int cdr_store_apply_up(const struct jnl_cdr_up *e)
{
	struct op *o = op_new(OP_UP, &e->uniqueid);

	if (!o)
		return ENOMEM;
	o->answer_us = e->answer_us;
	return 0;
}

int cdr_open_forget(const struct pl *uniqueid)
{
	return ha_jnl() && !op_new(OP_DEL, uniqueid) ? ENOMEM : 0;
}

int cdr_store_apply_spool_done(const struct jnl_spool_done *d)
{
	struct pl list = d->list, uid;

	while (jnl_strlist_next(&list, &uid))
		if (!op_new(OP_SPOOLED, &uid))
			return ENOMEM;
	return 0;
}

/* The writer delivered spool rows ids (cdr_store.c deletes them by id):
 * tell the standby which, by uniqueid, in entries of at most 1000. */
void cdr_spool_done_record(sqlite3 *db, const int64_t *ids, size_t n)
{
	struct jnl_wbuf list = { 0 };
	sqlite3_stmt *st;
	uint32_t k = 0;
	size_t i;

	if (!n || !ha_recording() ||
	    (ha_role() != HA_ROLE_ACTIVE && ha_role() != HA_ROLE_SINGLE) ||
	    sqlite3_prepare_v2(db, "SELECT uniqueid FROM cdr_spool WHERE id=?", -1, &st,
			       NULL) != SQLITE_OK)
		return;
	for (i = 0; i <= n; i++) {
		if (k && (i == n || k == 1000)) {
			struct jnl_entry e = { .type = JNL_CDR_SPOOL_DONE,
					       .ts_us = cdr_wall_us() };
			e.u.spool_done = (struct jnl_spool_done){
				k, pl_of((const char *)list.p, list.len) };
			ha_record(&e);
			list.len = 0;
			k = 0;
		}
		if (i == n)
			break;
		sqlite3_bind_int64(st, 1, ids[i]);
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *u = (const char *)sqlite3_column_text(st, 0);
			if (u && !jnl_strlist_add(&list, jnl_pl(u)))
				k++;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	jnl_wbuf_free(&list);
}

bool cdr_open_pending(void)
{
	return nops > 0;
}

static int run(sqlite3 *db, const char *sql, const struct op *o)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return EIO;
	switch (o->kind) {
	case OP_OPEN: {
		const char *t[] = { o->uniqueid, o->linkedid, o->clid, o->src, o->dst,
				    o->dcontext, o->channel, o->accountcode, o->peeraccount };
		for (int i = 0; i < 9; i++)
			sqlite3_bind_text(st, i + 1, t[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 10, o->start_us);
		break;
	}
	case OP_UP:
		sqlite3_bind_int64(st, 1, o->answer_us);
		sqlite3_bind_text(st, 2, o->uniqueid, -1, SQLITE_STATIC);
		break;
	case OP_DEL:
	case OP_SPOOLED:
		sqlite3_bind_text(st, 1, o->uniqueid, -1, SQLITE_STATIC);
		break;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : EIO;
}

int cdr_open_flush(sqlite3 *db)
{
	static const char *const sql[] = {
		[OP_OPEN] = "INSERT OR REPLACE INTO cdr_open (uniqueid, linkedid, clid, src,"
			    " dst, dcontext, channel, accountcode, peeraccount, start_us)"
			    " VALUES (?,?,?,?,?,?,?,?,?,?)",
		[OP_UP] = "UPDATE cdr_open SET answer_us=? WHERE uniqueid=?",
		[OP_DEL] = "DELETE FROM cdr_open WHERE uniqueid=?",
		[OP_SPOOLED] = "DELETE FROM cdr_spool WHERE uniqueid=?",
	};
	size_t i;
	int e;

	if (!nops)
		return 0;
	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS cdr_open (uniqueid TEXT PRIMARY KEY,"
			 " linkedid TEXT, clid TEXT, src TEXT, dst TEXT, dcontext TEXT,"
			 " channel TEXT, accountcode TEXT, peeraccount TEXT,"
			 " start_us INTEGER NOT NULL, answer_us INTEGER);",
			 NULL, NULL, NULL) != SQLITE_OK)
		return EIO;
	for (i = 0; i < nops; i++)
		if ((e = run(db, sql[ops[i].kind], &ops[i])))
			return e;
	return 0;
}

void cdr_open_done(void)
{
	nops = 0;
}

void cdr_open_close(void)
{
	free(ops);
	ops = NULL;
	nops = capops = 0;
}

/* A call that was up when the node handling it stopped: its record ends
 * at end_us (answered: ANSWERED, else NO ANSWER). */
void cdr_cut_fill(struct jnl_cdr *r, const struct jnl_cdr_open *o, int64_t answer_us,
		  int64_t end_us)
{
	if (end_us < o->start_us)
		end_us = o->start_us;
	if (answer_us && (answer_us < o->start_us || answer_us > end_us))
		answer_us = end_us;
	*r = (struct jnl_cdr){
		.start_us = o->start_us, .answer_us = answer_us, .end_us = end_us,
		.duration = (end_us - o->start_us) / 1000000,
		.billsec = answer_us ? (end_us - answer_us) / 1000000 : 0,
		.disposition = answer_us ? CDR_DISP_ANSWERED : CDR_DISP_NO_ANSWER,
		.amaflags = CDR_AMA_DOCUMENTATION,
		.clid = o->clid, .src = o->src, .dst = o->dst, .dcontext = o->dcontext,
		.channel = o->channel, .accountcode = o->accountcode,
		.peeraccount = o->peeraccount, .uniqueid = o->uniqueid, .linkedid = o->linkedid,
	};
}

static struct pl col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t ? pl_of(t, (size_t)sqlite3_column_bytes(st, i)) : pl_of("", 0);
}

/*
 * The node starts serving: the calls in cdr_open were up on the node that
 * served before (or on this one before a restart). Those restored here
 * (answered and bridged, design 9: their CDR is live again) go on; every
 * other record ends now, journaled like any
 * CDR: exactly one record per call, on both nodes. The count.
 */
size_t cdr_open_cut(sqlite3 *db)
{
	sqlite3_stmt *st;
	int64_t now = cdr_wall_us();
	size_t n = 0;

	if (!ha_recording() ||
	    sqlite3_prepare_v2(db, "SELECT uniqueid, linkedid, clid, src, dst, dcontext, "
			       "channel, accountcode, peeraccount, start_us, answer_us "
			       "FROM cdr_open", -1, &st, NULL) != SQLITE_OK)
		return 0;      /* no table: no call was ever open here */
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jnl_cdr_open o = {
			col(st, 0), col(st, 1), sqlite3_column_int64(st, 9), col(st, 2),
			col(st, 3), col(st, 4), col(st, 5), col(st, 6), col(st, 7), col(st, 8),
		};
		struct jnl_entry e = { .type = JNL_CDR, .ts_us = now };

		if (cdr_is_live(&o.uniqueid))
			continue;     /* restored here (call_survive.c): it goes on */
		cdr_cut_fill(&e.u.cdr, &o, sqlite3_column_int64(st, 10), now);
		if (ha_write(&e))
			continue;
		n++;
		log_notice("cdr: call record %.*s (%.*s -> %.*s) cut by failover: it was up on "
			   "the node that served before", (int)o.uniqueid.l, o.uniqueid.p,
			   (int)o.src.l, o.src.p, (int)o.dst.l, o.dst.p);
	}
	sqlite3_finalize(st);
	return n;
}
