/*
 * dmarc.h: the pure parts of DMARC (RFC 7489): the policy record parser
 * (untrusted DNS text: fuzzed by fuzz/fuzz_dmarc.c), the RFC 5322.From
 * domain, organisational domains and identifier alignment (libpsl), and
 * the evaluation of a record against the SPF and DKIM results. No DNS
 * here; auth.c asks for the records. Private to src/auth.
 */
#ifndef SS_AUTH_DMARC_H
#define SS_AUTH_DMARC_H

#include <stddef.h>

#include <libpsl.h>

#include "auth/arhdr.h"
#include "util/arena.h"

typedef enum dmarc_policy {
	DMARC_P_NONE = 0,
	DMARC_P_QUARANTINE,
	DMARC_P_REJECT,
} dmarc_policy;

typedef struct dmarc_record {
	dmarc_policy p;
	dmarc_policy sp; /* = p when the record has no valid sp */
	int pct;         /* 0-100, 100 by default */
	int adkim_strict, aspf_strict;
} dmarc_record;

/* "none", "quarantine", "reject". */
const char *dmarc_policy_name(dmarc_policy p);

/* Parses one TXT record (len bytes; NULs end nothing, they make it
 * invalid). A DMARC record starts with "v=DMARC1" (section 6.4); tags
 * are separated by ';' with optional white space; unknown tags are
 * ignored; a missing or invalid p makes the record p=none when it has a
 * rua tag and invalid otherwise (section 6.6.3); invalid sp, pct, adkim,
 * aspf values fall back to their defaults. Returns 0, or SS_ESYNTAX when
 * the text is not a valid DMARC record. */
int dmarc_parse(const char *txt, size_t len, dmarc_record *out);

/* The domain of the (raw, unfolded) From field value v: the address in
 * the last <...>, or the bare address (comments dropped), after its last
 * '@', lower case, without a final dot. Returns it in a, or NULL when
 * there is none that could be a domain name. */
const char *dmarc_from_domain(const char *v, size_t len, ss_arena *a);

/* The organisational domain of `domain` (lower case): its registrable
 * domain by the public suffix list, or domain itself when it is a public
 * suffix or unknown to the list. Points into domain. */
const char *dmarc_org_domain(const psl_ctx_t *psl, const char *domain);

/* Whether identifiers x and y are aligned: equal (strict), or with the
 * same organisational domain (relaxed). Case-insensitive. */
int dmarc_aligned(const psl_ctx_t *psl, const char *x, const char *y, int strict);

/* What DMARC is evaluated from. */
typedef struct dmarc_input {
	const char *from;          /* the From domain */
	const dmarc_record *rec;   /* the policy record, NULL when none */
	int at_org;                /* rec was found at the organisational domain, not `from` */
	auth_res spf;              /* SPF result for... */
	const char *spf_domain;    /* ...this domain (MAIL FROM, or HELO) */
	const char *const *dkim_d; /* d= of the DKIM signatures that passed */
	size_t ndkim;
	int temperror;   /* SPF or a DKIM key lookup failed temporarily */
	unsigned sample; /* 0-99: the policy applies when sample < pct */
} dmarc_input;

/* Evaluates DMARC: AUTH_NONE without a record; AUTH_PASS when SPF passed
 * for an aligned domain or a DKIM signature of an aligned domain passed;
 * otherwise AUTH_TEMPERROR when SPF or DKIM failed temporarily, else
 * AUTH_FAIL. *policy gets the policy to apply: sp for a subdomain whose
 * record came from the organisational domain, else p, one step milder
 * (reject to quarantine, quarantine to none) when the message is outside
 * pct's sample (section 6.6.4). */
auth_res dmarc_eval(const psl_ctx_t *psl, const dmarc_input *in, dmarc_policy *policy);

#endif
