/*
 * auth.h: who may use the web page and its API (issue 8), and the small
 * parsers of what a browser sends: form and query strings
 * (application/x-www-form-urlencoded) and Cookie fields. I/O-free, fuzzed
 * (fuzz/fuzz_web.c).
 *
 * Users come from the configuration, one "http_user = NAME:ROLE:SECRET"
 * line each; ROLE is "admin" (may learn, unlearn, report) or "read" (sees
 * everything but secrets). A browser logs in with POST /login (user and
 * password form fields) and gets a session cookie; a script sends
 * "Authorization: Bearer NAME:SECRET". Secrets are compared in constant
 * time (over their BLAKE2b hashes, so that neither content nor length
 * leaks through timing).
 *
 * Sessions live in memory (a restart logs everyone out): a random 256-bit
 * id, the user and role, and an expiry; at most WEB_MAX_SESSIONS, the
 * oldest dropped first. Failed logins are counted per client address
 * beside them (web_login_allowed).
 */
#ifndef SS_WEB_AUTH_H
#define SS_WEB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define WEB_MIN_SECRET 12     /* bytes of a secret, at least */
#define WEB_MAX_NAME 64       /* bytes of a user name */
#define WEB_MAX_SECRET 256    /* bytes of a secret */
#define WEB_MAX_SESSIONS 1024 /* sessions kept */
#define WEB_SESSION_TTL 43200 /* seconds a session lasts (12 h) */
#define WEB_SESSION_ID 64     /* hex characters of a session id */
#define WEB_COOKIE "spamsift_session"

typedef enum web_role { WEB_NONE = -1, WEB_READ = 0, WEB_ADMIN = 1 } web_role;

/* Returns 1 when s is a well-formed "NAME:ROLE:SECRET" line: a name of
 * letters, digits, '.', '_', '-' (1..WEB_MAX_NAME), ROLE admin or read, a
 * secret of WEB_MIN_SECRET..WEB_MAX_SECRET printable bytes. */
int web_user_ok(const char *s);

/* Returns "admin", "read" or "none". */
const char *web_role_name(web_role r);

/* Checks name and secret against the n "NAME:ROLE:SECRET" lines. Returns
 * the role, or WEB_NONE. Constant time in the secret. */
web_role web_check_password(char *const *users, size_t n, const char *name, size_t nlen,
                            const char *secret, size_t slen);

/* The same for "NAME:SECRET" (a Bearer token); copies the name into
 * name_out (WEB_MAX_NAME + 1 bytes). */
web_role web_check_token(char *const *users, size_t n, const char *tok, size_t len, char *name_out);

/* The role the n lines give user `name` now, or WEB_NONE (a session of a
 * user removed or downgraded by a reload follows the configuration). */
web_role web_user_role(char *const *users, size_t n, const char *name);

/* ---- sessions ---- */

typedef struct web_sessions web_sessions;

web_sessions *web_sessions_new(void);
void web_sessions_free(web_sessions *s);
/* Makes a session for name with role, lasting WEB_SESSION_TTL from now
 * (Unix seconds); writes its id (WEB_SESSION_ID hex characters + NUL) to
 * id. Returns 0 or -1 (out of memory). */
int web_session_new(web_sessions *s, const char *name, web_role role, int64_t now, char *id);
/* Looks up the session id[0..len): its role (and name into name_out,
 * WEB_MAX_NAME + 1 bytes), or WEB_NONE when absent or expired. */
web_role web_session_get(web_sessions *s, const char *id, size_t len, int64_t now, char *name_out);
/* Ends the session id[0..len) if there is one. */
void web_session_end(web_sessions *s, const char *id, size_t len);

/* Failed logins: at most WEB_LOGIN_FAILS per client (its IP) within
 * WEB_LOGIN_WINDOW seconds, counted in a table of WEB_LOGIN_CLIENTS kept
 * with the sessions (the oldest client is forgotten first). */
#define WEB_LOGIN_FAILS 5
#define WEB_LOGIN_WINDOW 60
#define WEB_LOGIN_CLIENTS 256

/* Returns 0 when `client` has failed too often lately (answer 429), 1 when
 * it may try. */
int web_login_allowed(web_sessions *s, const char *client, int64_t now);
/* Counts a failed login of `client`. */
void web_login_failed(web_sessions *s, const char *client, int64_t now);

/* ---- parsers ---- */

/* Finds field `key` in the urlencoded string p[0..len) ("a=1&b=x%20y"),
 * decodes it ('+' is a space, %XX a byte) into out (NUL-terminated, at
 * most cap - 1 bytes). Returns its decoded length, -1 when absent, -2 when
 * malformed (a bad %-escape) or longer than cap - 1. */
long web_form_get(const char *p, size_t len, const char *key, char *out, size_t cap);

/* Finds cookie `name` in a Cookie field value ("a=1; b=2"); stores the
 * slice of its value in *v, *vlen. Returns 1 when found, 0 when not. */
int web_cookie_get(const char *p, size_t len, const char *name, const char **v, size_t *vlen);

#endif
