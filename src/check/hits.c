/*
 * hits.c: the per-message list of check findings (see hits.h).
 */
#include "check/hits.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spamsift.h"

/* A detail never grows past this many bytes by merging. */
#define HIT_DETAIL_MAX 512

void hits_init(ss_hits *h, ss_arena *a)
{
	memset(h, 0, sizeof(*h));
	h->a = a;
}

const ss_hit *hits_find(const ss_hits *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].name, name) == 0)
			return &h->v[i];
	return NULL;
}

/* Whether `detail` is already one of the ", "-separated items of `list`. */
static int has_item(const char *list, const char *detail, size_t add)
{
	for (const char *p = list; (p = strstr(p, detail)) != NULL; p++)
		if ((p == list || (p >= list + 2 && p[-2] == ',' && p[-1] == ' ')) &&
		    (p[add] == '\0' || (p[add] == ',' && p[add + 1] == ' ')))
			return 1;
	return 0;
}

/* Appends ", detail" to an existing hit's detail, within the bound. */
static int hit_merge(ss_hits *h, ss_hit *hit, const char *detail)
{
	size_t old, add;
	char *s;

	if (!detail || !*detail)
		return 0;
	if (!hit->detail) {
		hit->detail = arena_strndup(h->a, detail, strlen(detail));
		return hit->detail ? 0 : SS_ENOMEM;
	}
	old = strlen(hit->detail);
	add = strlen(detail);
	if (old + 2 + add > HIT_DETAIL_MAX || has_item(hit->detail, detail, add))
		return 0;
	if (!(s = arena_alloc(h->a, old + 2 + add + 1)))
		return SS_ENOMEM;
	memcpy(s, hit->detail, old);
	memcpy(s + old, ", ", 2);
	memcpy(s + old + 2, detail, add + 1);
	hit->detail = s;
	return 0;
}

int hits_add(ss_hits *h, const char *name, const char *detail)
{
	ss_hit *hit = (ss_hit *)hits_find(h, name);

	if (hit)
		return hit_merge(h, hit, detail);
	if (arena_grow(h->a, (void **)&h->v, &h->cap, h->n, sizeof(*h->v)))
		return SS_ENOMEM;
	hit = &h->v[h->n];
	hit->name = name;
	hit->detail = detail ? arena_strndup(h->a, detail, strlen(detail)) : NULL;
	if (detail && !hit->detail)
		return SS_ENOMEM;
	h->n++;
	return 0;
}

int hits_addf(ss_hits *h, const char *name, const char *fmt, ...)
{
	char tmp[HIT_DETAIL_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	return hits_add(h, name, tmp);
}
