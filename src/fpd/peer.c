/*
 * peer.c: federation pushes of spamsift-fpd (see fpd.h): a thread per
 * peer sends the queued ADDs over TCP, retrying with a backoff from 100 ms
 * to 5 s until the peer acknowledges each.
 */
#include <errno.h>
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
	return 0;
}

/* Waits up to ms on p's condition (p->lock held). */
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
	pthread_cond_timedwait(&p->cond, &p->lock, &ts);
}

/* Whether a reply settles the push (stored, or refused for good). */
static int settled(int rc, const fpp_msg *rep)
{
	return !rc && rep->status != FPP_ERATE && rep->status != FPP_ESERVER &&
	       rep->status != FPP_ETIME && rep->status != FPP_EREPLAY;
}

static void *peer_main(void *arg)
{
	fpd_peer *p = arg;
	unsigned backoff = 100;
	fpp_msg m, rep;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		if (!p->n) {
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		m = p->queue[p->head];
		pthread_mutex_unlock(&p->lock);
		int rc = fpc_request(p->client, &m, 0, 2000, &rep);
		pthread_mutex_lock(&p->lock);
		if (settled(rc, &rep)) {
			p->head = (p->head + 1) % FPD_PEER_QUEUE;
			p->n--;
			p->pushed++;
			backoff = 100;
		} else if (!p->stop) {
			nap(p, backoff);
			backoff = backoff < 5000 ? backoff * 2 : 5000;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int fpd_peer_start(fpd_peer *p, const fpp_key *k)
{
	int rc;

	if (!(p->queue = calloc(FPD_PEER_QUEUE, sizeof(*p->queue))))
		return SS_ENOMEM;
	if ((rc = fpc_new(p->addr, k, &p->client)))
		return rc;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, peer_main, p))
		return SS_ENOMEM;
	p->started = 1;
	return 0;
}

void fpd_peer_push(fpd_peer *p, const fpp_msg *m)
{
	pthread_mutex_lock(&p->lock);
	if (p->n == FPD_PEER_QUEUE) {
		p->head = (p->head + 1) % FPD_PEER_QUEUE;
		p->n--;
		p->dropped++;
	}
	p->queue[(p->head + p->n) % FPD_PEER_QUEUE] = *m;
	p->n++;
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
	free(p->queue);
	p->client = NULL;
	p->queue = NULL;
	p->started = 0;
}
