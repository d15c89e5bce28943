/*
 * metrics.c: TREC measures and the ROC plot (see metrics.h).
 */
#include <math.h>
#include <stdlib.h>

#include "learn/metrics.h"

static int by_score(const void *a, const void *b)
{
	double x = ((const ev_row *)a)->score, y = ((const ev_row *)b)->score;

	return x < y ? -1 : x > y;
}

static double logit(double p)
{
	return log(p / (1 - p));
}

/* A misclassification rate, smoothed by +0.5 when it is 0 or 1. */
static double rate(size_t k, size_t n)
{
	if (k == 0 || k == n)
		return (k + 0.5) / (n + 1.0);
	return (double)k / (double)n;
}

/* Area under the ROC curve by rank sums over rows sorted ascending. */
static double auc(const ev_row *r, size_t n, size_t ns, size_t nh)
{
	double rank_sum = 0;

	for (size_t i = 0, j; i < n; i = j) {
		size_t spam = 0;
		for (j = i; j < n && r[j].score == r[i].score; j++)
			spam += r[j].gold_spam;
		rank_sum += spam * ((double)(i + j - 1) / 2.0 + 1);
	}
	return (rank_sum - ns * (ns + 1) / 2.0) / ((double)ns * (double)nh);
}

/* Calls fn for each ROC point (fpr, tpr), thresholds descending, a group of
 * tied scores making one step. */
typedef void (*roc_fn)(void *ctx, double f0, double t0, double f1, double t1);

static void roc_walk(const ev_row *r, size_t n, size_t ns, size_t nh, roc_fn fn, void *ctx)
{
	size_t tp = 0, fp = 0;
	double f0 = 0, t0 = 0;

	for (size_t i = n, j; i > 0; i = j) {
		for (j = i; j > 0 && r[j - 1].score == r[i - 1].score; j--) {
			if (r[j - 1].gold_spam)
				tp++;
			else
				fp++;
		}
		double f1 = (double)fp / nh, t1 = (double)tp / ns;
		fn(ctx, f0, t0, f1, t1);
		f0 = f1;
		t0 = t1;
	}
}

typedef struct at_hm {
	double target, best;
	int found;
} at_hm;

static void at_hm_fn(void *ctx, double f0, double t0, double f1, double t1)
{
	at_hm *a = ctx;
	double t;

	if (!(f0 <= a->target && a->target <= f1))
		return;
	t = f1 == f0 ? t1 : t0 + (t1 - t0) * (a->target - f0) / (f1 - f0);
	if (!a->found || t > a->best)
		a->best = t;
	a->found = 1;
}

static double sm_at_hm(const ev_row *r, size_t n, size_t ns, size_t nh, double target)
{
	at_hm a = {target, 0, 0};

	roc_walk(r, n, ns, nh, at_hm_fn, &a);
	return 1 - (a.found ? a.best : 0);
}

void ev_compute(ev_row *rows, size_t n, ev_metrics *m)
{
	*m = (ev_metrics){0};
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		m->spam += rows[i].gold_spam;
		m->fn += rows[i].gold_spam && !rows[i].said_spam;
		m->fp += !rows[i].gold_spam && rows[i].said_spam;
	}
	m->ham = n - m->spam;
	if (!m->spam || !m->ham)
		return;
	qsort(rows, n, sizeof(*rows), by_score);
	m->one_minus_roca_pct = 100 * (1 - auc(rows, n, m->spam, m->ham));
	m->hm_pct = 100.0 * m->fp / m->ham;
	m->sm_pct = 100.0 * m->fn / m->spam;
	double l = (logit(rate(m->fp, m->ham)) + logit(rate(m->fn, m->spam))) / 2;
	m->lam_pct = 100 / (1 + exp(-l));
	m->sm_at_hm01_pct = 100 * sm_at_hm(rows, n, m->spam, m->ham, 0.001);
	m->sm_at_hm1_pct = 100 * sm_at_hm(rows, n, m->spam, m->ham, 0.01);
}

/* ---- the plot ---- */

#define PLOT 480.0 /* the square's side, in SVG units */
#define MARGIN 60.0
#define LO 0.0001 /* 0.01% */
#define HI 0.5

static double axis(double rate_)
{
	double r = rate_ < LO ? LO : rate_ > HI ? HI : rate_;

	return (logit(r) - logit(LO)) / (logit(HI) - logit(LO)) * PLOT;
}

typedef struct plot_ctx {
	sbuf *out;
	int err;
} plot_ctx;

static void plot_fn(void *ctx, double f0, double t0, double f1, double t1)
{
	plot_ctx *p = ctx;

	(void)f0;
	(void)t0;
	if (!p->err)
		p->err = sbuf_addf(p->out, " %.1f,%.1f", MARGIN + axis(f1), MARGIN + axis(1 - t1));
}

static int ticks(sbuf *o)
{
	static const double at[] = {0.0001, 0.001, 0.01, 0.1, 0.5};
	static const char *const label[] = {"0.01", "0.1", "1", "10", "50"};
	int err = 0;

	for (size_t i = 0; !err && i < 5; i++) {
		double v = MARGIN + axis(at[i]);
		err = sbuf_addf(o,
		                "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
		                "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
		                "<text x='%.1f' y='%.1f' text-anchor='middle'>%s</text>"
		                "<text x='%.1f' y='%.1f' text-anchor='end'>%s</text>\n",
		                v, MARGIN, v, MARGIN + PLOT, MARGIN, v, MARGIN + PLOT, v, v,
		                MARGIN + PLOT + 18, label[i], MARGIN - 6, v + 4, label[i]);
	}
	return err;
}

int ev_plot_svg(const ev_row *rows, size_t n, const char *title, sbuf *out)
{
	size_t ns = 0, nh;
	plot_ctx p = {out, 0};
	int err;

	for (size_t i = 0; i < n; i++)
		ns += rows[i].gold_spam;
	nh = n - ns;
	err = sbuf_addf(out,
	                "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
	                "font-family='sans-serif' font-size='12'>\n"
	                "<text x='%.0f' y='20' text-anchor='middle'>%s</text>\n",
	                PLOT + 2 * MARGIN, PLOT + 2 * MARGIN, MARGIN + PLOT / 2, title);
	if (!err)
		err = ticks(out);
	if (!err)
		err = sbuf_addf(
		    out,
		    "<text x='%.0f' y='%.0f' text-anchor='middle'>ham misclassification %%"
		    " (logit scale)</text>\n<text x='14' y='%.0f' text-anchor='middle' "
		    "transform='rotate(-90 14 %.0f)'>spam misclassification %%</text>\n"
		    "<rect x='%.0f' y='%.0f' width='%.0f' height='%.0f' fill='none' "
		    "stroke='black'/>\n<polyline fill='none' stroke='#c00' points='",
		    MARGIN + PLOT / 2, PLOT + 2 * MARGIN - 12, MARGIN + PLOT / 2, MARGIN + PLOT / 2,
		    MARGIN, MARGIN, PLOT, PLOT);
	if (!err && ns && nh)
		roc_walk(rows, n, ns, nh, plot_fn, &p);
	err = err ? err : p.err;
	return err ? err : sbuf_adds(out, "'/>\n</svg>\n");
}
