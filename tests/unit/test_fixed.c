/*
 * test_fixed.c: fixed_fmt() writes exactly what printf's "%+W.Pf" writes,
 * for special values, rounding ties and near-ties, and a large sample of
 * pseudo-random doubles of every magnitude.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "util/fixed.h"

static int differs;

/* Compares fixed_fmt with snprintf; reports the first few differences. */
static void same_as_printf(double x, int prec, int width, int plus)
{
	char got[FIXED_MAX], want[FIXED_MAX], what[FIXED_MAX * 2 + 64];
	size_t n = fixed_fmt(got, x, prec, width, plus);

	snprintf(want, sizeof(want), plus ? "%+*.*f" : "%*.*f", width, prec, x);
	if (strcmp(got, want) || n != strlen(want)) {
		if (differs++ < 5) {
			snprintf(what, sizeof(what), "%a %%%s%d.%df: '%s', printf '%s'", x,
			         plus ? "+" : "", width, prec, got, want);
			test_fail(__FILE__, __LINE__, what);
		}
	}
}

TEST(fixed_special_values_and_ties)
{
	const double v[] = {0,     -0.0,    0.5,       -0.5,       1.5,      2.5,
	                    0.125, 0.375,   0.00005,   0.00015,    -0.00005, 1e-300,
	                    1e300, -1e300,  INFINITY,  -INFINITY,  NAN,      999999999.5,
	                    1e9,   1e9 - 1, 0.999995,  9.99995,    -9.99995, 0.0000005,
	                    2.675, 1.005,   -33.72295, 4294967296, 0.1,      0.7};

	differs = 0;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (int p = 0; p <= 9; p++)
			for (int w = 0; w <= 9; w++) {
				same_as_printf(v[i], p, w, 0);
				same_as_printf(v[i], p, w, 1);
			}
	CHECK(differs == 0);
}

TEST(fixed_random_doubles)
{
	uint64_t s = 0x9E3779B97F4A7C15ULL;

	differs = 0;
	for (int i = 0; i < 300000; i++) {
		uint64_t r;
		double x;
		s ^= s << 13, s ^= s >> 7, s ^= s << 17; /* xorshift64 */
		r = s;
		switch (r & 3) {
		case 0: /* any bit pattern: huge, tiny, NaN */
			memcpy(&x, &r, sizeof(x));
			break;
		case 1: /* a decimal tie at some precision */
			x = ((double)(int64_t)((r >> 8) % 2000000) - 1e6 + 0.5) /
			    pow(10, (double)((r >> 40) % 8));
			break;
		case 2: /* magnitudes 1e-12 .. 1e12 */
			x = ((double)(r >> 11) / 9007199254740992.0 - 0.5) *
			    pow(10, (double)((r >> 3) % 24) - 12);
			break;
		default: /* weights and scores as printed */
			x = (double)((r >> 16) % 1000000) / 1e4 - 50;
		}
		same_as_printf(x, (int)((r >> 50) % 10), (int)((r >> 54) % 10), (int)(r >> 63));
	}
	CHECK(differs == 0);
}
