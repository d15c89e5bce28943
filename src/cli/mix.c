/*
 * mix.c: the messages of two classes' paths, interleaved (see cli.h).
 *
 * `learn --spam S... --ham H...` learns both classes in one run. Taken
 * class after class, the regression experts' online steps would end
 * leaning to the class learned last (all the spam, then all the ham:
 * the ham's steps pull down every feature the spam shared with them), so
 * the messages are interleaved in proportion to each class's count: after
 * k messages, each class has given about its share of k.
 *
 * The counts come from a first walk that only counts. Then each class's
 * paths are walked by a thread of its own (cli_each_message, as for one
 * class), which hands each message to the caller's thread and waits until
 * it is done with it: one message at a time in memory per class, the
 * walks' own order kept, and the callback always on the caller's thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "spamsift.h"

/* One class's walk, run by its thread. */
typedef struct feed {
	char **paths; /* this class's paths */
	size_t npaths;
	size_t count; /* messages found by the counting walk */
	pthread_t th;
	pthread_mutex_t *mu;
	pthread_cond_t cv; /* signalled on every change of state */
	enum { F_EMPTY, F_FULL, F_DONE } state;
	const char *label, *buf; /* the message waiting (F_FULL) */
	size_t len;
	int rc;   /* the callback's answer for that message */
	int stop; /* the caller wants no more */
	int err;  /* the walk's result (F_DONE) */
} feed;

static int count_one(void *ctx, const char *label, const char *buf, size_t len)
{
	(void)label, (void)buf, (void)len;
	++*(size_t *)ctx;
	return 0;
}

/* Hands a message to the caller's thread and waits for its answer. */
static int hand_over(void *ctx, const char *label, const char *buf, size_t len)
{
	feed *f = ctx;
	int rc;

	pthread_mutex_lock(f->mu);
	if (f->stop) {
		pthread_mutex_unlock(f->mu);
		return 1;
	}
	f->label = label;
	f->buf = buf;
	f->len = len;
	f->state = F_FULL;
	pthread_cond_broadcast(&f->cv);
	while (f->state == F_FULL)
		pthread_cond_wait(&f->cv, f->mu);
	rc = f->rc;
	pthread_mutex_unlock(f->mu);
	return rc;
}

static void *walk(void *arg)
{
	feed *f = arg;
	int err = 0;

	for (size_t i = 0; !err && i < f->npaths; i++)
		err = cli_each_message(f->paths[i], hand_over, f);
	pthread_mutex_lock(f->mu);
	f->err = err;
	f->state = F_DONE;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(f->mu);
	return NULL;
}

/* Tells f's walk to stop (mu held): a message it is waiting with is
 * answered 1, and so is any it hands over later. */
static void release(feed *f)
{
	f->stop = 1;
	if (f->state == F_FULL) {
		f->rc = 1;
		f->state = F_EMPTY;
	}
	pthread_cond_broadcast(&f->cv);
}

/* The class to take next: the one furthest behind its share (taken[c] /
 * count[c] the smaller), of those whose walk has not ended. -1: none. */
static int next_class(feed *f, const size_t taken[2])
{
	int open0 = f[0].state != F_DONE, open1 = f[1].state != F_DONE;

	if (!open0 || !open1)
		return open0 ? 0 : open1 ? 1 : -1;
	/* taken0 / count0 <= taken1 / count1, without dividing */
	return taken[0] * f[1].count <= taken[1] * f[0].count ? 0 : 1;
}

/* Runs the feeds' walks, calling cb on this thread for each message in
 * the mixed order, until both end or cb returns non-zero. */
static int mix_loop(feed *f, pthread_mutex_t *mu, mix_cb cb, void *ctx)
{
	size_t taken[2] = {0, 0};
	int rc = 0, c;

	pthread_mutex_lock(mu);
	while (!rc && (c = next_class(f, taken)) >= 0) {
		while (f[c].state == F_EMPTY)
			pthread_cond_wait(&f[c].cv, mu);
		if (f[c].state == F_DONE)
			continue;
		pthread_mutex_unlock(mu);
		rc = cb(ctx, c, f[c].label, f[c].buf, f[c].len);
		pthread_mutex_lock(mu);
		taken[c]++;
		f[c].rc = rc;
		f[c].state = F_EMPTY;
		pthread_cond_broadcast(&f[c].cv);
	}
	release(&f[0]); /* a walk still going (cb said stop) ends */
	release(&f[1]);
	pthread_mutex_unlock(mu);
	return rc;
}

int cli_each_mixed(char **paths, const unsigned char *cls, size_t npaths, mix_cb cb, void *ctx)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	feed f[2];
	char **byclass = calloc(npaths ? npaths : 1, sizeof(char *));
	int rc = 0, started = 0;

	if (!byclass)
		return SS_ENOMEM;
	memset(f, 0, sizeof(f));
	for (int c = 0, k = 0; c < 2; c++) {
		f[c].paths = byclass + k;
		for (size_t i = 0; i < npaths; i++)
			if (cls[i] == c)
				byclass[k++] = paths[i];
		f[c].npaths = (size_t)(byclass + k - f[c].paths);
		cli_walk_quiet = 1;
		for (size_t i = 0; !rc && i < f[c].npaths; i++)
			rc = cli_each_message(f[c].paths[i], count_one, &f[c].count);
		cli_walk_quiet = 0;
		f[c].mu = &mu;
		pthread_cond_init(&f[c].cv, NULL);
	}
	for (int c = 0; !rc && c < 2; c++) {
		if (pthread_create(&f[c].th, NULL, walk, &f[c])) {
			rc = SS_ENOMEM;
			break;
		}
		started |= 1 << c;
	}
	if (started == 3)
		rc = mix_loop(f, &mu, cb, ctx);
	else if (started) { /* the other thread could not start: stop this one */
		pthread_mutex_lock(&mu);
		release(&f[0]);
		pthread_mutex_unlock(&mu);
	}
	for (int c = 0; c < 2; c++) {
		if (started & 1 << c)
			pthread_join(f[c].th, NULL);
		pthread_cond_destroy(&f[c].cv);
		if (!rc && (started & 1 << c))
			rc = f[c].err > 0 ? 0 : f[c].err;
	}
	free(byclass);
	return rc;
}
