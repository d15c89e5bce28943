/*
 * web_api.h: the operator's web page on the HTTP door (issue 8): the page's
 * files at / (built in), login and sessions, and the JSON API under /api/
 * (history, one entry, actions on an entry, statistics, status). The HTTP
 * door routes every path web_path() claims here, and asks web_authorize()
 * before its own message routes when users are configured. docs/WEB.md
 * describes the API.
 */
#ifndef SS_DAEMON_WEB_API_H
#define SS_DAEMON_WEB_API_H

#include <stddef.h>

#include "daemon/server.h"
#include "proto/http.h"
#include "util/buf.h"
#include "web/auth.h"

/* What to answer. */
typedef struct web_reply {
	int status;
	const char *type;           /* Content-Type */
	char extra[256];            /* more header lines, each ending "\r\n" */
	sbuf body;                  /* the caller releases it */
	const unsigned char *fixed; /* or a built-in body (assets) */
	size_t fixed_len;
	char who[WEB_MAX_NAME + 1]; /* the user, for the log */
	char what[96];              /* a few words for the log */
} web_reply;

/* Returns 1 when the path is the web page's: "/", its assets, "/login",
 * "/logout", or under "/api/". */
int web_path(const ss_str *path);

/* Answers the request (the whole body in body[0..len)) into *out (zeroed
 * by the caller). */
void web_serve(conn *c, const http_request *r, const char *body, size_t len, web_reply *out);

/* Whether the request may go on with at least role `need`: 1, or 0 with
 * a 401 or 403 reply in *out. Open (admin) when no user is configured. */
int web_authorize(conn *c, const http_request *r, web_role need, web_reply *out);

#endif
