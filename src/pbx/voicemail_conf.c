/**
 * @file voicemail_conf.c  voicemail.conf with app_voicemail's semantics
 * (see voicemail_conf.h): [general], [zonemessages], mailbox contexts,
 * per-mailbox options, aliasescontext.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/pl.h"
#include "pbx/voicemail_conf.h"

/* ------------------------------------------------------------ options */

enum otype { O_BOOL, O_U32, O_STR, O_DBL };

struct opt {
	const char *name;
	enum otype type;
	size_t off;
	uint32_t max;      /* O_U32: larger values are capped with a warning */
};

#define BO(n, f) { n, O_BOOL, offsetof(struct vm_opts, f), 0 }
#define UO(n, f, m) { n, O_U32, offsetof(struct vm_opts, f), m }
#define SO(n, f) { n, O_STR, offsetof(struct vm_opts, f), 0 }

/* Options of a mailbox, also valid in [general] as defaults. */
static const struct opt box_opts[] = {
	BO("attach", attach), BO("saycid", saycid), BO("sayduration", sayduration),
	UO("saydurationm", saydurationm, UINT32_MAX), BO("review", review),
	BO("operator", operator), BO("envelope", envelope), BO("moveheard", moveheard),
	BO("delete", delete_after), BO("deletevoicemail", delete_after),
	BO("leaveurgent", leaveurgent), BO("forcename", forcename),
	BO("forcegreetings", forcegreetings), BO("tempgreetwarn", tempgreetwarn),
	BO("messagewrap", messagewrap), BO("nextaftercmd", nextaftercmd),
	BO("sendvoicemail", sendvoicemail), BO("hidefromdir", hidefromdir),
	UO("maxmsg", maxmsg, VM_MAXMSG_LIMIT), UO("maxsecs", maxsecs, UINT32_MAX),
	UO("maxmessage", maxsecs, UINT32_MAX), UO("minsecs", minsecs, UINT32_MAX),
	UO("minmessage", minsecs, UINT32_MAX),
	UO("backupdeleted", backupdeleted, VM_MAXMSG_LIMIT),
	SO("attachfmt", attachfmt), SO("serveremail", serveremail),
	SO("fromstring", fromstring), SO("emailsubject", emailsubject),
	SO("emailbody", emailbody), SO("pagerfromstring", pagerfromstring),
	SO("pagersubject", pagersubject), SO("pagerbody", pagerbody), SO("tz", tz),
	SO("locale", locale), SO("language", language), SO("callback", callback),
	SO("dialout", dialout), SO("exitcontext", exitcontext),
	{ "volgain", O_DBL, offsetof(struct vm_opts, volgain), 0 },
	{ NULL, O_BOOL, 0, 0 }
};

#define BG(n, f) { n, O_BOOL, offsetof(struct vm_general, f), 0 }
#define UG(n, f) { n, O_U32, offsetof(struct vm_general, f), UINT32_MAX }
#define SG(n, f) { n, O_STR, offsetof(struct vm_general, f), 0 }

/* Options only [general] has. */
static const struct opt general_opts[] = {
	UG("maxgreet", maxgreet), UG("skipms", skipms), UG("maxsilence", maxsilence),
	UG("silencethreshold", silencethreshold), UG("maxlogins", maxlogins),
	UG("minpassword", minpassword), UG("pollfreq", pollfreq),
	BG("pollmailboxes", pollmailboxes), BG("searchcontexts", searchcontexts),
	BG("pbxskip", pbxskip), BG("usedirectory", usedirectory),
	SG("mailcmd", mailcmd), SG("charset", charset),
	SG("emaildateformat", emaildateformat), SG("pagerdateformat", pagerdateformat),
	SG("externnotify", externnotify), SG("userscontext", userscontext),
	SG("aliasescontext", aliasescontext),
	{ NULL, O_BOOL, 0, 0 }
};

/* app_voicemail options Tandem accepts without acting on them (yet). */
static const char *const known_unused[] = {
	"format", "smdienable", "smdiport", "externpass", "externpassnotify",
	"externpasscheck", "directoryintro", "adsifdn", "adsisec", "adsiver",
	"odbcstorage", "odbctable", "odbc_audio_on_disk", "imapgreetings",
	"greetingsfolder", "imapparentfolder", "imapserver", "imapport", "imapflags",
	"imapfolder", "authuser", "authpassword", "imapopentimeout", "imapclosetimeout",
	"imapreadtimeout", "imapwritetimeout", "imap_poll_logout", "expungeonhangup",
	"cidinternalcontexts", "forward_urgent_auto", "vm-login", "vm-newuser",
	"vm-password", "vm-newpassword", "vm-invalid-password", "vm-passchanged",
	"vm-reenterpassword", "vm-mismatch", "vm-pls-try-again", "vm-prepend-timeout",
	"listen-control-forward-key", "listen-control-reverse-key",
	"listen-control-pause-key", "listen-control-restart-key",
	"listen-control-stop-key", "passwordlocation", "tps_queue_high", "tps_queue_low",
	"emailtitle", "attachextrecs", "alias", "imapuser", "imappassword",
	"imapvmshareid", "rip", NULL
};

static const struct opt *opt_find(const struct opt *t, const char *name)
{
	for (; t->name; t++)
		if (!strcasecmp(t->name, name))
			return t;
	return NULL;
}

static bool in_list(const char *const *l, const char *name)
{
	for (; *l; l++)
		if (!strcasecmp(*l, name))
			return true;
	return false;
}

/*
 * Set one option into base (a vm_opts or vm_general). what names the
 * place for messages ("general" or "mailbox 100@default").
 */
static int opt_set(const struct opt *o, void *base, const char *value, const char *file,
		   unsigned line, const char *what, char *err, size_t errsize)
{
	char *p = (char *)base + o->off, *e;
	unsigned long x;
	bool b;

	switch (o->type) {
	case O_BOOL:
		if (conf_bool(value, &b)) {
			snprintf(err, errsize, "%s:%u: %s in %s must be yes or no, not '%s'",
				 file, line, o->name, what, value);
			return EINVAL;
		}
		*(bool *)(void *)p = b;
		return 0;
	case O_U32:
		errno = 0;
		x = strtoul(value, &e, 10);
		if (errno || e == value || *e || value[0] == '-' || x > UINT32_MAX) {
			snprintf(err, errsize, "%s:%u: %s in %s must be a whole number, "
				 "not '%s'", file, line, o->name, what, value);
			return EINVAL;
		}
		if (x > o->max) {
			log_warn("%s:%u: %s=%lu in %s is more than %u; %u is used", file, line,
				 o->name, x, what, o->max, o->max);
			x = o->max;
		}
		*(uint32_t *)(void *)p = (uint32_t)x;
		return 0;
	case O_STR:
		*(const char **)(void *)p = value;
		return 0;
	case O_DBL:
		errno = 0;
		*(double *)(void *)p = strtod(value, &e);
		if (errno || e == value || *e) {
			snprintf(err, errsize, "%s:%u: %s in %s must be a number, not '%s'",
				 file, line, o->name, what, value);
			return EINVAL;
		}
		return 0;
	}
	return 0;
}

static void defaults(struct vm_general *g)
{
	struct vm_opts *o = &g->defaults;

	memset(g, 0, sizeof(*g));
	o->sayduration = true;
	o->saydurationm = 2;
	o->envelope = true;
	o->moveheard = true;
	o->leaveurgent = true;
	o->maxmsg = 100;
	o->serveremail = "asterisk";
	g->skipms = 3000;
	g->silencethreshold = 128;
	g->maxlogins = 3;
	g->pollfreq = 30;
	g->mailcmd = "/usr/sbin/sendmail -t";
	g->charset = "ISO-8859-1";
	g->emaildateformat = "%A, %B %d, %Y at %r";
	g->pagerdateformat = "%A, %B %d, %Y at %r";
	g->userscontext = "default";
	g->formats[0] = "wav";
	g->nformats = 1;
}

const char *vm_format_ext(const char *format)
{
	static const struct { const char *fmt, *ext; } map[] = {
		{ "wav", "wav" }, { "wav49", "WAV" }, { "WAV", "WAV" }, { "gsm", "gsm" },
		{ "ulaw", "ulaw" }, { "alaw", "alaw" }, { "sln", "sln" },
		{ "sln16", "sln16" }, { "g722", "g722" }, { "g729", "g729" },
		{ "g723sf", "g723sf" }, { "ogg", "ogg" }, { "siren7", "siren7" },
		{ "siren14", "siren14" }, { "g726", "g726" }, { "ilbc", "ilbc" },
	};
	size_t i;

	for (i = 0; format && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].fmt, format) || !strcasecmp(map[i].fmt, format))
			return map[i].ext;
	return NULL;
}

/* format=wav49|gsm|wav: split in place (the value belongs to the conf). */
static void parse_formats(struct vm_general *g, const struct conf_var *v, char *buf)
{
	char *tok, *s = buf;

	g->nformats = 0;
	while ((tok = strsep(&s, "|,")) != NULL) {
		tok = conf_strip(tok);
		if (!*tok)
			continue;
		if (!vm_format_ext(tok)) {
			log_warn("%s:%u: format '%s' is not a voicemail format Asterisk knows; "
				 "ignored", v->file, v->line, tok);
			continue;
		}
		if (g->nformats < VM_MAX_FORMATS)
			g->formats[g->nformats++] = tok;
	}
	if (!g->nformats) {
		log_warn("%s:%u: no usable format in format=%s; messages are recorded as wav",
			 v->file, v->line, v->value);
		g->formats[g->nformats++] = "wav";
	}
}

/* -------------------------------------------------------- [general] */

static int build_general(struct vmconf *vc, const struct conf_section *sec, char *err,
			 size_t errsize)
{
	struct vm_general *g = &vc->gen;
	const struct conf_var *v;
	const struct opt *o;
	int e = 0;

	for (v = sec->vars; v && !e; v = v->next) {
		if ((o = opt_find(box_opts, v->name)))
			e = opt_set(o, &g->defaults, v->value, v->file, v->line, "[general]",
				    err, errsize);
		else if ((o = opt_find(general_opts, v->name)))
			e = opt_set(o, g, v->value, v->file, v->line, "[general]", err, errsize);
		else if (!strcasecmp(v->name, "format")) {
			free(vc->fmtbuf);
			vc->fmtbuf = strdup(v->value);
			if (!vc->fmtbuf)
				return ENOMEM;
			parse_formats(g, v, vc->fmtbuf);
		} else if (!in_list(known_unused, v->name))
			log_warn("%s:%u: unknown option '%s' in [general] ignored", v->file,
				 v->line, v->name);
	}
	return e;
}

/* [zonemessages]: name = Zone/Name|message format */
static int build_zones(struct vmconf *vc, const struct conf_section *sec)
{
	const struct conf_var *v;
	size_t n = 0;

	for (v = sec->vars; v; v = v->next)
		n++;
	vc->zones = calloc(n ? n : 1, sizeof(*vc->zones));
	if (!vc->zones)
		return ENOMEM;
	for (v = sec->vars; v; v = v->next) {
		struct vm_zone *z = &vc->zones[vc->nzones];
		char *bar;

		if (!strchr(v->value, '|')) {
			log_warn("%s:%u: zone '%s' must be written TIMEZONE|FORMAT (e.g. "
				 "Europe/Madrid|'vm-received' q 'digits/at' H N 'hours'); "
				 "ignored", v->file, v->line, v->name);
			continue;
		}
		z->raw = strdup(v->value);
		if (!z->raw)
			return ENOMEM;
		bar = strchr(z->raw, '|');
		*bar = '\0';
		z->name = v->name;
		z->timezone = conf_strip(z->raw);
		z->message = conf_strip(bar + 1);
		z->file = v->file;
		z->line = v->line;
		vc->nzones++;
	}
	return 0;
}

const struct vm_zone *vmconf_zone(const struct vmconf *vc, const char *name)
{
	size_t i;

	for (i = 0; name && i < vc->nzones; i++)
		if (!strcasecmp(vc->zones[i].name, name))
			return &vc->zones[i];
	return NULL;
}

/* ---------------------------------------------------------- mailboxes */

static uint32_t id_hash(const char *id)
{
	struct pl p = { id, strlen(id) };

	return pl_hash(&p, true);
}

static bool id_cmp(const void *obj, const void *arg)
{
	const struct vm_mailbox *b = obj;

	return !strcasecmp(b->id, arg);
}

static const struct vm_mailbox *find_id(const struct vmconf *vc, const char *id)
{
	return hash_find(&vc->index, id_hash(id), id_cmp, id);
}

/* Is s (after blanks) "identifier=", i.e. the start of another option? */
static bool looks_like_opt(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (!isalpha((unsigned char)*s))
		return false;
	while (isalnum((unsigned char)*s) || *s == '_' || *s == '-')
		s++;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '=';
}

static int box_option(struct vm_mailbox *b, char *kv, char *err, size_t errsize)
{
	char *eq, *key, *val, what[160];
	const struct opt *o;

	kv = conf_strip(kv);
	if (!*kv)
		return 0;
	eq = strchr(kv, '=');
	if (!eq) {
		log_warn("%s:%u: option '%s' of mailbox %s has no '=value'; ignored", b->file,
			 b->line, kv, b->id);
		return 0;
	}
	*eq = '\0';
	key = conf_strip(kv);
	val = conf_strip(eq + 1);
	if ((o = opt_find(box_opts, key))) {
		snprintf(what, sizeof(what), "the options of mailbox %s", b->id);
		return opt_set(o, &b->o, val, b->file, b->line, what, err, errsize);
	}
	if (!in_list(known_unused, key))
		log_warn("%s:%u: unknown option '%s' of mailbox %s ignored", b->file, b->line,
			 key, b->id);
	return 0;
}

/* "attach=yes|tz=central", also "attach=yes,tz=central": a ',' separates
 * options only where another key= follows, so values keep their commas. */
static int box_options(struct vm_mailbox *b, char *opts, char *err, size_t errsize)
{
	char *piece, *s = opts;
	int e;

	while ((piece = strsep(&s, "|")) != NULL) {
		for (;;) {
			char *c, *cut = NULL;

			for (c = strchr(piece, ','); c; c = strchr(c + 1, ','))
				if (looks_like_opt(c + 1)) {
					cut = c;
					break;
				}
			if (cut)
				*cut = '\0';
			if ((e = box_option(b, piece, err, errsize)))
				return e;
			if (!cut)
				break;
			piece = cut + 1;
		}
	}
	return 0;
}

static void box_free(struct vm_mailbox *b)
{
	if (!b)
		return;
	free(b->id);
	free(b->raw);
	free(b);
}

/* BOX => PIN,Full Name,email,pager,options */
static int box_parse(struct vmconf *vc, const char *context, const struct conf_var *v,
		     struct vm_mailbox **out, char *err, size_t errsize)
{
	struct vm_mailbox *b = calloc(1, sizeof(*b));
	char *s, *f[4] = { "", "", "", "" };
	size_t i;
	int e;

	if (!b)
		return ENOMEM;
	b->context = context;
	b->box = v->name;
	b->file = v->file;
	b->line = v->line;
	b->o = vc->gen.defaults;
	b->raw = strdup(v->value);
	if (!b->raw || asprintf(&b->id, "%s@%s", v->name, context) < 0) {
		b->id = NULL;
		box_free(b);
		return ENOMEM;
	}
	s = b->raw;
	for (i = 0; i < 4 && s; i++)
		f[i] = conf_strip(strsep(&s, ","));
	b->pin = f[0];
	if (b->pin[0] == '-') {
		b->pin_locked = true;
		b->pin++;
	}
	b->fullname = f[1];
	b->email = f[2];
	b->pager = f[3];
	if (s && (e = box_options(b, s, err, errsize))) {
		box_free(b);
		return e;
	}
	if (b->o.tz && !vmconf_zone(vc, b->o.tz))
		log_warn("%s:%u: tz=%s of mailbox %s: no such zone in [zonemessages]; "
			 "the server's time zone is used", b->file, b->line, b->o.tz, b->id);
	*out = b;
	return 0;
}

static int add_box(struct vmconf *vc, struct vm_mailbox *b, size_t *cap)
{
	const struct vm_mailbox *old = find_id(vc, b->id);

	if (old) {
		log_warn("%s:%u: mailbox %s is already defined at %s:%u; this one is ignored",
			 b->file, b->line, b->id, old->file, old->line);
		box_free(b);
		return 0;
	}
	if (vc->nboxes == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct vm_mailbox **l = realloc(vc->boxes, nc * sizeof(*l));

		if (!l) {
			box_free(b);
			return ENOMEM;
		}
		vc->boxes = l;
		*cap = nc;
	}
	vc->boxes[vc->nboxes++] = b;
	hash_add(&vc->index, &b->le, id_hash(b->id), b);
	return 0;
}

static int build_context(struct vmconf *vc, const struct conf_section *sec, size_t *cap,
			 char *err, size_t errsize)
{
	const struct conf_var *v;
	int e = 0;

	for (v = sec->vars; v && !e; v = v->next) {
		struct vm_mailbox *b = NULL;

		if (!strcasecmp(v->name, "directoryintro"))
			continue;   /* app_directory's per-context prompt */
		e = box_parse(vc, sec->name, v, &b, err, errsize);
		if (!e)
			e = add_box(vc, b, cap);
	}
	return e;
}

static int build_aliases(struct vmconf *vc, const struct conf_section *sec)
{
	const struct conf_var *v;
	size_t n = 0;

	for (v = sec->vars; v; v = v->next)
		n++;
	vc->aliases = calloc(n ? n : 1, sizeof(*vc->aliases));
	if (!vc->aliases)
		return ENOMEM;
	for (v = sec->vars; v; v = v->next) {
		vc->aliases[vc->naliases].from = v->name;
		vc->aliases[vc->naliases++].to = v->value;
	}
	return 0;
}

int vmconf_build(struct vmconf **out, struct conf *conf, char *err, size_t errsize)
{
	struct vmconf *vc = calloc(1, sizeof(*vc));
	const struct conf_section *sec;
	size_t cap = 0;
	int e;

	if (!vc) {
		conf_free(conf);
		return ENOMEM;
	}
	vc->conf = conf;
	defaults(&vc->gen);
	e = hash_init(&vc->index, 64);
	if (!e && (sec = conf_section(conf, "general")))
		e = build_general(vc, sec, err, errsize);
	if (!e && (sec = conf_section(conf, "zonemessages")))
		e = build_zones(vc, sec);
	for (sec = conf ? conf->sections : NULL; sec && !e; sec = sec->next) {
		if (sec->is_template || !strcmp(sec->name, "general") ||
		    !strcmp(sec->name, "zonemessages"))
			continue;
		if (vc->gen.aliasescontext && !strcmp(sec->name, vc->gen.aliasescontext))
			e = vc->aliases ? 0 : build_aliases(vc, sec);
		else
			e = build_context(vc, sec, &cap, err, errsize);
	}
	if (!e && vc->gen.defaults.tz && !vmconf_zone(vc, vc->gen.defaults.tz))
		log_warn("voicemail.conf: [general] tz=%s: no such zone in [zonemessages]",
			 vc->gen.defaults.tz);
	if (e) {
		vmconf_free(vc);
		return e;
	}
	*out = vc;
	return 0;
}

void vmconf_free(struct vmconf *vc)
{
	size_t i;

	if (!vc)
		return;
	for (i = 0; i < vc->nboxes; i++)
		box_free(vc->boxes[i]);
	free(vc->boxes);
	for (i = 0; i < vc->nzones; i++)
		free(vc->zones[i].raw);
	free(vc->zones);
	free(vc->aliases);
	free(vc->fmtbuf);
	hash_close(&vc->index);
	conf_free(vc->conf);
	free(vc);
}

/* id with "@default" added when it has no context; NULL if too long. */
static const char *full_id(const char *id, char *buf, size_t size)
{
	if (strchr(id, '@'))
		return id;
	if ((size_t)snprintf(buf, size, "%s@default", id) >= size)
		return NULL;
	return buf;
}

const struct vm_mailbox *vmconf_mailbox(const struct vmconf *vc, const char *id)
{
	const struct vm_mailbox *b;
	char buf[512], buf2[512];
	const char *fid;
	size_t i;

	if (!vc || !id || !*id)
		return NULL;
	if (!strchr(id, '@') && vc->gen.searchcontexts) {
		for (i = 0; i < vc->nboxes; i++)
			if (!strcasecmp(vc->boxes[i]->box, id))
				return vc->boxes[i];
		return NULL;
	}
	if (!(fid = full_id(id, buf, sizeof(buf))))
		return NULL;
	if ((b = find_id(vc, fid)))
		return b;
	for (i = 0; i < vc->naliases; i++) {
		const char *from = full_id(vc->aliases[i].from, buf2, sizeof(buf2));

		if (from && !strcasecmp(from, fid)) {
			const char *to = full_id(vc->aliases[i].to, buf2, sizeof(buf2));
			return to ? find_id(vc, to) : NULL;
		}
	}
	return NULL;
}
