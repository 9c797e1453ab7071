/**
 * @file spawn.h  Commands run for the PBX (MixMonitor's command,
 * voicemail's mailcmd) without blocking the loop: posix_spawn of
 * /bin/sh -c, reaped by a loop timer, a non-zero exit logged.
 */
#ifndef TANDEM_SPAWN_H
#define TANDEM_SPAWN_H

/**
 * Run cmd through /bin/sh -c, its standard input from stdin_path (NULL:
 * /dev/null), output to /dev/null. what names it in the log. 0 or an
 * errno from posix_spawn (logged).
 */
int  spawn_sh(const char *cmd, const char *stdin_path, const char *what);
/** Children still running. */
unsigned spawn_running(void);
/** Stop reaping (shutdown); children left run on. */
void spawn_close(void);

#endif
