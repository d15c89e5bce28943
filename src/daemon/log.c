/*
 * log.c: the daemon's log lines (see log.h).
 */
#include <syslog.h>

/* syslog.h's priorities, before log.h takes two of their names. */
enum {
	SYS_ERR = LOG_ERR,
	SYS_WARNING = LOG_WARNING,
	SYS_INFO = LOG_INFO,
	SYS_DEBUG = LOG_DEBUG,
};
#undef LOG_INFO
#undef LOG_DEBUG

#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int max_level = LOG_INFO;
static int to_syslog;

void log_set_level(int level)
{
	__atomic_store_n(&max_level, level, __ATOMIC_RELAXED);
}

void log_set_syslog(int on)
{
	static int opened;

	if (on && !opened) {
		openlog("spamsiftd", LOG_PID | LOG_NDELAY, LOG_MAIL);
		opened = 1;
	}
	__atomic_store_n(&to_syslog, on, __ATOMIC_RELEASE);
}

int log_enabled(int level)
{
	return level <= __atomic_load_n(&max_level, __ATOMIC_RELAXED);
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {SYS_ERR, SYS_WARNING, SYS_INFO, SYS_DEBUG};
	char line[2048], stamp[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	if (__atomic_load_n(&to_syslog, __ATOMIC_ACQUIRE)) {
		n = snprintf(line, sizeof(line), "%s: ", names[level & 3]);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
		syslog(prio[level & 3], "%s", line);
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03d spamsiftd[%d] %s: ", stamp,
	             (int)(tv.tv_usec / 1000), (int)getpid(), names[level & 3]);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
