/*
 * fuzz_rules.c: libFuzzer target for the rule-file parser and compiler:
 * it always ends, an error names the fuzz file and a line of the input
 * (or is a whole-set error), a set that compiles can be scanned, and
 * freeing releases everything (ASan's leak check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

static const char msg[] = "From: Ann <ann@example.com>\nTo: bob@example.org\n"
                          "Subject: cheap pills\nContent-Type: text/html\n\n"
                          "<p>Hello <a href=\"http://x.example.top/a.exe\">here</a></p>\n";

static void scan(const ruleset *rs)
{
	rules_scratch *s = NULL;
	ss_message *m = NULL;
	rules_input in;
	rules_scope sc;
	ss_arena a;
	ss_hits h;

	if (ss_parse(msg, sizeof(msg) - 1, NULL, &m) || rules_scratch_new(rs, &s))
		abort();
	arena_init(&a);
	hits_init(&h, &a);
	in = (rules_input){m, msg, sizeof(msg) - 1, "192.0.2.1", "helo", "x@y.example"};
	rules_scope_of(rs, "ann@example.com", NULL, 0, &sc);
	if (rules_run(rs, s, &in, &sc, &h))
		abort();
	for (size_t i = 0; i < h.n; i++)
		(void)rules_score(rs, &sc, h.v[i].name);
	arena_release(&a);
	rules_scratch_free(s);
	ss_message_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ruleset *rs = rules_new();
	rules_error e;
	int err;

	if (!rs)
		return 0;
	err = rules_parse(rs, "f.rules", (const char *)data, size, &e);
	if (!err)
		err = rules_compile(rs, &e);
	if (err && err != SS_ENOMEM && strncmp(e.msg, "f.rules:", 8) && strncmp(e.msg, "rules:", 6))
		abort();
	if (!err)
		scan(rs);
	rules_free(rs);
	return 0;
}
