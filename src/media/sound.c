/**
 * @file sound.c  Finding, loading and caching prompts and music files.
 *
 * Search order (Asterisk's fileexists_core() with languageprefix=yes).
 * For language "es_MX" the candidates are the languages es_MX, es (each
 * '_' part stripped in turn), none, and finally "en" unless already
 * tried. For each language L, each root is tried in order: DATADIR/sounds
 * (the admin's prompts, CONTRACT.md) then the system directory
 * (/usr/share/asterisk/sounds). In a root, ROOT/L/NAME comes first, then
 * ROOT/L_*\/NAME for every subdirectory whose name starts with "L_", in
 * sorted order: Debian installs the sets as en_US_f_Allison and
 * es_MX_f_Allison where Asterisk expects en and es. Language "none" is
 * ROOT/NAME. An absolute NAME is not searched in the roots; the language
 * is inserted before its last component as Asterisk does
 * ("/x/y/hello" -> "/x/y/es/hello", then "/x/y/hello").
 * For every candidate the known extensions are tried in a fixed order
 * (wav first); a NAME that already ends in a known extension is also
 * tried as written. A relative NAME with a ".." component is refused:
 * prompt names may come from dialplan variables a caller influenced.
 *
 * Formats, all read with libsndfile: .wav/.WAV/.wav16 (whatever the
 * header says: PCM, A-law, mu-law, GSM 6.10 "wav49", float...), raw .gsm
 * (GSM 6.10 frames), raw .ulaw/.ul/.mu/.pcm/.ulw, .alaw/.al/.alw, and
 * signed linear .sln/.raw (8 kHz) and .sln16 (16 kHz). Everything is
 * turned into 8 kHz 16-bit mono: channels are averaged; 16, 24, 32 and
 * 48 kHz are decimated by 2-6 through a windowed-sinc low-pass at
 * 3.6 kHz (32 taps per factor, Blackman window); other rates (44.1 kHz,
 * 11.025 kHz...) are refused with a warning that says how to convert
 * them. At most SOUND_MAX_SECONDS are kept.
 *
 * Cache. Loaded sounds are kept in a hash keyed by path, most recently
 * used first, up to a cap of PCM bytes; the least recently used entries
 * beyond it are dropped (a sound still playing stays alive through its
 * players' references and is freed after them). An entry is reused while
 * the file keeps its inode, size and mtime, so an admin's new prompt is
 * picked up at its next use. A file that fails to load is remembered the
 * same way (a negative entry): it is logged once per version, not once
 * per caller.
 */
#include <dirent.h>
#include <errno.h>
#include <sndfile.h>
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/complex.h>
#include <spandsp/dds.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/pl.h"
#include "media/sound.h"

#define PATH_MAX_LEN 4096
#define LANG_MAX     64
#define NLANGS       8
#define MAX_DECIM    6
#define MAX_ENTRIES  8192            /* negative entries count too */
#define PI           3.14159265358979323846

struct sound {
	struct hash_le le;
	struct sound *prev, *next;      /* LRU list, most recent first */
	bool cached;
	char *path;
	int16_t *pcm;
	size_t len;
	int err;                        /* negative entry: why it failed */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct root {
	char *dir;
	struct timespec mtime;          /* of dir when subdirs was read */
	bool scanned;
	char **subdirs;                 /* sorted names of its subdirectories */
	size_t nsub;
};

static struct {
	struct root roots[2];
	size_t nroots;
	struct hash tbl;
	struct sound *head, *tail;
	size_t bytes, cap, entries;
	struct sound_stats st;
	bool ready;
} S;

struct fmt {
	const char *ext;
	int format;     /* SF_FORMAT_RAW | subtype, or 0: read the header */
	int rate;
};

static const struct fmt fmts[] = {
	{ "wav",   0, 0 },
	{ "WAV",   0, 0 },
	{ "wav16", 0, 0 },
	{ "gsm",   SF_FORMAT_RAW | SF_FORMAT_GSM610, 8000 },
	{ "ulaw",  SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000 },
	{ "ul",    SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000 },
	{ "mu",    SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000 },
	{ "pcm",   SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000 },
	{ "ulw",   SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000 },
	{ "alaw",  SF_FORMAT_RAW | SF_FORMAT_ALAW, 8000 },
	{ "al",    SF_FORMAT_RAW | SF_FORMAT_ALAW, 8000 },
	{ "alw",   SF_FORMAT_RAW | SF_FORMAT_ALAW, 8000 },
	{ "sln",   SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 8000 },
	{ "raw",   SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 8000 },
	{ "sln16", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 16000 },
};
#define NFMTS (sizeof(fmts) / sizeof(fmts[0]))

/* ================================================================
 * Roots
 * ================================================================ */

static void root_clear(struct root *r)
{
	for (size_t i = 0; i < r->nsub; i++)
		free(r->subdirs[i]);
	free(r->subdirs);
	free(r->dir);
	memset(r, 0, sizeof(*r));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *dir, const char *name)
{
	char p[PATH_MAX_LEN];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p))
		return false;
	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* Re-read the subdirectory names of r when its mtime changed. */
static void root_scan(struct root *r)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **list = NULL;
	size_t n = 0, cap = 0;

	if (stat(r->dir, &st) || !S_ISDIR(st.st_mode)) {
		for (size_t i = 0; i < r->nsub; i++)
			free(r->subdirs[i]);
		r->nsub = 0;
		r->scanned = false;
		return;
	}
	if (r->scanned && st.st_mtim.tv_sec == r->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == r->mtime.tv_nsec)
		return;
	d = opendir(r->dir);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *dup;

		if (e->d_name[0] == '.' || !strchr(e->d_name, '_'))
			continue;       /* only L_* names are searched by listing */
		if (e->d_type != DT_DIR && !is_dir(r->dir, e->d_name))
			continue;
		if (n == cap) {
			char **p = realloc(list, (cap ? cap * 2 : 16) * sizeof(*p));
			if (!p)
				break;
			list = p;
			cap = cap ? cap * 2 : 16;
		}
		dup = strdup(e->d_name);
		if (!dup)
			break;
		list[n++] = dup;
	}
	closedir(d);
	if (n)
		qsort(list, n, sizeof(*list), cmp_str);
	for (size_t i = 0; i < r->nsub; i++)
		free(r->subdirs[i]);
	free(r->subdirs);
	r->subdirs = list;
	r->nsub = n;
	r->mtime = st.st_mtim;
	r->scanned = true;
}

static int root_set(struct root *r, const char *dir, const char *sub)
{
	size_t l = strlen(dir) + (sub ? strlen(sub) + 1 : 0) + 1;

	root_clear(r);
	r->dir = malloc(l);
	if (!r->dir)
		return ENOMEM;
	snprintf(r->dir, l, "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
	return 0;
}

/* ================================================================
 * Search
 * ================================================================ */

static const struct fmt *fmt_of(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (!dot || (slash && dot < slash))
		return NULL;
	for (size_t i = 0; i < NFMTS; i++)
		if (!strcmp(dot + 1, fmts[i].ext))
			return &fmts[i];
	return NULL;
}

int sound_ext_rank(const char *path)
{
	const struct fmt *f = path ? fmt_of(path) : NULL;

	return f ? (int)(f - fmts) : -1;
}

static bool is_file(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

/* Try base.EXT for each known extension, then base itself when it
 * already carries one. */
static int try_base(const char *base, char *path, size_t size)
{
	char p[PATH_MAX_LEN];

	for (size_t i = 0; i < NFMTS; i++) {
		if (snprintf(p, sizeof(p), "%s.%s", base, fmts[i].ext) >= (int)sizeof(p))
			return ENAMETOOLONG;
		if (!is_file(p))
			continue;
		if (strlen(p) >= size)
			return ENAMETOOLONG;
		strcpy(path, p);
		return 0;
	}
	if (fmt_of(base) && is_file(base)) {
		if (strlen(base) >= size)
			return ENAMETOOLONG;
		strcpy(path, base);
		return 0;
	}
	return ENOENT;
}

/* Asterisk's language order: lang, lang with each _part stripped, none,
 * then the default language unless tried already. */
static size_t lang_list(const char *lang, char out[NLANGS][LANG_MAX])
{
	size_t n = 0;
	char l[LANG_MAX];
	char *u;

	l[0] = '\0';
	if (lang && *lang && strlen(lang) < LANG_MAX && !strchr(lang, '/')) {
		strcpy(l, lang);
		while (n < NLANGS - 2) {
			strcpy(out[n++], l);
			u = strrchr(l, '_');
			if (!u)
				break;
			*u = '\0';
		}
	}
	out[n++][0] = '\0';
	if ((!lang || strcmp(lang, SOUND_DEFAULT_LANG)) && strcmp(l, SOUND_DEFAULT_LANG))
		strcpy(out[n++], SOUND_DEFAULT_LANG);
	return n;
}

static bool has_dotdot(const char *name)
{
	const char *p = name;

	while (*p) {
		size_t l = strcspn(p, "/");
		if (l == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += l;
		while (*p == '/')
			p++;
	}
	return false;
}

static int find_in_root(struct root *r, const char *lang, const char *name,
			char *path, size_t size)
{
	char base[PATH_MAX_LEN];
	size_t ll = strlen(lang);
	int err;

	if (!*lang) {
		if (snprintf(base, sizeof(base), "%s/%s", r->dir, name) >= (int)sizeof(base))
			return ENAMETOOLONG;
		return try_base(base, path, size);
	}
	if (snprintf(base, sizeof(base), "%s/%s/%s", r->dir, lang, name) >= (int)sizeof(base))
		return ENAMETOOLONG;
	err = try_base(base, path, size);
	if (err != ENOENT)
		return err;
	root_scan(r);
	for (size_t i = 0; i < r->nsub; i++) {
		const char *sd = r->subdirs[i];
		if (strncmp(sd, lang, ll) || sd[ll] != '_')
			continue;
		if (snprintf(base, sizeof(base), "%s/%s/%s", r->dir, sd, name) >= (int)sizeof(base))
			return ENAMETOOLONG;
		err = try_base(base, path, size);
		if (err != ENOENT)
			return err;
	}
	return ENOENT;
}

static int find_absolute(const char *lang, const char *name, char *path, size_t size)
{
	const char *slash = strrchr(name, '/');
	char base[PATH_MAX_LEN];
	int err;

	if (!*lang)
		return try_base(name, path, size);
	if (snprintf(base, sizeof(base), "%.*s%s/%s", (int)(slash - name + 1), name,
		     lang, slash + 1) >= (int)sizeof(base))
		return ENAMETOOLONG;
	err = try_base(base, path, size);
	return err;
}

int sound_find(const char *lang, const char *name, char *path, size_t size)
{
	char langs[NLANGS][LANG_MAX];
	size_t nl;
	int err;

	if (!name || !*name || !path || !size)
		return EINVAL;
	if (strlen(name) >= PATH_MAX_LEN / 2)
		return ENAMETOOLONG;
	if (name[0] != '/' && has_dotdot(name))
		return EINVAL;
	nl = lang_list(lang, langs);
	for (size_t i = 0; i < nl; i++) {
		if (name[0] == '/') {
			err = find_absolute(langs[i], name, path, size);
			if (err != ENOENT)
				return err;
			continue;
		}
		for (size_t k = 0; k < S.nroots; k++) {
			err = find_in_root(&S.roots[k], langs[i], name, path, size);
			if (err != ENOENT)
				return err;
		}
	}
	return ENOENT;
}

/* ================================================================
 * Decoding
 * ================================================================ */

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 4096;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n * elem);
	if (!p)
		return ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

/* 8 kHz mono 16-bit already: read straight into the result. */
static int read_direct(SNDFILE *sf, int16_t **out, size_t *outn)
{
	size_t n = 0, cap = 0, max = (size_t)SOUND_MAX_SECONDS * SOUND_RATE;
	int16_t *buf = NULL;
	sf_count_t k;

	do {
		if (grow((void **)&buf, &cap, n + 4096, sizeof(*buf))) {
			free(buf);
			return ENOMEM;
		}
		k = sf_read_short(sf, buf + n, 4096);
		if (k > 0)
			n += (size_t)k;
	} while (k > 0 && n < max);
	*out = buf;
	*outn = n < max ? n : max;
	return 0;
}

static int16_t to16(float v)
{
	v *= 32767.0f;
	if (v >= 32767.0f)
		return 32767;
	if (v <= -32768.0f)
		return -32768;
	return (int16_t)(v >= 0 ? v + 0.5f : v - 0.5f);
}

/* sin(2 pi turns) from spandsp's DDS table (libm is not linked; the
 * table's precision is ample for a 32-tap-per-factor filter). */
static double sin_turns(double turns)
{
	double f = turns - (double)(int64_t)turns;

	if (f < 0)
		f += 1;
	return dds_lookupf((uint32_t)(f * 4294967296.0));
}

/* Windowed-sinc (Blackman) low-pass at 3.6 kHz for decimation by m,
 * normalised to unity gain; returns the number of taps (odd). */
static size_t lowpass(float *h, unsigned m)
{
	size_t taps = m == 1 ? 1 : 32 * (size_t)m + 1, half = taps / 2;
	double fc = 3600.0 / (8000.0 * m), sum = 0;

	if (taps == 1) {
		h[0] = 1;
		return 1;
	}
	for (size_t k = 0; k < taps; k++) {
		double t = (double)k - (double)half, w, v;

		v = t == 0 ? 2 * fc : sin_turns(fc * t) / (PI * t);
		w = 0.42 - 0.5 * sin_turns((double)k / (double)(taps - 1) + 0.25) +
		    0.08 * sin_turns(2.0 * (double)k / (double)(taps - 1) + 0.25);
		h[k] = (float)(v * w);
		sum += h[k];
	}
	for (size_t k = 0; k < taps; k++)
		h[k] = (float)(h[k] / sum);
	return taps;
}

#define CHUNK 1024

/* Any other layout (channels, rate, float): frames read CHUNK at a time,
 * channels averaged into a sliding window, low-passed and decimated to
 * 8 kHz as they come, so memory stays at the output's size. */
static int read_resampled(SNDFILE *sf, const SF_INFO *info, int16_t **out, size_t *outn)
{
	size_t ch = (size_t)info->channels, m = (size_t)info->samplerate / SOUND_RATE;
	size_t taps, half, wn, n = 0, cap = 0, max = (size_t)SOUND_MAX_SECONDS * SOUND_RATE;
	float h[32 * MAX_DECIM + 1];
	float *frames = malloc(CHUNK * ch * sizeof(float)), *win;
	int16_t *o = NULL;
	uint64_t wbase = 0, c;          /* input index of win[0] (+ half); next centre */
	bool eof = false;

	taps = lowpass(h, (unsigned)m);
	half = taps / 2;
	win = calloc(2 * taps + CHUNK + m, sizeof(float));
	if (!frames || !win) {
		free(frames);
		free(win);
		return ENOMEM;
	}
	wn = half;                      /* zeros before the first sample */
	c = half;                       /* centres counted with that offset */
	while (!eof && n < max) {
		sf_count_t k = sf_readf_float(sf, frames, CHUNK);

		for (sf_count_t i = 0; i < k; i++) {
			float v = 0;
			for (size_t j = 0; j < ch; j++)
				v += frames[(size_t)i * ch + j];
			win[wn++] = v / (float)ch;
		}
		if (k <= 0) {
			eof = true;             /* zeros after the last sample */
			memset(win + wn, 0, half * sizeof(float));
			wn += half;
		}
		while (c + half < wbase + wn && n < max) {
			const float *x = win + (c - half - wbase);
			float acc = 0;

			if (eof && c >= wbase + wn - half)
				break;          /* past the last real sample */
			for (size_t t = 0; t < taps; t++)
				acc += h[t] * x[t];
			if (grow((void **)&o, &cap, n + 1, sizeof(*o))) {
				free(o);
				o = NULL;
				break;
			}
			o[n++] = to16(acc);
			c += m;
		}
		if (!o && n) {
			free(frames);
			free(win);
			return ENOMEM;
		}
		if (c - half > wbase) {         /* drop what no centre needs */
			size_t drop = (size_t)(c - half - wbase);
			if (drop > wn)
				drop = wn;
			memmove(win, win + drop, (wn - drop) * sizeof(float));
			wn -= drop;
			wbase += drop;
		}
	}
	free(frames);
	free(win);
	*out = o;
	*outn = n;
	return 0;
}

static int open_sf(const char *path, SNDFILE **sfp, SF_INFO *info)
{
	const struct fmt *f = fmt_of(path);

	memset(info, 0, sizeof(*info));
	if (f && f->format) {
		info->format = f->format;
		info->samplerate = f->rate;
		info->channels = 1;
	}
	*sfp = sf_open(path, SFM_READ, info);
	if (!*sfp) {
		log_warn("sound: %s: cannot read: %s", path, sf_strerror(NULL));
		return EINVAL;
	}
	if (info->channels < 1 || info->channels > 16 || info->samplerate < 1000 ||
	    info->samplerate > 192000) {
		log_warn("sound: %s: %d channels at %d Hz: not a usable sound file", path,
			 info->channels, info->samplerate);
		sf_close(*sfp);
		return EINVAL;
	}
	if (info->samplerate % SOUND_RATE || info->samplerate / SOUND_RATE > MAX_DECIM) {
		log_warn("sound: %s: %d Hz is not supported (8000 Hz or 16/24/32/48 kHz); "
			 "convert it: sox IN -r 8000 -c 1 OUT.wav", path, info->samplerate);
		sf_close(*sfp);
		return ENOTSUP;
	}
	return 0;
}

/* Read s->path into s->pcm; logs the reason on failure. */
static int load_file(struct sound *s)
{
	SNDFILE *sf;
	SF_INFO info;
	int err;

	err = open_sf(s->path, &sf, &info);
	if (err)
		return err;
	if (info.channels == 1 && info.samplerate == SOUND_RATE &&
	    (info.format & SF_FORMAT_SUBMASK) != SF_FORMAT_FLOAT &&
	    (info.format & SF_FORMAT_SUBMASK) != SF_FORMAT_DOUBLE)
		err = read_direct(sf, &s->pcm, &s->len);
	else
		err = read_resampled(sf, &info, &s->pcm, &s->len);
	if (!err && sf_error(sf) && s->len)
		log_warn("sound: %s: damaged after %zu samples: %s", s->path, s->len,
			 sf_strerror(sf));
	sf_close(sf);
	if (err == ENOMEM) {
		log_warn("sound: %s: out of memory", s->path);
	} else if (!err && !s->len) {
		log_warn("sound: %s: no audio in the file", s->path);
		err = EINVAL;
	}
	if (err) {
		free(s->pcm);
		s->pcm = NULL;
		s->len = 0;
	}
	return err;
}

/* ================================================================
 * Cache
 * ================================================================ */

static size_t cost(const struct sound *s)
{
	return s->len * sizeof(int16_t);
}

static void lru_unlink(struct sound *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		S.head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		S.tail = s->prev;
	s->prev = s->next = NULL;
}

static void lru_push(struct sound *s)
{
	s->prev = NULL;
	s->next = S.head;
	if (S.head)
		S.head->prev = s;
	S.head = s;
	if (!S.tail)
		S.tail = s;
}

static void cache_drop(struct sound *s)
{
	if (!s->cached)
		return;
	s->cached = false;
	hash_del(&S.tbl, &s->le);
	lru_unlink(s);
	S.bytes -= cost(s);
	S.entries--;
	mem_deref(s);
}

static void evict(void)
{
	struct sound *s = S.tail;

	while (s && (S.bytes > S.cap || S.entries > MAX_ENTRIES)) {
		struct sound *prev = s->prev;
		if (cost(s) || S.entries > MAX_ENTRIES) {
			cache_drop(s);
			S.st.evictions++;
		}
		s = prev;
	}
}

static bool cmp_path(const void *obj, const void *arg)
{
	return !strcmp(((const struct sound *)obj)->path, arg);
}

static uint32_t path_hash(const char *path)
{
	struct pl p = pl_of(path, strlen(path));

	return pl_hash(&p, false);
}

static bool same_file(const struct sound *s, const struct stat *st)
{
	return s->dev == st->st_dev && s->ino == st->st_ino && s->size == st->st_size &&
	       s->mtime.tv_sec == st->st_mtim.tv_sec &&
	       s->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void sound_destroy(void *data)
{
	struct sound *s = data;

	free(s->path);
	free(s->pcm);
}

static struct sound *cache_lookup(const char *path, const struct stat *st)
{
	struct sound *s;

	if (!S.ready)
		return NULL;
	s = hash_find(&S.tbl, path_hash(path), cmp_path, path);
	if (!s)
		return NULL;
	if (!same_file(s, st)) {
		cache_drop(s);          /* the file changed: read it again */
		return NULL;
	}
	lru_unlink(s);
	lru_push(s);
	return s;
}

static void cache_add(struct sound *s)
{
	if (!S.ready || cost(s) > S.cap)
		return;
	s->cached = true;
	hash_add(&S.tbl, &s->le, path_hash(s->path), s);
	lru_push(s);
	S.bytes += cost(s);
	S.entries++;
	mem_ref(s);
	evict();
}

int sound_load(const char *path, struct sound **sp)
{
	struct stat st;
	struct sound *s;
	int err;

	if (!path || !sp)
		return EINVAL;
	if (stat(path, &st)) {
		err = errno;
		log_warn("sound: %s: %s", path, strerror(err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warn("sound: %s: not a regular file", path);
		return EINVAL;
	}
	s = cache_lookup(path, &st);
	if (s) {
		if (s->err)
			return s->err;      /* logged when it was read */
		S.st.hits++;
		*sp = mem_ref(s);
		return 0;
	}
	s = mem_zalloc(sizeof(*s), sound_destroy);
	if (!s || !(s->path = strdup(path))) {
		log_warn("sound: %s: out of memory", path);
		mem_deref(s);
		return ENOMEM;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	err = load_file(s);
	if (err) {
		S.st.failures++;
		s->err = err;
		if (err != ENOMEM)
			cache_add(s);   /* negative entry: costs no PCM bytes */
		mem_deref(s);
		return err;
	}
	S.st.loads++;
	if (cost(s) > S.cap && S.ready)
		log_warn("sound: %s: %zu bytes of audio, more than the whole cache (%zu): "
			 "read again for every listener", path, cost(s), S.cap);
	cache_add(s);
	*sp = s;
	return 0;
}

int sound_get(const char *lang, const char *name, struct sound **sp)
{
	char path[PATH_MAX_LEN];
	int err = sound_find(lang, name, path, sizeof(path));

	if (err) {
		if (err == ENOENT)
			log_warn("sound: no file for \"%s\" (language %s)", name ? name : "",
				 lang && *lang ? lang : "none");
		else
			log_warn("sound: bad prompt name \"%s\": %s", name ? name : "",
				 strerror(err));
		return err;
	}
	return sound_load(path, sp);
}

const int16_t *sound_pcm(const struct sound *s, size_t *len)
{
	if (len)
		*len = s->len;
	return s->pcm;
}

const char *sound_path(const struct sound *s)
{
	return s->path;
}

uint32_t sound_ms(const struct sound *s)
{
	return (uint32_t)(s->len * 1000 / SOUND_RATE);
}

void sound_stats(struct sound_stats *st)
{
	*st = S.st;
	st->entries = S.entries;
	st->bytes = S.bytes;
	st->cap = S.cap;
}

void sound_cache_flush(void)
{
	while (S.head)
		cache_drop(S.head);
}

/* ================================================================
 * Setup
 * ================================================================ */

int sound_init(const char *datadir, const char *sysdir, size_t cache_bytes)
{
	int err = 0;

	if (!S.ready) {
		err = hash_init(&S.tbl, 256);
		if (err)
			return err;
		S.ready = true;
	}
	for (size_t i = 0; i < 2; i++)
		root_clear(&S.roots[i]);
	S.nroots = 0;
	if (datadir && *datadir)
		err = root_set(&S.roots[S.nroots++], datadir, "sounds");
	if (!err)
		err = root_set(&S.roots[S.nroots++], sysdir ? sysdir : SOUND_SYSDIR, NULL);
	S.cap = cache_bytes ? cache_bytes : SOUND_CACHE_DEFAULT;
	evict();
	if (err)
		sound_close();
	return err;
}

void sound_close(void)
{
	sound_cache_flush();
	for (size_t i = 0; i < 2; i++)
		root_clear(&S.roots[i]);
	S.nroots = 0;
	if (S.ready)
		hash_close(&S.tbl);
	memset(&S, 0, sizeof(S));
}
