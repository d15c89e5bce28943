/*
 * fp.h: fingerprints of messages, shared between organisations.
 *
 * A text fingerprint is a min-hash signature of the shingles (word
 * n-grams) of a message's normalised visible text: FP_NHASH 32-bit
 * values, the i-th being the least hash of any shingle under the i-th hash
 * function. The share of equal positions between two signatures estimates
 * the Jaccard similarity of their shingle sets, so a copy with another
 * name, number or a random tail stays near. For lookups the signature is
 * cut into FP_NBANDS bands of FP_NHASH / FP_NBANDS values (locality-
 * sensitive hashing): two signatures with one equal band are candidates.
 *
 * Attachments and images get exact hashes (SHA-256 of the decoded bytes).
 *
 * This header is the contract between the fingerprinting (fuzzy/), the
 * fingerprint server (spamsift-fpd) and the engine's check; the wire
 * format sends these values little-endian.
 */
#ifndef SS_FUZZY_FP_H
#define SS_FUZZY_FP_H

#include <stddef.h>
#include <stdint.h>

#define FP_NHASH 64
#define FP_NBANDS 16
#define FP_BAND (FP_NHASH / FP_NBANDS)

/* A min-hash signature of a text. */
typedef struct fp_text {
	uint32_t h[FP_NHASH];
} fp_text;

/* An exact hash of an attachment or image. */
typedef struct fp_digest {
	uint8_t sha256[32];
} fp_digest;

/* The share of equal positions of two signatures, in [0, 1]: an estimate
 * of the Jaccard similarity of the two texts' shingle sets. */
double fp_similarity(const fp_text *a, const fp_text *b);

/* The FP_NBANDS band keys of a signature (a 64-bit hash of each band of
 * FP_BAND values, mixed with the band's index so equal values in two
 * different bands do not collide). */
void fp_bands(const fp_text *t, uint64_t out[FP_NBANDS]);

#endif
