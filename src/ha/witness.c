/**
 * @file witness.c  `tandemd --witness` (witness.h; docs/design/cluster.md
 * 6): the third vote. It reads [cluster] of CONFDIR/tandem.conf (names,
 * keyfile, lease, `witness = ADDR[:PORT]`), listens for each node on its
 * own port (PORT, PORT + 1) with the nodes' TLS-PSK link, and answers
 * W_REQUEST with witness_state.c's decision. The durable part of the state
 * goes to DIR/witness.state (fsync'd) before the answer that depends on
 * it is sent. A node's link closing (its FIN, a reset) ends its lease at
 * once; a link closed for silence (a hang, a cut) does not: the lease
 * runs out on its own.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "ha/ha.h"
#include "ha/repl.h"
#include "ha/witness.h"
#include "ha/witness_state.h"

static struct {
	struct cluster_conf cc;
	const char *dir;
	struct wit_state st;
	struct ha_link *link[2];
	int sigfd;
	int failed;          /* state file not writable: stop */
} w;

static int node_index(struct ha_link *l)
{
	return l == w.link[0] ? 0 : l == w.link[1] ? 1 : -1;
}

static void send_msg(struct ha_link *l, uint8_t type, const struct wit_msg *m)
{
	struct jnl_wbuf b = { 0 };

	if (!wit_msg_encode(&b, type, m))
		ha_link_send(l, type, b.p, b.len);
	jnl_wbuf_free(&b);
}

/* Durable before answering; a witness that cannot write stops granting. */
static bool persist(void)
{
	int e;

	if (!w.st.dirty)
		return true;
	if ((e = wit_state_save(&w.st, w.dir))) {
		log_error("witness: cannot write %s/witness.state: %s; stopping", w.dir,
			  strerror(e));
		w.failed = 1;
		loop_stop();
		return false;
	}
	return true;
}

static void request(struct ha_link *l, const char *node, const struct wit_msg *in)
{
	struct wit_answer a;
	struct wit_msg out = { 0 };
	char prev[CLUSTER_NAME_MAX];
	uint64_t prev_epoch = w.st.epoch;

	snprintf(prev, sizeof(prev), "%s", w.st.holder);
	if (wit_request(&w.st, node, in->epoch, in->offset, loop_now(), &a) || !persist())
		return;
	if (a.granted) {
		if (strcmp(prev, node) || prev_epoch != a.epoch)
			log_notice("witness: lease granted to %s (epoch %llu, offset %llu)", node,
				   (unsigned long long)a.epoch, (unsigned long long)in->offset);
		out.epoch = a.epoch;
		out.lease_ms = a.lease_ms;
		send_msg(l, HA_F_W_GRANT, &out);
		return;
	}
	out.epoch = a.epoch;
	out.ms_left = a.ms_left;
	snprintf(out.node, sizeof(out.node), "%s", a.holder);
	snprintf(out.why, sizeof(out.why), "%s", a.why);
	log_info("witness: %s denied (epoch %llu): %s", node, (unsigned long long)in->epoch,
		 a.why);
	send_msg(l, HA_F_W_DENY, &out);
}

static void frame_h(struct ha_link *l, uint8_t type, const uint8_t *p, size_t len, void *arg)
{
	int i = node_index(l);
	const char *node;
	struct wit_msg m;

	(void)arg;
	if (i < 0)
		return;
	node = w.cc.nodes[i].name;
	if (wit_msg_decode(&m, type, p, len)) {
		log_warn("witness: malformed %s (type %u) from %s", wit_msg_name(type), type, node);
		ha_link_error(l, "malformed witness frame");
		return;
	}
	switch (type) {
	case HA_F_W_REQUEST:
		request(l, node, &m);
		break;
	case HA_F_W_RELEASE:
		wit_release(&w.st, node);
		log_notice("witness: %s released its lease", node);
		break;
	case HA_F_W_OUTDATED:
	case HA_F_W_CURRENT:
		if ((type == HA_F_W_OUTDATED ? wit_outdated(&w.st, node, m.node, m.offset) :
		     wit_current(&w.st, node, m.node))) {
			log_warn("witness: %s from %s refused: it does not hold the lease "
				 "(or names no other node)", wit_msg_name(type), node);
			break;
		}
		if (!persist())
			return;
		if (type == HA_F_W_OUTDATED)
			log_notice("witness: %s is outdated at offset %llu (recorded by %s)",
				   m.node, (unsigned long long)m.offset, node);
		else
			log_notice("witness: %s is current again (recorded by %s)", m.node, node);
		send_msg(l, type, &m);   /* the echo: recorded */
		break;
	default:
		log_warn("witness: unexpected frame type %u from %s", type, node);
	}
}

/* W_STATE: the link's PING carries the node's role */
static void ping_h(struct ha_link *l, const struct ha_link_ping *pg, void *arg)
{
	int i = node_index(l);

	(void)arg;
	if (i < 0 || pg->pong)
		return;
	wit_role(&w.st, w.cc.nodes[i].name, pg->role == HA_ROLE_ACTIVE);
	if (pg->role == HA_ROLE_STANDBY && pg->repl_state == REPL_SYNC &&
	    !strcmp(w.st.outdated, w.cc.nodes[i].name)) {
		wit_in_sync(&w.st, w.cc.nodes[i].name);
		if (persist())
			log_notice("witness: %s is in sync again: no longer outdated",
				   w.cc.nodes[i].name);
	}
}

static void up_h(struct ha_link *l, const struct ha_link_hello *peer, void *arg)
{
	(void)arg;
	(void)l;
	wit_seen(&w.st, peer->node, peer->epoch, peer->offset);
	log_notice("witness: node %s connected (epoch %llu, offset %llu)", peer->node,
		   (unsigned long long)peer->epoch, (unsigned long long)peer->offset);
}

static void down_h(struct ha_link *l, const char *why, void *arg)
{
	int i = node_index(l);

	(void)arg;
	if (i < 0)
		return;
	/* silence (a hang, a cut) is not a death: the lease runs its course */
	if (strstr(why, "silent")) {
		log_notice("witness: node %s silent (%s)", w.cc.nodes[i].name, why);
		return;
	}
	if (!strcmp(w.st.holder, w.cc.nodes[i].name) && wit_ms_left(&w.st, loop_now()))
		log_notice("witness: holder %s gone (%s): its lease ends now", w.cc.nodes[i].name,
			   why);
	wit_release(&w.st, w.cc.nodes[i].name);
}

static void signal_h(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		log_notice("witness: signal %u: stopping", si.ssi_signo);
		loop_stop();
	}
}

static int signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((w.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return errno;
	return loop_fd_listen(w.sigfd, EPOLLIN, signal_h, NULL);
}

static int fail(const char *fmt, const char *a, const char *b)
{
	char msg[1200];

	snprintf(msg, sizeof(msg), fmt, a, b);
	fprintf(stderr, "tandemd --witness: %s\n", msg);
	log_error("witness: %s", msg);
	return 1;
}

/* Config, state file; then the two listeners. */
static int setup(const char *confdir, const char *listen, struct sockaddr_storage *base)
{
	char err[1024] = "";
	struct conf *conf = NULL;
	int e;

	if ((e = conf_load(&conf, confdir, "tandem.conf", err, sizeof(err))))
		return fail("%s%s", err, "");
	cluster_conf_defaults(&w.cc);
	e = cluster_conf_load(&w.cc, conf_section(conf, "cluster"), confdir, err, sizeof(err));
	conf_free(conf);
	if (e)
		return fail("%s%s", err, "");
	if (!w.cc.enabled)
		return fail("%s/tandem.conf has no [cluster] section%s", confdir, "");
	if (listen) {
		if (cluster_addr_parse(listen, w.cc.port, base))
			return fail("-l %s: expected ADDR:PORT or [V6]:PORT%s", listen, "");
	} else if (w.cc.has_witness) {
		*base = w.cc.witness;
	} else {
		return fail("[cluster] has no `witness = ADDR[:PORT]` and no -l was given%s%s",
			    "", "");
	}
	if (mkdir(w.dir, 0700) && errno != EEXIST)
		return fail("cannot create %s: %s", w.dir, strerror(errno));
	wit_state_init(&w.st, w.cc.nodes[0].name, w.cc.nodes[1].name, w.cc.lease_ms,
		       loop_now_update());
	e = wit_state_load(&w.st, w.dir, err, sizeof(err));
	if (e == EBADMSG)
		return fail("%s%s", err, "");
	if (e && e != ENOENT)
		return fail("cannot read %s/witness.state: %s", w.dir, strerror(e));
	return 0;
}

int witness_main(const char *confdir, const char *dir, const char *listen)
{
	static const struct ha_link_handlers h = {
		.up = up_h, .down = down_h, .frame = frame_h, .ping = ping_h,
	};
	struct sockaddr_storage base;
	int rc = 0;

	w.dir = dir;
	w.sigfd = -1;
	log_init(NULL, LOG_LVL_INFO);
	if (loop_init())
		return fail("cannot start the loop%s%s", "", "");
	if ((rc = setup(confdir, listen, &base)) || signals()) {
		rc = rc ? rc : fail("signals: %s%s", strerror(errno), "");
		goto out;
	}
	for (unsigned i = 0; i < 2; i++) {
		struct ha_link_pair p = {
			.self = WITNESS_NAME, .peer = w.cc.nodes[i].name,
			.peer_addr = w.cc.nodes[i].addr, .dials = false, .what = "witness link",
		};
		int e;

		witness_addr_of(&base, i, &p.self_addr);
		if ((e = ha_link_start_pair(&w.link[i], &w.cc, &p, &h, NULL))) {
			rc = fail("cannot listen for node %s: %s", w.cc.nodes[i].name, strerror(e));
			goto out;
		}
	}
	log_notice("witness: cluster %s, nodes %s and %s, lease %u ms, epoch %llu, holder %s%s; "
		   "granting nothing for %u ms", w.cc.name, w.cc.nodes[0].name,
		   w.cc.nodes[1].name, w.cc.lease_ms, (unsigned long long)w.st.epoch,
		   w.st.holder[0] ? w.st.holder : "-",
		   w.st.outdated[0] ? ", outdated node recorded" : "", w.cc.lease_ms);
	loop_run();
	rc = w.failed;
out:
	for (unsigned i = 0; i < 2; i++)
		ha_link_stop(w.link[i]);
	if (w.sigfd >= 0) {
		loop_fd_forget(w.sigfd);
		close(w.sigfd);
	}
	cluster_conf_clear(&w.cc);
	loop_close();
	log_close();
	return rc;
}
