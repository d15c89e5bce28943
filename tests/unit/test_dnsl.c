/*
 * test_dnsl.c: the pure parts of the DNS list check (src/dnsl/dnsl.h):
 * which addresses may be asked about, registrable domains, answer codes,
 * what a message gets asked about, and answers turned into hits (with
 * answers made here, no resolver). Lookups against a real server are in
 * tests/dnsl.sh.
 */
#include <string.h>

#include "dnsl/dnsl.h"
#include "harness.h"

static int public(const char *ip, const char *want)
{
	char out[64];

	return dnsl_ip_public(ip, out, sizeof(out)) && !strcmp(out, want);
}

static int private(const char *ip)
{
	char out[64];

	return dnsl_ip_public(ip, out, sizeof(out)) == 0;
}

TEST(dnsl_only_public_addresses_are_asked_about)
{
	CHECK(public("8.8.8.8", "8.8.8.8"));
	CHECK(public("192.0.2.99", "192.0.2.99")); /* documentation: tests */
	CHECK(public("::ffff:198.51.100.7", "198.51.100.7"));
	CHECK(public("2001:DB8::1", "2001:db8::1"));
	CHECK(public("2a00:1450::5", "2a00:1450::5"));
	CHECK(private("10.1.2.3"));
	CHECK(private("172.16.0.1"));
	CHECK(private("172.31.255.255"));
	CHECK(!private("172.32.0.1"));
	CHECK(private("192.168.1.1"));
	CHECK(private("127.0.0.1"));
	CHECK(private("169.254.1.1"));
	CHECK(private("100.64.0.1"));
	CHECK(private("0.1.2.3"));
	CHECK(private("224.0.0.1"));
	CHECK(private("255.255.255.255"));
	CHECK(private("::ffff:10.0.0.1"));
	CHECK(private("::1"));
	CHECK(private("::"));
	CHECK(private("fc00::1"));
	CHECK(private("fd12:3456::1"));
	CHECK(private("fe80::1"));
	CHECK(private("ff02::1"));
	CHECK(private("2001::1")); /* Teredo */
	CHECK(private("not an ip"));
	CHECK(private(""));
}

static int domain(const char *host, const char *want)
{
	char out[256];

	if (!want)
		return dnsl_domain_of(host, out, sizeof(out)) == 0;
	return dnsl_domain_of(host, out, sizeof(out)) == 1 && !strcmp(out, want);
}

TEST(dnsl_domains_are_registrable_domains_of_real_hosts)
{
	CHECK(domain("a.b.evil.co.uk", "evil.co.uk"));
	CHECK(domain("a.b.evil.example.co.uk", "example.co.uk"));
	CHECK(domain("WWW.Example.COM", "example.com"));
	CHECK(domain("www.example.com.", "example.com"));
	CHECK(domain("x.y.blogspot.com", "y.blogspot.com")); /* PSL private section */
	CHECK(domain("xn--bcher-kva.example", "xn--bcher-kva.example"));
	CHECK(domain("_dmarc.example.org", "example.org"));
	CHECK(domain("co.uk", NULL)); /* a public suffix */
	CHECK(domain("localhost", NULL));
	CHECK(domain("printer.local", NULL));
	CHECK(domain("a.b.invalid", NULL));
	CHECK(domain("4.3.2.1.in-addr.arpa", NULL));
	CHECK(domain("1.2.3.4", NULL));
	CHECK(domain("a..example.com", NULL));
	CHECK(domain(".example.com", NULL));
	CHECK(domain("ex ample.com", NULL));
	CHECK(domain("bücher.example", NULL)); /* U-labels: callers pass A-labels */
	CHECK(domain("", NULL));
	char big[300];
	memset(big, 'a', sizeof(big));
	memcpy(big + 280, ".example.com", 13);
	CHECK(domain(big, NULL));
	char out[8];
	CHECK(dnsl_domain_of("long-name.example.com", out, sizeof(out)) == 0);
}

TEST(dnsl_answers_in_127_8_are_listings_but_the_refusals)
{
	CHECK(dnsl_answer_listed(0x7f000002));
	CHECK(dnsl_answer_listed(0x7f00000b));
	CHECK(dnsl_answer_listed(0x7f0100ff));
	CHECK(!dnsl_answer_listed(0x7f000001));
	CHECK(!dnsl_answer_listed(0x7ffffffe));
	CHECK(!dnsl_answer_listed(0x7fffff00));
	CHECK(!dnsl_answer_listed(0xc0000201));
	CHECK(!dnsl_answer_listed(0));
}

TEST(dnsl_codes_exact_range_and_bits)
{
	static const ss_dnslist_code codes[] = {
	    {0x7f000002, 0xffffffff, 0, "X_SBL"},
	    {0x7f000004, 0xfffffffc, 0, "X_PBL"}, /* 127.0.0.4-7 */
	    {2, 0, 1, "X_BLACK"},
	    {4, 0, 1, "X_GREY"},
	};
	ss_dnslist l = {"X", "x.example", SS_DNSLIST_IP, codes, 4};
	const char *s[8];

	CHECK(dnsl_answer_symbols(&l, 0x7f000002, s, 8) == 2);
	CHECK(!strcmp(s[0], "X_SBL") && !strcmp(s[1], "X_BLACK"));
	CHECK(dnsl_answer_symbols(&l, 0x7f000007, s, 8) == 3);
	CHECK(!strcmp(s[0], "X_PBL") && !strcmp(s[1], "X_BLACK") && !strcmp(s[2], "X_GREY"));
	CHECK(dnsl_answer_symbols(&l, 0x7f000008, s, 8) == 1 && !strcmp(s[0], "X"));
	CHECK(dnsl_answer_symbols(&l, 0x7f000006, s, 1) == 1 && !strcmp(s[0], "X_PBL"));
	CHECK(dnsl_answer_symbols(&l, 0x7f000006, s, 0) == 0);
	l.ncodes = 0;
	CHECK(dnsl_answer_symbols(&l, 0x7f000002, s, 8) == 1 && !strcmp(s[0], "X"));
}

static const ss_dnslist both[] = {
    {"BL", "bl.example", SS_DNSLIST_IP, NULL, 0},
    {"UB", "ub.example", SS_DNSLIST_DOMAIN, NULL, 0},
};
static const ss_checks_config cfg_both = {.dnslists = both, .ndnslists = 2};

static const char hops_msg[] =
    "Received: from a (a [10.0.0.1]) by mx; Mon, 1 Jan 2024 00:00:03 +0000\n"
    "Received: from b (b [192.0.2.1]) by a; Mon, 1 Jan 2024 00:00:02 +0000\n"
    "Received: from c (c [192.0.2.2]) by b; Mon, 1 Jan 2024 00:00:01 +0000\n"
    "Received: from d (d [192.0.2.1]) by c; Mon, 1 Jan 2024 00:00:00 +0000\n"
    "From: x@Sender.Example\nReply-To: y@bücher.example\n"
    "To: z@rcpt.example\nSubject: s\n\n"
    "http://a.evil.example/ http://b.evil.example/x http://[2001:db8::7]/\n"
    "http://10.0.0.9/ http://203.0.113.5/ http://localhost/ http://other.co.uk/\n";

static ss_message *parse(const char *s, const char *trusted)
{
	ss_parse_opts po = {0};
	ss_netset *ns = NULL;
	ss_message *m = NULL;

	if (trusted && ss_netset_parse(trusted, &ns, NULL))
		return NULL;
	po.trusted = ns;
	if (ss_parse(s, strlen(s), &po, &m))
		m = NULL;
	ss_netset_free(ns);
	return m;
}

TEST(dnsl_asks_about_the_first_public_untrusted_hop_or_the_envelope)
{
	ss_message *m = parse(hops_msg, NULL);
	dnsl_opts o;
	dnsl_run r;
	ss_arena a;

	arena_init(&a);
	CHECK(m != NULL);
	CHECK(dnsl_plan(&r, &cfg_both, NULL, m, NULL, &a) == 0);
	CHECK(r.nips == 1 && !strcmp(r.ips[0].s, "192.0.2.1") && r.ips[0].ip);
	CHECK(dnsl_plan(&r, &cfg_both, NULL, m, "198.51.100.1", &a) == 0);
	CHECK(r.nips == 1 && !strcmp(r.ips[0].s, "198.51.100.1"));
	CHECK(dnsl_plan(&r, &cfg_both, NULL, m, "192.168.0.1", &a) == 0);
	CHECK(r.nips == 1 && !strcmp(r.ips[0].s, "192.0.2.1"));
	dnsl_opts_default(&o);
	o.deep = 1;
	CHECK(dnsl_plan(&r, &cfg_both, &o, m, "198.51.100.1", &a) == 0);
	CHECK(r.nips == 3 && !strcmp(r.ips[1].s, "192.0.2.1") && !strcmp(r.ips[2].s, "192.0.2.2"));
	o.max_ips = 2;
	CHECK(dnsl_plan(&r, &cfg_both, &o, m, "198.51.100.1", &a) == 0);
	CHECK(r.nips == 2);
	ss_message_free(m);

	m = parse(hops_msg, "10.0.0.0/8 192.0.2.1");
	CHECK(dnsl_plan(&r, &cfg_both, NULL, m, NULL, &a) == 0);
	CHECK(r.nips == 1 && !strcmp(r.ips[0].s, "192.0.2.2"));
	ss_message_free(m);
	m = parse("Received: from a (a [10.0.0.1]) by mx; Mon, 1 Jan 2024 00:00:03 +0000\n"
	          "Subject: s\n\nhi\n",
	          NULL);
	CHECK(dnsl_plan(&r, &cfg_both, NULL, m, NULL, &a) == 0);
	CHECK(r.nips == 0);
	ss_message_free(m);
	arena_release(&a);
}

TEST(dnsl_asks_about_url_domains_deduplicated_and_bounded)
{
	ss_message *m = parse(hops_msg, NULL);
	dnsl_opts o;
	dnsl_run r;
	ss_arena a;

	arena_init(&a);
	CHECK(dnsl_plan(&r, &cfg_both, NULL, m, NULL, &a) == 0);
	CHECK(r.ndomains == 4 && r.domains_seen == 4);
	CHECK(!strcmp(r.domains[0].s, "evil.example") && !r.domains[0].ip);
	CHECK(!strcmp(r.domains[1].s, "2001:db8::7") && r.domains[1].ip);
	CHECK(!strcmp(r.domains[2].s, "203.0.113.5") && r.domains[2].ip);
	CHECK(!strcmp(r.domains[3].s, "other.co.uk"));
	dnsl_opts_default(&o);
	o.sender_domains = 1;
	CHECK(dnsl_plan(&r, &cfg_both, &o, m, NULL, &a) == 0);
	CHECK(r.ndomains == 6);
	CHECK(!strcmp(r.domains[0].s, "sender.example"));
	CHECK(!strcmp(r.domains[1].s, "xn--bcher-kva.example"));
	o.max_domains = 2;
	CHECK(dnsl_plan(&r, &cfg_both, &o, m, NULL, &a) == 0);
	CHECK(r.ndomains == 2 && r.domains_seen == 6);
	ss_message_free(m);
	arena_release(&a);
}

TEST(dnsl_asks_nothing_a_list_kind_does_not_need)
{
	ss_checks_config ip_only = {.dnslists = both, .ndnslists = 1};
	ss_checks_config none = {0};
	ss_message *m = parse(hops_msg, NULL);
	dnsl_run r;
	ss_arena a;
	ss_hits h;

	arena_init(&a);
	hits_init(&h, &a);
	CHECK(dnsl_plan(&r, &ip_only, NULL, m, NULL, &a) == 0);
	CHECK(r.nips == 1 && r.ndomains == 0);
	CHECK(dnsl_begin(&r, &none, NULL, m, NULL, NULL, &a) == 0);
	CHECK(r.nips == 0 && r.ndomains == 0 && r.nlk == 0);
	CHECK(dnsl_begin(&r, NULL, NULL, m, NULL, NULL, &a) == 0);
	CHECK(dnsl_finish(&r, 0, &h) == 0 && h.n == 0);
	ss_message_free(m);
	arena_release(&a);
}

/* Sets lookup lk to an answer of n A records. */
static void answer(dnsl_lookup *lk, const ss_dnslist *l, const dnsl_key *k, dns_status st,
                   dns_rr *rr, size_t n)
{
	memset(lk, 0, sizeof(*lk));
	lk->list = l;
	lk->key = k;
	lk->q.status = st;
	lk->q.rr = rr;
	lk->q.nrr = n;
}

TEST(dnsl_answers_become_one_hit_per_symbol)
{
	static const ss_dnslist_code bits[] = {{2, 0, 1, "UB_BLACK"}, {4, 0, 1, "UB_GREY"}};
	ss_dnslist ub = {"UB", "ub.example", SS_DNSLIST_DOMAIN, bits, 2};
	dnsl_key k[] = {{"evil.example", 0}, {"very-evil.example", 0}, {"q.example", 0}};
	static const unsigned char a6[] = {127, 0, 0, 6}, a2[] = {127, 0, 0, 2},
	                           a1[] = {127, 0, 0, 1}, a16[] = {127, 0, 0, 16};
	dns_rr r0[] = {{a6, 4}}, r1[] = {{a2, 4}, {a16, 4}}, r2[] = {{a1, 4}};
	dnsl_lookup lk[5];
	dnsl_run run = {0};
	ss_arena a;
	ss_hits h;

	arena_init(&a);
	hits_init(&h, &a);
	answer(&lk[0], &ub, &k[1], DNS_OK, r1, 2);
	answer(&lk[1], &ub, &k[0], DNS_OK, r0, 1);
	answer(&lk[2], &ub, &k[2], DNS_OK, r2, 1);
	answer(&lk[3], &both[0], &k[0], DNS_TEMPFAIL, NULL, 0);
	answer(&lk[4], &ub, &k[0], DNS_NXDOMAIN, NULL, 0);
	run.lk = lk;
	run.nlk = 5;
	run.a = &a;
	run.cfg = &cfg_both;
	run.domains_seen = 25;
	run.ndomains = 20;
	CHECK(dnsl_finish(&run, 0, &h) == 0);
	const ss_hit *x = hits_find(&h, "UB_BLACK");
	CHECK(x && !strcmp(x->detail, "very-evil.example -> 127.0.0.2, evil.example -> 127.0.0.6"));
	CHECK((x = hits_find(&h, "UB")) && !strcmp(x->detail, "very-evil.example -> 127.0.0.16"));
	CHECK((x = hits_find(&h, "UB_GREY")) && !strcmp(x->detail, "evil.example -> 127.0.0.6"));
	CHECK((x = hits_find(&h, "DNSL_BLOCKED")) &&
	      !strcmp(x->detail, "ub.example: q.example -> 127.0.0.1"));
	CHECK((x = hits_find(&h, "DNS_TEMPERROR")) && !strcmp(x->detail, "bl.example"));
	CHECK((x = hits_find(&h, "DNSL_LIMIT_DOMAINS")) &&
	      !strcmp(x->detail, "20 of 25 domains queried"));
	CHECK(h.n == 6);
	arena_release(&a);
}

TEST(dnsl_joined_details_stay_bounded)
{
	ss_dnslist ub = {"UB", "ub.example", SS_DNSLIST_DOMAIN, NULL, 0};
	static const unsigned char a2[] = {127, 0, 0, 2};
	dns_rr rr[] = {{a2, 4}};
	dnsl_key k[40];
	char names[40][40];
	dnsl_lookup lk[40];
	dnsl_run run = {0};
	ss_arena a;
	ss_hits h;

	arena_init(&a);
	hits_init(&h, &a);
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "listed-domain-%02d.example", i);
		k[i] = (dnsl_key){names[i], 0};
		answer(&lk[i], &ub, &k[i], DNS_OK, rr, 1);
	}
	run.lk = lk;
	run.nlk = 40;
	run.a = &a;
	CHECK(dnsl_finish(&run, 0, &h) == 0);
	CHECK(h.n == 1 && strlen(h.v[0].detail) <= 480);
	CHECK(strstr(h.v[0].detail, "listed-domain-00.example -> 127.0.0.2, ") == h.v[0].detail);
	CHECK(!strcmp(h.v[0].detail + strlen(h.v[0].detail) - 3, "..."));
	arena_release(&a);
}
