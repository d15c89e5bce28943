/*
 * fuzz_config.c: libFuzzer target for spamsiftd's configuration file
 * parser: it always ends, an error names a line of the input, what it
 * keeps stays within its limits, and releasing frees everything (ASan's
 * leak check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	config c;
	config_error e;
	size_t lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	config_init(&c);
	if (config_parse(&c, (const char *)data, size, &e)) {
		if (!e.line || e.line > lines || !e.msg[0] || strlen(e.msg) >= sizeof(e.msg))
			abort();
	} else {
		if (c.nspamd > CONFIG_MAX_LISTEN || c.nmilter > CONFIG_MAX_LISTEN ||
		    c.nhttp > CONFIG_MAX_LISTEN || c.log_level < 0 || c.log_level > 3)
			abort();
		if (c.db && strlen(c.db) >= 4096)
			abort();
		config_check(&c, &e);
	}
	config_release(&c);
	return 0;
}
