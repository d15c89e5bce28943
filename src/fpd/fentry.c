/*
 * fentry.c: a stored fingerprint entry read back from a store, and the
 * big-endian numbers both stores write in keys and values (I/O-free).
 * The Redis store's values are untrusted (another program or a damaged key
 * may have written them), so an entry is only taken when its size is the
 * entry's and its fields are within bounds (fuzzed by fuzz_fentry.c).
 */
#include <string.h>

#include "fpd/fstore.h"
#include "spamsift.h"

int fstore_entry_decode(const void *p, size_t len, fstore_entry *e)
{
	if (!p || len != sizeof(*e))
		return -1;
	memcpy(e, p, sizeof(*e));
	if (e->has_text > 1 || e->ndigests > FPP_MAX_DIGESTS ||
	    !memchr(e->reporter, 0, sizeof(e->reporter)) || e->weight != e->weight ||
	    e->weight < 0 || e->weight > 4000000)
		return -1;
	return 0;
}

void fstore_be64(uint64_t v, uint8_t out[8])
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

uint64_t fstore_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}
