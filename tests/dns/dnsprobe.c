/*
 * dnsprobe.c: asks the questions given on the command line through the
 * DNS client of src/dns (as the checks do) and prints each answer, so
 * tests/dns.sh can check the client against a real DNS server.
 *
 *   dnsprobe SERVER TIMEOUT [--seq] NAME/TYPE...
 *
 * TYPE is A, AAAA or TXT. All questions go out at once and share one
 * deadline (TIMEOUT seconds), or, with --seq, one after another with
 * dns_lookup() and the same deadline. Prints one line per question:
 * "NAME TYPE STATUS [record...]", then "elapsed_ms N timed_out N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "dns/dns.h"

static int type_of(const char *s)
{
	if (!strcmp(s, "A"))
		return DNS_T_A;
	if (!strcmp(s, "AAAA"))
		return DNS_T_AAAA;
	return !strcmp(s, "TXT") ? DNS_T_TXT : -1;
}

static void print_answer(const dns_query *q, const char *type, ss_arena *a)
{
	char ip[INET6_ADDRSTRLEN];

	printf("%s %s %s", q->name, type, dns_status_name(q->status));
	for (size_t i = 0; i < q->nrr; i++) {
		if (q->type == DNS_T_TXT)
			printf(" \"%s\"", dns_txt(q, i, a) ? dns_txt(q, i, a) : "?");
		else if (inet_ntop(q->type == DNS_T_A ? AF_INET : AF_INET6, q->rr[i].data, ip,
		                   sizeof(ip)))
			printf(" %s", ip);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	dns_config cfg = {0};
	dns_client *c = NULL;
	dns_query *q;
	ss_arena a;
	int seq = 0, first = 3, timed_out = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: dnsprobe SERVER TIMEOUT [--seq] NAME/TYPE...\n");
		return 2;
	}
	cfg.server = strcmp(argv[1], "system") ? argv[1] : NULL;
	cfg.timeout = atof(argv[2]);
	if (!strcmp(argv[3], "--seq"))
		seq = 1, first = 4;
	if (dns_client_new(&cfg, &c)) {
		fprintf(stderr, "dnsprobe: bad resolver '%s'\n", argv[1]);
		return 2;
	}
	arena_init(&a);
	q = calloc((size_t)argc, sizeof(*q));
	int64_t t0 = dns_now(), deadline = dns_deadline(cfg.timeout);
	for (int i = first; i < argc; i++) {
		char *slash = strrchr(argv[i], '/');
		int type = slash ? type_of(slash + 1) : -1;
		if (type < 0) {
			fprintf(stderr, "dnsprobe: '%s': want NAME/A, NAME/AAAA or NAME/TXT\n",
			        argv[i]);
			return 2;
		}
		*slash = '\0';
		if (seq)
			timed_out +=
			    dns_lookup(c, &q[i], argv[i], type, deadline, &a) == DNS_TEMPFAIL;
		else
			dns_submit(c, &q[i], argv[i], type, &a);
	}
	if (!seq)
		timed_out = dns_wait(c, deadline);
	for (int i = first; i < argc; i++)
		print_answer(&q[i], argv[i] + strlen(argv[i]) + 1, &a);
	printf("elapsed_ms %lld timed_out %d\n", (long long)((dns_now() - t0) / 1000000),
	       timed_out);
	free(q);
	arena_release(&a);
	dns_client_free(c);
	return 0;
}
