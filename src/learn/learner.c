/*
 * learner.c: check, learn, unlearn (see learner.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "learn/learner.h"

struct learner {
	store *s;
	clf_params p;
	feat_ctx *fc;
};

/* A message's features, their keys and combined statistics. */
typedef struct lrn_msg {
	feat_set fs;
	uint64_t *keys;
	feat_stat *st;
	float *dw; /* scratch: weight changes */
} lrn_msg;

learner *learner_new(store *s, const clf_params *p, size_t max_features)
{
	learner *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->s = s;
	l->p = *p;
	if (!(l->fc = feat_new(max_features))) {
		free(l);
		return NULL;
	}
	return l;
}

void learner_free(learner *l)
{
	if (!l)
		return;
	feat_free(l->fc);
	free(l);
}

static void digest(const ss_message *m, uint8_t *out)
{
	XXH3_state_t st;
	const ss_header *mid = ss_message_header(m, 0, "Message-ID");
	XXH128_hash_t h;

	XXH3_128bits_reset(&st);
	if (mid)
		XXH3_128bits_update(&st, mid->raw.p, mid->raw.len);
	XXH3_128bits_update(&st, "\0", 1);
	XXH3_128bits_update(&st, m->subject.p ? m->subject.p : "", m->subject.len);
	for (size_t i = 0; i < m->nparts; i++) {
		XXH3_128bits_update(&st, "\0", 1);
		if (m->parts[i].text.len)
			XXH3_128bits_update(&st, m->parts[i].text.p, m->parts[i].text.len);
	}
	h = XXH3_128bits_digest(&st);
	memcpy(out, &h.high64, 8);
	memcpy(out + 8, &h.low64, 8);
}

static void add_stats(feat_stat *a, const feat_stat *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		a[i].spam += b[i].spam;
		a[i].ham += b[i].ham;
		a[i].w += b[i].w;
	}
}

/* Extracts features and looks up their statistics (global + user). */
static int prepare(learner *l, const ss_message *m, uint32_t user, ss_arena *a, lrn_msg *x,
                   clf_totals *t)
{
	int err = feat_extract(l->fc, m, a, &x->fs);
	size_t n = x->fs.n;

	if (err)
		return err;
	x->keys = arena_calloc(a, n ? n : 1, sizeof(uint64_t));
	x->st = arena_calloc(a, n ? n : 1, sizeof(feat_stat));
	x->dw = arena_calloc(a, n ? n : 1, sizeof(float));
	if (!x->keys || !x->st || !x->dw)
		return SS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		x->keys[i] = x->fs.v[i].h;
	if ((err = l->s->ops->lookup(l->s, 0, x->keys, n, x->st)) ||
	    (err = l->s->ops->totals(l->s, 0, t)))
		return err;
	if (user) {
		feat_stat *ust = arena_calloc(a, n ? n : 1, sizeof(feat_stat));
		clf_totals ut;
		if (!ust)
			return SS_ENOMEM;
		if ((err = l->s->ops->lookup(l->s, user, x->keys, n, ust)) ||
		    (err = l->s->ops->totals(l->s, user, &ut)))
			return err;
		add_stats(x->st, ust, n);
		t->spam += ut.spam;
		t->ham += ut.ham;
	}
	return 0;
}

static int cmp_contrib(const void *a, const void *b)
{
	double x = ((const clf_contrib *)a)->weight, y = ((const clf_contrib *)b)->weight;

	x = x < 0 ? -x : x;
	y = y < 0 ? -y : y;
	return x < y ? 1 : x > y ? -1 : 0;
}

static int explain(const lrn_msg *x, const clf_contrib *c, size_t n, size_t ntop, ss_arena *a,
                   lrn_verdict *v)
{
	clf_contrib *sorted = arena_calloc(a, n ? n : 1, sizeof(*sorted));

	if (!sorted)
		return SS_ENOMEM;
	memcpy(sorted, c, n * sizeof(*c));
	qsort(sorted, n, sizeof(*sorted), cmp_contrib);
	v->ntop = n < ntop ? n : ntop;
	if (!(v->top = arena_calloc(a, v->ntop ? v->ntop : 1, sizeof(lrn_reason))))
		return SS_ENOMEM;
	for (size_t i = 0; i < v->ntop; i++) {
		const feat *f = &x->fs.v[sorted[i].feat];
		v->top[i] = (lrn_reason){feat_ns_name(f->ns), f->tok, sorted[i].weight,
		                         x->st[sorted[i].feat].spam, x->st[sorted[i].feat].ham};
	}
	return 0;
}

static int score(learner *l, const lrn_msg *x, const clf_totals *t, size_t ntop, ss_arena *a,
                 lrn_verdict *v)
{
	clf_contrib *c = NULL;
	size_t n = x->fs.n;

	memset(v, 0, sizeof(*v));
	if (ntop && !(c = arena_calloc(a, n ? n : 1, sizeof(*c))))
		return SS_ENOMEM;
	clf_score(&l->p, t, x->st, n, &v->r, c);
	v->is_spam = v->r.score >= l->p.spam_at;
	v->nfeat = n;
	return ntop ? explain(x, c, n, ntop, a, v) : 0;
}

int learner_check(learner *l, const ss_message *m, uint32_t user, size_t ntop, ss_arena *a,
                  lrn_verdict *v)
{
	lrn_msg x;
	clf_totals t;
	int err = prepare(l, m, user, a, &x, &t);

	return err ? err : score(l, &x, &t, ntop, a, v);
}

/* Applies (sign +1) or removes (sign -1) a message's contribution, and
 * keeps x->st in step with the store. A feature's weight change depends on
 * its count before the message was learned (see clf_lr_delta). */
static int apply(learner *l, lrn_msg *x, uint32_t user, const msg_rec *r, int sign)
{
	int ds = r->is_spam ? sign : 0, dh = r->is_spam ? 0 : sign;
	uint32_t day = (uint32_t)(time(NULL) / 86400);
	size_t n = x->fs.n;
	int err;

	for (size_t i = 0; i < n; i++) {
		feat_stat before = x->st[i];
		if (sign < 0) {
			before.spam -= before.spam && r->is_spam;
			before.ham -= before.ham && !r->is_spam;
		}
		x->dw[i] = (float)sign * clf_lr_delta(&l->p, &before, r->step);
	}
	err = l->s->ops->update(l->s, user, x->keys, n, ds, dh, x->dw, day);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		x->st[i].spam += (uint32_t)ds;
		x->st[i].ham += (uint32_t)dh;
		x->st[i].w += x->dw[i];
	}
	return l->s->ops->add_totals(l->s, user, ds, dh);
}

static int do_learn(learner *l, lrn_msg *x, uint32_t user, int is_spam, double lr_logit,
                    const uint8_t *dg)
{
	msg_rec r = {(uint8_t)is_spam, (uint32_t)x->fs.n, 0, time(NULL)};
	int err;

	r.step = (float)clf_lr_step(&l->p, lr_logit, x->st, x->fs.n, is_spam);
	if ((err = apply(l, x, user, &r, +1)))
		return err;
	return l->s->ops->put_msg(l->s, user, dg, &r);
}

static int do_unlearn(learner *l, lrn_msg *x, uint32_t user, const msg_rec *r, const uint8_t *dg)
{
	int err = apply(l, x, user, r, -1);

	return err ? err : l->s->ops->del_msg(l->s, user, dg);
}

static double lr_logit_of(const lrn_msg *x)
{
	double z = 0;

	for (size_t i = 0; i < x->fs.n; i++)
		z += x->st[i].w;
	return z;
}

static int learn_prepared(learner *l, const ss_message *m, lrn_msg *x, uint32_t user, int is_spam,
                          double lr_logit, int *what)
{
	uint8_t dg[STORE_DIGEST];
	msg_rec old;
	int err, found;

	digest(m, dg);
	if ((found = l->s->ops->get_msg(l->s, user, dg, &old)) < 0)
		return found;
	*what = LRN_LEARNED;
	if (found && old.is_spam == is_spam) {
		*what = LRN_UNCHANGED;
		return 0;
	}
	if (found) {
		if ((err = do_unlearn(l, x, user, &old, dg)))
			return err;
		/* The step is computed afresh against the model without it. */
		lr_logit = lr_logit_of(x);
		*what = LRN_MOVED;
	}
	return do_learn(l, x, user, is_spam, lr_logit, dg);
}

int learner_learn(learner *l, const ss_message *m, uint32_t user, int is_spam, ss_arena *a,
                  int *what)
{
	lrn_msg x;
	clf_totals t;
	int err = prepare(l, m, user, a, &x, &t);

	return err ? err : learn_prepared(l, m, &x, user, is_spam, lr_logit_of(&x), what);
}

int learner_unlearn(learner *l, const ss_message *m, uint32_t user, ss_arena *a, int *what)
{
	uint8_t dg[STORE_DIGEST];
	msg_rec old;
	lrn_msg x;
	clf_totals t;
	int err, found;

	*what = LRN_UNCHANGED;
	digest(m, dg);
	if ((found = l->s->ops->get_msg(l->s, user, dg, &old)) <= 0)
		return found;
	if ((err = prepare(l, m, user, a, &x, &t)))
		return err;
	*what = LRN_UNLEARNED;
	return do_unlearn(l, &x, user, &old, dg);
}

int learner_check_learn(learner *l, const ss_message *m, int is_spam, ss_arena *a, lrn_verdict *v)
{
	lrn_msg x;
	clf_totals t;
	int what, err = prepare(l, m, 0, a, &x, &t);

	if (!err)
		err = score(l, &x, &t, 0, a, v);
	return err ? err : learn_prepared(l, m, &x, 0, is_spam, v->r.lr, &what);
}
