/**
 * @file hash.h  Intrusive chained hash table keyed by a 32-bit hash.
 *
 * Objects embed a `struct hash_le`; lookups walk the bucket of a hash and
 * compare with the caller's predicate. The table doubles when its load
 * passes 1.
 */
#ifndef TANDEM_HASH_H
#define TANDEM_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hash_le {
	struct hash_le *next;
	uint32_t h;
	void *obj;
};

struct hash {
	struct hash_le **b;
	size_t mask;
	size_t count;
};

typedef bool (hash_cmp_h)(const void *obj, const void *arg);
typedef bool (hash_apply_h)(void *obj, void *arg);  /* true stops */

int  hash_init(struct hash *t, size_t size_pow2);
void hash_close(struct hash *t);
void hash_add(struct hash *t, struct hash_le *le, uint32_t h, void *obj);
void hash_del(struct hash *t, struct hash_le *le);
void *hash_find(const struct hash *t, uint32_t h, hash_cmp_h *cmp, const void *arg);
/** Call fn for every object (safe against deleting the current one). */
void *hash_apply(const struct hash *t, hash_apply_h *fn, void *arg);

#endif
