/*
 * auth.c: one authentication scan: the envelope, the queries submitted
 * ahead, SPF, DKIM and DMARC in turn, their hits and the
 * Authentication-Results value (see auth.h).
 */
#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "auth/arhdr.h"
#include "auth/dkimv.h"
#include "auth/dmarc.h"
#include "auth/scan.h"
#include "auth/spf.h"

struct auth_ctx {
	spf_checker *spf;
	dkimv_lib *dkim;
	const psl_ctx_t *psl;
	psl_ctx_t *psl_owned;
	/* the scan in progress (between auth_begin and auth_finish) */
	int active;
	auth_scan scan;
	const ss_message *msg;
	const char *buf;
	size_t len;
	const char *ip, *helo;
	const char *mail_from;  /* the identity SPF checks (postmaster@helo for <>) */
	const char *spf_domain; /* its domain */
	const char *from;       /* RFC 5322 From domain, or NULL */
	size_t ndkim_fields;    /* DKIM-Signature fields seen */
};

auth_ctx *auth_ctx_new(void)
{
	auth_ctx *c = calloc(1, sizeof(*c));

	if (!c || spf_checker_new(&c->spf) || !(c->dkim = dkimv_lib_new()))
		goto out;
	c->psl_owned = psl_latest(NULL);
	c->psl = c->psl_owned ? c->psl_owned : psl_builtin();
	return c;
out:
	auth_ctx_free(c);
	return NULL;
}

void auth_ctx_free(auth_ctx *c)
{
	if (!c)
		return;
	spf_checker_free(c->spf);
	dkimv_lib_free(c->dkim);
	psl_free(c->psl_owned);
	free(c);
}

/* A copy of v[0..n) in a, trimmed of white space and one pair of <>. */
static const char *path_addr(ss_arena *a, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
		n--;
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>')
		v++, n -= 2;
	return arena_strndup(a, v, n);
}

/* Fills ip, helo and the SPF identity from env, or from the message
 * (first untrusted hop, Return-Path) when env has no address. */
static int take_envelope(auth_ctx *c, const auth_envelope *env, ss_arena *a)
{
	const ss_message *m = c->msg;
	const char *mf = env ? env->mail_from : NULL;

	if (env && env->ip && *env->ip) {
		c->ip = env->ip;
		c->helo = env->helo;
	} else if (m->first_untrusted >= 0 && (size_t)m->first_untrusted < m->nhops) {
		const ss_hop *h = &m->hops[m->first_untrusted];
		c->ip = h->ip.len ? h->ip.p : NULL;
		c->helo = h->from_helo.len ? h->from_helo.p : NULL;
	}
	if (!mf) {
		const ss_header *rp = ss_message_header(m, 0, "Return-Path");
		if (rp && !(mf = path_addr(a, rp->raw.p, rp->raw.len)))
			return SS_ENOMEM;
	}
	if (mf && strchr(mf, '@')) {
		c->mail_from = mf;
	} else if (c->helo) {
		char *pm = arena_alloc(a, strlen(c->helo) + 12);
		if (!pm)
			return SS_ENOMEM;
		sprintf(pm, "postmaster@%s", c->helo);
		c->mail_from = pm;
	}
	if (c->mail_from)
		c->spf_domain = strrchr(c->mail_from, '@') + 1;
	return 0;
}

/* Submits the keys of the DKIM-Signature fields. */
static int prefetch_dkim(auth_ctx *c)
{
	const ss_part *root = &c->msg->parts[0];
	int err = 0;

	for (size_t i = 0; !err && i < root->header_count; i++) {
		const ss_header *h = &c->msg->headers[root->header_first + i];
		const char *key;
		if (strcasecmp(h->name.p, "DKIM-Signature"))
			continue;
		c->ndkim_fields++;
		if ((key = dkimv_key_name(h->raw.p, h->raw.len, c->scan.a)))
			err = auth_scan_prefetch(&c->scan, key, DNS_T_TXT);
	}
	return err;
}

/* Submits _dmarc of the From domain and of its organisational domain. */
static int prefetch_dmarc(auth_ctx *c)
{
	const ss_header *from = ss_message_header(c->msg, 0, "From");
	char name[300];
	const char *org;
	int err;

	if (!from || !(c->from = dmarc_from_domain(from->raw.p, from->raw.len, c->scan.a)))
		return 0;
	snprintf(name, sizeof(name), "_dmarc.%s", c->from);
	if ((err = auth_scan_prefetch(&c->scan, name, DNS_T_TXT)))
		return err;
	org = dmarc_org_domain(c->psl, c->from);
	if (strcmp(org, c->from) == 0)
		return 0;
	snprintf(name, sizeof(name), "_dmarc.%s", org);
	return auth_scan_prefetch(&c->scan, name, DNS_T_TXT);
}

int auth_begin(auth_ctx *c, const ss_message *msg, const char *buf, size_t len,
               const auth_envelope *env, dns_client *dns, int64_t deadline, ss_arena *a)
{
	int err;

	if (!c || !msg || !msg->nparts || (!buf && len))
		return SS_EINVAL;
	memset(&c->active, 0, sizeof(*c) - offsetof(auth_ctx, active));
	auth_scan_init(&c->scan, dns, deadline, a);
	c->msg = msg;
	c->buf = buf;
	c->len = len;
	if ((err = take_envelope(c, env, a)))
		return err;
	if (c->ip && c->spf_domain &&
	    (err = auth_scan_prefetch(&c->scan, c->spf_domain, DNS_T_TXT)))
		return err;
	if ((err = prefetch_dkim(c)) || (err = prefetch_dmarc(c)))
		return err;
	c->active = 1;
	return 0;
}

static const char *const spf_symbols[] = {
    [AUTH_NONE] = "SPF_NONE",           [AUTH_PASS] = "SPF_PASS",
    [AUTH_FAIL] = "SPF_FAIL",           [AUTH_SOFTFAIL] = "SPF_SOFTFAIL",
    [AUTH_NEUTRAL] = "SPF_NEUTRAL",     [AUTH_TEMPERROR] = "SPF_TEMPERROR",
    [AUTH_PERMERROR] = "SPF_PERMERROR",
};

/* SPF: result, hit, A-R part. */
static int run_spf(auth_ctx *c, ss_hits *out, ar_spf *r)
{
	int err;

	if (!c->ip || !c->mail_from)
		return 0;
	r->checked = 1;
	r->mail_from = c->mail_from;
	r->helo = c->helo;
	if ((err = spf_check(c->spf, &c->scan, c->ip, c->helo, c->mail_from, &r->res, &r->why)))
		return err;
	if (r->why)
		return hits_addf(out, spf_symbols[r->res], "%s (%s)", c->spf_domain, r->why);
	return hits_add(out, spf_symbols[r->res], c->spf_domain);
}

/* DKIM: one hit per signature result. */
static int run_dkim(auth_ctx *c, ss_hits *out, ar_results *r)
{
	ar_dkim *sigs;
	int err = dkimv_verify(c->dkim, &c->scan, c->buf, c->len, &sigs, &r->ndkim);

	r->dkim = sigs;
	if (err)
		return err;
	if (r->ndkim == 0)
		return c->ndkim_fields ? hits_add(out, "DKIM_INVALID", "unusable DKIM-Signature")
		                       : hits_add(out, "DKIM_NONE", NULL);
	for (size_t i = 0; !err && i < r->ndkim; i++) {
		const char *sym = sigs[i].res == AUTH_PASS        ? "DKIM_VALID"
		                  : sigs[i].res == AUTH_TEMPERROR ? "DKIM_TEMPERROR"
		                                                  : "DKIM_INVALID";
		err = hits_addf(out, sym, "d=%s s=%s", sigs[i].d ? sigs[i].d : "?",
		                sigs[i].s ? sigs[i].s : "?");
	}
	return err;
}

/* Looks up _dmarc.domain: 1 and *rec when one valid record, 0 when none,
 * -1 on a temporary failure. */
static int dmarc_lookup(auth_ctx *c, const char *domain, dmarc_record *rec)
{
	char name[300];
	const dns_query *q;
	int found = 0;

	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	q = auth_scan_lookup(&c->scan, name, DNS_T_TXT);
	if (q->status == DNS_TEMPFAIL)
		return -1;
	for (size_t i = 0; q->status == DNS_OK && i < q->nrr; i++) {
		const char *txt = dns_txt(q, i, c->scan.a);
		dmarc_record r;
		if (txt && dmarc_parse(txt, strlen(txt), &r) == 0 && found++ == 0)
			*rec = r;
	}
	return found == 1; /* several records: none applies (RFC 7489 6.6.3) */
}

/* A number 0-99 fixed for a message: its pct sample. */
static unsigned sample_of(const auth_ctx *c)
{
	const ss_header *id = ss_message_header(c->msg, 0, "Message-ID");
	uint32_t h = 2166136261u;
	const char *p = id ? id->raw.p : c->from;
	size_t n = id ? id->raw.len : strlen(c->from);

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h % 100;
}

/* The DMARC inputs from SPF and DKIM results. */
static void dmarc_fill(auth_ctx *c, const ar_results *r, dmarc_input *in, const char **dkim_d)
{
	in->from = c->from;
	in->spf = r->spf.checked ? r->spf.res : AUTH_NONE;
	in->spf_domain = c->spf_domain;
	in->temperror = in->spf == AUTH_TEMPERROR;
	in->dkim_d = dkim_d;
	for (size_t i = 0; i < r->ndkim; i++) {
		if (r->dkim[i].res == AUTH_PASS && r->dkim[i].d)
			dkim_d[in->ndkim++] = r->dkim[i].d;
		in->temperror |= r->dkim[i].res == AUTH_TEMPERROR;
	}
	in->sample = sample_of(c);
}

static int dmarc_hit(auth_ctx *c, ss_hits *out, const ar_dmarc *d, dmarc_policy p)
{
	static const char *const fail[] = {"DMARC_FAIL_NONE", "DMARC_FAIL_QUARANTINE",
	                                   "DMARC_FAIL_REJECT"};

	switch (d->res) {
	case AUTH_PASS:
		return hits_add(out, "DMARC_PASS", c->from);
	case AUTH_FAIL:
		return hits_addf(out, fail[p], "%s p=%s", c->from, dmarc_policy_name(p));
	case AUTH_TEMPERROR:
		return hits_add(out, "DMARC_TEMPERROR", c->from);
	default:
		return hits_add(out, "DMARC_NONE", c->from);
	}
}

/* DMARC: the record (From domain, else organisational domain), then the
 * evaluation. */
static int run_dmarc(auth_ctx *c, ss_hits *out, ar_results *r)
{
	const char **dkim_d = NULL;
	dmarc_record rec;
	dmarc_input in = {0};
	dmarc_policy p = DMARC_P_NONE;
	const char *org;
	int got;

	if (!c->from)
		return 0;
	r->dmarc.checked = 1;
	r->dmarc.from = c->from;
	got = dmarc_lookup(c, c->from, &rec);
	org = dmarc_org_domain(c->psl, c->from);
	if (got == 0 && strcmp(org, c->from)) {
		got = dmarc_lookup(c, org, &rec);
		in.at_org = 1;
	}
	if (got < 0) {
		r->dmarc.res = AUTH_TEMPERROR;
		return dmarc_hit(c, out, &r->dmarc, p);
	}
	if (r->ndkim && !(dkim_d = arena_calloc(c->scan.a, r->ndkim, sizeof(*dkim_d))))
		return SS_ENOMEM;
	dmarc_fill(c, r, &in, dkim_d);
	in.rec = got ? &rec : NULL;
	r->dmarc.res = dmarc_eval(c->psl, &in, &p);
	if (got)
		r->dmarc.policy = dmarc_policy_name(p);
	return dmarc_hit(c, out, &r->dmarc, p);
}

/* DNS_TEMPERROR: the lookups that timed out. */
static int timeouts_hit(auth_ctx *c, ss_hits *out)
{
	int err = 0;

	for (size_t i = 0; !err && i < c->scan.ntimedout; i++)
		err = hits_add(out, "DNS_TEMPERROR", c->scan.timedout[i]);
	return err;
}

int auth_finish(auth_ctx *c, const char *authserv_id, ss_hits *out, const char **ar_header)
{
	ar_results r = {0};
	int err;

	if (!c || !c->active)
		return SS_EINVAL;
	c->active = 0;
	if (c->scan.dns)
		dns_wait(c->scan.dns, c->scan.deadline);
	if ((err = run_spf(c, out, &r.spf)) || (err = run_dkim(c, out, &r)) ||
	    (err = run_dmarc(c, out, &r)) || (err = timeouts_hit(c, out)))
		return err;
	if (ar_header && !(*ar_header = ar_format(c->scan.a, authserv_id, &r)))
		return SS_ENOMEM;
	return 0;
}
