/*
 * url.h: URLs and e-mail addresses in text, including obfuscated forms.
 *
 * Finds http/https/ftp URLs, schemeless "www.example.com/..." ones, and the
 * disguises spammers use (hxxp://, h**p, example[.]com, example(dot)com,
 * spaces around dots, %-encoding, HTML entities already decoded upstream).
 * Hosts are returned lower case in Unicode and in punycode (libidn2).
 * No I/O; strings are allocated in the caller's arena.
 */
#ifndef SS_TEXT_URL_H
#define SS_TEXT_URL_H

#include <stddef.h>
#include "spamsift.h"
#include "util/arena.h"

typedef struct url_found {
	ss_str url;        /* normalised scheme://host[:port][/path][?query] */
	ss_str host;       /* lower case Unicode host; IP literals normalised (dotted
	                    * decimal, canonical IPv6 without []) */
	ss_str host_ascii; /* lower case punycode host */
	unsigned flags;    /* SS_URL_OBFUSCATED | SS_URL_IP | SS_URL_IDN | SS_URL_SCHEMELESS */
} url_found;

/* Called for each URL found; returning non-zero stops the scan. */
typedef int (*url_cb)(void *ctx, const url_found *u);

/* Scans UTF-8 text[0..len) and calls cb for each URL, in order. Returns 0,
 * SS_ENOMEM, or the callback's non-zero value. */
int url_scan_text(ss_arena *a, const char *text, size_t len, url_cb cb, void *ctx);

/* Parses one href taken from HTML (entities already decoded). Returns 0 and
 * fills *out for a web URL (http, https, ftp, or schemeless host/path);
 * returns 1 when it is not one (mailto:, cid:, javascript:, #anchor,
 * relative path); SS_ENOMEM. `flags_in` is OR-ed into out->flags. */
int url_parse(ss_arena *a, const char *s, size_t len, unsigned flags_in, url_found *out);

/* Returns the host named by visible link text such as "www.paypal.com" or
 * "https://paypal.com/login" (lower case, Unicode), or {NULL,0} when the
 * text does not name a host. */
ss_str url_text_host(ss_arena *a, const char *text, size_t len);

typedef struct addr_found {
	ss_str addr;    /* local@domain, domain lower case Unicode */
	unsigned flags; /* SS_URL_OBFUSCATED for "joe at example dot com" */
} addr_found;

typedef int (*addr_cb)(void *ctx, const addr_found *a);

/* Scans UTF-8 text for e-mail addresses and calls cb for each. */
int url_scan_emails(ss_arena *a, const char *text, size_t len, addr_cb cb, void *ctx);

#endif
