/**
 * @file transp.c  SIP over UDP and TCP (RFC 3261 18), IPv4 and IPv6.
 *
 * UDP: each listener is read with recvmmsg in batches, at most
 * UDP_BATCHES batches per wake-up so that a flood cannot starve the timers
 * or the end-of-turn commit. TCP: one connection object per accepted
 * socket, framed by Content-Length; limits on idle time, on the time to
 * complete a started message, on message size and on the number of
 * connections. Every limit that closes a connection is logged with the
 * peer's address in the security log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "sip/transp.h"

#define MAX_LISTENERS 8
#define UDP_BATCH     32
#define UDP_BATCHES   8
#define UDP_BUFSZ     (SIP_MSG_MAX + 1)

struct listener {
	int fd;
	enum sip_transp tp;
	struct sockaddr_storage addr;
};

struct conn {
	int fd;
	uint32_t id;
	struct sockaddr_storage peer, local;
	char *buf;
	size_t len, cap;
	char *out;             /* unsent bytes */
	size_t outlen;
	struct tmr idle, msg;  /* idle timeout, message-completion timeout */
	bool in_msg;           /* a message has started arriving */
};

static struct listener lst[MAX_LISTENERS];
static unsigned nlst;
static sip_recv_h *recv_h;
static struct sip_transp_opts opts;
static struct conn **conns;    /* indexed by fd */
static size_t nconns_cap;
static uint32_t nconns;
static uint32_t conn_gen;
static struct sip_transp_stats stats;

static char (*udp_bufs)[UDP_BUFSZ];

const char *sip_transp_name(enum sip_transp tp)
{
	return tp == SIP_TRANSP_TCP ? "tcp" : "udp";
}

/* ---------------------------------------------------------------- addresses */

uint16_t sip_sa_port(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

void sip_sa_str(const struct sockaddr_storage *sa, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, sip_sa_port(sa));
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, sip_sa_port(sa));
	}
}

void sip_src_str(const struct sip_src *src, char *buf, size_t size)
{
	char a[64];

	sip_sa_str(&src->addr, a, sizeof(a));
	snprintf(buf, size, "%s:%s", sip_transp_name(src->tp), a);
}

bool sip_sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
	return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* Split "HOST", "HOST:PORT", "[V6]:PORT" or a bare "V6" into its parts. */
static int split_hostport(const char *s, char *host, size_t hsize, unsigned long *p)
{
	const char *port = NULL, *end;
	size_t hl;

	if (!s || !*s)
		return EINVAL;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return EINVAL;
		hl = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return EINVAL;
		s++;
	} else {
		const char *c = strchr(s, ':');
		if (c && strchr(c + 1, ':'))   /* bare IPv6 */
			c = NULL;
		hl = c ? (size_t)(c - s) : strlen(s);
		if (c)
			port = c + 1;
	}
	if (!hl || hl >= hsize)
		return EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (port) {
		char *e;
		errno = 0;
		*p = strtoul(port, &e, 10);
		if (errno || *e || *p == 0 || *p > 65535)
			return EINVAL;
	}
	return 0;
}

static int numeric_sa(const char *host, unsigned long p, struct sockaddr_storage *sa)
{
	struct sockaddr_in *in4 = (void *)sa;
	struct sockaddr_in6 *in6 = (void *)sa;

	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		return 0;
	}
	return EINVAL;
}

int sip_sa_parse(const char *s, uint16_t defport, struct sockaddr_storage *sa)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned long p = defport;

	memset(sa, 0, sizeof(*sa));
	if (split_hostport(s, host, sizeof(host), &p))
		return EINVAL;
	return numeric_sa(host, p, sa);
}

int sip_sa_resolve(const char *s, uint16_t defport, struct sockaddr_storage *sa)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	unsigned long p = defport;
	int err;

	memset(sa, 0, sizeof(*sa));
	if (split_hostport(s, host, sizeof(host), &p))
		return EINVAL;
	if (!numeric_sa(host, p, sa))
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	err = getaddrinfo(host, NULL, &hints, &res);
	if (err)
		return err == EAI_NONAME || err == EAI_NODATA ? ENOENT : EAGAIN;
	err = ENOENT;
	for (ai = res; ai && err; ai = ai->ai_next) {   /* IPv4 first, as chan_sip */
		if (ai->ai_family == AF_INET) {
			memcpy(sa, ai->ai_addr, sizeof(struct sockaddr_in));
			err = 0;
		}
	}
	for (ai = res; ai && err; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET6) {
			memcpy(sa, ai->ai_addr, sizeof(struct sockaddr_in6));
			err = 0;
		}
	}
	freeaddrinfo(res);
	if (err)
		return err;
	if (sa->ss_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)p);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)p);
	return 0;
}

static socklen_t sa_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

/* ---------------------------------------------------------------- UDP */

/*
 * A socket bound to the wildcard answers from the address the request was
 * sent to (IP_PKTINFO / IPV6_PKTINFO), not from the one the routing table
 * picks: on a cluster node, requests to the floating address are answered
 * from it (phones that check the source drop anything else).
 */
static void pktinfo_local(const struct msghdr *mh, struct sockaddr_storage *local)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    local->ss_family == AF_INET) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)local)->sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   local->ss_family == AF_INET6) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)local)->sin6_addr = pi.ipi6_addr;
		}
	}
}

/* The address messages without a local address of their own leave from
 * (sip_transp_set_source: a cluster node's floating address). */
static struct sockaddr_storage def_src;

void sip_transp_set_source(const struct sockaddr_storage *a)
{
	if (a)
		def_src = *a;
	else
		memset(&def_src, 0, sizeof(def_src));
}

static bool sa_is_any(const struct sockaddr_storage *a)
{
	return (a->ss_family == AF_INET &&
		((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY)) ||
	       (a->ss_family == AF_INET6 &&
		IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr)) ||
	       !a->ss_family;
}

/* sendto from local's address (when it is one) on a wildcard socket; when
 * that address is gone (the VIP moved), from the routing table's choice. */
static ssize_t udp_send_from(int fd, const struct sip_src *dst, const char *buf, size_t len)
{
	union { char b[CMSG_SPACE(sizeof(struct in6_pktinfo))]; struct cmsghdr a; } ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = (void *)&dst->addr, .msg_namelen = sa_len(&dst->addr),
			     .msg_iov = &iov, .msg_iovlen = 1 };
	const struct sockaddr_storage *from = sa_is_any(&dst->local) ? &def_src : &dst->local;
	struct cmsghdr *c;
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	if (!sa_is_any(from) && from->ss_family == dst->addr.ss_family) {
		mh.msg_control = ctl.b;
		c = (struct cmsghdr *)ctl.b;
		if (from->ss_family == AF_INET) {
			struct in_pktinfo pi = { 0 };

			pi.ipi_spec_dst = ((const struct sockaddr_in *)from)->sin_addr;
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		} else {
			struct in6_pktinfo pi = { 0 };

			pi.ipi6_addr = ((const struct sockaddr_in6 *)from)->sin6_addr;
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		}
	}
	n = sendmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0 && mh.msg_control && (errno == EINVAL || errno == EADDRNOTAVAIL)) {
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		n = sendmsg(fd, &mh, MSG_DONTWAIT);
	}
	return n;
}

static void udp_recv(int fd, uint32_t events, void *arg)
{
	struct listener *l = arg;
	struct mmsghdr mm[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	union { char b[CMSG_SPACE(sizeof(struct in6_pktinfo))]; struct cmsghdr a; } ctl[UDP_BATCH];
	int b, i, n;

	(void)events;
	for (b = 0; b < UDP_BATCHES; b++) {
		for (i = 0; i < UDP_BATCH; i++) {
			iov[i].iov_base = udp_bufs[i];
			iov[i].iov_len = UDP_BUFSZ - 1;
			memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
			mm[i].msg_hdr.msg_control = ctl[i].b;
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].b);
		}
		n = recvmmsg(fd, mm, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			struct sip_src src;
			struct sip_msg msg;
			size_t len = mm[i].msg_len;

			stats.rx_msgs++;
			if (len <= 4)   /* keep-alives: CRLF, CRLFCRLF, empty */
				continue;
			memset(&src, 0, sizeof(src));
			memcpy(&src.addr, &from[i], sizeof(from[i]));
			src.alen = mm[i].msg_hdr.msg_namelen;
			src.tp = SIP_TRANSP_UDP;
			src.fd = fd;
			src.local = l->addr;
			pktinfo_local(&mm[i].msg_hdr, &src.local);
			if (len >= UDP_BUFSZ - 1) {
				stats.rx_bad++;
				continue;
			}
			udp_bufs[i][len] = '\0';
			int err = sip_msg_decode(&msg, udp_bufs[i], len);
			if (err)
				stats.rx_bad++;
			recv_h(&msg, err, &src);
		}
		if (n < UDP_BATCH)
			return;
	}
}

/* ---------------------------------------------------------------- TCP */

static void conn_close(struct conn *c, const char *why)
{
	char a[64];

	if (why) {
		sip_sa_str(&c->peer, a, sizeof(a));
		log_security("request_rejected", a, "", why);
		stats.tcp_closed_limits++;
	}
	tmr_cancel(&c->idle);
	tmr_cancel(&c->msg);
	loop_fd_forget(c->fd);
	close(c->fd);
	conns[c->fd] = NULL;
	nconns--;
	free(c->buf);
	free(c->out);
	free(c);
}

static void conn_idle_expired(void *arg)
{
	struct conn *c = arg;
	char a[64];

	/* An idle phone is not an attack: no security event (fail2ban). */
	sip_sa_str(&c->peer, a, sizeof(a));
	log_debug("sip: closing idle tcp connection from %s", a);
	conn_close(c, NULL);
}

static void conn_msg_expired(void *arg)
{
	conn_close(arg, "tcp message not completed in time (slow sender)");
}

/* Returns false when the connection was closed. */
static bool conn_process(struct conn *c)
{
	unsigned budget = 64;

	while (c->len && budget--) {
		size_t skip = 0, mlen = 0;
		int err = sip_msg_frame(c->buf, c->len, &skip, &mlen);

		if (err == EAGAIN) {
			if (skip) {
				memmove(c->buf, c->buf + skip, c->len - skip);
				c->len -= skip;
			}
			if (c->len && !c->in_msg) {
				c->in_msg = true;
				tmr_start(&c->msg, (uint64_t)opts.tcp_msg_timeout * 1000,
					  conn_msg_expired, c);
			}
			return true;
		}
		if (err) {
			stats.rx_bad++;
			conn_close(c, err == EMSGSIZE ? "tcp message too large"
						      : "tcp framing error");
			return false;
		}
		struct sip_msg msg;
		struct sip_src src;
		char saved;

		memset(&src, 0, sizeof(src));
		src.addr = c->peer;
		src.alen = sa_len(&c->peer);
		src.tp = SIP_TRANSP_TCP;
		src.fd = c->fd;
		src.conn_id = c->id;
		src.local = c->local;
		stats.rx_msgs++;
		saved = c->buf[skip + mlen];     /* buffer has one spare byte */
		c->buf[skip + mlen] = '\0';
		err = sip_msg_decode(&msg, c->buf + skip, mlen);
		if (err)
			stats.rx_bad++;
		recv_h(&msg, err, &src);
		if (conns[src.fd] != c)          /* closed by the handler */
			return false;
		c->buf[skip + mlen] = saved;
		memmove(c->buf, c->buf + skip + mlen, c->len - skip - mlen);
		c->len -= skip + mlen;
		c->in_msg = false;
		tmr_cancel(&c->msg);
	}
	return true;
}

static void conn_flush(struct conn *c)
{
	while (c->outlen) {
		ssize_t n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			c->outlen = 0;
			return;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
}

static void conn_event(int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	if (events & EPOLLOUT) {
		conn_flush(c);
		if (!c->outlen)
			loop_fd_listen(c->fd, EPOLLIN, conn_event, c);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		ssize_t n;

		if (c->cap - c->len < 2) {
			size_t ncap = c->cap * 2;
			if (ncap > 2 * (size_t)SIP_MSG_MAX + 2) {
				conn_close(c, "tcp message too large");
				return;
			}
			char *p = realloc(c->buf, ncap);
			if (!p) {
				conn_close(c, NULL);
				return;
			}
			c->buf = p;
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c, NULL);
			return;
		}
		if (n < 0)
			break;
		c->len += (size_t)n;
		tmr_start(&c->idle, (uint64_t)opts.tcp_idle_timeout * 1000,
			  conn_idle_expired, c);
		if (!conn_process(c))
			return;
	}
}

static void tcp_accept(int fd, uint32_t events, void *arg)
{
	struct listener *l = arg;
	unsigned budget = 64;

	(void)events;
	while (budget--) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &plen,
				  SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		char a[64];

		if (cfd < 0)
			return;
		if (nconns >= opts.tcp_max_conns) {
			sip_sa_str(&peer, a, sizeof(a));
			log_security("request_rejected", a, "", "too many tcp connections");
			close(cfd);
			continue;
		}
		if ((size_t)cfd >= nconns_cap) {
			size_t ncap = (size_t)cfd * 2 + 64;
			struct conn **p = realloc(conns, ncap * sizeof(*p));
			if (!p) {
				close(cfd);
				continue;
			}
			memset(p + nconns_cap, 0, (ncap - nconns_cap) * sizeof(*p));
			conns = p;
			nconns_cap = ncap;
		}
		c = calloc(1, sizeof(*c));
		if (!c || !(c->buf = malloc(4096))) {
			free(c);
			close(cfd);
			continue;
		}
		c->cap = 4096;
		c->fd = cfd;
		c->id = ++conn_gen;
		c->peer = peer;
		c->local = l->addr;
		tmr_init(&c->idle);
		tmr_init(&c->msg);
		conns[cfd] = c;
		nconns++;
		stats.tcp_conns++;
		tmr_start(&c->idle, (uint64_t)opts.tcp_idle_timeout * 1000,
			  conn_idle_expired, c);
		loop_fd_listen(cfd, EPOLLIN, conn_event, c);
	}
}

/* ---------------------------------------------------------------- API */

int sip_transp_init(sip_recv_h *h, const struct sip_transp_opts *o)
{
	recv_h = h;
	opts.tcp_idle_timeout = o && o->tcp_idle_timeout ? o->tcp_idle_timeout : 60;
	opts.tcp_msg_timeout = o && o->tcp_msg_timeout ? o->tcp_msg_timeout : 10;
	opts.tcp_max_conns = o && o->tcp_max_conns ? o->tcp_max_conns : 1024;
	if (!udp_bufs) {
		udp_bufs = malloc(sizeof(*udp_bufs) * UDP_BATCH);
		if (!udp_bufs)
			return ENOMEM;
	}
	return 0;
}

void sip_transp_close(void)
{
	unsigned i;

	for (i = 0; i < nconns_cap; i++)
		if (conns[i])
			conn_close(conns[i], NULL);
	free(conns);
	conns = NULL;
	nconns_cap = 0;
	for (i = 0; i < nlst; i++) {
		loop_fd_forget(lst[i].fd);
		close(lst[i].fd);
	}
	nlst = 0;
	free(udp_bufs);
	udp_bufs = NULL;
}

int sip_transp_listen(enum sip_transp tp, const struct sockaddr_storage *addr)
{
	struct listener *l;
	int fd, on = 1, err;

	if (nlst >= MAX_LISTENERS)
		return ENOSPC;
	fd = socket(addr->ss_family, (tp == SIP_TRANSP_UDP ? SOCK_DGRAM : SOCK_STREAM) |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	/* TCP only: for UDP, SO_REUSEADDR would let a second daemon bind the
	 * same address and silently take the traffic. */
	if (tp == SIP_TRANSP_TCP)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (addr->ss_family == AF_INET6) {
		/* "[::]" means dual-stack, as chan_sip's udpbindaddr=:: */
		int off = 0;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	}
	if (tp == SIP_TRANSP_UDP) {
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		if (addr->ss_family == AF_INET)   /* pktinfo_local() */
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
	}
	if (bind(fd, (const struct sockaddr *)addr, sa_len(addr)) < 0 ||
	    (tp == SIP_TRANSP_TCP && listen(fd, 256) < 0)) {
		err = errno;
		close(fd);
		return err;
	}
	l = &lst[nlst];
	l->fd = fd;
	l->tp = tp;
	l->addr = *addr;
	err = loop_fd_listen(fd, EPOLLIN, tp == SIP_TRANSP_UDP ? udp_recv : tcp_accept, l);
	if (err) {
		close(fd);
		return err;
	}
	nlst++;
	return 0;
}

unsigned sip_transp_nlisteners(void)
{
	return nlst;
}

void sip_transp_describe(char *buf, size_t size)
{
	size_t off = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < nlst && off < size; i++) {
		char a[64];
		int n;

		sip_sa_str(&lst[i].addr, a, sizeof(a));
		n = snprintf(buf + off, size - off, "%s%s:%s", i ? " " : "",
			     sip_transp_name(lst[i].tp), a);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static int udp_fd_for(const struct sockaddr_storage *dst)
{
	unsigned i;

	for (i = 0; i < nlst; i++)
		if (lst[i].tp == SIP_TRANSP_UDP && lst[i].addr.ss_family == dst->ss_family)
			return lst[i].fd;
	for (i = 0; i < nlst; i++)   /* dual-stack v6 socket reaching v4 */
		if (lst[i].tp == SIP_TRANSP_UDP)
			return lst[i].fd;
	return -1;
}

int sip_transp_send(const struct sip_src *dst, const char *buf, size_t len)
{
	if (dst->tp == SIP_TRANSP_UDP) {
		int fd = dst->fd > 0 ? dst->fd : udp_fd_for(&dst->addr);
		if (fd < 0)
			return ENOTCONN;
		if (udp_send_from(fd, dst, buf, len) < 0)
			return errno;
		stats.tx_msgs++;
		return 0;
	}
	if (dst->fd < 0 || (size_t)dst->fd >= nconns_cap || !conns[dst->fd] ||
	    conns[dst->fd]->id != dst->conn_id)
		return ENOTCONN;
	struct conn *c = conns[dst->fd];
	char *p = realloc(c->out, c->outlen + len);
	if (!p)
		return ENOMEM;
	c->out = p;
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	conn_flush(c);
	if (c->outlen)
		loop_fd_listen(c->fd, EPOLLIN | EPOLLOUT, conn_event, c);
	stats.tx_msgs++;
	return 0;
}

int sip_transp_local(const struct sip_src *dst, char *host, size_t hsize, uint16_t *port)
{
	struct sockaddr_storage loc = dst->local;
	char a[64], *colon;

	if (dst->tp == SIP_TRANSP_UDP && dst->local.ss_family == 0) {
		unsigned i;
		for (i = 0; i < nlst; i++)
			if (lst[i].tp == SIP_TRANSP_UDP &&
			    lst[i].addr.ss_family == dst->addr.ss_family)
				loc = lst[i].addr;
	}
	bool any = (loc.ss_family == AF_INET &&
		    ((struct sockaddr_in *)&loc)->sin_addr.s_addr == htonl(INADDR_ANY)) ||
		   (loc.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&loc)->sin6_addr)) ||
		   loc.ss_family == 0;
	uint16_t p = loc.ss_family ? sip_sa_port(&loc) : 5060;
	if (any && dst->tp == SIP_TRANSP_UDP && def_src.ss_family == dst->addr.ss_family) {
		loc = def_src;   /* udp_send_from() sends from it */
		any = false;
	}
	if (any) {   /* ask the kernel which source address routes to dst */
		int fd = socket(dst->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		socklen_t l = sizeof(loc);
		if (fd < 0)
			return errno;
		if (connect(fd, (const struct sockaddr *)&dst->addr, sa_len(&dst->addr)) < 0 ||
		    getsockname(fd, (struct sockaddr *)&loc, &l) < 0) {
			int err = errno;
			close(fd);
			return err;
		}
		close(fd);
	}
	sip_sa_str(&loc, a, sizeof(a));
	colon = strrchr(a, ':');
	if (colon)
		*colon = '\0';
	snprintf(host, hsize, "%s", a);
	*port = p;
	return 0;
}

const struct sip_transp_stats *sip_transp_stats(void)
{
	return &stats;
}
