/*
 * fpp.c: the fingerprint protocol's envelopes, messages and keys files
 * (see fpp.h and docs/FPP.md). Little-endian integers throughout.
 */
#include "proto/fpp.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "spamsift.h"

/* A bounded writer and reader over a byte buffer. */
typedef struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
} wbuf;

typedef struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int err;
} rbuf;

static void put(wbuf *w, const void *src, size_t n)
{
	if (w->err || w->cap - w->len < n) {
		w->err = 1;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_uint(wbuf *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, n);
}

static const uint8_t *get(rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->err || r->len - r->off < n) {
		r->err = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t get_uint(rbuf *r, size_t n)
{
	const uint8_t *b = get(r, n);
	uint64_t v = 0;

	for (size_t i = 0; b && i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void get_copy(rbuf *r, void *dst, size_t n)
{
	const uint8_t *b = get(r, n);

	if (b)
		memcpy(dst, b, n);
}

int fpp_envelope_parse(const uint8_t *pkt, size_t len, fpp_envelope *env)
{
	size_t nl;

	if (len < 2 || pkt[0] != FPP_VERSION || len > FPP_MAX_PACKET)
		return SS_EINVAL;
	nl = pkt[1];
	if (!nl || nl > FPP_NAME_MAX || len < 2 + nl + FPP_NONCE + FPP_MAC)
		return SS_EINVAL;
	for (size_t i = 0; i < nl; i++)
		if (pkt[2 + i] <= ' ' || pkt[2 + i] >= 0x7f)
			return SS_EINVAL;
	memcpy(env->name, pkt + 2, nl);
	env->name[nl] = 0;
	env->nonce = pkt + 2 + nl;
	env->box = env->nonce + FPP_NONCE;
	env->boxlen = len - 2 - nl - FPP_NONCE;
	return 0;
}

static void put_match(wbuf *w, const fpp_msg *m)
{
	put(w, &m->text, m->has_text ? sizeof(m->text.h) : 0);
	for (size_t i = 0; i < m->ndigests; i++)
		put(w, m->digests[i].sha256, 32);
}

/* The fields ADD and DEL requests share: class, weight, federation, reporter. */
static void put_change(wbuf *w, const fpp_msg *m)
{
	size_t rl = strlen(m->reporter);

	put_uint(w, m->cls, 1);
	put_uint(w, m->hops, 1);
	put_uint(w, m->nvisited, 1);
	put_uint(w, rl, 1);
	put_uint(w, (uint32_t)lround(m->weight * 1000), 4);
	put(w, m->origin, FPP_SERVER_ID);
	put_uint(w, m->origin_seq, 8);
	for (size_t i = 0; i < m->nvisited; i++)
		put(w, m->visited[i], FPP_SERVER_ID);
	put(w, m->reporter, rl);
}

static void put_found(wbuf *w, const fpp_msg *m)
{
	put_uint(w, m->found, 1);
	put_uint(w, m->cls, 1);
	put_uint(w, (uint16_t)lround(m->similarity * 10000), 2);
	put_uint(w, (uint32_t)lround(m->weight * 1000), 4);
	put_uint(w, m->first_seen, 8);
	put_uint(w, m->last_seen, 8);
	put_uint(w, m->count, 4);
}

static int msg_valid(const fpp_msg *m)
{
	return m->cmd >= FPP_PING && m->cmd <= FPP_DEL && m->ndigests <= FPP_MAX_DIGESTS &&
	       m->nvisited <= FPP_MAX_VISITED && m->cls <= FPP_SPAM && m->weight >= 0 &&
	       m->weight <= 4000000 && m->similarity >= 0 && m->similarity <= 1 &&
	       strlen(m->reporter) <= FPP_NAME_MAX;
}

int fpp_msg_encode(const fpp_msg *m, uint8_t *out, size_t cap)
{
	wbuf w = {out, 0, cap, 0};
	int flags = (m->is_reply ? 1 : 0) | (m->has_text ? 2 : 0);

	if (!msg_valid(m))
		return SS_EINVAL;
	put_uint(&w, m->cmd, 1);
	put_uint(&w, m->status, 1);
	put_uint(&w, flags, 1);
	put_uint(&w, m->is_reply ? 0 : m->ndigests, 1);
	put_uint(&w, m->ts, 8);
	put_uint(&w, m->reqid, 8);
	if (!m->is_reply && (m->cmd == FPP_ADD || m->cmd == FPP_DEL))
		put_change(&w, m);
	if (!m->is_reply && m->cmd != FPP_PING)
		put_match(&w, m);
	if (m->is_reply && m->cmd == FPP_LOOKUP)
		put_found(&w, m);
	return w.err ? SS_EINVAL : (int)w.len;
}

static void get_change(rbuf *r, fpp_msg *m)
{
	size_t rl;

	m->cls = (uint8_t)get_uint(r, 1);
	m->hops = (uint8_t)get_uint(r, 1);
	m->nvisited = (uint8_t)get_uint(r, 1);
	rl = (size_t)get_uint(r, 1);
	m->weight = get_uint(r, 4) / 1000.0;
	if (m->cls > FPP_SPAM || m->nvisited > FPP_MAX_VISITED || rl > FPP_NAME_MAX ||
	    m->weight > 4000000) {
		r->err = 1;
		return;
	}
	get_copy(r, m->origin, FPP_SERVER_ID);
	m->origin_seq = get_uint(r, 8);
	for (size_t i = 0; i < m->nvisited; i++)
		get_copy(r, m->visited[i], FPP_SERVER_ID);
	get_copy(r, m->reporter, rl);
	m->reporter[r->err ? 0 : rl] = 0;
	if (!r->err && strlen(m->reporter) != rl)
		r->err = 1; /* a NUL inside the name (found by fuzz_fpp) */
	for (size_t i = 0; i < strlen(m->reporter); i++)
		if ((uint8_t)m->reporter[i] <= ' ' || (uint8_t)m->reporter[i] >= 0x7f)
			r->err = 1;
}

static void get_match(rbuf *r, fpp_msg *m)
{
	if (m->has_text)
		for (size_t i = 0; i < FP_NHASH; i++)
			m->text.h[i] = (uint32_t)get_uint(r, 4);
	for (size_t i = 0; i < m->ndigests; i++)
		get_copy(r, m->digests[i].sha256, 32);
}

static void get_found(rbuf *r, fpp_msg *m)
{
	m->found = (uint8_t)get_uint(r, 1);
	m->cls = (uint8_t)get_uint(r, 1);
	m->similarity = get_uint(r, 2) / 10000.0;
	m->weight = get_uint(r, 4) / 1000.0;
	m->first_seen = get_uint(r, 8);
	m->last_seen = get_uint(r, 8);
	m->count = (uint32_t)get_uint(r, 4);
	if (m->found > 1 || m->cls > FPP_SPAM || m->similarity > 1 || m->weight > 4000000)
		r->err = 1;
}

int fpp_msg_decode(const uint8_t *p, size_t len, fpp_msg *m)
{
	rbuf r = {p, len, 0, 0};
	unsigned flags;

	memset(m, 0, sizeof(*m));
	m->cmd = (uint8_t)get_uint(&r, 1);
	m->status = (uint8_t)get_uint(&r, 1);
	flags = (unsigned)get_uint(&r, 1);
	m->ndigests = (uint8_t)get_uint(&r, 1);
	m->ts = get_uint(&r, 8);
	m->reqid = get_uint(&r, 8);
	m->is_reply = flags & 1;
	m->has_text = !!(flags & 2);
	if (r.err || m->cmd < FPP_PING || m->cmd > FPP_DEL || flags > 3 ||
	    m->ndigests > FPP_MAX_DIGESTS || (m->is_reply && (m->ndigests || m->has_text)))
		return SS_EINVAL;
	if (!m->is_reply && (m->cmd == FPP_ADD || m->cmd == FPP_DEL))
		get_change(&r, m);
	if (!m->is_reply && m->cmd != FPP_PING)
		get_match(&r, m);
	if (m->is_reply && m->cmd == FPP_LOOKUP)
		get_found(&r, m);
	return r.err || r.off != len ? SS_EINVAL : 0;
}

int fpp_seal(const char *name, const uint8_t secret[FPP_SECRET], const fpp_msg *m, uint8_t *out,
             size_t cap)
{
	uint8_t plain[FPP_MAX_PACKET];
	size_t nl = strlen(name), head = 2 + nl + FPP_NONCE;
	int pl = fpp_msg_encode(m, plain, sizeof(plain));

	if (pl < 0 || !nl || nl > FPP_NAME_MAX || cap < head + FPP_MAC + (size_t)pl ||
	    head + FPP_MAC + (size_t)pl > FPP_MAX_PACKET)
		return SS_EINVAL;
	out[0] = FPP_VERSION;
	out[1] = (uint8_t)nl;
	memcpy(out + 2, name, nl);
	randombytes_buf(out + 2 + nl, FPP_NONCE);
	crypto_secretbox_easy(out + head, plain, (size_t)pl, out + 2 + nl, secret);
	sodium_memzero(plain, (size_t)pl);
	return (int)(head + FPP_MAC + (size_t)pl);
}

int fpp_open(const fpp_envelope *env, const uint8_t secret[FPP_SECRET], fpp_msg *m)
{
	uint8_t plain[FPP_MAX_PACKET];
	size_t pl;

	if (env->boxlen < FPP_MAC || env->boxlen - FPP_MAC > sizeof(plain))
		return SS_EINVAL;
	pl = env->boxlen - FPP_MAC;
	if (crypto_secretbox_open_easy(plain, env->box, env->boxlen, env->nonce, secret))
		return SS_EINVAL;
	return fpp_msg_decode(plain, pl, m);
}

/* The next space-separated word of line[len] from *off, as (p, n). */
static int next_word(const char *line, size_t len, size_t *off, const char **p, size_t *n)
{
	while (*off < len && (line[*off] == ' ' || line[*off] == '\t' || line[*off] == '\r'))
		(*off)++;
	*p = line + *off;
	while (*off < len && line[*off] != ' ' && line[*off] != '\t' && line[*off] != '\r')
		(*off)++;
	*n = (size_t)(line + *off - *p);
	return *n > 0;
}

static int parse_rate(const char *p, size_t n, uint32_t *rate)
{
	uint64_t v = 0;
	size_t i = 5;

	if (n < 8 || memcmp(p, "rate=", 5) || memcmp(p + n - 2, "/s", 2))
		return SS_ESYNTAX;
	for (; i < n - 2; i++) {
		if (p[i] < '0' || p[i] > '9' || (v = v * 10 + (uint64_t)(p[i] - '0')) > 100000000)
			return SS_ESYNTAX;
	}
	*rate = (uint32_t)v;
	return v ? 0 : SS_ESYNTAX;
}

static int parse_secret(const char *p, size_t n, uint8_t secret[FPP_SECRET])
{
	size_t got = 0;

	if (sodium_base642bin(secret, FPP_SECRET, p, n, NULL, &got, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) ||
	    got != FPP_SECRET)
		return SS_ESYNTAX;
	return 0;
}

int fpp_key_parse_line(const char *line, size_t len, fpp_key *k)
{
	const char *w;
	size_t off = 0, n;

	memset(k, 0, sizeof(*k));
	if (!next_word(line, len, &off, &w, &n) || *w == '#')
		return 0;
	if (n > FPP_NAME_MAX)
		return SS_ESYNTAX;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)w[i] <= ' ' || (uint8_t)w[i] >= 0x7f)
			return SS_ESYNTAX;
	memcpy(k->name, w, n);
	if (!next_word(line, len, &off, &w, &n) || n != 2 ||
	    (memcmp(w, "rw", 2) && memcmp(w, "ro", 2)))
		return SS_ESYNTAX;
	k->read_only = w[1] == 'o';
	if (!next_word(line, len, &off, &w, &n) || parse_secret(w, n, k->secret))
		return SS_ESYNTAX;
	if (next_word(line, len, &off, &w, &n) && parse_rate(w, n, &k->rate))
		return SS_ESYNTAX;
	return next_word(line, len, &off, &w, &n) ? SS_ESYNTAX : 1;
}

int fpp_keys_parse(const char *text, size_t len, fpp_key *keys, size_t cap, size_t *n,
                   unsigned *errline)
{
	size_t off = 0;
	unsigned line = 0;

	*n = 0;
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - text - off) : len - off;
		fpp_key k;
		int r = fpp_key_parse_line(text + off, ll, &k);

		line++;
		*errline = line;
		off += ll + (nl ? 1 : 0);
		if (r < 0)
			return r;
		if (!r)
			continue;
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(keys[i].name, k.name))
				return SS_ESYNTAX;
		if (*n == cap)
			return SS_ENOMEM;
		keys[(*n)++] = k;
	}
	*errline = 0;
	return 0;
}

int fpp_key_format(const fpp_key *k, char *out, size_t cap)
{
	char b64[sodium_base64_ENCODED_LEN(FPP_SECRET, sodium_base64_VARIANT_ORIGINAL)];
	char rate[32] = "";
	int n;

	sodium_bin2base64(b64, sizeof(b64), k->secret, FPP_SECRET, sodium_base64_VARIANT_ORIGINAL);
	if (k->rate)
		snprintf(rate, sizeof(rate), " rate=%u/s", k->rate);
	n = snprintf(out, cap, "%s %s %s%s", k->name, k->read_only ? "ro" : "rw", b64, rate);
	return n < 0 || (size_t)n >= cap ? SS_EINVAL : 0;
}

const char *fpp_status_name(int status)
{
	static const char *const names[] = {
	    "ok",           "not found",        "read-only key",
	    "rate limited", "replayed request", "timestamp out of window",
	    "bad request",  "server error"};

	return status >= 0 && status <= FPP_ESERVER ? names[status] : "unknown status";
}
