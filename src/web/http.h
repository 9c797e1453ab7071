/**
 * @file http.h  The HTTP listener (Asterisk's http.conf and
 * prometheus.conf): status page at /, its data at /status.json, phone
 * provisioning files at /provisioning/, Prometheus metrics at /metrics.
 * libmicrohttpd driven from the event loop (docs/design/web.md).
 */
#ifndef TANDEM_WEB_HTTP_H
#define TANDEM_WEB_HTTP_H

#include <stdbool.h>
#include <sys/socket.h>

#include <jansson.h>

struct http_conf {
	bool enabled;                  /* http.conf [general] enabled */
	struct sockaddr_storage bind;  /* bindaddr (127.0.0.1), bindport (8088) */
	char user[128], pass[128];     /* auth_username, auth_password */
	bool prom;                     /* prometheus.conf [general] enabled */
	char prom_uri[128];            /* uri, default "/metrics" */
	char prom_user[128], prom_pass[128];
	bool tls;                      /* tlsenable: HTTPS as well */
	struct sockaddr_storage tls_bind;  /* tlsbindaddr (bindaddr:8089) */
	char tls_cert[512], tls_key[512];  /* tlscertfile, tlsprivatekey (PEM) */
};

/** Read http.conf and prometheus.conf (both optional) of confdir. */
int  http_conf_load(struct http_conf *hc, const char *confdir, char *err, size_t errsize);
/** Listen when hc->enabled (a copy of hc is kept). */
int  http_start(const struct http_conf *hc, const char *datadir);
void http_stop(void);
/** After a reload: http.conf/prometheus.conf read again; when they
 * changed, the listener restarts with them (the old one comes back if the
 * new cannot start). 0, or errno for an unreadable or invalid file. */
int  http_reloaded(const char *confdir, char *err, size_t errsize);

/* status.c: what the page and /metrics show, from tandemctl's commands */
/** {"status":..., "registrations":..., "calls":..., "queues":..., "cluster":...} */
json_t *web_status_json(void);
/** The page at / (static HTML and script). */
const char *web_status_page(void);
/** Prometheus text format 0.0.4 into a malloc'd string. */
char *web_metrics_text(void);

#endif
