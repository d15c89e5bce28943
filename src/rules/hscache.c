/*
 * hscache.c: compiled Hyperscan databases kept on disk, so that a process
 * that starts often (`spamsift check` from a delivery script, a daemon
 * restart) does not spend ~200 ms compiling the same ~1,000 patterns again.
 *
 * A database is named by a 128-bit hash of everything its compilation
 * depends on: Hyperscan's version, the CPU it compiles for (a database
 * compiled where AVX-512 is absent, under valgrind say, would be slower
 * here, and one compiled here refused there), and each expression with its
 * flags and id, in order. The file holds a magic, that hash, a hash of
 * the bytes that follow and the serialized database
 * (hs_serialize_database); a file that is short, foreign, of another
 * name, whose bytes do not match their hash, or that
 * hs_deserialize_database refuses is ignored and replaced. Writes go to a temporary file renamed
 * into place, so readers never see half a file; any I/O failure only costs the cache.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "rules/internal.h"

#define MAGIC "SSHSDB1\n"
#define MAGIC_LEN 8
#define MAX_DB (256u << 20) /* bytes of one cached database */
#define MAX_FILES 64        /* databases kept; the least recently used go */

static hs_platform_info_t platform;
static pthread_once_t platform_once = PTHREAD_ONCE_INIT;

/* The CPU's description, once a process: hs_populate_platform asks CPUID,
 * which a virtual machine's hypervisor answers slowly (a rule set builds
 * several databases; asking for each cost ~0.4 ms of a `check`'s start). */
static void platform_init(void)
{
	memset(&platform, 0, sizeof(platform));
	(void)hs_populate_platform(&platform);
}

void hscache_key(const char *const *exprs, const unsigned *flags, const unsigned *ids, size_t n,
                 uint8_t key[HSCACHE_KEY])
{
	XXH3_state_t st;
	XXH128_hash_t h;
	const char *v = hs_version();
	uint64_t nn = n;

	pthread_once(&platform_once, platform_init);
	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, v, strlen(v) + 1);
	XXH3_128bits_update(&st, &platform, sizeof(platform));
	XXH3_128bits_update(&st, &nn, sizeof(nn));
	for (size_t i = 0; i < n; i++) {
		XXH3_128bits_update(&st, &flags[i], sizeof(flags[i]));
		XXH3_128bits_update(&st, &ids[i], sizeof(ids[i]));
		XXH3_128bits_update(&st, exprs[i], strlen(exprs[i]) + 1);
	}
	h = XXH3_128bits_digest(&st);
	memcpy(key, &h.high64, 8);
	memcpy(key + 8, &h.low64, 8);
}

static void sum_of(const char *p, size_t len, uint8_t out[HSCACHE_KEY])
{
	XXH128_hash_t h = XXH3_128bits(p, len);

	memcpy(out, &h.high64, 8);
	memcpy(out + 8, &h.low64, 8);
}

static void path_of(const char *dir, const uint8_t key[HSCACHE_KEY], char *out, size_t len)
{
	char hex[2 * HSCACHE_KEY + 1];

	for (size_t i = 0; i < HSCACHE_KEY; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	snprintf(out, len, "%s/hs-%s.db", dir, hex);
}

static int read_all(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* mkdir -p, mode 0700 for what it makes; errors show up at the open. */
static void make_dirs(const char *dir)
{
	char p[4096];
	size_t n = strlen(dir);

	if (n >= sizeof(p))
		return;
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i < n; i++)
		if (p[i] == '/') {
			p[i] = '\0';
			(void)mkdir(p, 0700);
			p[i] = '/';
		}
	(void)mkdir(p, 0700);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A sealed file: a head ending with a hash (sum_of) of the body that
 * follows it. Reads path's head (hlen bytes) into head and its body,
 * of min to max bytes, into *body (malloc'd, *blen bytes). Returns 0, or
 * -1 (nothing kept) when the file is absent, of another size, short, or
 * its body does not match the hash. */
static int read_sealed(const char *path, char *head, size_t hlen, size_t min, size_t max,
                       char **body, size_t *blen)
{
	uint8_t sum[HSCACHE_KEY];
	struct stat st;
	char *buf = NULL;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || st.st_size < (off_t)(hlen + min) || st.st_size > (off_t)(hlen + max))
		goto out;
	len = (size_t)st.st_size - hlen;
	if (read_all(fd, head, hlen) || !(buf = malloc(len ? len : 1)) || read_all(fd, buf, len))
		goto out;
	sum_of(buf, len, sum);
	if (memcmp(sum, head + hlen - HSCACHE_KEY, HSCACHE_KEY))
		goto out;
	*body = buf;
	*blen = len;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

/* Writes the sealed file path (see read_sealed): head, whose last
 * HSCACHE_KEY bytes this fills with the body's hash, then the body;
 * through a temporary file renamed into place, dir made first. Returns 0,
 * or -1 when nothing was written. */
static int write_sealed(const char *dir, const char *path, char *head, size_t hlen,
                        const char *body, size_t blen)
{
	char tmp[4200];
	int fd, ok;

	make_dirs(dir);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	sum_of(body, blen, (uint8_t *)head + hlen - HSCACHE_KEY);
	ok = !write_all(fd, head, hlen) && !write_all(fd, body, blen);
	ok = !close(fd) && ok;
	if (ok && !rename(tmp, path))
		return 0;
	unlink(tmp);
	return -1;
}

void *hscache_load(const char *dir, const uint8_t key[HSCACHE_KEY])
{
	char path[4096], head[MAGIC_LEN + 2 * HSCACHE_KEY], *buf = NULL;
	hs_database_t *db = NULL;
	size_t len;

	if (!dir || !*dir)
		return NULL;
	path_of(dir, key, path, sizeof(path));
	if (read_sealed(path, head, sizeof(head), 1, MAX_DB - sizeof(head), &buf, &len))
		return NULL;
	if (memcmp(head, MAGIC, MAGIC_LEN) || memcmp(head + MAGIC_LEN, key, HSCACHE_KEY) ||
	    hs_deserialize_database(buf, len, &db) != HS_SUCCESS)
		db = NULL;
	else /* used now: the last to be pruned */
		(void)utimensat(AT_FDCWD, path, NULL, 0);
	free(buf);
	return db;
}

/* Keeps the folder under MAX_FILES databases: while over, removes the one
 * least recently used (oldest modification time; a load touches it). */
static void prune(const char *dir)
{
	char path[4096], old[4096];
	struct dirent *e;
	struct stat st;
	size_t n;
	DIR *d;

	do {
		time_t oldest = 0;
		if (!(d = opendir(dir)))
			return;
		n = 0;
		old[0] = '\0';
		while ((e = readdir(d))) {
			size_t l = strlen(e->d_name);
			if (strncmp(e->d_name, "hs-", 3) || l < 6 ||
			    strcmp(e->d_name + l - 3, ".db"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (stat(path, &st))
				continue;
			if (!n++ || st.st_mtime < oldest) {
				oldest = st.st_mtime;
				snprintf(old, sizeof(old), "%s", path);
			}
		}
		closedir(d);
	} while (n > MAX_FILES && old[0] && !unlink(old));
}

void hscache_store(const char *dir, const uint8_t key[HSCACHE_KEY], const void *db)
{
	char path[4096], head[MAGIC_LEN + 2 * HSCACHE_KEY], *bytes = NULL;
	size_t len = 0;

	if (!dir || !*dir || !db)
		return;
	if (hs_serialize_database((const hs_database_t *)db, &bytes, &len) != HS_SUCCESS)
		return;
	path_of(dir, key, path, sizeof(path));
	memcpy(head, MAGIC, MAGIC_LEN);
	memcpy(head + MAGIC_LEN, key, HSCACHE_KEY);
	if (!write_sealed(dir, path, head, sizeof(head), bytes, len))
		prune(dir);
	free(bytes);
}

/* ---- Hyperscan's verdicts on single expressions ---- */

#define HSV_MAGIC "SSHSVD1\n"
#define HSV_FILE "verdicts"
#define HSV_MAX 32768 /* verdicts kept; a memo that fills up starts again */
#define HSV_REC (HSCACHE_KEY + 1)

typedef struct hsv_slot {
	uint8_t key[HSCACHE_KEY];
	uint8_t used, verdict;
} hsv_slot;

struct hsv_memo {
	char *dir;
	hsv_slot *slot;
	size_t cap, n; /* cap a power of two, n <= cap / 2 */
	int dirty;
};

/* An expression's key: Hyperscan's version, its flags and its text. */
static void hsv_key(const char *re, unsigned flags, uint8_t key[HSCACHE_KEY])
{
	const char *v = hs_version();
	XXH3_state_t st;
	XXH128_hash_t h;

	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, v, strlen(v) + 1);
	XXH3_128bits_update(&st, &flags, sizeof(flags));
	XXH3_128bits_update(&st, re, strlen(re) + 1);
	h = XXH3_128bits_digest(&st);
	memcpy(key, &h.high64, 8);
	memcpy(key + 8, &h.low64, 8);
}

/* The slot of key: where it is, or the empty one where it would go. */
static hsv_slot *hsv_find(const hsv_memo *m, const uint8_t key[HSCACHE_KEY])
{
	uint64_t h;
	size_t i;

	memcpy(&h, key, sizeof(h));
	for (i = h & (m->cap - 1); m->slot[i].used; i = (i + 1) & (m->cap - 1))
		if (!memcmp(m->slot[i].key, key, HSCACHE_KEY))
			break;
	return &m->slot[i];
}

/* Adds key with verdict v: doubles the table at half full, and empties a
 * full memo first. Returns 0 or SS_ENOMEM (the memo unchanged). */
static int hsv_add(hsv_memo *m, const uint8_t key[HSCACHE_KEY], int v)
{
	hsv_slot *sl;

	if (m->n >= HSV_MAX) {
		memset(m->slot, 0, m->cap * sizeof(*m->slot));
		m->n = 0;
	}
	if (2 * (m->n + 1) > m->cap) {
		hsv_slot *old = m->slot;
		size_t oldcap = m->cap;
		if (!(m->slot = calloc(2 * oldcap, sizeof(*m->slot)))) {
			m->slot = old;
			return SS_ENOMEM;
		}
		m->cap = 2 * oldcap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].used)
				*hsv_find(m, old[i].key) = old[i];
		free(old);
	}
	sl = hsv_find(m, key);
	m->n += !sl->used;
	memcpy(sl->key, key, HSCACHE_KEY);
	sl->used = 1;
	sl->verdict = (uint8_t)v;
	return 0;
}

/* Fills m from its file: magic, a hash of the records, the records (key,
 * verdict); a file that is not exactly so is ignored. */

static void hsv_load(hsv_memo *m)
{
	char path[4096], head[MAGIC_LEN + HSCACHE_KEY], *buf = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/" HSV_FILE, m->dir);
	if (read_sealed(path, head, sizeof(head), 0, HSV_MAX * HSV_REC, &buf, &len))
		return;
	if (!(len % HSV_REC) && !memcmp(head, HSV_MAGIC, MAGIC_LEN))
		for (size_t off = 0; off < len; off += HSV_REC)
			if ((uint8_t)buf[off + HSCACHE_KEY] > HSV_REFUSED ||
			    hsv_add(m, (const uint8_t *)buf + off, buf[off + HSCACHE_KEY]))
				break;
	free(buf);
}

hsv_memo *hsv_open(const char *dir)
{
	hsv_memo *m;

	if (!dir || !*dir || !(m = calloc(1, sizeof(*m))))
		return NULL;
	m->cap = 1024;
	if (!(m->dir = strdup(dir)) || !(m->slot = calloc(m->cap, sizeof(*m->slot)))) {
		free(m->dir);
		free(m);
		return NULL;
	}
	hsv_load(m);
	return m;
}

int hsv_get(const hsv_memo *m, const char *re, unsigned flags)
{
	uint8_t key[HSCACHE_KEY];
	const hsv_slot *sl;

	if (!m)
		return -1;
	hsv_key(re, flags, key);
	sl = hsv_find(m, key);
	return sl->used ? sl->verdict : -1;
}

void hsv_put(hsv_memo *m, const char *re, unsigned flags, int verdict)
{
	uint8_t key[HSCACHE_KEY];

	if (!m)
		return;
	hsv_key(re, flags, key);
	if (!hsv_add(m, key, verdict))
		m->dirty = 1;
}

/* Writes the memo's records to its file (through a temporary file renamed
 * into place); failures only cost the memo. */

static void hsv_store(const hsv_memo *m)
{
	char path[4096], head[MAGIC_LEN + HSCACHE_KEY], *buf = malloc(m->n * HSV_REC + 1);
	size_t len = 0;

	if (!buf)
		return;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slot[i].used) {
			memcpy(buf + len, m->slot[i].key, HSCACHE_KEY);
			buf[len + HSCACHE_KEY] = (char)m->slot[i].verdict;
			len += HSV_REC;
		}
	snprintf(path, sizeof(path), "%s/" HSV_FILE, m->dir);
	memcpy(head, HSV_MAGIC, MAGIC_LEN);
	(void)write_sealed(m->dir, path, head, sizeof(head), buf, len);
	free(buf);
}

void hsv_close(hsv_memo *m)
{
	if (!m)
		return;
	if (m->dirty)
		hsv_store(m);
	free(m->slot);
	free(m->dir);
	free(m);
}
