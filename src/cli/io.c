/*
 * io.c: reading messages for the CLI (see cli.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"

int cli_read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	sbuf b = SBUF_INIT;
	char chunk[65536];
	size_t n;
	int ret = -1;

	if (!f) {
		fprintf(stderr, "spamsift: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (sbuf_add(&b, chunk, n)) {
			fprintf(stderr, "spamsift: %s: out of memory\n", path);
			goto out;
		}
	if (ferror(f)) {
		fprintf(stderr, "spamsift: %s: %s\n", path, strerror(errno));
		goto out;
	}
	*buf = sbuf_detach(&b, len);
	ret = *buf ? 0 : -1;
out:
	sbuf_release(&b);
	if (f != stdin)
		fclose(f);
	return ret;
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
