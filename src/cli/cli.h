/*
 * cli.h: the spamsift command line: one function per subcommand, and the
 * helpers they share (reading a message, reporting errors).
 *
 * Exit codes: 0 success; 1 the input was refused (not mail, binary, empty);
 * 2 usage error or I/O error.
 */
#ifndef SS_CLI_CLI_H
#define SS_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum { CLI_OK = 0, CLI_REFUSED = 1, CLI_USAGE = 2 };

/* `spamsift parse [--text] [--trusted NETS] FILE|-` */
int cmd_parse(int argc, char **argv);

/* `spamsift rules check [--no-default-rules] PATH...`: validates rule
 * files (cmd_rules.c). */
int cmd_rules(int argc, char **argv);

/* `spamsift fp keygen|...`: fingerprint commands (cmd_fp.c). */
int cmd_fp(int argc, char **argv);

/* `spamsift eval [--results F] [--plot F.svg] [--json] INDEX` */
int cmd_eval(int argc, char **argv);

/* `spamsift report [...] FILE...` and `spamsift report --stats`: user
 * reports to training, evidence and abuse reports (cmd_report.c). */
int cmd_report(int argc, char **argv);

/* `spamsift migrate --from DIR|URL --to DIR|URL`: copies a model between
 * the embedded store and Redis (cmd_migrate.c). */
int cmd_migrate(int argc, char **argv);

/* Options shared by the commands that use a stored model. */
typedef struct model_args {
	const char *cmd; /* "learn", "unlearn", "check"... */
	const char *db;  /* --db PATH, or NULL for the default */
	const char *redis, *redis_replica,
	    *redis_password_file; /* --redis URL: the model on Redis */
	const char **redis_seeds; /* --redis given again: a Cluster's other nodes */
	size_t nredis_seeds;
	const char *user;   /* --user NAME, or NULL for the global model */
	int is_spam;        /* learn: --spam (1) or --ham (0), the last given */
	int mixed;          /* learn only: both given; each path is of the one before it */
	unsigned char *cls; /* learn, mixed: each path's class (1 spam, 0 ham, 2 none) */
	int unlearn, check, json, quiet, trec;
	size_t size_mb; /* --size MB for a new store */
	int no_ppm;     /* --no-ppm: a new store without the compression table */
	char **paths;
	size_t npaths;
	/* check: --rules PATH (repeatable), --no-default-rules, and the
	 * envelope: --ip, --helo, --from, --rcpt (repeatable) */
	const char **rules;
	size_t nrules;
	int no_default_rules;
	const char *ip, *helo, *from;
	const char *resolver, *dns_timeout; /* check: DNS checks (off without resolver) */
	const char *fp_server, *fp_key;     /* check: spamsift-fpd lookups */
	const char **rcpts;
	size_t nrcpts;
} model_args;

/* `spamsift learn|unlearn|check|stats|export|import|trec ...` */
int cmd_model(int argc, char **argv);
/* Runs learn, unlearn or check as set in `a` (cmd_learn.c). */
int cli_model_run(model_args *a);
/* Opens the store of a->redis when set, else of a->db (default:
 * $XDG_DATA_HOME/spamsift/model),
 * read-only when `ro`; prints why on failure and returns the SS_E* code. */
int cli_open_store(const model_args *a, int ro, store **out);
/* Explains how to recover a damaged store; returns CLI_USAGE. */
int cli_corrupt(const model_args *a);

/* Called for each message found under a path; buf is NULL (and the reason
 * already printed) when a file could not be read. Non-zero stops the walk. */
typedef int (*msg_cb)(void *ctx, const char *label, const char *buf, size_t len);
/* Calls cb for each message of PATH: a file, an mbox, a directory (walked
 * recursively), a Maildir (cur/, new/), or "-" for standard input. */
int cli_each_message(const char *path, msg_cb cb, void *ctx);

/* Set while a walk only counts (cli_each_mixed's first): the walk's
 * complaints (a path missing, a file unreadable) are left to the second. */
extern int cli_walk_quiet;

/* Called for each message of cli_each_mixed, with its class (0 or 1). */
typedef int (*mix_cb)(void *ctx, int cls, const char *label, const char *buf, size_t len);
/* Calls cb for the messages of paths[0..npaths), path i being of class
 * cls[i] (0 or 1), the two classes interleaved in proportion to their
 * counts (found by a first walk that only counts), each class's messages
 * in cli_each_message's order. No path may be "-". Returns cb's first
 * non-zero answer, a walk's error, or 0. */
int cli_each_mixed(char **paths, const unsigned char *cls, size_t npaths, mix_cb cb, void *ctx);

/* Shows progress (done of total; total 0 when unknown) on standard error
 * when it is a terminal; quiet when it is not. */
void cli_progress(size_t done, size_t total);
/* Ends the progress line. */
void cli_progress_done(void);

/* Reads all of `path` ("-" is standard input) into a malloc'ed buffer.
 * Returns 0, or -1 after printing "spamsift: PATH: reason" on stderr. */
int cli_read_file(const char *path, char **buf, size_t *len);
/* The same for `name` relative to directory `dirfd` (AT_FDCWD: the current
 * one), `path` being what messages call it: a file of a directory is
 * opened without the kernel walking the directory's path again. */
int cli_read_file_at(int dirfd, const char *name, const char *path, char **buf, size_t *len);

/* Parses a DNS timeout in seconds (0.01 to 60) into *out; returns 0 or -1. */
int cli_dns_timeout(const char *s, double *out);

#endif
