/*
 * fuzz_spamd.c: libFuzzer target for the spamd request parser, fed in
 * pieces whose sizes come from the input: the parser always ends, body
 * slices lie inside the piece given, the body never exceeds its limit nor
 * the Content-length, every byte is consumed, events follow the protocol's
 * order; and the header rewriting and zlib inflation of the same bytes
 * stay within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/spamd.h"

#define MAX_BODY 4096

static void check_event(const spamd_parser *p, const spamd_event *ev, const char *piece, size_t n,
                        size_t *body, int *seen_request)
{
	if (ev->kind == SPAMD_EV_BODY) {
		if (!*seen_request || ev->p < piece || ev->p + ev->len > piece + n || !ev->len)
			abort();
		*body += ev->len;
		if (*body > MAX_BODY || (p->req.has_length && *body > p->req.length))
			abort();
	}
	if (ev->kind == SPAMD_EV_REQUEST)
		*seen_request = 1;
	if (ev->kind == SPAMD_EV_END && !*seen_request)
		abort();
	if (ev->kind == SPAMD_EV_ERROR && (!ev->text || ev->code < 64))
		abort();
}

/* Feeds data in pieces; returns the last event kind. */
static int run(const char *data, size_t size, size_t step)
{
	spamd_parser p;
	spamd_event ev;
	size_t off = 0, body = 0;
	int seen = 0, last = SPAMD_EV_NONE;

	spamd_init(&p, MAX_BODY);
	while (off < size && last != SPAMD_EV_END && last != SPAMD_EV_ERROR) {
		size_t n = size - off < step ? size - off : step, used = 0;
		for (;;) {
			size_t k = spamd_feed(&p, data + off + used, n - used, &ev);
			if (k > n - used)
				abort();
			used += k;
			check_event(&p, &ev, data + off, n, &body, &seen);
			if (ev.kind == SPAMD_EV_NONE)
				break;
			last = ev.kind;
			if (last == SPAMD_EV_END || last == SPAMD_EV_ERROR)
				break;
		}
		if (used != n && last != SPAMD_EV_END && last != SPAMD_EV_ERROR)
			abort();
		off += n;
	}
	if (last != SPAMD_EV_END && last != SPAMD_EV_ERROR) {
		spamd_eof(&p, &ev);
		check_event(&p, &ev, data, 0, &body, &seen);
		if (ev.kind == SPAMD_EV_END && p.req.has_length && body != p.req.length)
			abort();
	}
	return last;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	ss_str h[2] = {{"X-Spam-Flag: YES", 16}, {"X-Spam-Score: 1.00", 18}};
	sbuf out = SBUF_INIT;

	if (!size)
		return 0;
	run(buf + 1, size - 1, (size_t)data[0] % 17 + 1);
	run(buf, size, size);
	if (spamd_add_headers(&out, buf, size, h, 2, data[0] & 1) == 0 &&
	    out.len > size + 40 + 2 * 2 + 2)
		abort();
	sbuf_reset(&out);
	spamd_inflate(buf, size, 1 << 16, &out);
	if (out.len > 1 << 16)
		abort();
	sbuf_release(&out);
	return 0;
}
