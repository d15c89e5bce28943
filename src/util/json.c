/*
 * json.c: JSON string escaping and small writers (see json.h).
 */
#include "util/json.h"

#include <inttypes.h>
#include <string.h>

#include "util/utf8.h"

static int json_escape_byte(sbuf *b, unsigned char c)
{
	switch (c) {
	case '"':
		return sbuf_add(b, "\\\"", 2);
	case '\\':
		return sbuf_add(b, "\\\\", 2);
	case '\n':
		return sbuf_add(b, "\\n", 2);
	case '\r':
		return sbuf_add(b, "\\r", 2);
	case '\t':
		return sbuf_add(b, "\\t", 2);
	default:
		return sbuf_addf(b, "\\u%04x", c);
	}
}

int json_str(sbuf *b, const char *s, size_t len)
{
	size_t i = 0, run = 0;
	int err = sbuf_addc(b, '"');

	while (!err && i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		err = sbuf_add(b, s + i - run, run);
		run = 0;
		if (err)
			break;
		if (c < 0x80) {
			err = json_escape_byte(b, c);
			i++;
			continue;
		}
		n = utf8_valid_prefix_len(s + i, len - i);
		if (n) {
			err = sbuf_add(b, s + i, n);
			i += n;
		} else {
			err = sbuf_add(b, "\xEF\xBF\xBD", 3);
			i++;
		}
	}
	if (!err)
		err = sbuf_add(b, s + i - run, run);
	return err ? err : sbuf_addc(b, '"');
}

int json_key(sbuf *b, const char *key)
{
	int err = json_str(b, key, strlen(key));

	return err ? err : sbuf_addc(b, ':');
}

int json_kv_str(sbuf *b, const char *key, const char *s, size_t len)
{
	int err = json_key(b, key);

	return err ? err : json_str(b, s ? s : "", s ? len : 0);
}

int json_kv_int(sbuf *b, const char *key, int64_t v)
{
	int err = json_key(b, key);

	return err ? err : sbuf_addf(b, "%" PRId64, v);
}

int json_sep(sbuf *b, int *first)
{
	if (*first) {
		*first = 0;
		return 0;
	}
	return sbuf_addc(b, ',');
}
