/*
 * lmdb_ppm.c: the compression table in LMDB (see lmdb_ppm.h).
 *
 * A read transaction finds every chunk's address in the map by one cursor
 * walk of the ~2,000 entries, once per snapshot, and scores in place: a
 * stored chunk's lines start PPM_CHUNK_PAD bytes into its value, which
 * LMDB puts right after a 16-byte page header, so they sit on cache-line
 * boundaries (where they do not, the chunk is read from an aligned copy).
 * A write transaction learns into private copies of the dense part and
 * of each chunk it touches, written at commit. A message's ~9,000 context
 * updates touch most chunks, so a commit rewrites most of the 8 MiB:
 * `learn` commits in batches for that reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spamsift.h"
#include "store/lmdb_ppm.h"

#define CHUNK_BYTES (PPM_CHUNK * sizeof(ppm_line))
#define VALUE_BYTES (PPM_CHUNK_PAD + CHUNK_BYTES)

struct lmdb_ppm {
	uint32_t bits, nchunks;
	const ppm_line **chunk; /* the view's chunk addresses */
	ppm_line **copy;        /* private (or realigned) copies, else NULL */
	uint8_t *dirty;         /* copy[k] changed by learning */
	ppm_dense *wd;          /* write transaction: the dense part's copy */
	const ppm_dense *d;     /* the dense part read (NULL: none yet) */
	uint64_t snap;          /* the snapshot chunk[] and d belong to (0: none) */
	MDB_txn *txn;           /* the write transaction (for wchunk) */
	MDB_dbi dbi;
	ppm_view v;
};

lmdb_ppm *lmdb_ppm_new(uint32_t bits)
{
	lmdb_ppm *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->bits = bits;
	p->nchunks = ppm_nchunks(bits);
	p->chunk = calloc(p->nchunks, sizeof(*p->chunk));
	p->copy = calloc(p->nchunks, sizeof(*p->copy));
	p->dirty = calloc(p->nchunks, 1);
	if (!p->chunk || !p->copy || !p->dirty) {
		lmdb_ppm_free(p);
		return NULL;
	}
	return p;
}

void lmdb_ppm_end(lmdb_ppm *p)
{
	for (uint32_t k = 0; k < p->nchunks; k++) {
		free(p->copy[k]);
		p->copy[k] = NULL;
		p->dirty[k] = 0;
	}
	free(p->wd);
	p->wd = NULL;
	p->d = NULL;
	p->snap = 0;
	p->txn = NULL;
}

void lmdb_ppm_free(lmdb_ppm *p)
{
	if (!p)
		return;
	if (p->copy)
		lmdb_ppm_end(p);
	free(p->chunk);
	free(p->copy);
	free(p->dirty);
	free(p);
}

/* An aligned copy of a chunk's lines (src NULL: zeroes), or NULL. */
static ppm_line *chunk_copy(const void *src)
{
	ppm_line *c = aligned_alloc(64, CHUNK_BYTES);

	if (c)
		memcpy(c, src ? src : (const void *)ppm_zero_chunk, CHUNK_BYTES);
	return c;
}

/* Takes stored chunk k at value data v (VALUE_BYTES) into the view. */
static int take_chunk(lmdb_ppm *p, uint32_t k, const uint8_t *v)
{
	const uint8_t *lines = v + PPM_CHUNK_PAD;

	if ((uintptr_t)lines % 64 == 0) {
		p->chunk[k] = (const ppm_line *)(const void *)lines;
		return 0;
	}
	free(p->copy[k]);
	if (!(p->copy[k] = chunk_copy(lines)))
		return SS_ENOMEM;
	p->chunk[k] = p->copy[k];
	return 0;
}

/* One entry of the database into the view: the dense part or a chunk. */
static int take_entry(lmdb_ppm *p, const MDB_val *k, const MDB_val *v)
{
	uint64_t key;

	if (k->mv_size != sizeof(key))
		return SS_ECORRUPT;
	memcpy(&key, k->mv_data, sizeof(key));
	if (!key) {
		if (v->mv_size != sizeof(ppm_dense) || (uintptr_t)v->mv_data % 8)
			return SS_ECORRUPT;
		p->d = v->mv_data;
		return 0;
	}
	if (key > p->nchunks || v->mv_size != VALUE_BYTES)
		return SS_ECORRUPT;
	return take_chunk(p, (uint32_t)(key - 1), v->mv_data);
}

/* Finds every stored entry's address (chunks absent are zero). */
static int fill(lmdb_ppm *p, MDB_txn *txn, MDB_dbi dbi)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, dbi, &cur), got = 0, err = 0;

	if (rc)
		return lmdb_err_of(rc);
	lmdb_ppm_end(p);
	for (uint32_t c = 0; c < p->nchunks; c++)
		p->chunk[c] = ppm_zero_chunk;
	for (int op = MDB_FIRST; !err && !(got = mdb_cursor_get(cur, &k, &v, op)); op = MDB_NEXT)
		err = take_entry(p, &k, &v);
	mdb_cursor_close(cur);
	if (!err && got != MDB_NOTFOUND)
		err = lmdb_err_of(got);
	return err;
}

/* wchunk of the view: chunk k's private copy (made on first use). */
static ppm_line *write_chunk(void *ctx, uint32_t k)
{
	lmdb_ppm *p = ctx;

	if (!p->copy[k] && !(p->copy[k] = chunk_copy(p->chunk[k])))
		return NULL;
	p->chunk[k] = p->copy[k];
	p->dirty[k] = 1;
	return p->copy[k];
}

/* Write transaction: the dense part's private copy. */
static int write_dense(lmdb_ppm *p)
{
	if (p->wd)
		return 0;
	if (!(p->wd = malloc(sizeof(*p->wd))))
		return SS_ENOMEM;
	if (p->d)
		memcpy(p->wd, p->d, sizeof(*p->wd));
	else
		memset(p->wd, 0, sizeof(*p->wd));
	p->d = p->wd;
	return 0;
}

int lmdb_ppm_view(lmdb_ppm *p, MDB_txn *txn, MDB_dbi dbi, int write, uint64_t snap, ppm_view **out)
{
	int err = 0;

	if (write ? p->txn != txn : !snap || snap != p->snap) {
		if ((err = fill(p, txn, dbi)))
			goto out;
		p->snap = write ? 0 : snap;
		p->txn = write ? txn : NULL;
	}
	if (write && (err = write_dense(p)))
		goto out;
	p->v = (ppm_view){p->d, p->chunk, p->bits, p->wd, write_chunk, p};
	*out = &p->v;
out:
	if (err)
		lmdb_ppm_end(p);
	return err;
}

int lmdb_ppm_flush(lmdb_ppm *p, MDB_txn *txn, MDB_dbi dbi)
{
	uint64_t key = 0;
	MDB_val k = {sizeof(key), &key}, v = {sizeof(ppm_dense), NULL};
	int rc;

	if (!p->wd)
		return 0;
	if ((rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE)))
		return lmdb_err_of(rc);
	memcpy(v.mv_data, p->wd, sizeof(ppm_dense));
	for (uint32_t c = 0; c < p->nchunks; c++) {
		if (!p->dirty[c])
			continue;
		key = (uint64_t)c + 1;
		v = (MDB_val){VALUE_BYTES, NULL};
		if ((rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE)))
			return lmdb_err_of(rc);
		memset(v.mv_data, 0, PPM_CHUNK_PAD);
		memcpy((uint8_t *)v.mv_data + PPM_CHUNK_PAD, p->copy[c], CHUNK_BYTES);
	}
	return 0;
}
