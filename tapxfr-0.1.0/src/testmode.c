#include "config.h"

#include "testmode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codec/dns.h"
#include "codec/packet.h"
#include "input/pcapin.h"
#include "log.h"

#define TEST_BANNER "dnslogger test server\r\n"
#define TEST_WAIT_MS 10000

int testmode_init(struct testmode *t, int socktype)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    memset(t, 0, sizeof(*t));
    t->tcp = socktype == SOCK_STREAM;
    t->stop[0] = t->stop[1] = -1;
    t->fd = socket(AF_INET, socktype | SOCK_CLOEXEC, 0);
    if (t->fd < 0)
        return -errno;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(t->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        getsockname(t->fd, (struct sockaddr *)&sin, &len) < 0 ||
        (t->tcp && listen(t->fd, 4) < 0))
        return -errno;
    snprintf(t->port, sizeof(t->port), "%u", ntohs(sin.sin_port));
    return 0;
}

/* The TCP collector: accept, send the banner, keep everything that
 * arrives until tapxfr closes or the main thread says stop. */
static void *tcp_collector(void *arg)
{
    struct testmode *t = arg;
    struct pollfd pf[2];
    int conn = -1;

    pf[0].fd = t->fd;
    pf[0].events = POLLIN;
    pf[1].fd = t->stop[0];
    pf[1].events = POLLIN;
    for (;;) {
        int n = poll(pf, 2, TEST_WAIT_MS);
        if (n <= 0)
            break;
        if (pf[0].revents) {
            if (conn < 0) {
                conn = accept(t->fd, NULL, NULL);
                if (conn < 0)
                    break;
                if (write(conn, TEST_BANNER, sizeof(TEST_BANNER) - 1) < 0)
                    break;
                pf[0].fd = conn;
            } else {
                ssize_t r = read(conn, t->rx + t->rx_len, sizeof(t->rx) - t->rx_len);
                if (r <= 0)
                    break;
                t->rx_len += (size_t)r;
            }
        }
        if (pf[1].revents && !(pf[0].revents & POLLIN))
            break; /* told to stop and nothing more is readable */
    }
    if (conn >= 0)
        close(conn);
    return NULL;
}

static const char *a2s(int v, const uint8_t *a, char *buf)
{
    if (!inet_ntop(v == 6 ? AF_INET6 : AF_INET, a, buf, INET6_ADDRSTRLEN))
        snprintf(buf, INET6_ADDRSTRLEN, "?");
    return buf;
}

/* Says why a packet went nowhere, in the 2004 program's words where it
 * had any. */
static void explain(int rc, const struct pkt_info *i)
{
    char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

    a2s(i->ip_version, i->src, s);
    a2s(i->ip_version, i->dst, d);
    switch (rc) {
    case PKT_IP_SHORT:
        log_debug("Short packet of length %u.", i->detail_a);
        break;
    case PKT_IP_VERSION:
    case PKT_NOT_IP:
        log_debug("Non-IP packet, first byte is 0x%02x.", i->detail_a);
        break;
    case PKT_IP_HDR_LEN:
        log_debug("Truncated IP header, indicated length is %u, available is %u.",
                  i->detail_a, i->detail_b);
        break;
    case PKT_IP_CHECKSUM:
        log_debug("Incorrect IP checksum (%s -> %s).", s, d);
        break;
    case PKT_IP_TOTAL_LEN:
        log_debug("IP packet total length smaller than header, indicated total length is %u, "
                  "header is %u bytes long.", i->detail_a, i->detail_b);
        break;
    case PKT_IP_TRUNCATED:
        log_debug("Truncated IP packet, indicated length is %u, available is %u.",
                  i->detail_a, i->detail_b);
        break;
    case PKT_FRAGMENT:
        log_debug("Dropping IP fragment (%s -> %s).", s, d);
        break;
    case PKT_NOT_UDP:
        log_debug("Unexpected IP protocol %u (%s -> %s).", i->detail_a, s, d);
        break;
    case PKT_UDP_SHORT:
        log_debug("Truncated UDP header (%s -> %s).", s, d);
        break;
    case PKT_UDP_TRUNCATED:
        log_debug("Truncated UDP packet (%s -> %s, UDP length %u, available %u).", s, d,
                  i->detail_a, i->detail_b);
        break;
    case PKT_UDP_LEN:
        log_debug("UDP total length smaller than header, indicated total length is %u, "
                  "header is 8 bytes long.", i->detail_a);
        break;
    case PKT_UDP_CHECKSUM:
        log_debug("UDP checksum mismatch (%s -> %s).", s, d);
        break;
    case VERDICT_DNS_SHORT:
        log_debug("Truncated DNS packet (length %zu).", i->payload_len);
        break;
    case VERDICT_DNS_HEADER:
        log_debug("Dropping DNS packet with implausible header counts (%s -> %s).", s, d);
        break;
    case VERDICT_DNS_QUERY:
        log_debug("Dropping question packet (%s -> %s).", s, d);
        break;
    case VERDICT_DNS_NO_ANSWER:
        log_debug("Dropping packet without answers (%s -> %s).", s, d);
        break;
    case VERDICT_DNS_NOT_AUTH:
        log_debug("Dropping non-authoritative DNS packet (%s -> %s).", s, d);
        break;
    case VERDICT_DNS_OVERSIZE:
        log_debug("Dropping overlong packet (%s -> %s, %zu bytes).", s, d, i->payload_len);
        break;
    default:
        log_debug("Dropping packet: %s.", verdict_name(rc));
        break;
    }
}

int testmode_run(struct testmode *t, struct stage *stage)
{
    static uint8_t pkt[65536];
    struct pkt_info info;
    size_t len = 0;
    int rc;

    if (t->tcp) {
        if (pipe(t->stop) < 0)
            return -errno;
        if (pthread_create(&t->thread, NULL, tcp_collector, t) != 0)
            return -EAGAIN;
        t->thread_started = 1;
    }
    for (;;) {
        ssize_t r = read(STDIN_FILENO, pkt + len, sizeof(pkt) - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            log_warn("cannot read standard input");
            return -errno;
        }
        if (r == 0 || (len += (size_t)r) == sizeof(pkt))
            break;
    }
    memset(&info, 0, sizeof(info));
    rc = pcapin_packet(stage, PKT_LINK_RAW, pkt, len, 0, 0, &info);
    if (rc < 0)
        explain(rc, &info);
    return 0;
}

void testmode_report(struct testmode *t)
{
    if (t->tcp) {
        if (t->thread_started) {
            if (write(t->stop[1], "x", 1) < 0)
                log_warn("cannot stop the test collector");
            pthread_join(t->thread, NULL);
            t->thread_started = 0;
        }
    } else {
        ssize_t r = recv(t->fd, t->rx, sizeof(t->rx), MSG_DONTWAIT);
        t->rx_len = r > 0 ? (size_t)r : 0;
    }
    if (t->rx_len == 0) {
        log_debug("No data received.");
        return;
    }
    fflush(stderr);
    printf("tapxfr: Received data: ");
    for (size_t i = 0; i < t->rx_len; i++)
        printf("%02x", t->rx[i]);
    printf("\n");
    fflush(stdout);
}

void testmode_close(struct testmode *t)
{
    if (t->fd >= 0)
        close(t->fd);
    for (int i = 0; i < 2; i++)
        if (t->stop[i] >= 0)
            close(t->stop[i]);
    t->fd = t->stop[0] = t->stop[1] = -1;
}
