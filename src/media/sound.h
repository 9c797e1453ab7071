/**
 * @file sound.h  Prompts and music files: finding them the way Asterisk
 * does, loading them as 8 kHz 16-bit mono PCM, and a bounded cache so a
 * file heard by many callers is read once.
 *
 * sound.c's top comment has the search order and the formats; the design
 * is in docs/design/media.md.
 */
#ifndef TANDEM_SOUND_H
#define TANDEM_SOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOUND_RATE          8000                          /* samples per second */
#define SOUND_SYSDIR        "/usr/share/asterisk/sounds"  /* Debian's sound packages */
#define SOUND_DEFAULT_LANG  "en"
#define SOUND_CACHE_DEFAULT ((size_t)64 << 20)            /* bytes of PCM kept */
#define SOUND_MAX_SECONDS   1800                          /* longer files are cut */

/** A loaded file: immutable, reference-counted (mem_ref / mem_deref). */
struct sound;

struct sound_stats {
	uint64_t hits;          /* sound_load() answered from the cache */
	uint64_t loads;         /* files read and decoded */
	uint64_t failures;      /* files that could not be read (each logged once) */
	uint64_t evictions;     /* entries dropped to stay under the byte cap */
	size_t entries;         /* files in the cache now */
	size_t bytes;           /* PCM bytes in the cache now */
	size_t cap;             /* the byte cap */
};

/**
 * Set the search roots and the cache size: datadir is tandemd's DATADIR
 * (prompts in DATADIR/sounds/LANG/ come first; NULL: none), sysdir the
 * system sound directory (NULL: SOUND_SYSDIR), cache_bytes the PCM bytes
 * the cache may keep (0: SOUND_CACHE_DEFAULT). Returns 0 or ENOMEM.
 * Calling it again (reload) keeps the cache and changes roots and cap.
 */
int  sound_init(const char *datadir, const char *sysdir, size_t cache_bytes);
/** Drop the cache. Sounds still referenced stay valid until released. */
void sound_close(void);

/**
 * Find the file Asterisk would play for name in language lang (NULL or
 * "" for none): name is relative ("digits/1", no extension needed) or
 * absolute. Writes the path with its extension to path. Returns 0,
 * ENOENT when no readable candidate exists, EINVAL for an empty name or
 * a relative one with a ".." component, ENAMETOOLONG. Logs nothing.
 */
int  sound_find(const char *lang, const char *name, char *path, size_t size);

/**
 * Load path (with extension) as 8 kHz mono PCM, from the cache when the
 * file did not change (same inode, size and mtime). On success *sp holds
 * a new reference. Errors: ENOENT (missing), ENOTSUP (format or sample
 * rate not supported), EINVAL (corrupt or empty), ENOMEM. A failure is
 * logged once per file version, as a warning naming the file.
 */
int  sound_load(const char *path, struct sound **sp);

/**
 * sound_find() then sound_load(). A missing prompt is logged as a
 * warning naming lang and name. Errors as for those two.
 */
int  sound_get(const char *lang, const char *name, struct sound **sp);

/** The PCM samples (8 kHz, mono) and their count. */
const int16_t *sound_pcm(const struct sound *s, size_t *len);
/** The file the sound was read from. */
const char *sound_path(const struct sound *s);
/** Length in milliseconds. */
uint32_t sound_ms(const struct sound *s);

/** Rank of path's extension in the search order (0 = wav), -1 if unknown. */
int  sound_ext_rank(const char *path);

/** Cache counters. */
void sound_stats(struct sound_stats *st);
/** Drop every cached entry not in use elsewhere (tests, reload). */
void sound_cache_flush(void);

#endif
