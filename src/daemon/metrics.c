/*
 * metrics.c: per-door counters with relaxed atomics, and their Prometheus
 * rendering (see metrics.h).
 */
#include "daemon/metrics.h"

#include <string.h>
#include <time.h>

#include "store/store.h"

/* Upper bounds of the latency buckets, in seconds: a scan takes about
 * 0.2 ms, so the buckets are fine below 10 ms. */
static const double bucket_le[METRICS_NBUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                   0.01,   0.025,   0.05,   0.1,   0.5,    1.0};

static const char *const action_label[3] = {"no_action", "add_header", "reject"};
static const char *const learned_label[4] = {"unchanged", "learned", "unlearned", "moved"};
static const char *const error_label[METRICS_NERRORS] = {"protocol", "message", "internal",
                                                         "timeout"};

static void add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void metrics_init(metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->start = (double)time(NULL);
}

metrics_door *metrics_door_get(metrics *m, const char *name)
{
	for (unsigned i = 0; i < m->n; i++)
		if (!strcmp(m->d[i].name, name))
			return &m->d[i];
	if (m->n == METRICS_MAX_DOORS)
		return NULL;
	m->d[m->n].name = name;
	return &m->d[m->n++];
}

void metrics_scan(metrics_door *d, engine_action act, double seconds)
{
	unsigned b = 0;

	if (!d)
		return;
	while (b < METRICS_NBUCKETS && seconds > bucket_le[b])
		b++;
	add(&d->scanned[(unsigned)act < 3 ? act : 0], 1);
	add(&d->buckets[b], 1);
	add(&d->latency_ns, seconds > 0 ? (uint64_t)(seconds * 1e9) : 0);
}

void metrics_feedback(metrics_door *d, int is_spam, engine_learned what)
{
	unsigned w = (unsigned)what < 4 ? (unsigned)what : 0;

	if (d && is_spam < 0)
		add(&d->unlearned[w], 1);
	else if (d)
		add(&d->learned[is_spam ? 1 : 0][w], 1);
}

void metrics_error_add(metrics_door *d, metrics_error kind)
{
	if (d && (unsigned)kind < METRICS_NERRORS)
		add(&d->errors[kind], 1);
}

void metrics_engine_error(metrics_door *d, int err)
{
	metrics_error_add(d, err == SS_EEMPTY || err == SS_ENOTMAIL || err == SS_EBINARY
	                         ? METRICS_ERR_MESSAGE
	                         : METRICS_ERR_INTERNAL);
}

void metrics_conn(metrics_door *d, int delta)
{
	if (!d)
		return;
	__atomic_add_fetch(&d->conns_open, delta, __ATOMIC_RELAXED);
	if (delta > 0)
		add(&d->conns_total, 1);
}

void metrics_refused(metrics_door *d)
{
	if (d)
		add(&d->conns_refused, 1);
}

/* ---- rendering ---- */

static int family(sbuf *o, const char *name, const char *type, const char *help)
{
	return sbuf_addf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int render_scans(const metrics *m, sbuf *o)
{
	int err = family(o, "spamsift_messages_scanned_total", "counter",
	                 "Messages scanned, by door and action.");

	for (unsigned i = 0; !err && i < m->n; i++)
		for (unsigned a = 0; !err && a < 3; a++)
			err = sbuf_addf(
			    o, "spamsift_messages_scanned_total{door=\"%s\",action=\"%s\"} %llu\n",
			    m->d[i].name, action_label[a],
			    (unsigned long long)get(&m->d[i].scanned[a]));
	return err;
}

static int render_latency(const metrics *m, sbuf *o)
{
	int err = family(o, "spamsift_scan_duration_seconds", "histogram",
	                 "Time to parse and score one message, by door.");

	for (unsigned i = 0; !err && i < m->n; i++) {
		const metrics_door *d = &m->d[i];
		unsigned long long cum = 0;
		for (unsigned b = 0; !err && b <= METRICS_NBUCKETS; b++) {
			cum += get(&d->buckets[b]);
			if (b < METRICS_NBUCKETS)
				err = sbuf_addf(o,
				                "spamsift_scan_duration_seconds_bucket{door=\"%s\","
				                "le=\"%g\"} %llu\n",
				                d->name, bucket_le[b], cum);
			else
				err = sbuf_addf(
				    o,
				    "spamsift_scan_duration_seconds_bucket{door=\"%s\",le=\"+Inf\"}"
				    " %llu\n"
				    "spamsift_scan_duration_seconds_sum{door=\"%s\"} %.9f\n"
				    "spamsift_scan_duration_seconds_count{door=\"%s\"} %llu\n",
				    d->name, cum, d->name, (double)get(&d->latency_ns) / 1e9,
				    d->name, cum);
		}
	}
	return err;
}

static int render_feedback(const metrics *m, sbuf *o)
{
	static const unsigned learn_results[3] = {ENGINE_LEARNED, ENGINE_MOVED, ENGINE_UNCHANGED};
	int err =
	    family(o, "spamsift_learn_total", "counter",
	           "Messages learned, by door, class and result (moved: from the other class).");

	for (unsigned i = 0; !err && i < m->n; i++)
		for (unsigned c = 0; !err && c < 2; c++)
			for (unsigned r = 0; !err && r < 3; r++)
				err = sbuf_addf(
				    o,
				    "spamsift_learn_total{door=\"%s\",class=\"%s\",result=\"%s\"} "
				    "%llu\n",
				    m->d[i].name, c ? "spam" : "ham",
				    learned_label[learn_results[r]],
				    (unsigned long long)get(&m->d[i].learned[c][learn_results[r]]));
	if (!err)
		err = family(o, "spamsift_unlearn_total", "counter",
		             "Messages unlearned, by door and result.");
	for (unsigned i = 0; !err && i < m->n; i++)
		for (unsigned r = 0; !err && r < 3; r += 2)
			err =
			    sbuf_addf(o, "spamsift_unlearn_total{door=\"%s\",result=\"%s\"} %llu\n",
			              m->d[i].name, learned_label[r],
			              (unsigned long long)get(&m->d[i].unlearned[r]));
	return err;
}

static int render_errors(const metrics *m, sbuf *o)
{
	int err = family(o, "spamsift_errors_total", "counter",
	                 "Requests that failed, by door and kind.");

	for (unsigned i = 0; !err && i < m->n; i++)
		for (unsigned k = 0; !err && k < METRICS_NERRORS; k++)
			err = sbuf_addf(o, "spamsift_errors_total{door=\"%s\",kind=\"%s\"} %llu\n",
			                m->d[i].name, error_label[k],
			                (unsigned long long)get(&m->d[i].errors[k]));
	return err;
}

static int render_conns(const metrics *m, sbuf *o)
{
	int err = family(o, "spamsift_connections_open", "gauge", "Connections open, by door.");

	for (unsigned i = 0; !err && i < m->n; i++)
		err = sbuf_addf(o, "spamsift_connections_open{door=\"%s\"} %lld\n", m->d[i].name,
		                (long long)__atomic_load_n(&m->d[i].conns_open, __ATOMIC_RELAXED));
	if (!err)
		err = family(o, "spamsift_connections_total", "counter",
		             "Connections accepted, by door.");
	for (unsigned i = 0; !err && i < m->n; i++)
		err = sbuf_addf(o, "spamsift_connections_total{door=\"%s\"} %llu\n", m->d[i].name,
		                (unsigned long long)get(&m->d[i].conns_total));
	if (!err)
		err = family(o, "spamsift_connections_refused_total", "counter",
		             "Connections refused for --max-conn, by door.");
	for (unsigned i = 0; !err && i < m->n; i++)
		err = sbuf_addf(o, "spamsift_connections_refused_total{door=\"%s\"} %llu\n",
		                m->d[i].name, (unsigned long long)get(&m->d[i].conns_refused));
	return err;
}

/* The Redis model's counters (store.h), when there is one. */
static int render_redis(sbuf *out)
{
	static const char *const names[] = {
	    "spamsift_redis_cache_reads_total", "spamsift_redis_journaled_total",
	    "spamsift_redis_replayed_total",    "spamsift_redis_journal_full_total",
	    "spamsift_redis_journal_bytes",     "spamsift_redis_user_copies",
	    "spamsift_redis_user_copy_bytes",   "spamsift_redis_redone_total"};
	static const char *const help[] = {
	    "Model reads answered from the local cache because Redis did not answer.",
	    "Learns kept in the journal while Redis could not be reached.",
	    "Learns sent to Redis from the journal.",
	    "Learns lost because the journal was full (an alarm).",
	    "Bytes waiting in the journal.",
	    "Copies of users' models held for scans.",
	    "Memory those copies hold (bounded by redis_user_cache).",
	    "Of the learns sent from the journal, reports redone against the model as it was "
	    "then."};
	store_redis_stats st;
	uint64_t v[8];
	int err = 0;

	store_redis_stats_get(&st);
	v[0] = st.cache_reads, v[1] = st.journaled, v[2] = st.replayed, v[3] = st.journal_full;
	v[4] = st.journal_bytes, v[5] = st.user_copies, v[6] = st.user_bytes, v[7] = st.redone;
	for (size_t i = 0; !err && i < 8; i++) {
		err = family(out, names[i], i >= 4 && i < 7 ? "gauge" : "counter", help[i]);
		if (!err)
			err = sbuf_addf(out, "%s %llu\n", names[i], (unsigned long long)v[i]);
	}
	return err;
}

int metrics_render(const metrics *m, sbuf *out)
{
	int err = family(out, "spamsift_start_time_seconds", "gauge",
	                 "When the daemon started, in seconds since the Unix epoch.");

	if (!err)
		err = sbuf_addf(out, "spamsift_start_time_seconds %.0f\n", m->start);
	if (!err)
		err = render_scans(m, out);
	if (!err)
		err = render_latency(m, out);
	if (!err)
		err = render_feedback(m, out);
	if (!err)
		err = render_errors(m, out);
	if (!err)
		err = render_conns(m, out);
	return err ? err : render_redis(out);
}
