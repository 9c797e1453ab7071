/** @file sndfix.c  Sound fixtures for the media unit tests (sndfix.h). */
#include <fcntl.h>
#include <ftw.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/fs.h"
#include "sndfix.h"

static char root[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

void sndfix_open(void)
{
	snprintf(root, sizeof(root), "/tmp/tandem-snd-XXXXXX");
	assert_non_null(mkdtemp(root));
}

void sndfix_close(void)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	root[0] = '\0';
}

const char *sndfix_path(const char *rel)
{
	static char p[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", root, rel);
	return p[k];
}

void sndfix_mkdirs(const char *rel)
{
	char p[512];

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", root, rel) < sizeof(p))
		fs_mkdirs(p, 0755);
}

void sndfix_write(const char *rel, int format, int rate, int channels, size_t n,
		  int16_t (*gen)(size_t i, int ch))
{
	SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
	int16_t *buf = calloc(n * (size_t)channels + 1, sizeof(*buf));
	SNDFILE *sf;
	char dir[512], *slash;

	assert_non_null(buf);
	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		sndfix_mkdirs(dir);
	}
	sf = sf_open(sndfix_path(rel), SFM_WRITE, &info);
	assert_non_null(sf);
	/* float files hold -1..1: scale the shorts we write */
	sf_command(sf, SFC_SET_SCALE_INT_FLOAT_WRITE, NULL, SF_TRUE);
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < channels; c++)
			buf[i * (size_t)channels + (size_t)c] = gen(i, c);
	assert_int_equal(sf_writef_short(sf, buf, (sf_count_t)n), (sf_count_t)n);
	sf_close(sf);
	free(buf);
}

void sndfix_bytes(const char *rel, const void *b, size_t n)
{
	char dir[512], *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", rel);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		sndfix_mkdirs(dir);
	}
	fd = open(sndfix_path(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
}

static int16_t const_v;

static int16_t gen_const(size_t i, int ch)
{
	(void)i;
	(void)ch;
	return const_v;
}

void sndfix_const(const char *rel, size_t n, int16_t v)
{
	const_v = v;
	sndfix_write(rel, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, n, gen_const);
}
