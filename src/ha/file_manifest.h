/**
 * @file file_manifest.h  The files of a full resync (docs/design/cluster.md
 * 3.4 step 4): a manifest lists every file of the five areas and
 * DATADIR/queue_log (area, relpath, size, mtime_ns, sha256); the standby
 * compares it with its own and asks for the difference.
 *
 * Frames (little-endian, I/O-free codecs, fuzzed by tests/fuzz/fuzz_repl.c):
 *   FILE_LIST  u8 last; u32 n; n x (u8 area; u16 len; relpath; u64 size;
 *              i64 mtime_ns; u8 sha256[32])   active -> standby
 *   FILE_WANT  u8 last; u32 n; n x u32 index into the manifest   standby -> active
 *   FILE_DATA  u8 kind; u32 index; then BEGIN: u64 size, u32 mode, i64 mtime_ns |
 *              CHUNK: u64 off, data | END: u8 sha256[32] | GONE: nothing
 * A manifest is strictly sorted by (area, relpath) across its frames, so
 * duplicates and reordering are refused; a relpath is one the journal
 * accepts (no "..", no leading '/'); queue_log is area FM_AREA_QLOG with
 * relpath "queue_log"; a size over FM_SIZE_MAX or more than FM_ENTRIES_MAX
 * entries are refused. Wanted indexes are strictly increasing and inside
 * the manifest.
 */
#ifndef TANDEM_HA_FILE_MANIFEST_H
#define TANDEM_HA_FILE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha/jnl_codec.h"

#define FM_AREA_QLOG   JNL_AREA_COUNT          /* DATADIR/queue_log */
#define FM_AREAS       (JNL_AREA_COUNT + 1)
#define FM_SIZE_MAX    (1ull << 40)            /* 1 TiB: larger is refused */
#define FM_ENTRIES_MAX (1u << 20)
#define FM_FRAME_FILL  (256u << 10)            /* FILE_LIST/WANT frames this full */

struct fm_entry {
	uint8_t area;
	char *rel;                  /* owned */
	uint64_t size;
	int64_t mtime_ns;
	uint8_t sha256[32];
};

struct fm_list {
	struct fm_entry *v;
	size_t n, cap;
};

/** Append a copy of the entry (no order check). 0 or ENOMEM. */
int  fm_list_add(struct fm_list *l, uint8_t area, const char *rel, size_t rellen,
		 uint64_t size, int64_t mtime_ns, const uint8_t sha256[32]);
/** Sort by (area, relpath). */
void fm_list_sort(struct fm_list *l);
/** Index of (area, rel) in a sorted list, or -1. */
long fm_list_find(const struct fm_list *l, uint8_t area, const char *rel);
void fm_list_free(struct fm_list *l);
/** (area, rel) order: <0, 0, >0. */
int  fm_cmp(uint8_t a1, const char *r1, uint8_t a2, const char *r2);
/** "CONFDIR", "voicemail", ..., "queue_log". */
const char *fm_area_name(unsigned area);

/** Append entries of l from *at to one FILE_LIST payload (at most
 * FM_FRAME_FILL bytes); *at advances; last set when it reaches the end. */
int  fm_list_encode(struct jnl_wbuf *b, const struct fm_list *l, size_t *at);
/**
 * Append one FILE_LIST payload's entries to l, after checking each (order
 * after l's last entry included). 0 with *last; EBADMSG with the reason in
 * err (l may have taken the entries before the bad one).
 */
int  fm_list_decode(struct fm_list *l, const uint8_t *p, size_t len, bool *last,
		    char *err, size_t errsize);

/** FILE_WANT: indexes idx[*at..n) (at most FM_FRAME_FILL bytes). */
int  fm_want_encode(struct jnl_wbuf *b, const uint32_t *idx, size_t n, size_t *at);
/**
 * Append one FILE_WANT payload's indexes to *idx (*n of them, grown with
 * realloc), each < manifest_n and above the previous one. 0 with *last;
 * EBADMSG with the reason in err; ENOMEM.
 */
int  fm_want_decode(uint32_t **idx, size_t *n, size_t manifest_n, const uint8_t *p,
		    size_t len, bool *last, char *err, size_t errsize);

enum fm_data_kind { FM_DATA_BEGIN = 1, FM_DATA_CHUNK, FM_DATA_END, FM_DATA_GONE };
struct fm_data {
	uint8_t kind;
	uint32_t index;
	uint64_t size, off;         /* BEGIN; CHUNK */
	uint32_t mode;              /* BEGIN */
	int64_t mtime_ns;           /* BEGIN */
	const uint8_t *data;        /* CHUNK (a view into the payload) */
	size_t len;
	uint8_t sha256[32];         /* END */
};
/** FILE_DATA header (CHUNK: the data is appended by the caller). */
int  fm_data_encode(struct jnl_wbuf *b, const struct fm_data *d);
int  fm_data_decode(struct fm_data *d, const uint8_t *p, size_t len);

/**
 * The difference (both lists sorted): want gets the indexes into active of
 * entries the standby lacks or holds with another size or sha256 (mtime
 * alone is not a difference: the standby's copy is the same bytes);
 * extra gets the indexes into standby of entries the active lacks. Both
 * malloc'ed (NULL when empty). 0 or ENOMEM.
 */
int  fm_diff(const struct fm_list *active, const struct fm_list *standby,
	     uint32_t **want, size_t *nwant, uint32_t **extra, size_t *nextra);

#endif
