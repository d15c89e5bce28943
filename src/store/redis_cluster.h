/*
 * redis_cluster.h: what the Redis store needs to speak to a Redis Cluster
 * over plain hiredis 0.14 connections (which know nothing of clusters):
 * the key -> slot function of the Cluster specification (CRC16/XMODEM of
 * the key, or of its {hash tag}, modulo 16384), the parsing of MOVED and
 * ASK redirections, and a slot map (slot -> master node) filled from
 * CLUSTER SLOTS and corrected by MOVED. I/O-free: the caller connects.
 */
#ifndef SS_STORE_REDIS_CLUSTER_H
#define SS_STORE_REDIS_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#define RC_SLOTS 16384
#define RC_MAX_NODES 64
#define RC_HOST 256

/* The hash slot of a key (binary-safe). */
unsigned rc_key_slot(const char *key, size_t len);

/* A redirection, parsed from an error reply "MOVED 3999 127.0.0.1:6381"
 * or "ASK 3999 127.0.0.1:6381" (len bytes). Returns 0 with *ask (1 for
 * ASK), *slot, host and *port set, or -1 when it is not one. */
int rc_parse_redirect(const char *s, size_t len, int *ask, unsigned *slot, char *host, size_t hcap,
                      int *port);

typedef struct rc_node {
	char host[RC_HOST];
	int port;
} rc_node;

/* Which master serves each slot. */
typedef struct rc_map {
	rc_node nodes[RC_MAX_NODES];
	size_t nnodes;
	uint8_t slot_node[RC_SLOTS]; /* index into nodes; 0 (the first) when unknown */
} rc_map;

/* The index of node host:port, added when new; -1 when the map is full
 * or the host too long. */
int rc_node_index(rc_map *m, const char *host, int port);

/* One range of CLUSTER SLOTS' answer: slots [lo, hi] are on host:port. */
int rc_map_range(rc_map *m, unsigned lo, unsigned hi, const char *host, int port);

#endif
