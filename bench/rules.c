/*
 * rules.c: the rules' cost on a whole scan. Loads every message of a
 * folder into memory, then times engine_scan() over all of them, on one
 * engine without any rule and on one with the default rules plus the
 * given rule files, alternating passes and keeping each one's best.
 * Prints both rates in messages/s and their ratio.
 *
 *   rules --db MODEL [--repeat N] [--rules PATH]... FOLDER
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "rules/rules.h"
#include "util/file.h"

typedef struct msgs {
	char **p;
	size_t *len;
	size_t n, bytes;
} msgs;

static int load(const char *dir, msgs *m)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4200];

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *buf;
		size_t len;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (ss_read_file_at(AT_FDCWD, path, 0, &buf, &len))
			continue;
		m->p = realloc(m->p, (m->n + 1) * sizeof(*m->p));
		m->len = realloc(m->len, (m->n + 1) * sizeof(*m->len));
		m->p[m->n] = buf;
		m->len[m->n] = len;
		m->bytes += m->len[m->n++];
	}
	closedir(d);
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One pass over every message; returns messages/s, counts symbols. */
static double pass(engine *e, const msgs *m, size_t *nsym)
{
	double t0 = now();
	ss_arena a;
	engine_result r;

	*nsym = 0;
	for (size_t i = 0; i < m->n; i++) {
		arena_init(&a);
		if (!engine_scan(e, NULL, NULL, m->p[i], m->len[i], &a, &r))
			*nsym += r.nsymbols - 1;
		arena_release(&a);
	}
	return (double)m->n / (now() - t0);
}

int main(int argc, char **argv)
{
	const char *db = NULL, *dir = NULL, *paths[64];
	size_t npaths = 0, s0 = 0, s1 = 0;
	int repeat = 3;
	engine_config c;
	engine *bare = NULL, *full = NULL;
	char why[600] = "";
	double best0 = 0, best1 = 0;
	msgs m = {0};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			db = argv[++i];
		else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rules") && i + 1 < argc && npaths < 64)
			paths[npaths++] = argv[++i];
		else
			dir = argv[i];
	}
	if (!db || !dir || load(dir, &m) || !m.n) {
		fputs("usage: rules --db MODEL [--repeat N] [--rules PATH]... FOLDER\n", stderr);
		return 2;
	}
	engine_config_default(&c);
	c.db = db;
	c.no_default_rules = 1;
	c.error = why;
	c.error_len = sizeof(why);
	if (engine_new(&c, &bare))
		return fprintf(stderr, "rules: %s\n", why), 2;
	c.no_default_rules = 0;
	c.rule_paths = paths;
	c.nrule_paths = npaths;
	double t0 = now();
	if (engine_new(&c, &full))
		return fprintf(stderr, "rules: %s\n", why), 2;
	printf("messages %zu (%.1f KB average), rules %zu (%zu on PCRE2), compiled in %.2f s\n",
	       m.n, (double)m.bytes / (double)m.n / 1024, rules_count(engine_rules(full)),
	       rules_count_pcre(engine_rules(full)), now() - t0);
	pass(bare, &m, &s0); /* warm both */
	pass(full, &m, &s1);
	for (int i = 0; i < repeat; i++) {
		double r0 = pass(bare, &m, &s0), r1 = pass(full, &m, &s1);
		best0 = r0 > best0 ? r0 : best0;
		best1 = r1 > best1 ? r1 : best1;
	}
	printf("without rules: %.0f msg/s\n", best0);
	printf("with rules:    %.0f msg/s (%.2f symbols fired per message)\n", best1,
	       (double)s1 / (double)m.n);
	printf("ratio:         %.2f\n", best1 / best0);
	engine_free(bare);
	engine_free(full);
	for (size_t i = 0; i < m.n; i++)
		free(m.p[i]);
	free(m.p);
	free(m.len);
	return 0;
}
