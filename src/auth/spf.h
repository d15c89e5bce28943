/*
 * spf.h: SPF (RFC 7208) with libspf2, whose DNS goes through the scan's
 * dns_client: a libspf2 DNS layer (SPF_dns_server_t) of our own answers
 * each of libspf2's questions with auth_scan_lookup(), so includes,
 * redirects, a, mx, ptr and exists share the scan's deadline and cache.
 * Private to src/auth.
 */
#ifndef SS_AUTH_SPF_H
#define SS_AUTH_SPF_H

#include "auth/arhdr.h"
#include "auth/scan.h"

typedef struct spf_checker spf_checker;

/* Makes a checker (a libspf2 server over our DNS layer). Returns 0 or
 * SS_ENOMEM. Not thread-safe: one per auth_ctx. */
int spf_checker_new(spf_checker **out);
void spf_checker_free(spf_checker *c);

/* Evaluates SPF for client `ip`, HELO `helo` (may be NULL) and MAIL FROM
 * `mail_from` (never empty: the caller makes postmaster@helo) with the
 * DNS of scan s. Stores the result in *res and libspf2's explanation of
 * an error (or NULL) in *why (in s's arena). Returns 0 or SS_ENOMEM. */
int spf_check(spf_checker *c, auth_scan *s, const char *ip, const char *helo, const char *mail_from,
              auth_res *res, const char **why);

#endif
