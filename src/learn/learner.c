/*
 * learner.c: check, learn, unlearn (see learner.h).
 */
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "learn/learner.h"

struct learner {
	store *s;
	clf_params p;
	feat_ctx *fc;
	clf_memo *memo; /* the count expert's evidence, across messages */
};

/* A message's features, their keys and combined statistics. */
typedef struct lrn_msg {
	feat_set fs;
	uint64_t *keys;
	feat_stat *st;
	float *dw;           /* scratch: weight changes */
	const ss_message *m; /* NULL: only its keys are known (a journal's redo) */
	const uint8_t *text; /* the compression expert's text (made when needed) */
	size_t tlen;
	ss_arena *a;
	clf_totals t; /* the model's totals (global + user), kept in step by apply */
} lrn_msg;

learner *learner_new(store *s, const clf_params *p, size_t max_features)
{
	learner *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->s = s;
	l->p = *p;
	if (!(l->fc = feat_new(max_features, p->grams > 0 ? (size_t)p->grams : 0)) ||
	    !(l->memo = calloc(1, sizeof(*l->memo)))) {
		feat_free(l->fc);
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
	free(l->memo);
	free(l);
}

void learner_digest(const ss_message *m, uint8_t *out)
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

/* Looks up the statistics (global + user) of x->keys[0..x->fs.n) into
 * x->st, and the totals into x->t; allocates x->st and x->dw in a. */
static int lookup_stats(learner *l, lrn_msg *x, uint32_t user, ss_arena *a)
{
	size_t n = x->fs.n;
	int err;

	/* dw is written before it is read: not zeroed. st is, so that a
	 * backend may leave absent features untouched. */
	x->st = arena_calloc(a, n ? n : 1, sizeof(feat_stat));
	x->dw = arena_alloc(a, (n ? n : 1) * sizeof(float));
	if (!x->st || !x->dw)
		return SS_ENOMEM;
	if ((err = l->s->ops->lookup(l->s, 0, x->keys, n, x->fs.ntok, x->st)) ||
	    (err = l->s->ops->totals(l->s, 0, &x->t)))
		return err;
	if (user) {
		feat_stat *ust = arena_calloc(a, n ? n : 1, sizeof(feat_stat));
		clf_totals ut;
		if (!ust)
			return SS_ENOMEM;
		if ((err = l->s->ops->lookup(l->s, user, x->keys, n, x->fs.ntok, ust)) ||
		    (err = l->s->ops->totals(l->s, user, &ut)))
			return err;
		add_stats(x->st, ust, n);
		x->t.spam += ut.spam;
		x->t.ham += ut.ham;
	}
	return 0;
}

/* Extracts features and looks up their statistics (global + user). */
static int prepare(learner *l, const ss_message *m, uint32_t user, ss_arena *a, lrn_msg *x)
{
	int err = feat_extract(l->fc, m, a, &x->fs);
	size_t n = x->fs.n;

	x->m = m;
	x->text = NULL;
	x->a = a;
	if (err)
		return err;
	if (!(x->keys = arena_alloc(a, (n ? n : 1) * sizeof(uint64_t))))
		return SS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		x->keys[i] = x->fs.v[i].h;
	return lookup_stats(l, x, user, a);
}

/* Whether a pushes less than b; of equal pushes, the later feature is the
 * weaker, so that the order is that of a stable sort. */
static int weaker(const clf_contrib *a, const clf_contrib *b)
{
	double x = a->weight < 0 ? -a->weight : a->weight,
	       y = b->weight < 0 ? -b->weight : b->weight;

	return x < y || (x == y && a->feat > b->feat);
}

/* Restores the min-heap order (weakest on top) of h[0..n) below slot i. */
static void heap_down(clf_contrib *h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;
		clf_contrib t;
		if (l < n && weaker(&h[l], &h[m]))
			m = l;
		if (r < n && weaker(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Keeps in top[0..k) the k strongest of c[0..n) (c[i].feat == i),
 * strongest first: a min-heap of the k strongest so far, so n log k, not
 * a sort of all n. */
static size_t strongest(const clf_contrib *c, size_t n, size_t k, clf_contrib *top)
{
	size_t m = 0;
	double weakest = 0; /* |weight| of the weakest kept, once k are */

	for (size_t i = 0; i < n && k; i++) {
		if (m < k) {
			top[m++] = c[i];
			if (m == k) {
				for (size_t j = k / 2; j-- > 0;)
					heap_down(top, k, j);
				weakest = fabs(top[0].weight);
			}
		} else if (fabs(c[i].weight) > weakest) {
			/* weaker(&top[0], &c[i]): c[i].feat == i is later than
			 * every kept feature, so a tie keeps the kept one. */
			top[0] = c[i];
			heap_down(top, k, 0);
			weakest = fabs(top[0].weight);
		}
	}
	if (m < k)
		for (size_t j = m / 2; j-- > 0;)
			heap_down(top, m, j);
	for (size_t end = m; end > 1; end--) { /* heap sort: weakest to the back */
		clf_contrib t = top[0];
		top[0] = top[end - 1];
		top[end - 1] = t;
		heap_down(top, end - 1, 0);
	}
	return m;
}

static int explain(const lrn_msg *x, const clf_contrib *c, size_t n, size_t ntop, ss_arena *a,
                   lrn_verdict *v)
{
	clf_contrib *sorted = arena_calloc(a, ntop ? ntop : 1, sizeof(*sorted));

	if (!sorted)
		return SS_ENOMEM;
	v->ntop = strongest(c, n, ntop, sorted);
	/* One more: room for the compression expert's line (explain_ppm). */
	if (!(v->top = arena_calloc(a, v->ntop + 1, sizeof(lrn_reason))))
		return SS_ENOMEM;
	for (size_t i = 0; i < v->ntop; i++) {
		const feat *f = &x->fs.v[sorted[i].feat];
		const char *tok = feat_token(f, a);
		if (!tok)
			return SS_ENOMEM;
		v->top[i] = (lrn_reason){feat_ns_name(f->ns), tok, sorted[i].weight,
		                         x->st[sorted[i].feat].spam, x->st[sorted[i].feat].ham};
	}
	return 0;
}

/* The compression expert's text of the message (once). */
static int ppm_text(lrn_msg *x)
{
	char *buf;

	if (x->text)
		return 0;
	if (!(buf = arena_alloc(x->a, PPM_TEXT)))
		return SS_ENOMEM;
	x->tlen = feat_text(x->m, buf, PPM_TEXT);
	x->text = (const uint8_t *)buf;
	return 0;
}

/* The global model's compression table for writing (1) or reading (0),
 * or 0 when there is none, no message text to give it, or (reading) the
 * expert is off. Learning goes on while it is off, so that turning it on
 * again finds the table in step with the rest of the model. */
static int ppm_view_of(learner *l, const lrn_msg *x, int write, ppm_view **pv)
{
	if (!l->s->ops->ppm || !x->m || (!write && l->p.w_ppm <= 0))
		return 0;
	return l->s->ops->ppm(l->s, write, pv);
}

/* Adds the compression expert to v once it has learned a message. */
static int add_ppm(learner *l, lrn_msg *x, lrn_verdict *v)
{
	clf_totals pt;
	ppm_view *pv;
	int rc = ppm_view_of(l, x, 0, &pv), scored;

	if (rc <= 0 || !pv->d || pv->d->msgs[0] + pv->d->msgs[1] == 0)
		return rc < 0 ? rc : 0;
	/* Its weight ramps over the messages it learned (a model imported
	 * or migrated without a table has learned many more). */
	pt = (clf_totals){pv->d->msgs[1], pv->d->msgs[0]};
	scored = clf_ppm_wanted(&l->p, &v->r);
	if (scored && (rc = ppm_text(x)))
		return rc;
	clf_add_ppm(&l->p, &pt, scored, scored ? ppm_cost(pv, x->text, x->tlen) : 0,
	            scored ? x->tlen : 0, &v->r);
	return 0;
}

/* Puts the compression expert's share among v->top (strongest first; the
 * caller left room for one more) when it read the message. */
static void explain_ppm(lrn_verdict *v, size_t ntop)
{
	lrn_reason r = {"ppm", "text model", v->r.ppm, 0, 0};
	size_t i = v->ntop;

	if (!v->r.ppm_scored || !ntop)
		return;
	while (i > 0 && fabs(v->top[i - 1].weight) < fabs(r.weight))
		i--;
	if (i >= ntop)
		return;
	memmove(v->top + i + 1, v->top + i, (v->ntop - i) * sizeof(*v->top));
	v->top[i] = r;
	v->ntop += v->ntop < ntop;
}

static int score(learner *l, lrn_msg *x, size_t ntop, ss_arena *a, lrn_verdict *v)
{
	clf_contrib *c = NULL;
	size_t n = x->fs.n;
	int err;

	memset(v, 0, sizeof(*v));
	/* clf_score writes every entry. */
	if (ntop && !(c = arena_alloc(a, (n ? n : 1) * sizeof(*c))))
		return SS_ENOMEM;
	clf_score(&l->p, &x->t, x->st, n, x->fs.ntok, &v->r, c, l->memo);
	if ((err = add_ppm(l, x, v)))
		return err;
	v->is_spam = v->r.score >= l->p.spam_at;
	v->nfeat = n;
	if (!ntop)
		return 0;
	if ((err = explain(x, c, n, ntop, a, v)))
		return err;
	explain_ppm(v, ntop);
	return 0;
}

int learner_check(learner *l, const ss_message *m, uint32_t user, size_t ntop, ss_arena *a,
                  lrn_verdict *v)
{
	lrn_msg x;
	int err = prepare(l, m, user, a, &x);

	return err ? err : score(l, &x, ntop, a, v);
}

/* Learns (sign +1) or unlearns (-1) the message's text in the global
 * model's compression table, when it has one. */
static int apply_ppm(learner *l, lrn_msg *x, int is_spam, int sign)
{
	ppm_view *pv;
	int rc = ppm_view_of(l, x, 1, &pv);

	if (rc <= 0)
		return rc;
	if ((rc = ppm_text(x)))
		return rc;
	return ppm_learn(pv, x->text, x->tlen, is_spam, sign);
}

/* Applies (sign +1) or removes (sign -1) a message's contribution, and
 * keeps x->st in step with the store. A feature's weight change depends on
 * its count before the message was learned (see clf_lr_delta). The n-gram
 * slots are weights only: their counts are not moved. */
static int apply(learner *l, lrn_msg *x, uint32_t user, const msg_rec *r, int sign)
{
	int ds = r->is_spam ? sign : 0, dh = r->is_spam ? 0 : sign;
	uint32_t day = (uint32_t)(time(NULL) / 86400);
	size_t n = x->fs.n, split = x->fs.ntok;
	clf_params gp;
	int err;

	clf_params_gram(&l->p, &gp);
	for (size_t i = 0; i < n; i++) {
		feat_stat before = x->st[i];
		if (sign < 0) {
			before.spam -= before.spam && r->is_spam;
			before.ham -= before.ham && !r->is_spam;
		}
		x->dw[i] = (float)sign * (i < split ? clf_lr_delta(&l->p, &before, r->step)
		                                    : clf_lr_delta(&gp, &before, r->gstep));
	}
	if ((err = l->s->ops->update(l->s, user, x->keys, split, ds, dh, x->dw, day)) ||
	    (n > split && (err = l->s->ops->update(l->s, user, x->keys + split, n - split, 0, 0,
	                                           x->dw + split, day))))
		return err;
	for (size_t i = 0; i < n; i++) {
		if (i < split) {
			x->st[i].spam += (uint32_t)ds;
			x->st[i].ham += (uint32_t)dh;
		}
		x->st[i].w += x->dw[i];
	}
	if (!user && (err = apply_ppm(l, x, r->is_spam, sign)))
		return err;
	/* x->t follows too: a move learns with the totals it left */
	x->t.spam += (uint64_t)(int64_t)ds;
	x->t.ham += (uint64_t)(int64_t)dh;
	return l->s->ops->add_totals(l->s, user, ds, dh);
}

static double lr_logit_of(const lrn_msg *x, size_t from, size_t to)
{
	double z = 0;

	for (size_t i = from; i < to; i++)
		z += x->st[i].w;
	return z;
}

/* Learns the message: each regression expert's step is computed from its
 * log-odds over x->st, which is the model as it is now (without the
 * message when it is being moved). */
static int do_learn(learner *l, lrn_msg *x, uint32_t user, int is_spam, const uint8_t *dg)
{
	msg_rec r = {.is_spam = (uint8_t)is_spam, .nfeat = (uint32_t)x->fs.n, .time = time(NULL)};
	size_t n = x->fs.n, split = x->fs.ntok;
	clf_params gp;
	double off = 0;
	int err;

	clf_params_gram(&l->p, &gp);
	if (l->p.lr_off != 0)
		off = l->p.lr_off * clf_bayes_share(&l->p, &x->t, x->st, split, l->memo);
	r.step = (float)clf_lr_step(&l->p, off + lr_logit_of(x, 0, split), x->st, split, is_spam);
	r.gstep = (float)clf_lr_step(&gp, off + lr_logit_of(x, split, n), x->st + split, n - split,
	                             is_spam);
	if ((err = apply(l, x, user, &r, +1)))
		return err;
	return l->s->ops->put_msg(l->s, user, dg, &r);
}

static int do_unlearn(learner *l, lrn_msg *x, uint32_t user, const msg_rec *r, const uint8_t *dg)
{
	int err = apply(l, x, user, r, -1);

	return err ? err : l->s->ops->del_msg(l->s, user, dg);
}

/* Tells the store what the writes that follow mean (see store.h). */
static int note_intent(learner *l, const lrn_msg *x, uint32_t user, const char *user_name,
                       const uint8_t *dg, int action)
{
	store_intent in = {user_name, dg, action, x->keys, x->fs.n, x->fs.ntok};

	return l->s->ops->intent ? l->s->ops->intent(l->s, user, &in) : 0;
}

/* Learns the message of digest dg (features in x) as is_spam, moving it
 * when it was learned as the other class. */
static int learn_digest(learner *l, lrn_msg *x, uint32_t user, const char *user_name,
                        const uint8_t *dg, int is_spam, int *what)
{
	msg_rec old;
	int err, found;

	if ((found = l->s->ops->get_msg(l->s, user, dg, &old)) < 0)
		return found;
	found = found == 1; /* STORE_MSG_UNKNOWN: taken as new; the intent redoes it */
	*what = LRN_LEARNED;
	if (found && old.is_spam == is_spam) {
		*what = LRN_UNCHANGED;
		return 0;
	}
	if ((err = note_intent(l, x, user, user_name, dg,
	                       is_spam ? STORE_LEARN_SPAM : STORE_LEARN_HAM)))
		return err;
	if (found) {
		if ((err = do_unlearn(l, x, user, &old, dg)))
			return err;
		*what = LRN_MOVED;
	}
	return do_learn(l, x, user, is_spam, dg);
}

static int learn_prepared(learner *l, const ss_message *m, lrn_msg *x, uint32_t user,
                          const char *user_name, int is_spam, int *what)
{
	uint8_t dg[STORE_DIGEST];

	learner_digest(m, dg);
	return learn_digest(l, x, user, user_name, dg, is_spam, what);
}

int learner_learn(learner *l, const ss_message *m, uint32_t user, const char *user_name,
                  int is_spam, ss_arena *a, int *what)
{
	lrn_msg x;
	int err = prepare(l, m, user, a, &x);

	return err ? err : learn_prepared(l, m, &x, user, user_name, is_spam, what);
}

int learner_unlearn(learner *l, const ss_message *m, uint32_t user, const char *user_name,
                    ss_arena *a, int *what)
{
	uint8_t dg[STORE_DIGEST];
	msg_rec old;
	lrn_msg x;
	int err, found;

	*what = LRN_UNCHANGED;
	learner_digest(m, dg);
	if ((found = l->s->ops->get_msg(l->s, user, dg, &old)) <= 0)
		return found;
	if ((err = prepare(l, m, user, a, &x)) ||
	    (err = note_intent(l, &x, user, user_name, dg, STORE_UNLEARN)))
		return err;
	*what = LRN_UNLEARNED;
	/* Unknown (the store's server is down): the intent alone does it. */
	return found == STORE_MSG_UNKNOWN ? 0 : do_unlearn(l, &x, user, &old, dg);
}

/* The user a redo writes to: 0 with *user set, 1 when an unlearn's user
 * has no model (nothing to undo), or an SS_E* code. */
static int redo_user(learner *l, const store_intent *in, uint32_t *user)
{
	int rc;

	*user = 0;
	if (!in->user_name || !*in->user_name)
		return 0;
	rc = l->s->ops->user_id(l->s, in->user_name, in->action != STORE_UNLEARN, user);
	return rc < 0 ? rc : !rc;
}

/* The body of learner_redo, in its open transaction. */
static int redo_txn(learner *l, const store_intent *in, ss_arena *a)
{
	lrn_msg x = {.fs = {NULL, in->n, in->ntok}, .keys = (uint64_t *)in->keys};
	uint32_t user;
	msg_rec old;
	int err = redo_user(l, in, &user), what, found;

	if (err)
		return err > 0 ? 0 : err;
	if ((err = lookup_stats(l, &x, user, a)))
		return err;
	if (in->action != STORE_UNLEARN)
		return learn_digest(l, &x, user, NULL, in->digest, in->action == STORE_LEARN_SPAM,
		                    &what);
	if ((found = l->s->ops->get_msg(l->s, user, in->digest, &old)) != 1)
		return found < 0 ? found : found ? SS_EIO : 0;
	return do_unlearn(l, &x, user, &old, in->digest);
}

int learner_redo(learner *l, store *h, const store_intent *in)
{
	learner w = *l; /* its parameters, on h; no feature extraction */
	ss_arena a;
	int err, e2;

	if (in->ntok > in->n)
		return SS_EINVAL;
	w.s = h;
	if ((err = h->ops->begin(h, 1)))
		return err;
	arena_init(&a);
	err = redo_txn(&w, in, &a);
	/* Reads answered from what is local (the server went away meanwhile):
	 * not the model as it is; tried again later. */
	if (!err && h->ops->degraded && h->ops->degraded(h))
		err = SS_EIO;
	arena_release(&a);
	e2 = h->ops->end(h, !err);
	return err ? err : e2;
}

int learner_check_learn(learner *l, const ss_message *m, int is_spam, ss_arena *a, lrn_verdict *v)
{
	lrn_msg x;
	int what, err = prepare(l, m, 0, a, &x);

	if (!err)
		err = score(l, &x, 0, a, v);
	return err ? err : learn_prepared(l, m, &x, 0, NULL, is_spam, &what);
}
