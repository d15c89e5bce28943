/*
 * fuzz_milter.c: libFuzzer target for the milter packet parser, fed in
 * pieces whose sizes come from the input: it always ends, every byte is
 * consumed, slices lie inside the piece given or the parser's own packet
 * and never exceed the packet limit, strings are NUL-terminated within
 * them, message commands only come inside a transaction; negotiation and
 * the reply formatters stay within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/milter.h"

#define MAX_PACKET 4096

static int inside(const char *s, size_t n, const char *piece, size_t len, const milter_parser *p)
{
	if (!n)
		return 1;
	if (s >= piece && s + n <= piece + len)
		return 1;
	return p->pkt.p && s >= p->pkt.p && s + n <= p->pkt.p + p->pkt.len;
}

static void check_event(milter_parser *p, const milter_event *ev, const char *piece, size_t n,
                        int *in_msg)
{
	sbuf out = SBUF_INIT;

	if (ev->len >= MAX_PACKET || !inside(ev->p, ev->len, piece, n, p))
		abort();
	if (ev->a && !inside(ev->a, strlen(ev->a) + 1, piece, n, p))
		abort();
	if (ev->b && !inside(ev->b, strlen(ev->b) + 1, piece, n, p))
		abort();
	if (ev->kind == MILTER_EV_ERROR && !ev->text)
		abort();
	if ((ev->kind == MILTER_EV_HEADER || ev->kind == MILTER_EV_BODY ||
	     ev->kind == MILTER_EV_EOH || ev->kind == MILTER_EV_RCPT) &&
	    !*in_msg)
		abort();
	if (ev->kind == MILTER_EV_MAIL)
		*in_msg = 1;
	if (ev->kind == MILTER_EV_BODYEOB || ev->kind == MILTER_EV_ABORT)
		*in_msg = 0;
	if (ev->kind == MILTER_EV_OPTNEG) {
		if (milter_negotiate(p, ev, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL, &out) ||
		    out.len != 17 || p->version > MILTER_VERSION || (p->proto & ~ev->protocol))
			abort();
	}
	if (ev->kind == MILTER_EV_MACRO)
		milter_macro(ev, "j");
	if (ev->kind == MILTER_EV_HEADER && milter_reply_addheader(&out, ev->a, ev->b) == 0 &&
	    out.len < strlen(ev->a) + strlen(ev->b) + 7)
		abort();
	sbuf_release(&out);
}

static void run(const char *data, size_t size, size_t step)
{
	milter_parser p;
	milter_event ev;
	size_t off = 0;
	int in_msg = 0, done = 0;

	milter_init(&p, MAX_PACKET);
	while (off < size && !done) {
		size_t n = size - off < step ? size - off : step, used = 0;
		for (;;) {
			size_t k = milter_feed(&p, data + off + used, n - used, &ev);
			if (k > n - used)
				abort();
			used += k;
			check_event(&p, &ev, data + off, n, &in_msg);
			if (ev.kind == MILTER_EV_NONE)
				break;
			if (ev.kind == MILTER_EV_ERROR || ev.kind == MILTER_EV_QUIT)
				done = 1;
		}
		if (used != n)
			abort();
		off += n;
	}
	if (!done) {
		milter_eof(&p, &ev);
		check_event(&p, &ev, data, 0, &in_msg);
	}
	milter_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	sbuf out = SBUF_INIT;
	char s[64];

	if (!size)
		return 0;
	run(buf + 1, size - 1, (size_t)data[0] % 23 + 1);
	run(buf, size, size);
	memcpy(s, buf, size < sizeof(s) ? size : sizeof(s) - 1);
	s[size < sizeof(s) ? size : sizeof(s) - 1] = 0;
	if (milter_reply_code(&out, s) == 0 &&
	    (!milter_reply_code_ok(s) || out.len < 5 + strlen(s)))
		abort();
	sbuf_release(&out);
	return 0;
}
