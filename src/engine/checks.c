/*
 * checks.c: one scan's built-in checks with their DNS overlapped (see
 * checks.h).
 */
#include "engine/checks.h"

#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "dns/dns.h"
#include "dnsl/dnsl.h"
#include "fpd/client.h"
#include "fuzzy/fuzzy.h"
#include "phish/phish.h"
#include "proto/fpp.h"

struct checks_ctx {
	dns_client *dns; /* NULL: no DNS checks */
	auth_ctx *auth;
	phish_ctx *phish;
	fpc *fp;        /* NULL: no fingerprint server */
	tok_state *tok; /* the fingerprints' tokenizer, kept between scans */
	int fp_ms;
	char authserv_id[256];
};

/* Whether the resolver setting turns DNS off. */
static int dns_off(const char *resolver)
{
	return !resolver || !*resolver || strcmp(resolver, "off") == 0;
}

void checks_authserv_id(const char *configured, char *out, size_t n)
{
	if (configured)
		snprintf(out, n, "%s", configured);
	else if (gethostname(out, n - 1))
		snprintf(out, n, "localhost");
	out[n - 1] = 0;
}

int checks_resolver_ok(const char *resolver)
{
	char tmp[64];

	return dns_off(resolver) || strcmp(resolver, "system") == 0 ||
	       dns_server_parse(resolver, tmp, sizeof(tmp)) == 0;
}

/* Opens the DNS client and the authentication context. */
static int dns_open(checks_ctx *x, const checks_settings *s)
{
	dns_config dc = {NULL, s->dns_timeout > 0 ? s->dns_timeout : 5.0};
	int err;

	if (strcmp(s->resolver, "system") != 0)
		dc.server = s->resolver;
	if ((err = dns_client_new(&dc, &x->dns)))
		return err;
	return (x->auth = auth_ctx_new()) ? 0 : SS_ENOMEM;
}

int checks_fp_key(const char *path, struct fpp_key *out)
{
	return fpc_key_load(path, NULL, out, NULL);
}

/* Opens the spamsift-fpd client. */
static int fp_open(checks_ctx *x, const checks_settings *s)
{
	fpp_key k;
	int err;

	if (!s->fp_key)
		return SS_ESYNTAX;
	if ((err = checks_fp_key(s->fp_key, &k)))
		return err;
	x->fp_ms = (int)((s->fp_timeout > 0 ? s->fp_timeout : 1.0) * 1000);
	err = (x->tok = tok_new()) ? fpc_new(s->fp_server, &k, &x->fp) : SS_ENOMEM;
	sodium_memzero(&k, sizeof(k));
	return err;
}

int checks_ctx_new(const checks_settings *s, checks_ctx **out)
{
	checks_ctx *x = calloc(1, sizeof(*x));
	int err = SS_ENOMEM;

	*out = NULL;
	if (!x)
		return SS_ENOMEM;
	if (!checks_resolver_ok(s->resolver)) {
		err = SS_ESYNTAX;
		goto out;
	}
	checks_authserv_id(s->authserv_id, x->authserv_id, sizeof(x->authserv_id));
	if (!(x->phish = phish_ctx_new()))
		goto out;
	if (!dns_off(s->resolver) && (err = dns_open(x, s)))
		goto out;
	if (s->fp_server && (err = fp_open(x, s)))
		goto out;
	*out = x;
	return 0;
out:
	checks_ctx_free(x);
	return err;
}

void checks_ctx_free(checks_ctx *x)
{
	if (!x)
		return;
	auth_ctx_free(x->auth);
	dns_client_free(x->dns);
	fpc_free(x->fp);
	tok_free(x->tok);
	phish_ctx_free(x->phish);
	free(x);
}

/* Sends the questions of SPF/DKIM/DMARC and the DNS lists. */
static int dns_begin(checks_ctx *x, const ss_checks_config *cfg, const ss_message *m,
                     const char *buf, size_t len, const checks_envelope *env, int64_t deadline,
                     ss_arena *a, dnsl_run *lists, int *lists_on)
{
	auth_envelope ae = {env ? env->client_ip : NULL, env ? env->helo : NULL,
	                    env ? env->mail_from : NULL};
	int err = auth_begin(x->auth, m, buf, len, &ae, x->dns, deadline, a);

	if (!err && cfg && cfg->ndnslists) {
		*lists_on = 1;
		err = dnsl_begin(lists, cfg, NULL, m, ae.ip, x->dns, a);
	}
	return err;
}

/* The milliseconds a fingerprint lookup may take: its own timeout, cut to
 * what is left of the scan's DNS deadline (0: none) so that the lookup,
 * which waits while the DNS questions fly, never makes a scan longer. */
static int fp_budget(const checks_ctx *x, int64_t deadline)
{
	int64_t left;

	if (!deadline)
		return x->fp_ms;
	left = (deadline - dns_now()) / 1000000;
	return left < 1 ? 1 : left < x->fp_ms ? (int)left : x->fp_ms;
}

/* Looks the message's fingerprints up on the server. */
static int fp_check(checks_ctx *x, const ss_message *m, int64_t deadline, ss_hits *out)
{
	fpc_result res;
	fp_set fs;
	int err;

	if (fp_of_message_ex(m, NULL, x->tok, &fs) || (!fs.has_text && !fs.ndigests))
		return 0;
	err = fpc_lookup(x->fp, fs.has_text ? &fs.text : NULL, fs.digests, fs.ndigests,
	                 fp_budget(x, deadline), &res);
	if (err)
		return hits_add(out, "FUZZY_TEMPERROR",
		                err == SS_EIO ? "no answer in time" : "refused");
	if (!res.found || res.similarity < FUZZY_SIMILAR)
		return 0;
	return hits_addf(out, res.cls == FPP_HAM ? "FUZZY_HAM" : "FUZZY_SPAM",
	                 "similarity %.2f, weight %.2f, reported %u times", res.similarity,
	                 res.weight, (unsigned)res.count);
}

int checks_run(checks_ctx *x, const ss_checks_config *cfg, const ss_message *m, const char *buf,
               size_t len, const checks_envelope *env, ss_arena *a, ss_hits *out,
               const char **auth_results)
{
	int64_t deadline = x->dns ? dns_deadline(dns_client_timeout(x->dns)) : 0;
	dnsl_run lists;
	int err = 0, lists_on = 0;

	*auth_results = NULL;
	memset(&lists, 0, sizeof(lists));
	if (x->dns)
		err = dns_begin(x, cfg, m, buf, len, env, deadline, a, &lists, &lists_on);
	if (!err)
		err = phish_check(x->phish, m, cfg, out);
	if (!err && x->fp)
		err = fp_check(x, m, deadline, out);
	if (x->dns) {
		/* always waited for: pending questions point into a */
		int e2 = lists_on ? dnsl_finish(&lists, deadline, out) : 0;
		int e3 = auth_finish(x->auth, x->authserv_id, out, auth_results);
		dns_wait(x->dns, deadline);
		err = err ? err : e2 ? e2 : e3;
	}
	return err;
}
