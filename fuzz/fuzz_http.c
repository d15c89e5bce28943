/*
 * fuzz_http.c: libFuzzer target for the HTTP/1.1 request parser, fed in
 * pieces whose sizes come from the input, with http_next() after every
 * request (pipelining): the parser always ends, body slices lie inside the
 * piece given, a body never exceeds its limit nor its Content-Length,
 * every byte is consumed unless an error stopped the parser, events come
 * in the protocol's order, error statuses are the documented ones, and the
 * slices of a request stay inside the parser's head buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

#define MAX_BODY 4096

typedef struct track {
	int in_request; /* between REQUEST and END */
	uint64_t body;  /* bytes of the current body */
	int ended;      /* END seen, http_next due */
} track;

static void check_request(const http_parser *p)
{
	const http_request *r = &p->req;
	const char *lo = p->head, *hi = p->head + sizeof(p->head);

	int root = r->path.len == 1 && r->path.p[0] == '/'; /* absolute-form without a path */

	if (r->nheaders > HTTP_MAX_HEADERS ||
	    (!root && (r->path.p < lo || r->path.p + r->path.len > hi)))
		abort();
	for (size_t i = 0; i < r->nheaders; i++) {
		const ss_str *n = &r->headers[i].name, *v = &r->headers[i].value;
		if (n->p < lo || v->p + v->len >= hi || n->p[n->len] || v->p[v->len] || !n->len)
			abort();
	}
	if (r->has_length && r->length > MAX_BODY)
		abort();
}

static void check_event(const http_parser *p, const http_event *ev, const char *piece, size_t n,
                        track *t)
{
	switch (ev->kind) {
	case HTTP_EV_REQUEST:
		if (t->in_request)
			abort();
		t->in_request = 1;
		t->body = 0;
		check_request(p);
		break;
	case HTTP_EV_BODY:
		if (!t->in_request || ev->p < piece || ev->p + ev->len > piece + n || !ev->len)
			abort();
		t->body += ev->len;
		if (t->body > MAX_BODY || (p->req.has_length && t->body > p->req.length))
			abort();
		break;
	case HTTP_EV_END:
		if (!t->in_request || (p->req.has_length && t->body != p->req.length))
			abort();
		t->in_request = 0;
		t->ended = 1;
		break;
	case HTTP_EV_ERROR:
		if (!ev->text || (ev->status != 400 && ev->status != 411 && ev->status != 413 &&
		                  ev->status != 414 && ev->status != 431 && ev->status != 501 &&
		                  ev->status != 505))
			abort();
		break;
	default:
		break;
	}
}

/* Feeds data in pieces of `step` bytes; returns whether an error ended it. */
static int run(const char *data, size_t size, size_t step)
{
	http_parser *p = malloc(sizeof(*p));
	http_event ev;
	track t = {0, 0, 0};
	size_t off = 0;
	int err = 0;

	http_init(p, MAX_BODY);
	while (off < size && !err) {
		size_t n = size - off < step ? size - off : step, used = 0;
		for (;;) {
			size_t k = http_feed(p, data + off + used, n - used, &ev);
			if (k > n - used)
				abort();
			used += k;
			check_event(p, &ev, data + off, n, &t);
			if (ev.kind == HTTP_EV_ERROR) {
				err = 1;
				break;
			}
			if (ev.kind == HTTP_EV_END) {
				http_next(p);
				t.ended = 0;
			} else if (ev.kind == HTTP_EV_NONE) {
				break;
			}
		}
		if (!err && used != n)
			abort();
		off += n;
	}
	if (!err) {
		http_eof(p, &ev);
		if ((ev.kind == HTTP_EV_ERROR) != (t.in_request || !http_idle(p)))
			abort();
	}
	free(p);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	sbuf out = SBUF_INIT;

	if (!size)
		return 0;
	/* cut into pieces or whole, the parser must reach the same verdict */
	if (run(buf + 1, size - 1, (size_t)data[0] % 23 + 1) != run(buf + 1, size - 1, size))
		abort();
	if (http_format_error(&out, 400, "x", data[0] & 1) || out.len < 20)
		abort();
	sbuf_release(&out);
	return 0;
}
