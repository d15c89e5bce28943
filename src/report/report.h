/*
 * report.h: a user's report of a spam message turned into what is kept
 * and sent: the abuse report (ARF, report/arf.h) addressed to the source
 * network's contact (report/contacts.h) and the evidence record
 * (report/evidence.h). The CLI's `spamsift report` and the daemon's
 * POST /report and spamd TELL (Set: remote) share it; learning the message
 * as spam is theirs (engine_learn()), as is storing the record.
 */
#ifndef SS_REPORT_REPORT_H
#define SS_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "report/arf.h"
#include "report/contacts.h"
#include "report/evidence.h"
#include "spamsift.h"
#include "util/arena.h"
#include "util/buf.h"

/* What a report is made with; everything is borrowed and may be NULL. */
typedef struct report_cfg {
	const contact_map *contacts; /* NULL: no contact for anyone */
	const geoip *geo;            /* NULL: the country from the contacts file */
	const ss_netset *trusted;    /* relays of our own; NULL: loopback */
	const char *from;            /* the report's From; NULL: "abuse-reports@localhost" */
	size_t max_original;         /* see arf_report; 0: the default */
} report_cfg;

/* What report_make() made. Strings live in the arena given to it (not in
 * the contacts map, which may be freed first). */
typedef struct report_out {
	sbuf arf;         /* the ARF message (the caller releases it) */
	evidence_rec ev;  /* the evidence record (original = the message) */
	const char *to;   /* the abuse contact, NULL when none */
	int source_known; /* an untrusted Received hop gave the source IP */
} report_out;

/* Parses len bytes of the message, finds its source and contact and builds
 * the ARF and the evidence record for a report by `user` (NULL: none) at
 * time now. Returns 0, a parse refusal (SS_EEMPTY, SS_ENOTMAIL,
 * SS_EBINARY) or SS_ENOMEM; out->arf is to be released in every case. */
int report_make(const report_cfg *cfg, const char *user, const char *buf, size_t len, int64_t now,
                ss_arena *a, report_out *out);

/* Adds the fingerprints of the message buf[0..len) (fuzzy/fuzzy.h) to
 * the spamsift-fpd at `server` ("IP:PORT", NULL: nothing to do) as spam,
 * authenticated by the first key of `key_file`. A message too short to
 * fingerprint is not sent. Returns 0, SS_EIO (key file unreadable, or no
 * answer in 2 s), SS_EBUSY (the server refused: read-only key, rate),
 * SS_ESYNTAX (no key in the file, bad address) or a parse refusal. */
int report_fingerprint(const char *server, const char *key_file, const char *buf, size_t len);

#endif
