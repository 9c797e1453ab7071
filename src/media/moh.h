/**
 * @file moh.h  Music on hold classes as they play: an ordered list of
 * files, how to walk it, and the cursors that walk it.
 *
 * musiconhold.conf itself is read by moh_conf.h. A class is immutable
 * once built except for its shared stream. Players (play.h) read music
 * through moh_read().
 */
#ifndef TANDEM_MOH_H
#define TANDEM_MOH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sound;
struct moh_class;

enum moh_sort {
	MOH_SORT_ALPHA = 0,     /* in list order, from the first file */
	MOH_SORT_RANDOM,        /* a random file, then random others */
	MOH_SORT_RANDSTART,     /* in list order, from a random file */
};

enum moh_position {
	MOH_POS_LISTENER = 0,   /* each listener has its own place (Asterisk mode=files) */
	MOH_POS_CLASS,          /* one stream per class heard by all */
};

/** Where one listener is in a class; zero-initialise, moh_cursor_reset() to free. */
struct moh_cursor {
	struct sound *snd;      /* file being played, referenced */
	size_t file;            /* index in the class's list */
	size_t pos;             /* samples played of it */
	bool started;
	bool dead;              /* no file of the class could be read */
};

/**
 * Build a class from a directory (mode=files): every regular file with a
 * sound extension, one per base name (wav preferred), sorted by name.
 * ENOENT when dir has no sound file (logged), ENOMEM.
 */
int  moh_class_dir(struct moh_class **cp, const char *name, const char *dir,
		   enum moh_sort sort, enum moh_position pos);
/**
 * Build a class from a list of files in play order (mohconf_class_files()
 * or a playlist): absolute paths or sound names, extension optional;
 * entries that do not exist are warned about and skipped. ENOENT when
 * none is left, ENOMEM.
 */
int  moh_class_list(struct moh_class **cp, const char *name, const char *const *files,
		    size_t n, enum moh_sort sort, enum moh_position pos);
const char *moh_class_name(const struct moh_class *c);
size_t moh_class_nfiles(const struct moh_class *c);
/** Path of file i of the class (sorted order), NULL past the end. */
const char *moh_class_file(const struct moh_class *c, size_t i);
enum moh_position moh_class_position(const struct moh_class *c);

/**
 * Write n samples of class c at offset off of the current 20 ms frame.
 * A MOH_POS_LISTENER class plays from cur (which remembers the place for
 * a later resume); a MOH_POS_CLASS class ignores cur and gives every
 * reader in the same media tick (play_ticks()) the same samples. Files
 * loop; unreadable files are skipped; silence when none can be read.
 */
void moh_read(struct moh_class *c, struct moh_cursor *cur, int16_t *pcm, size_t off,
	      size_t n);
/** Release what cur holds and make it start afresh. */
void moh_cursor_reset(struct moh_cursor *cur);

/** Tests only: seed the random choices of sort=random/randstart. */
void moh_test_seed(uint64_t seed);

#endif
