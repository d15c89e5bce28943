/*
 * email.c: finds e-mail addresses in text, undoing the disguises spammers
 * use ("joe at example dot com", "joe[at]example[.]com"); see url.h.
 *
 * The scanner jumps from one trigger to the next ('@', "[at" and " at "),
 * 16 bytes at a time with SSE2 and with a byte table elsewhere. Around a
 * trigger it reads the local part back (at most MAIL_LOCAL_MAX bytes, never
 * past the end of the previous address: the "floor") and the domain
 * forward with the URL host reader (url_host_scan() in url.c), which keeps
 * hostile input linear.
 *
 * Known limits: "user@host" right after "://" (URL userinfo) is skipped,
 * but addresses in URL queries are reported; "/?&=" are left out of local
 * parts (they come from URLs far more often); "look at example dot com" is
 * reported as look@example.com (obfuscated).
 */
#include "text/url.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "text/url_internal.h"

#define MAIL_LOCAL_MAX 64 /* bytes of the local part of an address */
#define MAIL_BACK_MAX 256 /* bytes looked back for "://" before "user@" */

/* Ways of writing '@', see mail_at_form(). */
enum { AT_NONE, AT_TIGHT, AT_BRACKET, AT_WORD };

static const unsigned char mail_trig[256] = {
    ['@'] = 1, ['['] = 1, ['('] = 1, ['{'] = 1, [' '] = 1,
};

/* RFC 5322 atext, plus '.' between atoms, but without "/?&=": in text
 * those come from URLs ("unsubscribe?email=joe@example.com") far more
 * often than from local parts. */
static int mail_atext(unsigned char c)
{
	return a_alnum(c) || url_in_set(c, "!#$%'*+-^_`{|}~.");
}

/* Recognises '@', "[at]" "(at)" "{at}" (spaces around allowed) or " at "
 * at s[i] (for " at ", s[i] is the first space); *lo is where the local part must end, *hi where
 * the domain starts. Returns an AT_* kind. */
static int mail_at_form(const char *s, size_t len, size_t i, size_t floor, size_t *lo, size_t *hi)
{
	unsigned char c = (unsigned char)s[i];
	char close = c == '[' ? ']' : c == '(' ? ')' : '}';

	if (c == '@') {
		*lo = i;
		*hi = i + 1;
		return AT_TIGHT;
	}
	if (c == ' ') {
		if (i <= floor || i + 3 >= len || a_lower((unsigned char)s[i + 1]) != 'a' ||
		    a_lower((unsigned char)s[i + 2]) != 't' || s[i + 3] != ' ')
			return AT_NONE;
		*lo = i;
		*hi = i + 4;
		return AT_WORD;
	}
	if (i + 3 >= len || a_lower((unsigned char)s[i + 1]) != 'a' ||
	    a_lower((unsigned char)s[i + 2]) != 't' || s[i + 3] != close)
		return AT_NONE;
	*lo = i;
	while (*lo > floor && i - *lo < 2 && s[*lo - 1] == ' ')
		(*lo)--;
	*hi = url_skip_spaces(s, len, i + 4, 2);
	return AT_BRACKET;
}

/* Finds the local part that ends at lo; stores its start in *ls. */
static int mail_local(const char *s, size_t floor, size_t lo, size_t *ls)
{
	size_t k = lo, j;

	while (k > floor && lo - k <= MAIL_LOCAL_MAX && mail_atext((unsigned char)s[k - 1]))
		k--;
	if (lo - k > MAIL_LOCAL_MAX)
		return 0;
	while (k < lo && !a_alnum((unsigned char)s[k]))
		k++;
	if (k == lo || s[lo - 1] == '.')
		return 0;
	for (j = k; j + 1 < lo; j++)
		if (s[j] == '.' && s[j + 1] == '.')
			return 0;
	*ls = k;
	return 1;
}

/* Is the local part at ls the userinfo of a URL ("http://user@host")? */
static int mail_in_userinfo(const char *s, size_t floor, size_t ls)
{
	size_t k = ls, stop = ls - floor > MAIL_BACK_MAX ? ls - MAIL_BACK_MAX : floor;

	while (k > stop) {
		unsigned char c = (unsigned char)s[k - 1];

		if (c == '/')
			return k >= 3 && s[k - 2] == '/' && s[k - 3] == ':';
		if (c <= ' ' || url_in_set(c, "<>\"@"))
			return 0;
		k--;
	}
	return 0;
}

/* Checks the domain of an address written with `form`. */
static int mail_domain_ok(const host_rd *h, int form)
{
	host_info hi;

	if (!url_host_labels(h, &hi) || hi.nlab < 2 || !(hi.tld_alpha || hi.tld_intl))
		return 0;
	return form != AT_WORD || !h->tight;
}

/* Builds local@domain into f. */
static int mail_build(ss_arena *a, const char *local, size_t ll, const host_rd *h, addr_found *f)
{
	url_found d;
	char *p;
	int rc;

	memset(&d, 0, sizeof(d));
	rc = url_host_finish(a, h, "", &d);
	if (rc)
		return rc < 0 ? rc : 0;
	p = arena_alloc(a, ll + 1 + d.host.len + 1);
	if (!p)
		return SS_ENOMEM;
	memcpy(p, local, ll);
	p[ll] = '@';
	memcpy(p + ll + 1, d.host.p, d.host.len);
	p[ll + 1 + d.host.len] = '\0';
	f->addr.p = p;
	f->addr.len = ll + 1 + d.host.len;
	return 1;
}

/* Looks for an address around trigger s[i]; returns 1 and fills *f. */
static int mail_at(ss_arena *a, const url_src *src, size_t floor, size_t i, addr_found *f,
                   size_t *end)
{
	size_t lo, hi, ls;
	host_rd h;
	int form, r;

	form = mail_at_form(src->s, src->len, i, floor, &lo, &hi);
	if (!form || !mail_local(src->s, floor, lo, &ls))
		return 0;
	url_host_scan(&h, src, hi, HM_LOOSE | HM_IDN);
	if (!mail_domain_ok(&h, form) || (h.end < src->len && src->s[h.end] == '@'))
		return 0;
	if (form == AT_TIGHT && mail_in_userinfo(src->s, floor, ls))
		return 0;
	f->flags = form != AT_TIGHT ? SS_URL_OBFUSCATED : 0;
	f->flags |= h.flags;
	r = mail_build(a, src->s + ls, lo - ls, &h, f);
	*end = h.end;
	return r;
}

/* Returns the position of the next byte from i on that mail_at() might
 * take: '@', a bracket before 'a', a space before "at " (SSE2 prefilter
 * as in url_next_trigger()). */
static size_t mail_next_trigger(const char *s, size_t len, size_t i)
{
#ifdef __SSE2__
	const __m128i c20 = _mm_set1_epi8(0x20);

	for (; i + 19 <= len; i += 16) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i v1, v2, v3, a1, br, word, m;
		int bits;

		if (_mm_movemask_epi8(v0) == 0xFFFF)
			continue; /* 16 non-ASCII bytes (CJK text): no trigger */
		v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
		v2 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 2));
		v3 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 3));
		a1 = _mm_cmpeq_epi8(_mm_or_si128(v1, c20), _mm_set1_epi8('a'));

		br = _mm_or_si128(_mm_cmpeq_epi8(_mm_or_si128(v0, c20), _mm_set1_epi8('{')),
		                  _mm_cmpeq_epi8(v0, _mm_set1_epi8('(')));
		word = _mm_and_si128(_mm_cmpeq_epi8(_mm_or_si128(v2, c20), _mm_set1_epi8('t')),
		                     _mm_cmpeq_epi8(v3, c20));
		word = _mm_and_si128(word, _mm_cmpeq_epi8(v0, c20));
		m = _mm_or_si128(_mm_and_si128(_mm_or_si128(br, word), a1),
		                 _mm_cmpeq_epi8(v0, _mm_set1_epi8('@')));
		bits = _mm_movemask_epi8(m);
		if (bits)
			return i + (size_t)__builtin_ctz((unsigned)bits);
	}
#endif
	while (i < len && !mail_trig[(unsigned char)s[i]])
		i++;
	return i;
}

int url_scan_emails(ss_arena *a, const char *text, size_t len, addr_cb cb, void *ctx)
{
	url_src src = {text, len, 0};
	size_t i = 0, floor = 0, end = 0;
	addr_found f;
	int r;

	while (i < len) {
		i = mail_next_trigger(text, len, i);
		if (i >= len)
			break;
		r = mail_at(a, &src, floor, i, &f, &end);
		if (r < 0)
			return r;
		if (r == 0) {
			i++;
			continue;
		}
		if ((r = cb(ctx, &f)) != 0)
			return r;
		i = floor = end > i ? end : i + 1;
	}
	return 0;
}
