/*
 * scan.c: runs a compiled rule set on one parsed message: each header
 * target, the decoded body, the raw body, the whole message and each URL
 * are scanned once with their kind's database; then facts, the allow and
 * deny lists, and the metas in dependency order. Everything a scan
 * allocates is in the hit list's arena (the message's).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "rules/internal.h"
#include "util/buf.h"

typedef struct scan {
	const ruleset *rs;
	rules_scratch *s;
	const rules_input *in;
	const rules_scope *sc;
	ss_hits *hits;
	ss_arena *a;
	uint8_t *matched;   /* by rule: its pattern matched */
	uint8_t *state;     /* by symbol: fired */
	const char *detail; /* what is being scanned, for uri rules */
	int err;
} scan;

static int hidden(const char *name)
{
	return name[0] == '_' && name[1] == '_';
}

static void fire(scan *st, const rule *r, const char *detail)
{
	st->state[r->sym] = 1;
	if (!hidden(r->name) && hits_add(st->hits, r->name, detail))
		st->err = SS_ENOMEM;
}

static void on_match(void *ctx, unsigned ri)
{
	scan *st = ctx;
	const rule *r = &st->rs->rules[ri];

	st->matched[ri] = 1;
	if (r->kind == RK_URI)
		fire(st, r, st->detail);
}

static int run(scan *st, const patset *ps, const char *text, size_t len)
{
	if (!ps->n)
		return 0;
	if (patset_scan(ps, &st->s->p, text, len, on_match, st))
		st->err = SS_ENOMEM;
	return st->err;
}

/* ---- header targets ---- */

static const ss_header *top_headers(const ss_message *m, size_t *n)
{
	*n = m->nparts ? m->parts[0].header_count : 0;
	return m->nparts ? m->headers + m->parts[0].header_first : NULL;
}

/* The display name of a decoded address field ("Ann" of "Ann <a@b>"). */
static void display_name(const ss_header *h, sbuf *b)
{
	const char *v = h->value.p, *lt = memchr(v, '<', h->value.len);
	size_t n = lt ? (size_t)(lt - v) : 0;

	while (n && (v[n - 1] == ' ' || v[n - 1] == '"'))
		n--;
	while (n && (*v == ' ' || *v == '"'))
		v++, n--;
	sbuf_add(b, v, n);
}

static void header_addrs(const ss_message *m, const char *name, sbuf *b)
{
	for (size_t i = 0; i < m->naddrs; i++) {
		const ss_addr *ad = &m->addrs[i];
		if (ad->part != -1 || strcasecmp(ad->where.p, name))
			continue;
		if (b->len)
			sbuf_addc(b, '\n');
		sbuf_add(b, ad->addr.p, ad->addr.len);
	}
}

/* The text a header group looks at: every field of that name, joined by
 * '\n' (empty when there is none), or the whole header block for ALL. */
static int group_text(const ss_message *m, const hgroup *g, sbuf *b)
{
	size_t n;
	const ss_header *h = top_headers(m, &n);

	if (g->mod == HM_ADDR) {
		header_addrs(m, g->name, b);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (g->mod == HM_ALL) {
			sbuf_add(b, h[i].name.p, h[i].name.len);
			sbuf_add(b, ": ", 2);
			sbuf_add(b, h[i].value.p, h[i].value.len);
			sbuf_addc(b, '\n');
			continue;
		}
		if (h[i].name.len != g->nlen || strncasecmp(h[i].name.p, g->name, g->nlen))
			continue;
		if (b->len)
			sbuf_addc(b, '\n');
		if (g->mod == HM_RAW)
			sbuf_add(b, h[i].raw.p, h[i].raw.len);
		else if (g->mod == HM_NAME)
			display_name(&h[i], b);
		else
			sbuf_add(b, h[i].value.p, h[i].value.len);
	}
	return 0;
}

static int run_headers(scan *st)
{
	sbuf b = SBUF_INIT;

	for (size_t i = 0; !st->err && i < st->rs->nhgroups; i++) {
		const hgroup *g = &st->rs->hgroups[i];
		b.len = 0;
		group_text(st->in->m, g, &b);
		run(st, &g->ps, b.p ? b.p : "", b.len);
	}
	sbuf_release(&b);
	return st->err;
}

/* ---- bodies and URLs ---- */

static int run_body(scan *st)
{
	const ss_message *m = st->in->m;
	size_t len = 0, at = 0;
	char *t;

	if (!st->rs->kinds[RK_BODY].n)
		return 0;
	for (size_t i = 0; i < m->nparts; i++)
		if (m->parts[i].text.len)
			len += m->parts[i].text.len + 1;
	if (!(t = arena_alloc(st->a, len + 1)))
		return st->err = SS_ENOMEM;
	for (size_t i = 0; i < m->nparts; i++) {
		const ss_str *s = &m->parts[i].text;
		if (!s->len)
			continue;
		memcpy(t + at, s->p, s->len);
		at += s->len;
		t[at++] = '\n';
	}
	t[at] = 0;
	return run(st, &st->rs->kinds[RK_BODY], t, at);
}

/* Where the body starts in the raw bytes: after the first empty line
 * (which is the first line when there is no header). */
static size_t body_offset(const char *p, size_t len)
{
	const char *nl;

	if (len && p[0] == '\n')
		return 1;
	if (len > 1 && p[0] == '\r' && p[1] == '\n')
		return 2;
	/* Each '\n' before the last byte: one there ends no header. */
	nl = len ? memchr(p, '\n', len - 1) : NULL;
	for (; nl; nl = memchr(nl + 1, '\n', (size_t)(p + len - 1 - (nl + 1)))) {
		size_t i = (size_t)(nl - p);
		if (p[i + 1] == '\n')
			return i + 2;
		if (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

static int run_raw(scan *st)
{
	const char *raw = st->in->raw ? st->in->raw : "";
	size_t len = st->in->raw ? st->in->rawlen : 0, off = body_offset(raw, len);

	if (run(st, &st->rs->kinds[RK_FULL], raw, len))
		return st->err;
	return run(st, &st->rs->kinds[RK_RAWBODY], raw + off, len - off);
}

static int run_uris(scan *st)
{
	const ss_message *m = st->in->m;

	for (size_t i = 0; !st->err && st->rs->kinds[RK_URI].n && i < m->nurls; i++) {
		st->detail = m->urls[i].url.p;
		run(st, &st->rs->kinds[RK_URI], m->urls[i].url.p, m->urls[i].url.len);
	}
	st->detail = NULL;
	return st->err;
}

/* ---- what fired ---- */

static int header_present(const ss_message *m, const char *name)
{
	size_t n;
	const ss_header *h = top_headers(m, &n);

	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(h[i].name.p, name))
			return 1;
	return 0;
}

static const char *fact_detail(const ss_message *m, const char *name)
{
	for (size_t i = 0; i < m->nfacts; i++)
		if (!strcmp(m->facts[i].name.p, name))
			return m->facts[i].detail.len ? m->facts[i].detail.p : NULL;
	return NULL;
}

/* Pattern, existence and fact rules: fired or not. */
static void settle(scan *st)
{
	const ss_message *m = st->in->m;

	for (size_t i = 0; !st->err && i < st->rs->nrules; i++) {
		const rule *r = &st->rs->rules[i];
		int on = st->matched[i];
		if (r->kind == RK_META || r->kind == RK_URI)
			continue;
		if (r->kind == RK_HEADER && r->exists)
			on = header_present(m, r->arg);
		else if (r->kind == RK_FACT)
			on = ss_message_has_fact(m, r->arg);
		if (r->kind == RK_HEADER && r->negate)
			on = !on;
		if (on)
			fire(st, r, r->kind == RK_FACT ? fact_detail(m, r->arg) : NULL);
	}
}

static void run_metas(scan *st)
{
	const ss_hits *h = st->hits;

	for (size_t i = 0; i < h->n; i++) { /* what the checks and lists found */
		int id = sym_find(&st->rs->syms, h->v[i].name);
		if (id >= 0)
			st->state[id] = 1;
	}
	for (size_t i = 0; !st->err && i < st->rs->nmeta; i++) {
		const rule *r = &st->rs->rules[st->rs->meta_order[i]];
		if (meta_eval(&r->expr, st->state))
			fire(st, r, NULL);
	}
}

int rules_run(const ruleset *rs, rules_scratch *s, const rules_input *in, const rules_scope *sc,
              ss_hits *hits)
{
	scan st = {rs, s, in, sc, hits, hits->a, NULL, NULL, NULL, 0};

	if (!rs || !rs->compiled || !in->m)
		return 0;
	st.matched = arena_calloc(st.a, rs->nrules + 1, 1);
	st.state = arena_calloc(st.a, rs->syms.n + 1, 1);
	if (!st.matched || !st.state)
		return SS_ENOMEM;
	if (run_headers(&st) || run_body(&st) || run_raw(&st) || run_uris(&st))
		return st.err;
	settle(&st);
	if (!st.err && (st.err = rules_lists(rs, in, sc, hits)))
		return st.err;
	run_metas(&st);
	return st.err;
}
