/*
 * fuzz_mbox.c: libFuzzer target for the mbox splitter (mbox_each). Checks
 * what must hold of any input: messages are numbered 0 (a lone one) or
 * 1, 2... in order, each is NUL-terminated at its length, and together
 * they are no longer than the input (unquoting only removes bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime/mbox.h"

typedef struct seen {
	size_t last, total, size;
} seen;

static int on_msg(void *ctx, size_t index, const char *msg, size_t len)
{
	seen *s = ctx;

	if (msg[len] != '\0' || len > s->size)
		abort();
	if (index ? index != s->last + 1 : s->last != 0)
		abort();
	s->last = index ? index : SIZE_MAX; /* a lone message is the last */
	s->total += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	seen s = {0, 0, size};

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (mbox_is(buf, size) && mbox_each(buf, size, on_msg, &s) != 0)
		abort();
	if (s.total > size)
		abort();
	free(buf);
	return 0;
}
