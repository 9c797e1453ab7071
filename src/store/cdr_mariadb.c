/**
 * @file cdr_mariadb.c  The MariaDB writer thread (see cdr_int.h).
 *
 * libmariadb's API blocks, so it runs here and never on the loop thread.
 * The loop hands over spooled rows (cdr_writer_push); the thread writes
 * them in batches with one multi-row
 *
 *   INSERT IGNORE INTO `table` (columns...) VALUES (...), (...)
 *
 * (atomic under autocommit; IGNORE on the UNIQUE uniqueid makes a retry
 * after a lost reply a no-op, so no record is ever written twice), then
 * reports the rows' spool ids through an eventfd; the loop deletes them
 * from the spool. A batch that fails stays at the head of the queue and
 * is retried with backoff (0.5 s doubling to 8 s); nothing is dropped.
 *
 * On connecting: CREATE TABLE IF NOT EXISTS with the contract's columns
 * (plus start, answer, end), then the columns the table really has are
 * read so an existing table of Asterisk's classic layout also works
 * (columns it lacks are not written, as cdr_adaptive_odbc does).
 *
 * Link state: IDLE (nothing sent yet) -> UP | DOWN | REFUSED, then between
 * those three as inserts succeed or fail. Only the
 * loop thread logs: it reads the state with cdr_writer_take().
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "store/cdr_int.h"

#define BATCH        100
#define BACKOFF_MIN  500     /* ms */
#define BACKOFF_MAX  8000
#define IO_TIMEOUT   5       /* s, read and write */

enum col_kind { COL_TEXT, COL_INT, COL_TIME };

static const struct {
	const char *name;
	enum col_kind kind;
	size_t off;
} cols[] = {
#define TXT(f) { #f, COL_TEXT, offsetof(struct cdr_row, f) }
	{ "calldate", COL_TIME, offsetof(struct cdr_row, calldate) },
	TXT(clid), TXT(src), TXT(dst), TXT(dcontext), TXT(channel), TXT(dstchannel),
	TXT(lastapp), TXT(lastdata),
	{ "duration", COL_INT, offsetof(struct cdr_row, duration) },
	{ "billsec", COL_INT, offsetof(struct cdr_row, billsec) },
	TXT(disposition), TXT(amaflags), TXT(accountcode), TXT(uniqueid),
	TXT(userfield), TXT(linkedid), TXT(peeraccount),
	{ "sequence", COL_INT, offsetof(struct cdr_row, sequence) },
	{ "start", COL_TIME, offsetof(struct cdr_row, start) },
	{ "answer", COL_TIME, offsetof(struct cdr_row, answer) },
	{ "end", COL_TIME, offsetof(struct cdr_row, end) },
#undef TXT
};
#define NCOLS (sizeof(cols) / sizeof(*cols))
#define UNIQUEID_COL 14

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS `%s` ("
	" `calldate` DATETIME NOT NULL,"
	" `clid` VARCHAR(80) NOT NULL DEFAULT '', `src` VARCHAR(80) NOT NULL DEFAULT '',"
	" `dst` VARCHAR(80) NOT NULL DEFAULT '', `dcontext` VARCHAR(80) NOT NULL DEFAULT '',"
	" `channel` VARCHAR(80) NOT NULL DEFAULT '',"
	" `dstchannel` VARCHAR(80) NOT NULL DEFAULT '',"
	" `lastapp` VARCHAR(80) NOT NULL DEFAULT '', `lastdata` VARCHAR(255) NOT NULL DEFAULT '',"
	" `duration` INT NOT NULL DEFAULT 0, `billsec` INT NOT NULL DEFAULT 0,"
	" `disposition` VARCHAR(45) NOT NULL DEFAULT '',"
	" `amaflags` VARCHAR(45) NOT NULL DEFAULT '',"
	" `accountcode` VARCHAR(80) NOT NULL DEFAULT '', `uniqueid` VARCHAR(150) NOT NULL,"
	" `userfield` VARCHAR(255) NOT NULL DEFAULT '',"
	" `linkedid` VARCHAR(150) NOT NULL DEFAULT '',"
	" `peeraccount` VARCHAR(80) NOT NULL DEFAULT '',"
	" `sequence` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" `start` DATETIME NULL, `answer` DATETIME NULL, `end` DATETIME NULL,"
	" UNIQUE KEY `uniqueid` (`uniqueid`), KEY `calldate` (`calldate`),"
	" KEY `dst` (`dst`), KEY `accountcode` (`accountcode`)"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

struct cdr_writer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd;
	int sock;                 /* the connection's socket, -1: none */
	bool stop, finished, abandoned;
	/* loop -> writer */
	struct cdr_row *in;
	size_t nin, capin;
	/* writer -> loop */
	int64_t *done;
	size_t ndone, capdone;
	struct cdr_link link;
	bool changed;
	/* the thread's own */
	MYSQL *my;
	bool ready;               /* connected, table checked */
	bool has[NCOLS];
	struct cdr_row *batch;
	char *q;
	size_t qlen, qcap;
	struct cdr_conf cc;
	char *host, *socket, *user, *password, *database, *table;
};

const char *cdr_link_state_name(enum cdr_link_state s)
{
	switch (s) {
	case CDR_LINK_IDLE:    return "idle";
	case CDR_LINK_UP:      return "up";
	case CDR_LINK_DOWN:    return "down";
	case CDR_LINK_REFUSED: return "refused";
	}
	return "?";
}

void cdr_writer_describe(const struct cdr_conf *cc, char *buf, size_t size)
{
	if (cc->socket)
		snprintf(buf, size, "socket %s %s.%s", cc->socket, cc->database, cc->table);
	else
		snprintf(buf, size, "%s:%u %s.%s", cc->host, cc->port, cc->database,
			 cc->table);
}

/* ------------------------------------------------------ shared state */

/* With w->mu held. */
static void notify(struct cdr_writer *w)
{
	uint64_t one = 1;

	if (!w->abandoned && write(w->efd, &one, sizeof(one)) < 0) {
		/* counter full: the loop has a wakeup pending anyway */
	}
}

static void set_link(struct cdr_writer *w, enum cdr_link_state st, const char *error)
{
	pthread_mutex_lock(&w->mu);
	if (st != w->link.state || (st == CDR_LINK_REFUSED && strcmp(error, w->link.error))) {
		w->link.state = st;
		w->changed = true;
		notify(w);
	}
	snprintf(w->link.error, sizeof(w->link.error), "%s", error);
	pthread_mutex_unlock(&w->mu);
}

static void set_sock(struct cdr_writer *w, int fd)
{
	pthread_mutex_lock(&w->mu);
	w->sock = fd;
	pthread_mutex_unlock(&w->mu);
}

/* ------------------------------------------------------ the connection */

static void disconnect(struct cdr_writer *w)
{
	if (!w->my)
		return;
	set_sock(w, -1);
	mysql_close(w->my);
	w->my = NULL;
	w->ready = false;
}

/* A client-side error or a server going away: reconnect, not refused. */
static bool conn_error(unsigned e)
{
	return e >= 2000 || e == ER_SERVER_SHUTDOWN || e == ER_CONNECTION_KILLED;
}

static int fail(struct cdr_writer *w)
{
	unsigned e = mysql_errno(w->my);
	char msg[256];

	snprintf(msg, sizeof(msg), "%s (%u)", mysql_error(w->my), e);
	if (conn_error(e)) {
		disconnect(w);
		set_link(w, CDR_LINK_DOWN, msg);
	} else {
		w->ready = false;   /* read the table again before the retry */
		set_link(w, CDR_LINK_REFUSED, msg);
	}
	return EIO;
}

/* Which of our columns the table has, and whether uniqueid is UNIQUE. */
static int read_columns(struct cdr_writer *w)
{
	char sql[512];
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t i;
	bool unique = false;

	memset(w->has, 0, sizeof(w->has));
	snprintf(sql, sizeof(sql), "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
		 "WHERE TABLE_SCHEMA=DATABASE() AND TABLE_NAME='%s'", w->table);
	if (mysql_query(w->my, sql) || !(res = mysql_store_result(w->my)))
		return fail(w);
	while ((row = mysql_fetch_row(res)))
		for (i = 0; i < NCOLS; i++)
			if (row[0] && !strcasecmp(row[0], cols[i].name))
				w->has[i] = true;
	mysql_free_result(res);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM information_schema.STATISTICS "
		 "WHERE TABLE_SCHEMA=DATABASE() AND TABLE_NAME='%s' AND "
		 "COLUMN_NAME='uniqueid' AND NON_UNIQUE=0", w->table);
	if (mysql_query(w->my, sql) || !(res = mysql_store_result(w->my)))
		return fail(w);
	if ((row = mysql_fetch_row(res)) && row[0] && atoi(row[0]) > 0)
		unique = true;
	mysql_free_result(res);
	pthread_mutex_lock(&w->mu);
	w->link.nounique = !unique;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static int connect_db(struct cdr_writer *w)
{
	unsigned ct = w->cc.connect_timeout, io = IO_TIMEOUT;
	char msg[256];

	w->my = mysql_init(NULL);
	if (!w->my) {
		set_link(w, CDR_LINK_DOWN, "out of memory");
		return ENOMEM;
	}
	mysql_optionsv(w->my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_optionsv(w->my, MYSQL_OPT_READ_TIMEOUT, &io);
	mysql_optionsv(w->my, MYSQL_OPT_WRITE_TIMEOUT, &io);
	mysql_optionsv(w->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(w->my, w->socket ? NULL : w->host, w->user, w->password,
				w->database, w->socket ? 0 : w->cc.port, w->socket, 0)) {
		/* whatever the reason (gone, access denied): down, retried */
		snprintf(msg, sizeof(msg), "%s (%u)", mysql_error(w->my), mysql_errno(w->my));
		mysql_close(w->my);
		w->my = NULL;
		set_link(w, CDR_LINK_DOWN, msg);
		return EIO;
	}
	set_sock(w, (int)mysql_get_socket(w->my));
	return 0;
}

/* Connected, the table exists (created if missing) and its columns known. */
static int prepare(struct cdr_writer *w)
{
	char sql[sizeof(create_sql) + 80];
	size_t i;
	bool any = false;

	if (w->ready)
		return 0;
	if (!w->my && connect_db(w))
		return EIO;
	if (read_columns(w))
		return EIO;
	for (i = 0; i < NCOLS; i++)
		any |= w->has[i];
	if (!any) {
		snprintf(sql, sizeof(sql), create_sql, w->table);
		if (mysql_query(w->my, sql))
			return fail(w);
		if (read_columns(w))
			return EIO;
	}
	if (!w->has[UNIQUEID_COL]) {
		set_link(w, CDR_LINK_REFUSED, "the table has no uniqueid column");
		return EIO;
	}
	w->ready = true;
	return 0;
}

/* ----------------------------------------------------------- inserting */

static int q_grow(struct cdr_writer *w, size_t more)
{
	if (w->qlen + more + 1 <= w->qcap)
		return 0;
	size_t n = (w->qlen + more + 1) * 2;
	char *p = realloc(w->q, n);
	if (!p)
		return ENOMEM;
	w->q = p;
	w->qcap = n;
	return 0;
}

static int q_add(struct cdr_writer *w, const char *s)
{
	size_t n = strlen(s);

	if (q_grow(w, n))
		return ENOMEM;
	memcpy(w->q + w->qlen, s, n + 1);
	w->qlen += n;
	return 0;
}

static int q_str(struct cdr_writer *w, const char *s)
{
	size_t n = strlen(s);

	if (q_grow(w, 2 * n + 2))
		return ENOMEM;
	w->q[w->qlen++] = '\'';
	w->qlen += mysql_real_escape_string(w->my, w->q + w->qlen, s, (unsigned long)n);
	w->q[w->qlen++] = '\'';
	w->q[w->qlen] = '\0';
	return 0;
}

static int q_value(struct cdr_writer *w, const struct cdr_row *r, size_t i)
{
	const char *p = (const char *)r + cols[i].off;
	char num[32];

	switch (cols[i].kind) {
	case COL_INT:
		snprintf(num, sizeof(num), "%" PRId64, *(const int64_t *)(const void *)p);
		return q_add(w, num);
	case COL_TIME:
		return p[0] ? q_str(w, p) : q_add(w, "NULL");
	case COL_TEXT:
		break;
	}
	return q_str(w, p);
}

static int build(struct cdr_writer *w, const struct cdr_row *rows, size_t n)
{
	size_t i, k;
	bool first = true;
	int e;

	w->qlen = 0;
	e = q_add(w, "INSERT IGNORE INTO `") || q_add(w, w->table) || q_add(w, "` (");
	for (i = 0; !e && i < NCOLS; i++) {
		if (!w->has[i])
			continue;
		e = (!first && q_add(w, ",")) || q_add(w, "`") || q_add(w, cols[i].name) ||
		    q_add(w, "`");
		first = false;
	}
	e = e || q_add(w, ") VALUES ");
	for (k = 0; !e && k < n; k++) {
		e = q_add(w, k ? ",(" : "(");
		first = true;
		for (i = 0; !e && i < NCOLS; i++) {
			if (!w->has[i])
				continue;
			e = (!first && q_add(w, ",")) || q_value(w, &rows[k], i);
			first = false;
		}
		e = e || q_add(w, ")");
	}
	return e ? ENOMEM : 0;
}

static int deliver(struct cdr_writer *w, const struct cdr_row *rows, size_t n)
{
	if (prepare(w))
		return EIO;
	if (build(w, rows, n)) {
		set_link(w, CDR_LINK_REFUSED, "out of memory building the INSERT");
		return ENOMEM;
	}
	if (mysql_real_query(w->my, w->q, (unsigned long)w->qlen))
		return fail(w);
	set_link(w, CDR_LINK_UP, "");
	return 0;
}

/* ------------------------------------------------------------- thread */

static void writer_free(struct cdr_writer *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->in);
	free(w->done);
	free(w->batch);
	free(w->q);
	free(w->host);
	free(w->socket);
	free(w->user);
	free(w->password);
	free(w->database);
	free(w->table);
	free(w);
}

/* Sleep ms unless told to stop; with w->mu held. */
static void nap(struct cdr_writer *w, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
		;
}

static int done_add(struct cdr_writer *w, const struct cdr_row *rows, size_t n)
{
	size_t i;

	if (w->ndone + n > w->capdone) {
		size_t c = (w->ndone + n) * 2;
		int64_t *p = realloc(w->done, c * sizeof(*p));
		if (!p)
			return ENOMEM;
		w->done = p;
		w->capdone = c;
	}
	for (i = 0; i < n; i++)
		w->done[w->ndone++] = rows[i].spool_id;
	return 0;
}

static void *writer_main(void *arg)
{
	struct cdr_writer *w = arg;
	unsigned backoff = 0;
	bool ab;

	mysql_thread_init();
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		if (!w->nin) {
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		size_t n = w->nin < BATCH ? w->nin : BATCH;
		memcpy(w->batch, w->in, n * sizeof(*w->in));
		pthread_mutex_unlock(&w->mu);
		int e = deliver(w, w->batch, n);
		pthread_mutex_lock(&w->mu);
		/* delivered but no memory to report it: the rows stay spooled and
		 * are sent again later, which INSERT IGNORE makes harmless */
		if (!e && !done_add(w, w->batch, n)) {
			w->nin -= n;
			memmove(w->in, w->in + n, w->nin * sizeof(*w->in));
			notify(w);
			backoff = 0;
			continue;
		}
		backoff = backoff ? (backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2)
				  : BACKOFF_MIN;
		nap(w, backoff);
	}
	pthread_mutex_unlock(&w->mu);
	disconnect(w);
	mysql_thread_end();
	pthread_mutex_lock(&w->mu);
	w->finished = true;
	ab = w->abandoned;
	pthread_mutex_unlock(&w->mu);
	if (ab)
		writer_free(w);
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int cdr_writer_start(struct cdr_writer **wp, const struct cdr_conf *cc)
{
	static bool lib_ready;
	pthread_condattr_t ca;
	struct cdr_writer *w;
	int e;

	if (!lib_ready) {
		if (mysql_library_init(0, NULL, NULL))
			return EIO;
		lib_ready = true;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return ENOMEM;
	w->cc = *cc;
	w->host = dup_or_null(cc->host);
	w->socket = dup_or_null(cc->socket);
	w->user = dup_or_null(cc->user);
	w->password = dup_or_null(cc->password ? cc->password : "");
	w->database = dup_or_null(cc->database);
	w->table = dup_or_null(cc->table);
	w->batch = calloc(BATCH, sizeof(*w->batch));
	w->sock = -1;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (w->efd < 0 || !w->password || !w->user || !w->database || !w->table ||
	    !w->batch || (cc->host && !w->host) || (cc->socket && !w->socket)) {
		e = w->efd < 0 ? errno : ENOMEM;
		goto out;
	}
	if ((e = pthread_create(&w->th, NULL, writer_main, w)))
		goto out;
	pthread_setname_np(w->th, "tandem-cdrdb");   /* ps -L, /proc/PID/task/N/comm */
	*wp = w;
	return 0;
out:
	if (w->efd >= 0)
		close(w->efd);
	writer_free(w);
	return e;
}

int cdr_writer_fd(const struct cdr_writer *w)
{
	return w->efd;
}

int cdr_writer_push(struct cdr_writer *w, const struct cdr_row *rows, size_t n)
{
	int e = 0;

	pthread_mutex_lock(&w->mu);
	if (w->nin + n > w->capin) {
		size_t c = (w->nin + n) * 2;
		struct cdr_row *p = realloc(w->in, c * sizeof(*p));
		if (!p) {
			e = ENOMEM;
			goto out;
		}
		w->in = p;
		w->capin = c;
	}
	memcpy(w->in + w->nin, rows, n * sizeof(*rows));
	w->nin += n;
	pthread_cond_signal(&w->cv);
out:
	pthread_mutex_unlock(&w->mu);
	return e;
}

void cdr_writer_take(struct cdr_writer *w, int64_t **ids, size_t *n,
		     struct cdr_link *link, bool *changed)
{
	uint64_t cnt;

	if (read(w->efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing new since the last read */
	}
	pthread_mutex_lock(&w->mu);
	*ids = w->done;
	*n = w->ndone;
	w->done = NULL;
	w->ndone = w->capdone = 0;
	*link = w->link;
	*changed = w->changed;
	w->changed = false;
	pthread_mutex_unlock(&w->mu);
}

static bool join_within(struct cdr_writer *w, unsigned ms)
{
	struct timespec ts;

	/* monotonic: a wall clock that jumps neither shortens nor stretches it */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return pthread_clockjoin_np(w->th, NULL, CLOCK_MONOTONIC, &ts) == 0;
}

void cdr_writer_stop(struct cdr_writer *w, unsigned grace_ms, int64_t **ids, size_t *n)
{
	bool joined;

	if (ids) {
		*ids = NULL;
		*n = 0;
	}
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	joined = join_within(w, grace_ms);
	if (!joined) {
		pthread_mutex_lock(&w->mu);
		if (w->sock >= 0)
			shutdown(w->sock, SHUT_RDWR);   /* unblocks a read or write */
		pthread_mutex_unlock(&w->mu);
		joined = join_within(w, grace_ms);
	}
	if (!joined) {
		pthread_mutex_lock(&w->mu);
		if (w->finished) {
			pthread_mutex_unlock(&w->mu);
			pthread_join(w->th, NULL);
			joined = true;
		} else {
			w->abandoned = true;   /* it frees itself and never writes efd */
			pthread_mutex_unlock(&w->mu);
			pthread_detach(w->th);
		}
	}
	close(w->efd);
	if (joined && ids) {   /* the last batch's ids: the thread is gone */
		*ids = w->done;
		*n = w->ndone;
		w->done = NULL;
	}
	if (joined)
		writer_free(w);
}
