/**
 * @file spawn.c  Commands in the background (spawn.h).
 *
 * posix_spawn (vfork-like, no copy of the daemon's memory) of a program
 * with stdin from a file, stdout/stderr to /dev/null or the daemon's, and
 * every other descriptor closed. Each child gets a pidfd the loop watches:
 * readable when it exits, then waitpid(pid, WNOHANG) reaps it. No SIGCHLD
 * handler, and only our own children are waited for. Where pidfd_open
 * fails (kernel < 5.3) one loop timer polls waitpid every REAP_MS. A
 * command still running at its deadline is killed (SIGKILL), and then
 * reaped as any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/spawn.h"

#define REAP_MS  200
#define MAX_KIDS 64

extern char **environ;

static struct kid {
	pid_t pid;               /* 0: free slot */
	int pidfd;               /* -1: polled by reap_tmr */
	unsigned kill_ms;
	struct tmr kill;
	char what[160];
} kids[MAX_KIDS];
static unsigned nkids;
static struct tmr reap_tmr;

static void kid_forget(struct kid *k)
{
	tmr_cancel(&k->kill);
	if (k->pidfd >= 0) {
		loop_fd_forget(k->pidfd);
		close(k->pidfd);
	}
	k->pidfd = -1;
	k->pid = 0;
	nkids--;
}

/* Reap k if it exited; true when it did (the slot is then free). */
static bool kid_reap(struct kid *k)
{
	int st = 0;
	pid_t p = waitpid(k->pid, &st, WNOHANG);

	if (p == 0)
		return false;
	if (p == k->pid && WIFEXITED(st) && WEXITSTATUS(st))
		log_warn("%s: the command exited %d (pid %ld)", k->what, WEXITSTATUS(st),
			 (long)k->pid);
	else if (p == k->pid && WIFSIGNALED(st))
		log_warn("%s: the command died of signal %d (pid %ld)", k->what,
			 WTERMSIG(st), (long)k->pid);
	kid_forget(k);
	return true;
}

static void exited_h(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	(void)kid_reap(arg);
}

static void reap_h(void *arg)
{
	bool polled = false;

	(void)arg;
	for (unsigned i = 0; i < MAX_KIDS; i++)
		if (kids[i].pid && kids[i].pidfd < 0 && !kid_reap(&kids[i]))
			polled = true;
	if (polled)
		tmr_start(&reap_tmr, REAP_MS, reap_h, NULL);
}

static void kill_h(void *arg)
{
	struct kid *k = arg;

	log_warn("%s: still running after %u ms: killed (pid %ld)", k->what, k->kill_ms,
		 (long)k->pid);
	kill(k->pid, SIGKILL);   /* the pidfd (or the poll) then reaps it */
}

static int file_actions(posix_spawn_file_actions_t *fa, const struct spawn_opts *o)
{
	int err = posix_spawn_file_actions_init(fa);

	if (err)
		return err;
	err = posix_spawn_file_actions_addopen(fa, 0, o->stdin_path ? o->stdin_path :
					       "/dev/null", O_RDONLY, 0);
	if (!err && !o->keep_output)
		err = posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
	if (!err && !o->keep_output)
		err = posix_spawn_file_actions_adddup2(fa, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* nothing of ours (log files, sockets) stays open in a child */
	if (!err)
		err = posix_spawn_file_actions_addclosefrom_np(fa, 3);
#endif
	if (err)
		posix_spawn_file_actions_destroy(fa);
	return err;
}

int spawn_run(const struct spawn_opts *o, pid_t *pidp)
{
	const char *what = o->what ? o->what : "command";
	posix_spawn_file_actions_t fa;
	struct kid *k = NULL;
	pid_t pid;
	int err;

	if (!o->path || !o->argv)
		return EINVAL;
	for (unsigned i = 0; i < MAX_KIDS && !k; i++)
		if (!kids[i].pid)
			k = &kids[i];
	if (!k) {
		log_warn("%s: %u commands still running: not started", what, nkids);
		return EAGAIN;
	}
	if ((err = file_actions(&fa, o))) {
		log_warn("%s: cannot run %s: %s", what, o->path, strerror(err));
		return err;
	}
	err = posix_spawn(&pid, o->path, &fa, NULL, o->argv, o->envp ? o->envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		log_warn("%s: cannot run %s: %s", what, o->path, strerror(err));
		return err;
	}
	*k = (struct kid){ .pid = pid, .pidfd = (int)syscall(SYS_pidfd_open, pid, 0),
			   .kill_ms = o->kill_ms ? o->kill_ms : SPAWN_MAX_SECS * 1000u };
	snprintf(k->what, sizeof(k->what), "%s", what);
	nkids++;
	tmr_init(&k->kill);
	if (k->pidfd >= 0 && loop_fd_listen(k->pidfd, EPOLLIN, exited_h, k)) {
		close(k->pidfd);
		k->pidfd = -1;
	}
	if (k->pidfd < 0 && !tmr_isset(&reap_tmr))
		tmr_start(&reap_tmr, REAP_MS, reap_h, NULL);
	tmr_start(&k->kill, k->kill_ms, kill_h, k);
	if (pidp)
		*pidp = pid;
	return 0;
}

int spawn_sh(const char *cmd, const char *stdin_path, const char *what)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	struct spawn_opts o = { .path = "/bin/sh", .argv = argv, .stdin_path = stdin_path,
				.what = what };
	int err;

	if (!cmd || !*cmd)
		return EINVAL;
	if ((err = spawn_run(&o, NULL)) && err != EAGAIN)
		log_warn("%s: the command was '%s'", what ? what : "command", cmd);
	return err;
}

unsigned spawn_running(void)
{
	return nkids;
}

void spawn_close(void)
{
	tmr_cancel(&reap_tmr);
	for (unsigned i = 0; i < MAX_KIDS; i++)
		if (kids[i].pid)
			kid_forget(&kids[i]);
	nkids = 0;
}
