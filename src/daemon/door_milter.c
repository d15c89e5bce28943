/*
 * door_milter.c: milter sessions to engine scans and back (see
 * door_milter.h).
 */
#include "daemon/door_milter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemon/log.h"
#include "engine/checks.h"
#include "proto/milter.h"
#include "util/clock.h"

#define MAX_RCPTS 1000 /* recipients passed to the engine; more are counted */

/* The fields the engine adds, which a sender must not pre-set. */
static const char *const spam_fields[] = {"X-Spam-Flag", "X-Spam-Score", "X-Spam-Level",
                                          "X-Spam-Action", "X-Spam-Status"};
#define NFIELDS (sizeof(spam_fields) / sizeof(spam_fields[0]))
#define MAX_AR_FORGED 32 /* Authentication-Results fields in our name removed */

typedef struct milter_conn {
	milter_parser p;
	int done; /* quit, or an error: ignore the rest */
	/* the SMTP connection, as the MTA told it */
	char client_ip[64], client_host[256], helo[256], mta_host[256], queue_id[64];
	/* the message */
	ss_arena a; /* envelope strings */
	const char *mail_from;
	const char **rcpts;
	size_t nrcpts, rcap, rcpts_seen;
	sbuf msg;
	int started;  /* our Received field is written */
	int oversize; /* larger than --max-size: no longer buffered */
	int failed;   /* out of memory while buffering */
	size_t size;  /* bytes of the message seen */
	unsigned forged[NFIELDS];
	unsigned ar_seen;                  /* Authentication-Results fields so far */
	unsigned ar_forged[MAX_AR_FORGED]; /* which of them claim our authserv-id */
	size_t nar_forged;
	double start; /* when the end of the message came */
} milter_conn;

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* Forgets the message (the connection's data stays). */
static void msg_reset(milter_conn *x)
{
	arena_release(&x->a);
	sbuf_release(&x->msg);
	x->mail_from = NULL;
	x->rcpts = NULL;
	x->nrcpts = x->rcap = x->rcpts_seen = 0;
	x->started = x->oversize = x->failed = 0;
	x->size = 0;
	memset(x->forged, 0, sizeof(x->forged));
	x->ar_seen = 0;
	x->nar_forged = 0;
}

static void mi_open(conn *c)
{
	milter_conn *x = conn_state(c);

	milter_init(&x->p, 0);
	arena_init(&x->a);
}

static void mi_close(conn *c)
{
	milter_conn *x = conn_state(c);

	msg_reset(x);
	milter_release(&x->p);
}

/* Stops listening to the MTA: shut our side, drop the rest, close. */
static void hang_up(conn *c)
{
	milter_conn *x = conn_state(c);

	x->done = 1;
	conn_finish(c);
}

static void send_reply(conn *c, sbuf *out)
{
	if (conn_send(c, out->p, out->len)) {
		log_msg(LOG_ERROR, "milter %s: out of memory: closing", conn_peer(c));
		hang_up(c);
	}
}

static void send_code(conn *c, char code)
{
	sbuf out = SBUF_INIT;

	if (milter_reply(&out, code))
		log_msg(LOG_ERROR, "milter %s: out of memory", conn_peer(c));
	else
		send_reply(c, &out);
	sbuf_release(&out);
}

/* ---- rebuilding the message ---- */

static void append(conn *c, const char *p, size_t n)
{
	milter_conn *x = conn_state(c);
	size_t max = conn_limits(c)->max_size;

	x->size += n;
	if (x->oversize || x->failed)
		return;
	if (x->msg.len + n > max) {
		x->oversize = 1;
		sbuf_release(&x->msg);
		log_msg(LOG_WARN, "milter %s%s%s: message larger than %zu bytes: not buffered",
		        conn_peer(c), x->queue_id[0] ? " id=" : "", x->queue_id, max);
		return;
	}
	if (sbuf_add(&x->msg, p, n)) {
		x->failed = 1;
		sbuf_release(&x->msg);
	}
}

/* Our Received field, first in the message: the hop the MTA does not send. */
static void start_message(conn *c)
{
	milter_conn *x = conn_state(c);
	char date[64], head[1200];
	time_t t = time(NULL);
	struct tm tm;
	int n;

	if (x->started)
		return;
	x->started = 1;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	n = snprintf(head, sizeof(head),
	             "Received: from %s (%s%s%s%s)\r\n\tby %s (spamsiftd milter) with SMTP%s%s;\r\n"
	             "\t%s\r\n",
	             x->helo[0] ? x->helo : "unknown",
	             x->client_host[0] ? x->client_host : "unknown", x->client_ip[0] ? " [" : "",
	             x->client_ip, x->client_ip[0] ? "]" : "",
	             x->mta_host[0] ? x->mta_host : "localhost", x->queue_id[0] ? " id " : "",
	             x->queue_id, date);
	append(c, head, n > 0 && (size_t)n < sizeof(head) ? (size_t)n : 0);
}

/* Whether an Authentication-Results value begins with our authserv-id
 * (checks_authserv_id: the one our fields carry): a sender's forgery, which
 * RFC 8601 section 5 asks us to remove. */
static int ar_claims_us(conn *c, const char *value)
{
	char id[256];
	size_t n = 0;

	checks_authserv_id(conn_config(c)->authserv_id, id, sizeof(id));
	value += strspn(value, " \t\r\n");
	while (value[n] && !strchr("; \t\r\n(", value[n]))
		n++;
	return n == strlen(id) && !strncasecmp(value, id, n);
}

/* Counts the fields a sender must not pre-set. */
static void watch_forged(conn *c, milter_conn *x, const milter_event *ev)
{
	for (size_t i = 0; i < NFIELDS; i++)
		x->forged[i] += !strcasecmp(ev->a, spam_fields[i]);
	if (strcasecmp(ev->a, "Authentication-Results"))
		return;
	x->ar_seen++;
	if (x->nar_forged < MAX_AR_FORGED && ar_claims_us(c, ev->b))
		x->ar_forged[x->nar_forged++] = x->ar_seen;
}

static void on_header(conn *c, const milter_event *ev)
{
	milter_conn *x = conn_state(c);
	int leadspc = (x->p.proto & MILTER_P_HDR_LEADSPC) != 0;

	start_message(c);
	watch_forged(c, x, ev);
	append(c, ev->a, strlen(ev->a));
	append(c, leadspc ? ":" : ": ", leadspc ? 1 : 2);
	append(c, ev->b, strlen(ev->b));
	append(c, "\r\n", 2);
}

static void on_rcpt(conn *c, const char *rcpt)
{
	milter_conn *x = conn_state(c);
	const char *r;

	x->rcpts_seen++;
	if (x->nrcpts == MAX_RCPTS)
		return;
	if (arena_grow(&x->a, (void **)&x->rcpts, &x->rcap, x->nrcpts, sizeof(*x->rcpts)) ||
	    !(r = arena_strndup(&x->a, rcpt, strlen(rcpt)))) {
		x->failed = 1;
		return;
	}
	x->rcpts[x->nrcpts++] = r;
}

/* ---- the verdict ---- */

static void log_message(conn *c, const char *what)
{
	milter_conn *x = conn_state(c);

	log_msg(LOG_INFO, "milter %s%s%s from=%s rcpts=%zu: %s (%zu bytes, %.2f ms)", conn_peer(c),
	        x->queue_id[0] ? " id=" : "", x->queue_id, x->mail_from ? x->mail_from : "",
	        x->rcpts_seen, what, x->size, (ss_mono_s() - x->start) * 1e3);
}

/* Cannot scan: accept or tempfail by policy. */
static void by_policy(conn *c, const char *why)
{
	int accept = conn_config(c)->milter_on_error;
	char what[160];

	snprintf(what, sizeof(what), "%s: %s by policy", why, accept ? "accepted" : "tempfailed");
	log_message(c, what);
	send_code(c, accept ? MILTER_REPLY_ACCEPT : MILTER_REPLY_TEMPFAIL);
}

/* Appends the removal of forged X-Spam-* and Authentication-Results fields
 * (last first, so that the indexes of the others stay true) and the
 * engine's fields. */
static int edit_headers(milter_conn *x, const ss_str *h, size_t nh, sbuf *out)
{
	int leadspc = (x->p.proto & MILTER_P_HDR_LEADSPC) != 0, err = 0;
	char field[512];

	if (x->p.actions & MILTER_ACT_CHGHDRS)
		for (size_t i = 0; !err && i < NFIELDS; i++)
			for (unsigned k = x->forged[i]; !err && k > 0; k--)
				err = milter_reply_chgheader(out, k, spam_fields[i], "");
	if (x->p.actions & MILTER_ACT_CHGHDRS)
		for (size_t i = x->nar_forged; !err && i > 0; i--)
			err = milter_reply_chgheader(out, x->ar_forged[i - 1],
			                             "Authentication-Results", "");
	if (!(x->p.actions & MILTER_ACT_ADDHDRS))
		return err;
	for (size_t i = 0; !err && i < nh; i++) {
		const char *colon = memchr(h[i].p, ':', h[i].len);
		size_t nl = colon ? (size_t)(colon - h[i].p) : 0;
		if (!colon || nl >= sizeof(field))
			continue;
		memcpy(field, h[i].p, nl);
		field[nl] = 0;
		/* h is "Name: value"; the MTA adds the space unless LEADSPC */
		err = milter_reply_addheader(out, field, colon + (leadspc ? 1 : 2));
	}
	return err;
}

static void reply_verdict(conn *c, const engine_result *res, ss_arena *a)
{
	milter_conn *x = conn_state(c);
	ss_str h[ENGINE_MAX_HEADERS];
	size_t nh = engine_result_headers(res, a, h);
	sbuf out = SBUF_INIT;
	char what[128];
	int err;

	snprintf(what, sizeof(what), "%s %.2f/%.2f %s", res->is_spam ? "spam" : "ham", res->score,
	         res->required, res->action == ENGINE_REJECT ? "rejected" : "headers added");
	if (res->action == ENGINE_REJECT) {
		const char *reply = conn_config(c)->milter_reject;
		if (milter_reply_code(&out, reply ? reply : CONFIG_DEFAULT_REJECT))
			err = milter_reply(&out, MILTER_REPLY_REJECT);
		else
			err = 0;
	} else {
		err = !nh ? SS_ENOMEM : edit_headers(x, h, nh, &out);
		if (!err)
			err = milter_reply(&out, MILTER_REPLY_CONTINUE);
	}
	if (err) {
		sbuf_release(&out);
		by_policy(c, ss_strerror(err));
		return;
	}
	log_message(c, what);
	send_reply(c, &out);
	sbuf_release(&out);
}

static void end_of_message(conn *c)
{
	milter_conn *x = conn_state(c);
	engine_envelope env = {x->client_ip[0] ? x->client_ip : NULL, x->helo[0] ? x->helo : NULL,
	                       x->mail_from, x->rcpts, x->nrcpts};
	engine_result res;
	ss_arena a;
	int err;

	if (x->failed || x->oversize) {
		by_policy(c, x->failed ? "out of memory" : "message too big");
		return;
	}
	arena_init(&a);
	err = conn_scan(c, NULL, &env, x->msg.p ? x->msg.p : "", x->msg.len, &a, &res);
	if (err == SS_EEMPTY || err == SS_ENOTMAIL || err == SS_EBINARY) {
		log_message(c, "not mail: accepted unscanned");
		send_code(c, MILTER_REPLY_CONTINUE);
	} else if (err) {
		by_policy(c, ss_strerror(err));
	} else {
		reply_verdict(c, &res, &a);
	}
	arena_release(&a);
}

/* ---- events ---- */

static void on_macro(conn *c, const milter_event *ev)
{
	milter_conn *x = conn_state(c);
	const char *v;

	if ((v = milter_macro(ev, "j")))
		copy(x->mta_host, sizeof(x->mta_host), v);
	if ((v = milter_macro(ev, "i")))
		copy(x->queue_id, sizeof(x->queue_id), v);
}

static void on_connect(conn *c, const milter_event *ev)
{
	milter_conn *x = conn_state(c);
	int inet = ev->family == '4' || ev->family == '6';

	copy(x->client_host, sizeof(x->client_host), ev->a);
	copy(x->client_ip, sizeof(x->client_ip), inet ? ev->b : "");
	x->helo[0] = 0;
}

static void on_optneg(conn *c, const milter_event *ev)
{
	milter_conn *x = conn_state(c);
	sbuf out = SBUF_INIT;

	if (milter_negotiate(&x->p, ev, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL, &out)) {
		log_msg(LOG_ERROR, "milter %s: out of memory", conn_peer(c));
		hang_up(c);
	} else {
		send_reply(c, &out);
	}
	sbuf_release(&out);
	if (!(x->p.actions & MILTER_ACT_ADDHDRS))
		log_msg(LOG_WARN, "milter %s: the MTA does not let filters add header fields",
		        conn_peer(c));
}

static void on_message_event(conn *c, const milter_event *ev)
{
	milter_conn *x = conn_state(c);

	switch (ev->kind) {
	case MILTER_EV_MAIL: /* a message: its own deadline, to end-of-body */
		conn_request_end(c);
		conn_request_begin(c);
		msg_reset(x);
		if (!(x->mail_from = arena_strndup(&x->a, ev->a, strlen(ev->a))))
			x->failed = 1;
		break;
	case MILTER_EV_RCPT:
		on_rcpt(c, ev->a);
		break;
	case MILTER_EV_HEADER:
		on_header(c, ev);
		break;
	case MILTER_EV_EOH:
		start_message(c);
		append(c, "\r\n", 2);
		break;
	case MILTER_EV_BODY:
	case MILTER_EV_BODYEOB:
		start_message(c);
		append(c, ev->p, ev->len);
		break;
	default:
		break;
	}
}

static void handle(conn *c, const milter_event *ev)
{
	milter_conn *x = conn_state(c);

	switch (ev->kind) {
	case MILTER_EV_OPTNEG:
		on_optneg(c, ev);
		return;
	case MILTER_EV_MACRO:
		on_macro(c, ev);
		return;
	case MILTER_EV_CONNECT:
		on_connect(c, ev);
		break;
	case MILTER_EV_HELO:
		copy(x->helo, sizeof(x->helo), ev->a);
		break;
	case MILTER_EV_BODYEOB:
		on_message_event(c, ev);
		x->start = ss_mono_s();
		end_of_message(c);
		conn_request_end(c);
		msg_reset(x);
		x->queue_id[0] = 0;
		return;
	case MILTER_EV_ABORT:
		conn_request_end(c);
		msg_reset(x);
		x->queue_id[0] = 0;
		return;
	case MILTER_EV_QUIT_NC:
		conn_request_end(c);
		msg_reset(x);
		x->client_ip[0] = x->client_host[0] = x->helo[0] = 0;
		return;
	case MILTER_EV_QUIT:
		hang_up(c);
		return;
	case MILTER_EV_ERROR:
		log_msg(LOG_WARN, "milter %s: %s: closing", conn_peer(c), ev->text);
		hang_up(c);
		return;
	default:
		on_message_event(c, ev);
		break;
	}
	if (ev->reply)
		send_code(c, MILTER_REPLY_CONTINUE);
}

static void mi_input(conn *c, const char *buf, size_t len)
{
	milter_conn *x = conn_state(c);
	milter_event ev;
	size_t off = 0;

	while (!x->done) {
		off += milter_feed(&x->p, buf + off, len - off, &ev);
		if (ev.kind == MILTER_EV_NONE)
			break;
		handle(c, &ev);
	}
	/* Between messages, with no packet half read, the session is idle: a
	 * stopping daemon closes it (the MTA applies milter_default_action to
	 * what comes next) rather than wait for the SMTP session to end. */
	conn_set_idle(c, !x->done && !x->p.in_msg && !x->p.lenb_got && !x->p.need);
}

static void mi_eof(conn *c)
{
	milter_conn *x = conn_state(c);
	milter_event ev;

	if (x->done)
		return;
	milter_eof(&x->p, &ev);
	if (ev.kind == MILTER_EV_ERROR)
		log_msg(LOG_WARN, "milter %s: %s", conn_peer(c), ev.text);
	else if (x->p.in_msg)
		log_msg(LOG_INFO, "milter %s: the MTA left in the middle of a message",
		        conn_peer(c));
}

/* No deadline callback: a message that takes too long is cut off by
 * closing, and the MTA applies its milter_default_action. */
const door_ops door_milter = {
    .name = "milter",
    .state_size = sizeof(milter_conn),
    .open = mi_open,
    .input = mi_input,
    .eof = mi_eof,
    .close = mi_close,
};
