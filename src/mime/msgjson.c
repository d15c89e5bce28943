/*
 * msgjson.c: a parsed message as one JSON object (ss_message_json) and as
 * plain visible text (ss_message_text). The JSON fields are listed in
 * docs/ARCHITECTURE.md; their names are part of the CLI's contract.
 */
#include <stdlib.h>
#include <string.h>

#include "spamsift.h"
#include "util/buf.h"
#include "util/json.h"

static int kv(sbuf *b, int *first, const char *key, ss_str s)
{
	int err = json_sep(b, first);

	return err ? err : json_kv_str(b, key, s.p, s.len);
}

static int kvi(sbuf *b, int *first, const char *key, int64_t v)
{
	int err = json_sep(b, first);

	return err ? err : json_kv_int(b, key, v);
}

typedef struct flag_name {
	unsigned bit;
	const char *name;
} flag_name;

static const flag_name part_flags[] = {{SS_PART_MULTIPART, "multipart"},
                                       {SS_PART_MESSAGE, "message"},
                                       {SS_PART_TEXT, "text"},
                                       {SS_PART_HTML, "html"},
                                       {SS_PART_ATTACHMENT, "attachment"},
                                       {SS_PART_HIDDEN_TEXT, "hidden_text"},
                                       {SS_PART_UUENCODE, "uuencode"},
                                       {SS_PART_CHARSET_GUESSED, "charset_guessed"},
                                       {0, NULL}};

static const flag_name url_flags[] = {{SS_URL_HTML, "html"},
                                      {SS_URL_OBFUSCATED, "obfuscated"},
                                      {SS_URL_IP, "ip"},
                                      {SS_URL_IDN, "idn"},
                                      {SS_URL_TEXT_MISMATCH, "text_mismatch"},
                                      {SS_URL_SCHEMELESS, "schemeless"},
                                      {0, NULL}};

static int flags(sbuf *b, int *first, unsigned v, const flag_name *names)
{
	int f = 1, err = json_sep(b, first);

	if (!err)
		err = json_key(b, "flags");
	if (!err)
		err = sbuf_addc(b, '[');
	for (int i = 0; !err && names[i].name; i++)
		if (v & names[i].bit) {
			err = json_sep(b, &f);
			if (!err)
				err = json_str(b, names[i].name, strlen(names[i].name));
		}
	return err ? err : sbuf_addc(b, ']');
}

static int headers(sbuf *b, const ss_message *m, const ss_part *p)
{
	int first = 1, err = json_key(b, "headers");

	if (!err)
		err = sbuf_addc(b, '[');
	for (size_t i = p->header_first; !err && i < p->header_first + p->header_count; i++) {
		const ss_header *h = &m->headers[i];
		int f = 1;
		err = json_sep(b, &first);
		if (!err)
			err = sbuf_addc(b, '{');
		if (!err)
			err = kv(b, &f, "name", h->name);
		if (!err)
			err = kv(b, &f, "value", h->value);
		if (!err && h->value.p != h->raw.p)
			err = kv(b, &f, "raw", h->raw);
		if (!err)
			err = sbuf_addc(b, '}');
	}
	return err ? err : sbuf_addc(b, ']');
}

static int part(sbuf *b, const ss_message *m, size_t i)
{
	const ss_part *p = &m->parts[i];
	int f = 1, err = sbuf_addc(b, '{');

	err = err ? err : kvi(b, &f, "id", (int64_t)i);
	err = err ? err : kvi(b, &f, "parent", p->parent);
	err = err ? err : kvi(b, &f, "depth", p->depth);
	err = err ? err : kv(b, &f, "content_type", p->content_type);
	err = err ? err : kv(b, &f, "charset", p->charset);
	err = err ? err : kv(b, &f, "charset_used", p->charset_used);
	err = err ? err : kv(b, &f, "encoding", p->encoding);
	err = err ? err : kv(b, &f, "disposition", p->disposition);
	err = err ? err : kv(b, &f, "filename", p->filename);
	err = err ? err : kv(b, &f, "content_id", p->content_id);
	err = err ? err : kvi(b, &f, "size", (int64_t)p->raw_size);
	err = err ? err : kvi(b, &f, "decoded_size", (int64_t)p->decoded_size);
	if (!err && p->data.len)
		err = kvi(b, &f, "data_size", (int64_t)p->data.len);
	err = err ? err : flags(b, &f, p->flags, part_flags);
	err = err ? err : json_sep(b, &f);
	err = err ? err : headers(b, m, p);
	if (!err && (p->flags & (SS_PART_TEXT | SS_PART_HTML)))
		err = kv(b, &f, "text", p->text);
	if (!err && p->hidden.len)
		err = kv(b, &f, "hidden", p->hidden);
	return err ? err : sbuf_addc(b, '}');
}

static int url(sbuf *b, const ss_url *u)
{
	int f = 1, err = sbuf_addc(b, '{');

	err = err ? err : kv(b, &f, "url", u->url);
	err = err ? err : kv(b, &f, "host", u->host);
	err = err ? err : kv(b, &f, "host_ascii", u->host_ascii);
	if (!err && u->link_text.len)
		err = kv(b, &f, "link_text", u->link_text);
	err = err ? err : kvi(b, &f, "part", u->part);
	err = err ? err : flags(b, &f, u->flags, url_flags);
	return err ? err : sbuf_addc(b, '}');
}

static int addr(sbuf *b, const ss_addr *a)
{
	int f = 1, err = sbuf_addc(b, '{');

	err = err ? err : kv(b, &f, "addr", a->addr);
	err = err ? err : kv(b, &f, "where", a->where);
	err = err ? err : kvi(b, &f, "part", a->part);
	err = err ? err : kvi(b, &f, "obfuscated", (a->flags & SS_URL_OBFUSCATED) != 0);
	return err ? err : sbuf_addc(b, '}');
}

static int hop(sbuf *b, const ss_hop *h)
{
	int f = 1, err = sbuf_addc(b, '{');

	err = err ? err : kv(b, &f, "from_helo", h->from_helo);
	err = err ? err : kv(b, &f, "from_rdns", h->from_rdns);
	err = err ? err : kv(b, &f, "ip", h->ip);
	err = err ? err : kv(b, &f, "by", h->by_host);
	err = err ? err : kv(b, &f, "with", h->with);
	err = err ? err : kvi(b, &f, "time", h->time);
	err = err ? err : kvi(b, &f, "trusted", h->trusted);
	return err ? err : sbuf_addc(b, '}');
}

static int fact(sbuf *b, const ss_fact *x)
{
	int f = 1, err = sbuf_addc(b, '{');

	err = err ? err : kv(b, &f, "name", x->name);
	if (!err && x->detail.len)
		err = kv(b, &f, "detail", x->detail);
	err = err ? err : kvi(b, &f, "part", x->part);
	return err ? err : sbuf_addc(b, '}');
}

/* Writes "key":[ item(0), item(1)... ] for one of the message's arrays. */
#define JSON_ARRAY(b, first, key, n, expr)                                                         \
	do {                                                                                       \
		int fa_ = 1;                                                                       \
		if (!err)                                                                          \
			err = json_sep((b), (first));                                              \
		if (!err)                                                                          \
			err = json_key((b), (key));                                                \
		if (!err)                                                                          \
			err = sbuf_addc((b), '[');                                                 \
		for (size_t i = 0; !err && i < (n); i++) {                                         \
			err = json_sep((b), &fa_);                                                 \
			if (!err)                                                                  \
				err = (expr);                                                      \
		}                                                                                  \
		if (!err)                                                                          \
			err = sbuf_addc((b), ']');                                                 \
	} while (0)

int ss_message_json(const ss_message *m, char **out, size_t *outlen)
{
	sbuf b = SBUF_INIT;
	int f = 1, err = sbuf_addc(&b, '{');

	err = err ? err : kvi(&b, &f, "size", (int64_t)m->size);
	err = err ? err : kv(&b, &f, "subject", m->subject);
	JSON_ARRAY(&b, &f, "parts", m->nparts, part(&b, m, i));
	JSON_ARRAY(&b, &f, "urls", m->nurls, url(&b, &m->urls[i]));
	JSON_ARRAY(&b, &f, "addresses", m->naddrs, addr(&b, &m->addrs[i]));
	JSON_ARRAY(&b, &f, "received", m->nhops, hop(&b, &m->hops[i]));
	err = err ? err : kvi(&b, &f, "first_untrusted", m->first_untrusted);
	JSON_ARRAY(&b, &f, "facts", m->nfacts, fact(&b, &m->facts[i]));
	err = err ? err : sbuf_addc(&b, '}');
	if (err) {
		sbuf_release(&b);
		return err;
	}
	*out = sbuf_detach(&b, outlen);
	return 0;
}

int ss_message_text(const ss_message *m, char **out, size_t *outlen)
{
	sbuf b = SBUF_INIT;
	int err = 0;

	for (size_t i = 0; !err && i < m->nparts; i++) {
		const ss_part *p = &m->parts[i];
		if (!(p->flags & (SS_PART_TEXT | SS_PART_HTML)) || !p->text.len)
			continue;
		if (b.len)
			err = sbuf_add(&b, "\n\n", 2);
		if (!err)
			err = sbuf_add(&b, p->text.p, p->text.len);
	}
	if (err) {
		sbuf_release(&b);
		return err;
	}
	*out = sbuf_detach(&b, outlen);
	return *out ? 0 : SS_ENOMEM;
}
