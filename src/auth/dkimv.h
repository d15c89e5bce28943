/*
 * dkimv.h: DKIM verification (RFC 6376; rsa-sha256 and RFC 8463
 * ed25519-sha256, simple and relaxed canonicalisation) with libopendkim,
 * whose key lookups go through the scan's DNS (dkim_set_key_lookup() and
 * dkim_set_user_context()). Private to src/auth.
 */
#ifndef SS_AUTH_DKIMV_H
#define SS_AUTH_DKIMV_H

#include <stddef.h>

#include "auth/arhdr.h"
#include "auth/scan.h"

typedef struct dkimv_lib dkimv_lib;

/* Makes a verifier (one DKIM_LIB handle); NULL when out of memory. Not
 * thread-safe: one per auth_ctx. */
dkimv_lib *dkimv_lib_new(void);
void dkimv_lib_free(dkimv_lib *l);

/* The key record name "selector._domainkey.domain" of a DKIM-Signature
 * field value (raw, unfolded), in a; NULL when it has no usable d= or s=.
 * Pure; used to prefetch keys. */
const char *dkimv_key_name(const char *v, size_t len, ss_arena *a);

/* Verifies every signature of the message buf[0..len) (raw bytes; bare
 * LF line ends are taken as CRLF). Stores one result per signature in
 * *sigs (array in s's arena) and their number in *nsigs (0: unsigned).
 * Returns 0 or SS_ENOMEM. */
int dkimv_verify(dkimv_lib *l, auth_scan *s, const char *buf, size_t len, ar_dkim **sigs,
                 size_t *nsigs);

#endif
