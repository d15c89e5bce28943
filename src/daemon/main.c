/*
 * main.c: spamsiftd, the filter in the mail path. Reads its configuration
 * file and options, builds the engine, listens on the doors asked for,
 * prints the bound addresses on its first lines of standard output, and
 * serves in the foreground until SIGTERM or SIGINT (then finishes the
 * requests in flight and exits 0). On SIGHUP it reads the configuration
 * again and swaps in a new generation (engine, thresholds, limits, milter
 * policy) or, when the new configuration is broken, keeps the old one and
 * logs why. Logs go to standard error or syslog.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/door_milter.h"
#include "daemon/door_http.h"
#include "daemon/door_spamd.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "engine/engine.h"
#include "rules/load.h"
#include "store/redis_url.h"
#include "store/store.h"
#include "util/file.h"

#define MAX_OPTIONS 128
#define MAX_CONFIG_FILE (1u << 20)

static const char usage[] =
    "usage: spamsiftd [-c FILE] [OPTIONS]\n"
    "\n"
    "The spamsift daemon: scans and learns mail for the MTA through the spamd\n"
    "protocol (spamc, Exim, procmail...), the milter protocol (Postfix,\n"
    "Sendmail) and an HTTP JSON API with Prometheus metrics. Runs in the\n"
    "foreground, logs to standard error or syslog; SIGTERM or SIGINT stop it\n"
    "after the requests in flight; SIGHUP reloads the configuration, the\n"
    "rules and the model (a broken configuration or rule file is refused and\n"
    "logged, the old one keeps serving; listeners and threads need a restart).\n"
    "It prints each address it listens on, one per line (\"spamd 127.0.0.1:783\").\n"
    "\n"
    "  -c, --config FILE  read settings from FILE: \"key = value\" lines, the\n"
    "                     keys being the options below without dashes (db,\n"
    "                     spamd, max_size...; see dist/spamsiftd.conf). An\n"
    "                     option given here replaces the file's value\n"
    "  --db PATH          the model (default $XDG_DATA_HOME/spamsift/model,\n"
    "                     created when absent; learn with spamsift learn or TELL)\n"
    "  --redis URL        the model on Redis instead, shared by many spamsiftd:\n"
    "                     redis://[:PASSWORD@]HOST[:PORT][/DB] (rediss:// for\n"
    "                     TLS; a client certificate from the environment:\n"
    "                     SPAMSIFT_REDIS_TLS_CERT and SPAMSIFT_REDIS_TLS_KEY;\n"
    "                     redis+sentinel://[:PASSWORD@]HOST[:PORT][,HOST...]/\n"
    "                     SERVICE[/DB] for a master Sentinel watches;\n"
    "                     a Cluster is found out from any node; give\n"
    "                     --redis again for more nodes, tried in turn). Scans\n"
    "                     read copies of the global model and of the users'\n"
    "                     models they met kept here, at most --redis-cache\n"
    "                     seconds behind; Redis down, they go on with them\n"
    "                     (symbol REDIS_UNAVAILABLE)\n"
    "  --redis-replica URL\n"
    "                     a replica to read from (writes go to --redis)\n"
    "  --redis-password-file FILE\n"
    "                     the password (first line), for both\n"
    "  --redis-journal FILE\n"
    "                     learns that cannot reach Redis are kept here and\n"
    "                     redone, in order, when it is back (new users, moves\n"
    "                     to the other class and unlearns too); one file per\n"
    "                     spamsiftd. Without it such learns fail\n"
    "  --redis-journal-size BYTES\n"
    "                     the journal's bound (default 67108864); a learn that\n"
    "                     would pass it fails, is logged and counted in\n"
    "                     spamsift_redis_journal_full_total\n"
    "  --redis-cache SECONDS\n"
    "                     how far behind Redis scans may be (default 1; 0:\n"
    "                     no copy, no cache: every scan asks Redis)\n"
    "  --redis-timeout SECONDS\n"
    "                     connect and command timeout (default 1)\n"
    "  --redis-user-cache MB\n"
    "                     memory for copies of users' models (default 256);\n"
    "                     the least recently scanned user's goes first; a\n"
    "                     model over a sixteenth of it is read from Redis\n"
    "  --redis-user-wait SECONDS\n"
    "                     how long a scan waits for the copy of a user's\n"
    "                     model it has not met (default 0.05); then it is\n"
    "                     scored with the global model (REDIS_UNAVAILABLE)\n"
    "  --spamd ADDR       listen for spamd clients on ADDR: HOST:PORT (port 0\n"
    "                     picks a free one), [IPv6]:PORT or unix:/path;\n"
    "                     may be given more than once\n"
    "  --milter ADDR      listen for an MTA's milter connections on ADDR (same\n"
    "                     forms); Postfix: smtpd_milters = inet:127.0.0.1:11332\n"
    "  --milter-reject REPLY\n"
    "                     the SMTP reply to a message whose action is reject\n"
    "                     (default \"" CONFIG_DEFAULT_REJECT "\";\n"
    "                     \"5xy x.y.z text\" with an enhanced status code)\n"
    "  --milter-on-error accept|tempfail\n"
    "                     what the milter door does with a message it cannot\n"
    "                     scan: an internal error, or one over --max-size\n"
    "                     (default tempfail)\n"
    "  --http ADDR        listen for HTTP on ADDR (same forms): POST /check,\n"
    "                     /learn/spam, /learn/ham, /unlearn (message in the\n"
    "                     body; X-User, X-Client-IP, X-Helo, X-Mail-From,\n"
    "                     X-Rcpt-To headers), GET /health, GET /metrics\n"
    "                     (Prometheus), the web page at / and its JSON API\n"
    "                     under /api/ (docs/WEB.md); may be given more than once\n"
    "  --threads N        worker threads, each with its own event loop\n"
    "                     (default: one per processor)\n"
    "  --max-size BYTES   largest message accepted (default 33554432; larger\n"
    "                     ones get an EX_DATAERR reply, HTTP 413, or through\n"
    "                     the milter door, --milter-on-error)\n"
    "  --timeout SECONDS  a client silent this long is dropped (default 30; an\n"
    "                     MTA's milter connection lasts its SMTP session, so\n"
    "                     with --milter give Postfix's smtpd_timeout, 300)\n"
    "  --request-timeout SECONDS\n"
    "                     a request not complete this long after its first\n"
    "                     byte is dropped, however steadily its bytes come\n"
    "                     (default 60; 0: no limit): spamd gets EX_TIMEOUT,\n"
    "                     HTTP 408; a milter message (MAIL to end of body)\n"
    "                     is cut off, so the MTA applies its\n"
    "                     milter_default_action: with --milter give more\n"
    "                     than the longest SMTP transaction you accept\n"
    "  --max-conn N       open connections at most (default 1024; more are\n"
    "                     refused with EX_TEMPFAIL)\n"
    "  --add-header-at POINTS\n"
    "                     score from which X-Spam-Flag says spam (default 0)\n"
    "  --reject-at POINTS score from which the action is reject (default\n"
    "                     6.9068, ln 999: the classifier's probability 0.999)\n"
    "  --rules PATH       rule file, or folder of *.rules files, read after the\n"
    "                     built-in default rules (docs/RULES.md); may be given\n"
    "                     more than once. A reload with a broken rule file\n"
    "                     keeps the old rules (FILE:LINE: reason logged)\n"
    "  --resolver IP:PORT|system|off\n"
    "                     turns on the DNS checks (SPF, DKIM, DMARC, the DNS\n"
    "                     block lists of the rules) through that DNS server,\n"
    "                     or the system's (/etc/resolv.conf); default off\n"
    "  --dns-timeout S    seconds one scan may wait for DNS in all (default 5);\n"
    "                     what has not answered by then is a temporary error\n"
    "                     (symbol DNS_TEMPERROR), never a stuck scan\n"
    "  --authserv-id NAME first word of the Authentication-Results field\n"
    "                     added (default: the host name)\n"
    "  --evidence DIR     turns on user reports (HTTP POST /report, spamc -C):\n"
    "                     learned as spam, kept in this evidence store, and an\n"
    "                     abuse report (ARF) made for the source network\n"
    "  --contacts FILE    abuse contacts: lines 'CIDR ADDRESS [ASN] [CC]'\n"
    "  --geoip FILE.mmdb  country of the source (MaxMind format)\n"
    "  --report-from ADDR the abuse reports' From\n"
    "  --fp-server IP:PORT\n"
    "                     a spamsift-fpd: every scan looks its fingerprints up\n"
    "                     (FUZZY_SPAM), every report adds them\n"
    "  --fp-key FILE      the key file for it (spamsift fp keygen)\n"
    "  --http-user NAME:ROLE:SECRET\n"
    "                     a user of the web page and API (ROLE admin or read,\n"
    "                     a secret of 12 bytes or more); may be given more\n"
    "                     than once. With users, every HTTP route but /,\n"
    "                     its assets, /login, /logout, /health and /metrics\n"
    "                     asks for a login (session cookie) or\n"
    "                     \"Authorization: Bearer NAME:SECRET\"; without, http\n"
    "                     must listen on loopback only and everyone there is\n"
    "                     admin\n"
    "  --history N        scans kept for the web page at http://ADDR/ (default\n"
    "                     100000; 0: none); only with --http\n"
    "  --history-dir DIR  where they are kept (default DB/history; with --redis,\n"
    "                     on that Redis, shared by the daemons using it)\n"
    "  --history-raw-mb M MiB of the newest messages kept with them, so the\n"
    "                     page can learn or report them (default 64)\n"
    "  --log-level LEVEL  error, warning, info (default: a line per request)\n"
    "                     or debug\n"
    "  --quiet            the same as --log-level warning\n"
    "  --syslog           log to syslog (facility mail, ident spamsiftd)\n"
    "                     instead of standard error\n"
    "  -h, --help         show this help\n"
    "  --version          show the version\n"
    "\n"
    "Example: spamsiftd -c /etc/spamsift/spamsiftd.conf\n"
    "         spamsiftd --db /var/lib/spamsift/model --spamd 127.0.0.1:783 \\\n"
    "                   --milter 127.0.0.1:11332 --http 127.0.0.1:11333\n"
    "         spamc -d 127.0.0.1 -p 783 -c < message.eml\n"
    "         curl --data-binary @message.eml http://127.0.0.1:11333/check\n"
    "\n"
    "Exit status: 0 after a clean stop, 2 on a usage error, an error in the\n"
    "configuration file (reported as FILE:LINE: message), or when a socket or\n"
    "the model cannot be opened.\n";

/* What the command line said: the file, and settings to apply over it. */
typedef struct cmdline {
	const char *file; /* -c FILE, or NULL */
	config_kv kv[MAX_OPTIONS];
	size_t nkv;
} cmdline;

/* The model store, shared by the generations that use the same file: LMDB
 * must not be opened twice in one process (closing the second handle would
 * drop the first one's locks), so a reload that keeps the model reuses it. */
typedef struct model {
	store *s;
	dev_t dev;
	ino_t ino;
	char *redis; /* the Redis settings it was opened with, or NULL (LMDB) */
	int refs;
} model;

/* The compiled rule set, shared by the generations whose rule files have
 * not changed (compiling many rules takes a while; a reload that changes a
 * threshold should not). */
typedef struct rules_ref {
	ruleset *rs;
	uint64_t fp; /* rules_fingerprint() of the paths */
	int refs;
} rules_ref;

/* One configuration, as the server serves with it. */
typedef struct generation {
	server_gen g; /* first: the server sees this part */
	config conf;
	model *m;
	rules_ref *rules;
	char db[4200];
	unsigned id;
} generation;

/* The daemon's state on the main thread. */
typedef struct daemon_state {
	const cmdline *cl;
	generation *cur; /* the server's current generation */
	unsigned ngen;
} daemon_state;

enum {
	O_DB = 256,
	O_SPAMD,
	O_THREADS,
	O_MAX_SIZE,
	O_TIMEOUT,
	O_REQUEST_TIMEOUT,
	O_MAX_CONN,
	O_QUIET,
	O_VERSION,
	O_MILTER,
	O_MILTER_REJECT,
	O_MILTER_ON_ERROR,
	O_HTTP,
	O_ADD_HEADER_AT,
	O_REJECT_AT,
	O_LOG_LEVEL,
	O_SYSLOG,
	O_RULES,
	O_RESOLVER,
	O_DNS_TIMEOUT,
	O_AUTHSERV_ID,
	O_CONTACTS,
	O_EVIDENCE,
	O_GEOIP,
	O_REPORT_FROM,
	O_FP_SERVER,
	O_FP_KEY,
	O_HISTORY,
	O_HISTORY_DIR,
	O_HISTORY_RAW_MB,
	O_HTTP_USER,
	O_REDIS,
	O_REDIS_REPLICA,
	O_REDIS_PASSWORD_FILE,
	O_REDIS_JOURNAL,
	O_REDIS_CACHE,
	O_REDIS_TIMEOUT,
	O_REDIS_JOURNAL_SIZE,
	O_REDIS_USER_CACHE,
	O_REDIS_USER_WAIT,
};

static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"db", required_argument, NULL, O_DB},
    {"spamd", required_argument, NULL, O_SPAMD},
    {"http", required_argument, NULL, O_HTTP},
    {"threads", required_argument, NULL, O_THREADS},
    {"max-size", required_argument, NULL, O_MAX_SIZE},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"request-timeout", required_argument, NULL, O_REQUEST_TIMEOUT},
    {"max-conn", required_argument, NULL, O_MAX_CONN},
    {"quiet", no_argument, NULL, O_QUIET},
    {"milter", required_argument, NULL, O_MILTER},
    {"milter-reject", required_argument, NULL, O_MILTER_REJECT},
    {"milter-on-error", required_argument, NULL, O_MILTER_ON_ERROR},
    {"add-header-at", required_argument, NULL, O_ADD_HEADER_AT},
    {"reject-at", required_argument, NULL, O_REJECT_AT},
    {"log-level", required_argument, NULL, O_LOG_LEVEL},
    {"syslog", no_argument, NULL, O_SYSLOG},
    {"rules", required_argument, NULL, O_RULES},
    {"resolver", required_argument, NULL, O_RESOLVER},
    {"dns-timeout", required_argument, NULL, O_DNS_TIMEOUT},
    {"authserv-id", required_argument, NULL, O_AUTHSERV_ID},
    {"contacts", required_argument, NULL, O_CONTACTS},
    {"evidence", required_argument, NULL, O_EVIDENCE},
    {"geoip", required_argument, NULL, O_GEOIP},
    {"report-from", required_argument, NULL, O_REPORT_FROM},
    {"fp-server", required_argument, NULL, O_FP_SERVER},
    {"fp-key", required_argument, NULL, O_FP_KEY},
    {"history", required_argument, NULL, O_HISTORY},
    {"history-dir", required_argument, NULL, O_HISTORY_DIR},
    {"history-raw-mb", required_argument, NULL, O_HISTORY_RAW_MB},
    {"http-user", required_argument, NULL, O_HTTP_USER},
    {"redis", required_argument, NULL, O_REDIS},
    {"redis-replica", required_argument, NULL, O_REDIS_REPLICA},
    {"redis-password-file", required_argument, NULL, O_REDIS_PASSWORD_FILE},
    {"redis-journal", required_argument, NULL, O_REDIS_JOURNAL},
    {"redis-cache", required_argument, NULL, O_REDIS_CACHE},
    {"redis-timeout", required_argument, NULL, O_REDIS_TIMEOUT},
    {"redis-journal-size", required_argument, NULL, O_REDIS_JOURNAL_SIZE},
    {"redis-user-cache", required_argument, NULL, O_REDIS_USER_CACHE},
    {"redis-user-wait", required_argument, NULL, O_REDIS_USER_WAIT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0},
};

/* The configuration key of each option that has one. */
static const struct {
	int opt;
	config_key key;
} opt_keys[] = {
    {O_DB, CONFIG_DB},
    {O_SPAMD, CONFIG_SPAMD},
    {O_MILTER, CONFIG_MILTER},
    {O_HTTP, CONFIG_HTTP},
    {O_THREADS, CONFIG_THREADS},
    {O_MAX_SIZE, CONFIG_MAX_SIZE},
    {O_TIMEOUT, CONFIG_TIMEOUT},
    {O_REQUEST_TIMEOUT, CONFIG_REQUEST_TIMEOUT},
    {O_MAX_CONN, CONFIG_MAX_CONN},
    {O_MILTER_REJECT, CONFIG_MILTER_REJECT},
    {O_MILTER_ON_ERROR, CONFIG_MILTER_ON_ERROR},
    {O_ADD_HEADER_AT, CONFIG_ADD_HEADER_AT},
    {O_REJECT_AT, CONFIG_REJECT_AT},
    {O_LOG_LEVEL, CONFIG_LOG_LEVEL},
    {O_QUIET, CONFIG_LOG_LEVEL},
    {O_SYSLOG, CONFIG_LOG},
    {O_RULES, CONFIG_RULES},
    {O_RESOLVER, CONFIG_RESOLVER},
    {O_DNS_TIMEOUT, CONFIG_DNS_TIMEOUT},
    {O_AUTHSERV_ID, CONFIG_AUTHSERV_ID},
    {O_CONTACTS, CONFIG_CONTACTS},
    {O_EVIDENCE, CONFIG_EVIDENCE},
    {O_GEOIP, CONFIG_GEOIP},
    {O_REPORT_FROM, CONFIG_REPORT_FROM},
    {O_FP_SERVER, CONFIG_FP_SERVER},
    {O_FP_KEY, CONFIG_FP_KEY},
    {O_HISTORY, CONFIG_HISTORY},
    {O_HISTORY_DIR, CONFIG_HISTORY_DIR},
    {O_HISTORY_RAW_MB, CONFIG_HISTORY_RAW_MB},
    {O_HTTP_USER, CONFIG_HTTP_USER},
    {O_REDIS, CONFIG_REDIS},
    {O_REDIS_REPLICA, CONFIG_REDIS_REPLICA},
    {O_REDIS_PASSWORD_FILE, CONFIG_REDIS_PASSWORD_FILE},
    {O_REDIS_JOURNAL, CONFIG_REDIS_JOURNAL},
    {O_REDIS_CACHE, CONFIG_REDIS_CACHE},
    {O_REDIS_TIMEOUT, CONFIG_REDIS_TIMEOUT},
    {O_REDIS_JOURNAL_SIZE, CONFIG_REDIS_JOURNAL_SIZE},
    {O_REDIS_USER_CACHE, CONFIG_REDIS_USER_CACHE},
    {O_REDIS_USER_WAIT, CONFIG_REDIS_USER_WAIT},
};

/* Records one option; returns 0, 1 to exit successfully, -1 on error. */
static int option(cmdline *cl, int opt, const char *arg)
{
	for (size_t i = 0; i < sizeof(opt_keys) / sizeof(opt_keys[0]); i++) {
		if (opt_keys[i].opt != opt)
			continue;
		if (cl->nkv == MAX_OPTIONS)
			return fputs("spamsiftd: too many options\n", stderr), -1;
		cl->kv[cl->nkv].key = opt_keys[i].key;
		cl->kv[cl->nkv++].value = opt == O_QUIET    ? "warning"
		                          : opt == O_SYSLOG ? "syslog"
		                                            : arg;
		return 0;
	}
	switch (opt) {
	case 'c':
		cl->file = arg;
		return 0;
	case 'h':
		fputs(usage, stdout);
		return 1;
	case O_VERSION:
		printf("spamsiftd %s\n", SS_VERSION);
		return 1;
	default:
		fputs("spamsiftd: see spamsiftd --help\n", stderr);
		return -1;
	}
}

static int parse_cmdline(int argc, char **argv, cmdline *cl)
{
	int opt, rc;

	memset(cl, 0, sizeof(*cl));
	while ((opt = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1)
		if ((rc = option(cl, opt, optarg)))
			return rc;
	if (optind < argc) {
		fprintf(stderr, "spamsiftd: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Reads the whole file (at most MAX_CONFIG_FILE bytes) into *buf. */
static int read_file(const char *path, char **buf, size_t *len, char *why, size_t wlen)
{
	if (!ss_read_file_at(AT_FDCWD, path, MAX_CONFIG_FILE, buf, len))
		return 0;
	snprintf(why, wlen, "%s: %s", path, errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
	return -1;
}

/* Reads the file (if any), applies the command line, checks the whole.
 * Returns 0, or -1 with "FILE:LINE: message" (or a message) in why. */
static int load_config(const cmdline *cl, config *c, char *why, size_t wlen)
{
	config_error e = {0, ""};
	char *buf = NULL;
	size_t len;
	int rc = -1;

	config_init(c);
	if (cl->file && read_file(cl->file, &buf, &len, why, wlen))
		return -1;
	if (cl->file && config_parse(c, buf, len, &e))
		snprintf(why, wlen, "%s:%u: %s", cl->file, e.line, e.msg);
	else if (config_apply(c, cl->kv, cl->nkv, &e))
		snprintf(why, wlen, "command line: %s", e.msg);
	else if (config_check(c, &e) && cl->file && e.line)
		snprintf(why, wlen, "%s:%u: %s", cl->file, e.line, e.msg);
	else if (e.msg[0])
		snprintf(why, wlen, "%s%s", e.msg, cl->file ? "" : " (see --help)");
	else
		rc = 0;
	free(buf);
	return rc;
}

/* $XDG_DATA_HOME/spamsift/model (or ~/.local/share/...), as spamsift uses. */
static const char *default_db(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (xdg && *xdg)
		snprintf(buf, cap, "%s/spamsift/model", xdg);
	else
		snprintf(buf, cap, "%s/.local/share/spamsift/model", home ? home : ".");
	return buf;
}

/* The identity of the model at `path` (its data file); 0 or -1. */
static int model_id(const char *path, dev_t *dev, ino_t *ino)
{
	char data[4300];
	struct stat st;

	snprintf(data, sizeof(data), "%s/data.mdb", path);
	if (stat(data, &st))
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static void model_put(model *m)
{
	if (m && __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		store_close(m->s);
		free(m->redis);
		free(m);
	}
}

/* The Redis settings of c as one string, to tell whether a reload
 * changed them; NULL when out of memory. */
static char *redis_settings(const config *c)
{
	char *s = NULL;

	if (asprintf(&s, "%s|%zu|%s|%s|%s|%g|%g|%zu|%zu|%g", c->redis, c->nredis_seeds,
	             c->redis_replica ? c->redis_replica : "",
	             c->redis_password_file ? c->redis_password_file : "",
	             c->redis_journal ? c->redis_journal : "", c->redis_cache, c->redis_timeout,
	             c->redis_journal_size, c->redis_user_cache, c->redis_user_wait) < 0)
		return NULL;
	return s;
}

/* The model on Redis: prev's when the settings are the same, else opened. */
static int model_get_redis(const config *c, model *prev, model **out, char *why, size_t wlen)
{
	char *key = redis_settings(c), ewhy[400] = "";
	store_redis_opts o = {
	    .url = c->redis,
	    .seeds = (const char *const *)c->redis_seeds,
	    .nseeds = c->nredis_seeds,
	    .replica_url = c->redis_replica,
	    .password_file = c->redis_password_file,
	    .timeout_ms = (int)(c->redis_timeout * 1000),
	    .stale_ms = c->redis_cache > 0 ? (int)(c->redis_cache * 1000) : -1,
	    .journal = c->redis_journal,
	    .journal_max = c->redis_journal_size,
	    .mirror = c->redis_cache > 0,
	    .user_cache_bytes = c->redis_user_cache << 20,
	    .user_wait_ms = c->redis_user_wait > 0 ? (int)(c->redis_user_wait * 1000 + 0.5) : -1,
	    .error = ewhy,
	    .error_len = sizeof(ewhy)};
	model *m;
	int err;

	if (!key)
		return snprintf(why, wlen, "out of memory"), -1;
	if (prev && prev->redis && !strcmp(prev->redis, key)) {
		free(key);
		__atomic_add_fetch(&prev->refs, 1, __ATOMIC_RELAXED);
		*out = prev;
		return 0;
	}
	if (!(m = calloc(1, sizeof(*m)))) {
		free(key);
		return snprintf(why, wlen, "out of memory"), -1;
	}
	if ((err = store_redis_open(&o, &m->s))) {
		snprintf(why, wlen, "model: %s", ewhy[0] ? ewhy : ss_strerror(err));
		free(key);
		free(m);
		return -1;
	}
	m->redis = key;
	m->refs = 1;
	*out = m;
	return 0;
}

/* The model at `path`: prev's when it is the same file, else opened. */
static int model_get(const char *path, model *prev, model **out, char *why, size_t wlen)
{
	model *m;
	dev_t dev;
	ino_t ino;
	int err;

	if (prev && !prev->redis && !model_id(path, &dev, &ino) && dev == prev->dev &&
	    ino == prev->ino) {
		__atomic_add_fetch(&prev->refs, 1, __ATOMIC_RELAXED);
		*out = prev;
		return 0;
	}
	if (!(m = calloc(1, sizeof(*m))))
		return snprintf(why, wlen, "out of memory"), -1;
	if ((err = store_lmdb_open(path, NULL, &m->s))) {
		snprintf(why, wlen, "model %.300s: %s%s%s", path, ss_strerror(err),
		         err == SS_EIO ? ": " : "", err == SS_EIO ? strerror(errno) : "");
		free(m);
		return -1;
	}
	model_id(path, &m->dev, &m->ino);
	m->refs = 1;
	*out = m;
	return 0;
}

static void rules_put(rules_ref *r)
{
	if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		rules_free(r->rs);
		free(r);
	}
}

/* The rule set of c: prev's when the files are unchanged, else built
 * (defaults first). On error, why has "FILE:LINE: reason". */
static int rules_get(const config *c, rules_ref *prev, rules_ref **out, char *why, size_t wlen)
{
	const char *const *paths = (const char *const *)c->rules;
	uint64_t fp = rules_fingerprint(paths, c->nrules);
	rules_error err;
	rules_ref *r;

	if (prev && prev->fp == fp) {
		__atomic_add_fetch(&prev->refs, 1, __ATOMIC_RELAXED);
		*out = prev;
		return 0;
	}
	if (!(r = calloc(1, sizeof(*r))))
		return snprintf(why, wlen, "out of memory"), -1;
	if (rules_build(paths, c->nrules, 0, &r->rs, &err)) {
		snprintf(why, wlen, "rules: %s", err.msg);
		free(r);
		return -1;
	}
	r->fp = fp;
	r->refs = 1;
	*out = r;
	return 0;
}

static void generation_free(server_gen *sg)
{
	generation *g = (generation *)sg;

	if (g->id)
		log_msg(LOG_INFO, "configuration %u: released", g->id);
	engine_free(g->g.e);
	rules_put(g->rules);
	model_put(g->m);
	config_release(&g->conf);
	free(g);
}

/* Builds a generation from the configuration: prev's model is reused when
 * the file is the same. Returns 0 or -1 with the reason in why. */
static int generation_make(const cmdline *cl, generation *prev, generation **out, char *why,
                           size_t wlen)
{
	generation *g = calloc(1, sizeof(*g));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char def[4096];
	engine_config ec;
	char ewhy[512] = "";
	int err;

	if (!g)
		return snprintf(why, wlen, "out of memory"), -1;
	g->g.free = generation_free;
	g->g.conf = &g->conf;
	if (load_config(cl, &g->conf, why, wlen))
		goto fail;
	if (g->conf.redis) {
		redis_url u;
		const char *uwhy;
		redis_url_parse(g->conf.redis, strlen(g->conf.redis), &u, &uwhy);
		if (u.service[0])
			snprintf(g->db, sizeof(g->db), "redis sentinel %s:%d service %s/%d", u.host,
			         u.port, u.service, u.db);
		else
			snprintf(g->db, sizeof(g->db), "redis %s:%d/%d", u.host, u.port, u.db);
		if (model_get_redis(&g->conf, prev ? prev->m : NULL, &g->m, why, wlen))
			goto fail;
	} else {
		snprintf(g->db, sizeof(g->db), "%s",
		         g->conf.db ? g->conf.db : default_db(def, sizeof(def)));
		if (model_get(g->db, prev ? prev->m : NULL, &g->m, why, wlen))
			goto fail;
	}
	if (rules_get(&g->conf, prev ? prev->rules : NULL, &g->rules, why, wlen))
		goto fail;
	g->g.model = g->m->s;
	g->g.db_path = g->db;
	engine_config_default(&ec);
	ec.model = g->m->s;
	ec.rules = g->rules->rs;
	ec.add_header_at = g->conf.add_header_at;
	ec.reject_at = g->conf.reject_at;
	ec.max_size = g->conf.max_size;
	ec.checks.resolver = g->conf.resolver;
	ec.checks.dns_timeout = g->conf.dns_timeout;
	ec.checks.authserv_id = g->conf.authserv_id;
	ec.checks.fp_server = g->conf.fp_server;
	ec.checks.fp_key = g->conf.fp_key;
	ec.error = ewhy;
	ec.error_len = sizeof(ewhy);
	if ((err = engine_new(&ec, &g->g.e))) {
		snprintf(why, wlen, "engine: %s", ewhy[0] ? ewhy : ss_strerror(err));
		goto fail;
	}
	g->g.lim.max_size = g->conf.max_size;
	g->g.lim.timeout = g->conf.timeout;
	g->g.lim.request_timeout = g->conf.request_timeout;
	g->g.lim.max_conns = g->conf.max_conn;
	g->g.lim.nthreads = g->conf.threads ? g->conf.threads
	                    : ncpu > 0      ? (unsigned)(ncpu < 64 ? ncpu : 64)
	                                    : 1;
	*out = g;
	return 0;
fail:
	generation_free(&g->g);
	return -1;
}

static void log_settings(const generation *g)
{
	log_msg(LOG_INFO,
	        "configuration %u: model %s, add_header_at %g, reject_at %g, messages up to "
	        "%zu bytes, timeout %.1f s, request_timeout %.1f s, max_conn %zu, "
	        "milter_on_error %s, %zu rules, resolver %s",
	        g->id, g->db, g->conf.add_header_at, g->conf.reject_at, g->conf.max_size,
	        g->conf.timeout, g->conf.request_timeout, g->conf.max_conn,
	        g->conf.milter_on_error ? "accept" : "tempfail", rules_count(g->rules->rs),
	        g->conf.resolver ? g->conf.resolver : "off");
}

static void apply_log(const config *c)
{
	log_set_level(c->log_level);
	log_set_syslog(c->log_syslog);
}

/* SIGHUP, on the main thread: a new generation, or the old one kept. */
static void reload(server *s, void *arg)
{
	daemon_state *d = arg;
	generation *g;
	char why[600];

	log_msg(LOG_INFO, "SIGHUP: reloading %s", d->cl->file ? d->cl->file : "the command line");
	if (generation_make(d->cl, d->cur, &g, why, sizeof(why))) {
		log_msg(LOG_ERROR, "reload refused: %s; still serving with configuration %u", why,
		        d->cur->id);
		return;
	}
	if (!config_same_listeners(&g->conf, &d->cur->conf)) {
		log_msg(LOG_ERROR,
		        "reload refused: listeners or threads changed: restart to change "
		        "listeners; still serving with configuration %u",
		        d->cur->id);
		generation_free(&g->g);
		return;
	}
	g->id = ++d->ngen;
	apply_log(&g->conf);
	log_settings(g);
	d->cur = g;
	server_swap(s, &g->g);
}

/* Opens one door's listeners and prints "DOOR ADDRESS" for each. */
static int open_door(server *s, const door_ops *d, char *const *addrs, size_t n)
{
	char bound[160];

	for (size_t i = 0; i < n; i++) {
		if (server_listen(s, d, addrs[i], bound, sizeof(bound)))
			return -1;
		printf("%s %s\n", d->name, bound);
		log_msg(LOG_INFO, "%s: listening on %s", d->name, bound);
	}
	return 0;
}

/* The web page's daemon-wide parts (kept across reloads). */
typedef struct web_parts {
	history *h;
	history_writer *w;
	web_sessions *sessions;
} web_parts;

static void web_close(web_parts *wp)
{
	history_writer_free(wp->w); /* commits what is queued */
	history_close(wp->h);
	web_sessions_free(wp->sessions);
}

/* Opens the history (with http and history > 0; a history that cannot be
 * opened is logged and done without) and the sessions; 0 or -1 after
 * printing why. */
static int web_open(server *s, const generation *g, web_parts *wp)
{
	const config *c = &g->conf;
	char dir[4300];
	uint64_t budget = (uint64_t)c->history_raw_mb << 20;
	int err;

	if (!(wp->sessions = web_sessions_new()))
		return fputs("spamsiftd: out of memory\n", stderr), -1;
	if (c->nhttp && c->history && c->redis && !c->history_dir) {
		/* With the model on Redis, the history is there too (shared by
		 * the daemons); Redis down is no error here: writes are dropped
		 * and counted until it is back. */
		history_redis_opts ro = {.url = c->redis,
		                         .password_file = c->redis_password_file,
		                         .replica = c->redis_replica,
		                         .seeds = (const char *const *)c->redis_seeds,
		                         .nseeds = c->nredis_seeds,
		                         .timeout_ms = (int)(c->redis_timeout * 1000),
		                         .max_entries = c->history,
		                         .raw_budget = budget};
		const char *why = NULL;
		if ((err = history_redis_open(&ro, &wp->h, &why)))
			log_msg(LOG_ERROR, "history on Redis: %s: running without a history",
			        why ? why : ss_strerror(err));
		else if (!(wp->w = history_writer_new(wp->h, 8192, 50)))
			log_msg(LOG_ERROR,
			        "history: cannot start its writer: running without a history");
		else
			log_msg(LOG_INFO,
			        "history on Redis: the last %zu scans, %zu MiB of messages",
			        c->history, c->history_raw_mb);
	} else if (c->nhttp && c->history) {
		snprintf(dir, sizeof(dir), "%s", c->history_dir ? c->history_dir : g->db);
		if (!c->history_dir)
			snprintf(dir, sizeof(dir), "%s/history", g->db);
		/* The mail path comes first: without its history, the daemon
		 * still scans (the page says no history is kept). */
		if ((err = history_lmdb_open(dir, c->history, budget, &wp->h)))
			log_msg(LOG_ERROR, "history %s: %s%s%s: running without a history", dir,
			        ss_strerror(err), err == SS_EIO ? ": " : "",
			        err == SS_EIO ? strerror(errno) : "");
		else if (!(wp->w = history_writer_new(wp->h, 8192, 50)))
			log_msg(LOG_ERROR,
			        "history: cannot start its writer: running without a history");
		else
			log_msg(LOG_INFO, "history %s: the last %zu scans, %zu MiB of messages",
			        dir, c->history, c->history_raw_mb);
	}
	if (!wp->w) {
		history_close(wp->h);
		wp->h = NULL;
	}
	server_set_web(s, wp->h, wp->w, budget / 16, wp->sessions);
	return 0;
}

static int open_doors(server *s, const config *c)
{
	int rc = open_door(s, &door_spamd, c->spamd, c->nspamd) ||
	         open_door(s, &door_milter, c->milter, c->nmilter) ||
	         open_door(s, &door_http, c->http, c->nhttp);

	fflush(stdout);
	return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
	cmdline cl;
	daemon_state d = {&cl, NULL, 0};
	web_parts wp = {NULL, NULL, NULL};
	server *s = NULL;
	char why[600];
	int rc = parse_cmdline(argc, argv, &cl);

	if (rc)
		return rc > 0 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	if (generation_make(&cl, NULL, &d.cur, why, sizeof(why))) {
		fprintf(stderr, "spamsiftd: %s\n", why);
		return 2;
	}
	d.cur->id = ++d.ngen;
	log_set_level(d.cur->conf.log_level);
	log_msg(LOG_INFO, "model %s", d.cur->db);
	if (!(s = server_new(&d.cur->g))) {
		generation_free(&d.cur->g);
		return 2;
	}
	rc = 2;
	if (web_open(s, d.cur, &wp) || open_doors(s, &d.cur->conf))
		goto out;
	apply_log(&d.cur->conf);
	log_msg(LOG_INFO, "spamsiftd %s: %u threads%s%s", SS_VERSION, d.cur->g.lim.nthreads,
	        cl.file ? ", configuration from " : "", cl.file ? cl.file : "");
	log_settings(d.cur);
	server_on_reload(s, reload, &d);
	rc = server_run(s) ? 2 : 0;
	log_msg(LOG_INFO, "stopped");
out:
	server_free(s);
	web_close(&wp);
	return rc;
}
