/**
 * @file http.c  The HTTP listener on libmicrohttpd, run from our event loop.
 *
 * MHD is started without a thread of its own (MHD_USE_EPOLL, no internal
 * polling thread): its epoll descriptor is one more descriptor in our
 * loop, MHD_run() is called when it is readable and when MHD's own timeout
 * (from MHD_get_timeout) falls due. So every handler runs on the loop's
 * thread and reads the registrar, calls and queues directly, with no lock
 * and no copy (docs/design/web.md).
 *
 * Routes (GET and HEAD only):
 *   /                   status page           http.conf auth
 *   /status.json        the page's data        http.conf auth
 *   /provisioning/PATH  DATADIR/provisioning   http.conf auth
 *   prometheus.conf uri (/metrics)             prometheus.conf auth, if any
 * Basic credentials are compared in constant time (SHA-256 of each side,
 * CRYPTO_memcmp); a wrong user or password is a security event
 * (auth_failed, the same log fail2ban reads for SIP).
 *
 * With tlsenable = yes a second daemon serves the same routes over HTTPS
 * (MHD_USE_TLS: GnuTLS inside libmicrohttpd) on tlsbindaddr; each daemon's
 * epoll descriptor is in the loop, one timer runs both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/log.h"
#include "core/loop.h"
#include "sip/transp.h"
#include "web/http.h"
#include "web/prov.h"

#define HTTP_CONN_MAX      64
#define HTTP_CONN_TIMEOUT  15    /* seconds of silence before MHD closes */
#define HTTP_TIMER_MAX     1000  /* ms: MHD_run at least this often */
#define REALM              "Tandem"

enum { L_HTTP, L_HTTPS, L_COUNT };

static struct {
	struct http_conf hc;
	struct MHD_Daemon *d[L_COUNT];
	int epfd[L_COUNT];
	int dirfd;
	struct tmr tmr;
	bool running;
	char datadir[4096];
	char *cert, *key;              /* PEM, for the HTTPS daemon's lifetime */
} H = { .epfd = { -1, -1 }, .dirfd = -1 };

/* ----------------------------------------------------------- the loop */

static void run_h(void *arg);

static void rearm(void)
{
	MHD_UNSIGNED_LONG_LONG ms = HTTP_TIMER_MAX, t;

	for (int i = 0; i < L_COUNT; i++)
		if (H.d[i] && MHD_get_timeout(H.d[i], &t) == MHD_YES && t < ms)
			ms = t;
	tmr_start(&H.tmr, ms, run_h, NULL);
}

static void run_h(void *arg)
{
	(void)arg;
	for (int i = 0; i < L_COUNT; i++)
		if (H.d[i])
			MHD_run(H.d[i]);
	rearm();
}

static void ep_h(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	run_h(arg);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("http: %s", msg);
}

/* ----------------------------------------------------------- answers */

static void peer_str(struct MHD_Connection *c, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct sockaddr_storage ss;

	snprintf(buf, size, "?");
	if (!ci || !ci->client_addr)
		return;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, ci->client_addr, ci->client_addr->sa_family == AF_INET6
	       ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	sip_sa_str(&ss, buf, size);
}

static enum MHD_Result answer_buf(struct MHD_Connection *c, unsigned code,
				  const char *type, const char *body, size_t len,
				  enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned code, const char *msg)
{
	return answer_buf(c, code, "text/plain; charset=utf-8", msg, strlen(msg),
			  MHD_RESPMEM_MUST_COPY);
}

/* Equal in constant time whatever the lengths: compares SHA-256 digests. */
static bool same(const char *a, const char *b)
{
	unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)a, strlen(a), da);
	SHA256((const unsigned char *)b, strlen(b), db);
	return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}

/* true: the request may go on. false: a 401 was queued (*ret). */
static bool authorized(struct MHD_Connection *c, const char *user, const char *pass,
		       const char *what, enum MHD_Result *ret)
{
	char *u, *p = NULL, peer[64];
	bool ok;
	struct MHD_Response *r;
	static const char body[] = "401 Unauthorized: this page needs the user and "
				   "password of http.conf (or prometheus.conf)\n";

	if (!user[0])
		return true;
	u = MHD_basic_auth_get_username_password(c, &p);
	if (u && p) {   /* both compared, whatever the first says */
		bool uok = same(u, user), pok = same(p, pass);
		ok = uok && pok;
	} else {
		ok = false;
	}
	if (!ok && u) {   /* no credentials at all: a browser's first try */
		char why[96];

		peer_str(c, peer, sizeof(peer));
		snprintf(why, sizeof(why), "http %s: wrong user or password", what);
		log_security("auth_failed", peer, u, why);
	}
	if (u)
		MHD_free(u);
	if (p)
		MHD_free(p);
	if (ok)
		return true;
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
					    MHD_RESPMEM_PERSISTENT);
	if (!r) {
		*ret = MHD_NO;
		return false;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	*ret = MHD_queue_basic_auth_fail_response(c, REALM, r);
	MHD_destroy_response(r);
	return false;
}

static const char *mime(const char *path)
{
	static const struct { const char *ext, *type; } m[] = {
		{ ".xml", "application/xml" }, { ".cfg", "text/plain; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".conf", "text/plain; charset=utf-8" },
		{ ".json", "application/json" }, { ".htm", "text/html; charset=utf-8" },
		{ ".html", "text/html; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(m) / sizeof(*m); i++)
		if (!strcmp(dot, m[i].ext))
			return m[i].type;
	return "application/octet-stream";
}

static enum MHD_Result provisioning(struct MHD_Connection *c, const char *path)
{
	struct MHD_Response *r;
	unsigned long long size;
	enum MHD_Result ret;
	char peer[64];
	int fd, e;

	peer_str(c, peer, sizeof(peer));
	if ((e = prov_open(H.dirfd, path, &fd, &size))) {
		if (e == EXDEV || e == ELOOP) {
			log_security("request_rejected", peer, "",
				     "http: path leaves the provisioning directory");
			log_warn("http: %s asked for provisioning '%s': outside the "
				 "provisioning directory, refused", peer, path);
			return answer_text(c, MHD_HTTP_FORBIDDEN,
					   "403 Forbidden: outside the provisioning directory\n");
		}
		log_info("http: %s asked for provisioning '%s': %s", peer, path,
			 e == EISDIR ? "not a file" : strerror(e));
		return answer_text(c, MHD_HTTP_NOT_FOUND, "404 Not Found\n");
	}
	r = MHD_create_response_from_fd64(size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime(path));
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	log_info("http: provisioning '%s' (%llu bytes) to %s", path, size, peer);
	return ret;
}

static enum MHD_Result status_json(struct MHD_Connection *c)
{
	json_t *j = web_status_json();
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!s)
		return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 out of memory\n");
	return answer_buf(c, MHD_HTTP_OK, "application/json", s, strlen(s),
			  MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result metrics(struct MHD_Connection *c)
{
	char *s = web_metrics_text();

	if (!s)
		return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 out of memory\n");
	return answer_buf(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", s,
			  strlen(s), MHD_RESPMEM_MUST_FREE);
}

/* Per connection: whether a request line and headers parsed. A connection
 * that closes without one sent something MHD could not read as HTTP
 * (MHD answers 400 where it can; it logs through mhd_log). */
struct conn {
	bool parsed;
	char peer[64];
};

static void conn_h(void *cls, struct MHD_Connection *c, void **sctx,
		   enum MHD_ConnectionNotificationCode code)
{
	struct conn *k = *sctx;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		k = calloc(1, sizeof(*k));
		if (k)
			peer_str(c, k->peer, sizeof(k->peer));
		*sctx = k;
		return;
	}
	if (k && !k->parsed)
		log_warn("http: connection from %s closed without a valid HTTP request "
			 "(malformed, incomplete or idle for %d s)", k->peer, HTTP_CONN_TIMEOUT);
	free(k);
	*sctx = NULL;
}

static enum MHD_Result access_h(void *cls, struct MHD_Connection *c, const char *url,
				const char *method, const char *version,
				const char *upload, size_t *upload_size, void **state)
{
	static int first;
	enum MHD_Result ret = MHD_NO;
	char peer[64];

	(void)cls;
	(void)version;
	(void)upload;
	if (!*state) {   /* headers only: answer on the second call */
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct conn *k = ci ? ci->socket_context : NULL;

		if (k)
			k->parsed = true;
		*state = &first;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;   /* a body is not read */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		peer_str(c, peer, sizeof(peer));
		log_warn("http: %s from %s refused: only GET and HEAD are served", method, peer);
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "405 Method Not Allowed: only GET and HEAD\n");
	}
	if (H.hc.prom && !strcmp(url, H.hc.prom_uri)) {
		if (!authorized(c, H.hc.prom_user, H.hc.prom_pass, "metrics", &ret))
			return ret;
		return metrics(c);
	}
	if (!authorized(c, H.hc.user, H.hc.pass, "status page", &ret))
		return ret;
	if (!strcmp(url, "/") || !strcmp(url, "/index.html")) {
		const char *p = web_status_page();
		return answer_buf(c, MHD_HTTP_OK, "text/html; charset=utf-8", p, strlen(p),
				  MHD_RESPMEM_PERSISTENT);
	}
	if (!strcmp(url, "/status.json"))
		return status_json(c);
	if (!strncmp(url, "/provisioning/", 14))
		return provisioning(c, url + 14);
	return answer_text(c, MHD_HTTP_NOT_FOUND, "404 Not Found\n");
}

/* ----------------------------------------------------------- start/stop */

static void http_stop_all(void);

/* A whole PEM file, NUL-terminated (MHD takes strings); NULL, errno set. */
static char *read_pem(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (1 << 20) ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)n + 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		errno = errno ? errno : EIO;
	} else {
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

static int start_one(int i, const struct sockaddr_storage *bind)
{
	const union MHD_DaemonInfo *di;
	/* HTTPS: the same daemon with TLS and the PEM strings */
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, H.cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, H.key },
		{ MHD_OPTION_END, 0, NULL },
	};
	char as[64];
	int e;

	sip_sa_str(bind, as, sizeof(as));
	errno = 0;
	H.d[i] = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
				  (i == L_HTTPS ? MHD_USE_TLS : 0) |
				  (bind->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, access_h, NULL,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_NOTIFY_CONNECTION, conn_h, NULL,
				  MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)bind,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT,
				  MHD_OPTION_ARRAY, i == L_HTTPS ? tls : &tls[2],
				  MHD_OPTION_END);
	di = H.d[i] ? MHD_get_daemon_info(H.d[i], MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!di || di->epoll_fd < 0 || loop_fd_listen(di->epoll_fd, EPOLLIN, ep_h, NULL)) {
		e = errno ? errno : EIO;
		log_error("http: cannot listen on tcp:%s%s: %s", as, i == L_HTTPS ? " (HTTPS)" : "",
			  strerror(e));
		fprintf(stderr, "tandemd: http: cannot listen on tcp:%s%s: %s\n", as,
			i == L_HTTPS ? " (HTTPS)" : "", strerror(e));
		if (H.d[i])
			MHD_stop_daemon(H.d[i]);
		H.d[i] = NULL;
		return e;
	}
	H.epfd[i] = di->epoll_fd;
	return 0;
}

int http_start(const struct http_conf *hc, const char *datadir)
{
	char as[64], path[4096];
	int e;

	memcpy(&H.hc, hc, sizeof(H.hc));   /* padding too: http_reloaded compares */
	if (datadir != H.datadir)
		snprintf(H.datadir, sizeof(H.datadir), "%s", datadir);
	if (!hc->enabled)
		return 0;
	tmr_init(&H.tmr);
	if (hc->tls) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			log_error("http: tlsenable = yes, but this libmicrohttpd has no TLS");
			return ENOTSUP;
		}
		if (!(H.cert = read_pem(hc->tls_cert)) || !(H.key = read_pem(hc->tls_key))) {
			e = errno ? errno : EIO;
			log_error("http: cannot read %s: %s", H.cert ? hc->tls_key : hc->tls_cert,
				  strerror(e));
			fprintf(stderr, "tandemd: http: cannot read %s: %s\n",
				H.cert ? hc->tls_key : hc->tls_cert, strerror(e));
			http_stop_all();
			return e;
		}
	}
	if ((e = prov_dir_open(datadir, path, sizeof(path), &H.dirfd))) {
		log_error("http: cannot open %s: %s", path, strerror(e));
		http_stop_all();
		return e;
	}
	if ((e = start_one(L_HTTP, &hc->bind)) ||
	    (hc->tls && (e = start_one(L_HTTPS, &hc->tls_bind)))) {
		http_stop_all();
		return e;
	}
	H.running = true;
	rearm();
	sip_sa_str(&hc->bind, as, sizeof(as));
	log_notice("http: status page%s on http://%s/ (user %s)%s%s", H.hc.prom ? " and metrics"
		   : "", as, H.hc.user, H.hc.prom ? "; metrics at " : "",
		   H.hc.prom ? H.hc.prom_uri : "");
	if (hc->tls) {
		sip_sa_str(&hc->tls_bind, as, sizeof(as));
		log_notice("http: the same over HTTPS on https://%s/ (certificate %s)", as,
			   hc->tls_cert);
	}
	return 0;
}

int http_reloaded(const char *confdir, char *err, size_t errsize)
{
	struct http_conf hc;
	int e = http_conf_load(&hc, confdir, err, errsize);

	struct http_conf old;

	if (e || !memcmp(&hc, &H.hc, sizeof(hc)))   /* both zeroed by http_conf_load */
		return e;
	/* a new listener with the new settings (connections in progress end);
	 * if it cannot start, the old one comes back */
	memcpy(&old, &H.hc, sizeof(old));
	http_stop();
	if (!http_start(&hc, H.datadir)) {
		log_notice("reload: HTTP restarted with the new http.conf/prometheus.conf%s",
			   hc.enabled ? "" : " (disabled)");
		return 0;
	}
	snprintf(err, errsize, "http.conf: the new HTTP settings could not be applied "
		 "(logged); HTTP stays as it was");
	log_error("reload: %s", err);
	http_start(&old, H.datadir);
	return 0;
}

/* Whatever is up goes: daemons, the directory, the PEM copies. */
static void http_stop_all(void)
{
	tmr_cancel(&H.tmr);
	for (int i = 0; i < L_COUNT; i++) {
		if (H.epfd[i] >= 0)
			loop_fd_forget(H.epfd[i]);
		if (H.d[i])
			MHD_stop_daemon(H.d[i]);
		H.d[i] = NULL;
		H.epfd[i] = -1;
	}
	if (H.dirfd >= 0)
		close(H.dirfd);
	H.dirfd = -1;
	if (H.key)
		OPENSSL_cleanse(H.key, strlen(H.key));
	free(H.cert);
	free(H.key);
	H.cert = H.key = NULL;
	H.running = false;
}

void http_stop(void)
{
	if (H.running)
		http_stop_all();
}
