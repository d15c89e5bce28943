/*
 * codec.c: tolerant transfer decoders (see codec.h).
 */
#include "mime/codec.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "spamsift.h"

/* base64 alphabet value of each byte; 64 = white space, 65 = '=', 66 = junk */
static unsigned char b64_val[256];

__attribute__((constructor)) static void b64_table_init(void)
{
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memset(b64_val, 66, sizeof(b64_val));
	for (int i = 0; i < 64; i++)
		b64_val[(unsigned char)alpha[i]] = (unsigned char)i;
	b64_val['-'] = 62; /* base64url, seen in the wild */
	b64_val['_'] = 63;
	b64_val[' '] = b64_val['\t'] = b64_val['\r'] = b64_val['\n'] = 64;
	b64_val['='] = 65;
}

int codec_base64(sbuf *out, const char *in, size_t len, unsigned *flags)
{
	unsigned acc = 0, n = 0;
	unsigned char *o;
	size_t k = 0;

	if (sbuf_reserve(out, len / 4 * 3 + 3))
		return SS_ENOMEM;
	o = (unsigned char *)out->p + out->len;
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		/* between groups, whole groups of four letters at once: most of
		 * a body is lines of them */
		while (n == 0 && i + 4 <= len) {
			unsigned a = b64_val[(unsigned char)in[i]],
			         b = b64_val[(unsigned char)in[i + 1]],
			         c = b64_val[(unsigned char)in[i + 2]],
			         d = b64_val[(unsigned char)in[i + 3]];
			if ((a | b | c | d) >= 64)
				break;
			acc = a << 18 | b << 12 | c << 6 | d;
			o[k] = (unsigned char)(acc >> 16);
			o[k + 1] = (unsigned char)(acc >> 8);
			o[k + 2] = (unsigned char)acc;
			k += 3;
			i += 4;
			acc = 0;
		}
		if (i >= len)
			break;
		v = b64_val[(unsigned char)in[i]];
		if (v < 64) {
			acc = (acc << 6) | v;
			if (++n == 4) {
				o[k++] = (unsigned char)(acc >> 16);
				o[k++] = (unsigned char)(acc >> 8);
				o[k++] = (unsigned char)acc;
				acc = n = 0;
			}
		} else if (v == 65) {
			/* Padding ends a group; a new group may follow (concatenated
			 * base64 blobs are common). */
			if (n == 2)
				o[k++] = (unsigned char)(acc >> 4);
			else if (n == 3) {
				o[k++] = (unsigned char)(acc >> 10);
				o[k++] = (unsigned char)(acc >> 2);
			}
			acc = n = 0;
		} else if (v == 66) {
			*flags |= CODEC_F_JUNK;
		}
	}
	if (n >= 2) {
		*flags |= CODEC_F_NO_PADDING;
		if (n == 2)
			o[k++] = (unsigned char)(acc >> 4);
		else {
			o[k++] = (unsigned char)(acc >> 10);
			o[k++] = (unsigned char)(acc >> 2);
		}
	} else if (n == 1) {
		*flags |= CODEC_F_JUNK;
	}
	out->len += k;
	out->p[out->len] = '\0';
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Handles the "=" at in[i]; returns how many input bytes it used. */
static size_t qp_escape(char *o, size_t *k, const char *in, size_t len, size_t i, unsigned *flags)
{
	size_t j = i + 1;
	int hi, lo;

	if (j + 1 < len && (hi = hexval((unsigned char)in[j])) >= 0 &&
	    (lo = hexval((unsigned char)in[j + 1])) >= 0) {
		o[(*k)++] = (char)(hi << 4 | lo);
		return 3;
	}
	/* Soft line break: "=" then optional trailing white space, then EOL. */
	while (j < len && (in[j] == ' ' || in[j] == '\t'))
		j++;
	if (j < len && in[j] == '\r')
		j++;
	if (j < len && in[j] == '\n')
		return j + 1 - i;
	if (j >= len)
		return len - i;
	*flags |= CODEC_F_BAD_ESCAPE;
	o[(*k)++] = '=';
	return 1;
}

int codec_qp(sbuf *out, const char *in, size_t len, int header, unsigned *flags)
{
	char *o;
	size_t k = 0, i = 0;

	if (sbuf_reserve(out, len))
		return SS_ENOMEM;
	o = out->p + out->len;
	while (i < len) {
		const char *eq = memchr(in + i, '=', len - i);
		size_t run = eq ? (size_t)(eq - (in + i)) : len - i;

		memcpy(o + k, in + i, run);
		if (header)
			for (size_t m = k; m < k + run; m++)
				if (o[m] == '_')
					o[m] = ' ';
		k += run;
		i += run;
		if (i < len)
			i += qp_escape(o, &k, in, len, i, flags);
	}
	out->len += k;
	out->p[out->len] = '\0';
	return 0;
}

/* Returns the length of the line at in[pos..len) without its line end and
 * stores the offset of the next line in *next. */
static size_t uu_line(const char *in, size_t len, size_t pos, size_t *next)
{
	const char *nl = memchr(in + pos, '\n', len - pos);
	size_t end = nl ? (size_t)(nl - in) : len;

	*next = nl ? end + 1 : len;
	if (end > pos && in[end - 1] == '\r')
		end--;
	return end - pos;
}

/* A uuencoded data line: length char then 4 chars per 3 bytes. */
static int uu_is_data_line(const char *l, size_t n)
{
	size_t bytes, need;

	if (n == 0 || l[0] < 32 || l[0] > 96)
		return 0;
	bytes = (size_t)((l[0] - 32) & 63);
	need = (bytes + 2) / 3 * 4 + 1;
	if (n < need || n > need + 2)
		return 0;
	for (size_t i = 1; i < n; i++)
		if (l[i] < 32 || l[i] > 96)
			return 0;
	return 1;
}

static int uu_begin_line(const char *l, size_t n, uu_block *b)
{
	size_t i = 6;

	if (n < 10 || memcmp(l, "begin ", 6))
		return 0;
	while (i < n && l[i] >= '0' && l[i] <= '7')
		i++;
	if (i == 6 || i >= n || l[i] != ' ')
		return 0;
	b->name = l + i + 1;
	b->name_len = n - i - 1;
	return b->name_len > 0;
}

/* Whether the uuencoded block that begins at in[pos] (a line starting
 * "begin ") is real; fills *b when it is. */
static int uu_block_at(const char *in, size_t len, size_t pos, uu_block *b)
{
	size_t next, after, n = uu_line(in, len, pos, &next), n2 = uu_line(in, len, next, &after);

	if (!uu_begin_line(in + pos, n, b) || !uu_is_data_line(in + next, n2))
		return 0;
	b->start = pos;
	b->end = len;
	for (size_t p = next; p < len; p = after) {
		n2 = uu_line(in, len, p, &after);
		if (n2 >= 3 && !memcmp(in + p, "end", 3) && (n2 == 3 || in[p + 3] == ' ')) {
			b->end = after;
			break;
		}
	}
	return 1;
}

/* Returns the offset of the next "\nb" in in[pos..len) plus one (where
 * such a line starts), or len; 16 bytes at a time where SSE2 is. */
static size_t uu_next_b_line(const char *in, size_t len, size_t pos)
{
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), bee = _mm_set1_epi8('b');

	for (; pos + 17 <= len; pos += 16) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(in + pos));
		__m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(in + pos + 1));
		int bits = _mm_movemask_epi8(
		    _mm_and_si128(_mm_cmpeq_epi8(v0, nl), _mm_cmpeq_epi8(v1, bee)));
		if (bits)
			return pos + (size_t)__builtin_ctz((unsigned)bits) + 1;
	}
#endif
	for (; pos + 1 < len; pos++)
		if (in[pos] == '\n' && in[pos + 1] == 'b')
			return pos + 1;
	return len;
}

int codec_uu_find(const char *in, size_t len, size_t from, uu_block *b)
{
	/* "begin " counts only at the start of a line; line starts with a
	 * 'b' are found 16 bytes at a time, not line by line */
	size_t pos = from;

	if (pos >= len)
		return 0;
	if (pos > 0 && in[pos - 1] != '\n')
		pos = uu_next_b_line(in, len, pos);
	else if (in[pos] != 'b')
		pos = uu_next_b_line(in, len, pos);
	for (; pos < len; pos = uu_next_b_line(in, len, pos))
		if (len - pos >= 6 && !memcmp(in + pos, "begin ", 6) &&
		    uu_block_at(in, len, pos, b))
			return 1;
	return 0;
}

/* Decodes one line that uu_is_data_line() accepted: it holds a whole group
 * of four characters for every three bytes its length character announces. */
static int uu_decode_line(sbuf *out, const char *l, size_t n)
{
	size_t bytes = (size_t)((l[0] - 32) & 63), k = 0;
	unsigned char q[3];

	for (size_t i = 1; i + 3 < n && k < bytes; i += 4) {
		unsigned c0 = (l[i] - 32) & 63, c1 = (l[i + 1] - 32) & 63;
		unsigned c2 = (l[i + 2] - 32) & 63, c3 = (l[i + 3] - 32) & 63;
		size_t m;
		q[0] = (unsigned char)(c0 << 2 | c1 >> 4);
		q[1] = (unsigned char)(c1 << 4 | c2 >> 2);
		q[2] = (unsigned char)(c2 << 6 | c3);
		m = bytes - k < 3 ? bytes - k : 3;
		if (sbuf_add(out, q, m))
			return SS_ENOMEM;
		k += m;
	}
	return 0;
}

int codec_uu_decode(sbuf *out, const char *in, const uu_block *b, unsigned *flags)
{
	size_t pos, next, n;
	int ended = 0;

	uu_line(in, b->end, b->start, &pos);
	for (; pos < b->end; pos = next) {
		n = uu_line(in, b->end, pos, &next);
		if (n >= 3 && !memcmp(in + pos, "end", 3)) {
			ended = 1;
			break;
		}
		if (!uu_is_data_line(in + pos, n))
			continue;
		if (uu_decode_line(out, in + pos, n))
			return SS_ENOMEM;
	}
	if (!ended)
		*flags |= CODEC_F_TRUNCATED;
	return 0;
}
