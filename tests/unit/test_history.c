/*
 * test_history.c: the scan history (history/history.h): a record made from
 * a scan (decoded subject, envelope, symbols, digest, raw bytes), the LMDB
 * backend (newest first, paging, filters, the entry bound, the raw byte
 * budget, feedback, reopening) and the writer (ids, batching, drops when
 * its queue is full), and the statistics.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "history/history.h"

static const char msg_zh[] = "From: =?UTF-8?Q?=C3=94ng_B=C3=ACnh?= <b@example.vn>\n"
                             "Subject: =?UTF-8?B?5L2g5aW9?= there\n\nbody\n";

static engine_symbol syms[] = {
    {"SPAMSIFT_BAYES", 4.5, "learned classifier", NULL, 0},
    {"MISSING_DATE", 0.3, "no Date field", NULL, 0},
};

/* A record of msg_zh, with `score`, `action` and time t. */
static history_rec *rec(double score, int action, int64_t t, const char *from, size_t raw_cap)
{
	const char *rcpts[] = {"you@here.example"};
	engine_envelope env = {"192.0.2.7", "mx.example", from, rcpts, 1};
	engine_result res;
	history_scan s = {"http", "alice", &env, msg_zh, sizeof(msg_zh) - 1, &res, 1.5, t, raw_cap};

	memset(&res, 0, sizeof(res));
	res.score = score;
	res.action = (engine_action)action;
	res.is_spam = action != 0;
	res.symbols = syms;
	res.nsymbols = 2;
	return history_rec_make(&s);
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/ss-history-XXXXXX");

	return mkdtemp(d) ? d : NULL;
}

static void rmtree(char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	CHECK(system(cmd) == 0);
	free(d);
}

TEST(history_record)
{
	history_rec *r = rec(4.8, 2, 1700000000123, "a@example.com", 1 << 20);

	CHECK(r != NULL);
	CHECK_CONTAINS(r->summary, r->summary_len,
	               "\"subject\":\"\xe4\xbd\xa0\xe5\xa5\xbd there\"");
	CHECK_CONTAINS(r->summary, r->summary_len, "\"action\":\"reject\"");
	CHECK_CONTAINS(r->summary, r->summary_len, "\"ip\":\"192.0.2.7\"");
	CHECK_CONTAINS(r->summary, r->summary_len, "\"rcpt\":[\"you@here.example\"]");
	CHECK_CONTAINS(r->summary, r->summary_len, "{\"name\":\"MISSING_DATE\",\"score\":0.3000}");
	CHECK_CONTAINS(r->summary, r->summary_len, "\"user\":\"alice\"");
	CHECK_CONTAINS(r->summary, r->summary_len, "\"time\":1700000000123");
	CHECK_CONTAINS(r->summary, r->summary_len,
	               "\"header_from\":\"\xc3\x94ng B\xc3\xacnh <b@example.vn>\"");
	CHECK_CONTAINS(r->search, r->search_len, "\xc3\x94ng B\xc3\xacnh");
	CHECK_CONTAINS(r->detail, r->detail_len, "\"description\":\"no Date field\"");
	CHECK_CONTAINS(r->search, r->search_len, "a@example.com");
	CHECK(r->raw_len == sizeof(msg_zh) - 1 && !memcmp(r->raw, msg_zh, r->raw_len));
	CHECK(r->user && !strcmp(r->user, "alice"));
	history_rec_free(r);
	r = rec(1, 0, 1, NULL, 10); /* over the raw cap: no bytes */
	CHECK(r && !r->raw && !r->raw_len);
	CHECK_CONTAINS(r->summary, r->summary_len, "\"from\":null");
	history_rec_free(r);
}

TEST(history_subject_cut)
{
	char *m = malloc(3000);
	size_t n = (size_t)snprintf(m, 3000, "Subject: ");
	engine_result res;
	history_scan s = {NULL, NULL, NULL, m, 0, &res, 0, 0, 0};
	history_rec *r;

	for (int i = 0; i < 600; i++) /* 1,800 bytes of a 3-byte character */
		n += (size_t)snprintf(m + n, 3000 - n, "\xe4\xbd\xa0");
	n += (size_t)snprintf(m + n, 3000 - n, "\n\nbody\n");
	s.len = n;
	memset(&res, 0, sizeof(res));
	r = history_rec_make(&s);
	CHECK(r != NULL);
	/* cut to at most HISTORY_MAX_SUBJECT bytes, on a character boundary */
	const char *p = strstr(r->summary, "\"subject\":\"") + 11, *e = strchr(p, '"');
	CHECK((size_t)(e - p) <= HISTORY_MAX_SUBJECT && (e - p) % 3 == 0 && e - p > 900);
	history_rec_free(r);
	free(m);
}

/* Writes n records through a writer, times 1000..; returns the writer. */
static void fill(history *h, int n, int64_t t0)
{
	history_writer *w = history_writer_new(h, 64, 5);

	for (int i = 0; i < n; i++) {
		history_rec *r =
		    rec(i % 3 == 0 ? 9.0 : -2.0 + i * 0.01, i % 3 == 0 ? 2 : 0, t0 + i * 1000,
		        i == 7 ? "Needle@Example.org" : "x@example.com", 1 << 20);
		while (r && !history_writer_push(w, r)) { /* queue full: wait and retry */
			history_writer_sync(w);
			r = rec(i % 3 == 0 ? 9.0 : -2.0 + i * 0.01, i % 3 == 0 ? 2 : 0,
			        t0 + i * 1000, i == 7 ? "Needle@Example.org" : "x@example.com",
			        1 << 20);
		}
	}
	history_writer_sync(w);
	CHECK(history_writer_errors(w) == 0);
	history_writer_free(w);
}

static int count(const char *json)
{
	int n = 0;

	for (const char *p = json; (p = strstr(p, "{\"id\":")); p++)
		n++;
	return n;
}

TEST(history_lmdb_list)
{
	char *d = tmpdir();
	history *h = NULL;
	history_query q = {0, 10, -1, -HUGE_VAL, HUGE_VAL, NULL, 0};
	sbuf b = SBUF_INIT;

	CHECK(d && !history_lmdb_open(d, 1000, 1 << 20, &h));
	fill(h, 30, 1700000000000);
	CHECK(!h->ops->list(h, &q, &b));
	CHECK(count(b.p) == 10);
	CHECK(!strncmp(b.p, "{\"entries\":[{\"id\":30,", 21)); /* newest first */
	CHECK_CONTAINS(b.p, b.len, "\"next\":21}");
	sbuf_reset(&b);
	q.before = 21;
	CHECK(!h->ops->list(h, &q, &b));
	CHECK(!strncmp(b.p, "{\"entries\":[{\"id\":20,", 21));
	sbuf_reset(&b);
	q.before = 0;
	q.action = 2; /* reject: ids 1, 4, ..., 28 */
	q.limit = 500;
	CHECK(!h->ops->list(h, &q, &b) && count(b.p) == 10);
	CHECK_CONTAINS(b.p, b.len, "\"next\":null}");
	sbuf_reset(&b);
	q.action = -1;
	q.min = -1.795;
	q.max = 0; /* no-action ones from -1.795 up: i 22, 23, 25, 26, 28, 29 */
	CHECK(!h->ops->list(h, &q, &b) && count(b.p) == 6);
	sbuf_reset(&b);
	q.min = -HUGE_VAL;
	q.max = HUGE_VAL;
	q.q = "needle@example"; /* case-insensitive */
	CHECK(!h->ops->list(h, &q, &b) && count(b.p) == 1);
	CHECK_CONTAINS(b.p, b.len, "{\"id\":8,");
	sbuf_reset(&b);
	q.q = "\xe4\xbd\xa0\xe5\xa5\xbd"; /* the decoded subject */
	CHECK(!h->ops->list(h, &q, &b) && count(b.p) == 30);
	sbuf_reset(&b);
	q.q = "missing_date"; /* a symbol */
	CHECK(!h->ops->list(h, &q, &b) && count(b.p) == 30);
	sbuf_reset(&b);
	q.q = NULL;
	q.since_ms = 1700000000000 + 25000;
	CHECK(!h->ops->list(h, &q, &b) && count(b.p) == 5);
	sbuf_release(&b);
	history_close(h);
	rmtree(d);
}

TEST(history_lmdb_bounds)
{
	char *d = tmpdir();
	history *h = NULL;
	history_info i;
	sbuf b = SBUF_INIT;
	char user[HISTORY_MAX_USER + 2];
	size_t one = 1 + 5 + sizeof(msg_zh) - 1; /* a raw value: user length, user, bytes */

	CHECK(d && !history_lmdb_open(d, 20, 3 * one, &h));
	fill(h, 50, 1000);
	CHECK(!h->ops->info(h, &i));
	CHECK(i.entries == 20 && i.oldest == 31 && i.newest == 50);
	CHECK(i.raw_entries == 3 && i.raw_bytes == 3 * one);
	CHECK(h->ops->get(h, 30, &b) == 1);
	CHECK(h->ops->raw(h, 47, &b, user, sizeof(user)) == 1); /* beyond the budget */
	CHECK(!h->ops->raw(h, 48, &b, user, sizeof(user)));
	CHECK(b.len == sizeof(msg_zh) - 1 && !strcmp(user, "alice"));
	sbuf_reset(&b);
	CHECK(!h->ops->feedback(h, 48, "spam"));
	CHECK(h->ops->feedback(h, 2, "spam") == 1);
	CHECK(!h->ops->get(h, 48, &b));
	CHECK_CONTAINS(b.p, b.len, "\"feedback\":\"spam\",\"raw_kept\":true,\"result\":{");
	sbuf_reset(&b);
	history_close(h);
	/* reopened with smaller bounds: trimmed at once, ids go on */
	CHECK(!history_lmdb_open(d, 5, 0, &h));
	CHECK(!h->ops->info(h, &i) && i.entries == 5 && i.oldest == 46 && i.raw_entries == 0);
	fill(h, 1, 99000);
	CHECK(!h->ops->info(h, &i) && i.newest == 51 && i.entries == 5);
	sbuf_release(&b);
	history_close(h);
	rmtree(d);
}

TEST(history_lmdb_full_file)
{
	char *d = tmpdir();
	history *h = NULL;
	history_info i;
	uint64_t id = 0;
	int errs = 0;

	/* 1 MiB of file, records of 40 KB: full after about 25 */
	CHECK(d && !history_lmdb_open_map(d, 1000, 0, 1 << 20, &h));
	for (int b = 0; b < 20; b++) {
		history_rec *recs[5];
		for (int k = 0; k < 5; k++) {
			recs[k] = rec(1, 0, b * 5 + k, NULL, 0);
			free(recs[k]->detail);
			recs[k]->detail_len = 40000;
			recs[k]->detail = calloc(1, recs[k]->detail_len);
			recs[k]->id = ++id;
		}
		errs += h->ops->put(h, recs, 5) != 0;
		for (int k = 0; k < 5; k++)
			history_rec_free(recs[k]);
	}
	CHECK(errs == 0); /* every batch went in, the oldest made room */
	CHECK(!h->ops->info(h, &i));
	CHECK(i.newest == 100 && i.entries < 100 && i.entries >= 5);
	history_close(h);
	rmtree(d);
}

/* A backend whose put waits at a gate the test opens: the writer is stuck
 * in a commit, as behind a slow disk, whatever the machine's speed. */
typedef struct gated {
	history base;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int open;
	uint64_t stored;
} gated;

static int gated_put(history *h, history_rec *const *recs, size_t n)
{
	gated *g = (gated *)h;

	(void)recs;
	pthread_mutex_lock(&g->mu);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	g->stored += n;
	pthread_mutex_unlock(&g->mu);
	return 0;
}

static int gated_info(history *h, history_info *out)
{
	(void)h;
	memset(out, 0, sizeof(*out));
	return 0;
}

static const history_ops gated_ops = {.put = gated_put, .info = gated_info};

TEST(history_writer_drops_when_full)
{
	gated g = {{&gated_ops}, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	history_writer *w = history_writer_new(&g.base, 8, 1);
	uint64_t got = 0, dropped = 0, last = 0;

	CHECK(w != NULL);
	for (int i = 0; i < 20; i++) {
		uint64_t id = history_writer_push(w, rec(1, 0, i, NULL, 0));
		got += id != 0;
		dropped += id == 0;
		if (id) {
			CHECK(id == last + 1); /* ids follow each other */
			last = id;
		}
	}
	/* 8 queued, and at most one batch of 8 taken before the gate: the
	 * rest dropped, counted, and the pushes never waited */
	CHECK(got >= 8 && got <= 16 && dropped == 20 - got);
	CHECK(history_writer_drops(w) == dropped);
	pthread_mutex_lock(&g.mu);
	g.open = 1;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	history_writer_free(w); /* commits what was queued */
	CHECK(g.stored == got);
}

TEST(history_stats)
{
	char *d = tmpdir();
	history *h = NULL;
	sbuf b = SBUF_INIT;

	CHECK(d && !history_lmdb_open(d, 1000, 0, &h));
	fill(h, 30, 1700000000000);
	CHECK(!history_stats_json(h, 1700000000000 + 30000, 48000, &b));
	CHECK_CONTAINS(b.p, b.len, "\"total\":30,");
	CHECK_CONTAINS(b.p, b.len, "\"latency_ms\":{\"p50\":1.500,");
	CHECK_CONTAINS(b.p, b.len,
	               "\"top_symbols\":[{\"name\":\"MISSING_DATE\",\"count\":30},"
	               "{\"name\":\"SPAMSIFT_BAYES\",\"count\":30}]");
	CHECK_CONTAINS(b.p, b.len, "{\"hour\":22,\"total\":30,\"spam\":10}");
	sbuf_release(&b);
	history_close(h);
	rmtree(d);
}
