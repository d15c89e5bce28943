/*
 * mime.c: the MIME tree walker (see mime.h).
 */
#include "mime/mime.h"

#include <string.h>
#include <strings.h>

#include "mime/codec.h"
#include "mime/encword.h"
#include "mime/header.h"
#include "mime/params.h"
#include "text/charset.h"
#include "text/url.h"
#include "util/utf8.h"

#define FACT(ctx, name, part) mime_fact((ctx), (name), NULL, (part))

void mime_ctx_init(mime_ctx *ctx, ss_arena *a, ss_message *msg, const ss_limits *lim)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->a = a;
	ctx->msg = msg;
	ctx->lim = lim;
	html_out_init(&ctx->html);
}

void mime_ctx_release(mime_ctx *ctx)
{
	sbuf_release(&ctx->dec);
	sbuf_release(&ctx->utf8);
	sbuf_release(&ctx->tmp);
	sbuf_release(&ctx->tmp2);
	html_out_release(&ctx->html);
}

int mime_fact(mime_ctx *ctx, const char *name, const char *detail, int part)
{
	ss_message *m = ctx->msg;
	ss_fact *f;

	for (size_t i = 0; i < m->nfacts; i++)
		if (m->facts[i].part == part && !strcmp(m->facts[i].name.p, name))
			return 0;
	if (arena_grow(ctx->a, (void **)&m->facts, &ctx->cap_facts, m->nfacts, sizeof(*f)))
		return SS_ENOMEM;
	f = &m->facts[m->nfacts];
	f->name.p = name;
	f->name.len = strlen(name);
	f->detail = arena_str(ctx->a, detail ? detail : "", detail ? strlen(detail) : 0);
	f->part = part;
	if (!f->detail.p)
		return SS_ENOMEM;
	m->nfacts++;
	return 0;
}

/* ---- header fields ---- */

/* Sets h->value to the decoded raw value (see ew_decode_hint). */
static int decode_value(mime_ctx *ctx, ss_header *h, const ew_hint *hint)
{
	unsigned ewf = 0;

	sbuf_reset(&ctx->tmp);
	if (ew_decode_hint(&ctx->tmp, &ctx->tmp2, h->raw.p, h->raw.len, hint, &ewf))
		return SS_ENOMEM;
	h->value = arena_str(ctx->a, ctx->tmp.p ? ctx->tmp.p : "", ctx->tmp.len);
	return h->value.p ? 0 : SS_ENOMEM;
}

/* Stores one field and its kind; returns 0 or SS_ENOMEM. */
static int add_header(mime_ctx *ctx, const hdr_field *f, int part)
{
	ss_message *m = ctx->msg;
	ss_header *h;
	int cut, err;

	if (arena_grow(ctx->a, (void **)&m->headers, &ctx->cap_headers, m->nheaders, sizeof(*h)) ||
	    arena_grow(ctx->a, (void **)&ctx->kinds, &ctx->cap_kinds, m->nheaders, 1))
		return SS_ENOMEM;
	h = &m->headers[m->nheaders];
	ctx->kinds[m->nheaders] = (unsigned char)hdr_kind(f->name, f->name_len);
	h->name = arena_str(ctx->a, f->name, f->name_len);
	h->raw = hdr_unfold(ctx->a, f->value, f->value_len, ctx->lim->max_header_len, &cut);
	if (!h->name.p || !h->raw.p)
		return SS_ENOMEM;
	if (cut && (err = FACT(ctx, "header_too_long", part)))
		return err;
	h->value = h->raw;
	m->nheaders++;
	/* 8-bit fields wait for the block's charset (decode_8bit_fields) */
	if (!f->eight_bit && ew_has_word(h->raw.p, h->raw.len))
		return decode_value(ctx, h, NULL);
	return 0;
}

/* The charset the Content-Type field among headers[first..] declares, or
 * an empty string. */
static ss_str block_charset(mime_ctx *ctx, size_t first)
{
	ss_str cs = {NULL, 0};

	for (size_t i = first; i < ctx->msg->nheaders; i++) {
		const ss_header *h = &ctx->msg->headers[i];
		if (ctx->kinds[i] == HK_CONTENT_TYPE) {
			if (params_get(ctx->a, h->raw.p, h->raw.len, "charset", &ctx->tmp,
			               &ctx->tmp2, &cs) <= 0)
				cs = (ss_str){NULL, 0};
			break;
		}
	}
	return cs;
}

/* When two or more fields of headers[first..] hold 8-bit bytes that are
 * not UTF-8, decides their charset from all of them at once and sets
 * *guess (else NULL). A single short field (a name, a subject) is often
 * too little for detection: a Chinese name alone reads as windows-1252. */
static int block_guess(mime_ctx *ctx, size_t first, const char **guess)
{
	size_t n = 0;

	*guess = NULL;
	sbuf_reset(&ctx->tmp);
	for (size_t i = first; i < ctx->msg->nheaders; i++) {
		const ss_str *raw = &ctx->msg->headers[i].raw;
		if (utf8_is_ascii(raw->p, raw->len) || utf8_valid(raw->p, raw->len))
			continue;
		if (sbuf_add(&ctx->tmp, raw->p, raw->len) || sbuf_add(&ctx->tmp, "\n", 1))
			return SS_ENOMEM;
		n++;
	}
	if (n >= 2)
		*guess = cs_guess(ctx->tmp.p, ctx->tmp.len);
	return 0;
}

/* Decodes the fields of headers[first..] that hold 8-bit bytes, taking
 * bytes that are not UTF-8 to be in the block's declared charset, else in
 * the one all its 8-bit fields point to together (block_guess). */
static int decode_8bit_fields(mime_ctx *ctx, size_t first)
{
	ew_hint hint = {block_charset(ctx, first), NULL};
	int err = 0;

	if (!hint.label.len)
		err = block_guess(ctx, first, &hint.guess);
	for (size_t i = first; !err && i < ctx->msg->nheaders; i++) {
		ss_header *h = &ctx->msg->headers[i];
		if (!utf8_is_ascii(h->raw.p, h->raw.len))
			err = decode_value(ctx, h, &hint);
	}
	return err;
}

/* Fields that should appear once per header block. */
#define DUP_WATCH                                                                                  \
	(1u << HK_SUBJECT | 1u << HK_FROM | 1u << HK_TO | 1u << HK_DATE | 1u << HK_MESSAGE_ID |    \
	 1u << HK_CONTENT_TYPE | 1u << HK_CTE)

/* Reports a second field of a watched kind; *seen holds the kinds met. */
static int check_duplicate(mime_ctx *ctx, unsigned *seen, int part)
{
	size_t last = ctx->msg->nheaders - 1;
	unsigned bit = 1u << ctx->kinds[last];

	if (!(bit & DUP_WATCH))
		return 0;
	if (!(*seen & bit)) {
		*seen |= bit;
		return 0;
	}
	return mime_fact(ctx, "duplicate_header", ctx->msg->headers[last].name.p, part);
}

static int header_facts(mime_ctx *ctx, unsigned hf, int part)
{
	int err = 0;

	if (hf & HDR_F_NO_COLON)
		err = FACT(ctx, "header_no_colon", part);
	if (!err && (hf & HDR_F_8BIT))
		err = FACT(ctx, "header_8bit", part);
	if (!err && (hf & HDR_F_NO_BLANK))
		err = FACT(ctx, "header_no_blank_line", part);
	return err;
}

/* Reads the header block of the entity; returns the body offset in *body. */
static int parse_headers(mime_ctx *ctx, const char *buf, size_t len, int part, size_t *body)
{
	size_t pos = 0, n = 0, first = ctx->msg->nheaders;
	unsigned hf = 0, seen = 0;
	hdr_field f;
	int err = 0;

	while (!err && hdr_next(buf, len, &pos, &f, &hf)) {
		if (n++ >= ctx->lim->max_headers) {
			err = FACT(ctx, "limit_headers", part);
			continue;
		}
		err = add_header(ctx, &f, part);
		if (!err)
			err = check_duplicate(ctx, &seen, part);
	}
	if (!err && (hf & HDR_F_8BIT))
		err = decode_8bit_fields(ctx, first);
	ctx->msg->parts[part].header_first = first;
	ctx->msg->parts[part].header_count = ctx->msg->nheaders - first;
	*body = pos;
	return err ? err : header_facts(ctx, hf, part);
}

/* ---- part attributes from Content-* fields ---- */

static int param_into(mime_ctx *ctx, const ss_header *h, const char *name, ss_str *out)
{
	int r = params_get(ctx->a, h->raw.p, h->raw.len, name, &ctx->tmp, &ctx->tmp2, out);

	return r < 0 ? r : 0;
}

static void lower_in_place(ss_str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] >= 'A' && s.p[i] <= 'Z')
			((char *)s.p)[i] = (char)(s.p[i] + 32);
}

static int content_type(mime_ctx *ctx, ss_part *p, const ss_header *h, int idx)
{
	int err;

	p->content_type = params_token(ctx->a, h->raw.p, h->raw.len);
	if (!p->content_type.p)
		return SS_ENOMEM;
	if (!memchr(p->content_type.p, '/', p->content_type.len)) {
		if ((err = mime_fact(ctx, "mime_bad_content_type", p->content_type.p, idx)))
			return err;
		p->content_type = (ss_str){"text/plain", 10};
	}
	if ((err = param_into(ctx, h, "charset", &p->charset)) ||
	    (err = param_into(ctx, h, "boundary", &p->boundary)))
		return err;
	lower_in_place(p->charset);
	if (!p->filename.len)
		err = param_into(ctx, h, "name", &p->filename);
	return err;
}

static int content_disposition(mime_ctx *ctx, ss_part *p, const ss_header *h)
{
	ss_str fn = {NULL, 0};
	int err;

	p->disposition = params_token(ctx->a, h->raw.p, h->raw.len);
	if (!p->disposition.p)
		return SS_ENOMEM;
	if ((err = param_into(ctx, h, "filename", &fn)))
		return err;
	if (fn.len)
		p->filename = fn;
	return 0;
}

static ss_str strip_angles(ss_str s)
{
	while (s.len && (s.p[0] == '<' || s.p[0] == ' ')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == '>' || s.p[s.len - 1] == ' '))
		s.len--;
	return s;
}

/* Every string of a part is a valid (possibly empty) C string. */
static void empty_if_null(ss_str *s)
{
	if (!s->p)
		*s = (ss_str){"", 0};
}

/* Fills the part's type, charset, encoding, disposition, filename, id. */
static int part_attributes(mime_ctx *ctx, int idx, int in_digest)
{
	ss_part *p = &ctx->msg->parts[idx];
	int have_ct = 0, have_cte = 0, have_cd = 0, err = 0;

	for (size_t i = p->header_first; !err && i < p->header_first + p->header_count; i++) {
		const ss_header *h = &ctx->msg->headers[i];
		switch (ctx->kinds[i]) {
		case HK_CONTENT_TYPE:
			if (!have_ct++)
				err = content_type(ctx, p, h, idx);
			break;
		case HK_CTE:
			if (!have_cte++)
				p->encoding = params_token(ctx->a, h->raw.p, h->raw.len);
			break;
		case HK_DISPOSITION:
			if (!have_cd++)
				err = content_disposition(ctx, p, h);
			break;
		case HK_CONTENT_ID:
			if (!p->content_id.len)
				p->content_id = strip_angles(h->value);
			break;
		}
	}
	if (!have_ct)
		p->content_type =
		    in_digest ? (ss_str){"message/rfc822", 14} : (ss_str){"text/plain", 10};
	empty_if_null(&p->encoding);
	empty_if_null(&p->charset);
	empty_if_null(&p->boundary);
	empty_if_null(&p->disposition);
	empty_if_null(&p->filename);
	empty_if_null(&p->content_id);
	return err;
}

/* ---- multipart ---- */

typedef struct delim {
	size_t line;  /* offset of the delimiter line */
	size_t after; /* offset just past it */
	int closing;  /* "--boundary--" */
} delim;

static int rest_is_blank(const char *s, size_t n, size_t *eol)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	if (i < n && s[i] != '\n')
		return 0;
	*eol = i < n ? i + 1 : n;
	return 1;
}

/* Finds the next delimiter line for needle ("--boundary") from pos. */
static int find_delim(const char *buf, size_t len, size_t pos, ss_str needle, delim *d)
{
	while (pos < len) {
		const char *hit = memmem(buf + pos, len - pos, needle.p, needle.len);
		size_t at, end, eol;
		int closing;
		if (!hit)
			return 0;
		at = (size_t)(hit - buf);
		pos = at + 1;
		if (at > 0 && buf[at - 1] != '\n')
			continue;
		end = at + needle.len;
		closing = end + 1 < len && buf[end] == '-' && buf[end + 1] == '-';
		if (closing)
			end += 2;
		if (!rest_is_blank(buf + end, len - end, &eol))
			continue;
		d->line = at;
		d->after = end + eol;
		d->closing = closing;
		return 1;
	}
	return 0;
}

/* The line end before a delimiter belongs to it. */
static size_t part_end_before(const char *buf, size_t start, size_t line)
{
	if (line > start && buf[line - 1] == '\n')
		line--;
	if (line > start && buf[line - 1] == '\r')
		line--;
	return line;
}

static int leaf(mime_ctx *ctx, int idx, const char *body, size_t len);

static int multipart(mime_ctx *ctx, int idx, const char *body, size_t len, unsigned depth)
{
	ss_part *p = &ctx->msg->parts[idx];
	char *nb = arena_alloc(ctx->a, p->boundary.len + 3);
	ss_str needle;
	delim d, next;
	int err = 0;

	if (!nb)
		return SS_ENOMEM;
	nb[0] = nb[1] = '-';
	memcpy(nb + 2, p->boundary.p, p->boundary.len);
	needle = (ss_str){nb, p->boundary.len + 2};
	if (!p->boundary.len || !find_delim(body, len, 0, needle, &d)) {
		err = FACT(ctx, p->boundary.len ? "mime_boundary_not_found" : "mime_no_boundary",
		           idx);
		p->flags &= ~(unsigned)SS_PART_MULTIPART;
		p->content_type = (ss_str){"text/plain", 10};
		return err ? err : leaf(ctx, idx, body, len);
	}
	while (!err && !d.closing) {
		size_t start = d.after, end = len;
		int found = find_delim(body, len, start, needle, &next);
		if (found)
			end = part_end_before(body, start, next.line);
		else
			err = FACT(ctx, "mime_missing_final_boundary", idx);
		if (!err)
			err = mime_parse_entity(ctx, body + start, end - start, idx, depth + 1);
		if (!found)
			break;
		d = next;
	}
	return err;
}

/* ---- leaves ---- */

/* Transfer-decodes the body; returns the decoded slice in *out. */
static int transfer_decode(mime_ctx *ctx, int idx, const char *body, size_t len, ss_str *out)
{
	ss_part *p = &ctx->msg->parts[idx];
	unsigned cf = 0;
	int err = 0;

	sbuf_reset(&ctx->dec);
	if (!strcmp(p->encoding.p, "base64"))
		err = codec_base64(&ctx->dec, body, len, &cf);
	else if (!strcmp(p->encoding.p, "quoted-printable"))
		err = codec_qp(&ctx->dec, body, len, 0, &cf);
	else {
		*out = (ss_str){body, len};
		return 0;
	}
	if (err)
		return err;
	*out = (ss_str){ctx->dec.p ? ctx->dec.p : "", ctx->dec.len};
	if (cf & CODEC_F_JUNK)
		err = FACT(ctx, "base64_junk", idx);
	if (!err && (cf & CODEC_F_BAD_ESCAPE))
		err = FACT(ctx, "qp_bad_escape", idx);
	return err;
}

static int is_text_type(ss_str ct)
{
	if (ct.len < 5 || memcmp(ct.p, "text/", 5))
		return 0;
	/* calendars, vCards and the like are data, not prose */
	return strcmp(ct.p, "text/calendar") && strcmp(ct.p, "text/x-vcard") &&
	       strcmp(ct.p, "text/vcard") && strcmp(ct.p, "text/csv");
}

static uint32_t str_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The first slot of ctx->url_tab for a URL of hash h in `part`. */
static size_t url_slot(const mime_ctx *ctx, uint32_t h, int part)
{
	return (h ^ (uint32_t)part * 0x9E3779B1u) & (ctx->url_tab_cap - 1);
}

/* Whether plain-text URL u (hash h) was already found in `part` (HTML
 * links are all kept: their link texts differ). A hash set, not a scan of
 * msg->urls: a message may hold up to max_urls of them. */
static int url_seen(const mime_ctx *ctx, const url_found *u, uint32_t h, int part)
{
	const ss_message *m = ctx->msg;
	size_t mask = ctx->url_tab_cap - 1, k;

	if (!ctx->url_tab_cap)
		return 0;
	for (k = url_slot(ctx, h, part); ctx->url_tab[k]; k = (k + 1) & mask) {
		size_t i = ctx->url_tab[k] - 1;

		if (ctx->url_hash[i] == h && m->urls[i].part == part &&
		    m->urls[i].url.len == u->url.len &&
		    !memcmp(m->urls[i].url.p, u->url.p, u->url.len))
			return 1;
	}
	return 0;
}

/* Puts msg->urls[i] into ctx->url_tab, growing it to stay half empty.
 * Returns 0 or SS_ENOMEM. */
static int url_tab_add(mime_ctx *ctx, size_t i)
{
	const ss_message *m = ctx->msg;
	size_t k;

	if ((i + 1) * 2 > ctx->url_tab_cap) {
		size_t cap = ctx->url_tab_cap ? ctx->url_tab_cap * 2 : 32;
		uint32_t *t = arena_calloc(ctx->a, cap, sizeof(*t));

		if (!t)
			return SS_ENOMEM;
		ctx->url_tab = t;
		ctx->url_tab_cap = cap;
		for (size_t j = 0; j < i; j++) {
			for (k = url_slot(ctx, ctx->url_hash[j], m->urls[j].part); t[k];
			     k = (k + 1) & (cap - 1))
				;
			t[k] = (uint32_t)(j + 1);
		}
	}
	for (k = url_slot(ctx, ctx->url_hash[i], m->urls[i].part); ctx->url_tab[k];
	     k = (k + 1) & (ctx->url_tab_cap - 1))
		;
	ctx->url_tab[k] = (uint32_t)(i + 1);
	return 0;
}

static int add_url(mime_ctx *ctx, const url_found *u, ss_str link_text, int part)
{
	ss_message *m = ctx->msg;
	uint32_t h = str_hash(u->url.p, u->url.len);
	size_t cap_hash = ctx->cap_urls;
	ss_url *x;

	if (!link_text.len && url_seen(ctx, u, h, part))
		return 0;
	if (m->nurls >= ctx->lim->max_urls)
		return FACT(ctx, "limit_urls", -1);
	if (arena_grow(ctx->a, (void **)&m->urls, &ctx->cap_urls, m->nurls, sizeof(*x)) ||
	    arena_grow(ctx->a, (void **)&ctx->url_hash, &cap_hash, m->nurls, sizeof(h)))
		return SS_ENOMEM;
	ctx->url_hash[m->nurls] = h;
	x = &m->urls[m->nurls++];
	x->url = u->url;
	x->host = u->host;
	x->host_ascii = u->host_ascii;
	x->link_text = link_text;
	x->part = part;
	x->flags = u->flags;
	return url_tab_add(ctx, m->nurls - 1);
}

typedef struct scan_ctx {
	mime_ctx *ctx;
	int part;
	const char *where;
} scan_ctx;

static int on_text_url(void *c, const url_found *u)
{
	scan_ctx *s = c;

	return add_url(s->ctx, u, (ss_str){"", 0}, s->part);
}

static int on_addr(void *c, const addr_found *f)
{
	scan_ctx *s = c;
	ss_message *m = s->ctx->msg;
	ss_addr *x;

	if (m->naddrs >= s->ctx->lim->max_urls)
		return FACT(s->ctx, "limit_addrs", -1);
	for (size_t i = 0; i < m->naddrs; i++)
		if (m->addrs[i].part == s->part && m->addrs[i].addr.len == f->addr.len &&
		    !strcmp(m->addrs[i].where.p, s->where) &&
		    !memcmp(m->addrs[i].addr.p, f->addr.p, f->addr.len))
			return 0;
	if (arena_grow(s->ctx->a, (void **)&m->addrs, &s->ctx->cap_addrs, m->naddrs, sizeof(*x)))
		return SS_ENOMEM;
	x = &m->addrs[m->naddrs++];
	x->addr = f->addr;
	x->where = (ss_str){s->where, strlen(s->where)};
	x->part = s->part;
	x->flags = f->flags;
	return 0;
}

int mime_add_addrs(mime_ctx *ctx, const char *text, size_t len, const char *where, int part)
{
	scan_ctx s = {ctx, part, where};
	int r = url_scan_emails(ctx->a, text, len, on_addr, &s);

	return r < 0 ? r : 0;
}

static int scan_text(mime_ctx *ctx, int idx, const char *text, size_t len)
{
	scan_ctx s = {ctx, idx, "body"};
	int r = url_scan_text(ctx->a, text, len, on_text_url, &s);

	return r < 0 ? r : mime_add_addrs(ctx, text, len, "body", idx);
}

/* Whether two hosts differ, ignoring a "www." and sub-domains of each other. */
static int hosts_differ(ss_str a, ss_str b)
{
	const ss_str *lo = a.len <= b.len ? &a : &b, *hi = a.len <= b.len ? &b : &a;
	size_t off = hi->len - lo->len;

	if (!strncmp(lo->p, "www.", 4) && lo->len > 4)
		return hosts_differ((ss_str){lo->p + 4, lo->len - 4}, *hi);
	if (memcmp(hi->p + off, lo->p, lo->len))
		return 1;
	return off && hi->p[off - 1] != '.';
}

static int html_links(mime_ctx *ctx, int idx)
{
	int err = 0;

	for (size_t i = 0; !err && i < ctx->html.nlinks; i++) {
		const html_link *l = &ctx->html.links[i];
		url_found u;
		ss_str th;
		int r = url_parse(ctx->a, l->href.p, l->href.len, SS_URL_HTML, &u);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		th = url_text_host(ctx->a, l->text.p, l->text.len);
		if (l->kind == HTML_LINK_A && th.len && u.host.len && hosts_differ(th, u.host))
			u.flags |= SS_URL_TEXT_MISMATCH;
		err = add_url(ctx, &u, l->kind == HTML_LINK_IMG ? (ss_str){"", 0} : l->text, idx);
	}
	return err;
}

static int html_facts(mime_ctx *ctx, int idx)
{
	ss_part *p = &ctx->msg->parts[idx];
	unsigned f = ctx->html.facts;
	int err = 0;

	if (f & HTML_F_HIDDEN_TEXT) {
		p->flags |= SS_PART_HIDDEN_TEXT;
		err = FACT(ctx, "html_hidden_text", idx);
	}
	if (!err && (f & HTML_F_SCRIPT))
		err = FACT(ctx, "html_script", idx);
	if (!err && (f & HTML_F_FORM))
		err = FACT(ctx, "html_form", idx);
	if (!err && (f & HTML_F_IFRAME))
		err = FACT(ctx, "html_iframe", idx);
	if (!err && (f & HTML_F_MALFORMED))
		err = FACT(ctx, "html_malformed", idx);
	return err;
}

/* Keeps at most what is left of max_text; returns the length to keep. */
static size_t text_budget(mime_ctx *ctx, int idx, const char *s, size_t len)
{
	size_t left = ctx->lim->max_text - ctx->text_used;

	if (len <= left)
		return len;
	FACT(ctx, "limit_text", idx);
	return utf8_trim_partial(s, left);
}

static int set_text(mime_ctx *ctx, int idx, const char *s, size_t len, ss_str *dst)
{
	size_t keep = text_budget(ctx, idx, s, len);

	ctx->text_used += keep;
	*dst = arena_str(ctx->a, s ? s : "", keep);
	return dst->p ? 0 : SS_ENOMEM;
}

static int html_part(mime_ctx *ctx, int idx)
{
	ss_part *p = &ctx->msg->parts[idx];
	int err;

	sbuf_reset(&ctx->html.text);
	sbuf_reset(&ctx->html.hidden);
	ctx->html.nlinks = ctx->html.caplinks = 0;
	ctx->html.links = NULL;
	ctx->html.facts = 0;
	err = html_to_text(ctx->a, ctx->utf8.p ? ctx->utf8.p : "", ctx->utf8.len,
	                   ctx->lim->max_urls, &ctx->html);
	if (!err)
		err = set_text(ctx, idx, ctx->html.text.p, ctx->html.text.len, &p->text);
	if (!err)
		err = set_text(ctx, idx, ctx->html.hidden.p, ctx->html.hidden.len, &p->hidden);
	if (!err)
		err = html_facts(ctx, idx);
	if (!err)
		err = html_links(ctx, idx);
	return err ? err : scan_text(ctx, idx, p->text.p, p->text.len);
}

static int uu_children(mime_ctx *ctx, int idx);

static int plain_part(mime_ctx *ctx, int idx)
{
	ss_part *p = &ctx->msg->parts[idx];
	uu_block b;
	int err;

	if (codec_uu_find(ctx->utf8.p, ctx->utf8.len, 0, &b)) {
		p->flags |= SS_PART_UUENCODE;
		return uu_children(ctx, idx);
	}
	err = set_text(ctx, idx, ctx->utf8.p, ctx->utf8.len, &p->text);
	return err ? err : scan_text(ctx, idx, p->text.p, p->text.len);
}

static int charset_facts(mime_ctx *ctx, int idx, unsigned cf, const char *used)
{
	int err = 0;

	if (cf & CS_DETECTED) {
		ctx->msg->parts[idx].flags |= SS_PART_CHARSET_GUESSED;
		err = mime_fact(ctx, "charset_detected", used, idx);
	}
	if (!err && (cf & CS_REPAIRED))
		err = mime_fact(ctx, "charset_repaired", used, idx);
	if (!err && (cf & CS_UNKNOWN_LABEL))
		err = mime_fact(ctx, "charset_unknown", ctx->msg->parts[idx].charset.p, idx);
	return err;
}

static int text_leaf(mime_ctx *ctx, int idx, ss_str dec)
{
	ss_part *p = &ctx->msg->parts[idx];
	int html = !strcmp(p->content_type.p, "text/html");
	char meta[64];
	const char *label = p->charset.p, *used = "";
	size_t label_len = p->charset.len;
	unsigned cf = 0;
	int err;

	if (html && !label_len) {
		label_len = cs_html_meta_charset(dec.p, dec.len, meta, sizeof(meta));
		label = meta;
	}
	sbuf_reset(&ctx->utf8);
	err = cs_to_utf8(&ctx->utf8, dec.p, dec.len, label, label_len, &used, &cf);
	if (!err)
		err = charset_facts(ctx, idx, cf, used);
	if (err)
		return err;
	p->charset_used = (ss_str){used, strlen(used)};
	p->flags |= html ? SS_PART_HTML : SS_PART_TEXT;
	return html ? html_part(ctx, idx) : plain_part(ctx, idx);
}

/* Keeps the decoded bytes of a leaf that is not text, within what is left
 * of max_attach for the message. */
static int keep_data(mime_ctx *ctx, int idx, ss_str dec)
{
	size_t left = ctx->lim->max_attach - ctx->attach_used, keep = dec.len;
	ss_part *p = &ctx->msg->parts[idx];
	int err = 0;

	if (keep > left) {
		keep = left;
		err = FACT(ctx, "limit_attach", idx);
	}
	if (!keep)
		return err;
	p->data = arena_str(ctx->a, dec.p, keep);
	if (!p->data.p)
		return SS_ENOMEM;
	ctx->attach_used += keep;
	return err;
}

static int leaf(mime_ctx *ctx, int idx, const char *body, size_t len)
{
	ss_part *p = &ctx->msg->parts[idx];
	ss_str dec;
	int err;

	p->raw_size = len;
	if ((err = transfer_decode(ctx, idx, body, len, &dec)))
		return err;
	p->decoded_size = dec.len;
	if (p->filename.len || !strcmp(p->disposition.p, "attachment"))
		p->flags |= SS_PART_ATTACHMENT;
	if (!is_text_type(p->content_type))
		return keep_data(ctx, idx, dec);
	return text_leaf(ctx, idx, dec);
}

/* ---- entities ---- */

static int new_part(mime_ctx *ctx, int parent, unsigned depth, int *idx)
{
	ss_message *m = ctx->msg;

	if (arena_grow(ctx->a, (void **)&m->parts, &ctx->cap_parts, m->nparts, sizeof(ss_part)))
		return SS_ENOMEM;
	*idx = (int)m->nparts++;
	memset(&m->parts[*idx], 0, sizeof(ss_part));
	m->parts[*idx].parent = parent;
	m->parts[*idx].depth = depth;
	m->parts[*idx].charset_used = m->parts[*idx].text = m->parts[*idx].hidden =
	    m->parts[*idx].data = (ss_str){"", 0};
	return 0;
}

static int message_part(mime_ctx *ctx, int idx, const char *body, size_t len, unsigned depth)
{
	ss_str dec;
	sbuf own = SBUF_INIT;
	int err;

	ctx->msg->parts[idx].raw_size = len;
	if ((err = transfer_decode(ctx, idx, body, len, &dec)))
		return err;
	if (dec.p == ctx->dec.p) {
		/* the scratch buffer is reused below: keep our own copy */
		own = ctx->dec;
		sbuf_init(&ctx->dec);
	}
	ctx->msg->parts[idx].decoded_size = dec.len;
	err = mime_parse_entity(ctx, dec.p, dec.len, idx, depth + 1);
	sbuf_release(&own);
	return err;
}

static int body_by_type(mime_ctx *ctx, int idx, const char *body, size_t len, unsigned depth)
{
	ss_part *p = &ctx->msg->parts[idx];
	int nest = !strncmp(p->content_type.p, "multipart/", 10) ||
	           !strcmp(p->content_type.p, "message/rfc822") ||
	           !strcmp(p->content_type.p, "message/global");

	if (nest && depth >= ctx->lim->max_depth) {
		int err = FACT(ctx, "limit_depth", idx);
		p->raw_size = p->decoded_size = len;
		return err;
	}
	if (!strncmp(p->content_type.p, "multipart/", 10)) {
		p->flags |= SS_PART_MULTIPART;
		return multipart(ctx, idx, body, len, depth);
	}
	if (nest) {
		p->flags |= SS_PART_MESSAGE;
		return message_part(ctx, idx, body, len, depth);
	}
	return leaf(ctx, idx, body, len);
}

int mime_parse_entity(mime_ctx *ctx, const char *buf, size_t len, int parent, unsigned depth)
{
	int in_digest = 0, idx, err;
	size_t body;

	if (ctx->msg->nparts >= ctx->lim->max_parts)
		return FACT(ctx, "limit_parts", parent);
	if (parent >= 0)
		in_digest = !strcmp(ctx->msg->parts[parent].content_type.p, "multipart/digest");
	if ((err = new_part(ctx, parent, depth, &idx)))
		return err;
	if ((err = parse_headers(ctx, buf, len, idx, &body)))
		return err;
	if ((err = part_attributes(ctx, idx, in_digest)))
		return err;
	return body_by_type(ctx, idx, buf + body, len - body, depth);
}

/* ---- uuencoded files inside text ---- */

static int uu_child(mime_ctx *ctx, int idx, const char *text, const uu_block *b)
{
	unsigned cf = 0;
	int child, err;
	ss_part *c;

	if (ctx->msg->nparts >= ctx->lim->max_parts)
		return FACT(ctx, "limit_parts", idx);
	if ((err = new_part(ctx, idx, ctx->msg->parts[idx].depth + 1, &child)))
		return err;
	sbuf_reset(&ctx->tmp);
	if ((err = codec_uu_decode(&ctx->tmp, text, b, &cf)))
		return err;
	c = &ctx->msg->parts[child];
	c->content_type = (ss_str){"application/octet-stream", 24};
	c->encoding = (ss_str){"x-uuencode", 10};
	c->disposition = (ss_str){"attachment", 10};
	c->filename = arena_str(ctx->a, b->name, b->name_len);
	c->header_first = ctx->msg->nheaders;
	c->raw_size = b->end - b->start;
	c->decoded_size = ctx->tmp.len;
	c->flags = SS_PART_ATTACHMENT;
	if (!c->filename.p)
		return SS_ENOMEM;
	if ((err = keep_data(ctx, child, (ss_str){ctx->tmp.p ? ctx->tmp.p : "", ctx->tmp.len})))
		return err;
	return (cf & CODEC_F_TRUNCATED) ? FACT(ctx, "uuencode_truncated", child) : 0;
}

/* Splits text with uuencoded blocks into the text without them and one
 * child part per block. */
static int uu_children(mime_ctx *ctx, int idx)
{
	sbuf keep = SBUF_INIT;
	const char *t = ctx->utf8.p;
	size_t len = ctx->utf8.len, pos = 0;
	uu_block b;
	int err = 0;

	while (!err && codec_uu_find(t, len, pos, &b)) {
		err = sbuf_add(&keep, t + pos, b.start - pos);
		if (!err)
			err = uu_child(ctx, idx, t, &b);
		pos = b.end;
	}
	if (!err)
		err = sbuf_add(&keep, t + pos, len - pos);
	if (!err)
		err = set_text(ctx, idx, keep.p, keep.len, &ctx->msg->parts[idx].text);
	sbuf_release(&keep);
	if (!err)
		err =
		    scan_text(ctx, idx, ctx->msg->parts[idx].text.p, ctx->msg->parts[idx].text.len);
	return err;
}
