/*
 * test_html.c: unit tests for src/mime/html.c (HTML to visible text,
 * hidden text, facts and links).
 */
#include "harness.h"

#include <stdlib.h>
#include <time.h>

#include "mime/html.h"
#include "util/utf8.h"

struct run {
	ss_arena a;
	html_out o;
	int rc;
};

static void run_n(struct run *r, const char *html, size_t len, size_t max_links)
{
	arena_init(&r->a);
	html_out_init(&r->o);
	r->rc = html_to_text(&r->a, html, len, max_links, &r->o);
}

static void run(struct run *r, const char *html)
{
	run_n(r, html, strlen(html), 100);
}

static void done(struct run *r)
{
	html_out_release(&r->o);
	arena_release(&r->a);
}

#define TEXT(r) ((r).o.text.p ? (r).o.text.p : "")
#define HIDDEN(r) ((r).o.hidden.p ? (r).o.hidden.p : "")

/* Checks the visible text of `html`. */
#define CHECK_TEXT(html, want)                                                                     \
	do {                                                                                       \
		struct run r_;                                                                     \
		run(&r_, html);                                                                    \
		CHECK(r_.rc == 0);                                                                 \
		CHECK_SLICE(TEXT(r_), r_.o.text.len, want);                                        \
		done(&r_);                                                                         \
	} while (0)

#define HIDE_REASONS (HTML_F_DISPLAY_NONE | HTML_F_TINY_FONT | HTML_F_SAME_COLOR)

/* Checks that `html` hides `secret` for `reason` (only) and shows `visible`. */
#define CHECK_HIDES(html, visible, secret, reason)                                                 \
	do {                                                                                       \
		struct run r_;                                                                     \
		run(&r_, html);                                                                    \
		CHECK_SLICE(TEXT(r_), r_.o.text.len, visible);                                     \
		CHECK_SLICE(HIDDEN(r_), r_.o.hidden.len, secret);                                  \
		CHECK(r_.o.facts &HTML_F_HIDDEN_TEXT);                                             \
		CHECK((r_.o.facts & HIDE_REASONS) == (reason));                                    \
		done(&r_);                                                                         \
	} while (0)

/* Checks that nothing of `html` is hidden. */
#define CHECK_SHOWN(html, visible)                                                                 \
	do {                                                                                       \
		struct run r_;                                                                     \
		run(&r_, html);                                                                    \
		CHECK_SLICE(TEXT(r_), r_.o.text.len, visible);                                     \
		CHECK(r_.o.hidden.len == 0);                                                       \
		CHECK(!(r_.o.facts & HTML_F_HIDDEN_TEXT));                                         \
		done(&r_);                                                                         \
	} while (0)

/* ---- character references ---- */

TEST(html_entity_basic_named)
{
	CHECK_TEXT("a &amp; b &lt;c&gt; &quot;q&quot; &apos;s", "a & b <c> \"q\" 's");
}

TEST(html_entity_latin1_letters)
{
	CHECK_TEXT("caf&eacute; &agrave; &uuml;ber &Eacute;t&eacute; &ntilde; &szlig;",
	           "café à über Été ñ ß");
}

TEST(html_entity_mail_symbols)
{
	CHECK_TEXT("&copy; &reg; &euro;5 &hellip; &mdash; &ndash; &trade; &bull; &middot;",
	           "© ® €5 … — – ™ • ·");
	CHECK_TEXT("&lsquo;a&rsquo; &ldquo;b&rdquo;", "‘a’ “b”");
}

TEST(html_entity_decimal)
{
	CHECK_TEXT("&#65;&#233;&#8364;&#128512;", "Aé€😀");
}

TEST(html_entity_hex)
{
	CHECK_TEXT("&#x41;&#XE9;&#x20ac;&#x1F600;", "Aé€😀");
}

TEST(html_entity_without_semicolon)
{
	CHECK_TEXT("&#65B &#x43 &copy2023 &amp done &eacutes", "AB C ©2023 & done és");
}

TEST(html_entity_invalid_code_points)
{
	CHECK_TEXT("&#0;|&#xD800;|&#x110000;|&#99999999999999;",
	           "\xEF\xBF\xBD|\xEF\xBF\xBD|\xEF\xBF\xBD|\xEF\xBF\xBD");
}

TEST(html_entity_windows1252_range)
{
	CHECK_TEXT("don&#146;t &#150; &#128;", "don’t – €");
}

TEST(html_entity_unknown_stays_text)
{
	CHECK_TEXT("&bogus; AT&T & &#; &#x; &", "&bogus; AT&T & &#; &#x; &");
}

TEST(html_entity_longest_legacy_prefix)
{
	CHECK_TEXT("&notin; &notit;", "∉ ¬it;");
}

TEST(html_entity_nbsp_is_collapsing_space)
{
	CHECK_TEXT("a&nbsp;&nbsp;&nbsp;b&nbsp;", "a b");
}

TEST(html_entity_split_word_joined)
{
	CHECK_TEXT("V&#105;agra", "Viagra");
}

/* ---- blocks and white space ---- */

TEST(html_br_is_line_break)
{
	CHECK_TEXT("a<br>b<br/>c<BR >d", "a\nb\nc\nd");
}

TEST(html_paragraphs_blank_line)
{
	CHECK_TEXT("<p>one</p><p>two</p>", "one\n\ntwo");
}

TEST(html_div_line_break)
{
	CHECK_TEXT("<div>a</div><div>b</div>c", "a\nb\nc");
}

TEST(html_breaks_capped_at_two)
{
	CHECK_TEXT("a<br><br><br><br><br>b", "a\n\nb");
	CHECK_TEXT("<p>a</p><br><br><p>b</p>", "a\n\nb");
}

TEST(html_headings_lists)
{
	CHECK_TEXT("<h1>Title</h1><ul><li>x<li>y</ul>after", "Title\n\nx\ny\nafter");
}

TEST(html_table_cells_spaces_rows_lines)
{
	CHECK_TEXT("<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</table>", "a b\nc d");
}

TEST(html_hr_and_blockquote)
{
	CHECK_TEXT("a<hr>b<blockquote>q</blockquote>c", "a\n\nb\n\nq\n\nc");
}

TEST(html_output_trimmed)
{
	CHECK_TEXT("  <p> <br> hi there <br> </p> \n ", "hi there");
}

TEST(html_whitespace_collapsed)
{
	CHECK_TEXT("a \t\n\r  b   c\n\nd", "a b c d");
}

TEST(html_inline_tags_do_not_split_words)
{
	CHECK_TEXT("<b>Hel</b>l<i>o</i> <span>w</span>orld", "Hello world");
}

TEST(html_pre_keeps_line_breaks)
{
	CHECK_TEXT("<pre>line 1\nline   2</pre>", "line 1\nline 2");
}

TEST(html_control_bytes_dropped)
{
	CHECK_TEXT("Vi\x01"
	           "ag\x02ra",
	           "Viagra");
}

TEST(html_implied_paragraph_end)
{
	CHECK_TEXT("<p>one<p>two<div>three</div>", "one\n\ntwo\n\nthree");
}

/* ---- dropped content ---- */

TEST(html_script_dropped)
{
	struct run r;

	run(&r, "a<script>document.write('<p>x</p>');</script>b<SCRIPT type=x>y</SCRIPT >c");
	CHECK_SLICE(TEXT(r), r.o.text.len, "abc");
	CHECK(r.o.facts & HTML_F_SCRIPT);
	done(&r);
}

TEST(html_style_dropped)
{
	CHECK_TEXT("a<style>p { color: red } </p></style>b", "ab");
}

TEST(html_head_dropped_with_title)
{
	CHECK_TEXT("<html><head><title>Title</title><meta charset=utf-8></head>"
	           "<body>Body</body></html>",
	           "Body");
}

TEST(html_head_never_closed)
{
	CHECK_TEXT("<head><title>T</title><body>Body", "Body");
	CHECK_TEXT("<head><title>T</title><div>Body</div>", "Body");
}

TEST(html_text_in_head_is_shown)
{
	CHECK_TEXT("<head>shown</head>", "shown");
}

TEST(html_comments_dropped)
{
	CHECK_TEXT("a<!-- x <p>y</p> -->b<!---->c<!-->d<!--->e<!-- z --!>f", "abcdef");
}

TEST(html_unterminated_comment)
{
	struct run r;

	run(&r, "visible<!-- the rest is gone <p>x</p>");
	CHECK_SLICE(TEXT(r), r.o.text.len, "visible");
	CHECK(r.o.facts & HTML_F_MALFORMED);
	done(&r);
}

TEST(html_doctype_cdata_pi_dropped)
{
	CHECK_TEXT("<!DOCTYPE html><?xml version=\"1.0\"?>a<![CDATA[x]]>b", "ab");
}

TEST(html_template_dropped)
{
	CHECK_TEXT("a<template><p>inert</p></template>b", "ab");
}

TEST(html_noscript_kept)
{
	CHECK_TEXT("<noscript>Enable JavaScript</noscript>", "Enable JavaScript");
}

TEST(html_unterminated_script)
{
	struct run r;

	run(&r, "a<script>var x = 1;");
	CHECK_SLICE(TEXT(r), r.o.text.len, "a");
	CHECK(r.o.facts & HTML_F_MALFORMED);
	done(&r);
}

TEST(html_textarea_text_shown)
{
	CHECK_TEXT("<textarea>a <b>b</b> &amp;</textarea>", "a <b>b</b> &");
}

/* ---- hidden text ---- */

TEST(html_hidden_display_none)
{
	CHECK_HIDES("a<span style=\"display:none\">secret</span>b", "ab", "secret",
	            HTML_F_DISPLAY_NONE);
	CHECK_HIDES("a<span style='DISPLAY : None !important'>s</span>b", "ab", "s",
	            HTML_F_DISPLAY_NONE);
}

TEST(html_hidden_visibility)
{
	CHECK_HIDES("<p style=\"visibility:hidden\">secret</p>shown", "shown", "secret",
	            HTML_F_DISPLAY_NONE);
}

TEST(html_hidden_attribute)
{
	CHECK_HIDES("<div hidden>secret</div>shown", "shown", "secret", HTML_F_DISPLAY_NONE);
}

TEST(html_hidden_opacity_zero)
{
	CHECK_HIDES("<div style=\"opacity:0\">secret</div>shown", "shown", "secret",
	            HTML_F_DISPLAY_NONE);
	CHECK_SHOWN("<div style=\"opacity:0.5\">half</div>", "half");
}

TEST(html_hidden_zero_height_overflow)
{
	CHECK_HIDES("<div style=\"max-height:0px;overflow:hidden\">secret</div>shown", "shown",
	            "secret", HTML_F_DISPLAY_NONE);
	CHECK_SHOWN("<div style=\"height:0\">spills out</div>", "spills out");
}

TEST(html_hidden_tiny_css_font)
{
	CHECK_HIDES("<span style=\"font-size:1px\">secret</span>shown", "shown", "secret",
	            HTML_F_TINY_FONT);
	CHECK_HIDES("<span style=\"font-size:0\">a</span>b", "b", "a", HTML_F_TINY_FONT);
	CHECK_HIDES("<span style=\"font-size:1pt\">a</span>b", "b", "a", HTML_F_TINY_FONT);
	CHECK_HIDES("<span style=\"font: 0/0 a\">a</span>b", "b", "a", HTML_F_TINY_FONT);
}

TEST(html_readable_font_sizes_shown)
{
	CHECK_SHOWN("<span style=\"font-size:3px\">a</span> <span style=\"font-size:2pt\">b</span>"
	            " <span style=\"font-size:x-small\">c</span> <font size=1>d</font>",
	            "a b c d");
}

TEST(html_hidden_font_size_zero_attr)
{
	CHECK_HIDES("<font size=\"0\">secret</font>shown", "shown", "secret", HTML_F_TINY_FONT);
}

TEST(html_tiny_font_undone_by_child)
{
	CHECK_HIDES("<div style=\"font-size:0\">x<span style=\"font-size:14px\">y</span></div>",
	            "y", "x", HTML_F_TINY_FONT);
}

TEST(html_hidden_white_on_default_white)
{
	CHECK_HIDES("<font color=\"white\">secret</font>shown", "shown", "secret",
	            HTML_F_SAME_COLOR);
}

TEST(html_hidden_same_style_colours)
{
	CHECK_HIDES("<p style=\"color:#000;background-color:black\">secret</p>shown", "shown",
	            "secret", HTML_F_SAME_COLOR);
}

TEST(html_hidden_colour_of_ancestor_background)
{
	CHECK_HIDES("<div style=\"background:#123456\"><p><span style=\"color:#123456\">s</span>"
	            "</p></div>v",
	            "v", "s", HTML_F_SAME_COLOR);
}

TEST(html_hidden_font_colour_equals_body_bgcolor)
{
	CHECK_HIDES("<body bgcolor=\"#336699\"><font color=\"#369\">s</font>v</body>", "v", "s",
	            HTML_F_SAME_COLOR);
}

TEST(html_hidden_default_text_on_black_cell)
{
	CHECK_HIDES("<table><tr><td bgcolor=black>s</td></tr></table>", "", "s", HTML_F_SAME_COLOR);
}

TEST(html_contrasting_colours_shown)
{
	CHECK_SHOWN("<body bgcolor=black><font color=white>light on dark</font></body>",
	            "light on dark");
	CHECK_SHOWN("<td style=\"background:#fff\"><span style=\"color:#333\">grey</span></td>",
	            "grey");
}

TEST(html_colour_forms_normalised)
{
	CHECK_HIDES("<font color=\"#fff\">1</font>", "", "1", HTML_F_SAME_COLOR);
	CHECK_HIDES("<font color=\"#FFFFFF\">2</font>", "", "2", HTML_F_SAME_COLOR);
	CHECK_HIDES("<font color=\"ffffff\">3</font>", "", "3", HTML_F_SAME_COLOR);
	CHECK_HIDES("<span style=\"color:rgb(255, 255, 255)\">4</span>", "", "4",
	            HTML_F_SAME_COLOR);
	CHECK_HIDES("<span style=\"color:rgb(100% 100% 100%)\">5</span>", "", "5",
	            HTML_F_SAME_COLOR);
	CHECK_HIDES("<span style=\"color:hsl(0, 0%, 100%)\">6</span>", "", "6", HTML_F_SAME_COLOR);
	CHECK_HIDES("<span style=\"color:WHITE\">7</span>", "", "7", HTML_F_SAME_COLOR);
	CHECK_HIDES("<span style=\"color:#fefefe\">8</span>", "", "8", HTML_F_SAME_COLOR);
}

TEST(html_colour_forms_that_differ)
{
	/* "fff" without '#' is #0f0f0f to a browser: dark text on white. */
	CHECK_SHOWN("<font color=\"fff\">a</font> <span style=\"color:hsl(120,100%,25%)\">b</span>",
	            "a b");
	CHECK_SHOWN("<body bgcolor=\"#000\"><span style=\"color:rgb(0,0,255)\">c</span>", "c");
}

TEST(html_hidden_transparent_text)
{
	CHECK_HIDES("<span style=\"color:transparent\">s</span>v", "v", "s", HTML_F_SAME_COLOR);
	CHECK_HIDES("<span style=\"color:rgba(0,0,0,0)\">s</span>v", "v", "s", HTML_F_SAME_COLOR);
}

TEST(html_background_image_not_same_colour)
{
	CHECK_SHOWN("<td style=\"background:#fff url(x.png)\"><font color=white>on image</font>",
	            "on image");
}

TEST(html_link_default_colour_visible)
{
	CHECK_SHOWN("<font color=white><a href=\"http://x.example/\">click</a></font>", "click");
}

TEST(html_stylesheet_colours_make_attributes_unsure)
{
	CHECK_SHOWN("<style>td { color: #fff }</style><font color=white>x</font>", "x");
	CHECK_HIDES("<style>td { color: #fff }</style><span style=\"color:#fff\">x</span>", "", "x",
	            HTML_F_SAME_COLOR);
}

TEST(html_hidden_inherited_by_descendants)
{
	CHECK_HIDES("<div style=\"display:none\"><p><b>deep <i>er</i></b></p></div>after", "after",
	            "deep er", HTML_F_DISPLAY_NONE);
}

TEST(html_display_none_not_undone)
{
	CHECK_HIDES("<div style=\"display:none\"><span style=\"display:block\">x</span></div>", "",
	            "x", HTML_F_DISPLAY_NONE);
}

TEST(html_visibility_undone_by_child)
{
	CHECK_HIDES("<div style=\"visibility:hidden\">h<span style=\"visibility:visible\">v</span>"
	            "</div>",
	            "v", "h", HTML_F_DISPLAY_NONE);
}

TEST(html_hidden_ends_with_element)
{
	CHECK_HIDES("<p>a <span style=\"display:none\">b <b>c</b></span> d</p>e", "a d\n\ne", "b c",
	            HTML_F_DISPLAY_NONE);
}

TEST(html_hidden_block_does_not_split_visible_word)
{
	CHECK_HIDES("Via<div style=\"display:none\">xyz</div>gra", "Viagra", "xyz",
	            HTML_F_DISPLAY_NONE);
}

TEST(html_hidden_style_with_entities_and_comments)
{
	CHECK_HIDES("<span style=\"display&#58;none\">a</span>b", "b", "a", HTML_F_DISPLAY_NONE);
	CHECK_HIDES("<span style=\"display:/* x */none\">a</span>b", "b", "a", HTML_F_DISPLAY_NONE);
}

TEST(html_hidden_by_stylesheet_class)
{
	CHECK_HIDES("<style>.pre { display: none !important }</style>"
	            "<p class=\"x pre\">secret</p>shown",
	            "shown", "secret", HTML_F_DISPLAY_NONE);
	CHECK_HIDES("<style>span.t{font-size:0}</style><span class=t>s</span>v", "v", "s",
	            HTML_F_TINY_FONT);
}

TEST(html_media_query_rules_not_applied)
{
	CHECK_SHOWN("<style>@media (max-width:600px) { .m { display:none } } .d{color:red}</style>"
	            "<p class=m>mobile hides me</p>",
	            "mobile hides me");
}

TEST(html_descendant_selector_not_applied)
{
	CHECK_SHOWN("<style>.a .b { display:none }</style><p class=b>x</p>", "x");
}

TEST(html_empty_hidden_element_sets_no_fact)
{
	struct run r;

	run(&r, "<div style=\"display:none\"></div><img src=x style=\"display:none\">text");
	CHECK_SLICE(TEXT(r), r.o.text.len, "text");
	CHECK(!(r.o.facts & (HTML_F_HIDDEN_TEXT | HTML_F_DISPLAY_NONE)));
	done(&r);
}

TEST(html_hidden_pieces_kept_apart)
{
	CHECK_HIDES("<span hidden>one</span>x<span hidden>two</span>", "x", "one two",
	            HTML_F_DISPLAY_NONE);
}

TEST(html_end_tag_does_not_leave_table_cell)
{
	CHECK_HIDES("<div style=\"display:none\"><table><tr><td>x</div>y</td></tr></table></div>z",
	            "z", "xy", HTML_F_DISPLAY_NONE);
}

TEST(html_row_end_closes_cell)
{
	CHECK_TEXT("<table><tr><td>a</tr><tr><td>b</table>c", "a\nb\nc");
}

TEST(html_closing_p_ends_hidden_paragraph)
{
	CHECK_HIDES("<p style=\"display:none\">h<p>v", "v", "h", HTML_F_DISPLAY_NONE);
}

/* ---- links ---- */

TEST(html_link_text_differs_from_href)
{
	struct run r;

	run(&r, "Log in: <a href=\"http://evil.example/\">www.paypal.com</a>.");
	CHECK(r.o.nlinks == 1);
	CHECK(r.o.links[0].kind == HTML_LINK_A);
	CHECK_STR(r.o.links[0].href, "http://evil.example/");
	CHECK_STR(r.o.links[0].text, "www.paypal.com");
	CHECK_SLICE(TEXT(r), r.o.text.len, "Log in: www.paypal.com.");
	done(&r);
}

TEST(html_link_href_decoded_and_trimmed)
{
	struct run r;

	run(&r, "<a href=\" \n http://x.example/?a=1&amp;b=2&copy=3 \t\">x</a>"
	        "<a href=\"http://ex\nample.com/p\">y</a>");
	CHECK(r.o.nlinks == 2);
	CHECK_STR(r.o.links[0].href, "http://x.example/?a=1&b=2&copy=3");
	CHECK_STR(r.o.links[1].href, "http://example.com/p");
	done(&r);
}

TEST(html_link_text_collapsed)
{
	struct run r;

	run(&r, "<a href=x>\n  Click\n\n <b>here</b><br>now  </a>");
	CHECK(r.o.nlinks == 1);
	CHECK_STR(r.o.links[0].text, "Click here now");
	done(&r);
}

TEST(html_link_text_without_hidden_part)
{
	struct run r;

	run(&r, "<a href=x>Pay<span style=\"display:none\">zzz</span>Pal</a>");
	CHECK_STR(r.o.links[0].text, "PayPal");
	done(&r);
}

TEST(html_link_new_a_closes_previous)
{
	struct run r;

	run(&r, "<a href=\"http://one.example/\">one<a href=\"http://two.example/\">two</a> after");
	CHECK(r.o.nlinks == 2);
	CHECK_STR(r.o.links[0].text, "one");
	CHECK_STR(r.o.links[1].href, "http://two.example/");
	CHECK_STR(r.o.links[1].text, "two");
	done(&r);
}

TEST(html_link_unclosed_at_end)
{
	struct run r;

	run(&r, "<a href=\"http://one.example/\">one two");
	CHECK(r.o.nlinks == 1);
	CHECK_STR(r.o.links[0].text, "one two");
	done(&r);
}

TEST(html_link_closed_by_cell_end)
{
	struct run r;

	run(&r, "<table><tr><td><a href=x>foo</td><td>bar</td></tr></table>");
	CHECK(r.o.nlinks == 1);
	CHECK_STR(r.o.links[0].text, "foo");
	done(&r);
}

TEST(html_link_img_alt)
{
	struct run r;

	run(&r, "<IMG SRC=\"http://img.example/a.png\" ALT=\"Buy &amp;  save\" width=1>");
	CHECK(r.o.nlinks == 1);
	CHECK(r.o.links[0].kind == HTML_LINK_IMG);
	CHECK_STR(r.o.links[0].href, "http://img.example/a.png");
	CHECK_STR(r.o.links[0].text, "Buy & save");
	CHECK(r.o.facts & HTML_F_IMAGES);
	CHECK(r.o.text.len == 0);
	done(&r);
}

TEST(html_link_img_alt_capped)
{
	struct run r;
	char buf[5000];
	size_t n = 0, i;

	n += (size_t)snprintf(buf, sizeof(buf), "<img src=x alt=\"");
	for (i = 0; i < 1200; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\x14\xC3\xA9");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\">");
	run_n(&r, buf, n, 10);
	CHECK(r.o.nlinks == 1);
	CHECK(r.o.links[0].text.len > 0 && r.o.links[0].text.len <= 1024);
	CHECK(utf8_valid(r.o.links[0].text.p, r.o.links[0].text.len));
	CHECK(r.o.links[0].text.p[r.o.links[0].text.len - 1] != ' ');
	CHECK(!memchr(r.o.links[0].text.p, 0x14, r.o.links[0].text.len));
	done(&r);
}

/* Found by fuzz/fuzz_html.c: image alt text of several KiB was kept whole. */
TEST(html_regression_fuzz_long_alt)
{
	struct run r;
	size_t len, i;
	char *html = test_read_data("html/fuzz-long-alt.html", &len);

	run_n(&r, html, len, 50);
	CHECK(r.rc == 0);
	CHECK(r.o.nlinks > 3);
	for (i = 0; i < r.o.nlinks; i++)
		CHECK(r.o.links[i].text.len <= 1024);
	done(&r);
	free(html);
}

TEST(html_link_form_action)
{
	struct run r;

	run(&r, "<form method=post action='https://phish.example/login.php'>"
	        "<input name=pw></form>");
	CHECK(r.o.nlinks == 1);
	CHECK(r.o.links[0].kind == HTML_LINK_FORM);
	CHECK_STR(r.o.links[0].href, "https://phish.example/login.php");
	CHECK(r.o.facts & HTML_F_FORM);
	done(&r);
}

TEST(html_link_area_and_iframe)
{
	struct run r;

	run(&r, "<map><area href=\"http://area.example/\" alt=\"Go\"></map>"
	        "<iframe src=\"http://frame.example/\">fallback</iframe>");
	CHECK(r.o.nlinks == 2);
	CHECK(r.o.links[0].kind == HTML_LINK_AREA);
	CHECK_STR(r.o.links[0].href, "http://area.example/");
	CHECK_STR(r.o.links[0].text, "Go");
	CHECK(r.o.links[1].kind == HTML_LINK_OTHER);
	CHECK_STR(r.o.links[1].href, "http://frame.example/");
	CHECK(r.o.facts & HTML_F_IFRAME);
	CHECK(r.o.text.len == 0);
	done(&r);
}

TEST(html_link_without_href_ignored)
{
	struct run r;

	run(&r, "<a name=top>top</a><a href=\"\">empty</a><img alt=x>");
	CHECK(r.o.nlinks == 0);
	CHECK_SLICE(TEXT(r), r.o.text.len, "topempty");
	done(&r);
}

TEST(html_link_duplicate_attribute_first_wins)
{
	struct run r;

	run(&r, "<a HREF=first href=\"second\">x</a>");
	CHECK(r.o.nlinks == 1);
	CHECK_STR(r.o.links[0].href, "first");
	done(&r);
}

TEST(html_link_attribute_syntax)
{
	struct run r;

	run(&r, "<a\nclass=c href = 'http://a.example/q?x=\"1\"' >a</a>"
	        "<a title=\"x>y\" href=http://b.example/>b</a><a/href=\"c\">c</a>");
	CHECK(r.o.nlinks == 3);
	CHECK_STR(r.o.links[0].href, "http://a.example/q?x=\"1\"");
	CHECK_STR(r.o.links[1].href, "http://b.example/");
	CHECK_STR(r.o.links[1].text, "b");
	CHECK_STR(r.o.links[2].href, "c");
	done(&r);
}

TEST(html_links_capped)
{
	struct run r;
	char buf[2000];
	size_t n = 0;
	int i;

	for (i = 0; i < 10; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		                      "<a href=\"http://%d.example/\">%d</a>", i, i);
	run_n(&r, buf, n, 3);
	CHECK(r.o.nlinks == 3);
	CHECK_STR(r.o.links[2].href, "http://2.example/");
	CHECK_SLICE(TEXT(r), r.o.text.len, "0123456789");
	done(&r);
	run_n(&r, buf, n, 0);
	CHECK(r.o.nlinks == 0);
	done(&r);
}

TEST(html_link_text_capped)
{
	struct run r;
	size_t n = 5000, i;
	char *buf = malloc(n + 20);

	memcpy(buf, "<a href=x>", 10);
	for (i = 0; i < n; i++)
		buf[10 + i] = (char)("é"[i % 2]);
	run_n(&r, buf, 10 + n, 10);
	CHECK(r.o.nlinks == 1);
	CHECK(r.o.links[0].text.len > 0 && r.o.links[0].text.len <= 1024);
	CHECK(utf8_valid(r.o.links[0].text.p, r.o.links[0].text.len));
	CHECK(r.o.text.len == n);
	done(&r);
	free(buf);
}

TEST(html_links_in_head_or_template_ignored)
{
	struct run r;

	run(&r, "<head><link href=\"s.css\" rel=stylesheet></head>"
	        "<template><a href=\"http://t.example/\">t</a></template>");
	CHECK(r.o.nlinks == 0);
	done(&r);
}

/* ---- malformed input ---- */

TEST(html_malformed_unterminated_attribute)
{
	struct run r;

	run(&r, "<a href='x>text");
	CHECK(r.rc == 0);
	CHECK(r.o.text.len == 0);
	CHECK(r.o.nlinks == 0);
	CHECK(r.o.facts & HTML_F_MALFORMED);
	done(&r);
}

TEST(html_malformed_lone_angles)
{
	CHECK_TEXT("< p>", "< p>");
	CHECK_TEXT("<<>>", "<<>>");
	CHECK_TEXT("if a < b and b > c", "if a < b and b > c");
	CHECK_TEXT("x <", "x <");
	CHECK_TEXT("x </", "x </");
}

TEST(html_malformed_odd_end_tags)
{
	CHECK_TEXT("a</>b</ x>c</p>d", "abc\n\nd");
	CHECK_TEXT("</div></span>text", "text");
}

TEST(html_malformed_tag_at_end)
{
	struct run r;

	run(&r, "text<p class=x");
	CHECK_SLICE(TEXT(r), r.o.text.len, "text");
	CHECK(r.o.facts & HTML_F_MALFORMED);
	done(&r);
}

TEST(html_unknown_tags_ignored)
{
	CHECK_TEXT("<o:p>a</o:p><foo bar=1>b</foo><x-y>c</x-y>", "abc");
}

TEST(html_stray_end_tag_does_not_unhide)
{
	CHECK_HIDES("<div style=\"display:none\"><b>x</span>y</b>z</div>v", "v", "xyz",
	            HTML_F_DISPLAY_NONE);
}

TEST(html_deep_nesting)
{
	size_t depth = 10000, n = 0, i;
	char *buf = malloc(depth * 11 + 100);
	struct run r;
	clock_t t0 = clock();

	for (i = 0; i < depth; i++, n += 5)
		memcpy(buf + n, "<div>", 5);
	memcpy(buf + n, "deep", 4);
	n += 4;
	for (i = 0; i < depth; i++, n += 6)
		memcpy(buf + n, "</div>", 6);
	memcpy(buf + n, "after", 5);
	n += 5;
	run_n(&r, buf, n, 10);
	CHECK(r.rc == 0);
	CHECK_SLICE(TEXT(r), r.o.text.len, "deep\nafter");
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
	done(&r);
	free(buf);
}

TEST(html_hidden_past_tracked_depth)
{
	char buf[4000];
	size_t n = 0;
	int i;

	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "<span>");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
	                      "a<span style=\"display:none\">h<b>i</b>d</span>b");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "</span>");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "c");
	CHECK_HIDES(buf, "abc", "hid", HTML_F_DISPLAY_NONE);
}

/* ---- text of any kind ---- */

TEST(html_non_latin_text_intact)
{
	CHECK_TEXT("<p>Xin chào, bạn có khỏe không?</p>", "Xin chào, bạn có khỏe không?");
	CHECK_TEXT("<div>你好，世界</div>", "你好，世界");
	CHECK_TEXT("<p dir=rtl>مرحبا بالعالم</p>", "مرحبا بالعالم");
}

TEST(html_plain_text_passes_through)
{
	CHECK_TEXT("Hello Bob,\n\nplain text, 1 < 2 & 3 > 2.\n-- \nAlice\n",
	           "Hello Bob, plain text, 1 < 2 & 3 > 2. -- Alice");
}

TEST(html_empty_input)
{
	struct run r;

	run_n(&r, "", 0, 10);
	CHECK(r.rc == 0);
	CHECK(r.o.text.len == 0 && r.o.nlinks == 0 && r.o.facts == 0);
	done(&r);
}

TEST(html_appends_to_output)
{
	struct run r;

	run(&r, "first");
	CHECK(html_to_text(&r.a, " <p>second", 10, 10, &r.o) == 0);
	CHECK_SLICE(TEXT(r), r.o.text.len, "firstsecond");
	done(&r);
}

TEST(html_facts_for_active_content)
{
	struct run r;

	run(&r, "<frameset><frame src=\"http://f.example/\"></frameset>");
	CHECK(r.o.facts & HTML_F_IFRAME);
	CHECK(!(r.o.facts & (HTML_F_SCRIPT | HTML_F_FORM | HTML_F_IMAGES | HTML_F_MALFORMED)));
	done(&r);
}

TEST(html_output_valid_utf8)
{
	struct run r;

	run(&r, "<p>&#x1F600; &eacute; caf\xC3\xA9 &#55357;</p><a href=x>\xE4\xBD\xA0</a>");
	CHECK(utf8_valid(r.o.text.p, r.o.text.len));
	CHECK_SLICE(TEXT(r), r.o.text.len, "😀 é café \xEF\xBF\xBD\n\n你");
	done(&r);
}
