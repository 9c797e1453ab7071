/**
 * @file link.c  The replication link (link.h, docs/design/cluster.md 3.1-3.2).
 *
 * Transport: TCP, TCP_NODELAY, non-blocking on the loop. The node whose
 * name sorts first dials the other's replication address; the other
 * listens there and accepts up to LINK_PENDING handshakes at once.
 *
 * Security: TLS 1.3 only (RFC 8446), TLS_AES_128_GCM_SHA256, an external
 * PSK and no certificates. The key of the pair is
 *   HKDF-SHA256(IKM = keyfile bytes, salt = cluster name,
 *               info = "tandem-v1 " client " " server)          (RFC 5869)
 * offered under identity "tandem/<cluster>/<client>/<server>" (RFC 9257:
 * one key per pair). Only psk_dhe_ke is offered (OpenSSL without
 * SSL_OP_ALLOW_NO_DHE_KEX), so each connection has forward secrecy; no
 * tickets, no 0-RTT, so a recorded handshake cannot be replayed. A wrong
 * key fails the binder (the client sees decrypt_error, or illegal_parameter
 * from OpenSSL 3.0 servers); an unknown identity or no PSK
 * finds no certificate to fall back on; a server answering with a
 * certificate fails verification (no trust store) and is refused again by
 * the SSL_session_reused() check. Refusals are logged once per peer
 * address and reason per minute, in the main and the security log.
 *
 * Connection: TCP -> TLS -> HELLO both ways -> UP. HELLO must carry our
 * protocol, cluster name, the peer's node name and the same [cluster]
 * digest, else ERROR and close (state REFUSED, retried). Frames are
 * u32 len (type + payload) | u8 type | payload, len <= HA_LINK_FRAME_MAX;
 * a longer one is ERROR(TOO_BIG) and close. Both sides PING every 50 ms;
 * a connection silent for peer_timeout is closed, as at EOF.
 *
 * Retry (dialler): right away after an up link drops (unless refused),
 * then 1, 2, 4... 30 s between failed attempts; reset once a link is up.
 * A link the layer above closed with ERROR(APP) (a standby that cannot
 * store the stream) is dialled again after 1, 2, 4... 30 s, reset when
 * an up link closes for another reason, so a lasting refusal is not a
 * reconnect loop.
 *
 * Re-entrancy: callbacks may call ha_link_send() or ha_link_stop(); conns
 * and the link are reference counted (mem.h) and every path that ran a
 * callback checks c->dead / l->stopped before touching them again. Frames
 * are only queued by ha_link_send(); the socket is written when the loop
 * says it is writable, so no callback runs from inside ha_link_send().
 *
 * Files: link.c the link (dial, accept, state, HELLO, PING, status),
 * link_conn.c one connection (socket, records, frames, close), link_tls.c
 * the PSK and the handshake, link_codec.c the payloads, link_int.h shared.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "core/log.h"
#include "core/mem.h"
#include "ha/link_int.h"

static void dial_h(void *arg);

/* ----------------------------------------------------------- helpers */

const char *ha_link_state_name(enum ha_link_state s)
{
	switch (s) {
	case HA_LINK_NONE: return "none";
	case HA_LINK_CONNECTING: return "connecting";
	case HA_LINK_HANDSHAKE: return "handshake";
	case HA_LINK_UP: return "up";
	case HA_LINK_REFUSED: return "refused";
	}
	return "?";
}

enum ha_link_state ha_link_state(const struct ha_link *l)
{
	return l->state;
}

static socklen_t sa_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

/* True when a line about (host, why) may be logged now. */
bool ha_link_say(struct ha_link *l, const char *host, const char *why)
{
	char key[sizeof(l->said[0].key)];
	uint64_t now = loop_now();
	struct said *old = &l->said[0];

	snprintf(key, sizeof(key), "%s|%s", host, why);
	for (size_t i = 0; i < sizeof(l->said) / sizeof(*l->said); i++) {
		struct said *s = &l->said[i];
		if (s->used && !strcmp(s->key, key)) {
			if (now - s->when < LINK_SAY_MS)
				return false;
			s->when = now;
			return true;
		}
		if (!s->used || s->when < old->when || (old->used && !s->used))
			old = s;
	}
	snprintf(old->key, sizeof(old->key), "%s", key);
	old->when = now;
	old->used = true;
	return true;
}

/* ------------------------------------------------------------- state */

void ha_link_update(struct ha_link *l)
{
	enum ha_link_state st;
	const struct conn *c = l->cur;

	if (c && c->phase == C_UP)
		st = HA_LINK_UP;
	else if (c && c->phase == C_CONNECT)
		st = HA_LINK_CONNECTING;
	else if (c || l->pending)
		st = HA_LINK_HANDSHAKE;
	else
		st = l->refused ? HA_LINK_REFUSED : HA_LINK_NONE;
	if (st == l->state)
		return;
	log_debug("cluster: link with %s: %s -> %s", l->peer, ha_link_state_name(l->state),
		  ha_link_state_name(st));
	l->state = st;
	l->state_since = loop_now();
}

void ha_link_retry(struct ha_link *l, bool at_once)
{
	if (!l->dials || l->stopped || l->cur || tmr_isset(&l->retry))
		return;
	if (at_once) {
		tmr_start(&l->retry, 0, dial_h, l);
		return;
	}
	tmr_start(&l->retry, l->backoff, dial_h, l);
	l->backoff = l->backoff * 2 > HA_LINK_RETRY_MAX_MS ? HA_LINK_RETRY_MAX_MS
							     : l->backoff * 2;
}

void ha_link_retry_after(struct ha_link *l, uint32_t ms)
{
	if (!l->dials || l->stopped || l->cur)
		return;
	tmr_cancel(&l->retry);
	tmr_start(&l->retry, ms, dial_h, l);
}

/* ------------------------------------------------------ HELLO, PING */

static void pos_of(struct ha_link *l, struct ha_link_pos *pos)
{
	memset(pos, 0, sizeof(*pos));
	if (l->h.pos)
		l->h.pos(pos, l->arg);
}

static void send_ping(struct conn *c, bool pong, uint64_t mono_ms)
{
	struct ha_link_pos pos;
	struct jnl_wbuf b = { 0 };

	pos_of(c->l, &pos);
	if (!c->dead && ha_ping_encode(&b, pong, mono_ms, &pos) == 0)
		ha_conn_queue(c, pong ? HA_F_PONG : HA_F_PING, b.p, b.len);
	jnl_wbuf_free(&b);
}

static void ping_h(void *arg)
{
	struct ha_link *l = arg;

	if (!l->cur || l->cur->phase != C_UP)
		return;
	send_ping(l->cur, false, loop_now());   /* only queues: no callback */
	tmr_start(&l->ping, HA_LINK_PING_MS, ping_h, l);
}

static void silence_h(void *arg)
{
	struct conn *c = arg;
	uint64_t now = loop_now(), quiet = now - c->last_rx;
	uint32_t limit = c->l->peer_timeout;
	struct ha_link *l = c->l;

	if (quiet < limit) {
		tmr_start(&c->tmr, limit - quiet, silence_h, c);
		return;
	}
	mem_ref(c);
	mem_ref(l);
	ha_conn_fail(c, false, "peer silent for %llu ms", (unsigned long long)quiet);
	mem_deref(c);
	mem_deref(l);
}

static void send_hello(struct conn *c)
{
	struct ha_link_pos pos;
	struct jnl_wbuf b = { 0 };

	pos_of(c->l, &pos);
	if (c->dead)
		return;
	if (ha_hello_encode(&b, c->l->cluster, c->l->self, &pos, c->l->conf_sha) ||
	    ha_conn_queue(c, HA_F_HELLO, b.p, b.len))
		ha_conn_fail(c, false, "out of memory");
	jnl_wbuf_free(&b);
}

void ha_link_tls_done(struct conn *c)
{
	c->phase = C_HELLO;
	ha_link_update(c->l);
	send_hello(c);
	if (!c->dead)
		ha_conn_flush(c);
	if (!c->dead)
		ha_conn_read(c);    /* the peer's HELLO may be in already */
}

static void hello_got(struct conn *c, const uint8_t *p, size_t len)
{
	struct ha_link *l = c->l;
	struct ha_link_hello h;

	if (ha_hello_decode(&h, p, len)) {
		ha_conn_error(c, HA_ERR_PROTO, true, "malformed HELLO");
		return;
	}
	if (h.proto != HA_LINK_PROTO) {
		ha_conn_error(c, HA_ERR_PROTO, true, "peer speaks protocol %u, we speak %u",
			      h.proto, HA_LINK_PROTO);
		return;
	}
	if (strcmp(h.cluster, l->cluster)) {
		ha_conn_error(c, HA_ERR_CLUSTER, true, "peer is in cluster '%s', we are in '%s'",
			      h.cluster, l->cluster);
		return;
	}
	if (strcmp(h.node, l->peer)) {
		ha_conn_error(c, HA_ERR_NODE, true, "peer says it is node '%s', expected '%s'",
			      h.node, l->peer);
		return;
	}
	if (memcmp(h.conf_sha256, l->conf_sha, sizeof(l->conf_sha))) {
		ha_conn_error(c, HA_ERR_CONFIG, true, "[cluster] differs between %s and %s: "
			      "make tandem.conf the same on both nodes", l->self, l->peer);
		return;
	}
	/* up: this connection replaces any older one (its down callback may
	 * stop the link) */
	if (l->cur && l->cur != c) {
		ha_conn_error(l->cur, HA_ERR_REPLACED, false, "replaced by a new connection");
		if (l->stopped || c->dead)
			return;
	}
	ha_conn_unlink(c);
	l->cur = c;
	c->phase = C_UP;
	c->last_rx = loop_now();
	tmr_start(&c->tmr, l->peer_timeout, silence_h, c);
	l->hello = h;
	l->have_hello = true;
	l->refused = false;
	l->last_error[0] = '\0';
	l->backoff = HA_LINK_RETRY_MIN_MS;
	l->connects++;
	ha_link_update(l);
	log_notice("cluster: %s with %s (%s) up", l->what, l->peer, c->addr);
	tmr_start(&l->ping, 0, ping_h, l);
	if (l->h.up)
		l->h.up(l, &h, l->arg);
}

void ha_link_frame(struct conn *c, uint8_t type, const uint8_t *p, size_t len)
{
	struct ha_link *l = c->l;
	struct ha_link_ping pg;
	uint16_t code;
	struct pl text;

	if (type == HA_F_ERROR) {
		if (ha_error_decode(&code, &text, p, len)) {
			code = HA_ERR_PROTO;
			text = PL("malformed ERROR");
		}
		c->replaced = code == HA_ERR_REPLACED;   /* no rush to take it back */
		c->app_error = code == HA_ERR_APP;       /* nor after a refusal above */
		bool cfg = code == HA_ERR_CLUSTER || code == HA_ERR_CONFIG ||
			   code == HA_ERR_NODE || code == HA_ERR_PROTO || code == HA_ERR_TOO_BIG;
		ha_conn_fail(c, cfg, "%s says: %.*s", l->peer, PL_ARG(text));
		return;
	}
	if (c->phase == C_HELLO) {
		if (type != HA_F_HELLO)
			ha_conn_error(c, HA_ERR_PROTO, true, "frame type %u before HELLO", type);
		else
			hello_got(c, p, len);
		return;
	}
	switch (type) {
	case HA_F_HELLO:
		ha_conn_error(c, HA_ERR_PROTO, true, "a second HELLO");
		return;
	case HA_F_PING:
	case HA_F_PONG:
		if (ha_ping_decode(&pg, type == HA_F_PONG, p, len)) {
			ha_conn_error(c, HA_ERR_PROTO, true, "malformed %s",
				      type == HA_F_PONG ? "PONG" : "PING");
			return;
		}
		if (type == HA_F_PING) {
			send_ping(c, true, pg.mono_ms);
		} else if (pg.mono_ms <= loop_now()) {
			l->rtt_ms = loop_now() - pg.mono_ms;
			l->have_rtt = true;
		}
		if (l->h.ping)
			l->h.ping(l, &pg, l->arg);
		return;
	default:
		if (l->h.frame)
			l->h.frame(l, type, p, len, l->arg);
	}
}

/* ------------------------------------------------------ connections */

static void dial_h(void *arg)
{
	struct ha_link *l = arg;
	struct conn *c;
	int fd;

	if (l->cur || l->stopped)
		return;
	fd = socket(l->peer_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("cluster: %s to %s: socket: %s", l->what, l->peer,
			  strerror(errno));
		ha_link_retry(l, false);
		return;
	}
	if (!(c = ha_conn_new(l, fd, true, &l->peer_addr))) {
		ha_link_retry(l, false);
		return;
	}
	l->cur = c;
	if (connect(fd, (const struct sockaddr *)&l->peer_addr, sa_len(&l->peer_addr)) == 0) {
		c->phase = C_TLS;
	} else if (errno == EINPROGRESS) {
		c->phase = C_CONNECT;
	} else {
		ha_link_update(l);
		ha_conn_fail(c, false, "connect: %s", strerror(errno));
		return;
	}
	ha_link_update(l);
	mem_ref(c);
	if (c->phase == C_TLS)
		ha_tls_step(c);
	ha_conn_events(c);
	mem_deref(c);
}

static void accept_h(int fd, uint32_t events, void *arg)
{
	struct ha_link *l = arg;

	(void)events;
	for (int i = 0; i < 8 && !l->stopped; i++) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int cfd = accept4(fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("cluster: %s: accept: %s", l->what, strerror(errno));
			return;
		}
		if (l->npending >= LINK_PENDING) {
			char a[64], h[48];
			ha_sa_str(&sa, a, sizeof(a), h, sizeof(h));
			if (ha_link_say(l, h, "busy"))
				log_warn("cluster: %s from %s dropped: %u handshakes "
					 "in progress already", l->what, a, LINK_PENDING);
			close(cfd);
			continue;
		}
		if (!(c = ha_conn_new(l, cfd, false, &sa)))
			continue;
		c->phase = C_TLS;
		c->next = l->pending;
		l->pending = c;
		l->npending++;
		ha_link_update(l);
		ha_conn_events(c);
	}
}

/* ------------------------------------------------------------- start */

static int listen_start(struct ha_link *l)
{
	int one = 1, e;
	int fd = socket(l->self_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->self_addr, sa_len(&l->self_addr)) < 0 ||
	    listen(fd, 16) < 0) {
		e = errno;
		log_error("cluster: %s: cannot listen on %s: %s",
			  l->what, l->self_addr_str, strerror(e));
		close(fd);
		return e;
	}
	if ((e = loop_fd_listen(fd, EPOLLIN, accept_h, l))) {
		close(fd);
		return e;
	}
	l->lfd = fd;
	return 0;
}

static void link_destroy(void *data)
{
	struct ha_link *l = data;

	OPENSSL_cleanse(l->psk, sizeof(l->psk));
	if (l->ctx)
		SSL_CTX_free(l->ctx);
}

int ha_link_start(struct ha_link **lp, const struct cluster_conf *cc, unsigned self,
		  const struct ha_link_handlers *h, void *arg)
{
	struct ha_link_pair p;

	if (self > 1)
		return EINVAL;
	p.self = cc->nodes[self].name;
	p.peer = cc->nodes[!self].name;
	p.self_addr = cc->nodes[self].addr;
	p.peer_addr = cc->nodes[!self].addr;
	p.dials = cluster_conf_dials(cc, self);
	p.what = "replication link";
	return ha_link_start_pair(lp, cc, &p, h, arg);
}

int ha_link_start_pair(struct ha_link **lp, const struct cluster_conf *cc,
		       const struct ha_link_pair *p, const struct ha_link_handlers *h, void *arg)
{
	struct ha_link *l;
	const char *client, *server;
	int e;

	if (!cc->keylen)
		return EINVAL;
	if (!(l = mem_zalloc(sizeof(*l), link_destroy)))
		return ENOMEM;
	l->lfd = -1;
	tmr_init(&l->retry);
	tmr_init(&l->ping);
	snprintf(l->cluster, sizeof(l->cluster), "%s", cc->name);
	snprintf(l->self, sizeof(l->self), "%s", p->self);
	snprintf(l->peer, sizeof(l->peer), "%s", p->peer);
	snprintf(l->what, sizeof(l->what), "%s", p->what ? p->what : "link");
	l->self_addr = p->self_addr;
	l->peer_addr = p->peer_addr;
	ha_sa_str(&l->self_addr, l->self_addr_str, sizeof(l->self_addr_str), NULL, 0);
	ha_sa_str(&l->peer_addr, l->peer_addr_str, sizeof(l->peer_addr_str), NULL, 0);
	l->dials = p->dials;
	client = l->dials ? l->self : l->peer;
	server = l->dials ? l->peer : l->self;
	snprintf(l->identity, sizeof(l->identity), "tandem/%s/%s/%s", l->cluster, client,
		 server);
	memcpy(l->conf_sha, cc->digest, sizeof(l->conf_sha));
	l->peer_timeout = cc->peer_timeout_ms ? cc->peer_timeout_ms : 200;
	l->backoff = HA_LINK_RETRY_MIN_MS;
	if (h)
		l->h = *h;
	l->arg = arg;
	l->state_since = loop_now();
	if ((e = ha_tls_derive(l, cc, client, server)) || (e = ha_tls_ctx(l))) {
		log_error("cluster: %s: TLS setup failed: %s", l->what,
			  ERR_reason_error_string(ERR_peek_error()) ?
			  ERR_reason_error_string(ERR_peek_error()) : strerror(e));
		ERR_clear_error();
		mem_deref(l);
		return e;
	}
	if (!l->dials && (e = listen_start(l))) {
		mem_deref(l);
		return e;
	}
	if (l->dials)
		tmr_start(&l->retry, 0, dial_h, l);
	log_info("cluster: %s: node %s %s %s (%s)", l->what, l->self,
		 l->dials ? "dials" : "waits for", l->peer,
		 l->dials ? l->peer_addr_str : l->self_addr_str);
	*lp = l;
	return 0;
}

void ha_link_stop(struct ha_link *l)
{
	if (!l)
		return;
	l->stopped = true;
	tmr_cancel(&l->retry);
	tmr_cancel(&l->ping);
	if (l->cur)
		ha_conn_close(l->cur, NULL, false);
	while (l->pending)
		ha_conn_close(l->pending, NULL, false);
	if (l->lfd >= 0) {
		loop_fd_forget(l->lfd);
		close(l->lfd);
		l->lfd = -1;
	}
	mem_deref(l);
}

/* ------------------------------------------------------------ frames */

int ha_link_send(struct ha_link *l, uint8_t type, const void *payload, size_t len)
{
	if (!l->cur || l->cur->phase != C_UP)
		return ENOTCONN;
	return ha_conn_queue(l->cur, type, payload, len);
}

size_t ha_link_pending(const struct ha_link *l)
{
	return l->cur ? l->cur->out.len - l->cur->outoff : 0;
}

void ha_link_error(struct ha_link *l, const char *text)
{
	struct conn *c = l->cur;

	if (!c)
		return;
	mem_ref(c);
	mem_ref(l);
	c->app_error = true;
	ha_conn_error(c, HA_ERR_APP, false, "%s", text);
	mem_deref(c);
	mem_deref(l);
}

int ha_link_test_fd(const struct ha_link *l)
{
	return l->cur ? l->cur->fd : -1;
}

int ha_link_test_send_raw(struct ha_link *l, const void *p, size_t len)
{
	struct conn *c = l->cur;
	int e;

	if (!c || c->phase != C_UP)
		return ENOTCONN;
	if ((e = jnl_wbuf_reserve(&c->out, len)))
		return e;
	memcpy(c->out.p + c->out.len, p, len);
	c->out.len += len;
	ha_conn_events(c);
	return 0;
}

/* ------------------------------------------------------------ status */

json_t *ha_link_status_json(const struct ha_link *l)
{
	json_t *j = json_object();
	char hex[2 * sizeof(l->hello.conf_sha256) + 1];

	if (!j)
		return NULL;
	json_object_set_new(j, "state", json_string(ha_link_state_name(l->state)));
	json_object_set_new(j, "since_ms", json_integer((json_int_t)(loop_now() -
							 l->state_since)));
	json_object_set_new(j, "self", json_string(l->self));
	json_object_set_new(j, "peer", json_string(l->peer));
	json_object_set_new(j, "address", json_string(l->peer_addr_str));
	json_object_set_new(j, "dials", json_boolean(l->dials));
	if (!l->dials)
		json_object_set_new(j, "listen", json_string(l->self_addr_str));
	if (l->state == HA_LINK_UP && l->have_rtt)
		json_object_set_new(j, "rtt_ms", json_integer((json_int_t)l->rtt_ms));
	if (tmr_isset(&l->retry))
		json_object_set_new(j, "retry_in_ms", json_integer((json_int_t)tmr_left(&l->retry)));
	json_object_set_new(j, "last_error", l->last_error[0] ? json_string(l->last_error)
							      : json_null());
	json_object_set_new(j, "connects", json_integer((json_int_t)l->connects));
	json_object_set_new(j, "refusals", json_integer((json_int_t)l->refusals));
	json_object_set_new(j, "bytes_in", json_integer((json_int_t)l->bytes_in));
	json_object_set_new(j, "bytes_out", json_integer((json_int_t)l->bytes_out));
	json_object_set_new(j, "frames_in", json_integer((json_int_t)l->frames_in));
	json_object_set_new(j, "frames_out", json_integer((json_int_t)l->frames_out));
	json_object_set_new(j, "pending_bytes", json_integer((json_int_t)ha_link_pending(l)));
	if (l->have_hello) {
		json_t *p = json_object();
		for (size_t i = 0; i < sizeof(l->hello.conf_sha256); i++)
			snprintf(hex + 2 * i, 3, "%02x", l->hello.conf_sha256[i]);
		json_object_set_new(p, "epoch", json_integer((json_int_t)l->hello.epoch));
		json_object_set_new(p, "role", json_integer(l->hello.role));
		json_object_set_new(p, "replid", json_string(l->hello.replid));
		json_object_set_new(p, "offset", json_integer((json_int_t)l->hello.offset));
		json_object_set_new(p, "replid2", json_string(l->hello.replid2));
		json_object_set_new(p, "offset2", json_integer((json_int_t)l->hello.offset2));
		json_object_set_new(p, "conf_sha256", json_string(hex));
		json_object_set_new(j, "peer_hello", p);
	}
	return j;
}
