/*
 * hits.h: the facts the checks find about one message, before scoring.
 *
 * Every check (pattern rules, phishing and attachment signs, SPF, DKIM,
 * DMARC, DNS block lists) reports what it found as hits: a stable upper-
 * case symbol name and a short detail for people ("bit.ly", "spf=fail
 * smtp.mailfrom=x.example"). A check never decides points; the rule set
 * does (a `score` line per symbol, overridable per domain and per user),
 * and meta rules combine hits of every origin. So a built-in check and a
 * rule an operator wrote are scored, described and overridden the same
 * way.
 *
 * A hit list lives in the caller's per-message arena; names are expected
 * to be static strings (or arena strings), details are copied.
 */
#ifndef SS_CHECK_HITS_H
#define SS_CHECK_HITS_H

#include <stddef.h>

#include "util/arena.h"

typedef struct ss_hit {
	const char *name;   /* symbol, e.g. "PHISH_LINK_MISMATCH" */
	const char *detail; /* for people, may be NULL */
} ss_hit;

typedef struct ss_hits {
	ss_arena *a; /* where hits and details are allocated */
	ss_hit *v;
	size_t n, cap;
} ss_hits;

/* Starts an empty list allocating from a. */
void hits_init(ss_hits *h, ss_arena *a);

/* Adds a hit (detail copied, may be NULL). A name already present gets
 * no second entry; its detail grows by ", detail" up to a bound.
 * Returns 0 or SS_ENOMEM. */
int hits_add(ss_hits *h, const char *name, const char *detail);

/* hits_add() with a printf-style detail. */
int hits_addf(ss_hits *h, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns the hit named `name`, or NULL. */
const ss_hit *hits_find(const ss_hits *h, const char *name);

#endif
