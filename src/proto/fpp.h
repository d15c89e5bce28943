/*
 * fpp.h: the fingerprint protocol (FPP) of spamsift-fpd, I/O-free.
 *
 * A packet (one UDP datagram, or one TCP frame after a 4-byte big-endian
 * length) is an envelope: version (1), the length of the key's name, the
 * name, a 24-byte nonce and a libsodium crypto_secretbox_easy box of the
 * message under the key's 32-byte secret. The message starts with the
 * command, a status, flags, a Unix timestamp and a request id; then the
 * command's fields (docs/FPP.md has the byte layout). Replies are sealed
 * with the key of the request and carry its request id.
 *
 * This module only turns bytes into structures and back, and parses keys
 * files; sockets, clocks and the replay cache belong to the callers.
 * Every function here is safe on hostile input.
 */
#ifndef SS_PROTO_FPP_H
#define SS_PROTO_FPP_H

#include <stddef.h>
#include <stdint.h>

#include "fuzzy/fp.h"

#define FPP_VERSION 1
#define FPP_NAME_MAX 32     /* longest key name */
#define FPP_SECRET 32       /* crypto_secretbox_KEYBYTES */
#define FPP_NONCE 24        /* crypto_secretbox_NONCEBYTES */
#define FPP_MAC 16          /* crypto_secretbox_MACBYTES */
#define FPP_MAX_DIGESTS 16  /* attachment digests per request */
#define FPP_MAX_VISITED 8   /* servers an entry may pass through */
#define FPP_SERVER_ID 16    /* bytes of a server's id */
#define FPP_MAX_PACKET 2048 /* largest envelope (fits any message) */
#define FPP_WINDOW 60       /* seconds a timestamp may be off */

enum fpp_cmd { FPP_PING = 1, FPP_ADD = 2, FPP_LOOKUP = 3, FPP_DEL = 4 };

enum fpp_status {
	FPP_OK = 0,
	FPP_NOTFOUND = 1,  /* LOOKUP/DEL: nothing matched */
	FPP_EREADONLY = 2, /* the key may not ADD or DEL */
	FPP_ERATE = 3,     /* the key's rate limit is exceeded */
	FPP_EREPLAY = 4,   /* this nonce was seen already */
	FPP_ETIME = 5,     /* timestamp outside the window */
	FPP_EBADREQ = 6,   /* malformed message */
	FPP_ESERVER = 7,   /* the server failed (store error) */
};

enum fpp_class { FPP_HAM = 0, FPP_SPAM = 1 };

/* A decoded message (request or reply). */
typedef struct fpp_msg {
	uint8_t cmd, status, is_reply;
	uint64_t ts, reqid;
	/* ADD, LOOKUP, DEL requests: what to store or find */
	int has_text;
	fp_text text;
	uint8_t ndigests;
	fp_digest digests[FPP_MAX_DIGESTS];
	/* ADD request; LOOKUP reply: class and weight (0 in DEL requests) */
	uint8_t cls;
	double weight; /* in [0, 4000000], sent in thousandths */
	/* ADD and DEL requests: federation (origin server and its sequence number
	 * of the change, 0 when the origin did not number it; servers passed;
	 * hops) and reporter */
	uint8_t hops, nvisited;
	uint8_t origin[FPP_SERVER_ID];
	uint64_t origin_seq;
	uint8_t visited[FPP_MAX_VISITED][FPP_SERVER_ID];
	char reporter[FPP_NAME_MAX + 1];
	/* LOOKUP reply */
	uint8_t found;
	double similarity; /* in [0, 1], sent in ten-thousandths */
	uint64_t first_seen, last_seen;
	uint32_t count;
} fpp_msg;

/* An envelope's parts: slices into the packet. */
typedef struct fpp_envelope {
	char name[FPP_NAME_MAX + 1];
	const uint8_t *nonce;
	const uint8_t *box;
	size_t boxlen;
} fpp_envelope;

/* A key of a keys file. */
typedef struct fpp_key {
	char name[FPP_NAME_MAX + 1];
	int read_only;
	uint32_t rate; /* requests per second, 0 for no limit */
	uint8_t secret[FPP_SECRET];
} fpp_key;

/* Splits a packet into its envelope parts (slices into pkt). Returns 0 or
 * SS_EINVAL (bad version, name or size). */
int fpp_envelope_parse(const uint8_t *pkt, size_t len, fpp_envelope *env);

/* Encodes `m` into out[cap]; returns the length or SS_EINVAL (fields out of
 * range, or cap too small). */
int fpp_msg_encode(const fpp_msg *m, uint8_t *out, size_t cap);

/* Decodes a plaintext message into `m`; returns 0 or SS_EINVAL. */
int fpp_msg_decode(const uint8_t *p, size_t len, fpp_msg *m);

/* Encodes and seals `m` under key (name, secret) with a fresh random
 * nonce into out[cap] (FPP_MAX_PACKET is enough); returns the packet's
 * length or SS_EINVAL. sodium_init() must have been called. */
int fpp_seal(const char *name, const uint8_t secret[FPP_SECRET], const fpp_msg *m, uint8_t *out,
             size_t cap);

/* Opens an envelope's box with `secret` and decodes it into `m`. Returns
 * 0, or SS_EINVAL when the box is forged or the message malformed. */
int fpp_open(const fpp_envelope *env, const uint8_t secret[FPP_SECRET], fpp_msg *m);

/* Parses one line of a keys file, "NAME rw|ro BASE64SECRET [rate=N/s]"
 * (without its newline). Returns 1 with *k set, 0 for a blank or comment
 * line, SS_ESYNTAX otherwise. */
int fpp_key_parse_line(const char *line, size_t len, fpp_key *k);

/* Parses a keys file's text into keys[cap] (*n set); on error returns
 * SS_ESYNTAX with *errline the 1-based line (duplicates are errors too),
 * SS_ENOMEM when more than cap keys. */
int fpp_keys_parse(const char *text, size_t len, fpp_key *keys, size_t cap, size_t *n,
                   unsigned *errline);

/* Writes the keys-file line of `k` (no newline) into out[cap]; returns 0
 * or SS_EINVAL when it does not fit. */
int fpp_key_format(const fpp_key *k, char *out, size_t cap);

/* A short English name of a status. */
const char *fpp_status_name(int status);

#endif
