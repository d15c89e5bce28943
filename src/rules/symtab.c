/*
 * symtab.c: symbol names to small integer ids (open addressing, FNV-1a),
 * so that a scan keeps one byte per symbol and metas index it directly.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

static uint32_t fnv(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The slot of name: its id + 1, or the empty slot where it would go. */
static size_t slot_of(const symtab *t, const char *name, size_t len)
{
	size_t i = fnv(name, len) & (t->nslots - 1);

	while (t->slots[i]) {
		const char *s = t->names[t->slots[i] - 1];
		if (!strncmp(s, name, len) && !s[len])
			return i;
		i = (i + 1) & (t->nslots - 1);
	}
	return i;
}

static int grow(symtab *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 256;
	uint32_t *s = calloc(n, sizeof(*s));

	if (!s)
		return SS_ENOMEM;
	free(t->slots);
	t->slots = s;
	t->nslots = n;
	for (size_t id = 0; id < t->n; id++)
		t->slots[slot_of(t, t->names[id], strlen(t->names[id]))] = (uint32_t)id + 1;
	return 0;
}

int sym_id(symtab *t, ss_arena *a, const char *name, size_t len, int add)
{
	size_t i;
	char *copy;

	if (t->nslots && t->slots[i = slot_of(t, name, len)])
		return (int)t->slots[i] - 1;
	if (!add)
		return -1;
	if ((t->n + 1) * 2 > t->nslots && grow(t))
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		const char **v = realloc(t->names, cap * sizeof(*v));
		if (!v)
			return -1;
		t->names = v;
		t->cap = cap;
	}
	if (!(copy = arena_strndup(a, name, len)))
		return -1;
	t->names[t->n] = copy;
	t->slots[slot_of(t, name, len)] = (uint32_t)t->n + 1;
	return (int)t->n++;
}

int sym_find(const symtab *t, const char *name)
{
	size_t i;

	if (!t->nslots)
		return -1;
	i = slot_of(t, name, strlen(name));
	return t->slots[i] ? (int)t->slots[i] - 1 : -1;
}

void sym_free(symtab *t)
{
	free(t->names);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
