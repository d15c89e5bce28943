/*
 * cmd_learn.c: the commands that use a stored model: `learn`, `unlearn`
 * and `check` over files, directories, Maildirs and mboxes, and the TREC
 * toolkit's `trec initialize|classify|train|finalize`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "learn/learner.h"
#include "spamsift.h"
#include "util/fixed.h"

#define BATCH 500     /* messages learned per committed transaction */
#define NTOP 8        /* features listed in an explanation */
#define LEAN_HINT 100 /* one-class learns this long may warn (lean_hint) */

typedef struct run {
	model_args *a;
	store *s;
	learner *l;
	engine *e;           /* check: the scanning pipeline the daemon uses too */
	engine_envelope env; /* check: --ip, --helo, --from, --rcpt */
	uint32_t user;
	size_t done, changed, unchanged, refused, failed;
	int in_txn;
	int fatal; /* a store error: stop */
	sbuf out;  /* check: one message's lines, reused */
} run;

/* Parses one message found under a path into *m. Returns 0, 1 when it is
 * to be skipped (unreadable or refused: counted and reported), or
 * SS_ENOMEM. */
static int parse_one(run *r, const char *label, const char *buf, size_t len, ss_message **m)
{
	int err;

	if (!buf) {
		r->failed++;
		return 1;
	}
	if (!(err = ss_parse(buf, len, NULL, m)))
		return 0;
	if (err == SS_ENOMEM)
		return err;
	fprintf(stderr, "spamsift %s: %s: %s\n", r->a->cmd, label, ss_strerror(err));
	r->refused++;
	return 1;
}

/* Opens a write transaction when none is open, commits every BATCH. */
static int write_txn(run *r)
{
	int err;

	if (r->in_txn && r->done % BATCH == 0) {
		if ((err = r->s->ops->end(r->s, 1)))
			return err;
		r->in_txn = 0;
	}
	if (!r->in_txn) {
		if ((err = r->s->ops->begin(r->s, 1)))
			return err;
		r->in_txn = 1;
	}
	return 0;
}

static int on_learn(void *ctx, const char *label, const char *buf, size_t len)
{
	run *r = ctx;
	ss_message *m = NULL;
	ss_arena a;
	int err, what = LRN_UNCHANGED;

	if ((err = parse_one(r, label, buf, len, &m)))
		return err == 1 ? 0 : err;
	arena_init(&a);
	err = write_txn(r);
	if (!err)
		err = r->a->unlearn
		          ? learner_unlearn(r->l, m, r->user, r->a->user, &a, &what)
		          : learner_learn(r->l, m, r->user, r->a->user, r->a->is_spam, &a, &what);
	arena_release(&a);
	ss_message_free(m);
	if (err) {
		fprintf(stderr, "spamsift %s: %s: %s\n", r->a->cmd, label, ss_strerror(err));
		r->fatal = err;
		return err;
	}
	r->done++;
	*(what == LRN_UNCHANGED ? &r->unchanged : &r->changed) += 1;
	cli_progress(r->done, 0);
	return 0;
}

static void print_verdict_json(run *r, const char *label, const engine_result *v)
{
	sbuf_reset(&r->out);
	if (!engine_result_json(v, label, &r->out) && !sbuf_addc(&r->out, '\n'))
		fwrite(r->out.p, 1, r->out.len, stdout);
}

/* Appends x as printf's "%+W.Pf" (plus) or "%W.Pf" gives it. */
static int put_fixed(sbuf *b, double x, int prec, int width, int plus)
{
	char num[FIXED_MAX];

	return sbuf_add(b, num, fixed_fmt(num, x, prec, width, plus));
}

/* The symbols after the classifier's (rules, checks): one line each,
 * so a message no rule fired on prints what it always has. */
static int print_symbols(sbuf *b, const engine_result *v)
{
	int err = 0;

	if (v->nsymbols > 1) {
		err = sbuf_adds(b, "  points ");
		err = err ? err : put_fixed(b, v->score, 2, 0, 0);
		err = err ? err : sbuf_adds(b, ":\n");
	}
	for (size_t s = 0; !err && s < v->nsymbols; s++)
		if (s || v->nsymbols > 1) {
			err = sbuf_adds(b, "    ");
			err = err ? err : put_fixed(b, v->symbols[s].score, 2, 7, 1);
			err = err ? err
			          : sbuf_addf(b, "  %-24s %s\n", v->symbols[s].name,
			                      s ? v->symbols[s].description : "learned classifier");
		}
	return err;
}

/* Appends the decimal digits of v ("%u"). */
static int put_uint(sbuf *b, unsigned v)
{
	char tmp[16];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return sbuf_add(b, tmp + n, sizeof(tmp) - n);
}

/* One feature's line: "    %+7.3f  NAME  (spam %u, ham %u)". */
static int print_feature(sbuf *b, const engine_feature *f)
{
	int err = sbuf_adds(b, "    ");

	err = err ? err : put_fixed(b, f->weight, 3, 7, 1);
	err = err ? err : sbuf_adds(b, "  ");
	err = err ? err : sbuf_adds(b, f->name);
	err = err ? err : sbuf_adds(b, "  (spam ");
	err = err ? err : put_uint(b, f->spam);
	err = err ? err : sbuf_adds(b, ", ham ");
	err = err ? err : put_uint(b, f->ham);
	return err ? err : sbuf_adds(b, ")\n");
}

/* The text verdict, put together in r->out and written at once. */
static void print_verdict_text(run *r, const char *label, const engine_result *v)
{
	sbuf *b = &r->out;
	int err;

	sbuf_reset(b);
	err = sbuf_adds(b, label);
	err = err ? err : sbuf_adds(b, v->is_spam ? ": spam score=" : ": ham score=");
	err = err ? err : put_fixed(b, v->prob, 4, 0, 0);
	err = err ? err : sbuf_adds(b, " action=");
	err = err ? err : sbuf_adds(b, engine_action_name(v->action));
	err = err ? err : sbuf_addc(b, '\n');
	for (size_t s = 0; !err && s < v->nsymbols; s++)
		for (size_t i = 0; !err && i < v->symbols[s].nfeatures; i++)
			err = print_feature(b, &v->symbols[s].features[i]);
	err = err ? err : print_symbols(b, v);
	if (!err)
		fwrite(b->p, 1, b->len, stdout);
}

/* A refusal of the parser (not mail) is reported and counted; anything
 * else (a store error, no memory) stops the run. */
static int check_failed(run *r, const char *label, int err)
{
	if (err == SS_EEMPTY || err == SS_ENOTMAIL || err == SS_EBINARY) {
		fprintf(stderr, "spamsift check: %s: %s\n", label, ss_strerror(err));
		r->refused++;
		return 0;
	}
	fprintf(stderr, "spamsift check: %s: %s\n", label, ss_strerror(err));
	r->fatal = err;
	return err;
}

static int on_check(void *ctx, const char *label, const char *buf, size_t len)
{
	run *r = ctx;
	ss_arena a;
	engine_result v;
	int err;

	if (!buf) {
		r->failed++;
		return 0;
	}
	arena_init(&a);
	err = engine_scan(r->e, r->a->user, &r->env, buf, len, &a, &v);
	if (!err && r->a->trec)
		printf("class=%s score=%.6f tfile=*\n", v.is_spam ? "spam" : "ham", v.prob);
	else if (!err && r->a->json)
		print_verdict_json(r, label, &v);
	else if (!err)
		print_verdict_text(r, label, &v);
	arena_release(&a);
	if (err)
		return check_failed(r, label, err);
	r->done++;
	return 0;
}

/* Finds (for learn: creates) the --user model. Returns 0, 1 when the
 * user has no model (check falls back on the global one; unlearn has
 * nothing to undo), or an SS_E* code. */
static int find_user(run *r, int create)
{
	int rc;

	if (!r->a->user)
		return 0;
	if ((rc = r->s->ops->begin(r->s, create)))
		return rc;
	rc = r->s->ops->user_id(r->s, r->a->user, create, &r->user);
	r->s->ops->end(r->s, rc > 0 && create);
	if (rc == 0)
		fprintf(stderr, "spamsift %s: user '%s' has no model yet: %s\n", r->a->cmd,
		        r->a->user, r->a->unlearn ? "nothing to unlearn" : "using the global one");
	return rc < 0 ? rc : !rc;
}

/* learn --spam S... --ham H...: each message learned as its path's class. */
static int on_mixed(void *ctx, int cls, const char *label, const char *buf, size_t len)
{
	run *r = ctx;

	r->a->is_spam = cls;
	return on_learn(r, label, buf, len);
}

static int run_paths(run *r, msg_cb cb)
{
	int err = 0;

	if (r->a->mixed)
		err = cli_each_mixed(r->a->paths, r->a->cls, r->a->npaths, on_mixed, r);
	for (size_t i = 0; !err && !r->a->mixed && i < r->a->npaths; i++)
		err = cli_each_message(r->a->paths[i], cb, r);
	cli_progress_done();
	if (r->in_txn) {
		int e2 = r->s->ops->end(r->s, !err);
		err = err ? err : e2;
		r->in_txn = 0;
	}
	return err;
}

/* Checks every path through an engine over the open store. */
static int check_paths(run *r)
{
	engine_config c;
	char why[600] = "";
	int err;

	engine_config_default(&c);
	c.model = r->s;
	c.ntop = r->a->quiet ? 0 : NTOP;
	c.rule_paths = r->a->rules;
	c.nrule_paths = r->a->nrules;
	/* The TREC toolkit measures the classifier alone. */
	c.no_default_rules = r->a->no_default_rules || r->a->trec;
	c.error = why;
	c.error_len = sizeof(why);
	c.checks.resolver = r->a->resolver;
	c.checks.fp_server = r->a->fp_server;
	c.checks.fp_key = r->a->fp_key;
	if (r->a->dns_timeout && cli_dns_timeout(r->a->dns_timeout, &c.checks.dns_timeout)) {
		fprintf(stderr, "spamsift check: --dns-timeout: want seconds, 0.01 to 60\n");
		r->fatal = SS_EINVAL;
		return SS_EINVAL;
	}
	r->env = (engine_envelope){r->a->ip, r->a->helo, r->a->from,
	                           (const char *const *)r->a->rcpts, r->a->nrcpts};
	if ((err = engine_new(&c, &r->e))) {
		fprintf(stderr, "spamsift check: %s\n", why);
		r->fatal = err;
		return err;
	}
	err = run_paths(r, on_check);
	engine_free(r->e);
	r->e = NULL;
	return err;
}

static int finish(run *r, int err)
{
	if (err && !r->fatal)
		fprintf(stderr, "spamsift %s: %s\n", r->a->cmd, ss_strerror(err));
	if (err)
		return err == SS_ECORRUPT ? cli_corrupt(r->a) : CLI_USAGE;
	if (!r->a->check && !r->a->trec)
		fprintf(stderr,
		        "%s: %zu messages, %zu %s, %zu unchanged, %zu refused, %zu unreadable\n",
		        r->a->cmd, r->done + r->refused, r->changed,
		        r->a->unlearn ? "unlearned" : "learned", r->unchanged, r->refused,
		        r->failed);
	return r->failed ? CLI_USAGE : r->refused ? CLI_REFUSED : CLI_OK;
}

/* After a learn of one class: when it learned more messages than the
 * model holds of the other class, says that the online experts now lean
 * to it and how to avoid that. */
static void lean_hint(run *r)
{
	clf_totals t;
	uint64_t other;

	if (r->a->unlearn || r->a->mixed || r->a->trec || r->changed < LEAN_HINT ||
	    r->s->ops->begin(r->s, 0))
		return;
	if (!r->s->ops->totals(r->s, r->user, &t)) {
		other = r->a->is_spam ? t.ham : t.spam;
		if (other < r->changed)
			fprintf(stderr,
			        "spamsift learn: %zu %s learned while the model holds %" PRIu64
			        " %s: learned one class after the other, the classifier leans "
			        "to the class learned last; learn both in one run (learn --spam "
			        "PATH... --ham PATH...)\n",
			        r->changed, r->a->is_spam ? "spam" : "ham", other,
			        r->a->is_spam ? "ham" : "spam");
	}
	r->s->ops->end(r->s, 0);
}

int cli_model_run(model_args *a)
{
	run r = {0};
	clf_params p;
	int err;

	r.a = a;
	clf_params_default(&p);
	if ((err = cli_open_store(a, a->check || a->unlearn, &r.s)))
		return err == SS_ECORRUPT ? cli_corrupt(a) : CLI_USAGE;
	if (!(r.l = learner_new(r.s, &p, 0))) {
		store_close(r.s);
		return CLI_USAGE;
	}
	err = find_user(&r, !a->check && !a->unlearn);
	if (err == 1 && a->unlearn) {
		err = 0; /* nothing of theirs to undo; the global model is not theirs */
	} else if (err >= 0 && a->check) {
		err = check_paths(&r);
	} else if (err >= 0) {
		err = run_paths(&r, on_learn);
		if (!err)
			lean_hint(&r);
	}
	learner_free(r.l);
	store_close(r.s);
	sbuf_release(&r.out);
	return finish(&r, err);
}
