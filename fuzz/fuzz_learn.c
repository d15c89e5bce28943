/*
 * fuzz_learn.c: libFuzzer target for the classifier's input side: any bytes
 * parsed, tokenised (also as raw text), turned into features, scored with
 * an explanation, learned and unlearned in an in-memory model. The score
 * must stay in [0,1] and unlearning must leave the totals at zero.
 */
#include <stdint.h>
#include <stdlib.h>

#include "learn/learner.h"
#include "learn/tokens.h"
#include "spamsift.h"

static int count_tok(void *ctx, const char *t, size_t len, unsigned flags)
{
	if (!len || t[len] != 0)
		abort();
	++*(size_t *)ctx;
	return 0;
}

static void fuzz_tokens(const uint8_t *data, size_t size)
{
	static tok_state *t;
	size_t n = 0;

	if (!t && !(t = tok_new()))
		abort();
	tok_text(t, (const char *)data, size, count_tok, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static store *s;
	static learner *l;
	ss_message *m = NULL;
	ss_arena a;
	lrn_verdict v;
	clf_totals t;
	int what;

	fuzz_tokens(data, size);
	if (!s) {
		clf_params p;
		clf_params_default(&p);
		if (!(s = store_mem_new()) || !(l = learner_new(s, &p, 0)))
			abort();
	}
	if (ss_parse((const char *)data, size, NULL, &m))
		return 0;
	arena_init(&a);
	if (learner_check(l, m, 0, 8, &a, &v) == 0 && !(v.r.score >= 0 && v.r.score <= 1))
		abort();
	if (learner_learn(l, m, 0, NULL, size & 1, &a, &what) == 0 &&
	    learner_unlearn(l, m, 0, NULL, &a, &what) == 0) {
		s->ops->totals(s, 0, &t);
		if (t.spam || t.ham)
			abort();
	}
	arena_release(&a);
	ss_message_free(m);
	return 0;
}
