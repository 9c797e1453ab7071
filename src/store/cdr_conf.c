/**
 * @file cdr_conf.c  tandem.conf's [cdr] section (see cdr.h, docs/cdr.md).
 *
 * Option names follow the brief's set; Asterisk's cdr_mysql.conf names
 * hostname, dbname and sock are accepted as aliases, and usegmtime,
 * initiatedseconds and congestion mean what they mean in cdr.conf.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/cdr.h"

const char *const cdr_conf_options[] = {
	"enable", "backend", "host", "hostname", "port", "socket", "sock", "user",
	"password", "database", "dbname", "table", "connect_timeout", "usegmtime",
	"initiatedseconds", "congestion", NULL
};

void cdr_conf_defaults(struct cdr_conf *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->enable = true;
	cc->backend = CDR_BACKEND_SQLITE;
	cc->host = "localhost";
	cc->port = 3306;
	cc->password = "";
	cc->database = "asteriskcdrdb";
	cc->table = "cdr";
	cc->connect_timeout = 3;
}

/* The last of the options named a or b (an alias), or NULL. */
static const struct conf_var *opt(const struct conf_section *sec, const char *a,
				  const char *b)
{
	const struct conf_var *v, *last = NULL;

	for (v = sec->vars; v; v = v->next)
		if (!strcasecmp(v->name, a) || (b && !strcasecmp(v->name, b)))
			last = v;
	return last;
}

static int bad(const struct conf_var *v, char *err, size_t errsize, const char *what)
{
	snprintf(err, errsize, "%s:%u: [cdr] %s %s, not '%s'", v->file, v->line, v->name,
		 what, v->value);
	return EINVAL;
}

static int num(const struct conf_var *v, unsigned lo, unsigned hi, unsigned *out,
	       char *err, size_t errsize)
{
	char *e, what[64];
	unsigned long x;

	errno = 0;
	x = strtoul(v->value, &e, 10);
	if (errno || e == v->value || *e || x < lo || x > hi) {
		snprintf(what, sizeof(what), "must be a whole number from %u to %u", lo, hi);
		return bad(v, err, errsize, what);
	}
	*out = (unsigned)x;
	return 0;
}

static int flag(const struct conf_section *sec, const char *name, bool *out, char *err,
		size_t errsize)
{
	const struct conf_var *v = opt(sec, name, NULL);

	if (v && conf_bool(v->value, out))
		return bad(v, err, errsize, "must be yes or no");
	return 0;
}

static bool ident(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789_$");
	return n && n <= 64 && !s[n];
}

static int mariadb_opts(struct cdr_conf *cc, const struct conf_section *sec, char *err,
			size_t errsize)
{
	const struct conf_var *v;
	int e = 0;

	if ((v = opt(sec, "host", "hostname")))
		cc->host = v->value;
	if ((v = opt(sec, "socket", "sock")))
		cc->socket = v->value[0] ? v->value : NULL;
	if ((v = opt(sec, "user", NULL)))
		cc->user = v->value;
	if ((v = opt(sec, "password", NULL)))
		cc->password = v->value;
	if ((v = opt(sec, "database", "dbname"))) {
		if (!ident(v->value))
			return bad(v, err, errsize, "must be a database name (letters, "
				   "digits, _ and $, at most 64)");
		cc->database = v->value;
	}
	if ((v = opt(sec, "table", NULL))) {
		if (!ident(v->value))
			return bad(v, err, errsize, "must be a table name (letters, digits, "
				   "_ and $, at most 64)");
		cc->table = v->value;
	}
	if ((v = opt(sec, "port", NULL)))
		e = num(v, 1, 65535, &cc->port, err, errsize);
	if (!e && (v = opt(sec, "connect_timeout", NULL)))
		e = num(v, 1, 60, &cc->connect_timeout, err, errsize);
	return e;
}

int cdr_conf_load(struct cdr_conf *cc, const struct conf *raw, char *err, size_t errsize)
{
	const struct conf_section *sec;
	const struct conf_var *v;
	int e;

	cdr_conf_defaults(cc);
	if (!raw || !(sec = conf_section(raw, "cdr")))
		return 0;
	if ((e = flag(sec, "enable", &cc->enable, err, errsize)) ||
	    (e = flag(sec, "usegmtime", &cc->usegmtime, err, errsize)) ||
	    (e = flag(sec, "initiatedseconds", &cc->initiatedseconds, err, errsize)) ||
	    (e = flag(sec, "congestion", &cc->congestion, err, errsize)))
		return e;
	if ((v = opt(sec, "backend", NULL))) {
		if (!strcasecmp(v->value, "sqlite") || !strcasecmp(v->value, "sqlite3"))
			cc->backend = CDR_BACKEND_SQLITE;
		else if (!strcasecmp(v->value, "mariadb") || !strcasecmp(v->value, "mysql"))
			cc->backend = CDR_BACKEND_MARIADB;
		else
			return bad(v, err, errsize, "must be sqlite or mariadb");
	}
	if ((e = mariadb_opts(cc, sec, err, errsize)))
		return e;
	if (cc->backend == CDR_BACKEND_MARIADB && (!cc->user || !cc->user[0])) {
		snprintf(err, errsize, "%s:%u: [cdr] backend = mariadb needs user (and "
			 "password, database, host or socket)", v->file, v->line);
		return EINVAL;
	}
	return 0;
}
