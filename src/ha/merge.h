/**
 * @file merge.h  Split brain healed: the loser's tail merged into the
 * winner's history (docs/design/cluster.md 7).
 *
 * The loser is the node whose journal runs past the point where the
 * peer's history branched off its own (the peer's replid2 is its replid,
 * its head is beyond the peer's offset2): turns never ACKed before a
 * failover, or written while split. Before its PSYNC it sends those turns
 * as MERGE frames (the STREAM encoding: u64 start; whole turns), then an
 * empty MERGE (start = its head). The winner applies each entry by the
 * design's rules as new entries of its own history, so they reach the
 * loser again with the full resync that follows.
 *
 * Rules (merge.c, merge_files.c): CDRs union by uniqueid (node-prefixed),
 * the loser's calls still open at its last write finalised as cut;
 * bindings and DB keys last writer by ts_us against what the winner wrote
 * since the split (expired bindings dropped); queue_log lines union;
 * voicemail messages union (a number the winner holds with other content
 * is renumbered to the next free one), recordings union (same name, other
 * content: "-<node>" added), CONFDIR/sounds/provisioning last writer by
 * mtime (the other kept as NAME.conflict-<node>-<unix time>); SEQ max;
 * calls, EPOCH, MEMBERS dropped. Applying a tail twice (a link lost
 * mid-merge) changes nothing the second time.
 */
#ifndef TANDEM_HA_MERGE_H
#define TANDEM_HA_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha/jnl_codec.h"

/* A node's position: its history, where it branched off the one before,
 * its head. */
struct merge_pos {
	const char *replid, *replid2;      /* 40 hex digits; replid2 "" = none */
	uint64_t offset2, head;
};

/** self wrote past the point where its history and peer's branched:
 * true, *from = that offset (merge_name.c; unit-tested). */
bool merge_branch(const struct merge_pos *self, const struct merge_pos *peer, uint64_t *from);

/* ------------------------------------------------------------ the loser */

/**
 * This node diverged from the peer's history (merge_branch with the
 * peer's HELLO) and its journal holds the tail: *from. Logs why not when
 * the tail is gone from the journal.
 */
bool merge_out_wanted(const struct merge_pos *peer, uint64_t *from);

/* ------------------------------------------------------------ the winner */

struct merge_stats {
	unsigned cdr, cdr_cut, bindings, db, qlog, files, renumbered, conflicts, skipped,
		 dropped;
	int64_t first_ts, last_ts;
};

/**
 * Start merging the tail of peer (node name), whose history branched off
 * this node's at offset from: reads this node's own journal from there for
 * the keys written here since. 0 or errno (logged).
 */
int  merge_in_begin(const char *peer, uint64_t from);
/** The entries of whole turns (validated): apply by the rules. 0 or errno. */
int  merge_in_turns(const uint8_t *buf, size_t len);
/** The loser's empty MERGE: finalise (cut CDRs, reload), log one line. */
void merge_in_end(void);
/** Drop a merge in progress (link lost): what was applied stays. */
void merge_in_abort(void);
bool merge_in_active(void);

/* merge_files.c: FILE_* entries of the tail, CONFDIR reload at the end. */
int  merge_file_entry(const struct jnl_entry *e, const char *peer, struct merge_stats *st);
/** Files still being received are dropped; true when CONFDIR changed. */
bool merge_files_end(void);

/* Names (merge_name.c; unit-tested): "dir/msgNNNN.ext" -> NNNN (or -1),
 * "rec.wav" + node -> "rec-node.wav", conflict copy names. */
int  merge_msgnum(const char *rel, size_t *dirlen, const char **ext);
int  merge_suffixed(char *out, size_t size, const char *rel, const char *node);
int  merge_conflict_name(char *out, size_t size, const char *rel, const char *node,
			 int64_t unix_s);

#endif
