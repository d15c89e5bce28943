/*
 * server.c: listeners, worker loops and connections (see server.h).
 */
#include "daemon/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "daemon/log.h"
#include "util/clock.h"

#define MAX_LISTENERS 16
#define READ_CHUNK 65536
#define DRAIN_MAX (64u << 20)    /* bytes read and dropped after a reply */
#define CONN_OUT_HIGH (1u << 20) /* unsent bytes that pause reading */
#define DEADLINE_LINGER 1.0      /* seconds to read the reply after a deadline */

typedef struct listener {
	int fd;
	const door_ops *door;
	metrics_door *md;
	char addr[128];
	char unix_path[108]; /* removed at exit */
} listener;

typedef struct worker {
	server *s;
	struct ev_loop *loop;
	ev_io accept_w[MAX_LISTENERS];
	ev_async stop_w;
	ev_async reload_w; /* a new generation is current */
	server_gen *gen;   /* what this worker serves with (one reference) */
	pthread_t th;
	int stopping;
	size_t nconns;
	conn *conns;
} worker;

struct server {
	pthread_mutex_t mu; /* guards cur against a swap while taking a reference */
	server_gen *cur;    /* the current generation (one reference) */
	unsigned nthreads;
	void (*on_reload)(server *s, void *arg);
	void *reload_arg;
	listener ls[MAX_LISTENERS];
	size_t nls;
	worker *w;
	unsigned nw;
	size_t nconns; /* all workers (atomic) */
	metrics m;
	history *hist; /* the web page's parts (server_set_web) */
	history_writer *hw;
	size_t raw_cap;
	web_sessions *sessions;
	double started; /* CLOCK_MONOTONIC seconds */
};

struct conn {
	worker *w;
	const door_ops *door;
	metrics_door *md;
	int fd;
	ev_io rio, wio;
	ev_timer timer;
	ev_timer deadline; /* the request's, while one is in progress */
	double deadline_s; /* its length, for the log */
	sbuf out;
	size_t out_off;
	size_t got;     /* bytes read from the client */
	size_t drained; /* bytes dropped while finishing */
	int finishing, wr_shut, rd_eof, dead;
	int idle;     /* between requests (set by the door) */
	uint64_t hid; /* history id of the last scan */
	int paused;   /* reading stopped until the output drains */
	char peer[80];
	conn *prev, *next;
	void *state;
};

/* ---- connections ---- */

void *conn_state(conn *c)
{
	return c->state;
}

engine *conn_engine(conn *c)
{
	return c->w->gen->e;
}

const server_limits *conn_limits(conn *c)
{
	return &c->w->gen->lim;
}

const config *conn_config(conn *c)
{
	return c->w->gen->conf;
}

const server_gen *conn_gen(conn *c)
{
	return c->w->gen;
}

const char *conn_peer(conn *c)
{
	return c->peer;
}

void conn_set_idle(conn *c, int idle)
{
	c->idle = idle;
}

void conn_request_begin(conn *c)
{
	double t = c->w->gen->lim.request_timeout;

	if (c->finishing || t <= 0 || ev_is_active(&c->deadline))
		return;
	c->deadline_s = t;
	ev_timer_set(&c->deadline, t, 0.);
	ev_timer_start(c->w->loop, &c->deadline);
}

void conn_request_end(conn *c)
{
	ev_timer_stop(c->w->loop, &c->deadline);
}

int conn_stopping(conn *c)
{
	return c->w->stopping;
}

metrics_door *conn_door_metrics(conn *c)
{
	return c->md;
}

const metrics *conn_metrics(conn *c)
{
	return &c->w->s->m;
}

const metrics *server_metrics(const server *s)
{
	return &s->m;
}

/* Queues the scan into the history, if there is one. */
static void record(conn *c, const char *user, const engine_envelope *env, const char *msg,
                   size_t len, const engine_result *r, double secs)
{
	server *s = c->w->s;
	struct timespec ts;
	history_scan hs = {c->door->name, user, env, msg, len, r, secs * 1e3, 0, s->raw_cap};
	history_rec *rec;

	c->hid = 0;
	if (!s->hw)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	hs.time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if ((rec = history_rec_make(&hs)))
		c->hid = history_writer_push(s->hw, rec);
}

int conn_scan(conn *c, const char *user, const engine_envelope *env, const char *msg, size_t len,
              ss_arena *a, engine_result *r)
{
	double t0 = ss_mono_s();
	int err = engine_scan(conn_engine(c), user, env, msg, len, a, r);

	if (err) {
		metrics_engine_error(c->md, err);
	} else {
		metrics_scan(c->md, r->action, ss_mono_s() - t0);
		record(c, user, env, msg, len, r, ss_mono_s() - t0);
	}
	return err;
}

history *conn_history(conn *c)
{
	return c->w->s->hist;
}

history_writer *conn_history_writer(conn *c)
{
	return c->w->s->hw;
}

web_sessions *conn_sessions(conn *c)
{
	return c->w->s->sessions;
}

uint64_t conn_history_id(conn *c)
{
	return c->hid;
}

double conn_uptime(conn *c)
{
	return ss_mono_s() - c->w->s->started;
}

void server_set_web(server *s, history *h, history_writer *w, size_t raw_cap,
                    web_sessions *sessions)
{
	s->hist = h;
	s->hw = w;
	s->raw_cap = raw_cap;
	s->sessions = sessions;
}

int conn_learn(conn *c, const char *user, int is_spam, const char *msg, size_t len,
               engine_learned *what)
{
	engine_learned w = ENGINE_UNCHANGED;
	int err = engine_learn(conn_engine(c), user, is_spam, msg, len, &w);

	if (err)
		metrics_engine_error(c->md, err);
	else
		metrics_feedback(c->md, is_spam != 0, w);
	if (what)
		*what = w;
	return err;
}

int conn_unlearn(conn *c, const char *user, const char *msg, size_t len, engine_learned *what)
{
	engine_learned w = ENGINE_UNCHANGED;
	int err = engine_unlearn(conn_engine(c), user, msg, len, &w);

	if (err)
		metrics_engine_error(c->md, err);
	else
		metrics_feedback(c->md, -1, w);
	if (what)
		*what = w;
	return err;
}

static void conn_close(conn *c)
{
	worker *w = c->w;

	if (c->door->close)
		c->door->close(c);
	ev_io_stop(w->loop, &c->rio);
	ev_io_stop(w->loop, &c->wio);
	ev_timer_stop(w->loop, &c->timer);
	ev_timer_stop(w->loop, &c->deadline);
	close(c->fd);
	sbuf_release(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	metrics_conn(c->md, -1);
	free(c);
	w->nconns--;
	__atomic_sub_fetch(&w->s->nconns, 1, __ATOMIC_RELAXED);
	if (w->stopping && !w->nconns)
		ev_break(w->loop, EVBREAK_ALL);
}

/* Writes what is queued; at the end of a finished reply, shuts the write
 * side. Marks the connection dead on a write error. */
static void flush(conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n =
		    send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(c->w->loop, &c->wio);
			return;
		} else {
			log_msg(LOG_INFO, "%s %s: write: %s", c->door->name, c->peer,
			        strerror(errno));
			c->dead = 1;
			return;
		}
	}
	ev_io_stop(c->w->loop, &c->wio);
	sbuf_reset(&c->out);
	c->out_off = 0;
	if (c->paused && !c->rd_eof) {
		c->paused = 0;
		ev_io_start(c->w->loop, &c->rio);
	}
	if (c->finishing && !c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = 1;
	}
}

int conn_send(conn *c, const char *p, size_t len)
{
	return sbuf_add(&c->out, p, len);
}

void conn_finish(conn *c)
{
	if (c->finishing)
		return;
	c->finishing = 1;
	conn_request_end(c);
	/* From now on the client has one timeout to read the reply and leave. */
	ev_timer_again(c->w->loop, &c->timer);
	flush(c);
}

/* After any callback: closes what is done with. Returns 1 when closed. */
static int settle(conn *c)
{
	if (c->dead || (c->wr_shut && c->rd_eof)) {
		conn_close(c);
		return 1;
	}
	return 0;
}

static void on_eof(conn *c)
{
	c->rd_eof = 1;
	ev_io_stop(c->w->loop, &c->rio);
	if (!c->finishing && c->door->eof)
		c->door->eof(c);
	if (!c->finishing)
		c->dead = 1; /* nothing to say: close */
}

/* Writes what the door queued (keep-alive replies); a client that does
 * not read them is not read either until they drain. */
static void after_input(conn *c)
{
	if (c->finishing || c->dead || c->out_off >= c->out.len)
		return;
	flush(c);
	if (!c->dead && c->out.len - c->out_off > CONN_OUT_HIGH) {
		c->paused = 1;
		ev_io_stop(c->w->loop, &c->rio);
	}
}

static void on_read(struct ev_loop *loop, ev_io *io, int revents)
{
	conn *c = io->data;
	char buf[READ_CHUNK];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	(void)loop;
	(void)revents;
	if (n > 0 && c->finishing) {
		c->drained += (size_t)n;
		c->dead = c->drained > DRAIN_MAX;
	} else if (n > 0) {
		c->got += (size_t)n;
		c->idle = 0;
		ev_timer_again(c->w->loop, &c->timer);
		c->door->input(c, buf, (size_t)n);
		after_input(c);
	} else if (n == 0) {
		on_eof(c);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		log_msg(LOG_INFO, "%s %s: read: %s", c->door->name, c->peer, strerror(errno));
		c->dead = 1;
	}
	settle(c);
}

static void on_write(struct ev_loop *loop, ev_io *io, int revents)
{
	conn *c = io->data;

	(void)loop;
	(void)revents;
	flush(c);
	settle(c);
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	conn *c = t->data;

	(void)loop;
	(void)revents;
	if (!c->finishing) {
		log_msg(LOG_WARN, "%s %s: no data for %.1f s: dropped", c->door->name, c->peer,
		        c->timer.repeat);
		metrics_error_add(c->md, METRICS_ERR_TIMEOUT);
		if (c->door->timeout)
			c->door->timeout(c);
	}
	conn_close(c);
}

/* The request took too long, however steadily its bytes came: the door's
 * error reply, then a short while for the client to read it. */
static void on_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
	conn *c = t->data;

	(void)revents;
	if (c->finishing)
		return;
	log_msg(LOG_WARN, "%s %s: request not complete after %.1f s: dropped", c->door->name,
	        c->peer, c->deadline_s);
	metrics_error_add(c->md, METRICS_ERR_TIMEOUT);
	if (c->door->deadline)
		c->door->deadline(c);
	conn_finish(c);
	if (c->timer.repeat > DEADLINE_LINGER)
		c->timer.repeat = DEADLINE_LINGER;
	ev_timer_again(loop, &c->timer);
	settle(c);
}

static void peer_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		snprintf(out, len, "unix");
	}
}

static void conn_open(worker *w, const listener *l, int fd, const struct sockaddr_storage *ss)
{
	conn *c = calloc(1, sizeof(*c) + l->door->state_size);

	if (!c) {
		close(fd);
		__atomic_sub_fetch(&w->s->nconns, 1, __ATOMIC_RELAXED);
		return;
	}
	c->w = w;
	c->door = l->door;
	c->md = l->md;
	c->fd = fd;
	c->state = c + 1;
	peer_text(ss, c->peer, sizeof(c->peer));
	ev_io_init(&c->rio, on_read, fd, EV_READ);
	ev_io_init(&c->wio, on_write, fd, EV_WRITE);
	ev_init(&c->timer, on_timer);
	ev_init(&c->deadline, on_deadline);
	c->rio.data = c->wio.data = c->timer.data = c->deadline.data = c;
	c->timer.repeat = w->gen->lim.timeout;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	ev_io_start(w->loop, &c->rio);
	ev_timer_again(w->loop, &c->timer);
	metrics_conn(c->md, 1);
	if (c->door->open)
		c->door->open(c);
}

/* ---- accepting ---- */

static void refuse(const listener *l, int fd)
{
	const char *r = l->door->busy_reply;

	metrics_refused(l->md);
	if (r && send(fd, r, strlen(r), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		(void)0; /* best effort: the client sees the close anyway */
	close(fd);
}

static void on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	worker *w = ev_userdata(loop);
	const listener *l = io->data;

	(void)revents;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_msg(LOG_WARN, "%s: accept: %s", l->addr, strerror(errno));
			return;
		}
		size_t max = w->gen->lim.max_conns;
		if (__atomic_add_fetch(&w->s->nconns, 1, __ATOMIC_RELAXED) > max) {
			__atomic_sub_fetch(&w->s->nconns, 1, __ATOMIC_RELAXED);
			log_msg(LOG_WARN, "%s: %zu connections open: refused one", l->addr, max);
			refuse(l, fd);
			continue;
		}
		conn_open(w, l, fd, &ss);
	}
}

/* ---- stopping ---- */

static void on_stop(struct ev_loop *loop, ev_async *a, int revents)
{
	worker *w = ev_userdata(loop);

	(void)a;
	(void)revents;
	w->stopping = 1;
	for (size_t i = 0; i < w->s->nls; i++)
		ev_io_stop(loop, &w->accept_w[i]);
	/* Connections that have sent nothing yet are not in flight. */
	for (conn *c = w->conns, *next; c; c = next) {
		next = c->next;
		if ((!c->got || c->idle) && !c->finishing)
			conn_close(c);
	}
	if (!w->nconns)
		ev_break(loop, EVBREAK_ALL);
}

void server_stop(server *s)
{
	for (unsigned i = 0; i < s->nw; i++)
		ev_async_send(s->w[i].loop, &s->w[i].stop_w);
}

/* ---- generations ---- */

/* Takes a reference to the current generation. */
static server_gen *gen_get(server *s)
{
	server_gen *g;

	pthread_mutex_lock(&s->mu);
	g = s->cur;
	__atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&s->mu);
	return g;
}

/* Lets go of a reference; the last one frees the generation. */
static void gen_put(server_gen *g)
{
	if (g && __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) == 0)
		g->free(g);
}

void server_swap(server *s, server_gen *g)
{
	server_gen *old;

	g->refs = 1;
	pthread_mutex_lock(&s->mu);
	old = s->cur;
	s->cur = g;
	pthread_mutex_unlock(&s->mu);
	for (unsigned i = 0; i < s->nw; i++)
		ev_async_send(s->w[i].loop, &s->w[i].reload_w);
	gen_put(old);
}

/* A worker's quiescent point: no callback of its own is running, so
 * nothing on this thread uses its generation; move to the current one. */
static void on_reload_async(struct ev_loop *loop, ev_async *a, int revents)
{
	worker *w = ev_userdata(loop);
	server_gen *g = gen_get(w->s), *old = w->gen;

	(void)a;
	(void)revents;
	w->gen = g;
	gen_put(old);
}

void server_on_reload(server *s, void (*fn)(server *s, void *arg), void *arg)
{
	s->on_reload = fn;
	s->reload_arg = arg;
}

/* ---- the server ---- */

server *server_new(server_gen *g)
{
	server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	g->refs = 1;
	s->cur = g;
	s->nthreads = g->lim.nthreads ? g->lim.nthreads : 1;
	s->started = ss_mono_s();
	metrics_init(&s->m);
	return s;
}

void server_free(server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nls; i++) {
		close(s->ls[i].fd);
		if (s->ls[i].unix_path[0])
			unlink(s->ls[i].unix_path);
	}
	free(s->w);
	gen_put(s->cur);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int listen_unix(listener *l, const char *path)
{
	struct sockaddr_un sa = {0};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) >= sizeof(l->unix_path)) {
		log_msg(LOG_ERROR, "unix:%s: path too long", path);
		return -1;
	}
	sa.sun_family = AF_UNIX;
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path); /* left by a daemon that did not stop cleanly */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, SOMAXCONN)) {
		log_msg(LOG_ERROR, "unix:%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	l->fd = fd;
	strncpy(l->unix_path, path, sizeof(l->unix_path) - 1);
	snprintf(l->addr, sizeof(l->addr), "unix:%s", path);
	return 0;
}

/* Splits "host:port" or "[v6]:port" into host and port. */
static int split_hostport(const char *addr, char *host, size_t hlen, const char **port)
{
	const char *colon = strrchr(addr, ':');
	size_t n;

	if (!colon || !colon[1])
		return -1;
	*port = colon + 1;
	n = (size_t)(colon - addr);
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (!n || n >= hlen)
		return -1;
	memcpy(host, addr, n);
	host[n] = 0;
	return 0;
}

static int bind_first(const struct addrinfo *ai)
{
	int one = 1;

	for (; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, SOMAXCONN))
			return fd;
		close(fd);
	}
	return -1;
}

static int listen_tcp(listener *l, const char *addr)
{
	struct addrinfo hints = {0}, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256];
	const char *port;
	int rc;

	if (split_hostport(addr, host, sizeof(host), &port)) {
		log_msg(LOG_ERROR, "%s: not HOST:PORT nor unix:/path", addr);
		return -1;
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai))) {
		log_msg(LOG_ERROR, "%s: %s", addr, gai_strerror(rc));
		return -1;
	}
	l->fd = bind_first(ai);
	freeaddrinfo(ai);
	if (l->fd < 0) {
		log_msg(LOG_ERROR, "%s: %s", addr, strerror(errno));
		return -1;
	}
	getsockname(l->fd, (struct sockaddr *)&ss, &sl);
	peer_text(&ss, l->addr, sizeof(l->addr));
	return 0;
}

int server_listen(server *s, const door_ops *d, const char *addr, char *bound, size_t blen)
{
	listener *l = &s->ls[s->nls];
	int rc;

	if (s->nls == MAX_LISTENERS) {
		log_msg(LOG_ERROR, "%s: more than %d listeners", addr, MAX_LISTENERS);
		return -1;
	}
	memset(l, 0, sizeof(*l));
	l->door = d;
	l->md = metrics_door_get(&s->m, d->name);
	rc = strncmp(addr, "unix:", 5) ? listen_tcp(l, addr) : listen_unix(l, addr + 5);
	if (rc)
		return rc;
	s->nls++;
	snprintf(bound, blen, "%s", l->addr);
	return 0;
}

static void *worker_main(void *arg)
{
	worker *w = arg;

	ev_run(w->loop, 0);
	gen_put(w->gen);
	w->gen = NULL;
	ss_thread_release();
	return NULL;
}

static int worker_init(server *s, worker *w)
{
	w->s = s;
	if (!(w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK)))
		return -1;
	ev_set_userdata(w->loop, w);
	ev_async_init(&w->stop_w, on_stop);
	ev_async_start(w->loop, &w->stop_w);
	ev_async_init(&w->reload_w, on_reload_async);
	ev_async_start(w->loop, &w->reload_w);
	w->gen = gen_get(s);
	for (size_t i = 0; i < s->nls; i++) {
		ev_io_init(&w->accept_w[i], on_accept, s->ls[i].fd, EV_READ);
		w->accept_w[i].data = &s->ls[i];
		ev_io_start(w->loop, &w->accept_w[i]);
	}
	return 0;
}

static void on_signal(struct ev_loop *loop, ev_signal *sig, int revents)
{
	server *s = sig->data;

	(void)revents;
	log_msg(LOG_INFO, "%s: stopping (finishing connections in flight)",
	        sig->signum == SIGTERM ? "SIGTERM" : "SIGINT");
	server_stop(s);
	ev_break(loop, EVBREAK_ALL);
}

static void on_hup(struct ev_loop *loop, ev_signal *sig, int revents)
{
	server *s = sig->data;

	(void)loop;
	(void)revents;
	if (s->on_reload)
		s->on_reload(s, s->reload_arg);
	else
		log_msg(LOG_INFO, "SIGHUP: nothing to reload");
}

/* Starts the worker threads with the termination signals blocked, so that
 * only the main thread (its default loop) sees them. */
static int start_workers(server *s)
{
	sigset_t block, old;
	int err = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (unsigned i = 0; !err && i < s->nthreads; i++) {
		err = worker_init(s, &s->w[i]) ||
		      pthread_create(&s->w[i].th, NULL, worker_main, &s->w[i]);
		if (!err) {
			s->nw++;
			continue;
		}
		gen_put(s->w[i].gen);
		if (s->w[i].loop)
			ev_loop_destroy(s->w[i].loop);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err ? -1 : 0;
}

int server_run(server *s)
{
	struct ev_loop *main_loop = ev_default_loop(0);
	ev_signal term, intr, hup;
	int err;

	if (!main_loop || !(s->w = calloc(s->nthreads, sizeof(*s->w))))
		return -1;
	err = start_workers(s);
	ev_signal_init(&term, on_signal, SIGTERM);
	ev_signal_init(&intr, on_signal, SIGINT);
	ev_signal_init(&hup, on_hup, SIGHUP);
	term.data = intr.data = hup.data = s;
	ev_signal_start(main_loop, &term);
	ev_signal_start(main_loop, &intr);
	ev_signal_start(main_loop, &hup);
	if (!err)
		ev_run(main_loop, 0);
	else
		server_stop(s);
	for (unsigned i = 0; i < s->nw; i++) {
		pthread_join(s->w[i].th, NULL);
		ev_loop_destroy(s->w[i].loop);
	}
	ev_signal_stop(main_loop, &term);
	ev_signal_stop(main_loop, &intr);
	ev_signal_stop(main_loop, &hup);
	return err;
}
