/*
 * peer.c: federation pushes of spamsift-fpd (see fpd.h): a thread per
 * peer sends the rows of its outbox in the store (ADDs and DELs, oldest
 * first) over TCP, retrying with a backoff from 100 ms to 5 s until the
 * peer acknowledges each; only then is the row removed. The outbox is in
 * the store, so what a stop or a crash interrupts is pushed after the
 * next start.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fpd/fpd.h"
#include "spamsift.h"

int fpd_peer_parse(const char *spec, fpd_peer *p)
{
	char buf[256], *save = NULL, *addr, *key, *opt;

	if (strlen(spec) >= sizeof(buf))
		return SS_ESYNTAX;
	memset(p, 0, sizeof(*p));
	p->weight = 1;
	snprintf(buf, sizeof(buf), "%s", spec);
	addr = strtok_r(buf, ",", &save);
	key = strtok_r(NULL, ",", &save);
	if (!addr || !key || strlen(addr) >= sizeof(p->addr) || strlen(key) > FPP_NAME_MAX)
		return SS_ESYNTAX;
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	snprintf(p->keyname, sizeof(p->keyname), "%s", key);
	while ((opt = strtok_r(NULL, ",", &save))) {
		char *end;
		if (strncmp(opt, "weight=", 7))
			return SS_ESYNTAX;
		p->weight = strtod(opt + 7, &end);
		if (*end || end == opt + 7 || p->weight < 0 || p->weight > 1000)
			return SS_ESYNTAX;
	}
	snprintf(buf, sizeof(buf), "%s,%s", p->addr, p->keyname);
	crypto_generichash(p->box, sizeof(p->box), (const uint8_t *)buf, strlen(buf), NULL, 0);
	return 0;
}

/* Waits ms (p->lock held), or less when the server stops. */
static void nap(fpd_peer *p, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (!p->stop && pthread_cond_timedwait(&p->cond, &p->lock, &ts) != ETIMEDOUT)
		;
}

/* Whether a reply settles the push (stored, or refused for good). */
static int settled(int rc, const fpp_msg *rep)
{
	return !rc && rep->status != FPP_ERATE && rep->status != FPP_ESERVER &&
	       rep->status != FPP_ETIME && rep->status != FPP_EREPLAY;
}

/* Pushes the oldest row of p's outbox (p->lock not held): 1 pushed (or a
 * damaged row dropped), 0 the outbox is empty, -1 to be retried. */
static int push_one(fpd_peer *p)
{
	fpp_msg m, rep;
	uint64_t seq;
	int r = fstore_outbox_first(p->store, p->box, &seq, &m);

	if (r == SS_ECORRUPT)
		fprintf(stderr, "spamsift-fpd: peer %s: dropped a damaged outbox row\n", p->addr);
	else if (r <= 0)
		return r < 0 ? -1 : 0;
	else if (!settled(fpc_request(p->client, &m, 0, 2000, &rep), &rep))
		return -1;
	return fstore_outbox_done(p->store, p->box, seq) ? -1 : 1;
}

static void *peer_main(void *arg)
{
	fpd_peer *p = arg;
	unsigned backoff = 100;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		p->wake = 0;
		pthread_mutex_unlock(&p->lock);
		int r = push_one(p);
		pthread_mutex_lock(&p->lock);
		if (r > 0) {
			p->pushed++;
			backoff = 100;
		} else if (r < 0) {
			nap(p, backoff);
			backoff = backoff < 5000 ? backoff * 2 : 5000;
		} else if (!p->wake && !p->stop) {
			pthread_cond_wait(&p->cond, &p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int fpd_peer_start(fpd_peer *p, const fpp_key *k, fstore *store)
{
	int rc;

	p->store = store;
	if ((rc = fpc_new(p->addr, k, &p->client)))
		return rc;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, peer_main, p))
		return SS_ENOMEM;
	p->started = 1;
	return 0;
}

void fpd_peer_wake(fpd_peer *p)
{
	pthread_mutex_lock(&p->lock);
	p->wake = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void fpd_peer_stop(fpd_peer *p)
{
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->stop = 1;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
	}
	fpc_free(p->client);
	p->client = NULL;
	p->started = 0;
}
