/*
 * milter.c: the milter protocol's packet stream, decoded as an I/O-free
 * state machine, and the replies a filter sends (see milter.h).
 */
#include "proto/milter.h"

#include <assert.h>
#include <string.h>

#include "spamsift.h"

enum { S_NEGOTIATE = 0, S_READY, S_QUIT, S_ERROR };

void milter_init(milter_parser *p, size_t max_packet)
{
	memset(p, 0, sizeof(*p));
	p->max_packet = max_packet ? max_packet : MILTER_MAX_PACKET;
}

void milter_release(milter_parser *p)
{
	sbuf_release(&p->pkt);
}

static uint32_t get32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

static void fail(milter_parser *p, milter_event *ev, const char *why)
{
	p->state = S_ERROR;
	memset(ev, 0, sizeof(*ev)); /* no half-decoded slices */
	ev->kind = MILTER_EV_ERROR;
	ev->text = why;
}

/* ---- decoding one packet ---- */

/* Takes one NUL-terminated string off the front of (*d, *n); NULL when
 * there is no NUL. */
static const char *take_str(const char **d, size_t *n)
{
	const char *s = *d, *nul = memchr(s, 0, *n);

	if (!nul)
		return NULL;
	*n -= (size_t)(nul + 1 - s);
	*d = nul + 1;
	return s;
}

/* Returns whether d[0..n) is a sequence of NUL-terminated strings, and
 * counts them in *count. */
static int all_strings(const char *d, size_t n, size_t *count)
{
	*count = 0;
	while (n) {
		if (!take_str(&d, &n))
			return 0;
		(*count)++;
	}
	return 1;
}

static int decode_optneg(milter_parser *p, const char *d, size_t n, milter_event *ev)
{
	const unsigned char *u = (const unsigned char *)d;

	if (n < 12)
		return fail(p, ev, "option negotiation too short"), -1;
	ev->version = get32(u);
	ev->actions = get32(u + 4);
	ev->protocol = get32(u + 8);
	if (ev->version < 2)
		return fail(p, ev, "milter protocol version below 2"), -1;
	return 0;
}

static int decode_connect(milter_parser *p, const char *d, size_t n, milter_event *ev)
{
	if (!(ev->a = take_str(&d, &n)) || n < 1)
		return fail(p, ev, "bad connect packet"), -1;
	ev->family = d[0];
	d++, n--;
	ev->b = "";
	if (ev->family == 'U')
		return n ? (fail(p, ev, "bad connect packet"), -1) : 0;
	if (!strchr("46L", ev->family) || ev->family == 0 || n < 3)
		return fail(p, ev, "bad connect packet"), -1;
	ev->port = (unsigned)((unsigned char)d[0] << 8 | (unsigned char)d[1]);
	d += 2, n -= 2;
	if (!(ev->b = take_str(&d, &n)) || n)
		return fail(p, ev, "bad connect packet"), -1;
	return 0;
}

/* MAIL, RCPT: at least one string (the address), all NUL-terminated. */
static int decode_args(milter_parser *p, const char *d, size_t n, milter_event *ev)
{
	size_t count;

	if (!all_strings(d, n, &count) || !count)
		return fail(p, ev, "bad MAIL/RCPT packet"), -1;
	ev->a = take_str(&d, &n);
	ev->p = d;
	ev->len = n;
	return 0;
}

static int decode_macro(milter_parser *p, const char *d, size_t n, milter_event *ev)
{
	size_t count;

	if (n < 1 || !all_strings(d + 1, n - 1, &count) || count % 2)
		return fail(p, ev, "bad macro packet"), -1;
	ev->for_cmd = d[0];
	ev->p = d + 1;
	ev->len = n - 1;
	return 0;
}

/* Exactly one string filling the packet (HELO, UNKNOWN). */
static int decode_one(milter_parser *p, const char *d, size_t n, milter_event *ev)
{
	if (!(ev->a = take_str(&d, &n)) || n)
		return fail(p, ev, "bad string packet"), -1;
	return 0;
}

static int decode_header(milter_parser *p, const char *d, size_t n, milter_event *ev)
{
	if (!(ev->a = take_str(&d, &n)) || !(ev->b = take_str(&d, &n)) || n || !ev->a[0])
		return fail(p, ev, "bad header packet"), -1;
	return 0;
}

static int no_data(milter_parser *p, size_t n, milter_event *ev)
{
	if (n)
		return fail(p, ev, "unexpected data in packet"), -1;
	return 0;
}

/* The protocol flag that spares a reply to cmd, 0 when it has none. */
static uint32_t nr_flag(int cmd)
{
	switch (cmd) {
	case MILTER_CMD_CONNECT:
		return MILTER_P_NR_CONN;
	case MILTER_CMD_HELO:
		return MILTER_P_NR_HELO;
	case MILTER_CMD_MAIL:
		return MILTER_P_NR_MAIL;
	case MILTER_CMD_RCPT:
		return MILTER_P_NR_RCPT;
	case MILTER_CMD_DATA:
		return MILTER_P_NR_DATA;
	case MILTER_CMD_UNKNOWN:
		return MILTER_P_NR_UNKN;
	case MILTER_CMD_HEADER:
		return MILTER_P_NR_HDR;
	case MILTER_CMD_EOH:
		return MILTER_P_NR_EOH;
	case MILTER_CMD_BODY:
		return MILTER_P_NR_BODY;
	default:
		return 0;
	}
}

static const struct {
	char cmd;
	milter_event_kind kind;
	const char *name;
	int in_msg; /* only between MAIL and the end of the body */
} cmds[] = {
    {MILTER_CMD_ABORT, MILTER_EV_ABORT, "abort", 0},
    {MILTER_CMD_BODY, MILTER_EV_BODY, "body", 1},
    {MILTER_CMD_CONNECT, MILTER_EV_CONNECT, "connect", 0},
    {MILTER_CMD_MACRO, MILTER_EV_MACRO, "macro", 0},
    {MILTER_CMD_BODYEOB, MILTER_EV_BODYEOB, "end of body", 1},
    {MILTER_CMD_HELO, MILTER_EV_HELO, "helo", 0},
    {MILTER_CMD_QUIT_NC, MILTER_EV_QUIT_NC, "quit, new connection", 0},
    {MILTER_CMD_HEADER, MILTER_EV_HEADER, "header", 1},
    {MILTER_CMD_MAIL, MILTER_EV_MAIL, "mail", 0},
    {MILTER_CMD_EOH, MILTER_EV_EOH, "end of headers", 1},
    {MILTER_CMD_OPTNEG, MILTER_EV_OPTNEG, "option negotiation", 0},
    {MILTER_CMD_QUIT, MILTER_EV_QUIT, "quit", 0},
    {MILTER_CMD_RCPT, MILTER_EV_RCPT, "rcpt", 1},
    {MILTER_CMD_DATA, MILTER_EV_DATA, "data", 1},
    {MILTER_CMD_UNKNOWN, MILTER_EV_UNKNOWN, "unknown", 0},
};

static int cmd_index(int cmd)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].cmd == cmd)
			return (int)i;
	return -1;
}

const char *milter_cmd_name(int cmd)
{
	int i = cmd_index(cmd);

	return i < 0 ? "?" : cmds[i].name;
}

/* Checks the command against the state; returns 0 or -1 after failing. */
static int in_order(milter_parser *p, int i, milter_event *ev)
{
	if (p->state == S_NEGOTIATE && cmds[i].cmd != MILTER_CMD_OPTNEG)
		return fail(p, ev, "expected option negotiation first"), -1;
	if (p->state != S_NEGOTIATE && cmds[i].cmd == MILTER_CMD_OPTNEG)
		return fail(p, ev, "option negotiation repeated"), -1;
	if (cmds[i].in_msg && !p->in_msg)
		return fail(p, ev, "message command outside a transaction"), -1;
	return 0;
}

static int decode_data(milter_parser *p, int cmd, const char *d, size_t n, milter_event *ev)
{
	switch (cmd) {
	case MILTER_CMD_OPTNEG:
		return decode_optneg(p, d, n, ev);
	case MILTER_CMD_MACRO:
		return decode_macro(p, d, n, ev);
	case MILTER_CMD_CONNECT:
		return decode_connect(p, d, n, ev);
	case MILTER_CMD_HELO:
	case MILTER_CMD_UNKNOWN:
		return decode_one(p, d, n, ev);
	case MILTER_CMD_MAIL:
	case MILTER_CMD_RCPT:
		return decode_args(p, d, n, ev);
	case MILTER_CMD_HEADER:
		return decode_header(p, d, n, ev);
	case MILTER_CMD_BODY:
	case MILTER_CMD_BODYEOB:
		ev->p = d;
		ev->len = n;
		return 0;
	default:
		return no_data(p, n, ev);
	}
}

/* Updates the state after a well-formed command. */
static void advance(milter_parser *p, int cmd)
{
	switch (cmd) {
	case MILTER_CMD_OPTNEG:
		p->state = S_READY;
		break;
	case MILTER_CMD_MAIL:
		p->in_msg = 1;
		break;
	case MILTER_CMD_BODYEOB:
	case MILTER_CMD_ABORT:
	case MILTER_CMD_QUIT_NC:
		p->in_msg = 0;
		break;
	case MILTER_CMD_QUIT:
		p->state = S_QUIT;
		break;
	default:
		break;
	}
}

/* Decodes the packet pkt[0..n) (n >= 1: command byte, then data). */
static void decode(milter_parser *p, const char *pkt, size_t n, milter_event *ev)
{
	int cmd = (unsigned char)pkt[0], i = cmd_index(cmd);

	if (i < 0) {
		fail(p, ev, "unknown command");
		return;
	}
	if (in_order(p, i, ev) || decode_data(p, cmd, pkt + 1, n - 1, ev))
		return;
	ev->kind = cmds[i].kind;
	ev->reply = cmd == MILTER_CMD_BODYEOB || (nr_flag(cmd) && !(p->proto & nr_flag(cmd)));
	advance(p, cmd);
}

/* ---- the byte stream ---- */

/* Reads length bytes; returns bytes consumed; sets p->need when complete. */
static size_t read_length(milter_parser *p, const char *buf, size_t len, milter_event *ev)
{
	size_t k = 4 - p->lenb_got < len ? 4 - p->lenb_got : len;
	uint32_t n;

	memcpy(p->lenb + p->lenb_got, buf, k);
	p->lenb_got += k;
	if (p->lenb_got < 4)
		return k;
	n = get32(p->lenb);
	if (n == 0)
		fail(p, ev, "empty packet");
	else if (n > p->max_packet)
		fail(p, ev, "packet longer than the limit");
	else
		p->need = n;
	return k;
}

/* Reads packet bytes; decodes the packet once complete. */
static size_t read_packet(milter_parser *p, const char *buf, size_t len, milter_event *ev)
{
	size_t k;

	if (!p->pkt.len && len >= p->need) { /* whole in the caller's buffer */
		k = p->need;
		decode(p, buf, k, ev);
	} else {
		k = p->need - p->pkt.len < len ? p->need - p->pkt.len : len;
		if (sbuf_add(&p->pkt, buf, k)) {
			fail(p, ev, "out of memory");
			return len;
		}
		if (p->pkt.len < p->need)
			return k;
		decode(p, p->pkt.p, p->pkt.len, ev);
	}
	p->need = 0;
	p->lenb_got = 0;
	return k;
}

size_t milter_feed(milter_parser *p, const char *buf, size_t len, milter_event *ev)
{
	size_t off = 0;

	memset(ev, 0, sizeof(*ev));
	if (p->state == S_QUIT || p->state == S_ERROR)
		return len;
	if (!p->need && p->pkt.len)
		sbuf_reset(&p->pkt); /* the last event's packet is done with */
	while (off < len && ev->kind == MILTER_EV_NONE) {
		if (!p->need)
			off += read_length(p, buf + off, len - off, ev);
		else
			off += read_packet(p, buf + off, len - off, ev);
		if (p->state == S_ERROR)
			return len;
	}
	return off;
}

void milter_eof(milter_parser *p, milter_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (p->state == S_QUIT || p->state == S_ERROR)
		return;
	if (p->lenb_got || p->need)
		fail(p, ev, "packet cut short");
}

int milter_negotiate(milter_parser *p, const milter_event *ev, uint32_t actions, uint32_t proto,
                     sbuf *out)
{
	unsigned char b[17];

	assert(ev->kind == MILTER_EV_OPTNEG);
	p->version = ev->version < MILTER_VERSION ? ev->version : MILTER_VERSION;
	p->actions = actions & ev->actions;
	p->proto = proto & ev->protocol;
	put32(b, 13);
	b[4] = MILTER_CMD_OPTNEG;
	put32(b + 5, p->version);
	put32(b + 9, p->actions);
	put32(b + 13, p->proto);
	return sbuf_add(out, b, sizeof(b));
}

const char *milter_next_string(const char *p, size_t len, size_t *pos)
{
	const char *s, *nul;

	if (*pos >= len)
		return NULL;
	s = p + *pos;
	nul = memchr(s, 0, len - *pos);
	if (!nul)
		return NULL;
	*pos = (size_t)(nul + 1 - p);
	return s;
}

/* Whether macro names a and b are equal, braces aside ("{i}" == "i"). */
static int same_macro(const char *a, const char *b)
{
	size_t la, lb;

	if (*a == '{')
		a++;
	if (*b == '{')
		b++;
	la = strcspn(a, "}");
	lb = strcspn(b, "}");
	return la == lb && !memcmp(a, b, la);
}

const char *milter_macro(const milter_event *ev, const char *name)
{
	size_t pos = 0;
	const char *n, *v;

	while ((n = milter_next_string(ev->p, ev->len, &pos)) &&
	       (v = milter_next_string(ev->p, ev->len, &pos)))
		if (same_macro(n, name))
			return v;
	return NULL;
}

/* ---- replies ---- */

/* Appends a packet header for a command with `data` bytes of data. */
static int packet_head(sbuf *out, char code, size_t data)
{
	unsigned char b[5];

	if (data >= MILTER_MAX_PACKET)
		return SS_EINVAL;
	put32(b, (uint32_t)(data + 1));
	b[4] = (unsigned char)code;
	return sbuf_add(out, b, sizeof(b));
}

int milter_reply(sbuf *out, char code)
{
	return packet_head(out, code, 0);
}

/* A field name: printable ASCII without ':' or space, not empty. */
static int name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 127 || *s == ':')
			return 0;
	return 1;
}

/* A value may be folded ("\r\n" or "\n" followed by a space or tab) but
 * has no other line break. */
static int value_ok(const char *s)
{
	for (; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			s++;
		if (*s == '\r' || (*s == '\n' && s[1] != ' ' && s[1] != '\t'))
			return 0;
	}
	return 1;
}

/* Appends code [index] name\0 value\0. */
static int header_packet(sbuf *out, char code, int has_index, uint32_t index, const char *name,
                         const char *value)
{
	size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
	unsigned char ib[4];
	int err;

	if (!name_ok(name) || !value_ok(value))
		return SS_EINVAL;
	put32(ib, index);
	if ((err = packet_head(out, code, (has_index ? 4 : 0) + nl + vl)) ||
	    (has_index && (err = sbuf_add(out, ib, 4))) || (err = sbuf_add(out, name, nl)) ||
	    (err = sbuf_add(out, value, vl)))
		return err;
	return 0;
}

int milter_reply_addheader(sbuf *out, const char *name, const char *value)
{
	return header_packet(out, MILTER_REPLY_ADDHEADER, 0, 0, name, value);
}

int milter_reply_insheader(sbuf *out, uint32_t index, const char *name, const char *value)
{
	return header_packet(out, MILTER_REPLY_INSHEADER, 1, index, name, value);
}

int milter_reply_chgheader(sbuf *out, uint32_t index, const char *name, const char *value)
{
	return header_packet(out, MILTER_REPLY_CHGHEADER, 1, index, name, value);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "d.d{1,3}.d{1,3}" of class c at s; returns its length or 0. */
static size_t enhanced_code(const char *s, char c)
{
	size_t i = 2, n;

	if (s[0] != c || s[1] != '.')
		return 0;
	for (int part = 0; part < 2; part++) {
		for (n = 0; is_digit(s[i]) && n < 4; i++, n++)
			;
		if (!n || n > 3 || (part == 0 && s[i] != '.'))
			return 0;
		if (part == 0)
			i++;
	}
	return i;
}

int milter_reply_code_ok(const char *s)
{
	size_t e;

	if ((s[0] != '4' && s[0] != '5') || !is_digit(s[1]) || !is_digit(s[2]) || s[3] != ' ')
		return 0;
	if (!(e = enhanced_code(s + 4, s[0])) || s[4 + e] != ' ' || !s[5 + e])
		return 0;
	for (s += 5 + e; *s; s++)
		if (*s < ' ' || *s >= 127)
			return 0;
	return 1;
}

int milter_reply_code(sbuf *out, const char *smtp_reply)
{
	size_t n = strlen(smtp_reply) + 1;
	int err;

	if (!milter_reply_code_ok(smtp_reply))
		return SS_EINVAL;
	for (const char *s = smtp_reply; *s; s++)
		n += *s == '%';
	if ((err = packet_head(out, MILTER_REPLY_REPLYCODE, n)))
		return err;
	for (const char *s = smtp_reply; *s; s++)
		if ((err = sbuf_add(out, s, 1)) || (*s == '%' && (err = sbuf_addc(out, '%'))))
			return err;
	return sbuf_addc(out, 0);
}
