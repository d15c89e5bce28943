/*
 * dnsl.h: DNS reputation lists, the check that asks block lists about the
 * message's sending IP (DNSBL, kind SS_DNSLIST_IP) and about the domains
 * of its URLs (URIBL/SURBL, kind SS_DNSLIST_DOMAIN).
 *
 * A scan runs it in two steps so that its queries fly together with the
 * other checks' (SPF, DKIM, DMARC) on the same dns_client:
 *
 *     dnsl_begin(&run, cfg, NULL, msg, client_ip, dns, arena);  submit all
 *     ... other checks submit theirs ...
 *     dnsl_finish(&run, deadline, &hits);                       wait, hits
 *
 * What is asked (see docs/ARCHITECTURE.md, "DNS lists"):
 * - IP lists: the envelope client IP when given and public, else the first
 *   untrusted Received hop with a public IP; with opts.deep also the older
 *   untrusted hops (up to opts.max_ips IPs in all). Private, loopback,
 *   link-local, multicast and reserved addresses are never asked about.
 * - Domain lists: the registrable domain (public suffix list, libpsl) of
 *   each URL host, deduplicated, at most opts.max_domains of them; IP-literal
 *   URL hosts are asked reversed, as SURBL expects; with
 *   opts.sender_domains also the From and Reply-To domains.
 *
 * What is reported (hits, never points):
 * - a listing, an A record inside 127.0.0.0/8: each of the list's codes
 *   that matches it (several for a bitmask), or the list's own symbol;
 *   detail "KEY -> ANSWER" ("192.0.2.99 -> 127.0.0.2");
 * - DNSL_BLOCKED for answers that are not listings: 127.0.0.1 (URIBL,
 *   SURBL: "query refused"), 127.255.255.0/24 (Spamhaus: typo, public
 *   resolver, over quota) and anything outside 127/8; detail
 *   "ZONE: KEY -> ANSWER";
 * - DNS_TEMPERROR for a query without an answer in time; detail the zone;
 * - DNSL_LIMIT_DOMAINS when the message had more domains than were asked;
 *   detail "20 of 31 domains queried".
 * NXDOMAIN and NODATA mean "not listed" and report nothing.
 */
#ifndef SS_DNSL_DNSL_H
#define SS_DNSL_DNSL_H

#include <stddef.h>
#include <stdint.h>

#include "check/checks.h"
#include "check/hits.h"
#include "dns/dns.h"
#include "spamsift.h"
#include "util/arena.h"

/* Defaults of dnsl_opts. */
#define DNSL_MAX_IPS 4
#define DNSL_MAX_DOMAINS 20

/* What the check asks about, beyond the lists themselves. */
typedef struct dnsl_opts {
	int deep;             /* also the older untrusted hops (forgeable) */
	unsigned max_ips;     /* IPs asked at most (deep only; 1 otherwise); 0: default */
	unsigned max_domains; /* domains asked at most per message; 0: default */
	int sender_domains;   /* also the From and Reply-To domains */
} dnsl_opts;

/* One thing a list is asked about: an IP address (asked as reversed
 * octets or nibbles) or a registrable domain. */
typedef struct dnsl_key {
	const char *s; /* "192.0.2.99", "2001:db8::1", "evil.example" */
	int ip;        /* 1 when s is an IP address */
} dnsl_key;

/* One question: one list, one key. */
typedef struct dnsl_lookup {
	const ss_dnslist *list;
	const dnsl_key *key;
	dns_query q;
} dnsl_lookup;

/* One scan's DNS list check. Everything it points to lives in the arena
 * given to dnsl_begin() (or dnsl_plan()), or in the configuration. */
typedef struct dnsl_run {
	const ss_checks_config *cfg;
	dnsl_opts opts;
	dnsl_key *ips; /* keys for the IP lists */
	size_t nips;
	dnsl_key *domains; /* keys for the domain lists */
	size_t ndomains;
	size_t domains_seen; /* distinct domains found (> ndomains when cut) */
	dnsl_lookup *lk;     /* the questions submitted */
	size_t nlk;
	dns_client *dns;
	ss_arena *a;
} dnsl_run;

/* Fills o with the defaults: one IP, at most DNSL_MAX_DOMAINS domains, no
 * sender domains. */
void dnsl_opts_default(dnsl_opts *o);

/* Decides what to ask (run->ips, run->domains) without asking: the pure
 * first half of dnsl_begin(). opts NULL means the defaults; client_ip (the
 * envelope's, may be NULL) is copied. Keys are allocated in a. Returns 0
 * or SS_ENOMEM. */
int dnsl_plan(dnsl_run *run, const ss_checks_config *cfg, const dnsl_opts *opts,
              const ss_message *m, const char *client_ip, ss_arena *a);

/* dnsl_plan(), then submits every question to dns at once (no waiting).
 * cfg, m and dns must outlive the run; the questions live in a. Whatever
 * it returns, dnsl_finish() (or a dns_wait() on dns) must run before a is
 * released, so no pending question points into freed memory. Returns 0 or
 * SS_ENOMEM. */
int dnsl_begin(dnsl_run *run, const ss_checks_config *cfg, const dnsl_opts *opts,
               const ss_message *m, const char *client_ip, dns_client *dns, ss_arena *a);

/* Waits until `deadline` (dns_now() time) for the answers (dns_wait(): the
 * other checks' questions pending on the same client are waited for, and
 * cancelled at the deadline, too) and adds the hits described above to
 * out. One hit per symbol: the details of several keys are joined with
 * ", ". Returns 0 or SS_ENOMEM. */
int dnsl_finish(dnsl_run *run, int64_t deadline, ss_hits *out);

/* Pure helpers, exposed for the unit tests. */

/* Whether the address text ip may be asked about: 1 when it is a public
 * address, with its canonical text written to out (an IPv4-mapped IPv6
 * address becomes IPv4); 0 for private, loopback, link-local, shared,
 * multicast and reserved addresses (the documentation ranges 192.0.2/24,
 * 198.51.100/24, 203.0.113/24, 2001:db8::/32 are allowed: tests use
 * them), and for text that is not an address. */
int dnsl_ip_public(const char *ip, char *out, size_t outlen);

/* Writes the registrable domain of host (A-labels, any case) to out in
 * lower case: "evil.co.uk" for "A.b.Evil.co.uk". Returns 1 when written,
 * 0 when host is not a real domain (bad characters or labels, one label,
 * a numeric or reserved top-level domain such as .local or .invalid, a
 * public suffix itself) or does not fit. */
int dnsl_domain_of(const char *host, char *out, size_t outlen);

/* Whether an A record answer (host order) is a listing: 1 inside
 * 127.0.0.0/8 except 127.0.0.1 and 127.255.255.0/24, else 0 (blocked,
 * refused or bogus). */
int dnsl_answer_listed(uint32_t answer);

/* Writes to syms (at most max) the symbols that `answer` of list l means:
 * every code that matches it, or, when none does, l->symbol. Returns how
 * many were written (at least 1 when max > 0). */
size_t dnsl_answer_symbols(const ss_dnslist *l, uint32_t answer, const char **syms, size_t max);

#endif
