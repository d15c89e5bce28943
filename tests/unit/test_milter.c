/*
 * test_milter.c: the milter packet parser (a whole Postfix-like session
 * fed at once and byte by byte, negotiation and the replies it makes
 * expected, order, bad packets, limits, end of input) and the reply
 * formatters.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "proto/milter.h"
#include "spamsift.h"

/* Appends one MTA packet: command and data. */
static void pk(sbuf *b, char cmd, const void *data, size_t len)
{
	unsigned char h[5] = {(unsigned char)((len + 1) >> 24), (unsigned char)((len + 1) >> 16),
	                      (unsigned char)((len + 1) >> 8), (unsigned char)(len + 1),
	                      (unsigned char)cmd};

	sbuf_add(b, h, 5);
	sbuf_add(b, data, len);
}

static void optneg(sbuf *b, uint32_t version, uint32_t actions, uint32_t proto)
{
	unsigned char d[12];
	uint32_t v[3] = {version, actions, proto};

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 4; j++)
			d[i * 4 + j] = (unsigned char)(v[i] >> (24 - 8 * j));
	pk(b, 'O', d, 12);
}

/* A Postfix-like session: negotiation, connect with macros, HELO, MAIL,
 * two RCPTs, two headers, a body in two chunks, end, quit. */
static void session(sbuf *b)
{
	static const char conn[] = "mail.example.com\0004\x30\x39"
	                           "192.0.2.7";
	static const char mac[] = "Cj\0mx.example.org\0{daemon_name}\0smtpd";
	static const char from[] = "<a@example.com>\0SIZE=100";
	static const char hdr[] = "Subject\0 hello there";

	optneg(b, 6, 0x1ff, 0x1fffff);
	pk(b, 'D', mac, sizeof(mac));
	pk(b, 'C', conn, sizeof(conn));
	pk(b, 'H', "helo.example.com", 17);
	pk(b, 'M', from, sizeof(from));
	pk(b, 'R', "<b@example.net>", 16);
	pk(b, 'R', "<c@example.net>", 16);
	pk(b, 'L', hdr, sizeof(hdr));
	pk(b, 'L', "From\0 a@example.com", 20);
	pk(b, 'N', "", 0);
	pk(b, 'B', "hello\r\n", 7);
	pk(b, 'B', "world\r\n", 7);
	pk(b, 'E', "", 0);
	pk(b, 'Q', "", 0);
}

typedef struct run {
	milter_parser p;
	sbuf log;   /* one line per event */
	sbuf body;  /* BODY and BODYEOB data */
	sbuf reply; /* our negotiation reply */
	int error;
	const char *text;
} run;

static void note(run *r, const milter_event *ev)
{
	sbuf *l = &r->log;

	switch (ev->kind) {
	case MILTER_EV_OPTNEG:
		sbuf_addf(l, "optneg %u\n", (unsigned)ev->version);
		milter_negotiate(&r->p, ev, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL, &r->reply);
		break;
	case MILTER_EV_MACRO:
		sbuf_addf(l, "macro %c j=%s\n", ev->for_cmd, milter_macro(ev, "{j}"));
		break;
	case MILTER_EV_CONNECT:
		sbuf_addf(l, "connect %s %c %u %s%s\n", ev->a, ev->family, ev->port, ev->b,
		          ev->reply ? " reply" : "");
		break;
	case MILTER_EV_HEADER:
		sbuf_addf(l, "header %s:%s\n", ev->a, ev->b);
		break;
	case MILTER_EV_BODY:
	case MILTER_EV_BODYEOB:
		sbuf_add(&r->body, ev->p, ev->len);
		sbuf_addf(l, "%s %zu%s\n", ev->kind == MILTER_EV_BODY ? "body" : "eob", ev->len,
		          ev->reply ? " reply" : "");
		break;
	case MILTER_EV_HELO:
	case MILTER_EV_MAIL:
	case MILTER_EV_RCPT:
	case MILTER_EV_UNKNOWN:
		sbuf_addf(l, "%d %s%s\n", ev->kind, ev->a, ev->reply ? " reply" : "");
		break;
	case MILTER_EV_ERROR:
		r->error = 1;
		r->text = ev->text;
		break;
	case MILTER_EV_NONE:
		break;
	default:
		sbuf_addf(l, "%d%s\n", ev->kind, ev->reply ? " reply" : "");
	}
}

/* Feeds s in pieces of `step` bytes (0: all at once); then EOF. */
static void parse(run *r, const char *s, size_t len, size_t step, size_t max)
{
	milter_event ev;

	memset(r, 0, sizeof(*r));
	milter_init(&r->p, max);
	for (size_t off = 0; off < len && !r->error;) {
		size_t n = step && len - off > step ? step : len - off, used = 0;
		do {
			size_t k = milter_feed(&r->p, s + off + used, n - used, &ev);
			CHECK(k <= n - used);
			used += k;
			note(r, &ev);
		} while (ev.kind != MILTER_EV_NONE && !r->error);
		CHECK(used == n || r->error);
		off += n;
	}
	if (!r->error) {
		milter_eof(&r->p, &ev);
		note(r, &ev);
	}
}

static void run_release(run *r)
{
	milter_release(&r->p);
	sbuf_release(&r->log);
	sbuf_release(&r->body);
	sbuf_release(&r->reply);
}

static const char session_log[] = "optneg 6\n"
                                  "macro C j=mx.example.org\n"
                                  "connect mail.example.com 4 12345 192.0.2.7\n"
                                  "4 helo.example.com\n"
                                  "5 <a@example.com>\n"
                                  "6 <b@example.net>\n"
                                  "6 <c@example.net>\n"
                                  "header Subject: hello there\n"
                                  "header From: a@example.com\n"
                                  "9\n"
                                  "body 7\n"
                                  "body 7\n"
                                  "eob 0 reply\n"
                                  "13\n";

TEST(milter_session_whole_and_in_pieces)
{
	sbuf s = SBUF_INIT;

	session(&s);
	for (size_t step = 0; step < 8; step++) {
		run r;
		parse(&r, s.p, s.len, step == 7 ? 13 : step, 0);
		CHECK(!r.error);
		CHECK_SLICE(r.log.p, r.log.len, session_log);
		CHECK_SLICE(r.body.p, r.body.len, "hello\r\nworld\r\n");
		run_release(&r);
	}
	sbuf_release(&s);
}

TEST(milter_negotiation_reply_masks_the_offer)
{
	sbuf s = SBUF_INIT;
	run r;
	/* version 6, actions ADDHDRS|CHGHDRS, the wanted flags within 0x1fffff */
	static const unsigned char want[17] = {0, 0, 0, 13,   'O', 0,    0,    0,   6,
	                                       0, 0, 0, 0x11, 0,   0x1f, 0xf3, 0x80};

	optneg(&s, 6, 0x1ff, 0x1fffff);
	parse(&r, s.p, s.len, 0, 0);
	CHECK(r.reply.len == 17 && !memcmp(r.reply.p, want, 17));
	CHECK(r.p.proto == MILTER_WANT_PROTOCOL);
	run_release(&r);
	sbuf_release(&s);

	/* An MTA of version 2 with no flags on offer: we answer version 2, and
	 * it waits for a reply to every command. */
	sbuf_init(&s);
	optneg(&s, 2, MILTER_ACT_ADDHDRS, 0);
	pk(&s, 'C', "h\0U", 3);
	pk(&s, 'H', "x", 2);
	parse(&r, s.p, s.len, 0, 0);
	CHECK(!r.error);
	CHECK(r.reply.len == 17 && r.reply.p[8] == 2 && r.reply.p[12] == 1 && r.reply.p[16] == 0);
	CHECK_CONTAINS(r.log.p, r.log.len, "connect h U 0  reply");
	CHECK_CONTAINS(r.log.p, r.log.len, "4 x reply");
	run_release(&r);
	sbuf_release(&s);
}

/* Feeds one bad stream and returns the error text (NULL when none). */
static const char *bad(const char *s, size_t len, size_t max)
{
	static char text[80];
	run r;

	parse(&r, s, len, 0, max);
	snprintf(text, sizeof(text), "%s", r.error ? r.text : "");
	run_release(&r);
	return text[0] ? text : NULL;
}

TEST(milter_refuses_garbage_and_bad_packets)
{
	sbuf s = SBUF_INIT;
	const char *t;

	t = bad("GET / HTTP/1.0\r\n\r\n", 18, 0);
	CHECK(t && strstr(t, "longer than the limit"));
	t = bad("\0\0\0\0", 4, 0);
	CHECK(t && strstr(t, "empty packet"));
	t = bad("\0\0\0\1Z", 5, 0);
	CHECK(t && strstr(t, "unknown command"));
	pk(&s, 'C', "h\0U", 3); /* no negotiation first */
	t = bad(s.p, s.len, 0);
	CHECK(t && strstr(t, "option negotiation first"));
	sbuf_reset(&s);
	optneg(&s, 6, 0, 0);
	optneg(&s, 6, 0, 0);
	t = bad(s.p, s.len, 0);
	CHECK(t && strstr(t, "repeated"));
	sbuf_reset(&s);
	pk(&s, 'O', "\0\0\0\6", 4);
	t = bad(s.p, s.len, 0);
	CHECK(t && strstr(t, "too short"));
	sbuf_reset(&s);
	optneg(&s, 1, 0, 0);
	t = bad(s.p, s.len, 0);
	CHECK(t && strstr(t, "version"));
	sbuf_reset(&s);
	optneg(&s, 6, 0, 0);
	pk(&s, 'L', "Subject\0x", 10); /* a header outside MAIL..EOB */
	t = bad(s.p, s.len, 0);
	CHECK(t && strstr(t, "outside a transaction"));
	sbuf_release(&s);
}

/* Every malformed payload of a command that carries strings is refused. */
TEST(milter_refuses_malformed_payloads)
{
	static const struct {
		char cmd;
		const char *data;
		size_t len;
	} cases[] = {
	    {'C', "host", 4},             /* no NUL after the host */
	    {'C', "host\0", 5},           /* no family */
	    {'C', "host\0004\0", 7},      /* no room for port and address */
	    {'C', "host\0004\0\1ip", 10}, /* address without NUL */
	    {'C', "host\0Z\0\1ip", 10},   /* unknown family */
	    {'C', "host\0U\0", 7},        /* data after family U */
	    {'H', "helo", 4},             /* no NUL */
	    {'H', "helo\0x", 6},          /* data after it */
	    {'M', "", 0},                 /* no address */
	    {'M', "<a>\0SIZE", 8},        /* last argument without NUL */
	    {'D', "", 0},                 /* no command byte */
	    {'D', "Cj\0", 3},             /* a name without value */
	    {'A', "x", 1},                /* data where none belongs */
	    {'U', "", 0},                 /* no string */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sbuf s = SBUF_INIT;
		optneg(&s, 6, 0, 0);
		pk(&s, cases[i].cmd, cases[i].data, cases[i].len);
		if (!bad(s.p, s.len, 0)) {
			char m[64];
			snprintf(m, sizeof(m), "case %zu (%c) refused", i, cases[i].cmd);
			test_fail(__FILE__, __LINE__, m);
		}
		sbuf_release(&s);
	}
	for (size_t i = 0; i < 2; i++) { /* in a transaction: headers */
		sbuf s = SBUF_INIT;
		optneg(&s, 6, 0, 0);
		pk(&s, 'M', "<a>", 4);
		pk(&s, 'L', i ? "\0value" : "Name\0value", i ? 7 : 10);
		CHECK(bad(s.p, s.len, 0) != NULL);
		sbuf_release(&s);
	}
}

TEST(milter_packet_limit)
{
	sbuf s = SBUF_INIT;
	char body[100] = {0};
	run r;

	optneg(&s, 6, 0, 0);
	pk(&s, 'M', "<a>", 4);
	pk(&s, 'B', body, 99); /* 100 bytes with the command: at the limit */
	parse(&r, s.p, s.len, 3, 100);
	CHECK(!r.error && r.body.len == 99);
	run_release(&r);
	pk(&s, 'B', body, 100);
	parse(&r, s.p, s.len, 3, 100);
	CHECK(r.error && strstr(r.text, "longer than the limit"));
	run_release(&r);
	sbuf_release(&s);
}

TEST(milter_eof_cut_short_and_after_quit)
{
	sbuf s = SBUF_INIT;
	run r;

	optneg(&s, 6, 0, 0);
	parse(&r, s.p, s.len - 3, 0, 0); /* the packet cut short */
	CHECK(r.error && strstr(r.text, "cut short"));
	run_release(&r);
	parse(&r, s.p, 2, 0, 0); /* the length cut short */
	CHECK(r.error && strstr(r.text, "cut short"));
	run_release(&r);
	parse(&r, s.p, s.len, 0, 0); /* between packets: fine */
	CHECK(!r.error);
	run_release(&r);
	pk(&s, 'Q', "", 0);
	sbuf_add(&s, "garbage after quit", 18);
	parse(&r, s.p, s.len, 0, 0);
	CHECK(!r.error);
	CHECK_CONTAINS(r.log.p, r.log.len, "13\n");
	run_release(&r);
	sbuf_release(&s);
}

TEST(milter_abort_and_quit_nc_end_the_transaction)
{
	sbuf s = SBUF_INIT;
	run r;

	optneg(&s, 6, 0, 0);
	pk(&s, 'M', "<a>", 4);
	pk(&s, 'A', "", 0);
	pk(&s, 'M', "<b>", 4);
	pk(&s, 'K', "", 0);
	pk(&s, 'C', "h\0U", 3);
	pk(&s, 'E', "", 0); /* end of body without MAIL */
	parse(&r, s.p, s.len, 1, 0);
	CHECK(r.error && strstr(r.text, "outside a transaction"));
	CHECK_CONTAINS(r.log.p, r.log.len, "connect h U 0");
	run_release(&r);
	sbuf_release(&s);
}

TEST(milter_replies)
{
	sbuf o = SBUF_INIT;

	CHECK(milter_reply(&o, 'c') == 0);
	CHECK(o.len == 5 && !memcmp(o.p, "\0\0\0\1c", 5));
	sbuf_reset(&o);
	CHECK(milter_reply_addheader(&o, "X-Spam-Score", " 1.5") == 0);
	CHECK(o.len == 4 + 1 + 13 + 5 && !memcmp(o.p, "\0\0\0\x13hX-Spam-Score\0 1.5\0", o.len));
	sbuf_reset(&o);
	CHECK(milter_reply_chgheader(&o, 2, "X-Spam-Flag", "") == 0);
	CHECK(o.len == 4 + 1 + 4 + 12 + 1 &&
	      !memcmp(o.p, "\0\0\0\x12m\0\0\0\2X-Spam-Flag\0\0", o.len));
	sbuf_reset(&o);
	CHECK(milter_reply_insheader(&o, 0, "X-A", "b") == 0);
	CHECK(o.len == 4 + 1 + 4 + 4 + 2 && o.p[4] == 'i');
	sbuf_reset(&o);
	CHECK(milter_reply_addheader(&o, "Bad:Name", "x") == SS_EINVAL);
	CHECK(milter_reply_addheader(&o, "", "x") == SS_EINVAL);
	CHECK(milter_reply_addheader(&o, "X-A", "line\r\nX-Injected: 1") == SS_EINVAL);
	CHECK(milter_reply_addheader(&o, "X-A", "a\rb") == SS_EINVAL);
	CHECK(milter_reply_addheader(&o, "X-A", "folded\r\n\tline") == 0);
	sbuf_reset(&o);
	CHECK(milter_reply_code(&o, "550 5.7.1 100% spam") == 0);
	CHECK(o.len == 4 + 1 + 21 && !memcmp(o.p + 4, "y550 5.7.1 100%% spam\0", 22));
	sbuf_release(&o);
}

TEST(milter_reply_code_checks)
{
	CHECK(milter_reply_code_ok("550 5.7.1 Message rejected as spam"));
	CHECK(milter_reply_code_ok("451 4.7.1 Try again later"));
	CHECK(milter_reply_code_ok("554 5.7.255 x"));
	CHECK(!milter_reply_code_ok("550 Message rejected"));       /* no enhanced code */
	CHECK(!milter_reply_code_ok("550 4.7.1 Message rejected")); /* class differs */
	CHECK(!milter_reply_code_ok("250 2.0.0 ok"));               /* not a refusal */
	CHECK(!milter_reply_code_ok("550-5.7.1 more"));             /* multi-line */
	CHECK(!milter_reply_code_ok("550 5.7.1 "));                 /* no text */
	CHECK(!milter_reply_code_ok("550 5.7.1 a\r\n250 ok"));      /* line break */
	CHECK(!milter_reply_code_ok("550 5.7.1234 x"));             /* 4-digit part */
	CHECK(!milter_reply_code_ok(""));
}

TEST(milter_macro_lookup)
{
	static const char mac[] = "C_\0client [192.0.2.1]\0{daemon_name}\0smtpd\0i\0ABC123";
	milter_event ev = {0};

	ev.kind = MILTER_EV_MACRO;
	ev.p = mac + 1;
	ev.len = sizeof(mac) - 1;
	CHECK(milter_macro(&ev, "_") && !strcmp(milter_macro(&ev, "_"), "client [192.0.2.1]"));
	CHECK(milter_macro(&ev, "daemon_name") &&
	      !strcmp(milter_macro(&ev, "daemon_name"), "smtpd"));
	CHECK(milter_macro(&ev, "{i}") && !strcmp(milter_macro(&ev, "{i}"), "ABC123"));
	CHECK(milter_macro(&ev, "j") == NULL);
	CHECK(!strcmp(milter_cmd_name('L'), "header") && !strcmp(milter_cmd_name('z'), "?"));
}

/* Found by fuzz_milter: an error event kept the slices of the half-decoded
 * packet (the host of a connect with a bad family). */
TEST(milter_error_event_has_no_slices)
{
	sbuf s = SBUF_INIT;
	milter_parser p;
	milter_event ev;
	size_t off = 0;

	optneg(&s, 6, 0, 0);
	pk(&s, 'C', "host\0002\0\1ip", 11);
	milter_init(&p, 0);
	do
		off += milter_feed(&p, s.p + off, s.len - off, &ev);
	while (ev.kind != MILTER_EV_NONE && ev.kind != MILTER_EV_ERROR);
	CHECK(ev.kind == MILTER_EV_ERROR && !ev.a && !ev.b && !ev.p && ev.text);
	milter_release(&p);
	sbuf_release(&s);
}
