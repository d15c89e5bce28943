/*
 * contacts.c: the abuse contact map and the country database (see
 * contacts.h).
 */
#include "report/contacts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamsift.h"
#include "util/arena.h"

#define MAX_TOKEN 256 /* bytes of one word of a line */

typedef struct entry {
	uint8_t addr[16]; /* v4 as v4-mapped v6 */
	unsigned bits;    /* prefix length over the 128 bits */
	contact c;
} entry;

struct contact_map {
	ss_arena a;
	entry *e;
	size_t n, cap;
};

static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Parses a textual address into 16 bytes; returns 32 (v4) or 128 (v6)
 * bits, 0 when it is not an address. */
static unsigned parse_addr(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		memcpy(out, mapped, sizeof(mapped));
		return 32;
	}
	return inet_pton(AF_INET6, s, out) == 1 ? 128 : 0;
}

/* "ADDR[/BITS]" into e; returns 0 or -1 with why set. */
static int parse_cidr(char *s, entry *e, const char **why)
{
	char *slash = strchr(s, '/'), *end;
	unsigned max, bits;
	long v;

	if (slash)
		*slash = 0;
	if (!(max = parse_addr(s, e->addr))) {
		*why = "not an IP address";
		return -1;
	}
	bits = max;
	if (slash) {
		errno = 0;
		v = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || v < 0 || v > (long)max) {
			*why = "bad prefix length";
			return -1;
		}
		bits = (unsigned)v;
		*slash = '/';
	}
	e->bits = bits + (max == 32 ? 96 : 0);
	return 0;
}

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole))
		return 0;
	return !rest || ((a[whole] ^ b[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* The optional words after the contact: ASN or country code. */
static int extra_word(contact_map *m, entry *e, const char *w, const char **why)
{
	size_t n = strlen(w), i = 2;

	if (n > 2 && (w[0] == 'A' || w[0] == 'a') && (w[1] == 'S' || w[1] == 's')) {
		while (i < n && w[i] >= '0' && w[i] <= '9')
			i++;
		if (i == n && !e->c.asn)
			return (e->c.asn = arena_strndup(&m->a, w, n)) ? 0 : SS_ENOMEM;
	}
	if (n == 2 && w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'A' && w[1] <= 'Z' && !e->c.cc)
		return (e->c.cc = arena_strndup(&m->a, w, n)) ? 0 : SS_ENOMEM;
	*why = "want [ASnumber] [CC] after the contact (CC in upper case)";
	return SS_ESYNTAX;
}

/* Splits line (NUL-terminated, writable) into at most 5 words. */
static size_t split(char *line, char **w)
{
	size_t n = 0;

	for (char *p = line; *p && n < 5;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = 0;
		if (!*p || *p == '#')
			break;
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
	}
	return n;
}

static int add_entry(contact_map *m, const entry *e)
{
	if (arena_grow(&m->a, (void **)&m->e, &m->cap, m->n + 1, sizeof(*m->e)))
		return SS_ENOMEM;
	m->e[m->n++] = *e;
	return 0;
}

/* One line; returns 0, SS_ESYNTAX with why set, or SS_ENOMEM. */
static int parse_line(contact_map *m, char *line, const char **why)
{
	char *w[5];
	size_t n = split(line, w);
	entry e = {0};
	int err = 0;

	if (!n)
		return 0;
	if (n < 2 || n > 4) {
		*why = n < 2 ? "want CIDR CONTACT [ASN] [CC]" : "too many words";
		return SS_ESYNTAX;
	}
	if (parse_cidr(w[0], &e, why))
		return SS_ESYNTAX;
	if (!strchr(w[1], '@') || w[1][0] == '@' || strlen(w[1]) > MAX_TOKEN) {
		*why = "the contact is not an address (want abuse@example.net)";
		return SS_ESYNTAX;
	}
	for (size_t i = 2; !err && i < n; i++)
		err = extra_word(m, &e, w[i], why);
	if (!err && (!(e.c.network = arena_strndup(&m->a, w[0], strlen(w[0]))) ||
	             !(e.c.addr = arena_strndup(&m->a, w[1], strlen(w[1])))))
		err = SS_ENOMEM;
	return err ? err : add_entry(m, &e);
}

static int parse_all(contact_map *m, const char *buf, size_t len, const char *name, char *err,
                     size_t err_len)
{
	size_t lineno = 0, i = 0;
	char line[1024];
	int rc = 0;

	while (!rc && i < len) {
		const char *nl = memchr(buf + i, '\n', len - i), *why = "out of memory";
		size_t n = (nl ? (size_t)(nl - buf) : len) - i;
		lineno++;
		if (n >= sizeof(line) || memchr(buf + i, 0, n)) {
			why = n >= sizeof(line) ? "line too long" : "NUL byte in the line";
			rc = SS_ESYNTAX;
		} else {
			memcpy(line, buf + i, n);
			line[n] = 0;
			rc = parse_line(m, line, &why);
		}
		if (rc && err_len)
			snprintf(err, err_len, "%s:%zu: %s", name, lineno, why);
		i += n + 1;
	}
	return rc;
}

int contacts_parse(const char *buf, size_t len, const char *name, contact_map **out, char *err,
                   size_t err_len)
{
	contact_map *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return SS_ENOMEM;
	arena_init(&m->a);
	if ((rc = parse_all(m, buf, len, name ? name : "contacts", err, err_len))) {
		contacts_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int contacts_load(const char *path, contact_map **out, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	int rc = SS_EIO;

	if (f) {
		FILE *mem = open_memstream(&buf, &len);
		char chunk[8192];
		size_t n;
		while (mem && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, mem);
		rc = !mem || ferror(f) ? SS_EIO : 0;
		if (mem)
			fclose(mem);
		fclose(f);
	}
	if (rc) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = contacts_parse(buf ? buf : "", len, path, out, err, err_len);
out:
	free(buf);
	return rc;
}

void contacts_free(contact_map *m)
{
	if (!m)
		return;
	arena_release(&m->a);
	free(m);
}

size_t contacts_count(const contact_map *m)
{
	return m ? m->n : 0;
}

int contacts_lookup(const contact_map *m, const char *ip, contact *out)
{
	uint8_t a[16];
	const entry *best = NULL;

	if (!m || !ip || !parse_addr(ip, a))
		return 0;
	for (size_t i = 0; i < m->n; i++)
		if ((!best || m->e[i].bits > best->bits) &&
		    prefix_match(a, m->e[i].addr, m->e[i].bits))
			best = &m->e[i];
	if (best)
		*out = best->c;
	return best != NULL;
}

/* ---- the country database ---- */

struct geoip {
	MMDB_s db;
};

int geoip_open(const char *path, geoip **out, char *err, size_t err_len)
{
	geoip *g = calloc(1, sizeof(*g));
	int rc;

	if (!g)
		return SS_ENOMEM;
	if ((rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db)) != MMDB_SUCCESS) {
		snprintf(err, err_len, "%s: %s", path,
		         rc == MMDB_IO_ERROR ? strerror(errno) : MMDB_strerror(rc));
		free(g);
		return SS_EIO;
	}
	*out = g;
	return 0;
}

int geoip_country(const geoip *g, const char *ip, char cc[3])
{
	int gai = 0, mmdb = 0;
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;

	if (!g || !ip)
		return 0;
	r = MMDB_lookup_string((MMDB_s *)&g->db, ip, &gai, &mmdb);
	if (gai || mmdb != MMDB_SUCCESS || !r.found_entry)
		return 0;
	if (MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) != MMDB_SUCCESS ||
	    !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
		return 0;
	memcpy(cc, d.utf8_string, 2);
	cc[2] = 0;
	return 1;
}

void geoip_close(geoip *g)
{
	if (!g)
		return;
	MMDB_close(&g->db);
	free(g);
}
