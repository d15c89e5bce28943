/*
 * test_file.c: ss_read_fd() and ss_read_file_at() read a regular file, an
 * empty one and a pipe whole, NUL-terminated, and refuse more than their
 * limit with EFBIG for a file and for a pipe, leaving *buf untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util/file.h"

/* Writes n bytes of 'a'..'z' to a new temporary file; returns its path. */
static char *temp_file(size_t n)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/ss-test-file-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = (char)('a' + i % 26);
		if (write(fd, &c, 1) != 1)
			break;
	}
	close(fd);
	return path;
}

TEST(file_reads_a_regular_file_whole)
{
	char *path = temp_file(100000), *buf = NULL;
	size_t len = 0;

	CHECK(path != NULL);
	CHECK(ss_read_file_at(AT_FDCWD, path, 0, &buf, &len) == 0);
	CHECK(len == 100000);
	CHECK(buf && buf[0] == 'a' && buf[99999] == (char)('a' + 99999 % 26) && buf[len] == 0);
	free(buf);
	buf = NULL;
	CHECK(ss_read_file_at(AT_FDCWD, path, 100000, &buf, &len) == 0 && len == 100000);
	free(buf);
	buf = (char *)"untouched";
	errno = 0;
	CHECK(ss_read_file_at(AT_FDCWD, path, 99999, &buf, &len) == -1 && errno == EFBIG);
	CHECK(!strcmp(buf, "untouched"));
	unlink(path);
}

TEST(file_reads_an_empty_file_and_a_missing_one)
{
	char *path = temp_file(0), *buf = NULL;
	size_t len = 7;

	CHECK(path != NULL);
	CHECK(ss_read_file_at(AT_FDCWD, path, 10, &buf, &len) == 0);
	CHECK(len == 0 && buf && buf[0] == 0);
	free(buf);
	unlink(path);
	errno = 0;
	CHECK(ss_read_file_at(AT_FDCWD, path, 0, &buf, &len) == -1 && errno == ENOENT);
}

/* Reads what a pipe holds, n bytes written before it is closed. */
static int read_pipe(size_t n, size_t max, char **buf, size_t *len)
{
	int p[2], rc, e;
	char *data = malloc(n ? n : 1);

	if (!data || pipe(p)) {
		free(data);
		return -2;
	}
	memset(data, 'x', n);
	if (fork() == 0) { /* a writer, so that more than the pipe's buffer fits */
		close(p[0]);
		for (size_t done = 0; done < n;) {
			ssize_t w = write(p[1], data + done, n - done);
			if (w <= 0)
				_exit(0); /* the reader stopped early */
			done += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	free(data);
	rc = ss_read_fd(p[0], max, buf, len);
	e = errno;
	close(p[0]);
	while (wait(NULL) > 0)
		;
	errno = e;
	return rc;
}

TEST(file_reads_a_pipe_to_its_end_within_its_limit)
{
	char *buf = NULL;
	size_t len = 0;

	CHECK(read_pipe(300000, 0, &buf, &len) == 0);
	CHECK(len == 300000 && buf[0] == 'x' && buf[299999] == 'x' && buf[len] == 0);
	free(buf);
	buf = NULL;
	CHECK(read_pipe(300000, 300000, &buf, &len) == 0 && len == 300000);
	free(buf);
	buf = NULL;
	errno = 0;
	CHECK(read_pipe(300000, 299999, &buf, &len) == -1 && errno == EFBIG && buf == NULL);
}
