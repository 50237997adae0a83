/* log.h: the daemon's logging, to stderr or syslog (LOG_DAEMON).
 *
 * log_warn() appends strerror(errno), log_warnx() does not (OpenSMTPD's
 * convention). Debug lines are emitted only after log_init(..., verbose). */
#ifndef TAPXFR_LOG_H
#define TAPXFR_LOG_H

#include <stdarg.h>

/* prog prefixes every stderr line ("prog: message"). With use_syslog the
 * lines go to syslog(3) with LOG_PID under LOG_DAEMON instead. */
void log_init(const char *prog, int use_syslog, int verbose);
void log_close(void);
int log_verbose(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
