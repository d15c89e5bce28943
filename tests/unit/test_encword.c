/*
 * test_encword.c: RFC 2047 header decoding (src/mime/encword.c) and MIME
 * parameters with RFC 2231 (src/mime/params.c).
 */
#include "harness.h"
#include "mime/encword.h"
#include "mime/params.h"

static void ew(const char *in, const char *want)
{
	sbuf out = SBUF_INIT, tmp = SBUF_INIT;
	unsigned fl = 0;

	CHECK(ew_decode(&out, &tmp, in, strlen(in), &fl) == 0);
	CHECK_SLICE(out.p ? out.p : "", out.len, want);
	sbuf_release(&out);
	sbuf_release(&tmp);
}

TEST(encword_b_and_q)
{
	ew("=?UTF-8?B?VGnhur9uZyBWaeG7h3Q=?=", "Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t");
	ew("=?iso-8859-1?q?caf=E9_cr=E8me?=", "caf\xc3\xa9 cr\xc3\xa8me");
	ew("plain text only", "plain text only");
}

TEST(encword_adjacent_words_joined_across_split_character)
{
	/* "Việt" with the 3-byte "ệ" split between two B words */
	ew("=?UTF-8?B?Vmnh?= =?UTF-8?B?u4d0?=", "Vi\xe1\xbb\x87t");
	ew("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab");
}

TEST(encword_space_kept_between_word_and_text)
{
	ew("Re: =?utf-8?q?caf=C3=A9?= now", "Re: caf\xc3\xa9 now");
	ew("Re:=?utf-8?q?abc?=", "Re:abc");
}

TEST(encword_inside_quotes_and_legacy_charsets)
{
	ew("\"=?utf-8?q?Nguy=E1=BB=85n?=\" <a@b.vn>", "\"Nguy\xe1\xbb\x85n\" <a@b.vn>");
	ew("=?gb2312?B?1tDOxA==?=", "\xe4\xb8\xad\xe6\x96\x87");
	ew("=?koi8-r?B?8NLJ18XU?=", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
}

TEST(encword_malformed_kept)
{
	ew("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	ew("=?utf-8?q?unterminated", "=?utf-8?q?unterminated");
	ew("=?"
	   "?=",
	   "=?"
	   "?=");
}

TEST(encword_raw_utf8_header)
{
	ew("Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t", "Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t");
}

static void param(const char *v, const char *name, const char *want)
{
	ss_arena a;
	sbuf s1 = SBUF_INIT, s2 = SBUF_INIT;
	ss_str out = {NULL, 0};
	int r;

	arena_init(&a);
	r = params_get(&a, v, strlen(v), name, &s1, &s2, &out);
	if (want) {
		CHECK(r == 1);
		CHECK_STR(out, want);
	} else {
		CHECK(r == 0);
	}
	sbuf_release(&s1);
	sbuf_release(&s2);
	arena_release(&a);
}

TEST(params_token_and_simple)
{
	ss_arena a;
	ss_str t;

	arena_init(&a);
	t = params_token(&a, " Text/HTML ; charset=\"UTF-8\"", 28);
	CHECK_STR(t, "text/html");
	arena_release(&a);
	param("text/html; charset=\"UTF-8\"", "charset", "UTF-8");
	param("text/plain; CHARSET=koi8-r (comment)", "charset", "koi8-r");
	param("multipart/mixed; boundary=----=_Part_1", "boundary", "----=_Part_1");
	param("text/plain", "charset", NULL);
}

TEST(params_rfc2231_continuations_and_charset)
{
	param("attachment; filename*0*=utf-8''%E6%8A%A5%E5%91%8A; filename*1*=%2Epdf", "filename",
	      "\xe6\x8a\xa5\xe5\x91\x8a.pdf");
	param("attachment; filename*=iso-8859-1'fr'r%E9sum%E9.doc", "filename",
	      "r\xc3\xa9sum\xc3\xa9.doc");
	param("attachment; filename*1=\"b.txt\"; filename*0=\"a\"", "filename", "ab.txt");
}

TEST(params_quoted_escapes_and_2047_inside)
{
	param("attachment; filename=\"a \\\"quoted\\\" name.txt\"", "filename",
	      "a \"quoted\" name.txt");
	param("application/pdf; name=\"=?UTF-8?B?5oql5ZGKLnBkZg==?=\"", "name",
	      "\xe6\x8a\xa5\xe5\x91\x8a.pdf");
	param("attachment; filename=my file.pdf", "filename", "my file.pdf");
}
