/*
 * dnslprobe.c: runs the DNS list check of src/dnsl on one message file
 * against a real DNS server and prints what it asked and found, so
 * tests/dnsl.sh can check it end to end.
 *
 *   dnslprobe [options] MESSAGE
 *     --resolver IP:PORT       the server (default: /etc/resolv.conf)
 *     --timeout S              the scan's DNS deadline (default 3)
 *     --ip IP                  the envelope client IP
 *     --trusted NETS           trusted relays for the Received chain
 *     --deep                   also the older untrusted hops
 *     --max-domains N          domains asked at most
 *     --sender-domains         also the From and Reply-To domains
 *     --dnsbl SYM:ZONE         an IP list
 *     --uribl SYM:ZONE         a domain list
 *     --code SYM:LIST:A.B.C.D[/N]  an exact (or CIDR range) code of LIST
 *     --bits SYM:LIST:N        a bitmask code of LIST
 *     --again FILE             scan again with the same client once FILE
 *                              exists (the cache test stops the server)
 *
 * Prints "query NAME STATUS" per question, "hit SYMBOL DETAIL" per hit
 * and "elapsed_ms N"; the lines of the second scan start with "again ".
 * Exits 2 on bad usage.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsl/dnsl.h"

typedef struct probe {
	dns_config dns;
	const char *ip, *trusted, *again, *file;
	dnsl_opts opts;
	ss_dnslist lists[16];
	ss_dnslist_code codes[16][16];
	size_t nlists;
} probe;

static int usage(const char *why)
{
	fprintf(stderr, "dnslprobe: %s\n", why);
	return 2;
}

/* Splits "A:B" or "A:B:C" in place; returns the number of parts. */
static int split(char *s, char **parts, int max)
{
	int n = 0;

	while (n < max) {
		parts[n++] = s;
		if (!(s = strchr(s, ':')) || n == max)
			break;
		*s++ = '\0';
	}
	return n;
}

static int add_list(probe *p, char *arg, ss_dnslist_kind kind)
{
	char *f[2];

	if (split(arg, f, 2) != 2 || p->nlists == 16)
		return usage("want --dnsbl/--uribl SYMBOL:ZONE");
	p->lists[p->nlists].symbol = f[0];
	p->lists[p->nlists].zone = f[1];
	p->lists[p->nlists].kind = kind;
	p->lists[p->nlists].codes = p->codes[p->nlists];
	p->nlists++;
	return 0;
}

/* Parses "A.B.C.D" or "A.B.C.D/N" into c. */
static int code_value(const char *s, ss_dnslist_code *c)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr in;
	int bits = slash ? atoi(slash + 1) : 32;

	if (n >= sizeof(ip) || bits < 1 || bits > 32)
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, &in) != 1)
		return -1;
	c->mask = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
	c->value = ntohl(in.s_addr) & c->mask;
	return 0;
}

static int add_code(probe *p, char *arg, int bits)
{
	ss_dnslist *l = NULL;
	ss_dnslist_code *c;
	char *f[3];

	if (split(arg, f, 3) != 3)
		return usage("want --code/--bits SYMBOL:LIST:VALUE");
	for (size_t i = 0; i < p->nlists; i++)
		if (!strcmp(p->lists[i].symbol, f[1]))
			l = &p->lists[i];
	if (!l || l->ncodes == 16)
		return usage("--code/--bits: unknown list (define it first)");
	c = &p->codes[l - p->lists][l->ncodes];
	c->symbol = f[0];
	c->bits = bits;
	if (bits)
		c->value = (uint32_t)strtoul(f[2], NULL, 0);
	else if (code_value(f[2], c))
		return usage("--code: want A.B.C.D or A.B.C.D/N");
	l->ncodes++;
	return 0;
}

static int parse_args(probe *p, int argc, char **argv)
{
	int err = 0, i;

	p->dns.timeout = 3;
	dnsl_opts_default(&p->opts);
	for (i = 1; i < argc - 1 && !err && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		char *v = argv[i + 1];
		if (!strcmp(o, "--deep"))
			p->opts.deep = 1;
		else if (!strcmp(o, "--sender-domains"))
			p->opts.sender_domains = 1;
		else if (!strcmp(o, "--resolver") && ++i)
			p->dns.server = v;
		else if (!strcmp(o, "--timeout") && ++i)
			p->dns.timeout = atof(v);
		else if (!strcmp(o, "--ip") && ++i)
			p->ip = v;
		else if (!strcmp(o, "--trusted") && ++i)
			p->trusted = v;
		else if (!strcmp(o, "--max-domains") && ++i)
			p->opts.max_domains = (unsigned)atoi(v);
		else if (!strcmp(o, "--again") && ++i)
			p->again = v;
		else if (!strcmp(o, "--dnsbl") && ++i)
			err = add_list(p, v, SS_DNSLIST_IP);
		else if (!strcmp(o, "--uribl") && ++i)
			err = add_list(p, v, SS_DNSLIST_DOMAIN);
		else if (!strcmp(o, "--code") && ++i)
			err = add_code(p, v, 0);
		else if (!strcmp(o, "--bits") && ++i)
			err = add_code(p, v, 1);
		else
			err = usage("unknown option");
	}
	if (!err && i != argc - 1)
		err = usage("usage: dnslprobe [options] MESSAGE");
	p->file = argv[argc - 1];
	return err;
}

static int read_message(const probe *p, ss_message **m)
{
	ss_parse_opts po = {0};
	ss_netset *trusted = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(p->file, "rb");
	int err = SS_EIO;

	if (!f)
		return err;
	if (p->trusted && ss_netset_parse(p->trusted, &trusted, NULL))
		goto out;
	buf = malloc(1 << 20);
	if (!buf)
		goto out;
	len = fread(buf, 1, 1 << 20, f);
	po.trusted = trusted;
	err = ss_parse(buf, len, &po, m);
out:
	free(buf);
	ss_netset_free(trusted);
	fclose(f);
	return err;
}

/* One scan: begin, finish, print. */
static int scan(const probe *p, const ss_message *m, dns_client *c, const char *prefix)
{
	ss_checks_config cfg = {.dnslists = p->lists, .ndnslists = p->nlists};
	int64_t t0 = dns_now();
	dnsl_run run;
	ss_hits hits;
	ss_arena a;
	int err;

	arena_init(&a);
	hits_init(&hits, &a);
	err = dnsl_begin(&run, &cfg, &p->opts, m, p->ip, c, &a);
	err = err ? err : dnsl_finish(&run, dns_deadline(p->dns.timeout), &hits);
	for (size_t i = 0; i < run.nlk; i++)
		printf("%squery %s %s\n", prefix, run.lk[i].q.name,
		       dns_status_name(run.lk[i].q.status));
	for (size_t i = 0; i < hits.n; i++)
		printf("%shit %s %s\n", prefix, hits.v[i].name,
		       hits.v[i].detail ? hits.v[i].detail : "");
	printf("%selapsed_ms %lld\n", prefix, (long long)((dns_now() - t0) / 1000000));
	fflush(stdout);
	arena_release(&a);
	return err;
}

/* Waits up to 30 s for the file `path` to exist. */
static void wait_for(const char *path)
{
	for (int i = 0; i < 3000 && access(path, F_OK); i++)
		usleep(10000);
}

int main(int argc, char **argv)
{
	static probe p;
	ss_message *m = NULL;
	dns_client *c = NULL;
	int err;

	if (argc < 2 || parse_args(&p, argc, argv))
		return 2;
	if ((err = read_message(&p, &m)) || (err = dns_client_new(&p.dns, &c))) {
		fprintf(stderr, "dnslprobe: %s\n", ss_strerror(err));
		ss_message_free(m);
		return 2;
	}
	err = scan(&p, m, c, "");
	if (!err && p.again) {
		wait_for(p.again);
		err = scan(&p, m, c, "again ");
	}
	if (err)
		fprintf(stderr, "dnslprobe: %s\n", ss_strerror(err));
	dns_client_free(c);
	ss_message_free(m);
	ss_thread_release();
	return err ? 1 : 0;
}
