/*
 * cmd_fp.c: `spamsift fp ...`, the fingerprint commands. `fp keygen NAME
 * [--read-only] [--rate N]` prints a new key's line for spamsift-fpd's keys
 * file (docs/FPP.md).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proto/fpp.h"

static const char fp_usage[] =
    "usage: spamsift fp keygen NAME [--read-only] [--rate N]\n"
    "  Print a new key's line for spamsift-fpd's keys file: NAME rw|ro SECRET [rate=N/s].\n";

/* `fp keygen NAME [--read-only] [--rate N]` */
static int fp_keygen(int argc, char **argv)
{
	fpp_key k = {0};
	char line[160];
	const char *name = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--read-only"))
			k.read_only = 1;
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			k.rate = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			return fputs(fp_usage, stderr), CLI_USAGE;
	}
	if (!name || !*name || strlen(name) > FPP_NAME_MAX || strpbrk(name, " \t#")) {
		fprintf(stderr, "spamsift fp keygen: NAME must be 1 to %d characters, no spaces\n",
		        FPP_NAME_MAX);
		return CLI_USAGE;
	}
	if (sodium_init() < 0)
		return CLI_USAGE;
	memcpy(k.name, name, strlen(name));
	randombytes_buf(k.secret, sizeof(k.secret));
	if (fpp_key_format(&k, line, sizeof(line)))
		return CLI_USAGE;
	puts(line);
	sodium_memzero(&k, sizeof(k));
	return CLI_OK;
}

int cmd_fp(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "keygen"))
		return fp_keygen(argc - 1, argv + 1);
	fputs(fp_usage, stderr);
	return CLI_USAGE;
}
