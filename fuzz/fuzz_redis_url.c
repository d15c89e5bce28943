/*
 * fuzz_redis_url.c: libFuzzer target for src/store/redis_url.c and the
 * parsing half of src/store/redis_cluster.c. A URL that parses has a
 * non-empty, NUL-terminated host without '/' or '@', a port in 1..65535
 * and a database in 0..15; one that does not says why. The same bytes as
 * a server's MOVED/ASK reply give a slot below 16384, a non-empty host and
 * a port in range, or -1; as a key, a slot below 16384.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/redis_cluster.h"
#include "store/redis_url.h"

static void redirect(const uint8_t *data, size_t size)
{
	char host[64];
	unsigned slot;
	int ask, port;

	if (rc_key_slot((const char *)data, size) >= RC_SLOTS)
		abort();
	if (rc_parse_redirect((const char *)data, size, &ask, &slot, host, sizeof(host), &port))
		return;
	if (slot >= RC_SLOTS || !host[0] || strlen(host) >= sizeof(host) || port < 1 ||
	    port > 65535 || (ask != 0 && ask != 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redis_url u;
	const char *why = NULL;

	redirect(data, size);
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
