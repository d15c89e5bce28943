/*
 * config.c: spamsiftd's settings, the configuration file parser and the
 * merge of command-line options (see config.h).
 */
#include "daemon/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checks.h"
#include "proto/milter.h"
#include "web/auth.h"
#include "store/redis_url.h"

#define VALUE_MAX 4096 /* bytes of one value */

/* clang-format off */
static const char *const key_names[CONFIG_NKEYS] = {
    "db",        "spamd",         "milter",          "http",
    "threads",   "max_size",      "timeout",         "request_timeout",
    "max_conn",  "milter_reject", "milter_on_error", "log",
    "log_level", "add_header_at", "reject_at",       "rules",
    "resolver",  "dns_timeout",   "authserv_id",     "contacts",
    "evidence",  "geoip",         "report_from",     "fp_server",
    "fp_key",    "history",       "history_dir",     "history_raw_mb",
    "http_user",
    "redis",     "redis_replica", "redis_password_file", "redis_journal",
    "redis_cache", "redis_timeout", "redis_journal_size", "redis_user_cache",
    "redis_user_wait",
};
/* clang-format on */

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void config_init(config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_size = 32u << 20;
	c->timeout = 30;
	c->request_timeout = 60;
	c->max_conn = 1024;
	c->log_level = CONFIG_LOG_INFO;
	c->add_header_at = 0.0;
	c->reject_at = log(999.0);
	c->dns_timeout = 5.0;
	c->history = CONFIG_DEFAULT_HISTORY;
	c->history_raw_mb = CONFIG_DEFAULT_HISTORY_RAW_MB;
	c->redis_cache = 1.0;
	c->redis_timeout = 1.0;
	c->redis_journal_size = 64u << 20;
	c->redis_user_cache = 256;
	c->redis_user_wait = 0.05;
}

static void free_list(char **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	*n = 0;
}

void config_release(config *c)
{
	free(c->db);
	free(c->milter_reject);
	free_list(c->spamd, &c->nspamd);
	free_list(c->milter, &c->nmilter);
	free_list(c->http, &c->nhttp);
	free_list(c->rules, &c->nrules);
	free(c->resolver);
	free(c->authserv_id);
	free(c->contacts);
	free(c->evidence);
	free(c->geoip);
	free(c->report_from);
	free(c->fp_server);
	free(c->fp_key);
	free(c->history_dir);
	free_list(c->http_user, &c->nhttp_user);
	free(c->redis);
	free_list(c->redis_seeds, &c->nredis_seeds);
	free(c->redis_replica);
	free(c->redis_password_file);
	free(c->redis_journal);
	config_init(c);
}

const char *config_key_name(config_key k)
{
	return (unsigned)k < CONFIG_NKEYS ? key_names[k] : "?";
}

int config_key_of(const char *name, size_t len)
{
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		const char *n = key_names[k];
		size_t i = 0;
		for (; i < len && n[i]; i++)
			if (name[i] != n[i] && !(name[i] == '-' && n[i] == '_'))
				break;
		if (i == len && !n[i])
			return k;
	}
	return -1;
}

static int fail(config_error *e, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(config_error *e, unsigned line, const char *fmt, ...)
{
	va_list ap;

	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Reads a number within [lo, hi]. */
static int number(config_key k, const char *s, double lo, double hi, unsigned line, double *out,
                  config_error *e)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return fail(e, line, "%s: '%.64s' is not a number from %g to %g", key_names[k], s,
		            lo, hi);
	*out = v;
	return 0;
}

/* Replaces *slot with a copy of s. */
static int set_string(char **slot, const char *s, unsigned line, config_error *e)
{
	char *d = strdup(s);

	if (!d)
		return fail(e, line, "out of memory");
	free(*slot);
	*slot = d;
	return 0;
}

static int add_rules(config *c, const char *s, unsigned line, config_error *e)
{
	if (c->nrules == CONFIG_MAX_RULES)
		return fail(e, line, "rules: more than %d paths", CONFIG_MAX_RULES);
	c->rules[c->nrules] = NULL;
	if (set_string(&c->rules[c->nrules], s, line, e))
		return -1;
	c->nrules++;
	return 0;
}

static int add_user(config *c, const char *s, unsigned line, config_error *e)
{
	if (c->nhttp_user == CONFIG_MAX_USERS)
		return fail(e, line, "http_user: more than %d users", CONFIG_MAX_USERS);
	if (!web_user_ok(s))
		return fail(e, line,
		            "http_user: not NAME:ROLE:SECRET (ROLE admin or read, a secret of "
		            "at least %d bytes)",
		            WEB_MIN_SECRET);
	c->http_user[c->nhttp_user] = NULL;
	if (set_string(&c->http_user[c->nhttp_user], s, line, e))
		return -1;
	c->nhttp_user++;
	return 0;
}

static int add_listener(config *c, config_key k, const char *s, unsigned line, config_error *e)
{
	char **v = k == CONFIG_SPAMD ? c->spamd : k == CONFIG_MILTER ? c->milter : c->http;
	size_t *n = k == CONFIG_SPAMD ? &c->nspamd : k == CONFIG_MILTER ? &c->nmilter : &c->nhttp;

	if (*n == CONFIG_MAX_LISTEN)
		return fail(e, line, "%s: more than %d listeners", key_names[k], CONFIG_MAX_LISTEN);
	v[*n] = NULL;
	if (set_string(&v[*n], s, line, e))
		return -1;
	(*n)++;
	return 0;
}

/* Finds s in names[0..n); returns its index or -1. */
static int word(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static int set_words(config *c, config_key k, const char *s, unsigned line, config_error *e)
{
	static const char *const on_error[] = {"tempfail", "accept"};
	static const char *const logs[] = {"stderr", "syslog"};
	int i;

	switch (k) {
	case CONFIG_MILTER_ON_ERROR:
		if ((i = word(s, on_error, 2)) < 0)
			return fail(e, line, "milter_on_error: accept or tempfail, not '%.64s'", s);
		c->milter_on_error = i;
		return 0;
	case CONFIG_LOG:
		if ((i = word(s, logs, 2)) < 0)
			return fail(e, line, "log: stderr or syslog, not '%.64s'", s);
		c->log_syslog = i;
		return 0;
	default: /* CONFIG_LOG_LEVEL */
		if ((i = word(s, level_names, 4)) < 0)
			return fail(e, line,
			            "log_level: error, warning, info or debug, not '%.64s'", s);
		c->log_level = i;
		return 0;
	}
}

static int set_number(config *c, config_key k, const char *s, unsigned line, config_error *e)
{
	double v;

	switch (k) {
	case CONFIG_THREADS:
		if (number(k, s, 1, 256, line, &v, e))
			return -1;
		c->threads = (unsigned)v;
		return 0;
	case CONFIG_MAX_SIZE:
		if (number(k, s, 1024, 1 << 30, line, &v, e))
			return -1;
		c->max_size = (size_t)v;
		return 0;
	case CONFIG_TIMEOUT:
		return number(k, s, 0.05, 86400, line, &c->timeout, e);
	case CONFIG_REQUEST_TIMEOUT: /* 0: no deadline */
		if (number(k, s, 0, 86400, line, &c->request_timeout, e))
			return -1;
		if (c->request_timeout > 0 && c->request_timeout < 0.05)
			return fail(e, line, "request_timeout: 0 (none) or from 0.05 to 86400");
		return 0;
	case CONFIG_HISTORY:
		if (number(k, s, 0, 10000000, line, &v, e))
			return -1;
		c->history = (size_t)v;
		return 0;
	case CONFIG_HISTORY_RAW_MB:
		if (number(k, s, 0, 65536, line, &v, e))
			return -1;
		c->history_raw_mb = (size_t)v;
		return 0;
	case CONFIG_MAX_CONN:
		if (number(k, s, 1, 1000000, line, &v, e))
			return -1;
		c->max_conn = (size_t)v;
		return 0;
	case CONFIG_ADD_HEADER_AT:
		return number(k, s, -1e6, 1e6, line, &c->add_header_at, e);
	case CONFIG_DNS_TIMEOUT:
		return number(k, s, 0.01, 60, line, &c->dns_timeout, e);
	case CONFIG_REDIS_CACHE:
		return number(k, s, 0, 3600, line, &c->redis_cache, e);
	case CONFIG_REDIS_TIMEOUT:
		return number(k, s, 0.01, 60, line, &c->redis_timeout, e);
	case CONFIG_REDIS_JOURNAL_SIZE:
		if (number(k, s, 4096, 1 << 30, line, &v, e))
			return -1;
		c->redis_journal_size = (size_t)v;
		return 0;
	case CONFIG_REDIS_USER_CACHE:
		if (number(k, s, 1, 1 << 20, line, &v, e))
			return -1;
		c->redis_user_cache = (size_t)v;
		return 0;
	case CONFIG_REDIS_USER_WAIT:
		return number(k, s, 0, 10, line, &c->redis_user_wait, e);
	default: /* CONFIG_REJECT_AT */
		return number(k, s, -1e6, 1e6, line, &c->reject_at, e);
	}
}

int config_set(config *c, config_key k, const char *value, unsigned line, config_error *e)
{
	int list = k == CONFIG_SPAMD || k == CONFIG_MILTER || k == CONFIG_HTTP ||
	           k == CONFIG_RULES || k == CONFIG_HTTP_USER || k == CONFIG_REDIS,
	    rc;

	if ((unsigned)k >= CONFIG_NKEYS)
		return fail(e, line, "no such key");
	if (!*value)
		return fail(e, line, "%s: empty value", key_names[k]);
	if (line && !list && c->line[k])
		return fail(e, line, "%s given twice (first on line %u)", key_names[k], c->line[k]);
	switch (k) {
	case CONFIG_DB:
		rc = set_string(&c->db, value, line, e);
		break;
	case CONFIG_SPAMD:
	case CONFIG_MILTER:
	case CONFIG_HTTP:
		rc = add_listener(c, k, value, line, e);
		break;
	case CONFIG_RULES:
		rc = add_rules(c, value, line, e);
		break;
	case CONFIG_MILTER_REJECT:
		if (!milter_reply_code_ok(value))
			return fail(e, line,
			            "milter_reject: '%.64s' is not a one-line SMTP refusal like "
			            "\"%s\"",
			            value, CONFIG_DEFAULT_REJECT);
		rc = set_string(&c->milter_reject, value, line, e);
		break;
	case CONFIG_RESOLVER:
		if (!checks_resolver_ok(value))
			return fail(
			    e, line,
			    "resolver: '%.64s' is not IP, IP:PORT, [IPv6]:PORT, system or off",
			    value);
		rc = set_string(&c->resolver, value, line, e);
		break;
	case CONFIG_AUTHSERV_ID:
		if (strpbrk(value, " \t;()\"\\"))
			return fail(e, line, "authserv_id: '%.64s' is not one token", value);
		rc = set_string(&c->authserv_id, value, line, e);
		break;
	case CONFIG_CONTACTS:
	case CONFIG_EVIDENCE:
	case CONFIG_GEOIP:
	case CONFIG_REPORT_FROM:
		rc = set_string(k == CONFIG_CONTACTS   ? &c->contacts
		                : k == CONFIG_EVIDENCE ? &c->evidence
		                : k == CONFIG_GEOIP    ? &c->geoip
		                                       : &c->report_from,
		                value, line, e);
		break;
	case CONFIG_FP_SERVER:
	case CONFIG_FP_KEY:
		rc = set_string(k == CONFIG_FP_SERVER ? &c->fp_server : &c->fp_key, value, line, e);
		break;
	case CONFIG_HISTORY_DIR:
		rc = set_string(&c->history_dir, value, line, e);
		break;
	case CONFIG_HTTP_USER:
		rc = add_user(c, value, line, e);
		break;
	case CONFIG_REDIS:
	case CONFIG_REDIS_REPLICA: {
		redis_url u;
		const char *why;
		if (redis_url_parse(value, strlen(value), &u, &why))
			return fail(e, line, "%s: %s", key_names[k], why);
		if (k == CONFIG_REDIS && c->redis) { /* one more seed of a Cluster */
			if (c->nredis_seeds == CONFIG_MAX_LISTEN)
				return fail(e, line, "redis: more than %d URLs",
				            CONFIG_MAX_LISTEN + 1);
			c->redis_seeds[c->nredis_seeds] = NULL;
			if (!(rc = set_string(&c->redis_seeds[c->nredis_seeds], value, line, e)))
				c->nredis_seeds++;
			break;
		}
		rc = set_string(k == CONFIG_REDIS ? &c->redis : &c->redis_replica, value, line, e);
		break;
	}
	case CONFIG_REDIS_PASSWORD_FILE:
	case CONFIG_REDIS_JOURNAL:
		rc = set_string(k == CONFIG_REDIS_JOURNAL ? &c->redis_journal
		                                          : &c->redis_password_file,
		                value, line, e);
		break;
	case CONFIG_MILTER_ON_ERROR:
	case CONFIG_LOG:
	case CONFIG_LOG_LEVEL:
		rc = set_words(c, k, value, line, e);
		break;
	default:
		rc = set_number(c, k, value, line, e);
		break;
	}
	if (!rc && line)
		c->line[k] = line;
	return rc;
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trims blanks at both ends of [*p, *end). */
static void trim(const char **p, const char **end)
{
	while (*p < *end && is_blank(**p))
		(*p)++;
	while (*end > *p && is_blank((*end)[-1]))
		(*end)--;
}

/* Parses one line [p, end) (no '\n'). */
static int parse_line(config *c, const char *p, const char *end, unsigned line, config_error *e)
{
	const char *eq, *v;
	char value[VALUE_MAX];
	int k;

	trim(&p, &end);
	if (p == end || *p == '#')
		return 0;
	if (memchr(p, 0, (size_t)(end - p)))
		return fail(e, line, "NUL byte");
	if (!(eq = memchr(p, '=', (size_t)(end - p))))
		return fail(e, line, "expected 'key = value'");
	v = eq + 1;
	trim(&p, &eq);
	if ((k = config_key_of(p, (size_t)(eq - p))) < 0)
		return fail(e, line, "unknown key '%.*s'", (int)(eq - p > 64 ? 64 : eq - p), p);
	trim(&v, &end);
	if (end - v >= 2 && *v == '"' && end[-1] == '"')
		v++, end--;
	if ((size_t)(end - v) >= sizeof(value))
		return fail(e, line, "%s: value longer than %d bytes", key_names[k], VALUE_MAX - 1);
	memcpy(value, v, (size_t)(end - v));
	value[end - v] = 0;
	return config_set(c, (config_key)k, value, line, e);
}

int config_parse(config *c, const char *buf, size_t len, config_error *e)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 0;

	e->line = 0;
	e->msg[0] = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if (++line == 0)
			return fail(e, 0, "too many lines");
		if (parse_line(c, p, eol, line, e))
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int config_apply(config *c, const config_kv *kv, size_t n, config_error *e)
{
	int cleared[CONFIG_NKEYS] = {0};

	for (size_t i = 0; i < n; i++) {
		config_key k = kv[i].key;
		if ((unsigned)k >= CONFIG_NKEYS)
			return fail(e, 0, "no such key");
		if (!cleared[k] && k == CONFIG_SPAMD)
			free_list(c->spamd, &c->nspamd);
		if (!cleared[k] && k == CONFIG_MILTER)
			free_list(c->milter, &c->nmilter);
		if (!cleared[k] && k == CONFIG_HTTP)
			free_list(c->http, &c->nhttp);
		if (!cleared[k] && k == CONFIG_RULES)
			free_list(c->rules, &c->nrules);
		if (!cleared[k] && k == CONFIG_HTTP_USER)
			free_list(c->http_user, &c->nhttp_user);
		if (!cleared[k] && k == CONFIG_REDIS) {
			free(c->redis);
			c->redis = NULL;
			free_list(c->redis_seeds, &c->nredis_seeds);
		}
		cleared[k] = 1;
		c->line[k] = 0; /* set by the command line, not on a line */
		if (config_set(c, k, kv[i].value, 0, e))
			return -1;
	}
	return 0;
}

int config_loopback(const char *addr)
{
	return !strncmp(addr, "unix:", 5) || !strncmp(addr, "127.", 4) ||
	       !strncmp(addr, "[::1]:", 6) || !strncmp(addr, "localhost:", 10);
}

int config_check(const config *c, config_error *e)
{
	if (!c->nspamd && !c->nmilter && !c->nhttp)
		return fail(e, 0, "nothing to listen on: give spamd, milter or http");
	for (size_t i = 0; !c->nhttp_user && i < c->nhttp; i++)
		if (!config_loopback(c->http[i]))
			return fail(
			    e, c->line[CONFIG_HTTP],
			    "http listens on %.64s, beyond loopback: give http_user lines "
			    "(NAME:ROLE:SECRET), so that the web page and API ask for a login",
			    c->http[i]);
	if (c->reject_at < c->add_header_at)
		return fail(e,
		            c->line[CONFIG_REJECT_AT] ? c->line[CONFIG_REJECT_AT]
		                                      : c->line[CONFIG_ADD_HEADER_AT],
		            "reject_at (%g) is below add_header_at (%g)", c->reject_at,
		            c->add_header_at);
	if (c->db && c->redis)
		return fail(e, c->line[CONFIG_REDIS],
		            "db and redis: the model is in one or the other");
	if ((c->redis_replica || c->redis_journal || c->redis_password_file) && !c->redis)
		return fail(e, 0,
		            "redis_replica, redis_journal and redis_password_file need redis");
	return 0;
}

static int same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return 1;
}

int config_same_listeners(const config *a, const config *b)
{
	return a->threads == b->threads && same_list(a->spamd, a->nspamd, b->spamd, b->nspamd) &&
	       same_list(a->milter, a->nmilter, b->milter, b->nmilter) &&
	       same_list(a->http, a->nhttp, b->http, b->nhttp);
}
