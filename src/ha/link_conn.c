/**
 * @file link_conn.c  One connection of the replication link: its socket on
 * the loop, TLS records in and out, frames cut and queued, and closing
 * (link.c has the protocol comment).
 *
 * Frames are only queued by ha_conn_queue(); the socket is written when the
 * loop says it is writable, so no callback runs from inside a send. A
 * callback may stop the link: every path that ran one holds a reference
 * (mem.h) and checks c->dead before touching c again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/log.h"
#include "core/mem.h"
#include "ha/link_int.h"

static void conn_io(int fd, uint32_t events, void *arg);

void ha_sa_str(const struct sockaddr_storage *sa, char *buf, size_t size, char *host,
	       size_t hsize)
{
	char h[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, h, sizeof(h));
		port = ntohs(in6->sin6_port);
		snprintf(buf, size, "[%s]:%u", h, port);
	} else if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)sa;
		inet_ntop(AF_INET, &in4->sin_addr, h, sizeof(h));
		port = ntohs(in4->sin_port);
		snprintf(buf, size, "%s:%u", h, port);
	} else {
		snprintf(buf, size, "?");
	}
	if (host)
		snprintf(host, hsize, "%s", h);
}

static void who(const struct conn *c, char *buf, size_t size)
{
	if (c->outbound)
		snprintf(buf, size, "to %s (%s)", c->l->peer, c->addr);
	else
		snprintf(buf, size, "from %s", c->addr);
}

/* ------------------------------------------------------------- close */

static void conn_destroy(void *data)
{
	struct conn *c = data;

	tmr_cancel(&c->tmr);
	tmr_cancel(&c->more);
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0) {
		loop_fd_forget(c->fd);
		close(c->fd);
	}
	free(c->in);
	jnl_wbuf_free(&c->out);
}

void ha_conn_unlink(struct conn *c)
{
	struct ha_link *l = c->l;
	struct conn **pp;

	if (l->cur == c) {
		l->cur = NULL;
		return;
	}
	for (pp = &l->pending; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			l->npending--;
			return;
		}
}

/*
 * Read what the peer sent that we will not look at: close() with unread
 * data answers with a RST, which can destroy our last frame (the ERROR
 * saying why) before the peer reads it. Bounded: the peer may keep
 * sending.
 */
static void drain(int fd)
{
	char buf[4096];

	for (int i = 0; i < 64; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}

/*
 * Close c: fd, timers, TLS (with a close_notify when it got that far).
 * A link that was up reports down; the dialler schedules the next try.
 */
void ha_conn_close(struct conn *c, const char *why, bool refused)
{
	struct ha_link *l = c->l;
	bool was_up;

	if (c->dead)
		return;
	c->dead = true;
	was_up = c->phase == C_UP && l->cur == c;
	tmr_cancel(&c->tmr);
	tmr_cancel(&c->more);
	if (c->ssl && c->phase >= C_HELLO) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);
	}
	ERR_clear_error();
	if (c->fd >= 0) {
		loop_fd_forget(c->fd);
		drain(c->fd);
		close(c->fd);
		c->fd = -1;
	}
	ha_conn_unlink(c);
	if (refused) {
		l->refused = true;
		l->refusals++;
	}
	if (why)
		snprintf(l->last_error, sizeof(l->last_error), "%s", why);
	if (was_up) {
		tmr_cancel(&l->ping);
		l->have_rtt = false;
	}
	ha_link_update(l);
	if (!l->stopped && c->app_error && l->dials && !l->cur) {
		l->app_backoff = l->app_backoff ? l->app_backoff * 2 : HA_LINK_RETRY_MIN_MS;
		if (l->app_backoff > HA_LINK_RETRY_MAX_MS)
			l->app_backoff = HA_LINK_RETRY_MAX_MS;
		ha_link_retry_after(l, l->app_backoff);
	} else if (was_up) {
		l->app_backoff = 0;
	}
	if (!l->stopped) {
		ha_link_retry(l, was_up && !refused && !c->replaced && !c->app_error);
		if (was_up && l->h.down)
			l->h.down(l, why ? why : "closed", l->arg);
	}
	mem_deref(c);
}

/* Log why c failed (refusals: warning and security log, rate limited)
 * and close it. */
void ha_conn_fail(struct conn *c, bool refused, const char *fmt, ...)
{
	char why[160], w[160];
	va_list ap;

	if (c->dead)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	who(c, w, sizeof(w));
	if (refused) {
		if (ha_link_say(c->l, c->host, why)) {
			log_warn("cluster: %s %s refused: %s", c->l->what, w, why);
			log_security("cluster_link_refused", c->addr, c->ident, why);
		}
	} else if (c->phase == C_UP) {
		log_warn("cluster: %s %s lost: %s", c->l->what, w, why);
	} else if (ha_link_say(c->l, c->host, why)) {
		log_info("cluster: %s %s failed: %s", c->l->what, w, why);
	}
	ha_conn_close(c, why, refused);
}

/* ------------------------------------------------------------ output */

void ha_conn_events(struct conn *c)
{
	uint32_t want;

	if (c->dead)
		return;
	if (c->phase == C_CONNECT)
		want = EPOLLOUT;
	else
		want = EPOLLIN | (c->want_write || c->outoff < c->out.len ? EPOLLOUT : 0);
	if (want == c->events)
		return;
	if (loop_fd_listen(c->fd, want, conn_io, c) == 0)
		c->events = want;
}

int ha_conn_queue(struct conn *c, uint8_t type, const void *p, size_t len)
{
	uint8_t *w;
	int e;

	if (len + 1 > HA_LINK_FRAME_MAX)
		return EMSGSIZE;
	if (c->out.len - c->outoff + len + 5 > HA_LINK_OUT_MAX)
		return ENOBUFS;
	if (c->outoff && c->outoff == c->out.len) {
		c->outoff = c->out.len = 0;
	} else if (c->outoff > c->out.len / 2) {
		memmove(c->out.p, c->out.p + c->outoff, c->out.len - c->outoff);
		c->out.len -= c->outoff;
		c->outoff = 0;
	}
	if ((e = jnl_wbuf_reserve(&c->out, len + 5)))
		return e;
	w = c->out.p + c->out.len;
	uint32_t n = (uint32_t)len + 1;
	for (int i = 0; i < 4; i++)
		w[i] = (uint8_t)(n >> (8 * i));
	w[4] = type;
	if (len)
		memcpy(w + 5, p, len);
	c->out.len += len + 5;
	c->l->frames_out++;
	ha_conn_events(c);
	return 0;
}

/* Hand queued bytes to TLS until done or the socket is full. */
void ha_conn_flush(struct conn *c)
{
	while (!c->dead && c->outoff < c->out.len) {
		size_t n = 0;
		ERR_clear_error();
		if (SSL_write_ex(c->ssl, c->out.p + c->outoff, c->out.len - c->outoff, &n)) {
			c->outoff += n;
			c->l->bytes_out += n;
			continue;
		}
		int e = SSL_get_error(c->ssl, 0);
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = true;
			return;
		}
		if (e == SSL_ERROR_WANT_READ)
			return;
		ha_conn_fail(c, false, "write: %s", e == SSL_ERROR_SYSCALL && errno ?
			     strerror(errno) : ERR_reason_error_string(ERR_peek_error()) ?
			     ERR_reason_error_string(ERR_peek_error()) : "connection closed");
		return;
	}
	if (c->outoff == c->out.len)
		c->outoff = c->out.len = 0;
}

/* Send ERROR, close. The frame usually fits the socket buffer at once. */
void ha_conn_error(struct conn *c, uint16_t code, bool refused, const char *fmt, ...)
{
	struct jnl_wbuf b = { 0 };
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (ha_error_encode(&b, code, why) == 0 && ha_conn_queue(c, HA_F_ERROR, b.p, b.len) == 0)
		ha_conn_flush(c);
	jnl_wbuf_free(&b);
	ha_conn_fail(c, refused, "%s", why);
}

/* ------------------------------------------------------------- input */

/* Cut whole frames off c->in and dispatch them. */
static void conn_parse(struct conn *c)
{
	size_t pos = 0;

	while (!c->dead && c->inlen - pos >= 4) {
		const uint8_t *f = c->in + pos;
		uint32_t n = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 |
			     (uint32_t)f[3] << 24;
		if (n > HA_LINK_FRAME_MAX) {
			ha_conn_error(c, HA_ERR_TOO_BIG, true, "frame of %u bytes, over the "
				      "%u-byte limit", n, HA_LINK_FRAME_MAX);
			return;
		}
		if (n == 0) {
			ha_conn_error(c, HA_ERR_PROTO, true, "empty frame");
			return;
		}
		if (c->inlen - pos - 4 < n)
			break;
		pos += 4 + (size_t)n;
		c->l->frames_in++;
		c->last_rx = loop_now();
		ha_link_frame(c, f[4], f + 5, n - 1);
	}
	if (c->dead)
		return;
	memmove(c->in, c->in + pos, c->inlen - pos);
	c->inlen -= pos;
}

/* Room for the frame being received (whole) or a read's worth. */
static int in_room(struct conn *c)
{
	size_t need = LINK_RBUF;

	if (c->inlen >= 4) {
		uint32_t n = (uint32_t)c->in[0] | (uint32_t)c->in[1] << 8 |
			     (uint32_t)c->in[2] << 16 | (uint32_t)c->in[3] << 24;
		if (n <= HA_LINK_FRAME_MAX && (size_t)n + 4 > c->inlen &&
		    (size_t)n + 4 - c->inlen > need)
			need = (size_t)n + 4 - c->inlen;
	}
	if (c->incap - c->inlen >= need)
		return 0;
	size_t cap = c->inlen + need;
	uint8_t *p = realloc(c->in, cap);
	if (!p)
		return ENOMEM;
	c->in = p;
	c->incap = cap;
	return 0;
}

static void more_h(void *arg);

void ha_conn_read(struct conn *c)
{
	for (int budget = LINK_READS; !c->dead; budget--) {
		size_t n = 0;
		if (budget == 0) {
			if (SSL_has_pending(c->ssl))
				tmr_start(&c->more, 0, more_h, c);
			return;
		}
		if (in_room(c)) {
			ha_conn_fail(c, false, "out of memory");
			return;
		}
		ERR_clear_error();
		errno = 0;
		if (SSL_read_ex(c->ssl, c->in + c->inlen, c->incap - c->inlen, &n)) {
			c->inlen += n;
			c->l->bytes_in += n;
			conn_parse(c);
			continue;
		}
		int e = SSL_get_error(c->ssl, 0);
		if (e == SSL_ERROR_WANT_READ)
			return;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = true;
			return;
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			ha_conn_fail(c, false, "closed by %s", c->l->peer);
		else if (e == SSL_ERROR_SYSCALL && errno)
			ha_conn_fail(c, false, "read: %s", strerror(errno));
		else if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
			 e == SSL_ERROR_SYSCALL)
			ha_conn_fail(c, false, "connection closed");
		else
			ha_conn_fail(c, false, "bad TLS data: %s",
				     ERR_reason_error_string(ERR_peek_error()) ?
				     ERR_reason_error_string(ERR_peek_error()) : "?");
		return;
	}
}

static void more_h(void *arg)
{
	struct conn *c = arg;
	struct ha_link *l = c->l;

	mem_ref(c);
	mem_ref(l);
	ha_conn_read(c);
	if (!c->dead) {
		ha_conn_flush(c);
		ha_conn_events(c);
	}
	mem_deref(c);
	mem_deref(l);
}

/* -------------------------------------------------------- lifetime */

static void deadline_h(void *arg)
{
	struct conn *c = arg;

	mem_ref(c);
	ha_conn_fail(c, false, "handshake not done within %u ms", HA_LINK_HANDSHAKE_MS);
	mem_deref(c);
}

static void conn_io(int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	struct ha_link *l = c->l;

	(void)fd;
	mem_ref(c);
	mem_ref(l);
	switch (c->phase) {
	case C_CONNECT: {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			ha_conn_fail(c, false, "connect: %s", strerror(err));
			break;
		}
		c->phase = C_TLS;
		ha_link_update(l);
		ha_tls_step(c);
		break;
	}
	case C_TLS:
		ha_tls_step(c);
		break;
	case C_HELLO:
	case C_UP: {
		bool again = c->want_write;   /* a read may have waited for this */
		c->want_write = false;
		ha_conn_flush(c);
		if (!c->dead && (again || (events & (EPOLLIN | EPOLLHUP | EPOLLERR))))
			ha_conn_read(c);
		if (!c->dead)
			ha_conn_flush(c);
		break;
	}
	}
	ha_conn_events(c);
	mem_deref(c);
	mem_deref(l);
}

struct conn *ha_conn_new(struct ha_link *l, int fd, bool outbound,
			 const struct sockaddr_storage *peer)
{
	struct conn *c = mem_zalloc(sizeof(*c), conn_destroy);
	int one = 1;

	if (!c) {
		close(fd);
		return NULL;
	}
	c->l = l;
	c->fd = fd;
	c->outbound = outbound;
	tmr_init(&c->tmr);
	tmr_init(&c->more);
	ha_sa_str(peer, c->addr, sizeof(c->addr), c->host, sizeof(c->host));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!(c->ssl = SSL_new(l->ctx)) || !SSL_set_fd(c->ssl, fd)) {
		mem_deref(c);
		return NULL;
	}
	SSL_set_app_data(c->ssl, c);
	if (outbound)
		SSL_set_connect_state(c->ssl);
	else
		SSL_set_accept_state(c->ssl);
	tmr_start(&c->tmr, HA_LINK_HANDSHAKE_MS, deadline_h, c);
	return c;
}
