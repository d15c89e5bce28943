/*
 * charset.h: bytes in any charset to UTF-8 NFC text.
 *
 * Conversion uses ICU (ucnv) and, for the charsets ICU lacks (VISCII,
 * TCVN-5712), glibc iconv. Detection (ICU ucsdet plus cheap checks) is used
 * when the label is missing, unknown or wrong. Output is always well-formed
 * UTF-8 in Unicode NFC: bad input bytes become U+FFFD, never an error.
 * No I/O. Thread-safe (converters are cached per thread).
 */
#ifndef SS_TEXT_CHARSET_H
#define SS_TEXT_CHARSET_H

#include <stddef.h>
#include "util/buf.h"

/* What cs_to_utf8() had to do, in *flags. */
enum {
	CS_DETECTED = 1 << 0,      /* label missing/unknown/wrong: charset was detected */
	CS_REPAIRED = 1 << 1,      /* mojibake (UTF-8 read as latin-1/1252) was undone */
	CS_INVALID = 1 << 2,       /* some bytes were invalid and became U+FFFD */
	CS_UNKNOWN_LABEL = 1 << 3, /* the label named no charset we know */
};

/* Converts in[0..len), labelled `label` (label_len bytes, any case, any
 * common alias: "gb2312", "x-gbk", "ks_c_5601-1987", "utf8", "latin1",
 * "windows-1258", "viscii", "tcvn"...; NULL or empty when there is none) to
 * UTF-8 NFC, appended to `out`. Sets *used to a static string naming the
 * charset actually used (lower-case canonical name, e.g. "gb18030") and
 * *flags to CS_* bits. Returns 0 or SS_ENOMEM. */
int cs_to_utf8(sbuf *out, const char *in, size_t len, const char *label, size_t label_len,
               const char **used, unsigned *flags);

/* Appends the NFC form of well-formed UTF-8 s[0..len) to `out`
 * (fast path: ASCII and already-NFC text are copied as is). */
int cs_nfc(sbuf *out, const char *s, size_t len);

/* Looks in the first KiB of an HTML document for a charset declared by
 * <meta charset=...> or <meta http-equiv=Content-Type content="...charset=...">.
 * Copies the label (NUL-terminated) into label[0..cap) and returns its
 * length, or returns 0 when there is none. */
size_t cs_html_meta_charset(const char *html, size_t len, char *label, size_t cap);

/* Converts 8-bit header bytes that are not in an encoded word (raw UTF-8,
 * or a legacy charset: detected) to UTF-8 NFC appended to `out`. */
int cs_header_to_utf8(sbuf *out, const char *in, size_t len);

/* Turns the calling thread's fast paths for double-byte charsets (GB18030,
 * Big5, windows-949: a pair table filled from ICU) and single-byte ones
 * (windows-125x, ISO-8859-x, KOI8...: a byte table filled from ICU) on,
 * the default, or off, so that tests and fuzzers can check their output
 * against ICU's converter alone. */
void cs_dbcs_fast(int on);

/* Decides the charset of unlabelled in[0..len) as cs_to_utf8() would and
 * returns its canonical name when it is an ASCII-compatible legacy one;
 * NULL when there is nothing to decide (ASCII, valid UTF-8) or the answer
 * is no guess for other text (a BOM, ISO-2022 escapes). */
const char *cs_guess(const char *in, size_t len);

/* cs_header_to_utf8(), but 8-bit bytes that are not UTF-8 are taken to be
 * in `guess` (a name cs_guess() gave for a larger text around them, such
 * as all of a header block's 8-bit fields) instead of detected alone;
 * windows-1252 when `guess` replaces more than one in 16 of them. A NULL
 * guess detects, as cs_header_to_utf8() does. */
int cs_header_guess_to_utf8(sbuf *out, const char *in, size_t len, const char *guess);

/* Frees the calling thread's converters, detector and buffers (they are
 * made again on next use). Threads that parsed mail call it before they
 * exit; the main thread's are reclaimed by the process exit. */
void cs_thread_release(void);

#endif
