/**
 * @file turn.h  The write path as the stores see it (docs/design/cluster.md
 * 1.1, 2.3, 2.5; the public half is in ha.h).
 *
 * A store function builds the entry for its change and calls ha_write():
 * with a journal the entry is encoded into this turn, and either way it is
 * applied by ha_apply(), the function the standby runs on every entry it
 * receives and start-up runs on the journal beyond the stores' stamps.
 */
#ifndef TANDEM_HA_TURN_H
#define TANDEM_HA_TURN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ha/jnl_codec.h"

enum ha_apply_mode {
	HA_APPLY_LOCAL,    /* the serving node's own change: stores only */
	HA_APPLY_REMOTE,   /* received on the standby: stores and memory views */
	HA_APPLY_REPLAY,   /* start-up replay: stores only, before memory loads */
};

/** Record e in this turn (journal open) and apply it locally. */
int ha_write(const struct jnl_entry *e);
/** Bytes of queue_log lines written in this turn, not yet in the
 * journal's head (a full resync cuts queue_log before them). */
size_t ha_turn_qlog_bytes(void);
/** True when changes are recorded: journal open, not applying entries. */
bool ha_recording(void);
/** Encode e into this turn (only while ha_recording()); 0 or errno. */
int ha_record(const struct jnl_entry *e);
/**
 * Apply one entry to the stores (and, REMOTE, to the memory views).
 * Idempotent (design 2.2). 0 or errno (logged).
 */
int ha_apply(const struct jnl_entry *e, enum ha_apply_mode m);
struct jnl_opts;
/** Journal options (tandem.conf [cluster] fsync, backlog) before ha_jnl_open. */
void ha_jnl_set_opts(const struct jnl_opts *o);
/** An EPOCH entry was applied: the position's epoch and previous history. */
void ha_position_epoch(uint64_t epoch, const struct pl *replid2, uint64_t offset2);
/** This node's name for BINDING_PUT's node field ("" before set). */
const char *ha_node(void);
void ha_set_node(const char *node);

/** Recording off while applying entries (returns the previous setting). */
bool ha_set_applying(bool on);
/** Apply every entry of whole turns in buf (validated), recording off;
 * skip_below (may be NULL): per ha_store, the stamp at or past which a
 * turn is already in that store. 0 or the first errno. */
int ha_apply_turns(const uint8_t *buf, size_t len, enum ha_apply_mode m,
		   uint64_t start, const uint64_t skip_below[3]);

/* Stores for replay skipping: the file each entry type lands in. */
enum ha_store { HA_STORE_TANDEM, HA_STORE_ASTDB, HA_STORE_CDR, HA_STORE_NONE };
enum ha_store ha_store_of(uint16_t type);

/* `tandemctl cluster digest` (turn_digest.c; design 8.5): sha256 per store
 * over a canonical dump of its committed contents, 64 hex digits each. */
struct ha_digest {
	char replid[JNL_REPLID_LEN + 1], replid2[JNL_REPLID_LEN + 1];
	uint64_t offset, offset2, epoch;
	char bindings[65], astdb[65], cdr[65], queue_log[65];
};
int ha_digest(struct ha_digest *d);
/** The ctl command's reply (cluster.c dispatches "cluster digest" here);
 * NULL with err set when a store cannot be read. */
json_t *ha_digest_json(char *err, size_t errsize);

#endif
