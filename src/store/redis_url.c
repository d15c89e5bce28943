/*
 * redis_url.c: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] and the Sentinel form
 * (see redis_url.h).
 */
#include <string.h>

#include "store/redis_url.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copies p[0..n) into out (cap bytes) undoing %XX; -1 when too long, a bad
 * escape or a NUL byte. */
static int unescape(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)p[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n || (h = hexval(p[i + 1])) < 0 || (l = hexval(p[i + 2])) < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		}
		if (!c || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = 0;
	return 0;
}

/* A decimal number in [lo, hi] spelling all of p[0..n); -1 when not. */
static long number(const char *p, size_t n, long lo, long hi)
{
	long v = 0;

	if (!n || n > 6)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v < lo || v > hi ? -1 : v;
}

/* user:pass before the '@'. */
static int parse_auth(const char *p, size_t n, redis_url *u, const char **why)
{
	const char *colon = memchr(p, ':', n);

	*why = "bad user or password (a colon before the password, %XX escapes)";
	if (!colon)
		return -1;
	if (unescape(p, (size_t)(colon - p), u->user, sizeof(u->user)) ||
	    unescape(colon + 1, n - (size_t)(colon - p) - 1, u->pass, sizeof(u->pass)))
		return -1;
	return 0;
}

static int host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* HOST[:PORT] or [V6][:PORT]. */
static int parse_hostport(const char *p, size_t n, redis_url *u, const char **why)
{
	const char *h = p, *port = NULL;
	size_t hn = n;

	if (n && p[0] == '[') {
		const char *close = memchr(p, ']', n);
		if (!close)
			return *why = "unclosed '[' in the host", -1;
		h = p + 1;
		hn = (size_t)(close - h);
		if (close + 1 < p + n) {
			if (close[1] != ':')
				return *why = "text after ']' that is not :PORT", -1;
			port = close + 2;
		}
		for (size_t i = 0; i < hn; i++)
			if (!(hexval(h[i]) >= 0 || h[i] == ':' || h[i] == '.'))
				return *why = "bad IPv6 literal", -1;
	} else {
		const char *colon = memchr(p, ':', n);
		if (colon) {
			hn = (size_t)(colon - p);
			port = colon + 1;
		}
		for (size_t i = 0; i < hn; i++)
			if (!host_char_ok(h[i]))
				return *why = "bad character in the host", -1;
	}
	if (!hn || hn >= sizeof(u->host))
		return *why = "missing or too long host", -1;
	memcpy(u->host, h, hn);
	u->host[hn] = 0;
	if (port && (u->port = (int)number(port, (size_t)(p + n - port), 1, 65535)) < 0)
		return *why = "bad port (want 1-65535)", -1;
	return 0;
}

/* HOST[:PORT][,HOST[:PORT]...]: the sentinels (the first also in u). */
static int parse_sentinels(const char *p, size_t n, redis_url *u, const char **why)
{
	const char *end = p + n;

	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t k = (size_t)((comma ? comma : end) - p);
		if (u->nsentinels == REDIS_URL_SENTINELS)
			return *why = "too many sentinels (at most 5)", -1;
		u->port = 26379;
		if (parse_hostport(p, k, u, why))
			return -1;
		memcpy(u->sentinel[u->nsentinels].host, u->host, sizeof(u->host));
		u->sentinel[u->nsentinels++].port = u->port;
		if (!comma)
			break;
		p = comma + 1;
	}
	memcpy(u->host, u->sentinel[0].host, sizeof(u->host));
	u->port = u->sentinel[0].port;
	return 0;
}

/* /SERVICE[/DB] of a sentinel URL, from its slash to end. */
static int parse_service(const char *p, const char *end, redis_url *u, const char **why)
{
	const char *s = p + 1, *slash;
	size_t n;

	if (p >= end)
		return *why = "a sentinel URL names the service: /NAME[/DB]", -1;
	slash = memchr(s, '/', (size_t)(end - s));
	n = (size_t)((slash ? slash : end) - s);
	if (!n || n >= sizeof(u->service))
		return *why = "a sentinel URL names the service: /NAME[/DB]", -1;
	for (size_t i = 0; i < n; i++)
		if (!host_char_ok(s[i]))
			return *why = "bad character in the service name", -1;
	memcpy(u->service, s, n);
	u->service[n] = 0;
	if (slash && slash + 1 < end &&
	    (u->db = (int)number(slash + 1, (size_t)(end - slash - 1), 0, 15)) < 0)
		return *why = "bad database number (want 0-15)", -1;
	return 0;
}

int redis_url_parse(const char *s, size_t len, redis_url *u, const char **why)
{
	const char *p, *end = s + len, *slash, *at;
	int sentinel = 0;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (len >= 9 && !strncmp(s, "rediss://", 9))
		u->tls = 1, p = s + 9;
	else if (len >= 8 && !strncmp(s, "redis://", 8))
		p = s + 8;
	else if (len >= 18 && !strncmp(s, "rediss+sentinel://", 18))
		u->tls = 1, sentinel = 1, p = s + 18;
	else if (len >= 17 && !strncmp(s, "redis+sentinel://", 17))
		sentinel = 1, p = s + 17;
	else
		return *why = "not a redis://, rediss:// or redis+sentinel:// URL", -1;
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash)
		slash = end;
	/* The last '@' before the path ends the credentials. */
	at = NULL;
	for (const char *q = p; q < slash; q++)
		if (*q == '@')
			at = q;
	if (at && parse_auth(p, (size_t)(at - p), u, why))
		return -1;
	if (at)
		p = at + 1;
	if (sentinel)
		return parse_sentinels(p, (size_t)(slash - p), u, why)
		           ? -1
		           : parse_service(slash, end, u, why);
	if (parse_hostport(p, (size_t)(slash - p), u, why))
		return -1;
	if (slash < end && slash + 1 < end &&
	    (u->db = (int)number(slash + 1, (size_t)(end - slash - 1), 0, 15)) < 0)
		return *why = "bad database number (want 0-15)", -1;
	return 0;
}
