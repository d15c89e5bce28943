/*
 * phish.c: the cost of phish_check() per message, and how often each
 * symbol fires, over corpus indexes.
 *
 *   phish INDEX...
 *
 * Each INDEX is a corpus index ("spam <relpath>" / "ham <relpath>" lines,
 * paths relative to the index's folder). Every message is read and parsed
 * first (not timed); then phish_check() runs over all of them, timed, best
 * of three passes. Prints the time per message and, per class, the number
 * of messages each symbol fired on. With PHISH_SHOW=SYMBOL in the
 * environment, also each detail of that symbol.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/hits.h"
#include "phish/phish.h"
#include "spamsift.h"
#include "corpus.h"

#define MAX_SYMS 32

typedef struct tally {
	const char *name;
	size_t spam, ham;
} tally;

static void count(tally *t, size_t *nt, const ss_hits *h, int spam)
{
	for (size_t i = 0; i < h->n; i++) {
		size_t j = 0;
		while (j < *nt && strcmp(t[j].name, h->v[i].name))
			j++;
		if (j == *nt && *nt < MAX_SYMS)
			t[(*nt)++] = (tally){h->v[i].name, 0, 0};
		if (j < *nt)
			spam ? t[j].spam++ : t[j].ham++;
	}
}

/* One pass; returns seconds, and counts symbols when t is not NULL. */
static double pass(phish_ctx *ctx, const bench_corpus *c, tally *t, size_t *nt)
{
	struct timespec t0, t1;
	double total = 0;

	for (size_t i = 0; i < c->n; i++) {
		ss_arena a;
		ss_hits h;
		arena_init(&a);
		hits_init(&h, &a);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (phish_check(ctx, c->m[i], NULL, &h))
			exit(1);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		total += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (t)
			count(t, nt, &h, c->spam[i]);
		if (t && getenv("PHISH_SHOW") && hits_find(&h, getenv("PHISH_SHOW")))
			printf("%s %s\n", c->spam[i] ? "spam" : "ham ",
			       hits_find(&h, getenv("PHISH_SHOW"))->detail);
		arena_release(&a);
	}
	return total;
}

int main(int argc, char **argv)
{
	phish_ctx *ctx = phish_ctx_new();
	bench_corpus c = {0};
	tally t[MAX_SYMS];
	size_t nt = 0, nspam = 0;
	double best;

	if (!ctx || argc < 2) {
		fprintf(stderr, "usage: phish INDEX...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		bench_corpus_load(&c, argv[i]);
	best = pass(ctx, &c, t, &nt);
	for (int r = 0; r < 2; r++) {
		double s = pass(ctx, &c, NULL, NULL);
		best = s < best ? s : best;
	}
	for (size_t i = 0; i < c.n; i++)
		nspam += (size_t)c.spam[i];
	printf("messages=%zu spam=%zu ham=%zu phish_check_us_per_msg=%.2f\n", c.n, nspam,
	       c.n - nspam, c.n ? best / (double)c.n * 1e6 : 0.0);
	for (size_t i = 0; i < nt; i++)
		printf("  %-26s spam %5zu  ham %5zu\n", t[i].name, t[i].spam, t[i].ham);
	bench_corpus_free(&c);
	phish_ctx_free(ctx);
	return 0;
}
