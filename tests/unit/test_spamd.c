/*
 * test_spamd.c: the spamd request parser (whole requests, byte-by-byte
 * feeding, every header, errors and limits, end of input) and the replies
 * spamc parses.
 */
#include <stdlib.h>
#include <zlib.h>

#include "harness.h"
#include "proto/spamd.h"

typedef struct parsed {
	spamd_parser p;
	int request, end, error, code;
	const char *text;
	sbuf body;
} parsed;

/* Feeds s in pieces of `step` bytes (0: all at once), then EOF when eof. */
static void parse(parsed *x, const char *s, size_t len, size_t step, int eof, size_t max)
{
	spamd_event ev;

	memset(x, 0, sizeof(*x));
	spamd_init(&x->p, max);
	for (size_t off = 0; off < len && !x->end && !x->error;) {
		size_t n = step && len - off > step ? step : len - off, used = 0;
		do {
			used += spamd_feed(&x->p, s + off + used, n - used, &ev);
			x->request += ev.kind == SPAMD_EV_REQUEST;
			x->end += ev.kind == SPAMD_EV_END;
			if (ev.kind == SPAMD_EV_BODY)
				sbuf_add(&x->body, ev.p, ev.len);
			if (ev.kind == SPAMD_EV_ERROR) {
				x->error = 1;
				x->code = ev.code;
				x->text = ev.text;
			}
		} while (ev.kind != SPAMD_EV_NONE && !x->end && !x->error);
		off += n;
	}
	if (eof && !x->end && !x->error) {
		spamd_eof(&x->p, &ev);
		x->end += ev.kind == SPAMD_EV_END;
		if (ev.kind == SPAMD_EV_ERROR) {
			x->error = 1;
			x->code = ev.code;
			x->text = ev.text;
		}
	}
}

static const char check_req[] = "CHECK SPAMC/1.5\r\nUser: alice\r\nContent-length: 23\r\n\r\n"
                                "Subject: hi\r\n\r\nhello!\r\n";

TEST(spamd_check_request_whole_and_byte_by_byte)
{
	for (size_t step = 0; step < 3; step++) {
		parsed x;
		parse(&x, check_req, strlen(check_req), step, 0, 1000);
		CHECK(x.request == 1 && x.end == 1 && !x.error);
		CHECK(x.p.req.cmd == SPAMD_CHECK && x.p.req.major == 1 && x.p.req.minor == 5);
		CHECK(!strcmp(x.p.req.user, "alice"));
		CHECK(x.p.req.has_length && x.p.req.length == 23);
		CHECK_SLICE(x.body.p, x.body.len, "Subject: hi\r\n\r\nhello!\r\n");
		sbuf_release(&x.body);
	}
}

TEST(spamd_every_command_and_tell_headers)
{
	static const char *const cmds[] = {"CHECK",   "SYMBOLS", "REPORT", "REPORT_IFSPAM",
	                                   "PROCESS", "HEADERS", "PING",   "SKIP"};
	static const char tell1[] =
	    "TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local, remote\r\n"
	    "Content-length: 3\r\n\r\nabc";
	static const char tell2[] =
	    "TELL SPAMC/1.5\r\nremove:  local\r\ncompress: zlib\r\nX-Other: 1\r\n\r\n";
	char req[256];
	parsed x;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(req, sizeof(req), "%s SPAMC/1.2\r\nContent-length: 0\r\n\r\n", cmds[i]);
		parse(&x, req, strlen(req), 0, 1, 100);
		CHECK(x.request == 1 && !x.error && (int)x.p.req.cmd == (int)i);
		CHECK(!strcmp(spamd_cmd_name(x.p.req.cmd), cmds[i]));
	}
	parse(&x, tell1, strlen(tell1), 0, 0, 100);
	CHECK(x.request && x.end && x.p.req.cmd == SPAMD_TELL);
	CHECK(x.p.req.msg_class == SPAMD_CLASS_SPAM && x.p.req.set == (SPAMD_LOCAL | SPAMD_REMOTE));
	sbuf_release(&x.body);
	parse(&x, tell2, strlen(tell2), 0, 1, 100);
	CHECK(x.request && x.end && x.p.req.remove == SPAMD_LOCAL && x.p.req.compressed);
}

TEST(spamd_ping_needs_no_header_block)
{
	parsed x;

	parse(&x, "PING SPAMC/1.2\r\n", 16, 0, 0, 100);
	CHECK(x.request == 1 && !x.error && x.p.req.cmd == SPAMD_PING);
	CHECK(!spamd_has_body(SPAMD_PING) && spamd_has_body(SPAMD_TELL));
}

TEST(spamd_body_without_length_runs_to_eof)
{
	parsed x;

	parse(&x, "CHECK SPAMC/1.0\nSubject: x\n", 27, 0, 0, 100); /* LF only: a header */
	CHECK(!x.error && !x.request);
	parse(&x, "CHECK SPAMC/1.0\n\nSubject: x\n\nbody", 33, 5, 1, 100);
	CHECK(x.request && x.end && !x.error);
	CHECK_SLICE(x.body.p, x.body.len, "Subject: x\n\nbody");
	sbuf_release(&x.body);
}

static void expect_error(const char *req, size_t max, int code, const char *text)
{
	parsed x;

	parse(&x, req, strlen(req), 0, 1, max);
	CHECK(x.error && x.code == code);
	if (x.error && x.text && !strstr(x.text, text)) {
		char m[300];
		snprintf(m, sizeof(m), "error \"%s\" for \"%.60s\"", x.text, req);
		test_fail(__FILE__, __LINE__, m);
	}
	sbuf_release(&x.body);
}

TEST(spamd_bad_requests_are_errors)
{
	expect_error("HELLO SPAMC/1.5\r\n\r\n", 100, SPAMD_EX_PROTOCOL, "request line");
	expect_error("CHECK\r\n\r\n", 100, SPAMD_EX_PROTOCOL, "request line");
	expect_error("CHECK HTTP/1.1\r\n\r\n", 100, SPAMD_EX_PROTOCOL, "request line");
	expect_error("CHECK SPAMC/x.5\r\n\r\n", 100, SPAMD_EX_PROTOCOL, "request line");
	expect_error("check SPAMC/1.5\r\n\r\n", 100, SPAMD_EX_PROTOCOL, "request line");
	expect_error("\x01\x02garbage\xff\n", 100, SPAMD_EX_PROTOCOL, "request line");
	expect_error("CHECK SPAMC/1.5\r\nno colon here\r\n\r\n", 100, SPAMD_EX_PROTOCOL,
	             "bad header line");
	expect_error("CHECK SPAMC/1.5\r\nContent-length: 12x\r\n\r\n", 100, SPAMD_EX_PROTOCOL,
	             "Content-length");
	expect_error("CHECK SPAMC/1.5\r\nContent-length: -1\r\n\r\n", 100, SPAMD_EX_PROTOCOL,
	             "Content-length");
	expect_error("CHECK SPAMC/1.5\r\nUser: a b\r\n\r\n", 100, SPAMD_EX_PROTOCOL, "User");
	expect_error("CHECK SPAMC/1.5\r\nUser: ../etc\r\n\r\n", 100, SPAMD_EX_PROTOCOL, "User");
	expect_error("CHECK SPAMC/1.5\r\nCompress: gzip\r\n\r\n", 100, SPAMD_EX_PROTOCOL,
	             "Compress");
	expect_error("TELL SPAMC/1.5\r\nMessage-class: eggs\r\n\r\n", 100, SPAMD_EX_PROTOCOL,
	             "Message-class");
	expect_error("TELL SPAMC/1.5\r\nSet: cloud\r\n\r\n", 100, SPAMD_EX_PROTOCOL, "Set");
	expect_error("TELL SPAMC/1.5\r\nContent-length: 0\r\n\r\n", 100, SPAMD_EX_PROTOCOL,
	             "without Set");
	expect_error("TELL SPAMC/1.5\r\nSet: local\r\n\r\n", 100, SPAMD_EX_PROTOCOL,
	             "without Message-class");
}

TEST(spamd_limits)
{
	char big[SPAMD_MAX_LINE + 64];
	sbuf many = SBUF_INIT;

	expect_error("CHECK SPAMC/1.5\r\nContent-length: 101\r\n\r\n", 100, SPAMD_EX_DATAERR,
	             "too big");
	expect_error("CHECK SPAMC/1.5\r\n\r\n01234567890", 10, SPAMD_EX_DATAERR, "too big");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "CHECK SPAMC/1.5\r\nX: ", 20);
	expect_error(big, 100, SPAMD_EX_PROTOCOL, "line too long");
	sbuf_adds(&many, "CHECK SPAMC/1.5\r\n");
	for (int i = 0; i <= SPAMD_MAX_HEADERS; i++)
		sbuf_adds(&many, "X-A: b\r\n");
	expect_error(many.p, 100, SPAMD_EX_PROTOCOL, "too many");
	sbuf_release(&many);
}

TEST(spamd_cut_short_is_an_error_at_eof)
{
	parsed x;

	expect_error("CHECK SPAMC/1.5\r\nContent-length: 50\r\n\r\nshort", 100, SPAMD_EX_PROTOCOL,
	             "cut short");
	expect_error("CHECK SPAMC/1.5\r\nUser: al", 100, SPAMD_EX_PROTOCOL, "cut short");
	parse(&x, "", 0, 0, 1, 100); /* connected, sent nothing, left: no error */
	CHECK(!x.error && !x.request);
}

TEST(spamd_after_the_request_bytes_are_ignored)
{
	parsed x;
	spamd_event ev;

	parse(&x, "PING SPAMC/1.5\r\n", 16, 0, 0, 100);
	CHECK(spamd_feed(&x.p, "\r\nmore", 6, &ev) == 6 && ev.kind == SPAMD_EV_NONE);
}

TEST(spamd_replies_as_spamc_reads_them)
{
	spamd_request req = {0};
	ss_str h[2] = {{"X-Spam-Flag: YES", 16}, {"X-Spam-Score: 7.50", 18}};
	spamd_verdict v = {1, 7.5, 5.0, "A,B", "report text\n", 12, h, 2};
	const char msg[] = "Subject: x\r\nX-Spam-Flag: NO\r\n\r\nbody\r\n";
	sbuf o = SBUF_INIT;

	req.cmd = SPAMD_CHECK;
	CHECK(spamd_reply_scan(&o, &req, &v, msg, strlen(msg)) == 0);
	CHECK_SLICE(o.p, o.len, "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.5 / 5.0\r\n\r\n");
	sbuf_reset(&o);
	req.cmd = SPAMD_SYMBOLS;
	spamd_reply_scan(&o, &req, &v, msg, strlen(msg));
	CHECK_SLICE(o.p, o.len,
	            "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.5 / 5.0\r\nContent-length: 3\r\n\r\nA,B");
	sbuf_reset(&o);
	req.cmd = SPAMD_REPORT_IFSPAM;
	v.is_spam = 0;
	spamd_reply_scan(&o, &req, &v, msg, strlen(msg));
	CHECK_SLICE(o.p, o.len,
	            "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 7.5 / 5.0\r\nContent-length: 0\r\n\r\n");
	sbuf_reset(&o);
	req.cmd = SPAMD_PROCESS;
	spamd_reply_scan(&o, &req, &v, msg, strlen(msg));
	CHECK_CONTAINS(o.p, o.len,
	               "Content-length: 58\r\n\r\nSubject: x\r\nX-Spam-Flag: YES\r\n"
	               "X-Spam-Score: 7.50\r\n\r\nbody\r\n");
	sbuf_reset(&o);
	req.cmd = SPAMD_HEADERS;
	spamd_reply_scan(&o, &req, &v, msg, strlen(msg));
	CHECK_CONTAINS(o.p, o.len,
	               "Content-length: 52\r\n\r\nSubject: x\r\nX-Spam-Flag: YES\r\n"
	               "X-Spam-Score: 7.50\r\n\r\n");
	CHECK(o.len > 4 && !memcmp(o.p + o.len - 4, "\r\n\r\n", 4));
	sbuf_reset(&o);
	spamd_reply_tell(&o, SPAMD_LOCAL, 0);
	CHECK_SLICE(o.p, o.len, "SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\nContent-length: 0\r\n\r\n");
	sbuf_reset(&o);
	spamd_reply_error(&o, SPAMD_EX_PROTOCOL, "bad request line");
	CHECK_SLICE(o.p, o.len, "SPAMD/1.0 76 EX_PROTOCOL bad request line\r\n");
	sbuf_release(&o);
}

TEST(spamd_add_headers_keeps_lf_mbox_and_headerless_bodies)
{
	ss_str h[1] = {{"X-Spam-Level: **", 16}};
	sbuf o = SBUF_INIT;
	const char lf[] = "From a@b Mon Jan  1 00:00:00 2024\nSubject: s\n x-spam-level: ***\n"
	                  "To: t\n\nbody\n";

	CHECK(spamd_add_headers(&o, lf, strlen(lf), h, 1, 0) == 0);
	CHECK_SLICE(o.p, o.len,
	            "From a@b Mon Jan  1 00:00:00 2024\nSubject: s\n x-spam-level: ***\nTo: t\n"
	            "X-Spam-Level: **\n\nbody\n");
	sbuf_reset(&o);
	CHECK(spamd_add_headers(&o, "Subject: s\nX-Spam-LEVEL: 9\n", 27, h, 1, 0) == 0);
	CHECK_SLICE(o.p, o.len, "Subject: s\nX-Spam-Level: **\n");
	sbuf_reset(&o);
	CHECK(spamd_add_headers(&o, "Subject: s", 10, h, 1, 0) == 0);
	CHECK_SLICE(o.p, o.len, "Subject: s\nX-Spam-Level: **\n");
	sbuf_release(&o);
}

TEST(spamd_inflate_limits_and_damage)
{
	const char text[] = "Subject: zipped\r\n\r\nthe same words the same words the same\r\n";
	unsigned char z[256];
	uLongf zl = sizeof(z);
	sbuf o = SBUF_INIT;

	CHECK(compress(z, &zl, (const Bytef *)text, sizeof(text) - 1) == Z_OK);
	CHECK(spamd_inflate((const char *)z, zl, 1000, &o) == 0);
	CHECK_SLICE(o.p, o.len, text);
	sbuf_reset(&o);
	CHECK(spamd_inflate((const char *)z, zl, 10, &o) == 1);
	sbuf_reset(&o);
	CHECK(spamd_inflate((const char *)z, zl / 2, 1000, &o) == SS_ESYNTAX);
	sbuf_reset(&o);
	CHECK(spamd_inflate("not zlib at all", 15, 1000, &o) == SS_ESYNTAX);
	sbuf_release(&o);
}
