/*
 * corpus.h: the benchmarks' reading of a corpus index ("spam <relpath>" /
 * "ham <relpath>" lines, paths relative to the index's folder) into parsed
 * messages held in memory.
 */
#ifndef SS_BENCH_CORPUS_H
#define SS_BENCH_CORPUS_H

#include <stddef.h>

#include "spamsift.h"

typedef struct bench_corpus {
	ss_message **m;
	int *spam; /* 1 for spam, 0 for ham, per message */
	size_t n, cap;
} bench_corpus;

/* Parses every message the index names and appends it to c; a message that
 * cannot be read or parsed is skipped. Exits on an unreadable index or
 * when out of memory (a benchmark has nothing better to do). */
void bench_corpus_load(bench_corpus *c, const char *index);

/* Frees the messages and the arrays. */
void bench_corpus_free(bench_corpus *c);

#endif
