/*
 * dkimv.c: DKIM verification with libopendkim (see dkimv.h).
 *
 * The raw header fields of the top-level message are fed one by one
 * (folds kept, line ends made CRLF), then the body in CRLF form; the
 * library asks for each signature's key through key_lookup(), which
 * answers from the scan's DNS (prefetched by auth_begin(), or asked now
 * with the scan's deadline). A lookup that failed temporarily makes that
 * signature's result temperror, whatever the library made of it.
 */
#include "auth/dkimv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "util/buf.h"

struct dkimv_lib {
	DKIM_LIB *lib;
};

/* What one verification's key lookups saw (the library's user context). */
typedef struct dkimv_run {
	auth_scan *s;
	const char *temp[32]; /* key names whose lookup failed temporarily */
	size_t ntemp;
} dkimv_run;

/* Copies the value of tag `tag` of a tag list, white space removed, into
 * out. Returns 0, or -1 when absent, empty or too long. */
static int tag_value(const char *v, size_t len, const char *tag, char *out, size_t outlen)
{
	size_t i = 0, tl = strlen(tag);

	while (i < len) {
		const char *semi = memchr(v + i, ';', len - i);
		size_t end = semi ? (size_t)(semi - v) : len, n = 0, k = i;
		while (k < end && isspace((unsigned char)v[k]))
			k++;
		if (end - k > tl && !strncasecmp(v + k, tag, tl)) {
			size_t j = k + tl;
			while (j < end && isspace((unsigned char)v[j]))
				j++;
			if (j < end && v[j] == '=') {
				for (j++; j < end && n + 1 < outlen; j++)
					if (!isspace((unsigned char)v[j]))
						out[n++] = v[j];
				out[n] = '\0';
				return n && j == end ? 0 : -1;
			}
		}
		i = end + 1;
	}
	return -1;
}

/* Whether s is a plausible domain or selector: letters, digits, - _ . */
static int name_chars_ok(const char *s)
{
	if (*s == '.' || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return 0;
	return 1;
}

const char *dkimv_key_name(const char *v, size_t len, ss_arena *a)
{
	char d[256], s[128], name[400];
	int n;

	if (tag_value(v, len, "d", d, sizeof(d)) || tag_value(v, len, "s", s, sizeof(s)) ||
	    !name_chars_ok(d) || !name_chars_ok(s))
		return NULL;
	n = snprintf(name, sizeof(name), "%s._domainkey.%s", s, d);
	if (n <= 0 || n > 253)
		return NULL;
	return arena_strndup(a, name, (size_t)n);
}

/* libopendkim's key lookup: the TXT record of selector._domainkey.d. */
static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	dkimv_run *run = dkim_get_user_context(dkim);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	const dns_query *q;
	const char *txt;
	char name[400];

	if (!run || !sel || !dom)
		return DKIM_CBSTAT_ERROR;
	snprintf(name, sizeof(name), "%s._domainkey.%s", sel, dom);
	q = auth_scan_lookup(run->s, name, DNS_T_TXT);
	if (q->status == DNS_NXDOMAIN || q->status == DNS_NODATA)
		return DKIM_CBSTAT_NOTFOUND;
	if (q->status != DNS_OK) {
		if (run->ntemp < sizeof(run->temp) / sizeof(run->temp[0]))
			run->temp[run->ntemp++] = arena_strndup(run->s->a, name, strlen(name));
		return DKIM_CBSTAT_TRYAGAIN;
	}
	if (!(txt = dns_txt(q, 0, run->s->a)) || strlen(txt) >= buflen)
		return DKIM_CBSTAT_ERROR;
	memcpy(buf, txt, strlen(txt) + 1);
	return DKIM_CBSTAT_CONTINUE;
}

dkimv_lib *dkimv_lib_new(void)
{
	dkimv_lib *l = calloc(1, sizeof(*l));
	unsigned int flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_FIXCRLF;

	if (!l || !(l->lib = dkim_init(NULL, NULL)))
		goto out;
	if (dkim_options(l->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) !=
	        DKIM_STAT_OK ||
	    dkim_set_key_lookup(l->lib, key_lookup) != DKIM_STAT_OK)
		goto out;
	return l;
out:
	dkimv_lib_free(l);
	return NULL;
}

void dkimv_lib_free(dkimv_lib *l)
{
	if (!l)
		return;
	if (l->lib)
		dkim_close(l->lib);
	free(l);
}

/* Appends p[0..n) to b with every bare LF made CRLF. */
static int add_crlf(sbuf *b, const char *p, size_t n)
{
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			err = sbuf_addc(b, '\r');
		if (!err)
			err = sbuf_addc(b, p[i]);
	}
	return err;
}

/* The end of the line starting at i (index after its LF, or len). */
static size_t line_end(const char *buf, size_t len, size_t i)
{
	const char *nl = memchr(buf + i, '\n', len - i);

	return nl ? (size_t)(nl - buf) + 1 : len;
}

/* Whether the line at i is empty (the end of the header). */
static int blank_line(const char *buf, size_t len, size_t i)
{
	return buf[i] == '\n' || (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n');
}

/* Feeds the header fields; returns the offset of the body. */
static size_t feed_header(DKIM *dk, const char *buf, size_t len, sbuf *tmp)
{
	size_t i = 0;

	if (len > 5 && !memcmp(buf, "From ", 5))
		i = line_end(buf, len, 0);
	while (i < len && !blank_line(buf, len, i)) {
		size_t start = i, end;
		i = line_end(buf, len, i);
		while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
			i = line_end(buf, len, i);
		end = i;
		while (end > start && (buf[end - 1] == '\n' || buf[end - 1] == '\r'))
			end--;
		sbuf_reset(tmp);
		if (add_crlf(tmp, buf + start, end - start) == 0 && tmp->len)
			dkim_header(dk, (u_char *)tmp->p, tmp->len);
	}
	return i < len ? line_end(buf, len, i) : len;
}

/* Feeds the body in CRLF form, 64 KiB at a time. */
static int feed_body(DKIM *dk, const char *buf, size_t len, sbuf *tmp)
{
	for (size_t i = 0; i < len;) {
		size_t n = len - i < 65536 ? len - i : 65536;
		sbuf_reset(tmp);
		if (add_crlf(tmp, buf + i, n))
			return SS_ENOMEM;
		if (tmp->len)
			dkim_body(dk, (u_char *)tmp->p, tmp->len);
		i += n;
	}
	return 0;
}

/* Whether key `name` failed temporarily in this run. */
static int was_temp(const dkimv_run *run, const char *sel, const char *dom)
{
	char name[400];

	snprintf(name, sizeof(name), "%s._domainkey.%s", sel, dom);
	for (size_t i = 0; i < run->ntemp; i++)
		if (run->temp[i] && !strcasecmp(run->temp[i], name))
			return 1;
	return 0;
}

/* The result of one signature once the message was processed. */
static auth_res sig_res(const dkimv_run *run, DKIM_SIGINFO *sig, const char **why)
{
	int err = dkim_sig_geterror(sig);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);

	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;

	*why = NULL;
	if (dkim_sig_getsignalg(sig, &alg) == DKIM_STAT_OK && alg == DKIM_SIGN_RSASHA1) {
		*why = "rsa-sha1 is not accepted (RFC 8301)";
		return AUTH_PERMERROR;
	}
	if (DKIM_SIG_CHECK(sig))
		return AUTH_PASS;
	if ((sel && dom && was_temp(run, sel, dom)) || err == DKIM_SIGERROR_KEYFAIL) {
		*why = "key lookup failed";
		return AUTH_TEMPERROR;
	}
	if (err != DKIM_SIGERROR_OK && err != DKIM_SIGERROR_UNKNOWN)
		*why = dkim_sig_geterrorstr(err);
	else if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
		*why = "body hash did not verify";
	else if (!(dkim_sig_getflags(sig) & DKIM_SIGFLAG_PROCESSED))
		*why = "not processed";
	if (err == DKIM_SIGERROR_BADSIG || dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH ||
	    (err == DKIM_SIGERROR_OK && (dkim_sig_getflags(sig) & DKIM_SIGFLAG_PROCESSED)))
		return AUTH_FAIL;
	return AUTH_PERMERROR;
}

/* Copies a library string into the arena (NULL stays NULL). */
static const char *dup_s(ss_arena *a, const unsigned char *s, size_t max)
{
	size_t n;

	if (!s)
		return NULL;
	n = strlen((const char *)s);
	return arena_strndup(a, (const char *)s, n < max ? n : max);
}

/* Fills out[] from the library's signature list. */
static int collect(DKIM *dk, const dkimv_run *run, ar_dkim **out, size_t *nout)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	ar_dkim *r;

	if (dkim_getsiglist(dk, &sigs, &nsigs) != DKIM_STAT_OK || nsigs <= 0)
		return 0;
	if (!(r = arena_calloc(run->s->a, (size_t)nsigs, sizeof(*r))))
		return SS_ENOMEM;
	for (int i = 0; i < nsigs; i++) {
		r[i].res = sig_res(run, sigs[i], &r[i].why);
		r[i].d = dup_s(run->s->a, dkim_sig_getdomain(sigs[i]), 253);
		r[i].s = dup_s(run->s->a, dkim_sig_getselector(sigs[i]), 128);
		r[i].b = dup_s(run->s->a, dkim_sig_gettagvalue(sigs[i], 0, (u_char *)"b"), 8);
	}
	*out = r;
	*nout = (size_t)nsigs;
	return 0;
}

int dkimv_verify(dkimv_lib *l, auth_scan *s, const char *buf, size_t len, ar_dkim **sigs,
                 size_t *nsigs)
{
	dkimv_run run = {.s = s};
	DKIM_STAT st;
	sbuf tmp = SBUF_INIT;
	size_t body;
	DKIM *dk;
	int err = 0;

	*sigs = NULL;
	*nsigs = 0;
	if (!(dk = dkim_verify(l->lib, (const u_char *)"spamsift", NULL, &st)))
		return st == DKIM_STAT_NORESOURCE ? SS_ENOMEM : 0;
	dkim_set_user_context(dk, &run);
	body = feed_header(dk, buf, len, &tmp);
	st = dkim_eoh(dk);
	if (st != DKIM_STAT_NOSIG) {
		if ((err = feed_body(dk, buf + body, len - body, &tmp)) == 0) {
			dkim_eom(dk, NULL);
			err = collect(dk, &run, sigs, nsigs);
		}
	}
	sbuf_release(&tmp);
	dkim_free(dk);
	return err;
}
