/* udp.c: the UDP listeners, one message per datagram. */
#include "config.h"

#include "collect/collect.h"
#include "log.h"

static void on_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct collect_listener *l = h->data;

    *buf = uv_buf_init((char *)l->col->udp_buf, COLLECT_UDP_BUF);
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags)
{
    struct collect_listener *l = h->data;
    struct collector *col = l->col;
    char peer[NETADDR_STRLEN];
    struct timespec now;

    if (nread < 0) {
        /* ICMP errors and the like: the socket stays usable. */
        log_debug("udp receive: %s", uv_strerror((int)nread));
        return;
    }
    /* addr NULL: the socket has been drained, nothing was received. */
    if (!addr || col->stopping)
        return;
    netaddr_str(addr, peer, sizeof(peer));
    if (flags & UV_UDP_PARTIAL) {
        col->invalid++;
        log_debug("invalid message from %s (udp): datagram truncated", peer);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    collect_message(col, &now, peer, "udp", (const uint8_t *)buf->base,
                    (size_t)nread);
}

/* A sender that flushes a queue with sendmmsg outruns one recvmsg per
 * loop turn, and the default buffer (about 200 KiB) then overflows. Ask
 * for 32 MiB: as root past net.core.rmem_max, else up to it. */
static void grow_rcvbuf(uv_udp_t *u)
{
    uv_os_fd_t fd;
    int size = COLLECT_UDP_RCVBUF;

    if (uv_fileno((uv_handle_t *)u, &fd) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0)
        return;
    uv_recv_buffer_size((uv_handle_t *)u, &size);
}

int collect_udp_listen(struct collect_listener *l, const struct sockaddr *sa)
{
    int rc = uv_udp_bind(&l->u.udp, sa, 0);

    if (rc == 0)
        grow_rcvbuf(&l->u.udp);
    if (rc == 0)
        rc = uv_udp_recv_start(&l->u.udp, on_udp_alloc, on_udp_recv);
    return rc;
}
