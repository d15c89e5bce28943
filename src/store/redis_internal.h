/*
 * redis_internal.h: what the Redis store's files (redis.c, redis_sync.c)
 * share: the handle and its shared part, and the helpers the mirror's sync
 * thread uses. Not for other modules: they use store.h.
 */
#ifndef SS_STORE_REDIS_INTERNAL_H
#define SS_STORE_REDIS_INTERNAL_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdint.h>

#include "store/redis_cluster.h"
#include "store/redis_mirror.h"
#include "store/redis_url.h"
#include "store/redis_users.h"
#include "store/rjournal.h"
#include "store/store.h"

#define STAT_LEN 16 /* a feature's statistics in Redis */
#define REC_LEN 21  /* a message record */
#define CACHE_SLOTS (1u << 18)
#define TOT_SLOTS 64u
#define NAME_SLOTS 256u
#define PROV_SLOTS 64u
#define RS_PROV_BIT 0x80000000u /* provisional user ids: never in Redis */

/* What every handle of one store shares; fixed once opened. */
typedef struct rshared {
	redis_url w, r;
	int has_replica, cluster;
	rc_map map; /* Cluster: the slot map read at open, each handle's start */
	int timeout_ms, stale_ms;
	rjournal *j;
	rmirror *mirror;   /* the global model, kept by the sync thread; or NULL */
	rusers *users;     /* copies of users' models, kept by it too; or NULL */
	int user_wait_ms;  /* how long a scan waits for a user's copy */
	struct rstore *mh; /* the sync thread's handle (no reference held) */
	pthread_t mthread;
	int mstop;
	int refs;
	/* Replays of the journal (under its mutex): the handle they write
	 * with (made at the first, no reference held), and the redo of
	 * records' intents (store_redis_set_redo), guarded by redo_mu. */
	struct rstore *rh;
	pthread_mutex_t redo_mu;
	store_redo_fn redo;
	void *redo_ctx;
} rshared;

/* Pending writes of one user. */
typedef struct rgroup {
	uint32_t user;
	int has_check;
	uint8_t digest[STORE_DIGEST];
	uint8_t expect[REC_LEN];
	size_t expect_len; /* 0: expected absent */
	uint8_t *ops;
	size_t len, cap;
	uint8_t *intent; /* the learn's intent, encoded (rjrecord.h); or NULL */
	size_t intent_len;
	int unsure; /* get_msg could not read the record: journal it, redo it */
} rgroup;

typedef struct centry {
	uint64_t key;
	uint32_t user;
	uint32_t valid;
	int64_t at; /* ms, monotonic */
	feat_stat st;
} centry;

typedef struct tentry {
	uint32_t user, valid;
	int64_t at;
	clf_totals t;
} tentry;

typedef struct rstore {
	store base;
	rshared *sh;
	redisContext *wc, *rc;
	rc_map map;                     /* Cluster: where each slot is */
	redisContext *nc[RC_MAX_NODES]; /* Cluster: one connection per node */
	int64_t nretry[RC_MAX_NODES];
	int64_t w_retry, r_retry, j_retry, map_retry;
	int in_write, degraded;
	int is_mirror;    /* the sync thread's: reads Redis, never the mirror */
	uint32_t unready; /* a user whose copy was not there for this transaction */
	int is_replay;    /* the journal replay's: never replays nor journals */
	rgroup *g;
	size_t ng, gcap;
	centry *cache;
	tentry tot[TOT_SLOTS];
	struct {
		char *name;
		uint32_t id;
	} names[NAME_SLOTS]; /* user ids seen: they never change */
	struct {
		char *name;
		uint32_t id;
	} prov[PROV_SLOTS]; /* provisional ids given while Redis was down */
	uint32_t prov_next;
} rstore;

/* Whether user is a provisional id (given to a new user while Redis is
 * down): nothing keyed by one is ever sent to Redis. */
static inline int rs_provisional(uint32_t user)
{
	return (user & RS_PROV_BIT) != 0;
}

uint64_t rs_get_le64(const uint8_t *p);
void rs_unpack_stat(const uint8_t *p, feat_stat *st);

/* Sends the pending writes, then one command; its reply (the caller frees
 * it), or NULL when Redis cannot be reached or cannot take it now. */
redisReply *rs_command(rstore *rs, int write, int argc, const char **argv, const size_t *lens);
/* One HMGET of keys[idx[0..m)] of user into out[idx[i]]: 0 or SS_E*. */
int rs_hmget(rstore *rs, uint32_t user, const uint64_t *keys, const size_t *idx, size_t m,
             feat_stat *out);
/* HSCANs hash `name`, calling fn for each field and value; fn's non-zero
 * result stops it. */
int rs_hscan(rstore *rs, const char *name,
             int (*fn)(void *, const redisReply *, const redisReply *), void *ctx);
/* The store's totals operation. */
int rs_totals(store *s, uint32_t user, clf_totals *t);

/* Sets the process's figures of user copies (store_redis_stats). */
void rs_note_users(size_t n, size_t bytes);

/* The mirror's sync thread (redis_sync.c); arg is the rshared. */
void *rs_mirror_main(void *arg);

#endif
