/*
 * redis_url.h: parses the Redis address a user gives (--redis, the config
 * file's `redis` key). I/O-free; the text is untrusted (fuzzed by
 * fuzz/fuzz_redis_url.c).
 *
 * Accepted: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], HOST a name, an
 * IPv4 address or an [IPv6] literal, PORT 1..65535 (default 6379), DB
 * 0..15 (default 0). PASSWORD may carry %XX escapes. rediss:// is the
 * same over TLS (store/redis_conn.c).
 *
 * And a master that Redis Sentinel watches:
 * redis+sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]/SERVICE[/DB]
 * names up to REDIS_URL_SENTINELS sentinels (PORT default 26379) and the
 * service (the master's name in their `sentinel monitor` lines); the
 * credentials and DB are the master's. rediss+sentinel:// for TLS to both.
 */
#ifndef SS_STORE_REDIS_URL_H
#define SS_STORE_REDIS_URL_H

#include <stddef.h>

#define REDIS_URL_HOST 256
#define REDIS_URL_SECRET 256
#define REDIS_URL_SENTINELS 5
#define REDIS_URL_SERVICE 64

typedef struct redis_url {
	char host[REDIS_URL_HOST];   /* without brackets for IPv6 */
	int port;                    /* 1..65535 */
	int db;                      /* 0..15 */
	char user[REDIS_URL_SECRET]; /* "" unless given (ACL user) */
	char pass[REDIS_URL_SECRET]; /* "" when none */
	int tls;                     /* rediss:// */
	/* Sentinel: service "" unless given; host and port are then the
	 * first sentinel's until redis_dial asks them for the master */
	char service[REDIS_URL_SERVICE];
	int nsentinels;
	struct {
		char host[REDIS_URL_HOST];
		int port;
	} sentinel[REDIS_URL_SENTINELS];
} redis_url;

/* Parses s (len bytes, no NUL needed) into *u. Returns 0, or -1 with a
 * static reason in *why ("bad port", ...). */
int redis_url_parse(const char *s, size_t len, redis_url *u, const char **why);

#endif
