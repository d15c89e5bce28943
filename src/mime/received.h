/*
 * received.h: one Received header field to a hop (RFC 5321 section 4.4 and
 * what real MTAs write: Postfix, Sendmail, Exim, qmail, Exchange, Gmail).
 * No I/O; strings are allocated in the caller's arena.
 */
#ifndef SS_MIME_RECEIVED_H
#define SS_MIME_RECEIVED_H

#include <stddef.h>
#include "spamsift.h"
#include "util/arena.h"

/* Parses the unfolded value v[0..len) of one Received field into *hop
 * (zeroed first; fields not found stay empty; time 0 when the date is
 * missing or unreadable; trusted left 0). The client IP is the one the
 * receiver recorded for the connection ("[1.2.3.4]", "(IPv6:...)"), as
 * canonical text. Returns 0, or 1 when the value has no "from"/"by" part
 * at all (nothing recognisable), or SS_ENOMEM. */
int received_parse(ss_arena *a, const char *v, size_t len, ss_hop *hop);

/* Parses an RFC 5322 date-time (tolerant: missing day name, two-digit
 * years, named zones like EST/GMT/UT, extra comments) and returns Unix
 * time, or 0 when it cannot be read. */
int64_t received_parse_date(const char *s, size_t len);

#endif
