/** @file commands.h  tandemctl's commands, served on the control socket. */
#ifndef TANDEM_CTL_COMMANDS_H
#define TANDEM_CTL_COMMANDS_H

#include <stddef.h>
#include <time.h>

int ctl_commands_init(void);

/* provided by main.c */
int tandemd_reload(char *err, size_t errsize);
const char *tandemd_nodename(void);
time_t tandemd_started(void);

#endif
