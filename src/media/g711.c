/**
 * @file g711.c  G.711 (ITU-T 11/88) A-law and mu-law.
 *
 * The encoders and decoders are the classic segment-search algorithm of
 * the ITU reference (Sun's g711.c). Law-to-law translation goes through
 * the linear value, as Asterisk's codec_a_mu does: a = enc_A(dec_mu(u)),
 * precomputed into two 256-byte tables so a 160-byte frame is 160 loads.
 * Frames from prompts and music are encoded through two 64 KiB tables
 * indexed by the 16-bit sample, and decoded through two 256-entry ones.
 */
#include <stdbool.h>

#include "media/g711.h"

static const int seg_aend[8] = { 0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF };
#define ULAW_BIAS 0x84

static uint8_t a2u[256], u2a[256];
static uint8_t lin2a[65536], lin2u[65536];
static int16_t a2lin[256], u2lin[256];
static bool ready;

static int seg_search(int val, const int *table)
{
	int i;

	for (i = 0; i < 8; i++)
		if (val <= table[i])
			break;
	return i;
}

uint8_t g711_alaw_encode(int16_t pcm16)
{
	int pcm = pcm16 >> 3, mask, seg, aval;

	if (pcm >= 0) {
		mask = 0xD5;
	} else {
		mask = 0x55;
		pcm = -pcm - 1;
	}
	seg = seg_search(pcm, seg_aend);
	if (seg >= 8)
		return (uint8_t)(0x7F ^ mask);
	aval = seg << 4;
	aval |= (seg < 2 ? pcm >> 1 : pcm >> seg) & 0xF;
	return (uint8_t)(aval ^ mask);
}

int16_t g711_alaw_decode(uint8_t a)
{
	int v = a ^ 0x55, t = (v & 0xF) << 4, seg = (v & 0x70) >> 4;

	if (seg == 0) {
		t += 8;
	} else {
		t += 0x108;
		t <<= seg - 1;
	}
	return (int16_t)((v & 0x80) ? t : -t);
}

uint8_t g711_ulaw_encode(int16_t pcm16)
{
	/* magnitude first, then bias: exact for negative inputs too */
	int mag = pcm16 < 0 ? ULAW_BIAS - pcm16 : ULAW_BIAS + pcm16;
	int mask = pcm16 < 0 ? 0x7F : 0xFF, seg = 0;

	while (seg < 8 && (mag >> (seg + 8)))
		seg++;
	if (seg >= 8)
		return (uint8_t)(0x7F ^ mask);
	return (uint8_t)(((seg << 4) | ((mag >> (seg + 3)) & 0xF)) ^ mask);
}

int16_t g711_ulaw_decode(uint8_t u)
{
	int v = (uint8_t)~u, t = ((v & 0xF) << 3) + ULAW_BIAS;

	t <<= (v & 0x70) >> 4;
	return (int16_t)((v & 0x80) ? ULAW_BIAS - t : t - ULAW_BIAS);
}

void g711_tables_init(void)
{
	if (ready)
		return;
	for (int i = 0; i < 256; i++) {
		a2u[i] = g711_ulaw_encode(g711_alaw_decode((uint8_t)i));
		u2a[i] = g711_alaw_encode(g711_ulaw_decode((uint8_t)i));
		a2lin[i] = g711_alaw_decode((uint8_t)i);
		u2lin[i] = g711_ulaw_decode((uint8_t)i);
	}
	for (int i = 0; i < 65536; i++) {
		lin2a[i] = g711_alaw_encode((int16_t)(i - 32768));
		lin2u[i] = g711_ulaw_encode((int16_t)(i - 32768));
	}
	ready = true;
}

void g711_alaw_to_ulaw(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = a2u[p[i]];
}

void g711_ulaw_to_alaw(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = u2a[p[i]];
}

void g711_alaw_encode_buf(uint8_t *dst, const int16_t *src, size_t n)
{
	g711_tables_init();
	for (size_t i = 0; i < n; i++)
		dst[i] = lin2a[(uint16_t)(src[i] + 32768)];
}

void g711_ulaw_encode_buf(uint8_t *dst, const int16_t *src, size_t n)
{
	g711_tables_init();
	for (size_t i = 0; i < n; i++)
		dst[i] = lin2u[(uint16_t)(src[i] + 32768)];
}

void g711_alaw_decode_buf(int16_t *dst, const uint8_t *src, size_t n)
{
	g711_tables_init();
	for (size_t i = 0; i < n; i++)
		dst[i] = a2lin[src[i]];
}

void g711_ulaw_decode_buf(int16_t *dst, const uint8_t *src, size_t n)
{
	g711_tables_init();
	for (size_t i = 0; i < n; i++)
		dst[i] = u2lin[src[i]];
}
