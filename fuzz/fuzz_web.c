/*
 * fuzz_web.c: the web page's parsers of what a browser sends (web/auth.h):
 * form and query fields, Cookie values, http_user lines, Bearer tokens.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"user", "password", "q", "limit", "action", ""};
	char *users[] = {"admin:admin:0123456789ab", "viewer:read:abcdefghijkl"};
	const char *p = (const char *)data, *v;
	char out[64], name[WEB_MAX_NAME + 1];
	char *line = malloc(size + 1);
	size_t n;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		long r = web_form_get(p, size, keys[i], out, sizeof(out));
		if (r >= 0 && (size_t)r >= sizeof(out))
			abort();
		if (web_cookie_get(p, size, keys[i][0] ? keys[i] : WEB_COOKIE, &v, &n) &&
		    (v < p || v + n > p + size))
			abort();
	}
	web_check_token(users, 2, p, size, name);
	if (line) {
		memcpy(line, data, size);
		line[size] = 0;
		web_user_ok(line);
		free(line);
	}
	return 0;
}
