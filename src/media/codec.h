/**
 * @file codec.h  Audio codecs Tandem knows by name, and a peer's codec
 * preference list built from its allow=/disallow= lines.
 *
 * Tandem relays media and transcodes only between G.711 A-law and mu-law
 * (g711.h); every other codec is passed through when both legs agree on it.
 */
#ifndef TANDEM_CODEC_H
#define TANDEM_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"

/*
 * Static payload types (RFC 3551 table 4) keep their number as the enum
 * value; codecs with dynamic payload types are numbered from 128.
 */
enum codec {
	CODEC_PCMU = 0,
	CODEC_GSM = 3,
	CODEC_G723 = 4,
	CODEC_PCMA = 8,
	CODEC_G722 = 9,
	CODEC_CN = 13,
	CODEC_G729 = 18,
	CODEC_OPUS = 128,
	CODEC_ILBC,
	CODEC_SPEEX,
	CODEC_G726_32,
	CODEC_TELEVENT,         /* RFC 4733 telephone-event (DTMF) */
	CODEC_NONE = 255
};

struct codec_info {
	enum codec codec;
	const char *name;       /* rtpmap encoding name, e.g. "PCMA" */
	const char *cfgname;    /* sip.conf allow= name, e.g. "alaw" */
	uint32_t rate;          /* RTP clock rate */
	uint8_t channels;
	int static_pt;          /* RFC 3551 static PT, or -1 */
	uint8_t default_pt;     /* PT we use when we pick one */
};

/** Table entry for c, or NULL when unknown. */
const struct codec_info *codec_info(enum codec c);
/** Codec from an rtpmap name and clock rate (case-insensitive); CODEC_NONE. */
enum codec codec_by_rtpmap(const struct pl *name, uint32_t rate);
/** Codec for a static payload type without rtpmap; CODEC_NONE. */
enum codec codec_by_static_pt(unsigned pt);
/** Codec from a sip.conf allow= name ("alaw", "ulaw", "g729"...); CODEC_NONE. */
enum codec codec_by_cfgname(const struct pl *name);
/** "PCMA", or "?" when unknown. */
const char *codec_name(enum codec c);

#define CODEC_PREFS_MAX 16

/** Ordered audio codec list: list[0] is the most preferred. */
struct codec_prefs {
	enum codec list[CODEC_PREFS_MAX];
	size_t n;
};

/** Asterisk's chan_sip default: ulaw, alaw, gsm. */
void codec_prefs_default(struct codec_prefs *p);
/**
 * Apply one allow= (allow true) or disallow= line with chan_sip semantics:
 * names separated by ',', '|' or '&', "all" for every codec; an allowed
 * codec already present keeps its place, a new one is appended; an
 * optional ":ptime" suffix is accepted and ignored. EINVAL names an
 * unknown codec (the rest of the line is still applied).
 */
int codec_prefs_apply(struct codec_prefs *p, bool allow, const char *list);
/**
 * Build p from defaults plus a sequence such as
 * "disallow=all;allow=alaw;allow=ulaw" (';' or newline separated), in order.
 */
int codec_prefs_parse(struct codec_prefs *p, const char *seq);
/** True when c is in p. */
bool codec_prefs_has(const struct codec_prefs *p, enum codec c);
/** Position of c in p (0 = most preferred), or -1. */
int codec_prefs_index(const struct codec_prefs *p, enum codec c);

#endif
