/*
 * test_messages.c: end-to-end tests of ss_parse() on the messages of
 * tests/data/msg (and tests/data/demo-vi.eml).
 *
 * Each message was written for one difficulty real mail has: a legacy or
 * wrong charset, broken MIME structure, odd encoded words, hostile sizes.
 * The tests state, through the public API only, what a user must get:
 * the decoded Subject, the visible text in NFC, the parts, links, addresses,
 * Received hops and the facts recorded on the way.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "spamsift.h"

/* The Vietnamese sentence of vi-*.eml, NFC. */
#define VI_SENTENCE "Chúc mừng! Bạn đã trúng thưởng 100 triệu đồng. Nhấn vào đây để nhận quà."
#define VI_SUBJECT "Chúc mừng bạn đã trúng thưởng!"

/* A slice as a C string ("" when it has no storage). */
#define SP(s) ((s).p ? (s).p : "")

/* Checks that hay[0..hlen) does not contain needle. */
#define CHECK_LACKS(hay, hlen, needle)                                                             \
	do {                                                                                       \
		if (memmem((hay), (hlen), (needle), strlen(needle))) {                             \
			char m_[512];                                                              \
			snprintf(m_, sizeof(m_), "\"%s\" not in \"%.*s\"", (needle),               \
			         (int)((hlen) > 300 ? 300 : (hlen)), (const char *)(hay));         \
			test_fail(__FILE__, __LINE__, m_);                                         \
		}                                                                                  \
	} while (0)

#define CHECK_FACT(msg, name)                                                                      \
	do {                                                                                       \
		if (!ss_message_has_fact((msg), (name)))                                           \
			test_fail(__FILE__, __LINE__, "fact " name " recorded");                   \
	} while (0)

#define CHECK_NO_FACT(msg, name)                                                                   \
	do {                                                                                       \
		if (ss_message_has_fact((msg), (name)))                                            \
			test_fail(__FILE__, __LINE__, "fact " name " not recorded");               \
	} while (0)

/* Parses tests/data/<name> with `opts` (NULL: zeroed options). Returns the
 * message, or NULL after recording a failure. */
static ss_message *parse_with(const char *name, const ss_parse_opts *opts)
{
	ss_parse_opts zero;
	ss_message *msg = NULL;
	size_t len;
	char *buf = test_read_data(name, &len);
	int rc;

	memset(&zero, 0, sizeof(zero));
	rc = ss_parse(buf, len, opts ? opts : &zero, &msg);
	free(buf);
	if (rc != 0 || !msg) {
		char m[256];

		snprintf(m, sizeof(m), "ss_parse(%s) == 0 (got %d)", name, rc);
		test_fail(__FILE__, __LINE__, m);
		return NULL;
	}
	return msg;
}

static ss_message *parse_msg(const char *name)
{
	return parse_with(name, NULL);
}

/* Returns the text of the whole message (ss_message_text), malloc'ed,
 * never NULL. */
static char *all_text(const ss_message *msg, size_t *len)
{
	char *out = NULL;
	size_t n = 0;

	if (ss_message_text(msg, &out, &n) != 0 || !out) {
		test_fail(__FILE__, __LINE__, "ss_message_text() == 0");
		free(out);
		out = strdup("");
		n = 0;
	}
	*len = n;
	return out;
}

/* Checks that the message text contains `needle`. */
static void check_text_has(const ss_message *msg, const char *needle, int line)
{
	size_t len;
	char *t = all_text(msg, &len);

	if (!memmem(t, len, needle, strlen(needle))) {
		char m[512];

		snprintf(m, sizeof(m), "message text has \"%s\" (got \"%.*s\")", needle,
		         (int)(len > 300 ? 300 : len), t);
		test_fail(__FILE__, line, m);
	}
	free(t);
}

/* Checks that the message text does not contain `needle`. */
static void check_text_lacks(const ss_message *msg, const char *needle, int line)
{
	size_t len;
	char *t = all_text(msg, &len);

	if (memmem(t, len, needle, strlen(needle))) {
		char m[512];

		snprintf(m, sizeof(m), "message text lacks \"%s\"", needle);
		test_fail(__FILE__, line, m);
	}
	free(t);
}

#define CHECK_TEXT_HAS(msg, needle) check_text_has((msg), (needle), __LINE__)
#define CHECK_TEXT_LACKS(msg, needle) check_text_lacks((msg), (needle), __LINE__)

static int slice_is(ss_str s, const char *want)
{
	return s.len == strlen(want) && (s.len == 0 || memcmp(s.p, want, s.len) == 0);
}

/* Returns the decoded value of header `name` of part `part`, or "". */
static ss_str header_value(const ss_message *msg, size_t part, const char *name)
{
	const ss_header *h = ss_message_header(msg, part, name);
	ss_str none = {"", 0};

	return h ? h->value : none;
}

static const ss_url *url_by_host(const ss_message *msg, const char *host)
{
	for (size_t i = 0; i < msg->nurls; i++)
		if (slice_is(msg->urls[i].host, host))
			return &msg->urls[i];
	return NULL;
}

static const ss_url *url_by_text(const ss_message *msg, const char *url)
{
	for (size_t i = 0; i < msg->nurls; i++)
		if (slice_is(msg->urls[i].url, url))
			return &msg->urls[i];
	return NULL;
}

static const ss_addr *addr_find(const ss_message *msg, const char *addr)
{
	for (size_t i = 0; i < msg->naddrs; i++)
		if (slice_is(msg->addrs[i].addr, addr))
			return &msg->addrs[i];
	return NULL;
}

static int part_by_filename(const ss_message *msg, const char *filename)
{
	for (size_t i = 0; i < msg->nparts; i++)
		if (slice_is(msg->parts[i].filename, filename))
			return (int)i;
	return -1;
}

/* Index of the first part whose text contains `needle`, or -1. */
static int part_with_text(const ss_message *msg, const char *needle)
{
	for (size_t i = 0; i < msg->nparts; i++) {
		const ss_str *t = &msg->parts[i].text;

		if (t->p && memmem(t->p, t->len, needle, strlen(needle)))
			return (int)i;
	}
	return -1;
}

/* The last byte of s[0..n) that is not white space, or 0. */
static char last_char(const char *s, size_t n)
{
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		n--;
	return n ? s[n - 1] : 0;
}

/* Copies s[0..n) to out without CR bytes and trailing white space. */
static size_t squeeze(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < cap; i++)
		if (s[i] != '\r')
			out[k++] = s[i];
	while (k > 0 && strchr(" \t\n", out[k - 1]))
		k--;
	out[k] = '\0';
	return k;
}

/* ---- Vietnamese ---------------------------------------------------- */

TEST(messages_vi_nfd_subject)
{
	ss_message *msg = parse_msg("msg/vi-utf8-nfd.eml");
	const ss_header *h;

	if (!msg)
		return;
	CHECK_STR(msg->subject, VI_SUBJECT);
	h = ss_message_header(msg, 0, "subject");
	CHECK(h != NULL);
	if (h) {
		CHECK_CONTAINS(SP(h->raw), h->raw.len, "=?UTF-8?B?");
		CHECK_STR(h->value, VI_SUBJECT);
	}
	ss_message_free(msg);
}

TEST(messages_vi_nfd_text_is_nfc)
{
	ss_message *msg = parse_msg("msg/vi-utf8-nfd.eml");

	if (!msg)
		return;
	CHECK(msg->nparts == 1);
	CHECK(msg->parts[0].flags & SS_PART_TEXT);
	CHECK_STR(msg->parts[0].charset, "utf-8");
	CHECK_STR(msg->parts[0].encoding, "quoted-printable");
	CHECK_CONTAINS(SP(msg->parts[0].text), msg->parts[0].text.len, VI_SENTENCE);
	CHECK_TEXT_HAS(msg, VI_SENTENCE);
	CHECK_TEXT_HAS(msg, "Trân trọng,");
	/* No combining acute (U+0301) or dot below (U+0323) may survive. */
	CHECK_TEXT_LACKS(msg, "\xcc\x81");
	CHECK_TEXT_LACKS(msg, "\xcc\xa3");
	ss_message_free(msg);
}

TEST(messages_vi_1258_text)
{
	ss_message *msg = parse_msg("msg/vi-1258.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, VI_SUBJECT);
	CHECK_STR(msg->parts[0].charset, "windows-1258");
	CHECK_STR(msg->parts[0].charset_used, "windows-1258");
	CHECK_STR(msg->parts[0].encoding, "base64");
	CHECK_TEXT_HAS(msg, VI_SENTENCE);
	CHECK_TEXT_HAS(msg, "Ban tổ chức");
	/* windows-1258 sends tone marks as combining characters: composed. */
	CHECK_TEXT_LACKS(msg, "\xcc\x81");
	CHECK_TEXT_LACKS(msg, "\xcc\x80");
	CHECK_TEXT_LACKS(msg, "\xcc\xa3");
	CHECK_TEXT_LACKS(msg, "\xef\xbf\xbd");
	ss_message_free(msg);
}

TEST(messages_vi_1258_same_text_as_nfd)
{
	ss_message *a = parse_msg("msg/vi-utf8-nfd.eml");
	ss_message *b = parse_msg("msg/vi-1258.eml");
	char ta[512], tb[512];

	if (a && b) {
		squeeze(SP(a->parts[0].text), a->parts[0].text.len, ta, sizeof(ta));
		squeeze(SP(b->parts[0].text), b->parts[0].text.len, tb, sizeof(tb));
		CHECK_SLICE(ta, strlen(ta), tb);
		CHECK(strlen(ta) > strlen(VI_SENTENCE));
	}
	ss_message_free(a);
	ss_message_free(b);
}

TEST(messages_vi_viscii)
{
	ss_message *msg = parse_msg("msg/vi-viscii.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, VI_SUBJECT);
	CHECK_STR(msg->parts[0].charset, "viscii");
	CHECK_TEXT_HAS(msg, VI_SENTENCE);
	CHECK_TEXT_HAS(msg, "Trân trọng,");
	CHECK_TEXT_LACKS(msg, "\xef\xbf\xbd");
	ss_message_free(msg);
}

/* ---- Chinese, Japanese, Korean ------------------------------------- */

TEST(messages_zh_gb2312)
{
	ss_message *msg = parse_msg("msg/zh-gb2312.eml");
	ss_str from;

	if (!msg)
		return;
	CHECK_STR(msg->subject, "您的账户已被冻结，请立即验证");
	from = header_value(msg, 0, "From");
	CHECK_CONTAINS(SP(from), from.len, "京东客服");
	CHECK_STR(msg->parts[0].charset, "gb2312");
	CHECK_TEXT_HAS(msg, "恭喜您获得免费大奖！请点击下面的链接领取您的奖品。");
	CHECK(url_by_host(msg, "jd-prize.example") != NULL);
	ss_message_free(msg);
}

TEST(messages_zh_big5)
{
	ss_message *msg = parse_msg("msg/zh-big5.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "帳戶安全通知");
	CHECK_STR(msg->parts[0].charset, "big5");
	CHECK_TEXT_HAS(msg, "親愛的會員您好，您的帳戶需要立即驗證，否則將被停用。");
	CHECK_TEXT_HAS(msg, "請於二十四小時內完成驗證。");
	ss_message_free(msg);
}

TEST(messages_zh_gbk_unlabeled_detected)
{
	ss_message *msg = parse_msg("msg/zh-gbk-unlabeled.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "Re: your inquiry");
	CHECK(msg->parts[0].charset.len == 0);
	CHECK(msg->parts[0].flags & SS_PART_CHARSET_GUESSED);
	CHECK_FACT(msg, "charset_detected");
	CHECK_TEXT_HAS(msg, "本公司现推出全新理财产品，年化收益高达百分之三十");
	CHECK_TEXT_HAS(msg, "祝您生活愉快，工作顺利！");
	CHECK_TEXT_LACKS(msg, "\xef\xbf\xbd");
	ss_message_free(msg);
}

TEST(messages_zh_gb18030)
{
	ss_message *msg = parse_msg("msg/zh-gb18030.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "限时优惠🎁");
	CHECK_TEXT_HAS(msg, "限时优惠🎁：全场商品一折起，仅限今天！€99起。");
	/* Four-byte GB18030 sequences: CJK extension A and B. */
	CHECK_TEXT_HAS(msg, "生僻字：㐀𠀀");
	ss_message_free(msg);
}

TEST(messages_ja_iso2022)
{
	ss_message *msg = parse_msg("msg/ja-iso2022.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "【重要】アカウント確認のお願い");
	CHECK_TEXT_HAS(msg, "お客様のアカウントが一時的に停止されました。");
	CHECK_TEXT_HAS(msg, "以下のリンクから確認してください。");
	CHECK_TEXT_LACKS(msg, "\x1b");
	CHECK(url_by_host(msg, "amazon-jp.account-check.example") != NULL);
	ss_message_free(msg);
}

TEST(messages_ja_sjis)
{
	ss_message *msg = parse_msg("msg/ja-sjis.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "無料でiPhoneが当たる！");
	CHECK_TEXT_HAS(msg, "無料でiPhoneが当たるキャンペーン実施中！");
	/* ソ and 表 end in byte 0x5C, which must not turn into a backslash. */
	CHECK_TEXT_HAS(msg, "ソフトバンク限定の特典を表示します。今すぐ登録してください。");
	CHECK_TEXT_LACKS(msg, "\\");
	ss_message_free(msg);
}

TEST(messages_ko_outlook_label)
{
	ss_message *msg = parse_msg("msg/ko-euckr.eml");
	ss_str from;

	if (!msg)
		return;
	CHECK_STR(msg->subject, "[긴급] 계정 보안 알림");
	from = header_value(msg, 0, "From");
	CHECK_CONTAINS(SP(from), from.len, "네이버");
	CHECK_STR(msg->parts[0].charset, "ks_c_5601-1987");
	CHECK_TEXT_HAS(
	    msg, "고객님의 계정이 정지되었습니다. 아래 링크를 클릭하여 본인 인증을 완료하세요.");
	CHECK(url_by_host(msg, "naver-login.example") != NULL);
	ss_message_free(msg);
}

/* ---- Cyrillic, Central European, Arabic ---------------------------- */

TEST(messages_ru_koi8)
{
	ss_message *msg = parse_msg("msg/ru-koi8.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "Поздравляем с выигрышем!");
	CHECK_STR(msg->parts[0].charset, "koi8-r");
	CHECK_TEXT_HAS(msg, "Вы выиграли автомобиль. Для получения приза перейдите по ссылке.");
	ss_message_free(msg);
}

TEST(messages_ru_1251_html_meta_charset)
{
	ss_message *msg = parse_msg("msg/ru-1251.eml");
	const ss_url *u;

	if (!msg)
		return;
	CHECK_STR(msg->subject, "Ваша карта заблокирована");
	CHECK_STR(msg->parts[0].content_type, "text/html");
	CHECK(msg->parts[0].flags & SS_PART_HTML);
	CHECK(msg->parts[0].charset.len == 0);
	CHECK_STR(msg->parts[0].charset_used, "windows-1251");
	CHECK_TEXT_HAS(msg, "Уважаемый клиент! Ваша карта заблокирована.");
	CHECK_TEXT_LACKS(msg, "<p>");
	u = url_by_host(msg, "bank-secure.example.ru");
	CHECK(u != NULL);
	if (u) {
		CHECK(u->flags & SS_URL_HTML);
		CHECK_STR(u->link_text, "разблокировать карту");
		CHECK(!(u->flags & SS_URL_TEXT_MISMATCH));
	}
	ss_message_free(msg);
}

TEST(messages_cs_latin2)
{
	ss_message *msg = parse_msg("msg/cs-latin2.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "Důležité upozornění");
	CHECK_STR(msg->parts[0].charset, "iso-8859-2");
	CHECK_TEXT_HAS(msg, "Váš účet byl dočasně zablokován.");
	CHECK_TEXT_HAS(msg, "Příliš žluťoučký kůň úpěl ďábelské ódy.");
	ss_message_free(msg);
}

TEST(messages_ar_1256)
{
	ss_message *msg = parse_msg("msg/ar-1256.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "تهانينا! لقد ربحت");
	CHECK_STR(msg->parts[0].charset, "windows-1256");
	CHECK_TEXT_HAS(msg, "عزيزي العميل،");
	CHECK_TEXT_HAS(msg, "لقد ربحت جائزة نقدية قدرها مليون دولار. اضغط هنا للمطالبة بها.");
	ss_message_free(msg);
}

/* ---- Wrong labels and mojibake ------------------------------------- */

TEST(messages_mislabeled_ascii_is_utf8)
{
	ss_message *msg = parse_msg("msg/mislabeled-ascii-utf8.eml");

	if (!msg)
		return;
	CHECK_STR(msg->parts[0].charset, "us-ascii");
	CHECK_STR(msg->parts[0].charset_used, "utf-8");
	CHECK(msg->parts[0].flags & SS_PART_CHARSET_GUESSED);
	CHECK_FACT(msg, "charset_detected");
	CHECK_TEXT_HAS(msg, "Crème brûlée à la française");
	CHECK_TEXT_LACKS(msg, "\xef\xbf\xbd");
	ss_message_free(msg);
}

TEST(messages_mislabeled_latin1_is_utf8)
{
	ss_message *msg = parse_msg("msg/mislabeled-latin1-utf8.eml");

	if (!msg)
		return;
	CHECK_STR(msg->parts[0].charset, "iso-8859-1");
	CHECK_STR(msg->parts[0].charset_used, "utf-8");
	CHECK(msg->parts[0].flags & SS_PART_CHARSET_GUESSED);
	CHECK_FACT(msg, "charset_detected");
	CHECK_TEXT_HAS(msg,
	               "Ça coûte seulement 10 € — offre spéciale réservée à nos clients fidèles.");
	CHECK_TEXT_LACKS(msg, "Ã");
	ss_message_free(msg);
}

TEST(messages_mojibake_repaired)
{
	ss_message *msg = parse_msg("msg/mojibake.eml");

	if (!msg)
		return;
	CHECK_FACT(msg, "charset_repaired");
	CHECK_TEXT_HAS(msg, "Tiếng Việt là ngôn ngữ chính thức của Việt Nam.");
	CHECK_TEXT_HAS(msg, "Bạn đã nhận được một phần quà đặc biệt!");
	CHECK_TEXT_LACKS(msg, "Tiáº");
	CHECK_TEXT_LACKS(msg, "Ã");
	ss_message_free(msg);
}

TEST(messages_clean_utf8_not_repaired)
{
	ss_message *msg = parse_msg("msg/vi-utf8-nfd.eml");

	if (!msg)
		return;
	CHECK_NO_FACT(msg, "charset_repaired");
	CHECK_NO_FACT(msg, "charset_detected");
	CHECK(!(msg->parts[0].flags & SS_PART_CHARSET_GUESSED));
	ss_message_free(msg);
}

/* ---- multipart/alternative: hidden text, links, addresses ---------- */

TEST(messages_alt_structure)
{
	ss_message *msg = parse_msg("msg/multipart-alt.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "Your account has been limited");
	CHECK(msg->nparts == 3);
	if (msg->nparts == 3) {
		CHECK_STR(msg->parts[0].content_type, "multipart/alternative");
		CHECK(msg->parts[0].flags & SS_PART_MULTIPART);
		CHECK_STR(msg->parts[0].boundary, "----=_Part_8817_1230.1709712000");
		CHECK(msg->parts[0].parent == -1);
		CHECK_STR(msg->parts[1].content_type, "text/plain");
		CHECK(msg->parts[1].flags & SS_PART_TEXT);
		CHECK(msg->parts[1].parent == 0 && msg->parts[1].depth == 1);
		CHECK_STR(msg->parts[2].content_type, "text/html");
		CHECK(msg->parts[2].flags & SS_PART_HTML);
		CHECK(msg->parts[2].parent == 0 && msg->parts[2].depth == 1);
		CHECK_STR(msg->parts[2].encoding, "quoted-printable");
	}
	CHECK_NO_FACT(msg, "mime_missing_final_boundary");
	ss_message_free(msg);
}

TEST(messages_alt_hidden_text)
{
	ss_message *msg = parse_msg("msg/multipart-alt.eml");
	const ss_part *p;

	if (!msg)
		return;
	if (msg->nparts < 3)
		goto out;
	p = &msg->parts[2];
	CHECK(p->flags & SS_PART_HIDDEN_TEXT);
	CHECK_CONTAINS(SP(p->hidden), p->hidden.len, "lottery winner cheap pills casino bonus");
	CHECK_LACKS(SP(p->text), p->text.len, "lottery winner");
	CHECK_CONTAINS(SP(p->text), p->text.len,
	               "Your account has been limited until we hear from you.");
	CHECK_LACKS(SP(p->text), p->text.len, "<p>");
	CHECK(!(msg->parts[1].flags & SS_PART_HIDDEN_TEXT));
	CHECK_FACT(msg, "html_hidden_text");
	CHECK_TEXT_LACKS(msg, "lottery winner");
out:
	ss_message_free(msg);
}

TEST(messages_alt_mismatched_link)
{
	ss_message *msg = parse_msg("msg/multipart-alt.eml");
	const ss_url *u;

	if (!msg)
		return;
	u = url_by_host(msg, "phish.example");
	CHECK(u != NULL);
	if (u) {
		CHECK_STR(u->url, "http://phish.example/login");
		CHECK_STR(u->link_text, "https://www.paypal.com/");
		CHECK(u->flags & SS_URL_HTML);
		CHECK(u->flags & SS_URL_TEXT_MISMATCH);
		CHECK(u->part == 2);
	}
	ss_message_free(msg);
}

TEST(messages_alt_plain_text_urls)
{
	ss_message *msg = parse_msg("msg/multipart-alt.eml");
	const ss_url *u;

	if (!msg)
		return;
	u = url_by_text(msg, "http://example.com/a");
	CHECK(u != NULL);
	if (u) {
		CHECK_STR(u->host, "example.com");
		CHECK(u->part == 1);
		CHECK(!(u->flags & (SS_URL_HTML | SS_URL_OBFUSCATED | SS_URL_TEXT_MISMATCH)));
		CHECK(u->link_text.len == 0);
	}
	u = url_by_host(msg, "192.0.2.55");
	CHECK(u != NULL);
	if (u) {
		CHECK(u->flags & SS_URL_IP);
		CHECK_STR(u->url, "http://192.0.2.55/verify.php");
	}
	ss_message_free(msg);
}

TEST(messages_alt_obfuscated_url)
{
	ss_message *msg = parse_msg("msg/multipart-alt.eml");
	const ss_url *u;

	if (!msg)
		return;
	u = url_by_host(msg, "bad.example");
	CHECK(u != NULL);
	if (u) {
		CHECK(u->flags & SS_URL_OBFUSCATED);
		CHECK_STR(u->url, "http://bad.example/x");
		CHECK(u->part == 1);
	}
	ss_message_free(msg);
}

TEST(messages_alt_idn_url)
{
	ss_message *msg = parse_msg("msg/multipart-alt.eml");
	const ss_url *u;

	if (!msg)
		return;
	u = url_by_host(msg, "bücher.example");
	CHECK(u != NULL);
	if (u) {
		CHECK(u->flags & SS_URL_IDN);
		CHECK_STR(u->host_ascii, "xn--bcher-kva.example");
	}
	ss_message_free(msg);
}

TEST(messages_alt_addresses)
{
	ss_message *msg = parse_msg("msg/multipart-alt.eml");
	const ss_addr *a;

	if (!msg)
		return;
	a = addr_find(msg, "service@paypa1-security.example");
	CHECK(a != NULL);
	if (a) {
		CHECK_STR(a->where, "From");
		CHECK(a->part == -1);
	}
	a = addr_find(msg, "verify-team@collector.example");
	CHECK(a != NULL && slice_is(a->where, "Reply-To"));
	a = addr_find(msg, "customer@example.com");
	CHECK(a != NULL && slice_is(a->where, "To"));
	a = addr_find(msg, "support@example.com");
	CHECK(a != NULL);
	if (a) {
		CHECK_STR(a->where, "body");
		CHECK(a->part >= 1);
	}
	a = addr_find(msg, "winner@lotto-prize.example");
	CHECK(a != NULL && (a->flags & SS_URL_OBFUSCATED));
	ss_message_free(msg);
}

TEST(messages_alt_json)
{
	ss_message *msg = parse_msg("msg/multipart-alt.eml");
	char *json = NULL;
	size_t len = 0;

	if (!msg)
		return;
	CHECK(ss_message_json(msg, &json, &len) == 0);
	CHECK(json != NULL && len > 2);
	if (json && len > 2) {
		CHECK(strlen(json) == len);
		CHECK(json[0] == '{');
		CHECK(last_char(json, len) == '}');
		CHECK_CONTAINS(json, len, "phish.example");
		CHECK_CONTAINS(json, len, "Your account has been limited");
	}
	free(json);
	ss_message_free(msg);
}

/* ---- Nested structure ---------------------------------------------- */

TEST(messages_nested_tree)
{
	static const char *const types[] = {
	    "multipart/mixed", "multipart/alternative", "text/plain",
	    "text/html",       "application/pdf",       "image/png",
	    "message/rfc822",  "multipart/alternative", "text/plain",
	    "text/html",
	};
	static const int parents[] = {-1, 0, 1, 1, 0, 0, 0, 6, 7, 7};
	static const unsigned depths[] = {0, 1, 2, 2, 1, 1, 1, 2, 3, 3};
	ss_message *msg = parse_msg("msg/nested.eml");

	if (!msg)
		return;
	CHECK(msg->nparts == 10);
	for (size_t i = 0; i < msg->nparts && i < 10; i++) {
		CHECK_STR(msg->parts[i].content_type, types[i]);
		CHECK(msg->parts[i].parent == parents[i]);
		CHECK(msg->parts[i].depth == depths[i]);
	}
	if (msg->nparts == 10)
		CHECK(msg->parts[6].flags & SS_PART_MESSAGE);
	CHECK_NO_FACT(msg, "mime_missing_final_boundary");
	ss_message_free(msg);
}

TEST(messages_nested_rfc2231_filename)
{
	ss_message *msg = parse_msg("msg/nested.eml");
	int i;

	if (!msg)
		return;
	i = part_by_filename(msg, "报告.pdf");
	CHECK(i == 4);
	if (i >= 0) {
		CHECK_STR(msg->parts[i].content_type, "application/pdf");
		CHECK_STR(msg->parts[i].disposition, "attachment");
		CHECK(msg->parts[i].flags & SS_PART_ATTACHMENT);
		CHECK(!(msg->parts[i].flags & SS_PART_TEXT));
		CHECK(msg->parts[i].decoded_size == 142);
	}
	CHECK_TEXT_LACKS(msg, "%PDF");
	ss_message_free(msg);
}

TEST(messages_nested_inline_image)
{
	ss_message *msg = parse_msg("msg/nested.eml");
	int i;

	if (!msg)
		return;
	i = part_by_filename(msg, "logo.png");
	CHECK(i == 5);
	if (i >= 0) {
		CHECK_STR(msg->parts[i].content_id, "logo123@example.com");
		CHECK_STR(msg->parts[i].disposition, "inline");
		CHECK_STR(msg->parts[i].encoding, "base64");
		CHECK(msg->parts[i].decoded_size == 70);
	}
	ss_message_free(msg);
}

TEST(messages_nested_inner_message)
{
	ss_message *msg = parse_msg("msg/nested.eml");
	ss_str v;

	if (!msg)
		return;
	CHECK_STR(msg->subject, "Monthly report – March 2024");
	CHECK_STR(header_value(msg, 0, "Subject"), "Monthly report – March 2024");
	if (msg->nparts < 10)
		goto out;
	CHECK_STR(header_value(msg, 7, "Subject"), "Счёт на оплату №4512");
	v = header_value(msg, 7, "From");
	CHECK_CONTAINS(SP(v), v.len, "Бухгалтерия");
	CHECK_STR(msg->parts[8].charset, "koi8-r");
	CHECK_CONTAINS(SP(msg->parts[8].text), msg->parts[8].text.len,
	               "Добрый день! Направляем вам счёт на оплату за март.");
	CHECK_CONTAINS(SP(msg->parts[9].text), msg->parts[9].text.len,
	               "Направляем вам счёт на оплату за март.");
out:
	ss_message_free(msg);
}

TEST(messages_nested_text)
{
	ss_message *msg = parse_msg("msg/nested.eml");

	if (!msg)
		return;
	CHECK_TEXT_HAS(msg, "Please find the March report attached.");
	CHECK_TEXT_HAS(msg, "Добрый день! Направляем вам счёт на оплату за март.");
	CHECK_TEXT_LACKS(msg, "This is a multi-part message in MIME format.");
	CHECK(part_with_text(msg, "Please find the March report attached.") == 2);
	ss_message_free(msg);
}

/* ---- Broken structure ---------------------------------------------- */

TEST(messages_missing_final_boundary)
{
	ss_message *msg = parse_msg("msg/broken-boundary.eml");

	if (!msg)
		return;
	CHECK_FACT(msg, "mime_missing_final_boundary");
	CHECK(msg->nparts == 3);
	/* The line break before a boundary belongs to the boundary. */
	if (msg->nparts == 3)
		CHECK(msg->parts[1].decoded_size == strlen("First part: your invoice is ready."));
	CHECK_TEXT_HAS(msg, "First part: your invoice is ready.");
	CHECK_TEXT_HAS(msg, "Second part: payment details follow below.");
	CHECK_TEXT_HAS(msg, "IBAN DE00 1234 5678 9012 3456 78");
	CHECK(part_with_text(msg, "IBAN DE00") == 2);
	ss_message_free(msg);
}

TEST(messages_wrong_boundary_is_text)
{
	ss_message *msg = parse_msg("msg/wrong-boundary.eml");

	if (!msg)
		return;
	CHECK_FACT(msg, "mime_boundary_not_found");
	CHECK_TEXT_HAS(msg, "This message claims to be multipart but has no parts at all.");
	CHECK(url_by_host(msg, "reward.example") != NULL);
	ss_message_free(msg);
}

TEST(messages_duplicate_content_type_first_wins)
{
	ss_message *msg = parse_msg("msg/dup-content-type.eml");

	if (!msg)
		return;
	CHECK_FACT(msg, "duplicate_header");
	CHECK_STR(msg->parts[0].content_type, "text/plain");
	CHECK_TEXT_HAS(msg, "Limited offer: genuine Swiss watches at 90% discount.");
	ss_message_free(msg);
}

TEST(messages_preamble_epilogue_not_text)
{
	ss_message *msg = parse_msg("msg/preamble-epilogue.eml");

	if (!msg)
		return;
	CHECK(msg->nparts == 3);
	CHECK_NO_FACT(msg, "mime_missing_final_boundary");
	CHECK_NO_FACT(msg, "mime_boundary_not_found");
	CHECK_TEXT_HAS(msg, "The visible body of the message.");
	CHECK_TEXT_HAS(msg, "An HTML body part.");
	CHECK_TEXT_LACKS(msg, "your mail client does not understand MIME");
	CHECK_TEXT_LACKS(msg, "casino bonus words");
	ss_message_free(msg);
}

/* ---- uuencode ------------------------------------------------------ */

TEST(messages_uuencode_not_text)
{
	ss_message *msg = parse_msg("msg/uuencode.eml");

	if (!msg)
		return;
	CHECK(msg->parts[0].flags & SS_PART_UUENCODE);
	CHECK_TEXT_HAS(msg, "here is the file you asked for.");
	CHECK_TEXT_HAS(msg, "Best regards,");
	CHECK_TEXT_LACKS(msg, "begin 644");
	CHECK_TEXT_LACKS(msg, "M2&5L;&\\L");
	CHECK_TEXT_LACKS(msg, "0;&0@;6%I");
	ss_message_free(msg);
}

TEST(messages_uuencode_file_part)
{
	ss_message *msg = parse_msg("msg/uuencode.eml");
	int i;

	if (!msg)
		return;
	i = part_by_filename(msg, "hello.txt");
	CHECK(i > 0);
	if (i > 0) {
		CHECK(msg->parts[i].parent == 0);
		CHECK(msg->parts[i].decoded_size == 61);
	}
	ss_message_free(msg);
}

/* ---- RFC 2047 encoded words ---------------------------------------- */

TEST(messages_ew_adjacent_words_split_char)
{
	ss_message *msg = parse_msg("msg/rfc2047-mess.eml");

	if (!msg)
		return;
	/* The two B words split "ế" between them and are folded apart. */
	CHECK_STR(msg->subject, "Khuyến mãi đặc biệt cho bạn");
	ss_message_free(msg);
}

TEST(messages_ew_q_lowercase_underscores)
{
	ss_message *msg = parse_msg("msg/rfc2047-mess.eml");

	if (!msg)
		return;
	CHECK_STR(header_value(msg, 0, "X-Promo"), "Café crème gratuit");
	ss_message_free(msg);
}

TEST(messages_ew_in_quoted_display_name)
{
	ss_message *msg = parse_msg("msg/rfc2047-mess.eml");
	const ss_addr *a;
	ss_str v;

	if (!msg)
		return;
	v = header_value(msg, 0, "From");
	CHECK_CONTAINS(SP(v), v.len, "Nguyễn");
	CHECK_LACKS(SP(v), v.len, "=?utf-8?");
	a = addr_find(msg, "a@b.vn");
	CHECK(a != NULL && slice_is(a->where, "From"));
	ss_message_free(msg);
}

TEST(messages_ew_without_space)
{
	ss_message *msg = parse_msg("msg/rfc2047-mess.eml");

	if (!msg)
		return;
	CHECK_STR(header_value(msg, 0, "Thread-Topic"), "Re:Giảm giá");
	ss_message_free(msg);
}

TEST(messages_ew_unknown_charset)
{
	ss_message *msg = parse_msg("msg/rfc2047-mess.eml");

	if (!msg)
		return;
	CHECK_STR(header_value(msg, 0, "Comments"), "Free money now");
	CHECK_STR(header_value(msg, 0, "Keywords"), "Giảm giá 50%");
	ss_message_free(msg);
}

/* ---- Odd header blocks and the Received chain ---------------------- */

TEST(messages_hdr_raw_8bit_subject)
{
	ss_message *msg = parse_msg("msg/headers-weird.eml");

	if (!msg)
		return;
	CHECK_STR(msg->subject, "Ưu đãi cuối tuần – giảm 70%");
	CHECK_FACT(msg, "header_8bit");
	ss_message_free(msg);
}

TEST(messages_hdr_duplicate_subject_first_wins)
{
	ss_message *msg = parse_msg("msg/headers-weird.eml");
	size_t n = 0;

	if (!msg)
		return;
	CHECK_FACT(msg, "duplicate_header");
	CHECK_STR(header_value(msg, 0, "Subject"), "Ưu đãi cuối tuần – giảm 70%");
	for (size_t i = 0; i < msg->parts[0].header_count; i++) {
		const ss_header *h = &msg->headers[msg->parts[0].header_first + i];

		if (h->name.len == 7 && strncasecmp(h->name.p, "subject", 7) == 0)
			n++;
	}
	CHECK(n == 2);
	ss_message_free(msg);
}

TEST(messages_hdr_folded_with_tabs)
{
	ss_message *msg = parse_msg("msg/headers-weird.eml");
	const ss_addr *a;
	ss_str v;

	if (!msg)
		return;
	v = header_value(msg, 0, "X-Folded");
	CHECK_CONTAINS(SP(v), v.len, "first part of a folded value");
	CHECK_CONTAINS(SP(v), v.len, "second part after a tab");
	CHECK_LACKS(SP(v), v.len, "\n");
	CHECK_LACKS(SP(v), v.len, "\r");
	a = addr_find(msg, "second.user@example.org");
	CHECK(a != NULL && slice_is(a->where, "To"));
	ss_message_free(msg);
}

TEST(messages_hdr_line_without_colon)
{
	ss_message *msg = parse_msg("msg/headers-weird.eml");

	if (!msg)
		return;
	CHECK_FACT(msg, "header_no_colon");
	/* The header block goes on after the bad line. */
	CHECK_STR(header_value(msg, 0, "X-After-Junk"), "still parsed");
	CHECK(ss_message_header(msg, 0, "Message-ID") != NULL);
	CHECK_STR(msg->parts[0].charset, "utf-8");
	CHECK_TEXT_LACKS(msg, "no colon");
	CHECK_TEXT_HAS(msg, "Weekend deals inside. Giảm giá đến 70%.");
	ss_message_free(msg);
}

TEST(messages_hdr_long_line_kept)
{
	ss_message *msg = parse_msg("msg/headers-weird.eml");

	if (!msg)
		return;
	CHECK(header_value(msg, 0, "X-Long").len == 10240);
	CHECK_NO_FACT(msg, "header_too_long");
	ss_message_free(msg);
}

TEST(messages_hdr_too_long_limit)
{
	ss_limits lim;
	ss_parse_opts opts;
	ss_message *msg;

	ss_limits_default(&lim);
	lim.max_header_len = 4096;
	memset(&opts, 0, sizeof(opts));
	opts.limits = &lim;
	msg = parse_with("msg/headers-weird.eml", &opts);
	if (!msg)
		return;
	CHECK_FACT(msg, "header_too_long");
	CHECK(header_value(msg, 0, "X-Long").len <= 4096);
	CHECK(ss_message_header(msg, 0, "Date") != NULL);
	CHECK_STR(msg->subject, "Ưu đãi cuối tuần – giảm 70%");
	CHECK_TEXT_HAS(msg, "Weekend deals inside.");
	ss_message_free(msg);
}

TEST(messages_limit_headers)
{
	ss_limits lim;
	ss_parse_opts opts;
	ss_message *msg;

	ss_limits_default(&lim);
	lim.max_headers = 8;
	memset(&opts, 0, sizeof(opts));
	opts.limits = &lim;
	msg = parse_with("msg/headers-weird.eml", &opts);
	if (!msg)
		return;
	CHECK_FACT(msg, "limit_headers");
	CHECK(msg->parts[0].header_count <= 8);
	/* Subject is the eighth field: it still fits. */
	CHECK_STR(msg->subject, "Ưu đãi cuối tuần – giảm 70%");
	CHECK_TEXT_HAS(msg, "Weekend deals inside.");
	ss_message_free(msg);
}

TEST(messages_received_chain)
{
	ss_message *msg = parse_msg("msg/headers-weird.eml");
	const ss_hop *h;

	if (!msg)
		return;
	CHECK(msg->nhops == 4);
	if (msg->nhops != 4)
		goto out;
	h = msg->hops; /* Postfix, after a local content filter */
	CHECK_STR(h[0].ip, "127.0.0.1");
	CHECK_STR(h[0].from_helo, "localhost");
	CHECK_STR(h[0].by_host, "mail.example.org");
	CHECK_STR(h[0].with, "ESMTP");
	CHECK(h[0].time == 1710231305);
	/* Exim: rDNS name first, HELO in "helo=". */
	CHECK_STR(h[1].ip, "10.1.2.3");
	CHECK_STR(h[1].from_helo, "relay-in.example.org");
	CHECK_STR(h[1].from_rdns, "mta.example.org");
	CHECK_STR(h[1].by_host, "mail.example.org");
	/* Postfix from the Internet. */
	CHECK_STR(h[2].ip, "198.51.100.23");
	CHECK_STR(h[2].from_helo, "bulk-sender");
	CHECK_STR(h[2].from_rdns, "mail23.bulkmailer.example");
	CHECK_STR(h[2].by_host, "mx1.example.org");
	CHECK_STR(h[2].with, "ESMTPS");
	CHECK(h[2].time == 1710231302);
	/* qmail, date without a day name. */
	CHECK_STR(h[3].ip, "192.0.2.77");
	CHECK_STR(h[3].from_helo, "pc-desktop");
	CHECK_STR(h[3].by_host, "smtp.bulkmailer.example");
	CHECK_STR(h[3].with, "SMTP");
	CHECK(h[3].time == 1710231298);
out:
	ss_message_free(msg);
}

TEST(messages_received_trusted_networks)
{
	ss_netset *ns = NULL;
	ss_parse_opts opts;
	ss_message *msg;

	CHECK(ss_netset_parse("127.0.0.0/8 10.0.0.0/8", &ns, NULL) == 0);
	if (!ns)
		return;
	memset(&opts, 0, sizeof(opts));
	opts.trusted = ns;
	msg = parse_with("msg/headers-weird.eml", &opts);
	if (msg && msg->nhops == 4) {
		CHECK(msg->hops[0].trusted == 1);
		CHECK(msg->hops[1].trusted == 1);
		CHECK(msg->hops[2].trusted == 0);
		CHECK(msg->hops[3].trusted == 0);
		CHECK(msg->first_untrusted == 2);
	} else {
		CHECK(msg && msg->nhops == 4);
	}
	ss_message_free(msg);
	ss_netset_free(ns);
}

TEST(messages_received_default_trust_loopback)
{
	ss_message *msg = parse_msg("msg/headers-weird.eml");

	if (!msg)
		return;
	CHECK(msg->nhops == 4);
	if (msg->nhops == 4) {
		CHECK(msg->hops[0].trusted == 1);
		CHECK(msg->hops[1].trusted == 0);
		CHECK(msg->first_untrusted == 1);
	}
	ss_message_free(msg);
}

/* ---- Bad transfer encodings ---------------------------------------- */

TEST(messages_base64_junk)
{
	ss_message *msg = parse_msg("msg/base64-junk.eml");

	if (!msg)
		return;
	CHECK_FACT(msg, "base64_junk");
	CHECK_TEXT_HAS(msg, "Congratulations! You have been selected for an exclusive offer.");
	/* The last group lacks its padding: its bytes are still decoded. */
	CHECK_TEXT_HAS(msg, "Reply within 24 hours to claim your prize: a brand new bicycle.");
	CHECK_TEXT_LACKS(msg, "\xef\xbf\xbd");
	ss_message_free(msg);
}

TEST(messages_qp_bad_escape)
{
	ss_message *msg = parse_msg("msg/qp-bad.eml");

	if (!msg)
		return;
	CHECK_FACT(msg, "qp_bad_escape");
	CHECK_TEXT_HAS(msg, "Le café est offert aujourd'hui =ZZ ne manquez pas cette occasion.");
	CHECK_TEXT_HAS(msg, "Profitez de notre promotion spéciale avant dimanche.");
	ss_message_free(msg);
}

/* ---- Input that is not a message ----------------------------------- */

static void check_parse_error(const char *name, int want, int line)
{
	ss_parse_opts opts;
	ss_message *msg = NULL;
	size_t len;
	char *buf = test_read_data(name, &len);
	int rc;

	memset(&opts, 0, sizeof(opts));
	rc = ss_parse(buf, len, &opts, &msg);
	free(buf);
	if (rc != want) {
		char m[256];

		snprintf(m, sizeof(m), "ss_parse(%s) == %d (got %d)", name, want, rc);
		test_fail(__FILE__, line, m);
	}
	if (msg)
		test_fail(__FILE__, line, "no message is returned on error");
	CHECK(ss_strerror(want) != NULL && ss_strerror(want)[0] != '\0');
}

TEST(messages_not_mail)
{
	check_parse_error("msg/not-mail.txt", SS_ENOTMAIL, __LINE__);
}

TEST(messages_binary)
{
	check_parse_error("msg/binary.bin", SS_EBINARY, __LINE__);
}

TEST(messages_empty)
{
	check_parse_error("msg/empty.eml", SS_EEMPTY, __LINE__);
	ss_message_free(NULL);
}

/* ---- Limits -------------------------------------------------------- */

TEST(messages_limit_depth)
{
	ss_message *msg = parse_msg("msg/deep-nesting.eml");
	size_t len;
	char *t;

	if (!msg)
		return;
	CHECK_STR(msg->subject, "Deep nesting");
	CHECK_FACT(msg, "limit_depth");
	CHECK(msg->nparts >= 2);
	for (size_t i = 0; i < msg->nparts; i++)
		CHECK(msg->parts[i].depth <= 20);
	t = all_text(msg, &len);
	free(t);
	ss_message_free(msg);
}

TEST(messages_limit_parts)
{
	ss_message *msg = parse_msg("msg/many-parts.eml");

	if (!msg)
		return;
	CHECK_FACT(msg, "limit_parts");
	CHECK(msg->nparts <= 1000);
	CHECK(msg->nparts >= 990);
	if (msg->nparts > 1)
		CHECK_CONTAINS(SP(msg->parts[1].text), msg->parts[1].text.len, "part 1");
	CHECK_TEXT_HAS(msg, "part 500");
	ss_message_free(msg);
}

TEST(messages_limit_size)
{
	ss_limits lim;
	ss_parse_opts opts;
	ss_message *msg;

	ss_limits_default(&lim);
	lim.max_size = 300;
	memset(&opts, 0, sizeof(opts));
	opts.limits = &lim;
	msg = parse_with("msg/multipart-alt.eml", &opts);
	if (!msg)
		return;
	CHECK_FACT(msg, "limit_size");
	CHECK_STR(msg->subject, "Your account has been limited");
	CHECK(url_by_host(msg, "phish.example") == NULL);
	ss_message_free(msg);
}

TEST(messages_no_limit_facts_on_normal_mail)
{
	ss_message *msg = parse_msg("msg/nested.eml");

	if (!msg)
		return;
	CHECK_NO_FACT(msg, "limit_depth");
	CHECK_NO_FACT(msg, "limit_parts");
	CHECK_NO_FACT(msg, "limit_size");
	CHECK_NO_FACT(msg, "limit_headers");
	ss_message_free(msg);
}

/* ---- The demo message (make demo) ---------------------------------- */

TEST(messages_demo_vi)
{
	ss_message *msg = parse_msg("demo-vi.eml");
	const ss_url *u;
	int nhtml = 0, ntext = 0;

	if (!msg)
		return;
	CHECK_STR(msg->subject,
	          "[Vietcombank] Tài khoản của bạn sẽ bị khóa / Your account will be locked");
	CHECK(msg->nparts == 3);
	CHECK_TEXT_HAS(msg, "Tài khoản của bạn sẽ bị khóa trong vòng 24 giờ do phát hiện "
	                    "đăng nhập bất thường.");
	CHECK_TEXT_HAS(msg, "Your account will be locked within 24 hours");
	CHECK_TEXT_LACKS(msg, "bóng đá");
	for (size_t i = 0; i < msg->nurls; i++) {
		u = &msg->urls[i];
		if (!slice_is(u->host, "vcb-verify.example"))
			continue;
		if (u->flags & SS_URL_HTML) {
			CHECK_STR(u->link_text, "https://www.vietcombank.com.vn/");
			CHECK(u->flags & SS_URL_TEXT_MISMATCH);
			nhtml++;
		} else {
			CHECK(!(u->flags & SS_URL_TEXT_MISMATCH));
			ntext++;
		}
	}
	CHECK(nhtml == 1);
	CHECK(ntext >= 1);
	u = url_by_host(msg, "198.51.100.9");
	CHECK(u != NULL && (u->flags & SS_URL_IP) && (u->flags & SS_URL_HTML));
	CHECK_FACT(msg, "html_hidden_text");
	if (msg->nparts == 3) {
		CHECK_CONTAINS(SP(msg->parts[2].hidden), msg->parts[2].hidden.len,
		               "tin tức bóng đá");
		CHECK_CONTAINS(SP(msg->parts[2].text), msg->parts[2].text.len, "Trân trọng,");
	}
	ss_message_free(msg);
}

TEST(messages_demo_vi_hops)
{
	ss_message *msg = parse_msg("demo-vi.eml");

	if (!msg)
		return;
	CHECK(msg->nhops == 2);
	if (msg->nhops == 2) {
		CHECK_STR(msg->hops[0].ip, "10.0.0.5");
		CHECK_STR(msg->hops[1].ip, "203.0.113.45");
		CHECK_STR(msg->hops[1].from_helo, "vcb-mailer");
		CHECK_STR(msg->hops[1].by_host, "mx.example.vn");
		CHECK(msg->hops[1].time == 1710812465);
		CHECK(msg->first_untrusted == 0);
	}
	ss_message_free(msg);
}

TEST(messages_demo_vi_json)
{
	ss_message *msg = parse_msg("demo-vi.eml");
	char *json = NULL;
	size_t len = 0;

	if (!msg)
		return;
	CHECK(ss_message_json(msg, &json, &len) == 0);
	CHECK(json != NULL && len > 0);
	if (json && len > 0) {
		CHECK(json[0] == '{');
		CHECK_CONTAINS(json, len, "vcb-verify.example");
	}
	free(json);
	ss_message_free(msg);
}
