/*
 * arena.h: the per-message memory arena.
 *
 * Everything a parse allocates comes from one arena and dies with it:
 * allocation is a pointer bump, release frees every chunk at once. There is
 * no per-object free. Allocation failure returns NULL; callers propagate
 * SS_ENOMEM.
 */
#ifndef SS_UTIL_ARENA_H
#define SS_UTIL_ARENA_H

#include <stddef.h>
#include "spamsift.h"

typedef struct ss_arena_chunk ss_arena_chunk;

typedef struct ss_arena {
	ss_arena_chunk *head; /* newest chunk first */
	size_t used;          /* bytes handed out in total (for limits/tests) */
} ss_arena;

/* Prepares an empty arena; nothing is allocated until the first call. */
void arena_init(ss_arena *a);
/* Frees every chunk; the arena is empty and reusable afterwards. */
void arena_release(ss_arena *a);
/* Returns `n` bytes aligned to 16, or NULL when out of memory. */
void *arena_alloc(ss_arena *a, size_t n);
/* Returns zeroed memory for `n` objects of `size` bytes (overflow-checked). */
void *arena_calloc(ss_arena *a, size_t n, size_t size);
/* Copies `len` bytes of `s` and adds a NUL; returns NULL when out of memory. */
char *arena_strndup(ss_arena *a, const char *s, size_t len);
/* Returns an ss_str copy of s[0..len) (NUL-terminated); {NULL,0} on OOM. */
ss_str arena_str(ss_arena *a, const char *s, size_t len);
/* Grows the array *arr of *cap objects of `size` bytes so that index `need`
 * fits, copying the old contents (the old block is wasted, not freed).
 * Returns 0 or SS_ENOMEM. */
int arena_grow(ss_arena *a, void **arr, size_t *cap, size_t need, size_t size);

#endif
