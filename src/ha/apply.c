/**
 * @file apply.c  One apply function for every journal entry (turn.h;
 * docs/design/cluster.md 1.1, 2.2): the serving node runs it on its own
 * changes, the standby on the turns it receives, start-up on the journal
 * beyond the stores' stamps. Every case is idempotent: upserts by key,
 * INSERT OR IGNORE by uniqueid, deleting nothing is fine.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ha/file.h"
#include "ha/turn.h"
#include "pbx/call_survive.h"
#include "pbx/queue.h"
#include "pbx/queue_log.h"
#include "pbx/registrar.h"
#include "store/astdb.h"
#include "store/cdr.h"
#include "store/cdr_int.h"
#include "store/store.h"

#define QPM "Queue/PersistentMembers"

enum ha_store ha_store_of(uint16_t type)
{
	switch (type) {
	case JNL_BINDING_PUT: case JNL_BINDING_DEL: case JNL_EPOCH:
		return HA_STORE_TANDEM;
	case JNL_DB_PUT: case JNL_DB_DEL: case JNL_DB_DELTREE:
		return HA_STORE_ASTDB;
	case JNL_SEQ: case JNL_CDR: case JNL_CDR_OPEN: case JNL_CDR_UP:
	case JNL_CDR_SPOOL_DONE:
		return HA_STORE_CDR;
	default:
		return HA_STORE_NONE;
	}
}

static char *dup_pl(const struct pl *v)
{
	char *s = malloc(v->l + 1);

	if (s) {
		if (v->l)
			memcpy(s, v->p, v->l);
		s[v->l] = '\0';
	}
	return s;
}

/* The queue's members live in the DB (queue_store.c): on the standby a
 * change of "Queue/PersistentMembers/<queue>" updates the queue too. */
static void db_view(const struct astdb_op *op)
{
	const char *queue = NULL;

	if (!strcmp(op->family, QPM))
		queue = op->key;
	else if (!strcmp(op->family, "Queue") && op->key &&
		 !strncmp(op->key, "PersistentMembers/", 18))
		queue = op->key + 18;
	if (queue && *queue && op->kind != ASTDB_DELTREE)
		queue_store_apply(queue, op->kind == ASTDB_PUT ? op->value : NULL);
}

static int apply_db(const struct jnl_entry *e, enum ha_apply_mode m)
{
	struct astdb_op op;
	char *f = dup_pl(&e->u.db.family), *k = dup_pl(&e->u.db.key);
	char *v = dup_pl(&e->u.db.value);
	int rc = ENOMEM;

	if (f && k && v) {
		op = (struct astdb_op){
			e->type == JNL_DB_PUT ? ASTDB_PUT :
			e->type == JNL_DB_DEL ? ASTDB_DEL : ASTDB_DELTREE, f, k, v };
		rc = astdb_apply(&op, NULL);
		if (rc == ENOENT)
			rc = 0;
		if (!rc && m == HA_APPLY_REMOTE)
			db_view(&op);
	}
	free(f);
	free(k);
	free(v);
	return rc;
}

int ha_apply(const struct jnl_entry *e, enum ha_apply_mode m)
{
	static uint32_t warned;   /* types not applied yet: logged once each */
	int rc = 0;

	switch (e->type) {
	case JNL_TURN:
	case JNL_MEMBERS:
		return 0;
	case JNL_EPOCH:
		ha_position_epoch(e->u.epoch.epoch, &e->u.epoch.replid2, e->u.epoch.offset2);
		return 0;
	case JNL_BINDING_PUT:
		rc = store_binding_apply_put(&e->u.bput);
		if (!rc && m == HA_APPLY_REMOTE)
			registrar_apply_put(&e->u.bput);
		return rc;
	case JNL_BINDING_DEL:
		rc = store_binding_apply_del(&e->u.bdel);
		if (!rc && m == HA_APPLY_REMOTE)
			registrar_apply_del(&e->u.bdel);
		return rc;
	case JNL_DB_PUT:
	case JNL_DB_DEL:
	case JNL_DB_DELTREE:
		return apply_db(e, m);
	case JNL_QUEUE_LOG:
		/* a flat file, not idempotent: written by the turn itself on the
		 * active, before the journal; never replayed */
		return m == HA_APPLY_REPLAY ? 0 : queue_log_apply(&e->u.qlog);
	case JNL_CDR:
		return cdr_store_apply(&e->u.cdr);
	case JNL_CDR_OPEN:
		return cdr_store_apply_open(&e->u.cdr_open);
	case JNL_CDR_UP:
		return cdr_store_apply_up(&e->u.cdr_up);
	case JNL_CDR_SPOOL_DONE:
		return cdr_store_apply_spool_done(&e->u.spool_done);
	case JNL_SEQ:
		return cdr_store_apply_seq(&e->u.seq);
	case JNL_FILE_BEGIN: case JNL_FILE_CHUNK: case JNL_FILE_END:
	case JNL_FILE_DEL: case JNL_FILE_RENAME: case JNL_CONF_APPLY:
		return ha_file_apply(e, m);
	case JNL_CALL_SNAP:
	case JNL_CALL_UPD:
	case JNL_CALL_END:
		/* memory only, on the standby; a replay finds no call to keep */
		return m == HA_APPLY_REMOTE ? call_survive_apply(e) : 0;
	default:
		if (e->type < 0x60 && !(warned & (1u << (e->type & 31)))) {
			warned |= 1u << (e->type & 31);
			log_warn("cluster: %s entries are not applied yet (this build does not "
				 "replicate them)", jnl_type_name(e->type));
		}
		return 0;
	}
}

int ha_apply_turns(const uint8_t *buf, size_t len, enum ha_apply_mode m,
		   uint64_t start, const uint64_t skip_below[3])
{
	size_t pos = 0, used;
	struct jnl_entry e;
	int rc, first = 0;
	bool was = ha_set_applying(true);

	while (pos < len) {
		if ((rc = jnl_entry_decode(&e, buf + pos, len - pos, &used))) {
			first = EBADMSG;   /* validated before: damaged since */
			break;
		}
		pos += used;
		/* replay (one turn at a time): a store stamped at or past the
		 * turn's end has its entries already */
		enum ha_store st = ha_store_of(e.type);
		if (skip_below && st != HA_STORE_NONE && skip_below[st] >= start + len)
			continue;
		if ((rc = ha_apply(&e, m)) && !first)
			first = rc;
	}
	ha_set_applying(was);
	return first;
}
