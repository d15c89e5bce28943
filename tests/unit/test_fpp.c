/*
 * test_fpp.c: the fingerprint protocol codec (proto/fpp.h): messages
 * round-trip, sealed packets open only under their key, truncation and
 * forgery are refused, keys files parse and refuse bad lines.
 */
#include <sodium.h>
#include <string.h>

#include "harness.h"
#include "proto/fpp.h"
#include "spamsift.h"

static fpp_msg sample_add(void)
{
	fpp_msg m = {.cmd = FPP_ADD,
	             .ts = 1700000000,
	             .reqid = 42,
	             .cls = FPP_SPAM,
	             .weight = 2.5,
	             .hops = 1,
	             .nvisited = 1,
	             .has_text = 1,
	             .ndigests = 2};

	for (size_t i = 0; i < FP_NHASH; i++)
		m.text.h[i] = (uint32_t)(i * 2654435761u);
	memset(m.digests[0].sha256, 0xab, 32);
	memset(m.digests[1].sha256, 0xcd, 32);
	memset(m.origin, 7, FPP_SERVER_ID);
	m.origin_seq = 0x0102030405060708ULL;
	memset(m.visited[0], 7, FPP_SERVER_ID);
	strcpy(m.reporter, "orgA");
	return m;
}

TEST(fpp_add_round_trips_and_truncation_is_refused)
{
	fpp_msg m = sample_add(), d;
	uint8_t buf[FPP_MAX_PACKET];
	int n = fpp_msg_encode(&m, buf, sizeof(buf));

	CHECK(n > 0);
	CHECK(fpp_msg_decode(buf, (size_t)n, &d) == 0);
	CHECK(d.cmd == FPP_ADD && d.reqid == 42 && d.ts == 1700000000 && d.cls == FPP_SPAM);
	CHECK(d.weight == 2.5 && d.hops == 1 && d.nvisited == 1 && !strcmp(d.reporter, "orgA"));
	CHECK(d.origin_seq == m.origin_seq && !memcmp(d.origin, m.origin, FPP_SERVER_ID));
	CHECK(!memcmp(&d.text, &m.text, sizeof(m.text)) && d.ndigests == 2);
	CHECK(!memcmp(d.digests, m.digests, 2 * sizeof(fp_digest)));
	for (int i = 0; i < n; i++)
		CHECK(fpp_msg_decode(buf, (size_t)i, &d) == SS_EINVAL);
	buf[n] = 0;
	CHECK(fpp_msg_decode(buf, (size_t)n + 1, &d) == SS_EINVAL);
	CHECK(fpp_msg_encode(&m, buf, 10) == SS_EINVAL);
}

TEST(fpp_del_carries_its_origin_and_visited_list)
{
	fpp_msg m = sample_add(), d;
	uint8_t buf[FPP_MAX_PACKET];
	int n;

	m.cmd = FPP_DEL;
	m.weight = 0;
	n = fpp_msg_encode(&m, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK(fpp_msg_decode(buf, (size_t)n, &d) == 0);
	CHECK(d.cmd == FPP_DEL && d.origin_seq == m.origin_seq && d.nvisited == 1);
	CHECK(!memcmp(d.visited[0], m.visited[0], FPP_SERVER_ID) && !strcmp(d.reporter, "orgA"));
	CHECK(!memcmp(&d.text, &m.text, sizeof(m.text)) && d.ndigests == 2);
	for (int i = 0; i < n; i++)
		CHECK(fpp_msg_decode(buf, (size_t)i, &d) == SS_EINVAL);
}

TEST(fpp_lookup_reply_round_trips)
{
	fpp_msg m = {.cmd = FPP_LOOKUP,
	             .is_reply = 1,
	             .reqid = 9,
	             .found = 1,
	             .cls = FPP_HAM,
	             .similarity = 0.9375,
	             .weight = 1,
	             .first_seen = 5,
	             .last_seen = 6,
	             .count = 3};
	fpp_msg d;
	uint8_t buf[256];
	int n = fpp_msg_encode(&m, buf, sizeof(buf));

	CHECK(n > 0 && fpp_msg_decode(buf, (size_t)n, &d) == 0);
	CHECK(d.is_reply && d.found && d.similarity == 0.9375 && d.count == 3 && d.last_seen == 6);
}

TEST(fpp_sealed_packet_opens_only_under_its_key)
{
	uint8_t k1[FPP_SECRET], k2[FPP_SECRET], pkt[FPP_MAX_PACKET];
	fpp_msg m = sample_add(), d;
	fpp_envelope env;
	int n;

	CHECK(sodium_init() >= 0);
	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	n = fpp_seal("orgA", k1, &m, pkt, sizeof(pkt));
	CHECK(n > 0);
	CHECK(fpp_envelope_parse(pkt, (size_t)n, &env) == 0 && !strcmp(env.name, "orgA"));
	CHECK(fpp_open(&env, k1, &d) == 0 && d.reqid == 42);
	CHECK(fpp_open(&env, k2, &d) == SS_EINVAL);
	pkt[n - 1] ^= 1;
	CHECK(fpp_open(&env, k1, &d) == SS_EINVAL);
	CHECK(fpp_envelope_parse(pkt, 10, &env) == SS_EINVAL);
	pkt[0] = 2;
	CHECK(fpp_envelope_parse(pkt, (size_t)n, &env) == SS_EINVAL);
}

TEST(fpp_keys_file_parses_and_refuses_bad_lines)
{
	static const char good[] =
	    "# keys\n\norgA rw AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	    "reader ro AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= rate=5/s\n";
	static const char dup[] = "a rw AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	                          "a ro AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	const char *bad[] = {"a xx AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "a rw AAAA",
	                     "a rw AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= rate=0/s",
	                     "a rw AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= rate=5 extra", "a"};
	fpp_key keys[4], k;
	size_t n;
	unsigned line;
	char out[160];

	CHECK(fpp_keys_parse(good, strlen(good), keys, 4, &n, &line) == 0 && n == 2);
	CHECK(!strcmp(keys[1].name, "reader") && keys[1].read_only && keys[1].rate == 5);
	CHECK(!keys[0].read_only && keys[0].rate == 0 && keys[1].secret[31] == 1);
	CHECK(fpp_keys_parse(dup, strlen(dup), keys, 4, &n, &line) == SS_ESYNTAX && line == 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(fpp_key_parse_line(bad[i], strlen(bad[i]), &k) == SS_ESYNTAX);
	CHECK(fpp_key_format(&keys[1], out, sizeof(out)) == 0);
	CHECK(fpp_key_parse_line(out, strlen(out), &k) == 1 && !memcmp(&k, &keys[1], sizeof(k)));
}

/* A reporter name with a NUL inside decoded to a shorter name, so the
 * message re-encoded to other bytes (found by fuzz_fpp): now refused. */
TEST(fpp_refuses_a_reporter_name_with_a_nul)
{
	size_t len = 0;
	char *buf = test_read_data("fuzz-regress/fpp-reporter-with-nul", &len);
	fpp_msg m;

	CHECK(buf != NULL);
	if (buf)
		CHECK(fpp_msg_decode((const uint8_t *)buf, len, &m) == SS_EINVAL);
	free(buf);
}
