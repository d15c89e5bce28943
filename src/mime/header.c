/*
 * header.c: the header block scanner (see header.h).
 */
#include "mime/header.h"

#include <string.h>
#include <strings.h>

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

int hdr_is_field_line(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && is_name_char((unsigned char)buf[i]))
		i++;
	if (i == 0)
		return 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	return i < len && buf[i] == ':';
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
		if (hdr_is_field_line(buf + p, len - p))
			break;
		if (!skip_junk_line(buf, len, &p, facts)) {
			*facts |= HDR_F_NO_BLANK;
			goto end_block;
		}
	}
	colon = p + (size_t)((const char *)memchr(buf + p, ':', len - p) - (buf + p));
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

static const struct {
	const char *name;
	size_t len;
	int kind;
} hdr_kinds[] = {
    {"subject", 7, HK_SUBJECT},
    {"from", 4, HK_FROM},
    {"to", 2, HK_TO},
    {"cc", 2, HK_CC},
    {"date", 4, HK_DATE},
    {"message-id", 10, HK_MESSAGE_ID},
    {"content-type", 12, HK_CONTENT_TYPE},
    {"content-transfer-encoding", 25, HK_CTE},
    {"content-disposition", 19, HK_DISPOSITION},
    {"content-id", 10, HK_CONTENT_ID},
    {"received", 8, HK_RECEIVED},
    {"reply-to", 8, HK_REPLY_TO},
    {"sender", 6, HK_SENDER},
    {"return-path", 11, HK_RETURN_PATH},
};

/* Whether name[0..len) is the lower-case field name `want`, ignoring
 * ASCII case (inline: this runs for every field of every message). */
static int hdr_name_is(const char *want, const char *name, size_t len)
{
	size_t i = 0;

	for (; i < len && want[i]; i++) {
		unsigned char c = (unsigned char)name[i];
		if ((c >= 'A' && c <= 'Z' ? c | 0x20 : c) != (unsigned char)want[i])
			return 0;
	}
	return i == len && !want[i];
}

int hdr_kind(const char *name, size_t len)
{
	char c = (char)(name[0] | 0x20);

	if (len < 2 ||
	    (c != 's' && c != 'f' && c != 't' && c != 'c' && c != 'd' && c != 'm' && c != 'r'))
		return HK_OTHER;
	for (size_t i = 0; i < sizeof(hdr_kinds) / sizeof(hdr_kinds[0]); i++)
		if (hdr_kinds[i].len == len && hdr_kinds[i].name[0] == c &&
		    hdr_name_is(hdr_kinds[i].name + 1, name + 1, len - 1))
			return hdr_kinds[i].kind;
	return HK_OTHER;
}
