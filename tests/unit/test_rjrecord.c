/*
 * test_rjrecord.c: the Redis learn journal's record payload
 * (src/store/rjrecord.c): both parts round-trip, the version 1 records of
 * earlier spamsift still decode, and damaged bytes are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store/rjrecord.h"

static const uint8_t dg[RJ_DIGEST] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t rec[RJ_REC] = {1, 9, 9, 9};
static const uint8_t ops[] = "T\x08\0\0\0\x01\0\0\0\0\0\0\0";

/* A record with a batch (user 7, check "was rec") and, when with_intent,
 * the intent "learn ham for bob" of 3 keys (2 of them tokens). */
static uint8_t *sample(int with_intent, size_t *len)
{
	static const uint64_t keys[3] = {0x1122334455667788ULL, 1, UINT64_MAX};
	rj_record r = {.has_batch = 1,
	               .user = 7,
	               .has_check = 1,
	               .digest = dg,
	               .expect_len = RJ_REC,
	               .expect = rec,
	               .ops = ops,
	               .ops_len = sizeof(ops) - 1};
	size_t ilen = 0;
	uint8_t *in = with_intent ? rj_intent_encode(0, dg, keys, 3, 2, "bob", &ilen) : NULL;
	uint8_t *p = rj_encode(&r, in, ilen, len);

	free(in);
	return p;
}

TEST(rjrecord_round_trip)
{
	size_t len;
	uint8_t *p = sample(1, &len);
	rj_record r;

	CHECK(p && rj_decode(p, len, &r) == 0);
	CHECK(r.version == 2 && r.has_batch && r.user == 7 && r.has_check);
	CHECK(!memcmp(r.digest, dg, RJ_DIGEST) && r.expect_len == RJ_REC);
	CHECK(!memcmp(r.expect, rec, RJ_REC));
	CHECK(r.ops_len == sizeof(ops) - 1 && !memcmp(r.ops, ops, r.ops_len));
	CHECK(r.has_intent && r.action == 0 && !memcmp(r.idigest, dg, RJ_DIGEST));
	CHECK(r.nkeys == 3 && r.ntok == 2 && rj_key(&r, 0) == 0x1122334455667788ULL);
	CHECK(rj_key(&r, 1) == 1 && rj_key(&r, 2) == UINT64_MAX);
	CHECK(r.name_len == 3 && !memcmp(r.name, "bob", 3));
	free(p);
}

TEST(rjrecord_intent_only_and_batch_only)
{
	size_t ilen, len;
	uint8_t *in = rj_intent_encode(2, dg, NULL, 0, 0, "", &ilen);
	rj_record r = {0};
	uint8_t *p = in ? rj_encode(&r, in, ilen, &len) : NULL;

	CHECK(p && rj_decode(p, len, &r) == 0);
	CHECK(!r.has_batch && r.has_intent && r.action == 2 && r.nkeys == 0 && r.name_len == 0);
	free(p);
	free(in);
	p = sample(0, &len);
	CHECK(p && rj_decode(p, len, &r) == 0 && r.has_batch && !r.has_intent);
	free(p);
}

TEST(rjrecord_version_1_decodes)
{
	/* user 5 (le32), has_check 1, digest, expect_len 0, expect, ops */
	uint8_t v1[4 + 1 + RJ_DIGEST + 1 + RJ_REC + 3] = {5, 0, 0, 0, 1};
	rj_record r;

	memcpy(v1 + 5, dg, RJ_DIGEST);
	memcpy(v1 + 6 + RJ_DIGEST + RJ_REC, "T\0\0", 3);
	CHECK(rj_decode(v1, sizeof(v1), &r) == 0);
	CHECK(r.version == 1 && r.has_batch && r.user == 5 && r.has_check && r.expect_len == 0);
	CHECK(!r.has_intent && r.ops_len == 3 && !memcmp(r.ops, "T\0\0", 3));
	v1[4] = 3; /* neither a version 1 check flag nor version 2 */
	CHECK(rj_decode(v1, sizeof(v1), &r) == -1);
}

TEST(rjrecord_damage_refused)
{
	size_t len;
	uint8_t *p = sample(1, &len), *q = malloc(len + 1);
	rj_record r;

	/* Every cut of a whole record is refused (nothing read past it). */
	for (size_t n = 0; p && q && n < len; n++) {
		memcpy(q, p, n);
		if (rj_decode(q, n, &r) != -1) {
			CHECK(!"a cut record decodes");
			break;
		}
	}
	memcpy(q, p, len);
	q[len] = 0;
	CHECK(rj_decode(q, len + 1, &r) == -1); /* a byte after it */
	q[len - 2] = 0;                         /* a NUL in the name */
	CHECK(rj_decode(q, len, &r) == -1);
	memcpy(q, p, len);
	q[5] = 0; /* no part at all */
	CHECK(rj_decode(q, len, &r) == -1);
	free(p);
	free(q);
}

TEST(rjrecord_intent_limits)
{
	char name[RJ_MAX_NAME + 2];
	size_t len;
	uint64_t k = 1;
	uint8_t *p;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	CHECK(rj_intent_encode(1, dg, &k, 1, 1, name, &len) == NULL); /* name too long */
	name[RJ_MAX_NAME] = 0;
	CHECK((p = rj_intent_encode(1, dg, &k, 1, 1, name, &len)) != NULL);
	free(p);
	CHECK(rj_intent_encode(1, dg, &k, 1, 2, "x", &len) == NULL); /* ntok > n */
	CHECK(rj_intent_encode(3, dg, &k, 1, 1, "x", &len) == NULL); /* no such action */
}
