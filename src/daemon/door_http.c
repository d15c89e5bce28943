/*
 * door_http.c: HTTP requests to engine calls and JSON replies, and the
 * metrics page (see door_http.h).
 */
#include "daemon/door_http.h"

#include <stdio.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/reports.h"
#include "daemon/web_api.h"
#include "proto/http.h"
#include "util/clock.h"
#include "util/json.h"

#define MAX_USER 128 /* bytes of an X-User name, as spamd's User */

typedef enum route {
	R_NONE,
	R_CHECK,
	R_LEARN_SPAM,
	R_LEARN_HAM,
	R_UNLEARN,
	R_REPORT,
	R_HEALTH,
	R_METRICS,
	R_WEB /* the web page and its API (web_api.h) */
} route;

static const struct {
	const char *path;
	route r;
	const char *allow;
} routes[] = {
    {"/check", R_CHECK, "POST"},          {"/learn/spam", R_LEARN_SPAM, "POST"},
    {"/learn/ham", R_LEARN_HAM, "POST"},  {"/unlearn", R_UNLEARN, "POST"},
    {"/report", R_REPORT, "POST"},        {"/health", R_HEALTH, "GET, HEAD"},
    {"/metrics", R_METRICS, "GET, HEAD"}, {"", R_WEB, "GET, HEAD, POST"},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

typedef struct http_conn {
	http_parser p;
	sbuf body;    /* the message as it arrives */
	unsigned ri;  /* index of the route in routes[] */
	int status;   /* 404 or 405, decided with the head, answered at the end */
	int closing;  /* a reply that closes the connection was queued */
	double start; /* when the head was complete */
} http_conn;

static void ht_open(conn *c)
{
	http_conn *x = conn_state(c);

	http_init(&x->p, conn_limits(c)->max_size);
	conn_set_idle(c, 1);
}

static void ht_close(conn *c)
{
	http_conn *x = conn_state(c);

	sbuf_release(&x->body);
}

static const char *header(const http_request *r, const char *name)
{
	size_t i = 0;
	const ss_str *v = http_header_next(r, name, &i);

	return v && v->len ? v->p : NULL;
}

static void log_request(conn *c, int status, const char *what)
{
	http_conn *x = conn_state(c);
	const http_request *r = &x->p.req;
	const char *user = header(r, "X-User");

	if (!r->method_text.p) { /* the parser refused the request line */
		log_msg(LOG_WARN, "http %s: %d %s", conn_peer(c), status, what);
		return;
	}
	log_msg(status >= 500 ? LOG_WARN : LOG_INFO,
	        "http %s %s %.*s%s%.*s: %d %s (%zu bytes, %.2f ms)", conn_peer(c), r->method_text.p,
	        (int)(r->path.len < 200 ? r->path.len : 200), r->path.p ? r->path.p : "",
	        user ? " user=" : "", user ? MAX_USER : 0, user ? user : "", status, what,
	        x->body.len, (ss_mono_s() - x->start) * 1e3);
}

/* Queues a response; closes the connection after it unless keep-alive
 * goes on. */
static void respond(conn *c, const http_response *resp)
{
	http_conn *x = conn_state(c);
	sbuf out = SBUF_INIT;
	http_response r = *resp;

	r.close = r.close || !x->p.req.keep_alive || conn_stopping(c);
	r.head_only = x->p.req.method == HTTP_HEAD;
	if (http_format(&out, &r) || conn_send(c, out.p, out.len))
		r.close = 1; /* out of memory: the client sees the close */
	sbuf_release(&out);
	if (r.close) {
		x->closing = 1;
		conn_finish(c);
	}
}

static void respond_json(conn *c, int status, const sbuf *body)
{
	http_response r = {status, "application/json", NULL, body->p, body->len, 0, 0};

	respond(c, &r);
}

/* An error reply; close: the connection cannot go on. */
static void respond_error(conn *c, int status, const char *text, int close)
{
	http_conn *x = conn_state(c);
	sbuf body = SBUF_INIT;
	char extra[64];
	http_response r = {status, "application/json", NULL, NULL, 0, close, 0};

	log_request(c, status, text);
	if (status == 405) {
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", routes[x->ri].allow);
		r.extra = extra;
	}
	r.close |= http_error_json(&body, status, text) != 0;
	r.body = body.p;
	r.len = body.len;
	respond(c, &r);
	sbuf_release(&body);
}

/* An engine error: the message is not mail (422), or we failed (500). */
static void engine_failed(conn *c, int err)
{
	int refused = err == SS_EEMPTY || err == SS_ENOTMAIL || err == SS_EBINARY;

	respond_error(c, refused ? 422 : 500, ss_strerror(err), !refused);
}

/* ---- the routes ---- */

/* X-Rcpt-To fields, each a comma-separated list, to NUL-terminated
 * strings in a. Returns how many, or -1 when out of memory. */
static long recipients(const http_request *r, ss_arena *a, const char ***out)
{
	size_t i = 0, n = 0, cap = 0;
	const ss_str *v;
	const char **list;

	while ((v = http_header_next(r, "X-Rcpt-To", &i)))
		for (size_t k = 0, cap1 = 1; k <= v->len; k++, cap += cap1, cap1 = 0)
			cap += k < v->len && v->p[k] == ',';
	if (!(list = arena_calloc(a, cap + 1, sizeof(*list))))
		return -1;
	for (i = 0; (v = http_header_next(r, "X-Rcpt-To", &i));) {
		for (const char *s = v->p, *end = v->p + v->len; s <= end && n < cap;) {
			const char *comma = memchr(s, ',', (size_t)(end - s)),
			           *e = comma ? comma : end;
			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e > s && !(list[n++] = arena_strndup(a, s, (size_t)(e - s))))
				return -1;
			s = (comma ? comma : end) + 1;
		}
	}
	*out = list;
	return (long)n;
}

/* {"points":P,"required":T, then the engine's own rendering, and the
 * scan's id in the history when it was recorded. */
static int check_json(const engine_result *res, uint64_t hid, sbuf *b)
{
	sbuf eng = SBUF_INIT;
	int err = engine_result_json(res, NULL, &eng);

	if (!err)
		err =
		    sbuf_addf(b, "{\"points\":%.4f,\"required\":%.4f,", res->score, res->required);
	if (!err)
		err = sbuf_add(b, eng.p + 1, eng.len - 2); /* without its braces */
	if (!err && hid)
		err = sbuf_addf(b, ",\"history_id\":%llu", (unsigned long long)hid);
	if (!err)
		err = sbuf_adds(b, "}\n");
	sbuf_release(&eng);
	return err;
}

static void serve_check(conn *c, const char *user)
{
	http_conn *x = conn_state(c);
	const http_request *r = &x->p.req;
	engine_envelope env = {header(r, "X-Client-IP"), header(r, "X-Helo"),
	                       header(r, "X-Mail-From"), NULL, 0};
	const char **rcpts = NULL;
	ss_arena a;
	engine_result res;
	sbuf out = SBUF_INIT;
	char what[96];
	long n;
	int err;

	arena_init(&a);
	if ((n = recipients(r, &a, &rcpts)) < 0) {
		engine_failed(c, SS_ENOMEM);
		goto out;
	}
	env.rcpts = rcpts;
	env.nrcpts = (size_t)n;
	err = conn_scan(c, user, &env, x->body.p ? x->body.p : "", x->body.len, &a, &res);
	if (!err)
		err = check_json(&res, conn_history_id(c), &out);
	if (err) {
		engine_failed(c, err);
		goto out;
	}
	snprintf(what, sizeof(what), "%s %.2f/%.2f %s", res.is_spam ? "spam" : "ham", res.score,
	         res.required, engine_action_name(res.action));
	log_request(c, 200, what);
	respond_json(c, 200, &out);
out:
	sbuf_release(&out);
	arena_release(&a);
}

static const char *learned_name(engine_learned w)
{
	return w == ENGINE_LEARNED     ? "learned"
	       : w == ENGINE_MOVED     ? "moved"
	       : w == ENGINE_UNLEARNED ? "unlearned"
	                               : "unchanged";
}

static void serve_feedback(conn *c, const char *user, route rt)
{
	http_conn *x = conn_state(c);
	const char *msg = x->body.p ? x->body.p : "";
	engine_learned w = ENGINE_UNCHANGED;
	sbuf out = SBUF_INIT;
	int err;

	if (rt == R_UNLEARN)
		err = conn_unlearn(c, user, msg, x->body.len, &w);
	else
		err = conn_learn(c, user, rt == R_LEARN_SPAM, msg, x->body.len, &w);
	if (err) {
		engine_failed(c, err);
		return;
	}
	err = sbuf_addf(&out, "{\"result\":\"%s\"", learned_name(w));
	if (!err && rt != R_UNLEARN)
		err = sbuf_addf(&out, ",\"class\":\"%s\"", rt == R_LEARN_SPAM ? "spam" : "ham");
	if (!err && user) {
		err = sbuf_adds(&out, ",");
		if (!err)
			err = json_kv_str(&out, "user", user, strlen(user));
	}
	if (!err)
		err = sbuf_adds(&out, "}\n");
	if (err) {
		engine_failed(c, err);
	} else {
		log_request(c, 200, learned_name(w));
		respond_json(c, 200, &out);
	}
	sbuf_release(&out);
}

/* A JSON member "key":"value", or "key":null for an empty value. */
static int kv_or_null(sbuf *b, const char *key, const char *v)
{
	int err = sbuf_addc(b, ',');

	if (!err && v && *v)
		return json_kv_str(b, key, v, strlen(v));
	return err ? err : sbuf_addf(b, "\"%s\":null", key);
}

/* {"result":...,"class":"spam","stored":true, the origin, "arf":TEXT}. */
static int report_json(const report_out *o, engine_learned w, const char *user, sbuf *b)
{
	int err =
	    sbuf_addf(b, "{\"result\":\"%s\",\"class\":\"spam\",\"stored\":true", learned_name(w));

	if (!err && user)
		err = kv_or_null(b, "user", user);
	if (!err)
		err = kv_or_null(b, "sha256", o->ev.sha256);
	if (!err)
		err = kv_or_null(b, "source_ip", o->ev.ip);
	if (!err)
		err = kv_or_null(b, "network", o->ev.network);
	if (!err)
		err = kv_or_null(b, "country", o->ev.country);
	if (!err)
		err = kv_or_null(b, "contact", o->to);
	if (!err && !(err = sbuf_addc(b, ',')))
		err = json_kv_str(b, "arf", o->arf.p ? o->arf.p : "", o->arf.len);
	return err ? err : sbuf_adds(b, "}\n");
}

/* POST /report: learned as spam, stored as evidence, the ARF returned. */
static void serve_report(conn *c, const char *user)
{
	http_conn *x = conn_state(c);
	const char *msg = x->body.p ? x->body.p : "";
	engine_learned w = ENGINE_UNCHANGED;
	report_out o = {0};
	sbuf out = SBUF_INIT;
	char why[600];
	ss_arena a;
	int err;

	if (!reports_enabled(conn_config(c))) {
		respond_error(c, 501, "reports are off (no evidence store configured)", 0);
		return;
	}
	arena_init(&a);
	if ((err = conn_learn(c, user, 1, msg, x->body.len, &w))) {
		engine_failed(c, err);
		goto out;
	}
	err = reports_make(conn_config(c), user, msg, x->body.len, &a, &o, why, sizeof(why));
	if (!err)
		err = report_json(&o, w, user, &out);
	if (err) {
		log_msg(LOG_WARN, "http %s: report: %s", conn_peer(c), why);
		engine_failed(c, err == SS_ESYNTAX || err == SS_EIO ? SS_EIO : err);
		goto out;
	}
	log_request(c, 200, o.to ? o.to : "reported, no contact");
	respond_json(c, 200, &out);
out:
	reports_release(&o);
	sbuf_release(&out);
	arena_release(&a);
}

static void serve_health(conn *c)
{
	sbuf out = SBUF_INIT;

	if (sbuf_addf(&out, "{\"status\":\"ok\",\"version\":\"%s\",\"stopping\":%s}\n", SS_VERSION,
	              conn_stopping(c) ? "true" : "false")) {
		engine_failed(c, SS_ENOMEM);
	} else {
		log_request(c, 200, "ok");
		respond_json(c, 200, &out);
	}
	sbuf_release(&out);
}

/* The history writer's counters (web_api.h), when it runs. */
static int history_metrics(conn *c, sbuf *out)
{
	history_writer *w = conn_history_writer(c);

	if (!w)
		return 0;
	return sbuf_addf(out,
	                 "# HELP spamsift_history_written_total Scans recorded in the history.\n"
	                 "# TYPE spamsift_history_written_total counter\n"
	                 "spamsift_history_written_total %llu\n"
	                 "# HELP spamsift_history_dropped_total Scans not recorded: the history's "
	                 "queue was full, or the store failed.\n"
	                 "# TYPE spamsift_history_dropped_total counter\n"
	                 "spamsift_history_dropped_total %llu\n"
	                 "# HELP spamsift_history_write_errors_total History commits that failed.\n"
	                 "# TYPE spamsift_history_write_errors_total counter\n"
	                 "spamsift_history_write_errors_total %llu\n",
	                 (unsigned long long)history_writer_written(w),
	                 (unsigned long long)history_writer_drops(w),
	                 (unsigned long long)history_writer_errors(w));
}

static void serve_metrics(conn *c)
{
	sbuf out = SBUF_INIT;
	http_response r = {200, "text/plain; version=0.0.4; charset=utf-8", NULL, NULL, 0, 0, 0};

	if (metrics_render(conn_metrics(c), &out) || history_metrics(c, &out)) {
		engine_failed(c, SS_ENOMEM);
	} else {
		r.body = out.p;
		r.len = out.len;
		log_request(c, 200, "metrics");
		respond(c, &r);
	}
	sbuf_release(&out);
}

/* Sends a web_api reply (and logs it). */
static void send_web(conn *c, web_reply *w)
{
	http_response r = {w->status,
	                   w->type,
	                   w->extra[0] ? w->extra : NULL,
	                   w->fixed ? (const char *)w->fixed : w->body.p,
	                   w->fixed ? w->fixed_len : w->body.len,
	                   0,
	                   0};
	char what[200];

	snprintf(what, sizeof(what), "%.96s%s%.64s", w->what, w->who[0] ? " by " : "", w->who);
	log_request(c, w->status, what);
	respond(c, &r);
}

static void serve_web(conn *c)
{
	http_conn *x = conn_state(c);
	web_reply w;

	memset(&w, 0, sizeof(w));
	web_serve(c, &x->p.req, x->body.p ? x->body.p : "", x->body.len, &w);
	send_web(c, &w);
	sbuf_release(&w.body);
}

/* With users configured, the message routes ask for a login too: /check
 * the read role, the rest admin. Returns 1 when the request may go on
 * (else the 401 or 403 is sent). */
static int authorized(conn *c, route rt)
{
	http_conn *x = conn_state(c);
	web_reply w;
	int ok;

	if (rt == R_HEALTH || rt == R_METRICS || !conn_config(c)->nhttp_user)
		return 1;
	memset(&w, 0, sizeof(w));
	ok = web_authorize(c, &x->p.req, rt == R_CHECK ? WEB_READ : WEB_ADMIN, &w);
	if (!ok)
		send_web(c, &w);
	sbuf_release(&w.body);
	return ok;
}

/* The whole request is in: answer it. */
static void serve(conn *c)
{
	http_conn *x = conn_state(c);
	route rt = routes[x->ri].r;
	const char *user = header(&x->p.req, "X-User");

	if (x->status)
		respond_error(c, x->status,
		              x->status == 404 ? "no such path" : "method not allowed", 0);
	else if (rt == R_WEB)
		serve_web(c);
	else if (!authorized(c, rt))
		return;
	else if (user && strlen(user) > MAX_USER)
		respond_error(c, 400, "X-User is too long", 0);
	else if (rt == R_CHECK)
		serve_check(c, user);
	else if (rt == R_HEALTH)
		serve_health(c);
	else if (rt == R_METRICS)
		serve_metrics(c);
	else if (rt == R_REPORT)
		serve_report(c, user);
	else
		serve_feedback(c, user, rt);
}

static int takes_body(const http_conn *x)
{
	if (routes[x->ri].r == R_WEB)
		return x->p.req.method == HTTP_POST;
	return routes[x->ri].allow[0] == 'P';
}

/* The head is complete: find the route; answer 100 Continue when the
 * client waits for it, or the error at once (and close) if it waits in vain. */
static void on_request(conn *c)
{
	http_conn *x = conn_state(c);
	const http_request *r = &x->p.req;
	unsigned i = 0;
	int allowed;

	x->start = ss_mono_s();
	x->status = 0;
	sbuf_reset(&x->body);
	while (i < NROUTES && (strlen(routes[i].path) != r->path.len ||
	                       memcmp(routes[i].path, r->path.p, r->path.len)))
		i++;
	if (i == NROUTES && web_path(&r->path))
		i = NROUTES - 1; /* R_WEB */
	x->ri = i < NROUTES ? i : 0;
	allowed = routes[x->ri].r == R_WEB
	              ? r->method == HTTP_POST || r->method == HTTP_GET || r->method == HTTP_HEAD
	          : takes_body(x) ? r->method == HTTP_POST
	                          : r->method == HTTP_GET || r->method == HTTP_HEAD;
	x->status = i == NROUTES ? 404 : !allowed ? 405 : 0;
	if (!r->expect_continue)
		return;
	if (x->status) {
		respond_error(c, x->status,
		              x->status == 404 ? "no such path" : "method not allowed", 1);
		return;
	}
	conn_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
}

static void handle(conn *c, const http_event *ev)
{
	http_conn *x = conn_state(c);

	switch (ev->kind) {
	case HTTP_EV_REQUEST:
		on_request(c);
		break;
	case HTTP_EV_BODY:
		if (!x->status && takes_body(x) && sbuf_add(&x->body, ev->p, ev->len))
			respond_error(c, 500, "out of memory", 1);
		break;
	case HTTP_EV_END:
		serve(c);
		conn_request_end(c);
		if (!x->closing) {
			http_next(&x->p);
			sbuf_reset(&x->body);
		}
		break;
	case HTTP_EV_ERROR:
		metrics_error_add(conn_door_metrics(c), METRICS_ERR_PROTOCOL);
		respond_error(c, ev->status, ev->text, 1);
		break;
	default:
		break;
	}
}

static void ht_input(conn *c, const char *buf, size_t len)
{
	http_conn *x = conn_state(c);
	http_event ev;
	size_t off = 0;

	if (!x->closing)
		conn_request_begin(c); /* bytes of a request, new or going on */
	while (!x->closing) {
		off += http_feed(&x->p, buf + off, len - off, &ev);
		if (ev.kind == HTTP_EV_NONE)
			break;
		handle(c, &ev);
	}
	conn_set_idle(c, !x->closing && http_idle(&x->p));
	if (x->closing)
		return;
	if (http_idle(&x->p))
		conn_request_end(c); /* only blank lines between requests */
	else
		conn_request_begin(c); /* the next one began in this read */
}

static void ht_eof(conn *c)
{
	http_conn *x = conn_state(c);
	http_event ev;

	if (x->closing)
		return;
	http_eof(&x->p, &ev);
	if (ev.kind != HTTP_EV_NONE)
		handle(c, &ev); /* a request cut short gets its error reply */
	else
		conn_finish(c); /* send what is queued, then close */
}

/* The request took too long: 408 and close (the server logs it). */
static void ht_deadline(conn *c)
{
	sbuf body = SBUF_INIT;
	http_response r = {408, "application/json", NULL, NULL, 0, 1, 0};

	if (!http_error_json(&body, 408, "request not complete in time")) {
		r.body = body.p;
		r.len = body.len;
	}
	respond(c, &r);
	sbuf_release(&body);
}

const door_ops door_http = {
    .name = "http",
    .state_size = sizeof(http_conn),
    .open = ht_open,
    .input = ht_input,
    .eof = ht_eof,
    .deadline = ht_deadline,
    .close = ht_close,
    .busy_reply =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
};
