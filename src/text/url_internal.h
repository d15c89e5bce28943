/*
 * url_internal.h: what url.c and email.c share (private to src/text).
 *
 * The e-mail address scanner (email.c) reads the domain of an address with
 * the URL host reader of url.c, so that both undo the same disguises
 * ("example[.]com", fullwidth letters, IDN) and normalise hosts the same
 * way. The ASCII helpers are static inline: they sit on hot paths.
 */
#ifndef SS_TEXT_URL_INTERNAL_H
#define SS_TEXT_URL_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "text/url.h"

#define URL_HOST_MAX 255 /* bytes of a host as read, before IDNA */

/* What url_host_scan() accepts besides plain labels and bracketed dots. */
enum {
	HM_WIDE = 1 << 0,  /* fullwidth dots and ideographic full stops */
	HM_LOOSE = 1 << 1, /* " . " and " dot " while no plain dot was seen */
	HM_PCT = 1 << 2,   /* %-encoded bytes */
	HM_IDN = 1 << 3,   /* non-ASCII labels */
};

/* The text being read. `href`: an HTML attribute (keep spaces in the
 * path, no trimming of trailing punctuation). */
typedef struct url_src {
	const char *s;
	size_t len;
	int href;
} url_src;

/* A host as read: lower-case ASCII and raw UTF-8, dots as '.'. */
typedef struct host_rd {
	char b[URL_HOST_MAX + 1];
	size_t n;
	size_t end;     /* position in the text after the host */
	unsigned flags; /* SS_URL_OBFUSCATED */
	unsigned mode;  /* HM_* */
	unsigned tight; /* dots written as a plain '.' */
	size_t lab;     /* bytes in the current label */
	int lab_ascii;  /* the current label has ASCII letters or digits */
	int nonascii;   /* b holds non-ASCII bytes */
	int too_long;
} host_rd;

/* What the labels of a host look like, see url_host_labels(). */
typedef struct host_info {
	unsigned nlab;
	const char *tld;
	size_t tld_len;
	int tld_alpha; /* the last label is ASCII letters only */
	int tld_num;   /* the last label starts with a digit */
	int tld_intl;  /* the last label is non-ASCII or punycode */
} host_info;

static inline int a_alpha(unsigned c)
{
	return (c | 0x20) - 'a' < 26;
}

static inline int a_digit(unsigned c)
{
	return c - '0' < 10;
}

static inline int a_alnum(unsigned c)
{
	return a_alpha(c) || a_digit(c);
}

static inline unsigned a_lower(unsigned c)
{
	return c - 'A' < 26 ? c | 0x20 : c;
}

/* Returns 1 when ASCII byte c is one of `set` (never for NUL). */
static inline int url_in_set(unsigned c, const char *set)
{
	return c && c < 0x80 && strchr(set, (int)c) != NULL;
}

/* Returns the position after at most `max` spaces (' ') from s[i] on,
 * stopping at len. */
size_t url_skip_spaces(const char *s, size_t len, size_t i, size_t max);

/* Reads a host starting at src->s[i] into *h: labels (lower-case ASCII,
 * raw UTF-8 when HM_IDN), dots written any way `mode` (HM_*) allows, all
 * stored as '.'. h->end is where it stops; h->flags gets
 * SS_URL_OBFUSCATED for disguises; h->too_long when over URL_HOST_MAX. */
void url_host_scan(host_rd *h, const url_src *src, size_t i, unsigned mode);

/* Splits h->b into labels and describes them in *hi. Returns 1 when each
 * label is 1-63 bytes (non-ASCII ones may be longer), none starts or ends
 * with '-', and non-ASCII bytes are valid UTF-8; else 0. */
int url_host_labels(const host_rd *h, host_info *hi);

/* Fills out->host (lower case Unicode) and out->host_ascii (punycode) from
 * *h, or from ip when ip[0] is not NUL (an IP literal, sets SS_URL_IP);
 * strings are allocated in a. Sets SS_URL_IDN for IDN hosts. Returns 0, 1
 * when the host cannot be normalised, or SS_ENOMEM. */
int url_host_finish(ss_arena *a, const host_rd *h, const char *ip, url_found *out);

#endif
