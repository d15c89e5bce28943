/*
 * test_rusers.c: the per-user model copies and the name table of the Redis
 * store (store/redis_users.c), driven as the sync thread and the scans
 * drive them, without Redis.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/redis_users.h"
#include "harness.h"

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Loads every copy not loaded yet with feature 7 = the user's id. */
static size_t load_all(rusers *u)
{
	size_t n, loaded = 0;
	ruser **l = rusers_list(u, &n);

	for (size_t i = 0; i < n; i++) {
		if (!l[i]->loaded) {
			rm_table *t = rm_table_new(16);
			feat_stat st = {l[i]->id, 0, 0, 0};
			clf_totals tot = {l[i]->id, 1};
			rm_table_put(t, 7, &st);
			rmirror_swap(l[i]->m, t, &tot);
			rmirror_synced(l[i]->m, 1000 + l[i]->id);
			l[i]->loaded = 1;
			loaded++;
		}
		rusers_release(u, l[i]);
	}
	free(l);
	rusers_loaded(u);
	return loaded;
}

TEST(rusers_copies_asked_loaded_evicted)
{
	rusers *u = rusers_new(1); /* a byte: every copy is over the bound */
	uint64_t key = 7;
	feat_stat st;
	clf_totals tot;
	int64_t t0 = ms_now();
	size_t n, bytes;

	CHECK(u != NULL);
	/* Not there: asked for, waited for (20 ms here), not answered. */
	CHECK(rusers_wait_asked(u, 0) == 0);
	CHECK(rusers_lookup(u, 5, &key, 1, &st, &tot, 20) == -1);
	CHECK(ms_now() - t0 >= 19);
	CHECK(rusers_wait_asked(u, 0) == 1); /* the sync thread is told */
	CHECK(load_all(u) == 1 && load_all(u) == 0);
	CHECK(rusers_lookup(u, 5, &key, 1, &st, &tot, 0) == 1005);
	CHECK(st.spam == 5 && tot.spam == 5 && tot.ham == 1);
	rusers_lookup(u, 6, &key, 1, &st, &tot, 0);
	load_all(u);
	rusers_size(u, &n, &bytes);
	CHECK(n == 2 && bytes > 0);
	/* Over the bound: the least recently read goes first, and only what
	 * must; a copy in use (referenced) stays. */
	{
		size_t k;
		ruser **l = rusers_list(u, &k); /* both referenced */
		CHECK(k == 2 && rusers_evict(u, ms_now(), 600000) == 0);
		for (size_t i = 0; i < k; i++)
			rusers_release(u, l[i]);
		free(l);
	}
	CHECK(rusers_evict(u, ms_now(), 600000) == 2);
	rusers_size(u, &n, &bytes);
	CHECK(n == 0 && bytes == 0);
	rusers_free(u);

	/* A model too big for a copy: scans are told at once, without waiting. */
	u = rusers_new((size_t)64 << 20);
	CHECK(rusers_max_copy(u) == (size_t)4 << 20);
	rusers_lookup(u, 9, &key, 1, &st, &tot, 0);
	{
		size_t k;
		ruser **l = rusers_list(u, &k);
		CHECK(k == 1);
		__atomic_store_n(&l[0]->too_big, 1, __ATOMIC_RELEASE);
		rusers_release(u, l[0]);
		free(l);
	}
	t0 = ms_now();
	CHECK(rusers_lookup(u, 9, &key, 1, &st, &tot, 5000) == RUSERS_TOO_BIG);
	CHECK(ms_now() - t0 < 1000);
	rusers_free(u);

	/* Idle copies go even under the bound. */
	u = rusers_new((size_t)64 << 20);
	rusers_lookup(u, 8, &key, 1, &st, &tot, 0);
	load_all(u);
	CHECK(rusers_evict(u, ms_now(), 600000) == 0);
	CHECK(rusers_evict(u, ms_now() + 700000, 600000) == 1);
	rusers_free(u);
}

/* A sync thread that answers names after a delay. */
static void *answer_later(void *arg)
{
	rusers *u = arg;
	char *names[4];
	size_t n = 0;

	while (!(n = rusers_names_asked(u, names, 4)))
		rusers_wait_asked(u, 10);
	for (size_t i = 0; i < n; i++) {
		rusers_name_set(u, names[i], strcmp(names[i], "alice") ? 0 : 42, ms_now());
		free(names[i]);
	}
	return NULL;
}

TEST(rusers_names)
{
	rusers *u = rusers_new((size_t)1 << 20);
	char *names[4];
	uint32_t id = 0;
	int stale;
	pthread_t th;

	CHECK(u != NULL);
	/* Never asked: -1 after the wait, and it is in the queue once. */
	CHECK(rusers_name(u, "alice", &id, 1000, 0, &stale) == -1 && stale == -1);
	CHECK(rusers_name(u, "alice", &id, 1000, 0, &stale) == -1);
	CHECK(rusers_names_asked(u, names, 4) == 1 && !strcmp(names[0], "alice"));
	free(names[0]);
	/* Answered: an id is kept for good, an absence for stale_ms. */
	rusers_name_set(u, "alice", 42, ms_now());
	rusers_name_set(u, "bob", 0, ms_now());
	CHECK(rusers_name(u, "alice", &id, 0, 0, &stale) == 1 && id == 42);
	CHECK(rusers_name(u, "bob", &id, 1000, 0, &stale) == 0);
	/* An old absence is asked again; no answer in time: the old one. */
	rusers_name_set(u, "carol", 0, ms_now() - 5000);
	CHECK(rusers_name(u, "carol", &id, 1000, 10, &stale) == -1 && stale == 0);
	CHECK(rusers_names_asked(u, names, 4) == 1 && !strcmp(names[0], "carol"));
	free(names[0]);
	/* Redis gave no answer: the name may be asked again. */
	rusers_name_set(u, "carol", 0, -1);
	CHECK(rusers_name(u, "carol", &id, 1000, 0, &stale) == -1);
	CHECK(rusers_names_asked(u, names, 4) == 1);
	free(names[0]);
	rusers_free(u);

	/* A scan waits for the answer the sync thread gives meanwhile. */
	u = rusers_new((size_t)1 << 20);
	CHECK(pthread_create(&th, NULL, answer_later, u) == 0);
	CHECK(rusers_name(u, "alice", &id, 1000, 5000, &stale) == 1 && id == 42);
	pthread_join(th, NULL);
	rusers_free(u);
}
