/*
 * io.c: reading messages for the CLI (see cli.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/file.h"

int cli_read_file(const char *path, char **buf, size_t *len)
{
	return cli_read_file_at(AT_FDCWD, path, path, buf, len);
}

int cli_read_file_at(int dirfd, const char *name, const char *path, char **buf, size_t *len)
{
	int rc = dirfd == AT_FDCWD && !strcmp(name, "-")
	             ? ss_read_fd(0, 0, buf, len)
	             : ss_read_file_at(dirfd, name, 0, buf, len);

	if (rc && !cli_walk_quiet)
		fprintf(stderr, "spamsift: %s: %s\n", path,
		        errno == ENOMEM ? "out of memory" : strerror(errno));
	return rc;
}

static int progress_on = -1;

void cli_progress(size_t done, size_t total)
{
	if (progress_on < 0)
		progress_on = isatty(2);
	if (!progress_on || (done % 256 && done != total))
		return;
	if (total) {
		int w = (int)(40 * done / total);
		fprintf(stderr, "\r[%-40.*s] %zu/%zu", w,
		        "########################################", done, total);
	} else {
		fprintf(stderr, "\r%zu messages", done);
	}
	fflush(stderr);
}

void cli_progress_done(void)
{
	if (progress_on > 0)
		fputc('\n', stderr);
}

int cli_dns_timeout(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.01 && v <= 60))
		return -1;
	*out = v;
	return 0;
}
