/* rssrun: run a command and report its peak RSS and CPU time (benchmark
 * helper, not installed).
 *
 *   rssrun OUTFILE COMMAND [ARGS...]
 *
 * Why not measure from Python: Linux keeps a process's peak RSS across
 * exec(), so a child forked (or vforked) from the Python harness starts
 * with the interpreter's ~20 MiB as its peak. Forked from this small
 * program instead, the child's ru_maxrss is its own.
 *
 * SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGUSR2 are forwarded to the child.
 * When the child ends, one line "maxrss_kb=N utime=S stime=S status=N" is
 * written to OUTFILE (status: exit code, or 128 + signal number) and rssrun
 * exits with that status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

int main(int argc, char **argv)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
    struct sigaction sa;
    struct rusage ru;
    int status, code;
    pid_t pid;
    FILE *out;

    if (argc < 3) {
        fprintf(stderr, "usage: rssrun OUTFILE COMMAND [ARGS...]\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    pid = fork();
    if (pid < 0) {
        perror("rssrun: fork");
        return 127;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL); /* handlers are reset by exec anyway */
        execvp(argv[2], argv + 2);
        fprintf(stderr, "rssrun: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    child = pid;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) {
            perror("rssrun: wait4");
            return 127;
        }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!(out = fopen(argv[1], "w"))) {
        perror(argv[1]);
        return 127;
    }
    fprintf(out, "maxrss_kb=%ld utime=%ld.%06ld stime=%ld.%06ld status=%d\n", ru.ru_maxrss,
            (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec,
            (long)ru.ru_stime.tv_usec, code);
    fclose(out);
    return code;
}
