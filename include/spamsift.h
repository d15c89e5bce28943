/*
 * spamsift.h: the public API of libspamsift.
 *
 * The library turns the raw bytes of one mail message into a parsed, decoded
 * view of it (ss_message): headers decoded to UTF-8, a tree of MIME parts with
 * their visible text, the URLs and addresses found, the Received chain and the
 * facts noticed on the way (limits hit, hidden HTML text, charset repaired...).
 *
 * Ownership: ss_parse() returns a message that owns every string and array it
 * points to (one arena per message); ss_message_free() releases all of it.
 * ss_str slices point into that arena, never into the caller's buffer, so the
 * caller may free its input as soon as ss_parse() returns.
 *
 * Errors: functions return 0 on success or a negative SS_E* code;
 * ss_strerror() turns a code into a sentence.
 */
#ifndef SPAMSIFT_H
#define SPAMSIFT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SS_VERSION "0.1.0"

/* Error codes: always negative. */
enum ss_error {
	SS_OK = 0,
	SS_ENOMEM = -1,   /* out of memory */
	SS_EINVAL = -2,   /* invalid argument */
	SS_EEMPTY = -3,   /* input is empty */
	SS_ENOTMAIL = -4, /* input does not look like a mail message */
	SS_EBINARY = -5,  /* input is binary data, not a message */
	SS_EIO = -6,      /* reading or writing failed */
	SS_ESYNTAX = -7,  /* malformed configuration text (networks, options) */
	SS_ECORRUPT = -8, /* the model store is damaged or not a spamsift store */
	SS_EBUSY = -9,    /* the model store is locked or full */
};

/* Returns a static English sentence describing error code `err`. */
const char *ss_strerror(int err);

/* A byte slice. Text slices are UTF-8 and also NUL-terminated at p[len]. */
typedef struct ss_str {
	const char *p;
	size_t len;
} ss_str;

/* Hard limits applied while parsing. Hitting one records a fact (see
 * ss_fact) and parsing continues with what fits; it is never an error. */
typedef struct ss_limits {
	size_t max_size;       /* bytes of input looked at (rest: fact "limit_size") */
	unsigned max_depth;    /* MIME nesting depth */
	unsigned max_parts;    /* MIME parts in total */
	unsigned max_headers;  /* header fields per header block */
	size_t max_header_len; /* bytes of one unfolded header field */
	size_t max_text;       /* bytes of decoded text kept per message */
	unsigned max_urls;     /* URLs and addresses kept, each */
	unsigned max_hops;     /* Received hops kept */
	size_t max_attach;     /* bytes of attachment data kept per message (ss_part.data) */
} ss_limits;

/* Fills `l` with the defaults (32 MiB, depth 20, 1000 parts, 1000 headers,
 * 64 KiB per header, 8 MiB of text, 1000 URLs, 50 hops, 8 MiB of
 * attachment data). */
void ss_limits_default(ss_limits *l);

/* A set of IP networks (the operator's trusted relays). Opaque. */
typedef struct ss_netset ss_netset;

/* Parses `spec`, a list of networks separated by commas or white space
 * ("127.0.0.0/8, 10.0.0.0/8 ::1/128"; a bare address is a /32 or /128).
 * On success stores a new set in *out (free with ss_netset_free).
 * On a syntax error returns SS_ESYNTAX and, when errpos is not NULL, the
 * byte offset of the bad item. */
int ss_netset_parse(const char *spec, ss_netset **out, size_t *errpos);
void ss_netset_free(ss_netset *ns);
/* Returns 1 when the textual address `ip` (v4 or v6) is inside the set. */
int ss_netset_contains(const ss_netset *ns, const char *ip);

/* Options for ss_parse(); zero-initialise, then set what you need.
 * limits == NULL means ss_limits_default(); trusted == NULL means only
 * loopback is trusted. */
typedef struct ss_parse_opts {
	const ss_limits *limits;
	const ss_netset *trusted;
} ss_parse_opts;

/* One header field. */
typedef struct ss_header {
	ss_str name;  /* as written (case kept) */
	ss_str raw;   /* the raw, unfolded value (bytes as sent, may be 8-bit) */
	ss_str value; /* decoded: RFC 2047 words and 8-bit bytes turned into UTF-8 */
} ss_header;

/* Part flags. */
enum {
	SS_PART_MULTIPART = 1 << 0,       /* a multipart container */
	SS_PART_MESSAGE = 1 << 1,         /* message/rfc822: its child is the inner message */
	SS_PART_TEXT = 1 << 2,            /* text/plain-like: has decoded text */
	SS_PART_HTML = 1 << 3,            /* text/html: text is the visible text */
	SS_PART_ATTACHMENT = 1 << 4,      /* has a filename or disposition attachment */
	SS_PART_HIDDEN_TEXT = 1 << 5,     /* HTML hid some text (see ss_part.hidden) */
	SS_PART_UUENCODE = 1 << 6,        /* text carried uuencoded files (children) */
	SS_PART_CHARSET_GUESSED = 1 << 7, /* label missing or wrong: detected */
};

/* One MIME part. Parts are stored in pre-order; part 0 is the message. */
typedef struct ss_part {
	int parent;          /* index of the parent part, -1 for the root */
	unsigned depth;      /* 0 for the root */
	unsigned flags;      /* SS_PART_* */
	ss_str content_type; /* lower case "type/subtype", "text/plain" by default */
	ss_str charset;      /* declared charset label, lower case, may be empty */
	ss_str charset_used; /* charset the text was decoded from */
	ss_str encoding;     /* Content-Transfer-Encoding, lower case */
	ss_str disposition;  /* "inline", "attachment" or empty */
	ss_str filename;     /* decoded UTF-8 (RFC 2231/2047), may be empty */
	ss_str content_id;   /* without angle brackets, may be empty */
	ss_str boundary;     /* multipart boundary, may be empty */
	size_t header_first; /* this part's headers: ss_message.headers[first..first+n) */
	size_t header_count;
	size_t raw_size;     /* bytes of the encoded body */
	size_t decoded_size; /* bytes after transfer decoding */
	ss_str text;         /* visible text, UTF-8 NFC (text and HTML parts) */
	ss_str hidden;       /* HTML text hidden by CSS, UTF-8 (may be empty) */
	ss_str data;         /* transfer-decoded bytes of a leaf that is not text
	                      * (attachments, images, uuencoded files): binary (may
	                      * hold NULs; a NUL follows it). At most what is left of
	                      * ss_limits.max_attach for the message, so a prefix
	                      * when data.len < decoded_size (fact "limit_attach").
	                      * Empty for text, HTML, multipart and message parts. */
} ss_part;

/* URL flags. */
enum {
	SS_URL_HTML = 1 << 0,          /* an href/src in HTML (not plain text) */
	SS_URL_OBFUSCATED = 1 << 1,    /* written as hxxp, [.], spaces, encodings... */
	SS_URL_IP = 1 << 2,            /* host is an IP literal */
	SS_URL_IDN = 1 << 3,           /* host has non-ASCII or punycode labels */
	SS_URL_TEXT_MISMATCH = 1 << 4, /* link text names another host than href */
	SS_URL_SCHEMELESS = 1 << 5,    /* found as www.example.com without a scheme */
};

/* A URL found in text or HTML. */
typedef struct ss_url {
	ss_str url;        /* normalised: scheme://host[:port]/path?query */
	ss_str host;       /* lower case, Unicode (U-labels) */
	ss_str host_ascii; /* lower case, punycode (A-labels) */
	ss_str link_text;  /* visible text of the <a>, empty for plain text */
	int part;          /* index of the part it came from */
	unsigned flags;    /* SS_URL_* */
} ss_url;

/* An e-mail address found in headers or text. */
typedef struct ss_addr {
	ss_str addr;    /* local@domain, domain lower case, Unicode */
	ss_str where;   /* header name ("From", "Reply-To"...) or "body" */
	int part;       /* part index, -1 for header addresses */
	unsigned flags; /* SS_URL_OBFUSCATED when written as "a at b dot com" */
} ss_addr;

/* One Received hop, newest (top) first. */
typedef struct ss_hop {
	ss_str from_helo; /* name the client gave (HELO/EHLO) */
	ss_str from_rdns; /* reverse DNS name the receiver recorded */
	ss_str ip;        /* client address, v4 dotted or v6 canonical text */
	ss_str by_host;   /* receiving host */
	ss_str with;      /* protocol (SMTP, ESMTPS, LMTP...) */
	int64_t time;     /* Unix time of the hop, 0 when unknown */
	int trusted;      /* 1 when `ip` is inside the trusted networks */
} ss_hop;

/* A fact noticed while parsing: a limit hit, a malformed structure that was
 * tolerated, a charset repaired. `name` is a stable identifier. */
typedef struct ss_fact {
	ss_str name;   /* e.g. "mime_missing_final_boundary" */
	ss_str detail; /* human-readable detail, may be empty */
	int part;      /* part it concerns, -1 for the whole message */
} ss_fact;

/* A parsed message. Read-only for the caller. */
typedef struct ss_message {
	ss_header *headers; /* all header fields of all parts, see ss_part */
	size_t nheaders;
	ss_part *parts;
	size_t nparts;
	ss_url *urls;
	size_t nurls;
	ss_addr *addrs;
	size_t naddrs;
	ss_hop *hops;
	size_t nhops;
	int first_untrusted; /* index into hops of the first untrusted hop, -1 if none */
	ss_fact *facts;
	size_t nfacts;
	ss_str subject;         /* decoded Subject of the top-level message */
	size_t size;            /* input size in bytes */
	struct ss_arena *arena; /* private: owns all of the above */
} ss_message;

/* Parses one message of `len` bytes. Never fails on malformed mail: what is
 * broken is tolerated and recorded as a fact. Fails with SS_EEMPTY for empty
 * input, SS_EBINARY for input that is binary data (over 5% NUL or control
 * bytes in its first 512 bytes), SS_ENOTMAIL for text without any header field, SS_ENOMEM.
 * On success *out owns a new message (free with ss_message_free). */
int ss_parse(const char *buf, size_t len, const ss_parse_opts *opts, ss_message **out);

/* Frees a message returned by ss_parse(); NULL is allowed. */
void ss_message_free(ss_message *msg);

/* Returns the first header of part `part` named `name` (case-insensitive),
 * or NULL. */
const ss_header *ss_message_header(const ss_message *msg, size_t part, const char *name);

/* Returns whether fact `name` was recorded anywhere in the message. */
int ss_message_has_fact(const ss_message *msg, const char *name);

/* Serialises `msg` as one JSON object (see docs/ARCHITECTURE.md for the
 * fields) into a malloc'ed, NUL-terminated string stored in *out; the caller
 * frees it. */
int ss_message_json(const ss_message *msg, char **out, size_t *outlen);

/* Writes the visible text of every text part of `msg`, parts separated by a
 * blank line, into a malloc'ed string stored in *out; the caller frees it. */
int ss_message_text(const ss_message *msg, char **out, size_t *outlen);

/* Frees what the library keeps per thread (charset converters and
 * buffers, made again on next use). A thread that parsed mail calls it
 * before it exits, or that memory is lost with the thread. */
void ss_thread_release(void);

#ifdef __cplusplus
}
#endif
#endif
