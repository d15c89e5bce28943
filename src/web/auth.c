/*
 * auth.c: web users, sessions, and the form and cookie parsers (see
 * auth.h).
 */
#include "web/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct session {
	char id[WEB_SESSION_ID + 1];
	char name[WEB_MAX_NAME + 1];
	web_role role;
	int64_t expires;
	int64_t created;
} session;

typedef struct login_fails {
	char client[64];
	int64_t start; /* the window's first failure */
	unsigned n;
} login_fails;

struct web_sessions {
	pthread_mutex_t mu;
	session *s;
	size_t n;
	login_fails fails[WEB_LOGIN_CLIENTS];
};

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* Splits "NAME:ROLE:SECRET" into its parts; 0 or -1 when malformed. */
static int split_user(const char *s, size_t *nlen, web_role *role, const char **secret)
{
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	size_t rl;

	if (!c1 || !c2)
		return -1;
	*nlen = (size_t)(c1 - s);
	rl = (size_t)(c2 - c1 - 1);
	if (rl == 5 && !memcmp(c1 + 1, "admin", 5))
		*role = WEB_ADMIN;
	else if (rl == 4 && !memcmp(c1 + 1, "read", 4))
		*role = WEB_READ;
	else
		return -1;
	*secret = c2 + 1;
	return 0;
}

int web_user_ok(const char *s)
{
	size_t nlen, slen;
	web_role role;
	const char *secret;

	if (split_user(s, &nlen, &role, &secret) || !nlen || nlen > WEB_MAX_NAME)
		return 0;
	for (size_t i = 0; i < nlen; i++)
		if (!name_char(s[i]))
			return 0;
	slen = strlen(secret);
	if (slen < WEB_MIN_SECRET || slen > WEB_MAX_SECRET)
		return 0;
	for (size_t i = 0; i < slen; i++)
		if ((unsigned char)secret[i] < 0x21 || secret[i] == 0x7f)
			return 0;
	return 1;
}

const char *web_role_name(web_role r)
{
	return r == WEB_ADMIN ? "admin" : r == WEB_READ ? "read" : "none";
}

static void digest(const char *p, size_t len, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)p, len, NULL, 0);
}

web_role web_check_password(char *const *users, size_t n, const char *name, size_t nlen,
                            const char *secret, size_t slen)
{
	unsigned char want[32], got[32];
	web_role found = WEB_NONE;

	if (sodium_init() < 0)
		return WEB_NONE;
	digest(secret, slen, got);
	for (size_t i = 0; i < n; i++) {
		size_t ul;
		web_role role;
		const char *sec;
		if (split_user(users[i], &ul, &role, &sec) || ul != nlen ||
		    memcmp(users[i], name, nlen))
			continue;
		digest(sec, strlen(sec), want);
		if (!sodium_memcmp(want, got, 32))
			found = role;
	}
	sodium_memzero(got, sizeof(got));
	return found;
}

web_role web_check_token(char *const *users, size_t n, const char *tok, size_t len, char *name_out)
{
	const char *colon = memchr(tok, ':', len);
	size_t nlen = colon ? (size_t)(colon - tok) : 0;
	web_role r;

	if (!colon || !nlen || nlen > WEB_MAX_NAME)
		return WEB_NONE;
	r = web_check_password(users, n, tok, nlen, colon + 1, len - nlen - 1);
	if (r != WEB_NONE) {
		memcpy(name_out, tok, nlen);
		name_out[nlen] = 0;
	}
	return r;
}

web_role web_user_role(char *const *users, size_t n, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < n; i++) {
		size_t ul;
		web_role role;
		const char *sec;
		if (!split_user(users[i], &ul, &role, &sec) && ul == nl &&
		    !memcmp(users[i], name, nl))
			return role;
	}
	return WEB_NONE;
}

/* ---- sessions ---- */

web_sessions *web_sessions_new(void)
{
	web_sessions *s = calloc(1, sizeof(*s));

	if (s && !(s->s = calloc(WEB_MAX_SESSIONS, sizeof(*s->s)))) {
		free(s);
		return NULL;
	}
	if (s)
		pthread_mutex_init(&s->mu, NULL);
	return s;
}

void web_sessions_free(web_sessions *s)
{
	if (!s)
		return;
	sodium_memzero(s->s, WEB_MAX_SESSIONS * sizeof(*s->s));
	free(s->s);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* The slot for a new session: a free or expired one, else the oldest. */
static session *free_slot(web_sessions *s, int64_t now)
{
	session *oldest = NULL;

	for (size_t i = 0; i < WEB_MAX_SESSIONS; i++) {
		session *x = &s->s[i];
		if (!x->id[0] || x->expires <= now)
			return x;
		if (!oldest || x->created < oldest->created)
			oldest = x;
	}
	return oldest;
}

int web_session_new(web_sessions *s, const char *name, web_role role, int64_t now, char *id)
{
	unsigned char rnd[WEB_SESSION_ID / 2];
	session *x;

	if (sodium_init() < 0)
		return -1;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(id, WEB_SESSION_ID + 1, rnd, sizeof(rnd));
	pthread_mutex_lock(&s->mu);
	x = free_slot(s, now);
	memcpy(x->id, id, WEB_SESSION_ID + 1);
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->role = role;
	x->created = now;
	x->expires = now + WEB_SESSION_TTL;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* The session with id[0..len), or NULL; under the lock. */
static session *find(web_sessions *s, const char *id, size_t len)
{
	if (len != WEB_SESSION_ID)
		return NULL;
	for (size_t i = 0; i < WEB_MAX_SESSIONS; i++)
		if (s->s[i].id[0] && !sodium_memcmp(s->s[i].id, id, WEB_SESSION_ID))
			return &s->s[i];
	return NULL;
}

web_role web_session_get(web_sessions *s, const char *id, size_t len, int64_t now, char *name_out)
{
	web_role r = WEB_NONE;
	session *x;

	pthread_mutex_lock(&s->mu);
	if ((x = find(s, id, len)) && x->expires > now) {
		r = x->role;
		memcpy(name_out, x->name, sizeof(x->name));
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

void web_session_end(web_sessions *s, const char *id, size_t len)
{
	session *x;

	pthread_mutex_lock(&s->mu);
	if ((x = find(s, id, len)))
		memset(x, 0, sizeof(*x));
	pthread_mutex_unlock(&s->mu);
}

/* The slot of `client` (under the lock): its own, a free one, or the
 * one with the oldest window among those probed. */
static login_fails *fail_slot(web_sessions *s, const char *client)
{
	uint64_t h = 1469598103934665603ull;
	login_fails *oldest = NULL;

	for (const char *p = client; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (unsigned i = 0; i < 8; i++) {
		login_fails *f = &s->fails[(h + i) % WEB_LOGIN_CLIENTS];
		if (!f->client[0] || !strncmp(f->client, client, sizeof(f->client) - 1))
			return f;
		if (!oldest || f->start < oldest->start)
			oldest = f;
	}
	return oldest;
}

int web_login_allowed(web_sessions *s, const char *client, int64_t now)
{
	login_fails *f;
	int ok;

	pthread_mutex_lock(&s->mu);
	f = fail_slot(s, client);
	ok = strncmp(f->client, client, sizeof(f->client) - 1) ||
	     now - f->start >= WEB_LOGIN_WINDOW || f->n < WEB_LOGIN_FAILS;
	pthread_mutex_unlock(&s->mu);
	return ok;
}

void web_login_failed(web_sessions *s, const char *client, int64_t now)
{
	login_fails *f;

	pthread_mutex_lock(&s->mu);
	f = fail_slot(s, client);
	if (strncmp(f->client, client, sizeof(f->client) - 1) ||
	    now - f->start >= WEB_LOGIN_WINDOW) {
		snprintf(f->client, sizeof(f->client), "%s", client);
		f->start = now;
		f->n = 0;
	}
	f->n++;
	pthread_mutex_unlock(&s->mu);
}

/* ---- parsers ---- */

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* Decodes p[0..len) into out; the length, or -2. */
static long url_decode(const char *p, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)p[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = hexval(p[i + 1])) < 0 ||
			    (lo = hexval(p[i + 2])) < 0)
				return -2;
			c = hi * 16 + lo;
			i += 2;
		}
		if (n + 1 >= cap)
			return -2;
		out[n++] = (char)c;
	}
	out[n] = 0;
	return (long)n;
}

long web_form_get(const char *p, size_t len, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *end = p + len;

	if (!cap)
		return -2;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end, *eq = memchr(p, '=', (size_t)(e - p));
		const char *ke = eq ? eq : e;
		if ((size_t)(ke - p) == kl && !memcmp(p, key, kl))
			return eq ? url_decode(eq + 1, (size_t)(e - eq - 1), out, cap)
			          : (out[0] = 0, 0);
		p = e + 1;
	}
	return -1;
}

int web_cookie_get(const char *p, size_t len, const char *name, const char **v, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *end = p + len;

	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *e = semi ? semi : end, *eq;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		eq = memchr(p, '=', (size_t)(e - p));
		if (eq && (size_t)(eq - p) == nl && !memcmp(p, name, nl)) {
			*v = eq + 1;
			*vlen = (size_t)(e - eq - 1);
			while (*vlen && (eq[*vlen] == ' ' || eq[*vlen] == '\t'))
				(*vlen)--;
			return 1;
		}
		p = e + 1;
	}
	return 0;
}
