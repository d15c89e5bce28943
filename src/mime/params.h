/*
 * params.h: structured MIME header values (RFC 2045 section 5, RFC 2231).
 *
 * "type/subtype; name=value; name*0*=utf-8''%E6%8A; name*1*=%A5" and the
 * like: the leading token and parameters, with quoted strings, comments,
 * continuations, charset/language tags, percent-encoding and (as Outlook
 * writes them) RFC 2047 words inside quoted values. No I/O.
 */
#ifndef SS_MIME_PARAMS_H
#define SS_MIME_PARAMS_H

#include <stddef.h>
#include "spamsift.h"
#include "util/arena.h"
#include "util/buf.h"

/* Returns the leading token of a value ("text/html", "attachment"), lower
 * case, white space and comments removed, in the arena. Empty when none. */
ss_str params_token(ss_arena *a, const char *v, size_t len);

/* Looks up parameter `name` (case-insensitive) in the value v[0..len),
 * joins RFC 2231 continuations in order, decodes percent-encoding and the
 * declared charset, then RFC 2047 words; stores the UTF-8 result in *out
 * (arena). `scratch` and `scratch2` are work buffers. Returns 1 when found,
 * 0 when absent, SS_ENOMEM. */
int params_get(ss_arena *a, const char *v, size_t len, const char *name, sbuf *scratch,
               sbuf *scratch2, ss_str *out);

#endif
