/**
 * @file config.h  Loading CONFDIR as a whole: tandem.conf, sip.conf,
 * extensions.conf (required), and the optional Asterisk files, which are
 * read to check their syntax even before the parts that use them exist.
 */
#ifndef TANDEM_PBX_CONFIG_H
#define TANDEM_PBX_CONFIG_H

#include <stdint.h>

#include "core/conf.h"
#include "core/log.h"
#include "pbx/peers.h"
#include "sip/auth.h"
#include "store/cdr.h"
#include "dialplan/dialplan.h"
#include "ha/cluster_conf.h"
#include "media/moh_conf.h"
#include "pbx/queue.h"
#include "pbx/voicemail_conf.h"
#include "web/tftp.h"

struct tandem_conf {
	struct conf *raw;           /* tandem.conf, may be NULL */
	const char *node;           /* [general] node */
	enum log_level log_level;   /* [log] level */
	const char *log_file;       /* [log] file, relative to DATADIR */
	const char *security_log;   /* [log] security */
	uint32_t nonce_lifetime;    /* [security] nonce_lifetime */
	enum auth_alg digest[2];    /* [security] digest_algorithms, preferred first */
	size_t ndigest;
	uint32_t tcp_idle_timeout;  /* [sip] */
	uint32_t tcp_msg_timeout;
	uint32_t tcp_max_conns;
	struct cdr_conf cdr;        /* [cdr] */
	struct cluster_conf cluster;  /* [cluster] (enabled false: none) */
	struct tftp_conf tftp;        /* [tftp] (enabled false: none) */
};

struct pbx_config {
	struct tandem_conf tandem;
	struct sipconf *sip;
	struct conf *extensions;
	struct dialplan *dialplan;  /* built from extensions */
	struct vmconf *voicemail;   /* voicemail.conf (empty when absent) */
	struct queuesconf *queues;  /* queues.conf (empty when absent) */
	struct mohconf *moh;        /* musiconhold.conf (built-in default class) */
};

/**
 * Read every file of confdir. On failure returns an errno value and
 * writes "FILE:LINE: what is wrong" into err; nothing is kept.
 */
int  pbx_config_load(struct pbx_config *cfg, const char *confdir,
		     const char *datadir, char *err, size_t errsize);
/** Free what pbx_config_load built (parts taken over may be set to NULL). */
void pbx_config_free(struct pbx_config *cfg);

#endif
