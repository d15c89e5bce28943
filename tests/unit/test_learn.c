/*
 * test_learn.c: the learner over the in-memory store (learning, idempotence,
 * unlearn restoring scores, per-user models falling back on the global one),
 * the LMDB store giving the same scores as it is read and written, and the
 * TREC measures of an evaluation, and a report redone from its intent (what
 * the Redis journal replays).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "samples.h"
#include "learn/features.h"
#include "learn/learner.h"
#include "learn/metrics.h"
#include "store/modelfile.h"

static const char probe[] = "Subject: cheap project review\r\nFrom: x@y.example\r\n\r\n"
                            "Click now for the project meeting, cheap price.\r\n";

typedef struct fixture {
	store *s;
	learner *l;
} fixture;

/* Opens an in-memory model with parameters p. */
static void fx_open_p(fixture *f, const clf_params *p)
{
	f->s = store_mem_new();
	f->l = f->s ? learner_new(f->s, p, 0) : NULL;
	CHECK(f->l != NULL);
}

static void fx_open(fixture *f)
{
	clf_params p;

	clf_params_default(&p);
	fx_open_p(f, &p);
}

static void fx_close(fixture *f)
{
	learner_free(f->l);
	store_close(f->s);
}

/* Learns (or with unlearn, unlearns) one message; returns the LRN_* code. */
static int teach(fixture *f, const char *raw, uint32_t user, int is_spam, int unlearn)
{
	ss_message *m = NULL;
	ss_arena a;
	int what = -1;

	arena_init(&a);
	CHECK(ss_parse(raw, strlen(raw), NULL, &m) == 0);
	if (m)
		CHECK((unlearn ? learner_unlearn(f->l, m, user, NULL, &a, &what)
		               : learner_learn(f->l, m, user, NULL, is_spam, &a, &what)) == 0);
	arena_release(&a);
	ss_message_free(m);
	return what;
}

/* The global or user model's verdict on raw. */
static clf_result verdict(fixture *f, const char *raw, uint32_t user)
{
	ss_message *m = NULL;
	ss_arena a;
	lrn_verdict v = {0};

	arena_init(&a);
	CHECK(ss_parse(raw, strlen(raw), NULL, &m) == 0);
	if (m)
		CHECK(learner_check(f->l, m, user, 5, &a, &v) == 0);
	arena_release(&a);
	ss_message_free(m);
	return v.r;
}

static double score(fixture *f, const char *raw, uint32_t user)
{
	return verdict(f, raw, user).score;
}

static void teach_all(fixture *f, uint32_t user)
{
	for (size_t i = 0; i < SAMPLES; i++) {
		CHECK(teach(f, sample_spams[i], user, 1, 0) == LRN_LEARNED);
		CHECK(teach(f, sample_hams[i], user, 0, 0) == LRN_LEARNED);
	}
}

/* Without the warm-up (which the next test checks), six messages are
 * enough for confident verdicts on messages like them. */
TEST(learn_separates_classes)
{
	fixture f;
	clf_params p;

	clf_params_default(&p);
	p.warm = 0;
	p.g_warm = 0;
	fx_open_p(&f, &p);
	CHECK(fabs(score(&f, sample_spams[0], 0) - 0.5) < 1e-9); /* empty model: undecided */
	teach_all(&f, 0);
	CHECK(score(&f, sample_spams[1], 0) > 0.9);
	CHECK(score(&f, sample_hams[1], 0) < 0.1);
	fx_close(&f);
}

static double logit_of(double s)
{
	return log(s / (1 - s));
}

/* A model that has learned n < warm messages gives the log-odds of one
 * without warm-up times (n + 1) / (warm + 1): same verdicts, less sure;
 * from warm messages on, the same scores. */
TEST(learn_warm_up_scales_early_scores)
{
	fixture def, off, full;
	clf_params p;
	double lo, ld;

	clf_params_default(&p);
	CHECK(p.warm == 80);
	p.g_warm = 0; /* the n-gram expert's own ramp: the next test */
	fx_open_p(&def, &p);
	p.warm = 0;
	fx_open_p(&off, &p);
	p.warm = 2 * SAMPLES; /* reached once teach_all is done */
	fx_open_p(&full, &p);
	teach_all(&def, 0);
	teach_all(&off, 0);
	teach_all(&full, 0);
	for (size_t i = 0; i < SAMPLES; i++) {
		const char *probes[] = {sample_spams[i], sample_hams[i], probe};
		for (size_t j = 0; j < 3; j++) {
			lo = logit_of(score(&off, probes[j], 0));
			ld = logit_of(score(&def, probes[j], 0));
			CHECK(fabs(ld - lo * (2 * SAMPLES + 1) / 81.0) < 1e-9 * (1 + fabs(lo)));
			CHECK(score(&full, probes[j], 0) == score(&off, probes[j], 0));
		}
	}
	CHECK(score(&def, sample_spams[1], 0) > 0.5);
	CHECK(score(&def, sample_hams[1], 0) < 0.5);
	fx_close(&def);
	fx_close(&off);
	fx_close(&full);
}

/* Below g_warm messages learned, the n-gram expert's fusion weight is
 * scaled by (n + 1) / (g_warm + 1): the experts' own log-odds are those of
 * a model without it, and only the n-gram share of the sum shrinks. */
TEST(learn_gram_warm_up_scales_its_weight)
{
	fixture off, on;
	clf_params p;
	double k = (2 * SAMPLES + 1) / (4 * SAMPLES + 1.0);

	clf_params_default(&p);
	CHECK(p.g_warm == 100);
	CHECK(clf_params_set(&p, "g_warm=7") == 0 && p.g_warm == 7);
	p.warm = 0;
	p.g_warm = 0;
	fx_open_p(&off, &p);
	p.g_warm = 4 * SAMPLES; /* not reached by teach_all */
	fx_open_p(&on, &p);
	teach_all(&off, 0);
	teach_all(&on, 0);
	for (size_t i = 0; i < SAMPLES; i++) {
		const char *probes[] = {sample_spams[i], sample_hams[i], probe};
		for (size_t j = 0; j < 3; j++) {
			clf_result a = verdict(&off, probes[j], 0), b = verdict(&on, probes[j], 0);
			double want = a.logit - p.w_gram * a.gram * (1 - k);
			CHECK(a.bayes == b.bayes && a.lr == b.lr && a.gram == b.gram);
			CHECK(fabs(b.logit - want) < 1e-9 * (1 + fabs(want)));
		}
	}
	fx_close(&off);
	fx_close(&on);
}

TEST(learn_is_idempotent)
{
	fixture f, g;

	fx_open(&f);
	fx_open(&g);
	teach_all(&f, 0);
	teach_all(&g, 0);
	CHECK(teach(&f, sample_spams[0], 0, 1, 0) == LRN_UNCHANGED);
	CHECK(teach(&f, sample_hams[2], 0, 0, 0) == LRN_UNCHANGED);
	CHECK(score(&f, probe, 0) == score(&g, probe, 0));
	fx_close(&f);
	fx_close(&g);
}

TEST(learn_unlearn_restores_scores)
{
	fixture f, g;
	const char *extra = "Subject: project cheap\r\nFrom: z@q.example\r\n\r\n"
	                    "Project meeting review, click now cheap price meeting.\r\n";

	fx_open(&f);
	fx_open(&g);
	teach_all(&f, 0);
	teach_all(&g, 0);
	CHECK(teach(&f, extra, 0, 1, 0) == LRN_LEARNED);
	CHECK(fabs(score(&f, probe, 0) - score(&g, probe, 0)) > 1e-3);
	CHECK(teach(&f, extra, 0, 0, 1) == LRN_UNLEARNED);
	CHECK(teach(&f, extra, 0, 0, 1) == LRN_UNCHANGED); /* nothing left to undo */
	/* Counts are exact; weights within float rounding of the last step. */
	CHECK(fabs(score(&f, probe, 0) - score(&g, probe, 0)) < 1e-4);
	CHECK(fabs(score(&f, sample_spams[1], 0) - score(&g, sample_spams[1], 0)) < 1e-4);
	fx_close(&f);
	fx_close(&g);
}

TEST(learn_relearn_moves_class)
{
	fixture f, g;

	fx_open(&f);
	fx_open(&g);
	teach_all(&f, 0);
	teach_all(&g, 0);
	CHECK(teach(&f, probe, 0, 1, 0) == LRN_LEARNED);
	CHECK(teach(&f, probe, 0, 0, 0) == LRN_MOVED);
	CHECK(teach(&g, probe, 0, 0, 0) == LRN_LEARNED);
	CHECK(fabs(score(&f, sample_spams[2], 0) - score(&g, sample_spams[2], 0)) < 1e-4);
	fx_close(&f);
	fx_close(&g);
}

TEST(learn_user_falls_back_on_global)
{
	fixture f;
	uint32_t alice = 0;
	double global;

	fx_open(&f);
	teach_all(&f, 0);
	CHECK(f.s->ops->user_id(f.s, "alice", 1, &alice) == 1 && alice != 0);
	global = score(&f, probe, 0);
	CHECK(score(&f, probe, alice) == global); /* nothing of her own yet */
	/* Alice reports the probe as spam several times over (distinct copies):
	 * her verdict moves, the global one does not. */
	for (int i = 0; i < 4; i++) {
		char copy[512];
		snprintf(copy, sizeof(copy), "Message-ID: <%d@x>\r\n%s", i, probe);
		CHECK(teach(&f, copy, alice, 1, 0) == LRN_LEARNED);
	}
	CHECK(score(&f, probe, alice) > global + 0.1);
	CHECK(score(&f, probe, 0) == global);
	fx_close(&f);
}

/* Runs teach() or score() on an LMDB store inside a write or read
 * transaction of its own. */
static int teach_txn(fixture *f, const char *raw, uint32_t user, int is_spam)
{
	int what;

	CHECK(f->s->ops->begin(f->s, 1) == 0);
	what = teach(f, raw, user, is_spam, 0);
	CHECK(f->s->ops->end(f->s, 1) == 0);
	return what;
}

static double score_txn(fixture *f, const char *raw, uint32_t user)
{
	double v;

	CHECK(f->s->ops->begin(f->s, 0) == 0);
	v = score(f, raw, user);
	CHECK(f->s->ops->end(f->s, 0) == 0);
	return v;
}

/* Opens an LMDB model of size_mb in a new directory (name in dir). */
static void fx_open_lmdb(fixture *f, char *dir, size_t dlen, size_t size_mb)
{
	store_lmdb_opts o = {size_mb, 1, 0, 0};
	clf_params p;

	clf_params_default(&p);
	snprintf(dir, dlen, "/tmp/ss-learn-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	CHECK(store_lmdb_open(dir, &o, &f->s) == 0);
	f->l = f->s ? learner_new(f->s, &p, 0) : NULL;
	CHECK(f->l != NULL);
}

static void rm_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

/* An LMDB store of 256 buckets (1 MB: a message's features miss on more
 * than an eighth of them, so both the bucket-by-bucket reads and the
 * cursor walk are used) gives exactly the in-memory store's scores after
 * every commit, read again in the same snapshot, through a second handle,
 * for a user's model, and opened read-only. */
TEST(learn_lmdb_scores_follow_commits)
{
	fixture mem, db, dup;
	store_lmdb_opts o = {1, 1, 0, 0};
	char dir[64];
	clf_params p;
	uint32_t alice = 0, alice_mem = 0;
	const char *probes[] = {probe, sample_spams[0], sample_hams[1]};

	clf_params_default(&p);
	fx_open(&mem);
	fx_open_lmdb(&db, dir, sizeof(dir), o.size_mb);
	CHECK(db.s->ops->dup(db.s, &dup.s) == 0);
	dup.l = learner_new(dup.s, &p, 0);
	CHECK(db.l && dup.l);
	for (size_t i = 0; i < SAMPLES; i++) {
		CHECK(teach(&mem, sample_spams[i], 0, 1, 0) == LRN_LEARNED);
		CHECK(teach_txn(&db, sample_spams[i], 0, 1) == LRN_LEARNED);
		CHECK(teach(&mem, sample_hams[i], 0, 0, 0) == LRN_LEARNED);
		CHECK(teach_txn(&db, sample_hams[i], 0, 0) == LRN_LEARNED);
		for (size_t k = 0; k < 3; k++) {
			double want = score(&mem, probes[k], 0);
			CHECK(score_txn(&db, probes[k], 0) == want);
			CHECK(score_txn(&db, probes[k], 0) == want); /* same snapshot again */
			CHECK(score_txn(&dup, probes[k], 0) == want);
		}
	}
	CHECK(mem.s->ops->user_id(mem.s, "alice", 1, &alice_mem) == 1);
	CHECK(db.s->ops->begin(db.s, 1) == 0);
	CHECK(db.s->ops->user_id(db.s, "alice", 1, &alice) == 1);
	CHECK(db.s->ops->end(db.s, 1) == 0);
	CHECK(teach(&mem, probe, alice_mem, 1, 0) == LRN_LEARNED);
	CHECK(teach_txn(&db, probe, alice, 1) == LRN_LEARNED);
	for (size_t k = 0; k < 3; k++) {
		CHECK(score_txn(&db, probes[k], alice) == score(&mem, probes[k], alice_mem));
		CHECK(score_txn(&dup, probes[k], 0) == score(&mem, probes[k], 0));
	}
	learner_free(dup.l);
	store_close(dup.s);
	fx_close(&db);
	/* Opened again read-only (after closing: LMDB wants one environment
	 * per file in a process), it reads the same model and refuses writes. */
	o.read_only = 1;
	CHECK(store_lmdb_open(dir, &o, &db.s) == 0);
	db.l = db.s ? learner_new(db.s, &p, 0) : NULL;
	CHECK(db.l != NULL);
	for (size_t k = 0; db.l && k < 3; k++)
		CHECK(score_txn(&db, probes[k], 0) == score(&mem, probes[k], 0));
	if (db.s)
		CHECK(db.s->ops->begin(db.s, 1) == SS_EINVAL);
	fx_close(&db);
	fx_close(&mem);
	rm_dir(dir);
}

/* What a walk of a model saw: its features, which of them are n-gram
 * slots, and (with `w`, FEAT_GRAMS entries) the global slots' weights. */
typedef struct seen {
	size_t feats, grams;
	float *w;
} seen;

static int seen_feat(void *ctx, uint32_t user, uint64_t key, const feat_stat *st)
{
	seen *c = ctx;
	uint32_t slot;

	c->feats++;
	if (feat_gram_slot(key, &slot)) {
		c->grams++;
		CHECK(st->spam == 0 && st->ham == 0); /* a weight only */
		if (c->w && !user)
			c->w[slot] = st->w;
	}
	return 0;
}

static seen walk_model(fixture *f, float *w)
{
	seen c = {0, 0, w};
	store_walker wk = {&c, NULL, seen_feat, NULL};

	CHECK(f->s->ops->begin(f->s, 0) == 0);
	CHECK(f->s->ops->walk(f->s, &wk) == 0);
	f->s->ops->end(f->s, 0);
	return c;
}

/* A message of `words` made-up words drawn from seed (distinct across
 * seeds), into buf. */
static void made_up(char *buf, size_t cap, unsigned seed, size_t words)
{
	size_t n = (size_t)snprintf(buf, cap, "Message-ID: <%u@made.up>\r\nSubject: m%u\r\n\r\n",
	                            seed, seed);

	for (size_t i = 0; i < words && n + 16 < cap; i++) {
		unsigned x = seed * 7919u + (unsigned)i * 104729u;
		buf[n++] = ' ';
		for (int k = 0; k < 7; k++, x = x * 1103515245u + 12345u)
			buf[n++] = (char)('a' + (x >> 16) % 26);
	}
	memcpy(buf + n, "\r\n", 3);
}

/* The global model's n-gram slots live in LMDB's dense array, not in
 * buckets: when a 1 MB model is full and evicts tokens, every slot still
 * has exactly the weight the in-memory model gives it. */
TEST(learn_lmdb_keeps_every_gram_slot)
{
	fixture mem, db;
	char dir[64], buf[4096];
	float *wm = calloc(FEAT_GRAMS, sizeof(float)), *wd = calloc(FEAT_GRAMS, sizeof(float));
	seen sm, sd;
	size_t differ = 0;

	CHECK(wm && wd);
	fx_open(&mem);
	fx_open_lmdb(&db, dir, sizeof(dir), 1);
	CHECK(db.s->ops->begin(db.s, 1) == 0);
	for (unsigned i = 0; i < 400; i++) { /* ~120,000 words: the buckets hold 43,520 */
		made_up(buf, sizeof(buf), i, 300);
		CHECK(teach(&mem, buf, 0, (int)(i & 1), 0) == LRN_LEARNED);
		CHECK(teach(&db, buf, 0, (int)(i & 1), 0) == LRN_LEARNED);
	}
	CHECK(db.s->ops->end(db.s, 1) == 0);
	sm = walk_model(&mem, wm);
	sd = walk_model(&db, wd);
	CHECK(sd.feats - sd.grams < (sm.feats - sm.grams) / 2); /* tokens were evicted */
	CHECK(sd.grams > 10000);
	for (size_t i = 0; wm && wd && i < FEAT_GRAMS; i++)
		differ += wm[i] != wd[i];
	CHECK(differ == 0);
	fx_close(&db);
	fx_close(&mem);
	rm_dir(dir);
	free(wm);
	free(wd);
}

/* Unlearning the only message of the global model and of a user's leaves
 * both empty: counts back to 0 remove a token, a weight back to 0 an
 * n-gram slot. */
TEST(learn_lmdb_unlearn_leaves_nothing)
{
	fixture db;
	char dir[64];
	uint32_t alice = 0;

	fx_open_lmdb(&db, dir, sizeof(dir), 1);
	CHECK(db.s->ops->begin(db.s, 1) == 0);
	CHECK(db.s->ops->user_id(db.s, "alice", 1, &alice) == 1);
	CHECK(teach(&db, probe, 0, 1, 0) == LRN_LEARNED);
	CHECK(teach(&db, probe, alice, 1, 0) == LRN_LEARNED);
	CHECK(db.s->ops->end(db.s, 1) == 0);
	CHECK(walk_model(&db, NULL).grams > 20);
	CHECK(db.s->ops->begin(db.s, 1) == 0);
	CHECK(teach(&db, probe, 0, 0, 1) == LRN_UNLEARNED);
	CHECK(teach(&db, probe, alice, 0, 1) == LRN_UNLEARNED);
	CHECK(db.s->ops->end(db.s, 1) == 0);
	CHECK(walk_model(&db, NULL).feats == 0);
	fx_close(&db);
	rm_dir(dir);
}

/* Scores st[0..n) against t with memo m; the result and pushes in r, c. */
static void memo_score(clf_memo *m, const clf_totals *t, const feat_stat *st, size_t n,
                       clf_result *r, clf_contrib *c)
{
	clf_params p;

	clf_params_default(&p);
	clf_score(&p, t, st, n, n, r, c, m);
}

TEST(classify_memo_keeps_no_stale_evidence)
{
	/* The count expert's evidence remembered across messages is the same
	 * as computed afresh: after other pairs, other totals (the same pairs
	 * mean other evidence), and a score without pushes (no log-odds kept). */
	feat_stat st[64];
	clf_totals t = {40, 60}, t2 = {400, 60};
	clf_memo *fresh = calloc(1, sizeof(*fresh)), *used = calloc(1, sizeof(*used));
	clf_result a, b;
	clf_contrib ca[64], cb[64];

	CHECK(fresh && used);
	for (size_t i = 0; i < 64; i++)
		st[i] = (feat_stat){(uint32_t)(i * 7 % 23), (uint32_t)(i * 5 % 31), 0, 0};
	memo_score(used, &t2, st, 64, &a, ca);  /* same pairs, other totals */
	memo_score(used, &t, st, 32, &a, NULL); /* no pushes asked */
	memo_score(used, &t, st, 64, &a, ca);
	memo_score(fresh, &t, st, 64, &b, cb);
	CHECK(a.bayes == b.bayes && a.score == b.score && a.used == b.used);
	for (size_t i = 0; i < 64; i++)
		CHECK(ca[i].weight == cb[i].weight);
	memo_score(used, &t2, st, 64, &a, NULL);
	CHECK(a.bayes != b.bayes); /* the totals matter, so the test can tell */
	used->gen = UINT32_MAX;    /* a generation counter that wraps */
	memo_score(used, &t, st, 64, &a, ca);
	CHECK(a.bayes == b.bayes && used->gen == 1);
	free(fresh);
	free(used);
}

/* e^-m * sum_{i<k} m^i / i!, summed directly in long double. */
static long double chi2q_direct(long double m, size_t k)
{
	long double q = 0;

	for (size_t i = 0; i < k; i++)
		q += expl(-m + (long double)i * logl(m) - lgammal((long double)i + 1));
	return q;
}

TEST(classify_fisher_matches_direct_chi_square)
{
	/* k features of one spam probability f: the count expert's log-odds
	 * is Fisher's, (1 + Qh - Qs) / 2 with Qs, Qh chi-square tails at
	 * -2 k log(1 - f) and -2 k log f, here summed term by term. k = 60
	 * and f near 0.8 make the spammy tail's terms all rise (m > k) and
	 * the hammy one's rise and fall. */
	size_t ks[] = {3, 60, 200};
	clf_totals t = {100, 100};
	clf_memo *memo = calloc(1, sizeof(*memo));
	clf_params p;

	CHECK(memo != NULL);
	clf_params_default(&p);
	for (size_t j = 0; j < sizeof(ks) / sizeof(ks[0]); j++) {
		feat_stat st[200];
		clf_contrib c[200];
		clf_result r;
		long double f, qs, qh, want;
		size_t k = ks[j];
		for (size_t i = 0; i < k; i++)
			st[i] = (feat_stat){k == 200 ? 5 : 12, 3, 0, 0};
		clf_score(&p, &t, st, k, k, &r, c, memo);
		f = 1 / (1 + expl(-(long double)c[0].weight / p.w_bayes)); /* the feature's f */
		qs = chi2q_direct(-(long double)k * log1pl(-f), k);
		qh = chi2q_direct(-(long double)k * logl(f), k);
		want = logl((1 + qh - qs) / (1 - qh + qs));
		CHECK(r.used == k);
		CHECK(fabsl((long double)r.bayes - want) <= 1e-9L * (1 + fabsl(want)));
	}
	free(memo);
}

TEST(metrics_trec_measures)
{
	/* 4 spam, 4 ham; the ham at 0.7 is above two spams: AUC = 14/16. */
	ev_row r[] = {{0.9, 1, 1}, {0.8, 1, 1}, {0.7, 0, 1}, {0.6, 1, 1},
	              {0.4, 1, 0}, {0.3, 0, 0}, {0.2, 0, 0}, {0.1, 0, 0}};
	ev_metrics m;

	ev_compute(r, 8, &m);
	CHECK(m.spam == 4 && m.ham == 4 && m.fp == 1 && m.fn == 1);
	CHECK(fabs(m.one_minus_roca_pct - 200.0 / 16) < 1e-9);
	CHECK(fabs(m.hm_pct - 25) < 1e-9 && fabs(m.sm_pct - 25) < 1e-9);
	CHECK(fabs(m.lam_pct - 25) < 1e-9);
}

TEST(metrics_ties_count_half_and_zero_rates_smoothed)
{
	ev_row r[] = {{0.5, 1, 1}, {0.5, 0, 1}, {0.9, 1, 1}, {0.1, 0, 0}};
	ev_metrics m;
	sbuf svg = SBUF_INIT;

	ev_compute(r, 4, &m);
	CHECK(fabs(m.one_minus_roca_pct - 12.5) < 1e-9); /* one tied pair of four */
	/* fn = 0 of 2 is smoothed to 0.5/3 before the logit average. */
	CHECK(m.fn == 0 && m.fp == 1);
	CHECK(fabs(m.lam_pct - 100 / (1 + exp(-(log(0.5 / 2.5) + 0) / 2))) < 1e-9);
	CHECK(ev_plot_svg(r, 4, "t", &svg) == 0);
	CHECK_CONTAINS(svg.p, svg.len, "<polyline");
	CHECK_CONTAINS(svg.p, svg.len, "</svg>");
	sbuf_release(&svg);
}

/* Extracts the features of raw with a budget of gram_bytes for 4-grams and
 * returns how many came out; *ntok gets the token features' count and *saw
 * whether the printable form of gram `want` was among them. */
static size_t grams_of(const char *raw, size_t gram_bytes, size_t *ntok, const char *want, int *saw)
{
	feat_ctx *fc = feat_new(0, gram_bytes);
	ss_message *m = NULL;
	feat_set fs = {0};
	ss_arena a;

	arena_init(&a);
	*saw = 0;
	CHECK(fc != NULL);
	CHECK(ss_parse(raw, strlen(raw), NULL, &m) == 0);
	if (fc && m && feat_extract(fc, m, &a, &fs) == 0)
		for (size_t i = fs.ntok; i < fs.n; i++) {
			const char *t = feat_token(&fs.v[i], &a);
			CHECK(fs.v[i].ns == FNS_GRAM && t != NULL);
			*saw |= t && !strcmp(t, want);
		}
	for (size_t i = 0; i < fs.ntok; i++) {
		uint32_t slot;
		CHECK(fs.v[i].ns != FNS_GRAM && !feat_gram_slot(fs.v[i].h, &slot));
	}
	for (size_t i = fs.ntok; i < fs.n; i++) { /* slot keys, each slot once */
		uint32_t slot = 0, other = 0;
		CHECK(feat_gram_slot(fs.v[i].h, &slot) && slot < FEAT_GRAMS);
		CHECK(feat_gram_key(slot) == fs.v[i].h);
		for (size_t j = fs.ntok; j < i; j++)
			CHECK(feat_gram_slot(fs.v[j].h, &other) && other != slot);
	}
	*ntok = fs.ntok;
	arena_release(&a);
	ss_message_free(m);
	feat_free(fc);
	return fs.n;
}

TEST(features_grams_follow_tokens_within_budget)
{
	const char *raw = "Subject: Cheap Pills\r\nFrom: a@b.example\r\n\r\n"
	                  "Buy now\xe4\xb8\xad\xe6\x96\x87 tabs\tand caps.\r\n";
	size_t ntok, ntok0, n;
	int saw;

	CHECK(grams_of(raw, 0, &ntok0, "", &saw) == ntok0); /* no budget: no grams */
	n = grams_of(raw, 4096, &ntok, "p_pi", &saw);
	CHECK(ntok == ntok0 && n > ntok);
	CHECK(saw); /* "cheap pills", lower-cased, the space shown as '_' */
	grams_of(raw, 4096, &ntok, "\xe4\xb8\xad\\xe6", &saw);
	CHECK(saw); /* a whole UTF-8 character kept, a piece of one escaped */
	grams_of(raw, 4096, &ntok, "_and", &saw);
	CHECK(saw);                                                 /* TAB read as a space */
	CHECK(grams_of(raw, 16, &ntok, "", &saw) - ntok <= 16 - 3); /* the budget holds */
}

/* The 4-gram text (also the compression expert's) is lower-cased ASCII
 * with CR and TAB as spaces, the letters' neighbours ('@', '[', '`', '{')
 * and other bytes kept. */
TEST(features_text_lowercases)
{
	const char *raw = "Subject: MiXeD CaSe\r\n\r\n"
	                  "@AZ[`az{ THE QUICK\tBROWN FOX JUMPS OVER 0123456789 caf\xc3\xa9 Zz\r\n";
	const char *want[] = {"subject:mixed case\n",
	                      "@az[`az{ the quick brown fox jumps over 0123456789 caf\xc3\xa9 zz"};
	ss_message *m = NULL;
	char buf[512];
	size_t n = 0;

	CHECK(ss_parse(raw, strlen(raw), NULL, &m) == 0);
	if (m)
		n = feat_text(m, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		CHECK(!(buf[i] >= 'A' && buf[i] <= 'Z') && buf[i] != '\r' && buf[i] != '\t');
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(memmem(buf, n, want[i], strlen(want[i])) != NULL);
	ss_message_free(m);
}

/* Whether the token features of raw hold feature `want` in namespace ns. */
static int has_feature(const char *raw, unsigned ns, const char *want)
{
	feat_ctx *fc = feat_new(0, 0);
	ss_message *m = NULL;
	feat_set fs = {0};
	ss_arena a;
	int saw = 0;

	arena_init(&a);
	CHECK(fc != NULL);
	CHECK(ss_parse(raw, strlen(raw), NULL, &m) == 0);
	if (fc && m && feat_extract(fc, m, &a, &fs) == 0)
		for (size_t i = 0; i < fs.ntok; i++)
			saw |= fs.v[i].ns == ns && !strcmp(fs.v[i].tok, want);
	arena_release(&a);
	ss_message_free(m);
	feat_free(fc);
	return saw;
}

TEST(features_sender_agreement)
{
	const char *own = "Received: from mx.news.example.com (mx.news.example.com [192.0.2.7])\r\n"
	                  "\tby mail.example.org with ESMTP; Mon, 2 Sep 2002 10:00:00 +0000\r\n"
	                  "From: News <letter@lists.example.com>\r\n"
	                  "Message-ID: <123.abc@lists.example.com>\r\nSubject: hi\r\n\r\nText.\r\n";
	const char *forged =
	    "Received: from dsl-1.isp.example.net (dsl-1.isp.example.net [198.51.100.9])\r\n"
	    "\tby mail.example.org with SMTP; Mon, 2 Sep 2002 10:00:00 +0000\r\n"
	    "Received: from relay (host.other.example [203.0.113.5])\r\n"
	    "\tby dsl-1.isp.example.net with SMTP; Mon, 2 Sep 2002 09:59:00 +0000\r\n"
	    "From: Bank <service@bank.example>\r\n"
	    "Message-ID: <xyz@isp.example.net>\r\nSubject: hi\r\n\r\nText.\r\n";

	CHECK(has_feature(own, FNS_HEADER, "fromdom:example.com"));
	CHECK(has_feature(own, FNS_HEADER, "midfrom:same"));
	CHECK(has_feature(own, FNS_HEADER, "fromhop:example.com|example.com"));
	CHECK(has_feature(own, FNS_HEADER, "fromhop:same"));
	CHECK(has_feature(own, FNS_HEADER, "uhops:1"));
	CHECK(has_feature(forged, FNS_HEADER, "fromdom:bank.example"));
	CHECK(has_feature(forged, FNS_HEADER, "midfrom:diff"));
	CHECK(has_feature(forged, FNS_HEADER, "fromhop:bank.example|example.net"));
	CHECK(has_feature(forged, FNS_HEADER, "fromhop:diff"));
	CHECK(has_feature(forged, FNS_HEADER, "fromhelo:bank.example|example.net"));
	CHECK(has_feature(forged, FNS_HEADER, "fromhop:bank.example|other.example")); /* 2nd hop */
	CHECK(has_feature(forged, FNS_HEADER, "uhops:2"));
	CHECK(has_feature(own, FNS_HEADER, "fromhelo:example.com|example.com"));
	CHECK(!has_feature(forged, FNS_HEADER, "fromhop:same"));
	CHECK(has_feature("Subject: hi\r\n\r\nText.\r\n", FNS_HEADER, "midfrom:none"));
	CHECK(has_feature("Subject: hi\r\n\r\nText.\r\n", FNS_HEADER, "uhops:0"));
}

TEST(features_subject_pairs)
{
	const char *raw = "Subject: Cheap Pills NOW\r\n\r\nHello there.\r\n";

	CHECK(has_feature(raw, FNS_SUBJECT, "cheap pills"));
	CHECK(has_feature(raw, FNS_SUBJECT, "pills now"));
	CHECK(!has_feature(raw, FNS_PAIR, "cheap pills"));  /* not a body pair */
	CHECK(!has_feature(raw, FNS_SUBJECT, "now hello")); /* no pair across Subject and body */
	CHECK(has_feature(raw, FNS_PAIR, "hello there"));
}

TEST(features_text_kind)
{
	const char *alt = "Subject: hi\r\nMIME-Version: 1.0\r\n"
	                  "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
	                  "--b\r\nContent-Type: text/plain\r\n\r\nHello.\r\n"
	                  "--b\r\nContent-Type: text/html\r\n\r\n<p>Hello.</p>\r\n--b--\r\n";
	const char *html = "Subject: hi\r\nContent-Type: text/html\r\n\r\n<p>Hello.</p>\r\n";
	const char *plain = "Subject: hi\r\n\r\nHello.\r\n";

	CHECK(has_feature(alt, FNS_MIME, "text:both"));
	CHECK(!has_feature(alt, FNS_MIME, "text:html"));
	CHECK(has_feature(html, FNS_MIME, "text:html"));
	CHECK(has_feature(plain, FNS_MIME, "text:plain"));
	CHECK(!has_feature(plain, FNS_MIME, "text:both"));
}

TEST(features_url_path_words)
{
	const char *raw =
	    "Subject: hi\r\n\r\nTo leave: http://www.example.com/cgi-bin/Remove.html?id=42&x=7\r\n";

	CHECK(has_feature(raw, FNS_URL, "path:cgi"));
	CHECK(has_feature(raw, FNS_URL, "path:bin"));
	CHECK(has_feature(raw, FNS_URL, "path:Remove"));
	CHECK(has_feature(raw, FNS_URL, "path:html"));
	CHECK(has_feature(raw, FNS_URL, "path:id"));
	CHECK(has_feature(raw, FNS_URL, "path:42"));
	CHECK(!has_feature(raw, FNS_URL, "path:x"));   /* one byte: too short */
	CHECK(!has_feature(raw, FNS_URL, "path:www")); /* the host is not the path */
	CHECK(!has_feature(raw, FNS_URL, "path:com"));
}

/* The intent of learning raw (action STORE_LEARN_* or STORE_UNLEARN) for
 * user name, as the learner tells a store; keys and digest in *keys, dg. */
static store_intent intent_of(const char *raw, const char *name, int action, ss_arena *a,
                              uint8_t *dg)
{
	clf_params p;
	feat_ctx *fc;
	ss_message *m = NULL;
	feat_set fs = {0};
	store_intent in = {name, dg, action, NULL, 0, 0};
	uint64_t *keys;

	clf_params_default(&p);
	fc = feat_new(0, p.grams > 0 ? (size_t)p.grams : 0);
	CHECK(fc && ss_parse(raw, strlen(raw), NULL, &m) == 0);
	if (fc && m && feat_extract(fc, m, a, &fs) == 0 &&
	    (keys = arena_alloc(a, (fs.n ? fs.n : 1) * sizeof(*keys)))) {
		for (size_t i = 0; i < fs.n; i++)
			keys[i] = fs.v[i].h;
		in = (store_intent){name, dg, action, keys, fs.n, fs.ntok};
		learner_digest(m, dg);
	}
	ss_message_free(m);
	feat_free(fc);
	return in;
}

static void user_totals(fixture *f, const char *name, clf_totals *t)
{
	uint32_t id = 0;

	*t = (clf_totals){0, 0};
	CHECK(f->s->ops->begin(f->s, 0) == 0);
	if (f->s->ops->user_id(f->s, name, 0, &id) == 1)
		CHECK(f->s->ops->totals(f->s, id, t) == 0);
	f->s->ops->end(f->s, 0);
}

/* What a journal replay does: a report redone from its intent (keys, no
 * message) learns exactly as the live learn, moves, unlearns, and changes
 * nothing when done twice. */
TEST(learn_redo_from_intent)
{
	fixture f, g;
	ss_arena a;
	uint8_t dg[STORE_DIGEST];
	store_intent in;
	clf_totals t;
	uint32_t bob = 0;

	fx_open(&f);
	fx_open(&g);
	arena_init(&a);
	teach_all(&f, 0);
	teach_all(&g, 0);
	in = intent_of(probe, "bob", STORE_LEARN_SPAM, &a, dg);
	CHECK(in.n > 0 && in.ntok > 0);
	CHECK(learner_redo(f.l, f.s, &in) == 0); /* creates bob: id 1 in both stores */
	CHECK(g.s->ops->begin(g.s, 1) == 0 && g.s->ops->user_id(g.s, "bob", 1, &bob) == 1);
	g.s->ops->end(g.s, 1);
	CHECK(teach(&g, probe, bob, 1, 0) == LRN_LEARNED);
	CHECK(score(&f, probe, bob) == score(&g, probe, bob) && score(&f, probe, bob) > 0.5);
	CHECK(learner_redo(f.l, f.s, &in) == 0); /* twice: nothing more */
	CHECK(score(&f, probe, bob) == score(&g, probe, bob));
	CHECK(teach(&f, probe, bob, 1, 0) == LRN_UNCHANGED);
	in.action = STORE_LEARN_HAM; /* a move */
	CHECK(learner_redo(f.l, f.s, &in) == 0);
	CHECK(teach(&g, probe, bob, 0, 0) == LRN_MOVED);
	CHECK(score(&f, probe, bob) == score(&g, probe, bob));
	user_totals(&f, "bob", &t);
	CHECK(t.spam == 0 && t.ham == 1);
	in.action = STORE_UNLEARN;
	CHECK(learner_redo(f.l, f.s, &in) == 0 && learner_redo(f.l, f.s, &in) == 0);
	user_totals(&f, "bob", &t);
	CHECK(t.spam == 0 && t.ham == 0);
	CHECK(teach(&f, probe, bob, 0, 1) == LRN_UNCHANGED);
	in.user_name = "nobody"; /* an unlearn for a user with no model: nothing */
	CHECK(learner_redo(f.l, f.s, &in) == 0);
	user_totals(&f, "nobody", &t);
	CHECK(t.spam == 0 && t.ham == 0);
	in.ntok = in.n + 1;
	CHECK(learner_redo(f.l, f.s, &in) == SS_EINVAL);
	arena_release(&a);
	fx_close(&f);
	fx_close(&g);
}

/* An export line read whole: text glued after its last field (a file cut
 * mid-line and appended to) is a bad line, not a record with a shorter
 * last field. */
TEST(import_refuses_text_after_a_record)
{
	store *s = store_mem_new();
	mf_import *im = malloc(sizeof(*im));
	feat_stat st = {0, 0, 0, 0};
	uint64_t k = 0x1a2b;

	CHECK(s && im && s->ops->begin(s, 1) == 0);
	if (!s || !im) {
		free(im);
		store_close(s);
		return;
	}
	mf_import_init(im, s);
	CHECK(mf_import_line(im, "f 0 1a2b 3 1 -0.25 19\n") == 0);
	CHECK(mf_import_line(im, "f 0 1a2c 3 1 -0.25 19garbage line\n") == 1);
	CHECK(mf_import_line(im, "f 0 1a2d 3 1 -0.25 19 7\n") == 1);
	CHECK(mf_import_line(im, "user 0 - 3 1 x\n") == 1);
	CHECK(mf_import_line(im, "m 0 00112233445566778899aabbccddeeff 1 10 0.5 0.25 17x\n") == 1);
	CHECK(mf_import_line(im, "m 0 00112233445566778899aabbccddeeff 1 10 0.5 0.25 17 \n") == 0);
	CHECK(mf_import_line(im, "ppm 17 x\n") == 1);
	CHECK(s->ops->lookup(s, 0, &k, 1, 1, &st) == 0 && st.spam == 3 && st.ham == 1);
	k = 0x1a2c;
	st = (feat_stat){0, 0, 0, 0};
	CHECK(s->ops->lookup(s, 0, &k, 1, 1, &st) == 0 && st.spam == 0);
	s->ops->end(s, 0);
	free(im);
	store_close(s);
}
