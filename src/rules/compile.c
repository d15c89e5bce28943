/*
 * compile.c: a rule set's life: made empty, frozen by rules_compile()
 * (metas resolved and ordered, patterns compiled, scores and
 * descriptions indexed by symbol, the checks' configuration laid out),
 * scratch for scans, freed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

/* Symbols the built-in checks and the lists emit: known to every set, so
 * that metas and score lines may name them. */
const char *const rules_builtin_symbols[] = {
    "SPF_PASS",
    "SPF_FAIL",
    "SPF_SOFTFAIL",
    "SPF_NEUTRAL",
    "SPF_NONE",
    "SPF_TEMPERROR",
    "SPF_PERMERROR",
    "DKIM_VALID",
    "DKIM_INVALID",
    "DKIM_TEMPERROR",
    "DKIM_NONE",
    "DMARC_PASS",
    "DMARC_FAIL_REJECT",
    "DMARC_FAIL_QUARANTINE",
    "DMARC_FAIL_NONE",
    "DMARC_NONE",
    "DMARC_TEMPERROR",
    "DNS_TEMPERROR",
    "PHISH_LINK_MISMATCH",
    "PHISH_IDN_HOMOGRAPH",
    "PHISH_BRAND_LOOKALIKE",
    "URI_IP_LITERAL",
    "URI_SHORTENER",
    "ATTACH_EXECUTABLE",
    "ATTACH_DOUBLE_EXT",
    "ATTACH_ARCHIVE_EXECUTABLE",
    "ATTACH_RISKY_EXT",
    "ALLOW_FROM",
    "DENY_FROM",
    "ALLOW_DOMAIN",
    "DENY_DOMAIN",
    "ALLOW_IP",
    "DENY_IP",
    NULL,
};

ruleset *rules_new(void)
{
	ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	arena_init(&rs->a);
	rs->kinds[RK_BODY].utf8 = rs->kinds[RK_URI].utf8 = 1;
	for (size_t i = 0; rules_builtin_symbols[i]; i++)
		if (sym_id(&rs->syms, &rs->a, rules_builtin_symbols[i],
		           strlen(rules_builtin_symbols[i]), 1) < 0) {
			rules_free(rs);
			return NULL;
		}
	return rs;
}

void rules_free(ruleset *rs)
{
	if (!rs)
		return;
	for (int k = 0; k <= RK_FULL; k++)
		patset_free(&rs->kinds[k]);
	for (size_t i = 0; i < rs->nhgroups; i++)
		patset_free(&rs->hgroups[i].ps);
	scope_free(&rs->global);
	for (size_t i = 0; i < rs->nscopes; i++)
		scope_free(rs->scopes[i]);
	pat_scratch_proto_free(rs->hs_proto);
	hsv_close(rs->verdicts);
	free(rs->cache_dir);
	sym_free(&rs->syms);
	sym_free(&rs->defs);
	sym_free(&rs->scopetab);
	arena_release(&rs->a);
	free(rs);
}

int rules_set_cache_dir(ruleset *rs, const char *dir)
{
	char *copy = NULL;

	if (dir && *dir && !(copy = strdup(dir)))
		return SS_ENOMEM;
	free(rs->cache_dir);
	rs->cache_dir = copy;
	return 0;
}

static int cerr(rules_error *err, const rule *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cerr(rules_error *err, const rule *r, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (r)
		snprintf(err->msg, sizeof(err->msg), "%s:%u: %s", r->file, r->line, why);
	else
		snprintf(err->msg, sizeof(err->msg), "rules: %s", why);
	return SS_ESYNTAX;
}

/* ---- metas ---- */

/* Resolves the names of meta r to symbol ids. */
static int meta_resolve(ruleset *rs, rule *r, rules_error *err)
{
	for (size_t i = 0; i < r->expr.n; i++) {
		meta_term *t = &r->expr.t[i];
		if (t->op != MOP_SYM)
			continue;
		if ((t->val = sym_find(&rs->syms, t->name)) < 0)
			return cerr(err, r, "meta %s: unknown symbol %s", r->name, t->name);
	}
	return 0;
}

typedef struct topo {
	ruleset *rs;
	uint8_t *mark; /* by rule: 0 new, 1 on the path, 2 done */
	rules_error *err;
} topo;

/* Depth-first: the metas r uses come before r in meta_order. */
static int meta_visit(topo *t, size_t ri, unsigned level)
{
	ruleset *rs = t->rs;
	rule *r = &rs->rules[ri];
	unsigned depth = 1; /* a meta of plain rules */

	if (t->mark[ri] == 2)
		return 0;
	if (t->mark[ri] == 1)
		return cerr(t->err, r, "meta %s: is part of a cycle of metas", r->name);
	if (level >= RULES_MAX_META_DEPTH)
		return cerr(t->err, r, "meta %s: metas nested more than %d deep", r->name,
		            RULES_MAX_META_DEPTH);
	t->mark[ri] = 1;
	for (size_t i = 0; i < r->expr.n; i++) {
		const meta_term *mt = &r->expr.t[i];
		int dep = mt->op == MOP_SYM ? sym_find(&rs->defs, mt->name) : -1;
		if (dep < 0 || rs->rules[dep].kind != RK_META)
			continue;
		if (meta_visit(t, (size_t)dep, level + 1))
			return SS_ESYNTAX;
		if (rs->rules[dep].depth + 1 > depth)
			depth = rs->rules[dep].depth + 1;
	}
	if ((r->depth = depth) > RULES_MAX_META_DEPTH)
		return cerr(t->err, r, "meta %s: metas nested more than %d deep", r->name,
		            RULES_MAX_META_DEPTH);
	t->mark[ri] = 2;
	rs->meta_order[rs->nmeta++] = (unsigned)ri;
	return 0;
}

static int metas_compile(ruleset *rs, rules_error *err)
{
	topo t = {rs, arena_calloc(&rs->a, rs->nrules + 1, 1), err};

	rs->meta_order = arena_calloc(&rs->a, rs->nrules + 1, sizeof(unsigned));
	if (!t.mark || !rs->meta_order)
		return SS_ENOMEM;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].kind == RK_META && meta_resolve(rs, &rs->rules[i], err))
			return SS_ESYNTAX;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].kind == RK_META && meta_visit(&t, i, 0))
			return SS_ESYNTAX;
	return 0;
}

/* ---- patterns ---- */

static int patset_build(ruleset *rs, patset *ps, rules_error *err)
{
	char why[300];
	size_t bad;
	int e;

	if (!ps->n)
		return 0;
	if ((e = patset_compile(ps, rs->cache_dir, &bad, why, sizeof(why)))) {
		if (e == SS_ENOMEM)
			return e;
		return cerr(err, bad < ps->n ? &rs->rules[ps->v[bad].rule] : NULL, "%s", why);
	}
	return pat_scratch_proto(&rs->hs_proto, ps);
}

static int patterns_compile(ruleset *rs, rules_error *err)
{
	int e = 0;

	for (int k = RK_BODY; !e && k <= RK_FULL; k++)
		e = patset_build(rs, &rs->kinds[k], err);
	for (size_t i = 0; !e && i < rs->nhgroups; i++)
		e = patset_build(rs, &rs->hgroups[i].ps, err);
	if (e == SS_ENOMEM)
		snprintf(err->msg, sizeof(err->msg), "rules: out of memory");
	/* Count what runs on PCRE2, for `spamsift rules check` and tests. */
	rs->npcre = 0;
	for (int k = RK_BODY; k <= RK_FULL; k++)
		rs->npcre += rs->kinds[k].n - rs->kinds[k].nexact;
	for (size_t i = 0; i < rs->nhgroups; i++)
		rs->npcre += rs->hgroups[i].ps.n - rs->hgroups[i].ps.nexact;
	return e;
}

/* ---- scores, descriptions, checks ---- */

static int index_symbols(ruleset *rs)
{
	size_t n = rs->syms.n;

	rs->score = arena_calloc(&rs->a, n + 1, sizeof(double));
	rs->has_score = arena_calloc(&rs->a, n + 1, 1);
	rs->describe = arena_calloc(&rs->a, n + 1, sizeof(char *));
	if (!rs->score || !rs->has_score || !rs->describe)
		return SS_ENOMEM;
	for (size_t i = 0; i < rs->global.nscores; i++) {
		rs->score[rs->global.scores[i].sym] = rs->global.scores[i].value;
		rs->has_score[rs->global.scores[i].sym] = 1;
	}
	for (size_t i = 0; i < rs->ndesc; i++) /* a later line wins */
		rs->describe[rs->descs[i].sym] = rs->descs[i].text;
	return 0;
}

static int checks_layout(ruleset *rs)
{
	ss_checks_config *c = &rs->checks;

	if (rs->ndnslists &&
	    !(rs->dl_out = arena_calloc(&rs->a, rs->ndnslists, sizeof(*rs->dl_out))))
		return SS_ENOMEM;
	for (size_t i = 0; i < rs->ndnslists; i++) {
		rs->dl_out[i] = rs->dnslists[i].l;
		rs->dl_out[i].codes = rs->dnslists[i].codes;
	}
	c->dnslists = rs->dl_out;
	c->ndnslists = rs->ndnslists;
	c->brands = rs->brands;
	c->nbrands = rs->nbrands;
	c->shorteners = rs->shorteners;
	c->nshorteners = rs->nshorteners;
	return 0;
}

static int scopes_compile(ruleset *rs, rules_error *err)
{
	char why[200];

	if (scope_compile(rs, &rs->global, why, sizeof(why)))
		return cerr(err, NULL, "%s", why);
	for (size_t i = 0; i < rs->nscopes; i++)
		if (scope_compile(rs, rs->scopes[i], why, sizeof(why)))
			return cerr(err, NULL, "%s %s: %s",
			            rs->scopes[i]->is_user ? "user" : "domain", rs->scopes[i]->key,
			            why);
	return 0;
}

int rules_compile(ruleset *rs, rules_error *err)
{
	int e;

	err->msg[0] = 0;
	if (rs->compiled)
		return 0;
	hsv_close(rs->verdicts); /* parsing is over */
	rs->verdicts = NULL;
	if ((e = metas_compile(rs, err)) || (e = patterns_compile(rs, err)) ||
	    (e = scopes_compile(rs, err)))
		goto out;
	if ((e = index_symbols(rs)) || (e = checks_layout(rs)))
		goto out;
	rs->compiled = 1;
out:
	if (e == SS_ENOMEM && !err->msg[0])
		snprintf(err->msg, sizeof(err->msg), "rules: out of memory");
	return e;
}

size_t rules_count(const ruleset *rs)
{
	return rs ? rs->nrules : 0;
}

size_t rules_count_pcre(const ruleset *rs)
{
	return rs ? rs->npcre : 0;
}

const ss_checks_config *rules_checks(const ruleset *rs)
{
	static const ss_checks_config none;

	return rs && rs->compiled ? &rs->checks : &none;
}

int rules_scratch_new(const ruleset *rs, rules_scratch **out)
{
	rules_scratch *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return SS_ENOMEM;
	if ((err = pat_scratch_init(&s->p, rs->hs_proto))) {
		rules_scratch_free(s);
		return err;
	}
	*out = s;
	return 0;
}

void rules_scratch_free(rules_scratch *s)
{
	if (!s)
		return;
	pat_scratch_release(&s->p);
	free(s);
}
