/*
 * message.c: ss_parse(), the library's entry point for one message.
 *
 * Checks that the input is mail at all, applies the size limit, runs the
 * MIME walker over the whole message, then derives what needs the complete
 * tree: the decoded Subject, header addresses and the Received chain with
 * its first untrusted hop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime/header.h"
#include "mime/mime.h"
#include "mime/received.h"
#include "spamsift.h"
#include "text/charset.h"
#include "util/arena.h"

void ss_thread_release(void)
{
	cs_thread_release();
}

const char *ss_strerror(int err)
{
	switch (err) {
	case SS_OK:
		return "success";
	case SS_ENOMEM:
		return "out of memory";
	case SS_EINVAL:
		return "invalid argument";
	case SS_EEMPTY:
		return "the input is empty";
	case SS_ENOTMAIL:
		return "the input is not a mail message (no header fields)";
	case SS_EBINARY:
		return "the input is binary data, not a mail message";
	case SS_EIO:
		return "input/output error";
	case SS_ESYNTAX:
		return "syntax error";
	case SS_ECORRUPT:
		return "the model store is damaged or is not a spamsift store";
	case SS_EBUSY:
		return "the model store is full or busy";
	default:
		return "unknown error";
	}
}

void ss_limits_default(ss_limits *l)
{
	l->max_size = 32u << 20;
	l->max_depth = 20;
	l->max_parts = 1000;
	l->max_headers = 1000;
	l->max_header_len = 64u << 10;
	l->max_text = 8u << 20;
	l->max_urls = 1000;
	l->max_hops = 50;
	l->max_attach = 8u << 20;
}

/* Binary data: more than 5% NUL or control bytes in the first 512 bytes (a stray
 * NUL in a text message, as some corpora have, is tolerated). */
static int looks_binary(const char *buf, size_t len)
{
	size_t n = len < 512 ? len : 512, ctl = 0, i = 0;

	for (;;) {
		/* skip 8 bytes at a time while none is below 0x20 */
		for (; i + 8 <= n; i += 8) {
			uint64_t w;
			memcpy(&w, buf + i, 8);
			if ((w - 0x2020202020202020ULL) & ~w & 0x8080808080808080ULL)
				break;
		}
		if (i >= n)
			break;
		for (size_t end = i + 8 < n ? i + 8 : n; i < end; i++) {
			unsigned char c = (unsigned char)buf[i];
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
			    c != 0x1b)
				ctl++;
		}
	}
	return ctl * 20 > n;
}

/* Skips leading blank lines; returns the offset of the first text. */
static size_t skip_leading_blank(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == '\n' || buf[i] == '\r' || buf[i] == ' ' || buf[i] == '\t'))
		i++;
	return i;
}

static int check_input(const char *buf, size_t len, size_t *start)
{
	size_t s;

	if (!buf || !len)
		return SS_EEMPTY;
	s = skip_leading_blank(buf, len);
	if (s == len)
		return SS_EEMPTY;
	if (looks_binary(buf + s, len - s))
		return SS_EBINARY;
	if (!hdr_is_field_line(buf + s, len - s)) {
		const char *nl;
		if (len - s < 5 || memcmp(buf + s, "From ", 5))
			return SS_ENOTMAIL;
		nl = memchr(buf + s, '\n', len - s);
		if (!nl || !hdr_is_field_line(nl + 1, (size_t)(buf + len - nl - 1)))
			return SS_ENOTMAIL;
	}
	*start = s;
	return 0;
}

const ss_header *ss_message_header(const ss_message *msg, size_t part, const char *name)
{
	const ss_part *p;

	if (!msg || part >= msg->nparts)
		return NULL;
	p = &msg->parts[part];
	for (size_t i = p->header_first; i < p->header_first + p->header_count; i++)
		if (!strcasecmp(msg->headers[i].name.p, name))
			return &msg->headers[i];
	return NULL;
}

int ss_message_has_fact(const ss_message *msg, const char *name)
{
	for (size_t i = 0; msg && i < msg->nfacts; i++)
		if (!strcmp(msg->facts[i].name.p, name))
			return 1;
	return 0;
}

/* The name an address found in a field of kind k is filed under, or NULL. */
static const char *addr_where(int k)
{
	switch (k) {
	case HK_FROM:
		return "From";
	case HK_REPLY_TO:
		return "Reply-To";
	case HK_SENDER:
		return "Sender";
	case HK_TO:
		return "To";
	case HK_CC:
		return "Cc";
	case HK_RETURN_PATH:
		return "Return-Path";
	default:
		return NULL;
	}
}

static int header_addrs(mime_ctx *ctx)
{
	const ss_part *root = &ctx->msg->parts[0];
	int err = 0;

	for (size_t i = root->header_first; !err && i < root->header_first + root->header_count;
	     i++) {
		const ss_header *h = &ctx->msg->headers[i];
		const char *where = addr_where(ctx->kinds[i]);
		if (where)
			err = mime_add_addrs(ctx, h->value.p, h->value.len, where, -1);
	}
	return err;
}

static int hop_trusted(const ss_netset *trusted, const ss_hop *h)
{
	if (!h->ip.len)
		return 0;
	if (trusted)
		return ss_netset_contains(trusted, h->ip.p);
	return !strncmp(h->ip.p, "127.", 4) || !strcmp(h->ip.p, "::1");
}

static int received_chain(mime_ctx *ctx, const ss_netset *trusted)
{
	ss_message *m = ctx->msg;
	const ss_part *root = &m->parts[0];
	ss_hop hop;

	m->first_untrusted = -1;
	for (size_t i = root->header_first; i < root->header_first + root->header_count; i++) {
		const ss_header *h = &m->headers[i];
		int r;
		if (ctx->kinds[i] != HK_RECEIVED)
			continue;
		if (m->nhops >= ctx->lim->max_hops)
			return mime_fact(ctx, "limit_hops", NULL, 0);
		r = received_parse(ctx->a, h->raw.p, h->raw.len, &hop);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (arena_grow(ctx->a, (void **)&m->hops, &ctx->cap_hops, m->nhops, sizeof(hop)))
			return SS_ENOMEM;
		hop.trusted = hop_trusted(trusted, &hop);
		if (m->first_untrusted < 0 && hop.ip.len && !hop.trusted)
			m->first_untrusted = (int)m->nhops;
		m->hops[m->nhops++] = hop;
	}
	return 0;
}

static int finish(mime_ctx *ctx, const ss_netset *trusted)
{
	const ss_header *subj = ss_message_header(ctx->msg, 0, "subject");
	int err;

	ctx->msg->subject = subj ? subj->value : (ss_str){"", 0};
	err = header_addrs(ctx);
	return err ? err : received_chain(ctx, trusted);
}

static int parse_into(ss_message *m, const char *buf, size_t len, const ss_parse_opts *opts)
{
	ss_limits lim;
	mime_ctx ctx;
	int err;

	if (opts && opts->limits)
		lim = *opts->limits;
	else
		ss_limits_default(&lim);
	mime_ctx_init(&ctx, m->arena, m, &lim);
	if (len > lim.max_size) {
		len = lim.max_size;
		err = mime_fact(&ctx, "limit_size", NULL, -1);
		if (err)
			goto out;
	}
	err = mime_parse_entity(&ctx, buf, len, -1, 0);
	if (!err)
		err = finish(&ctx, opts ? opts->trusted : NULL);
out:
	mime_ctx_release(&ctx);
	return err;
}

int ss_parse(const char *buf, size_t len, const ss_parse_opts *opts, ss_message **out)
{
	ss_message *m;
	size_t start = 0;
	int err;

	*out = NULL;
	if ((err = check_input(buf, len, &start)))
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return SS_ENOMEM;
	m->arena = malloc(sizeof(*m->arena));
	if (!m->arena) {
		free(m);
		return SS_ENOMEM;
	}
	arena_init(m->arena);
	m->size = len;
	err = parse_into(m, buf + start, len - start, opts);
	if (err) {
		ss_message_free(m);
		return err;
	}
	*out = m;
	return 0;
}

void ss_message_free(ss_message *msg)
{
	if (!msg)
		return;
	if (msg->arena) {
		arena_release(msg->arena);
		free(msg->arena);
	}
	free(msg);
}
