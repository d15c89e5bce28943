/*
 * fp.c: comparing min-hash signatures and cutting them into bands (see
 * fp.h).
 */
#include "fuzzy/fp.h"

double fp_similarity(const fp_text *a, const fp_text *b)
{
	unsigned same = 0;

	for (size_t i = 0; i < FP_NHASH; i++)
		same += a->h[i] == b->h[i];
	return (double)same / FP_NHASH;
}

/* splitmix64's finaliser: a fast, well-mixed 64-bit hash step. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void fp_bands(const fp_text *t, uint64_t out[FP_NBANDS])
{
	for (size_t b = 0; b < FP_NBANDS; b++) {
		uint64_t k = mix64(b + 1);
		for (size_t i = 0; i < FP_BAND; i++)
			k = mix64(k ^ t->h[b * FP_BAND + i]);
		out[b] = k;
	}
}
