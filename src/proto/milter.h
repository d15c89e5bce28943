/*
 * milter.h: the milter protocol (version 6, as Sendmail's libmilter and
 * Postfix's milter8 speak it), filter side, as an I/O-free state machine
 * and reply formatters.
 *
 * The MTA sends packets: a 4-byte big-endian length, then that many bytes,
 * the first of which is the command ('O' option negotiation, 'D' macros,
 * 'C' connect, 'H' HELO, 'M' MAIL, 'R' RCPT, 'T' DATA, 'L' header, 'N' end
 * of headers, 'B' body chunk, 'E' end of body, 'A' abort, 'Q' quit, 'K'
 * quit and a new connection follows, 'U' unknown SMTP command). The filter
 * answers with packets of the same shape ('O', 'c' continue, 'a' accept,
 * 'r' reject, 't' tempfail, 'y' reply code, 'h' add header, 'i' insert
 * header, 'm' change header, 'p' progress).
 *
 * milter_feed() takes bytes as they arrive, in pieces of any size, and
 * hands out one decoded command at a time: its strings are C strings and
 * its data a slice, inside the caller's buffer when the whole packet lay
 * in it (zero-copy), else inside the parser (a packet split across feeds
 * is gathered there, never more than max_packet bytes). Either stays
 * valid until the next call. Every length is checked; a packet that is
 * empty, longer than max_packet, of an unknown command, badly formed, or
 * out of order is an error, after which the connection is to be closed.
 *
 * Option negotiation: milter_negotiate() answers the MTA's 'O' with
 * version min(MTA's, 6), the actions we need (SMFIF_ADDHDRS|CHGHDRS) and
 * the protocol flags we want (no reply for the commands we do not act on:
 * SMFIP_NR_*; no DATA and unknown-command events; header values with their
 * leading space), each masked by what the MTA offered. From then on each
 * event says whether the MTA waits for a reply to it (event.reply).
 */
#ifndef SS_PROTO_MILTER_H
#define SS_PROTO_MILTER_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define MILTER_VERSION 6
/* Largest packet accepted: Postfix sends body chunks of at most 64 KiB and
 * headers of at most 100 KiB (header_size_limit). */
#define MILTER_MAX_PACKET (256u << 10)

/* Commands, MTA to filter (SMFIC_*). */
enum {
	MILTER_CMD_ABORT = 'A',
	MILTER_CMD_BODY = 'B',
	MILTER_CMD_CONNECT = 'C',
	MILTER_CMD_MACRO = 'D',
	MILTER_CMD_BODYEOB = 'E',
	MILTER_CMD_HELO = 'H',
	MILTER_CMD_QUIT_NC = 'K',
	MILTER_CMD_HEADER = 'L',
	MILTER_CMD_MAIL = 'M',
	MILTER_CMD_EOH = 'N',
	MILTER_CMD_OPTNEG = 'O',
	MILTER_CMD_QUIT = 'Q',
	MILTER_CMD_RCPT = 'R',
	MILTER_CMD_DATA = 'T',
	MILTER_CMD_UNKNOWN = 'U',
};

/* Replies, filter to MTA (SMFIR_*). */
enum {
	MILTER_REPLY_ACCEPT = 'a',
	MILTER_REPLY_CONTINUE = 'c',
	MILTER_REPLY_ADDHEADER = 'h',
	MILTER_REPLY_INSHEADER = 'i',
	MILTER_REPLY_CHGHEADER = 'm',
	MILTER_REPLY_PROGRESS = 'p',
	MILTER_REPLY_REJECT = 'r',
	MILTER_REPLY_TEMPFAIL = 't',
	MILTER_REPLY_REPLYCODE = 'y',
};

/* Actions the filter may ask for (SMFIF_*). */
enum {
	MILTER_ACT_ADDHDRS = 1u << 0,
	MILTER_ACT_CHGHDRS = 1u << 4,
};

/* Protocol flags (SMFIP_*): events not sent, replies not expected. */
enum {
	MILTER_P_NOCONNECT = 1u << 0,
	MILTER_P_NOHELO = 1u << 1,
	MILTER_P_NOMAIL = 1u << 2,
	MILTER_P_NORCPT = 1u << 3,
	MILTER_P_NOBODY = 1u << 4,
	MILTER_P_NOHDRS = 1u << 5,
	MILTER_P_NOEOH = 1u << 6,
	MILTER_P_NR_HDR = 1u << 7,
	MILTER_P_NOUNKNOWN = 1u << 8,
	MILTER_P_NODATA = 1u << 9,
	MILTER_P_SKIP = 1u << 10,
	MILTER_P_RCPT_REJ = 1u << 11,
	MILTER_P_NR_CONN = 1u << 12,
	MILTER_P_NR_HELO = 1u << 13,
	MILTER_P_NR_MAIL = 1u << 14,
	MILTER_P_NR_RCPT = 1u << 15,
	MILTER_P_NR_DATA = 1u << 16,
	MILTER_P_NR_UNKN = 1u << 17,
	MILTER_P_NR_EOH = 1u << 18,
	MILTER_P_NR_BODY = 1u << 19,
	MILTER_P_HDR_LEADSPC = 1u << 20,
};

/* What spamsift asks for in the negotiation (masked by the MTA's offer). */
#define MILTER_WANT_ACTIONS (MILTER_ACT_ADDHDRS | MILTER_ACT_CHGHDRS)
#define MILTER_WANT_PROTOCOL                                                                       \
	(MILTER_P_NR_HDR | MILTER_P_NR_CONN | MILTER_P_NR_HELO | MILTER_P_NR_MAIL |                \
	 MILTER_P_NR_RCPT | MILTER_P_NR_DATA | MILTER_P_NR_UNKN | MILTER_P_NR_EOH |                \
	 MILTER_P_NR_BODY | MILTER_P_NODATA | MILTER_P_NOUNKNOWN | MILTER_P_HDR_LEADSPC)

typedef enum milter_event_kind {
	MILTER_EV_NONE = 0, /* every byte given was consumed; feed more */
	MILTER_EV_OPTNEG,   /* version, actions, protocol: the MTA's offer */
	MILTER_EV_MACRO,    /* for_cmd; p, len: "name\0value\0" pairs */
	MILTER_EV_CONNECT,  /* a: host name; family; port; b: address ("" for 'U') */
	MILTER_EV_HELO,     /* a: the HELO/EHLO name */
	MILTER_EV_MAIL,     /* a: the sender; p, len: ESMTP args, "arg\0"... */
	MILTER_EV_RCPT,     /* a: the recipient; p, len: ESMTP args */
	MILTER_EV_DATA,
	MILTER_EV_HEADER, /* a: name; b: value (see milter_parser.proto's LEADSPC) */
	MILTER_EV_EOH,
	MILTER_EV_BODY,    /* p, len: a chunk of the body (CRLF line ends) */
	MILTER_EV_BODYEOB, /* p, len: a last chunk (usually empty): scan now */
	MILTER_EV_ABORT,   /* the message is abandoned; the connection goes on */
	MILTER_EV_QUIT,    /* close the connection */
	MILTER_EV_QUIT_NC, /* a new SMTP connection follows on this one */
	MILTER_EV_UNKNOWN, /* a: the SMTP command the MTA did not know */
	MILTER_EV_ERROR,   /* text: why; close the connection */
} milter_event_kind;

typedef struct milter_event {
	milter_event_kind kind;
	int reply;         /* the MTA waits for a reply to this command */
	const char *a, *b; /* NUL-terminated strings, see the kinds */
	const char *p;     /* data slice, see the kinds */
	size_t len;        /* bytes at p */
	char family;       /* CONNECT: '4', '6', 'L' (unix) or 'U' (unknown) */
	unsigned port;     /* CONNECT: client port (0 for 'L', 'U') */
	char for_cmd;      /* MACRO: the command these macros go with */
	uint32_t version;  /* OPTNEG */
	uint32_t actions;  /* OPTNEG */
	uint32_t protocol; /* OPTNEG */
	const char *text;  /* ERROR: a static sentence */
} milter_event;

typedef struct milter_parser {
	int state;         /* internal: negotiation, ready, quit, error */
	int in_msg;        /* between MAIL and end of body/abort */
	size_t max_packet; /* largest packet (command byte and data) */
	uint32_t version;  /* negotiated (0 before) */
	uint32_t actions;  /* negotiated actions */
	uint32_t proto;    /* negotiated protocol flags */
	unsigned char lenb[4];
	size_t lenb_got; /* bytes of the length read so far */
	size_t need;     /* bytes of the current packet (0: reading a length) */
	sbuf pkt;        /* a packet split across feeds */
} milter_parser;

/* Prepares p for one connection; max_packet 0 means MILTER_MAX_PACKET. */
void milter_init(milter_parser *p, size_t max_packet);

/* Frees what the parser holds. */
void milter_release(milter_parser *p);

/* Consumes bytes of buf[0..len) up to the next command, which it stores in
 * *ev (MILTER_EV_NONE when it consumed everything without one), and
 * returns the number of bytes consumed. Call it again with the rest until
 * it returns an EV_NONE; handle each event before the next call (its
 * slices may point into the parser). After QUIT or ERROR it consumes and
 * ignores everything. */
size_t milter_feed(milter_parser *p, const char *buf, size_t len, milter_event *ev);

/* The MTA closed its side. Stores ERROR in *ev when a packet was cut short
 * (or the negotiation never happened but bytes came), NONE otherwise. */
void milter_eof(milter_parser *p, milter_event *ev);

/* Answers an OPTNEG event: records the negotiated version, actions (ours
 * masked by the MTA's) and protocol flags, and appends our 'O' packet to
 * out. Returns 0 or SS_ENOMEM. */
int milter_negotiate(milter_parser *p, const milter_event *ev, uint32_t actions, uint32_t proto,
                     sbuf *out);

/* Iterates the NUL-terminated strings of a MACRO or MAIL/RCPT slice: *pos
 * starts at 0; returns the next string, or NULL at the end. */
const char *milter_next_string(const char *p, size_t len, size_t *pos);

/* Looks up macro `name` ("j", "{daemon_name}"; braces optional on either
 * side) in a MACRO event's pairs; returns its value or NULL. */
const char *milter_macro(const milter_event *ev, const char *name);

/* Appends a reply without data ('c', 'a', 'r', 't', 'p'). */
int milter_reply(sbuf *out, char code);

/* Appends 'h': add header `name` with `value` at the end of the header
 * block. Returns 0, SS_EINVAL (a NUL or bare line break would cut the
 * field; the name has a ':' or is empty), or SS_ENOMEM. */
int milter_reply_addheader(sbuf *out, const char *name, const char *value);

/* Appends 'i': insert the header at (0-based) position index. */
int milter_reply_insheader(sbuf *out, uint32_t index, const char *name, const char *value);

/* Appends 'm': change the index-th (1-based) field called name to value,
 * or delete it when value is "". */
int milter_reply_chgheader(sbuf *out, uint32_t index, const char *name, const char *value);

/* Appends 'y' with an SMTP reply "5xy x.y.z text" (or 4xy), with '%'
 * doubled as libmilter does (the MTA reads it as a format). Returns 0,
 * SS_EINVAL when milter_reply_code_ok() says no, or SS_ENOMEM. */
int milter_reply_code(sbuf *out, const char *smtp_reply);

/* Returns whether s is a single-line SMTP reply the MTAs accept from a
 * filter: "4yz" or "5yz", a space, an enhanced status code of the same
 * class ("5.7.1"), a space, text of printable ASCII. */
int milter_reply_code_ok(const char *s);

/* Returns a short name for a command byte ("header"), "?" when unknown. */
const char *milter_cmd_name(int cmd);

#endif
