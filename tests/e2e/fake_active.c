/**
 * @file fake_active.c  A hostile active for test_cluster_fdiff.sh: it
 * takes node NODE's place on the replication link (the real TLS-PSK link
 * code, CONFDIR's [cluster] and key), says it is active, answers the
 * standby's PSYNC with FULLRESYNC and then one FILE_LIST whose only entry
 * is what MODE says: "traversal" (voicemail/../../../etc/passwd), "size"
 * (monitor/huge.wav of 2^50 bytes) or "order" (two entries, the second
 * sorting before the first). It exits 0 once the standby dropped the
 * link, 1 after 10 s or on any other error.
 *
 *   tandem_fake_active CONFDIR NODE MODE
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "ha/ha.h"
#include "ha/link.h"
#include "ha/repl.h"

static const char *mode;
static int result = 1;
static const char REPLID[] = "f00df00df00df00df00df00df00df00df00df00d";

static void entry(struct jnl_wbuf *b, uint8_t area, const char *rel, uint64_t size)
{
	size_t n = strlen(rel), at = b->len;

	jnl_wbuf_reserve(b, 1 + 2 + n + 8 + 8 + 32);
	b->p[at++] = area;
	b->p[at++] = (uint8_t)n;
	b->p[at++] = (uint8_t)(n >> 8);
	memcpy(b->p + at, rel, n);
	at += n;
	for (int i = 0; i < 8; i++)
		b->p[at++] = (uint8_t)(size >> (8 * i));
	memset(b->p + at, 0, 8 + 32);
	b->len = at + 40;
}

static void hostile(struct ha_link *l)
{
	struct jnl_wbuf b = { 0 };
	struct repl_full f = { .offset = 1000, .db_bytes = 0 };
	uint8_t hdr[5] = { 1, 1, 0, 0, 0 };

	memcpy(f.replid, REPLID, sizeof(REPLID));
	if (repl_full_encode(&b, &f) || ha_link_send(l, HA_F_FULLRESYNC, b.p, b.len)) {
		fprintf(stderr, "fake_active: cannot send FULLRESYNC\n");
		loop_stop();
		return;
	}
	b.len = 0;
	jnl_wbuf_reserve(&b, sizeof(hdr));
	if (!strcmp(mode, "order"))
		hdr[1] = 2;
	memcpy(b.p, hdr, sizeof(hdr));
	b.len = sizeof(hdr);
	if (!strcmp(mode, "traversal")) {
		entry(&b, 1, "../../../etc/passwd", 10);
	} else if (!strcmp(mode, "size")) {
		entry(&b, 2, "huge.wav", 1ull << 50);
	} else {
		entry(&b, 2, "b.wav", 10);
		entry(&b, 2, "a.wav", 10);
	}
	if (ha_link_send(l, HA_F_FILE_LIST, b.p, b.len))
		fprintf(stderr, "fake_active: cannot send FILE_LIST\n");
	else
		fprintf(stderr, "fake_active: sent a FILE_LIST (%s)\n", mode);
	jnl_wbuf_free(&b);
}

static bool sent;

static void on_up(struct ha_link *l, const struct ha_link_hello *peer, void *arg)
{
	(void)l;
	(void)arg;
	fprintf(stderr, "fake_active: link up with %s\n", peer->node);
}

static void on_down(struct ha_link *l, const char *why, void *arg)
{
	(void)l;
	(void)arg;
	fprintf(stderr, "fake_active: link down: %s\n", why);
	if (sent) {
		result = 0;
		loop_stop();
	}
}

static void on_frame(struct ha_link *l, uint8_t type, const uint8_t *p, size_t len, void *arg)
{
	(void)p;
	(void)len;
	(void)arg;
	if (type == HA_F_PSYNC && !sent) {
		sent = true;
		hostile(l);
	}
}

static void on_pos(struct ha_link_pos *pos, void *arg)
{
	(void)arg;
	memset(pos, 0, sizeof(*pos));
	pos->epoch = 1000;
	pos->role = HA_ROLE_ACTIVE;
	snprintf(pos->replid, sizeof(pos->replid), "%s", REPLID);
	pos->offset = 1000;
}

static void timeout_h(void *arg)
{
	(void)arg;
	fprintf(stderr, "fake_active: no refusal within 10 s\n");
	loop_stop();
}

int main(int argc, char **argv)
{
	static const struct ha_link_handlers h = { on_up, on_down, on_frame, NULL, on_pos };
	struct cluster_conf cc;
	struct conf *conf = NULL;
	struct ha_link *l = NULL;
	struct tmr t;
	char err[1024] = "";
	unsigned self;

	if (argc != 4) {
		fprintf(stderr, "usage: %s CONFDIR NODE traversal|size|order\n", argv[0]);
		return 2;
	}
	mode = argv[3];
	signal(SIGPIPE, SIG_IGN);
	log_init(NULL, LOG_LVL_NOTICE);
	cluster_conf_defaults(&cc);
	if (loop_init() || conf_load(&conf, argv[1], "tandem.conf", err, sizeof(err)) ||
	    cluster_conf_load(&cc, conf_section(conf, "cluster"), argv[1], err, sizeof(err)) ||
	    cluster_conf_self(&cc, argv[2], &self, err, sizeof(err)) ||
	    ha_link_start(&l, &cc, self, &h, NULL)) {
		fprintf(stderr, "fake_active: %s\n", err[0] ? err : "cannot start the link");
		return 1;
	}
	conf_free(conf);
	tmr_init(&t);
	tmr_start(&t, 10000, timeout_h, NULL);
	loop_run();
	tmr_cancel(&t);
	ha_link_stop(l);
	cluster_conf_clear(&cc);
	loop_close();
	return result;
}
