/**
 * @file keepalived.c  Generating keepalived.conf (keepalived.h; design 8.1).
 *
 * Three tracks for three failures, each puts the instance in FAULT (address
 * dropped, priority 0 advertised, the peer MASTER after Skew_Time):
 *  - track_process: tandemd exited (keepalived matches our exact command
 *    line, read from /proc/self/cmdline, so two nodes on one host are told
 *    apart). Only in the initial network namespace: keepalived 2.2.7 in
 *    another one cannot listen to process events and stays in FAULT;
 *  - track_file tandem_eligible: tandemd's own verdict (role.c writes "1"
 *    when this node must not hold the address);
 *  - track_file tandem_health: a hang. Debian 12's keepalived 2.2.7 refuses
 *    fractional vrrp_script intervals ("invalid number '0.2'"), so the
 *    health check runs every 100 ms in `tandemctl health --watch FILE`
 *    (started by tandemd, outliving it) and reaches keepalived by inotify;
 *    vrrp_script tandem_health (every 1 s) stays as a backstop.
 * VRRPv3 with advert_int 0.05 (accepted by 2.2.7): Master_Down_Interval =
 * 3 x 50 ms + Skew_Time ~ 180 ms.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "core/log.h"
#include "ha/crc32c.h"
#include "ha/keepalived.h"

extern char **environ;

struct out { char *p; size_t size, len; bool full; };

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void host_only(const struct sockaddr_storage *ss, char *out, size_t size)
{
	const void *a = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (!inet_ntop(ss->ss_family, a, out, (socklen_t)size))
		snprintf(out, size, "?");
}

void keepalived_tandemctl_path(char *out, size_t size)
{
	char self[PATH_MAX], try[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	snprintf(out, size, "/usr/bin/tandemctl");
	if (n <= 0)
		return;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return;
	*slash = '\0';
	snprintf(try, sizeof(try), "%s/tandemctl", self);
	if (access(try, X_OK) == 0) {
		snprintf(out, size, "%s", try);
		return;
	}
	snprintf(try, sizeof(try), "%s/../bin/tandemctl", self);
	if (access(try, X_OK) == 0 && realpath(try, self))
		snprintf(out, size, "%s", self);
}

/* Our command line as keepalived's `process` wants it: argv0 and each
 * argument quoted. */
static void cmdline_read(char *out, size_t size)
{
	char buf[2048];
	size_t len = 0, o = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	out[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	len = (size_t)n;
	buf[len] = '\0';
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		int w = snprintf(out + o, size - o, "%s\"%s\"", o ? " " : "", buf + i);

		if (w < 0 || (size_t)w >= size - o) {
			out[o] = '\0';
			return;
		}
		o += (size_t)w;
	}
}

/* Can keepalived listen to process events here? The kernel sends them to
 * the initial network namespace only; elsewhere the listen request is
 * refused (ECONNREFUSED), which is what we try. */
static bool proc_events_work(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC,
				  .nl_pid = 0 };
	/* nlmsghdr, cn_msg, then the operation (cn_msg ends in a flexible array) */
	uint32_t words[(NLMSG_HDRLEN + sizeof(struct cn_msg) + sizeof(uint32_t) + 3) / 4] = { 0 };
	struct nlmsghdr *nh = (struct nlmsghdr *)words;
	struct cn_msg *cn = (struct cn_msg *)((char *)words + NLMSG_HDRLEN);
	uint32_t op = PROC_CN_MCAST_LISTEN;
	size_t len = NLMSG_HDRLEN + sizeof(*cn) + sizeof(op);
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	bool ok;

	if (fd < 0)
		return false;
	nh->nlmsg_len = (uint32_t)len;
	nh->nlmsg_type = NLMSG_DONE;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	     send(fd, words, len, 0) == (ssize_t)len;
	if (ok) {   /* undo the listen: the kernel counts listeners */
		op = PROC_CN_MCAST_IGNORE;
		memcpy(cn->data, &op, sizeof(op));
		if (send(fd, words, len, 0) < 0)
			log_debug("keepalived: process events ignore: %s", strerror(errno));
	}
	close(fd);
	return ok;
}

int keepalived_render(const struct cluster_conf *cc, unsigned self, const char *datadir,
		      const char *tandemctl, const char *cmdline, char *buf, size_t size)
{
	struct out o = { buf, size, 0, false };
	const struct cluster_node *me = &cc->nodes[self], *peer = &cc->nodes[!self];
	unsigned vrid = cc->vrid ? cc->vrid :
		1 + crc32c(0, cc->name, strlen(cc->name)) % 254;
	char src[64], dst[64];

	host_only(&me->addr, src, sizeof(src));
	host_only(&peer->addr, dst, sizeof(dst));
	put(&o, "%s\n", KEEPALIVED_MARKER);
	put(&o, "# cluster %s, node %s (peer %s); tandemd rewrites this file at start\n",
	    cc->name, me->name, peer->name);
	put(&o, "global_defs {\n    enable_script_security\n    script_user %s\n"
	    "    vrrp_garp_master_delay 0\n}\n", geteuid() ? "tandem" : "root");
	put(&o, "vrrp_script tandem_health {\n"
	    "    script \"%s -D %s health\"\n    interval 1\n    timeout 1\n"
	    "    fall 1\n    rise 1\n}\n", tandemctl, datadir);
	if (cmdline && cmdline[0])
		put(&o, "vrrp_track_process tandemd {\n    process %s\n"
		    "    param_match partial\n}\n", cmdline);
	put(&o, "track_file tandem_eligible {\n    file \"%s/cluster/eligible\"\n"
	    "    weight 0\n    init_file 1\n}\n", datadir);
	put(&o, "track_file tandem_health_watch {\n    file \"%s/cluster/health\"\n"
	    "    weight 0\n    init_file 1\n}\n", datadir);
	/* garp_master_refresh: after a partition in which the other node held
	 * the address for a moment, the clients' ARP caches come back to the
	 * master within a second, not after the cache's own expiry */
	put(&o, "vrrp_instance tandem {\n    state BACKUP\n    nopreempt\n"
	    "    garp_master_refresh 1\n"
	    "    interface %s\n    virtual_router_id %u\n    version 3\n"
	    "    advert_int %u.%02u\n    priority 100\n"
	    "    unicast_src_ip %s\n    unicast_peer {\n        %s\n    }\n"
	    "    virtual_ipaddress {\n        %s dev %s\n    }\n"
	    "    track_script {\n        tandem_health\n    }\n",
	    cc->interface, vrid, cc->advert_int_ms / 1000, (cc->advert_int_ms % 1000) / 10,
	    src, dst, cc->vip_str, cc->interface);
	if (cmdline && cmdline[0])
		put(&o, "    track_process {\n        tandemd\n    }\n");
	put(&o, "    track_file {\n        tandem_eligible\n        tandem_health_watch\n    }\n");
	put(&o, "    notify_master \"%s -D %s cluster notify MASTER\"\n"
	    "    notify_backup \"%s -D %s cluster notify BACKUP\"\n"
	    "    notify_fault \"%s -D %s cluster notify FAULT\"\n}\n",
	    tandemctl, datadir, tandemctl, datadir, tandemctl, datadir);
	return o.full ? ENOSPC : 0;
}

static void resolve(const char *datadir, const char *p, char *out, size_t size)
{
	int n = p[0] == '/' ? snprintf(out, size, "%s", p) :
		snprintf(out, size, "%s/%s", datadir, p);

	if (n < 0 || (size_t)n >= size)
		log_warn("keepalived: path %s/%s cut to %s", datadir, p, out);
}

/* `keepalived -t -f path`, bounded to 5 s; its first line of output in err. */
static int config_test(const char *path, char *err, size_t errsize)
{
	char *argv[] = { "keepalived", "-t", "-f", (char *)path, NULL };
	char outp[PATH_MAX + 8], line[512] = "";
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int e, st = 0;

	if (snprintf(outp, sizeof(outp), "%s.test", path) >= (int)sizeof(outp))
		return ENAMETOOLONG;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	e = posix_spawnp(&pid, "keepalived", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		snprintf(err, errsize, "keepalived: cannot run keepalived --config-test "
			 "(is keepalived installed?): %s", strerror(e));
		unlink(outp);
		return e;
	}
	for (int i = 0; i < 500; i++) {   /* 5 s */
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (i == 499) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			snprintf(err, errsize, "keepalived: --config-test of %s took over 5 s",
				 path);
			unlink(outp);
			return ETIMEDOUT;
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	FILE *f = fopen(outp, "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	unlink(outp);
	line[strcspn(line, "\n")] = '\0';
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		snprintf(err, errsize, "keepalived: --config-test refused %s: %s", path,
			 line[0] ? line : "(no message)");
		return EINVAL;
	}
	return 0;
}

static void reload(const char *pidpath)
{
	char buf[32] = "";
	FILE *f = fopen(pidpath, "r");
	long pid;

	if (!f)
		return;   /* keepalived not running (yet): it reads the file at start */
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	pid = strtol(buf, NULL, 10);
	if (pid > 1 && kill((pid_t)pid, SIGHUP) == 0)
		log_notice("keepalived: configuration reloaded (SIGHUP to pid %ld)", pid);
}

int keepalived_configure(const struct cluster_conf *cc, unsigned self, const char *datadir,
			 char *err, size_t errsize)
{
	static char text[16384], old[16384];
	char path[PATH_MAX], tmp[PATH_MAX + 8], pidpath[PATH_MAX], ctl[PATH_MAX];
	char cmd[2048];
	ssize_t n = 0;
	int fd, e;

	resolve(datadir, cc->keepalived_conf, path, sizeof(path));
	resolve(datadir, cc->keepalived_pid, pidpath, sizeof(pidpath));
	keepalived_tandemctl_path(ctl, sizeof(ctl));
	cmdline_read(cmd, sizeof(cmd));
	if (!proc_events_work()) {
		/* keepalived 2.2.7 in another network namespace: "Failed to set/clear
		 * process event listen - errno 111" (the kernel's process events
		 * reach the initial namespace only), then FAULT for ever */
		log_notice("keepalived: no process events in this network namespace: no "
			   "track_process (the health file sees an exit within 100 ms)");
		cmd[0] = '\0';
	}
	if ((e = keepalived_render(cc, self, datadir, ctl, cmd, text, sizeof(text)))) {
		snprintf(err, errsize, "keepalived: configuration over %zu bytes", sizeof(text));
		return e;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, old, sizeof(old) - 1);
		close(fd);
		old[n > 0 ? n : 0] = '\0';
		if (strncmp(old, KEEPALIVED_MARKER "\n", sizeof(KEEPALIVED_MARKER))) {
			snprintf(err, errsize, "keepalived: config not ours: %s does not start "
				 "with tandemd's marker line; move it away (or set [cluster] "
				 "keepalived_conf) and restart tandemd", path);
			return EEXIST;
		}
		if (!strcmp(old, text))
			return 0;
	} else if (errno != ENOENT) {
		snprintf(err, errsize, "keepalived: cannot read %s: %s", path, strerror(errno));
		return errno;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		e = errno ? errno : EIO;
		snprintf(err, errsize, "keepalived: cannot write %s: %s", tmp, strerror(e));
		if (fd >= 0)
			close(fd);
		return e;
	}
	close(fd);
	if ((e = config_test(tmp, err, errsize)) == 0 && rename(tmp, path) < 0) {
		e = errno;
		snprintf(err, errsize, "keepalived: cannot rename %s: %s", tmp, strerror(e));
	}
	if (e) {
		unlink(tmp);
		return e;
	}
	log_notice("keepalived: wrote %s", path);
	reload(pidpath);
	return 0;
}
