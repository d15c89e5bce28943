/*
 * authprobe.c: runs the sender authentication of src/auth (SPF, DKIM,
 * DMARC) on one message file as the engine does, and prints what it
 * found, so tests/auth.sh can check it against a real DNS server.
 *
 *   authprobe [--ip IP] [--helo NAME] [--from ADDR] [--resolver IP:PORT]
 *             [--timeout SECONDS] [--id AUTHSERV-ID] FILE
 *
 * Without --ip the message's first untrusted Received hop is used (and
 * Return-Path for MAIL FROM unless --from is given). Prints one line per
 * hit, "SYMBOL detail", then "ar: VALUE" (the Authentication-Results
 * value) and "elapsed_ms N" (auth_begin to auth_finish).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n == cap && !(buf = realloc(buf, cap = cap ? cap * 2 : 65536)))
			break;
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*len = n;
	return buf;
}

static int usage(void)
{
	fprintf(stderr, "usage: authprobe [--ip IP] [--helo NAME] [--from ADDR] "
	                "[--resolver IP:PORT] [--timeout S] [--id ID] FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	auth_envelope env = {0};
	dns_config cfg = {.timeout = 5};
	const char *id = "authprobe", *path = NULL, *ar = NULL;
	ss_message *msg = NULL;
	dns_client *dns = NULL;
	auth_ctx *ctx = NULL;
	ss_arena a;
	ss_hits hits;
	size_t len = 0;
	char *buf;
	int err;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (o[0] != '-') {
			path = o;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(o, "--ip"))
			env.ip = v;
		else if (!strcmp(o, "--helo"))
			env.helo = v;
		else if (!strcmp(o, "--from"))
			env.mail_from = v;
		else if (!strcmp(o, "--resolver"))
			cfg.server = v;
		else if (!strcmp(o, "--timeout"))
			cfg.timeout = atof(v);
		else if (!strcmp(o, "--id"))
			id = v;
		else
			return usage();
	}
	if (!path)
		return usage();
	if (!(buf = read_file(path, &len)) || ss_parse(buf, len, NULL, &msg)) {
		fprintf(stderr, "authprobe: cannot read or parse %s\n", path);
		return 2;
	}
	if (dns_client_new(&cfg, &dns) || !(ctx = auth_ctx_new())) {
		fprintf(stderr, "authprobe: bad resolver or no memory\n");
		return 2;
	}
	arena_init(&a);
	hits_init(&hits, &a);
	int64_t t0 = dns_now();
	err = auth_begin(ctx, msg, buf, len, &env, dns, dns_deadline(cfg.timeout), &a);
	if (!err)
		err = auth_finish(ctx, id, &hits, &ar);
	long long ms = (long long)((dns_now() - t0) / 1000000);
	for (size_t i = 0; i < hits.n; i++)
		printf("%s %s\n", hits.v[i].name, hits.v[i].detail ? hits.v[i].detail : "");
	printf("ar: %s\n", ar ? ar : "");
	printf("elapsed_ms %lld\n", ms);
	auth_ctx_free(ctx);
	dns_client_free(dns);
	arena_release(&a);
	ss_message_free(msg);
	free(buf);
	if (err)
		fprintf(stderr, "authprobe: %s\n", ss_strerror(err));
	return err ? 1 : 0;
}
