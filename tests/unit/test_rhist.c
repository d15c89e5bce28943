/*
 * test_rhist.c: the Redis history backend's values (history/rcodec.c):
 * the index value and the raw value round trip and refuse malformed bytes
 * (what Redis returns is untrusted), ids parse strictly, and the id maker
 * gives increasing ids below 2^53 that differ between two daemons.
 */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "history/history.h"

static history_rec *mkrec(void)
{
	history_rec *r = calloc(1, sizeof(*r));

	r->time_ms = 1763870000123;
	r->score = -2.5;
	r->scan_ms = 1.25;
	r->action = 2;
	r->search = strdup("\xe9\xa1\xb9\xe7\x9b\xae mx\x01SPAMSIFT_BAYES");
	r->search_len = strlen(r->search);
	r->user = strdup("alice");
	r->raw = strdup("Subject: x\n\nbody\n");
	r->raw_len = strlen(r->raw);
	return r;
}

static void freerec(history_rec *r)
{
	free(r->search);
	free(r->user);
	free(r->raw);
	free(r);
}

TEST(rhist_idx_round_trip)
{
	history_rec *r = mkrec();
	sbuf b = SBUF_INIT;
	history_item it;

	CHECK(!hr_idx_encode(r, &b));
	CHECK(b.len == HR_IDX_HEAD + r->search_len);
	CHECK(!hr_idx_decode(b.p, b.len, &it));
	CHECK(it.time_ms == r->time_ms && it.score == -2.5 && it.scan_ms == 1.25 && it.action == 2);
	CHECK_SLICE(it.search, it.search_len, r->search);
	/* little-endian, whatever the machine: the time's low byte first */
	CHECK((uint8_t)b.p[0] == (uint8_t)(r->time_ms & 0xff));
	/* too short, a bad action, a NaN score: refused */
	for (size_t n = 0; n < HR_IDX_HEAD; n++)
		CHECK(hr_idx_decode(b.p, n, &it) == -1);
	b.p[24] = 3;
	CHECK(hr_idx_decode(b.p, b.len, &it) == -1);
	b.p[24] = 0;
	memset(b.p + 8, 0xff, 8); /* a NaN */
	CHECK(hr_idx_decode(b.p, b.len, &it) == -1);
	CHECK(hr_idx_decode(NULL, 30, &it) == -1);
	sbuf_release(&b);
	freerec(r);
}

TEST(rhist_raw_round_trip)
{
	history_rec *r = mkrec();
	sbuf b = SBUF_INIT;
	char user[HISTORY_MAX_USER + 2];
	size_t off, len;

	CHECK(!hr_raw_encode(r, &b));
	CHECK(!hr_raw_decode(b.p, b.len, user, sizeof(user), &off, &len));
	CHECK(!strcmp(user, "alice"));
	CHECK_SLICE(b.p + off, len, r->raw);
	CHECK(hr_raw_decode(b.p, b.len, user, 5, &off, &len) == -1); /* no room for the NUL */
	CHECK(hr_raw_decode(b.p, 5, user, sizeof(user), &off, &len) == -1); /* user cut */
	CHECK(hr_raw_decode(b.p, 0, user, sizeof(user), &off, &len) == -1);
	b.p[2] = 0; /* a NUL in the user */
	CHECK(hr_raw_decode(b.p, b.len, user, sizeof(user), &off, &len) == -1);
	sbuf_release(&b);
	free(r->user);
	r->user = NULL; /* the global model: an empty user */
	CHECK(!hr_raw_encode(r, &b));
	CHECK(!hr_raw_decode(b.p, b.len, user, sizeof(user), &off, &len));
	CHECK(!user[0] && off == 1 && len == r->raw_len);
	sbuf_release(&b);
	freerec(r);
}

TEST(rhist_id_parse)
{
	CHECK(hr_id_parse("1", 1) == 1);
	CHECK(hr_id_parse("9007199254740991", 16) == 9007199254740991ULL);
	CHECK(hr_id_parse("9007199254740992", 16) == 0); /* 2^53 */
	CHECK(hr_id_parse("12345678901234567", 17) == 0);
	CHECK(hr_id_parse("0", 1) == 0);
	CHECK(hr_id_parse("012", 3) == 0);
	CHECK(hr_id_parse("12a", 3) == 0);
	CHECK(hr_id_parse("-1", 2) == 0);
	CHECK(hr_id_parse("", 0) == 0);
	CHECK(hr_id_parse(NULL, 3) == 0);
}

TEST(rhist_ids)
{
	hr_idgen a = {0, 0, 1}, b = {0, 0, 2};
	int64_t t = 1763870000000; /* 2025-11-23 */
	uint64_t prev = 0, x, y;

	/* 1,000 ids in one millisecond: increasing (the next ms borrowed) */
	for (int i = 0; i < 1000; i++, prev = x)
		CHECK((x = hr_id_next(&a, t)) > prev);
	/* the clock going back does not make an id go back */
	CHECK(hr_id_next(&a, t - 5000) > prev);
	x = hr_id_next(&b, t + 100000);
	y = hr_id_next(&a, t + 100000);
	CHECK(x != y && x >> 13 == y >> 13);   /* same millisecond, other node */
	CHECK(hr_id_next(&b, t + 100001) > y); /* a later ms is a larger id */
	CHECK(x < (1ULL << 53) && x > 0);
	/* 2050 still fits in 53 bits */
	CHECK(hr_id_next(&b, 2524608000000LL) < (1ULL << 53));
	CHECK(hr_id_parse("1", 1) == 1);
}
