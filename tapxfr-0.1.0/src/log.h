/* log.h: the daemon's logging, to stderr or syslog (LOG_DAEMON).
 *
 * log_warn() appends strerror(errno), log_warnx() does not (OpenSMTPD's
 * convention). Debug lines are emitted only after log_init(..., verbose). */
#ifndef TAPXFR_LOG_H
#define TAPXFR_LOG_H

#include <stdarg.h>

/* prog prefixes every stderr line ("prog: message"). With use_syslog the
 * lines go to syslog(3) with LOG_PID under LOG_DAEMON instead. verbose: 0
 * shows info and above, 1 adds debug lines, 2 adds trace lines (state
 * changes). quiet hides info and notice lines (test mode prints only what
 * the 2004 program printed). */
void log_init(const char *prog, int use_syslog, int verbose, int quiet);
void log_close(void);
int log_verbose(void);

void log_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
