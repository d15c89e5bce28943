/*
 * scope.c: per-user and per-domain blocks, and the lookups that apply
 * them: a user's block first, then a domain's, then the global lines.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

/* "u:key" or "d:key" into buf; returns its length, 0 when too long. */
static size_t scope_key(char *buf, size_t cap, int is_user, const char *key, size_t len)
{
	if (len + 3 > cap)
		return 0;
	buf[0] = is_user ? 'u' : 'd';
	buf[1] = ':';
	for (size_t i = 0; i < len; i++)
		buf[2 + i] = (char)tolower((unsigned char)key[i]);
	buf[len + 2] = 0;
	return len + 2;
}

scope *scope_find(const ruleset *rs, int is_user, const char *key, size_t len)
{
	char buf[320];
	int id;

	if (!scope_key(buf, sizeof(buf), is_user, key, len))
		return NULL;
	id = sym_find(&rs->scopetab, buf);
	return id >= 0 ? rs->scopes[id] : NULL;
}

int scope_add(ruleset *rs, int is_user, const char *key, size_t len, scope **out)
{
	char buf[320];
	size_t n = scope_key(buf, sizeof(buf), is_user, key, len);
	scope *s;

	if (!n)
		return SS_ESYNTAX;
	if ((*out = scope_find(rs, is_user, key, len)))
		return 0; /* a second block of the same user adds to the first */
	if (rs->nscopes >= RULES_MAX_SCOPES)
		return SS_ESYNTAX;
	if (arena_grow(&rs->a, (void **)&rs->scopes, &rs->capscopes, rs->nscopes, sizeof(s)) ||
	    !(s = arena_calloc(&rs->a, 1, sizeof(*s))) ||
	    sym_id(&rs->scopetab, &rs->a, buf, n, 1) < 0)
		return SS_ENOMEM;
	s->key = rs->scopetab.names[rs->nscopes] + 2;
	s->is_user = is_user;
	rs->scopes[rs->nscopes++] = s;
	*out = s;
	return 0;
}

int scope_compile(ruleset *rs, scope *s, char *why, size_t wlen)
{
	for (int i = 0; i < 2; i++) {
		size_t pos;
		int err;
		if (!s->ipspec[i])
			continue;
		if ((err = ss_netset_parse(s->ipspec[i], &s->ips[i], &pos))) {
			snprintf(why, wlen, "networks: %s", ss_strerror(err));
			return err;
		}
	}
	return 0;
}

void scope_free(scope *s)
{
	for (int i = 0; i < 2; i++) {
		free(s->ipspec[i]);
		ss_netset_free(s->ips[i]);
		s->ipspec[i] = NULL;
		s->ips[i] = NULL;
	}
}

/* The domain of a user name that is an address, or NULL. */
static const char *domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at && at[1] ? at + 1 : NULL;
}

void rules_scope_of(const ruleset *rs, const char *user, const char *const *rcpts, size_t nrcpts,
                    rules_scope *out)
{
	const char *d;

	out->user = out->domain = NULL;
	if (!rs || !rs->nscopes)
		return;
	if (user && *user)
		out->user = scope_find(rs, 1, user, strlen(user));
	if ((d = domain_of(user)))
		out->domain = scope_find(rs, 0, d, strlen(d));
	for (size_t i = 0; !out->domain && i < nrcpts; i++) {
		const char *r = rcpts[i];
		size_t n;
		if (!(d = domain_of(r)))
			continue;
		n = strlen(d);
		if (n && d[n - 1] == '>')
			n--; /* <user@example.com> */
		out->domain = scope_find(rs, 0, d, n);
	}
}

static int scope_score(const scope *s, int sym, double *v)
{
	for (size_t i = 0; s && i < s->nscores; i++)
		if (s->scores[i].sym == sym)
			return *v = s->scores[i].value, 1;
	return 0;
}

double rules_score(const ruleset *rs, const rules_scope *sc, const char *name)
{
	double v = 0;
	int sym;

	if (!rs || (sym = sym_find(&rs->syms, name)) < 0)
		return 0;
	if (sc && (scope_score(sc->user, sym, &v) || scope_score(sc->domain, sym, &v)))
		return v;
	return rs->has_score[sym] ? rs->score[sym] : 0;
}

const char *rules_describe(const ruleset *rs, const char *name)
{
	int sym;

	if (!rs || (sym = sym_find(&rs->syms, name)) < 0)
		return NULL;
	return rs->describe[sym];
}

void rules_thresholds(const ruleset *rs, const rules_scope *sc, double *add_header_at,
                      double *reject_at)
{
	const scope *v[2] = {sc ? sc->domain : NULL, sc ? sc->user : NULL};

	if (!rs)
		return;
	for (int i = 0; i < 2; i++) { /* the user's block last: it wins */
		if (v[i] && v[i]->has_add)
			*add_header_at = v[i]->add_header_at;
		if (v[i] && v[i]->has_reject)
			*reject_at = v[i]->reject_at;
	}
}
