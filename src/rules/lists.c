/*
 * lists.c: the allow and deny lists of senders (addresses and *@domain),
 * sender domains and client IPs, global and per scope. A listed sender
 * is the From address or the envelope MAIL FROM; the IP is the SMTP
 * client's, else the first untrusted Received hop's. A hit is a symbol
 * (ALLOW_FROM, DENY_IP...) with what matched as its detail; its points
 * come from `score` lines like any other.
 */
#include <string.h>
#include <strings.h>

#include "rules/internal.h"

static const char *const list_syms[L_NLISTS] = {"ALLOW_FROM", "DENY_FROM", "ALLOW_DOMAIN",
                                                "DENY_DOMAIN"};

/* The senders of a message: From addresses and the envelope's. */
typedef struct senders {
	const char *v[8];
	size_t len[8];
	size_t n;
} senders;

static void add_sender(senders *s, const char *p, size_t n)
{
	if (n && p[0] == '<')
		p++, n--;
	if (n && p[n - 1] == '>')
		n--;
	if (n && s->n < 8 && memchr(p, '@', n)) {
		s->v[s->n] = p;
		s->len[s->n++] = n;
	}
}

static void senders_of(const rules_input *in, senders *s)
{
	const ss_message *m = in->m;

	s->n = 0;
	for (size_t i = 0; i < m->naddrs; i++)
		if (m->addrs[i].part == -1 && !strcasecmp(m->addrs[i].where.p, "From"))
			add_sender(s, m->addrs[i].addr.p, m->addrs[i].addr.len);
	if (in->mail_from)
		add_sender(s, in->mail_from, strlen(in->mail_from));
}

static const char *domain_part(const char *a, size_t n, size_t *dn)
{
	const char *at = NULL;

	for (size_t i = 0; i < n; i++)
		if (a[i] == '@')
			at = a + i;
	*dn = at ? n - (size_t)(at + 1 - a) : 0;
	return at ? at + 1 : a + n;
}

/* An entry "user@dom" or "*@dom" (lower case) against an address. */
static int from_match(const char *entry, const char *a, size_t n)
{
	size_t dn, en = strlen(entry);
	const char *d = domain_part(a, n, &dn);

	if (entry[0] == '*' && entry[1] == '@')
		return en - 2 == dn && !strncasecmp(entry + 2, d, dn);
	return en == n && !strncasecmp(entry, a, n);
}

/* A domain entry matches the domain and its subdomains. */
static int domain_match(const char *entry, const char *a, size_t n)
{
	size_t dn, en = strlen(entry);
	const char *d = domain_part(a, n, &dn);

	if (dn < en || strncasecmp(d + dn - en, entry, en))
		return 0;
	return dn == en || d[dn - en - 1] == '.';
}

static int check_list(const scope *s, int which, const senders *snd, ss_hits *hits)
{
	for (size_t i = 0; s && i < s->nlist[which]; i++)
		for (size_t j = 0; j < snd->n; j++) {
			const char *e = s->lists[which][i];
			int hit = which <= L_DENY_FROM ? from_match(e, snd->v[j], snd->len[j])
			                               : domain_match(e, snd->v[j], snd->len[j]);
			if (hit &&
			    hits_addf(hits, list_syms[which], "%.*s", (int)snd->len[j], snd->v[j]))
				return SS_ENOMEM;
		}
	return 0;
}

static const char *client_ip(const rules_input *in)
{
	const ss_message *m = in->m;

	if (in->client_ip && *in->client_ip)
		return in->client_ip;
	if (m->first_untrusted >= 0 && (size_t)m->first_untrusted < m->nhops &&
	    m->hops[m->first_untrusted].ip.len)
		return m->hops[m->first_untrusted].ip.p;
	return NULL;
}

static int check_scope(const scope *s, const rules_input *in, const senders *snd, ss_hits *hits)
{
	const char *ip = client_ip(in);
	int err = 0;

	if (!s)
		return 0;
	for (int w = 0; !err && w < L_NLISTS; w++)
		err = check_list(s, w, snd, hits);
	for (int deny = 0; !err && ip && deny < 2; deny++)
		if (s->ips[deny] && ss_netset_contains(s->ips[deny], ip))
			err = hits_add(hits, deny ? "DENY_IP" : "ALLOW_IP", ip);
	return err;
}

int rules_lists(const ruleset *rs, const rules_input *in, const rules_scope *sc, ss_hits *hits)
{
	senders snd;
	int err;

	senders_of(in, &snd);
	if ((err = check_scope(&rs->global, in, &snd, hits)))
		return err;
	if (sc && (err = check_scope(sc->domain, in, &snd, hits)))
		return err;
	return sc ? check_scope(sc->user, in, &snd, hits) : 0;
}
