/*
 * file.c: whole files read into memory (see file.h).
 */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

/* Reads fd into b, `hint` bytes (a regular file's size) with one read()
 * and no more, else to its end; stops with EFBIG past max (> 0). No stdio
 * buffer, no copy. */
static int read_into(int fd, size_t hint, size_t max, sbuf *b)
{
	size_t more = hint ? hint + 1 : 65536; /* + 1: room to see the end */

	if (max && hint > max) {
		errno = EFBIG;
		return -1;
	}
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
		if (max && b->len > max) {
			errno = EFBIG;
			return -1;
		}
		if (n == 0 || (hint && b->len == hint))
			return 0;
	}
}

int ss_read_fd(int fd, size_t max, char **buf, size_t *len)
{
	sbuf b = SBUF_INIT;
	struct stat st;
	size_t hint = !fstat(fd, &st) && S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;

	if (read_into(fd, hint, max, &b)) {
		int e = errno;
		sbuf_release(&b);
		errno = e;
		return -1;
	}
	*buf = sbuf_detach(&b, len);
	return 0;
}

int ss_read_file_at(int dirfd, const char *name, size_t max, char **buf, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC), rc, e;

	if (fd < 0)
		return -1;
	rc = ss_read_fd(fd, max, buf, len);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}
