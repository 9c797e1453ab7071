/**
 * @file file_scan.h  A node's own file manifest, built in a thread
 * (file_scan.c; docs/design/cluster.md 3.4 step 4).
 */
#ifndef TANDEM_HA_FILE_SCAN_H
#define TANDEM_HA_FILE_SCAN_H

#include <limits.h>

#include "core/loop.h"
#include "ha/file_manifest.h"

struct fm_scan_req {
	char root[FM_AREAS][PATH_MAX + 64];  /* the area roots; [FM_AREA_QLOG]: queue_log */
	int64_t qlog_size;              /* hash this much of queue_log; -1: all */
	char cache[PATH_MAX + 64];          /* sha256 cache file; "" for none */
	bool clean_parts;               /* remove *.tandem-part found */
};

struct fm_scan_stats {
	unsigned files, hashed, skipped, parts_removed;
	uint64_t bytes, hashed_bytes;
	double secs;
};

struct fm_scan;
/** Start the thread; done(efd) runs on the loop when it finished (NULL:
 * none, fm_scan_end() waits). 0 or errno. */
int fm_scan_start(struct fm_scan **sp, const struct fm_scan_req *req, fd_h *done, void *arg);
/**
 * Join it (cancel: stop it early) and free it; on success the sorted list
 * moves into out (may be NULL). 0, ECANCELED, or the errno that stopped it.
 */
int fm_scan_end(struct fm_scan *s, bool cancel, struct fm_list *out, struct fm_scan_stats *st);

#endif
