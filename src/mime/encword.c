/*
 * encword.c: RFC 2047 encoded-word decoding, tolerant (see encword.h).
 */
#include "mime/encword.h"

#include <string.h>
#include <strings.h>

#include "mime/codec.h"
#include "spamsift.h"
#include "text/charset.h"
#include "util/utf8.h"

#define EW_MAX_CHARSET 64
#define EW_MAX_TEXT 4096

typedef struct ew_word {
	const char *charset;
	size_t charset_len;
	char enc; /* 'B' or 'Q' */
	const char *text;
	size_t text_len;
	size_t end; /* offset just past "?=" */
} ew_word;

int ew_has_word(const char *v, size_t len)
{
	const char *p = v, *end = v + len;

	while ((p = memchr(p, '=', (size_t)(end - p))) != NULL && ++p < end)
		if (*p == '?')
			return 1;
	return 0;
}

int ew_needed(const char *v, size_t len)
{
	return !utf8_is_ascii(v, len) || ew_has_word(v, len);
}

/* Parses an encoded word starting at v[i] ("=?"); returns 1 when valid. */
static int ew_parse(const char *v, size_t len, size_t i, ew_word *w)
{
	size_t p = i + 2, q;
	const char *end;

	w->charset = v + p;
	while (p < len && v[p] != '?' && v[p] != ' ' && p - i < EW_MAX_CHARSET)
		p++;
	if (p >= len || v[p] != '?' || p == i + 2 || p + 3 >= len || v[p + 2] != '?')
		return 0;
	w->charset_len = (size_t)(v + p - w->charset);
	w->enc = (char)(v[p + 1] & ~0x20);
	if (w->enc != 'B' && w->enc != 'Q')
		return 0;
	w->text = v + p + 3;
	q = len - (p + 3) < EW_MAX_TEXT ? len - (p + 3) : EW_MAX_TEXT;
	end = memmem(w->text, q, "?=", 2);
	if (!end)
		return 0;
	w->text_len = (size_t)(end - w->text);
	w->end = (size_t)(end - v) + 2;
	/* RFC 2231 language suffix: charset*lang */
	for (size_t k = 0; k < w->charset_len; k++)
		if (w->charset[k] == '*')
			w->charset_len = k;
	return 1;
}

/* Converts the pending bytes of one charset to UTF-8 into out. */
static int ew_flush(sbuf *out, sbuf *pend, const char *cs, size_t cs_len)
{
	const char *used;
	unsigned cflags = 0;
	int err = 0;

	if (pend->len)
		err = cs_to_utf8(out, pend->p, pend->len, cs, cs_len, &used, &cflags);
	sbuf_reset(pend);
	return err;
}

/* Appends plain (not encoded) text, converting 8-bit runs: UTF-8 stays,
 * other bytes are decoded with the hint's label when there is one, else
 * with its guess, else detected. */
static int ew_plain(sbuf *out, const char *s, size_t n, const ew_hint *hint, unsigned *flags)
{
	const char *used;
	unsigned cflags = 0;

	if (utf8_is_ascii(s, n))
		return sbuf_add(out, s, n);
	*flags |= EW_F_8BIT;
	if (hint && hint->label.len && !utf8_valid(s, n))
		return cs_to_utf8(out, s, n, hint->label.p, hint->label.len, &used, &cflags);
	return cs_header_guess_to_utf8(out, s, n, hint ? hint->guess : NULL);
}

static int only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

static int ew_word_bytes(sbuf *pend, const ew_word *w, unsigned *flags)
{
	unsigned cf = 0;

	if (w->enc == 'B')
		return codec_base64(pend, w->text, w->text_len, &cf);
	return codec_qp(pend, w->text, w->text_len, 1, &cf);
}

int ew_decode(sbuf *out, sbuf *pend, const char *v, size_t len, unsigned *flags)
{
	return ew_decode_hint(out, pend, v, len, NULL, flags);
}

int ew_decode_hint(sbuf *out, sbuf *pend, const char *v, size_t len, const ew_hint *hint,
                   unsigned *flags)
{
	const char *cs = NULL;
	size_t cs_len = 0, i = 0, plain = 0;
	ew_word w;
	int err = 0;

	sbuf_reset(pend);
	while (!err && i < len) {
		const char *eq = memmem(v + i, len - i, "=?", 2);
		if (!eq)
			break;
		i = (size_t)(eq - v);
		if (!ew_parse(v, len, i, &w)) {
			i += 2;
			continue;
		}
		/* Text between two words is dropped when it is only white space. */
		if (!(pend->len && only_space(v + plain, i - plain))) {
			err = ew_flush(out, pend, cs, cs_len);
			if (!err)
				err = ew_plain(out, v + plain, i - plain, hint, flags);
		} else if (cs_len != w.charset_len || strncasecmp(cs, w.charset, cs_len)) {
			err = ew_flush(out, pend, cs, cs_len);
		}
		cs = w.charset;
		cs_len = w.charset_len;
		if (!err)
			err = ew_word_bytes(pend, &w, flags);
		*flags |= EW_F_ENCODED;
		i = plain = w.end;
	}
	if (!err)
		err = ew_flush(out, pend, cs, cs_len);
	if (!err)
		err = ew_plain(out, v + plain, len - plain, hint, flags);
	return err;
}
