/**
 * @file log.h  Logging: levels, the foreground/stderr or file sink, and the
 * security log that fail2ban reads (docs/fail2ban.md).
 */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_NOTICE, LOG_LVL_INFO, LOG_LVL_DEBUG };

/** Open the log: path NULL logs to stderr. Returns 0 or errno. */
int log_init(const char *path, enum log_level level);
/** Open (or reopen after rotation) the security log at path; NULL = off. */
int log_security_open(const char *path);
void log_close(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/** How many messages of level lvl were logged since start. */
unsigned long log_count(enum log_level lvl);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...)  log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)  do { if (log_get_level() >= LOG_LVL_DEBUG) \
				log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

/**
 * One security event, one line, fixed format (also copied to the main log):
 *   TIMESTAMP tandemd[PID]: SECURITY event=EVENT src=ADDR:PORT user="USER" reason="REASON"
 * EVENT is a single token (auth_failed, request_rejected, ...); user and
 * reason have '"' and control characters replaced so a hostile peer cannot
 * forge a line.
 */
void log_security(const char *event, const char *src, const char *user,
		  const char *reason);
/** Security events logged since start: "auth_failed" or "request_rejected". */
unsigned long log_security_count(const char *event);

#endif
