/*
 * spf.c: libspf2 over the scan's DNS (see spf.h).
 *
 * libspf2 asks its DNS layer one question at a time and wants an
 * SPF_dns_rr_t back with h_errno-style status: NETDB_SUCCESS, NO_DATA,
 * HOST_NOT_FOUND or TRY_AGAIN (temperror; see fix_temp()). Our layer
 * converts dns_query answers: A and AAAA as they are, TXT strings joined,
 * MX and PTR names from their (uncompressed) wire form. The obsolete SPF
 * record type (99, RFC 7208 section 3.1) is answered "no data" without
 * asking, so each domain costs one TXT query.
 */
#include "auth/spf.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>

struct spf_checker {
	SPF_server_t *server;
	SPF_dns_server_t *layer; /* ours to free: no destroy, so libspf2 leaves it */
	auth_scan *scan;         /* the scan in progress, for the DNS layer */
	int tempfail;            /* a lookup of this check failed temporarily */
};

/* libspf2's warnings would go to standard error; we report results. */
static void spf_quiet(const char *file, int line, const char *msg)
{
}

static void spf_log_init(void)
{
	SPF_warning_handler = spf_quiet;
	SPF_info_handler = spf_quiet;
	SPF_debug_handler = spf_quiet;
}

/* Writes the wire-form name at p (no compression) as dotted text into
 * out. Returns 0, or -1 when malformed or too long. */
static int wire_name(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	size_t i = 0, n = 0;

	while (i < len && p[i]) {
		size_t l = p[i++];
		if (l > 63 || l > len - i || n + l + 2 > outlen)
			return -1;
		if (n)
			out[n++] = '.';
		memcpy(out + n, p + i, l);
		n += l;
		i += l;
	}
	if (i >= len)
		return -1;
	out[n] = '\0';
	return 0;
}

/* Copies record data of one answer into rr slot idx. */
static int put_rr(SPF_dns_rr_t *rr, int idx, const void *data, size_t len)
{
	if (SPF_dns_rr_buf_realloc(rr, idx, len + 1) != SPF_E_SUCCESS)
		return -1;
	memcpy(rr->rr[idx], data, len);
	((char *)rr->rr[idx])[len] = '\0';
	return 0;
}

/* Converts record i of q into libspf2's form; returns 1 when stored. */
static int convert_rr(SPF_dns_rr_t *rr, int idx, const dns_query *q, size_t i, ss_arena *a)
{
	const dns_rr *r = &q->rr[i];
	char name[256];
	const char *txt;

	switch (q->type) {
	case DNS_T_A:
		return r->len == 4 && put_rr(rr, idx, r->data, 4) == 0;
	case DNS_T_AAAA:
		return r->len == 16 && put_rr(rr, idx, r->data, 16) == 0;
	case DNS_T_TXT:
		txt = dns_txt(q, i, a);
		return txt && put_rr(rr, idx, txt, strlen(txt)) == 0;
	case ns_t_mx:
		if (r->len < 3 || wire_name(r->data + 2, r->len - 2, name, sizeof(name)))
			return 0;
		return put_rr(rr, idx, name, strlen(name)) == 0;
	case ns_t_ptr:
		if (wire_name(r->data, r->len, name, sizeof(name)))
			return 0;
		return put_rr(rr, idx, name, strlen(name)) == 0;
	default:
		return 0;
	}
}

static int herrno_of(dns_status st)
{
	switch (st) {
	case DNS_OK:
		return NETDB_SUCCESS;
	case DNS_NODATA:
		return NO_DATA;
	case DNS_NXDOMAIN:
		return HOST_NOT_FOUND;
	default:
		return TRY_AGAIN;
	}
}

/* The layer's lookup: libspf2's question through auth_scan_lookup(). */
static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
                                  int should_cache)
{
	spf_checker *c = srv->hook;
	const dns_query *q;
	SPF_dns_rr_t *rr;
	int n = 0;

	if ((int)type == ns_t_spf || !c->scan)
		return SPF_dns_rr_new_init(srv, domain, type, 0, NO_DATA);
	q = auth_scan_lookup(c->scan, domain, (int)type);
	c->tempfail |= q->status == DNS_TEMPFAIL;
	rr = SPF_dns_rr_new_init(srv, domain, type, q->ttl, herrno_of(q->status));
	if (!rr || q->status != DNS_OK)
		return rr;
	for (size_t i = 0; i < q->nrr; i++)
		n += convert_rr(rr, n, q, i, c->scan->a);
	rr->num_rr = n;
	if (n == 0)
		rr->herrno = NO_DATA;
	return rr;
}

int spf_checker_new(spf_checker **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	spf_checker *c = calloc(1, sizeof(*c));
	SPF_dns_server_t *layer = calloc(1, sizeof(*layer));

	*out = NULL;
	pthread_once(&once, spf_log_init);
	if (!c || !layer)
		goto out;
	layer->lookup = layer_lookup;
	layer->name = "spamsift";
	layer->hook = c;
	c->layer = layer;
	if (!(c->server = SPF_server_new_dns(layer, 0)))
		goto out;
	*out = c;
	return 0;
out:
	free(layer);
	free(c);
	return SS_ENOMEM;
}

void spf_checker_free(spf_checker *c)
{
	if (!c)
		return;
	SPF_server_free(c->server);
	free(c->layer);
	free(c);
}

static auth_res res_of(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:
		return AUTH_PASS;
	case SPF_RESULT_FAIL:
		return AUTH_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return AUTH_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return AUTH_NEUTRAL;
	case SPF_RESULT_NONE:
		return AUTH_NONE;
	case SPF_RESULT_TEMPERROR:
		return AUTH_TEMPERROR;
	default:
		return AUTH_PERMERROR;
	}
}

/* Sets the client address of req from text. */
static int set_ip(SPF_request_t *req, const char *ip)
{
	struct in6_addr b;

	if (inet_pton(AF_INET, ip, &b) == 1)
		return SPF_request_set_ipv4_str(req, ip) == SPF_E_SUCCESS ? 0 : -1;
	if (inet_pton(AF_INET6, ip, &b) == 1)
		return SPF_request_set_ipv6_str(req, ip) == SPF_E_SUCCESS ? 0 : -1;
	return -1;
}

/* libspf2 1.2.10 reports a temporary DNS failure (of the first record,
 * or of an include) as permerror: it is a temperror (RFC 7208 section
 * 2.6.6) when a lookup failed temporarily or the error says DNS. */
static auth_res fix_temp(spf_checker *c, SPF_response_t *resp, auth_res r)
{
	if (r != AUTH_PERMERROR)
		return r;
	for (int i = 0; !c->tempfail && i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);
		c->tempfail = e && SPF_error_code(e) == SPF_E_DNS_ERROR;
	}
	return c->tempfail ? AUTH_TEMPERROR : r;
}

/* The first error libspf2 recorded, copied into a. */
static const char *first_error(SPF_response_t *resp, ss_arena *a)
{
	for (int i = 0; resp && i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);
		if (e && SPF_error_errorp(e) && SPF_error_message(e))
			return arena_strndup(a, SPF_error_message(e), strlen(SPF_error_message(e)));
	}
	return NULL;
}

int spf_check(spf_checker *c, auth_scan *s, const char *ip, const char *helo, const char *mail_from,
              auth_res *res, const char **why)
{
	SPF_request_t *req = SPF_request_new(c->server);
	SPF_response_t *resp = NULL;

	*res = AUTH_PERMERROR;
	*why = NULL;
	if (!req)
		return SS_ENOMEM;
	if (set_ip(req, ip)) {
		*why = "bad client address";
		goto out;
	}
	if (helo && *helo)
		SPF_request_set_helo_dom(req, helo);
	if (SPF_request_set_env_from(req, mail_from)) {
		*why = "bad MAIL FROM";
		goto out;
	}
	c->scan = s;
	c->tempfail = 0;
	SPF_request_query_mailfrom(req, &resp);
	c->scan = NULL;
	if (resp) {
		*res = fix_temp(c, resp, res_of(SPF_response_result(resp)));
		if (*res == AUTH_PERMERROR || *res == AUTH_TEMPERROR)
			*why = first_error(resp, s->a);
	}
out:
	if (resp)
		SPF_response_free(resp);
	SPF_request_free(req);
	return 0;
}
