/*
 * ppm.c: the compression expert (see ppm.h).
 *
 * Scoring walks the bytes once: per byte, orders 0-1 from what was worked
 * out for every byte value at the start of the message, and one line per
 * order 2..PPM_ORDER, the symbol found by a 16-byte compare of the line's
 * symbols (SSE2), both classes' estimates computed as one SSE2 pair with
 * no branch on the counts (where the CPU has AVX2, the lines of two bytes
 * at once, with the same bits). The lines of the byte PFD places ahead
 * are prefetched, which hides most of the cache misses of a table far
 * larger than the cache; what is left is instructions (see
 * docs/ARCHITECTURE.md, "A compression expert"). The probability ratio is
 * multiplied along and its log taken only when it nears a double's
 * range.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "learn/ppm.h"
#include "spamsift.h"
#include "util/mix.h"

#define PFD 8 /* prefetch distance in bytes */
#define DISCOUNT 0.5

_Alignas(64) const ppm_line ppm_zero_chunk[PPM_CHUNK];

/* The lines (indexes) of the contexts of orders 2..PPM_ORDER before x[i]. */
typedef struct ctx_lines {
	uint32_t li[PPM_ORDER + 1];
} ctx_lines;

static inline void lines_at(uint32_t bits, const uint8_t *x, size_t i, ctx_lines *c)
{
	uint64_t v = 0x9E3779B97F4A7C15ULL, mask = ((uint64_t)1 << bits) - 1;

	if (i >= PPM_ORDER) { /* the same without a test an order */
#pragma GCC unroll 8
		for (unsigned k = 1; k <= PPM_ORDER; k++) {
			v = (v + x[i - k] + 1u + (uint64_t)k * 0x1000) * 0xD6E8FEB86659FD93ULL;
			if (k >= 2)
				c->li[k] = (uint32_t)(ss_mix64(v) & mask);
		}
		return;
	}
	for (unsigned k = 1; k <= PPM_ORDER; k++) {
		unsigned b = i >= k ? x[i - k] + 1u : 0u;
		v = (v + b + (uint64_t)k * 0x1000) * 0xD6E8FEB86659FD93ULL;
		if (k >= 2)
			c->li[k] = (uint32_t)(ss_mix64(v) & mask);
	}
}

_Static_assert(PPM_CHUNK == 63, "line_of divides by 63");

/* Line li: li / 63 as a multiply and a shift, exact for li < 2^31 (a
 * table has at most 2^24 lines), cheaper than the compiler's division. */
static inline const ppm_line *line_of(const ppm_view *v, uint32_t li)
{
	uint32_t q = (uint32_t)((uint64_t)li * 4363141381u >> 38);

	return &v->chunk[q][li - q * PPM_CHUNK];
}

/* The estimates of both classes travel as one SSE2 pair [ham, spam]. */
typedef __m128d pair;

static inline pair pair_of(double ham, double spam)
{
	return _mm_set_pd(spam, ham);
}

/* PPM-D: the estimate c/n less a discount d, the rest (escape) spread as
 * the lower order's estimate p: p' = (max(c - d, 0) + d u p) / n, and p
 * unchanged in a context never seen (n = 0). The estimate is kept as a
 * fraction num / den, so no order divides, and without branches on the
 * counts, which a table far larger than the cache makes unpredictable.
 *
 * The discount for n and u (both at least 1), and *du = d u: 1/2, but
 * d u may not exceed n (only when counts were cut or unlearned). */
static inline pair discount(pair n, pair u, pair *du)
{
	pair d = _mm_set1_pd(DISCOUNT);

	*du = _mm_mul_pd(d, u);
	if (_mm_movemask_pd(_mm_cmpgt_pd(*du, n))) {
		d = _mm_min_pd(d, _mm_div_pd(n, u));
		*du = _mm_mul_pd(d, u);
	}
	return d;
}

/* Slot of symbol s among a line's used ones, or -1. The 16-byte load
 * reaches past sym into c: masked off. */
static inline int sym_find(const ppm_line *l, unsigned s)
{
	__m128i q = _mm_set1_epi8((char)s);
	__m128i w = _mm_loadu_si128((const __m128i *)(const void *)l->sym);
	unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, q));

	mask &= (1u << PPM_SYMS) - 1;
	for (; mask; mask &= mask - 1) {
		int j = __builtin_ctz(mask);
		if (l->c[j][0] | l->c[j][1])
			return j;
	}
	return -1;
}

/* The two 16-bit counts of word w as a pair. */
static inline pair u16_pair(uint32_t w)
{
	return _mm_cvtepi32_pd(_mm_unpacklo_epi16(_mm_cvtsi32_si128((int)w), _mm_setzero_si128()));
}

/* Both classes' 16-bit counts of symbol s in l as one word (0 when
 * absent). Only one used slot holds a symbol, and a freed slot's symbol
 * byte is 0, so for s != 0 the first slot whose byte matches is the
 * symbol's, and no branch depends on whether it is there. */
static inline uint32_t sym_word(const ppm_line *l, unsigned s)
{
	__m128i q = _mm_set1_epi8((char)s);
	__m128i w = _mm_loadu_si128((const __m128i *)(const void *)l->sym);
	unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, q)) & ((1u << PPM_SYMS) - 1);
	unsigned j, keep;
	uint32_t c;

	if (s == 0) {
		int k = sym_find(l, 0);
		j = k < 0 ? 0 : (unsigned)k;
		keep = 0u - (k >= 0);
	} else {
		j = (unsigned)__builtin_ctz(mask | 1u << (PPM_SYMS - 1));
		keep = 0u - (mask != 0);
	}
	memcpy(&c, l->c[j], sizeof(c));
	return c & keep;
}

/* Both classes' counts of symbol s in l (0 when absent), as a pair, each
 * scored as at most PPM_CMAX. */
static inline pair sym_counts(const ppm_line *l, unsigned s)
{
	return _mm_min_pd(u16_pair(sym_word(l, s)), _mm_set1_pd(PPM_CMAX));
}

/* Fills ring[0..PFD) with the lines of x[0..PFD). */
static void ring_init(const ppm_view *v, const uint8_t *x, size_t n, ctx_lines *ring)
{
	for (size_t i = 0; i < n && i < PFD; i++)
		lines_at(v->bits, x, i, &ring[i]);
}

/* The lines of x[i], and the ring's slot moved on to x[i + PFD]'s
 * (prefetched). */
static inline ctx_lines ring_next(const ppm_view *v, const uint8_t *x, size_t n, size_t i,
                                  ctx_lines *ring)
{
	ctx_lines cur = ring[i % PFD];

	if (i + PFD < n) {
		lines_at(v->bits, x, i + PFD, &ring[i % PFD]);
		/* Here, not in a function of its own: GCC 12 -O2 dropped the
		 * calls of a void function holding only the prefetches (ppm.o
		 * had no prefetch instruction until this moved here). */
		for (unsigned k = 2; k <= PPM_ORDER; k++)
			__builtin_prefetch(line_of(v, ring[i % PFD].li[k]));
	}
	return cur;
}

/* A context's blend as coefficients: p' = (max(c - d, 0) den + du num)
 * / (n den), with d = +inf, du = 1, n = 1 for a context never seen (p
 * unchanged, exactly). */
typedef struct coeffs {
	pair d, du, n;
} coeffs;

static coeffs coeffs_of(pair n, pair u)
{
	pair zero = _mm_setzero_pd(), one = _mm_set1_pd(1), inf = _mm_set1_pd(INFINITY);
	pair seen = _mm_cmpgt_pd(n, zero), d, du;

	d = discount(_mm_max_pd(n, one), _mm_max_pd(u, one), &du);
	return (coeffs){_mm_or_pd(_mm_and_pd(seen, d), _mm_andnot_pd(seen, inf)),
	                _mm_or_pd(_mm_and_pd(seen, du), _mm_andnot_pd(seen, one)),
	                _mm_or_pd(_mm_and_pd(seen, n), _mm_andnot_pd(seen, one))};
}

/* Blends count pair c of a context with coefficients d, du, n into
 * num / den. */
static inline void apply(pair c, pair d, pair du, pair n, pair *num, pair *den)
{
	*num = _mm_add_pd(_mm_mul_pd(_mm_max_pd(_mm_sub_pd(c, d), _mm_setzero_pd()), *den),
	                  _mm_mul_pd(du, *num));
	*den = _mm_mul_pd(*den, n);
}

/* Orders 0 and 1, worked out once a message for every byte value: the
 * order-0 estimate of byte s as the fraction num0[s] / den0[s], and the
 * coefficients of the order-1 context of previous byte a. */
typedef struct low_orders {
	pair num0[256], den0[256];
	coeffs o1[256];
} low_orders;

static void low_fill(const ppm_dense *d, low_orders *lo)
{
	coeffs k0 = coeffs_of(pair_of((double)(int64_t)d->n0[0], (double)(int64_t)d->n0[1]),
	                      pair_of((double)(int64_t)d->u0[0], (double)(int64_t)d->u0[1]));

	for (unsigned s = 0; s < 256; s++) {
		lo->num0[s] = _mm_set1_pd(1);
		lo->den0[s] = _mm_set1_pd(256);
		apply(pair_of((double)(int64_t)d->o0[s][0], (double)(int64_t)d->o0[s][1]), k0.d,
		      k0.du, k0.n, &lo->num0[s], &lo->den0[s]);
		lo->o1[s] =
		    coeffs_of(pair_of(d->n1[s][0], d->n1[s][1]), pair_of(d->u1[s][0], d->u1[s][1]));
	}
}

/* The lines of the contexts of orders 2..PPM_ORDER before x[i]. */
typedef struct ctx_ptrs {
	const ppm_line *l[PPM_ORDER + 1];
} ctx_ptrs;

static inline void ptrs_at(const ppm_view *v, const uint8_t *x, size_t i, ctx_ptrs *c)
{
	ctx_lines cl;

	lines_at(v->bits, x, i, &cl);
#pragma GCC unroll 8
	for (unsigned k = 2; k <= PPM_ORDER; k++) {
		c->l[k] = line_of(v, cl.li[k]);
		__builtin_prefetch(c->l[k]);
	}
}

/* Line l's estimate of s blended into num / den: what apply() does with
 * coeffs_of() the line's totals and distinct-symbol counts, but with a
 * context never seen made to change nothing by c = 0, d u = 1 and n = 1
 * there instead of three selects. */
static inline void line_blend(const ppm_line *l, unsigned s, pair *num, pair *den)
{
	__m128i w = _mm_loadl_epi64((const __m128i *)(const void *)l), z = _mm_setzero_si128();
	pair n = _mm_cvtepi32_pd(_mm_unpacklo_epi16(w, z));
	pair u = _mm_cvtepi32_pd(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_srli_si128(w, 4), z), z));
	pair one = _mm_set1_pd(1), seen = _mm_cmpgt_pd(n, _mm_setzero_pd()), d, du;

	n = _mm_max_pd(n, one);
	d = discount(n, _mm_max_pd(u, one), &du);
	du = _mm_or_pd(_mm_and_pd(seen, du), _mm_andnot_pd(seen, one));
	apply(_mm_and_pd(seen, sym_counts(l, s)), d, du, n, num, den);
}

/* x[i]'s orders 0 and 1 as num / den (i >= 1). */
static inline void low_pair(const ppm_view *v, const low_orders *lo, const uint8_t *x, size_t i,
                            pair *num, pair *den)
{
	unsigned s = x[i], a = x[i - 1];
	const coeffs *k1 = &lo->o1[a];
	pair c = _mm_cvtepi32_pd(_mm_loadl_epi64((const __m128i *)(const void *)v->d->o1[a][s]));

	*num = lo->num0[s];
	*den = lo->den0[s];
	/* Order 1 from its coefficients (counts past 2^31 read as < 0: 0). */
	apply(c, k1->d, k1->du, k1->n, num, den);
}

/* x[i]'s estimates (i >= 1), cross-multiplied: [p(ham) den(spam), p(spam)
 * den(ham)], whose second over first is p(spam) / p(ham). */
static inline pair sym_pair(const ppm_view *v, const low_orders *lo, const uint8_t *x, size_t i,
                            const ctx_ptrs *cp)
{
	pair num, den;

	low_pair(v, lo, x, i, &num, &den);
#pragma GCC unroll 8
	for (unsigned k = 2; k <= PPM_ORDER; k++)
		line_blend(cp->l[k], x[i], &num, &den);
	return _mm_mul_pd(num, _mm_shuffle_pd(den, den, 1));
}

/* The first byte's: order 0 and the lines only. */
static pair first_pair(const low_orders *lo, unsigned s, const ctx_ptrs *cp)
{
	pair num = lo->num0[s], den = lo->den0[s];

	for (unsigned k = 2; k <= PPM_ORDER; k++)
		line_blend(cp->l[k], s, &num, &den);
	return _mm_mul_pd(num, _mm_shuffle_pd(den, den, 1));
}

/* The ratio r multiplied by q[1] / q[0]; its log goes to *cost when it
 * nears a double's range. */
static inline double ratio_step(double r, pair q, double *cost)
{
	double e[2];

	_mm_storeu_pd(e, q);
	r *= e[1] / e[0];
	if (r > 1e100 || r < 1e-100) {
		*cost += log(r);
		r = 1;
	}
	return r;
}

/* What every byte loop starts with: the low orders worked out, the first
 * PFD bytes' lines fetched, and the first byte's ratio (n >= 1). */
static double cost_start(const ppm_view *v, const uint8_t *x, size_t n, low_orders *lo,
                         ctx_ptrs *ring, double *cost)
{
	double r;

	low_fill(v->d, lo);
	for (size_t i = 0; i < n && i < PFD; i++)
		ptrs_at(v, x, i, &ring[i]);
	r = ratio_step(1, first_pair(lo, x[0], &ring[0]), cost);
	if (PFD < n)
		ptrs_at(v, x, PFD, &ring[0]);
	return r;
}

/* ppm_cost() a byte at a time, in SSE2 pairs. */
static double cost_sse2(const ppm_view *v, const uint8_t *x, size_t n)
{
	low_orders lo;
	ctx_ptrs ring[PFD];
	double cost = 0, r = cost_start(v, x, n, &lo, ring, &cost);

	for (size_t i = 1; i < n; i++) {
		pair q = sym_pair(v, &lo, x, i, &ring[i % PFD]);
		if (i + PFD < n) /* the slot is used: on to the byte PFD places ahead */
			ptrs_at(v, x, i + PFD, &ring[i % PFD]);
		r = ratio_step(r, q, &cost);
	}
	return cost + log(r);
}

/* ---- two bytes at a time in AVX2 ----
 *
 * The lines' blends of bytes i and i + 1 as one 256-bit quad [ham(i),
 * spam(i), ham(i + 1), spam(i + 1)]: the same operations in the same
 * order lane by lane as the pairs above (no FMA: a fused multiply-add
 * rounds once where they round twice), so the two paths give the same
 * bits, and the ratios are multiplied in byte by byte as above. */
#define AVX2 __attribute__((target("avx2")))

typedef __m256d quad;

AVX2 static inline quad quad_of(pair lo, pair hi)
{
	return _mm256_insertf128_pd(_mm256_castpd128_pd256(lo), hi, 1);
}

/* discount() lane by lane. */
AVX2 static inline quad discount4(quad n, quad u, quad *du)
{
	quad d = _mm256_set1_pd(DISCOUNT);

	*du = _mm256_mul_pd(d, u);
	if (_mm256_movemask_pd(_mm256_cmp_pd(*du, n, _CMP_GT_OQ))) {
		d = _mm256_min_pd(d, _mm256_div_pd(n, u));
		*du = _mm256_mul_pd(d, u);
	}
	return d;
}

/* apply() lane by lane. */
AVX2 static inline void apply4(quad c, quad d, quad du, quad n, quad *num, quad *den)
{
	*num = _mm256_add_pd(
	    _mm256_mul_pd(_mm256_max_pd(_mm256_sub_pd(c, d), _mm256_setzero_pd()), *den),
	    _mm256_mul_pd(du, *num));
	*den = _mm256_mul_pd(*den, n);
}

/* line_blend() of line la for symbol sa and of lb for sb, at once: the
 * totals (bytes 0-3) and distinct counts (bytes 4-5) of both lines'
 * first 8 bytes spread to 32-bit lanes by one shuffle each. */
AVX2 static inline void line_blend2(const ppm_line *la, unsigned sa, const ppm_line *lb,
                                    unsigned sb, quad *num, quad *den)
{
	const __m128i nsh = _mm_setr_epi8(0, 1, -1, -1, 2, 3, -1, -1, 8, 9, -1, -1, 10, 11, -1, -1);
	const __m128i ush =
	    _mm_setr_epi8(4, -1, -1, -1, 5, -1, -1, -1, 12, -1, -1, -1, 13, -1, -1, -1);
	__m128i w = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)la),
	                               _mm_loadl_epi64((const __m128i *)(const void *)lb));
	__m128i cw = _mm_unpacklo_epi16(
	    _mm_set_epi32(0, 0, (int)sym_word(lb, sb), (int)sym_word(la, sa)), _mm_setzero_si128());
	quad n = _mm256_cvtepi32_pd(_mm_shuffle_epi8(w, nsh));
	quad u = _mm256_cvtepi32_pd(_mm_shuffle_epi8(w, ush));
	quad c = _mm256_min_pd(_mm256_cvtepi32_pd(cw), _mm256_set1_pd(PPM_CMAX));
	quad one = _mm256_set1_pd(1), d, du;
	quad seen = _mm256_cmp_pd(n, _mm256_setzero_pd(), _CMP_GT_OQ);

	n = _mm256_max_pd(n, one);
	d = discount4(n, _mm256_max_pd(u, one), &du);
	du = _mm256_blendv_pd(one, du, seen);
	apply4(_mm256_and_pd(seen, c), d, du, n, num, den);
}

/* ppm_cost() two bytes at a time. */
AVX2 static double cost_avx2(const ppm_view *v, const uint8_t *x, size_t n)
{
	low_orders lo;
	ctx_ptrs ring[PFD];
	double cost = 0, r = cost_start(v, x, n, &lo, ring, &cost);
	size_t i;

	for (i = 1; i + 1 < n; i += 2) {
		const ctx_ptrs *ca = &ring[i % PFD], *cb = &ring[(i + 1) % PFD];
		pair na, da, nb, db;
		quad num, den, q;
		low_pair(v, &lo, x, i, &na, &da);
		low_pair(v, &lo, x, i + 1, &nb, &db);
		num = quad_of(na, nb);
		den = quad_of(da, db);
#pragma GCC unroll 8
		for (unsigned k = 2; k <= PPM_ORDER; k++)
			line_blend2(ca->l[k], x[i], cb->l[k], x[i + 1], &num, &den);
		/* The two slots are used: on to the bytes PFD places ahead. */
		if (i + PFD < n)
			ptrs_at(v, x, i + PFD, &ring[i % PFD]);
		if (i + 1 + PFD < n)
			ptrs_at(v, x, i + 1 + PFD, &ring[(i + 1) % PFD]);
		q = _mm256_mul_pd(num, _mm256_permute_pd(den, 5));
		r = ratio_step(r, _mm256_castpd256_pd128(q), &cost);
		r = ratio_step(r, _mm256_extractf128_pd(q, 1), &cost);
	}
	if (i < n)
		r = ratio_step(r, sym_pair(v, &lo, x, i, &ring[i % PFD]), &cost);
	return cost + log(r);
}

double ppm_cost_sse2(const ppm_view *v, const uint8_t *x, size_t n)
{
	return v->d && n ? cost_sse2(v, x, n) : 0;
}

double ppm_cost(const ppm_view *v, const uint8_t *x, size_t n)
{
	if (!v->d || !n)
		return 0;
	return __builtin_cpu_supports("avx2") ? cost_avx2(v, x, n) : cost_sse2(v, x, n);
}

/* Adds delta (+-1) to a count of distinct-symbol bookkeeping u: a count
 * going 0 -> 1 adds a symbol, 1 -> 0 removes one. */
static inline void count_u32(uint32_t *c, uint32_t *u, int delta)
{
	if (delta > 0) {
		if (*c == UINT32_MAX)
			return;
		*u += (*c)++ == 0;
	} else if (*c) {
		*u -= --(*c) == 0;
	}
}

static inline void count_u64(uint64_t *c, uint64_t *u, int delta)
{
	if (delta > 0)
		*u += (*c)++ == 0;
	else if (*c)
		*u -= --(*c) == 0;
}

/* Adds delta (+-1) to a total that never goes below 0. */
static inline void add_u64(uint64_t *n, int delta)
{
	if (delta > 0 || *n)
		*n += (uint64_t)(int64_t)delta;
}

static inline void add_sat32(uint32_t *n, int delta)
{
	if (delta > 0 ? *n < UINT32_MAX : *n > 0)
		*n += (uint32_t)delta;
}

/* A new slot for symbol s in l, or -1 when the line is full. */
static int sym_slot(ppm_line *l, unsigned s)
{
	for (int j = 0; j < PPM_SYMS; j++)
		if (!(l->c[j][0] | l->c[j][1])) {
			l->sym[j] = (uint8_t)s;
			return j;
		}
	return -1;
}

static void line_add(ppm_line *l, unsigned s, int c, int delta)
{
	int j = sym_find(l, s);

	if (j < 0 && delta > 0)
		j = sym_slot(l, s);
	if (j >= 0) {
		uint16_t *v = &l->c[j][c];
		if (delta > 0 && *v < UINT16_MAX)
			l->u[c] += (*v)++ == 0;
		else if (delta < 0 && *v > 0)
			l->u[c] -= --(*v) == 0;
		if (!(l->c[j][0] | l->c[j][1]))
			l->sym[j] = 0;
	}
	if (delta > 0 ? l->n[c] < UINT16_MAX : l->n[c] > 0)
		l->n[c] = (uint16_t)(l->n[c] + delta);
}

/* Orders 0 and 1 of byte x[i]. */
static void dense_add(ppm_dense *d, const uint8_t *x, size_t i, int c, int delta)
{
	unsigned s = x[i];

	count_u64(&d->o0[s][c], &d->u0[c], delta);
	add_u64(&d->n0[c], delta);
	if (i >= 1) {
		unsigned a = x[i - 1];
		count_u32(&d->o1[a][s][c], &d->u1[a][c], delta);
		add_sat32(&d->n1[a][c], delta);
	}
}

int ppm_learn(ppm_view *v, const uint8_t *x, size_t n, int is_spam, int delta)
{
	int c = is_spam ? 1 : 0;
	ctx_lines ring[PFD];

	ring_init(v, x, n, ring);
	for (size_t i = 0; i < n; i++) {
		ctx_lines cl = ring_next(v, x, n, i, ring);
		dense_add(v->wd, x, i, c, delta);
		for (unsigned k = 2; k <= PPM_ORDER; k++) {
			uint32_t li = cl.li[k];
			ppm_line *ch = v->wchunk(v->ctx, li / PPM_CHUNK);
			if (!ch)
				return SS_ENOMEM;
			line_add(&ch[li % PPM_CHUNK], x[i], c, delta);
		}
	}
	add_u64(&v->wd->msgs[c], delta);
	return 0;
}
