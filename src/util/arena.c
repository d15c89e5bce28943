/*
 * arena.c: a chunked bump allocator, one per parsed message (see arena.h).
 */
#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_MIN_CHUNK (16 * 1024)
#define ARENA_ALIGN 16

struct ss_arena_chunk {
	ss_arena_chunk *next;
	size_t cap;
	size_t off;
	_Alignas(16) unsigned char data[];
};

void arena_init(ss_arena *a)
{
	a->head = NULL;
	a->used = 0;
}

void arena_release(ss_arena *a)
{
	ss_arena_chunk *c = a->head;

	while (c) {
		ss_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	arena_init(a);
}

static ss_arena_chunk *arena_new_chunk(ss_arena *a, size_t n)
{
	size_t cap = a->head ? a->head->cap * 2 : ARENA_MIN_CHUNK;
	ss_arena_chunk *c;

	if (cap > 4 * 1024 * 1024)
		cap = 4 * 1024 * 1024;
	if (cap < n)
		cap = n;
	c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->cap = cap;
	c->off = 0;
	/* A big one-off block goes behind the head so the head keeps its room. */
	if (a->head && n > a->head->cap - a->head->off && cap == n) {
		c->next = a->head->next;
		a->head->next = c;
	} else {
		c->next = a->head;
		a->head = c;
	}
	return c;
}

void *arena_alloc(ss_arena *a, size_t n)
{
	ss_arena_chunk *c = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < n)
		return NULL;
	if (!need)
		need = ARENA_ALIGN;
	if (!c || c->cap - c->off < need) {
		c = arena_new_chunk(a, need);
		if (!c)
			return NULL;
	}
	p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

void *arena_calloc(ss_arena *a, size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = arena_alloc(a, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

char *arena_strndup(ss_arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

ss_str arena_str(ss_arena *a, const char *s, size_t len)
{
	ss_str r = {arena_strndup(a, s, len), len};

	if (!r.p)
		r.len = 0;
	return r;
}

int arena_grow(ss_arena *a, void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *n;

	if (need < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap <= need)
		ncap *= 2;
	n = arena_calloc(a, ncap, size);
	if (!n)
		return SS_ENOMEM;
	if (*cap)
		memcpy(n, *arr, *cap * size);
	*arr = n;
	*cap = ncap;
	return 0;
}
