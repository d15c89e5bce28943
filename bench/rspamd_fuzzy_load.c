/*
 * rspamd_fuzzy_load.c: the anchor beside bench/fpd_load.c: the same load
 * on rspamd's fuzzy_storage worker, through its plain (unencrypted) UDP
 * protocol, version 4, as rspamd documents it: a request is a command
 * (u8 version 4, u8 command: 0 check, 1 write; u8 number of shingles 32;
 * u8 flag; i32 value; u32 tag; 64-byte digest) followed by 32 u64
 * shingles; the reply is i32 value, u32 flag, u32 tag, float probability,
 * then the 64-byte digest, u32 time and 12 reserved bytes. Integers are in
 * host order (little-endian here).
 *
 *   rspamd_fuzzy_load ADDR COUNT [WINDOW] [PRELOAD] [stored]
 *
 * Writes PRELOAD hashes (default 1000; "stored": they are there already)
 * and waits until the server has flushed them (its `sync` period), then
 * sends COUNT checks over UDP with WINDOW (default 32) in flight: a third
 * exact copies of stored hashes, a third with another digest and 4 of 32
 * shingles changed (the 1/8 that fpd_load changes too: 8 of 64 values), a
 * third absent. Prints the line fpd_load prints: lookups, seconds,
 * lookups/s, p50, p99 and max latency in ms, lost (no reply within 1 s),
 * found. Bounded: it stops after COUNT replies or losses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lat.h"
#include "util/mix.h"

#define NSHINGLES 32
#define CMD_LEN (4 + 4 + 4 + 64)
#define REQ_LEN (CMD_LEN + NSHINGLES * 8)
#define REPLY_LEN (16 + 64 + 4 + 12)
#define CHECK 0
#define WRITE 1

typedef struct slot {
	uint32_t tag;
	uint64_t sent_us;
	int busy;
} slot;

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A request for hash `seed`; `near` changes the digest and 4 shingles. */
static void make_req(uint8_t req[REQ_LEN], int cmd, uint64_t seed, int near, uint32_t tag)
{
	memset(req, 0, REQ_LEN);
	req[0] = 4; /* protocol version */
	req[1] = (uint8_t)cmd;
	req[2] = NSHINGLES;
	req[3] = 1; /* flag: the list */
	put_le(req + 4, 1, 4);
	put_le(req + 8, tag, 4);
	for (size_t i = 0; i < 64; i += 8)
		put_le(req + 12 + i, ss_fmix64(seed * 131 + i + (near ? 7777777 : 0)), 8);
	for (size_t i = 0; i < NSHINGLES; i++)
		put_le(req + CMD_LEN + 8 * i,
		       ss_fmix64(seed * 1000 + i) ^ (near && i < 4 ? 0x5a5a : 0), 8);
}

static int connect_udp(const char *addr)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || !colon || colon - addr >= (long)sizeof(host))
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request, waiting up to 1 s (resent every 200 ms) for its reply;
 * returns the reply's probability, or -1 without a reply. */
static double exchange(int fd, int cmd, uint64_t seed, int near)
{
	static uint32_t tag = 0x10000;
	uint8_t req[REQ_LEN], rep[512];
	uint64_t t0 = lat_now_us();

	make_req(req, cmd, seed, near, ++tag);
	while (lat_now_us() - t0 < 1000000) {
		(void)send(fd, req, sizeof(req), 0);
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t n;
		while ((n = recv(fd, rep, sizeof(rep), 0)) > 0) {
			if (n >= 16 && get_le32(rep + 8) == tag) {
				float prob;
				memcpy(&prob, rep + 12, 4);
				return prob;
			}
		}
	}
	return -1;
}

/* Writes the preload hashes, then waits (up to 30 s) until the first
 * and the last are found: the server applies writes at its sync. */
static int preload_hashes(int fd, unsigned preload)
{
	uint64_t t0 = lat_now_us();

	for (unsigned i = 0; i < preload; i++)
		if (exchange(fd, WRITE, i, 0) < 0)
			return fprintf(stderr, "rspamd_fuzzy_load: write %u: no reply\n", i), -1;
	while (lat_now_us() - t0 < 30000000) {
		if (exchange(fd, CHECK, 0, 0) > 0.5 && exchange(fd, CHECK, preload - 1, 0) > 0.5)
			return 0;
		usleep(200000);
	}
	return fprintf(stderr, "rspamd_fuzzy_load: writes not applied within 30 s\n"), -1;
}

static void send_one(int fd, uint64_t i, unsigned preload, slot *s)
{
	static uint32_t tag;
	uint8_t req[REQ_LEN];

	s->tag = ++tag;
	make_req(req, CHECK, i % 3 == 2 ? 1000000 + i : i % preload, i % 3 == 1, s->tag);
	s->sent_us = lat_now_us();
	s->busy = 1;
	(void)send(fd, req, sizeof(req), 0);
}

/* Takes the replies waiting on fd into the slots. */
static void take_replies(int fd, slot *slots, unsigned window, uint64_t *lat, uint64_t *done,
                         uint64_t *found)
{
	uint8_t rep[512];
	ssize_t n;

	while ((n = recv(fd, rep, sizeof(rep), 0)) > 0) {
		if (n < REPLY_LEN)
			continue;
		uint32_t tag = get_le32(rep + 8);
		float prob;
		memcpy(&prob, rep + 12, 4);
		for (unsigned i = 0; i < window; i++) {
			if (slots[i].busy && slots[i].tag == tag) {
				lat[(*done)++] = lat_now_us() - slots[i].sent_us;
				*found += prob > 0.5f;
				slots[i].busy = 0;
				break;
			}
		}
	}
}

int main(int argc, char **argv)
{
	unsigned count, window, preload;
	uint64_t sent = 0, done = 0, lost = 0, found = 0, *lat, t0;
	slot *slots;
	int fd;

	if (argc < 3 || (fd = connect_udp(argv[1])) < 0) {
		fprintf(stderr,
		        "usage: rspamd_fuzzy_load IP:PORT COUNT [WINDOW] [PRELOAD] [stored]\n");
		return 2;
	}
	count = (unsigned)strtoul(argv[2], NULL, 10);
	window = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 32;
	preload = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 1000;
	if (!count || !window || !preload || window > 4096)
		return fprintf(stderr, "rspamd_fuzzy_load: bad COUNT, WINDOW or PRELOAD\n"), 2;
	if (argc <= 5 && preload_hashes(fd, preload))
		return 1;
	lat = calloc(count + (size_t)window, sizeof(*lat));
	slots = calloc(window, sizeof(*slots));
	if (!lat || !slots)
		return 1;
	t0 = lat_now_us();
	while (done < count) {
		for (unsigned i = 0; i < window && sent < count; i++)
			if (!slots[i].busy)
				send_one(fd, sent++, preload, &slots[i]);
		struct pollfd p = {fd, POLLIN, 0};
		poll(&p, 1, 100);
		take_replies(fd, slots, window, lat, &done, &found);
		uint64_t now = lat_now_us();
		for (unsigned i = 0; i < window; i++)
			if (slots[i].busy && now - slots[i].sent_us > 1000000) {
				slots[i].busy = 0;
				lost++;
				lat[done++] = 1000000;
			}
	}
	lat_report(lat, done, t0, lost, found);
	free(lat);
	free(slots);
	close(fd);
	return 0;
}
