/*
 * samples.h: three spams and three hams the classifier tests learn from
 * (test_learn.c through the learner, test_engine.c through the engine).
 * Spams sell (cheap, free, click, price), hams work (notes, meeting,
 * review, build).
 */
#ifndef SS_TEST_SAMPLES_H
#define SS_TEST_SAMPLES_H

#define SAMPLES 3

extern const char *const sample_spams[SAMPLES];
extern const char *const sample_hams[SAMPLES];

#endif
