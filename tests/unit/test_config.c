/*
 * test_config.c: the configuration file parser (every key, comments,
 * quotes, CRLF, repeated listeners, errors with their line numbers,
 * limits), command-line settings over a file, and the checks a reload
 * makes.
 */
#include <math.h>
#include <stdlib.h>

#include "daemon/config.h"
#include "harness.h"
#include "util/buf.h"

static int parse(config *c, const char *text, config_error *e)
{
	config_init(c);
	return config_parse(c, text, strlen(text), e);
}

TEST(config_defaults)
{
	config c;

	config_init(&c);
	CHECK(c.db == NULL && c.nspamd == 0 && c.threads == 0);
	CHECK(c.max_size == 32u << 20 && c.timeout == 30 && c.max_conn == 1024);
	CHECK(c.request_timeout == 60);
	CHECK(c.add_header_at == 0 && fabs(c.reject_at - log(999.0)) < 1e-12);
	CHECK(c.log_level == CONFIG_LOG_INFO && !c.log_syslog && !c.milter_on_error);
	config_release(&c);
}

TEST(config_every_key)
{
	static const char text[] = "# spamsiftd.conf\n"
	                           "\n"
	                           "db = /var/lib/spamsift/model\n"
	                           "  spamd=127.0.0.1:783\n"
	                           "spamd = unix:/run/spamsift/spamd.sock\r\n"
	                           "milter = 127.0.0.1:11332\n"
	                           "http\t=\t[::1]:11333  \n"
	                           "threads = 3\n"
	                           "max_size = 1048576\n"
	                           "timeout = 300\n"
	                           "max-conn = 50\n"
	                           "milter_reject = \"550 5.7.1 No thanks # really\"\n"
	                           "milter_on_error = accept\n"
	                           "log = syslog\n"
	                           "log_level = debug\n"
	                           "add_header_at = -1.5\n"
	                           "reject_at = 12\n"
	                           "   # indented comment\n";
	config c;
	config_error e;

	CHECK(parse(&c, text, &e) == 0);
	CHECK(c.db && !strcmp(c.db, "/var/lib/spamsift/model"));
	CHECK(c.nspamd == 2 && !strcmp(c.spamd[0], "127.0.0.1:783") &&
	      !strcmp(c.spamd[1], "unix:/run/spamsift/spamd.sock"));
	CHECK(c.nmilter == 1 && !strcmp(c.milter[0], "127.0.0.1:11332"));
	CHECK(c.nhttp == 1 && !strcmp(c.http[0], "[::1]:11333"));
	CHECK(c.threads == 3 && c.max_size == 1048576 && c.timeout == 300 && c.max_conn == 50);
	CHECK(c.milter_reject && !strcmp(c.milter_reject, "550 5.7.1 No thanks # really"));
	CHECK(c.milter_on_error == 1 && c.log_syslog == 1 && c.log_level == CONFIG_LOG_DEBUG);
	CHECK(c.add_header_at == -1.5 && c.reject_at == 12);
	CHECK(c.line[CONFIG_DB] == 3 && c.line[CONFIG_REJECT_AT] == 17);
	CHECK(config_check(&c, &e) == 0);
	config_release(&c);
	CHECK(c.db == NULL && c.nspamd == 0);
}

/* Each bad line gives its own line number and says what is wrong. */
TEST(config_errors)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} bad[] = {
	    {"spamd = 127.0.0.1:783\nbogus = 1\n", 2, "unknown key 'bogus'"},
	    {"\n\nno equals sign\n", 3, "expected 'key = value'"},
	    {"db = a\ndb = b\n", 2, "db given twice (first on line 1)"},
	    {"threads = 0\n", 1, "threads: '0' is not a number"},
	    {"threads = many\n", 1, "not a number"},
	    {"max_size = 10\n", 1, "max_size"},
	    {"timeout = 1e999\n", 1, "timeout"},
	    {"max_conn = 5x\n", 1, "max_conn"},
	    {"reject_at = nan\n", 1, "reject_at"},
	    {"milter_reject = 250 ok\n", 1, "not a one-line SMTP refusal"},
	    {"milter_on_error = maybe\n", 1, "accept or tempfail"},
	    {"log = file\n", 1, "stderr or syslog"},
	    {"log_level = loud\n", 1, "error, warning, info or debug"},
	    {"db =\n", 1, "db: empty value"},
	    {"db = \"\"\n", 1, "db: empty value"},
	    {"= x\n", 1, "unknown key ''"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config c;
		config_error e;
		config_init(&c);
		CHECK(config_parse(&c, bad[i].text, strlen(bad[i].text), &e) == -1);
		CHECK(e.line == bad[i].line);
		CHECK_CONTAINS(e.msg, strlen(e.msg), bad[i].msg);
		config_release(&c);
	}
}

TEST(config_nul_byte)
{
	static const char text[] = "# ok\ndb = a\0b\n";
	config c;
	config_error e;

	config_init(&c);
	CHECK(config_parse(&c, text, sizeof(text) - 1, &e) == -1 && e.line == 2);
	CHECK_CONTAINS(e.msg, strlen(e.msg), "NUL byte");
	config_release(&c);
}

TEST(config_limits)
{
	config c;
	config_error e;
	sbuf b = SBUF_INIT;
	char *big = malloc(5000);

	for (int i = 0; i < CONFIG_MAX_LISTEN; i++)
		sbuf_addf(&b, "http = 127.0.0.1:%d\n", 1000 + i);
	CHECK(parse(&c, b.p, &e) == 0 && c.nhttp == CONFIG_MAX_LISTEN);
	config_release(&c);
	sbuf_addf(&b, "http = 127.0.0.1:9\n");
	CHECK(parse(&c, b.p, &e) == -1 && e.line == CONFIG_MAX_LISTEN + 1);
	CHECK_CONTAINS(e.msg, strlen(e.msg), "more than 16 listeners");
	config_release(&c);
	memset(big, 'x', 4999);
	memcpy(big, "db = ", 5);
	big[4999] = 0;
	CHECK(parse(&c, big, &e) == -1 && e.line == 1);
	CHECK_CONTAINS(e.msg, strlen(e.msg), "longer than");
	config_release(&c);
	big[4095 + 5] = 0; /* 4095 bytes of value: fits */
	CHECK(parse(&c, big, &e) == 0 && strlen(c.db) == 4095);
	config_release(&c);
	free(big);
	sbuf_release(&b);
}

TEST(config_empty_and_odd_files)
{
	config c;
	config_error e;

	CHECK(parse(&c, "", &e) == 0);
	CHECK(config_check(&c, &e) == -1 && e.line == 0);
	CHECK_CONTAINS(e.msg, strlen(e.msg), "nothing to listen on");
	config_release(&c);
	CHECK(parse(&c, "spamd = 127.0.0.1:0", &e) == 0 && c.nspamd == 1); /* no final newline */
	config_release(&c);
	CHECK(parse(&c, "\r\n\t\r\n# x = y\n", &e) == 0 && c.line[CONFIG_DB] == 0);
	config_release(&c);
	CHECK(parse(&c, "db = \"\n", &e) == 0 && !strcmp(c.db, "\"")); /* lone quote kept */
	config_release(&c);
}

TEST(config_check_thresholds)
{
	config c;
	config_error e;

	CHECK(parse(&c, "spamd = 127.0.0.1:0\nadd_header_at = 5\n\nreject_at = 4\n", &e) == 0);
	CHECK(config_check(&c, &e) == -1 && e.line == 4);
	CHECK_CONTAINS(e.msg, strlen(e.msg), "reject_at (4) is below add_header_at (5)");
	config_release(&c);
	CHECK(parse(&c, "spamd = 127.0.0.1:0\nadd_header_at = 8\n", &e) == 0);
	CHECK(config_check(&c, &e) == -1 && e.line == 2); /* default reject_at 6.9 */
	config_release(&c);
}

/* Command-line settings replace the file's, listeners door by door. */
/* The whole-request deadline: seconds, 0 for none, bounded, given once;
 * the command line replaces the file's. */
TEST(config_request_timeout)
{
	static const struct {
		const char *text;
		int ok;
		double v;
	} cases[] = {
	    {"request_timeout = 120\n", 1, 120},
	    {"request-timeout = 0.5\n", 1, 0.5},
	    {"request_timeout = 0\n", 1, 0},
	    {"request_timeout = 86400\n", 1, 86400},
	    {"request_timeout = -1\n", 0, 0},
	    {"request_timeout = 0.01\n", 0, 0},
	    {"request_timeout = 86401\n", 0, 0},
	    {"request_timeout = soon\n", 0, 0},
	    {"request_timeout = 1\nrequest_timeout = 2\n", 0, 0},
	};
	config_kv kv = {CONFIG_REQUEST_TIMEOUT, "7"};
	config c;
	config_error e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(parse(&c, cases[i].text, &e) == (cases[i].ok ? 0 : -1));
		if (cases[i].ok)
			CHECK(c.request_timeout == cases[i].v &&
			      c.line[CONFIG_REQUEST_TIMEOUT] == 1);
		else
			CHECK_CONTAINS(e.msg, strlen(e.msg), "request_timeout");
		config_release(&c);
	}
	CHECK(parse(&c, "timeout = 5\nrequest_timeout = 9\n", &e) == 0);
	CHECK(c.timeout == 5 && c.request_timeout == 9);
	CHECK(config_apply(&c, &kv, 1, &e) == 0 && c.request_timeout == 7 && c.timeout == 5);
	CHECK(c.line[CONFIG_REQUEST_TIMEOUT] == 0);
	config_release(&c);
	CHECK(config_key_of("request-timeout", 15) == CONFIG_REQUEST_TIMEOUT);
}

TEST(config_apply_over_file)
{
	static const char text[] = "db = /file/model\nspamd = 127.0.0.1:1\nspamd = 127.0.0.1:2\n"
	                           "http = 127.0.0.1:3\nthreads = 2\n";
	config_kv kv[] = {{CONFIG_SPAMD, "127.0.0.1:7"}, {CONFIG_SPAMD, "unix:/tmp/s"},
	                  {CONFIG_DB, "/cli/model"},     {CONFIG_DB, "/cli/model2"},
	                  {CONFIG_THREADS, "4"},         {CONFIG_LOG, "syslog"}};
	config c;
	config_error e;

	CHECK(parse(&c, text, &e) == 0);
	CHECK(config_apply(&c, kv, sizeof(kv) / sizeof(kv[0]), &e) == 0);
	CHECK(!strcmp(c.db, "/cli/model2") && c.threads == 4 && c.log_syslog);
	CHECK(c.nspamd == 2 && !strcmp(c.spamd[0], "127.0.0.1:7") &&
	      !strcmp(c.spamd[1], "unix:/tmp/s"));
	CHECK(c.nhttp == 1 && !strcmp(c.http[0], "127.0.0.1:3")); /* untouched */
	CHECK(c.line[CONFIG_DB] == 0 && c.line[CONFIG_HTTP] == 4);
	kv[0].value = "nope";
	kv[0].key = CONFIG_MAX_CONN;
	CHECK(config_apply(&c, kv, 1, &e) == -1 && e.line == 0);
	CHECK_CONTAINS(e.msg, strlen(e.msg), "max_conn");
	config_release(&c);
}

TEST(config_same_listeners)
{
	config a, b;
	config_error e;

	CHECK(parse(&a, "spamd = 127.0.0.1:0\nhttp = 127.0.0.1:0\nreject_at = 3\n", &e) == 0);
	CHECK(parse(&b, "http = 127.0.0.1:0\nspamd = 127.0.0.1:0\nreject_at = 9\n", &e) == 0);
	CHECK(config_same_listeners(&a, &b));
	config_release(&b);
	CHECK(parse(&b, "spamd = 127.0.0.1:0\nhttp = 127.0.0.1:1\n", &e) == 0);
	CHECK(!config_same_listeners(&a, &b));
	config_release(&b);
	CHECK(parse(&b, "spamd = 127.0.0.1:0\nhttp = 127.0.0.1:0\nthreads = 7\n", &e) == 0);
	CHECK(!config_same_listeners(&a, &b));
	config_release(&b);
	config_release(&a);
}

TEST(config_key_names)
{
	CHECK(config_key_of("max_size", 8) == CONFIG_MAX_SIZE);
	CHECK(config_key_of("max-size", 8) == CONFIG_MAX_SIZE);
	CHECK(config_key_of("max_siz", 7) == -1);
	CHECK(config_key_of("max_sizes", 9) == -1);
	CHECK(!strcmp(config_key_name(CONFIG_MILTER_ON_ERROR), "milter_on_error"));
	for (int k = 0; k < CONFIG_NKEYS; k++)
		CHECK(config_key_of(config_key_name(k), strlen(config_key_name(k))) == k);
}
