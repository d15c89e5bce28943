/*
 * fstore_redis.c: spamsift-fpd's fingerprint store on Redis (see
 * fstore.h), so that several fpd servers of one organisation share one
 * store: an ADD at one is found by a LOOKUP at another at once.
 *
 * Keys (one hash tag, so one Cluster slot):
 *   ssf{f}:id        this store's server id (16 bytes, made once: SET NX)
 *   ssf{f}:next      counter of entry ids; ssf{f}:seq: of change numbers
 *   ssf{f}:e         hash: id (decimal) -> the entry's bytes (the same
 *                    layout as the LMDB store's; checked when read back,
 *                    fentry.c)
 *   ssf{f}:seen      sorted set: id scored by its last-seen time (expiry)
 *   ssf{f}:b:<hex>   set per LSH band key: the ids with that band
 *   ssf{f}:d         hash: attachment SHA-256 (32 bytes) -> id
 *   ssf{f}:a         sorted set: origin id + change number (24 bytes),
 *                    scored by when it was applied (re-sent changes)
 *   ssf{f}:o:<hex>   sorted set per peer's outbox: change number + the
 *                    encoded ADD or DEL, scored by the change number
 * A lookup is at most three round trips: HMGET of the digests, the band
 * sets (SRANDMEMBER, 64 ids each, pipelined), HMGET of the candidates.
 * The writes of one change are one MULTI/EXEC. Unlike LMDB's one
 * transaction, the lookup that decides "update or new entry" is not
 * inside it: two servers adding the same new fingerprint at the same
 * moment may make two entries (both found by later lookups; the count is
 * then split). One connection behind a mutex (the peers' threads read
 * the outboxes); a connection that failed is made again at the next call.
 * With a replica, lookups read it (its own connection and mutex) and fall
 * back on the primary when it does not answer, which is then not asked
 * again for a second; everything else goes to the primary.
 */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "fpd/fstore.h"
#include "spamsift.h"
#include "store/redis_conn.h"
#include "store/redis_url.h"
#include "util/clock.h"

#define MAX_CANDIDATES 256 /* ids compared per lookup */
#define MAX_PER_BAND 64    /* ids read per band key */
#define EXPIRE_PAGE 1000   /* entries expired per round trip */

struct fsredis {
	pthread_mutex_t mu;
	redisContext *c;
	redis_url u;
	struct timeval tv;
	const char *why; /* why the last connection failed */
	uint8_t server_id[FPP_SERVER_ID];
	int has_replica; /* lookups read a replica: */
	redis_url ru;
	pthread_mutex_t rmu;
	redisContext *rc;
	int64_t r_retry; /* not tried again before (ms, monotonic) */
};

#define REPLICA_RETRY_MS 1000

/* A command's words: up to 2 + 2 * (FP_NBANDS + FPP_MAX_DIGESTS) + 8. */
#define MAX_ARGS 80
typedef struct cmd {
	const char *a[MAX_ARGS];
	size_t l[MAX_ARGS];
	int n;
} cmd;

static void arg(cmd *c, const void *p, size_t len)
{
	if (c->n < MAX_ARGS) {
		c->a[c->n] = p;
		c->l[c->n++] = len;
	}
}

static void args(cmd *c, const char *s)
{
	arg(c, s, strlen(s));
}

static int bad(const redisReply *r)
{
	return !r || r->type == REDIS_REPLY_ERROR;
}

/* Connects (on a Cluster, to the master of the {f} slot that every key
 * shares); NULL with the reason in r->why. */
static redisContext *dial(fsredis *r)
{
	return redis_dial_tag(&r->u, "{f}", (int)(r->tv.tv_sec * 1000 + r->tv.tv_usec / 1000),
	                      &r->why);
}

/* Locks and returns the connection, or NULL (locked too). */
static redisContext *take(fsredis *r)
{
	pthread_mutex_lock(&r->mu);
	if (r->c && r->c->err) {
		redisFree(r->c);
		r->c = NULL;
	}
	if (!r->c)
		r->c = dial(r);
	return r->c;
}

static void give(fsredis *r, int failed)
{
	if (failed && r->c) {
		redisFree(r->c);
		r->c = NULL;
	}
	pthread_mutex_unlock(&r->mu);
}

/* Locks and returns the replica's connection; NULL (locked too) when it
 * cannot be reached, or failed less than REPLICA_RETRY_MS ago. */
static redisContext *take_replica(fsredis *r)
{
	const char *why;

	pthread_mutex_lock(&r->rmu);
	if (r->rc && r->rc->err) {
		redisFree(r->rc);
		r->rc = NULL;
	}
	if (!r->rc && ss_mono_ms() >= r->r_retry &&
	    !(r->rc = redis_dial(&r->ru, (int)(r->tv.tv_sec * 1000 + r->tv.tv_usec / 1000), &why)))
		r->r_retry = ss_mono_ms() + REPLICA_RETRY_MS;
	return r->rc;
}

static void give_replica(fsredis *r, int failed)
{
	if (failed && r->rc) {
		redisFree(r->rc);
		r->rc = NULL;
		r->r_retry = ss_mono_ms() + REPLICA_RETRY_MS;
	}
	pthread_mutex_unlock(&r->rmu);
}

static redisReply *run(redisContext *c, cmd *x)
{
	return redisCommandArgv(c, x->n, x->a, x->l);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

static void band_key(uint64_t k, char out[32])
{
	snprintf(out, 32, "ssf{f}:b:%016llx", (unsigned long long)k);
}

static void box_key(const uint8_t peer[FSTORE_PEER_ID], char out[48])
{
	char h[2 * FSTORE_PEER_ID + 1];

	hex(peer, FSTORE_PEER_ID, h);
	snprintf(out, 48, "ssf{f}:o:%s", h);
}

/* A decimal id in a reply (string or integer); 0 when it is not one. */
static uint64_t reply_id(const redisReply *e)
{
	uint64_t v = 0;

	if (e->type == REDIS_REPLY_INTEGER)
		return e->integer > 0 ? (uint64_t)e->integer : 0;
	if (e->type != REDIS_REPLY_STRING || !e->len || e->len > 19)
		return 0;
	for (size_t i = 0; i < e->len; i++) {
		if (e->str[i] < '0' || e->str[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(e->str[i] - '0');
	}
	return v;
}

/* ---- lookups ---- */

typedef struct cand {
	uint64_t id;
	double sim; /* -1: to compute */
} cand;

typedef struct best {
	uint64_t id;
	double sim;
	fstore_entry e;
	int found;
	cand c[MAX_CANDIDATES];
	size_t n;
} best;

static void add_cand(best *b, uint64_t id, double sim)
{
	if (!id || b->n == MAX_CANDIDATES)
		return;
	for (size_t i = 0; i < b->n; i++)
		if (b->c[i].id == id)
			return;
	b->c[b->n++] = (cand){id, sim};
}

static int digest_cands(redisContext *c, const fpp_msg *m, best *b)
{
	cmd x = {.n = 0};
	redisReply *r;
	int err = 0;

	if (!m->ndigests)
		return 0;
	args(&x, "HMGET");
	args(&x, "ssf{f}:d");
	for (size_t i = 0; i < m->ndigests; i++)
		arg(&x, m->digests[i].sha256, 32);
	r = run(c, &x);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != m->ndigests)
		err = SS_EIO;
	for (size_t i = 0; !err && i < r->elements; i++)
		add_cand(b, reply_id(r->element[i]), 1.0);
	freeReplyObject(r);
	return err;
}

static int band_cands(redisContext *c, const fpp_msg *m, best *b)
{
	uint64_t keys[FP_NBANDS];
	char k[32], cnt[8];
	int err = 0;

	fp_bands(&m->text, keys);
	snprintf(cnt, sizeof(cnt), "%d", MAX_PER_BAND);
	for (size_t i = 0; i < FP_NBANDS; i++) {
		band_key(keys[i], k);
		if (redisAppendCommand(c, "SRANDMEMBER %s %s", k, cnt) != REDIS_OK)
			return SS_EIO;
	}
	for (size_t i = 0; i < FP_NBANDS; i++) {
		redisReply *r = NULL;
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			return SS_EIO;
		if (!r || r->type != REDIS_REPLY_ARRAY)
			err = SS_EIO;
		for (size_t j = 0; !err && j < r->elements; j++)
			add_cand(b, reply_id(r->element[j]), -1);
		freeReplyObject(r);
	}
	return err;
}

/* Reads the candidates' entries and keeps the most similar. */
static int judge(redisContext *c, const fpp_msg *m, best *b)
{
	cmd x = {.n = 0};
	char ids[MAX_CANDIDATES][24];
	size_t from = 0;
	int err = 0;

	while (!err && from < b->n) {
		size_t k = b->n - from > MAX_ARGS - 2 ? MAX_ARGS - 2 : b->n - from;
		redisReply *r;
		x.n = 0;
		args(&x, "HMGET");
		args(&x, "ssf{f}:e");
		for (size_t i = 0; i < k; i++) {
			snprintf(ids[from + i], 24, "%llu", (unsigned long long)b->c[from + i].id);
			args(&x, ids[from + i]);
		}
		r = run(c, &x);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != k)
			err = SS_EIO;
		for (size_t i = 0; !err && i < k; i++) {
			const redisReply *e = r->element[i];
			fstore_entry en;
			double sim = b->c[from + i].sim;
			if (e->type != REDIS_REPLY_STRING ||
			    fstore_entry_decode(e->str, e->len, &en))
				continue;
			if (sim < 0)
				sim = en.has_text && m->has_text ? fp_similarity(&m->text, &en.text)
				                                 : 0;
			if (!b->found || sim > b->sim) {
				b->found = 1;
				b->sim = sim;
				b->id = b->c[from + i].id;
				b->e = en;
			}
		}
		freeReplyObject(r);
		from += k;
	}
	return err;
}

static int find_best(redisContext *c, const fpp_msg *m, best *b)
{
	int err = digest_cands(c, m, b);

	if (!err && b->n)
		err = judge(c, m, b);
	if (err || !m->has_text || (b->found && b->sim >= 1))
		return err;
	b->n = 0;
	if (!(err = band_cands(c, m, b)) && b->n)
		err = judge(c, m, b);
	return err;
}

int fsr_lookup(fsredis *r, const fpp_msg *m, fpp_msg *reply)
{
	best *b = calloc(1, sizeof(*b));
	int err = b ? SS_EIO : SS_ENOMEM;
	redisContext *c;

	if (b && r->has_replica) {
		c = take_replica(r);
		err = c ? find_best(c, m, b) : SS_EIO;
		give_replica(r, c && err == SS_EIO);
	}
	if (b && err == SS_EIO) { /* no replica, or it did not answer */
		memset(b, 0, sizeof(*b));
		c = take(r);
		err = c ? find_best(c, m, b) : SS_EIO;
		give(r, err == SS_EIO);
	}
	if (!err && b->found) {
		reply->found = 1;
		reply->similarity = b->sim;
		reply->cls = b->e.cls;
		reply->weight = b->e.weight;
		reply->first_seen = b->e.first_seen;
		reply->last_seen = b->e.last_seen;
		reply->count = b->e.count;
	}
	free(b);
	return err;
}

/* ---- changes ---- */

/* Queues the writes of entry id (its index rows unless only updated). */
static int append_entry(redisContext *c, uint64_t id, const fstore_entry *e, int index, int del)
{
	char ids[24], seen[24], k[32];
	uint64_t keys[FP_NBANDS];
	int n = 0, rc = 0;

	snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
	snprintf(seen, sizeof(seen), "%llu", (unsigned long long)e->last_seen);
	if (del) {
		rc |= redisAppendCommand(c, "HDEL ssf{f}:e %s", ids);
		rc |= redisAppendCommand(c, "ZREM ssf{f}:seen %s", ids);
	} else {
		rc |= redisAppendCommand(c, "HSET ssf{f}:e %s %b", ids, e, sizeof(*e));
		rc |= redisAppendCommand(c, "ZADD ssf{f}:seen %s %s", seen, ids);
	}
	n += 2;
	if (index && e->has_text) {
		fp_bands(&e->text, keys);
		for (size_t i = 0; i < FP_NBANDS; i++, n++) {
			band_key(keys[i], k);
			rc |= redisAppendCommand(c, del ? "SREM %s %s" : "SADD %s %s", k, ids);
		}
	}
	for (size_t i = 0; index && i < e->ndigests && i < FPP_MAX_DIGESTS; i++, n++)
		rc |= del ? redisAppendCommand(c, "HDEL ssf{f}:d %b", e->digests[i].sha256,
		                               (size_t)32)
		          : redisAppendCommand(c, "HSET ssf{f}:d %b %s", e->digests[i].sha256,
		                               (size_t)32, ids);
	return rc ? -1 : n;
}

/* Sends MULTI, the queued n commands, EXEC, reads it all; 0 or SS_EIO. */
static int exec_queued(redisContext *c, int n)
{
	int err = 0;

	for (int i = 0; i < n + 2; i++) {
		redisReply *r = NULL;
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			return SS_EIO;
		if (bad(r) || (i == n + 1 && r->type != REDIS_REPLY_ARRAY))
			err = SS_EIO;
		freeReplyObject(r);
	}
	return err;
}

static uint64_t incr(redisContext *c, const char *key)
{
	redisReply *r = redisCommand(c, "INCR %s", key);
	uint64_t v =
	    r && r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? (uint64_t)r->integer : 0;

	freeReplyObject(r);
	return v;
}

static int add_in(redisContext *c, const fpp_msg *m, double weight, uint64_t now, int *is_new)
{
	best *b = calloc(1, sizeof(*b));
	uint64_t id;
	int err, n;

	if (!b)
		return SS_ENOMEM;
	if ((err = find_best(c, m, b)))
		goto out;
	*is_new = !(b->found && b->sim >= 1);
	if (!*is_new) {
		b->e.count++;
		b->e.last_seen = now;
		b->e.cls = m->cls;
		b->e.weight = weight > b->e.weight ? weight : b->e.weight;
		id = b->id;
	} else {
		memset(&b->e, 0, sizeof(b->e));
		b->e.has_text = (uint8_t)m->has_text;
		b->e.text = m->text;
		b->e.ndigests = m->ndigests;
		memcpy(b->e.digests, m->digests, sizeof(b->e.digests));
		b->e.cls = m->cls;
		b->e.weight = weight;
		b->e.first_seen = b->e.last_seen = now;
		b->e.count = 1;
		snprintf(b->e.reporter, sizeof(b->e.reporter), "%s", m->reporter);
		if (!(id = incr(c, "ssf{f}:next"))) {
			err = SS_EIO;
			goto out;
		}
	}
	if (redisAppendCommand(c, "MULTI") != REDIS_OK ||
	    (n = append_entry(c, id, &b->e, *is_new, 0)) < 0 ||
	    redisAppendCommand(c, "EXEC") != REDIS_OK)
		err = SS_EIO;
	else
		err = exec_queued(c, n);
out:
	free(b);
	return err;
}

static int del_in(redisContext *c, const fpp_msg *m, unsigned *deleted)
{
	best *b = calloc(1, sizeof(*b));
	int err = b ? 0 : SS_ENOMEM, n;

	for (unsigned k = 0; !err && k < 1000; k++) {
		memset(b, 0, sizeof(*b));
		if ((err = find_best(c, m, b)) || !b->found || b->sim < 1)
			break;
		if (redisAppendCommand(c, "MULTI") != REDIS_OK ||
		    (n = append_entry(c, b->id, &b->e, 1, 1)) < 0 ||
		    redisAppendCommand(c, "EXEC") != REDIS_OK || (err = exec_queued(c, n)))
			err = SS_EIO;
		else
			(*deleted)++;
	}
	free(b);
	return err;
}

/* Queues fed->out in the peers' outboxes under a new change number. */
static int queue_out(redisContext *c, fstore_fed *fed)
{
	uint8_t buf[8 + FPP_MAX_PACKET];
	uint64_t seq = incr(c, "ssf{f}:seq");
	char k[48], ss[24];
	int len, err = 0;

	if (!seq)
		return SS_EIO;
	if (!fed->out->origin_seq)
		fed->out->origin_seq = seq;
	if ((len = fpp_msg_encode(fed->out, buf + 8, FPP_MAX_PACKET)) < 0)
		return SS_EINVAL;
	fstore_be64(seq, buf);
	snprintf(ss, sizeof(ss), "%llu", (unsigned long long)seq);
	for (size_t i = 0; !err && i < fed->npeers; i++) {
		redisReply *r;
		long long over;
		box_key(fed->peers[i], k);
		r = redisCommand(c, "ZADD %s %s %b", k, ss, buf, (size_t)len + 8);
		err = bad(r) ? SS_EIO : 0;
		freeReplyObject(r);
		if (err || !(r = redisCommand(c, "ZCARD %s", k)) ||
		    r->type != REDIS_REPLY_INTEGER) {
			freeReplyObject(r);
			return SS_EIO;
		}
		over = fed->limit && r->integer > (long long)fed->limit
		           ? r->integer - (long long)fed->limit
		           : 0;
		freeReplyObject(r);
		if (over) {
			r = redisCommand(c, "ZREMRANGEBYRANK %s 0 %lld", k, over - 1);
			err = bad(r) ? SS_EIO : 0;
			freeReplyObject(r);
			fed->dropped += (unsigned)over;
		}
	}
	return err;
}

/* Remembers m's (origin, origin_seq): *dup when it was there already. */
static int note_applied(redisContext *c, const fpp_msg *m, uint64_t now, int *dup,
                        uint8_t key[FPP_SERVER_ID + 8])
{
	redisReply *r;
	char t[24];

	memcpy(key, m->origin, FPP_SERVER_ID);
	fstore_be64(m->origin_seq, key + FPP_SERVER_ID);
	snprintf(t, sizeof(t), "%llu", (unsigned long long)now);
	r = redisCommand(c, "ZADD ssf{f}:a NX %s %b", t, key, (size_t)FPP_SERVER_ID + 8);
	if (!r || r->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		return SS_EIO;
	}
	*dup = r->integer == 0;
	freeReplyObject(r);
	return 0;
}

int fsr_change(fsredis *r, const fpp_msg *m, double weight, uint64_t now, fstore_fed *fed)
{
	redisContext *c = take(r);
	uint8_t akey[FPP_SERVER_ID + 8];
	int err = c ? 0 : SS_EIO, noted = 0;

	if (!err && m->origin_seq) {
		err = note_applied(c, m, now, &fed->duplicate, akey);
		noted = !err && !fed->duplicate;
	}
	if (!err && !fed->duplicate) {
		if (m->cmd == FPP_DEL)
			err = del_in(c, m, &fed->deleted);
		else
			err = add_in(c, m, weight, now, &fed->is_new);
		if (!err && fed->npeers)
			err = queue_out(c, fed);
	}
	if (err && noted && c && !c->err) /* not applied after all: a re-send may */
		freeReplyObject(redisCommand(c, "ZREM ssf{f}:a %b", akey, sizeof(akey)));
	give(r, err == SS_EIO);
	return err;
}

/* ---- outboxes ---- */

int fsr_outbox_first(fsredis *r, const uint8_t peer[FSTORE_PEER_ID], uint64_t *seq, fpp_msg *m)
{
	redisContext *c = take(r);
	redisReply *x = NULL;
	char k[48];
	int rc = c ? 0 : SS_EIO;

	box_key(peer, k);
	if (!rc && (!(x = redisCommand(c, "ZRANGE %s 0 0", k)) || x->type != REDIS_REPLY_ARRAY))
		rc = SS_EIO;
	if (!rc && x->elements) {
		const redisReply *e = x->element[0];
		if (e->type != REDIS_REPLY_STRING || e->len < 8 ||
		    fpp_msg_decode((const uint8_t *)e->str + 8, e->len - 8, m))
			rc = SS_ECORRUPT;
		else
			*seq = fstore_get_be64((const uint8_t *)e->str), rc = 1;
	}
	freeReplyObject(x);
	give(r, rc == SS_EIO);
	return rc;
}

int fsr_outbox_done(fsredis *r, const uint8_t peer[FSTORE_PEER_ID], uint64_t seq)
{
	redisContext *c = take(r);
	redisReply *x = NULL;
	char k[48], s[24];
	int err = c ? 0 : SS_EIO;

	box_key(peer, k);
	snprintf(s, sizeof(s), "%llu", (unsigned long long)seq);
	if (!err && bad(x = redisCommand(c, "ZREMRANGEBYSCORE %s %s %s", k, s, s)))
		err = SS_EIO;
	freeReplyObject(x);
	give(r, err == SS_EIO);
	return err;
}

uint64_t fsr_outbox_len(fsredis *r, const uint8_t peer[FSTORE_PEER_ID])
{
	redisContext *c = take(r);
	redisReply *x = NULL;
	char k[48];
	uint64_t n = 0;

	box_key(peer, k);
	if (c && (x = redisCommand(c, "ZCARD %s", k)) && x->type == REDIS_REPLY_INTEGER &&
	    x->integer > 0)
		n = (uint64_t)x->integer;
	freeReplyObject(x);
	give(r, c && !x);
	return n;
}

/* ---- expiry ---- */

/* Deletes one page of the entries last seen before `before`; *more when
 * there may be others. */
static int expire_page(redisContext *c, const char *until, unsigned *n, int *more)
{
	redisReply *ids =
	    redisCommand(c, "ZRANGEBYSCORE ssf{f}:seen -inf (%s LIMIT 0 %d", until, EXPIRE_PAGE);
	int err = 0;

	*more = 0;
	if (!ids || ids->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(ids);
		return SS_EIO;
	}
	for (size_t i = 0; !err && i < ids->elements; i++) {
		const redisReply *e = ids->element[i];
		uint64_t id = reply_id(e);
		redisReply *v =
		    id ? redisCommand(c, "HGET ssf{f}:e %llu", (unsigned long long)id) : NULL;
		fstore_entry en;
		int k;
		if (id && bad(v)) {
			err = SS_EIO;
		} else if (!v || v->type != REDIS_REPLY_STRING ||
		           fstore_entry_decode(v->str, v->len, &en)) {
			/* not an entry: forget the id */
			if (e->type == REDIS_REPLY_STRING)
				freeReplyObject(
				    redisCommand(c, "ZREM ssf{f}:seen %b", e->str, (size_t)e->len));
			if (id)
				freeReplyObject(
				    redisCommand(c, "HDEL ssf{f}:e %llu", (unsigned long long)id));
		} else if (redisAppendCommand(c, "MULTI") != REDIS_OK ||
		           (k = append_entry(c, id, &en, 1, 1)) < 0 ||
		           redisAppendCommand(c, "EXEC") != REDIS_OK || exec_queued(c, k)) {
			err = SS_EIO;
		} else {
			(*n)++;
		}
		freeReplyObject(v);
	}
	*more = !err && ids->elements == EXPIRE_PAGE;
	freeReplyObject(ids);
	return err;
}

int fsr_expire(fsredis *r, uint64_t before, unsigned *n)
{
	redisContext *c = take(r);
	redisReply *x = NULL;
	char until[24];
	int err = c ? 0 : SS_EIO, more = 1;

	*n = 0;
	snprintf(until, sizeof(until), "%llu", (unsigned long long)before);
	while (!err && more)
		err = expire_page(c, until, n, &more);
	if (!err && bad(x = redisCommand(c, "ZREMRANGEBYSCORE ssf{f}:a -inf (%s", until)))
		err = SS_EIO;
	freeReplyObject(x);
	give(r, err == SS_EIO);
	return err;
}

/* ---- open ---- */

/* Reads the store's server id, making it when absent. */
static int load_id(fsredis *r, redisContext *c)
{
	uint8_t id[FPP_SERVER_ID];
	redisReply *x;
	int err = 0;

	randombytes_buf(id, sizeof(id));
	x = redisCommand(c, "SET ssf{f}:id %b NX", id, sizeof(id));
	if (bad(x))
		err = SS_EIO;
	freeReplyObject(x);
	if (err)
		return err;
	x = redisCommand(c, "GET ssf{f}:id");
	if (!x || x->type != REDIS_REPLY_STRING || x->len != FPP_SERVER_ID)
		err = bad(x) || (x && x->type == REDIS_REPLY_NIL) ? SS_EIO : SS_ECORRUPT;
	else
		memcpy(r->server_id, x->str, FPP_SERVER_ID);
	freeReplyObject(x);
	return err;
}

/* Reads the replica's URL (and the password file's password into it). */
static int replica_url(fsredis *r, const char *url, const char *password_file, const char **why)
{
	if (redis_url_parse(url, strlen(url), &r->ru, why))
		return SS_EINVAL;
	if (password_file)
		memcpy(r->ru.pass, r->u.pass, sizeof(r->ru.pass));
	r->has_replica = 1;
	return 0;
}

int fsr_open(const char *url, const char *replica, const char *password_file, int timeout_ms,
             fsredis **out, const char **why)
{
	fsredis *r = calloc(1, sizeof(*r));
	int ms = timeout_ms > 0 ? timeout_ms : 1000, err, reached;
	redisContext *c;

	if (!r)
		return SS_ENOMEM;
	if (!url || redis_url_parse(url, strlen(url), &r->u, why)) {
		if (!*why)
			*why = "no Redis URL";
		free(r);
		return SS_EINVAL;
	}
	if (password_file && redis_read_password(password_file, r->u.pass, sizeof(r->u.pass))) {
		*why = "cannot read the Redis password file";
		sodium_memzero(&r->u, sizeof(r->u));
		free(r);
		return SS_EINVAL;
	}
	if (replica && replica_url(r, replica, password_file, why)) {
		sodium_memzero(r, sizeof(*r));
		free(r);
		return SS_EINVAL;
	}
	r->tv.tv_sec = ms / 1000;
	r->tv.tv_usec = (ms % 1000) * 1000;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->rmu, NULL);
	c = take(r);
	reached = c != NULL;
	err = c ? load_id(r, c) : SS_EIO;
	give(r, err == SS_EIO);
	if (err) {
		*why = err != SS_EIO ? "ssf{f}:id on that Redis is not a server id"
		       : reached     ? "Redis does not answer"
		                     : r->why;
		fsr_close(r);
		return err;
	}
	*out = r;
	return 0;
}

void fsr_close(fsredis *r)
{
	if (!r)
		return;
	if (r->c)
		redisFree(r->c);
	if (r->rc)
		redisFree(r->rc);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->rmu);
	sodium_memzero(&r->u, sizeof(r->u));
	sodium_memzero(&r->ru, sizeof(r->ru));
	free(r);
}

const uint8_t *fsr_server_id(const fsredis *r)
{
	return r->server_id;
}
