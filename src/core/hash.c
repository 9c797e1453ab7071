/** @file hash.c  Intrusive chained hash table. */
#include <errno.h>
#include <stdlib.h>

#include "core/hash.h"

int hash_init(struct hash *t, size_t size)
{
	size_t n = 16;

	while (n < size)
		n <<= 1;
	t->b = calloc(n, sizeof(*t->b));
	if (!t->b)
		return ENOMEM;
	t->mask = n - 1;
	t->count = 0;
	return 0;
}

void hash_close(struct hash *t)
{
	free(t->b);
	t->b = NULL;
	t->count = 0;
	t->mask = 0;
}

static void grow(struct hash *t)
{
	size_t n = (t->mask + 1) * 2, i;
	struct hash_le **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return;  /* keep working at a higher load */
	for (i = 0; i <= t->mask; i++) {
		struct hash_le *le = t->b[i], *next;
		for (; le; le = next) {
			next = le->next;
			le->next = nb[le->h & (n - 1)];
			nb[le->h & (n - 1)] = le;
		}
	}
	free(t->b);
	t->b = nb;
	t->mask = n - 1;
}

void hash_add(struct hash *t, struct hash_le *le, uint32_t h, void *obj)
{
	if (t->count > t->mask)
		grow(t);
	le->h = h;
	le->obj = obj;
	le->next = t->b[h & t->mask];
	t->b[h & t->mask] = le;
	t->count++;
}

void hash_del(struct hash *t, struct hash_le *le)
{
	struct hash_le **pp;

	if (!t->b)
		return;
	for (pp = &t->b[le->h & t->mask]; *pp; pp = &(*pp)->next) {
		if (*pp == le) {
			*pp = le->next;
			le->next = NULL;
			t->count--;
			return;
		}
	}
}

void *hash_find(const struct hash *t, uint32_t h, hash_cmp_h *cmp, const void *arg)
{
	struct hash_le *le;

	if (!t->b)
		return NULL;
	for (le = t->b[h & t->mask]; le; le = le->next)
		if (le->h == h && cmp(le->obj, arg))
			return le->obj;
	return NULL;
}

void *hash_apply(const struct hash *t, hash_apply_h *fn, void *arg)
{
	size_t i;

	if (!t->b)
		return NULL;
	for (i = 0; i <= t->mask; i++) {
		struct hash_le *le = t->b[i], *next;
		for (; le; le = next) {
			next = le->next;
			if (fn(le->obj, arg))
				return le->obj;
		}
	}
	return NULL;
}
