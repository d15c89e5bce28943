/*
 * test_redis_url.c: the Redis URL parser (src/store/redis_url.c) and the
 * learn journal (src/store/rjournal.c).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "harness.h"
#include "spamsift.h"
#include "store/redis_cluster.h"
#include "store/redis_mirror.h"
#include "store/redis_url.h"
#include "store/rjournal.h"

static int parse(const char *s, redis_url *u)
{
	const char *why = NULL;
	int rc = redis_url_parse(s, strlen(s), u, &why);

	CHECK(rc == 0 || (why && *why));
	return rc;
}

TEST(redis_url_forms)
{
	redis_url u;

	CHECK(parse("redis://127.0.0.1:6380/3", &u) == 0);
	CHECK(!strcmp(u.host, "127.0.0.1") && u.port == 6380 && u.db == 3 && !u.pass[0]);
	CHECK(parse("redis://cache.example", &u) == 0);
	CHECK(!strcmp(u.host, "cache.example") && u.port == 6379 && u.db == 0);
	CHECK(parse("redis://:s%40cret@h:1/", &u) == 0);
	CHECK(!strcmp(u.pass, "s@cret") && !u.user[0] && u.port == 1 && u.db == 0);
	CHECK(parse("redis://bob:pw@h", &u) == 0);
	CHECK(!strcmp(u.user, "bob") && !strcmp(u.pass, "pw"));
	CHECK(parse("redis://a:b@c@h:7", &u) == 0); /* the last '@' ends the password */
	CHECK(!strcmp(u.pass, "b@c") && !strcmp(u.host, "h") && u.port == 7);
	CHECK(parse("redis://[::1]:6390/15", &u) == 0);
	CHECK(!strcmp(u.host, "::1") && u.port == 6390 && u.db == 15 && !u.tls);
	CHECK(parse("rediss://:pw@cache.example:6380/2", &u) == 0); /* TLS */
	CHECK(u.tls && !strcmp(u.host, "cache.example") && u.port == 6380 && u.db == 2);
	CHECK(!strcmp(u.pass, "pw"));
}

TEST(redis_url_sentinel)
{
	static const char *bad[] = {"redis+sentinel://h",
	                            "redis+sentinel://h/",
	                            "redis+sentinel://h,/m",
	                            "redis+sentinel://,h/m",
	                            "redis+sentinel://a,b,c,d,e,f/m",
	                            "redis+sentinel://h/m m",
	                            "redis+sentinel://h/m/16",
	                            "redis+sentinel://h:0/m"};
	redis_url u;

	CHECK(parse("redis+sentinel://:pw@127.0.0.1,[::1]:26380,s3/mymaster/3", &u) == 0);
	CHECK(u.nsentinels == 3 && !strcmp(u.service, "mymaster") && u.db == 3 && !u.tls);
	CHECK(!strcmp(u.sentinel[0].host, "127.0.0.1") && u.sentinel[0].port == 26379);
	CHECK(!strcmp(u.sentinel[1].host, "::1") && u.sentinel[1].port == 26380);
	CHECK(!strcmp(u.sentinel[2].host, "s3") && !strcmp(u.pass, "pw"));
	CHECK(!strcmp(u.host, "127.0.0.1") && u.port == 26379); /* the first, until asked */
	CHECK(parse("rediss+sentinel://h/m", &u) == 0 && u.tls && u.nsentinels == 1 && !u.db);
	CHECK(parse("redis://h/3", &u) == 0 && !u.service[0] && !u.nsentinels);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &u) != -1)
			test_fail(__FILE__, __LINE__, bad[i]);
}

TEST(redis_url_refused)
{
	static const char *bad[] = {"rediss://",      "http://h",       "redis://",
	                            "redis://:6379",  "redis://h:0",    "redis://h:65536",
	                            "redis://h:12x",  "redis://h/16",   "redis://h/x",
	                            "redis://h:",     "redis://[::1",   "redis://[::1]x",
	                            "redis://h o",    "redis://pw@h",   "redis://:%4@h",
	                            "redis://:%00@h", "redis://[zz]:1", "redis://h:6379/1/2"};
	redis_url u;
	const char *why = NULL;
	char big[600];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &u) != -1)
			test_fail(__FILE__, __LINE__, bad[i]);
	CHECK(redis_url_parse("http://h", 8, &u, &why) == -1 && strstr(why, "rediss://"));
	memset(big, 'a', sizeof(big));
	memcpy(big, "redis://", 8);
	CHECK(redis_url_parse(big, sizeof(big), &u, &why) == -1); /* host too long */
	memcpy(big, "redis://:", 9);
	big[500] = '@';
	CHECK(redis_url_parse(big, 510, &u, &why) == -1); /* password too long */
}

typedef struct seen {
	int n, stop_at;
	char last[16];
} seen;

static int on_rec(void *ctx, const uint8_t *p, size_t len)
{
	seen *s = ctx;

	if (s->n == s->stop_at)
		return SS_EIO;
	s->n++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int)len, (const char *)p);
	return 0;
}

static char *jpath(void)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/ss-rjournal-%d", (int)getpid());
	unlink(path);
	return path;
}

TEST(rjournal_order_bound_and_partial_replay)
{
	rjournal *j;
	size_t dropped;
	seen s = {0, -1, ""};
	char *path = jpath(), big[80] = "";

	CHECK(rjournal_open(path, 100, &j, &dropped) == 0 && dropped == 0);
	CHECK(rjournal_append(j, "one", 3) == 0);
	CHECK(rjournal_append(j, "two", 3) == 0);
	CHECK(rjournal_size(j) == 30);
	/* The bound: 12 + 80 would pass 100 bytes. */
	CHECK(rjournal_append(j, big, 80) == SS_EBUSY && rjournal_refused(j) == 1);
	CHECK(rjournal_size(j) == 30);
	s.stop_at = 1; /* the second record fails: the first is done and gone */
	CHECK(rjournal_replay(j, on_rec, &s) == SS_EIO && s.n == 1 && !strcmp(s.last, "one"));
	CHECK(rjournal_size(j) == 15);
	s = (seen){0, -1, ""};
	CHECK(rjournal_replay(j, on_rec, &s) == 0 && s.n == 1 && !strcmp(s.last, "two"));
	CHECK(rjournal_size(j) == 0);
	rjournal_close(j);
	unlink(path);
}

TEST(rjournal_torn_tail_cut_off)
{
	rjournal *j;
	size_t dropped;
	seen s = {0, -1, ""};
	char *path = jpath();
	FILE *f;

	CHECK(rjournal_open(path, 0, &j, &dropped) == 0);
	CHECK(rjournal_append(j, "kept", 4) == 0);
	CHECK(rjournal_append(j, "torn", 4) == 0);
	rjournal_close(j);
	CHECK(truncate(path, 16 + 14) == 0); /* half of the second frame */
	CHECK(rjournal_open(path, 0, &j, &dropped) == 0 && dropped == 14);
	CHECK(rjournal_append(j, "next", 4) == 0);
	CHECK(rjournal_replay(j, on_rec, &s) == 0 && s.n == 2 && !strcmp(s.last, "next"));
	rjournal_close(j);
	/* A flipped byte: the CRC refuses that frame and what follows. */
	CHECK(rjournal_open(path, 0, &j, &dropped) == 0);
	CHECK(rjournal_append(j, "abcd", 4) == 0);
	rjournal_close(j);
	f = fopen(path, "r+");
	CHECK(f && fseek(f, 13, SEEK_SET) == 0 && fputc('X', f) != EOF);
	if (f)
		fclose(f);
	CHECK(rjournal_open(path, 0, &j, &dropped) == 0 && dropped == 16 && rjournal_size(j) == 0);
	rjournal_close(j);
	unlink(path);
}

TEST(redis_config_keys)
{
	static const char good[] = "http = 127.0.0.1:0\n"
	                           "redis = redis://:pw@127.0.0.1:6380/2\n"
	                           "redis-replica = redis://127.0.0.1:6381\n"
	                           "redis_journal = /var/lib/spamsift/journal\n"
	                           "redis_journal_size = 8192\n"
	                           "redis_cache = 0.5\n"
	                           "redis_timeout = 0.2\n";
	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"redis = rediss://h:0\n", "redis: bad port"},
	    {"redis_replica = redis://h:0\n", "redis_replica: bad port"},
	    {"redis_cache = -1\n", "redis_cache: '-1' is not a number"},
	    {"redis_timeout = 0\n", "redis_timeout: '0' is not a number"},
	    {"redis_journal_size = 100\n", "redis_journal_size: '100' is not a number"},
	};
	const char *both = "http = 127.0.0.1:1\ndb = /x\nredis = redis://h\n";
	const char *lone = "http = 127.0.0.1:1\nredis_journal = /j\n";
	const char *seeds = "http = 127.0.0.1:1\nredis = redis://a:1\nredis = redis://b:2\n"
	                    "redis = redis://c:3\n";
	config_kv cl = {CONFIG_REDIS, "redis://d:4"};
	config c;
	config_error e;

	config_init(&c);
	CHECK(c.redis_cache == 1.0 && c.redis_timeout == 1.0 && c.redis_journal_size == 64u << 20);
	CHECK(config_parse(&c, good, sizeof(good) - 1, &e) == 0 && config_check(&c, &e) == 0);
	CHECK(c.redis && !strcmp(c.redis, "redis://:pw@127.0.0.1:6380/2"));
	CHECK(c.redis_replica && c.redis_journal && c.redis_journal_size == 8192);
	CHECK(c.redis_cache == 0.5 && c.redis_timeout == 0.2);
	config_release(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_init(&c);
		CHECK(config_parse(&c, bad[i].text, strlen(bad[i].text), &e) == -1 && e.line == 1);
		CHECK_CONTAINS(e.msg, strlen(e.msg), bad[i].msg);
		config_release(&c);
	}
	config_init(&c);
	CHECK(config_parse(&c, seeds, strlen(seeds), &e) == 0 && config_check(&c, &e) == 0);
	CHECK(c.redis && !strcmp(c.redis, "redis://a:1") && c.nredis_seeds == 2);
	CHECK(!strcmp(c.redis_seeds[0], "redis://b:2") && !strcmp(c.redis_seeds[1], "redis://c:3"));
	CHECK(config_apply(&c, &cl, 1, &e) == 0); /* the command line replaces them all */
	CHECK(!strcmp(c.redis, "redis://d:4") && c.nredis_seeds == 0);
	config_release(&c);
	config_init(&c);
	CHECK(config_parse(&c, both, strlen(both), &e) == 0);
	CHECK(config_check(&c, &e) == -1 && e.line == 3);
	CHECK_CONTAINS(e.msg, strlen(e.msg), "db and redis");
	config_release(&c);
	config_init(&c);
	CHECK(config_parse(&c, lone, strlen(lone), &e) == 0);
	CHECK(config_check(&c, &e) == -1);
	CHECK_CONTAINS(e.msg, strlen(e.msg), "need redis");
	config_release(&c);
}

TEST(redis_cluster_key_slot)
{
	/* The Cluster specification's examples. */
	CHECK(rc_key_slot("123456789", 9) == 12739);
	CHECK(rc_key_slot("{user1000}.following", 20) == rc_key_slot("{user1000}.followers", 20));
	CHECK(rc_key_slot("{user1000}.following", 20) == rc_key_slot("user1000", 8));
	CHECK(rc_key_slot("foo{}{bar}", 10) != rc_key_slot("bar", 3)); /* empty tag: whole key */
	CHECK(rc_key_slot("foo{{bar}}zap", 13) == rc_key_slot("{bar", 4));
	CHECK(rc_key_slot("foo{bar}{zap}", 13) == rc_key_slot("bar", 3));
	/* One learn's keys share a slot. */
	CHECK(rc_key_slot("ss{u7}:f", 8) == rc_key_slot("ss{u7}:m", 8));
	CHECK(rc_key_slot("ss{u7}:f", 8) == rc_key_slot("ss{u7}:t", 8));
}

TEST(redis_cluster_redirect)
{
	static const char *bad[] = {
	    "MOVED",      "MOVED 1 h",    "MOVED x h:1", "MOVED 16384 h:1", "MOVED 1 h:0",
	    "MOVED 1 :1", "MOVED 1 h:1x", "ERR no",      "ASK  h:1",        "MOVED 123456 h:1"};
	char host[RC_HOST];
	unsigned slot;
	int ask, port;
	rc_map *m = calloc(1, sizeof(*m));

	CHECK(rc_parse_redirect("MOVED 3999 127.0.0.1:6381", 25, &ask, &slot, host, sizeof(host),
	                        &port) == 0);
	CHECK(!ask && slot == 3999 && !strcmp(host, "127.0.0.1") && port == 6381);
	CHECK(rc_parse_redirect("ASK 0 ::1:7000", 14, &ask, &slot, host, sizeof(host), &port) == 0);
	CHECK(ask && slot == 0 && !strcmp(host, "::1") && port == 7000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rc_parse_redirect(bad[i], strlen(bad[i]), &ask, &slot, host, sizeof(host),
		                      &port) != -1)
			test_fail(__FILE__, __LINE__, bad[i]);
	CHECK(rc_parse_redirect("MOVED 1 abcdef:1", 16, &ask, &slot, host, 4, &port) == -1);
	/* The map: ranges, a node named twice is one node, the bound. */
	CHECK(m && rc_map_range(m, 0, 5460, "127.0.0.1", 7000) == 0);
	CHECK(rc_map_range(m, 5461, 16383, "127.0.0.1", 7001) == 0);
	CHECK(rc_map_range(m, 100, 200, "127.0.0.1", 7000) == 0 && m->nnodes == 2);
	CHECK(m->slot_node[5460] == 0 && m->slot_node[5461] == 1 && m->slot_node[150] == 0);
	CHECK(rc_map_range(m, 10, 16384, "127.0.0.1", 7000) == -1);
	for (int i = 2; i < RC_MAX_NODES; i++)
		CHECK(rc_node_index(m, "10.0.0.1", 1000 + i) == i);
	CHECK(rc_node_index(m, "10.0.0.1", 1) == -1);
	free(m);
}

TEST(redis_mirror_table)
{
	rmirror *m = rmirror_new();
	rm_table *t = rm_table_new(16);
	uint64_t keys[3] = {0, 42, 1ull << 63};
	feat_stat out[3], st = {3, 1, 0.5f, 7};
	clf_totals tot = {10, 20}, got;

	CHECK(m && t);
	CHECK(rmirror_lookup(m, keys, 3, out, &got) == -1); /* not ready */
	for (uint64_t k = 1; k <= 200000; k++) {            /* grows past its first size */
		feat_stat s = {(uint32_t)k, 0, 0, 0};
		if (rm_table_put(t, k * 7919, &s))
			break;
	}
	CHECK(rm_table_put(t, 0, &st) == 0);
	rmirror_swap(m, t, &tot);
	rmirror_synced(m, 1234);
	CHECK(rmirror_lookup(m, keys, 3, out, &got) == 1234);
	CHECK(out[0].spam == 3 && out[0].w == 0.5f && out[1].spam == 0 && out[2].spam == 0);
	CHECK(got.spam == 10 && got.ham == 20);
	keys[1] = 7919 * 500;
	CHECK(rmirror_lookup(m, keys, 2, out, &got) == 1234 && out[1].spam == 500);
	st.spam = 99;
	tot.spam = 11;
	CHECK(rmirror_update(m, keys + 1, &st, 1, &tot) == 0);
	CHECK(rmirror_lookup(m, keys, 2, out, &got) == 1234 && out[1].spam == 99 && got.spam == 11);
	rmirror_free(m);
}
