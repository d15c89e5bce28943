/*
 * tokens.h: UTF-8 text to normalised word tokens for the classifier.
 *
 * Words are runs of letters, marks and digits (with '.', '-', '\'', '_' and
 * '$' kept inside a word), normalised by NFKC + case folding (ICU; ASCII
 * fast path). Runs of scripts written without spaces (Han, Hiragana,
 * Katakana, Thai, Lao, Khmer, Myanmar) are cut into words by ICU's word
 * break iterator. Vietnamese syllables keep their tone marks.
 *
 * Obfuscation folding: zero-width characters and soft hyphens inside a word
 * are dropped; a word mixing Latin with look-alike Cyrillic or Greek letters
 * is also given in its Latin spelling; a word mixing letters with "leet"
 * digits (v1agra) is also given with the letters restored. Each fold is
 * reported to the callback with a TOK_* flag so it can become a feature.
 * No I/O; one tok_state per thread.
 */
#ifndef SS_LEARN_TOKENS_H
#define SS_LEARN_TOKENS_H

#include <stddef.h>

/* Flags passed with each token. */
enum {
	TOK_SEGMENTED = 1 << 0,  /* cut from a run without spaces (CJK, Thai) */
	TOK_FOLD_LEET = 1 << 1,  /* letters restored from leet digits */
	TOK_FOLD_HOMO = 1 << 2,  /* look-alike letters mapped to Latin */
	TOK_ZERO_WIDTH = 1 << 3, /* zero-width characters were removed from it */
	TOK_LONG = 1 << 4,       /* a placeholder for an over-long word */
};

/* Longest token, in bytes, given as is; longer words become a placeholder
 * ("long:<first letter>:<length/8>") flagged TOK_LONG. */
#define TOK_MAX 48

/* Called once per token, in text order; tok is NUL-terminated and valid only
 * during the call. A non-zero return stops tokenisation and is returned. */
typedef int (*tok_cb)(void *ctx, const char *tok, size_t len, unsigned flags);

typedef struct tok_state tok_state;

/* Returns a new tokeniser state (ICU objects are opened lazily), or NULL. */
tok_state *tok_new(void);
void tok_free(tok_state *t);

/* Tokenises well-formed UTF-8 text s[0..len), calling cb for each token.
 * Returns 0, SS_ENOMEM, or the callback's non-zero result. */
int tok_text(tok_state *t, const char *s, size_t len, tok_cb cb, void *ctx);

#endif
