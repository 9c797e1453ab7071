/**
 * @file http_conf.c  http.conf and prometheus.conf read as Asterisk reads
 * them (the [general] section of each); options Tandem does not act on
 * are warned about with FILE:LINE and ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/conf.h"
#include "core/log.h"
#include "sip/transp.h"
#include "web/http.h"

/* Asterisk's options we read without acting on them */
static const char *const http_ignored[] = { "prefix", "enablestatic", "servername",
	"sessionlimit", "session_inactivity", "session_keep_alive", "redirect",
	"tlscipher", "tlscafile", "tlscapath", NULL };
static const char *const prom_known[] = { "enabled", "uri", "auth_username",
					  "auth_password", "core_metrics_enabled",
					  "auth_realm", NULL };

static bool listed(const char *const *l, const char *name)
{
	for (; *l; l++)
		if (!strcasecmp(*l, name))
			return true;
	return false;
}

static int str_opt(const struct conf_var *v, char *out, size_t size, char *err,
		   size_t errsize)
{
	if (strlen(v->value) >= size) {
		snprintf(err, errsize, "%s:%u: %s is longer than %zu characters", v->file,
			 v->line, v->name, size - 1);
		return EINVAL;
	}
	snprintf(out, size, "%s", v->value);
	return 0;
}

static int bool_opt(const struct conf_var *v, bool *out, char *err, size_t errsize)
{
	if (conf_bool(v->value, out)) {
		snprintf(err, errsize, "%s:%u: %s must be yes or no, not '%s'", v->file, v->line,
			 v->name, v->value);
		return EINVAL;
	}
	return 0;
}

/*
 * HTTPS as Asterisk's http.conf has it: tlsenable = yes, tlsbindaddr =
 * ADDR[:PORT] (default bindaddr, port 8089), tlscertfile (PEM; the key too
 * unless tlsprivatekey names it). The files are read at start.
 */
static int tls_conf(struct http_conf *hc, const struct conf_section *sec,
		    const struct conf_var *tls_addr, const char *addr, char *err,
		    size_t errsize)
{
	const struct conf_var *v = conf_var(sec, "tlsenable");
	char host[128];
	unsigned long port = 8089;
	const char *a = tls_addr ? tls_addr->value : addr, *colon;

	if (!hc->tls)
		return 0;
	if (!hc->tls_cert[0]) {
		snprintf(err, errsize, "%s:%u: tlsenable = yes needs tlscertfile (a PEM file "
			 "with the certificate, and the key unless tlsprivatekey names it)",
			 v->file, v->line);
		return EINVAL;
	}
	if (!hc->tls_key[0])
		snprintf(hc->tls_key, sizeof(hc->tls_key), "%s", hc->tls_cert);
	/* "1.2.3.4", "1.2.3.4:8089", "::1", "[::1]:8089" */
	if (a[0] == '[' && (colon = strstr(a, "]:"))) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - a - 1), a + 1);
		port = strtoul(colon + 2, NULL, 10);
	} else if ((colon = strchr(a, ':')) && !strchr(colon + 1, ':')) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - a), a);
		port = strtoul(colon + 1, NULL, 10);
	} else {
		snprintf(host, sizeof(host), "%s", a[0] == '[' ? a + 1 : a);
		host[strcspn(host, "]")] = '\0';
	}
	if (!port || port > 65535 || sip_sa_parse(host, (uint16_t)port, &hc->tls_bind)) {
		v = tls_addr ? tls_addr : v;
		snprintf(err, errsize, "%s:%u: tlsbindaddr must be ADDRESS or ADDRESS:PORT, "
			 "not '%s'", v->file, v->line, a);
		return EINVAL;
	}
	return 0;
}

static int http_general(struct http_conf *hc, const struct conf_section *sec, char *err,
			size_t errsize)
{
	const struct conf_var *v, *tls_addr = NULL;
	const char *addr = "127.0.0.1";
	unsigned long port = 8088;
	int e = 0;

	for (v = sec->vars; v && !e; v = v->next) {
		if (!strcasecmp(v->name, "enabled")) {
			e = bool_opt(v, &hc->enabled, err, errsize);
		} else if (!strcasecmp(v->name, "bindaddr")) {
			addr = v->value;
		} else if (!strcasecmp(v->name, "bindport")) {
			char *end;
			errno = 0;
			port = strtoul(v->value, &end, 10);
			if (errno || end == v->value || *end || !port || port > 65535) {
				snprintf(err, errsize, "%s:%u: bindport must be from 1 to 65535, "
					 "not '%s'", v->file, v->line, v->value);
				e = EINVAL;
			}
		} else if (!strcasecmp(v->name, "auth_username")) {
			e = str_opt(v, hc->user, sizeof(hc->user), err, errsize);
		} else if (!strcasecmp(v->name, "auth_password")) {
			e = str_opt(v, hc->pass, sizeof(hc->pass), err, errsize);
		} else if (!strcasecmp(v->name, "tlsenable")) {
			e = bool_opt(v, &hc->tls, err, errsize);
		} else if (!strcasecmp(v->name, "tlsbindaddr")) {
			tls_addr = v;
		} else if (!strcasecmp(v->name, "tlscertfile")) {
			e = str_opt(v, hc->tls_cert, sizeof(hc->tls_cert), err, errsize);
		} else if (!strcasecmp(v->name, "tlsprivatekey")) {
			e = str_opt(v, hc->tls_key, sizeof(hc->tls_key), err, errsize);
		} else if (listed(http_ignored, v->name)) {
			log_warn("%s:%u: http.conf option '%s' is not acted on by Tandem; ignored",
				 v->file, v->line, v->name);
		} else {
			log_warn("%s:%u: unknown option '%s' in http.conf [general] ignored",
				 v->file, v->line, v->name);
		}
	}
	if (e)
		return e;
	v = conf_var(sec, "bindaddr");
	if (sip_sa_parse(addr, (uint16_t)port, &hc->bind) || strchr(addr, ']') ||
	    (hc->bind.ss_family == AF_INET && strchr(addr, ':'))) {
		snprintf(err, errsize, "%s:%u: bindaddr must be an IPv4 or IPv6 address "
			 "(the port is bindport), not '%s'", v ? v->file : "http.conf",
			 v ? v->line : 0, addr);
		return EINVAL;
	}
	if ((e = tls_conf(hc, sec, tls_addr, addr, err, errsize)))
		return e;
	if (hc->enabled && (!hc->user[0] || !hc->pass[0])) {
		v = conf_var(sec, "enabled");
		snprintf(err, errsize, "%s:%u: enabled = yes needs auth_username and "
			 "auth_password: the status page is never served without a password",
			 v->file, v->line);
		return EINVAL;
	}
	return 0;
}

static int prom_general(struct http_conf *hc, const struct conf_section *sec, char *err,
			size_t errsize)
{
	const struct conf_var *v;
	int e = 0;

	for (v = sec->vars; v && !e; v = v->next) {
		if (!strcasecmp(v->name, "enabled")) {
			e = bool_opt(v, &hc->prom, err, errsize);
		} else if (!strcasecmp(v->name, "uri")) {
			const char *u = v->value;
			while (*u == '/')
				u++;
			if (!*u || strlen(u) + 2 > sizeof(hc->prom_uri) || strpbrk(u, " ?#")) {
				snprintf(err, errsize, "%s:%u: uri must be a path such as 'metrics', "
					 "not '%s'", v->file, v->line, v->value);
				e = EINVAL;
			} else {
				snprintf(hc->prom_uri, sizeof(hc->prom_uri), "/%s", u);
			}
		} else if (!strcasecmp(v->name, "auth_username")) {
			e = str_opt(v, hc->prom_user, sizeof(hc->prom_user), err, errsize);
		} else if (!strcasecmp(v->name, "auth_password")) {
			e = str_opt(v, hc->prom_pass, sizeof(hc->prom_pass), err, errsize);
		} else if (!listed(prom_known, v->name)) {
			log_warn("%s:%u: unknown option '%s' in prometheus.conf [general] ignored",
				 v->file, v->line, v->name);
		}
	}
	if (!e && !!hc->prom_user[0] != !!hc->prom_pass[0]) {
		snprintf(err, errsize, "%s:%u: prometheus.conf needs both auth_username and "
			 "auth_password, or neither", sec->file, sec->line);
		e = EINVAL;
	}
	return e;
}

static int load(struct conf **c, const char *confdir, const char *name, char *err,
		size_t errsize)
{
	char p[4096];
	struct stat st;

	*c = NULL;
	snprintf(p, sizeof(p), "%s/%s", confdir, name);
	return stat(p, &st) == 0 ? conf_load(c, confdir, name, err, errsize) : 0;
}

int http_conf_load(struct http_conf *hc, const char *confdir, char *err, size_t errsize)
{
	const struct conf_section *sec;
	struct conf *c;
	int e;

	memset(hc, 0, sizeof(*hc));
	snprintf(hc->prom_uri, sizeof(hc->prom_uri), "/metrics");
	sip_sa_parse("127.0.0.1", 8088, &hc->bind);
	if ((e = load(&c, confdir, "http.conf", err, errsize)))
		return e;
	if (c && (sec = conf_section(c, "general")))
		e = http_general(hc, sec, err, errsize);
	conf_free(c);
	if (!e && !(e = load(&c, confdir, "prometheus.conf", err, errsize))) {
		if (c && (sec = conf_section(c, "general")))
			e = prom_general(hc, sec, err, errsize);
		if (!e && c && hc->prom && !hc->enabled)
			log_warn("prometheus.conf: enabled, but http.conf [general] is not: "
				 "/metrics is not served");
		conf_free(c);
	}
	return e;
}
