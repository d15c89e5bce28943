/*
 * test_header.c: the header block scanner (src/mime/header.c).
 */
#include "harness.h"
#include "mime/header.h"

static int scan_all(const char *buf, hdr_field *f, int max, size_t *body, unsigned *facts)
{
	size_t pos = 0;
	int n = 0;

	*facts = 0;
	while (n < max && hdr_next(buf, strlen(buf), &pos, &f[n], facts))
		n++;
	*body = pos;
	return n;
}

TEST(header_basic_fields_and_body)
{
	const char *m = "From: a@b.example\r\nSubject: hi there\r\n\r\nbody\r\n";
	hdr_field f[4];
	size_t body;
	unsigned facts;
	int n = scan_all(m, f, 4, &body, &facts);

	CHECK(n == 2);
	CHECK_SLICE(f[0].name, f[0].name_len, "From");
	CHECK_SLICE(f[1].value, f[1].value_len, "hi there");
	CHECK(!strcmp(m + body, "body\r\n"));
	CHECK(facts == 0);
}

TEST(header_folded_value_is_unfolded)
{
	const char *m = "Subject: one\n\ttwo\n  three\nX: y\n\nb";
	hdr_field f[4];
	size_t body;
	unsigned facts;
	ss_arena a;
	int cut;
	ss_str u;

	CHECK(scan_all(m, f, 4, &body, &facts) == 2);
	arena_init(&a);
	u = hdr_unfold(&a, f[0].value, f[0].value_len, 1000, &cut);
	CHECK_STR(u, "one\ttwo  three");
	CHECK(!cut);
	u = hdr_unfold(&a, f[0].value, f[0].value_len, 5, &cut);
	CHECK(cut && u.len == 5);
	arena_release(&a);
}

TEST(header_line_without_colon_is_skipped)
{
	const char *m = "From: a@b.example\nthis is junk\nSubject: s\n\nbody";
	hdr_field f[4];
	size_t body;
	unsigned facts;

	CHECK(scan_all(m, f, 4, &body, &facts) == 2);
	CHECK(facts & HDR_F_NO_COLON);
	CHECK_SLICE(f[1].name, f[1].name_len, "Subject");
	CHECK(!strcmp(m + body, "body"));
}

TEST(header_missing_blank_line_starts_body)
{
	const char *m = "Subject: s\nHello, this is the body.\nMore body.";
	hdr_field f[4];
	size_t body;
	unsigned facts;

	CHECK(scan_all(m, f, 4, &body, &facts) == 1);
	CHECK(facts & HDR_F_NO_BLANK);
	CHECK(!strncmp(m + body, "Hello", 5));
}

TEST(header_mbox_from_line_and_space_before_colon)
{
	const char *m = "From joe@example.com Mon Jan  1 00:00:00 2024\nSubject : x\n\nb";
	hdr_field f[4];
	size_t body;
	unsigned facts;

	CHECK(scan_all(m, f, 4, &body, &facts) == 1);
	CHECK(facts & HDR_F_MBOX_FROM);
	CHECK_SLICE(f[0].name, f[0].name_len, "Subject");
	CHECK_SLICE(f[0].value, f[0].value_len, "x");
}

TEST(header_8bit_and_no_body)
{
	const char *m = "Subject: Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t\n";
	hdr_field f[4];
	size_t body;
	unsigned facts;

	CHECK(scan_all(m, f, 4, &body, &facts) == 1);
	CHECK(facts & HDR_F_8BIT);
	CHECK(body == strlen(m));
}
