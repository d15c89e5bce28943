/*
 * io.c: reading messages for the CLI (see cli.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"

/* Reads fd into b: with `hint` (a regular file's size), those bytes with
 * one read() and no more (what the file held when it was looked at: no
 * second read() to see the end); without, to its end, in chunks that
 * double. No stdio buffer, no copy. Returns 0, or -1 with errno set
 * (ENOMEM when out of memory). */
static int read_all(int fd, size_t hint, sbuf *b)
{
	size_t more = hint ? hint + 1 : 65536; /* + 1: room to see the end */

	for (;;) {
		ssize_t n;
		if (b->cap - b->len <= 1) {
			if (sbuf_reserve(b, more)) {
				errno = ENOMEM;
				return -1;
			}
			more = b->len < 65536 ? 65536 : b->len;
		}
		n = read(fd, b->p + b->len, b->cap - 1 - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		b->len += (size_t)n;
		b->p[b->len] = 0;
		if (n == 0 || (hint && b->len == hint))
			return 0;
	}
}

int cli_read_file(const char *path, char **buf, size_t *len)
{
	return cli_read_file_at(AT_FDCWD, path, path, buf, len);
}

int cli_read_file_at(int dirfd, const char *name, const char *path, char **buf, size_t *len)
{
	int from_stdin = dirfd == AT_FDCWD && !strcmp(name, "-");
	int fd = from_stdin ? 0 : openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	sbuf b = SBUF_INIT;
	struct stat st;
	int ret = -1;

	if (fd < 0) {
		fprintf(stderr, "spamsift: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (read_all(fd, !fstat(fd, &st) && S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, &b)) {
		fprintf(stderr, "spamsift: %s: %s\n", path,
		        errno == ENOMEM ? "out of memory" : strerror(errno));
		goto out;
	}
	*buf = sbuf_detach(&b, len);
	ret = 0;
out:
	sbuf_release(&b);
	if (!from_stdin)
		close(fd);
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
