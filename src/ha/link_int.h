/**
 * @file link_int.h  Inside the replication link: the link (link.c), its
 * connections (link_conn.c) and their TLS (link_tls.c) share these.
 */
#ifndef TANDEM_HA_LINK_INT_H
#define TANDEM_HA_LINK_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "core/loop.h"
#include "ha/link.h"

#define LINK_PENDING   4          /* inbound handshakes at once */
#define LINK_SAY_MS    60000      /* one refusal line per peer and reason */
#define LINK_READS     64         /* SSL_read calls per loop turn */
#define LINK_RBUF      (64u * 1024)

/* A connection: TCP connect (dialler), TLS, HELLO, then up. */
enum phase { C_CONNECT, C_TLS, C_HELLO, C_UP };

struct conn {
	struct ha_link *l;
	int fd;
	SSL *ssl;
	enum phase phase;
	bool outbound, dead, want_write;
	bool psk_seen, psk_unknown;   /* server: identity offered / not ours */
	bool replaced;                /* the peer took a newer connection */
	bool app_error;               /* closed by ERROR(APP), sent or received */
	char ident[96];               /* identity offered, for the logs */
	char addr[64];                /* peer "ADDR:PORT" */
	char host[48];                /* peer address, for rate limiting */
	uint32_t events;
	struct tmr tmr;               /* handshake deadline, then silence */
	struct tmr more;              /* read budget ran out with data left */
	uint64_t last_rx;
	uint8_t *in;
	size_t inlen, incap;
	struct jnl_wbuf out;
	size_t outoff;
	struct conn *next;            /* l->pending */
};

struct said {
	char key[112];
	uint64_t when;
	bool used;
};

struct ha_link {
	char cluster[CLUSTER_NAME_MAX], self[CLUSTER_NAME_MAX], peer[CLUSTER_NAME_MAX];
	char what[32];                /* "replication link", "witness link" (logs) */
	struct sockaddr_storage self_addr, peer_addr;
	char self_addr_str[64], peer_addr_str[64];
	bool dials, stopped, refused;
	uint8_t psk[32];
	char identity[3 * CLUSTER_NAME_MAX + 16];
	uint8_t conf_sha[32];
	uint32_t peer_timeout;
	SSL_CTX *ctx;
	int lfd;
	struct conn *cur;             /* up, or being dialled */
	struct conn *pending;         /* accepted, not up yet */
	unsigned npending;
	struct tmr retry, ping;
	uint32_t backoff;
	uint32_t app_backoff;         /* after ERROR(APP) closes: 1, 2, 4... 30 s */
	enum ha_link_state state;
	uint64_t state_since;
	char last_error[160];
	struct ha_link_handlers h;
	void *arg;
	struct ha_link_hello hello;
	bool have_hello, have_rtt;
	uint64_t rtt_ms;
	uint64_t connects, refusals, bytes_in, bytes_out, frames_in, frames_out;
	struct said said[16];
};

/* link.c: the link above its connections */
/** Recompute l->state from its connections. */
void ha_link_update(struct ha_link *l);
/** Dialler: arm the next attempt (at once, or after the backoff). */
void ha_link_retry(struct ha_link *l, bool at_once);
/** Dialler: the next attempt in ms (after an ERROR(APP) close). */
void ha_link_retry_after(struct ha_link *l, uint32_t ms);
/** True when a line about (host, why) may be logged now (once a minute). */
bool ha_link_say(struct ha_link *l, const char *host, const char *why);
/** A whole frame arrived on c (HELLO, PING, PONG, ERROR, or for the user). */
void ha_link_frame(struct conn *c, uint8_t type, const uint8_t *p, size_t len);
/** c finished its TLS handshake: send HELLO. */
void ha_link_tls_done(struct conn *c);

/* link_conn.c: one connection's socket, TLS records and frames */
void ha_sa_str(const struct sockaddr_storage *sa, char *buf, size_t size, char *host,
	       size_t hsize);
/** A connection on fd (owned from now on), its TLS object and deadline. */
struct conn *ha_conn_new(struct ha_link *l, int fd, bool outbound,
			 const struct sockaddr_storage *peer);
/** Take c off the link (cur or pending). */
void ha_conn_unlink(struct conn *c);
/** Close c and drop the link's reference; reports down if it was up. */
void ha_conn_close(struct conn *c, const char *why, bool refused);
/** Log why c failed (refusals: rate limited, security log) and close it. */
void ha_conn_fail(struct conn *c, bool refused, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Send ERROR(code, text), then fail c with text. */
void ha_conn_error(struct conn *c, uint16_t code, bool refused, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/** Watch the socket for what c waits for now. */
void ha_conn_events(struct conn *c);
/** Queue one frame; 0, EMSGSIZE, ENOBUFS, ENOMEM. */
int  ha_conn_queue(struct conn *c, uint8_t type, const void *p, size_t len);
void ha_conn_flush(struct conn *c);
void ha_conn_read(struct conn *c);

/* link_tls.c: the PSK and the handshake */
/** The pair's key: HKDF-SHA256(key, cluster name, "tandem-v1 C S"). */
int  ha_tls_derive(struct ha_link *l, const struct cluster_conf *cc, const char *client,
		   const char *server);
/** l->ctx for a dialler (client) or a listener (server). */
int  ha_tls_ctx(struct ha_link *l);
/** Drive c's handshake one step; done: ha_link_tls_done(); failed: closed. */
void ha_tls_step(struct conn *c);

#endif
