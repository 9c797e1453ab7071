/**
 * @file dtmf.c  RFC 4733 telephone-event decoding and encoding.
 *
 * Payload (RFC 4733 2.3): event (8 bits), E (end), R, volume (6 bits),
 * duration (16 bits, in RTP timestamp units from the event's start). All
 * packets of one event carry the same RTP timestamp, the event's start;
 * the duration grows in each update; the final packet has E set and is
 * sent three times (2.5.1.4).
 *
 * Receiver state: the timestamp and event of the current digit.
 * - a packet for a new timestamp (or a new event at the same timestamp)
 *   begins a digit: DTMF_BEGIN; if the previous digit never ended (all
 *   three end packets lost), DTMF_END for it first, with the longest
 *   duration seen;
 * - an update for the current digit only raises the duration;
 * - the first E packet of the current digit gives DTMF_END with its
 *   duration; the retransmitted end packets (same timestamp) are ignored;
 *   so is anything up to a minute older (reordering, late copies); a
 *   timestamp further back is a new digit (a stream that restarted);
 * - an E packet for an unseen digit (its start packets lost) gives
 *   DTMF_BEGIN and DTMF_END together;
 * - audio past the current digit's duration ends a digit whose end
 *   packets were lost (2.5.1.6: the sender resumes audio after it).
 * The M bit is not needed: the timestamp says when an event is new.
 * Not handled: events longer than 65535 timestamp units (8 s at 8 kHz)
 * that RFC 4733 2.5.1.3 splits into segments with new timestamps; each
 * segment counts as a new press of the same key.
 */
#include <errno.h>

#include "media/dtmf.h"

#define LATE_WINDOW 60          /* seconds: older timestamps are late copies */

static const char digits[] = "0123456789*#ABCD";

char dtmf_digit(unsigned event)
{
	return event < 16 ? digits[event] : 0;
}

int dtmf_event(char digit)
{
	if (digit >= 'a' && digit <= 'd')
		digit = (char)(digit - 'a' + 'A');
	for (int i = 0; i < 16; i++)
		if (digits[i] == digit)
			return i;
	return -1;
}

void dtmf_4733_encode(uint8_t pl[4], uint8_t event, bool end, uint8_t volume,
		      uint16_t duration)
{
	pl[0] = event;
	pl[1] = (uint8_t)((end ? 0x80 : 0) | (volume & 0x3f));
	pl[2] = (uint8_t)(duration >> 8);
	pl[3] = (uint8_t)duration;
}

static uint32_t to_ms(uint32_t dur, uint32_t rate)
{
	return rate ? (uint32_t)((uint64_t)dur * 1000 / rate) : 0;
}

static void end_current(struct dtmf_rx4733 *s, uint32_t rate, dtmf_h *h, void *arg)
{
	s->active = false;
	s->events++;
	if (h)
		h(dtmf_digit(s->event), DTMF_END, to_ms(s->dur, rate), arg);
}

int dtmf_rx4733_packet(struct dtmf_rx4733 *s, const uint8_t *pl, size_t len,
		       uint32_t ts, uint32_t rate, dtmf_h *h, void *arg)
{
	uint8_t ev;
	bool end;
	uint32_t dur;

	if (len < 4) {
		s->bad++;
		return EBADMSG;
	}
	ev = pl[0];
	end = pl[1] & 0x80;
	dur = (uint32_t)pl[2] << 8 | pl[3];
	if (ev > 15)
		return 0;
	if (s->have && ts == s->ts && ev == s->event) {
		if (!s->active)
			return 0;               /* retransmitted end */
		if (dur > s->dur)
			s->dur = dur;
		if (end)
			end_current(s, rate, h, arg);
		return 0;
	}
	if (s->have && (int32_t)(ts - s->ts) < 0 && s->ts - ts < LATE_WINDOW * rate)
		return 0;                       /* a late copy of an older digit */
	if (s->active)
		end_current(s, rate, h, arg);   /* its end packets were lost */
	s->have = true;
	s->active = true;
	s->event = ev;
	s->ts = ts;
	s->dur = dur;
	if (h)
		h(dtmf_digit(ev), DTMF_BEGIN, 0, arg);
	if (end)
		end_current(s, rate, h, arg);
	return 0;
}

void dtmf_rx4733_audio(struct dtmf_rx4733 *s, uint32_t ts, uint32_t rate, dtmf_h *h,
		       void *arg)
{
	if (s->active && (int32_t)(ts - (s->ts + s->dur)) >= 0)
		end_current(s, rate, h, arg);
}

void dtmf_rx4733_reset(struct dtmf_rx4733 *s, uint32_t rate, dtmf_h *h, void *arg)
{
	if (s->active)
		end_current(s, rate, h, arg);
	s->have = false;
}
