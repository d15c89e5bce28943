/*
 * fuzz_fentry.c: a fingerprint entry read back from a store (the Redis
 * one's values are untrusted): no crash, and an accepted entry's fields
 * are within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fpd/fstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fstore_entry e;

	if (!fstore_entry_decode(data, size, &e) &&
	    (e.ndigests > FPP_MAX_DIGESTS || strlen(e.reporter) > FPP_NAME_MAX || !(e.weight >= 0)))
		abort();
	return 0;
}
