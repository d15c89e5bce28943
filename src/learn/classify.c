/*
 * classify.c: the three experts, their caps, warm-up and fusion (see classify.h).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "learn/classify.h"
#include "spamsift.h"

#define LOGIT_MAX 40.0
#define LOG_TABLE 2048 /* log(i) of the chi-square sum's terms, tabled below this */

static double log_of[LOG_TABLE];
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_init(void)
{
	for (size_t i = 1; i < LOG_TABLE; i++)
		log_of[i] = log((double)i);
}

/* log(i), the same value log() gives, from a table for small i. */
static double log_int(size_t i)
{
	return i < LOG_TABLE ? log_of[i] : log((double)i);
}

void clf_params_default(clf_params *p)
{
	p->robs = 0.3;
	p->robx = 0.5;
	p->min_dev = 0.1;
	p->eta = 0.2;
	p->thick = 0.0;
	p->thick_rounds = 0;
	p->w_bayes = 0.5;
	p->w_lr = 0.5;
	p->spam_at = 0.5;
	p->rate_decay = 1;
	p->w_gram = 1;
	p->g_eta = 0.02;
	p->g_rate_decay = 0;
	p->grams = 2000;
	p->b_cap = 20;
	p->e_cap = 8;
	p->warm = 80;
	p->g_warm = 100;
	p->w_ppm = 1;
	p->ppm_scale = 0.4;
	p->ppm_cap = 8;
	p->ppm_gate = 8;
	p->lr_off = 1;
}

void clf_params_gram(const clf_params *p, clf_params *g)
{
	*g = *p;
	g->eta = p->g_eta;
	g->rate_decay = p->g_rate_decay;
}

int clf_params_set(clf_params *p, const char *a)
{
	static const struct {
		const char *name;
		size_t off;
	} tab[] = {{"robs", offsetof(clf_params, robs)},
	           {"robx", offsetof(clf_params, robx)},
	           {"min_dev", offsetof(clf_params, min_dev)},
	           {"eta", offsetof(clf_params, eta)},
	           {"thick", offsetof(clf_params, thick)},
	           {"w_bayes", offsetof(clf_params, w_bayes)},
	           {"w_lr", offsetof(clf_params, w_lr)},
	           {"spam_at", offsetof(clf_params, spam_at)},
	           {"rate_decay", offsetof(clf_params, rate_decay)},
	           {"w_gram", offsetof(clf_params, w_gram)},
	           {"g_eta", offsetof(clf_params, g_eta)},
	           {"g_rate_decay", offsetof(clf_params, g_rate_decay)},
	           {"grams", offsetof(clf_params, grams)},
	           {"b_cap", offsetof(clf_params, b_cap)},
	           {"e_cap", offsetof(clf_params, e_cap)},
	           {"warm", offsetof(clf_params, warm)},
	           {"g_warm", offsetof(clf_params, g_warm)},
	           {"w_ppm", offsetof(clf_params, w_ppm)},
	           {"ppm_scale", offsetof(clf_params, ppm_scale)},
	           {"ppm_cap", offsetof(clf_params, ppm_cap)},
	           {"ppm_gate", offsetof(clf_params, ppm_gate)},
	           {"lr_off", offsetof(clf_params, lr_off)}};
	const char *eq = strchr(a, '=');
	char *end;
	double v;

	if (!eq)
		return SS_EINVAL;
	v = strtod(eq + 1, &end);
	if (*end || end == eq + 1)
		return SS_EINVAL;
	if ((size_t)(eq - a) == 12 && !strncmp(a, "thick_rounds", 12)) {
		p->thick_rounds = (unsigned)v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == (size_t)(eq - a) &&
		    !strncmp(a, tab[i].name, (size_t)(eq - a))) {
			*(double *)((char *)p + tab[i].off) = v;
			return 0;
		}
	return SS_EINVAL;
}

/* log of the upper tail of chi-square with 2k degrees of freedom at x2:
 * log( e^-m * sum_{i<k} m^i / i! ), m = x2 / 2, computed without underflow.
 * The terms rise while i < m and fall after; the sum is kept relative to
 * the largest term so far, by the ratio of neighbouring terms (m / i), with
 * no exp() per term (a confident message has hundreds of terms). */
static double log_chi2q(double x2, size_t k)
{
	double m = x2 / 2, lm, lt, lmax, sum = 1.0, rel = 1.0;

	if (k == 0)
		return 0;
	if (m <= 0)
		return 0;
	lm = log(m);
	lt = lmax = -m;
	pthread_once(&log_once, log_init);
	for (size_t i = 1; i < k; i++) {
		lt += lm - log_int(i);
		if (lt > lmax) { /* a new largest term: the sum so far shrinks by i / m */
			sum = sum * ((double)i / m) + 1.0;
			lmax = lt;
			rel = 1.0;
		} else {
			rel *= m / (double)i;
			sum += rel;
			if (lt < lmax - 40 && i > m)
				break;
		}
	}
	lt = lmax + log(sum);
	return lt > 0 ? 0 : lt;
}

/* log(1 - e^q + e^r) for q, r <= 0, keeping precision when it is tiny. */
static double log_one_minus_plus(double q, double r)
{
	double a = -expm1(q), v = a + exp(r);

	return v > 1e-300 ? log(v) : r;
}

/* Robinson's smoothed spam probability of one feature. */
static double robinson(const clf_params *p, const clf_totals *t, const feat_stat *s)
{
	double ns = t->spam ? (double)t->spam : 1, nh = t->ham ? (double)t->ham : 1;
	double bs = s->spam / ns, bh = s->ham / nh, n = (double)s->spam + s->ham, pw;

	if (bs + bh <= 0)
		return p->robx;
	pw = bs / (bs + bh);
	return (p->robs * p->robx + n * pw) / (p->robs + n);
}

static void evidence_of(const clf_params *p, const clf_totals *t, const feat_stat *s, int want_w,
                        clf_evidence *e)
{
	double f = robinson(p, t, s);

	e->counts = (uint64_t)s->spam << 32 | s->ham;
	e->used = !(fabs(f - 0.5) < p->min_dev);
	e->has_w = want_w;
	if (!e->used)
		return;
	f = f < 1e-6 ? 1e-6 : f > 1 - 1e-6 ? 1 - 1e-6 : f;
	e->lf = log(f);
	e->l1f = log1p(-f);
	e->w = want_w ? log(f / (1 - f)) : 0;
}

/* Starts a generation of memo for totals t when they changed. */
static void memo_sync(clf_memo *m, const clf_totals *t)
{
	if (m->gen && m->spam == t->spam && m->ham == t->ham)
		return;
	if (++m->gen == 0) { /* wrapped: forget every entry for good */
		memset(m->e, 0, sizeof(m->e));
		m->gen = 1;
	}
	m->spam = t->spam;
	m->ham = t->ham;
}

static double bayes_logit(const clf_params *p, const clf_totals *t, const feat_stat *st, size_t n,
                          clf_contrib *contrib, size_t *used, clf_memo *memo)
{
	double lf = 0, l1f = 0, lqs, lqh;
	size_t k = 0;

	memo_sync(memo, t);
	for (size_t i = 0; i < n; i++) {
		uint64_t c = (uint64_t)st[i].spam << 32 | st[i].ham;
		clf_evidence *e = &memo->e[(c * 0x9E3779B97F4A7C15ULL) >> 40 & (CLF_MEMO - 1)];
		if (e->gen != memo->gen || e->counts != c || (contrib && !e->has_w)) {
			evidence_of(p, t, &st[i], contrib != NULL, e);
			e->gen = memo->gen;
		}
		if (contrib)
			contrib[i].weight = 0;
		if (!e->used)
			continue;
		lf += e->lf;
		l1f += e->l1f;
		if (contrib)
			contrib[i].weight = e->w;
		k++;
	}
	*used = k;
	if (!k)
		return 0;
	lqs = log_chi2q(-2 * l1f, k); /* small when the features are spammy */
	lqh = log_chi2q(-2 * lf, k);  /* small when they are hammy */
	/* score = (1 + Qh - Qs) / 2; its log-odds: */
	return log_one_minus_plus(lqs, lqh) - log_one_minus_plus(lqh, lqs);
}

static double clamp_logit(double x)
{
	return x > LOGIT_MAX ? LOGIT_MAX : x < -LOGIT_MAX ? -LOGIT_MAX : x;
}

/* x clamped to [-c, c] (and to LOGIT_MAX). */
static double cap(double x, double c)
{
	c = c < LOGIT_MAX ? c : LOGIT_MAX;
	return x > c ? c : x < -c ? -c : x;
}

/* The log-odds of a logistic regression expert over st[from..to). With
 * contrib, also each feature's final push: its count-expert share (left in
 * contrib by bayes_logit when `counted`, else 0) times w_bayes, plus its
 * weight times w; one pass, the same operations in the same order as
 * scaling every share first and adding the weights after. */
static double lr_sum(const clf_params *p, const feat_stat *st, size_t from, size_t to, double w,
                     int counted, clf_contrib *contrib)
{
	double lr = 0;

	if (!contrib) {
		for (size_t i = from; i < to; i++)
			lr += st[i].w;
		return clamp_logit(lr);
	}
	for (size_t i = from; i < to; i++) {
		double b = counted ? contrib[i].weight : 0;
		lr += st[i].w;
		contrib[i].feat = i;
		contrib[i].weight = b * p->w_bayes + w * st[i].w;
	}
	return clamp_logit(lr);
}

/* How sure a model that has learned t's messages may be: (learned + 1) /
 * (warm + 1) below `warm` messages, else 1. Its first verdicts rest on a
 * few dozen examples; their log-odds are scaled down, not their sign. */
static double warm_up(double warm, const clf_totals *t)
{
	double n = (double)t->spam + (double)t->ham;

	return n < warm ? (n + 1) / (warm + 1) : 1;
}

void clf_score(const clf_params *p, const clf_totals *t, const feat_stat *st, size_t n, size_t ntok,
               clf_result *r, clf_contrib *contrib, clf_memo *memo)
{
	/* The n-gram expert errs most while few messages are learned (on
	 * SpamAssassin 12 of messages 30-100 against 2-3 for the others). */
	double w_gram = p->w_gram * warm_up(p->g_warm, t);

	r->bayes = cap(bayes_logit(p, t, st, ntok, contrib, &r->used, memo), p->b_cap);
	r->lr = cap(lr_sum(p, st, 0, ntok, p->w_lr, 1, contrib), p->e_cap);
	r->gram = cap(lr_sum(p, st, ntok, n, w_gram, 0, contrib), p->e_cap);
	r->logit = p->w_bayes * r->bayes + p->w_lr * r->lr + w_gram * r->gram;
	r->logit *= warm_up(p->warm, t);
	r->score = 1 / (1 + exp(-r->logit));
	r->ppm = 0;
	r->ppm_scored = 0;
}

double clf_bayes_share(const clf_params *p, const clf_totals *t, const feat_stat *st, size_t ntok,
                       clf_memo *memo)
{
	size_t used;

	return p->w_bayes * cap(bayes_logit(p, t, st, ntok, NULL, &used, memo), p->b_cap);
}

/* The log-odds of the verdict threshold. */
static double threshold_logit(const clf_params *p)
{
	return log(p->spam_at / (1 - p->spam_at));
}

int clf_ppm_wanted(const clf_params *p, const clf_result *r)
{
	return p->w_ppm > 0 && fabs(r->logit - threshold_logit(p)) < p->ppm_gate;
}

void clf_add_ppm(const clf_params *p, const clf_totals *t, int scored, double nats, size_t bytes,
                 clf_result *r)
{
	double e = scored ? cap(p->ppm_scale * nats / sqrt(bytes ? (double)bytes : 1.0), p->ppm_cap)
	                  : (r->logit >= threshold_logit(p) ? p->ppm_cap : -p->ppm_cap);

	r->ppm = p->w_ppm * e * warm_up(p->warm, t);
	r->ppm_scored = scored;
	r->logit += r->ppm;
	r->score = 1 / (1 + exp(-r->logit));
}

double clf_lr_step(const clf_params *p, double lr_logit, const feat_stat *st, size_t n, int is_spam)
{
	double y = is_spam ? 1 : 0, total = 0, z = lr_logit, reach = 0;

	for (size_t i = 0; i < n; i++)
		reach += clf_lr_delta(p, &st[i], 1.0);

	for (unsigned round = 0; round <= p->thick_rounds; round++) {
		double d = p->eta * (y - 1 / (1 + exp(-z)));
		total += d;
		z += d * reach;
		if (p->thick <= 0 || (is_spam ? z : -z) >= p->thick)
			break;
	}
	return total;
}
