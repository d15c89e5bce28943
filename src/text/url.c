/*
 * url.c: finds URLs in text, undoing the disguises spammers use, and
 * parses HTML hrefs (see url.h). E-mail addresses are found by email.c,
 * which reads their domains with the host reader here (url_internal.h).
 *
 * The scanner jumps from one trigger to the next (':' '.' "ww" '[' '('
 * '{' and the lead byte of fullwidth forms), 16 bytes at a time with SSE2
 * and with a byte table elsewhere, so plain prose costs well under a cycle
 * per byte. Every attempt reads a bounded number of bytes (a host is at
 * most URL_HOST_MAX bytes, a scheme is looked for at most URL_SCHEME_BACK
 * bytes back) and no backward look goes past the end of the previous
 * attempt (the "floor"), which keeps hostile input linear.
 *
 * A URL is read in three steps: a head (a scheme and its "://", "www" or a
 * bare host), the host (url_host_scan: labels and the many ways of writing
 * a dot), then port and path (path_read). Hosts are returned lower case:
 * Unicode via ICU (lower case, NFC), punycode via libidn2.
 *
 * Known limit: a host glued to the next word ("http://example.comhello")
 * keeps the word.
 */
#include "text/url.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "text/url_internal.h"
#include "util/utf8.h"

#define URL_FOLD_MAX 1024    /* bytes of a host after lower-casing */
#define URL_MAX 4096         /* bytes of a normalised URL (the path is cut) */
#define URL_SCHEME_BACK 32   /* bytes looked at before ':' for a scheme */
#define URL_USERINFO_MAX 256 /* bytes looked at for "user@" after "://" */
#define URL_TEXT_MAX 2048    /* bytes of link text url_text_host() looks at */

/* Pseudo code points returned by url_getc(). */
#define UC_ZW 0x110000u   /* zero-width character or soft hyphen: dropped */
#define UC_IDOT 0x110001u /* ideographic full stop, maybe used as a dot */

/* How a URL starts. */
enum { UK_SCHEME, UK_SLASHES, UK_WWW, UK_BARE };

/* Ways of writing a dot, see dot_form(). */
enum { DOT_NONE, DOT_PLAIN, DOT_WIDE, DOT_BRACKET, DOT_WORD };

/* Trigger bytes of url_scan_text(). */
enum { T_NONE, T_COLON, T_DOT, T_W, T_BRACKET, T_WIDE };

static const unsigned char url_trig[256] = {
    [':'] = T_COLON,   ['.'] = T_DOT,     ['w'] = T_W,       ['W'] = T_W,
    ['['] = T_BRACKET, ['('] = T_BRACKET, ['{'] = T_BRACKET, [0xEF] = T_WIDE,
};

/* Where and how a URL starts. */
typedef struct url_head {
	const char *scheme; /* "http", "https" or "ftp" */
	size_t host;        /* first byte of the host part */
	size_t colon;       /* the ':' after the scheme (UK_SCHEME) */
	unsigned flags;     /* SS_URL_* noticed so far */
	int kind;           /* UK_* */
} url_head;

/* The normalised URL being written. */
typedef struct url_w {
	char b[URL_MAX];
	size_t n;
	int full;
} url_w;

/* State of one url_scan_text() (or url_parse(), url_text_host()) call. */
typedef struct url_scan {
	ss_arena *a;
	url_src src;
	size_t floor;     /* no bare host starts before this */
	size_t floor_url; /* end of the last URL found */
	int text_host;    /* url_text_host(): bare hosts may be IDN */
} url_scan;

/* Common top-level domains accepted for hosts written without scheme or
 * "www." (sorted for bsearch). */
static const char *const url_tlds[] = {
    "app",  "ar",  "au", "biz", "br", "ca",   "cc",     "ch",    "cl",  "club", "cn",
    "co",   "com", "cz", "de",  "dk", "edu",  "es",     "eu",    "fi",  "fr",   "gov",
    "gr",   "hk",  "hu", "ie",  "il", "in",   "info",   "io",    "jp",  "kr",   "kz",
    "live", "me",  "mx", "net", "nl", "nz",   "online", "org",   "ph",  "pl",   "pt",
    "pw",   "ro",  "ru", "se",  "sg", "shop", "site",   "store", "su",  "th",   "tk",
    "top",  "tr",  "tw", "ua",  "uk", "us",   "vn",     "ws",    "xyz", "za",
};

/* Two-letter endings that are file extensions more often than countries. */
static const char *const url_not_cc[] = {
    "cs", "db", "el", "go", "gz", "hs", "js", "kt", "md", "ml", "mm",
    "pl", "ps", "py", "rb", "rs", "sh", "so", "ts", "vb", "xz",
};

static int a_xdigit(unsigned c)
{
	if (a_digit(c))
		return (int)(c - '0');
	if ((c | 0x20) - 'a' < 6)
		return (int)((c | 0x20) - 'a' + 10);
	return -1;
}

/* CJK ideographs, kana, hangul and their punctuation and fullwidth forms. */
static int url_is_cjk(unsigned cp)
{
	return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
	       (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE10 && cp <= 0xFE1F) ||
	       (cp >= 0xFE30 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFFEF) ||
	       (cp >= 0x20000 && cp <= 0x3FFFF);
}

/* A non-ASCII character that may be part of a host label. */
static int url_is_letter(unsigned cp)
{
	if (cp >= 0x110000)
		return 0;
	return u_isalnum((UChar32)cp) || (U_GET_GC_MASK((UChar32)cp) & U_GC_M_MASK);
}

/* Non-ASCII characters that end a URL path in text: spaces, punctuation,
 * symbols, CJK (text around a URL often has no space) and bad bytes. */
static int path_stop_cp(unsigned cp)
{
	return cp < 0xC0 || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x2BFF) ||
	       url_is_cjk(cp) || (cp >= 0xFFF0 && cp <= 0xFFFF) ||
	       (cp >= 0x1F000 && cp < 0x20000) || cp >= 0x110000;
}

/* Reads the character at s[i] (i < len) with the disguises undone:
 * fullwidth ASCII folded to ASCII, zero-width characters and soft hyphens
 * as UC_ZW, ideographic full stops as UC_IDOT. Stores its length in *n. */
static unsigned url_getc(const char *s, size_t len, size_t i, size_t *n)
{
	unsigned cp;

	if (!((unsigned char)s[i] & 0x80)) {
		*n = 1;
		return (unsigned char)s[i];
	}
	cp = utf8_decode(s + i, len - i, n);
	if (cp >= 0xFF01 && cp <= 0xFF5E)
		return cp - 0xFEE0;
	if (cp == 0x3002 || cp == 0xFF61)
		return UC_IDOT;
	if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF || cp == 0xAD)
		return UC_ZW;
	return cp;
}

/* Returns the character at *i, first skipping zero-width ones (moving *i
 * past them); *n gets its length, 0 at the end of the text. Folded and
 * skipped characters set SS_URL_OBFUSCATED in *flags. */
static unsigned src_peek(const url_src *src, size_t *i, size_t *n, unsigned *flags)
{
	while (*i < src->len) {
		unsigned cp = url_getc(src->s, src->len, *i, n);

		if (cp != UC_ZW) {
			if (*n > 1 && cp < 0x80)
				*flags |= SS_URL_OBFUSCATED;
			return cp;
		}
		*flags |= SS_URL_OBFUSCATED;
		*i += *n;
	}
	*n = 0;
	return 0;
}

/* Returns the code point that ends right before s[i] (0 at the start). */
static unsigned prev_cp(const char *s, size_t i)
{
	size_t k, n;
	unsigned cp;

	if (!i)
		return 0;
	k = i - 1;
	while (k > 0 && i - k < 4 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	cp = utf8_decode(s + k, i - k, &n);
	return n == i - k ? cp : 0xFFFD;
}

size_t url_skip_spaces(const char *s, size_t len, size_t i, size_t max)
{
	size_t k = i;

	while (k < len && k - i < max && s[k] == ' ')
		k++;
	return k;
}

/* ---- schemes ---------------------------------------------------------- */

/* The middle letters of "http" and its disguises (hxxp, h**p, htxp). */
static int scheme_mid(unsigned c)
{
	return c == 't' || c == 'x' || c == '*';
}

/* Matches a web scheme name at *i: http, https, ftp or a disguise (hxxp,
 * hXXps, h**p...). Returns "http", "https", "ftp" or NULL and moves *i
 * past the name. */
static const char *scheme_name(const url_src *src, size_t *i, unsigned *flags)
{
	unsigned c[4], f = 0, f2 = 0;
	size_t j = *i, n, k2;
	const char *name = "http";
	int k;

	for (k = 0; k < 4; k++) {
		c[k] = a_lower(src_peek(src, &j, &n, &f));
		if (!n || (k == 0 && c[0] != 'h' && c[0] != 'f'))
			return NULL;
		j += n;
		if (k == 2 && c[0] == 'f')
			break;
	}
	if (c[0] == 'f') {
		if (c[1] != 't' || c[2] != 'p')
			return NULL;
		name = "ftp";
	} else {
		if (!scheme_mid(c[1]) || !scheme_mid(c[2]) || c[3] != 'p')
			return NULL;
		if (c[1] != 't' || c[2] != 't')
			f |= SS_URL_OBFUSCATED;
		k2 = j;
		if (a_lower(src_peek(src, &k2, &n, &f2)) == 's') {
			j = k2 + n;
			f |= f2;
			name = "https";
		}
	}
	*i = j;
	*flags |= f;
	return name;
}

/* Reads what follows a scheme name: [spaces] ':' [spaces] and up to three
 * slashes (or backslashes); text needs at least one slash, an href none.
 * Fills hd->colon and hd->host; returns 1 on a match. */
static int scheme_sep(const url_src *src, size_t i, url_head *hd)
{
	size_t k, n;
	unsigned cp;
	int slashes = 0;

	k = url_skip_spaces(src->s, src->len, i, 3);
	if (k != i)
		hd->flags |= SS_URL_OBFUSCATED;
	cp = src_peek(src, &k, &n, &hd->flags);
	if (cp != ':')
		return 0;
	hd->colon = k;
	i = k + n;
	k = url_skip_spaces(src->s, src->len, i, 3);
	if (k != i)
		hd->flags |= SS_URL_OBFUSCATED;
	while (slashes < 3) {
		cp = src_peek(src, &k, &n, &hd->flags);
		if (cp == '\\')
			hd->flags |= SS_URL_OBFUSCATED;
		else if (cp != '/')
			break;
		k += n;
		slashes++;
	}
	if (!slashes && !src->href)
		return 0;
	hd->host = k;
	return 1;
}

/* Matches "scheme://" at p; fills *hd. */
static int scheme_head(const url_src *src, size_t p, url_head *hd)
{
	size_t i = p;

	memset(hd, 0, sizeof(*hd));
	hd->kind = UK_SCHEME;
	hd->scheme = scheme_name(src, &i, &hd->flags);
	return hd->scheme && scheme_sep(src, i, hd);
}

/* Returns where the host starts: after the last '@' of a userinfo part,
 * or i when there is none. A userinfo that looks like a host name
 * ("http://paypal.com@evil.example/") is a disguise. */
static size_t userinfo_skip(const url_src *src, size_t i, unsigned *flags)
{
	size_t k, at = 0, end = src->len - i > URL_USERINFO_MAX ? i + URL_USERINFO_MAX : src->len;
	int dot = 0;

	for (k = i; k < end; k++) {
		unsigned char c = (unsigned char)src->s[k];

		if (c == '@')
			at = k + 1;
		else if (c <= ' ' || c == '/' || c == '\\' || c == '?' || c == '#' || c == '<' ||
		         c == '>' || c == '"')
			break;
		dot |= c == '.' && !at;
	}
	if (!at)
		return i;
	if (dot)
		*flags |= SS_URL_OBFUSCATED;
	return at;
}

/* ---- hosts ------------------------------------------------------------ */

static void host_put(host_rd *h, unsigned char c)
{
	if (h->n >= URL_HOST_MAX) {
		h->too_long = 1;
		return;
	}
	h->b[h->n++] = (char)c;
	h->lab++;
}

/* Recognises a written dot at s[j]: '.', a fullwidth or ideographic one,
 * "[.]" "(.)" "{.}" "[dot]" "(dot)" "{dot}", or the word "dot". Stores the
 * position after it in *k and returns its DOT_* kind. */
static int dot_form(const char *s, size_t len, size_t j, size_t *k)
{
	unsigned char c = (unsigned char)s[j];
	size_t n;
	unsigned cp;
	char close;

	if (c == '.') {
		*k = j + 1;
		return DOT_PLAIN;
	}
	if (c == '[' || c == '(' || c == '{') {
		close = c == '[' ? ']' : c == '(' ? ')' : '}';
		if (j + 2 < len && s[j + 1] == '.' && s[j + 2] == close) {
			*k = j + 3;
			return DOT_BRACKET;
		}
		if (j + 4 < len && a_lower((unsigned char)s[j + 1]) == 'd' &&
		    a_lower((unsigned char)s[j + 2]) == 'o' &&
		    a_lower((unsigned char)s[j + 3]) == 't' && s[j + 4] == close) {
			*k = j + 5;
			return DOT_BRACKET;
		}
		return DOT_NONE;
	}
	if ((c | 0x20) == 'd' && j + 3 < len && a_lower((unsigned char)s[j + 1]) == 'o' &&
	    a_lower((unsigned char)s[j + 2]) == 't' && s[j + 3] == ' ') {
		*k = j + 3;
		return DOT_WORD;
	}
	if (c != 0xEF && c != 0xE3)
		return DOT_NONE;
	cp = url_getc(s, len, j, &n);
	*k = j + n;
	return cp == '.' || cp == UC_IDOT ? DOT_WIDE : DOT_NONE;
}

/* Returns 1 when a host label can start at s[i]: an ASCII letter or digit
 * (fullwidth too) or, when allowed, a non-ASCII letter. */
static int label_start(const host_rd *h, const char *s, size_t len, size_t i, int ascii_only)
{
	size_t n;
	unsigned cp;

	if (i >= len)
		return 0;
	if (a_alnum((unsigned char)s[i]))
		return 1;
	cp = url_getc(s, len, i, &n);
	if (cp < 0x80)
		return n > 1 && a_alnum(cp);
	return !ascii_only && (h->mode & HM_IDN) && url_is_letter(cp) && cp != UC_IDOT;
}

/* Is a dot of this kind, with these spaces around it, allowed here? */
static int dot_allowed(const host_rd *h, int kind, size_t sp1, size_t sp2)
{
	switch (kind) {
	case DOT_PLAIN:
		if (!sp1 && !sp2)
			return 1;
		return sp1 && sp2 && (h->mode & HM_LOOSE) && !h->tight;
	case DOT_WIDE:
		return !sp1 && !sp2 && (h->mode & HM_WIDE);
	case DOT_BRACKET:
		return 1;
	case DOT_WORD:
		return sp1 && sp2 && (h->mode & HM_LOOSE) && !h->tight;
	}
	return 0;
}

/* Reads a dot between labels at s[i]. Returns 1 and sets *next when one
 * was consumed, 2 for a trailing plain dot ("example.com./") that ends the
 * host, 0 when there is none. */
static int host_dot(host_rd *h, const char *s, size_t len, size_t i, size_t *next)
{
	size_t j, k, after, sp1, sp2;
	int kind;

	if (!h->lab)
		return 0;
	j = url_skip_spaces(s, len, i, 3);
	sp1 = j - i;
	if (j >= len || !(kind = dot_form(s, len, j, &k)))
		return 0;
	after = url_skip_spaces(s, len, k, 3);
	sp2 = after - k;
	if (!dot_allowed(h, kind, sp1, sp2))
		return 0;
	if (!label_start(h, s, len, after, kind == DOT_WIDE)) {
		if (kind != DOT_PLAIN || sp1 || sp2 || after >= len || !url_in_set(s[after], "/?#"))
			return 0;
		*next = after;
		return 2;
	}
	if (kind == DOT_PLAIN && !sp1)
		h->tight++;
	else
		h->flags |= SS_URL_OBFUSCATED;
	host_put(h, '.');
	h->lab = 0;
	h->lab_ascii = 0;
	*next = after;
	return 1;
}

/* Reads a %-encoded byte at s[i] into the host; returns 1 when done. */
static int host_pct(host_rd *h, const char *s, size_t len, size_t i)
{
	int hi, lo;
	unsigned v;

	if (!(h->mode & HM_PCT) || i + 2 >= len)
		return 0;
	hi = a_xdigit((unsigned char)s[i + 1]);
	lo = a_xdigit((unsigned char)s[i + 2]);
	if (hi < 0 || lo < 0)
		return 0;
	v = (unsigned)(hi * 16 + lo);
	if (a_alnum(v) || v == '-') {
		host_put(h, (unsigned char)a_lower(v));
		h->lab_ascii = 1;
	} else if (v == '.' && h->lab) {
		host_put(h, '.');
		h->lab = 0;
		h->lab_ascii = 0;
	} else if (v >= 0x80 && (h->mode & HM_IDN)) {
		host_put(h, (unsigned char)v);
		h->nonascii = 1;
	} else {
		return 0;
	}
	h->flags |= SS_URL_OBFUSCATED;
	return 1;
}

/* Reads a non-ASCII character at *i into the host: zero-width ones are
 * dropped, fullwidth ASCII folded, letters kept (an ASCII label running
 * into CJK ends, as text around URLs often has no spaces). */
static int host_wide(host_rd *h, const char *s, size_t len, size_t *i)
{
	size_t n;
	unsigned cp = url_getc(s, len, *i, &n);

	if (cp == UC_ZW) {
		h->flags |= SS_URL_OBFUSCATED;
	} else if (cp < 0x80) {
		if (!a_alnum(cp) && cp != '-')
			return 0;
		host_put(h, (unsigned char)a_lower(cp));
		h->lab_ascii = 1;
		h->flags |= SS_URL_OBFUSCATED;
	} else {
		if (!(h->mode & HM_IDN) || !url_is_letter(cp) || (h->lab_ascii && url_is_cjk(cp)))
			return 0;
		if (h->n + n > URL_HOST_MAX) {
			h->too_long = 1;
			return 0;
		}
		memcpy(h->b + h->n, s + *i, n);
		h->n += n;
		h->lab += n;
		h->nonascii = 1;
	}
	*i += n;
	return 1;
}

/* Reads a host starting at s[i] into *h (see host_rd); h->end is where
 * it stops. */
void url_host_scan(host_rd *h, const url_src *src, size_t i, unsigned mode)
{
	const char *s = src->s;
	size_t len = src->len, next;
	int r;

	h->n = h->lab = 0;
	h->tight = h->flags = 0;
	h->lab_ascii = h->nonascii = h->too_long = 0;
	h->mode = mode;
	while (i < len && !h->too_long) {
		unsigned char c = (unsigned char)s[i];

		if (a_alnum(c) || c == '-' || c == '_') {
			host_put(h, (unsigned char)a_lower(c));
			h->lab_ascii = 1;
			i++;
		} else if ((r = host_dot(h, s, len, i, &next)) != 0) {
			i = next;
			if (r == 2)
				break;
		} else if (c == '%' && host_pct(h, s, len, i)) {
			i += 3;
		} else if (!(c & 0x80) || !host_wide(h, s, len, &i)) {
			break;
		}
	}
	h->b[h->n] = '\0';
	h->end = i;
}

/* Splits h->b into labels; returns 1 when each is 1-63 bytes (non-ASCII
 * ones may be longer) and does not start or end with '-'. */
int url_host_labels(const host_rd *h, host_info *hi)
{
	size_t i = 0, k;

	memset(hi, 0, sizeof(*hi));
	if (!h->n || h->too_long)
		return 0;
	while (i <= h->n) {
		int wide = 0;

		for (k = i; k < h->n && h->b[k] != '.'; k++)
			wide |= (unsigned char)h->b[k] >= 0x80;
		if (k == i || (!wide && k - i > 63) || h->b[i] == '-' || h->b[k - 1] == '-')
			return 0;
		hi->nlab++;
		hi->tld = h->b + i;
		hi->tld_len = k - i;
		hi->tld_intl = wide || (k - i > 4 && !memcmp(h->b + i, "xn--", 4));
		i = k + 1;
	}
	hi->tld_num = a_digit((unsigned char)hi->tld[0]);
	hi->tld_alpha = hi->tld_len >= 2;
	for (k = 0; k < hi->tld_len; k++)
		hi->tld_alpha &= a_alpha((unsigned char)hi->tld[k]);
	return !h->nonascii || utf8_valid(h->b, h->n);
}

/* Parses one part of an IPv4 literal: decimal, 0x-hex or 0-octal. */
static int ipv4_part(const char *p, size_t n, uint64_t *v)
{
	unsigned base = 10;
	size_t i = 0;
	uint64_t x = 0;

	if (n >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
		base = 16;
		i = 2;
	} else if (n >= 2 && p[0] == '0') {
		base = 8;
		i = 1;
	}
	if (n - i > 12)
		return 0;
	for (; i < n; i++) {
		int d = a_xdigit((unsigned char)p[i]);

		if (d < 0 || (unsigned)d >= base)
			return 0;
		x = x * base + (unsigned)d;
	}
	*v = x;
	return 1;
}

/* Parses an IPv4 literal the way browsers do (1 to 4 parts, decimal, hex
 * or octal: "3232235777", "0x7f.0.0.1") into dotted decimal text ip. */
static int ipv4_parse(const char *b, size_t n, char *ip, size_t cap)
{
	uint64_t part[4], addr = 0;
	size_t i = 0, k, np = 0;

	while (i <= n) {
		for (k = i; k < n && b[k] != '.'; k++)
			;
		if (np == 4 || k == i || !ipv4_part(b + i, k - i, &part[np]))
			return 0;
		np++;
		i = k + 1;
	}
	for (k = 0; k + 1 < np; k++) {
		if (part[k] > 255)
			return 0;
		addr |= part[k] << (8 * (3 - k));
	}
	if (part[np - 1] >= (uint64_t)1 << (8 * (5 - np)))
		return 0;
	addr |= part[np - 1];
	snprintf(ip, cap, "%u.%u.%u.%u", (unsigned)(addr >> 24) & 255, (unsigned)(addr >> 16) & 255,
	         (unsigned)(addr >> 8) & 255, (unsigned)addr & 255);
	return 1;
}

/* Reads an IPv6 literal "[...]" at s[i] into canonical text ip; returns
 * the position after ']' or 0. */
static size_t ipv6_read(const url_src *src, size_t i, char *ip, size_t cap)
{
	char tmp[64];
	unsigned char bin[16];
	size_t k = i + 1;

	while (k < src->len && k - i <= 48 &&
	       (a_xdigit((unsigned char)src->s[k]) >= 0 || src->s[k] == ':' || src->s[k] == '.'))
		k++;
	if (k >= src->len || src->s[k] != ']' || k - i - 1 >= sizeof(tmp))
		return 0;
	memcpy(tmp, src->s + i + 1, k - i - 1);
	tmp[k - i - 1] = '\0';
	if (inet_pton(AF_INET6, tmp, bin) != 1 || !inet_ntop(AF_INET6, bin, ip, (socklen_t)cap))
		return 0;
	return k + 1;
}

static int tld_cmp(const void *key, const void *elem)
{
	const ss_str *k = key;
	const char *e = *(const char *const *)elem;
	size_t el = strlen(e);
	int c = memcmp(k->p, e, k->len < el ? k->len : el);

	return c ? c : (k->len > el) - (k->len < el);
}

static int tld_in(const host_info *hi, const char *const *list, size_t n)
{
	ss_str key = {hi->tld, hi->tld_len};

	return bsearch(&key, list, n, sizeof(*list), tld_cmp) != NULL;
}

/* Top-level domain rule for hosts written without scheme or "www.":
 * a common TLD, or a country code when a path follows. */
static int bare_tld_ok(const url_scan *sc, const host_rd *h, const host_info *hi, int has_path)
{
	size_t ntld = sizeof(url_tlds) / sizeof(url_tlds[0]);
	size_t nnot = sizeof(url_not_cc) / sizeof(url_not_cc[0]);

	if (sc->text_host && hi->tld_intl)
		return 1;
	if (h->nonascii || !hi->tld_alpha)
		return 0;
	if (tld_in(hi, url_tlds, ntld))
		return 1;
	return has_path && hi->tld_len == 2 && !tld_in(hi, url_not_cc, nnot);
}

/* Checks a host read for a URL of kind `kind`; an IPv4 literal is stored
 * normalised in ip (else ip[0] is NUL). Returns 1 when acceptable. */
static int host_check(const url_scan *sc, const host_rd *h, int kind, int has_path, char *ip,
                      size_t cap)
{
	host_info hi;

	ip[0] = '\0';
	if (!url_host_labels(h, &hi))
		return 0;
	if (hi.tld_num && !h->nonascii) {
		if (kind != UK_SCHEME && kind != UK_SLASHES)
			return 0;
		return ipv4_parse(h->b, h->n, ip, cap);
	}
	if (hi.nlab < 2 || !(hi.tld_alpha || hi.tld_intl))
		return 0;
	if (kind == UK_WWW)
		return hi.nlab >= 3 && h->n > 4 && !memcmp(h->b, "www.", 4);
	if (kind == UK_BARE)
		return bare_tld_ok(sc, h, &hi, has_path);
	return 1;
}

/* Lower-cases and NFC-normalises UTF-8 s[0..n) into out; returns the
 * length or -1. */
static int32_t url_fold(const char *s, size_t n, char *out, int32_t cap)
{
	UChar u1[URL_HOST_MAX * 2 + 8], u2[URL_HOST_MAX * 2 + 8];
	UErrorCode e = U_ZERO_ERROR;
	int32_t l1 = 0, l2, lo = 0;
	const UNormalizer2 *nfc;

	u_strFromUTF8(u1, (int32_t)(sizeof(u1) / sizeof(u1[0])), &l1, s, (int32_t)n, &e);
	if (U_FAILURE(e))
		return -1;
	l2 = u_strToLower(u2, (int32_t)(sizeof(u2) / sizeof(u2[0])), u1, l1, "", &e);
	nfc = unorm2_getNFCInstance(&e);
	if (U_FAILURE(e))
		return -1;
	l1 = unorm2_normalize(nfc, u2, l2, u1, (int32_t)(sizeof(u1) / sizeof(u1[0])), &e);
	if (U_FAILURE(e))
		return -1;
	u_strToUTF8(out, cap, &lo, u1, l1, &e);
	return U_FAILURE(e) || e == U_STRING_NOT_TERMINATED_WARNING ? -1 : lo;
}

/* Host with non-ASCII labels: Unicode lower case, punycode via libidn2. */
static int host_finish_idn(ss_arena *a, const host_rd *h, url_found *out)
{
	char fold[URL_FOLD_MAX];
	char *ascii = NULL;
	int32_t n = url_fold(h->b, h->n, fold, (int32_t)sizeof(fold));
	int rc;

	if (n < 0)
		return 1;
	out->host = arena_str(a, fold, (size_t)n);
	rc = idn2_to_ascii_8z(fold, &ascii, IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		idn2_free(ascii);
		ascii = NULL;
		rc = idn2_to_ascii_8z(fold, &ascii, IDN2_TRANSITIONAL);
	}
	if (rc == IDN2_OK && ascii && utf8_is_ascii(ascii, strlen(ascii))) {
		size_t k, al = strlen(ascii);

		for (k = 0; k < al; k++)
			ascii[k] = (char)a_lower((unsigned char)ascii[k]);
		out->host_ascii = arena_str(a, ascii, al);
	} else {
		out->host_ascii = out->host;
	}
	idn2_free(ascii);
	out->flags |= SS_URL_IDN;
	return out->host.p && out->host_ascii.p ? 0 : SS_ENOMEM;
}

/* ASCII host with "xn--" labels: Unicode via libidn2. */
static int host_finish_puny(ss_arena *a, const host_rd *h, url_found *out)
{
	char fold[URL_FOLD_MAX];
	char *u = NULL;
	int32_t n = -1;

	out->host_ascii = arena_str(a, h->b, h->n);
	if (idn2_to_unicode_8z8z(h->b, &u, 0) == IDN2_OK && u && strlen(u) < URL_HOST_MAX &&
	    utf8_valid(u, strlen(u)))
		n = url_fold(u, strlen(u), fold, (int32_t)sizeof(fold));
	idn2_free(u);
	out->host = n > 0 ? arena_str(a, fold, (size_t)n) : out->host_ascii;
	out->flags |= SS_URL_IDN;
	return out->host.p && out->host_ascii.p ? 0 : SS_ENOMEM;
}

static int has_punycode(const char *b, size_t n)
{
	size_t i;

	for (i = 0; i + 4 < n; i++)
		if ((i == 0 || b[i - 1] == '.') && !memcmp(b + i, "xn--", 4))
			return 1;
	return 0;
}

/* Fills out->host and out->host_ascii. Returns 0, 1 when the host cannot
 * be normalised, or SS_ENOMEM. */
int url_host_finish(ss_arena *a, const host_rd *h, const char *ip, url_found *out)
{
	if (ip[0]) {
		out->host = arena_str(a, ip, strlen(ip));
		out->flags |= SS_URL_IP;
	} else if (h->nonascii) {
		return host_finish_idn(a, h, out);
	} else if (has_punycode(h->b, h->n)) {
		return host_finish_puny(a, h, out);
	} else {
		out->host = arena_str(a, h->b, h->n);
	}
	out->host_ascii = out->host;
	return out->host.p ? 0 : SS_ENOMEM;
}

/* ---- port, path and the whole URL ------------------------------------- */

static void w_put(url_w *w, const void *p, size_t n)
{
	if (w->full || n > URL_MAX - 1 - w->n) {
		w->full = 1;
		return;
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void w_puts(url_w *w, const char *s)
{
	w_put(w, s, strlen(s));
}

/* Reads ":port" at s[i]; returns the position after it, or i. */
static size_t port_read(const url_src *src, size_t i)
{
	size_t k = i + 1;
	unsigned v = 0;

	if (i >= src->len || src->s[i] != ':')
		return i;
	while (k < src->len && a_digit((unsigned char)src->s[k]) && k - i <= 5)
		v = v * 10 + (unsigned)(src->s[k++] - '0');
	if (k == i + 1 || k - i > 6 || v > 65535)
		return i;
	if (k < src->len && (a_alnum((unsigned char)src->s[k]) || src->s[k] == '.'))
		return i;
	return k;
}

/* An ASCII byte of an href path that is written %-encoded. */
static int href_escape(unsigned char c)
{
	return c <= ' ' || c == 0x7F || c == '"' || c == '<' || c == '>';
}

/* Adds one ASCII character of a path; returns 0 when it ends the path. */
static int path_ascii(const url_src *src, url_w *w, unsigned c, unsigned *flags)
{
	char esc[4];

	/* not url_in_set(): this runs for every byte of every path */
	if (c > ' ' && c < 0x7F && c != '"' && c != '<' && c != '>' && c != '\\') {
		char ch = (char)c;

		w_put(w, &ch, 1);
		return 1;
	}
	if (c == '\\') {
		w_put(w, "/", 1);
		*flags |= SS_URL_OBFUSCATED;
		return 1;
	}
	if (!src->href)
		return 0;
	if (c != '\t' && c != '\n' && c != '\r' && href_escape((unsigned char)c)) {
		snprintf(esc, sizeof(esc), "%%%02X", c);
		w_put(w, esc, 3);
	}
	return 1;
}

/* The ASCII bytes path_ascii() copies as they are: '!' to '~' but for
 * '"' '<' '>' '\\', as a bitmap of two 64-bit words. */
static const uint64_t path_plain[2] = {0xAFFFFFFA00000000ULL, 0x7FFFFFFFEFFFFFFFULL};

/* Returns the end of the run of path_plain bytes at s[i..len). */
static size_t path_plain_run(const char *s, size_t len, size_t i)
{
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 || !((path_plain[c >> 6] >> (c & 63)) & 1))
			break;
		i++;
	}
	return i;
}

/* Reads a path, query and fragment starting at s[i] into w; returns the
 * position where it ends. Runs of plain bytes are copied at once (the
 * same as path_ascii() byte by byte: w_put() keeps what fits). */
static size_t path_read(const url_src *src, size_t i, url_w *w, unsigned *flags)
{
	char esc[4];

	while (i < src->len) {
		unsigned char c = (unsigned char)src->s[i];
		size_t n, run;
		unsigned cp;

		if ((run = path_plain_run(src->s, src->len, i) - i) != 0) {
			size_t room = w->full ? 0 : URL_MAX - 1 - w->n;

			w_put(w, src->s + i, run < room ? run : room);
			if (run > room)
				w->full = 1;
			i += run;
			continue;
		}
		if (c < 0x80) {
			if (!path_ascii(src, w, c, flags))
				break;
			i++;
			continue;
		}
		cp = url_getc(src->s, src->len, i, &n);
		if (cp == UC_ZW) {
			*flags |= SS_URL_OBFUSCATED;
		} else if (cp < 0x80) {
			if (!path_ascii(src, w, cp, flags))
				break;
		} else if (src->href && !utf8_valid_prefix_len(src->s + i, src->len - i)) {
			snprintf(esc, sizeof(esc), "%%%02X", c);
			w_put(w, esc, 3);
		} else if (!src->href && path_stop_cp(cp)) {
			break;
		} else {
			w_put(w, src->s + i, n);
		}
		i += n;
	}
	return i;
}

/* Removes sentence punctuation from the end of the path w->b[from..):
 * ". , ; : ! ? ' \" * >" and unbalanced ')' or ']'. */
static void path_trim(url_w *w, size_t from)
{
	long par = 0, brk = 0;
	size_t k;

	for (k = from; k < w->n; k++) {
		par += w->b[k] == '(' ? 1 : w->b[k] == ')' ? -1 : 0;
		brk += w->b[k] == '[' ? 1 : w->b[k] == ']' ? -1 : 0;
	}
	while (w->n > from) {
		char c = w->b[w->n - 1];

		if (c == ')' || c == ']') {
			long *bal = c == ')' ? &par : &brk;

			if (*bal >= 0)
				break;
			(*bal)++;
		} else if (!url_in_set((unsigned char)c, ".,;:!?'\"*>")) {
			break;
		}
		w->n--;
	}
}

/* Reads the host part for hd into *h (or an IPv6 literal into ip6).
 * Returns the position after the host, 0 when there is none. */
static size_t url_host_read(const url_scan *sc, url_head *hd, host_rd *h, char *ip6, size_t cap)
{
	const url_src *src = &sc->src;
	unsigned mode = HM_WIDE | HM_PCT | HM_IDN | (src->href ? 0 : HM_LOOSE);
	size_t i = hd->host, e;

	ip6[0] = '\0';
	if (hd->kind == UK_BARE)
		mode = sc->text_host ? HM_IDN : 0;
	if (hd->kind != UK_BARE)
		i = userinfo_skip(src, i, &hd->flags);
	if (hd->kind == UK_WWW && i != hd->host)
		hd->kind = UK_SLASHES; /* "www.paypal.com@evil.example" */
	if (i < src->len && src->s[i] == '[' && hd->kind != UK_BARE && hd->kind != UK_WWW) {
		e = ipv6_read(src, i, ip6, cap);
		h->end = e ? e : i + 1;
		return e;
	}
	url_host_scan(h, src, i, mode);
	return h->n ? h->end : 0;
}

/* Writes the normalised URL into w (scheme, host, port, path). */
static size_t url_write(const url_scan *sc, const url_head *hd, const url_found *out,
                        const char *ip6, size_t hend, size_t pend, url_w *w, unsigned *flags)
{
	const url_src *src = &sc->src;
	size_t i = pend, n, from;
	unsigned cp;

	w_puts(w, hd->scheme);
	w_puts(w, "://");
	w_puts(w, ip6[0] ? "[" : "");
	w_put(w, out->host.p, out->host.len);
	w_puts(w, ip6[0] ? "]" : "");
	w_put(w, src->s + hend, pend - hend);
	from = w->n;
	cp = src_peek(src, &i, &n, flags);
	if (n && (cp == '/' || cp == '\\' || cp == '?' || cp == '#'))
		i = path_read(src, i, w, flags);
	else
		i = pend;
	if (!src->href)
		path_trim(w, from);
	return i;
}

/* Does a path start at s[i] (after host and port)? */
static int path_follows(const url_src *src, size_t i)
{
	return i < src->len && (src->s[i] == '/' || src->s[i] == '\\');
}

/* Reads the URL that hd starts. Returns 1 and fills *out when it is one,
 * 0 when not, SS_ENOMEM; *end is where reading stopped. */
static int url_at(url_scan *sc, url_head *hd, url_found *out, size_t *end)
{
	url_w w;
	host_rd h;
	char ip[64], ip6[64];
	size_t hend, pend;
	int rc;

	memset(out, 0, sizeof(*out));
	h.n = 0;
	h.flags = 0;
	hend = url_host_read(sc, hd, &h, ip6, sizeof(ip6));
	*end = h.end;
	if (!hend)
		return 0;
	pend = port_read(&sc->src, hend);
	if (!ip6[0]) {
		if (hd->kind == UK_BARE && hend < sc->src.len && sc->src.s[hend] == '@')
			return 0;
		if (!host_check(sc, &h, hd->kind, path_follows(&sc->src, pend), ip, sizeof(ip)))
			return 0;
		if (ip[0] && strcmp(ip, h.b))
			hd->flags |= SS_URL_OBFUSCATED;
		rc = url_host_finish(sc->a, &h, ip, out);
		if (rc)
			return rc < 0 ? rc : 0;
	} else {
		out->host = out->host_ascii = arena_str(sc->a, ip6, strlen(ip6));
		out->flags |= SS_URL_IP;
		if (!out->host.p)
			return SS_ENOMEM;
	}
	out->flags |= hd->flags | h.flags;
	w.n = 0;
	w.full = 0;
	*end = url_write(sc, hd, out, ip6, hend, pend, &w, &out->flags);
	out->url = arena_str(sc->a, w.b, w.n);
	return out->url.p ? 1 : SS_ENOMEM;
}

/* ---- url_scan_text ---------------------------------------------------- */

/* May "www" or a bare host start right after the code point before s[i]? */
static int host_boundary(const char *s, size_t i, int bare)
{
	unsigned cp = prev_cp(s, i);

	if (!cp)
		return 1;
	if (cp < 0x80)
		return !a_alnum(cp) && !url_in_set(cp, bare ? "-_.@/\\%&=?#~+$*:" : "-_.@/\\%&=+~");
	if (cp >= 0xFF10 && cp <= 0xFF5A && a_alnum(cp - 0xFEE0))
		return 0;
	return !bare || !url_is_letter(cp) || url_is_cjk(cp);
}

/* A found URL: move past it. */
static int scan_found(url_scan *sc, int r, size_t i, size_t end, size_t *next)
{
	if (r == 1) {
		*next = end > i ? end : i + 1;
		sc->floor = sc->floor_url = *next;
	}
	return r;
}

/* ':' (or fullwidth '：') at i: look back for a scheme that ends there,
 * over letters, '*', spaces and non-ASCII bytes (disguises) only. */
static int scan_colon(url_scan *sc, size_t i, url_found *u, size_t *next)
{
	const char *s = sc->src.s;
	size_t lo = i > URL_SCHEME_BACK ? i - URL_SCHEME_BACK : 0, p = i, end = 0;
	url_head hd;
	int r;

	if (lo < sc->floor_url)
		lo = sc->floor_url;
	while (p > lo) {
		unsigned char c = (unsigned char)s[--p];

		if (!a_alpha(c) && c != '*' && c != ' ' && !(c & 0x80))
			break;
		if (c != 'h' && c != 'H' && c != 'f' && c != 'F' && c != 0xEF)
			continue;
		if (!scheme_head(&sc->src, p, &hd) || hd.colon != i)
			continue;
		r = url_at(sc, &hd, u, &end);
		return scan_found(sc, r, i, end, next);
	}
	return 0;
}

/* Are there three 'w' at i (zero-width characters and fullwidth allowed)? */
static int www_prefix(const url_src *src, size_t i)
{
	unsigned f = 0;
	size_t n;
	int k;

	for (k = 0; k < 3; k++) {
		if (a_lower(src_peek(src, &i, &n, &f)) != 'w')
			return 0;
		i += n;
	}
	return 1;
}

/* 'w' at i: "www." without a scheme. */
static int scan_www(url_scan *sc, size_t i, url_found *u, size_t *next)
{
	url_head hd = {"http", i, 0, SS_URL_SCHEMELESS, UK_WWW};
	size_t end;
	int r;

	if (i + 1 < sc->src.len && !((unsigned char)sc->src.s[i + 1] & 0x80) &&
	    (sc->src.s[i + 1] | 0x20) != 'w')
		return 0;
	if (i < sc->floor || !host_boundary(sc->src.s, i, 0) || !www_prefix(&sc->src, i))
		return 0;
	r = url_at(sc, &hd, u, &end);
	if (r == 0) {
		*next = end > i ? end : i + 1;
		sc->floor = *next;
	}
	return scan_found(sc, r, i, end, next);
}

static int bare_tok(unsigned char c)
{
	return a_alnum(c) || c == '-';
}

/* Skips the rest of a host-like token from i. */
static size_t skip_tok(const char *s, size_t len, size_t i)
{
	while (i < len && (bare_tok((unsigned char)s[i]) || s[i] == '.' || s[i] == '_'))
		i++;
	return i;
}

/* Where does the host-like token that ends at j start? Returns SIZE_MAX
 * when it cannot be a host (part of a longer token, too long). */
static size_t bare_start(const url_scan *sc, size_t j)
{
	const char *s = sc->src.s;
	size_t t = j;

	while (t > sc->floor && j - t < URL_HOST_MAX && bare_tok((unsigned char)s[t - 1]))
		t--;
	if (j - t >= URL_HOST_MAX || s[t] == '-')
		return SIZE_MAX;
	if (t > 0 && bare_tok((unsigned char)s[t - 1]))
		return SIZE_MAX;
	return host_boundary(s, t, 1) ? t : SIZE_MAX;
}

/* '.' or a bracketed dot at i: a host without scheme ("example.com/x"). */
static int scan_bare(url_scan *sc, size_t i, url_found *u, size_t *next)
{
	const char *s = sc->src.s;
	size_t len = sc->src.len, j = i, k, end, t;
	url_head hd = {"http", 0, 0, SS_URL_SCHEMELESS, UK_BARE};
	int r;

	if (s[i] == '.') {
		if (i == 0 || i + 1 >= len || !a_alnum((unsigned char)s[i - 1]) ||
		    !a_alnum((unsigned char)s[i + 1]))
			return 0;
	} else {
		if (dot_form(s, len, i, &k) != DOT_BRACKET)
			return 0;
		while (j > sc->floor && i - j < 3 && s[j - 1] == ' ')
			j--;
		if (j == 0 || !a_alnum((unsigned char)s[j - 1]))
			return 0;
	}
	if (j <= sc->floor)
		return 0;
	t = bare_start(sc, j);
	if (t == SIZE_MAX) {
		*next = skip_tok(s, len, i + 1);
		sc->floor = *next;
		return 0;
	}
	hd.host = t;
	r = url_at(sc, &hd, u, &end);
	if (r == 0) {
		*next = end > i ? end : i + 1;
		sc->floor = *next;
	}
	return scan_found(sc, r, i, end, next);
}

/* A byte of the lead byte 0xEF at i: fullwidth ':' or 'w'. */
static int scan_wide(url_scan *sc, size_t i, url_found *u, size_t *next)
{
	size_t n;
	unsigned cp = url_getc(sc->src.s, sc->src.len, i, &n);

	*next = i + n;
	if (cp == ':')
		return scan_colon(sc, i, u, next);
	if (cp == 'w' || cp == 'W')
		return scan_www(sc, i, u, next);
	return 0;
}

/* Looks at trigger byte s[i]; sets *next to where the scan goes on. */
static int scan_at(url_scan *sc, size_t i, url_found *u, size_t *next)
{
	*next = i + 1;
	switch (url_trig[(unsigned char)sc->src.s[i]]) {
	case T_COLON:
		if (i + 1 < sc->src.len && !((unsigned char)sc->src.s[i + 1] & 0x80) &&
		    !url_in_set((unsigned char)sc->src.s[i + 1], "/\\ "))
			return 0;
		return scan_colon(sc, i, u, next);
	case T_DOT:
	case T_BRACKET:
		return scan_bare(sc, i, u, next);
	case T_W:
		return scan_www(sc, i, u, next);
	case T_WIDE:
		return scan_wide(sc, i, u, next);
	}
	return 0;
}

/* Returns the position of the next byte from i on that scan_at() might
 * take, 16 bytes at a time where SSE2 is there: ':' before a slash, space
 * or non-ASCII byte; '.' before a letter or digit; "ww" (or 'w' and a
 * non-ASCII byte); '(' '[' '{'; and 0xEF when it starts a fullwidth ':',
 * 'W' or 'w' (the only fullwidth forms scan_wide() takes). The prefilter may let through more than
 * scan_at() takes, never less. */
static size_t url_next_trigger(const char *s, size_t len, size_t i)
{
#ifdef __SSE2__
	const __m128i c20 = _mm_set1_epi8(0x20), zero = _mm_setzero_si128();

	for (; i + 18 <= len; i += 16) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
		__m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 2));
		__m128i l0, l1, wide1, m, after, wide = _mm_setzero_si128();
		int bits, high = _mm_movemask_epi8(v0);

		/* 0xEF only as U+FF1A, U+FF37 or U+FF57 (EF BC 9A, EF BC B7,
		 * EF BD 97), not as the fullwidth punctuation of CJK text */
		if (high)
			wide = _mm_and_si128(
			    _mm_cmpeq_epi8(v0, _mm_set1_epi8((char)0xEF)),
			    _mm_or_si128(
			        _mm_and_si128(
			            _mm_cmpeq_epi8(v1, _mm_set1_epi8((char)0xBC)),
			            _mm_or_si128(_mm_cmpeq_epi8(v2, _mm_set1_epi8((char)0x9A)),
			                         _mm_cmpeq_epi8(v2, _mm_set1_epi8((char)0xB7)))),
			        _mm_and_si128(_mm_cmpeq_epi8(v1, _mm_set1_epi8((char)0xBD)),
			                      _mm_cmpeq_epi8(v2, _mm_set1_epi8((char)0x97)))));
		if (high == 0xFFFF) {
			/* 16 non-ASCII bytes (CJK text): only those can start */
			bits = _mm_movemask_epi8(wide);
			if (bits)
				return i + (size_t)__builtin_ctz((unsigned)bits);
			continue;
		}
		l0 = _mm_or_si128(v0, c20);
		l1 = _mm_or_si128(v1, c20);
		wide1 = _mm_cmplt_epi8(v1, zero);

		after = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v1, _mm_set1_epi8('/')),
		                                  _mm_cmpeq_epi8(v1, _mm_set1_epi8('\\'))),
		                     _mm_or_si128(_mm_cmpeq_epi8(v1, c20), wide1));
		m = _mm_and_si128(_mm_cmpeq_epi8(v0, _mm_set1_epi8(':')), after);
		m = _mm_or_si128(m, _mm_and_si128(_mm_cmpeq_epi8(v0, _mm_set1_epi8('.')),
		                                  _mm_cmpgt_epi8(v1, _mm_set1_epi8('/'))));
		m = _mm_or_si128(
		    m, _mm_and_si128(_mm_cmpeq_epi8(l0, _mm_set1_epi8('w')),
		                     _mm_or_si128(_mm_cmpeq_epi8(l1, _mm_set1_epi8('w')), wide1)));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(l0, _mm_set1_epi8('{')),
		                                 _mm_cmpeq_epi8(v0, _mm_set1_epi8('('))));
		m = _mm_or_si128(m, wide);
		bits = _mm_movemask_epi8(m);
		if (bits)
			return i + (size_t)__builtin_ctz((unsigned)bits);
	}
#endif
	while (i < len && !url_trig[(unsigned char)s[i]])
		i++;
	return i;
}

int url_scan_text(ss_arena *a, const char *text, size_t len, url_cb cb, void *ctx)
{
	url_scan sc = {a, {text, len, 0}, 0, 0, 0};
	size_t i = 0, next;
	url_found u;
	int r;

	while (i < len) {
		i = url_next_trigger(text, len, i);
		if (i >= len)
			break;
		r = scan_at(&sc, i, &u, &next);
		if (r < 0)
			return r;
		if (r > 0 && (r = cb(ctx, &u)) != 0)
			return r;
		i = next > i ? next : i + 1;
	}
	return 0;
}

/* ---- url_parse and url_text_host -------------------------------------- */

/* Reads the URL hd starts at the start of the text, retrying "www..."
 * that is not "www." + host (wwwfoo.com) as a bare host. */
static int url_at_start(url_scan *sc, url_head *hd, url_found *out, size_t *end)
{
	int r = url_at(sc, hd, out, end);

	if (r == 0 && hd->kind == UK_WWW) {
		hd->kind = UK_BARE;
		r = url_at(sc, hd, out, end);
	}
	return r;
}

/* Is s[0..len) "scheme:" for a scheme that is not a web one? */
static int other_scheme(const char *s, size_t len)
{
	size_t i = 0;

	if (!len || !a_alpha((unsigned char)s[0]))
		return 0;
	while (i < len && (a_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-'))
		i++;
	return i < len && s[i] == ':';
}

/* Decides how an href starts; returns 0 when it is not a web URL. */
static int href_head(const url_src *src, url_head *hd)
{
	const char *s = src->s;

	if (scheme_head(src, 0, hd))
		return 1;
	memset(hd, 0, sizeof(*hd));
	hd->scheme = "http";
	if (other_scheme(s, src->len))
		return 0;
	if (src->len >= 2 && (s[0] == '/' || s[0] == '\\') && (s[1] == '/' || s[1] == '\\')) {
		hd->kind = UK_SLASHES;
		hd->host = 2;
		return 1;
	}
	hd->flags = SS_URL_SCHEMELESS;
	hd->kind = www_prefix(src, 0) ? UK_WWW : UK_BARE;
	return 1;
}

/* Copies s[0..len) without tabs and newlines (browsers drop them). */
static const char *href_clean(ss_arena *a, const char *s, size_t *len)
{
	char *c;
	size_t i, n = 0;

	if (!memchr(s, '\t', *len) && !memchr(s, '\n', *len) && !memchr(s, '\r', *len))
		return s;
	c = arena_alloc(a, *len + 1);
	if (!c)
		return NULL;
	for (i = 0; i < *len; i++)
		if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			c[n++] = s[i];
	*len = n;
	return c;
}

int url_parse(ss_arena *a, const char *s, size_t len, unsigned flags_in, url_found *out)
{
	url_scan sc = {a, {s, len, 1}, 0, 0, 0};
	url_head hd;
	size_t end;
	int r;

	memset(out, 0, sizeof(*out));
	while (len && (unsigned char)s[len - 1] <= ' ')
		len--;
	while (len && (unsigned char)*s <= ' ') {
		s++;
		len--;
	}
	if (!len || *s == '#')
		return 1;
	sc.src.s = href_clean(a, s, &len);
	sc.src.len = len;
	if (!sc.src.s)
		return SS_ENOMEM;
	if (!href_head(&sc.src, &hd))
		return 1;
	r = url_at_start(&sc, &hd, out, &end);
	if (r < 0)
		return r;
	if (r == 0 || end != sc.src.len) {
		memset(out, 0, sizeof(*out));
		return 1;
	}
	out->flags |= flags_in;
	return 0;
}

/* Is everything from i on trailing punctuation or space? */
static int only_trailing(const char *s, size_t len, size_t i)
{
	while (i < len && url_in_set((unsigned char)s[i], ".,;:!?)]>'\" \t\r\n"))
		i++;
	return i == len;
}

ss_str url_text_host(ss_arena *a, const char *text, size_t len)
{
	url_scan sc = {a, {text, len, 0}, 0, 0, 1};
	ss_str none = {NULL, 0};
	url_head hd;
	url_found u;
	size_t b = 0, end;

	while (b < len && (unsigned char)text[b] <= ' ')
		b++;
	if (b == len || len - b > URL_TEXT_MAX)
		return none;
	sc.src.s = text + b;
	sc.src.len = len - b;
	if (!scheme_head(&sc.src, 0, &hd)) {
		memset(&hd, 0, sizeof(hd));
		hd.scheme = "http";
		hd.kind = www_prefix(&sc.src, 0) ? UK_WWW : UK_BARE;
	}
	if (url_at_start(&sc, &hd, &u, &end) != 1 || !only_trailing(sc.src.s, sc.src.len, end))
		return none;
	return u.host;
}
