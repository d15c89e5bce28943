/*
 * cmd_rules.c: `spamsift rules check PATH...`: reads rule files (or
 * directories of *.rules) on top of the built-in defaults, compiles them
 * as spamsiftd would, and says what is wrong with them, as
 * "FILE:LINE: reason", exit 2. A broken file is caught before a reload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "rules/load.h"

static const char rules_usage[] =
    "usage: spamsift rules check [--no-default-rules] [PATH...]\n"
    "  Check rule files (or directories of *.rules files) as spamsiftd\n"
    "  loads them, after the built-in defaults: prints the first error as\n"
    "  FILE:LINE: reason and exits 2, or counts the rules and exits 0.\n";

int cmd_rules(int argc, char **argv)
{
	const char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	size_t n = 0;
	int no_defaults = 0, rc = CLI_USAGE, i = 1;
	ruleset *rs = NULL;
	rules_error err;

	if (!paths)
		return CLI_USAGE;
	if (argc > 1 && !strcmp(argv[1], "--check"))
		i = 1; /* `spamsift rules --check PATH...` */
	else if (argc < 2 || strcmp(argv[1], "check"))
		goto usage;
	for (i++; i < argc; i++) {
		if (!strcmp(argv[i], "--no-default-rules"))
			no_defaults = 1;
		else if (argv[i][0] == '-')
			goto usage;
		else
			paths[n++] = argv[i];
	}
	if (rules_build(paths, n, no_defaults, &rs, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	printf("%zu rules (%zu on PCRE2), %zu files: OK\n", rules_count(rs), rules_count_pcre(rs),
	       n + (no_defaults ? 0 : rules_default_nfiles));
	rc = CLI_OK;
	goto out;
usage:
	fputs(rules_usage, stderr);
out:
	rules_free(rs);
	free(paths);
	return rc;
}
