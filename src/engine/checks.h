/*
 * checks.h: the built-in checks of one scan, run in the order that lets
 * their DNS overlap: SPF/DKIM/DMARC and DNS list questions are all sent
 * first, the phishing and attachment signs are computed while they fly,
 * then the answers are waited for together, up to one deadline.
 *
 * A checks context belongs to one engine worker context (one thread at a
 * time): it holds the DNS client (libunbound, with its cache), the
 * authentication context (libopendkim, libspf2) and the phishing context
 * (libmagic, ICU spoof checker), and with a fingerprint server the
 * spamsift-fpd client: the message's fingerprints are looked up while the
 * DNS questions fly (FUZZY_SPAM / FUZZY_HAM with the match's similarity and
 * weight, FUZZY_TEMPERROR when the server does not answer in time).
 */
#ifndef SS_ENGINE_CHECKS_H
#define SS_ENGINE_CHECKS_H

#include <stddef.h>

#include "check/checks.h"
#include "check/hits.h"
#include "spamsift.h"
#include "util/arena.h"

/* How the checks are set up (part of engine_config). */
typedef struct checks_settings {
	const char *resolver;    /* "IP:PORT", "system" (resolv.conf), NULL or "off": no DNS */
	double dns_timeout;      /* seconds a scan may spend on DNS; 0: 5 */
	const char *authserv_id; /* first word of Authentication-Results; NULL: host name */
	const char *fp_server;   /* spamsift-fpd "IP:PORT"; NULL: no fingerprint lookups */
	const char *fp_key;      /* file whose first key line authenticates us to it */
	double fp_timeout; /* seconds a lookup may take (cut to the scan's DNS deadline); 0: 1 */
} checks_settings;

/* What the SMTP session knows; any field may be NULL. */
typedef struct checks_envelope {
	const char *client_ip, *helo, *mail_from;
} checks_envelope;

typedef struct checks_ctx checks_ctx;
struct fpp_key;

/* Makes a context. Returns 0, SS_ESYNTAX for a resolver that is not
 * "IP[:PORT]", "system" or "off" or a fingerprint server or key file that
 * is not usable, SS_EIO when the system's resolver configuration or the
 * key file cannot be read, or SS_ENOMEM. */
int checks_ctx_new(const checks_settings *s, checks_ctx **out);

/* Frees a context; NULL is allowed. */
void checks_ctx_free(checks_ctx *x);

/* Writes the authserv-id our Authentication-Results fields carry into
 * out[n]: `configured` when not NULL, else the host name ("localhost" if
 * it cannot be had). The milter compares sender-written fields with it. */
void checks_authserv_id(const char *configured, char *out, size_t n);

/* Whether s->resolver is valid (the check checks_ctx_new() makes, for
 * configuration parsers). */
int checks_resolver_ok(const char *resolver);

/* Loads the first key of keys file `path` (spamsift fp keygen's line).
 * Returns 0, SS_EIO (unreadable) or SS_ESYNTAX (no valid key). */
int checks_fp_key(const char *path, struct fpp_key *out);

/* Runs every built-in check on message m (raw bytes buf[0..len)) and adds
 * the hits to out; with DNS, *auth_results gets the value of an
 * Authentication-Results field (in a), else NULL. cfg may be NULL (the
 * defaults: no DNS lists). Never spends more than the DNS timeout waiting.
 * Returns 0 or SS_ENOMEM. */
int checks_run(checks_ctx *x, const ss_checks_config *cfg, const ss_message *m, const char *buf,
               size_t len, const checks_envelope *env, ss_arena *a, ss_hits *out,
               const char **auth_results);

#endif
