/*
 * mime.h: the MIME tree walker (RFC 2045-2049 as mail really arrives).
 *
 * mime_parse_entity() reads one entity (header block + body) from a byte
 * range, appends its header fields and a part to the message, and descends
 * into multiparts (boundary scanning tolerant of missing/duplicate/wrong
 * boundaries) and message/rfc822 bodies. Leaves are transfer-decoded; text
 * leaves are converted to UTF-8 visible text (HTML through html.c), and
 * their URLs and addresses collected. Every limit hit is a fact.
 * No I/O: the whole message is in memory.
 */
#ifndef SS_MIME_MIME_H
#define SS_MIME_MIME_H

#include <stddef.h>
#include <stdint.h>
#include "mime/html.h"
#include "spamsift.h"
#include "util/arena.h"
#include "util/buf.h"

/* The state of one parse; lives on ss_parse()'s stack. */
typedef struct mime_ctx {
	ss_arena *a;
	ss_message *msg;
	const ss_limits *lim;
	size_t cap_headers, cap_parts, cap_urls, cap_addrs, cap_hops, cap_facts, cap_kinds;
	unsigned char *kinds; /* hdr_kind() of each of msg->headers */
	uint32_t *url_hash;   /* hash of each of msg->urls (duplicate check) */
	uint32_t *url_tab;    /* open-addressing set of msg->urls: index + 1, 0 free */
	size_t url_tab_cap;   /* its slots, a power of two, at most half full */
	size_t text_used;     /* bytes of text kept so far (max_text) */
	size_t attach_used;   /* bytes of part data kept so far (max_attach) */
	sbuf dec;             /* transfer-decoded body of the current leaf */
	sbuf utf8;            /* its UTF-8 text */
	sbuf tmp, tmp2;       /* scratch for headers and parameters */
	html_out html;        /* HTML conversion output, reused */
} mime_ctx;

/* Prepares ctx for `msg` whose arena is `a`. */
void mime_ctx_init(mime_ctx *ctx, ss_arena *a, ss_message *msg, const ss_limits *lim);
/* Frees the scratch buffers (the message keeps what it owns). */
void mime_ctx_release(mime_ctx *ctx);

/* Parses the entity at buf[0..len) as a child of part `parent` (-1 for the
 * message) at `depth`. Returns 0 or SS_ENOMEM. */
int mime_parse_entity(mime_ctx *ctx, const char *buf, size_t len, int parent, unsigned depth);

/* Records fact `name` (static string) with `detail` (copied; may be NULL)
 * for `part`, once per name and part. Returns 0 or SS_ENOMEM. */
int mime_fact(mime_ctx *ctx, const char *name, const char *detail, int part);

/* Adds every e-mail address in UTF-8 text[0..len) to the message, tagged
 * with `where` (static) and `part`. Returns 0 or SS_ENOMEM. */
int mime_add_addrs(mime_ctx *ctx, const char *text, size_t len, const char *where, int part);

#endif
