/*
 * rjrecord.h: the payload of one Redis learn journal record (the frame
 * is rjournal's), encoded and decoded without I/O. The bytes come back
 * from a file, so the decoder trusts nothing (fuzzed: fuzz_rjrecord.c).
 *
 * A record holds one learn's write batch for one user (the ops the write
 * script applies, with its check), its intent (the report behind the
 * batch: user name, message digest, learn spam / learn ham / unlearn, the
 * message's feature keys), or both. Replaying the intent redoes the
 * report against the model as it is then; the ops are what is sent when
 * no one can redo it.
 *
 * Version 2 (written now): "SSIR", a version byte (2), a flags byte
 * (1: batch, 2: intent), then
 *   batch:  user u32, has_check u8, digest[16], expect_len u8 (0 or 21),
 *           expect[21], ops_len u32, ops
 *   intent: action u8, digest[16], ntok u32, nkeys u32, keys (8 bytes
 *           each, little-endian), name_len u16, name (no NUL)
 * all little-endian, nothing after. Version 1 (spamsift before intents):
 * user u32, has_check u8 (0 or 1), digest[16], expect_len u8, expect[21],
 * ops to the end; its fifth byte, has_check, is never 2, which tells the
 * two apart.
 */
#ifndef SS_STORE_RJRECORD_H
#define SS_STORE_RJRECORD_H

#include <stddef.h>
#include <stdint.h>

#define RJ_DIGEST 16
#define RJ_REC 21        /* a message record in Redis */
#define RJ_MAX_NAME 1024 /* bytes of a user name in an intent */

/* A decoded (or to be encoded) record; pointers into the caller's bytes. */
typedef struct rj_record {
	int version; /* decoded: 1 or 2 */
	/* the batch */
	int has_batch;
	uint32_t user;
	int has_check;
	const uint8_t *digest; /* RJ_DIGEST bytes (has_check) */
	size_t expect_len;     /* 0: the record was absent; else RJ_REC */
	const uint8_t *expect;
	const uint8_t *ops;
	size_t ops_len;
	/* the intent (what rj_intent_encode made) */
	int has_intent;
	int action;             /* 0 learn ham, 1 learn spam, 2 unlearn */
	const uint8_t *idigest; /* RJ_DIGEST bytes */
	uint32_t ntok, nkeys;   /* keys[0..ntok) are token features */
	const uint8_t *keys;    /* nkeys * 8 bytes, little-endian */
	const char *name;       /* name_len bytes, not NUL-terminated; "" global */
	size_t name_len;
} rj_record;

/* Encodes an intent's part of a record into a malloc'ed buffer (*len its
 * size). Returns NULL when out of memory or when the name is longer than
 * RJ_MAX_NAME or holds a NUL, or ntok > n. */
uint8_t *rj_intent_encode(int action, const uint8_t *digest, const uint64_t *keys, size_t n,
                          size_t ntok, const char *name, size_t *len);

/* Encodes a version 2 record of r's batch (when has_batch) and of the
 * intent part `intent` (intent_len bytes from rj_intent_encode; NULL: none)
 * into a malloc'ed buffer; NULL when out of memory. */
uint8_t *rj_encode(const rj_record *r, const uint8_t *intent, size_t intent_len, size_t *len);

/* Decodes p[0..len) (either version) into *r, whose pointers point into
 * p. Returns 0, or -1 when p is not a whole, well-formed record. */
int rj_decode(const uint8_t *p, size_t len, rj_record *r);

/* Key i of a decoded intent. */
uint64_t rj_key(const rj_record *r, size_t i);

#endif
