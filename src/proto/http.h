/*
 * http.h: HTTP/1.1 requests (RFC 9112) as an I/O-free state machine, and
 * the responses spamsiftd's HTTP door writes.
 *
 * http_feed() takes the bytes of a connection as they arrive, in pieces of
 * any size, and hands out events: the request once its line and header
 * fields are complete, the body as slices of the caller's buffer
 * (zero-copy; Content-Length or chunked transfer coding, chunk framing and
 * trailers removed), its end, or an error with the status code to answer
 * (400, 411, 413, 414, 431, 501, 505) after which the connection must be
 * closed. After the end of a request, http_next() readies the parser for
 * the next one on the same connection (keep-alive, pipelining): the bytes
 * that follow are fed as usual.
 *
 * Limits: the request line (HTTP_MAX_LINE), the whole head
 * (HTTP_MAX_HEAD), the number of header fields (HTTP_MAX_HEADERS) and the
 * body (max_body, given to http_init) are bounded; chunk extensions and
 * trailers too. Nothing is allocated: the head is copied into the parser
 * and the request's slices point there, NUL-terminated, until http_next().
 *
 * What is refused (RFC 9112 where it says "must"): a request line that is
 * not "METHOD SP target SP HTTP/d.d" (400), an unknown method (501), a
 * version other than 1.x (505), field names followed by white space or
 * folded lines (400), control bytes in values (400), a missing Host in
 * HTTP/1.1 (400), Content-Length that is not a number or disagrees with
 * another (400), both Content-Length and Transfer-Encoding (400: the
 * classic request smuggling), a transfer coding other than "chunked"
 * (501), POST/PUT/PATCH without a length (411).
 */
#ifndef SS_PROTO_HTTP_H
#define SS_PROTO_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "spamsift.h"
#include "util/buf.h"

#define HTTP_MAX_LINE 8192      /* bytes of the request line (else 414) */
#define HTTP_MAX_HEAD 16384     /* bytes of request line and header fields (else 431) */
#define HTTP_MAX_HEADERS 64     /* header fields of one request (else 431) */
#define HTTP_MAX_CHUNK_EXT 1024 /* bytes of one chunk-size line's extensions */

typedef enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_PATCH,
	HTTP_TRACE,
	HTTP_CONNECT,
} http_method;

typedef struct http_header {
	ss_str name, value; /* value without surrounding white space */
} http_header;

/* A request's head, valid from HTTP_EV_REQUEST until http_next(). Slices
 * point into the parser and are NUL-terminated. */
typedef struct http_request {
	http_method method;
	ss_str method_text;
	ss_str target; /* as sent */
	ss_str path;   /* target's path ("/check"; of an absolute-form target too, "/" if none) */
	ss_str query;  /* after '?', without it; len 0 when none */
	int minor;     /* HTTP/1.minor: 0 or 1 (1.2-1.9 are read as 1.1) */
	http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	int has_length;      /* Content-Length was given */
	uint64_t length;     /* its value */
	int chunked;         /* Transfer-Encoding: chunked */
	int keep_alive;      /* the connection may carry another request */
	int expect_continue; /* Expect: 100-continue */
} http_request;

typedef enum http_event_kind {
	HTTP_EV_NONE = 0, /* every byte given was consumed; feed more */
	HTTP_EV_REQUEST,  /* the head is complete: see http_parser.req */
	HTTP_EV_BODY,     /* ev.p, ev.len: the next piece of the body */
	HTTP_EV_END,      /* the request is complete */
	HTTP_EV_ERROR,    /* ev.status, ev.text: answer them and close */
} http_event_kind;

typedef struct http_event {
	http_event_kind kind;
	const char *p; /* BODY: slice of the caller's buffer */
	size_t len;
	int status;       /* ERROR: 400, 411, 413, 414, 431, 501, 505 */
	const char *text; /* ERROR: static sentence */
} http_event;

typedef struct http_parser {
	int state;
	size_t max_body;   /* largest body accepted (decoded bytes) */
	size_t head_len;   /* bytes in head[] */
	size_t line_start; /* where the current head line starts in head[] */
	size_t nlines;     /* head lines seen */
	uint64_t left;     /* bytes left: Content-Length body or current chunk */
	uint64_t body_seen;
	size_t ext_len; /* chunk extension or trailer bytes so far */
	int digits;     /* hex digits of the chunk size */
	http_request req;
	char head[HTTP_MAX_HEAD + 1];
} http_parser;

/* Prepares p for a connection whose request bodies may be at most
 * max_body bytes. */
void http_init(http_parser *p, size_t max_body);

/* Consumes bytes of buf[0..len) up to the next event, stores it in *ev
 * (HTTP_EV_NONE when it consumed everything without one), and returns the
 * number of bytes consumed. Call it again with the rest (also with len 0
 * after an event: the end of a request may follow without more bytes)
 * until it gives HTTP_EV_NONE. After END it consumes nothing until
 * http_next(); after ERROR, nothing ever. */
size_t http_feed(http_parser *p, const char *buf, size_t len, http_event *ev);

/* After HTTP_EV_END: forgets the request and waits for the next one. */
void http_next(http_parser *p);

/* Returns whether p is between requests with no byte of the next seen. */
int http_idle(const http_parser *p);

/* The client closed its side. Stores ERROR (400, "request cut short") when
 * a request was under way, NONE otherwise. */
void http_eof(http_parser *p, http_event *ev);

/* The value of the first header field named `name` (case-insensitive), or
 * NULL. Start with *i = 0 and call again for the next field of that name. */
const ss_str *http_header_next(const http_request *r, const char *name, size_t *i);

/* Returns the method's name ("GET"...). */
const char *http_method_name(http_method m);

/* Returns the reason phrase of a status code ("Not Found"), "Unknown"
 * for codes this server never sends. */
const char *http_status_text(int status);

/* A response to format. */
typedef struct http_response {
	int status;
	const char *content_type; /* NULL: no body headers beyond the length */
	const char *extra;        /* more header lines, each ending "\r\n", or NULL */
	const char *body;
	size_t len;
	int close;     /* "Connection: close" (else keep-alive) */
	int head_only; /* HEAD: the headers only, Content-Length of the body */
} http_response;

/* Appends the HTTP/1.1 response r to out. Returns 0 or SS_ENOMEM. */
int http_format(sbuf *out, const http_response *r);

/* Appends the JSON body of an error, {"error":status,"message":text}. */
int http_error_json(sbuf *body, int status, const char *text);

/* Appends a whole error response with that body. */
int http_format_error(sbuf *out, int status, const char *text, int close);

#endif
