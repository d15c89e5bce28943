/*
 * client.c: the blocking client of spamsift-fpd (see client.h).
 */
#include "fpd/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spamsift.h"

struct fpc {
	fpp_key key;
	struct sockaddr_storage sa;
	socklen_t salen;
	int udp, tcp;
	int status;
};

uint64_t fpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse_addr(const char *addr, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	size_t hl;
	long port;
	char *end;

	if (!colon || (hl = (size_t)(colon - addr)) >= sizeof(host) || !hl)
		return SS_EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return SS_EINVAL;
	memcpy(host, addr, hl);
	host[hl] = 0;
	memset(sa, 0, sizeof(*sa));
	if (host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
		host[hl - 1] = 0;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1 ? 0 : SS_EINVAL;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*len = sizeof(*a4);
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : SS_EINVAL;
}

int fpc_new(const char *addr, const fpp_key *k, fpc **out)
{
	fpc *c = calloc(1, sizeof(*c));

	if (!c)
		return SS_ENOMEM;
	if (sodium_init() < 0 || parse_addr(addr, &c->sa, &c->salen)) {
		free(c);
		return SS_EINVAL;
	}
	c->key = *k;
	c->udp = c->tcp = -1;
	c->status = -1;
	*out = c;
	return 0;
}

void fpc_free(fpc *c)
{
	if (!c)
		return;
	if (c->udp >= 0)
		close(c->udp);
	if (c->tcp >= 0)
		close(c->tcp);
	sodium_memzero(&c->key, sizeof(c->key));
	free(c);
}

int fpc_status(const fpc *c)
{
	return c->status;
}

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	uint64_t now = fpc_now_ms();
	struct pollfd p = {fd, ev, 0};
	int r;

	if (now >= deadline)
		return SS_EIO;
	do
		r = poll(&p, 1, (int)(deadline - now));
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : SS_EIO;
}

static void close_tcp(fpc *c)
{
	if (c->tcp >= 0)
		close(c->tcp);
	c->tcp = -1;
}

static int open_udp(fpc *c)
{
	if (c->udp >= 0)
		return 0;
	c->udp = socket(c->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->udp < 0)
		return SS_EIO;
	if (connect(c->udp, (struct sockaddr *)&c->sa, c->salen)) {
		close(c->udp);
		c->udp = -1;
		return SS_EIO;
	}
	return 0;
}

static int open_tcp(fpc *c, uint64_t deadline)
{
	int one = 1, err = 0;
	socklen_t el = sizeof(err);

	if (c->tcp >= 0)
		return 0;
	c->tcp = socket(c->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->tcp < 0)
		return SS_EIO;
	setsockopt(c->tcp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->tcp, (struct sockaddr *)&c->sa, c->salen) && errno != EINPROGRESS)
		goto fail;
	if (wait_fd(c->tcp, POLLOUT, deadline) ||
	    getsockopt(c->tcp, SOL_SOCKET, SO_ERROR, &err, &el) || err)
		goto fail;
	return 0;
fail:
	close_tcp(c);
	return SS_EIO;
}

/* Decodes a reply packet for request `reqid` into *reply. */
static int take_reply(fpc *c, const uint8_t *pkt, size_t len, uint64_t reqid, fpp_msg *reply)
{
	fpp_envelope env;

	if (fpp_envelope_parse(pkt, len, &env) || strcmp(env.name, c->key.name) ||
	    fpp_open(&env, c->key.secret, reply) || !reply->is_reply || reply->reqid != reqid)
		return SS_EINVAL;
	c->status = reply->status;
	return 0;
}

/* Waits for the UDP reply to reqid until `until`; 0 when it came. */
static int udp_wait(fpc *c, uint64_t reqid, uint64_t until, fpp_msg *reply)
{
	uint8_t buf[FPP_MAX_PACKET];
	ssize_t n;

	while (!wait_fd(c->udp, POLLIN, until)) {
		while ((n = recv(c->udp, buf, sizeof(buf), 0)) > 0)
			if (!take_reply(c, buf, (size_t)n, reqid, reply))
				return 0;
	}
	return SS_EIO;
}

static int send_all(fpc *c, const uint8_t *p, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t n = send(c->tcp, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return SS_EIO;
		} else if (wait_fd(c->tcp, POLLOUT, deadline)) {
			return SS_EIO;
		}
	}
	return 0;
}

static int recv_all(fpc *c, uint8_t *p, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t n = recv(c->tcp, p, len, 0);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (!n || (errno != EAGAIN && errno != EINTR)) {
			return SS_EIO;
		} else if (wait_fd(c->tcp, POLLIN, deadline)) {
			return SS_EIO;
		}
	}
	return 0;
}

static int tcp_exchange(fpc *c, const uint8_t *pkt, size_t len, uint64_t reqid, uint64_t deadline,
                        fpp_msg *reply)
{
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                  (uint8_t)len};
	uint8_t buf[FPP_MAX_PACKET];
	size_t rl;

	if (open_tcp(c, deadline) || send_all(c, hdr, 4, deadline) ||
	    send_all(c, pkt, len, deadline))
		goto fail;
	for (;;) {
		if (recv_all(c, hdr, 4, deadline))
			goto fail;
		rl = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
		if (rl > sizeof(buf) || recv_all(c, buf, rl, deadline))
			goto fail;
		if (!take_reply(c, buf, rl, reqid, reply))
			return 0;
	}
fail:
	close_tcp(c);
	return SS_EIO;
}

int fpc_exchange(fpc *c, const uint8_t *pkt, size_t len, uint64_t reqid, int udp, int timeout_ms,
                 fpp_msg *reply)
{
	uint64_t deadline = fpc_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

	if (!udp)
		return tcp_exchange(c, pkt, len, reqid, deadline, reply);
	if (open_udp(c) || send(c->udp, pkt, len, 0) < 0)
		return SS_EIO;
	return udp_wait(c, reqid, deadline, reply);
}

int fpc_request(fpc *c, fpp_msg *req, int udp, int timeout_ms, fpp_msg *reply)
{
	uint8_t pkt[FPP_MAX_PACKET];
	uint64_t deadline = fpc_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0), until;
	int len;

	req->is_reply = 0;
	req->ts = (uint64_t)time(NULL);
	randombytes_buf(&req->reqid, sizeof(req->reqid));
	c->status = -1;
	if (!udp) {
		if ((len = fpp_seal(c->key.name, c->key.secret, req, pkt, sizeof(pkt))) < 0)
			return len;
		return tcp_exchange(c, pkt, (size_t)len, req->reqid, deadline, reply);
	}
	if (open_udp(c))
		return SS_EIO;
	while (fpc_now_ms() < deadline) {
		/* each try with a fresh nonce, or the server would see a replay */
		if ((len = fpp_seal(c->key.name, c->key.secret, req, pkt, sizeof(pkt))) < 0)
			return len;
		if (send(c->udp, pkt, (size_t)len, 0) < 0 && errno != ECONNREFUSED)
			return SS_EIO;
		until = fpc_now_ms() + 250;
		if (!udp_wait(c, req->reqid, until < deadline ? until : deadline, reply))
			return 0;
	}
	return SS_EIO;
}

static int fill_match(fpp_msg *m, const fp_text *text, const fp_digest *digests, size_t nd)
{
	if (nd > FPP_MAX_DIGESTS || (!text && !nd))
		return SS_EINVAL;
	m->has_text = text != NULL;
	if (text)
		m->text = *text;
	m->ndigests = (uint8_t)nd;
	if (nd)
		memcpy(m->digests, digests, nd * sizeof(*digests));
	return 0;
}

int fpc_lookup(fpc *c, const fp_text *text, const fp_digest *digests, size_t nd, int timeout_ms,
               fpc_result *res)
{
	fpp_msg req = {.cmd = FPP_LOOKUP}, rep;
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = fill_match(&req, text, digests, nd)) ||
	    (r = fpc_request(c, &req, 1, timeout_ms, &rep)))
		return r;
	if (rep.status == FPP_NOTFOUND)
		return 0;
	if (rep.status != FPP_OK)
		return SS_EBUSY;
	res->found = rep.found;
	res->similarity = rep.similarity;
	res->cls = rep.cls;
	res->weight = rep.weight;
	res->first_seen = rep.first_seen;
	res->last_seen = rep.last_seen;
	res->count = rep.count;
	return 0;
}

int fpc_add(fpc *c, const fp_text *text, const fp_digest *digests, size_t nd, int cls,
            double weight, int timeout_ms)
{
	fpp_msg req = {.cmd = FPP_ADD, .cls = (uint8_t)cls, .weight = weight}, rep;
	int r;

	if (cls != FPP_SPAM && cls != FPP_HAM)
		return SS_EINVAL;
	if ((r = fill_match(&req, text, digests, nd)) ||
	    (r = fpc_request(c, &req, 0, timeout_ms, &rep)))
		return r;
	return rep.status == FPP_OK ? 0 : SS_EBUSY;
}

int fpc_del(fpc *c, const fp_text *text, const fp_digest *digests, size_t nd, int timeout_ms)
{
	fpp_msg req = {.cmd = FPP_DEL}, rep;
	int r;

	if ((r = fill_match(&req, text, digests, nd)) ||
	    (r = fpc_request(c, &req, 0, timeout_ms, &rep)))
		return r;
	return rep.status == FPP_OK ? 0 : SS_EBUSY;
}

/* Reads at most FPC_KEYS_FILE_MAX bytes of path into a new buffer. */
static int read_keys_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	int err = 0;

	*text = NULL;
	*len = 0;
	if (!f)
		return SS_EIO;
	if (!(*text = malloc(FPC_KEYS_FILE_MAX + 1))) {
		fclose(f);
		return SS_ENOMEM;
	}
	*len = fread(*text, 1, FPC_KEYS_FILE_MAX + 1, f);
	if (ferror(f))
		err = SS_EIO;
	else if (*len > FPC_KEYS_FILE_MAX)
		err = SS_ESYNTAX;
	fclose(f);
	return err;
}

int fpc_key_load(const char *path, const char *name, fpp_key *out, unsigned *errline)
{
	enum { MAX_KEYS = 1024 };
	fpp_key *keys = calloc(MAX_KEYS, sizeof(*keys));
	char *text = NULL;
	size_t len = 0, n = 0;
	unsigned line = 0;
	int err;

	if (!keys)
		return SS_ENOMEM;
	if ((err = read_keys_file(path, &text, &len)))
		goto out;
	err = fpp_keys_parse(text, len, keys, MAX_KEYS, &n, &line);
	if (err || !n) {
		err = SS_ESYNTAX;
		goto out;
	}
	err = SS_EINVAL;
	for (size_t i = 0; i < n && err; i++)
		if (!name || !strcmp(keys[i].name, name)) {
			*out = keys[i];
			err = 0;
		}
out:
	if (errline)
		*errline = err == SS_ESYNTAX ? line : 0;
	if (text)
		sodium_memzero(text, len);
	sodium_memzero(keys, MAX_KEYS * sizeof(*keys));
	free(text);
	free(keys);
	return err;
}
