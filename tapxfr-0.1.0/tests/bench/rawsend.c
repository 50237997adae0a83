/* rawsend: the raw send limit, an anchor of the benchmark (not installed).
 *
 *   rawsend -u|-t [-n BATCH] HOST PORT SIZES
 *
 * SIZES holds message lengths (uint16 little-endian, as bcollect -S writes
 * them from a tapxfr run). rawsend sends the same number of DNSXFR01
 * messages of the same lengths ("DNSXFR01", four zero bytes, zero padding):
 * -u: one datagram each on a connected UDP socket, sendmmsg() in batches of
 *     BATCH (default 64; bench.py passes tapxfr's own, 256);
 * -t: over TCP after reading the collector's banner line, each message with
 *     its 2-byte length prefix, one write() per BATCH messages.
 * Prints "sent=N bytes=N retries=N" and exits 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "rawsend: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char **argv)
{
    int udp = -1, batch = 64, opt, fd;
    unsigned long long retries = 0, bytes = 0;
    size_t n = 0, maxlen = 8;
    uint16_t *len;
    uint8_t *payload, *frame = NULL;
    struct sockaddr_in sin;
    struct stat st;
    FILE *f;

    while ((opt = getopt(argc, argv, "utn:")) != -1) {
        switch (opt) {
        case 'u': udp = 1; break;
        case 't': udp = 0; break;
        case 'n': batch = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (udp < 0 || batch < 1 || batch > 1024 || argc - optind != 3)
        goto usage;

    if (!(f = fopen(argv[optind + 2], "rb")) || fstat(fileno(f), &st) < 0)
        die(argv[optind + 2]);
    n = (size_t)st.st_size / 2;
    if (!(len = malloc(n * 2 + 2)) || fread(len, 2, n, f) != n)
        die("reading sizes");
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b = (const uint8_t *)&len[i];
        len[i] = (uint16_t)(b[0] | (b[1] << 8)); /* little-endian on disk */
        if (len[i] > maxlen)
            maxlen = len[i];
    }
    if (!(payload = calloc(1, maxlen)))
        die("malloc");
    memcpy(payload, "DNSXFR01", 8);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
    if (inet_pton(AF_INET, argv[optind], &sin.sin_addr) != 1)
        goto usage;
    fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
        die("connect");

    if (udp) {
        struct mmsghdr *msgs = calloc((size_t)batch, sizeof(*msgs));
        struct iovec *iov = calloc((size_t)batch, sizeof(*iov));
        size_t i = 0;

        if (!msgs || !iov)
            die("malloc");
        while (i < n) {
            unsigned k = 0;
            int sent;
            for (; k < (unsigned)batch && i + k < n; k++) {
                iov[k].iov_base = payload;
                iov[k].iov_len = len[i + k];
                memset(&msgs[k].msg_hdr, 0, sizeof(msgs[k].msg_hdr));
                msgs[k].msg_hdr.msg_iov = &iov[k];
                msgs[k].msg_hdr.msg_iovlen = 1;
            }
            sent = sendmmsg(fd, msgs, k, 0);
            if (sent < 0) {
                if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) {
                    struct pollfd p = {fd, POLLOUT, 0};
                    retries++;
                    poll(&p, 1, 10);
                    continue;
                }
                die("sendmmsg");
            }
            for (int j = 0; j < sent; j++)
                bytes += len[i + (size_t)j];
            i += (size_t)sent;
        }
    } else {
        char line[256];
        size_t got = 0, i = 0;
        /* the banner line, as tapxfr waits for it */
        while (got < sizeof(line) - 1) {
            ssize_t r = read(fd, line + got, 1);
            if (r <= 0)
                die("reading banner");
            if (line[got++] == '\n')
                break;
        }
        if (!(frame = malloc((size_t)batch * (maxlen + 2))))
            die("malloc");
        while (i < n) {
            size_t fl = 0, off = 0;
            for (int k = 0; k < batch && i < n; k++, i++) {
                frame[fl++] = (uint8_t)(len[i] >> 8);
                frame[fl++] = (uint8_t)(len[i] & 0xff);
                memcpy(frame + fl, payload, len[i]);
                fl += len[i];
                bytes += len[i];
            }
            while (off < fl) {
                ssize_t w = write(fd, frame + off, fl - off);
                if (w < 0) {
                    if (errno == EINTR)
                        continue;
                    die("write");
                }
                off += (size_t)w;
            }
        }
        shutdown(fd, SHUT_WR);
        /* wait until the collector has closed or read everything */
        while (read(fd, line, sizeof(line)) > 0)
            ;
    }
    close(fd);
    printf("sent=%zu bytes=%llu retries=%llu\n", n, bytes, retries);
    free(len);
    free(payload);
    free(frame);
    return 0;
usage:
    fprintf(stderr, "usage: rawsend -u|-t [-n BATCH] HOST PORT SIZES\n");
    return 2;
}
