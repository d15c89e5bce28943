/*
 * internal.h: what the modules of src/rules share and nobody else sees:
 * the rule set's layout, the symbol table, pattern sets and metas.
 */
#ifndef SS_RULES_INTERNAL_H
#define SS_RULES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"
#include "util/arena.h"

/* ---- symbols: every name a rule, a score line or a check may use ---- */

typedef struct symtab {
	const char **names; /* by id, in the set's arena */
	size_t n, cap;
	uint32_t *slots; /* open addressing: id + 1, 0 empty */
	size_t nslots;
} symtab;

/* Returns the id of name, adding it when add is set; -1 when absent (or
 * out of memory). */
int sym_id(symtab *t, ss_arena *a, const char *name, size_t len, int add);
int sym_find(const symtab *t, const char *name);
void sym_free(symtab *t);

/* ---- patterns: /re/flags of one kind, compiled together ---- */

enum { RE_I = 1, RE_S = 2, RE_M = 4 };

typedef struct pattern {
	const char *re; /* the expression, NUL-terminated, in the set's arena */
	unsigned flags; /* RE_* */
	unsigned rule;  /* index in ruleset.rules */
	void *pcre;     /* pcre2_code * when Hyperscan refused it */
	int prefilter;  /* pcre set, and Hyperscan runs a looser form first */
} pattern;

/* The patterns of one kind (or of one header target) and their Hyperscan
 * database. */
typedef struct patset {
	pattern *v;
	size_t n, cap;
	int utf8;      /* the text scanned is valid UTF-8 */
	void *db;      /* hs_database_t *, NULL when every pattern is PCRE2 */
	unsigned *ids; /* Hyperscan id -> index in v */
	size_t nhs;    /* patterns in the database */
	size_t nexact; /* of which exact (the others prefilter PCRE2 ones) */
} patset;

/* Reads "/re/flags" at s into *re (arena copy) and *flags. Returns 0 or
 * SS_ESYNTAX with why. */
int pat_parse(ss_arena *a, const char *s, size_t len, const char **re, unsigned *flags, char *why,
              size_t wlen);
typedef struct hsv_memo hsv_memo;

/* Checks one pattern: Hyperscan takes it, or PCRE2 does (p->pcre set).
 * With memo (NULL: none), Hyperscan's verdict on it is taken from there
 * when known, and put there when not. Returns 0 or SS_ESYNTAX with the
 * libraries' messages in why. */
int pat_check(pattern *p, int utf8, hsv_memo *memo, char *why, size_t wlen);
/* Compiles the Hyperscan database of ps (patterns pat_check() left to it).
 * Returns 0, or SS_ESYNTAX with the pattern index in *bad and why.
 * With cache_dir (NULL: none), a database compiled before from the same
 * patterns is loaded from there, and a new one is stored there (hscache). */
int patset_compile(patset *ps, const char *cache_dir, size_t *bad, char *why, size_t wlen);
void patset_free(patset *ps);
/* Frees the PCRE2 code of one pattern (when it has one). */
void pat_free_pcre(pattern *p);

/* ---- the compiled-database cache (hscache.c) ---- */
#define HSCACHE_KEY 16

/* The name of a database: a hash of Hyperscan's version, the CPU it
 * compiles for and each expression with its flags and id, in order. */
void hscache_key(const char *const *exprs, const unsigned *flags, const unsigned *ids, size_t n,
                 uint8_t key[HSCACHE_KEY]);

/* The hs_database_t * cached in dir under key, or NULL. */
void *hscache_load(const char *dir, const uint8_t key[HSCACHE_KEY]);

/* Stores db in dir under key (created 0700 if absent); failures are
 * silent: the cache is only a shortcut. */
void hscache_store(const char *dir, const uint8_t key[HSCACHE_KEY], const void *db);

/* Hyperscan's verdicts on single expressions (hs_expression_info: about
 * 3 µs each, most of a rule set's loading when its databases are
 * cached), kept in dir's file "verdicts" between processes. */
enum { HSV_TAKEN, HSV_PREFILTER, HSV_REFUSED }; /* refused: PCRE2 alone */

/* The memo of dir, loaded from its file when that is sound (otherwise
 * empty); NULL when dir is NULL or out of memory. */
hsv_memo *hsv_open(const char *dir);
/* The verdict on expression re with Hyperscan flags, or -1 if unknown. */
int hsv_get(const hsv_memo *m, const char *re, unsigned flags);
/* Remembers a verdict (silently not, when the memo is full). */
void hsv_put(hsv_memo *m, const char *re, unsigned flags, int verdict);
/* Writes the memo's file when it learnt something, and frees it. */
void hsv_close(hsv_memo *m);

/* Per-scan state of patterns. */
typedef struct pat_scratch {
	void *hs;   /* hs_scratch_t * */
	void *md;   /* pcre2_match_data * */
	void *mctx; /* pcre2_match_context * */
} pat_scratch;

/* Scans text with ps: calls on_match(ctx, rule) once per pattern that
 * matches. Returns 0 or SS_ENOMEM. */
typedef void (*pat_match_fn)(void *ctx, unsigned rule);
int patset_scan(const patset *ps, pat_scratch *s, const char *text, size_t len,
                pat_match_fn on_match, void *ctx);
/* A scratch cloned from proto (may be NULL: no Hyperscan database). */
int pat_scratch_init(pat_scratch *s, void *proto);
void pat_scratch_release(pat_scratch *s);
/* Grows *proto (a Hyperscan scratch) to fit ps's database. */
int pat_scratch_proto(void **proto, const patset *ps);
void pat_scratch_proto_free(void *proto);

/* ---- metas ---- */

enum meta_op {
	MOP_SYM,
	MOP_NUM,
	MOP_NOT,
	MOP_NEG,
	MOP_AND,
	MOP_OR,
	MOP_ADD,
	MOP_SUB,
	MOP_LT,
	MOP_LE,
	MOP_GT,
	MOP_GE,
	MOP_EQ,
	MOP_NE,
};

typedef struct meta_term {
	int op;
	int val;          /* MOP_NUM: the number; MOP_SYM: the symbol id */
	const char *name; /* MOP_SYM: the name until resolved */
} meta_term;

typedef struct meta_expr {
	meta_term *t; /* reverse Polish */
	size_t n;
} meta_expr;

/* Parses an expression into RPN in a. Returns 0 or SS_ESYNTAX with why. */
int meta_parse(ss_arena *a, const char *s, size_t len, meta_expr *out, char *why, size_t wlen);
/* Evaluates with state[id] (0/1) for symbols; non-zero is true. */
int meta_eval(const meta_expr *e, const uint8_t *state);

/* ---- the set ---- */

enum rule_kind { RK_HEADER, RK_BODY, RK_RAWBODY, RK_URI, RK_FULL, RK_FACT, RK_META };

/* Header modifiers: Name (decoded value), Name:raw, Name:addr, Name:name. */
enum { HM_VALUE, HM_RAW, HM_ADDR, HM_NAME, HM_ALL };

typedef struct rule {
	const char *name;
	const char *file;
	unsigned line;
	int kind;
	int sym;         /* symbol id (after compile) */
	int negate;      /* header !~, or !exists: */
	int exists;      /* header exists:Name */
	int group;       /* header: index in ruleset.hgroups */
	const char *arg; /* fact name; header rules: the header's name */
	meta_expr expr;
	unsigned depth; /* meta: metas below it, after compile */
} rule;

/* The header rules that look at the same target (Name and modifier). */
typedef struct hgroup {
	const char *name; /* header name, or "ALL" */
	size_t nlen;      /* its length */
	int mod;          /* HM_* */
	patset ps;
} hgroup;

/* A score or threshold in a scope. */
typedef struct score_line {
	const char *name;
	int sym;
	double value;
} score_line;

/* Allow and deny lists of one scope. */
enum { L_ALLOW_FROM, L_DENY_FROM, L_ALLOW_DOMAIN, L_DENY_DOMAIN, L_NLISTS };

typedef struct scope {
	const char *key; /* user address or domain, lower case; "" global */
	int is_user;
	score_line *scores;
	size_t nscores, cap;
	const char **lists[L_NLISTS];
	size_t nlist[L_NLISTS], caplist[L_NLISTS];
	char *ipspec[2]; /* allow, deny: network lists (heap) */
	ss_netset *ips[2];
	int has_add, has_reject;
	double add_header_at, reject_at;
} scope;

typedef struct desc_pair {
	const char *name;
	int sym;
	const char *text;
} desc_pair;

typedef struct dnslist_b {
	ss_dnslist l;
	ss_dnslist_code *codes;
	size_t cap;
} dnslist_b;

struct ruleset {
	ss_arena a; /* every string and array of the set */
	int compiled;
	rule *rules;
	size_t nrules, caprules;
	symtab syms;
	symtab defs;     /* rule names: id == index in rules */
	symtab scopetab; /* "u:ADDR" and "d:DOMAIN": id == index in scopes */
	scope *open;     /* the block being parsed, NULL at top level */
	unsigned open_line;
	patset kinds[RK_FULL + 1]; /* body, rawbody, uri, full (header unused) */
	hgroup *hgroups;
	size_t nhgroups, caphgroups;
	scope global;
	scope **scopes; /* user and domain blocks */
	size_t nscopes, capscopes;
	const char **describe; /* by symbol id, after compile */
	desc_pair *descs;      /* describe lines, in order */
	size_t ndesc, capdesc;
	double *score; /* global scores by symbol id, after compile */
	uint8_t *has_score;
	unsigned *meta_order; /* rule indices of metas, dependencies first */
	size_t nmeta;
	size_t npcre;
	dnslist_b *dnslists;
	size_t ndnslists, capdnslists;
	const char **brands, **shorteners;
	size_t nbrands, capbrands, nshorteners, capshorteners;
	ss_dnslist *dl_out; /* rules_checks()'s arrays */
	ss_checks_config checks;
	void *hs_proto;     /* hs_scratch_t * every database fits in */
	char *cache_dir;    /* compiled databases kept there; NULL: none */
	hsv_memo *verdicts; /* while parsing, with cache_dir */
};

struct rules_scratch {
	pat_scratch p;
};

/* Scope lookups (scope.c). */
scope *scope_find(const ruleset *rs, int is_user, const char *key, size_t len);
int scope_add(ruleset *rs, int is_user, const char *key, size_t len, scope **out);
int scope_compile(ruleset *rs, scope *s, char *why, size_t wlen);
void scope_free(scope *s);

/* Adds the hits of the allow and deny lists (lists.c). */
int rules_lists(const ruleset *rs, const rules_input *in, const rules_scope *sc, ss_hits *hits);

/* Built-in symbols every set knows (check emitters, lists). */
extern const char *const rules_builtin_symbols[];

#endif
