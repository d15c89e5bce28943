/*
 * main.c: spamsift-fpd, the fingerprint server: options, the keys file,
 * the store and the peers; prints the bound addresses, then serves until
 * SIGTERM or SIGINT (see fpd.h and docs/FPP.md).
 */
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpd/fpd.h"
#include "spamsift.h"

static const char usage[] =
    "usage: spamsift-fpd --db DIR|--redis URL --listen IP:PORT --keys FILE\n"
    "                    [--peer SPEC]... [--redis-password-file FILE]\n"
    "                    [--redis-replica URL]\n"
    "                    [--expire DAYS] [--expire-every SECONDS] [--idle SECONDS]\n"
    "                    [--max-conn N] [--peer-queue N]\n"
    "\n"
    "The fingerprint server: stores the fingerprints of reported messages\n"
    "(class, weight, first and last seen, count, reporter) and answers\n"
    "lookups, over UDP (LOOKUP) and TCP (everything) on the same port.\n"
    "Every request is sealed with a key of the keys file (docs/FPP.md).\n"
    "\n"
    "  --db DIR            the LMDB store (created if absent)\n"
    "  --redis URL         the store on Redis instead, shared by every server\n"
    "                      given the same URL: redis://[:PASSWORD@]HOST[:PORT][/DB]\n"
    "                      or redis+sentinel://HOST[:PORT][,HOST...]/SERVICE[/DB]\n"
    "                      (rediss:// for TLS; a client certificate from\n"
    "                      SPAMSIFT_REDIS_TLS_CERT and SPAMSIFT_REDIS_TLS_KEY);\n"
    "                      keys ssf{f}:*\n"
    "  --redis-password-file FILE\n"
    "                      the Redis password (first line), kept out of the URL\n"
    "  --redis-replica URL a replica of it that lookups read (the primary when\n"
    "                      it does not answer); everything else goes to --redis\n"
    "  --listen IP:PORT    where to listen; port 0 picks a free one. The bound\n"
    "                      addresses are printed first: 'udp IP:PORT', 'tcp IP:PORT'\n"
    "  --keys FILE         lines 'NAME rw|ro BASE64SECRET [rate=N/s]'\n"
    "                      (spamsift fp keygen NAME [--read-only] prints one)\n"
    "  --peer IP:PORT,KEYNAME[,weight=W]\n"
    "                      replicate with another server: ADDs and DELs done here\n"
    "                      are pushed to it with key KEYNAME (of --keys), and ADDs\n"
    "                      it pushes with that key are stored with their weight\n"
    "                      times W (default 1). Repeatable, up to 16. What is not\n"
    "                      pushed yet waits in the store, across restarts.\n"
    "  --peer-queue N      pushes waiting per peer (default 100000); past it the\n"
    "                      oldest is dropped and logged\n"
    "  --expire DAYS       delete entries not seen for DAYS (default 90; 0: never;\n"
    "                      fractions too)\n"
    "  --expire-every S    how often to expire (default 3600 seconds)\n"
    "  --idle S            close a TCP connection silent this long (default 60\n"
    "                      seconds, 0.05 to 86400)\n"
    "  --max-conn N        TCP connections open at once (default 1024); more\n"
    "                      are closed at accept\n";

typedef struct opts {
	const char *db, *redis, *redis_pw, *redis_replica, *listen, *keys;
	const char *peers[FPD_MAX_PEERS];
	size_t npeers;
} opts;

static int parse_args(int argc, char **argv, opts *o, fpd *d)
{
	static const struct option longs[] = {{"db", 1, 0, 'd'},
	                                      {"redis", 1, 0, 'R'},
	                                      {"redis-password-file", 1, 0, 'P'},
	                                      {"redis-replica", 1, 0, 'Q'},
	                                      {"listen", 1, 0, 'l'},
	                                      {"keys", 1, 0, 'k'},
	                                      {"peer", 1, 0, 'p'},
	                                      {"expire", 1, 0, 'e'},
	                                      {"expire-every", 1, 0, 'E'},
	                                      {"idle", 1, 0, 'i'},
	                                      {"max-conn", 1, 0, 'm'},
	                                      {"peer-queue", 1, 0, 'q'},
	                                      {"help", 0, 0, 'h'},
	                                      {0, 0, 0, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			o->db = optarg;
		else if (c == 'R')
			o->redis = optarg;
		else if (c == 'P')
			o->redis_pw = optarg;
		else if (c == 'Q')
			o->redis_replica = optarg;
		else if (c == 'l')
			o->listen = optarg;
		else if (c == 'k')
			o->keys = optarg;
		else if (c == 'p' && o->npeers < FPD_MAX_PEERS)
			o->peers[o->npeers++] = optarg;
		else if (c == 'e')
			d->expire_days = strtod(optarg, NULL);
		else if (c == 'E')
			d->expire_every = strtod(optarg, NULL);
		else if (c == 'i')
			d->idle = strtod(optarg, NULL);
		else if (c == 'm')
			d->max_conns = strtoul(optarg, NULL, 10);
		else if (c == 'q')
			d->peer_queue = strtoull(optarg, NULL, 10);
		else if (c == 'h')
			return fputs(usage, stdout), 1;
		else
			return fputs(usage, stderr), -1;
	}
	if (!o->db == !o->redis || !o->listen || !o->keys || optind < argc ||
	    (o->redis_replica && !o->redis) || d->expire_every <= 0 || d->expire_days < 0 ||
	    !(d->idle >= 0.05 && d->idle <= 86400) || d->max_conns < 1 || d->max_conns > 100000 ||
	    d->peer_queue < 1 || d->peer_queue > 100000000) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

static int load_keys(fpd *d, const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = malloc(1 << 20);
	size_t len = 0;
	unsigned line = 0;
	int rc = -1;

	d->keys = calloc(FPD_MAX_KEYS, sizeof(*d->keys));
	if (!f || !text || !d->keys) {
		fprintf(stderr, "spamsift-fpd: %s: cannot read\n", path);
		goto out;
	}
	len = fread(text, 1, (1 << 20) - 1, f);
	fpp_key *ks = calloc(FPD_MAX_KEYS, sizeof(*ks));
	if (ks && !fpp_keys_parse(text, len, ks, FPD_MAX_KEYS, &d->nkeys, &line)) {
		for (size_t i = 0; i < d->nkeys; i++)
			d->keys[i] = (fpd_key){
			    .key = ks[i], .tokens = ks[i].rate, .refilled_ms = fpc_now_ms()};
		rc = 0;
	} else {
		fprintf(stderr, "spamsift-fpd: %s:%u: bad key line\n", path, line);
	}
	if (ks)
		sodium_memzero(ks, FPD_MAX_KEYS * sizeof(*ks));
	free(ks);
out:
	if (f)
		fclose(f);
	if (text)
		sodium_memzero(text, len);
	free(text);
	return rc;
}

static int start_peers(fpd *d, const opts *o)
{
	for (size_t i = 0; i < o->npeers; i++) {
		fpd_peer *p = &d->peers[i];
		fpd_key *k = NULL;
		if (fpd_peer_parse(o->peers[i], p)) {
			fprintf(stderr,
			        "spamsift-fpd: --peer %s: want IP:PORT,KEYNAME[,weight=W]\n",
			        o->peers[i]);
			return -1;
		}
		for (size_t j = 0; j < d->nkeys && !k; j++)
			if (!strcmp(d->keys[j].key.name, p->keyname))
				k = &d->keys[j];
		if (!k || fpd_peer_start(p, &k->key, d->store)) {
			fprintf(stderr, "spamsift-fpd: --peer %s: no key %s or bad address\n",
			        o->peers[i], p->keyname);
			return -1;
		}
		k->peer = (int)i + 1;
		d->npeers++;
		uint64_t waiting = fstore_outbox_len(d->store, p->box);
		if (waiting)
			fprintf(stderr, "spamsift-fpd: peer %s: %llu pushes waiting\n", p->addr,
			        (unsigned long long)waiting);
	}
	return 0;
}

int main(int argc, char **argv)
{
	fpd d = {.expire_days = 90,
	         .expire_every = 3600,
	         .idle = 60,
	         .max_conns = 1024,
	         .peer_queue = FPD_PEER_QUEUE,
	         .udp_fd = -1,
	         .tcp_fd = -1};
	opts o = {0};
	char bound[80];
	int rc = 2, r;

	signal(SIGPIPE, SIG_IGN);
	if ((r = parse_args(argc, argv, &o, &d)))
		return r > 0 ? 0 : 2;
	if (sodium_init() < 0 || load_keys(&d, o.keys))
		goto out;
	if (o.redis) {
		const char *why = NULL;
		if ((r = fstore_open_redis(o.redis, o.redis_replica, o.redis_pw, 1000, &d.store,
		                           &why))) {
			fprintf(stderr, "spamsift-fpd: the store on Redis: %s\n",
			        why ? why : ss_strerror(r));
			goto out;
		}
	} else if ((r = fstore_open(o.db, &d.store))) {
		fprintf(stderr, "spamsift-fpd: %s: %s\n", o.db, ss_strerror(r));
		goto out;
	}
	if (fpd_listen(&d, o.listen, bound, sizeof(bound))) {
		fprintf(stderr, "spamsift-fpd: cannot listen on %s\n", o.listen);
		goto out;
	}
	if (start_peers(&d, &o))
		goto out;
	printf("udp %s\ntcp %s\n", bound, bound);
	fflush(stdout);
	rc = fpd_run(&d) ? 1 : 0;
	fprintf(stderr,
	        "spamsift-fpd: %llu requests, %llu dropped, %llu looped changes ignored, %llu "
	        "re-sent changes ignored, %llu pushes dropped for a full outbox\n",
	        (unsigned long long)d.requests, (unsigned long long)d.refused,
	        (unsigned long long)d.loops, (unsigned long long)d.duplicates,
	        (unsigned long long)d.dropped);
out:
	for (size_t i = 0; i < d.npeers; i++)
		fpd_peer_stop(&d.peers[i]);
	fstore_close(d.store);
	if (d.keys)
		sodium_memzero(d.keys, FPD_MAX_KEYS * sizeof(*d.keys));
	free(d.keys);
	return rc;
}
