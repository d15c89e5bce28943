/*
 * test_auth.c: the pure parts of src/auth: the DMARC record parser, From
 * domains, organisational domains and alignment, the DMARC evaluation,
 * DKIM key names and the Authentication-Results value. Lookups against a
 * real DNS server are in tests/auth.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/arhdr.h"
#include "auth/dkimv.h"
#include "auth/dmarc.h"
#include "harness.h"

static int parse(const char *txt, dmarc_record *r)
{
	return dmarc_parse(txt, strlen(txt), r);
}

TEST(dmarc_record_tags_and_defaults)
{
	dmarc_record r;

	CHECK(parse("v=DMARC1; p=reject", &r) == 0);
	CHECK(r.p == DMARC_P_REJECT && r.sp == DMARC_P_REJECT && r.pct == 100);
	CHECK(!r.adkim_strict && !r.aspf_strict);
	CHECK(parse(" v = DMARC1 ;p=quarantine; sp=none ; pct=25; adkim=s; aspf=s;", &r) == 0);
	CHECK(r.p == DMARC_P_QUARANTINE && r.sp == DMARC_P_NONE && r.pct == 25);
	CHECK(r.adkim_strict && r.aspf_strict);
	CHECK(parse("v=DMARC1;p=NONE;fo=1;rf=afrf;ri=86400;x-unknown=yes", &r) == 0);
	CHECK(r.p == DMARC_P_NONE);
}

TEST(dmarc_record_bad_values_fall_back)
{
	dmarc_record r;

	CHECK(parse("v=DMARC1; p=reject; sp=bogus; pct=250; adkim=x; aspf=", &r) == 0);
	CHECK(r.sp == DMARC_P_REJECT && r.pct == 100 && !r.adkim_strict && !r.aspf_strict);
	CHECK(parse("v=DMARC1; p=reject; pct=-1", &r) == 0 && r.pct == 100);
	CHECK(parse("v=DMARC1; p=reject; pct=0", &r) == 0 && r.pct == 0);
	/* No valid p: p=none when there is a rua (RFC 7489 6.6.3), else invalid. */
	CHECK(parse("v=DMARC1; p=maybe; rua=mailto:a@example.test", &r) == 0 &&
	      r.p == DMARC_P_NONE);
	CHECK(parse("v=DMARC1; rua=mailto:a@example.test", &r) == 0);
	CHECK(parse("v=DMARC1; p=maybe", &r) == SS_ESYNTAX);
	CHECK(parse("v=DMARC1", &r) == SS_ESYNTAX);
}

TEST(dmarc_record_not_dmarc)
{
	dmarc_record r;

	CHECK(parse("", &r) == SS_ESYNTAX);
	CHECK(parse("v=spf1 -all", &r) == SS_ESYNTAX);
	CHECK(parse("p=reject; v=DMARC1", &r) == SS_ESYNTAX);
	CHECK(parse("v=DMARC2; p=reject", &r) == SS_ESYNTAX);
	CHECK(parse("v=DMARC1 p=reject", &r) == SS_ESYNTAX);
	CHECK(parse("v=DMARC1; p", &r) == SS_ESYNTAX);
	CHECK(parse(";;;", &r) == SS_ESYNTAX);
	CHECK(dmarc_parse("v=DMARC1; p=reject\0x", 20, &r) == SS_ESYNTAX);
}

TEST(dmarc_from_domain_of_field_values)
{
	ss_arena a;
	const char *d;

	arena_init(&a);
	d = dmarc_from_domain("Someone <u@Example.TEST>", 24, &a);
	CHECK(d && !strcmp(d, "example.test"));
	d = dmarc_from_domain("u@sub.example.test (comment@evil.test)", 38, &a);
	CHECK(d && !strcmp(d, "sub.example.test"));
	d = dmarc_from_domain("\"paypal.com@x\" <u@evil.test.>", 29, &a);
	CHECK(d && !strcmp(d, "evil.test"));
	CHECK(dmarc_from_domain("undisclosed-recipients:;", 24, &a) == NULL);
	CHECK(dmarc_from_domain("<u@>", 4, &a) == NULL);
	CHECK(dmarc_from_domain("<u@a..b>", 8, &a) == NULL);
	CHECK(dmarc_from_domain("<u@a b.test>", 12, &a) == NULL);
	arena_release(&a);
}

TEST(dmarc_org_domain_and_alignment)
{
	const psl_ctx_t *psl = psl_builtin();

	CHECK(!strcmp(dmarc_org_domain(psl, "a.b.example.com"), "example.com"));
	CHECK(!strcmp(dmarc_org_domain(psl, "mail.example.co.uk"), "example.co.uk"));
	CHECK(!strcmp(dmarc_org_domain(psl, "x.example.test"), "example.test"));
	CHECK(!strcmp(dmarc_org_domain(psl, "co.uk"), "co.uk"));
	CHECK(dmarc_aligned(psl, "Example.COM", "example.com", 1));
	CHECK(!dmarc_aligned(psl, "mail.example.com", "example.com", 1));
	CHECK(dmarc_aligned(psl, "mail.example.com", "example.com", 0));
	CHECK(dmarc_aligned(psl, "a.example.co.uk", "b.example.co.uk", 0));
	CHECK(!dmarc_aligned(psl, "example.co.uk", "other.co.uk", 0));
	CHECK(!dmarc_aligned(psl, "", "example.com", 0));
}

TEST(dmarc_evaluation)
{
	const psl_ctx_t *psl = psl_builtin();
	dmarc_record r;
	dmarc_policy p;
	const char *dk[] = {"mail.example.com"};
	dmarc_input in = {.from = "example.com", .spf = AUTH_FAIL, .spf_domain = "x.test"};

	CHECK(dmarc_eval(psl, &in, &p) == AUTH_NONE);
	CHECK(parse("v=DMARC1; p=reject; sp=quarantine; pct=50", &r) == 0);
	in.rec = &r;
	CHECK(dmarc_eval(psl, &in, &p) == AUTH_FAIL && p == DMARC_P_REJECT);
	in.sample = 50; /* outside the 50% sample: one step milder */
	CHECK(dmarc_eval(psl, &in, &p) == AUTH_FAIL && p == DMARC_P_QUARANTINE);
	in.sample = 0;
	in.at_org = 1;
	CHECK(dmarc_eval(psl, &in, &p) == AUTH_FAIL && p == DMARC_P_QUARANTINE);
	in.at_org = 0;
	in.temperror = 1;
	CHECK(dmarc_eval(psl, &in, &p) == AUTH_TEMPERROR);
	in.dkim_d = dk;
	in.ndkim = 1;
	CHECK(dmarc_eval(psl, &in, &p) == AUTH_PASS);
	r.adkim_strict = 1;
	CHECK(dmarc_eval(psl, &in, &p) == AUTH_TEMPERROR);
	in.temperror = 0;
	in.spf = AUTH_PASS;
	in.spf_domain = "bounce.example.com";
	CHECK(dmarc_eval(psl, &in, &p) == AUTH_PASS);
	r.aspf_strict = 1;
	CHECK(dmarc_eval(psl, &in, &p) == AUTH_FAIL);
}

TEST(dkim_key_names_from_signature_fields)
{
	ss_arena a;
	const char *v = "v=1; a=rsa-sha256; c=relaxed/simple; d=exa\r\n mple.test;\r\n s=sel1;"
	                " bh=abc=; b=xyz";
	const char *k;

	arena_init(&a);
	k = dkimv_key_name(v, strlen(v), &a);
	CHECK(k && !strcmp(k, "sel1._domainkey.example.test"));
	CHECK(dkimv_key_name("v=1; d=example.test", 19, &a) == NULL);
	CHECK(dkimv_key_name("v=1; d=example.test; s=", 23, &a) == NULL);
	CHECK(dkimv_key_name("d=a..b; s=x", 11, &a) == NULL);
	CHECK(dkimv_key_name("d=evil.test; s=x/y", 18, &a) == NULL);
	k = dkimv_key_name("ds=no; d=example.test; s=k", 26, &a);
	CHECK(k && !strcmp(k, "k._domainkey.example.test"));
	arena_release(&a);
}

TEST(authentication_results_value)
{
	ss_arena a;
	ar_dkim sigs[2] = {
	    {AUTH_PASS, "example.test", "sel1", "AbCd1234", NULL},
	    {AUTH_PERMERROR, "other.test", "s(2)", NULL, "key not found"},
	};
	ar_results r = {
	    .spf = {1, AUTH_SOFTFAIL, "u@example.test", "mx.example.test", NULL},
	    .dkim = sigs,
	    .ndkim = 2,
	    .dmarc = {1, AUTH_FAIL, "example.test", "reject"},
	};
	const char *v;

	arena_init(&a);
	v = ar_format(&a, "mx.local", &r);
	CHECK(v && !strcmp(v, "mx.local; spf=softfail smtp.mailfrom=u@example.test "
	                      "smtp.helo=mx.example.test; dkim=pass header.d=example.test "
	                      "header.s=sel1 header.b=AbCd1234; dkim=permerror (key not found) "
	                      "header.d=other.test header.s=\"s(2)\"; dmarc=fail (p=reject) "
	                      "header.from=example.test"));
	r.spf.checked = 0;
	r.ndkim = 0;
	r.dmarc = (ar_dmarc){1, AUTH_NONE, "example.test", NULL};
	v = ar_format(&a, NULL, &r);
	CHECK(v && !strcmp(v, "localhost; dkim=none; dmarc=none header.from=example.test"));
	r.spf = (ar_spf){1, AUTH_PERMERROR, "a\"b c@x.test", NULL, "bad (record)\r\n"};
	r.dmarc.checked = 0;
	v = ar_format(&a, "id", &r);
	CHECK(v && !strcmp(v, "id; spf=permerror (bad record) smtp.mailfrom=\"a\\\"b c@x.test\"; "
	                      "dkim=none"));
	arena_release(&a);
}

/* A crash fuzz_dmarc found: an authserv-id with ESC bytes went into the
 * value as it was. */
TEST(authentication_results_id_without_control_bytes)
{
	ss_arena a;
	size_t len;
	char *id = test_read_data("fuzz-regress/ar-authserv-id-escape-bytes", &len);
	char *z = malloc(len + 1);
	ar_results r = {0};
	const char *v;

	arena_init(&a);
	memcpy(z, id, len);
	z[len] = '\0';
	v = ar_format(&a, z, &r);
	CHECK(v != NULL);
	for (const char *p = v; v && *p; p++)
		CHECK((unsigned char)*p >= ' ');
	CHECK(v && v[0] == '"');
	v = ar_format(&a, "mx.example.test", &r);
	CHECK(v && !strcmp(v, "mx.example.test; dkim=none"));
	free(z);
	free(id);
	arena_release(&a);
}
