/*
 * redis_mirror.h: a local copy of one model's features (the global model,
 * or a user's: redis_users.h), for the Redis store (redis.c) to score from
 * without asking Redis: a hash table behind a read-write lock, read by
 * every worker thread, written by the store's one sync thread (which
 * follows the model's change feed). No I/O.
 */
#ifndef SS_STORE_REDIS_MIRROR_H
#define SS_STORE_REDIS_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "learn/classify.h"

typedef struct rmirror rmirror;

/* A new, empty table (not ready until rmirror_swap), or NULL. */
rmirror *rmirror_new(void);
void rmirror_free(rmirror *m);

/* A table being built off-line by the sync thread (no lock). */
typedef struct rm_table rm_table;
rm_table *rm_table_new(size_t cap); /* cap: room for about this many slots */
void rm_table_free(rm_table *t);
/* Sets key's statistics (zeroes: removed). Returns 0 or SS_ENOMEM. */
int rm_table_put(rm_table *t, uint64_t key, const feat_stat *st);

/* Makes t the mirror's table (the old one is freed), with totals tot. */
void rmirror_swap(rmirror *m, rm_table *t, const clf_totals *tot);

/* Changes, under the write lock: keys[i] gets st[i]; totals tot.
 * Returns 0 or SS_ENOMEM (the mirror is then not ready). */
int rmirror_update(rmirror *m, const uint64_t *keys, const feat_stat *st, size_t n,
                   const clf_totals *tot);

/* The memory it holds, in bytes. */
size_t rmirror_bytes(rmirror *m);

/* Notes a sync that succeeded (at, in ms). */
void rmirror_synced(rmirror *m, int64_t at);

/* Looks keys up (absent: zeroes) and fills *tot. Returns the time of the
 * last sync (ms) when the mirror is ready, -1 when it is not (nothing
 * filled). */
int64_t rmirror_lookup(rmirror *m, const uint64_t *keys, size_t n, feat_stat *out, clf_totals *tot);

#endif
