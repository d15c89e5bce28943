/*
 * header.c: the header block scanner (see header.h).
 */
#include "mime/header.h"

#include <string.h>

#include "util/utf8.h"

/* Returns the offset just past the line starting at `pos` (its LF included). */
static size_t line_end(const char *buf, size_t len, size_t pos)
{
	const char *nl = memchr(buf + pos, '\n', len - pos);

	return nl ? (size_t)(nl - buf) + 1 : len;
}

static int is_blank_line(const char *buf, size_t len, size_t pos)
{
	if (pos < len && buf[pos] == '\n')
		return 1;
	return pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n';
}

static int is_name_char(unsigned char c)
{
	return c > 32 && c < 127 && c != ':';
}

/* Returns the offset of the ':' when buf[0..len) starts with a field
 * name (spaces or tabs may follow it), else 0. */
static size_t field_colon(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && is_name_char((unsigned char)buf[i]))
		i++;
	if (i == 0)
		return 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	return i < len && buf[i] == ':' ? i : 0;
}

int hdr_is_field_line(const char *buf, size_t len)
{
	return field_colon(buf, len) != 0;
}

/* Extends a field's value over its continuation lines; returns the offset of
 * the line after the field. */
static size_t field_extent(const char *buf, size_t len, size_t pos)
{
	size_t end = line_end(buf, len, pos);

	while (end < len && (buf[end] == ' ' || buf[end] == '\t') && !is_blank_line(buf, len, end))
		end = line_end(buf, len, end);
	return end;
}

/* A line that is not a field: junk inside the block when a field follows
 * it, else the body's start. Returns 1 when the line was skipped. */
static int skip_junk_line(const char *buf, size_t len, size_t *pos, unsigned *facts)
{
	size_t next = line_end(buf, len, *pos);

	if (*pos == 0 && len >= 5 && !memcmp(buf, "From ", 5)) {
		*facts |= HDR_F_MBOX_FROM;
		*pos = next;
		return 1;
	}
	if (next < len && hdr_is_field_line(buf + next, len - next)) {
		*facts |= HDR_F_NO_COLON;
		*pos = next;
		return 1;
	}
	return 0;
}

int hdr_next(const char *buf, size_t len, size_t *pos, hdr_field *f, unsigned *facts)
{
	size_t p = *pos, colon, end, vend;

	for (;;) {
		if (p >= len)
			goto end_block;
		if (is_blank_line(buf, len, p)) {
			p = line_end(buf, len, p);
			goto end_block;
		}
		if ((colon = field_colon(buf + p, len - p)) != 0)
			break;
		if (!skip_junk_line(buf, len, &p, facts)) {
			*facts |= HDR_F_NO_BLANK;
			goto end_block;
		}
	}
	colon += p; /* the first ':' of the line: names and blanks have none */
	f->name = buf + p;
	f->name_len = colon - p;
	while (f->name_len && (f->name[f->name_len - 1] == ' ' || f->name[f->name_len - 1] == '\t'))
		f->name_len--;
	end = field_extent(buf, len, p);
	f->eight_bit = !utf8_is_ascii(buf + p, end - p);
	if (f->eight_bit)
		*facts |= HDR_F_8BIT;
	vend = end;
	while (vend > colon + 1 && (buf[vend - 1] == '\n' || buf[vend - 1] == '\r'))
		vend--;
	p = colon + 1;
	while (p < vend && (buf[p] == ' ' || buf[p] == '\t'))
		p++;
	f->value = buf + p;
	f->value_len = vend - p;
	*pos = end;
	return 1;
end_block:
	*pos = p;
	return 0;
}

ss_str hdr_unfold(ss_arena *a, const char *v, size_t len, size_t max, int *cut)
{
	ss_str r = {NULL, 0};
	char *out;
	size_t n = 0, i = 0;

	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' ||
	               v[len - 1] == '\n'))
		len--;
	out = arena_alloc(a, (len < max ? len : max) + 1);
	if (!out)
		return r;
	/* Copy the runs between line ends in bulk: most fields are one line. */
	while (i < len && n < max) {
		const char *nl = memchr(v + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - v) : len, run;
		run = end - i;
		if (run && v[end - 1] == '\r' && nl)
			run--;
		if (run > max - n)
			run = max - n;
		memcpy(out + n, v + i, run);
		n += run;
		i = (run < end - i && n == max) ? i + run : end + (nl != NULL);
	}
	*cut = i < len;
	out[n] = '\0';
	r.p = out;
	r.len = n;
	return r;
}

/* Whether name[0..len) is the lower-case field name `want` (of length
 * len), ignoring ASCII case. */
static int hdr_name_is(const char *want, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if ((c >= 'A' && c <= 'Z' ? c | 0x20 : c) != (unsigned char)want[i])
			return 0;
	}
	return 1;
}

#define HDR_IS(want, kind)                                                                         \
	do {                                                                                       \
		if (hdr_name_is(want, name, len))                                                  \
			return kind;                                                               \
	} while (0)

/* Dispatches on the length first: this runs for every field of every
 * message, and most fields are none of these. */
int hdr_kind(const char *name, size_t len)
{
	switch (len) {
	case 2:
		HDR_IS("to", HK_TO);
		HDR_IS("cc", HK_CC);
		break;
	case 4:
		HDR_IS("from", HK_FROM);
		HDR_IS("date", HK_DATE);
		break;
	case 6:
		HDR_IS("sender", HK_SENDER);
		break;
	case 7:
		HDR_IS("subject", HK_SUBJECT);
		break;
	case 8:
		HDR_IS("received", HK_RECEIVED);
		HDR_IS("reply-to", HK_REPLY_TO);
		break;
	case 10:
		HDR_IS("message-id", HK_MESSAGE_ID);
		HDR_IS("content-id", HK_CONTENT_ID);
		break;
	case 11:
		HDR_IS("return-path", HK_RETURN_PATH);
		break;
	case 12:
		HDR_IS("content-type", HK_CONTENT_TYPE);
		break;
	case 19:
		HDR_IS("content-disposition", HK_DISPOSITION);
		break;
	case 25:
		HDR_IS("content-transfer-encoding", HK_CTE);
		break;
	}
	return HK_OTHER;
}
