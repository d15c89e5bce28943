/*
 * spamd.c: the spamd request parser and reply formatters (see spamd.h).
 */
#include "proto/spamd.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "mime/header.h"

enum { S_LINE, S_HEADERS, S_BODY, S_DONE };

static const char *const cmd_names[] = {"CHECK",   "SYMBOLS", "REPORT", "REPORT_IFSPAM", "PROCESS",
                                        "HEADERS", "PING",    "SKIP",   "TELL"};

void spamd_init(spamd_parser *p, size_t max_body)
{
	memset(&p->req, 0, sizeof(p->req));
	p->state = S_LINE;
	p->max_body = max_body;
	p->nheaders = 0;
	p->body_seen = 0;
	p->line_len = 0;
}

int spamd_has_body(spamd_cmd cmd)
{
	return cmd != SPAMD_PING && cmd != SPAMD_SKIP;
}

const char *spamd_cmd_name(spamd_cmd cmd)
{
	return (unsigned)cmd < sizeof(cmd_names) / sizeof(cmd_names[0]) ? cmd_names[cmd] : "?";
}

static size_t fail(spamd_parser *p, spamd_event *ev, int code, const char *text, size_t used)
{
	p->state = S_DONE;
	ev->kind = SPAMD_EV_ERROR;
	ev->code = code;
	ev->text = text;
	return used;
}

/* ---- the request line and header lines ---- */

/* Reads "1.5" into major, minor; returns 0 or -1. */
static int parse_version(const char *s, size_t len, int *major, int *minor)
{
	size_t i = 0;
	int v[2] = {0, 0};

	for (int k = 0; k < 2; k++) {
		size_t start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 4)
			v[k] = v[k] * 10 + (s[i++] - '0');
		if (i == start || (k == 0 && (i == len || s[i++] != '.')))
			return -1;
	}
	*major = v[0];
	*minor = v[1];
	return i == len ? 0 : -1;
}

static int request_line(spamd_parser *p, const char *s, size_t len)
{
	const char *sp = memchr(s, ' ', len);
	size_t n = sp ? (size_t)(sp - s) : len, rest;

	if (!sp)
		return -1;
	for (size_t c = 0; c < sizeof(cmd_names) / sizeof(cmd_names[0]); c++)
		if (strlen(cmd_names[c]) == n && !memcmp(s, cmd_names[c], n))
			p->req.cmd = (spamd_cmd)c;
	if (strlen(cmd_names[p->req.cmd]) != n || memcmp(s, cmd_names[p->req.cmd], n))
		return -1;
	rest = len - n - 1;
	if (rest < 6 || memcmp(sp + 1, "SPAMC/", 6))
		return -1;
	return parse_version(sp + 7, rest - 6, &p->req.major, &p->req.minor);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims white space around s[0..*len). */
static const char *trim(const char *s, size_t *len)
{
	while (*len && is_space(*s)) {
		s++;
		(*len)--;
	}
	while (*len && is_space(s[*len - 1]))
		(*len)--;
	return s;
}

static int word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && !strncasecmp(s, w, len);
}

/* "local, remote" into SPAMD_LOCAL | SPAMD_REMOTE bits; -1 when unknown. */
static int where_list(const char *s, size_t len, unsigned *bits)
{
	while (len) {
		const char *comma = memchr(s, ',', len);
		size_t n = comma ? (size_t)(comma - s) : len;
		const char *w = s;
		size_t wl = n;
		w = trim(w, &wl);
		if (word_is(w, wl, "local"))
			*bits |= SPAMD_LOCAL;
		else if (word_is(w, wl, "remote"))
			*bits |= SPAMD_REMOTE;
		else if (wl)
			return -1;
		s += n + (comma != NULL);
		len -= n + (comma != NULL);
	}
	return 0;
}

static int parse_length(const char *v, size_t len, size_t *out)
{
	size_t n = 0;

	if (!len || len > 12)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (size_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

static int user_ok(const char *v, size_t len)
{
	if (!len || len > SPAMD_MAX_USER)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-_.@+=", c)))
			return 0;
	}
	return 1;
}

/* Applies one header line; returns NULL or the error sentence. */
static const char *header_line(spamd_parser *p, const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	size_t nl, vl;
	const char *v;
	spamd_request *r = &p->req;

	if (!colon || colon == s)
		return "bad header line";
	nl = (size_t)(colon - s);
	vl = len - nl - 1;
	v = trim(colon + 1, &vl);
	if (word_is(s, nl, "Content-length")) {
		if (parse_length(v, vl, &r->length))
			return "bad Content-length";
		r->has_length = 1;
	} else if (word_is(s, nl, "User")) {
		if (!user_ok(v, vl))
			return "bad User name";
		memcpy(r->user, v, vl);
		r->user[vl] = 0;
	} else if (word_is(s, nl, "Compress")) {
		if (!word_is(v, vl, "zlib"))
			return "unsupported Compress (only zlib)";
		r->compressed = 1;
	} else if (word_is(s, nl, "Message-class")) {
		r->msg_class = word_is(v, vl, "spam")  ? SPAMD_CLASS_SPAM
		               : word_is(v, vl, "ham") ? SPAMD_CLASS_HAM
		                                       : -1;
		if (r->msg_class < 0)
			return "bad Message-class (spam or ham)";
	} else if (word_is(s, nl, "Set") || word_is(s, nl, "Remove")) {
		if (where_list(v, vl, word_is(s, nl, "Set") ? &r->set : &r->remove))
			return "bad Set or Remove (local, remote)";
	}
	return NULL;
}

/* Checks the complete header; returns NULL or the error sentence. */
static const char *header_done(spamd_parser *p, int *code)
{
	const spamd_request *r = &p->req;

	*code = SPAMD_EX_PROTOCOL;
	if (r->cmd == SPAMD_TELL && !r->set && !r->remove)
		return "TELL without Set or Remove";
	if (r->cmd == SPAMD_TELL && r->set && r->msg_class == SPAMD_CLASS_NONE)
		return "TELL Set without Message-class";
	if (r->has_length && r->length > p->max_body) {
		*code = SPAMD_EX_DATAERR;
		return "message too big";
	}
	return NULL;
}

/* A complete line s[0..len) (line end removed) in state LINE or HEADERS. */
static size_t on_line(spamd_parser *p, const char *s, size_t len, size_t used, spamd_event *ev)
{
	const char *err;
	int code;

	ev->kind = SPAMD_EV_NONE;
	if (p->state == S_LINE) {
		if (request_line(p, s, len))
			return fail(p, ev, SPAMD_EX_PROTOCOL, "bad request line", used);
		p->state = spamd_has_body(p->req.cmd) ? S_HEADERS : S_DONE;
		if (p->state == S_DONE)
			ev->kind = SPAMD_EV_REQUEST; /* PING, SKIP: nothing more to read */
		return used;
	}
	if (len) {
		if (++p->nheaders > SPAMD_MAX_HEADERS)
			return fail(p, ev, SPAMD_EX_PROTOCOL, "too many header lines", used);
		if ((err = header_line(p, s, len)))
			return fail(p, ev, SPAMD_EX_PROTOCOL, err, used);
		return used;
	}
	if ((err = header_done(p, &code)))
		return fail(p, ev, code, err, used);
	p->state = S_BODY;
	ev->kind = SPAMD_EV_REQUEST;
	return used;
}

/* Finds the next line end in buf; joins it with a partial line kept from
 * earlier feeds. */
static size_t feed_line(spamd_parser *p, const char *buf, size_t len, spamd_event *ev)
{
	const char *nl = memchr(buf, '\n', len);
	size_t take = nl ? (size_t)(nl - buf) : len, used = take + (nl != NULL);
	const char *s = buf;
	size_t sl = take;

	if (p->line_len + take > SPAMD_MAX_LINE)
		return fail(p, ev, SPAMD_EX_PROTOCOL, "line too long", used);
	if (!nl || p->line_len) {
		memcpy(p->line + p->line_len, buf, take);
		p->line_len += take;
		ev->kind = SPAMD_EV_NONE;
		if (!nl)
			return used;
		s = p->line;
		sl = p->line_len;
		p->line_len = 0;
	}
	if (sl && s[sl - 1] == '\r')
		sl--;
	return on_line(p, s, sl, used, ev);
}

static size_t feed_body(spamd_parser *p, const char *buf, size_t len, spamd_event *ev)
{
	size_t left = p->req.has_length ? p->req.length - p->body_seen : SIZE_MAX, n;

	if (left == 0) {
		p->state = S_DONE;
		ev->kind = SPAMD_EV_END;
		return 0;
	}
	n = len < left ? len : left;
	if (!n) {
		ev->kind = SPAMD_EV_NONE;
		return 0;
	}
	if (n > p->max_body - p->body_seen)
		return fail(p, ev, SPAMD_EX_DATAERR, "message too big", n);
	p->body_seen += n;
	ev->kind = SPAMD_EV_BODY;
	ev->p = buf;
	ev->len = n;
	return n;
}

size_t spamd_feed(spamd_parser *p, const char *buf, size_t len, spamd_event *ev)
{
	size_t used = 0;

	memset(ev, 0, sizeof(*ev));
	for (;;) {
		if (p->state == S_BODY)
			return used + feed_body(p, buf + used, len - used, ev);
		if (p->state == S_DONE)
			return len; /* after the request: ignored */
		if (used == len)
			return used;
		used += feed_line(p, buf + used, len - used, ev);
		if (ev->kind != SPAMD_EV_NONE)
			return used;
	}
}

void spamd_eof(spamd_parser *p, spamd_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (p->state == S_BODY && !p->req.has_length) {
		p->state = S_DONE;
		ev->kind = SPAMD_EV_END;
	} else if (p->state == S_BODY && p->body_seen == p->req.length) {
		p->state = S_DONE;
		ev->kind = SPAMD_EV_END;
	} else if (p->state != S_DONE && (p->state != S_LINE || p->line_len)) {
		fail(p, ev, SPAMD_EX_PROTOCOL, "request cut short", 0);
	}
}

/* ---- replies ---- */

static const char *code_name(int code)
{
	switch (code) {
	case SPAMD_EX_OK:
		return "EX_OK";
	case SPAMD_EX_USAGE:
		return "EX_USAGE";
	case SPAMD_EX_DATAERR:
		return "EX_DATAERR";
	case SPAMD_EX_NOUSER:
		return "EX_NOUSER";
	case SPAMD_EX_SOFTWARE:
		return "EX_SOFTWARE";
	case SPAMD_EX_IOERR:
		return "EX_IOERR";
	case SPAMD_EX_TEMPFAIL:
		return "EX_TEMPFAIL";
	case SPAMD_EX_TIMEOUT:
		return "EX_TIMEOUT";
	default:
		return "EX_PROTOCOL";
	}
}

int spamd_reply_error(sbuf *out, int code, const char *text)
{
	return sbuf_addf(out, "SPAMD/1.0 %d %s %s\r\n", code, code_name(code), text);
}

int spamd_reply_pong(sbuf *out)
{
	return sbuf_adds(out, "SPAMD/1.5 0 PONG\r\n");
}

int spamd_reply_tell(sbuf *out, unsigned did_set, unsigned did_remove)
{
	int err = sbuf_adds(out, "SPAMD/1.1 0 EX_OK\r\n");

	if (!err && did_set)
		err = sbuf_addf(out, "DidSet: %s%s%s\r\n", did_set & SPAMD_LOCAL ? "local" : "",
		                did_set == (SPAMD_LOCAL | SPAMD_REMOTE) ? "," : "",
		                did_set & SPAMD_REMOTE ? "remote" : "");
	if (!err && (did_remove & SPAMD_LOCAL))
		err = sbuf_adds(out, "DidRemove: local\r\n");
	return err ? err : sbuf_adds(out, "Content-length: 0\r\n\r\n");
}

/* The reply's body for a scanning command, into body. */
static int scan_body(sbuf *body, const spamd_request *req, const spamd_verdict *v, const char *msg,
                     size_t len)
{
	switch (req->cmd) {
	case SPAMD_SYMBOLS:
		return sbuf_adds(body, v->symbols ? v->symbols : "");
	case SPAMD_REPORT_IFSPAM:
		if (!v->is_spam)
			return 0;
		/* fall through */
	case SPAMD_REPORT:
		return sbuf_add(body, v->report ? v->report : "", v->report ? v->report_len : 0);
	case SPAMD_PROCESS:
	case SPAMD_HEADERS:
		return spamd_add_headers(body, msg, len, v->headers, v->nheaders,
		                         req->cmd == SPAMD_HEADERS);
	default:
		return 0;
	}
}

int spamd_reply_scan(sbuf *out, const spamd_request *req, const spamd_verdict *v, const char *msg,
                     size_t len)
{
	sbuf body = SBUF_INIT;
	int err = sbuf_adds(out, "SPAMD/1.1 0 EX_OK\r\n");

	if (!err)
		err = sbuf_addf(out, "Spam: %s ; %.1f / %.1f\r\n", v->is_spam ? "True" : "False",
		                v->score, v->threshold);
	if (!err && req->cmd != SPAMD_CHECK)
		err = scan_body(&body, req, v, msg, len);
	if (!err && req->cmd != SPAMD_CHECK)
		err = sbuf_addf(out, "Content-length: %zu\r\n", body.len);
	if (!err)
		err = sbuf_adds(out, "\r\n");
	if (!err && body.len)
		err = sbuf_add(out, body.p, body.len);
	sbuf_release(&body);
	return err;
}

/* ---- adding header fields to a message ---- */

/* Whether the field named name[0..len) is one of h[0..n) ("Name: ..."). */
static int replaced(const char *name, size_t len, const ss_str *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].len > len && h[i].p[len] == ':' && !strncasecmp(h[i].p, name, len))
			return 1;
	return 0;
}

static int add_fields(sbuf *out, const ss_str *h, size_t n, const char *eol)
{
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		err = sbuf_add(out, h[i].p, h[i].len);
		if (!err)
			err = sbuf_adds(out, eol);
	}
	return err;
}

int spamd_add_headers(sbuf *out, const char *msg, size_t len, const ss_str *h, size_t n,
                      int headers_only)
{
	const char *lf = memchr(msg, '\n', len);
	const char *eol = lf && lf > msg && lf[-1] == '\r' ? "\r\n" : "\n";
	size_t pos = 0, last = 0;
	unsigned facts = 0;
	hdr_field f;
	int err = 0;

	while (!err && hdr_next(msg, len, &pos, &f, &facts)) {
		size_t start = (size_t)(f.name - msg);
		err = sbuf_add(out, msg + last, start - last);
		if (!err && !replaced(f.name, f.name_len, h, n))
			err = sbuf_add(out, msg + start, pos - start);
		last = pos;
	}
	if (!err && last && msg[last - 1] != '\n')
		err = sbuf_adds(out, eol); /* the last field had no line end */
	if (!err)
		err = add_fields(out, h, n, eol);
	if (!err && (facts & HDR_F_NO_BLANK))
		err = sbuf_adds(out, eol); /* the body began without a blank line */
	if (!err && headers_only && (facts & HDR_F_NO_BLANK))
		return 0;
	if (!err)
		err = sbuf_add(out, msg + last, (headers_only ? pos : len) - last);
	return err;
}

/* ---- Compress: zlib ---- */

int spamd_inflate(const char *in, size_t len, size_t max, sbuf *out)
{
	z_stream z;
	int rc, err = 0;

	memset(&z, 0, sizeof(z));
	if (len > UINT32_MAX / 2)
		return 1;
	if (inflateInit(&z) != Z_OK)
		return SS_ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	do {
		size_t room = out->len < max ? max - out->len : 0;
		if (!room) {
			err = 1;
			break;
		}
		room = room < 65536 ? room : 65536;
		if ((err = sbuf_reserve(out, room)))
			break;
		z.next_out = (Bytef *)out->p + out->len;
		z.avail_out = (uInt)room;
		rc = inflate(&z, Z_NO_FLUSH);
		out->len += room - z.avail_out;
		out->p[out->len] = 0;
		if (rc != Z_OK && rc != Z_STREAM_END)
			err = rc == Z_MEM_ERROR ? SS_ENOMEM : SS_ESYNTAX;
		else if (rc == Z_OK && !z.avail_in && z.avail_out)
			err = SS_ESYNTAX; /* the stream ended early */
		else if (rc == Z_STREAM_END)
			break;
	} while (!err);
	inflateEnd(&z);
	return err;
}
