/**
 * @file file_manifest.c  The manifest of a full resync's files, its frame
 * codecs and the difference (file_manifest.h). I/O-free: fuzzed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha/file_manifest.h"

static const char *const names[FM_AREAS] = {
	"CONFDIR", "voicemail", "monitor", "sounds", "provisioning", "queue_log",
};

const char *fm_area_name(unsigned area)
{
	return area < FM_AREAS ? names[area] : "?";
}

/* ------------------------------------------------------------ the list */

int fm_list_add(struct fm_list *l, uint8_t area, const char *rel, size_t rellen,
		uint64_t size, int64_t mtime_ns, const uint8_t sha256[32])
{
	struct fm_entry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct fm_entry *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n];
	if (!(e->rel = malloc(rellen + 1)))
		return ENOMEM;
	memcpy(e->rel, rel, rellen);
	e->rel[rellen] = '\0';
	e->area = area;
	e->size = size;
	e->mtime_ns = mtime_ns;
	if (sha256)
		memcpy(e->sha256, sha256, 32);
	else
		memset(e->sha256, 0, 32);
	l->n++;
	return 0;
}

int fm_cmp(uint8_t a1, const char *r1, uint8_t a2, const char *r2)
{
	if (a1 != a2)
		return a1 < a2 ? -1 : 1;
	return strcmp(r1, r2);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct fm_entry *x = a, *y = b;

	return fm_cmp(x->area, x->rel, y->area, y->rel);
}

void fm_list_sort(struct fm_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
}

long fm_list_find(const struct fm_list *l, uint8_t area, const char *rel)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = fm_cmp(l->v[mid].area, l->v[mid].rel, area, rel);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void fm_list_free(struct fm_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].rel);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------ bytes */

static void wr(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static int put(struct jnl_wbuf *b, const void *p, size_t n)
{
	int e = jnl_wbuf_reserve(b, n);

	if (e)
		return e;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int putn(struct jnl_wbuf *b, uint64_t v, unsigned n)
{
	uint8_t x[8];

	wr(x, v, n);
	return put(b, x, n);
}

struct rdr { const uint8_t *p; size_t l; };

static bool take(struct rdr *r, size_t n, const uint8_t **out)
{
	if (r->l < n)
		return false;
	*out = r->p;
	r->p += n;
	r->l -= n;
	return true;
}

static bool takev(struct rdr *r, unsigned n, uint64_t *v)
{
	const uint8_t *p;

	if (!take(r, n, &p))
		return false;
	*v = rd(p, n);
	return true;
}

#define FAIL(...) do { snprintf(err, errsize, __VA_ARGS__); return EBADMSG; } while (0)

/* ------------------------------------------------------------ FILE_LIST */

#define ENTRY_FIXED (1 + 2 + 8 + 8 + 32)

int fm_list_encode(struct jnl_wbuf *b, const struct fm_list *l, size_t *at)
{
	size_t start = b->len, count_at, n = 0;
	int e;

	if ((e = putn(b, 0, 1)) || (e = putn(b, 0, 4)))
		return e;
	count_at = b->len - 4;
	while (*at < l->n) {
		const struct fm_entry *x = &l->v[*at];
		size_t rl = strlen(x->rel);

		if (n && b->len - start + ENTRY_FIXED + rl > FM_FRAME_FILL)
			break;
		if ((e = putn(b, x->area, 1)) || (e = putn(b, rl, 2)) || (e = put(b, x->rel, rl)) ||
		    (e = putn(b, x->size, 8)) || (e = putn(b, (uint64_t)x->mtime_ns, 8)) ||
		    (e = put(b, x->sha256, 32)))
			return e;
		(*at)++;
		n++;
	}
	b->p[start] = *at >= l->n;
	wr(b->p + count_at, n, 4);
	return 0;
}

int fm_list_decode(struct fm_list *l, const uint8_t *p, size_t len, bool *last,
		   char *err, size_t errsize)
{
	struct rdr r = { p, len };
	uint64_t flag, n, area, rl, size, mt;
	const uint8_t *rel, *sha;

	if (!takev(&r, 1, &flag) || flag > 1 || !takev(&r, 4, &n))
		FAIL("FILE_LIST header malformed");
	if (n > FM_ENTRIES_MAX || l->n + n > FM_ENTRIES_MAX)
		FAIL("manifest of more than %u files", FM_ENTRIES_MAX);
	for (uint64_t i = 0; i < n; i++) {
		struct pl pr;
		char name[JNL_RELPATH_MAX + 1];

		if (!takev(&r, 1, &area) || !takev(&r, 2, &rl) || !take(&r, rl, &rel) ||
		    !takev(&r, 8, &size) || !takev(&r, 8, &mt) || !take(&r, 32, &sha))
			FAIL("manifest entry %zu truncated", l->n + 1);
		pr = pl_of((const char *)rel, rl);
		if (area >= FM_AREAS)
			FAIL("manifest entry %zu: unknown area %" PRIu64, l->n + 1, area);
		if (!jnl_relpath_ok(&pr) ||
		    (area == FM_AREA_QLOG && (rl != 9 || memcmp(rel, "queue_log", 9))))
			FAIL("manifest entry %zu: bad file name %s/%.*s", l->n + 1,
			     fm_area_name((unsigned)area), (int)(rl > 200 ? 200 : rl), (const char *)rel);
		memcpy(name, rel, rl);
		name[rl] = '\0';
		if (size > FM_SIZE_MAX)
			FAIL("manifest entry %zu: %s/%s of %" PRIu64 " bytes (over %llu)", l->n + 1,
			     fm_area_name((unsigned)area), name, size, FM_SIZE_MAX);
		if (l->n && fm_cmp(l->v[l->n - 1].area, l->v[l->n - 1].rel, (uint8_t)area, name) >= 0)
			FAIL("manifest entry %zu: %s/%s repeated or out of order", l->n + 1,
			     fm_area_name((unsigned)area), name);
		if (fm_list_add(l, (uint8_t)area, name, rl, size, (int64_t)mt, sha))
			return ENOMEM;
	}
	if (r.l)
		FAIL("FILE_LIST: %zu bytes after the entries", r.l);
	*last = flag;
	return 0;
}

/* ------------------------------------------------------------ FILE_WANT */

int fm_want_encode(struct jnl_wbuf *b, const uint32_t *idx, size_t n, size_t *at)
{
	size_t start = b->len, k = 0;
	int e;

	if ((e = putn(b, 0, 1)) || (e = putn(b, 0, 4)))
		return e;
	while (*at < n && 5 + 4 * (k + 1) <= FM_FRAME_FILL) {
		if ((e = putn(b, idx[*at], 4)))
			return e;
		(*at)++;
		k++;
	}
	b->p[start] = *at >= n;
	wr(b->p + start + 1, k, 4);
	return 0;
}

int fm_want_decode(uint32_t **idx, size_t *n, size_t manifest_n, const uint8_t *p,
		   size_t len, bool *last, char *err, size_t errsize)
{
	struct rdr r = { p, len };
	uint64_t flag, k, v = 0;
	uint32_t *x;

	if (!takev(&r, 1, &flag) || flag > 1 || !takev(&r, 4, &k) || r.l != 4 * k)
		FAIL("FILE_WANT malformed");
	if (*n + k > manifest_n)
		FAIL("FILE_WANT: more files than the manifest's %zu", manifest_n);
	if (k) {
		if (!(x = realloc(*idx, (*n + k) * sizeof(*x))))
			return ENOMEM;
		*idx = x;
	}
	for (uint64_t i = 0; i < k; i++) {
		takev(&r, 4, &v);
		if (v >= manifest_n || (*n && v <= (*idx)[*n - 1]))
			FAIL("FILE_WANT: index %" PRIu64 " outside the manifest or out of order", v);
		(*idx)[(*n)++] = (uint32_t)v;
	}
	*last = flag;
	return 0;
}

/* ------------------------------------------------------------ FILE_DATA */

int fm_data_encode(struct jnl_wbuf *b, const struct fm_data *d)
{
	int e;

	if ((e = putn(b, d->kind, 1)) || (e = putn(b, d->index, 4)))
		return e;
	switch (d->kind) {
	case FM_DATA_BEGIN:
		if ((e = putn(b, d->size, 8)) || (e = putn(b, d->mode, 4)) ||
		    (e = putn(b, (uint64_t)d->mtime_ns, 8)))
			return e;
		return 0;
	case FM_DATA_CHUNK:
		return putn(b, d->off, 8);
	case FM_DATA_END:
		return put(b, d->sha256, 32);
	case FM_DATA_GONE:
		return 0;
	}
	return EINVAL;
}

int fm_data_decode(struct fm_data *d, const uint8_t *p, size_t len)
{
	struct rdr r = { p, len };
	uint64_t kind, idx, mode, mt;
	const uint8_t *sha;

	memset(d, 0, sizeof(*d));
	if (!takev(&r, 1, &kind) || !takev(&r, 4, &idx))
		return EBADMSG;
	d->kind = (uint8_t)kind;
	d->index = (uint32_t)idx;
	switch (kind) {
	case FM_DATA_BEGIN:
		if (!takev(&r, 8, &d->size) || !takev(&r, 4, &mode) || !takev(&r, 8, &mt) ||
		    d->size > FM_SIZE_MAX)
			return EBADMSG;
		d->mode = (uint32_t)mode & 07777;
		d->mtime_ns = (int64_t)mt;
		break;
	case FM_DATA_CHUNK:
		if (!takev(&r, 8, &d->off) || !r.l || d->off > FM_SIZE_MAX)
			return EBADMSG;
		d->data = r.p;
		d->len = r.l;
		return 0;
	case FM_DATA_END:
		if (!take(&r, 32, &sha))
			return EBADMSG;
		memcpy(d->sha256, sha, 32);
		break;
	case FM_DATA_GONE:
		break;
	default:
		return EBADMSG;
	}
	return r.l ? EBADMSG : 0;
}

/* ------------------------------------------------------------ the diff */

static int push(uint32_t **v, size_t *n, size_t *cap, size_t i)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		uint32_t *x = realloc(*v, c * sizeof(*x));

		if (!x)
			return ENOMEM;
		*v = x;
		*cap = c;
	}
	(*v)[(*n)++] = (uint32_t)i;
	return 0;
}

int fm_diff(const struct fm_list *a, const struct fm_list *s, uint32_t **want,
	    size_t *nwant, uint32_t **extra, size_t *nextra)
{
	size_t i = 0, j = 0, cw = 0, ce = 0;
	int e = 0;

	*want = *extra = NULL;
	*nwant = *nextra = 0;
	while (!e && (i < a->n || j < s->n)) {
		int c = i >= a->n ? 1 : j >= s->n ? -1 :
			fm_cmp(a->v[i].area, a->v[i].rel, s->v[j].area, s->v[j].rel);

		if (c < 0) {
			e = push(want, nwant, &cw, i++);
		} else if (c > 0) {
			e = push(extra, nextra, &ce, j++);
		} else {
			if (a->v[i].size != s->v[j].size ||
			    memcmp(a->v[i].sha256, s->v[j].sha256, 32))
				e = push(want, nwant, &cw, i);
			i++;
			j++;
		}
	}
	if (e) {
		free(*want);
		free(*extra);
		*want = *extra = NULL;
		*nwant = *nextra = 0;
	}
	return e;
}
