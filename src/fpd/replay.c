/*
 * replay.c: the two-generation nonce cache (see replay.h): open addressing
 * with linear probing, 0 marking a free slot, doubled at half full.
 */
#include "fpd/replay.h"

#include <sodium.h>
#include <stdlib.h>

#include "proto/fpp.h"
#include "spamsift.h"

typedef struct hset {
	uint64_t *slot;
	size_t cap, n; /* cap: a power of two */
} hset;

struct replay {
	hset gen[2]; /* gen[0] the current */
	uint64_t since;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

replay *replay_new(void)
{
	replay *r = calloc(1, sizeof(*r));

	if (r)
		crypto_shorthash_keygen(r->key);
	return r;
}

void replay_free(replay *r)
{
	if (!r)
		return;
	free(r->gen[0].slot);
	free(r->gen[1].slot);
	free(r);
}

static int hset_has(const hset *h, uint64_t v)
{
	for (size_t i = v & (h->cap - 1); h->cap && h->slot[i]; i = (i + 1) & (h->cap - 1))
		if (h->slot[i] == v)
			return 1;
	return 0;
}

static void hset_put(hset *h, uint64_t v)
{
	size_t i = v & (h->cap - 1);

	while (h->slot[i])
		i = (i + 1) & (h->cap - 1);
	h->slot[i] = v;
	h->n++;
}

static int hset_grow(hset *h)
{
	hset bigger = {calloc(h->cap ? h->cap * 2 : 1024, sizeof(uint64_t)),
	               h->cap ? h->cap * 2 : 1024, 0};

	if (!bigger.slot)
		return SS_ENOMEM;
	for (size_t i = 0; i < h->cap; i++)
		if (h->slot[i])
			hset_put(&bigger, h->slot[i]);
	free(h->slot);
	*h = bigger;
	return 0;
}

int replay_check(replay *r, const uint8_t *nonce, uint64_t now)
{
	uint8_t hb[8];
	uint64_t v = 0;

	if (now >= r->since + 2 * FPP_WINDOW) {
		free(r->gen[1].slot);
		r->gen[1] = r->gen[0];
		r->gen[0] = (hset){0};
		r->since = now;
	}
	crypto_shorthash(hb, nonce, FPP_NONCE, r->key);
	for (int i = 0; i < 8; i++)
		v = v << 8 | hb[i];
	v = v ? v : 1;
	if (hset_has(&r->gen[0], v) || hset_has(&r->gen[1], v))
		return 1;
	if (r->gen[0].n * 2 >= r->gen[0].cap && hset_grow(&r->gen[0]))
		return SS_ENOMEM;
	hset_put(&r->gen[0], v);
	return 0;
}
