/*
 * encword.h: header values to UTF-8 (RFC 2047 encoded words).
 *
 * Decodes "=?charset?B|Q?text?=" words wherever mail clients tolerate them
 * (inside quoted strings and words, not only between spaces), joins adjacent
 * words before charset conversion so a multi-byte character split across two
 * words survives, and turns raw 8-bit bytes outside words into UTF-8.
 * No I/O.
 */
#ifndef SS_MIME_ENCWORD_H
#define SS_MIME_ENCWORD_H

#include <stddef.h>
#include "spamsift.h"
#include "util/buf.h"

enum {
	EW_F_ENCODED = 1 << 0, /* at least one encoded word was decoded */
	EW_F_8BIT = 1 << 1,    /* raw 8-bit bytes were converted */
	EW_F_BAD = 1 << 2,     /* a malformed encoded word was kept as text */
};

/* Appends the UTF-8 decoding of the header value v[0..len) to `out`,
 * using `scratch` for intermediate bytes. ORs EW_F_* into *flags.
 * Returns 0 or SS_ENOMEM. */
int ew_decode(sbuf *out, sbuf *scratch, const char *v, size_t len, unsigned *flags);

/* What 8-bit bytes outside encoded words (and not UTF-8) are taken to be. */
typedef struct ew_hint {
	ss_str label;      /* the charset the entity's Content-Type declares (as
	                      mail clients do), or empty */
	const char *guess; /* else a charset detected for more text around them
	                      (see cs_header_guess_to_utf8), or NULL: detected */
} ew_hint;

/* ew_decode(), with 8-bit bytes decoded as `hint` says (NULL: detected). */
int ew_decode_hint(sbuf *out, sbuf *scratch, const char *v, size_t len, const ew_hint *hint,
                   unsigned *flags);

/* Returns 1 when v[0..len) needs ew_decode() (has "=?" or 8-bit bytes). */
int ew_needed(const char *v, size_t len);

/* Returns 1 when v[0..len) holds "=?" (may start an encoded word). */
int ew_has_word(const char *v, size_t len);

#endif
