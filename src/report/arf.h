/*
 * arf.h: the abuse report builder: an ARF message (RFC 5965, with the
 * abuse-report profile of RFC 6650) about one reported message.
 *
 * The report is multipart/report; report-type=feedback-report with three
 * parts: a text/plain explanation for people (what, when, source IP, why),
 * the message/feedback-report fields for machines (Feedback-Type: abuse,
 * User-Agent, Version: 1, Original-Mail-From, Original-Rcpt-To,
 * Arrival-Date, Source-IP, Reported-Domain, Reported-Uri,
 * Authentication-Results), and the original message, byte for byte
 * unchanged, as message/rfc822 (or only its header block as
 * text/rfc822-headers when it is larger than a limit).
 *
 * The builder is I/O-free: the caller gives every value (arf_from_message()
 * takes the ones a parsed message holds) and gets the report's bytes.
 * Lines end the way the original's first line ends (CRLF or LF), so the
 * report uses one line end throughout when the original does; the
 * boundary is chosen so that it occurs nowhere in the content.
 */
#ifndef SS_REPORT_ARF_H
#define SS_REPORT_ARF_H

#include <stddef.h>
#include <stdint.h>

#include "spamsift.h"
#include "util/arena.h"
#include "util/buf.h"

#define ARF_MAX_URIS 8                     /* Reported-Uri fields at most */
#define ARF_DEFAULT_MAX_ORIGINAL (8 << 20) /* bytes sent whole as message/rfc822 */

/* What a report says. Strings are NUL-terminated and borrowed; any may be
 * NULL (the field is left out, or says "unknown" where RFC 5965 requires
 * it). CR, LF and other control characters in header values are replaced
 * by spaces. */
typedef struct arf_report {
	const char *from;            /* the report's From (required) */
	const char *to;              /* the abuse contact; NULL: "undisclosed-recipients:;" */
	const char *message_id;      /* the report's Message-ID, without <> (required) */
	int64_t date;                /* the report's Date (Unix time) */
	const char *source_ip;       /* the first untrusted hop's address */
	const char *source_network;  /* the contacts file's network for it */
	const char *country;         /* ISO 3166 code of the source, when known */
	const char *mail_from;       /* Original-Mail-From (the envelope sender) */
	const char *rcpt_to;         /* Original-Rcpt-To */
	int64_t arrival;             /* Arrival-Date (Unix time), 0: unknown */
	const char *reported_domain; /* the sender's domain */
	const char *uris[ARF_MAX_URIS];
	size_t nuris;
	const char *auth_results; /* Authentication-Results value, when known */
	const char *subject;      /* the original's decoded Subject (human part) */
	const char *reporter;     /* who reported it (user name), for the human part */
	const char *original;     /* the original message's bytes (required) */
	size_t original_len;
	size_t max_original; /* above this, text/rfc822-headers; 0: ARF_DEFAULT_MAX_ORIGINAL */
} arf_report;

/* Fills the fields of r that a parsed message gives: source_ip (the first
 * untrusted hop), arrival (the newest hop's time), mail_from (Return-Path),
 * rcpt_to (Delivered-To, else the first To address), reported_domain (the
 * From address's domain), uris (the first ARF_MAX_URIS URLs),
 * auth_results (the first Authentication-Results field) and subject.
 * Strings are copied into a. Leaves the other fields alone. Returns 0 or
 * SS_ENOMEM. */
int arf_from_message(const ss_message *m, ss_arena *a, arf_report *r);

/* Appends the whole report to out. Returns 0, SS_EINVAL when from,
 * message_id or original is missing, or SS_ENOMEM. */
int arf_build(const arf_report *r, sbuf *out);

/* Formats t (Unix time, UTC) as an RFC 5322 date into buf (at least 40
 * bytes). */
void arf_date(int64_t t, char *buf, size_t cap);

#endif
