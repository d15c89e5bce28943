/*
 * door_spamd.c: requests of the spamd protocol to engine calls and back
 * (see door_spamd.h).
 */
#include "daemon/door_spamd.h"

#include <stdio.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/reports.h"
#include "proto/spamd.h"
#include "util/clock.h"

typedef struct spamd_conn {
	spamd_parser p;
	sbuf body;    /* the message as it arrives */
	int done;     /* a reply was queued (or SKIP): ignore the rest */
	double start; /* when the request's header was complete */
} spamd_conn;

static void sp_open(conn *c)
{
	spamd_conn *x = conn_state(c);

	spamd_init(&x->p, conn_limits(c)->max_size);
}

static void sp_close(conn *c)
{
	spamd_conn *x = conn_state(c);

	sbuf_release(&x->body);
}

/* Replies with an error and finishes; logs why. */
static void reply_error(conn *c, int code, const char *text)
{
	spamd_conn *x = conn_state(c);
	sbuf out = SBUF_INIT;

	log_msg(LOG_WARN, "spamd %s: %s: replied %d", conn_peer(c), text, code);
	if (!spamd_reply_error(&out, code, text))
		conn_send(c, out.p, out.len);
	sbuf_release(&out);
	x->done = 1;
	conn_finish(c);
}

static void send_and_finish(conn *c, sbuf *out)
{
	spamd_conn *x = conn_state(c);

	if (conn_send(c, out->p, out->len)) {
		x->done = 0;
		reply_error(c, SPAMD_EX_SOFTWARE, "out of memory");
		return;
	}
	x->done = 1;
	conn_finish(c);
}

/* Maps an engine error to a reply; returns 1 when it replied. */
static int engine_failed(conn *c, int err)
{
	if (!err)
		return 0;
	if (err == SS_EEMPTY || err == SS_ENOTMAIL || err == SS_EBINARY)
		reply_error(c, SPAMD_EX_DATAERR, ss_strerror(err));
	else
		reply_error(c, SPAMD_EX_SOFTWARE, ss_strerror(err));
	return 1;
}

static void log_request(conn *c, const char *what, size_t len)
{
	spamd_conn *x = conn_state(c);
	const spamd_request *r = &x->p.req;

	log_msg(LOG_INFO, "spamd %s %s%s%s: %s (%zu bytes, %.2f ms)", conn_peer(c),
	        spamd_cmd_name(r->cmd), r->user[0] ? " user=" : "", r->user, what, len,
	        (ss_mono_s() - x->start) * 1e3);
}

/* The verdict's text parts, in b (symbols first, then the report). */
static int verdict_of(const spamd_request *r, const engine_result *res, ss_arena *a, sbuf *b,
                      ss_str *h, spamd_verdict *v)
{
	size_t sym_len;
	int err = 0;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; !err && i < res->nsymbols; i++)
		err = sbuf_addf(b, "%s%s", i ? "," : "", res->symbols[i].name);
	sym_len = b->len;
	if (!err && (r->cmd == SPAMD_REPORT || r->cmd == SPAMD_REPORT_IFSPAM))
		err = engine_result_report(res, b);
	if (err || !(v->symbols = arena_strndup(a, b->p ? b->p : "", sym_len)))
		return SS_ENOMEM;
	v->report = b->p ? b->p + sym_len : "";
	v->report_len = b->len - sym_len;
	v->is_spam = res->is_spam;
	v->score = res->score;
	v->threshold = res->required;
	v->headers = h;
	v->nheaders = engine_result_headers(res, a, h);
	return v->nheaders ? 0 : SS_ENOMEM;
}

static void scan(conn *c, const char *msg, size_t len)
{
	spamd_conn *x = conn_state(c);
	ss_arena a;
	engine_result res;
	spamd_verdict v;
	ss_str h[ENGINE_MAX_HEADERS];
	sbuf text = SBUF_INIT, out = SBUF_INIT;
	char what[96];
	int err;

	arena_init(&a);
	err = conn_scan(c, x->p.req.user, NULL, msg, len, &a, &res);
	if (engine_failed(c, err))
		goto out;
	if ((err = verdict_of(&x->p.req, &res, &a, &text, h, &v)) ||
	    (err = spamd_reply_scan(&out, &x->p.req, &v, msg, len))) {
		engine_failed(c, err);
		goto out;
	}
	snprintf(what, sizeof(what), "%s %.2f/%.2f %s", res.is_spam ? "spam" : "ham", res.score,
	         res.required, engine_action_name(res.action));
	log_request(c, what, len);
	send_and_finish(c, &out);
out:
	sbuf_release(&text);
	sbuf_release(&out);
	arena_release(&a);
}

/* Set: remote for spam: a user's report, kept as evidence (its ARF is
 * built but not sent). Returns SPAMD_REMOTE when stored, 0 when reports
 * are off, or an error. */
static int tell_remote(conn *c, const char *msg, size_t len)
{
	const spamd_request *r = &((spamd_conn *)conn_state(c))->p.req;
	report_out o;
	char why[600];
	ss_arena a;
	int err;

	if (!reports_enabled(conn_config(c)) || r->msg_class != SPAMD_CLASS_SPAM)
		return 0;
	arena_init(&a);
	err = reports_make(conn_config(c), r->user[0] ? r->user : NULL, msg, len, &a, &o, why,
	                   sizeof(why));
	if (err)
		log_msg(LOG_WARN, "spamd %s: report: %s", conn_peer(c), why);
	reports_release(&o);
	arena_release(&a);
	return err ? (err == SS_ESYNTAX ? SS_EIO : err) : SPAMD_REMOTE;
}

static void tell(conn *c, const char *msg, size_t len)
{
	spamd_conn *x = conn_state(c);
	const spamd_request *r = &x->p.req;
	engine_learned did = ENGINE_UNCHANGED;
	unsigned did_set = 0, did_remove = 0;
	sbuf out = SBUF_INIT;
	int err = 0;

	if (r->remove & SPAMD_LOCAL) {
		err = conn_unlearn(c, r->user, msg, len, &did);
		did_remove = did == ENGINE_UNLEARNED ? SPAMD_LOCAL : 0;
	}
	if (!err && (r->set & SPAMD_LOCAL)) {
		err = conn_learn(c, r->user, r->msg_class == SPAMD_CLASS_SPAM, msg, len, &did);
		did_set = did == ENGINE_LEARNED || did == ENGINE_MOVED ? SPAMD_LOCAL : 0;
	}
	if (!err && (r->set & SPAMD_REMOTE)) {
		int rc = tell_remote(c, msg, len);
		err = rc < 0 ? rc : 0;
		did_set |= rc > 0 ? (unsigned)rc : 0;
	}
	if (engine_failed(c, err))
		return;
	log_request(c,
	            did_set & SPAMD_REMOTE ? "reported"
	            : did_set ? (r->msg_class == SPAMD_CLASS_SPAM ? "learned spam" : "learned ham")
	            : did_remove ? "unlearned"
	                         : "unchanged",
	            len);
	if (spamd_reply_tell(&out, did_set, did_remove))
		reply_error(c, SPAMD_EX_SOFTWARE, "out of memory");
	else
		send_and_finish(c, &out);
	sbuf_release(&out);
}

/* The whole request is in: decompress, then scan or tell. */
static void serve(conn *c)
{
	spamd_conn *x = conn_state(c);
	sbuf plain = SBUF_INIT;
	const char *msg = x->body.p ? x->body.p : "";
	size_t len = x->body.len;
	int rc;

	if (x->p.req.compressed) {
		rc = spamd_inflate(msg, len, conn_limits(c)->max_size, &plain);
		if (rc) {
			reply_error(c, rc == 1 ? SPAMD_EX_DATAERR : SPAMD_EX_PROTOCOL,
			            rc == 1 ? "message too big" : "bad zlib stream");
			goto out;
		}
		msg = plain.p ? plain.p : "";
		len = plain.len;
	}
	if (x->p.req.cmd == SPAMD_TELL)
		tell(c, msg, len);
	else
		scan(c, msg, len);
out:
	sbuf_release(&plain);
}

/* A complete header: PING and SKIP are answered at once. */
static void on_request(conn *c)
{
	spamd_conn *x = conn_state(c);
	sbuf out = SBUF_INIT;

	x->start = ss_mono_s();
	if (x->p.req.cmd == SPAMD_PING) {
		if (!spamd_reply_pong(&out))
			send_and_finish(c, &out);
		sbuf_release(&out);
	} else if (x->p.req.cmd == SPAMD_SKIP) {
		x->done = 1;
		conn_finish(c);
	}
}

static void handle(conn *c, const spamd_event *ev)
{
	spamd_conn *x = conn_state(c);

	switch (ev->kind) {
	case SPAMD_EV_REQUEST:
		on_request(c);
		break;
	case SPAMD_EV_BODY:
		if (sbuf_add(&x->body, ev->p, ev->len))
			reply_error(c, SPAMD_EX_SOFTWARE, "out of memory");
		break;
	case SPAMD_EV_END:
		serve(c);
		break;
	case SPAMD_EV_ERROR:
		metrics_error_add(conn_door_metrics(c), METRICS_ERR_PROTOCOL);
		reply_error(c, ev->code, ev->text);
		break;
	default:
		break;
	}
}

static void sp_input(conn *c, const char *buf, size_t len)
{
	spamd_conn *x = conn_state(c);
	spamd_event ev;
	size_t off = 0;

	if (!x->done)
		conn_request_begin(c); /* one request per connection */
	while (!x->done) {
		off += spamd_feed(&x->p, buf + off, len - off, &ev);
		if (ev.kind == SPAMD_EV_NONE)
			return;
		handle(c, &ev);
	}
}

static void sp_eof(conn *c)
{
	spamd_conn *x = conn_state(c);
	spamd_event ev;

	if (x->done)
		return;
	spamd_eof(&x->p, &ev);
	if (ev.kind != SPAMD_EV_NONE)
		handle(c, &ev); /* a request cut short gets its error reply too */
}

/* The request took too long: EX_TIMEOUT, as spamd says it (the server
 * logs it and closes). */
static void sp_deadline(conn *c)
{
	spamd_conn *x = conn_state(c);
	sbuf out = SBUF_INIT;

	if (!spamd_reply_error(&out, SPAMD_EX_TIMEOUT, "request not complete in time"))
		conn_send(c, out.p, out.len);
	sbuf_release(&out);
	x->done = 1;
}

const door_ops door_spamd = {
    .name = "spamd",
    .state_size = sizeof(spamd_conn),
    .open = sp_open,
    .input = sp_input,
    .eof = sp_eof,
    .deadline = sp_deadline,
    .close = sp_close,
    .busy_reply = "SPAMD/1.0 75 EX_TEMPFAIL too many connections, try again later\r\n",
};
