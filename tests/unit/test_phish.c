/*
 * test_phish.c: phishing and malware signs (src/phish/): each symbol on
 * its positive case and not on its close negatives. Messages are built
 * here; archives are written by libarchive in the test itself.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <time.h>

#include "check/hits.h"
#include "harness.h"
#include "phish/internal.h"
#include "phish/phish.h"
#include "spamsift.h"
#include "util/buf.h"

/* The hits of one message; check with has() / detail(). */
typedef struct run {
	ss_arena a;
	ss_hits h;
	ss_message *m;
	int rc;
} run;

static phish_ctx *shared_ctx(void)
{
	static phish_ctx *ctx;

	if (!ctx)
		ctx = phish_ctx_new();
	return ctx;
}

static void run_cfg(run *r, const char *msg, size_t len, const ss_checks_config *cfg)
{
	arena_init(&r->a);
	hits_init(&r->h, &r->a);
	r->m = NULL;
	r->rc = -100;
	CHECK(shared_ctx() != NULL);
	CHECK(ss_parse(msg, len, NULL, &r->m) == 0);
	if (r->m && shared_ctx())
		r->rc = phish_check(shared_ctx(), r->m, cfg, &r->h);
	CHECK(r->rc == 0);
}

static void run_msg(run *r, const char *msg)
{
	run_cfg(r, msg, strlen(msg), NULL);
}

static void run_done(run *r)
{
	ss_message_free(r->m);
	arena_release(&r->a);
}

static int has(const run *r, const char *sym)
{
	return hits_find(&r->h, sym) != NULL;
}

static const char *detail(const run *r, const char *sym)
{
	const ss_hit *h = hits_find(&r->h, sym);

	return h && h->detail ? h->detail : "";
}

/* Runs one HTML body and says whether `sym` fired. */
static int html_fires(const char *html, const char *sym)
{
	sbuf b = SBUF_INIT;
	run r;
	int yes;

	sbuf_addf(&b,
	          "From: a@example.org\nSubject: t\nContent-Type: text/html; charset=utf-8\n\n"
	          "<html><body>%s</body></html>\n",
	          html);
	run_msg(&r, b.p);
	yes = has(&r, sym);
	run_done(&r);
	sbuf_release(&b);
	return yes;
}

/* Whether `sym` fired on a message with one link to url. */
static int url_fires(const char *url, const char *sym)
{
	sbuf b = SBUF_INIT;
	int yes;

	sbuf_addf(&b, "<a href=\"%s\">Log in</a>", url);
	yes = html_fires(b.p, sym);
	sbuf_release(&b);
	return yes;
}

/* ---- links ---- */

TEST(phish_link_text_naming_another_site)
{
	CHECK(html_fires("<a href=\"http://evil.example/login\">www.paypal.com</a>",
	                 "PHISH_LINK_MISMATCH"));
	CHECK(html_fires("<a href=\"http://paypal.com.evil.example/\">https://paypal.com/</a>",
	                 "PHISH_LINK_MISMATCH"));
	CHECK(html_fires("<a href=\"http://10.1.2.3/\">www.mybank.example</a>",
	                 "PHISH_LINK_MISMATCH"));
}

TEST(phish_link_text_same_registrable_domain_is_fine)
{
	CHECK(!html_fires("<a href=\"https://www.paypal.com/signin\">paypal.com</a>",
	                  "PHISH_LINK_MISMATCH"));
	CHECK(!html_fires("<a href=\"https://paypal.com/\">www.paypal.com</a>",
	                  "PHISH_LINK_MISMATCH"));
	CHECK(!html_fires("<a href=\"https://accounts.shop.co.uk/\">www.shop.co.uk</a>",
	                  "PHISH_LINK_MISMATCH"));
	CHECK(!html_fires("<a href=\"https://mail.shop.co.uk/\">news.shop.co.uk</a>",
	                  "PHISH_LINK_MISMATCH"));
	CHECK(
	    !html_fires("<a href=\"http://evil.example/\">Click here</a>", "PHISH_LINK_MISMATCH"));
	CHECK(!html_fires("<a href=\"http://evil.example/\">Visit us today</a>",
	                  "PHISH_LINK_MISMATCH"));
}

TEST(phish_link_mismatch_detail_names_both_hosts)
{
	run r;

	run_msg(
	    &r,
	    "Content-Type: text/html\n\n<a href=\"http://evil.example/x\">www.paypal.com</a>\n");
	CHECK(strcmp(detail(&r, "PHISH_LINK_MISMATCH"), "www.paypal.com -> evil.example") == 0);
	run_done(&r);
}

/* ---- IP literals and shorteners ---- */

TEST(phish_ip_literal_urls)
{
	CHECK(url_fires("http://192.168.1.1/login", "URI_IP_LITERAL"));
	CHECK(url_fires("http://3232235777/login", "URI_IP_LITERAL"));
	CHECK(url_fires("http://0x7f000001/", "URI_IP_LITERAL"));
	CHECK(url_fires("http://[2001:db8::1]/x", "URI_IP_LITERAL"));
	CHECK(!url_fires("http://1.example.com/x", "URI_IP_LITERAL"));
	CHECK(!url_fires("http://www.example.com/192.168.1.1", "URI_IP_LITERAL"));
}

TEST(phish_shorteners_default_and_configured)
{
	static const char *const mine[] = {"sho.rt"};
	ss_checks_config cfg = {0};
	const char *m = "Content-Type: text/html\n\n<a href=\"http://sho.rt/a\">x</a> "
	                "<a href=\"https://bit.ly/b\">y</a>\n";
	run r;

	CHECK(url_fires("https://bit.ly/3xyz", "URI_SHORTENER"));
	CHECK(url_fires("http://www.tinyurl.com/abc", "URI_SHORTENER"));
	CHECK(url_fires("https://t.co/abc", "URI_SHORTENER"));
	CHECK(!url_fires("https://notbit.ly/abc", "URI_SHORTENER"));
	CHECK(!url_fires("https://bit.ly.example/abc", "URI_SHORTENER"));
	CHECK(!url_fires("https://example.com/bit.ly", "URI_SHORTENER"));
	cfg.shorteners = mine;
	cfg.nshorteners = 1;
	run_cfg(&r, m, strlen(m), &cfg);
	CHECK(strcmp(detail(&r, "URI_SHORTENER"), "sho.rt") == 0);
	run_done(&r);
}

/* ---- homographs and brands ---- */

TEST(phish_idn_homograph_mixed_scripts)
{
	/* Cyrillic р and а in "paypal" */
	CHECK(url_fires("http://\xd1\x80\xd0\xb0ypal.com/", "PHISH_IDN_HOMOGRAPH"));
	/* the same, as the punycode the parser decodes */
	CHECK(url_fires("http://xn--ypal-43d9g.com/", "PHISH_IDN_HOMOGRAPH"));
	/* all Cyrillic "аррӏе" under .com */
	CHECK(url_fires("http://\xd0\xb0\xd1\x80\xd1\x80\xd3\x8f\xd0\xb5.com/",
	                "PHISH_IDN_HOMOGRAPH"));
	/* Greek ο in "gοogle" */
	CHECK(url_fires("http://g\xce\xbfogle.com/", "PHISH_IDN_HOMOGRAPH"));
}

TEST(phish_idn_legitimate_names_are_fine)
{
	CHECK(!url_fires("http://m\xc3\xbcnchen.de/", "PHISH_IDN_HOMOGRAPH"));
	CHECK(!url_fires("http://b\xc3\xbc\x63her.example/", "PHISH_IDN_HOMOGRAPH"));
	/* пример.рф: Cyrillic under a Cyrillic top-level domain */
	CHECK(!url_fires("http://\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80."
	                 "\xd1\x80\xd1\x84/",
	                 "PHISH_IDN_HOMOGRAPH"));
	/* 例え.jp: Han and Hiragana */
	CHECK(!url_fires("http://\xe4\xbe\x8b\xe3\x81\x88.jp/", "PHISH_IDN_HOMOGRAPH"));
	CHECK(!url_fires("http://www.paypal.com/", "PHISH_IDN_HOMOGRAPH"));
}

TEST(phish_brand_lookalikes)
{
	CHECK(url_fires("http://paypa1.com/login", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://\xd1\x80\xd0\xb0ypal.com/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://rnicrosoft.com/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://g00gle.com/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://www.paypal.com-secure.example/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://paypal.com.verify.example/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://secure-paypal.example/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://paypal.login-check.example/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://paypall.com/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://gooogle.com/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://micros0ft.net/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://faceb00k.example/", "PHISH_BRAND_LOOKALIKE"));
	CHECK(url_fires("http://netflx.com/", "PHISH_BRAND_LOOKALIKE"));
}

TEST(phish_brands_own_domains_and_neighbours_are_fine)
{
	static const char *const fine[] = {
	    "https://www.paypal.com/signin",
	    "https://paypal.com/",
	    "https://www.paypal.de/",
	    "https://news.google.com/",
	    "https://google.co.uk/",
	    "https://www.paypalobjects.com/x.png",
	    "https://s3.amazonaws.com/x",
	    "https://www.google-analytics.com/collect",
	    "https://apple-pie-recipes.example/",
	    "https://paypay.ne.jp/",
	    "https://www.goggle.example/",
	    "https://www.example.com/",
	    "https://dhlparcel.example/",
	    "https://finance.example/",
	};

	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		if (url_fires(fine[i], "PHISH_BRAND_LOOKALIKE")) {
			char m[200];
			snprintf(m, sizeof(m), "no look-alike for %s", fine[i]);
			test_fail(__FILE__, __LINE__, m);
		}
}

TEST(phish_brand_lookalike_in_the_sender_address)
{
	run r;

	run_msg(&r, "From: PayPal <service@paypa1.com>\nSubject: account\n\nhello\n");
	CHECK(strcmp(detail(&r, "PHISH_BRAND_LOOKALIKE"), "paypa1.com ~ paypal.com") == 0);
	run_done(&r);
	run_msg(&r, "From: PayPal <service@paypal.com>\nTo: x@paypa1.com\n\nhello\n");
	CHECK(!has(&r, "PHISH_BRAND_LOOKALIKE"));
	run_done(&r);
}

TEST(phish_configured_brands_replace_the_defaults)
{
	static const char *const mine[] = {"examplebank.com"};
	ss_checks_config cfg = {0};
	const char *m = "Content-Type: text/html\n\n<a href=\"http://examp1ebank.com/\">x</a> "
	                "<a href=\"http://paypa1.com/\">y</a>\n";
	run r;

	cfg.brands = mine;
	cfg.nbrands = 1;
	run_cfg(&r, m, strlen(m), &cfg);
	CHECK(strcmp(detail(&r, "PHISH_BRAND_LOOKALIKE"), "examp1ebank.com ~ examplebank.com") ==
	      0);
	run_done(&r);
	run_cfg(&r, m, strlen(m), NULL); /* the context's cache follows the list */
	CHECK(strcmp(detail(&r, "PHISH_BRAND_LOOKALIKE"), "paypa1.com ~ paypal.com") == 0);
	run_done(&r);
}

/* Verdicts are remembered per host across messages (src/phish/internal.h,
 * host_memo): a host seen again, in the same slot as other hosts or too
 * long to be remembered, gets the verdict it got the first time. */
TEST(phish_brand_verdicts_repeat_across_messages)
{
	char longhost[120];

	memset(longhost, 'a', 50);
	strcpy(longhost + 50, ".paypal.com-login.example");
	for (int round = 0; round < 2; round++) {
		char url[160];
		CHECK(url_fires("http://paypa1.com/login", "PHISH_BRAND_LOOKALIKE"));
		CHECK(!url_fires("https://www.example.com/", "PHISH_BRAND_LOOKALIKE"));
		/* 300 other hosts between the rounds share the 256 slots */
		for (int i = 0; round == 0 && i < 300; i++) {
			snprintf(url, sizeof(url), "http://host%d.example/", i);
			CHECK(!url_fires(url, "PHISH_BRAND_LOOKALIKE"));
		}
		snprintf(url, sizeof(url), "http://%s/", longhost);
		CHECK(url_fires(url, "PHISH_BRAND_LOOKALIKE"));
	}
}

/* phish_reg_domain remembers the list's answer for each suffix: it must
 * give what psl_registrable_domain gives, on first sight and again, for
 * wildcard and exception rules, private ones, IDNs, and when the hosts
 * between two sights fill every slot of the memo. */
TEST(phish_registrable_domain_is_libpsl_s)
{
	static const char *const hosts[] = {
	    "www.example.co.uk",
	    "example.co.uk",
	    "co.uk",
	    "uk",
	    "a.b.c.example.com",
	    "x.y.ck",
	    "www.ck",
	    "a.www.ck",
	    "city.kawasaki.jp",
	    "a.b.kawasaki.jp",
	    "foo.blogspot.com",
	    "blogspot.com",
	    "bücher.example.de",
	    "xn--bcher-kva.example.de",
	    "192.0.2.1",
	    "localhost",
	    "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example.org",
	    "example."};
	static const char *const sfx[] = {
	    "co.uk", "com", "org.au", "ck", "kawasaki.jp", "blogspot.com", "github.io", "zz", "uk"};
	phish_ctx *ctx = shared_ctx();
	char host[64];

	CHECK(ctx != NULL);
	if (!ctx)
		return;
	CHECK(strcmp(phish_reg_domain(ctx, "www.example.co.uk"), "example.co.uk") == 0);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
			const char *want = psl_registrable_domain(ctx->psl, hosts[i]);
			CHECK(strcmp(phish_reg_domain(ctx, hosts[i]), want ? want : hosts[i]) == 0);
		}
		for (int i = 0; i < 2000; i++) {
			const char *want;
			snprintf(host, sizeof(host), "h%d.s%d.%s%d.%s", i, i % 7,
			         i % 3 ? "example" : "zz", i % 600,
			         sfx[i % (sizeof(sfx) / sizeof(sfx[0]))]);
			want = psl_registrable_domain(ctx->psl, host);
			CHECK(strcmp(phish_reg_domain(ctx, host), want ? want : host) == 0);
		}
	}
}

/* The skeleton of plain ASCII is put together from each character's
 * (ctx->skel); it must be ICU's skeleton of the whole label. */
TEST(phish_ascii_skeleton_is_icu_s)
{
	static const char *const labels[] = {
	    "paypal",         "paypa1",  "rnicrosoft", "m",  "0O1lI|",
	    "g00gle-login_x", "ABC-xyz", "vv",         "cl", "a..b"};
	phish_ctx *ctx = shared_ctx();
	char all[128], got[1024], want[1024];

	CHECK(ctx != NULL);
	if (!ctx)
		return;
	for (int c = 1; c < 128; c++)
		all[c - 1] = (char)c;
	all[127] = 0;
	for (size_t i = 0; i <= sizeof(labels) / sizeof(labels[0]); i++) {
		const char *s = i < sizeof(labels) / sizeof(labels[0]) ? labels[i] : all;
		UErrorCode e = U_ZERO_ERROR;
		int32_t n = uspoof_getSkeletonUTF8(ctx->spoof, 0, s, (int32_t)strlen(s), want,
		                                   (int32_t)sizeof(want), &e);
		int k = phish_skeleton(ctx, s, strlen(s), got, sizeof(got));
		CHECK(U_SUCCESS(e) && n >= 0 && n < (int32_t)sizeof(want));
		for (int32_t j = 0; j < n; j++)
			want[j] = want[j] >= 'A' && want[j] <= 'Z' ? (char)(want[j] + 32) : want[j];
		want[n > 0 ? n : 0] = 0;
		CHECK(k == n && strcmp(got, want) == 0);
	}
}

/* ---- attachments ---- */

static void add_base64(sbuf *b, const unsigned char *d, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
		             (i + 2 < n ? d[i + 2] : 0);
		char q[4] = {t[v >> 18], t[(v >> 12) & 63], i + 1 < n ? t[(v >> 6) & 63] : '=',
		             i + 2 < n ? t[v & 63] : '='};
		sbuf_add(b, q, 4);
		if (i % 57 == 54)
			sbuf_addc(b, '\n');
	}
	sbuf_addc(b, '\n');
}

/* A message with one attachment; `dispo` is the Content-Disposition
 * parameters ("filename=\"a.pdf\""). */
static void run_attach(run *r, const char *dispo, const char *ctype, const void *data, size_t n)
{
	sbuf b = SBUF_INIT;

	sbuf_adds(&b, "From: a@example.org\nSubject: files\nContent-Type: multipart/mixed; "
	              "boundary=B\n\n--B\nContent-Type: text/plain\n\nsee attached\n--B\n");
	sbuf_addf(&b,
	          "Content-Type: %s\nContent-Disposition: attachment; %s\n"
	          "Content-Transfer-Encoding: base64\n\n",
	          ctype, dispo);
	add_base64(&b, data, n);
	sbuf_adds(&b, "--B--\n");
	run_cfg(r, b.p, b.len, NULL);
	sbuf_release(&b);
}

static int name_fires(const char *dispo, const char *sym)
{
	run r;
	int yes;

	run_attach(&r, dispo, "application/octet-stream", "hello", 5);
	yes = has(&r, sym);
	run_done(&r);
	return yes;
}

TEST(phish_attachment_names)
{
	CHECK(name_fires("filename=\"setup.exe\"", "ATTACH_RISKY_EXT"));
	CHECK(!name_fires("filename=\"setup.exe\"", "ATTACH_DOUBLE_EXT"));
	CHECK(name_fires("filename=\"Invoice.PDF.exe\"", "ATTACH_DOUBLE_EXT"));
	CHECK(name_fires("filename=\"photo.jpg            .scr\"", "ATTACH_DOUBLE_EXT"));
	CHECK(name_fires("filename=\"photo.jpg.scr. . \"", "ATTACH_DOUBLE_EXT"));
	/* "invoice<U+202E>fdp.exe" shows as "invoiceexe.pdf" */
	CHECK(name_fires("filename*=utf-8''invoice%E2%80%AEfdp.exe", "ATTACH_DOUBLE_EXT"));
	CHECK(name_fires("filename=\"run.JS\"", "ATTACH_RISKY_EXT"));
	CHECK(name_fires("filename=\"disk.iso\"", "ATTACH_RISKY_EXT"));
	CHECK(name_fires("filename=\"shortcut.lnk\"", "ATTACH_RISKY_EXT"));
	CHECK(!name_fires("filename=\"report.pdf\"", "ATTACH_RISKY_EXT"));
	CHECK(!name_fires("filename=\"report.pdf\"", "ATTACH_DOUBLE_EXT"));
	CHECK(!name_fires("filename=\"backup.tar.gz\"", "ATTACH_RISKY_EXT"));
	CHECK(!name_fires("filename=\"exe\"", "ATTACH_RISKY_EXT"));
	CHECK(!name_fires("filename=\"notes.exe.txt\"", "ATTACH_RISKY_EXT"));
}

/* The smallest PE header libmagic accepts as a program. */
static void make_pe(unsigned char *b, size_t n)
{
	memset(b, 0, n);
	b[0] = 'M', b[1] = 'Z', b[0x3c] = 0x40;
	memcpy(b + 0x40, "PE\0\0", 4);
	b[0x44] = 0x4c, b[0x45] = 0x01, b[0x46] = 1, b[0x54] = 0xe0;
	b[0x56] = 0x02, b[0x57] = 0x01, b[0x58] = 0x0b, b[0x59] = 0x01, b[0x58 + 68] = 3;
}

TEST(phish_executable_content_whatever_the_name)
{
	/* ELF64, little-endian, ET_EXEC, x86-64 */
	static const unsigned char elf[64] = {0x7f, 'E', 'L',      'F',         2,
	                                      1,    1,   [16] = 2, [18] = 0x3e, [20] = 1};
	unsigned char pe[1024];
	run r;

	make_pe(pe, sizeof(pe));
	run_attach(&r, "filename=\"report.pdf\"", "application/pdf", pe, sizeof(pe));
	CHECK(strcmp(detail(&r, "ATTACH_EXECUTABLE"), "report.pdf: PE") == 0);
	CHECK(!has(&r, "ATTACH_RISKY_EXT"));
	run_done(&r);
	run_attach(&r, "filename=\"data.bin\"", "application/octet-stream", elf, sizeof(elf));
	CHECK(strcmp(detail(&r, "ATTACH_EXECUTABLE"), "data.bin: ELF") == 0);
	run_done(&r);
	run_attach(&r, "filename=\"report.pdf\"", "application/pdf", "%PDF-1.4\n%\xe2\xe3\n1 0 obj",
	           20);
	CHECK(!has(&r, "ATTACH_EXECUTABLE"));
	run_done(&r);
	run_attach(&r, "filename=\"mz.txt\"", "application/octet-stream", "MZ is not a program...",
	           22);
	CHECK(!has(&r, "ATTACH_EXECUTABLE"));
	run_done(&r);
}

/* ---- archives ---- */

typedef struct entry {
	const char *name;
	const void *data; /* NULL: len zero bytes */
	size_t len;
} entry;

static void write_entry(struct archive *a, const entry *e)
{
	static const char zeros[65536];
	struct archive_entry *ae = archive_entry_new();

	archive_entry_set_pathname(ae, e->name);
	archive_entry_set_size(ae, (la_int64_t)e->len);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	CHECK(archive_write_header(a, ae) == ARCHIVE_OK);
	for (size_t off = 0; off < e->len;) {
		size_t n = e->len - off;
		if (!e->data && n > sizeof(zeros))
			n = sizeof(zeros);
		CHECK(archive_write_data(a, e->data ? (const char *)e->data + off : zeros, n) ==
		      (la_ssize_t)n);
		off += n;
	}
	archive_entry_free(ae);
}

static la_ssize_t to_sbuf(struct archive *a, void *cd, const void *p, size_t n)
{
	return sbuf_add(cd, p, n) ? -1 : (la_ssize_t)n;
}

/* Writes an archive of `format` (ARCHIVE_FORMAT_*) through `filter`
 * (ARCHIVE_FILTER_*, or NONE) into out. */
static void make_archive(sbuf *out, int format, int filter, const char *opts, const entry *e,
                         size_t n)
{
	struct archive *a = archive_write_new();

	sbuf_reset(out);
	CHECK(archive_write_set_format(a, format) == ARCHIVE_OK);
	if (filter != ARCHIVE_FILTER_NONE)
		CHECK(archive_write_add_filter(a, filter) == ARCHIVE_OK);
	if (opts) {
		CHECK(archive_write_set_options(a, opts) == ARCHIVE_OK);
		CHECK(archive_write_set_passphrase(a, "secret") == ARCHIVE_OK);
	} else if (filter == ARCHIVE_FILTER_GZIP)
		CHECK(archive_write_set_options(a, "gzip:compression-level=1") == ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(a, 1);
	CHECK(archive_write_open(a, out, NULL, to_sbuf, NULL) == ARCHIVE_OK);
	for (size_t i = 0; i < n; i++)
		write_entry(a, &e[i]);
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
}

static void run_archive(run *r, const char *name, const sbuf *arc)
{
	char dispo[200];

	snprintf(dispo, sizeof(dispo), "filename=\"%s\"", name);
	run_attach(r, dispo, "application/octet-stream", arc->p, arc->len);
}

TEST(phish_zip_with_a_program_inside)
{
	static const char pdf[] = "%PDF-1.4 a document";
	unsigned char pe[1024];
	entry by_name[] = {{"readme.txt", "hello", 5}, {"Invoice.EXE", "x", 1}};
	entry by_content[] = {{"scan.pdf", pe, sizeof(pe)}};
	entry docs[] = {{"a.pdf", pdf, sizeof(pdf)}, {"b.txt", "text", 4}, {"c.jpg", "jpg", 3}};
	sbuf z = SBUF_INIT;
	run r;

	make_pe(pe, sizeof(pe));
	make_archive(&z, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, NULL, by_name, 2);
	run_archive(&r, "docs.zip", &z);
	CHECK(strcmp(detail(&r, "ATTACH_ARCHIVE_EXECUTABLE"), "docs.zip: Invoice.EXE") == 0);
	CHECK(!has(&r, "ATTACH_RISKY_EXT") && !has(&r, "ATTACH_ENCRYPTED_ARCHIVE"));
	run_done(&r);
	make_archive(&z, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, NULL, by_content, 1);
	run_archive(&r, "scan.zip", &z);
	CHECK(strcmp(detail(&r, "ATTACH_ARCHIVE_EXECUTABLE"), "scan.zip: scan.pdf (PE)") == 0);
	run_done(&r);
	make_archive(&z, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, NULL, docs, 3);
	run_archive(&r, "docs.zip", &z);
	CHECK(r.h.n == 0);
	run_done(&r);
	sbuf_release(&z);
}

TEST(phish_other_archive_formats)
{
	unsigned char pe[1024];
	entry js[] = {{"dir/a.txt", "a", 1}, {"dir/run.js", "WScript.Echo(1)", 15}};
	entry lnk[] = {{"photo.lnk", "L", 1}};
	entry one_pe[] = {{"data", pe, sizeof(pe)}};
	sbuf z = SBUF_INIT;
	run r;

	make_pe(pe, sizeof(pe));
	make_archive(&z, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, NULL, js, 2);
	run_archive(&r, "files.tar.gz", &z);
	CHECK(strcmp(detail(&r, "ATTACH_ARCHIVE_EXECUTABLE"), "files.tar.gz: dir/run.js") == 0);
	run_done(&r);
	make_archive(&z, ARCHIVE_FORMAT_7ZIP, ARCHIVE_FILTER_NONE, NULL, lnk, 1);
	run_archive(&r, "photos.7z", &z);
	CHECK(strcmp(detail(&r, "ATTACH_ARCHIVE_EXECUTABLE"), "photos.7z: photo.lnk") == 0);
	run_done(&r);
	make_archive(&z, ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_GZIP, NULL, one_pe, 1);
	run_archive(&r, "update.gz", &z);
	CHECK(strcmp(detail(&r, "ATTACH_ARCHIVE_EXECUTABLE"), "update.gz: update (PE)") == 0);
	run_done(&r);
	make_archive(&z, ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_XZ, NULL, one_pe, 1);
	run_archive(&r, "setup.exe.xz", &z);
	CHECK(strcmp(detail(&r, "ATTACH_ARCHIVE_EXECUTABLE"), "setup.exe.xz: setup.exe") == 0);
	run_done(&r);
	sbuf_release(&z);
}

TEST(phish_nested_archives_one_level)
{
	entry exe[] = {{"evil.exe", "x", 1}};
	entry inner[1], outer[2];
	sbuf z1 = SBUF_INIT, z2 = SBUF_INIT, z3 = SBUF_INIT;
	run r;

	make_archive(&z1, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, NULL, exe, 1);
	inner[0] = (entry){"inner.zip", z1.p, z1.len};
	make_archive(&z2, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, NULL, inner, 1);
	run_archive(&r, "outer.zip", &z2);
	CHECK(strcmp(detail(&r, "ATTACH_ARCHIVE_EXECUTABLE"), "outer.zip: inner.zip: evil.exe") ==
	      0);
	run_done(&r);
	/* two levels down is not opened */
	outer[0] = (entry){"readme.txt", "r", 1};
	outer[1] = (entry){"middle.zip", z2.p, z2.len};
	make_archive(&z3, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, NULL, outer, 2);
	run_archive(&r, "deep.zip", &z3);
	CHECK(!has(&r, "ATTACH_ARCHIVE_EXECUTABLE"));
	run_done(&r);
	sbuf_release(&z1);
	sbuf_release(&z2);
	sbuf_release(&z3);
}

TEST(phish_encrypted_archive)
{
	entry docs[] = {{"statement.pdf", "%PDF-1.4", 8}};
	entry exe[] = {{"statement.pdf.exe", "MZ", 2}};
	sbuf z = SBUF_INIT;
	run r;

	make_archive(&z, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, "zip:encryption=zipcrypt", docs,
	             1);
	run_archive(&r, "statement.zip", &z);
	CHECK(strcmp(detail(&r, "ATTACH_ENCRYPTED_ARCHIVE"), "statement.zip") == 0);
	CHECK(!has(&r, "ATTACH_ARCHIVE_EXECUTABLE"));
	run_done(&r);
	make_archive(&z, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, "zip:encryption=zipcrypt", exe,
	             1);
	run_archive(&r, "statement.zip", &z);
	CHECK(has(&r, "ATTACH_ENCRYPTED_ARCHIVE") && has(&r, "ATTACH_ARCHIVE_EXECUTABLE"));
	run_done(&r);
	sbuf_release(&z);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

TEST(phish_archive_bombs_stop_at_the_bounds)
{
	entry bomb[] = {{"zeros.bin", NULL, 64u << 20}, {"late.exe", "x", 1}};
	entry *many = calloc(3000, sizeof(*many));
	char(*names)[16] = calloc(3000, sizeof(*names));
	struct timespec t0;
	sbuf z = SBUF_INIT;
	run r;

	/* 64 MiB of zeros (64 KiB of gzip) before a program: the listing
	 * stops at the decompression bound (8 MiB), quickly */
	make_archive(&z, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, NULL, bomb, 2);
	CHECK(z.len < (1u << 20));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_archive(&r, "bomb.tar.gz", &z);
	CHECK(seconds_since(&t0) < 0.5);
	CHECK(!has(&r, "ATTACH_ARCHIVE_EXECUTABLE"));
	run_done(&r);
	/* 3,000 entries: the last ones are not listed */
	for (int i = 0; i < 3000; i++) {
		snprintf(names[i], sizeof(names[i]), i == 2999 ? "z%d.exe" : "f%d.txt", i);
		many[i] = (entry){names[i], "", 0};
	}
	make_archive(&z, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, NULL, many, 3000);
	run_archive(&r, "many.zip", &z);
	CHECK(r.rc == 0 && !has(&r, "ATTACH_ARCHIVE_EXECUTABLE"));
	run_done(&r);
	free(many);
	free(names);
	sbuf_release(&z);
}

TEST(phish_archive_budget_is_per_message)
{
	entry e[] = {{"zeros.bin", NULL, 6u << 20}, {"late.exe", "x", 1}};
	sbuf z = SBUF_INIT, b = SBUF_INIT;
	run r;

	/* 6 MiB to unpack before the program: within the 8 MiB of a message
	 * once, not twice */
	make_archive(&z, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, NULL, e, 2);
	sbuf_adds(&b, "Subject: two\nContent-Type: multipart/mixed; boundary=B\n\n");
	for (int i = 0; i < 2; i++) {
		sbuf_addf(&b,
		          "--B\nContent-Type: application/gzip; name=\"%s.tgz\"\n"
		          "Content-Transfer-Encoding: base64\n\n",
		          i ? "second" : "first");
		add_base64(&b, (const unsigned char *)z.p, z.len);
	}
	sbuf_adds(&b, "--B--\n");
	run_cfg(&r, b.p, b.len, NULL);
	CHECK(strcmp(detail(&r, "ATTACH_ARCHIVE_EXECUTABLE"), "first.tgz: late.exe") == 0);
	run_done(&r);
	sbuf_release(&z);
	sbuf_release(&b);
}

TEST(phish_truncated_and_broken_archives_are_harmless)
{
	entry e[] = {{"a.exe", "MZ", 2}, {"b.txt", "text", 4}};
	sbuf z = SBUF_INIT;
	run r;

	make_archive(&z, ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, NULL, e, 2);
	for (size_t cut = 4; cut < z.len; cut += 7) {
		sbuf t = SBUF_INIT;
		sbuf_add(&t, z.p, cut);
		run_archive(&r, "cut.zip", &t);
		run_done(&r);
		sbuf_release(&t);
	}
	sbuf_release(&z);
}

TEST(phish_context_new_and_free)
{
	phish_ctx *c = phish_ctx_new();

	CHECK(c != NULL);
	phish_ctx_free(c);
	phish_ctx_free(NULL);
}

TEST(phish_fuzz_regressions)
{
	/* fuzz_phish input: NUL, a byte naming the attachment, its content */
	static const char *const files[] = {"fuzz-regress/phish-gz-not-an-archive"};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len = 0;
		char *buf = test_read_data(files[i], &len);
		sbuf content = SBUF_INIT;
		run r;
		CHECK(len > 2 && buf[0] == 0);
		sbuf_add(&content, buf + 2, len - 2);
		run_archive(&r, "a.tar.gz", &content);
		run_done(&r);
		sbuf_release(&content);
		free(buf);
	}
}
