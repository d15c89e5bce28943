/*
 * lat.h: what the UDP lookup load generators (fpd_load, rspamd_fuzzy_load)
 * share: the clock, and the one result line they print, so that the
 * spamsift-fpd and rspamd rows of bench/run-fpd.sh are measured alike.
 */
#ifndef SS_BENCH_LAT_H
#define SS_BENCH_LAT_H

#include <stdint.h>

/* Microseconds of CLOCK_MONOTONIC. */
uint64_t lat_now_us(void);

/* Sorts lat[0..done) (microseconds; a lost lookup counted as 1 s) and
 * prints "lookups= seconds= rate= p50= p99= max= lost= found=", the run
 * having started at t0 (lat_now_us). */
void lat_report(uint64_t *lat, uint64_t done, uint64_t t0, uint64_t lost, uint64_t found);

#endif
