/**
 * @file mem.h  Reference-counted allocations with destructors.
 *
 * x = mem_zalloc(sizeof(*x), x_destroy); ... x = mem_deref(x);
 * The destructor runs when the last reference goes; it unlinks the object
 * from tables and cancels its timers (libre mem_zalloc/mem_deref).
 */
#ifndef TANDEM_MEM_H
#define TANDEM_MEM_H

#include <stddef.h>

typedef void (mem_destroy_h)(void *data);

/** Zeroed allocation with one reference; NULL when out of memory. */
void *mem_zalloc(size_t size, mem_destroy_h *dh);
/** Take one more reference; returns data. NULL-safe. */
void *mem_ref(void *data);
/** Drop one reference; always returns NULL. NULL-safe. */
void *mem_deref(void *data);
/** Current reference count (for tests and assertions). */
unsigned mem_nrefs(const void *data);
/** Number of live mem allocations (leak check in tests). */
size_t mem_live(void);

#endif
