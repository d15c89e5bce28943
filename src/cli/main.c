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
    "  learn --spam|--ham [--user U] [--db PATH] [--size MB] PATH...\n"
    "        Learn the messages of each PATH (a file, an mbox, a directory, a\n"
    "        Maildir, - for standard input) as spam or ham. Learning a message\n"
    "        again changes nothing; learning it as the other class moves it.\n"
    "        --user trains that user's model (added on top of the global one).\n"
    "        --size sets the size of a new model (default 64 MB, plus 4 MB of\n"
    "        n-gram weights; old, rare features expire when it is full).\n"
    "        With both --spam and --ham (learn --spam S... --ham H...), each\n"
    "        PATH is of the class before it and the two classes are learned\n"
    "        interleaved, in proportion to their counts (the paths are read\n"
    "        twice: counted, then learned): a first batch is best learned so,\n"
    "        since the classifier's online experts lean to the class learned last.\n"
    "  unlearn [--user U] [--db PATH] PATH...\n"
    "        Undo the learning of those messages.\n"
    "  check [--json] [--user U] [--db PATH] [--rules PATH]... [--no-default-rules]\n"
    "        [--ip IP] [--helo NAME] [--from ADDR] [--rcpt ADDR]...\n"
    "        [--resolver IP:PORT|system] [--dns-timeout S]\n"
    "        [--fp-server IP:PORT --fp-key FILE] PATH...\n"
    "        Score each message: verdict, the classifier's score in [0,1],\n"
    "        action and the features behind it, then the rules and checks\n"
    "        that fired with their points. --json: one object per line (path,\n"
    "        score, verdict, action, symbols). --rules adds rule files or\n"
    "        directories of *.rules to the built-in set (docs/RULES.md);\n"
    "        --ip, --helo, --from and --rcpt give the SMTP envelope (lists,\n"
    "        per-domain settings, SPF). --resolver turns on the DNS checks\n"
    "        (SPF, DKIM, DMARC, DNS block lists) through that DNS server, or\n"
    "        the system's (/etc/resolv.conf); each message spends at most\n"
    "        --dns-timeout seconds on DNS (default 5). Without it they are off.\n"
    "        --fp-server looks the message's fingerprints up on a spamsift-fpd\n"
    "        (FUZZY_SPAM: a reported spam's near copy), with the key in --fp-key.\n"
    "  report [--user U] [--db PATH] [--contacts FILE] [--geoip FILE.mmdb]\n"
    "         [--evidence DIR] [--from ADDR] [--trusted NETS] [--send]\n"
    "         [--fp-server IP:PORT --fp-key FILE] FILE...\n"
    "        A user's report of spam: learn each message as spam, keep it in\n"
    "        the append-only evidence store (default $XDG_DATA_HOME/spamsift/\n"
    "        evidence) and print an abuse report (ARF, RFC 5965) to the abuse\n"
    "        contact of its source (the first untrusted Received hop; contacts\n"
    "        file lines 'CIDR ADDRESS [ASN] [CC]', longest prefix wins). --send\n"
    "        hands it to /usr/sbin/sendmail -t -i instead. Exit 3: learned and\n"
    "        stored, but no contact for a message (the report says so).\n"
    "  report --stats [--evidence DIR] [--since T] [--until T] [--json|--csv]\n"
    "        Stored reports counted by origin network and country.\n"
    "  rules check [--no-default-rules] [PATH...]\n"
    "        Check rule files as spamsiftd would load them: FILE:LINE: reason\n"
    "        and exit 2 on the first error.\n"
    "  stats [--db PATH]          what the model holds\n"
    "  export [--db PATH] FILE|-  write a portable backup of the model\n"
    "  import [--db PATH] FILE|-  read one back (all or nothing)\n"
    "  migrate --from DIR|URL --to DIR|URL [--redis-password-file FILE]\n"
    "        Copy a model between the embedded store (folder DIR) and Redis\n"
    "        (redis://[:PASSWORD@]HOST[:PORT][/DB]), into an empty target.\n"
    "  eval [--results FILE] [--plot FILE.svg] [--json] [--limit N]\n"
    "       [--neutral-headers] [--param NAME=VALUE]... INDEX\n"
    "        TREC-style online evaluation on a corpus index (lines 'spam PATH'\n"
    "        or 'ham PATH'): classify each message, then learn it; prints\n"
    "        1-ROCA%, lam%, hm%, sm%, sm% at hm=0.1% and messages/s.\n"
    "        --neutral-headers classifies copies with made-up sender headers\n"
    "        (content alone); --param sets a classifier parameter.\n"
    "  fp keygen NAME [--read-only] [--rate N]\n"
    "        Print a new key line for spamsift-fpd's keys file (docs/FPP.md).\n"
    "  trec initialize|classify FILE|train ham|spam FILE|finalize [--db PATH]\n"
    "        The TREC spam track toolkit's commands.\n"
    "\n"
    "The model lives in --db PATH (default $XDG_DATA_HOME/spamsift/model), or on\n"
    "Redis with --redis URL in place of --db on learn, unlearn, check, stats,\n"
    "export, import and trec: redis://[:PASSWORD@]HOST[:PORT][/DB], rediss:// for\n"
    "TLS (a client certificate from SPAMSIFT_REDIS_TLS_CERT and _KEY), or\n"
    "redis+sentinel://[:PASSWORD@]HOST[:PORT][,HOST...]/SERVICE[/DB] for a master\n"
    "that Redis Sentinel watches; optionally --redis-replica URL to read from and\n"
    "--redis-password-file FILE.\n"
    "Compiled rule patterns are cached in $SPAMSIFT_CACHE_DIR (default\n"
    "$XDG_CACHE_HOME/spamsift or ~/.cache/spamsift; empty: no cache).\n"
    "To filter mail as it arrives, run spamsiftd on the same model (it speaks\n"
    "the spamd protocol; see spamsiftd --help).\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "  -V, --version  show the version\n"
    "\n"
    "Exit status: 0 success, 1 input refused (empty, binary, not mail),\n"
    "2 usage or I/O error; report: 3 no abuse contact for a message.\n";

/* The commands and what runs each (the model's commands share one). */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
    {"parse", cmd_parse}, {"rules", cmd_rules},     {"report", cmd_report}, {"fp", cmd_fp},
    {"eval", cmd_eval},   {"migrate", cmd_migrate}, {"learn", cmd_model},   {"unlearn", cmd_model},
    {"check", cmd_model}, {"stats", cmd_model},     {"export", cmd_model},  {"import", cmd_model},
    {"trec", cmd_model},
};

/* Prints the sections of `usage` for command `cmd` (a line "  cmd ..."
 * and the lines under it, indented deeper), as `spamsift CMD --help`. */
static void command_help(const char *cmd)
{
	size_t n = strlen(cmd);
	int in = 0;

	for (const char *l = usage, *e; *l; l = e + 1) {
		int first = 0;
		e = strchr(l, '\n');
		if (l[0] == ' ' && l[1] == ' ' && l[2] != ' ')
			in = first =
			    !strncmp(l + 2, cmd, n) && (l[2 + n] == ' ' || l[2 + n] == '\n');
		else if (l[0] != ' ')
			in = 0;
		if (first)
			printf("usage: spamsift %.*s\n", (int)(e - l - 2), l + 2);
		else if (in)
			fwrite(l, 1, (size_t)(e - l) + 1, stdout);
	}
	printf("\nspamsift --help gives every command, where the model lives and the exit "
	       "status.\n");
}

/* Whether the arguments of a command ask for its help: --help anywhere,
 * or -h first. */
static int wants_help(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[2], "-h"))
		return 1;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		if (wants_help(argc, argv)) {
			command_help(argv[1]);
			return CLI_OK;
		}
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "spamsift: unknown command '%s' (see spamsift --help)\n", argv[1]);
	return CLI_USAGE;
}
