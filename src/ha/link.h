/**
 * @file link.h  The replication link between the two nodes: TLS 1.3 with
 * an external PSK over TCP, framed, with HELLO checks and PING/PONG
 * liveness (docs/design/cluster.md 3.1-3.2). Streaming (PSYNC, STREAM,
 * ACK...) is built on ha_link_send() and the frame callback.
 *
 * Frames inside TLS: u32 len (type + payload) | u8 type | payload,
 * little-endian, len <= HA_LINK_FRAME_MAX. The node whose name sorts first
 * dials the other's replication address; the other listens.
 */
#ifndef TANDEM_HA_LINK_H
#define TANDEM_HA_LINK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha/cluster_conf.h"
#include "ha/jnl_codec.h"

#define HA_LINK_PROTO      2   /* 2: the full resync lists its files (FILE_LIST) */
#define HA_LINK_FRAME_MAX  ((1u << 20) + 64)   /* type + payload */
#define HA_LINK_PING_MS    50
#define HA_LINK_HANDSHAKE_MS 5000              /* TCP + TLS + HELLO */
#define HA_LINK_RETRY_MIN_MS 1000
#define HA_LINK_RETRY_MAX_MS 30000
#define HA_LINK_OUT_MAX    (64u << 20)         /* queued, not yet sent */

enum ha_link_frame {
	HA_F_HELLO = 1,
	HA_F_PSYNC,
	HA_F_CONTINUE,
	HA_F_FULLRESYNC,
	HA_F_SNAP,
	HA_F_SNAP_END,
	HA_F_FILE_WANT,
	HA_F_FILE_DATA,
	HA_F_SYNC_DONE,
	HA_F_STREAM,
	HA_F_ACK,
	HA_F_PING,
	HA_F_PONG,
	HA_F_FAILOVER,
	HA_F_MERGE,
	HA_F_ERROR,
	HA_F_FILE_LIST,        /* the full resync's manifest (file_manifest.h) */
	/* node <-> witness (witness.h; W_STATE is the link's PING) */
	HA_F_W_REQUEST = 32,
	HA_F_W_GRANT,
	HA_F_W_DENY,
	HA_F_W_RELEASE,
	HA_F_W_OUTDATED,
	HA_F_W_CURRENT,
};

/* ERROR frame codes. */
enum ha_link_err {
	HA_ERR_PROTO = 1,      /* malformed or unexpected frame */
	HA_ERR_CLUSTER,        /* other cluster name */
	HA_ERR_CONFIG,         /* [cluster] differs */
	HA_ERR_NODE,           /* unknown node name */
	HA_ERR_TOO_BIG,        /* frame over HA_LINK_FRAME_MAX */
	HA_ERR_REPLACED,       /* a newer connection took over */
	HA_ERR_APP,            /* the layer above refused (ha_link_error) */
};

/* The link's state (`tandemctl cluster status`). */
enum ha_link_state {
	HA_LINK_NONE,          /* idle: listening, or waiting to dial again */
	HA_LINK_CONNECTING,    /* TCP connect in progress */
	HA_LINK_HANDSHAKE,     /* TLS handshake, then HELLO both ways */
	HA_LINK_UP,            /* HELLO exchanged: frames flow */
	HA_LINK_REFUSED,       /* last attempt refused (key or config); retried */
};

/* What this node says about itself in HELLO, PING and PONG. */
struct ha_link_pos {
	uint64_t epoch;
	uint8_t role;
	char replid[JNL_REPLID_LEN + 1];    /* "" sends 40 zeros */
	uint64_t offset;
	char replid2[JNL_REPLID_LEN + 1];
	uint64_t offset2;
	uint8_t repl_state;
	uint8_t flags;
	uint32_t vote_lease_ms;             /* PONG only */
};

/* The peer's HELLO, decoded and checked. */
struct ha_link_hello {
	uint16_t proto;
	char cluster[CLUSTER_NAME_MAX], node[CLUSTER_NAME_MAX];
	uint64_t epoch;
	uint8_t role;
	char replid[JNL_REPLID_LEN + 1];
	uint64_t offset;
	char replid2[JNL_REPLID_LEN + 1];
	uint64_t offset2;
	uint8_t conf_sha256[32];
};

/* A PING or PONG from the peer. */
struct ha_link_ping {
	bool pong;
	uint64_t epoch;
	uint64_t mono_ms;       /* PING: the peer's clock; PONG: ours, echoed */
	uint8_t role, repl_state, flags;
	uint32_t vote_lease_ms; /* PONG only */
};

struct ha_link;

struct ha_link_handlers {
	/** HELLO exchanged both ways; frames may be sent from now on. */
	void (*up)(struct ha_link *l, const struct ha_link_hello *peer, void *arg);
	/** The link that was up is gone (EOF, silence, error); why for logs. */
	void (*down)(struct ha_link *l, const char *why, void *arg);
	/** A frame other than HELLO/PING/PONG/ERROR; p valid during the call. */
	void (*frame)(struct ha_link *l, uint8_t type, const uint8_t *p, size_t len,
		      void *arg);
	/** A PING or PONG arrived (liveness, votes). May be NULL. */
	void (*ping)(struct ha_link *l, const struct ha_link_ping *ping, void *arg);
	/** Fill pos for HELLO/PING/PONG. May be NULL (zeros). */
	void (*pos)(struct ha_link_pos *pos, void *arg);
};

/**
 * Start the link of node self (cluster_conf_self()) on the running loop:
 * listen, or dial at once. cc is copied; the per-pair key is derived here.
 * 0, or an errno value with the reason logged (EADDRINUSE...).
 */
int ha_link_start(struct ha_link **lp, const struct cluster_conf *cc, unsigned self,
		  const struct ha_link_handlers *h, void *arg);
/**
 * A link between any two named ends with the same keyfile (the witness's:
 * a node dials the witness, docs/design/cluster.md 6). The per-pair key and
 * identity are "tandem/<cluster>/<client>/<server>" as for the nodes.
 */
struct ha_link_pair {
	const char *self, *peer;
	struct sockaddr_storage self_addr, peer_addr;
	bool dials;
	const char *what;            /* for the logs: "witness link" */
};
int ha_link_start_pair(struct ha_link **lp, const struct cluster_conf *cc,
		       const struct ha_link_pair *p, const struct ha_link_handlers *h,
		       void *arg);
/** Close everything (no down callback) and free; NULL-safe. */
void ha_link_stop(struct ha_link *l);

/**
 * Queue one frame to the peer. 0; ENOTCONN when not up; EMSGSIZE over
 * HA_LINK_FRAME_MAX; ENOBUFS when HA_LINK_OUT_MAX bytes wait already.
 */
int ha_link_send(struct ha_link *l, uint8_t type, const void *payload, size_t len);
/** Bytes queued and not yet handed to TLS (back-pressure for streaming). */
size_t ha_link_pending(const struct ha_link *l);
/** Send ERROR(HA_ERR_APP, text) and close the connection (it is retried). */
void ha_link_error(struct ha_link *l, const char *text);

enum ha_link_state ha_link_state(const struct ha_link *l);
const char *ha_link_state_name(enum ha_link_state s);
/** {"state", "peer", "address", "dials", "rtt_ms", "last_error", ...}. */
json_t *ha_link_status_json(const struct ha_link *l);

/* Frame payload codecs, I/O-free (fuzzed). Decoders return 0 or EBADMSG. */
int ha_hello_encode(struct jnl_wbuf *b, const char *cluster, const char *node,
		    const struct ha_link_pos *pos, const uint8_t conf_sha256[32]);
int ha_hello_decode(struct ha_link_hello *h, const uint8_t *p, size_t len);
int ha_ping_encode(struct jnl_wbuf *b, bool pong, uint64_t mono_ms,
		   const struct ha_link_pos *pos);
int ha_ping_decode(struct ha_link_ping *pg, bool pong, const uint8_t *p, size_t len);
int ha_error_encode(struct jnl_wbuf *b, uint16_t code, const char *text);
int ha_error_decode(uint16_t *code, struct pl *text, const uint8_t *p, size_t len);

/** Tests only: write raw bytes into the TLS stream of the live connection. */
int ha_link_test_send_raw(struct ha_link *l, const void *p, size_t len);
/** Tests only: the socket of the current connection, or -1. */
int ha_link_test_fd(const struct ha_link *l);

#endif
