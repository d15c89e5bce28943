/*
 * writer.c: the history's bounded queue and its committing thread (see
 * history.h). Scans push under a mutex and return; the thread takes the
 * whole queue every interval (or as soon as it is half full) and commits it
 * in one transaction.
 */
#include "history/history.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct history_writer {
	history *h;
	pthread_mutex_t mu;
	pthread_cond_t wake, done;
	pthread_t th;
	history_rec **q;
	size_t n, cap;
	int interval_ms, stopping;
	uint64_t next_id; /* the id the next push gets (without ops->new_id) */
	uint64_t pushed;  /* records queued so far */
	uint64_t ndone;   /* of them, committed (or failed) */
	uint64_t drops, errors, written;
};

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	ts->tv_sec += ms / 1000 + ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

/* Commits batch[0..n) outside the lock; frees it. */
static void commit_batch(history_writer *w, history_rec **batch, size_t n)
{
	int err = n ? w->h->ops->put(w->h, batch, n) : 0;

	for (size_t i = 0; i < n; i++)
		history_rec_free(batch[i]);
	pthread_mutex_lock(&w->mu);
	if (err) {
		w->errors++;
		w->drops += n; /* not recorded either */
	} else {
		w->written += n;
	}
	w->ndone += n;
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->mu);
}

static void *writer_main(void *arg)
{
	history_writer *w = arg;
	history_rec **batch = calloc(w->cap, sizeof(*batch));
	int stop = 0;

	while (batch && !stop) {
		struct timespec ts;
		size_t n;
		pthread_mutex_lock(&w->mu);
		deadline_in(&ts, w->interval_ms);
		while (!w->stopping && w->n < (w->cap + 1) / 2 &&
		       pthread_cond_timedwait(&w->wake, &w->mu, &ts) == 0)
			;
		stop = w->stopping;
		n = w->n;
		for (size_t i = 0; i < n; i++)
			batch[i] = w->q[i];
		w->n = 0;
		pthread_mutex_unlock(&w->mu);
		commit_batch(w, batch, n);
	}
	free(batch);
	return NULL;
}

history_writer *history_writer_new(history *h, size_t qmax, int interval_ms)
{
	history_writer *w = calloc(1, sizeof(*w));
	history_info info;

	if (!w)
		return NULL;
	w->h = h;
	w->cap = qmax ? qmax : 1;
	w->interval_ms = interval_ms > 0 ? interval_ms : 1;
	w->next_id = h->ops->info(h, &info) ? 1 : info.newest + 1;
	if (!(w->q = calloc(w->cap, sizeof(*w->q)))) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->done, NULL);
	if (pthread_create(&w->th, NULL, writer_main, w)) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->wake);
		pthread_cond_destroy(&w->done);
		free(w->q);
		free(w);
		return NULL;
	}
	return w;
}

void history_writer_free(history_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	for (size_t i = 0; i < w->n; i++) /* left when the batch could not be made */
		history_rec_free(w->q[i]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->done);
	free(w->q);
	free(w);
}

uint64_t history_writer_push(history_writer *w, history_rec *r)
{
	uint64_t id = 0;

	pthread_mutex_lock(&w->mu);
	if (w->n < w->cap && !w->stopping) {
		id = r->id = w->h->ops->new_id ? w->h->ops->new_id(w->h) : w->next_id++;
		w->pushed++;
		w->q[w->n++] = r;
		if (w->n >= (w->cap + 1) / 2)
			pthread_cond_signal(&w->wake);
	} else {
		w->drops++;
	}
	pthread_mutex_unlock(&w->mu);
	if (!id)
		history_rec_free(r);
	return id;
}

void history_writer_sync(history_writer *w)
{
	pthread_mutex_lock(&w->mu);
	uint64_t want = w->pushed;
	pthread_cond_signal(&w->wake);
	while (w->ndone < want && !w->stopping)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static uint64_t read_locked(const history_writer *w, const uint64_t *v)
{
	uint64_t x;

	pthread_mutex_lock((pthread_mutex_t *)&w->mu);
	x = *v;
	pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
	return x;
}

uint64_t history_writer_drops(const history_writer *w)
{
	return read_locked(w, &w->drops);
}

uint64_t history_writer_errors(const history_writer *w)
{
	return read_locked(w, &w->errors);
}

uint64_t history_writer_written(const history_writer *w)
{
	return read_locked(w, &w->written);
}
