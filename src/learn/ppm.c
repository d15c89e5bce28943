/*
 * ppm.c: the compression expert (see ppm.h).
 *
 * Scoring walks the bytes once: per byte, orders 0-1 from what was worked
 * out for every byte value at the start of the message, and one line per
 * order 2..PPM_ORDER, the symbol found by a 16-byte compare of the line's
 * symbols (SSE2), both classes' estimates computed as one SSE2 pair with
 * no branch on the counts. The lines of the byte PFD places ahead are
 * prefetched, which hides most of the cache misses of a table far larger
 * than the cache; what is left is instructions (see docs/ARCHITECTURE.md,
 * "A compression expert"). The probability ratio is multiplied along and
 * its log taken only when it nears a double's range.
 */
#include <emmintrin.h>
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

/* Two 16-bit counts at p as a pair. */
static inline pair u16_pair(const void *p, uint32_t keep)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return _mm_cvtepi32_pd(
	    _mm_unpacklo_epi16(_mm_cvtsi32_si128((int)(w & keep)), _mm_setzero_si128()));
}

/* Both classes' counts of symbol s in l (0 when absent), as a pair, each
 * scored as at most PPM_CMAX. Only one used slot holds a symbol, and a
 * freed slot's symbol byte is 0, so for s != 0 the first slot whose byte
 * matches is the symbol's, and no branch depends on whether it is
 * there. */
static inline pair sym_counts(const ppm_line *l, unsigned s)
{
	__m128i q = _mm_set1_epi8((char)s);
	__m128i w = _mm_loadu_si128((const __m128i *)(const void *)l->sym);
	unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, q)) & ((1u << PPM_SYMS) - 1);
	unsigned j, keep;

	if (s == 0) {
		int k = sym_find(l, 0);
		j = k < 0 ? 0 : (unsigned)k;
		keep = 0u - (k >= 0);
	} else {
		j = (unsigned)__builtin_ctz(mask | 1u << (PPM_SYMS - 1));
		keep = 0u - (mask != 0);
	}
	return _mm_min_pd(u16_pair(l->c[j], keep), _mm_set1_pd(PPM_CMAX));
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

/* x[i]'s estimates (i >= 1), cross-multiplied: [p(ham) den(spam), p(spam)
 * den(ham)], whose second over first is p(spam) / p(ham). */
static inline pair sym_pair(const ppm_view *v, const low_orders *lo, const uint8_t *x, size_t i,
                            const ctx_ptrs *cp)
{
	unsigned s = x[i], a = x[i - 1];
	const coeffs *k1 = &lo->o1[a];
	pair num = lo->num0[s], den = lo->den0[s];
	pair c = _mm_cvtepi32_pd(_mm_loadl_epi64((const __m128i *)(const void *)v->d->o1[a][s]));

	/* Order 1 from its coefficients (counts past 2^31 read as < 0: 0). */
	apply(c, k1->d, k1->du, k1->n, &num, &den);
#pragma GCC unroll 8
	for (unsigned k = 2; k <= PPM_ORDER; k++)
		line_blend(cp->l[k], s, &num, &den);
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

double ppm_cost(const ppm_view *v, const uint8_t *x, size_t n)
{
	low_orders lo;
	ctx_ptrs ring[PFD];
	double cost = 0, r = 1;

	if (!v->d || !n)
		return 0;
	low_fill(v->d, &lo);
	for (size_t i = 0; i < n && i < PFD; i++)
		ptrs_at(v, x, i, &ring[i]);
	r = ratio_step(r, first_pair(&lo, x[0], &ring[0]), &cost);
	if (PFD < n)
		ptrs_at(v, x, PFD, &ring[0]);
	for (size_t i = 1; i < n; i++) {
		ctx_ptrs cur = ring[i % PFD];
		if (i + PFD < n)
			ptrs_at(v, x, i + PFD, &ring[i % PFD]);
		r = ratio_step(r, sym_pair(v, &lo, x, i, &cur), &cost);
	}
	return cost + log(r);
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
