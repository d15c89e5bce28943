/*
 * mix.h: 64-bit integer mixers (finalisers), for hashing integers and for
 * made-up test data; header-only. Values are part of stored fingerprints,
 * so a mixer here never changes.
 */
#ifndef SS_UTIL_MIX_H
#define SS_UTIL_MIX_H

#include <stdint.h>

/* splitmix64's finaliser: a fast, well-mixed 64-bit hash step. */
static inline uint64_t ss_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* MurmurHash3's 64-bit finaliser (fmix64). */
static inline uint64_t ss_fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

#endif
