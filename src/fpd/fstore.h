/*
 * fstore.h: spamsift-fpd's fingerprint store, in LMDB (the default) or on
 * Redis (fstore_open_redis, fstore_redis.c: several servers of one
 * organisation sharing one store; same functions, same behaviour, except
 * that a change is not one transaction with a concurrent change at
 * another server: see docs/FPP.md).
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

/* Opens the store on Redis at url (redis://[[USER]:PASS@]HOST[:PORT][/DB];
 * the password from password_file when not NULL), keys "ssf{f}:*"; with
 * replica (a URL, or NULL), lookups read that replica (the primary when
 * it does not answer). Redis must answer at open (the server's id is
 * there). Returns 0 with *out
 * set, SS_EINVAL with a static reason in *why, SS_EIO (Redis does not
 * answer), SS_ENOMEM. */
int fstore_open_redis(const char *url, const char *replica, const char *password_file,
                      int timeout_ms, fstore **out, const char **why);

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

/* An entry's bytes as stored (len bytes) into *e: 0, or -1 when it is
 * not an entry (size, field bounds). I/O-free (fentry.c). */
int fstore_entry_decode(const void *p, size_t len, fstore_entry *e);

/* v as 8 big-endian bytes (ids, change numbers, times in both stores'
 * keys and values), and back. I/O-free (fentry.c). */
void fstore_be64(uint64_t v, uint8_t out[8]);
uint64_t fstore_get_be64(const uint8_t *p);

/* ---- the Redis backend (fstore_redis.c), called by fstore.c ---- */
typedef struct fsredis fsredis;
int fsr_open(const char *url, const char *replica, const char *password_file, int timeout_ms,
             fsredis **out, const char **why);
void fsr_close(fsredis *r);
const uint8_t *fsr_server_id(const fsredis *r);
int fsr_change(fsredis *r, const fpp_msg *m, double weight, uint64_t now, fstore_fed *fed);
int fsr_outbox_first(fsredis *r, const uint8_t peer[FSTORE_PEER_ID], uint64_t *seq, fpp_msg *m);
int fsr_outbox_done(fsredis *r, const uint8_t peer[FSTORE_PEER_ID], uint64_t seq);
uint64_t fsr_outbox_len(fsredis *r, const uint8_t peer[FSTORE_PEER_ID]);
int fsr_lookup(fsredis *r, const fpp_msg *m, fpp_msg *reply);
int fsr_expire(fsredis *r, uint64_t before, unsigned *n);

#endif
