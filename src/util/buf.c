/*
 * buf.c: the growable heap buffer (see buf.h).
 */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamsift.h"

void sbuf_init(sbuf *b)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void sbuf_release(sbuf *b)
{
	free(b->p);
	sbuf_init(b);
}

void sbuf_reset(sbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

int sbuf_reserve(sbuf *b, size_t n)
{
	size_t ncap;
	char *np;

	if (n < b->cap - b->len && b->cap)
		return 0;
	if (n > ((size_t)-1) / 2 - b->len)
		return SS_ENOMEM;
	ncap = b->cap ? b->cap : 64;
	while (ncap <= b->len + n)
		ncap *= 2;
	np = realloc(b->p, ncap);
	if (!np)
		return SS_ENOMEM;
	b->p = np;
	b->cap = ncap;
	return 0;
}

int sbuf_add(sbuf *b, const void *p, size_t n)
{
	if (sbuf_reserve(b, n))
		return SS_ENOMEM;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int sbuf_addc(sbuf *b, char c)
{
	return sbuf_add(b, &c, 1);
}

int sbuf_adds(sbuf *b, const char *s)
{
	return sbuf_add(b, s, strlen(s));
}

int sbuf_addf(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sbuf_reserve(b, (size_t)n))
		return SS_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int sbuf_add_utf8(sbuf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return sbuf_add(b, u, n);
}

char *sbuf_detach(sbuf *b, size_t *len)
{
	char *p = b->p;

	if (!p && sbuf_reserve(b, 0) == 0) {
		p = b->p;
		p[0] = '\0';
	}
	if (len)
		*len = b->len;
	sbuf_init(b);
	return p;
}
