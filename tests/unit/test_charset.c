/*
 * test_charset.c: unit tests for text/charset (conversion to UTF-8 NFC,
 * detection, mojibake repair, <meta charset>).
 *
 * Legacy-encoded inputs live in tests/data/charset/ (made with iconv from
 * sentences written for these tests, see README there).
 */
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>

#include "spamsift.h"
#include "text/charset.h"
#include "util/utf8.h"

struct conv {
	sbuf out;
	const char *used;
	unsigned flags;
	int rc;
};

static struct conv conv_mem(const char *in, size_t len, const char *label)
{
	struct conv c = {SBUF_INIT, NULL, 0, 0};

	c.rc = cs_to_utf8(&c.out, in, len, label, label ? strlen(label) : 0, &c.used, &c.flags);
	if (!c.out.p)
		sbuf_add(&c.out, "", 0);
	return c;
}

static struct conv conv_str(const char *in, const char *label)
{
	return conv_mem(in, strlen(in), label);
}

static struct conv conv_file(const char *name, const char *label)
{
	char path[256];
	size_t len;
	char *data;
	struct conv c;

	snprintf(path, sizeof(path), "charset/%s", name);
	data = test_read_data(path, &len);
	c = conv_mem(data, len, label);
	free(data);
	return c;
}

/* Checks a conversion: text, charset used and flags. */
#define CHECK_CONV(c, text, cs, fl)                                                                \
	do {                                                                                       \
		CHECK((c).rc == 0);                                                                \
		CHECK_SLICE((c).out.p, (c).out.len, text);                                         \
		CHECK_SLICE((c).used, strlen((c).used), cs);                                       \
		CHECK((c).flags == (unsigned)(fl));                                                \
		CHECK(utf8_valid((c).out.p, (c).out.len));                                         \
		sbuf_release(&(c).out);                                                            \
	} while (0)

static const char vi_nfc[] = "Ti\xE1\xBA\xBFng Vi\xE1\xBB\x87t c\xC3\xB3 d\xE1\xBA\xA5u";

/* ---- fast paths ---- */

TEST(charset_ascii_copied)
{
	struct conv c = conv_str("Hello, world\r\n", "us-ascii");
	CHECK_CONV(c, "Hello, world\r\n", "us-ascii", 0);
}

TEST(charset_ascii_without_label)
{
	struct conv c = conv_str("plain text", NULL);
	CHECK_CONV(c, "plain text", "us-ascii", 0);
}

TEST(charset_ascii_under_legacy_label)
{
	struct conv c = conv_str("just ascii", "GB2312");
	CHECK_CONV(c, "just ascii", "gb18030", 0);
}

TEST(charset_empty_input)
{
	struct conv c = conv_mem("", 0, "utf-8");
	CHECK_CONV(c, "", "utf-8", 0);
}

TEST(charset_utf8_kept)
{
	struct conv c = conv_str("Gr\xC3\xBC\xC3\x9F"
	                         "e, \xE4\xB8\xAD\xE6\x96\x87",
	                         "UTF-8");
	CHECK_CONV(c,
	           "Gr\xC3\xBC\xC3\x9F"
	           "e, \xE4\xB8\xAD\xE6\x96\x87",
	           "utf-8", 0);
}

TEST(charset_utf8_bom_dropped)
{
	struct conv c = conv_str("\xEF\xBB\xBF"
	                         "caf\xC3\xA9",
	                         "utf-8");
	CHECK_CONV(c, "caf\xC3\xA9", "utf-8", 0);
}

/* ---- Vietnamese: four encodings, one NFC result ---- */

TEST(charset_vi_windows_1258)
{
	struct conv c = conv_file("vi-windows-1258.txt", "windows-1258");
	CHECK_CONV(c, vi_nfc, "windows-1258", 0);
}

TEST(charset_vi_cp1258_alias)
{
	struct conv c = conv_file("vi-windows-1258.txt", "CP1258");
	CHECK_CONV(c, vi_nfc, "windows-1258", 0);
}

TEST(charset_vi_viscii)
{
	struct conv c = conv_file("vi-viscii.txt", "VISCII");
	CHECK_CONV(c, vi_nfc, "viscii", 0);
}

TEST(charset_vi_tcvn)
{
	struct conv c = conv_file("vi-tcvn.txt", "tcvn");
	CHECK_CONV(c, vi_nfc, "tcvn-5712", 0);
}

TEST(charset_vi_tcvn3_alias)
{
	struct conv c = conv_file("vi-tcvn.txt", "TCVN3");
	CHECK_CONV(c, vi_nfc, "tcvn-5712", 0);
}

TEST(charset_vi_tcvn_combining_mark)
{
	/* TCVN 0xB3 is a combining acute: "a" + 0xB3 composes to U+00E1. */
	struct conv c = conv_str("ma\xB3", "tcvn5712-1");
	CHECK_CONV(c, "m\xC3\xA1", "tcvn-5712", 0);
}

TEST(charset_vi_utf8_nfd)
{
	struct conv c = conv_file("vi-utf8-nfd.txt", "utf-8");
	CHECK_CONV(c, vi_nfc, "utf-8", 0);
}

/* ---- CJK ---- */

static const char zh_simp[] = "\xE5\x9E\x83\xE5\x9C\xBE\xE9\x82\xAE\xE4\xBB\xB6"
                              "\xE8\xBF\x87\xE6\xBB\xA4\xE5\x99\xA8";

TEST(charset_zh_gb2312)
{
	struct conv c = conv_file("zh-gb2312.txt", "gb2312");
	CHECK_CONV(c, zh_simp, "gb18030", 0);
}

TEST(charset_zh_gbk)
{
	struct conv c = conv_file("zh-gbk.txt", "x-gbk");
	CHECK_CONV(c, zh_simp, "gb18030", 0);
}

TEST(charset_zh_gb18030)
{
	struct conv c = conv_file("zh-gb18030.txt", "GB18030");
	CHECK_CONV(c, zh_simp, "gb18030", 0);
}

TEST(charset_zh_big5)
{
	struct conv c = conv_file("zh-big5.txt", "big5");
	CHECK_CONV(c,
	           "\xE5\x9E\x83\xE5\x9C\xBE\xE9\x83\xB5\xE4\xBB\xB6\xE9\x81\x8E"
	           "\xE6\xBF\xBE\xE5\x99\xA8",
	           "big5-hkscs", 0);
}

static const char ja_text[] = "\xE8\xBF\xB7\xE6\x83\x91\xE3\x83\xA1\xE3\x83\xBC"
                              "\xE3\x83\xAB\xE3\x81\xA7\xE3\x81\x99";

TEST(charset_ja_iso_2022_jp)
{
	struct conv c = conv_file("ja-iso-2022-jp.txt", "ISO-2022-JP");
	CHECK_CONV(c, ja_text, "iso-2022-jp", 0);
}

TEST(charset_ja_shift_jis)
{
	struct conv c = conv_file("ja-shift_jis.txt", "Shift_JIS");
	CHECK_CONV(c, ja_text, "windows-31j", 0);
}

TEST(charset_ja_euc_jp)
{
	struct conv c = conv_file("ja-euc-jp.txt", "euc-jp");
	CHECK_CONV(c, ja_text, "euc-jp", 0);
}

static const char ko_text[] = "\xEC\x8A\xA4\xED\x8C\xB8 \xEB\xA9\x94\xEC\x9D\xBC";

TEST(charset_ko_euc_kr)
{
	struct conv c = conv_file("ko-euc-kr.txt", "EUC-KR");
	CHECK_CONV(c, ko_text, "windows-949", 0);
}

TEST(charset_ko_ks_c_5601)
{
	struct conv c = conv_file("ko-euc-kr.txt", "ks_c_5601-1987");
	CHECK_CONV(c, ko_text, "windows-949", 0);
}

/* ---- other scripts ---- */

static const char ru_text[] = "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, "
                              "\xD0\xBC\xD0\xB8\xD1\x80";

TEST(charset_ru_koi8_r)
{
	struct conv c = conv_file("ru-koi8-r.txt", "koi8-r");
	CHECK_CONV(c, ru_text, "koi8-r", 0);
}

TEST(charset_ru_windows_1251)
{
	struct conv c = conv_file("ru-windows-1251.txt", "windows-1251");
	CHECK_CONV(c, ru_text, "windows-1251", 0);
}

TEST(charset_cs_iso_8859_2)
{
	struct conv c = conv_file("cs-iso-8859-2.txt", "ISO-8859-2");
	CHECK_CONV(
	    c,
	    "P\xC5\x99\xC3\xADli\xC5\xA1 \xC5\xBElu\xC5\xA5ou\xC4\x8Dk\xC3\xBD k\xC5\xAF\xC5\x88",
	    "iso-8859-2", 0);
}

TEST(charset_ar_windows_1256)
{
	struct conv c = conv_file("ar-windows-1256.txt", "windows-1256");
	CHECK_CONV(c,
	           "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 \xD8\xA8\xD8\xA7\xD9\x84"
	           "\xD8\xB9\xD8\xA7\xD9\x84\xD9\x85",
	           "windows-1256", 0);
}

TEST(charset_th_tis_620)
{
	struct conv c = conv_file("th-tis-620.txt", "TIS-620");
	CHECK_CONV(c,
	           "\xE0\xB8\xAA\xE0\xB8\xA7\xE0\xB8\xB1\xE0\xB8\xAA\xE0\xB8\x94\xE0\xB8\xB5"
	           "\xE0\xB8\x8A\xE0\xB8\xB2\xE0\xB8\xA7\xE0\xB9\x82\xE0\xB8\xA5\xE0\xB8\x81",
	           "windows-874", 0);
}

TEST(charset_el_iso_8859_7)
{
	struct conv c = conv_file("el-iso-8859-7.txt", "iso-8859-7");
	CHECK_CONV(c,
	           "\xCE\x93\xCE\xB5\xCE\xB9\xCE\xAC \xCF\x83\xCE\xBF\xCF\x85 "
	           "\xCE\x9A\xCF\x8C\xCF\x83\xCE\xBC\xCE\xB5",
	           "iso-8859-7", 0);
}

TEST(charset_he_windows_1255)
{
	struct conv c = conv_file("he-windows-1255.txt", "windows-1255");
	CHECK_CONV(c, "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xD7\xA2\xD7\x95\xD7\x9C\xD7\x9D",
	           "windows-1255", 0);
}

TEST(charset_tr_iso_8859_9)
{
	struct conv c = conv_file("tr-iso-8859-9.txt", "ISO-8859-9");
	CHECK_CONV(c,
	           "T\xC3\xBCrk\xC3\xA7"
	           "e \xC3\xB6\xC4\x9Frenmek \xC3\xA7ok g\xC3\xBCzel",
	           "windows-1254", 0);
}

TEST(charset_ro_iso_8859_16_via_iconv)
{
	struct conv c = conv_file("ro-iso-8859-16.txt", "iso-8859-16");
	CHECK_CONV(c,
	           "\xC8\x98tiin\xC8\x9B"
	           "ele rom\xC3\xA2ne\xC8\x99ti",
	           "iso-8859-16", 0);
}

TEST(charset_latin1_is_windows_1252)
{
	struct conv c = conv_str("caf\xE9 \x80"
	                         "5 \x93ok\x94",
	                         "ISO-8859-1");
	CHECK_CONV(c,
	           "caf\xC3\xA9 \xE2\x82\xAC"
	           "5 \xE2\x80\x9Cok\xE2\x80\x9D",
	           "windows-1252", 0);
}

TEST(charset_utf16_bom_le)
{
	struct conv c = conv_mem("\xFF\xFEH\0i\0 \0\xE9\0", 10, "utf-16");
	CHECK_CONV(c, "Hi \xC3\xA9", "utf-16", 0);
}

TEST(charset_utf16_bom_be)
{
	struct conv c = conv_mem("\xFE\xFF\0H\0i", 6, "UTF-16");
	CHECK_CONV(c, "Hi", "utf-16", 0);
}

/* ---- labels ---- */

TEST(charset_label_quotes_and_case)
{
	struct conv c = conv_file("ru-koi8-r.txt", " \"KOI8-R\" ");
	CHECK_CONV(c, ru_text, "koi8-r", 0);
}

TEST(charset_label_underscores)
{
	struct conv c = conv_str("caf\xE9", "ISO_8859-1");
	CHECK_CONV(c, "caf\xC3\xA9", "windows-1252", 0);
}

TEST(charset_label_utf8_spellings)
{
	struct conv c = conv_str("\xC3\xA9t\xC3\xA9", "UTF8");
	CHECK_CONV(c, "\xC3\xA9t\xC3\xA9", "utf-8", 0);
	c = conv_str("\xC3\xA9t\xC3\xA9", "'utf-8'");
	CHECK_CONV(c, "\xC3\xA9t\xC3\xA9", "utf-8", 0);
}

TEST(charset_label_too_long_is_unknown)
{
	struct conv c = conv_str("abc", "utf-8-but-with-a-very-long-suffix-nobody-knows");
	CHECK_CONV(c, "abc", "us-ascii", CS_UNKNOWN_LABEL | CS_DETECTED);
}

TEST(charset_unknown_label_ascii)
{
	struct conv c = conv_str("hello", "x-no-such-charset");
	CHECK_CONV(c, "hello", "us-ascii", CS_UNKNOWN_LABEL | CS_DETECTED);
}

TEST(charset_unknown_label_utf8)
{
	struct conv c = conv_str("\xC3\xA9t\xC3\xA9", "x-no-such-charset");
	CHECK_CONV(c, "\xC3\xA9t\xC3\xA9", "utf-8", CS_UNKNOWN_LABEL | CS_DETECTED);
}

TEST(charset_vni_is_not_a_charset)
{
	struct conv c = conv_str("Vi\xC3\xAA\xCC\xA3t", "vni");
	CHECK_CONV(c, "Vi\xE1\xBB\x87t", "utf-8", CS_UNKNOWN_LABEL | CS_DETECTED);
}

/* ---- detection ---- */

TEST(charset_us_ascii_label_with_utf8)
{
	struct conv c = conv_str("na\xC3\xAFve r\xC3\xA9sum\xC3\xA9", "us-ascii");
	CHECK_CONV(c, "na\xC3\xAFve r\xC3\xA9sum\xC3\xA9", "utf-8", CS_DETECTED);
}

TEST(charset_latin1_label_with_utf8)
{
	struct conv c = conv_str("Stra\xC3\x9F"
	                         "e",
	                         "iso-8859-1");
	CHECK_CONV(c,
	           "Stra\xC3\x9F"
	           "e",
	           "utf-8", CS_DETECTED);
}

TEST(charset_no_label_utf8)
{
	struct conv c = conv_str("\xE2\x82\xAC"
	                         "5",
	                         NULL);
	CHECK_CONV(c,
	           "\xE2\x82\xAC"
	           "5",
	           "utf-8", CS_DETECTED);
}

TEST(charset_no_label_gb2312_paragraph)
{
	size_t n;
	char *want = test_read_data("charset/zh-paragraph.utf8", &n);
	struct conv c = conv_file("zh-paragraph-gb2312.txt", NULL);
	CHECK_CONV(c, want, "gb18030", CS_DETECTED);
	free(want);
}

TEST(charset_no_label_koi8_r_paragraph)
{
	size_t n;
	char *want = test_read_data("charset/ru-paragraph.utf8", &n);
	struct conv c = conv_file("ru-paragraph-koi8-r.txt", NULL);
	CHECK_CONV(c, want, "koi8-r", CS_DETECTED);
	free(want);
}

TEST(charset_us_ascii_label_with_koi8_r)
{
	size_t n;
	char *want = test_read_data("charset/ru-paragraph.utf8", &n);
	struct conv c = conv_file("ru-paragraph-koi8-r.txt", "us-ascii");
	CHECK_CONV(c, want, "koi8-r", CS_DETECTED);
	free(want);
}

TEST(charset_utf8_label_with_windows_1251)
{
	size_t n;
	char *want = test_read_data("charset/ru-paragraph.utf8", &n);
	struct conv c = conv_file("ru-paragraph-windows-1251.txt", "utf-8");
	CHECK_CONV(c, want, "windows-1251", CS_DETECTED);
	free(want);
}

TEST(charset_no_label_short_latin1_falls_back)
{
	struct conv c = conv_str("Gr\xFC\xDF"
	                         "e aus K\xF6ln",
	                         NULL);
	CHECK_CONV(c,
	           "Gr\xC3\xBC\xC3\x9F"
	           "e aus K\xC3\xB6ln",
	           "windows-1252", CS_DETECTED);
}

TEST(charset_gb2312_label_with_utf8_text)
{
	struct conv c = conv_str(zh_simp, "gb2312");
	CHECK_CONV(c, zh_simp, "utf-8", CS_DETECTED);
}

TEST(charset_gb2312_label_short_utf8_fails_legacy)
{
	/* E2 82 AC is a GB18030 pair plus a lone lead byte: UTF-8 wins. */
	struct conv c = conv_str("5 \xE2\x82\xAC", "gb2312");
	CHECK_CONV(c, "5 \xE2\x82\xAC", "utf-8", CS_DETECTED);
}

TEST(charset_shift_jis_label_with_utf8_text)
{
	struct conv c = conv_str(ja_text, "shift_jis");
	CHECK_CONV(c, ja_text, "utf-8", CS_DETECTED);
}

TEST(charset_no_label_iso_2022_jp)
{
	struct conv c = conv_file("ja-iso-2022-jp.txt", NULL);
	CHECK_CONV(c, ja_text, "iso-2022-jp", CS_DETECTED);
}

TEST(charset_iso_2022_jp_label_with_utf8)
{
	struct conv c = conv_str("\xC3\xA9", "iso-2022-jp");
	CHECK_CONV(c, "\xC3\xA9", "utf-8", CS_DETECTED);
}

TEST(charset_no_label_utf16_bom)
{
	struct conv c = conv_mem("\xFF\xFEo\0k\0", 6, NULL);
	CHECK_CONV(c, "ok", "utf-16", CS_DETECTED);
}

/* ---- mojibake ---- */

TEST(charset_mojibake_cafe)
{
	struct conv c = conv_str("Caf\xC3\x83\xC2\xA9 cr\xC3\x83\xC2\xA8me", "utf-8");
	CHECK_CONV(c, "Caf\xC3\xA9 cr\xC3\xA8me", "utf-8", CS_REPAIRED);
}

TEST(charset_mojibake_vietnamese)
{
	/* "Tiếng Việt" as UTF-8 read as windows-1252: "TiÃ¡ÂºÂ¿ng ViÃ¡Â»â€¡t". */
	struct conv c =
	    conv_str("Ti\xC3\xA1\xC2\xBA\xC2\xBFng Vi\xC3\xA1\xC2\xBB\xE2\x80\xA1t", "utf-8");
	CHECK_CONV(c, "Ti\xE1\xBA\xBFng Vi\xE1\xBB\x87t", "utf-8", CS_REPAIRED);
}

TEST(charset_mojibake_smart_quote)
{
	/* U+2019 read as windows-1252 is "â€™". */
	struct conv c = conv_str("don\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2t", NULL);
	CHECK_CONV(c, "don\xE2\x80\x99t", "utf-8", CS_DETECTED | CS_REPAIRED);
}

TEST(charset_mojibake_twice)
{
	/* "é" mis-decoded twice: C3 A9 -> "Ã©" -> "ÃƒÂ©". */
	struct conv c = conv_str("Caf\xC3\x83\xC6\x92\xC3\x82\xC2\xA9", "utf-8");
	CHECK_CONV(c, "Caf\xC3\xA9", "utf-8", CS_REPAIRED);
}

TEST(charset_mojibake_declared_latin1)
{
	struct conv c = conv_str("Caf\xC3\x83\xC2\xA9", "iso-8859-1");
	CHECK_CONV(c, "Caf\xC3\xA9", "utf-8", CS_DETECTED | CS_REPAIRED);
}

TEST(charset_no_repair_french)
{
	const char *s = "D\xC3\xA9j\xC3\xA0 vu, cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
	                "e \xC3\xA0 "
	                "l'\xC3\xA9t\xC3\xA9, \xC2\xAB\xC2\xA0"
	                "fran\xC3\xA7"
	                "ais\xC2\xA0\xC2\xBB";
	struct conv c = conv_str(s, "utf-8");
	CHECK_CONV(c, s, "utf-8", 0);
}

TEST(charset_no_repair_german)
{
	const char *s = "Gr\xC3\xB6\xC3\x9F"
	                "e \xC3\x84pfel \xC3\x9C"
	                "ber M\xC3\xBC"
	                "ller";
	struct conv c = conv_str(s, "utf-8");
	CHECK_CONV(c, s, "utf-8", 0);
}

TEST(charset_no_repair_vietnamese)
{
	struct conv c = conv_str(vi_nfc, "utf-8");
	CHECK_CONV(c, vi_nfc, "utf-8", 0);
}

TEST(charset_no_repair_portuguese_capitals)
{
	const char *s = "S\xC3\x83O PAULO, \xC3\x82NGULO";
	struct conv c = conv_str(s, "utf-8");
	CHECK_CONV(c, s, "utf-8", 0);
}

/* ---- invalid input ---- */

TEST(charset_utf8_invalid_bytes)
{
	struct conv c = conv_str("ab\xFF"
	                         "cd \xC3\xA9\xE2\x9C\x93",
	                         "utf-8");
	CHECK_CONV(c,
	           "ab\xEF\xBF\xBD"
	           "cd \xC3\xA9\xE2\x9C\x93",
	           "utf-8", CS_INVALID);
}

TEST(charset_utf8_truncated_sequence)
{
	struct conv c = conv_str("\xC3\xA9t\xC3\xA9 \xE4\xB8", "utf-8");
	CHECK_CONV(c, "\xC3\xA9t\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD", "utf-8", CS_INVALID);
}

TEST(charset_shift_jis_truncated)
{
	struct conv c = conv_str("\x83\x81\x81", "shift_jis");
	CHECK_CONV(c, "\xE3\x83\xA1\xEF\xBF\xBD", "windows-31j", CS_INVALID);
}

TEST(charset_gb18030_bad_byte)
{
	struct conv c = conv_str("\xC0\xAC\x80"
	                         "x",
	                         "gb18030");
	CHECK_CONV(c,
	           "\xE5\x9E\x83\xEF\xBF\xBD"
	           "x",
	           "gb18030", CS_INVALID);
}

TEST(charset_iso_2022_jp_bad_escape_byte)
{
	struct conv c = conv_str("\x1B$B\xFF\x1B(Bz", "iso-2022-jp");
	CHECK(c.rc == 0);
	CHECK(c.flags & CS_INVALID);
	CHECK_CONTAINS(c.out.p, c.out.len, "\xEF\xBF\xBD");
	CHECK(utf8_valid(c.out.p, c.out.len));
	sbuf_release(&c.out);
}

TEST(charset_utf16_odd_length)
{
	struct conv c = conv_mem("\xFF\xFEH\0i", 5, "utf-16");
	CHECK_CONV(c, "H\xEF\xBF\xBD", "utf-16", CS_INVALID);
}

TEST(charset_appends_to_buffer)
{
	sbuf out = SBUF_INIT;
	const char *used;
	unsigned flags;

	sbuf_adds(&out, "> ");
	CHECK(cs_to_utf8(&out, "caf\xE9", 4, "latin1", 6, &used, &flags) == 0);
	CHECK_SLICE(out.p, out.len, "> caf\xC3\xA9");
	sbuf_release(&out);
}

/* ---- long inputs: buffer and chunk boundaries ---- */

static char *repeat(const char *s, size_t n, size_t times, size_t *len)
{
	char *p = malloc(n * times + 1);

	for (size_t i = 0; i < times; i++)
		memcpy(p + i * n, s, n);
	p[n * times] = '\0';
	*len = n * times;
	return p;
}

TEST(charset_long_gb18030)
{
	size_t n, wn, inlen;
	char *one = test_read_data("charset/zh-gb18030.txt", &n);
	char *in = repeat(one, n, 5000, &inlen);
	char *want = repeat(zh_simp, strlen(zh_simp), 5000, &wn);
	struct conv c = conv_mem(in, inlen, "gb18030");
	CHECK_CONV(c, want, "gb18030", 0);
	free(one);
	free(in);
	free(want);
}

TEST(charset_long_windows_1258_composes_everywhere)
{
	size_t n, wn, inlen;
	char *one = test_read_data("charset/vi-windows-1258.txt", &n);
	char *in = repeat(one, n, 3001, &inlen);
	char *want = repeat(vi_nfc, strlen(vi_nfc), 3001, &wn);
	struct conv c = conv_mem(in, inlen, "windows-1258");
	CHECK_CONV(c, want, "windows-1258", 0);
	free(one);
	free(in);
	free(want);
}

TEST(charset_long_nfd_composes_everywhere)
{
	size_t wn, inlen;
	char *in = repeat("e\xCC\x81", 3, 7001, &inlen);
	char *want = repeat("\xC3\xA9", 2, 7001, &wn);
	sbuf out = SBUF_INIT;

	CHECK(cs_nfc(&out, in, inlen) == 0);
	CHECK(out.len == wn && memcmp(out.p, want, wn) == 0);
	sbuf_release(&out);
	free(in);
	free(want);
}

TEST(charset_detects_past_long_ascii_prefix)
{
	size_t n, wn, pn;
	char *koi = test_read_data("charset/ru-paragraph-koi8-r.txt", &n);
	char *want = test_read_data("charset/ru-paragraph.utf8", &wn);
	char *pre = repeat("Hello there, this is plain ASCII. ", 34, 200, &pn);
	char *in = malloc(pn + n), *exp = malloc(pn + wn + 1);
	struct conv c;

	memcpy(in, pre, pn);
	memcpy(in + pn, koi, n);
	memcpy(exp, pre, pn);
	memcpy(exp + pn, want, wn + 1);
	c = conv_mem(in, pn + n, NULL);
	CHECK_CONV(c, exp, "koi8-r", CS_DETECTED);
	free(koi);
	free(want);
	free(pre);
	free(in);
	free(exp);
}

TEST(charset_mark_run_reordered_and_composed)
{
	/* a + 10 x (U+0301 U+0316): marks sorted by class, the first acute
	 * composes with the a. */
	size_t n, wn;
	char *marks = repeat("\xCC\x81\xCC\x96", 4, 10, &n);
	char *in = malloc(n + 2), *want = malloc(64);
	sbuf out = SBUF_INIT;

	in[0] = 'a';
	memcpy(in + 1, marks, n + 1);
	memcpy(want, "\xC3\xA1", 2);
	wn = 2;
	for (int i = 0; i < 10; i++, wn += 2)
		memcpy(want + wn, "\xCC\x96", 2);
	for (int i = 0; i < 9; i++, wn += 2)
		memcpy(want + wn, "\xCC\x81", 2);
	want[wn] = '\0';
	CHECK(cs_nfc(&out, in, n + 1) == 0);
	CHECK_SLICE(out.p, out.len, want);
	sbuf_release(&out);
	free(marks);
	free(in);
	free(want);
}

TEST(charset_long_mark_run_left_alone)
{
	/* More than 30 non-starters in a row (Zalgo text) would make NFC
	 * quadratic: such a chunk is kept as it is, still valid UTF-8. */
	size_t n;
	char *marks = repeat("\xCC\x81\xCC\x96", 4, 20000, &n);
	struct conv c = conv_mem(marks, n, "utf-8");

	CHECK(c.rc == 0);
	CHECK(c.out.len == n && memcmp(c.out.p, marks, n) == 0);
	CHECK(utf8_valid(c.out.p, c.out.len));
	sbuf_release(&c.out);
	free(marks);
}

/* ---- cs_nfc ---- */

TEST(charset_nfc_ascii)
{
	sbuf out = SBUF_INIT;

	CHECK(cs_nfc(&out, "abc", 3) == 0);
	CHECK_SLICE(out.p, out.len, "abc");
	sbuf_release(&out);
}

TEST(charset_nfc_composes)
{
	sbuf out = SBUF_INIT;

	CHECK(cs_nfc(&out, "Vie\xCC\x82\xCC\xA3t", 8) == 0);
	CHECK_SLICE(out.p, out.len, "Vi\xE1\xBB\x87t");
	sbuf_release(&out);
}

TEST(charset_nfc_hangul_jamo)
{
	sbuf out = SBUF_INIT;

	CHECK(cs_nfc(&out, "\xE1\x84\x80\xE1\x85\xA1", 6) == 0);
	CHECK_SLICE(out.p, out.len, "\xEA\xB0\x80");
	sbuf_release(&out);
}

TEST(charset_nfc_reorders_marks)
{
	/* U+0301 (ccc 230) before U+0316 (ccc 220) is not canonical order. */
	sbuf out = SBUF_INIT;

	CHECK(cs_nfc(&out, "x\xCC\x81\xCC\x96", 5) == 0);
	CHECK_SLICE(out.p, out.len, "x\xCC\x96\xCC\x81");
	sbuf_release(&out);
}

TEST(charset_nfc_invalid_input)
{
	sbuf out = SBUF_INIT;

	CHECK(cs_nfc(&out, "a\xC3", 2) == 0);
	CHECK_SLICE(out.p, out.len, "a\xEF\xBF\xBD");
	sbuf_release(&out);
}

/* ---- <meta charset> ---- */

TEST(charset_meta_charset)
{
	const char *h = "<html><head><META CharSet = \"GB2312\"></head>";
	char label[32];

	CHECK(cs_html_meta_charset(h, strlen(h), label, sizeof(label)) == 6);
	CHECK_SLICE(label, strlen(label), "GB2312");
}

TEST(charset_meta_http_equiv)
{
	const char *h = "<head><meta http-equiv='Content-Type'\n content='text/html; "
	                "charset=shift_jis'></head>";
	char label[32];

	CHECK(cs_html_meta_charset(h, strlen(h), label, sizeof(label)) == 9);
	CHECK_SLICE(label, strlen(label), "shift_jis");
}

TEST(charset_meta_none)
{
	const char *h = "<html><head><title>charset=koi8-r</title><meta name=x></head>";
	char label[32];

	CHECK(cs_html_meta_charset(h, strlen(h), label, sizeof(label)) == 0);
	CHECK(label[0] == '\0');
}

TEST(charset_meta_after_first_kib_ignored)
{
	char h[1200];
	char label[32];

	memset(h, ' ', sizeof(h));
	memcpy(h + 1030, "<meta charset=utf-8>", 20);
	CHECK(cs_html_meta_charset(h, 1050, label, sizeof(label)) == 0);
}

TEST(charset_meta_label_too_long_for_buffer)
{
	const char *h = "<meta charset=windows-1251>";
	char label[8];

	CHECK(cs_html_meta_charset(h, strlen(h), label, sizeof(label)) == 0);
}

/* ---- headers ---- */

TEST(charset_header_utf8)
{
	sbuf out = SBUF_INIT;

	CHECK(cs_header_to_utf8(&out,
	                        "Gr\xC3\xBC\xC3\x9F"
	                        "e",
	                        7) == 0);
	CHECK_SLICE(out.p, out.len,
	            "Gr\xC3\xBC\xC3\x9F"
	            "e");
	sbuf_release(&out);
}

TEST(charset_header_latin1)
{
	sbuf out = SBUF_INIT;

	CHECK(cs_header_to_utf8(&out,
	                        "Gr\xFC\xDF"
	                        "e",
	                        5) == 0);
	CHECK_SLICE(out.p, out.len,
	            "Gr\xC3\xBC\xC3\x9F"
	            "e");
	sbuf_release(&out);
}

TEST(charset_header_koi8_r)
{
	size_t n;
	char *in = test_read_data("charset/ru-paragraph-koi8-r.txt", &n);
	char *want = test_read_data("charset/ru-paragraph.utf8", &n);
	sbuf out = SBUF_INIT;

	CHECK(cs_header_to_utf8(&out, in, strlen(in)) == 0);
	CHECK_SLICE(out.p, out.len, want);
	sbuf_release(&out);
	free(in);
	free(want);
}

TEST(charset_header_short_gb2312)
{
	/* Too short for ICU to tell CJK charsets apart: GB2312-shaped bytes
	 * are taken as GB18030. */
	size_t n;
	char *in = test_read_data("charset/zh-gb2312.txt", &n);
	sbuf out = SBUF_INIT;

	CHECK(cs_header_to_utf8(&out, in, n) == 0);
	CHECK_SLICE(out.p, out.len, zh_simp);
	sbuf_release(&out);
	free(in);
}

TEST(charset_header_short_koi8_r)
{
	size_t n;
	char *in = test_read_data("charset/ru-koi8-r.txt", &n);
	sbuf out = SBUF_INIT;

	CHECK(cs_header_to_utf8(&out, in, n) == 0);
	CHECK_SLICE(out.p, out.len, ru_text);
	sbuf_release(&out);
	free(in);
}

/* Unlabelled dense double-byte text that is not Chinese GB2312 must not be
 * taken for it by the fast path that skips ICU's detector (cs_gb_sure):
 * the text must come out right. */
static void check_paragraph(const char *file, const char *utf8_file)
{
	size_t n;
	char *want = test_read_data(utf8_file, &n);
	struct conv c = conv_file(file, NULL);

	CHECK(c.rc == 0);
	CHECK_SLICE(c.out.p, c.out.len, want);
	CHECK(strcmp(c.used, "gb18030") != 0);
	sbuf_release(&c.out);
	free(want);
}

TEST(charset_no_label_euc_kr_paragraph_is_not_gb)
{
	check_paragraph("ko-paragraph-euc-kr.txt", "charset/ko-paragraph.utf8");
}

TEST(charset_no_label_euc_jp_paragraph_is_not_gb)
{
	check_paragraph("ja-paragraph-euc-jp.txt", "charset/ja-paragraph.utf8");
}

TEST(charset_no_label_big5_paragraph_is_not_gb)
{
	check_paragraph("zh-tw-paragraph-big5.txt", "charset/zh-tw-paragraph.utf8");
}

TEST(charset_no_label_windows_1251_paragraph_is_not_gb)
{
	check_paragraph("ru-paragraph-windows-1251.txt", "charset/ru-paragraph.utf8");
}

/* A short unlabelled Chinese subject among ASCII: ICU's detector calls it
 * windows-1252 (mojibake); cs_gb_sure settles it as GB18030 over the whole
 * detection window. */
TEST(charset_header_gb2312_subject_among_ascii)
{
	static const char want[] = "[news] Re: Re:\xE5\x85\xB3\xE4\xBA\x8E"
	                           "SPAM\xE8\xA7\x84\xE5\x88\x99\xE7\x9A\x84\xE4\xB8\x80"
	                           "\xE7\x82\xB9\xE7\x9C\x8B\xE6\xB3\x95";
	size_t n;
	char *in = test_read_data("charset/zh-subject-gb2312.txt", &n);
	sbuf out = SBUF_INIT;

	CHECK(cs_header_to_utf8(&out, in, n) == 0);
	CHECK_SLICE(out.p, out.len, want);
	sbuf_release(&out);
	free(in);
}

/* Cyrillic words of even length make GB2312-shaped pairs in KOI8-R and
 * windows-1251 alike; their trails (0xC0 and up) keep them out of GB. */
static void check_not_gb(const char *file)
{
	struct conv c = conv_file(file, NULL);

	CHECK(c.rc == 0);
	CHECK(strcmp(c.used, "gb18030") != 0);
	sbuf_release(&c.out);
}

TEST(charset_no_label_koi8_r_even_words_are_not_gb)
{
	check_not_gb("ru-even-words-koi8-r.txt");
}

TEST(charset_no_label_windows_1251_even_words_are_not_gb)
{
	check_not_gb("ru-even-words-windows-1251.txt");
}

/* English with a pound sign and a (c), unlabelled: windows-1252 with no
 * detector run (cs_latin_sprinkle); Turkish written mostly in ASCII but
 * with a few dotless i (0xFD, y-acute in windows-1252) still goes to the
 * detector, which tells it is windows-1254. */
TEST(charset_no_label_latin_sprinkle)
{
	struct conv en = conv_file("en-sprinkle-windows-1252.txt", NULL);
	struct conv tr = conv_file("tr-sprinkle-windows-1254.txt", NULL);

	CHECK(en.rc == 0 && tr.rc == 0);
	CHECK(!strcmp(en.used, "windows-1252"));
	CHECK_CONTAINS(en.out.p, en.out.len,
	               "\xC2\xA3"
	               "25");
	CHECK_CONTAINS(en.out.p, en.out.len, "Sunday \xC2\xA9 2006");
	CHECK(en.flags == CS_DETECTED);
	CHECK(!strcmp(tr.used, "windows-1254"));
	CHECK_CONTAINS(tr.out.p, tr.out.len, "olmas\xC4\xB1 gerekmiyor");
	CHECK(tr.flags == CS_DETECTED);
	sbuf_release(&en.out);
	sbuf_release(&tr.out);
}

/* A guess from the text around (cs_header_guess_to_utf8) decides for
 * bytes that fit it; bytes it cannot read fall back to windows-1252. */
TEST(charset_header_guess)
{
	sbuf out = SBUF_INIT;

	CHECK(cs_header_guess_to_utf8(&out, "\xa4\xfd", 2, "big5") == 0);
	CHECK_SLICE(out.p, out.len, "\xe7\x8e\x8b");
	sbuf_reset(&out);
	CHECK(cs_header_guess_to_utf8(&out, "caf\xe9", 4, "big5") == 0);
	CHECK_SLICE(out.p, out.len, "caf\xc3\xa9");
	sbuf_reset(&out);
	CHECK(cs_header_guess_to_utf8(&out, "\xe4\xb8\xad", 3, "big5") == 0);
	CHECK_SLICE(out.p, out.len, "\xe4\xb8\xad"); /* UTF-8 stays */
	sbuf_release(&out);
	CHECK(cs_guess("plain", 5) == NULL);
	CHECK(cs_guess("\xe4\xb8\xad", 3) == NULL);
	CHECK(cs_guess("\xd6\xd0\xce\xc4\xd6\xd0\xce\xc4\xd6\xd0\xce\xc4\xd6\xd0\xce\xc4", 16) !=
	      NULL);
}

/* us-ascii text holding only Word's smart punctuation: every windows-125x
 * code page agrees on these bytes, so no detector is needed. */
TEST(charset_us_ascii_with_smart_punctuation_only)
{
	struct conv c = conv_str("\x93Hi\x94 \x96 it\x92s here\x85", "us-ascii");

	CHECK_CONV(c,
	           "\xE2\x80\x9CHi\xE2\x80\x9D \xE2\x80\x93 it\xE2\x80\x99s "
	           "here\xE2\x80\xA6",
	           "windows-1252", CS_DETECTED);
}

/* ---- the double-byte fast path (cs_dec_dbcs) and its way back to ICU ---- */

TEST(charset_gb18030_four_byte_sequences_among_pairs)
{
	/* 中文, U+1F600 and U+0080 as four-byte sequences, 中: the pair
	 * table knows no four-byte sequence, so ICU decodes the whole text */
	struct conv c =
	    conv_str("\xD6\xD0\xCE\xC4\x94\x39\xFC\x36\x81\x30\x81\x30\xD6\xD0", "gb18030");
	CHECK_CONV(c,
	           "\xE4\xB8\xAD\xE6\x96\x87\xF0\x9F\x98\x80\xC2\x80"
	           "\xE4\xB8\xAD",
	           "gb18030", 0);
}

TEST(charset_big5_hkscs_pair_beyond_the_bmp)
{
	/* 0x8745 is U+27267 in Big5-HKSCS: a surrogate pair from one byte
	 * pair, which the table leaves to ICU */
	struct conv c = conv_str("x\x87\x45y", "big5-hkscs");
	CHECK_CONV(c, "x\xF0\xA7\x89\xA7y", "big5-hkscs", 0);
}

TEST(charset_dbcs_pairs_then_bad_trail)
{
	/* 中 then a lead byte before a space, which no pair has as its
	 * trail: the fast path hands over to ICU, which replaces the lead and
	 * keeps the space */
	struct conv c = conv_str("\xD6\xD0\xD6 a", "gb2312");
	CHECK_CONV(c, "\xE4\xB8\xAD\xEF\xBF\xBD a", "gb18030", CS_INVALID);
}

/* The fast path gives what ICU's converter alone gives, flags included,
 * for real text and for bytes made to hit its way back to ICU. */
static void check_fast_equals_icu(const char *in, size_t len, const char *label)
{
	struct conv fast = conv_mem(in, len, label), slow;

	cs_dbcs_fast(0);
	slow = conv_mem(in, len, label);
	cs_dbcs_fast(1);
	CHECK(fast.rc == 0 && slow.rc == 0);
	CHECK(fast.out.len == slow.out.len && !memcmp(fast.out.p, slow.out.p, fast.out.len));
	CHECK(fast.flags == slow.flags);
	CHECK(!strcmp(fast.used, slow.used));
	sbuf_release(&fast.out);
	sbuf_release(&slow.out);
}

TEST(charset_dbcs_fast_path_equals_icu)
{
	static const char *const files[][2] = {
	    {"charset/zh-paragraph-gb2312.txt", "gb2312"},
	    {"charset/zh-gbk.txt", "gbk"},
	    {"charset/zh-gb18030.txt", "gb18030"},
	    {"charset/zh-tw-paragraph-big5.txt", "big5"},
	    {"charset/ko-paragraph-euc-kr.txt", "euc-kr"},
	    {"charset/ja-paragraph-euc-jp.txt", "gb2312"},
	};
	static const char *const labels[] = {"gb2312", "big5", "euc-kr"};
	unsigned char noise[4096];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t n;
		char *in = test_read_data(files[i][0], &n);
		check_fast_equals_icu(in, n, files[i][1]);
		free(in);
	}
	for (size_t i = 0; i < sizeof(noise); i++) { /* mostly pairs, some of anything */
		x = x * 1103515245 + 12345;
		noise[i] = (unsigned char)((x >> 16) % 8 ? 0x81 + (x >> 8) % 126 : x >> 24);
	}
	for (size_t k = 0; k < 3; k++)
		for (size_t len = 1; len <= sizeof(noise); len *= 4)
			check_fast_equals_icu((const char *)noise, len, labels[k]);
}

TEST(charset_euc_kr_label_uses_pair_table)
{
	size_t n;
	char *want = test_read_data("charset/ko-paragraph.utf8", &n);
	struct conv c = conv_file("ko-paragraph-euc-kr.txt", "euc-kr");
	CHECK_CONV(c, want, "windows-949", 0);
	free(want);
}

/* ---- the ICU path's fast NFC check (cs_put16_inert) ---- */

TEST(charset_icu_path_composes_kana_voiced_mark)
{
	/* UTF-16LE: か + U+3099 (combining voiced mark) is が in NFC; the
	 * mark is no inert starter, so ICU normalises the chunk */
	struct conv c = conv_mem("\xFF\xFE\x4B\x30\x99\x30\x61\x00", 8, "utf-16");
	CHECK_CONV(c,
	           "\xE3\x81\x8C"
	           "a",
	           "utf-16", 0);
}

TEST(charset_icu_path_keeps_astral_and_replaces_lone_surrogate)
{
	/* U+1F600 (a surrogate pair) is kept; a lone high surrogate is not */
	struct conv c = conv_mem("\xFF\xFE\x3D\xD8\x00\xDE\x2D\x4E", 8, "utf-16");
	CHECK_CONV(c, "\xF0\x9F\x98\x80\xE4\xB8\xAD", "utf-16", 0);
	c = conv_mem("\xFF\xFE\x3D\xD8\x2D\x4E", 6, "utf-16");
	CHECK(c.rc == 0 && (c.flags & CS_INVALID));
	CHECK_SLICE(c.out.p, c.out.len, "\xEF\xBF\xBD\xE4\xB8\xAD");
	sbuf_release(&c.out);
}

TEST(charset_icu_path_windows_1258_mark_after_long_run)
{
	/* windows-1258 256 x "a", then "e" + 0xD2 (combining hook above,
	 * U+0309): the mark must be composed with its base (U+1EBB) even
	 * after a long run of units the fast path would copy as they are */
	char in[300];
	size_t n = 0;

	while (n < 256)
		in[n++] = 'a';
	memcpy(in + n, "e\xD2", 2);
	n += 2;
	{
		struct conv c = conv_mem(in, n, "windows-1258");
		CHECK(c.rc == 0 && c.out.len == 256 + 3);
		CHECK_SLICE(c.out.p + 256, 3, "\xE1\xBA\xBB");
		sbuf_release(&c.out);
	}
}
