/**
 * @file repl.h  Replication of the journal from the active node to the
 * standby over the link (docs/design/cluster.md 3.2-3.5, 4): PSYNC,
 * CONTINUE or FULLRESYNC, STREAM of whole turns, ACK; synchronous
 * confirmations while the standby is in SYNC, ALONE when it is silent.
 */
#ifndef TANDEM_HA_REPL_H
#define TANDEM_HA_REPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha/cluster_conf.h"
#include "ha/jnl_codec.h"
#include "ha/link.h"

/* design 3.5 */
enum repl_state {
	REPL_NONE,        /* no link */
	REPL_CONNECTING,
	REPL_HANDSHAKE,   /* link up, PSYNC not answered yet */
	REPL_FULLSYNC,    /* snapshot being made, sent or installed */
	REPL_CATCHUP,     /* streaming, behind the head */
	REPL_SYNC,        /* streaming, ACKs at the head */
	REPL_ALONE,       /* active: the standby went silent; not waiting */
	REPL_REFUSED,     /* the link was refused (key or config) */
};

const char *repl_state_name(enum repl_state s);

/* The SQLite databases a full resync copies (DATADIR/NAME). */
enum repl_db { REPL_DB_TANDEM, REPL_DB_CDR, REPL_DB_ASTDB, REPL_DB_COUNT };
const char *repl_db_file(unsigned db);

/* ------------------------------------------------------------ frames */

/* PSYNC and CONTINUE: a position. */
struct repl_pos { char replid[JNL_REPLID_LEN + 1]; uint64_t offset; };
/* FULLRESYNC: the snapshot's position and its size. */
struct repl_full { char replid[JNL_REPLID_LEN + 1]; uint64_t offset, db_bytes; };
/* SNAP: data of database db at byte off; SNAP_END: its size and sha256. */
struct repl_snap { uint8_t db; uint64_t off; const uint8_t *data; size_t len; };
struct repl_snap_end { uint8_t db; uint64_t size; uint8_t sha256[32]; };
/* STREAM: whole turns starting at offset start. */
struct repl_stream { uint64_t start; const uint8_t *turns; size_t len; };
/* ACK: offset applied and committed, ts_us of that turn's last entry. */
struct repl_ack { uint64_t offset; int64_t ts_us; };

/* Encoders append to b (0 or ENOMEM); decoders return 0 or EBADMSG and
 * refuse short or trailing bytes, bad replids and unknown databases. */
int repl_pos_encode(struct jnl_wbuf *b, const char *replid, uint64_t offset);
int repl_pos_decode(struct repl_pos *d, const uint8_t *p, size_t len);
int repl_full_encode(struct jnl_wbuf *b, const struct repl_full *f);
int repl_full_decode(struct repl_full *d, const uint8_t *p, size_t len);
/** SNAP header only (db, off); the caller appends the data. */
int repl_snap_encode_hdr(struct jnl_wbuf *b, uint8_t db, uint64_t off);
int repl_snap_decode(struct repl_snap *d, const uint8_t *p, size_t len);
int repl_snap_end_encode(struct jnl_wbuf *b, const struct repl_snap_end *e);
int repl_snap_end_decode(struct repl_snap_end *d, const uint8_t *p, size_t len);
int repl_u64_encode(struct jnl_wbuf *b, uint64_t v);              /* SYNC_DONE */
int repl_u64_decode(uint64_t *v, const uint8_t *p, size_t len);
/** STREAM header only (start); the caller appends whole turns. */
int repl_stream_encode_hdr(struct jnl_wbuf *b, uint64_t start);
/** Also checks that turns are one or more whole, well-formed turns
 * (jnl_turn_check); err says what is wrong and where. */
int repl_stream_decode(struct repl_stream *d, const uint8_t *p, size_t len, char *err,
		       size_t errsize);
int repl_ack_encode(struct jnl_wbuf *b, const struct repl_ack *a);
int repl_ack_decode(struct repl_ack *d, const uint8_t *p, size_t len);

/**
 * The PSYNC decision of design 3.3 on the active: CONTINUE (true) when
 * the standby's (replid, offset) is in this node's history and its journal
 * holds offset (first <= offset <= head), else FULLRESYNC.
 */
bool repl_can_continue(const struct repl_pos *want, const char *replid, const char *replid2,
		       uint64_t offset2, uint64_t first, uint64_t head);

/* ------------------------------------------------------------ the node */

/** The link's callbacks (cluster.c starts the link with these). */
extern const struct ha_link_handlers repl_link_handlers;

/** Start replicating for node self of cc with the stores in datadir. */
int  repl_init(const struct cluster_conf *cc, unsigned self, const char *datadir);
/** Bind the running link (after ha_link_start). */
void repl_set_link(struct ha_link *l);
void repl_close(void);

enum repl_state repl_state(void);
/** The active's standby holds every byte written (failover's FO_WAIT_SYNC). */
bool repl_synced(void);
/**
 * A planned takeover (design 8.5): the standby asks the active over the
 * link with FAILOVER(its replid, head). 0, ENOTCONN when the link is down,
 * EAGAIN when this node is not a receiver in SYNC.
 */
int  repl_failover_ask(void);
/** Called on the active when the standby's FAILOVER arrives. */
typedef void (repl_failover_h)(const struct repl_pos *standby);
void repl_on_failover(repl_failover_h *h);
/** The witness echoed W_OUTDATED(standby, offset): going alone is
 * recorded; the held confirmations go (alone.h). */
void repl_alone_recorded(uint64_t offset);
/** Going alone asked at the witness, not recorded yet. */
bool repl_alone_holding(void);
/** This node's "repl" object of `cluster status` (design 8.5). */
json_t *repl_status_json(void);
/** The peer's last known "repl" object (from its HELLO/ACKs), or NULL. */
json_t *repl_peer_status_json(void);

/* repl_snap.c: the snapshot of the SQLite databases (design 3.4). */
struct repl_snap_out;
/** Active: begin a consistent copy of the databases into DATADIR/repl/out. */
int  repl_snap_begin(struct repl_snap_out **sp, const char *datadir);
/** Copy some pages; 0 with *done when the copy is complete, or an errno. */
int  repl_snap_step(struct repl_snap_out *s, bool *done);
/** Size of database db's copy (after done), and the path to read. */
uint64_t repl_snap_size(const struct repl_snap_out *s, unsigned db);
const char *repl_snap_path(const struct repl_snap_out *s, unsigned db);
void repl_snap_end(struct repl_snap_out *s);

#endif
