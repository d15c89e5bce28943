/*
 * test_received.c: Received header values, as the common MTAs write them,
 * to hops (received_parse) and RFC 5322 dates to Unix time
 * (received_parse_date). Every value is handed over in a buffer of exactly
 * its length, without a NUL, so a read past the end trips the sanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "mime/received.h"
#include "util/arena.h"

/* 2023-10-03 08:22:33 UTC, the time of most samples below. */
#define T_POSTFIX 1696321353
#define T_0800 1696320000

static ss_arena rcv_arena;

/* Parses `v` from an exact-size heap copy into *hop; returns the result. */
static int parse(const char *v, ss_hop *hop)
{
	size_t n = strlen(v);
	char *copy = calloc(1, n ? n : 1);
	int rc;

	memcpy(copy, v, n);
	rc = received_parse(&rcv_arena, copy, n, hop);
	free(copy);
	return rc;
}

static int64_t date(const char *s)
{
	size_t n = strlen(s);
	char *copy = calloc(1, n ? n : 1);
	int64_t t;

	memcpy(copy, s, n);
	t = received_parse_date(copy, n);
	free(copy);
	return t;
}

TEST(received_postfix)
{
	ss_hop h;

	CHECK(parse("from mail.example.com (mail.example.com [203.0.113.5]) by mx.example.org "
	            "(Postfix) with ESMTPS id 4F1A2B3C for <u@example.org>; Tue, 3 Oct 2023 "
	            "10:22:33 +0200 (CEST)",
	            &h) == 0);
	CHECK_STR(h.from_helo, "mail.example.com");
	CHECK_STR(h.from_rdns, "mail.example.com");
	CHECK_STR(h.ip, "203.0.113.5");
	CHECK_STR(h.by_host, "mx.example.org");
	CHECK_STR(h.with, "ESMTPS");
	CHECK(h.time == T_POSTFIX);
	CHECK(h.trusted == 0);
}

TEST(received_strings_are_nul_terminated)
{
	ss_hop h;

	CHECK(parse("from a.example (b.example [192.0.2.1]) by c.example with SMTP; "
	            "3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK(h.from_helo.p[h.from_helo.len] == '\0');
	CHECK(h.from_rdns.p[h.from_rdns.len] == '\0');
	CHECK(h.ip.p[h.ip.len] == '\0');
	CHECK(h.by_host.p[h.by_host.len] == '\0');
	CHECK(h.with.p[h.with.len] == '\0');
}

TEST(received_postfix_unknown_rdns)
{
	ss_hop h;

	CHECK(parse("from helo.example (unknown [198.51.100.7]) by mx.example.org (Postfix) "
	            "with ESMTP id 9ABC; Tue, 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "helo.example");
	CHECK(h.from_rdns.len == 0);
	CHECK_STR(h.ip, "198.51.100.7");
	CHECK_STR(h.by_host, "mx.example.org");
	CHECK(h.time == T_0800);
}

TEST(received_postfix_tls_comment_ignored)
{
	ss_hop h;

	CHECK(parse("from out.example.net (out.example.net [192.0.2.44]) (using TLSv1.3 with "
	            "cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
	            "server-signature RSA-PSS (2048 bits) server-digest SHA256) (No client "
	            "certificate requested) by mx.example.org (Postfix) with ESMTPS id 1234; "
	            "Tue, 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "out.example.net");
	CHECK_STR(h.from_rdns, "out.example.net");
	CHECK_STR(h.ip, "192.0.2.44");
	CHECK_STR(h.by_host, "mx.example.org");
	CHECK_STR(h.with, "ESMTPS");
}

TEST(received_sendmail_may_be_forged)
{
	ss_hop h;

	CHECK(parse("from host.example.com (host.example.com [192.0.2.1] (may be forged)) by "
	            "mx.example.org (8.15.2/8.15.2) with ESMTP id x1234; Tue, 3 Oct 2023 "
	            "04:00:00 -0400",
	            &h) == 0);
	CHECK_STR(h.from_helo, "host.example.com");
	CHECK_STR(h.from_rdns, "host.example.com");
	CHECK_STR(h.ip, "192.0.2.1");
	CHECK_STR(h.by_host, "mx.example.org");
	CHECK_STR(h.with, "ESMTP");
	CHECK(h.time == T_0800);
}

TEST(received_sendmail_ident)
{
	ss_hop h;

	CHECK(parse("from client.example (root@relay.example.net [192.0.2.9]) by "
	            "mx.example.org (8.17.1/8.17.1) with ESMTP id 39T; "
	            "Tue, 3 Oct 2023 08:00:00 GMT",
	            &h) == 0);
	CHECK_STR(h.from_helo, "client.example");
	CHECK_STR(h.from_rdns, "relay.example.net");
	CHECK_STR(h.ip, "192.0.2.9");
	CHECK(h.time == T_0800);
}

TEST(received_sendmail_literal_without_rdns)
{
	ss_hop h;

	CHECK(parse("from client.example ([192.0.2.77]) by mx.example.org (8.15.2/8.15.2) "
	            "with SMTP id x9; Tue, 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "client.example");
	CHECK(h.from_rdns.len == 0);
	CHECK_STR(h.ip, "192.0.2.77");
}

TEST(received_exim_without_rdns)
{
	ss_hop h;

	CHECK(parse("from [203.0.113.9] (helo=client.example) by mx.example.org with esmtpsa "
	            "(TLS1.3) (Exim 4.96) (envelope-from <a@b.example>) id 1qABC-000; "
	            "Tue, 03 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "client.example");
	CHECK(h.from_rdns.len == 0);
	CHECK_STR(h.ip, "203.0.113.9");
	CHECK_STR(h.by_host, "mx.example.org");
	CHECK_STR(h.with, "esmtpsa");
	CHECK(h.time == T_0800);
}

TEST(received_exim_with_rdns)
{
	ss_hop h;

	CHECK(parse("from rdns.example ([203.0.113.9] helo=client.example) by mx.example.org "
	            "with esmtp (Exim 4.96) (envelope-from <a@b.example>) id 1qABC-000; "
	            "Tue, 03 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "client.example");
	CHECK_STR(h.from_rdns, "rdns.example");
	CHECK_STR(h.ip, "203.0.113.9");
	CHECK_STR(h.with, "esmtp");
}

TEST(received_exim_port_after_literal)
{
	ss_hop h;

	CHECK(parse("from rdns.example ([203.0.113.9]:50412 helo=client.example) by "
	            "mx.example.org with esmtps id 1q; Tue, 03 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.ip, "203.0.113.9");
	CHECK_STR(h.from_helo, "client.example");
	CHECK_STR(h.from_rdns, "rdns.example");
}

TEST(received_exim_local)
{
	ss_hop h;

	CHECK(parse("from www-data by web.example.org with local (Exim 4.96) (envelope-from "
	            "<www-data@web.example.org>) id 1qXYZ-0001; Tue, 03 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "www-data");
	CHECK(h.ip.len == 0);
	CHECK_STR(h.by_host, "web.example.org");
	CHECK_STR(h.with, "local");
}

TEST(received_qmail)
{
	ss_hop h;

	CHECK(parse("from unknown (HELO client.example) (203.0.113.10) by mx.example.org with "
	            "SMTP; 3 Oct 2023 08:00:00 -0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "client.example");
	CHECK(h.from_rdns.len == 0);
	CHECK_STR(h.ip, "203.0.113.10");
	CHECK_STR(h.by_host, "mx.example.org");
	CHECK_STR(h.with, "SMTP");
	CHECK(h.time == T_0800);
}

TEST(received_qmail_rdns_and_ident)
{
	ss_hop h;

	CHECK(parse("from relay.example.net (HELO client.example) (joe@203.0.113.11) by "
	            "mx.example.org with SMTP; 3 Oct 2023 08:00:00 -0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "client.example");
	CHECK_STR(h.from_rdns, "relay.example.net");
	CHECK_STR(h.ip, "203.0.113.11");
}

TEST(received_qmail_helo_literal_is_not_the_ip)
{
	ss_hop h;

	CHECK(parse("from unknown (HELO 192.0.2.200) (203.0.113.12) by mx.example.org with "
	            "SMTP; 3 Oct 2023 08:00:00 -0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "192.0.2.200");
	CHECK_STR(h.ip, "203.0.113.12");
}

TEST(received_qmail_invoked_is_unrecognised)
{
	ss_hop h;

	CHECK(parse("(qmail 12345 invoked from network); 3 Oct 2023 08:00:00 -0000", &h) == 1);
	CHECK(h.time == 0);
	CHECK(h.from_helo.len == 0);
}

TEST(received_exchange)
{
	ss_hop h;

	CHECK(parse("from EUR01-HE1-obe.outbound.protection.outlook.com "
	            "(2a01:111:f400:fe1e::701) by AM0PR01MB1234.eurprd01.prod.exchangelabs.com "
	            "(2603:10a6:208:1::1) with Microsoft SMTP Server (version=TLS1_2, "
	            "cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6838.30; Tue, 3 Oct "
	            "2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "EUR01-HE1-obe.outbound.protection.outlook.com");
	CHECK(h.from_rdns.len == 0);
	CHECK_STR(h.ip, "2a01:111:f400:fe1e::701");
	CHECK_STR(h.by_host, "AM0PR01MB1234.eurprd01.prod.exchangelabs.com");
	CHECK_STR(h.with, "Microsoft SMTP Server");
	CHECK(h.time == T_0800);
}

TEST(received_exchange_link_local_zone)
{
	ss_hop h;

	CHECK(parse("from AM0PR01MB1234.eurprd01.prod.exchangelabs.com ([fe80::a1b2:c3d4%12]) "
	            "by AM0PR01MB5678.eurprd01.prod.exchangelabs.com ([fe80::1%11]) with mapi id "
	            "15.20.6838.30; Tue, 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.ip, "fe80::a1b2:c3d4");
	CHECK_STR(h.with, "mapi");
}

TEST(received_gmail_by_only)
{
	ss_hop h;

	CHECK(parse("by 2002:a05:6a10:1234:b0:4a1:2b3c:4d5e with SMTP id abc; Tue, 3 Oct 2023 "
	            "01:02:03 -0700 (PDT)",
	            &h) == 0);
	CHECK_STR(h.by_host, "2002:a05:6a10:1234:b0:4a1:2b3c:4d5e");
	CHECK(h.ip.len == 0);
	CHECK(h.from_helo.len == 0);
	CHECK_STR(h.with, "SMTP");
	CHECK(h.time == 1696320123);
}

TEST(received_ipv6_literal_canonical)
{
	ss_hop h;

	CHECK(parse("from mail6.example (mail6.example [IPv6:2001:DB8:0:0:0:0:0:1]) by "
	            "mx.example.org (Postfix) with ESMTPS id 1; Tue, 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.ip, "2001:db8::1");
	CHECK_STR(h.from_rdns, "mail6.example");
}

TEST(received_ipv6_in_parens)
{
	ss_hop h;

	CHECK(parse("from client6.example (IPv6:2001:db8:0::5) by mx.example.org with ESMTP; "
	            "3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.ip, "2001:db8::5");
	CHECK_STR(h.from_helo, "client6.example");
}

TEST(received_ipv4_mapped_becomes_dotted)
{
	ss_hop h;

	CHECK(parse("from c.example (c.example [IPv6:::ffff:192.0.2.33]) by mx.example.org; "
	            "3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.ip, "192.0.2.33");
}

TEST(received_localhost)
{
	ss_hop h;

	CHECK(parse("from localhost (localhost [127.0.0.1]) by mx.example.org (Postfix) with "
	            "ESMTP id 5; Tue, 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "localhost");
	CHECK_STR(h.from_rdns, "localhost");
	CHECK_STR(h.ip, "127.0.0.1");
}

TEST(received_local_postfix_userid)
{
	ss_hop h;

	CHECK(parse("by host.example.org (Postfix, from userid 1000) id 4F1A2B3C; "
	            "Tue, 3 Oct 2023 08:00:00 +0000 (UTC)",
	            &h) == 0);
	CHECK_STR(h.by_host, "host.example.org");
	CHECK(h.from_helo.len == 0);
	CHECK(h.from_rdns.len == 0);
	CHECK(h.ip.len == 0);
	CHECK(h.with.len == 0);
	CHECK(h.time == T_0800);
}

TEST(received_non_ip_literal_ignored)
{
	ss_hop h;

	CHECK(parse("from a.example (a.example [not.an.ip]) by mx.example.org; "
	            "3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK(h.ip.len == 0);
	CHECK(h.from_rdns.len == 0);
	CHECK_STR(h.from_helo, "a.example");
}

TEST(received_leading_zero_ip_rejected)
{
	ss_hop h;

	CHECK(parse("from a.example (a.example [192.000.2.1]) by mx.example.org", &h) == 0);
	CHECK(h.ip.len == 0);
}

TEST(received_semicolon_in_comment_does_not_cut)
{
	ss_hop h;

	CHECK(parse("from a.example (note; relay.example [192.0.2.5]) by mx.example.org with "
	            "SMTP; Tue, 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.ip, "192.0.2.5");
	CHECK_STR(h.by_host, "mx.example.org");
	CHECK(h.time == T_0800);
}

TEST(received_date_after_last_semicolon)
{
	ss_hop h;

	CHECK(parse("from a.example by b.example id x; 1 Jan 1999 00:00:00 +0000; "
	            "Tue, 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK(h.time == T_0800);
}

TEST(received_missing_date)
{
	ss_hop h;

	CHECK(parse("from a.example (b.example [192.0.2.1]) by c.example with SMTP", &h) == 0);
	CHECK(h.time == 0);
	CHECK_STR(h.ip, "192.0.2.1");
	CHECK_STR(h.with, "SMTP");
}

TEST(received_garbage_date)
{
	ss_hop h;

	CHECK(parse("from a.example by c.example; yesterday-ish", &h) == 0);
	CHECK(h.time == 0);
}

TEST(received_from_without_name)
{
	ss_hop h;

	CHECK(parse("from by mx.example.org; 3 Oct 2023 08:00:00 +0000", &h) == 0);
	CHECK(h.from_helo.len == 0);
	CHECK_STR(h.by_host, "mx.example.org");
}

TEST(received_unclosed_comment)
{
	ss_hop h;

	CHECK(parse("from a.example (b.example [192.0.2.1] by mx.example.org; "
	            "3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "a.example");
	CHECK_STR(h.ip, "192.0.2.1");
	CHECK(h.time == T_0800);
}

TEST(received_keywords_any_case)
{
	ss_hop h;

	CHECK(parse("FROM a.example (b.example [192.0.2.1]) BY c.example WITH LMTP; "
	            "3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "a.example");
	CHECK_STR(h.by_host, "c.example");
	CHECK_STR(h.with, "LMTP");
}

TEST(received_junk_returns_1)
{
	ss_hop h;

	CHECK(parse("this is not a received header at all", &h) == 1);
	CHECK(h.by_host.len == 0 && h.from_helo.len == 0 && h.time == 0);
	CHECK(parse("", &h) == 1);
	CHECK(parse(";;;((([[[", &h) == 1);
}

TEST(received_keyword_inside_word_is_not_keyword)
{
	ss_hop h;

	CHECK(parse("fromage.example byway.example", &h) == 1);
}

TEST(received_hop_zeroed_first)
{
	ss_hop h;

	memset(&h, 0x5a, sizeof(h));
	CHECK(parse("by only.example", &h) == 0);
	CHECK(h.ip.p == NULL && h.ip.len == 0);
	CHECK(h.from_rdns.p == NULL && h.time == 0 && h.trusted == 0);
}

TEST(received_value_cut_mid_literal)
{
	ss_hop h;

	CHECK(parse("from a.example (b.example [192.0.2.1", &h) == 0);
	CHECK_STR(h.ip, "192.0.2.1");
	CHECK(parse("from a.example (b.example [IPv6:", &h) == 0);
	CHECK(h.ip.len == 0);
}

static double hostile_seconds(const char *prefix, char fill, size_t n)
{
	size_t plen = strlen(prefix);
	char *buf = malloc(plen + n);
	struct timespec t0, t1;
	ss_hop h;

	memcpy(buf, prefix, plen);
	memset(buf + plen, fill, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	received_parse(&rcv_arena, buf, plen + n, &h);
	received_parse_date(buf, plen + n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(buf);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

TEST(received_hostile_input_is_linear)
{
	/* Quadratic work on 64 KiB would take seconds even unoptimised. */
	CHECK(hostile_seconds("", '(', 65536) < 0.5);
	CHECK(hostile_seconds("from x ", '(', 65536) < 0.5);
	CHECK(hostile_seconds("from x (", '[', 65536) < 0.5);
	CHECK(hostile_seconds("from ", '[', 65536) < 0.5);
	CHECK(hostile_seconds("from x ", ')', 65536) < 0.5);
	CHECK(hostile_seconds("from x (a ", ';', 65536) < 0.5);
	CHECK(hostile_seconds("from x (HELO ", ' ', 65536) < 0.5);
}

TEST(received_hostile_many_words)
{
	size_t n = 65536, i;
	char *buf = malloc(n);
	ss_hop h;

	memcpy(buf, "from x  ", 8);
	for (i = 8; i + 4 <= n; i += 4)
		memcpy(buf + i, i % 8 ? "1.2 " : "(b [", 4);
	CHECK(received_parse(&rcv_arena, buf, n, &h) == 0);
	CHECK_STR(h.from_helo, "x");
	CHECK(h.ip.len == 0);
	free(buf);
}

/* ---- dates ---- */

TEST(date_full_with_comment)
{
	CHECK(date("Tue, 3 Oct 2023 10:22:33 +0200 (CEST)") == T_POSTFIX);
}

TEST(date_without_day_name)
{
	CHECK(date("3 Oct 2023 08:00:00 -0000") == T_0800);
	CHECK(date("  03 Oct 2023 08:00:00 +0000") == T_0800);
}

TEST(date_negative_offset)
{
	CHECK(date("Tue, 3 Oct 2023 01:02:03 -0700") == 1696320123);
}

TEST(date_named_zones)
{
	CHECK(date("3 Oct 2023 08:00:00 UT") == T_0800);
	CHECK(date("3 Oct 2023 08:00:00 GMT") == T_0800);
	CHECK(date("3 Oct 2023 08:00:00 Z") == T_0800);
	CHECK(date("3 Oct 2023 03:00:00 EST") == T_0800);
	CHECK(date("3 Oct 2023 04:00:00 EDT") == T_0800);
	CHECK(date("3 Oct 2023 02:00:00 CST") == T_0800);
	CHECK(date("3 Oct 2023 03:00:00 CDT") == T_0800);
	CHECK(date("3 Oct 2023 01:00:00 MST") == T_0800);
	CHECK(date("3 Oct 2023 02:00:00 MDT") == T_0800);
	CHECK(date("3 Oct 2023 00:00:00 PST") == T_0800);
	CHECK(date("3 Oct 2023 01:00:00 pdt") == T_0800);
}

TEST(date_military_zone_is_utc)
{
	CHECK(date("3 Oct 2023 08:00:00 A") == T_0800);
	CHECK(date("3 Oct 2023 08:00:00 y") == T_0800);
}

TEST(date_missing_zone_is_utc)
{
	CHECK(date("Tue, 3 Oct 2023 08:00:00") == T_0800);
}

TEST(date_missing_seconds)
{
	CHECK(date("Thu, 29 Feb 2024 12:00 -0500") == 1709226000);
}

TEST(date_two_digit_year)
{
	CHECK(date("1 Jan 49 00:00:00 +0000") == 2493072000LL);
	CHECK(date("1 Jan 99 00:00:00 +0000") == 915148800);
	CHECK(date("1 Jan 50 00:00:00 +0000") == -631152000LL);
	CHECK(date("3 Oct 23 08:00:00 +0000") == T_0800);
}

TEST(date_month_any_case_and_full_names)
{
	CHECK(date("tuesday, 3 OCTOBER 2023 08:00:00 +0000") == T_0800);
	CHECK(date("TUE, 3 oct 2023 08:00:00 +0000") == T_0800);
}

TEST(date_range_limits)
{
	CHECK(date("1 Jan 1900 00:00:00 +0000") == -2208988800LL);
	CHECK(date("31 Dec 9999 23:59:59 +0000") == 253402300799LL);
	CHECK(date("1 Mar 2000 00:00:00 +0000") == 951868800);
	CHECK(date("31 Dec 1969 23:59:59 +0000") == -1);
}

TEST(date_invalid_fields)
{
	CHECK(date("29 Feb 2023 12:00:00 +0000") == 0);
	CHECK(date("31 Apr 2023 12:00:00 +0000") == 0);
	CHECK(date("0 Oct 2023 12:00:00 +0000") == 0);
	CHECK(date("3 Oct 2023 24:00:00 +0000") == 0);
	CHECK(date("3 Oct 2023 12:60:00 +0000") == 0);
	CHECK(date("3 Oct 2023 12:00:61 +0000") == 0);
	CHECK(date("3 Oct 2023 12:00:00 +2400") == 0);
	CHECK(date("3 Oct 2023 12:00:00 +0060") == 0);
	CHECK(date("3 Oct 2023 12:00:00 +02") == 0);
	CHECK(date("3 Foo 2023 12:00:00 +0000") == 0);
	CHECK(date("3 Oct 20233 12:00:00 +0000") == 0);
	CHECK(date("3 Oct 1899 12:00:00 +0000") == 0);
	CHECK(date("123 Oct 2023 12:00:00 +0000") == 0);
}

TEST(date_garbage)
{
	CHECK(date("") == 0);
	CHECK(date("garbage") == 0);
	CHECK(date("Tue,") == 0);
	CHECK(date("Tue, 3 Oct") == 0);
	CHECK(date("Tue, 3 Oct 2023") == 0);
	CHECK(date("Tue, 3 Oct 2023 08") == 0);
	CHECK(date("Tue, 3 Oct 2023 08:") == 0);
	CHECK(date("Tue, 3 Oct 2023 08:0") == 0);
	CHECK(date("99999999999999999999 Oct 2023 08:00:00 +0000") == 0);
	CHECK(received_parse_date(NULL, 5) == 0);
}

TEST(date_stops_at_len)
{
	/* The zone lies past len: the date must read as UTC, not +0200. */
	const char *s = "3 Oct 2023 08:00:00 +0200";

	CHECK(received_parse_date(s, 19) == T_0800);
}

__attribute__((destructor)) static void rcv_arena_done(void)
{
	arena_release(&rcv_arena);
}

TEST(received_repeated_keyword_keeps_first)
{
	ss_hop h;

	CHECK(parse("from a.example (a.example [192.0.2.1]) by b.example from c.example "
	            "(c.example [192.0.2.2]) by d.example; 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "a.example");
	CHECK_STR(h.ip, "192.0.2.1");
	CHECK_STR(h.by_host, "b.example");
}

/* A fuzz finding: an address literal of 47-63 bytes with a NUL after a
 * valid IPv4 address overflowed the 46-byte canonical-address buffer. */
TEST(received_ip_literal_with_nul)
{
	static const char v[] = "from mta.example.org ([203.0.113.9\0"
	                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]) "
	                        "by mx.example.org; Tue, 3 Oct 2023 10:22:33 +0200";
	ss_hop hop;
	ss_arena a;

	arena_init(&a);
	CHECK(received_parse(&a, v, sizeof(v) - 1, &hop) == 0);
	CHECK_STR(hop.ip, "203.0.113.9");
	arena_release(&a);
}

TEST(received_fuzz_regressions)
{
	size_t len;
	char *buf = test_read_data("fuzz-regress/received-ip-with-nul", &len);
	ss_hop hop;
	ss_arena a;

	arena_init(&a);
	CHECK(received_parse(&a, buf, len, &hop) >= 0);
	arena_release(&a);
	free(buf);
}

TEST(received_month_and_zone_any_case)
{
	ss_hop h;

	/* 01:00 PDT is 08:00 UTC */
	CHECK(parse("from a.example (a.example [192.0.2.1]) by c.example; "
	            "tUE, 3 oCT 2023 01:00:00 pdt",
	            &h) == 0);
	CHECK(h.time == T_0800);
	CHECK(date("Tue, 3 OCT 2023 08:00:00 gmt") == T_0800);
	CHECK(date("3 Okt 2023 08:00:00 +0000") == 0);
}

/* Long fields: the ';' and comment scans go 16 bytes at a time, and must
 * still see escapes, nesting and a ';' in a comment at any offset. */
TEST(received_long_comments_and_escapes)
{
	ss_hop h;

	CHECK(parse("from helo.example (rdns.example [192.0.2.1] (nested; with a semicolon "
	            "and a \\) escaped paren) more words here) by mx.example.net "
	            "(Postfix; also a semicolon inside) with ESMTPS id 0123456789ABCDEF; "
	            "Tue, 3 Oct 2023 08:00:00 +0000",
	            &h) == 0);
	CHECK_STR(h.from_helo, "helo.example");
	CHECK_STR(h.from_rdns, "rdns.example");
	CHECK_STR(h.ip, "192.0.2.1");
	CHECK_STR(h.by_host, "mx.example.net");
	CHECK_STR(h.with, "ESMTPS");
	CHECK(h.time == T_0800);
}
