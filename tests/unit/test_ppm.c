/*
 * test_ppm.c: the compression expert (learn/ppm.c): it tells texts like
 * the spam it learned from texts like the ham, its cost is what a plain
 * PPM-D with exact counts gives (in the very same bits two bytes at a
 * time with AVX2 as one at a time), unlearning gives back the
 * table byte for byte (also when a line is full), and the LMDB store keeps
 * its table across commits and reopening, or has none when made without.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "learn/ppm.h"
#include "store/store.h"

/* A table in memory: the in-memory store's. */
typedef struct table {
	store *s;
	ppm_view *v;
} table;

static void tb_open(table *t)
{
	t->s = store_mem_new();
	t->v = NULL;
	CHECK(t->s && t->s->ops->ppm(t->s, 1, &t->v) == 1);
}

static void tb_close(table *t)
{
	store_close(t->s);
}

static size_t tb_bytes(void)
{
	return (size_t)ppm_nchunks(PPM_BITS) * PPM_CHUNK * sizeof(ppm_line);
}

/* A copy of every line of the table (malloc'ed), chunk after chunk. */
static uint8_t *tb_lines(const table *t)
{
	size_t cb = PPM_CHUNK * sizeof(ppm_line);
	uint8_t *b = malloc(tb_bytes());

	CHECK(b != NULL);
	for (uint32_t k = 0; b && k < ppm_nchunks(PPM_BITS); k++)
		memcpy(b + k * cb, t->v->chunk[k], cb);
	return b;
}

/* Whether the table's lines are those of copy b. */
static int tb_same(const table *t, const uint8_t *b)
{
	uint8_t *now = tb_lines(t);
	int same = now && !memcmp(now, b, tb_bytes());

	free(now);
	return same;
}

static void teach(ppm_view *v, const char *text, int is_spam, int delta)
{
	CHECK(ppm_learn(v, (const uint8_t *)text, strlen(text), is_spam, delta) == 0);
}

static double cost(const ppm_view *v, const char *text)
{
	return ppm_cost(v, (const uint8_t *)text, strlen(text));
}

static const char *spams[] = {
    "subject:cheap pills online\nbuy cheap pills now, best price, click here to order",
    "subject:win a prize\nclick here now to claim your prize, cheap offer today only",
    "subject:best price\norder now: cheap watches and pills, click the link"};
static const char *hams[] = {
    "subject:meeting notes\nthe project meeting moved to thursday; notes attached below",
    "subject:re: review\nthanks for the review of the draft, i will fix the notes",
    "subject:lunch\nare we still on for lunch on thursday after the project review?"};

static void teach_all(ppm_view *v)
{
	for (size_t i = 0; i < 3; i++) {
		teach(v, spams[i], 1, 1);
		teach(v, hams[i], 0, 1);
	}
}

TEST(ppm_tells_spam_from_ham)
{
	table t;

	tb_open(&t);
	CHECK(cost(t.v, "click here for cheap pills") == 0); /* nothing learned yet */
	teach_all(t.v);
	CHECK(t.v->d->msgs[0] == 3 && t.v->d->msgs[1] == 3);
	CHECK(cost(t.v, "click here now for cheap pills, best price") > 5);
	CHECK(cost(t.v, "notes of the project meeting on thursday") < -5);
	tb_close(&t);
}

/* A plain PPM-D to check ppm_cost() against: exact counts of every
 * context of orders 0..PPM_ORDER (bytes before the start are -1), kept in
 * a list, and each byte's estimate worked out with divisions. The texts
 * taught are few enough that in the table no two contexts share a line,
 * no line fills and no count reaches PPM_CMAX, so the two must agree. */
typedef struct ref_count {
	int ctx[PPM_ORDER + 1]; /* ctx[0]: the order; then the bytes before, nearest first */
	int sym;
	unsigned c[2];
} ref_count;

typedef struct ref_model {
	ref_count v[4096];
	size_t n;
} ref_model;

static void ref_ctx(const char *x, size_t i, int k, int *ctx)
{
	ctx[0] = k;
	for (int j = 1; j <= PPM_ORDER; j++)
		ctx[j] = j > k ? 0 : (size_t)j > i ? -1 : (unsigned char)x[i - (size_t)j];
}

static ref_count *ref_find(ref_model *r, const int *ctx, int sym, int make)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].sym == sym && !memcmp(r->v[i].ctx, ctx, sizeof(r->v[i].ctx)))
			return &r->v[i];
	if (!make || r->n == sizeof(r->v) / sizeof(r->v[0]))
		return NULL;
	memcpy(r->v[r->n].ctx, ctx, sizeof(r->v[r->n].ctx));
	r->v[r->n].sym = sym;
	r->v[r->n].c[0] = r->v[r->n].c[1] = 0;
	return &r->v[r->n++];
}

static void ref_teach(ref_model *r, const char *x, int is_spam)
{
	for (size_t i = 0; x[i]; i++)
		for (int k = 0; k <= PPM_ORDER; k++) {
			int ctx[PPM_ORDER + 1];
			ref_count *rc;
			if (k == 1 && i == 0)
				continue; /* order 1 starts at the second byte */
			ref_ctx(x, i, k, ctx);
			rc = ref_find(r, ctx, (unsigned char)x[i], 1);
			CHECK(rc != NULL);
			if (rc)
				rc->c[is_spam]++;
		}
}

static double ref_cost(ref_model *r, const char *x)
{
	double cost = 0;

	for (size_t i = 0; x[i]; i++) {
		double p[2] = {1.0 / 256, 1.0 / 256};
		for (int k = 0; k <= PPM_ORDER; k++) {
			int ctx[PPM_ORDER + 1];
			if (k == 1 && i == 0)
				continue;
			ref_ctx(x, i, k, ctx);
			for (int cl = 0; cl < 2; cl++) {
				double n = 0, u = 0, c = 0, d = 0.5;
				for (size_t j = 0; j < r->n; j++)
					if (!memcmp(r->v[j].ctx, ctx, sizeof(ctx)) &&
					    r->v[j].c[cl]) {
						n += r->v[j].c[cl];
						u++;
						if (r->v[j].sym == (unsigned char)x[i])
							c = r->v[j].c[cl];
					}
				if (n == 0)
					continue;
				if (u * d > n)
					d = n / u;
				p[cl] = ((c > d ? c - d : 0) + d * u * p[cl]) / n;
			}
		}
		cost += log(p[1] / p[0]);
	}
	return cost;
}

TEST(ppm_cost_is_plain_ppm_d)
{
	static ref_model r;
	static const char *probes[] = {"click here now for cheap pills, best price",
	                               "notes of the project meeting on thursday", "x", "",
	                               "\xff\x01 unseen bytes: q#z"};
	table t;

	tb_open(&t);
	r.n = 0;
	teach_all(t.v);
	for (size_t i = 0; i < 3; i++) {
		ref_teach(&r, spams[i], 1);
		ref_teach(&r, hams[i], 0);
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		double want = ref_cost(&r, probes[i]), got = cost(t.v, probes[i]);
		CHECK(fabs(got - want) <= 1e-9 * (1 + fabs(want)));
	}
	tb_close(&t);
}

/* Bytes of a made-up text: a few words' letters, spaces, zero and high
 * bytes, from a small linear congruential generator. */
static void random_text(uint32_t *seed, uint8_t *x, size_t n)
{
	static const uint8_t alphabet[] = "aeinorst \n.,\0\xc3\xa9\xff";

	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1664525u + 1013904223u;
		x[i] = alphabet[(*seed >> 24) % (sizeof(alphabet) - 1)];
	}
}

/* Where the CPU has AVX2, ppm_cost() works two bytes at a time; it must
 * give the very bits of the byte-at-a-time path (same operations, same
 * order), for texts of odd and even lengths, over lines shared by many
 * contexts, full ones, symbol 0 and counts scored as PPM_CMAX. (Without
 * AVX2 both are one path.) */
TEST(ppm_cost_paths_agree)
{
	static uint8_t x[4000];
	uint32_t seed = 7;
	table t;

	tb_open(&t);
	for (int m = 0; m < 200; m++) {
		random_text(&seed, x, 1000);
		CHECK(ppm_learn(t.v, x, 1000, m % 3 == 0, 1) == 0);
	}
	teach_all(t.v);
	for (size_t i = 0; i < sizeof(x); i++) /* counts past PPM_CMAX */
		x[i] = "buy now "[i % 8];
	for (int m = 0; m < 10; m++)
		CHECK(ppm_learn(t.v, x, sizeof(x), 1, 1) == 0);
	CHECK(ppm_cost(t.v, x, 3001) == ppm_cost_sse2(t.v, x, 3001));
	for (size_t n = 0; n < 64; n++) {
		random_text(&seed, x, n);
		CHECK(ppm_cost(t.v, x, n) == ppm_cost_sse2(t.v, x, n));
	}
	random_text(&seed, x, sizeof(x));
	CHECK(ppm_cost(t.v, x, sizeof(x)) == ppm_cost_sse2(t.v, x, sizeof(x)));
	CHECK(ppm_cost(t.v, x, 2999) == ppm_cost_sse2(t.v, x, 2999));
	tb_close(&t);
}

TEST(ppm_unlearn_restores_the_table)
{
	table t;
	uint8_t *lines;
	ppm_dense *d = malloc(sizeof(*d));
	const char *extra = "subject:cheap meeting\nclick here for the project notes, cheap";

	tb_open(&t);
	teach_all(t.v);
	lines = tb_lines(&t);
	memcpy(d, t.v->d, sizeof(*d));
	teach(t.v, extra, 1, 1);
	CHECK(!tb_same(&t, lines));
	teach(t.v, extra, 1, -1);
	CHECK(tb_same(&t, lines));
	CHECK(memcmp(d, t.v->d, sizeof(*d)) == 0);
	free(lines);
	free(d);
	tb_close(&t);
}

/* Twelve different bytes after one context: the line keeps eleven; the
 * twelfth is counted in the context's total only, and unlearning a
 * message with it still gives the table back. */
TEST(ppm_full_line_drops_a_symbol_and_unlearns)
{
	table t;
	char text[64];
	uint8_t *lines;

	tb_open(&t);
	for (int i = 0; i < 11; i++) {
		snprintf(text, sizeof(text), "abcd%c", 'A' + i);
		teach(t.v, text, 1, 1);
	}
	lines = tb_lines(&t);
	teach(t.v, "abcdZ", 0, 1);
	teach(t.v, "abcdZ", 0, -1);
	CHECK(tb_same(&t, lines));
	/* The eleven kept symbols still score as they did. */
	CHECK(cost(t.v, "abcdA") > 0);
	free(lines);
	tb_close(&t);
}

static void rm_store(const char *dir)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* Learns the samples into a new LMDB store at dir (one transaction). */
static void lmdb_teach(const char *dir, int no_ppm, double *c)
{
	store_lmdb_opts o = {1, 1, 0, no_ppm};
	store *s = NULL;
	ppm_view *v;

	CHECK(store_lmdb_open(dir, &o, &s) == 0);
	if (!s)
		return;
	CHECK(s->ops->begin(s, 1) == 0);
	CHECK(s->ops->ppm(s, 1, &v) == !no_ppm);
	if (!no_ppm) {
		teach_all(v);
		*c = cost(v, spams[0]);
	}
	CHECK(s->ops->end(s, 1) == 0);
	store_close(s);
}

TEST(ppm_lmdb_keeps_the_table)
{
	char dir[] = "/tmp/ss-ppm-XXXXXX";
	table t;
	store *s = NULL;
	ppm_view *v;
	double before = 0;

	CHECK(mkdtemp(dir) != NULL);
	lmdb_teach(dir, 0, &before);
	tb_open(&t);
	teach_all(t.v);
	CHECK(before == cost(t.v, spams[0]));
	CHECK(store_lmdb_open(dir, NULL, &s) == 0);
	if (s) {
		CHECK(s->ops->begin(s, 0) == 0);
		CHECK(s->ops->ppm(s, 0, &v) == 1);
		CHECK(v->d && v->d->msgs[1] == 3);
		CHECK(cost(v, spams[0]) == before);
		CHECK(cost(v, hams[1]) == cost(t.v, hams[1]));
		CHECK(s->ops->end(s, 0) == 0);
		store_close(s);
	}
	tb_close(&t);
	rm_store(dir);
	CHECK(mkdtemp(strcpy(dir, "/tmp/ss-ppm-XXXXXX")) != NULL);
	lmdb_teach(dir, 1, &before);
	rm_store(dir);
}
