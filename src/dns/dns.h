/*
 * dns.h: asynchronous DNS lookups for the checks (DNS block lists, SPF,
 * DKIM keys, DMARC records), on top of libunbound.
 *
 * A scan gets one deadline (dns_deadline()) and spends at most that long
 * on DNS in all: its checks submit every query they can at once
 * (dns_submit()), wait for them together (dns_wait()), and what has not
 * answered by the deadline is cancelled and reported as DNS_TEMPFAIL. A
 * check that must ask one question after another (SPF includes) uses
 * dns_lookup() with the same deadline.
 *
 * A client is not thread-safe: the engine keeps one per worker context.
 * Each client has its own libunbound context, hence its own cache (answers
 * and negative answers kept for their TTL) and one background thread.
 * Queries go to the configured server (forwarded, recursion desired), or
 * to the system's resolvers from /etc/resolv.conf.
 */
#ifndef SS_DNS_DNS_H
#define SS_DNS_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "spamsift.h"
#include "util/arena.h"

/* Record types the checks ask for. */
enum { DNS_T_A = 1, DNS_T_TXT = 16, DNS_T_AAAA = 28 };

typedef enum dns_status {
	DNS_PENDING = 0,  /* submitted, no answer yet */
	DNS_OK = 1,       /* answered with records (rr, nrr) */
	DNS_NODATA = 2,   /* the name exists but has no record of the type */
	DNS_NXDOMAIN = 3, /* the name does not exist */
	DNS_TEMPFAIL = 4, /* no usable answer in time: timeout, SERVFAIL, network */
} dns_status;

/* One record's data as sent (network order): 4 bytes for A, 16 for AAAA,
 * length-prefixed character-strings for TXT (see dns_txt()). */
typedef struct dns_rr {
	const unsigned char *data;
	size_t len;
} dns_rr;

/* One question and, once answered, its answer. Owned by the caller; it
 * must stay in place from dns_submit() until it is no longer pending. */
typedef struct dns_query {
	const char *name; /* as asked (copied into the arena) */
	int type;
	dns_status status;
	const char *why; /* for DNS_TEMPFAIL: "timeout", "servfail"... */
	dns_rr *rr;      /* records, in the arena given to dns_submit() */
	size_t nrr;
	int ttl;
	/* private */
	int id;
	ss_arena *a;
	struct dns_client *c;
} dns_query;

typedef struct dns_config {
	const char *server; /* "IP", "IP:PORT" or "[IPv6]:PORT"; NULL: resolv.conf */
	double timeout;     /* seconds a scan may spend on DNS (dns_deadline) */
} dns_config;

typedef struct dns_client dns_client;

/* Checks a server spec ("127.0.0.1:5353", "[::1]:53", "192.0.2.1") and
 * writes libunbound's form of it ("127.0.0.1@5353") into out. Returns 0
 * or SS_ESYNTAX. */
int dns_server_parse(const char *spec, char *out, size_t outlen);

/* Makes a client from c (copied). Returns 0, SS_ESYNTAX for a bad server,
 * SS_EIO when /etc/resolv.conf cannot be read, or SS_ENOMEM. */
int dns_client_new(const dns_config *c, dns_client **out);

/* Cancels what is pending and frees the client; NULL is allowed. */
void dns_client_free(dns_client *c);

/* The client's configured timeout in seconds. */
double dns_client_timeout(const dns_client *c);

/* Monotonic time in nanoseconds, and the deadline `seconds` from now. */
int64_t dns_now(void);
int64_t dns_deadline(double seconds);

/* Starts asking for `type` records of `name`; the answer is stored in q
 * (records allocated in a) by a later dns_wait(). A name that is not a
 * valid domain name (or longer than 253 bytes) is answered at once with
 * DNS_NXDOMAIN. Returns 0 or SS_ENOMEM. */
int dns_submit(dns_client *c, dns_query *q, const char *name, int type, ss_arena *a);

/* Waits until every submitted query is answered or `deadline` (dns_now()
 * time) has passed; the queries still pending then are cancelled and get
 * DNS_TEMPFAIL with why "timeout". Returns the number of queries that
 * timed out (0 when all were answered). */
int dns_wait(dns_client *c, int64_t deadline);

/* dns_submit(), then waits for this query alone until the deadline (the
 * answers of other pending queries that arrive meanwhile are stored too);
 * cancelled at the deadline like dns_wait(). Returns q->status. */
dns_status dns_lookup(dns_client *c, dns_query *q, const char *name, int type, int64_t deadline,
                      ss_arena *a);

/* Joins the character-strings of TXT record i of q into one string in a
 * (RFC 7208 section 3.3, RFC 6376 section 3.6.2.2). Returns it, or NULL
 * when the record is malformed or out of memory. */
const char *dns_txt(const dns_query *q, size_t i, ss_arena *a);

/* Writes the DNS list query name of an IP address under `zone`:
 * "4.3.2.1.zone" for 1.2.3.4, 32 reversed nibbles for IPv6 (RFC 5782).
 * Returns 0, or SS_ESYNTAX when ip is not an address, SS_EINVAL when out
 * is too small. */
int dns_ip_name(const char *ip, const char *zone, char *out, size_t outlen);

/* The name of a status ("ok", "nodata", "nxdomain", "tempfail"...). */
const char *dns_status_name(dns_status s);

#endif
