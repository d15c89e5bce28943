/*
 * log.c: the daemon's log lines (see log.h).
 */
#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int max_level = LOG_INFO;

void log_set_level(int level)
{
	max_level = level;
}

int log_enabled(int level)
{
	return level <= max_level;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char line[2048], stamp[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03d spamsiftd[%d] %s: ", stamp,
	             (int)(tv.tv_usec / 1000), (int)getpid(), names[level & 3]);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
