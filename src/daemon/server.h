/*
 * server.h: listening sockets, worker threads with one libev loop each,
 * and connections with buffered output, timeouts and limits. What is said
 * on a connection belongs to its door (door_ops): the spamd door now, the
 * milter and HTTP doors later, all on the same loops.
 *
 * Every worker watches every listening socket (non-blocking accept; the
 * kernel hands each connection to one of them) and serves its connections
 * to the end: a door's callbacks run on its connection's worker thread and
 * may scan there (the engine is thread-safe). A connection has an idle
 * timer (reset by each read), a request deadline (from the first byte of
 * a request to its reply, as the door marks them), its door's state, an output buffer, and once
 * its reply is queued, "finishing": the output is flushed, the write side
 * shut, and what the client still sends is read and dropped until it
 * closes (so that closing never resets the connection before the reply is
 * read) or the timer fires.
 *
 * Bytes a callback queued with conn_send() are written when it returns;
 * while more than CONN_OUT_HIGH bytes wait for a client that does not read
 * them (pipelining), its connection is not read either.
 *
 * Shutdown (server_stop, from any thread): listeners close, connections in
 * flight are finished, then server_run returns.
 *
 * Reload (SIGHUP, server_on_reload and server_swap): a new generation
 * (engine, limits, door settings) replaces the current one for what the
 * workers do next; the listeners and threads stay.
 *
 * Counters (daemon/metrics.h) are kept per door: connections here, scans
 * and feedback through conn_scan(), conn_learn() and conn_unlearn(), which
 * every door calls instead of the engine's functions.
 */
#ifndef SS_DAEMON_SERVER_H
#define SS_DAEMON_SERVER_H

#include <stddef.h>

#include "daemon/config.h"
#include "daemon/metrics.h"
#include "engine/engine.h"
#include "history/history.h"
#include "web/auth.h"

typedef struct server server;
typedef struct conn conn;

/* What a door does with the bytes of its connections. */
typedef struct door_ops {
	const char *name;  /* "spamd" */
	size_t state_size; /* bytes of per-connection state (zeroed) */
	/* A connection was accepted; its state is zeroed. */
	void (*open)(conn *c);
	/* Bytes arrived (not called once the connection is finishing). */
	void (*input)(conn *c, const char *buf, size_t len);
	/* The client closed its side before the door finished. */
	void (*eof)(conn *c);
	/* The idle timer fired while the door was still reading. */
	void (*timeout)(conn *c);
	/* The request deadline passed (conn_request_begin): queue the door's
	 * error reply, if its protocol has one, or nothing. The server then
	 * finishes the connection (flush, shut, close). May be NULL. */
	void (*deadline)(conn *c);
	/* The connection is going away: release the state's contents. */
	void (*close)(conn *c);
	/* Too many connections: the one-line refusal to write, or NULL. */
	const char *busy_reply;
} door_ops;

/* Limits shared by every connection. */
typedef struct server_limits {
	size_t max_size;        /* bytes of one message (the door enforces it) */
	double timeout;         /* seconds a client may stay silent */
	double request_timeout; /* seconds from a request's start to its reply; 0: none */
	size_t max_conns;       /* open connections, all workers together */
	unsigned nthreads;      /* worker threads (loops); fixed by the first generation */
} server_limits;

/* A generation: what the doors serve with under one configuration, the
 * engine, the limits and the door settings. The caller fills it (usually
 * as the first member of a larger struct) and hands it to server_new() or
 * server_swap(); it is immutable from then on and shared by reference
 * counts: the server holds one while it is current, each worker one while
 * it serves with it. `free` is called once, on whatever thread lets go
 * last, when no callback can be using it any more. */
typedef struct server_gen {
	engine *e;
	server_limits lim;
	const config *conf;
	store *model;        /* the model the engine uses (status page), or NULL */
	const char *db_path; /* its folder, or NULL */
	void (*free)(struct server_gen *g);
	int refs; /* the server's business */
} server_gen;

/* Returns a new server serving with generation g (taken over), or NULL
 * (g is then still the caller's). */
server *server_new(server_gen *g);
/* Frees the server and lets go of its current generation. */
void server_free(server *s);

/* Makes g the current generation (taken over): each worker moves to it
 * between two callbacks, so a scan in progress finishes on the old one,
 * which is freed when the last worker has moved. Call from the thread
 * that runs server_run() (the reload callback) or before it. */
void server_swap(server *s, server_gen *g);

/* Calls fn(s, arg) on server_run()'s thread when SIGHUP arrives. */
void server_on_reload(server *s, void (*fn)(server *s, void *arg), void *arg);

/* Listens on `addr` for door d: "HOST:PORT" (IPv4, or [IPv6]:PORT; port 0
 * picks a free one) or "unix:/path" (a stale socket file is replaced).
 * Stores the bound address ("127.0.0.1:40123", "unix:/path") in bound.
 * Returns 0 or -1 after logging why. */
int server_listen(server *s, const door_ops *d, const char *addr, char *bound, size_t blen);

/* Starts the workers and serves until server_stop(); then finishes the
 * connections in flight and returns 0 (-1 when a worker could not start). */
int server_run(server *s);

/* The server's counters (read them with metrics_render). */
const metrics *server_metrics(const server *s);

/* The daemon-wide parts of the web page (issue 8), set before
 * server_run() and outliving it: the scan history (every successful
 * conn_scan() is recorded into w, the message kept when at most raw_cap
 * bytes; w and h may be NULL: no history) and the login sessions. */
void server_set_web(server *s, history *h, history_writer *w, size_t raw_cap,
                    web_sessions *sessions);

/* Asks the server to stop (async-signal-unsafe: call from a loop callback
 * or a thread, not from a signal handler). */
void server_stop(server *s);

/* ---- for doors ---- */

/* The door state of c (state_size bytes). */
void *conn_state(conn *c);
/* The engine, limits and settings c serves with: those of its worker's
 * generation, the same for the whole of a callback. */
engine *conn_engine(conn *c);
const server_limits *conn_limits(conn *c);
const config *conn_config(conn *c);
const server_gen *conn_gen(conn *c);
/* The client's address as text, for logs. */
const char *conn_peer(conn *c);
/* Queues bytes to send; what a door queues while handling input is
 * written when its input callback returns, so a door may answer many
 * times on one connection (milter). Returns 0 or SS_ENOMEM. */
int conn_send(conn *c, const char *p, size_t len);
/* The reply is complete: flush it, shut the write side, drop what the
 * client still sends, close. */
void conn_finish(conn *c);
/* Marks c as between requests (1) or in one (0, the default once it has
 * sent a byte): a stopping server closes idle connections at once. */
void conn_set_idle(conn *c, int idle);
/* A request starts (its first byte came): unless one is running already,
 * a deadline of the generation's request_timeout starts, and when it
 * passes before conn_request_end() the connection is dropped with a log
 * line, counted as a timeout, after the door's deadline callback. Both
 * are cheap and idempotent; conn_finish() ends the request too. */
void conn_request_begin(conn *c);
/* The request's reply is queued (or it was abandoned): no deadline. */
void conn_request_end(conn *c);
/* Returns whether the server is stopping (a door ends keep-alive). */
int conn_stopping(conn *c);

/* The counters of c's door, and of the whole server. */
metrics_door *conn_door_metrics(conn *c);
const metrics *conn_metrics(conn *c);
/* engine_scan(), engine_learn() and engine_unlearn() on c's engine, timed
 * and counted in the door's metrics (errors included). Same contracts. */
int conn_scan(conn *c, const char *user, const engine_envelope *env, const char *msg, size_t len,
              ss_arena *a, engine_result *r);
int conn_learn(conn *c, const char *user, int is_spam, const char *msg, size_t len,
               engine_learned *what);
int conn_unlearn(conn *c, const char *user, const char *msg, size_t len, engine_learned *what);
/* The history, its writer and the sessions (server_set_web; may be NULL),
 * the id the last scan on c got in the history (0: none), and the seconds
 * since the server was made. */
history *conn_history(conn *c);
history_writer *conn_history_writer(conn *c);
web_sessions *conn_sessions(conn *c);
uint64_t conn_history_id(conn *c);
double conn_uptime(conn *c);

#endif
