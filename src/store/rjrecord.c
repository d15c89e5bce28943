/*
 * rjrecord.c: the Redis learn journal's record payload (see rjrecord.h).
 */
#include "store/rjrecord.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "SSIR"
#define V2 2
#define F_BATCH 1
#define F_INTENT 2
#define BATCH_HEAD (4 + 1 + RJ_DIGEST + 1 + RJ_REC) /* user .. expect */

/* A cursor over bytes being read: every take checks what is left. */
typedef struct rd {
	const uint8_t *p;
	size_t left;
} rd;

static const uint8_t *take(rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (n > r->left)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 4;
}

static uint8_t *put(uint8_t *p, const void *src, size_t n)
{
	if (n)
		memcpy(p, src, n);
	return p + n;
}

uint64_t rj_key(const rj_record *r, size_t i)
{
	const uint8_t *p = r->keys + 8 * i;

	return (uint64_t)le32_at(p) | (uint64_t)le32_at(p + 4) << 32;
}

uint8_t *rj_intent_encode(int action, const uint8_t *digest, const uint64_t *keys, size_t n,
                          size_t ntok, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	uint8_t *b, *p;

	if (nl > RJ_MAX_NAME || ntok > n || n > (UINT32_MAX - 64) / 8 || action < 0 || action > 2)
		return NULL;
	*len = 1 + RJ_DIGEST + 4 + 4 + 8 * n + 2 + nl;
	if (!(b = malloc(*len)))
		return NULL;
	p = b;
	*p++ = (uint8_t)action;
	p = put(p, digest, RJ_DIGEST);
	p = put32(p, (uint32_t)ntok);
	p = put32(p, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		p = put32(p, (uint32_t)keys[i]);
		p = put32(p, (uint32_t)(keys[i] >> 32));
	}
	*p++ = (uint8_t)nl;
	*p++ = (uint8_t)(nl >> 8);
	put(p, name, nl);
	return b;
}

uint8_t *rj_encode(const rj_record *r, const uint8_t *intent, size_t intent_len, size_t *len)
{
	size_t batch = r->has_batch ? BATCH_HEAD + 4 + r->ops_len : 0;
	uint8_t *b, *p;

	*len = 6 + batch + (intent ? intent_len : 0);
	if (!(b = calloc(1, *len)))
		return NULL;
	p = put(b, MAGIC, 4);
	*p++ = V2;
	*p++ = (uint8_t)((r->has_batch ? F_BATCH : 0) | (intent ? F_INTENT : 0));
	if (r->has_batch) {
		p = put32(p, r->user);
		*p++ = (uint8_t)(r->has_check != 0);
		p = put(p, r->digest, r->has_check ? RJ_DIGEST : 0) +
		    (r->has_check ? 0 : RJ_DIGEST);
		*p++ = (uint8_t)(r->expect_len ? RJ_REC : 0);
		p = put(p, r->expect, r->expect_len ? RJ_REC : 0) + (r->expect_len ? 0 : RJ_REC);
		p = put32(p, (uint32_t)r->ops_len);
		p = put(p, r->ops, r->ops_len);
	}
	if (intent)
		put(p, intent, intent_len);
	return b;
}

/* The batch's fixed head (both versions): user .. expect. */
static int batch_head(rd *c, rj_record *r)
{
	const uint8_t *h = take(c, BATCH_HEAD);

	if (!h || h[4] > 1 || (h[5 + RJ_DIGEST] != 0 && h[5 + RJ_DIGEST] != RJ_REC))
		return -1;
	r->has_batch = 1;
	r->user = le32_at(h);
	r->has_check = h[4];
	r->digest = h + 5;
	r->expect_len = h[5 + RJ_DIGEST];
	r->expect = h + 6 + RJ_DIGEST;
	return 0;
}

static int v2_batch(rd *c, rj_record *r)
{
	const uint8_t *n;

	if (batch_head(c, r) || !(n = take(c, 4)))
		return -1;
	r->ops_len = le32_at(n);
	return (r->ops = take(c, r->ops_len)) ? 0 : -1;
}

static int v2_intent(rd *c, rj_record *r)
{
	const uint8_t *h = take(c, 1 + RJ_DIGEST + 8), *nl;

	if (!h || h[0] > 2)
		return -1;
	r->has_intent = 1;
	r->action = h[0];
	r->idigest = h + 1;
	r->ntok = le32_at(h + 1 + RJ_DIGEST);
	r->nkeys = le32_at(h + 5 + RJ_DIGEST);
	if (r->ntok > r->nkeys || r->nkeys > c->left / 8 || !(r->keys = take(c, 8 * r->nkeys)) ||
	    !(nl = take(c, 2)))
		return -1;
	r->name_len = (size_t)nl[0] | (size_t)nl[1] << 8;
	if (r->name_len > RJ_MAX_NAME || !(r->name = (const char *)take(c, r->name_len)) ||
	    memchr(r->name, 0, r->name_len))
		return -1;
	return 0;
}

int rj_decode(const uint8_t *p, size_t len, rj_record *r)
{
	rd c = {p, len};
	const uint8_t *h;

	memset(r, 0, sizeof(*r));
	if (len >= 6 && !memcmp(p, MAGIC, 4) && p[4] == V2) {
		h = take(&c, 6);
		r->version = 2;
		if (!(h[5] & (F_BATCH | F_INTENT)) || (h[5] & ~(F_BATCH | F_INTENT)) ||
		    ((h[5] & F_BATCH) && v2_batch(&c, r)) ||
		    ((h[5] & F_INTENT) && v2_intent(&c, r)))
			return -1;
		return c.left ? -1 : 0;
	}
	r->version = 1;
	if (batch_head(&c, r))
		return -1;
	r->ops = c.p;
	r->ops_len = c.left;
	return 0;
}
