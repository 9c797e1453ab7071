/**
 * @file ctl.c  Control socket server: one request, one reply, close.
 *
 * Requests are small and come from the local admin, so each connection is
 * read and answered in one go with short socket timeouts (1 s read, 2 s
 * write) rather than a state machine; a stalled client costs the loop at
 * most those timeouts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "ctl/ctl.h"

#define MAX_CMDS 32
#define MAX_REQ  65536

static struct { const char *name; ctl_cmd_h *h; } cmds[MAX_CMDS];
static size_t ncmds;
static int lfd = -1;
static char sockpath[108];

int ctl_register(const char *name, ctl_cmd_h *h)
{
	if (ncmds >= MAX_CMDS)
		return ENOSPC;
	cmds[ncmds].name = name;
	cmds[ncmds].h = h;
	ncmds++;
	return 0;
}

json_t *ctl_call(const char *name, json_t *args, char *err, size_t errsize)
{
	size_t i;

	for (i = 0; i < ncmds; i++)
		if (!strcmp(cmds[i].name, name))
			return cmds[i].h(args, err, errsize);
	snprintf(err, errsize, "unknown command '%s'", name);
	return NULL;
}

static json_t *dispatch(const char *req, size_t len)
{
	json_error_t jerr;
	json_t *in = json_loadb(req, len, 0, &jerr), *args, *data;
	const char *cmd;
	char err[512] = "";
	size_t i;

	if (!in || !json_is_object(in) || !(cmd = json_string_value(json_object_get(in, "cmd")))) {
		json_decref(in);
		return json_pack("{s:b, s:s}", "ok", 0, "error", "malformed request");
	}
	args = json_object_get(in, "args");
	for (i = 0; i < ncmds; i++) {
		if (strcmp(cmds[i].name, cmd))
			continue;
		data = cmds[i].h(args, err, sizeof(err));
		json_decref(in);
		if (!data)
			return json_pack("{s:b, s:s}", "ok", 0, "error", err[0] ? err : "failed");
		return json_pack("{s:b, s:o}", "ok", 1, "data", data);
	}
	snprintf(err, sizeof(err), "unknown command '%s'", cmd);
	json_decref(in);
	return json_pack("{s:b, s:s}", "ok", 0, "error", err);
}

static void serve(int cfd)
{
	static char buf[MAX_REQ];
	struct timeval rt = { 1, 0 }, wt = { 2, 0 };
	size_t len = 0;
	char *nl = NULL, *out;
	json_t *reply;

	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof(wt));
	while (len < sizeof(buf) - 1 && !nl) {
		ssize_t n = recv(cfd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			break;
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (!nl) {
		log_warn("ctl: incomplete or oversized request dropped");
		return;
	}
	reply = dispatch(buf, (size_t)(nl - buf));
	out = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (!out)
		return;
	size_t ol = strlen(out), off = 0;
	out[ol] = '\0';
	while (off < ol) {
		ssize_t n = send(cfd, out + off, ol - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	send(cfd, "\n", 1, MSG_NOSIGNAL);
	free(out);
}

static void accept_h(int fd, uint32_t events, void *arg)
{
	unsigned budget = 16;

	(void)events;
	(void)arg;
	while (budget--) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		serve(cfd);
		close(cfd);
	}
}

int ctl_init(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("ctl: socket path too long: %s", path);
		return ENAMETOOLONG;
	}
	snprintf(sockpath, sizeof(sockpath), "%s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return errno;
	unlink(path);
	mode_t old = umask(077);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
		err = errno;
		umask(old);
		log_error("ctl: cannot listen on %s: %s", path, strerror(err));
		close(lfd);
		lfd = -1;
		return err;
	}
	umask(old);
	return loop_fd_listen(lfd, EPOLLIN, accept_h, NULL);
}

void ctl_close(void)
{
	if (lfd >= 0) {
		loop_fd_forget(lfd);
		close(lfd);
		unlink(sockpath);
	}
	lfd = -1;
	ncmds = 0;
}
