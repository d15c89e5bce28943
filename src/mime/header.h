/*
 * header.h: RFC 5322 header blocks, as they really arrive.
 *
 * An I/O-free scanner over a complete header block: hdr_next() returns one
 * field at a time as slices into the caller's buffer (name, folded raw value)
 * and leaves *pos on the next field or, at the end, on the first byte of the
 * body. Tolerates LF or CRLF line ends, a leading mbox "From " line, a line
 * without a colon (skipped and reported), white space before the colon,
 * 8-bit bytes and a missing blank line before the body.
 */
#ifndef SS_MIME_HEADER_H
#define SS_MIME_HEADER_H

#include <stddef.h>
#include "spamsift.h"
#include "util/arena.h"

/* Facts seen while scanning, OR-ed into *facts by hdr_next(). */
enum {
	HDR_F_NO_COLON = 1 << 0,  /* a line in the block was not a field: skipped */
	HDR_F_8BIT = 1 << 1,      /* a value held raw 8-bit bytes */
	HDR_F_NO_BLANK = 1 << 2,  /* the body began without a blank line */
	HDR_F_MBOX_FROM = 1 << 3, /* a leading mbox "From " line was skipped */
};

typedef struct hdr_field {
	const char *name;
	size_t name_len;
	const char *value; /* raw, still folded, leading white space skipped */
	size_t value_len;  /* without the final line end */
	int eight_bit;     /* the field holds bytes >= 0x80 */
} hdr_field;

/* Reads the field at buf[*pos..len). Returns 1 and fills *f when there is
 * one, 0 at the end of the block (then *pos is the body's start). */
int hdr_next(const char *buf, size_t len, size_t *pos, hdr_field *f, unsigned *facts);

/* Returns the unfolded copy of a raw value (line ends removed, white space
 * around the value trimmed), cut to at most `max` bytes, in the arena; sets
 * *cut when it had to cut. */
ss_str hdr_unfold(ss_arena *a, const char *v, size_t len, size_t max, int *cut);

/* The fields the parser acts on, recognised once per field (hdr_kind). */
enum hdr_kind {
	HK_OTHER = 0,
	HK_SUBJECT,
	HK_FROM,
	HK_TO,
	HK_CC,
	HK_DATE,
	HK_MESSAGE_ID,
	HK_CONTENT_TYPE,
	HK_CTE,
	HK_DISPOSITION,
	HK_CONTENT_ID,
	HK_RECEIVED,
	HK_REPLY_TO,
	HK_SENDER,
	HK_RETURN_PATH,
};

/* Returns the HK_* kind of field name name[0..len) (case-insensitive). */
int hdr_kind(const char *name, size_t len);

/* Returns 1 when the line at buf[0..len) starts with a well-formed field name
 * followed by a colon. */
int hdr_is_field_line(const char *buf, size_t len);

#endif
