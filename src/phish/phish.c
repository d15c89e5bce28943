/*
 * phish.c: phish_check() and its context; the URL signs (link text that
 * names another site, IP literals, shorteners). Hosts go on to
 * phish_host.c, attachments to phish_attach.c.
 */
#include "phish/phish.h"

#include <stdlib.h>
#include <string.h>

#include "phish/internal.h"
#include "text/url.h"

/* Widely phished brands (registrable domains). A few of their own
 * hyphenated domains are listed so that the brand-word rule leaves them
 * alone. */
static const char *const default_brands[] = {
    "paypal.com",
    "apple.com",
    "icloud.com",
    "microsoft.com",
    "live.com",
    "office365.com",
    "google.com",
    "gmail.com",
    "amazon.com",
    "facebook.com",
    "instagram.com",
    "whatsapp.com",
    "netflix.com",
    "linkedin.com",
    "dropbox.com",
    "docusign.com",
    "adobe.com",
    "dhl.com",
    "fedex.com",
    "ups.com",
    "usps.com",
    "ebay.com",
    "chase.com",
    "wellsfargo.com",
    "bankofamerica.com",
    "americanexpress.com",
    "coinbase.com",
    "spotify.com",
    "yahoo.com",
    "google-analytics.com",
    "amazon-adsystem.com",
    NULL,
};

static const char *const default_shorteners[] = {
    "bit.ly",  "bitly.com", "tinyurl.com", "t.co",    "goo.gl",      "ow.ly",     "is.gd",
    "v.gd",    "buff.ly",   "rebrand.ly",  "cutt.ly", "shorturl.at", "tiny.cc",   "t.ly",
    "rb.gy",   "s.id",      "bl.ink",      "lnkd.in", "adf.ly",      "shorte.st", "clck.ru",
    "qrco.de", "urlz.fr",   "tr.im",       "x.co",    "soo.gd",      NULL,
};

static size_t list_len(const char *const *l)
{
	size_t n = 0;

	while (l[n])
		n++;
	return n;
}

const char *const *phish_default_brands(size_t *n)
{
	*n = list_len(default_brands);
	return default_brands;
}

const char *const *phish_default_shorteners(size_t *n)
{
	*n = list_len(default_shorteners);
	return default_shorteners;
}

/* ---- the context ---- */

/* libmagic looks for programs only: no decompression, no text guessing,
 * no ELF section walk, and at most 1 MiB of a file. */
static magic_t open_magic(void)
{
	size_t max = 1u << 20;
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR |
	                       MAGIC_NO_CHECK_ENCODING | MAGIC_NO_CHECK_JSON | MAGIC_NO_CHECK_CSV |
	                       MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_TEXT | MAGIC_NO_CHECK_TOKENS);

	if (m && magic_load(m, NULL) == 0 && magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &max) == 0)
		return m;
	if (m)
		magic_close(m);
	return NULL;
}

static USpoofChecker *open_spoof(void)
{
	UErrorCode e = U_ZERO_ERROR;
	USpoofChecker *sc = uspoof_open(&e);

	uspoof_setChecks(sc,
	                 USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_NUMBERS | USPOOF_INVISIBLE |
	                     USPOOF_HIDDEN_OVERLAY,
	                 &e);
	uspoof_setRestrictionLevel(sc, USPOOF_MODERATELY_RESTRICTIVE);
	if (U_SUCCESS(e))
		return sc;
	uspoof_close(sc);
	return NULL;
}

phish_ctx *phish_ctx_new(void)
{
	phish_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	arena_init(&ctx->brand_arena);
	ctx->magic = open_magic();
	ctx->spoof = open_spoof();
	ctx->psl_own = psl_latest(NULL);
	ctx->psl = ctx->psl_own ? ctx->psl_own : psl_builtin();
	if (!ctx->spoof || !ctx->psl) {
		phish_ctx_free(ctx);
		return NULL;
	}
	phish_skel_init(ctx);
	return ctx;
}

void phish_ctx_free(phish_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->magic)
		magic_close(ctx->magic);
	if (ctx->spoof)
		uspoof_close(ctx->spoof);
	if (ctx->psl_own)
		psl_free(ctx->psl_own);
	arena_release(&ctx->brand_arena);
	sbuf_release(&ctx->nested);
	sbuf_release(&ctx->sniff);
	free(ctx);
}

/* ---- hosts met once ---- */

/* The distinct hosts of one message: an open-addressing set of pointers. */
typedef struct host_set {
	const char **slot;
	size_t cap; /* a power of two */
} host_set;

static int set_init(host_set *s, ss_arena *a, size_t n)
{
	s->cap = 16;
	while (s->cap < 2 * n)
		s->cap *= 2;
	s->slot = arena_calloc(a, s->cap, sizeof(*s->slot));
	return s->slot ? 0 : SS_ENOMEM;
}

/* Adds host; returns 1 when it is new. */
static int set_add(host_set *s, const char *host)
{
	size_t i;

	for (i = phish_host_hash(host) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->slot[i], host))
			return 0;
	s->slot[i] = host;
	return 1;
}

/* ---- URL signs ---- */

static int is_shortener(const char *host, const char *const *list, size_t n)
{
	if (!strncmp(host, "www.", 4))
		host += 4;
	for (size_t i = 0; i < n; i++)
		if (list[i] && !strcmp(host, list[i]))
			return 1;
	return 0;
}

static int link_mismatch(phish_ctx *ctx, const ss_url *u, ss_hits *out)
{
	ss_str th = url_text_host(out->a, u->link_text.p, u->link_text.len);

	if (!th.len || !u->host.len)
		return 0;
	if (!strcmp(phish_reg_domain(ctx, th.p), phish_reg_domain(ctx, u->host.p)))
		return 0;
	return hits_addf(out, "PHISH_LINK_MISMATCH", "%s -> %s", th.p, u->host.p);
}

typedef struct lists {
	const char *const *shorteners;
	size_t nshorteners;
} lists;

static int url_signs(phish_ctx *ctx, const ss_url *u, const lists *l, host_set *seen, ss_hits *out)
{
	int err = 0;

	if ((u->flags & SS_URL_TEXT_MISMATCH) && u->link_text.len)
		err = link_mismatch(ctx, u, out);
	if (!err && (u->flags & SS_URL_IP))
		return hits_add(out, "URI_IP_LITERAL", u->host.p);
	if (!err && is_shortener(u->host_ascii.p, l->shorteners, l->nshorteners))
		err = hits_add(out, "URI_SHORTENER", u->host_ascii.p);
	if (!err && set_add(seen, u->host.p))
		err = phish_host_check(ctx, u->host.p, u->host_ascii.p, out);
	return err;
}

/* The sender's addresses: From, Reply-To, Sender. */
static int sender_hosts(phish_ctx *ctx, const ss_message *m, host_set *seen, ss_hits *out)
{
	int err = 0;

	for (size_t i = 0; !err && i < m->naddrs; i++) {
		const ss_addr *a = &m->addrs[i];
		const char *at = strrchr(a->addr.p, '@');
		if (a->part != -1 || !at ||
		    (strcmp(a->where.p, "From") && strcmp(a->where.p, "Reply-To") &&
		     strcmp(a->where.p, "Sender")))
			continue;
		if (set_add(seen, at + 1))
			err = phish_host_check(ctx, at + 1, NULL, out);
	}
	return err;
}

static void pick_lists(const ss_checks_config *cfg, lists *l, const char *const **brands,
                       size_t *nbrands)
{
	if (cfg && cfg->nshorteners) {
		l->shorteners = cfg->shorteners;
		l->nshorteners = cfg->nshorteners;
	} else
		l->shorteners = phish_default_shorteners(&l->nshorteners);
	if (cfg && cfg->nbrands) {
		*brands = cfg->brands;
		*nbrands = cfg->nbrands;
	} else
		*brands = phish_default_brands(nbrands);
}

int phish_check(phish_ctx *ctx, const ss_message *m, const ss_checks_config *cfg, ss_hits *out)
{
	const char *const *brands;
	size_t nbrands;
	host_set seen;
	lists l;
	int err;

	pick_lists(cfg, &l, &brands, &nbrands);
	if ((err = phish_brands_sync(ctx, brands, nbrands)) ||
	    (err = set_init(&seen, out->a, m->nurls + m->naddrs)))
		return err;
	for (size_t i = 0; !err && i < m->nurls; i++)
		err = url_signs(ctx, &m->urls[i], &l, &seen, out);
	if (!err)
		err = sender_hosts(ctx, m, &seen, out);
	return err ? err : phish_attach_check(ctx, m, out);
}
