/*
 * dns.c: asynchronous lookups with a deadline over libunbound (see dns.h).
 *
 * libunbound runs the queries in a background thread of its own and
 * signals answers on a descriptor (ub_fd); dns_wait() polls it until the
 * deadline and lets ub_process() deliver answers to on_answer(), which
 * copies them into the query's arena. Queries still pending at the
 * deadline are cancelled, so a late answer never touches freed memory.
 */
#include "dns/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>

struct dns_client {
	struct ub_ctx *ub;
	double timeout;
	dns_query **pending; /* submitted, not answered */
	size_t npending, cap;
};

int64_t dns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t dns_deadline(double seconds)
{
	return dns_now() + (int64_t)(seconds * 1e9);
}

const char *dns_status_name(dns_status s)
{
	static const char *names[] = {"pending", "ok", "nodata", "nxdomain", "tempfail"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* Splits "IP", "IP:PORT" or "[IP6]:PORT" into host and port. */
static int split_server(const char *spec, char *host, size_t hostlen, unsigned *port)
{
	const char *end, *colon;
	size_t n;
	char *e;

	*port = 53;
	if (spec[0] == '[') {
		if (!(end = strchr(spec, ']')))
			return SS_ESYNTAX;
		spec++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return SS_ESYNTAX;
	} else {
		colon = strchr(spec, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		end = colon ? colon : spec + strlen(spec);
	}
	if ((n = (size_t)(end - spec)) == 0 || n >= hostlen)
		return SS_ESYNTAX;
	memcpy(host, spec, n);
	host[n] = '\0';
	if (colon) {
		errno = 0;
		unsigned long p = strtoul(colon + 1, &e, 10);
		if (errno || *e || e == colon + 1 || p == 0 || p > 65535)
			return SS_ESYNTAX;
		*port = (unsigned)p;
	}
	return 0;
}

int dns_server_parse(const char *spec, char *out, size_t outlen)
{
	unsigned char bin[16];
	char host[INET6_ADDRSTRLEN + 1];
	unsigned port;
	int n;

	if (!spec || split_server(spec, host, sizeof(host), &port))
		return SS_ESYNTAX;
	if (inet_pton(AF_INET, host, bin) != 1 && inet_pton(AF_INET6, host, bin) != 1)
		return SS_ESYNTAX;
	n = snprintf(out, outlen, "%s@%u", host, port);
	return n > 0 && (size_t)n < outlen ? 0 : SS_EINVAL;
}

/* Options that make libunbound a plain forwarding stub. */
static int ub_setup(struct ub_ctx *ub, const dns_config *c)
{
	char fwd[INET6_ADDRSTRLEN + 8];

	/* "test." is answered NXDOMAIN locally by default (RFC 6761); test
	 * zones are served by real servers here, so ask them. */
	if (ub_ctx_set_option(ub, "do-not-query-localhost:", "no") ||
	    ub_ctx_set_option(ub, "local-zone:", "test. transparent") ||
	    ub_ctx_set_option(ub, "outgoing-range:", "64") || ub_ctx_async(ub, 1))
		return SS_ENOMEM;
	if (!c->server)
		return ub_ctx_resolvconf(ub, NULL) ? SS_EIO : 0;
	if (dns_server_parse(c->server, fwd, sizeof(fwd)))
		return SS_ESYNTAX;
	return ub_ctx_set_fwd(ub, fwd) ? SS_ESYNTAX : 0;
}

int dns_client_new(const dns_config *c, dns_client **out)
{
	dns_client *d = calloc(1, sizeof(*d));
	int err = SS_ENOMEM;

	*out = NULL;
	if (!d || !(d->ub = ub_ctx_create()))
		goto out;
	d->timeout = c->timeout > 0 ? c->timeout : 5.0;
	if ((err = ub_setup(d->ub, c)))
		goto out;
	*out = d;
	return 0;
out:
	dns_client_free(d);
	return err;
}

/* Cancels every pending query, marking it timed out. */
static int cancel_pending(dns_client *c)
{
	int n = (int)c->npending;

	for (size_t i = 0; i < c->npending; i++) {
		dns_query *q = c->pending[i];
		ub_cancel(c->ub, q->id);
		q->status = DNS_TEMPFAIL;
		q->why = "timeout";
	}
	c->npending = 0;
	return n;
}

void dns_client_free(dns_client *c)
{
	if (!c)
		return;
	if (c->ub) {
		cancel_pending(c);
		ub_ctx_delete(c->ub);
	}
	free(c->pending);
	free(c);
}

double dns_client_timeout(const dns_client *c)
{
	return c->timeout;
}

static void unpend(dns_client *c, dns_query *q)
{
	for (size_t i = 0; i < c->npending; i++)
		if (c->pending[i] == q) {
			c->pending[i] = c->pending[--c->npending];
			return;
		}
}

/* Copies the records of r into q's arena. */
static int copy_records(dns_query *q, const struct ub_result *r)
{
	size_t n = 0;

	while (r->data[n])
		n++;
	if (!(q->rr = arena_calloc(q->a, n ? n : 1, sizeof(*q->rr))))
		return SS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)r->len[i];
		unsigned char *p = arena_alloc(q->a, len ? len : 1);
		if (!p)
			return SS_ENOMEM;
		memcpy(p, r->data[i], len);
		q->rr[i] = (dns_rr){p, len};
	}
	q->nrr = n;
	return 0;
}

/* libunbound's answer callback (run inside ub_process). */
static void on_answer(void *arg, int err, struct ub_result *r)
{
	dns_query *q = arg;

	unpend(q->c, q);
	q->status = DNS_TEMPFAIL;
	q->why = err ? ub_strerror(err) : "servfail";
	if (!err && r->havedata) {
		q->ttl = r->ttl;
		if (copy_records(q, r) == 0)
			q->status = DNS_OK;
		else
			q->why = "out of memory";
	} else if (!err && r->rcode == 0) {
		q->status = DNS_NODATA;
	} else if (!err && r->nxdomain) {
		q->status = DNS_NXDOMAIN;
	}
	if (r)
		ub_resolve_free(r);
}

/* Whether name could be a domain name: 1-253 bytes, labels of 1-63. */
static int name_ok(const char *name)
{
	size_t n = strlen(name), label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (++label > 63 || (unsigned char)*p <= ' ') {
			return 0;
		}
	}
	return 1;
}

int dns_submit(dns_client *c, dns_query *q, const char *name, int type, ss_arena *a)
{
	memset(q, 0, sizeof(*q));
	q->type = type;
	q->a = a;
	q->c = c;
	if (!(q->name = arena_strndup(a, name, strlen(name))))
		return SS_ENOMEM;
	if (!name_ok(name)) {
		q->status = DNS_NXDOMAIN;
		return 0;
	}
	if (c->npending == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		dns_query **p = realloc(c->pending, cap * sizeof(*p));
		if (!p)
			return SS_ENOMEM;
		c->pending = p;
		c->cap = cap;
	}
	c->pending[c->npending++] = q;
	if (ub_resolve_async(c->ub, name, type, 1, q, on_answer, &q->id)) {
		c->npending--;
		q->status = DNS_TEMPFAIL;
		q->why = "resolver error";
	}
	return 0;
}

/* Cancels one pending query, marking it timed out. */
static void cancel_one(dns_client *c, dns_query *q)
{
	ub_cancel(c->ub, q->id);
	unpend(c, q);
	q->status = DNS_TEMPFAIL;
	q->why = "timeout";
}

/* Processes answers until `one` (or, when NULL, every query) is answered
 * or the deadline passes. */
static void wait_answers(dns_client *c, const dns_query *one, int64_t deadline)
{
	struct pollfd pfd = {.fd = ub_fd(c->ub), .events = POLLIN};

	while (one ? one->status == DNS_PENDING : c->npending > 0) {
		int64_t left = deadline - dns_now();
		if (left <= 0)
			break;
		int ms = (int)((left + 999999) / 1000000);
		if (poll(&pfd, 1, ms) > 0)
			ub_process(c->ub);
	}
}

int dns_wait(dns_client *c, int64_t deadline)
{
	wait_answers(c, NULL, deadline);
	return cancel_pending(c);
}

dns_status dns_lookup(dns_client *c, dns_query *q, const char *name, int type, int64_t deadline,
                      ss_arena *a)
{
	if (dns_submit(c, q, name, type, a)) {
		q->status = DNS_TEMPFAIL;
		q->why = "out of memory";
	}
	wait_answers(c, q, deadline);
	if (q->status == DNS_PENDING)
		cancel_one(c, q);
	return q->status;
}

const char *dns_txt(const dns_query *q, size_t i, ss_arena *a)
{
	const unsigned char *p, *end;
	char *s, *w;

	if (i >= q->nrr || q->type != DNS_T_TXT)
		return NULL;
	p = q->rr[i].data;
	end = p + q->rr[i].len;
	if (!(s = w = arena_alloc(a, q->rr[i].len + 1)))
		return NULL;
	while (p < end) {
		size_t n = *p++;
		if (n > (size_t)(end - p))
			return NULL;
		memcpy(w, p, n);
		w += n;
		p += n;
	}
	*w = '\0';
	return s;
}

/* Writes the 32 reversed nibbles of an IPv6 address, dot-separated. */
static size_t ip6_nibbles(const unsigned char *b, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (int i = 15; i >= 0; i--) {
		out[n++] = hex[b[i] & 15];
		out[n++] = '.';
		out[n++] = hex[b[i] >> 4];
		out[n++] = '.';
	}
	out[n] = '\0';
	return n;
}

int dns_ip_name(const char *ip, const char *zone, char *out, size_t outlen)
{
	unsigned char b[16];
	char rev[72];
	int n;

	if (inet_pton(AF_INET, ip, b) == 1)
		snprintf(rev, sizeof(rev), "%u.%u.%u.%u.", b[3], b[2], b[1], b[0]);
	else if (inet_pton(AF_INET6, ip, b) == 1)
		ip6_nibbles(b, rev);
	else
		return SS_ESYNTAX;
	n = snprintf(out, outlen, "%s%s", rev, zone);
	return n > 0 && (size_t)n < outlen ? 0 : SS_EINVAL;
}
