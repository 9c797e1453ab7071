/**
 * @file main.c  tandemd: read CONFDIR, open DATADIR, serve SIP.
 *
 * Start-up order (closed in reverse): log, config, store, astdb, auth, loop,
 * transport + SIP stack, registrar, listeners, control socket, signals.
 * Everything that can fail on configuration fails before anything listens.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/spawn.h"
#include "core/fs.h"
#include "core/loop.h"
#include "ctl/commands.h"
#include "ctl/ctl.h"
#include "dialplan/dialplan.h"
#include "ha/cluster.h"
#include "ha/failover.h"
#include "ha/file.h"
#include "ha/witness.h"
#include "ha/ha.h"
#include "ha/jnl.h"
#include "ha/turn.h"
#include "media/rtp.h"
#include "media/sound.h"
#include "pbx/call.h"
#include "pbx/mwi.h"
#include "pbx/presence.h"
#include "pbx/call_play.h"
#include "pbx/call_queue.h"
#include "pbx/call_monitor.h"
#include "pbx/call_pickup.h"
#include "pbx/call_vm.h"
#include "pbx/config.h"
#include "pbx/outreg.h"
#include "pbx/pbx.h"
#include "pbx/queue_log.h"
#include "pbx/registrar.h"
#include "pbx/voicemail_spool.h"
#include "sip/auth.h"
#include "sip/sip.h"
#include "store/astdb.h"
#include "store/cdr.h"
#include "store/store.h"
#include "web/tftp.h"
#include "web/http.h"

static struct {
	const char *confdir;
	const char *datadir;
	const char *nodename;
	const char *fake_time;     /* --fake-time, tests only */
	bool foreground;
	struct conf *tandem_raw;   /* keeps the strings of tandem.conf alive */
	int sigfd;
	time_t started;
} g = { .sigfd = -1 };

static void usage(FILE *f)
{
	fprintf(f, "usage: tandemd -C CONFDIR -D DATADIR [-f] [-n NODENAME]"
		" [--fake-time 'YYYY-MM-DD HH:MM']\n"
		"  -C  configuration directory (sip.conf, extensions.conf, tandem.conf, ...)\n"
		"  -D  data directory (databases, spool, control socket tandemd.ctl)\n"
		"  -f  stay in the foreground and log to stderr\n"
		"  -n  this node's name (default: tandem.conf [general] node, else the host name)\n"
		"  -V  print the version\n"
		"  --fake-time 'YYYY-MM-DD HH:MM[:SS]'  FOR TESTS ONLY: the dialplan's clock\n"
		"      (GotoIfTime, time-ranged includes, STRFTIME, EPOCH) starts there\n"
		"usage: tandemd --witness -C CONFDIR -D DIR [-l ADDR:PORT]\n"
		"  the third vote of a two-node cluster (tandem.conf [cluster]; foreground)\n");
}

/* Start-up stopped before anything runs: free the configuration (so that
 * sanitizer builds stay quiet) and give the exit status. */
static int start_failed(struct pbx_config *cfg)
{
	pbx_config_free(cfg);
	return 1;
}

/* ------------------------------------------------------------- reload */

int tandemd_reload(char *err, size_t errsize)
{
	struct pbx_config cfg;
	int e;

	err[0] = '\0';
	e = pbx_config_load(&cfg, g.confdir, g.datadir, err, errsize);
	if (e) {
		log_error("reload failed, keeping the running configuration: %s", err);
		return e;
	}
	if ((e = http_reloaded(g.confdir, err, errsize))) {
		log_error("reload failed, keeping the running configuration: %s", err);
		pbx_config_free(&cfg);
		return e;
	}
	tftp_reloaded(&cfg.tandem.tftp);
	const struct sip_general *now = &pbx_sipconf()->gen, *next = &cfg.sip->gen;
	if (!sip_sa_equal(&now->udpbind, &next->udpbind) ||
	    !sip_sa_equal(&now->tcpbind, &next->tcpbind) || now->tcpenable != next->tcpenable)
		log_warn("reload: udpbindaddr/tcpbindaddr/tcpenable changes take effect at "
			 "the next restart; still listening as before");
	pbx_set_sipconf(cfg.sip);
	cfg.sip = NULL;
	pbx_set_dialplan(cfg.dialplan);
	cfg.dialplan = NULL;
	if (pbx_set_business(&cfg))
		log_error("reload: out of memory switching queues.conf; some queues keep "
			  "the previous settings");
	queue_log_reopen();
	outreg_configure(conf_section(pbx_sipconf()->conf, "general"));
	conf_free(g.tandem_raw);
	g.tandem_raw = cfg.tandem.raw;    /* level and digest offer take effect; log
					     files, nonce lifetime and TCP limits at restart */
	cfg.tandem.raw = NULL;
	log_set_level(cfg.tandem.log_level);
	auth_set_offer(cfg.tandem.digest, cfg.tandem.ndigest);
	cluster_reloaded(&cfg.tandem.cluster);
	pbx_config_free(&cfg);
	log_notice("configuration reloaded from %s", g.confdir);
	return 0;
}

const char *tandemd_nodename(void)
{
	return g.nodename;
}

time_t tandemd_started(void)
{
	return g.started;
}

/* ------------------------------------------------------------- signals */

static void signal_h(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	char err[512];

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			tandemd_reload(err, sizeof(err));
		} else {
			log_notice("signal %u: stopping", si.ssi_signo);
			loop_stop();
		}
	}
}

static int signals_init(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);   /* a full file limit is an error, not death */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	g.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (g.sigfd < 0)
		return errno;
	return loop_fd_listen(g.sigfd, EPOLLIN, signal_h, NULL);
}

/* ---------------------------------------------------------- daemonize */

#define READY_BYTE '\x06'

/*
 * Fork; the child's stderr becomes a pipe to the parent, which copies what
 * arrives to its own stderr and exits 0 only when the child sends
 * READY_BYTE (SIP is listening). So `tandemd` without -f returns once the
 * node serves, or fails with the child's message on the terminal.
 */
static int daemonize(void)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return errno;
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid > 0) {
		char buf[512];
		ssize_t n;
		bool ready = false;

		close(p[1]);
		while ((n = read(p[0], buf, sizeof(buf))) > 0) {
			if (buf[n - 1] == READY_BYTE) {
				ready = true;
				n--;
			}
			if (n > 0 && write(2, buf, (size_t)n) < 0)
				break;
		}
		_exit(ready ? 0 : 1);
	}
	close(p[0]);
	setsid();
	int nfd = open("/dev/null", O_RDWR);
	if (nfd >= 0) {
		dup2(nfd, 0);
		dup2(nfd, 1);
		close(nfd);
	}
	dup2(p[1], 2);
	close(p[1]);
	return 0;
}

/* Start-up is over: tell the parent (if any) and let go of the terminal. */
static void detach_done(bool foreground, bool ok)
{
	int nfd;

	if (foreground)
		return;
	if (ok && write(2, (char[]){ READY_BYTE }, 1) < 0) {
		/* parent gone: nothing to tell */
	}
	nfd = open("/dev/null", O_RDWR);
	if (nfd >= 0) {
		dup2(nfd, 2);
		close(nfd);
	}
}

/* DATADIR/tandemd.pid, locked for the daemon's life: a second tandemd on
 * the same DATADIR would share the database and steal the control socket. */
static int pidfile_lock(const char *datadir)
{
	char path[PATH_MAX], old[32] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/tandemd.pid", datadir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "tandemd: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = read(fd, old, sizeof(old) - 1);
		old[n > 0 ? n : 0] = '\0';
		old[strcspn(old, "\n")] = '\0';
		fprintf(stderr, "tandemd: %s is in use by another tandemd (pid %s)\n",
			datadir, old[0] ? old : "?");
		close(fd);
		return -1;
	}
	return fd;
}

static void pidfile_write(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		log_warn("cannot write the pid file: %s", strerror(errno));
}

/* --------------------------------------------------------------- main */

/* RTP ports from rtp.conf (optional; Asterisk's defaults without it). */
static int media_init(const char *confdir)
{
	char path[PATH_MAX], err[512] = "";
	struct conf *rtp = NULL;
	int e;

	snprintf(path, sizeof(path), "%s/rtp.conf", confdir);
	if (access(path, R_OK) == 0 &&
	    (e = conf_load(&rtp, confdir, "rtp.conf", err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		return e;
	}
	e = rtp_init(rtp);
	conf_free(rtp);
	if (!e)
		e = sound_init(g.datadir, NULL, 0);   /* DATADIR/sounds, Debian's sets */
	return e;
}

/* CONF_APPLY applied on the standby: the same reload as SIGHUP. */
static void reload_replicated(void)
{
	char err[512];

	tandemd_reload(err, sizeof(err));
}

/* End of a loop turn: journal (with [cluster]), commit, confirm (ha.h). */
static void commit_turn(void *arg)
{
	(void)arg;
	ha_turn_end();
}

/* With [cluster]: DATADIR/journal, replayed into the stores (ha.h). */
static int open_journal(const struct cluster_conf *cc)
{
	struct jnl_opts o = { cc->backlog, cc->backlog_max, 0, cc->fsync };
	char err[1024] = "";
	int e;

	if (!cc->enabled)
		return 0;
	ha_set_node(g.nodename);
	ha_jnl_set_opts(&o);
	/* the file areas first: the journal's replay may hold files */
	if ((e = ha_file_init(g.confdir, g.datadir)))
		return e;
	ha_file_set_reload(reload_replicated);
	if ((e = ha_jnl_open(g.datadir, err, sizeof(err))))
		log_error("%s", err[0] ? err : strerror(e));
	return e;
}

static int listen_all(const struct sipconf *sc)
{
	char a[64];
	int e;

	e = sip_transp_listen(SIP_TRANSP_UDP, &sc->gen.udpbind);
	if (e) {
		sip_sa_str(&sc->gen.udpbind, a, sizeof(a));
		fprintf(stderr, "tandemd: cannot listen on udp:%s: %s\n", a, strerror(e));
		log_error("cannot listen on udp:%s: %s", a, strerror(e));
		return e;
	}
	if (sc->gen.tcpenable) {
		e = sip_transp_listen(SIP_TRANSP_TCP, &sc->gen.tcpbind);
		if (e) {
			sip_sa_str(&sc->gen.tcpbind, a, sizeof(a));
			fprintf(stderr, "tandemd: cannot listen on tcp:%s: %s\n", a, strerror(e));
			log_error("cannot listen on tcp:%s: %s", a, strerror(e));
			return e;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pbx_config cfg;
	char err[1024] = "", path[PATH_MAX], host[256];
	int c, e;

	static const struct option lopts[] = {
		{ "fake-time", required_argument, NULL, 'T' },
		{ "witness", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	time_t fake = 0;
	bool witness = false;
	const char *wlisten = NULL;

	while ((c = getopt_long(argc, argv, "C:D:fn:hVl:", lopts, NULL)) != -1) {
		switch (c) {
		case 'W': witness = true; break;
		case 'l': wlisten = optarg; break;
		case 'T': g.fake_time = optarg; break;
		case 'C': g.confdir = optarg; break;
		case 'D': g.datadir = optarg; break;
		case 'f': g.foreground = true; break;
		case 'n': g.nodename = optarg; break;
		case 'V': printf("tandemd %s\n", TANDEM_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (!g.confdir || !g.datadir || optind != argc || (wlisten && !witness)) {
		usage(stderr);
		return 1;
	}
	if (witness)
		return witness_main(g.confdir, g.datadir, wlisten);
	if (g.fake_time && dialplan_clock_parse(g.fake_time, &fake)) {
		fprintf(stderr, "tandemd: --fake-time '%s': expected 'YYYY-MM-DD HH:MM[:SS]' "
			"(local time) or '@SECONDS'\n", g.fake_time);
		return 1;
	}
	if (fake)
		dialplan_clock_set(fake);   /* from now on: runs at normal speed */
	log_init(NULL, LOG_LVL_INFO);
	dialplan_init();
	call_apps_init();   /* Playback, Background...: before the dialplan is checked */
	call_queue_init();  /* Queue, AddQueueMember...: likewise */
	call_pickup_init(g.confdir);   /* pickupexten, Pickup, PickupChan: likewise */
	call_vm_init(g.datadir);   /* VoiceMail, VoiceMailMain */
	call_monitor_init(g.datadir);   /* MixMonitor, Monitor: DATADIR/monitor */
	e = pbx_config_load(&cfg, g.confdir, g.datadir, err, sizeof(err));
	if (e) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	static struct http_conf hc;   /* http.conf, prometheus.conf */
	if (http_conf_load(&hc, g.confdir, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return start_failed(&cfg);
	}
	/* a copy: tandem.conf's strings are replaced on reload */
	static char nodebuf[256];
	bool named = g.nodename || cfg.tandem.node;
	if (!g.nodename)
		g.nodename = cfg.tandem.node;
	if (!g.nodename && gethostname(host, sizeof(host)) == 0)
		g.nodename = host;
	if (cfg.tandem.cluster.enabled) {
		unsigned self;   /* before anything listens: which node are we? */

		if (cluster_conf_self(&cfg.tandem.cluster, named ? g.nodename : NULL, &self,
				      err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return start_failed(&cfg);
		}
	}
	if (g.nodename) {
		snprintf(nodebuf, sizeof(nodebuf), "%s", g.nodename);
		g.nodename = nodebuf;
	}
	if ((e = fs_mkdirs(g.datadir, 0750))) {
		fprintf(stderr, "tandemd: cannot create %s: %s\n", g.datadir, strerror(e));
		return start_failed(&cfg);
	}
	int pidfd = pidfile_lock(g.datadir);
	if (pidfd < 0)
		return start_failed(&cfg);
	if (!g.foreground) {
		unsigned long warned = log_count(LOG_LVL_WARN);
		snprintf(path, sizeof(path), "%s/%s", g.datadir, cfg.tandem.log_file);
		if (cfg.tandem.log_file[0] == '/')
			snprintf(path, sizeof(path), "%s", cfg.tandem.log_file);
		if ((e = log_init(path, cfg.tandem.log_level))) {
			fprintf(stderr, "tandemd: cannot open log %s: %s\n", path, strerror(e));
			return start_failed(&cfg);
		}
		if (warned)
			log_warn("%lu configuration warnings were printed on the terminal at "
				 "start; tandemctl reload logs them here again", warned);
		if (daemonize()) {
			fprintf(stderr, "tandemd: cannot fork: %s\n", strerror(errno));
			return 1;
		}
	} else {
		log_set_level(cfg.tandem.log_level);
	}
	pidfile_write(pidfd);
	if (cfg.tandem.security_log[0] == '/')
		snprintf(path, sizeof(path), "%s", cfg.tandem.security_log);
	else
		snprintf(path, sizeof(path), "%s/%s", g.datadir, cfg.tandem.security_log);
	if ((e = log_security_open(path)))
		log_warn("cannot open security log %s: %s", path, strerror(e));

	if (fake) {
		char when[64];
		struct tm tm;
		time_t now = dialplan_now();

		strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M:%S %Z", localtime_r(&now, &tm));
		log_warn("--fake-time: FOR TESTS ONLY: the dialplan's clock reads %s and runs "
			 "on from there (GotoIfTime, time-ranged includes, STRFTIME, EPOCH); "
			 "call records, registrations and logs keep the real time", when);
	}
	g.started = time(NULL);
	e = loop_init();
	if (!e)
		e = store_init(g.datadir);
	if (!e)
		e = astdb_init(g.datadir);
	if (!e)
		e = cdr_store_init(&cfg.tandem.cdr, g.datadir, g.nodename);
	if (!e)
		e = auth_init(cfg.tandem.nonce_lifetime);
	if (!e)
		e = auth_set_offer(cfg.tandem.digest, cfg.tandem.ndigest);
	struct sip_transp_opts to = { cfg.tandem.tcp_idle_timeout,
				      cfg.tandem.tcp_msg_timeout, cfg.tandem.tcp_max_conns };
	struct sip_stack_handlers sh = { pbx_request, pbx_ack };
	if (!e)
		e = sip_transp_init(sip_stack_recv, &to);
	if (!e)
		e = sip_stack_init(&sh);
	if (!e)
		e = media_init(g.confdir);
	if (!e)
		e = registrar_init();
	if (!e)
		e = call_init(NULL);
	if (!e)
		e = presence_init();
	if (!e)
		e = mwi_init(g.datadir);
	presence_set_usage_h(call_peer_usage);
	if (!e) {
		pbx_set_sipconf(cfg.sip);
		cfg.sip = NULL;
		pbx_set_dialplan(cfg.dialplan);
		cfg.dialplan = NULL;
		g.tandem_raw = cfg.tandem.raw;
		cfg.tandem.raw = NULL;
		e = open_journal(&cfg.tandem.cluster);
		if (!e)
			e = registrar_restore();
	}
	if (!e) {
		if ((e = queue_log_open(g.datadir)))
			log_warn("cannot open %s/queue_log: %s", g.datadir, strerror(e));
		vm_spool_clean(g.datadir);
		e = pbx_set_business(&cfg);
	}
	if (!e)
		e = loop_turn_hook(commit_turn, NULL);
	if (!e)
		e = listen_all(pbx_sipconf());
	if (!e)
		e = outreg_configure(conf_section(pbx_sipconf()->conf, "general"));
	if (!e && (e = cluster_start(&cfg.tandem.cluster, named ? g.nodename : NULL, g.datadir,
				     err, sizeof(err))))
		log_error("%s", err);
	/* heartbeat, keepalived.conf, address watch (roles: cluster_start) */
	if (!e && (e = failover_start(&cfg.tandem.cluster, named ? g.nodename : NULL,
				      g.datadir, err, sizeof(err))))
		log_error("%s", err);
	if (!e)
		e = tftp_start(&cfg.tandem.tftp, g.datadir);
	if (!e)
		e = http_start(&hc, g.datadir);
	if (!e) {
		snprintf(path, sizeof(path), "%s/tandemd.ctl", g.datadir);
		e = ctl_init(path);
	}
	if (!e)
		e = ctl_commands_init();
	if (!e)
		e = signals_init();
	pbx_config_free(&cfg);
	if (e) {
		log_error("start-up failed: %s", strerror(e));
		if (!g.foreground)
			fprintf(stderr, "tandemd: start-up failed: %s (see the log)\n", strerror(e));
		return 1;
	}
	char lst[256];
	sip_transp_describe(lst, sizeof(lst));
	log_notice("tandemd %s node %s serving SIP on %s", TANDEM_VERSION,
		   g.nodename ? g.nodename : "?", lst);
	detach_done(g.foreground, true);

	loop_run();

	ctl_close();
	http_stop();
	tftp_stop();
	outreg_close();
	mwi_close();
	presence_close();
	call_close();
	failover_stop();
	spawn_close();
	cluster_stop();
	rtp_close();
	sound_close();
	sip_transp_close();
	registrar_close();
	ha_turn_end();
	sip_stack_close();
	pbx_close();
	queue_log_close();
	auth_close();
	cdr_store_close();
	ha_file_close();
	ha_jnl_close();   /* after the CDRs of calls still up at shutdown */
	astdb_close();
	store_close();
	loop_close();
	dialplan_close();
	conf_free(g.tandem_raw);
	if (g.sigfd >= 0)
		close(g.sigfd);
	log_notice("stopped");
	log_close();
	return 0;
}
