/*
 * redis_cluster.c: key slots, redirections and the slot map of a Redis
 * Cluster (see redis_cluster.h).
 */
#include <string.h>

#include "store/redis_cluster.h"

/* CRC16/XMODEM (polynomial 0x1021, initial 0), as the Cluster
 * specification gives it; computed bit by bit (keys here are short). */
static uint16_t crc16(const char *p, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)((uint8_t)p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

unsigned rc_key_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len), *close;

	/* The tag is what lies between the first '{' and the first '}' after
	 * it, when not empty. */
	if (open && (close = memchr(open + 1, '}', len - (size_t)(open + 1 - key))) &&
	    close > open + 1)
		return crc16(open + 1, (size_t)(close - open - 1)) & (RC_SLOTS - 1);
	return crc16(key, len) & (RC_SLOTS - 1);
}

/* A decimal number of at most max_digits spelling all of p[0..n). */
static long decimal(const char *p, size_t n, size_t max_digits)
{
	long v = 0;

	if (!n || n > max_digits)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

int rc_parse_redirect(const char *s, size_t len, int *ask, unsigned *slot, char *host, size_t hcap,
                      int *port)
{
	const char *p, *sp, *colon, *end = s + len;
	long v;

	if (len > 6 && !memcmp(s, "MOVED ", 6))
		*ask = 0, p = s + 6;
	else if (len > 4 && !memcmp(s, "ASK ", 4))
		*ask = 1, p = s + 4;
	else
		return -1;
	if (!(sp = memchr(p, ' ', (size_t)(end - p))) ||
	    (v = decimal(p, (size_t)(sp - p), 5)) < 0 || v >= RC_SLOTS)
		return -1;
	*slot = (unsigned)v;
	p = sp + 1;
	/* The last ':' ends the host (an IPv6 address holds some). */
	for (colon = NULL, sp = p; sp < end; sp++)
		if (*sp == ':')
			colon = sp;
	if (!colon || colon == p || (size_t)(colon - p) >= hcap ||
	    memchr(p, 0, (size_t)(colon - p)) ||
	    (v = decimal(colon + 1, (size_t)(end - colon - 1), 5)) < 1 || v > 65535)
		return -1;
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = 0;
	*port = (int)v;
	return 0;
}

int rc_node_index(rc_map *m, const char *host, int port)
{
	size_t n = strlen(host);

	for (size_t i = 0; i < m->nnodes; i++)
		if (m->nodes[i].port == port && !strcmp(m->nodes[i].host, host))
			return (int)i;
	if (m->nnodes == RC_MAX_NODES || n >= RC_HOST || !n)
		return -1;
	memcpy(m->nodes[m->nnodes].host, host, n + 1);
	m->nodes[m->nnodes].port = port;
	return (int)m->nnodes++;
}

int rc_map_range(rc_map *m, unsigned lo, unsigned hi, const char *host, int port)
{
	int i = rc_node_index(m, host, port);

	if (i < 0 || lo > hi || hi >= RC_SLOTS)
		return -1;
	for (unsigned s = lo; s <= hi; s++)
		m->slot_node[s] = (uint8_t)i;
	return 0;
}
