/*
 * reports.c: user reports in the daemon (see reports.h).
 */
#include "daemon/reports.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int reports_enabled(const config *conf)
{
	return conf->evidence != NULL;
}

/* Loads the contacts and the country database named by conf. */
static int load(const config *conf, contact_map **cm, geoip **geo, char *why, size_t why_len)
{
	int err = 0;

	if (conf->contacts)
		err = contacts_load(conf->contacts, cm, why, why_len);
	if (!err && conf->geoip)
		err = geoip_open(conf->geoip, geo, why, why_len);
	return err;
}

int reports_make(const config *conf, const char *user, const char *msg, size_t len, ss_arena *a,
                 report_out *out, char *why, size_t why_len)
{
	contact_map *cm = NULL;
	geoip *geo = NULL;
	report_cfg cfg = {0};
	int err;

	memset(out, 0, sizeof(*out));
	snprintf(why, why_len, "%s", "");
	if ((err = load(conf, &cm, &geo, why, why_len)))
		goto out;
	cfg = (report_cfg){cm, geo, NULL, conf->report_from, 0};
	if ((err = report_make(&cfg, user, msg, len, (int64_t)time(NULL), a, out)))
		goto out;
	if ((err = evidence_append(conf->evidence, &out->ev))) {
		snprintf(why, why_len, "%s: cannot store the evidence", conf->evidence);
		goto out;
	}
	if ((err = report_fingerprint(conf->fp_server, conf->fp_key, msg, len)))
		snprintf(why, why_len, "fingerprints not added to %s: %s", conf->fp_server,
		         ss_strerror(err));
out:
	if (err && !why[0])
		snprintf(why, why_len, "%s", ss_strerror(err));
	contacts_free(cm);
	geoip_close(geo);
	return err;
}

void reports_release(report_out *out)
{
	sbuf_release(&out->arf);
}
