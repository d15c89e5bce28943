/*
 * redis.c: the classifier's model on Redis (see store.h), for many filter
 * machines that learn together.
 *
 * Keys, per user (0 is the global model), all under one hash tag so that
 * one message's learn touches one slot:
 *   ss{u<ID>}:f  hash: 8-byte feature key (little-endian) -> 16 bytes
 *                (spam u32, ham u32, weight float, day u32, little-endian);
 *                a feature whose counts both fall to 0 is removed, and an
 *                n-gram slot (counts always 0) whose weight comes back to 0
 *                (as in lmdb.c)
 *   ss{u<ID>}:t  hash: spam, ham (the totals, integers)
 *   ss{u<ID>}:m  hash: 16-byte digest -> 21-byte message record
 *   ss{u0}:c     stream: the feature keys each write changed in the global
 *                model (field k: 8 bytes a key), about 5,000 entries kept
 *   ss{u0}:v     the model's format (MODEL_FORMAT), set by the first open
 *                of an empty model (see check_format)
 * and the user table ss{g}:uid (name -> id), ss{g}:uname (id -> name),
 * ss{g}:next (the last id given).
 *
 * Reads: a lookup of n features is one HMGET. Outside write transactions
 * reads of the global model come from the mirror when there is one
 * (redis_sync.c keeps it), others go to the replica when there is one,
 * through a direct-mapped local cache whose entries are at most stale_ms
 * old; when Redis cannot be reached, scans go on with what is local
 * (older entries included, absent features as zeroes) and degraded() says
 * so. A Cluster is routed by hand (redis_cluster.h).
 *
 * Writes are buffered per user and sent as one EVAL of a Lua script per
 * user (WRITE_LUA), before the next read of the transaction or at its
 * end: one script per learn. The script first
 * checks the message record read by get_msg is still what it was (absent
 * or the same bytes); when it is not, another machine learned the message
 * meanwhile and the batch is skipped. That check makes a batch safe to
 * send twice. A batch that cannot reach Redis is appended to the journal
 * (when one is set) with the learn's intent (store_ops.intent: the report
 * itself) and replayed, in order, before the next write once Redis
 * answers again: the registered redo (store_redis_set_redo) does the
 * report again against the model as it is then, on a handle of its own;
 * without one the batch is sent as it was. A user created while Redis is
 * down has a provisional id (RS_PROV_BIT) until the replay resolves its
 * name: nothing keyed by one is sent to Redis.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spamsift.h"
#include "store/redis_cluster.h"
#include "store/redis_internal.h"
#include "store/redis_mirror.h"
#include "store/redis_conn.h"
#include "store/redis_url.h"
#include "store/rjournal.h"
#include "store/rjrecord.h"
#include "store/store.h"
#include "util/clock.h"

#define FLUSH_AT (256u << 10) /* a user's pending writes sent once this big */
#define RETRY_MS 200          /* wait between attempts to reach a server that failed */

/* The write script: KEYS f, t, m, the change feed, and (on a lone server,
 * for a user's model) the notices; ARGV check digest ("" none), expected
 * record ("" absent), ops, the feed's length ("" no feed), and for a
 * user's model its id. The global model's feed keeps about 5,000 entries
 * (spamsiftd's mirror follows it); a user's keeps 32 and is gone after a
 * day without writes, and a write to it leaves the id in the notices,
 * so that a machine with copies of users' models reads one stream to tell
 * which changed (redis_sync.c). Returns 1 applied, 0 skipped (the check). */
static const char WRITE_LUA[] =
    "local f, t, m, ch = KEYS[1], KEYS[2], KEYS[3], {}\n"
    "local function each(list, step, fn)\n" /* fn over list in slices of step */
    "  for i = 1, #list, step do fn(unpack(list, i, math.min(i + step - 1, #list))) end\n"
    "end\n"
    "if ARGV[1] ~= '' then\n"
    "  local cur = redis.call('HGET', m, ARGV[1]) or ''\n"
    "  if cur ~= ARGV[2] then return 0 end\n"
    "end\n"
    "local b, p = ARGV[3], 1\n"
    "while p <= #b do\n"
    "  local k, n = string.sub(b, p, p), struct.unpack('<I', b, p + 1)\n"
    "  local s = p + 5\n"
    "  p = s + n\n"
    "  if k == 'U' then\n"
    "    local ds, dh, day = struct.unpack('<iiI', b, s)\n"
    "    local keys, dws, old, set, del = {}, {}, {}, {}, {}\n"
    "    for o = s + 12, p - 1, 12 do\n"
    "      keys[#keys + 1] = string.sub(b, o, o + 7)\n"
    "      dws[#dws + 1] = struct.unpack('<f', b, o + 8)\n"
    "    end\n"
    "    each(keys, 1000, function(...)\n"
    "      for _, v in ipairs(redis.call('HMGET', f, ...)) do old[#old + 1] = v end\n"
    "    end)\n"
    "    for i, key in ipairs(keys) do\n"
    "      ch[#ch + 1] = key\n"
    "      local v = old[i]\n"
    "      if v or (ds >= 0 and dh >= 0) then\n"
    "        local sp, hm, w = 0, 0, 0\n"
    "        if v then sp, hm, w = struct.unpack('<IIf', v) end\n"
    "        sp = math.max(sp + ds, 0)\n"
    "        hm = math.max(hm + dh, 0)\n"
    "        if sp == 0 and hm == 0 and (ds < 0 or dh < 0 or w + dws[i] == 0) then\n"
    "          del[#del + 1] = key\n"
    "        else\n"
    "          set[#set + 1] = key\n"
    "          set[#set + 1] = struct.pack('<IIfI', sp, hm, w + dws[i], day)\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "    each(set, 1000, function(...) redis.call('HSET', f, ...) end)\n"
    "    each(del, 1000, function(...) redis.call('HDEL', f, ...) end)\n"
    "  elseif k == 'T' then\n"
    "    local ds, dh = struct.unpack('<ii', b, s)\n"
    "    redis.call('HINCRBY', t, 'spam', ds)\n"
    "    redis.call('HINCRBY', t, 'ham', dh)\n"
    "  elseif k == 'P' then\n"
    "    redis.call('HSET', m, string.sub(b, s, s + 15), string.sub(b, s + 16, p - 1))\n"
    "  elseif k == 'D' then\n"
    "    redis.call('HDEL', m, string.sub(b, s, s + 15))\n"
    "  elseif k == 'F' then\n"
    "    for o = s, p - 1, 24 do\n"
    "      ch[#ch + 1] = string.sub(b, o, o + 7)\n"
    "      redis.call('HSET', f, string.sub(b, o, o + 7), string.sub(b, o + 8, o + 23))\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if ARGV[4] ~= '' and #ch > 0 then\n"
    "  local v = table.concat(ch)\n"
    "  if ARGV[5] then\n"
    "    redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[4], '*', 'k', v)\n"
    "    redis.call('PEXPIRE', KEYS[4], 86400000)\n"
    "    if KEYS[5] then\n"
    "      redis.call('XADD', KEYS[5], 'MAXLEN', '~', '10000', '*', 'u', ARGV[5])\n"
    "    end\n"
    "  else\n"
    "    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'k', v)\n"
    "  end\n"
    "end\n"
    "return 1\n";

/* Finds or makes a user id: KEYS uid, uname, next; ARGV name. */
static const char USER_LUA[] = "local id = redis.call('HGET', KEYS[1], ARGV[1])\n"
                               "if id then return tonumber(id) end\n"
                               "id = redis.call('INCR', KEYS[3])\n"
                               "redis.call('HSET', KEYS[1], ARGV[1], id)\n"
                               "redis.call('HSET', KEYS[2], id, ARGV[1])\n"
                               "return id\n";

static store_redis_stats stats; /* this process's, atomically updated */

#define STAT_ADD(f, n) __atomic_add_fetch(&stats.f, (n), __ATOMIC_RELAXED)

void store_redis_stats_get(store_redis_stats *st)
{
	st->cache_reads = __atomic_load_n(&stats.cache_reads, __ATOMIC_RELAXED);
	st->journaled = __atomic_load_n(&stats.journaled, __ATOMIC_RELAXED);
	st->replayed = __atomic_load_n(&stats.replayed, __ATOMIC_RELAXED);
	st->journal_full = __atomic_load_n(&stats.journal_full, __ATOMIC_RELAXED);
	st->journal_bytes = __atomic_load_n(&stats.journal_bytes, __ATOMIC_RELAXED);
	st->redone = __atomic_load_n(&stats.redone, __ATOMIC_RELAXED);
	st->user_copies = __atomic_load_n(&stats.user_copies, __ATOMIC_RELAXED);
	st->user_bytes = __atomic_load_n(&stats.user_bytes, __ATOMIC_RELAXED);
}

void rs_note_users(size_t n, size_t bytes)
{
	__atomic_store_n(&stats.user_copies, (uint64_t)n, __ATOMIC_RELAXED);
	__atomic_store_n(&stats.user_bytes, (uint64_t)bytes, __ATOMIC_RELAXED);
}

static void note_journal_size(rjournal *j)
{
	__atomic_store_n(&stats.journal_bytes, (uint64_t)rjournal_size(j), __ATOMIC_RELAXED);
}

/* ---- byte order ---- */

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t rs_get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void lef(uint8_t *p, float f)
{
	uint32_t v;

	memcpy(&v, &f, 4);
	le32(p, v);
}

static float get_lef(const uint8_t *p)
{
	uint32_t v = get_le32(p);
	float f;

	memcpy(&f, &v, 4);
	return f;
}

static void pack_stat(uint8_t *p, const feat_stat *st)
{
	le32(p, st->spam);
	le32(p + 4, st->ham);
	lef(p + 8, st->w);
	le32(p + 12, st->day);
}

void rs_unpack_stat(const uint8_t *p, feat_stat *st)
{
	st->spam = get_le32(p);
	st->ham = get_le32(p + 4);
	st->w = get_lef(p + 8);
	st->day = get_le32(p + 12);
}

static void pack_rec(uint8_t *p, const msg_rec *r)
{
	p[0] = r->is_spam;
	le32(p + 1, r->nfeat);
	lef(p + 5, r->step);
	lef(p + 9, r->gstep);
	le64(p + 13, (uint64_t)r->time);
}

static void unpack_rec(const uint8_t *p, msg_rec *r)
{
	r->is_spam = p[0];
	r->nfeat = get_le32(p + 1);
	r->step = get_lef(p + 5);
	r->gstep = get_lef(p + 9);
	r->time = (int64_t)rs_get_le64(p + 13);
}

static void key_name(char *buf, size_t cap, uint32_t user, char kind)
{
	snprintf(buf, cap, "ss{u%u}:%c", user, kind);
}

/* ---- connections ---- */

/* The primary's (write) or the read connection, (re)connected when it
 * is time to try; NULL when unreachable. */
static redisContext *conn(rstore *rs, int write)
{
	int replica = !write && rs->sh->has_replica;
	redisContext **c = replica ? &rs->rc : &rs->wc;
	int64_t *retry = replica ? &rs->r_retry : &rs->w_retry;
	const char *why;

	if (*c)
		return *c;
	if (ss_mono_ms() < *retry)
		return NULL;
	if (!(*c = redis_dial(replica ? &rs->sh->r : &rs->sh->w, rs->sh->timeout_ms, &why)))
		*retry = ss_mono_ms() + RETRY_MS;
	return *c;
}

/* Cluster: the connection to node i of the slot map (the credentials of
 * the seed URL), (re)connected when it is time to try. */
static redisContext *node_conn(rstore *rs, int i)
{
	redis_url u = rs->sh->w;
	const char *why;

	if (rs->nc[i])
		return rs->nc[i];
	if (ss_mono_ms() < rs->nretry[i])
		return NULL;
	snprintf(u.host, sizeof(u.host), "%s", rs->map.nodes[i].host);
	u.port = rs->map.nodes[i].port;
	u.db = 0;
	if (!(rs->nc[i] = redis_dial(&u, rs->sh->timeout_ms, &why)))
		rs->nretry[i] = ss_mono_ms() + RETRY_MS;
	return rs->nc[i];
}

/* Drops a connection that failed (a reply lost: the stream is unusable). */
static void conn_drop(rstore *rs, redisContext *c)
{
	if (c == rs->wc)
		rs->wc = NULL, rs->w_retry = ss_mono_ms() + RETRY_MS;
	if (c == rs->rc)
		rs->rc = NULL, rs->r_retry = ss_mono_ms() + RETRY_MS;
	for (size_t i = 0; i < rs->map.nnodes; i++)
		if (c == rs->nc[i])
			rs->nc[i] = NULL, rs->nretry[i] = ss_mono_ms() + RETRY_MS;
	redisFree(c);
}

/* Whether r is an error that passes (LOADING after a restart, BUSY,
 * READONLY or MASTERDOWN during a fail-over, OOM, TRYAGAIN...): anything
 * but ERR and WRONGTYPE, which say the command itself is wrong. */
static int reply_transient(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR && strncmp(r->str, "ERR", 3) &&
	       strncmp(r->str, "WRONGTYPE", 9);
}

/* The key a command names: EVAL's first key, else its first argument. */
static unsigned command_slot(const char **argv, const size_t *lens)
{
	int k = !strcmp(argv[0], "EVAL") ? 3 : 1;

	return rc_key_slot(argv[k], lens[k]);
}

/* Follows a MOVED (the map learns it) or an ASK (once, after ASKING).
 * Returns 1 when r was one (node set to where to ask next), 0 if not. */
static int redirected(rstore *rs, const redisReply *r, unsigned slot, int *node, int *asking)
{
	char host[RC_HOST];
	unsigned rslot;
	int ask, port, i;

	if (r->type != REDIS_REPLY_ERROR ||
	    rc_parse_redirect(r->str, r->len, &ask, &rslot, host, sizeof(host), &port) ||
	    (i = rc_node_index(&rs->map, host, port)) < 0)
		return 0;
	if (!ask && rslot == slot)
		rs->map.slot_node[slot] = (uint8_t)i;
	*node = i;
	*asking = ask;
	return 1;
}

/* One [lo, hi, [host, port, ...], ...] entry of CLUSTER SLOTS. */
static int slot_range(rc_map *m, const redisReply *e)
{
	const redisReply *n;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
	    e->element[0]->type != REDIS_REPLY_INTEGER ||
	    e->element[1]->type != REDIS_REPLY_INTEGER ||
	    (n = e->element[2])->type != REDIS_REPLY_ARRAY || n->elements < 2 ||
	    n->element[0]->type != REDIS_REPLY_STRING || n->element[1]->type != REDIS_REPLY_INTEGER)
		return -1;
	return rc_map_range(m, (unsigned)e->element[0]->integer, (unsigned)e->element[1]->integer,
	                    n->element[0]->str, (int)n->element[1]->integer);
}

/* Cluster: asks the other nodes for the slot map again, after node dead
 * did not answer (a fail-over may have moved its slots to a replica); at
 * most every RETRY_MS. Node indices stay (connections are kept by them). */
static void refresh_map(rstore *rs, int dead)
{
	if (ss_mono_ms() < rs->map_retry)
		return;
	rs->map_retry = ss_mono_ms() + RETRY_MS;
	for (size_t i = 0; i < rs->map.nnodes; i++) {
		redisContext *c = (int)i == dead ? NULL : node_conn(rs, (int)i);
		redisReply *r = c ? redisCommand(c, "CLUSTER SLOTS") : NULL;
		rc_map m = rs->map;
		int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements;
		if (c && !r)
			conn_drop(rs, c);
		for (size_t k = 0; ok && k < r->elements; k++)
			ok = !slot_range(&m, r->element[k]);
		freeReplyObject(r);
		if (ok) {
			rs->map = m;
			return;
		}
	}
}

/* Runs one command where its key lives (the replica for reads when set,
 * outside write transactions; the slot's master on a Cluster) and returns
 * its reply; NULL when Redis cannot be reached or cannot take it now. */
static redisReply *exec(rstore *rs, int write, int argc, const char **argv, const size_t *lens)
{
	unsigned slot = rs->sh->cluster ? command_slot(argv, lens) : 0;
	int node = rs->map.slot_node[slot], asking = 0;

	for (int hop = 0; hop < 5; hop++) {
		redisContext *c = rs->sh->cluster ? node_conn(rs, node) : conn(rs, write);
		redisReply *r = NULL;
		if (c && asking && (r = redisCommand(c, "ASKING")))
			freeReplyObject(r);
		if (c && !(r = redisCommandArgv(c, argc, argv, lens)))
			conn_drop(rs, c);
		if (!r && rs->sh->cluster && !asking) {
			refresh_map(rs, node); /* a fail-over? */
			if (rs->map.slot_node[slot] != node) {
				node = rs->map.slot_node[slot];
				continue;
			}
		}
		if (!r)
			return NULL;
		if (rs->sh->cluster && redirected(rs, r, slot, &node, &asking)) {
			freeReplyObject(r);
			continue;
		}
		if (reply_transient(r)) {
			freeReplyObject(r);
			conn_drop(rs, c);
			return NULL;
		}
		return r;
	}
	return NULL;
}

/* ---- pending writes ---- */

static rstore *handle_new(rshared *sh);

static rgroup *group_of(rstore *rs, uint32_t user)
{
	for (size_t i = 0; i < rs->ng; i++)
		if (rs->g[i].user == user)
			return &rs->g[i];
	if (rs->ng == rs->gcap) {
		size_t cap = rs->gcap ? rs->gcap * 2 : 4;
		rgroup *g = realloc(rs->g, cap * sizeof(*g));
		if (!g)
			return NULL;
		rs->g = g;
		rs->gcap = cap;
	}
	memset(&rs->g[rs->ng], 0, sizeof(rgroup));
	rs->g[rs->ng].user = user;
	return &rs->g[rs->ng++];
}

/* Adds an op (kind, then payload of len bytes) and returns its payload. */
static uint8_t *group_op(rgroup *g, char kind, size_t len)
{
	uint8_t *p;

	if (g->len + 5 + len > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		while (cap < g->len + 5 + len)
			cap *= 2;
		if (!(p = realloc(g->ops, cap)))
			return NULL;
		g->ops = p;
		g->cap = cap;
	}
	p = g->ops + g->len;
	p[0] = (uint8_t)kind;
	le32(p + 1, (uint32_t)len);
	g->len += 5 + len;
	return p + 5;
}

/* The journal record of a group: its batch (when it has writes) and its
 * intent (when the learner told one), see rjrecord.h. */
static uint8_t *group_record(const rgroup *g, size_t *len)
{
	rj_record r = {.has_batch = g->len > 0,
	               .user = g->user,
	               .has_check = g->has_check,
	               .digest = g->digest,
	               .expect_len = g->expect_len,
	               .expect = g->expect,
	               .ops = g->ops,
	               .ops_len = g->len};

	return rj_encode(&r, g->intent, g->intent_len, len);
}

/* The batch of a decoded record as a group (ops point into the record). */
static void group_from_record(const rj_record *r, rgroup *g)
{
	memset(g, 0, sizeof(*g));
	g->user = r->user;
	g->has_check = r->has_check;
	memcpy(g->digest, r->digest, STORE_DIGEST);
	g->expect_len = r->expect_len;
	memcpy(g->expect, r->expect, REC_LEN);
	g->ops = (uint8_t *)r->ops;
	g->len = r->ops_len;
}

/* Cluster: the notice that user's model changed, apart from its write
 * (another slot); lost when this fails, which the sync threads' sweep
 * covers (redis_sync.c). */
static void notice(rstore *rs, uint32_t user)
{
	char id[16];
	const char *argv[8] = {"XADD", "ss{g}:uc", "MAXLEN", "~", "10000", "*", "u", id};
	size_t lens[8] = {4, 8, 6, 1, 5, 1, 1, 0};
	redisReply *r;

	lens[7] = (size_t)snprintf(id, sizeof(id), "%u", user);
	if ((r = exec(rs, 1, 8, argv, lens)))
		freeReplyObject(r);
}

/* Sends the EVAL that applies g: 0 done (applied, or skipped by its
 * check), SS_EIO when Redis cannot be reached or cannot take it now,
 * SS_ECORRUPT when Redis refused it. */
static int eval_group(rstore *rs, const rgroup *g)
{
	char f[32], t[32], m[32], c[32], id[16];
	const char *argv[13] = {"EVAL", WRITE_LUA, "4", f, t, m, c};
	size_t lens[13] = {4, sizeof(WRITE_LUA) - 1, 1};
	int k = 7, notices = g->user && !rs->sh->cluster, err;
	redisReply *r;

	if (rs_provisional(g->user))
		return SS_EIO; /* never sent: journaled until its name is resolved */
	key_name(f, sizeof(f), g->user, 'f');
	key_name(t, sizeof(t), g->user, 't');
	key_name(m, sizeof(m), g->user, 'm');
	key_name(c, sizeof(c), g->user, 'c');
	for (int i = 3; i < 7; i++)
		lens[i] = strlen(argv[i]);
	if (notices) {
		argv[2] = "5";
		argv[k] = "ss{g}:uc", lens[k++] = 8;
	}
	argv[k] = (const char *)g->digest, lens[k++] = g->has_check ? STORE_DIGEST : 0;
	argv[k] = (const char *)g->expect, lens[k++] = g->expect_len;
	argv[k] = (const char *)g->ops, lens[k++] = g->len;
	argv[k] = g->user ? "32" : "5000", lens[k] = strlen(argv[k]), k++;
	if (g->user)
		argv[k] = id, lens[k++] = (size_t)snprintf(id, sizeof(id), "%u", g->user);
	if (!(r = exec(rs, 1, k, argv, lens)))
		return SS_EIO;
	err = r->type == REDIS_REPLY_INTEGER ? 0 : SS_ECORRUPT;
	if (err)
		fprintf(stderr, "spamsift: redis refused a write: %.200s\n",
		        r->type == REDIS_REPLY_ERROR ? r->str : "(unexpected reply)");
	else if (g->user && rs->sh->cluster && r->integer)
		notice(rs, g->user);
	freeReplyObject(r);
	return err;
}

static void groups_clear(rstore *rs)
{
	for (size_t i = 0; i < rs->ng; i++) {
		free(rs->g[i].ops);
		free(rs->g[i].intent);
	}
	rs->ng = 0;
}

/* Whether g must go to the journal even when Redis answers: its batch was
 * made without its message's record (get_msg could not read it) or for a
 * provisional user; its intent is redone at replay. */
static int must_journal(const rgroup *g)
{
	return g->intent && (g->unsure || rs_provisional(g->user));
}

/* Appends g to the journal. */
static int journal_group(rstore *rs, const rgroup *g)
{
	size_t len;
	uint8_t *p;
	int err;

	if (!rs->sh->j || rs->is_replay)
		return SS_EIO;
	if (!(p = group_record(g, &len)))
		return SS_ENOMEM;
	err = rjournal_append(rs->sh->j, p, len);
	if (err == SS_EBUSY) {
		STAT_ADD(journal_full, 1);
		fprintf(stderr, "spamsift: redis: the learn journal is full; a learn is lost\n");
	} else if (!err) {
		STAT_ADD(journaled, 1);
	}
	free(p);
	return err;
}

/* Puts the pending groups from the from-th on that have writes into the
 * journal. */
static int journal_groups(rstore *rs, size_t from)
{
	int err = 0;

	for (size_t i = from; !err && i < rs->ng; i++)
		if (rs->g[i].len || must_journal(&rs->g[i]))
			err = journal_group(rs, &rs->g[i]);
	return err;
}

/* The handle replays write with (made at the first; its reads and writes
 * never replay nor journal). Called under the journal's mutex. */
static rstore *replay_handle(rshared *sh)
{
	rstore *h;

	if (sh->rh)
		return sh->rh;
	if (!(h = handle_new(sh)))
		return NULL;
	__atomic_sub_fetch(&sh->refs, 1, __ATOMIC_RELAXED); /* shared_put frees it */
	free(h->cache);
	h->cache = NULL;
	h->is_replay = 1;
	return sh->rh = h;
}

/* Redoes the report of record r with the registered redo (redo_mu held). */
static int redo_record(rshared *sh, rstore *h, const rj_record *r)
{
	char name[RJ_MAX_NAME + 1];
	uint64_t *keys = malloc((r->nkeys ? r->nkeys : 1) * sizeof(*keys));
	store_intent in = {name, r->idigest, r->action, keys, r->nkeys, r->ntok};
	int err;

	if (!keys)
		return SS_ENOMEM;
	memcpy(name, r->name, r->name_len);
	name[r->name_len] = 0;
	for (size_t i = 0; i < r->nkeys; i++)
		keys[i] = rj_key(r, i);
	err = sh->redo(sh->redo_ctx, &h->base, &in);
	free(keys);
	if (!err)
		STAT_ADD(redone, 1);
	return err;
}

/* Sends the batch of r as it was made; a provisional user's id is first
 * resolved from the intent's name. */
static int replay_batch(rstore *h, const rj_record *r)
{
	char name[RJ_MAX_NAME + 1];
	rgroup g;
	int rc;

	if (!r->has_batch) { /* an unlearn made while Redis was down */
		fprintf(stderr, "spamsift: redis learn journal: an unlearn cannot be redone here "
		                "(no learner registered), dropped\n");
		return 0;
	}
	group_from_record(r, &g);
	if (rs_provisional(g.user)) {
		if (!r->has_intent || !r->name_len)
			return SS_ECORRUPT;
		memcpy(name, r->name, r->name_len);
		name[r->name_len] = 0;
		if ((rc = h->base.ops->user_id(&h->base, name, 1, &g.user)) <= 0)
			return rc ? rc : SS_ECORRUPT;
	}
	return eval_group(h, &g);
}

static int replay_one(void *ctx, const uint8_t *p, size_t len)
{
	rshared *sh = ctx;
	rstore *h = replay_handle(sh);
	rj_record r;
	int err;

	if (!h)
		return SS_ENOMEM;
	if (rj_decode(p, len, &r)) {
		fprintf(stderr, "spamsift: redis learn journal: a damaged record skipped\n");
		return 0;
	}
	pthread_mutex_lock(&sh->redo_mu);
	err = r.has_intent && sh->redo ? redo_record(sh, h, &r) : replay_batch(h, &r);
	pthread_mutex_unlock(&sh->redo_mu);
	if (!err)
		STAT_ADD(replayed, 1);
	if (err && err != SS_EIO && err != SS_ENOMEM)
		fprintf(stderr, "spamsift: redis learn journal: a learn refused (%s), dropped\n",
		        ss_strerror(err));
	return err == SS_EIO || err == SS_ENOMEM ? err : 0; /* refused: it never will be */
}

/* Replays the journal when it holds anything; 0 when it is empty after. */
static int journal_replay(rstore *rs)
{
	int err;

	if (!rs->sh->j || rs->is_replay || !rjournal_size(rs->sh->j))
		return 0;
	err = rjournal_replay(rs->sh->j, replay_one, rs->sh);
	note_journal_size(rs->sh->j);
	return err;
}

/* Sends the pending writes, one EVAL per user. What cannot reach Redis
 * goes to the journal (when there is one), behind what waits there, and
 * so do batches made without their message's record (must_journal).
 * Returns 0, or SS_EIO (no journal), SS_EBUSY (journal full),
 * SS_ECORRUPT (refused). */
static int flush(rstore *rs)
{
	size_t i = 0, writes = 0;
	int err = 0;

	for (size_t k = 0; k < rs->ng; k++)
		writes += rs->g[k].len > 0 || must_journal(&rs->g[k]);
	if (!writes)
		return 0; /* only checks noted by get_msg: they wait for their writes */
	if (journal_replay(rs))
		err = SS_EIO; /* keep the order: behind what waits */
	for (; !err && i < rs->ng; i++)
		if (must_journal(&rs->g[i]))
			err = journal_group(rs, &rs->g[i]);
		else if (rs->g[i].len)
			err = eval_group(rs, &rs->g[i]);
	if (err == SS_EIO)
		err = journal_groups(rs, i ? i - 1 : 0);
	if (rs->sh->j && !rs->is_replay) /* a replay holds the journal's lock */
		note_journal_size(rs->sh->j);
	groups_clear(rs);
	return err;
}

/* ---- cache ---- */

static size_t cslot(uint32_t user, uint64_t key)
{
	uint64_t h = (key ^ ((uint64_t)user * 0x9E3779B97F4A7C15ULL)) * 0xff51afd7ed558ccdULL;

	return (size_t)(h >> 40) & (CACHE_SLOTS - 1);
}

/* The cached entry for (user, key) when it is at most max_age old, else NULL. */
static centry *cache_get(rstore *rs, uint32_t user, uint64_t key, int64_t now, int64_t max_age)
{
	centry *e;

	if (!rs->cache)
		return NULL;
	e = &rs->cache[cslot(user, key)];
	return e->valid && e->user == user && e->key == key && now - e->at <= max_age ? e : NULL;
}

static void cache_put(rstore *rs, uint32_t user, uint64_t key, const feat_stat *st, int64_t now)
{
	if (rs->cache)
		rs->cache[cslot(user, key)] = (centry){key, user, 1, now, *st};
}

/* ---- reads ---- */

/* Sends the pending writes, then one command, and returns its reply;
 * NULL when Redis cannot be reached or a write could not be kept. */
redisReply *rs_command(rstore *rs, int write, int argc, const char **argv, const size_t *lens)
{
	return flush(rs) ? NULL : exec(rs, write || rs->in_write, argc, argv, lens);
}

/* One HMGET of the features keys[idx[0..m)] of user into out[idx[i]],
 * after the pending writes. SS_EIO when Redis cannot be reached. */
int rs_hmget(rstore *rs, uint32_t user, const uint64_t *keys, const size_t *idx, size_t m,
             feat_stat *out)
{
	const char **argv = malloc((m + 2) * sizeof(*argv));
	size_t *lens = malloc((m + 2) * sizeof(*lens));
	uint8_t *kb = malloc(m * 8 + 1);
	char name[32];
	redisReply *r = NULL;
	int err = SS_ENOMEM;

	if (!argv || !lens || !kb)
		goto out;
	key_name(name, sizeof(name), user, 'f');
	argv[0] = "HMGET", lens[0] = 5, argv[1] = name, lens[1] = strlen(name);
	for (size_t i = 0; i < m; i++) {
		le64(kb + 8 * i, keys[idx[i]]);
		argv[i + 2] = (const char *)kb + 8 * i;
		lens[i + 2] = 8;
	}
	err = SS_EIO;
	if (!(r = rs_command(rs, 0, (int)m + 2, argv, lens)))
		goto out;
	err = SS_ECORRUPT;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != m)
		goto out;
	for (size_t i = 0; i < m; i++) {
		redisReply *e = r->element[i];
		feat_stat *st = &out[idx[i]];
		*st = (feat_stat){0, 0, 0, 0};
		if (e->type == REDIS_REPLY_STRING && e->len == STAT_LEN)
			rs_unpack_stat((const uint8_t *)e->str, st);
	}
	err = 0;
out:
	freeReplyObject(r);
	free(argv);
	free(lens);
	free(kb);
	return err;
}

/* Scans of a user's model read its copy (asked for, and waited for up to
 * user_wait_ms, the first time): 1 when answered, from the copy or, when
 * it is not there yet, as empty (degraded: the global model alone); 0
 * when the model is too big for a copy (Redis is read). */
static int user_copy_read(rstore *rs, uint32_t user, const uint64_t *keys, size_t n, feat_stat *out,
                          clf_totals *tot)
{
	int64_t at = -1;

	if (user != rs->unready)
		at = rusers_lookup(rs->sh->users, user, keys, n, out, tot, rs->sh->user_wait_ms);
	if (at == RUSERS_TOO_BIG)
		return 0; /* no copy for so big a model: read Redis */
	if (at < 0) {
		rs->unready = user; /* its totals too, in this transaction */
		for (size_t i = 0; i < n; i++)
			out[i] = (feat_stat){0, 0, 0, 0};
		*tot = (clf_totals){0, 0};
	}
	if (at < 0 || ss_mono_ms() - at > rs->sh->stale_ms) {
		rs->degraded = 1;
		STAT_ADD(cache_reads, 1);
	}
	return 1;
}

/* Scans read the copies spamsiftd keeps (the global model's mirror when it
 * is ready, users' copies): 1 when answered (degraded when the last sync
 * is older than the bound), 0 when Redis must be read. */
static int mirror_read(rstore *rs, uint32_t user, const uint64_t *keys, size_t n, feat_stat *out,
                       clf_totals *tot)
{
	int64_t at;

	if (rs->in_write || !rs->sh->mirror || rs->is_mirror)
		return 0;
	if (user)
		return rs->sh->users ? user_copy_read(rs, user, keys, n, out, tot) : 0;
	if ((at = rmirror_lookup(rs->sh->mirror, keys, n, out, tot)) < 0)
		return 0;
	if (ss_mono_ms() - at > rs->sh->stale_ms) {
		rs->degraded = 1;
		STAT_ADD(cache_reads, 1);
	}
	return 1;
}

static int r_lookup(store *s, uint32_t user, const uint64_t *keys, size_t n, size_t ntok,
                    feat_stat *out)
{
	rstore *rs = (rstore *)s;
	int64_t now = ss_mono_ms(), age = rs->in_write ? -1 : rs->sh->stale_ms;
	size_t *miss, m = 0;
	clf_totals tot;
	int err = 0;

	if (rs_provisional(user)) { /* a user Redis has not seen yet */
		memset(out, 0, n * sizeof(*out));
		rs->degraded = 1;
		return 0;
	}
	if (mirror_read(rs, user, keys, n, out, &tot))
		return 0;
	if (!(miss = malloc((n ? n : 1) * sizeof(*miss))))
		return SS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		centry *e = cache_get(rs, user, keys[i], now, age);
		if (e)
			out[i] = e->st;
		else
			miss[m++] = i;
	}
	if (m && !(err = rs_hmget(rs, user, keys, miss, m, out))) {
		for (size_t i = 0; i < m; i++)
			cache_put(rs, user, keys[miss[i]], &out[miss[i]], now);
	} else if (m) {
		if (err != SS_EIO || (rs->in_write && !rs->sh->j)) {
			free(miss);
			return err;
		}
		rs->degraded = 1; /* the mirror, the cache however old, or nothing */
		STAT_ADD(cache_reads, 1);
		if (!user && rs->sh->mirror && !rs->is_mirror &&
		    rmirror_lookup(rs->sh->mirror, keys, n, out, &tot) >= 0) {
			free(miss);
			return 0;
		}
		for (size_t i = 0; i < m; i++) {
			centry *e = cache_get(rs, user, keys[miss[i]], now, INT64_MAX / 2);
			out[miss[i]] = e ? e->st : (feat_stat){0, 0, 0, 0};
		}
		err = 0;
	}
	free(miss);
	return err;
}

static long long reply_int(const redisReply *r)
{
	if (r && r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
}

int rs_totals(store *s, uint32_t user, clf_totals *t)
{
	rstore *rs = (rstore *)s;
	tentry *e = &rs->tot[user % TOT_SLOTS];
	int64_t now = ss_mono_ms();
	char name[32];
	const char *argv[4] = {"HMGET", name, "spam", "ham"};
	size_t lens[4] = {5, 0, 4, 3};
	redisReply *r;

	if (rs_provisional(user)) { /* a user Redis has not seen yet */
		*t = (clf_totals){0, 0};
		rs->degraded = 1;
		return 0;
	}
	if (mirror_read(rs, user, NULL, 0, NULL, t))
		return 0;
	if (!rs->in_write && e->valid && e->user == user && now - e->at <= rs->sh->stale_ms) {
		*t = e->t;
		return 0;
	}
	key_name(name, sizeof(name), user, 't');
	lens[1] = strlen(name);
	if (!(r = rs_command(rs, 0, 4, argv, lens))) {
		if (rs->in_write && !rs->sh->j)
			return SS_EIO;
		rs->degraded = 1;
		*t = e->valid && e->user == user ? e->t : (clf_totals){0, 0};
		return 0;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
		long long sp = reply_int(r->element[0]), hm = reply_int(r->element[1]);
		t->spam = sp > 0 ? (uint64_t)sp : 0;
		t->ham = hm > 0 ? (uint64_t)hm : 0;
	} else {
		*t = (clf_totals){0, 0};
	}
	freeReplyObject(r);
	*e = (tentry){user, 1, now, *t};
	return 0;
}

static int r_get_msg(store *s, uint32_t user, const uint8_t *digest, msg_rec *out)
{
	rstore *rs = (rstore *)s;
	char name[32];
	const char *argv[3] = {"HGET", name, (const char *)digest};
	size_t lens[3] = {4, 0, STORE_DIGEST};
	redisReply *r;
	rgroup *g;
	int found, unknown;

	key_name(name, sizeof(name), user, 'm');
	lens[1] = strlen(name);
	r = rs_provisional(user) ? NULL : rs_command(rs, 0, 3, argv, lens);
	if (!r && (!rs->in_write || !rs->sh->j || rs->is_replay))
		return SS_EIO;
	/* r NULL: Redis down while learning: taken as not learned yet; the
	 * batch is journaled with its intent, which is redone at replay. */
	unknown = !r;
	found = r && r->type == REDIS_REPLY_STRING && r->len == REC_LEN;
	if (found)
		unpack_rec((const uint8_t *)r->str, out);
	if (rs->in_write && (g = group_of(rs, user))) {
		g->unsure = unknown;
		g->has_check = 1;
		memcpy(g->digest, digest, STORE_DIGEST);
		g->expect_len = found ? REC_LEN : 0;
		if (found)
			memcpy(g->expect, r->str, REC_LEN);
	}
	freeReplyObject(r);
	return unknown ? STORE_MSG_UNKNOWN : found;
}

/* ---- writes ---- */

/* Keeps what the learn's writes mean with its user's pending group, for
 * the journal (it is not sent to Redis). */
static int r_intent(store *s, uint32_t user, const store_intent *in)
{
	rstore *rs = (rstore *)s;
	const char *name = in->user_name ? in->user_name : "";
	rgroup *g;

	if (!rs->sh->j || rs->is_replay || (user && !*name) || strlen(name) > RJ_MAX_NAME ||
	    in->ntok > in->n)
		return 0; /* no journal, or no name to redo it with: its batch only */
	if (!(g = group_of(rs, user)))
		return SS_ENOMEM;
	free(g->intent);
	if (!(g->intent = rj_intent_encode(in->action, in->digest, in->keys, in->n, in->ntok, name,
	                                   &g->intent_len)))
		return SS_ENOMEM;
	return 0;
}

/* The pending group of user, flushed first when it has grown big. */
static rgroup *wgroup(rstore *rs, uint32_t user, int *err)
{
	rgroup *g = group_of(rs, user);

	*err = 0;
	if (g && g->len > FLUSH_AT) {
		if ((*err = flush(rs)))
			return NULL;
		g = group_of(rs, user);
	}
	if (!g && !*err)
		*err = SS_ENOMEM;
	return g;
}

static int r_update(store *s, uint32_t user, const uint64_t *keys, size_t n, int dspam, int dham,
                    const float *dw, uint32_t day)
{
	int err;
	rgroup *g = wgroup((rstore *)s, user, &err);
	uint8_t *p = g ? group_op(g, 'U', 12 + 12 * n) : NULL;

	if (!p)
		return err ? err : SS_ENOMEM;
	le32(p, (uint32_t)dspam);
	le32(p + 4, (uint32_t)dham);
	le32(p + 8, dspam || dham ? day : 0); /* a weight-only change dates nothing */
	for (size_t i = 0; i < n; i++) {
		le64(p + 12 + 12 * i, keys[i]);
		lef(p + 20 + 12 * i, dw[i]);
	}
	return 0;
}

static int r_add_totals(store *s, uint32_t user, int dspam, int dham)
{
	int err;
	rgroup *g = wgroup((rstore *)s, user, &err);
	uint8_t *p = g ? group_op(g, 'T', 8) : NULL;

	if (!p)
		return err ? err : SS_ENOMEM;
	le32(p, (uint32_t)dspam);
	le32(p + 4, (uint32_t)dham);
	return 0;
}

static int r_put_msg(store *s, uint32_t user, const uint8_t *digest, const msg_rec *r)
{
	int err;
	rgroup *g = wgroup((rstore *)s, user, &err);
	uint8_t *p = g ? group_op(g, 'P', STORE_DIGEST + REC_LEN) : NULL;

	if (!p)
		return err ? err : SS_ENOMEM;
	memcpy(p, digest, STORE_DIGEST);
	pack_rec(p + STORE_DIGEST, r);
	return 0;
}

static int r_del_msg(store *s, uint32_t user, const uint8_t *digest)
{
	int err;
	rgroup *g = wgroup((rstore *)s, user, &err);
	uint8_t *p = g ? group_op(g, 'D', STORE_DIGEST) : NULL;

	if (!p)
		return err ? err : SS_ENOMEM;
	memcpy(p, digest, STORE_DIGEST);
	return 0;
}

static int r_put_feat(store *s, uint32_t user, uint64_t key, const feat_stat *st)
{
	int err;
	rgroup *g = wgroup((rstore *)s, user, &err);
	uint8_t *p = g ? group_op(g, 'F', 8 + STAT_LEN) : NULL;

	if (!p)
		return err ? err : SS_ENOMEM;
	le64(p, key);
	pack_stat(p + 8, st);
	return 0;
}

/* ---- users ---- */

static size_t name_slot(const char *name)
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % NAME_SLOTS;
}

/* Scans find a user's id in spamsiftd's copy of the user table, asked for
 * and waited for up to user_wait_ms when it is not known (or it is an
 * absence older than stale_ms); when no answer comes in time, an older
 * one, or none (degraded). */
static int name_read(rstore *rs, const char *name, uint32_t *id)
{
	int stale, rc = rusers_name(rs->sh->users, name, id, rs->sh->stale_ms, rs->sh->user_wait_ms,
	                            &stale);

	if (rc >= 0)
		return rc;
	rs->degraded = 1;
	STAT_ADD(cache_reads, 1);
	return stale > 0 ? 1 : 0; /* with stale 1, *id holds the old id */
}

/* A provisional id for name (a new user while Redis is down, in a write
 * transaction with a journal: its batches are journaled with the name,
 * which the replay resolves); SS_EIO when none can be given. */
static int provisional_id(rstore *rs, const char *name, uint32_t *id)
{
	size_t slot;

	if (!rs->sh->j || !rs->in_write || rs->is_replay || strlen(name) > RJ_MAX_NAME)
		return SS_EIO; /* (a name too long for a journal record) */
	for (size_t i = 0; i < PROV_SLOTS; i++)
		if (rs->prov[i].name && !strcmp(rs->prov[i].name, name)) {
			*id = rs->prov[i].id;
			return 1;
		}
	*id = RS_PROV_BIT | (++rs->prov_next & ~RS_PROV_BIT);
	slot = *id % PROV_SLOTS;
	free(rs->prov[slot].name);
	if (!(rs->prov[slot].name = strdup(name)))
		return SS_ENOMEM;
	rs->prov[slot].id = *id;
	return 1;
}

static int r_user_id(store *s, const char *name, int create, uint32_t *id)
{
	rstore *rs = (rstore *)s;
	size_t slot = name_slot(name);
	const char *argv[7] = {"EVAL",        USER_LUA,     "3", "ss{g}:uid",
	                       "ss{g}:uname", "ss{g}:next", name};
	size_t lens[7] = {4, sizeof(USER_LUA) - 1, 1, 9, 11, 10, strlen(name)};
	redisReply *r;
	long long v;

	if (rs->names[slot].name && !strcmp(rs->names[slot].name, name)) {
		*id = rs->names[slot].id;
		return 1;
	}
	if (!create && !rs->in_write && rs->sh->users && !rs->is_mirror)
		return name_read(rs, name, id);
	r = create ? rs_command(rs, 1, 7, argv, lens)
	           : rs_command(rs, 0, 3, (const char *[]){"HGET", "ss{g}:uid", name},
	                        (size_t[]){4, 9, lens[6]});
	if (!r)
		return create ? provisional_id(rs, name, id) : SS_EIO;
	v = r->type == REDIS_REPLY_ERROR ? -1 : reply_int(r);
	freeReplyObject(r);
	if (v < 0 || v > UINT32_MAX)
		return SS_ECORRUPT;
	*id = (uint32_t)v;
	if (v > 0) {
		free(rs->names[slot].name);
		rs->names[slot].name = strdup(name);
		rs->names[slot].id = *id;
	}
	return v > 0;
}

/* ---- walk ---- */

/* HSCANs hash `name` calling fn for each field/value pair. */
int rs_hscan(rstore *rs, const char *name,
             int (*fn)(void *, const redisReply *, const redisReply *), void *ctx)
{
	char cursor[32] = "0";
	int rc = 0;

	do {
		const char *argv[6] = {"HSCAN", name, cursor, "COUNT", "1000"};
		size_t lens[6] = {5, strlen(name), strlen(cursor), 5, 4};
		redisReply *r = rs_command(rs, 0, 5, argv, lens);
		if (!r)
			return SS_EIO;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return SS_ECORRUPT;
		}
		snprintf(cursor, sizeof(cursor), "%s",
		         r->element[0]->str ? r->element[0]->str : "0");
		for (size_t i = 0; !rc && i + 1 < r->element[1]->elements; i += 2)
			rc = fn(ctx, r->element[1]->element[i], r->element[1]->element[i + 1]);
		freeReplyObject(r);
	} while (!rc && strcmp(cursor, "0"));
	return rc;
}

typedef struct walk_ctx {
	const store_walker *w;
	uint32_t user;
	rstore *rs;
} walk_ctx;

static int walk_feat(void *ctx, const redisReply *k, const redisReply *v)
{
	walk_ctx *x = ctx;
	feat_stat st;

	if (k->len != 8 || v->len != STAT_LEN)
		return 0;
	rs_unpack_stat((const uint8_t *)v->str, &st);
	return x->w->feat(x->w->ctx, x->user, rs_get_le64((const uint8_t *)k->str), &st);
}

static int walk_msg(void *ctx, const redisReply *k, const redisReply *v)
{
	walk_ctx *x = ctx;
	msg_rec r;

	if (k->len != STORE_DIGEST || v->len != REC_LEN)
		return 0;
	unpack_rec((const uint8_t *)v->str, &r);
	return x->w->msg(x->w->ctx, x->user, (const uint8_t *)k->str, &r);
}

static int walk_user(walk_ctx *x, uint32_t id, const char *name)
{
	char key[32];
	clf_totals t;
	int rc;

	x->user = id;
	if (x->w->user &&
	    ((rc = rs_totals(&x->rs->base, id, &t)) || (rc = x->w->user(x->w->ctx, id, name, &t))))
		return rc;
	key_name(key, sizeof(key), id, 'f');
	if (x->w->feat && (rc = rs_hscan(x->rs, key, walk_feat, x)))
		return rc;
	key_name(key, sizeof(key), id, 'm');
	return x->w->msg ? rs_hscan(x->rs, key, walk_msg, x) : 0;
}

typedef struct user_list {
	uint32_t *ids;
	char **names;
	size_t n, cap;
} user_list;

static int list_user(void *ctx, const redisReply *k, const redisReply *v)
{
	user_list *l = ctx;
	long long id = reply_int(k);

	if (id <= 0 || id > UINT32_MAX || v->type != REDIS_REPLY_STRING)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		uint32_t *ids = realloc(l->ids, cap * sizeof(*ids));
		char **names = ids ? realloc(l->names, cap * sizeof(*names)) : NULL;
		if (ids)
			l->ids = ids;
		if (!names)
			return SS_ENOMEM;
		l->names = names;
		l->cap = cap;
	}
	if (!(l->names[l->n] = strndup(v->str, v->len)))
		return SS_ENOMEM;
	l->ids[l->n++] = (uint32_t)id;
	return 0;
}

static int r_walk(store *s, const store_walker *w)
{
	rstore *rs = (rstore *)s;
	walk_ctx x = {w, 0, rs};
	user_list l = {0};
	int rc = flush(rs);

	if (!rc)
		rc = walk_user(&x, 0, "");
	if (!rc)
		rc = rs_hscan(rs, "ss{g}:uname", list_user, &l);
	for (size_t i = 0; !rc && i < l.n; i++)
		rc = walk_user(&x, l.ids[i], l.names[i]);
	for (size_t i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.ids);
	free(l.names);
	return rc;
}

/* ---- transactions, handles ---- */

/* Sends what waits in the journal when Redis answers again; at most
 * every RETRY_MS while it does not. */
static void journal_try(rstore *rs)
{
	if (!rs->sh->j || rs->is_replay || !rjournal_size(rs->sh->j) || ss_mono_ms() < rs->j_retry)
		return;
	rs->j_retry = ss_mono_ms() + RETRY_MS;
	journal_replay(rs);
}

static int r_begin(store *s, int write)
{
	rstore *rs = (rstore *)s;

	journal_try(rs);
	rs->in_write = write;
	rs->degraded = 0; /* set by this transaction's reads */
	rs->unready = 0;
	return 0;
}

static int r_end(store *s, int commit)
{
	rstore *rs = (rstore *)s;
	int err = 0;

	if (commit)
		err = flush(rs);
	groups_clear(rs);
	rs->in_write = 0;
	return err;
}

static int r_degraded(store *s)
{
	return ((rstore *)s)->degraded;
}

/* Frees a handle but not what it shares. */
static void handle_free(rstore *rs)
{
	groups_clear(rs);
	free(rs->g);
	free(rs->cache);
	for (size_t i = 0; i < NAME_SLOTS; i++)
		free(rs->names[i].name);
	for (size_t i = 0; i < PROV_SLOTS; i++)
		free(rs->prov[i].name);
	redisFree(rs->wc);
	redisFree(rs->rc);
	for (size_t i = 0; i < rs->map.nnodes; i++)
		redisFree(rs->nc[i]);
	free(rs);
}

static void shared_put(rshared *sh)
{
	if (__atomic_sub_fetch(&sh->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		if (sh->mh) {
			__atomic_store_n(&sh->mstop, 1, __ATOMIC_RELEASE);
			pthread_join(sh->mthread, NULL);
			handle_free(sh->mh);
		}
		if (sh->rh)
			handle_free(sh->rh);
		rmirror_free(sh->mirror);
		rusers_free(sh->users);
		rjournal_close(sh->j);
		pthread_mutex_destroy(&sh->redo_mu);
		free(sh);
	}
}

static void r_close(store *s)
{
	rstore *rs = (rstore *)s;
	rshared *sh = rs->sh;

	handle_free(rs);
	shared_put(sh);
}

static int r_dup(store *s, store **out);

static const store_ops redis_ops = {r_close,   r_begin,      r_end,     r_lookup,  r_update,
                                    rs_totals, r_add_totals, r_get_msg, r_put_msg, r_del_msg,
                                    r_user_id, r_put_feat,   r_walk,    r_dup,     r_degraded,
                                    r_intent,  NULL};

void store_redis_set_redo(store *s, store_redo_fn redo, void *ctx)
{
	rshared *sh;

	if (!s || s->ops != &redis_ops)
		return;
	sh = ((rstore *)s)->sh;
	pthread_mutex_lock(&sh->redo_mu);
	sh->redo = redo;
	sh->redo_ctx = ctx;
	pthread_mutex_unlock(&sh->redo_mu);
}

void store_redis_clear_redo(store *s, void *ctx)
{
	rshared *sh;

	if (!s || s->ops != &redis_ops)
		return;
	sh = ((rstore *)s)->sh;
	pthread_mutex_lock(&sh->redo_mu);
	if (sh->redo_ctx == ctx) {
		sh->redo = NULL;
		sh->redo_ctx = NULL;
	}
	pthread_mutex_unlock(&sh->redo_mu);
}

/* A new handle over sh (a reference taken). */
static rstore *handle_new(rshared *sh)
{
	rstore *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	if (sh->stale_ms >= 0 && !(rs->cache = calloc(CACHE_SLOTS, sizeof(centry)))) {
		free(rs);
		return NULL;
	}
	rs->base.ops = &redis_ops;
	rs->sh = sh;
	rs->map = sh->map;
	__atomic_add_fetch(&sh->refs, 1, __ATOMIC_RELAXED);
	return rs;
}

static int r_dup(store *s, store **out)
{
	rstore *rs = handle_new(((rstore *)s)->sh);

	*out = rs ? &rs->base : NULL;
	return rs ? 0 : SS_ENOMEM;
}

#define OPEN_ERR(...) (o->error && o->error_len ? snprintf(o->error, o->error_len, __VA_ARGS__) : 0)

static int parse_urls(const store_redis_opts *o, rshared *sh)
{
	const char *why;

	if (!o->url || redis_url_parse(o->url, strlen(o->url), &sh->w, &why))
		return OPEN_ERR("redis URL: %s", o->url ? why : "none"), SS_ESYNTAX;
	if (o->replica_url && redis_url_parse(o->replica_url, strlen(o->replica_url), &sh->r, &why))
		return OPEN_ERR("redis replica URL: %s", why),
		       SS_ESYNTAX; /* not echoed: a password */
	sh->has_replica = o->replica_url != NULL;
	for (size_t i = 0; i < o->nseeds; i++) {
		redis_url u;
		if (redis_url_parse(o->seeds[i], strlen(o->seeds[i]), &u, &why))
			return OPEN_ERR("redis URL %zu: %s", i + 2, why), SS_ESYNTAX;
	}
	if (o->password_file) {
		char pw[REDIS_URL_SECRET];
		if (redis_read_password(o->password_file, pw, sizeof(pw)))
			return OPEN_ERR(
			           "redis password file %.200s: cannot read a password from it",
			           o->password_file),
			       SS_ESYNTAX;
		memcpy(sh->w.pass, pw, sizeof(pw));
		if (sh->has_replica)
			memcpy(sh->r.pass, pw, sizeof(pw));
	}
	return 0;
}

static int open_journal(const store_redis_opts *o, rshared *sh)
{
	size_t dropped;
	int err;

	if (!o->journal)
		return 0;
	if ((err = rjournal_open(o->journal, o->journal_max, &sh->j, &dropped)))
		return OPEN_ERR("redis learn journal %.200s: %s", o->journal,
		                err == SS_EIO ? strerror(errno) : ss_strerror(err)),
		       err;
	note_journal_size(sh->j);
	if (dropped)
		fprintf(stderr, "spamsift: redis learn journal %s: %zu damaged bytes cut off\n",
		        o->journal, dropped);
	return 0;
}

/* Starts the sync thread of the global model's mirror, with a handle of
 * its own that holds no reference (shared_put stops it). */
static int start_mirror(rshared *sh, size_t user_bytes)
{
	if (!(sh->mirror = rmirror_new()) || !(sh->users = rusers_new(user_bytes)) ||
	    !(sh->mh = handle_new(sh)))
		return SS_ENOMEM;
	__atomic_sub_fetch(&sh->refs, 1, __ATOMIC_RELAXED);
	free(sh->mh->cache);
	sh->mh->cache = NULL;
	sh->mh->is_mirror = 1;
	if (pthread_create(&sh->mthread, NULL, rs_mirror_main, sh)) {
		handle_free(sh->mh);
		sh->mh = NULL;
		return SS_ENOMEM;
	}
	return 0;
}

/* Whether the server at c is a Cluster node (1: sh->map filled from
 * CLUSTER SLOTS), a lone server (0), or answers nonsense (-1). */
static int cluster_probe(redisContext *c, rshared *sh)
{
	redisReply *r = redisCommand(c, "CLUSTER SLOTS");
	int rc = 0;

	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY) {
		rc = r->elements ? 1 : -1; /* a cluster without slots cannot serve */
		for (size_t i = 0; rc == 1 && i < r->elements; i++)
			if (slot_range(&sh->map, r->element[i]))
				rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

/* Connects to the first of url and the seeds that answers, which becomes
 * sh->w (the password file's password applies to each). */
static redisContext *connect_first(const store_redis_opts *o, rshared *sh, const char **why)
{
	redisContext *c = redis_dial(&sh->w, sh->timeout_ms, why);

	for (size_t i = 0; !c && i < o->nseeds; i++) {
		redis_url u;
		const char *pwhy;
		if (redis_url_parse(o->seeds[i], strlen(o->seeds[i]), &u, &pwhy))
			continue; /* parse_urls refused it already */
		if (o->password_file)
			memcpy(u.pass, sh->w.pass, sizeof(u.pass));
		if ((c = redis_dial(&u, sh->timeout_ms, why)))
			sh->w = u;
	}
	return c;
}

#define MODEL_FORMAT "3"

/* One command of at most 4 NUL-terminated words (see rs_command). */
static redisReply *words(rstore *rs, int write, int argc, const char **argv)
{
	size_t lens[4];

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return rs_command(rs, write, argc, argv, lens);
}

/* Whether the reply is an integer > 0 (EXISTS found a key). */
static int some(redisReply *r)
{
	int yes = r && r->type == REDIS_REPLY_INTEGER && r->integer > 0;

	freeReplyObject(r);
	return yes;
}

/* Reads the model's format mark, ss{u0}:v, and sets it on a model that
 * has nothing yet. A model with data and no mark was written by a spamsift
 * before format 3, whose 4-grams were features of their own: this one
 * would keep them forever and never read them, so it is refused, as
 * lmdb.c refuses an older store. Asked of the primary (not a replica,
 * which may lag). Returns 0, SS_EIO (Redis did not answer)
 * or SS_ECORRUPT (*found: the mark found, "" for none). */
static int check_format(rstore *rs, char *found, size_t cap)
{
	char v[32], t[32], f[32];
	redisReply *r;
	int err = SS_EIO, old;

	key_name(v, sizeof(v), 0, 'v');
	key_name(t, sizeof(t), 0, 't');
	key_name(f, sizeof(f), 0, 'f');
	r = words(rs, 1, 2, (const char *[]){"GET", v});
	*found = 0;
	if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL))
		goto out;
	if (r->type == REDIS_REPLY_STRING) {
		snprintf(found, cap, "%.*s", (int)(r->len < 16 ? r->len : 16), r->str);
		err = strcmp(found, MODEL_FORMAT) ? SS_ECORRUPT : 0;
		goto out;
	}
	old = some(words(rs, 1, 3, (const char *[]){"EXISTS", t, f})) ||
	      some(words(rs, 1, 2, (const char *[]){"EXISTS", "ss{g}:next"}));
	if (old) {
		err = SS_ECORRUPT;
		goto out;
	}
	freeReplyObject(r);
	r = words(rs, 1, 4, (const char *[]){"SET", v, MODEL_FORMAT, "NX"});
	err = r && r->type != REDIS_REPLY_ERROR ? 0 : SS_EIO;
out:
	freeReplyObject(r);
	return err;
}

int store_redis_open(const store_redis_opts *o, store **out)
{
	rshared *sh = calloc(1, sizeof(*sh));
	rstore *rs = NULL;
	const char *why = NULL;
	char found[20];
	redisContext *c;
	int err;

	*out = NULL;
	if (!sh)
		return SS_ENOMEM;
	pthread_mutex_init(&sh->redo_mu, NULL);
	sh->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 1000;
	sh->stale_ms = o->stale_ms ? o->stale_ms : 1000;
	sh->user_wait_ms = o->user_wait_ms > 0 ? o->user_wait_ms : o->user_wait_ms ? 0 : 50;
	if ((err = parse_urls(o, sh)) || (err = open_journal(o, sh)))
		goto fail;
	if (!(c = connect_first(o, sh, &why))) {
		OPEN_ERR("redis %s:%d%s: %s", sh->w.host, sh->w.port,
		         o->nseeds ? " and the other URLs" : "", why);
		err = SS_EIO;
		goto fail;
	}
	if ((sh->cluster = cluster_probe(c, sh)) < 0 ||
	    (sh->cluster && (sh->has_replica || sh->w.db)) || (!sh->cluster && o->nseeds)) {
		OPEN_ERR("redis %s:%d: %s", sh->w.host, sh->w.port,
		         sh->cluster < 0 ? "a cluster whose slots cannot be read"
		         : sh->cluster
		             ? "a cluster has no database number and no --redis-replica "
		               "(its replicas follow their masters)"
		             : "not a Cluster node: several redis URLs name a Cluster's nodes");
		redisFree(c);
		err = SS_ESYNTAX;
		goto fail;
	}
	err = SS_ENOMEM;
	if (!(rs = handle_new(sh))) {
		redisFree(c);
		goto fail;
	}
	if (sh->cluster)
		redisFree(c); /* nodes are reached through the slot map */
	else
		rs->wc = c;
	if ((err = check_format(rs, found, sizeof(found)))) {
		if (err == SS_EIO)
			OPEN_ERR("redis %s:%d: the model's format mark cannot be read or set",
			         sh->w.host, sh->w.port);
		else
			OPEN_ERR("redis %s:%d: a model format this spamsift does not read (%s%s); "
			         "learn the mail again into an empty database, or import a backup "
			         "exported by this version",
			         sh->w.host, sh->w.port,
			         *found ? "format " : "an older format, unmarked", found);
		r_close(&rs->base);
		return err;
	}
	if (o->mirror && sh->stale_ms >= 0 &&
	    start_mirror(sh, o->user_cache_bytes ? o->user_cache_bytes : (size_t)256 << 20)) {
		r_close(&rs->base); /* c is the handle's now, or freed */
		return SS_ENOMEM;
	}
	*out = &rs->base;
	return 0;
fail:
	rjournal_close(sh->j);
	pthread_mutex_destroy(&sh->redo_mu);
	free(sh);
	return err;
}
