/*
 * engine.h: the one pipeline every door uses (DESIGN.md, "one pipeline,
 * many doors"): bytes of a message in, a scored and explained result out;
 * learn and unlearn for feedback.
 *
 * An engine is built once from its configuration (thresholds, the model
 * store) and is immutable afterwards: any number of threads may call
 * engine_scan(), engine_learn() and engine_unlearn() on it at once. Each
 * call borrows a context (a store handle with its own transaction and
 * bucket cache, and a learner with its scratch space) from a pool inside
 * the engine and gives it back when it returns, so callers hold no state.
 *
 * Transactions: a scan runs in its own LMDB read transaction, so it sees
 * the last committed model and never blocks, nor is blocked by, a writer;
 * learn and unlearn each run in one write transaction, committed before
 * they return (LMDB serialises writers, across threads and processes).
 * A reload builds a new engine and swaps it in; scans still running on the
 * old one finish there (the caller frees it when they are done).
 *
 * Scores are points: the result's score is the sum of its symbols' scores,
 * and the action follows from the thresholds. The learned classifier's
 * symbol, SPAMSIFT_BAYES, scores its log-odds (natural log), so the
 * defaults, add a header from 0 (probability 0.5) and reject from ln 999
 * (probability 0.999), are the classifier's own verdict and reject line.
 *
 * Network I/O happens only in the built-in checks (engine/checks.h), and
 * only when configured: DNS with a resolver (one deadline per scan) and
 * the fingerprint server with fp_server (its own timeout); the LMDB store
 * maps its file.
 */
#ifndef SS_ENGINE_ENGINE_H
#define SS_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "check/checks.h"
#include "rules/rules.h"
#include "engine/checks.h"
#include "spamsift.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"

typedef struct engine engine;

/* What an engine is built from. Zero-initialise through
 * engine_config_default(), then set what you need. */
typedef struct engine_config {
	const char *db;           /* LMDB model directory (opened, created, owned) */
	store *model;             /* or: an open store (not owned); wins over db */
	double add_header_at;     /* points from which the action is "add header" */
	double reject_at;         /* points from which it is "reject" */
	size_t ntop;              /* features listed in the classifier's symbol */
	size_t max_size;          /* bytes of a message parsed (ss_limits.max_size) */
	const ss_netset *trusted; /* trusted relays (not owned), NULL: loopback */
	/* The rule set (docs/RULES.md): either a compiled one (not owned, must
	 * outlive the engine), or built by engine_new() from the embedded
	 * defaults (unless no_default_rules) and then each of rule_paths (rule
	 * files or directories of *.rules files). */
	const ruleset *rules;
	const char *const *rule_paths;
	size_t nrule_paths;
	int no_default_rules;
	/* The built-in checks: DNS (SPF, DKIM, DMARC, DNS lists) only with a
	 * resolver ("IP:PORT" or "system"; engine_new() refuses a bad one with
	 * SS_ESYNTAX); the phishing and attachment signs always. Its strings
	 * must outlive the engine. */
	checks_settings checks;
	/* Where engine_new() writes why it failed, "FILE:LINE: reason" for a
	 * rule file (may be NULL). */
	char *error;
	size_t error_len;
} engine_config;

/* Fills c with the defaults: no store, thresholds 0 and ln 999 points,
 * 8 features, 32 MiB. */
void engine_config_default(engine_config *c);

/* Builds an engine from c (copied; c->model, c->trusted and c->rules must
 * outlive it). Stores it in *out. Returns 0, or the store's error (SS_EIO
 * with errno set, SS_ECORRUPT, SS_EBUSY), a rule file's (SS_ESYNTAX,
 * SS_EIO, with c->error filled) or SS_ENOMEM / SS_EINVAL. */
int engine_new(const engine_config *c, engine **out);

/* The engine's rule set (never NULL once built: at least the defaults,
 * or an empty set), and the configuration of the built-in checks it
 * holds (dnsbl, uribl, brand, shortener lines). Both live as long as e. */
const ruleset *engine_rules(const engine *e);
const ss_checks_config *engine_checks(const engine *e);

/* Frees the engine and every context of its pool; no call may be running
 * on it. NULL is allowed. */
void engine_free(engine *e);

/* The envelope of an SMTP transaction, as far as the door knows it; any
 * field may be NULL. The rules' lists use client_ip and mail_from, the
 * per-domain settings the recipients; SPF and DNS lists will use it too. */
typedef struct engine_envelope {
	const char *client_ip;
	const char *helo;
	const char *mail_from;
	const char *const *rcpts;
	size_t nrcpts;
} engine_envelope;

typedef enum engine_action {
	ENGINE_NO_ACTION = 0,
	ENGINE_ADD_HEADER = 1,
	ENGINE_REJECT = 2,
} engine_action;

/* One feature behind a symbol. */
typedef struct engine_feature {
	const char *name; /* "ns:token" */
	double weight;    /* log-odds push, > 0 towards spam */
	uint32_t spam, ham;
} engine_feature;

/* One check that fired, with its share of the score and why. */
typedef struct engine_symbol {
	const char *name;        /* stable upper-case identifier */
	double score;            /* points */
	const char *description; /* a sentence for people */
	const engine_feature *features;
	size_t nfeatures;
} engine_symbol;

typedef struct engine_result {
	double score; /* points: the sum of the symbols' scores */
	double prob;  /* the learned classifier's probability of spam */
	int is_spam;  /* action is not ENGINE_NO_ACTION */
	engine_action action;
	double required; /* the add-header threshold, for replies that show one */
	const engine_symbol *symbols;
	size_t nsymbols;
	size_t nfeat;             /* features the message gave the classifier */
	const char *auth_results; /* Authentication-Results value (RFC 8601), or NULL without DNS */
} engine_result;

/* Scans len bytes of one message for `user` (NULL or "": the global model;
 * a user without a model of their own gets the global verdict). env may be
 * NULL. The symbols are SPAMSIFT_BAYES first, then every hit of the
 * built-in checks and the rules, scored by the rule set under the scope of
 * `user` and the recipients (docs/RULES.md); the score is their sum. Everything the result points
 * to is allocated in `a` (the caller's per-message arena) and lives until it is released. Returns
 * 0, a parse refusal (SS_EEMPTY, SS_EBINARY, SS_ENOTMAIL: the message is not mail), or a store
 * error / SS_ENOMEM. */
int engine_scan(engine *e, const char *user, const engine_envelope *env, const char *buf,
                size_t len, ss_arena *a, engine_result *r);

/* What engine_learn()/engine_unlearn() did. */
typedef enum engine_learned {
	ENGINE_UNCHANGED = 0, /* already learned so (or, unlearn: never learned) */
	ENGINE_LEARNED = 1,   /* learned */
	ENGINE_UNLEARNED = 2,
	ENGINE_MOVED = 3, /* learned, after unlearning it from the other class */
} engine_learned;

/* Learns the message as spam or ham in `user`'s model (NULL or "": the
 * global one; a named user's model is created on first use), in one
 * committed write transaction. Idempotent per message. *what (may be
 * NULL) gets what happened. Returns 0, a parse refusal, or an error. */
int engine_learn(engine *e, const char *user, int is_spam, const char *buf, size_t len,
                 engine_learned *what);

/* Undoes the learning of the message in `user`'s model (a user without a
 * model has nothing to undo: ENGINE_UNCHANGED). */
int engine_unlearn(engine *e, const char *user, const char *buf, size_t len, engine_learned *what);

/* Returns "no action", "add header" or "reject". */
const char *engine_action_name(engine_action act);

/* Appends the result as one JSON object to b: score, verdict, action,
 * symbols (name, score, description, features). With `path` not NULL, a
 * "path" member comes first (the CLI's one object per file). The score
 * member is the classifier's probability (prob), as `spamsift check --json`
 * has always printed it. */
int engine_result_json(const engine_result *r, const char *path, sbuf *b);

/* Appends a plain-text report for people to b, in SpamAssassin's layout
 * (points, rule name, description per symbol). */
int engine_result_report(const engine_result *r, sbuf *b);

/* The header fields a door adds to a scanned message (X-Spam-Flag when
 * spam, X-Spam-Score, X-Spam-Level, X-Spam-Action, X-Spam-Status), each
 * "Name: value" without a line end, in `a`. Returns how many (at most
 * ENGINE_MAX_HEADERS) were stored in out. */
#define ENGINE_MAX_HEADERS 6
size_t engine_result_headers(const engine_result *r, ss_arena *a, ss_str *out);

#endif
