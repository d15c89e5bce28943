/*
 * log.h: the daemon's log, one line per event on standard error (systemd's
 * journal adds its own time stamps; run by hand, each line has its own).
 * Safe from any thread: each line is written with one call.
 */
#ifndef SS_DAEMON_LOG_H
#define SS_DAEMON_LOG_H

enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Lines above this level are not written (default LOG_INFO). */
void log_set_level(int level);

/* Returns whether lines of `level` are written. */
int log_enabled(int level);

/* Writes "2026-11-22T10:00:00.123 spamsiftd[pid] level: text". */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
