/*
 * fstore.h: spamsift-fpd's fingerprint store, in LMDB.
 *
 * Six databases in one environment: "entries" (id -> fstore_entry),
 * "bands" (band key -> ids, duplicates sorted: the LSH index), "digests"
 * (SHA-256 -> id), "meta" (the next id, the next change number, this
 * server's random id, the outboxes' lengths), "outbox" (peer id + change
 * number -> the encoded ADD or DEL to push to that peer) and "applied"
 * (origin server id + its change number -> when: the replicated changes
 * applied here, so a re-sent one is not counted twice). An ADD that
 * matches an entry exactly (equal signature or digest) updates it (count,
 * last seen, the larger weight); otherwise it makes a new one.
 *
 * Every change is one committed, synced transaction together with its
 * outbox rows: once fstore_change() returns 0 the entry and the pushes it
 * owes to the peers survive a crash. The store's lookups and changes are
 * for one thread (the event loop); the outbox_* functions may be called
 * from the peers' threads at the same time (LMDB serialises writers).
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

#define FSTORE_PEER_ID 8 /* bytes naming a peer's outbox */

/* The federation side of a change (fstore_change()). */
typedef struct fstore_fed {
	/* in: the message to queue for the peers (visited list and hops set;
	 * its origin_seq 0 means "this server is the origin: number it"),
	 * and the outboxes to queue it in (none: nothing queued) */
	fpp_msg *out;
	const uint8_t (*peers)[FSTORE_PEER_ID];
	size_t npeers;
	uint64_t limit; /* rows per outbox; past it the oldest is dropped */
	/* out */
	int duplicate;    /* m's (origin, origin_seq) was applied already: nothing done */
	unsigned dropped; /* outbox rows dropped for the limit */
	unsigned deleted; /* DEL: entries deleted */
	int is_new;       /* ADD: a new entry was made */
} fstore_fed;

/* Applies the ADD or DEL `m` (a DEL deletes the entries that match it
 * exactly; an ADD is stored as class m->cls with `weight` from
 * m->reporter at time `now`) and queues fed->out for fed->peers, in one
 * durable transaction. When m->origin_seq is not 0 the change is
 * remembered by (m->origin, m->origin_seq), and one seen before is not
 * applied again (fed->duplicate). Returns 0, SS_EINVAL (nothing to store),
 * SS_ENOMEM, SS_EIO. */
int fstore_change(fstore *s, const fpp_msg *m, double weight, uint64_t now, fstore_fed *fed);

/* The oldest row of peer's outbox: 1 with *seq and *m set, 0 when the
 * outbox is empty, SS_EIO. Thread-safe. */
int fstore_outbox_first(fstore *s, const uint8_t peer[FSTORE_PEER_ID], uint64_t *seq, fpp_msg *m);

/* Removes row seq of peer's outbox (pushed); a row already dropped is
 * fine. Returns 0 or SS_EIO. Thread-safe. */
int fstore_outbox_done(fstore *s, const uint8_t peer[FSTORE_PEER_ID], uint64_t seq);

/* How many rows peer's outbox holds. Thread-safe. */
uint64_t fstore_outbox_len(fstore *s, const uint8_t peer[FSTORE_PEER_ID]);

/* Finds the best match of `m`'s digests (similarity 1) and text (through
 * the band index) and fills reply's found, similarity, cls, weight, seen
 * times and count. Returns 0 or SS_EIO. */
int fstore_lookup(fstore *s, const fpp_msg *m, fpp_msg *reply);

/* Deletes the entries last seen before `before`, and forgets the
 * replicated changes applied before it; *n is how many entries. */
int fstore_expire(fstore *s, uint64_t before, unsigned *n);

#endif
