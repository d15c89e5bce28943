/*
 * test_mime.c: the MIME tree walker and ss_parse() (src/mime/mime.c,
 * src/mime/message.c), on messages built in the test, and every limit.
 */
#include <stdlib.h>

#include "harness.h"
#include "spamsift.h"
#include "util/buf.h"

static ss_message *parse(const char *m, const ss_limits *lim)
{
	ss_parse_opts o = {lim, NULL};
	ss_message *msg = NULL;

	CHECK(ss_parse(m, strlen(m), &o, &msg) == 0);
	return msg;
}

static int has_fact(const ss_message *m, const char *name)
{
	return m && ss_message_has_fact(m, name);
}

TEST(mime_refuses_empty_binary_and_prose)
{
	ss_message *m = NULL;

	CHECK(ss_parse("", 0, NULL, &m) == SS_EEMPTY && !m);
	CHECK(ss_parse("\n\r\n  ", 5, NULL, &m) == SS_EEMPTY);
	CHECK(ss_parse("\x7f"
	               "ELF\x02\x01\x01\0\0\0",
	               10, NULL, &m) == SS_EBINARY);
	CHECK(ss_parse("Dear friend, this is not mail.\n", 31, NULL, &m) == SS_ENOTMAIL);
	CHECK(ss_strerror(SS_ENOTMAIL)[0] != '\0');
}

TEST(mime_multipart_alternative_tree)
{
	const char *src =
	    "From: a@example.com\nSubject: t\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=\"b1\"\n\n"
	    "preamble\n--b1\nContent-Type: text/plain; charset=utf-8\n\nplain words\n"
	    "--b1\nContent-Type: text/html\n\n<p>html <b>words</b></p>\n--b1--\nepilogue\n";
	ss_message *m = parse(src, NULL);

	CHECK(m && m->nparts == 3);
	if (!m || m->nparts != 3)
		goto out;
	CHECK_STR(m->parts[0].content_type, "multipart/alternative");
	CHECK(m->parts[0].flags & SS_PART_MULTIPART);
	CHECK(m->parts[1].parent == 0 && m->parts[1].depth == 1);
	CHECK_STR(m->parts[1].text, "plain words");
	CHECK(m->parts[2].flags & SS_PART_HTML);
	CHECK_CONTAINS(m->parts[2].text.p, m->parts[2].text.len, "html words");
	CHECK(!has_fact(m, "mime_missing_final_boundary"));
out:
	ss_message_free(m);
}

TEST(mime_missing_final_and_wrong_boundary)
{
	const char *a =
	    "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\nfirst\n--zz\n\nsecond "
	    "runs to the end\n";
	const char *b = "Content-Type: multipart/mixed; boundary=nowhere\n\nJust text, really.\n";
	ss_message *m = parse(a, NULL);

	CHECK(m && m->nparts == 3 && has_fact(m, "mime_missing_final_boundary"));
	if (m && m->nparts == 3)
		CHECK_STR(m->parts[2].text, "second runs to the end\n");
	ss_message_free(m);
	m = parse(b, NULL);
	CHECK(m && m->nparts == 1 && has_fact(m, "mime_boundary_not_found"));
	if (m)
		CHECK_CONTAINS(m->parts[0].text.p, m->parts[0].text.len, "Just text");
	ss_message_free(m);
}

TEST(mime_boundary_prefix_of_inner_boundary)
{
	const char *src = "Content-Type: multipart/mixed; boundary=ab\n\n--ab\n"
	                  "Content-Type: multipart/alternative; boundary=ab-1\n\n--ab-1\n\ninner "
	                  "one\n--ab-1--\n--ab\n\nouter two\n--ab--\n";
	ss_message *m = parse(src, NULL);

	CHECK(m && m->nparts == 4);
	if (m && m->nparts == 4) {
		CHECK_STR(m->parts[2].text, "inner one");
		CHECK_STR(m->parts[3].text, "outer two");
		CHECK(m->parts[3].parent == 0);
	}
	ss_message_free(m);
}

TEST(mime_message_rfc822_and_digest)
{
	const char *src =
	    "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	    "Subject: =?utf-8?q?inner_=C3=A9?=\nContent-Type: text/plain\n\ninner body\n"
	    "--d--\n";
	ss_message *m = parse(src, NULL);

	CHECK(m && m->nparts == 3);
	if (m && m->nparts == 3) {
		const ss_header *h = ss_message_header(m, 2, "subject");
		CHECK_STR(m->parts[1].content_type, "message/rfc822");
		CHECK(m->parts[1].flags & SS_PART_MESSAGE);
		CHECK(h != NULL);
		if (h)
			CHECK_STR(h->value, "inner \xc3\xa9");
		CHECK_STR(m->parts[2].text, "inner body");
	}
	ss_message_free(m);
}

TEST(mime_base64_text_and_attachment)
{
	const char *src =
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	    "VGnhur9uZyBWaeG7h3Q=\n--x\nContent-Type: application/pdf; name=\"r.pdf\"\n"
	    "Content-Disposition: attachment\nContent-Transfer-Encoding: base64\n"
	    "Content-ID: <img1@x>\n\nJVBERi0xLjQK\n--x--\n";
	ss_message *m = parse(src, NULL);

	CHECK(m && m->nparts == 3);
	if (m && m->nparts == 3) {
		CHECK_STR(m->parts[1].text, "Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t");
		CHECK_STR(m->parts[2].filename, "r.pdf");
		CHECK_STR(m->parts[2].content_id, "img1@x");
		CHECK(m->parts[2].flags & SS_PART_ATTACHMENT);
		CHECK(m->parts[2].decoded_size == 9);
	}
	ss_message_free(m);
}

/* Builds `levels` nested multiparts around one text part. */
static char *nested(int levels)
{
	sbuf b = SBUF_INIT;

	for (int i = 0; i < levels; i++)
		sbuf_addf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	sbuf_adds(&b, "Content-Type: text/plain\n\ndeep text\n");
	for (int i = levels - 1; i >= 0; i--)
		sbuf_addf(&b, "--b%d--\n", i);
	return sbuf_detach(&b, NULL);
}

TEST(limit_depth_is_a_fact)
{
	char *src = nested(60);
	ss_message *m = parse(src, NULL);

	CHECK(has_fact(m, "limit_depth"));
	for (size_t i = 0; m && i < m->nparts; i++)
		CHECK(m->parts[i].depth <= 20);
	ss_message_free(m);
	free(src);
	src = nested(5);
	m = parse(src, NULL);
	CHECK(m && !has_fact(m, "limit_depth"));
	ss_message_free(m);
	free(src);
}

TEST(limit_parts_is_a_fact)
{
	sbuf b = SBUF_INIT;
	ss_limits lim;
	ss_message *m;

	ss_limits_default(&lim);
	lim.max_parts = 10;
	sbuf_adds(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (int i = 0; i < 50; i++)
		sbuf_addf(&b, "--p\n\npart %d\n", i);
	sbuf_adds(&b, "--p--\n");
	m = parse(b.p, &lim);
	CHECK(m && m->nparts == 10 && has_fact(m, "limit_parts"));
	ss_message_free(m);
	sbuf_release(&b);
}

TEST(limit_headers_and_header_length)
{
	sbuf b = SBUF_INIT;
	ss_limits lim;
	ss_message *m;

	ss_limits_default(&lim);
	lim.max_headers = 5;
	lim.max_header_len = 100;
	for (int i = 0; i < 20; i++)
		sbuf_addf(&b, "X-H%d: v\n", i);
	sbuf_adds(&b, "X-Long: ");
	for (int i = 0; i < 50; i++)
		sbuf_adds(&b, "long ");
	sbuf_adds(&b, "\n\nthe body\n");
	m = parse(b.p, &lim);
	CHECK(m && m->parts[0].header_count == 5 && has_fact(m, "limit_headers"));
	CHECK(m && m->parts[0].text.len && !strcmp(m->parts[0].text.p, "the body\n"));
	ss_message_free(m);
	lim.max_headers = 100;
	m = parse(b.p, &lim);
	CHECK(m && has_fact(m, "header_too_long"));
	ss_message_free(m);
	sbuf_release(&b);
}

TEST(limit_size_and_text)
{
	sbuf b = SBUF_INIT;
	ss_limits lim;
	ss_message *m;

	ss_limits_default(&lim);
	sbuf_adds(&b, "Subject: big\n\n");
	for (int i = 0; i < 1000; i++)
		sbuf_adds(&b, "0123456789");
	lim.max_size = 500;
	m = parse(b.p, &lim);
	CHECK(m && has_fact(m, "limit_size") && m->parts[0].text.len < 500);
	ss_message_free(m);
	ss_limits_default(&lim);
	lim.max_text = 100;
	m = parse(b.p, &lim);
	CHECK(m && has_fact(m, "limit_text") && m->parts[0].text.len == 100);
	ss_message_free(m);
	sbuf_release(&b);
}

TEST(mime_json_has_the_documented_fields)
{
	ss_message *m = parse("Subject: =?utf-8?q?h=C3=A9?=\n\nsee http://example.com/x\n", NULL);
	char *json = NULL;
	size_t len = 0;

	CHECK(m && ss_message_json(m, &json, &len) == 0);
	if (json) {
		CHECK(json[0] == '{' && json[len - 1] == '}');
		CHECK_CONTAINS(json, len, "\"subject\":\"h\xc3\xa9\"");
		CHECK_CONTAINS(json, len, "\"parts\":[");
		CHECK_CONTAINS(json, len, "\"urls\":[");
		CHECK_CONTAINS(json, len, "\"facts\":[");
		CHECK_CONTAINS(json, len, "\"received\":[");
	}
	free(json);
	ss_message_free(m);
}

TEST(mime_duplicate_boundary_parameter_first_wins)
{
	const char *src = "Content-Type: multipart/mixed; boundary=one; boundary=two\n\n"
	                  "--one\n\nfirst part\n--two\n\nstill first\n--one--\n";
	ss_message *m = parse(src, NULL);

	CHECK(m && m->nparts == 2);
	if (m && m->nparts == 2) {
		CHECK_STR(m->parts[0].boundary, "one");
		CHECK_CONTAINS(m->parts[1].text.p, m->parts[1].text.len, "still first");
	}
	ss_message_free(m);
}

TEST(mime_repeated_delimiter_lines_make_empty_parts)
{
	const char *src = "Content-Type: multipart/mixed; boundary=d\n\n--d\n--d\n\nreal text\n"
	                  "--d\n--d--\n";
	ss_message *m = parse(src, NULL);
	char *text = NULL;
	size_t len = 0;

	CHECK(m && m->nparts == 4);
	CHECK(m && ss_message_text(m, &text, &len) == 0);
	if (text)
		CHECK_SLICE(text, len, "real text");
	free(text);
	ss_message_free(m);
}

/* Raw 8-bit header bytes that are not UTF-8 are read in the charset the
 * same block's Content-Type declares (short Big5 alone is easily taken
 * for GB2312); UTF-8 stays UTF-8 whatever the declaration. */
TEST(mime_8bit_headers_follow_the_declared_charset)
{
	static const char big5[] = "Subject: \xa4\xa4\xa4\xe5\r\n"
	                           "Content-Type: text/plain; charset=big5\r\n\r\nx\r\n";
	static const char gb[] = "Subject: \xd6\xd0\xce\xc4 =?utf-8?B?5Lit?=\r\n"
	                         "Content-Type: text/plain; charset=\"GB2312\"\r\n\r\nx\r\n";
	static const char utf8[] = "Subject: \xe4\xb8\xad\xe6\x96\x87\r\n"
	                           "Content-Type: text/plain; charset=gb2312\r\n\r\nx\r\n";
	static const char none[] = "Subject: \xd6\xd0\xce\xc4\r\n\r\nx\r\n";
	ss_message *m;

	m = parse(big5, NULL);
	CHECK_STR(ss_message_header(m, 0, "Subject")->value, "\xe4\xb8\xad\xe6\x96\x87");
	ss_message_free(m);
	m = parse(gb, NULL);
	CHECK_STR(ss_message_header(m, 0, "Subject")->value,
	          "\xe4\xb8\xad\xe6\x96\x87 \xe4\xb8\xad");
	ss_message_free(m);
	m = parse(utf8, NULL);
	CHECK_STR(ss_message_header(m, 0, "Subject")->value, "\xe4\xb8\xad\xe6\x96\x87");
	ss_message_free(m);
	m = parse(none, NULL);
	CHECK(ss_message_header(m, 0, "Subject")->value.len > 0);
	ss_message_free(m);
}

/* No charset anywhere in the block: its 8-bit fields are detected
 * together. The Big5 name alone reads as latin-1 to ICU's detector; with
 * the subject beside it, it is Big5. */
TEST(mime_8bit_fields_of_a_block_are_detected_together)
{
	static const char msg[] =
	    "From: \xa4\xfd\xa4\x70\xa9\xfa <ming@example.com>\r\n"
	    "Subject: \xa5\xbb\xb6\x67\xbf\xec\xa4\xbd\xab\xc7\xa5\x58\xaf\xb2"
	    "\xc0\x75\xb4\x66, \xc5\x77\xaa\xef\xa8\xd3\xb9\x71\xac\xa2"
	    "\xb8\xdf\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n";
	ss_message *m = parse(msg, NULL);

	CHECK_STR(ss_message_header(m, 0, "From")->value,
	          "\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e <ming@example.com>");
	CHECK_STR(ss_message_header(m, 0, "Subject")->value,
	          "\xe6\x9c\xac\xe9\x80\xb1\xe8\xbe\xa6\xe5\x85\xac\xe5\xae\xa4\xe5\x87\xba"
	          "\xe7\xa7\x9f\xe5\x84\xaa\xe6\x83\xa0, \xe6\xad\xa1\xe8\xbf\x8e\xe4\xbe\x86"
	          "\xe9\x9b\xbb\xe6\xb4\xbd\xe8\xa9\xa2");
	ss_message_free(m);
}

TEST(attachment_data_is_kept_up_to_max_attach)
{
	const char *src = "Content-Type: multipart/mixed; boundary=b\n\n"
	                  "--b\nContent-Type: text/plain\n\nhello text\n"
	                  "--b\nContent-Type: application/octet-stream; name=a.bin\n"
	                  "Content-Transfer-Encoding: base64\n\nAAECAwQFBgcICQ==\n"
	                  "--b\nContent-Type: application/pdf; name=b.pdf\n\n%PDF-1.4 body\n"
	                  "--b--\n";
	ss_limits lim;
	ss_message *m;

	m = parse(src, NULL);
	CHECK(m && m->nparts == 4 && !has_fact(m, "limit_attach"));
	CHECK(m && m->parts[1].data.len == 0); /* text is not kept twice */
	CHECK(m && m->parts[2].data.len == 10 &&
	      !memcmp(m->parts[2].data.p, "\0\1\2\3\4\5\6\7\10\t", 10));
	CHECK(m && m->parts[3].data.len == 13 && !memcmp(m->parts[3].data.p, "%PDF-1.4 body", 13));
	CHECK(m && m->parts[0].data.len == 0 && m->parts[0].data.p);
	ss_message_free(m);
	ss_limits_default(&lim);
	lim.max_attach = 14; /* the first keeps 10, the second gets 4 of 13 */
	m = parse(src, &lim);
	CHECK(m && has_fact(m, "limit_attach"));
	CHECK(m && m->parts[2].data.len == 10 && m->parts[3].data.len == 4);
	CHECK(m && m->parts[3].decoded_size == 13);
	ss_message_free(m);
	lim.max_attach = 0;
	m = parse(src, &lim);
	CHECK(m && m->parts[2].data.len == 0 && has_fact(m, "limit_attach"));
	ss_message_free(m);
}

TEST(uuencoded_files_keep_their_data)
{
	ss_message *m = parse("Subject: uu\n\nsee below\nbegin 644 x.bin\n#86)C\n`\nend\n", NULL);

	CHECK(m && m->nparts == 2 && m->parts[1].data.len == 3 &&
	      !memcmp(m->parts[1].data.p, "abc", 3));
	ss_message_free(m);
}

/* "begin " counts only at the start of a line (the search goes line by
 * line): one in the middle of a line, or with CRLF lines, is handled as
 * before the search was made faster. */
TEST(uuencode_begin_only_at_line_start)
{
	ss_message *m = parse("Subject: uu\n\nplease begin 644 no.bin now\r\n"
	                      "begin 644 x.bin\r\n#86)C\r\n`\r\nend\r\n",
	                      NULL);

	CHECK(m && m->nparts == 2 && (m->parts[0].flags & SS_PART_UUENCODE) &&
	      m->parts[1].data.len == 3 && !memcmp(m->parts[1].data.p, "abc", 3));
	ss_message_free(m);
	m = parse("Subject: uu\n\nnothing to begin 644 here.bin\n#86)C\n`\nend\n", NULL);
	CHECK(m && m->nparts == 1 && !(m->parts[0].flags & SS_PART_UUENCODE));
	ss_message_free(m);
}

/* Binary detection counts control bytes other than TAB, LF, CR, FF and
 * ESC in the first 512 bytes (scanned 8 at a time): text full of the
 * allowed ones is mail, more than 5% of others is not. */
TEST(mime_binary_threshold_counts_only_bad_controls)
{
	char buf[600];
	ss_message *m = NULL;
	size_t n = 0;

	n += (size_t)snprintf(buf, sizeof(buf), "Subject: ctl\n\n");
	while (n < 500) {
		memcpy(buf + n, "a\tb\r\nc\fd\x1b", 9);
		n += 9;
	}
	CHECK(ss_parse(buf, n, NULL, &m) == 0 && m);
	ss_message_free(m);
	m = NULL;
	/* 30 stray bytes in 512 (5.9%), spread so that each 8-byte word has
	 * at most one */
	for (size_t i = 40; i < 40 + 30 * 16; i += 16)
		buf[i] = '\x01';
	CHECK(ss_parse(buf, n, NULL, &m) == SS_EBINARY && !m);
	/* 20 of them (3.9%) are tolerated */
	for (size_t i = 40 + 20 * 16; i < 40 + 30 * 16; i += 16)
		buf[i] = 'x';
	CHECK(ss_parse(buf, n, NULL, &m) == 0 && m);
	ss_message_free(m);
}
