/**
 * @file sndfix.h  Sound fixtures for the media unit tests: a temporary
 * directory and files written with libsndfile.
 */
#ifndef TANDEM_TEST_SNDFIX_H
#define TANDEM_TEST_SNDFIX_H

#include <stddef.h>
#include <stdint.h>

/** Make a fresh /tmp/tandem-snd-XXXXXX; asserts on failure. */
void sndfix_open(void);
/** Remove it and everything in it. */
void sndfix_close(void);
/** Absolute path of rel inside the directory (4 rotating buffers). */
const char *sndfix_path(const char *rel);
/** mkdir -p of rel inside the directory. */
void sndfix_mkdirs(const char *rel);
/** Write n frames of gen(i, channel) as rel (subdirectories made). */
void sndfix_write(const char *rel, int format, int rate, int channels, size_t n,
		  int16_t (*gen)(size_t i, int ch));
/** Write n bytes as rel. */
void sndfix_bytes(const char *rel, const void *b, size_t n);
/** 8 kHz 16-bit mono wav of n samples of the constant v. */
void sndfix_const(const char *rel, size_t n, int16_t v);

#endif
