/*
 * fpd.h: spamsift-fpd, the fingerprint server: its state and the parts
 * main.c puts together (server.c: requests, UDP and TCP on libev; peer.c:
 * federation pushes). The event loop runs on one thread; each peer has a
 * pushing thread of its own that drains the peer's outbox in the store
 * (fstore.h), woken when a change is queued for it.
 */
#ifndef SS_FPD_FPD_H
#define SS_FPD_FPD_H

#include <ev.h>
#include <pthread.h>
#include <stdint.h>

#include "fpd/client.h"
#include "fpd/fstore.h"
#include "fpd/replay.h"
#include "proto/fpp.h"

#define FPD_MAX_KEYS 1024
#define FPD_MAX_PEERS 16
#define FPD_PEER_QUEUE 100000 /* default --peer-queue: rows per peer's outbox */

/* A key of the keys file and its rate limiter (a token bucket). */
typedef struct fpd_key {
	fpp_key key;
	double tokens;
	uint64_t refilled_ms;
	int peer; /* 1 + the index of the peer using this key, or 0 */
} fpd_key;

/* A federation peer: where, with which key, how much we trust it. */
typedef struct fpd_peer {
	char addr[80];
	char keyname[FPP_NAME_MAX + 1];
	double weight;
	uint8_t id[FPP_SERVER_ID]; /* its server id, once it pushed to us */
	int id_known;
	uint8_t box[FSTORE_PEER_ID]; /* its outbox: a hash of "IP:PORT,KEYNAME" */
	fstore *store;
	fpc *client;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t pushed;
	int wake, stop, started;
} fpd_peer;

typedef struct fpd {
	struct ev_loop *loop;
	fstore *store;
	replay *nonces;
	fpd_key *keys;
	size_t nkeys;
	fpd_peer peers[FPD_MAX_PEERS];
	size_t npeers;
	int udp_fd, tcp_fd;
	ev_io udp_w, tcp_w;
	ev_timer expire_w;
	ev_signal term_w, int_w;
	double expire_days; /* 0: never */
	double expire_every;
	double idle;         /* seconds a TCP connection may stay silent */
	size_t nconns;       /* TCP connections open */
	size_t max_conns;    /* at most (--max-conn); more are closed at accept */
	uint64_t peer_queue; /* rows per peer's outbox (--peer-queue) */
	uint64_t requests, refused, loops, duplicates, dropped;
} fpd;

/* Handles one request packet; writes the sealed reply into out[cap] and
 * returns its length, 0 when the packet is dropped without a reply
 * (unknown key, forged or malformed), never an error. */
size_t fpd_handle(fpd *d, const uint8_t *pkt, size_t len, int udp, uint8_t *out, size_t cap);

/* Binds TCP and UDP on "IP:PORT" (0: a free port, the same for both);
 * writes the bound "IP:PORT" into bound[blen]. Returns 0 or SS_EIO. */
int fpd_listen(fpd *d, const char *addr, char *bound, size_t blen);

/* Runs the event loop until SIGTERM or SIGINT. Returns 0 or SS_ENOMEM. */
int fpd_run(fpd *d);

/* Parses "IP:PORT,KEYNAME[,weight=W]" into *p; returns 0 or SS_ESYNTAX. */
int fpd_peer_parse(const char *spec, fpd_peer *p);

/* Starts p's pushing thread with key k, draining p's outbox in `store`.
 * Returns 0, SS_EINVAL, SS_ENOMEM. */
int fpd_peer_start(fpd_peer *p, const fpp_key *k, fstore *store);

/* Tells p's thread that its outbox has a new row. */
void fpd_peer_wake(fpd_peer *p);

/* Stops p's thread (its outbox stays in the store for the next start)
 * and frees its resources. */
void fpd_peer_stop(fpd_peer *p);

#endif
