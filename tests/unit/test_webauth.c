/*
 * test_webauth.c: the web page's users, sessions and parsers (web/auth.h),
 * and the configuration keys that go with them (http_user, history, the
 * loopback rule).
 */
#include <stdlib.h>

#include "daemon/config.h"
#include "harness.h"
#include "web/auth.h"

TEST(web_user_lines)
{
	CHECK(web_user_ok("admin:admin:0123456789ab"));
	CHECK(web_user_ok("ops.team-1:read:s3cret-s3cret"));
	CHECK(!web_user_ok("admin:admin:short"));         /* under 12 bytes */
	CHECK(!web_user_ok("admin:root:0123456789ab"));   /* no such role */
	CHECK(!web_user_ok(":admin:0123456789ab"));       /* no name */
	CHECK(!web_user_ok("ad min:admin:0123456789ab")); /* a space in the name */
	CHECK(!web_user_ok("admin:admin:0123456789 ab")); /* a space in the secret */
	CHECK(!web_user_ok("admin:0123456789ab"));        /* no role */
	CHECK(web_user_ok("a:admin:0123456789a:b"));      /* ':' inside a secret is fine */
}

TEST(web_passwords_and_tokens)
{
	char *users[] = {"admin:admin:0123456789ab", "viewer:read:abcdefghijkl"};
	char name[WEB_MAX_NAME + 1];

	CHECK(web_check_password(users, 2, "admin", 5, "0123456789ab", 12) == WEB_ADMIN);
	CHECK(web_check_password(users, 2, "viewer", 6, "abcdefghijkl", 12) == WEB_READ);
	CHECK(web_check_password(users, 2, "viewer", 6, "0123456789ab", 12) == WEB_NONE);
	CHECK(web_check_password(users, 2, "admin", 5, "0123456789a", 11) == WEB_NONE);
	CHECK(web_check_password(users, 2, "admi", 4, "0123456789ab", 12) == WEB_NONE);
	CHECK(web_check_password(users, 0, "admin", 5, "0123456789ab", 12) == WEB_NONE);
	CHECK(web_check_token(users, 2, "viewer:abcdefghijkl", 19, name) == WEB_READ);
	CHECK(!strcmp(name, "viewer"));
	CHECK(web_check_token(users, 2, "viewerabcdefghijkl", 18, name) == WEB_NONE);
	CHECK(web_check_token(users, 2, ":abcdefghijkl", 13, name) == WEB_NONE);
	CHECK(web_user_role(users, 2, "viewer") == WEB_READ);
	CHECK(web_user_role(users, 2, "admin") == WEB_ADMIN);
	CHECK(web_user_role(users, 2, "adm") == WEB_NONE);
	CHECK(web_user_role(users, 1, "viewer") == WEB_NONE);
}

TEST(web_sessions_expire_and_end)
{
	web_sessions *s = web_sessions_new();
	char id[WEB_SESSION_ID + 1], id2[WEB_SESSION_ID + 1], name[WEB_MAX_NAME + 1];

	CHECK(s != NULL);
	CHECK(!web_session_new(s, "admin", WEB_ADMIN, 1000, id));
	CHECK(strlen(id) == WEB_SESSION_ID);
	CHECK(!web_session_new(s, "viewer", WEB_READ, 1000, id2));
	CHECK(strcmp(id, id2) != 0);
	CHECK(web_session_get(s, id, WEB_SESSION_ID, 1001, name) == WEB_ADMIN);
	CHECK(!strcmp(name, "admin"));
	CHECK(web_session_get(s, id2, WEB_SESSION_ID, 1001, name) == WEB_READ);
	CHECK(web_session_get(s, id, WEB_SESSION_ID - 1, 1001, name) == WEB_NONE);
	CHECK(web_session_get(s, id, WEB_SESSION_ID, 1000 + WEB_SESSION_TTL, name) == WEB_NONE);
	web_session_end(s, id, WEB_SESSION_ID);
	CHECK(web_session_get(s, id, WEB_SESSION_ID, 1001, name) == WEB_NONE);
	CHECK(web_session_get(s, id2, WEB_SESSION_ID, 1001, name) == WEB_READ);
	web_sessions_free(s);
}

TEST(web_sessions_bounded)
{
	web_sessions *s = web_sessions_new();
	char first[WEB_SESSION_ID + 1], id[WEB_SESSION_ID + 1], name[WEB_MAX_NAME + 1];

	CHECK(!web_session_new(s, "u0", WEB_READ, 100, first));
	for (int i = 1; i <= WEB_MAX_SESSIONS; i++)
		CHECK(!web_session_new(s, "u", WEB_READ, 100 + i, id));
	/* the oldest was dropped to make room; the newest is there */
	CHECK(web_session_get(s, first, WEB_SESSION_ID, 2000, name) == WEB_NONE);
	CHECK(web_session_get(s, id, WEB_SESSION_ID, 2000, name) == WEB_READ);
	web_sessions_free(s);
}

TEST(web_login_throttle)
{
	web_sessions *s = web_sessions_new();

	for (int i = 0; i < WEB_LOGIN_FAILS; i++) {
		CHECK(web_login_allowed(s, "192.0.2.7", 1000 + i));
		web_login_failed(s, "192.0.2.7", 1000 + i);
	}
	CHECK(!web_login_allowed(s, "192.0.2.7", 1010));
	CHECK(web_login_allowed(s, "192.0.2.8", 1010));                    /* another client */
	CHECK(web_login_allowed(s, "192.0.2.7", 1000 + WEB_LOGIN_WINDOW)); /* a minute later */
	web_login_failed(s, "192.0.2.7", 1000 + WEB_LOGIN_WINDOW);         /* a new window */
	CHECK(web_login_allowed(s, "192.0.2.7", 1001 + WEB_LOGIN_WINDOW));
	/* many clients: the table forgets the oldest, never grows */
	for (int i = 0; i < 10 * WEB_LOGIN_CLIENTS; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		web_login_failed(s, ip, 2000 + i);
	}
	web_sessions_free(s);
}

TEST(web_form_fields)
{
	const char *f = "user=ad%6Din&password=a+b%21c&empty=&flag&x=%zz&long=0123456789";
	char out[16];

	CHECK(web_form_get(f, strlen(f), "user", out, sizeof(out)) == 5 && !strcmp(out, "admin"));
	CHECK(web_form_get(f, strlen(f), "password", out, sizeof(out)) == 5 &&
	      !strcmp(out, "a b!c"));
	CHECK(web_form_get(f, strlen(f), "empty", out, sizeof(out)) == 0 && !out[0]);
	CHECK(web_form_get(f, strlen(f), "flag", out, sizeof(out)) == 0);
	CHECK(web_form_get(f, strlen(f), "x", out, sizeof(out)) == -2);
	CHECK(web_form_get(f, strlen(f), "long", out, 8) == -2); /* longer than the room */
	CHECK(web_form_get(f, strlen(f), "nope", out, sizeof(out)) == -1);
	CHECK(web_form_get(f, strlen(f), "use", out, sizeof(out)) == -1);
	CHECK(web_form_get("q=%E4%BD%A0", 11, "q", out, sizeof(out)) == 3 &&
	      !strcmp(out, "\xe4\xbd\xa0"));
	CHECK(web_form_get("q=%4", 4, "q", out, sizeof(out)) == -2);
	CHECK(web_form_get("", 0, "q", out, sizeof(out)) == -1);
}

TEST(web_cookies)
{
	const char *h = "theme=dark; spamsift_session=abc123 ;other=1";
	const char *v;
	size_t n;

	CHECK(web_cookie_get(h, strlen(h), WEB_COOKIE, &v, &n) == 1);
	CHECK_SLICE(v, n, "abc123");
	CHECK(web_cookie_get(h, strlen(h), "other", &v, &n) == 1);
	CHECK_SLICE(v, n, "1");
	CHECK(web_cookie_get(h, strlen(h), "spamsift", &v, &n) == 0);
	CHECK(web_cookie_get("", 0, WEB_COOKIE, &v, &n) == 0);
}

static int parse(config *c, const char *text, config_error *e)
{
	config_init(c);
	return config_parse(c, text, strlen(text), e);
}

TEST(web_config_keys)
{
	config c;
	config_error e;

	CHECK(!parse(&c,
	             "http = 0.0.0.0:11333\nhttp_user = admin:admin:0123456789ab\n"
	             "http_user = ro:read:abcdefghijkl\nhistory = 500\nhistory_dir = /var/h\n"
	             "history_raw_mb = 8\n",
	             &e));
	CHECK(c.nhttp_user == 2 && c.history == 500 && c.history_raw_mb == 8);
	CHECK(c.history_dir && !strcmp(c.history_dir, "/var/h"));
	CHECK(!config_check(&c, &e)); /* beyond loopback, with users */
	config_release(&c);
	CHECK(c.history == CONFIG_DEFAULT_HISTORY && c.history_raw_mb == 64);

	CHECK(!parse(&c, "spamd = 127.0.0.1:783\nhttp = 0.0.0.0:11333\n", &e));
	CHECK(config_check(&c, &e) == -1 && e.line == 2);
	CHECK(strstr(e.msg, "beyond loopback") != NULL);
	config_release(&c);
	CHECK(!parse(&c, "http = 127.0.0.1:11333\nhttp = unix:/run/s.sock\nhttp = [::1]:1\n", &e));
	CHECK(!config_check(&c, &e));
	config_release(&c);

	CHECK(parse(&c, "http_user = admin:admin:short\n", &e) == -1 && e.line == 1);
	config_release(&c);
	CHECK(parse(&c, "history = -1\n", &e) == -1);
	config_release(&c);
	CHECK(parse(&c, "history = 20000000\n", &e) == -1);
	config_release(&c);
	config_init(&c);
	for (int i = 0; i < CONFIG_MAX_USERS; i++)
		CHECK(
		    !config_set(&c, CONFIG_HTTP_USER, "u:read:0123456789ab", (unsigned)i + 1, &e));
	CHECK(config_set(&c, CONFIG_HTTP_USER, "u:read:0123456789ab", 99, &e) == -1);
	CHECK(strstr(e.msg, "more than 32 users") != NULL);
	config_release(&c);
	CHECK(config_loopback("127.0.0.1:1") && config_loopback("localhost:1") &&
	      !config_loopback("127:1") && !config_loopback("10.0.0.1:1") &&
	      !config_loopback("[::]:1"));
}
