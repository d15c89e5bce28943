/*
 * cmd_model.c: argument parsing for the model commands, the store's
 * location, and `stats`, `export`, `import` and the TREC toolkit wrapper.
 * The export format and its parser are store/modelfile.h's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "spamsift.h"
#include "store/modelfile.h"

static const char model_usage[] =
    "usage: spamsift learn --spam|--ham [--user U] [--db PATH] [--size MB] [--no-ppm] PATH...\n"
    "       spamsift learn --spam PATH... --ham PATH... [OPTIONS]  (both, interleaved)\n"
    "       spamsift unlearn [--user U] [--db PATH] PATH...\n"
    "       spamsift check [--json] [--user U] [--db PATH] [--rules PATH]...\n"
    "                      [--no-default-rules] [--ip IP] [--helo NAME] [--from ADDR]\n"
    "                      [--rcpt ADDR]... [--resolver IP:PORT|system]\n"
    "                      [--dns-timeout S] [--fp-server IP:PORT --fp-key FILE] PATH...\n"
    "       spamsift stats [--db PATH]\n"
    "       spamsift export [--db PATH] FILE|-\n"
    "       spamsift import [--db PATH] FILE|-\n"
    "       spamsift trec initialize|finalize|classify FILE|train ham|spam FILE [--db PATH]\n"
    "  Instead of --db PATH, each takes --redis redis://[:PASSWORD@]HOST[:PORT][/DB]\n"
    "  [--redis-replica URL] [--redis-password-file FILE]: the model on Redis.\n"
    "  --size MB and --no-ppm apply when a command creates the model: its feature\n"
    "  buckets (64 MB), and no compression table (8 MB; Redis models have none).\n";

/* The options only `check` takes: rules and the envelope. Returns 1 when
 * o was one of them (its value consumed), 0 when not. */
static int check_option(model_args *a, int argc, char **argv, int *i)
{
	const char *o = argv[*i];

	if (strcmp(a->cmd, "check") || *i + 1 >= argc) {
		if (!strcmp(a->cmd, "check") && !strcmp(o, "--no-default-rules"))
			return a->no_default_rules = 1;
		return 0;
	}
	if (!strcmp(o, "--no-default-rules"))
		return a->no_default_rules = 1;
	if (!strcmp(o, "--rules"))
		a->rules[a->nrules++] = argv[++*i];
	else if (!strcmp(o, "--rcpt"))
		a->rcpts[a->nrcpts++] = argv[++*i];
	else if (!strcmp(o, "--ip"))
		a->ip = argv[++*i];
	else if (!strcmp(o, "--helo"))
		a->helo = argv[++*i];
	else if (!strcmp(o, "--from"))
		a->from = argv[++*i];
	else if (!strcmp(o, "--resolver"))
		a->resolver = argv[++*i];
	else if (!strcmp(o, "--dns-timeout"))
		a->dns_timeout = argv[++*i];
	else if (!strcmp(o, "--fp-server"))
		a->fp_server = argv[++*i];
	else if (!strcmp(o, "--fp-key"))
		a->fp_key = argv[++*i];
	else
		return 0;
	return 1;
}

static int model_argv(int argc, char **argv, model_args *a)
{
	memset(a, 0, sizeof(*a));
	a->cmd = argv[0];
	a->is_spam = -1;
	a->paths = calloc((size_t)argc, sizeof(char *));
	a->rules = calloc((size_t)argc, sizeof(char *));
	a->rcpts = calloc((size_t)argc, sizeof(char *));
	a->redis_seeds = calloc((size_t)argc, sizeof(char *));
	a->cls = calloc((size_t)argc, 1);
	if (!a->paths || !a->rules || !a->rcpts || !a->redis_seeds || !a->cls)
		return -1;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		int more = i + 1 < argc;
		if (check_option(a, argc, argv, &i))
			continue;
		if (!strcmp(o, "--spam") || !strcmp(o, "--ham")) {
			a->mixed |= a->is_spam >= 0 && a->is_spam != (o[2] == 's');
			a->is_spam = o[2] == 's';
		} else if (!strcmp(o, "--json"))
			a->json = 1;
		else if (!strcmp(o, "--db") && more)
			a->db = argv[++i];
		else if (!strcmp(o, "--redis") && more && !a->redis)
			a->redis = argv[++i];
		else if (!strcmp(o, "--redis") && more)
			a->redis_seeds[a->nredis_seeds++] = argv[++i];
		else if (!strcmp(o, "--redis-replica") && more)
			a->redis_replica = argv[++i];
		else if (!strcmp(o, "--redis-password-file") && more)
			a->redis_password_file = argv[++i];
		else if (!strcmp(o, "--user") && more)
			a->user = argv[++i];
		else if (!strcmp(o, "--size") && more)
			a->size_mb = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(o, "--no-ppm"))
			a->no_ppm = 1;
		else if (o[0] == '-' && o[1]) {
			fprintf(stderr, "spamsift %s: unknown option '%s'\n%s", a->cmd, o,
			        model_usage);
			return -1;
		} else {
			a->cls[a->npaths] = a->is_spam < 0 ? 2 : (unsigned char)a->is_spam;
			a->paths[a->npaths++] = argv[i];
		}
	}
	return 0;
}

/* learn with both --spam and --ham: each path must follow one, and none
 * may be standard input (read twice: counted, then learned). */
static int mixed_ok(const model_args *a)
{
	for (size_t i = 0; i < a->npaths; i++) {
		if (a->cls[i] == 2) {
			fprintf(stderr,
			        "spamsift learn: %s: with both --spam and --ham, each path follows "
			        "the option that gives its class\n",
			        a->paths[i]);
			return 0;
		}
		if (!strcmp(a->paths[i], "-")) {
			fputs(
			    "spamsift learn: standard input cannot be learned with both --spam and "
			    "--ham\n",
			    stderr);
			return 0;
		}
	}
	return 1;
}

/* $XDG_DATA_HOME/spamsift/model (or ~/.local/share/...), parents made. */
static const char *default_db(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char dir[4096];

	if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s", xdg);
	else
		snprintf(dir, sizeof(dir), "%s/.local/share", home ? home : ".");
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(dir, 0700);
			*p = '/';
		}
	mkdir(dir, 0700);
	snprintf(buf, cap, "%s/spamsift", dir);
	mkdir(buf, 0700);
	snprintf(buf, cap, "%s/spamsift/model", dir);
	return buf;
}

/* The model on Redis (--redis URL). */
static int open_redis(const model_args *a, store **out)
{
	char why[512] = "";
	store_redis_opts o = {.url = a->redis,
	                      .seeds = a->redis_seeds,
	                      .nseeds = a->nredis_seeds,
	                      .replica_url = a->redis_replica,
	                      .password_file = a->redis_password_file,
	                      .stale_ms = -1,      /* one command: no cache */
	                      .timeout_ms = 10000, /* big batches (migrate, import) */
	                      .error = why,
	                      .error_len = sizeof(why)};
	int err = store_redis_open(&o, out);

	if (err)
		fprintf(stderr, "spamsift %s: %s\n", a->cmd, why[0] ? why : ss_strerror(err));
	/* Its message says why (cli_corrupt speaks of a store's files). */
	return err == SS_ESYNTAX || err == SS_ECORRUPT ? SS_EINVAL : err;
}

int cli_open_store(const model_args *a, int ro, store **out)
{
	char def[4200];
	const char *path = a->db ? a->db : default_db(def, sizeof(def));
	store_lmdb_opts o = {a->size_mb, 0, 0, a->no_ppm};
	struct stat st;
	int err;

	if (a->redis)
		return open_redis(a, out);
	/* Reading needs no write access, but a model must exist. */
	if (ro && stat(path, &st)) {
		fprintf(stderr, "spamsift %s: no model at %s (learn some mail first)\n", a->cmd,
		        path);
		return SS_EIO;
	}
	err = store_lmdb_open(path, &o, out);
	if (err == SS_EIO)
		fprintf(stderr, "spamsift %s: %s: %s\n", a->cmd, path, strerror(errno));
	else if (err && err != SS_ECORRUPT)
		fprintf(stderr, "spamsift %s: %s: %s\n", a->cmd, path, ss_strerror(err));
	return err;
}

int cli_corrupt(const model_args *a)
{
	fprintf(stderr,
	        "spamsift %s: the model store at %s is damaged, is not a spamsift store,\n"
	        "  or is of a model format this spamsift does not read.\n"
	        "  Move it aside, then restore a backup (spamsift import FILE) or learn\n"
	        "  your mail again (spamsift learn --spam/--ham ...).\n",
	        a->cmd, a->db ? a->db : "the default location ($XDG_DATA_HOME/spamsift/model)");
	return CLI_USAGE;
}

/* ---- stats ---- */

typedef struct counts {
	size_t users, feats, msgs;
	clf_totals global;
	FILE *out; /* export: where to write */
} counts;

static int count_user(void *ctx, uint32_t id, const char *name, const clf_totals *t)
{
	counts *c = ctx;

	c->users += id != 0;
	if (!id)
		c->global = *t;
	else
		printf("user %s: %" PRIu64 " spam, %" PRIu64 " ham learned\n", name, t->spam,
		       t->ham);
	return 0;
}

static int count_feat(void *ctx, uint32_t user, uint64_t key, const feat_stat *st)
{
	((counts *)ctx)->feats++;
	return 0;
}

static int count_msg(void *ctx, uint32_t user, const uint8_t *d, const msg_rec *r)
{
	((counts *)ctx)->msgs++;
	return 0;
}

static int exp_ppm(store *s, FILE *f);

/* Walks the model with w; with ppm_out, writes its compression table
 * there too (export), from the same snapshot. */
static int walk(model_args *a, const store_walker *w, FILE *ppm_out)
{
	store *s;
	int err = cli_open_store(a, 1, &s);

	if (err)
		return err == SS_ECORRUPT ? cli_corrupt(a) : CLI_USAGE;
	if (!(err = s->ops->begin(s, 0))) {
		err = s->ops->walk(s, w);
		if (!err && ppm_out)
			err = exp_ppm(s, ppm_out);
		s->ops->end(s, 0);
	}
	store_close(s);
	if (err == SS_ECORRUPT)
		return cli_corrupt(a);
	if (err)
		fprintf(stderr, "spamsift %s: %s\n", a->cmd, ss_strerror(err));
	return err ? CLI_USAGE : CLI_OK;
}

static int cmd_stats(model_args *a)
{
	counts c = {0};
	store_walker w = {&c, count_user, count_feat, count_msg};
	int rc = walk(a, &w, NULL);

	if (rc)
		return rc;
	printf("global: %" PRIu64 " spam, %" PRIu64 " ham learned\n", c.global.spam, c.global.ham);
	printf("users: %zu\nfeatures: %zu\nmessages remembered: %zu\n", c.users, c.feats, c.msgs);
	return CLI_OK;
}

/* ---- export ---- */

static int exp_user(void *ctx, uint32_t id, const char *name, const clf_totals *t)
{
	return fprintf(((counts *)ctx)->out, "user %u %s %" PRIu64 " %" PRIu64 "\n", id,
	               id ? name : "-", t->spam, t->ham) < 0;
}

static int exp_feat(void *ctx, uint32_t user, uint64_t key, const feat_stat *st)
{
	return fprintf(((counts *)ctx)->out, "f %u %016" PRIx64 " %u %u %.9g %u\n", user, key,
	               st->spam, st->ham, st->w, st->day) < 0;
}

static int exp_msg(void *ctx, uint32_t user, const uint8_t *d, const msg_rec *r)
{
	FILE *f = ((counts *)ctx)->out;

	fprintf(f, "m %u ", user);
	for (int i = 0; i < STORE_DIGEST; i++)
		fprintf(f, "%02x", d[i]);
	return fprintf(f, " %u %u %.9g %.9g %" PRId64 "\n", r->is_spam, r->nfeat, r->step, r->gstep,
	               r->time) < 0;
}

/* Writes "TAG N HEX\n" for bytes p[0..n) unless all are zero. */
static void exp_hex(FILE *f, const char *tag, size_t at, const uint8_t *p, size_t n)
{
	static const char dig[] = "0123456789abcdef";
	char hex[2 * MF_PIECE + 1];
	size_t i = 0;

	while (i < n && !p[i])
		i++;
	if (i == n)
		return;
	for (i = 0; i < n; i++) {
		hex[2 * i] = dig[p[i] >> 4];
		hex[2 * i + 1] = dig[p[i] & 15];
	}
	hex[2 * n] = 0;
	fprintf(f, "%s %zu %s\n", tag, at, hex);
}

/* The compression table, when the model has one: "ppm BITS", then the
 * non-zero pieces of its dense part ("pd OFFSET HEX") and its non-zero
 * lines ("pl INDEX HEX"). */
static int exp_ppm(store *s, FILE *f)
{
	ppm_view *v;
	int rc = s->ops->ppm ? s->ops->ppm(s, 0, &v) : 0;
	const uint8_t *d;

	if (rc <= 0 || !v->d)
		return rc < 0 ? rc : 0;
	fprintf(f, "ppm %u\n", v->bits);
	d = (const uint8_t *)v->d;
	for (size_t off = 0; off < sizeof(ppm_dense); off += MF_PIECE)
		exp_hex(f, "pd", off, d + off,
		        sizeof(ppm_dense) - off < MF_PIECE ? sizeof(ppm_dense) - off : MF_PIECE);
	for (uint32_t i = 0; i < 1u << v->bits; i++)
		exp_hex(f, "pl", i, (const uint8_t *)&v->chunk[i / PPM_CHUNK][i % PPM_CHUNK],
		        sizeof(ppm_line));
	return ferror(f) ? SS_EIO : 0;
}

static int cmd_export(model_args *a)
{
	counts c = {0};
	store_walker w = {&c, exp_user, exp_feat, exp_msg};
	int rc;

	if (a->npaths != 1) {
		fputs(model_usage, stderr);
		return CLI_USAGE;
	}
	c.out = strcmp(a->paths[0], "-") ? fopen(a->paths[0], "w") : stdout;
	if (!c.out) {
		fprintf(stderr, "spamsift export: %s: %s\n", a->paths[0], strerror(errno));
		return CLI_USAGE;
	}
	fputs(MF_MAGIC, c.out);
	rc = walk(a, &w, c.out);
	if ((c.out != stdout ? fclose(c.out) : fflush(c.out)) && !rc) {
		fprintf(stderr, "spamsift export: %s: %s\n", a->paths[0], strerror(errno));
		rc = CLI_USAGE;
	}
	return rc;
}

/* ---- import ---- */

/* Says what an import left out of the export, if anything. */
static void import_notes(const mf_import *im)
{
	if (im->ppm_left_out)
		fprintf(stderr,
		        "spamsift import: the model has no compression table%s: the export's "
		        "is left out\n",
		        im->ppm_left_out == MF_PPM_SIZE ? " of that size" : "");
}

static int import_file(model_args *a, store *s, FILE *in)
{
	char line[MF_LINE] = "";
	size_t lineno = 1;
	mf_import *im;
	int err = 0;

	if (!fgets(line, sizeof(line), in) || mf_magic(line)) {
		if (mf_magic(line) > 0)
			fprintf(stderr,
			        "spamsift import: %s: an export of another model format (%.*s), "
			        "which this spamsift cannot read: learn the mail again\n",
			        a->paths[0], (int)strcspn(line, "\n"), line);
		else
			fprintf(stderr, "spamsift import: %s: not a spamsift model export\n",
			        a->paths[0]);
		return 1;
	}
	if (!(im = malloc(sizeof(*im))))
		return SS_ENOMEM;
	mf_import_init(im, s);
	while (!err && fgets(line, sizeof(line), in)) {
		lineno++;
		if ((err = mf_import_line(im, line)) == 1)
			fprintf(stderr, "spamsift import: %s:%zu: bad line\n", a->paths[0], lineno);
	}
	if (!err)
		import_notes(im);
	free(im);
	return err;
}

static int cmd_import(model_args *a)
{
	store *s;
	FILE *in;
	int err;

	if (a->npaths != 1) {
		fputs(model_usage, stderr);
		return CLI_USAGE;
	}
	if (!(in = strcmp(a->paths[0], "-") ? fopen(a->paths[0], "r") : stdin)) {
		fprintf(stderr, "spamsift import: %s: %s\n", a->paths[0], strerror(errno));
		return CLI_USAGE;
	}
	if ((err = cli_open_store(a, 0, &s))) {
		if (in != stdin)
			fclose(in);
		return err == SS_ECORRUPT ? cli_corrupt(a) : CLI_USAGE;
	}
	/* One transaction: a bad or truncated file imports nothing. */
	if (!(err = s->ops->begin(s, 1))) {
		err = import_file(a, s, in);
		int e2 = s->ops->end(s, !err);
		err = err ? err : e2;
	}
	store_close(s);
	if (in != stdin)
		fclose(in);
	if (err < 0)
		fprintf(stderr, "spamsift import: %s\n", ss_strerror(err));
	return err ? CLI_USAGE : CLI_OK;
}

/* ---- the TREC toolkit's four commands ---- */

static int cmd_trec(model_args *a)
{
	const char *verb = a->npaths ? a->paths[0] : "";

	if (!strcmp(verb, "initialize") || !strcmp(verb, "finalize")) {
		store *s;
		int err = !strcmp(verb, "initialize") ? cli_open_store(a, 0, &s) : 0;
		if (!err && !strcmp(verb, "initialize"))
			store_close(s);
		return err ? CLI_USAGE : CLI_OK;
	}
	if (!strcmp(verb, "classify") && a->npaths == 2) {
		a->check = a->trec = a->quiet = 1;
		a->paths++;
		a->npaths = 1;
		return cli_model_run(a);
	}
	if (!strcmp(verb, "train") && a->npaths == 3 &&
	    (!strcmp(a->paths[1], "ham") || !strcmp(a->paths[1], "spam"))) {
		a->is_spam = !strcmp(a->paths[1], "spam");
		a->trec = 1;
		a->paths += 2;
		a->npaths = 1;
		return cli_model_run(a);
	}
	fputs(model_usage, stderr);
	return CLI_USAGE;
}

int cmd_model(int argc, char **argv)
{
	model_args a;
	char **paths;
	int rc = CLI_USAGE;

	if (model_argv(argc, argv, &a))
		goto out;
	paths = a.paths;
	a.unlearn = !strcmp(a.cmd, "unlearn");
	a.check = !strcmp(a.cmd, "check");
	a.mixed &= !strcmp(a.cmd, "learn"); /* the classes matter to learn alone */
	if (!strcmp(a.cmd, "stats"))
		rc = cmd_stats(&a);
	else if (!strcmp(a.cmd, "export"))
		rc = cmd_export(&a);
	else if (!strcmp(a.cmd, "import"))
		rc = cmd_import(&a);
	else if (!strcmp(a.cmd, "trec"))
		rc = cmd_trec(&a);
	else if (!a.npaths || (!strcmp(a.cmd, "learn") && a.is_spam < 0))
		fputs(model_usage, stderr);
	else if (a.mixed && !mixed_ok(&a))
		rc = CLI_USAGE;
	else
		rc = cli_model_run(&a);
	a.paths = paths;
out:
	free(a.paths);
	free(a.rules);
	free(a.rcpts);
	free(a.redis_seeds);
	free(a.cls);
	return rc;
}
