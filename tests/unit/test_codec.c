/*
 * test_codec.c: transfer decoders (src/mime/codec.c).
 */
#include "harness.h"

#include <stdio.h>
#include "mime/codec.h"

static void b64(const char *in, const char *want, unsigned want_flags)
{
	sbuf b = SBUF_INIT;
	unsigned fl = 0;

	CHECK(codec_base64(&b, in, strlen(in), &fl) == 0);
	CHECK_SLICE(b.p ? b.p : "", b.len, want);
	CHECK((fl & want_flags) == want_flags);
	sbuf_release(&b);
}

TEST(base64_plain_and_lines)
{
	b64("SGVsbG8sIHdvcmxkIQ==", "Hello, world!", 0);
	b64("SGVs\r\nbG8s\r\nIHdv\ncmxkIQ==\r\n", "Hello, world!", 0);
}

TEST(base64_missing_padding_and_junk)
{
	b64("SGVsbG8sIHdvcmxkIQ", "Hello, world!", CODEC_F_NO_PADDING);
	b64("SGVs*bG8s!IHdvcmxkIQ==", "Hello, world!", CODEC_F_JUNK);
}

TEST(base64_concatenated_blobs)
{
	b64("SGk=SGk=", "HiHi", 0);
}

static void qp(const char *in, int header, const char *want, unsigned want_flags)
{
	sbuf b = SBUF_INIT;
	unsigned fl = 0;

	CHECK(codec_qp(&b, in, strlen(in), header, &fl) == 0);
	CHECK_SLICE(b.p ? b.p : "", b.len, want);
	CHECK((fl & want_flags) == want_flags);
	sbuf_release(&b);
}

TEST(qp_soft_breaks_and_escapes)
{
	qp("caf=C3=A9 au lait=\r\n is good", 0, "caf\xc3\xa9 au lait is good", 0);
	qp("lower =c3=a9 case", 0, "lower \xc3\xa9 case", 0);
	qp("soft with space= \nnext", 0, "soft with spacenext", 0);
}

TEST(qp_bad_escape_kept)
{
	qp("100=ZZ off", 0, "100=ZZ off", CODEC_F_BAD_ESCAPE);
	qp("ends with =", 0, "ends with ", 0);
}

TEST(qp_header_underscore)
{
	qp("Hello_World=21", 1, "Hello World!", 0);
	qp("Hello_World", 0, "Hello_World", 0);
}

TEST(uuencode_find_and_decode)
{
	const char *t = "See attached.\n"
	                "begin 644 hello.txt\n"
	                ".2&5L;&\\L('=O<FQD(0H`\n"
	                "`\n"
	                "end\n"
	                "Bye.\n";
	uu_block blk;
	sbuf b = SBUF_INIT;
	unsigned fl = 0;

	CHECK(codec_uu_find(t, strlen(t), 0, &blk) == 1);
	CHECK_SLICE(blk.name, blk.name_len, "hello.txt");
	CHECK(!strcmp(t + blk.end, "Bye.\n"));
	CHECK(codec_uu_decode(&b, t, &blk, &fl) == 0);
	CHECK_SLICE(b.p ? b.p : "", b.len, "Hello, world!\n");
	CHECK(!(fl & CODEC_F_TRUNCATED));
	sbuf_release(&b);
}

/* Where a block may begin: at `from` only when it starts a line, after
 * lines that start with 'b' or with a false "begin ", and after more than
 * 16 bytes of text (the scan reads 16 at a time). */
TEST(uuencode_found_only_at_line_starts)
{
	const char *data = "begin 644 a.txt\n"
	                   ".2&5L;&\\L('=O<FQD(0H`\n"
	                   "`\nend\n";
	char t[512];
	uu_block blk;
	size_t at;

	snprintf(t, sizeof(t), "%s", data);
	CHECK(codec_uu_find(t, strlen(t), 0, &blk) == 1 && blk.start == 0);
	CHECK(codec_uu_find(t, strlen(t), 1, &blk) == 0); /* from inside the line */
	snprintf(t, sizeof(t), "x%s", data);
	CHECK(codec_uu_find(t, strlen(t), 1, &blk) == 0); /* from mid-line */
	snprintf(t, sizeof(t), "bad\nbegin nothing\nbe quick, a long line of prose here\n%s", data);
	at = strlen(t) - strlen(data);
	CHECK(codec_uu_find(t, strlen(t), 0, &blk) == 1 && blk.start == at);
	CHECK(codec_uu_find(t, strlen(t), at, &blk) == 1 && blk.start == at);
	CHECK(codec_uu_find(t, at + 3, 0, &blk) == 0); /* cut before the data */
}

TEST(uuencode_not_found_in_prose)
{
	const char *t = "We will begin 644 new projects\nnext year.\n";
	uu_block blk;

	CHECK(codec_uu_find(t, strlen(t), 0, &blk) == 0);
}
