/**
 * @file play.c  Players: per-leg queues of prompts, silence, tones and
 * music, read as 20 ms PCM frames.
 *
 * A player is pulled, never pushes: the RTP ticker (rtp_local.c) calls
 * play_read() once per leg per tick, tests call it in a loop, so nothing
 * here depends on real time. The queue is a singly linked FIFO of at most
 * PLAY_QUEUE_MAX items; an item consumed inside a frame hands the rest of
 * the frame to the next one (Playback "a&b&c" has no gaps). Music and
 * endless tones stay at the head until play_stop().
 *
 * The done handler runs from a zero-delay loop timer armed when the
 * queue drains: after the tick that drained it has finished with every
 * leg, and not at all when something was queued again meanwhile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/moh.h"
#include "media/play.h"
#include "media/sound.h"
#include "media/tone.h"

enum item_kind { IT_SOUND, IT_SILENCE, IT_TONE, IT_MOH };

struct item {
	struct item *next;
	enum item_kind kind;
	union {
		struct {
			struct sound *s;
			size_t pos;
		} snd;
		uint64_t left;          /* IT_SILENCE: samples */
		struct {
			struct tone_synth g;
			uint64_t left;  /* samples; 0: endless */
			bool endless;
		} tone;
		struct moh_class *moh;
	} u;
};

struct player {
	struct item *head, *tail;
	size_t n;
	play_done_h *done;
	void *arg;
	struct tmr notify;
	/* where this listener is in its last music class (resume) */
	struct moh_class *moh_cls;
	struct moh_cursor moh_cur;
};

static uint64_t ticks;

void play_tick(void)
{
	ticks++;
}

uint64_t play_ticks(void)
{
	return ticks;
}

static void item_free(struct item *it)
{
	if (it->kind == IT_SOUND)
		mem_deref(it->u.snd.s);
	else if (it->kind == IT_MOH)
		mem_deref(it->u.moh);
	free(it);
}

static void pop(struct player *p)
{
	struct item *it = p->head;

	p->head = it->next;
	if (!p->head)
		p->tail = NULL;
	p->n--;
	item_free(it);
}

void play_stop(struct player *p)
{
	if (!p)
		return;
	while (p->head)
		pop(p);
	tmr_cancel(&p->notify);
}

static void player_destroy(void *data)
{
	struct player *p = data;

	play_stop(p);
	moh_cursor_reset(&p->moh_cur);
	p->moh_cls = mem_deref(p->moh_cls);
}

int player_alloc(struct player **pp, play_done_h *done, void *arg)
{
	struct player *p;

	if (!pp)
		return EINVAL;
	p = mem_zalloc(sizeof(*p), player_destroy);
	if (!p)
		return ENOMEM;
	tmr_init(&p->notify);
	p->done = done;
	p->arg = arg;
	*pp = p;
	return 0;
}

void player_handler(struct player *p, play_done_h *done, void *arg)
{
	p->done = done;
	p->arg = arg;
}

bool play_busy(const struct player *p)
{
	return p && p->head;
}

static struct item *push(struct player *p, enum item_kind kind)
{
	struct item *it;

	if (p->n >= PLAY_QUEUE_MAX) {
		log_warn("play: queue full (%d items), item dropped", PLAY_QUEUE_MAX);
		return NULL;
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		return NULL;
	it->kind = kind;
	if (p->tail)
		p->tail->next = it;
	else
		p->head = it;
	p->tail = it;
	p->n++;
	tmr_cancel(&p->notify);         /* not dry any more */
	return it;
}

int play_sound(struct player *p, struct sound *s)
{
	struct item *it;

	if (!p || !s)
		return EINVAL;
	it = push(p, IT_SOUND);
	if (!it)
		return p->n >= PLAY_QUEUE_MAX ? ENOSPC : ENOMEM;
	it->u.snd.s = mem_ref(s);
	return 0;
}

int play_file(struct player *p, const char *lang, const char *name)
{
	struct sound *s;
	int err;

	if (!p || !name)
		return EINVAL;
	err = sound_get(lang, name, &s);
	if (err)
		return err;
	err = play_sound(p, s);
	mem_deref(s);
	return err;
}

int play_files(struct player *p, const char *lang, const char *list)
{
	int first = 0;

	if (!p || !list)
		return EINVAL;
	while (*list) {
		char name[1024];
		size_t l = strcspn(list, "&");
		int err;

		if (l && l < sizeof(name)) {
			memcpy(name, list, l);
			name[l] = '\0';
			err = play_file(p, lang, name);
		} else {
			err = l ? ENAMETOOLONG : 0;
		}
		if (err && !first)
			first = err;
		list += l;
		if (*list == '&')
			list++;
	}
	return first;
}

int play_silence(struct player *p, uint32_t ms)
{
	struct item *it;

	if (!p)
		return EINVAL;
	it = push(p, IT_SILENCE);
	if (!it)
		return p->n >= PLAY_QUEUE_MAX ? ENOSPC : ENOMEM;
	it->u.left = (uint64_t)ms * (SOUND_RATE / 1000);
	return 0;
}

int play_tone(struct player *p, const char *spec, uint32_t ms)
{
	struct tone t;
	struct item *it;

	if (!p)
		return EINVAL;
	if (tone_parse(spec, &t)) {
		log_warn("play: bad tone \"%s\"", spec ? spec : "");
		return EINVAL;
	}
	it = push(p, IT_TONE);
	if (!it)
		return p->n >= PLAY_QUEUE_MAX ? ENOSPC : ENOMEM;
	tone_synth_init(&it->u.tone.g, &t);
	it->u.tone.left = (uint64_t)ms * (SOUND_RATE / 1000);
	it->u.tone.endless = !ms;
	return 0;
}

int play_moh(struct player *p, struct moh_class *c)
{
	struct item *it;

	if (!p || !c)
		return EINVAL;
	it = push(p, IT_MOH);
	if (!it)
		return p->n >= PLAY_QUEUE_MAX ? ENOSPC : ENOMEM;
	it->u.moh = mem_ref(c);
	return 0;
}

/* ================================================================
 * Reading
 * ================================================================ */

/* Fill pcm[off..off+n) from item it; returns samples written (< n when
 * the item ended). */
static size_t item_read(struct player *p, struct item *it, int16_t *pcm, size_t off,
			size_t n)
{
	size_t k = 0, len;
	const int16_t *d;

	switch (it->kind) {
	case IT_SOUND:
		d = sound_pcm(it->u.snd.s, &len);
		k = len - it->u.snd.pos < n ? len - it->u.snd.pos : n;
		memcpy(pcm + off, d + it->u.snd.pos, k * sizeof(*pcm));
		it->u.snd.pos += k;
		return k;
	case IT_SILENCE:
		k = it->u.left < n ? (size_t)it->u.left : n;
		memset(pcm + off, 0, k * sizeof(*pcm));
		it->u.left -= k;
		return k;
	case IT_TONE:
		k = n;
		if (!it->u.tone.endless && it->u.tone.left < k)
			k = (size_t)it->u.tone.left;
		k = tone_synth_read(&it->u.tone.g, pcm + off, k);
		if (!it->u.tone.endless)
			it->u.tone.left -= k;
		if (k < n || it->u.tone.g.done) {       /* a tone without repeat ended */
			it->u.tone.left = 0;
			it->u.tone.endless = false;
		}
		return k;
	case IT_MOH:
		if (p->moh_cls != it->u.moh) {  /* another class: start it afresh */
			moh_cursor_reset(&p->moh_cur);
			mem_deref(p->moh_cls);
			p->moh_cls = mem_ref(it->u.moh);
		}
		moh_read(it->u.moh, &p->moh_cur, pcm + off, off, n);
		return n;
	}
	return 0;
}

static size_t sound_len_of(const struct sound *s)
{
	size_t len;

	sound_pcm(s, &len);
	return len;
}

static void on_notify(void *arg)
{
	struct player *p = arg;

	if (!p->head && p->done)
		p->done(p, p->arg);     /* may free p */
}

static bool item_finished(const struct item *it)
{
	switch (it->kind) {
	case IT_SOUND:
		return it->u.snd.pos >= sound_len_of(it->u.snd.s);
	case IT_SILENCE:
		return !it->u.left;
	case IT_TONE:
		return !it->u.tone.endless && !it->u.tone.left;
	case IT_MOH:
		return false;
	}
	return true;
}

bool play_read(struct player *p, int16_t pcm[PLAY_FRAME])
{
	size_t off = 0;
	bool had = p->head != NULL;

	while (off < PLAY_FRAME && p->head) {
		size_t k = item_read(p, p->head, pcm, off, PLAY_FRAME - off);

		off += k;
		if (item_finished(p->head))
			pop(p);
		else if (!k)
			break;
	}
	if (off < PLAY_FRAME)
		memset(pcm + off, 0, (PLAY_FRAME - off) * sizeof(*pcm));
	if (had && !p->head && p->done)
		tmr_start(&p->notify, 0, on_notify, p);
	return had;
}
