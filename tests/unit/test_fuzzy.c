/*
 * test_fuzzy.c: message fingerprints (src/fuzzy/fuzzy.h): equal texts give
 * equal signatures, a varied copy stays near, unrelated texts are far,
 * short texts get none, attachments get exact digests whatever their
 * transfer encoding, and the values are fixed across runs.
 */
#include <sodium.h>
#include <stdlib.h>

#include "fuzzy/fuzzy.h"
#include "harness.h"
#include "spamsift.h"

/* The first and last values of SPAM_TEXT's signature. */
#define FUZZY_TEST_H0 32695138u
#define FUZZY_TEST_H63 24236313u

#define SPAM_TEXT                                                                                  \
	"Dear John Miller, we are pleased to inform you that your e-mail address has been "        \
	"selected in our annual international lottery draw held in Amsterdam. You have won the "   \
	"sum of 850,000 euros in the second category. To claim your prize please contact our "     \
	"agent Mr Peter van Dijk at claims@lotto-example.com quoting reference number 44-1928 "    \
	"and batch 7731. Visit https://lotto-example.com/claim?id=99812 for the claim form. "      \
	"Keep this notice confidential until your claim has been processed to avoid double "       \
	"claiming. Congratulations once again from the whole team."

#define SPAM_VARIED                                                                                \
	"Dear  Anna Schmidt,\n\nwe are pleased to inform you that your e-mail address has been "   \
	"selected in our annual international lottery draw held in Amsterdam. You have won the "   \
	"sum of 612,500 euros in the second category. To claim your prize please contact our "     \
	"agent Mr Peter van Dijk at payout@lotto-example.com quoting reference number 17-3345 "    \
	"and batch 1209. Visit https://lotto-example.com/c?id=1&u=anna for the claim form. "       \
	"Keep this notice confidential until your claim has been processed to avoid double "       \
	"claiming. Congratulations again once from the whole team.\n"                              \
	"orange harbour quietly seven maple window trumpet cobalt lantern fossil meadow "          \
	"velvet bishop canyon ribbon walnut ember parsley glacier tundra"

#define HAM_TEXT                                                                                   \
	"Hi all, the quarterly planning meeting moves to Thursday afternoon in the large "         \
	"conference room. Please bring your budget drafts and the list of open hiring requests "   \
	"so we can go through them team by team. Lunch will be provided. If you cannot attend, "   \
	"send your notes to Maria before Wednesday evening so she can present them for you."

static fp_set text_fp(const char *s)
{
	fp_set f;

	CHECK(fp_of_text(s, strlen(s), NULL, NULL, &f) == 0);
	return f;
}

TEST(fuzzy_same_text_is_similarity_one_and_fixed_across_runs)
{
	fp_set a = text_fp(SPAM_TEXT), b = text_fp(SPAM_TEXT);

	CHECK(a.has_text && b.has_text);
	CHECK(fp_similarity(&a.text, &b.text) == 1.0);
	/* Part of the contract between organisations: never changes. */
	CHECK(a.text.h[0] == FUZZY_TEST_H0);
	CHECK(a.text.h[63] == FUZZY_TEST_H63);
}

TEST(fuzzy_varied_copy_stays_near_and_unrelated_text_is_far)
{
	fp_set a = text_fp(SPAM_TEXT), v = text_fp(SPAM_VARIED), h = text_fp(HAM_TEXT);

	CHECK(v.has_text && h.has_text);
	CHECK(fp_similarity(&a.text, &v.text) >= FUZZY_SIMILAR);
	CHECK(fp_similarity(&a.text, &h.text) < 0.1);
	CHECK(fp_similarity(&v.text, &h.text) < 0.1);
}

TEST(fuzzy_folds_leet_and_case_and_reduces_urls)
{
	fp_set a = text_fp("Buy CHEAP viagra and cialis online today at http://pills.example/a?x=1 "
	                   "with free shipping worldwide and a discreet package for every order"),
	       b = text_fp("buy cheap v1agra and c1alis online today at https://pills.example/zz/q "
	                   "with free   shipping worldwide and a discreet package for every order");

	CHECK(a.has_text && b.has_text);
	CHECK(fp_similarity(&a.text, &b.text) == 1.0);
}

TEST(fuzzy_short_text_gets_no_signature)
{
	fp_set a = text_fp("Cheap pills here: http://x.example/"), e = text_fp("");

	CHECK(!a.has_text);
	CHECK(a.nwords > 0);
	CHECK(!e.has_text);
}

TEST(fuzzy_chinese_text_is_cut_into_words)
{
	const char *zh = "尊敬的客户您好，本公司长期提供各类发票，代开增值税发票，"
	                 "普通发票，运输发票，广告发票，建筑安装发票等，欢迎来电咨询，"
	                 "联系人王先生，电话一三九零零零零一二三四，诚信合作，保密可靠。";
	const char *zh2 = "尊敬的客户您好，本公司长期提供各类发票，代开增值税发票，"
	                  "普通发票，运输发票，广告发票，建筑安装发票等，欢迎来电咨询，"
	                  "联系人李小姐，电话一三八一一一一五六七八，诚信合作，保密可靠。";
	fp_set a = text_fp(zh), b = text_fp(zh2), h = text_fp(HAM_TEXT);

	CHECK(a.has_text && b.has_text);
	CHECK(a.nwords > 20);
	CHECK(fp_similarity(&a.text, &b.text) >= FUZZY_SIMILAR);
	CHECK(fp_similarity(&a.text, &h.text) < 0.1);
}

static ss_message *parse(const char *raw)
{
	ss_message *m = NULL;

	CHECK(ss_parse(raw, strlen(raw), NULL, &m) == 0);
	return m;
}

#define ATT_HDR                                                                                    \
	"From: a@example.com\nTo: b@example.org\nSubject: %s\nMIME-Version: 1.0\n"                 \
	"Content-Type: multipart/mixed; boundary=\"XX\"\n\n--XX\nContent-Type: text/plain\n\n%s\n" \
	"--XX\nContent-Type: application/octet-stream; name=\"f.bin\"\n"                           \
	"Content-Disposition: attachment; filename=\"f.bin\"\n"

/* The same 300 bytes, once base64-encoded and once as 7-bit text. */
static char *attach_msg(const char *subject, const char *text, int b64)
{
	char raw[300 + 1], *out = malloc(8192), *enc = malloc(1024);

	for (size_t i = 0; i < 300; i++)
		raw[i] = (char)('a' + (i * 7) % 26);
	raw[300] = 0;
	if (b64)
		sodium_bin2base64(enc, 1024, (const unsigned char *)raw, 300,
		                  sodium_base64_VARIANT_ORIGINAL);
	else
		memcpy(enc, raw, 301);
	snprintf(out, 8192, ATT_HDR "Content-Transfer-Encoding: %s\n\n%s\n--XX--\n", subject, text,
	         b64 ? "base64" : "7bit", enc);
	free(enc);
	return out;
}

TEST(fuzzy_attachment_digest_same_bytes_any_encoding)
{
	char *r1 = attach_msg("Invoice", HAM_TEXT, 1), *r2 = attach_msg("Hello", "short", 0);
	ss_message *m1 = parse(r1), *m2 = parse(r2);
	fp_set a, b;

	CHECK(m1 && m2);
	if (!m1 || !m2)
		goto out;
	CHECK(fp_of_message(m1, &a) == 0);
	CHECK(fp_of_message(m2, &b) == 0);
	CHECK(a.ndigests == 1 && b.ndigests == 1);
	CHECK(fp_same_attachment(&a, &b));
	CHECK(a.has_text && !b.has_text);
out:
	ss_message_free(m1);
	ss_message_free(m2);
	free(r1);
	free(r2);
}

TEST(fuzzy_message_text_includes_subject_and_parts)
{
	char *r1 = attach_msg("Quarterly planning", HAM_TEXT, 1);
	ss_message *m = parse(r1);
	fp_set a, t;

	CHECK(m != NULL);
	if (!m)
		goto out;
	CHECK(fp_of_message(m, &a) == 0);
	t = text_fp(HAM_TEXT);
	CHECK(a.nwords == t.nwords + 2);
	CHECK(fp_similarity(&a.text, &t.text) > 0.8);
	CHECK(fp_of_message(NULL, &a) == SS_EINVAL);
out:
	ss_message_free(m);
	free(r1);
}
