/*
 * cmd_parse.c: `spamsift parse`: one message to JSON or visible text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "spamsift.h"

typedef struct parse_args {
	int text_only;
	const char *trusted;
	const char *path;
} parse_args;

static int parse_argv(int argc, char **argv, parse_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--text"))
			a->text_only = 1;
		else if (!strcmp(argv[i], "--trusted") && i + 1 < argc)
			a->trusted = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "-")) {
			fprintf(stderr, "spamsift parse: unknown option '%s'\n", argv[i]);
			return -1;
		} else if (a->path) {
			fprintf(stderr, "spamsift parse: one message at a time\n");
			return -1;
		} else
			a->path = argv[i];
	}
	if (!a->path) {
		fprintf(stderr, "usage: spamsift parse [--text] [--trusted NETS] FILE|-\n");
		return -1;
	}
	return 0;
}

static int print_message(const ss_message *m, int text_only)
{
	char *out = NULL;
	size_t len = 0;
	int err = text_only ? ss_message_text(m, &out, &len) : ss_message_json(m, &out, &len);

	if (err) {
		fprintf(stderr, "spamsift parse: %s\n", ss_strerror(err));
		return CLI_USAGE;
	}
	fwrite(out, 1, len, stdout);
	if (!len || out[len - 1] != '\n')
		fputc('\n', stdout);
	free(out);
	return fflush(stdout) ? CLI_USAGE : CLI_OK;
}

int cmd_parse(int argc, char **argv)
{
	parse_args a;
	ss_parse_opts opts = {0};
	ss_netset *trusted = NULL;
	ss_message *m = NULL;
	char *buf = NULL;
	size_t len, errpos;
	int err, ret = CLI_USAGE;

	if (parse_argv(argc, argv, &a))
		return CLI_USAGE;
	if (a.trusted && ss_netset_parse(a.trusted, &trusted, &errpos)) {
		fprintf(stderr, "spamsift parse: --trusted: bad network at \"%s\"\n",
		        a.trusted + errpos);
		return CLI_USAGE;
	}
	opts.trusted = trusted;
	if (cli_read_file(a.path, &buf, &len))
		goto out;
	err = ss_parse(buf, len, &opts, &m);
	if (err) {
		fprintf(stderr, "spamsift parse: %s: %s\n", a.path, ss_strerror(err));
		ret = err == SS_ENOMEM ? CLI_USAGE : CLI_REFUSED;
		goto out;
	}
	ret = print_message(m, a.text_only);
out:
	ss_message_free(m);
	ss_netset_free(trusted);
	free(buf);
	return ret;
}
