/*
 * test_engine.c: the engine over a real LMDB store in a temporary folder:
 * scan results and their renderings, thresholds to actions, learn and
 * unlearn through the engine, per-user models, refusals, and scans from
 * several threads while another thread learns.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "harness.h"
#include "samples.h"

static const char spammy[] = "Subject: cheap pills, free prize\r\nFrom: z@w.example\r\n\r\n"
                             "Click now: cheap pills, free prize, best price.\r\n";
static const char hammy[] = "Subject: project meeting notes\r\nFrom: q@work.example\r\n\r\n"
                            "Notes from the review meeting on Monday; the build failed.\r\n";

typedef struct fixture {
	char dir[64];
	engine *e;
} fixture;

static void fx_open(fixture *f, int train)
{
	engine_config c;
	engine_learned w;

	snprintf(f->dir, sizeof(f->dir), "/tmp/ss-engine-XXXXXX");
	CHECK(mkdtemp(f->dir) != NULL);
	engine_config_default(&c);
	c.db = f->dir;
	c.no_default_rules = 1; /* the classifier's symbol alone: rules in test_rules.c */
	f->e = NULL;
	CHECK(engine_new(&c, &f->e) == 0);
	for (size_t i = 0; train && f->e && i < SAMPLES; i++) {
		CHECK(engine_learn(f->e, NULL, 1, sample_spams[i], strlen(sample_spams[i]), &w) ==
		      0);
		CHECK(w == ENGINE_LEARNED);
		CHECK(engine_learn(f->e, NULL, 0, sample_hams[i], strlen(sample_hams[i]), &w) == 0);
	}
}

static void fx_close(fixture *f)
{
	char cmd[128];

	engine_free(f->e);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	CHECK(system(cmd) == 0);
}

static double scan_points(engine *e, const char *user, const char *msg)
{
	ss_arena a;
	engine_result r;
	double pts = NAN;

	arena_init(&a);
	if (engine_scan(e, user, NULL, msg, strlen(msg), &a, &r) == 0)
		pts = r.score;
	arena_release(&a);
	return pts;
}

TEST(engine_scan_spam_and_ham)
{
	fixture f;
	ss_arena a;
	engine_result r;

	fx_open(&f, 1);
	arena_init(&a);
	CHECK(engine_scan(f.e, NULL, NULL, spammy, strlen(spammy), &a, &r) == 0);
	CHECK(r.is_spam && r.action != ENGINE_NO_ACTION && r.prob > 0.5);
	CHECK(r.nsymbols == 1 && !strcmp(r.symbols[0].name, "SPAMSIFT_BAYES"));
	CHECK(r.score == r.symbols[0].score); /* the sum of one symbol */
	CHECK(r.symbols[0].nfeatures > 0 && r.symbols[0].nfeatures <= 8);
	CHECK(r.symbols[0].features[0].name && strchr(r.symbols[0].features[0].name, ':'));
	CHECK(engine_scan(f.e, NULL, NULL, hammy, strlen(hammy), &a, &r) == 0);
	CHECK(!r.is_spam && r.action == ENGINE_NO_ACTION && r.prob < 0.5 && r.score < 0);
	arena_release(&a);
	fx_close(&f);
}

TEST(engine_thresholds_make_actions)
{
	fixture f;
	engine_config c;
	engine *strict = NULL;
	ss_arena a;
	engine_result r;

	fx_open(&f, 1);
	engine_config_default(&c);
	c.db = f.dir;
	c.add_header_at = -1000;
	c.reject_at = -999;
	CHECK(engine_new(&c, &strict) == 0);
	arena_init(&a);
	CHECK(strict && engine_scan(strict, NULL, NULL, hammy, strlen(hammy), &a, &r) == 0);
	CHECK(r.action == ENGINE_REJECT && r.is_spam && r.required == -1000);
	CHECK(!strcmp(engine_action_name(r.action), "reject"));
	arena_release(&a);
	engine_free(strict);
	fx_close(&f);
}

TEST(engine_refuses_what_is_not_mail)
{
	fixture f;
	ss_arena a;
	engine_result r;
	engine_learned w = ENGINE_LEARNED;

	fx_open(&f, 0);
	arena_init(&a);
	CHECK(engine_scan(f.e, NULL, NULL, "", 0, &a, &r) == SS_EEMPTY);
	CHECK(engine_scan(f.e, NULL, NULL, "\x01\x02\x03\x00\x05", 5, &a, &r) == SS_EBINARY);
	CHECK(engine_learn(f.e, NULL, 1, "just words", 10, &w) == SS_ENOTMAIL);
	CHECK(w == ENGINE_UNCHANGED);
	arena_release(&a);
	fx_close(&f);
}

TEST(engine_learn_is_idempotent_and_unlearn_restores)
{
	fixture f;
	engine_learned w;
	double before, moved;

	fx_open(&f, 1);
	before = scan_points(f.e, NULL, hammy);
	CHECK(engine_learn(f.e, NULL, 1, hammy, strlen(hammy), &w) == 0 && w == ENGINE_LEARNED);
	moved = scan_points(f.e, NULL, hammy);
	CHECK(moved > before + 0.01);
	CHECK(engine_learn(f.e, NULL, 1, hammy, strlen(hammy), &w) == 0 && w == ENGINE_UNCHANGED);
	CHECK(scan_points(f.e, NULL, hammy) == moved);
	CHECK(engine_unlearn(f.e, NULL, hammy, strlen(hammy), &w) == 0 && w == ENGINE_UNLEARNED);
	CHECK(fabs(scan_points(f.e, NULL, hammy) - before) < 1e-3);
	CHECK(engine_unlearn(f.e, NULL, hammy, strlen(hammy), &w) == 0 && w == ENGINE_UNCHANGED);
	fx_close(&f);
}

TEST(engine_users_adapt_on_the_global_model)
{
	fixture f;
	engine_learned w;
	double global;

	fx_open(&f, 1);
	global = scan_points(f.e, NULL, hammy);
	CHECK(scan_points(f.e, "nobody", hammy) == global); /* no model: the global verdict */
	CHECK(engine_unlearn(f.e, "nobody", hammy, strlen(hammy), &w) == 0);
	CHECK(w == ENGINE_UNCHANGED);
	for (int i = 0; i < SAMPLES; i++)
		CHECK(engine_learn(f.e, "alice", 1, sample_hams[i], strlen(sample_hams[i]), &w) ==
		      0);
	CHECK(scan_points(f.e, "alice", hammy) > global);
	CHECK(scan_points(f.e, NULL, hammy) == global); /* alice's reports are hers */
	fx_close(&f);
}

TEST(engine_renders_json_report_and_headers)
{
	fixture f;
	ss_arena a;
	engine_result r;
	sbuf b = SBUF_INIT;
	ss_str h[ENGINE_MAX_HEADERS];
	size_t n;

	fx_open(&f, 1);
	arena_init(&a);
	CHECK(engine_scan(f.e, NULL, NULL, spammy, strlen(spammy), &a, &r) == 0);
	CHECK(engine_result_json(&r, "m\"1", &b) == 0);
	CHECK_CONTAINS(b.p, b.len, "{\"path\":\"m\\\"1\",\"score\":");
	CHECK_CONTAINS(b.p, b.len, "\"verdict\":\"spam\"");
	CHECK_CONTAINS(b.p, b.len, "\"symbols\":[{\"name\":\"SPAMSIFT_BAYES\"");
	CHECK_CONTAINS(b.p, b.len, "\"features\":[{\"feature\":");
	/* a figure that is not a number is null, not JSON's missing NaN */
	sbuf_reset(&b);
	r.prob = NAN;
	CHECK(engine_result_json(&r, "m", &b) == 0);
	CHECK_CONTAINS(b.p, b.len, "{\"path\":\"m\",\"score\":null,");
	CHECK(!memmem(b.p, b.len, ":nan", 4) && !memmem(b.p, b.len, ":-nan", 5));
	sbuf_reset(&b);
	CHECK(engine_result_report(&r, &b) == 0);
	CHECK_CONTAINS(b.p, b.len, "required)");
	CHECK_CONTAINS(b.p, b.len, " SPAMSIFT_BAYES ");
	n = engine_result_headers(&r, &a, h);
	CHECK(n == 5);
	CHECK_SLICE(h[0].p, h[0].len, "X-Spam-Flag: YES");
	CHECK(n == 5 && !strncmp(h[4].p, "X-Spam-Status: Yes, score=", 26));
	CHECK(n == 5 && strstr(h[4].p, "tests=SPAMSIFT_BAYES "));
	sbuf_release(&b);
	arena_release(&a);
	fx_close(&f);
}

typedef struct race {
	engine *e;
	int failures;
	double want;
} race;

static void *scanner(void *arg)
{
	race *x = arg;

	for (int i = 0; i < 200; i++) {
		double p = scan_points(x->e, NULL, spammy);
		if (isnan(p) || p <= 0)
			__atomic_add_fetch(&x->failures, 1, __ATOMIC_RELAXED);
	}
	ss_thread_release();
	return NULL;
}

static void *learner_thread(void *arg)
{
	race *x = arg;
	char msg[256];

	for (int i = 0; i < 40; i++) {
		snprintf(msg, sizeof(msg),
		         "Message-ID: <h%d@work.example>\r\nSubject: agenda %d\r\n\r\n"
		         "agenda item %d for the release review\r\n",
		         i, i, i);
		if (engine_learn(x->e, NULL, 0, msg, strlen(msg), NULL))
			__atomic_add_fetch(&x->failures, 1, __ATOMIC_RELAXED);
	}
	ss_thread_release();
	return NULL;
}

TEST(engine_scans_from_threads_while_one_learns)
{
	fixture f;
	race x = {0};
	pthread_t t[4];

	fx_open(&f, 1);
	x.e = f.e;
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&t[i], NULL, scanner, &x) == 0);
	CHECK(pthread_create(&t[3], NULL, learner_thread, &x) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK(x.failures == 0);
	fx_close(&f);
}
