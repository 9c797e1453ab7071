/**
 * @file merge.c  The loser's tail applied on the winner (merge.h;
 * docs/design/cluster.md 7): records, bindings, DB keys, queue_log.
 * Files are merge_files.c's.
 *
 * "Last writer" needs to know what the winner wrote since the split: its
 * own journal from offset2 to its head, read once when the merge starts,
 * gives each key's latest ts_us here (a table of keys). A merged entry is
 * journaled with the loser's ts_us, so merging the same tail again finds
 * it in that table (equal time: the winner's copy stays) and adds nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "core/log.h"
#include "ha/ha.h"
#include "ha/jnl.h"
#include "ha/merge.h"
#include "ha/file.h"
#include "ha/turn.h"
#include "store/astdb.h"
#include "store/cdr.h"
#include "store/cdr_int.h"

/* A key the winner wrote since the split: "b" peer, "d" family NUL key,
 * "l" queue_log line; DB_DELTREE prefixes "t" family NUL prefix. */
struct key {
	struct hash_le le;
	int64_t ts;
	size_t len;
	char k[];
};

/* A call the loser opened in its tail: finalised as cut unless its CDR
 * comes in the tail too. */
struct open_call {
	struct jnl_cdr_open o;      /* views into buf */
	int64_t answer_us;
	bool closed;
	char *buf;
};

static struct {
	bool on;
	char peer[64];
	struct hash keys;
	struct key **trees;         /* DELTREE prefixes (few) */
	size_t ntrees;
	struct open_call *opens;
	size_t nopens;
	struct merge_stats st;
	bool fallback;              /* the winner's journal lost the split point */
} M;

/* ------------------------------------------------------------ the loser */

bool merge_out_wanted(const struct merge_pos *peer, uint64_t *from)
{
	char replid[JNL_REPLID_LEN + 1], replid2[JNL_REPLID_LEN + 1];
	struct merge_pos self = { replid, replid2, 0, 0 };
	struct jnl *j = ha_jnl();
	uint64_t epoch, at;

	if (!j)
		return false;
	ha_position(replid, &self.head, replid2, &self.offset2, &epoch);
	self.head = jnl_head(j);
	if (!merge_branch(&self, peer, &at))
		return false;
	if (!jnl_covers(j, at)) {
		log_error("cluster: this node wrote %" PRIu64 " bytes after the split, but its "
			  "journal no longer holds the split point (offset %" PRIu64 ", journal "
			  "from %" PRIu64 "): they cannot be merged", jnl_head(j) - at, at,
			  jnl_first(j));
		return false;
	}
	*from = at;
	return true;
}

/* ------------------------------------------------------------ key table */

static uint32_t key_hash(const char *k, size_t len)
{
	struct pl p = { k, len };

	return pl_hash(&p, false);
}

struct key_arg { const char *k; size_t len; };

static bool key_eq(const void *obj, const void *arg)
{
	const struct key *o = obj;
	const struct key_arg *a = arg;

	return o->len == a->len && !memcmp(o->k, a->k, a->len);
}

static struct key *key_find(const char *k, size_t len)
{
	struct key_arg a = { k, len };

	return hash_find(&M.keys, key_hash(k, len), key_eq, &a);
}

static int key_note(const char *k, size_t len, int64_t ts)
{
	struct key *o = key_find(k, len);

	if (o) {
		if (ts > o->ts)
			o->ts = ts;
		return 0;
	}
	if (!(o = malloc(sizeof(*o) + len)))
		return ENOMEM;
	o->ts = ts;
	o->len = len;
	memcpy(o->k, k, len);
	hash_add(&M.keys, &o->le, key_hash(k, len), o);
	return 0;
}

/* kind + parts joined by NUL into buf; its length or 0 when too long. */
static size_t key_make(char *buf, size_t size, char kind, const struct pl *a,
		       const struct pl *b)
{
	size_t n = 1 + a->l + (b ? 1 + b->l : 0);

	if (n > size)
		return 0;
	buf[0] = kind;
	memcpy(buf + 1, a->p, a->l);
	if (b) {
		buf[1 + a->l] = '\0';
		memcpy(buf + 2 + a->l, b->p, b->l);
	}
	return n;
}

static int tree_note(const struct pl *family, const struct pl *prefix, int64_t ts)
{
	char buf[1100];
	size_t n = key_make(buf, sizeof(buf), 't', family, prefix);
	struct key *o, **t;

	if (!n)
		return 0;
	if (!(o = malloc(sizeof(*o) + n)) ||
	    !(t = realloc(M.trees, (M.ntrees + 1) * sizeof(*t)))) {
		free(o);
		return ENOMEM;
	}
	o->ts = ts;
	o->len = n;
	memcpy(o->k, buf, n);
	M.trees = t;
	M.trees[M.ntrees++] = o;
	return 0;
}

/* The winner's latest write of a DB key since the split, DELTREEs
 * included (0: none). */
static int64_t db_written(const struct pl *family, const struct pl *key)
{
	char buf[1100];
	size_t n = key_make(buf, sizeof(buf), 'd', family, key);
	struct key *o = n ? key_find(buf, n) : NULL;
	int64_t ts = o ? o->ts : 0;

	for (size_t i = 0; i < M.ntrees; i++) {
		const struct key *t = M.trees[i];
		size_t fl = family->l;

		if (t->len >= 2 + fl && !memcmp(t->k + 1, family->p, fl) && !t->k[1 + fl] &&
		    t->len - 2 - fl <= key->l && !memcmp(t->k + 2 + fl, key->p, t->len - 2 - fl) &&
		    t->ts > ts)
			ts = t->ts;
	}
	return ts;
}

/* One entry of the winner's own journal since the split. */
static int note_own(const struct jnl_entry *e)
{
	char buf[1100];
	size_t n = 0;

	switch (e->type) {
	case JNL_BINDING_PUT:
		n = key_make(buf, sizeof(buf), 'b', &e->u.bput.peer, NULL);
		break;
	case JNL_BINDING_DEL:
		n = key_make(buf, sizeof(buf), 'b', &e->u.bdel.peer, NULL);
		break;
	case JNL_DB_PUT: case JNL_DB_DEL:
		n = key_make(buf, sizeof(buf), 'd', &e->u.db.family, &e->u.db.key);
		break;
	case JNL_DB_DELTREE:
		return tree_note(&e->u.db.family, &e->u.db.key, e->ts_us);
	case JNL_QUEUE_LOG:
		n = key_make(buf, sizeof(buf), 'l', &e->u.qlog.line, NULL);
		break;
	default:
		return 0;
	}
	return n ? key_note(buf, n, e->ts_us) : 0;
}

static int read_own(uint64_t from)
{
	struct jnl *j = ha_jnl();
	struct jnl_reader *r = NULL;
	const uint8_t *buf;
	size_t len, pos, used;
	struct jnl_entry e;
	int err;

	if (!j || !jnl_covers(j, from)) {
		M.fallback = true;
		log_warn("cluster: merge: this node's journal no longer holds the split point "
			 "(offset %" PRIu64 "): the peer's keys are merged only where this node "
			 "has none", from);
		return 0;
	}
	if ((err = jnl_reader_open(&r, j, from)))
		return err;
	while (!(err = jnl_reader_next(r, &buf, &len)))
		for (pos = 0; pos < len && !jnl_entry_decode(&e, buf + pos, len - pos, &used);
		     pos += used)
			if ((err = note_own(&e)))
				goto out;
	if (err == ENODATA)
		err = 0;
out:
	jnl_reader_close(r);
	return err;
}

/* ------------------------------------------------------------ the winner */

bool merge_in_active(void)
{
	return M.on;
}

static bool free_key(void *obj, void *arg)
{
	struct key *k = obj;

	(void)arg;
	hash_del(&M.keys, &k->le);
	free(k);
	return false;
}

static void clear(void)
{
	if (M.keys.b) {
		hash_apply(&M.keys, free_key, NULL);
		hash_close(&M.keys);
	}
	for (size_t i = 0; i < M.ntrees; i++)
		free(M.trees[i]);
	free(M.trees);
	for (size_t i = 0; i < M.nopens; i++)
		free(M.opens[i].buf);
	free(M.opens);
	memset(&M, 0, sizeof(M));
}

int merge_in_begin(const char *peer, uint64_t from)
{
	int err;

	clear();
	if ((err = hash_init(&M.keys, 256)))
		return err;
	M.on = true;
	snprintf(M.peer, sizeof(M.peer), "%s", peer);
	if ((err = read_own(from))) {
		log_error("cluster: merge: cannot read this node's journal from offset %" PRIu64
			  ": %s", from, strerror(err));
		clear();
	}
	return err;
}

void merge_in_abort(void)
{
	if (!M.on)
		return;
	log_warn("cluster: merge of %s's writes interrupted (%u entries applied so far; the "
		 "rest comes when it reconnects)", M.peer,
		 M.st.cdr + M.st.bindings + M.st.db + M.st.qlog + M.st.files);
	merge_files_end();
	clear();
}

/* Journal e as the loser wrote it (its ts_us), then apply it to the
 * stores and the memory views, as a standby would. */
static int take(const struct jnl_entry *e)
{
	bool was;
	int err;

	if ((err = ha_record(e)))
		return err;
	was = ha_set_applying(true);
	err = ha_apply(e, HA_APPLY_REMOTE);
	ha_set_applying(was);
	return err;
}

static int keep_open(const struct jnl_entry *e)
{
	const struct jnl_cdr_open *o = &e->u.cdr_open;
	const struct pl *f[] = { &o->uniqueid, &o->linkedid, &o->clid, &o->src, &o->dst,
				 &o->dcontext, &o->channel, &o->accountcode, &o->peeraccount };
	size_t total = 0, at = 0;
	struct open_call *n, *c;
	struct pl *to[9];

	if (!(n = realloc(M.opens, (M.nopens + 1) * sizeof(*n))))
		return ENOMEM;
	M.opens = n;
	c = &M.opens[M.nopens];
	memset(c, 0, sizeof(*c));
	c->o = *o;
	for (size_t i = 0; i < 9; i++)
		total += f[i]->l;
	if (!(c->buf = malloc(total + 1)))
		return ENOMEM;
	to[0] = &c->o.uniqueid, to[1] = &c->o.linkedid, to[2] = &c->o.clid;
	to[3] = &c->o.src, to[4] = &c->o.dst, to[5] = &c->o.dcontext;
	to[6] = &c->o.channel, to[7] = &c->o.accountcode, to[8] = &c->o.peeraccount;
	for (size_t i = 0; i < 9; i++) {
		if (f[i]->l)
			memcpy(c->buf + at, f[i]->p, f[i]->l);
		*to[i] = (struct pl){ c->buf + at, f[i]->l };
		at += f[i]->l;
	}
	M.nopens++;
	return 0;
}

static struct open_call *find_open(const struct pl *uniqueid)
{
	for (size_t i = 0; i < M.nopens; i++)
		if (M.opens[i].o.uniqueid.l == uniqueid->l &&
		    !memcmp(M.opens[i].o.uniqueid.p, uniqueid->p, uniqueid->l))
			return &M.opens[i];
	return NULL;
}

/* Bindings and DB keys: the loser's write wins when it is later than
 * any the winner made since the split. */
static bool loser_wins(const struct jnl_entry *e)
{
	char buf[1100];
	size_t n;
	const struct key *o;

	switch (e->type) {
	case JNL_BINDING_PUT:
		if (e->u.bput.expires_at <= (int64_t)time(NULL))
			return false;                 /* expired meanwhile */
		/* fall through */
	case JNL_BINDING_DEL: {
		const struct pl *peer = e->type == JNL_BINDING_PUT ? &e->u.bput.peer :
					&e->u.bdel.peer;
		n = key_make(buf, sizeof(buf), 'b', peer, NULL);
		o = n ? key_find(buf, n) : NULL;
		if (M.fallback)
			return e->type == JNL_BINDING_PUT;
		return !o || e->ts_us > o->ts;
	}
	case JNL_DB_PUT: case JNL_DB_DEL: case JNL_DB_DELTREE: {
		int64_t w = db_written(&e->u.db.family, &e->u.db.key);
		char *v = NULL;

		if (M.fallback && e->type == JNL_DB_PUT) {
			char f[512], k[600];

			snprintf(f, sizeof(f), "%.*s", (int)e->u.db.family.l, e->u.db.family.p);
			snprintf(k, sizeof(k), "%.*s", (int)e->u.db.key.l, e->u.db.key.p);
			bool have = !astdb_get(f, k, &v);
			free(v);
			return !have;
		}
		if (M.fallback)
			return false;
		return e->ts_us > w;
	}
	default:
		return true;
	}
}

static int merge_entry(const struct jnl_entry *e)
{
	struct merge_stats *st = &M.st;
	struct open_call *c;
	char buf[1100];
	size_t n;
	int err = 0;

	if (e->type != JNL_TURN) {
		if (!st->first_ts || e->ts_us < st->first_ts)
			st->first_ts = e->ts_us;
		if (e->ts_us > st->last_ts)
			st->last_ts = e->ts_us;
	}
	switch (e->type) {
	case JNL_TURN: case JNL_EPOCH: case JNL_MEMBERS:
	case JNL_CALL_SNAP: case JNL_CALL_UPD: case JNL_CALL_END:
		return 0;
	case JNL_SEQ:
	case JNL_CDR_SPOOL_DONE:
		return take(e);
	case JNL_CDR:
		if ((c = find_open(&e->u.cdr.uniqueid)))
			c->closed = true;
		st->cdr++;
		return take(e);
	case JNL_CDR_OPEN:
		return keep_open(e);
	case JNL_CDR_UP:
		if ((c = find_open(&e->u.cdr_up.uniqueid)))
			c->answer_us = e->u.cdr_up.answer_us;
		return 0;
	case JNL_BINDING_PUT: case JNL_BINDING_DEL:
	case JNL_DB_PUT: case JNL_DB_DEL: case JNL_DB_DELTREE:
	case JNL_QMEMBER_PUT: case JNL_QMEMBER_DEL:
		if (!loser_wins(e)) {
			st->skipped++;
			return 0;
		}
		if (e->type == JNL_BINDING_PUT || e->type == JNL_BINDING_DEL)
			st->bindings++;
		else
			st->db++;
		return take(e);
	case JNL_QUEUE_LOG:
		n = key_make(buf, sizeof(buf), 'l', &e->u.qlog.line, NULL);
		if (n && key_find(buf, n)) {
			st->skipped++;                /* merged before */
			return 0;
		}
		if (n && (err = key_note(buf, n, e->ts_us)))
			return err;
		st->qlog++;
		return take(e);
	case JNL_FILE_BEGIN: case JNL_FILE_CHUNK: case JNL_FILE_END:
	case JNL_FILE_DEL: case JNL_FILE_RENAME: case JNL_CONF_APPLY:
		return merge_file_entry(e, M.peer, st);
	default:
		st->dropped++;
		return 0;
	}
}

int merge_in_turns(const uint8_t *buf, size_t len)
{
	size_t pos = 0, used;
	struct jnl_entry e;
	int err;

	if (!M.on)
		return EPROTO;
	while (pos < len) {
		if ((err = jnl_entry_decode(&e, buf + pos, len - pos, &used)))
			return err;
		pos += used;
		if ((err = merge_entry(&e))) {
			log_error("cluster: merge: a %s entry from %s could not be applied: %s",
				  jnl_type_name(e.type), M.peer, strerror(err));
			return err;
		}
	}
	return 0;
}

/* A call the loser had up when it stopped writing: its record ends at
 * the tail's last write (design 7: "finalised as cut by failover"). */
static void cut(const struct open_call *c, int64_t end_us)
{
	struct jnl_entry e = { .type = JNL_CDR, .ts_us = end_us };
	const struct jnl_cdr_open *o = &c->o;

	cdr_cut_fill(&e.u.cdr, o, c->answer_us, end_us);
	if (take(&e))
		return;
	M.st.cdr_cut++;
	log_notice("cluster: merge: call record %.*s (%.*s -> %.*s) cut by failover: %s stopped "
		   "writing while it was up", (int)o->uniqueid.l, o->uniqueid.p, (int)o->src.l,
		   o->src.p, (int)o->dst.l, o->dst.p, M.peer);
}

void merge_in_end(void)
{
	const struct merge_stats *s = &M.st;
	char when[64] = "";
	bool conf;

	if (!M.on)
		return;
	for (size_t i = 0; i < M.nopens; i++)
		if (!M.opens[i].closed)
			cut(&M.opens[i], s->last_ts);
	conf = merge_files_end();
	if (s->first_ts) {
		time_t a = (time_t)(s->first_ts / 1000000), b = (time_t)(s->last_ts / 1000000);
		struct tm ta, tb;

		localtime_r(&a, &ta);
		localtime_r(&b, &tb);
		strftime(when, 32, "%H:%M:%S", &ta);
		strftime(when + strlen(when), 32, "-%H:%M:%S", &tb);
	}
	log_warn("cluster: merged the writes %s made after the split (%s): %u CDR (%u cut by "
		 "failover), %u bindings, %u DB keys, %u queue_log lines, %u files (%u renumbered, "
		 "%u conflicts kept aside); %u older than this node's own writes kept out",
		 M.peer, when[0] ? when : "no entries", s->cdr, s->cdr_cut, s->bindings, s->db,
		 s->qlog, s->files, s->renumbered, s->conflicts, s->skipped);
	if (conf) {              /* this node reloads; the standby at CONF_APPLY */
		log_notice("cluster: merge changed the configuration: reloading");
		ha_file_reload_soon();
		ha_file_conf_apply();
	}
	clear();
}
