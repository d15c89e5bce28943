/*
 * store.h: where the classifier's model lives, behind one interface.
 *
 * A model is, per user (user 0 is the global model): a statistic per feature
 * hash (feat_stat), the totals of messages learned, and a record per learned
 * message (its digest, class and the weight step it applied) so that
 * learning is idempotent and can be undone. Backends: an in-memory one (for
 * eval and tests), LMDB (embedded, crash-safe, the default) and Redis (a
 * model shared by many filter machines).
 *
 * Calls happen inside a transaction (store_begin ... store_end); a read
 * transaction sees one consistent snapshot. Functions return 0 or a negative
 * SS_E* code; lookups of what is absent give zeroes, not errors.
 */
#ifndef SS_STORE_STORE_H
#define SS_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "learn/classify.h"
#include "learn/ppm.h"

#define STORE_DIGEST 16

/* What is kept of one learned message. */
typedef struct msg_rec {
	uint8_t is_spam;
	uint32_t nfeat; /* features it had when learned */
	float step;     /* LR weight change it applied to each of them */
	float gstep;    /* the same for its n-gram features when they are apart */
	int64_t time;   /* when it was learned (Unix time) */
} msg_rec;

typedef struct store store;

/* What a learn or unlearn's writes mean (store_ops.intent). */
enum { STORE_LEARN_HAM = 0, STORE_LEARN_SPAM = 1, STORE_UNLEARN = 2 };

/* get_msg's answer when it cannot tell (the model's server is down and
 * the transaction's writes will be journaled and redone): take the
 * message as not learned, and let the intent say what the report was. */
#define STORE_MSG_UNKNOWN 2

typedef struct store_intent {
	const char *user_name; /* "" or NULL: the global model */
	const uint8_t *digest; /* STORE_DIGEST bytes */
	int action;            /* STORE_LEARN_HAM, STORE_LEARN_SPAM, STORE_UNLEARN */
	const uint64_t *keys;  /* the message's feature keys */
	size_t n, ntok;        /* keys[0..ntok) are token features, the rest n-grams */
} store_intent;

typedef struct store_walker {
	void *ctx;
	int (*user)(void *ctx, uint32_t id, const char *name, const clf_totals *t);
	int (*feat)(void *ctx, uint32_t user, uint64_t key, const feat_stat *st);
	int (*msg)(void *ctx, uint32_t user, const uint8_t *digest, const msg_rec *r);
} store_walker;

/* Options of the LMDB store, fixed when it is created. */
typedef struct store_lmdb_opts {
	size_t size_mb;      /* global model: buckets of features (default 64) */
	size_t user_size_mb; /* each user's model (default 4) */
	int read_only;
	int no_ppm; /* without the compression table (learn/ppm.h; 8 MiB): as a
	               Redis model is, so that the two score alike */
} store_lmdb_opts;

typedef struct store_ops {
	void (*close)(store *s);
	int (*begin)(store *s, int write);
	int (*end)(store *s, int commit);
	/* The statistics of keys[0..n) into out[0..n) (0 for an absent
	 * feature). keys[ntok..n) are n-gram slot keys made by
	 * feat_gram_key() (features.h): a store may take their slots without
	 * checking them. */
	int (*lookup)(store *s, uint32_t user, const uint64_t *keys, size_t n, size_t ntok,
	              feat_stat *out);
	/* Adds dspam, dham to the counts (never below 0; absent features are
	 * not created by a decrement) and dw[i] to each weight. */
	int (*update)(store *s, uint32_t user, const uint64_t *keys, size_t n, int dspam, int dham,
	              const float *dw, uint32_t day);
	int (*totals)(store *s, uint32_t user, clf_totals *t);
	int (*add_totals)(store *s, uint32_t user, int dspam, int dham);
	/* get_msg returns 1 and fills *r when found, 0 when not, and may
	 * return STORE_MSG_UNKNOWN in a write transaction (Redis with a
	 * journal, while Redis is down). */
	int (*get_msg)(store *s, uint32_t user, const uint8_t *digest, msg_rec *r);
	int (*put_msg)(store *s, uint32_t user, const uint8_t *digest, const msg_rec *r);
	int (*del_msg)(store *s, uint32_t user, const uint8_t *digest);
	/* Finds (or with create, adds) the id of a named user; 0 is global.
	 * Returns 1 when found or created, 0 when absent. */
	int (*user_id)(store *s, const char *name, int create, uint32_t *id);
	/* Sets a feature's statistics as they are (for import). */
	int (*put_feat)(store *s, uint32_t user, uint64_t key, const feat_stat *st);
	/* Calls the callbacks for every user, feature and message record
	 * (for export and stats); a non-zero callback result stops the walk. */
	int (*walk)(store *s, const struct store_walker *w);
	/* Opens another handle on the same store, for another thread: its own
	 * transaction and caches over the shared data (LMDB: the environment,
	 * one writer and many readers across threads and processes). `s` must
	 * outlive the new handle. NULL when the backend cannot (in-memory). */
	int (*dup)(store *s, store **out);
	/* Whether reads of the current (or last) transaction could not reach
	 * the model's server and were answered from what is local (1) or not
	 * (0). NULL: never (embedded). */
	int (*degraded)(store *s);
	/* Tells the store what the writes of one learn or unlearn of `user`
	 * that follow (after its get_msg) mean, so that a store that has to
	 * put them aside (the Redis journal) can redo the report later
	 * against the model as it is then. NULL: not needed (embedded). */
	int (*intent)(store *s, uint32_t user, const store_intent *in);
	/* The global model's compression table (learn/ppm.h) as the current
	 * transaction sees it: write 0 to score, 1 to learn (in a write
	 * transaction: the view's writable parts, written at commit). Fills
	 * *v (the store's, valid until the transaction ends) and returns 1,
	 * 0 when the model has no table, or an SS_E* code. NULL: no model of
	 * this backend has one (Redis, for now). */
	int (*ppm)(store *s, int write, ppm_view **v);
} store_ops;

struct store {
	const store_ops *ops;
};

/* Returns a new, empty in-memory store, or NULL. */
store *store_mem_new(void);

/* Opens (creating it unless read_only) the LMDB store in directory `path`.
 * opts may be NULL (defaults). Stores a new store in *out. Returns 0,
 * SS_ECORRUPT (not a spamsift store, or damaged), SS_EIO (with errno set:
 * missing, no permission), SS_EBUSY or SS_ENOMEM. */
int store_lmdb_open(const char *path, const store_lmdb_opts *opts, store **out);

/* Options of the Redis store (redis.c). */
typedef struct store_redis_opts {
	const char *url;          /* redis://[:PASS@]HOST[:PORT][/DB]: writes (and reads) */
	const char *const *seeds; /* more URLs, tried in turn when url does not answer:
	                             a Cluster's other nodes (a lone server refuses them) */
	size_t nseeds;
	const char *replica_url;   /* NULL, or a replica to read from */
	const char *password_file; /* NULL, or a file whose first line is the password */
	int timeout_ms;            /* connect and command timeout (default 1000) */
	int stale_ms;              /* read cache: at most this old (default 1000; -1: none) */
	const char *journal;       /* NULL, or the learn journal's path (for Redis down) */
	size_t journal_max;        /* its bound in bytes (default 64 MB) */
	int mirror;                /* keep a copy of the global model here, in step with
	                              Redis within stale_ms (a thread; for spamsiftd),
	                              and copies of the users' models scans read */
	size_t user_cache_bytes;   /* those copies' bound (0: 256 MB) */
	int user_wait_ms;          /* how long a scan waits for a user's copy when there
	                              is none yet (0: 50; -1: not at all) */
	char *error;               /* when opening fails: why (may be NULL) */
	size_t error_len;
} store_redis_opts;

/* Opens the model on a Redis server (keys ss{u<ID>}:f|t|m per user, see
 * redis.c). Checks that the server answers. Its transactions are weaker
 * than LMDB's: a read transaction is no snapshot, and the writes of a
 * write transaction are sent before its next read (one learn each), so
 * ending it without commit drops only what was not sent yet. Returns 0, SS_ESYNTAX (bad
 * URL, unreadable password file: see opts->error), SS_EIO (cannot reach
 * or log in), SS_ENOMEM. */
int store_redis_open(const store_redis_opts *opts, store **out);

/* What the Redis stores of this process have met since it started. */
typedef struct store_redis_stats {
	uint64_t cache_reads;   /* scans answered from the cache because Redis did not */
	uint64_t journaled;     /* learns put in the journal (Redis down) */
	uint64_t replayed;      /* learns sent from the journal */
	uint64_t journal_full;  /* learns lost: the journal was full */
	uint64_t journal_bytes; /* held in the journal now (the last one opened) */
	uint64_t user_copies;   /* copies of users' models held (spamsiftd) */
	uint64_t user_bytes;    /* their memory */
	uint64_t redone;        /* of the replayed, reports redone from their intent */
} store_redis_stats;

/* Fills *st (atomic reads; any thread). */
void store_redis_stats_get(store_redis_stats *st);

/* How a journal record's intent is redone: runs one whole write
 * transaction on handle h (which the store gives; it never replays the
 * journal itself) that learns or unlearns as `in` says against the model
 * as it is now. Returns 0 when done (or nothing to do), SS_EIO when Redis
 * went away again (the record is kept and tried again later), another
 * SS_E* code (the record is dropped with a log line). */
typedef int (*store_redo_fn)(void *ctx, store *h, const store_intent *in);

/* Registers the redo of s's journal (s a Redis store; for any other store
 * nothing happens): replays of records with an intent call redo(ctx, ...)
 * from whatever thread replays, one at a time. Without one, a record's
 * batch is sent as it was made. ctx must stay valid until it is cleared. */
void store_redis_set_redo(store *s, store_redo_fn redo, void *ctx);

/* Removes the redo registered with ctx (none other), waiting for a redo
 * that runs with it to end. */
void store_redis_clear_redo(store *s, void *ctx);

static inline void store_close(store *s)
{
	if (s)
		s->ops->close(s);
}

#endif
