/*
 * rules.h: the rule set, spamsift's policy as data (docs/RULES.md).
 *
 * A rule set is built in three steps: rules_new(), then rules_parse() of
 * each rule file (I/O-free: a buffer and the name to use in messages; see
 * rules/load.h for files, directories and the embedded defaults), then
 * rules_compile(), which resolves meta rules and compiles the patterns of
 * each kind together into one Hyperscan database (a pattern Hyperscan
 * refuses falls back to PCRE2 with JIT). After rules_compile() the set is
 * immutable and may be used by any number of threads at once, each with a
 * scratch of its own (rules_scratch_new()).
 *
 * Scanning (rules_run()) adds the symbols that fired to the message's hit
 * list (check/hits.h): pattern, fact and list rules first, then metas,
 * which see every hit already in the list (the built-in checks' too).
 * Points are not decided by the rules that fire but by `score` lines,
 * looked up with rules_score() under the message's scope (a `user` block,
 * then a `domain` block, then the global lines).
 *
 * Errors are SS_E* codes; a rule file that is refused also fills a
 * rules_error with "FILE:LINE: reason".
 */
#ifndef SS_RULES_RULES_H
#define SS_RULES_RULES_H

#include <stddef.h>

#include "check/checks.h"
#include "check/hits.h"
#include "spamsift.h"

/* Limits, each refused with a file:line error. */
#define RULES_MAX_RULES 20000    /* rules (pattern, fact and meta) in a set */
#define RULES_MAX_LINE 4096      /* bytes of one line of a rule file */
#define RULES_MAX_META_DEPTH 16  /* metas built on metas, this deep at most */
#define RULES_MAX_META_TERMS 256 /* symbols, numbers and operators of one meta */
#define RULES_MAX_SCOPES 10000   /* user and domain blocks */

typedef struct ruleset ruleset;
typedef struct rules_scratch rules_scratch;

/* Why a rule file or set was refused: "FILE:LINE: reason". */
typedef struct rules_error {
	char msg[512];
} rules_error;

/* Returns a new, empty rule set, or NULL when out of memory. */
ruleset *rules_new(void);

/* Frees the set and everything it owns; NULL is allowed. */
void rules_free(ruleset *rs);

/* Parses len bytes of one rule file into rs, `file` naming it in errors.
 * Directives add to what earlier files said (a later `score` or
 * `describe` of a symbol replaces the earlier one). Returns 0, or
 * SS_ESYNTAX (or SS_ENOMEM) with *err set; rs then holds part of the
 * file and should be freed. Only before rules_compile(). */
int rules_parse(ruleset *rs, const char *file, const char *buf, size_t len, rules_error *err);

/* Where rules_compile() keeps compiled Hyperscan databases, to load them
 * instead of compiling the same patterns again (NULL or "": nowhere, the
 * default). Only before rules_compile(). Returns 0 or SS_ENOMEM. */
int rules_set_cache_dir(ruleset *rs, const char *dir);

/* Resolves the symbols of meta rules (unknown symbol, cycle, depth),
 * compiles every pattern and freezes the set. Returns 0, or SS_ESYNTAX /
 * SS_ENOMEM with *err set. */
int rules_compile(ruleset *rs, rules_error *err);

/* How many rules (pattern, fact, meta) the set has. */
size_t rules_count(const ruleset *rs);

/* How many of its patterns run on PCRE2 rather than Hyperscan. */
size_t rules_count_pcre(const ruleset *rs);

/* The configuration of the built-in checks the files gave (dnsbl, uribl,
 * dnslist_code, brand, shortener). Lives as long as rs. */
const ss_checks_config *rules_checks(const ruleset *rs);

/* A scan's private state (Hyperscan scratch, PCRE2 match data): one per
 * thread or engine context. rs must be compiled and outlive it. */
int rules_scratch_new(const ruleset *rs, rules_scratch **out);
void rules_scratch_free(rules_scratch *s);

/* The overrides that apply to one message: the `user` block of the
 * scanned-for user, and the `domain` block of the user's domain or, failing
 * that, of the first recipient whose domain has one. Either may be NULL. */
typedef struct rules_scope {
	const void *user;
	const void *domain;
} rules_scope;

/* Finds the scope of a message for `user` (may be NULL or "") and the
 * envelope recipients. */
void rules_scope_of(const ruleset *rs, const char *user, const char *const *rcpts, size_t nrcpts,
                    rules_scope *out);

/* What one scan looks at. */
typedef struct rules_input {
	const ss_message *m;
	const char *raw; /* the message's bytes, for rawbody and full */
	size_t rawlen;
	const char *client_ip; /* envelope, any may be NULL */
	const char *helo;
	const char *mail_from;
} rules_input;

/* Runs every rule of rs on the message: adds the symbols that fired to
 * hits (allocated in hits->a), sub-rules named "__..." excepted. Metas see
 * the hits already there. Returns 0 or SS_ENOMEM. */
int rules_run(const ruleset *rs, rules_scratch *s, const rules_input *in, const rules_scope *sc,
              ss_hits *hits);

/* The points of symbol `name` under scope sc (user, then domain, then the
 * global `score` lines); 0 when none says. rs may be NULL. */
double rules_score(const ruleset *rs, const rules_scope *sc, const char *name);

/* The `describe` text of symbol `name`, or NULL. rs may be NULL. */
const char *rules_describe(const ruleset *rs, const char *name);

/* Replaces *add_header_at and *reject_at by the scope's own thresholds,
 * where it has them. rs may be NULL. */
void rules_thresholds(const ruleset *rs, const rules_scope *sc, double *add_header_at,
                      double *reject_at);

#endif
