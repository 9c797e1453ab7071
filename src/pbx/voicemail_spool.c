/**
 * @file voicemail_spool.c  The voicemail spool: paths, msgNNNN.txt,
 * numbering and atomic message commits (see voicemail_spool.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/fs.h"
#include "ha/file.h"
#include "pbx/voicemail_spool.h"

static const char *const folders[VM_NFOLDERS] = {
	"INBOX", "Old", "Work", "Family", "Friends", "Cust1", "Cust2", "Cust3",
	"Cust4", "Cust5", "Deleted", "Urgent"
};

static const char *const greetings[] = { "unavail", "busy", "greet", "temp" };

const char *vm_folder_name(enum vm_folder f)
{
	return (unsigned)f < VM_NFOLDERS ? folders[f] : NULL;
}

int vm_folder_parse(const char *name, enum vm_folder *out)
{
	unsigned i;

	for (i = 0; name && i < VM_NFOLDERS; i++) {
		if (!strcasecmp(folders[i], name)) {
			*out = (enum vm_folder)i;
			return 0;
		}
	}
	return ENOENT;
}

/* ------------------------------------------------------------- paths */

static bool safe_name(const char *s)
{
	return s && *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

static int fmt(size_t size, int n)
{
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

int vm_path_box(char *buf, size_t size, const char *datadir, const char *context,
		const char *box)
{
	if (!safe_name(context) || !safe_name(box))
		return EINVAL;
	return fmt(size, snprintf(buf, size, "%s/voicemail/%s/%s", datadir, context,
				       box));
}

int vm_path_folder(char *buf, size_t size, const char *datadir, const char *context,
		   const char *box, enum vm_folder f)
{
	if (!safe_name(context) || !safe_name(box) || !vm_folder_name(f))
		return EINVAL;
	return fmt(size, snprintf(buf, size, "%s/voicemail/%s/%s/%s", datadir, context,
				       box, folders[f]));
}

int vm_path_msg(char *buf, size_t size, const char *datadir, const char *context,
		const char *box, enum vm_folder f, int msgnum, const char *ext)
{
	if (!safe_name(context) || !safe_name(box) || !vm_folder_name(f) || msgnum < 0 ||
	    msgnum > VM_MSG_LIMIT)
		return EINVAL;
	return fmt(size, snprintf(buf, size, "%s/voicemail/%s/%s/%s/msg%04d%s%s",
				       datadir, context, box, folders[f], msgnum,
				       ext ? "." : "", ext ? ext : ""));
}

int vm_path_greeting(char *buf, size_t size, const char *datadir, const char *context,
		     const char *box, enum vm_greeting g, const char *ext)
{
	if (!safe_name(context) || !safe_name(box) || (unsigned)g > VM_GREET_TEMP)
		return EINVAL;
	return fmt(size, snprintf(buf, size, "%s/voicemail/%s/%s/%s%s%s", datadir,
				       context, box, greetings[g], ext ? "." : "",
				       ext ? ext : ""));
}

int vm_box_mkdirs(const char *datadir, const char *context, const char *box)
{
	static const enum vm_folder made[] = { VM_INBOX, VM_OLD, VM_URGENT };
	char p[PATH_MAX];
	size_t i;
	int e;

	for (i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		if ((e = vm_path_folder(p, sizeof(p), datadir, context, box, made[i])) ||
		    (e = fs_mkdirs(p, 0750)))
			return e;
	}
	if ((e = vm_path_box(p, sizeof(p), datadir, context, box)))
		return e;
	if (strlen(p) + 5 >= sizeof(p))
		return ENAMETOOLONG;
	strcat(p, "/tmp");
	return fs_mkdirs(p, 0750);
}

/* ----------------------------------------------------------- metadata */

static void cpy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

void vm_msg_info_init(struct vm_msg_info *m, time_t now)
{
	static unsigned counter;
	struct tm tm;

	memset(m, 0, sizeof(*m));
	cpy(m->rdnis, sizeof(m->rdnis), "unknown");
	cpy(m->callerid, sizeof(m->callerid), "Unknown");
	m->priority = 1;
	m->duration = -1;
	m->origtime = (long)now;
	gmtime_r(&now, &tm);
	/* app_voicemail's get_date(): "%a %b %e %r UTC %Y" in UTC */
	strftime(m->origdate, sizeof(m->origdate), "%a %b %e %r UTC %Y", &tm);
	snprintf(m->msg_id, sizeof(m->msg_id), "%ld-%08x", (long)now, counter++);
}

int vm_msg_info_format(const struct vm_msg_info *m, char *buf, size_t size)
{
	int n = snprintf(buf, size,
		";\n; Message Information file\n;\n[message]\n"
		"origmailbox=%s\ncontext=%s\nmacrocontext=%s\nexten=%s\nrdnis=%s\n"
		"priority=%d\ncallerchan=%s\ncallerid=%s\norigdate=%s\norigtime=%ld\n"
		"category=%s\nmsg_id=%s\nflag=%s\n",
		m->origmailbox, m->context, m->macrocontext, m->exten, m->rdnis,
		m->priority, m->callerchan, m->callerid, m->origdate, m->origtime,
		m->category, m->msg_id, m->flag);

	if (n < 0 || (size_t)n >= size)
		return ENOSPC;
	if (m->duration >= 0) {
		int k = snprintf(buf + n, size - (size_t)n, "duration=%d\n", m->duration);
		if (k < 0 || (size_t)k >= size - (size_t)n)
			return ENOSPC;
	}
	return 0;
}

static void set_field(struct vm_msg_info *m, const char *k, size_t kl, const char *v,
		      size_t vl)
{
	static const struct { const char *key; size_t off, size; } str_fields[] = {
#define F(x) { #x, offsetof(struct vm_msg_info, x), sizeof(((struct vm_msg_info *)0)->x) }
		F(origmailbox), F(context), F(macrocontext), F(exten), F(rdnis),
		F(callerchan), F(callerid), F(origdate), F(category), F(msg_id), F(flag),
#undef F
	};
	char val[256];
	size_t i;

	if (vl >= sizeof(val))
		vl = sizeof(val) - 1;
	memcpy(val, v, vl);
	val[vl] = '\0';
	for (i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++) {
		if (strlen(str_fields[i].key) == kl && !strncasecmp(str_fields[i].key, k, kl)) {
			cpy((char *)m + str_fields[i].off, str_fields[i].size, val);
			return;
		}
	}
	if (kl == 8 && !strncasecmp(k, "priority", 8))
		m->priority = atoi(val);
	else if (kl == 8 && !strncasecmp(k, "origtime", 8))
		m->origtime = atol(val);
	else if (kl == 8 && !strncasecmp(k, "duration", 8))
		m->duration = atoi(val);
}

int vm_msg_info_parse(const char *buf, size_t len, struct vm_msg_info *m)
{
	const char *p = buf, *end = buf + len;
	bool in_msg = false, seen = false;

	memset(m, 0, sizeof(*m));
	m->duration = -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = p, *e = le, *eq;

		p = nl ? nl + 1 : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (s == e || *s == ';')
			continue;
		if (*s == '[') {
			in_msg = (size_t)(e - s) == 9 && !strncasecmp(s, "[message]", 9);
			seen |= in_msg;
			continue;
		}
		if (!in_msg || !(eq = memchr(s, '=', (size_t)(e - s))))
			continue;
		const char *ke = eq, *vs = eq + 1;
		while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		if (vs < e && *vs == '>')   /* "key => value" */
			vs++;
		while (vs < e && (*vs == ' ' || *vs == '\t'))
			vs++;
		set_field(m, s, (size_t)(ke - s), vs, (size_t)(e - vs));
	}
	return seen ? 0 : EINVAL;
}

static int read_all(const char *path, char **bufp, size_t *lenp)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return errno;
	buf = malloc(65536);
	if (!buf) {
		fclose(f);
		return ENOMEM;
	}
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	*bufp = buf;
	*lenp = n;
	return 0;
}

int vm_msg_info_read(const char *path, struct vm_msg_info *m)
{
	char *buf = NULL;
	size_t len = 0;
	int e = read_all(path, &buf, &len);

	if (e)
		return e;
	e = vm_msg_info_parse(buf, len, m);
	free(buf);
	return e;
}

/* Create path with buf, fsync it; remove it again on failure. */
static int write_sync(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640), e = 0;
	size_t off = 0;

	if (fd < 0)
		return errno;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : ENOSPC;
			break;
		}
		off += (size_t)w;
	}
	if (!e && fsync(fd) < 0)
		e = errno;
	if (close(fd) < 0 && !e)
		e = errno;
	if (e)
		unlink(path);
	return e;
}

int vm_msg_info_write(const char *path, const struct vm_msg_info *m)
{
	char buf[4096], tmp[PATH_MAX];
	int e;

	if ((e = vm_msg_info_format(m, buf, sizeof(buf))))
		return e;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return ENAMETOOLONG;
	if ((e = write_sync(tmp, buf, strlen(buf))))
		return e;
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
	} else {
		ha_file_put_path(path);
	}
	return e;
}

/* ---------------------------------------------------------- numbering */

/* "msgNNNN.EXT": the number, or -1 (ext, if wanted, points into name). */
static int msg_number(const char *name, const char **ext)
{
	int n = 0, digits = 0;
	const char *p;

	if (strncmp(name, "msg", 3))
		return -1;
	for (p = name + 3; *p >= '0' && *p <= '9' && digits < 5; p++, digits++)
		n = n * 10 + (*p - '0');
	if (digits != 4 || *p != '.' || !p[1])
		return -1;
	if (ext)
		*ext = p + 1;
	return n;
}

/* Bitmap of the numbers that have a .txt in dir. -errno on failure. */
static int txt_map(const char *dir, unsigned char *map)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int count = 0;

	memset(map, 0, VM_MSG_LIMIT + 1);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		const char *ext;
		int n = msg_number(de->d_name, &ext);

		if (n >= 0 && !strcmp(ext, "txt") && !map[n]) {
			map[n] = 1;
			count++;
		}
	}
	closedir(d);
	return count;
}

int vm_folder_last(const char *dir)
{
	unsigned char map[VM_MSG_LIMIT + 1];
	int n = txt_map(dir, map), x;

	if (n <= 0)
		return -1;
	for (x = VM_MSG_LIMIT; x >= 0 && !map[x]; x--)
		;
	return x;
}

int vm_folder_count(const char *dir)
{
	unsigned char map[VM_MSG_LIMIT + 1];
	int n = txt_map(dir, map);

	return n < 0 ? 0 : n;
}

int vm_box_counts(const char *datadir, const char *context, const char *box,
		  int *newmsgs, int *oldmsgs, int *urgent)
{
	static const enum vm_folder fs[] = { VM_INBOX, VM_OLD, VM_URGENT };
	int *out[] = { newmsgs, oldmsgs, urgent };
	char p[PATH_MAX];
	size_t i;
	int e;

	for (i = 0; i < 3; i++) {
		if (!out[i])
			continue;
		if ((e = vm_path_folder(p, sizeof(p), datadir, context, box, fs[i])))
			return e;
		*out[i] = vm_folder_count(p);
	}
	return 0;
}

/* Names in dir starting with "msgNNNN." (n), into a NULL-ended array. */
static int msg_files(const char *dir, int n, char ***out, size_t *count)
{
	struct dirent *de;
	char **l = NULL;
	size_t k = 0, cap = 0;
	DIR *d = opendir(dir);

	*out = NULL;
	*count = 0;
	if (!d)
		return errno;
	while ((de = readdir(d)) != NULL) {
		if (msg_number(de->d_name, NULL) != n)
			continue;
		if (k + 2 > cap) {
			char **nl = realloc(l, (cap = cap ? cap * 2 : 8) * sizeof(*nl));
			if (!nl)
				goto oom;
			l = nl;
		}
		if (!(l[k] = strdup(de->d_name)))
			goto oom;
		l[++k] = NULL;
	}
	closedir(d);
	*out = l;
	*count = k;
	return 0;
oom:
	closedir(d);
	while (k)
		free(l[--k]);
	free(l);
	return ENOMEM;
}

static void free_list(char **l, size_t n)
{
	while (n)
		free(l[--n]);
	free(l);
}

int vm_msg_delete(const char *dir, int msgnum)
{
	char p[PATH_MAX], **names;
	size_t n, i;
	int e;

	if ((size_t)snprintf(p, sizeof(p), "%s/msg%04d.txt", dir, msgnum) >= sizeof(p))
		return ENAMETOOLONG;
	if (unlink(p) < 0 && errno != ENOENT)   /* the .txt first: no longer a message */
		return errno;
	ha_file_del_path(p);
	if ((e = msg_files(dir, msgnum, &names, &n)))
		return e;
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (unlink(p) < 0 && !e)
			e = errno;
		else
			ha_file_del_path(p);
	}
	free_list(names, n);
	return e;
}

/*
 * Rename message n of dir to number m of dir2: audio first, .txt last, so
 * the message is never seen at m without its audio. On failure what was
 * moved goes back.
 */
static int msg_rename(const char *dir, int n, const char *dir2, int m)
{
	char from[PATH_MAX], to[PATH_MAX], **names;
	size_t count, i, done = 0;
	int e, pass;

	if ((e = msg_files(dir, n, &names, &count)))
		return e;
	for (pass = 0; pass < 2 && !e; pass++) {
		for (i = 0; i < count && !e; i++) {
			const char *ext = names[i] + 8;
			if ((pass == 0) == !strcmp(ext, "txt"))
				continue;
			snprintf(from, sizeof(from), "%s/%s", dir, names[i]);
			if ((size_t)snprintf(to, sizeof(to), "%s/msg%04d.%s", dir2, m, ext) >=
			    sizeof(to))
				e = ENAMETOOLONG;
			else if (rename(from, to) < 0)
				e = errno;
			else {
				done++;
				ha_file_rename_path(from, to);
			}
		}
	}
	if (e) {   /* undo: the .txt was last, so only audio can have moved */
		for (i = 0; i < count && done; i++) {
			const char *ext = names[i] + 8;
			snprintf(from, sizeof(from), "%s/%s", dir, names[i]);
			snprintf(to, sizeof(to), "%s/msg%04d.%s", dir2, m, ext);
			if (access(from, F_OK) < 0 && rename(to, from) == 0) {
				ha_file_rename_path(to, from);
				done--;
			}
		}
	}
	free_list(names, count);
	return e;
}

int vm_folder_resequence(const char *dir)
{
	unsigned char map[VM_MSG_LIMIT + 1];
	int n = txt_map(dir, map), x, dest = 0, e;

	if (n < 0)
		return n;
	for (x = 0; x <= VM_MSG_LIMIT && dest < n; x++) {
		if (!map[x])
			continue;
		if (x != dest && (e = msg_rename(dir, x, dir, dest)))
			return -e;
		dest++;
	}
	return dest;
}

int vm_msg_move(const char *datadir, const char *context, const char *box,
		enum vm_folder from, int msgnum, enum vm_folder to, uint32_t maxmsg,
		int *newnum)
{
	char src[PATH_MAX], dst[PATH_MAX], txt[PATH_MAX + 16];
	int e, n;

	if ((e = vm_path_folder(src, sizeof(src), datadir, context, box, from)) ||
	    (e = vm_path_folder(dst, sizeof(dst), datadir, context, box, to)))
		return e;
	snprintf(txt, sizeof(txt), "%s/msg%04d.txt", src, msgnum);
	if (access(txt, F_OK) < 0)
		return ENOENT;
	if ((e = fs_mkdirs(dst, 0750)))
		return e;
	n = vm_folder_last(dst) + 1;
	if ((uint32_t)n >= maxmsg || n > VM_MSG_LIMIT)
		return EDQUOT;
	if ((e = msg_rename(src, msgnum, dst, n)))
		return e;
	*newnum = n;
	return 0;
}

/* ------------------------------------------------ recording a message */

int vm_rec_begin(struct vm_rec *r, const char *datadir, const char *context,
		 const char *box)
{
	static unsigned counter;
	char dir[PATH_MAX];
	int e;

	memset(r, 0, sizeof(*r));
	if ((e = vm_box_mkdirs(datadir, context, box)) ||
	    (e = vm_path_box(dir, sizeof(dir), datadir, context, box)))
		return e;
	if ((size_t)snprintf(r->datadir, sizeof(r->datadir), "%s", datadir) >=
	    sizeof(r->datadir) ||
	    (size_t)snprintf(r->context, sizeof(r->context), "%s", context) >=
	    sizeof(r->context) ||
	    (size_t)snprintf(r->box, sizeof(r->box), "%s", box) >= sizeof(r->box) ||
	    (size_t)snprintf(r->tmpbase, sizeof(r->tmpbase), "%s/tmp/rec-%ld-%u", dir,
			     (long)getpid(), counter++) >= sizeof(r->tmpbase) - 16)
		return ENAMETOOLONG;
	return 0;
}

int vm_rec_path(const struct vm_rec *r, const char *ext, char *buf, size_t size)
{
	return fmt(size, snprintf(buf, size, "%s.%s", r->tmpbase, ext));
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (fsync(fd) < 0)
		e = errno;
	close(fd);
	return e;
}

void vm_rec_abort(struct vm_rec *r)
{
	char dir[PATH_MAX], p[PATH_MAX + 256];
	const char *base = strrchr(r->tmpbase, '/');
	struct dirent *de;
	size_t bl;
	DIR *d;

	if (!base)
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(base - r->tmpbase), r->tmpbase);
	base++;
	bl = strlen(base);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d)) != NULL) {
		if (!strncmp(de->d_name, base, bl) && de->d_name[bl] == '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	}
	closedir(d);
}

int vm_rec_commit(struct vm_rec *r, enum vm_folder f, uint32_t maxmsg,
		  const struct vm_msg_info *m, const char *const *exts, int *msgnum)
{
	char dir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX + 64], txt[4096];
	const char *moved[16];
	size_t nmoved = 0, i;
	int e, n;

	if ((e = vm_path_folder(dir, sizeof(dir), r->datadir, r->context, r->box, f)) ||
	    (e = fs_mkdirs(dir, 0750)))
		goto out;
	n = vm_folder_last(dir) + 1;
	if ((uint32_t)n >= maxmsg || n > VM_MSG_LIMIT) {
		e = EDQUOT;
		goto out;
	}
	if ((e = vm_msg_info_format(m, txt, sizeof(txt))) ||
	    (e = vm_rec_path(r, "txt", src, sizeof(src))) ||
	    (e = write_sync(src, txt, strlen(txt))))
		goto out;
	for (i = 0; exts && exts[i] && nmoved < 16 && !e; i++) {
		if (vm_rec_path(r, exts[i], src, sizeof(src)) || access(src, F_OK) < 0)
			continue;
		if ((e = fsync_path(src)))
			break;
		snprintf(dst, sizeof(dst), "%s/msg%04d.%s", dir, n, exts[i]);
		if (rename(src, dst) < 0)
			e = errno;
		else
			moved[nmoved++] = exts[i];
		if (!e)
			ha_file_put_path(dst);
	}
	if (!e && !nmoved)
		e = ENOENT;
	if (!e) {
		snprintf(dst, sizeof(dst), "%s/msg%04d.txt", dir, n);
		if (!(e = vm_rec_path(r, "txt", src, sizeof(src))) && rename(src, dst) < 0)
			e = errno;
		if (!e)
			ha_file_put_path(dst);
	}
	if (e) {
		for (i = 0; i < nmoved; i++) {
			snprintf(dst, sizeof(dst), "%s/msg%04d.%s", dir, n, moved[i]);
			unlink(dst);
			ha_file_del_path(dst);
		}
		goto out;
	}
	fsync_path(dir);
	*msgnum = n;
	return 0;
out:
	vm_rec_abort(r);
	return e;
}

int vm_rec_install(struct vm_rec *r, const char *ext, const char *dest)
{
	char src[PATH_MAX];
	int e;

	if ((e = vm_rec_path(r, ext, src, sizeof(src))) || (e = fsync_path(src)))
		return e;
	if (rename(src, dest) < 0)
		return errno;
	ha_file_put_path(dest);
	return 0;
}

/* ------------------------------------------------------------ cleanup */

/* Remove every file of dir (tmp) or the msgNNNN.* without a .txt. */
static int clean_dir(const char *dir, bool all)
{
	unsigned char map[VM_MSG_LIMIT + 1];
	struct dirent *de;
	char p[PATH_MAX + 256];
	int removed = 0;
	DIR *d;

	if (!all && txt_map(dir, map) < 0)
		return 0;
	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d)) != NULL) {
		int n = msg_number(de->d_name, NULL);

		if (de->d_name[0] == '.')
			continue;
		if (!all && (n < 0 || map[n]))
			continue;
		/* a truncated path could name another file: skip it instead */
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= sizeof(p))
			continue;
		if (unlink(p) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int vm_spool_clean(const char *datadir)
{
	char root[PATH_MAX], cdir[PATH_MAX + 256], bdir[PATH_MAX + 512], f[PATH_MAX + 768];
	struct dirent *c, *b;
	DIR *dc, *db;
	int removed = 0, i;

	snprintf(root, sizeof(root), "%s/voicemail", datadir);
	if (!(dc = opendir(root)))
		return 0;
	while ((c = readdir(dc)) != NULL) {
		if (c->d_name[0] == '.')
			continue;
		snprintf(cdir, sizeof(cdir), "%s/%s", root, c->d_name);
		if (!(db = opendir(cdir)))
			continue;
		while ((b = readdir(db)) != NULL) {
			if (b->d_name[0] == '.')
				continue;
			snprintf(bdir, sizeof(bdir), "%s/%s", cdir, b->d_name);
			snprintf(f, sizeof(f), "%s/tmp", bdir);
			removed += clean_dir(f, true);
			for (i = 0; i < VM_NFOLDERS; i++) {
				snprintf(f, sizeof(f), "%s/%s", bdir, folders[i]);
				removed += clean_dir(f, false);
			}
		}
		closedir(db);
	}
	closedir(dc);
	if (removed)
		log_notice("voicemail spool: removed %d files an interrupted recording left",
			   removed);
	return removed;
}
