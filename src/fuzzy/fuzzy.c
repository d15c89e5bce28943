/*
 * fuzzy.c: a message's fingerprints (see fuzzy.h): the min-hash signature
 * of its normalised visible text and the SHA-256 digests of its
 * attachments and images.
 */
#include "fuzzy/fuzzy.h"
#include "util/mix.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define K_MAX 8

/* The state of one signature being built. */
typedef struct shingler {
	const fuzzy_opts *o;
	uint64_t a[FP_NHASH], b[FP_NHASH]; /* the min-hash permutations */
	uint64_t ring[K_MAX];              /* the last k word hashes, oldest first */
	size_t nrun;                       /* words in the current part so far */
	uint64_t pending;                  /* the last word, not yet pushed */
	int has_pending;
	size_t nwords, nshingles;
	uint32_t min[FP_NHASH];
} shingler;

void fuzzy_opts_default(fuzzy_opts *o)
{
	o->k = FUZZY_K;
	o->min_shingles = FUZZY_MIN_SHINGLES;
	o->max_words = FUZZY_MAX_WORDS;
	o->numbers = 1;
	o->addrs = FUZZY_HOST;
	o->urls = FUZZY_HOST;
}

/* Fixed permutations x -> (a x + b) >> 32, a odd: part of the contract, so
 * every organisation computes the same signature. Never change the seed. */
static void shingler_init(shingler *s, const fuzzy_opts *o)
{
	uint64_t seed = 0x5350414d53494654ULL; /* "SPAMSIFT" */

	memset(s, 0, sizeof(*s));
	s->o = o;
	for (size_t i = 0; i < FP_NHASH; i++) {
		s->a[i] = ss_mix64(seed += 0x9e3779b97f4a7c15ULL) | 1;
		s->b[i] = ss_mix64(seed += 0x9e3779b97f4a7c15ULL);
		s->min[i] = UINT32_MAX;
	}
}

static uint64_t word_hash(const char *w, size_t len, int numbers)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then mixed */

	if (numbers && strpbrk(w, "0123456789"))
		return 0x2323232323232323ULL; /* the number placeholder */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)w[i]) * 0x100000001b3ULL;
	return ss_mix64(h);
}

static void add_shingle(shingler *s, uint64_t x)
{
	for (size_t i = 0; i < FP_NHASH; i++) {
		uint32_t v = (uint32_t)((s->a[i] * x + s->b[i]) >> 32);
		s->min[i] = v < s->min[i] ? v : s->min[i];
	}
	s->nshingles++;
}

/* Appends a word to the current run and hashes the shingle it ends. */
static void push_word(shingler *s, uint64_t w)
{
	size_t k = s->o->k;
	uint64_t x = k;

	memmove(s->ring, s->ring + 1, (K_MAX - 1) * sizeof(uint64_t));
	s->ring[K_MAX - 1] = w;
	s->nrun++;
	s->nwords++;
	if (s->nrun < k)
		return;
	for (size_t i = K_MAX - k; i < K_MAX; i++)
		x = ss_mix64(x ^ s->ring[i]);
	add_shingle(s, x);
}

static void flush_pending(shingler *s)
{
	if (s->has_pending)
		push_word(s, s->pending);
	s->has_pending = 0;
}

/* Ends a part: shingles do not span two parts. */
static void end_run(shingler *s)
{
	flush_pending(s);
	s->nrun = 0;
}

/* Tokeniser callback: a folded spelling (v1agra -> viagra) replaces the
 * word it follows, so both spellings give the same shingles. */
static int on_token(void *ctx, const char *tok, size_t len, unsigned flags)
{
	shingler *s = ctx;

	if ((flags & (TOK_FOLD_LEET | TOK_FOLD_HOMO)) && s->has_pending) {
		s->pending = word_hash(tok, len, 0);
		return 0;
	}
	flush_pending(s);
	if (s->o->max_words && s->nwords >= s->o->max_words)
		return 1; /* the cap: stop this part */
	s->pending = word_hash(tok, len, s->o->numbers);
	s->has_pending = 1;
	return 0;
}

static int is_space(unsigned char c)
{
	return c <= ' ' || c == '<' || c == '>' || c == '"' || c == '\'';
}

static int is_local(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("._%+-=", c));
}

static int is_scheme(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '.' || c == '-';
}

static int is_host(unsigned char c)
{
	return c >= 0x80 || c == '.' || c == '-' || (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Blanks the scheme, path and query of the URL whose "://" is at t[i],
 * and its host too under FUZZY_DROP. Returns where scanning goes on. */
static size_t reduce_url(char *t, size_t len, size_t i, int mode)
{
	size_t j = i, e = i + 3;

	while (j > 0 && is_scheme((unsigned char)t[j - 1]))
		j--;
	while (e < len && is_host((unsigned char)t[e]))
		e++;
	if (mode == FUZZY_DROP)
		e = i + 3;
	memset(t + j, ' ', i + 3 - j);
	while (e < len && !is_space((unsigned char)t[e]))
		t[e++] = ' ';
	return e;
}

/* Blanks the local part of the address whose '@' is at t[i] (with the '@'),
 * and its domain too under FUZZY_DROP. */
static size_t reduce_addr(char *t, size_t len, size_t i, int mode)
{
	size_t j = i, e = i + 1;

	while (j > 0 && is_local((unsigned char)t[j - 1]))
		j--;
	if (j == i || e >= len || !is_host((unsigned char)t[e]))
		return i + 1;
	memset(t + j, ' ', i + 1 - j);
	while (mode == FUZZY_DROP && e < len && is_host((unsigned char)t[e]))
		t[e++] = ' ';
	return e;
}

/* Reduces addresses and URLs in place (ASCII bytes only are looked at, and
 * whole UTF-8 sequences are blanked, so the text stays valid UTF-8). */
static void reduce_text(char *t, size_t len, const fuzzy_opts *o)
{
	size_t i = 0;

	while (i < len) {
		if (o->urls != FUZZY_KEEP && t[i] == ':' && i + 2 < len && t[i + 1] == '/' &&
		    t[i + 2] == '/')
			i = reduce_url(t, len, i, o->urls);
		else if (o->addrs != FUZZY_KEEP && t[i] == '@')
			i = reduce_addr(t, len, i, o->addrs);
		else
			i++;
	}
}

/* Feeds one text (a part or the Subject) to the shingler. buf/cap: a
 * scratch buffer the caller frees. */
static int feed(shingler *s, tok_state *tok, const char *p, size_t len, char **buf, size_t *cap)
{
	int rc;

	if (!len || (s->o->max_words && s->nwords >= s->o->max_words))
		return 0;
	if (s->o->urls != FUZZY_KEEP || s->o->addrs != FUZZY_KEEP) {
		if (len + 1 > *cap) {
			char *nb = realloc(*buf, len + 1);
			if (!nb)
				return SS_ENOMEM;
			*buf = nb;
			*cap = len + 1;
		}
		memcpy(*buf, p, len);
		(*buf)[len] = 0;
		reduce_text(*buf, len, s->o);
		p = *buf;
	}
	rc = tok_text(tok, p, len, on_token, s);
	end_run(s);
	return rc < 0 ? rc : 0;
}

static void finish(const shingler *s, fp_set *out)
{
	out->nwords = s->nwords;
	out->nshingles = s->nshingles;
	out->has_text = s->nshingles >= s->o->min_shingles && s->nshingles > 0;
	if (out->has_text)
		memcpy(out->text.h, s->min, sizeof(out->text.h));
}

static int check_opts(const fuzzy_opts *o)
{
	return o->k >= 1 && o->k <= K_MAX ? 0 : SS_EINVAL;
}

/* Feeds the Subject and every text part of m. */
static int feed_message(shingler *s, tok_state *tok, const ss_message *m)
{
	char *buf = NULL;
	size_t cap = 0;
	int rc = feed(s, tok, m->subject.p, m->subject.len, &buf, &cap);

	for (size_t i = 0; !rc && i < m->nparts; i++) {
		const ss_part *p = &m->parts[i];
		if (p->flags & (SS_PART_TEXT | SS_PART_HTML))
			rc = feed(s, tok, p->text.p, p->text.len, &buf, &cap);
	}
	free(buf);
	return rc;
}

/* Adds the SHA-256 of every large enough non-text leaf, once each. */
static void add_digests(const ss_message *m, fp_set *out)
{
	if (sodium_init() < 0)
		return;
	for (size_t i = 0; i < m->nparts && out->ndigests < FUZZY_MAX_DIGESTS; i++) {
		const ss_part *p = &m->parts[i];
		fp_digest d;
		size_t j;
		if (p->data.len < FUZZY_MIN_DATA)
			continue;
		crypto_hash_sha256(d.sha256, (const unsigned char *)p->data.p, p->data.len);
		for (j = 0; j < out->ndigests; j++)
			if (!memcmp(out->digests[j].sha256, d.sha256, sizeof(d.sha256)))
				break;
		if (j == out->ndigests)
			out->digests[out->ndigests++] = d;
	}
}

/* What both entry points do first: empty the result, check the options
 * (NULL: the defaults, written into the caller's *def, which the shingler
 * points to), make a tokenizer when the caller gave none (*own, to be
 * freed) and start the shingler. Returns 0 or a negative error. */
static int start(shingler *s, const fuzzy_opts *o, fuzzy_opts *def, tok_state **tok,
                 tok_state **own, fp_set *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (!o) {
		fuzzy_opts_default(def);
		o = def;
	}
	if ((rc = check_opts(o)) < 0)
		return rc;
	if (!*tok && !(*tok = *own = tok_new()))
		return SS_ENOMEM;
	shingler_init(s, o);
	return 0;
}

int fp_of_message_ex(const ss_message *m, const fuzzy_opts *o, tok_state *tok, fp_set *out)
{
	fuzzy_opts def;
	shingler s;
	tok_state *own = NULL;
	int rc;

	if (!m || !out)
		return SS_EINVAL;
	if ((rc = start(&s, o, &def, &tok, &own, out)) < 0)
		return rc;
	rc = feed_message(&s, tok, m);
	if (rc < 0)
		goto out;
	finish(&s, out);
	add_digests(m, out);
out:
	tok_free(own);
	return rc;
}

int fp_of_message(const ss_message *m, fp_set *out)
{
	return fp_of_message_ex(m, NULL, NULL, out);
}

int fp_of_text(const char *str, size_t len, const fuzzy_opts *o, tok_state *tok, fp_set *out)
{
	fuzzy_opts def;
	shingler s;
	tok_state *own = NULL;
	char *buf = NULL;
	size_t cap = 0;
	int rc;

	if (!str || !out)
		return SS_EINVAL;
	if ((rc = start(&s, o, &def, &tok, &own, out)) < 0)
		return rc;
	rc = feed(&s, tok, str, len, &buf, &cap);
	if (rc == 0)
		finish(&s, out);
	free(buf);
	tok_free(own);
	return rc;
}

int fp_same_attachment(const fp_set *a, const fp_set *b)
{
	for (size_t i = 0; i < a->ndigests; i++)
		for (size_t j = 0; j < b->ndigests; j++)
			if (!memcmp(a->digests[i].sha256, b->digests[j].sha256, 32))
				return 1;
	return 0;
}
