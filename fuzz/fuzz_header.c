/*
 * fuzz_header.c: libFuzzer target for the header block scanner: every
 * field lies inside the input, the scan always ends, the body offset is
 * within bounds, and unfolding stays within the input's size.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mime/header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t pos = 0, last = 0;
	unsigned facts = 0;
	hdr_field f;
	ss_arena a;

	arena_init(&a);
	while (hdr_next(buf, size, &pos, &f, &facts)) {
		int cut;
		ss_str u;
		if (pos <= last && last != 0)
			abort();
		if (f.name < buf || f.value + f.value_len > buf + size)
			abort();
		u = hdr_unfold(&a, f.value, f.value_len, 1000, &cut);
		if (u.len > f.value_len)
			abort();
		last = pos;
	}
	if (pos > size)
		abort();
	arena_release(&a);
	return 0;
}
