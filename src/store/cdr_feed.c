/**
 * @file cdr_feed.c  The MariaDB spool fed to the writer thread, on the
 * serving node only (cdr_store.c has the write path, cdr_mariadb.c the
 * thread).
 *
 *  - After each commit the writer gets the spool rows with an id above
 *    the last one handed, at most INFLIGHT_MAX in flight (refill).
 *  - The ids it reports are recorded done (CDR_SPOOL_DONE, replicated)
 *    and deleted from the spool at the next commit.
 *  - Only the serving node runs the thread: it starts at the first loop
 *    turn when this node serves then (the cluster has set the role by
 *    then), when the node becomes ACTIVE, and stops when it leaves
 *    ACTIVE. Stopping keeps cdr_store.c's invariant: rows handed but not
 *    acknowledged stay in the spool, sent by whichever node serves next.
 */
#include <errno.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "ha/ha.h"
#include "store/cdr_int.h"

#define INFLIGHT_MAX    400    /* spool rows handed to the writer */
#define DRAIN_MS        500    /* at close: time the writer gets to catch up */
#define STOP_GRACE_MS   1000   /* at close: twice, see cdr_writer_stop() */
#define DEMOTE_GRACE_MS 100    /* leaving ACTIVE: twice at most, the loop waits */

static struct {
	sqlite3 *db;                  /* cdr.db, cdr_store.c's */
	const struct cdr_conf *cc;    /* cdr_store.c's, while open */
	sqlite3_stmt *st_fill;
	struct cdr_writer *w;         /* NULL while this node does not serve */
	int64_t handed;               /* highest spool id handed to the writer */
	size_t inflight;
	struct cdr_link link;
	char target[256];
	struct tmr start_tmr;         /* first turn: start the writer if serving */
} f;

static const char fill_sql[] =
	"SELECT s.id, c.calldate, c.clid, c.src, c.dst, c.dcontext, c.channel,"
	" c.dstchannel, c.lastapp, c.lastdata, c.duration, c.billsec, c.disposition,"
	" c.amaflags, c.accountcode, c.uniqueid, c.userfield, c.linkedid,"
	" c.peeraccount, c.sequence, c.start, c.answer, c.\"end\", s.uniqueid"
	" FROM cdr_spool s LEFT JOIN cdr c ON c.uniqueid = s.uniqueid"
	" WHERE s.id > ? ORDER BY s.id LIMIT ?";

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	cdr_strcpy(dst, size, (const char *)sqlite3_column_text(st, i));
}

/* Row of st_fill (spool id, then COLS) into r; false for an orphan. */
static bool fill_row(sqlite3_stmt *st, struct cdr_row *r)
{
	memset(r, 0, sizeof(*r));
	r->spool_id = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 15) == SQLITE_NULL)
		return false;
	col_text(st, 1, r->calldate, sizeof(r->calldate));
	col_text(st, 2, r->clid, sizeof(r->clid));
	col_text(st, 3, r->src, sizeof(r->src));
	col_text(st, 4, r->dst, sizeof(r->dst));
	col_text(st, 5, r->dcontext, sizeof(r->dcontext));
	col_text(st, 6, r->channel, sizeof(r->channel));
	col_text(st, 7, r->dstchannel, sizeof(r->dstchannel));
	col_text(st, 8, r->lastapp, sizeof(r->lastapp));
	col_text(st, 9, r->lastdata, sizeof(r->lastdata));
	r->duration = sqlite3_column_int64(st, 10);
	r->billsec = sqlite3_column_int64(st, 11);
	col_text(st, 12, r->disposition, sizeof(r->disposition));
	col_text(st, 13, r->amaflags, sizeof(r->amaflags));
	col_text(st, 14, r->accountcode, sizeof(r->accountcode));
	col_text(st, 15, r->uniqueid, sizeof(r->uniqueid));
	col_text(st, 16, r->userfield, sizeof(r->userfield));
	col_text(st, 17, r->linkedid, sizeof(r->linkedid));
	col_text(st, 18, r->peeraccount, sizeof(r->peeraccount));
	r->sequence = sqlite3_column_int64(st, 19);
	col_text(st, 20, r->start, sizeof(r->start));
	col_text(st, 21, r->answer, sizeof(r->answer));
	col_text(st, 22, r->end, sizeof(r->end));
	return true;
}

/* Hand the writer spool rows it has not seen, keeping INFLIGHT_MAX. */
static void refill(void)
{
	struct cdr_row *rows;
	size_t n = 0, want;
	int64_t last = f.handed;

	/* only the serving node writes to MariaDB (a standby's spool is the
	 * active's, replicated; it is sent from when this node serves) */
	if (!f.w || !ha_serving() || f.inflight > INFLIGHT_MAX / 2)
		return;
	want = INFLIGHT_MAX - f.inflight;
	rows = malloc(want * sizeof(*rows));
	if (!rows)
		return;
	sqlite3_bind_int64(f.st_fill, 1, f.handed);
	sqlite3_bind_int64(f.st_fill, 2, (sqlite3_int64)want);
	while (sqlite3_step(f.st_fill) == SQLITE_ROW) {
		if (fill_row(f.st_fill, &rows[n])) {
			last = rows[n++].spool_id;
			continue;
		}
		last = rows[n].spool_id;
		log_error("cdr: call record lost: spooled uniqueid %s is no longer in "
			  "the cdr table of %s", (const char *)sqlite3_column_text(f.st_fill, 23),
			  cdr_store_path());
		cdr_spool_del_add(last);
	}
	sqlite3_reset(f.st_fill);
	if (n && cdr_writer_push(f.w, rows, n)) {
		free(rows);
		return;   /* memory: try again at the next commit */
	}
	f.handed = last;
	f.inflight += n;
	free(rows);
}

static void log_link(enum cdr_link_state prev, const struct cdr_link *l)
{
	unsigned long waiting = cdr_spool_count();

	switch (l->state) {
	case CDR_LINK_UP:
		if (prev == CDR_LINK_DOWN || prev == CDR_LINK_REFUSED)
			log_notice("cdr: MariaDB %s is back; writing %lu spooled call records",
				   f.target, waiting);
		else
			log_info("cdr: writing call records to MariaDB %s", f.target);
		if (l->nounique)
			log_warn("cdr: MariaDB table %s has no UNIQUE key on uniqueid: a record "
				 "sent again after a lost reply could be stored twice", f.cc->table);
		break;
	case CDR_LINK_DOWN:
		log_warn("cdr: MariaDB %s is down: %s; %lu call records wait in %s and are "
			 "written when it is back", f.target, l->error, waiting, cdr_store_path());
		break;
	case CDR_LINK_REFUSED:
		log_error("cdr: MariaDB %s refuses call records: %s; %lu wait in %s, "
			  "retried", f.target, l->error, waiting, cdr_store_path());
		break;
	case CDR_LINK_IDLE:
		break;
	}
}

static void writer_event(void)
{
	struct cdr_link l;
	int64_t *ids;
	size_t i, n;
	bool changed;

	cdr_writer_take(f.w, &ids, &n, &l, &changed);
	cdr_spool_done_record(f.db, ids, n);   /* the standby's spool too */
	for (i = 0; i < n; i++)
		cdr_spool_del_add(ids[i]);
	free(ids);
	f.inflight = n > f.inflight ? 0 : f.inflight - n;
	if (changed)
		log_link(f.link.state, &l);
	f.link = l;
	refill();
}

static void writer_h(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	writer_event();
}

static int start_writer(void)
{
	unsigned long n = cdr_spool_count();
	int e;

	if ((e = cdr_writer_start(&f.w, f.cc))) {
		log_error("cdr: cannot start the MariaDB writer: %s", strerror(e));
		return e;
	}
	if ((e = loop_fd_listen(cdr_writer_fd(f.w), EPOLLIN, writer_h, NULL))) {
		log_error("cdr: cannot watch the MariaDB writer: %s", strerror(e));
		cdr_writer_stop(f.w, STOP_GRACE_MS, NULL, NULL);
		f.w = NULL;
		return e;
	}
	f.handed = 0;   /* every spooled row, from the first */
	f.inflight = 0;
	f.link = (struct cdr_link){ .state = CDR_LINK_IDLE };
	if (n)
		log_notice("cdr: serving now: writing %lu spooled call records to MariaDB %s", n,
			   f.target);
	refill();
	return 0;
}

/* Stop the writer (shutdown, or this node no longer serves). While this
 * node still records (ACTIVE, SINGLE) the ids it delivered are recorded
 * done; after a demotion they are not (the journal is the new active's):
 * those rows stay spooled and the serving node sends them again, which
 * INSERT IGNORE on uniqueid makes a no-op. */
static void stop_writer(unsigned grace_ms)
{
	bool records = ha_role() == HA_ROLE_ACTIVE || ha_role() == HA_ROLE_SINGLE;
	int64_t *ids;
	size_t i, n;

	if (!f.w)
		return;
	if (records)
		writer_event();
	loop_fd_forget(cdr_writer_fd(f.w));
	cdr_writer_stop(f.w, grace_ms, &ids, &n);
	f.w = NULL;
	if (records) {
		cdr_spool_done_record(f.db, ids, n);
		for (i = 0; i < n; i++)
			cdr_spool_del_add(ids[i]);
	}
	free(ids);
	f.inflight = 0;
	f.handed = 0;
}

static void start_h(void *arg)
{
	(void)arg;
	if (!f.w && ha_serving())
		(void)start_writer();
}

/* A node that starts serving sends what is left in its spool: rows the old
 * active wrote but whose SPOOL_DONE it never got (INSERT IGNORE on
 * uniqueid makes those harmless). One that stops serving stops the thread. */
static void role_h(enum ha_role from, enum ha_role to, void *arg)
{
	(void)from;
	(void)arg;
	if (!f.db)
		return;
	if (to == HA_ROLE_ACTIVE && !f.w) {
		(void)start_writer();
	} else if (to != HA_ROLE_ACTIVE && f.w) {
		stop_writer(DEMOTE_GRACE_MS);
		log_notice("cdr: %s: MariaDB writer stopped; %lu spooled call records are "
			   "sent by the serving node", ha_role_name(to), cdr_spool_count());
	}
}

int cdr_feed_start(sqlite3 *db)
{
	static bool watching;
	unsigned long n = cdr_spool_count();

	memset(&f, 0, sizeof(f));
	f.db = db;
	f.cc = cdr_conf_active();
	if (sqlite3_prepare_v2(db, fill_sql, -1, &f.st_fill, NULL) != SQLITE_OK) {
		log_error("cdr: %s: %s", cdr_store_path(), sqlite3_errmsg(db));
		return EIO;
	}
	cdr_writer_describe(f.cc, f.target, sizeof(f.target));
	if (!watching && !ha_role_watch(role_h, NULL))
		watching = true;
	log_info("cdr: call records go to %s and MariaDB %s (from the node that serves)",
		 cdr_store_path(), f.target);
	if (n)
		log_notice("cdr: %lu call records from before wait in the spool for MariaDB",
			   n);
	tmr_init(&f.start_tmr);
	tmr_start(&f.start_tmr, 0, start_h, NULL);
	return 0;
}

/* At close: let a connected writer deliver what it has, for a while. */
static void drain(void)
{
	int64_t end = cdr_mono_us() + DRAIN_MS * 1000;
	struct pollfd p = { .fd = cdr_writer_fd(f.w), .events = POLLIN };

	while (f.inflight && f.link.state == CDR_LINK_UP) {
		int64_t left = (end - cdr_mono_us()) / 1000;
		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left) > 0)
			writer_event();
		cdr_store_commit();
	}
}

bool cdr_feed_stop(void)
{
	tmr_cancel(&f.start_tmr);
	if (!f.w)
		return false;
	drain();
	stop_writer(STOP_GRACE_MS);
	return true;
}

void cdr_feed_close(void)
{
	tmr_cancel(&f.start_tmr);
	if (f.w)
		stop_writer(STOP_GRACE_MS);
	sqlite3_finalize(f.st_fill);
	memset(&f, 0, sizeof(f));
}

void cdr_feed_reload(void)
{
	if (!f.inflight)
		f.handed = 0;
}

void cdr_feed_refill(void)
{
	refill();
}

json_t *cdr_feed_json(void)
{
	if (!f.w)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:I}", "target", f.target,
			 "state", cdr_link_state_name(f.link.state), "error", f.link.error,
			 "in_flight", (json_int_t)f.inflight);
}
