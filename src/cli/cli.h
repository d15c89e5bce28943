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

enum { CLI_OK = 0, CLI_REFUSED = 1, CLI_USAGE = 2 };

/* `spamsift parse [--text] [--trusted NETS] FILE|-` */
int cmd_parse(int argc, char **argv);

/* `spamsift eval [--results F] [--plot F.svg] [--json] INDEX` */
int cmd_eval(int argc, char **argv);

/* Shows progress (done of total; total 0 when unknown) on standard error
 * when it is a terminal; quiet when it is not. */
void cli_progress(size_t done, size_t total);
/* Ends the progress line. */
void cli_progress_done(void);

/* Reads all of `path` ("-" is standard input) into a malloc'ed buffer.
 * Returns 0, or -1 after printing "spamsift: PATH: reason" on stderr. */
int cli_read_file(const char *path, char **buf, size_t *len);

#endif
