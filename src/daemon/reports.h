/*
 * reports.h: user reports in the daemon (HTTP POST /report, spamd TELL
 * with Set: remote): with the settings contacts, evidence, geoip and
 * report_from, a reported message is kept in the evidence store and its
 * abuse report (ARF) made (report/report.h). The doors learn it as spam
 * themselves (conn_learn()).
 *
 * The contacts file and the country database are read for each report:
 * reports are rare next to scans, and an edited file needs no reload.
 */
#ifndef SS_DAEMON_REPORTS_H
#define SS_DAEMON_REPORTS_H

#include <stddef.h>

#include "daemon/config.h"
#include "report/report.h"

/* Whether the configuration turns reports on (an evidence store is set). */
int reports_enabled(const config *conf);

/* Stores and builds the report of len bytes of msg by user (may be NULL)
 * with the settings of conf: out (released by the caller with
 * reports_release, also on failure) gets the ARF and the evidence record,
 * its strings in a. Returns 0, a parse refusal (SS_EEMPTY, SS_ENOTMAIL,
 * SS_EBINARY), SS_ESYNTAX or SS_EIO (a settings file is bad, an evidence
 * write failed; why says which) or SS_ENOMEM. */
int reports_make(const config *conf, const char *user, const char *msg, size_t len, ss_arena *a,
                 report_out *out, char *why, size_t why_len);

void reports_release(report_out *out);

#endif
