/*
 * fuzz_charset.c: libFuzzer target for text/charset.
 *
 * The first byte picks a charset label (or none, or an unknown one), the
 * rest is the text. Every output must be well-formed UTF-8; the <meta
 * charset> scanner and cs_nfc() get the same bytes. The double-byte fast
 * path must give what ICU's converter alone gives, flags included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/charset.h"
#include "util/buf.h"
#include "util/utf8.h"

static const char *const labels[] = {
    NULL,           "utf-8",        "us-ascii",    "iso-8859-1",  "windows-1252", "gb2312",
    "big5",         "euc-kr",       "shift_jis",   "euc-jp",      "iso-2022-jp",  "koi8-r",
    "windows-1251", "windows-1258", "viscii",      "tcvn",        "utf-16",       "utf-16le",
    "utf-7",        "hz-gb-2312",   "iso-2022-kr", "iso-8859-16", "tis-620",      "x-unknown",
};

static void check(const sbuf *b)
{
	if (b->len && !utf8_valid(b->p, b->len))
		abort();
}

/* Decodes again with the double-byte fast path off; aborts when the text
 * or the flags differ from `first`. */
static void check_same_without_fast_path(const sbuf *first, unsigned first_flags, const char *in,
                                         size_t size, const char *label)
{
	sbuf out = SBUF_INIT;
	const char *used;
	unsigned flags = 0;
	int rc;

	cs_dbcs_fast(0);
	rc = cs_to_utf8(&out, in, size, label, label ? strlen(label) : 0, &used, &flags);
	cs_dbcs_fast(1);
	if (rc == 0 && (flags != first_flags || out.len != first->len ||
	                (out.len && memcmp(out.p, first->p, out.len))))
		abort();
	sbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t nlabels = sizeof(labels) / sizeof(labels[0]);
	const char *label, *in, *used = NULL;
	sbuf out = SBUF_INIT;
	unsigned flags = 0;
	char meta[64];

	if (!size)
		return 0;
	label = labels[data[0] % nlabels];
	in = (const char *)data + 1;
	size--;
	if (cs_to_utf8(&out, in, size, label, label ? strlen(label) : 0, &used, &flags) == 0) {
		check(&out);
		if (!used)
			abort();
		check_same_without_fast_path(&out, flags, in, size, label);
	}
	sbuf_reset(&out);
	if (cs_nfc(&out, in, size) == 0)
		check(&out);
	sbuf_reset(&out);
	if (cs_header_to_utf8(&out, in, size) == 0)
		check(&out);
	if (cs_html_meta_charset(in, size, meta, sizeof(meta)) >= sizeof(meta))
		abort();
	sbuf_release(&out);
	return 0;
}
