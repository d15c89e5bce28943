/*
 * redis_sync.c: the thread that keeps spamsiftd's mirror of the global
 * model (redis_mirror.h) in step with Redis: the whole model read once,
 * then the change feed ss{u0}:c that the write script appends to (see
 * redis.c and docs/ARCHITECTURE.md, "The model on Redis").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spamsift.h"
#include "store/redis_internal.h"

#define FEED_COUNT 2000 /* feed entries read at once */

/* Copies the id of a stream entry (a reply [id, [k, v]]) into id. */
static int entry_id(const redisReply *e, char *id, size_t cap)
{
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len >= cap)
		return -1;
	memcpy(id, e->element[0]->str, e->element[0]->len + 1);
	return 0;
}

/* The feed's last entry id into id ("0-0" when it is empty). */
static int feed_last(rstore *rs, char *id, size_t cap)
{
	const char *argv[6] = {"XREVRANGE", "ss{u0}:c", "+", "-", "COUNT", "1"};
	size_t lens[6] = {9, 8, 1, 1, 5, 1};
	redisReply *r = rs_command(rs, 0, 6, argv, lens);
	int err = 0;

	if (!r)
		return SS_EIO;
	if (r->type != REDIS_REPLY_ARRAY)
		err = SS_ECORRUPT;
	else if (!r->elements)
		snprintf(id, cap, "0-0");
	else if (entry_id(r->element[0], id, cap))
		err = SS_ECORRUPT;
	freeReplyObject(r);
	return err;
}

/* Fresh totals of the global model. */
static int fresh_totals(rstore *rs, clf_totals *t)
{
	rs->tot[0].valid = 0;
	rs->degraded = 0;
	return rs_totals(&rs->base, 0, t) || rs->degraded ? SS_EIO : 0;
}

static int load_feat(void *ctx, const redisReply *k, const redisReply *v)
{
	feat_stat st;

	if (k->len != 8 || v->len != STAT_LEN)
		return 0;
	rs_unpack_stat((const uint8_t *)v->str, &st);
	return rm_table_put(ctx, rs_get_le64((const uint8_t *)k->str), &st);
}

/* Reads the whole global model into a new table; *last: the feed's
 * position it includes (read first: later changes are followed). */
static int mirror_load(rstore *rs, char *last, size_t cap)
{
	rm_table *t = rm_table_new();
	clf_totals tot;
	int err;

	if (!t)
		return SS_ENOMEM;
	if ((err = feed_last(rs, last, cap)) || (err = rs_hscan(rs, "ss{u0}:f", load_feat, t)) ||
	    (err = fresh_totals(rs, &tot))) {
		rm_table_free(t);
		return err;
	}
	rmirror_swap(rs->sh->mirror, t, &tot);
	return 0;
}

/* The keys of feed entries r->element[*] into a malloc'ed array. */
static uint64_t *feed_keys(const redisReply *r, size_t *n)
{
	uint64_t *k = NULL;
	size_t total = 0, at = 0;

	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
		    e->element[1]->type == REDIS_REPLY_ARRAY && e->element[1]->elements == 2)
			total += e->element[1]->element[1]->len / 8;
	}
	if (!(k = malloc((total ? total : 1) * sizeof(*k))))
		return NULL;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i], *v;
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[1]->type != REDIS_REPLY_ARRAY || e->element[1]->elements != 2)
			continue;
		v = e->element[1]->element[1];
		for (size_t o = 0; o + 8 <= v->len; o += 8)
			k[at++] = rs_get_le64((const uint8_t *)v->str + o);
	}
	*n = at;
	return k;
}

/* Fetches keys[0..n) and writes them into the mirror. */
static int mirror_apply(rstore *rs, const uint64_t *keys, size_t n, const clf_totals *tot)
{
	feat_stat *st = malloc((n ? n : 1) * sizeof(*st));
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	int err = st && idx ? 0 : SS_ENOMEM;

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = 0; !err && i < n; i += 1000)
		err = rs_hmget(rs, 0, keys, idx + i, n - i < 1000 ? n - i : 1000, st);
	if (!err)
		err = rmirror_update(rs->sh->mirror, keys, st, n, tot);
	free(st);
	free(idx);
	return err;
}

/* Compares stream ids "MS-SEQ". */
static int id_cmp(const char *a, const char *b)
{
	unsigned long long am = 0, as = 0, bm = 0, bs = 0;

	sscanf(a, "%llu-%llu", &am, &as);
	sscanf(b, "%llu-%llu", &bm, &bs);
	return am != bm ? (am < bm ? -1 : 1) : as != bs ? (as < bs ? -1 : 1) : 0;
}

/* Whether the feed was trimmed past *last (entries missed): its first
 * entry is later than the one we read last. 1 yes, 0 no, or an error. */
static int feed_gap(rstore *rs, const char *last)
{
	const char *argv[6] = {"XRANGE", "ss{u0}:c", "-", "+", "COUNT", "1"};
	size_t lens[6] = {6, 8, 1, 1, 5, 1};
	redisReply *r = rs_command(rs, 0, 6, argv, lens);
	char first[64];
	int rc = 0;

	if (!r)
		return SS_EIO;
	if (r->type != REDIS_REPLY_ARRAY)
		rc = SS_ECORRUPT;
	else if (r->elements && !entry_id(r->element[0], first, sizeof(first)))
		rc = strcmp(last, "0-0") ? id_cmp(first, last) > 0 : 0;
	freeReplyObject(r);
	return rc;
}

/* Applies what the feed holds after *last; SS_EBUSY when entries were
 * trimmed before they were read (the whole model must be read again). */
static int mirror_follow(rstore *rs, char *last, size_t cap)
{
	char from[80];
	const char *argv[6] = {"XRANGE", "ss{u0}:c", from, "+", "COUNT", "2000"};
	size_t lens[6] = {6, 8, 0, 1, 5, 4};
	clf_totals tot;
	int err = fresh_totals(rs, &tot), more = 1, gap = err ? 0 : feed_gap(rs, last);

	if (gap)
		return gap > 0 ? SS_EBUSY : gap;
	while (!err && more) {
		redisReply *r;
		uint64_t *keys;
		size_t n;
		lens[2] = (size_t)snprintf(from, sizeof(from), "(%s", last);
		if (!(r = rs_command(rs, 0, 6, argv, lens)))
			return SS_EIO;
		if (r->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return SS_ECORRUPT;
		}
		more = r->elements == FEED_COUNT;
		if (!(keys = feed_keys(r, &n)))
			err = SS_ENOMEM;
		else if (!(err = mirror_apply(rs, keys, n, &tot)) && r->elements &&
		         entry_id(r->element[r->elements - 1], last, cap))
			err = SS_ECORRUPT;
		free(keys);
		freeReplyObject(r);
	}
	return err;
}

/* The sync thread: the whole model first (and again after any failure,
 * which may have let the feed's trimming pass it), then the feed, every
 * quarter of the staleness bound. */
void *rs_mirror_main(void *arg)
{
	rshared *sh = arg;
	char last[64] = "";
	int loaded = 0, every = sh->stale_ms / 4;

	every = every < 20 ? 20 : every > 250 ? 250 : every;
	while (!__atomic_load_n(&sh->mstop, __ATOMIC_ACQUIRE)) {
		int64_t start = rs_now_ms();
		int err = loaded ? mirror_follow(sh->mh, last, sizeof(last))
		                 : mirror_load(sh->mh, last, sizeof(last));
		loaded = !err;
		if (!err)
			rmirror_synced(sh->mirror, start);
		for (int64_t t = rs_now_ms();
		     t - start < every && !__atomic_load_n(&sh->mstop, __ATOMIC_ACQUIRE);
		     t = rs_now_ms()) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}
