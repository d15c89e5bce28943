/*
 * scan.h: the state of one authentication scan that SPF, DKIM and DMARC
 * share: the scan's DNS client, deadline and arena, the queries
 * auth_begin() submitted ahead (prefetched), and the names whose lookups
 * timed out (for DNS_TEMPERROR).
 *
 * auth_scan_lookup() is the one way the three ask DNS: a prefetched
 * answer is used as it is; otherwise the question is asked with
 * dns_lookup() and the scan's deadline (answered from libunbound's cache
 * when another check asked it first). Private to src/auth.
 */
#ifndef SS_AUTH_SCAN_H
#define SS_AUTH_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"
#include "util/arena.h"

typedef struct auth_scan {
	dns_client *dns;
	int64_t deadline;
	ss_arena *a;
	dns_query **pre; /* prefetched queries, in the arena */
	size_t npre, precap;
	const char **timedout; /* "TYPE name" of lookups that timed out */
	size_t ntimedout, tocap;
} auth_scan;

/* Starts a scan's state (nothing allocated yet). */
void auth_scan_init(auth_scan *s, dns_client *dns, int64_t deadline, ss_arena *a);

/* Submits `type` records of `name` ahead unless already submitted.
 * Returns 0 or SS_ENOMEM. */
int auth_scan_prefetch(auth_scan *s, const char *name, int type);

/* The answer to `type` records of `name`: the prefetched query when it
 * has its answer, else a new dns_lookup() until the deadline. Timeouts
 * are noted. Never NULL: out of memory gives a query with DNS_TEMPFAIL. */
const dns_query *auth_scan_lookup(auth_scan *s, const char *name, int type);

/* Notes a timed-out query (once per name and type). */
void auth_scan_note(auth_scan *s, const dns_query *q);

/* The name of a record type for people ("TXT", "MX"...). */
const char *auth_type_name(int type);

#endif
