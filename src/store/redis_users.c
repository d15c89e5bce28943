/*
 * redis_users.c: the per-user copies and the name table (see
 * redis_users.h). One mutex guards the set and the names; scans hold it
 * only to find a copy and take a reference, then read the copy under its
 * own read lock (the order is always this mutex, then a copy's lock).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/redis_users.h"
#include "util/clock.h"

#define BUCKETS 16384u
#define NAME_SLOTS 65536u
#define ASK_MAX 1024u

typedef struct nslot {
	char *name;
	uint32_t id;
	int answered; /* id and at hold an answer */
	int asking;   /* in the queue, or being answered */
	int64_t at;
} nslot;

struct rusers {
	pthread_mutex_t mu;
	pthread_cond_t ready; /* scans wait on it */
	pthread_cond_t asked; /* the sync thread waits on it */
	ruser *b[BUCKETS];
	size_t n, max_bytes;
	int has_asked;
	nslot *names;
	char *ask[ASK_MAX];
	size_t nask;
};

/* Waits on cv until the monotonic time deadline (ms); 0 or ETIMEDOUT. */
static int wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline)
{
	struct timespec ts = {(time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000L};

	return pthread_cond_timedwait(cv, mu, &ts);
}

rusers *rusers_new(size_t max_bytes)
{
	rusers *u = calloc(1, sizeof(*u));
	pthread_condattr_t ca;

	if (!u)
		return NULL;
	if (!(u->names = calloc(NAME_SLOTS, sizeof(nslot)))) {
		free(u);
		return NULL;
	}
	u->max_bytes = max_bytes;
	pthread_mutex_init(&u->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&u->ready, &ca);
	pthread_cond_init(&u->asked, &ca);
	pthread_condattr_destroy(&ca);
	return u;
}

static void user_free(ruser *r)
{
	rmirror_free(r->m);
	free(r);
}

void rusers_free(rusers *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		for (ruser *r = u->b[i], *next; r; r = next) {
			next = r->next;
			user_free(r);
		}
	for (size_t i = 0; i < NAME_SLOTS; i++)
		free(u->names[i].name);
	for (size_t i = 0; i < u->nask; i++)
		free(u->ask[i]);
	free(u->names);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->ready);
	pthread_cond_destroy(&u->asked);
	free(u);
}

static ruser **bucket(rusers *u, uint32_t id)
{
	return &u->b[(id * 2654435761u) % BUCKETS];
}

/* The copy of user id, or a new one (not loaded: the sync thread loads
 * it); NULL when out of memory. Under u->mu. */
static ruser *user_get(rusers *u, uint32_t id)
{
	ruser **head = bucket(u, id), *r;

	for (r = *head; r; r = r->next)
		if (r->id == id)
			return r;
	if (!(r = calloc(1, sizeof(*r))) || !(r->m = rmirror_new())) {
		free(r);
		return NULL;
	}
	r->id = id;
	r->next = *head;
	*head = r;
	u->n++;
	u->has_asked = 1;
	pthread_cond_signal(&u->asked);
	return r;
}

int64_t rusers_lookup(rusers *u, uint32_t user, const uint64_t *keys, size_t n, feat_stat *out,
                      clf_totals *tot, int wait_ms)
{
	int64_t at, deadline = ss_mono_ms() + (wait_ms > 0 ? wait_ms : 0);
	clf_totals t;
	ruser *r;

	pthread_mutex_lock(&u->mu);
	if (!(r = user_get(u, user))) {
		pthread_mutex_unlock(&u->mu);
		return -1;
	}
	r->refs++;
	r->used_at = ss_mono_ms();
	while (!__atomic_load_n(&r->too_big, __ATOMIC_ACQUIRE) &&
	       rmirror_lookup(r->m, NULL, 0, NULL, &t) < 0 &&
	       wait_until(&u->ready, &u->mu, deadline) == 0)
		;
	pthread_mutex_unlock(&u->mu);
	at = __atomic_load_n(&r->too_big, __ATOMIC_ACQUIRE)
	         ? RUSERS_TOO_BIG
	         : rmirror_lookup(r->m, keys, n, out, tot);
	pthread_mutex_lock(&u->mu);
	r->refs--;
	pthread_mutex_unlock(&u->mu);
	return at;
}

static nslot *name_slot(rusers *u, const char *name)
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return &u->names[h % NAME_SLOTS];
}

/* Makes slot s name's (forgetting another name it held); 0 or -1. */
static int slot_take(nslot *s, const char *name)
{
	char *copy;

	if (s->name && !strcmp(s->name, name))
		return 0;
	if (!(copy = strdup(name)))
		return -1;
	free(s->name);
	*s = (nslot){.name = copy};
	return 0;
}

/* Puts name in the queue of the sync thread (once). Under u->mu. */
static void name_ask(rusers *u, nslot *s, const char *name)
{
	if (s->asking || u->nask == ASK_MAX || !(u->ask[u->nask] = strdup(name)))
		return;
	u->nask++;
	s->asking = 1;
	u->has_asked = 1;
	pthread_cond_signal(&u->asked);
}

/* The answer in s for name: 1 with *id, 0 absent, -1 none. Under u->mu. */
static int slot_answer(const nslot *s, const char *name, uint32_t *id)
{
	if (!s->name || strcmp(s->name, name) || !s->answered)
		return -1;
	*id = s->id;
	return s->id != 0;
}

int rusers_name(rusers *u, const char *name, uint32_t *id, int64_t stale_ms, int wait_ms,
                int *stale)
{
	int64_t now = ss_mono_ms(), deadline = now + (wait_ms > 0 ? wait_ms : 0), asked_at;
	nslot *s = name_slot(u, name);
	int rc;

	*stale = -1;
	pthread_mutex_lock(&u->mu);
	rc = slot_answer(s, name, id);
	if (rc == 1 || (rc == 0 && now - s->at <= stale_ms)) {
		pthread_mutex_unlock(&u->mu);
		return rc; /* ids never change; an absence holds stale_ms */
	}
	if (slot_take(s, name)) {
		pthread_mutex_unlock(&u->mu);
		return -1;
	}
	asked_at = s->answered ? s->at : -1;
	name_ask(u, s, name);
	while ((rc = slot_answer(s, name, id)) < 0 || (rc == 0 && s->at == asked_at)) {
		if (wait_until(&u->ready, &u->mu, deadline))
			break;
	}
	if (rc >= 0 && s->at == asked_at) {
		*stale = rc; /* the old answer: the new one did not come in time */
		rc = -1;
	}
	pthread_mutex_unlock(&u->mu);
	return rc;
}

size_t rusers_names_asked(rusers *u, char **names, size_t cap)
{
	size_t n;

	pthread_mutex_lock(&u->mu);
	n = u->nask < cap ? u->nask : cap;
	memcpy(names, u->ask, n * sizeof(*names));
	memmove(u->ask, u->ask + n, (u->nask - n) * sizeof(*names));
	u->nask -= n;
	pthread_mutex_unlock(&u->mu);
	return n;
}

void rusers_name_set(rusers *u, const char *name, uint32_t id, int64_t at)
{
	nslot *s = name_slot(u, name);

	pthread_mutex_lock(&u->mu);
	if (at < 0) {
		if (s->name && !strcmp(s->name, name))
			s->asking = 0; /* no answer: it may be asked again */
	} else if (!slot_take(s, name)) {
		s->id = id;
		s->at = at;
		s->answered = 1;
		s->asking = 0;
	}
	pthread_cond_broadcast(&u->ready);
	pthread_mutex_unlock(&u->mu);
}

ruser **rusers_list(rusers *u, size_t *n)
{
	ruser **out;
	size_t k = 0;

	pthread_mutex_lock(&u->mu);
	if ((out = u->n ? malloc(u->n * sizeof(*out)) : NULL))
		for (size_t i = 0; i < BUCKETS; i++)
			for (ruser *r = u->b[i]; r; r = r->next) {
				r->refs++;
				out[k++] = r;
			}
	pthread_mutex_unlock(&u->mu);
	*n = k;
	return out;
}

void rusers_release(rusers *u, ruser *r)
{
	pthread_mutex_lock(&u->mu);
	r->refs--;
	pthread_mutex_unlock(&u->mu);
}

size_t rusers_max_copy(const rusers *u)
{
	return u->max_bytes / 16;
}

void rusers_loaded(rusers *u)
{
	pthread_mutex_lock(&u->mu);
	pthread_cond_broadcast(&u->ready);
	pthread_mutex_unlock(&u->mu);
}

/* Unlinks and frees r. Under u->mu; r has no references. */
static void user_drop(rusers *u, ruser *r)
{
	ruser **p = bucket(u, r->id);

	while (*p != r)
		p = &(*p)->next;
	*p = r->next;
	u->n--;
	user_free(r);
}

static int by_use(const void *a, const void *b)
{
	const ruser *x = *(ruser *const *)a, *y = *(ruser *const *)b;

	return x->used_at < y->used_at ? -1 : x->used_at > y->used_at;
}

size_t rusers_evict(rusers *u, int64_t now, int64_t idle_ms)
{
	ruser **all;
	size_t k = 0, dropped = 0, bytes = 0;

	pthread_mutex_lock(&u->mu);
	if (!(all = malloc((u->n ? u->n : 1) * sizeof(*all)))) {
		pthread_mutex_unlock(&u->mu);
		return 0;
	}
	for (size_t i = 0; i < BUCKETS; i++)
		for (ruser *r = u->b[i]; r; r = r->next) {
			bytes += sizeof(*r) + rmirror_bytes(r->m);
			all[k++] = r;
		}
	qsort(all, k, sizeof(*all), by_use);
	for (size_t i = 0; i < k; i++) {
		ruser *r = all[i];
		size_t b = sizeof(*r) + rmirror_bytes(r->m);
		if (r->refs || (now - r->used_at <= idle_ms && bytes <= u->max_bytes))
			continue;
		bytes -= b;
		user_drop(u, r);
		dropped++;
	}
	pthread_mutex_unlock(&u->mu);
	free(all);
	return dropped;
}

int rusers_wait_asked(rusers *u, int ms)
{
	int asked;

	pthread_mutex_lock(&u->mu);
	if (!u->has_asked)
		wait_until(&u->asked, &u->mu, ss_mono_ms() + ms);
	asked = u->has_asked;
	u->has_asked = 0;
	pthread_mutex_unlock(&u->mu);
	return asked;
}

void rusers_size(rusers *u, size_t *n, size_t *bytes)
{
	pthread_mutex_lock(&u->mu);
	*n = u->n;
	*bytes = 0;
	for (size_t i = 0; i < BUCKETS; i++)
		for (ruser *r = u->b[i]; r; r = r->next)
			*bytes += sizeof(*r) + rmirror_bytes(r->m);
	pthread_mutex_unlock(&u->mu);
}
