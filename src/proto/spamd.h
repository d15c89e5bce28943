/*
 * spamd.h: the spamd protocol (SPAMC/1.x, as SpamAssassin's spamd/PROTOCOL
 * and Debian's spamc speak it), as an I/O-free state machine and reply
 * formatters.
 *
 * A request is a line "COMMAND SPAMC/1.5", header lines ("Content-length",
 * "User", "Compress", "Message-class", "Set", "Remove"; others ignored), a
 * blank line, and for the commands that carry one, the message. spamd_feed()
 * takes bytes as they arrive, in pieces of any size, and hands out events:
 * the request once its header is complete, the body as slices of the
 * caller's buffer (zero-copy), its end, or an error with the sysexits code
 * and sentence to reply with. One request per connection, as spamc does.
 *
 * The reply formatters write what spamc parses: "SPAMD/1.1 0 EX_OK",
 * "Spam: True ; 7.5 / 5.0", Content-length of the body, "DidSet: local" and
 * "DidRemove: local" for TELL, "SPAMD/1.5 0 PONG" for PING, and
 * "SPAMD/1.0 76 EX_PROTOCOL reason" for errors.
 */
#ifndef SS_PROTO_SPAMD_H
#define SS_PROTO_SPAMD_H

#include <stddef.h>

#include "spamsift.h"
#include "util/buf.h"

#define SPAMD_MAX_LINE 8192  /* bytes of one request or header line */
#define SPAMD_MAX_HEADERS 64 /* header lines of one request */
#define SPAMD_MAX_USER 128   /* bytes of a User name */

/* Reply codes, from sysexits.h (spamd uses them on the wire). */
enum spamd_code {
	SPAMD_EX_OK = 0,
	SPAMD_EX_USAGE = 64,
	SPAMD_EX_DATAERR = 65,
	SPAMD_EX_NOUSER = 67,
	SPAMD_EX_SOFTWARE = 70,
	SPAMD_EX_IOERR = 74,
	SPAMD_EX_TEMPFAIL = 75,
	SPAMD_EX_PROTOCOL = 76,
	SPAMD_EX_TIMEOUT = 79, /* spamd's own, not in sysexits.h */
};

typedef enum spamd_cmd {
	SPAMD_CHECK,
	SPAMD_SYMBOLS,
	SPAMD_REPORT,
	SPAMD_REPORT_IFSPAM,
	SPAMD_PROCESS,
	SPAMD_HEADERS,
	SPAMD_PING,
	SPAMD_SKIP,
	SPAMD_TELL,
} spamd_cmd;

/* TELL: where to set or remove (bits of spamd_request.set / .remove). */
enum { SPAMD_LOCAL = 1, SPAMD_REMOTE = 2 };
/* TELL: Message-class. */
enum { SPAMD_CLASS_NONE = 0, SPAMD_CLASS_SPAM = 1, SPAMD_CLASS_HAM = 2 };

/* A request's header, valid from SPAMD_EV_REQUEST on. */
typedef struct spamd_request {
	spamd_cmd cmd;
	int major, minor;              /* protocol version the client spoke */
	int has_length;                /* Content-length was given */
	size_t length;                 /* its value: bytes of body on the wire */
	int compressed;                /* Compress: zlib */
	char user[SPAMD_MAX_USER + 1]; /* User, "" when absent */
	int msg_class;                 /* SPAMD_CLASS_* */
	unsigned set, remove;          /* SPAMD_LOCAL | SPAMD_REMOTE */
} spamd_request;

typedef enum spamd_event_kind {
	SPAMD_EV_NONE = 0, /* every byte given was consumed; feed more */
	SPAMD_EV_REQUEST,  /* the header is complete: see spamd_parser.req */
	SPAMD_EV_BODY,     /* ev.p, ev.len: the next piece of the body */
	SPAMD_EV_END,      /* the request is complete */
	SPAMD_EV_ERROR,    /* ev.code, ev.text: reply with them and close */
} spamd_event_kind;

typedef struct spamd_event {
	spamd_event_kind kind;
	const char *p; /* BODY: slice of the caller's buffer */
	size_t len;
	int code;         /* ERROR: SPAMD_EX_* */
	const char *text; /* ERROR: static sentence */
} spamd_event;

typedef struct spamd_parser {
	int state;
	spamd_request req;
	size_t max_body; /* largest body accepted (bytes on the wire) */
	size_t nheaders;
	size_t body_seen; /* bytes of body handed out */
	size_t line_len;  /* bytes of a line split across feeds, in line[] */
	char line[SPAMD_MAX_LINE];
} spamd_parser;

/* Prepares p for one request whose body may be at most max_body bytes. */
void spamd_init(spamd_parser *p, size_t max_body);

/* Consumes bytes of buf[0..len) up to the next event, which it stores in
 * *ev (SPAMD_EV_NONE when it consumed everything without one), and returns
 * the number of bytes consumed. Call it again with the rest (and once more
 * with len 0 after a body event) until it returns an EV_NONE. After END or
 * ERROR it consumes and ignores everything. */
size_t spamd_feed(spamd_parser *p, const char *buf, size_t len, spamd_event *ev);

/* The client closed its side. Stores the last event: END for a body
 * without Content-length, ERROR for a request cut short, NONE otherwise. */
void spamd_eof(spamd_parser *p, spamd_event *ev);

/* Returns whether the command carries a message (all but PING and SKIP). */
int spamd_has_body(spamd_cmd cmd);

/* Returns the command's name ("CHECK"...). */
const char *spamd_cmd_name(spamd_cmd cmd);

/* What a scan found, as the replies need it. */
typedef struct spamd_verdict {
	int is_spam;
	double score, threshold;
	const char *symbols; /* SYMBOLS: "A,B" */
	const char *report;  /* REPORT, REPORT_IFSPAM: text */
	size_t report_len;
	const ss_str *headers; /* PROCESS, HEADERS: "Name: value" fields to add */
	size_t nheaders;
} spamd_verdict;

/* Appends the reply to a scanning request (CHECK, SYMBOLS, REPORT,
 * REPORT_IFSPAM, PROCESS, HEADERS) for message msg[0..len) to out.
 * Returns 0 or SS_ENOMEM. */
int spamd_reply_scan(sbuf *out, const spamd_request *req, const spamd_verdict *v, const char *msg,
                     size_t len);

/* Appends the reply to TELL: did_set and did_remove are SPAMD_LOCAL bits
 * for what was actually changed (spamc says "already learned" without),
 * and SPAMD_REMOTE in did_set for a report that was stored (spamc -C). */
int spamd_reply_tell(sbuf *out, unsigned did_set, unsigned did_remove);

/* Appends "SPAMD/1.5 0 PONG". */
int spamd_reply_pong(sbuf *out);

/* Appends an error reply: "SPAMD/1.0 <code> <EX_NAME> <text>". */
int spamd_reply_error(sbuf *out, int code, const char *text);

/* Appends msg[0..len) to out with the header fields h[0..n) added at the
 * end of its header block (with the message's own line ends), and fields
 * of the same names removed (a sender cannot pre-set X-Spam-Flag). With
 * headers_only, stops after the blank line that ends the header block. */
int spamd_add_headers(sbuf *out, const char *msg, size_t len, const ss_str *h, size_t n,
                      int headers_only);

/* Inflates a zlib stream (Compress: zlib) into out, at most max bytes.
 * Returns 0; 1 when the message would be larger than max; SS_ESYNTAX for
 * a damaged or truncated stream; SS_ENOMEM. */
int spamd_inflate(const char *in, size_t len, size_t max, sbuf *out);

#endif
