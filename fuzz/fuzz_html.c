/*
 * fuzz_html.c: libFuzzer target for src/mime/html.c. Runs html_to_text on
 * the input and checks what the module promises: visible and hidden text
 * are valid UTF-8 (and so are link strings) when the input is; text is
 * collapsed (no control bytes but '\n', no double spaces, no white space
 * at either end, at most one blank line); at most max_links links with
 * anchor text of at most 1 KiB. Everything is released, so leaks show up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime/html.h"
#include "util/utf8.h"

#define MAX_LINKS 50

static void check_utf8(const char *p, size_t n)
{
	if (n && !utf8_valid(p, n))
		abort();
}

static void check_collapsed(const char *p, size_t n)
{
	size_t i;

	if (!n)
		return;
	if (p[0] == ' ' || p[0] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\n')
		abort();
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 && c != '\n')
			abort();
		if (i && (c == ' ' || c == '\n') &&
		    (p[i - 1] == ' ' || (c == ' ' && p[i - 1] == '\n')))
			abort();
		if (i >= 2 && c == '\n' && p[i - 1] == '\n' && p[i - 2] == '\n')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *html = (const char *)data;
	int valid = utf8_valid(html, size);
	ss_arena a;
	html_out out;
	size_t i;

	arena_init(&a);
	html_out_init(&out);
	if (html_to_text(&a, html, size, MAX_LINKS, &out) == 0) {
		check_collapsed(out.text.p, out.text.len);
		check_collapsed(out.hidden.p, out.hidden.len);
		if (out.nlinks > MAX_LINKS)
			abort();
		for (i = 0; i < out.nlinks; i++)
			if (out.links[i].text.len > 1024 || !out.links[i].href.len)
				abort();
	}
	if (valid) {
		check_utf8(out.text.p, out.text.len);
		check_utf8(out.hidden.p, out.hidden.len);
		for (i = 0; i < out.nlinks; i++) {
			check_utf8(out.links[i].href.p, out.links[i].href.len);
			check_utf8(out.links[i].text.p, out.links[i].text.len);
		}
	}
	html_out_release(&out);
	arena_release(&a);
	return 0;
}
