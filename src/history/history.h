/*
 * history.h: the last N scans, for the operator's web page (issue 8):
 * what came in, what was done with it and why, and the message itself
 * (within a byte budget) so that the page can learn, unlearn or report it
 * by its id.
 *
 * Three layers:
 * - history_rec_make() turns one scan (envelope, message, engine result)
 *   into a record: a summary (JSON for the list, plus the fields the
 *   filters read), the detail (the engine's JSON: every symbol with its
 *   description and the classifier's strongest features) and the raw
 *   message. No I/O.
 * - a backend behind history_ops stores records: the embedded one is LMDB
 *   (history_lmdb_open); a Redis one can implement the same operations.
 *   It keeps the newest `max_entries` records and the raw bytes of the
 *   newest ones within `raw_budget` bytes, dropping the oldest.
 * - a writer (history_writer_*) owns a bounded queue and a thread that
 *   commits what is queued in one transaction every few milliseconds, so
 *   that a scan never waits on a disk write; when the queue is full the
 *   record is dropped and counted (history_writer_drops), never waited for;
 *   so are the records of a commit that failed (the store is down).
 *
 * Listing reads newest first from an id down, applying the filters as it
 * goes; backends are safe to read from any thread while the writer writes.
 */
#ifndef SS_HISTORY_HISTORY_H
#define SS_HISTORY_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "util/buf.h"

#define HISTORY_MAX_LIMIT 500   /* entries of one listed page */
#define HISTORY_MAX_SUBJECT 998 /* bytes of the decoded Subject kept */
#define HISTORY_MAX_FIELD 320   /* bytes of an envelope field kept */
#define HISTORY_MAX_USER 128    /* bytes of the user name */
#define HISTORY_MAX_QUERY 256   /* bytes of a search text */
#define HISTORY_FEEDBACK_MAX 16 /* bytes of a feedback word ("spam") */

/* One scan as stored. Owned strings (malloc), freed by history_rec_free. */
typedef struct history_rec {
	uint64_t id;     /* set by the writer */
	int64_t time_ms; /* Unix milliseconds */
	double score;    /* points */
	double scan_ms;  /* how long the scan took */
	int action;      /* engine_action */
	char *search;    /* what q= searches: subject, From, envelope from, IP, symbols */
	size_t search_len;
	char *summary; /* JSON object: the list's entry, without id */
	size_t summary_len;
	char *detail; /* JSON object: the engine's result */
	size_t detail_len;
	char *raw; /* the message, or NULL (over the per-message cap) */
	size_t raw_len;
	char *user; /* NULL: the global model */
} history_rec;

/* The scan to record. Any string may be NULL. */
typedef struct history_scan {
	const char *door; /* "spamd", "milter", "http" */
	const char *user;
	const engine_envelope *env;
	const char *msg;
	size_t len;
	const engine_result *res;
	double scan_ms;
	int64_t time_ms;
	size_t raw_cap; /* keep the message when len <= raw_cap */
} history_scan;

/* Builds a record of s. Returns it (free with history_rec_free) or NULL
 * when out of memory. */
history_rec *history_rec_make(const history_scan *s);
void history_rec_free(history_rec *r);

/* A page to list. */
typedef struct history_query {
	uint64_t before;  /* ids below this one; 0: from the newest */
	size_t limit;     /* 1..HISTORY_MAX_LIMIT */
	int action;       /* -1: any; else engine_action */
	double min, max;  /* score range (inclusive); -HUGE_VAL/HUGE_VAL: open */
	const char *q;    /* text searched in subject, from, IP, symbols; NULL or "" */
	int64_t since_ms; /* entries at or after this time; 0: any */
} history_query;

/* What one summary says, for the statistics. */
typedef struct history_item {
	uint64_t id;
	int64_t time_ms;
	double score, scan_ms;
	int action;
	const char *search; /* as stored (symbols after the last '\x01') */
	size_t search_len;
} history_item;

/* Counts of a store. */
typedef struct history_info {
	uint64_t entries, oldest, newest; /* ids; 0 when empty */
	uint64_t raw_entries, raw_bytes;
	uint64_t max_entries, raw_budget;
	uint64_t map_bytes; /* the file's size */
} history_info;

typedef struct history history;

typedef struct history_ops {
	const char *name; /* "lmdb", "redis": the page's status */
	/* Stores n records (their ids set) in one transaction, then drops
	 * what is over the bounds. Returns 0 or SS_EIO / SS_ENOMEM. */
	int (*put)(history *h, history_rec *const *recs, size_t n);
	/* Appends {"entries":[...],"next":ID|null} to out: up to q->limit
	 * matching entries, newest first; "next" is the `before` of the page
	 * after. */
	int (*list)(history *h, const history_query *q, sbuf *out);
	/* Appends the whole entry as JSON: the summary's members, "id",
	 * "result" (the detail), "raw" (bytes kept or null), "feedback".
	 * Returns 0, SS_ENOENT-like 1 when absent, or an error. */
	int (*get)(history *h, uint64_t id, sbuf *out);
	/* The raw message and user of id, into raw and user (NUL-terminated,
	 * "" for the global model). Returns 0, 1 when the id or its bytes are
	 * no longer kept, or an error. */
	int (*raw)(history *h, uint64_t id, sbuf *raw, char *user, size_t ulen);
	/* Records what the operator did with id ("spam", "ham", "unlearned",
	 * "reported"). Returns 0, 1 when absent, or an error. */
	int (*feedback)(history *h, uint64_t id, const char *what);
	/* Calls cb for each entry, newest first, down to since_ms; a non-zero
	 * return stops it. Returns 0 or an error. */
	int (*walk)(history *h, int64_t since_ms, int (*cb)(void *ctx, const history_item *it),
	            void *ctx);
	int (*info)(history *h, history_info *out);
	void (*close)(history *h);
	/* The id of the next record (called by the writer under its lock; no
	 * I/O), or NULL: the writer counts up from the newest id. */
	uint64_t (*new_id)(history *h);
} history_ops;

struct history {
	const history_ops *ops;
};

/* Opens (creating it) the LMDB history in folder `dir`, keeping the newest
 * max_entries entries and raw messages within raw_budget bytes. Returns 0
 * with *out set, or SS_EIO (errno set) / SS_ECORRUPT / SS_ENOMEM. */
int history_lmdb_open(const char *dir, uint64_t max_entries, uint64_t raw_budget, history **out);
/* The same with the file's size given (0: sized from the bounds); when
 * the file is full, the oldest entries make room. */
int history_lmdb_open_map(const char *dir, uint64_t max_entries, uint64_t raw_budget,
                          size_t map_bytes, history **out);

#define HR_MAX_SEEDS 16 /* more Cluster nodes than url */

/* The Redis backend's settings. */
typedef struct history_redis_opts {
	const char *url;           /* redis://[[USER]:PASS@]HOST[:PORT][/DB] */
	const char *password_file; /* the password's file (first line), or NULL */
	const char *replica;       /* a replica the page reads from, or NULL */
	const char *const *seeds;  /* more nodes of a Cluster, tried after url */
	size_t nseeds;
	int timeout_ms; /* to connect and for each answer */
	uint64_t max_entries, raw_budget;
} history_redis_opts;

/* Opens the history on Redis (keys "ss{h}:*", shared by every daemon
 * given the same Redis). Redis need not be up: each call then fails
 * quickly with SS_EIO and the connection is tried again at most once a
 * second. Returns 0 with *out set, SS_EINVAL with a static reason in *why
 * (a bad URL, an unreadable password file) or SS_ENOMEM. */
int history_redis_open(const history_redis_opts *o, history **out, const char **why);

/* ---- the Redis backend's values (I/O-free; what Redis returns is
 * untrusted: fuzz/fuzz_rhist.c) ---- */

#define HR_IDX_HEAD 25 /* time, score, scan_ms (8 bytes each), action (1) */

/* Appends r's index value (the head, little-endian, then the search
 * text) to out; 0 or SS_ENOMEM. */
int hr_idx_encode(const history_rec *r, sbuf *out);
/* Reads an index value of len bytes into *it (search points into p).
 * Returns 0, or -1 when it is malformed. */
int hr_idx_decode(const char *p, size_t len, history_item *it);
/* Appends the raw value (user name's length byte, user, message). */
int hr_raw_encode(const history_rec *r, sbuf *out);
/* Reads a raw value: the user into user (NUL-terminated, ulen bytes with
 * the NUL), the message's offset and length. 0, or -1 when malformed or
 * the user does not fit. */
int hr_raw_decode(const char *p, size_t len, char *user, size_t ulen, size_t *moff, size_t *mlen);
/* A decimal id (1..2^53) of len bytes; 0 when it is not one. */
uint64_t hr_id_parse(const char *p, size_t len);

/* Ids shared by many daemons without a round trip: the milliseconds since
 * 2024-01-01 (40 bits), the daemon's node number (6 bits, from a counter
 * in Redis) and a sequence within the millisecond (7 bits; when it runs
 * out the next millisecond is borrowed). Below 2^53, so a page's
 * JavaScript reads them exactly; ordered by time across daemons. */
typedef struct hr_idgen {
	int64_t last_ms;
	unsigned seq, node;
} hr_idgen;
uint64_t hr_id_next(hr_idgen *g, int64_t now_ms);

static inline void history_close(history *h)
{
	if (h)
		h->ops->close(h);
}

/* ---- the writer ---- */

typedef struct history_writer history_writer;

/* Starts a writer on h (not owned) with a queue of qmax records,
 * committing every interval_ms. Returns NULL when out of memory or the
 * thread cannot start. */
history_writer *history_writer_new(history *h, size_t qmax, int interval_ms);
/* Commits what is queued and stops the thread. NULL is fine. */
void history_writer_free(history_writer *w);
/* Queues r (taken over) and returns its id, or 0 when the queue was full
 * (r is then freed and the drop counted). Never blocks on the disk. */
uint64_t history_writer_push(history_writer *w, history_rec *r);
/* Waits until everything queued before the call is committed (tests,
 * and a page action on a fresh entry). */
void history_writer_sync(history_writer *w);
/* Records not recorded (the queue was full, or their commit failed);
 * commits that failed. */
uint64_t history_writer_drops(const history_writer *w);
uint64_t history_writer_errors(const history_writer *w);
uint64_t history_writer_written(const history_writer *w);

/* ---- statistics ---- */

/* Appends the charts' data as JSON: per time bucket the count of each
 * action and the latency percentiles, the spam share by hour of the day
 * (UTC), the top symbols, over the entries since now_ms - span_ms. */
int history_stats_json(history *h, int64_t now_ms, int64_t span_ms, sbuf *out);

#endif
