/*
 * utf8.h: UTF-8 validation and decoding helpers (no allocation, no I/O).
 */
#ifndef SS_UTIL_UTF8_H
#define SS_UTIL_UTF8_H

#include <stddef.h>

/* Returns the length (1-4) of the well-formed UTF-8 sequence at the start of
 * s[0..len), or 0 when it is not one (overlong, surrogate, truncated...). */
size_t utf8_valid_prefix_len(const char *s, size_t len);
/* Returns 1 when all of s[0..len) is well-formed UTF-8. */
int utf8_valid(const char *s, size_t len);
/* Returns 1 when s[0..len) is 7-bit ASCII. */
int utf8_is_ascii(const char *s, size_t len);
/* Decodes one code point at s (well-formed or not); stores its length in
 * *n (at least 1) and returns the code point, or 0xFFFD for a bad byte. */
unsigned utf8_decode(const char *s, size_t len, size_t *n);
/* Returns the number of bytes of s[0..len) that end on a whole sequence,
 * so that a cut at `len` does not split a multi-byte character. */
size_t utf8_trim_partial(const char *s, size_t len);

#endif
