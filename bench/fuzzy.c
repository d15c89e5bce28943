/*
 * fuzzy.c: how message fingerprints (src/fuzzy) behave on real mail.
 *
 *   fuzzy [-t THRESHOLD] [-c CONFIG]... INDEX...
 *
 * Each INDEX is a corpus index ("spam <relpath>" / "ham <relpath>" lines).
 * Per corpus and per CONFIG (words: kN, capN, minN, urlkeep, urldrop,
 * addrkeep, nonum; default: the library's defaults), it prints:
 *  - false matches: every spam's signature is indexed by its LSH band keys
 *    (fp_bands); every ham is looked up; a ham matches when a candidate
 *    spam has fp_similarity() >= THRESHOLD (default FUZZY_SIMILAR);
 *  - the spams that have a near-duplicate among the other spams (the
 *    feature's value), and exact ones (similarity 1);
 *  - recall on varied copies: each signed spam is copied with another name,
 *    every digit changed, whitespace changed, 3 adjacent words swapped and
 *    20 random words (from the corpus's hams) appended; the share whose
 *    similarity to the original is >= THRESHOLD, the share also found
 *    through the bands, and the similarity's distribution;
 *  - speed: fp_of_message() per second over the corpus, one thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzzy/fuzzy.h"
#include "spamsift.h"
#include "corpus.h"

/* The LSH index: band key -> spam ids, open addressing + chains. */
typedef struct lsh {
	uint64_t *key;
	long *head;
	long *next;
	size_t *id, nent, mask;
} lsh;

static double g_thr = FUZZY_SIMILAR;

static void lsh_init(lsh *t, size_t n)
{
	size_t cap = 1024;

	while (cap < n * FP_NBANDS * 2)
		cap <<= 1;
	t->mask = cap - 1;
	t->key = calloc(cap, sizeof(*t->key));
	t->head = malloc(cap * sizeof(*t->head));
	t->next = malloc(n * FP_NBANDS * sizeof(*t->next));
	t->id = malloc(n * FP_NBANDS * sizeof(*t->id));
	t->nent = 0;
	if (!t->key || !t->head || !t->next || !t->id)
		exit(1);
	memset(t->head, 0xff, cap * sizeof(*t->head));
}

static void lsh_free(lsh *t)
{
	free(t->key);
	free(t->head);
	free(t->next);
	free(t->id);
}

/* The slot of key k (key 0 is stored as 1: 0 marks a free slot). */
static size_t lsh_slot(const lsh *t, uint64_t k)
{
	size_t i = (size_t)k & t->mask;

	k = k ? k : 1;
	while (t->key[i] && t->key[i] != k)
		i = (i + 1) & t->mask;
	return i;
}

static void lsh_add(lsh *t, const fp_text *s, size_t id)
{
	uint64_t keys[FP_NBANDS];

	fp_bands(s, keys);
	for (size_t b = 0; b < FP_NBANDS; b++) {
		size_t i = lsh_slot(t, keys[b]);
		t->key[i] = keys[b] ? keys[b] : 1;
		t->id[t->nent] = id;
		t->next[t->nent] = t->head[i];
		t->head[i] = (long)t->nent++;
	}
}

/* The best similarity of s to an indexed signature sharing a band, other
 * than `self`; -1 when no candidate. */
static double lsh_best(const lsh *t, const fp_set *all, const fp_text *s, size_t self)
{
	uint64_t keys[FP_NBANDS];
	double best = -1;

	fp_bands(s, keys);
	for (size_t b = 0; b < FP_NBANDS; b++) {
		size_t i = lsh_slot(t, keys[b]);
		for (long e = t->key[i] ? t->head[i] : -1; e >= 0; e = t->next[e]) {
			double sim;
			if (t->id[e] == self)
				continue;
			sim = fp_similarity(s, &all[t->id[e]].text);
			best = sim > best ? sim : best;
		}
	}
	return best;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A word list for random tails: words of the corpus's hams. */
typedef struct vocab {
	char **w;
	size_t n, cap;
} vocab;

static void vocab_add_text(vocab *v, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && v->n < 50000) {
		size_t j = i, e;
		while (j < len && (unsigned char)p[j] > ' ')
			j++;
		e = j - i > 12 ? i + 12 : j;
		while (e > i && e < j && ((unsigned char)p[e] & 0xc0) == 0x80)
			e--; /* cut at a UTF-8 boundary */
		if (e - i >= 3) {
			if (v->n == v->cap) {
				v->cap = v->cap ? 2 * v->cap : 4096;
				v->w = realloc(v->w, v->cap * sizeof(*v->w));
			}
			v->w[v->n++] = strndup(p + i, e - i);
		}
		i = j + 1;
	}
}

typedef struct sbuf {
	char *p;
	size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			exit(1);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

typedef struct tokv {
	const char *p[20000];
	size_t len[20000], n;
} tokv;

static void split(tokv *t, const char *s, size_t len)
{
	size_t i = 0;

	t->n = 0;
	while (i < len && t->n < 20000) {
		size_t j;
		while (i < len && (unsigned char)s[i] <= ' ')
			i++;
		for (j = i; j < len && (unsigned char)s[j] > ' ';)
			j++;
		if (j > i) {
			t->p[t->n] = s + i;
			t->len[t->n++] = j - i;
		}
		i = j;
	}
}

static const char *names[] = {"Anna",   "Brian",   "Chen",  "Dmitri", "Elena",   "Farid",
                              "Grace",  "Hiroshi", "Ines",  "Jorge",  "Kwame",   "Laura",
                              "Mehmet", "Nadia",   "Oscar", "Priya",  "Quentin", "Rosa"};

/* The varied copy of one part's text (see the file comment). `name`: the
 * word replaced by another name; swaps and tail only when `main`. */
static char *vary(const char *s, size_t len, const char *name, int main, const vocab *v,
                  uint64_t *r)
{
	static tokv t;
	sbuf b = {0};
	const char *other = names[rnd(r) % 18];

	split(&t, s, len);
	for (int k = 0; main && t.n > 2 && k < 3; k++) {
		size_t i = rnd(r) % (t.n - 1);
		const char *p = t.p[i];
		size_t l = t.len[i];
		t.p[i] = t.p[i + 1], t.len[i] = t.len[i + 1];
		t.p[i + 1] = p, t.len[i + 1] = l;
	}
	if (main && !name) /* no capitalised word (CJK): a greeting with a name */
		sb_add(&b, "Dear ", 5), sb_add(&b, other, strlen(other)), sb_add(&b, ",\n", 2);
	for (size_t i = 0; i < t.n; i++) {
		size_t start = b.len;
		if (name && t.len[i] == strlen(name) && !memcmp(t.p[i], name, t.len[i]))
			sb_add(&b, other, strlen(other));
		else
			sb_add(&b, t.p[i], t.len[i]);
		for (size_t j = start; j < b.len; j++)
			if (b.p[j] >= '0' && b.p[j] <= '9')
				b.p[j] = (char)('0' + rnd(r) % 10);
		unsigned ws = (unsigned)(rnd(r) % 20); /* 90% a space, else newline or two */
		sb_add(&b, ws < 18 ? " " : ws == 18 ? "\n" : "  ", ws < 19 ? 1 : 2);
	}
	for (int k = 0; main && v->n && k < 20; k++) {
		const char *w = v->w[rnd(r) % v->n];
		sb_add(&b, " ", 1), sb_add(&b, w, strlen(w));
	}
	if (!b.p)
		sb_add(&b, "", 0);
	return b.p;
}

/* A capitalised word (>= 3 letters, not the first) of the text, or NULL. */
static const char *pick_name(const char *s, size_t len, uint64_t *r, char *out, size_t cap)
{
	static tokv t;
	size_t cand[256], n = 0;

	split(&t, s, len);
	for (size_t i = 1; i < t.n && n < 256; i++) {
		size_t l = t.len[i], k = 0;
		while (k < l && ((t.p[i][k] | 0x20) >= 'a' && (t.p[i][k] | 0x20) <= 'z'))
			k++;
		if (k == l && l >= 3 && l < cap && t.p[i][0] >= 'A' && t.p[i][0] <= 'Z')
			cand[n++] = i;
	}
	if (!n)
		return NULL;
	n = cand[rnd(r) % n];
	memcpy(out, t.p[n], t.len[n]);
	out[t.len[n]] = 0;
	return out;
}

/* The varied copy's fingerprint of message m. */
static void vary_fp(const ss_message *m, const fuzzy_opts *o, tok_state *tok, const vocab *v,
                    uint64_t seed, fp_set *out)
{
	ss_message c = *m;
	ss_part *parts = malloc(m->nparts * sizeof(*parts));
	char **texts = calloc(m->nparts, sizeof(char *)), namebuf[64];
	size_t main = 0, best = 0;
	uint64_t r = seed * 2654435761u + 1;
	const char *name;

	memcpy(parts, m->parts, m->nparts * sizeof(*parts));
	for (size_t i = 0; i < m->nparts; i++)
		if ((parts[i].flags & (SS_PART_TEXT | SS_PART_HTML)) && parts[i].text.len > best)
			best = parts[i].text.len, main = i;
	name = pick_name(parts[main].text.p, parts[main].text.len, &r, namebuf, sizeof(namebuf));
	for (size_t i = 0; i < m->nparts; i++) {
		if (!(parts[i].flags & (SS_PART_TEXT | SS_PART_HTML)))
			continue;
		texts[i] = vary(parts[i].text.p, parts[i].text.len, name, i == main, v, &r);
		parts[i].text = (ss_str){texts[i], strlen(texts[i])};
	}
	c.parts = parts;
	if (fp_of_message_ex(&c, o, tok, out))
		exit(1);
	for (size_t i = 0; i < m->nparts; i++)
		free(texts[i]);
	free(texts);
	free(parts);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void parse_config(const char *spec, fuzzy_opts *o)
{
	char buf[256], *save = NULL;

	fuzzy_opts_default(o);
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
		if (w[0] == 'k')
			o->k = (unsigned)atoi(w + 1);
		else if (!strncmp(w, "cap", 3))
			o->max_words = (size_t)atol(w + 3);
		else if (!strncmp(w, "min", 3))
			o->min_shingles = (unsigned)atoi(w + 3);
		else if (!strcmp(w, "urlkeep"))
			o->urls = FUZZY_KEEP;
		else if (!strcmp(w, "urldrop"))
			o->urls = FUZZY_DROP;
		else if (!strcmp(w, "addrkeep"))
			o->addrs = FUZZY_KEEP;
		else if (!strcmp(w, "nonum"))
			o->numbers = 0;
	}
}

/* False matches of hams and near-duplicates among spams. */
static void matches(const bench_corpus *c, const fp_set *fp, const lsh *t, const char *name)
{
	size_t ham = 0, hsig = 0, hfalse = 0, spam = 0, ssig = 0, sdup = 0, sexact = 0;

	for (size_t i = 0; i < c->n; i++) {
		double best;
		c->spam[i] ? spam++ : ham++;
		if (!fp[i].has_text)
			continue;
		c->spam[i] ? ssig++ : hsig++;
		best = lsh_best(t, fp, &fp[i].text, c->spam[i] ? i : (size_t)-1);
		if (!c->spam[i] && best >= g_thr) {
			hfalse++;
			if (getenv("FUZZY_SHOW"))
				printf("  false match: ham #%zu sim %.2f (%zu words) %.60s\n", i,
				       best, fp[i].nwords, c->m[i]->subject.p);
		}
		sdup += c->spam[i] && best >= g_thr;
		sexact += c->spam[i] && best >= 1.0;
	}
	printf("%-26s hams %zu (%zu signed): false matches %zu = %.2f per 10,000 hams\n", name, ham,
	       hsig, hfalse, ham ? 1e4 * (double)hfalse / (double)ham : 0);
	printf("%-26s spams %zu (%zu signed): %zu (%.1f%%) have a near-duplicate spam, %zu an "
	       "equal signature\n",
	       "", spam, ssig, sdup, spam ? 100.0 * (double)sdup / (double)spam : 0, sexact);
}

static void recall(const bench_corpus *c, const fp_set *fp, const lsh *t, const fuzzy_opts *o,
                   const vocab *v)
{
	size_t n = 0, above = 0, found = 0, hist[5] = {0};
	double sum = 0;
	tok_state *tok = tok_new();

	for (size_t i = 0; i < c->n; i++) {
		fp_set var;
		double sim;
		if (!c->spam[i] || !fp[i].has_text)
			continue;
		vary_fp(c->m[i], o, tok, v, i, &var);
		sim = var.has_text ? fp_similarity(&fp[i].text, &var.text) : 0;
		n++;
		sum += sim;
		above += sim >= g_thr;
		found += var.has_text && lsh_best(t, fp, &var.text, (size_t)-1) >= g_thr;
		hist[sim < 0.3 ? 0 : sim < 0.5 ? 1 : sim < 0.7 ? 2 : sim < 0.9 ? 3 : 4]++;
	}
	tok_free(tok);
	printf("%-26s varied copies of %zu signed spams: %.1f%% at sim >= %.2f, %.1f%% found "
	       "via bands; mean sim %.2f; <.3 %.0f%%, .3-.5 %.0f%%, .5-.7 %.0f%%, .7-.9 %.0f%%, "
	       ">=.9 %.0f%%\n",
	       "", n, n ? 100.0 * (double)above / (double)n : 0, g_thr,
	       n ? 100.0 * (double)found / (double)n : 0, n ? sum / (double)n : 0,
	       n ? 100.0 * (double)hist[0] / (double)n : 0,
	       n ? 100.0 * (double)hist[1] / (double)n : 0,
	       n ? 100.0 * (double)hist[2] / (double)n : 0,
	       n ? 100.0 * (double)hist[3] / (double)n : 0,
	       n ? 100.0 * (double)hist[4] / (double)n : 0);
}

static void run(const bench_corpus *c, const char *cname, const char *spec, const vocab *v)
{
	fuzzy_opts o;
	fp_set *fp = calloc(c->n, sizeof(*fp));
	tok_state *tok = tok_new();
	lsh t;
	char name[512];
	double t0, secs;

	parse_config(spec, &o);
	t0 = now();
	for (size_t i = 0; i < c->n; i++)
		if (fp_of_message_ex(c->m[i], &o, tok, &fp[i]))
			exit(1);
	secs = now() - t0;
	lsh_init(&t, c->n);
	for (size_t i = 0; i < c->n; i++)
		if (c->spam[i] && fp[i].has_text)
			lsh_add(&t, &fp[i].text, i);
	snprintf(name, sizeof(name), "%s [%s]", cname, spec);
	matches(c, fp, &t, name);
	recall(c, fp, &t, &o, v);
	printf("%-26s speed: %.0f fingerprints/s (%zu messages, %.2f s)\n", "", (double)c->n / secs,
	       c->n, secs);
	lsh_free(&t);
	tok_free(tok);
	free(fp);
}

static const char *corpus_name(const char *index)
{
	static char buf[256];
	const char *e = strrchr(index, '/'), *s = e;

	if (!e)
		return index;
	while (s > index && s[-1] != '/')
		s--;
	snprintf(buf, sizeof(buf), "%.*s", (int)(e - s), s);
	return buf;
}

int main(int argc, char **argv)
{
	const char *configs[16];
	size_t ncfg = 0;
	int i = 1;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "-t"))
			g_thr = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "-c") && ncfg < 16)
			configs[ncfg++] = argv[i + 1];
	}
	if (!ncfg)
		configs[ncfg++] = "default";
	for (; i < argc; i++) {
		bench_corpus c = {0};
		vocab v = {0};
		bench_corpus_load(&c, argv[i]);
		for (size_t j = 0; j < c.n; j++)
			for (size_t p = 0; !c.spam[j] && p < c.m[j]->nparts; p++)
				vocab_add_text(&v, c.m[j]->parts[p].text.p,
				               c.m[j]->parts[p].text.len);
		for (size_t k = 0; k < ncfg; k++)
			run(&c, corpus_name(argv[i]), configs[k], &v);
		for (size_t j = 0; j < v.n; j++)
			free(v.w[j]);
		free(v.w);
		bench_corpus_free(&c);
	}
	return 0;
}
