/*
 * fixed.h: fixed-point decimal formatting of doubles, the same text as
 * printf's "%+W.Pf", without printf's cost.
 *
 * Output of scores and weights (one line per scanned message) spent more
 * time in vfprintf than in some of the scan. The common case (|x| * 10^P
 * below 10^9, not within 10^-6 of a rounding tie) is done with integer
 * arithmetic, which is exact there; anything else (ties, large values,
 * NaN, infinities) goes to snprintf, so the text is printf's in every case.
 * No allocation, no I/O.
 */
#ifndef SS_UTIL_FIXED_H
#define SS_UTIL_FIXED_H

#include <stddef.h>

/* Room fixed_fmt needs: enough for any double in "%+W.Pf" with W, P <= 9. */
#define FIXED_MAX 330

/* Writes what snprintf(buf, FIXED_MAX, plus ? "%+*.*f" : "%*.*f", width,
 * prec, x) writes (NUL-terminated) and returns its length. prec and width
 * must be 0..9. */
size_t fixed_fmt(char *buf, double x, int prec, int width, int plus);

#endif
