/*
 * codec.h: Content-Transfer-Encoding decoders (base64, quoted-printable,
 * uuencode), tolerant of what real mail does wrong. No I/O; output is
 * appended to an sbuf. Each decoder reports what it had to tolerate.
 */
#ifndef SS_MIME_CODEC_H
#define SS_MIME_CODEC_H

#include <stddef.h>
#include "util/buf.h"

enum {
	CODEC_F_JUNK = 1 << 0,       /* base64: bytes outside the alphabet skipped */
	CODEC_F_BAD_ESCAPE = 1 << 1, /* QP: "=" not followed by hex or a line end */
	CODEC_F_NO_PADDING = 1 << 2, /* base64: missing "=" padding at the end */
	CODEC_F_TRUNCATED = 1 << 3,  /* uuencode: no "end" line */
};

/* Decodes base64 in[0..len), skipping white space and junk bytes; stops at
 * the end or at padding. Appends to out; ORs CODEC_F_* into *flags.
 * Returns 0 or SS_ENOMEM. */
int codec_base64(sbuf *out, const char *in, size_t len, unsigned *flags);

/* Decodes quoted-printable (soft line breaks, "=XX" in either case; a bad
 * escape is kept literally). `header` selects RFC 2047 "Q" rules ("_" is a
 * space). Returns 0 or SS_ENOMEM. */
int codec_qp(sbuf *out, const char *in, size_t len, int header, unsigned *flags);

/* A uuencoded file found in text. */
typedef struct uu_block {
	size_t start;     /* offset of the "begin" line */
	size_t end;       /* offset just past the "end" line (or the data) */
	const char *name; /* file name on the begin line (slice into the input) */
	size_t name_len;
} uu_block;

/* Finds the first uuencoded block in in[from..len) ("begin NNN name" at a
 * line start followed by uuencoded lines). Returns 1 and fills *b, or 0. */
int codec_uu_find(const char *in, size_t len, size_t from, uu_block *b);

/* Decodes the uuencoded lines of block *b of `in` into out. */
int codec_uu_decode(sbuf *out, const char *in, const uu_block *b, unsigned *flags);

#endif
