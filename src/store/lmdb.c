/*
 * lmdb.c: the embedded model store on LMDB (see store.h).
 *
 * LMDB gives crash safety (copy-on-write B-tree, a commit is atomic: a
 * process killed mid-write leaves the last committed model), one writer
 * with many concurrent readers, and zero-copy reads from a memory map.
 *
 * A per-feature LMDB key would cost a B-tree descent (~0.4 us) per feature,
 * ~250 us per message: too slow for 10,000 checks a second. So a model is
 * a fixed number of buckets, each one LMDB value of one page holding a small
 * open-addressing table of feature slots. A read transaction caches the
 * address of each bucket it touched (valid while the snapshot is), and the
 * next read transaction of the same snapshot keeps them (a daemon opens one
 * per scan), so most lookups are one memory probe: for the global model an
 * array indexed by bucket, filled by one cursor walk once a snapshot has
 * missed on many buckets; for users' models a hash table. A write
 * transaction keeps the buckets it changed in memory and writes each once
 * at commit. When a bucket is full,
 * the rarest, oldest feature in it is evicted: the model's size is bounded
 * by its bucket count, fixed at creation (--size).
 *
 * The global model's n-gram slots (weights only, see learn/features.h) are
 * not in buckets but in a dense array of their own, cut into chunks of one
 * page: a lookup is an index, and the ~800 n-grams of a message touch 4 MB
 * rather than as many buckets of the 64 MB. A read transaction finds the
 * chunks' addresses by one cursor walk of their ~1,000 entries; a write
 * transaction works on private copies of the chunks it touched, written at
 * commit. Users' n-gram slots are ordinary features in their buckets.
 *
 * Databases in the environment: "meta" (format, sizes, totals per user),
 * "users" (name -> id), "buckets" (user << 32 | index -> slots),
 * "grams" (chunk + 1 -> GRAM_CHUNK weights), "msgs" (digest + user ->
 * msg_rec).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "learn/features.h"
#include "spamsift.h"
#include "store/lmdb_ppm.h"
#include "store/store.h"

#define FORMAT 4  /* 4: the compression table (3: n-gram slots; 2: a key per n-gram) */
#define SLOTS 170 /* 170 * 24 = 4080 bytes: with LMDB's header, one page */
#define BUCKET_BYTES (SLOTS * sizeof(bslot))
#define BUCKET_KIB 4
#define GRAM_CHUNK 1020 /* n-gram weights per chunk: 4080 bytes, one page */
#define GRAM_CHUNKS ((FEAT_GRAMS + GRAM_CHUNK - 1) / GRAM_CHUNK)
#define GRAM_CHUNK_BYTES (GRAM_CHUNK * sizeof(float))

typedef struct bslot {
	uint64_t key; /* 0 = empty */
	feat_stat st;
} bslot;

typedef struct bucket {
	bslot s[SLOTS];
} bucket;

/* Buckets looked at or changed in the current transaction. */
typedef struct bcache {
	uint64_t *keys; /* bucket key, 0 = empty */
	bucket **ptr;   /* read: into the map; write: a private copy */
	uint8_t *dirty;
	size_t *used; /* the filled slots, n of them, so clearing costs n */
	size_t cap, n;
} bcache;

typedef struct meta {
	uint32_t format, slots;
	uint32_t nbuckets, user_nbuckets;
	uint32_t nusers;
} meta;

typedef struct lmdb_store {
	store base;
	MDB_env *env;
	MDB_dbi dmeta, dusers, dbuckets, dgrams, dmsgs, dppm;
	MDB_txn *txn;
	int writing;
	meta m;
	bcache c;
	size_t snap; /* the snapshot (LMDB txn id) whose map addresses c holds */
	/* Read transactions, global model: each bucket's address by bucket
	 * index, valid where gen_of[i] == gen (bumped when the snapshot
	 * changes), so a lookup is an array read instead of a hash probe. */
	const bucket **gptr;
	uint32_t *gen_of;
	uint32_t gen;
	uint64_t nb_magic; /* for fast_mod by m.nbuckets */
	uint32_t misses;   /* mdb_get calls for this gen */
	clf_totals totals; /* the global totals, read in generation totals_gen */
	uint32_t totals_gen;
	/* The global n-gram slots: in a read transaction each chunk's address
	 * in the map (NULL: absent, all 0), valid while gram_gen == gen; in a
	 * write transaction private copies of the chunks touched (gram_dirty:
	 * changed, to be written at commit). */
	const float **gram_at;
	uint32_t gram_gen;
	float **gram_copy;
	uint8_t *gram_dirty;
	uint32_t ppm_bits; /* the compression table's size (0: none, see load_layout) */
	lmdb_ppm *ppm;     /* this handle's view of it */
	int read_only;
	int shared; /* a handle made by l_dup: the environment is not its own */
} lmdb_store;

int lmdb_err_of(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_PAGE_NOTFOUND:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_TXN:
		return SS_ECORRUPT;
	case MDB_MAP_FULL:
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case EAGAIN:
		return SS_EBUSY;
	case ENOMEM:
		return SS_ENOMEM;
	default:
		return SS_EIO;
	}
}

/* ---- the bucket cache ---- */

static void bc_clear(bcache *c)
{
	for (size_t j = 0; j < c->n; j++) {
		size_t i = c->used[j];
		if (c->dirty[i])
			free(c->ptr[i]);
		c->keys[i] = 0;
		c->dirty[i] = 0;
	}
	c->n = 0;
}

static int bc_init(bcache *c, size_t cap)
{
	c->cap = cap;
	c->keys = calloc(cap, sizeof(*c->keys));
	c->ptr = calloc(cap, sizeof(*c->ptr));
	c->dirty = calloc(cap, 1);
	c->used = calloc(cap, sizeof(*c->used));
	return c->keys && c->ptr && c->dirty && c->used ? 0 : SS_ENOMEM;
}

static void bc_free(bcache *c)
{
	if (c->keys && c->ptr && c->dirty && c->used)
		bc_clear(c);
	free(c->used);
	free(c->keys);
	free(c->ptr);
	free(c->dirty);
}

static size_t bc_slot(const bcache *c, uint64_t key)
{
	size_t i = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 40) & (c->cap - 1);

	while (c->keys[i] && c->keys[i] != key)
		i = (i + 1) & (c->cap - 1);
	return i;
}

/* ---- buckets ---- */

static int flush_dirty(lmdb_store *ls);

/* a % d for 32-bit a and d, given magic = UINT64_MAX / d + 1: a multiply
 * instead of a division (Lemire, Kaser & Kurz, "Faster remainder by direct
 * computation", 2019; exact for every 32-bit a and d). */
static uint32_t fast_mod(uint32_t a, uint64_t magic, uint32_t d)
{
	return (uint32_t)(((unsigned __int128)(magic * a) * d) >> 64);
}

static uint64_t bucket_key(const lmdb_store *ls, uint32_t user, uint64_t fkey)
{
	uint32_t nb = user ? ls->m.user_nbuckets : ls->m.nbuckets;

	return ((uint64_t)user << 32 | (uint32_t)((fkey >> 32) % nb)) + 1;
}

/* Makes room in the cache for `extra` more buckets: when it would be over
 * half full, writes what changed and starts afresh. Bucket pointers taken
 * before are then stale. */
static int make_room(lmdb_store *ls, size_t extra)
{
	bcache *c = &ls->c;
	int err;

	if ((c->n + extra) * 2 < c->cap)
		return 0;
	if ((err = ls->writing ? flush_dirty(ls) : 0))
		return err;
	bc_clear(c);
	return 0;
}

/* Finds bucket bk (read: in the map; absent: NULL). With for_write, makes a
 * private, dirty copy (a zeroed one when absent). */
static int get_bucket(lmdb_store *ls, uint64_t bk, int for_write, bucket **out)
{
	bcache *c = &ls->c;
	size_t i;
	MDB_val k = {sizeof(bk), &bk}, v;
	int rc = make_room(ls, 1);

	if (rc)
		return rc;
	i = bc_slot(c, bk);
	if (c->keys[i] && (!for_write || c->dirty[i])) {
		*out = c->ptr[i];
		return 0;
	}
	if (!c->keys[i]) {
		rc = mdb_get(ls->txn, ls->dbuckets, &k, &v);
		if (rc && rc != MDB_NOTFOUND)
			return lmdb_err_of(rc);
		if (!rc && v.mv_size != BUCKET_BYTES)
			return SS_ECORRUPT;
		c->keys[i] = bk;
		c->ptr[i] = rc ? NULL : v.mv_data;
		c->used[c->n++] = i;
	}
	if (for_write) {
		bucket *copy = malloc(sizeof(bucket));
		if (!copy)
			return SS_ENOMEM;
		if (c->ptr[i])
			memcpy(copy, c->ptr[i], sizeof(bucket));
		else
			memset(copy, 0, sizeof(bucket));
		c->ptr[i] = copy;
		c->dirty[i] = 1;
	}
	*out = c->ptr[i];
	return 0;
}

static size_t slot_home(uint64_t fkey)
{
	return (size_t)(fkey & 0xffffffffu) % SLOTS;
}

/* Finds fkey's slot in b (NULL: absent), probing from its home slot i. */
static const bslot *find_slot_from(const bucket *b, uint64_t fkey, size_t i)
{
	for (size_t n = 0; b && n < SLOTS; n++, i = i + 1 == SLOTS ? 0 : i + 1) {
		if (b->s[i].key == fkey)
			return &b->s[i];
		if (!b->s[i].key)
			return NULL;
	}
	return NULL;
}

static const bslot *find_slot(const bucket *b, uint64_t fkey)
{
	return find_slot_from(b, fkey, slot_home(fkey));
}

/* Removes slot `hole` from its probe chain, moving later entries back. */
static void delete_slot(bucket *b, size_t hole)
{
	size_t i = hole;

	b->s[hole].key = 0;
	for (;;) {
		i = i + 1 == SLOTS ? 0 : i + 1;
		if (!b->s[i].key)
			return;
		size_t home = slot_home(b->s[i].key);
		/* Move it when its home is not in (hole, i], cyclically. */
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && home <= hole && home > i)) {
			b->s[hole] = b->s[i];
			b->s[i].key = 0;
			hole = i;
		}
	}
}

/* Evicts the rarest, then oldest, feature of a full bucket. */
static void evict(bucket *b)
{
	size_t worst = 0;

	for (size_t i = 1; i < SLOTS; i++) {
		const feat_stat *a = &b->s[i].st, *w = &b->s[worst].st;
		uint64_t na = (uint64_t)a->spam + a->ham, nw = (uint64_t)w->spam + w->ham;
		if (na < nw || (na == nw && a->day < w->day))
			worst = i;
	}
	delete_slot(b, worst);
}

/* Returns the slot of fkey, creating it (evicting when full) if `create`. */
static bslot *write_slot(bucket *b, uint64_t fkey, int create)
{
	size_t i = slot_home(fkey), n;

	for (n = 0; n < SLOTS; n++, i = i + 1 == SLOTS ? 0 : i + 1) {
		if (b->s[i].key == fkey)
			return &b->s[i];
		if (!b->s[i].key)
			break;
	}
	if (!create)
		return NULL;
	if (n == SLOTS) {
		evict(b);
		return write_slot(b, fkey, create);
	}
	b->s[i] = (bslot){fkey, {0, 0, 0, 0}};
	return &b->s[i];
}

/* ---- the global n-gram slots ---- */

/* Makes sure the chunk arrays are there. */
static int gram_arrays(lmdb_store *ls)
{
	if (ls->gram_at)
		return 0;
	ls->gram_at = calloc(GRAM_CHUNKS, sizeof(*ls->gram_at));
	ls->gram_copy = calloc(GRAM_CHUNKS, sizeof(*ls->gram_copy));
	ls->gram_dirty = calloc(GRAM_CHUNKS, 1);
	if (ls->gram_at && ls->gram_copy && ls->gram_dirty)
		return 0;
	free(ls->gram_at);
	free(ls->gram_copy);
	free(ls->gram_dirty);
	ls->gram_at = NULL;
	ls->gram_copy = NULL;
	ls->gram_dirty = NULL;
	return SS_ENOMEM;
}

/* Whether k, v is a well-formed "grams" entry; its chunk number to *c. */
static int gram_entry(const MDB_val *k, const MDB_val *v, uint32_t *c)
{
	uint64_t ck;

	if (k->mv_size != sizeof(ck) || v->mv_size != GRAM_CHUNK_BYTES)
		return 0;
	memcpy(&ck, k->mv_data, sizeof(ck));
	if (!ck || ck > GRAM_CHUNKS)
		return 0;
	*c = (uint32_t)(ck - 1);
	return 1;
}

/* One entry of a database walked: 0 to go on, else the error to stop with
 * (SS_ECORRUPT for an entry of the wrong shape). */
typedef int (*walk_fn)(lmdb_store *ls, const MDB_val *k, const MDB_val *v, const store_walker *w);

/* Gives `each` every entry of dbi, in key order, until one says stop. A
 * cursor that fails before the end (a damaged page) is an error, not the
 * end of the walk. */
static int walk_db(lmdb_store *ls, MDB_dbi dbi, walk_fn each, const store_walker *w)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(ls->txn, dbi, &cur), got = 0;

	if (rc)
		return lmdb_err_of(rc);
	for (int op = MDB_FIRST; !rc && !(got = mdb_cursor_get(cur, &k, &v, op)); op = MDB_NEXT)
		rc = each(ls, &k, &v, w);
	mdb_cursor_close(cur);
	return rc ? rc : got != MDB_NOTFOUND ? lmdb_err_of(got) : 0;
}

/* Read transaction: where chunk k's weights are, in the snapshot. */
static int each_gram_at(lmdb_store *ls, const MDB_val *k, const MDB_val *v, const store_walker *w)
{
	uint32_t c;

	if (!gram_entry(k, v, &c))
		return SS_ECORRUPT;
	ls->gram_at[c] = v->mv_data;
	return 0;
}

/* Read transaction: finds every chunk's address in the snapshot. */
static int gram_fill(lmdb_store *ls)
{
	int rc = gram_arrays(ls);

	if (rc)
		return rc;
	memset(ls->gram_at, 0, GRAM_CHUNKS * sizeof(*ls->gram_at));
	if ((rc = walk_db(ls, ls->dgrams, each_gram_at, NULL)))
		return rc;
	ls->gram_gen = ls->gen;
	return 0;
}

/* Write transaction: chunk c's private copy (made on first use). */
static int gram_chunk_w(lmdb_store *ls, uint32_t c, float **out)
{
	uint64_t ck = (uint64_t)c + 1;
	MDB_val k = {sizeof(ck), &ck}, v;
	int rc = gram_arrays(ls);

	if (rc)
		return rc;
	if (!ls->gram_copy[c]) {
		float *copy = malloc(GRAM_CHUNK_BYTES);
		if (!copy)
			return SS_ENOMEM;
		rc = mdb_get(ls->txn, ls->dgrams, &k, &v);
		if ((rc && rc != MDB_NOTFOUND) || (!rc && v.mv_size != GRAM_CHUNK_BYTES)) {
			free(copy);
			return rc && rc != MDB_NOTFOUND ? lmdb_err_of(rc) : SS_ECORRUPT;
		}
		if (rc)
			memset(copy, 0, GRAM_CHUNK_BYTES);
		else
			memcpy(copy, v.mv_data, GRAM_CHUNK_BYTES);
		ls->gram_copy[c] = copy;
	}
	*out = ls->gram_copy[c];
	return 0;
}

/* Write transaction: the weight of global n-gram slot `slot` into *w
 * (lookup_global reads them in read transactions). */
static int gram_get(lmdb_store *ls, uint32_t slot, float *w)
{
	float *copy;
	int err = ls->writing ? gram_chunk_w(ls, slot / GRAM_CHUNK, &copy) : SS_EINVAL;

	if (!err)
		*w = copy[slot % GRAM_CHUNK];
	return err;
}

/* Adds dw to (or with set, makes it) the weight of global slot `slot`. */
static int gram_put(lmdb_store *ls, uint32_t slot, float dw, int set)
{
	uint32_t c = slot / GRAM_CHUNK;
	float *copy;
	int err = ls->writing ? gram_chunk_w(ls, c, &copy) : SS_EINVAL;

	if (err)
		return err;
	copy[slot % GRAM_CHUNK] = set ? dw : copy[slot % GRAM_CHUNK] + dw;
	ls->gram_dirty[c] = 1;
	return 0;
}

/* Writes the changed chunks (at commit). */
static int gram_flush(lmdb_store *ls)
{
	for (uint32_t c = 0; ls->gram_copy && c < GRAM_CHUNKS; c++) {
		uint64_t ck = (uint64_t)c + 1;
		MDB_val k = {sizeof(ck), &ck}, v = {GRAM_CHUNK_BYTES, ls->gram_copy[c]};
		int rc;
		if (!ls->gram_dirty[c])
			continue;
		if ((rc = mdb_put(ls->txn, ls->dgrams, &k, &v, 0)))
			return lmdb_err_of(rc);
	}
	return 0;
}

/* Drops the private copies (the end of a write transaction). */
static void gram_drop(lmdb_store *ls)
{
	for (uint32_t c = 0; ls->gram_copy && c < GRAM_CHUNKS; c++) {
		free(ls->gram_copy[c]);
		ls->gram_copy[c] = NULL;
		ls->gram_dirty[c] = 0;
	}
}

/* ---- store operations ---- */

enum { CHUNK = 32 };

static int global_fill(lmdb_store *ls);

/* Finds global bucket idx in the read snapshot through ls->gptr. */
static int global_bucket(lmdb_store *ls, uint32_t idx, const bucket **out)
{
	uint64_t bk = (uint64_t)idx + 1; /* bucket_key() for user 0 */
	MDB_val k = {sizeof(bk), &bk}, v;
	int rc = 0;

	if (ls->gen_of[idx] == ls->gen) {
		*out = ls->gptr[idx];
		return 0;
	}
	if (++ls->misses > ls->m.nbuckets / 8 && (rc = global_fill(ls)) == 0) {
		*out = ls->gptr[idx];
		return 0;
	}
	if (rc)
		return rc;
	rc = mdb_get(ls->txn, ls->dbuckets, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return lmdb_err_of(rc);
	if (!rc && v.mv_size != BUCKET_BYTES)
		return SS_ECORRUPT;
	ls->gptr[idx] = *out = rc ? NULL : v.mv_data;
	ls->gen_of[idx] = ls->gen;
	return 0;
}

/* Fills ls->gptr for the snapshot at once with a cursor walk over the
 * global buckets: a cursor step costs a sixth of an mdb_get, so once a
 * snapshot has missed on an eighth of the buckets, the walk is cheaper
 * than finding the rest one by one. */
static int global_fill(lmdb_store *ls)
{
	uint32_t nb = ls->m.nbuckets;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(ls->txn, ls->dbuckets, &cur);

	if (rc)
		return lmdb_err_of(rc);
	memset(ls->gptr, 0, nb * sizeof(*ls->gptr));
	for (uint32_t i = 0; i < nb; i++)
		ls->gen_of[i] = ls->gen;
	for (int op = MDB_FIRST; !(rc = mdb_cursor_get(cur, &k, &v, op)); op = MDB_NEXT) {
		uint64_t bk;
		if (k.mv_size != sizeof(bk) || v.mv_size != BUCKET_BYTES) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(&bk, k.mv_data, sizeof(bk));
		if (!bk) { /* bucket_key() is never 0 */
			rc = MDB_CORRUPTED;
			break;
		}
		if (bk - 1 >= nb)
			break; /* users' buckets: user << 32 | index */
		ls->gptr[bk - 1] = v.mv_data;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND) {
		memset(ls->gen_of, 0, nb * sizeof(*ls->gen_of));
		return lmdb_err_of(rc);
	}
	return 0;
}

/* The token keys of lookup_global: the buckets by index (no cache to
 * make room in). Each key's bucket (or an n-gram slot's weight, for a
 * token hash that passes for a slot's key) is found first for a run of
 * keys, then the slots are read with the home slot (or weight) of the key
 * AHEAD places on prefetched, so that misses stay in flight all along
 * rather than in bursts of a chunk (check: about 2% faster than chunks of
 * 32, AHEAD 12 to 64 tried). */
static int lookup_tokens(lmdb_store *ls, const uint64_t *keys, size_t n, feat_stat *out)
{
	enum { GCHUNK = 512, AHEAD = 40 };
	const bucket *b[GCHUNK];
	const void *at[GCHUNK]; /* what to prefetch: a home slot, a weight, or NULL */
	size_t home[GCHUNK];    /* SLOTS: an n-gram slot, whose weight is at[] */
	uint32_t nb = ls->m.nbuckets;
	int err;

	for (size_t base = 0; base < n; base += GCHUNK) {
		size_t m = n - base < GCHUNK ? n - base : GCHUNK;
		for (size_t j = 0; j < m; j++) {
			uint64_t fk = keys[base + j];
			uint32_t slot;
			if (feat_gram_slot(fk, &slot)) {
				const float *c = ls->gram_at[slot / GRAM_CHUNK];
				at[j] = c ? c + slot % GRAM_CHUNK : NULL;
				home[j] = SLOTS;
				continue;
			}
			err = global_bucket(ls, fast_mod((uint32_t)(fk >> 32), ls->nb_magic, nb),
			                    &b[j]);
			if (err)
				return err;
			home[j] = slot_home(fk);
			at[j] = b[j] ? &b[j]->s[home[j]] : NULL;
		}
		for (size_t j = 0; j < m && j < AHEAD; j++)
			if (at[j])
				__builtin_prefetch(at[j]);
		for (size_t j = 0; j < m; j++) {
			const bslot *sl;
			if (j + AHEAD < m && at[j + AHEAD])
				__builtin_prefetch(at[j + AHEAD]);
			if (home[j] == SLOTS) {
				out[base + j] =
				    (feat_stat){0, 0, at[j] ? *(const float *)at[j] : 0, 0};
				continue;
			}
			sl = find_slot_from(b[j], keys[base + j], home[j]);
			out[base + j] = sl ? sl->st : (feat_stat){0, 0, 0, 0};
		}
	}
	return 0;
}

/* Where the global weight of n-gram slot `slot` is in the read snapshot
 * (NULL: in a chunk never written, 0). */
static inline const float *gram_weight_at(const lmdb_store *ls, uint32_t slot)
{
	const float *c = ls->gram_at[slot / GRAM_CHUNK];

	return c ? c + slot % GRAM_CHUNK : NULL;
}

/* l_lookup for the global model in a read transaction: the tokens' keys
 * in their buckets, then the n-gram keys (known to be slot keys: their
 * slots are taken without the check) in the dense weights, AHEAD on
 * prefetched. */
static int lookup_global(lmdb_store *ls, const uint64_t *keys, size_t n, size_t ntok,
                         feat_stat *out)
{
	enum { AHEAD = 40 };
	uint32_t nb = ls->m.nbuckets;
	int err;

	if (!ls->gptr) {
		ls->gptr = calloc(nb, sizeof(*ls->gptr));
		ls->gen_of = calloc(nb, sizeof(*ls->gen_of));
		if (!ls->gptr || !ls->gen_of) {
			free(ls->gptr);
			free(ls->gen_of);
			ls->gptr = NULL;
			ls->gen_of = NULL;
			return SS_ENOMEM;
		}
		ls->nb_magic = UINT64_MAX / nb + 1;
	}
	if (ls->gram_gen != ls->gen && (err = gram_fill(ls)))
		return err;
	ntok = ntok < n ? ntok : n;
	if ((err = lookup_tokens(ls, keys, ntok, out)))
		return err;
	for (size_t j = ntok; j < n; j++) {
		const float *w;
		/* The prefetch here, not in a helper: GCC 12 -O2 drops a helper's
		 * prefetch whose result is unused (see learn/ppm.c). */
		if (j + AHEAD < n && (w = gram_weight_at(ls, feat_gram_key_slot(keys[j + AHEAD]))))
			__builtin_prefetch(w);
		w = gram_weight_at(ls, feat_gram_key_slot(keys[j]));
		out[j] = (feat_stat){0, 0, w ? *w : 0, 0};
	}
	return 0;
}

/* Looks keys up in chunks: first each key's bucket is found and the cache
 * line of its home slot prefetched, then the slots are read, so that the
 * memory accesses of a chunk overlap instead of waiting one by one. Room
 * is made first so that no bucket pointer of a chunk goes stale. */
static int l_lookup(store *s, uint32_t user, const uint64_t *keys, size_t n, size_t ntok,
                    feat_stat *out)
{
	lmdb_store *ls = (lmdb_store *)s;
	bucket *b[CHUNK];

	if (!user && !ls->writing && ls->txn)
		return lookup_global(ls, keys, n, ntok, out);
	for (size_t base = 0; base < n; base += CHUNK) {
		size_t m = n - base < CHUNK ? n - base : CHUNK;
		int err = make_room(ls, CHUNK);
		if (err)
			return err;
		for (size_t j = 0; j < m; j++) {
			uint32_t slot;
			b[j] = NULL;
			if (!user && feat_gram_slot(keys[base + j], &slot))
				continue; /* the dense slots, below */
			if ((err = get_bucket(ls, bucket_key(ls, user, keys[base + j]), 0, &b[j])))
				return err;
			if (b[j])
				__builtin_prefetch(&b[j]->s[slot_home(keys[base + j])]);
		}
		for (size_t j = 0; j < m; j++) {
			const bslot *sl = find_slot(b[j], keys[base + j]);
			uint32_t slot;
			out[base + j] = sl ? sl->st : (feat_stat){0, 0, 0, 0};
			if (!user && feat_gram_slot(keys[base + j], &slot) &&
			    (err = gram_get(ls, slot, &out[base + j].w)))
				return err;
		}
	}
	return 0;
}

static uint32_t add_count(uint32_t c, int d)
{
	return d < 0 && c < (uint32_t)-d ? 0 : c + (uint32_t)d;
}

static int l_update(store *s, uint32_t user, const uint64_t *keys, size_t n, int dspam, int dham,
                    const float *dw, uint32_t day)
{
	lmdb_store *ls = (lmdb_store *)s;
	int create = dspam >= 0 && dham >= 0;

	if (!ls->writing)
		return SS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		bucket *b;
		bslot *sl;
		uint32_t slot;
		int err;
		if (!user && feat_gram_slot(keys[i], &slot)) {
			if ((err = gram_put(ls, slot, dw[i], 0)))
				return err;
			continue;
		}
		if ((err = get_bucket(ls, bucket_key(ls, user, keys[i]), 1, &b)))
			return err;
		if (!(sl = write_slot(b, keys[i], create)))
			continue; /* unlearning a feature that has expired */
		sl->st.spam = add_count(sl->st.spam, dspam);
		sl->st.ham = add_count(sl->st.ham, dham);
		sl->st.w += dw[i];
		if (dspam || dham) /* a weight-only change (an n-gram slot) dates nothing */
			sl->st.day = day;
		if (!sl->st.spam && !sl->st.ham && (dspam < 0 || dham < 0 || sl->st.w == 0))
			delete_slot(b, (size_t)(sl - b->s));
	}
	return 0;
}

static int l_put_feat(store *s, uint32_t user, uint64_t key, const feat_stat *st)
{
	lmdb_store *ls = (lmdb_store *)s;
	bucket *b;
	uint32_t slot;
	int err;

	if (!user && feat_gram_slot(key, &slot))
		return gram_put(ls, slot, st->w, 1); /* a weight only */
	err = ls->writing ? get_bucket(ls, bucket_key(ls, user, key), 1, &b) : SS_EINVAL;
	if (!err)
		write_slot(b, key, 1)->st = *st;
	return err;
}

static int meta_get(lmdb_store *ls, const char *name, void *val, size_t len)
{
	MDB_val k = {strlen(name), (void *)name}, v;
	int rc = mdb_get(ls->txn, ls->dmeta, &k, &v);

	if (rc == MDB_NOTFOUND) {
		memset(val, 0, len);
		return 0;
	}
	if (rc)
		return lmdb_err_of(rc);
	if (v.mv_size != len)
		return SS_ECORRUPT;
	memcpy(val, v.mv_data, len);
	return 0;
}

static int meta_put(lmdb_store *ls, const char *name, const void *val, size_t len)
{
	MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)val};

	return lmdb_err_of(mdb_put(ls->txn, ls->dmeta, &k, &v, 0));
}

static int l_totals(store *s, uint32_t user, clf_totals *t)
{
	lmdb_store *ls = (lmdb_store *)s;
	char name[32];
	int err;

	/* The global totals of a read snapshot are read once. */
	if (!user && !ls->writing && ls->totals_gen == ls->gen) {
		*t = ls->totals;
		return 0;
	}
	snprintf(name, sizeof(name), "totals:%u", user);
	err = meta_get(ls, name, t, sizeof(*t));
	if (!err && !user && !ls->writing) {
		ls->totals = *t;
		ls->totals_gen = ls->gen;
	}
	return err;
}

static int l_add_totals(store *s, uint32_t user, int dspam, int dham)
{
	clf_totals t;
	char name[32];
	int err = l_totals(s, user, &t);

	if (err)
		return err;
	t.spam = dspam < 0 && t.spam < (uint64_t)-dspam ? 0 : t.spam + (uint64_t)(int64_t)dspam;
	t.ham = dham < 0 && t.ham < (uint64_t)-dham ? 0 : t.ham + (uint64_t)(int64_t)dham;
	snprintf(name, sizeof(name), "totals:%u", user);
	return meta_put((lmdb_store *)s, name, &t, sizeof(t));
}

static void msg_key(uint8_t *k, uint32_t user, const uint8_t *digest)
{
	memcpy(k, digest, STORE_DIGEST);
	memcpy(k + STORE_DIGEST, &user, 4);
}

static int l_get_msg(store *s, uint32_t user, const uint8_t *digest, msg_rec *r)
{
	lmdb_store *ls = (lmdb_store *)s;
	uint8_t kb[STORE_DIGEST + 4];
	MDB_val k = {sizeof(kb), kb}, v;
	int rc;

	msg_key(kb, user, digest);
	rc = mdb_get(ls->txn, ls->dmsgs, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return lmdb_err_of(rc);
	if (v.mv_size != sizeof(*r))
		return SS_ECORRUPT;
	memcpy(r, v.mv_data, sizeof(*r));
	return 1;
}

static int l_put_msg(store *s, uint32_t user, const uint8_t *digest, const msg_rec *r)
{
	lmdb_store *ls = (lmdb_store *)s;
	uint8_t kb[STORE_DIGEST + 4];
	MDB_val k = {sizeof(kb), kb}, v = {sizeof(*r), (void *)r};

	msg_key(kb, user, digest);
	return lmdb_err_of(mdb_put(ls->txn, ls->dmsgs, &k, &v, 0));
}

static int l_del_msg(store *s, uint32_t user, const uint8_t *digest)
{
	lmdb_store *ls = (lmdb_store *)s;
	uint8_t kb[STORE_DIGEST + 4];
	MDB_val k = {sizeof(kb), kb};
	int rc;

	msg_key(kb, user, digest);
	rc = mdb_del(ls->txn, ls->dmsgs, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : lmdb_err_of(rc);
}

static int l_user_id(store *s, const char *name, int create, uint32_t *id)
{
	lmdb_store *ls = (lmdb_store *)s;
	MDB_val k = {strlen(name), (void *)name}, v;
	int rc = mdb_get(ls->txn, ls->dusers, &k, &v), err;

	if (!rc) {
		if (v.mv_size != sizeof(*id))
			return SS_ECORRUPT;
		memcpy(id, v.mv_data, sizeof(*id));
		return 1;
	}
	if (rc != MDB_NOTFOUND)
		return lmdb_err_of(rc);
	if (!create)
		return 0;
	if (!ls->writing || !*name || k.mv_size > 200)
		return SS_EINVAL;
	/* Another process may have added users since this one opened. */
	if ((err = meta_get(ls, "layout", &ls->m, sizeof(ls->m))))
		return err;
	*id = ++ls->m.nusers;
	v = (MDB_val){sizeof(*id), id};
	if ((rc = mdb_put(ls->txn, ls->dusers, &k, &v, 0)))
		return lmdb_err_of(rc);
	err = meta_put(ls, "layout", &ls->m, sizeof(ls->m));
	return err ? err : 1;
}

/* ---- walking (export, stats) ---- */

static int each_user(lmdb_store *ls, const MDB_val *k, const MDB_val *v, const store_walker *w)
{
	char name[256];
	uint32_t id;
	clf_totals t;
	int rc;

	if (v->mv_size != sizeof(id) || k->mv_size >= sizeof(name))
		return SS_ECORRUPT;
	memcpy(&id, v->mv_data, sizeof(id));
	memcpy(name, k->mv_data, k->mv_size);
	name[k->mv_size] = 0;
	return (rc = l_totals(&ls->base, id, &t)) ? rc : w->user(w->ctx, id, name, &t);
}

static int walk_users(lmdb_store *ls, const store_walker *w)
{
	clf_totals t;
	int rc = l_totals(&ls->base, 0, &t);

	if (!rc)
		rc = w->user(w->ctx, 0, "", &t);
	return rc ? rc : walk_db(ls, ls->dusers, each_user, w);
}

static int each_bucket(lmdb_store *ls, const MDB_val *k, const MDB_val *v, const store_walker *w)
{
	const bslot *sl = v->mv_data;
	uint64_t bk;
	int rc = 0;

	if (k->mv_size != sizeof(bk) || v->mv_size != BUCKET_BYTES)
		return SS_ECORRUPT;
	memcpy(&bk, k->mv_data, sizeof(bk));
	for (size_t i = 0; !rc && i < SLOTS; i++)
		if (sl[i].key)
			rc = w->feat(w->ctx, (uint32_t)((bk - 1) >> 32), sl[i].key, &sl[i].st);
	return rc;
}

/* The global n-gram slots of non-zero weight, as features. */
static int each_gram_chunk(lmdb_store *ls, const MDB_val *k, const MDB_val *v,
                           const store_walker *w)
{
	const float *wt = v->mv_data;
	uint32_t c;
	int rc = 0;

	if (!gram_entry(k, v, &c))
		return SS_ECORRUPT;
	for (uint32_t i = 0; !rc && i < GRAM_CHUNK; i++) {
		uint32_t slot = c * GRAM_CHUNK + i;
		feat_stat st = {0, 0, wt[i], 0};
		if (wt[i] != 0 && slot < FEAT_GRAMS)
			rc = w->feat(w->ctx, 0, feat_gram_key(slot), &st);
	}
	return rc;
}

static int each_msg(lmdb_store *ls, const MDB_val *k, const MDB_val *v, const store_walker *w)
{
	msg_rec r;
	uint32_t user;

	if (k->mv_size != STORE_DIGEST + 4 || v->mv_size != sizeof(r))
		return SS_ECORRUPT;
	memcpy(&r, v->mv_data, sizeof(r));
	memcpy(&user, (const char *)k->mv_data + STORE_DIGEST, 4);
	return w->msg(w->ctx, user, k->mv_data, &r);
}

static int l_walk(store *s, const store_walker *w)
{
	lmdb_store *ls = (lmdb_store *)s;
	int rc = 0;

	if (!ls->txn)
		return SS_EINVAL;
	if (w->user)
		rc = walk_users(ls, w);
	if (!rc && w->feat)
		rc = walk_db(ls, ls->dbuckets, each_bucket, w);
	if (!rc && w->feat)
		rc = walk_db(ls, ls->dgrams, each_gram_chunk, w);
	if (!rc && w->msg)
		rc = walk_db(ls, ls->dmsgs, each_msg, w);
	return rc;
}

/* ---- transactions ---- */

static int l_begin(store *s, int write)
{
	lmdb_store *ls = (lmdb_store *)s;
	int rc;

	if (ls->txn)
		return SS_EINVAL;
	if (write && ls->read_only)
		return SS_EINVAL;
	rc = mdb_txn_begin(ls->env, NULL, write ? 0 : MDB_RDONLY, &ls->txn);
	if (rc) {
		ls->txn = NULL;
		return lmdb_err_of(rc);
	}
	ls->writing = write;
	/* Bucket addresses cached by an earlier read transaction stay good when
	 * this one reads the same snapshot: nothing was committed in between,
	 * so none of its pages can have been freed and reused. */
	if (write || mdb_txn_id(ls->txn) != ls->snap) {
		bc_clear(&ls->c);
		ls->misses = 0;
		if (++ls->gen == 0) { /* wrapped: no stale entry may match */
			if (ls->gen_of)
				memset(ls->gen_of, 0, ls->m.nbuckets * sizeof(*ls->gen_of));
			ls->totals_gen = 0;
			ls->gram_gen = 0;
			ls->gen = 1;
		}
	}
	ls->snap = write ? 0 : mdb_txn_id(ls->txn);
	return 0;
}

static int flush_dirty(lmdb_store *ls)
{
	bcache *c = &ls->c;

	for (size_t j = 0; j < c->n; j++) {
		size_t i = c->used[j];
		MDB_val k = {sizeof(uint64_t), &c->keys[i]}, v = {BUCKET_BYTES, c->ptr[i]};
		int rc;
		if (!c->dirty[i])
			continue;
		rc = mdb_put(ls->txn, ls->dbuckets, &k, &v, 0);
		if (rc)
			return lmdb_err_of(rc);
	}
	return 0;
}

static int l_end(store *s, int commit)
{
	lmdb_store *ls = (lmdb_store *)s;
	int err = 0;

	if (!ls->txn)
		return SS_EINVAL;
	if (ls->writing && commit && !(err = flush_dirty(ls)) && !(err = gram_flush(ls)) && ls->ppm)
		err = lmdb_ppm_flush(ls->ppm, ls->txn, ls->dppm);
	if (!err && commit && ls->writing)
		err = lmdb_err_of(mdb_txn_commit(ls->txn));
	else
		mdb_txn_abort(ls->txn);
	if (ls->writing) {
		bc_clear(&ls->c); /* private copies, or addresses of pages now freed */
		gram_drop(ls);
		if (ls->ppm)
			lmdb_ppm_end(ls->ppm);
	}
	ls->txn = NULL;
	ls->writing = 0;
	return err;
}

static void l_close(store *s)
{
	lmdb_store *ls = (lmdb_store *)s;

	if (ls->txn)
		l_end(s, 0);
	if (ls->env && !ls->shared)
		mdb_env_close(ls->env);
	bc_free(&ls->c);
	free(ls->gptr);
	free(ls->gen_of);
	gram_drop(ls);
	free(ls->gram_at);
	free(ls->gram_copy);
	free(ls->gram_dirty);
	lmdb_ppm_free(ls->ppm);
	free(ls);
}

/* The compression table, when the model has one (format 4). A read in a
 * write transaction sees what it learned so far. */
static int l_ppm(store *s, int write, ppm_view **v)
{
	lmdb_store *ls = (lmdb_store *)s;
	int err;

	if (!ls->txn || (write && !ls->writing))
		return SS_EINVAL;
	if (!ls->ppm_bits)
		return 0;
	if (!ls->ppm && !(ls->ppm = lmdb_ppm_new(ls->ppm_bits)))
		return SS_ENOMEM;
	err = lmdb_ppm_view(ls->ppm, ls->txn, ls->dppm, ls->writing, ls->snap, v);
	return err ? err : 1;
}

/* A second handle over the same environment (MDB_NOTLS lets its read
 * transactions move between threads; a write transaction is begun and
 * ended by one thread in every caller). */
static int l_dup(store *s, store **out)
{
	lmdb_store *ls = (lmdb_store *)s, *d = calloc(1, sizeof(*d));
	int err;

	*out = NULL;
	if (!d)
		return SS_ENOMEM;
	d->base = ls->base;
	d->env = ls->env;
	d->dmeta = ls->dmeta;
	d->dusers = ls->dusers;
	d->dbuckets = ls->dbuckets;
	d->dgrams = ls->dgrams;
	d->dmsgs = ls->dmsgs;
	d->dppm = ls->dppm;
	d->ppm_bits = ls->ppm_bits;
	d->m = ls->m;
	d->read_only = ls->read_only;
	d->shared = 1;
	d->gen = 1;
	if ((err = bc_init(&d->c, 1 << 16))) {
		bc_free(&d->c);
		free(d);
		return err;
	}
	*out = &d->base;
	return 0;
}

static const store_ops lmdb_ops = {l_close,   l_begin,      l_end,     l_lookup,  l_update,
                                   l_totals,  l_add_totals, l_get_msg, l_put_msg, l_del_msg,
                                   l_user_id, l_put_feat,   l_walk,    l_dup,     NULL,
                                   NULL,      l_ppm};

/* ---- opening ---- */

static int open_dbs(lmdb_store *ls, int create)
{
	unsigned fl = create ? MDB_CREATE : 0;
	int rc;

	if ((rc = mdb_dbi_open(ls->txn, "meta", fl, &ls->dmeta)) ||
	    (rc = mdb_dbi_open(ls->txn, "users", fl, &ls->dusers)) ||
	    (rc = mdb_dbi_open(ls->txn, "buckets", fl | MDB_INTEGERKEY, &ls->dbuckets)) ||
	    (rc = mdb_dbi_open(ls->txn, "grams", fl | MDB_INTEGERKEY, &ls->dgrams)) ||
	    (rc = mdb_dbi_open(ls->txn, "msgs", fl, &ls->dmsgs)))
		return rc == MDB_NOTFOUND ? SS_ECORRUPT : lmdb_err_of(rc);
	/* Absent from a format 3 store opened read-only: no table. */
	rc = mdb_dbi_open(ls->txn, "ppm", fl | MDB_INTEGERKEY, &ls->dppm);
	return rc == MDB_NOTFOUND ? 0 : lmdb_err_of(rc);
}

/* The compression table's size: "ppm" in meta (0: created without one);
 * format 3 stores, made before it, have none. */
static int load_ppm(lmdb_store *ls, const store_lmdb_opts *o, int create)
{
	uint32_t bits = create && !o->no_ppm ? PPM_BITS : 0;
	int err;

	if (create)
		err = meta_put(ls, "ppm", &bits, sizeof(bits));
	else
		err = ls->m.format < 4 ? 0 : meta_get(ls, "ppm", &bits, sizeof(bits));
	if (err)
		return err;
	if (bits && (bits < 8 || bits > 24))
		return SS_ECORRUPT;
	ls->ppm_bits = bits;
	return 0;
}

/* Reads the layout, or writes it for a new store. */
static int load_layout(lmdb_store *ls, const store_lmdb_opts *o)
{
	int err = meta_get(ls, "layout", &ls->m, sizeof(ls->m));

	if (err)
		return err;
	if (!ls->m.format) {
		if (ls->read_only)
			return SS_ECORRUPT;
		ls->m.format = FORMAT;
		ls->m.slots = SLOTS;
		ls->m.nbuckets = (uint32_t)((o->size_mb ? o->size_mb : 64) * 1024 / BUCKET_KIB);
		ls->m.user_nbuckets =
		    (uint32_t)((o->user_size_mb ? o->user_size_mb : 4) * 1024 / BUCKET_KIB);
		if ((err = meta_put(ls, "layout", &ls->m, sizeof(ls->m))))
			return err;
		return load_ppm(ls, o, 1);
	}
	if ((ls->m.format != FORMAT && ls->m.format != 3) || ls->m.slots != SLOTS ||
	    !ls->m.nbuckets || !ls->m.user_nbuckets)
		return SS_ECORRUPT;
	return load_ppm(ls, o, 0);
}

static int open_env(lmdb_store *ls, const char *path, const store_lmdb_opts *o)
{
	size_t total = (o->size_mb ? o->size_mb : 64) * 4 + 1024; /* MiB of address space */
	int rc;

	if (!o->read_only && mkdir(path, 0700) && errno != EEXIST)
		return SS_EIO;
	if ((rc = mdb_env_create(&ls->env)) || (rc = mdb_env_set_maxdbs(ls->env, 8)) ||
	    (rc = mdb_env_set_mapsize(ls->env, total << 20)))
		return lmdb_err_of(rc);
	rc = mdb_env_open(ls->env, path, (o->read_only ? MDB_RDONLY : 0) | MDB_NOTLS, 0600);
	if (rc == ENOENT || rc == EACCES || rc == ENOTDIR) {
		errno = rc;
		return SS_EIO;
	}
	return lmdb_err_of(rc);
}

int store_lmdb_open(const char *path, const store_lmdb_opts *opts, store **out)
{
	store_lmdb_opts o = opts ? *opts : (store_lmdb_opts){0};
	lmdb_store *ls = calloc(1, sizeof(*ls));
	int err;

	*out = NULL;
	if (!ls)
		return SS_ENOMEM;
	ls->base.ops = &lmdb_ops;
	ls->read_only = o.read_only;
	ls->gen = 1; /* gen_of starts zeroed: nothing valid */
	if ((err = bc_init(&ls->c, 1 << 16)) || (err = open_env(ls, path, &o)))
		goto fail;
	if ((err =
	         lmdb_err_of(mdb_txn_begin(ls->env, NULL, o.read_only ? MDB_RDONLY : 0, &ls->txn))))
		goto fail;
	ls->writing = !o.read_only;
	if ((err = open_dbs(ls, !o.read_only)) || (err = load_layout(ls, &o)))
		goto fail;
	/* Committed in both cases: an aborted transaction would close the
	 * database handles it opened (read-only opens could then read nothing). */
	err = lmdb_err_of(mdb_txn_commit(ls->txn));
	ls->txn = NULL;
	ls->writing = 0;
	if (err)
		goto fail;
	*out = &ls->base;
	return 0;
fail:
	if (ls->txn)
		mdb_txn_abort(ls->txn);
	ls->txn = NULL;
	l_close(&ls->base);
	return err;
}
