/*
 * redis_conn.h: one way to open a connection to Redis for every part that
 * keeps data there (the model, the scan history, the fingerprint store):
 * connect with a timeout, TLS for rediss:// URLs, AUTH and SELECT.
 *
 * TLS: Debian 12's hiredis (0.14) speaks only plain sockets, so for a
 * rediss:// URL the connection is made with OpenSSL (the system's CA store,
 * or the file or folder named by OpenSSL's SSL_CERT_FILE / SSL_CERT_DIR;
 * the server's name or IP checked against its certificate), and hiredis
 * is handed one end of a socket pair (redisConnectFd) whose other end a
 * relay thread copies to and from the TLS session. redisFree() closes
 * hiredis's end; the relay then closes the session and ends. For servers
 * that ask for a client certificate (Redis does unless tls-auth-clients
 * is no), the environment names the client's certificate chain and key
 * (PEM): SPAMSIFT_REDIS_TLS_CERT and SPAMSIFT_REDIS_TLS_KEY, read once.
 */
#ifndef SS_STORE_REDIS_CONN_H
#define SS_STORE_REDIS_CONN_H

#include <hiredis/hiredis.h>

#include "store/redis_url.h"

/* Connects to u within timeout_ms (also set as the connection's read and
 * write timeout), logs in (AUTH with u's user and password when given)
 * and selects u's database. For a Sentinel URL, the master is the one the
 * first sentinel that answers names, checked with ROLE (each call asks
 * again, so a connection made after a fail-over reaches the new master). SIGPIPE is ignored from
 * then on unless the process handles it (hiredis writes without MSG_NOSIGNAL). Returns the
 * connection (free with redisFree), or NULL with a static reason in *why. */
redisContext *redis_dial(const redis_url *u, int timeout_ms, const char **why);

/* Reads a Redis password: the first line of the file at path, without
 * its line end, into buf (cap bytes). Returns 0, or -1 when the file
 * cannot be read or that line is empty. */
int redis_read_password(const char *path, char *buf, size_t cap);

/* The same, for data whose keys all share key's hash slot ("{h}"): on a
 * Redis Cluster, the connection goes to the master that serves that slot
 * (CLUSTER SLOTS asked of u); elsewhere it is u's. */
redisContext *redis_dial_tag(const redis_url *u, const char *key, int timeout_ms, const char **why);

#endif
