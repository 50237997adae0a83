#include "config.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

static const char *log_prog = PACKAGE;
static int log_syslog;
static int log_debug_on;
static int log_quiet;

void log_init(const char *prog, int use_syslog, int verbose, int quiet)
{
    log_prog = prog;
    log_syslog = use_syslog;
    log_debug_on = verbose;
    log_quiet = quiet;
    if (use_syslog)
        openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_close(void)
{
    if (log_syslog)
        closelog();
    log_syslog = 0;
}

int log_verbose(void)
{
    return log_debug_on;
}

static void vlog(int pri, const char *tag, const char *fmt, va_list ap,
                 const char *err)
{
    char line[4096]; /* the stats line: about 1.5 KiB */

    vsnprintf(line, sizeof(line), fmt, ap);
    if (log_syslog) {
        if (err)
            syslog(pri, "%s: %s", line, err);
        else
            syslog(pri, "%s", line);
        return;
    }
    /* One fprintf per line so lines from one process never interleave. */
    fprintf(stderr, "%s: %s%s%s%s\n", log_prog, tag, line, err ? ": " : "",
            err ? err : "");
}

#define LOG_BODY(pri, tag, err)                                            \
    do {                                                                   \
        va_list ap;                                                        \
        va_start(ap, fmt);                                                 \
        vlog(pri, tag, fmt, ap, err);                                      \
        va_end(ap);                                                        \
    } while (0)

void log_trace(const char *fmt, ...)
{
    if (log_debug_on > 1)
        LOG_BODY(LOG_DEBUG, "debug: ", NULL);
}

void log_debug(const char *fmt, ...)
{
    if (log_debug_on)
        LOG_BODY(LOG_DEBUG, "debug: ", NULL);
}

void log_info(const char *fmt, ...)
{
    if (!log_quiet)
        LOG_BODY(LOG_INFO, "", NULL);
}

void log_notice(const char *fmt, ...)
{
    if (!log_quiet)
        LOG_BODY(LOG_NOTICE, "", NULL);
}

void log_warnx(const char *fmt, ...)
{
    LOG_BODY(LOG_WARNING, "warning: ", NULL);
}

void log_warn(const char *fmt, ...)
{
    const char *err = strerror(errno);
    LOG_BODY(LOG_WARNING, "warning: ", err);
}

void log_errx(const char *fmt, ...)
{
    LOG_BODY(LOG_ERR, "error: ", NULL);
}
