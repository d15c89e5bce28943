/*
 * json.c: JSON string escaping and small writers (see json.h).
 */
#include "util/json.h"

#include <emmintrin.h>
#include <inttypes.h>
#include <string.h>

#include "util/utf8.h"

static int json_escape_byte(sbuf *b, unsigned char c)
{
	switch (c) {
	case '"':
		return sbuf_add(b, "\\\"", 2);
	case '\\':
		return sbuf_add(b, "\\\\", 2);
	case '\n':
		return sbuf_add(b, "\\n", 2);
	case '\r':
		return sbuf_add(b, "\\r", 2);
	case '\t':
		return sbuf_add(b, "\\t", 2);
	default:
		return sbuf_addf(b, "\\u%04x", c);
	}
}

/* How many bytes from s on need no escape: printable ASCII other than '"'
 * and '\\'. Sixteen at a time (SSE2): a byte below 0x20 or from 0x80 on
 * is below 0x20 as a signed byte. */
static size_t plain_run(const char *s, size_t len)
{
	const __m128i sp = _mm_set1_epi8(0x20), q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	size_t i = 0;

	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i bad =
		    _mm_or_si128(_mm_cmpgt_epi8(sp, v),
		                 _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
		unsigned m = (unsigned)_mm_movemask_epi8(bad);
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
			break;
	}
	return i;
}

int json_str(sbuf *b, const char *s, size_t len)
{
	size_t i = 0;
	int err = sbuf_addc(b, '"');

	while (!err && i < len) {
		size_t run = plain_run(s + i, len - i), n;
		unsigned char c;
		if (run && (err = sbuf_add(b, s + i, run)))
			break;
		if ((i += run) == len)
			break;
		c = (unsigned char)s[i];
		if (c < 0x80) {
			err = json_escape_byte(b, c);
			i++;
			continue;
		}
		n = utf8_valid_prefix_len(s + i, len - i);
		if (n) {
			err = sbuf_add(b, s + i, n);
			i += n;
		} else {
			err = sbuf_add(b, "\xEF\xBF\xBD", 3);
			i++;
		}
	}
	return err ? err : sbuf_addc(b, '"');
}

int json_key(sbuf *b, const char *key)
{
	int err = json_str(b, key, strlen(key));

	return err ? err : sbuf_addc(b, ':');
}

int json_kv_str(sbuf *b, const char *key, const char *s, size_t len)
{
	int err = json_key(b, key);

	return err ? err : json_str(b, s ? s : "", s ? len : 0);
}

int json_kv_int(sbuf *b, const char *key, int64_t v)
{
	int err = json_key(b, key);

	return err ? err : sbuf_addf(b, "%" PRId64, v);
}

int json_sep(sbuf *b, int *first)
{
	if (*first) {
		*first = 0;
		return 0;
	}
	return sbuf_addc(b, ',');
}
