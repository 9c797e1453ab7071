/**
 * @file cdr.h  Call detail records: one row per call in the contract's
 * `cdr` table, with Asterisk's semantics (main/cdr.c) for disposition,
 * duration and billsec. docs/cdr.md is the user's view.
 *
 * A CDR is a small state machine driven by call events:
 *
 *   cdr_open() -> OPEN --cdr_answer()--> UP
 *   OPEN|UP --cdr_close()--> FINALISED --post--> POSTED (or LOST, logged)
 *
 * Every CDR that was opened is finalised: by cdr_close(), by the last
 * mem_deref() of a CDR still up (logged), or by cdr_store_close() for the
 * calls still up at shutdown (end = now). A record that cannot be kept is
 * logged at error level as "call record lost" with all its fields (CSV).
 *
 * Records are kept in DATADIR/cdr.db (SQLite, committed once per loop
 * turn by cdr_store_commit()). With `[cdr] backend = mariadb` each record
 * is also spooled in cdr.db and a writer thread copies it to MariaDB; a
 * database that is down or slow never blocks a call and never loses a
 * record (see cdr_store.c for the protocol).
 */
#ifndef TANDEM_CDR_H
#define TANDEM_CDR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/conf.h"

/* Field sizes in bytes with the NUL; longer values are cut at a UTF-8
 * character boundary (Asterisk's classic cdr table has varchar(80)). */
#define CDR_FIELD 81
#define CDR_LONG  256
#define CDR_ID    151

enum cdr_disposition {
	CDR_DISP_NULL = 0,      /* not set yet: decided at finalisation */
	CDR_DISP_NO_ANSWER,
	CDR_DISP_FAILED,
	CDR_DISP_BUSY,
	CDR_DISP_ANSWERED,
	CDR_DISP_CONGESTION,    /* written as FAILED unless [cdr] congestion = yes */
};

enum cdr_amaflags {
	CDR_AMA_DEFAULT = 0,    /* DOCUMENTATION, as Asterisk */
	CDR_AMA_OMIT = 1,
	CDR_AMA_BILLING = 2,
	CDR_AMA_DOCUMENTATION = 3,
};

enum cdr_state {
	CDR_STATE_OPEN,         /* call started, not answered */
	CDR_STATE_UP,           /* answered */
	CDR_STATE_FINALISED,    /* end time set, disposition decided */
	CDR_STATE_POSTED,       /* handed to the store */
	CDR_STATE_LOST,         /* could not be stored; logged */
};

/** A complete record, as stored. Times are wall clock, microseconds. */
struct cdr_record {
	int64_t start_us;       /* calldate and start */
	int64_t answer_us;      /* 0: not answered */
	int64_t end_us;
	int64_t duration;       /* seconds, end - start */
	int64_t billsec;        /* seconds, end - answer, 0 when not answered */
	enum cdr_disposition disposition;
	enum cdr_amaflags amaflags;
	uint64_t sequence;
	char clid[CDR_FIELD];   /* "name" <number> */
	char src[CDR_FIELD];
	char dst[CDR_FIELD];
	char dcontext[CDR_FIELD];
	char channel[CDR_FIELD];
	char dstchannel[CDR_FIELD];
	char lastapp[CDR_FIELD];
	char lastdata[CDR_LONG];
	char accountcode[CDR_FIELD];
	char peeraccount[CDR_FIELD];
	char userfield[CDR_LONG];
	char uniqueid[CDR_ID];
	char linkedid[CDR_ID];
};

/** What the call layer knows when a call starts; NULL strings are empty. */
struct cdr_start {
	const char *clid, *src, *dst, *dcontext, *channel;
	const char *accountcode, *peeraccount, *userfield;
	const char *linkedid;        /* NULL: this CDR's own uniqueid */
	enum cdr_amaflags amaflags;  /* 0: DOCUMENTATION */
};

struct cdr;

/* --------------------------------------------------------------- config */

enum cdr_backend { CDR_BACKEND_SQLITE, CDR_BACKEND_MARIADB };

/** The [cdr] section of tandem.conf. Strings point into the conf. */
struct cdr_conf {
	bool enable;                 /* enable (yes) */
	enum cdr_backend backend;    /* backend = sqlite | mariadb (mysql) */
	const char *host;            /* host (localhost) */
	unsigned port;               /* port (3306) */
	const char *socket;          /* socket: unix socket, wins over host/port */
	const char *user;            /* user (required for mariadb) */
	const char *password;        /* password ("") */
	const char *database;        /* database (asteriskcdrdb) */
	const char *table;           /* table (cdr), [A-Za-z0-9_$]+ */
	unsigned connect_timeout;    /* connect_timeout seconds (3) */
	bool usegmtime;              /* usegmtime: times in UTC, not local (no) */
	bool initiatedseconds;       /* initiatedseconds: billsec rounds >= .5 s up (no) */
	bool congestion;             /* congestion: CONGESTION, not FAILED (no) */
};

/** Option names of [cdr], for tandem.conf's unknown-option check. */
extern const char *const cdr_conf_options[];

/** Defaults (sqlite). */
void cdr_conf_defaults(struct cdr_conf *cc);
/**
 * Fill cc from tandem.conf's [cdr] (raw may be NULL: defaults). On a bad
 * value returns EINVAL with "FILE:LINE: what is wrong" in err.
 */
int cdr_conf_load(struct cdr_conf *cc, const struct conf *raw, char *err, size_t errsize);

/* ---------------------------------------------------------- the store */

/**
 * Open DATADIR/cdr.db and, for mariadb, start the writer. node prefixes
 * uniqueids ("<node>-<epoch>.<sequence>"); NULL or "" gives Asterisk's
 * "<epoch>.<sequence>". Needs loop_init() first (the writer reports
 * through an eventfd on the loop). cc is copied (its strings too).
 */
int  cdr_store_init(const struct cdr_conf *cc, const char *datadir, const char *node);
/**
 * Finalise the CDRs still open (end = now), write what is pending, give
 * the MariaDB writer up to 0.5 s to drain and stop it (bounded: at most
 * about 2.5 s in all); undelivered records stay spooled for the next start.
 */
void cdr_store_close(void);
/** Write this turn's records in one transaction: call at the end of every
 * loop turn (main.c's commit_turn, after store_commit()) and at shutdown. */
void cdr_store_commit(void);
/** Path of cdr.db (for messages); "" before init. */
const char *cdr_store_path(void);

/**
 * Post a complete record (e.g. from a call layer that does not use the
 * state machine). Empty uniqueid/linkedid and sequence 0 are filled in.
 * 0, EINVAL (bad disposition/times) or the reason it was lost (logged).
 */
int cdr_post(const struct cdr_record *r);

/** The last n stored records, oldest first: {"cdr":[{column: value}...]}. */
json_t *cdr_last_json(unsigned n);
/** Backend, link state to MariaDB, records spooled, open CDRs. */
json_t *cdr_status_json(void);
/** Records waiting in the spool for MariaDB (0 for sqlite). */
unsigned long cdr_spool_count(void);

/**
 * The control socket's "cdr" command (a ctl_cmd_h): args [] (last 10),
 * ["--last", "N"], ["--last=N"] or ["status"]; NULL with err on bad args.
 */
json_t *cdr_ctl_cmd(json_t *args, char *err, size_t errsize);
/** tandemctl's human view of what cdr_ctl_cmd() returned. */
void cdr_print(FILE *f, const json_t *data);

/* ---------------------------------------------------- the state machine */

/**
 * Start a CDR for a call now (calldate): generates uniqueid and sequence.
 * *cp gets one mem reference owned by the caller (mem_deref when done).
 * 0 or ENOMEM.
 */
int  cdr_open(struct cdr **cp, const struct cdr_start *s);
/**
 * A call taken over from the node that failed (docs/design/cluster.md 9):
 * its record so far, same uniqueid, times counted on from r's wall-clock
 * start and answer; no CDR_OPEN (the row is replicated already). Finalised
 * by cdr_close() as any other. 0, EINVAL (no uniqueid, bad times), ENOMEM.
 */
int  cdr_restore(struct cdr **cp, const struct cdr_record *r);
/**
 * The node stops serving: the call and its record belong to the node that
 * serves now (restored there, or cut). Forget c without posting it.
 */
void cdr_handover(struct cdr *c);
/**
 * True when the replicated table of calls up (cdr_open) holds uniqueid:
 * the call had not ended when the other node stopped.
 */
bool cdr_store_call_open(const char *uniqueid);
/** Where the call goes (dialplan extension and context). */
void cdr_set_dst(struct cdr *c, const char *dst, const char *dcontext);
/** The dialplan application running and its arguments (last one wins). */
void cdr_set_app(struct cdr *c, const char *app, const char *data);
/** The callee's channel name. */
void cdr_set_dstchannel(struct cdr *c, const char *dstchannel);
/** Set the userfield (CDR(userfield)). */
void cdr_userfield(struct cdr *c, const char *text);
/** The call was answered: answer time = now (first call only). */
void cdr_answer(struct cdr *c);
/**
 * Disposition from the dial result (the last one set wins). ANSWERED
 * without a cdr_answer() before sets the answer time to now.
 */
void cdr_disposition(struct cdr *c, enum cdr_disposition d);
/** The Q.850 hangup cause. At finalisation, when no dial status was set
 * and the call was not answered, it gives the disposition (Asterisk
 * cdr_object_set_disposition): 17 BUSY, 34 CONGESTION, 3/20 FAILED,
 * 16/19 NO ANSWER, others FAILED. */
void cdr_hangupcause(struct cdr *c, int cause);
/**
 * Finalise (end = now; no dial status: ANSWERED if answered, else from
 * the hangup cause, else FAILED) and post. Later calls and setters are
 * ignored. 0 or the error of cdr_post() (the record was logged as lost).
 */
int  cdr_close(struct cdr *c);

enum cdr_state cdr_state(const struct cdr *c);
const char *cdr_state_name(enum cdr_state s);
/** The call's uniqueid (Asterisk's UNIQUEID), "" for NULL. */
const char *cdr_uniqueid(const struct cdr *c);
/** The record as it stands (complete once finalised). */
const struct cdr_record *cdr_record(const struct cdr *c);
/** Number of CDRs open (not finalised). */
size_t cdr_open_count(void);

/** "ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION" ("" for NULL). */
const char *cdr_disposition_name(enum cdr_disposition d);
/** Dial()'s DIALSTATUS to a disposition: ANSWER, BUSY, NOANSWER, CANCEL,
 * CONGESTION, CHANUNAVAIL, ...; unknown: FAILED. */
enum cdr_disposition cdr_disposition_from_dialstatus(const char *dialstatus);
/** "OMIT", "BILLING", "DOCUMENTATION". */
const char *cdr_amaflags_name(enum cdr_amaflags a);
/** Asterisk Master.csv line of r (no newline), for "lost" log lines. */
void cdr_record_csv(const struct cdr_record *r, char *buf, size_t size);

/**
 * Tests only: read the clocks from *wall_us and *mono_us instead of the
 * system (NULL, NULL restores the system clocks).
 */
void cdr_test_clock(const int64_t *wall_us, const int64_t *mono_us);

/* The write path (ha/turn.h): cdr_post() and the sequence's blocks make
 * CDR and SEQ entries; these apply them, here and on the standby. */
struct jnl_cdr;
struct jnl_seq;
struct repl_stamp;
int cdr_store_apply(const struct jnl_cdr *c);
int cdr_store_apply_seq(const struct jnl_seq *q);
/** Cluster standby after a full resync (cdr.db replaced under the open
 * store): the sequence and the spool position read again. */
void cdr_store_reload(void);
/** Stamp the journal position (store/repl_meta.h) with the next commit. */
int cdr_store_stamp(const struct repl_stamp *st);
int cdr_store_stamp_get(struct repl_stamp *st);

#endif
