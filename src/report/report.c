/*
 * report.c: a reported message to its ARF and evidence record (see
 * report.h).
 */
#include "report/report.h"

#include <sodium.h>

#include "engine/checks.h"
#include "fpd/client.h"
#include "fuzzy/fuzzy.h"
#include "proto/fpp.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_FROM "abuse-reports@localhost"

static const char *copy(ss_arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : "";
}

/* Source network, contact and country of out->ev.ip, copied into a (so
 * that out outlives the contacts map). Returns 0 or SS_ENOMEM. */
static int origin(const report_cfg *cfg, ss_arena *a, report_out *out)
{
	contact c;
	char cc[3];

	if (!out->ev.ip[0])
		return 0;
	if (contacts_lookup(cfg->contacts, out->ev.ip, &c)) {
		out->ev.network = copy(a, c.network);
		out->ev.contact = out->to = copy(a, c.addr);
		out->ev.asn = copy(a, c.asn);
		out->ev.country = copy(a, c.cc);
	}
	if (geoip_country(cfg->geo, out->ev.ip, cc))
		out->ev.country = copy(a, cc);
	return out->ev.network && out->ev.contact && out->ev.asn && out->ev.country ? 0 : SS_ENOMEM;
}

/* The report's Message-ID: time, digest and the From's domain. */
static const char *message_id(const char *from, const evidence_rec *ev, ss_arena *a)
{
	const char *at = strrchr(from, '@');
	char id[256];

	snprintf(id, sizeof(id), "arf.%lld.%.16s@%s", (long long)ev->time, ev->sha256,
	         at && at[1] ? at + 1 : "localhost");
	return arena_strndup(a, id, strlen(id));
}

static void init_out(const char *user, const char *buf, size_t len, int64_t now, report_out *out)
{
	memset(out, 0, sizeof(*out));
	out->ev.time = now;
	out->ev.ip = out->ev.network = out->ev.contact = out->ev.country = out->ev.asn = "";
	out->ev.user = user ? user : "";
	out->ev.original = buf;
	out->ev.original_len = len;
	evidence_sha256(buf, len, out->ev.sha256);
}

int report_make(const report_cfg *cfg, const char *user, const char *buf, size_t len, int64_t now,
                ss_arena *a, report_out *out)
{
	ss_parse_opts po = {NULL, cfg->trusted};
	arf_report r = {0};
	ss_message *m = NULL;
	int err;

	init_out(user, buf, len, now, out);
	if ((err = ss_parse(buf, len, &po, &m)) || (err = arf_from_message(m, a, &r)))
		goto out;
	if (r.source_ip && !(out->ev.ip = arena_strndup(a, r.source_ip, strlen(r.source_ip)))) {
		err = SS_ENOMEM;
		goto out;
	}
	out->source_known = r.source_ip != NULL;
	if ((err = origin(cfg, a, out)))
		goto out;
	r.from = cfg->from ? cfg->from : DEFAULT_FROM;
	r.to = out->to;
	r.date = now;
	r.message_id = message_id(r.from, &out->ev, a);
	r.source_network = out->ev.network[0] ? out->ev.network : NULL;
	r.country = out->ev.country[0] ? out->ev.country : NULL;
	r.reporter = user;
	r.original = buf;
	r.original_len = len;
	r.max_original = cfg->max_original;
	err = r.message_id ? arf_build(&r, &out->arf) : SS_ENOMEM;
out:
	ss_message_free(m); /* r's strings from m were copied or used above */
	return err;
}

int report_fingerprint(const char *server, const char *key_file, const char *buf, size_t len)
{
	ss_message *m = NULL;
	fpc *c = NULL;
	fpp_key k;
	fp_set fs;
	int err;

	if (!server)
		return 0;
	if ((err = checks_fp_key(key_file ? key_file : "", &k)))
		return err;
	if ((err = ss_parse(buf, len, NULL, &m)) || (err = fp_of_message(m, &fs)))
		goto out;
	if (!fs.has_text && !fs.ndigests)
		goto out; /* too short to fingerprint: nothing to share */
	if (!(err = fpc_new(server, &k, &c)))
		err = fpc_add(c, fs.has_text ? &fs.text : NULL, fs.digests, fs.ndigests, FPP_SPAM,
		              1.0, 2000);
out:
	sodium_memzero(&k, sizeof(k));
	fpc_free(c);
	ss_message_free(m);
	return err;
}
