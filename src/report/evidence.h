/*
 * evidence.h: the append-only evidence store of abuse reports, and the
 * statistics by origin drawn from it.
 *
 * A store is a directory holding one file, evidence.log, to which each
 * report is appended as one record and never rewritten (O_APPEND, an
 * exclusive flock while writing, fsync before the report counts as
 * stored). A record is framed so that a torn write is detected:
 *
 *   "SSEVID1\n"  magic, 8 bytes
 *   LEN          payload bytes, 4 bytes big-endian
 *   PAYLOAD      "key: value\n" lines (time, sha256, ip, network,
 *                contact, country, asn, user, size), a blank line, then
 *                the original message's bytes
 *   CRC          CRC-32 (zlib) of PAYLOAD, 4 bytes big-endian
 *
 * A reader skips what does not frame (a crash mid-write leaves a partial
 * tail; later appends follow it) by looking for the next magic whose
 * record checks, and counts the bytes skipped. Encoding and decoding are
 * I/O-free; evidence_append() and evidence_scan() do the file work.
 */
#ifndef SS_REPORT_EVIDENCE_H
#define SS_REPORT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/buf.h"

#define EVIDENCE_FILE "evidence.log"
#define EVIDENCE_MAGIC "SSEVID1\n"
#define EVIDENCE_MAX_RECORD (256u << 20) /* payload bytes of one record at most */

/* One report. Strings may be NULL when encoding (stored as empty); when
 * decoded they are never NULL ("" when empty). */
typedef struct evidence_rec {
	int64_t time;    /* when it was reported (Unix time) */
	char sha256[65]; /* hex SHA-256 of the original bytes */
	const char *ip;  /* source IP, "" when unknown */
	const char *network, *contact, *country, *asn, *user;
	const char *original; /* the original message's bytes */
	size_t original_len;
} evidence_rec;

/* Writes the hex SHA-256 (libsodium) of len bytes at p into hex. */
void evidence_sha256(const void *p, size_t len, char hex[65]);

/* Appends r as one framed record to out. Returns 0, SS_EINVAL (too big),
 * or SS_ENOMEM. */
int evidence_encode(const evidence_rec *r, sbuf *out);

/* Decodes the next record of buf[*off..len): returns 1 with *r filled
 * (strings copied into a; original points into buf) and *off past it, or
 * 0 at the end. Bytes that do not frame are skipped up to the next valid
 * record and added to *skipped. Returns SS_ENOMEM on failure. */
int evidence_decode(const char *buf, size_t len, size_t *off, ss_arena *a, evidence_rec *r,
                    size_t *skipped);

/* Appends r (sha256 computed here from the original) to DIR/evidence.log,
 * making DIR (mode 0700) and the file (0600) when absent; returns once the
 * record is on disk (fsync). Returns 0, SS_EIO (errno set) or SS_ENOMEM. */
int evidence_append(const char *dir, const evidence_rec *r);

/* Calls cb for each record of DIR/evidence.log in order (the strings live
 * until cb returns); a non-zero return of cb stops the scan and is
 * returned. A missing file holds no records. *skipped (may be NULL) gets
 * the bytes that did not frame. Returns 0, SS_EIO or SS_ENOMEM. */
typedef int (*evidence_cb)(void *ctx, const evidence_rec *r);
int evidence_scan(const char *dir, evidence_cb cb, void *ctx, size_t *skipped);

/* Counts of reports by origin. */
typedef struct evidence_count {
	char *network; /* "" when the source or its network is unknown */
	char *country; /* "" when unknown */
	size_t n;
} evidence_count;

typedef struct evidence_stats {
	int64_t since, until; /* the range counted: since <= time < until */
	size_t total;
	size_t skipped;             /* bytes of torn records ignored */
	evidence_count *by_network; /* one per (network, country), most first */
	size_t nnetwork;
	evidence_count *by_country; /* one per country (network ""), most first */
	size_t ncountry;
	size_t cap_network, cap_country;
} evidence_stats;

/* Zeroes s and sets the range (until 0: no upper bound). */
void evidence_stats_init(evidence_stats *s, int64_t since, int64_t until);
void evidence_stats_release(evidence_stats *s);

/* Counts r when its time is in range. Returns 0 or SS_ENOMEM. */
int evidence_stats_add(evidence_stats *s, const evidence_rec *r);

/* Sorts the counts, most reports first (then by name). */
void evidence_stats_sort(evidence_stats *s);

/* Appends the counts as CSV (header "kind,network,country,reports"; kind
 * "network" or "country") or as one JSON object. Return 0 or SS_ENOMEM. */
int evidence_stats_csv(const evidence_stats *s, sbuf *out);
int evidence_stats_json(const evidence_stats *s, sbuf *out);

/* Parses a time for --since/--until: Unix seconds, YYYY-MM-DD or
 * YYYY-MM-DDTHH:MM:SSZ (UTC). Returns 0 or SS_ESYNTAX. */
int evidence_parse_time(const char *s, int64_t *out);

#endif
