/* main.c: tapxfr-collect's lifecycle: setting up, running the loop,
 * stopping on a signal, -n or an error, and closing down. */
#include "config.h"

#include "collect/collect.h"
#include "log.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void on_closed_noop(uv_handle_t *h)
{
    /* Embedded in struct collector: the memory is released after the
     * loop has closed, nothing to do per handle. */
    (void)h;
}

void collect_stop(struct collector *col, int status)
{
    if (status > col->status)
        col->status = status;
    if (col->stopping)
        return;
    col->stopping = 1;
    for (int i = 0; i < col->n_signals; i++)
        uv_close((uv_handle_t *)&col->signals[i], on_closed_noop);
    col->n_signals = 0;
    if (col->flusher_open) {
        uv_close((uv_handle_t *)&col->flusher, on_closed_noop);
        col->flusher_open = 0;
    }
    for (int i = 0; i < col->n_listeners; i++)
        uv_close(&col->listeners[i].u.handle, on_closed_noop);
    col->n_listeners = 0;
    for (struct collect_conn *cn = col->conns; cn; cn = cn->next)
        collect_conn_close(cn);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct collector *col = h->data;

    log_debug("signal %d, stopping", signum);
    collect_stop(col, COLLECT_EXIT_OK);
}

static int listener_start(struct collector *col,
                          const struct collect_listen *s)
{
    struct collect_listener *l = &col->listeners[col->n_listeners];
    const struct sockaddr *sa = (const struct sockaddr *)&s->addr;
    const char *proto = s->proto == COLLECT_UDP ? "udp" : "tcp";
    struct sockaddr_storage bound;
    int bound_len = sizeof(bound);
    char text[NETADDR_STRLEN];
    int rc;

    l->proto = s->proto;
    l->col = col;
    if (s->proto == COLLECT_UDP)
        rc = uv_udp_init(&col->loop, &l->u.udp);
    else
        rc = uv_tcp_init(&col->loop, &l->u.tcp);
    if (rc < 0)
        goto fail;
    l->u.handle.data = l;
    col->n_listeners++;

    if (s->proto == COLLECT_UDP)
        rc = collect_udp_listen(l, sa);
    else
        rc = collect_tcp_listen(l, sa);
    if (rc == 0 && s->proto == COLLECT_UDP)
        rc = uv_udp_getsockname(&l->u.udp, (struct sockaddr *)&bound,
                                &bound_len);
    else if (rc == 0)
        rc = uv_tcp_getsockname(&l->u.tcp, (struct sockaddr *)&bound,
                                &bound_len);
    if (rc < 0)
        goto fail;
    /* Tests wait for this line to learn the port; stderr is unbuffered. */
    log_info("listening on %s %s", proto,
             netaddr_str((struct sockaddr *)&bound, text, sizeof(text)));
    return 0;

fail:
    log_errx("cannot listen on %s %s: %s", proto, s->text, uv_strerror(rc));
    return -1;
}

static char *make_banner(const char *text, size_t *len)
{
    size_t n = strlen(text);
    char *b = malloc(n + 3);

    if (!b)
        return NULL;
    memcpy(b, text, n);
    /* The sender reads the banner up to LF; without one it would wait
     * for the rest of the line forever. */
    if (n > 0 && text[n - 1] != '\n') {
        b[n++] = '\r';
        b[n++] = '\n';
    }
    b[n] = '\0';
    *len = n;
    return b;
}

/* Sets everything up and starts listening. On failure returns -1 with
 * whatever was opened already scheduled for closing: the caller still
 * runs the loop and calls collector_close(). */
static int collector_open(struct collector *col, const struct collect_opts *o)
{
    int rc;

    memset(col, 0, sizeof(*col));
    col->format = o->format;
    col->limit = o->count;
    col->out = stdout;
    if (o->output) {
        col->out = fopen(o->output, "a");
        if (!col->out) {
            log_warn("cannot open %s", o->output);
            col->out = stdout;
            goto fail;
        }
        col->out_is_file = 1;
    }
    setvbuf(col->out, NULL, _IOFBF, COLLECT_OUT_BUF);
    if (o->pcap && collect_pcap_open(col, o->pcap) < 0)
        goto fail;
    col->banner = make_banner(o->banner ? o->banner : COLLECT_DEFAULT_BANNER,
                              &col->banner_len);
    col->udp_buf = malloc(COLLECT_UDP_BUF);
    if (col->format == COLLECT_JSON)
        col->rdata = malloc(DNSPRINT_RDATA_MAX);
    if (!col->banner || !col->udp_buf ||
        (col->format == COLLECT_JSON && !col->rdata)) {
        log_errx("out of memory");
        goto fail;
    }

    rc = uv_loop_init(&col->loop);
    if (rc < 0) {
        log_errx("cannot create the event loop: %s", uv_strerror(rc));
        goto fail;
    }
    col->loop_open = 1;
    for (int i = 0; i < 2; i++) {
        uv_signal_t *sig = &col->signals[i];

        rc = uv_signal_init(&col->loop, sig);
        if (rc < 0)
            goto fail_uv;
        sig->data = col;
        col->n_signals++;
        rc = uv_signal_start(sig, on_signal, i == 0 ? SIGINT : SIGTERM);
        if (rc < 0)
            goto fail_uv;
    }
    rc = uv_check_init(&col->loop, &col->flusher);
    if (rc < 0)
        goto fail_uv;
    col->flusher.data = col;
    col->flusher_open = 1;
    rc = uv_check_start(&col->flusher, collect_on_flush);
    if (rc < 0)
        goto fail_uv;

    for (int i = 0; i < o->n_listen; i++)
        if (listener_start(col, &o->listen[i]) < 0)
            goto fail;
    col->started = 1;
    return 0;

fail_uv:
    log_errx("cannot set up the event loop: %s", uv_strerror(rc));
fail:
    collect_stop(col, COLLECT_EXIT_RUNTIME);
    return -1;
}

static void report_open_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    log_errx("handle still open: %s", uv_handle_type_name(h->type));
}

/* Called after uv_run() has returned: every handle is closed by then.
 * Returns the exit status. */
static int collector_close(struct collector *col)
{
    int status = col->status;

    if (col->loop_open) {
        int rc = uv_loop_close(&col->loop);

        if (rc != 0) {
            /* A handle left open is a bug here, not a runtime error of
             * the caller's; name it so that it can be found. */
            log_errx("event loop did not close: %s", uv_strerror(rc));
            uv_walk(&col->loop, report_open_handle, NULL);
            status = COLLECT_EXIT_RUNTIME;
        }
    }
    if (fflush(col->out) != 0 || ferror(col->out)) {
        log_warn("cannot write output");
        status = COLLECT_EXIT_RUNTIME;
    }
    if (col->out_is_file && fclose(col->out) != 0) {
        log_warn("cannot close output");
        status = COLLECT_EXIT_RUNTIME;
    }
    if (col->pcap) {
        int bad = ferror(col->pcap);

        if (fclose(col->pcap) != 0 || bad) {
            log_warn("cannot write the pcap file");
            status = COLLECT_EXIT_RUNTIME;
        }
    }
    if (col->started) {
        if (col->refused > 0)
            log_debug("%" PRIu64 " connections refused (limit %d)",
                      col->refused, COLLECT_MAX_CONNS);
        /* Before the summary: scripts read that as the last line. */
        if (col->pcap_too_long > 0)
            log_info("%" PRIu64 " messages too long for an IPv4 packet, "
                     "not in the pcap file", col->pcap_too_long);
        log_info("received %" PRIu64 " messages, %" PRIu64 " invalid",
                 col->received, col->invalid);
    }
    free(col->rdata);
    free(col->udp_buf);
    free(col->banner);
    return status;
}

int main(int argc, char **argv)
{
    static struct collect_opts o; /* large: listen addresses */
    static struct collector col;
    int rc;

    rc = collect_parse_args(argc, argv, &o);
    if (rc != 0) {
        if (fflush(stdout) != 0)
            return COLLECT_EXIT_RUNTIME;
        return rc > 0 ? COLLECT_EXIT_OK : COLLECT_EXIT_USAGE;
    }
    log_init(COLLECT_PROG, 0, o.verbose, 0);
    /* A collector whose TCP peer vanished must see EPIPE, not die. */
    signal(SIGPIPE, SIG_IGN);

    collector_open(&col, &o);
    if (col.loop_open)
        uv_run(&col.loop, UV_RUN_DEFAULT);
    rc = collector_close(&col);
    log_close();
    return rc;
}
