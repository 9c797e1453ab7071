/**
 * @file witness_codec.c  Payloads of the witness frames (witness.h). I/O
 * free; decoders check every length and refuse trailing bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "ha/witness.h"

const char *wit_msg_name(uint8_t type)
{
	switch (type) {
	case HA_F_W_REQUEST:  return "W_REQUEST";
	case HA_F_W_GRANT:    return "W_GRANT";
	case HA_F_W_DENY:     return "W_DENY";
	case HA_F_W_RELEASE:  return "W_RELEASE";
	case HA_F_W_OUTDATED: return "W_OUTDATED";
	case HA_F_W_CURRENT:  return "W_CURRENT";
	default:              return "?";
	}
}

static void put(struct jnl_wbuf *b, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

static void put_str(struct jnl_wbuf *b, const char *s, size_t max)
{
	size_t n = strnlen(s, max - 1);

	put(b, n, 2);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

int wit_msg_encode(struct jnl_wbuf *b, uint8_t type, const struct wit_msg *m)
{
	if (jnl_wbuf_reserve(b, 32 + sizeof(m->node) + sizeof(m->why)))
		return ENOMEM;
	switch (type) {
	case HA_F_W_REQUEST:
		put(b, m->epoch, 8);
		put(b, m->offset, 8);
		return 0;
	case HA_F_W_GRANT:
		put(b, m->epoch, 8);
		put(b, m->lease_ms, 4);
		return 0;
	case HA_F_W_DENY:
		put(b, m->epoch, 8);
		put(b, m->ms_left, 4);
		put_str(b, m->node, sizeof(m->node));
		put_str(b, m->why, sizeof(m->why));
		return 0;
	case HA_F_W_RELEASE:
		return 0;
	case HA_F_W_OUTDATED:
		put_str(b, m->node, sizeof(m->node));
		put(b, m->offset, 8);
		return 0;
	case HA_F_W_CURRENT:
		put_str(b, m->node, sizeof(m->node));
		return 0;
	default:
		return EINVAL;
	}
}

struct rd {
	const uint8_t *p;
	size_t l;
};

static bool get(struct rd *r, unsigned n, uint64_t *v)
{
	if (r->l < n)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	r->l -= n;
	return true;
}

static bool get_str(struct rd *r, char *out, size_t size)
{
	uint64_t n;

	if (!get(r, 2, &n) || n >= size || r->l < n || memchr(r->p, '\0', n))
		return false;
	memcpy(out, r->p, n);
	out[n] = '\0';
	r->p += n;
	r->l -= n;
	return true;
}

int wit_msg_decode(struct wit_msg *m, uint8_t type, const uint8_t *p, size_t len)
{
	struct rd r = { p, len };
	uint64_t v = 0, w = 0;
	bool ok;

	memset(m, 0, sizeof(*m));
	switch (type) {
	case HA_F_W_REQUEST:
		ok = get(&r, 8, &m->epoch) && get(&r, 8, &m->offset);
		break;
	case HA_F_W_GRANT:
		ok = get(&r, 8, &m->epoch) && get(&r, 4, &v);
		m->lease_ms = (uint32_t)v;
		break;
	case HA_F_W_DENY:
		ok = get(&r, 8, &m->epoch) && get(&r, 4, &w) &&
		     get_str(&r, m->node, sizeof(m->node)) && get_str(&r, m->why, sizeof(m->why));
		m->ms_left = (uint32_t)w;
		break;
	case HA_F_W_RELEASE:
		ok = true;
		break;
	case HA_F_W_OUTDATED:
		ok = get_str(&r, m->node, sizeof(m->node)) && get(&r, 8, &m->offset);
		break;
	case HA_F_W_CURRENT:
		ok = get_str(&r, m->node, sizeof(m->node));
		break;
	default:
		ok = false;
	}
	return ok && !r.l ? 0 : EBADMSG;
}

void witness_addr_of(const struct sockaddr_storage *base, unsigned i,
		     struct sockaddr_storage *out)
{
	*out = *base;
	if (out->ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
		a->sin6_port = htons((uint16_t)(ntohs(a->sin6_port) + i));
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)out;
		a->sin_port = htons((uint16_t)(ntohs(a->sin_port) + i));
	}
}
