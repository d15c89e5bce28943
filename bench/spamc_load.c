/*
 * spamc_load: a load generator for the spamd protocol (SPAMC/1.5), the one
 * SpamAssassin's spamc speaks. N client threads, each with one connection
 * at a time (the protocol has one request per connection, as spamc does):
 * connect, send "CHECK SPAMC/1.5" with Content-length and the message, read
 * the reply, close. Messages come from a file list, round-robin over all
 * clients, loaded into memory first. Runs for a fixed time and prints one
 * line: requests, failures, messages/s, p50/p99/max latency (connect to
 * last reply byte). A failure is a connect, send or receive error, a reply
 * that is not "SPAMD/1.x 0 EX_OK" with a "Spam:" field, or no reply within
 * the timeout.
 *
 *   spamc_load [-c CLIENTS] [-t SECONDS] [-T TIMEOUT] [-u USER] HOST PORT LIST
 *
 * With -u every request names USER ("User:" field, as spamc -u does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct msg {
	char *data; /* request: command, header fields, blank line, message */
	size_t len;
};

struct client {
	pthread_t thread;
	double *lat; /* latencies of the successful requests, in ms */
	size_t n, cap;
	size_t failures, spam;
};

static struct msg *msgs;
static size_t nmsgs;
static atomic_size_t next_msg;
static struct sockaddr_in addr;
static double deadline, timeout_s = 30;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

static const char *user; /* -u, or NULL */

/* Loads every file named in LIST (one path a line) as a CHECK request. */
static int load_list(const char *list)
{
	FILE *f = fopen(list, "r");
	char path[4096];
	size_t cap = 0;

	if (!f)
		return -1;
	while (fgets(path, sizeof path, f)) {
		size_t blen, hlen;
		char head[400], *body;

		path[strcspn(path, "\r\n")] = '\0';
		if (!path[0])
			continue;
		body = slurp(path, &blen);
		if (!body) {
			fprintf(stderr, "spamc_load: %s: %s\n", path, strerror(errno));
			fclose(f);
			return -1;
		}
		hlen = (size_t)snprintf(
		    head, sizeof head, "CHECK SPAMC/1.5\r\n%s%.200s%sContent-length: %zu\r\n\r\n",
		    user ? "User: " : "", user ? user : "", user ? "\r\n" : "", blen);
		if (nmsgs == cap) {
			cap = cap * 2 + 256;
			msgs = realloc(msgs, cap * sizeof *msgs);
			if (!msgs)
				abort();
		}
		msgs[nmsgs].data = malloc(hlen + blen);
		if (!msgs[nmsgs].data)
			abort();
		memcpy(msgs[nmsgs].data, head, hlen);
		memcpy(msgs[nmsgs].data + hlen, body, blen);
		msgs[nmsgs++].len = hlen + blen;
		free(body);
	}
	fclose(f);
	return nmsgs ? 0 : -1;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Reads a reply until its header block ends and, when it announces a
 * Content-length, that many body bytes, or until the server closes.
 * Returns 1 for a spam verdict, 0 for ham, -1 on failure.
 */
static int read_reply(int fd)
{
	char buf[8192];
	size_t n = 0, want = 0;
	char *end = NULL;

	for (;;) {
		ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			char *cl = strcasestr(buf, "\r\nContent-length:");
			if (cl && cl < end)
				want = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
		}
		if (r == 0 || (end && n >= want) || n == sizeof buf - 1)
			break;
	}
	if (strncmp(buf, "SPAMD/1.", 8) != 0 || !strstr(buf, " 0 EX_OK\r\n"))
		return -1;
	if (!end || !strcasestr(buf, "\r\nSpam:"))
		return -1;
	return strcasestr(buf, "\r\nSpam: True") || strcasestr(buf, "\r\nSpam: Yes") ? 1 : 0;
}

static int one_request(const struct msg *m)
{
	struct timeval tv = {(time_t)timeout_s,
	                     (suseconds_t)((timeout_s - (time_t)timeout_s) * 1e6)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, res = -1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
	    send_all(fd, m->data, m->len) == 0)
		res = read_reply(fd);
	close(fd);
	return res;
}

static void *client_run(void *arg)
{
	struct client *c = arg;

	while (now() < deadline) {
		size_t i = atomic_fetch_add(&next_msg, 1) % nmsgs;
		double t0 = now();
		int r = one_request(&msgs[i]);
		double ms = (now() - t0) * 1e3;

		if (r < 0) {
			c->failures++;
			continue;
		}
		c->spam += (size_t)r;
		if (c->n == c->cap) {
			c->cap = c->cap * 2 + 1024;
			c->lat = realloc(c->lat, c->cap * sizeof *c->lat);
			if (!c->lat)
				abort();
		}
		c->lat[c->n++] = ms;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)n);
	return v[i < n ? i : n - 1];
}

static void usage(void)
{
	fputs("usage: spamc_load [-c CLIENTS] [-t SECONDS] [-T TIMEOUT] [-u USER] HOST PORT LIST\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	int nclients = 4, opt;
	double seconds = 10, t0, elapsed;
	struct client *cl;
	size_t ok = 0, fail = 0, spam = 0, k = 0;
	double *all;

	while ((opt = getopt(argc, argv, "c:t:T:u:")) != -1) {
		if (opt == 'c')
			nclients = atoi(optarg);
		else if (opt == 't')
			seconds = atof(optarg);
		else if (opt == 'T')
			timeout_s = atof(optarg);
		else if (opt == 'u')
			user = optarg;
		else
			usage();
	}
	if (argc - optind != 3 || nclients < 1 || seconds <= 0 || timeout_s <= 0)
		usage();
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &addr.sin_addr) != 1)
		usage();
	if (load_list(argv[optind + 2]) < 0) {
		fprintf(stderr, "spamc_load: cannot load messages from %s\n", argv[optind + 2]);
		return 2;
	}
	cl = calloc((size_t)nclients, sizeof *cl);
	if (!cl)
		abort();
	t0 = now();
	deadline = t0 + seconds;
	for (int i = 0; i < nclients; i++)
		if (pthread_create(&cl[i].thread, NULL, client_run, &cl[i]) != 0)
			abort();
	for (int i = 0; i < nclients; i++) {
		pthread_join(cl[i].thread, NULL);
		ok += cl[i].n;
		fail += cl[i].failures;
		spam += cl[i].spam;
	}
	elapsed = now() - t0;
	all = malloc((ok ? ok : 1) * sizeof *all);
	if (!all)
		abort();
	for (int i = 0; i < nclients; i++) {
		memcpy(all + k, cl[i].lat, cl[i].n * sizeof *all);
		k += cl[i].n;
		free(cl[i].lat);
	}
	qsort(all, ok, sizeof *all, cmp_double);
	printf("clients=%d seconds=%.2f requests=%zu ok=%zu failures=%zu spam=%zu "
	       "msgs_per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	       nclients, elapsed, ok + fail, ok, fail, spam, (double)ok / elapsed, pct(all, ok, 50),
	       pct(all, ok, 99), ok ? all[ok - 1] : 0.0);
	free(all);
	free(cl);
	for (size_t i = 0; i < nmsgs; i++)
		free(msgs[i].data);
	free(msgs);
	return fail ? 1 : 0;
}
