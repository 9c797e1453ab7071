/**
 * @file file.h  Files in the journal (docs/design/cluster.md 2.2, 2.3):
 * the serving node records the files tandemd writes (voicemail messages
 * and greetings, recordings) as FILE_BEGIN/CHUNK/END, FILE_DEL and
 * FILE_RENAME entries; the standby applies them beneath its own area
 * roots (CONFDIR, DATADIR/voicemail, monitor, sounds, provisioning).
 *
 * A put is queued and sent from the end of the following turns, at most
 * HA_FILE_TURN_BYTES of file data a turn (a turn must fit one replication
 * frame), and at most HA_FILE_INFLIGHT such turns ahead of the standby's
 * ACK, so a large file spans turns and confirmations queued behind it
 * wait for 2 MiB at most; deletes and renames queue behind
 * the puts before them, so the standby sees the changes in their order.
 * Without a journal (single node) or on a node that does not serve, every
 * call is a no-op returning 0.
 *
 * Apply (any mode but LOCAL): relpath is opened beneath the area's root
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), written as
 * relpath.tandem-part and renamed over relpath on FILE_END once its
 * sha256 matches; a mismatch or a write error (a full disk) removes the
 * part file and fails the turn, which drops the link with a log line
 * naming the file.
 */
#ifndef TANDEM_HA_FILE_H
#define TANDEM_HA_FILE_H

#include <stdbool.h>

#include "ha/jnl_codec.h"
#include "ha/turn.h"
#include "store/store.h"

#define HA_FILE_TURN_BYTES (512u * 1024)
#define HA_FILE_INFLIGHT   4u   /* such turns not yet ACKed by the standby */

/** Where the areas live: CONFDIR and DATADIR (DATADIR/<area> created). */
int ha_file_init(const char *confdir, const char *datadir);
void ha_file_close(void);
/** Called after a CONF_APPLY was applied on the standby (a reload). */
void ha_file_set_reload(void (*h)(void));
/** Run that reload on this node after this turn (a merge changed CONFDIR). */
void ha_file_reload_soon(void);

/** Record the finished file at path as area/relpath. 0 or errno (logged). */
int ha_file_put(enum jnl_area area, const char *relpath, const char *path);
int ha_file_del(enum jnl_area area, const char *relpath);
int ha_file_rename(enum jnl_area area, const char *from, const char *to);
/**
 * Run h(ok, arg) once every file change queued so far is durable (in a
 * turn the standby ACKed, or alone): ha_on_durable() in the turn that
 * sends the last of them. 0 or ENOMEM.
 */
int ha_file_on_durable(store_commit_h *h, void *arg);
/** Record CONF_APPLY (CONFDIR complete: the standby reloads). */
int ha_file_conf_apply(void);

/* The same for an absolute path under one of the area roots (as built
 * from the CONFDIR/DATADIR strings given to ha_file_init); a path outside
 * every area is ignored. */
void ha_file_put_path(const char *path);
void ha_file_del_path(const char *path);
void ha_file_rename_path(const char *from, const char *to);

/** Area of path and its relpath (a view into path); false when none. */
bool ha_file_area_of(const char *path, enum jnl_area *area, const char **rel);
/** "CONFDIR", "voicemail", "monitor", "sounds", "provisioning". */
const char *ha_file_area_name(unsigned area);

/** End of turn on the serving node: emit queued entries (turn.c). */
void ha_file_pump(void);
/** Transfers queued and not finished (tests, status). */
unsigned ha_file_pending(void);

/** Apply a FILE_* or CONF_APPLY entry (apply.c). 0 or errno. */
int ha_file_apply(const struct jnl_entry *e, enum ha_apply_mode m);

#endif
