/*
 * tokens.c: the word tokeniser (see tokens.h).
 *
 * One pass over the text: each word's bytes are gathered (zero-width
 * characters dropped), then normalised and handed to the callback, followed
 * by its folded spellings when obfuscation is suspected. Runs of scripts
 * without spaces are gathered as UTF-16 and cut by ICU's word breaker.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>

#include "learn/tokens.h"
#include "spamsift.h"
#include "util/copy.h"
#include "util/utf8.h"

#define RAW_MAX 256 /* bytes of one word gathered before it counts as long */
#define SEG_MAX 512 /* UTF-16 units of one unspaced run given to ICU at once */

struct tok_state {
	const UNormalizer2 *nfkc_cf;
	UBreakIterator *brk;
	char raw[RAW_MAX + 8];
	size_t rawlen, rawcps;
	unsigned flags;
	int latin, cyrgreek, alpha, digit, nonascii;
	UChar seg[SEG_MAX];
	size_t seglen;
	UChar u16[RAW_MAX * 2];
	char out[TOK_MAX * 4 + 8];
};

tok_state *tok_new(void)
{
	return calloc(1, sizeof(tok_state));
}

void tok_free(tok_state *t)
{
	if (!t)
		return;
	if (t->brk)
		ubrk_close(t->brk);
	free(t);
}

static int is_zero_width(unsigned cp)
{
	return cp == 0xAD || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF;
}

static int is_word_cp(unsigned cp)
{
	int8_t ct = u_charType((UChar32)cp);

	return (ct >= U_UPPERCASE_LETTER && ct <= U_OTHER_LETTER) ||
	       (ct >= U_NON_SPACING_MARK && ct <= U_COMBINING_SPACING_MARK) ||
	       ct == U_DECIMAL_DIGIT_NUMBER;
}

/* Scripts written without spaces between words. */
static int is_unspaced(unsigned cp)
{
	UErrorCode err = U_ZERO_ERROR;
	UScriptCode sc;

	if (cp < 0x0E00)
		return 0;
	if (cp == 0x3005 || cp == 0x30FC)
		return 1;
	sc = uscript_getScript((UChar32)cp, &err);
	return sc == USCRIPT_HAN || sc == USCRIPT_HIRAGANA || sc == USCRIPT_KATAKANA ||
	       sc == USCRIPT_THAI || sc == USCRIPT_LAO || sc == USCRIPT_KHMER ||
	       sc == USCRIPT_MYANMAR;
}

static int is_joiner(unsigned char c)
{
	return c == '.' || c == '-' || c == '\'' || c == '_' || c == '$';
}

static const UNormalizer2 *nfkc_cf(tok_state *t)
{
	UErrorCode err = U_ZERO_ERROR;

	if (!t->nfkc_cf)
		t->nfkc_cf = unorm2_getNFKCCasefoldInstance(&err);
	return U_SUCCESS(err) ? t->nfkc_cf : NULL;
}

/* Normalises UTF-16 src[0..n) into t->out; returns the UTF-8 length or -1. */
static int32_t norm16(tok_state *t, const UChar *src, int32_t n)
{
	UChar dst[TOK_MAX * 4];
	UErrorCode err = U_ZERO_ERROR;
	int32_t dn, len = 0;
	const UNormalizer2 *nz = nfkc_cf(t);

	if (!nz)
		return -1;
	dn = unorm2_normalize(nz, src, n, dst, TOK_MAX * 4, &err);
	if (U_FAILURE(err))
		return -1;
	u_strToUTF8(t->out, sizeof(t->out) - 1, &len, dst, dn, &err);
	if (U_FAILURE(err))
		return -1;
	t->out[len] = 0;
	return len;
}

/* Maps a Cyrillic or Greek look-alike of a Latin letter, or returns 0. */
static unsigned homoglyph(unsigned cp)
{
	static const struct {
		unsigned short from;
		char to;
	} map[] = {{0x0430, 'a'}, {0x0435, 'e'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'},
	           {0x0443, 'y'}, {0x0445, 'x'}, {0x0456, 'i'}, {0x0455, 's'}, {0x0458, 'j'},
	           {0x0501, 'd'}, {0x04BB, 'h'}, {0x043A, 'k'}, {0x043C, 'm'}, {0x043D, 'h'},
	           {0x0442, 't'}, {0x0432, 'b'}, {0x03BF, 'o'}, {0x03B1, 'a'}, {0x03BD, 'v'},
	           {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03C4, 't'}, {0x03C1, 'p'}, {0x03B5, 'e'},
	           {0x03C5, 'u'}, {0x03C7, 'x'}, {0x03B7, 'n'}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].from == cp)
			return (unsigned char)map[i].to;
	return 0;
}

/* Writes the Latin spelling of the normalised token in t->out into buf;
 * returns its length, or 0 when some letter has no Latin look-alike. */
static size_t fold_homoglyphs(const tok_state *t, size_t len, char *buf)
{
	size_t i = 0, o = 0, n;

	while (i < len) {
		unsigned cp = utf8_decode(t->out + i, len - i, &n);
		unsigned l = cp < 0x80 ? cp : homoglyph(cp);
		if (!l)
			return 0;
		buf[o++] = (char)l;
		i += n;
	}
	buf[o] = 0;
	return o;
}

/* Writes the token with leet digits read as letters into buf; returns its
 * length, or 0 when the token is not leet: it needs 2+ letters, only leet
 * digits, and either two of them or one between letters (so "mp3" and
 * "win32" stay as they are, "v1agra" and "fr33" are folded). */
static size_t fold_leet(const char *s, size_t len, char *buf)
{
	static const char from[] = "013457@$!|";
	static const char to[] = "oieastasil";
	size_t letters = 0, leet = 0, inner = 0;

	for (size_t i = 0; i < len; i++) {
		const char *f = s[i] ? strchr(from, s[i]) : NULL;
		if (s[i] >= 'a' && s[i] <= 'z') {
			letters++;
		} else if (f) {
			leet++;
			inner |= letters && i + 1 < len && s[i + 1] >= 'a' && s[i + 1] <= 'z';
		} else if (s[i] >= '0' && s[i] <= '9') {
			return 0;
		}
		buf[i] = f ? to[f - from] : s[i];
	}
	buf[len] = 0;
	return letters >= 2 && (leet >= 2 || inner) ? len : 0;
}

static int emit_long(tok_state *t, tok_cb cb, void *ctx)
{
	char tok[32];
	unsigned char c = (unsigned char)t->raw[0];
	int n = snprintf(tok, sizeof(tok), "long:%c:%zu", c < 0x80 ? c | 0x20 : 'u', t->rawcps / 8);

	return cb(ctx, tok, (size_t)n, TOK_LONG | (t->flags & TOK_ZERO_WIDTH));
}

/* Emits the gathered word (t->raw) and its folded spellings. */
static int emit_word(tok_state *t, tok_cb cb, void *ctx)
{
	char fold[TOK_MAX * 4 + 8];
	size_t len = 0, flen;
	int err;

	if (t->rawcps > TOK_MAX || t->rawlen > RAW_MAX)
		return emit_long(t, cb, ctx);
	if (!t->nonascii) {
		for (size_t i = 0; i < t->rawlen; i++) {
			char c = t->raw[i];
			t->out[i] = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
		}
		t->out[len = t->rawlen] = 0;
	} else {
		int32_t n16 = 0, n8;
		UErrorCode uerr = U_ZERO_ERROR;
		u_strFromUTF8(t->u16, RAW_MAX * 2, &n16, t->raw, (int32_t)t->rawlen, &uerr);
		if (U_FAILURE(uerr) || (n8 = norm16(t, t->u16, n16)) <= 0)
			return 0;
		len = (size_t)n8;
	}
	err = cb(ctx, t->out, len, t->flags);
	if (!err && t->digit && t->alpha && (flen = fold_leet(t->out, len, fold)))
		err = cb(ctx, fold, flen, t->flags | TOK_FOLD_LEET);
	if (!err && t->latin && t->cyrgreek && (flen = fold_homoglyphs(t, len, fold)))
		err = cb(ctx, fold, flen, t->flags | TOK_FOLD_HOMO);
	return err;
}

static void word_reset(tok_state *t)
{
	t->rawlen = t->rawcps = 0;
	t->flags = 0;
	t->latin = t->cyrgreek = t->alpha = t->digit = t->nonascii = 0;
}

static void word_add(tok_state *t, const char *s, size_t n, unsigned cp)
{
	if (t->rawlen + n <= RAW_MAX)
		memcpy(t->raw + t->rawlen, s, n);
	t->rawlen += n;
	t->rawcps++;
	if (cp < 0x80) {
		t->alpha |= !(cp >= '0' && cp <= '9') && cp != '.' && cp != '-' && cp != '\'' &&
		            cp != '_' && cp != '$';
		t->digit |= cp >= '0' && cp <= '9';
		t->latin |= (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
		return;
	}
	t->nonascii = 1;
	t->alpha = 1;
	if ((cp >= 0x0370 && cp <= 0x03FF) || (cp >= 0x0400 && cp <= 0x052F))
		t->cyrgreek = 1;
	else if (cp < 0x0250)
		t->latin = 1;
}

/* A word break iterator, already run once over Chinese text. ICU loads
 * an iterator's dictionary engine when it first meets a dictionary run,
 * and the run it loads it on can be cut differently from later ones (the
 * first "ー中" of a process was one word, every later one two): without
 * this, a token depended on what the process had segmented before. */
static UBreakIterator *brk_open(void)
{
	static const UChar warm[] = {0x4E2D, 0x6587, 0x3002, 0x30C6,
	                             0x30B9, 0x30C8, 0}; /* 中文。テスト */
	UErrorCode err = U_ZERO_ERROR;
	UBreakIterator *b = ubrk_open(UBRK_WORD, "", NULL, 0, &err);

	if (b && U_SUCCESS(err))
		ubrk_setText(b, warm, -1, &err);
	if (!b || U_FAILURE(err)) {
		if (b)
			ubrk_close(b);
		return NULL;
	}
	while (ubrk_next(b) != UBRK_DONE)
		;
	return b;
}

/* Cuts the gathered unspaced run (t->seg) into words with ICU. */
static int flush_seg(tok_state *t, tok_cb cb, void *ctx)
{
	UErrorCode err = U_ZERO_ERROR;
	int32_t a, b;
	int rc = 0;

	if (!t->seglen)
		return 0;
	if (!t->brk && (t->brk = brk_open()) == NULL)
		return SS_ENOMEM;
	ubrk_setText(t->brk, t->seg, (int32_t)t->seglen, &err);
	if (U_FAILURE(err))
		return SS_ENOMEM;
	a = ubrk_first(t->brk);
	for (b = ubrk_next(t->brk); !rc && b != UBRK_DONE; a = b, b = ubrk_next(t->brk)) {
		int32_t n8;
		if (ubrk_getRuleStatus(t->brk) < UBRK_WORD_NONE_LIMIT || b - a > TOK_MAX)
			continue;
		if ((n8 = norm16(t, t->seg + a, b - a)) > 0)
			rc = cb(ctx, t->out, (size_t)n8, TOK_SEGMENTED);
	}
	t->seglen = 0;
	return rc;
}

static int seg_add(tok_state *t, unsigned cp, tok_cb cb, void *ctx)
{
	int rc = 0;

	if (t->seglen + 2 > SEG_MAX)
		rc = flush_seg(t, cb, ctx);
	if (cp >= 0x10000) {
		t->seg[t->seglen++] = (UChar)(0xD7C0 + (cp >> 10));
		t->seg[t->seglen++] = (UChar)(0xDC00 | (cp & 0x3FF));
	} else {
		t->seg[t->seglen++] = (UChar)cp;
	}
	return rc;
}

/* Ends the current word (if any), emitting it. */
static int word_end(tok_state *t, tok_cb cb, void *ctx)
{
	int rc = 0;

	/* Joiners at the end of a word are punctuation, not part of it. */
	while (t->rawlen && t->rawlen <= RAW_MAX &&
	       is_joiner((unsigned char)t->raw[t->rawlen - 1]) && t->raw[t->rawlen - 1] != '$') {
		t->rawlen--;
		t->rawcps--;
	}
	if (t->rawlen && (t->alpha || t->digit))
		rc = emit_word(t, cb, ctx);
	word_reset(t);
	return rc;
}

/* ASCII byte classes for the tokeniser's fast path. */
enum { C_WORD = 1, C_JOIN = 2, C_DIGIT = 4, C_LETTER = 8 };

static const unsigned char ascii_class[256] = {
    ['$'] = C_JOIN, ['\''] = C_JOIN, ['-'] = C_JOIN, ['.'] = C_JOIN, ['_'] = C_JOIN,
#define D(c) [c] = C_WORD | C_DIGIT
#define L(c) [c] = C_WORD | C_LETTER, [c + 32] = C_WORD | C_LETTER
    D('0'),         D('1'),          D('2'),         D('3'),         D('4'),         D('5'),
    D('6'),         D('7'),          D('8'),         D('9'),         L('A'),         L('B'),
    L('C'),         L('D'),          L('E'),         L('F'),         L('G'),         L('H'),
    L('I'),         L('J'),          L('K'),         L('L'),         L('M'),         L('N'),
    L('O'),         L('P'),          L('Q'),         L('R'),         L('S'),         L('T'),
    L('U'),         L('V'),          L('W'),         L('X'),         L('Y'),         L('Z'),
#undef D
#undef L
};

/* Adds the run of ASCII word bytes starting at s[i] (which word_add would
 * take one by one: letters and digits, and joiners followed by one) to the
 * current word; returns the index after it. */
static size_t word_add_ascii(tok_state *t, const char *s, size_t i, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned seen = 0;
	size_t j = i, n;

	for (;;) {
		seen |= ascii_class[u[j]];
		if (++j == len)
			break;
		if (ascii_class[u[j]] & C_WORD)
			continue;
		if (!(ascii_class[u[j]] & C_JOIN) || j + 1 == len ||
		    !(ascii_class[u[j + 1]] & C_WORD))
			break;
	}
	n = j - i;
	if (t->rawlen < RAW_MAX)
		ss_copy_short(t->raw + t->rawlen, s + i,
		              n < RAW_MAX - t->rawlen ? n : RAW_MAX - t->rawlen);
	t->rawlen += n;
	t->rawcps += n;
	t->alpha |= (seen & C_LETTER) != 0;
	t->latin |= (seen & C_LETTER) != 0;
	t->digit |= (seen & C_DIGIT) != 0;
	return j;
}

int tok_text(tok_state *t, const char *s, size_t len, tok_cb cb, void *ctx)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	int rc = 0;

	word_reset(t);
	t->seglen = 0;
	while (!rc && i < len) {
		unsigned char c = u[i];
		unsigned cp;
		if (c < 0x80) {
			unsigned k = ascii_class[c];
			if ((k & C_WORD) || ((k & C_JOIN) && (t->rawlen || c == '$') &&
			                     i + 1 < len && (ascii_class[u[i + 1]] & C_WORD))) {
				if (t->seglen && (rc = flush_seg(t, cb, ctx)))
					break;
				i = word_add_ascii(t, s, i, len);
				continue;
			}
			/* Neither ends anything when nothing is gathered. */
			if (t->rawlen)
				rc = word_end(t, cb, ctx);
			if (!rc && t->seglen)
				rc = flush_seg(t, cb, ctx);
			i++;
			continue;
		}
		cp = utf8_decode(s + i, len - i, &n);
		if (is_zero_width(cp)) {
			t->flags |= t->rawlen ? TOK_ZERO_WIDTH : 0;
		} else if (is_unspaced(cp)) {
			rc = word_end(t, cb, ctx);
			if (!rc)
				rc = seg_add(t, cp, cb, ctx);
		} else if (is_word_cp(cp)) {
			if (t->seglen)
				rc = flush_seg(t, cb, ctx);
			word_add(t, s + i, n, cp);
		} else {
			rc = word_end(t, cb, ctx);
			if (!rc)
				rc = flush_seg(t, cb, ctx);
		}
		i += n;
	}
	if (!rc)
		rc = word_end(t, cb, ctx);
	if (!rc)
		rc = flush_seg(t, cb, ctx);
	return rc;
}
