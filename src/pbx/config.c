/** @file config.c  Loading CONFDIR (see config.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "pbx/config.h"

static const char *const optional_files[] = {
	"features.conf", "rtp.conf", "http.conf", "prometheus.conf", NULL
};

static int u32_opt(const struct conf_section *sec, const char *name, uint32_t *out,
		   char *err, size_t errsize)
{
	const struct conf_var *v = conf_var(sec, name);
	char *e;
	unsigned long x;

	if (!v)
		return 0;
	errno = 0;
	x = strtoul(v->value, &e, 10);
	if (errno || e == v->value || *e || x > UINT32_MAX) {
		snprintf(err, errsize, "%s:%u: %s must be a whole number, not '%s'",
			 v->file, v->line, name, v->value);
		return EINVAL;
	}
	*out = (uint32_t)x;
	return 0;
}

/* "sha256,md5" style list of one or two algorithms, preferred first. */
static int parse_digest(struct tandem_conf *t, const struct conf_var *v, char *err,
			size_t errsize)
{
	char buf[64], *tok, *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", v->value);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		enum auth_alg a;
		if (!strcasecmp(tok, "md5"))
			a = AUTH_ALG_MD5;
		else if (!strcasecmp(tok, "sha256") || !strcasecmp(tok, "sha-256"))
			a = AUTH_ALG_SHA256;
		else
			goto bad;
		if (n == 2 || (n == 1 && t->digest[0] == a))
			goto bad;
		t->digest[n++] = a;
	}
	if (!n)
		goto bad;
	t->ndigest = n;
	return 0;
bad:
	snprintf(err, errsize, "%s:%u: digest_algorithms must list md5 and/or sha256, "
		 "each once, preferred first (e.g. 'sha256,md5'), not '%s'", v->file,
		 v->line, v->value);
	return EINVAL;
}

/* tandem.conf's sections and their options; NULL options: any (future). */
static const struct {
	const char *section;
	const char *const *opts;
	const char *later;   /* non-NULL: section not acted on yet, why */
} known[] = {
	{ "general", (const char *const[]){ "node", NULL }, NULL },
	{ "log", (const char *const[]){ "level", "file", "security", NULL }, NULL },
	{ "security", (const char *const[]){ "nonce_lifetime", "digest_algorithms", NULL },
	  NULL },
	{ "sip", (const char *const[]){ "tcp_idle_timeout", "tcp_msg_timeout",
					"tcp_max_conns", NULL }, NULL },
	{ "storage", (const char *const[]){ "backend", NULL }, NULL },
	{ "cdr", cdr_conf_options, NULL },
	{ "cluster", cluster_conf_options, NULL },
	{ "tftp", tftp_conf_options, NULL },
};

static void check_known(const struct conf *raw)
{
	const struct conf_section *sec;
	const struct conf_var *v;
	size_t i, j;

	for (sec = raw->sections; sec; sec = sec->next) {
		for (i = 0; i < sizeof(known) / sizeof(*known); i++)
			if (!strcmp(known[i].section, sec->name))
				break;
		if (i == sizeof(known) / sizeof(*known)) {
			log_warn("%s:%u: unknown section [%s] ignored", sec->file, sec->line,
				 sec->name);
			continue;
		}
		if (known[i].later) {
			log_warn("%s:%u: [%s] ignored: %s", sec->file, sec->line, sec->name,
				 known[i].later);
			continue;
		}
		for (v = sec->vars; v; v = v->next) {
			for (j = 0; known[i].opts[j] && strcasecmp(known[i].opts[j], v->name); j++)
				;
			if (!known[i].opts[j])
				log_warn("%s:%u: unknown option '%s' in [%s] ignored", v->file,
					 v->line, v->name, sec->name);
		}
	}
}

static int tandem_build(struct tandem_conf *t, const char *confdir, char *err,
			size_t errsize)
{
	const struct conf_section *sec;
	const struct conf_var *v;
	int e = 0;

	t->log_level = LOG_LVL_INFO;
	t->log_file = "tandemd.log";
	t->security_log = "security.log";
	t->nonce_lifetime = 30;
	t->digest[0] = AUTH_ALG_MD5;
	t->digest[1] = AUTH_ALG_SHA256;
	t->ndigest = 2;
	t->tcp_idle_timeout = 60;
	t->tcp_msg_timeout = 10;
	t->tcp_max_conns = 1024;
	cdr_conf_defaults(&t->cdr);
	cluster_conf_defaults(&t->cluster);
	tftp_conf_load(&t->tftp, NULL, NULL, 0);
	if (!t->raw)
		return 0;
	if ((e = cdr_conf_load(&t->cdr, t->raw, err, errsize)))
		return e;
	if ((e = cluster_conf_load(&t->cluster, conf_section(t->raw, "cluster"), confdir,
				   err, errsize)))
		return e;
	check_known(t->raw);
	if ((sec = conf_section(t->raw, "storage")) && (v = conf_var(sec, "backend")) &&
	    strcasecmp(v->value, "sqlite")) {
		snprintf(err, errsize, "%s:%u: [storage] backend '%s' is not available; "
			 "state is kept in sqlite (call records can go to MariaDB: "
			 "[cdr] backend = mariadb)", v->file, v->line, v->value);
		return EINVAL;
	}
	if ((sec = conf_section(t->raw, "general")))
		t->node = conf_get(sec, "node");
	if ((sec = conf_section(t->raw, "log"))) {
		static const char *const lv[] = { "error", "warning", "notice", "info", "debug" };
		if ((v = conf_var(sec, "level"))) {
			unsigned i;
			for (i = 0; i < 5 && strcasecmp(v->value, lv[i]); i++)
				;
			if (i == 5) {
				snprintf(err, errsize, "%s:%u: level must be error, warning, "
					 "notice, info or debug", v->file, v->line);
				return EINVAL;
			}
			t->log_level = (enum log_level)i;
		}
		if (conf_get(sec, "file"))
			t->log_file = conf_get(sec, "file");
		if (conf_get(sec, "security"))
			t->security_log = conf_get(sec, "security");
	}
	if ((sec = conf_section(t->raw, "security"))) {
		e = u32_opt(sec, "nonce_lifetime", &t->nonce_lifetime, err, errsize);
		if (!e && (v = conf_var(sec, "digest_algorithms")))
			e = parse_digest(t, v, err, errsize);
	}
	if (!e)
		e = tftp_conf_load(&t->tftp, conf_section(t->raw, "tftp"), err, errsize);
	if (!e && (sec = conf_section(t->raw, "sip"))) {
		e = u32_opt(sec, "tcp_idle_timeout", &t->tcp_idle_timeout, err, errsize);
		if (!e)
			e = u32_opt(sec, "tcp_msg_timeout", &t->tcp_msg_timeout, err, errsize);
		if (!e)
			e = u32_opt(sec, "tcp_max_conns", &t->tcp_max_conns, err, errsize);
	}
	return e;
}

static bool exists(const char *dir, const char *file)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return stat(p, &st) == 0;
}

/* A peer whose context the dialplan lacks cannot make calls (the seed's
 * context=from-audinercop, reference-config defect 1). */
static void check_contexts(const struct pbx_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->sip->npeers; i++) {
		const struct peer *p = cfg->sip->list[i];
		const struct conf_var *v = conf_var(p->sec, "context");
		const char *ctx = p->context ? p->context : "default";

		if (dialplan_has_context(cfg->dialplan, ctx))
			continue;
		if (v)
			log_warn("%s:%u: context=%s of peer [%s]: no such context in the "
				 "dialplan, so calls from this peer are refused (404)", v->file,
				 v->line, ctx, p->name);
		else
			log_warn("sip.conf: peer [%s] has no context= and the dialplan has no "
				 "[default]: calls from it are refused (404)", p->name);
	}
}

/* An optional Asterisk file: loaded when present (NULL otherwise). */
static int load_optional(struct conf **c, const char *confdir, const char *name,
			 char *err, size_t errsize)
{
	*c = NULL;
	return exists(confdir, name) ? conf_load(c, confdir, name, err, errsize) : 0;
}

/* voicemail.conf, queues.conf, musiconhold.conf: each builder takes its
 * file (or NULL) and owns it from then on. */
static int load_business(struct pbx_config *cfg, const char *confdir,
			 const char *datadir, char *err, size_t errsize)
{
	struct conf *c;
	int e;

	e = load_optional(&c, confdir, "voicemail.conf", err, errsize);
	if (!e)
		e = vmconf_build(&cfg->voicemail, c, err, errsize);
	if (!e)
		e = load_optional(&c, confdir, "musiconhold.conf", err, errsize);
	if (!e)
		e = mohconf_build(&cfg->moh, c, datadir, NULL, err, errsize);
	if (!e)
		e = load_optional(&c, confdir, "queues.conf", err, errsize);
	if (!e)
		e = queuesconf_build(&cfg->queues, c, err, errsize);
	if (!e)
		queuesconf_check_moh(cfg->queues, cfg->moh);
	return e;
}

int pbx_config_load(struct pbx_config *cfg, const char *confdir, const char *datadir,
		    char *err, size_t errsize)
{
	struct conf *c = NULL;
	int e = 0;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	if (exists(confdir, "tandem.conf"))
		e = conf_load(&cfg->tandem.raw, confdir, "tandem.conf", err, errsize);
	if (!e)
		e = tandem_build(&cfg->tandem, confdir, err, errsize);
	if (!e) {
		e = conf_load(&c, confdir, "sip.conf", err, errsize);
		if (e == ENOENT && !err[0])
			snprintf(err, errsize, "%s/sip.conf: file not found", confdir);
	}
	if (!e)
		e = sipconf_build(&cfg->sip, c, err, errsize);
	if (!e) {
		e = conf_load(&cfg->extensions, confdir, "extensions.conf", err, errsize);
		if (e == ENOENT && !err[0])
			snprintf(err, errsize, "%s/extensions.conf: file not found", confdir);
	}
	if (!e)
		e = dialplan_build(&cfg->dialplan, cfg->extensions, err, errsize);
	if (!e)
		check_contexts(cfg);
	if (!e)
		e = load_business(cfg, confdir, datadir, err, errsize);
	for (i = 0; !e && optional_files[i]; i++) {
		struct conf *o = NULL;
		if (!exists(confdir, optional_files[i]))
			continue;
		e = conf_load(&o, confdir, optional_files[i], err, errsize);
		conf_free(o);
	}
	if (e)
		pbx_config_free(cfg);
	return e;
}

void pbx_config_free(struct pbx_config *cfg)
{
	cluster_conf_clear(&cfg->tandem.cluster);
	conf_free(cfg->tandem.raw);
	sipconf_free(cfg->sip);
	dialplan_free(cfg->dialplan);
	conf_free(cfg->extensions);
	vmconf_free(cfg->voicemail);
	queuesconf_free(cfg->queues);
	mohconf_free(cfg->moh);
	memset(cfg, 0, sizeof(*cfg));
}
