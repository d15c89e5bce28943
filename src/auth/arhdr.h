/*
 * arhdr.h: the results of SPF, DKIM and DMARC for one message, and their
 * Authentication-Results field value (RFC 8601). Pure: no I/O, no DNS;
 * unit tested. Private to src/auth.
 */
#ifndef SS_AUTH_ARHDR_H
#define SS_AUTH_ARHDR_H

#include <stddef.h>

#include "util/arena.h"

/* One method's result (RFC 8601 section 2.7). */
typedef enum auth_res {
	AUTH_NONE = 0,
	AUTH_PASS,
	AUTH_FAIL,
	AUTH_SOFTFAIL,
	AUTH_NEUTRAL,
	AUTH_TEMPERROR,
	AUTH_PERMERROR,
} auth_res;

/* "none", "pass", "fail", "softfail", "neutral", "temperror", "permerror". */
const char *auth_res_name(auth_res r);

typedef struct ar_spf {
	int checked; /* 0: not evaluated (no client address), left out */
	auth_res res;
	const char *mail_from; /* the MAIL FROM identity checked */
	const char *helo;      /* may be NULL */
	const char *why;       /* comment for errors, may be NULL */
} ar_spf;

typedef struct ar_dkim {
	auth_res res;  /* pass, fail, neutral, temperror, permerror */
	const char *d; /* signing domain */
	const char *s; /* selector */
	const char *b; /* the start of the signature (header.b, RFC 6008), may be NULL */
	const char *why;
} ar_dkim;

typedef struct ar_dmarc {
	int checked;        /* 0: no From domain, left out */
	auth_res res;       /* none (no record), pass, fail, temperror, permerror */
	const char *from;   /* RFC 5322 From domain */
	const char *policy; /* "none", "quarantine", "reject" when a record applied, or NULL */
} ar_dmarc;

typedef struct ar_results {
	ar_spf spf;
	const ar_dkim *dkim; /* one per signature; none: dkim=none */
	size_t ndkim;
	ar_dmarc dmarc;
} ar_results;

/* Formats the value of an Authentication-Results field:
 *   "id; spf=pass smtp.mailfrom=a@b.test smtp.helo=mx.b.test;
 *    dkim=pass header.d=b.test header.s=sel header.b=AbCd1234;
 *    dmarc=fail (p=reject) header.from=b.test"
 * on one line (the caller folds it). The authserv-id and property
 * values that are not RFC 8601 tokens (or local@domain) are written as
 * quoted strings without control bytes;
 * comments lose parentheses and control bytes. Returns the string in a,
 * or NULL when out of memory. */
const char *ar_format(ss_arena *a, const char *authserv_id, const ar_results *r);

#endif
