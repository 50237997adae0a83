/* tcp.c: the TCP collector kind (-t, tcp://): the collector's banner line
 * is read (with a deadline) and logged, then every DNSXFR01 message goes
 * out with its 16-bit length prefix on one persistent connection. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "codec/dnsxfr.h"
#include "log.h"
#include "output/coll.h"

#define BANNER_MAX 1024

struct tcp {
    size_t partial; /* bytes of the head entry already sent */
    char banner[BANNER_MAX];
    size_t banner_len;
};

static int tcp_init(struct coll *c)
{
    c->priv = calloc(1, sizeof(struct tcp));
    return c->priv ? 0 : -ENOMEM;
}

static void tcp_free(struct coll *c)
{
    free(c->priv);
}

static int tcp_connect(struct coll *c)
{
    struct tcp *t = c->priv;
    int rc = coll_socket(c, SOCK_STREAM);

    if (rc < 0)
        return rc;
    t->banner_len = 0;
    t->partial = 0;
    coll_poll(c, UV_WRITABLE);
    /* One deadline covers the connect and the banner: a collector that
     * accepts and never speaks must not hold the queue forever. */
    coll_arm_timer(c, c->conf->banner_ms);
    return 0;
}

static void tcp_timeout(struct coll *c)
{
    if (c->state == COLL_CONNECT)
        coll_fail(c, "connect timed out", 0);
    else if (c->state == COLL_BANNER)
        coll_fail(c, "no banner line from the collector", 0);
}

/* Counts the whole entries among the first done bytes at p. */
static size_t whole(const uint8_t *p, size_t done, size_t *n)
{
    size_t bytes = 0;

    *n = 0;
    while (bytes < done && bytes + queue_entry_len(p + bytes) <= done) {
        if (log_verbose())
            log_debug("Forwarded %zu bytes.", queue_entry_len(p + bytes) - DNSXFR_TCP_PREFIX);
        bytes += queue_entry_len(p + bytes);
        (*n)++;
    }
    return bytes;
}

/* Sends as much of the queue as the socket takes, in large writes of
 * whole contiguous runs. A message cut by a short write is finished first;
 * after a reconnect it is sent again from its start, so the collector
 * always sees whole messages. */
static void tcp_flush(struct coll *c)
{
    struct tcp *t = c->priv;

    while (c->state == COLL_READY && c->q.count) {
        const uint8_t *p;
        size_t avail = queue_peek(&c->q, &p), done, bytes, n;
        ssize_t w = send(c->sock->fd, p + t->partial, avail - t->partial,
                         MSG_DONTWAIT | MSG_NOSIGNAL);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                coll_poll(c, UV_READABLE | UV_WRITABLE);
                break;
            }
            coll_fail(c, "send failed", -errno);
            break;
        }
        done = t->partial + (size_t)w;
        bytes = whole(p, done, &n);
        t->partial = done - bytes;
        if (n)
            coll_sent(c, bytes, n);
    }
    if (c->state == COLL_READY && c->q.count == 0)
        coll_poll(c, UV_READABLE);
}

/* The banner line, made printable. Returns 1 when it is complete. */
static int banner_line(struct coll *c, struct tcp *t)
{
    char *lf = memchr(t->banner, '\n', t->banner_len);

    if (!lf) {
        if (t->banner_len == sizeof(t->banner) - 1)
            coll_fail(c, "banner line too long", 0);
        return 0;
    }
    *lf = '\0';
    if (lf > t->banner && lf[-1] == '\r')
        lf[-1] = '\0';
    for (char *s = t->banner; *s; s++)
        if (*s < ' ' || *s > '~')
            *s = '.';
    return 1;
}

static void read_banner(struct coll *c)
{
    struct tcp *t = c->priv;
    ssize_t r = recv(c->sock->fd, t->banner + t->banner_len,
                     sizeof(t->banner) - 1 - t->banner_len, 0);

    if (r == 0) {
        coll_fail(c, "collector closed the connection before its banner", 0);
        return;
    }
    if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            coll_fail(c, "cannot read the banner", -errno);
        return;
    }
    t->banner_len += (size_t)r;
    t->banner[t->banner_len] = '\0';
    if (!banner_line(c, t))
        return;
    coll_stop_timer(c);
    c->st.connects++;
    log_notice("%s: connected: %s", c->name, t->banner);
    coll_set_state(c, COLL_READY);
    coll_poll(c, UV_READABLE);
    tcp_flush(c);
}

/* After the banner the collector has nothing to say; reading only tells
 * when it closes. Whatever it sends is discarded. */
static void read_ready(struct coll *c)
{
    char buf[4096];
    ssize_t r = recv(c->sock->fd, buf, sizeof(buf), MSG_DONTWAIT);

    if (r == 0)
        coll_fail(c, "collector closed the connection", 0);
    else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        coll_fail(c, "receive failed", -errno);
}

static void connected(struct coll *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    getsockopt(c->sock->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        coll_fail(c, "cannot connect", -err);
        return;
    }
    coll_set_state(c, COLL_BANNER);
    coll_poll(c, UV_READABLE);
}

static void tcp_event(struct coll *c, int status, int events)
{
    if (status < 0) {
        /* libuv reports POLLERR as UV_EBADF; the socket knows the cause. */
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->sock->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
            status = -err;
        coll_fail(c, c->state == COLL_CONNECT ? "cannot connect" : "socket error", status);
        return;
    }
    switch (c->state) {
    case COLL_CONNECT:
        if (events & (UV_WRITABLE | UV_READABLE))
            connected(c);
        break;
    case COLL_BANNER:
        if (events & UV_READABLE)
            read_banner(c);
        break;
    case COLL_READY:
        if (events & UV_READABLE)
            read_ready(c);
        if (c->state == COLL_READY && (events & UV_WRITABLE))
            tcp_flush(c);
        break;
    default:
        break;
    }
}

/* A message cut by a short write goes again whole on the next connection. */
static void tcp_stop(struct coll *c)
{
    struct tcp *t = c->priv;

    t->partial = 0;
}

const struct coll_ops coll_tcp_ops = {
    .overhead = DNSXFR_HEADER_LEN + DNSXFR_TCP_PREFIX,
    .socktype = SOCK_STREAM,
    .paces_inputs = 0,
    .init = tcp_init,
    .connect = tcp_connect,
    .encode = coll_queue_dnsxfr,
    .flush = tcp_flush,
    .event = tcp_event,
    .timeout = tcp_timeout,
    .stop = tcp_stop,
    .free = tcp_free,
};
