/*
 * corpus.c: corpus indexes to parsed messages, for the benchmarks (see
 * corpus.h).
 */
#include "corpus.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"

static void add(bench_corpus *c, ss_message *m, int spam)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->m = realloc(c->m, c->cap * sizeof(*c->m));
		c->spam = realloc(c->spam, c->cap * sizeof(*c->spam));
		if (!c->m || !c->spam) {
			fputs("bench: out of memory\n", stderr);
			exit(1);
		}
	}
	c->m[c->n] = m;
	c->spam[c->n++] = spam;
}

void bench_corpus_load(bench_corpus *c, const char *index)
{
	char line[4096], path[8192];
	const char *slash = strrchr(index, '/');
	int dir = slash ? (int)(slash - index) : 1;
	FILE *f = fopen(index, "r");

	if (!f) {
		perror(index);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		char label[16], rel[4000];
		size_t len = 0;
		ss_message *m = NULL;
		char *buf = NULL;
		if (sscanf(line, "%15s %3999s", label, rel) != 2)
			continue;
		snprintf(path, sizeof(path), "%.*s/%s", dir, slash ? index : ".", rel);
		if (!ss_read_file_at(AT_FDCWD, path, 0, &buf, &len) &&
		    ss_parse(buf, len, NULL, &m) == 0)
			add(c, m, !strcmp(label, "spam"));
		free(buf);
	}
	fclose(f);
}

void bench_corpus_free(bench_corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		ss_message_free(c->m[i]);
	free(c->m);
	free(c->spam);
	memset(c, 0, sizeof(*c));
}
