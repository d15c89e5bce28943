/*
 * phish_host.c: hosts that imitate others.
 *
 * PHISH_IDN_HOMOGRAPH: a non-ASCII label that ICU's spoof checker refuses
 * at the "moderately restrictive" level (Latin mixed with Cyrillic or
 * Greek, mixed digit systems, invisible characters), or a label written
 * wholly in another script whose confusable skeleton is plain ASCII
 * ("аррӏе" in Cyrillic) under an ASCII top-level domain.
 *
 * PHISH_BRAND_LOOKALIKE: against each brand (its registrable domain and
 * that domain's first label, "paypal"), a host whose own registrable label
 * has the brand label's skeleton ("paypa1", "раypal", "rnicrosoft"), is
 * one typo away from it, carries the whole brand domain inside a foreign
 * one ("paypal.com-secure.example", "paypal.com.evil.example"), or the
 * brand label as a sub-domain or hyphenated word ("paypal.evil.example",
 * "secure-paypal.example", brand labels of 6 letters or more). The brand's
 * own domain, its sub-domains and its label under another suffix
 * ("paypal.de") never fire.
 */
#include <string.h>
#include <unicode/ustring.h>

#include "phish/internal.h"

#define LABEL_MAX 256 /* longer labels are not checked */
#define SKEL_MAX 1024

/* Brand labels shorter than this only match by skeleton or whole domain. */
#define TOKEN_MIN 6
/* Any single edit of a brand label at least this long is a typo. */
#define TYPO_ANY_MIN 7
/* Shorter ones (down to TYPO_SWAP_MIN) only by a swap or a doubled letter. */
#define TYPO_SWAP_MIN 5

static int is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* psl_is_public_suffix(ctx->psl, suffix), remembered in ctx->suffixes.
 * (psl_registrable_domain asks the same question with type 0, which the
 * library treats as PSL_TYPE_ANY.) */
static int is_public_suffix(phish_ctx *ctx, const char *suffix)
{
	size_t n = strlen(suffix);
	suffix_memo *m =
	    n < SUFFIX_MEMO_LEN ? &ctx->suffixes[phish_host_hash(suffix) % SUFFIX_MEMO] : NULL;
	int pub;

	if (m && !strcmp(m->suffix, suffix))
		return m->is_public;
	pub = psl_is_public_suffix(ctx->psl, suffix);
	if (m) {
		memcpy(m->suffix, suffix, n + 1);
		m->is_public = pub;
	}
	return pub;
}

const char *phish_reg_domain(phish_ctx *ctx, const char *host)
{
	const char *d = host, *reg = NULL, *dot;

	/* The walk of psl_registrable_domain: the registrable domain is the
	 * suffix one label longer than the first (longest) public one. */
	if (*host == '.')
		return host;
	while (!is_public_suffix(ctx, d) && (dot = strchr(d, '.'))) {
		reg = d;
		d = dot + 1;
	}
	return reg ? reg : host;
}

void phish_skel_init(phish_ctx *ctx)
{
	for (unsigned c = 0; c < 128; c++) {
		char in = (char)c, out[16];
		UErrorCode e = U_ZERO_ERROR;
		int32_t len =
		    c ? uspoof_getSkeletonUTF8(ctx->spoof, 0, &in, 1, out, sizeof(out), &e) : -1;
		skel_ascii *k = &ctx->skel[c];
		k->len = SKEL_ASCII_ICU;
		if (U_FAILURE(e) || len < 0 || (size_t)len > sizeof(k->s) ||
		    !is_ascii(out, (size_t)len))
			continue;
		memcpy(k->s, out, (size_t)len);
		k->len = (uint8_t)len;
	}
}

/* The skeleton of ASCII s[0..n) from ctx->skel into out (capacity cap):
 * for ASCII text, UTS #39's skeleton (NFD, each character's prototype,
 * NFD again) is the characters' own skeletons put end to end, when those
 * are ASCII. Returns its length, or -1 when some character needs ICU or
 * it does not fit. */
static int skeleton_ascii(const phish_ctx *ctx, const char *s, size_t n, char *out, size_t cap)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		const skel_ascii *k = &ctx->skel[(unsigned char)s[i] & 0x7F];
		if ((unsigned char)s[i] >= 0x80 || k->len == SKEL_ASCII_ICU || len + k->len >= cap)
			return -1;
		memcpy(out + len, k->s, k->len);
		len += k->len;
	}
	return (int)len;
}

/* Plain ASCII goes through ctx->skel, the rest through ICU. */
int phish_skeleton(const phish_ctx *ctx, const char *s, size_t n, char *out, size_t cap)
{
	UErrorCode e = U_ZERO_ERROR;
	int32_t len;

	if (n > LABEL_MAX)
		return -1;
	len = skeleton_ascii(ctx, s, n, out, cap);
	if (len < 0)
		len = uspoof_getSkeletonUTF8(ctx->spoof, 0, s, (int32_t)n, out, (int32_t)cap, &e);
	if (U_FAILURE(e) || len < 0 || (size_t)len >= cap)
		return -1;
	for (int32_t i = 0; i < len; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] + 32);
	out[len] = '\0';
	return len;
}

/* ---- the brand cache ---- */

static int cache_is_current(const phish_ctx *ctx, const char *const *list, size_t n)
{
	if (ctx->brand_src != list || ctx->nbrands != n || (n && !ctx->brand_copy))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(ctx->brand_copy[i], list[i] ? list[i] : ""))
			return 0;
	return 1;
}

/* Prepares one brand from its domain; returns 0 or SS_ENOMEM. */
static int brand_prepare(phish_ctx *ctx, const char *domain, phish_brand *b)
{
	char skel[SKEL_MAX], *lower;
	size_t n = strlen(domain), lab;
	int k;

	if (!(lower = arena_strndup(&ctx->brand_arena, domain, n)))
		return SS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] + 32);
	b->reg = phish_reg_domain(ctx, lower);
	lab = strcspn(b->reg, ".");
	b->label = arena_strndup(&ctx->brand_arena, b->reg, lab);
	b->label_len = lab;
	k = phish_skeleton(ctx, b->reg, lab, skel, sizeof(skel));
	b->skel = arena_strndup(&ctx->brand_arena, k < 0 ? "" : skel, k < 0 ? 0 : (size_t)k);
	return b->label && b->skel ? 0 : SS_ENOMEM;
}

int phish_brands_sync(phish_ctx *ctx, const char *const *list, size_t n)
{
	int err = 0;

	if (cache_is_current(ctx, list, n))
		return 0;
	arena_release(&ctx->brand_arena);
	memset(ctx->memo, 0, sizeof(ctx->memo)); /* verdicts of the old list */
	ctx->brand_src = NULL;
	ctx->nbrands = 0;
	ctx->brands = arena_calloc(&ctx->brand_arena, n ? n : 1, sizeof(*ctx->brands));
	ctx->brand_copy = arena_calloc(&ctx->brand_arena, n ? n : 1, sizeof(char *));
	if (!ctx->brands || !ctx->brand_copy)
		return SS_ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		const char *d = list[i] ? list[i] : "";
		ctx->brand_copy[i] = arena_strndup(&ctx->brand_arena, d, strlen(d));
		err = ctx->brand_copy[i] ? brand_prepare(ctx, d, &ctx->brands[i]) : SS_ENOMEM;
	}
	if (err)
		return err;
	ctx->brand_src = list;
	ctx->nbrands = n;
	return 0;
}

/* ---- homographs ---- */

/* Whether one label (not ASCII) is a homograph; tld_ascii tells whether
 * the host's top-level domain is ASCII. */
static int label_spoofed(const phish_ctx *ctx, const char *lab, size_t n, int tld_ascii)
{
	UErrorCode e = U_ZERO_ERROR;
	char skel[SKEL_MAX];
	int32_t r;
	int k;

	if (n > LABEL_MAX)
		return 0;
	r = uspoof_check2UTF8(ctx->spoof, lab, (int32_t)n, NULL, &e);
	if (U_SUCCESS(e) && (r & USPOOF_ALL_CHECKS))
		return 1;
	if (!tld_ascii)
		return 0;
	k = phish_skeleton(ctx, lab, n, skel, sizeof(skel));
	return k > 0 && is_ascii(skel, (size_t)k);
}

static int homograph(const phish_ctx *ctx, const char *host, const char *ascii, ss_hits *out)
{
	const char *tld = strrchr(host, '.');
	int tld_ascii = is_ascii(tld ? tld : host, strlen(tld ? tld : host));

	for (const char *p = host; *p;) {
		size_t n = strcspn(p, ".");
		if (!is_ascii(p, n) && label_spoofed(ctx, p, n, tld_ascii))
			return ascii ? hits_addf(out, "PHISH_IDN_HOMOGRAPH", "%s (%s)", host, ascii)
			             : hits_add(out, "PHISH_IDN_HOMOGRAPH", host);
		p += n + (p[n] == '.');
	}
	return 0;
}

/* ---- brand look-alikes ---- */

/* Whether a and b (lengths n, m) are one swap of neighbours apart, or one
 * doubled letter apart ("paypall", "gooogle"); with `any`, also one
 * substitution, insertion or deletion (not of the first letter). */
static int one_typo(const char *a, size_t n, const char *b, size_t m, int any)
{
	size_t i = 0;

	if (n < m)
		return one_typo(b, m, a, n, any);
	while (i < m && a[i] == b[i])
		i++;
	if (n == m) {
		if (i + 1 < n && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		    !memcmp(a + i + 2, b + i + 2, n - i - 2))
			return 1;
		return any && i > 0 && i < n && !memcmp(a + i + 1, b + i + 1, n - i - 1);
	}
	if (n != m + 1 || memcmp(a + i + 1, b + i, m - i))
		return 0;
	/* a has one more letter, at i: a doubled one, or any with `any` */
	return (i > 0 && a[i] == a[i - 1]) || (i + 1 < n && a[i] == a[i + 1]) || (any && i > 0);
}

static int is_typo(const phish_brand *b, const char *lab, size_t n)
{
	if (b->label_len < TYPO_SWAP_MIN || n < 4 || !is_ascii(lab, n))
		return 0;
	return one_typo(lab, n, b->label, b->label_len, b->label_len >= TYPO_ANY_MIN);
}

/* The brand's registrable domain inside host, starting a label or a
 * hyphenated word and followed by '.' or '-' ("paypal.com-x.example"). */
static int embeds_domain(const phish_brand *b, const char *host)
{
	size_t n = strlen(b->reg);

	for (const char *p = strstr(host, b->reg); p; p = strstr(p + 1, b->reg)) {
		int starts = p == host || p[-1] == '.' || p[-1] == '-';
		if (starts && (p[n] == '.' || p[n] == '-'))
			return 1;
	}
	return 0;
}

/* The brand label as a whole label or hyphenated word of host[0..end). */
static int embeds_label(const phish_brand *b, const char *host, size_t end)
{
	const char *p = host, *stop = host + end;

	if (b->label_len < TOKEN_MIN)
		return 0;
	while (p < stop) {
		size_t n = strcspn(p, ".-");
		if (p + n > stop)
			n = (size_t)(stop - p);
		if (n == b->label_len && !memcmp(p, b->label, n))
			return 1;
		p += n + 1;
	}
	return 0;
}

typedef struct host_view {
	const char *host, *reg;
	size_t label_len; /* first label of reg */
	char skel[SKEL_MAX];
	int skel_len;
} host_view;

static int looks_like(const phish_brand *b, const host_view *v)
{
	if (v->skel_len > 0 && (size_t)v->skel_len == strlen(b->skel) &&
	    !memcmp(v->skel, b->skel, (size_t)v->skel_len))
		return 1;
	if (is_typo(b, v->reg, v->label_len) || embeds_domain(b, v->host))
		return 1;
	return embeds_label(b, v->host, (size_t)(v->reg - v->host) + v->label_len);
}

/* The index of the brand host looks like, or -1. */
static int lookalike_of(phish_ctx *ctx, const char *host)
{
	host_view v;

	v.host = host;
	v.reg = phish_reg_domain(ctx, host);
	v.label_len = strcspn(v.reg, ".");
	for (size_t i = 0; i < ctx->nbrands; i++)
		if (!strcmp(v.reg, ctx->brands[i].reg))
			return -1; /* the brand's own */
	v.skel_len = phish_skeleton(ctx, v.reg, v.label_len, v.skel, sizeof(v.skel));
	for (size_t i = 0; i < ctx->nbrands; i++) {
		const phish_brand *b = &ctx->brands[i];
		if (!b->label_len ||
		    (v.label_len == b->label_len && !memcmp(v.reg, b->label, b->label_len)))
			continue; /* its label under another suffix: the brand's too */
		if (looks_like(b, &v))
			return (int)i;
	}
	return -1;
}

uint32_t phish_host_hash(const char *host)
{
	uint32_t h = 2166136261u;

	for (const char *p = host; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static int brand_lookalike(phish_ctx *ctx, const char *host, ss_hits *out)
{
	size_t n = strlen(host);
	host_memo *m = n < HOST_MEMO_LEN ? &ctx->memo[phish_host_hash(host) % HOST_MEMO] : NULL;
	int brand;

	if (m && !strcmp(m->host, host)) {
		brand = m->brand;
	} else {
		brand = lookalike_of(ctx, host);
		if (m) {
			memcpy(m->host, host, n + 1);
			m->brand = brand;
		}
	}
	if (brand < 0)
		return 0;
	return hits_addf(out, "PHISH_BRAND_LOOKALIKE", "%s ~ %s", host, ctx->brands[brand].reg);
}

int phish_host_check(phish_ctx *ctx, const char *host, const char *ascii, ss_hits *out)
{
	int err = 0;

	if (!*host)
		return 0;
	if (!is_ascii(host, strlen(host)))
		err = homograph(ctx, host, ascii, out);
	return err ? err : brand_lookalike(ctx, host, out);
}
