/*
 * fuzz_rhist.c: values read back from the Redis history (untrusted): the
 * index value, the raw value and an id, from any bytes; no crash, and what
 * is accepted stays within the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "history/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	history_item it;
	char user[HISTORY_MAX_USER + 2];
	size_t off, len;

	if (!hr_idx_decode(p, size, &it) &&
	    (it.search != p + HR_IDX_HEAD || it.search_len + HR_IDX_HEAD != size || it.action > 2))
		abort();
	if (!hr_raw_decode(p, size, user, sizeof(user), &off, &len) && off + len != size)
		abort();
	if (hr_id_parse(p, size) >= (1ULL << 53))
		abort();
	return 0;
}
