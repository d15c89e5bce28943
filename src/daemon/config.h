/*
 * config.h: spamsiftd's settings and the parser of its configuration file
 * (dist/spamsiftd.conf is the annotated example). I/O-free: the caller
 * reads the file and hands over its bytes, so the parser can be unit
 * tested and fuzzed.
 *
 * The format is one setting per line, "key = value"; blank lines and lines
 * whose first non-blank character is '#' are ignored (a '#' later in a
 * line is part of the value, so SMTP replies and paths may hold one).
 * Spaces around the key and the value are dropped, and one pair of double
 * quotes around the whole value too. Keys are the long command-line
 * options without their dashes ("max_size" or "max-size"). spamd, milter
 * and http may be given several times (one listener each), rules (one
 * rule file or folder each) and http_user (one web user each); any other
 * key given twice is an error, as is an unknown key or a bad value.
 *
 * Command-line options are applied over a parsed file with config_apply():
 * each key given there replaces the file's value (all of its values, for
 * the repeated keys).
 */
#ifndef SS_DAEMON_CONFIG_H
#define SS_DAEMON_CONFIG_H

#include <stddef.h>

#define CONFIG_MAX_LISTEN 16 /* listeners per door */
#define CONFIG_MAX_RULES 32  /* rules = PATH lines */

/* the web page (docs/WEB.md) */
#define CONFIG_MAX_USERS 32              /* http_user = NAME:ROLE:SECRET lines */
#define CONFIG_DEFAULT_HISTORY 100000    /* scans kept for the web page */
#define CONFIG_DEFAULT_HISTORY_RAW_MB 64 /* MiB of messages kept with them */

typedef enum config_key {
	CONFIG_DB,
	CONFIG_SPAMD,
	CONFIG_MILTER,
	CONFIG_HTTP,
	CONFIG_THREADS,
	CONFIG_MAX_SIZE,
	CONFIG_TIMEOUT,
	CONFIG_REQUEST_TIMEOUT,
	CONFIG_MAX_CONN,
	CONFIG_MILTER_REJECT,
	CONFIG_MILTER_ON_ERROR,
	CONFIG_LOG,
	CONFIG_LOG_LEVEL,
	CONFIG_ADD_HEADER_AT,
	CONFIG_REJECT_AT,
	CONFIG_RULES,
	CONFIG_RESOLVER,
	CONFIG_DNS_TIMEOUT,
	CONFIG_AUTHSERV_ID,
	CONFIG_CONTACTS,
	CONFIG_EVIDENCE,
	CONFIG_GEOIP,
	CONFIG_REPORT_FROM,
	CONFIG_FP_SERVER,
	CONFIG_FP_KEY,
	CONFIG_HISTORY,
	CONFIG_HISTORY_DIR,
	CONFIG_HISTORY_RAW_MB,
	CONFIG_HTTP_USER,
	CONFIG_REDIS,
	CONFIG_REDIS_REPLICA,
	CONFIG_REDIS_PASSWORD_FILE,
	CONFIG_REDIS_JOURNAL,
	CONFIG_REDIS_CACHE,
	CONFIG_REDIS_TIMEOUT,
	CONFIG_REDIS_JOURNAL_SIZE,
	CONFIG_REDIS_USER_CACHE,
	CONFIG_REDIS_USER_WAIT,
	CONFIG_NKEYS
} config_key;

/* Log levels, as daemon/log.h numbers them. */
enum { CONFIG_LOG_ERROR = 0, CONFIG_LOG_WARN, CONFIG_LOG_INFO, CONFIG_LOG_DEBUG };

typedef struct config {
	char *db; /* NULL: the default model path */
	char *spamd[CONFIG_MAX_LISTEN];
	size_t nspamd;
	char *milter[CONFIG_MAX_LISTEN];
	size_t nmilter;
	char *http[CONFIG_MAX_LISTEN];
	size_t nhttp;
	unsigned threads; /* 0: one per processor */
	size_t max_size;
	double timeout;
	double request_timeout; /* seconds for a whole request; 0: no deadline */
	size_t max_conn;
	char *milter_reject;  /* NULL: CONFIG_DEFAULT_REJECT */
	int milter_on_error;  /* 1: accept unscanned, 0: tempfail */
	int log_syslog;       /* 1: syslog, 0: standard error */
	int log_level;        /* CONFIG_LOG_* */
	double add_header_at; /* points */
	double reject_at;
	char *rules[CONFIG_MAX_RULES]; /* rule files or folders, after the defaults */
	size_t nrules;
	char *resolver;     /* "IP:PORT", "system" or NULL/"off": no DNS checks */
	double dns_timeout; /* seconds of DNS per scan */
	char *authserv_id;  /* Authentication-Results name; NULL: host name */
	char *contacts;     /* reports: abuse contacts file (report/contacts.h) */
	char *evidence;     /* reports: evidence store directory; NULL: no reports */
	char *geoip;        /* reports: MaxMind country database, or NULL */
	char *report_from;  /* reports: the ARF's From; NULL: report/report.h's */
	char *fp_server;    /* spamsift-fpd IP:PORT: lookups, reported fingerprints */
	char *fp_key;       /* its key file (spamsift fp keygen's line) */
	char *redis;        /* the model on Redis: redis:// URL, or NULL (db) */
	char *redis_seeds[CONFIG_MAX_LISTEN]; /* more redis lines: a Cluster's other seeds */
	size_t nredis_seeds;
	char *redis_replica;         /* a replica to read from, or NULL */
	char *redis_password_file;   /* the password's file, or NULL */
	char *redis_journal;         /* learns kept while Redis is down; NULL: none */
	double redis_cache;          /* seconds the read cache may lag (default 1; 0: none) */
	double redis_timeout;        /* seconds to wait for Redis (default 1) */
	size_t redis_journal_size;   /* its bound in bytes (default 64 MB) */
	size_t redis_user_cache;     /* MB of users' model copies (default 256) */
	double redis_user_wait;      /* seconds a scan waits for a user's copy (0.05) */
	unsigned line[CONFIG_NKEYS]; /* line where each key was set, 0 if not */

	/* the web page (issue 8, docs/WEB.md) */
	size_t history;                    /* scans kept for the web page; 0: none */
	char *history_dir;                 /* NULL: DB/history */
	size_t history_raw_mb;             /* MiB of raw messages kept with them */
	char *http_user[CONFIG_MAX_USERS]; /* "NAME:ROLE:SECRET" (web/auth.h) */
	size_t nhttp_user;
} config;

#define CONFIG_DEFAULT_REJECT "550 5.7.1 Message rejected as spam"

/* Where and why parsing or checking failed. */
typedef struct config_error {
	unsigned line; /* 1-based; 0 when the error is not on one line */
	char msg[256];
} config_error;

/* A command-line setting: key and value (not owned). */
typedef struct config_kv {
	config_key key;
	const char *value;
} config_kv;

/* Fills c with the defaults (no listener, no allocation). */
void config_init(config *c);

/* Frees what c owns and sets it back to the defaults. */
void config_release(config *c);

/* Returns the key's name in the file ("max_size"). */
const char *config_key_name(config_key k);

/* Returns the key named `name` (underscores or dashes), or -1. */
int config_key_of(const char *name, size_t len);

/* Parses len bytes of a configuration file into c (which config_init()
 * prepared), over the values already there. Returns 0, or -1 with *e set
 * (c then holds what came before the error; release it). SS_ENOMEM is
 * reported the same way, as "out of memory". */
int config_parse(config *c, const char *buf, size_t len, config_error *e);

/* Sets one key from a NUL-terminated value given at `line` (0: from the
 * command line, where a second value replaces the first). Returns 0 or
 * -1 with e->msg set (e->line = line). */
int config_set(config *c, config_key k, const char *value, unsigned line, config_error *e);

/* Applies n command-line settings over c: each replaces the file's value,
 * and the first of a listener key replaces all of the file's listeners of
 * that door. Returns 0 or -1 with *e set. */
int config_apply(config *c, const config_kv *kv, size_t n, config_error *e);

/* Returns whether an http listener address stays on this machine
 * (127.x.x.x, [::1], localhost, unix:). */
int config_loopback(const char *addr);

/* Checks what no single key can: at least one listener, reject_at not
 * below add_header_at, http_user lines when http listens beyond
 * loopback. Returns 0 or -1 with *e set (the line of the key
 * at fault when the file set it). */
int config_check(const config *c, config_error *e);

/* Returns whether a and b listen on the same addresses, and run the same
 * number of threads (what a reload cannot change). */
int config_same_listeners(const config *a, const config *b);

#endif
