/*
 * ppm.h: the compression expert, a byte-level PPM model of spam and ham.
 *
 * After Bratko et al. (2006): a message is likelier spam when a model of
 * the spam learned so far predicts its bytes better than a model of the
 * ham does. One table holds both classes. Each byte is predicted from its
 * contexts of orders 0 to PPM_ORDER (the bytes before it), each order's
 * estimate blended with the next lower one's (PPM-D escapes, discount
 * 1/2). Orders 0 and 1 are dense counts; a context of order 2 to
 * PPM_ORDER is hashed to one 64-byte line holding its totals and up to
 * PPM_SYMS symbols with a ham and a spam count each, so a prediction is
 * one cache line an order. The model is not adaptive: scoring only reads.
 *
 * The lines live in chunks of PPM_CHUNK (a store keeps each chunk in one
 * page of its own); a ppm_view gives the chunks of one transaction. What
 * a message is cut from: the first PPM_TEXT bytes of the 4-gram text
 * (header lines, Subject, visible text; see feat_text()).
 *
 * Learning is counting, so unlearning a message (the same bytes, delta
 * -1) restores the table exactly, unless one of its counts had reached
 * its limit (a symbol's count or a context's total at 65,535) or a line
 * was full when a symbol of it came (it is then not kept, and a slot
 * freed later may hold it for another message). No I/O, no allocation.
 */
#ifndef SS_LEARN_PPM_H
#define SS_LEARN_PPM_H

#include <stddef.h>
#include <stdint.h>

#define PPM_ORDER 4      /* highest context order */
#define PPM_TEXT 3000    /* bytes of a message's text it reads */
#define PPM_SYMS 11      /* symbols a line holds */
#define PPM_CMAX 4095    /* a symbol's count is scored as at most this */
#define PPM_CHUNK 63     /* lines a chunk: 63 * 64 + 48 bytes = 4080, one page */
#define PPM_CHUNK_PAD 48 /* bytes before a stored chunk's first line (alignment) */
#define PPM_BITS 17      /* the default table: 2^17 lines (8 MiB) */

/* One context of order >= 2: its totals and symbols, both classes. c[j]
 * is symbol sym[j]'s count for ham (0) and spam (1); a slot is free when
 * both are 0 (and then sym[j] is 0 too). */
typedef struct ppm_line {
	uint16_t n[2]; /* bytes seen in this context, by class */
	uint8_t u[2];  /* distinct symbols seen, by class */
	uint8_t sym[PPM_SYMS];
	uint8_t pad;
	uint16_t c[PPM_SYMS][2];
	uint8_t pad2[2];
} ppm_line;
_Static_assert(sizeof(ppm_line) == 64, "a line is a cache line");

/* Orders 0 and 1, and how many messages were learned. */
typedef struct ppm_dense {
	uint64_t msgs[2]; /* messages learned, by class */
	uint64_t n0[2], u0[2];
	uint64_t o0[256][2];
	uint32_t n1[256][2], u1[256][2];
	uint32_t o1[256][256][2]; /* [previous byte][byte][class] */
} ppm_dense;

/* A transaction's table. chunk[k] holds lines k * PPM_CHUNK.. (a chunk
 * never written points to ppm_zero_chunk). For learning, wd is the dense
 * part's writable copy and wchunk(ctx, k) makes chunk k writable (it
 * updates chunk[k] too), or returns NULL when out of memory. */
typedef struct ppm_view {
	const ppm_dense *d;
	const ppm_line **chunk;
	uint32_t bits; /* 2^bits lines */
	ppm_dense *wd;
	ppm_line *(*wchunk)(void *ctx, uint32_t k);
	void *ctx;
} ppm_view;

/* A chunk of zeroes, 64-byte aligned. */
extern const ppm_line ppm_zero_chunk[PPM_CHUNK];

/* Chunks of a table of 2^bits lines. */
static inline uint32_t ppm_nchunks(uint32_t bits)
{
	return (uint32_t)((((uint64_t)1 << bits) + PPM_CHUNK - 1) / PPM_CHUNK);
}

/* How much likelier x[0..n) is as spam than as ham: the nats the ham
 * model needs for it minus those the spam model needs (> 0: spammy). */
double ppm_cost(const ppm_view *v, const uint8_t *x, size_t n);

/* ppm_cost() without AVX2 even where the CPU has it: the same bits (the
 * tests hold the two paths to each other). */
double ppm_cost_sse2(const ppm_view *v, const uint8_t *x, size_t n);

/* Adds (delta 1) or removes (delta -1) x[0..n) as class is_spam, and
 * counts the message. Returns 0 or SS_ENOMEM (from wchunk; the table is
 * then partly changed: the caller aborts its transaction). */
int ppm_learn(ppm_view *v, const uint8_t *x, size_t n, int is_spam, int delta);

#endif
