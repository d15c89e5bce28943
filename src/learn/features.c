/*
 * features.c: feature extraction (see features.h).
 *
 * Token features are gathered into a per-context open-addressing set of
 * hashes so that each is given once; between messages the set is cleared
 * by walking the features just given, or at once when they are many. The
 * 4-grams have a bit per slot (2^20 bits, 128 KB), tested and set
 * without a branch, and cleared from the slots given.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* XXH3 inlined: the same hashes as the library's, without a call each. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "learn/features.h"
#include "learn/tokens.h"
#include "util/copy.h"

#define FEAT_DEFAULT_MAX 1500
#define GRAM_BYTES_MAX (1 << 16) /* bound on the bytes cut into n-grams */
#define FEAT_FULL 1              /* callback result: the message has all it may have */
#define MAX_HOPS 6
#define PAIR_MAX (TOK_MAX * 8 + 2)
#define POOL_CHUNK 8192 /* bytes of token copies taken from the arena at once */

struct feat_ctx {
	tok_state *tok;
	size_t max, gram_bytes;
	uint64_t *set; /* token features' hashes, 0 = empty slot */
	size_t mask;
	uint64_t *gbits; /* n-gram slots given in this message: a bit each */
	feat *v;
	size_t n;
	ss_arena *a;
	char *pool; /* room for token copies: pool_left bytes from here */
	size_t pool_left;
	unsigned ns;        /* namespace of the tokens being fed */
	const char *prefix; /* header name for FNS_HEADER tokens */
	size_t prefixlen;
	char pair[PAIR_MAX * 2]; /* the previous word and a space (prevlen + 1 bytes) */
	size_t prevlen;
};

static const char *const ns_names[FNS_COUNT] = {"w",   "p",    "subj", "h",   "hn", "hop",
                                                "url", "mime", "fact", "obf", "g"};

const char *feat_ns_name(unsigned ns)
{
	return ns < FNS_COUNT ? ns_names[ns] : "?";
}

uint64_t feat_hash(unsigned ns, const char *t, size_t len)
{
	uint64_t h = XXH3_64bits_withSeed(t, len, 0x9E3779B97F4A7C15ULL * (ns + 1));

	return h ? h : 1;
}

feat_ctx *feat_new(size_t max_features, size_t gram_bytes)
{
	feat_ctx *fc = calloc(1, sizeof(*fc));
	size_t cap = 64;

	if (!fc)
		return NULL;
	fc->max = max_features ? max_features : FEAT_DEFAULT_MAX;
	fc->gram_bytes = gram_bytes < GRAM_BYTES_MAX ? gram_bytes : GRAM_BYTES_MAX;
	while (cap < fc->max * 4)
		cap <<= 1;
	fc->mask = cap - 1;
	fc->set = calloc(cap, sizeof(uint64_t));
	fc->gbits = calloc(FEAT_GRAMS / 64, sizeof(uint64_t));
	fc->tok = tok_new();
	if (!fc->set || !fc->gbits || !fc->tok) {
		feat_free(fc);
		return NULL;
	}
	return fc;
}

void feat_free(feat_ctx *fc)
{
	if (!fc)
		return;
	tok_free(fc->tok);
	free(fc->set);
	free(fc->gbits);
	free(fc);
}

/* A NUL-terminated copy of t[0..len) for explanations, cut from chunks of
 * the arena (cheaper than an arena allocation per token). */
static char *keep(feat_ctx *fc, const char *t, size_t len)
{
	char *p;

	if (len + 1 > fc->pool_left) {
		size_t cap = len + 1 > POOL_CHUNK ? len + 1 : POOL_CHUNK;
		if (!(fc->pool = arena_alloc(fc->a, cap)))
			return NULL;
		fc->pool_left = cap;
	}
	p = fc->pool;
	ss_copy_short(p, t, len);
	p[len] = 0;
	fc->pool += len + 1;
	fc->pool_left -= len + 1;
	return p;
}

/* Adds feature (ns, t[0..len)) unless already given. Returns 0, FEAT_FULL
 * once the message has its maximum, or SS_ENOMEM. */
static int add(feat_ctx *fc, unsigned ns, const char *t, size_t len)
{
	uint64_t h;
	size_t i;
	char *copy;

	if (fc->n >= fc->max)
		return FEAT_FULL;
	h = feat_hash(ns, t, len);
	for (i = h & fc->mask; fc->set[i]; i = (i + 1) & fc->mask)
		if (fc->set[i] == h)
			return 0;
	if (!(copy = keep(fc, t, len)))
		return SS_ENOMEM;
	fc->set[i] = h;
	fc->v[fc->n++] = (feat){h, copy, (uint8_t)ns};
	return 0;
}

/* A feature's text put together from pieces (what a printf into a buffer
 * of FB_CAP bytes would give: cut at FB_CAP - 1), without printf. */
#define FB_CAP 512

typedef struct fbuf {
	char b[FB_CAP];
	size_t n;
} fbuf;

static void fb_put(fbuf *f, const char *p, size_t len)
{
	size_t room = FB_CAP - 1 - f->n;

	if (len > room)
		len = room;
	ss_copy_short(f->b + f->n, p, len);
	f->n += len;
}

/* A NUL-terminated string ("%s"). */
static void fb_str(fbuf *f, const char *s)
{
	fb_put(f, s, strlen(s));
}

/* At most len bytes of p, stopping at a NUL ("%.*s"). */
static void fb_strn(fbuf *f, const char *p, size_t len)
{
	if (len)
		fb_put(f, p, strnlen(p, len));
}

/* Adds the feature a + b[0..blen) ("a%.*s"). */
static int add2(feat_ctx *fc, unsigned ns, const char *a, const char *b, size_t blen)
{
	fbuf f;

	f.n = 0;
	fb_str(&f, a);
	fb_strn(&f, b, blen);
	return add(fc, ns, f.b, f.n);
}

/* Adds the feature w + a + b[0..blen) ("%s%s%.*s"). */
static int add3(feat_ctx *fc, unsigned ns, const char *w, const char *a, const char *b, size_t blen)
{
	fbuf f;

	f.n = 0;
	fb_str(&f, w);
	fb_str(&f, a);
	fb_strn(&f, b, blen);
	return add(fc, ns, f.b, f.n);
}

static int obf_signs(feat_ctx *fc, unsigned flags)
{
	int rc = 0;

	if (flags & TOK_FOLD_LEET)
		rc = add(fc, FNS_OBF, "leet", 4);
	if (!rc && (flags & TOK_FOLD_HOMO))
		rc = add(fc, FNS_OBF, "lookalike", 9);
	if (!rc && (flags & TOK_ZERO_WIDTH))
		rc = add(fc, FNS_OBF, "zero_width", 10);
	return rc;
}

/* Token callback for visible text and the Subject: the word, and the pair
 * it ends (a body pair in FNS_PAIR, a Subject pair "a b" among the Subject's
 * words). */
static int on_text_tok(void *ctx, const char *t, size_t len, unsigned flags)
{
	feat_ctx *fc = ctx;
	int rc = add(fc, fc->ns, t, len);

	if (!rc)
		rc = obf_signs(fc, flags);
	if (rc || (flags & (TOK_FOLD_LEET | TOK_FOLD_HOMO)))
		return rc;
	if (fc->prevlen) {
		ss_copy_short(fc->pair + fc->prevlen + 1, t, len);
		rc = add(fc, fc->ns == FNS_WORD ? FNS_PAIR : fc->ns, fc->pair,
		         fc->prevlen + 1 + len);
	}
	fc->prevlen = len < PAIR_MAX ? len : PAIR_MAX - 1;
	ss_copy_short(fc->pair, t, fc->prevlen);
	fc->pair[fc->prevlen] = ' ';
	return rc;
}

/* Token callback for header values: "name:token". */
static int on_header_tok(void *ctx, const char *t, size_t len, unsigned flags)
{
	feat_ctx *fc = ctx;
	char buf[TOK_MAX * 4 + 40];
	size_t n = fc->prefixlen, k;

	(void)flags;
	/* What snprintf(buf, sizeof(buf), "%s:%.*s", prefix, len, t) gave. */
	ss_copy_short(buf, fc->prefix, n);
	buf[n++] = ':';
	k = strnlen(t, len);
	k = k < sizeof(buf) - 1 - n ? k : sizeof(buf) - 1 - n;
	ss_copy_short(buf + n, t, k);
	return add(fc, FNS_HEADER, buf, n + k);
}

static int text_feats(feat_ctx *fc, unsigned ns, ss_str s)
{
	fc->ns = ns;
	fc->prevlen = 0;
	return tok_text(fc->tok, s.p, s.len, on_text_tok, fc);
}

/* Header fields whose values are tokenised (lower case), with lengths. */
#define H(s)                                                                                       \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
static const struct {
	const char *name;
	size_t len;
} token_headers[] = {H("from"),         H("reply-to"),     H("to"),
                     H("cc"),           H("sender"),       H("return-path"),
                     H("x-mailer"),     H("user-agent"),   H("content-type"),
                     H("message-id"),   H("list-id"),      H("precedence"),
                     H("organization"), H("x-priority"),   H("x-msmail-priority"),
                     H("errors-to"),    H("mailing-list"), H("list-unsubscribe"),
                     H("importance"),   H("x-mimeole"),    H("content-transfer-encoding")};
#undef H

/* The name is already lower case: a plain comparison. */
static const char *token_header(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(token_headers) / sizeof(token_headers[0]); i++)
		if (token_headers[i].len == len && !memcmp(token_headers[i].name, name, len))
			return token_headers[i].name;
	return NULL;
}

static int header_feats(feat_ctx *fc, const ss_message *m)
{
	const ss_part *root = &m->parts[0];
	int rc = 0;

	for (size_t i = 0; !rc && i < root->header_count; i++) {
		const ss_header *h = &m->headers[root->header_first + i];
		char name[64];
		size_t n = h->name.len < sizeof(name) - 1 ? h->name.len : sizeof(name) - 1;
		for (size_t k = 0; k < n; k++)
			name[k] = (char)((h->name.p[k] >= 'A' && h->name.p[k] <= 'Z')
			                     ? h->name.p[k] | 0x20
			                     : h->name.p[k]);
		rc = add(fc, FNS_HNAME, name, n);
		if (!rc && (fc->prefix = token_header(name, n))) {
			fc->prefixlen = strlen(fc->prefix);
			rc = tok_text(fc->tok, h->value.p, h->value.len, on_header_tok, fc);
		}
	}
	return rc;
}

/* The last two labels of a host name ("mail.example.com" -> "example.com"). */
static ss_str domain_of(ss_str host)
{
	size_t dots = 0, i = host.len;

	while (i > 0) {
		if (host.p[i - 1] == '.' && ++dots == 2)
			break;
		i--;
	}
	return (ss_str){host.p + i, host.len - i};
}

/* The first /24 (or /48 for IPv6, roughly: the first three groups). */
static int ip_prefix(ss_str ip, char *buf, size_t cap)
{
	char sep = memchr(ip.p, ':', ip.len) ? ':' : '.';
	size_t seen = 0, i = 0;

	for (; i < ip.len && i + 1 < cap; i++) {
		if (ip.p[i] == sep && ++seen == 3)
			break;
		buf[i] = ip.p[i];
	}
	buf[i] = 0;
	return (int)i;
}

static int hop_feats(feat_ctx *fc, const ss_message *m)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < m->nhops && i < MAX_HOPS; i++) {
		const ss_hop *hp = &m->hops[i];
		const char *w = (int)i == m->first_untrusted ? "x" : "r";
		ss_str rd = domain_of(hp->from_rdns), he = domain_of(hp->from_helo);
		char net[64];
		int nl;
		if (hp->trusted)
			continue;
		if (hp->ip.len && (nl = ip_prefix(hp->ip, net, sizeof(net))))
			rc = add3(fc, FNS_HOP, w, ":net:", net, (size_t)nl);
		if (!rc)
			rc = rd.len ? add3(fc, FNS_HOP, w, ":rdns:", rd.p, rd.len)
			            : add3(fc, FNS_HOP, w, ":nordns", "", 0);
		if (!rc && he.len)
			rc = add3(fc, FNS_HOP, w, ":helo:", he.p, he.len);
		if (!rc && hp->with.len)
			rc = add3(fc, FNS_HOP, w, ":with:", hp->with.p, hp->with.len);
	}
	return rc;
}

static const ss_str no_str = {"", 0};

/* The domain (last two labels) of the first header address from field
 * `where` ("From"), or empty. */
static ss_str addr_domain(const ss_message *m, const char *where)
{
	size_t wl = strlen(where);

	for (size_t i = 0; i < m->naddrs; i++) {
		const ss_addr *a = &m->addrs[i];
		const char *at;
		if (a->part != -1 || a->where.len != wl || strncasecmp(a->where.p, where, wl))
			continue;
		if (!(at = memchr(a->addr.p, '@', a->addr.len)))
			return no_str;
		at++;
		return domain_of((ss_str){at, a->addr.len - (size_t)(at - a->addr.p)});
	}
	return no_str;
}

/* The domain (last two labels) after the first '@' of the top-level
 * Message-ID, or empty. */
static ss_str msgid_domain(const ss_message *m)
{
	const ss_header *h = ss_message_header(m, 0, "message-id");
	const char *at, *end;
	size_t i = 0;

	if (!h || !(at = memchr(h->value.p, '@', h->value.len)))
		return no_str;
	end = h->value.p + h->value.len;
	for (at++; at + i < end && at[i] != '>' && at[i] != ' ' && at[i] != '"'; i++)
		;
	return domain_of((ss_str){at, i});
}

static int same_domain(ss_str a, ss_str b)
{
	return a.len == b.len && !strncasecmp(a.p, b.p, a.len);
}

/* "none", "same" or "diff": whether domain d is there and equals ref. */
static int add_agree(feat_ctx *fc, const char *what, ss_str d, ss_str ref)
{
	const char *v = !d.len ? "none" : same_domain(d, ref) ? "same" : "diff";

	return add2(fc, FNS_HEADER, what, v, 4);
}

/* Adds what + from + "|" + d ("fromhop:example.com|isp.example"). */
static int add_pair(feat_ctx *fc, const char *what, ss_str from, ss_str d)
{
	fbuf f;

	f.n = 0; /* not f = {0}: that zeroes the whole buffer */
	fb_str(&f, what);
	fb_strn(&f, from.p, from.len);
	fb_str(&f, "|");
	fb_strn(&f, d.p, d.len);
	return add(fc, FNS_HEADER, f.b, f.n);
}

/* Who sent it, and whether the headers agree about it: the From domain;
 * whether the Message-ID's domain is the From domain; the From domain
 * paired with the reverse-DNS and HELO domains of each untrusted hop;
 * whether the first untrusted hop's reverse-DNS domain is the From domain;
 * the number of untrusted hops. A newsletter from a sender seen before,
 * sent through its usual servers, is told apart from a spam that forges
 * its From. */
static int sender_feats(feat_ctx *fc, const ss_message *m)
{
	ss_str from = addr_domain(m, "From");
	size_t untrusted = 0;
	char hops[] = "uhops:0";
	int rc = add2(fc, FNS_HEADER, "fromdom:", from.p, from.len);

	if (!rc)
		rc = add_agree(fc, "midfrom:", msgid_domain(m), from);
	for (size_t i = 0; !rc && i < m->nhops && i < MAX_HOPS; i++) {
		ss_str rd = domain_of(m->hops[i].from_rdns), he = domain_of(m->hops[i].from_helo);
		if (m->hops[i].trusted)
			continue;
		rc = add_pair(fc, "fromhop:", from, rd);
		if (!rc && he.len)
			rc = add_pair(fc, "fromhelo:", from, he);
		if (!rc && (int)i == m->first_untrusted)
			rc = rd.len ? add_agree(fc, "fromhop:", rd, from)
			            : add(fc, FNS_HEADER, "fromhop:nordns", 14);
	}
	for (size_t i = 0; i < m->nhops; i++)
		untrusted += !m->hops[i].trusted;
	hops[sizeof(hops) - 2] = (char)('0' + (untrusted < 9 ? untrusted : 9));
	return rc ? rc : add(fc, FNS_HEADER, hops, sizeof(hops) - 1);
}

/* Whether c ends a word of a URL's path or query. */
static int path_sep(char c)
{
	return c == '/' || c == '?' || c == '&' || c == '=' || c == '.' || c == '-' || c == '_';
}

/* The words of URL u's path and query ("path:unsubscribe"), those of 2 to
 * 20 bytes: what a link leads to (remove.html, cgi-bin, optout...). */
static int url_path_feats(feat_ctx *fc, const ss_url *u)
{
	const char *end = u->url.p + u->url.len, *p = memchr(u->url.p, '/', u->url.len);
	int rc = 0;

	if (!p || end - p < 2 || p[1] != '/')
		return 0;
	for (p = memchr(p + 2, '/', (size_t)(end - p - 2)); !rc && p && p < end;) {
		const char *q = p + 1;
		while (q < end && !path_sep(*q))
			q++;
		if (q - p - 1 >= 2 && q - p - 1 <= 20)
			rc = add2(fc, FNS_URL, "path:", p + 1, (size_t)(q - p - 1));
		p = q;
	}
	return rc;
}

static int url_feats(feat_ctx *fc, const ss_message *m)
{
	static const struct {
		unsigned bit;
		const char *name;
	} flags[] = {{SS_URL_OBFUSCATED, "obfuscated"},
	             {SS_URL_IP, "ip"},
	             {SS_URL_IDN, "idn"},
	             {SS_URL_TEXT_MISMATCH, "text_mismatch"},
	             {SS_URL_SCHEMELESS, "schemeless"}};
	int rc = 0;

	for (size_t i = 0; !rc && i < m->nurls; i++) {
		const ss_url *u = &m->urls[i];
		ss_str h = u->host_ascii, d = domain_of(h);
		rc = add2(fc, FNS_URL, "host:", h.p, h.len);
		if (!rc && d.len != h.len)
			rc = add2(fc, FNS_URL, "domain:", d.p, d.len);
		for (size_t k = 0; !rc && k < sizeof(flags) / sizeof(flags[0]); k++)
			if (u->flags & flags[k].bit)
				rc = add(fc, FNS_URL, flags[k].name, strlen(flags[k].name));
		if (!rc)
			rc = url_path_feats(fc, u);
	}
	return rc;
}

static int part_feats(feat_ctx *fc, const ss_part *p)
{
	const char *ct = p->content_type.p ? p->content_type.p : "", *dot;
	int rc = add2(fc, FNS_MIME, "ct:", ct, strlen(ct));

	if (!rc && p->encoding.len)
		rc = add2(fc, FNS_MIME, "cte:", p->encoding.p, strlen(p->encoding.p));
	if (!rc && p->charset_used.len)
		rc = add2(fc, FNS_MIME, "cs:", p->charset_used.p, strlen(p->charset_used.p));
	if (!rc && (p->flags & SS_PART_CHARSET_GUESSED))
		rc = add(fc, FNS_MIME, "charset_guessed", 15);
	if (!rc && (p->flags & SS_PART_HIDDEN_TEXT))
		rc = add(fc, FNS_MIME, "hidden_text", 11);
	if (!rc && p->filename.len && (dot = strrchr(p->filename.p, '.')) && strlen(dot) < 12) {
		char ext[16];
		size_t k = 0;
		for (; dot[k]; k++)
			ext[k] = (char)((dot[k] >= 'A' && dot[k] <= 'Z') ? dot[k] | 0x20 : dot[k]);
		rc = add2(fc, FNS_MIME, "ext:", ext, k);
	}
	return rc;
}

/* Where the visible text came from: "text:plain", "text:html", "text:both"
 * (as multipart/alternative, or two parts) or "text:none". */
static int text_kind_feat(feat_ctx *fc, const ss_message *m)
{
	static const char *const kind[] = {"text:none", "text:plain", "text:html", "text:both"};
	unsigned k = 0;

	for (size_t i = 0; i < m->nparts; i++) {
		const ss_part *p = &m->parts[i];
		if ((p->flags & (SS_PART_TEXT | SS_PART_HTML)) && !(p->flags & SS_PART_ATTACHMENT))
			k |= (p->flags & SS_PART_HTML) ? 2 : 1;
	}
	return add(fc, FNS_MIME, kind[k], strlen(kind[k]));
}

static int mime_feats(feat_ctx *fc, const ss_message *m)
{
	char parts[] = {
	    'p', 'a', 'r', 't', 's', ':', (char)('0' + (m->nparts < 8 ? m->nparts : 8))};
	int rc = add(fc, FNS_MIME, parts, sizeof(parts));

	if (!rc)
		rc = text_kind_feat(fc, m);

	for (size_t i = 0; !rc && i < m->nparts; i++)
		rc = part_feats(fc, &m->parts[i]);
	for (size_t i = 0; !rc && i < m->nfacts; i++)
		rc = add(fc, FNS_FACT, m->facts[i].name.p, m->facts[i].name.len);
	return rc;
}

static int body_feats(feat_ctx *fc, const ss_message *m)
{
	int rc = text_feats(fc, FNS_SUBJECT, m->subject);

	for (size_t i = 0; !rc && i < m->nparts; i++) {
		const ss_part *p = &m->parts[i];
		if ((p->flags & (SS_PART_TEXT | SS_PART_HTML)) && !(p->flags & SS_PART_ATTACHMENT))
			rc = text_feats(fc, FNS_WORD, p->text);
	}
	return rc;
}

/* What a byte of the 4-gram text becomes: ASCII lower-cased, CR or TAB a
 * space. */
static unsigned char gram_map[256];
static pthread_once_t gram_once = PTHREAD_ONCE_INIT;

static void gram_map_init(void)
{
	for (unsigned c = 0; c < 256; c++)
		gram_map[c] = (unsigned char)(c >= 'A' && c <= 'Z'     ? c + 32
		                              : c == '\r' || c == '\t' ? ' '
		                                                       : c);
}

/* Appends src[0..len) to buf (capacity cap, fill *n) through gram_map. */
static void gram_put(char *buf, size_t cap, size_t *n, const char *src, size_t len)
{
	const unsigned char *u = (const unsigned char *)src;
	size_t k = *n >= cap ? 0 : cap - *n < len ? cap - *n : len;
	char *o = buf + *n;

	for (size_t i = 0; i < k; i++)
		o[i] = (char)gram_map[u[i]];
	*n += k;
}

size_t feat_text(const ss_message *m, char *buf, size_t cap)
{
	size_t n = 0, hcap = cap / 2;

	pthread_once(&gram_once, gram_map_init);
	for (size_t i = 0; i < m->nheaders && n < hcap; i++) {
		gram_put(buf, hcap, &n, m->headers[i].name.p, m->headers[i].name.len);
		gram_put(buf, hcap, &n, ":", 1);
		gram_put(buf, hcap, &n, m->headers[i].value.p, m->headers[i].value.len);
		gram_put(buf, hcap, &n, "\n", 1);
	}
	gram_put(buf, cap, &n, m->subject.p, m->subject.len);
	for (size_t i = 0; i < m->nparts && n < cap; i++) {
		const ss_part *p = &m->parts[i];
		if ((p->flags & (SS_PART_TEXT | SS_PART_HTML)) && !(p->flags & SS_PART_ATTACHMENT))
			gram_put(buf, cap, &n, p->text.p, p->text.len);
	}
	return n;
}

_Static_assert(FEAT_GRAM == 4, "gram_slot reads 4 bytes");
_Static_assert(FEAT_GRAM_BITS >= 6, "the slot bitmap holds whole 64-bit words");

/* The slot of 4-gram g (its 4 bytes as an integer): the top bits of a
 * Fibonacci hash, which mixes all four bytes into them. */
static uint32_t gram_slot(uint32_t g)
{
	return (g * 0x9E3779B1u) >> (32 - FEAT_GRAM_BITS);
}

/* Appends the distinct byte 4-grams of gram_text() to the features; they
 * come after the token features, with a budget of their own, as the keys
 * of their slots (see features.h). Two 4-grams of one message in one slot
 * are one feature, as two tokens of one hash are: a bit per slot says
 * which were given. The loop has no branch on it (each 4-gram is written
 * and kept only when its bit was clear); the words set are cleared after
 * from the slots kept, and only the kept slots' keys are worked out. */
static int gram_feats(feat_ctx *fc, const ss_message *m)
{
	char *buf = arena_alloc(fc->a, fc->gram_bytes);
	feat *v = fc->v + fc->n;
	size_t n, k = 0;

	if (!buf)
		return SS_ENOMEM;
	n = feat_text(m, buf, fc->gram_bytes);
	for (size_t i = 0; i + FEAT_GRAM <= n; i++) {
		uint32_t g, s;
		uint64_t *w, old, bit;
		memcpy(&g, buf + i, 4);
		s = gram_slot(g);
		w = &fc->gbits[s >> 6];
		bit = 1ULL << (s & 63);
		old = *w;
		*w = old | bit;
		v[k] = (feat){s, buf + i, FNS_GRAM}; /* the slot; its key below */
		k += !(old & bit);
	}
	for (size_t j = 0; j < k; j++) {
		fc->gbits[(uint32_t)v[j].h >> 6] = 0;
		v[j].h = feat_gram_key((uint32_t)v[j].h);
	}
	fc->n += k;
	return 0;
}

/* Length of the complete UTF-8 sequence at p[0..len), 0 if it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t len)
{
	size_t k = p[0] >= 0xF0 && p[0] < 0xF5 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;

	if (p[0] < 0x80)
		return 1;
	if (!k || k > len)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return k;
}

const char *feat_token(const feat *f, ss_arena *a)
{
	const unsigned char *p = (const unsigned char *)f->tok;
	char *out, *o;

	if (f->ns != FNS_GRAM)
		return f->tok;
	if (!(out = o = arena_alloc(a, FEAT_GRAM * 4 + 1)))
		return NULL;
	for (size_t i = 0, k; i < FEAT_GRAM; i += k) {
		k = utf8_seq(p + i, FEAT_GRAM - i);
		if (k == 1 && p[i] == ' ') {
			*o++ = '_';
		} else if (k > 1 || (k == 1 && p[i] >= 0x20)) {
			memcpy(o, p + i, k);
			o += k;
		} else {
			o += sprintf(o, "\\x%02x", p[i]);
			k = 1;
		}
	}
	*o = 0;
	return out;
}

/* Empties the set of the message's features: slot by slot for a few (a
 * slot cleared breaks probe chains only of features being removed too),
 * with one memset once that costs less than finding them again. */
static void clear_set(feat_ctx *fc, size_t ntok)
{
	if (ntok > (fc->mask + 1) / 16) {
		memset(fc->set, 0, (fc->mask + 1) * sizeof(*fc->set));
		return;
	}
	for (size_t i = 0; i < ntok; i++) {
		size_t k = fc->v[i].h & fc->mask;
		while (fc->set[k] != fc->v[i].h)
			k = (k + 1) & fc->mask;
		fc->set[k] = 0;
	}
}

int feat_extract(feat_ctx *fc, const ss_message *m, ss_arena *a, feat_set *out)
{
	int rc;

	fc->a = a;
	fc->n = 0;
	fc->pool = NULL;
	fc->pool_left = 0;
	if (!(fc->v = arena_alloc(a, (fc->max + fc->gram_bytes) * sizeof(feat))))
		return SS_ENOMEM;
	rc = header_feats(fc, m);
	if (!rc)
		rc = hop_feats(fc, m);
	if (!rc)
		rc = sender_feats(fc, m);
	if (!rc)
		rc = mime_feats(fc, m);
	if (!rc)
		rc = url_feats(fc, m);
	if (!rc)
		rc = body_feats(fc, m);
	if (rc == FEAT_FULL)
		rc = 0;
	out->ntok = fc->n;
	if (!rc && fc->gram_bytes)
		rc = gram_feats(fc, m);
	clear_set(fc, out->ntok);
	out->v = fc->v;
	out->n = fc->n;
	return rc;
}
