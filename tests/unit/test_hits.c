/*
 * test_hits.c: the per-message list of check findings (check/hits.h).
 */
#include <string.h>

#include "check/hits.h"
#include "harness.h"

TEST(hits_keep_one_entry_per_symbol_and_merge_details)
{
	ss_arena a;
	ss_hits h;

	arena_init(&a);
	hits_init(&h, &a);
	CHECK(hits_add(&h, "URI_SHORTENER", "bit.ly") == 0);
	CHECK(hits_addf(&h, "URI_SHORTENER", "%s", "t.co") == 0);
	CHECK(hits_add(&h, "URI_SHORTENER", "bit.ly") == 0); /* already there */
	CHECK(hits_add(&h, "SPF_PASS", NULL) == 0);
	CHECK(h.n == 2);
	CHECK(strcmp(hits_find(&h, "URI_SHORTENER")->detail, "bit.ly, t.co") == 0);
	CHECK(hits_find(&h, "SPF_PASS")->detail == NULL);
	CHECK(hits_find(&h, "SPF_FAIL") == NULL);
	for (int i = 0; i < 100; i++)
		CHECK(hits_addf(&h, "URI_SHORTENER", "host%d.example", i) == 0);
	CHECK(strlen(hits_find(&h, "URI_SHORTENER")->detail) <= 512);
	for (int i = 0; i < 40; i++) {
		static const char *names[] = {"A", "B", "C", "D", "E", "F", "G", "H"};
		CHECK(hits_add(&h, names[i % 8], "x") == 0);
	}
	CHECK(h.n == 10);
	/* an item that is a substring of another is still added */
	CHECK(hits_add(&h, "DNS_TEMPERROR", "uribl.example.test") == 0);
	CHECK(hits_add(&h, "DNS_TEMPERROR", "bl.example.test") == 0);
	CHECK(hits_add(&h, "DNS_TEMPERROR", "example.test") == 0);
	CHECK(hits_add(&h, "DNS_TEMPERROR", "bl.example.test") == 0);
	CHECK(strcmp(hits_find(&h, "DNS_TEMPERROR")->detail,
	             "uribl.example.test, bl.example.test, example.test") == 0);
	arena_release(&a);
}
