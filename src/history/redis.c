/*
 * redis.c: the history backend (see history.h) on Redis, for many
 * spamsiftd sharing one history (issue 7/8: "Redis when scaled out").
 *
 * Keys (one hash tag, so one Cluster slot and one node serves them all):
 *   ss{h}:ids      sorted set: every kept id, scored by the id
 *   ss{h}:idx      hash: id -> the compact index value (rcodec.c): time,
 *                  score, latency, action and the search text; what the
 *                  filters and the charts read
 *   ss{h}:sum      hash: id -> the summary JSON (read for listed entries)
 *   ss{h}:det      hash: id -> the detail JSON
 *   ss{h}:raw      hash: id -> user and message bytes (within the budget)
 *   ss{h}:rawids   sorted set: the ids with bytes kept
 *   ss{h}:rawbytes string: the bytes in ss{h}:raw
 *   ss{h}:fb       hash: id -> the operator's feedback word
 *   ss{h}:node     counter: gives each daemon its node number for ids
 * Ids are made without a round trip (hr_id_next: time, node, sequence), so
 * a scan never waits on Redis and two daemons never give the same id.
 *
 * A batch is written in one pipeline, then a Lua script (atomic, so two
 * daemons trimming at once agree) drops the oldest entries over the bound
 * and the oldest bytes over the budget. Listing reads ids newest first in
 * pipelined pages (ZREVRANGEBYSCORE, HMGET of the index values), applies
 * the filters here, then reads the summaries and feedback of the entries
 * it keeps.
 *
 * Two connections, each behind a mutex: one for the writer's thread, one
 * for the page's readers. A connection that fails is dropped and tried
 * again at most once a second, so while Redis is down every call fails at
 * once (the writer counts the records as dropped, the page says the
 * history is unavailable) and nothing waits on it.
 */
#include "history/history.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "spamsift.h"
#include "store/redis_conn.h"
#include "store/redis_url.h"
#include "util/clock.h"
#include "util/json.h"

#define K_IDS "ss{h}:ids"
#define K_IDX "ss{h}:idx"
#define K_SUM "ss{h}:sum"
#define K_DET "ss{h}:det"
#define K_RAW "ss{h}:raw"
#define K_RAWIDS "ss{h}:rawids"
#define K_RAWBYTES "ss{h}:rawbytes"
#define K_FB "ss{h}:fb"
#define K_NODE "ss{h}:node"

#define SCAN_PAGE 512     /* index values read per round trip when filtering */
#define RETRY_MS 1000     /* a failed connection is tried again after this */
#define MAX_PIPE_CMDS 256 /* records per pipeline (a batch is cut) */

/* Drops what is over the bounds; KEYS: ids idx sum det raw rawids rawbytes
 * fb; ARGV: max_entries raw_budget. */
static const char TRIM_LUA[] = "local n = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])\n"
                               "while n > 0 do\n"
                               "  local k = math.min(n, 1000)\n"
                               "  local old = redis.call('ZRANGE', KEYS[1], 0, k - 1)\n"
                               "  for _, id in ipairs(old) do\n"
                               "    local l = redis.call('HSTRLEN', KEYS[5], id)\n"
                               "    if l > 0 then\n"
                               "      redis.call('DECRBY', KEYS[7], l)\n"
                               "      redis.call('HDEL', KEYS[5], id)\n"
                               "      redis.call('ZREM', KEYS[6], id)\n"
                               "    end\n"
                               "  end\n"
                               "  redis.call('HDEL', KEYS[2], unpack(old))\n"
                               "  redis.call('HDEL', KEYS[3], unpack(old))\n"
                               "  redis.call('HDEL', KEYS[4], unpack(old))\n"
                               "  redis.call('HDEL', KEYS[8], unpack(old))\n"
                               "  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, k - 1)\n"
                               "  n = n - k\n"
                               "end\n"
                               "local b = tonumber(redis.call('GET', KEYS[7]) or '0') or 0\n"
                               "local budget = tonumber(ARGV[2])\n"
                               "while b > budget do\n"
                               "  local old = redis.call('ZRANGE', KEYS[6], 0, 63)\n"
                               "  if #old == 0 then b = 0 break end\n"
                               "  for _, id in ipairs(old) do\n"
                               "    if b <= budget then break end\n"
                               "    b = b - redis.call('HSTRLEN', KEYS[5], id)\n"
                               "    redis.call('HDEL', KEYS[5], id)\n"
                               "    redis.call('ZREM', KEYS[6], id)\n"
                               "  end\n"
                               "  if b < 0 then b = 0 end\n"
                               "  redis.call('SET', KEYS[7], b)\n"
                               "end\n"
                               "return 0\n";

typedef struct rconn {
	pthread_mutex_t mu;
	redisContext *c;
	int64_t retry_at; /* ms; no connection tried before */
} rconn;

typedef struct hredis {
	history base;
	redis_url u;  /* the primary, or the Cluster node that answered last */
	redis_url ru; /* a replica the page reads from, when has_replica */
	int has_replica;
	redis_url seeds[HR_MAX_SEEDS]; /* more nodes of a Cluster, tried in turn */
	size_t nseeds;
	struct timeval tv;
	uint64_t max_entries, raw_budget;
	rconn wr, rd;
	hr_idgen ids; /* used under the writer's lock */
} hredis;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A reply that is an error (or none). */
static int bad_reply(const redisReply *r)
{
	return !r || r->type == REDIS_REPLY_ERROR;
}

/* Connects rc (AUTH, SELECT): the page's reads to the replica when there
 * is one, the rest to the primary; on a Cluster, to the master of the
 * {h} slot. NULL when Redis does not answer or refuses. */
static redisContext *dial(const hredis *h, const rconn *rc)
{
	const redis_url *u = rc == &h->rd && h->has_replica ? &h->ru : &h->u;
	int ms = (int)(h->tv.tv_sec * 1000 + h->tv.tv_usec / 1000);
	const char *why;
	redisContext *c = redis_dial_tag(u, "{h}", ms, &why);

	for (size_t i = 0; !c && u == &h->u && i < h->nseeds; i++)
		c = redis_dial_tag(&h->seeds[i], "{h}", ms, &why);
	return c;
}

/* Locks rc and returns its connection (made when needed), or NULL (still
 * locked) when Redis is not reachable now. */
static redisContext *take(hredis *h, rconn *rc)
{
	pthread_mutex_lock(&rc->mu);
	if (rc->c && rc->c->err) {
		redisFree(rc->c);
		rc->c = NULL;
		rc->retry_at = ss_mono_ms() + RETRY_MS;
	}
	if (!rc->c && ss_mono_ms() >= rc->retry_at && !(rc->c = dial(h, rc)))
		rc->retry_at = ss_mono_ms() + RETRY_MS;
	return rc->c;
}

/* Unlocks rc; a connection left in a bad state (a failed exchange) is
 * dropped. */
static void give(rconn *rc, int failed)
{
	if (failed && rc->c) {
		redisFree(rc->c);
		rc->c = NULL;
		rc->retry_at = ss_mono_ms() + RETRY_MS;
	}
	pthread_mutex_unlock(&rc->mu);
}

/* Reads n pipelined replies; the first error makes it fail (all read). */
static int drain(redisContext *c, size_t n, redisReply **keep, size_t nkeep)
{
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		void *r = NULL;
		if (redisGetReply(c, &r) != REDIS_OK)
			return SS_EIO;
		if (bad_reply(r))
			err = SS_EIO;
		if (i < nkeep)
			keep[i] = r;
		else
			freeReplyObject(r);
	}
	return err;
}

static void id_str(char *b, uint64_t id)
{
	snprintf(b, 24, "%llu", (unsigned long long)id);
}

/* ---- put ---- */

/* Queues the commands of one record; the count of commands in *n. */
static int append_rec(redisContext *c, const history_rec *r, sbuf *idx, sbuf *raw, size_t *n)
{
	char id[24];
	const char *a[4];
	size_t l[4];

	id_str(id, r->id);
	idx->len = raw->len = 0;
	if (hr_idx_encode(r, idx) || (r->raw && hr_raw_encode(r, raw)))
		return SS_ENOMEM;
	a[0] = "HSET", a[1] = K_IDX, a[2] = id, a[3] = idx->p;
	l[0] = 4, l[1] = strlen(K_IDX), l[2] = strlen(id), l[3] = idx->len;
	char rb[24];
	int bad = redisAppendCommand(c, "ZADD %s %s %s", K_IDS, id, id) ||
	          redisAppendCommandArgv(c, 4, a, l) ||
	          redisAppendCommand(c, "HSET %s %s %b", K_SUM, id, r->summary, r->summary_len) ||
	          redisAppendCommand(c, "HSET %s %s %b", K_DET, id, r->detail ? r->detail : "",
	                             r->detail ? r->detail_len : 0);
	*n += 4;
	if (r->raw && !bad) {
		id_str(rb, raw->len);
		bad = redisAppendCommand(c, "HSET %s %s %b", K_RAW, id, raw->p, raw->len) ||
		      redisAppendCommand(c, "ZADD %s %s %s", K_RAWIDS, id, id) ||
		      redisAppendCommand(c, "INCRBY %s %s", K_RAWBYTES, rb);
		*n += 3;
	}
	if (bad)
		return SS_EIO; /* the connection is dropped: the count no longer matters */
	return 0;
}

static int append_trim(hredis *h, redisContext *c)
{
	char max[24], budget[24];

	id_str(max, h->max_entries);
	id_str(budget, h->raw_budget);
	return redisAppendCommand(c, "EVAL %s 8 %s %s %s %s %s %s %s %s %s %s", TRIM_LUA, K_IDS,
	                          K_IDX, K_SUM, K_DET, K_RAW, K_RAWIDS, K_RAWBYTES, K_FB, max,
	                          budget) == REDIS_OK
	           ? 0
	           : SS_ENOMEM;
}

static int hr_put(history *base, history_rec *const *recs, size_t n)
{
	hredis *h = (hredis *)base;
	redisContext *c = take(h, &h->wr);
	sbuf idx = SBUF_INIT, raw = SBUF_INIT;
	int err = c ? 0 : SS_EIO;

	for (size_t i = 0; !err && i < n;) {
		size_t cmds = 0;
		for (size_t k = 0; !err && k < MAX_PIPE_CMDS && i < n; k++, i++)
			err = append_rec(c, recs[i], &idx, &raw, &cmds);
		if (!err && i == n && !(err = append_trim(h, c)))
			cmds++;
		if (cmds && !err)
			err = drain(c, cmds, NULL, 0);
	}
	give(&h->wr, err != 0); /* commands may be left queued or unread */
	sbuf_release(&idx);
	sbuf_release(&raw);
	return err;
}

/* ---- reading ---- */

/* Case-insensitive (ASCII) search of needle in hay. */
static int ci_find(const char *hay, size_t hn, const char *needle, size_t nn)
{
	if (!nn)
		return 1;
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t j = 0;
		while (j < nn && (hay[i + j] | (hay[i + j] >= 'A' && hay[i + j] <= 'Z' ? 32 : 0)) ==
		                     (needle[j] | (needle[j] >= 'A' && needle[j] <= 'Z' ? 32 : 0)))
			j++;
		if (j == nn)
			return 1;
	}
	return 0;
}

static int matches(const history_query *q, const history_item *it)
{
	if (q->action >= 0 && it->action != q->action)
		return 0;
	if (it->score < q->min || it->score > q->max)
		return 0;
	return !q->q || ci_find(it->search, it->search_len, q->q, strlen(q->q));
}

/* Ids below `below` (0: all), newest first, up to max: into ids. */
static int page_ids(redisContext *c, uint64_t below, size_t max, uint64_t *ids, size_t *n)
{
	char top[32], cnt[24];
	redisReply *r;
	int err = 0;

	if (below)
		snprintf(top, sizeof(top), "(%llu", (unsigned long long)below);
	else
		snprintf(top, sizeof(top), "+inf");
	id_str(cnt, max);
	r = redisCommand(c, "ZREVRANGEBYSCORE %s %s -inf LIMIT 0 %s", K_IDS, top, cnt);
	*n = 0;
	if (!r || r->type != REDIS_REPLY_ARRAY)
		err = SS_EIO;
	for (size_t i = 0; !err && i < r->elements && *n < max; i++) {
		const redisReply *e = r->element[i];
		uint64_t id = e->type == REDIS_REPLY_STRING ? hr_id_parse(e->str, e->len) : 0;
		if (id && (!below || id < below))
			ids[(*n)++] = id;
	}
	freeReplyObject(r);
	return err;
}

/* HMGET key ids[0..n): the reply (an array of n) or NULL. */
static redisReply *hmget(redisContext *c, const char *key, const uint64_t *ids, size_t n)
{
	const char **a = malloc((n + 2) * sizeof(*a));
	size_t *l = malloc((n + 2) * sizeof(*l));
	char(*s)[24] = malloc((n ? n : 1) * sizeof(*s));
	redisReply *r = NULL;

	if (a && l && s) {
		a[0] = "HMGET", l[0] = 5, a[1] = key, l[1] = strlen(key);
		for (size_t i = 0; i < n; i++) {
			id_str(s[i], ids[i]);
			a[i + 2] = s[i], l[i + 2] = strlen(s[i]);
		}
		r = redisCommandArgv(c, (int)n + 2, a, l);
		if (r && (r->type != REDIS_REPLY_ARRAY || r->elements != n)) {
			freeReplyObject(r);
			r = NULL;
		}
	}
	free(a);
	free(l);
	free(s);
	return r;
}

static const redisReply *str_at(const redisReply *r, size_t i)
{
	const redisReply *e = r->element[i];

	return e->type == REDIS_REPLY_STRING ? e : NULL;
}

/* Appends {"id":N, summary members, "feedback":...}; the summary must be a
 * JSON object (it is skipped otherwise, returning 1). */
static int entry_json(uint64_t id, const redisReply *sum, const redisReply *fb, sbuf *out)
{
	int err;

	if (!sum || sum->len < 2 || sum->str[0] != '{' || sum->str[sum->len - 1] != '}')
		return 1;
	err = sbuf_addf(out, "{\"id\":%llu", (unsigned long long)id);
	if (!err && sum->len > 2)
		err = sbuf_addc(out, ',') || sbuf_add(out, sum->str + 1, sum->len - 2);
	if (!err && fb)
		err = sbuf_addc(out, ',') || json_kv_str(out, "feedback", fb->str, fb->len);
	else if (!err)
		err = sbuf_adds(out, ",\"feedback\":null");
	return err || sbuf_addc(out, '}') ? SS_ENOMEM : 0;
}

/* Writes the kept entries of one page: their summaries and feedback. */
static int emit(redisContext *c, const uint64_t *ids, size_t n, size_t *count, sbuf *out)
{
	redisReply *s, *f;
	int err = 0;

	if (!n)
		return 0;
	s = hmget(c, K_SUM, ids, n);
	f = s ? hmget(c, K_FB, ids, n) : NULL;
	if (!s || !f)
		err = SS_EIO;
	for (size_t i = 0; !err && i < n; i++) {
		size_t mark = out->len;
		if (*count && sbuf_addc(out, ','))
			err = SS_ENOMEM;
		else if ((err = entry_json(ids[i], str_at(s, i), str_at(f, i), out)) == 1)
			out->len = mark, err = 0; /* trimmed meanwhile, or malformed */
		else if (!err)
			(*count)++;
	}
	freeReplyObject(s);
	freeReplyObject(f);
	return err;
}

static int hr_list(history *base, const history_query *q, sbuf *out)
{
	hredis *h = (hredis *)base;
	redisContext *c = take(h, &h->rd);
	int plain = q->action < 0 && q->min == -HUGE_VAL && q->max == HUGE_VAL &&
	            (!q->q || !q->q[0]) && !q->since_ms;
	size_t want = plain && q->limit < SCAN_PAGE ? q->limit : SCAN_PAGE, count = 0, n = 0,
	       nk = 0;
	uint64_t *ids = malloc(SCAN_PAGE * sizeof(*ids)), *keep = malloc(SCAN_PAGE * sizeof(*keep));
	uint64_t below = q->before, last = 0;
	int err = !c ? SS_EIO : !ids || !keep ? SS_ENOMEM : sbuf_adds(out, "{\"entries\":[");
	int end = 0;

	while (!err && !end && count < q->limit) {
		redisReply *x;
		if ((err = page_ids(c, below, want, ids, &n)) || !n)
			break;
		if (!(x = hmget(c, K_IDX, ids, n))) {
			err = SS_EIO;
			break;
		}
		nk = 0;
		for (size_t i = 0; i < n && count + nk < q->limit; i++) {
			const redisReply *e = str_at(x, i);
			history_item it;
			below = ids[i];
			if (!e || hr_idx_decode(e->str, e->len, &it))
				continue;
			if (q->since_ms && it.time_ms < q->since_ms) {
				end = 1;
				break;
			}
			if (matches(q, &it))
				keep[nk++] = ids[i];
		}
		freeReplyObject(x);
		if (nk)
			last = keep[nk - 1];
		err = emit(c, keep, nk, &count, out);
		if (n < want || below <= 1)
			end = 1;
	}
	give(&h->rd, err == SS_EIO);
	free(ids);
	free(keep);
	if (err)
		return err;
	if (count == q->limit && last > 1)
		return sbuf_addf(out, "],\"next\":%llu}", (unsigned long long)last);
	return sbuf_adds(out, "],\"next\":null}");
}

static int hr_get(history *base, uint64_t id, sbuf *out)
{
	hredis *h = (hredis *)base;
	redisContext *c = take(h, &h->rd);
	redisReply *r[4] = {NULL, NULL, NULL, NULL};
	char ids[24];
	int err = c ? 0 : SS_EIO;

	id_str(ids, id);
	if (!err) {
		redisAppendCommand(c, "HGET %s %s", K_SUM, ids);
		redisAppendCommand(c, "HGET %s %s", K_FB, ids);
		redisAppendCommand(c, "HEXISTS %s %s", K_RAW, ids);
		redisAppendCommand(c, "HGET %s %s", K_DET, ids);
		err = drain(c, 4, r, 4);
	}
	if (!err && r[0]->type == REDIS_REPLY_NIL) {
		err = 1;
	} else if (!err) {
		const redisReply *fb = r[1]->type == REDIS_REPLY_STRING ? r[1] : NULL;
		if (r[0]->type != REDIS_REPLY_STRING || (err = entry_json(id, r[0], fb, out)) == 1)
			err = SS_ECORRUPT;
		if (!err) {
			out->len--; /* reopen the object */
			err = sbuf_addf(
			    out, ",\"raw_kept\":%s,\"result\":",
			    r[2]->type == REDIS_REPLY_INTEGER && r[2]->integer ? "true" : "false");
		}
		if (!err && r[3]->type == REDIS_REPLY_STRING && r[3]->len && r[3]->str[0] == '{')
			err = sbuf_add(out, r[3]->str, r[3]->len);
		else if (!err)
			err = sbuf_adds(out, "null");
		if (!err)
			err = sbuf_addc(out, '}');
	}
	for (int i = 0; i < 4; i++)
		freeReplyObject(r[i]);
	give(&h->rd, err == SS_EIO);
	return err;
}

static int hr_raw(history *base, uint64_t id, sbuf *raw, char *user, size_t ulen)
{
	hredis *h = (hredis *)base;
	redisContext *c = take(h, &h->rd);
	redisReply *r = NULL;
	char ids[24];
	size_t off, len;
	int err = c ? 0 : SS_EIO;

	id_str(ids, id);
	if (!err && bad_reply(r = redisCommand(c, "HGET %s %s", K_RAW, ids)))
		err = SS_EIO;
	else if (!err && r->type == REDIS_REPLY_NIL)
		err = 1;
	else if (!err && (r->type != REDIS_REPLY_STRING ||
	                  hr_raw_decode(r->str, r->len, user, ulen, &off, &len)))
		err = SS_ECORRUPT;
	else if (!err)
		err = sbuf_add(raw, r->str + off, len) ? SS_ENOMEM : 0;
	freeReplyObject(r);
	give(&h->rd, err == SS_EIO);
	return err;
}

static int hr_feedback(history *base, uint64_t id, const char *what)
{
	hredis *h = (hredis *)base;
	redisContext *c = take(h, &h->rd);
	redisReply *r = NULL;
	char ids[24];
	int err = c ? 0 : SS_EIO;

	id_str(ids, id);
	if (!err && bad_reply(r = redisCommand(c, "HEXISTS %s %s", K_IDX, ids)))
		err = SS_EIO;
	else if (!err && (r->type != REDIS_REPLY_INTEGER || !r->integer))
		err = 1;
	freeReplyObject(r);
	r = NULL;
	if (!err && bad_reply(r = redisCommand(c, "HSET %s %s %b", K_FB, ids, what,
	                                       strnlen(what, HISTORY_FEEDBACK_MAX))))
		err = SS_EIO;
	freeReplyObject(r);
	give(&h->rd, err == SS_EIO);
	return err;
}

static int hr_walk(history *base, int64_t since_ms, int (*cb)(void *, const history_item *),
                   void *ctx)
{
	hredis *h = (hredis *)base;
	redisContext *c = take(h, &h->rd);
	uint64_t *ids = malloc(SCAN_PAGE * sizeof(*ids)), below = 0;
	size_t n = 0;
	int err = !c ? SS_EIO : !ids ? SS_ENOMEM : 0, stop = 0, end = 0;

	while (!err && !stop && !end) {
		redisReply *x;
		if ((err = page_ids(c, below, SCAN_PAGE, ids, &n)) || !n)
			break;
		if (!(x = hmget(c, K_IDX, ids, n))) {
			err = SS_EIO;
			break;
		}
		for (size_t i = 0; i < n && !stop && !end; i++) {
			const redisReply *e = str_at(x, i);
			history_item it;
			below = ids[i];
			if (!e || hr_idx_decode(e->str, e->len, &it))
				continue;
			if (it.time_ms < since_ms) {
				end = 1;
				break;
			}
			it.id = ids[i];
			stop = cb(ctx, &it);
		}
		freeReplyObject(x);
		if (n < SCAN_PAGE || below <= 1)
			end = 1;
	}
	give(&h->rd, err == SS_EIO);
	free(ids);
	return stop ? stop : err;
}

static long long int_of(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return 0;
}

static uint64_t first_id(const redisReply *r)
{
	if (r->type != REDIS_REPLY_ARRAY || !r->elements || !str_at(r, 0))
		return 0;
	return hr_id_parse(r->element[0]->str, r->element[0]->len);
}

static int hr_info(history *base, history_info *o)
{
	hredis *h = (hredis *)base;
	redisContext *c = take(h, &h->rd);
	redisReply *r[5] = {NULL, NULL, NULL, NULL, NULL};
	int err = c ? 0 : SS_EIO;

	memset(o, 0, sizeof(*o));
	o->max_entries = h->max_entries;
	o->raw_budget = h->raw_budget;
	if (!err) {
		redisAppendCommand(c, "ZCARD %s", K_IDS);
		redisAppendCommand(c, "ZRANGE %s 0 0", K_IDS);
		redisAppendCommand(c, "ZRANGE %s -1 -1", K_IDS);
		redisAppendCommand(c, "HLEN %s", K_RAW);
		redisAppendCommand(c, "GET %s", K_RAWBYTES);
		err = drain(c, 5, r, 5);
	}
	if (!err) {
		long long b = int_of(r[4]);
		o->entries = (uint64_t)(int_of(r[0]) > 0 ? int_of(r[0]) : 0);
		o->oldest = first_id(r[1]);
		o->newest = first_id(r[2]);
		o->raw_entries = (uint64_t)(int_of(r[3]) > 0 ? int_of(r[3]) : 0);
		o->raw_bytes = b > 0 ? (uint64_t)b : 0;
	}
	for (int i = 0; i < 5; i++)
		freeReplyObject(r[i]);
	give(&h->rd, err == SS_EIO);
	return err;
}

static uint64_t hr_new_id(history *base)
{
	hredis *h = (hredis *)base;

	return hr_id_next(&h->ids, now_ms());
}

static void hr_close(history *base)
{
	hredis *h = (hredis *)base;

	if (h->wr.c)
		redisFree(h->wr.c);
	if (h->rd.c)
		redisFree(h->rd.c);
	pthread_mutex_destroy(&h->wr.mu);
	pthread_mutex_destroy(&h->rd.mu);
	explicit_bzero(&h->u, sizeof(h->u));
	explicit_bzero(&h->ru, sizeof(h->ru));
	explicit_bzero(h->seeds, sizeof(h->seeds));
	free(h);
}

static const history_ops hr_ops = {
    .name = "redis",
    .put = hr_put,
    .list = hr_list,
    .get = hr_get,
    .raw = hr_raw,
    .feedback = hr_feedback,
    .walk = hr_walk,
    .info = hr_info,
    .close = hr_close,
    .new_id = hr_new_id,
};

/* The daemon's node number: a counter in Redis (so daemons sharing it
 * differ), else the process's id and the time. */
static unsigned node_number(hredis *h)
{
	redisContext *c = take(h, &h->wr);
	redisReply *r = c ? redisCommand(c, "INCR %s", K_NODE) : NULL;
	unsigned node = r && r->type == REDIS_REPLY_INTEGER
	                    ? (unsigned)(r->integer & 63)
	                    : (unsigned)((unsigned)getpid() ^ (unsigned)now_ms()) & 63;

	give(&h->wr, !r);
	freeReplyObject(r);
	return node;
}

int history_redis_open(const history_redis_opts *o, history **out, const char **why)
{
	hredis *h = calloc(1, sizeof(*h));
	int ms = o->timeout_ms > 0 ? o->timeout_ms : 1000;

	*why = NULL;
	if (!h)
		return SS_ENOMEM;
	if (!o->url || redis_url_parse(o->url, strlen(o->url), &h->u, why)) {
		if (!*why)
			*why = "no Redis URL";
		free(h);
		return SS_EINVAL;
	}
	if (o->replica && redis_url_parse(o->replica, strlen(o->replica), &h->ru, why)) {
		explicit_bzero(&h->u, sizeof(h->u));
		free(h);
		return SS_EINVAL;
	}
	h->has_replica = o->replica != NULL;
	if (o->password_file &&
	    redis_read_password(o->password_file, h->u.pass, sizeof(h->u.pass))) {
		*why = "cannot read the Redis password file";
		explicit_bzero(&h->u, sizeof(h->u));
		explicit_bzero(&h->ru, sizeof(h->ru));
		free(h);
		return SS_EINVAL;
	}
	if (o->password_file && h->has_replica)
		memcpy(h->ru.pass, h->u.pass, sizeof(h->u.pass));
	for (size_t i = 0; i < o->nseeds && h->nseeds < HR_MAX_SEEDS; i++)
		if (!redis_url_parse(o->seeds[i], strlen(o->seeds[i]), &h->seeds[h->nseeds], why)) {
			if (o->password_file)
				memcpy(h->seeds[h->nseeds].pass, h->u.pass, sizeof(h->u.pass));
			h->nseeds++;
		}
	h->base.ops = &hr_ops;
	h->tv.tv_sec = ms / 1000;
	h->tv.tv_usec = (ms % 1000) * 1000;
	h->max_entries = o->max_entries;
	h->raw_budget = o->raw_budget;
	pthread_mutex_init(&h->wr.mu, NULL);
	pthread_mutex_init(&h->rd.mu, NULL);
	h->ids.node = node_number(h);
	*out = &h->base;
	return 0;
}
