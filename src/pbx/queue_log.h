/**
 * @file queue_log.h  DATADIR/queue_log in Asterisk's format, so existing
 * queue statistics tools read it unchanged.
 *
 * One line per event:  EPOCH|CALLID|QUEUE|AGENT|EVENT|DATA1|DATA2|...
 * CALLID is the caller channel's uniqueid, or NONE / CLI / MANAGER;
 * AGENT is the member name (or interface), or NONE. Events with no data
 * end with one '|' as Asterisk's do ("...|QUEUESTART|").
 *
 * Durability: each line is one write(2) on an O_APPEND descriptor, so a
 * line is never interleaved with another and reaches the page cache at
 * once (a daemon crash loses nothing). There is no fsync per line (as in
 * Asterisk): a power cut may lose the last seconds of statistics, never
 * the call. A write that fails (full disk) is logged once, the partial
 * line is cut off again, and the lines lost meanwhile are counted and
 * reported when writing works again. Nothing here can stop a call.
 */
#ifndef TANDEM_PBX_QUEUE_LOG_H
#define TANDEM_PBX_QUEUE_LOG_H

#include <stddef.h>
#include <time.h>

/**
 * Open DATADIR/queue_log for appending (created 0640) and write
 * QUEUESTART. Returns 0 or errno (the caller may run without it: every
 * write is then a no-op).
 */
int  queue_log_open(const char *datadir);
/** Reopen the same path (after logrotate moved the file). 0 or errno. */
int  queue_log_reopen(void);
/** fsync and close. */
void queue_log_close(void);

/**
 * Append one line; fmt/... format the data fields (already joined with
 * '|'; NULL fmt: no data). NULL strings are written as NONE. '|' and line
 * breaks inside the names are replaced by '_' so a line always parses.
 */
void queue_log_write(const char *queue, const char *callid, const char *agent,
		     const char *event, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The events the queue writes, with Asterisk's data fields. */
/** ENTERQUEUE: url|callerid number|position. */
void queue_log_enterqueue(const char *queue, const char *callid, const char *url,
			  const char *cidnum, int pos);
/** CONNECT: holdtime|bridged channel uniqueid|ringtime (s). */
void queue_log_connect(const char *queue, const char *callid, const char *agent,
		       long holdtime, const char *peer_uniqueid, long ringtime);
/** COMPLETECALLER or COMPLETEAGENT: holdtime|calltime|origposition. */
void queue_log_complete(const char *queue, const char *callid, const char *agent,
			int by_caller, long holdtime, long calltime, int origpos);
/** ABANDON, EXITWITHTIMEOUT, EXITEMPTY: position|origposition|waittime. */
void queue_log_exit(const char *queue, const char *callid, const char *event,
		    int pos, int origpos, long waittime);
/** EXITWITHKEY: key|position|origposition|waittime. */
void queue_log_exitwithkey(const char *queue, const char *callid, const char *key,
			   int pos, int origpos, long waittime);
/** RINGNOANSWER: ringtime in milliseconds. */
void queue_log_ringnoanswer(const char *queue, const char *callid, const char *agent,
			    long ring_ms);
/** ADDMEMBER ("PAUSED" or "") / REMOVEMEMBER (""); callid NONE/CLI/uniqueid. */
void queue_log_member(const char *queue, const char *callid, const char *agent,
		      int added, int paused);
/** PAUSE / UNPAUSE with the reason ("" for none). */
void queue_log_pause(const char *queue, const char *agent, int paused,
		     const char *reason);

/** The file's path; "" when not open. */
const char *queue_log_path(void);
/** Lines not written since the last successful write (tests, status). */
unsigned long queue_log_lost(void);
/** Tests: take time from *now instead of the clock (NULL: the clock). */
void queue_log_test_clock(const time_t *now);

/* The write path (ha/turn.h): each line is a QUEUE_LOG entry; this
 * appends one, here or on the standby. 0, or EINVAL for a blob that is not
 * exactly one line. */
struct jnl_queue_log;
int queue_log_apply(const struct jnl_queue_log *q);

#endif
