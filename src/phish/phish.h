/*
 * phish.h: phishing and malware signs in a parsed message, as hits.
 *
 * phish_check() looks at what the parser found (ss_message: HTML links with
 * their visible text, URL hosts, sender addresses, attachments with their
 * decoded bytes) and reports, as symbols the rule set scores:
 *
 *   PHISH_LINK_MISMATCH       link text names a host whose registrable
 *                             domain (libpsl) is not the href's
 *   PHISH_IDN_HOMOGRAPH       a host label mixing scripts, or written all in
 *                             a script that imitates Latin (ICU uspoof)
 *   PHISH_BRAND_LOOKALIKE     a host that imitates a brand: same confusable
 *                             skeleton, a typo of it, or the brand embedded
 *                             in another registrable domain
 *   URI_IP_LITERAL            a URL whose host is an IP address
 *   URI_SHORTENER             a URL on a link shortener
 *   ATTACH_EXECUTABLE         an attachment whose content is a program
 *                             (PE, ELF, Mach-O, MSI: libmagic), whatever
 *                             its name
 *   ATTACH_DOUBLE_EXT         "invoice.pdf.exe", "photo.jpg    .scr", or a
 *                             right-to-left override hiding an extension
 *   ATTACH_RISKY_EXT          a name ending in an extension Windows runs
 *   ATTACH_ARCHIVE_EXECUTABLE a program (by name or content) inside a zip,
 *                             rar, 7z, tar, gz, cab or ISO attachment, one
 *                             nested archive deep (libarchive)
 *   ATTACH_ENCRYPTED_ARCHIVE  an archive with encrypted entries
 *
 * Reading archives is bounded per message (entries listed, bytes
 * decompressed, one level of nesting; see phish_archive.c), so a zip bomb
 * costs no more than the bounds. Nothing here does I/O on the network.
 */
#ifndef SS_PHISH_PHISH_H
#define SS_PHISH_PHISH_H

#include "check/checks.h"
#include "check/hits.h"
#include "spamsift.h"

/* What one thread needs to run the checks: a libmagic handle, an ICU spoof
 * checker, the public suffix list and the brands' skeletons. */
typedef struct phish_ctx phish_ctx;

/* Makes a context. It loads libmagic's database (a few milliseconds; if
 * the database cannot be loaded, executables are recognised by their
 * magic bytes alone) and ICU's confusable data. Returns NULL when out of
 * memory or when ICU's spoof checker or the public suffix list is missing.
 *
 * Thread safety: a context is used by one thread at a time (libmagic and
 * the brand cache are not shareable); contexts are independent of each
 * other, so the engine keeps one per worker thread. */
phish_ctx *phish_ctx_new(void);

/* Frees a context; NULL is allowed. */
void phish_ctx_free(phish_ctx *ctx);

/* Adds the phishing and malware signs of message `m` to `out` (details in
 * out->a). `cfg` gives the brands and shorteners; NULL, or an empty list,
 * means the built-in defaults (phish_default_brands(),
 * phish_default_shorteners()). `cfg` is only read, and may be shared by
 * every thread. Returns 0, or SS_ENOMEM (the hits added so far stay). */
int phish_check(phish_ctx *ctx, const ss_message *m, const ss_checks_config *cfg, ss_hits *out);

/* The built-in lists, NULL-terminated; *n receives their length. */
const char *const *phish_default_brands(size_t *n);
const char *const *phish_default_shorteners(size_t *n);

#endif
