/*
 * web_load: the load of bench/run-web.sh. Scans go to POST /check over
 * keep-alive HTTP connections, and meanwhile history pages are read and
 * timed, the way the web page reads them.
 *
 *   web_load fill HOST PORT N MSG...
 *       N scans as fast as 4 connections go (messages round-robin), or at
 *       WEB_LOAD_RATE scans/s; prints scans/s.
 *   web_load run HOST PORT RATE SECONDS PATH MSG...
 *       RATE scans/s (paced, 4 connections) for SECONDS, while one more
 *       connection GETs PATH (an /api/... URL path, '|' separating several,
 *       taken in turn) with WEB_LOAD_PAUSE_MS (20) between two (a page
 *       reads one every 5 s); prints the scans/s reached, and per path the
 *       requests, p50, p99 and max milliseconds.
 *
 * A reply that is not 200 counts as an error (printed). For an anchor
 * (rspamd), WEB_LOAD_SCAN_PATH replaces /check and WEB_LOAD_READ_PORT is
 * the port the pages are read from (its controller).
 */
#include <arpa/inet.h>
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

#define MAX_PATHS 8
#define NSCANNERS 4
#define MAX_SAMPLES 200000

typedef struct msg {
	char *p;
	size_t len;
} msg;

static msg *msgs;
static size_t nmsgs;
static const char *host;
static int port, read_port;
static const char *scan_path = "/check";
static atomic_long sent, errors;
static atomic_int stop;
static double rate; /* scans/s in all, 0: as fast as possible */
static int pause_ms = 20;
static long limit; /* scans in all (fill), 0: until stop */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial_port(int p)
{
	struct sockaddr_in sa = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)p);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int dial(void)
{
	return dial_port(port);
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one response (Content-Length framed); returns its status or -1;
 * *closing is set when the server closes after it (rspamd does). */
static int read_reply(int fd, char **buf, size_t *cap, int *closing)
{
	size_t got = 0, need = 0;
	char *body;

	for (;;) {
		if (got + 65536 > *cap) {
			*cap = (got + 65536) * 2;
			*buf = realloc(*buf, *cap);
		}
		ssize_t r = recv(fd, *buf + got, *cap - got - 1, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		(*buf)[got] = 0;
		if (!need && (body = strstr(*buf, "\r\n\r\n"))) {
			char *cl = strcasestr(*buf, "Content-Length:");
			need = (size_t)(body + 4 - *buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (need && got >= need) {
			*closing = strcasestr(*buf, "\r\nConnection: close") != NULL;
			return atoi(*buf + 9);
		}
	}
}

static void *scanner(void *arg)
{
	long me = (long)arg;
	int fd = dial();
	char head[256], *buf = NULL;
	size_t cap = 0;
	double t0 = now();
	long i = 0;

	while (!atomic_load(&stop)) {
		long n = atomic_fetch_add(&sent, 1);
		if (limit && n >= limit)
			break;
		if (rate > 0) { /* each thread paces its share of the rate */
			double due = t0 + (double)i / (rate / NSCANNERS);
			double d = due - now();
			if (d > 0)
				usleep((useconds_t)(d * 1e6));
		}
		const msg *m = &msgs[(size_t)(n + me) % nmsgs];
		int hl =
		    snprintf(head, sizeof(head),
		             "POST %s HTTP/1.1\r\nHost: b\r\nX-Client-IP: 192.0.2.%ld\r\n"
		             "X-Mail-From: bench%ld@example.com\r\nContent-Length: %zu\r\n\r\n",
		             scan_path, n % 250 + 1, n % 1000, m->len);
		int closing = 1;
		if (send_all(fd, head, (size_t)hl) || send_all(fd, m->p, m->len) ||
		    read_reply(fd, &buf, &cap, &closing) != 200)
			atomic_fetch_add(&errors, 1);
		if (closing) {
			close(fd);
			fd = dial();
		}
		i++;
	}
	close(fd);
	free(buf);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

typedef struct reader_arg {
	char *paths[MAX_PATHS];
	int npaths;
	double *lat[MAX_PATHS];
	size_t n[MAX_PATHS];
	long bad;
} reader_arg;

static void *reader(void *arg)
{
	reader_arg *ra = arg;
	int fd = dial_port(read_port);
	char head[2048], *buf = NULL;
	size_t cap = 0;

	for (int k = 0; !atomic_load(&stop); k = (k + 1) % ra->npaths) {
		int hl = snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: b\r\n\r\n",
		                  ra->paths[k]);
		double t = now();
		int closing = 1;
		int st = send_all(fd, head, (size_t)hl) ? -1 : read_reply(fd, &buf, &cap, &closing);
		if (closing && st == 200) { /* counted; the next one on a new connection */
			close(fd);
			fd = dial_port(read_port);
		}
		if (st != 200) {
			if (ra->bad++ < 3)
				fprintf(stderr, "web_load: %s: status %d %.200s\n", ra->paths[k],
				        st, buf ? buf : "");
			close(fd);
			fd = dial_port(read_port);
			continue;
		}
		if (ra->n[k] < MAX_SAMPLES)
			ra->lat[k][ra->n[k]++] = (now() - t) * 1e3;
		usleep((useconds_t)pause_ms * 1000);
	}
	close(fd);
	free(buf);
	return NULL;
}

static void load_msgs(char **files, int n)
{
	msgs = calloc((size_t)n, sizeof(*msgs));
	for (int i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "rb");
		if (!f) {
			perror(files[i]);
			exit(1);
		}
		fseek(f, 0, SEEK_END);
		msgs[nmsgs].len = (size_t)ftell(f);
		rewind(f);
		msgs[nmsgs].p = malloc(msgs[nmsgs].len + 1);
		if (fread(msgs[nmsgs].p, 1, msgs[nmsgs].len, f) != msgs[nmsgs].len)
			exit(1);
		fclose(f);
		nmsgs++;
	}
}

static void report(reader_arg *ra)
{
	for (int k = 0; k < ra->npaths; k++) {
		double *v = ra->lat[k];
		size_t n = ra->n[k];
		qsort(v, n, sizeof(double), cmp);
		printf("GET %s: %zu requests, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		       ra->paths[k], n, n ? v[n / 2] : 0,
		       n ? v[(size_t)((double)(n - 1) * 0.99)] : 0, n ? v[n - 1] : 0);
		free(v);
	}
	if (ra->bad)
		printf("history reads that failed: %ld\n", ra->bad);
}

int main(int argc, char **argv)
{
	pthread_t th[NSCANNERS], rt;
	reader_arg ra = {0};
	int fill = argc > 1 && !strcmp(argv[1], "fill");
	int first = fill ? 5 : 7;
	double t0, secs = 0;

	if (argc <= first || (!fill && strcmp(argv[1], "run"))) {
		fputs("usage: web_load fill HOST PORT N MSG... | run HOST PORT RATE SECONDS PATHS "
		      "MSG...\n",
		      stderr);
		return 2;
	}
	host = argv[2];
	port = atoi(argv[3]);
	read_port = getenv("WEB_LOAD_READ_PORT") ? atoi(getenv("WEB_LOAD_READ_PORT")) : port;
	if (getenv("WEB_LOAD_PAUSE_MS"))
		pause_ms = atoi(getenv("WEB_LOAD_PAUSE_MS"));
	if (getenv("WEB_LOAD_SCAN_PATH"))
		scan_path = getenv("WEB_LOAD_SCAN_PATH");
	load_msgs(argv + first, argc - first);
	if (fill) {
		limit = atol(argv[4]);
		rate = getenv("WEB_LOAD_RATE") ? atof(getenv("WEB_LOAD_RATE")) : 0;
	} else {
		rate = atof(argv[4]);
		secs = atof(argv[5]);
		for (char *p = strtok(argv[6], "|"); p && ra.npaths < MAX_PATHS;
		     p = strtok(NULL, "|")) {
			ra.paths[ra.npaths] = p;
			ra.lat[ra.npaths++] = malloc(MAX_SAMPLES * sizeof(double));
		}
	}
	t0 = now();
	for (long i = 0; i < NSCANNERS; i++)
		pthread_create(&th[i], NULL, scanner, (void *)i);
	if (!fill) {
		pthread_create(&rt, NULL, reader, &ra);
		usleep((useconds_t)(secs * 1e6));
		atomic_store(&stop, 1);
		pthread_join(rt, NULL);
	}
	for (int i = 0; i < NSCANNERS; i++)
		pthread_join(th[i], NULL);
	secs = now() - t0;
	long n = atomic_load(&sent);
	if (fill && n > limit)
		n = limit;
	printf("scans: %ld in %.1f s, %.0f scans/s, %ld errors\n", n, secs, (double)n / secs,
	       (long)atomic_load(&errors));
	if (!fill)
		report(&ra);
	return atomic_load(&errors) ? 1 : 0;
}
