/**
 * @file moh.c  Music on hold classes (Asterisk's app_musiconhold, files
 * and playlist modes) and the cursors that play them.
 *
 * musiconhold.conf is read by moh_conf.c; a class here is what plays:
 * a name, an ordered list of files and how to walk them. The call layer
 * builds one per configured class from mohconf_class_files() (or from a
 * directory) when the configuration is loaded, and keeps it in its
 * snapshot so a class stream is shared by all its listeners.
 *
 * Files of a directory class: regular files with a sound extension
 * (sound.h), one per base name (the best-ranked extension, wav first),
 * in name order (strcasecmp, as Asterisk's sort=alpha).
 *
 * Position. Asterisk's mode=files gives each channel its own place and
 * resumes it when the same channel is held again; that is the default
 * here (MOH_POS_LISTENER): the cursor lives in the listener's player.
 * With MOH_POS_CLASS all listeners hear one stream per class, advanced
 * once per media tick (play_ticks()) however many read it, as with
 * Asterisk's streamed modes. Both cost the same CPU per listener (a
 * 320-byte copy from the shared, cached PCM); they differ in what the
 * caller hears.
 *
 * Order: MOH_SORT_ALPHA plays the list as given, from its first file;
 * MOH_SORT_RANDSTART from a random file; MOH_SORT_RANDOM picks a random
 * file each time (never the same twice in a row).
 *
 * Files are loaded through the sound cache when a cursor reaches them
 * and held by the cursor while it plays them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/mem.h"
#include "media/moh.h"
#include "media/play.h"
#include "media/sound.h"

#define MOH_FILES_MAX 4096

struct moh_class {
	char *name;
	char **files;
	size_t n;
	enum moh_sort sort;
	enum moh_position pos;
	/* the shared stream of a MOH_POS_CLASS class */
	struct moh_cursor shared;
	uint64_t tick;
	bool tick_valid;
	int16_t frame[PLAY_FRAME];
};

static uint64_t rnd_state;

void moh_test_seed(uint64_t seed)
{
	rnd_state = seed | 1;
}

static size_t rnd_below(size_t n)
{
	if (!rnd_state && getrandom(&rnd_state, sizeof(rnd_state), 0) != sizeof(rnd_state))
		rnd_state = 0x9E3779B97F4A7C15ULL;
	rnd_state |= 1;
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return n ? (size_t)(((rnd_state * 0x2545F4914F6CDD1DULL) >> 33) % n) : 0;
}

/* ================================================================
 * Classes
 * ================================================================ */

static void class_destroy(void *data)
{
	struct moh_class *c = data;

	for (size_t i = 0; i < c->n; i++)
		free(c->files[i]);
	free(c->files);
	free(c->name);
	moh_cursor_reset(&c->shared);
}

static int class_new(struct moh_class **cp, const char *name, char **files, size_t n,
		     enum moh_sort sort, enum moh_position pos)
{
	struct moh_class *c = mem_zalloc(sizeof(*c), class_destroy);

	if (!c || !(c->name = strdup(name))) {
		mem_deref(c);
		return ENOMEM;
	}
	c->files = files;
	c->n = n;
	c->sort = sort;
	c->pos = pos;
	*cp = c;
	return 0;
}

struct entry {
	char *path;
	size_t baselen;
	int rank;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	const char *bx = strrchr(x->path, '/') + 1, *by = strrchr(y->path, '/') + 1;
	size_t lx = x->baselen, ly = y->baselen, l = lx < ly ? lx : ly;
	int r = strncasecmp(bx, by, l);

	if (!r)
		r = strncmp(bx, by, l);
	if (!r)
		r = (lx > ly) - (lx < ly);
	if (!r)
		r = x->rank - y->rank;
	return r;
}

static bool same_base(const struct entry *x, const struct entry *y)
{
	return x->baselen == y->baselen &&
	       !strncmp(strrchr(x->path, '/') + 1, strrchr(y->path, '/') + 1, x->baselen);
}

/* Sort entries, keep one per base name, hand the paths to a new class. */
static int class_from_entries(struct moh_class **cp, const char *name, struct entry *e,
			      size_t n, enum moh_sort sort, enum moh_position pos)
{
	char **files;
	size_t k = 0;
	int err;

	qsort(e, n, sizeof(*e), cmp_entry);
	files = malloc((n ? n : 1) * sizeof(*files));
	if (!files)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (k && same_base(&e[i], &e[i - 1])) {
			free(e[i].path);
			continue;
		}
		files[k++] = e[i].path;
	}
	err = class_new(cp, name, files, k, sort, pos);
	if (err) {
		for (size_t i = 0; i < k; i++)
			free(files[i]);
		free(files);
	}
	return err;
}

int moh_class_dir(struct moh_class **cp, const char *name, const char *dir,
		  enum moh_sort sort, enum moh_position pos)
{
	struct entry *e = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (!cp || !name || !dir)
		return EINVAL;
	d = opendir(dir);
	if (!d) {
		err = errno;
		log_warn("moh: class %s: directory %s: %s", name, dir, strerror(err));
		return ENOENT;
	}
	while ((de = readdir(d)) != NULL && n < MOH_FILES_MAX) {
		char p[4096];
		struct stat st;
		const char *dot;
		int rank = sound_ext_rank(de->d_name);

		if (de->d_name[0] == '.' || rank < 0)
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p) ||
		    stat(p, &st) || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			struct entry *ne = realloc(e, (cap ? cap * 2 : 32) * sizeof(*e));
			if (!ne) {
				err = ENOMEM;
				break;
			}
			e = ne;
			cap = cap ? cap * 2 : 32;
		}
		dot = strrchr(de->d_name, '.');
		e[n].path = strdup(p);
		if (!e[n].path) {
			err = ENOMEM;
			break;
		}
		e[n].baselen = (size_t)(dot - de->d_name);
		e[n].rank = rank;
		n++;
	}
	closedir(d);
	if (!err && !n) {
		log_warn("moh: class %s: no sound files in %s", name, dir);
		err = ENOENT;
	}
	if (!err)
		err = class_from_entries(cp, name, e, n, sort, pos);
	else
		for (size_t i = 0; i < n; i++)
			free(e[i].path);
	free(e);
	return err;
}

int moh_class_list(struct moh_class **cp, const char *name, const char *const *files,
		   size_t n, enum moh_sort sort, enum moh_position pos)
{
	char **list;
	size_t k = 0;
	int err;

	if (!cp || !name || (n && !files))
		return EINVAL;
	list = malloc((n ? n : 1) * sizeof(*list));
	if (!list)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char path[4096];

		if (strstr(files[i], "://")) {
			log_warn("moh: class %s: %s: URLs are not supported", name, files[i]);
			continue;
		}
		if (sound_find(NULL, files[i], path, sizeof(path))) {
			log_warn("moh: class %s: no sound file %s", name, files[i]);
			continue;
		}
		if (!(list[k] = strdup(path))) {
			err = ENOMEM;
			goto out;
		}
		k++;
	}
	if (!k) {
		log_warn("moh: class %s: no playable entry", name);
		err = ENOENT;
		goto out;
	}
	err = class_new(cp, name, list, k, sort, pos);
	if (!err)
		return 0;
out:
	for (size_t i = 0; i < k; i++)
		free(list[i]);
	free(list);
	return err;
}

const char *moh_class_name(const struct moh_class *c)
{
	return c->name;
}

size_t moh_class_nfiles(const struct moh_class *c)
{
	return c->n;
}

const char *moh_class_file(const struct moh_class *c, size_t i)
{
	return i < c->n ? c->files[i] : NULL;
}

enum moh_position moh_class_position(const struct moh_class *c)
{
	return c->pos;
}

/* ================================================================
 * Cursors
 * ================================================================ */

void moh_cursor_reset(struct moh_cursor *cur)
{
	cur->snd = mem_deref(cur->snd);
	memset(cur, 0, sizeof(*cur));
}

static size_t next_file(const struct moh_class *c, size_t i)
{
	size_t r;

	if (c->sort != MOH_SORT_RANDOM || c->n < 2)
		return (i + 1) % c->n;
	r = rnd_below(c->n - 1);        /* any file but the one just played */
	return r >= i ? r + 1 : r;
}

/* Load the cursor's file, skipping unreadable ones; false: none left. */
static bool cur_open(const struct moh_class *c, struct moh_cursor *cur)
{
	for (size_t tries = 0; tries < c->n; tries++) {
		struct sound *s;

		if (!sound_load(c->files[cur->file], &s)) {
			cur->snd = s;
			return true;
		}
		cur->file = next_file(c, cur->file);
		cur->pos = 0;
	}
	log_warn("moh: class %s: no file can be read, playing silence", c->name);
	cur->dead = true;
	return false;
}

static void fill(const struct moh_class *c, struct moh_cursor *cur, int16_t *pcm, size_t n)
{
	size_t done = 0;

	if (!cur->started) {
		cur->started = true;
		cur->file = c->sort == MOH_SORT_ALPHA ? 0 : rnd_below(c->n);
		cur->pos = 0;
	}
	while (done < n) {
		const int16_t *d;
		size_t len, k;

		if (cur->dead || (!cur->snd && !cur_open(c, cur))) {
			memset(pcm + done, 0, (n - done) * sizeof(*pcm));
			return;
		}
		d = sound_pcm(cur->snd, &len);
		if (cur->pos >= len) {
			cur->snd = mem_deref(cur->snd);
			cur->file = next_file(c, cur->file);
			cur->pos = 0;
			continue;
		}
		k = len - cur->pos < n - done ? len - cur->pos : n - done;
		memcpy(pcm + done, d + cur->pos, k * sizeof(*pcm));
		cur->pos += k;
		done += k;
	}
}

void moh_read(struct moh_class *c, struct moh_cursor *cur, int16_t *pcm, size_t off,
	      size_t n)
{
	size_t k;

	if (c->pos == MOH_POS_LISTENER) {
		fill(c, cur, pcm, n);
		return;
	}
	if (!c->tick_valid || c->tick != play_ticks()) {
		fill(c, &c->shared, c->frame, PLAY_FRAME);
		c->tick = play_ticks();
		c->tick_valid = true;
	}
	k = off < PLAY_FRAME ? PLAY_FRAME - off : 0;
	if (k > n)
		k = n;
	memcpy(pcm, c->frame + off, k * sizeof(*pcm));
	memset(pcm + k, 0, (n - k) * sizeof(*pcm));
}
