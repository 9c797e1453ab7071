/**
 * @file cdr_int.h  Internals shared by cdr.c (state machine), cdr_conf.c,
 * cdr_store.c (cdr.db, spool) and cdr_mariadb.c (writer thread). Not for
 * the call layer: it uses cdr.h.
 */
#ifndef TANDEM_CDR_INT_H
#define TANDEM_CDR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/cdr.h"
#include "core/pl.h"

/* ------------------------------------------------------------ cdr.c */

/** Finalise (end = now) and post every CDR still open; returns how many. */
size_t cdr_finalise_all(void);
/** A CDR not finalised here has this uniqueid (a restored call's). */
bool cdr_is_live(const struct pl *uniqueid);
int64_t cdr_wall_us(void);
int64_t cdr_mono_us(void);
/** "YYYY-MM-DD HH:MM:SS" in local time or UTC. */
void cdr_fmt_time(int64_t us, bool gmt, char *buf, size_t size);
/** duration and billsec from the times, as Asterisk's cdr.c. */
void cdr_compute(struct cdr_record *r, bool initiatedseconds);
/** Copy src (NULL: "") into dst, cut at a UTF-8 character boundary. */
void cdr_strcpy(char *dst, size_t size, const char *src);

/* ------------------------------------------------------ cdr_store.c */

/** Next sequence number (persisted in blocks in cdr.db when open). */
uint64_t cdr_seq_next(void);
/** Node name for uniqueids ("" when none). */
const char *cdr_node(void);
/** The active [cdr] settings (defaults before cdr_store_init). */
const struct cdr_conf *cdr_conf_active(void);

/* ---------------------------------------------------- cdr_mariadb.c */

#define CDR_TIME 32

/** One spooled record as the writer sends it: text ready for SQL. */
struct cdr_row {
	int64_t spool_id;
	int64_t duration, billsec, sequence;
	char calldate[CDR_TIME], start[CDR_TIME], answer[CDR_TIME], end[CDR_TIME];
	char disposition[16], amaflags[16];
	char clid[CDR_FIELD], src[CDR_FIELD], dst[CDR_FIELD], dcontext[CDR_FIELD];
	char channel[CDR_FIELD], dstchannel[CDR_FIELD], lastapp[CDR_FIELD];
	char lastdata[CDR_LONG], accountcode[CDR_FIELD], peeraccount[CDR_FIELD];
	char userfield[CDR_LONG], uniqueid[CDR_ID], linkedid[CDR_ID];
};

/* The writer's view of MariaDB (a visible state machine, STYLE.md). */
enum cdr_link_state {
	CDR_LINK_IDLE,      /* not connected yet */
	CDR_LINK_UP,        /* connected, records go in */
	CDR_LINK_DOWN,      /* cannot connect or connection lost: retrying */
	CDR_LINK_REFUSED,   /* connected, but the server refuses the records */
};

struct cdr_link {
	enum cdr_link_state state;
	bool nounique;            /* the table has no UNIQUE key on uniqueid */
	char error[256];          /* MariaDB's reason, for DOWN and REFUSED */
};

struct cdr_writer;

const char *cdr_link_state_name(enum cdr_link_state s);
/** Start the writer thread; cc is copied. */
int  cdr_writer_start(struct cdr_writer **wp, const struct cdr_conf *cc);
/** eventfd readable when ids are delivered or the link state changed. */
int  cdr_writer_fd(const struct cdr_writer *w);
/** Queue rows to write (copied). 0 or ENOMEM. */
int  cdr_writer_push(struct cdr_writer *w, const struct cdr_row *rows, size_t n);
/**
 * Take the spool ids written since the last call (*ids malloc'd, caller
 * frees; may be NULL with *n 0) and the link state; *changed when the
 * state or its reason changed since the last call.
 */
void cdr_writer_take(struct cdr_writer *w, int64_t **ids, size_t *n,
		     struct cdr_link *link, bool *changed);
/**
 * Stop the thread: wait up to grace_ms, then cut its connection and wait
 * as long again; a thread still blocked is left to end on its own. With
 * ids, the spool ids written since the last cdr_writer_take() (malloc'd,
 * caller frees; NULL with *n 0 when none or the thread was left).
 */
void cdr_writer_stop(struct cdr_writer *w, unsigned grace_ms, int64_t **ids, size_t *n);
/** "socket /path db.table" or "host:port db.table", for messages. */
void cdr_writer_describe(const struct cdr_conf *cc, char *buf, size_t size);

/* ------------------------------------------------------- cdr_feed.c */

#include <jansson.h>
#include <sqlite3.h>
/**
 * backend = mariadb, cdr.db open as db: the writer thread starts at the
 * first loop turn if this node serves, then follows the role (started on
 * ACTIVE, stopped on leaving it). 0 or EIO (logged).
 */
int  cdr_feed_start(sqlite3 *db);
/** The spool was replaced (full resync): hand it again from its start. */
void cdr_feed_reload(void);
/** After a commit: hand the writer the spool rows it has not seen. */
void cdr_feed_refill(void);
/** Shutdown: let the writer deliver for a while, then stop it; false
 *  when none ran. The caller commits the last SPOOL_DONE. */
bool cdr_feed_stop(void);
/** Forget everything (before cdr.db closes). */
void cdr_feed_close(void);
/** The "mariadb" object of `cdr status` (new reference), NULL without a writer. */
json_t *cdr_feed_json(void);

/* ------------------------------------------------------ cdr_store.c */

/** A spool id MariaDB acknowledged: deleted with the next commit. */
void cdr_spool_del_add(int64_t id);

/* ------------------------------------------------------- cdr_open.c */

#include <sqlite3.h>
#include "ha/jnl_codec.h"
/* Open calls on a cluster node (cdr_open table): CDR_OPEN / CDR_UP
 * entries and the CDR that ends them queue row changes, written by
 * cdr_open_flush() inside cdr_store_commit()'s transaction. */
int  cdr_store_apply_open(const struct jnl_cdr_open *e);
int  cdr_store_apply_up(const struct jnl_cdr_up *e);
/** The call's CDR was kept: drop its row (a no-op without a journal). */
int  cdr_open_forget(const struct pl *uniqueid);
int  cdr_store_apply_spool_done(const struct jnl_spool_done *d);
/** Record CDR_SPOOL_DONE for the spool rows ids MariaDB now has. */
void cdr_spool_done_record(sqlite3 *db, const int64_t *ids, size_t n);
bool cdr_open_pending(void);
int  cdr_open_flush(sqlite3 *db);
/** The transaction committed: forget the queued changes. */
void cdr_open_done(void);
void cdr_open_close(void);
/** Fill r: the record of a call cut while up (end_us; answered or not). */
void cdr_cut_fill(struct jnl_cdr *r, const struct jnl_cdr_open *o, int64_t answer_us,
		  int64_t end_us);
/** Serving now: finalise every call left in cdr_open as cut; how many. */
size_t cdr_open_cut(sqlite3 *db);

#endif
