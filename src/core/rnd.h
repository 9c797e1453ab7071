/**
 * @file rnd.h  A small non-cryptographic PRNG for choices that only need
 * to look random (queue strategies, music-on-hold order): Marsaglia's
 * xorshift32. Never for anything an attacker may guess (tags, nonces,
 * SSRCs use getrandom()).
 */
#ifndef TANDEM_RND_H
#define TANDEM_RND_H

#include <stdint.h>

/** Next value of the sequence in *s (a zero seed is replaced); never 0. */
static inline uint32_t rnd_xorshift32(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

#endif
