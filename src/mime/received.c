/*
 * received.c: one Received header field to a hop (see received.h).
 *
 * The value is read as a row of top-level words and parenthesised comments.
 * The words after the keywords "from", "by" and "with" give the name after
 * "from", the receiving host and the protocol; the comments of the "from"
 * clause give what the receiver recorded about the connection, in whichever
 * MTA's dialect:
 *   Postfix, Sendmail   from HELO (RDNS [IP])      RDNS "unknown" when none
 *   Exim                from RDNS ([IP] helo=HELO) or from [IP] (helo=HELO)
 *   qmail               from RDNS (HELO name) (IP)
 *   Exchange            from HELO (IP)
 * When a comment names the HELO explicitly (helo=, HELO), the word after
 * "from" is the reverse DNS name instead. The date follows the last ';'.
 *
 * Work is linear in the length of the value: nested comments are skipped
 * with a depth counter, never recursed into, and each word is looked at once.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "mime/received.h"

/* Longest address text tried with inet_pton (an IPv6 address with an IPv4
 * tail is 45 bytes). */
#define RCV_ADDR_MAX 64
/* Words kept after "with" ("Microsoft SMTP Server"). */
#define RCV_WITH_WORDS 3

struct rcv_slice {
	const char *p;
	size_t n;
};

/* What one scan of the value collected; slices point into the value. */
struct rcv_ctx {
	struct rcv_slice word; /* first word after "from" */
	struct rcv_slice helo; /* helo= (Exim) or "HELO name" (qmail) */
	struct rcv_slice rdns; /* the name before the [IP] in a comment */
	struct rcv_slice by;
	struct rcv_slice with;
	unsigned with_words;
	int rdns_seen;
	int saw_from, saw_by, saw_with;
	char ip[INET6_ADDRSTRLEN];
	size_t iplen;
};

enum rcv_state { RS_NONE, RS_FROM, RS_BY, RS_WITH, RS_OTHER };

/* Byte classes for the scanning loops, which look at every byte of the
 * value: one table lookup instead of a row of comparisons. */
enum { RC_SPACE = 1, RC_PAREN = 2, RC_LIT = 4, RC_SEMI = 8 };
static const unsigned char rcv_cls[256] = {
    [' '] = RC_SPACE, ['\t'] = RC_SPACE, ['\r'] = RC_SPACE, ['\n'] = RC_SPACE, ['('] = RC_PAREN,
    [')'] = RC_PAREN, ['['] = RC_LIT,    [','] = RC_LIT,    [';'] = RC_SEMI,
};

static int rcv_space(char c)
{
	return rcv_cls[(unsigned char)c] & RC_SPACE;
}

/* ASCII lower case (the words compared here are ASCII). */
static inline unsigned char rcv_lower(char c)
{
	unsigned char u = (unsigned char)c;

	return u >= 'A' && u <= 'Z' ? (unsigned char)(u | 0x20) : u;
}

/* Whether p[0..n) equals lower-case w[0..n) ignoring ASCII case; inline
 * because this runs for every word of every Received field. */
static inline int rcv_ieq_n(const char *p, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rcv_lower(p[i]) != (unsigned char)w[i])
			return 0;
	return 1;
}

/* Whether s is the lower-case word w, ignoring ASCII case. */
static inline int rcv_ieq(struct rcv_slice s, const char *w)
{
	size_t n = strlen(w);

	return s.n == n && rcv_ieq_n(s.p, w, n);
}

static struct rcv_slice rcv_after(struct rcv_slice s, size_t k)
{
	struct rcv_slice r = {s.p + k, s.n - k};

	return r;
}

/* Drops an ident "user@" before a host or address (Sendmail, qmail). */
static struct rcv_slice rcv_strip_ident(struct rcv_slice s)
{
	const char *at = s.n ? memrchr(s.p, '@', s.n) : NULL;

	return at ? rcv_after(s, (size_t)(at - s.p) + 1) : s;
}

/* Returns the index of the first byte from i on that is '(', ')' or c,
 * or len: 16 bytes at a time where SSE2 is there (the ';' and comment
 * scans below go over every byte of the field). */
static size_t rcv_find3(const char *s, size_t len, size_t i, char c)
{
#ifdef __SSE2__
	const __m128i open = _mm_set1_epi8('('), close = _mm_set1_epi8(')'),
	              third = _mm_set1_epi8(c);

	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i m =
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, open), _mm_cmpeq_epi8(v, close)),
		                 _mm_cmpeq_epi8(v, third));
		int bits = _mm_movemask_epi8(m);
		if (bits)
			return i + (size_t)__builtin_ctz((unsigned)bits);
	}
#endif
	while (i < len && s[i] != '(' && s[i] != ')' && s[i] != c)
		i++;
	return i;
}

/* Returns the index just past the ')' that closes the comment opened at
 * s[i] == '(', or len when it is never closed. */
static size_t rcv_skip_group(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	for (; (i = rcv_find3(s, len, i, '\\')) < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

/* Returns the index of the last ';' outside comments, else of the last ';'
 * at all (comments left open), else len. */
static size_t rcv_find_semi(const char *s, size_t len)
{
	size_t depth = 0, top = len, any = len, i;

	for (i = 0; (i = rcv_find3(s, len, i, ';')) < len; i++) {
		if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')') {
			depth -= depth > 0;
		} else if (s[i] == ';') {
			any = i;
			if (!depth)
				top = i;
		}
	}
	return top < len ? top : any;
}

/* Reads the token at or after s[i] into *t: a whole comment (t->p[0] is
 * '('), a "[...]" literal when `split_lit` (inside comments), or a word.
 * Returns the index after it; t->n is 0 at the end. */
static size_t rcv_next(const char *s, size_t len, size_t i, int split_lit, struct rcv_slice *t)
{
	size_t start;

	while (i < len && (rcv_space(s[i]) || s[i] == ')' || (split_lit && s[i] == ',')))
		i++;
	start = i;
	if (i < len && s[i] == '(') {
		i = rcv_skip_group(s, len, i);
	} else if (i < len) {
		unsigned stop = RC_SPACE | RC_PAREN | (split_lit ? RC_LIT : 0);

		for (i++; i < len && !(rcv_cls[(unsigned char)s[i]] & stop); i++)
			;
	}
	t->p = s + start;
	t->n = i - start;
	return i;
}

/* Writes the canonical text of the address p[0..n) ("IPv6:" tag and
 * "%zone" allowed) to out; IPv4-mapped IPv6 comes out as dotted IPv4.
 * Returns its length, 0 when p is not an address. */
static size_t rcv_ip_canon(const char *p, size_t n, char out[INET6_ADDRSTRLEN])
{
	unsigned char bin[16];
	char buf[RCV_ADDR_MAX];
	const char *pct;
	int af = AF_INET6;

	if (n > 5 && rcv_ieq_n(p, "ipv6:", 5)) {
		p += 5;
		n -= 5;
	}
	pct = memchr(p, '%', n);
	if (pct)
		n = (size_t)(pct - p);
	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, bin) == 1) {
		/* glibc takes only canonical dotted quads (no leading zeros);
		 * it stops at a NUL, so copy what it read, not all n bytes */
		n = strlen(buf);
		memcpy(out, buf, n + 1);
		return n;
	}
	if (inet_pton(AF_INET6, buf, bin) != 1)
		return 0;
	if (af == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)bin)) {
		memmove(bin, bin + 12, 4);
		af = AF_INET;
	}
	if (!inet_ntop(af, bin, out, INET6_ADDRSTRLEN))
		return 0;
	return strlen(out);
}

/* Canonicalises the address inside the literal w ("[1.2.3.4]",
 * "[IPv6:...]", "[1.2.3.4]:587") into out; returns its length or 0. */
static size_t rcv_literal_ip(struct rcv_slice w, char out[INET6_ADDRSTRLEN])
{
	const char *end = memchr(w.p, ']', w.n);
	size_t n = end ? (size_t)(end - w.p) : w.n;

	return rcv_ip_canon(w.p + 1, n - 1, out);
}

static void rcv_set_ip(struct rcv_ctx *c, const char *ip, size_t n)
{
	if (c->iplen)
		return;
	memcpy(c->ip, ip, n + 1);
	c->iplen = n;
}

static void rcv_set_helo(struct rcv_ctx *c, struct rcv_slice w)
{
	if (!c->helo.n)
		c->helo = w;
}

/* A "[IP]" inside a from-clause comment: the connection address; the word
 * just before it (prev) is the reverse DNS name the receiver looked up. */
static void rcv_comment_literal(struct rcv_ctx *c, struct rcv_slice w, struct rcv_slice prev)
{
	char ip[INET6_ADDRSTRLEN];
	size_t n = rcv_literal_ip(w, ip);

	if (!n || c->iplen)
		return;
	rcv_set_ip(c, ip, n);
	if (prev.n && !c->rdns_seen) {
		c->rdns = rcv_strip_ident(prev);
		c->rdns_seen = 1;
	}
}

/* Returns 1 when w is a bare address ("203.0.113.10", "IPv6:...",
 * "user@1.2.3.4"), keeping the first one seen as the connection address. */
static int rcv_comment_bare_ip(struct rcv_ctx *c, struct rcv_slice w)
{
	char ip[INET6_ADDRSTRLEN];
	struct rcv_slice a = rcv_strip_ident(w);
	size_t n = rcv_ip_canon(a.p, a.n, ip);

	if (!n)
		return 0;
	rcv_set_ip(c, ip, n);
	return 1;
}

/* Files one word of a from-clause comment (not a nested comment). Returns
 * 0 when it is a plain name, which may be the reverse DNS name. */
static int rcv_comment_word(struct rcv_ctx *c, struct rcv_slice w, struct rcv_slice prev)
{
	if (w.p[0] == '[') {
		rcv_comment_literal(c, w, prev);
		return 1;
	}
	if (w.n > 5 && rcv_ieq_n(w.p, "helo=", 5)) {
		rcv_set_helo(c, rcv_after(w, 5));
		return 1;
	}
	if (rcv_ieq(w, "helo") || rcv_ieq(w, "ehlo") || memchr(w.p, '=', w.n))
		return 1;
	return rcv_comment_bare_ip(c, w);
}

/* Reads the words of one comment of the "from" clause, s[0..len) being
 * its content without the outer parentheses. */
static void rcv_from_comment(struct rcv_ctx *c, const char *s, size_t len)
{
	struct rcv_slice w, prev = {NULL, 0};
	int want_helo = 0;
	size_t i = 0;

	for (;;) {
		i = rcv_next(s, len, i, 1, &w);
		if (!w.n)
			break;
		if (w.p[0] == '(') {
			want_helo = 0;
			prev.n = 0;
		} else if (want_helo) {
			rcv_set_helo(c, w); /* qmail: "(HELO name)" */
			want_helo = 0;
			prev.n = 0;
		} else {
			want_helo = rcv_ieq(w, "helo") || rcv_ieq(w, "ehlo");
			prev = rcv_comment_word(c, w, prev) ? (struct rcv_slice){NULL, 0} : w;
		}
	}
}

/* Opens clause `st` the first time its keyword is seen; a repeated
 * keyword opens nothing useful. */
static enum rcv_state rcv_open(int *seen, enum rcv_state st)
{
	if (*seen)
		return RS_OTHER;
	*seen = 1;
	return st;
}

/* Returns the clause keyword w opens, or RS_NONE when w is no keyword. */
static enum rcv_state rcv_keyword(struct rcv_ctx *c, struct rcv_slice w)
{
	unsigned char f;

	if (w.n < 2 || w.n > 4)
		return RS_NONE;
	f = rcv_lower(w.p[0]);
	if (f != 'f' && f != 'b' && f != 'w' && f != 'i' && f != 'v')
		return RS_NONE; /* none of the keywords below */
	if (rcv_ieq(w, "from"))
		return rcv_open(&c->saw_from, RS_FROM);
	if (rcv_ieq(w, "by"))
		return rcv_open(&c->saw_by, RS_BY);
	if (rcv_ieq(w, "with"))
		return rcv_open(&c->saw_with, RS_WITH);
	if (rcv_ieq(w, "id") || rcv_ieq(w, "for") || rcv_ieq(w, "via"))
		return RS_OTHER;
	return RS_NONE;
}

/* Files a top-level word w found in clause `st`; returns the new clause. */
static enum rcv_state rcv_top_word(struct rcv_ctx *c, enum rcv_state st, struct rcv_slice w)
{
	enum rcv_state k = rcv_keyword(c, w);

	if (k != RS_NONE)
		return k;
	if (st == RS_FROM && !c->word.n)
		c->word = w;
	else if (st == RS_BY && !c->by.n)
		c->by = w;
	if (st != RS_WITH)
		return st;
	if (!c->with.n)
		c->with = w;
	else
		c->with.n = (size_t)(w.p + w.n - c->with.p);
	return ++c->with_words < RCV_WITH_WORDS ? RS_WITH : RS_OTHER;
}

/* Returns the length of the content of comment t, "(" ... ")", the closing
 * parenthesis being absent when the comment runs to the end. */
static size_t rcv_inner_len(struct rcv_slice t)
{
	if (t.n >= 2 && t.p[t.n - 1] == ')')
		return t.n - 2;
	return t.n - 1;
}

/* Walks the clauses s[0..len) (the value before the date). */
static void rcv_scan(struct rcv_ctx *c, const char *s, size_t len)
{
	enum rcv_state st = RS_NONE;
	struct rcv_slice t;
	size_t i = 0;

	for (;;) {
		i = rcv_next(s, len, i, 0, &t);
		if (!t.n)
			break;
		if (t.p[0] != '(') {
			st = rcv_top_word(c, st, t);
			continue;
		}
		if (st == RS_FROM)
			rcv_from_comment(c, t.p + 1, rcv_inner_len(t));
		else if (st == RS_WITH)
			st = RS_OTHER;
	}
	if (!c->iplen && c->word.n && c->word.p[0] == '[') {
		char ip[INET6_ADDRSTRLEN];
		size_t n = rcv_literal_ip(c->word, ip);

		if (n)
			rcv_set_ip(c, ip, n);
	}
}

static int rcv_copy(ss_arena *a, ss_str *dst, const char *p, size_t n)
{
	if (!n)
		return 0;
	*dst = arena_str(a, p, n);
	return dst->p ? 0 : SS_ENOMEM;
}

/* Decides which name is the HELO and which the reverse DNS name, and copies
 * the fields into the arena. */
static int rcv_finish(ss_arena *a, const struct rcv_ctx *c, ss_hop *hop)
{
	struct rcv_slice helo = c->word, rdns = c->rdns;

	if (c->helo.n) {
		helo = c->helo;
		if (!c->rdns_seen && c->word.n && c->word.p[0] != '[')
			rdns = c->word;
	}
	if (rcv_ieq(rdns, "unknown"))
		rdns.n = 0;
	if (rcv_copy(a, &hop->from_helo, helo.p, helo.n) ||
	    rcv_copy(a, &hop->from_rdns, rdns.p, rdns.n) ||
	    rcv_copy(a, &hop->ip, c->ip, c->iplen) ||
	    rcv_copy(a, &hop->by_host, c->by.p, c->by.n) ||
	    rcv_copy(a, &hop->with, c->with.p, c->with.n))
		return SS_ENOMEM;
	return 0;
}

int received_parse(ss_arena *a, const char *v, size_t len, ss_hop *hop)
{
	struct rcv_ctx c;
	size_t semi;

	memset(hop, 0, sizeof(*hop));
	if (!v || !len)
		return 1;
	memset(&c, 0, sizeof(c));
	semi = rcv_find_semi(v, len);
	rcv_scan(&c, v, semi);
	if (!c.saw_from && !c.saw_by)
		return 1;
	if (semi < len)
		hop->time = received_parse_date(v + semi + 1, len - semi - 1);
	return rcv_finish(a, &c, hop);
}

/* ---- RFC 5322 dates ---- */

struct rdate {
	const char *s;
	size_t len;
	size_t i;
};

struct rdate_tm {
	unsigned year, mon, day, hour, min, sec;
	int zone; /* minutes east of UTC */
};

static const char rdate_months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
static const char rdate_wdays[] = "montuewedthufrisatsun";

static void rdate_skip(struct rdate *d)
{
	while (d->i < d->len && (rcv_space(d->s[d->i]) || d->s[d->i] == ','))
		d->i++;
}

static int rdate_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reads a run of letters; returns its length (0 when none). */
static size_t rdate_word(struct rdate *d, const char **p)
{
	size_t start = d->i;

	while (d->i < d->len && rdate_alpha(d->s[d->i]))
		d->i++;
	*p = d->s + start;
	return d->i - start;
}

/* Reads a run of digits into *val (saturating); returns how many. */
static unsigned rdate_num(struct rdate *d, unsigned *val)
{
	unsigned n = 0, v = 0;

	while (d->i < d->len && d->s[d->i] >= '0' && d->s[d->i] <= '9') {
		if (v < 100000)
			v = v * 10 + (unsigned)(d->s[d->i] - '0');
		d->i++;
		n++;
	}
	*val = v;
	return n;
}

/* Returns the 1-based position of the 3-letter name p[0..3) (any case) in
 * the table of 3-letter names, or 0. */
static unsigned rdate_lookup(const char *table, const char *p, size_t n)
{
	size_t k, tn = strlen(table);
	char a, b, c;

	if (n < 3)
		return 0;
	a = (char)rcv_lower(p[0]);
	b = (char)rcv_lower(p[1]);
	c = (char)rcv_lower(p[2]);
	for (k = 0; k < tn; k += 3)
		if (table[k] == a && table[k + 1] == b && table[k + 2] == c)
			return (unsigned)(k / 3 + 1);
	return 0;
}

static int rdate_zone_name(const char *p, size_t n)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = {
	    {"ut", 0},   {"utc", 0},  {"gmt", 0},  {"est", -5}, {"edt", -4}, {"cst", -6},
	    {"cdt", -5}, {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7},
	};
	size_t k;

	for (k = 0; k < sizeof(zones) / sizeof(zones[0]); k++)
		if (strlen(zones[k].name) == n && rcv_ieq_n(p, zones[k].name, n))
			return zones[k].hours * 60;
	return 0; /* military letters and unknown names: RFC 5322 says -0000 */
}

/* Reads the zone: "+hhmm", "-hhmm", a name, or nothing (UTC). */
static int rdate_zone(struct rdate *d, struct rdate_tm *tm)
{
	unsigned v;
	const char *p;
	char sign;

	rdate_skip(d);
	tm->zone = 0;
	if (d->i >= d->len)
		return 0;
	sign = d->s[d->i];
	if (sign != '+' && sign != '-') {
		size_t n = rdate_word(d, &p);

		tm->zone = n ? rdate_zone_name(p, n) : 0;
		return 0;
	}
	d->i++;
	if (rdate_num(d, &v) != 4 || v / 100 > 23 || v % 100 > 59)
		return -1;
	tm->zone = (int)(v / 100 * 60 + v % 100) * (sign == '-' ? -1 : 1);
	return 0;
}

/* Reads "hh:mm[:ss]". */
static int rdate_time(struct rdate *d, struct rdate_tm *tm)
{
	unsigned n;

	rdate_skip(d);
	n = rdate_num(d, &tm->hour);
	if (n < 1 || n > 2 || d->i >= d->len || d->s[d->i] != ':')
		return -1;
	d->i++;
	if (rdate_num(d, &tm->min) != 2)
		return -1;
	tm->sec = 0;
	if (d->i < d->len && d->s[d->i] == ':') {
		d->i++;
		if (rdate_num(d, &tm->sec) != 2)
			return -1;
	}
	return 0;
}

/* Reads "[day-name,] day month year". */
static int rdate_day(struct rdate *d, struct rdate_tm *tm)
{
	const char *p;
	size_t n;
	unsigned digits;

	rdate_skip(d);
	n = rdate_word(d, &p);
	if (n && !rdate_lookup(rdate_wdays, p, n))
		return -1;
	rdate_skip(d);
	digits = rdate_num(d, &tm->day);
	if (digits < 1 || digits > 2)
		return -1;
	rdate_skip(d);
	n = rdate_word(d, &p);
	tm->mon = rdate_lookup(rdate_months, p, n);
	if (!tm->mon)
		return -1;
	rdate_skip(d);
	digits = rdate_num(d, &tm->year);
	if (digits == 2)
		tm->year += tm->year < 50 ? 2000 : 1900;
	else if (digits == 3)
		tm->year += 1900;
	else if (digits != 4)
		return -1;
	return 0;
}

static int rdate_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned rdate_mdays(unsigned y, unsigned m)
{
	static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return mdays[m - 1] + (m == 2 && rdate_leap(y));
}

static int rdate_valid(const struct rdate_tm *tm)
{
	return tm->year >= 1900 && tm->year <= 9999 && tm->mon >= 1 && tm->mon <= 12 &&
	       tm->day >= 1 && tm->day <= rdate_mdays(tm->year, tm->mon) && tm->hour <= 23 &&
	       tm->min <= 59 && tm->sec <= 60;
}

/* Leap years in 1..y. */
static int64_t rdate_leaps(int64_t y)
{
	return y / 4 - y / 100 + y / 400;
}

static int64_t rdate_epoch(const struct rdate_tm *tm)
{
	static const unsigned short before[12] = {0,   31,  59,  90,  120, 151,
	                                          181, 212, 243, 273, 304, 334};
	int64_t y = tm->year, days;

	days = (y - 1970) * 365 + rdate_leaps(y - 1) - rdate_leaps(1969) + before[tm->mon - 1] +
	       (tm->mon > 2 && rdate_leap(tm->year)) + tm->day - 1;
	return days * 86400 + tm->hour * 3600 + tm->min * 60 + tm->sec - (int64_t)tm->zone * 60;
}

int64_t received_parse_date(const char *s, size_t len)
{
	struct rdate d = {s, len, 0};
	struct rdate_tm tm;

	if (!s)
		return 0;
	if (rdate_day(&d, &tm) || rdate_time(&d, &tm) || rdate_zone(&d, &tm))
		return 0;
	if (!rdate_valid(&tm))
		return 0;
	return rdate_epoch(&tm);
}
