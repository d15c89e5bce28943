/*
 * lat.c: the load generators' clock and result line (see lat.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lat.h"

uint64_t lat_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void lat_report(uint64_t *lat, uint64_t done, uint64_t t0, uint64_t lost, uint64_t found)
{
	double secs = (double)(lat_now_us() - t0) / 1e6;

	if (!done) {
		printf("lookups=0 seconds=%.2f lost=%llu found=0\n", secs,
		       (unsigned long long)lost);
		return;
	}
	qsort(lat, done, sizeof(*lat), cmp_u64);
	printf("lookups=%llu seconds=%.2f rate=%.0f/s p50=%.3fms p99=%.3fms max=%.3fms lost=%llu "
	       "found=%llu\n",
	       (unsigned long long)done, secs, done / secs, lat[done / 2] / 1000.0,
	       lat[done * 99 / 100] / 1000.0, lat[done - 1] / 1000.0, (unsigned long long)lost,
	       (unsigned long long)found);
}
