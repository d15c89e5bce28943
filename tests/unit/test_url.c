/*
 * test_url.c: unit tests for src/text/url.c (URLs and addresses in text,
 * their disguises, hrefs, link text hosts).
 */
#include "harness.h"

#include <stdlib.h>
#include <time.h>

#include "text/url.h"
#include "util/arena.h"
#include "util/utf8.h"

#define MAXGOT 16

typedef struct got_urls {
	int n;
	url_found u[MAXGOT];
} got_urls;

typedef struct got_addrs {
	int n;
	addr_found a[MAXGOT];
} got_addrs;

static int collect_url(void *ctx, const url_found *u)
{
	got_urls *g = ctx;

	if (g->n < MAXGOT)
		g->u[g->n] = *u;
	g->n++;
	return 0;
}

static int collect_addr(void *ctx, const addr_found *a)
{
	got_addrs *g = ctx;

	if (g->n < MAXGOT)
		g->a[g->n] = *a;
	g->n++;
	return 0;
}

static ss_arena arena;

static got_urls scan(const char *text)
{
	got_urls g;

	memset(&g, 0, sizeof(g));
	CHECK(url_scan_text(&arena, text, strlen(text), collect_url, &g) == 0);
	return g;
}

static got_addrs scan_mail(const char *text)
{
	got_addrs g;

	memset(&g, 0, sizeof(g));
	CHECK(url_scan_emails(&arena, text, strlen(text), collect_addr, &g) == 0);
	return g;
}

/* Checks that `text` holds exactly one URL, `url`, on host `host`. */
#define ONE_URL(text, want_url, want_host)                                                         \
	do {                                                                                       \
		got_urls g_ = scan(text);                                                          \
		CHECK(g_.n == 1);                                                                  \
		if (g_.n >= 1) {                                                                   \
			CHECK_STR(g_.u[0].url, want_url);                                          \
			CHECK_STR(g_.u[0].host, want_host);                                        \
		}                                                                                  \
	} while (0)

#define NO_URL(text) CHECK(scan(text).n == 0)

#define ONE_ADDR(text, want)                                                                       \
	do {                                                                                       \
		got_addrs g_ = scan_mail(text);                                                    \
		CHECK(g_.n == 1);                                                                  \
		if (g_.n >= 1)                                                                     \
			CHECK_STR(g_.a[0].addr, want);                                             \
	} while (0)

#define NO_ADDR(text) CHECK(scan_mail(text).n == 0)

static unsigned flags_of(const char *text)
{
	got_urls g = scan(text);

	return g.n == 1 ? g.u[0].flags : 0xFFFFu;
}

/* ---- schemes and plain forms ---- */

TEST(url_http_plain)
{
	ONE_URL("Visit http://example.com/path?q=1 today", "http://example.com/path?q=1",
	        "example.com");
	CHECK(flags_of("Visit http://example.com/path today") == 0);
	arena_release(&arena);
}

TEST(url_https_scheme_and_host_lowered_path_kept)
{
	ONE_URL("HTTPS://Example.COM/Some/Path", "https://example.com/Some/Path", "example.com");
	arena_release(&arena);
}

TEST(url_ftp)
{
	ONE_URL("files at ftp://ftp.example.org/pub/x.tar.gz ok",
	        "ftp://ftp.example.org/pub/x.tar.gz", "ftp.example.org");
	arena_release(&arena);
}

TEST(url_fragment_kept)
{
	ONE_URL("http://example.com/a#sec-2", "http://example.com/a#sec-2", "example.com");
	arena_release(&arena);
}

TEST(url_www_schemeless)
{
	ONE_URL("see www.Example.com/x for more", "http://www.example.com/x", "www.example.com");
	CHECK(flags_of("see www.example.com/x") == SS_URL_SCHEMELESS);
	arena_release(&arena);
}

TEST(url_bare_host_with_path)
{
	ONE_URL("log in at example.com/login now", "http://example.com/login", "example.com");
	CHECK(flags_of("log in at example.com/login now") == SS_URL_SCHEMELESS);
	arena_release(&arena);
}

TEST(url_bare_host_common_tld)
{
	ONE_URL("go to shop-example.com today", "http://shop-example.com", "shop-example.com");
	ONE_URL("yahoo.co.jp", "http://yahoo.co.jp", "yahoo.co.jp");
	arena_release(&arena);
}

TEST(url_bare_country_code_needs_path)
{
	ONE_URL("see example.ly/abc", "http://example.ly/abc", "example.ly");
	NO_URL("see example.ly today");
	NO_URL("open readme.md/x please");
	arena_release(&arena);
}

TEST(url_port_in_url_not_host)
{
	ONE_URL("http://example.com:8080/x", "http://example.com:8080/x", "example.com");
	ONE_URL("example.com:8080/x", "http://example.com:8080/x", "example.com");
	arena_release(&arena);
}

TEST(url_port_colon_is_punctuation)
{
	ONE_URL("Site http://example.com: the best", "http://example.com", "example.com");
	arena_release(&arena);
}

TEST(url_several_in_order)
{
	got_urls g = scan("a http://one.example.com b www.two.example.org c three.com/x d");

	CHECK(g.n == 3);
	if (g.n == 3) {
		CHECK_STR(g.u[0].host, "one.example.com");
		CHECK_STR(g.u[1].host, "www.two.example.org");
		CHECK_STR(g.u[2].host, "three.com");
	}
	arena_release(&arena);
}

static int stop_cb(void *ctx, const url_found *u)
{
	(*(int *)ctx)++;
	return 7;
}

TEST(url_callback_stops_scan)
{
	const char *t = "http://a.example.com http://b.example.com";
	int calls = 0;

	CHECK(url_scan_text(&arena, t, strlen(t), stop_cb, &calls) == 7);
	CHECK(calls == 1);
	arena_release(&arena);
}

TEST(url_strings_are_nul_terminated)
{
	got_urls g = scan("x http://example.com/p y");

	CHECK(g.n == 1);
	if (g.n == 1) {
		CHECK(g.u[0].url.p[g.u[0].url.len] == '\0');
		CHECK(g.u[0].host.p[g.u[0].host.len] == '\0');
		CHECK(g.u[0].host_ascii.p[g.u[0].host_ascii.len] == '\0');
	}
	arena_release(&arena);
}

/* ---- false positives ---- */

TEST(url_no_false_positive_abbreviations)
{
	NO_URL("This is e.g. a test, i.e. nothing. U.S.A. is big.");
	arena_release(&arena);
}

TEST(url_no_false_positive_file_names)
{
	NO_URL("Open file.txt and report.pdf, then setup.exe");
	NO_URL("/usr/lib/libfoo.so.1 and ./run.sh");
	arena_release(&arena);
}

TEST(url_no_false_positive_numbers_versions)
{
	NO_URL("pi is 3.14 and version v1.2.3 or 10.0.0.1 here, a.b too");
	arena_release(&arena);
}

TEST(url_no_false_positive_sentences)
{
	NO_URL("Hello.World and end.Next word. The www is big. Node.js rocks");
	NO_URL("example dot com and example . com are not URLs");
	arena_release(&arena);
}

TEST(url_no_host_from_email_address)
{
	NO_URL("write to john.smith@gmail.com or joe@www.example.com");
	arena_release(&arena);
}

TEST(url_rejects_hosts_without_dot_or_bad)
{
	NO_URL("http://localhost/ and http://exa$mple/ and http://-bad-.com/ and http://a..b.com/");
	NO_URL("http://256.1.1.1/ http://1.2.3.4.5/");
	arena_release(&arena);
}

/* ---- trailing punctuation ---- */

TEST(url_trailing_sentence_punctuation)
{
	ONE_URL("Go to http://example.com/a.", "http://example.com/a", "example.com");
	ONE_URL("Go to http://example.com/a?x=1, then", "http://example.com/a?x=1", "example.com");
	ONE_URL("Wow http://example.com!", "http://example.com", "example.com");
	ONE_URL("Really http://example.com/q?", "http://example.com/q", "example.com");
	arena_release(&arena);
}

TEST(url_quotes_and_angle_brackets_end_url)
{
	ONE_URL("say \"http://example.com/q?a=1\" ok", "http://example.com/q?a=1", "example.com");
	ONE_URL("<http://example.com/x>", "http://example.com/x", "example.com");
	ONE_URL("'http://example.com/x'", "http://example.com/x", "example.com");
	arena_release(&arena);
}

TEST(url_parentheses_balanced)
{
	ONE_URL("https://en.wikipedia.org/wiki/Foo_(bar)",
	        "https://en.wikipedia.org/wiki/Foo_(bar)", "en.wikipedia.org");
	ONE_URL("(see https://en.wikipedia.org/wiki/Foo_(bar))",
	        "https://en.wikipedia.org/wiki/Foo_(bar)", "en.wikipedia.org");
	ONE_URL("(see http://example.com/x).", "http://example.com/x", "example.com");
	ONE_URL("(www.example.com)", "http://www.example.com", "www.example.com");
	arena_release(&arena);
}

TEST(url_trailing_dot_of_host_removed)
{
	ONE_URL("http://example.com./x", "http://example.com/x", "example.com");
	arena_release(&arena);
}

TEST(url_long_path_is_cut)
{
	static char t[12000];
	got_urls g;

	memcpy(t, "http://example.com/", 19);
	memset(t + 19, 'a', sizeof(t) - 20);
	t[sizeof(t) - 1] = '\0';
	g = scan(t);
	CHECK(g.n == 1);
	if (g.n == 1) {
		CHECK(g.u[0].url.len > 1000 && g.u[0].url.len <= 4096);
		CHECK_STR(g.u[0].host, "example.com");
	}
	arena_release(&arena);
}

/* ---- obfuscations ---- */

TEST(url_hxxp)
{
	ONE_URL("hxxp://evil.example/x", "http://evil.example/x", "evil.example");
	CHECK(flags_of("hxxp://evil.example/x") == SS_URL_OBFUSCATED);
	arena_release(&arena);
}

TEST(url_hxxps_and_case)
{
	ONE_URL("hXXps://evil.example/x", "https://evil.example/x", "evil.example");
	CHECK(flags_of("hXXps://evil.example/x") & SS_URL_OBFUSCATED);
	arena_release(&arena);
}

TEST(url_h_stars_p)
{
	ONE_URL("h**p://evil.example/x", "http://evil.example/x", "evil.example");
	CHECK(flags_of("h**p://evil.example/x") & SS_URL_OBFUSCATED);
	arena_release(&arena);
}

TEST(url_space_before_colon)
{
	ONE_URL("click http ://evil.example/x", "http://evil.example/x", "evil.example");
	CHECK(flags_of("click http ://evil.example/x") & SS_URL_OBFUSCATED);
	arena_release(&arena);
}

TEST(url_bracket_dot)
{
	ONE_URL("visit evil[.]com now", "http://evil.com", "evil.com");
	CHECK(flags_of("visit evil[.]com now") == (SS_URL_OBFUSCATED | SS_URL_SCHEMELESS));
	arena_release(&arena);
}

TEST(url_paren_and_brace_dots)
{
	ONE_URL("hxxp://evil(.)example/x", "http://evil.example/x", "evil.example");
	ONE_URL("evil{.}com/login", "http://evil.com/login", "evil.com");
	arena_release(&arena);
}

TEST(url_bracket_dot_word)
{
	ONE_URL("go evil[dot]com", "http://evil.com", "evil.com");
	ONE_URL("go evil (dot) com now", "http://evil.com", "evil.com");
	ONE_URL("go evil(DOT)com now", "http://evil.com", "evil.com");
	arena_release(&arena);
}

TEST(url_dot_word_after_scheme_or_www)
{
	ONE_URL("http://evil dot example/x", "http://evil.example/x", "evil.example");
	ONE_URL("www dot evil dot com", "http://www.evil.com", "www.evil.com");
	CHECK(flags_of("www dot evil dot com") == (SS_URL_OBFUSCATED | SS_URL_SCHEMELESS));
	arena_release(&arena);
}

TEST(url_spaced_dots_after_www)
{
	ONE_URL("visit www . evil . com today", "http://www.evil.com", "www.evil.com");
	arena_release(&arena);
}

TEST(url_spaced_dot_after_plain_host_is_sentence)
{
	ONE_URL("See www.example.com . Then more", "http://www.example.com", "www.example.com");
	ONE_URL("See www.example.com dot dot", "http://www.example.com", "www.example.com");
	arena_release(&arena);
}

TEST(url_fullwidth_dot)
{
	ONE_URL("www\xEF\xBC\x8E"
	        "evil\xEF\xBC\x8E"
	        "com",
	        "http://www.evil.com", "www.evil.com");
	arena_release(&arena);
}

TEST(url_ideographic_full_stop_as_dot)
{
	ONE_URL("http://evil\xE3\x80\x82"
	        "example/x",
	        "http://evil.example/x", "evil.example");
	CHECK(flags_of("http://evil\xE3\x80\x82"
	               "example/x") &
	      SS_URL_OBFUSCATED);
	arena_release(&arena);
}

TEST(url_ideographic_full_stop_ends_sentence)
{
	/* 访问www.example.cn。谢谢 */
	ONE_URL("\xE8\xAE\xBF\xE9\x97\xAE"
	        "www.example.cn\xE3\x80\x82\xE8\xB0\xA2\xE8\xB0\xA2",
	        "http://www.example.cn", "www.example.cn");
	arena_release(&arena);
}

TEST(url_fullwidth_letters_folded)
{
	/* ｈｔｔｐ：／／ｅｘａｍｐｌｅ．ｃｏｍ／ａｂｃ */
	const char *t = "\xEF\xBD\x88\xEF\xBD\x94\xEF\xBD\x94\xEF\xBD\x90\xEF\xBC\x9A\xEF\xBC\x8F"
	                "\xEF\xBC\x8F\xEF\xBD\x85\xEF\xBD\x98\xEF\xBD\x81\xEF\xBD\x8D\xEF\xBD\x90"
	                "\xEF\xBD\x8C\xEF\xBD\x85\xEF\xBC\x8E\xEF\xBD\x83\xEF\xBD\x8F\xEF\xBD\x8D"
	                "\xEF\xBC\x8F\xEF\xBD\x81\xEF\xBD\x82\xEF\xBD\x83";

	ONE_URL(t, "http://example.com/abc", "example.com");
	CHECK(flags_of(t) & SS_URL_OBFUSCATED);
	arena_release(&arena);
}

TEST(url_fullwidth_www)
{
	/* ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ */
	ONE_URL("\xEF\xBD\x97\xEF\xBD\x97\xEF\xBD\x97\xEF\xBC\x8E\xEF\xBD\x85\xEF\xBD\x98"
	        "\xEF\xBD\x81\xEF\xBD\x8D\xEF\xBD\x90\xEF\xBD\x8C\xEF\xBD\x85\xEF\xBC\x8E"
	        "\xEF\xBD\x83\xEF\xBD\x8F\xEF\xBD\x8D",
	        "http://www.example.com", "www.example.com");
	arena_release(&arena);
}

TEST(url_zero_width_chars_removed)
{
	ONE_URL("http://pay\xE2\x80\x8Bpal.com/lo\xE2\x81\xA0gin", "http://paypal.com/login",
	        "paypal.com");
	CHECK(flags_of("http://pay\xE2\x80\x8Bpal.com/") & SS_URL_OBFUSCATED);
	ONE_URL("ww\xE2\x80\x8Cw.paypal.com", "http://www.paypal.com", "www.paypal.com");
	ONE_URL("h\xEF\xBB\xBFttp://paypal.com", "http://paypal.com", "paypal.com");
	arena_release(&arena);
}

TEST(url_soft_hyphen_removed)
{
	ONE_URL("http://pay\xC2\xADpal.com/", "http://paypal.com/", "paypal.com");
	arena_release(&arena);
}

TEST(url_percent_encoded_host)
{
	ONE_URL("http://%77%77%77.evil.com/", "http://www.evil.com/", "www.evil.com");
	CHECK(flags_of("http://%77%77%77.evil.com/") & SS_URL_OBFUSCATED);
	arena_release(&arena);
}

TEST(url_backslashes_as_slashes)
{
	ONE_URL("http:\\\\evil.com\\path\\x", "http://evil.com/path/x", "evil.com");
	CHECK(flags_of("http:\\\\evil.com\\path") & SS_URL_OBFUSCATED);
	arena_release(&arena);
}

TEST(url_userinfo_trick_real_host_after_at)
{
	got_urls g = scan("http://paypal.com@evil.example/login");

	CHECK(g.n == 1);
	if (g.n == 1) {
		CHECK_STR(g.u[0].host, "evil.example");
		CHECK_STR(g.u[0].url, "http://evil.example/login");
		CHECK(g.u[0].flags & SS_URL_OBFUSCATED);
	}
	ONE_URL("http://user:pw@evil.example/", "http://evil.example/", "evil.example");
	arena_release(&arena);
}

TEST(url_plain_user_name_is_not_a_disguise)
{
	ONE_URL("ftp://anonymous@ftp.example.org/pub", "ftp://ftp.example.org/pub",
	        "ftp.example.org");
	CHECK(flags_of("ftp://anonymous@ftp.example.org/pub") == 0);
	arena_release(&arena);
}

TEST(url_userinfo_trick_after_www)
{
	got_urls g = scan("www.paypal.com@evil.example/login");

	CHECK(g.n == 1);
	if (g.n == 1) {
		CHECK_STR(g.u[0].host, "evil.example");
		CHECK(g.u[0].flags & SS_URL_OBFUSCATED);
	}
	arena_release(&arena);
}

TEST(url_time_and_labels_are_not_schemes)
{
	NO_URL("Meeting at 10:30. Time: now. Note:see file:readme");
	arena_release(&arena);
}

TEST(url_scheme_glued_to_words)
{
	ONE_URL("clickhttp://evil.example/x", "http://evil.example/x", "evil.example");
	arena_release(&arena);
}

/* ---- international text and hosts ---- */

TEST(url_idn_host_to_punycode)
{
	got_urls g = scan("http://b\xC3\xBC"
	                  "cher.example/x");

	CHECK(g.n == 1);
	if (g.n == 1) {
		CHECK_STR(g.u[0].host, "b\xC3\xBC"
		                       "cher.example");
		CHECK_STR(g.u[0].host_ascii, "xn--bcher-kva.example");
		CHECK_STR(g.u[0].url, "http://b\xC3\xBC"
		                      "cher.example/x");
		CHECK(g.u[0].flags & SS_URL_IDN);
	}
	arena_release(&arena);
}

TEST(url_idn_host_lowered)
{
	got_urls g = scan("http://B\xC3\x9C"
	                  "CHER.Example/");

	CHECK(g.n == 1);
	if (g.n == 1) {
		CHECK_STR(g.u[0].host, "b\xC3\xBC"
		                       "cher.example");
		CHECK_STR(g.u[0].host_ascii, "xn--bcher-kva.example");
	}
	arena_release(&arena);
}

TEST(url_idn_nfc)
{
	/* "u" + combining diaeresis composes to ü */
	got_urls g = scan("http://bu\xCC\x88"
	                  "cher.example/");

	CHECK(g.n == 1);
	if (g.n == 1)
		CHECK_STR(g.u[0].host, "b\xC3\xBC"
		                       "cher.example");
	arena_release(&arena);
}

TEST(url_punycode_host_to_unicode)
{
	got_urls g = scan("http://xn--80ak6aa92e.com/");

	CHECK(g.n == 1);
	if (g.n == 1) {
		/* Cyrillic "аррӏе" */
		CHECK_STR(g.u[0].host, "\xD0\xB0\xD1\x80\xD1\x80\xD3\x8F\xD0\xB5.com");
		CHECK_STR(g.u[0].host_ascii, "xn--80ak6aa92e.com");
		CHECK(g.u[0].flags & SS_URL_IDN);
	}
	arena_release(&arena);
}

TEST(url_chinese_host)
{
	/* http://例子.中国/ */
	got_urls g = scan("http://\xE4\xBE\x8B\xE5\xAD\x90.\xE4\xB8\xAD\xE5\x9B\xBD/ x");

	CHECK(g.n == 1);
	if (g.n == 1)
		CHECK_STR(g.u[0].host_ascii, "xn--fsqu00a.xn--fiqs8s");
	arena_release(&arena);
}

TEST(url_chinese_text_around_without_spaces)
{
	/* 访问http://example.cn/abc了解更多 */
	ONE_URL("\xE8\xAE\xBF\xE9\x97\xAEhttp://example.cn/abc\xE4\xBA\x86\xE8\xA7\xA3\xE6\x9B\xB4"
	        "\xE5\xA4\x9A",
	        "http://example.cn/abc", "example.cn");
	/* 访问http://example.cn了解 */
	ONE_URL("\xE8\xAE\xBF\xE9\x97\xAEhttp://example.cn\xE4\xBA\x86\xE8\xA7\xA3",
	        "http://example.cn", "example.cn");
	arena_release(&arena);
}

TEST(url_cjk_punctuation_ends_url)
{
	/* http://example.cn/abc，谢谢 and 「http://example.jp/a」 */
	ONE_URL("http://example.cn/abc\xEF\xBC\x8C\xE8\xB0\xA2", "http://example.cn/abc",
	        "example.cn");
	ONE_URL("\xE3\x80\x8Chttp://example.jp/a\xE3\x80\x8D", "http://example.jp/a", "example.jp");
	arena_release(&arena);
}

TEST(url_vietnamese_text_around)
{
	/* Truy cập http://example.vn/trang-chủ để biết */
	ONE_URL("Truy c\xE1\xBA\xADp http://example.vn/trang-ch\xE1\xBB\xA7 \xC4\x91\xE1\xBB\x83 "
	        "bi\xE1\xBA\xBFt",
	        "http://example.vn/trang-ch\xE1\xBB\xA7", "example.vn");
	/* Xem tạihttp://example.vn/abc ngay */
	ONE_URL("Xem t\xE1\xBA\xA1ihttp://example.vn/abc ngay", "http://example.vn/abc",
	        "example.vn");
	arena_release(&arena);
}

TEST(url_typographic_quotes_end_url)
{
	ONE_URL("see \xE2\x80\x9Chttp://example.com/a\xE2\x80\x9D now", "http://example.com/a",
	        "example.com");
	arena_release(&arena);
}

/* ---- IP literals ---- */

TEST(url_ipv4_dotted)
{
	ONE_URL("http://192.168.1.1/x", "http://192.168.1.1/x", "192.168.1.1");
	CHECK(flags_of("http://192.168.1.1/x") == SS_URL_IP);
	arena_release(&arena);
}

TEST(url_ipv4_decimal)
{
	ONE_URL("http://3232235777/", "http://192.168.1.1/", "192.168.1.1");
	CHECK(flags_of("http://3232235777/") == (SS_URL_IP | SS_URL_OBFUSCATED));
	arena_release(&arena);
}

TEST(url_ipv4_hex_and_octal)
{
	ONE_URL("http://0x7f.0.0.1/a", "http://127.0.0.1/a", "127.0.0.1");
	ONE_URL("http://0177.0.0.1/a", "http://127.0.0.1/a", "127.0.0.1");
	ONE_URL("http://0x7f000001/a", "http://127.0.0.1/a", "127.0.0.1");
	arena_release(&arena);
}

TEST(url_ipv6)
{
	ONE_URL("http://[::1]:8080/x", "http://[::1]:8080/x", "::1");
	ONE_URL("http://[2001:DB8::0:1]/", "http://[2001:db8::1]/", "2001:db8::1");
	CHECK(flags_of("http://[::1]/") == SS_URL_IP);
	arena_release(&arena);
}

/* ---- url_parse (hrefs) ---- */

static int href(const char *s, url_found *u)
{
	return url_parse(&arena, s, strlen(s), 0, u);
}

TEST(href_web_url)
{
	url_found u;

	CHECK(url_parse(&arena, "https://Example.com/a?b=1", 25, SS_URL_HTML, &u) == 0);
	CHECK_STR(u.url, "https://example.com/a?b=1");
	CHECK_STR(u.host, "example.com");
	CHECK(u.flags == SS_URL_HTML);
	arena_release(&arena);
}

TEST(href_whitespace_and_newlines_stripped)
{
	url_found u;

	CHECK(href("  http://exa\tmple.com/pa\nth\r\n ", &u) == 0);
	CHECK_STR(u.url, "http://example.com/path");
	arena_release(&arena);
}

TEST(href_space_in_path_encoded)
{
	url_found u;

	CHECK(href("http://example.com/a b", &u) == 0);
	CHECK_STR(u.url, "http://example.com/a%20b");
	arena_release(&arena);
}

TEST(href_keeps_trailing_punctuation)
{
	url_found u;

	CHECK(href("http://example.com/a.", &u) == 0);
	CHECK_STR(u.url, "http://example.com/a.");
	arena_release(&arena);
}

TEST(href_protocol_relative)
{
	url_found u;

	CHECK(href("//cdn.example.com/x.js", &u) == 0);
	CHECK_STR(u.url, "http://cdn.example.com/x.js");
	CHECK_STR(u.host, "cdn.example.com");
	arena_release(&arena);
}

TEST(href_schemeless)
{
	url_found u;

	CHECK(href("www.example.com/x", &u) == 0);
	CHECK_STR(u.url, "http://www.example.com/x");
	CHECK(u.flags & SS_URL_SCHEMELESS);
	CHECK(href("example.com/x", &u) == 0);
	CHECK_STR(u.host, "example.com");
	arena_release(&arena);
}

TEST(href_obfuscated)
{
	url_found u;

	CHECK(href("hxxp://evil.example/", &u) == 0);
	CHECK_STR(u.url, "http://evil.example/");
	CHECK(u.flags & SS_URL_OBFUSCATED);
	CHECK(href("http://paypal.com@evil.example/", &u) == 0);
	CHECK_STR(u.host, "evil.example");
	arena_release(&arena);
}

TEST(href_no_slashes_after_scheme)
{
	url_found u;

	CHECK(href("http:example.com/x", &u) == 0);
	CHECK_STR(u.url, "http://example.com/x");
	arena_release(&arena);
}

TEST(href_not_web)
{
	url_found u;

	CHECK(href("mailto:joe@example.com", &u) == 1);
	CHECK(href("MAILTO:joe@example.com", &u) == 1);
	CHECK(href("javascript:alert(1)", &u) == 1);
	CHECK(href("data:text/html;base64,PGI+", &u) == 1);
	CHECK(href("cid:part1@example.com", &u) == 1);
	CHECK(href("tel:+123456", &u) == 1);
	CHECK(href("#top", &u) == 1);
	CHECK(href("", &u) == 1);
	CHECK(u.url.p == NULL);
	arena_release(&arena);
}

TEST(href_relative_paths)
{
	url_found u;

	CHECK(href("/relative/path", &u) == 1);
	CHECK(href("page.html", &u) == 1);
	CHECK(href("images/a.png", &u) == 1);
	CHECK(href("../up/x.php?a=1", &u) == 1);
	arena_release(&arena);
}

TEST(href_invalid_host)
{
	url_found u;

	CHECK(href("http://exa mple.com/", &u) == 1);
	CHECK(href("http://localhost/", &u) == 1);
	CHECK(href("http://", &u) == 1);
	arena_release(&arena);
}

TEST(href_ip_and_idn)
{
	url_found u;

	CHECK(href("http://3232235777/x", &u) == 0);
	CHECK_STR(u.host, "192.168.1.1");
	CHECK(u.flags & SS_URL_IP);
	CHECK(href("http://xn--bcher-kva.example/", &u) == 0);
	CHECK_STR(u.host, "b\xC3\xBC"
	                  "cher.example");
	CHECK_STR(u.url, "http://b\xC3\xBC"
	                 "cher.example/");
	arena_release(&arena);
}

/* ---- url_text_host ---- */

static ss_str text_host(const char *s)
{
	return url_text_host(&arena, s, strlen(s));
}

TEST(text_host_names)
{
	CHECK_STR(text_host("www.PayPal.com"), "www.paypal.com");
	CHECK_STR(text_host("PayPal.com"), "paypal.com");
	CHECK_STR(text_host("https://paypal.com/x"), "paypal.com");
	CHECK_STR(text_host("paypal.com/login"), "paypal.com");
	CHECK_STR(text_host("  www.paypal.com.  "), "www.paypal.com");
	arena_release(&arena);
}

TEST(text_host_idn)
{
	CHECK_STR(text_host("http://B\xC3\x9C"
	                    "CHER.example"),
	          "b\xC3\xBC"
	          "cher.example");
	arena_release(&arena);
}

TEST(text_host_none)
{
	CHECK(text_host("Click here").p == NULL);
	CHECK(text_host("file.txt").p == NULL);
	CHECK(text_host("Pay at paypal.com today").p == NULL);
	CHECK(text_host("").p == NULL);
	arena_release(&arena);
}

/* ---- e-mail addresses ---- */

TEST(mail_plain)
{
	ONE_ADDR("write to joe.smith@Example.COM now", "joe.smith@example.com");
	CHECK(scan_mail("joe@example.com").a[0].flags == 0);
	arena_release(&arena);
}

TEST(mail_local_part_case_kept)
{
	ONE_ADDR("JOE.Smith@example.com", "JOE.Smith@example.com");
	arena_release(&arena);
}

TEST(mail_atext_local_part)
{
	ONE_ADDR("x a+b_c-d~f's#1@example.org y", "a+b_c-d~f's#1@example.org");
	ONE_ADDR("unsubscribe?email=joe@example.org", "joe@example.org");
	arena_release(&arena);
}

TEST(mail_in_brackets_and_punctuation)
{
	ONE_ADDR("<joe@example.com>", "joe@example.com");
	ONE_ADDR("(joe@example.com).", "joe@example.com");
	ONE_ADDR("mailto:joe@example.com", "joe@example.com");
	arena_release(&arena);
}

TEST(mail_dots_in_local_part)
{
	ONE_ADDR(".joe@example.com", "joe@example.com");
	NO_ADDR("joe.@example.com");
	NO_ADDR("jo..e@example.com");
	arena_release(&arena);
}

TEST(mail_domain_needs_dot_and_valid_labels)
{
	NO_ADDR("joe@localhost and joe@-bad.com and joe@a..b.com and joe@example.1");
	arena_release(&arena);
}

TEST(mail_idn_domain)
{
	ONE_ADDR("joe@B\xC3\x9C"
	         "CHER.example",
	         "joe@b\xC3\xBC"
	         "cher.example");
	ONE_ADDR("joe@xn--bcher-kva.example", "joe@b\xC3\xBC"
	                                      "cher.example");
	arena_release(&arena);
}

TEST(mail_cjk_text_around)
{
	/* 联系joe@example.cn了解 */
	ONE_ADDR("\xE8\x81\x94\xE7\xB3\xBBjoe@example.cn\xE4\xBA\x86\xE8\xA7\xA3",
	         "joe@example.cn");
	arena_release(&arena);
}

TEST(mail_several_in_order)
{
	got_addrs g = scan_mail("a@example.com, b@example.org; c@example.net");

	CHECK(g.n == 3);
	if (g.n == 3) {
		CHECK_STR(g.a[0].addr, "a@example.com");
		CHECK_STR(g.a[2].addr, "c@example.net");
	}
	arena_release(&arena);
}

TEST(mail_obfuscated_words)
{
	got_addrs g = scan_mail("write joe at example dot com today");

	CHECK(g.n == 1);
	if (g.n == 1) {
		CHECK_STR(g.a[0].addr, "joe@example.com");
		CHECK(g.a[0].flags == SS_URL_OBFUSCATED);
	}
	arena_release(&arena);
}

TEST(mail_obfuscated_brackets)
{
	ONE_ADDR("joe [at] example [dot] com", "joe@example.com");
	ONE_ADDR("joe(at)example(dot)com", "joe@example.com");
	ONE_ADDR("joe {AT} example.co.uk", "joe@example.co.uk");
	CHECK(scan_mail("joe(at)example(dot)com").a[0].flags == SS_URL_OBFUSCATED);
	arena_release(&arena);
}

TEST(mail_obfuscated_dot_only)
{
	got_addrs g = scan_mail("joe@example[.]com");

	CHECK(g.n == 1);
	if (g.n == 1) {
		CHECK_STR(g.a[0].addr, "joe@example.com");
		CHECK(g.a[0].flags == SS_URL_OBFUSCATED);
	}
	arena_release(&arena);
}

TEST(mail_domain_followed_by_at_is_not_one)
{
	NO_ADDR("joe@a dot joe@b dot x");
	NO_ADDR("a@b.com@c");
	arena_release(&arena);
}

TEST(mail_word_at_needs_disguised_dots)
{
	NO_ADDR("look at example.com and meet at noon");
	arena_release(&arena);
}

TEST(mail_not_from_url_userinfo)
{
	NO_ADDR("http://user@example.com/ and http://user:pw@example.com/");
	ONE_ADDR("http://example.com/?to=joe@example.org", "joe@example.org");
	arena_release(&arena);
}

/* ---- hostile input: linear time ---- */

static char *repeat(const char *unit, size_t total)
{
	size_t ul = strlen(unit), i;
	char *p = malloc(total + 1);

	for (i = 0; i < total; i++)
		p[i] = unit[i % ul];
	p[total] = '\0';
	return p;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_cb(void *ctx, const url_found *u)
{
	(*(size_t *)ctx)++;
	return 0;
}

static int count_addr_cb(void *ctx, const addr_found *a)
{
	(*(size_t *)ctx)++;
	return 0;
}

/* Scans a 1 MiB line of `unit` repeated; checks it takes under 3 s even under sanitizers
 * (quadratic work would take minutes) and returns how many URLs and
 * addresses were found. */
static size_t hostile(const char *unit)
{
	size_t len = 1 << 20, n = 0;
	char *t = repeat(unit, len);
	double t0 = seconds();

	CHECK(url_scan_text(&arena, t, len, count_cb, &n) == 0);
	CHECK(url_scan_emails(&arena, t, len, count_addr_cb, &n) == 0);
	if (seconds() - t0 > 3.0) {
		char m[128];

		snprintf(m, sizeof(m), "1 MiB of \"%s\" took %.2f s", unit, seconds() - t0);
		test_fail(__FILE__, __LINE__, m);
	}
	free(t);
	arena_release(&arena);
	return n;
}

TEST(hostile_dots)
{
	CHECK(hostile(".") == 0);
}

TEST(hostile_http_repeated)
{
	CHECK(hostile("http://") == 0);
}

TEST(hostile_at_signs)
{
	CHECK(hostile("@") == 0);
}

TEST(hostile_label_dot_runs)
{
	CHECK(hostile("a.") == 0);
	CHECK(hostile("www.") == 0);
	CHECK(hostile("a@") == 0);
}

TEST(hostile_obfuscation_runs)
{
	CHECK(hostile("a [dot] ") == 0);
	CHECK(hostile("a (at) ") == 0);
	hostile("http://a . ");
	CHECK(hostile("%77") == 0);
	CHECK(hostile("\xE2\x80\x8B") == 0);
}

TEST(hostile_many_short_urls)
{
	/* every unit is one URL: the count proves the scan went to the end */
	CHECK(hostile("http://a.com ") == (1 << 20) / 13);
}

/* 中文中文中文，！：？ (36 bytes): long runs of CJK text, fullwidth
 * punctuation included, that the SSE2 prefilters skip 16 bytes at a time. */
#define CJK_RUN                                                                                    \
	"\xE4\xB8\xAD\xE6\x96\x87\xE4\xB8\xAD\xE6\x96\x87\xE4\xB8\xAD\xE6\x96\x87"                 \
	"\xEF\xBC\x8C\xEF\xBC\x81\xEF\xBC\x9A\xEF\xBC\x9F\xE4\xB8\xAD\xE6\x96\x87"

TEST(url_fullwidth_scheme_inside_cjk_run)
{
	/* ...ｈｔｔｐ：／／ｅｘａｍｐｌｅ．ｃｏｍ／ａ... */
	ONE_URL(CJK_RUN CJK_RUN
	        "\xEF\xBD\x88\xEF\xBD\x94\xEF\xBD\x94\xEF\xBD\x90\xEF\xBC\x9A"
	        "\xEF\xBC\x8F\xEF\xBC\x8F\xEF\xBD\x85\xEF\xBD\x98\xEF\xBD\x81"
	        "\xEF\xBD\x8D\xEF\xBD\x90\xEF\xBD\x8C\xEF\xBD\x85\xEF\xBC\x8E"
	        "\xEF\xBD\x83\xEF\xBD\x8F\xEF\xBD\x8D\xEF\xBC\x8F\xEF\xBD\x81" CJK_RUN,
	        "http://example.com/a", "example.com");
	arena_release(&arena);
}

TEST(url_fullwidth_www_both_cases_inside_cjk_run)
{
	/* ＷＷＷ．ｅｘａｍｐｌｅ．ｃｏｍ and ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ */
	ONE_URL(CJK_RUN "\xEF\xBC\xB7\xEF\xBC\xB7\xEF\xBC\xB7\xEF\xBC\x8E\xEF\xBD\x85\xEF\xBD\x98"
	                "\xEF\xBD\x81\xEF\xBD\x8D\xEF\xBD\x90\xEF\xBD\x8C\xEF\xBD\x85\xEF\xBC\x8E"
	                "\xEF\xBD\x83\xEF\xBD\x8F\xEF\xBD\x8D" CJK_RUN,
	        "http://www.example.com", "www.example.com");
	ONE_URL(CJK_RUN "\xEF\xBD\x97\xEF\xBD\x97\xEF\xBD\x97\xEF\xBC\x8E\xEF\xBD\x85\xEF\xBD\x98"
	                "\xEF\xBD\x81\xEF\xBD\x8D\xEF\xBD\x90\xEF\xBD\x8C\xEF\xBD\x85\xEF\xBC\x8E"
	                "\xEF\xBD\x83\xEF\xBD\x8F\xEF\xBD\x8D" CJK_RUN,
	        "http://www.example.com", "www.example.com");
	NO_URL(CJK_RUN CJK_RUN CJK_RUN);
	arena_release(&arena);
}

TEST(mail_after_long_cjk_run)
{
	ONE_ADDR(CJK_RUN CJK_RUN "joe@example.cn" CJK_RUN, "joe@example.cn");
	ONE_ADDR(CJK_RUN "joe [at] example [dot] cn" CJK_RUN, "joe@example.cn");
	NO_ADDR(CJK_RUN CJK_RUN CJK_RUN);
	arena_release(&arena);
}
