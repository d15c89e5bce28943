/*
 * redis_mirror.c: the local copy of the global model (see redis_mirror.h):
 * open addressing on the 64-bit key, grown by doubling.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "spamsift.h"
#include "store/redis_mirror.h"

typedef struct slot {
	uint64_t key; /* 0: empty (a feature key of 0 is kept apart) */
	feat_stat st;
} slot;

struct rm_table {
	slot *s;
	size_t cap, n;
	int has_zero;
	feat_stat zero; /* the feature whose key is 0 */
};

struct rmirror {
	pthread_rwlock_t lock;
	rm_table *t; /* NULL: not ready */
	clf_totals tot;
	int64_t synced_at;
};

static size_t home(const rm_table *t, uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & (t->cap - 1);
}

static slot *find(const rm_table *t, uint64_t key)
{
	size_t i = home(t, key);

	while (t->s[i].key && t->s[i].key != key)
		i = (i + 1) & (t->cap - 1);
	return &t->s[i];
}

rm_table *rm_table_new(size_t cap)
{
	rm_table *t = calloc(1, sizeof(*t));
	size_t c = 16;

	while (c < cap)
		c *= 2;
	if (t && !(t->s = calloc(t->cap = c, sizeof(slot)))) {
		free(t);
		return NULL;
	}
	return t;
}

void rm_table_free(rm_table *t)
{
	if (t)
		free(t->s);
	free(t);
}

static int grow(rm_table *t)
{
	slot *old = t->s;
	size_t oldcap = t->cap;

	if (!(t->s = calloc(t->cap = oldcap * 2, sizeof(slot)))) {
		t->s = old;
		t->cap = oldcap;
		return SS_ENOMEM;
	}
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			*find(t, old[i].key) = old[i];
	free(old);
	return 0;
}

/* Zero statistics stay in the table (as absent): no deletion, so no
 * tombstones; a model's features rarely leave. */
int rm_table_put(rm_table *t, uint64_t key, const feat_stat *st)
{
	slot *s;

	if (!key) {
		t->has_zero = 1;
		t->zero = *st;
		return 0;
	}
	if ((t->n + 1) * 4 > t->cap * 3 && grow(t))
		return SS_ENOMEM;
	s = find(t, key);
	t->n += !s->key;
	s->key = key;
	s->st = *st;
	return 0;
}

static void table_get(const rm_table *t, uint64_t key, feat_stat *out)
{
	const slot *s;

	if (!key) {
		*out = t->has_zero ? t->zero : (feat_stat){0, 0, 0, 0};
		return;
	}
	s = find(t, key);
	*out = s->key ? s->st : (feat_stat){0, 0, 0, 0};
}

rmirror *rmirror_new(void)
{
	rmirror *m = calloc(1, sizeof(*m));

	if (m)
		pthread_rwlock_init(&m->lock, NULL);
	return m;
}

void rmirror_free(rmirror *m)
{
	if (!m)
		return;
	rm_table_free(m->t);
	pthread_rwlock_destroy(&m->lock);
	free(m);
}

void rmirror_swap(rmirror *m, rm_table *t, const clf_totals *tot)
{
	rm_table *old;

	pthread_rwlock_wrlock(&m->lock);
	old = m->t;
	m->t = t;
	m->tot = *tot;
	pthread_rwlock_unlock(&m->lock);
	rm_table_free(old);
}

int rmirror_update(rmirror *m, const uint64_t *keys, const feat_stat *st, size_t n,
                   const clf_totals *tot)
{
	int err = 0;

	pthread_rwlock_wrlock(&m->lock);
	for (size_t i = 0; m->t && !err && i < n; i++)
		err = rm_table_put(m->t, keys[i], &st[i]);
	if (err) {
		rm_table_free(m->t);
		m->t = NULL;
	}
	m->tot = *tot;
	pthread_rwlock_unlock(&m->lock);
	return err;
}

size_t rmirror_bytes(rmirror *m)
{
	size_t b = sizeof(*m);

	pthread_rwlock_rdlock(&m->lock);
	if (m->t)
		b += sizeof(*m->t) + m->t->cap * sizeof(slot);
	pthread_rwlock_unlock(&m->lock);
	return b;
}

void rmirror_synced(rmirror *m, int64_t at)
{
	__atomic_store_n(&m->synced_at, at, __ATOMIC_RELEASE);
}

int64_t rmirror_lookup(rmirror *m, const uint64_t *keys, size_t n, feat_stat *out, clf_totals *tot)
{
	int64_t at = -1;

	pthread_rwlock_rdlock(&m->lock);
	if (m->t) {
		for (size_t i = 0; i < n; i++)
			table_get(m->t, keys[i], &out[i]);
		*tot = m->tot;
		at = __atomic_load_n(&m->synced_at, __ATOMIC_ACQUIRE);
	}
	pthread_rwlock_unlock(&m->lock);
	return at;
}
