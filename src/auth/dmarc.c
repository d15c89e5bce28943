/*
 * dmarc.c: DMARC records, From domains, alignment and evaluation (see
 * dmarc.h). The record parser reads untrusted DNS text in place: slices,
 * no allocation.
 */
#include "auth/dmarc.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const char *dmarc_policy_name(dmarc_policy p)
{
	return p == DMARC_P_REJECT ? "reject" : p == DMARC_P_QUARANTINE ? "quarantine" : "none";
}

typedef struct slice {
	const char *p;
	size_t len;
} slice;

static int is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static slice trim(const char *p, size_t len)
{
	while (len && is_wsp(*p))
		p++, len--;
	while (len && is_wsp(p[len - 1]))
		len--;
	return (slice){p, len};
}

/* Whether slice s equals word w, ignoring case. */
static int eq(slice s, const char *w)
{
	return s.len == strlen(w) && strncasecmp(s.p, w, s.len) == 0;
}

/* A policy value; -1 when invalid. */
static int policy_of(slice v)
{
	if (eq(v, "none"))
		return DMARC_P_NONE;
	if (eq(v, "quarantine"))
		return DMARC_P_QUARANTINE;
	return eq(v, "reject") ? DMARC_P_REJECT : -1;
}

/* pct: 0-100 in decimal digits; -1 when invalid. */
static int pct_of(slice v)
{
	int n = 0;

	if (v.len == 0 || v.len > 3)
		return -1;
	for (size_t i = 0; i < v.len; i++) {
		if (!isdigit((unsigned char)v.p[i]))
			return -1;
		n = n * 10 + (v.p[i] - '0');
	}
	return n <= 100 ? n : -1;
}

/* What the parse has seen of p and rua. */
typedef struct tags_seen {
	int p, sp, rua;
} tags_seen;

/* Applies one tag (name=value) to r. */
static void apply_tag(dmarc_record *r, tags_seen *seen, slice name, slice v)
{
	int x;

	if (eq(name, "p") && !seen->p && (x = policy_of(v)) >= 0)
		r->p = (dmarc_policy)x, seen->p = 1;
	else if (eq(name, "sp") && !seen->sp && (x = policy_of(v)) >= 0)
		r->sp = (dmarc_policy)x, seen->sp = 1;
	else if (eq(name, "pct") && (x = pct_of(v)) >= 0)
		r->pct = x;
	else if (eq(name, "adkim") && (eq(v, "r") || eq(v, "s")))
		r->adkim_strict = eq(v, "s");
	else if (eq(name, "aspf") && (eq(v, "r") || eq(v, "s")))
		r->aspf_strict = eq(v, "s");
	else if (eq(name, "rua") && v.len)
		seen->rua = 1;
}

/* Splits "name=value" (trimmed); returns -1 without '='. */
static int split_tag(slice t, slice *name, slice *v)
{
	const char *eqs = memchr(t.p, '=', t.len);

	if (!eqs)
		return -1;
	*name = trim(t.p, (size_t)(eqs - t.p));
	*v = trim(eqs + 1, t.len - (size_t)(eqs + 1 - t.p));
	return name->len ? 0 : -1;
}

int dmarc_parse(const char *txt, size_t len, dmarc_record *out)
{
	tags_seen seen = {0, 0, 0};
	size_t i = 0, n = 0;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	if (memchr(txt, '\0', len))
		return SS_ESYNTAX;
	while (i <= len) {
		const char *semi = memchr(txt + i, ';', len - i);
		size_t end = semi ? (size_t)(semi - txt) : len;
		slice t = trim(txt + i, end - i), name, v;
		i = end + 1;
		if (t.len == 0 && n > 0)
			continue;
		if (split_tag(t, &name, &v))
			return SS_ESYNTAX;
		if (n++ == 0) {
			if (!eq(name, "v") || !eq(v, "DMARC1"))
				return SS_ESYNTAX;
			continue;
		}
		apply_tag(out, &seen, name, v);
	}
	if (!seen.p && !seen.rua)
		return SS_ESYNTAX;
	if (!seen.sp)
		out->sp = out->p;
	return 0;
}

/* The address part of a From value: inside the last <...>, or the value
 * without comments. Written into buf (NUL-terminated). */
static void from_addr(const char *v, size_t len, char *buf, size_t buflen)
{
	const char *lt = NULL, *gt;
	size_t n = 0;
	int depth = 0;

	for (size_t i = 0; i < len; i++)
		if (v[i] == '<')
			lt = v + i;
	if (lt && (gt = memchr(lt, '>', len - (size_t)(lt - v)))) {
		v = lt + 1;
		len = (size_t)(gt - v);
	}
	for (size_t i = 0; i < len && n + 1 < buflen; i++) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && depth)
			depth--;
		else if (!depth)
			buf[n++] = v[i];
	}
	buf[n] = '\0';
}

/* Whether d could be a domain name: letters, digits, '-', '.', 8-bit. */
static int domain_ok(const char *d)
{
	if (!*d || *d == '.' || strstr(d, ".."))
		return 0;
	for (; *d; d++)
		if (!isalnum((unsigned char)*d) && *d != '-' && *d != '.' && !(*d & 0x80))
			return 0;
	return 1;
}

const char *dmarc_from_domain(const char *v, size_t len, ss_arena *a)
{
	char buf[512], *at, *d;
	size_t n;

	from_addr(v, len, buf, sizeof(buf));
	if (!(at = strrchr(buf, '@')))
		return NULL;
	d = at + 1;
	while (is_wsp(*d))
		d++;
	n = strlen(d);
	while (n && (is_wsp(d[n - 1]) || d[n - 1] == '.' || d[n - 1] == ','))
		n--;
	d[n] = '\0';
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return domain_ok(d) ? arena_strndup(a, d, n) : NULL;
}

const char *dmarc_org_domain(const psl_ctx_t *psl, const char *domain)
{
	const char *r = psl ? psl_registrable_domain(psl, domain) : NULL;

	return r ? r : domain;
}

int dmarc_aligned(const psl_ctx_t *psl, const char *x, const char *y, int strict)
{
	char lx[256], ly[256];
	size_t nx = strlen(x), ny = strlen(y);

	if (!nx || !ny || nx >= sizeof(lx) || ny >= sizeof(ly))
		return 0;
	for (size_t i = 0; i <= nx; i++)
		lx[i] = (char)tolower((unsigned char)x[i]);
	for (size_t i = 0; i <= ny; i++)
		ly[i] = (char)tolower((unsigned char)y[i]);
	if (!strcmp(lx, ly))
		return 1;
	return !strict && !strcmp(dmarc_org_domain(psl, lx), dmarc_org_domain(psl, ly));
}

/* Whether an authenticated identifier aligns with the From domain. */
static int any_aligned(const psl_ctx_t *psl, const dmarc_input *in)
{
	if (in->spf == AUTH_PASS && in->spf_domain &&
	    dmarc_aligned(psl, in->spf_domain, in->from, in->rec->aspf_strict))
		return 1;
	for (size_t i = 0; i < in->ndkim; i++)
		if (dmarc_aligned(psl, in->dkim_d[i], in->from, in->rec->adkim_strict))
			return 1;
	return 0;
}

auth_res dmarc_eval(const psl_ctx_t *psl, const dmarc_input *in, dmarc_policy *policy)
{
	dmarc_policy p;

	*policy = DMARC_P_NONE;
	if (!in->rec)
		return AUTH_NONE;
	p = in->at_org ? in->rec->sp : in->rec->p;
	if ((int)in->sample >= in->rec->pct && p != DMARC_P_NONE)
		p = (dmarc_policy)(p - 1);
	*policy = p;
	if (any_aligned(psl, in))
		return AUTH_PASS;
	return in->temperror ? AUTH_TEMPERROR : AUTH_FAIL;
}
