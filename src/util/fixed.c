/*
 * fixed.c: "%+W.Pf" without printf (see fixed.h).
 *
 * printf prints the exact binary value of x rounded to P decimals. With
 * y = |x| * 10^P computed in double, the error of y is at most half an ulp:
 * below 10^9 that is under 1.2e-7, so when y's fraction is not within
 * 10^-6 of one half, rounding y to the nearest integer gives printf's
 * digits. The rest is handed to snprintf.
 */
#include "util/fixed.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const double pow10d[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
static const uint64_t pow10u[] = {1,      10,      100,      1000,      10000,
                                  100000, 1000000, 10000000, 100000000, 1000000000};

static size_t slow(char *buf, double x, int prec, int width, int plus)
{
	int n = snprintf(buf, FIXED_MAX, plus ? "%+*.*f" : "%*.*f", width, prec, x);

	return n < 0 ? 0 : (size_t)n < FIXED_MAX ? (size_t)n : FIXED_MAX - 1;
}

/* Writes the decimal digits of v (at least min of them, zeros in front)
 * to end at tmp[end]; returns where they start. */
static size_t digits(char *tmp, size_t end, uint64_t v, int min)
{
	int k = 0;

	do {
		tmp[--end] = (char)('0' + v % 10);
		v /= 10;
		k++;
	} while (v || k < min);
	return end;
}

size_t fixed_fmt(char *buf, double x, int prec, int width, int plus)
{
	char tmp[48];
	size_t end = sizeof(tmp), start, n, pad;
	double a = fabs(x), y, fl, frac;
	uint64_t v;

	if (prec < 0 || prec > 9 || width < 0 || width > 9)
		return slow(buf, x, prec < 0 ? 0 : prec, width < 0 ? 0 : width, plus);
	y = a * pow10d[prec];
	if (!(y < 1e9)) /* also NaN */
		return slow(buf, x, prec, width, plus);
	fl = floor(y);
	frac = y - fl; /* exact */
	if (fabs(frac - 0.5) < 1e-6)
		return slow(buf, x, prec, width, plus);
	v = (uint64_t)fl + (frac > 0.5);
	if (prec) {
		start = digits(tmp, end, v % pow10u[prec], prec);
		tmp[--start] = '.';
	} else {
		start = end;
	}
	start = digits(tmp, start, v / pow10u[prec], 1);
	if (signbit(x))
		tmp[--start] = '-';
	else if (plus)
		tmp[--start] = '+';
	n = end - start;
	pad = (size_t)width > n ? (size_t)width - n : 0;
	memset(buf, ' ', pad);
	memcpy(buf + pad, tmp + start, n);
	buf[pad + n] = 0;
	return pad + n;
}
