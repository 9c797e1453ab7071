/**
 * @file tone.h  Call progress tones (ringback, busy, congestion...) in
 * Asterisk's indications.conf syntax, per country, generated at 8 kHz.
 */
#ifndef TANDEM_TONE_H
#define TANDEM_TONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TONE_PARTS_MAX 24
#define TONE_AMPLITUDE 7219     /* per frequency, Asterisk's playtones default */

struct tone_part {
	uint16_t f1, f2;        /* Hz; 0: none (f1 0 is silence) */
	uint32_t ms;            /* 0: forever */
};

/** A parsed tone: parts played in order; then again from rep (if any). */
struct tone {
	struct tone_part part[TONE_PARTS_MAX];
	size_t n;
	int rep;                /* first part repeated, -1: play once */
};

/** Synthesiser state; plain value, no allocation. (Not "tone_gen": spandsp
 * exports tone_gen_init() and our symbol would replace its own.) */
struct tone_synth {
	struct tone t;
	size_t idx;             /* current part */
	uint32_t pos;           /* samples played of it */
	uint32_t ph1, ph2;      /* DDS phase accumulators */
	int32_t rate1, rate2;
	bool done;
};

/**
 * Parse spec, e.g. "425/1500,0/3000" or "!350+440/100,!0/100,350+440":
 * comma-separated parts "[!]F1[+F2][/MS]", F 0 for silence, '!' parts
 * played once, a part without /MS lasts forever; "F1*F2" (AM in
 * Asterisk) is played as F1+F2. Returns 0 or EINVAL (also for MIDI "M").
 */
int  tone_parse(const char *spec, struct tone *t);
/**
 * The spec of tone name ("dial", "busy", "ring", "congestion",
 * "callwaiting") in country (indications.conf zone: "es", "us", "uk",
 * "fr", "de", "mx"); NULL when either is unknown.
 */
const char *tone_lookup(const char *country, const char *name);
/** Start generating t from its first part. */
void tone_synth_init(struct tone_synth *g, const struct tone *t);
/**
 * Write up to n samples; returns how many, fewer than n only when the tone
 * ended (a tone without a repeat and without an endless part).
 */
size_t tone_synth_read(struct tone_synth *g, int16_t *pcm, size_t n);

#endif
