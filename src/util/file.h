/*
 * file.h: a whole file (or what a pipe holds) read into memory, for the
 * CLI's messages, the daemon's configuration, the corpus test and the
 * benchmarks: one way to do it, with a size limit and errno on failure.
 */
#ifndef SS_UTIL_FILE_H
#define SS_UTIL_FILE_H

#include <stddef.h>

/* Reads fd to its end into a malloc'ed buffer (*buf, freed by the caller)
 * with a NUL after its *len bytes. A regular file is read in one read()
 * of the size fstat() gives (what it held when looked at, no read to see
 * past it); anything else in chunks that double. `max` > 0 bounds the
 * bytes: more is an error, errno EFBIG. Returns 0, or -1 with errno set
 * (ENOMEM when out of memory); *buf is untouched on error. */
int ss_read_fd(int fd, size_t max, char **buf, size_t *len);

/* Opens `name` relative to dirfd (AT_FDCWD: the working directory) and
 * reads it as ss_read_fd() does. Returns 0, or -1 with errno set. */
int ss_read_file_at(int dirfd, const char *name, size_t max, char **buf, size_t *len);

#endif
