/**
 * @file jnl.h  The journal on disk: DATADIR/journal/<replid>-<start>.jnl
 * segments holding whole turns of entries (docs/design/cluster.md 2.4).
 *
 * A position is (replid, offset): offset counts the stream's bytes, and
 * "offset N" holds bytes 0..N-1. Segments are contiguous in offset; a new
 * replid (promotion) continues the offsets of the old one in a segment of
 * its own. The journal keeps `backlog` bytes behind the head (more while a
 * floor asks for it, up to `backlog_max`) so a standby can resume (PSYNC).
 */
#ifndef TANDEM_HA_JNL_H
#define TANDEM_HA_JNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ha/jnl_codec.h"

#define JNL_SEG_HDR   64u
#define JNL_SEG_SIZE  (16u << 20)
#define JNL_VERSION   1u

struct jnl_opts {
	uint64_t backlog;       /* bytes kept behind the head; 0: 256 MiB */
	uint64_t backlog_max;   /* a floor keeps at most this much; 0: 2 GiB */
	uint64_t seg_size;      /* roll over past this; 0: JNL_SEG_SIZE (tests) */
	bool fsync;             /* fdatasync after each append */
};

struct jnl;
struct jnl_reader;

/** 40 lowercase hex characters and a NUL from RAND_bytes; 0 or EIO. */
int jnl_replid_new(char out[JNL_REPLID_LEN + 1]);
/** Wall clock in microseconds (an entry's ts_us). */
int64_t jnl_now_us(void);

/**
 * Open the journal in dir (created if missing). Existing segments are
 * checked entry by entry: a torn turn at the end of the last one (a crash
 * inside a write) is cut off and logged; anything else that is wrong is
 * an error (EBADMSG) with "FILE: at offset N: what" in err. An empty dir
 * starts a new history (fresh replid, offset 0).
 */
int jnl_open(struct jnl **jp, const char *dir, const struct jnl_opts *opts,
	     char *err, size_t errsize);
/** Close (readers first); NULL-safe. */
void jnl_close(struct jnl *j);

/** The history's replid (40 characters and a NUL). */
const char *jnl_replid(const struct jnl *j);
/** Offset after the last byte written (the head). */
uint64_t jnl_head(const struct jnl *j);
/** Oldest offset still readable. */
uint64_t jnl_first(const struct jnl *j);
/** Number of segment files (tests, status). */
size_t jnl_segments(const struct jnl *j);

/**
 * Append one or more whole turns (encoded entries, each turn ending with
 * its TURN) in one writev. 0 with *end = the new head (may be NULL). On
 * failure the segment is cut back to where it was and an errno value
 * returned (logged); the head does not move. Rolls to a new segment first
 * when the current one would pass seg_size, and applies retention then.
 */
int jnl_append(struct jnl *j, const struct iovec *iov, int iovcnt, uint64_t *end);

/**
 * Start a new history continuing at the head: replid2 is the old replid
 * (the caller records it with offset2 = head in an EPOCH entry). The next
 * append goes to a segment named after the new replid; a crash before it
 * forgets the shift (the EPOCH entry was not written either). EINVAL for
 * a malformed replid or the current one.
 */
int jnl_shift(struct jnl *j, const char *new_replid);

/** Drop every segment and start history replid at offset (full resync).
 * Readers must be closed first. */
int jnl_reset(struct jnl *j, const char *replid, uint64_t offset);

/**
 * Keep what is needed to read from offset floor (a standby's last ACK),
 * as long as head - floor <= backlog_max; UINT64_MAX: no floor.
 */
void jnl_set_floor(struct jnl *j, uint64_t floor);

/** True when offset off can be read: first <= off <= head. */
bool jnl_covers(const struct jnl *j, uint64_t off);

/**
 * A reader of whole turns from offset off, which must be a turn boundary
 * in the journal (EINVAL otherwise, ERANGE when not covered). It sees
 * turns appended later.
 */
int jnl_reader_open(struct jnl_reader **rp, struct jnl *j, uint64_t off);
/**
 * The next whole turn: 0 with *buf and *len valid until the next call (its
 * start offset is jnl_reader_offset() before the call). ENODATA at the
 * head; ESTALE when retention removed the next segment; EBADMSG when the
 * bytes on disk are bad (logged).
 */
int jnl_reader_next(struct jnl_reader *r, const uint8_t **buf, size_t *len);
/** Offset of the next turn the reader yields. */
uint64_t jnl_reader_offset(const struct jnl_reader *r);
void jnl_reader_close(struct jnl_reader *r);

#endif
