/*
 * netset.c: sets of IP networks (the operator's trusted relays), the
 * ss_netset_* functions of spamsift.h.
 *
 * A set is a small unsorted array of (address, prefix length) pairs and a
 * lookup walks all of it: operators list a handful of networks, for which a
 * linear scan beats any tree. Every network is kept in 128-bit form; an IPv4
 * network a.b.c.d/n is stored as its IPv4-mapped form ::ffff:a.b.c.d/(96+n),
 * so "10.0.0.0/8" and "::ffff:10.0.0.0/104" are the same network and the
 * addresses 10.1.2.3 and ::ffff:10.1.2.3 both fall inside it. (A side effect:
 * "::/0" holds every IPv4 address too, as it does on a dual-stack socket.)
 * Address text is read by inet_pton() only.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spamsift.h"

/* Longest address text accepted: a full IPv6 address with an embedded IPv4
 * tail is 45 bytes; anything much longer is not an address. */
#define NETSET_ADDR_MAX 64
/* Bytes of an address given to ss_netset_contains() that are looked at. */
#define NETSET_INPUT_MAX 256

struct netset_net {
	uint8_t addr[16]; /* network address, host bits cleared */
	unsigned prefix;  /* 0..128, counted on the 128-bit form */
};

struct ss_netset {
	struct netset_net *nets;
	size_t n;
	size_t cap;
};

static const uint8_t netset_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int netset_is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

/* Reads address text p[0..n) into its 128-bit form. Returns 32 for IPv4
 * text (stored IPv4-mapped), 128 for IPv6 text, 0 for anything else. */
static unsigned netset_addr(const char *p, size_t n, uint8_t out[16])
{
	char buf[NETSET_ADDR_MAX];

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, out + 12) == 1) {
		memcpy(out, netset_mapped, sizeof(netset_mapped));
		return 32;
	}
	if (inet_pton(AF_INET6, buf, out) == 1)
		return 128;
	return 0;
}

/* Reads a decimal prefix length p[0..n) no larger than max into *out. */
static int netset_prefix(const char *p, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Clears the bits of a[] after the first `prefix` bits. */
static void netset_mask(uint8_t a[16], unsigned prefix)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;

		if (bits < 8)
			a[i] &= (uint8_t)(0xff00u >> bits);
	}
}

static int netset_match(const struct netset_net *net, const uint8_t a[16])
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;

	if (memcmp(net->addr, a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return (a[full] & (uint8_t)(0xff00u >> rest)) == net->addr[full];
}

static int netset_push(ss_netset *ns, const struct netset_net *net)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 8;
		struct netset_net *nets = realloc(ns->nets, cap * sizeof(*nets));

		if (!nets)
			return SS_ENOMEM;
		ns->nets = nets;
		ns->cap = cap;
	}
	ns->nets[ns->n++] = *net;
	return 0;
}

/* Adds the network written p[0..n) ("addr" or "addr/prefix"). */
static int netset_item(ss_netset *ns, const char *p, size_t n)
{
	struct netset_net net;
	const char *slash = memchr(p, '/', n);
	size_t alen = slash ? (size_t)(slash - p) : n;
	unsigned width = netset_addr(p, alen, net.addr);

	if (!width)
		return SS_ESYNTAX;
	net.prefix = width;
	if (slash && netset_prefix(slash + 1, n - alen - 1, width, &net.prefix))
		return SS_ESYNTAX;
	net.prefix += 128 - width;
	netset_mask(net.addr, net.prefix);
	return netset_push(ns, &net);
}

int ss_netset_parse(const char *spec, ss_netset **out, size_t *errpos)
{
	ss_netset *ns;
	size_t i = 0;
	int err = 0;

	if (!spec || !out)
		return SS_EINVAL;
	*out = NULL;
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return SS_ENOMEM;
	while (spec[i]) {
		size_t start = i;

		if (netset_is_sep(spec[i])) {
			i++;
			continue;
		}
		while (spec[i] && !netset_is_sep(spec[i]))
			i++;
		err = netset_item(ns, spec + start, i - start);
		if (err) {
			if (err == SS_ESYNTAX && errpos)
				*errpos = start;
			goto out;
		}
	}
	*out = ns;
	ns = NULL;
out:
	ss_netset_free(ns);
	return err;
}

void ss_netset_free(ss_netset *ns)
{
	if (!ns)
		return;
	free(ns->nets);
	free(ns);
}

/* Narrows p[0..*n) to the address itself: drops white space around it,
 * "[...]" brackets, an "IPv6:" tag and a "%zone" suffix. */
static const char *netset_trim(const char *p, size_t *n)
{
	const char *pct;

	while (*n && netset_is_sep(*p)) {
		p++;
		(*n)--;
	}
	while (*n && netset_is_sep(p[*n - 1]))
		(*n)--;
	if (*n >= 2 && p[0] == '[' && p[*n - 1] == ']') {
		p++;
		*n -= 2;
	}
	if (*n > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		p += 5;
		*n -= 5;
	}
	pct = memchr(p, '%', *n);
	if (pct)
		*n = (size_t)(pct - p);
	return p;
}

int ss_netset_contains(const ss_netset *ns, const char *ip)
{
	uint8_t a[16];
	size_t n, i;
	const char *p;

	if (!ns || !ip)
		return 0;
	n = strnlen(ip, NETSET_INPUT_MAX);
	p = netset_trim(ip, &n);
	if (!netset_addr(p, n, a))
		return 0;
	for (i = 0; i < ns->n; i++)
		if (netset_match(&ns->nets[i], a))
			return 1;
	return 0;
}
