/*
 * internal.h: what the files of src/phish share: the context and the
 * functions of each part (hosts, attachments, archives).
 */
#ifndef SS_PHISH_INTERNAL_H
#define SS_PHISH_INTERNAL_H

#include <libpsl.h>
#include <magic.h>
#include <stddef.h>
#include <stdint.h>
#include <unicode/uspoof.h>

#include "check/hits.h"
#include "phish/phish.h"
#include "util/arena.h"
#include "util/buf.h"

/* One brand, prepared: its registrable domain, that domain's first label
 * and the label's confusable skeleton (lower case). */
typedef struct phish_brand {
	const char *reg;   /* "paypal.com" */
	const char *label; /* "paypal" */
	const char *skel;  /* skeleton of label */
	size_t label_len;
} phish_brand;

/* A host's brand look-alike verdict, remembered across messages: hosts
 * recur (a list's, a sender's, a newsletter's links) and each costs a
 * public-suffix lookup, an ICU skeleton and a walk of the brands. */
#define HOST_MEMO 256    /* entries, direct-mapped by a hash of the host */
#define HOST_MEMO_LEN 64 /* longer hosts are not remembered */

typedef struct host_memo {
	char host[HOST_MEMO_LEN]; /* "" = empty */
	int brand;                /* index of the brand it looks like, or -1 */
} host_memo;

/* Answers of the public-suffix list for suffixes of hosts ("example.com",
 * "com"), remembered across messages: the registrable domain of a host is
 * found by asking for each of its suffixes, left to right, and the short
 * ones recur in host after host. */
#define SUFFIX_MEMO 512    /* entries, direct-mapped by a hash of the suffix */
#define SUFFIX_MEMO_LEN 48 /* longer suffixes are not remembered */

typedef struct suffix_memo {
	char suffix[SUFFIX_MEMO_LEN]; /* "" = empty */
	int is_public;
} suffix_memo;

/* The confusable skeleton of one ASCII character, as ICU gives it; len
 * SKEL_ASCII_ICU when it is not plain ASCII (ICU is then asked for the
 * whole label). */
#define SKEL_ASCII_ICU 0xFF

typedef struct skel_ascii {
	char s[4];
	uint8_t len;
} skel_ascii;

struct phish_ctx {
	magic_t magic;                /* NULL: magic bytes only */
	USpoofChecker *spoof;         /* label checks and skeletons */
	psl_ctx_t *psl_own;           /* the newest list (psl_latest), or NULL */
	const psl_ctx_t *psl;         /* psl_own or the built-in list */
	const char *const *brand_src; /* the list the cache was built from */
	const char **brand_copy;      /* copies of its strings, to notice changes */
	size_t nbrands;
	phish_brand *brands;
	ss_arena brand_arena;      /* the cache's strings */
	sbuf nested;               /* a nested archive read from its parent */
	sbuf sniff;                /* the first bytes of an archive entry */
	host_memo memo[HOST_MEMO]; /* for the current brand cache */
	suffix_memo suffixes[SUFFIX_MEMO];
	skel_ascii skel[128]; /* by character; filled by phish_skel_init */
};

/* ---- phish_host.c ---- */

/* Makes the brand cache match `list` (n entries) if it does not already.
 * Returns 0 or SS_ENOMEM. */
int phish_brands_sync(phish_ctx *ctx, const char *const *list, size_t n);

/* FNV-1a of the NUL-terminated host, for the tables of hosts (the set
 * of a message's hosts, the memo of verdicts). */
uint32_t phish_host_hash(const char *host);

/* Fills ctx->skel from ICU's skeleton of each ASCII character. */
void phish_skel_init(phish_ctx *ctx);

/* The lower-cased confusable skeleton (UTS #39) of s[0..n) into out
 * (capacity cap, NUL-terminated); returns its length, or -1 when ICU
 * fails or it does not fit. */
int phish_skeleton(const phish_ctx *ctx, const char *s, size_t n, char *out, size_t cap);

/* Returns the registrable domain of lower-case `host` (a suffix of it),
 * or host itself when it has none (an IP, a bare name, a public suffix):
 * what psl_registrable_domain gives, with each suffix's answer taken from
 * ctx->suffixes when it is there. */
const char *phish_reg_domain(phish_ctx *ctx, const char *host);

/* Checks one host (lower case, Unicode, NUL-terminated, not an IP) for
 * homographs and brand look-alikes; `ascii` is its punycode form for the
 * detail (may be NULL). Returns 0 or SS_ENOMEM. */
int phish_host_check(phish_ctx *ctx, const char *host, const char *ascii, ss_hits *out);

/* ---- phish_attach.c ---- */

/* The attachment checks over every leaf part of m. */
int phish_attach_check(phish_ctx *ctx, const ss_message *m, ss_hits *out);

/* Returns a short name of the kind of program data[0..len) is ("PE",
 * "ELF", "Mach-O", "MSI"), or NULL when it is not one. */
const char *phish_exe_kind(phish_ctx *ctx, const unsigned char *data, size_t len);

/* Whether a file name (UTF-8) ends in an extension Windows runs or mounts. */
int phish_name_risky(const char *name, size_t len);

/* ---- phish_archive.c ---- */

/* What the archive reader may still spend for one message. */
typedef struct phish_budget {
	size_t entries;   /* entries that may still be listed */
	size_t unpacked;  /* bytes that may still be decompressed */
	int64_t deadline; /* CLOCK_MONOTONIC, ns: no archive reading after it */
} phish_budget;

/* Starts the per-message budget. */
void phish_budget_init(phish_budget *b);

/* Whether data starts like an archive or compressed file libarchive reads. */
int phish_archive_kind(const unsigned char *data, size_t len);

/* Lists the archive data[0..len) named `name` and adds
 * ATTACH_ARCHIVE_EXECUTABLE / ATTACH_ENCRYPTED_ARCHIVE; depth 0 opens
 * nested archives, depth 1 does not. Returns 0 or SS_ENOMEM. */
int phish_archive_scan(phish_ctx *ctx, const char *name, const unsigned char *data, size_t len,
                       int depth, phish_budget *b, ss_hits *out);

#endif
