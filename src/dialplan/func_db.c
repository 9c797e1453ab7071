/**
 * @file func_db.c  The dialplan side of Asterisk's DB (src/store/astdb.h),
 * as Asterisk's func_db.c, app_db.c and func_blacklist.c behave:
 *
 *   ${DB(family/key)}          the value ("" when missing); sets DB_RESULT
 *   Set(DB(family/key)=value)  writes it
 *   ${DB_EXISTS(family/key)}   1 (and DB_RESULT = the value) or 0
 *   ${DB_DELETE(family/key)}   deletes it, returns the value, sets DB_RESULT
 *   DBdel(family/key)          deletes it
 *   DBdeltree(family[/keytree]) deletes a family, or the keys under keytree
 *   ${BLACKLIST()}             1 when the caller id number (or name) is a
 *                              key of family "blacklist", whatever its value
 *
 * The argument splits at its first '/': DB(a/b/c) is family "a", key "b/c".
 * A missing key is not an error; a database that fails (logged by astdb.c)
 * reads as a missing key, so BLACKLIST() lets the call through.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "dialplan/dp_int.h"
#include "store/astdb.h"

/* Warn "FILE:LINE: ..." at the priority running on chan (if any). */
static void warn_at(struct dp_chan *chan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warn_at(struct dp_chan *chan, const char *fmt, ...)
{
	unsigned line = 0;
	const char *file = chan ? dp_chan_file(chan, &line) : "?";
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dp_warn("%s:%u: %s", file, line, msg);
}

static void warn_err(struct dp_chan *chan, const char *fn, const char *family,
		     const char *key, int e)
{
	if (e == ENODEV)
		warn_at(chan, "%s(%s/%s): the database is not open", fn, family, key);
	else
		warn_at(chan, "%s(%s/%s): %s (see the astdb error logged)", fn, family,
			key, strerror(e));
}

/* Split "family/key" in place; false (warned) when either part is empty. */
static bool split(struct dp_chan *chan, const char *fn, char *args, char **family,
		  char **key)
{
	char *slash = strchr(args, '/');

	if (!slash || slash == args || !slash[1]) {
		warn_at(chan, "%s requires an argument, %s(<family>/<key>)", fn, fn);
		return false;
	}
	*slash = '\0';
	*family = args;
	*key = slash + 1;
	return true;
}

/* Value of family/key into out; false when missing or failing. */
static bool get(struct dp_chan *chan, const char *fn, const char *family,
		const char *key, char *out, size_t size)
{
	char *v = NULL;
	int e = astdb_get(family, key, &v);

	if (e) {
		if (e == ENOENT)
			log_debug("%s: %s/%s not found in the database", fn, family, key);
		else
			warn_err(chan, fn, family, key, e);
		return false;
	}
	dp_strlcpy(out, v, size);
	free(v);
	return true;
}

static void result(struct dp_chan *chan, const char *value)
{
	if (chan)
		dp_chan_var_set(chan, "DB_RESULT", value);
}

/* ------------------------------------------------------------ functions */

static void db_read(struct dp_chan *chan, char *args, char *out, size_t size)
{
	char *family, *key;

	out[0] = '\0';
	if (split(chan, "DB", args, &family, &key) &&
	    get(chan, "DB", family, key, out, size))
		result(chan, out);
}

static int db_write(struct dp_chan *chan, char *args, const char *value)
{
	char *family, *key;
	int e;

	if (!split(chan, "DB", args, &family, &key))
		return EINVAL;
	e = astdb_put(family, key, value);
	if (e)
		warn_err(chan, "DB", family, key, e);
	return e;
}

static void db_exists(struct dp_chan *chan, char *args, char *out, size_t size)
{
	char *family, *key, *v = malloc(DP_BUF);

	dp_strlcpy(out, "0", size);
	if (!v)
		return;
	if (split(chan, "DB_EXISTS", args, &family, &key) &&
	    get(chan, "DB_EXISTS", family, key, v, DP_BUF)) {
		dp_strlcpy(out, "1", size);
		result(chan, v);
	}
	free(v);
}

static void db_delete(struct dp_chan *chan, char *args, char *out, size_t size)
{
	char *family, *key;
	int e;

	out[0] = '\0';
	if (!split(chan, "DB_DELETE", args, &family, &key))
		return;
	if (get(chan, "DB_DELETE", family, key, out, size) &&
	    (e = astdb_del(family, key)) && e != ENOENT)
		log_debug("DB_DELETE: %s/%s could not be deleted: %s", family, key,
			  strerror(e));
	result(chan, out);
}

static bool listed(const char *who)
{
	char *v = NULL;

	if (!who || !*who || astdb_get("blacklist", who, &v))
		return false;
	free(v);
	return true;
}

static void blacklist(struct dp_chan *chan, char *args, char *out, size_t size)
{
	(void)args;
	if (!chan) {
		dp_warn("BLACKLIST(): no channel: taken as 0");
		dp_strlcpy(out, "0", size);
		return;
	}
	dp_strlcpy(out, listed(chan->cid_num) || listed(chan->cid_name) ? "1" : "0", size);
}

/* ------------------------------------------------------------- applications */

static enum dp_app_ret app_dbdel(struct dp_chan *chan, const char *data)
{
	char *d = dp_strdup(data), *family, *key;
	int e;

	if (!d)
		return DP_APP_HANGUP;
	if (split(chan, "DBdel", d, &family, &key)) {
		log_debug("DBdel: family=%s, key=%s", family, key);
		if ((e = astdb_del(family, key)) && e != ENOENT)
			warn_err(chan, "DBdel", family, key, e);
	}
	free(d);
	return DP_APP_NEXT;
}

static enum dp_app_ret app_dbdeltree(struct dp_chan *chan, const char *data)
{
	char *d = dp_strdup(data), *keytree;
	size_t n = 0;
	int e;

	if (!d)
		return DP_APP_HANGUP;
	if ((keytree = strchr(d, '/')))
		*keytree++ = '\0';
	if (!*d) {
		warn_at(chan, "DBdeltree requires an argument, DBdeltree(<family>[/<keytree>])");
	} else if ((e = astdb_deltree(d, keytree, &n))) {
		warn_err(chan, "DBdeltree", d, keytree ? keytree : "", e);
	} else {
		log_debug("DBdeltree: %zu keys deleted under %s%s%s", n, d,
			  keytree ? "/" : "", keytree ? keytree : "");
	}
	free(d);
	return DP_APP_NEXT;
}

void dp_db_builtin(void)
{
	dp_func_register("DB", db_read, db_write);
	dp_func_register("DB_EXISTS", db_exists, NULL);
	dp_func_register("DB_DELETE", db_delete, NULL);
	dp_func_register("BLACKLIST", blacklist, NULL);
	dp_app_register("DBdel", app_dbdel);
	dp_app_register("DBdeltree", app_dbdeltree);
}
