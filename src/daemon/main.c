/*
 * main.c: spamsiftd, the filter in the mail path. Reads its options, builds
 * the engine, listens on the doors asked for, prints the bound addresses
 * on its first lines of standard output, and serves in the foreground
 * until SIGTERM or SIGINT (then finishes the requests in flight and exits
 * 0). Logs go to standard error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/door_milter.h"
#include "daemon/door_http.h"
#include "daemon/door_spamd.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "engine/engine.h"
#include "proto/milter.h"

#define MAX_DOORS 16

static const char usage[] =
    "usage: spamsiftd [OPTIONS]\n"
    "\n"
    "The spamsift daemon: scans and learns mail for the MTA through the spamd\n"
    "protocol (spamc, Exim, procmail...), the milter protocol (Postfix,\n"
    "Sendmail) and an HTTP JSON API with Prometheus metrics. Runs in the\n"
    "foreground, logs to standard error; SIGTERM or SIGINT stop it after the\n"
    "requests in flight.\n"
    "It prints each address it listens on, one per line (\"spamd 127.0.0.1:783\").\n"
    "\n"
    "  --db PATH          the model (default $XDG_DATA_HOME/spamsift/model,\n"
    "                     created when absent; learn with spamsift learn or TELL)\n"
    "  --spamd ADDR       listen for spamd clients on ADDR: HOST:PORT (port 0\n"
    "                     picks a free one), [IPv6]:PORT or unix:/path;\n"
    "                     may be given more than once\n"
    "  --milter ADDR      listen for an MTA's milter connections on ADDR (same\n"
    "                     forms); Postfix: smtpd_milters = inet:127.0.0.1:11332\n"
    "  --milter-reject REPLY\n"
    "                     the SMTP reply to a message whose action is reject\n"
    "                     (default \"" DOOR_MILTER_REJECT "\";\n"
    "                     \"5xy x.y.z text\" with an enhanced status code)\n"
    "  --milter-on-error accept|tempfail\n"
    "                     what the milter door does with a message it cannot\n"
    "                     scan: an internal error, or one over --max-size\n"
    "                     (default tempfail)\n"
    "  --http ADDR        listen for HTTP on ADDR (same forms): POST /check,\n"
    "                     /learn/spam, /learn/ham, /unlearn (message in the\n"
    "                     body; X-User, X-Client-IP, X-Helo, X-Mail-From,\n"
    "                     X-Rcpt-To headers), GET /health, GET /metrics\n"
    "                     (Prometheus); may be given more than once\n"
    "  --threads N        worker threads, each with its own event loop\n"
    "                     (default: one per processor)\n"
    "  --max-size BYTES   largest message accepted (default 33554432; larger\n"
    "                     ones get an EX_DATAERR reply, HTTP 413, or through\n"
    "                     the milter door, --milter-on-error)\n"
    "  --timeout SECONDS  a client silent this long is dropped (default 30; an\n"
    "                     MTA's milter connection lasts its SMTP session, so\n"
    "                     with --milter give Postfix's smtpd_timeout, 300)\n"
    "  --max-conn N       open connections at most (default 1024; more are\n"
    "                     refused with EX_TEMPFAIL)\n"
    "  --quiet            log only warnings and errors, not each request\n"
    "  -h, --help         show this help\n"
    "  --version          show the version\n"
    "\n"
    "Example: spamsiftd --db /var/lib/spamsift/model --spamd 127.0.0.1:783 \\\n"
    "                   --milter 127.0.0.1:11332 --http 127.0.0.1:11333\n"
    "         spamc -d 127.0.0.1 -p 783 -c < message.eml\n"
    "         curl --data-binary @message.eml http://127.0.0.1:11333/check\n"
    "\n"
    "Exit status: 0 after a clean stop, 2 on a usage error or when a socket\n"
    "or the model cannot be opened.\n";

typedef struct options {
	const char *db;
	const char *spamd[MAX_DOORS];
	size_t nspamd;
	const char *milter[MAX_DOORS];
	size_t nmilter;
	door_milter_policy mpol;
	const char *http[MAX_DOORS];
	size_t nhttp;
	server_limits lim;
	int quiet;
} options;

/* Reads a number within [lo, hi]; returns 0 or -1 after saying why. */
static int number(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "spamsiftd: %s: '%s' is not a number from %g to %g\n", opt, s, lo,
		        hi);
		return -1;
	}
	*out = v;
	return 0;
}

enum {
	O_DB = 256,
	O_SPAMD,
	O_THREADS,
	O_MAX_SIZE,
	O_TIMEOUT,
	O_MAX_CONN,
	O_QUIET,
	O_VERSION,
	O_MILTER,
	O_MILTER_REJECT,
	O_MILTER_ON_ERROR,
	O_HTTP,
};

static const struct option longopts[] = {
    {"db", required_argument, NULL, O_DB},
    {"spamd", required_argument, NULL, O_SPAMD},
    {"http", required_argument, NULL, O_HTTP},
    {"threads", required_argument, NULL, O_THREADS},
    {"max-size", required_argument, NULL, O_MAX_SIZE},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"max-conn", required_argument, NULL, O_MAX_CONN},
    {"quiet", no_argument, NULL, O_QUIET},
    {"milter", required_argument, NULL, O_MILTER},
    {"milter-reject", required_argument, NULL, O_MILTER_REJECT},
    {"milter-on-error", required_argument, NULL, O_MILTER_ON_ERROR},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0},
};

/* The milter door's options; returns 0, or -1 after saying why. */
static int milter_option(options *o, int opt, const char *arg)
{
	switch (opt) {
	case O_MILTER:
		if (o->nmilter == MAX_DOORS)
			return fprintf(stderr, "spamsiftd: too many --milter\n"), -1;
		o->milter[o->nmilter++] = arg;
		return 0;
	case O_MILTER_REJECT:
		if (!milter_reply_code_ok(arg))
			return fprintf(stderr,
			               "spamsiftd: --milter-reject: '%s' is not a one-line SMTP "
			               "refusal like \"%s\"\n",
			               arg, DOOR_MILTER_REJECT),
			       -1;
		o->mpol.reject_reply = arg;
		return 0;
	default: /* O_MILTER_ON_ERROR */
		if (strcmp(arg, "accept") && strcmp(arg, "tempfail"))
			return fprintf(
			           stderr,
			           "spamsiftd: --milter-on-error: accept or tempfail, not '%s'\n",
			           arg),
			       -1;
		o->mpol.on_error_accept = !strcmp(arg, "accept");
		return 0;
	}
}

/* Applies one option; returns 0, 1 to exit successfully, -1 on error. */
static int option(options *o, int opt, const char *arg)
{
	double v;

	switch (opt) {
	case O_MILTER:
	case O_MILTER_REJECT:
	case O_MILTER_ON_ERROR:
		return milter_option(o, opt, arg);
	case O_DB:
		o->db = arg;
		return 0;
	case O_SPAMD:
		if (o->nspamd == MAX_DOORS)
			return fprintf(stderr, "spamsiftd: too many --spamd\n"), -1;
		o->spamd[o->nspamd++] = arg;
		return 0;
	case O_HTTP:
		if (o->nhttp == MAX_DOORS)
			return fprintf(stderr, "spamsiftd: too many --http\n"), -1;
		o->http[o->nhttp++] = arg;
		return 0;
	case O_THREADS:
		if (number("--threads", arg, 1, 256, &v))
			return -1;
		o->lim.nthreads = (unsigned)v;
		return 0;
	case O_MAX_SIZE:
		if (number("--max-size", arg, 1024, 1 << 30, &v))
			return -1;
		o->lim.max_size = (size_t)v;
		return 0;
	case O_TIMEOUT:
		return number("--timeout", arg, 0.05, 86400, &o->lim.timeout);
	case O_MAX_CONN:
		if (number("--max-conn", arg, 1, 1000000, &v))
			return -1;
		o->lim.max_conns = (size_t)v;
		return 0;
	case O_QUIET:
		o->quiet = 1;
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

static int parse_options(int argc, char **argv, options *o)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int opt, rc;

	memset(o, 0, sizeof(*o));
	o->lim.max_size = 32u << 20;
	o->lim.timeout = 30;
	o->lim.max_conns = 1024;
	o->mpol.reject_reply = DOOR_MILTER_REJECT;
	o->lim.nthreads = ncpu > 0 ? (unsigned)(ncpu < 64 ? ncpu : 64) : 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		if ((rc = option(o, opt, optarg)))
			return rc;
	if (optind < argc) {
		fprintf(stderr, "spamsiftd: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (!o->nspamd && !o->nmilter && !o->nhttp) {
		fprintf(stderr, "spamsiftd: nothing to listen on: give --spamd ADDR, --milter "
		                "ADDR or --http ADDR (see --help)\n");
		return -1;
	}
	return 0;
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

static int open_engine(const options *o, engine **e)
{
	char def[4200];
	engine_config c;
	int err;

	engine_config_default(&c);
	c.db = o->db ? o->db : default_db(def, sizeof(def));
	c.max_size = o->lim.max_size;
	if ((err = engine_new(&c, e)))
		log_msg(LOG_ERROR, "model %s: %s%s%s", c.db, ss_strerror(err),
		        err == SS_EIO ? ": " : "", err == SS_EIO ? strerror(errno) : "");
	else
		log_msg(LOG_INFO, "model %s", c.db);
	return err;
}

/* Opens every listener and prints "DOOR ADDRESS" for each. */
static int open_doors(server *s, const options *o)
{
	char bound[160];

	for (size_t i = 0; i < o->nspamd; i++) {
		if (server_listen(s, &door_spamd, o->spamd[i], bound, sizeof(bound)))
			return -1;
		printf("spamd %s\n", bound);
		log_msg(LOG_INFO, "spamd: listening on %s", bound);
	}
	for (size_t i = 0; i < o->nmilter; i++) {
		if (server_listen(s, &door_milter, o->milter[i], bound, sizeof(bound)))
			return -1;
		printf("milter %s\n", bound);
		log_msg(LOG_INFO, "milter: listening on %s", bound);
	}
	door_milter_configure(&o->mpol);
	for (size_t i = 0; i < o->nhttp; i++) {
		if (server_listen(s, &door_http, o->http[i], bound, sizeof(bound)))
			return -1;
		printf("http %s\n", bound);
		log_msg(LOG_INFO, "http: listening on %s", bound);
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	options o;
	engine *e = NULL;
	server *s = NULL;
	int rc = parse_options(argc, argv, &o);

	if (rc)
		return rc > 0 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	log_set_level(o.quiet ? LOG_WARN : LOG_INFO);
	rc = 2;
	if (open_engine(&o, &e) || !(s = server_new(e, &o.lim)) || open_doors(s, &o))
		goto out;
	log_msg(LOG_INFO, "spamsiftd %s: %u threads, messages up to %zu bytes, timeout %.1f s",
	        SS_VERSION, o.lim.nthreads, o.lim.max_size, o.lim.timeout);
	rc = server_run(s) ? 2 : 0;
	log_msg(LOG_INFO, "stopped");
out:
	server_free(s);
	engine_free(e);
	return rc;
}
