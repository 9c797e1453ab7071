/**
 * @file file_int.h  Shared by file.c (the serving node's queue) and
 * file_apply.c (what the standby does with FILE_* entries).
 */
#ifndef TANDEM_HA_FILE_INT_H
#define TANDEM_HA_FILE_INT_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "ha/jnl_codec.h"

struct ha_file_roots {
	char root[JNL_AREA_COUNT][PATH_MAX];
};
extern struct ha_file_roots ha_file_roots;

/** Watch the admin areas while this node is active (file_watch.c). */
int ha_file_watch_init(void);
void ha_file_watch_close(void);

/** openat2 beneath dfd, no symlinks (file_apply.c). fd or -1, errno. */
int ha_file_openat2(int dfd, const char *name, int flags, mode_t mode);
/** The directory holding rel beneath the area's root (created as
 * needed), its last component in base: an O_PATH fd or -1 with errno. */
int ha_file_open_parent(uint8_t area, const char *rel, char *base, size_t basesize);
/** Remove rel beneath the area's root: 0 (also when it was not there) or
 * errno. */
int ha_file_unlink_rel(uint8_t area, const char *rel);
/** Rename from to (both beneath the area's root): 0 or errno. */
int ha_file_rename_rel(uint8_t area, const char *from, const char *to);

/** Drop the transfers being received (part files removed). */
void ha_file_apply_close(void);
/** Drop transfer id if it is being received (its part file removed). */
void ha_file_xfer_drop(uint32_t id);

#endif
