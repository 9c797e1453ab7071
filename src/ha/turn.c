/**
 * @file turn.c  The journal write path (ha.h, turn.h; docs/design/cluster.md
 * 2.5): this turn's entries, the end of a turn, durable confirmations, and
 * what the standby does with the turns it receives.
 *
 * A single node has no journal: ha_write() applies at once, ha_on_durable()
 * is store_on_commit(), and ha_turn_end() is the old commit_turn.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "ha/file.h"
#include "ha/ha.h"
#include "ha/jnl.h"
#include "ha/turn.h"
#include "pbx/call_survive.h"
#include "pbx/registrar.h"
#include "store/astdb.h"
#include "store/cdr.h"
#include "store/repl_meta.h"
#include "store/store.h"

struct durable {
	store_commit_h *h;
	void *arg;
	uint64_t off;            /* parked: the offset the standby must hold */
};

struct dlist {
	struct durable *v;
	size_t n, cap;
};

static struct {
	struct jnl *j;
	struct jnl_opts opts;
	struct jnl_wbuf buf;     /* this turn's entries */
	uint32_t nent;
	uint64_t turnno;
	bool applying;           /* received or replayed entries: not recorded */
	ha_feed_h *feed;
	void *feed_arg;
	bool sync;
	struct dlist cur;        /* this turn's durable callbacks */
	struct dlist park;       /* waiting for an ACK, in offset order */
	struct repl_stamp pos;   /* replid2, offset2, epoch (replid, offset: jnl) */
	char node[64];
	bool dropped;            /* changes dropped on a node not active: logged */
	bool behind;             /* a store's commit failed: catch_up() */
	uint64_t retry_ms;           /* monotonic: a wall clock jump moves no retry */
} T;

const char *ha_node(void)
{
	return T.node;
}

void ha_set_node(const char *node)
{
	snprintf(T.node, sizeof(T.node), "%s", node ? node : "");
}

void ha_jnl_set_opts(const struct jnl_opts *o)
{
	T.opts = *o;
}

struct jnl *ha_jnl(void)
{
	return T.j;
}

bool ha_set_applying(bool on)
{
	bool was = T.applying;

	T.applying = on;
	return was;
}

bool ha_recording(void)
{
	return T.j && !T.applying;
}

void ha_position(char replid[JNL_REPLID_LEN + 1], uint64_t *offset,
		 char replid2[JNL_REPLID_LEN + 1], uint64_t *offset2, uint64_t *epoch)
{
	snprintf(replid, JNL_REPLID_LEN + 1, "%s", T.j ? jnl_replid(T.j) : "");
	*offset = T.j ? jnl_head(T.j) : 0;
	snprintf(replid2, JNL_REPLID_LEN + 1, "%s", T.pos.replid2);
	*offset2 = T.pos.offset2;
	*epoch = T.pos.epoch;
}

void ha_position_epoch(uint64_t epoch, const struct pl *replid2, uint64_t offset2)
{
	T.pos.epoch = epoch;
	snprintf(T.pos.replid2, sizeof(T.pos.replid2), "%.*s", (int)replid2->l, replid2->p);
	T.pos.offset2 = offset2;
}

int ha_record(const struct jnl_entry *e)
{
	int err = jnl_entry_encode(&T.buf, e);

	if (err) {
		log_error("cluster: cannot journal a %s entry: %s", jnl_type_name(e->type),
			  strerror(err));
		return err;
	}
	T.nent++;
	return 0;
}

size_t ha_turn_qlog_bytes(void)
{
	struct jnl_entry e;
	size_t at = 0, used, n = 0;

	while (at < T.buf.len && !jnl_entry_decode(&e, T.buf.p + at, T.buf.len - at, &used)) {
		if (e.type == JNL_QUEUE_LOG)
			n += e.u.qlog.line.l;
		at += used;
	}
	return n;
}

int ha_write(const struct jnl_entry *e)
{
	if (ha_recording()) {
		struct jnl_entry t = *e;
		int err;

		t.ts_us = jnl_now_us();
		if ((err = ha_record(&t)))
			return err;
	}
	return ha_apply(e, HA_APPLY_LOCAL);
}

/* DB changes arrive through astdb's write hook, after astdb_apply(). */
static void db_hook(const struct astdb_op *op, void *arg)
{
	struct jnl_entry e = { .ts_us = jnl_now_us() };

	(void)arg;
	if (!ha_recording())
		return;
	e.type = op->kind == ASTDB_PUT ? JNL_DB_PUT :
		 op->kind == ASTDB_DEL ? JNL_DB_DEL : JNL_DB_DELTREE;
	e.u.db = (struct jnl_db){ jnl_pl(op->family), jnl_pl(op->key), jnl_pl(op->value) };
	ha_record(&e);
}

/* ------------------------------------------------------------ durable */

static int dlist_add(struct dlist *l, store_commit_h *h, void *arg, uint64_t off)
{
	if (l->n == l->cap) {
		size_t n = l->cap ? l->cap * 2 : 64;
		struct durable *v = realloc(l->v, n * sizeof(*v));
		if (!v)
			return ENOMEM;
		l->v = v;
		l->cap = n;
	}
	l->v[l->n++] = (struct durable){ h, arg, off };
	return 0;
}

int ha_on_durable(store_commit_h *h, void *arg)
{
	if (!T.j)
		return store_on_commit(h, arg);
	return dlist_add(&T.cur, h, arg, 0);
}

/* Run the first n of l with ok (callbacks may add to any list: detach). */
static void dlist_run(struct dlist *l, size_t n, bool ok)
{
	struct durable *v;
	size_t i;

	if (!n)
		return;
	v = malloc(n * sizeof(*v));
	if (!v) {   /* cannot detach: run in place, nothing is added meanwhile */
		log_error("cluster: out of memory running %zu confirmations", n);
		return;
	}
	memcpy(v, l->v, n * sizeof(*v));
	memmove(l->v, l->v + n, (l->n - n) * sizeof(*v));
	l->n -= n;
	for (i = 0; i < n; i++)
		v[i].h(ok, v[i].arg);
	free(v);
}

void ha_durable_release(uint64_t acked)
{
	size_t n = 0;

	while (n < T.park.n && T.park.v[n].off <= acked)
		n++;
	dlist_run(&T.park, n, true);
}

void ha_set_sync(bool wait)
{
	T.sync = wait;
	if (!wait)
		dlist_run(&T.park, T.park.n, true);
}

size_t ha_durable_drop(void)
{
	size_t n = T.park.n;

	T.sync = false;
	dlist_run(&T.park, n, false);
	return n;
}

void ha_set_feed(ha_feed_h *h, void *arg)
{
	T.feed = h;
	T.feed_arg = arg;
}

/* ----------------------------------------------------------- end of turn */

static void stamp_all(uint64_t off)
{
	struct repl_stamp s = T.pos;

	snprintf(s.replid, sizeof(s.replid), "%s", jnl_replid(T.j));
	s.offset = off;
	store_stamp(&s);
	astdb_stamp(&s);
	cdr_store_stamp(&s);
}

/* Commit the three files; false when tandem.db or astdb failed (they are
 * then behind their stamps: catch_up() replays; cdr.db keeps its records
 * in memory and retries on its own). */
static bool commit_stores(void)
{
	bool ok;

	store_commit();
	ok = !store_failing();
	if (astdb_commit())
		ok = false;
	cdr_store_commit();
	if (!ok && T.j && !T.behind) {
		T.behind = true;
		T.retry_ms = loop_now_update() + 1000;
	}
	return ok;
}

static int replay(char *err, size_t errsize);

/* Design 2.5 step 2: a store that failed re-applies the journal beyond
 * its stamp every second (logged by the store once, and here when done). */
static void catch_up(void)
{
	char err[256] = "";

	if (!T.behind || loop_now_update() < T.retry_ms)
		return;
	T.behind = false;
	if (replay(err, sizeof(err))) {
		log_warn("%s", err);
		T.behind = true;
	}
	if (T.behind)   /* replay failed, or commit_stores() failed again */
		T.retry_ms = loop_now_update() + 1000;
	else
		log_notice("cluster: the stores caught up with the journal at offset %" PRIu64,
			   jnl_head(T.j));
}

void ha_turn_end(void)
{
	uint64_t start, end;
	bool ok = true;
	int err;

	if (!T.j) {
		commit_stores();
		return;
	}
	ha_file_pump();   /* queued file changes, bounded per turn */
	start = end = jnl_head(T.j);
	if (T.nent && ha_role() != HA_ROLE_ACTIVE && ha_role() != HA_ROLE_SINGLE) {
		/* only the active writes the history; a standby's own change
		 * would fork it (design 1.4): dropped, its stores rolled back.
		 * (SINGLE with a journal: before the roles start, and tests.) */
		if (!T.dropped)
			log_warn("cluster: %" PRIu32 " changes made while this node is %s are "
				 "not kept (only the active writes)", T.nent,
				 ha_role_name(ha_role()));
		T.dropped = true;
		T.buf.len = 0;
		T.nent = 0;
		store_abort();
		astdb_abort();
		ok = false;
	}
	if (T.nent) {
		T.dropped = false;
		struct jnl_entry t = { .type = JNL_TURN, .ts_us = jnl_now_us() };

		t.u.turn = (struct jnl_turn){ T.turnno + 1, T.nent };
		err = jnl_entry_encode(&T.buf, &t);
		if (!err) {
			struct iovec iov = { T.buf.p, T.buf.len };
			err = jnl_append(T.j, &iov, 1, &end);
		}
		if (err) {
			log_error("cluster: this turn's %" PRIu32 " changes are lost: the "
				  "journal cannot be written (%s)", T.nent, strerror(err));
			store_abort();
			astdb_abort();
			ok = false;
		} else {
			T.turnno++;
			stamp_all(end);
		}
		T.buf.len = 0;
		T.nent = 0;
	}
	commit_stores();
	catch_up();
	if (ok && end > start && T.feed)
		T.feed(start, end, T.feed_arg);
	if (!ok || !T.sync || !T.feed) {
		dlist_run(&T.cur, T.cur.n, ok);
		return;
	}
	for (size_t i = 0; i < T.cur.n; i++) {
		if (dlist_add(&T.park, T.cur.v[i].h, T.cur.v[i].arg, end)) {
			T.cur.v[i].h(false, T.cur.v[i].arg);
			continue;
		}
	}
	T.cur.n = 0;
}

/* ------------------------------------------------------------ standby */

/* Say what is wrong with the first bad turn at buf + pos (stream offset
 * base + pos): a malformed entry, a cut turn or a wrong TURN count. */
static void explain(const uint8_t *buf, size_t len, size_t pos, uint64_t base,
		    int why, char *err, size_t errsize)
{
	struct jnl_entry e;
	size_t used, at = pos;
	unsigned n = 0;

	while (at < len) {
		int rc = jnl_entry_decode(&e, buf + at, len - at, &used);

		if (rc == EAGAIN) {
			snprintf(err, errsize, "at offset %" PRIu64 ": entry %u of the turn is "
				 "cut short (%zu of %zu bytes)", base + at, n, len - at, used);
			return;
		}
		if (rc) {
			uint16_t type = len - at >= 6 ? (uint16_t)(buf[at + 4] | buf[at + 5] << 8) : 0;
			snprintf(err, errsize, "at offset %" PRIu64 ": entry %u of the turn "
				 "(type 0x%02x %s) does not decode", base + at, n, type,
				 jnl_type_name(type));
			return;
		}
		if (e.type == JNL_TURN) {
			snprintf(err, errsize, "at offset %" PRIu64 ": TURN %" PRIu64 " counts %"
				 PRIu32 " entries, the turn has %u", base + at, e.u.turn.turn,
				 e.u.turn.entries, n);
			return;
		}
		at += used;
		n++;
	}
	snprintf(err, errsize, "at offset %" PRIu64 ": the turn has no TURN entry (%s)",
		 base + pos, strerror(why));
}

/* Check that buf is whole turns; the count of turns in *nturns. */
static int validate(const uint8_t *buf, size_t len, uint64_t base, char *err,
		    size_t errsize)
{
	size_t pos = 0, used;
	int rc;

	if (!len) {
		snprintf(err, errsize, "at offset %" PRIu64 ": no bytes", base);
		return EBADMSG;
	}
	while (pos < len) {
		if ((rc = jnl_turn_check(buf + pos, len - pos, &used, NULL))) {
			explain(buf, len, pos, base, rc, err, errsize);
			return EBADMSG;
		}
		pos += used;
	}
	return 0;
}

/* The active promoted (P_SHIFT): these turns hold an EPOCH entry naming a
 * new history. The standby's journal follows it before appending them, so
 * the segment holding the EPOCH entry carries the new replid, as on the
 * active, and a PSYNC after a restart asks for the new history. */
static void follow_shift(const uint8_t *buf, size_t len)
{
	size_t pos = 0, used;
	struct jnl_entry e;
	char id[JNL_REPLID_LEN + 1] = "";

	while (pos < len && !jnl_entry_decode(&e, buf + pos, len - pos, &used)) {
		pos += used;
		if (e.type == JNL_EPOCH && e.u.epoch.replid.l == JNL_REPLID_LEN)
			snprintf(id, sizeof(id), "%.*s", (int)e.u.epoch.replid.l,
				 e.u.epoch.replid.p);
	}
	if (id[0] && strcmp(id, jnl_replid(T.j)) && !jnl_shift(T.j, id))
		log_notice("cluster: the active started history %s (promotion); this "
			   "node's journal follows", id);
}

int ha_turn_receive(uint64_t start, const uint8_t *buf, size_t len, uint64_t *end,
		    char *err, size_t errsize)
{
	struct iovec iov = { (void *)buf, len };
	uint64_t e_off;
	int rc;

	if (!T.j) {
		snprintf(err, errsize, "this node has no journal");
		return EIO;
	}
	if (start != jnl_head(T.j)) {
		snprintf(err, errsize, "turns start at offset %" PRIu64 ", this node's head is "
			 "%" PRIu64, start, jnl_head(T.j));
		return ERANGE;
	}
	if ((rc = validate(buf, len, start, err, errsize)))
		return rc;
	if (T.nent) {   /* nothing is recorded on a standby; if it was, it is lost */
		log_error("cluster: %" PRIu32 " changes made on this node while it received "
			  "the active's turns are dropped", T.nent);
		T.buf.len = 0;
		T.nent = 0;
		store_abort();   /* and what they applied: the stores hold the history */
		astdb_abort();
		commit_stores();
	}
	follow_shift(buf, len);
	if ((rc = jnl_append(T.j, &iov, 1, &e_off))) {
		snprintf(err, errsize, "cannot append to the journal: %s", strerror(rc));
		return EIO;
	}
	T.applying = true;
	rc = ha_apply_turns(buf, len, HA_APPLY_REMOTE, start, NULL);
	if (rc) {   /* stores stay behind their stamps: replayed at start */
		store_abort();
		astdb_abort();
	} else {
		stamp_all(e_off);
	}
	commit_stores();
	T.applying = false;
	*end = e_off;
	if (rc) {
		snprintf(err, errsize, "turns up to offset %" PRIu64 " are in the journal but "
			 "a store could not apply them: %s", e_off, strerror(rc));
		return EIO;
	}
	return 0;
}

/* --------------------------------------------------------- open, replay */

static const char *const store_names[] = { "tandem.db", "astdb.sqlite3", "cdr.db" };

/* Where store i stands in this journal's history: its stamp's offset, or
 * 0 (never stamped: everything the journal holds applies to it). */
static uint64_t stamp_of(int i)
{
	struct repl_stamp s;
	int rc = i == 0 ? store_stamp_get(&s) : i == 1 ? astdb_stamp_get(&s) :
		 cdr_store_stamp_get(&s);

	if (rc == ENOENT)
		return 0;
	if (rc) {
		log_warn("cluster: cannot read the position stamp of %s: %s; replaying "
			 "the whole journal into it", store_names[i], strerror(rc));
		return 0;
	}
	if (i == 0) {   /* tandem.db holds the epoch and the previous history */
		T.pos.epoch = s.epoch;
		memcpy(T.pos.replid2, s.replid2, sizeof(s.replid2));
		T.pos.offset2 = s.offset2;
	}
	if (strcmp(s.replid, jnl_replid(T.j))) {
		log_warn("cluster: %s is stamped with history %s at %" PRIu64 ", the journal "
			 "holds %s: not replayed into it", store_names[i], s.replid, s.offset,
			 jnl_replid(T.j));
		return jnl_head(T.j);
	}
	if (s.offset > jnl_head(T.j)) {
		log_warn("cluster: %s is stamped at %" PRIu64 ", beyond the journal's head "
			 "%" PRIu64, store_names[i], s.offset, jnl_head(T.j));
		return jnl_head(T.j);
	}
	return s.offset;
}

static int replay(char *err, size_t errsize)
{
	uint64_t at[3], from = UINT64_MAX;
	struct jnl_reader *r;
	const uint8_t *buf;
	size_t len;
	unsigned long turns = 0;
	int rc, i;

	for (i = 0; i < 3; i++) {
		at[i] = stamp_of(i);
		if (at[i] < from)
			from = at[i];
	}
	if (from >= jnl_head(T.j))
		return 0;
	if (from < jnl_first(T.j)) {
		log_warn("cluster: the journal starts at %" PRIu64 ", after the stores' "
			 "position %" PRIu64 ": replaying what it still holds",
			 jnl_first(T.j), from);
		from = jnl_first(T.j);
	}
	if ((rc = jnl_reader_open(&r, T.j, from))) {
		snprintf(err, errsize, "cluster: cannot replay the journal from offset %"
			 PRIu64 ": %s", from, strerror(rc));
		return rc;
	}
	T.applying = true;
	for (;;) {
		uint64_t off = jnl_reader_offset(r);

		rc = jnl_reader_next(r, &buf, &len);
		if (rc == ENODATA) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		if ((rc = ha_apply_turns(buf, len, HA_APPLY_REPLAY, off, at)))
			break;
		turns++;
	}
	jnl_reader_close(r);
	if (!rc) {
		stamp_all(jnl_head(T.j));
		if (!commit_stores())   /* T.behind: catch_up() tries again */
			log_warn("cluster: the stores could not commit the journal's turns "
				 "%" PRIu64 "..%" PRIu64 "; retried every second", from,
				 jnl_head(T.j));
	}
	T.applying = false;
	if (rc)
		snprintf(err, errsize, "cluster: replaying the journal from %" PRIu64
			 " failed: %s", from, strerror(rc));
	else if (!T.behind)
		log_notice("cluster: replayed %lu turns of the journal (%" PRIu64 "..%" PRIu64
			   ") into the stores", turns, from, jnl_head(T.j));
	return rc;
}

int ha_jnl_open(const char *datadir, char *err, size_t errsize)
{
	char dir[4096];
	int rc;

	if (T.j)
		return EALREADY;
	snprintf(dir, sizeof(dir), "%s/journal", datadir);
	if ((rc = jnl_open(&T.j, dir, &T.opts, err, errsize)))
		return rc;
	if ((rc = replay(err, errsize))) {
		jnl_close(T.j);
		T.j = NULL;
		return rc;
	}
	astdb_set_write_hook(db_hook, NULL);
	log_info("cluster: journal %s: history %s, offset %" PRIu64 ", epoch %" PRIu64,
		 dir, jnl_replid(T.j), jnl_head(T.j), T.pos.epoch);
	return 0;
}

void ha_jnl_close(void)
{
	if (!T.j)
		return;
	ha_turn_end();                      /* what the last turn still holds */
	dlist_run(&T.park, T.park.n, false); /* never ACKed: not confirmed */
	astdb_set_write_hook(NULL, NULL);
	jnl_close(T.j);
	T.j = NULL;
	jnl_wbuf_free(&T.buf);
	free(T.cur.v);
	free(T.park.v);
	memset(&T.cur, 0, sizeof(T.cur));
	memset(&T.park, 0, sizeof(T.park));
	T.nent = 0;
	T.feed = NULL;
	T.sync = false;
	memset(&T.pos, 0, sizeof(T.pos));
}

void ha_restore(void)
{
	size_t n;

	registrar_promote();
	n = call_survive_restore();   /* before cdr_open_cut(): these go on */
	if (n)
		log_notice("cluster: P_RESTORE: %zu calls taken over", n);
}

void ha_quiesce(void)
{
	registrar_quiesce();
}
