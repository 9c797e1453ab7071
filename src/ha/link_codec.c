/**
 * @file link_codec.c  Payloads of the link's own frames (link.h):
 *
 *   HELLO  u16 proto; str cluster, node; u64 epoch; u8 role; char replid[40];
 *          u64 offset; char replid2[40]; u64 offset2; u8 conf_sha256[32]
 *   PING   u64 epoch; u64 mono_ms; u8 role, repl_state, flags
 *   PONG   the same, mono_ms echoed; u32 vote_lease_ms
 *   ERROR  u16 code; str text
 *
 * Little-endian, str = u16 length + bytes, as journal entries. Decoders
 * check every length and refuse trailing bytes.
 */
#include <errno.h>
#include <string.h>

#include "ha/link.h"

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

static bool u8(struct rd *r, uint8_t *v)
{
	const uint8_t *p;

	if (!take(r, 1, &p))
		return false;
	*v = *p;
	return true;
}

static bool u16(struct rd *r, uint16_t *v)
{
	const uint8_t *p;

	if (!take(r, 2, &p))
		return false;
	*v = (uint16_t)(p[0] | p[1] << 8);
	return true;
}

static bool u32(struct rd *r, uint32_t *v)
{
	const uint8_t *p;

	if (!take(r, 4, &p))
		return false;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	     (uint32_t)p[3] << 24;
	return true;
}

static bool u64(struct rd *r, uint64_t *v)
{
	uint32_t lo, hi;

	if (!u32(r, &lo) || !u32(r, &hi))
		return false;
	*v = lo | (uint64_t)hi << 32;
	return true;
}

static bool str(struct rd *r, struct pl *s)
{
	const uint8_t *p;
	uint16_t n;

	if (!u16(r, &n) || !take(r, n, &p))
		return false;
	*s = pl_of((const char *)p, n);
	return !memchr(p, '\0', n);
}

/* A name into a fixed buffer: 1..size-1 bytes. */
static bool name(struct rd *r, char *out, size_t size)
{
	struct pl s;

	if (!str(r, &s) || !s.l || s.l >= size)
		return false;
	memcpy(out, s.p, s.l);
	out[s.l] = '\0';
	return true;
}

static bool replid(struct rd *r, char out[JNL_REPLID_LEN + 1])
{
	const uint8_t *p;

	if (!take(r, JNL_REPLID_LEN, &p))
		return false;
	for (unsigned i = 0; i < JNL_REPLID_LEN; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	memcpy(out, p, JNL_REPLID_LEN);
	out[JNL_REPLID_LEN] = '\0';
	return true;
}

/* ------------------------------------------------------------ writing */

static void w8(uint8_t **w, uint8_t v) { *(*w)++ = v; }
static void w16(uint8_t **w, uint16_t v) { w8(w, (uint8_t)v); w8(w, (uint8_t)(v >> 8)); }
static void w32(uint8_t **w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w8(w, (uint8_t)(v >> (8 * i)));
}
static void w64(uint8_t **w, uint64_t v) { w32(w, (uint32_t)v); w32(w, (uint32_t)(v >> 32)); }
static void wbytes(uint8_t **w, const void *p, size_t n)
{
	if (n)
		memcpy(*w, p, n);
	*w += n;
}
static void wrepl(uint8_t **w, const char *id)
{
	if (id && strlen(id) == JNL_REPLID_LEN)
		wbytes(w, id, JNL_REPLID_LEN);
	else
		for (unsigned i = 0; i < JNL_REPLID_LEN; i++)
			w8(w, '0');
}

int ha_hello_encode(struct jnl_wbuf *b, const char *cluster, const char *node,
		    const struct ha_link_pos *pos, const uint8_t conf_sha256[32])
{
	static const struct ha_link_pos zero;
	size_t cl = strlen(cluster), nl = strlen(node);
	uint8_t *w;
	int e;

	if (!pos)
		pos = &zero;
	if (cl > UINT16_MAX || nl > UINT16_MAX)
		return EINVAL;
	if ((e = jnl_wbuf_reserve(b, 2 + 2 + cl + 2 + nl + 8 + 1 + 40 + 8 + 40 + 8 + 32)))
		return e;
	w = b->p + b->len;
	w16(&w, HA_LINK_PROTO);
	w16(&w, (uint16_t)cl);
	wbytes(&w, cluster, cl);
	w16(&w, (uint16_t)nl);
	wbytes(&w, node, nl);
	w64(&w, pos->epoch);
	w8(&w, pos->role);
	wrepl(&w, pos->replid);
	w64(&w, pos->offset);
	wrepl(&w, pos->replid2);
	w64(&w, pos->offset2);
	wbytes(&w, conf_sha256, 32);
	b->len = (size_t)(w - b->p);
	return 0;
}

int ha_hello_decode(struct ha_link_hello *h, const uint8_t *p, size_t len)
{
	struct rd r = { p, len };
	struct ha_link_hello d;
	const uint8_t *sha;

	memset(&d, 0, sizeof(d));
	if (!u16(&r, &d.proto) || !name(&r, d.cluster, sizeof(d.cluster)) ||
	    !name(&r, d.node, sizeof(d.node)) || !u64(&r, &d.epoch) || !u8(&r, &d.role) ||
	    !replid(&r, d.replid) || !u64(&r, &d.offset) || !replid(&r, d.replid2) ||
	    !u64(&r, &d.offset2) || !take(&r, 32, &sha) || r.l)
		return EBADMSG;
	memcpy(d.conf_sha256, sha, 32);
	*h = d;
	return 0;
}

int ha_ping_encode(struct jnl_wbuf *b, bool pong, uint64_t mono_ms,
		   const struct ha_link_pos *pos)
{
	static const struct ha_link_pos zero;
	uint8_t *w;
	int e;

	if (!pos)
		pos = &zero;
	if ((e = jnl_wbuf_reserve(b, 8 + 8 + 3 + 4)))
		return e;
	w = b->p + b->len;
	w64(&w, pos->epoch);
	w64(&w, mono_ms);
	w8(&w, pos->role);
	w8(&w, pos->repl_state);
	w8(&w, pos->flags);
	if (pong)
		w32(&w, pos->vote_lease_ms);
	b->len = (size_t)(w - b->p);
	return 0;
}

int ha_ping_decode(struct ha_link_ping *pg, bool pong, const uint8_t *p, size_t len)
{
	struct rd r = { p, len };
	struct ha_link_ping d = { .pong = pong };

	if (!u64(&r, &d.epoch) || !u64(&r, &d.mono_ms) || !u8(&r, &d.role) ||
	    !u8(&r, &d.repl_state) || !u8(&r, &d.flags) ||
	    (pong && !u32(&r, &d.vote_lease_ms)) || r.l)
		return EBADMSG;
	*pg = d;
	return 0;
}

int ha_error_encode(struct jnl_wbuf *b, uint16_t code, const char *text)
{
	size_t n = strlen(text);
	uint8_t *w;
	int e;

	if (n > 1024)
		n = 1024;
	if ((e = jnl_wbuf_reserve(b, 4 + n)))
		return e;
	w = b->p + b->len;
	w16(&w, code);
	w16(&w, (uint16_t)n);
	wbytes(&w, text, n);
	b->len = (size_t)(w - b->p);
	return 0;
}

int ha_error_decode(uint16_t *code, struct pl *text, const uint8_t *p, size_t len)
{
	struct rd r = { p, len };
	struct pl t;
	uint16_t c;

	if (!u16(&r, &c) || !str(&r, &t) || r.l)
		return EBADMSG;
	*code = c;
	*text = t;
	return 0;
}
