/*
 * meta.c: meta rule expressions. An expression combines symbols (1 when
 * the symbol fired, else 0) and integers with ! && || ( ), + and -, and
 * the comparisons < <= > >= == !=, with C's precedence:
 *     (SUBJ_FREE || BODY_FREE) && !DKIM_VALID
 *     A + B + C >= 2
 * It is parsed by recursive descent into reverse Polish form, evaluated
 * on a small stack; the number of terms is bounded (RULES_MAX_META_TERMS),
 * which also bounds the recursion.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rules/internal.h"

typedef struct mparser {
	ss_arena *a;
	const char *p, *end;
	meta_term t[RULES_MAX_META_TERMS];
	size_t n;
	unsigned depth;
	char *why;
	size_t wlen;
	int err;
} mparser;

static int mfail(mparser *m, const char *what)
{
	if (!m->err) {
		snprintf(m->why, m->wlen, "meta: %s at '%.20s'", what,
		         m->p < m->end ? m->p : "end");
		m->err = SS_ESYNTAX;
	}
	return m->err;
}

static void skip(mparser *m)
{
	while (m->p < m->end && (*m->p == ' ' || *m->p == '\t'))
		m->p++;
}

/* Consumes token tok when it is next. */
static int eat(mparser *m, const char *tok)
{
	size_t n = strlen(tok);

	skip(m);
	if ((size_t)(m->end - m->p) >= n && !memcmp(m->p, tok, n)) {
		m->p += n;
		return 1;
	}
	return 0;
}

static int emit(mparser *m, int op, int val, const char *name)
{
	if (m->err)
		return m->err;
	if (m->n == RULES_MAX_META_TERMS)
		return mfail(m, "more than 256 terms");
	m->t[m->n++] = (meta_term){op, val, name};
	return 0;
}

static int expr_or(mparser *m);

static int primary(mparser *m)
{
	const char *s;

	skip(m);
	if (m->err || ++m->depth > RULES_MAX_META_TERMS)
		return mfail(m, "nested too deeply");
	if (eat(m, "(")) {
		if (expr_or(m) || !eat(m, ")"))
			return mfail(m, "expected ')'");
	} else if (eat(m, "!")) {
		if (primary(m))
			return m->err;
		emit(m, MOP_NOT, 0, NULL);
	} else if (eat(m, "-")) {
		if (primary(m))
			return m->err;
		emit(m, MOP_NEG, 0, NULL);
	} else if (m->p < m->end && isdigit((unsigned char)*m->p)) {
		int v = 0;
		for (; m->p < m->end && isdigit((unsigned char)*m->p); m->p++)
			v = v < 100000 ? v * 10 + (*m->p - '0') : v;
		emit(m, MOP_NUM, v, NULL);
	} else if (m->p < m->end && (isalpha((unsigned char)*m->p) || *m->p == '_')) {
		for (s = m->p; m->p < m->end && (isalnum((unsigned char)*m->p) || *m->p == '_');)
			m->p++;
		const char *name = arena_strndup(m->a, s, (size_t)(m->p - s));
		if (!name)
			return m->err = SS_ENOMEM;
		emit(m, MOP_SYM, -1, name);
	} else {
		return mfail(m, "expected a symbol, a number or '('");
	}
	m->depth--;
	return m->err;
}

static int sum(mparser *m)
{
	if (primary(m))
		return m->err;
	for (;;) {
		int op = eat(m, "+") ? MOP_ADD : eat(m, "-") ? MOP_SUB : -1;
		if (op < 0)
			return 0;
		if (primary(m))
			return m->err;
		emit(m, op, 0, NULL);
	}
}

static int compare(mparser *m)
{
	static const struct {
		const char *tok;
		int op;
	} ops[] = {{"<=", MOP_LE}, {">=", MOP_GE}, {"==", MOP_EQ},
	           {"!=", MOP_NE}, {"<", MOP_LT},  {">", MOP_GT}};

	if (sum(m))
		return m->err;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (eat(m, ops[i].tok)) {
			if (sum(m))
				return m->err;
			return emit(m, ops[i].op, 0, NULL);
		}
	return 0;
}

static int expr_and(mparser *m)
{
	if (compare(m))
		return m->err;
	while (eat(m, "&&"))
		if (compare(m) || emit(m, MOP_AND, 0, NULL))
			return m->err;
	return 0;
}

static int expr_or(mparser *m)
{
	if (expr_and(m))
		return m->err;
	while (eat(m, "||"))
		if (expr_and(m) || emit(m, MOP_OR, 0, NULL))
			return m->err;
	return 0;
}

int meta_parse(ss_arena *a, const char *s, size_t len, meta_expr *out, char *why, size_t wlen)
{
	mparser *m = arena_calloc(a, 1, sizeof(*m));

	if (!m)
		return SS_ENOMEM;
	*m = (mparser){.a = a, .p = s, .end = s + len, .why = why, .wlen = wlen};
	if (!expr_or(m)) {
		skip(m);
		if (m->p < m->end)
			mfail(m, "unexpected text");
	}
	if (m->err)
		return m->err;
	if (!(out->t = arena_calloc(a, m->n, sizeof(*out->t))))
		return SS_ENOMEM;
	memcpy(out->t, m->t, m->n * sizeof(*out->t));
	out->n = m->n;
	return 0;
}

static int apply(int op, int x, int y)
{
	switch (op) {
	case MOP_AND:
		return x && y;
	case MOP_OR:
		return x || y;
	case MOP_ADD:
		return x + y;
	case MOP_SUB:
		return x - y;
	case MOP_LT:
		return x < y;
	case MOP_LE:
		return x <= y;
	case MOP_GT:
		return x > y;
	case MOP_GE:
		return x >= y;
	case MOP_EQ:
		return x == y;
	default:
		return x != y;
	}
}

int meta_eval(const meta_expr *e, const uint8_t *state)
{
	int st[RULES_MAX_META_TERMS + 1];
	size_t sp = 0;

	for (size_t i = 0; i < e->n; i++) {
		const meta_term *t = &e->t[i];
		if (t->op == MOP_SYM)
			st[sp++] = state[t->val] != 0;
		else if (t->op == MOP_NUM)
			st[sp++] = t->val;
		else if (t->op == MOP_NOT)
			st[sp - 1] = !st[sp - 1];
		else if (t->op == MOP_NEG)
			st[sp - 1] = -st[sp - 1];
		else {
			sp--;
			st[sp - 1] = apply(t->op, st[sp - 1], st[sp]);
		}
	}
	return sp ? st[sp - 1] != 0 : 0;
}
