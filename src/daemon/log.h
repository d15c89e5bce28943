/*
 * log.h: the daemon's log, one line per event, on standard error (systemd's
 * journal adds its own time stamps; run by hand, each line has its own) or
 * to syslog (facility mail, ident spamsiftd, the level as its priority).
 * Safe from any thread: each line is written with one call, and the
 * destination and level may change while other threads log (reload).
 */
#ifndef SS_DAEMON_LOG_H
#define SS_DAEMON_LOG_H

enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Lines above this level are not written (default LOG_INFO). */
void log_set_level(int level);

/* Sends the lines to syslog (1) or standard error (0, the default). */
void log_set_syslog(int on);

/* Returns whether lines of `level` are written. */
int log_enabled(int level);

/* Writes "2026-11-22T10:00:00.123 spamsiftd[pid] level: text" on standard
 * error, or "level: text" to syslog. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
