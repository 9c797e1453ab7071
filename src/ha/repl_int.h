/**
 * @file repl_int.h  Inside replication: the session (repl.c), the full
 * resync (repl_full.c) and the status (repl_status.c) share this state.
 */
#ifndef TANDEM_HA_REPL_INT_H
#define TANDEM_HA_REPL_INT_H

#include <limits.h>
#include <openssl/evp.h>

#include "core/loop.h"
#include "ha/alone.h"
#include "ha/repl.h"

#define REPL_TURN_BYTES   (8u << 20)   /* sent per loop turn, at most */
#define REPL_TURN_US      5000u        /* time spent sending per loop turn */
#define REPL_PENDING_MAX  (8u << 20)   /* queued on the link: wait */
#define REPL_FRAME_FILL   (256u << 10) /* STREAM frames this full */
#define REPL_SNAP_CHUNK   ((1u << 20) - 64u)
#define REPL_FIFO         1024         /* unACKed turns remembered */

struct repl_fifo { uint64_t end, mono_us; };   /* mono_us: when sent (lag, timeout) */

/* Progress of a full resync (design 3.4), on both nodes. */
struct repl_progress {
	const char *phase;                 /* "snapshot", "files", "catchup" or NULL */
	uint64_t done, total;
	uint64_t t0_us, last_us, last_done, last_log_us;
	double rate_bps;                   /* EWMA over about 1 s */
};

struct repl_full_in {                  /* the standby's incoming snapshot */
	bool on;
	char replid[JNL_REPLID_LEN + 1];
	uint64_t offset;
	int fd[REPL_DB_COUNT];
	uint64_t got[REPL_DB_COUNT];
	bool ended[REPL_DB_COUNT];
	EVP_MD_CTX *sha[REPL_DB_COUNT];
};

struct repl_full_out {                 /* the active's outgoing snapshot */
	struct repl_snap_out *snap;
	bool copied, announced;
	uint64_t offset;                   /* O: the journal head it matches */
	unsigned db;                       /* being sent */
	int fd;
	uint64_t off;
	EVP_MD_CTX *sha;
};

struct repl {
	bool running;
	struct cluster_conf cc;
	unsigned self;
	char datadir[PATH_MAX];
	struct ha_link *link;
	enum repl_state state;
	struct tmr kick, tick;
	struct jnl_wbuf frame;

	/* the peer */
	bool have_peer;
	struct ha_link_hello peer_hello;
	uint8_t peer_repl_state, peer_role;
	uint64_t peer_offset;              /* its last known head (ACK, HELLO, stream) */

	/* this connection */
	bool source, receiver;
	bool psync_wanted;                 /* PSYNC came before we were active */
	struct repl_pos psync;

	/* the active */
	struct jnl_reader *rd;
	uint64_t sent, acked, ack_mono_us;
	struct repl_fifo fifo[REPL_FIFO];
	size_t nfifo;
	bool waiting;                      /* ha_set_sync(true) in force */
	bool was_alone;
	struct alone alone;                /* going alone: recorded yet? */
	char alone_why[160];
	uint64_t alone_since_us, alone_at;
	const char *resync_kind;
	uint64_t resync_from;

	/* merge (repl_merge.c) */
	struct jnl_reader *mrd;            /* loser: its tail being sent */
	uint64_t msent;
	bool merge_sent;                   /* loser: sent this session */
	uint64_t mnext;                    /* winner: where the next MERGE starts */
	bool merged;                       /* winner: a merge ended this session */

	/* full resync */
	bool full;                         /* active: sending a snapshot */
	struct repl_full_out out;
	struct repl_full_in in;
	struct repl_progress prog;
	struct { const char *kind; uint64_t bytes; double secs; } last;   /* last resync */
};

extern struct repl g_repl;

uint64_t repl_now_us(void);
void repl_set_state(enum repl_state s);
/** Run the pump on the next loop turn (0) or after delay_ms. */
void repl_kick(uint64_t delay_ms);
/** Arm t (handler h, no argument) to fire on the next loop turn. */
void repl_defer(struct tmr *t, tmr_h *h);
/** Drop a deferred t and cancel it. */
void repl_defer_cancel(struct tmr *t);
void repl_pump(void *arg);
void repl_session_reset(void);
int  repl_stream_from(uint64_t off, bool holds);
/** Standby: ACK(offset): applied and committed up to there. */
void repl_send_ack(uint64_t offset, int64_t ts_us);
/** Standby: one STREAM frame's payload: apply, ACK, or drop the link. */
void repl_stream_got(const uint8_t *p, size_t len);

/** Standby: send PSYNC (after a merge, if one is due). */
void repl_send_psync(void);
/** Drop the link with a log line: the peer sent what does not belong. */
void repl_refuse(const char *what);

/* repl_source.c: the serving node */
/** Send g.frame as type: 0 or errno (other than ENOTCONN: logged, the
 * link dropped). */
int  repl_send_frame(uint8_t type);
/**
 * One frame of whole turns from *rdp, STREAM-encoded from *pos (advanced):
 * as many as fit REPL_FRAME_FILL, never one split, never past a frame;
 * sent as type, *sent grows by the bytes. 0: sent, more may follow;
 * ENODATA: the reader's end (what it held was sent); EMSGSIZE: a turn
 * larger than a frame; ECONNRESET: the link dropped (*rdp closed by the
 * session's reset); else the reader's errno.
 */
int  repl_send_turns(struct jnl_reader **rdp, uint64_t *pos, uint8_t type, size_t *sent);
void repl_go_alone(const char *why);
void repl_tick(void *arg);                      /* every 50 ms */
void repl_feed(uint64_t start, uint64_t end, void *arg);   /* ha_set_feed */
void repl_psync_got(const struct repl_pos *want);
void repl_ack_got(const struct repl_ack *a);

/* repl_merge.c */
/** Loser: diverged? then start sending the tail (true); PSYNC follows. */
bool repl_merge_start(void);
void repl_merge_pump(void);
/** Winner: one MERGE frame. */
void repl_merge_frame(const uint8_t *p, size_t len);
void repl_merge_reset(void);

/* repl_snap.c: the standby copies a received file into a live database */
struct repl_install;
/** DATADIR/repl/SUB, created; its path in out. 0 or errno. */
int  repl_mkdirs(const char *datadir, const char *sub, char *out, size_t size);
int  repl_install_begin(struct repl_install **ip, const char *part, const char *live);
int  repl_install_step(struct repl_install *in, bool *done);
void repl_install_end(struct repl_install *in);
/** Checkpoint the installed databases' WALs in a thread; done(efd) is
 * called on the loop when it finished; then repl_ckpt_end() (joins it). */
struct repl_ckpt;
int  repl_ckpt_start(struct repl_ckpt **cp, const char *datadir, fd_h *done, void *arg);
int  repl_ckpt_end(struct repl_ckpt *c);

/* repl_full.c */
/* repl_takeover.c: the FAILOVER frame from the standby; EBADMSG malformed. */
int  repl_failover_frame(const uint8_t *p, size_t len);

void repl_full_start(void);
void repl_full_pump(void);
void repl_full_frame(uint8_t type, const uint8_t *p, size_t len);
void repl_full_abort(void);
void repl_progress_add(uint64_t n);
/** Standby: the snapshot is being installed (STREAM frames wait). */
bool repl_full_installing(void);
void repl_full_hold(const uint8_t *p, size_t len);

/* repl_files.c: the files of a full resync (design 3.4 step 4) */
/** Active, at FULLRESYNC: list this node's files in a thread. */
void repl_files_out_start(void);
/** Active, after the databases: manifest, FILE_WANT, FILE_DATA; *done
 * when every wanted file is sent. 0 or errno (the resync fails). */
int  repl_files_out_pump(bool *done);
/** Active: a FILE_WANT frame (bad ones drop the link). */
void repl_files_want_got(const uint8_t *p, size_t len);
/** Standby, at FULLRESYNC: list this node's files in a thread. */
void repl_files_in_start(void);
/** Standby: FILE_LIST or FILE_DATA (bad ones drop the link). */
void repl_files_frame(uint8_t type, const uint8_t *p, size_t len);
/** Standby: the files phase began and is not finished. */
bool repl_files_in_pending(void);
/** Both: forget the files phase (threads stopped, part files removed). */
void repl_files_abort(void);

#endif
