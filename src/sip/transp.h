/**
 * @file transp.h  SIP transport (RFC 3261 18): UDP and TCP, IPv4 and IPv6.
 *
 * UDP datagrams are read in batches (recvmmsg) and each is one message.
 * TCP streams are framed by Content-Length (sip_msg_frame); a connection
 * that sends nothing for tcp_idle_timeout, or takes longer than
 * tcp_msg_timeout to complete a message it started, or sends a message
 * larger than SIP_MSG_MAX, is closed and logged.
 */
#ifndef TANDEM_SIP_TRANSP_H
#define TANDEM_SIP_TRANSP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sip/msg.h"

enum sip_transp { SIP_TRANSP_UDP = 0, SIP_TRANSP_TCP };

/** Where a message came from, and how to answer it. */
struct sip_src {
	struct sockaddr_storage addr;   /* peer address */
	socklen_t alen;
	enum sip_transp tp;
	int fd;                         /* UDP socket or TCP connection */
	uint32_t conn_id;               /* TCP: connection generation */
	struct sockaddr_storage local;  /* local address it arrived on */
};

struct sip_transp_opts {
	uint32_t tcp_idle_timeout;   /* s, default 60 */
	uint32_t tcp_msg_timeout;    /* s, default 10 */
	uint32_t tcp_max_conns;      /* default 1024 */
};

/** A message arrived; err is sip_msg_decode's result (msg->err says why). */
typedef void (sip_recv_h)(struct sip_msg *msg, int err, const struct sip_src *src);

int  sip_transp_init(sip_recv_h *h, const struct sip_transp_opts *opts);
void sip_transp_close(void);
/** Bind a listener; returns 0 or errno (logged by the caller). */
int  sip_transp_listen(enum sip_transp tp, const struct sockaddr_storage *addr);
/** Number of sockets listening (0 until a listen succeeded). */
unsigned sip_transp_nlisteners(void);
/** Describe the listeners, e.g. "udp:127.0.0.1:5060 tcp:127.0.0.1:5060". */
void sip_transp_describe(char *buf, size_t size);
/**
 * Send buf to dst. UDP: sendto from the socket it arrived on (or the
 * first UDP listener of the address family). TCP: on the connection if it
 * is still open; otherwise ENOTCONN.
 */
int  sip_transp_send(const struct sip_src *dst, const char *buf, size_t len);
/** Local address to put in Via/Contact when sending to dst. */
/** UDP messages that carry no local address of their own (a binding
 * restored or replicated, a trunk) leave from a (NULL: the routing table's
 * choice); a cluster node sets its floating address while it serves. */
void sip_transp_set_source(const struct sockaddr_storage *a);
int  sip_transp_local(const struct sip_src *dst, char *host, size_t hsize,
		      uint16_t *port);

/** "udp:1.2.3.4:5060" / "tcp:[::1]:5060" */
void sip_src_str(const struct sip_src *src, char *buf, size_t size);
/** "1.2.3.4:5060" / "[::1]:5060" */
void sip_sa_str(const struct sockaddr_storage *sa, char *buf, size_t size);
/** Parse "ADDR", "ADDR:PORT", "[V6]:PORT", "V6"; port defaults to defport. */
int  sip_sa_parse(const char *s, uint16_t defport, struct sockaddr_storage *sa);
/**
 * As sip_sa_parse, and a host name is looked up (getaddrinfo: /etc/hosts,
 * then DNS; IPv4 first as chan_sip). Blocks while it resolves: for
 * configuration loading only, never per call. ENOENT when the name does
 * not exist, EAGAIN when the resolver failed, EINVAL for bad syntax.
 */
int  sip_sa_resolve(const char *s, uint16_t defport, struct sockaddr_storage *sa);
uint16_t sip_sa_port(const struct sockaddr_storage *sa);
bool sip_sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
const char *sip_transp_name(enum sip_transp tp);

/* Counters for status and metrics. */
struct sip_transp_stats {
	uint64_t rx_msgs, tx_msgs, rx_bad, tcp_conns, tcp_closed_limits;
};
const struct sip_transp_stats *sip_transp_stats(void);

#endif
