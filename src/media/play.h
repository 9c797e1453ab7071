/**
 * @file play.h  A player: the local audio source of one call leg. It
 * holds a queue of prompts, silences, tones and music and produces it as
 * 20 ms frames of 8 kHz PCM on demand (play_read()).
 *
 * The RTP layer pulls a frame per leg at every media tick
 * (rtp_relay_feed()); tests pull frames directly. Playback is gapless:
 * an item that ends inside a frame is followed by the next in the same
 * frame. When the queue runs dry the done handler is called from its own
 * zero-delay timer, never from inside play_read(), so it may do anything
 * (queue more, free the player, hang up).
 */
#ifndef TANDEM_PLAY_H
#define TANDEM_PLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sound;
struct moh_class;
struct player;

#define PLAY_FRAME     160      /* samples in 20 ms at 8 kHz */
#define PLAY_FRAME_MS  20
#define PLAY_QUEUE_MAX 256      /* items queued at once */

/** The queue ran dry (not called after play_stop()). */
typedef void (play_done_h)(struct player *p, void *arg);

/** A player with an empty queue. Free with mem_deref(). ENOMEM. */
int  player_alloc(struct player **pp, play_done_h *done, void *arg);
/** Change the done handler (NULL: none). */
void player_handler(struct player *p, play_done_h *done, void *arg);

/** Queue a loaded sound (takes its own reference). ENOSPC when full. */
int  play_sound(struct player *p, struct sound *s);
/**
 * Queue the prompt name in language lang (sound_get()). A missing or
 * unreadable file is a logged warning and an error (ENOENT, EINVAL,
 * ENOTSUP); nothing is queued for it.
 */
int  play_file(struct player *p, const char *lang, const char *name);
/**
 * Playback's "a&b&c": queue each file in order; missing ones are skipped
 * (warned, as Asterisk does). Returns 0 when all were queued, else the
 * first error (the others are queued anyway).
 */
int  play_files(struct player *p, const char *lang, const char *list);
/** Queue ms of silence. */
int  play_silence(struct player *p, uint32_t ms);
/**
 * Queue a tone in indications.conf syntax (tone.h) for ms milliseconds;
 * 0 plays until play_stop() (or until a tone that does not repeat ends).
 * EINVAL for a bad spec.
 */
int  play_tone(struct player *p, const char *spec, uint32_t ms);
/**
 * Queue music from class c until play_stop(). The player remembers its
 * place in a per-listener class: starting the same class again resumes
 * there (Asterisk's mode=files), another class starts afresh.
 */
int  play_moh(struct player *p, struct moh_class *c);
/** Empty the queue now (a Background interrupted by a digit). */
void play_stop(struct player *p);
/** True while something is queued. */
bool play_busy(const struct player *p);

/**
 * Produce the next PLAY_FRAME samples into pcm. Returns false when the
 * queue was already empty (pcm is then silence). Does not call handlers.
 */
bool play_read(struct player *p, int16_t pcm[PLAY_FRAME]);

/** Start the next media tick (the RTP ticker calls it every 20 ms). */
void play_tick(void);
/** Media ticks so far: the clock shared class streams follow. */
uint64_t play_ticks(void);

#endif
