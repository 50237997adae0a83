#include "config.h"

#include "output/out.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/dnsxfr.h"
#include "log.h"
#include "output/sender.h"
#include "output/transport.h"

static const char *const state_names[] = {
    "resolve", "connect", "banner", "ready", "backoff", "closed",
};

void out_release(struct out *o)
{
    if (--o->open_handles == 0 && o->on_closed)
        o->on_closed(o);
}

static void on_handle_closed(uv_handle_t *h)
{
    out_release(h->data);
}

/* ------------------------------------------------------------ collector */

void coll_set_state(struct out_coll *c, enum coll_state s)
{
    if (c->state != s)
        log_trace("%s: %s -> %s", c->name, state_names[c->state], state_names[s]);
    c->state = s;
}

static void on_sock_closed(uv_handle_t *h)
{
    struct coll_sock *s = h->data;
    struct out *o = s->coll->out;

    close(s->fd);
    free(s);
    out_release(o);
}

static void drop_sock(struct out_coll *c)
{
    if (!c->sock)
        return;
    if (c->snd)
        out_udp_stop(c); /* before its socket goes */
    c->sock->poll.data = c->sock;
    uv_close((uv_handle_t *)&c->sock->poll, on_sock_closed);
    c->sock = NULL;
    c->partial = 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct coll_sock *s = h->data;
    struct out_coll *c = s->coll;

    /* Only TCP sockets are polled: UDP sends on its own thread. */
    out_tcp_event(c, status, events);
}

void coll_poll(struct out_coll *c, int events)
{
    struct coll_sock *s = c->sock;

    if (!s || s->events == events)
        return;
    s->events = events;
    if (events)
        uv_poll_start(&s->poll, events, on_poll);
    else
        uv_poll_stop(&s->poll);
}

int coll_socket(struct out_coll *c, int type)
{
    const struct cli *cli = c->out->cli;
    struct coll_sock *s;
    int fd, rc, size = COLL_SNDBUF;

    fd = socket(c->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (type == SOCK_DGRAM)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    if (cli->bind && cli->bind_addr.ss_family == c->addr.ss_family &&
        bind(fd, (const struct sockaddr *)&cli->bind_addr, cli->bind_len) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (connect(fd, (const struct sockaddr *)&c->addr, c->addr_len) < 0 &&
        errno != EINPROGRESS) {
        rc = -errno;
        close(fd);
        return rc;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    rc = uv_poll_init_socket(c->out->loop, &s->poll, fd);
    if (rc < 0) {
        free(s);
        close(fd);
        return rc;
    }
    s->fd = fd;
    s->coll = c;
    s->poll.data = s;
    c->sock = s;
    c->out->open_handles++;
    return 0;
}

static void on_timer(uv_timer_t *t);
static void start_resolve(struct out_coll *c);

void coll_fail(struct out_coll *c, const char *why, int err)
{
    if (c->state == COLL_READY) {
        c->st.disconnects++;
        log_warnx("%s: connection lost: %s%s%s", c->name, why, err ? ": " : "",
                  err ? uv_strerror(err) : "");
    } else if (c->failures == 0) {
        log_warnx("%s: %s%s%s (retrying)", c->name, why, err ? ": " : "",
                  err ? uv_strerror(err) : "");
    } else {
        log_debug("%s: %s%s%s", c->name, why, err ? ": " : "",
                  err ? uv_strerror(err) : "");
    }
    c->failures++;
    drop_sock(c);
    if (c->out->closing) {
        coll_set_state(c, COLL_CLOSED);
        return;
    }
    coll_set_state(c, COLL_BACKOFF);
    uv_timer_start(&c->timer, on_timer, c->backoff_ms, 0);
    c->backoff_ms *= 2;
    if (c->backoff_ms > COLL_BACKOFF_MAX_MS)
        c->backoff_ms = COLL_BACKOFF_MAX_MS;
}

static void try_space(struct out *o);
static void check_flushed(struct out *o);

void coll_sent(struct out_coll *c, size_t bytes, size_t n)
{
    queue_consume(&c->q, bytes, n);
    c->st.forwarded += n;
    c->st.forwarded_bytes += bytes - 2 * n;
    if (c->failures) {
        /* Progress on a connection: the next failure is news again. */
        c->failures = 0;
        c->backoff_ms = COLL_BACKOFF_MIN_MS;
    }
}

void coll_dropped(struct out_coll *c, size_t bytes, size_t n, enum stats_drop why)
{
    queue_consume(&c->q, bytes, n);
    c->st.drop[why] += n;
}

void coll_progress(struct out_coll *c)
{
    try_space(c->out);
    check_flushed(c->out);
}

static void connect_now(struct out_coll *c)
{
    int rc;

    coll_set_state(c, COLL_CONNECT);
    rc = c->proto == CLI_TCP ? out_tcp_connect(c) : out_udp_connect(c);
    if (rc < 0)
        coll_fail(c, "cannot connect", rc);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct out_coll *c = req->data;
    struct out *o = c->out;

    c->gai_busy = 0;
    if (status == 0 && !o->closing) {
        memcpy(&c->addr, res->ai_addr, res->ai_addrlen);
        c->addr_len = res->ai_addrlen;
    }
    uv_freeaddrinfo(res);
    out_release(o);
    if (o->closing)
        return;
    if (status < 0)
        coll_fail(c, "cannot resolve collector", status);
    else
        connect_now(c);
}

static void start_resolve(struct out_coll *c)
{
    struct addrinfo hints;
    int rc, port = netaddr_port(c->port);

    coll_set_state(c, COLL_RESOLVE);
    /* A numeric address needs no resolver round trip. */
    if (netaddr_parse(c->host, port, &c->addr, &c->addr_len) == 0) {
        connect_now(c);
        return;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = c->proto == CLI_TCP ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    c->gai.data = c;
    rc = uv_getaddrinfo(c->out->loop, &c->gai, on_resolved, c->host, c->port, &hints);
    if (rc < 0) {
        coll_fail(c, "cannot resolve collector", rc);
        return;
    }
    c->gai_busy = 1;
    c->out->open_handles++;
}

static void on_timer(uv_timer_t *t)
{
    struct out_coll *c = t->data;

    if (c->state == COLL_BACKOFF)
        start_resolve(c);
    else if (c->proto == CLI_TCP)
        out_tcp_timeout(c);
}

void coll_arm_timer(struct out_coll *c, uint64_t ms)
{
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void coll_flush(struct out_coll *c)
{
    if (c->state != COLL_READY || c->q.count == 0)
        return;
    if (c->proto == CLI_TCP)
        out_tcp_flush(c);
    else
        out_udp_flush(c);
}

/* ------------------------------------------------------------ stage */

static void on_prepare(uv_prepare_t *h)
{
    struct out *o = h->data;

    for (int i = 0; i < o->n_colls; i++) {
        if (o->colls[i]->proto == CLI_UDP)
            out_udp_poll(o->colls[i]);
        else
            coll_flush(o->colls[i]);
    }
}

int out_init(struct out *o, uv_loop_t *loop, const struct cli *cli, struct stats *stats)
{
    memset(o, 0, sizeof(*o));
    o->loop = loop;
    o->cli = cli;
    o->stats = stats;
    o->filter.auth_only = cli->auth_only;
    o->filter.drop_no_answer = cli->drop_no_answer;
    o->filter.max_size = cli->max_size;
    uv_prepare_init(loop, &o->prepare);
    o->prepare.data = o;
    uv_timer_init(loop, &o->deadline);
    o->deadline.data = o;
    o->open_handles = 2;
    return 0;
}

int out_add(struct out *o, enum cli_proto proto, const char *host, const char *port)
{
    struct out_coll *c;
    int rc;

    if (o->n_colls == OUT_MAX_COLLECTORS)
        return -ENOSPC;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    rc = queue_init(&c->q, o->cli->queue_bytes, o->cli->queue_msgs);
    if (rc < 0) {
        free(c);
        return rc;
    }
    c->out = o;
    c->proto = proto;
    c->host = host;
    c->port = port;
    c->backoff_ms = COLL_BACKOFF_MIN_MS;
    snprintf(c->name, sizeof(c->name), "%s://%s%s%s:%s", proto == CLI_TCP ? "tcp" : "udp",
             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port);
    uv_timer_init(o->loop, &c->timer);
    c->timer.data = c;
    o->open_handles++;
    o->colls[o->n_colls++] = c;
    return 0;
}

int out_start(struct out *o)
{
    uv_prepare_start(&o->prepare, on_prepare);
    for (int i = 0; i < o->n_colls; i++)
        start_resolve(o->colls[i]);
    return 0;
}

static void enqueue(struct out_coll *c, const uint8_t ns[4], const struct rec *r)
{
    size_t need = r->msg_len + DNSXFR_HEADER_LEN + DNSXFR_TCP_PREFIX;
    uint8_t *p = queue_reserve(&c->q, need);

    if (!p) {
        /* A file input checks out_congested() first, so only a live
         * input (or a second collector behind the first) gets here. */
        c->st.drop[STATS_DROP_QUEUE_FULL]++;
        return;
    }
    dnsxfr_encode_framed(p, need, ns, r->msg, r->msg_len);
    queue_commit(&c->q, need);
    c->st.queued++;
    /* Hand a good batch over at once rather than at the end of the loop
     * iteration, so that an idle sender starts early. */
    if (c->q.count - c->inflight_n >= COLL_EARLY_JOB)
        coll_flush(c);
}

int out_submit(struct out *o, const struct rec *r)
{
    struct dns_header h;
    uint8_t ns[4];
    int v = dns_check(&o->filter, r->msg, r->msg_len, &h);

    switch (v) {
    case DNS_FORWARD:
        break;
    case DNS_DROP_SHORT:
    case DNS_DROP_HEADER:
        o->stats->dns_error++;
        return v;
    case DNS_DROP_QUERY:
        o->stats->queries++;
        return v;
    case DNS_DROP_NO_ANSWER:
        o->stats->responses++;
        o->stats->filtered[STATS_DROP_NO_ANSWER]++;
        return v;
    case DNS_DROP_NOT_AUTH:
        o->stats->responses++;
        o->stats->filtered[STATS_DROP_NOT_AUTH]++;
        return v;
    default:
        o->stats->responses++;
        o->stats->filtered[STATS_DROP_OVERSIZE]++;
        return v;
    }
    o->stats->responses++;
    dnsxfr_nameserver(ns, h.flags & DNS_FLAG_AA, r->responder.family, r->responder.addr);
    for (int i = 0; i < o->n_colls; i++)
        enqueue(o->colls[i], ns, r);
    return 0;
}

/* How far an input that waits may run ahead of a collector: plenty to
 * keep the sender busy (thousands of messages), little enough that what
 * it sends is still in the CPU's cache rather than megabytes behind. */
static size_t backlog_max(const struct queue *q)
{
    return q->cap / 2 < OUT_BACKLOG_BYTES ? q->cap / 2 : OUT_BACKLOG_BYTES;
}

int out_congested(struct out *o)
{
    size_t need = o->filter.max_size + DNSXFR_HEADER_LEN + DNSXFR_TCP_PREFIX;

    for (int i = 0; i < o->n_colls; i++) {
        const struct queue *q = &o->colls[i]->q;

        if (q->bytes >= backlog_max(q) || !queue_fits(q, need)) {
            o->waiting = 1;
            return 1;
        }
    }
    return 0;
}

int out_congested_live(struct out *o, size_t bytes, size_t msgs)
{
    for (int i = 0; i < o->n_colls; i++) {
        const struct out_coll *c = o->colls[i];
        const struct queue *q = &c->q;

        if (c->proto != CLI_UDP || c->state != COLL_READY)
            continue;
        /* Never ask for more than try_space() frees before resuming. */
        if (bytes > q->cap / 2)
            bytes = q->cap / 2;
        if (msgs > q->max_count / 2)
            msgs = q->max_count / 2;
        if (q->bytes >= backlog_max(q) || q->cap - q->bytes < bytes ||
            q->max_count - q->count < msgs) {
            o->waiting_live = 1;
            return 1;
        }
    }
    return 0;
}

int out_idle(const struct out *o)
{
    for (int i = 0; i < o->n_colls; i++)
        if (o->colls[i]->q.count)
            return 0;
    return 1;
}

/* Room for a good batch, not for one message, so that a paused input does
 * not bounce on every datagram sent. */
static int has_room(const struct queue *q)
{
    return q->bytes <= backlog_max(q) / 2 && q->count <= q->max_count / 2;
}

static void try_space(struct out *o)
{
    int resume = 0, ok = 1;

    if (!o->waiting && !o->waiting_live)
        return;
    for (int i = 0; i < o->n_colls && ok; i++) {
        const struct out_coll *c = o->colls[i];
        if (c->proto == CLI_UDP && c->state == COLL_READY)
            ok = has_room(&c->q);
    }
    if (o->waiting_live && ok) {
        o->waiting_live = 0;
        resume = 1;
    }
    for (int i = 0; i < o->n_colls && ok; i++)
        ok = has_room(&o->colls[i]->q);
    if (o->waiting && ok) {
        o->waiting = 0;
        resume = 1;
    }
    /* Every paused input resumes and asks again for itself. */
    if (resume && o->on_space)
        o->on_space(o->on_space_arg);
}

static void finish_flush(struct out *o)
{
    void (*cb)(struct out *) = o->on_flushed;

    o->flushing = 0;
    o->on_flushed = NULL;
    uv_timer_stop(&o->deadline);
    if (cb)
        cb(o);
}

static void check_flushed(struct out *o)
{
    if (o->flushing && out_idle(o))
        finish_flush(o);
}

static void on_deadline(uv_timer_t *t)
{
    struct out *o = t->data;

    for (int i = 0; i < o->n_colls; i++) {
        struct out_coll *c = o->colls[i];
        if (c->q.count) {
            log_warnx("%s: %zu messages still queued at the flush deadline", c->name,
                      c->q.count);
            if (c->snd)
                out_udp_stop(c);
            c->st.drop[STATS_DROP_SHUTDOWN] += c->q.count;
            c->q.head = c->q.tail = c->q.wrap = c->q.bytes = c->q.count = 0;
            c->partial = 0;
        }
    }
    finish_flush(o);
}

void out_flush(struct out *o, uint64_t timeout_ms, void (*cb)(struct out *o))
{
    if (!o->flushing) {
        o->flushing = 1;
        o->on_flushed = cb;
    }
    if (timeout_ms) {
        uint64_t left = uv_timer_get_due_in(&o->deadline);
        if (!uv_is_active((uv_handle_t *)&o->deadline) || timeout_ms < left)
            uv_timer_start(&o->deadline, on_deadline, timeout_ms, 0);
    }
    /* Push out what is queued now rather than waiting for the next
     * iteration, then see whether that was all. */
    for (int i = 0; i < o->n_colls; i++)
        coll_flush(o->colls[i]);
    check_flushed(o);
}

void out_close(struct out *o, void (*cb)(struct out *o))
{
    o->closing = 1;
    o->on_closed = cb;
    for (int i = 0; i < o->n_colls; i++) {
        struct out_coll *c = o->colls[i];
        drop_sock(c);
        if (c->gai_busy)
            uv_cancel((uv_req_t *)&c->gai);
        coll_set_state(c, COLL_CLOSED);
        c->timer.data = o;
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    }
    uv_close((uv_handle_t *)&o->prepare, on_handle_closed);
    uv_close((uv_handle_t *)&o->deadline, on_handle_closed);
}

void out_free_colls(struct out *o)
{
    for (int i = 0; i < o->n_colls; i++) {
        queue_close(&o->colls[i]->q);
        free(o->colls[i]);
        o->colls[i] = NULL;
    }
    o->n_colls = 0;
}

const struct stats_out *out_coll_stats(const struct out *o, int i)
{
    return &o->colls[i]->st;
}

const char *out_coll_name(const struct out *o, int i)
{
    return o->colls[i]->name;
}

size_t out_coll_queued(const struct out *o, int i)
{
    return o->colls[i]->q.count;
}

int out_coll_up(const struct out *o, int i)
{
    return o->colls[i]->state == COLL_READY;
}
