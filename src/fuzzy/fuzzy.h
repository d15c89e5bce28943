/*
 * fuzzy.h: the fingerprints of one parsed message.
 *
 * The text fingerprint is a min-hash signature (fp.h) of the shingles of
 * the message's normalised visible text: the Subject and the text of every
 * text and HTML part, cut into words by the classifier's tokeniser
 * (NFKC + case folding, ICU word breaks for CJK and Thai, leet and
 * look-alike letters folded), every word holding a digit replaced by one
 * placeholder, e-mail addresses reduced to their domain and URLs to their
 * host. Shingles are runs of FUZZY_K words; each is hashed once to 64 bits
 * and spread over the FP_NHASH min-hash functions by fixed multiply-add
 * permutations, so signatures are equal across runs and machines.
 *
 * A text with fewer than FUZZY_MIN_SHINGLES shingles gets no signature: a
 * few words would match too much unrelated mail. Attachments and images
 * (parts with decoded non-text data of at least FUZZY_MIN_DATA bytes) get
 * exact SHA-256 digests, at most FUZZY_MAX_DIGESTS distinct ones.
 *
 * The choices (k, placeholders, the word cap) were measured on public
 * corpora with bench/fuzzy.c; see docs/ARCHITECTURE.md, "Fingerprints".
 */
#ifndef SS_FUZZY_FUZZY_H
#define SS_FUZZY_FUZZY_H

#include <stddef.h>

#include "fuzzy/fp.h"
#include "learn/tokens.h"
#include "spamsift.h"

#define FUZZY_K 3            /* words per shingle */
#define FUZZY_MIN_SHINGLES 8 /* fewer: no text signature */
#define FUZZY_MAX_WORDS 0    /* words fingerprinted from the start, 0 = all */
#define FUZZY_MIN_DATA 128   /* smaller attachments get no digest */
#define FUZZY_MAX_DIGESTS 8  /* digests kept per message */
#define FUZZY_SIMILAR 0.5    /* fp_similarity() at or above it: a match */

/* What to do with e-mail addresses and URLs in the text. */
enum {
	FUZZY_KEEP = 0, /* as written (the tokeniser's words) */
	FUZZY_HOST = 1, /* the domain of an address, the host of a URL */
	FUZZY_DROP = 2, /* nothing */
};

/* Tuning knobs, for measurement (bench/fuzzy.c); fuzzy_opts_default()
 * gives the values fp_of_message() uses. */
typedef struct fuzzy_opts {
	unsigned k;            /* words per shingle, 1..8 */
	unsigned min_shingles; /* fewer: no signature */
	size_t max_words;      /* words fingerprinted, 0 = all */
	int numbers;           /* 1: words holding a digit become one placeholder */
	int addrs, urls;       /* FUZZY_KEEP, FUZZY_HOST or FUZZY_DROP */
} fuzzy_opts;

/* The fingerprints of one message. */
typedef struct fp_set {
	int has_text;                         /* 1 when text is set (the text was long enough) */
	fp_text text;                         /* min-hash signature of the normalised text */
	size_t nwords;                        /* words seen (after the cap) */
	size_t nshingles;                     /* shingles hashed */
	size_t ndigests;                      /* entries of digests[] in use */
	fp_digest digests[FUZZY_MAX_DIGESTS]; /* SHA-256 of attachments, in part order */
} fp_set;

/* Fills *o with the defaults (FUZZY_K, FUZZY_MIN_SHINGLES,
 * FUZZY_MAX_WORDS, numbers replaced, addresses and URLs reduced to hosts). */
void fuzzy_opts_default(fuzzy_opts *o);

/* Computes the fingerprints of message m into *out (fully overwritten).
 * Returns 0 (also when the text is too short: out->has_text is then 0),
 * SS_EINVAL or SS_ENOMEM. Thread-safe; allocates a tokeniser per call. */
int fp_of_message(const ss_message *m, fp_set *out);

/* As fp_of_message(), with options (NULL: defaults) and a tokeniser the
 * caller owns and reuses (NULL: one made for the call). */
int fp_of_message_ex(const ss_message *m, const fuzzy_opts *o, tok_state *tok, fp_set *out);

/* The text signature alone of UTF-8 text s[0..len) (for tests and tools):
 * out->has_text, text, nwords, nshingles are set, no digests. */
int fp_of_text(const char *s, size_t len, const fuzzy_opts *o, tok_state *tok, fp_set *out);

/* Whether two sets share a digest (an equal attachment or image). */
int fp_same_attachment(const fp_set *a, const fp_set *b);

#endif
