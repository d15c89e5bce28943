/*
 * door_http.h: the HTTP door: a JSON API over HTTP/1.1 (keep-alive and
 * pipelining) for MTAs, scripts and web front ends, and the daemon's
 * Prometheus metrics.
 *
 *   POST /check       the message in the body, the envelope in X-Client-IP,
 *                     X-Helo, X-Mail-From, X-Rcpt-To (repeatable), X-User;
 *                     replies the engine's result as JSON with "points"
 *   POST /learn/spam, POST /learn/ham, POST /unlearn   (X-User)
 *                     {"result":"learned"|"moved"|"unchanged"|"unlearned"}
 *   POST /report      (X-User) a user's report: learned as spam, kept in the
 *                     evidence store, {"result":...,"stored":true,"sha256",
 *                     "source_ip","network","country","contact" (null when
 *                     unknown), "arf": the abuse report's text}; 501 when no
 *                     evidence store is configured (daemon/reports.h)
 *   GET /health       {"status":"ok",...}
 *   GET /metrics      Prometheus text (daemon/metrics.h), every door's counters
 *
 * Bytes go through the I/O-free parser (proto/http.h); a complete request
 * is served on the connection's worker thread. Unknown paths get 404, a
 * wrong method 405 with Allow, a request the parser refuses its status
 * (400, 411, 413...) and the connection is closed. Every request is logged.
 */
#ifndef SS_DAEMON_DOOR_HTTP_H
#define SS_DAEMON_DOOR_HTTP_H

#include "daemon/server.h"

/* The door, for server_listen(). */
extern const door_ops door_http;

#endif
