/*
 * pattern.c: the regular expressions of rules. All the patterns of one
 * kind go into one Hyperscan database (hs_compile_multi, each with
 * HS_FLAG_SINGLEMATCH: a scan reports each pattern once, at its first
 * match), so a message is read once whatever the number of rules. What
 * Hyperscan cannot do (backreferences, lookaround, \b in UTF-8 mode...)
 * runs on PCRE2 with JIT, pattern by pattern, after the database.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

/* Steps a PCRE2 match may take before it is given up (no match). */
#define PCRE_MATCH_LIMIT 1000000

int pat_parse(ss_arena *a, const char *s, size_t len, const char **re, unsigned *flags, char *why,
              size_t wlen)
{
	size_t end = len;

	if (len < 2 || s[0] != '/') {
		snprintf(why, wlen, "expected /regex/flags");
		return SS_ESYNTAX;
	}
	while (end > 1 && s[end - 1] != '/')
		end--;
	if (end <= 1) {
		snprintf(why, wlen, "regex without its closing '/'");
		return SS_ESYNTAX;
	}
	*flags = 0;
	for (size_t i = end; i < len; i++) {
		unsigned f = s[i] == 'i' ? RE_I : s[i] == 's' ? RE_S : s[i] == 'm' ? RE_M : 0;
		if (!f) {
			snprintf(why, wlen, "unknown regex flag '%c' (i, s and m are known)", s[i]);
			return SS_ESYNTAX;
		}
		*flags |= f;
	}
	if (end - 2 == 0) {
		snprintf(why, wlen, "empty regex");
		return SS_ESYNTAX;
	}
	*re = arena_strndup(a, s + 1, end - 2);
	return *re ? 0 : SS_ENOMEM;
}

static unsigned hs_flags(unsigned f, int utf8)
{
	return HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | (f & RE_I ? HS_FLAG_CASELESS : 0) |
	       (f & RE_S ? HS_FLAG_DOTALL : 0) | (f & RE_M ? HS_FLAG_MULTILINE : 0) |
	       (utf8 ? HS_FLAG_UTF8 : 0);
}

static uint32_t pcre_flags(unsigned f, int utf8)
{
	return (f & RE_I ? PCRE2_CASELESS : 0) | (f & RE_S ? PCRE2_DOTALL : 0) |
	       (f & RE_M ? PCRE2_MULTILINE : 0) | (utf8 ? PCRE2_UTF | PCRE2_MATCH_INVALID_UTF : 0);
}

/* Compiles p with PCRE2 (JIT when it can). */
static int pcre_compile_one(pattern *p, int utf8, const char *hs_why, char *why, size_t wlen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)p->re, PCRE2_ZERO_TERMINATED,
	                              pcre_flags(p->flags, utf8), &code, &off, NULL);

	if (!c) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(why, wlen, "bad regex /%.80s/: %s at offset %zu (Hyperscan: %s)", p->re,
		         (char *)msg, (size_t)off, hs_why);
		return SS_ESYNTAX;
	}
	pcre2_jit_compile(c, PCRE2_JIT_COMPLETE); /* interpreted when JIT fails */
	p->pcre = c;
	return 0;
}

/* Hyperscan's verdict on p alone: taken, taken as a prefilter, refused
 * (with its reason in hs_why). */
static int hs_verdict(const pattern *p, int utf8, char *hs_why, size_t wlen)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;
	unsigned f = hs_flags(p->flags, utf8);
	int v = HSV_TAKEN;

	if (hs_expression_info(p->re, f, &info, &ce) != HS_SUCCESS) {
		snprintf(hs_why, wlen, "%s", ce ? ce->message : "refused");
		hs_free_compile_error(ce);
		ce = NULL;
		v = hs_expression_info(p->re, f | HS_FLAG_PREFILTER, &info, &ce) == HS_SUCCESS
		        ? HSV_PREFILTER
		        : HSV_REFUSED;
		hs_free_compile_error(ce);
	}
	free(info);
	return v;
}

int pat_check(pattern *p, int utf8, hsv_memo *memo, char *why, size_t wlen)
{
	char hs_why[200] = "refused";
	int v = hsv_get(memo, p->re, hs_flags(p->flags, utf8)), known = v >= 0, err;

	if (!known)
		v = hs_verdict(p, utf8, hs_why, sizeof(hs_why));
	if (v == HSV_TAKEN) {
		if (!known)
			hsv_put(memo, p->re, hs_flags(p->flags, utf8), v);
		return 0;
	}
	if ((err = pcre_compile_one(p, utf8, hs_why, why, wlen)))
		return err;
	p->prefilter = v == HSV_PREFILTER;
	if (!known)
		hsv_put(memo, p->re, hs_flags(p->flags, utf8), v);
	return 0;
}

/* The arrays hs_compile_multi wants, for the patterns left to Hyperscan. */
static int hs_arrays(patset *ps, const char ***exprs, unsigned **flags)
{
	*exprs = calloc(ps->n ? ps->n : 1, sizeof(**exprs));
	*flags = calloc(ps->n ? ps->n : 1, sizeof(**flags));
	free(ps->ids);
	ps->ids = calloc(ps->n ? ps->n : 1, sizeof(*ps->ids));
	if (!*exprs || !*flags || !ps->ids)
		return SS_ENOMEM;
	ps->nhs = 0;
	ps->nexact = 0;
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->v[i].pcre && !ps->v[i].prefilter)
			continue;
		(*exprs)[ps->nhs] = ps->v[i].re;
		(*flags)[ps->nhs] =
		    hs_flags(ps->v[i].flags, ps->utf8) | (ps->v[i].pcre ? HS_FLAG_PREFILTER : 0);
		ps->nexact += !ps->v[i].pcre;
		ps->ids[ps->nhs++] = (unsigned)i;
	}
	return 0;
}

/* One try at the database (from the cache when it has it); on a
 * pattern-specific error, *bad gets it. */
static int hs_try(patset *ps, const char *cache_dir, size_t *bad, char *why, size_t wlen,
                  int *retry)
{
	uint8_t key[HSCACHE_KEY];
	const char **exprs = NULL;
	unsigned *flags = NULL, *idv = NULL;
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;
	int err = hs_arrays(ps, &exprs, &flags);

	*retry = 0;
	if (err || !ps->nhs)
		goto out;
	if (!(idv = calloc(ps->nhs, sizeof(*idv)))) {
		err = SS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ps->nhs; i++)
		idv[i] = (unsigned)i;
	hscache_key(exprs, flags, idv, ps->nhs, key);
	if (cache_dir && (ps->db = hscache_load(cache_dir, key)))
		goto out;
	if (hs_compile_multi(exprs, flags, idv, (unsigned)ps->nhs, HS_MODE_BLOCK, NULL, &db, &ce) !=
	    HS_SUCCESS) {
		snprintf(why, wlen, "%s", ce ? ce->message : "Hyperscan refused the patterns");
		err = SS_ESYNTAX;
		if (ce && ce->expression >= 0 && (size_t)ce->expression < ps->nhs) {
			*bad = ps->ids[ce->expression];
			*retry = 1;
		}
		hs_free_compile_error(ce);
	}
	ps->db = db;
	if (db && cache_dir)
		hscache_store(cache_dir, key, db);
out:
	free(exprs);
	free(flags);
	free(idv);
	return err;
}

int patset_compile(patset *ps, const char *cache_dir, size_t *bad, char *why, size_t wlen)
{
	char hs_why[256];
	int err, retry;

	*bad = (size_t)-1;
	for (;;) {
		err = hs_try(ps, cache_dir, bad, hs_why, sizeof(hs_why), &retry);
		if (!err || !retry) {
			if (err)
				snprintf(why, wlen, "%s", hs_why);
			return err;
		}
		/* Refused in the database though accepted alone (resources):
		 * PCRE2 takes that pattern, and Hyperscan the others. */
		if (ps->v[*bad].pcre) {
			ps->v[*bad].prefilter = 0;
			continue;
		}
		if ((err = pcre_compile_one(&ps->v[*bad], ps->utf8, hs_why, why, wlen)))
			return err;
	}
}

void pat_free_pcre(pattern *p)
{
	pcre2_code_free(p->pcre);
	p->pcre = NULL;
}

void patset_free(patset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		pcre2_code_free(ps->v[i].pcre);
	hs_free_database(ps->db);
	free(ps->ids);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

/* Prefiltered PCRE2 patterns whose loose form matched, per scan. */
#define MAX_CANDIDATES 64

typedef struct hs_ctx {
	const patset *ps;
	pat_match_fn fn;
	void *ctx;
	unsigned cand[MAX_CANDIDATES];
	size_t ncand;
	int overflow; /* more candidates than kept: confirm them all */
} hs_ctx;

static int on_hs(unsigned id, unsigned long long from, unsigned long long to, unsigned fl,
                 void *arg)
{
	hs_ctx *c = arg;
	unsigned i = c->ps->ids[id];

	if (!c->ps->v[i].pcre)
		c->fn(c->ctx, c->ps->v[i].rule);
	else if (c->ncand < MAX_CANDIDATES)
		c->cand[c->ncand++] = i;
	else
		c->overflow = 1;
	return 0;
}

static void pcre_one(const pattern *p, pat_scratch *s, const char *text, size_t len,
                     const hs_ctx *c)
{
	if (pcre2_match(p->pcre, (PCRE2_SPTR)text, len, 0, 0, s->md, s->mctx) >= 0)
		c->fn(c->ctx, p->rule);
}

/* PCRE2 on the patterns without a prefilter, and on the candidates. */
static void pcre_scan(const patset *ps, pat_scratch *s, const char *text, size_t len,
                      const hs_ctx *c)
{
	for (size_t i = 0; i < ps->n; i++) {
		const pattern *p = &ps->v[i];
		if (p->pcre && (!p->prefilter || c->overflow))
			pcre_one(p, s, text, len, c);
	}
	for (size_t i = 0; !c->overflow && i < c->ncand; i++)
		pcre_one(&ps->v[c->cand[i]], s, text, len, c);
}

int patset_scan(const patset *ps, pat_scratch *s, const char *text, size_t len,
                pat_match_fn on_match, void *ctx)
{
	hs_ctx c; /* not zeroed whole: cand[] is written before it is read */

	c.ps = ps;
	c.fn = on_match;
	c.ctx = ctx;
	c.ncand = 0;
	c.overflow = 0;
	text = text ? text : "";
	if (len > 0xffffffffu)
		len = 0xffffffffu; /* Hyperscan's bound; messages are far smaller */
	if (ps->db && hs_scan(ps->db, text, (unsigned)len, 0, s->hs, on_hs, &c) != HS_SUCCESS)
		return SS_ENOMEM;
	if (ps->nexact < ps->n)
		pcre_scan(ps, s, text, len, &c);
	return 0;
}

/* ---- scratch ---- */

int pat_scratch_init(pat_scratch *s, void *proto)
{
	memset(s, 0, sizeof(*s));
	if (proto && hs_clone_scratch(proto, (hs_scratch_t **)&s->hs) != HS_SUCCESS)
		return SS_ENOMEM;
	s->md = pcre2_match_data_create(1, NULL);
	s->mctx = pcre2_match_context_create(NULL);
	if (!s->md || !s->mctx)
		return SS_ENOMEM;
	pcre2_set_match_limit(s->mctx, PCRE_MATCH_LIMIT);
	return 0;
}

void pat_scratch_release(pat_scratch *s)
{
	hs_free_scratch(s->hs);
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	memset(s, 0, sizeof(*s));
}

int pat_scratch_proto(void **proto, const patset *ps)
{
	if (!ps->db)
		return 0;
	return hs_alloc_scratch(ps->db, (hs_scratch_t **)proto) == HS_SUCCESS ? 0 : SS_ENOMEM;
}

void pat_scratch_proto_free(void *proto)
{
	hs_free_scratch(proto);
}
