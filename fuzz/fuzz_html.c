/*
 * fuzz_html.c: libFuzzer target for src/mime/html.c. Runs html_to_text on
 * the input; when the input is valid UTF-8, the visible text, the hidden
 * text and every link's strings must be valid UTF-8 too. Everything is
 * released, so leaks show up.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mime/html.h"
#include "util/utf8.h"

static void check_utf8(const char *p, size_t n)
{
	if (n && !utf8_valid(p, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *html = (const char *)data;
	ss_arena a;
	html_out out;
	size_t i;

	arena_init(&a);
	html_out_init(&out);
	if (html_to_text(&a, html, size, 50, &out) == 0 && utf8_valid(html, size)) {
		check_utf8(out.text.p, out.text.len);
		check_utf8(out.hidden.p, out.hidden.len);
		for (i = 0; i < out.nlinks; i++) {
			check_utf8(out.links[i].href.p, out.links[i].href.len);
			check_utf8(out.links[i].text.p, out.links[i].text.len);
		}
	}
	if (out.nlinks > 50)
		abort();
	html_out_release(&out);
	arena_release(&a);
	return 0;
}
