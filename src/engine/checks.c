/*
 * checks.c: one scan's built-in checks with their DNS overlapped (see
 * checks.h).
 */
#include "engine/checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "dns/dns.h"
#include "dnsl/dnsl.h"
#include "phish/phish.h"

struct checks_ctx {
	dns_client *dns; /* NULL: no DNS checks */
	auth_ctx *auth;
	phish_ctx *phish;
	char authserv_id[256];
};

/* Whether the resolver setting turns DNS off. */
static int dns_off(const char *resolver)
{
	return !resolver || !*resolver || strcmp(resolver, "off") == 0;
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
	if (s->authserv_id)
		snprintf(x->authserv_id, sizeof(x->authserv_id), "%s", s->authserv_id);
	else if (gethostname(x->authserv_id, sizeof(x->authserv_id) - 1))
		strcpy(x->authserv_id, "localhost");
	if (!(x->phish = phish_ctx_new()))
		goto out;
	if (!dns_off(s->resolver) && (err = dns_open(x, s)))
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
	if (x->dns) {
		/* always waited for: pending questions point into a */
		int e2 = lists_on ? dnsl_finish(&lists, deadline, out) : 0;
		int e3 = auth_finish(x->auth, x->authserv_id, out, auth_results);
		dns_wait(x->dns, deadline);
		err = err ? err : e2 ? e2 : e3;
	}
	return err;
}
