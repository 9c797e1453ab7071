/**
 * @file file_watch.c  The admin's files on the active (file.h; design
 * 2.3): inotify on CONFDIR, DATADIR/sounds and DATADIR/provisioning,
 * recursive, debounced 200 ms; each batch goes to ha_file_put/del, and a
 * batch that touched CONFDIR ends with CONF_APPLY (the standby reloads).
 * At promotion every file of the three areas is sent once (the rescan:
 * the standby gets what changed while this node was not active).
 *
 * Names ignored: hidden files (editors' .swp, .#locks), "~" backups and
 * our own .tandem-part files.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "ha/file.h"
#include "ha/file_int.h"
#include "ha/ha.h"

#define DEBOUNCE_MS 200

static const unsigned areas[] = { JNL_AREA_CONFDIR, JNL_AREA_SOUNDS, JNL_AREA_PROVISIONING };

struct wdir { int wd; uint8_t area; char rel[JNL_RELPATH_MAX + 1]; };
struct pend { uint8_t area; char rel[JNL_RELPATH_MAX + 1]; };

static struct {
	int fd;
	struct wdir *w;
	size_t nw, capw;
	struct pend *p;
	size_t np, capp;
	struct tmr debounce;
} W = { .fd = -1 };

static bool ignored(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' || (n && name[n - 1] == '~') ||
	       (n > 12 && !strcmp(name + n - 12, ".tandem-part"));
}

static int join(char *out, size_t size, const char *a, const char *b)
{
	int n = *a ? snprintf(out, size, "%s/%s", a, b) : snprintf(out, size, "%s", b);

	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

static void pend(uint8_t area, const char *rel)
{
	for (size_t i = 0; i < W.np; i++)
		if (W.p[i].area == area && !strcmp(W.p[i].rel, rel))
			return;
	if (W.np == W.capp) {
		size_t n = W.capp ? W.capp * 2 : 32;
		struct pend *v = realloc(W.p, n * sizeof(*v));
		if (!v) {
			log_error("cluster: out of memory: %s/%s not replicated",
				  ha_file_area_name(area), rel);
			return;
		}
		W.p = v;
		W.capp = n;
	}
	W.p[W.np].area = area;
	snprintf(W.p[W.np].rel, sizeof(W.p[W.np].rel), "%s", rel);
	W.np++;
}

/* Watch dir area/rel and everything beneath; with scan, pend its files. */
static void watch_tree(uint8_t area, const char *rel, bool scan)
{
	char path[PATH_MAX], sub[JNL_RELPATH_MAX + 1];
	struct dirent *de;
	DIR *d;
	int wd;

	if (snprintf(path, sizeof(path), "%s%s%s", ha_file_roots.root[area], *rel ? "/" : "",
		     rel) >= (int)sizeof(path))
		return;
	wd = inotify_add_watch(W.fd, path, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
			       IN_DELETE | IN_CREATE | IN_ONLYDIR);
	if (wd < 0) {
		log_warn("cluster: cannot watch %s: %s; its changes are not replicated", path,
			 strerror(errno));
		return;
	}
	if (W.nw == W.capw) {
		size_t n = W.capw ? W.capw * 2 : 32;
		struct wdir *v = realloc(W.w, n * sizeof(*v));
		if (!v)
			return;
		W.w = v;
		W.capw = n;
	}
	W.w[W.nw].wd = wd;
	W.w[W.nw].area = area;
	snprintf(W.w[W.nw].rel, sizeof(W.w[W.nw].rel), "%s", rel);
	W.nw++;
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		struct stat st;
		char p2[PATH_MAX + 256];

		if (ignored(de->d_name) || join(sub, sizeof(sub), rel, de->d_name))
			continue;
		snprintf(p2, sizeof(p2), "%s/%s", path, de->d_name);
		if (lstat(p2, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			watch_tree(area, sub, scan);
		else if (scan && S_ISREG(st.st_mode))
			pend(area, sub);
	}
	closedir(d);
}

static const struct wdir *wdir_of(int wd)
{
	for (size_t i = 0; i < W.nw; i++)
		if (W.w[i].wd == wd)
			return &W.w[i];
	return NULL;
}

/* Debounce over: each pending name is put (a regular file) or deleted. */
static void flush(void *arg)
{
	bool conf = false;

	(void)arg;
	for (size_t i = 0; i < W.np; i++) {
		char path[PATH_MAX + JNL_RELPATH_MAX];
		struct stat st;
		struct pend *p = &W.p[i];

		int n = snprintf(path, sizeof(path), "%s/%s", ha_file_roots.root[p->area],
				 p->rel);

		if (n < 0 || (size_t)n >= sizeof(path))   /* cannot be: relpath <= 1024 */
			continue;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			log_info("cluster: %s/%s changed: sent to the standby",
				 ha_file_area_name(p->area), p->rel);
			ha_file_put((enum jnl_area)p->area, p->rel, path);
		} else if (lstat(path, &st) < 0 && errno == ENOENT) {
			log_info("cluster: %s/%s removed: removed on the standby",
				 ha_file_area_name(p->area), p->rel);
			ha_file_del((enum jnl_area)p->area, p->rel);
		} else {
			continue;
		}
		conf |= p->area == JNL_AREA_CONFDIR;
	}
	W.np = 0;
	if (conf)
		ha_file_conf_apply();
}

static void rescan_all(void)
{
	for (size_t i = 0; i < W.nw; i++)
		inotify_rm_watch(W.fd, W.w[i].wd);
	W.nw = 0;
	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		watch_tree((uint8_t)areas[i], "", true);
	tmr_start(&W.debounce, DEBOUNCE_MS, flush, NULL);
}

static void events_h(int fd, uint32_t events, void *arg)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)events;
	(void)arg;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			const struct wdir *w = wdir_of(ev->wd);
			char rel[JNL_RELPATH_MAX + 1];

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				log_warn("cluster: too many file changes at once: rescanning");
				rescan_all();
				return;
			}
			if (!w || !ev->len || ignored(ev->name) ||
			    join(rel, sizeof(rel), w->rel, ev->name))
				continue;
			uint8_t area = w->area;   /* watch_tree() may move W.w */
			if (ev->mask & IN_ISDIR) {
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					watch_tree(area, rel, true);
				continue;
			}
			if (ev->mask & IN_CREATE)   /* IN_CLOSE_WRITE follows */
				continue;
			pend(area, rel);
		}
	}
	if (W.np)
		tmr_start(&W.debounce, DEBOUNCE_MS, flush, NULL);
}

static void watch_stop(void)
{
	if (W.fd < 0)
		return;
	loop_fd_forget(W.fd);
	close(W.fd);
	W.fd = -1;
	W.nw = W.np = 0;
	tmr_cancel(&W.debounce);
}

static void watch_start(void)
{
	if (W.fd >= 0)
		return;
	W.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (W.fd < 0 || loop_fd_listen(W.fd, EPOLLIN, events_h, NULL)) {
		log_error("cluster: cannot watch CONFDIR, sounds/, provisioning/ (%s): the "
			  "admin's changes are not replicated", strerror(errno));
		if (W.fd >= 0)
			close(W.fd);
		W.fd = -1;
		return;
	}
	rescan_all();
}

static void role_h(enum ha_role from, enum ha_role to, void *arg)
{
	(void)from;
	(void)arg;
	if (to == HA_ROLE_ACTIVE)
		watch_start();
	else
		watch_stop();
}

int ha_file_watch_init(void)
{
	static bool watching;   /* role watchers cannot be removed: once */
	int e = 0;

	tmr_init(&W.debounce);
	if (!watching && !(e = ha_role_watch(role_h, NULL)))
		watching = true;
	return e;
}

void ha_file_watch_close(void)
{
	watch_stop();
	free(W.w);
	free(W.p);
	W.w = NULL;
	W.p = NULL;
	W.capw = W.capp = 0;
}
