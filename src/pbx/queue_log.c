/**
 * @file queue_log.c  DATADIR/queue_log, Asterisk's format (see queue_log.h
 * for the line layout and the durability policy).
 *
 * Event fields follow Asterisk's app_queue.c (docs.asterisk.org
 * "Queue Logs"): ENTERQUEUE url|cidnum|position, CONNECT
 * holdtime|peer uniqueid|ringtime, COMPLETECALLER/COMPLETEAGENT
 * holdtime|calltime|origposition, ABANDON/EXITWITHTIMEOUT/EXITEMPTY
 * position|origposition|waittime, RINGNOANSWER ms, ADDMEMBER/REMOVEMEMBER
 * (data "" or PAUSED), PAUSE/UNPAUSE reason, QUEUESTART at open.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "ha/turn.h"
#include "pbx/queue_log.h"

#define LINE_MAX_LEN 8192

static struct {
	int fd;
	char path[PATH_MAX];
	bool failing;           /* a write failed; logged once */
	unsigned long lost;     /* lines not written since */
	const time_t *clock;    /* tests */
	bool local;             /* QUEUESTART: this node only, not journaled */
} ql = { .fd = -1 };

const char *queue_log_path(void)
{
	return ql.fd >= 0 ? ql.path : "";
}

void queue_log_test_clock(const time_t *now)
{
	ql.clock = now;
}

unsigned long queue_log_lost(void)
{
	return ql.lost;
}

static int open_path(void)
{
	int fd = open(ql.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return errno;
	if (ql.fd >= 0)
		close(ql.fd);
	ql.fd = fd;
	return 0;
}

int queue_log_open(const char *datadir)
{
	int e;

	if ((size_t)snprintf(ql.path, sizeof(ql.path), "%s/queue_log", datadir) >=
	    sizeof(ql.path))
		return ENAMETOOLONG;
	e = open_path();
	if (e) {
		log_error("cannot open %s: %s; queue events are not logged", ql.path,
			  strerror(e));
		return e;
	}
	ql.failing = false;
	ql.lost = 0;
	ql.local = true;   /* this process's start, not a replicated event */
	queue_log_write("NONE", "NONE", "NONE", "QUEUESTART", NULL);
	ql.local = false;
	return 0;
}

int queue_log_reopen(void)
{
	int e;

	if (!ql.path[0])
		return EBADF;
	e = open_path();
	if (e)
		log_error("cannot reopen %s: %s", ql.path, strerror(e));
	return e;
}

void queue_log_close(void)
{
	if (ql.fd >= 0) {
		fsync(ql.fd);
		close(ql.fd);
	}
	ql.fd = -1;
	ql.path[0] = '\0';
}

/* Copy a name field (at most NAME_MAX_LEN bytes, so four always fit),
 * replacing what would break the line format. */
#define NAME_MAX_LEN 256
static size_t put_field(char *dst, size_t room, const char *s)
{
	size_t n = 0;

	if (room > NAME_MAX_LEN + 1)
		room = NAME_MAX_LEN + 1;
	if (!s || !*s)
		s = "NONE";
	for (; *s && n + 1 < room; s++)
		dst[n++] = (*s == '|' || *s == '\n' || *s == '\r') ? '_' : *s;
	dst[n] = '\0';
	return n;
}

/* One write(2); on a short write cut the file back to where it was. */
static void emit(const char *line, size_t len)
{
	ssize_t w;
	off_t before;

	if (ql.fd < 0)
		return;
	before = lseek(ql.fd, 0, SEEK_END);
	do
		w = write(ql.fd, line, len);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)len) {
		if (ql.failing)
			log_notice("%s is written again; %lu queue events were lost",
				   ql.path, ql.lost);
		ql.failing = false;
		ql.lost = 0;
		return;
	}
	if (w > 0 && before >= 0 && ftruncate(ql.fd, before) < 0) {
		/* nothing more to do: the next reader sees one torn line */
	}
	ql.lost++;
	if (!ql.failing)
		log_error("cannot write %s: %s; queue events are lost until it works "
			  "again", ql.path, w < 0 ? strerror(errno) : "short write");
	ql.failing = true;
}

void queue_log_write(const char *queue, const char *callid, const char *agent,
		     const char *event, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	size_t n;
	int k;
	va_list ap;

	if (ql.fd < 0)
		return;
	k = snprintf(line, sizeof(line), "%ld|", (long)(ql.clock ? *ql.clock : time(NULL)));
	n = (size_t)k;
	n += put_field(line + n, sizeof(line) - n, callid);
	line[n++] = '|';
	n += put_field(line + n, sizeof(line) - n, queue);
	line[n++] = '|';
	n += put_field(line + n, sizeof(line) - n, agent);
	line[n++] = '|';
	n += put_field(line + n, sizeof(line) - n, event);
	line[n++] = '|';
	line[n] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
		va_end(ap);
		if (k > 0)
			n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k : sizeof(line) - n - 2;
	}
	for (size_t i = 0; i < n; i++)   /* data from callers: keep one line */
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = '_';
	line[n++] = '\n';
	if (ql.local) {
		emit(line, n);
		return;
	}
	struct jnl_entry e = { .type = JNL_QUEUE_LOG };
	e.u.qlog.line = pl_of(line, n);
	ha_write(&e);   /* the write path: applied by queue_log_apply() */
}

int queue_log_apply(const struct jnl_queue_log *q)
{
	if (!q->line.l || q->line.p[q->line.l - 1] != '\n' ||
	    memchr(q->line.p, '\n', q->line.l - 1)) {
		log_warn("queue_log: a replicated line is not one line; not written");
		return EINVAL;
	}
	emit(q->line.p, q->line.l);
	return 0;
}

void queue_log_enterqueue(const char *queue, const char *callid, const char *url,
			  const char *cidnum, int pos)
{
	queue_log_write(queue, callid, "NONE", "ENTERQUEUE", "%s|%s|%d", url ? url : "",
			cidnum ? cidnum : "", pos);
}

void queue_log_connect(const char *queue, const char *callid, const char *agent,
		       long holdtime, const char *peer_uniqueid, long ringtime)
{
	queue_log_write(queue, callid, agent, "CONNECT", "%ld|%s|%ld", holdtime,
			peer_uniqueid ? peer_uniqueid : "", ringtime);
}

void queue_log_complete(const char *queue, const char *callid, const char *agent,
			int by_caller, long holdtime, long calltime, int origpos)
{
	queue_log_write(queue, callid, agent, by_caller ? "COMPLETECALLER" : "COMPLETEAGENT",
			"%ld|%ld|%d", holdtime, calltime, origpos);
}

void queue_log_exit(const char *queue, const char *callid, const char *event,
		    int pos, int origpos, long waittime)
{
	queue_log_write(queue, callid, "NONE", event, "%d|%d|%ld", pos, origpos, waittime);
}

void queue_log_exitwithkey(const char *queue, const char *callid, const char *key,
			   int pos, int origpos, long waittime)
{
	queue_log_write(queue, callid, "NONE", "EXITWITHKEY", "%s|%d|%d|%ld",
			key ? key : "", pos, origpos, waittime);
}

void queue_log_ringnoanswer(const char *queue, const char *callid, const char *agent,
			    long ring_ms)
{
	queue_log_write(queue, callid, agent, "RINGNOANSWER", "%ld", ring_ms);
}

void queue_log_member(const char *queue, const char *callid, const char *agent,
		      int added, int paused)
{
	queue_log_write(queue, callid, agent, added ? "ADDMEMBER" : "REMOVEMEMBER", "%s",
			added && paused ? "PAUSED" : "");
}

void queue_log_pause(const char *queue, const char *agent, int paused,
		     const char *reason)
{
	queue_log_write(queue, "NONE", agent, paused ? "PAUSE" : "UNPAUSE", "%s",
			reason ? reason : "");
}
