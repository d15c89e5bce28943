/*
 * test_http.c: the HTTP/1.1 request parser (whole requests and byte by
 * byte, Content-Length and chunked bodies, keep-alive and pipelining,
 * every error status and every limit, end of input) and the response
 * formatter.
 */
#include <stdlib.h>

#include "harness.h"
#include "proto/http.h"

typedef struct parsed {
	http_parser p;
	int requests, ends, error, status;
	const char *text;
	sbuf body;
	http_method methods[8];
	char paths[8][64];
	int keep[8];
} parsed;

static void on_event(parsed *x, const http_event *ev)
{
	if (ev->kind == HTTP_EV_REQUEST && x->requests < 8) {
		x->methods[x->requests] = x->p.req.method;
		snprintf(x->paths[x->requests], sizeof(x->paths[0]), "%s", x->p.req.path.p);
		x->paths[x->requests][x->p.req.path.len < 63 ? x->p.req.path.len : 63] = 0;
		x->keep[x->requests] = x->p.req.keep_alive;
	}
	x->requests += ev->kind == HTTP_EV_REQUEST;
	if (ev->kind == HTTP_EV_BODY)
		sbuf_add(&x->body, ev->p, ev->len);
	if (ev->kind == HTTP_EV_END) {
		x->ends++;
		http_next(&x->p);
	}
	if (ev->kind == HTTP_EV_ERROR) {
		x->error = 1;
		x->status = ev->status;
		x->text = ev->text;
	}
}

/* Feeds s in pieces of `step` bytes (0: all at once), then EOF when eof.
 * Every END is followed by http_next() (pipelining). */
static void parse(parsed *x, const char *s, size_t len, size_t step, int eof, size_t max)
{
	http_event ev;

	memset(x, 0, sizeof(*x));
	http_init(&x->p, max);
	for (size_t off = 0; off < len && !x->error;) {
		size_t n = step && len - off > step ? step : len - off, used = 0;
		do {
			size_t k = http_feed(&x->p, s + off + used, n - used, &ev);
			CHECK(k <= n - used);
			used += k;
			on_event(x, &ev);
		} while (ev.kind != HTTP_EV_NONE && !x->error);
		CHECK(x->error || used == n);
		off += n;
	}
	if (eof && !x->error) {
		http_eof(&x->p, &ev);
		on_event(x, &ev);
	}
}

static void parse_str(parsed *x, const char *s, size_t step)
{
	parse(x, s, strlen(s), step, 0, 1000);
}

static void parse_eof(parsed *x, const char *s)
{
	parse(x, s, strlen(s), 0, 1, 10);
}

static const char post[] = "POST /check?x=1 HTTP/1.1\r\nHost: a\r\nX-Rcpt-To: a@b\r\n"
                           "x-rcpt-to:  c@d  \r\nContent-Length: 23\r\n\r\n"
                           "Subject: hi\r\n\r\nhello!\r\n";

TEST(http_post_whole_and_byte_by_byte)
{
	for (size_t step = 0; step < 4; step++) {
		parsed x;
		parse_str(&x, post, step);
		CHECK(!x.error && x.requests == 1 && x.ends == 1);
		CHECK(x.methods[0] == HTTP_POST);
		CHECK(!strcmp(x.paths[0], "/check"));
		CHECK_SLICE(x.body.p, x.body.len, "Subject: hi\r\n\r\nhello!\r\n");
		CHECK(x.keep[0] == 1);
		sbuf_release(&x.body);
	}
}

TEST(http_request_fields)
{
	parsed x;
	http_event ev;
	const ss_str *v;
	size_t i = 0;

	memset(&x, 0, sizeof(x));
	http_init(&x.p, 1000);
	CHECK(http_feed(&x.p, post, strlen(post), &ev) == strlen(post) - 23);
	CHECK(ev.kind == HTTP_EV_REQUEST);
	CHECK_STR(x.p.req.query, "x=1");
	CHECK_STR(x.p.req.target, "/check?x=1");
	CHECK_STR(x.p.req.method_text, "POST");
	CHECK(x.p.req.has_length && x.p.req.length == 23 && !x.p.req.chunked);
	CHECK(x.p.req.nheaders == 4);
	v = http_header_next(&x.p.req, "X-RCPT-TO", &i);
	CHECK(v && v->len == 3 && !strcmp(v->p, "a@b"));
	v = http_header_next(&x.p.req, "X-Rcpt-To", &i);
	CHECK(v && !strcmp(v->p, "c@d")); /* trimmed and NUL-terminated */
	CHECK(!http_header_next(&x.p.req, "X-Rcpt-To", &i));
	CHECK(!strcmp(x.p.req.headers[0].name.p, "Host"));
}

TEST(http_get_without_body_and_lf_only)
{
	parsed x;

	parse_str(&x, "GET /health HTTP/1.1\nHost: x\n\n", 0);
	CHECK(!x.error && x.requests == 1 && x.ends == 1 && x.body.len == 0);
	CHECK(x.methods[0] == HTTP_GET && !strcmp(x.paths[0], "/health"));
	parse_str(&x, "\r\n\r\nGET / HTTP/1.0\r\n\r\n", 1); /* leading CRLFs, no Host in 1.0 */
	CHECK(!x.error && x.ends == 1 && x.keep[0] == 0);
	CHECK(http_idle(&x.p));
}

TEST(http_absolute_form_and_asterisk)
{
	parsed x;

	parse_str(&x, "GET http://h:1/metrics?a HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	CHECK(!x.error && !strcmp(x.paths[0], "/metrics"));
	parse_str(&x, "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	CHECK(!x.error && !strcmp(x.paths[0], "/"));
	parse_str(&x, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	CHECK(!x.error && x.methods[0] == HTTP_OPTIONS);
	parse_str(&x, "GET https:// HTTP/1.0\r\n\r\n", 0); /* found by fuzz_http */
	CHECK(x.error && x.status == 400);
	parse_str(&x, "GET check HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	CHECK(x.error && x.status == 400);
}

static const char chunked[] = "POST /learn/spam HTTP/1.1\r\nHost: a\r\n"
                              "Transfer-Encoding: Chunked\r\n\r\n"
                              "5;name=val\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n"
                              "0\r\nX-Trailer: yes\r\n\r\n";

TEST(http_chunked_body_any_split)
{
	for (size_t step = 0; step < 5; step++) {
		parsed x;
		parse_str(&x, chunked, step);
		CHECK(!x.error && x.requests == 1 && x.ends == 1);
		CHECK_SLICE(x.body.p, x.body.len, "hello 0123456789");
		sbuf_release(&x.body);
	}
}

TEST(http_chunked_errors_and_limits)
{
	static const char *const bad[] = {
	    "zz\r\n",        /* not hex */
	    "\r\n",          /* no digits */
	    "3\r\nabcX\r\n", /* no CRLF after data */
	    "3\rX",          /* CR without LF */
	    "3;\x01\r\n",    /* control byte in an extension */
	    "0\r\n\r\x01",   /* bad final CRLF */
	};
	const char *head = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
	char buf[2200];
	parsed x;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", head, bad[i]);
		parse_str(&x, buf, 0);
		CHECK(x.error && x.status == 400);
		sbuf_release(&x.body);
	}
	/* the sum of chunks is bounded, and so is one huge size */
	snprintf(buf, sizeof(buf), "%s%s", head, "3e8\r\n");
	parse_str(&x, buf, 0);
	CHECK(!x.error);
	snprintf(buf, sizeof(buf), "%s%s", head, "3e9\r\n");
	parse_str(&x, buf, 0);
	CHECK(x.error && x.status == 413);
	snprintf(buf, sizeof(buf), "%s%s", head, "fffffffffffffffffffffff\r\n");
	parse_str(&x, buf, 1);
	CHECK(x.error && x.status == 413);
	snprintf(buf, sizeof(buf), "%s%s", head, "2\r\nab\r\n3e7\r\n");
	parse_str(&x, buf, 0);
	CHECK(x.error && x.status == 413); /* 2 + 999 > 1000 */
	sbuf_release(&x.body);
	/* extensions are bounded */
	memset(buf, 0, sizeof(buf));
	snprintf(buf, sizeof(buf), "%s1;", head);
	memset(buf + strlen(buf), 'e', HTTP_MAX_CHUNK_EXT + 10);
	parse_str(&x, buf, 0);
	CHECK(x.error && x.status == 400);
}

TEST(http_keep_alive_and_pipelining)
{
	const char *s = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
	                "POST /check HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
	                "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	                "GET /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";

	for (size_t step = 0; step < 3; step++) {
		parsed x;
		parse_str(&x, s, step ? step * 7 : 0);
		CHECK(!x.error && x.requests == 4 && x.ends == 4);
		CHECK(!strcmp(x.paths[0], "/health") && !strcmp(x.paths[1], "/check"));
		CHECK(!strcmp(x.paths[2], "/metrics") && !strcmp(x.paths[3], "/x"));
		CHECK(x.keep[0] && x.keep[1] && !x.keep[2] && x.keep[3]);
		CHECK_SLICE(x.body.p, x.body.len, "abc");
		sbuf_release(&x.body);
	}
}

TEST(http_waits_for_next_after_end)
{
	http_parser p;
	http_event ev;
	const char *two = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t n;

	http_init(&p, 10);
	n = http_feed(&p, two, strlen(two), &ev);
	CHECK(ev.kind == HTTP_EV_REQUEST && n == strlen(two) / 2);
	CHECK(http_feed(&p, two + n, strlen(two) - n, &ev) == 0 && ev.kind == HTTP_EV_END);
	CHECK(http_feed(&p, two + n, strlen(two) - n, &ev) == 0 && ev.kind == HTTP_EV_NONE);
	CHECK(http_idle(&p));
	http_next(&p);
	CHECK(http_feed(&p, two + n, strlen(two) - n, &ev) == strlen(two) - n);
	CHECK(ev.kind == HTTP_EV_REQUEST && p.req.path.len == 2);
}

typedef struct bad_case {
	const char *req;
	int status;
} bad_case;

TEST(http_errors_map_to_statuses)
{
	static const bad_case cases[] = {
	    {"HELLO WORLD\r\n\r\n", 400},
	    {"GET /\r\n\r\n", 400}, /* HTTP/0.9 */
	    {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\n\r\n", 400}, /* no Host */
	    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01 b\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},
	    {"GET /\x80 HTTP/1.1\r\n", 400},
	    {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400}, /* TLS hello */
	    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400},
	    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
	    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400},
	    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	     400},
	    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	    {"POST / HTTP/1.1\r\nHost: a\r\n\r\n", 411},
	    {"PUT / HTTP/1.1\r\nHost: a\r\n\r\n", 411},
	    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n", 413},
	    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413},
	    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
	    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	     501},
	    {"BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 501},
	    {"get / HTTP/1.1\r\nHost: a\r\n\r\n", 501}, /* methods are case-sensitive */
	    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
	    {"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},
	    {"GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t step = 0; step < 2; step++) {
			parsed x;
			parse_str(&x, cases[i].req, step);
			if (!x.error || x.status != cases[i].status) {
				char m[160];
				snprintf(m, sizeof(m), "case %zu step %zu: status %d, wanted %d", i,
				         step, x.status, cases[i].status);
				test_fail(__FILE__, __LINE__, m);
			}
			CHECK(x.requests == 0 && x.text && *x.text);
			sbuf_release(&x.body);
		}
	}
}

TEST(http_head_limits)
{
	char *buf = malloc(HTTP_MAX_HEAD * 2);
	parsed x;
	size_t n;

	/* request line: 414 */
	n = (size_t)sprintf(buf, "GET /");
	memset(buf + n, 'a', HTTP_MAX_LINE);
	n += HTTP_MAX_LINE;
	n += (size_t)sprintf(buf + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
	parse(&x, buf, n, 0, 0, 10);
	CHECK(x.error && x.status == 414);
	parse(&x, buf, n, 1000, 0, 10);
	CHECK(x.error && x.status == 414);
	/* just under the line limit is fine */
	n = (size_t)sprintf(buf, "GET /");
	memset(buf + n, 'a', HTTP_MAX_LINE - 20);
	n += HTTP_MAX_LINE - 20;
	n += (size_t)sprintf(buf + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
	parse(&x, buf, n, 0, 0, 10);
	CHECK(!x.error && x.ends == 1);
	/* one long field: 431 */
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(buf + n, 'b', HTTP_MAX_HEAD);
	n += HTTP_MAX_HEAD;
	n += (size_t)sprintf(buf + n, "\r\n\r\n");
	parse(&x, buf, n, 0, 0, 10);
	CHECK(x.error && x.status == 431);
	/* too many fields: 431; exactly the maximum: fine */
	for (int many = 0; many < 2; many++) {
		n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\n");
		for (int i = 1; i < HTTP_MAX_HEADERS + many; i++)
			n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
		n += (size_t)sprintf(buf + n, "\r\n");
		parse(&x, buf, n, 3, 0, 10);
		CHECK(many ? x.error && x.status == 431 : !x.error && x.ends == 1);
	}
	free(buf);
}

TEST(http_body_limit_exact)
{
	parsed x;

	parse_str(&x, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n", 0);
	CHECK(!x.error && x.requests == 1 && x.ends == 0);
	CHECK(x.p.req.expect_continue == 0);
	parse_str(&x,
	          "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 0\r\n\r\n",
	          0);
	CHECK(!x.error && x.ends == 1 && x.p.req.expect_continue == 0); /* reset by next */
}

TEST(http_expect_continue)
{
	http_parser p;
	http_event ev;
	const char *s =
	    "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";

	http_init(&p, 10);
	http_feed(&p, s, strlen(s), &ev);
	CHECK(ev.kind == HTTP_EV_REQUEST && p.req.expect_continue);
}

TEST(http_eof_cases)
{
	parsed x;

	parse_eof(&x, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(!x.error && x.ends == 1); /* eof between requests: nothing to say */
	parse_eof(&x, "GET / HTTP/1.1\r\nHo");
	CHECK(x.error && x.status == 400 && !strcmp(x.text, "request cut short"));
	parse_eof(&x, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc");
	CHECK(x.error && x.status == 400 && x.requests == 1);
	sbuf_release(&x.body);
	parse_eof(&x, "");
	CHECK(!x.error);
}

TEST(http_format_response)
{
	sbuf b = SBUF_INIT;
	http_response r = {200, "application/json", "Allow: GET\r\n", "{}", 2, 0, 0};

	CHECK(http_format(&b, &r) == 0);
	CHECK_SLICE(b.p, b.len,
	            "HTTP/1.1 200 OK\r\nServer: spamsiftd/" SS_VERSION
	            "\r\nContent-Type: application/json\r\nAllow: GET\r\n"
	            "Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}");
	sbuf_reset(&b);
	r.head_only = 1;
	r.close = 1;
	r.extra = NULL;
	CHECK(http_format(&b, &r) == 0);
	CHECK_CONTAINS(b.p, b.len, "Content-Length: 2\r\nConnection: close\r\n\r\n");
	CHECK(b.p[b.len - 1] == '\n');
	sbuf_reset(&b);
	CHECK(http_format_error(&b, 413, "too \"big\"", 1) == 0);
	CHECK_CONTAINS(b.p, b.len, "HTTP/1.1 413 Content Too Large\r\n");
	CHECK_CONTAINS(b.p, b.len, "{\"error\":413,\"message\":\"too \\\"big\\\"\"}\n");
	sbuf_release(&b);
	CHECK(!strcmp(http_status_text(431), "Request Header Fields Too Large"));
	CHECK(!strcmp(http_method_name(HTTP_DELETE), "DELETE"));
}
