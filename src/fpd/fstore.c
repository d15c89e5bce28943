/*
 * fstore.c: the LMDB fingerprint store of spamsift-fpd (see fstore.h).
 * Ids and band keys are stored big-endian so LMDB's byte order is theirs.
 * A store opened on Redis hands every call to fstore_redis.c.
 */
#include "fpd/fstore.h"

#include <errno.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spamsift.h"

#define MAP_SIZE (4ULL << 30)
#define MAX_CANDIDATES 256 /* ids compared per lookup */
#define MAX_PER_BAND 64    /* ids read per band key */

struct fstore {
	MDB_env *env;
	MDB_dbi entries, bands, digests, meta, outbox, applied;
	MDB_txn *rtxn; /* the reset read transaction, renewed per lookup */
	uint8_t server_id[FPP_SERVER_ID];
	fsredis *r; /* on Redis: everything goes there */
};

static int mdb_err(int rc)
{
	return rc == MDB_CORRUPTED || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ? SS_ECORRUPT
	                                                                              : SS_EIO;
}

/* Reads or makes the server id. */
static int init_meta(fstore *s, MDB_txn *txn)
{
	MDB_val k = {2, "id"}, v;
	int rc = mdb_get(txn, s->meta, &k, &v);

	if (!rc && v.mv_size == FPP_SERVER_ID) {
		memcpy(s->server_id, v.mv_data, FPP_SERVER_ID);
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return rc ? rc : MDB_INVALID;
	randombytes_buf(s->server_id, FPP_SERVER_ID);
	v.mv_size = FPP_SERVER_ID;
	v.mv_data = s->server_id;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

static int open_dbs(fstore *s)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

	if (rc)
		return rc;
	if ((rc = mdb_dbi_open(txn, "entries", MDB_CREATE, &s->entries)) ||
	    (rc = mdb_dbi_open(txn, "bands", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &s->bands)) ||
	    (rc = mdb_dbi_open(txn, "digests", MDB_CREATE, &s->digests)) ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) ||
	    (rc = mdb_dbi_open(txn, "outbox", MDB_CREATE, &s->outbox)) ||
	    (rc = mdb_dbi_open(txn, "applied", MDB_CREATE, &s->applied)) ||
	    (rc = init_meta(s, txn))) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

int fstore_open(const char *dir, fstore **out)
{
	fstore *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return SS_ENOMEM;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		free(s);
		return SS_EIO;
	}
	if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, 8)) ||
	    (rc = mdb_env_set_mapsize(s->env, MAP_SIZE)) ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600)) || (rc = open_dbs(s)) ||
	    (rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn)))
		goto fail;
	mdb_txn_reset(s->rtxn);
	*out = s;
	return 0;
fail:
	mdb_env_close(s->env);
	free(s);
	return mdb_err(rc);
}

int fstore_open_redis(const char *url, const char *replica, const char *password_file,
                      int timeout_ms, fstore **out, const char **why)
{
	fstore *s = calloc(1, sizeof(*s));
	int rc;

	*why = NULL;
	if (!s)
		return SS_ENOMEM;
	if ((rc = fsr_open(url, replica, password_file, timeout_ms, &s->r, why))) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void fstore_close(fstore *s)
{
	if (!s)
		return;
	if (s->r) {
		fsr_close(s->r);
		free(s);
		return;
	}
	if (s->rtxn)
		mdb_txn_abort(s->rtxn);
	mdb_env_close(s->env);
	free(s);
}

const uint8_t *fstore_server_id(const fstore *s)
{
	if (s->r)
		return fsr_server_id(s->r);
	return s->server_id;
}

static int get_entry(fstore *s, MDB_txn *txn, uint64_t id, fstore_entry *e)
{
	uint8_t kb[8];
	MDB_val k = {8, kb}, v;
	int rc;

	fstore_be64(id, kb);
	if ((rc = mdb_get(txn, s->entries, &k, &v)))
		return rc;
	return fstore_entry_decode(v.mv_data, v.mv_size, e) ? MDB_CORRUPTED : 0;
}

/* The best candidate found so far. */
typedef struct best {
	uint64_t id;
	double sim;
	fstore_entry e;
	int found;
	uint64_t seen[MAX_CANDIDATES];
	size_t nseen;
} best;

static void consider(fstore *s, MDB_txn *txn, const fpp_msg *m, uint64_t id, double sim, best *b)
{
	fstore_entry e;

	for (size_t i = 0; i < b->nseen; i++)
		if (b->seen[i] == id)
			return;
	if (b->nseen == MAX_CANDIDATES || get_entry(s, txn, id, &e))
		return;
	b->seen[b->nseen++] = id;
	if (sim < 0)
		sim = e.has_text ? fp_similarity(&m->text, &e.text) : 0;
	if (!b->found || sim > b->sim) {
		b->found = 1;
		b->sim = sim;
		b->id = id;
		b->e = e;
	}
}

static int find_by_digests(fstore *s, MDB_txn *txn, const fpp_msg *m, best *b)
{
	for (size_t i = 0; i < m->ndigests; i++) {
		MDB_val k = {32, (void *)m->digests[i].sha256}, v;
		int rc = mdb_get(txn, s->digests, &k, &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc || v.mv_size != 8)
			return rc ? rc : MDB_CORRUPTED;
		consider(s, txn, m, fstore_get_be64(v.mv_data), 1.0, b);
	}
	return 0;
}

static int scan_band(fstore *s, MDB_cursor *cur, MDB_txn *txn, const fpp_msg *m, uint64_t key,
                     best *b)
{
	uint8_t kb[8];
	MDB_val k = {8, kb}, v;
	int rc, n = 0;

	fstore_be64(key, kb);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	while (!rc && n++ < MAX_PER_BAND) {
		consider(s, txn, m, fstore_get_be64(v.mv_data), -1, b);
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The best match of m's digests and text in txn. */
static int find_best(fstore *s, MDB_txn *txn, const fpp_msg *m, best *b)
{
	uint64_t keys[FP_NBANDS];
	MDB_cursor *cur;
	int rc = find_by_digests(s, txn, m, b);

	if (rc || !m->has_text || (b->found && b->sim >= 1))
		return rc;
	if ((rc = mdb_cursor_open(txn, s->bands, &cur)))
		return rc;
	fp_bands(&m->text, keys);
	for (size_t i = 0; !rc && i < FP_NBANDS; i++)
		rc = scan_band(s, cur, txn, m, keys[i], b);
	mdb_cursor_close(cur);
	return rc;
}

int fstore_lookup(fstore *s, const fpp_msg *m, fpp_msg *reply)
{
	best *b;
	int rc;

	if (s->r)
		return fsr_lookup(s->r, m, reply);
	if (!(b = calloc(1, sizeof(*b))))
		return SS_ENOMEM;
	if (!(rc = mdb_txn_renew(s->rtxn))) {
		rc = find_best(s, s->rtxn, m, b);
		mdb_txn_reset(s->rtxn);
	}
	if (!rc && b->found) {
		reply->found = 1;
		reply->similarity = b->sim;
		reply->cls = b->e.cls;
		reply->weight = b->e.weight;
		reply->first_seen = b->e.first_seen;
		reply->last_seen = b->e.last_seen;
		reply->count = b->e.count;
	}
	free(b);
	return rc ? mdb_err(rc) : 0;
}

/* Adds or removes the index rows (bands, digests) of entry id. */
static int index_entry(fstore *s, MDB_txn *txn, uint64_t id, const fstore_entry *e, int del)
{
	uint8_t idb[8], kb[8];
	uint64_t keys[FP_NBANDS];
	MDB_val k, v = {8, idb};
	int rc = 0;

	fstore_be64(id, idb);
	if (e->has_text) {
		fp_bands(&e->text, keys);
		for (size_t i = 0; !rc && i < FP_NBANDS; i++) {
			fstore_be64(keys[i], kb);
			k = (MDB_val){8, kb};
			rc = del ? mdb_del(txn, s->bands, &k, &v)
			         : mdb_put(txn, s->bands, &k, &v, 0);
			rc = rc == MDB_NOTFOUND || rc == MDB_KEYEXIST ? 0 : rc;
		}
	}
	for (size_t i = 0; !rc && i < e->ndigests; i++) {
		k = (MDB_val){32, (void *)e->digests[i].sha256};
		rc = del ? mdb_del(txn, s->digests, &k, NULL) : mdb_put(txn, s->digests, &k, &v, 0);
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	return rc;
}

static int put_entry(fstore *s, MDB_txn *txn, uint64_t id, const fstore_entry *e)
{
	uint8_t kb[8];
	MDB_val k = {8, kb}, v = {sizeof(*e), (void *)e};

	fstore_be64(id, kb);
	return mdb_put(txn, s->entries, &k, &v, 0);
}

/* Takes the next value of the meta counter `name` (from 1). */
static int counter(fstore *s, MDB_txn *txn, const char *name, uint64_t *id)
{
	MDB_val k = {strlen(name), (void *)name}, v;
	uint8_t b[8];
	int rc = mdb_get(txn, s->meta, &k, &v);

	if (rc && rc != MDB_NOTFOUND)
		return rc;
	*id = !rc && v.mv_size == 8 ? fstore_get_be64(v.mv_data) : 1;
	fstore_be64(*id + 1, b);
	v = (MDB_val){8, b};
	return mdb_put(txn, s->meta, &k, &v, 0);
}

static void new_entry(fstore_entry *e, const fpp_msg *m, double weight, const char *reporter,
                      uint64_t now)
{
	memset(e, 0, sizeof(*e));
	e->has_text = (uint8_t)m->has_text;
	e->text = m->text;
	e->ndigests = m->ndigests;
	memcpy(e->digests, m->digests, sizeof(e->digests));
	e->cls = m->cls;
	e->weight = weight;
	e->first_seen = e->last_seen = now;
	e->count = 1;
	snprintf(e->reporter, sizeof(e->reporter), "%s", reporter);
}

static int add_in(fstore *s, MDB_txn *txn, const fpp_msg *m, double weight, const char *reporter,
                  uint64_t now, int *is_new)
{
	best *b = calloc(1, sizeof(*b));
	uint64_t id;
	int rc;

	if (!b)
		return ENOMEM;
	if ((rc = find_best(s, txn, m, b)))
		goto out;
	*is_new = !(b->found && b->sim >= 1);
	if (!*is_new) {
		b->e.count++;
		b->e.last_seen = now;
		b->e.cls = m->cls;
		b->e.weight = weight > b->e.weight ? weight : b->e.weight;
		rc = put_entry(s, txn, b->id, &b->e);
		goto out;
	}
	new_entry(&b->e, m, weight, reporter, now);
	if (!(rc = counter(s, txn, "next", &id)) && !(rc = put_entry(s, txn, id, &b->e)))
		rc = index_entry(s, txn, id, &b->e, 0);
out:
	free(b);
	return rc;
}

static int del_entry(fstore *s, MDB_txn *txn, uint64_t id, const fstore_entry *e)
{
	uint8_t kb[8];
	MDB_val k = {8, kb};
	int rc = index_entry(s, txn, id, e, 1);

	fstore_be64(id, kb);
	return rc ? rc : mdb_del(txn, s->entries, &k, NULL);
}

static int del_in(fstore *s, MDB_txn *txn, const fpp_msg *m, unsigned *n)
{
	best *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return ENOMEM;
	for (;;) {
		memset(b, 0, sizeof(*b));
		if ((rc = find_best(s, txn, m, b)) || !b->found || b->sim < 1)
			break;
		if ((rc = del_entry(s, txn, b->id, &b->e)))
			break;
		(*n)++;
	}
	free(b);
	return rc;
}

/* Remembers m's (origin, origin_seq); *dup when it was there already. */
static int note_applied(fstore *s, MDB_txn *txn, const fpp_msg *m, uint64_t now, int *dup)
{
	uint8_t kb[FPP_SERVER_ID + 8], vb[8];
	MDB_val k = {sizeof(kb), kb}, v = {8, vb};
	int rc;

	memcpy(kb, m->origin, FPP_SERVER_ID);
	fstore_be64(m->origin_seq, kb + FPP_SERVER_ID);
	fstore_be64(now, vb);
	rc = mdb_put(txn, s->applied, &k, &v, MDB_NOOVERWRITE);
	*dup = rc == MDB_KEYEXIST;
	return *dup ? 0 : rc;
}

/* The meta key of peer's outbox length: "q" + peer id. */
static MDB_val len_key(const uint8_t peer[FSTORE_PEER_ID], uint8_t kb[1 + FSTORE_PEER_ID])
{
	kb[0] = 'q';
	memcpy(kb + 1, peer, FSTORE_PEER_ID);
	return (MDB_val){1 + FSTORE_PEER_ID, kb};
}

static uint64_t get_len(fstore *s, MDB_txn *txn, const uint8_t peer[FSTORE_PEER_ID])
{
	uint8_t kb[1 + FSTORE_PEER_ID];
	MDB_val k = len_key(peer, kb), v;

	return !mdb_get(txn, s->meta, &k, &v) && v.mv_size == 8 ? fstore_get_be64(v.mv_data) : 0;
}

static int put_len(fstore *s, MDB_txn *txn, const uint8_t peer[FSTORE_PEER_ID], uint64_t n)
{
	uint8_t kb[1 + FSTORE_PEER_ID], vb[8];
	MDB_val k = len_key(peer, kb), v = {8, vb};

	fstore_be64(n, vb);
	return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Deletes the oldest row of peer's outbox. */
static int drop_oldest(fstore *s, MDB_txn *txn, const uint8_t peer[FSTORE_PEER_ID])
{
	uint8_t kb[FSTORE_PEER_ID + 8] = {0};
	MDB_val k = {sizeof(kb), kb}, v;
	MDB_cursor *cur;
	int rc;

	memcpy(kb, peer, FSTORE_PEER_ID);
	if ((rc = mdb_cursor_open(txn, s->outbox, &cur)))
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (!rc && k.mv_size == sizeof(kb) && !memcmp(k.mv_data, peer, FSTORE_PEER_ID))
		rc = mdb_cursor_del(cur, 0);
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Queues fed->out in every outbox of fed->peers under a new change number. */
static int queue_out(fstore *s, MDB_txn *txn, fstore_fed *fed)
{
	uint8_t buf[FPP_MAX_PACKET], kb[FSTORE_PEER_ID + 8];
	MDB_val k = {sizeof(kb), kb}, v;
	uint64_t seq, n;
	int rc = counter(s, txn, "seq", &seq), len;

	if (rc)
		return rc;
	if (!fed->out->origin_seq)
		fed->out->origin_seq = seq;
	if ((len = fpp_msg_encode(fed->out, buf, sizeof(buf))) < 0)
		return MDB_BAD_VALSIZE;
	fstore_be64(seq, kb + FSTORE_PEER_ID);
	for (size_t i = 0; !rc && i < fed->npeers; i++) {
		memcpy(kb, fed->peers[i], FSTORE_PEER_ID);
		v = (MDB_val){(size_t)len, buf};
		if ((rc = mdb_put(txn, s->outbox, &k, &v, 0)))
			break;
		n = get_len(s, txn, fed->peers[i]) + 1;
		while (!rc && n > fed->limit && n > 1) {
			rc = drop_oldest(s, txn, fed->peers[i]);
			n--;
			fed->dropped++;
		}
		rc = rc ? rc : put_len(s, txn, fed->peers[i], n);
	}
	return rc;
}

static int change_in(fstore *s, MDB_txn *txn, const fpp_msg *m, double weight, uint64_t now,
                     fstore_fed *fed)
{
	int rc;

	if (m->origin_seq &&
	    ((rc = note_applied(s, txn, m, now, &fed->duplicate)) || fed->duplicate))
		return rc;
	if (m->cmd == FPP_DEL)
		rc = del_in(s, txn, m, &fed->deleted);
	else
		rc = add_in(s, txn, m, weight, m->reporter, now, &fed->is_new);
	return rc || !fed->npeers ? rc : queue_out(s, txn, fed);
}

int fstore_change(fstore *s, const fpp_msg *m, double weight, uint64_t now, fstore_fed *fed)
{
	MDB_txn *txn;
	int rc;

	fed->duplicate = fed->is_new = 0;
	fed->dropped = fed->deleted = 0;
	if (!m->has_text && !m->ndigests)
		return SS_EINVAL;
	if (s->r)
		return fsr_change(s->r, m, weight, now, fed);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
		return mdb_err(rc);
	rc = change_in(s, txn, m, weight, now, fed);
	if (rc || fed->duplicate) {
		mdb_txn_abort(txn);
		return rc == ENOMEM ? SS_ENOMEM : rc ? mdb_err(rc) : 0;
	}
	return (rc = mdb_txn_commit(txn)) ? mdb_err(rc) : 0;
}

int fstore_outbox_first(fstore *s, const uint8_t peer[FSTORE_PEER_ID], uint64_t *seq, fpp_msg *m)
{
	uint8_t kb[FSTORE_PEER_ID + 8] = {0};
	MDB_val k = {sizeof(kb), kb}, v;
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc, found = 0;

	if (s->r)
		return fsr_outbox_first(s->r, peer, seq, m);
	memcpy(kb, peer, FSTORE_PEER_ID);
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)))
		return mdb_err(rc);
	if (!(rc = mdb_cursor_open(txn, s->outbox, &cur))) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (!rc && k.mv_size == sizeof(kb) && !memcmp(k.mv_data, peer, FSTORE_PEER_ID)) {
			*seq = fstore_get_be64((const uint8_t *)k.mv_data + FSTORE_PEER_ID);
			found = fpp_msg_decode(v.mv_data, v.mv_size, m) ? SS_ECORRUPT : 1;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc && rc != MDB_NOTFOUND ? mdb_err(rc) : found;
}

int fstore_outbox_done(fstore *s, const uint8_t peer[FSTORE_PEER_ID], uint64_t seq)
{
	uint8_t kb[FSTORE_PEER_ID + 8];
	MDB_val k = {sizeof(kb), kb};
	MDB_txn *txn;
	uint64_t n;
	int rc;

	if (s->r)
		return fsr_outbox_done(s->r, peer, seq);
	memcpy(kb, peer, FSTORE_PEER_ID);
	fstore_be64(seq, kb + FSTORE_PEER_ID);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
		return mdb_err(rc);
	rc = mdb_del(txn, s->outbox, &k, NULL);
	if (rc == MDB_NOTFOUND) { /* dropped for the limit meanwhile */
		mdb_txn_abort(txn);
		return 0;
	}
	n = get_len(s, txn, peer);
	if (rc || (rc = put_len(s, txn, peer, n ? n - 1 : 0))) {
		mdb_txn_abort(txn);
		return mdb_err(rc);
	}
	return (rc = mdb_txn_commit(txn)) ? mdb_err(rc) : 0;
}

uint64_t fstore_outbox_len(fstore *s, const uint8_t peer[FSTORE_PEER_ID])
{
	MDB_txn *txn;
	uint64_t n;

	if (s->r)
		return fsr_outbox_len(s->r, peer);
	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn))
		return 0;
	n = get_len(s, txn, peer);
	mdb_txn_abort(txn);
	return n;
}

/* Forgets the replicated changes applied before `before`. */
static int forget_applied(fstore *s, MDB_txn *txn, uint64_t before)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, s->applied, &cur)))
		return rc;
	while (!(rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)))
		if (v.mv_size == 8 && fstore_get_be64(v.mv_data) < before &&
		    (rc = mdb_cursor_del(cur, 0)))
			break;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int fstore_expire(fstore *s, uint64_t before, unsigned *n)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	fstore_entry e;
	int rc;

	*n = 0;
	if (s->r)
		return fsr_expire(s->r, before, n);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
		return mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, s->entries, &cur)))
		goto out;
	while (!(rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))) {
		if (k.mv_size != 8 || fstore_entry_decode(v.mv_data, v.mv_size, &e))
			continue;
		if (e.last_seen >= before)
			continue;
		if ((rc = index_entry(s, txn, fstore_get_be64(k.mv_data), &e, 1)) ||
		    (rc = mdb_cursor_del(cur, 0)))
			break;
		(*n)++;
	}
	mdb_cursor_close(cur);
	rc = rc == MDB_NOTFOUND ? forget_applied(s, txn, before) : rc;
out:
	rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
	return rc ? mdb_err(rc) : 0;
}
