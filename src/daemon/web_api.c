/*
 * web_api.c: the web page's files, login and JSON API (see web_api.h and
 * docs/WEB.md).
 */
#include "daemon/web_api.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/reports.h"
#include "engine/checks.h"
#include "fpd/client.h"
#include "report/evidence.h"
#include "store/redis_url.h"
#include "util/json.h"
#include "web/assets.h"

#define MAX_FORM 1024 /* bytes of one decoded form or query field */
#define STATS_SPAN_DEFAULT 86400

/* Who is asking. */
typedef struct who {
	web_role role;
	char name[WEB_MAX_NAME + 1];
	int bearer; /* authenticated by a token: no CSRF header needed */
} who;

static int64_t unix_now(void)
{
	return (int64_t)time(NULL);
}

static int64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int path_is(const ss_str *p, const char *s)
{
	return p->len == strlen(s) && !memcmp(p->p, s, p->len);
}

static int path_starts(const ss_str *p, const char *s)
{
	return p->len >= strlen(s) && !memcmp(p->p, s, strlen(s));
}

static const web_asset *asset(const ss_str *path)
{
	for (const web_asset *a = web_assets; a->path; a++)
		if (path_is(path, a->path))
			return a;
	return NULL;
}

int web_path(const ss_str *path)
{
	return asset(path) || path_is(path, "/login") || path_is(path, "/logout") ||
	       path_starts(path, "/api/");
}

static const char *header(const http_request *r, const char *name, size_t *len)
{
	size_t i = 0;
	const ss_str *v = http_header_next(r, name, &i);

	if (len)
		*len = v ? v->len : 0;
	return v && v->len ? v->p : NULL;
}

/* ---- replies ---- */

static void reply_json(web_reply *o, int status, const char *what)
{
	o->status = status;
	o->type = "application/json";
	snprintf(o->what, sizeof(o->what), "%.*s", (int)sizeof(o->what) - 1, what);
}

static void reply_error(web_reply *o, int status, const char *text)
{
	sbuf_reset(&o->body);
	if (http_error_json(&o->body, status, text))
		status = 500;
	reply_json(o, status, text);
}

/* ---- who is asking ---- */

static void find_who(conn *c, const http_request *r, who *w)
{
	const config *conf = conn_config(c);
	size_t len;
	const char *v;

	memset(w, 0, sizeof(*w));
	w->role = WEB_NONE;
	if (!conf->nhttp_user) { /* loopback only (config_check): open */
		w->role = WEB_ADMIN;
		return;
	}
	if ((v = header(r, "Authorization", &len)) && len > 7 && !strncasecmp(v, "Bearer ", 7)) {
		w->role =
		    web_check_token(conf->http_user, conf->nhttp_user, v + 7, len - 7, w->name);
		w->bearer = w->role != WEB_NONE;
		return;
	}
	if ((v = header(r, "Cookie", &len)) && conn_sessions(c)) {
		const char *id;
		size_t idlen;
		if (web_cookie_get(v, len, WEB_COOKIE, &id, &idlen))
			w->role = web_session_get(conn_sessions(c), id, idlen, unix_now(), w->name);
		if (w->role != WEB_NONE) { /* a reload may have removed or changed the user */
			web_role now = web_user_role(conf->http_user, conf->nhttp_user, w->name);
			w->role = now < w->role ? now : w->role;
		}
	}
}

static int allowed(const who *w, web_role need, web_reply *o)
{
	snprintf(o->who, sizeof(o->who), "%s", w->name);
	if (w->role == WEB_NONE) {
		reply_error(o, 401,
		            "log in first (POST /login or Authorization: Bearer NAME:SECRET)");
		return 0;
	}
	if (w->role < need) {
		reply_error(o, 403, "this needs the admin role");
		return 0;
	}
	return 1;
}

int web_authorize(conn *c, const http_request *r, web_role need, web_reply *o)
{
	who w;

	find_who(c, r, &w);
	return allowed(&w, need, o);
}

/* A state-changing request from a browser must carry X-Spamsift (a form
 * on another site cannot set it without a CORS preflight, which is never
 * granted): SameSite=Strict's second line of defence, and the only one
 * on an open loopback door. */
static int csrf_ok(const http_request *r, const who *w, web_reply *o)
{
	if (w->bearer || header(r, "X-Spamsift", NULL))
		return 1;
	reply_error(o, 403, "browser requests need the X-Spamsift header");
	return 0;
}

/* ---- login ---- */

/* The client's address without its port ("192.0.2.7", "[2001:db8::1]",
 * "unix"): what failed logins are counted by. */
static void client_of(const char *peer, char *out, size_t cap)
{
	const char *end = peer[0] == '[' ? strchr(peer, ']') : strrchr(peer, ':');
	size_t n = end ? (size_t)(end - peer) + (peer[0] == '[') : strlen(peer);

	snprintf(out, cap, "%.*s", (int)n, peer);
}

static void serve_login(conn *c, const http_request *r, const char *body, size_t len, web_reply *o)
{
	const config *conf = conn_config(c);
	char name[WEB_MAX_NAME + 1], pass[WEB_MAX_SECRET + 1], id[WEB_SESSION_ID + 1];
	char client[64];
	long nl = web_form_get(body, len, "user", name, sizeof(name));
	long pl = web_form_get(body, len, "password", pass, sizeof(pass));
	web_role role;
	who w = {WEB_NONE, "", 0};

	if (!csrf_ok(r, &w, o))
		return;
	if (!conf->nhttp_user) {
		reply_error(o, 400, "no users are configured: the page is open on loopback");
		return;
	}
	if (nl <= 0 || pl <= 0) {
		reply_error(o, 400, "give the user and password form fields");
		return;
	}
	client_of(conn_peer(c), client, sizeof(client));
	if (!conn_sessions(c) || !web_login_allowed(conn_sessions(c), client, unix_now())) {
		sodium_memzero(pass, sizeof(pass));
		reply_error(o, 429, "too many failed logins from this address: wait a minute");
		return;
	}
	role = web_check_password(conf->http_user, conf->nhttp_user, name, (size_t)nl, pass,
	                          (size_t)pl);
	sodium_memzero(pass, sizeof(pass));
	snprintf(o->who, sizeof(o->who), "%s", name);
	if (role == WEB_NONE || web_session_new(conn_sessions(c), name, role, unix_now(), id)) {
		web_login_failed(conn_sessions(c), client, unix_now());
		reply_error(o, 401, "wrong user or password");
		return;
	}
	snprintf(o->extra, sizeof(o->extra),
	         "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d\r\n"
	         "Cache-Control: no-store\r\n",
	         WEB_COOKIE, id, WEB_SESSION_TTL);
	sodium_memzero(id, sizeof(id));
	if (sbuf_adds(&o->body, "{\"user\":") || json_str(&o->body, name, (size_t)nl) ||
	    sbuf_addf(&o->body, ",\"role\":\"%s\"}\n", web_role_name(role)))
		reply_error(o, 500, "out of memory");
	else
		reply_json(o, 200, "logged in");
}

static void serve_logout(conn *c, const http_request *r, web_reply *o)
{
	size_t len, idlen;
	const char *v = header(r, "Cookie", &len), *id;
	who w = {WEB_NONE, "", 0};

	if (!csrf_ok(r, &w, o))
		return;
	if (v && conn_sessions(c) && web_cookie_get(v, len, WEB_COOKIE, &id, &idlen))
		web_session_end(conn_sessions(c), id, idlen);
	snprintf(o->extra, sizeof(o->extra),
	         "Set-Cookie: %s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n", WEB_COOKIE);
	if (sbuf_adds(&o->body, "{\"result\":\"logged out\"}\n"))
		reply_error(o, 500, "out of memory");
	else
		reply_json(o, 200, "logged out");
}

static void serve_whoami(conn *c, const who *w, web_reply *o)
{
	const config *conf = conn_config(c);
	int err = sbuf_adds(&o->body, "{\"user\":");

	if (!err)
		err = json_str(&o->body, w->name, strlen(w->name));
	if (!err)
		err = sbuf_addf(&o->body, ",\"role\":\"%s\",\"login\":%s,\"version\":\"%s\"}\n",
		                web_role_name(w->role), conf->nhttp_user ? "true" : "false",
		                SS_VERSION);
	if (err)
		reply_error(o, 500, "out of memory");
	else
		reply_json(o, 200, "whoami");
}

/* ---- history ---- */

/* A query field as a number; 0 when absent, -1 when not a number. */
static int query_num(const ss_str *q, const char *key, double *out)
{
	char buf[64], *end;
	long n = web_form_get(q->p ? q->p : "", q->len, key, buf, sizeof(buf));

	if (n == -1)
		return 0;
	if (n <= 0)
		return -1;
	errno = 0;
	*out = strtod(buf, &end);
	return errno || *end || !isfinite(*out) ? -1 : 1;
}

static int action_of(const char *s)
{
	return !strcmp(s, "no_action") || !strcmp(s, "no action")     ? ENGINE_NO_ACTION
	       : !strcmp(s, "add_header") || !strcmp(s, "add header") ? ENGINE_ADD_HEADER
	       : !strcmp(s, "reject")                                 ? ENGINE_REJECT
	                                                              : -2;
}

/* Reads the list's query string into q (text in qtext); 0 or -1. */
static int parse_query(const ss_str *qs, history_query *q, char *qtext, size_t cap)
{
	char act[32];
	double v;
	int rc;
	long n;

	q->limit = 50;
	q->action = -1;
	q->min = -HUGE_VAL;
	q->max = HUGE_VAL;
	if ((rc = query_num(qs, "limit", &v)) < 0 || (rc && (v < 1 || v > HISTORY_MAX_LIMIT)))
		return -1;
	q->limit = rc ? (size_t)v : q->limit;
	if ((rc = query_num(qs, "before", &v)) < 0 || (rc && (v < 0 || v > 1e18)))
		return -1;
	q->before = rc ? (uint64_t)v : 0;
	if ((rc = query_num(qs, "min", &v)) < 0 || (rc && (q->min = v, 0)))
		return -1;
	if ((rc = query_num(qs, "max", &v)) < 0 || (rc && (q->max = v, 0)))
		return -1;
	if ((rc = query_num(qs, "since", &v)) < 0 || (rc && (v < 0 || v > 1e15)))
		return -1;
	q->since_ms = rc ? (int64_t)v : 0;
	n = web_form_get(qs->p ? qs->p : "", qs->len, "action", act, sizeof(act));
	if (n == -2 || (n > 0 && (q->action = action_of(act)) == -2))
		return -1;
	n = web_form_get(qs->p ? qs->p : "", qs->len, "q", qtext, cap);
	if (n == -2)
		return -1;
	q->q = n > 0 ? qtext : NULL;
	return 0;
}

static void serve_list(conn *c, const http_request *r, web_reply *o)
{
	history *h = conn_history(c);
	history_query q;
	char qtext[HISTORY_MAX_QUERY + 1];
	int err;

	if (!h) {
		reply_error(o, 501, "no history is kept (history = 0, or no http listener)");
		return;
	}
	if (parse_query(&r->query, &q, qtext, sizeof(qtext))) {
		reply_error(o, 400,
		            "bad query: limit 1-500, before an id, action no_action, add_header or "
		            "reject, min/max/since numbers, q up to 256 bytes");
		return;
	}
	if ((err = h->ops->list(h, &q, &o->body)) == SS_EIO)
		reply_error(o, 503, "the history is unavailable (its store does not answer)");
	else if (err || sbuf_addc(&o->body, '\n'))
		reply_error(o, 500, ss_strerror(err ? err : SS_ENOMEM));
	else
		reply_json(o, 200, "history");
}

/* "/api/history/ID[/ACTION]": the id and the action (NULL: none). */
static int entry_path(const ss_str *path, uint64_t *id, const char **act, size_t *alen)
{
	const char *p = path->p + 13, *end = path->p + path->len; /* after "/api/history/" */
	uint64_t v = 0;
	int digits = 0;

	for (; p < end && *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (!digits || !v)
		return -1;
	*id = v;
	*act = NULL;
	*alen = 0;
	if (p == end)
		return 0;
	if (*p != '/' || p + 1 == end)
		return -1;
	*act = p + 1;
	*alen = (size_t)(end - p - 1);
	return 0;
}

static void serve_entry(conn *c, uint64_t id, web_reply *o)
{
	history *h = conn_history(c);
	int rc;

	if (!h) {
		reply_error(o, 501, "no history is kept");
		return;
	}
	rc = h->ops->get(h, id, &o->body);
	if (rc == 1)
		reply_error(o, 404, "no such entry (or no longer kept)");
	else if (rc || sbuf_addc(&o->body, '\n'))
		reply_error(o, 500, ss_strerror(rc ? rc : SS_ENOMEM));
	else
		reply_json(o, 200, "entry");
}

static const char *learned_word(engine_learned w)
{
	return w == ENGINE_LEARNED     ? "learned"
	       : w == ENGINE_MOVED     ? "moved"
	       : w == ENGINE_UNLEARNED ? "unlearned"
	                               : "unchanged";
}

/* Learns, unlearns or reports msg; fills the reply's body. 0 or an error. */
static int act_on(conn *c, int kind, const char *user, const sbuf *msg, web_reply *o,
                  const char **fb)
{
	engine_learned w = ENGINE_UNCHANGED;
	report_out ro = {0};
	char why[600];
	ss_arena a;
	int err;

	if (kind == 2) {
		*fb = "unlearned";
		err = conn_unlearn(c, user, msg->p, msg->len, &w);
	} else {
		*fb = kind == 1 ? "spam" : kind == 3 ? "reported" : "ham";
		err = conn_learn(c, user, kind != 0, msg->p, msg->len, &w);
	}
	if (err || kind != 3)
		return err ? err : sbuf_addf(&o->body, "{\"result\":\"%s\"", learned_word(w));
	arena_init(&a);
	err = reports_make(conn_config(c), user, msg->p, msg->len, &a, &ro, why, sizeof(why));
	if (!err)
		err = sbuf_addf(&o->body, "{\"result\":\"%s\",\"contact\":", learned_word(w)) ||
		      (ro.to ? json_str(&o->body, ro.to, strlen(ro.to))
		             : sbuf_adds(&o->body, "null"));
	reports_release(&ro);
	arena_release(&a);
	return err;
}

static void serve_action(conn *c, uint64_t id, const char *act, size_t alen, web_reply *o)
{
	static const char *const names[] = {"learn-ham", "learn-spam", "unlearn", "report"};
	history *h = conn_history(c);
	char user[HISTORY_MAX_USER + 2];
	sbuf msg = SBUF_INIT;
	const char *fb = NULL;
	int kind = -1, rc;

	for (int i = 0; i < 4; i++)
		if (alen == strlen(names[i]) && !memcmp(act, names[i], alen))
			kind = i;
	if (kind < 0 || !h) {
		reply_error(o, 404, kind < 0 ? "no such action" : "no history is kept");
		return;
	}
	if (kind == 3 && !reports_enabled(conn_config(c))) {
		reply_error(o, 501, "reports are off (no evidence store configured)");
		return;
	}
	if ((rc = h->ops->raw(h, id, &msg, user, sizeof(user))) == 1) {
		reply_error(o, 410, "the message's bytes are no longer kept (history_raw_mb)");
	} else if (rc || !msg.p) {
		reply_error(o, rc ? 500 : 422, rc ? ss_strerror(rc) : "empty message");
	} else if ((rc = act_on(c, kind, user[0] ? user : NULL, &msg, o, &fb))) {
		reply_error(o, rc == SS_ENOMEM ? 500 : 422, ss_strerror(rc));
	} else if ((rc = h->ops->feedback(h, id, fb)) < 0 ||
	           sbuf_addf(&o->body, ",\"id\":%llu,\"feedback\":\"%s\"}\n",
	                     (unsigned long long)id, fb)) {
		reply_error(o, 500, "feedback not recorded");
	} else {
		reply_json(o, 200, names[kind]);
	}
	sbuf_release(&msg);
}

/* ---- statistics ---- */

static int on_evidence(void *ctx, const evidence_rec *r)
{
	return evidence_stats_add(ctx, r);
}

/* "reports": counts by origin from the evidence store, or null. */
static int reports_json(const config *conf, int64_t since, sbuf *out)
{
	evidence_stats s;
	int err;

	if (!conf->evidence)
		return sbuf_adds(out, ",\"reports\":null");
	evidence_stats_init(&s, since, 0);
	err = evidence_scan(conf->evidence, on_evidence, &s, &s.skipped);
	evidence_stats_sort(&s);
	if (!err)
		err = sbuf_adds(out, ",\"reports\":");
	if (!err)
		err = evidence_stats_json(&s, out);
	if (!err && out->len && out->p[out->len - 1] == '\n')
		out->len--;
	evidence_stats_release(&s);
	return err;
}

static void serve_stats(conn *c, const http_request *r, web_reply *o)
{
	history *h = conn_history(c);
	double span = STATS_SPAN_DEFAULT;
	int64_t now = unix_ms();
	int rc = query_num(&r->query, "span", &span), err;

	if (!h) {
		reply_error(o, 501, "no history is kept");
		return;
	}
	if (rc < 0 || span < 60 || span > 366 * 86400.0) {
		reply_error(o, 400, "span: seconds, from 60 to a year");
		return;
	}
	err = history_stats_json(h, now, (int64_t)(span * 1000), &o->body);
	if (!err) {
		o->body.len--; /* reopen the object */
		err = reports_json(conn_config(c), (now - (int64_t)(span * 1000)) / 1000, &o->body);
	}
	if (!err)
		err = sbuf_adds(&o->body, "}\n");
	if (err)
		reply_error(o, 500, ss_strerror(err));
	else
		reply_json(o, 200, "stats");
}

/* ---- status ---- */

static int kv_s(sbuf *b, const char *key, const char *v)
{
	int err = sbuf_addc(b, ',');

	if (!err && v)
		return json_kv_str(b, key, v, strlen(v));
	return err ? err : sbuf_addf(b, "\"%s\":null", key);
}

static int list_json(sbuf *b, const char *key, char *const *v, size_t n)
{
	int err = sbuf_addf(b, ",\"%s\":[", key);

	for (size_t i = 0; !err && i < n; i++) {
		if (i)
			err = sbuf_addc(b, ',');
		if (!err)
			err = json_str(b, v[i], strlen(v[i]));
	}
	return err ? err : sbuf_addc(b, ']');
}

/* The users as "NAME:ROLE": their secrets never leave the daemon. */
static int users_json(sbuf *b, const config *c)
{
	int err = sbuf_adds(b, ",\"http_user\":[");

	for (size_t i = 0; !err && i < c->nhttp_user; i++) {
		const char *u = c->http_user[i], *c2 = strchr(strchr(u, ':') + 1, ':');
		if (i)
			err = sbuf_addc(b, ',');
		if (!err)
			err = json_str(b, u, (size_t)(c2 - u));
	}
	return err ? err : sbuf_addc(b, ']');
}

/* Room for a masked URL: the user, every sentinel, the service. */
#define REDIS_MASKED                                                                               \
	(REDIS_URL_SECRET + REDIS_URL_SENTINELS * (REDIS_URL_HOST + 10) + REDIS_URL_SERVICE + 64)

/* HOST:PORT of a URL, with brackets for IPv6, at out (cap > 0). */
static size_t host_port(char *out, size_t cap, const char *host, int port)
{
	int v6 = strchr(host, ':') != NULL,
	    n = snprintf(out, cap, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* A Redis URL without its password, "redis://[USER:]***@HOST:PORT/DB"
 * (rediss://, and the Sentinel forms with every sentinel and the
 * service), into out; "(hidden)" when it does not parse. */
static const char *redis_mask(const char *url, char *out, size_t len)
{
	const char *why, *at;
	char hosts[REDIS_URL_SENTINELS * (REDIS_URL_HOST + 10)];
	size_t o = 0;
	redis_url u;

	if (redis_url_parse(url, strlen(url), &u, &why)) {
		snprintf(out, len, "(hidden)");
		return out;
	}
	if (!u.service[0])
		host_port(hosts, sizeof(hosts), u.host, u.port);
	for (int i = 0; i < u.nsentinels; i++) {
		if (i)
			hosts[o++] = ',';
		o +=
		    host_port(hosts + o, sizeof(hosts) - o, u.sentinel[i].host, u.sentinel[i].port);
	}
	at = u.user[0] || u.pass[0] ? "***@" : "";
	snprintf(out, len, "%s%s://%s%s%s%s/%s%s%d", u.tls ? "rediss" : "redis",
	         u.service[0] ? "+sentinel" : "", u.user, u.user[0] ? ":" : "", at, hosts,
	         u.service, u.service[0] ? "/" : "", u.db);
	sodium_memzero(&u, sizeof(u));
	return out;
}

static int redis_kv(sbuf *b, const char *key, const char *url)
{
	char m[REDIS_MASKED];

	return kv_s(b, key, url ? redis_mask(url, m, sizeof(m)) : NULL);
}

/* The Redis settings, URLs without their passwords. */
static int redis_config_json(sbuf *b, const config *c)
{
	char m[REDIS_MASKED];
	int err = redis_kv(b, "redis", c->redis) || sbuf_adds(b, ",\"redis_seeds\":[");

	for (size_t i = 0; !err && i < c->nredis_seeds; i++) {
		redis_mask(c->redis_seeds[i], m, sizeof(m));
		err = (i && sbuf_addc(b, ',')) || json_str(b, m, strlen(m));
	}
	return err || sbuf_addc(b, ']') || redis_kv(b, "redis_replica", c->redis_replica) ||
	       kv_s(b, "redis_password_file", c->redis_password_file) ||
	       kv_s(b, "redis_journal", c->redis_journal) ||
	       sbuf_addf(b,
	                 ",\"redis_cache\":%g,\"redis_timeout\":%g,\"redis_journal_size\":%zu"
	                 ",\"redis_user_cache\":%zu,\"redis_user_wait\":%g",
	                 c->redis_cache, c->redis_timeout, c->redis_journal_size,
	                 c->redis_user_cache, c->redis_user_wait);
}

/* The configuration in force. Secrets are left out: http_user lines show
 * name and role only; fp_key is a path (the key stays in its file); Redis
 * URLs lose their passwords. */
static int config_json(sbuf *b, const config *c, const char *db)
{
	int err = sbuf_adds(b, ",\"config\":{\"db\":");

	if (!err)
		err = json_str(b, db ? db : "", db ? strlen(db) : 0);
	if (!err)
		err = list_json(b, "spamd", c->spamd, c->nspamd) ||
		      list_json(b, "milter", c->milter, c->nmilter) ||
		      list_json(b, "http", c->http, c->nhttp) ||
		      list_json(b, "rules", c->rules, c->nrules) || users_json(b, c);
	if (!err)
		err = sbuf_addf(b,
		                ",\"threads\":%u,\"max_size\":%zu,\"timeout\":%g,"
		                "\"request_timeout\":%g,\"max_conn\":%zu,\"add_header_at\":%g,"
		                "\"reject_at\":%g,\"dns_timeout\":%g,\"milter_on_error\":\"%s\","
		                "\"log_level\":%d,\"history\":%zu,\"history_raw_mb\":%zu",
		                c->threads, c->max_size, c->timeout, c->request_timeout,
		                c->max_conn, c->add_header_at, c->reject_at, c->dns_timeout,
		                c->milter_on_error ? "accept" : "tempfail", c->log_level,
		                c->history, c->history_raw_mb);
	if (!err)
		err = kv_s(b, "resolver", c->resolver) || kv_s(b, "authserv_id", c->authserv_id) ||
		      kv_s(b, "contacts", c->contacts) || kv_s(b, "evidence", c->evidence) ||
		      kv_s(b, "geoip", c->geoip) || kv_s(b, "report_from", c->report_from) ||
		      kv_s(b, "fp_server", c->fp_server) || kv_s(b, "fp_key", c->fp_key) ||
		      kv_s(b, "history_dir", c->history_dir) ||
		      kv_s(b, "milter_reject", c->milter_reject) || redis_config_json(b, c);
	return err ? SS_ENOMEM : sbuf_addc(b, '}');
}

static int model_json(sbuf *b, const server_gen *g)
{
	char path[4300];
	struct stat st;
	clf_totals t = {0, 0};
	store *s = NULL;
	int ok = 0;

	snprintf(path, sizeof(path), "%s/data.mdb", g->db_path ? g->db_path : "");
	if (g->model && g->model->ops->dup && !g->model->ops->dup(g->model, &s)) {
		ok = !s->ops->begin(s, 0) && !s->ops->totals(s, 0, &t);
		s->ops->end(s, 0);
		store_close(s);
	}
	return sbuf_addf(b,
	                 ",\"model\":{\"ok\":%s,\"bytes\":%lld,\"learned_spam\":%llu,"
	                 "\"learned_ham\":%llu}",
	                 ok ? "true" : "false", stat(path, &st) ? -1LL : (long long)st.st_size,
	                 (unsigned long long)t.spam, (unsigned long long)t.ham);
}

static int history_json(sbuf *b, conn *c)
{
	history *h = conn_history(c);
	history_writer *w = conn_history_writer(c);
	history_info i;
	int ok;

	if (!h)
		return sbuf_adds(b, ",\"history\":null");
	ok = !h->ops->info(h, &i);
	return sbuf_addf(b,
	                 ",\"history\":{\"ok\":%s,\"backend\":\"%s\",\"entries\":%llu,"
	                 "\"oldest\":%llu,\"newest\":%llu,\"max_entries\":%llu,"
	                 "\"raw_entries\":%llu,\"raw_bytes\":%llu,\"raw_budget\":%llu,"
	                 "\"file_bytes\":%llu,\"written\":%llu,\"dropped\":%llu,"
	                 "\"write_errors\":%llu}",
	                 ok ? "true" : "false", h->ops->name, (unsigned long long)i.entries,
	                 (unsigned long long)i.oldest, (unsigned long long)i.newest,
	                 (unsigned long long)i.max_entries, (unsigned long long)i.raw_entries,
	                 (unsigned long long)i.raw_bytes, (unsigned long long)i.raw_budget,
	                 (unsigned long long)i.map_bytes,
	                 (unsigned long long)(w ? history_writer_written(w) : 0),
	                 (unsigned long long)(w ? history_writer_drops(w) : 0),
	                 (unsigned long long)(w ? history_writer_errors(w) : 0));
}

/* Pings spamsift-fpd (TCP, 1 s): reachable, and how long it took. */
static int fp_json(sbuf *b, const config *conf)
{
	fpp_key k;
	fpc *fc = NULL;
	fpp_msg req, rep;
	uint64_t t0 = fpc_now_ms();
	int ok = 0;

	if (!conf->fp_server)
		return sbuf_adds(b, ",\"fp_server\":null");
	if (conf->fp_key && !checks_fp_key(conf->fp_key, &k) &&
	    !fpc_new(conf->fp_server, &k, &fc)) {
		memset(&req, 0, sizeof(req));
		req.cmd = FPP_PING;
		ok = !fpc_request(fc, &req, 0, 1000, &rep) && rep.status == FPP_OK;
	}
	sodium_memzero(&k, sizeof(k));
	fpc_free(fc);
	return sbuf_adds(b, ",\"fp_server\":{") ||
	       json_kv_str(b, "address", conf->fp_server, strlen(conf->fp_server)) ||
	       sbuf_addf(b, ",\"reachable\":%s,\"ms\":%llu}", ok ? "true" : "false",
	                 (unsigned long long)(fpc_now_ms() - t0));
}

static void serve_status(conn *c, web_reply *o)
{
	const server_gen *g = conn_gen(c);
	sbuf *b = &o->body;
	int err = sbuf_addf(b, "{\"version\":\"%s\",\"uptime_s\":%.0f,\"threads\":%u", SS_VERSION,
	                    conn_uptime(c), g->lim.nthreads);

	if (!err)
		err = config_json(b, g->conf, g->db_path);
	if (!err)
		err = model_json(b, g);
	if (!err)
		err = history_json(b, c);
	if (!err)
		err = fp_json(b, g->conf);
	if (!err)
		err = sbuf_adds(b, "}\n");
	if (err)
		reply_error(o, 500, "out of memory");
	else
		reply_json(o, 200, "status");
}

/* ---- routing ---- */

static void serve_asset(const web_asset *a, web_reply *o)
{
	o->status = 200;
	o->type = a->type;
	o->fixed = a->data;
	o->fixed_len = a->len;
	snprintf(o->extra, sizeof(o->extra),
	         "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n"
	         "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
	         "frame-ancestors 'none'\r\n");
	snprintf(o->what, sizeof(o->what), "asset");
}

static void serve_api(conn *c, const http_request *r, const who *w, web_reply *o)
{
	const ss_str *p = &r->path;
	int get = r->method != HTTP_POST;
	uint64_t id;
	const char *act;
	size_t alen;

	if (!allowed(w, get ? WEB_READ : WEB_ADMIN, o))
		return;
	else if (path_is(p, "/api/whoami") && get)
		serve_whoami(c, w, o);
	else if (path_is(p, "/api/history") && get)
		serve_list(c, r, o);
	else if (path_is(p, "/api/stats") && get)
		serve_stats(c, r, o);
	else if (path_is(p, "/api/status") && get)
		serve_status(c, o);
	else if (path_starts(p, "/api/history/") && !entry_path(p, &id, &act, &alen)) {
		if (!act && get)
			serve_entry(c, id, o);
		else if (act && !get && csrf_ok(r, w, o))
			serve_action(c, id, act, alen, o);
		else if (o->status != 403)
			reply_error(o, 405, "method not allowed");
	} else {
		reply_error(o, 404, "no such path");
	}
}

void web_serve(conn *c, const http_request *r, const char *body, size_t len, web_reply *o)
{
	const web_asset *a = asset(&r->path);
	int post = r->method == HTTP_POST;
	who w;

	if (a && !post) {
		serve_asset(a, o);
	} else if (path_is(&r->path, "/login") && post) {
		serve_login(c, r, body, len, o);
	} else if (path_is(&r->path, "/logout") && post) {
		serve_logout(c, r, o);
	} else if (a || path_is(&r->path, "/login") || path_is(&r->path, "/logout")) {
		reply_error(o, 405, "method not allowed");
	} else {
		find_who(c, r, &w);
		serve_api(c, r, &w, o);
		if (!o->who[0])
			snprintf(o->who, sizeof(o->who), "%s", w.name);
	}
}
