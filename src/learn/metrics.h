/*
 * metrics.h: TREC Spam Track measures of an online evaluation.
 *
 * 1-ROCA% is 100 * (1 - area under the ROC curve), ties counted half;
 * hm% and sm% are the ham and spam misclassification rates at the filter's
 * own verdicts; lam% is their logit average (a rate of 0 or n is smoothed by
 * +0.5 before the logit, as the TREC toolkit does); sm% at hm=0.1% reads the
 * ROC curve, interpolated. The same definitions as the anchors' harness
 * (../shared/anchors/speval.py), so figures are comparable.
 * No I/O: the SVG plot is written into a buffer.
 */
#ifndef SS_LEARN_METRICS_H
#define SS_LEARN_METRICS_H

#include <stddef.h>

#include "util/buf.h"

/* One judged message. */
typedef struct ev_row {
	double score;
	unsigned char gold_spam, said_spam;
} ev_row;

typedef struct ev_metrics {
	size_t n, spam, ham, fp, fn;
	double one_minus_roca_pct, lam_pct, hm_pct, sm_pct, sm_at_hm01_pct, sm_at_hm1_pct;
} ev_metrics;

/* Computes the measures of rows[0..n); sorts `rows` by score in place. */
void ev_compute(ev_row *rows, size_t n, ev_metrics *m);

/* Appends an SVG drawing of the ROC curve of rows (sorted by ev_compute) on
 * logit axes (ham misclassification % across, spam misclassification % up,
 * as the TREC reports draw it), titled `title`. Returns 0 or SS_ENOMEM. */
int ev_plot_svg(const ev_row *rows, size_t n, const char *title, sbuf *out);

#endif
