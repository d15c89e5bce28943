/*
 * stats.c: the charts' data from the history (see history.h): counts per
 * action and latency percentiles per time bucket, the spam share by hour
 * of the day, and the symbols that fire most.
 */
#include "history/history.h"

#include <stdlib.h>
#include <string.h>

#include "spamsift.h"
#include "util/json.h"

#define NBUCKETS 48
#define MAX_NAMES 4096 /* distinct symbol names counted */
#define TOP_NAMES 15
#define NAME_MAX_LEN 64

typedef struct lat {
	double *v;
	size_t n, cap;
} lat;

typedef struct name_count {
	char name[NAME_MAX_LEN];
	uint64_t n;
} name_count;

typedef struct stats {
	int64_t from_ms, width_ms;
	uint64_t actions[NBUCKETS][3];
	lat bl[NBUCKETS], all;
	uint64_t hour_total[24], hour_spam[24];
	name_count *names; /* open addressing, MAX_NAMES slots */
	size_t nnames;
	uint64_t total;
	int err;
} stats;

static int lat_add(lat *l, double v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		double *p = realloc(l->v, cap * sizeof(*p));
		if (!p)
			return SS_ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = v;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100) of a sorted list; 0 when empty. */
static double pct(const lat *l, double p)
{
	size_t i;

	if (!l->n)
		return 0;
	i = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
	return l->v[i < l->n ? i : l->n - 1];
}

static void count_name(stats *s, const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	if (!n || n >= NAME_MAX_LEN)
		return;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	for (size_t i = 0; i < MAX_NAMES; i++) {
		name_count *c = &s->names[(h + i) % MAX_NAMES];
		if (!c->n && s->nnames == MAX_NAMES)
			return; /* full: names not yet seen are not counted */
		if (!c->n) {
			memcpy(c->name, p, n);
			c->name[n] = 0;
			s->nnames++;
		} else if (strncmp(c->name, p, n) || c->name[n]) {
			continue;
		}
		c->n++;
		return;
	}
}

/* The symbol names after the search text's last '\x01'. */
static void count_names(stats *s, const char *search, size_t len)
{
	const char *p = memrchr(search, 1, len), *end = search + len;

	for (p = p ? p + 1 : end; p < end;) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *e = sp ? sp : end;
		count_name(s, p, (size_t)(e - p));
		p = e + 1;
	}
}

static int add_item(void *ctx, const history_item *it)
{
	stats *s = ctx;
	int64_t b = (it->time_ms - s->from_ms) / s->width_ms;
	int hour = (int)((it->time_ms / 3600000) % 24);

	if (b < 0 || b >= NBUCKETS)
		return 0;
	s->total++;
	s->actions[b][it->action >= 0 && it->action < 3 ? it->action : 0]++;
	s->hour_total[hour]++;
	s->hour_spam[hour] += it->action != ENGINE_NO_ACTION;
	count_names(s, it->search, it->search_len);
	if (lat_add(&s->bl[b], it->scan_ms) || lat_add(&s->all, it->scan_ms))
		return s->err = SS_ENOMEM;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	const name_count *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->name, y->name);
}

static int buckets_json(stats *s, sbuf *out)
{
	int err = sbuf_addf(out, "\"bucket_ms\":%lld,\"buckets\":[", (long long)s->width_ms);

	for (int i = 0; !err && i < NBUCKETS; i++) {
		lat *l = &s->bl[i];
		if (l->n)
			qsort(l->v, l->n, sizeof(double), cmp_double);
		err = sbuf_addf(
		    out,
		    "%s{\"t\":%lld,\"no_action\":%llu,\"add_header\":%llu,"
		    "\"reject\":%llu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f}",
		    i ? "," : "", (long long)(s->from_ms + i * s->width_ms),
		    (unsigned long long)s->actions[i][0], (unsigned long long)s->actions[i][1],
		    (unsigned long long)s->actions[i][2], pct(l, 50), pct(l, 90), pct(l, 99));
	}
	return err ? err : sbuf_addc(out, ']');
}

static int hours_json(const stats *s, sbuf *out)
{
	int err = sbuf_adds(out, ",\"spam_share_by_hour\":[");

	for (int i = 0; !err && i < 24; i++)
		err = sbuf_addf(out, "%s{\"hour\":%d,\"total\":%llu,\"spam\":%llu}", i ? "," : "",
		                i, (unsigned long long)s->hour_total[i],
		                (unsigned long long)s->hour_spam[i]);
	return err ? err : sbuf_addc(out, ']');
}

static int names_json(stats *s, sbuf *out)
{
	size_t n = 0;
	int err;

	for (size_t i = 0; i < MAX_NAMES; i++)
		if (s->names[i].n)
			s->names[n++] = s->names[i];
	if (n)
		qsort(s->names, n, sizeof(*s->names), cmp_names);
	err = sbuf_adds(out, ",\"top_symbols\":[");
	for (size_t i = 0; !err && i < n && i < TOP_NAMES; i++) {
		err = sbuf_adds(out, i ? ",{" : "{");
		if (!err)
			err = json_kv_str(out, "name", s->names[i].name, strlen(s->names[i].name));
		if (!err)
			err = sbuf_addf(out, ",\"count\":%llu}", (unsigned long long)s->names[i].n);
	}
	return err ? err : sbuf_addc(out, ']');
}

int history_stats_json(history *h, int64_t now_ms, int64_t span_ms, sbuf *out)
{
	stats *s = calloc(1, sizeof(*s));
	int err;

	if (!s || !(s->names = calloc(MAX_NAMES, sizeof(*s->names)))) {
		free(s);
		return SS_ENOMEM;
	}
	s->width_ms = span_ms / NBUCKETS > 0 ? span_ms / NBUCKETS : 1;
	s->from_ms = now_ms - s->width_ms * NBUCKETS + 1;
	err = h->ops->walk(h, s->from_ms, add_item, s);
	if (!err)
		err = s->err;
	if (s->all.n)
		qsort(s->all.v, s->all.n, sizeof(double), cmp_double);
	if (!err)
		err = sbuf_addf(
		    out,
		    "{\"from\":%lld,\"to\":%lld,\"total\":%llu,\"latency_ms\":{\"p50\":%.3f,"
		    "\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},",
		    (long long)s->from_ms, (long long)now_ms, (unsigned long long)s->total,
		    pct(&s->all, 50), pct(&s->all, 90), pct(&s->all, 99), pct(&s->all, 100));
	if (!err)
		err = buckets_json(s, out);
	if (!err)
		err = hours_json(s, out);
	if (!err)
		err = names_json(s, out);
	if (!err)
		err = sbuf_addc(out, '}');
	for (int i = 0; i < NBUCKETS; i++)
		free(s->bl[i].v);
	free(s->all.v);
	free(s->names);
	free(s);
	return err;
}
