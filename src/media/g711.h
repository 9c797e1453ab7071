/**
 * @file g711.h  ITU-T G.711 A-law and mu-law: sample conversion and the
 * 256-byte tables that translate one law into the other in place.
 */
#ifndef TANDEM_G711_H
#define TANDEM_G711_H

#include <stddef.h>
#include <stdint.h>

/** Build the translation and coding tables; idempotent, called by
 * rtp_init() and by the buffer coders below when needed. */
void g711_tables_init(void);
int16_t g711_alaw_decode(uint8_t a);
int16_t g711_ulaw_decode(uint8_t u);
uint8_t g711_alaw_encode(int16_t pcm);
uint8_t g711_ulaw_encode(int16_t pcm);
/** Rewrite n A-law bytes as mu-law, in place (needs g711_tables_init()). */
void g711_alaw_to_ulaw(uint8_t *p, size_t n);
/** Rewrite n mu-law bytes as A-law, in place (needs g711_tables_init()). */
void g711_ulaw_to_alaw(uint8_t *p, size_t n);

/** Encode n linear samples into n A-law (mu-law) bytes; table lookups. */
void g711_alaw_encode_buf(uint8_t *dst, const int16_t *src, size_t n);
void g711_ulaw_encode_buf(uint8_t *dst, const int16_t *src, size_t n);
/** Decode n A-law (mu-law) bytes into n linear samples. */
void g711_alaw_decode_buf(int16_t *dst, const uint8_t *src, size_t n);
void g711_ulaw_decode_buf(int16_t *dst, const uint8_t *src, size_t n);

#endif
