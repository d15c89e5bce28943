/*
 * fuzz_url.c: libFuzzer target for src/text/url.c. Runs the URL and
 * address scanners, url_parse() and url_text_host() on the input and
 * checks every string they return: valid UTF-8, NUL-terminated, and a
 * non-empty host for every URL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/url.h"
#include "util/arena.h"
#include "util/utf8.h"

static void check_str(ss_str s, int need)
{
	if (!s.p) {
		if (need)
			abort();
		return;
	}
	if ((need && !s.len) || s.p[s.len] != '\0' || !utf8_valid(s.p, s.len))
		abort();
}

static void check_url(const url_found *u)
{
	check_str(u->url, 1);
	check_str(u->host, 1);
	check_str(u->host_ascii, 1);
	if (u->url.len < u->host.len || (memcmp(u->url.p, "http", 4) && memcmp(u->url.p, "ftp", 3)))
		abort();
}

static int on_url(void *ctx, const url_found *u)
{
	check_url(u);
	(*(size_t *)ctx)++;
	return 0;
}

static int on_addr(void *ctx, const addr_found *a)
{
	check_str(a->addr, 1);
	if (!memchr(a->addr.p, '@', a->addr.len))
		abort();
	(*(size_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	ss_arena a;
	url_found u;
	size_t n = 0;
	int r;

	arena_init(&a);
	if (url_scan_text(&a, s, size, on_url, &n) != 0)
		abort();
	if (url_scan_emails(&a, s, size, on_addr, &n) != 0)
		abort();
	r = url_parse(&a, s, size, SS_URL_HTML, &u);
	if (r == 0) {
		check_url(&u);
		if (!(u.flags & SS_URL_HTML))
			abort();
	} else if (r != 1) {
		abort();
	}
	check_str(url_text_host(&a, s, size), 0);
	arena_release(&a);
	return 0;
}
