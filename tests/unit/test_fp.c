/*
 * test_fp.c: signature similarity and band keys (fuzzy/fp.h).
 */
#include "fuzzy/fp.h"
#include "harness.h"

TEST(fp_similarity_counts_equal_positions_and_bands_follow_them)
{
	fp_text a, b;
	uint64_t ka[FP_NBANDS], kb[FP_NBANDS];
	size_t same = 0;

	for (size_t i = 0; i < FP_NHASH; i++)
		a.h[i] = b.h[i] = (uint32_t)(i * 2654435761u);
	CHECK(fp_similarity(&a, &b) == 1.0);
	for (size_t i = 0; i < FP_NHASH / 2; i++)
		b.h[i] ^= 1;
	CHECK(fp_similarity(&a, &b) == 0.5);
	fp_bands(&a, ka);
	fp_bands(&b, kb);
	for (size_t i = 0; i < FP_NBANDS; i++)
		same += ka[i] == kb[i];
	CHECK(same == FP_NBANDS / 2); /* the untouched half of the bands */
	for (size_t i = 0; i < FP_NHASH; i++)
		b.h[i] = a.h[(i + FP_BAND) % FP_NHASH];
	fp_bands(&b, kb);
	for (size_t i = 0; i < FP_NBANDS; i++)
		CHECK(ka[(i + 1) % FP_NBANDS] != kb[i]); /* same values, other band: other key */
}
