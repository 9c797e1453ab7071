/**
 * @file rec.h  Recording sink: 8 kHz PCM written to a sound file that
 * appears under its final name only when complete.
 *
 * The file is written as PATH.part and renamed to PATH by rec_finish()
 * after its header is final and its data is on disk; a recording that
 * failed or was abandoned leaves nothing behind.
 */
#ifndef TANDEM_REC_H
#define TANDEM_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rec;

/**
 * Start recording into path; its extension picks the format: .wav
 * (16-bit PCM), .WAV (GSM 6.10 in wav, Asterisk's wav49), .gsm, .ulaw,
 * .alaw, .sln (raw). EEXIST when PATH.part exists (another recording of
 * the same file), ENOTSUP for another extension, or an errno from open.
 * Free with mem_deref(): an unfinished recording is removed.
 */
int  rec_open(struct rec **rp, const char *path);
/**
 * As rec_open(), going on from the end of an existing PATH (MixMonitor's
 * a): its content is copied to PATH.part first, so PATH stays whole
 * until the new one replaces it. An 8 kHz mono file; a missing one is
 * started anew.
 */
int  rec_open_append(struct rec **rp, const char *path);
/**
 * Append n samples (buffered, about a second at a time). After a write
 * error (a full disk) the recording is failed: the error is logged once,
 * returned by this and every later call, and rec_finish() removes it.
 */
int  rec_write(struct rec *r, const int16_t *pcm, size_t n);
/** Append n samples of silence. Same errors as rec_write(). */
int  rec_silence(struct rec *r, size_t n);
/**
 * Flush, close and rename to the final name. 0, or the error that failed
 * the recording (nothing is left on disk then). Later writes: EBADF.
 */
int  rec_finish(struct rec *r);
/** Samples written so far (including buffered ones). */
uint64_t rec_samples(const struct rec *r);
/** True once a write failed. */
bool rec_failed(const struct rec *r);
/** The final name given to rec_open(). */
const char *rec_path(const struct rec *r);

#endif
