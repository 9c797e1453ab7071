/**
 * @file jnl_codec.h  Journal entries: the record types of the replication
 * log (docs/design/cluster.md 2.1-2.2), encoded into a growing buffer and
 * decoded zero-copy into views of the caller's bytes.
 *
 * Entry: u32 len (whole entry) | u16 type | u16 flags (0) | i64 ts_us |
 * payload | u32 crc32c (of every byte before it). Little-endian; str = u16
 * length + bytes (no NUL inside), blob = u32 length + bytes, replid = 40
 * lowercase hex characters, sha256 = 32 bytes. The decoder is I/O-free and
 * total: any input gives 0 or an error, never a read out of bounds.
 */
#ifndef TANDEM_HA_JNL_CODEC_H
#define TANDEM_HA_JNL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/pl.h"

#define JNL_HDR_LEN     16u          /* len, type, flags, ts_us */
#define JNL_ENTRY_MIN   20u          /* header + crc, empty payload */
#define JNL_ENTRY_MAX   (1u << 20)   /* a whole entry, at most */
#define JNL_CHUNK_MAX   (64u * 1024) /* FILE_CHUNK data */
#define JNL_RELPATH_MAX 1024u
#define JNL_REPLID_LEN  40u
#define JNL_SHA256_LEN  32u

/* Record types; codes are the design's table read as hex. */
enum jnl_type {
	JNL_TURN            = 0x01,
	JNL_EPOCH           = 0x02,
	JNL_MEMBERS         = 0x03,
	JNL_SEQ             = 0x04,
	JNL_BINDING_PUT     = 0x10,
	JNL_BINDING_DEL     = 0x11,
	JNL_CDR_OPEN        = 0x20,
	JNL_CDR_UP          = 0x21,
	JNL_CDR             = 0x22,
	JNL_CDR_SPOOL_DONE  = 0x23,
	JNL_DB_PUT          = 0x30,
	JNL_DB_DEL          = 0x31,
	JNL_DB_DELTREE      = 0x32,
	JNL_QMEMBER_PUT     = 0x40,
	JNL_QMEMBER_DEL     = 0x41,
	JNL_QUEUE_LOG       = 0x42,
	JNL_FILE_BEGIN      = 0x50,
	JNL_FILE_CHUNK      = 0x51,
	JNL_FILE_END        = 0x52,
	JNL_FILE_DEL        = 0x53,
	JNL_FILE_RENAME     = 0x54,
	JNL_CONF_APPLY      = 0x55,
	JNL_CALL_SNAP       = 0x60,
	JNL_CALL_UPD        = 0x61,
	JNL_CALL_END        = 0x62,
};

/* File areas: where relpath is rooted. */
enum jnl_area {
	JNL_AREA_CONFDIR = 0,
	JNL_AREA_VOICEMAIL,     /* DATADIR/voicemail/ */
	JNL_AREA_MONITOR,       /* DATADIR/monitor/ */
	JNL_AREA_SOUNDS,        /* DATADIR/sounds/ */
	JNL_AREA_PROVISIONING,  /* DATADIR/provisioning/ */
	JNL_AREA_COUNT
};

enum jnl_binding_why { JNL_UNREGISTER = 0, JNL_EXPIRED, JNL_PEER_REMOVED };

struct jnl_turn     { uint64_t turn; uint32_t entries; };
/* replid, replid2: 40 characters each (views, not NUL-terminated). */
struct jnl_epoch    { uint64_t epoch; struct pl node, replid, replid2; uint64_t offset2;
		      struct pl why; };
/* list: 2n encoded str (name, repl_addr); walk with jnl_members_next(). */
struct jnl_members  { uint64_t epoch; uint8_t n; struct pl list; struct pl witness; };
struct jnl_seq      { struct pl name; uint64_t next; };
struct jnl_binding_put {
	struct pl peer, contact, source, callid;
	uint32_t cseq;
	int64_t expires_at;
	struct pl user_agent, node;
};
struct jnl_binding_del { struct pl peer; uint8_t why; };
struct jnl_cdr_open {
	struct pl uniqueid, linkedid;
	int64_t start_us;
	struct pl clid, src, dst, dcontext, channel, accountcode, peeraccount;
};
struct jnl_cdr_up   { struct pl uniqueid; int64_t answer_us; };
/* struct cdr_record's fields, in its order. */
struct jnl_cdr {
	int64_t start_us, answer_us, end_us, duration, billsec;
	uint8_t disposition, amaflags;
	uint64_t sequence;
	struct pl clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata,
		  accountcode, peeraccount, userfield, uniqueid, linkedid;
};
/* list: n encoded str (uniqueid); walk with jnl_strlist_next(). */
struct jnl_spool_done { uint32_t n; struct pl list; };
/* DB_PUT uses all three; DB_DEL family and key; DB_DELTREE family and
 * key as the prefix ("" = whole family). */
struct jnl_db       { struct pl family, key, value; };
struct jnl_qmember_put {
	struct pl queue, interface, membername, state_interface;
	int32_t penalty;
	uint8_t paused;
	struct pl reason;
	uint8_t ringinuse;
};
struct jnl_qmember_del { struct pl queue, interface; };
struct jnl_queue_log { struct pl line; };                  /* blob */
struct jnl_file_begin {
	uint32_t xfer;
	uint8_t area;
	struct pl relpath;
	uint64_t size;
	uint32_t mode;           /* permission bits only (<= 07777) */
	int64_t mtime_ns;
};
struct jnl_file_chunk { uint32_t xfer; uint64_t off; struct pl data; };   /* blob */
struct jnl_file_end   { uint32_t xfer; const uint8_t *sha256; };
struct jnl_file_del   { uint8_t area; struct pl relpath; };
struct jnl_file_rename { uint8_t area; struct pl from, to; };
struct jnl_conf_apply { const uint8_t *manifest_sha256; };
/* CALL_SNAP and CALL_UPD: tlv walks with jnl_tlv_next(); CALL_END only
 * call_key. */
struct jnl_call     { struct pl call_key; uint32_t version; struct pl tlv; };

struct jnl_entry {
	uint16_t type;           /* enum jnl_type */
	uint16_t flags;          /* 0 */
	int64_t ts_us;           /* wall clock at write */
	uint32_t len;            /* decoded: whole entry length */
	union {
		struct jnl_turn turn;
		struct jnl_epoch epoch;
		struct jnl_members members;
		struct jnl_seq seq;
		struct jnl_binding_put bput;
		struct jnl_binding_del bdel;
		struct jnl_cdr_open cdr_open;
		struct jnl_cdr_up cdr_up;
		struct jnl_cdr cdr;
		struct jnl_spool_done spool_done;
		struct jnl_db db;
		struct jnl_qmember_put qput;
		struct jnl_qmember_del qdel;
		struct jnl_queue_log qlog;
		struct jnl_file_begin fbegin;
		struct jnl_file_chunk fchunk;
		struct jnl_file_end fend;
		struct jnl_file_del fdel;
		struct jnl_file_rename frename;
		struct jnl_conf_apply conf_apply;
		struct jnl_call call;
	} u;
};

/** A growing output buffer; zero-initialise, free with jnl_wbuf_free(). */
struct jnl_wbuf {
	uint8_t *p;
	size_t len, cap;
};

void jnl_wbuf_free(struct jnl_wbuf *b);
/** Make room for n more bytes; 0 or ENOMEM. */
int  jnl_wbuf_reserve(struct jnl_wbuf *b, size_t n);

/** A view of a C string (NULL: empty). */
static inline struct pl jnl_pl(const char *s)
{
	return pl_of(s ? s : "", s ? strlen(s) : 0);
}

/** "BINDING_PUT"; "?" for an unknown code. */
const char *jnl_type_name(uint16_t type);

/**
 * Append e, encoded, to b. EINVAL (b unchanged) when the result would not
 * decode: a field too long, a bad relpath, replid or enum value, an empty
 * key, an entry over JNL_ENTRY_MAX. ENOMEM. e->len is ignored.
 */
int jnl_entry_encode(struct jnl_wbuf *b, const struct jnl_entry *e);

/**
 * Decode the entry at the start of buf. 0: *e filled with views into buf,
 * *used = its length. EAGAIN: buf holds only part of an entry; *used is the
 * whole entry's length when the length field was readable, else 0.
 * EBADMSG: malformed (length out of range, flags, CRC, unknown type,
 * payload short, long or with a bad field).
 */
int jnl_entry_decode(struct jnl_entry *e, const uint8_t *buf, size_t len, size_t *used);

/**
 * Check that buf starts with one whole turn: entries, the last a TURN whose
 * count matches the entries before it. 0 with *used = the turn's length
 * (and *turn = its TURN's number, may be NULL); EAGAIN when buf ends inside
 * it; EBADMSG when an entry is malformed or the count is wrong.
 */
int jnl_turn_check(const uint8_t *buf, size_t len, size_t *used, uint64_t *turn);

/** True when rel is a relpath the decoder accepts (design 2.2). */
bool jnl_relpath_ok(const struct pl *rel);

/* Lists inside payloads: each builder appends to b; each walker takes the
 * next item off *list and returns false at the end (lists are checked by
 * the decoder, so a walker over a decoded list never fails midway). */
int  jnl_strlist_add(struct jnl_wbuf *b, struct pl s);
bool jnl_strlist_next(struct pl *list, struct pl *s);
bool jnl_members_next(struct pl *list, struct pl *name, struct pl *repl_addr);
/* TLV: u16 tag, u32 len, value (design 9). */
int  jnl_tlv_add(struct jnl_wbuf *b, uint16_t tag, struct pl val);
bool jnl_tlv_next(struct pl *tlv, uint16_t *tag, struct pl *val);

#endif
