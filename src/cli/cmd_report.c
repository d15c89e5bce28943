/*
 * cmd_report.c: `spamsift report`: a user's report of spam messages. Each
 * message is learned as spam, kept in the evidence store, and turned into
 * an abuse report (ARF) to the source network's contact, printed or handed
 * to the local MTA; `spamsift report --stats` counts the stored reports by
 * origin network and country.
 *
 * Exit status: 0 every message reported to a contact; 1 a message was
 * refused (not mail); 2 usage or I/O error; 3 every message was learned
 * and stored but at least one had no abuse contact (source unknown, or
 * not in the contacts file): its report says so and is not sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "report/report.h"
#include "spamsift.h"

enum { CLI_NO_CONTACT = 3 };

static const char report_usage[] =
    "usage: spamsift report [--user U] [--db PATH] [--contacts FILE] [--geoip FILE.mmdb]\n"
    "                       [--evidence DIR] [--from ADDR] [--trusted NETS]\n"
    "                       [--fp-server IP:PORT --fp-key FILE]\n"
    "                       [--max-original BYTES] [--send] FILE...\n"
    "       spamsift report --stats [--evidence DIR] [--since T] [--until T] [--json|--csv]\n";

typedef struct report_args {
	model_args m; /* --db, --user for the model */
	const char *contacts, *geoip, *evidence, *from, *trusted, *since, *until;
	const char *fp_server, *fp_key; /* spamsift-fpd to add fingerprints to */
	size_t max_original;
	int send, stats, json;
	char **files;
	size_t nfiles;
} report_args;

/* The options that take a value; returns 1 when o was one. */
static int value_option(report_args *a, const char *o, const char *v)
{
	const char *names[] = {"--contacts", "--geoip",     "--evidence", "--from",
	                       "--trusted",  "--since",     "--until",    "--db",
	                       "--user",     "--fp-server", "--fp-key",   "--max-original"};
	const char **dst[] = {&a->contacts, &a->geoip,     &a->evidence, &a->from,
	                      &a->trusted,  &a->since,     &a->until,    &a->m.db,
	                      &a->m.user,   &a->fp_server, &a->fp_key};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(o, names[i])) {
			if (i < 11)
				*dst[i] = v;
			else
				a->max_original = strtoul(v, NULL, 10);
			return 1;
		}
	return 0;
}

static int report_argv(int argc, char **argv, report_args *a)
{
	a->m.cmd = "report";
	if (!(a->files = calloc((size_t)argc, sizeof(char *))))
		return -1;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			fputs(report_usage, stdout);
			exit(CLI_OK);
		} else if (!strcmp(o, "--send") || !strcmp(o, "--stats")) {
			*(o[3] == 'e' ? &a->send : &a->stats) = 1;
		} else if (!strcmp(o, "--json") || !strcmp(o, "--csv")) {
			a->json = o[2] == 'j';
		} else if (o[0] == '-' && o[1] && i + 1 < argc && value_option(a, o, argv[i + 1])) {
			i++;
		} else if (o[0] == '-' && o[1]) {
			fprintf(stderr, "spamsift report: bad option '%s'\n%s", o, report_usage);
			return -1;
		} else {
			a->files[a->nfiles++] = argv[i];
		}
	}
	if (!a->stats && !a->nfiles) {
		fprintf(stderr, "spamsift report: no message given\n%s", report_usage);
		return -1;
	}
	return 0;
}

/* --evidence, or $XDG_DATA_HOME/spamsift/evidence (parents made). */
static const char *evidence_dir(const report_args *a, char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (a->evidence)
		return a->evidence;
	if (xdg && *xdg)
		snprintf(buf, cap, "%s/spamsift/evidence", xdg);
	else
		snprintf(buf, cap, "%s/.local/share/spamsift/evidence", home ? home : ".");
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(buf, 0700);
			*p = '/';
		}
	return buf;
}

/* ---- --stats ---- */

static int on_record(void *ctx, const evidence_rec *r)
{
	return evidence_stats_add(ctx, r);
}

static int run_stats(const report_args *a)
{
	int64_t since = 0, until = 0;
	evidence_stats s;
	sbuf out = SBUF_INIT;
	char dir[4200];
	int err;

	if ((a->since && evidence_parse_time(a->since, &since)) ||
	    (a->until && evidence_parse_time(a->until, &until))) {
		fprintf(stderr, "spamsift report: bad time (want Unix seconds, YYYY-MM-DD or "
		                "YYYY-MM-DDTHH:MM:SSZ)\n");
		return CLI_USAGE;
	}
	evidence_stats_init(&s, since, until);
	err = evidence_scan(evidence_dir(a, dir, sizeof(dir)), on_record, &s, &s.skipped);
	evidence_stats_sort(&s);
	if (!err)
		err = a->json ? evidence_stats_json(&s, &out) : evidence_stats_csv(&s, &out);
	if (!err)
		fwrite(out.p, 1, out.len, stdout);
	else
		fprintf(stderr, "spamsift report: %s: %s\n", dir, ss_strerror(err));
	if (s.skipped)
		fprintf(stderr, "spamsift report: %zu bytes of torn records skipped\n", s.skipped);
	evidence_stats_release(&s);
	sbuf_release(&out);
	return err ? CLI_USAGE : CLI_OK;
}

/* ---- reporting ---- */

typedef struct report_run {
	const report_args *a;
	report_cfg cfg;
	const char *dir;
	store *s;
	engine *e;
	int refused, failed, no_contact;
} report_run;

/* Hands the ARF to the MTA ($SPAMSIFT_SENDMAIL or /usr/sbin/sendmail). */
static int send_arf(const sbuf *arf)
{
	const char *mta = getenv("SPAMSIFT_SENDMAIL");
	char cmd[4200];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -t -i", mta && *mta ? mta : "/usr/sbin/sendmail");
	if (!(p = popen(cmd, "w")))
		return SS_EIO;
	fwrite(arf->p, 1, arf->len, p);
	return pclose(p) == 0 ? 0 : SS_EIO;
}

static int deliver(report_run *r, const char *path, const report_out *o)
{
	if (!o->to) {
		fprintf(stderr, "spamsift report: %s: %s; learned and stored, report not sent\n",
		        path,
		        o->source_known ? "no abuse contact for its source"
		                        : "source unknown (no untrusted Received hop)");
		r->no_contact++;
	}
	if (!r->a->send) {
		fwrite(o->arf.p, 1, o->arf.len, stdout);
		return 0;
	}
	if (!o->to)
		return 0;
	if (send_arf(&o->arf)) {
		fprintf(stderr, "spamsift report: %s: the MTA refused the report\n", path);
		return SS_EIO;
	}
	return 0;
}

/* Learns, stores and reports one message. */
static int report_one(report_run *r, const char *path, const char *buf, size_t len)
{
	report_out o;
	ss_arena a;
	int err;

	arena_init(&a);
	err = report_make(&r->cfg, r->a->m.user, buf, len, (int64_t)time(NULL), &a, &o);
	if (!err)
		err = engine_learn(r->e, r->a->m.user, 1, buf, len, NULL);
	if (!err && (err = evidence_append(r->dir, &o.ev)))
		fprintf(stderr, "spamsift report: %s: cannot store the evidence in %s\n", path,
		        r->dir);
	if (!err && (err = report_fingerprint(r->a->fp_server, r->a->fp_key, buf, len)))
		fprintf(stderr, "spamsift report: %s: fingerprints not added to %s: %s\n", path,
		        r->a->fp_server, ss_strerror(err));
	if (!err)
		err = deliver(r, path, &o);
	else if (err == SS_EEMPTY || err == SS_ENOTMAIL || err == SS_EBINARY)
		fprintf(stderr, "spamsift report: %s: %s\n", path, ss_strerror(err));
	if (err == SS_EEMPTY || err == SS_ENOTMAIL || err == SS_EBINARY)
		r->refused++;
	else if (err)
		r->failed++;
	sbuf_release(&o.arf);
	arena_release(&a);
	return err;
}

static void report_files(report_run *r)
{
	for (size_t i = 0; i < r->a->nfiles; i++) {
		char *buf = NULL;
		size_t len = 0;
		if (cli_read_file(r->a->files[i], &buf, &len)) {
			r->failed++;
			continue;
		}
		report_one(r, r->a->files[i], buf, len);
		free(buf);
	}
}

/* Loads the contacts, country database and trusted networks into r->cfg. */
static int load_cfg(report_run *r, contact_map **cm, geoip **geo, ss_netset **trusted)
{
	char why[600] = "";
	size_t pos = 0;

	if (r->a->contacts && contacts_load(r->a->contacts, cm, why, sizeof(why))) {
		fprintf(stderr, "spamsift report: %s\n", why);
		return -1;
	}
	if (r->a->geoip && geoip_open(r->a->geoip, geo, why, sizeof(why))) {
		fprintf(stderr, "spamsift report: %s\n", why);
		return -1;
	}
	if (r->a->trusted && ss_netset_parse(r->a->trusted, trusted, &pos)) {
		fprintf(stderr, "spamsift report: --trusted: bad network at byte %zu\n", pos);
		return -1;
	}
	r->cfg = (report_cfg){*cm, *geo, *trusted, r->a->from, r->a->max_original};
	return 0;
}

static int open_engine(report_run *r)
{
	engine_config c;
	int err;

	if ((err = cli_open_store(&r->a->m, 0, &r->s)))
		return err;
	engine_config_default(&c);
	c.model = r->s;
	c.no_default_rules = 1; /* learning only */
	if ((err = engine_new(&c, &r->e)))
		fprintf(stderr, "spamsift report: %s\n", ss_strerror(err));
	return err;
}

static int run_reports(const report_args *a)
{
	report_run r = {0};
	contact_map *cm = NULL;
	geoip *geo = NULL;
	ss_netset *trusted = NULL;
	char dir[4200];
	int rc = CLI_USAGE;

	r.a = a;
	r.dir = evidence_dir(a, dir, sizeof(dir));
	if (load_cfg(&r, &cm, &geo, &trusted) || open_engine(&r))
		goto out;
	report_files(&r);
	rc = r.failed       ? CLI_USAGE
	     : r.refused    ? CLI_REFUSED
	     : r.no_contact ? CLI_NO_CONTACT
	                    : CLI_OK;
out:
	engine_free(r.e);
	if (r.s)
		store_close(r.s);
	contacts_free(cm);
	geoip_close(geo);
	ss_netset_free(trusted);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	report_args a = {0};
	int rc;

	if (report_argv(argc, argv, &a))
		rc = CLI_USAGE;
	else
		rc = a.stats ? run_stats(&a) : run_reports(&a);
	free(a.files);
	return rc;
}
