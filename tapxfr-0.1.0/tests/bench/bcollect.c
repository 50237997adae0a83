/* bcollect: a counting DNSXFR01 collector for the benchmark (not installed).
 *
 *   bcollect -u|-t [-a ADDR] [-p PORT] [-b RCVBUF] [-S SIZES] [-s]
 *
 * -u: UDP, recvmmsg() in batches on a receive buffer forced to RCVBUF bytes
 *     (SO_RCVBUFFORCE, default 256 MiB), kernel drops read with SO_RXQ_OVFL.
 * -t: TCP, sends the banner "dnslogger/DNSXFR01\r\n" to every connection and
 *     parses the 2-byte big-endian length framing.
 * -s: stall (TCP): accept and send the banner, then never read.
 * -S: write the length of every message received (uint16 little-endian, in
 *     arrival order) to SIZES, for the raw-send anchor (rawsend.c).
 *
 * Prints "port N" once listening. On SIGTERM/SIGINT it drains what the
 * kernel already holds (UDP: until EAGAIN; TCP: until every connection is
 * at EOF, at most 10 s), prints one line
 *   count=N bytes=N bad=N kdrops=N conns=N first=T last=T
 * (T: CLOCK_REALTIME seconds of the first and last batch received) and
 * exits 0. A message is bad if it is shorter than DNSXFR01 + address + a
 * DNS header (24 bytes), does not start with "DNSXFR01", or was truncated.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

#define VLEN 256
#define UDP_BUF 65536
#define TCP_BUF (1 << 20)
#define MAX_CONNS 32
#define MIN_MSG 24
static const char banner[] = "dnslogger/DNSXFR01\r\n";

static volatile sig_atomic_t stop;
static unsigned long long count, bytes, bad;
static uint32_t kdrops;
static double t_first, t_last;
static FILE *sizes;
static int nconns_total;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bcollect: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void account(const uint8_t *p, size_t len, int truncated)
{
    count++;
    bytes += len;
    if (truncated || len < MIN_MSG || memcmp(p, "DNSXFR01", 8) != 0)
        bad++;
    if (sizes) {
        uint8_t le[2] = {(uint8_t)(len & 0xff), (uint8_t)(len >> 8)};
        fwrite(le, 1, 2, sizes);
    }
}

static void stamp(void)
{
    t_last = now();
    if (t_first == 0)
        t_first = t_last;
}

/* The socket's drop counter from /proc/net/udp (last field), which also
 * covers drops after the last datagram read; 0 if not found. */
static uint32_t proc_drops(int port)
{
    char line[512], want[16];
    uint32_t drops = 0;
    FILE *f = fopen("/proc/net/udp", "r");

    if (!f)
        return 0;
    snprintf(want, sizeof(want), ":%04X ", port);
    while (fgets(line, sizeof(line), f)) {
        char *local = strchr(line, ':'), *last;
        /* "  sl: local_address rem_address ..."; local is IP:PORT in hex */
        if (!local || !(local = strchr(local + 1, ':')) || strncmp(local, want, strlen(want)) != 0)
            continue;
        for (size_t n = strlen(line); n && (line[n - 1] == '\n' || line[n - 1] == ' '); n--)
            line[n - 1] = '\0';
        if ((last = strrchr(line, ' ')))
            drops = (uint32_t)strtoul(last + 1, NULL, 10);
    }
    fclose(f);
    return drops;
}

static void run_udp(int fd, long rcvbuf)
{
    static struct mmsghdr msgs[VLEN];
    static struct iovec iov[VLEN];
    static char ctl[VLEN][CMSG_SPACE(sizeof(uint32_t))];
    uint8_t *buf = malloc((size_t)VLEN * UDP_BUF);
    int one = 1, rb = (int)rcvbuf;

    if (!buf)
        die("malloc");
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb)) < 0)
        die("SO_RCVBUF");
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
    for (int i = 0; i < VLEN; i++) {
        iov[i].iov_base = buf + (size_t)i * UDP_BUF;
        iov[i].iov_len = UDP_BUF;
    }
    for (;;) {
        int n;

        for (int i = 0; i < VLEN; i++) {
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = ctl[i];
            msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
        }
        n = recvmmsg(fd, msgs, VLEN, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pfd = {fd, POLLIN, 0};
                if (stop)
                    break;
                poll(&pfd, 1, 100);
                continue;
            }
            die("recvmmsg");
        }
        stamp();
        for (int i = 0; i < n; i++)
            account(iov[i].iov_base, msgs[i].msg_len,
                    (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0);
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[n - 1].msg_hdr); c;
             c = CMSG_NXTHDR(&msgs[n - 1].msg_hdr, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
                memcpy(&kdrops, CMSG_DATA(c), sizeof(kdrops));
    }
    free(buf);
}

struct conn {
    int fd;
    size_t len;
    uint8_t *buf;
};

/* Consumes the complete frames at the start of c->buf. */
static void parse(struct conn *c)
{
    size_t off = 0;

    while (c->len - off >= 2) {
        size_t n = ((size_t)c->buf[off] << 8) | c->buf[off + 1];
        if (c->len - off - 2 < n)
            break;
        account(c->buf + off + 2, n, 0);
        off += 2 + n;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
}

static void run_tcp(int lfd, int stall)
{
    struct conn conns[MAX_CONNS];
    int nconns = 0;
    double deadline = 0;

    for (;;) {
        struct pollfd pfd[MAX_CONNS + 1];
        int np = 0;

        if (stop) {
            if (stall || nconns == 0)
                break;
            if (deadline == 0)
                deadline = now() + 10;
            else if (now() > deadline) {
                fprintf(stderr, "bcollect: %d connection(s) still open after 10 s\n", nconns);
                break;
            }
        }
        pfd[np++] = (struct pollfd){lfd, POLLIN, 0};
        for (int i = 0; i < nconns; i++)
            pfd[np++] = (struct pollfd){conns[i].fd, stall ? 0 : POLLIN, 0};
        if (poll(pfd, (nfds_t)np, 100) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (pfd[0].revents & POLLIN) {
            int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
            if (fd >= 0 && nconns < MAX_CONNS) {
                if (write(fd, banner, sizeof(banner) - 1) < 0)
                    perror("bcollect: banner");
                conns[nconns].fd = fd;
                conns[nconns].len = 0;
                conns[nconns].buf = stall ? NULL : malloc(TCP_BUF);
                nconns++;
                nconns_total++;
            } else if (fd >= 0) {
                close(fd);
            }
        }
        for (int i = 0; i < nconns && !stall; i++) {
            struct conn *c = &conns[i];
            int eof = 0;
            if (!(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            for (;;) {
                ssize_t r = read(c->fd, c->buf + c->len, TCP_BUF - c->len);
                if (r > 0) {
                    stamp();
                    c->len += (size_t)r;
                    parse(c);
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                    eof = 1;
                break;
            }
            if (eof) {
                if (c->len) {
                    fprintf(stderr, "bcollect: connection closed inside a frame (%zu bytes)\n",
                            c->len);
                    bad++;
                }
                close(c->fd);
                free(c->buf);
                conns[i] = conns[--nconns];
                pfd[i + 1] = pfd[nconns + 1];
                i--;
            }
        }
    }
    for (int i = 0; i < nconns; i++) {
        close(conns[i].fd);
        free(conns[i].buf);
    }
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *sizes_path = NULL;
    int udp = -1, port = 0, stall = 0, fd, opt, one = 1;
    long rcvbuf = 256L << 20;
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    struct sigaction sa;

    while ((opt = getopt(argc, argv, "uta:p:b:S:s")) != -1) {
        switch (opt) {
        case 'u': udp = 1; break;
        case 't': udp = 0; break;
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'b': rcvbuf = atol(optarg); break;
        case 'S': sizes_path = optarg; break;
        case 's': stall = 1; break;
        default: goto usage;
        }
    }
    if (udp < 0 || optind != argc)
        goto usage;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (sizes_path && !(sizes = fopen(sizes_path, "wb")))
        die(sizes_path);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
        goto usage;
    fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
        die("bind");
    if (!udp && listen(fd, 16) < 0)
        die("listen");
    if (getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
        die("getsockname");
    printf("port %d\n", ntohs(sin.sin_port));
    fflush(stdout);

    if (udp) {
        uint32_t d;
        run_udp(fd, rcvbuf);
        if ((d = proc_drops(ntohs(sin.sin_port))) > kdrops)
            kdrops = d;
    }
    else
        run_tcp(fd, stall);
    close(fd);
    if (sizes && fclose(sizes) != 0)
        die(sizes_path);
    printf("count=%llu bytes=%llu bad=%llu kdrops=%u conns=%d first=%.6f last=%.6f\n", count,
           bytes, bad, kdrops, nconns_total, t_first, t_last);
    return 0;
usage:
    fprintf(stderr, "usage: bcollect -u|-t [-a ADDR] [-p PORT] [-b RCVBUF] [-S SIZES] [-s]\n");
    return 2;
}
