/*
 * lmdb.c: the embedded history backend (see history.h) on LMDB.
 *
 * Four named databases keyed by the id (8 bytes, big-endian, so that key
 * order is id order): "sum" (a fixed head with time, score, latency and
 * action, then the search text and the summary JSON), "det" (the detail
 * JSON), "raw" (the user name and message bytes, while within the byte
 * budget) and "fb" (the operator's feedback word). Listing walks "sum"
 * backwards and touches nothing else but "fb". Commits use MDB_NOMETASYNC:
 * a crash may lose the last commit, never the store. When entries are
 * larger than the file was sized for (MDB_MAP_FULL), the oldest tenth is
 * dropped and the batch written again.
 */
#include "history/history.h"

#include <ctype.h>
#include <errno.h>
#include <lmdb.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spamsift.h"
#include "util/json.h"

typedef struct sum_head {
	int64_t time_ms;
	double score, scan_ms;
	int32_t action;
	uint32_t search_len;
} sum_head;

typedef struct hlmdb {
	history base;
	MDB_env *env;
	MDB_dbi sum, det, raw, fb;
	uint64_t max_entries, raw_budget;
	uint64_t raw_bytes; /* guarded by LMDB's writer lock */
} hlmdb;

static void put_key(uint8_t k[8], uint64_t id)
{
	for (int i = 7; i >= 0; i--, id >>= 8)
		k[i] = (uint8_t)id;
}

static uint64_t get_key(const MDB_val *v)
{
	uint64_t id = 0;

	for (size_t i = 0; i < 8 && i < v->mv_size; i++)
		id = id << 8 | ((const uint8_t *)v->mv_data)[i];
	return id;
}

static int lmdb_err(int rc)
{
	return rc == ENOMEM                               ? SS_ENOMEM
	       : rc == MDB_CORRUPTED || rc == MDB_INVALID ? SS_ECORRUPT
	                                                  : SS_EIO;
}

/* Deletes id from every database (raw bytes subtracted). */
static int drop_id(hlmdb *h, MDB_txn *t, uint64_t id)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v;
	int rc;

	put_key(k, id);
	if (!mdb_get(t, h->raw, &key, &v)) {
		h->raw_bytes -= v.mv_size < h->raw_bytes ? v.mv_size : h->raw_bytes;
		if ((rc = mdb_del(t, h->raw, &key, NULL)))
			return rc;
	}
	rc = mdb_del(t, h->sum, &key, NULL);
	if (!rc || rc == MDB_NOTFOUND)
		rc = mdb_del(t, h->det, &key, NULL);
	if (!rc || rc == MDB_NOTFOUND)
		rc = mdb_del(t, h->fb, &key, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The id of the first (oldest) key of dbi, 0 when empty. */
static int first_id(MDB_txn *t, MDB_dbi dbi, uint64_t *id)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(t, dbi, &c);

	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	*id = rc ? 0 : get_key(&k);
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Drops the oldest entries over max_entries, then the oldest raw bytes
 * over the budget. */
static int trim(hlmdb *h, MDB_txn *t)
{
	MDB_stat st;
	uint64_t id;
	int rc = mdb_stat(t, h->sum, &st);

	for (size_t n = st.ms_entries; !rc && n > h->max_entries; n--)
		if (!(rc = first_id(t, h->sum, &id)) && id)
			rc = drop_id(h, t, id);
	while (!rc && h->raw_bytes > h->raw_budget) {
		uint8_t k[8];
		MDB_val key = {8, k}, v;
		if ((rc = first_id(t, h->raw, &id)) || !id)
			break;
		put_key(k, id);
		if (!(rc = mdb_get(t, h->raw, &key, &v))) {
			h->raw_bytes -= v.mv_size < h->raw_bytes ? v.mv_size : h->raw_bytes;
			rc = mdb_del(t, h->raw, &key, NULL);
		}
	}
	return rc;
}

static int put_one(hlmdb *h, MDB_txn *t, const history_rec *r)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v;
	sum_head hd = {r->time_ms, r->score, r->scan_ms, r->action, (uint32_t)r->search_len};
	size_t ul = r->user ? strlen(r->user) : 0;
	int rc;

	put_key(k, r->id);
	v.mv_size = sizeof(hd) + r->search_len + r->summary_len;
	if ((rc = mdb_put(t, h->sum, &key, &v, MDB_RESERVE)))
		return rc;
	memcpy(v.mv_data, &hd, sizeof(hd));
	memcpy((char *)v.mv_data + sizeof(hd), r->search, r->search_len);
	memcpy((char *)v.mv_data + sizeof(hd) + r->search_len, r->summary, r->summary_len);
	v.mv_size = r->detail_len;
	v.mv_data = r->detail;
	if ((rc = mdb_put(t, h->det, &key, &v, 0)) || !r->raw)
		return rc;
	v.mv_size = 1 + ul + r->raw_len;
	if ((rc = mdb_put(t, h->raw, &key, &v, MDB_RESERVE)))
		return rc;
	((uint8_t *)v.mv_data)[0] = (uint8_t)ul;
	if (ul)
		memcpy((char *)v.mv_data + 1, r->user, ul);
	memcpy((char *)v.mv_data + 1 + ul, r->raw, r->raw_len);
	h->raw_bytes += v.mv_size;
	return 0;
}

/* Writes one batch and trims, in one transaction; an LMDB code. */
static int put_batch(hlmdb *h, history_rec *const *recs, size_t n)
{
	uint64_t before = h->raw_bytes;
	MDB_txn *t = NULL;
	int rc = mdb_txn_begin(h->env, NULL, 0, &t);

	for (size_t i = 0; !rc && i < n; i++)
		rc = put_one(h, t, recs[i]);
	if (!rc)
		rc = trim(h, t);
	if (!rc)
		rc = mdb_txn_commit(t); /* frees t either way */
	else if (t)
		mdb_txn_abort(t);
	if (rc)
		h->raw_bytes = before;
	return rc;
}

/* The file is full (entries larger than the map was sized for): drops the
 * oldest tenth of the entries, at least one. An LMDB code. */
static int make_room(hlmdb *h)
{
	uint64_t before = h->raw_bytes, id;
	MDB_txn *t = NULL;
	MDB_stat st;
	int rc = mdb_txn_begin(h->env, NULL, 0, &t);

	if (!rc)
		rc = mdb_stat(t, h->sum, &st);
	for (size_t k = rc ? 0 : st.ms_entries / 10 + 1; !rc && k > 0; k--)
		if (!(rc = first_id(t, h->sum, &id)) && id)
			rc = drop_id(h, t, id);
	if (!rc)
		rc = mdb_txn_commit(t);
	else if (t)
		mdb_txn_abort(t);
	if (rc)
		h->raw_bytes = before;
	return rc;
}

static int hl_put(history *base, history_rec *const *recs, size_t n)
{
	hlmdb *h = (hlmdb *)base;
	int rc = put_batch(h, recs, n);

	for (int i = 0; rc == MDB_MAP_FULL && i < 5 && !make_room(h); i++)
		rc = put_batch(h, recs, n);
	return rc ? lmdb_err(rc) : 0;
}

/* Case-insensitive (ASCII) search of needle in hay. */
static int ci_find(const char *hay, size_t hn, const char *needle, size_t nn)
{
	if (!nn)
		return 1;
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t j = 0;
		while (j < nn &&
		       tolower((unsigned char)hay[i + j]) == tolower((unsigned char)needle[j]))
			j++;
		if (j == nn)
			return 1;
	}
	return 0;
}

/* Splits a "sum" value into its head, search text and JSON. */
static int split_sum(const MDB_val *v, sum_head *hd, const char **search, const char **json,
                     size_t *jlen)
{
	if (v->mv_size < sizeof(*hd))
		return -1;
	memcpy(hd, v->mv_data, sizeof(*hd));
	if (hd->search_len > v->mv_size - sizeof(*hd))
		return -1;
	*search = (const char *)v->mv_data + sizeof(*hd);
	*json = *search + hd->search_len;
	*jlen = v->mv_size - sizeof(*hd) - hd->search_len;
	return *jlen >= 2 ? 0 : -1;
}

static int matches(const history_query *q, const sum_head *hd, const char *search)
{
	if (q->action >= 0 && hd->action != q->action)
		return 0;
	if (hd->score < q->min || hd->score > q->max)
		return 0;
	return !q->q || ci_find(search, hd->search_len, q->q, strlen(q->q));
}

/* The entry's JSON: {"id":N, summary members, "feedback":...}. */
static int entry_json(hlmdb *h, MDB_txn *t, const MDB_val *k, const char *json, size_t jlen,
                      sbuf *out)
{
	MDB_val fk = *k, fv;
	int err = sbuf_addf(out, "{\"id\":%llu,", (unsigned long long)get_key(k));

	if (!err)
		err = sbuf_add(out, json + 1, jlen - 2); /* without its braces */
	if (!err && !mdb_get(t, h->fb, &fk, &fv))
		err = sbuf_addc(out, ',') || json_kv_str(out, "feedback", fv.mv_data, fv.mv_size);
	else if (!err)
		err = sbuf_adds(out, ",\"feedback\":null");
	return err ? SS_ENOMEM : sbuf_addc(out, '}');
}

/* Places c on the newest entry below q->before. */
static int seek_before(MDB_cursor *c, uint64_t before, MDB_val *k, MDB_val *v)
{
	uint8_t kb[8];
	int rc;

	if (!before)
		return mdb_cursor_get(c, k, v, MDB_LAST);
	put_key(kb, before);
	k->mv_size = 8;
	k->mv_data = kb;
	rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return mdb_cursor_get(c, k, v, MDB_LAST);
	return rc ? rc : mdb_cursor_get(c, k, v, MDB_PREV);
}

static int hl_list(history *base, const history_query *q, sbuf *out)
{
	hlmdb *h = (hlmdb *)base;
	MDB_txn *t = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t last = 0;
	size_t n = 0;
	int rc, err = sbuf_adds(out, "{\"entries\":[");

	if (err || (rc = mdb_txn_begin(h->env, NULL, MDB_RDONLY, &t)))
		return err ? err : SS_EIO;
	if (!(rc = mdb_cursor_open(t, h->sum, &c)))
		rc = seek_before(c, q->before, &k, &v);
	for (; !rc && !err && n < q->limit; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		sum_head hd;
		const char *search, *json;
		size_t jlen;
		if (split_sum(&v, &hd, &search, &json, &jlen))
			continue;
		if (q->since_ms && hd.time_ms < q->since_ms)
			break;
		if (!matches(q, &hd, search))
			continue;
		if (n++ && (err = sbuf_addc(out, ',')))
			break;
		err = entry_json(h, t, &k, json, jlen, out);
		last = get_key(&k);
	}
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(t);
	if (err || (rc && rc != MDB_NOTFOUND))
		return err ? err : lmdb_err(rc);
	if (n == q->limit && last > 1)
		return sbuf_addf(out, "],\"next\":%llu}", (unsigned long long)last);
	return sbuf_adds(out, "],\"next\":null}");
}

static int hl_get(history *base, uint64_t id, sbuf *out)
{
	hlmdb *h = (hlmdb *)base;
	uint8_t kb[8];
	MDB_val k = {8, kb}, v, d, r;
	MDB_txn *t;
	sum_head hd;
	const char *search, *json;
	size_t jlen;
	int rc, err = 0;

	put_key(kb, id);
	if ((rc = mdb_txn_begin(h->env, NULL, MDB_RDONLY, &t)))
		return lmdb_err(rc);
	rc = mdb_get(t, h->sum, &k, &v);
	if (!rc && split_sum(&v, &hd, &search, &json, &jlen))
		rc = MDB_CORRUPTED;
	if (!rc) {
		err = entry_json(h, t, &k, json, jlen, out);
		if (!err)
			out->len--; /* reopen the object */
		if (!err)
			err = sbuf_addf(out, ",\"raw_kept\":%s,\"result\":",
			                mdb_get(t, h->raw, &k, &r) ? "false" : "true");
		if (!err && !mdb_get(t, h->det, &k, &d))
			err = sbuf_add(out, d.mv_data, d.mv_size);
		else if (!err)
			err = sbuf_adds(out, "null");
		if (!err)
			err = sbuf_addc(out, '}');
	}
	mdb_txn_abort(t);
	if (rc == MDB_NOTFOUND)
		return 1;
	return err ? err : rc ? lmdb_err(rc) : 0;
}

static int hl_raw(history *base, uint64_t id, sbuf *raw, char *user, size_t ulen)
{
	hlmdb *h = (hlmdb *)base;
	uint8_t kb[8];
	MDB_val k = {8, kb}, v;
	MDB_txn *t;
	int rc, err = 0;

	put_key(kb, id);
	if ((rc = mdb_txn_begin(h->env, NULL, MDB_RDONLY, &t)))
		return lmdb_err(rc);
	if (!(rc = mdb_get(t, h->raw, &k, &v))) {
		const uint8_t *p = v.mv_data;
		size_t ul = v.mv_size ? p[0] : 0;
		if (!v.mv_size || 1 + ul > v.mv_size || ul >= ulen) {
			rc = MDB_CORRUPTED;
		} else {
			memcpy(user, p + 1, ul);
			user[ul] = 0;
			err = sbuf_add(raw, p + 1 + ul, v.mv_size - 1 - ul);
		}
	}
	mdb_txn_abort(t);
	if (rc == MDB_NOTFOUND)
		return 1;
	return err ? err : rc ? lmdb_err(rc) : 0;
}

static int hl_feedback(history *base, uint64_t id, const char *what)
{
	hlmdb *h = (hlmdb *)base;
	uint8_t kb[8];
	MDB_val k = {8, kb}, v, fv = {strnlen(what, HISTORY_FEEDBACK_MAX), (void *)what};
	MDB_txn *t;
	int rc;

	put_key(kb, id);
	if ((rc = mdb_txn_begin(h->env, NULL, 0, &t)))
		return lmdb_err(rc);
	rc = mdb_get(t, h->sum, &k, &v);
	if (!rc)
		rc = mdb_put(t, h->fb, &k, &fv, 0);
	if (!rc)
		return (rc = mdb_txn_commit(t)) ? lmdb_err(rc) : 0;
	mdb_txn_abort(t);
	return rc == MDB_NOTFOUND ? 1 : lmdb_err(rc);
}

static int hl_walk(history *base, int64_t since_ms, int (*cb)(void *, const history_item *),
                   void *ctx)
{
	hlmdb *h = (hlmdb *)base;
	MDB_txn *t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc = mdb_txn_begin(h->env, NULL, MDB_RDONLY, &t), stop = 0;

	if (rc)
		return lmdb_err(rc);
	if (!(rc = mdb_cursor_open(t, h->sum, &c)))
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	for (; !rc && !stop; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		sum_head hd;
		const char *search, *json;
		size_t jlen;
		if (split_sum(&v, &hd, &search, &json, &jlen))
			continue;
		if (hd.time_ms < since_ms)
			break;
		history_item it = {get_key(&k), hd.time_ms, hd.score,     hd.scan_ms,
		                   hd.action,   search,     hd.search_len};
		stop = cb(ctx, &it);
	}
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(t);
	return stop ? stop : rc && rc != MDB_NOTFOUND ? lmdb_err(rc) : 0;
}

static int hl_info(history *base, history_info *o)
{
	hlmdb *h = (hlmdb *)base;
	MDB_txn *t;
	MDB_stat st, rs;
	MDB_envinfo ei;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_txn_begin(h->env, NULL, MDB_RDONLY, &t);

	memset(o, 0, sizeof(*o));
	if (rc)
		return lmdb_err(rc);
	if (!(rc = mdb_stat(t, h->sum, &st)) && !(rc = mdb_stat(t, h->raw, &rs))) {
		o->entries = st.ms_entries;
		o->raw_entries = rs.ms_entries;
		rc = first_id(t, h->sum, &o->oldest);
	}
	if (!rc && !(rc = mdb_cursor_open(t, h->sum, &c))) {
		if (!mdb_cursor_get(c, &k, &v, MDB_LAST))
			o->newest = get_key(&k);
		mdb_cursor_close(c);
	}
	mdb_txn_abort(t);
	o->raw_bytes = __atomic_load_n(&h->raw_bytes, __ATOMIC_RELAXED);
	o->max_entries = h->max_entries;
	o->raw_budget = h->raw_budget;
	if (!mdb_env_info(h->env, &ei) && !mdb_env_stat(h->env, &st))
		o->map_bytes = (uint64_t)(ei.me_last_pgno + 1) * st.ms_psize;
	return rc ? lmdb_err(rc) : 0;
}

static void hl_close(history *base)
{
	hlmdb *h = (hlmdb *)base;

	if (h->env)
		mdb_env_close(h->env);
	free(h);
}

static const history_ops hl_ops = {
    .name = "lmdb",
    .put = hl_put,
    .list = hl_list,
    .get = hl_get,
    .raw = hl_raw,
    .feedback = hl_feedback,
    .walk = hl_walk,
    .info = hl_info,
    .close = hl_close,
};

/* Sums the raw bytes kept (at open). */
static int count_raw(hlmdb *h, MDB_txn *t)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(t, h->raw, &c);

	h->raw_bytes = 0;
	for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		h->raw_bytes += v.mv_size;
	if (c)
		mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int open_dbs(hlmdb *h)
{
	MDB_txn *t;
	int rc = mdb_txn_begin(h->env, NULL, 0, &t);

	if (rc)
		return rc;
	if (!(rc = mdb_dbi_open(t, "sum", MDB_CREATE, &h->sum)) &&
	    !(rc = mdb_dbi_open(t, "det", MDB_CREATE, &h->det)) &&
	    !(rc = mdb_dbi_open(t, "raw", MDB_CREATE, &h->raw)) &&
	    !(rc = mdb_dbi_open(t, "fb", MDB_CREATE, &h->fb)) && !(rc = count_raw(h, t)) &&
	    !(rc = trim(h, t)))
		return mdb_txn_commit(t);
	mdb_txn_abort(t);
	return rc;
}

int history_lmdb_open_map(const char *dir, uint64_t max_entries, uint64_t raw_budget,
                          size_t map_bytes, history **out)
{
	hlmdb *h = calloc(1, sizeof(*h));
	/* about 6 KiB per entry (summary, detail with features), the raw
	 * budget twice (pages), and room to spare; a sparse file */
	size_t map =
	    map_bytes ? map_bytes : (size_t)(max_entries * 6144 + raw_budget * 2 + (256u << 20));
	int rc;

	if (!h)
		return SS_ENOMEM;
	h->base.ops = &hl_ops;
	h->max_entries = max_entries;
	h->raw_budget = raw_budget;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		free(h);
		return SS_EIO;
	}
	if ((rc = mdb_env_create(&h->env)) || (rc = mdb_env_set_maxdbs(h->env, 4)) ||
	    (rc = mdb_env_set_mapsize(h->env, map)) ||
	    (rc = mdb_env_open(h->env, dir, MDB_NOTLS | MDB_NOMETASYNC, 0600)) ||
	    (rc = open_dbs(h))) {
		if (rc > 0)
			errno = rc;
		hl_close(&h->base);
		return lmdb_err(rc);
	}
	*out = &h->base;
	return 0;
}

int history_lmdb_open(const char *dir, uint64_t max_entries, uint64_t raw_budget, history **out)
{
	return history_lmdb_open_map(dir, max_entries, raw_budget, 0, out);
}
