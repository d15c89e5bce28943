/*
 * test_report.c: the report modules: the ARF builder (structure, fields,
 * the original unchanged, line ends, boundary, headers-only above the
 * limit), the contacts map (longest prefix, v4-mapped, errors with
 * FILE:LINE), the absent country database, and the evidence framing
 * (round trip, a torn record skipped, the statistics).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "daemon/config.h"
#include "proto/spamd.h"
#include "report/arf.h"
#include "report/contacts.h"
#include "report/evidence.h"
#include "report/report.h"
#include "spamsift.h"

static const char orig_lf[] = "Received: from x (x [192.0.2.9]) by mx; Mon, 2 Nov 2026 10:00:00 "
                              "+0000\nFrom: a@spam.example\nSubject: hi\n\nbody --b\n";

static void arf_basic(arf_report *r, const char *orig)
{
	memset(r, 0, sizeof(*r));
	r->from = "reports@here.example";
	r->to = "abuse@there.example";
	r->message_id = "id1@here.example";
	r->date = 1790000000;
	r->source_ip = "192.0.2.9";
	r->original = orig;
	r->original_len = strlen(orig);
}

TEST(arf_fields_and_original)
{
	arf_report r;
	sbuf b = SBUF_INIT;

	arf_basic(&r, orig_lf);
	r.uris[r.nuris++] = "http://spam.example/x";
	r.reported_domain = "spam.example";
	CHECK(arf_build(&r, &b) == 0);
	CHECK_CONTAINS(b.p, b.len, "Content-Type: multipart/report; report-type=feedback-report;");
	CHECK_CONTAINS(b.p, b.len, "\nTo: abuse@there.example\n");
	CHECK_CONTAINS(b.p, b.len, "\nMIME-Version: 1.0\n");
	CHECK_CONTAINS(b.p, b.len,
	               "Content-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
	               "User-Agent: spamsift/" SS_VERSION "\nVersion: 1\n");
	CHECK_CONTAINS(b.p, b.len, "\nSource-IP: 192.0.2.9\n");
	CHECK_CONTAINS(b.p, b.len, "\nReported-Uri: http://spam.example/x\n");
	CHECK_CONTAINS(b.p, b.len, "Content-Type: message/rfc822\n");
	CHECK_CONTAINS(b.p, b.len, orig_lf);
	CHECK(!memchr(b.p, '\r', b.len));
	sbuf_release(&b);
}

TEST(arf_crlf_and_injection)
{
	const char *o = "From: a@b.example\r\nSubject: x\r\n\r\nhello\r\n";
	arf_report r;
	sbuf b = SBUF_INIT;
	size_t lf = 0, crlf = 0;

	arf_basic(&r, o);
	r.mail_from = "<x@y>\r\nBcc: victim@z";
	CHECK(arf_build(&r, &b) == 0);
	for (size_t i = 0; i < b.len; i++)
		if (b.p[i] == '\n') {
			lf++;
			crlf += i && b.p[i - 1] == '\r';
		}
	CHECK(lf == crlf);
	CHECK(!memmem(b.p, b.len, "\nBcc:", 5));
	CHECK_CONTAINS(b.p, b.len, "Original-Mail-From: <x@y>  Bcc: victim@z\r\n");
	sbuf_release(&b);
}

TEST(arf_boundary_not_in_content)
{
	arf_report r;
	sbuf b = SBUF_INIT, first = SBUF_INIT;
	char *orig;
	const char *bp;

	/* the original holds the boundary the builder would pick first */
	arf_basic(&r, orig_lf);
	CHECK(arf_build(&r, &first) == 0);
	bp = strstr(first.p, "boundary=\"") + 10;
	CHECK(asprintf(&orig, "Subject: x\n\n--%.*s\n", (int)(strchr(bp, '"') - bp), bp) > 0);
	arf_basic(&r, orig);
	r.date = 1790000000;
	CHECK(arf_build(&r, &b) == 0);
	bp = strstr(b.p, "boundary=\"") + 10;
	CHECK(!strstr(orig, bp == NULL ? "" : strndupa(bp, (size_t)(strchr(bp, '"') - bp))));
	free(orig);
	sbuf_release(&b);
	sbuf_release(&first);
}

TEST(arf_headers_only_and_refusals)
{
	arf_report r;
	sbuf b = SBUF_INIT;

	arf_basic(&r, orig_lf);
	r.max_original = 10;
	CHECK(arf_build(&r, &b) == 0);
	CHECK_CONTAINS(b.p, b.len, "Content-Type: text/rfc822-headers\n\nReceived:");
	CHECK(!memmem(b.p, b.len, "body --b", 8));
	r.from = NULL;
	CHECK(arf_build(&r, &b) == SS_EINVAL);
	sbuf_release(&b);
}

TEST(report_make_source_and_contact)
{
	const char *file = "192.0.2.0/24 abuse@net.example AS1 FR\n";
	contact_map *m = NULL;
	report_cfg cfg = {0};
	report_out o;
	ss_arena a;
	char err[200];

	CHECK(contacts_parse(file, strlen(file), "c", &m, err, sizeof(err)) == 0);
	cfg.contacts = m;
	arena_init(&a);
	CHECK(report_make(&cfg, "u", orig_lf, strlen(orig_lf), 1790000000, &a, &o) == 0);
	CHECK(o.source_known && o.to && !strcmp(o.to, "abuse@net.example"));
	CHECK(!strcmp(o.ev.country, "FR") && !strcmp(o.ev.asn, "AS1") && !strcmp(o.ev.user, "u"));
	CHECK_CONTAINS(o.arf.p, o.arf.len, "To: abuse@net.example\n");
	sbuf_release(&o.arf);
	CHECK(report_make(&cfg, NULL, "", 0, 1, &a, &o) == SS_EEMPTY);
	sbuf_release(&o.arf);
	arena_release(&a);
	contacts_free(m);
	/* no server: nothing to add; a server without a readable key: refused */
	CHECK(report_fingerprint(NULL, NULL, "x", 1) == 0);
	CHECK(report_fingerprint("127.0.0.1:9", "/nonexistent/key", "x", 1) == SS_EIO);
}

static const char *lookup(const contact_map *m, const char *ip)
{
	contact c;

	return contacts_lookup(m, ip, &c) ? c.addr : NULL;
}

TEST(contacts_longest_prefix)
{
	const char *file = "# comment\n\n10.0.0.0/8 a@ten.example AS64500 US\n"
	                   "10.1.0.0/16\tb@ten.example  VN\r\n10.1.2.3 c@host.example\n"
	                   "2001:db8::/32 d@v6.example\n0.0.0.0/0 e@any.example\n";
	contact_map *m = NULL;
	contact c;
	char err[200] = "";

	CHECK(contacts_parse(file, strlen(file), "f", &m, err, sizeof(err)) == 0);
	CHECK(contacts_count(m) == 5);
	CHECK(!strcmp(lookup(m, "10.9.9.9"), "a@ten.example"));
	CHECK(!strcmp(lookup(m, "10.1.9.9"), "b@ten.example"));
	CHECK(!strcmp(lookup(m, "10.1.2.3"), "c@host.example"));
	CHECK(!strcmp(lookup(m, "::ffff:10.1.2.3"), "c@host.example"));
	CHECK(!strcmp(lookup(m, "2001:db8:1::1"), "d@v6.example"));
	CHECK(!strcmp(lookup(m, "192.0.2.1"), "e@any.example"));
	CHECK(lookup(m, "2001:db9::1") == NULL);
	CHECK(lookup(m, "not-an-ip") == NULL);
	CHECK(contacts_lookup(m, "10.1.0.1", &c) == 1);
	CHECK(!strcmp(c.network, "10.1.0.0/16") && !strcmp(c.cc, "VN") && c.asn == NULL);
	contacts_free(m);
}

static void bad_contacts(const char *file, const char *want)
{
	contact_map *m = NULL;
	char err[200] = "";

	CHECK(contacts_parse(file, strlen(file), "cf", &m, err, sizeof(err)) == SS_ESYNTAX);
	CHECK(m == NULL);
	CHECK_CONTAINS(err, strlen(err), want);
}

TEST(contacts_errors)
{
	bad_contacts("10.0.0.0/8 a@b\n10.0.0.0/33 a@b\n", "cf:2: bad prefix length");
	bad_contacts("10.0.0.0/8\n", "cf:1: want CIDR CONTACT");
	bad_contacts("300.1.1.1 a@b\n", "cf:1: not an IP address");
	bad_contacts("10.0.0.0/8 nobody\n", "cf:1: the contact is not an address");
	bad_contacts("10.0.0.0/8 a@b zz\n", "cf:1: want [ASnumber] [CC]");
	bad_contacts("10.0.0.0/8 a@b US FR\n", "cf:1: want [ASnumber]");
	bad_contacts("10.0.0.0/8 a@b AS1 US x y\n", "cf:1: too many words");
	bad_contacts("10.0.0.0/ a@b\n", "cf:1: bad prefix length");
}

TEST(geoip_absent)
{
	geoip *g = NULL;
	char err[300] = "", cc[3] = "";

	CHECK(geoip_open("/nonexistent/x.mmdb", &g, err, sizeof(err)) == SS_EIO);
	CHECK(g == NULL);
	CHECK_CONTAINS(err, strlen(err), "/nonexistent/x.mmdb");
	CHECK(geoip_country(NULL, "192.0.2.1", cc) == 0);
	geoip_close(NULL);
}

static evidence_rec rec(int64_t t, const char *net, const char *cc, const char *orig)
{
	evidence_rec r = {0};

	r.time = t;
	r.ip = "192.0.2.1";
	r.network = net;
	r.country = cc;
	r.contact = "abuse@x";
	r.user = "bob\nEvil: yes";
	r.original = orig;
	r.original_len = strlen(orig);
	evidence_sha256(orig, r.original_len, r.sha256);
	return r;
}

TEST(evidence_round_trip_and_torn_tail)
{
	sbuf b = SBUF_INIT;
	evidence_rec in[3], out;
	ss_arena a;
	size_t off = 0, skipped = 0, first_len;

	in[0] = rec(100, "192.0.2.0/24", "FR", "Subject: a\n\nx\n\n");
	in[1] = rec(200, "", "", "Subject: b\n\nSSEVID1\nfake magic in the body\n");
	in[2] = rec(300, "192.0.2.0/24", "FR", "Subject: c\n\nz\n");
	CHECK(evidence_encode(&in[0], &b) == 0);
	first_len = b.len;
	CHECK(evidence_encode(&in[1], &b) == 0);
	b.len -= 7; /* torn: its end never reached the disk */
	CHECK(evidence_encode(&in[2], &b) == 0);
	arena_init(&a);
	CHECK(evidence_decode(b.p, b.len, &off, &a, &out, &skipped) == 1);
	CHECK(out.time == 100 && !strcmp(out.network, "192.0.2.0/24") &&
	      !strcmp(out.country, "FR"));
	CHECK(!strcmp(out.user, "bob Evil: yes") && !strcmp(out.sha256, in[0].sha256));
	CHECK_SLICE(out.original, out.original_len, "Subject: a\n\nx\n\n");
	CHECK(off == first_len && skipped == 0);
	CHECK(evidence_decode(b.p, b.len, &off, &a, &out, &skipped) == 1);
	CHECK(out.time == 300 && skipped > 0);
	CHECK_SLICE(out.original, out.original_len, "Subject: c\n\nz\n");
	CHECK(evidence_decode(b.p, b.len, &off, &a, &out, &skipped) == 0);
	arena_release(&a);
	sbuf_release(&b);
}

TEST(evidence_stats_counts)
{
	evidence_stats s;
	evidence_rec r1 = rec(100, "n1", "FR", "x"), r2 = rec(200, "n2", "", "y"),
	             r3 = rec(300, "n1", "FR", "z");
	sbuf b = SBUF_INIT;
	int64_t t;

	evidence_stats_init(&s, 150, 0);
	CHECK(evidence_stats_add(&s, &r1) == 0 && evidence_stats_add(&s, &r2) == 0 &&
	      evidence_stats_add(&s, &r3) == 0);
	evidence_stats_sort(&s);
	CHECK(s.total == 2 && s.nnetwork == 2 && s.ncountry == 2);
	CHECK(evidence_stats_csv(&s, &b) == 0);
	CHECK_CONTAINS(b.p, b.len, "network,n1,FR,1\nnetwork,n2,,1\n");
	evidence_stats_release(&s);
	sbuf_release(&b);
	CHECK(evidence_parse_time("2000-01-01", &t) == 0 && t == 946684800);
	CHECK(evidence_parse_time("2000-01-01T00:00:10Z", &t) == 0 && t == 946684810);
	CHECK(evidence_parse_time("1700000000", &t) == 0 && t == 1700000000);
	CHECK(evidence_parse_time("soon", &t) == SS_ESYNTAX);
}

TEST(report_config_keys_and_tell_reply)
{
	const char *file = "evidence = /var/lib/spamsift/evidence\ncontacts = /etc/c\n"
	                   "geoip = /g.mmdb\nreport_from = r@x.example\n";
	config c;
	config_error e;
	sbuf b = SBUF_INIT;

	config_init(&c);
	CHECK(config_parse(&c, file, strlen(file), &e) == 0);
	CHECK(c.evidence && !strcmp(c.evidence, "/var/lib/spamsift/evidence"));
	CHECK(c.contacts && !strcmp(c.contacts, "/etc/c") && c.geoip && c.report_from);
	config_release(&c);
	CHECK(spamd_reply_tell(&b, SPAMD_LOCAL | SPAMD_REMOTE, 0) == 0);
	CHECK_CONTAINS(b.p, b.len, "DidSet: local,remote\r\n");
	sbuf_reset(&b);
	CHECK(spamd_reply_tell(&b, SPAMD_REMOTE, 0) == 0);
	CHECK_CONTAINS(b.p, b.len, "DidSet: remote\r\n");
	sbuf_release(&b);
}
