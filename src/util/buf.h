/*
 * buf.h: a growable byte buffer on the heap (sbuf).
 *
 * Used for scratch work (decoding before the result is copied into an arena)
 * and for output (JSON). The buffer is always NUL-terminated once anything
 * has been added. Functions return 0 or SS_ENOMEM; after an error the buffer
 * is still valid and holds what it held before the failed call.
 */
#ifndef SS_UTIL_BUF_H
#define SS_UTIL_BUF_H

#include <stddef.h>

typedef struct sbuf {
	char *p;
	size_t len;
	size_t cap;
} sbuf;

#define SBUF_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void sbuf_init(sbuf *b);
/* Frees the storage; the buffer is empty and reusable. */
void sbuf_release(sbuf *b);
/* Empties the buffer, keeping its storage. */
void sbuf_reset(sbuf *b);
/* Makes room for `n` more bytes (plus the NUL). */
int sbuf_reserve(sbuf *b, size_t n);
int sbuf_add(sbuf *b, const void *p, size_t n);
int sbuf_addc(sbuf *b, char c);
int sbuf_adds(sbuf *b, const char *s);
/* Appends printf-style formatted text. */
int sbuf_addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends the UTF-8 encoding of code point `cp` (U+FFFD if invalid). */
int sbuf_add_utf8(sbuf *b, unsigned cp);
/* Hands the storage to the caller (who frees it) and empties the buffer. */
char *sbuf_detach(sbuf *b, size_t *len);

#endif
