/*
 * fp.c: comparing min-hash signatures and cutting them into bands (see
 * fp.h).
 */
#include "fuzzy/fp.h"
#include "util/mix.h"

double fp_similarity(const fp_text *a, const fp_text *b)
{
	unsigned same = 0;

	for (size_t i = 0; i < FP_NHASH; i++)
		same += a->h[i] == b->h[i];
	return (double)same / FP_NHASH;
}

void fp_bands(const fp_text *t, uint64_t out[FP_NBANDS])
{
	for (size_t b = 0; b < FP_NBANDS; b++) {
		uint64_t k = ss_mix64(b + 1);
		for (size_t i = 0; i < FP_BAND; i++)
			k = ss_mix64(k ^ t->h[b * FP_BAND + i]);
		out[b] = k;
	}
}
