/*
 * fuzz_redis_url.c: libFuzzer target for src/store/redis_url.c. A URL that
 * parses has a non-empty, NUL-terminated host without '/' or '@', a port
 * in 1..65535 and a database in 0..15; one that does not says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redis_url u;
	const char *why = NULL;

	if (redis_url_parse((const char *)data, size, &u, &why)) {
		if (!why || !*why)
			abort();
		return 0;
	}
	if (!u.host[0] || strlen(u.host) >= sizeof(u.host) || strpbrk(u.host, "/@"))
		abort();
	if (u.port < 1 || u.port > 65535 || u.db < 0 || u.db > 15)
		abort();
	if (strlen(u.pass) >= sizeof(u.pass) || strlen(u.user) >= sizeof(u.user))
		abort();
	return 0;
}
