/**
 * @file pl.h  Pointer-length views into buffers owned by someone else.
 *
 * The SIP parser and the config reader hand out `struct pl` views so that
 * nothing is copied until a value must outlive its buffer (libre's pl).
 */
#ifndef TANDEM_PL_H
#define TANDEM_PL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl {
	const char *p;
	size_t l;
};

#define PL(s)      ((struct pl){ (s), sizeof(s) - 1 })
#define PL_INIT    { NULL, 0 }
#define PL_ARG(pl) (int)(pl).l, (pl).p  /* for printf("%.*s") */

static inline struct pl pl_of(const char *s, size_t l)
{
	return (struct pl){ s, l };
}

static inline bool pl_isset(const struct pl *pl)
{
	return pl && pl->p && pl->l;
}

/** Exact comparison; 0 when equal. */
int pl_cmp(const struct pl *a, const struct pl *b);
/** Case-insensitive (ASCII) comparison; 0 when equal. */
int pl_casecmp(const struct pl *a, const struct pl *b);
/** Case-insensitive comparison with a C string; 0 when equal. */
int pl_strcasecmp(const struct pl *pl, const char *s);
/** Exact comparison with a C string; 0 when equal. */
int pl_strcmp(const struct pl *pl, const char *s);
/** Copy into buf (size bytes, NUL-terminated, truncated). Returns buf. */
char *pl_strcpy(const struct pl *pl, char *buf, size_t size);
/** Heap copy as C string, or NULL when out of memory. */
char *pl_strdup(const struct pl *pl);
/** Decimal unsigned value; 0 on success, EINVAL/ERANGE otherwise. */
int pl_u32(const struct pl *pl, uint32_t *out);
/** Strip leading and trailing SP/HTAB/CR/LF. */
void pl_trim(struct pl *pl);
/** Find first occurrence of c; NULL when absent. */
const char *pl_chr(const struct pl *pl, char c);
/** FNV-1a hash, case-insensitive when nocase. */
uint32_t pl_hash(const struct pl *pl, bool nocase);

#endif
