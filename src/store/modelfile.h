/*
 * modelfile.h: the model export format (`spamsift export`), and its
 * parser, I/O-free: the caller reads lines, the parser turns each into
 * store operations.
 *
 * The format is text, one record per line, so that a backup can be read,
 * diffed and moved between machines of any byte order:
 *   spamsift-model 4              (3: without a compression table)
 *   user ID NAME SPAM HAM         (ID 0: the global model; NAME "-" for it)
 *   f USER KEYHEX SPAM HAM WEIGHT DAY
 *   m USER DIGESTHEX CLASS NFEAT STEP GRAMSTEP TIME
 *   ppm BITS                      (the compression table: 2^BITS lines)
 *   pd OFFSET HEX                 (a non-zero piece of its dense part)
 *   pl INDEX HEX                  (a non-zero line)
 */
#ifndef SS_STORE_MODELFILE_H
#define SS_STORE_MODELFILE_H

#include <stdint.h>

#include "store/store.h"

/* First line of an export; the version changes with what features mean. */
#define MF_MAGIC "spamsift-model 4\n"
#define MF_MAGIC_3 "spamsift-model 3\n"
#define MF_PIECE 256   /* bytes of the table's dense part a "pd" line holds */
#define MF_USERS 65536 /* user IDs an export may hold */
#define MF_LINE 1024   /* longest line (a "pd" line is 2 * MF_PIECE + 12) */

/* Where an import stands (mf_import_init). */
typedef struct mf_import {
	store *s;
	uint32_t map[MF_USERS]; /* the export's user IDs -> the target's */
	ppm_view *pv;           /* the target's table, NULL: none (or not taken) */
	int ppm_seen;           /* a "ppm" line was read */
	int ppm_left_out;       /* MF_PPM_NONE or MF_PPM_SIZE: the table is not imported */
} mf_import;

enum { MF_PPM_NONE = 1, MF_PPM_SIZE = 2 };

/* Whether line (the first of a file) starts an export this version reads:
 * 0 yes, 1 an export of another version, -1 not an export. */
int mf_magic(const char *line);

/* Starts an import into s, inside a write transaction the caller holds. */
void mf_import_init(mf_import *im, store *s);

/* Applies one line (NUL-terminated, its newline optional): 0, 1 for a
 * malformed line, or a negative SS_E* code from the store. A bad line
 * should abort the caller's transaction: what came before it is in. */
int mf_import_line(mf_import *im, const char *line);

#endif
