/*
 * redis_users.h: spamsiftd's local copies of the per-user models on Redis
 * (each an rmirror, see redis_mirror.h) and of the user table's names, so
 * that scans of a user's model do not wait on Redis: a scan asks, the Redis
 * store's sync thread (redis_sync.c) loads the model and then follows its
 * change feed, and a scan waits at most a bound for a user it has not seen
 * before. Bounded: the copies by the memory they hold (the least recently
 * scanned one goes first), the names by a direct-mapped table. Thread-safe;
 * no I/O.
 */
#ifndef SS_STORE_REDIS_USERS_H
#define SS_STORE_REDIS_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "learn/classify.h"
#include "store/redis_mirror.h"

typedef struct rusers rusers;

/* A user's copy, as the sync thread sees it. */
typedef struct ruser {
	uint32_t id;
	rmirror *m;
	char last[64]; /* the position in its change feed (sync thread only) */
	int loaded;    /* loaded and followed since (sync thread only) */
	int too_big;   /* no copy: the model is too big for one (set once, atomic) */
	/* the rest belongs to redis_users.c */
	int64_t used_at;
	int refs;
	struct ruser *next;
} ruser;

/* A new, empty set whose copies hold at most max_bytes, or NULL. */
rusers *rusers_new(size_t max_bytes);
void rusers_free(rusers *u);

/* For scans: user's features and totals from its copy; returns the time
 * of its last sync (ms). When there is no copy yet it is asked for, this
 * waits up to wait_ms for it, and returns -1 when it is still not there
 * (nothing filled); RUSERS_TOO_BIG at once when the user's model is too
 * big for a copy (the scan reads Redis). */
#define RUSERS_TOO_BIG (-2)
int64_t rusers_lookup(rusers *u, uint32_t user, const uint64_t *keys, size_t n, feat_stat *out,
                      clf_totals *tot, int wait_ms);

/* For scans: the id of user `name`. Returns 1 (*id set), 0 when there is
 * no such user, or -1 when that is not known: never asked, or the answer
 * is older than stale_ms; then it is asked for and this waits up to wait_ms
 * for the answer, and -1 means it did not come (*stale gets an older
 * answer when there is one: 1 with *id, 0 absent; -1 none). */
int rusers_name(rusers *u, const char *name, uint32_t *id, int64_t stale_ms, int wait_ms,
                int *stale);

/* For the sync thread: the names asked for, moved into names[0..cap)
 * (malloc'ed: the caller frees them). */
size_t rusers_names_asked(rusers *u, char **names, size_t cap);

/* For the sync thread: the answer for name (id 0: no such user), known at
 * `at` (ms); waiting scans wake up. at < 0: no answer (Redis did not
 * give one): the name may be asked for again. */
void rusers_name_set(rusers *u, const char *name, uint32_t id, int64_t at);

/* For the sync thread: every copy, each with a reference that
 * rusers_release gives back, in a malloc'ed array of *n (NULL: none, or
 * out of memory). */
ruser **rusers_list(rusers *u, size_t *n);
void rusers_release(rusers *u, ruser *r);

/* For the sync thread: the most one user's copy may hold: a sixteenth of
 * the bound. */
size_t rusers_max_copy(const rusers *u);

/* For the sync thread: a copy was loaded (or found too big); scans
 * waiting for it wake up. */
void rusers_loaded(rusers *u);

/* For the sync thread: drops the copies no scan read for idle_ms, then the
 * least recently read until the set holds at most its bound. Returns how
 * many it dropped. */
size_t rusers_evict(rusers *u, int64_t now, int64_t idle_ms);

/* For the sync thread: waits up to ms, or less when a scan asks for
 * something. Returns 1 when something is asked for. */
int rusers_wait_asked(rusers *u, int ms);

/* Copies held, and their bytes. */
void rusers_size(rusers *u, size_t *n, size_t *bytes);

#endif
