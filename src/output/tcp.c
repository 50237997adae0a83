#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "codec/dnsxfr.h"
#include "log.h"
#include "output/transport.h"

int out_tcp_connect(struct out_coll *c)
{
    int rc = coll_socket(c, SOCK_STREAM);

    if (rc < 0)
        return rc;
    c->banner_len = 0;
    c->partial = 0;
    coll_poll(c, UV_WRITABLE);
    /* One deadline covers the connect and the banner: a collector that
     * accepts and never speaks must not hold the queue forever. */
    coll_arm_timer(c, (uint64_t)c->out->cli->banner_secs * 1000);
    return 0;
}

void out_tcp_timeout(struct out_coll *c)
{
    if (c->state == COLL_CONNECT)
        coll_fail(c, "connect timed out", 0);
    else if (c->state == COLL_BANNER)
        coll_fail(c, "no banner line from the collector", 0);
}

/* Sends as much of the queue as the socket takes, in large writes of
 * whole contiguous runs. A message cut by a short write is finished first;
 * after a reconnect it is sent again from its start, so the collector
 * always sees whole messages. */
void out_tcp_flush(struct out_coll *c)
{
    int progress = 0;

    while (c->state == COLL_READY && c->q.count) {
        const uint8_t *p;
        size_t avail = queue_peek(&c->q, &p), done, bytes = 0, n = 0;
        ssize_t w = send(c->sock->fd, p + c->partial, avail - c->partial,
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
        done = c->partial + (size_t)w;
        while (bytes < done && bytes + queue_entry_len(p + bytes) <= done) {
            if (log_verbose())
                log_debug("Forwarded %zu bytes.", queue_entry_len(p + bytes) - DNSXFR_TCP_PREFIX);
            bytes += queue_entry_len(p + bytes);
            n++;
        }
        c->partial = done - bytes;
        if (n) {
            coll_sent(c, bytes, n);
            progress = 1;
        }
    }
    if (c->state == COLL_READY && c->q.count == 0)
        coll_poll(c, UV_READABLE);
    if (progress)
        coll_progress(c);
}

static void read_banner(struct out_coll *c)
{
    ssize_t r = recv(c->sock->fd, c->banner + c->banner_len,
                     sizeof(c->banner) - 1 - c->banner_len, 0);
    char *lf;

    if (r == 0) {
        coll_fail(c, "collector closed the connection before its banner", 0);
        return;
    }
    if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            coll_fail(c, "cannot read the banner", -errno);
        return;
    }
    c->banner_len += (size_t)r;
    c->banner[c->banner_len] = '\0';
    lf = memchr(c->banner, '\n', c->banner_len);
    if (!lf) {
        if (c->banner_len == sizeof(c->banner) - 1)
            coll_fail(c, "banner line too long", 0);
        return;
    }
    *lf = '\0';
    if (lf > c->banner && lf[-1] == '\r')
        lf[-1] = '\0';
    for (char *s = c->banner; *s; s++)
        if (*s < ' ' || *s > '~')
            *s = '.';
    uv_timer_stop(&c->timer);
    c->st.connects++;
    log_notice("%s: connected: %s", c->name, c->banner);
    coll_set_state(c, COLL_READY);
    coll_poll(c, UV_READABLE);
    out_tcp_flush(c);
}

/* After the banner the collector has nothing to say; reading only tells
 * when it closes. Whatever it sends is discarded. */
static void read_ready(struct out_coll *c)
{
    char buf[4096];
    ssize_t r = recv(c->sock->fd, buf, sizeof(buf), MSG_DONTWAIT);

    if (r == 0)
        coll_fail(c, "collector closed the connection", 0);
    else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        coll_fail(c, "receive failed", -errno);
}

void out_tcp_event(struct out_coll *c, int status, int events)
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
        if (events & (UV_WRITABLE | UV_READABLE)) {
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
        break;
    case COLL_BANNER:
        if (events & UV_READABLE)
            read_banner(c);
        break;
    case COLL_READY:
        if (events & UV_READABLE)
            read_ready(c);
        if (c->state == COLL_READY && (events & UV_WRITABLE))
            out_tcp_flush(c);
        break;
    default:
        break;
    }
}
