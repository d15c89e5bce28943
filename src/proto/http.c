/*
 * http.c: the HTTP/1.1 request parser and response formatter (see http.h).
 */
#include "proto/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/json.h"

enum {
	S_HEAD,          /* request line and header fields, copied into head[] */
	S_BODY,          /* Content-Length body: p->left bytes to go */
	S_CHUNK_SIZE,    /* hex digits of a chunk size */
	S_CHUNK_EXT,     /* ";ext" after the size, skipped */
	S_CHUNK_SIZE_LF, /* the LF after the size line's CR */
	S_CHUNK_DATA,    /* p->left bytes of chunk data to go */
	S_CHUNK_DATA_CR, /* the CRLF after chunk data */
	S_CHUNK_DATA_LF,
	S_TRAILER_START, /* the start of a trailer line, or the final CRLF */
	S_TRAILER_LINE,  /* a trailer field, skipped */
	S_END_LF,        /* the LF of the final CRLF */
	S_END,           /* the end is due: next call returns it */
	S_DONE,          /* the request was handed out: wait for http_next */
	S_ERROR,
};

static const char *const method_names[] = {"GET",     "HEAD",  "POST",  "PUT",    "DELETE",
                                           "OPTIONS", "PATCH", "TRACE", "CONNECT"};
#define NMETHODS (sizeof(method_names) / sizeof(method_names[0]))

void http_init(http_parser *p, size_t max_body)
{
	p->max_body = max_body;
	http_next(p);
}

void http_next(http_parser *p)
{
	memset(&p->req, 0, sizeof(p->req));
	p->state = S_HEAD;
	p->head_len = p->line_start = p->nlines = 0;
	p->left = p->body_seen = 0;
	p->ext_len = 0;
	p->digits = 0;
}

int http_idle(const http_parser *p)
{
	return (p->state == S_HEAD && !p->head_len) || p->state == S_DONE;
}

const char *http_method_name(http_method m)
{
	return (unsigned)m < NMETHODS ? method_names[m] : "?";
}

static size_t fail(http_parser *p, http_event *ev, int status, const char *text, size_t used)
{
	p->state = S_ERROR;
	ev->kind = HTTP_EV_ERROR;
	ev->status = status;
	ev->text = text;
	return used;
}

/* ---- the head ---- */

static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Bytes allowed in a field value: VCHAR, obs-text, SP, HTAB. */
static int is_vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int str_eq(const ss_str *s, const char *lit)
{
	return s->len == strlen(lit) && !strncasecmp(s->p, lit, s->len);
}

/* Splits the target into path and query; absolute-form keeps its path. */
static int split_target(http_request *r)
{
	const char *t = r->target.p, *q;
	size_t n = r->target.len;

	if (!strncasecmp(t, "http://", 7) || !strncasecmp(t, "https://", 8)) {
		const char *auth = strstr(t, "//") + 2, *slash = strchr(auth, '/');
		if (slash == auth || !*auth)
			return -1; /* no authority */
		r->path = slash ? (ss_str){slash, n - (size_t)(slash - t)} : (ss_str){"/", 1};
	} else if (t[0] == '/' || (n == 1 && t[0] == '*')) {
		r->path = r->target;
	} else {
		return -1;
	}
	if ((q = memchr(r->path.p, '?', r->path.len))) {
		r->query = (ss_str){q + 1, r->path.len - (size_t)(q + 1 - r->path.p)};
		r->path.len = (size_t)(q - r->path.p);
	}
	return 0;
}

/* "METHOD SP target SP HTTP/d.d" in s[0..len) (NULs written over the
 * separators). Returns 0 or the status to answer. */
static int request_line(http_request *r, char *s, size_t len)
{
	size_t i = 0, m, t;

	while (i < len && is_tchar((unsigned char)s[i]))
		i++;
	if (!i || i == len || s[i] != ' ')
		return 400;
	m = i++;
	t = i;
	while (i < len && s[i] > 0x20 && s[i] < 0x7f)
		i++;
	if (i == t || i == len || s[i] != ' ')
		return 400;
	r->target = (ss_str){s + t, i - t};
	s[i++] = 0;
	if (len - i != 8 || memcmp(s + i, "HTTP/", 5) || s[i + 6] != '.' || s[i + 5] < '0' ||
	    s[i + 5] > '9' || s[i + 7] < '0' || s[i + 7] > '9')
		return 400;
	if (s[i + 5] != '1')
		return 505;
	r->minor = s[i + 7] == '0' ? 0 : 1;
	r->method_text = (ss_str){s, m};
	s[m] = 0;
	for (size_t k = 0; k < NMETHODS; k++)
		if (strlen(method_names[k]) == m && !memcmp(s, method_names[k], m))
			r->method = (http_method)k;
	if (strcmp(method_names[r->method], s))
		return 501;
	return split_target(r) ? 400 : 0;
}

/* One "name: value" line in s[0..len) (NULs written after name and value). */
static int header_line(http_request *r, char *s, size_t len)
{
	size_t i = 0, v, e;

	if (s[0] == ' ' || s[0] == '\t')
		return 400; /* obsolete line folding */
	while (i < len && is_tchar((unsigned char)s[i]))
		i++;
	if (!i || i == len || s[i] != ':')
		return 400; /* no name, or white space before the colon */
	for (size_t k = i + 1; k < len; k++)
		if (!is_vchar((unsigned char)s[k]))
			return 400;
	if (r->nheaders == HTTP_MAX_HEADERS)
		return 431;
	s[i] = 0;
	for (v = i + 1; v < len && (s[v] == ' ' || s[v] == '\t'); v++)
		;
	for (e = len; e > v && (s[e - 1] == ' ' || s[e - 1] == '\t'); e--)
		;
	s[e] = 0;
	r->headers[r->nheaders++] = (http_header){{s, i}, {s + v, e - v}};
	return 0;
}

const ss_str *http_header_next(const http_request *r, const char *name, size_t *i)
{
	for (; *i < r->nheaders; (*i)++)
		if (str_eq(&r->headers[*i].name, name))
			return &r->headers[(*i)++].value;
	return NULL;
}

/* Content-Length: digits only, every copy the same. */
static int content_length(http_request *r)
{
	const ss_str *v;
	size_t i = 0;

	while ((v = http_header_next(r, "Content-Length", &i))) {
		uint64_t n = 0;
		if (!v->len)
			return 400;
		for (size_t k = 0; k < v->len; k++) {
			if (v->p[k] < '0' || v->p[k] > '9')
				return 400;
			if (n > (UINT64_MAX - 9) / 10)
				return 413;
			n = n * 10 + (uint64_t)(v->p[k] - '0');
		}
		if (r->has_length && n != r->length)
			return 400;
		r->has_length = 1;
		r->length = n;
	}
	return 0;
}

/* Whether the comma-separated list v holds token tok (case-insensitive). */
static int list_has(const ss_str *v, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *s = v->p, *end = v->p + v->len; s < end;) {
		const char *c = memchr(s, ',', (size_t)(end - s)), *e = c ? c : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == n && !strncasecmp(s, tok, n))
			return 1;
		s = c ? c + 1 : end;
	}
	return 0;
}

/* What the fields mean for framing and the connection. Returns 0 or the
 * status to answer. */
static int head_semantics(http_parser *p)
{
	http_request *r = &p->req;
	const ss_str *v;
	size_t i = 0, nte = 0;
	int err;

	while ((v = http_header_next(r, "Transfer-Encoding", &i))) {
		if (++nte > 1 || !str_eq(v, "chunked"))
			return 501;
		r->chunked = 1;
	}
	if ((err = content_length(r)))
		return err;
	if (r->chunked && (r->has_length || r->minor == 0))
		return 400;
	i = 0;
	if (r->minor == 1 && (!http_header_next(r, "Host", &i) || http_header_next(r, "Host", &i)))
		return 400; /* HTTP/1.1 needs exactly one Host */
	if (!r->chunked && !r->has_length &&
	    (r->method == HTTP_POST || r->method == HTTP_PUT || r->method == HTTP_PATCH))
		return 411;
	if (r->has_length && r->length > p->max_body)
		return 413;
	r->keep_alive = r->minor == 1;
	for (i = 0; (v = http_header_next(r, "Connection", &i));)
		r->keep_alive = list_has(v, "close")        ? 0
		                : list_has(v, "keep-alive") ? 1
		                                            : r->keep_alive;
	i = 0;
	v = http_header_next(r, "Expect", &i);
	r->expect_continue = r->minor == 1 && v && str_eq(v, "100-continue");
	return 0;
}

static const char *head_error_text(int status)
{
	switch (status) {
	case 411:
		return "a body needs Content-Length or chunked transfer coding";
	case 413:
		return "request body too large";
	case 431:
		return "too many or too large header fields";
	case 501:
		return "method or transfer coding not implemented";
	case 505:
		return "only HTTP/1.x is spoken here";
	default:
		return "malformed request";
	}
}

/* The blank line ended the head: parse the header fields. */
static int head_complete(http_parser *p)
{
	/* request_line() wrote NULs inside line one, never over its LF */
	char *s = (char *)memchr(p->head, '\n', p->head_len) + 1;
	char *end = p->head + p->head_len;
	int err = 0;

	while (!err && s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)(nl - s);
		if (n && s[n - 1] == '\r')
			n--;
		if (!n)
			break;
		err = header_line(&p->req, s, n);
		s = nl + 1;
	}
	return err ? err : head_semantics(p);
}

/* Line one: no byte outside printable ASCII, so noise fails at once. */
static int line_one_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] < 0x20 || s[i] == 0x7f) && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* After a head line ended: returns 0 to go on, 1 when the head is
 * complete, or a status. */
static int line_ended(http_parser *p)
{
	size_t n = p->head_len - p->line_start - 1;
	char *s = p->head + p->line_start;

	if (n && s[n - 1] == '\r')
		n--;
	if (p->nlines++ == 0) {
		int err = request_line(&p->req, s, n);
		p->line_start = p->head_len;
		return err;
	}
	p->line_start = p->head_len;
	if (!n)
		return 1;
	return p->nlines > HTTP_MAX_HEADERS + 1 ? 431 : 0;
}

static size_t feed_head(http_parser *p, const char *buf, size_t len, http_event *ev)
{
	size_t i = 0;

	while (i < len) {
		const char *nl;
		size_t n;
		int rc;
		if (!p->head_len && (buf[i] == '\r' || buf[i] == '\n')) {
			i++; /* empty lines before a request are ignored (RFC 9112 2.2) */
			continue;
		}
		nl = memchr(buf + i, '\n', len - i);
		n = nl ? (size_t)(nl - (buf + i)) + 1 : len - i;
		if (!p->nlines && !line_one_ok(buf + i, n))
			return fail(p, ev, 400, "malformed request line", i);
		if (!p->nlines && p->head_len + n > HTTP_MAX_LINE)
			return fail(p, ev, 414, "request line too long", i);
		if (p->head_len + n > HTTP_MAX_HEAD)
			return fail(p, ev, 431, head_error_text(431), i);
		memcpy(p->head + p->head_len, buf + i, n);
		p->head_len += n;
		p->head[p->head_len] = 0;
		i += n;
		if (!nl)
			break;
		if ((rc = line_ended(p)) == 1 && !(rc = head_complete(p))) {
			ev->kind = HTTP_EV_REQUEST;
			p->state = p->req.chunked ? S_CHUNK_SIZE : p->req.length ? S_BODY : S_END;
			p->left = p->req.length;
			return i;
		}
		if (rc)
			return fail(p, ev, rc,
			            p->nlines == 1 && rc == 400 ? "malformed request line"
			                                        : head_error_text(rc),
			            i);
	}
	return i;
}

/* ---- the body ---- */

static size_t body_slice(http_parser *p, const char *buf, size_t len, http_event *ev, int next)
{
	size_t n = len < p->left ? len : (size_t)p->left;

	if (!n)
		return 0;
	p->left -= n;
	p->body_seen += n;
	ev->kind = HTTP_EV_BODY;
	ev->p = buf;
	ev->len = n;
	if (!p->left)
		p->state = next;
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The chunk-size line has ended. */
static void size_line_done(http_parser *p)
{
	p->state = p->left ? S_CHUNK_DATA : S_TRAILER_START;
	p->digits = 0;
	p->ext_len = 0;
}

/* One byte of chunk framing. Returns 0 or a status. */
static int chunk_byte(http_parser *p, char c)
{
	int h;

	switch (p->state) {
	case S_CHUNK_SIZE:
		if ((h = hexval(c)) >= 0) {
			if (p->left > (p->max_body - p->body_seen) >> 4)
				return 413;
			p->left = p->left * 16 + (uint64_t)h;
			if (p->left > p->max_body - p->body_seen)
				return 413;
			p->digits++;
			return 0;
		}
		if (!p->digits)
			return 400;
		if (c == ';' || c == ' ' || c == '\t')
			p->state = S_CHUNK_EXT;
		else if (c == '\r')
			p->state = S_CHUNK_SIZE_LF;
		else if (c == '\n')
			size_line_done(p);
		else
			return 400;
		return 0;
	case S_CHUNK_EXT:
		if (c == '\r')
			p->state = S_CHUNK_SIZE_LF;
		else if (c == '\n')
			size_line_done(p);
		else if (!is_vchar((unsigned char)c) || ++p->ext_len > HTTP_MAX_CHUNK_EXT)
			return 400;
		return 0;
	case S_CHUNK_SIZE_LF:
		if (c != '\n')
			return 400;
		size_line_done(p);
		return 0;
	case S_CHUNK_DATA_CR:
		if (c == '\n')
			p->state = S_CHUNK_SIZE;
		else if (c == '\r')
			p->state = S_CHUNK_DATA_LF;
		else
			return 400;
		return 0;
	case S_CHUNK_DATA_LF:
		if (c != '\n')
			return 400;
		p->state = S_CHUNK_SIZE;
		return 0;
	case S_TRAILER_START:
		if (c == '\r')
			p->state = S_END_LF;
		else if (c == '\n')
			p->state = S_END;
		else
			p->state = S_TRAILER_LINE;
		return p->state == S_TRAILER_LINE && ++p->ext_len > HTTP_MAX_HEAD ? 431 : 0;
	case S_TRAILER_LINE:
		if (c == '\n')
			p->state = S_TRAILER_START;
		else if (!is_vchar((unsigned char)c) && c != '\r')
			return 400;
		return ++p->ext_len > HTTP_MAX_HEAD ? 431 : 0;
	case S_END_LF:
		if (c != '\n')
			return 400;
		p->state = S_END;
		return 0;
	default:
		return 400;
	}
}

static size_t feed_chunked(http_parser *p, const char *buf, size_t len, http_event *ev)
{
	size_t i = 0;

	while (i < len && p->state != S_END) {
		int err;
		if (p->state == S_CHUNK_DATA)
			return i + body_slice(p, buf + i, len - i, ev, S_CHUNK_DATA_CR);
		if ((err = chunk_byte(p, buf[i])))
			return fail(p, ev, err,
			            err == 413 ? head_error_text(413) : "malformed chunked body",
			            i);
		i++;
	}
	return i;
}

size_t http_feed(http_parser *p, const char *buf, size_t len, http_event *ev)
{
	size_t used = 0;

	memset(ev, 0, sizeof(*ev));
	if (p->state == S_HEAD) {
		used = feed_head(p, buf, len, ev);
		if (ev->kind != HTTP_EV_NONE)
			return used;
	}
	if (p->state == S_BODY)
		used += body_slice(p, buf + used, len - used, ev, S_END);
	else if (p->state >= S_CHUNK_SIZE && p->state < S_END)
		used += feed_chunked(p, buf + used, len - used, ev);
	if (ev->kind == HTTP_EV_NONE && p->state == S_END) {
		p->state = S_DONE;
		ev->kind = HTTP_EV_END;
	}
	return used;
}

void http_eof(http_parser *p, http_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (p->state == S_DONE || p->state == S_ERROR || (p->state == S_HEAD && !p->head_len))
		return;
	fail(p, ev, 400, "request cut short", 0);
}

/* ---- responses ---- */

const char *http_status_text(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 422:
		return "Unprocessable Content";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

int http_format(sbuf *out, const http_response *r)
{
	int err = sbuf_addf(out, "HTTP/1.1 %d %s\r\nServer: spamsiftd/%s\r\n", r->status,
	                    http_status_text(r->status), SS_VERSION);

	if (!err && r->content_type)
		err = sbuf_addf(out, "Content-Type: %s\r\n", r->content_type);
	if (!err && r->extra)
		err = sbuf_adds(out, r->extra);
	if (!err)
		err = sbuf_addf(out, "Content-Length: %zu\r\nConnection: %s\r\n\r\n", r->len,
		                r->close ? "close" : "keep-alive");
	if (!err && !r->head_only && r->len)
		err = sbuf_add(out, r->body, r->len);
	return err;
}

int http_error_json(sbuf *body, int status, const char *text)
{
	int err = sbuf_addf(body, "{\"error\":%d,\"message\":", status);

	if (!err)
		err = json_str(body, text, strlen(text));
	return err ? err : sbuf_adds(body, "}\n");
}

int http_format_error(sbuf *out, int status, const char *text, int close)
{
	sbuf body = SBUF_INIT;
	http_response r = {status, "application/json", NULL, NULL, 0, close, 0};
	int err = http_error_json(&body, status, text);

	r.body = body.p;
	r.len = body.len;
	if (!err)
		err = http_format(out, &r);
	sbuf_release(&body);
	return err;
}
