/**
 * @file spawn.c  Commands in the background (spawn.h).
 *
 * posix_spawn (vfork-like, no copy of the daemon's memory) of /bin/sh -c
 * CMD with stdin from a file, stdout/stderr to /dev/null and every other
 * descriptor closed. Children
 * are reaped by one loop timer polling waitpid(pid, WNOHANG) every
 * REAP_MS while any run: no SIGCHLD handler, and only our own children
 * are waited for. A command running longer than MAX_SECS is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/spawn.h"

#define REAP_MS  200
#define MAX_KIDS 64
#define MAX_SECS 600

extern char **environ;

static struct kid {
	pid_t pid;
	uint64_t start;
	char what[48];
} kids[MAX_KIDS];
static unsigned nkids;
static struct tmr reap_tmr;

static void reap(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < nkids;) {
		struct kid *k = &kids[i];
		int st;
		pid_t p = waitpid(k->pid, &st, WNOHANG);

		if (p == 0) {
			if (loop_now() - k->start > MAX_SECS * 1000ull) {
				log_warn("%s: still running after %d s: killed", k->what, MAX_SECS);
				kill(k->pid, SIGKILL);
			}
			i++;
			continue;
		}
		if (p == k->pid && WIFEXITED(st) && WEXITSTATUS(st))
			log_warn("%s: the command exited %d", k->what, WEXITSTATUS(st));
		else if (p == k->pid && WIFSIGNALED(st))
			log_warn("%s: the command died of signal %d", k->what, WTERMSIG(st));
		kids[i] = kids[--nkids];
	}
	if (nkids)
		tmr_start(&reap_tmr, REAP_MS, reap, NULL);
}

int spawn_sh(const char *cmd, const char *stdin_path, const char *what)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	pid_t pid;
	int err;

	if (!cmd || !*cmd)
		return EINVAL;
	if (nkids == MAX_KIDS) {
		log_warn("%s: %u commands still running: not started", what, nkids);
		return EAGAIN;
	}
	if ((err = posix_spawn_file_actions_init(&fa)))
		return err;
	err = posix_spawn_file_actions_addopen(&fa, 0, stdin_path ? stdin_path : "/dev/null",
					       O_RDONLY, 0);
	if (!err)
		err = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* nothing of ours (log files, sockets) stays open in a mailer */
	if (!err)
		err = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	if (!err)
		err = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		log_warn("%s: cannot run /bin/sh -c '%s': %s", what, cmd, strerror(err));
		return err;
	}
	kids[nkids] = (struct kid){ .pid = pid, .start = loop_now() };
	strncpy(kids[nkids].what, what ? what : "command", sizeof(kids[nkids].what) - 1);
	nkids++;
	if (!tmr_isset(&reap_tmr))
		tmr_start(&reap_tmr, REAP_MS, reap, NULL);
	return 0;
}

unsigned spawn_running(void)
{
	return nkids;
}

void spawn_close(void)
{
	tmr_cancel(&reap_tmr);
	nkids = 0;
}
