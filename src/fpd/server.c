/*
 * server.c: spamsift-fpd's requests and sockets (see fpd.h): checks a
 * packet's key, box, timestamp, nonce and rate; runs PING, ADD, LOOKUP or
 * DEL on the store; queues accepted ADDs and DELs for the peers; serves UDP
 * datagrams and length-prefixed TCP frames on one libev loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fpd/fpd.h"
#include "spamsift.h"

#define TCP_MAX_OUT (1 << 20) /* replies queued before reading stops */

static fpd_key *find_key(fpd *d, const char *name)
{
	for (size_t i = 0; i < d->nkeys; i++)
		if (!strcmp(d->keys[i].key.name, name))
			return &d->keys[i];
	return NULL;
}

/* Takes a token from k's bucket; 0 when the rate is exceeded. */
static int rate_ok(fpd_key *k)
{
	uint64_t now = fpc_now_ms();

	if (!k->key.rate)
		return 1;
	k->tokens += (double)(now - k->refilled_ms) * k->key.rate / 1000.0;
	k->refilled_ms = now;
	if (k->tokens > k->key.rate)
		k->tokens = k->key.rate;
	if (k->tokens < 1)
		return 0;
	k->tokens -= 1;
	return 1;
}

static int was_visited(const fpp_msg *m, const uint8_t *id)
{
	for (size_t i = 0; i < m->nvisited; i++)
		if (!memcmp(m->visited[i], id, FPP_SERVER_ID))
			return 1;
	return 0;
}

/* Prepares *out, the copy of change m that goes on to the peers (this
 * server added to its visited list), and the outboxes of the peers that
 * have not seen it; a full visited list goes nowhere. */
static void forward(fpd *d, const fpp_msg *m, double weight, fpp_msg *out, fstore_fed *fed,
                    uint8_t boxes[][FSTORE_PEER_ID], fpd_peer **to)
{
	*out = *m;
	fed->out = out;
	fed->peers = (const uint8_t(*)[FSTORE_PEER_ID])boxes;
	fed->npeers = 0;
	fed->limit = d->peer_queue;
	if (out->nvisited >= FPP_MAX_VISITED)
		return;
	memcpy(out->visited[out->nvisited++], fstore_server_id(d->store), FPP_SERVER_ID);
	out->hops++;
	out->weight = m->cmd == FPP_ADD ? weight : 0;
	for (size_t i = 0; i < d->npeers; i++)
		if (!(d->peers[i].id_known && was_visited(out, d->peers[i].id))) {
			memcpy(boxes[fed->npeers], d->peers[i].box, FSTORE_PEER_ID);
			to[fed->npeers++] = &d->peers[i];
		}
}

/* Logs outbox rows dropped for --peer-queue (the first, then every 1000th). */
static void note_dropped(fpd *d, unsigned n)
{
	uint64_t before = d->dropped;

	d->dropped += n;
	if (!before || before / 1000 != d->dropped / 1000)
		fprintf(stderr,
		        "spamsift-fpd: a peer's outbox is full (--peer-queue %llu): dropped its "
		        "oldest push (%llu so far)\n",
		        (unsigned long long)d->peer_queue, (unsigned long long)d->dropped);
}

/* ADD or DEL: from a client (this server is the origin) or pushed by a
 * peer (its origin and visited list kept); stored with its outbox rows in
 * one transaction, then the peers' threads are woken. */
static int do_change(fpd *d, fpd_key *k, fpp_msg *m, uint64_t now)
{
	const uint8_t *self = fstore_server_id(d->store);
	fpd_peer *p = k->peer ? &d->peers[k->peer - 1] : NULL, *to[FPD_MAX_PEERS];
	uint8_t boxes[FPD_MAX_PEERS][FSTORE_PEER_ID];
	double weight = m->cmd == FPP_ADD ? m->weight : 0;
	fstore_fed fed;
	fpp_msg out;

	if (k->key.read_only)
		return FPP_EREADONLY;
	if (p && m->nvisited) {
		/* from a peer: learn its id, stop loops, scale by its trust */
		memcpy(p->id, m->visited[m->nvisited - 1], FPP_SERVER_ID);
		p->id_known = 1;
		if (was_visited(m, self)) {
			d->loops++;
			return FPP_OK;
		}
		weight *= p->weight;
	} else {
		memcpy(m->origin, self, FPP_SERVER_ID);
		m->origin_seq = 0; /* numbered by the store when queued */
		m->nvisited = m->hops = 0;
		snprintf(m->reporter, sizeof(m->reporter), "%s", k->key.name);
	}
	weight = weight > 4000000 ? 4000000 : weight;
	forward(d, m, weight, &out, &fed, boxes, to);
	if (fstore_change(d->store, m, weight, now, &fed))
		return FPP_ESERVER;
	if (fed.dropped)
		note_dropped(d, fed.dropped);
	if (fed.duplicate) {
		d->duplicates++;
		return FPP_OK;
	}
	for (size_t i = 0; i < fed.npeers; i++)
		fpd_peer_wake(to[i]);
	return m->cmd == FPP_DEL && !fed.deleted ? FPP_NOTFOUND : FPP_OK;
}

static int run(fpd *d, fpd_key *k, fpp_msg *m, int udp, fpp_msg *rep, uint64_t now)
{
	switch (m->cmd) {
	case FPP_PING:
		return FPP_OK;
	case FPP_LOOKUP:
		if (!m->has_text && !m->ndigests)
			return FPP_EBADREQ;
		if (fstore_lookup(d->store, m, rep))
			return FPP_ESERVER;
		return rep->found ? FPP_OK : FPP_NOTFOUND;
	case FPP_ADD:
	case FPP_DEL:
		if (udp || (!m->has_text && !m->ndigests))
			return FPP_EBADREQ;
		return do_change(d, k, m, now);
	}
	return FPP_EBADREQ;
}

/* The status of a request that opened under its key. */
static int admit(fpd *d, fpd_key *k, const fpp_envelope *env, const fpp_msg *m, uint64_t now)
{
	int r;

	if (m->ts + FPP_WINDOW < now || m->ts > now + FPP_WINDOW)
		return FPP_ETIME;
	if ((r = replay_check(d->nonces, env->nonce, now)))
		return r > 0 ? FPP_EREPLAY : FPP_ESERVER;
	return rate_ok(k) ? FPP_OK : FPP_ERATE;
}

size_t fpd_handle(fpd *d, const uint8_t *pkt, size_t len, int udp, uint8_t *out, size_t cap)
{
	fpp_envelope env;
	fpp_msg m, rep;
	fpd_key *k;
	uint64_t now = (uint64_t)time(NULL);
	int n;

	d->requests++;
	if (fpp_envelope_parse(pkt, len, &env) || !(k = find_key(d, env.name)) ||
	    fpp_open(&env, k->key.secret, &m) || m.is_reply) {
		d->refused++;
		return 0;
	}
	memset(&rep, 0, sizeof(rep));
	rep.status = (uint8_t)admit(d, k, &env, &m, now);
	if (rep.status == FPP_OK)
		rep.status = (uint8_t)run(d, k, &m, udp, &rep, now);
	rep.cmd = m.cmd;
	rep.is_reply = 1;
	rep.ts = now;
	rep.reqid = m.reqid;
	n = fpp_seal(k->key.name, k->key.secret, &rep, out, cap);
	return n > 0 ? (size_t)n : 0;
}

/* ---- sockets ---- */

static void on_udp(struct ev_loop *loop, ev_io *w, int revents)
{
	fpd *d = ev_userdata(loop);
	uint8_t in[FPP_MAX_PACKET + 1], out[FPP_MAX_PACKET];
	struct sockaddr_storage sa;

	for (int i = 0; i < 64; i++) {
		socklen_t sl = sizeof(sa);
		ssize_t n = recvfrom(w->fd, in, sizeof(in), 0, (struct sockaddr *)&sa, &sl);
		if (n < 0)
			return;
		size_t rl = fpd_handle(d, in, (size_t)n, 1, out, sizeof(out));
		if (rl)
			sendto(w->fd, out, rl, 0, (struct sockaddr *)&sa, sl);
	}
}

/* A TCP connection: frames in, replies out. */
typedef struct conn {
	ev_io rio, wio;
	ev_timer idle_w; /* closes a connection silent for fpd.idle seconds */
	fpd *d;
	uint8_t in[4 + FPP_MAX_PACKET];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outoff, outcap;
} conn;

static void conn_close(struct ev_loop *loop, conn *c)
{
	ev_io_stop(loop, &c->rio);
	ev_io_stop(loop, &c->wio);
	ev_timer_stop(loop, &c->idle_w);
	c->d->nconns--;
	close(c->rio.fd);
	free(c->out);
	free(c);
}

static int queue_reply(conn *c, const uint8_t *p, size_t len)
{
	if (c->outlen + 4 + len > c->outcap) {
		size_t cap = (c->outlen + 4 + len) * 2;
		uint8_t *o = realloc(c->out, cap);
		if (!o)
			return SS_ENOMEM;
		c->out = o;
		c->outcap = cap;
	}
	uint8_t *h = c->out + c->outlen;
	h[0] = (uint8_t)(len >> 24), h[1] = (uint8_t)(len >> 16), h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	memcpy(h + 4, p, len);
	c->outlen += 4 + len;
	return 0;
}

/* Handles every whole frame in c->in; SS_EINVAL for an oversize frame. */
static int take_frames(fpd *d, conn *c)
{
	uint8_t out[FPP_MAX_PACKET];
	size_t off = 0;
	int rc = 0;

	while (!rc && c->inlen - off >= 4) {
		const uint8_t *h = c->in + off;
		size_t fl = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
		if (fl > FPP_MAX_PACKET)
			return SS_EINVAL;
		if (c->inlen - off - 4 < fl)
			break;
		size_t rl = fpd_handle(d, h + 4, fl, 0, out, sizeof(out));
		rc = rl ? queue_reply(c, out, rl) : 0;
		off += 4 + fl;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return rc;
}

static int flush_out(struct ev_loop *loop, conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n =
		    send(c->wio.fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0)
			return SS_EIO;
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		ev_io_stop(loop, &c->wio);
		ev_io_start(loop, &c->rio);
	} else {
		ev_io_start(loop, &c->wio);
		if (c->outlen > TCP_MAX_OUT)
			ev_io_stop(loop, &c->rio);
	}
	return 0;
}

static void on_conn_read(struct ev_loop *loop, ev_io *w, int revents)
{
	conn *c = w->data;
	ssize_t n = recv(w->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		c->inlen += (size_t)n;
		ev_timer_again(loop, &c->idle_w);
	}
	if (n <= 0 || take_frames(ev_userdata(loop), c) || flush_out(loop, c))
		conn_close(loop, c);
}

static void on_conn_write(struct ev_loop *loop, ev_io *w, int revents)
{
	conn *c = w->data;

	if (flush_out(loop, c))
		conn_close(loop, c);
}

static void on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_close(loop, w->data);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	fpd *d = ev_userdata(loop);
	conn *c;

	if (fd < 0)
		return;
	if (d->nconns >= d->max_conns || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	d->nconns++;
	c->d = d;
	ev_io_init(&c->rio, on_conn_read, fd, EV_READ);
	ev_io_init(&c->wio, on_conn_write, fd, EV_WRITE);
	ev_timer_init(&c->idle_w, on_idle, 0., d->idle);
	c->rio.data = c->wio.data = c->idle_w.data = c;
	ev_io_start(loop, &c->rio);
	ev_timer_again(loop, &c->idle_w);
}

static int parse_listen(const char *addr, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return SS_EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	port = strtol(colon + 1, &end, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (*end || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return SS_EINVAL;
	return 0;
}

static int bind_pair(fpd *d, struct sockaddr_in *sa)
{
	int one = 1;
	socklen_t sl = sizeof(*sa);

	d->tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	d->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->tcp_fd < 0 || d->udp_fd < 0)
		return SS_EIO;
	setsockopt(d->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(d->tcp_fd, (struct sockaddr *)sa, sizeof(*sa)) || listen(d->tcp_fd, SOMAXCONN) ||
	    getsockname(d->tcp_fd, (struct sockaddr *)sa, &sl) ||
	    bind(d->udp_fd, (struct sockaddr *)sa, sizeof(*sa)))
		return SS_EIO;
	return 0;
}

int fpd_listen(fpd *d, const char *addr, char *bound, size_t blen)
{
	struct sockaddr_in sa, want;
	char host[INET_ADDRSTRLEN];
	int rc = SS_EIO;

	if (parse_listen(addr, &want))
		return SS_EINVAL;
	for (int tries = 0; rc && tries < 20; tries++) {
		if (tries) {
			close(d->tcp_fd);
			close(d->udp_fd);
		}
		sa = want;
		rc = bind_pair(d, &sa);
		if (rc && want.sin_port)
			break; /* a fixed port: no second chance */
	}
	if (rc)
		return rc;
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
	snprintf(bound, blen, "%s:%u", host, ntohs(sa.sin_port));
	return 0;
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void on_expire(struct ev_loop *loop, ev_timer *w, int revents)
{
	fpd *d = ev_userdata(loop);
	uint64_t now = (uint64_t)time(NULL), age = (uint64_t)(d->expire_days * 86400);
	unsigned n = 0;

	if (d->expire_days > 0 && now > age && !fstore_expire(d->store, now - age, &n) && n)
		fprintf(stderr, "spamsift-fpd: expired %u entries\n", n);
}

int fpd_run(fpd *d)
{
	if (!(d->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK)) || !(d->nonces = replay_new()))
		return SS_ENOMEM;
	ev_set_userdata(d->loop, d);
	ev_io_init(&d->udp_w, on_udp, d->udp_fd, EV_READ);
	ev_io_init(&d->tcp_w, on_accept, d->tcp_fd, EV_READ);
	ev_timer_init(&d->expire_w, on_expire, 0., d->expire_every);
	ev_signal_init(&d->term_w, on_stop, SIGTERM);
	ev_signal_init(&d->int_w, on_stop, SIGINT);
	ev_io_start(d->loop, &d->udp_w);
	ev_io_start(d->loop, &d->tcp_w);
	ev_timer_start(d->loop, &d->expire_w);
	ev_signal_start(d->loop, &d->term_w);
	ev_signal_start(d->loop, &d->int_w);
	ev_run(d->loop, 0);
	ev_loop_destroy(d->loop);
	replay_free(d->nonces);
	return 0;
}
