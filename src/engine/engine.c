/*
 * engine.c: scan, learn and unlearn over a pool of per-thread contexts
 * (see engine.h), and the renderings of a result that doors share.
 */
#include "engine/engine.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/hits.h"
#include "learn/learner.h"
#include "rules/load.h"
#include "util/fixed.h"
#include "util/json.h"

/* What one call borrows: a store handle (own transaction and cache) and a
 * learner (feature scratch space). */
typedef struct engine_ctx {
	store *s;
	int own_store; /* s was made by dup (else it is the engine's base) */
	learner *l;
	rules_scratch *rs; /* the rules' Hyperscan and PCRE2 scratch */
	checks_ctx *ck;    /* the built-in checks (DNS client, libraries' handles) */
	struct engine_ctx *next;
} engine_ctx;

struct engine {
	engine_config c;
	store *base;  /* the model: c.model, or opened from c.db */
	int own_base; /* opened here: closed by engine_free */
	clf_params p;
	learner *redo; /* redoes the reports of the model's journal (Redis) */
	ss_limits lim;
	const ruleset *rules; /* c.rules, or own_rules */
	ruleset *own_rules;
	pthread_mutex_t mu;
	pthread_cond_t cv;  /* a context came back (backends without dup) */
	engine_ctx *idle;   /* contexts not in use */
	size_t nctx;        /* contexts made so far */
	engine_ctx **slots; /* every context made (nctx of them) */
	size_t cap;
};

void engine_config_default(engine_config *c)
{
	memset(c, 0, sizeof(*c));
	c->add_header_at = 0.0;
	c->reject_at = log(999.0);
	c->ntop = 8;
	c->max_size = 32u << 20;
}

/* The rule set: the caller's, or built from the defaults and paths. */
static int load_rules(engine *e, const engine_config *c)
{
	rules_error re;
	int err;

	if (c->rules) {
		e->rules = c->rules;
		return 0;
	}
	err = rules_build(c->rule_paths, c->nrule_paths, c->no_default_rules, &e->own_rules, &re);
	if (err && c->error && c->error_len)
		snprintf(c->error, c->error_len, "%s", re.msg);
	e->rules = e->own_rules;
	return err;
}

/* Checks the fingerprint server's address and key file by opening a
 * client once, so a mistake shows at start, not at the first scan. */
static int fp_settings_ok(const engine_config *c)
{
	checks_settings s = c->checks;
	checks_ctx *x = NULL;
	int err;

	s.resolver = NULL; /* checked apart */
	err = checks_ctx_new(&s, &x);
	checks_ctx_free(x);
	if (err && c->error && c->error_len)
		snprintf(c->error, c->error_len, "fingerprint server %s with key file %s: %s",
		         c->checks.fp_server, c->checks.fp_key ? c->checks.fp_key : "(none)",
		         err == SS_EIO ? "cannot read the key file"
		                       : "not IP:PORT, or no key in the file");
	return err;
}

static int redo(void *ctx, store *h, const store_intent *in)
{
	return learner_redo(ctx, h, in);
}

/* Registers a learner that redoes what the model's journal holds (a store
 * that takes intents: Redis; nothing for the others). */
static int redo_setup(engine *e)
{
	if (!e->base->ops->intent)
		return 0;
	if (!(e->redo = learner_new(e->base, &e->p, 0)))
		return SS_ENOMEM;
	store_redis_set_redo(e->base, redo, e->redo);
	return 0;
}

int engine_new(const engine_config *c, engine **out)
{
	engine *e = calloc(1, sizeof(*e));
	int err = 0;

	*out = NULL;
	if (!e)
		return SS_ENOMEM;
	e->c = *c;
	clf_params_default(&e->p);
	ss_limits_default(&e->lim);
	if (c->max_size)
		e->lim.max_size = c->max_size;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	if (!checks_resolver_ok(c->checks.resolver)) {
		if (c->error && c->error_len)
			snprintf(c->error, c->error_len,
			         "resolver '%s': want IP, IP:PORT, [IPv6]:PORT, system or off",
			         c->checks.resolver);
		engine_free(e);
		return SS_ESYNTAX;
	}
	if (c->checks.fp_server && (err = fp_settings_ok(c)))
		goto fail;
	if (c->model) {
		e->base = c->model;
	} else if (c->db) {
		err = store_lmdb_open(c->db, NULL, &e->base);
		e->own_base = !err;
	} else {
		err = SS_EINVAL;
	}
	if (!err)
		err = load_rules(e, c);
	if (!err)
		err = redo_setup(e);
	if (err && c->error && c->error_len && err != SS_ESYNTAX && err != SS_EIO)
		snprintf(c->error, c->error_len, "%s", ss_strerror(err));
fail:
	if (err) {
		engine_free(e);
		return err;
	}
	*out = e;
	return 0;
}

const ruleset *engine_rules(const engine *e)
{
	return e->rules;
}

const ss_checks_config *engine_checks(const engine *e)
{
	return rules_checks(e->rules);
}

static void ctx_free(engine_ctx *x)
{
	rules_scratch_free(x->rs);
	checks_ctx_free(x->ck);
	learner_free(x->l);
	if (x->own_store)
		store_close(x->s);
	free(x);
}

void engine_free(engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nctx; i++)
		ctx_free(e->slots[i]);
	free(e->slots);
	if (e->redo)
		store_redis_clear_redo(e->base, e->redo);
	learner_free(e->redo);
	if (e->own_base)
		store_close(e->base);
	rules_free(e->own_rules);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	free(e);
}

/* Makes a new context; called with e->mu held for the slot bookkeeping. */
static int ctx_make(engine *e, engine_ctx **out)
{
	engine_ctx *x = calloc(1, sizeof(*x));
	int err = 0;

	if (!x)
		return SS_ENOMEM;
	if (e->base->ops->dup) {
		err = e->base->ops->dup(e->base, &x->s);
		x->own_store = !err;
	} else {
		x->s = e->base;
	}
	if (!err && !(x->l = learner_new(x->s, &e->p, 0)))
		err = SS_ENOMEM;
	if (!err && e->rules)
		err = rules_scratch_new(e->rules, &x->rs);
	if (!err)
		err = checks_ctx_new(&e->c.checks, &x->ck);
	if (!err && e->nctx == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		engine_ctx **s = realloc(e->slots, cap * sizeof(*s));
		if (s) {
			e->slots = s;
			e->cap = cap;
		} else {
			err = SS_ENOMEM;
		}
	}
	if (err) {
		ctx_free(x);
		return err;
	}
	e->slots[e->nctx++] = x;
	*out = x;
	return 0;
}

/* Borrows a context: an idle one, a new one, or (a backend that cannot
 * make handles for other threads has one context only) waits for it. */
static int ctx_get(engine *e, engine_ctx **out)
{
	int err = 0;

	pthread_mutex_lock(&e->mu);
	while (!e->idle && !e->base->ops->dup && e->nctx > 0)
		pthread_cond_wait(&e->cv, &e->mu);
	if (e->idle) {
		*out = e->idle;
		e->idle = e->idle->next;
	} else {
		err = ctx_make(e, out);
	}
	pthread_mutex_unlock(&e->mu);
	return err;
}

static void ctx_put(engine *e, engine_ctx *x)
{
	pthread_mutex_lock(&e->mu);
	x->next = e->idle;
	e->idle = x;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

/* Finds `user`'s id in the open transaction (0 for the global model).
 * Returns 0 with *id set, 1 when the user has no model (and !create), or
 * an SS_E* code. */
static int user_of(store *s, const char *user, int create, uint32_t *id)
{
	int rc;

	*id = 0;
	if (!user || !*user)
		return 0;
	rc = s->ops->user_id(s, user, create, id);
	if (rc == 0)
		*id = 0;
	return rc < 0 ? rc : !rc;
}

static int parse(engine *e, const char *buf, size_t len, ss_message **m)
{
	ss_parse_opts po = {&e->lim, e->c.trusted};

	return ss_parse(buf, len, &po, m);
}

/* ---- scanning ---- */

static char *arena_printf(ss_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *arena_printf(ss_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(s = arena_alloc(a, (size_t)n + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* The strings part[0..n) (n <= 4) joined, in the arena ("%s%s..." without
 * printf). */
static char *arena_join(ss_arena *a, const char *const *part, size_t n)
{
	size_t len[4], total = 0;
	char *s, *o;

	for (size_t i = 0; i < n; i++)
		total += len[i] = strlen(part[i]);
	if (!(s = o = arena_alloc(a, total + 1)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		memcpy(o, part[i], len[i]);
		o += len[i];
	}
	*o = 0;
	return s;
}

/* Appends the decimal digits of v ("%zu", "%u"). */
static size_t put_uint(char *o, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		o[i] = tmp[n - 1 - i];
	return n;
}

/* The classifier's description: what printf("learned classifier: log-odds
 * %.2f (count expert %.2f, word regression %.2f, 4-gram regression %.2f
 * [, compression expert %.2f[ unread]]), %zu features") gives, in the
 * arena. The compression expert is there when it counted: "unread" when
 * the others were sure and its term is its full weight their way. */
static char *bayes_description(const lrn_verdict *v, ss_arena *a)
{
	static const char *const part[] = {"learned classifier: log-odds ", " (count expert ",
	                                   ", word regression ", ", 4-gram regression ",
	                                   ", compression expert "};
	const double num[] = {v->r.logit, v->r.bayes, v->r.lr, v->r.gram, v->r.ppm};
	size_t nparts = v->r.ppm != 0 ? 5 : 4;
	char *s = arena_alloc(a, 6 * FIXED_MAX + 200), *o = s;

	if (!s)
		return NULL;
	for (size_t i = 0; i < nparts; i++) {
		o = stpcpy(o, part[i]);
		o += fixed_fmt(o, num[i], 2, 0, 0);
	}
	if (nparts == 5 && !v->r.ppm_scored)
		o = stpcpy(o, " unread");
	o = stpcpy(o, "), ");
	o += put_uint(o, v->nfeat);
	strcpy(o, " features");
	return s;
}

/* The classifier's symbol from its verdict; strings copied into a. */
static int bayes_symbol(const lrn_verdict *v, ss_arena *a, engine_symbol *sym)
{
	engine_feature *f = arena_calloc(a, v->ntop ? v->ntop : 1, sizeof(*f));

	if (!f)
		return SS_ENOMEM;
	for (size_t i = 0; i < v->ntop; i++) {
		const lrn_reason *t = &v->top[i];
		const char *name[] = {t->ns, ":", t->tok};
		f[i] = (engine_feature){arena_join(a, name, 3), t->weight, t->spam, t->ham};
		if (!f[i].name)
			return SS_ENOMEM;
	}
	sym->name = "SPAMSIFT_BAYES";
	sym->score = v->r.logit;
	sym->description = bayes_description(v, a);
	sym->features = f;
	sym->nfeatures = v->ntop;
	return sym->description ? 0 : SS_ENOMEM;
}

/* What one scan works on, for the checks and the rules. */
typedef struct scan_in {
	const char *user;
	const engine_envelope *env;
	const ss_message *m;
	const char *buf;
	size_t len;
} scan_in;

/* The built-in checks (engine/checks.h: phishing and attachment signs,
 * SPF, DKIM, DMARC, DNS lists) add what they find to `hits` as symbol +
 * detail; they decide no points (the rule set does, and configures them:
 * engine_checks()). Runs after the classifier and before the rules, whose
 * metas see these hits. */
static int run_checks(engine *e, engine_ctx *x, const scan_in *in, ss_hits *hits,
                      const char **auth_results)
{
	checks_envelope ce = {NULL, NULL, NULL};

	if (in->env)
		ce = (checks_envelope){in->env->client_ip, in->env->helo, in->env->mail_from};
	return checks_run(x->ck, engine_checks(e), in->m, in->buf, in->len, &ce, hits->a, hits,
	                  auth_results);
}

/* The pattern rules, lists and metas, after the checks. */
static int run_rules(engine *e, engine_ctx *x, const scan_in *in, const rules_scope *sc,
                     ss_hits *hits)
{
	rules_input ri = {in->m, in->buf, in->len, NULL, NULL, NULL};

	if (in->env) {
		ri.client_ip = in->env->client_ip;
		ri.helo = in->env->helo;
		ri.mail_from = in->env->mail_from;
	}
	return rules_run(e->rules, x->rs, &ri, sc, hits);
}

/* A hit's symbol: its points under the scope, its description and detail. */
static int hit_symbol(const engine *e, const rules_scope *sc, const ss_hit *h, ss_arena *a,
                      engine_symbol *sym)
{
	const char *d = rules_describe(e->rules, h->name);
	const char *both[] = {d, " (", h->detail, ")"};
	const char *one = d ? d : h->detail ? h->detail : h->name;

	sym->name = arena_strndup(a, h->name, strlen(h->name));
	sym->score = rules_score(e->rules, sc, h->name);
	sym->description =
	    d && h->detail ? arena_join(a, both, 4) : arena_strndup(a, one, strlen(one));
	return sym->name && sym->description ? 0 : SS_ENOMEM;
}

static int fill_result(engine *e, engine_ctx *x, const scan_in *in, const lrn_verdict *v,
                       ss_arena *a, engine_result *r)
{
	const engine_envelope *env = in->env;
	double add_at = e->c.add_header_at, reject_at = e->c.reject_at;
	engine_symbol *syms;
	rules_scope sc;
	ss_hits hits;
	int err;

	memset(r, 0, sizeof(*r));
	hits_init(&hits, a);
	rules_scope_of(e->rules, in->user, env ? env->rcpts : NULL, env ? env->nrcpts : 0, &sc);
	if (x->s->ops->degraded && x->s->ops->degraded(x->s) &&
	    (err = hits_add(&hits, "REDIS_UNAVAILABLE", "scored with the local cache")))
		return err;
	if ((err = run_checks(e, x, in, &hits, &r->auth_results)) ||
	    (err = run_rules(e, x, in, &sc, &hits)))
		return err;
	if (!(syms = arena_calloc(a, hits.n + 1, sizeof(*syms))))
		return SS_ENOMEM;
	if ((err = bayes_symbol(v, a, &syms[0])))
		return err;
	for (size_t i = 0; i < hits.n; i++)
		if ((err = hit_symbol(e, &sc, &hits.v[i], a, &syms[i + 1])))
			return err;
	r->symbols = syms;
	r->nsymbols = hits.n + 1;
	for (size_t i = 0; i < r->nsymbols; i++)
		r->score += syms[i].score;
	rules_thresholds(e->rules, &sc, &add_at, &reject_at);
	r->prob = v->r.score;
	r->action = r->score >= reject_at ? ENGINE_REJECT
	            : r->score >= add_at  ? ENGINE_ADD_HEADER
	                                  : ENGINE_NO_ACTION;
	r->is_spam = r->action != ENGINE_NO_ACTION;
	r->required = add_at;
	r->nfeat = v->nfeat;
	return 0;
}

/* The classifier's verdict, in its own read transaction. */
static int classify(engine *e, engine_ctx *x, const char *user, const ss_message *m, ss_arena *a,
                    lrn_verdict *v)
{
	uint32_t uid;
	int err = x->s->ops->begin(x->s, 0);

	if (err)
		return err;
	err = user_of(x->s, user, 0, &uid);
	if (err >= 0)
		err = learner_check(x->l, m, uid, e->c.ntop, a, v);
	x->s->ops->end(x->s, 0);
	return err;
}

int engine_scan(engine *e, const char *user, const engine_envelope *env, const char *buf,
                size_t len, ss_arena *a, engine_result *r)
{
	ss_message *m = NULL;
	engine_ctx *x = NULL;
	lrn_verdict v;
	int err;

	if ((err = parse(e, buf, len, &m)) || (err = ctx_get(e, &x)))
		goto out;
	err = classify(e, x, user, m, a, &v);
	if (!err) {
		scan_in in = {user, env, m, buf, len};
		err = fill_result(e, x, &in, &v, a, r);
	}
	ctx_put(e, x);
out:
	ss_message_free(m);
	return err;
}

/* ---- feedback ---- */

enum { OP_HAM = 0, OP_SPAM = 1, OP_UNLEARN = 2 };

/* Runs one learn or unlearn in the open write transaction of x. */
static int feedback_txn(engine_ctx *x, const char *user, int op, const ss_message *m, int *what)
{
	ss_arena a;
	uint32_t uid;
	int err = user_of(x->s, user, op != OP_UNLEARN, &uid);

	/* An unlearn while the model's server is down: a provisional id, so
	 * that the report is journaled (it undoes nothing if the user has no
	 * model). */
	if (err == SS_EIO && op == OP_UNLEARN)
		err = user_of(x->s, user, 1, &uid);
	*what = LRN_UNCHANGED;
	if (err)
		return err > 0 ? 0 : err; /* unlearn for a user without a model */
	arena_init(&a);
	if (op == OP_UNLEARN)
		err = learner_unlearn(x->l, m, uid, user, &a, what);
	else
		err = learner_learn(x->l, m, uid, user, op == OP_SPAM, &a, what);
	arena_release(&a);
	return err;
}

static int feedback(engine *e, const char *user, int op, const char *buf, size_t len,
                    engine_learned *what)
{
	ss_message *m = NULL;
	engine_ctx *x = NULL;
	int err, done = LRN_UNCHANGED;

	if ((err = parse(e, buf, len, &m)) || (err = ctx_get(e, &x)))
		goto out;
	if (!(err = x->s->ops->begin(x->s, 1))) {
		err = feedback_txn(x, user, op, m, &done);
		int e2 = x->s->ops->end(x->s, !err);
		err = err ? err : e2;
	}
	ctx_put(e, x);
out:
	if (what)
		*what = err || done == LRN_UNCHANGED ? ENGINE_UNCHANGED
		        : done == LRN_UNLEARNED      ? ENGINE_UNLEARNED
		        : done == LRN_MOVED          ? ENGINE_MOVED
		                                     : ENGINE_LEARNED;
	ss_message_free(m);
	return err;
}

int engine_learn(engine *e, const char *user, int is_spam, const char *buf, size_t len,
                 engine_learned *what)
{
	return feedback(e, user, is_spam ? OP_SPAM : OP_HAM, buf, len, what);
}

int engine_unlearn(engine *e, const char *user, const char *buf, size_t len, engine_learned *what)
{
	return feedback(e, user, OP_UNLEARN, buf, len, what);
}

/* ---- renderings ---- */

const char *engine_action_name(engine_action act)
{
	return act == ENGINE_REJECT       ? "reject"
	       : act == ENGINE_ADD_HEADER ? "add header"
	                                  : "no action";
}

/* Appends key (a JSON fragment) and x as printf's "%.<prec>f" gives it,
 * or null when x is not finite (JSON has no NaN; a reader gets valid
 * JSON that says the figure is missing). */
static int add_fixed(sbuf *b, const char *key, double x, int prec)
{
	char num[FIXED_MAX];
	size_t n = isfinite(x) ? fixed_fmt(num, x, prec, 0, 0) : 0;
	int err = sbuf_adds(b, key);

	if (err)
		return err;
	return n ? sbuf_add(b, num, n) : sbuf_adds(b, "null");
}

static int json_features(const engine_symbol *s, sbuf *b)
{
	int err = sbuf_adds(b, ",\"features\":[");

	for (size_t i = 0; !err && i < s->nfeatures; i++) {
		const engine_feature *f = &s->features[i];
		char tail[80], *o = tail;
		err = sbuf_adds(b, i ? ",{\"feature\":" : "{\"feature\":");
		if (!err)
			err = json_str(b, f->name, strlen(f->name));
		if (!err)
			err = add_fixed(b, ",\"weight\":", f->weight, 4);
		/* ,"spam":%u,"ham":%u} */
		o = stpcpy(o, ",\"spam\":");
		o += put_uint(o, f->spam);
		o = stpcpy(o, ",\"ham\":");
		o += put_uint(o, f->ham);
		*o++ = '}';
		if (!err)
			err = sbuf_add(b, tail, (size_t)(o - tail));
	}
	return err ? err : sbuf_addc(b, ']');
}

static int json_symbol(const engine_symbol *s, sbuf *b)
{
	int err = sbuf_adds(b, "{\"name\":");

	if (!err)
		err = json_str(b, s->name, strlen(s->name));
	if (!err)
		err = add_fixed(b, ",\"score\":", s->score, 4);
	if (!err)
		err = sbuf_adds(b, ",\"description\":");
	if (!err)
		err = json_str(b, s->description, strlen(s->description));
	if (!err && s->features)
		err = json_features(s, b);
	return err ? err : sbuf_addc(b, '}');
}

int engine_result_json(const engine_result *r, const char *path, sbuf *b)
{
	int err = sbuf_addc(b, '{');

	if (!err && path) {
		err = json_kv_str(b, "path", path, strlen(path));
		if (!err)
			err = sbuf_addc(b, ',');
	}
	if (!err)
		err = add_fixed(b, "\"score\":", r->prob, 6);
	if (!err)
		err = sbuf_adds(b, r->is_spam ? ",\"verdict\":\"spam\",\"action\":\""
		                              : ",\"verdict\":\"ham\",\"action\":\"");
	if (!err)
		err = sbuf_adds(b, engine_action_name(r->action));
	if (!err)
		err = sbuf_adds(b, "\",\"symbols\":[");
	for (size_t i = 0; !err && i < r->nsymbols; i++) {
		if (i)
			err = sbuf_addc(b, ',');
		if (!err)
			err = json_symbol(&r->symbols[i], b);
	}
	if (!err)
		err = sbuf_addc(b, ']');
	if (!err && r->auth_results) {
		err = sbuf_addc(b, ',');
		if (!err)
			err = json_kv_str(b, "authentication_results", r->auth_results,
			                  strlen(r->auth_results));
	}
	return err ? err : sbuf_addc(b, '}');
}

static int report_features(const engine_symbol *s, sbuf *b)
{
	int err = 0;

	for (size_t i = 0; !err && i < s->nfeatures; i++)
		err = sbuf_addf(b, "     %+7.3f %s (spam %u, ham %u)\n", s->features[i].weight,
		                s->features[i].name, s->features[i].spam, s->features[i].ham);
	return err;
}

int engine_result_report(const engine_result *r, sbuf *b)
{
	int err = sbuf_addf(b,
	                    "spamsift verdict: %s (%s)\n\n"
	                    "Content analysis details:   (%.1f points, %.1f required)\n\n"
	                    " pts rule name              description\n"
	                    "---- ---------------------- "
	                    "--------------------------------------------------\n",
	                    r->is_spam ? "spam" : "not spam", engine_action_name(r->action),
	                    r->score, r->required);

	for (size_t i = 0; !err && i < r->nsymbols; i++) {
		const engine_symbol *s = &r->symbols[i];
		err = sbuf_addf(b, "%4.1f %-22s %s\n", s->score, s->name, s->description);
		if (!err)
			err = report_features(s, b);
	}
	return err;
}

/* "SYM1,SYM2" of the result, in a. */
static const char *symbol_list(const engine_result *r, ss_arena *a)
{
	sbuf b = SBUF_INIT;
	const char *s = NULL;

	for (size_t i = 0; i < r->nsymbols; i++)
		if (sbuf_addf(&b, "%s%s", i ? "," : "", r->symbols[i].name))
			goto out;
	s = arena_strndup(a, b.p ? b.p : "", b.len);
out:
	sbuf_release(&b);
	return s;
}

size_t engine_result_headers(const engine_result *r, ss_arena *a, ss_str *out)
{
	char stars[51];
	size_t n = 0, k = r->score > 0 ? (size_t)r->score : 0;
	const char *tests = symbol_list(r, a);
	char *h[ENGINE_MAX_HEADERS] = {0};

	k = k > 50 ? 50 : k;
	memset(stars, '*', k);
	stars[k] = 0;
	if (r->is_spam)
		h[n++] = arena_printf(a, "X-Spam-Flag: YES");
	h[n++] = arena_printf(a, "X-Spam-Score: %.2f", r->score);
	h[n++] = arena_printf(a, "X-Spam-Level: %s", stars);
	h[n++] = arena_printf(a, "X-Spam-Action: %s", engine_action_name(r->action));
	h[n++] = arena_printf(a, "X-Spam-Status: %s, score=%.1f required=%.1f tests=%s version=%s",
	                      r->is_spam ? "Yes" : "No", r->score, r->required, tests ? tests : "",
	                      "spamsift " SS_VERSION);
	if (r->auth_results)
		h[n++] = arena_printf(a, "Authentication-Results: %s", r->auth_results);
	for (size_t i = 0; i < n; i++) {
		if (!h[i])
			return 0;
		out[i] = (ss_str){h[i], strlen(h[i])};
	}
	return n;
}
