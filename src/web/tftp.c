/**
 * @file tftp.c  Read-only TFTP server (RFC 1350, options RFC 2347/2348/2349,
 * windowsize RFC 7440) serving DATADIR/provisioning to phones.
 *
 * A request arrives on the listening socket (port 69). Each transfer gets
 * its own UDP socket bound to the address the request was sent to (so a
 * phone that asked the floating address hears from it) and connected to
 * the client's port (its TID). A transfer is a state machine driven by
 * the client's ACKs and one timer:
 *
 *   OACK  -- ACK 0 -->  DATA  -- ACK of the last block -->  done
 *     \__ timer: resend OACK    \__ timer: resend the unacked window
 *   after XFER_TRIES sends without progress: given up, logged.
 *
 * Without options the transfer starts in DATA at block 1 (RFC 1350). A
 * duplicate ACK does not resend (the Sorcerer's Apprentice bug, RFC 1123
 * 4.2.3.1); only the timer does. Block numbers wrap at 65535 to 0.
 * Files are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS...)
 * under the provisioning directory: "..", absolute symlinks and magic
 * links cannot leave it. Write requests get ERROR 2 and a log line.
 * File reads (pread of one window) are small and local: done on the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "sip/transp.h"
#include "web/prov.h"
#include "web/tftp.h"
#include "web/tftp_codec.h"

#define XFER_TRIES        6          /* sends of one packet before giving up */
#define XFER_TIMEOUT_MS   1000       /* retransmission without the timeout option */
#define NETASCII_MAX      (16u << 20)  /* netascii is converted in memory */
#define REQ_BUF           (TFTP_BLKSIZE_MAX + 4)

const char *const tftp_conf_options[] = { "enabled", "bindaddr", "port",
					  "max_transfers", NULL };

enum xfer_state { XFER_OACK, XFER_DATA };

struct xfer {
	struct xfer *next;
	enum xfer_state state;
	int fd;                  /* connected to the client's TID */
	int file;                /* octet: the file; netascii: -1 */
	uint8_t *ascii;          /* netascii: the converted file */
	uint64_t size;           /* bytes to send */
	uint32_t blksize, window, timeout_ms;
	uint64_t base;           /* first block not yet acknowledged (1-based) */
	uint64_t last;           /* number of the last block */
	unsigned tries;
	struct tmr tmr;
	struct tftp_req req;     /* the options acknowledged in the OACK */
	uint64_t started;
	char peer[64];
	uint8_t *pkt;            /* pktcap bytes: a DATA or the OACK */
	size_t pktcap;
};

static struct {
	bool on;
	struct tftp_conf conf;   /* as started: a reload compares with it */
	int fd;
	int dirfd;               /* DATADIR/provisioning, O_PATH */
	uint32_t max;
	struct xfer *xfers;
	struct tftp_stats st;
	char datadir[4096];
	uint8_t buf[REQ_BUF];
} S = { .fd = -1, .dirfd = -1 };

/* ------------------------------------------------------------ config */

int tftp_conf_load(struct tftp_conf *tc, const struct conf_section *sec, char *err,
		   size_t errsize)
{
	const struct conf_var *v;
	struct sockaddr_in *sin = (struct sockaddr_in *)&tc->bind;
	uint16_t port = 69;
	char *end;
	unsigned long x;

	memset(tc, 0, sizeof(*tc));
	tc->max_transfers = 64;
	sin->sin_family = AF_UNSPEC;   /* all addresses */
	sin->sin_port = htons(port);
	if (!sec)
		return 0;
	if ((v = conf_var(sec, "enabled")) && conf_bool(v->value, &tc->enabled)) {
		snprintf(err, errsize, "%s:%u: enabled must be yes or no, not '%s'", v->file,
			 v->line, v->value);
		return EINVAL;
	}
	if ((v = conf_var(sec, "port"))) {
		errno = 0;
		x = strtoul(v->value, &end, 10);
		if (errno || end == v->value || *end || x == 0 || x > 65535) {
			snprintf(err, errsize, "%s:%u: port must be from 1 to 65535, not '%s'",
				 v->file, v->line, v->value);
			return EINVAL;
		}
		port = (uint16_t)x;
	}
	if ((v = conf_var(sec, "max_transfers"))) {
		errno = 0;
		x = strtoul(v->value, &end, 10);
		if (errno || end == v->value || *end || x == 0 || x > 10000) {
			snprintf(err, errsize, "%s:%u: max_transfers must be from 1 to 10000, "
				 "not '%s'", v->file, v->line, v->value);
			return EINVAL;
		}
		tc->max_transfers = (uint32_t)x;
	}
	if ((v = conf_var(sec, "bindaddr")) && v->value[0]) {
		if (sip_sa_parse(v->value, port, &tc->bind)) {
			snprintf(err, errsize, "%s:%u: bindaddr must be an IPv4 or IPv6 address, "
				 "not '%s'", v->file, v->line, v->value);
			return EINVAL;
		}
	} else {
		sin->sin_port = htons(port);
	}
	return 0;
}

/* ---------------------------------------------------------- transfers */

static void xfer_timer_h(void *arg);
static void xfer_recv_h(int fd, uint32_t events, void *arg);

static void xfer_free(struct xfer *x)
{
	struct xfer **pp;

	for (pp = &S.xfers; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	tmr_cancel(&x->tmr);
	if (x->fd >= 0) {
		loop_fd_forget(x->fd);
		close(x->fd);
	}
	if (x->file >= 0)
		close(x->file);
	free(x->ascii);
	free(x->pkt);
	free(x);
	S.st.active--;
}

/* A socket bound to local (port 0) and connected to peer. -1 on error. */
static int reply_socket(const struct sockaddr_storage *local,
			const struct sockaddr_storage *peer)
{
	socklen_t ll = local->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in);
	socklen_t pl = peer->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						    : sizeof(struct sockaddr_in);
	struct sockaddr_storage l = *local;
	int fd = socket(local->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (l.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&l)->sin6_port = 0;
	else
		((struct sockaddr_in *)&l)->sin_port = 0;
	if (bind(fd, (struct sockaddr *)&l, ll) < 0 ||
	    connect(fd, (const struct sockaddr *)peer, pl) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_error(int fd, uint16_t code, const char *msg)
{
	uint8_t b[600];
	size_t n = tftp_error_build(b, sizeof(b), code, msg);

	if (n && send(fd, b, n, 0) < 0)
		log_debug("tftp: cannot send ERROR: %s", strerror(errno));
}

/* The request could not be served: ERROR from a fresh port, as a transfer
 * would answer (RFC 1350 4), then counted. */
static void refuse(const struct sockaddr_storage *local, const struct sockaddr_storage *peer,
		   uint16_t code, const char *msg)
{
	int fd = reply_socket(local, peer);

	S.st.refused++;
	if (fd < 0)
		return;
	send_error(fd, code, msg);
	close(fd);
}

static void xfer_fail(struct xfer *x, uint16_t code, const char *why)
{
	log_warn("tftp: transfer of '%s' to %s given up: %s", x->req.file, x->peer, why);
	if (code != UINT16_MAX)
		send_error(x->fd, code, why);
	S.st.failed++;
	xfer_free(x);
}

/* Send block b (1-based); false when the file could not be read. */
static bool send_block(struct xfer *x, uint64_t b)
{
	uint64_t off = (b - 1) * x->blksize;
	size_t n = off >= x->size ? 0 : (size_t)(x->size - off < x->blksize ? x->size - off
									 : x->blksize);
	ssize_t r;

	tftp_data_hdr(x->pkt, (uint16_t)b);
	if (x->ascii) {
		memcpy(x->pkt + 4, x->ascii + off, n);
	} else if (n) {
		r = pread(x->file, x->pkt + 4, n, (off_t)off);
		if (r != (ssize_t)n) {
			xfer_fail(x, TFTP_EUNDEF, r < 0 ? "the file cannot be read"
						      : "the file shrank while it was sent");
			return false;
		}
	}
	if (send(x->fd, x->pkt, n + 4, 0) < 0 && errno != EAGAIN && errno != ECONNREFUSED)
		log_debug("tftp: send to %s: %s", x->peer, strerror(errno));
	return true;
}

static void send_window(struct xfer *x)
{
	uint64_t b;

	for (b = x->base; b <= x->last && b < x->base + x->window; b++)
		if (!send_block(x, b))
			return;
	tmr_start(&x->tmr, x->timeout_ms, xfer_timer_h, x);
}

static void send_oack(struct xfer *x)
{
	size_t n = tftp_oack_build(x->pkt, x->pktcap, &x->req);

	if (n && send(x->fd, x->pkt, n, 0) < 0 && errno != EAGAIN)
		log_debug("tftp: send OACK to %s: %s", x->peer, strerror(errno));
	tmr_start(&x->tmr, x->timeout_ms, xfer_timer_h, x);
}

static void xfer_timer_h(void *arg)
{
	struct xfer *x = arg;

	if (++x->tries >= XFER_TRIES) {
		xfer_fail(x, TFTP_EUNDEF, x->state == XFER_OACK ? "no ACK of the OACK"
								: "no ACK: client gone");
		return;
	}
	if (x->state == XFER_OACK)
		send_oack(x);
	else
		send_window(x);
}

static void xfer_ack(struct xfer *x, uint16_t n)
{
	uint64_t b;

	if (x->state == XFER_OACK) {
		if (n != 0)
			return;
		x->state = XFER_DATA;
		x->tries = 0;
		send_window(x);
		return;
	}
	/* the acknowledged block: one of the window just sent */
	for (b = x->base; b <= x->last && b < x->base + x->window; b++)
		if ((uint16_t)b == n)
			break;
	if (b > x->last || b >= x->base + x->window)
		return;   /* duplicate or stale: the timer resends if need be */
	x->base = b + 1;
	x->tries = 0;
	if (x->base > x->last) {
		S.st.sent++;
		S.st.bytes += x->size;
		log_info("tftp: sent '%s' (%llu bytes%s) to %s in %llu ms", x->req.file,
			 (unsigned long long)x->size, x->ascii ? ", netascii" : "", x->peer,
			 (unsigned long long)(loop_now_update() - x->started));
		xfer_free(x);
		return;
	}
	send_window(x);
}

static void xfer_recv_h(int fd, uint32_t events, void *arg)
{
	struct xfer *x = arg;
	uint8_t b[600];
	char msg[128];
	uint16_t n, code;
	ssize_t r;

	(void)events;
	while ((r = recv(fd, b, sizeof(b), 0)) >= 0 || errno == ECONNREFUSED) {
		if (r < 0) {   /* the client's port is closed */
			xfer_fail(x, UINT16_MAX, "the client's port is closed");
			return;
		}
		if (!tftp_ack_parse(b, (size_t)r, &n)) {
			xfer_ack(x, n);
			return;   /* x may be gone */
		}
		if (!tftp_error_parse(b, (size_t)r, &code, msg, sizeof(msg))) {
			log_warn("tftp: %s stopped the transfer of '%s': ERROR %u \"%s\"", x->peer,
				 x->req.file, code, msg);
			S.st.failed++;
			xfer_free(x);
			return;
		}
		log_warn("tftp: %s sent %s (%zd bytes) during a read: illegal operation",
			 x->peer, tftp_op_name(tftp_opcode(b, (size_t)r)), r);
		xfer_fail(x, TFTP_EBADOP, "illegal TFTP operation: expected ACK");
		return;
	}
}

/* ------------------------------------------------------------ requests */

/* Open, check and size the file of req; on failure refuse() with a reason
 * and log. */
static int xfer_file(struct xfer *x, const struct sockaddr_storage *local,
		     const struct sockaddr_storage *peer)
{
	unsigned long long size;
	int e, fd = -1;

	if ((e = prov_open(S.dirfd, x->req.file, &fd, &size))) {
		if (e == EXDEV || e == ELOOP) {
			log_security("request_rejected", x->peer, "",
				     "tftp: path leaves the provisioning directory");
			log_warn("tftp: %s asked for '%s': outside the provisioning directory, "
				 "refused", x->peer, x->req.file);
			refuse(local, peer, TFTP_EACCESS, "Access violation");
		} else {
			log_warn("tftp: %s asked for '%s': %s", x->peer, x->req.file, strerror(e));
			bool nf = e == ENOENT || e == ENOTDIR || e == EISDIR;
			refuse(local, peer, nf ? TFTP_ENOTFOUND : TFTP_EACCESS,
			       nf ? "File not found" : "Access violation");
		}
		return e;
	}
	x->size = size;
	if (x->req.mode == TFTP_MODE_NETASCII) {
		uint8_t *raw;

		if (x->size > NETASCII_MAX) {
			log_warn("tftp: %s asked for '%s' in netascii: larger than 16 MiB",
				 x->peer, x->req.file);
			refuse(local, peer, TFTP_EUNDEF, "file too large for netascii; use octet");
			close(fd);
			return EFBIG;
		}
		raw = malloc(x->size + 1);
		x->ascii = malloc(2 * x->size + 1);
		if (!raw || !x->ascii || pread(fd, raw, x->size, 0) != (ssize_t)x->size) {
			log_warn("tftp: cannot read '%s' for %s", x->req.file, x->peer);
			refuse(local, peer, TFTP_EUNDEF, "cannot read the file");
			free(raw);
			close(fd);
			return EIO;
		}
		x->size = tftp_netascii_encode(x->ascii, raw, x->size);
		free(raw);
		close(fd);
		x->req.opt_tsize = false;   /* the size on the wire is not the file's */
	} else {
		x->file = fd;
		x->req.tsize = x->size;
	}
	return 0;
}

static void request(const uint8_t *b, size_t n, const struct sockaddr_storage *peer,
		    const struct sockaddr_storage *local)
{
	struct xfer *x;
	const char *why = NULL;
	char ps[64];

	sip_sa_str(peer, ps, sizeof(ps));
	x = calloc(1, sizeof(*x));
	if (!x)
		return;
	x->fd = x->file = -1;
	tmr_init(&x->tmr);
	snprintf(x->peer, sizeof(x->peer), "%s", ps);
	if (tftp_req_parse(&x->req, b, n, &why)) {
		log_warn("tftp: malformed request from %s (%zu bytes, %s): %s", ps, n,
			 tftp_op_name(tftp_opcode(b, n)), why);
		refuse(local, peer, TFTP_EBADOP, why);
		free(x);
		return;
	}
	if (x->req.op == TFTP_WRQ) {
		log_warn("tftp: write request for '%s' from %s refused: provisioning is "
			 "read-only", x->req.file, ps);
		refuse(local, peer, TFTP_EACCESS, "Access violation: this server is read-only");
		free(x);
		return;
	}
	S.st.requests++;
	if (S.st.active >= S.max) {
		log_warn("tftp: '%s' for %s refused: %u transfers already (max_transfers)",
			 x->req.file, ps, S.st.active);
		refuse(local, peer, TFTP_EUNDEF, "server busy: try again later");
		free(x);
		return;
	}
	if (xfer_file(x, local, peer)) {
		free(x->ascii);
		free(x);
		return;
	}
	x->blksize = x->req.opt_blksize ? x->req.blksize : TFTP_BLKSIZE_DEFAULT;
	x->window = x->req.opt_windowsize ? x->req.windowsize : 1;
	x->timeout_ms = x->req.opt_timeout ? x->req.timeout * 1000 : XFER_TIMEOUT_MS;
	x->last = x->size / x->blksize + 1;
	x->base = 1;
	x->started = loop_now_update();
	x->pktcap = (x->blksize < 512 ? 512 : x->blksize) + 4;
	x->pkt = malloc(x->pktcap);
	x->fd = reply_socket(local, peer);
	if (!x->pkt || x->fd < 0 || loop_fd_listen(x->fd, EPOLLIN, xfer_recv_h, x)) {
		log_error("tftp: cannot start a transfer to %s: %s", ps, strerror(errno));
		if (x->fd >= 0)
			close(x->fd);
		if (x->file >= 0)
			close(x->file);
		free(x->pkt);
		free(x->ascii);
		free(x);
		return;
	}
	x->next = S.xfers;
	S.xfers = x;
	S.st.active++;
	log_debug("tftp: RRQ '%s' %s from %s", x->req.file,
		  x->req.mode == TFTP_MODE_NETASCII ? "netascii" : "octet", ps);
	if (x->req.opt_blksize || x->req.opt_tsize || x->req.opt_timeout ||
	    x->req.opt_windowsize) {
		x->state = XFER_OACK;
		send_oack(x);
	} else {
		x->state = XFER_DATA;
		send_window(x);
	}
}

/* The destination address of a datagram (IP_PKTINFO / IPV6_PKTINFO). */
static void dest_addr(struct msghdr *mh, struct sockaddr_storage *local)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)local)->sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)local)->sin6_addr = pi.ipi6_addr;
		}
	}
}

/* ::ffff:a.b.c.d (IPv4 on the dual-stack socket) as plain IPv4. */
static void unmap(struct sockaddr_storage *sa)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

	if (sa->ss_family != AF_INET6)
		return;
	memcpy(&s6, sa, sizeof(s6));
	if (!IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr))
		return;
	memset(sa, 0, sizeof(*sa));
	s4->sin_family = AF_INET;
	s4->sin_port = s6.sin6_port;
	memcpy(&s4->sin_addr, &s6.sin6_addr.s6_addr[12], 4);
}

static void listen_h(int fd, uint32_t events, void *arg)
{
	struct sockaddr_storage peer, local;
	socklen_t ll = sizeof(local);
	union { char b[256]; struct cmsghdr align; } ctl;
	struct iovec iov = { S.buf, sizeof(S.buf) };
	struct msghdr mh;
	ssize_t n;
	int i;

	(void)events;
	(void)arg;
	for (i = 0; i < 32; i++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &peer;
		mh.msg_namelen = sizeof(peer);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		n = recvmsg(fd, &mh, 0);
		if (n < 0)
			return;
		ll = sizeof(local);
		if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0)
			return;
		dest_addr(&mh, &local);
		unmap(&local);
		unmap(&peer);
		request(S.buf, (size_t)n, &peer, &local);
	}
}

/* ------------------------------------------------------------ start/stop */

int tftp_start(const struct tftp_conf *tc, const char *datadir)
{
	struct sockaddr_storage sa = tc->bind;
	char path[4096], as[64];
	int one = 1, zero = 0, e;
	socklen_t sl;

	memcpy(&S.conf, tc, sizeof(S.conf));   /* padding too: tftp_reloaded compares */
	if (datadir != S.datadir)
		snprintf(S.datadir, sizeof(S.datadir), "%s", datadir);
	if (!tc->enabled)
		return 0;
	if ((e = prov_dir_open(datadir, path, sizeof(path), &S.dirfd))) {
		log_error("tftp: cannot open %s: %s", path, strerror(e));
		return e;
	}
	if (sa.ss_family == AF_UNSPEC) {   /* all addresses: IPv6 socket, IPv4 too */
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
		uint16_t port = ((struct sockaddr_in *)&tc->bind)->sin_port;

		memset(&sa, 0, sizeof(sa));
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = port;
	}
	S.fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (S.fd < 0)
		return errno;
	if (sa.ss_family == AF_INET6) {
		setsockopt(S.fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(S.fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		sl = sizeof(struct sockaddr_in6);
	} else {
		setsockopt(S.fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		sl = sizeof(struct sockaddr_in);
	}
	sip_sa_str(&sa, as, sizeof(as));
	if (bind(S.fd, (struct sockaddr *)&sa, sl) < 0 ||
	    loop_fd_listen(S.fd, EPOLLIN, listen_h, NULL)) {
		e = errno;
		log_error("tftp: cannot listen on udp:%s: %s", as, strerror(e));
		fprintf(stderr, "tandemd: tftp: cannot listen on udp:%s: %s\n", as, strerror(e));
		close(S.fd);
		S.fd = -1;
		return e ? e : EIO;
	}
	S.max = tc->max_transfers;
	S.on = true;
	log_notice("tftp: serving %s read-only on udp:%s", path, as);
	return 0;
}

void tftp_stop(void)
{
	while (S.xfers)
		xfer_free(S.xfers);
	if (S.fd >= 0) {
		loop_fd_forget(S.fd);
		close(S.fd);
	}
	if (S.dirfd >= 0)
		close(S.dirfd);
	S.fd = S.dirfd = -1;
	S.on = false;
}

void tftp_reloaded(const struct tftp_conf *tc)
{
	struct tftp_conf old;
	unsigned n = 0;

	if (!memcmp(tc, &S.conf, sizeof(*tc)))   /* both from tftp_conf_load: zeroed */
		return;
	/* a new socket with the new settings; transfers in progress end (the
	 * phone retries); if it cannot start, the old settings come back */
	for (struct xfer *x = S.xfers; x; x = x->next)
		n++;
	memcpy(&old, &S.conf, sizeof(old));
	tftp_stop();
	if (!tftp_start(tc, S.datadir)) {
		log_notice("reload: TFTP restarted with the new [tftp] settings%s (%u transfers "
			   "in progress ended)", tc->enabled ? "" : " (disabled)", n);
		return;
	}
	log_error("reload: the new [tftp] settings could not be applied (logged); TFTP "
		  "stays as it was");
	tftp_start(&old, S.datadir);
}

const struct tftp_stats *tftp_stats(void)
{
	return &S.st;
}
