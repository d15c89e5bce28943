/*
 * clock.h: the monotonic clock in milliseconds, for deadlines, retry
 * times and staleness bounds (never the time of day).
 */
#ifndef SS_UTIL_CLOCK_H
#define SS_UTIL_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t ss_mono_ms(void);

/* Seconds of CLOCK_MONOTONIC, to the nanosecond (scan times, latencies). */
double ss_mono_s(void);

#endif
