/*
 * client.h: the client of spamsift-fpd (blocking, with a timeout), used by
 * the engine, `spamsift report` and the server's federation pushes.
 *
 * LOOKUP goes over UDP (one datagram each way, resent with a fresh nonce
 * every 250 ms until the timeout); ADD, DEL and PING over TCP (one
 * connection kept open and reopened after an error). A client is not
 * thread-safe: use one per thread.
 */
#ifndef SS_FPD_CLIENT_H
#define SS_FPD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "fuzzy/fp.h"
#include "proto/fpp.h"
#include "spamsift.h"

typedef struct fpc fpc;

/* What a LOOKUP found: the best match, if any. */
typedef struct fpc_result {
	int found;         /* 0: nothing matched (the rest is zero) */
	double similarity; /* 1 for an equal digest */
	int cls;           /* FPP_SPAM or FPP_HAM */
	double weight;
	uint64_t first_seen, last_seen; /* Unix seconds */
	uint32_t count;                 /* times reported */
} fpc_result;

#define FPC_KEYS_FILE_MAX (1 << 20) /* largest keys file fpc_key_load() reads */

/* Reads the keys file at `path` ("NAME rw|ro BASE64SECRET [rate=N/s]"
 * lines, docs/FPP.md) and picks the key called `name`, or the first key
 * when name is NULL. Returns 0 with *out set; SS_EIO when the file cannot
 * be read; SS_ESYNTAX for a bad line (*errline, may be NULL, gets its
 * 1-based number; 0 for a file without keys or larger than
 * FPC_KEYS_FILE_MAX); SS_EINVAL when no key has that name. The file's text
 * and the other keys are wiped from memory. */
int fpc_key_load(const char *path, const char *name, fpp_key *out, unsigned *errline);

/* Creates a client of the server at "IP:PORT" (IPv4, or [IPv6]:PORT) using
 * key `k` (copied). Returns 0 with *out set (free with fpc_free), SS_EINVAL
 * for a bad address, SS_ENOMEM. */
int fpc_new(const char *addr, const fpp_key *k, fpc **out);

/* Closes the client's sockets and frees it; NULL is fine. */
void fpc_free(fpc *c);

/* Looks up a text signature (may be NULL) and `nd` digests (may be 0) over
 * UDP, waiting at most timeout_ms. Returns 0 with *res set (res->found 0
 * when nothing matched); SS_EIO when no reply came in time; SS_EBUSY when
 * the server refused (fpc_status() tells why). */
int fpc_lookup(fpc *c, const fp_text *text, const fp_digest *digests, size_t nd, int timeout_ms,
               fpc_result *res);

/* Reports a text signature and/or digests as class `cls` (FPP_SPAM or
 * FPP_HAM) with `weight` over TCP. Returns 0 once the server has stored it
 * durably; SS_EIO, SS_EBUSY (refused: fpc_status()), SS_EINVAL. */
int fpc_add(fpc *c, const fp_text *text, const fp_digest *digests, size_t nd, int cls,
            double weight, int timeout_ms);

/* Deletes the entries equal to a text signature and/or digests over TCP
 * (on this server and, through federation, its peers). Returns 0 once
 * deleted; SS_EBUSY when refused or nothing matched (fpc_status():
 * FPP_NOTFOUND), SS_EIO, SS_EINVAL. */
int fpc_del(fpc *c, const fp_text *text, const fp_digest *digests, size_t nd, int timeout_ms);

/* Sends a prepared request (cmd, fields; ts and reqid are filled in) over
 * UDP (udp != 0) or TCP and waits for its reply in *reply. Returns 0 when a
 * reply came (check reply->status), SS_EIO on timeout, SS_EINVAL. */
int fpc_request(fpc *c, fpp_msg *req, int udp, int timeout_ms, fpp_msg *reply);

/* Sends an already sealed packet as it is (no resending) and waits for the
 * reply to request id `reqid`; for tests of replays. Returns as
 * fpc_request(). */
int fpc_exchange(fpc *c, const uint8_t *pkt, size_t len, uint64_t reqid, int udp, int timeout_ms,
                 fpp_msg *reply);

/* The status of the last reply (FPP_OK, FPP_ERATE...), -1 if none. */
int fpc_status(const fpc *c);

/* Milliseconds of a monotonic clock. */
uint64_t fpc_now_ms(void);

#endif
