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

#include "learn/learner.h"
#include "util/json.h"

/* What one call borrows: a store handle (own transaction and cache) and a
 * learner (feature scratch space). */
typedef struct engine_ctx {
	store *s;
	int own_store; /* s was made by dup (else it is the engine's base) */
	learner *l;
	struct engine_ctx *next;
} engine_ctx;

struct engine {
	engine_config c;
	store *base;  /* the model: c.model, or opened from c.db */
	int own_base; /* opened here: closed by engine_free */
	clf_params p;
	ss_limits lim;
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
	if (c->model) {
		e->base = c->model;
	} else if (c->db) {
		err = store_lmdb_open(c->db, NULL, &e->base);
		e->own_base = !err;
	} else {
		err = SS_EINVAL;
	}
	if (err) {
		engine_free(e);
		return err;
	}
	*out = e;
	return 0;
}

static void ctx_free(engine_ctx *x)
{
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
	if (e->own_base)
		store_close(e->base);
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

static engine_action action_of(const engine *e, double points)
{
	if (points >= e->c.reject_at)
		return ENGINE_REJECT;
	return points >= e->c.add_header_at ? ENGINE_ADD_HEADER : ENGINE_NO_ACTION;
}

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

/* The classifier's symbol from its verdict; strings copied into a. */
static int bayes_symbol(const lrn_verdict *v, ss_arena *a, engine_symbol *sym)
{
	engine_feature *f = arena_calloc(a, v->ntop ? v->ntop : 1, sizeof(*f));

	if (!f)
		return SS_ENOMEM;
	for (size_t i = 0; i < v->ntop; i++) {
		const lrn_reason *t = &v->top[i];
		f[i] = (engine_feature){arena_printf(a, "%s:%s", t->ns, t->tok), t->weight, t->spam,
		                        t->ham};
		if (!f[i].name)
			return SS_ENOMEM;
	}
	sym->name = "SPAMSIFT_BAYES";
	sym->score = v->r.logit;
	sym->description =
	    arena_printf(a,
	                 "learned classifier: log-odds %.2f (count expert %.2f, "
	                 "word regression %.2f, 4-gram regression %.2f), %zu features",
	                 v->r.logit, v->r.bayes, v->r.lr, v->r.gram, v->nfeat);
	sym->features = f;
	sym->nfeatures = v->ntop;
	return sym->description ? 0 : SS_ENOMEM;
}

static int fill_result(const engine *e, const lrn_verdict *v, ss_arena *a, engine_result *r)
{
	engine_symbol *syms = arena_calloc(a, 1, sizeof(*syms));
	int err;

	memset(r, 0, sizeof(*r));
	if (!syms)
		return SS_ENOMEM;
	if ((err = bayes_symbol(v, a, &syms[0])))
		return err;
	r->symbols = syms;
	r->nsymbols = 1;
	for (size_t i = 0; i < r->nsymbols; i++)
		r->score += syms[i].score;
	r->prob = v->r.score;
	r->action = action_of(e, r->score);
	r->is_spam = r->action != ENGINE_NO_ACTION;
	r->required = e->c.add_header_at;
	r->nfeat = v->nfeat;
	return 0;
}

int engine_scan(engine *e, const char *user, const engine_envelope *env, const char *buf,
                size_t len, ss_arena *a, engine_result *r)
{
	ss_message *m = NULL;
	engine_ctx *x = NULL;
	lrn_verdict v;
	uint32_t uid;
	int err;

	(void)env; /* for the checks to come: rules, SPF, DNS lists */
	if ((err = parse(e, buf, len, &m)) || (err = ctx_get(e, &x)))
		goto out;
	if (!(err = x->s->ops->begin(x->s, 0))) {
		err = user_of(x->s, user, 0, &uid);
		if (err >= 0)
			err = learner_check(x->l, m, uid, e->c.ntop, a, &v);
		x->s->ops->end(x->s, 0);
	}
	ctx_put(e, x);
	if (!err)
		err = fill_result(e, &v, a, r);
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

	*what = LRN_UNCHANGED;
	if (err)
		return err > 0 ? 0 : err; /* unlearn for a user without a model */
	arena_init(&a);
	if (op == OP_UNLEARN)
		err = learner_unlearn(x->l, m, uid, &a, what);
	else
		err = learner_learn(x->l, m, uid, op == OP_SPAM, &a, what);
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

static int json_features(const engine_symbol *s, sbuf *b)
{
	int err = sbuf_adds(b, ",\"features\":[");

	for (size_t i = 0; !err && i < s->nfeatures; i++) {
		const engine_feature *f = &s->features[i];
		err = sbuf_adds(b, i ? ",{\"feature\":" : "{\"feature\":");
		if (!err)
			err = json_str(b, f->name, strlen(f->name));
		if (!err)
			err = sbuf_addf(b, ",\"weight\":%.4f,\"spam\":%u,\"ham\":%u}", f->weight,
			                f->spam, f->ham);
	}
	return err ? err : sbuf_addc(b, ']');
}

static int json_symbol(const engine_symbol *s, sbuf *b)
{
	int err = sbuf_adds(b, "{\"name\":");

	if (!err)
		err = json_str(b, s->name, strlen(s->name));
	if (!err)
		err = sbuf_addf(b, ",\"score\":%.4f,\"description\":", s->score);
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
		err = sbuf_addf(
		    b, "\"score\":%.6f,\"verdict\":\"%s\",\"action\":\"%s\",\"symbols\":[", r->prob,
		    r->is_spam ? "spam" : "ham", engine_action_name(r->action));
	for (size_t i = 0; !err && i < r->nsymbols; i++) {
		if (i)
			err = sbuf_addc(b, ',');
		if (!err)
			err = json_symbol(&r->symbols[i], b);
	}
	return err ? err : sbuf_adds(b, "]}");
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
	for (size_t i = 0; i < n; i++) {
		if (!h[i])
			return 0;
		out[i] = (ss_str){h[i], strlen(h[i])};
	}
	return n;
}
