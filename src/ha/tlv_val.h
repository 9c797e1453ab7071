/**
 * @file tlv_val.h  Values inside the TLVs of CALL_SNAP (jnl_codec.h
 * jnl_tlv_add/jnl_tlv_next; docs/design/cluster.md 9): little-endian
 * integers and socket addresses, each put into a TLV of its own and read
 * back with its length checked (a wrong length is EBADMSG, never a read
 * past the value). Shared by the dialog and call codecs.
 */
#ifndef TANDEM_HA_TLV_VAL_H
#define TANDEM_HA_TLV_VAL_H

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ha/jnl_codec.h"

static inline int tlv_put_u64(struct jnl_wbuf *b, uint16_t tag, uint64_t v)
{
	uint8_t p[8];

	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return jnl_tlv_add(b, tag, pl_of((const char *)p, 8));
}

/* An integer written by tlv_put_u64 (8 bytes); EBADMSG for another
 * length or a value above max. */
static inline int tlv_get_uint(const struct pl *v, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (v->l != 8)
		return EBADMSG;
	for (size_t i = 0; i < 8; i++)
		x |= (uint64_t)(uint8_t)v->p[i] << (8 * i);
	if (x > max)
		return EBADMSG;
	*out = x;
	return 0;
}

static inline int tlv_put_str(struct jnl_wbuf *b, uint16_t tag, const char *s)
{
	return jnl_tlv_add(b, tag, jnl_pl(s));
}

/* Into a char array of size bytes: no NUL inside, shorter than size. */
static inline int tlv_get_str(const struct pl *v, char *dst, size_t size)
{
	if (v->l >= size || memchr(v->p, '\0', v->l))
		return EBADMSG;
	memcpy(dst, v->p, v->l);
	dst[v->l] = '\0';
	return 0;
}

/* An address: u8 family (0, AF_INET, AF_INET6), 16 address bytes, u16
 * port (network order), 19 bytes in all. */
static inline int tlv_put_sa(struct jnl_wbuf *b, uint16_t tag, const struct sockaddr_storage *sa)
{
	uint8_t p[19] = { 0 };

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		p[0] = 4;
		memcpy(p + 1, &s4->sin_addr, 4);
		memcpy(p + 17, &s4->sin_port, 2);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		p[0] = 6;
		memcpy(p + 1, &s6->sin6_addr, 16);
		memcpy(p + 17, &s6->sin6_port, 2);
	}
	return jnl_tlv_add(b, tag, pl_of((const char *)p, sizeof(p)));
}

static inline int tlv_get_sa(const struct pl *v, struct sockaddr_storage *sa)
{
	const uint8_t *p = (const uint8_t *)v->p;

	if (v->l != 19 || (p[0] != 0 && p[0] != 4 && p[0] != 6))
		return EBADMSG;
	memset(sa, 0, sizeof(*sa));
	if (p[0] == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, p + 1, 4);
		memcpy(&s4->sin_port, p + 17, 2);
	} else if (p[0] == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, p + 1, 16);
		memcpy(&s6->sin6_port, p + 17, 2);
	}
	return 0;
}

/* A copy of v's bytes, NUL-terminated, in *out (its old value freed). */
static inline int tlv_dup(const struct pl *v, char **out)
{
	char *p = malloc(v->l + 1);

	if (!p)
		return ENOMEM;
	memcpy(p, v->p, v->l);
	p[v->l] = '\0';
	free(*out);
	*out = p;
	return 0;
}

#endif
