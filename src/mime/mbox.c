/*
 * mbox.c: cutting an mbox into messages (see mbox.h).
 */
#include <string.h>

#include "mime/mbox.h"
#include "spamsift.h"
#include "util/buf.h"

int mbox_is(const char *buf, size_t len)
{
	return len > 5 && !memcmp(buf, "From ", 5);
}

/* The '\n' in [p, end) that ends the line before the next "From " line,
 * or NULL; sets *quoted when a ">From " line comes before it. A walk by
 * memchr, several times cheaper than memmem on mail's short lines. */
static const char *next_from(const char *p, const char *end, int *quoted)
{
	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		size_t left = (size_t)(end - p) - 1;
		if (left >= 5 && !memcmp(p + 1, "From ", 5))
			return p;
		if (left >= 6 && p[1] == '>' && !memcmp(p + 2, "From ", 5))
			*quoted = 1;
		p++;
	}
	return NULL;
}

/* Copies buf[start, stop) into m, each ">From " line unquoted. */
static int unquote(const char *buf, size_t start, size_t stop, sbuf *m)
{
	for (size_t k = start; k < stop;) {
		const char *nl = memchr(buf + k, '\n', stop - k);
		size_t e = nl ? (size_t)(nl - buf) + 1 : stop, skip = 0;
		if (e - k > 5 && buf[k] == '>' && !memcmp(buf + k + 1, "From ", 5))
			skip = 1;
		if (sbuf_add(m, buf + k + skip, e - k - skip))
			return SS_ENOMEM;
		k = e;
	}
	return 0;
}

int mbox_each(const char *buf, size_t len, mbox_msg_fn fn, void *ctx)
{
	size_t i = 0, n = 0;
	int rc = 0, quoted = 0;
	const char *next = next_from(buf, buf + len, &quoted);
	int several = next != NULL;

	while (!rc && i < len) {
		const char *body = memchr(buf + i, '\n', len - i), *end;
		size_t start, stop;
		sbuf m = SBUF_INIT;
		if (!body)
			break;
		start = (size_t)(body - buf) + 1;
		if (!several && !quoted)
			return fn(ctx, 0, buf + start, len - start);
		end =
		    next && next >= buf + start ? next : next_from(buf + start, buf + len, &quoted);
		stop = end ? (size_t)(end - buf) + 1 : len;
		rc = unquote(buf, start, stop, &m);
		if (!rc)
			rc = fn(ctx, several ? ++n : 0, m.p ? m.p : "", m.len);
		sbuf_release(&m);
		i = stop;
		next = NULL;
	}
	return rc;
}
