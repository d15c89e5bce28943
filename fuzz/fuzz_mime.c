/*
 * fuzz_mime.c: libFuzzer target for the whole parser: ss_parse() on any
 * bytes, then both serialisations, which must be valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>

#include "spamsift.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ss_message *m = NULL;
	char *out = NULL;
	size_t len = 0;

	if (ss_parse((const char *)data, size, NULL, &m))
		return 0;
	if (ss_message_json(m, &out, &len) == 0 && !utf8_valid(out, len))
		abort();
	free(out);
	out = NULL;
	if (ss_message_text(m, &out, &len) == 0 && !utf8_valid(out, len))
		abort();
	free(out);
	ss_message_free(m);
	return 0;
}
