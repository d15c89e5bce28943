/*
 * auth.h: sender authentication of one message: SPF (RFC 7208, libspf2),
 * DKIM (RFC 6376 with rsa-sha256 and RFC 8463 ed25519-sha256,
 * libopendkim), DMARC (RFC 7489, written here on top of the two with
 * libpsl's registrable domains) and the Authentication-Results field that
 * sums them up (RFC 8601).
 *
 * Every DNS question goes through the scan's dns_client, so the
 * forwarder (`--resolver IP:PORT`) and the scan's one deadline hold for
 * SPF, DKIM keys and DMARC records alike. A scan is two calls:
 *
 *   auth_begin()   works out the questions it can predict and submits
 *                  them without waiting: the SPF TXT record of the
 *                  MAIL FROM (or HELO) domain, each DKIM signature's
 *                  `selector._domainkey.domain` TXT key, and the
 *                  `_dmarc` TXT record of the From domain and of its
 *                  organisational domain. They run while other checks
 *                  submit theirs.
 *   auth_finish()  waits for every pending query of the client (dns_wait,
 *                  up to the deadline), then evaluates: what was
 *                  prefetched is used as answered, what could not be
 *                  predicted (SPF includes, a, mx, exists...) is asked
 *                  with dns_lookup() and the same deadline, so it comes
 *                  from libunbound's cache when others asked it first.
 *
 * Results are hits (check/hits.h; symbols below, details name the
 * domains) and the value of an Authentication-Results field.
 *
 * Threads: an auth_ctx holds one libopendkim library handle and one
 * libspf2 server; it is not thread-safe. The engine keeps one per worker
 * context, next to that context's dns_client, and scans one message at a
 * time with it. Different contexts may be used from different threads.
 *
 * Symbols: SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_NEUTRAL, SPF_NONE,
 * SPF_TEMPERROR, SPF_PERMERROR; DKIM_VALID, DKIM_INVALID, DKIM_TEMPERROR,
 * DKIM_NONE (no signature); DMARC_PASS, DMARC_FAIL_REJECT,
 * DMARC_FAIL_QUARANTINE, DMARC_FAIL_NONE, DMARC_NONE (no record),
 * DMARC_TEMPERROR; DNS_TEMPERROR when a lookup timed out (detail: the
 * names asked).
 */
#ifndef SS_AUTH_AUTH_H
#define SS_AUTH_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "check/hits.h"
#include "dns/dns.h"
#include "spamsift.h"
#include "util/arena.h"

/* What the SMTP session said about the message. Any field may be NULL. */
typedef struct auth_envelope {
	const char *ip;        /* client address, IPv4 or IPv6 text */
	const char *helo;      /* HELO/EHLO name */
	const char *mail_from; /* MAIL FROM address without <>; "" for the null sender */
} auth_envelope;

typedef struct auth_ctx auth_ctx;

/* Makes a context (one libopendkim handle, one libspf2 server, the
 * public suffix list). Returns NULL when out of memory or when a library
 * cannot start. */
auth_ctx *auth_ctx_new(void);

/* Frees a context; NULL is allowed. Must not be in the middle of a scan
 * whose queries are still pending on a client. */
void auth_ctx_free(auth_ctx *ctx);

/* Starts authenticating `msg`, whose raw bytes are buf[0..len) (DKIM
 * needs the header lines and body exactly as sent). `env` may be NULL, and
 * so may its fields: without a client address the first untrusted
 * Received hop of `msg` gives the address and HELO name, and the
 * Return-Path field gives MAIL FROM (empty: postmaster@HELO, RFC 7208
 * section 2.4). Submits the predictable queries on `dns` (see above);
 * their answers live in `a`, which must outlive auth_finish(), as must
 * msg and buf. `deadline` is dns_now() time, shared with the scan's other
 * checks. Returns 0 or SS_ENOMEM / SS_EINVAL. */
int auth_begin(auth_ctx *ctx, const ss_message *msg, const char *buf, size_t len,
               const auth_envelope *env, dns_client *dns, int64_t deadline, ss_arena *a);

/* Finishes the scan begun by auth_begin(): waits for the client's
 * pending queries until the deadline (dns_wait), evaluates SPF, DKIM and
 * DMARC, adds the hits to `out` and, when ar_header is not NULL, stores
 * there the value of an Authentication-Results field beginning with
 * `authserv_id` (e.g. the host name; NULL means "localhost"), allocated in
 * the scan's arena. Never waits past the deadline. Returns 0 or
 * SS_ENOMEM; SS_EINVAL without a matching auth_begin(). */
int auth_finish(auth_ctx *ctx, const char *authserv_id, ss_hits *out, const char **ar_header);

#endif
