/**
 * @file moh_conf.h  musiconhold.conf as res_musiconhold reads it.
 *
 * Each section but [general] is a class. Tandem plays mode=files
 * (directory=, sort=alpha|random|randstart) and mode=playlist (entry=
 * lines naming local files); mode=custom, mp3, quietmp3, mp3nb,
 * quietmp3nb and httpmp3 run external programs and are skipped with a
 * FILE:LINE warning, so calls asking for such a class get "default".
 *
 * Directories: an absolute one is used as written; a relative one is
 * relative to Asterisk's data directory, as in Asterisk: DATADIR/DIR when
 * it exists (the admin's own), else /usr/share/asterisk/DIR, where Debian's
 * asterisk-moh-opsound-* packages put "moh". An absolute path under
 * /var/lib/asterisk/ (Asterisk's data directory on other systems) that
 * does not exist is looked up the same way.
 *
 * When the file defines no [default] class, a built-in one plays the
 * files of "moh" (so the packaged music works without musiconhold.conf).
 * A `struct mohconf` is an immutable snapshot except for the set of
 * unknown class names already warned about (one warning per name).
 */
#ifndef TANDEM_MEDIA_MOH_CONF_H
#define TANDEM_MEDIA_MOH_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"

#define MOHCONF_SYSDIR "/usr/share/asterisk"

enum mohconf_mode { MOHCONF_MODE_FILES, MOHCONF_MODE_PLAYLIST };
/* sort=: none (directory listing, alphabetical here), alpha, random
 * (shuffled), randstart (alphabetical from a random file on). */
enum mohconf_sort { MOHCONF_SORT_NONE, MOHCONF_SORT_ALPHA, MOHCONF_SORT_RANDOM, MOHCONF_SORT_RANDSTART };

struct mohconf_class {
	const char *name;
	enum mohconf_mode mode;
	enum mohconf_sort sort;
	const char *directory;     /* as written ("moh") */
	char *dir;                 /* resolved; NULL for playlists */
	const char *announcement;  /* played before the music, or NULL */
	const char *digit;         /* DTMF digit that switches to this class */
	const char **entries;      /* playlist entries, in order */
	size_t nentries;
	bool builtin;              /* the default made without musiconhold.conf */
	const char *file;
	unsigned line;
};

struct mohconf {
	struct conf *conf;         /* owned (may be NULL) */
	struct mohconf_class **classes;
	size_t n;
	char **warned;             /* unknown class names already warned about */
	size_t nwarned;
};

/**
 * Build from a loaded musiconhold.conf (owned; NULL: none). datadir is
 * Tandem's DATADIR, sysdir the system data directory (NULL: MOHCONF_SYSDIR).
 * 0, ENOMEM, or EINVAL with "FILE:LINE: what is wrong" in err.
 */
int mohconf_build(struct mohconf **out, struct conf *conf, const char *datadir,
		  const char *sysdir, char *err, size_t errsize);
void mohconf_free(struct mohconf *mc);

/** The class exactly called name (case-insensitive), or NULL. */
const struct mohconf_class *mohconf_find(const struct mohconf *mc, const char *name);
/**
 * The class to play for name: that class; NULL or "" gives "default";
 * an unknown name gives "default" with one warning per name (Asterisk's
 * fallback). NULL only when there is no default class either.
 */
const struct mohconf_class *mohconf_class(struct mohconf *mc, const char *name);

/**
 * The audio files of a class, full paths, in play order: alphabetical,
 * shuffled (random) or rotated to a random start (randstart) using seed.
 * For one name in several formats the first of wav, WAV, sln, ulaw, alaw,
 * gsm, g722 is kept. ENOENT when the directory is missing; 0 with
 * *n == 0 when it holds no audio. Free with mohconf_files_free().
 */
int mohconf_class_files(const struct mohconf_class *c, uint32_t seed, char ***files, size_t *n);
void mohconf_files_free(char **files, size_t n);

#endif
