/*
 * fuzz_received.c: libFuzzer target for the Received parser
 * (received_parse, received_parse_date) and the network-list parser
 * (ss_netset_parse, ss_netset_contains), all fed the same input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime/received.h"
#include "spamsift.h"
#include "util/arena.h"

static const char *const fuzz_addrs[] = {
    "127.0.0.1", "10.1.2.3", "::1", "2001:db8::1", "::ffff:192.0.2.1", "[IPv6:fe80::1]",
};

static void fuzz_netset(const char *text)
{
	ss_netset *ns = NULL;
	size_t pos = 0, i;

	if (ss_netset_parse("10.0.0.0/8 ::1 2001:db8::/32", &ns, NULL))
		abort();
	ss_netset_contains(ns, text);
	ss_netset_free(ns);
	ns = NULL;
	if (ss_netset_parse(text, &ns, &pos) != 0) {
		if (pos > strlen(text))
			abort();
		return;
	}
	for (i = 0; i < sizeof(fuzz_addrs) / sizeof(fuzz_addrs[0]); i++)
		ss_netset_contains(ns, fuzz_addrs[i]);
	ss_netset_contains(ns, text);
	ss_netset_free(ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ss_arena a;
	ss_hop hop;
	char *text;

	arena_init(&a);
	if (received_parse(&a, (const char *)data, size, &hop) == 0 && hop.ip.len &&
	    hop.ip.p[hop.ip.len] != '\0')
		abort();
	received_parse_date((const char *)data, size);
	arena_release(&a);
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_netset(text);
	free(text);
	return 0;
}
