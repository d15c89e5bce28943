/*
 * fstore.h: spamsift-fpd's fingerprint store, in LMDB.
 *
 * Four databases in one environment: "entries" (id -> fstore_entry),
 * "bands" (band key -> ids, duplicates sorted: the LSH index), "digests"
 * (SHA-256 -> id) and "meta" (the next id, this server's random id). An
 * ADD that matches an entry exactly (equal signature or digest) updates
 * it (count, last seen, the larger weight); otherwise it makes a new one.
 * Every change is one committed, synced transaction: once fstore_add()
 * returns 0 the entry survives a crash. Single-threaded.
 */
#ifndef SS_FPD_FSTORE_H
#define SS_FPD_FSTORE_H

#include <stdint.h>

#include "proto/fpp.h"

typedef struct fstore fstore;

/* A stored fingerprint. */
typedef struct fstore_entry {
	fp_text text;
	uint8_t has_text, cls, ndigests, pad;
	uint32_t count;
	double weight;
	uint64_t first_seen, last_seen;
	char reporter[FPP_NAME_MAX + 1];
	fp_digest digests[FPP_MAX_DIGESTS];
} fstore_entry;

/* Opens (creating) the store in directory `dir` (created too). Returns 0
 * with *out set, SS_EIO, SS_ECORRUPT, SS_ENOMEM. */
int fstore_open(const char *dir, fstore **out);

/* Closes the store; NULL is fine. */
void fstore_close(fstore *s);

/* This server's id, made at the store's creation. */
const uint8_t *fstore_server_id(const fstore *s);

/* Stores the text and digests of `m` as class m->cls with `weight` from
 * `reporter` at time `now`, durably. *is_new (may be NULL) tells whether
 * a new entry was made. Returns 0, SS_EINVAL (nothing to store), SS_EIO. */
int fstore_add(fstore *s, const fpp_msg *m, double weight, const char *reporter, uint64_t now,
               int *is_new);

/* Finds the best match of `m`'s digests (similarity 1) and text (through
 * the band index) and fills reply's found, similarity, cls, weight, seen
 * times and count. Returns 0 or SS_EIO. */
int fstore_lookup(fstore *s, const fpp_msg *m, fpp_msg *reply);

/* Deletes the entries that match `m` exactly; *n is how many. */
int fstore_del(fstore *s, const fpp_msg *m, unsigned *n);

/* Deletes the entries last seen before `before`; *n is how many. */
int fstore_expire(fstore *s, uint64_t before, unsigned *n);

#endif
