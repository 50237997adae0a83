#include "config.h"

#include "output/coll.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/dnsxfr.h"
#include "log.h"
#include "netaddr.h"

static const char *const state_names[] = {
    "resolve", "connect", "banner", "ready", "backoff", "closed",
};

void coll_hold(struct coll *c)
{
    c->open_handles++;
}

void coll_release(struct coll *c)
{
    if (--c->open_handles == 0 && c->on_closed)
        c->on_closed(c);
}

void coll_set_state(struct coll *c, enum coll_state s)
{
    if (c->state != s)
        log_trace("%s: %s -> %s", c->name, state_names[c->state], state_names[s]);
    c->state = s;
}

int coll_init(struct coll *c, uv_loop_t *loop, const struct coll_ops *ops, const char *scheme,
              const char *host, const char *port, const struct coll_conf *conf)
{
    int rc, v6 = strchr(host, ':') != NULL;

    memset(c, 0, sizeof(*c));
    c->loop = loop;
    c->ops = ops;
    c->conf = conf;
    snprintf(c->host, sizeof(c->host), "%s", host);
    snprintf(c->port, sizeof(c->port), "%s", port);
    snprintf(c->name, sizeof(c->name), "%s://%s%s%s:%s", scheme, v6 ? "[" : "", host,
             v6 ? "]" : "", port);
    c->backoff_ms = COLL_BACKOFF_MIN_MS;
    rc = queue_init(&c->q, conf->queue_bytes, conf->queue_msgs);
    if (rc < 0)
        return rc;
    rc = ops->init ? ops->init(c) : 0;
    if (rc < 0) {
        queue_close(&c->q);
        return rc;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    return 0;
}

static void on_sock_closed(uv_handle_t *h)
{
    struct coll_sock *s = h->data;
    struct coll *c = s->coll;

    close(s->fd);
    free(s);
    coll_release(c);
}

static void drop_sock(struct coll *c)
{
    if (!c->sock)
        return;
    c->ops->stop(c); /* before its socket goes */
    uv_close((uv_handle_t *)&c->sock->poll, on_sock_closed);
    c->sock = NULL;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct coll_sock *s = h->data;

    s->coll->ops->event(s->coll, status, events);
}

void coll_poll(struct coll *c, int events)
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

static int open_fd(struct coll *c, int type)
{
    const struct coll_conf *conf = c->conf;
    int fd, rc, size = COLL_SNDBUF;

    fd = socket(c->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (type == SOCK_DGRAM)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    if (conf->bind_addr && conf->bind_addr->ss_family == c->addr.ss_family &&
        bind(fd, (const struct sockaddr *)conf->bind_addr, conf->bind_len) < 0) {
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
    return fd;
}

int coll_socket(struct coll *c, int type)
{
    struct coll_sock *s;
    int rc, fd = open_fd(c, type);

    if (fd < 0)
        return fd;
    s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return -ENOMEM;
    }
    rc = uv_poll_init_socket(c->loop, &s->poll, fd);
    if (rc < 0) {
        free(s);
        close(fd);
        return rc;
    }
    s->fd = fd;
    s->coll = c;
    s->poll.data = s;
    c->sock = s;
    coll_hold(c);
    return 0;
}

static void on_timer(uv_timer_t *t);

void coll_fail(struct coll *c, const char *why, int err)
{
    const char *sep = err ? ": " : "", *what = err ? uv_strerror(err) : "";

    if (c->state == COLL_READY) {
        c->st.disconnects++;
        log_warnx("%s: connection lost: %s%s%s", c->name, why, sep, what);
    } else if (c->failures == 0) {
        log_warnx("%s: %s%s%s (retrying)", c->name, why, sep, what);
    } else {
        log_debug("%s: %s%s%s", c->name, why, sep, what);
    }
    c->failures++;
    drop_sock(c);
    if (c->closing) {
        coll_set_state(c, COLL_CLOSED);
        return;
    }
    coll_set_state(c, COLL_BACKOFF);
    uv_timer_start(&c->timer, on_timer, c->backoff_ms, 0);
    c->backoff_ms *= 2;
    if (c->backoff_ms > COLL_BACKOFF_MAX_MS)
        c->backoff_ms = COLL_BACKOFF_MAX_MS;
}

void coll_sent(struct coll *c, size_t bytes, size_t n)
{
    queue_consume(&c->q, bytes, n);
    c->st.forwarded += n;
    c->st.forwarded_bytes += bytes - 2 * n;
    if (c->failures) {
        /* Progress on a connection: the next failure is news again. */
        c->failures = 0;
        c->backoff_ms = COLL_BACKOFF_MIN_MS;
    }
    if (c->on_progress)
        c->on_progress(c);
}

void coll_dropped(struct coll *c, size_t bytes, size_t n, enum stats_drop why)
{
    queue_consume(&c->q, bytes, n);
    c->st.drop[why] += n;
    if (c->on_progress)
        c->on_progress(c);
}

static void connect_now(struct coll *c)
{
    int rc;

    coll_set_state(c, COLL_CONNECT);
    rc = c->ops->connect(c);
    if (rc < 0)
        coll_fail(c, "cannot connect", rc);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct coll *c = req->data;

    c->gai_busy = 0;
    if (status == 0 && !c->closing) {
        memcpy(&c->addr, res->ai_addr, res->ai_addrlen);
        c->addr_len = res->ai_addrlen;
    }
    uv_freeaddrinfo(res);
    if (!c->closing) {
        if (status < 0)
            coll_fail(c, "cannot resolve collector", status);
        else
            connect_now(c);
    }
    coll_release(c);
}

static void start_resolve(struct coll *c)
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
    hints.ai_socktype = c->ops->socktype;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    c->gai.data = c;
    rc = uv_getaddrinfo(c->loop, &c->gai, on_resolved, c->host, c->port, &hints);
    if (rc < 0) {
        coll_fail(c, "cannot resolve collector", rc);
        return;
    }
    c->gai_busy = 1;
    coll_hold(c);
}

static void on_timer(uv_timer_t *t)
{
    struct coll *c = t->data;

    if (c->state == COLL_BACKOFF)
        start_resolve(c);
    else if (c->ops->timeout)
        c->ops->timeout(c);
}

void coll_arm_timer(struct coll *c, uint64_t ms)
{
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

void coll_stop_timer(struct coll *c)
{
    uv_timer_stop(&c->timer);
}

void coll_start(struct coll *c)
{
    start_resolve(c);
}

void coll_submit(struct coll *c, const struct rec *r)
{
    if (c->ops->encode(c, r) < 0) {
        /* An input that waits asks for room first, so only a live input
         * (or a second collector behind the first) gets here. */
        c->st.drop[STATS_DROP_QUEUE_FULL]++;
        return;
    }
    c->st.queued++;
}

int coll_queue_dnsxfr(struct coll *c, const struct rec *r)
{
    size_t need = r->msg_len + DNSXFR_HEADER_LEN + DNSXFR_TCP_PREFIX;
    uint8_t *p = queue_reserve(&c->q, need);

    if (!p)
        return -ENOBUFS;
    dnsxfr_encode_rec(p, need, r);
    queue_commit(&c->q, need);
    return 0;
}

void coll_flush(struct coll *c)
{
    if (c->state == COLL_READY)
        c->ops->flush(c);
}

void coll_discard(struct coll *c)
{
    if (c->q.count == 0)
        return;
    log_warnx("%s: %zu messages still queued at the flush deadline", c->name, c->q.count);
    c->ops->stop(c);
    c->st.drop[STATS_DROP_SHUTDOWN] += c->q.count;
    queue_reset(&c->q);
}

static void on_timer_closed(uv_handle_t *h)
{
    coll_release(h->data);
}

void coll_close(struct coll *c, void (*on_closed)(struct coll *c))
{
    c->closing = 1;
    c->on_closed = on_closed;
    drop_sock(c);
    if (c->gai_busy)
        uv_cancel((uv_req_t *)&c->gai);
    coll_set_state(c, COLL_CLOSED);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

void coll_free(struct coll *c)
{
    if (c->ops->free)
        c->ops->free(c);
    c->priv = NULL;
    queue_close(&c->q);
}

void coll_refresh_stats(struct coll *c)
{
    c->st.queued_now = c->q.count;
    c->st.up = c->state == COLL_READY;
}
