/*
 * parse.c: the parser benchmark, spamsift against GMime 3.
 *
 *   parse [--engine spamsift|gmime|both] [--repeat N] [--memory] INDEX...
 *
 * Each INDEX is a corpus index ("spam <relpath>" / "ham <relpath>" lines,
 * paths relative to the index's folder). Throughput mode loads every message
 * of a corpus into memory first (no I/O is timed), then times full passes of
 * each engine over it, best of --repeat, and prints one key=value line per
 * engine plus the speedup. --memory instead forks one child per message for
 * the 20 largest messages of each corpus (and a synthetic 20 MB message) and
 * reports the peak-RSS growth each parse causes.
 *
 * Build with -DNO_SPAMSIFT to measure only the GMime half while the library
 * does not build.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>
#ifndef NO_SPAMSIFT
#include "spamsift.h"
#include "util/file.h"
#endif

#define BENCH_MEM_TOP 20          /* largest messages per corpus in --memory */
#define BENCH_MEM_CONST (1 << 20) /* bytes assumed constant in the ratio */
#define BENCH_MAX_DEPTH 64        /* GMime walk: MIME nesting followed */
#define BENCH_SYN_B64 (15u << 20) /* synthetic message: attachment bytes */
#define BENCH_SYN_HTML (5u << 20) /* synthetic message: HTML bytes */

struct bench_msg {
	char *path; /* relative to the corpus folder */
	char *p;    /* contents, NULL until loaded */
	size_t len;
};

struct bench_corpus {
	const char *name; /* last component of dir */
	char dir[PATH_MAX];
	struct bench_msg *msgs;
	size_t n, cap;
	size_t bytes;
};

/* What a pass produced, so that the work cannot be optimised away and the
 * two engines' outputs can be compared by size. */
struct bench_sink {
	uint64_t text;   /* bytes of decoded text, subject and header values */
	uint64_t urls;   /* URLs found (spamsift only) */
	uint64_t errors; /* messages the engine refused */
};

struct bench_engine {
	const char *name;
	void (*run)(const char *p, size_t len, struct bench_sink *s);
};

struct bench_result {
	double wall, cpu;
	struct bench_sink sink;
};

/* ---- corpus loading ---- */

static int corpus_add(struct bench_corpus *c, const char *rel, size_t len)
{
	struct bench_msg *m;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		m = realloc(c->msgs, cap * sizeof(*m));
		if (!m)
			return -1;
		c->msgs = m;
		c->cap = cap;
	}
	m = &c->msgs[c->n];
	m->path = strndup(rel, len);
	m->p = NULL;
	m->len = 0;
	if (!m->path)
		return -1;
	c->n++;
	return 0;
}

/* Reads the whole file `path` into a malloc'ed buffer; NULL (said) when
 * it cannot. */
static char *read_file(const char *path, size_t *len)
{
	char *buf;

	if (!ss_read_file_at(AT_FDCWD, path, 0, &buf, len))
		return buf;
	fprintf(stderr, "parse: %s: %s\n", path, strerror(errno));
	return NULL;
}

static int corpus_path(const struct bench_corpus *c, const struct bench_msg *m, char *out)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", c->dir, m->path);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

/* Fills name and dir from the index path. */
static int corpus_name(struct bench_corpus *c, const char *index)
{
	const char *slash = strrchr(index, '/');
	char rel[PATH_MAX];
	int n;

	if (slash)
		n = snprintf(rel, sizeof(rel), "%.*s", (int)(slash - index), index);
	else
		n = snprintf(rel, sizeof(rel), ".");
	if (n < 0 || n >= (int)sizeof(rel) || !realpath(rel, c->dir))
		return -1;
	slash = strrchr(c->dir, '/');
	c->name = slash && slash[1] ? slash + 1 : c->dir;
	return 0;
}

/* Reads index file `index` into `c` (paths only; see corpus_load). */
static int corpus_open(struct bench_corpus *c, const char *index)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = -1;

	memset(c, 0, sizeof(*c));
	if (corpus_name(c, index) < 0 || !(f = fopen(index, "r"))) {
		fprintf(stderr, "parse: cannot open index %s\n", index);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		char *sp = memchr(line, ' ', (size_t)n);
		size_t len;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (!sp || sp - line >= n)
			continue;
		len = (size_t)(n - (sp + 1 - line));
		if (len && corpus_add(c, sp + 1, len) < 0)
			goto out;
	}
	err = 0;
out:
	free(line);
	fclose(f);
	return err;
}

/* Loads the contents of every message; unreadable ones are dropped. */
static int corpus_load(struct bench_corpus *c)
{
	char path[PATH_MAX];
	size_t i, kept = 0;

	for (i = 0; i < c->n; i++) {
		struct bench_msg m = c->msgs[i];

		if (corpus_path(c, &m, path) == 0)
			m.p = read_file(path, &m.len);
		if (!m.p) {
			free(m.path);
			continue;
		}
		c->bytes += m.len;
		c->msgs[kept++] = m;
	}
	c->n = kept;
	return kept ? 0 : -1;
}

static void corpus_free(struct bench_corpus *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->msgs[i].path);
		free(c->msgs[i].p);
	}
	free(c->msgs);
	memset(c, 0, sizeof(*c));
}

/* ---- engine: spamsift ---- */

#ifndef NO_SPAMSIFT
static void ss_run(const char *p, size_t len, struct bench_sink *s)
{
	ss_parse_opts opts;
	ss_message *msg;
	size_t i;

	memset(&opts, 0, sizeof(opts));
	if (ss_parse(p, len, &opts, &msg) != 0) {
		s->errors++;
		return;
	}
	s->text += msg->subject.len;
	for (i = 0; i < msg->nheaders; i++)
		s->text += msg->headers[i].value.len;
	for (i = 0; i < msg->nparts; i++)
		s->text += msg->parts[i].text.len + msg->parts[i].hidden.len;
	s->urls += msg->nurls;
	ss_message_free(msg);
}
#endif

/* ---- engine: GMime 3 ---- */

/* Returns the index just past the tag or comment starting at p[i] ('<'),
 * or n when it does not end. After <script> or <style> it returns the
 * index of the next "</", so that the contents are skipped too. */
static size_t gm_tag_end(const char *p, size_t i, size_t n)
{
	const char *end;

	if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
		end = memmem(p + i + 4, n - i - 4, "-->", 3);
		return end ? (size_t)(end - p) + 3 : n;
	}
	end = memchr(p + i, '>', n - i);
	if (!end)
		return n;
	if (n - i > 7 && (!strncasecmp(p + i, "<script", 7) || !strncasecmp(p + i, "<style", 6))) {
		end = memmem(end, n - (size_t)(end - p), "</", 2);
		return end ? (size_t)(end - p) : n;
	}
	return (size_t)(end - p) + 1;
}

/* Drops tags, comments and the contents of <script>/<style> from HTML, in
 * place, and returns the length left. Deliberately minimal (no entities, no
 * CSS, no block structure): the GMime figure is a lower bound of its cost. */
static size_t gm_strip_tags(char *p, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n) {
		char *lt = memchr(p + i, '<', n - i);
		size_t run = lt ? (size_t)(lt - (p + i)) : n - i;

		memmove(p + o, p + i, run);
		o += run;
		i += run;
		if (i < n)
			i = gm_tag_end(p, i, n);
	}
	return o;
}

/* Decodes one text part to UTF-8 (transfer encoding, then charset) and,
 * for HTML, strips the markup. */
static void gm_text(GMimePart *part, int html, struct bench_sink *s)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	const char *cs;
	GMimeStream *out, *filt;
	GMimeFilter *conv;
	GByteArray *a;

	if (!w)
		return;
	cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	out = g_mime_stream_mem_new();
	filt = g_mime_stream_filter_new(out);
	conv = g_mime_filter_charset_new(cs ? cs : "us-ascii", "UTF-8");
	if (conv) {
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filt), conv);
		g_object_unref(conv);
	}
	g_mime_data_wrapper_write_to_stream(w, filt);
	g_mime_stream_flush(filt);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	if (html)
		s->text += gm_strip_tags((char *)a->data, a->len);
	else
		s->text += a->len;
	g_object_unref(filt);
	g_object_unref(out);
}

/* Decodes every header value of `obj` (GMime decodes RFC 2047 lazily). */
static void gm_headers(GMimeObject *obj, struct bench_sink *s)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int i, n = hl ? g_mime_header_list_get_count(hl) : 0;

	for (i = 0; i < n; i++) {
		const char *v = g_mime_header_get_value(g_mime_header_list_get_header_at(hl, i));

		s->text += v ? strlen(v) : 0;
	}
}

static void gm_walk(GMimeObject *obj, unsigned depth, struct bench_sink *s)
{
	if (!obj || depth > BENCH_MAX_DEPTH)
		return;
	gm_headers(obj, s);
	if (GMIME_IS_MESSAGE(obj)) {
		gm_walk(g_mime_message_get_mime_part(GMIME_MESSAGE(obj)), depth + 1, s);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		gm_walk(m ? GMIME_OBJECT(m) : NULL, depth + 1, s);
	} else if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int i, n = g_mime_multipart_get_count(mp);

		for (i = 0; i < n; i++)
			gm_walk(g_mime_multipart_get_part(mp, i), depth + 1, s);
	} else if (GMIME_IS_PART(obj)) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);

		if (ct && g_mime_content_type_is_type(ct, "text", "*"))
			gm_text(GMIME_PART(obj), g_mime_content_type_is_type(ct, "text", "html"),
			        s);
	}
}

static void gm_run(const char *p, size_t len, struct bench_sink *s)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(p, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(st);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	const char *subj;

	g_object_unref(parser);
	g_object_unref(st);
	if (!msg) {
		s->errors++;
		return;
	}
	subj = g_mime_message_get_subject(msg);
	s->text += subj ? strlen(subj) : 0;
	gm_walk(GMIME_OBJECT(msg), 0, s);
	g_object_unref(msg);
}

static const struct bench_engine engines[] = {
#ifndef NO_SPAMSIFT
    {"spamsift", ss_run},
#endif
    {"gmime", gm_run},
};
#define NENGINES (sizeof(engines) / sizeof(engines[0]))

/* ---- throughput ---- */

static double now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void bench_pass(const struct bench_corpus *c, const struct bench_engine *e,
                       struct bench_result *r)
{
	double w0, c0;
	size_t i;

	memset(r, 0, sizeof(*r));
	w0 = now_wall();
	c0 = now_cpu();
	for (i = 0; i < c->n; i++)
		e->run(c->msgs[i].p, c->msgs[i].len, &r->sink);
	r->cpu = now_cpu() - c0;
	r->wall = now_wall() - w0;
}

/* Prints one engine's best pass; returns its MB/s. */
static double bench_report(const struct bench_corpus *c, const char *engine,
                           const struct bench_result *r)
{
	double mbps = (double)c->bytes / 1e6 / r->wall;

	printf("corpus=%s engine=%s messages=%zu bytes=%zu seconds=%.3f cpu_seconds=%.3f "
	       "msgs_per_s=%.0f MB_per_s=%.1f text_bytes=%llu urls=%llu errors=%llu\n",
	       c->name, engine, c->n, c->bytes, r->wall, r->cpu, (double)c->n / r->wall, mbps,
	       (unsigned long long)r->sink.text, (unsigned long long)r->sink.urls,
	       (unsigned long long)r->sink.errors);
	return mbps;
}

/* Runs `repeat` rounds, each engine once per round (interleaved so that a
 * slow moment of the machine hits both), and reports the best of each. */
static void bench_corpus_run(const struct bench_corpus *c, const int *use, int repeat)
{
	struct bench_result best[NENGINES], r;
	double mbps[NENGINES] = {0};
	size_t e;
	int k;

	memset(best, 0, sizeof(best));
	for (k = 0; k < repeat; k++) {
		for (e = 0; e < NENGINES; e++) {
			if (!use[e])
				continue;
			bench_pass(c, &engines[e], &r);
			if (k == 0 || r.wall < best[e].wall)
				best[e] = r;
		}
	}
	for (e = 0; e < NENGINES; e++)
		if (use[e])
			mbps[e] = bench_report(c, engines[e].name, &best[e]);
	if (NENGINES == 2 && use[0] && use[1])
		printf("corpus=%s speedup_spamsift_over_gmime=%.2f speedup_cpu=%.2f\n", c->name,
		       mbps[0] / mbps[1], best[1].cpu / best[0].cpu);
	fflush(stdout);
}

static int bench_throughput(char **indexes, int n, const int *use, int repeat)
{
	struct bench_corpus c;
	int i, err = 0;

	for (i = 0; i < n; i++) {
		if (corpus_open(&c, indexes[i]) < 0 || corpus_load(&c) < 0) {
			fprintf(stderr, "parse: %s: no messages loaded\n", indexes[i]);
			corpus_free(&c);
			err = 1;
			continue;
		}
		bench_corpus_run(&c, use, repeat);
		corpus_free(&c);
	}
	return err;
}

/* ---- peak memory ---- */

struct mem_result {
	long long cold; /* VmHWM growth of the first parse in a fresh process */
	long long warm; /* growth of a second parse after HWM reset, or -1 */
	long long net;  /* first parse's peak minus RSS once all is freed */
};

/* Returns field `key` ("VmHWM:", "VmRSS:") of /proc/self/status in bytes,
 * or -1. */
static long long mem_status(const char *key)
{
	char buf[8192];
	ssize_t n;
	char *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, key);
	return p ? strtoll(p + strlen(key), NULL, 10) * 1024 : -1;
}

/* Resets VmHWM to the current RSS (Linux >= 4.0); returns 0 on success. */
static int mem_hwm_reset(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, "5", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

/* In the child: parses `p` twice and measures the peak growth of each. The
 * second (warm) figure and `net` (peak minus what stays resident once the
 * message is freed) both leave out pages touched once per process (ICU and
 * iconv tables, library code), which is what "a constant" stands for. */
static void mem_measure(const struct bench_engine *e, const char *p, size_t len,
                        struct mem_result *r)
{
	struct bench_sink s = {0};
	long long before = mem_status("VmHWM:");

	long long peak;

	e->run(p, len, &s);
	peak = mem_status("VmHWM:");
	r->cold = peak - before;
	malloc_trim(0);
	r->net = peak - mem_status("VmRSS:");
	r->warm = -1;
	if (mem_hwm_reset() < 0)
		return;
	before = mem_status("VmHWM:");
	e->run(p, len, &s);
	r->warm = mem_status("VmHWM:") - before;
}

/* Appends `n` bytes of `s` at *o, bounded by `end`. */
static void syn_put(char **o, const char *end, const char *s, size_t n)
{
	if (n > (size_t)(end - *o))
		n = (size_t)(end - *o);
	memcpy(*o, s, n);
	*o += n;
}

static void syn_html(char **o, const char *end, size_t want)
{
	static const char para[] =
	    "<p style=\"color:#333\">Dear customer, your <b>account</b> needs "
	    "<a href=\"http://www.example.com/verify?id=12345\">verification</a> today. "
	    "Caf&eacute; &amp; cr&egrave;me &#8364;10.</p>\r\n";
	char *stop = *o + want < end ? *o + want : (char *)end;

	syn_put(o, end, "<html><body>\r\n", 14);
	while (*o + sizeof(para) - 1 < stop)
		syn_put(o, end, para, sizeof(para) - 1);
	syn_put(o, end, "</body></html>\r\n", 16);
}

static void syn_base64(char **o, const char *end, size_t want)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t x = 2463534242u;
	size_t i, lines = want / 78;

	for (i = 0; i < lines && *o + 78 <= end; i++) {
		int k;

		for (k = 0; k < 76; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			*(*o)++ = b64[x & 63];
		}
		syn_put(o, end, "\r\n", 2);
	}
}

/* Builds the synthetic message: multipart/mixed with 5 MB of HTML and a
 * 15 MB base64 attachment. */
static char *syn_build(size_t *len)
{
	static const char head[] =
	    "From: Big Sender <big@example.com>\r\nTo: you@example.org\r\n"
	    "Subject: =?UTF-8?B?R3Jvw59lIE5hY2hyaWNodA==?=\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n"
	    "--=_b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n";
	static const char mid[] =
	    "\r\n--=_b\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n"
	    "Content-Disposition: attachment; filename=\"big.bin\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n";
	size_t cap = BENCH_SYN_HTML + BENCH_SYN_B64 + 4096;
	char *buf = malloc(cap), *o = buf, *end = buf + cap;

	if (!buf)
		return NULL;
	syn_put(&o, end, head, sizeof(head) - 1);
	syn_html(&o, end, BENCH_SYN_HTML);
	syn_put(&o, end, mid, sizeof(mid) - 1);
	syn_base64(&o, end, BENCH_SYN_B64);
	syn_put(&o, end, "--=_b--\r\n", 9);
	*len = (size_t)(o - buf);
	return buf;
}

struct mem_job {
	const struct bench_corpus *c; /* NULL: the synthetic message */
	const struct bench_msg *m;
	size_t size;
};

/* Child side: read or build the message, measure, write the result. */
static void mem_child(const struct mem_job *j, const struct bench_engine *e, int fd)
{
	struct mem_result r = {-1, -1, -1};
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;

	if (!j->c)
		buf = syn_build(&len);
	else if (corpus_path(j->c, j->m, path) == 0)
		buf = read_file(path, &len);
	if (buf)
		mem_measure(e, buf, len, &r);
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	_exit(0);
}

/* Runs one job in a fresh child; returns 0 and fills *r on success. */
static int mem_fork(const struct mem_job *j, const struct bench_engine *e, struct mem_result *r)
{
	int fds[2], st;
	ssize_t got;
	pid_t pid;

	fflush(stdout);
	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		mem_child(j, e, fds[1]);
	}
	close(fds[1]);
	got = pid > 0 ? read(fds[0], r, sizeof(*r)) : -1;
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	return got == (ssize_t)sizeof(*r) && r->cold >= 0 ? 0 : -1;
}

static double mem_ratio(long long delta, size_t size)
{
	return ((double)delta - BENCH_MEM_CONST) / (double)(size ? size : 1);
}

/* Measures the jobs with one engine and prints a line each, then the
 * worst ratio and how many messages kept within 4 x size + constant. */
static void mem_engine(const char *corpus, const struct mem_job *jobs, size_t n,
                       const struct bench_engine *e)
{
	double worst = -1e300, worst_cold = -1e300, ratio;
	size_t i, done = 0, within = 0;

	for (i = 0; i < n; i++) {
		struct mem_result r;
		long long d;

		if (mem_fork(&jobs[i], e, &r) < 0) {
			fprintf(stderr, "parse: memory: child failed\n");
			continue;
		}
		d = r.warm > r.net ? r.warm : r.net; /* warm is -1 when unavailable */
		ratio = mem_ratio(d, jobs[i].size);
		printf("memory corpus=%s engine=%s file=%s size=%zu cold_delta=%lld net=%lld "
		       "warm=%lld delta=%lld ratio=%.2f\n",
		       corpus, e->name, jobs[i].m ? jobs[i].m->path : "synthetic", jobs[i].size,
		       r.cold, r.net, r.warm, d, ratio);
		worst = ratio > worst ? ratio : worst;
		ratio = mem_ratio(r.cold, jobs[i].size);
		worst_cold = ratio > worst_cold ? ratio : worst_cold;
		within += mem_ratio(d, jobs[i].size) <= 4.0;
		done++;
	}
	printf("memory corpus=%s engine=%s constant=%d max_ratio=%.2f max_ratio_cold=%.2f "
	       "within_4x=%zu/%zu\n",
	       corpus, e->name, BENCH_MEM_CONST, worst, worst_cold, within, done);
}

static int msg_size_cmp(const void *a, const void *b)
{
	const struct mem_job *x = a, *y = b;

	return x->size < y->size ? 1 : x->size > y->size ? -1 : 0;
}

/* Picks the BENCH_MEM_TOP largest messages of `c` into jobs; returns count. */
static size_t mem_pick(const struct bench_corpus *c, struct mem_job *jobs)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i, n = 0;

	for (i = 0; i < c->n; i++) {
		struct mem_job j = {c, &c->msgs[i], 0};

		if (corpus_path(c, j.m, path) < 0 || stat(path, &st) < 0)
			continue;
		j.size = (size_t)st.st_size;
		if (n < BENCH_MEM_TOP) {
			jobs[n++] = j;
		} else if (j.size > jobs[n - 1].size) {
			jobs[n - 1] = j;
		} else {
			continue;
		}
		qsort(jobs, n, sizeof(*jobs), msg_size_cmp);
	}
	return n;
}

static int bench_memory(char **indexes, int n, const int *use)
{
	struct mem_job jobs[BENCH_MEM_TOP];
	struct mem_job syn = {NULL, NULL, 0};
	struct bench_corpus c;
	size_t e, nj;
	int i, err = 0;

	if (mem_hwm_reset() < 0)
		printf("memory note: /proc/self/clear_refs not writable: delta is net only\n");
	for (i = 0; i < n; i++) {
		if (corpus_open(&c, indexes[i]) < 0) {
			err = 1;
			continue;
		}
		nj = mem_pick(&c, jobs);
		for (e = 0; e < NENGINES; e++)
			if (use[e])
				mem_engine(c.name, jobs, nj, &engines[e]);
		corpus_free(&c);
	}
	free(syn_build(&syn.size));
	for (e = 0; e < NENGINES; e++)
		if (use[e])
			mem_engine("synthetic", &syn, 1, &engines[e]);
	return err;
}

/* ---- main ---- */

static int pick_engines(const char *arg, int *use)
{
	size_t e;
	int found = 0;

	for (e = 0; e < NENGINES; e++) {
		use[e] = !strcmp(arg, "both") || !strcmp(arg, engines[e].name);
		found |= use[e];
	}
	if (!found)
		fprintf(stderr, "parse: engine '%s' not available in this build\n", arg);
	return found ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: parse [--engine spamsift|gmime|both] [--repeat N] [--memory] "
	                "INDEX...\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"engine", required_argument, NULL, 'e'},
	    {"repeat", required_argument, NULL, 'r'},
	    {"memory", no_argument, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	int use[NENGINES], repeat = 3, memory = 0, c, err;

	pick_engines("both", use);
	while ((c = getopt_long(argc, argv, "e:r:m", longopts, NULL)) != -1) {
		if (c == 'e' && pick_engines(optarg, use) == 0)
			continue;
		if (c == 'r' && (repeat = atoi(optarg)) >= 1 && repeat <= 1000)
			continue;
		if (c == 'm') {
			memory = 1;
			continue;
		}
		usage();
		return 2;
	}
	if (optind >= argc) {
		usage();
		return 2;
	}
#ifdef NO_SPAMSIFT
	fprintf(stderr, "parse: built with NO_SPAMSIFT: GMime only\n");
#endif
	g_mime_init();
	if (memory)
		err = bench_memory(argv + optind, argc - optind, use);
	else
		err = bench_throughput(argv + optind, argc - optind, use, repeat);
	g_mime_shutdown();
	return err;
}
