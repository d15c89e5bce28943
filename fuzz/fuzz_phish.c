/*
 * fuzz_phish.c: libFuzzer target for the phishing and malware checks.
 *
 * An input that starts with a NUL byte is the content of one attachment
 * (the rest of the input, named after the archive kind its first byte
 * picks), handed straight to phish_check() so that the archive reader,
 * libarchive and libmagic see any bytes without a base64 round trip.
 * Any other input is a message: ss_parse(), then phish_check().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/hits.h"
#include "phish/phish.h"
#include "spamsift.h"
#include "util/arena.h"

static phish_ctx *ctx;

static void check(const ss_message *m)
{
	ss_arena a;
	ss_hits h;

	arena_init(&a);
	hits_init(&h, &a);
	if (phish_check(ctx, m, NULL, &h) != 0)
		abort(); /* only SS_ENOMEM, which the fuzzer's limits do not reach */
	for (size_t i = 0; i < h.n; i++)
		if (!h.v[i].name || (h.v[i].detail && strlen(h.v[i].detail) > 512))
			abort();
	arena_release(&a);
}

static void attachment(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"a.zip", "a.rar", "a.7z",  "a.tar.gz",
	                                    "a.xz",  "a.iso", "a.pdf", "a.pdf.exe"};
	const char *name = names[size ? data[0] % 8 : 0];
	ss_part p;
	ss_message m;

	memset(&p, 0, sizeof(p));
	memset(&m, 0, sizeof(m));
	p.parent = -1;
	p.flags = SS_PART_ATTACHMENT;
	p.content_type = p.charset = p.charset_used = p.encoding = (ss_str){"", 0};
	p.disposition = p.content_id = p.boundary = p.text = p.hidden = (ss_str){"", 0};
	p.filename = (ss_str){name, strlen(name)};
	p.data = (ss_str){(const char *)data + (size > 0), size - (size > 0)};
	p.decoded_size = p.data.len;
	m.parts = &p;
	m.nparts = 1;
	m.first_untrusted = -1;
	m.subject = (ss_str){"", 0};
	check(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ss_message *m = NULL;

	if (!ctx && !(ctx = phish_ctx_new()))
		abort();
	if (size && data[0] == 0) {
		attachment(data + 1, size - 1);
		return 0;
	}
	if (ss_parse((const char *)data, size, NULL, &m))
		return 0;
	check(m);
	ss_message_free(m);
	return 0;
}
