/*
 * dnsl.c: asking the DNS lists and reading their answers (see dnsl.h).
 *
 * dnsl_begin() submits one A question per (list, key) at once; the dns
 * client (libunbound) keeps answers and NXDOMAINs in its cache for their
 * TTL, so the next scans on the same client ask the server nothing new.
 * dnsl_finish() waits with the scan's deadline and turns each answer into
 * findings, which are gathered per symbol and added as one hit each.
 */
#include "dnsl/dnsl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* A list answer's meanings gathered per answer; more are ignored. */
#define DNSL_SYMS_MAX 32
/* Bytes of the joined detail of one hit. */
#define DNSL_DETAIL_MAX 480

/* One finding before it becomes a hit. */
typedef struct finding {
	const char *name;
	const char *detail;
} finding;

typedef struct findings {
	ss_arena *a;
	finding *v;
	size_t n, cap;
} findings;

int dnsl_answer_listed(uint32_t answer)
{
	return (answer >> 24) == 127 && answer != 0x7f000001 && (answer >> 8) != 0x7fffff;
}

/* Whether code c means answer. */
static int code_matches(const ss_dnslist_code *c, uint32_t answer)
{
	if (c->bits)
		return (answer & c->value) != 0;
	return (answer & c->mask) == c->value;
}

size_t dnsl_answer_symbols(const ss_dnslist *l, uint32_t answer, const char **syms, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < l->ncodes && n < max; i++)
		if (code_matches(&l->codes[i], answer) && l->codes[i].symbol)
			syms[n++] = l->codes[i].symbol;
	if (n == 0 && max > 0)
		syms[n++] = l->symbol;
	return n;
}

/* Writes the question for key k of list l to out. Returns 0, or 1 when
 * the name cannot be made (too long). */
static int query_name(const ss_dnslist *l, const dnsl_key *k, char *out, size_t outlen)
{
	int n;

	if (k->ip)
		return dns_ip_name(k->s, l->zone, out, outlen) ? 1 : 0;
	n = snprintf(out, outlen, "%s.%s", k->s, l->zone);
	return n > 0 && (size_t)n < outlen ? 0 : 1;
}

/* Submits the question of key k to list l. Returns 0 or SS_ENOMEM. */
static int submit_one(dnsl_run *run, const ss_dnslist *l, const dnsl_key *k)
{
	dnsl_lookup *lk = &run->lk[run->nlk];
	char name[512];
	int err;

	if (query_name(l, k, name, sizeof(name)))
		return 0;
	lk->list = l;
	lk->key = k;
	if ((err = dns_submit(run->dns, &lk->q, name, DNS_T_A, run->a)))
		return err;
	run->nlk++;
	return 0;
}

/* Submits every key of the list's kind to list l. */
static int submit_list(dnsl_run *run, const ss_dnslist *l)
{
	const dnsl_key *keys = l->kind == SS_DNSLIST_IP ? run->ips : run->domains;
	size_t n = l->kind == SS_DNSLIST_IP ? run->nips : run->ndomains;
	int err = 0;

	for (size_t i = 0; i < n && !err && l->zone; i++)
		err = submit_one(run, l, &keys[i]);
	return err;
}

int dnsl_begin(dnsl_run *run, const ss_checks_config *cfg, const dnsl_opts *opts,
               const ss_message *m, const char *client_ip, dns_client *dns, ss_arena *a)
{
	size_t max = 0;
	int err;

	if ((err = dnsl_plan(run, cfg, opts, m, client_ip, a)))
		return err;
	run->dns = dns;
	for (size_t i = 0; cfg && i < cfg->ndnslists; i++)
		max += cfg->dnslists[i].kind == SS_DNSLIST_IP ? run->nips : run->ndomains;
	if (max == 0)
		return 0;
	if (!(run->lk = arena_calloc(a, max, sizeof(*run->lk))))
		return SS_ENOMEM;
	for (size_t i = 0; i < cfg->ndnslists && !err; i++)
		err = submit_list(run, &cfg->dnslists[i]);
	return err;
}

/* Records a finding; an identical one is kept once. */
static int finding_add(findings *f, const char *name, const char *detail)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].name, name) && !strcmp(f->v[i].detail, detail))
			return 0;
	if (arena_grow(f->a, (void **)&f->v, &f->cap, f->n, sizeof(*f->v)))
		return SS_ENOMEM;
	f->v[f->n].name = name;
	if (!(f->v[f->n].detail = arena_strndup(f->a, detail, strlen(detail))))
		return SS_ENOMEM;
	f->n++;
	return 0;
}

/* The findings of one A record answering lk. */
static int answer_findings(findings *f, const dnsl_lookup *lk, const dns_rr *rr)
{
	const char *syms[DNSL_SYMS_MAX];
	char ip[INET_ADDRSTRLEN], detail[600];
	uint32_t answer;
	size_t n;
	int err = 0;

	if (rr->len != 4 || !inet_ntop(AF_INET, rr->data, ip, sizeof(ip)))
		return 0;
	answer = (uint32_t)rr->data[0] << 24 | (uint32_t)rr->data[1] << 16 |
	         (uint32_t)rr->data[2] << 8 | rr->data[3];
	if (!dnsl_answer_listed(answer)) {
		snprintf(detail, sizeof(detail), "%s: %s -> %s", lk->list->zone, lk->key->s, ip);
		return finding_add(f, "DNSL_BLOCKED", detail);
	}
	snprintf(detail, sizeof(detail), "%s -> %s", lk->key->s, ip);
	n = dnsl_answer_symbols(lk->list, answer, syms, DNSL_SYMS_MAX);
	for (size_t i = 0; i < n && !err; i++)
		err = finding_add(f, syms[i], detail);
	return err;
}

/* The findings of one question: listings, blocked answers, timeouts. */
static int lookup_findings(findings *f, const dnsl_lookup *lk)
{
	int err = 0;

	if (lk->q.status == DNS_TEMPFAIL)
		return finding_add(f, "DNS_TEMPERROR", lk->list->zone);
	if (lk->q.status != DNS_OK)
		return 0; /* NXDOMAIN, NODATA: not listed */
	for (size_t i = 0; i < lk->q.nrr && !err; i++)
		err = answer_findings(f, lk, &lk->q.rr[i]);
	return err;
}

/* Joins the details of every finding named like f->v[first] with ", ",
 * within DNSL_DETAIL_MAX bytes ("..." marks what was left out). */
static void join_details(const findings *f, size_t first, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = first; i < f->n; i++) {
		if (strcmp(f->v[i].name, f->v[first].name))
			continue;
		size_t add = strlen(f->v[i].detail) + (len ? 2 : 0);
		if (len + add + 5 >= outlen) {
			snprintf(out + len, outlen - len, "%s...", len ? ", " : "");
			return;
		}
		len += (size_t)snprintf(out + len, outlen - len, "%s%s", len ? ", " : "",
		                        f->v[i].detail);
	}
}

/* Adds one hit per finding name, in the order first found. */
static int findings_emit(const findings *f, ss_hits *out)
{
	char detail[DNSL_DETAIL_MAX + 1];
	int err = 0;

	for (size_t i = 0; i < f->n && !err; i++) {
		size_t j = 0;
		while (j < i && strcmp(f->v[j].name, f->v[i].name))
			j++;
		if (j < i)
			continue; /* emitted with an earlier one */
		join_details(f, i, detail, sizeof(detail));
		err = hits_add(out, f->v[i].name, detail);
	}
	return err;
}

/* Whether some list is asked about domains. */
static int has_domain_list(const ss_checks_config *cfg)
{
	for (size_t i = 0; cfg && i < cfg->ndnslists; i++)
		if (cfg->dnslists[i].kind == SS_DNSLIST_DOMAIN && cfg->dnslists[i].zone)
			return 1;
	return 0;
}

int dnsl_finish(dnsl_run *run, int64_t deadline, ss_hits *out)
{
	findings f = {.a = run->a};
	char detail[64];
	int err = 0;

	if (run->nlk && run->dns)
		dns_wait(run->dns, deadline);
	for (size_t i = 0; i < run->nlk && !err; i++)
		err = lookup_findings(&f, &run->lk[i]);
	if (!err && run->domains_seen > run->ndomains && has_domain_list(run->cfg)) {
		snprintf(detail, sizeof(detail), "%zu of %zu domains queried", run->ndomains,
		         run->domains_seen);
		err = finding_add(&f, "DNSL_LIMIT_DOMAINS", detail);
	}
	return err ? err : findings_emit(&f, out);
}
