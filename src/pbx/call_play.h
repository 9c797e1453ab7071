/**
 * @file call_play.h  What a call's dialplan plays and hears on the
 * caller's leg (call_play.c): prompts, music on hold and tones fed into
 * the relay, the caller's RFC 4733 keys, the channel's language and
 * music class; music on hold for the held side of a bridged call and
 * for Dial's m option. The dialplan applications (call_apps.c) reach it
 * through `struct call_play_ops`, so their unit test can stand in for
 * the network.
 */
#ifndef TANDEM_PBX_CALL_PLAY_H
#define TANDEM_PBX_CALL_PLAY_H

#include <stdbool.h>

#include "media/sdp.h"

struct call;

/** What happens to a key the caller presses (DTMF end, leg A). */
enum call_play_keys {
	CALL_PLAY_KEEP = 0,   /* kept for the next application that reads keys
			       * (Asterisk's frame queue: "Background then
			       * WaitExten" keeps the key); bounded */
	CALL_PLAY_DROP,       /* Playback, SayNumber: dropped */
	CALL_PLAY_DELIVER,    /* given to the listener */
};

enum call_play_ev {
	CALL_PLAY_DIGIT,      /* a key (CALL_PLAY_DELIVER) */
	CALL_PLAY_DONE,       /* the prompts queued for the caller have played */
	CALL_PLAY_TIMER,      /* the listener's timer expired */
};

/** The application listening on a call. It may resume the dialplan,
 * which may end (free) the call: nothing of c may be used after that. */
typedef void (call_play_h)(struct call *c, enum call_play_ev ev, char digit, void *arg);

struct call_play_ops {
	/** Channel settings: "language" (default: the caller peer's
	 * language=, else [general]'s, else en) and "musicclass" ("" unless
	 * set). set: 0 or EINVAL (unknown name). */
	const char *(*get)(struct call *c, const char *what);
	int  (*set)(struct call *c, const char *what, const char *value);
	bool (*answered)(struct call *c);
	/**
	 * Stop whatever the caller hears and queue the prompts of list
	 * ("a&b", sound_find names) in lang; missing ones are warned about
	 * and skipped. The caller hears them at once: a call not answered
	 * gets early media (183 with our SDP), or is answered when that is
	 * not possible (a late offer). 0, or the first error.
	 */
	int  (*files)(struct call *c, const char *lang, const char *list);
	/** True while queued prompts are still playing. */
	bool (*playing)(struct call *c);
	/** Music on hold of class (NULL/"": the channel's musicclass, else
	 * default) for the caller, as files() does prompts. 0 or errno. */
	int  (*moh)(struct call *c, const char *cls);
	/** An indications tone by name ("dial") or spec, until stopped. */
	int  (*tone)(struct call *c, const char *name);
	/** Silence what the caller hears (back to the relay). */
	void (*stop)(struct call *c);
	/** Set what keys do and who hears events (h NULL: nobody); the
	 * listener's arg is referenced (mem.h) until replaced. */
	void (*listen)(struct call *c, enum call_play_keys keys, call_play_h *h, void *arg);
	/** The current listener's arg, or NULL. */
	void *(*arg)(struct call *c);
	/** Arm the listener's timer (0 cancels). */
	void (*timer)(struct call *c, unsigned ms);
	/** The oldest kept key, removed; 0 when none. */
	char (*take)(struct call *c);
	/** The waiting application is done: run the dialplan on. */
	void (*resume)(struct call *c);
};

/** The real thing (call_play.c). */
extern const struct call_play_ops call_play_ops;

/* -------------------------------------------------- hooks in the B2BUA */

/** The dialplan answered the caller: keys it presses from now on are
 * kept for the applications (the state is otherwise made on first use). */
void call_play_start(struct call *c);
/** The call ends: stop feeding and listening, free the state. NULL-safe. */
void call_play_free(struct call *c);
/**
 * A bridged side re-INVITEd with dir (from the caller or the callee).
 * sendonly/inactive: it holds, and the other side hears music on hold
 * (the channel's musicclass, else the holder peer's mohsuggest, else the
 * held peer's mohinterpret, else default); returns the direction to
 * offer the other side (sendonly, so that it receives the music).
 * Anything else ends the music; returns dir.
 */
enum sdp_dir call_play_hold(struct call *c, bool from_caller, enum sdp_dir dir);
/** Dial's options: m[(class)] plays music to the caller (early media)
 * instead of passing ringing on, until call_play_dial_end(). */
void call_play_dial(struct call *c, const char *options);
/** Dial ended (answered or not): Dial's music stops. */
void call_play_dial_end(struct call *c);
/** True while Dial's music plays: ringing is not passed to the caller. */
bool call_play_dial_music(const struct call *c);

/* ------------------------------------------------------- call_apps.c */

/**
 * Register Playback, Background, WaitExten, Read, SayDigits, SayNumber,
 * MusicOnHold, StartMusicOnHold, StopMusicOnHold and the functions
 * CHANNEL (language, musicclass, name, uniqueid, peername) and TIMEOUT
 * (digit, response). Idempotent. Must run before a dialplan is built,
 * or the build warns that these applications are missing.
 */
void call_apps_init(void);
/** Tests: use ops instead of call_play_ops (NULL: back to it). */
void call_apps_test_ops(const struct call_play_ops *ops);

#endif
