/**
 * @file spawn.h  Commands run for the PBX (MixMonitor's command,
 * voicemail's mailcmd, the cluster's role hook) without blocking the
 * loop: posix_spawn, reaped through a pidfd the loop watches, killed
 * after a deadline, a non-zero exit logged.
 */
#ifndef TANDEM_SPAWN_H
#define TANDEM_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct spawn_opts {
	const char *path;          /**< program run with argv (no shell) */
	char *const *argv;         /**< argv[0] first, NULL-terminated */
	char *const *envp;         /**< NULL: the daemon's environment */
	const char *stdin_path;    /**< NULL: /dev/null */
	bool keep_output;          /**< stdout/stderr stay the daemon's, else /dev/null */
	unsigned kill_ms;          /**< SIGKILL after this; 0: SPAWN_MAX_SECS */
	const char *what;          /**< names it in the log */
};

#define SPAWN_MAX_SECS 600

/**
 * Start o->path with o->argv; every descriptor but 0-2 closed in the
 * child. The loop reaps it and logs a non-zero exit, a signal or a kill
 * at the deadline as "WHAT: ...". 0 (pid through *pid if not NULL) or an
 * errno (logged); EAGAIN when 64 children still run.
 */
int  spawn_run(const struct spawn_opts *o, pid_t *pid);
/**
 * Run cmd through /bin/sh -c, its standard input from stdin_path (NULL:
 * /dev/null), output to /dev/null. what names it in the log. 0 or an
 * errno from posix_spawn (logged).
 */
int  spawn_sh(const char *cmd, const char *stdin_path, const char *what);
/** Children still running. */
unsigned spawn_running(void);
/** Stop watching (shutdown, before loop_close); children left run on. */
void spawn_close(void);

#endif
