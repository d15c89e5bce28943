/*
 * fuzz_rjrecord.c: a Redis learn journal record's payload (bytes read
 * back from a file: untrusted), decoded from any bytes; no crash, what is
 * accepted stays within the input, and an accepted version 2 record
 * encodes back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/rjrecord.h"

static int within(const uint8_t *p, size_t len, const void *q, size_t n)
{
	return !n || ((const uint8_t *)q >= p && (const uint8_t *)q + n <= p + len);
}

static void same_again(const uint8_t *data, size_t size, const rj_record *r)
{
	uint64_t *keys = malloc((r->nkeys ? r->nkeys : 1) * sizeof(*keys));
	char *name = malloc(r->name_len + 1);
	uint8_t *in = NULL, *out;
	size_t ilen = 0, olen;

	if (!keys || !name)
		abort();
	for (size_t i = 0; i < r->nkeys; i++)
		keys[i] = rj_key(r, i);
	memcpy(name, r->name ? r->name : "", r->name_len);
	name[r->name_len] = 0;
	if (r->has_intent &&
	    !(in = rj_intent_encode(r->action, r->idigest, keys, r->nkeys, r->ntok, name, &ilen)))
		abort();
	out = rj_encode(r, in, ilen, &olen);
	/* A batch without check or expected record has zeroes there. */
	if (!out || olen != size ||
	    ((!r->has_batch || (r->has_check && r->expect_len)) && memcmp(out, data, size)))
		abort();
	free(out);
	free(in);
	free(name);
	free(keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rj_record r;

	if (rj_decode(data, size, &r))
		return 0;
	if ((r.has_batch &&
	     (!within(data, size, r.digest, RJ_DIGEST) || !within(data, size, r.expect, RJ_REC) ||
	      !within(data, size, r.ops, r.ops_len))) ||
	    (r.has_intent &&
	     (!within(data, size, r.keys, 8 * (size_t)r.nkeys) || r.ntok > r.nkeys ||
	      !within(data, size, r.name, r.name_len) || r.action > 2)))
		abort();
	if (r.version == 2)
		same_again(data, size, &r);
	return 0;
}
