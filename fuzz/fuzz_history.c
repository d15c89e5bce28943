/*
 * fuzz_history.c: a history record from any message bytes (the decoded
 * Subject, the summary and search text): no crash, and the summary is
 * one JSON object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	engine_symbol sym = {"SPAMSIFT_BAYES", 1.0, "learned classifier", NULL, 0};
	engine_result res;
	history_scan s = {"http", "u", NULL, (const char *)data, size, &res, 1.0, 0, 1 << 16};
	history_rec *r;

	memset(&res, 0, sizeof(res));
	res.symbols = &sym;
	res.nsymbols = 1;
	r = history_rec_make(&s);
	if (r && (r->summary[0] != '{' || r->summary[r->summary_len - 1] != '}'))
		abort();
	history_rec_free(r);
	return 0;
}
