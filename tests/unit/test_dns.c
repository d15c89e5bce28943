/*
 * test_dns.c: the pure parts of the DNS client (src/dns/dns.h): server
 * specs, DNS list query names, TXT joining. Lookups against a real server
 * are in tests/dns.sh.
 */
#include <string.h>

#include "dns/dns.h"
#include "harness.h"

TEST(dns_server_specs_become_unbound_forwarders)
{
	char out[64];

	CHECK(dns_server_parse("127.0.0.1:5353", out, sizeof(out)) == 0);
	CHECK(strcmp(out, "127.0.0.1@5353") == 0);
	CHECK(dns_server_parse("192.0.2.1", out, sizeof(out)) == 0);
	CHECK(strcmp(out, "192.0.2.1@53") == 0);
	CHECK(dns_server_parse("[::1]:53", out, sizeof(out)) == 0);
	CHECK(strcmp(out, "::1@53") == 0);
	CHECK(dns_server_parse("2001:db8::1", out, sizeof(out)) == 0);
	CHECK(strcmp(out, "2001:db8::1@53") == 0);
	CHECK(dns_server_parse("localhost:53", out, sizeof(out)) == SS_ESYNTAX);
	CHECK(dns_server_parse("127.0.0.1:0", out, sizeof(out)) == SS_ESYNTAX);
	CHECK(dns_server_parse("127.0.0.1:65536", out, sizeof(out)) == SS_ESYNTAX);
	CHECK(dns_server_parse("127.0.0.1:x", out, sizeof(out)) == SS_ESYNTAX);
	CHECK(dns_server_parse("[::1", out, sizeof(out)) == SS_ESYNTAX);
	CHECK(dns_server_parse("", out, sizeof(out)) == SS_ESYNTAX);
	CHECK(dns_server_parse(NULL, out, sizeof(out)) == SS_ESYNTAX);
}

TEST(dns_list_names_reverse_ipv4_octets_and_ipv6_nibbles)
{
	char out[128];

	CHECK(dns_ip_name("192.0.2.99", "bl.example", out, sizeof(out)) == 0);
	CHECK(strcmp(out, "99.2.0.192.bl.example") == 0);
	CHECK(dns_ip_name("2001:db8::1", "bl6.example", out, sizeof(out)) == 0);
	CHECK(strcmp(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	                  "bl6.example") == 0);
	CHECK(dns_ip_name("not-an-ip", "bl.example", out, sizeof(out)) == SS_ESYNTAX);
	CHECK(dns_ip_name("192.0.2.99", "bl.example", out, 10) == SS_EINVAL);
}

TEST(dns_txt_joins_character_strings_and_refuses_overruns)
{
	static const unsigned char two[] = "\x04v=sp\x04"
	                                   "f1 -";
	static const unsigned char bad[] = "\x09short";
	dns_rr rr[2] = {{two, 10}, {bad, 6}};
	dns_query q = {.type = DNS_T_TXT, .status = DNS_OK, .rr = rr, .nrr = 2};
	ss_arena a;

	arena_init(&a);
	CHECK(strcmp(dns_txt(&q, 0, &a), "v=spf1 -") == 0);
	CHECK(dns_txt(&q, 1, &a) == NULL);
	CHECK(dns_txt(&q, 2, &a) == NULL);
	arena_release(&a);
}
