/*
 * load.h: rule files from disk, and the default rule set built into the
 * binary (the files rules/NN-*.rules, embedded at build time). The only part of
 * src/rules that does I/O; the parser itself takes buffers.
 */
#ifndef SS_RULES_LOAD_H
#define SS_RULES_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

/* One embedded rule file. */
typedef struct rules_file {
	const char *name; /* "rules/10-headers.rules" */
	const char *text;
} rules_file;

/* The default rule set (generated from the rules folder by the Makefile). */
extern const rules_file rules_default_files[];
extern const size_t rules_default_nfiles;

/* Parses the embedded defaults into rs. Returns 0 or an error (*err). */
int rules_load_defaults(ruleset *rs, rules_error *err);

/* Parses `path` into rs: a file, or a directory whose *.rules files are
 * read in name order. Returns 0, SS_EIO ("PATH: reason" in *err), or the
 * parser's error. */
int rules_load_path(ruleset *rs, const char *path, rules_error *err);

/* Where compiled Hyperscan databases are kept between runs: the
 * environment's SPAMSIFT_CACHE_DIR (empty: no cache), else
 * $XDG_CACHE_HOME/spamsift, else $HOME/.cache/spamsift. Writes it in out
 * and returns out, or NULL when there is none. */
const char *rules_cache_dir(char *out, size_t len);

/* The whole build: a new set with the defaults (unless no_defaults) and
 * every path, compiled (with rules_cache_dir()'s cache). Stores it in
 * *out. Returns 0 or an error with *err set. */
int rules_build(const char *const *paths, size_t npaths, int no_defaults, ruleset **out,
                rules_error *err);

/* A fingerprint of what rules_build() would read from paths: each path,
 * and each file's name, size, modification time and inode (a folder's
 * *.rules files too). Equal fingerprints: the files have not changed, and
 * a set built from them may be reused (a reload that changes other
 * settings need not compile the rules again). */
uint64_t rules_fingerprint(const char *const *paths, size_t npaths);

#endif
