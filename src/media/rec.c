/**
 * @file rec.c  Recording to a temporary name, renamed when complete.
 *
 * Samples are collected in a one-second buffer and handed to libsndfile
 * a buffer at a time, so a call being recorded costs one write() per
 * second, not one per packet. rec_finish(): flush the buffer, let
 * libsndfile write the final header (sf_close), fsync, then rename
 * PATH.part to PATH: a reader never sees a message without its end or
 * with a header that lies about its length. Any failure (ENOSPC, EFBIG,
 * EIO) unlinks PATH.part; the destructor does the same for a recording
 * nobody finished (the caller hung up, the call was torn down).
 */
#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "media/rec.h"
#include "media/sound.h"

#define BUF_SAMPLES SOUND_RATE

struct rec {
	SNDFILE *sf;
	int fd;
	char *path, *tmp;
	int16_t buf[BUF_SAMPLES];
	size_t nbuf;
	uint64_t samples;
	int err;                /* sticky write error */
	bool finished;
};

static int format_of(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (!dot || (slash && dot < slash))
		return 0;
	dot++;
	if (!strcmp(dot, "wav"))
		return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
	if (!strcmp(dot, "WAV") || !strcmp(dot, "wav49"))
		return SF_FORMAT_WAV | SF_FORMAT_GSM610;
	if (!strcmp(dot, "gsm"))
		return SF_FORMAT_RAW | SF_FORMAT_GSM610;
	if (!strcmp(dot, "ulaw") || !strcmp(dot, "ul") || !strcmp(dot, "pcm"))
		return SF_FORMAT_RAW | SF_FORMAT_ULAW;
	if (!strcmp(dot, "alaw") || !strcmp(dot, "al"))
		return SF_FORMAT_RAW | SF_FORMAT_ALAW;
	if (!strcmp(dot, "sln") || !strcmp(dot, "raw"))
		return SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE;
	return 0;
}

static void discard(struct rec *r)
{
	if (r->sf)
		sf_close(r->sf);
	r->sf = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->tmp && !r->finished)
		unlink(r->tmp);
	r->finished = true;
}

static void rec_destroy(void *data)
{
	struct rec *r = data;

	if (!r->finished && r->tmp)
		log_info("rec: %s abandoned, not kept", r->path);
	discard(r);
	free(r->path);
	free(r->tmp);
}

/* Copy the finished file path into fd (append); 0 when it does not exist. */
static int copy_old(const char *path, int fd)
{
	char buf[8192];
	ssize_t n;
	int in = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (in < 0)
		return errno == ENOENT ? 0 : errno;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n) {
			err = errno ? errno : EIO;
			break;
		}
	if (n < 0)
		err = errno;
	close(in);
	if (!err && lseek(fd, 0, SEEK_SET) < 0)
		err = errno;
	return err;
}

static int open_common(struct rec **rp, const char *path, bool append)
{
	SF_INFO info = { .samplerate = SOUND_RATE, .channels = 1 };
	struct rec *r;
	size_t l;
	int err, mode = SFM_WRITE;

	if (!rp || !path)
		return EINVAL;
	info.format = format_of(path);
	if (!info.format) {
		log_warn("rec: %s: unknown recording format", path);
		return ENOTSUP;
	}
	r = mem_zalloc(sizeof(*r), rec_destroy);
	if (!r)
		return ENOMEM;
	r->fd = -1;
	l = strlen(path) + sizeof(".part");
	r->path = strdup(path);
	r->tmp = malloc(l);
	if (!r->path || !r->tmp) {
		err = ENOMEM;
		goto out;
	}
	snprintf(r->tmp, l, "%s.part", path);
	r->fd = open(r->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (r->fd < 0) {
		err = errno;
		log_warn("rec: cannot create %s: %s", r->tmp, strerror(err));
		free(r->tmp);
		r->tmp = NULL;          /* not ours: do not unlink it */
		goto out;
	}
	if (append) {
		if ((err = copy_old(path, r->fd))) {
			log_warn("rec: cannot append to %s: %s", path, strerror(err));
			goto out;
		}
		if (lseek(r->fd, 0, SEEK_END) > 0) {
			mode = SFM_RDWR;
			if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_RAW)
				info.format = 0;        /* read from the header */
			lseek(r->fd, 0, SEEK_SET);
		}
	}
	r->sf = sf_open_fd(r->fd, mode, &info, 0);
	if (!r->sf) {
		log_warn("rec: %s: %s", r->tmp, sf_strerror(NULL));
		err = EIO;
		goto out;
	}
	if (mode == SFM_RDWR && (info.samplerate != SOUND_RATE || info.channels != 1 ||
				 sf_seek(r->sf, 0, SEEK_END) < 0)) {
		log_warn("rec: cannot append to %s: not 8 kHz mono", path);
		err = EINVAL;
		goto out;
	}
	*rp = r;
	return 0;
out:
	mem_deref(r);
	return err;
}

int rec_open(struct rec **rp, const char *path)
{
	return open_common(rp, path, false);
}

int rec_open_append(struct rec **rp, const char *path)
{
	return open_common(rp, path, true);
}

static int fail(struct rec *r, int err, const char *what)
{
	if (!r->err) {
		r->err = err;
		log_warn("rec: %s: %s: %s; the recording is dropped", r->path, what,
			 strerror(err));
	}
	return r->err;
}

static int flush(struct rec *r)
{
	sf_count_t k;

	if (!r->nbuf || r->err)
		return r->err;
	errno = 0;
	k = sf_write_short(r->sf, r->buf, (sf_count_t)r->nbuf);
	if (k != (sf_count_t)r->nbuf)
		return fail(r, errno ? errno : EIO, "write failed");
	r->nbuf = 0;
	return 0;
}

int rec_write(struct rec *r, const int16_t *pcm, size_t n)
{
	if (!r || r->finished)
		return EBADF;
	if (r->err)
		return r->err;
	while (n) {
		size_t k = BUF_SAMPLES - r->nbuf < n ? BUF_SAMPLES - r->nbuf : n;

		if (pcm)
			memcpy(r->buf + r->nbuf, pcm, k * sizeof(*pcm));
		else
			memset(r->buf + r->nbuf, 0, k * sizeof(*pcm));
		r->nbuf += k;
		r->samples += k;
		n -= k;
		if (pcm)
			pcm += k;
		if (r->nbuf == BUF_SAMPLES && flush(r))
			return r->err;
	}
	return 0;
}

int rec_silence(struct rec *r, size_t n)
{
	return rec_write(r, NULL, n);
}

const char *rec_path(const struct rec *r)
{
	return r->path;
}

int rec_finish(struct rec *r)
{
	int err;

	if (!r || r->finished)
		return EBADF;
	err = flush(r);
	if (!err) {
		sf_write_sync(r->sf);
		if (sf_close(r->sf))
			err = fail(r, EIO, "closing failed");
		r->sf = NULL;
	}
	if (!err && fsync(r->fd))
		err = fail(r, errno, "fsync failed");
	if (!err && rename(r->tmp, r->path))
		err = fail(r, errno, "rename failed");
	if (err) {
		discard(r);
		return err;
	}
	close(r->fd);
	r->fd = -1;
	r->finished = true;
	return 0;
}

uint64_t rec_samples(const struct rec *r)
{
	return r->samples;
}

bool rec_failed(const struct rec *r)
{
	return r->err != 0;
}
