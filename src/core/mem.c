/** @file mem.c  Reference-counted allocations. */
#include <stdint.h>
#include <stdlib.h>

#include "core/mem.h"

struct mem_hdr {
	unsigned nrefs;
	mem_destroy_h *dh;
	max_align_t align[];
};

static size_t live;

static struct mem_hdr *hdr_of(const void *data)
{
	return (struct mem_hdr *)(void *)((char *)(uintptr_t)data -
					  sizeof(struct mem_hdr));
}

void *mem_zalloc(size_t size, mem_destroy_h *dh)
{
	struct mem_hdr *h = calloc(1, sizeof(*h) + size);

	if (!h)
		return NULL;
	h->nrefs = 1;
	h->dh = dh;
	live++;
	return h->align;
}

void *mem_ref(void *data)
{
	if (data)
		hdr_of(data)->nrefs++;
	return data;
}

void *mem_deref(void *data)
{
	struct mem_hdr *h;

	if (!data)
		return NULL;
	h = hdr_of(data);
	if (--h->nrefs > 0)
		return NULL;
	if (h->dh)
		h->dh(data);
	live--;
	free(h);
	return NULL;
}

unsigned mem_nrefs(const void *data)
{
	return data ? hdr_of(data)->nrefs : 0;
}

size_t mem_live(void)
{
	return live;
}
