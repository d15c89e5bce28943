/*
 * redis_sync.c: the thread that keeps spamsiftd's copies of models on Redis
 * in step: the mirror of the global model (redis_mirror.h) and the copies
 * of the per-user models scans asked for (redis_users.h). Each is read
 * whole once, then follows its change feed ss{u<ID>}:c, which the write
 * script appends to; a write to a user's model also leaves the user's id
 * in the notice stream ss{g}:uc, so that one read tells which users
 * changed (see redis.c and docs/ARCHITECTURE.md, "The model on Redis").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spamsift.h"
#include "store/redis_internal.h"
#include "store/redis_users.h"
#include "util/clock.h"

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

/* The name of user's change feed. */
static void feed_name(char *buf, size_t cap, uint32_t user)
{
	snprintf(buf, cap, "ss{u%u}:c", user);
}

/* The last entry id of stream key into id ("0-0" when it is empty). */
static int feed_last(rstore *rs, const char *key, char *id, size_t cap)
{
	const char *argv[6] = {"XREVRANGE", key, "+", "-", "COUNT", "1"};
	size_t lens[6] = {9, strlen(key), 1, 1, 5, 1};
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

/* Fresh totals of user's model. */
static int fresh_totals(rstore *rs, uint32_t user, clf_totals *t)
{
	rs->tot[user % TOT_SLOTS].valid = 0;
	rs->degraded = 0;
	return rs_totals(&rs->base, user, t) || rs->degraded ? SS_EIO : 0;
}

static int load_feat(void *ctx, const redisReply *k, const redisReply *v)
{
	feat_stat st;

	if (k->len != 8 || v->len != STAT_LEN)
		return 0;
	rs_unpack_stat((const uint8_t *)v->str, &st);
	return rm_table_put(ctx, rs_get_le64((const uint8_t *)k->str), &st);
}

/* Reads user's whole model into a new table for m; *last: the feed's
 * position it includes (read first: later changes are followed). */
static int mirror_load(rstore *rs, uint32_t user, rmirror *m, char *last, size_t cap)
{
	rm_table *t = rm_table_new(user ? 64 : 1 << 16);
	char feed[32], f[32];
	clf_totals tot;
	int err;

	if (!t)
		return SS_ENOMEM;
	feed_name(feed, sizeof(feed), user);
	snprintf(f, sizeof(f), "ss{u%u}:f", user);
	if ((err = feed_last(rs, feed, last, cap)) || (err = rs_hscan(rs, f, load_feat, t)) ||
	    (err = fresh_totals(rs, user, &tot))) {
		rm_table_free(t);
		return err;
	}
	rmirror_swap(m, t, &tot);
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

/* Fetches keys[0..n) of user's model and writes them into m. */
static int mirror_apply(rstore *rs, uint32_t user, rmirror *m, const uint64_t *keys, size_t n,
                        const clf_totals *tot)
{
	feat_stat *st = malloc((n ? n : 1) * sizeof(*st));
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	int err = st && idx ? 0 : SS_ENOMEM;

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = 0; !err && i < n; i += 1000)
		err = rs_hmget(rs, user, keys, idx + i, n - i < 1000 ? n - i : 1000, st);
	if (!err)
		err = rmirror_update(m, keys, st, n, tot);
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

/* Whether stream key was trimmed past *last (entries missed): its first
 * entry is later than the one we read last. 1 yes, 0 no, or an error. */
static int feed_gap(rstore *rs, const char *key, const char *last)
{
	const char *argv[6] = {"XRANGE", key, "-", "+", "COUNT", "1"};
	size_t lens[6] = {6, strlen(key), 1, 1, 5, 1};
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

/* Applies to m what user's feed holds after *last; SS_EBUSY when entries
 * were trimmed before they were read (the whole model must be read again). */
static int mirror_follow(rstore *rs, uint32_t user, rmirror *m, char *last, size_t cap)
{
	char from[80], feed[32];
	const char *argv[6] = {"XRANGE", feed, from, "+", "COUNT", "2000"};
	size_t lens[6] = {6, 0, 0, 1, 5, 4};
	clf_totals tot;
	int err, more = 1, gap;

	feed_name(feed, sizeof(feed), user);
	lens[1] = strlen(feed);
	err = fresh_totals(rs, user, &tot);
	gap = err ? 0 : feed_gap(rs, feed, last);

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
		else if (!(err = mirror_apply(rs, user, m, keys, n, &tot)) && r->elements &&
		         entry_id(r->element[r->elements - 1], last, cap))
			err = SS_ECORRUPT;
		free(keys);
		freeReplyObject(r);
	}
	return err;
}

/* ---- the copies of per-user models ---- */

#define NOTICES "ss{g}:uc" /* the users whose models changed (see redis.c) */
#define SWEEP_MS 30000     /* every copy follows its feed at least this often */
#define IDLE_MS 600000     /* a copy no scan read for this long is dropped */
#define NAMES_AT_ONCE 256

/* What the sync thread remembers between rounds. */
typedef struct sync_state {
	char glast[64]; /* the global feed's position */
	int gloaded;
	char nlast[64]; /* the notices' position; "" not read yet */
	int64_t next_sweep, next_evict;
} sync_state;

static int by_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Adds the user ids of notices r->element[*] to *ids (*n of *cap). */
static int notice_ids(const redisReply *r, uint32_t **ids, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i], *v;
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[1]->type != REDIS_REPLY_ARRAY || e->element[1]->elements != 2 ||
		    (v = e->element[1]->element[1])->type != REDIS_REPLY_STRING)
			continue;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			uint32_t *p = realloc(*ids, c * sizeof(*p));
			if (!p)
				return SS_ENOMEM;
			*ids = p;
			*cap = c;
		}
		(*ids)[(*n)++] = (uint32_t)strtoul(v->str, NULL, 10);
	}
	return 0;
}

/* The users named by notices after last, sorted into *ids (malloc'ed, *n);
 * *all when the notices were trimmed past last or never read: every copy
 * must then follow its feed. */
static int notices_read(rstore *rs, char *last, size_t lcap, uint32_t **ids, size_t *n, int *all)
{
	char from[80];
	const char *argv[6] = {"XRANGE", NOTICES, from, "+", "COUNT", "2000"};
	size_t lens[6] = {6, sizeof(NOTICES) - 1, 0, 1, 5, 4}, cap = 0;
	int err = 0, more = 1, gap;

	*ids = NULL, *n = 0, *all = 1;
	if (!*last)
		return feed_last(rs, NOTICES, last, lcap);
	if ((gap = feed_gap(rs, NOTICES, last)) < 0)
		return gap;
	*all = gap;
	while (!err && more) {
		redisReply *r;
		lens[2] = (size_t)snprintf(from, sizeof(from), "(%s", last);
		if (!(r = rs_command(rs, 0, 6, argv, lens)))
			return SS_EIO;
		err = r->type == REDIS_REPLY_ARRAY ? notice_ids(r, ids, n, &cap) : SS_ECORRUPT;
		more = !err && r->elements == FEED_COUNT;
		if (!err && r->elements && entry_id(r->element[r->elements - 1], last, lcap))
			err = SS_ECORRUPT;
		freeReplyObject(r);
	}
	if (!err && *n)
		qsort(*ids, *n, sizeof(**ids), by_id);
	return err;
}

/* Answers the names scans asked for from the user table. */
static void names_answer(rstore *rs, rusers *u)
{
	char *names[NAMES_AT_ONCE];
	size_t n = rusers_names_asked(u, names, NAMES_AT_ONCE);

	for (size_t i = 0; i < n; i++) {
		const char *argv[3] = {"HGET", "ss{g}:uid", names[i]};
		size_t lens[3] = {4, 9, strlen(names[i])};
		redisReply *r = rs_command(rs, 0, 3, argv, lens);
		long long id = r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
		int ok = r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL) &&
		         id >= 0 && id <= UINT32_MAX;
		rusers_name_set(u, names[i], ok ? (uint32_t)id : 0, ok ? ss_mono_ms() : -1);
		freeReplyObject(r);
		free(names[i]);
	}
}

/* How many features user's model has (HLEN); -1 when Redis does not say. */
static long long user_size(rstore *rs, uint32_t user)
{
	char f[32];
	const char *argv[2] = {"HLEN", f};
	size_t lens[2] = {4, 0};
	redisReply *r;
	long long n;

	lens[1] = (size_t)snprintf(f, sizeof(f), "ss{u%u}:f", user);
	if (!(r = rs_command(rs, 0, 2, argv, lens)))
		return -1;
	n = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return n;
}

/* Loads user copy r (1 when it was, and scans waiting for it may go on).
 * A model bigger than one copy may hold (32 bytes a feature in the table)
 * gets none: its scans read Redis, as the command line does. */
static int user_load(rstore *rs, rusers *u, ruser *r, int64_t start)
{
	long long n = r->loaded ? 0 : user_size(rs, r->id);

	if (n < 0)
		return 0;
	if ((unsigned long long)n * 32 > rusers_max_copy(u)) {
		__atomic_store_n(&r->too_big, 1, __ATOMIC_RELEASE);
		r->loaded = 1; /* not asked again while the copy's entry lives */
		rusers_loaded(u);
		return 1;
	}
	if (mirror_load(rs, r->id, r->m, r->last, sizeof(r->last)))
		return 0;
	r->loaded = 1;
	rmirror_synced(r->m, start);
	rusers_loaded(u);
	return 1;
}

/* Brings copy r up to date when its model changed (or may have). */
static void user_follow(rstore *rs, rusers *u, ruser *r, int64_t start)
{
	int err = mirror_follow(rs, r->id, r->m, r->last, sizeof(r->last));

	if (err == SS_EBUSY) {
		user_load(rs, u, r, start);
		return;
	}
	if (err)
		r->loaded = 0; /* read whole again next round */
	else
		rmirror_synced(r->m, start);
}

/* One round over the user copies: names asked for, copies asked for; in a
 * full round also the notices, and the copies whose models changed follow
 * their feeds (all of them at least every SWEEP_MS: a notice is sent apart
 * from its write on a Cluster, and may be lost). */
static void users_round(rshared *sh, sync_state *st, int full, int64_t start)
{
	rstore *rs = sh->mh;
	uint32_t *ids = NULL;
	size_t n, nids = 0;
	int all = 0, nerr = 1, sweep = full && start >= st->next_sweep;
	ruser **list;

	names_answer(rs, sh->users);
	if (full)
		nerr = notices_read(rs, st->nlast, sizeof(st->nlast), &ids, &nids, &all);
	if (sweep && !nerr)
		st->next_sweep = start + SWEEP_MS;
	list = rusers_list(sh->users, &n);
	for (size_t i = 0; i < n; i++) {
		ruser *r = list[i];
		if (r->too_big)
			; /* no copy: its scans read Redis */
		else if (!r->loaded)
			user_load(rs, sh->users, r, start);
		else if (!nerr && (all || sweep ||
		                   (nids && bsearch(&r->id, ids, nids, sizeof(*ids), by_id))))
			user_follow(rs, sh->users, r, start);
		else if (!nerr)
			rmirror_synced(r->m, start); /* no change since the last round */
		rusers_release(sh->users, r);
	}
	free(list);
	free(ids);
	if (full && start >= st->next_evict) {
		size_t copies, bytes;
		rusers_evict(sh->users, start, IDLE_MS);
		rusers_size(sh->users, &copies, &bytes);
		rs_note_users(copies, bytes);
		st->next_evict = start + 1000;
	}
}

/* Sleeps until next (ms), or less when a scan asks for a user copy or a
 * name, or the store stops. */
static void wait_next(rshared *sh, int64_t next)
{
	for (int64_t t = ss_mono_ms(); t < next && !__atomic_load_n(&sh->mstop, __ATOMIC_ACQUIRE);
	     t = ss_mono_ms()) {
		int ms = next - t < 10 ? (int)(next - t) : 10;
		struct timespec ts = {0, ms * 1000L * 1000L};
		if (!sh->users)
			nanosleep(&ts, NULL);
		else if (rusers_wait_asked(sh->users, ms))
			return;
	}
}

/* The sync thread: every quarter of the staleness bound (20 to 250 ms) a
 * full round: the global model (read whole first, and again after any
 * failure, which may have let the feed's trimming pass it, else its feed),
 * then the user copies; in between, copies and names scans ask for. */
void *rs_mirror_main(void *arg)
{
	rshared *sh = arg;
	sync_state st = {.glast = ""};
	int every = sh->stale_ms / 4;
	int64_t next = 0;

	every = every < 20 ? 20 : every > 250 ? 250 : every;
	while (!__atomic_load_n(&sh->mstop, __ATOMIC_ACQUIRE)) {
		int64_t start = ss_mono_ms();
		int full = start >= next;
		if (full) {
			int err =
			    st.gloaded
			        ? mirror_follow(sh->mh, 0, sh->mirror, st.glast, sizeof(st.glast))
			        : mirror_load(sh->mh, 0, sh->mirror, st.glast, sizeof(st.glast));
			st.gloaded = !err;
			if (!err)
				rmirror_synced(sh->mirror, start);
			next = start + every;
		}
		if (sh->users)
			users_round(sh, &st, full, start);
		wait_next(sh, next);
	}
	return NULL;
}
