/*
 * rcodec.c: the values the Redis history backend (redis.c) stores, and
 * its ids. I/O-free. What is read back from Redis is untrusted (another
 * program, or a damaged or foreign key, may have written it): every read
 * is bounds-checked and a malformed value is refused, never trusted.
 *
 * Index value ("ss{h}:idx" field ID): time_ms (int64), score and scan_ms
 * (IEEE 754 doubles), each 8 bytes little-endian, the action (1 byte, 0-2),
 * then the search text. Portable across machines, unlike a struct copy.
 * Raw value ("ss{h}:raw" field ID): the user's length (1 byte), the user,
 * the message.
 */
#include "history/history.h"

#include <math.h>
#include <string.h>

#include "spamsift.h"

#define HR_EPOCH_MS 1704067200000LL /* 2024-01-01T00:00:00Z */
#define HR_ID_MAX (1ULL << 53)

static void put_le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_le(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int hr_idx_encode(const history_rec *r, sbuf *out)
{
	uint8_t h[HR_IDX_HEAD];
	uint64_t s, m;

	memcpy(&s, &r->score, 8);
	memcpy(&m, &r->scan_ms, 8);
	put_le(h, (uint64_t)r->time_ms);
	put_le(h + 8, s);
	put_le(h + 16, m);
	h[24] = (uint8_t)r->action;
	if (sbuf_add(out, (const char *)h, sizeof(h)))
		return SS_ENOMEM;
	return r->search_len && sbuf_add(out, r->search, r->search_len) ? SS_ENOMEM : 0;
}

int hr_idx_decode(const char *p, size_t len, history_item *it)
{
	const uint8_t *u = (const uint8_t *)p;
	uint64_t s, m;

	if (!p || len < HR_IDX_HEAD || u[24] > ENGINE_REJECT)
		return -1;
	it->time_ms = (int64_t)get_le(u);
	s = get_le(u + 8);
	m = get_le(u + 16);
	memcpy(&it->score, &s, 8);
	memcpy(&it->scan_ms, &m, 8);
	if (isnan(it->score) || isnan(it->scan_ms))
		return -1;
	it->action = u[24];
	it->search = p + HR_IDX_HEAD;
	it->search_len = len - HR_IDX_HEAD;
	return 0;
}

int hr_raw_encode(const history_rec *r, sbuf *out)
{
	size_t ul = r->user ? strnlen(r->user, HISTORY_MAX_USER) : 0;

	if (sbuf_addc(out, (char)(uint8_t)ul) || (ul && sbuf_add(out, r->user, ul)) ||
	    (r->raw_len && sbuf_add(out, r->raw, r->raw_len)))
		return SS_ENOMEM;
	return 0;
}

int hr_raw_decode(const char *p, size_t len, char *user, size_t ulen, size_t *moff, size_t *mlen)
{
	size_t ul;

	if (!p || !len || !ulen)
		return -1;
	ul = (uint8_t)p[0];
	if (ul > len - 1 || ul >= ulen || memchr(p + 1, 0, ul))
		return -1;
	memcpy(user, p + 1, ul);
	user[ul] = 0;
	*moff = 1 + ul;
	*mlen = len - 1 - ul;
	return 0;
}

uint64_t hr_id_parse(const char *p, size_t len)
{
	uint64_t v = 0;

	if (!p || !len || len > 16 || p[0] == '0')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	return v < HR_ID_MAX ? v : 0;
}

uint64_t hr_id_next(hr_idgen *g, int64_t now_ms)
{
	int64_t ms = now_ms - HR_EPOCH_MS;

	if (ms < 0)
		ms = 0;
	if (ms > g->last_ms) {
		g->last_ms = ms;
		g->seq = 0;
	} else if (++g->seq >= 128) { /* the millisecond is used up: borrow the next */
		g->last_ms++;
		g->seq = 0;
	}
	return ((uint64_t)g->last_ms & ((1ULL << 40) - 1)) << 13 | (uint64_t)(g->node & 63) << 7 |
	       g->seq;
}
