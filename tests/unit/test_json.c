/*
 * test_json.c: json_str() quotes and escapes what JSON needs, replaces
 * bytes that are not UTF-8, and gives the same bytes as a plain
 * byte-at-a-time writer for strings of every length and mix (its fast
 * path takes sixteen bytes at a time).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "util/json.h"
#include "util/utf8.h"

/* json_str(s) as a NUL-terminated string in out (capacity cap). */
static const char *quoted(const char *s, size_t len, char *out, size_t cap)
{
	sbuf b = SBUF_INIT;

	CHECK(json_str(&b, s, len) == 0);
	snprintf(out, cap, "%.*s", (int)b.len, b.p ? b.p : "");
	sbuf_release(&b);
	return out;
}

TEST(json_str_escapes_and_replaces)
{
	char out[256];

	CHECK(!strcmp(quoted("", 0, out, sizeof(out)), "\"\""));
	CHECK(!strcmp(quoted("plain text", 10, out, sizeof(out)), "\"plain text\""));
	CHECK(!strcmp(quoted("a\"b\\c", 5, out, sizeof(out)), "\"a\\\"b\\\\c\""));
	CHECK(!strcmp(quoted("t\tn\nr\r\x01", 7, out, sizeof(out)), "\"t\\tn\\nr\\r\\u0001\""));
	CHECK(!strcmp(quoted("caf\xc3\xa9", 5, out, sizeof(out)), "\"caf\xc3\xa9\""));
	CHECK(!strcmp(quoted("bad\xff!", 5, out, sizeof(out)), "\"bad\xEF\xBF\xBD!\""));
	CHECK(!strcmp(quoted("nul\0x", 5, out, sizeof(out)), "\"nul\\u0000x\""));
}

/* The writer as it was before the sixteen-byte path, byte by byte. */
static void reference(sbuf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	sbuf_addc(b, '"');
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			sbuf_addc(b, (char)c);
			i++;
		} else if (c < 0x80) {
			const char *e = c == '"'    ? "\\\""
			                : c == '\\' ? "\\\\"
			                : c == '\n' ? "\\n"
			                : c == '\r' ? "\\r"
			                : c == '\t' ? "\\t"
			                            : NULL;
			if (e) {
				sbuf_add(b, e, 2);
			} else {
				char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				sbuf_add(b, u, 6);
			}
			i++;
		} else if ((n = utf8_valid_prefix_len(s + i, len - i))) {
			sbuf_add(b, s + i, n);
			i += n;
		} else {
			sbuf_add(b, "\xEF\xBF\xBD", 3);
			i++;
		}
	}
	sbuf_addc(b, '"');
}

TEST(json_str_same_as_byte_at_a_time)
{
	static const char *const pieces[] = {
	    "a",    "Zz9 ", "\"",       "\\",           "\n",
	    "\x01", "\x7f", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80",
	    "\xff", "\xc3", "\xe4\xb8", "\x80",         "\0"};
	const size_t np = sizeof(pieces) / sizeof(pieces[0]);
	uint32_t seed = 1;
	int bad = 0;

	for (int round = 0; round < 3000 && bad < 3; round++) {
		char s[200];
		size_t len = 0, want_len = (size_t)round % 90;
		sbuf got = SBUF_INIT, want = SBUF_INIT;
		while (len < want_len) {
			size_t k;
			seed = seed * 1664525u + 1013904223u;
			/* mostly plain letters, so that long plain runs come up */
			k = (seed >> 28) < 10 ? 0 : (seed >> 8) % np;
			if (k == 14) {
				s[len++] = 0;
				continue;
			}
			for (const char *p = pieces[k]; *p && len < sizeof(s); p++)
				s[len++] = *p;
		}
		CHECK(json_str(&got, s, len) == 0);
		reference(&want, s, len);
		if (got.len != want.len || memcmp(got.p, want.p, got.len)) {
			bad++;
			test_fail(__FILE__, __LINE__,
			          "json_str differs from the byte-at-a-time writer");
		}
		sbuf_release(&got);
		sbuf_release(&want);
	}
}
