/**
 * @file dtmf.h  RFC 4733 telephone-event: turning a leg's event packets
 * into digit begin/end events, and building the payloads we send.
 *
 * I/O-free: the RTP layer feeds payloads with their RTP timestamp; the
 * state machine is in dtmf.c's top comment.
 */
#ifndef TANDEM_DTMF_H
#define TANDEM_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dtmf_ev { DTMF_BEGIN = 0, DTMF_END };

/** One digit event: digit is one of "0123456789*#ABCD". */
typedef void (dtmf_h)(char digit, enum dtmf_ev ev, uint32_t ms, void *arg);

/** Receive state of one leg; zero-initialise. */
struct dtmf_rx4733 {
	bool have;              /* an event was seen */
	bool active;            /* begun and not ended */
	uint8_t event;
	uint32_t ts;            /* RTP timestamp of the event */
	uint32_t dur;           /* largest duration seen, timestamp units */
	uint64_t events;        /* digits reported (DTMF_END) */
	uint64_t bad;           /* payloads too short */
};

/**
 * Feed one telephone-event payload (len bytes, RTP timestamp ts, clock
 * rate rate). Calls h for a new digit (DTMF_BEGIN), for its end
 * (DTMF_END, once, however many end packets arrive) and for a previous
 * digit whose end packets were all lost (DTMF_END before the new
 * DTMF_BEGIN). Events other than 0-15 (flash, fax tones) and packets
 * up to a minute older than the current event are ignored. EBADMSG for a
 * short payload.
 */
int  dtmf_rx4733_packet(struct dtmf_rx4733 *s, const uint8_t *pl, size_t len,
			uint32_t ts, uint32_t rate, dtmf_h *h, void *arg);
/**
 * Audio with timestamp ts arrived: ends (DTMF_END) a digit whose end
 * packets were lost once the audio is past its last known duration.
 */
void dtmf_rx4733_audio(struct dtmf_rx4733 *s, uint32_t ts, uint32_t rate, dtmf_h *h,
		       void *arg);

/**
 * The sender's stream restarted (new SSRC, re-INVITE): end a digit in
 * progress (DTMF_END) and forget its timestamp.
 */
void dtmf_rx4733_reset(struct dtmf_rx4733 *s, uint32_t rate, dtmf_h *h, void *arg);

/** The digit of event 0-15, or 0. */
char dtmf_digit(unsigned event);
/** The event of a digit (case-insensitive a-d), or -1. */
int  dtmf_event(char digit);
/** Write a 4-byte telephone-event payload (volume in -dBm0, 0-63). */
void dtmf_4733_encode(uint8_t pl[4], uint8_t event, bool end, uint8_t volume,
		      uint16_t duration);

#endif
