/**
 * @file file.c  The serving node's side of file replication (file.h):
 * the area roots, and the queue of puts, deletes and renames emitted at
 * the end of each turn, bounded per turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include "ha/file.h"
#include "ha/file_int.h"
#include "ha/ha.h"
#include "ha/jnl.h"

enum op_kind { OP_PUT, OP_DEL, OP_RENAME, OP_CONF, OP_DURABLE };

struct op {
	enum op_kind kind;
	uint8_t area;
	char rel[JNL_RELPATH_MAX + 1], rel2[JNL_RELPATH_MAX + 1];
	int fd;                  /* PUT: the file, read from the open inode */
	uint32_t xfer, mode;
	uint64_t size, off;
	int64_t mtime_ns;
	bool begun;
	EVP_MD_CTX *md;
	store_commit_h *h;       /* DURABLE */
	void *arg;
	struct op *next;
};

struct ha_file_roots ha_file_roots;

static struct {
	struct op *head, **tail;
	unsigned n;
	uint32_t xfer;
	struct tmr kick;
	unsigned inflight;       /* turns with file data not yet durable */
	bool dropped;            /* queue dropped on a node not serving: logged */
} Q = { .tail = &Q.head };

static const char *const area_names[JNL_AREA_COUNT] = {
	"CONFDIR", "voicemail", "monitor", "sounds", "provisioning",
};

const char *ha_file_area_name(unsigned area)
{
	return area < JNL_AREA_COUNT ? area_names[area] : "?";
}

int ha_file_init(const char *confdir, const char *datadir)
{
	int e;

	snprintf(ha_file_roots.root[0], sizeof(ha_file_roots.root[0]), "%s", confdir);
	for (unsigned a = 1; a < JNL_AREA_COUNT; a++) {
		snprintf(ha_file_roots.root[a], sizeof(ha_file_roots.root[a]), "%s/%s", datadir,
			 area_names[a]);
		if ((e = fs_mkdirs(ha_file_roots.root[a], 0750))) {
			log_error("cluster: cannot create %s: %s", ha_file_roots.root[a], strerror(e));
			return e;
		}
	}
	Q.xfer = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	tmr_init(&Q.kick);
	return ha_file_watch_init();
}

static struct op *op_free(struct op *o)
{
	struct op *next = o->next;

	if (o->kind == OP_DURABLE && o->h)   /* dropped: not confirmed */
		o->h(false, o->arg);
	if (o->fd >= 0)
		close(o->fd);
	EVP_MD_CTX_free(o->md);
	free(o);
	return next;
}

static void queue_clear(void)
{
	while (Q.head)
		Q.head = op_free(Q.head);
	Q.tail = &Q.head;
	Q.n = 0;
	tmr_cancel(&Q.kick);
}

void ha_file_close(void)
{
	ha_file_watch_close();
	queue_clear();
	ha_file_apply_close();
}

unsigned ha_file_pending(void)
{
	return Q.n;
}

static void kick_h(void *arg)
{
	(void)arg;   /* a turn ends after this timer: ha_file_pump() runs */
}

static bool serving_journal(void)
{
	return ha_recording() && (ha_role() == HA_ROLE_ACTIVE || ha_role() == HA_ROLE_SINGLE);
}

static int enqueue(struct op *o)
{
	o->next = NULL;
	*Q.tail = o;
	Q.tail = &o->next;
	Q.n++;
	if (!tmr_isset(&Q.kick))
		tmr_start(&Q.kick, 0, kick_h, NULL);
	return 0;
}

static struct op *op_new(enum op_kind k, enum jnl_area area, const char *rel,
			 const char *rel2)
{
	struct op *o;
	struct pl p = jnl_pl(rel), p2 = jnl_pl(rel2);

	if ((unsigned)area >= JNL_AREA_COUNT || !jnl_relpath_ok(&p) ||
	    (rel2 && !jnl_relpath_ok(&p2))) {
		log_error("cluster: not replicated: bad file name %s/%s%s%s", ha_file_area_name(area),
			  rel ? rel : "", rel2 ? " -> " : "", rel2 ? rel2 : "");
		return NULL;
	}
	if (!(o = calloc(1, sizeof(*o)))) {
		log_error("cluster: out of memory replicating %s/%s", area_names[area], rel);
		return NULL;
	}
	o->kind = k;
	o->area = (uint8_t)area;
	o->fd = -1;
	snprintf(o->rel, sizeof(o->rel), "%s", rel);
	if (rel2)
		snprintf(o->rel2, sizeof(o->rel2), "%s", rel2);
	return o;
}

int ha_file_put(enum jnl_area area, const char *relpath, const char *path)
{
	struct op *o;
	struct stat st;
	int e;

	if (!serving_journal())
		return 0;
	if (!(o = op_new(OP_PUT, area, relpath, NULL)))
		return EINVAL;
	o->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (o->fd < 0 || fstat(o->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		e = o->fd < 0 ? errno : EISDIR;
		log_error("cluster: cannot replicate %s: %s", path, strerror(e));
		op_free(o);
		return e;
	}
	o->md = EVP_MD_CTX_new();
	if (!o->md || !EVP_DigestInit_ex(o->md, EVP_sha256(), NULL)) {
		log_error("cluster: cannot replicate %s: no sha256 context", path);
		op_free(o);
		return ENOMEM;
	}
	o->size = (uint64_t)st.st_size;
	o->mode = st.st_mode & 07777;
	o->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	o->xfer = ++Q.xfer;
	return enqueue(o);
}

int ha_file_del(enum jnl_area area, const char *relpath)
{
	struct op *o;

	if (!serving_journal())
		return 0;
	if (!(o = op_new(OP_DEL, area, relpath, NULL)))
		return EINVAL;
	return enqueue(o);
}

int ha_file_rename(enum jnl_area area, const char *from, const char *to)
{
	struct op *o;

	if (!serving_journal())
		return 0;
	if (!(o = op_new(OP_RENAME, area, from, to)))
		return EINVAL;
	return enqueue(o);
}

int ha_file_on_durable(store_commit_h *h, void *arg)
{
	struct op *o;

	if (!Q.head || !serving_journal())
		return ha_on_durable(h, arg);
	if (!(o = calloc(1, sizeof(*o))))
		return ENOMEM;
	o->kind = OP_DURABLE;
	o->fd = -1;
	o->h = h;
	o->arg = arg;
	return enqueue(o);
}

int ha_file_conf_apply(void)
{
	struct op *o;

	if (!serving_journal())
		return 0;
	if (!(o = calloc(1, sizeof(*o))))
		return ENOMEM;
	o->kind = OP_CONF;
	o->fd = -1;
	return enqueue(o);
}

/* ------------------------------------------------------------- paths */

bool ha_file_area_of(const char *path, enum jnl_area *area, const char **rel)
{
	for (unsigned a = 0; a < JNL_AREA_COUNT; a++) {
		size_t n = strlen(ha_file_roots.root[a]);

		if (n && !strncmp(path, ha_file_roots.root[a], n) && path[n] == '/') {
			*area = (enum jnl_area)a;
			*rel = path + n + 1;
			return true;
		}
	}
	return false;
}

void ha_file_put_path(const char *path)
{
	enum jnl_area a;
	const char *rel;

	if (serving_journal() && ha_file_area_of(path, &a, &rel))
		ha_file_put(a, rel, path);
}

void ha_file_del_path(const char *path)
{
	enum jnl_area a;
	const char *rel;

	if (serving_journal() && ha_file_area_of(path, &a, &rel))
		ha_file_del(a, rel);
}

void ha_file_rename_path(const char *from, const char *to)
{
	enum jnl_area a, a2;
	const char *r, *r2;

	if (!serving_journal() || !ha_file_area_of(from, &a, &r))
		return;
	if (ha_file_area_of(to, &a2, &r2) && a2 == a)
		ha_file_rename(a, r, r2);
	else   /* moved out of the areas: gone, as far as the standby knows */
		ha_file_del(a, r);
}

/* --------------------------------------------------------------- pump */

static bool record(struct jnl_entry *e)
{
	e->ts_us = jnl_now_us();
	return ha_record(e) == 0;
}

/* Send what budget allows of put o; true when it is complete (or given up). */
static bool pump_put(struct op *o, size_t *budget)
{
	static uint8_t buf[JNL_CHUNK_MAX];
	struct jnl_entry e = { 0 };
	uint8_t sha[EVP_MAX_MD_SIZE];
	unsigned shalen = 0;

	if (!o->begun) {
		e.type = JNL_FILE_BEGIN;
		e.u.fbegin = (struct jnl_file_begin){ o->xfer, o->area, jnl_pl(o->rel), o->size,
						      o->mode, o->mtime_ns };
		if (!record(&e))
			return true;
		o->begun = true;
	}
	while (o->off < o->size && *budget) {
		size_t want = o->size - o->off;
		ssize_t n;

		if (want > sizeof(buf))
			want = sizeof(buf);
		if (want > *budget)
			want = *budget;
		n = pread(o->fd, buf, want, (off_t)o->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {   /* shrank under us: send what there is */
			if (n < 0)
				log_warn("cluster: reading %s/%s to replicate it: %s", area_names[o->area],
					 o->rel, strerror(errno));
			o->size = o->off;
			break;
		}
		e = (struct jnl_entry){ .type = JNL_FILE_CHUNK };
		e.u.fchunk = (struct jnl_file_chunk){ o->xfer, o->off, pl_of((char *)buf, (size_t)n) };
		if (!record(&e))
			return true;
		EVP_DigestUpdate(o->md, buf, (size_t)n);
		o->off += (uint64_t)n;
		*budget -= (size_t)n;
	}
	if (o->off < o->size)
		return false;
	EVP_DigestFinal_ex(o->md, sha, &shalen);
	e = (struct jnl_entry){ .type = JNL_FILE_END };
	e.u.fend = (struct jnl_file_end){ o->xfer, sha };
	record(&e);
	return true;
}

/* A turn of file data is durable (the standby ACKed it): room for more. */
static void inflight_h(bool ok, void *arg)
{
	(void)ok;
	(void)arg;
	if (Q.inflight)
		Q.inflight--;
	if (Q.head && !tmr_isset(&Q.kick))
		tmr_start(&Q.kick, 0, kick_h, NULL);
}

void ha_file_pump(void)
{
	size_t budget = HA_FILE_TURN_BYTES;

	if (!Q.head)
		return;
	/* at most HA_FILE_INFLIGHT turns of file data ahead of the standby's
	 * ACK: a confirmation (a REGISTER's 200) waits behind 2 MiB at most,
	 * not behind a whole large file */
	if (Q.inflight >= HA_FILE_INFLIGHT && serving_journal())
		return;
	if (!serving_journal()) {
		if (!Q.dropped)
			log_warn("cluster: %u file changes not replicated: this node is %s", Q.n,
				 ha_role_name(ha_role()));
		Q.dropped = true;
		queue_clear();
		return;
	}
	Q.dropped = false;
	while (Q.head && budget) {
		struct op *o = Q.head;
		struct jnl_entry e = { 0 };
		bool done = true;

		switch (o->kind) {
		case OP_PUT:
			done = pump_put(o, &budget);
			break;
		case OP_DEL:
			e.type = JNL_FILE_DEL;
			e.u.fdel = (struct jnl_file_del){ o->area, jnl_pl(o->rel) };
			record(&e);
			break;
		case OP_DURABLE:
			if (ha_on_durable(o->h, o->arg))
				o->h(false, o->arg);
			o->h = NULL;
			break;
		case OP_CONF: {   /* no manifest yet (design 3.4): zeros */
			static const uint8_t zero[JNL_SHA256_LEN];
			e.type = JNL_CONF_APPLY;
			e.u.conf_apply.manifest_sha256 = zero;
			record(&e);
			break;
		}
		case OP_RENAME:
			e.type = JNL_FILE_RENAME;
			e.u.frename = (struct jnl_file_rename){ o->area, jnl_pl(o->rel),
								jnl_pl(o->rel2) };
			record(&e);
			break;
		}
		if (!done)
			break;
		Q.head = op_free(o);
		if (!Q.head)
			Q.tail = &Q.head;
		Q.n--;
	}
	if (budget < HA_FILE_TURN_BYTES && !ha_on_durable(inflight_h, NULL))
		Q.inflight++;
	if (Q.head && Q.inflight < HA_FILE_INFLIGHT)   /* another turn soon, even idle */
		tmr_start(&Q.kick, 1, kick_h, NULL);
}
