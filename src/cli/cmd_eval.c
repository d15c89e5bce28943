/*
 * cmd_eval.c: `spamsift eval INDEX`: a TREC-style online evaluation with
 * immediate feedback. Each message of the index (lines "spam PATH" or
 * "ham PATH", paths relative to the index's folder) is classified, then
 * learned with its gold label, into a fresh in-memory model.
 *
 * With --neutral-headers each message is classified as a copy whose header
 * is replaced by a neutral one (only Subject and the MIME fields kept,
 * From, To, Date and Message-ID made up) and learned as it came: how well
 * the content alone is judged, as with spam sent from a hijacked mailbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "learn/learner.h"
#include "learn/metrics.h"
#include "spamsift.h"
#include "util/clock.h"

typedef struct eval_args {
	const char *index, *results, *plot;
	int json, neutral;
	size_t limit;
	clf_params p;
} eval_args;

static const char eval_usage[] =
    "usage: spamsift eval [--results FILE] [--plot FILE.svg] [--json] [--limit N]\n"
    "                     [--neutral-headers] [--param NAME=VALUE]... INDEX\n";

static int eval_argv(int argc, char **argv, eval_args *a)
{
	memset(a, 0, sizeof(*a));
	clf_params_default(&a->p);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--json"))
			a->json = 1;
		else if (!strcmp(o, "--neutral-headers"))
			a->neutral = 1;
		else if (!strcmp(o, "--results") && v)
			a->results = argv[++i];
		else if (!strcmp(o, "--plot") && v)
			a->plot = argv[++i];
		else if (!strcmp(o, "--limit") && v)
			a->limit = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(o, "--param") && v) {
			if (clf_params_set(&a->p, argv[++i])) {
				fprintf(stderr, "spamsift eval: bad --param '%s'\n", argv[i]);
				return -1;
			}
		} else if (o[0] == '-' || a->index) {
			fprintf(stderr, "spamsift eval: unexpected '%s'\n%s", o, eval_usage);
			return -1;
		} else
			a->index = o;
	}
	if (!a->index) {
		fputs(eval_usage, stderr);
		return -1;
	}
	return 0;
}

typedef struct eval_run {
	eval_args *a;
	learner *l;
	FILE *results;
	ev_row *rows;
	size_t n, cap;
	double busy; /* seconds spent parsing, classifying and learning */
	size_t skipped;
} eval_run;

/* Header fields a neutral copy keeps (with their continuation lines). */
static int kept_field(const char *line, size_t len)
{
	static const char *const keep[] = {
	    "subject:", "mime-version:", "content-type:", "content-transfer-encoding:", NULL};

	for (size_t i = 0; keep[i]; i++)
		if (len >= strlen(keep[i]) && !strncasecmp(line, keep[i], strlen(keep[i])))
			return 1;
	return 0;
}

/* Writes into *out a copy of buf[0..len) with a neutral header (see the top
 * of the file). Returns 0 or -1 when out of memory. */
static int neutral_copy(const char *buf, size_t len, size_t seq, sbuf *out)
{
	const char *p = buf, *end = buf + len;
	int keep = 0, err;

	err = sbuf_addf(
	    out,
	    "From: Sam Sender <sam@sender.example>\r\nTo: user@recipient.example\r\n"
	    "Date: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%zu@sender.example>\r\n",
	    seq);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
		if (n == 1 || (n == 2 && p[0] == '\r'))
			break; /* the blank line: the body follows */
		if (p[0] != ' ' && p[0] != '\t')
			keep = kept_field(p, n);
		if (keep && !err)
			err = sbuf_add(out, p, n);
		p += n;
	}
	return err || sbuf_add(out, p, (size_t)(end - p)) ? -1 : 0;
}

/* Classifies a neutral copy of buf, then learns the message as it came. */
static int check_neutral_learn(eval_run *r, const char *buf, size_t len, ss_message *m,
                               int gold_spam, ss_arena *a, lrn_verdict *v)
{
	sbuf b = SBUF_INIT;
	ss_message *nm = NULL;
	int err = neutral_copy(buf, len, r->n, &b) ? SS_ENOMEM : 0, what;

	if (!err)
		err = ss_parse(b.p, b.len, NULL, &nm);
	if (!err)
		err = learner_check(r->l, nm, 0, 0, a, v);
	if (!err)
		err = learner_learn(r->l, m, 0, NULL, gold_spam, a, &what);
	ss_message_free(nm);
	sbuf_release(&b);
	return err;
}

/* Classifies and learns one message; records its row. */
static int eval_one(eval_run *r, const char *path, int gold_spam)
{
	char *buf = NULL;
	size_t len;
	ss_message *m = NULL;
	ss_arena a;
	lrn_verdict v;
	double t0;
	int err;

	if (cli_read_file(path, &buf, &len))
		return -1;
	arena_init(&a);
	t0 = ss_mono_s();
	err = ss_parse(buf, len, NULL, &m);
	if (!err && r->a->neutral)
		err = check_neutral_learn(r, buf, len, m, gold_spam, &a, &v);
	else if (!err)
		err = learner_check_learn(r->l, m, gold_spam, &a, &v);
	r->busy += ss_mono_s() - t0;
	if (err) {
		fprintf(stderr, "spamsift eval: %s: %s (scored 0.5)\n", path, ss_strerror(err));
		v.r.score = 0.5;
		v.is_spam = 0;
		r->skipped++;
	}
	arena_release(&a);
	ss_message_free(m);
	free(buf);
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4096;
		ev_row *rows = realloc(r->rows, cap * sizeof(*rows));
		if (!rows)
			return -1;
		r->rows = rows;
		r->cap = cap;
	}
	r->rows[r->n++] = (ev_row){v.r.score, (unsigned char)gold_spam, (unsigned char)v.is_spam};
	if (r->results)
		fprintf(r->results, "%s judge=%s class=%s score=%.8f\n", path,
		        gold_spam ? "spam" : "ham", v.is_spam ? "spam" : "ham", v.r.score);
	return 0;
}

static int eval_index(eval_run *r, FILE *idx, const char *dir)
{
	char line[4096], path[8192];
	size_t lineno = 0;

	while (fgets(line, sizeof(line), idx)) {
		char label[16], rel[4096];
		lineno++;
		if (sscanf(line, "%15s %4095s", label, rel) != 2 ||
		    (strcmp(label, "spam") && strcmp(label, "ham"))) {
			fprintf(stderr,
			        "spamsift eval: %s:%zu: expected 'spam PATH' or 'ham PATH'\n",
			        r->a->index, lineno);
			return -1;
		}
		snprintf(path, sizeof(path), "%s%s", rel[0] == '/' ? "" : dir, rel);
		if (eval_one(r, path, !strcmp(label, "spam")))
			return -1;
		cli_progress(r->n, 0);
		if (r->a->limit && r->n >= r->a->limit)
			break;
	}
	cli_progress_done();
	return 0;
}

static void print_metrics(const eval_run *r, const ev_metrics *m)
{
	double rate = r->busy > 0 ? r->n / r->busy : 0;

	if (r->a->json) {
		printf(
		    "{\"messages\":%zu,\"spam\":%zu,\"ham\":%zu,\"fp\":%zu,\"fn\":%zu,"
		    "\"one_minus_roca_pct\":%.4f,\"lam_pct\":%.4f,\"hm_pct\":%.4f,\"sm_pct\":%.4f,"
		    "\"sm_at_hm01_pct\":%.4f,\"sm_at_hm1_pct\":%.4f,\"msgs_per_s\":%.1f,"
		    "\"errors\":%zu}\n",
		    m->n, m->spam, m->ham, m->fp, m->fn, m->one_minus_roca_pct, m->lam_pct,
		    m->hm_pct, m->sm_pct, m->sm_at_hm01_pct, m->sm_at_hm1_pct, rate, r->skipped);
		return;
	}
	printf("messages %zu (spam %zu, ham %zu), fp %zu, fn %zu, errors %zu\n", m->n, m->spam,
	       m->ham, m->fp, m->fn, r->skipped);
	printf("1-ROCA%% %.4f  lam%% %.4f  hm%% %.4f  sm%% %.4f  sm%%@hm=0.1%% %.4f  "
	       "sm%%@hm=1%% %.4f\n",
	       m->one_minus_roca_pct, m->lam_pct, m->hm_pct, m->sm_pct, m->sm_at_hm01_pct,
	       m->sm_at_hm1_pct);
	printf("%.0f messages/s (parse + classify + learn, one core)\n", rate);
}

static int write_plot(const eval_run *r, const char *path)
{
	sbuf b = SBUF_INIT;
	FILE *f;
	int ok;

	if (ev_plot_svg(r->rows, r->n, "spamsift online ROC", &b)) {
		sbuf_release(&b);
		return -1;
	}
	f = fopen(path, "w");
	ok = f && fwrite(b.p, 1, b.len, f) == b.len;
	if (f && fclose(f))
		ok = 0;
	sbuf_release(&b);
	if (!ok)
		fprintf(stderr, "spamsift eval: cannot write %s\n", path);
	return ok ? 0 : -1;
}

int cmd_eval(int argc, char **argv)
{
	eval_args a;
	eval_run r = {0};
	store *s = NULL;
	FILE *idx = NULL;
	char dir[4096];
	const char *slash;
	ev_metrics m;
	int ret = CLI_USAGE;

	if (eval_argv(argc, argv, &a))
		return CLI_USAGE;
	r.a = &a;
	slash = strrchr(a.index, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - a.index + 1) : 0, a.index);
	if (!(idx = fopen(a.index, "r"))) {
		perror(a.index);
		goto out;
	}
	if (a.results && !(r.results = fopen(a.results, "w"))) {
		perror(a.results);
		goto out;
	}
	if (!(s = store_mem_new()) || !(r.l = learner_new(s, &a.p, 0))) {
		fprintf(stderr, "spamsift eval: out of memory\n");
		goto out;
	}
	if (eval_index(&r, idx, dir))
		goto out;
	ev_compute(r.rows, r.n, &m);
	print_metrics(&r, &m);
	ret = a.plot && write_plot(&r, a.plot) ? CLI_USAGE : CLI_OK;
out:
	if (r.results && fclose(r.results))
		ret = CLI_USAGE;
	if (idx)
		fclose(idx);
	learner_free(r.l);
	store_close(s);
	free(r.rows);
	return ret;
}
