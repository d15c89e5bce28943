/*
 * select.c: what the DNS lists are asked about (see dnsl.h): the sending
 * IP(s) of a message and the registrable domains of its URLs, filtered
 * (no private addresses, no names that are not real domains), deduplicated
 * and bounded. Pure: no I/O, nothing but the message and the options.
 *
 * The reserved networks are an ss_netset and the public suffix list is
 * libpsl's newest (the system's file, else the built-in copy); both are
 * made once per process and only read afterwards, from any thread.
 */
#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "dnsl/dnsl.h"

/* Distinct domains counted per message (for DNSL_LIMIT_DOMAINS). */
#define DNSL_SEEN_MAX 200

/* Addresses never asked about: "this network", private, shared (CGN),
 * loopback, link-local, IETF protocol assignments, benchmarking,
 * multicast and reserved; IPv6 unspecified, loopback, IPv4-compatible,
 * local NAT64, discard, Teredo, 6to4 (both embed IPv4), unique local,
 * link-local, site-local and multicast. IPv4-mapped addresses are turned
 * into IPv4 first. */
static const char reserved_spec[] =
    "0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 "
    "192.0.0.0/24 192.168.0.0/16 198.18.0.0/15 224.0.0.0/3 "
    "::/96 64:ff9b:1::/48 100::/64 2001::/32 2002::/16 fc00::/7 fe80::/10 fec0::/10 ff00::/8";

/* Top-level domains that name no public host. */
static const char *const private_tlds[] = {"localhost", "local", "localdomain", "invalid",
                                           "arpa",      "onion", "internal",    "lan",
                                           "home",      "corp",  "intranet",    "private"};

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static ss_netset *reserved;
static const psl_ctx_t *psl;

static void tables_load(void)
{
	if (ss_netset_parse(reserved_spec, &reserved, NULL))
		reserved = NULL;
	psl = psl_latest(NULL);
	if (!psl)
		psl = psl_builtin();
}

void dnsl_opts_default(dnsl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_ips = DNSL_MAX_IPS;
	o->max_domains = DNSL_MAX_DOMAINS;
}

int dnsl_ip_public(const char *ip, char *out, size_t outlen)
{
	unsigned char b[16];
	const char *s;

	pthread_once(&tables_once, tables_load);
	if (inet_pton(AF_INET, ip, b) == 1)
		s = inet_ntop(AF_INET, b, out, (socklen_t)outlen);
	else if (inet_pton(AF_INET6, ip, b) != 1)
		return 0;
	else if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)b))
		s = inet_ntop(AF_INET, b + 12, out, (socklen_t)outlen);
	else
		s = inet_ntop(AF_INET6, b, out, (socklen_t)outlen);
	return s && reserved && !ss_netset_contains(reserved, out);
}

/* Whether the top-level label tld[0..n) can name a public host: letters,
 * digits and hyphens, not all digits, not a private name. */
static int tld_ok(const char *tld, size_t n)
{
	size_t digits = 0;

	for (size_t i = 0; i < n; i++) {
		if (tld[i] >= '0' && tld[i] <= '9')
			digits++;
		else if (tld[i] == '_')
			return 0;
	}
	if (digits == n)
		return 0;
	for (size_t i = 0; i < sizeof(private_tlds) / sizeof(private_tlds[0]); i++)
		if (strlen(private_tlds[i]) == n && !memcmp(private_tlds[i], tld, n))
			return 0;
	return 1;
}

static int host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Lower-cases host into low (without a final dot) and checks its labels:
 * two or more, 1-63 bytes of [a-z0-9_-] each. Returns the offset of the
 * last label, or -1. */
static long host_lower(const char *host, char *low, size_t lowlen)
{
	size_t n = strlen(host), label = 0, labels = 1, last = 0;

	if (n && host[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n >= lowlen)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = host[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
			labels++;
			last = i + 1;
		} else if (!host_char(c) || ++label > 63) {
			return -1;
		}
		low[i] = c;
	}
	low[n] = '\0';
	return label && labels >= 2 ? (long)last : -1;
}

int dnsl_domain_of(const char *host, char *out, size_t outlen)
{
	char low[256];
	const char *r;
	long tld;

	pthread_once(&tables_once, tables_load);
	if ((tld = host_lower(host, low, sizeof(low))) < 0 ||
	    !tld_ok(low + tld, strlen(low + tld)) || !psl)
		return 0;
	if (!(r = psl_registrable_domain(psl, low)) || strlen(r) >= outlen)
		return 0;
	memcpy(out, r, strlen(r) + 1);
	return 1;
}

/* Adds key s to v[0..*n) unless present; cap bounds *n. Returns 0, 1 when
 * it was there or did not fit, or SS_ENOMEM. */
static int key_add(ss_arena *a, dnsl_key *v, size_t *n, size_t cap, const char *s, int ip)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(v[i].s, s))
			return 1;
	if (*n >= cap)
		return 1;
	if (!(v[*n].s = arena_strndup(a, s, strlen(s))))
		return SS_ENOMEM;
	v[(*n)++].ip = ip;
	return 0;
}

/* The sending IPs: the envelope's when public, else the first untrusted
 * hop with a public IP; with opts.deep the older untrusted hops too. */
static int plan_ips(dnsl_run *run, const ss_message *m, const char *client_ip)
{
	size_t max = run->opts.deep ? run->opts.max_ips : 1;
	char ip[INET6_ADDRSTRLEN];
	int err;

	if (!(run->ips = arena_calloc(run->a, max, sizeof(*run->ips))))
		return SS_ENOMEM;
	if (client_ip && dnsl_ip_public(client_ip, ip, sizeof(ip)))
		if ((err = key_add(run->a, run->ips, &run->nips, max, ip, 1)) < 0)
			return err;
	for (size_t i = m->first_untrusted < 0 ? m->nhops : (size_t)m->first_untrusted;
	     i < m->nhops && run->nips < max; i++) {
		const ss_hop *h = &m->hops[i];
		if (h->trusted || !h->ip.len || !dnsl_ip_public(h->ip.p, ip, sizeof(ip)))
			continue;
		if ((err = key_add(run->a, run->ips, &run->nips, max, ip, 1)) < 0)
			return err;
	}
	return 0;
}

/* Adds the key of one URL host or address domain to the domain keys. */
static int domain_add(dnsl_run *run, const char *host, int ip_literal)
{
	char key[256];

	if (ip_literal ? !dnsl_ip_public(host, key, sizeof(key))
	               : !dnsl_domain_of(host, key, sizeof(key)))
		return 0;
	int err = key_add(run->a, run->domains, &run->domains_seen, DNSL_SEEN_MAX, key, ip_literal);
	return err < 0 ? err : 0;
}

/* Adds an address's domain (Unicode) by its A-labels. */
static int sender_domain_add(dnsl_run *run, const char *domain)
{
	char *ascii = NULL;
	int err = 0;

	if (idn2_to_ascii_8z(domain, &ascii, IDN2_NONTRANSITIONAL) == IDN2_OK)
		err = domain_add(run, ascii, 0);
	idn2_free(ascii);
	return err;
}

/* Whether address a was found in the From or Reply-To field. */
static int sender_addr(const ss_addr *a)
{
	return a->part < 0 &&
	       (!strcasecmp(a->where.p, "From") || !strcasecmp(a->where.p, "Reply-To"));
}

/* The registrable domains of the sender addresses (opts.sender_domains)
 * and of the URL hosts, in the message's order; IP-literal hosts as IPs. */
static int plan_domains(dnsl_run *run, const ss_message *m)
{
	int err = 0;

	if (!(run->domains = arena_calloc(run->a, DNSL_SEEN_MAX, sizeof(*run->domains))))
		return SS_ENOMEM;
	for (size_t i = 0; run->opts.sender_domains && i < m->naddrs && !err; i++) {
		const char *at = strrchr(m->addrs[i].addr.p, '@');
		if (sender_addr(&m->addrs[i]) && at)
			err = sender_domain_add(run, at + 1);
	}
	for (size_t i = 0; i < m->nurls && !err; i++)
		err = domain_add(run, m->urls[i].host_ascii.p, (m->urls[i].flags & SS_URL_IP) != 0);
	run->ndomains =
	    run->domains_seen < run->opts.max_domains ? run->domains_seen : run->opts.max_domains;
	return err;
}

/* Whether cfg has a list of the given kind. */
static int has_kind(const ss_checks_config *cfg, ss_dnslist_kind kind)
{
	for (size_t i = 0; cfg && i < cfg->ndnslists; i++)
		if (cfg->dnslists[i].kind == kind && cfg->dnslists[i].zone)
			return 1;
	return 0;
}

int dnsl_plan(dnsl_run *run, const ss_checks_config *cfg, const dnsl_opts *opts,
              const ss_message *m, const char *client_ip, ss_arena *a)
{
	int err = 0;

	memset(run, 0, sizeof(*run));
	run->cfg = cfg;
	run->a = a;
	if (opts)
		run->opts = *opts;
	else
		dnsl_opts_default(&run->opts);
	if (run->opts.max_ips == 0)
		run->opts.max_ips = DNSL_MAX_IPS;
	if (run->opts.max_domains == 0)
		run->opts.max_domains = DNSL_MAX_DOMAINS;
	if (has_kind(cfg, SS_DNSLIST_IP))
		err = plan_ips(run, m, client_ip);
	if (!err && has_kind(cfg, SS_DNSLIST_DOMAIN))
		err = plan_domains(run, m);
	return err;
}
