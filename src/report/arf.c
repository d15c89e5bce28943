/*
 * arf.c: the ARF (RFC 5965) abuse report builder (see arf.h).
 */
#include "report/arf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_FIELD 900 /* bytes of one header value kept (lines stay under 998) */

void arf_date(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* ---- from a parsed message ---- */

static const char *dup_value(ss_arena *a, const ss_message *m, const char *name)
{
	const ss_header *h = ss_message_header(m, 0, name);

	if (!h || !h->value.len)
		return NULL;
	return arena_strndup(a, h->value.p, h->value.len);
}

/* The domain of the first address of header `where`, or NULL. */
static const char *addr_domain(const ss_message *m, const char *where, int whole, ss_arena *a)
{
	for (size_t i = 0; i < m->naddrs; i++) {
		const ss_str *s = &m->addrs[i].addr;
		const char *at;
		if (m->addrs[i].part != -1 || strcmp(m->addrs[i].where.p, where))
			continue;
		if (whole)
			return arena_strndup(a, s->p, s->len);
		at = memchr(s->p, '@', s->len);
		return at ? arena_strndup(a, at + 1, s->len - (size_t)(at + 1 - s->p)) : NULL;
	}
	return NULL;
}

static void fill_hops(const ss_message *m, arf_report *r)
{
	if (m->first_untrusted >= 0 && (size_t)m->first_untrusted < m->nhops &&
	    m->hops[m->first_untrusted].ip.len)
		r->source_ip = m->hops[m->first_untrusted].ip.p;
	if (m->nhops && m->hops[0].time)
		r->arrival = m->hops[0].time;
}

int arf_from_message(const ss_message *m, ss_arena *a, arf_report *r)
{
	fill_hops(m, r);
	r->mail_from = dup_value(a, m, "Return-Path");
	r->rcpt_to = dup_value(a, m, "Delivered-To");
	if (!r->rcpt_to)
		r->rcpt_to = addr_domain(m, "To", 1, a);
	r->reported_domain = addr_domain(m, "From", 0, a);
	r->auth_results = dup_value(a, m, "Authentication-Results");
	r->subject = m->subject.len ? m->subject.p : NULL;
	for (size_t i = 0; i < m->nurls && r->nuris < ARF_MAX_URIS; i++)
		r->uris[r->nuris++] = m->urls[i].url.p;
	return 0;
}

/* ---- building ---- */

/* Appends s with control characters (CR, LF...) as spaces, and, in
 * headers (ascii), bytes over 127 as '?'; at most MAX_FIELD bytes. */
static int add_clean(sbuf *b, const char *s, int ascii)
{
	int err = 0;

	for (size_t i = 0; !err && s[i] && i < MAX_FIELD; i++) {
		unsigned char c = (unsigned char)s[i];
		err = sbuf_addc(b, c < 0x20 || c == 0x7f ? ' ' : ascii && c > 0x7f ? '?' : (char)c);
	}
	return err;
}

/* "Name: value\n", value cleaned; nothing when value is NULL. */
static int add_field(sbuf *b, const char *name, const char *value)
{
	int err;

	if (!value)
		return 0;
	if ((err = sbuf_addf(b, "%s: ", name)) || (err = add_clean(b, value, 1)))
		return err;
	return sbuf_addc(b, '\n');
}

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "unknown";
}

/* Part 1: for people. */
static int human_part(const arf_report *r, sbuf *b)
{
	char when[64];
	int err;

	arf_date(r->arrival ? r->arrival : r->date, when, sizeof(when));
	err = sbuf_addf(b, "This is an abuse report for a message received %s%s%s.\n\n",
	                r->arrival ? "on " : "(arrival time unknown; reported on ", when,
	                r->arrival ? "" : ")");
	if (!err)
		err = sbuf_adds(b, "Source IP: ");
	if (!err)
		err = add_clean(
		    b, r->source_ip ? r->source_ip : "unknown (no untrusted Received hop)", 0);
	if (!err && r->source_network)
		err = sbuf_addf(b, " (network %s)", r->source_network);
	if (!err && r->country)
		err = sbuf_addf(b, ", country %s", r->country);
	if (!err && r->subject && (err = sbuf_adds(b, "\nSubject: ")) == 0)
		err = add_clean(b, r->subject, 0);
	if (!err)
		err = sbuf_adds(b, "\n\nWhy: a recipient");
	if (!err && r->reporter && (err = sbuf_adds(b, " (")) == 0 &&
	    (err = add_clean(b, r->reporter, 0)) == 0)
		err = sbuf_adds(b, ")");
	if (!err)
		err = sbuf_adds(b, " reported this message as unsolicited bulk mail (spam).\n"
		                   "The original message is attached unchanged.\n");
	return err;
}

/* Part 2: the feedback-report fields. */
static int machine_part(const arf_report *r, sbuf *b)
{
	char when[64];
	int err;

	arf_date(r->arrival ? r->arrival : r->date, when, sizeof(when));
	err =
	    sbuf_adds(b, "Feedback-Type: abuse\nUser-Agent: spamsift/" SS_VERSION "\nVersion: 1\n");
	if (!err)
		err = add_field(b, "Original-Mail-From", r->mail_from);
	if (!err)
		err = add_field(b, "Original-Rcpt-To", r->rcpt_to);
	if (!err)
		err = add_field(b, "Arrival-Date", r->arrival ? when : NULL);
	if (!err)
		err = add_field(b, "Source-IP", r->source_ip);
	if (!err)
		err = add_field(b, "Reported-Domain", r->reported_domain);
	for (size_t i = 0; !err && i < r->nuris && i < ARF_MAX_URIS; i++)
		err = add_field(b, "Reported-Uri", r->uris[i]);
	if (!err)
		err = add_field(b, "Authentication-Results", r->auth_results);
	return err;
}

/* The original's line end: CRLF when its first line ends so. */
static const char *line_end(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);

	return nl && nl > p && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* Bytes of the original's header block (up to its blank line). */
static size_t header_block(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n' && (i + 1 == len || p[i + 1] == '\n' ||
		                     (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')))
			return i + 1;
	return len;
}

static int occurs(const char *b, size_t blen, const sbuf *s1, const sbuf *s2, const char *orig,
                  size_t olen)
{
	return memmem(s1->p, s1->len, b, blen) || memmem(s2->p, s2->len, b, blen) ||
	       memmem(orig, olen, b, blen);
}

/* A boundary found in none of the parts. */
static void pick_boundary(const arf_report *r, const sbuf *h, const sbuf *m, char *out, size_t cap)
{
	uint64_t x = 1469598103934665603ULL ^ (uint64_t)r->date;

	for (size_t i = 0; i < r->original_len && i < 4096; i++)
		x = (x ^ (unsigned char)r->original[i]) * 1099511628211ULL;
	do {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(out, cap, "=_spamsift-arf-%016llx", (unsigned long long)x);
	} while (occurs(out, strlen(out), h, m, r->original, r->original_len));
}

/* Appends s with each '\n' written as eol. */
static int add_eol(sbuf *b, const char *s, size_t len, const char *eol)
{
	int err = 0;

	for (size_t i = 0; !err && i < len; i++)
		err = s[i] == '\n' ? sbuf_adds(b, eol) : sbuf_addc(b, s[i]);
	return err;
}

static int top_header(const arf_report *r, const char *bnd, sbuf *t)
{
	char date[64];
	int err;

	arf_date(r->date, date, sizeof(date));
	err = add_field(t, "From", r->from);
	if (!err)
		err = add_field(t, "To", r->to ? r->to : "undisclosed-recipients:;");
	if (!err && (err = sbuf_adds(t, "Subject: Abuse report: spam from ")) == 0 &&
	    (err = add_clean(t, or_unknown(r->source_ip), 1)) == 0)
		err = sbuf_addc(t, '\n');
	if (!err)
		err = sbuf_addf(t, "Date: %s\nMessage-ID: <", date);
	if (!err && (err = add_clean(t, r->message_id, 1)) == 0)
		err = sbuf_addf(t,
		                ">\nMIME-Version: 1.0\nAuto-Submitted: auto-generated\n"
		                "Content-Type: multipart/report; report-type=feedback-report;\n"
		                "\tboundary=\"%s\"\n\nThis is a multi-part message in MIME "
		                "format (an abuse report, RFC 5965).\n\n--%s\n"
		                "Content-Type: text/plain; charset=utf-8\n"
		                "Content-Transfer-Encoding: 8bit\n\n",
		                bnd, bnd);
	return err;
}

/* Everything but the original's bytes, with '\n' line ends, in t. */
static int skeleton(const arf_report *r, const sbuf *h, const sbuf *m, const char *bnd, int whole,
                    sbuf *t, size_t *orig_at)
{
	int err = top_header(r, bnd, t);

	if (!err)
		err = sbuf_add(t, h->p, h->len);
	if (!err)
		err = sbuf_addf(t, "\n--%s\nContent-Type: message/feedback-report\n\n", bnd);
	if (!err)
		err = sbuf_add(t, m->p, m->len);
	if (!err)
		err = sbuf_addf(t, "\n--%s\nContent-Type: %s\n", bnd,
		                whole ? "message/rfc822" : "text/rfc822-headers");
	if (!err && whole)
		err = sbuf_adds(t, "Content-Transfer-Encoding: 8bit\n");
	if (!err)
		err = sbuf_addc(t, '\n');
	*orig_at = t->len;
	if (!err)
		err = sbuf_addf(t, "\n--%s--\n", bnd);
	return err;
}

int arf_build(const arf_report *r, sbuf *out)
{
	sbuf h = SBUF_INIT, m = SBUF_INIT, t = SBUF_INIT;
	size_t max = r->max_original ? r->max_original : ARF_DEFAULT_MAX_ORIGINAL, at = 0, olen;
	int whole, err;
	char bnd[64];
	const char *eol;

	if (!r->from || !r->message_id || !r->original)
		return SS_EINVAL;
	eol = line_end(r->original, r->original_len);
	whole = r->original_len <= max;
	olen = whole ? r->original_len : header_block(r->original, r->original_len);
	if ((err = human_part(r, &h)) || (err = machine_part(r, &m)))
		goto out;
	pick_boundary(r, &h, &m, bnd, sizeof(bnd));
	if ((err = skeleton(r, &h, &m, bnd, whole, &t, &at)))
		goto out;
	if (!(err = add_eol(out, t.p, at, eol)) && !(err = sbuf_add(out, r->original, olen)))
		err = add_eol(out, t.p + at, t.len - at, eol);
out:
	sbuf_release(&h);
	sbuf_release(&m);
	sbuf_release(&t);
	return err;
}
