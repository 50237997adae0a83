/* tapxfr: forward DNS responses from pcap (and dnstap) to DNSXFR01
 * collectors. main() parses the command line, opens every input and the
 * output stage on one libuv loop, runs it, and tears down in order:
 * inputs stop, the queues flush (with a deadline on signals), every handle
 * closes, and the loop must close cleanly. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "cli.h"
#include "input/dtfile.h"
#include "input/dtsock.h"
#include "input/pcapin.h"
#include "log.h"
#include "output/kinds.h"
#include "output/outputs.h"
#include "priv.h"
#include "stage/stage.h"
#include "stats/line.h"
#include "stats/prom.h"
#include "testmode.h"

struct app {
    uv_loop_t loop;
    struct cli cli;
    struct stage stage;
    struct outputs outputs;
    struct pcapin *inputs;
    int n_inputs;
    struct dtsock *dtsocks;
    int n_dtsocks;
    struct dtfile *dtfiles;
    int n_dtfiles;
    int files_left; /* file inputs not yet at end of file */
    int live_inputs; /* interfaces and dnstap listeners: run until a signal */
    uv_signal_t sig_term, sig_int, sig_usr1, sig_hup;
    uv_timer_t stats_timer;
    struct testmode test;
    int stopping;
    int open_handles;
    int exit_code;
};

/* What a report covers; the arrays live in *buf for the call. */
struct view_buf {
    const struct stats_out *colls[OUTPUTS_MAX];
    const char *coll_names[OUTPUTS_MAX];
    const struct stats_in *inputs[2 * CLI_MAX_INPUTS];
    const char *input_names[2 * CLI_MAX_INPUTS];
};

static void make_view(struct app *a, struct stats_view *v, struct view_buf *b)
{
    size_t n = 0;

    for (int i = 0; i < a->n_inputs; i++)
        pcapin_update_stats(&a->inputs[i]);
    stage_update_stats(&a->stage);
    memset(&a->stage.stats.frag, 0, sizeof(a->stage.stats.frag));
    memset(&a->stage.stats.stream, 0, sizeof(a->stage.stats.stream));
    for (int i = 0; i < a->n_inputs; i++)
        pcapin_add_stats(&a->inputs[i], &a->stage.stats);
    for (int i = 0; i < a->outputs.n; i++) {
        b->colls[i] = outputs_stats(&a->outputs, i);
        b->coll_names[i] = outputs_name(&a->outputs, i);
    }
    for (int i = 0; i < a->n_dtsocks; i++, n++) {
        b->inputs[n] = &a->dtsocks[i].in.st;
        b->input_names[n] = a->dtsocks[i].in.name;
    }
    for (int i = 0; i < a->n_dtfiles; i++, n++) {
        b->inputs[n] = &a->dtfiles[i].in.st;
        b->input_names[n] = a->dtfiles[i].in.name;
    }
    v->g = &a->stage.stats;
    v->colls = b->colls;
    v->coll_names = b->coll_names;
    v->n_colls = (size_t)a->outputs.n;
    v->inputs = b->inputs;
    v->input_names = b->input_names;
    v->n_inputs = n;
}

static void log_stats(struct app *a, const char *what)
{
    struct stats_view v;
    struct view_buf b;
    char line[4096];

    make_view(a, &v, &b);
    stats_line_global(line, sizeof(line), &v);
    log_info("%s: %s", what, line);
    for (size_t i = 0; i < v.n_inputs; i++) {
        stats_line_input(line, sizeof(line), v.inputs[i]);
        log_info("%s: %s: %s", what, v.input_names[i], line);
    }
    for (size_t i = 0; v.n_colls > 1 && i < v.n_colls; i++) {
        stats_line_coll(line, sizeof(line), v.colls[i]);
        log_info("%s: %s: %s", what, v.coll_names[i], line);
    }
}

static void write_metrics(struct app *a)
{
    struct stats_view v;
    struct view_buf b;
    int rc;

    if (!a->cli.stats_file)
        return;
    make_view(a, &v, &b);
    rc = stats_prom_write(a->cli.stats_file, &v);
    if (rc < 0)
        log_warnx("cannot write %s: %s", a->cli.stats_file, strerror(-rc));
}

static void release(struct app *a)
{
    a->open_handles--;
}

static void on_handle_closed(uv_handle_t *h)
{
    release(h->data);
}

static void on_outputs_closed(struct outputs *o)
{
    struct app *a = o->data;

    release(a);
}

static void close_all(struct app *a)
{
    log_stats(a, "stats");
    write_metrics(a);
    uv_close((uv_handle_t *)&a->sig_term, on_handle_closed);
    uv_close((uv_handle_t *)&a->sig_int, on_handle_closed);
    uv_close((uv_handle_t *)&a->sig_usr1, on_handle_closed);
    uv_close((uv_handle_t *)&a->sig_hup, on_handle_closed);
    uv_close((uv_handle_t *)&a->stats_timer, on_handle_closed);
    outputs_close(&a->outputs, on_outputs_closed);
}

static void on_flushed(struct outputs *o)
{
    close_all(o->data);
}

static void on_input_closed(struct pcapin *in)
{
    release(in->data);
}

static void on_dtsock_closed(struct dtsock *s)
{
    release(s->data);
}

static void on_dtfile_closed(struct dtfile *f)
{
    release(f->data);
}

/* Stops reading and flushes: with a deadline when a signal asked for it,
 * without one when the inputs simply ended (every record is delivered). */
static void app_stop(struct app *a, int deadline)
{
    uint64_t ms = deadline ? (uint64_t)a->cli.flush_secs * 1000 : 0;

    if (deadline && ms == 0)
        ms = 1; /* --flush-timeout 0: drop what is queued, now */
    if (!a->stopping) {
        a->stopping = 1;
        for (int i = 0; i < a->n_inputs; i++)
            pcapin_close(&a->inputs[i], on_input_closed);
        for (int i = 0; i < a->n_dtsocks; i++)
            dtsock_close(&a->dtsocks[i], on_dtsock_closed);
        for (int i = 0; i < a->n_dtfiles; i++)
            dtfile_close(&a->dtfiles[i], on_dtfile_closed);
    }
    outputs_flush(&a->outputs, ms, on_flushed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct app *a = h->data;

    if (signum == SIGUSR1) {
        log_stats(a, "stats");
        return;
    }
    if (signum == SIGHUP) {
        /* The statistics file is rewritten whole each time, so "reopen"
         * means: write it now, wherever the path points today. A dnstap
         * socket file that was removed is made again. */
        write_metrics(a);
        for (int i = 0; i < a->n_dtsocks; i++)
            dtsock_check(&a->dtsocks[i]);
        log_notice("SIGHUP: statistics file rewritten, dnstap sockets checked");
        return;
    }
    log_notice("%s received; flushing and exiting", strsignal(signum));
    app_stop(a, 1);
}

static void on_stats_timer(uv_timer_t *t)
{
    struct app *a = t->data;

    if (a->cli.stats_file)
        write_metrics(a);
    else
        log_stats(a, "stats");
}

static void file_done(struct app *a)
{
    if (--a->files_left > 0 || a->live_inputs > 0)
        return;
    app_stop(a, 0);
}

static void on_file_done(struct pcapin *in)
{
    file_done(in->data);
}

static void on_dtfile_done(struct dtfile *f)
{
    file_done(f->data);
}

static void on_room(void *arg)
{
    struct app *a = arg;

    for (int i = 0; i < a->n_inputs; i++)
        pcapin_resume(&a->inputs[i]);
    for (int i = 0; i < a->n_dtfiles; i++)
        dtfile_resume(&a->dtfiles[i]);
    for (int i = 0; i < a->n_dtsocks; i++)
        dtsock_resume(&a->dtsocks[i]);
}

static int open_dnstap(struct app *a)
{
    char err[1024];
    int n = a->cli.n_dt_sockets + a->cli.n_dt_listens;

    a->dtsocks = calloc((size_t)(n ? n : 1), sizeof(*a->dtsocks));
    a->dtfiles = calloc((size_t)(a->cli.n_dt_files ? a->cli.n_dt_files : 1),
                        sizeof(*a->dtfiles));
    if (!a->dtsocks || !a->dtfiles)
        return -1;
    for (int i = 0; i < n; i++) {
        struct dtsock_opts o = {
            .path = i < a->cli.n_dt_sockets ? a->cli.dt_sockets[i] : NULL,
            .listen = i < a->cli.n_dt_sockets ? NULL : a->cli.dt_listens[i - a->cli.n_dt_sockets],
            .mode = a->cli.dt_mode,
            .gid = a->cli.dt_gid,
            .max_frame = a->cli.dt_max_frame,
            .handshake_ms = a->cli.dt_timeout_ms,
            .types = a->cli.dt_types,
        };
        struct dtsock *s = &a->dtsocks[a->n_dtsocks];

        if (dtsock_init(s, &a->loop, &a->stage, &o, err, sizeof(err)) < 0) {
            fprintf(stderr, "tapxfr: %s\n", err);
            return -1;
        }
        s->data = a;
        a->n_dtsocks++;
        a->open_handles++;
        a->live_inputs++;
    }
    for (int i = 0; i < a->cli.n_dt_files; i++) {
        struct dtfile *f = &a->dtfiles[a->n_dtfiles];

        if (dtfile_init(f, &a->loop, &a->stage, a->cli.dt_files[i],
                        a->cli.dt_max_frame, a->cli.dt_types, err, sizeof(err)) < 0) {
            fprintf(stderr, "tapxfr: %s\n", err);
            return -1;
        }
        f->data = a;
        f->on_done = on_dtfile_done;
        a->n_dtfiles++;
        a->open_handles++;
        a->files_left++;
    }
    return 0;
}

/* The reassembly tables' bounds, from the command line. */
static void wire_conf(const struct cli *c, struct wire_conf *w)
{
    memset(w, 0, sizeof(*w));
    w->frag.max_datagrams = c->frag_datagrams;
    w->frag.max_bytes = c->frag_bytes;
    w->frag.timeout_ns = (uint64_t)c->frag_secs * 1000000000u;
    w->stream.max_flows = c->stream_flows;
    w->stream.max_flow_bytes = c->stream_flow_bytes;
    w->stream.max_bytes = c->stream_bytes;
    w->stream.idle_ns = (uint64_t)c->stream_secs * 1000000000u;
}

static int open_inputs(struct app *a)
{
    struct wire_conf reasm;
    char err[PCAP_ERRBUF_SIZE + 512];
    int n = a->cli.n_files + a->cli.n_ifaces;

    a->inputs = calloc((size_t)(n ? n : 1), sizeof(*a->inputs));
    if (!a->inputs)
        return -1;
    wire_conf(&a->cli, &reasm);
    for (int i = 0; i < n; i++) {
        int is_file = i < a->cli.n_files;
        const char *name = is_file ? a->cli.files[i] : a->cli.ifaces[i - a->cli.n_files];
        struct pcapin *in = &a->inputs[a->n_inputs];

        if (pcapin_init(in, &a->loop, &a->stage, a->cli.reassembly ? &reasm : NULL, name,
                        is_file, a->cli.filter,
                        a->cli.pcap_buffer, err, sizeof(err)) < 0) {
            fprintf(stderr, "tapxfr: %s\n", err);
            return -1;
        }
        in->data = a;
        in->on_done = on_file_done;
        a->n_inputs++;
        a->open_handles++;
        a->files_left += is_file;
        a->live_inputs += !is_file;
    }
    return open_dnstap(a);
}

static void init_handles(struct app *a)
{
    uv_signal_init(&a->loop, &a->sig_term);
    uv_signal_init(&a->loop, &a->sig_int);
    uv_signal_init(&a->loop, &a->sig_usr1);
    uv_signal_init(&a->loop, &a->sig_hup);
    uv_timer_init(&a->loop, &a->stats_timer);
    a->sig_term.data = a->sig_int.data = a->sig_usr1.data = a->sig_hup.data = a;
    a->stats_timer.data = a;
    a->open_handles += 5 + 1; /* + the output stage */
    uv_signal_start(&a->sig_term, on_signal, SIGTERM);
    uv_signal_start(&a->sig_int, on_signal, SIGINT);
    uv_signal_start(&a->sig_usr1, on_signal, SIGUSR1);
    uv_signal_start(&a->sig_hup, on_signal, SIGHUP);
    if (a->cli.stats_secs)
        uv_timer_start(&a->stats_timer, on_stats_timer, a->cli.stats_secs * 1000ull,
                       a->cli.stats_secs * 1000ull);
}

/* Detaches from the terminal for sysvinit-style starts. Inputs are open
 * already, so their errors reached the terminal. The parent waits on a
 * pipe until the child says it is set up (pidfile written, privileges
 * dropped), so an init script that reads the pidfile right after the
 * parent exits finds it. The loop is told about the fork so its epoll set
 * is rebuilt in the child. Returns the pipe end to signal on, or < 0. */
static int detach(struct app *a)
{
    int ready[2], fd;
    pid_t pid;
    char c;

    if (pipe(ready) < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0) {
        close(ready[1]);
        _exit(read(ready[0], &c, 1) == 1 ? 0 : 1);
    }
    close(ready[0]);
    if (setsid() < 0)
        return -errno;
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        if (a->cli.use_syslog)
            dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    if (chdir("/") < 0)
        return -errno;
    fd = uv_loop_fork(&a->loop);
    return fd < 0 ? fd : ready[1];
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -errno;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f) == 0 ? 0 : -errno;
}

/* The stage and the collectors: the positional and --collector ones, or
 * under -T the built-in test collector. Returns 0 or an exit status. */
static int open_outputs(struct app *a)
{
    struct stage_conf sconf = {
        .filter = {
            .auth_only = a->cli.auth_only,
            .drop_no_answer = a->cli.drop_no_answer,
            .max_size = a->cli.max_size,
        },
        .bailiwick = (enum stage_bailiwick)a->cli.bailiwick,
        .match = (enum stage_match)a->cli.match,
        .match_conf = {
            .max_entries = a->cli.match_table,
            .timeout_ns = (uint64_t)a->cli.match_secs * 1000000000u,
            .max_query_bytes = 0,
        },
    };
    struct coll_conf conf = {
        .bind_addr = a->cli.bind ? &a->cli.bind_addr : NULL,
        .bind_len = a->cli.bind_len,
        .queue_bytes = a->cli.queue_bytes,
        .queue_msgs = a->cli.queue_msgs,
        .banner_ms = a->cli.banner_secs * 1000u,
    };
    int rc = 0;

    outputs_init(&a->outputs, &a->loop, &conf, a->cli.max_size);
    a->outputs.on_room = on_room;
    a->outputs.on_room_arg = a;
    a->outputs.data = a;
    if (stage_init(&a->stage, &sconf, &a->outputs) < 0) {
        log_errx("out of memory");
        return 1;
    }
    if (a->cli.test_mode) {
        rc = testmode_init(&a->test, coll_kind(a->cli.legacy_scheme)->socktype);
        if (rc < 0) {
            log_errx("cannot open the test collector: %s", uv_strerror(rc));
            return 1;
        }
        rc = outputs_add(&a->outputs, a->cli.legacy_scheme, "127.0.0.1", a->test.port);
    } else {
        a->test.fd = a->test.stop[0] = a->test.stop[1] = -1;
        for (int i = 0; i < a->cli.n_colls && rc == 0; i++)
            rc = outputs_add(&a->outputs, a->cli.colls[i].scheme, a->cli.colls[i].host,
                             a->cli.colls[i].port);
    }
    if (rc < 0) {
        log_errx("cannot set up the collector: %s", uv_strerror(rc));
        return 1;
    }
    return 0;
}

/* Detaching, the pidfile and the privilege drop, in that order, before
 * any thread exists. Returns 0 or an exit status. */
static int settle_process(struct app *a, struct priv *priv)
{
    char err[512];
    int rc, ready = -1;

    if (a->cli.detach && (ready = detach(a)) < 0) {
        log_errx("cannot detach: %s", uv_strerror(ready));
        return 1;
    }
    if (a->cli.pidfile && (rc = write_pidfile(a->cli.pidfile)) < 0) {
        log_errx("cannot write %s: %s", a->cli.pidfile, strerror(-rc));
        return 1;
    }
    if (a->cli.user) {
        /* Everything privileged is open: devices, listening sockets and
         * files. This comes before outputs_start() because capabilities
         * and no_new_privs belong to each thread: no thread (libuv's
         * resolver pool, the UDP senders) may exist yet. Reopening a
         * failed capture device is the one privileged act left. */
        if (priv_drop(priv, a->cli.n_ifaces > 0, err, sizeof(err)) < 0) {
            log_errx("%s", err);
            return 1;
        }
        log_info("running as user %s", a->cli.user);
    } else if (geteuid() == 0 && !a->cli.test_mode) {
        log_warnx("running as root; use -u USER to drop privileges after startup");
    }
    if (ready >= 0) {
        if (write(ready, "r", 1) != 1)
            log_warn("cannot tell the parent process that startup is done");
        close(ready);
    }
    return 0;
}

static void run(struct app *a)
{
    init_handles(a);
    outputs_start(&a->outputs);
    if (a->cli.test_mode) {
        testmode_run(&a->test, &a->stage);
        app_stop(a, 0);
    } else {
        for (int i = 0; i < a->n_inputs; i++)
            pcapin_start(&a->inputs[i]);
        for (int i = 0; i < a->n_dtfiles; i++)
            dtfile_start(&a->dtfiles[i]);
    }
    uv_run(&a->loop, UV_RUN_DEFAULT);
    if (a->cli.test_mode)
        testmode_report(&a->test);
}

static int finish(struct app *a)
{
    int rc;

    testmode_close(&a->test);
    outputs_free(&a->outputs);
    stage_close(&a->stage);
    for (int i = 0; i < a->n_inputs; i++)
        pcapin_free(&a->inputs[i]);
    free(a->inputs);
    free(a->dtsocks);
    free(a->dtfiles);
    if (a->cli.pidfile)
        unlink(a->cli.pidfile); /* may fail after dropping privileges */
    rc = uv_loop_close(&a->loop);
    if (rc != 0 || a->open_handles != 0) {
        log_errx("internal error: %d handles left open at exit (%s)", a->open_handles,
                 rc ? uv_strerror(rc) : "ok");
        a->exit_code = 1;
    }
    log_close();
    cli_close(&a->cli);
    return a->exit_code;
}

int main(int argc, char **argv)
{
    static struct app app;
    struct app *a = &app;
    struct priv priv;
    char err[512];
    int rc;

    switch (cli_parse(&a->cli, argc, argv)) {
    case CLI_EXIT_OK: return 0;
    case CLI_EXIT_USAGE: return 2;
    case CLI_RUN: break;
    }
    /* -T always explains its verdicts, as the 2004 program did; -v on top
     * of it, or -v alone, shows everything. */
    log_init("tapxfr", a->cli.use_syslog,
             a->cli.verbose ? 2 : a->cli.test_mode ? 1 : 0,
             a->cli.test_mode && !a->cli.verbose);
    if (a->cli.user && priv_lookup(&priv, a->cli.user, a->cli.group, err, sizeof(err)) < 0) {
        fprintf(stderr, "tapxfr: %s\n", err);
        return 2;
    }
    /* A collector that vanishes must cost an error code, not the process. */
    signal(SIGPIPE, SIG_IGN);

    if (uv_loop_init(&a->loop) < 0) {
        log_errx("cannot initialize the event loop");
        return 1;
    }
    if ((rc = open_outputs(a)) != 0)
        return rc;
    if (!a->cli.test_mode && open_inputs(a) < 0)
        return 2;
    if ((rc = settle_process(a, &priv)) != 0)
        return rc;
    run(a);
    return finish(a);
}
