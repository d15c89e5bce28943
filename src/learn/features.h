/*
 * features.h: a parsed message to the set of hashed features the classifier
 * scores.
 *
 * Each feature is a namespace (body word, word pair, Subject word, header
 * token, Received hop, URL host, MIME shape, parser fact, obfuscation sign)
 * plus a normalised token, hashed to 64 bits (xxHash XXH3). A message gives
 * each feature at most once (binary features), in a bounded number: the
 * first `max_features` distinct ones, headers and structure first, then text.
 * After these come the byte 4-grams of the header lines and the text (the
 * input of a separate expert; see classify.h), on their own budget.
 * No I/O; one feat_ctx per thread.
 */
#ifndef SS_LEARN_FEATURES_H
#define SS_LEARN_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "spamsift.h"
#include "util/arena.h"

#define FEAT_GRAM 4 /* length in bytes of the n-grams */

/*
 * The 4-grams are hashed into FEAT_GRAMS slots (the hashing trick): a
 * 4-gram's key names its slot, not the 4-gram, and a model holds at most
 * FEAT_GRAMS n-gram weights, whatever the mail. A slot is a weight only:
 * learning moves it and no count. Its key keeps the slot number in its low
 * 32 bits (xor a tag) and a mix of it in the high 32 (which a store spreads
 * its buckets by), so that a store can tell a slot from a token's hash (a
 * 64-bit hash passes the test with odds of 2^-64) and keep the global
 * model's slots in a dense array of its own.
 */
#define FEAT_GRAM_BITS 20
#define FEAT_GRAMS (1u << FEAT_GRAM_BITS)
#define FEAT_GRAM_TAG 0xA5B00000u
_Static_assert((FEAT_GRAM_TAG & (FEAT_GRAMS - 1)) == 0, "a slot number stays clear of the tag");

/* A bijective 32-bit mixer (xorshift-multiply, "lowbias32"). */
static inline uint32_t feat_gram_mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7FEB352Du;
	x ^= x >> 15;
	x *= 0x846CA68Bu;
	x ^= x >> 16;
	return x;
}

/* The key of n-gram slot `slot` (< FEAT_GRAMS). */
static inline uint64_t feat_gram_key(uint32_t slot)
{
	return (uint64_t)feat_gram_mix(slot) << 32 | (FEAT_GRAM_TAG ^ slot);
}

/* The slot of a key made by feat_gram_key(), not checked (kept below
 * FEAT_GRAMS whatever the key). */
static inline uint32_t feat_gram_key_slot(uint64_t key)
{
	return ((uint32_t)key ^ FEAT_GRAM_TAG) & (FEAT_GRAMS - 1);
}

/* Whether key is an n-gram slot's; if so its number goes to *slot. */
static inline int feat_gram_slot(uint64_t key, uint32_t *slot)
{
	uint32_t s = (uint32_t)key ^ FEAT_GRAM_TAG;

	if (s >= FEAT_GRAMS || (uint32_t)(key >> 32) != feat_gram_mix(s))
		return 0;
	*slot = s;
	return 1;
}

/* Feature namespaces; feat_ns_name() gives their printed prefixes. */
enum feat_ns {
	FNS_WORD,    /* a word of the visible text */
	FNS_PAIR,    /* two adjacent words of the visible text */
	FNS_SUBJECT, /* a word of the Subject, or two adjacent ones */
	FNS_HEADER,  /* "name:token" of a selected header */
	FNS_HNAME,   /* a header field's name is present */
	FNS_HOP,     /* the first untrusted Received hop (network, names) */
	FNS_URL,     /* a URL's host and parent domains, path words, flags */
	FNS_MIME,    /* part content types, encodings, charsets, attachment types */
	FNS_FACT,    /* a fact noticed by the parser */
	FNS_OBF,     /* an obfuscation sign (leet, look-alikes, zero-width) */
	FNS_GRAM,    /* a byte 4-gram of the headers and visible text (its slot) */
	FNS_COUNT
};

/* One feature: its hash, and its token for explanations. */
typedef struct feat {
	uint64_t h;
	const char *tok; /* NUL-terminated, in the caller's arena; for FNS_GRAM
	                    the FEAT_GRAM bytes of the n-gram (see feat_token) */
	uint8_t ns;      /* enum feat_ns */
} feat;

typedef struct feat_set {
	feat *v;
	size_t n;
	size_t ntok; /* v[0..ntok) are token features, the rest 4-grams */
} feat_set;

typedef struct feat_ctx feat_ctx;

/* Returns a new extraction context giving at most max_features token
 * features per message (0 means the default, 1500) followed by the 4-grams
 * of up to gram_bytes bytes of header and text (0: none), or NULL when out
 * of memory. */
feat_ctx *feat_new(size_t max_features, size_t gram_bytes);
void feat_free(feat_ctx *fc);

/* Extracts the features of `m` into *out (array and tokens allocated in
 * `a`, which the caller releases). Returns 0 or SS_ENOMEM. */
int feat_extract(feat_ctx *fc, const ss_message *m, ss_arena *a, feat_set *out);

/* Returns f's token in printable UTF-8: f->tok, or for a 4-gram a copy in
 * `a` where a space shows as '_' and a control byte or a piece of a UTF-8
 * character as \xNN. NULL when out of memory. */
const char *feat_token(const feat *f, ss_arena *a);

/* Fills buf (capacity cap) with what the 4-grams (and the compression
 * expert, learn/ppm.h) read: header lines "name:value" (at most half of
 * it), the Subject, then the visible text, each byte through the same map
 * (ASCII letters lower-cased, CR and TAB as spaces).
 * Returns the bytes written. */
size_t feat_text(const ss_message *m, char *buf, size_t cap);

/* Returns the printed prefix of namespace ns ("w", "p", "subj"...). */
const char *feat_ns_name(unsigned ns);

/* Hashes token t[0..len) in namespace ns (what feat_extract does). */
uint64_t feat_hash(unsigned ns, const char *t, size_t len);

#endif
