/*
 * fuzz_dmarc.c: libFuzzer target for what src/auth parses by hand from
 * untrusted text: DMARC records (dmarc_parse, from DNS), From field
 * values (dmarc_from_domain), DKIM-Signature fields (dkimv_key_name), and
 * the Authentication-Results formatter fed the same bytes as values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/arhdr.h"
#include "auth/dkimv.h"
#include "auth/dmarc.h"
#include "util/arena.h"

static void check_record(const char *p, size_t n)
{
	dmarc_record r;

	if (dmarc_parse(p, n, &r) != 0)
		return;
	if (r.p > DMARC_P_REJECT || r.sp > DMARC_P_REJECT || r.pct < 0 || r.pct > 100)
		abort();
}

static void check_names(ss_arena *a, const char *p, size_t n, const char *text)
{
	const char *d = dmarc_from_domain(p, n, a);
	const char *k = dkimv_key_name(p, n, a);
	ar_dkim sig = {AUTH_FAIL, text, text, text, text};
	ar_results r = {.spf = {1, AUTH_PASS, text, text, text},
	                .dkim = &sig,
	                .ndkim = 1,
	                .dmarc = {1, AUTH_FAIL, d ? d : text, "reject"}};

	if (d && (!*d || strchr(d, '@') || strchr(d, ' ')))
		abort();
	if (k && (strlen(k) > 253 || !strstr(k, "._domainkey.")))
		abort();
	if (d)
		dmarc_aligned(psl_builtin(), d, k ? k : "example.com", 0);
	const char *v = ar_format(a, text, &r);
	for (const char *s = v; s && *s; s++)
		if ((unsigned char)*s < ' ' && *s != '\t')
			abort(); /* no line breaks from values or comments */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ss_arena a;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_record((const char *)data, size);
	arena_init(&a);
	check_names(&a, (const char *)data, size, text);
	arena_release(&a);
	free(text);
	return 0;
}
