/*
 * json.h: a small JSON writer on top of sbuf.
 *
 * Strings are written as valid JSON whatever the bytes: control characters
 * are escaped and invalid UTF-8 becomes U+FFFD, so output from hostile mail
 * is always parseable. Commas between members are the caller's business via
 * json_sep().
 */
#ifndef SS_UTIL_JSON_H
#define SS_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* Appends `s[0..len)` as a quoted JSON string. */
int json_str(sbuf *b, const char *s, size_t len);
/* Appends "key": (quoted key, colon). */
int json_key(sbuf *b, const char *key);
/* Appends "key":"value" for a slice. */
int json_kv_str(sbuf *b, const char *key, const char *s, size_t len);
/* Appends "key":number. */
int json_kv_int(sbuf *b, const char *key, int64_t v);
/* Appends a comma when *first is 0, then sets *first to 0. */
int json_sep(sbuf *b, int *first);

#endif
