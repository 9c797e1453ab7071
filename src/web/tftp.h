/**
 * @file tftp.h  Read-only TFTP server for phone provisioning: serves
 * DATADIR/provisioning (tandem.conf [tftp]) on the event loop.
 */
#ifndef TANDEM_WEB_TFTP_H
#define TANDEM_WEB_TFTP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/conf.h"

struct tftp_conf {
	bool enabled;                  /* enabled = yes */
	struct sockaddr_storage bind;  /* bindaddr (default all) and port (69) */
	uint32_t max_transfers;        /* max_transfers, default 64 */
};

struct tftp_stats {
	uint64_t requests;     /* RRQ received */
	uint64_t sent;         /* transfers completed */
	uint64_t failed;       /* transfers given up (timeouts, client errors) */
	uint64_t refused;      /* WRQ, not found, traversal, malformed, busy */
	uint64_t bytes;        /* file bytes acknowledged */
	unsigned active;
};

extern const char *const tftp_conf_options[];

/** Read [tftp] of tandem.conf (sec may be NULL). FILE:LINE errors in err. */
int  tftp_conf_load(struct tftp_conf *tc, const struct conf_section *sec, char *err,
		    size_t errsize);
/** Listen when tc->enabled; files under datadir/provisioning. */
int  tftp_start(const struct tftp_conf *tc, const char *datadir);
void tftp_stop(void);
/** After a reload: when [tftp] changed, restart the server with it (the
 * old settings come back if the new cannot start). */
void tftp_reloaded(const struct tftp_conf *tc);
const struct tftp_stats *tftp_stats(void);

#endif
