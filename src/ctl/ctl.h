/**
 * @file ctl.h  The control socket DATADIR/tandemd.ctl.
 *
 * Protocol: the client sends one JSON object on one line,
 *   {"cmd":"registrations","args":["..."]}
 * and reads one JSON object on one line,
 *   {"ok":true,"data":{...}}  or  {"ok":false,"error":"message"}.
 * The socket is mode 0600: only the daemon's user (and root) may use it.
 */
#ifndef TANDEM_CTL_H
#define TANDEM_CTL_H

#include <jansson.h>
#include <stddef.h>

/** A command: return data (new reference) or NULL with err filled. */
typedef json_t *(ctl_cmd_h)(json_t *args, char *err, size_t errsize);

int  ctl_init(const char *path);
void ctl_close(void);
int  ctl_register(const char *name, ctl_cmd_h *h);
/** Run command name as tandemctl would (args: a JSON array or NULL); the
 * status page and /metrics answer with the same data (src/web/). */
json_t *ctl_call(const char *name, json_t *args, char *err, size_t errsize);

#endif
