/*
 * fuzz_encword.c: libFuzzer target for RFC 2047 header decoding and MIME
 * parameters (RFC 2231): output is always well-formed UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mime/encword.h"
#include "mime/params.h"
#include "util/utf8.h"

static const char *const names[] = {"filename", "name", "charset", "boundary"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	sbuf out = SBUF_INIT, s1 = SBUF_INIT, s2 = SBUF_INIT;
	unsigned fl = 0;
	ss_arena a;

	if (ew_decode(&out, &s1, in, size, &fl) == 0 && !utf8_valid(out.p ? out.p : "", out.len))
		abort();
	arena_init(&a);
	for (int i = 0; i < 4; i++) {
		ss_str v = {NULL, 0};
		if (params_get(&a, in, size, names[i], &s1, &s2, &v) == 1 &&
		    !utf8_valid(v.p, v.len))
			abort();
	}
	params_token(&a, in, size);
	arena_release(&a);
	sbuf_release(&out);
	sbuf_release(&s1);
	sbuf_release(&s2);
	return 0;
}
