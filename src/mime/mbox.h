/*
 * mbox.h: an mbox file (RFC 4155) cut into its messages: each starts after
 * a "From " line, the next such line ends it, and a body line quoted as
 * ">From " is given back as "From " (mboxrd/mboxo). I/O-free: the caller
 * reads the file.
 */
#ifndef SS_MIME_MBOX_H
#define SS_MIME_MBOX_H

#include <stddef.h>

/* Receives message `index` (0 when the mbox holds one message, else 1,
 * 2...) in msg[0..len); msg is NUL-terminated at len and valid only
 * during the call. A non-zero result stops the walk. */
typedef int (*mbox_msg_fn)(void *ctx, size_t index, const char *msg, size_t len);

/* Whether buf[0..len) starts like an mbox (a "From " line). */
int mbox_is(const char *buf, size_t len);

/* Calls fn for each message of the mbox buf[0..len), which must be
 * NUL-terminated at len: a lone message with nothing to unquote (one
 * message a file, as in the corpora) is passed in place, any other is
 * copied. Returns fn's first non-zero result, SS_ENOMEM, or 0. */
int mbox_each(const char *buf, size_t len, mbox_msg_fn fn, void *ctx);

#endif
