/**
 * @file file_apply.c  FILE_BEGIN/CHUNK/END/DEL/RENAME and CONF_APPLY on
 * the node that receives them (file.h; docs/design/cluster.md 2.2).
 *
 * Every name is opened beneath its area's root, one component at a time,
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a relpath the
 * decoder let through still cannot leave the root by a symlink planted in
 * it. Data goes to NAME.tandem-part, renamed over NAME on FILE_END once
 * its sha256 matches; any failure removes the part file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/log.h"
#include "core/loop.h"
#include "ha/file.h"
#include "ha/file_int.h"

#define PART ".tandem-part"

struct xfer {
	uint32_t id;
	uint8_t area;
	int dfd, fd;             /* parent directory, part file */
	char rel[JNL_RELPATH_MAX + 1];
	char base[256], part[256 + sizeof(PART)];
	uint64_t size, got;
	uint32_t mode;
	int64_t mtime_ns;
	EVP_MD_CTX *md;
	struct xfer *next;
};

static struct xfer *xfers;
static void (*reload_h)(void);
static struct tmr reload_tmr;   /* after the turn that carried CONF_APPLY */

static void reload_now(void *arg)
{
	(void)arg;
	if (reload_h)
		reload_h();
}

void ha_file_set_reload(void (*h)(void))
{
	reload_h = h;
}

void ha_file_reload_soon(void)
{
	if (reload_h)
		tmr_start(&reload_tmr, 0, reload_now, NULL);
}

int ha_file_openat2(int dfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long r = syscall(SYS_openat2, dfd, name, &how, sizeof(how));

	return r < 0 ? -1 : (int)r;
}

/*
 * Open the directory holding rel (created as needed) beneath the area's
 * root; its last component into base. The fd, or -1 with errno.
 */
int ha_file_open_parent(uint8_t area, const char *rel, char *base, size_t basesize)
{
	char comp[JNL_RELPATH_MAX + 1];
	const char *p = rel, *slash;
	int dfd, nfd;

	if (area >= JNL_AREA_COUNT || !ha_file_roots.root[area][0]) {
		errno = EINVAL;
		return -1;
	}
	if (mkdir(ha_file_roots.root[area], 0750) < 0 && errno != EEXIST)
		return -1;
	dfd = open(ha_file_roots.root[area], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	while ((slash = strchr(p, '/'))) {
		size_t n = (size_t)(slash - p);

		memcpy(comp, p, n);
		comp[n] = '\0';
		if (mkdirat(dfd, comp, 0750) < 0 && errno != EEXIST)
			goto fail;
		if ((nfd = ha_file_openat2(dfd, comp, O_PATH | O_DIRECTORY, 0)) < 0)
			goto fail;
		close(dfd);
		dfd = nfd;
		p = slash + 1;
	}
	if (strlen(p) >= basesize) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	snprintf(base, basesize, "%s", p);
	return dfd;
fail:
	nfd = errno;
	close(dfd);
	errno = nfd;
	return -1;
}

static struct xfer **find(uint32_t id)
{
	struct xfer **x = &xfers;

	while (*x && (*x)->id != id)
		x = &(*x)->next;
	return x;
}

/* Unlink x from the list, close it, remove its part file unless kept. */
static void xfer_drop(struct xfer **xp, bool keep_part)
{
	struct xfer *x = *xp;

	*xp = x->next;
	if (x->fd >= 0)
		close(x->fd);
	if (!keep_part)
		unlinkat(x->dfd, x->part, 0);
	close(x->dfd);
	EVP_MD_CTX_free(x->md);
	free(x);
}

void ha_file_xfer_drop(uint32_t id)
{
	struct xfer **x = find(id);

	if (*x)
		xfer_drop(x, false);
}

void ha_file_apply_close(void)
{
	while (xfers)
		xfer_drop(&xfers, false);
	tmr_cancel(&reload_tmr);
}

static int begin(const struct jnl_file_begin *b)
{
	struct xfer **old = find(b->xfer), *x;
	int e;

	if (*old)   /* the same transfer again (replayed): start over */
		xfer_drop(old, false);
	if (!(x = calloc(1, sizeof(*x))))
		return ENOMEM;
	x->id = b->xfer;
	x->area = b->area;
	x->size = b->size;
	x->mode = b->mode;
	x->mtime_ns = b->mtime_ns;
	x->fd = -1;
	snprintf(x->rel, sizeof(x->rel), "%.*s", (int)b->relpath.l, b->relpath.p);
	x->dfd = ha_file_open_parent(x->area, x->rel, x->base, sizeof(x->base));
	if (x->dfd < 0) {
		e = errno;
		log_error("cluster: cannot receive %s/%s: %s", ha_file_area_name(x->area), x->rel,
			  strerror(e));
		free(x);
		return e;
	}
	snprintf(x->part, sizeof(x->part), "%s" PART, x->base);
	x->fd = ha_file_openat2(x->dfd, x->part, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	x->md = EVP_MD_CTX_new();
	if (x->fd < 0 || !x->md || !EVP_DigestInit_ex(x->md, EVP_sha256(), NULL)) {
		e = x->fd < 0 ? errno : ENOMEM;
		log_error("cluster: cannot receive %s/%s: %s", ha_file_area_name(x->area), x->rel,
			  strerror(e));
		x->next = NULL;
		struct xfer *tmp = x;
		xfer_drop(&tmp, x->fd < 0);
		return e;
	}
	x->next = xfers;
	xfers = x;
	return 0;
}

static int chunk(const struct jnl_file_chunk *c, enum ha_apply_mode m)
{
	struct xfer **xp = find(c->xfer), *x = *xp;
	size_t done = 0;
	int e;

	if (!x) {   /* replay from the middle of a transfer: its BEGIN is older */
		if (m != HA_APPLY_REPLAY)
			log_warn("cluster: file chunk for unknown transfer %" PRIu32 " ignored",
				 c->xfer);
		return 0;
	}
	if (c->off != x->got) {
		log_error("cluster: %s/%s: chunk at %" PRIu64 ", expected %" PRIu64 "; the partial "
			  "file is removed", ha_file_area_name(x->area), x->rel, c->off, x->got);
		xfer_drop(xp, false);
		return EBADMSG;
	}
	while (done < c->data.l) {
		ssize_t w = pwrite(x->fd, c->data.p + done, c->data.l - done,
				   (off_t)(c->off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : ENOSPC;
			log_error("cluster: cannot write %s/%s on this node: %s; the partial file "
				  "is removed", ha_file_area_name(x->area), x->rel, strerror(e));
			xfer_drop(xp, false);
			return e;
		}
		done += (size_t)w;
	}
	EVP_DigestUpdate(x->md, c->data.p, c->data.l);
	x->got += c->data.l;
	return 0;
}

static int end(const struct jnl_file_end *f, enum ha_apply_mode m)
{
	struct xfer **xp = find(f->xfer), *x = *xp;
	uint8_t sha[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int e = 0;

	if (!x) {
		if (m != HA_APPLY_REPLAY)
			log_warn("cluster: file end for unknown transfer %" PRIu32 " ignored", f->xfer);
		return 0;
	}
	EVP_DigestFinal_ex(x->md, sha, &n);
	if (n != JNL_SHA256_LEN || memcmp(sha, f->sha256, JNL_SHA256_LEN)) {
		log_error("cluster: %s/%s: sha256 of the %" PRIu64 " bytes received does not match "
			  "the active's; the file is not installed", ha_file_area_name(x->area),
			  x->rel, x->got);
		xfer_drop(xp, false);
		return EBADMSG;
	}
	struct timespec ts[2] = {
		{ x->mtime_ns / 1000000000, x->mtime_ns % 1000000000 },
		{ x->mtime_ns / 1000000000, x->mtime_ns % 1000000000 },
	};
	if (fchmod(x->fd, x->mode & 07777) < 0 || futimens(x->fd, ts) < 0 ||
	    close(x->fd) < 0)
		e = errno;
	x->fd = -1;
	if (!e && renameat(x->dfd, x->part, x->dfd, x->base) < 0)
		e = errno;
	if (e)
		log_error("cluster: cannot install %s/%s: %s; the partial file is removed",
			  ha_file_area_name(x->area), x->rel, strerror(e));
	else
		log_debug("cluster: received %s/%s (%" PRIu64 " bytes)",
			  ha_file_area_name(x->area), x->rel, x->got);
	xfer_drop(xp, !e);
	return e;
}

int ha_file_unlink_rel(uint8_t area, const char *rel)
{
	char base[256];
	int dfd = ha_file_open_parent(area, rel, base, sizeof(base)), e = 0;

	if (dfd < 0 || unlinkat(dfd, base, 0) < 0)
		e = errno;
	if (dfd >= 0)
		close(dfd);
	return e == ENOENT ? 0 : e;   /* deleting nothing is fine (idempotent) */
}

int ha_file_rename_rel(uint8_t area, const char *from, const char *to)
{
	char b1[256], b2[256];
	int d1 = ha_file_open_parent(area, from, b1, sizeof(b1)), d2 = -1, e = 0;

	if (d1 < 0 || (d2 = ha_file_open_parent(area, to, b2, sizeof(b2))) < 0 ||
	    renameat(d1, b1, d2, b2) < 0)
		e = errno;
	if (d1 >= 0)
		close(d1);
	if (d2 >= 0)
		close(d2);
	return e;
}

static int del(uint8_t area, const struct pl *relpath)
{
	char rel[JNL_RELPATH_MAX + 1];
	int e;

	snprintf(rel, sizeof(rel), "%.*s", (int)relpath->l, relpath->p);
	if ((e = ha_file_unlink_rel(area, rel)))
		log_error("cluster: cannot remove %s/%s: %s", ha_file_area_name(area), rel,
			  strerror(e));
	return e;
}

static int mv(const struct jnl_file_rename *r)
{
	char from[JNL_RELPATH_MAX + 1], to[JNL_RELPATH_MAX + 1];
	int e;

	snprintf(from, sizeof(from), "%.*s", (int)r->from.l, r->from.p);
	snprintf(to, sizeof(to), "%.*s", (int)r->to.l, r->to.p);
	e = ha_file_rename_rel(r->area, from, to);
	if (e == ENOENT)   /* applied before (replay): the file moved already */
		return 0;
	if (e)
		log_error("cluster: cannot rename %s/%s to %s: %s", ha_file_area_name(r->area),
			  from, to, strerror(e));
	return e;
}

static int apply(const struct jnl_entry *e, enum ha_apply_mode m);

int ha_file_apply(const struct jnl_entry *e, enum ha_apply_mode m)
{
	int rc;

	if (m == HA_APPLY_LOCAL)   /* the serving node wrote the file itself */
		return 0;
	rc = apply(e, m);
	if (rc && m == HA_APPLY_REPLAY) {   /* logged; start-up goes on */
		log_warn("cluster: a %s entry of the journal could not be replayed (%s): that "
			 "file comes again at its next change", jnl_type_name(e->type),
			 strerror(rc));
		return 0;
	}
	return rc;
}

static int apply(const struct jnl_entry *e, enum ha_apply_mode m)
{
	switch (e->type) {
	case JNL_FILE_BEGIN:
		return begin(&e->u.fbegin);
	case JNL_FILE_CHUNK:
		return chunk(&e->u.fchunk, m);
	case JNL_FILE_END:
		return end(&e->u.fend, m);
	case JNL_FILE_DEL:
		return del(e->u.fdel.area, &e->u.fdel.relpath);
	case JNL_FILE_RENAME:
		return mv(&e->u.frename);
	case JNL_CONF_APPLY:
		if (m == HA_APPLY_REMOTE && reload_h) {
			log_notice("cluster: the active's configuration changed: reloading");
			tmr_start(&reload_tmr, 0, reload_now, NULL);
		}
		return 0;
	default:
		return 0;
	}
}
