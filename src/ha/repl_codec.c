/**
 * @file repl_codec.c  Payloads of the replication frames (repl.h,
 * docs/design/cluster.md 3.2), little-endian like the journal:
 *
 *   PSYNC, CONTINUE  char replid[40]; u64 offset
 *   FULLRESYNC       char replid[40]; u64 offset; u64 db_bytes
 *   SNAP             u8 db; u64 off; data
 *   SNAP_END         u8 db; u64 size; u8 sha256[32]
 *   SYNC_DONE        u64 offset
 *   STREAM           u64 start; whole turns (each entry CRC32C-checked)
 *   ACK              u64 offset; i64 ts_us
 *
 * I/O-free; every decoder checks every length and refuses trailing bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ha/repl.h"

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int put(struct jnl_wbuf *b, const void *p, size_t n)
{
	int e = jnl_wbuf_reserve(b, n);

	if (e)
		return e;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int put64(struct jnl_wbuf *b, uint64_t v)
{
	uint8_t x[8];

	wr64(x, v);
	return put(b, x, 8);
}

static bool replid_ok(const uint8_t *p)
{
	for (unsigned i = 0; i < JNL_REPLID_LEN; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

static int put_replid(struct jnl_wbuf *b, const char *id)
{
	static const char zeros[JNL_REPLID_LEN + 1] =
		"0000000000000000000000000000000000000000";

	if (!id || strlen(id) != JNL_REPLID_LEN)
		id = zeros;
	return put(b, id, JNL_REPLID_LEN);
}

const char *repl_db_file(unsigned db)
{
	switch (db) {
	case REPL_DB_TANDEM: return "tandem.db";
	case REPL_DB_CDR: return "cdr.db";
	case REPL_DB_ASTDB: return "astdb.sqlite3";
	}
	return NULL;
}

int repl_pos_encode(struct jnl_wbuf *b, const char *replid, uint64_t offset)
{
	int e = put_replid(b, replid);

	return e ? e : put64(b, offset);
}

int repl_pos_decode(struct repl_pos *d, const uint8_t *p, size_t len)
{
	if (len != JNL_REPLID_LEN + 8 || !replid_ok(p))
		return EBADMSG;
	memcpy(d->replid, p, JNL_REPLID_LEN);
	d->replid[JNL_REPLID_LEN] = '\0';
	d->offset = rd64(p + JNL_REPLID_LEN);
	return 0;
}

int repl_full_encode(struct jnl_wbuf *b, const struct repl_full *f)
{
	int e = repl_pos_encode(b, f->replid, f->offset);

	return e ? e : put64(b, f->db_bytes);
}

int repl_full_decode(struct repl_full *d, const uint8_t *p, size_t len)
{
	struct repl_pos pos;

	if (len != JNL_REPLID_LEN + 16 || repl_pos_decode(&pos, p, JNL_REPLID_LEN + 8))
		return EBADMSG;
	memcpy(d->replid, pos.replid, sizeof(d->replid));
	d->offset = pos.offset;
	d->db_bytes = rd64(p + JNL_REPLID_LEN + 8);
	return 0;
}

int repl_snap_encode_hdr(struct jnl_wbuf *b, uint8_t db, uint64_t off)
{
	int e = put(b, &db, 1);

	return e ? e : put64(b, off);
}

int repl_snap_decode(struct repl_snap *d, const uint8_t *p, size_t len)
{
	if (len < 9 || p[0] >= REPL_DB_COUNT)
		return EBADMSG;
	d->db = p[0];
	d->off = rd64(p + 1);
	d->data = p + 9;
	d->len = len - 9;
	if (d->off > UINT64_MAX - d->len)
		return EBADMSG;
	return 0;
}

int repl_snap_end_encode(struct jnl_wbuf *b, const struct repl_snap_end *x)
{
	int e = put(b, &x->db, 1);

	if (!e)
		e = put64(b, x->size);
	return e ? e : put(b, x->sha256, 32);
}

int repl_snap_end_decode(struct repl_snap_end *d, const uint8_t *p, size_t len)
{
	if (len != 1 + 8 + 32 || p[0] >= REPL_DB_COUNT)
		return EBADMSG;
	d->db = p[0];
	d->size = rd64(p + 1);
	memcpy(d->sha256, p + 9, 32);
	return 0;
}

int repl_u64_encode(struct jnl_wbuf *b, uint64_t v)
{
	return put64(b, v);
}

int repl_u64_decode(uint64_t *v, const uint8_t *p, size_t len)
{
	if (len != 8)
		return EBADMSG;
	*v = rd64(p);
	return 0;
}

int repl_stream_encode_hdr(struct jnl_wbuf *b, uint64_t start)
{
	return put64(b, start);
}

int repl_stream_decode(struct repl_stream *d, const uint8_t *p, size_t len, char *err,
		       size_t errsize)
{
	size_t at = 8, used;
	uint64_t turn;
	int e;

	if (len < 8) {
		snprintf(err, errsize, "STREAM frame of %zu bytes (less than its header)", len);
		return EBADMSG;
	}
	d->start = rd64(p);
	if (len == 8) {
		snprintf(err, errsize, "empty STREAM at offset %" PRIu64, d->start);
		return EBADMSG;
	}
	while (at < len) {
		if ((e = jnl_turn_check(p + at, len - at, &used, &turn))) {
			snprintf(err, errsize, "STREAM at offset %" PRIu64 ": bad or truncated turn "
				 "at offset %" PRIu64 " (%s)", d->start, d->start + (at - 8),
				 e == EAGAIN ? "truncated" : "does not decode");
			return EBADMSG;
		}
		at += used;
	}
	d->turns = p + 8;
	d->len = len - 8;
	return 0;
}

int repl_ack_encode(struct jnl_wbuf *b, const struct repl_ack *a)
{
	int e = put64(b, a->offset);

	return e ? e : put64(b, (uint64_t)a->ts_us);
}

int repl_ack_decode(struct repl_ack *d, const uint8_t *p, size_t len)
{
	if (len != 16)
		return EBADMSG;
	d->offset = rd64(p);
	d->ts_us = (int64_t)rd64(p + 8);
	return 0;
}

bool repl_can_continue(const struct repl_pos *want, const char *replid, const char *replid2,
		       uint64_t offset2, uint64_t first, uint64_t head)
{
	if (want->offset < first || want->offset > head)
		return false;
	if (!strcmp(want->replid, replid))
		return true;
	return replid2 && replid2[0] && strcmp(replid2, "0000000000000000000000000000000000000000") &&
	       !strcmp(want->replid, replid2) && want->offset <= offset2;
}
