/**
 * @file jnl_codec.c  Journal entry codec (jnl_codec.h).
 *
 * Each record type is a row of field descriptors (kind, check, place in
 * struct jnl_entry); one walker encodes, another decodes, so the two can
 * only disagree through the table. The decoder checks every length against
 * what is left before reading and refuses trailing bytes; the encoder runs
 * the decoder over what it wrote, so nothing it accepts is refused by the
 * standby.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ha/crc32c.h"
#include "ha/jnl_codec.h"

/* ------------------------------------------------------ field tables */

enum kind { K_END, K_U8, K_U32, K_U64, K_I32, K_I64, K_STR, K_BLOB, K_HEX40,
	    K_SHA, K_LIST1, K_LIST2 };
enum check { C_NONE, C_KEY, C_REL, C_AREA, C_WHY, C_BOOL, C_DISP, C_AMA,
	     C_MODE, C_CHUNK, C_TLV };

struct field {
	uint8_t kind, check;
	uint16_t off;            /* offset in struct jnl_entry */
};

#define U offsetof(struct jnl_entry, u)
#define F(k, c, s, m) { K_##k, C_##c, (uint16_t)(U + offsetof(struct s, m)) }
#define END { K_END, C_NONE, 0 }

static const struct field f_turn[] = {
	F(U64, NONE, jnl_turn, turn), F(U32, NONE, jnl_turn, entries), END };
static const struct field f_epoch[] = {
	F(U64, NONE, jnl_epoch, epoch), F(STR, KEY, jnl_epoch, node),
	F(HEX40, NONE, jnl_epoch, replid), F(HEX40, NONE, jnl_epoch, replid2),
	F(U64, NONE, jnl_epoch, offset2), F(STR, NONE, jnl_epoch, why), END };
static const struct field f_members[] = {
	F(U64, NONE, jnl_members, epoch), F(U8, NONE, jnl_members, n),
	F(LIST2, NONE, jnl_members, list), F(STR, NONE, jnl_members, witness), END };
static const struct field f_seq[] = {
	F(STR, KEY, jnl_seq, name), F(U64, NONE, jnl_seq, next), END };
static const struct field f_bput[] = {
	F(STR, KEY, jnl_binding_put, peer), F(STR, NONE, jnl_binding_put, contact),
	F(STR, NONE, jnl_binding_put, source), F(STR, NONE, jnl_binding_put, callid),
	F(U32, NONE, jnl_binding_put, cseq), F(I64, NONE, jnl_binding_put, expires_at),
	F(STR, NONE, jnl_binding_put, user_agent), F(STR, NONE, jnl_binding_put, node),
	END };
static const struct field f_bdel[] = {
	F(STR, KEY, jnl_binding_del, peer), F(U8, WHY, jnl_binding_del, why), END };
static const struct field f_cdr_open[] = {
	F(STR, KEY, jnl_cdr_open, uniqueid), F(STR, NONE, jnl_cdr_open, linkedid),
	F(I64, NONE, jnl_cdr_open, start_us), F(STR, NONE, jnl_cdr_open, clid),
	F(STR, NONE, jnl_cdr_open, src), F(STR, NONE, jnl_cdr_open, dst),
	F(STR, NONE, jnl_cdr_open, dcontext), F(STR, NONE, jnl_cdr_open, channel),
	F(STR, NONE, jnl_cdr_open, accountcode), F(STR, NONE, jnl_cdr_open, peeraccount),
	END };
static const struct field f_cdr_up[] = {
	F(STR, KEY, jnl_cdr_up, uniqueid), F(I64, NONE, jnl_cdr_up, answer_us), END };
static const struct field f_cdr[] = {
	F(I64, NONE, jnl_cdr, start_us), F(I64, NONE, jnl_cdr, answer_us),
	F(I64, NONE, jnl_cdr, end_us), F(I64, NONE, jnl_cdr, duration),
	F(I64, NONE, jnl_cdr, billsec), F(U8, DISP, jnl_cdr, disposition),
	F(U8, AMA, jnl_cdr, amaflags), F(U64, NONE, jnl_cdr, sequence),
	F(STR, NONE, jnl_cdr, clid), F(STR, NONE, jnl_cdr, src), F(STR, NONE, jnl_cdr, dst),
	F(STR, NONE, jnl_cdr, dcontext), F(STR, NONE, jnl_cdr, channel),
	F(STR, NONE, jnl_cdr, dstchannel), F(STR, NONE, jnl_cdr, lastapp),
	F(STR, NONE, jnl_cdr, lastdata), F(STR, NONE, jnl_cdr, accountcode),
	F(STR, NONE, jnl_cdr, peeraccount), F(STR, NONE, jnl_cdr, userfield),
	F(STR, KEY, jnl_cdr, uniqueid), F(STR, NONE, jnl_cdr, linkedid), END };
static const struct field f_spool[] = {
	F(U32, NONE, jnl_spool_done, n), F(LIST1, KEY, jnl_spool_done, list), END };
static const struct field f_db_put[] = {
	F(STR, KEY, jnl_db, family), F(STR, KEY, jnl_db, key), F(STR, NONE, jnl_db, value),
	END };
static const struct field f_db_del[] = {
	F(STR, KEY, jnl_db, family), F(STR, KEY, jnl_db, key), END };
static const struct field f_db_deltree[] = {
	F(STR, KEY, jnl_db, family), F(STR, NONE, jnl_db, key), END };
static const struct field f_qput[] = {
	F(STR, KEY, jnl_qmember_put, queue), F(STR, KEY, jnl_qmember_put, interface),
	F(STR, NONE, jnl_qmember_put, membername),
	F(STR, NONE, jnl_qmember_put, state_interface),
	F(I32, NONE, jnl_qmember_put, penalty), F(U8, BOOL, jnl_qmember_put, paused),
	F(STR, NONE, jnl_qmember_put, reason), F(U8, BOOL, jnl_qmember_put, ringinuse),
	END };
static const struct field f_qdel[] = {
	F(STR, KEY, jnl_qmember_del, queue), F(STR, KEY, jnl_qmember_del, interface), END };
static const struct field f_qlog[] = {
	F(BLOB, NONE, jnl_queue_log, line), END };
static const struct field f_fbegin[] = {
	F(U32, NONE, jnl_file_begin, xfer), F(U8, AREA, jnl_file_begin, area),
	F(STR, REL, jnl_file_begin, relpath), F(U64, NONE, jnl_file_begin, size),
	F(U32, MODE, jnl_file_begin, mode), F(I64, NONE, jnl_file_begin, mtime_ns), END };
static const struct field f_fchunk[] = {
	F(U32, NONE, jnl_file_chunk, xfer), F(U64, NONE, jnl_file_chunk, off),
	F(BLOB, CHUNK, jnl_file_chunk, data), END };
static const struct field f_fend[] = {
	F(U32, NONE, jnl_file_end, xfer), F(SHA, NONE, jnl_file_end, sha256), END };
static const struct field f_fdel[] = {
	F(U8, AREA, jnl_file_del, area), F(STR, REL, jnl_file_del, relpath), END };
static const struct field f_frename[] = {
	F(U8, AREA, jnl_file_rename, area), F(STR, REL, jnl_file_rename, from),
	F(STR, REL, jnl_file_rename, to), END };
static const struct field f_conf_apply[] = {
	F(SHA, NONE, jnl_conf_apply, manifest_sha256), END };
static const struct field f_call[] = {
	F(STR, KEY, jnl_call, call_key), F(U32, NONE, jnl_call, version),
	F(BLOB, TLV, jnl_call, tlv), END };
static const struct field f_call_end[] = {
	F(STR, KEY, jnl_call, call_key), END };

static const struct {
	uint16_t type;
	const char *name;
	const struct field *f;
} types[] = {
	{ JNL_TURN, "TURN", f_turn },
	{ JNL_EPOCH, "EPOCH", f_epoch },
	{ JNL_MEMBERS, "MEMBERS", f_members },
	{ JNL_SEQ, "SEQ", f_seq },
	{ JNL_BINDING_PUT, "BINDING_PUT", f_bput },
	{ JNL_BINDING_DEL, "BINDING_DEL", f_bdel },
	{ JNL_CDR_OPEN, "CDR_OPEN", f_cdr_open },
	{ JNL_CDR_UP, "CDR_UP", f_cdr_up },
	{ JNL_CDR, "CDR", f_cdr },
	{ JNL_CDR_SPOOL_DONE, "CDR_SPOOL_DONE", f_spool },
	{ JNL_DB_PUT, "DB_PUT", f_db_put },
	{ JNL_DB_DEL, "DB_DEL", f_db_del },
	{ JNL_DB_DELTREE, "DB_DELTREE", f_db_deltree },
	{ JNL_QMEMBER_PUT, "QMEMBER_PUT", f_qput },
	{ JNL_QMEMBER_DEL, "QMEMBER_DEL", f_qdel },
	{ JNL_QUEUE_LOG, "QUEUE_LOG", f_qlog },
	{ JNL_FILE_BEGIN, "FILE_BEGIN", f_fbegin },
	{ JNL_FILE_CHUNK, "FILE_CHUNK", f_fchunk },
	{ JNL_FILE_END, "FILE_END", f_fend },
	{ JNL_FILE_DEL, "FILE_DEL", f_fdel },
	{ JNL_FILE_RENAME, "FILE_RENAME", f_frename },
	{ JNL_CONF_APPLY, "CONF_APPLY", f_conf_apply },
	{ JNL_CALL_SNAP, "CALL_SNAP", f_call },
	{ JNL_CALL_UPD, "CALL_UPD", f_call },
	{ JNL_CALL_END, "CALL_END", f_call_end },
};

static const struct field *fields_of(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (types[i].type == type)
			return types[i].f;
	return NULL;
}

const char *jnl_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (types[i].type == type)
			return types[i].name;
	return "?";
}

/* ------------------------------------------------ little-endian access */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------- checks */

bool jnl_relpath_ok(const struct pl *rel)
{
	size_t i, start = 0;

	if (!rel->l || rel->l > JNL_RELPATH_MAX || rel->p[0] == '/')
		return false;
	for (i = 0; i <= rel->l; i++) {
		if (i < rel->l && rel->p[i] == '\0')
			return false;
		if (i < rel->l && rel->p[i] != '/')
			continue;
		size_t n = i - start;
		if (n == 0 || (n == 1 && rel->p[start] == '.') ||
		    (n == 2 && rel->p[start] == '.' && rel->p[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

static bool hex40(const uint8_t *p)
{
	for (unsigned i = 0; i < JNL_REPLID_LEN; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* A well-formed TLV list: u16 tag, u32 len, value, up to the end. */
static bool tlv_ok(struct pl t)
{
	uint16_t tag;
	struct pl v;

	while (t.l)
		if (!jnl_tlv_next(&t, &tag, &v))
			return false;
	return true;
}

static bool num_ok(uint8_t check, uint64_t v)
{
	switch (check) {
	case C_AREA: return v < JNL_AREA_COUNT;
	case C_WHY:  return v <= JNL_PEER_REMOVED;
	case C_BOOL: return v <= 1;
	case C_DISP: return v <= 5;     /* enum cdr_disposition */
	case C_AMA:  return v <= 3;     /* enum cdr_amaflags */
	case C_MODE: return v <= 07777;
	default:     return true;
	}
}

static bool str_ok(uint8_t check, const struct pl *s)
{
	if (memchr(s->p, '\0', s->l))
		return false;
	if (check == C_KEY && !s->l)
		return false;
	if (check == C_REL && !jnl_relpath_ok(s))
		return false;
	return true;
}

/* ------------------------------------------------------------ decoder */

struct rd {
	const uint8_t *p;
	size_t l;
};

static bool take(struct rd *r, size_t n, const uint8_t **out)
{
	if (r->l < n)
		return false;
	*out = r->p;
	r->p += n;
	r->l -= n;
	return true;
}

static bool take_str(struct rd *r, struct pl *s)
{
	const uint8_t *p;

	if (!take(r, 2, &p))
		return false;
	size_t n = rd16(p);
	if (!take(r, n, &p))
		return false;
	*s = pl_of((const char *)p, n);
	return true;
}

static bool take_blob(struct rd *r, struct pl *s)
{
	const uint8_t *p;

	if (!take(r, 4, &p))
		return false;
	size_t n = rd32(p);
	if (!take(r, n, &p))
		return false;
	*s = pl_of((const char *)p, n);
	return true;
}

/* count x per strings, each checked; the list's view into *out. */
static bool take_list(struct rd *r, uint64_t count, unsigned per, uint8_t check,
		      struct pl *out)
{
	const uint8_t *start = r->p;
	struct pl s;

	/* every str costs at least 2 bytes: refuse impossible counts early */
	if (count > r->l / 2 / per)
		return false;
	for (uint64_t i = 0; i < count * per; i++)
		if (!take_str(r, &s) || !str_ok((per == 1 || i % 2 == 0) ? check : C_NONE, &s))
			return false;
	*out = pl_of((const char *)start, (size_t)(r->p - start));
	return true;
}

static bool decode_fields(struct jnl_entry *e, const struct field *f, struct rd *r)
{
	uint64_t count = 0;
	const uint8_t *p;

	for (; f->kind != K_END; f++) {
		void *dst = (char *)e + f->off;
		switch (f->kind) {
		case K_U8:
			if (!take(r, 1, &p) || !num_ok(f->check, *p))
				return false;
			*(uint8_t *)dst = *p;
			count = *p;
			break;
		case K_U32:
		case K_I32: {
			if (!take(r, 4, &p))
				return false;
			uint32_t v = rd32(p);
			if (!num_ok(f->check, v))
				return false;
			memcpy(dst, &v, 4);
			count = v;
			break;
		}
		case K_U64:
		case K_I64: {
			if (!take(r, 8, &p))
				return false;
			uint64_t v = rd64(p);
			memcpy(dst, &v, 8);
			break;
		}
		case K_STR:
			if (!take_str(r, dst) || !str_ok(f->check, dst))
				return false;
			break;
		case K_BLOB: {
			struct pl *b = dst;
			if (!take_blob(r, b))
				return false;
			if (f->check == C_CHUNK && b->l > JNL_CHUNK_MAX)
				return false;
			if (f->check == C_TLV && !tlv_ok(*b))
				return false;
			break;
		}
		case K_HEX40:
			if (!take(r, JNL_REPLID_LEN, &p) || !hex40(p))
				return false;
			*(struct pl *)dst = pl_of((const char *)p, JNL_REPLID_LEN);
			break;
		case K_SHA:
			if (!take(r, JNL_SHA256_LEN, &p))
				return false;
			*(const uint8_t **)dst = p;
			break;
		case K_LIST1:
		case K_LIST2:
			if (!take_list(r, count, f->kind == K_LIST1 ? 1 : 2, f->check, dst))
				return false;
			break;
		}
	}
	return r->l == 0;
}

int jnl_entry_decode(struct jnl_entry *e, const uint8_t *buf, size_t len, size_t *used)
{
	const struct field *f;
	struct jnl_entry d;
	struct rd r;
	uint32_t elen;

	if (len < 4) {
		*used = 0;
		return EAGAIN;
	}
	elen = rd32(buf);
	if (elen < JNL_ENTRY_MIN || elen > JNL_ENTRY_MAX)
		return EBADMSG;
	if (elen > len) {
		*used = elen;
		return EAGAIN;
	}
	if (crc32c(0, buf, elen - 4) != rd32(buf + elen - 4))
		return EBADMSG;
	memset(&d, 0, sizeof(d));
	d.type = rd16(buf + 4);
	d.flags = rd16(buf + 6);
	d.ts_us = (int64_t)rd64(buf + 8);
	d.len = elen;
	if (d.flags || !(f = fields_of(d.type)))
		return EBADMSG;
	r.p = buf + JNL_HDR_LEN;
	r.l = elen - JNL_ENTRY_MIN;
	if (!decode_fields(&d, f, &r))
		return EBADMSG;
	*e = d;
	*used = elen;
	return 0;
}

int jnl_turn_check(const uint8_t *buf, size_t len, size_t *used, uint64_t *turn)
{
	struct jnl_entry e;
	size_t off = 0, n;
	uint64_t count = 0;
	int err;

	for (;;) {
		err = jnl_entry_decode(&e, buf + off, len - off, &n);
		if (err)
			return err;
		off += n;
		if (e.type == JNL_TURN) {
			if (e.u.turn.entries != count)
				return EBADMSG;
			*used = off;
			if (turn)
				*turn = e.u.turn.turn;
			return 0;
		}
		count++;
	}
}

/* ------------------------------------------------------------ encoder */

void jnl_wbuf_free(struct jnl_wbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int jnl_wbuf_reserve(struct jnl_wbuf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len)
		return ENOMEM;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Bytes the fields take; SIZE_MAX when a length does not fit its field. */
static size_t fields_size(const struct jnl_entry *e, const struct field *f)
{
	size_t n = 0;

	for (; f->kind != K_END; f++) {
		const struct pl *s = (const void *)((const char *)e + f->off);
		switch (f->kind) {
		case K_U8: n += 1; break;
		case K_U32: case K_I32: n += 4; break;
		case K_U64: case K_I64: n += 8; break;
		case K_STR:
			if (s->l > UINT16_MAX)
				return SIZE_MAX;
			n += 2 + s->l;
			break;
		case K_BLOB:
			if (s->l > JNL_ENTRY_MAX)
				return SIZE_MAX;
			n += 4 + s->l;
			break;
		case K_HEX40:
			if (s->l != JNL_REPLID_LEN)
				return SIZE_MAX;
			n += JNL_REPLID_LEN;
			break;
		case K_SHA: n += JNL_SHA256_LEN; break;
		case K_LIST1: case K_LIST2:
			if (s->l > JNL_ENTRY_MAX)
				return SIZE_MAX;
			n += s->l;     /* already encoded */
			break;
		}
		if (n > JNL_ENTRY_MAX)
			return SIZE_MAX;
	}
	return n;
}

static uint8_t *put_bytes(uint8_t *w, const void *p, size_t n)
{
	if (n)
		memcpy(w, p, n);
	return w + n;
}

static void encode_fields(uint8_t *w, const struct jnl_entry *e, const struct field *f)
{
	for (; f->kind != K_END; f++) {
		const void *src = (const char *)e + f->off;
		const struct pl *s = src;
		uint32_t v32;
		uint64_t v64;
		switch (f->kind) {
		case K_U8: *w++ = *(const uint8_t *)src; break;
		case K_U32: case K_I32:
			memcpy(&v32, src, 4);
			wr32(w, v32);
			w += 4;
			break;
		case K_U64: case K_I64:
			memcpy(&v64, src, 8);
			wr64(w, v64);
			w += 8;
			break;
		case K_STR:
			wr16(w, (uint16_t)s->l);
			w = put_bytes(w + 2, s->p, s->l);
			break;
		case K_BLOB:
			wr32(w, (uint32_t)s->l);
			w = put_bytes(w + 4, s->p, s->l);
			break;
		case K_HEX40:
		case K_LIST1:
		case K_LIST2:
			w = put_bytes(w, s->p, s->l);
			break;
		case K_SHA: {
			const uint8_t *h = *(const uint8_t *const *)src;
			static const uint8_t zero[JNL_SHA256_LEN];
			w = put_bytes(w, h ? h : zero, JNL_SHA256_LEN);
			break;
		}
		}
	}
}

int jnl_entry_encode(struct jnl_wbuf *b, const struct jnl_entry *e)
{
	const struct field *f = fields_of(e->type);
	struct jnl_entry check;
	size_t n, used;
	uint8_t *w;
	int err;

	if (!f || e->flags)
		return EINVAL;
	n = fields_size(e, f);
	if (n == SIZE_MAX || n > JNL_ENTRY_MAX - JNL_ENTRY_MIN)
		return EINVAL;
	n += JNL_ENTRY_MIN;
	if ((err = jnl_wbuf_reserve(b, n)))
		return err;
	w = b->p + b->len;
	wr32(w, (uint32_t)n);
	wr16(w + 4, e->type);
	wr16(w + 6, 0);
	wr64(w + 8, (uint64_t)e->ts_us);
	encode_fields(w + JNL_HDR_LEN, e, f);
	wr32(w + n - 4, crc32c(0, w, n - 4));
	if (jnl_entry_decode(&check, w, n, &used))
		return EINVAL;     /* b->len unchanged: the bytes are dropped */
	b->len += n;
	return 0;
}

/* -------------------------------------------------------------- lists */

int jnl_strlist_add(struct jnl_wbuf *b, struct pl s)
{
	int err;

	if (s.l > UINT16_MAX)
		return EINVAL;
	if ((err = jnl_wbuf_reserve(b, 2 + s.l)))
		return err;
	wr16(b->p + b->len, (uint16_t)s.l);
	put_bytes(b->p + b->len + 2, s.p, s.l);
	b->len += 2 + s.l;
	return 0;
}

bool jnl_strlist_next(struct pl *list, struct pl *s)
{
	struct rd r = { (const uint8_t *)list->p, list->l };

	if (!list->l || !take_str(&r, s))
		return false;
	*list = pl_of((const char *)r.p, r.l);
	return true;
}

bool jnl_members_next(struct pl *list, struct pl *name, struct pl *repl_addr)
{
	struct pl l = *list;

	if (!jnl_strlist_next(&l, name) || !jnl_strlist_next(&l, repl_addr))
		return false;
	*list = l;
	return true;
}

int jnl_tlv_add(struct jnl_wbuf *b, uint16_t tag, struct pl val)
{
	int err;

	if (val.l > JNL_ENTRY_MAX)
		return EINVAL;
	if ((err = jnl_wbuf_reserve(b, 6 + val.l)))
		return err;
	wr16(b->p + b->len, tag);
	wr32(b->p + b->len + 2, (uint32_t)val.l);
	put_bytes(b->p + b->len + 6, val.p, val.l);
	b->len += 6 + val.l;
	return 0;
}

bool jnl_tlv_next(struct pl *tlv, uint16_t *tag, struct pl *val)
{
	struct rd r = { (const uint8_t *)tlv->p, tlv->l };
	const uint8_t *p;

	if (!take(&r, 2, &p))
		return false;
	*tag = rd16(p);
	if (!take_blob(&r, val))
		return false;
	*tlv = pl_of((const char *)r.p, r.l);
	return true;
}
