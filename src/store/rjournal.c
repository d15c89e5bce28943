/*
 * rjournal.c: the Redis store's bounded on-disk learn journal (see
 * rjournal.h).
 */
#include "store/rjournal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "spamsift.h"

#define HDR 12
#define MAX_RECORD (64u << 20)

struct rjournal {
	int fd;
	size_t size, max;
	uint64_t refused;
	pthread_mutex_t mu;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the whole file into a malloc'ed buffer; *len its size. */
static int slurp(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &st))
		return SS_EIO;
	if (!(b = malloc((size_t)st.st_size + 1)))
		return SS_ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, b + got, (size_t)st.st_size - got, (off_t)got);
		if (r <= 0) {
			free(b);
			return SS_EIO;
		}
		got += (size_t)r;
	}
	*out = b;
	*len = got;
	return 0;
}

/* The length of the valid frames at the start of b[0..len). */
static size_t valid_prefix(const uint8_t *b, size_t len)
{
	size_t off = 0;

	while (len - off >= HDR && !memcmp(b + off, "SSRJ", 4)) {
		uint32_t n = get32(b + off + 4);
		if (n > MAX_RECORD || len - off - HDR < n ||
		    crc32(0, b + off + HDR, n) != get32(b + off + 8))
			break;
		off += HDR + n;
	}
	return off;
}

int rjournal_open(const char *path, size_t max_bytes, rjournal **out, size_t *dropped)
{
	rjournal *j = calloc(1, sizeof(*j));
	uint8_t *b = NULL;
	size_t len, ok;
	int err;

	*out = NULL;
	*dropped = 0;
	if (!j)
		return SS_ENOMEM;
	if ((j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		free(j);
		return SS_EIO;
	}
	if ((err = slurp(j->fd, &b, &len))) {
		rjournal_close(j);
		return err;
	}
	ok = valid_prefix(b, len);
	free(b);
	if (ok < len && ftruncate(j->fd, (off_t)ok)) {
		rjournal_close(j);
		return SS_EIO;
	}
	*dropped = len - ok;
	j->size = ok;
	j->max = max_bytes ? max_bytes : (size_t)64 << 20;
	pthread_mutex_init(&j->mu, NULL);
	*out = j;
	return 0;
}

int rjournal_append(rjournal *j, const void *p, size_t len)
{
	uint8_t *f;
	int err = 0;

	if (len > MAX_RECORD)
		return SS_EBUSY;
	if (!(f = malloc(HDR + len)))
		return SS_ENOMEM;
	memcpy(f, "SSRJ", 4);
	put32(f + 4, (uint32_t)len);
	put32(f + 8, (uint32_t)crc32(0, p, (uInt)len));
	memcpy(f + HDR, p, len);
	pthread_mutex_lock(&j->mu);
	if (j->size + HDR + len > j->max) {
		j->refused++;
		err = SS_EBUSY;
	} else if (pwrite(j->fd, f, HDR + len, (off_t)j->size) != (ssize_t)(HDR + len) ||
	           fdatasync(j->fd)) {
		/* A short write leaves a torn tail, cut off at the next open;
		 * here it is overwritten by the next append. */
		err = SS_EIO;
	} else {
		j->size += HDR + len;
	}
	pthread_mutex_unlock(&j->mu);
	free(f);
	return err;
}

/* Rewrites the journal as b[from..len). */
static int keep_tail(rjournal *j, const uint8_t *b, size_t from, size_t len)
{
	if (from == len)
		return ftruncate(j->fd, 0) ? SS_EIO : (j->size = 0, 0);
	if (pwrite(j->fd, b + from, len - from, 0) != (ssize_t)(len - from) ||
	    ftruncate(j->fd, (off_t)(len - from)) || fdatasync(j->fd))
		return SS_EIO;
	j->size = len - from;
	return 0;
}

int rjournal_replay(rjournal *j, int (*fn)(void *ctx, const uint8_t *p, size_t len), void *ctx)
{
	uint8_t *b = NULL;
	size_t len, off = 0;
	int rc = 0, err = 0;

	pthread_mutex_lock(&j->mu);
	if (!j->size || (err = slurp(j->fd, &b, &len))) {
		pthread_mutex_unlock(&j->mu);
		return j->size ? err : 0;
	}
	len = j->size < len ? j->size : len;
	while (off + HDR <= len) {
		uint32_t n = get32(b + off + 4);
		if ((rc = fn(ctx, b + off + HDR, n)))
			break;
		off += HDR + n;
	}
	err = keep_tail(j, b, off, len);
	pthread_mutex_unlock(&j->mu);
	free(b);
	return rc ? rc : err;
}

size_t rjournal_size(rjournal *j)
{
	size_t n;

	pthread_mutex_lock(&j->mu);
	n = j->size;
	pthread_mutex_unlock(&j->mu);
	return n;
}

uint64_t rjournal_refused(rjournal *j)
{
	uint64_t n;

	pthread_mutex_lock(&j->mu);
	n = j->refused;
	pthread_mutex_unlock(&j->mu);
	return n;
}

void rjournal_close(rjournal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	if (j->max)
		pthread_mutex_destroy(&j->mu);
	free(j);
}
