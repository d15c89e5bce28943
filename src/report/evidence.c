/*
 * evidence.c: the append-only evidence store and its statistics (see
 * evidence.h).
 */
#include "report/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "spamsift.h"
#include "util/json.h"

#define MAGIC_LEN 8
#define FRAME_LEN (MAGIC_LEN + 8) /* magic, length, CRC */

void evidence_sha256(const void *p, size_t len, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, p, len);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

/* ---- framing ---- */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* "key: value\n" with CR and LF in value as spaces. */
static int add_kv(sbuf *b, const char *key, const char *v)
{
	int err = sbuf_addf(b, "%s: ", key);

	for (size_t i = 0; !err && v && v[i]; i++)
		err = sbuf_addc(b, v[i] == '\r' || v[i] == '\n' ? ' ' : v[i]);
	return err ? err : sbuf_addc(b, '\n');
}

static int payload(const evidence_rec *r, sbuf *b)
{
	int err = sbuf_addf(b, "time: %lld\n", (long long)r->time);
	const char *const kv[][2] = {{"sha256", r->sha256},   {"ip", r->ip},
	                             {"network", r->network}, {"contact", r->contact},
	                             {"country", r->country}, {"asn", r->asn},
	                             {"user", r->user}};

	for (size_t i = 0; !err && i < sizeof(kv) / sizeof(kv[0]); i++)
		err = add_kv(b, kv[i][0], kv[i][1]);
	if (!err)
		err = sbuf_addf(b, "size: %zu\n\n", r->original_len);
	return err ? err : sbuf_add(b, r->original, r->original_len);
}

int evidence_encode(const evidence_rec *r, sbuf *out)
{
	sbuf p = SBUF_INIT;
	unsigned char num[4];
	int err;

	if (r->original_len > EVIDENCE_MAX_RECORD - 4096)
		return SS_EINVAL;
	if ((err = payload(r, &p)))
		goto out;
	put32(num, (uint32_t)p.len);
	if (!(err = sbuf_add(out, EVIDENCE_MAGIC, MAGIC_LEN)) && !(err = sbuf_add(out, num, 4)) &&
	    !(err = sbuf_add(out, p.p, p.len))) {
		put32(num, (uint32_t)crc32(0, (const Bytef *)p.p, (uInt)p.len));
		err = sbuf_add(out, num, 4);
	}
out:
	sbuf_release(&p);
	return err;
}

/* Returns the payload length when a whole, checked record starts at off,
 * else -1. */
static long frame_at(const char *buf, size_t len, size_t off)
{
	uint32_t n;

	if (len - off < FRAME_LEN || memcmp(buf + off, EVIDENCE_MAGIC, MAGIC_LEN))
		return -1;
	n = get32(buf + off + MAGIC_LEN);
	if (n > EVIDENCE_MAX_RECORD || n > len - off - FRAME_LEN)
		return -1;
	if (crc32(0, (const Bytef *)buf + off + MAGIC_LEN + 4, n) !=
	    get32(buf + off + MAGIC_LEN + 4 + n))
		return -1;
	return (long)n;
}

/* Copies the value of "key: " at the start of the lines in p[0..n) into
 * *out ("" when absent). */
static int field(ss_arena *a, const char *p, size_t n, const char *key, const char **out)
{
	size_t kl = strlen(key);

	*out = "";
	for (const char *s = p, *end = p + n; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		if ((size_t)(e - s) > kl + 1 && !memcmp(s, key, kl) && s[kl] == ':' &&
		    s[kl + 1] == ' ')
			return (*out = arena_strndup(a, s + kl + 2, (size_t)(e - s) - kl - 2))
			           ? 0
			           : SS_ENOMEM;
		s = e + 1;
	}
	return 0;
}

static int parse_payload(const char *p, size_t n, ss_arena *a, evidence_rec *r)
{
	const char *head_end = memmem(p, n, "\n\n", 2), *t = NULL, *h = NULL;
	size_t hl = head_end ? (size_t)(head_end - p) + 1 : n;
	const char *keys[] = {"ip", "network", "contact", "country", "asn", "user"};
	const char **vals[] = {&r->ip, &r->network, &r->contact, &r->country, &r->asn, &r->user};
	int err = field(a, p, hl, "time", &t);

	if (!err)
		err = field(a, p, hl, "sha256", &h);
	for (size_t i = 0; !err && i < 6; i++)
		err = field(a, p, hl, keys[i], vals[i]);
	if (err)
		return err;
	r->time = strtoll(t, NULL, 10);
	snprintf(r->sha256, sizeof(r->sha256), "%s", h);
	r->original = head_end ? head_end + 2 : p + n;
	r->original_len = (size_t)(p + n - r->original);
	return 0;
}

int evidence_decode(const char *buf, size_t len, size_t *off, ss_arena *a, evidence_rec *r,
                    size_t *skipped)
{
	size_t start = *off;
	long n = -1;

	while (*off < len && (n = frame_at(buf, len, *off)) < 0) {
		const char *next =
		    memmem(buf + *off + 1, len - *off - 1, EVIDENCE_MAGIC, MAGIC_LEN);
		*off = next ? (size_t)(next - buf) : len;
	}
	*skipped += *off - start;
	if (*off >= len)
		return 0;
	memset(r, 0, sizeof(*r));
	if (parse_payload(buf + *off + MAGIC_LEN + 4, (size_t)n, a, r))
		return SS_ENOMEM;
	*off += FRAME_LEN + (size_t)n;
	return 1;
}

/* ---- the file ---- */

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return SS_EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Makes dir when absent; fsyncs it after the file is made. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return SS_EIO;
	rc = fsync(fd) ? SS_EIO : 0;
	close(fd);
	return rc;
}

int evidence_append(const char *dir, const evidence_rec *r)
{
	evidence_rec c = *r;
	sbuf rec = SBUF_INIT;
	char path[4096];
	struct stat st;
	int fd = -1, err, made;

	evidence_sha256(r->original, r->original_len, c.sha256);
	if ((err = evidence_encode(&c, &rec)))
		goto out;
	err = SS_EIO;
	if (mkdir(dir, 0700) && errno != EEXIST)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, EVIDENCE_FILE);
	made = stat(path, &st) != 0;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(fd, LOCK_EX))
		goto out;
	if (write_all(fd, rec.p, rec.len) || fsync(fd) || (made && sync_dir(dir)))
		goto out;
	err = 0;
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
	sbuf_release(&rec);
	return err;
}

static int scan_buf(const char *buf, size_t len, evidence_cb cb, void *ctx, size_t *skipped)
{
	size_t off = 0, skip = 0;
	evidence_rec r;
	ss_arena a;
	int rc;

	arena_init(&a);
	while ((rc = evidence_decode(buf, len, &off, &a, &r, &skip)) == 1) {
		rc = cb(ctx, &r);
		arena_release(&a);
		arena_init(&a);
		if (rc)
			break;
	}
	arena_release(&a);
	if (skipped)
		*skipped = skip;
	return rc == 1 ? 0 : rc;
}

int evidence_scan(const char *dir, evidence_cb cb, void *ctx, size_t *skipped)
{
	char path[4096];
	struct stat st;
	void *map;
	int fd, rc;

	if (skipped)
		*skipped = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, EVIDENCE_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : SS_EIO;
	if (fstat(fd, &st)) {
		close(fd);
		return SS_EIO;
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return SS_EIO;
	rc = scan_buf(map, (size_t)st.st_size, cb, ctx, skipped);
	munmap(map, (size_t)st.st_size);
	return rc;
}

/* ---- statistics ---- */

void evidence_stats_init(evidence_stats *s, int64_t since, int64_t until)
{
	memset(s, 0, sizeof(*s));
	s->since = since;
	s->until = until;
}

static void free_counts(evidence_count *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].network);
		free(c[i].country);
	}
	free(c);
}

void evidence_stats_release(evidence_stats *s)
{
	free_counts(s->by_network, s->nnetwork);
	free_counts(s->by_country, s->ncountry);
	memset(s, 0, sizeof(*s));
}

static int count(evidence_count **c, size_t *n, size_t *cap, const char *net, const char *cc)
{
	evidence_count *x;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*c)[i].network, net) && !strcmp((*c)[i].country, cc)) {
			(*c)[i].n++;
			return 0;
		}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		if (!(x = realloc(*c, nc * sizeof(*x))))
			return SS_ENOMEM;
		*c = x;
		*cap = nc;
	}
	x = &(*c)[*n];
	x->network = strdup(net);
	x->country = strdup(cc);
	x->n = 1;
	(*n)++;
	return x->network && x->country ? 0 : SS_ENOMEM;
}

int evidence_stats_add(evidence_stats *s, const evidence_rec *r)
{
	const char *net = r->network ? r->network : "", *cc = r->country ? r->country : "";
	int err;

	if (r->time < s->since || (s->until && r->time >= s->until))
		return 0;
	s->total++;
	if ((err = count(&s->by_network, &s->nnetwork, &s->cap_network, net, cc)))
		return err;
	return count(&s->by_country, &s->ncountry, &s->cap_country, "", cc);
}

static int by_count(const void *pa, const void *pb)
{
	const evidence_count *a = pa, *b = pb;
	int c;

	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	c = strcmp(a->network, b->network);
	return c ? c : strcmp(a->country, b->country);
}

void evidence_stats_sort(evidence_stats *s)
{
	if (s->nnetwork)
		qsort(s->by_network, s->nnetwork, sizeof(*s->by_network), by_count);
	if (s->ncountry)
		qsort(s->by_country, s->ncountry, sizeof(*s->by_country), by_count);
}

/* A CSV field: quoted when it holds a comma, quote or line end. */
static int csv_field(sbuf *b, const char *s)
{
	int err;

	if (!strpbrk(s, ",\"\r\n"))
		return sbuf_adds(b, s);
	err = sbuf_addc(b, '"');
	for (; !err && *s; s++)
		err = *s == '"' ? sbuf_adds(b, "\"\"") : sbuf_addc(b, *s);
	return err ? err : sbuf_addc(b, '"');
}

static int csv_rows(sbuf *b, const char *kind, const evidence_count *c, size_t n)
{
	int err = 0;

	for (size_t i = 0; !err && i < n; i++) {
		err = sbuf_addf(b, "%s,", kind);
		if (!err)
			err = csv_field(b, c[i].network);
		if (!err)
			err = sbuf_addc(b, ',');
		if (!err)
			err = csv_field(b, c[i].country);
		if (!err)
			err = sbuf_addf(b, ",%zu\n", c[i].n);
	}
	return err;
}

int evidence_stats_csv(const evidence_stats *s, sbuf *out)
{
	int err = sbuf_adds(out, "kind,network,country,reports\n");

	if (!err)
		err = csv_rows(out, "network", s->by_network, s->nnetwork);
	if (!err)
		err = csv_rows(out, "country", s->by_country, s->ncountry);
	return err;
}

static int json_counts(sbuf *b, const char *name, const evidence_count *c, size_t n, int net)
{
	int err = sbuf_addf(b, ",\"%s\":[", name);

	for (size_t i = 0; !err && i < n; i++) {
		err = sbuf_adds(b, i ? ",{" : "{");
		if (!err && net &&
		    !(err = json_kv_str(b, "network", c[i].network, strlen(c[i].network))))
			err = sbuf_addc(b, ',');
		if (!err)
			err = json_kv_str(b, "country", c[i].country, strlen(c[i].country));
		if (!err)
			err = sbuf_addf(b, ",\"reports\":%zu}", c[i].n);
	}
	return err ? err : sbuf_addc(b, ']');
}

int evidence_stats_json(const evidence_stats *s, sbuf *out)
{
	int err = sbuf_addf(out, "{\"since\":%lld,\"until\":", (long long)s->since);

	if (!err)
		err =
		    s->until ? sbuf_addf(out, "%lld", (long long)s->until) : sbuf_adds(out, "null");
	if (!err)
		err = sbuf_addf(out, ",\"total\":%zu,\"skipped_bytes\":%zu", s->total, s->skipped);
	if (!err)
		err = json_counts(out, "by_network", s->by_network, s->nnetwork, 1);
	if (!err)
		err = json_counts(out, "by_country", s->by_country, s->ncountry, 0);
	return err ? err : sbuf_adds(out, "}\n");
}

int evidence_parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *end;
	char *e;
	long long v;

	if (!s || !*s)
		return SS_ESYNTAX;
	v = strtoll(s, &e, 10);
	if (!*e && e - s > 4) {
		*out = v;
		return 0;
	}
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == 'T')
		end = strptime(end, "T%H:%M:%SZ", &tm);
	if (!end || *end)
		return SS_ESYNTAX;
	*out = (int64_t)timegm(&tm);
	return 0;
}
