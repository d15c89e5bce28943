/*
 * fpd_load.c: the load benchmark client of spamsift-fpd.
 *
 *   fpd_load ADDR KEYSFILE KEYNAME COUNT [WINDOW] [PRELOAD] [stored]
 *
 * ADDs PRELOAD signatures (default 1000) over TCP, then sends COUNT
 * LOOKUPs over UDP with WINDOW (default 32) in flight on one socket: a
 * third exact copies of stored signatures, a third changed in 8 of 64
 * values, a third absent ("stored": the PRELOAD are stored already). Prints one line: lookups,
 * seconds, lookups/s, p50, p99 and max latency in ms, lost (no reply within 1 s), found. Bounded:
 * it stops after COUNT replies or losses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lat.h"
#include "fpd/client.h"
#include "util/mix.h"

typedef struct slot {
	uint64_t reqid, sent_us;
	int busy;
} slot;

static void sig(uint64_t seed, unsigned flips, fp_text *t)
{
	for (size_t i = 0; i < FP_NHASH; i++)
		t->h[i] = (uint32_t)ss_fmix64(seed * 1000 + i) ^ (i < flips ? 0x5a5a5a5a : 0);
}

/* Seals and sends LOOKUP number i on socket fd into slot s. */
static void send_one(int fd, const fpp_key *k, uint64_t i, unsigned preload, slot *s)
{
	fpp_msg m = {.cmd = FPP_LOOKUP, .has_text = 1};
	uint8_t pkt[FPP_MAX_PACKET];
	int len;

	sig(i % 3 == 2 ? 1000000 + i : i % preload, i % 3 == 1 ? 8 : 0, &m.text);
	m.ts = (uint64_t)time(NULL);
	randombytes_buf(&m.reqid, sizeof(m.reqid));
	len = fpp_seal(k->name, k->secret, &m, pkt, sizeof(pkt));
	s->reqid = m.reqid;
	s->sent_us = lat_now_us();
	s->busy = 1;
	if (len > 0)
		(void)send(fd, pkt, (size_t)len, 0);
}

int main(int argc, char **argv)
{
	fpp_key k;
	fpc *c;
	unsigned count, window, preload;
	uint64_t sent = 0, done = 0, lost = 0, found = 0, *lat, t0;
	slot *slots;
	int fd;

	if (argc < 5 || sodium_init() < 0 || fpc_key_load(argv[2], argv[3], &k, NULL) ||
	    fpc_new(argv[1], &k, &c)) {
		fprintf(stderr, "usage: fpd_load ADDR KEYSFILE KEYNAME COUNT [WINDOW] [PRELOAD]\n");
		return 2;
	}
	count = (unsigned)strtoul(argv[4], NULL, 10);
	window = argc > 5 ? (unsigned)strtoul(argv[5], NULL, 10) : 32;
	preload = argc > 6 ? (unsigned)strtoul(argv[6], NULL, 10) : 1000;
	lat = calloc(count + 1, sizeof(*lat));
	slots = calloc(window, sizeof(*slots));
	for (unsigned i = 0; argc <= 7 && i < preload; i++) {
		fp_text t;
		sig(i, 0, &t);
		if (fpc_add(c, &t, NULL, 0, FPP_SPAM, 1, 5000))
			return fprintf(stderr, "fpd_load: ADD %u failed\n", i), 1;
	}
	/* the client's UDP socket, connected by a first lookup */
	{
		fpc_result r;
		fp_text t;
		sig(0, 0, &t);
		if (fpc_lookup(c, &t, NULL, 0, 2000, &r))
			return fprintf(stderr, "fpd_load: no reply\n"), 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	{
		char host[64];
		const char *colon = strrchr(argv[1], ':');
		struct sockaddr_in sa = {.sin_family = AF_INET};
		snprintf(host, sizeof(host), "%.*s", (int)(colon - argv[1]), argv[1]);
		inet_pton(AF_INET, host, &sa.sin_addr);
		sa.sin_port = htons((uint16_t)atoi(colon + 1));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return perror("connect"), 1;
	}
	t0 = lat_now_us();
	while (done < count) {
		for (unsigned i = 0; i < window && sent < count; i++)
			if (!slots[i].busy)
				send_one(fd, &k, sent++, preload, &slots[i]);
		struct pollfd p = {fd, POLLIN, 0};
		poll(&p, 1, 100);
		uint8_t buf[FPP_MAX_PACKET];
		ssize_t n;
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
			fpp_envelope env;
			fpp_msg rep;
			if (fpp_envelope_parse(buf, (size_t)n, &env) ||
			    fpp_open(&env, k.secret, &rep))
				continue;
			for (unsigned i = 0; i < window; i++) {
				if (slots[i].busy && slots[i].reqid == rep.reqid) {
					lat[done++] = lat_now_us() - slots[i].sent_us;
					found += rep.status == FPP_OK;
					slots[i].busy = 0;
					break;
				}
			}
		}
		uint64_t now = lat_now_us();
		for (unsigned i = 0; i < window; i++)
			if (slots[i].busy && now - slots[i].sent_us > 1000000) {
				slots[i].busy = 0;
				lost++;
				lat[done++] = 1000000;
			}
	}
	lat_report(lat, done, t0, lost, found);
	fpc_free(c);
	free(lat);
	free(slots);
	return 0;
}
