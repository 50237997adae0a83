#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "codec/dnsxfr.h"
#include "log.h"
#include "output/transport.h"

int out_udp_connect(struct out_coll *c)
{
    int rc = coll_socket(c, SOCK_DGRAM);

    if (rc < 0)
        return rc;
    c->st.connects++;
    coll_set_state(c, COLL_READY);
    return 0;
}

/* Sends queued datagrams in batches of up to COLL_UDP_BATCH with one
 * sendmmsg() each. Stops at EAGAIN and waits for the socket to be
 * writable again, so a full socket buffer never spins the loop. */
void out_udp_flush(struct out_coll *c)
{
    struct mmsghdr msgs[COLL_UDP_BATCH];
    struct iovec iov[COLL_UDP_BATCH];
    size_t lens[COLL_UDP_BATCH];

    while (c->state == COLL_READY && c->q.count) {
        const uint8_t *p;
        size_t avail = queue_peek(&c->q, &p), off = 0;
        unsigned n = 0;
        int sent;

        while (off < avail && n < COLL_UDP_BATCH) {
            size_t len = queue_entry_len(p + off);
            iov[n].iov_base = (void *)(p + off + DNSXFR_TCP_PREFIX);
            iov[n].iov_len = len - DNSXFR_TCP_PREFIX;
            memset(&msgs[n].msg_hdr, 0, sizeof(msgs[n].msg_hdr));
            msgs[n].msg_hdr.msg_iov = &iov[n];
            msgs[n].msg_hdr.msg_iovlen = 1;
            lens[n] = len;
            off += len;
            n++;
        }
        sent = sendmmsg(c->sock->fd, msgs, n, MSG_DONTWAIT);
        if (sent > 0) {
            size_t bytes = 0;
            for (int i = 0; i < sent; i++) {
                bytes += lens[i];
                if (log_verbose())
                    log_debug("Forwarded %zu bytes.", lens[i] - DNSXFR_TCP_PREFIX);
            }
            coll_poll(c, 0);
            coll_sent(c, bytes, (size_t)sent);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            coll_poll(c, UV_WRITABLE);
            return;
        }
        if (errno == ECONNREFUSED) {
            /* The ICMP error of an earlier datagram, reported on this call;
             * nothing of this batch went out. Retrying sends it. */
            c->st.send_errors++;
            if (c->st.send_errors == 1 || log_verbose())
                log_warnx("%s: collector not listening (ECONNREFUSED); still sending",
                          c->name);
            continue;
        }
        /* Any other error concerns this datagram (e.g. EMSGSIZE): give up
         * on it alone, count it, and go on with the rest. */
        log_warn("%s: cannot send %zu bytes", c->name, lens[0] - DNSXFR_TCP_PREFIX);
        coll_dropped(c, lens[0], 1, STATS_DROP_SEND_ERROR);
    }
}

void out_udp_event(struct out_coll *c, int status, int events)
{
    coll_poll(c, 0);
    out_udp_flush(c);
}
