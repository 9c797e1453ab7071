/**
 * @file test_link.c  The replication link (src/ha/link.c): two endpoints in
 * one process over loopback TCP, driven by the loop. Handshake and frames,
 * a wrong key refused on both sides (logged once a minute), HELLO
 * mismatches, an unknown identity, a client without a key, silence found
 * with the test clock, a frame over the limit, garbage and truncated TLS
 * input, and the frame codecs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "ha/link.h"
#include "suites.h"

struct side {
	struct ha_link *l;
	unsigned ups, downs, frames;
	char why[160];
	uint8_t last_type;
	size_t last_len;
	uint8_t last_byte;
	unsigned pings, pongs;
	bool stop_in_frame;      /* ha_link_stop() from inside the callback */
};

static struct side A, B, C; /* a dials, b listens; C: a second "a" */
static struct cluster_conf ca, cb;
static size_t live0;
static int fds0;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static uint16_t free_port(void)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &l), 0);
	close(fd);
	return ntohs(in.sin_port);
}

static void node_set(struct cluster_node *n, const char *name, uint16_t port)
{
	struct sockaddr_in *in = (void *)&n->addr;

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in->sin_port = htons(port);
	snprintf(n->addr_str, sizeof(n->addr_str), "127.0.0.1:%u", port);
}

/* Both sides' configuration: same cluster, key and digest. */
static void conf_pair(void)
{
	uint16_t pb = free_port();

	cluster_conf_defaults(&ca);
	snprintf(ca.name, sizeof(ca.name), "tfg");
	node_set(&ca.nodes[0], "a", 1);     /* a only dials: its port is unused */
	node_set(&ca.nodes[1], "b", pb);
	ca.keylen = 32;
	for (unsigned i = 0; i < 32; i++)
		ca.key[i] = (uint8_t)(i * 13 + 1);
	memset(ca.digest, 0x5a, sizeof(ca.digest));
	cb = ca;
}

static void on_up(struct ha_link *l, const struct ha_link_hello *h, void *arg)
{
	struct side *s = arg;

	(void)l;
	(void)h;
	s->ups++;
}

static void on_down(struct ha_link *l, const char *why, void *arg)
{
	struct side *s = arg;

	(void)l;
	s->downs++;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static void on_frame(struct ha_link *l, uint8_t type, const uint8_t *p, size_t len,
		     void *arg)
{
	struct side *s = arg;

	s->frames++;
	s->last_type = type;
	s->last_len = len;
	s->last_byte = len ? p[len - 1] : 0;
	if (s->stop_in_frame) {
		ha_link_stop(l);
		s->l = NULL;
	}
}

static void on_ping(struct ha_link *l, const struct ha_link_ping *pg, void *arg)
{
	struct side *s = arg;

	(void)l;
	if (pg->pong)
		s->pongs++;
	else
		s->pings++;
}

static void on_pos(struct ha_link_pos *pos, void *arg)
{
	struct side *s = arg;

	pos->epoch = 7;
	pos->role = s == &A ? 1 : 2;
	snprintf(pos->replid, sizeof(pos->replid), "%s",
		 "0123456789abcdef0123456789abcdef01234567");
	pos->offset = s == &A ? 1000 : 2000;
}

static const struct ha_link_handlers H = { on_up, on_down, on_frame, on_ping, on_pos };

static void start(struct side *s, const struct cluster_conf *cc, unsigned self)
{
	assert_int_equal(ha_link_start(&s->l, cc, self, &H, s), 0);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(loop_init(), 0);
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	memset(&C, 0, sizeof(C));
	conf_pair();
	live0 = mem_live();
	fds0 = count_fds();
	log_set_level(getenv("LINK_LOG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ha_link_stop(A.l);
	ha_link_stop(B.l);
	ha_link_stop(C.l);
	A.l = B.l = C.l = NULL;
	assert_int_equal(mem_live(), live0);
	assert_int_equal(tmr_count(), 0);
	assert_int_equal(count_fds(), fds0);
	loop_close();
	log_set_level(LOG_LVL_INFO);
	ERR_clear_error();
	return 0;
}

/* ------------------------------------------------------------ driving */

static void stop_cb(void *arg)
{
	(void)arg;
	loop_stop();
}

/* One short real turn of the loop (at most 5 ms). */
static void pump(void)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, 5, stop_cb, NULL);
	loop_run();
	tmr_cancel(&t);
}

/* Pump until cond() holds, at most 600 times (3 s); returns cond(). */
static bool run_until(bool (*cond)(void))
{
	for (int i = 0; i < 600 && !cond(); i++)
		pump();
	return cond();
}

static bool both_up(void)
{
	return A.l && B.l && ha_link_state(A.l) == HA_LINK_UP &&
	       ha_link_state(B.l) == HA_LINK_UP;
}

static bool both_refused(void)
{
	return ha_link_state(A.l) == HA_LINK_REFUSED && ha_link_state(B.l) == HA_LINK_REFUSED;
}

static bool b_refused(void) { return ha_link_state(B.l) == HA_LINK_REFUSED; }
static bool b_got_frame(void) { return B.frames > 0; }
static bool a_got_frame(void) { return A.frames > 0; }
static bool a_got_pong(void) { return A.pongs > 0 && B.pongs > 0; }
static bool both_down(void) { return A.downs > 0 && B.downs > 0; }

static const char *status_str(struct ha_link *l, const char *key)
{
	static char buf[256];
	json_t *j = ha_link_status_json(l);
	json_t *v = json_object_get(j, key);

	snprintf(buf, sizeof(buf), "%s", json_is_string(v) ? json_string_value(v) : "");
	json_decref(j);
	return buf;
}

static json_int_t status_int(struct ha_link *l, const char *key)
{
	json_t *j = ha_link_status_json(l);
	json_int_t v = json_integer_value(json_object_get(j, key));

	json_decref(j);
	return v;
}

static void up_pair(void)
{
	start(&B, &cb, 1);
	start(&A, &ca, 0);
	assert_true(run_until(both_up));
	assert_int_equal(A.ups, 1);
	assert_int_equal(B.ups, 1);
}

/* -------------------------------------------------------------- tests */

static void t_handshake(void **state)
{
	static uint8_t big[HA_LINK_FRAME_MAX - 1];
	json_t *j;

	(void)state;
	up_pair();
	assert_string_equal(status_str(A.l, "state"), "up");
	assert_string_equal(status_str(B.l, "peer"), "a");
	j = ha_link_status_json(A.l);
	assert_true(json_is_true(json_object_get(j, "dials")));
	json_decref(j);
	/* B saw A's HELLO */
	j = ha_link_status_json(B.l);
	json_t *ph = json_object_get(j, "peer_hello");
	assert_int_equal(json_integer_value(json_object_get(ph, "offset")), 1000);
	assert_int_equal(json_integer_value(json_object_get(ph, "epoch")), 7);
	json_decref(j);

	/* frames both ways, up to the limit */
	assert_int_equal(ha_link_send(A.l, HA_F_STREAM, "hello", 5), 0);
	assert_true(run_until(b_got_frame));
	assert_int_equal(B.last_type, HA_F_STREAM);
	assert_int_equal(B.last_len, 5);
	assert_int_equal(B.last_byte, 'o');
	memset(big, 0xab, sizeof(big));
	big[sizeof(big) - 1] = 0xcd;
	assert_int_equal(ha_link_send(B.l, HA_F_ACK, big, sizeof(big)), 0);
	assert_true(ha_link_pending(B.l) > 0);
	assert_true(run_until(a_got_frame));
	assert_int_equal(A.last_len, sizeof(big));
	assert_int_equal(A.last_byte, 0xcd);
	assert_int_equal(ha_link_send(A.l, HA_F_STREAM, big, sizeof(big) + 1), EMSGSIZE);
	/* PING/PONG both ways, an RTT measured */
	assert_true(run_until(a_got_pong));
	assert_true(A.pings > 0);
	j = ha_link_status_json(A.l);
	assert_true(json_is_integer(json_object_get(j, "rtt_ms")));
	assert_true(json_is_null(json_object_get(j, "last_error")));
	json_decref(j);
	assert_int_equal(A.downs + B.downs, 0);
}

static void t_not_up(void **state)
{
	(void)state;
	start(&B, &cb, 1);
	assert_int_equal(ha_link_send(B.l, HA_F_STREAM, "x", 1), ENOTCONN);
	assert_string_equal(status_str(B.l, "state"), "none");
	assert_string_equal(status_str(B.l, "listen"), cb.nodes[1].addr_str);
	/* a second listener on the same address cannot start */
	struct ha_link *l2 = NULL;
	assert_int_equal(ha_link_start(&l2, &cb, 1, &H, &B), EADDRINUSE);
	assert_null(l2);
	/* nobody listens for A: it retries, state none */
	ha_link_stop(B.l);
	B.l = NULL;
	start(&A, &ca, 0);
	for (int i = 0; i < 20; i++)
		pump();
	assert_string_equal(status_str(A.l, "state"), "none");
	assert_non_null(strstr(status_str(A.l, "last_error"), "Connection refused"));
	assert_true(status_int(A.l, "retry_in_ms") > 0);
}

static void t_wrong_key(void **state)
{
	unsigned long w0, w1;

	(void)state;
	cb.key[0] ^= 1;
	w0 = log_count(LOG_LVL_WARN);
	start(&B, &cb, 1);
	start(&A, &ca, 0);
	assert_true(run_until(both_refused));
	assert_string_equal(status_str(B.l, "last_error"), "wrong key");
	assert_string_equal(status_str(A.l, "last_error"), "wrong key (b refused ours)");
	w1 = log_count(LOG_LVL_WARN);
	assert_int_equal(w1 - w0, 2);          /* one line each side */
	assert_int_equal(A.ups + B.ups, 0);
	/* the dialler tries again later: refused again, not logged again */
	assert_int_equal(status_int(A.l, "refusals"), 1);
	loop_test_advance(HA_LINK_RETRY_MIN_MS);
	loop_now_update();
	for (int i = 0; i < 600 && status_int(B.l, "refusals") < 2; i++)
		pump();
	assert_int_equal(status_int(B.l, "refusals"), 2);
	assert_true(run_until(both_refused));
	assert_int_equal(log_count(LOG_LVL_WARN), w1);
	/* and waits longer the next time */
	assert_true(status_int(A.l, "retry_in_ms") > HA_LINK_RETRY_MIN_MS);
}

static void t_hello_mismatch(void **state)
{
	(void)state;
	cb.digest[3] ^= 1;                     /* [cluster] differs */
	start(&B, &cb, 1);
	start(&A, &ca, 0);
	assert_true(run_until(both_refused));
	/* the side that read the other's HELLO first refused it, the other was told */
	const char *ea = status_str(A.l, "last_error"), *eb;
	char sa[160];
	snprintf(sa, sizeof(sa), "%s", ea);
	eb = status_str(B.l, "last_error");
	assert_true(strstr(sa, "[cluster] differs") || strstr(eb, "[cluster] differs"));
	assert_int_equal(A.ups + B.ups, 0);
}

static void t_unknown_identity(void **state)
{
	(void)state;
	snprintf(ca.name, sizeof(ca.name), "other");   /* identity tandem/other/a/b */
	start(&B, &cb, 1);
	start(&A, &ca, 0);
	assert_true(run_until(both_refused));
	assert_string_equal(status_str(B.l, "last_error"), "unknown identity 'tandem/other/a/b'");
	assert_non_null(strstr(status_str(A.l, "last_error"), "refused the handshake"));
}

/* A TLS 1.3 client without a PSK, driven next to the loop. */
static void t_no_key(void **state)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	int fd, r = -1;

	(void)state;
	start(&B, &cb, 1);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(fd, (struct sockaddr *)&cb.nodes[1].addr, sizeof(struct sockaddr_in));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	for (int i = 0; i < 600; i++) {
		ERR_clear_error();
		r = SSL_connect(ssl);
		int e = SSL_get_error(ssl, r);
		if (r == 1 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE))
			break;
		pump();
	}
	assert_int_not_equal(r, 1);
	assert_true(run_until(b_refused));
	assert_non_null(strstr(status_str(B.l, "last_error"), "no key offered"));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	ERR_clear_error();
}

static void t_silence(void **state)
{
	(void)state;
	up_pair();
	/* the clock moves 200 ms while nothing is read: both sides give up */
	loop_test_advance(ca.peer_timeout_ms);
	assert_int_equal(A.downs, 1);
	assert_int_equal(B.downs, 1);
	assert_non_null(strstr(A.why, "peer silent for 200 ms"));
	assert_non_null(strstr(B.why, "peer silent"));
	assert_string_not_equal(status_str(A.l, "state"), "up");
	/* the dialler comes back at once */
	loop_now_update();
	assert_true(run_until(both_up));
	assert_int_equal(A.ups, 2);
	assert_int_equal(B.ups, 2);
}

static void t_eof(void **state)
{
	(void)state;
	up_pair();
	ha_link_stop(B.l);
	B.l = NULL;
	for (int i = 0; i < 600 && !A.downs; i++)
		pump();
	assert_int_equal(A.downs, 1);
	assert_non_null(strstr(A.why, "closed by b"));
}

static void t_too_big(void **state)
{
	uint8_t hdr[5];
	uint32_t n = HA_LINK_FRAME_MAX + 1;

	(void)state;
	up_pair();
	for (int i = 0; i < 4; i++)
		hdr[i] = (uint8_t)(n >> (8 * i));
	hdr[4] = HA_F_STREAM;
	assert_int_equal(ha_link_test_send_raw(A.l, hdr, sizeof(hdr)), 0);
	assert_true(run_until(both_down));
	assert_non_null(strstr(B.why, "over the"));
	assert_non_null(strstr(A.why, "b says: frame of"));
	assert_int_equal(B.frames, 0);
	assert_true(run_until(both_refused));
}

static void t_app_error(void **state)
{
	(void)state;
	up_pair();
	ha_link_error(B.l, "stream does not decode");
	assert_true(run_until(both_down));
	assert_string_equal(A.why, "b says: stream does not decode");
	/* not a refusal: the dialler comes back at once */
	assert_true(run_until(both_up));
}

static void t_stop_in_callback(void **state)
{
	(void)state;
	up_pair();
	B.stop_in_frame = true;
	assert_int_equal(ha_link_send(A.l, HA_F_STREAM, "x", 1), 0);
	assert_int_equal(ha_link_send(A.l, HA_F_STREAM, "y", 1), 0);
	for (int i = 0; i < 600 && B.l; i++)
		pump();
	assert_null(B.l);
	assert_int_equal(B.frames, 1);
	for (int i = 0; i < 600 && !A.downs; i++)
		pump();
	assert_int_equal(A.downs, 1);
}

/* Raw TCP to B's port: send bytes, close, wait until B dropped it. */
static void raw(const void *p, size_t n, bool wait_eof)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[256];

	assert_int_equal(connect(fd, (struct sockaddr *)&cb.nodes[1].addr,
				 sizeof(struct sockaddr_in)), 0);
	assert_int_equal(send(fd, p, n, 0), (ssize_t)n);
	if (wait_eof) {
		int i;
		for (i = 0; i < 600; i++) {
			ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
				break;
			pump();
		}
		assert_true(i < 600);
	}
	close(fd);
}

static void t_garbage(void **state)
{
	static const char http[] = "GET / HTTP/1.0\r\n\r\n";
	static const uint8_t cut[] = { 0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03 };
	static uint8_t noise[4096];

	(void)state;
	up_pair();
	raw(http, sizeof(http) - 1, true);
	assert_non_null(strstr(status_str(B.l, "last_error"), "not a TLS 1.3 peer"));
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)(i * 131 + 7);
	raw(noise, sizeof(noise), true);
	/* a ClientHello cut short, then EOF */
	raw(cut, sizeof(cut), false);
	for (int i = 0; i < 600 && !strstr(status_str(B.l, "last_error"), "closed during"); i++)
		pump();
	assert_non_null(strstr(status_str(B.l, "last_error"), "closed during the handshake"));
	/* the real link never noticed */
	assert_string_equal(status_str(B.l, "state"), "up");
	assert_int_equal(A.downs + B.downs, 0);
	assert_true(status_int(B.l, "refusals") >= 2);
}

/* Bytes that are not TLS records written under an established link. */
static void t_tls_garbage(void **state)
{
	static const uint8_t junk[] = { 0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8,
					9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
					23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	int fd;

	(void)state;
	up_pair();
	fd = ha_link_test_fd(A.l);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	assert_true(run_until(both_down));
	assert_non_null(strstr(B.why, "bad TLS data"));
	/* dropped, not refused: the dialler is back at once */
	assert_true(run_until(both_up));
	assert_int_equal(A.ups, 2);
}

static bool c_up_a_down(void)
{
	return C.l && ha_link_state(C.l) == HA_LINK_UP && A.downs == 1 && B.ups == 2;
}

/* A second node "a" (a restart while the old connection looks alive): the
 * newer connection wins, the older one backs off instead of fighting. */
static void t_replaced(void **state)
{
	(void)state;
	up_pair();
	start(&C, &ca, 0);
	assert_true(run_until(c_up_a_down));
	assert_non_null(strstr(A.why, "replaced by a new connection"));
	assert_true(status_int(A.l, "retry_in_ms") >= HA_LINK_RETRY_MIN_MS / 2);
	assert_string_equal(status_str(B.l, "state"), "up");
}

static void t_codecs(void **state)
{
	struct jnl_wbuf b = { 0 };
	struct ha_link_pos pos = { .epoch = 3, .role = 1, .offset = 99, .offset2 = 7,
				   .repl_state = 4, .flags = 1, .vote_lease_ms = 600 };
	struct ha_link_hello h;
	struct ha_link_ping pg;
	uint8_t sha[32];
	uint16_t code;
	struct pl text;

	(void)state;
	memset(sha, 0x11, sizeof(sha));
	snprintf(pos.replid, sizeof(pos.replid), "%s", "0123456789abcdef0123456789abcdef01234567");
	assert_int_equal(ha_hello_encode(&b, "tfg", "a", &pos, sha), 0);
	assert_int_equal(ha_hello_decode(&h, b.p, b.len), 0);
	assert_int_equal(h.proto, HA_LINK_PROTO);
	assert_string_equal(h.cluster, "tfg");
	assert_string_equal(h.node, "a");
	assert_int_equal(h.epoch, 3);
	assert_string_equal(h.replid, pos.replid);
	assert_string_equal(h.replid2, "0000000000000000000000000000000000000000");
	assert_int_equal(h.offset2, 7);
	assert_memory_equal(h.conf_sha256, sha, 32);
	for (size_t k = 0; k < b.len; k++)
		assert_int_equal(ha_hello_decode(&h, b.p, k), EBADMSG);
	b.len = 0;
	assert_int_equal(ha_ping_encode(&b, true, 12345, &pos), 0);
	assert_int_equal(ha_ping_decode(&pg, true, b.p, b.len), 0);
	assert_int_equal(pg.mono_ms, 12345);
	assert_int_equal(pg.vote_lease_ms, 600);
	assert_int_equal(pg.repl_state, 4);
	assert_int_equal(ha_ping_decode(&pg, false, b.p, b.len), EBADMSG);  /* 4 bytes too many */
	b.len = 0;
	assert_int_equal(ha_error_encode(&b, HA_ERR_CONFIG, "differs"), 0);
	assert_int_equal(ha_error_decode(&code, &text, b.p, b.len), 0);
	assert_int_equal(code, HA_ERR_CONFIG);
	assert_int_equal(pl_strcmp(&text, "differs"), 0);
	assert_int_equal(ha_error_decode(&code, &text, b.p, b.len - 1), EBADMSG);
	assert_string_equal(ha_link_state_name(HA_LINK_REFUSED), "refused");
	jnl_wbuf_free(&b);
}

int test_link_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_codecs),
		cmocka_unit_test_setup_teardown(t_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(t_not_up, setup, teardown),
		cmocka_unit_test_setup_teardown(t_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hello_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unknown_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(t_no_key, setup, teardown),
		cmocka_unit_test_setup_teardown(t_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(t_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(t_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(t_app_error, setup, teardown),
		cmocka_unit_test_setup_teardown(t_stop_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(t_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tls_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(t_replaced, setup, teardown),
	};
	return cmocka_run_group_tests_name("link", tests, NULL, NULL);
}
