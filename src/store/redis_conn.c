/*
 * redis_conn.c: connections to Redis, plain or TLS, logged in (see
 * redis_conn.h).
 */
#include "store/redis_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "store/redis_cluster.h"

#define RELAY_BUF 16384

#define EXIT_WAIT_MS 1000 /* at exit, how long closed relays may take to end */

static SSL_CTX *g_ctx;
static const char *g_why; /* why there is no g_ctx */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* Relays running: at exit, those whose connection was closed are given
 * time to end, so that none is cut off holding its TLS session. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_relays;

static void relays_wait(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += EXIT_WAIT_MS / 1000;
	until.tv_nsec += (EXIT_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L)
		until.tv_sec++, until.tv_nsec -= 1000000000L;
	pthread_mutex_lock(&g_mu);
	while (g_relays > 0 && pthread_cond_timedwait(&g_cv, &g_mu, &until) == 0)
		;
	pthread_mutex_unlock(&g_mu);
}

/* Loads the client's certificate (chain) and key that the environment
 * names, for servers that ask for one (Redis does by default:
 * tls-auth-clients yes). 0, or -1 with g_why set. */
static int client_identity(SSL_CTX *c)
{
	const char *cert = getenv("SPAMSIFT_REDIS_TLS_CERT"),
	           *key = getenv("SPAMSIFT_REDIS_TLS_KEY");

	if ((!cert || !*cert) && (!key || !*key))
		return 0;
	if (!cert || !*cert || !key || !*key)
		return g_why = "SPAMSIFT_REDIS_TLS_CERT and SPAMSIFT_REDIS_TLS_KEY go together", -1;
	if (SSL_CTX_use_certificate_chain_file(c, cert) != 1)
		return g_why = "cannot read the certificate SPAMSIFT_REDIS_TLS_CERT names", -1;
	if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c) != 1)
		return g_why = "the key SPAMSIFT_REDIS_TLS_KEY names cannot be read or does not "
		               "match the certificate",
		       -1;
	return 0;
}

/* The client context: TLS 1.2 or later, peers verified against the
 * default store (which SSL_CERT_FILE / SSL_CERT_DIR may name), and the
 * client's own certificate when the environment names one. */
static void ctx_init(void)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	atexit(relays_wait);
	g_why = "cannot set TLS up";
	if (!c)
		return;
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_default_verify_paths(c) != 1 || client_identity(c)) {
		SSL_CTX_free(c);
		ERR_clear_error();
		return;
	}
	g_ctx = c;
}

static int set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* A TCP connection to host:port within timeout_ms, blocking, with the
 * timeout as its send and receive timeout; -1 when none. */
static int tcp_connect(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *a;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	char service[16];
	int fd = -1;

	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &res))
		return -1;
	for (a = res; a && fd < 0; a = a->ai_next) {
		struct pollfd p;
		int err = 0;
		socklen_t el = sizeof(err);
		if ((fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			continue;
		set_nonblock(fd, 1);
		if (connect(fd, a->ai_addr, a->ai_addrlen) && errno != EINPROGRESS)
			goto next;
		p = (struct pollfd){fd, POLLOUT, 0};
		if (poll(&p, 1, timeout_ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err)
			goto next;
		set_nonblock(fd, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		continue;
	next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* The TLS session over fd, the server's certificate checked for host (a
 * name, or an IP address); NULL when the handshake or the check fails. */
static SSL *tls_open(int fd, const char *host)
{
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	SSL *s;

	pthread_once(&g_once, ctx_init);
	if (!g_ctx || !(s = SSL_new(g_ctx)))
		return NULL;
	if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), host) != 1
	          : (SSL_set_tlsext_host_name(s, host) != 1 || SSL_set1_host(s, host) != 1))
		goto fail;
	if (SSL_set_fd(s, fd) != 1 || SSL_connect(s) != 1 || SSL_get_verify_result(s) != X509_V_OK)
		goto fail;
	return s;
fail:
	SSL_free(s);
	ERR_clear_error();
	return NULL;
}

typedef struct relay {
	SSL *ssl;
	int net, local; /* the TCP socket; our end of the pair */
} relay;

/* One direction's state: bytes read and not yet written. */
typedef struct half {
	char buf[RELAY_BUF];
	size_t off, len;
} half;

/* Moves what it can without waiting; returns 1 when something moved, 0
 * when everything waits, -1 when a side closed or failed. *tcp_ev and
 * *loc_ev get the poll events to wait for. */
static int relay_step(relay *r, half *down, half *up, short *tcp_ev, short *loc_ev)
{
	int moved = 0, n, e;
	ssize_t k;

	if (!down->len) { /* Redis -> hiredis */
		if ((n = SSL_read(r->ssl, down->buf, sizeof(down->buf))) > 0) {
			down->off = 0, down->len = (size_t)n, moved = 1;
		} else if ((e = SSL_get_error(r->ssl, n)) == SSL_ERROR_WANT_READ) {
			*tcp_ev |= POLLIN;
		} else if (e == SSL_ERROR_WANT_WRITE) {
			*tcp_ev |= POLLOUT;
		} else {
			return -1;
		}
	}
	if (down->len) {
		if ((k = write(r->local, down->buf + down->off, down->len)) > 0)
			down->off += (size_t)k, down->len -= (size_t)k, moved = 1;
		else if (k < 0 && (errno == EAGAIN || errno == EINTR))
			*loc_ev |= POLLOUT;
		else
			return -1;
	}
	if (!up->len) { /* hiredis -> Redis */
		if ((k = read(r->local, up->buf, sizeof(up->buf))) > 0)
			up->off = 0, up->len = (size_t)k, moved = 1;
		else if (k < 0 && (errno == EAGAIN || errno == EINTR))
			*loc_ev |= POLLIN;
		else
			return -1; /* hiredis closed its end (redisFree) */
	}
	if (up->len) {
		if ((n = SSL_write(r->ssl, up->buf + up->off, (int)up->len)) > 0)
			up->off += (size_t)n, up->len -= (size_t)n, moved = 1;
		else if ((e = SSL_get_error(r->ssl, n)) == SSL_ERROR_WANT_READ)
			*tcp_ev |= POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			*tcp_ev |= POLLOUT;
		else
			return -1;
	}
	return moved;
}

/* The relay thread: copies both ways until either side closes. */
static void *relay_run(void *arg)
{
	relay *r = arg;
	half *down = malloc(sizeof(*down)), *up = malloc(sizeof(*up));
	sigset_t pipe;
	int st = 0;

	/* a write to a side that closed gives EPIPE here, not a signal that
	 * would end the process */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	if (!down || !up)
		goto out;
	down->len = up->len = 0;
	set_nonblock(r->net, 1);
	set_nonblock(r->local, 1);
	while (st >= 0) {
		short tcp_ev = 0, loc_ev = 0;
		if ((st = relay_step(r, down, up, &tcp_ev, &loc_ev)) == 0) {
			struct pollfd p[2] = {{r->net, tcp_ev, 0}, {r->local, loc_ev, 0}};
			if (poll(p, 2, -1) < 0 && errno != EINTR)
				break;
			if ((p[0].revents | p[1].revents) & (POLLERR | POLLNVAL))
				break;
		}
	}
out:
	SSL_shutdown(r->ssl);
	SSL_free(r->ssl);
	ERR_clear_error();
	close(r->net);
	close(r->local);
	free(down);
	free(up);
	free(r);
	OPENSSL_thread_stop(); /* this thread's error queue */
	pthread_mutex_lock(&g_mu);
	g_relays--;
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
	return NULL;
}

/* A TLS connection to u, as the fd hiredis is to use; -1 (why set). */
static int tls_fd(const redis_url *u, int timeout_ms, const char **why)
{
	int pair[2] = {-1, -1}, net;
	relay *r = NULL;
	pthread_attr_t at;
	pthread_t t;
	SSL *s;

	pthread_once(&g_once, ctx_init);
	if (!g_ctx)
		return *why = g_why, -1;
	if ((net = tcp_connect(u->host, u->port, timeout_ms)) < 0)
		return *why = "cannot connect", -1;
	if (!(s = tls_open(net, u->host))) {
		close(net);
		return *why = "TLS handshake failed (certificate not trusted, or not the host's; "
		              "or the server wants a client certificate: SPAMSIFT_REDIS_TLS_CERT)",
		       -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) || !(r = malloc(sizeof(*r))))
		goto fail;
	*r = (relay){s, net, pair[1]};
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&g_mu);
	if (pthread_create(&t, &at, relay_run, r)) {
		pthread_mutex_unlock(&g_mu);
		pthread_attr_destroy(&at);
		goto fail;
	}
	g_relays++;
	pthread_mutex_unlock(&g_mu);
	pthread_attr_destroy(&at);
	return pair[0];
fail:
	free(r);
	if (pair[0] >= 0)
		close(pair[0]), close(pair[1]);
	SSL_free(s);
	close(net);
	return *why = "out of resources for the TLS relay", -1;
}

int redis_read_password(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	if (!fgets(buf, (int)cap, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = 0;
	return n ? 0 : -1;
}

/* Over TLS 1.3 a server that wants a client certificate and got none
 * closes the session only after the handshake, at the first command. */
#define TLS_CLOSED                                                                                 \
	"the TLS session was closed at once (does the server want a client "                       \
	"certificate? SPAMSIFT_REDIS_TLS_CERT)"

/* AUTH and SELECT on a new connection (over TLS, a PING when neither is
 * needed, to find a session closed at once); 0, or -1 with why. */
static int login(redisContext *c, const redis_url *u, const char **why)
{
	redisReply *r = NULL;
	const char *bad = NULL;

	if (u->tls && !u->pass[0] && !u->db) {
		if (!(r = redisCommand(c, "PING")))
			bad = TLS_CLOSED;
		freeReplyObject(r);
	}
	if (u->pass[0]) {
		r = u->user[0] ? redisCommand(c, "AUTH %s %s", u->user, u->pass)
		               : redisCommand(c, "AUTH %s", u->pass);
		if (!r || r->type == REDIS_REPLY_ERROR)
			bad = r        ? "login refused (AUTH)"
			      : u->tls ? TLS_CLOSED
			               : "no answer to AUTH";
		freeReplyObject(r);
	}
	if (!bad && u->db) {
		r = redisCommand(c, "SELECT %d", u->db);
		if (!r || r->type == REDIS_REPLY_ERROR)
			bad = "SELECT of the database refused";
		freeReplyObject(r);
	}
	if (bad)
		*why = bad;
	return bad ? -1 : 0;
}

/* Connects to u's host and port (TLS for rediss://), without logging in;
 * NULL with why. */
static redisContext *dial_plain(const redis_url *u, int timeout_ms, const char **why)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	struct sigaction old_pipe;
	redisContext *c;
	int fd;

	*why = "out of memory";
	/* hiredis writes without MSG_NOSIGNAL: a server (or TLS relay) that
	 * went away must give the caller an error, not end the process (a
	 * handler the process set itself is left alone) */
	if (!sigaction(SIGPIPE, NULL, &old_pipe) && old_pipe.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if (u->tls) {
		if ((fd = tls_fd(u, timeout_ms, why)) < 0)
			return NULL;
		if (!(c = redisConnectFd(fd))) {
			close(fd);
			return NULL;
		}
	} else {
		c = redisConnectWithTimeout(u->host, u->port, tv);
	}
	if (!c || c->err) {
		*why = c ? "cannot connect" : "out of memory";
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	return c;
}

/* Connects to u's host and port and logs in; NULL with why. */
static redisContext *dial_login(const redis_url *u, int timeout_ms, const char **why)
{
	redisContext *c = dial_plain(u, timeout_ms, why);

	if (c && login(c, u, why)) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* Asks sentinel i of u for the master of u's service, into m (u's
 * credentials and database): 0, or -1 with why. */
static int sentinel_ask(const redis_url *u, int i, int timeout_ms, redis_url *m, const char **why)
{
	redis_url s = {.port = u->sentinel[i].port, .tls = u->tls};
	redisContext *c;
	redisReply *r;
	long port;
	int rc = -1;

	memcpy(s.host, u->sentinel[i].host, sizeof(s.host));
	if (!(c = dial_plain(&s, timeout_ms, why)))
		return -1;
	r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", u->service);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len < sizeof(m->host) &&
	    r->element[1]->type == REDIS_REPLY_STRING &&
	    (port = strtol(r->element[1]->str, NULL, 10)) > 0 && port < 65536) {
		*m = *u;
		memcpy(m->host, r->element[0]->str, r->element[0]->len + 1);
		m->port = (int)port;
		m->service[0] = 0;
		m->nsentinels = 0;
		rc = 0;
	} else {
		*why = !r                           ? "a sentinel does not answer"
		       : r->type == REDIS_REPLY_NIL ? "the sentinels do not know that service"
		                                    : "a sentinel's answer is not an address";
	}
	freeReplyObject(r);
	redisFree(c);
	return rc;
}

/* Whether c is a master (ROLE), as a sentinel's answer may be out of date
 * during a fail-over. */
static int is_master(redisContext *c)
{
	redisReply *r = redisCommand(c, "ROLE");
	int yes = r && r->type == REDIS_REPLY_ARRAY && r->elements &&
	          r->element[0]->type == REDIS_REPLY_STRING &&
	          !strcmp(r->element[0]->str, "master");

	freeReplyObject(r);
	return yes;
}

redisContext *redis_dial(const redis_url *u, int timeout_ms, const char **why)
{
	if (!u->service[0])
		return dial_login(u, timeout_ms, why);
	for (int i = 0; i < u->nsentinels; i++) {
		redis_url m;
		redisContext *c;
		if (sentinel_ask(u, i, timeout_ms, &m, why) ||
		    !(c = dial_login(&m, timeout_ms, why)))
			continue;
		if (is_master(c))
			return c;
		*why = "the master the sentinels name is not a master (a fail-over under way)";
		redisFree(c);
	}
	return NULL;
}

/* The master CLUSTER SLOTS r names for slot, into n (u's credentials);
 * 0 when found. */
static int slot_owner(const redisReply *r, unsigned slot, const redis_url *u, redis_url *n)
{
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i], *m;
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
		    e->element[0]->type != REDIS_REPLY_INTEGER ||
		    e->element[1]->type != REDIS_REPLY_INTEGER)
			continue;
		if ((long long)slot < e->element[0]->integer ||
		    (long long)slot > e->element[1]->integer)
			continue;
		m = e->element[2];
		if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
		    m->element[0]->type != REDIS_REPLY_STRING ||
		    m->element[1]->type != REDIS_REPLY_INTEGER ||
		    m->element[0]->len >= sizeof(n->host))
			return -1;
		*n = *u;
		if (m->element[0]->len) /* "" is the node we asked */
			memcpy(n->host, m->element[0]->str, m->element[0]->len + 1);
		n->port = (int)m->element[1]->integer;
		n->db = 0;
		return 0;
	}
	return -1;
}

redisContext *redis_dial_tag(const redis_url *u, const char *key, int timeout_ms, const char **why)
{
	redisContext *c = redis_dial(u, timeout_ms, why);
	redisReply *r;
	redis_url n;
	int found;

	if (!c)
		return NULL;
	r = redisCommand(c, "CLUSTER SLOTS");
	if (!r || r->type != REDIS_REPLY_ARRAY) { /* not a Cluster: this is the node */
		freeReplyObject(r);
		return c;
	}
	found = !slot_owner(r, rc_key_slot(key, strlen(key)), u, &n);
	freeReplyObject(r);
	if (!found || (n.port == u->port && !strcmp(n.host, u->host)))
		return c;
	redisFree(c);
	c = redis_dial(&n, timeout_ms, why);
	explicit_bzero(&n, sizeof(n));
	return c;
}
