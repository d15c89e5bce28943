/*
 * rjournal.h: the Redis store's learn journal: a bounded, append-only file
 * of CRC-framed records (the learns that could not reach Redis, each a
 * payload of rjrecord.h),
 * replayed in order when Redis is back, then emptied.
 *
 * Frame: "SSRJ" magic, 4-byte big-endian payload length, 4-byte big-endian
 * CRC-32 (zlib) of the payload, the payload. A torn or damaged tail (a
 * crash while appending) is cut off when the journal is opened. Each
 * append is written with one write(2) and fdatasync'ed. A journal is used
 * by one process; threads share it through a mutex.
 */
#ifndef SS_STORE_RJOURNAL_H
#define SS_STORE_RJOURNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct rjournal rjournal;

/* Opens (creating) the journal at path, at most max_bytes long (0: 64 MB).
 * Returns 0 or SS_EIO (errno set) / SS_ENOMEM. *dropped gets the bytes of
 * a damaged tail that were cut off (0 normally). */
int rjournal_open(const char *path, size_t max_bytes, rjournal **out, size_t *dropped);

/* Appends one record. Returns 0, SS_EBUSY when it would pass the bound
 * (nothing written), SS_EIO. */
int rjournal_append(rjournal *j, const void *p, size_t len);

/* Calls fn for each record in order; when fn returns non-zero the replay
 * stops there and the records before it are removed (they are done); when
 * every record is done the journal is emptied. Returns fn's non-zero
 * result, 0 when all were replayed, or SS_EIO / SS_ENOMEM. */
int rjournal_replay(rjournal *j, int (*fn)(void *ctx, const uint8_t *p, size_t len), void *ctx);

/* Bytes held now (0: empty), and records refused because it was full. */
size_t rjournal_size(rjournal *j);
uint64_t rjournal_refused(rjournal *j);

void rjournal_close(rjournal *j);

#endif
