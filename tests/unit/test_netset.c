/*
 * test_netset.c: network lists (ss_netset_parse) and membership tests
 * (ss_netset_contains), IPv4, IPv6 and IPv4-mapped.
 */
#include <stdlib.h>

#include "harness.h"
#include "spamsift.h"

/* Parses spec, which must be valid, into a new set. */
static ss_netset *set(const char *spec)
{
	ss_netset *ns = NULL;
	size_t pos = 999;

	CHECK(ss_netset_parse(spec, &ns, &pos) == 0);
	CHECK(ns != NULL);
	CHECK(pos == 999);
	return ns;
}

/* Returns the error position of spec, which must be invalid, or 999. */
static size_t bad(const char *spec)
{
	ss_netset *ns = (ss_netset *)&ns;
	size_t pos = 999;

	CHECK(ss_netset_parse(spec, &ns, &pos) == SS_ESYNTAX);
	CHECK(ns == NULL);
	return pos;
}

TEST(netset_ipv4_cidr)
{
	ss_netset *ns = set("10.0.0.0/8");

	CHECK(ss_netset_contains(ns, "10.0.0.0"));
	CHECK(ss_netset_contains(ns, "10.255.255.255"));
	CHECK(ss_netset_contains(ns, "10.1.2.3"));
	CHECK(!ss_netset_contains(ns, "11.0.0.0"));
	CHECK(!ss_netset_contains(ns, "9.255.255.255"));
	ss_netset_free(ns);
}

TEST(netset_ipv4_odd_prefix)
{
	ss_netset *ns = set("192.0.2.64/27");

	CHECK(ss_netset_contains(ns, "192.0.2.64"));
	CHECK(ss_netset_contains(ns, "192.0.2.95"));
	CHECK(!ss_netset_contains(ns, "192.0.2.96"));
	CHECK(!ss_netset_contains(ns, "192.0.2.63"));
	ss_netset_free(ns);
}

TEST(netset_host_bits_are_masked)
{
	ss_netset *ns = set("172.16.5.4/12");

	CHECK(ss_netset_contains(ns, "172.31.255.1"));
	CHECK(ss_netset_contains(ns, "172.16.0.0"));
	CHECK(!ss_netset_contains(ns, "172.32.0.0"));
	ss_netset_free(ns);
}

TEST(netset_bare_ipv4_is_32)
{
	ss_netset *ns = set("192.0.2.1");

	CHECK(ss_netset_contains(ns, "192.0.2.1"));
	CHECK(!ss_netset_contains(ns, "192.0.2.2"));
	CHECK(!ss_netset_contains(ns, "192.0.2.0"));
	ss_netset_free(ns);
}

TEST(netset_ipv4_zero_prefix_holds_all_ipv4_only)
{
	ss_netset *ns = set("0.0.0.0/0");

	CHECK(ss_netset_contains(ns, "203.0.113.9"));
	CHECK(ss_netset_contains(ns, "255.255.255.255"));
	CHECK(!ss_netset_contains(ns, "2001:db8::1"));
	ss_netset_free(ns);
}

TEST(netset_ipv6_cidr)
{
	ss_netset *ns = set("2001:db8::/32");

	CHECK(ss_netset_contains(ns, "2001:db8::1"));
	CHECK(ss_netset_contains(ns, "2001:DB8:FFFF:1::2"));
	CHECK(!ss_netset_contains(ns, "2001:db9::1"));
	CHECK(!ss_netset_contains(ns, "32.1.13.184"));
	ss_netset_free(ns);
}

TEST(netset_ipv6_loopback_and_bare)
{
	ss_netset *ns = set("::1/128 2001:db8:0:1::42");

	CHECK(ss_netset_contains(ns, "::1"));
	CHECK(ss_netset_contains(ns, "0:0:0:0:0:0:0:1"));
	CHECK(!ss_netset_contains(ns, "::2"));
	CHECK(ss_netset_contains(ns, "2001:db8:0:1::42"));
	CHECK(!ss_netset_contains(ns, "2001:db8:0:1::43"));
	ss_netset_free(ns);
}

TEST(netset_ipv6_odd_prefix)
{
	ss_netset *ns = set("2001:db8:abcd:ff80::/57");

	CHECK(ss_netset_contains(ns, "2001:db8:abcd:ff80::1"));
	CHECK(ss_netset_contains(ns, "2001:db8:abcd:ffff::1"));
	CHECK(!ss_netset_contains(ns, "2001:db8:abcd:ff7f::1"));
	ss_netset_free(ns);
}

TEST(netset_mapped_network_matches_ipv4)
{
	ss_netset *ns = set("::ffff:1.2.3.4");

	CHECK(ss_netset_contains(ns, "1.2.3.4"));
	CHECK(ss_netset_contains(ns, "::ffff:1.2.3.4"));
	CHECK(!ss_netset_contains(ns, "1.2.3.5"));
	ss_netset_free(ns);
}

TEST(netset_ipv4_network_matches_mapped_address)
{
	ss_netset *ns = set("10.0.0.0/8");

	CHECK(ss_netset_contains(ns, "::ffff:10.9.8.7"));
	CHECK(ss_netset_contains(ns, "::FFFF:a09:807"));
	CHECK(!ss_netset_contains(ns, "::ffff:11.0.0.1"));
	/* IPv4-compatible (not mapped) addresses are other addresses. */
	CHECK(!ss_netset_contains(ns, "::10.9.8.7"));
	ss_netset_free(ns);
}

TEST(netset_mapped_cidr)
{
	ss_netset *ns = set("::ffff:192.0.2.0/120");

	CHECK(ss_netset_contains(ns, "192.0.2.200"));
	CHECK(!ss_netset_contains(ns, "192.0.3.1"));
	ss_netset_free(ns);
}

TEST(netset_separators)
{
	ss_netset *ns = set(" 127.0.0.0/8,10.0.0.0/8 ,\t::1/128\n192.168.0.0/16,, ");

	CHECK(ss_netset_contains(ns, "127.0.0.1"));
	CHECK(ss_netset_contains(ns, "10.20.30.40"));
	CHECK(ss_netset_contains(ns, "::1"));
	CHECK(ss_netset_contains(ns, "192.168.1.1"));
	CHECK(!ss_netset_contains(ns, "8.8.8.8"));
	ss_netset_free(ns);
}

TEST(netset_many_networks)
{
	char spec[4096];
	size_t off = 0;
	ss_netset *ns;
	int i;

	for (i = 0; i < 200; i++)
		off += (size_t)snprintf(spec + off, sizeof(spec) - off, "10.%d.0.0/16 ", i);
	ns = set(spec);
	CHECK(ss_netset_contains(ns, "10.0.1.1"));
	CHECK(ss_netset_contains(ns, "10.199.255.255"));
	CHECK(!ss_netset_contains(ns, "10.200.0.1"));
	ss_netset_free(ns);
}

TEST(netset_empty_spec_is_empty_set)
{
	ss_netset *ns = set("");

	CHECK(!ss_netset_contains(ns, "127.0.0.1"));
	CHECK(!ss_netset_contains(ns, "::1"));
	ss_netset_free(ns);
	ns = set(" ,\t\n, ");
	CHECK(!ss_netset_contains(ns, "127.0.0.1"));
	ss_netset_free(ns);
}

TEST(netset_contains_tolerates_brackets_and_tag)
{
	ss_netset *ns = set("2001:db8::/32 192.0.2.0/24");

	CHECK(ss_netset_contains(ns, "[192.0.2.7]"));
	CHECK(ss_netset_contains(ns, "[IPv6:2001:db8::1]"));
	CHECK(ss_netset_contains(ns, "IPv6:2001:db8::1"));
	CHECK(ss_netset_contains(ns, "ipv6:2001:db8::1"));
	CHECK(ss_netset_contains(ns, "[2001:db8::1]"));
	CHECK(ss_netset_contains(ns, " 192.0.2.7 "));
	CHECK(ss_netset_contains(ns, "fe80::1%eth0") == 0);
	CHECK(ss_netset_contains(ns, "2001:db8::1%eth0"));
	ss_netset_free(ns);
}

TEST(netset_contains_rejects_non_addresses)
{
	ss_netset *ns = set("0.0.0.0/0 ::/0");

	CHECK(!ss_netset_contains(ns, ""));
	CHECK(!ss_netset_contains(ns, "localhost"));
	CHECK(!ss_netset_contains(ns, "1.2.3"));
	CHECK(!ss_netset_contains(ns, "1.2.3.4/32"));
	CHECK(!ss_netset_contains(ns, "256.1.1.1"));
	CHECK(!ss_netset_contains(ns, "[1.2.3.4"));
	CHECK(!ss_netset_contains(ns, "IPv6:"));
	CHECK(!ss_netset_contains(ns, NULL));
	CHECK(!ss_netset_contains(NULL, "1.2.3.4"));
	CHECK(ss_netset_contains(ns, "1.2.3.4"));
	ss_netset_free(ns);
}

TEST(netset_error_bad_address)
{
	CHECK(bad("10.0.0.0/8, 300.1.1.1") == 12);
	CHECK(bad("example.com") == 0);
	CHECK(bad("127.0.0.1 ::1 1.2.3") == 14);
	CHECK(bad("2001:db8:::1/64") == 0);
}

TEST(netset_error_prefix_too_long)
{
	CHECK(bad("10.0.0.0/33") == 0);
	CHECK(bad("127.0.0.1 2001:db8::/129") == 10);
	CHECK(bad("::ffff:1.2.3.4/129") == 0);
	CHECK(bad("1.2.3.4/1000") == 0);
}

TEST(netset_error_junk)
{
	CHECK(bad("10.0.0.0/8x") == 0);
	CHECK(bad("10.0.0.0/") == 0);
	CHECK(bad("10.0.0.0/+8") == 0);
	CHECK(bad("10.0.0.0/-1") == 0);
	CHECK(bad(" 10.0.0.0/8/8") == 1);
	CHECK(bad("a;b") == 0);
	CHECK(bad("1.2.3.4;5.6.7.8") == 0);
	CHECK(bad("/8") == 0);
	CHECK(bad("::1 [::1]") == 4);
}

TEST(netset_error_overlong_item)
{
	char spec[300];

	memset(spec, '1', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	spec[0] = ' ';
	CHECK(bad(spec) == 1);
}

TEST(netset_error_position_may_be_null)
{
	ss_netset *ns = NULL;

	CHECK(ss_netset_parse("nonsense", &ns, NULL) == SS_ESYNTAX);
	CHECK(ns == NULL);
}

TEST(netset_invalid_arguments)
{
	ss_netset *ns = NULL;

	CHECK(ss_netset_parse(NULL, &ns, NULL) == SS_EINVAL);
	CHECK(ss_netset_parse("10.0.0.0/8", NULL, NULL) == SS_EINVAL);
	ss_netset_free(NULL);
}
