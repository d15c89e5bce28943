/*
 * metrics.h: the daemon's counters, per door, for Prometheus (GET /metrics
 * on the HTTP door): messages scanned by action, scan latency histogram,
 * learn and unlearn results, errors by kind, connections open, accepted
 * and refused.
 *
 * The table of doors is filled while the server is set up (one thread);
 * afterwards every worker thread updates the counters at once with relaxed
 * atomic additions (no lock: each counter is exact, a rendering may see
 * one counter a moment ahead of another). Rendering reads them the same way.
 */
#ifndef SS_DAEMON_METRICS_H
#define SS_DAEMON_METRICS_H

#include <stdint.h>

#include "engine/engine.h"
#include "util/buf.h"

#define METRICS_MAX_DOORS 8
#define METRICS_NBUCKETS 12 /* finite latency buckets; +Inf is the count */

/* Kinds of errors counted. */
typedef enum metrics_error {
	METRICS_ERR_PROTOCOL = 0, /* a request the door could not read */
	METRICS_ERR_MESSAGE,      /* a message the engine refused (not mail, empty, binary) */
	METRICS_ERR_INTERNAL,     /* store errors, out of memory */
	METRICS_ERR_TIMEOUT,      /* a silent client dropped */
	METRICS_NERRORS,
} metrics_error;

/* One door's counters. Update only through the functions below. */
typedef struct metrics_door {
	const char *name;
	uint64_t scanned[3];    /* by engine_action */
	uint64_t learned[2][4]; /* [is_spam][engine_learned] */
	uint64_t unlearned[4];  /* [engine_learned] */
	uint64_t errors[METRICS_NERRORS];
	uint64_t buckets[METRICS_NBUCKETS + 1]; /* scans by latency bucket (not cumulative) */
	uint64_t latency_ns;                    /* sum of scan latencies */
	int64_t conns_open;
	uint64_t conns_total, conns_refused;
} metrics_door;

typedef struct metrics {
	metrics_door d[METRICS_MAX_DOORS];
	unsigned n;
	double start; /* Unix time the daemon started */
} metrics;

/* Prepares m, empty. */
void metrics_init(metrics *m);

/* The counters of the door named `name` (a static string), added on first
 * use; NULL when METRICS_MAX_DOORS are in use. Call before the workers
 * start. */
metrics_door *metrics_door_get(metrics *m, const char *name);

/* A scan ended with `act` after `seconds`. */
void metrics_scan(metrics_door *d, engine_action act, double seconds);
/* A learn (is_spam) or unlearn (is_spam < 0) gave `what`. */
void metrics_feedback(metrics_door *d, int is_spam, engine_learned what);
void metrics_error_add(metrics_door *d, metrics_error kind);
/* A connection opened (+1) or closed (-1). */
void metrics_conn(metrics_door *d, int delta);
void metrics_refused(metrics_door *d);
/* Counts an engine error code as a message refusal or an internal error. */
void metrics_engine_error(metrics_door *d, int err);

/* Appends every counter in Prometheus' text exposition format (0.0.4). */
int metrics_render(const metrics *m, sbuf *out);

#endif
