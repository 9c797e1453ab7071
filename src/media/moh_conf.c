/**
 * @file moh_conf.c  musiconhold.conf classes, their directories and files
 * (see moh_conf.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/rnd.h"
#include "media/moh_conf.h"

static const char *const class_opts[] = {
	"mode", "directory", "application", "digit", "announcement", "sort", "format",
	"kill_escalation_delay", "kill_method", "entry", "loop_last", "answeredonly", NULL
};
static const char *const general_opts[] = { "cachertclasses", "preferchannelclass", NULL };
static const char *const external_modes[] = {
	"custom", "mp3", "quietmp3", "mp3nb", "quietmp3nb", "httpmp3", NULL
};

static bool in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (!strcasecmp(*l, s))
			return true;
	return false;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where a directory= value points (see moh_conf.h); malloc'd. */
static char *resolve_dir(const char *d, const char *datadir, const char *sysdir)
{
	static const char astdata[] = "/var/lib/asterisk/";
	char p[PATH_MAX];
	const char *rel = d;

	if (d[0] == '/') {
		if (is_dir(d) || strncmp(d, astdata, sizeof(astdata) - 1))
			return strdup(d);
		rel = d + sizeof(astdata) - 1;
	}
	if (datadir && (size_t)snprintf(p, sizeof(p), "%s/%s", datadir, rel) < sizeof(p) &&
	    is_dir(p))
		return strdup(p);
	snprintf(p, sizeof(p), "%s/%s", sysdir, rel);
	return strdup(p);
}

static void class_free(struct mohconf_class *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c->entries);
	free(c);
}

/* A class from its section; *out NULL when it is skipped (warned). */
static int build_class(const struct conf_section *sec, const char *datadir,
		       const char *sysdir, struct mohconf_class **out, char *err, size_t errsize)
{
	struct mohconf_class *c = calloc(1, sizeof(*c));
	const struct conf_var *v, *modev = NULL;
	size_t ne = 0;

	*out = NULL;
	if (!c)
		return ENOMEM;
	c->name = sec->name;
	c->file = sec->file;
	c->line = sec->line;
	for (v = sec->vars; v; v = v->next)
		ne += !strcasecmp(v->name, "entry");
	c->entries = calloc(ne ? ne : 1, sizeof(*c->entries));
	if (!c->entries) {
		class_free(c);
		return ENOMEM;
	}
	for (v = sec->vars; v; v = v->next) {
		if (!v->inherited && !in_list(class_opts, v->name))
			log_warn("%s:%u: unknown option '%s' in [%s] ignored", v->file, v->line,
				 v->name, sec->name);
		if (!strcasecmp(v->name, "mode"))
			modev = v;
		else if (!strcasecmp(v->name, "directory"))
			c->directory = v->value;
		else if (!strcasecmp(v->name, "announcement"))
			c->announcement = v->value;
		else if (!strcasecmp(v->name, "digit"))
			c->digit = v->value;
		else if (!strcasecmp(v->name, "entry"))
			c->entries[c->nentries++] = v->value;
		else if (!strcasecmp(v->name, "sort")) {
			if (!strcasecmp(v->value, "alpha"))
				c->sort = MOHCONF_SORT_ALPHA;
			else if (!strcasecmp(v->value, "random"))
				c->sort = MOHCONF_SORT_RANDOM;
			else if (!strcasecmp(v->value, "randstart"))
				c->sort = MOHCONF_SORT_RANDSTART;
			else {
				snprintf(err, errsize, "%s:%u: sort in [%s] must be alpha, "
					 "random or randstart, not '%s'", v->file, v->line,
					 sec->name, v->value);
				class_free(c);
				return EINVAL;
			}
		}
	}
	if (!modev || !strcasecmp(modev->value, "files")) {
		c->mode = MOHCONF_MODE_FILES;
	} else if (!strcasecmp(modev->value, "playlist")) {
		c->mode = MOHCONF_MODE_PLAYLIST;
	} else if (in_list(external_modes, modev->value)) {
		log_warn("%s:%u: mode=%s of class [%s] runs an external player, which "
			 "Tandem does not support; class skipped (calls asking for it get "
			 "'default'): use mode=files with a directory of wav files",
			 modev->file, modev->line, modev->value, sec->name);
		class_free(c);
		return 0;
	} else {
		log_warn("%s:%u: mode=%s of class [%s] is not a music on hold mode "
			 "(files, playlist); class skipped", modev->file, modev->line,
			 modev->value, sec->name);
		class_free(c);
		return 0;
	}
	if (c->mode == MOHCONF_MODE_FILES) {
		if (!c->directory || !*c->directory) {
			log_warn("%s:%u: class [%s] has mode=files but no directory=; class "
				 "skipped", sec->file, sec->line, sec->name);
			class_free(c);
			return 0;
		}
		if (!(c->dir = resolve_dir(c->directory, datadir, sysdir))) {
			class_free(c);
			return ENOMEM;
		}
		if (!is_dir(c->dir))
			log_warn("%s:%u: directory=%s of class [%s]: %s does not exist; the "
				 "class plays silence until it does", sec->file, sec->line,
				 c->directory, sec->name, c->dir);
	} else if (!c->nentries) {
		log_warn("%s:%u: class [%s] has mode=playlist but no entry=; class skipped",
			 sec->file, sec->line, sec->name);
		class_free(c);
		return 0;
	}
	*out = c;
	return 0;
}

static int add_class(struct mohconf *mc, struct mohconf_class *c, size_t *cap)
{
	if (mc->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct mohconf_class **l = realloc(mc->classes, nc * sizeof(*l));

		if (!l)
			return ENOMEM;
		mc->classes = l;
		*cap = nc;
	}
	mc->classes[mc->n++] = c;
	return 0;
}

int mohconf_build(struct mohconf **out, struct conf *conf, const char *datadir,
		  const char *sysdir, char *err, size_t errsize)
{
	struct mohconf *mc = calloc(1, sizeof(*mc));
	const struct conf_section *sec;
	struct mohconf_class *c;
	size_t cap = 0;
	int e = 0;

	if (!mc) {
		conf_free(conf);
		return ENOMEM;
	}
	mc->conf = conf;
	if (!sysdir)
		sysdir = MOHCONF_SYSDIR;
	for (sec = conf ? conf->sections : NULL; sec && !e; sec = sec->next) {
		const struct conf_var *v;

		if (sec->is_template)
			continue;
		if (!strcmp(sec->name, "general")) {
			for (v = sec->vars; v; v = v->next)
				if (!in_list(general_opts, v->name))
					log_warn("%s:%u: unknown option '%s' in [general] ignored",
						 v->file, v->line, v->name);
			continue;
		}
		if (mohconf_find(mc, sec->name)) {
			log_warn("%s:%u: class [%s] is defined twice; this one is ignored",
				 sec->file, sec->line, sec->name);
			continue;
		}
		e = build_class(sec, datadir, sysdir, &c, err, errsize);
		if (!e && c && (e = add_class(mc, c, &cap)))
			class_free(c);
	}
	if (!e && !mohconf_find(mc, "default")) {
		c = calloc(1, sizeof(*c));
		if (!c || !(c->dir = resolve_dir("moh", datadir, sysdir)) ||
		    (e = add_class(mc, c, &cap))) {
			class_free(c);
			e = ENOMEM;
		} else {
			c->name = "default";
			c->directory = "moh";
			c->builtin = true;
			c->file = "musiconhold.conf";
		}
	}
	if (e) {
		mohconf_free(mc);
		return e;
	}
	*out = mc;
	return 0;
}

void mohconf_free(struct mohconf *mc)
{
	size_t i;

	if (!mc)
		return;
	for (i = 0; i < mc->n; i++)
		class_free(mc->classes[i]);
	free(mc->classes);
	for (i = 0; i < mc->nwarned; i++)
		free(mc->warned[i]);
	free(mc->warned);
	conf_free(mc->conf);
	free(mc);
}

const struct mohconf_class *mohconf_find(const struct mohconf *mc, const char *name)
{
	size_t i;

	for (i = 0; mc && name && i < mc->n; i++)
		if (!strcasecmp(mc->classes[i]->name, name))
			return mc->classes[i];
	return NULL;
}

const struct mohconf_class *mohconf_class(struct mohconf *mc, const char *name)
{
	const struct mohconf_class *c = name && *name ? mohconf_find(mc, name) : NULL;
	size_t i;

	if (c || !name || !*name)
		return c ? c : mohconf_find(mc, "default");
	for (i = 0; i < mc->nwarned && strcasecmp(mc->warned[i], name); i++)
		;
	if (i == mc->nwarned) {
		char **l = realloc(mc->warned, (mc->nwarned + 1) * sizeof(*l));
		if (l) {
			mc->warned = l;
			if ((l[mc->nwarned] = strdup(name)))
				mc->nwarned++;
		}
		log_warn("music on hold class '%s' is not in musiconhold.conf; playing "
			 "class 'default' instead", name);
	}
	return mohconf_find(mc, "default");
}

/* ------------------------------------------------------------- files */

static const char *const exts[] = { "wav", "WAV", "sln", "ulaw", "alaw", "gsm", "g722" };

static int ext_rank(const char *name, size_t *baselen)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (!dot || dot == name)
		return -1;
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		if (!strcmp(dot + 1, exts[i])) {
			*baselen = (size_t)(dot - name);
			return (int)i;
		}
	}
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void mohconf_files_free(char **files, size_t n)
{
	while (n)
		free(files[--n]);
	free(files);
}

/* Readable audio names of dir, one per base name (best format), sorted. */
static int list_dir(const char *dir, char ***out, size_t *np)
{
	struct dirent *de;
	char **l = NULL;
	size_t n = 0, cap = 0, i, j;
	DIR *d = opendir(dir);

	if (!d)
		return errno;
	while ((de = readdir(d)) != NULL) {
		size_t bl;

		if (de->d_name[0] == '.' || ext_rank(de->d_name, &bl) < 0)
			continue;
		if (n == cap) {
			char **nl = realloc(l, (cap = cap ? cap * 2 : 16) * sizeof(*nl));
			if (!nl)
				goto oom;
			l = nl;
		}
		if (!(l[n] = strdup(de->d_name)))
			goto oom;
		n++;
	}
	closedir(d);
	qsort(l, n, sizeof(*l), cmp_str);
	/* one file per base name: keep the best-ranked extension */
	for (i = 0, j = 0; i < n; i++) {
		size_t bi = 0, bj = 0;   /* ext_rank leaves them alone on a miss */
		int ri = ext_rank(l[i], &bi);

		if (j && (ext_rank(l[j - 1], &bj), bj == bi) && !strncmp(l[j - 1], l[i], bi)) {
			if (ri < ext_rank(l[j - 1], &bj)) {
				free(l[j - 1]);
				l[j - 1] = l[i];
			} else {
				free(l[i]);
			}
			continue;
		}
		l[j++] = l[i];
	}
	*out = l;
	*np = j;
	return 0;
oom:
	closedir(d);
	mohconf_files_free(l, n);
	return ENOMEM;
}

int mohconf_class_files(const struct mohconf_class *c, uint32_t seed, char ***files, size_t *np)
{
	char **l = NULL;
	size_t n = 0, i;
	int e;

	*files = NULL;
	*np = 0;
	if (c->mode == MOHCONF_MODE_PLAYLIST) {
		if (!(l = calloc(c->nentries ? c->nentries : 1, sizeof(*l))))
			return ENOMEM;
		for (n = 0; n < c->nentries; n++)
			if (!(l[n] = strdup(c->entries[n]))) {
				mohconf_files_free(l, n);
				return ENOMEM;
			}
	} else {
		if ((e = list_dir(c->dir, &l, &n)))
			return e;
		for (i = 0; i < n; i++) {   /* full paths */
			char *p;
			if (asprintf(&p, "%s/%s", c->dir, l[i]) < 0) {
				mohconf_files_free(l, n);
				return ENOMEM;
			}
			free(l[i]);
			l[i] = p;
		}
	}
	if (c->sort == MOHCONF_SORT_RANDOM) {   /* Fisher-Yates */
		for (i = n; i > 1; i--) {
			size_t k = rnd_xorshift32(&seed) % i;
			char *t = l[i - 1];
			l[i - 1] = l[k];
			l[k] = t;
		}
	} else if (c->sort == MOHCONF_SORT_RANDSTART && n > 1) {
		size_t k = rnd_xorshift32(&seed) % n;
		char **r = malloc(n * sizeof(*r));
		if (!r) {
			mohconf_files_free(l, n);
			return ENOMEM;
		}
		for (i = 0; i < n; i++)
			r[i] = l[(i + k) % n];
		free(l);
		l = r;
	}
	*files = l;
	*np = n;
	return 0;
}
