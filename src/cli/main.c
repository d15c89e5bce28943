/*
 * main.c: the spamsift command: dispatches to a subcommand (see cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "spamsift.h"

static const char usage[] =
    "usage: spamsift COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Commands:\n"
    "  parse [--text] [--trusted NETS] FILE|-\n"
    "        Parse one message (a file, or standard input for -) and print\n"
    "        its decoded structure as one JSON object: parts tree, decoded\n"
    "        headers, visible text per part, URLs, addresses, Received hops\n"
    "        and facts. --text prints only the visible text. --trusted gives\n"
    "        the networks of your own relays (default 127.0.0.0/8 ::1) used to\n"
    "        find the first untrusted Received hop.\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "  -V, --version  show the version\n"
    "\n"
    "Exit status: 0 success, 1 input refused (empty, binary, not mail),\n"
    "2 usage or I/O error.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("spamsift %s\n", SS_VERSION);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "parse"))
		return cmd_parse(argc - 1, argv + 1);
	if (!strcmp(argv[1], "eval"))
		return cmd_eval(argc - 1, argv + 1);
	fprintf(stderr, "spamsift: unknown command '%s' (see spamsift --help)\n", argv[1]);
	return CLI_USAGE;
}
