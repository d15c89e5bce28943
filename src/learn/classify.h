/*
 * classify.h: the classifier's arithmetic, separate from storage.
 *
 * A message's features come with their statistics from the store (counts
 * of spam and ham messages that had the feature, and an online logistic
 * regression weight). Three experts score it:
 *  - a count-based one: Robinson's smoothed per-feature probabilities
 *    combined by Fisher's chi-square method (as bogofilter and SpamBayes
 *    do), exact to learn and unlearn because it is only counts;
 *  - online logistic regression over the same binary token features,
 *    trained on every message (and again while within a thick threshold);
 *  - online logistic regression over the byte 4-grams alone.
 * Their log-odds, each clamped to a cap so that no expert's overconfidence
 * outvotes the others, are added with fixed weights (chosen by measurement,
 * see docs/ARCHITECTURE.md) into the final score in [0,1]; a model that has
 * learned only a few messages says so by a score nearer 0.5 (warm-up), and
 * leans on the n-gram expert, the slowest to learn, less than later.
 * Pure functions: no I/O, no allocation (the caller owns any clf_memo).
 */
#ifndef SS_LEARN_CLASSIFY_H
#define SS_LEARN_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

/* What the store keeps per feature. */
typedef struct feat_stat {
	uint32_t spam, ham; /* messages learned with the feature, by class */
	float w;            /* logistic regression weight */
	uint32_t day;       /* day (Unix time / 86400) it was last learned */
} feat_stat;

/* Messages learned, by class. */
typedef struct clf_totals {
	uint64_t spam, ham;
} clf_totals;

/* Tunable parameters; clf_params_default() gives the measured choice. */
typedef struct clf_params {
	double robs, robx, min_dev; /* Robinson smoothing strength, prior, dead zone */
	double eta;                 /* logistic regression learning rate */
	double thick;               /* retrain while |logit| below this (0: once) */
	unsigned thick_rounds;      /* at most this many extra rounds */
	double w_bayes, w_lr;       /* fusion weights on the two experts' log-odds */
	double spam_at;             /* verdict threshold on the score */
	double rate_decay;          /* 1: a feature's rate is eta / sqrt(1 + its count) */
	double w_gram;              /* fusion weight on the n-gram expert's log-odds */
	double g_eta, g_rate_decay; /* the n-gram expert's eta and rate_decay */
	double grams;               /* bytes of header and text cut into 4-grams */
	double warm;                /* below this many messages learned, the fused log-odds
	                             * are scaled by (learned + 1) / (warm + 1) */
	double g_warm;              /* below this many, the n-gram expert's fusion weight is
	                             * also scaled by (learned + 1) / (g_warm + 1) */
	double b_cap, e_cap;        /* each expert's log-odds clamped to +-cap before fusion:
	                             * b_cap the count expert's, e_cap the regressions' */
	double w_ppm;               /* fusion weight on the compression expert (0: off) */
	double ppm_scale, ppm_cap;  /* its log-odds: scale * nats / sqrt(bytes), to +-cap */
	double ppm_gate;            /* asked only when the others' log-odds is within this
	                             * of the threshold's (see clf_ppm_wanted) */
	double lr_off;              /* learning: the regressions' step starts from this times
	                             * the count expert's share (0: from their own log-odds) */
} clf_params;

void clf_params_default(clf_params *p);
/* Gives in *g the parameters of the n-gram expert's steps (its eta and
 * rate decay in place of the word expert's). */
void clf_params_gram(const clf_params *p, clf_params *g);
/* Sets parameter `name` to `value` ("eta=0.02"); returns 0 or SS_EINVAL. */
int clf_params_set(clf_params *p, const char *assignment);

/* One feature's share in a verdict (for explanations). */
typedef struct clf_contrib {
	size_t feat;   /* index into the message's features */
	double weight; /* its log-odds push: > 0 spammy, < 0 hammy */
} clf_contrib;

typedef struct clf_result {
	double score;           /* final, in [0,1] */
	double logit;           /* log-odds of the final score */
	double bayes, lr, gram; /* the experts' log-odds */
	double ppm;             /* the compression expert's share of logit (0: none) */
	int ppm_scored;         /* 1: it read the message; 0: not asked (the others
	                           were sure, and ppm is its full weight their way) */
	size_t used;            /* features that carried evidence */
} clf_result;

/* What one feature gives the count expert: a function of its counts alone
 * for given totals and parameters, so computed once per distinct pair. */
typedef struct clf_evidence {
	uint64_t counts; /* spam << 32 | ham */
	uint32_t gen;    /* the memo generation it belongs to (0: none) */
	int used;        /* outside the dead zone around 0.5 */
	int has_w;       /* w computed */
	double lf, l1f;  /* log f, log (1 - f) */
	double w;        /* log-odds f / (1 - f) */
} clf_evidence;

#define CLF_MEMO 2048 /* count pairs a clf_memo keeps (power of 2) */

/* The count expert's evidence of recent count pairs, kept across messages
 * scored against the same totals (a `check` over a folder: most features'
 * pairs recur from message to message). Direct-mapped; a change of totals
 * empties it in O(1) (a new generation). Zero it before first use; one per
 * thread and set of parameters (the evidence depends on them too). */
typedef struct clf_memo {
	uint64_t spam, ham; /* the totals its entries were computed for */
	uint32_t gen;
	clf_evidence e[CLF_MEMO];
} clf_memo;

/* Scores n features with statistics st[0..n) against totals t. When contrib
 * is not NULL it receives every feature's push (n entries). memo (not NULL)
 * remembers evidence across calls; the result does not depend on what it
 * held before. */
void clf_score(const clf_params *p, const clf_totals *t, const feat_stat *st, size_t n, size_t ntok,
               clf_result *r, clf_contrib *contrib, clf_memo *memo);

/* The count expert's share of the fused log-odds (w_bayes times its
 * capped log-odds) of a message whose token statistics are st[0..ntok). */
double clf_bayes_share(const clf_params *p, const clf_totals *t, const feat_stat *st, size_t ntok,
                       clf_memo *memo);

/* Whether the compression expert should read a message the other experts
 * scored r: when their log-odds is within ppm_gate of the threshold's.
 * Further out its term (at most +-w_ppm * ppm_cap) cannot turn the
 * verdict, and reading costs ~0.1 ms. */
int clf_ppm_wanted(const clf_params *p, const clf_result *r);

/* Adds the compression expert to r: with scored, its evidence from `nats`
 * (ppm_cost) over `bytes` bytes; without, its full weight towards the
 * side r is on, so that scores keep their order. Its weight is scaled
 * by the warm-up of the messages it learned, t. */
void clf_add_ppm(const clf_params *p, const clf_totals *t, int scored, double nats, size_t bytes,
                 clf_result *r);

/* The logistic regression step to apply to every feature weight of a message
 * of class is_spam whose current LR log-odds is lr_logit over n features:
 * returns the total weight change (thick-threshold rounds included). */
double clf_lr_step(const clf_params *p, double lr_logit, const feat_stat *st, size_t n,
                   int is_spam);

/* The weight change of a feature with statistics st for a message step. */
static inline float clf_lr_delta(const clf_params *p, const feat_stat *st, double step)
{
	return (float)(step / (p->rate_decay ? __builtin_sqrt(1.0 + st->spam + st->ham) : 1.0));
}

#endif
