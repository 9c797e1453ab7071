/** @file pl.c  Pointer-length views. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/pl.h"

int pl_cmp(const struct pl *a, const struct pl *b)
{
	if (a->l != b->l)
		return a->l < b->l ? -1 : 1;
	return a->l ? memcmp(a->p, b->p, a->l) : 0;
}

int pl_casecmp(const struct pl *a, const struct pl *b)
{
	if (a->l != b->l)
		return a->l < b->l ? -1 : 1;
	return a->l ? strncasecmp(a->p, b->p, a->l) : 0;
}

int pl_strcasecmp(const struct pl *pl, const char *s)
{
	struct pl b = { s, strlen(s) };
	return pl_casecmp(pl, &b);
}

int pl_strcmp(const struct pl *pl, const char *s)
{
	struct pl b = { s, strlen(s) };
	return pl_cmp(pl, &b);
}

char *pl_strcpy(const struct pl *pl, char *buf, size_t size)
{
	size_t n;

	if (!size)
		return buf;
	n = pl->l < size - 1 ? pl->l : size - 1;
	if (n)
		memcpy(buf, pl->p, n);
	buf[n] = '\0';
	return buf;
}

char *pl_strdup(const struct pl *pl)
{
	char *s = malloc(pl->l + 1);

	if (!s)
		return NULL;
	if (pl->l)
		memcpy(s, pl->p, pl->l);
	s[pl->l] = '\0';
	return s;
}

int pl_u32(const struct pl *pl, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!pl->l)
		return EINVAL;
	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return EINVAL;
		v = v * 10 + (uint64_t)(pl->p[i] - '0');
		if (v > UINT32_MAX)
			return ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void pl_trim(struct pl *pl)
{
	while (pl->l && is_ws(pl->p[0])) {
		pl->p++;
		pl->l--;
	}
	while (pl->l && is_ws(pl->p[pl->l - 1]))
		pl->l--;
}

const char *pl_chr(const struct pl *pl, char c)
{
	return pl->l ? memchr(pl->p, c, pl->l) : NULL;
}

uint32_t pl_hash(const struct pl *pl, bool nocase)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < pl->l; i++) {
		unsigned char c = (unsigned char)pl->p[i];
		h ^= nocase ? (uint32_t)tolower(c) : c;
		h *= 16777619u;
	}
	return h;
}
