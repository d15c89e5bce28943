/*
 * fuzz_import.c: libFuzzer target for the model export's parser
 * (store/modelfile.h): any bytes, cut into lines as `spamsift import`
 * reads them, imported into a fresh in-memory model until the first bad
 * line. Whatever got in, a message scored with that model must get a
 * score in [0,1] (no NaN let in by a weight or a table line).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner.h"
#include "spamsift.h"
#include "store/modelfile.h"

static const char probe[] = "From: a@example.com\r\n"
                            "Subject: cheap meds online now\r\n"
                            "\r\n"
                            "buy now, limited offer, click here\r\n";

/* Feeds data as lines of at most MF_LINE - 1 bytes (fgets' cut). */
static int import_all(mf_import *im, const uint8_t *data, size_t size)
{
	char line[MF_LINE];
	size_t at = 0;
	int first = 1, rc = 0;

	while (!rc && at < size) {
		size_t n = 0;
		while (at < size && n < MF_LINE - 1) {
			line[n++] = (char)data[at++];
			if (line[n - 1] == '\n')
				break;
		}
		line[n] = 0;
		if (first) {
			first = 0;
			if (mf_magic(line) == 0)
				continue;
		}
		rc = mf_import_line(im, line);
	}
	return rc;
}

/* The probe's score under s's model; aborts when it is not in [0,1]. */
static void probe_score(store *s)
{
	clf_params p;
	learner *l;
	ss_message *m = NULL;
	ss_arena a;
	lrn_verdict v;

	clf_params_default(&p);
	if (!(l = learner_new(s, &p, 0)))
		abort();
	if (ss_parse(probe, sizeof(probe) - 1, NULL, &m))
		abort();
	arena_init(&a);
	if (learner_check(l, m, 0, 8, &a, &v) == 0 && !(v.r.score >= 0 && v.r.score <= 1))
		abort();
	arena_release(&a);
	ss_message_free(m);
	learner_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mf_import im;
	store *s = store_mem_new();

	if (!s || s->ops->begin(s, 1))
		abort();
	mf_import_init(&im, s);
	import_all(&im, data, size); /* a refusal is fine; what got in is scored */
	s->ops->end(s, 1);
	probe_score(s);
	store_close(s);
	return 0;
}
