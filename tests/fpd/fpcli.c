/*
 * fpcli.c: a small client of spamsift-fpd for tests/fpd.sh and by hand:
 *
 *   fpcli ADDR KEYSFILE KEYNAME ping
 *   fpcli ADDR KEYSFILE KEYNAME add|lookup|del SEED [FLIPS] [--ham] [--weight W] [--digest S]
 *   fpcli ADDR KEYSFILE KEYNAME wait SEED MS      LOOKUP until found (prints ms)
 *   fpcli ADDR KEYSFILE KEYNAME replay SEED        one LOOKUP datagram sent twice
 *   fpcli ADDR KEYSFILE KEYNAME oldts SEED         a LOOKUP an hour old
 *   fpcli ADDR KEYSFILE KEYNAME burst N SEED       N LOOKUPs: how many refused for rate
 *   fpcli ADDR KEYSFILE KEYNAME push SEED ORIGIN SEQ [--weight W]
 *                                                  the ADD a peer server with id ORIGIN
 *                                                  (16 bytes of the value ORIGIN) pushes as
 *                                                  its change SEQ, sent twice (a re-send after
 *                                                  a lost acknowledgement)
 *
 * A signature is made from SEED (64 values); FLIPS changes its first
 * values; --digest S adds the SHA-256 of S. Exit: 0 done or found,
 * 1 not found, 2 refused by the server, 3 no reply or usage.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fpd/client.h"
#include "util/mix.h"

typedef struct req {
	fp_text text;
	fp_digest digest;
	int has_digest, cls;
	double weight;
} req;

static void make_req(int argc, char **argv, req *r)
{
	unsigned long seed = strtoul(argv[0], NULL, 10), flips = 0;

	memset(r, 0, sizeof(*r));
	r->cls = FPP_SPAM;
	r->weight = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ham"))
			r->cls = FPP_HAM;
		else if (!strcmp(argv[i], "--weight") && i + 1 < argc)
			r->weight = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--digest") && i + 1 < argc) {
			r->has_digest = 1;
			crypto_hash_sha256(r->digest.sha256, (const uint8_t *)argv[i + 1],
			                   strlen(argv[i + 1]));
			i++;
		} else
			flips = strtoul(argv[i], NULL, 10);
	}
	for (size_t i = 0; i < FP_NHASH; i++)
		r->text.h[i] = (uint32_t)ss_fmix64(seed * 1000 + i) ^ (i < flips ? 0x5a5a5a5a : 0);
}

static int report(fpc *c, int rc)
{
	if (rc == SS_EBUSY)
		printf("refused: %s\n", fpp_status_name(fpc_status(c)));
	else if (rc)
		printf("no reply\n");
	return rc == SS_EBUSY ? 2 : rc ? 3 : 0;
}

static int do_lookup(fpc *c, const req *r)
{
	fpc_result res;
	int rc = fpc_lookup(c, &r->text, &r->digest, r->has_digest, 2000, &res);

	if (rc)
		return report(c, rc);
	if (!res.found)
		return printf("not found\n"), 1;
	printf("found similarity=%.4f class=%s weight=%.3f count=%u\n", res.similarity,
	       res.cls == FPP_SPAM ? "spam" : "ham", res.weight, res.count);
	return 0;
}

/* The same sealed LOOKUP datagram twice; prints both statuses. */
static int do_replay(fpc *c, const req *r, const fpp_key *k)
{
	fpp_msg m = {.cmd = FPP_LOOKUP, .has_text = 1, .text = r->text}, rep;
	uint8_t pkt[FPP_MAX_PACKET];
	int len;

	m.ts = (uint64_t)time(NULL);
	randombytes_buf(&m.reqid, sizeof(m.reqid));
	if ((len = fpp_seal(k->name, k->secret, &m, pkt, sizeof(pkt))) < 0)
		return 3;
	for (int i = 0; i < 2; i++) {
		if (fpc_exchange(c, pkt, (size_t)len, m.reqid, 1, 1000, &rep))
			printf("%s: no reply\n", i ? "second" : "first");
		else
			printf("%s: %s\n", i ? "second" : "first", fpp_status_name(rep.status));
	}
	return 0;
}

static int do_oldts(fpc *c, const req *r, const fpp_key *k)
{
	fpp_msg m = {.cmd = FPP_LOOKUP, .has_text = 1, .text = r->text}, rep;
	uint8_t pkt[FPP_MAX_PACKET];
	int len;

	m.ts = (uint64_t)time(NULL) - 3600;
	randombytes_buf(&m.reqid, sizeof(m.reqid));
	if ((len = fpp_seal(k->name, k->secret, &m, pkt, sizeof(pkt))) < 0 ||
	    fpc_exchange(c, pkt, (size_t)len, m.reqid, 1, 1000, &rep))
		return printf("no reply\n"), 3;
	printf("%s\n", fpp_status_name(rep.status));
	return 0;
}

static int do_wait(fpc *c, const req *r, int ms)
{
	uint64_t t0 = fpc_now_ms();
	fpc_result res;

	while (fpc_now_ms() - t0 < (uint64_t)ms) {
		if (!fpc_lookup(c, &r->text, NULL, 0, 500, &res) && res.found) {
			printf("found after %llu ms weight=%.3f count=%u\n",
			       (unsigned long long)(fpc_now_ms() - t0), res.weight, res.count);
			return 0;
		}
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
	}
	printf("not found within %d ms\n", ms);
	return 1;
}

static int do_burst(fpc *c, const req *r, int n)
{
	fpc_result res;
	int ok = 0, limited = 0;

	for (int i = 0; i < n; i++) {
		int rc = fpc_lookup(c, &r->text, NULL, 0, 1000, &res);
		ok += !rc;
		limited += rc == SS_EBUSY && fpc_status(c) == FPP_ERATE;
	}
	printf("answered=%d rate-limited=%d\n", ok, limited);
	return 0;
}

/* A peer's push sent twice, each with a fresh nonce; prints both statuses. */
static int do_push(fpc *c, const req *r, int origin, uint64_t seq)
{
	fpp_msg m = {.cmd = FPP_ADD, .has_text = 1, .text = r->text, .cls = (uint8_t)r->cls}, rep;

	m.weight = r->weight;
	m.hops = m.nvisited = 1;
	m.origin_seq = seq;
	memset(m.origin, origin, FPP_SERVER_ID);
	memset(m.visited[0], origin, FPP_SERVER_ID);
	snprintf(m.reporter, sizeof(m.reporter), "far-away");
	for (int i = 0; i < 2; i++) {
		if (fpc_request(c, &m, 0, 2000, &rep))
			return printf("no reply\n"), 3;
		printf("%s: %s\n", i ? "second" : "first", fpp_status_name(rep.status));
	}
	return 0;
}

static int run(fpc *c, const fpp_key *k, const char *cmd, int argc, char **argv)
{
	req r;

	if (!strcmp(cmd, "ping")) {
		fpp_msg m = {.cmd = FPP_PING}, rep;
		int rc = fpc_request(c, &m, 0, 2000, &rep);
		return rc ? report(c, rc) : (printf("%s\n", fpp_status_name(rep.status)), 0);
	}
	if (!strcmp(cmd, "burst") && argc >= 2) {
		make_req(argc - 1, argv + 1, &r);
		return do_burst(c, &r, atoi(argv[0]));
	}
	if (!strcmp(cmd, "push") && argc >= 3) {
		make_req(1, argv, &r);
		for (int i = 3; i + 1 < argc; i++)
			if (!strcmp(argv[i], "--weight"))
				r.weight = strtod(argv[i + 1], NULL);
		return do_push(c, &r, atoi(argv[1]), strtoull(argv[2], NULL, 10));
	}
	if (argc < 1)
		return 3;
	make_req(!strcmp(cmd, "wait") ? 1 : argc, argv, &r);
	if (!strcmp(cmd, "add")) {
		int rc = fpc_add(c, &r.text, &r.digest, r.has_digest, r.cls, r.weight, 2000);
		return rc ? report(c, rc) : (printf("added\n"), 0);
	}
	if (!strcmp(cmd, "del")) {
		int rc = fpc_del(c, &r.text, &r.digest, r.has_digest, 2000);
		if (rc == SS_EBUSY && fpc_status(c) == FPP_NOTFOUND)
			return printf("not found\n"), 1;
		return rc ? report(c, rc) : (printf("deleted\n"), 0);
	}
	if (!strcmp(cmd, "lookup"))
		return do_lookup(c, &r);
	if (!strcmp(cmd, "wait") && argc >= 2)
		return do_wait(c, &r, atoi(argv[1]));
	if (!strcmp(cmd, "replay"))
		return do_replay(c, &r, k);
	if (!strcmp(cmd, "oldts"))
		return do_oldts(c, &r, k);
	return 3;
}

int main(int argc, char **argv)
{
	fpp_key k;
	fpc *c = NULL;
	int rc;

	if (argc < 5 || sodium_init() < 0) {
		fprintf(stderr, "usage: fpcli ADDR KEYSFILE KEYNAME COMMAND [ARGS]\n");
		return 3;
	}
	if (fpc_key_load(argv[2], argv[3], &k, NULL) || fpc_new(argv[1], &k, &c)) {
		fprintf(stderr, "fpcli: no key %s in %s, or bad address %s\n", argv[3], argv[2],
		        argv[1]);
		return 3;
	}
	rc = run(c, &k, argv[4], argc - 5, argv + 5);
	fpc_free(c);
	return rc;
}
