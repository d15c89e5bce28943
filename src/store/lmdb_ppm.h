/*
 * lmdb_ppm.h: the compression expert's table (learn/ppm.h) in an LMDB
 * database of the embedded store (lmdb.c): key 0 holds the dense part,
 * key k + 1 chunk k (PPM_CHUNK_PAD bytes, then PPM_CHUNK lines: one page,
 * its lines on cache-line boundaries). An absent chunk is all zero.
 */
#ifndef SS_STORE_LMDB_PPM_H
#define SS_STORE_LMDB_PPM_H

#include <lmdb.h>

#include "learn/ppm.h"

typedef struct lmdb_ppm lmdb_ppm;

/* An LMDB return code as an SS_E* code (lmdb.c). */
int lmdb_err_of(int rc);

/* A new, empty state for one store handle (a table of 2^bits lines), or
 * NULL when out of memory. */
lmdb_ppm *lmdb_ppm_new(uint32_t bits);
void lmdb_ppm_free(lmdb_ppm *p);

/* The table as txn sees it (database dbi); *out is p's, valid until
 * lmdb_ppm_end. With write (txn a write transaction), learning changes
 * private copies that lmdb_ppm_flush writes. snap names the snapshot of a
 * read transaction: the chunks' addresses found for it are kept while
 * snap stays the same (0: never kept). Returns 0, SS_ENOMEM, SS_ECORRUPT
 * (an entry of the wrong size) or an I/O error. */
int lmdb_ppm_view(lmdb_ppm *p, MDB_txn *txn, MDB_dbi dbi, int write, uint64_t snap, ppm_view **out);

/* Writes what learning changed (before the commit of txn). */
int lmdb_ppm_flush(lmdb_ppm *p, MDB_txn *txn, MDB_dbi dbi);

/* Forgets the transaction: drops private copies and map addresses. */
void lmdb_ppm_end(lmdb_ppm *p);

#endif
