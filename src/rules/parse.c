/*
 * parse.c: the rule-file parser (docs/RULES.md has the format). I/O-free:
 * a buffer and the name to use in messages in; rules, scores, lists,
 * blocks and the built-in checks' settings into the rule set. Every error
 * stops the file with "FILE:LINE: reason".
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

#define MAX_NAME 64    /* bytes of a symbol name */
#define MAX_SCORE 1000 /* |points| of one score line */

/* One line being parsed: its directive and the rest, and where it is. */
typedef struct pline {
	ruleset *rs;
	const char *file;
	unsigned line;
	const char *arg; /* after the directive, trimmed, NUL-terminated */
	rules_error *err;
} pline;

static int perr(const pline *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(const pline *l, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(l->err->msg, sizeof(l->err->msg), "%s:%u: %s", l->file, l->line, why);
	return SS_ESYNTAX;
}

static int oom(const pline *l)
{
	perr(l, "out of memory");
	return SS_ENOMEM;
}

/* Splits the next word off *s (blanks separate); returns its length. */
static size_t word(const char **s, const char **w)
{
	const char *p = *s;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	*w = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	n = (size_t)(p - *w);
	while (*p == ' ' || *p == '\t')
		p++;
	*s = p;
	return n;
}

static int valid_name(const char *s, size_t n)
{
	if (!n || n > MAX_NAME || isdigit((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isupper((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

/* Reads a symbol name off the argument; adds it to the symbol table. */
static int take_name(pline *l, const char **rest, const char **name, int *sym)
{
	const char *w;
	size_t n = word(rest, &w);

	if (!valid_name(w, n))
		return perr(l, "'%.*s' is not a symbol name (A-Z, 0-9 and _, at most %d)",
		            (int)(n > 70 ? 70 : n), w, MAX_NAME);
	if ((*sym = sym_id(&l->rs->syms, &l->rs->a, w, n, 1)) < 0)
		return oom(l);
	*name = l->rs->syms.names[*sym];
	return 0;
}

static int valid_domain(const char *s, size_t n)
{
	if (!n || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_'))
			return 0;
	return 1;
}

static char *lower_dup(ss_arena *a, const char *s, size_t n)
{
	char *d = arena_strndup(a, s, n);

	for (size_t i = 0; d && i < n; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

/* ---- rules ---- */

/* Adds a rule named `name`: refuses a second rule of that name. */
static int new_rule(pline *l, const char *name, int sym, int kind, rule **out)
{
	ruleset *rs = l->rs;
	int id;

	if (sym_find(&rs->defs, name) >= 0) {
		rule *prev = &rs->rules[sym_find(&rs->defs, name)];
		return perr(l, "rule %s defined twice (first at %s:%u)", name, prev->file,
		            prev->line);
	}
	if (rs->nrules >= RULES_MAX_RULES)
		return perr(l, "more than %d rules", RULES_MAX_RULES);
	if (arena_grow(&rs->a, (void **)&rs->rules, &rs->caprules, rs->nrules, sizeof(rule)))
		return oom(l);
	if ((id = sym_id(&rs->defs, &rs->a, name, strlen(name), 1)) < 0)
		return oom(l);
	*out = &rs->rules[rs->nrules++];
	memset(*out, 0, sizeof(**out));
	**out = (rule){.name = name, .file = l->file, .line = l->line, .kind = kind, .sym = sym};
	return 0;
}

/* Adds pattern /re/flags of rule r to ps (checked at once). */
static int add_pattern(pline *l, patset *ps, const char *s, unsigned r)
{
	char why[400];
	pattern p = {0};
	int err;

	if ((err = pat_parse(&l->rs->a, s, strlen(s), &p.re, &p.flags, why, sizeof(why))))
		return err == SS_ENOMEM ? oom(l) : perr(l, "%s", why);
	p.rule = r;
	if (!l->rs->verdicts && l->rs->cache_dir)
		l->rs->verdicts = hsv_open(l->rs->cache_dir);
	if ((err = pat_check(&p, ps->utf8, l->rs->verdicts, why, sizeof(why))))
		return perr(l, "%s", why);
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		pattern *v = realloc(ps->v, cap * sizeof(*v));
		if (!v) {
			pat_free_pcre(&p);
			return oom(l);
		}
		ps->v = v;
		ps->cap = cap;
	}
	ps->v[ps->n++] = p;
	l->rs->npcre += p.pcre != NULL;
	return 0;
}

/* body, rawbody, uri, full NAME /re/flags */
static int d_pattern(pline *l, int kind)
{
	const char *rest = l->arg, *name;
	rule *r;
	int sym, err;

	if ((err = take_name(l, &rest, &name, &sym)) || (err = new_rule(l, name, sym, kind, &r)))
		return err;
	return add_pattern(l, &l->rs->kinds[kind], rest, (unsigned)(r - l->rs->rules));
}

/* The header group of (name, mod), made when new. */
static int hgroup_of(pline *l, const char *name, size_t n, int mod, int *out)
{
	ruleset *rs = l->rs;
	hgroup *g;

	for (size_t i = 0; i < rs->nhgroups; i++)
		if (rs->hgroups[i].mod == mod && !strncasecmp(rs->hgroups[i].name, name, n) &&
		    !rs->hgroups[i].name[n])
			return *out = (int)i, 0;
	if (arena_grow(&rs->a, (void **)&rs->hgroups, &rs->caphgroups, rs->nhgroups,
	               sizeof(hgroup)))
		return oom(l);
	g = &rs->hgroups[rs->nhgroups];
	memset(g, 0, sizeof(*g));
	if (!(g->name = arena_strndup(&rs->a, name, n)))
		return oom(l);
	g->nlen = n;
	g->mod = mod;
	g->ps.utf8 = mod != HM_RAW;
	*out = (int)rs->nhgroups++;
	return 0;
}

static int valid_header(const char *s, size_t n)
{
	if (!n || n > 200)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 127 || s[i] == ':')
			return 0;
	return 1;
}

/* "Name", "Name:raw", "Name:addr", "Name:name" or "ALL" into a group. */
static int header_target(pline *l, const char *t, size_t n, int *group, const char **hname)
{
	static const char *const mods[] = {"", ":raw", ":addr", ":name"};
	const char *colon = memchr(t, ':', n);
	size_t hn = colon ? (size_t)(colon - t) : n;
	int mod = -1;

	for (int i = 0; i < 4; i++)
		if (strlen(mods[i]) == n - hn && !strncmp(t + hn, mods[i], n - hn))
			mod = i;
	if (mod < 0)
		return perr(l, "unknown header modifier '%.*s' (:raw, :addr or :name)",
		            (int)(n - hn > 20 ? 20 : n - hn), t + hn);
	if (!valid_header(t, hn))
		return perr(l, "'%.*s' is not a header field name", (int)(hn > 60 ? 60 : hn), t);
	if (hn == 3 && !strncmp(t, "ALL", 3))
		mod = HM_ALL;
	if (!(*hname = arena_strndup(&l->rs->a, t, hn)))
		return oom(l);
	return hgroup_of(l, t, hn, mod, group);
}

/* header NAME exists:X | !exists:X | TARGET =~ /re/ | TARGET !~ /re/ */
static int d_header(pline *l)
{
	const char *rest = l->arg, *name, *t, *op;
	size_t n, on;
	rule *r;
	int sym, err, neg;

	if ((err = take_name(l, &rest, &name, &sym)) ||
	    (err = new_rule(l, name, sym, RK_HEADER, &r)))
		return err;
	n = word(&rest, &t);
	neg = n && t[0] == '!';
	if (n > 7 + (size_t)neg && !strncmp(t + neg, "exists:", 7)) {
		if (*rest || !valid_header(t + neg + 7, n - neg - 7))
			return perr(l, "expected exists:Header-Name");
		r->exists = 1;
		r->negate = neg;
		r->arg = arena_strndup(&l->rs->a, t + neg + 7, n - neg - 7);
		return r->arg ? 0 : oom(l);
	}
	on = word(&rest, &op);
	if (on != 2 || (strncmp(op, "=~", 2) && strncmp(op, "!~", 2)))
		return perr(l, "expected 'Header =~ /regex/', 'Header !~ /regex/' or "
		               "exists:Header");
	r->negate = op[0] == '!';
	if ((err = header_target(l, t, n, &r->group, &r->arg)))
		return err;
	return add_pattern(l, &l->rs->hgroups[r->group].ps, rest, (unsigned)(r - l->rs->rules));
}

/* fact NAME parser_fact */
static int d_fact(pline *l)
{
	const char *rest = l->arg, *name, *f;
	size_t n;
	rule *r;
	int sym, err;

	if ((err = take_name(l, &rest, &name, &sym)))
		return err;
	n = word(&rest, &f);
	if (!n || *rest)
		return perr(l, "expected 'fact NAME parser_fact' (e.g. html_hidden_text)");
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)f[i]) || isdigit((unsigned char)f[i]) || f[i] == '_'))
			return perr(l, "'%.*s' is not a fact name", (int)(n > 60 ? 60 : n), f);
	if ((err = new_rule(l, name, sym, RK_FACT, &r)))
		return err;
	r->arg = arena_strndup(&l->rs->a, f, n);
	return r->arg ? 0 : oom(l);
}

/* meta NAME expression */
static int d_meta(pline *l)
{
	const char *rest = l->arg, *name;
	char why[300];
	rule *r;
	int sym, err;

	if ((err = take_name(l, &rest, &name, &sym)) || (err = new_rule(l, name, sym, RK_META, &r)))
		return err;
	if (!*rest)
		return perr(l, "meta %s: empty expression", name);
	err = meta_parse(&l->rs->a, rest, strlen(rest), &r->expr, why, sizeof(why));
	return err == SS_ENOMEM ? oom(l) : err ? perr(l, "%s", why) : 0;
}

/* ---- scores, descriptions, thresholds ---- */

static int number(pline *l, const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || end == s || *end || !isfinite(*out) || fabs(*out) > MAX_SCORE)
		return perr(l, "bad score '%.40s' (a number from -%d to %d)", s, MAX_SCORE,
		            MAX_SCORE);
	return 0;
}

static scope *cur_scope(pline *l)
{
	return l->rs->open ? l->rs->open : &l->rs->global;
}

/* score NAME POINTS */
static int d_score(pline *l)
{
	const char *rest = l->arg, *name;
	scope *s = cur_scope(l);
	double v;
	int sym, err;

	if ((err = take_name(l, &rest, &name, &sym)) || (err = number(l, rest, &v)))
		return err;
	for (size_t i = 0; i < s->nscores; i++)
		if (s->scores[i].sym == sym)
			return s->scores[i].value = v, 0; /* a later line wins */
	if (arena_grow(&l->rs->a, (void **)&s->scores, &s->cap, s->nscores, sizeof(score_line)))
		return oom(l);
	s->scores[s->nscores++] = (score_line){name, sym, v};
	return 0;
}

/* describe NAME text */
static int d_describe(pline *l)
{
	ruleset *rs = l->rs;
	const char *rest = l->arg, *name, *text;
	int sym, err;

	if ((err = take_name(l, &rest, &name, &sym)))
		return err;
	if (!*rest)
		return perr(l, "describe %s: no text", name);
	if (!(text = arena_strndup(&rs->a, rest, strlen(rest))) ||
	    arena_grow(&rs->a, (void **)&rs->descs, &rs->capdesc, rs->ndesc, sizeof(desc_pair)))
		return oom(l);
	rs->descs[rs->ndesc++] = (desc_pair){name, sym, text};
	return 0;
}

/* add_header_at / reject_at POINTS, in a block */
static int d_threshold(pline *l, int reject)
{
	double v;

	if (!l->rs->open)
		return perr(l,
		            "%s only in a user or domain block (the global thresholds are "
		            "spamsiftd's settings)",
		            reject ? "reject_at" : "add_header_at");
	if (number(l, l->arg, &v))
		return SS_ESYNTAX;
	if (reject) {
		l->rs->open->has_reject = 1;
		l->rs->open->reject_at = v;
	} else {
		l->rs->open->has_add = 1;
		l->rs->open->add_header_at = v;
	}
	return 0;
}

/* ---- lists ---- */

static int list_push(pline *l, scope *s, int which, const char *v)
{
	if (arena_grow(&l->rs->a, (void **)&s->lists[which], &s->caplist[which], s->nlist[which],
	               sizeof(char *)))
		return oom(l);
	s->lists[which][s->nlist[which]++] = v;
	return 0;
}

/* allow_from / deny_from ADDRESS|*@DOMAIN... */
static int d_from(pline *l, int which)
{
	const char *rest = l->arg, *w, *at;
	size_t n;
	char *v;

	if (!*rest)
		return perr(l, "expected addresses or *@domain");
	while ((n = word(&rest, &w))) {
		at = memchr(w, '@', n);
		if (!at || at == w || !valid_domain(at + 1, n - (size_t)(at + 1 - w)) ||
		    memchr(w, '<', n))
			return perr(l, "'%.*s' is not an address or *@domain",
			            (int)(n > 80 ? 80 : n), w);
		if (!(v = lower_dup(&l->rs->a, w, n)) || list_push(l, cur_scope(l), which, v))
			return oom(l);
	}
	return 0;
}

/* allow_domain / deny_domain DOMAIN... */
static int d_domain_list(pline *l, int which)
{
	const char *rest = l->arg, *w;
	size_t n;
	char *v;

	if (!*rest)
		return perr(l, "expected domains");
	while ((n = word(&rest, &w))) {
		if (!valid_domain(w, n))
			return perr(l, "'%.*s' is not a domain", (int)(n > 80 ? 80 : n), w);
		if (!(v = lower_dup(&l->rs->a, w, n)) || list_push(l, cur_scope(l), which, v))
			return oom(l);
	}
	return 0;
}

/* allow_ip / deny_ip NETWORKS (CIDR, v4 or v6) */
static int d_ip(pline *l, int deny)
{
	scope *s = cur_scope(l);
	ss_netset *ns = NULL;
	size_t pos = 0, old = s->ipspec[deny] ? strlen(s->ipspec[deny]) : 0;
	int err = ss_netset_parse(l->arg, &ns, &pos);
	char *spec;

	ss_netset_free(ns);
	if (err == SS_ENOMEM)
		return oom(l);
	if (err || !*l->arg)
		return perr(l, "bad network '%.40s'", l->arg + pos);
	if (!(spec = realloc(s->ipspec[deny], old + strlen(l->arg) + 2)))
		return oom(l);
	s->ipspec[deny] = spec;
	spec[old] = old ? ' ' : 0;
	strcpy(spec + old + (old ? 1 : 0), l->arg);
	return 0;
}

/* ---- blocks ---- */

/* user ADDRESS / domain DOMAIN: opens a block, closed by `end`. */
static int d_block(pline *l, int is_user)
{
	const char *rest = l->arg, *w;
	size_t n = word(&rest, &w);
	char *key;
	int err;
	const char *at = n ? memchr(w, '@', n) : NULL;
	size_t dn = at ? n - (size_t)(at + 1 - w) : n;

	if (l->rs->open)
		return perr(l, "blocks do not nest (the block of line %u has no 'end')",
		            l->rs->open_line);
	if (!n || *rest || (is_user && at && !valid_domain(at + 1, dn)) ||
	    (!is_user && !valid_domain(w, n)))
		return perr(l, "expected '%s'", is_user ? "user NAME|ADDRESS" : "domain DOMAIN");
	if (!(key = lower_dup(&l->rs->a, w, n)))
		return oom(l);
	if ((err = scope_add(l->rs, is_user, key, n, &l->rs->open)))
		return err == SS_ENOMEM ? oom(l) : perr(l, "more than %d blocks", RULES_MAX_SCOPES);
	l->rs->open_line = l->line;
	return 0;
}

static int d_end(pline *l)
{
	if (!l->rs->open)
		return perr(l, "'end' without a user or domain block");
	if (*l->arg)
		return perr(l, "'end' takes nothing");
	l->rs->open = NULL;
	return 0;
}

/* ---- the built-in checks' settings ---- */

static dnslist_b *find_list(ruleset *rs, const char *sym)
{
	for (size_t i = 0; i < rs->ndnslists; i++)
		if (!strcmp(rs->dnslists[i].l.symbol, sym))
			return &rs->dnslists[i];
	return NULL;
}

/* dnsbl / uribl SYMBOL ZONE */
static int d_dnslist(pline *l, int kind)
{
	ruleset *rs = l->rs;
	const char *rest = l->arg, *name, *z;
	size_t n;
	dnslist_b *d;
	int sym, err;

	if ((err = take_name(l, &rest, &name, &sym)))
		return err;
	n = word(&rest, &z);
	if (!valid_domain(z, n) || *rest)
		return perr(l, "expected '%s SYMBOL ZONE'", kind ? "uribl" : "dnsbl");
	if (find_list(rs, name))
		return perr(l, "DNS list %s defined twice", name);
	if (arena_grow(&rs->a, (void **)&rs->dnslists, &rs->capdnslists, rs->ndnslists,
	               sizeof(dnslist_b)))
		return oom(l);
	d = &rs->dnslists[rs->ndnslists++];
	memset(d, 0, sizeof(*d));
	d->l.symbol = name;
	d->l.kind = kind;
	d->l.zone = lower_dup(&rs->a, z, n);
	return d->l.zone ? 0 : oom(l);
}

/* "127.0.0.2", "127.0.0.0/30" or "&4" into a code. */
static int parse_code(const char *s, size_t n, ss_dnslist_code *c)
{
	char tmp[40], *slash, *end;
	struct in_addr in;
	unsigned long v;

	if (!n || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	if (tmp[0] == '&') {
		errno = 0;
		v = strtoul(tmp + 1, &end, 0);
		if (errno || end == tmp + 1 || *end || !v || v > 0xffffffffu)
			return -1;
		*c = (ss_dnslist_code){(uint32_t)v, 0, 1, NULL};
		return 0;
	}
	v = 32;
	if ((slash = strchr(tmp, '/'))) {
		*slash = 0;
		v = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || v > 32)
			return -1;
	}
	if (inet_pton(AF_INET, tmp, &in) != 1)
		return -1;
	c->mask = v ? 0xffffffffu << (32 - v) : 0;
	c->value = ntohl(in.s_addr) & c->mask;
	c->bits = 0;
	return 0;
}

/* dnslist_code LIST CODE SYMBOL */
static int d_code(pline *l)
{
	ruleset *rs = l->rs;
	const char *rest = l->arg, *list, *code, *name;
	size_t n, cn;
	dnslist_b *d;
	ss_dnslist_code c;
	int sym, err;
	char lname[MAX_NAME + 1];

	n = word(&rest, &list);
	if (!valid_name(list, n))
		return perr(l, "expected 'dnslist_code LIST CODE SYMBOL'");
	memcpy(lname, list, n);
	lname[n] = 0;
	if (!(d = find_list(rs, lname)))
		return perr(l, "no dnsbl or uribl named %s before this line", lname);
	cn = word(&rest, &code);
	if (parse_code(code, cn, &c))
		return perr(l, "bad answer code '%.*s' (127.0.0.2, 127.0.0.0/30 or &4)",
		            (int)(cn > 40 ? 40 : cn), code);
	if ((err = take_name(l, &rest, &name, &sym)))
		return err;
	if (*rest)
		return perr(l, "expected 'dnslist_code LIST CODE SYMBOL'");
	if (arena_grow(&rs->a, (void **)&d->codes, &d->cap, d->l.ncodes, sizeof(c)))
		return oom(l);
	c.symbol = name;
	d->codes[d->l.ncodes++] = c;
	return 0;
}

/* brand DOMAIN... / shortener HOST... */
static int d_hosts(pline *l, const char ***v, size_t *n, size_t *cap)
{
	const char *rest = l->arg, *w;
	size_t wn;
	char *d;

	if (!*rest)
		return perr(l, "expected host names");
	while ((wn = word(&rest, &w))) {
		if (!valid_domain(w, wn))
			return perr(l, "'%.*s' is not a host name", (int)(wn > 80 ? 80 : wn), w);
		if (!(d = lower_dup(&l->rs->a, w, wn)) ||
		    arena_grow(&l->rs->a, (void **)v, cap, *n, sizeof(char *)))
			return oom(l);
		(*v)[(*n)++] = d;
	}
	return 0;
}

/* ---- lines ---- */

enum { IN_BLOCK = 1 };

static int directive(pline *l, const char *d, size_t n)
{
	ruleset *rs = l->rs;
	static const struct {
		const char *name;
		int flags;
	} table[] = {
	    {"header", 0},
	    {"body", 0},
	    {"rawbody", 0},
	    {"uri", 0},
	    {"full", 0},
	    {"fact", 0},
	    {"meta", 0},
	    {"score", IN_BLOCK},
	    {"describe", 0},
	    {"allow_from", IN_BLOCK},
	    {"deny_from", IN_BLOCK},
	    {"allow_domain", IN_BLOCK},
	    {"deny_domain", IN_BLOCK},
	    {"allow_ip", IN_BLOCK},
	    {"deny_ip", IN_BLOCK},
	    {"add_header_at", IN_BLOCK},
	    {"reject_at", IN_BLOCK},
	    {"user", IN_BLOCK},
	    {"domain", IN_BLOCK},
	    {"end", IN_BLOCK},
	    {"dnsbl", 0},
	    {"uribl", 0},
	    {"dnslist_code", 0},
	    {"brand", 0},
	    {"shortener", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strlen(table[i].name) == n && !strncmp(table[i].name, d, n))
			break;
	if (i == sizeof(table) / sizeof(table[0]))
		return perr(l, "unknown directive '%.*s'", (int)(n > 40 ? 40 : n), d);
	if (rs->open && !(table[i].flags & IN_BLOCK))
		return perr(l, "'%s' is not allowed in a user or domain block", table[i].name);
	switch (i) {
	case 0:
		return d_header(l);
	case 1:
		return d_pattern(l, RK_BODY);
	case 2:
		return d_pattern(l, RK_RAWBODY);
	case 3:
		return d_pattern(l, RK_URI);
	case 4:
		return d_pattern(l, RK_FULL);
	case 5:
		return d_fact(l);
	case 6:
		return d_meta(l);
	case 7:
		return d_score(l);
	case 8:
		return d_describe(l);
	case 9:
		return d_from(l, L_ALLOW_FROM);
	case 10:
		return d_from(l, L_DENY_FROM);
	case 11:
		return d_domain_list(l, L_ALLOW_DOMAIN);
	case 12:
		return d_domain_list(l, L_DENY_DOMAIN);
	case 13:
		return d_ip(l, 0);
	case 14:
		return d_ip(l, 1);
	case 15:
		return d_threshold(l, 0);
	case 16:
		return d_threshold(l, 1);
	case 17:
		return d_block(l, 1);
	case 18:
		return d_block(l, 0);
	case 19:
		return d_end(l);
	case 20:
		return d_dnslist(l, SS_DNSLIST_IP);
	case 21:
		return d_dnslist(l, SS_DNSLIST_DOMAIN);
	case 22:
		return d_code(l);
	case 23:
		return d_hosts(l, &rs->brands, &rs->nbrands, &rs->capbrands);
	default:
		return d_hosts(l, &rs->shorteners, &rs->nshorteners, &rs->capshorteners);
	}
}

/* Parses one line [p, end) without its '\n'. */
static int parse_line(pline *l, const char *p, const char *end)
{
	char buf[RULES_MAX_LINE + 1];
	const char *s = buf, *d;
	size_t n;

	if ((size_t)(end - p) > RULES_MAX_LINE)
		return perr(l, "line longer than %d bytes", RULES_MAX_LINE);
	if (memchr(p, 0, (size_t)(end - p)))
		return perr(l, "NUL byte");
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	memcpy(buf, p, (size_t)(end - p));
	buf[end - p] = 0;
	n = word(&s, &d);
	if (!n || d[0] == '#')
		return 0;
	l->arg = s;
	return directive(l, d, n);
}

int rules_parse(ruleset *rs, const char *file, const char *buf, size_t len, rules_error *err)
{
	pline l = {rs, NULL, 0, NULL, err};
	const char *p = buf, *end = buf + len;
	int rc = 0;

	err->msg[0] = 0;
	if (rs->compiled)
		return SS_EINVAL;
	if (!(l.file = arena_strndup(&rs->a, file, strlen(file))))
		return SS_ENOMEM;
	while (!rc && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		l.line++;
		rc = parse_line(&l, p, nl ? nl : end);
		p = nl ? nl + 1 : end;
	}
	if (!rc && rs->open) {
		l.line = rs->open_line;
		rc = perr(&l, "block without its 'end'");
	}
	rs->open = NULL;
	return rc;
}
