/**
 * @file cluster_conf.h  tandem.conf's [cluster] section: the two nodes, the
 * shared key, the floating address, the witness and the failover engine
 * (CONTRACT.md "Two nodes", docs/design/cluster.md 3.1 and 10).
 *
 *   [cluster]
 *   name = tfg                     ; cluster name (default tandem)
 *   node = a,10.0.0.1              ; name,replication address[:port], twice
 *   node = b,10.0.0.2
 *   keyfile = /etc/tandem/cluster.key   ; >= 32 bytes, hex or base64, 0600
 *   vip = 10.0.0.100/24
 *   interface = eth0
 *   witness = 10.0.0.3             ; ADDR[:PORT] | none (default none)
 *   engine = keepalived            ; keepalived | pacemaker | none
 *   port = 7380
 *   lease = 600ms, peer_timeout = 200ms, sync = yes, sync_timeout = 500ms,
 *   fsync = no, backlog = 256M, backlog_max = 2G, advert_int = 50ms,
 *   vrid = 1..255, hook = /path, two_node_takeover = no
 *   keepalived_conf = /etc/keepalived/keepalived.conf, keepalived_pid =
 *   /run/keepalived.pid (relative paths: in DATADIR)
 *
 * Durations take ms or s (bare numbers are ms); sizes take K, M, G (bare
 * numbers are bytes). Every error is "FILE:LINE: [cluster] ...".
 */
#ifndef TANDEM_HA_CLUSTER_CONF_H
#define TANDEM_HA_CLUSTER_CONF_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/conf.h"

#define CLUSTER_NAME_MAX  64     /* node and cluster names, with the NUL */
#define CLUSTER_KEY_MIN   32
#define CLUSTER_KEY_MAX   512
#define CLUSTER_PORT      7380

enum cluster_engine {
	CLUSTER_ENGINE_KEEPALIVED,
	CLUSTER_ENGINE_PACEMAKER,
	CLUSTER_ENGINE_NONE,
};

struct cluster_node {
	char name[CLUSTER_NAME_MAX];
	struct sockaddr_storage addr;  /* replication address, port filled */
	char addr_str[64];             /* "10.0.0.1:7380", "[::1]:7381" */
	unsigned line;                 /* where it was configured */
};

struct cluster_conf {
	bool enabled;                  /* a [cluster] section was there */
	char name[CLUSTER_NAME_MAX];
	struct cluster_node nodes[2];  /* in file order */
	uint16_t port;
	char keyfile[PATH_MAX];
	uint8_t key[CLUSTER_KEY_MAX];
	size_t keylen;
	bool has_vip;
	struct sockaddr_storage vip;
	unsigned vip_prefix;
	char vip_str[64];              /* "10.0.0.100/24" */
	char interface[IF_NAMESIZE];
	bool has_witness;
	struct sockaddr_storage witness;
	char witness_str[64];
	enum cluster_engine engine;
	uint32_t lease_ms, peer_timeout_ms, sync_timeout_ms, advert_int_ms;
	bool sync, fsync, two_node_takeover;
	uint64_t backlog, backlog_max;
	unsigned vrid;                 /* 0: derived from the name */
	char hook[PATH_MAX];           /* "" none */
	char keepalived_conf[PATH_MAX]; /* written by tandemd; relative: in DATADIR */
	char keepalived_pid[PATH_MAX];  /* SIGHUPed after a change; relative: DATADIR */
	uint8_t digest[32];            /* sha256 of [cluster] (HELLO checks it) */
};

/** Options of [cluster], NULL-terminated (config.c's unknown-option check). */
extern const char *const cluster_conf_options[];

void cluster_conf_defaults(struct cluster_conf *cc);

/**
 * Fill cc from sec (NULL: no cluster, cc->enabled false, 0). A relative
 * keyfile is taken from confdir. On error returns EINVAL (or the errno of
 * reading the keyfile) and writes "FILE:LINE: [cluster] ..." into err.
 */
int cluster_conf_load(struct cluster_conf *cc, const struct conf_section *sec,
		      const char *confdir, char *err, size_t errsize);

/** "ADDR[:PORT]" or "[V6]:PORT" (defport when none): 0 or EINVAL. */
int cluster_addr_parse(const char *s, uint16_t defport, struct sockaddr_storage *sa);

/** Wipe the key (call before freeing or reusing cc). */
void cluster_conf_clear(struct cluster_conf *cc);

/**
 * Which of cc->nodes this process is: nodename from -n, or NULL for the
 * host name up to its first dot. 0 with *self = 0 or 1; ENOENT with a
 * message in err naming both nodes.
 */
int cluster_conf_self(const struct cluster_conf *cc, const char *nodename,
		      unsigned *self, char *err, size_t errsize);

/** True when node self dials the peer (its name sorts first). */
bool cluster_conf_dials(const struct cluster_conf *cc, unsigned self);

/**
 * Decode a key written as hex or base64 (whitespace ignored) into out
 * (CLUSTER_KEY_MAX bytes). 0, EINVAL (neither), ERANGE (too long).
 */
int cluster_key_decode(const char *text, size_t len, uint8_t *out, size_t *outlen);

/**
 * A new key for `tandemctl cluster keygen`: 32 bytes from RAND_bytes as 64
 * hex characters, a newline and a NUL. 0 or EIO.
 */
int cluster_key_generate(char out[2 * CLUSTER_KEY_MIN + 2]);

const char *cluster_engine_name(enum cluster_engine e);

#endif
