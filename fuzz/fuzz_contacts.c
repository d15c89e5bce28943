/*
 * fuzz_contacts.c: libFuzzer target for the abuse contacts file parser
 * (report/contacts.h): it always ends, an error names a line of the
 * input, a parsed map answers lookups, and freeing releases everything
 * (ASan's leak check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/contacts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	contact_map *m = NULL;
	contact c;
	char err[300] = "";
	int rc = contacts_parse((const char *)data, size, "f", &m, err, sizeof(err));

	if (rc) {
		if (m || strncmp(err, "f:", 2) || strtoul(err + 2, NULL, 10) < 1)
			abort();
		return 0;
	}
	if (contacts_lookup(m, "192.0.2.1", &c) && (!c.addr || !strchr(c.addr, '@')))
		abort();
	contacts_lookup(m, "2001:db8::1", &c);
	contacts_free(m);
	return 0;
}
