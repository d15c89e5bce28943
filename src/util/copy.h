/*
 * copy.h: a copy for the short strings of tokens; header-only.
 *
 * Most tokens are under 16 bytes. There a call to the library's memcpy
 * costs more than the copy, and GCC's inline expansion of a memcpy whose
 * size it can bound (a word cut at 256 bytes) is `rep movsq`, whose
 * start-up costs tens of cycles: the word copy of the tokeniser spent a
 * quarter of its time on it. Overlapping loads and stores of 4, 8 or 16
 * bytes cover any length instead.
 */
#ifndef SS_UTIL_COPY_H
#define SS_UTIL_COPY_H

#include <emmintrin.h>
#include <stdint.h>
#include <string.h>

/* Copies s[0..n) to d (the two do not overlap), reading and writing no
 * byte outside them. */
static inline void ss_copy_short(char *d, const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n > 16) {
		size_t i;
		for (i = 0; i + 16 < n; i += 16)
			_mm_storeu_si128((__m128i *)(void *)(d + i),
			                 _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
		_mm_storeu_si128((__m128i *)(void *)(d + n - 16),
		                 _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)));
	} else if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

#endif
