/* tapxfr-collect: a small DNSXFR01 collector.
 *
 * Listens on UDP and TCP sockets, checks every DNSXFR01 message it
 * receives (magic, then a full walk of the DNS message) and prints one
 * line per valid message: a JSON object with the answers decoded, a text
 * summary, or hex. With --pcap it also writes every valid message as a
 * UDP packet into a pcap file. It exists to test tapxfr end to end and to
 * look at a live feed; it is not a store.
 *
 * One libuv loop, handles embedded by value and closed through their close
 * callbacks; shutdown (signal, -n reached, fatal error) closes every
 * handle and then checks that uv_loop_close() returns 0. */
#include "config.h"

#include "codec/dnsprint.h"
#include "codec/dnsxfr.h"
#include "log.h"
#include "netaddr.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#define PROG "tapxfr-collect"
#define COLLECT_DEFAULT_BANNER "dnslogger/DNSXFR01\r\n"
/* Limits on what the command line and the network can make us hold. */
#define COLLECT_MAX_LISTENERS 64
#define COLLECT_MAX_CONNS 1024
#define COLLECT_TCP_BACKLOG 128
/* A TCP connection starts with this much buffer and grows to one whole
 * frame (2 + 65535 bytes) only when a frame that large arrives. */
#define COLLECT_TCP_BUF_INITIAL 4096
#define COLLECT_TCP_BUF_MAX (DNSXFR_TCP_PREFIX + 65535)
/* Enough for any UDP payload, so no datagram is ever cut short. */
#define COLLECT_UDP_BUF 65536
#define COLLECT_UDP_RCVBUF (32 << 20)
#define COLLECT_OUT_BUF 65536

enum exit_code { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

enum proto { PROTO_UDP, PROTO_TCP };

enum format { FORMAT_JSON, FORMAT_TEXT, FORMAT_HEX };

/* What collect_message() made of one DNSXFR01 message. */
enum verdict {
    MSG_OK = 0,
    MSG_BAD_FRAME = -1, /* too short or bad magic: the stream is not ours */
    MSG_BAD_DNS = -2,   /* framing fine, DNS part fails the walk */
};

struct listen_spec {
    enum proto proto;
    const char *text; /* as given, for error messages */
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

struct opts {
    struct listen_spec listen[COLLECT_MAX_LISTENERS];
    int n_listen;
    enum format format;
    uint64_t count; /* -n, 0: no limit */
    const char *output;
    const char *pcap;   /* --pcap, NULL: none */
    const char *banner; /* NULL: the default */
    int verbose;
};

struct collector;

struct listener {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_udp_t udp;
        uv_tcp_t tcp;
    } u;
    enum proto proto;
    struct collector *col;
};

/* One accepted TCP connection. It lives on the heap, linked into the
 * collector's list, and is freed only in its close callback. */
struct conn {
    uv_tcp_t tcp;
    uv_write_t banner_req;
    struct collector *col;
    struct conn *prev, *next;
    uint8_t *buf; /* bytes received and not yet consumed */
    size_t cap, fill;
    char peer[NETADDR_STRLEN];
};

struct collector {
    uv_loop_t loop;
    int loop_open;
    uv_signal_t signals[2]; /* SIGINT, SIGTERM */
    int n_signals;          /* initialized, closed at shutdown */
    uv_check_t flusher;
    int flusher_open;
    struct listener listeners[COLLECT_MAX_LISTENERS];
    int n_listeners; /* initialized handles, closed at shutdown */
    struct conn *conns;
    unsigned n_conns;

    FILE *out;
    int out_is_file;
    FILE *pcap; /* NULL: no --pcap */
    int dirty;  /* lines or packets written since the last flush */
    enum format format;
    char *rdata; /* DNSPRINT_RDATA_MAX bytes for the JSON answers */
    char *banner;
    size_t banner_len;
    uint8_t *udp_buf; /* shared: a datagram is consumed in its callback */

    uint64_t limit;
    uint64_t received; /* valid messages printed */
    uint64_t invalid;  /* messages and TCP streams rejected */
    uint64_t refused;  /* connections over COLLECT_MAX_CONNS */
    uint64_t pcap_too_long; /* valid, but too long for an IPv4 packet */
    int started;       /* every listener is up */
    int stopping;
    int status;
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ------------------------------------------------------------ shutdown */

static void on_closed_noop(uv_handle_t *h)
{
    /* Embedded in struct collector: the memory is released after the
     * loop has closed, nothing to do per handle. */
    (void)h;
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *cn = h->data;
    struct collector *col = cn->col;

    if (cn->prev)
        cn->prev->next = cn->next;
    else
        col->conns = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    col->n_conns--;
    free(cn->buf);
    free(cn);
}

static void conn_close(struct conn *cn)
{
    if (!uv_is_closing((uv_handle_t *)&cn->tcp))
        uv_close((uv_handle_t *)&cn->tcp, on_conn_closed);
}

/* Starts an orderly stop: every handle is closed, uv_run() returns once
 * their close callbacks have run. status only ever goes up, so a failure
 * is not hidden by a later clean stop. */
static void collector_stop(struct collector *col, int status)
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
    for (struct conn *cn = col->conns; cn; cn = cn->next)
        conn_close(cn);
}

/* -------------------------------------------------------------- output */

static void output_check(struct collector *col)
{
    if (ferror(col->out)) {
        log_warn("cannot write output");
        clearerr(col->out);
        collector_stop(col, EXIT_RUNTIME);
    }
    if (col->pcap && ferror(col->pcap)) {
        log_warn("cannot write the pcap file");
        clearerr(col->pcap);
        collector_stop(col, EXIT_RUNTIME);
    }
}

static void on_flush(uv_check_t *h)
{
    struct collector *col = h->data;

    /* Runs once per loop iteration, after the I/O callbacks: one flush
     * per batch of reads keeps output prompt without a write per line. */
    if (!col->dirty)
        return;
    col->dirty = 0;
    fflush(col->out);
    if (col->pcap)
        fflush(col->pcap);
    output_check(col);
}

/* A JSON string. The text dnsprint writes is printable ASCII already
 * (names and character strings escape everything else as \DDD), so
 * this only has to add backslashes; control characters and bytes above
 * 0x7e, which it never sees, would become \u00XX (the byte read as
 * Latin-1), so the line stays valid JSON whatever the input. */
static void json_str(FILE *f, const char *s)
{
    static const char digits[] = "0123456789abcdef";
    const char *run = s;

    putc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
        size_t n = 6;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            continue;
        fwrite(run, 1, (size_t)(s - run), f);
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            n = 2;
        } else {
            esc[4] = digits[c >> 4];
            esc[5] = digits[c & 0xf];
        }
        fwrite(esc, 1, n, f);
        run = s + 1;
    }
    fwrite(run, 1, (size_t)(s - run), f);
    putc('"', f);
}

/* RFC 3339, UTC, microseconds: 2024-05-01T12:34:56.123456Z. */
static void format_time(const struct timespec *ts, char *buf, size_t size)
{
    struct tm tm;
    time_t t = ts->tv_sec;

    gmtime_r(&t, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)(ts->tv_nsec / 1000));
}

static void output_json(struct collector *col, const struct timespec *ts,
                        const char *peer, const char *proto,
                        const uint8_t ns[4], const uint8_t *dns,
                        size_t dns_len, const struct dnsprint_msg *m)
{
    static const struct {
        uint16_t bit;
        const char *key;
    } flags[] = {
        { DNSPRINT_FLAG_QR, "qr" }, { DNSPRINT_FLAG_AA, "aa" },
        { DNSPRINT_FLAG_TC, "tc" }, { DNSPRINT_FLAG_RD, "rd" },
        { DNSPRINT_FLAG_RA, "ra" }, { DNSPRINT_FLAG_AD, "ad" },
        { DNSPRINT_FLAG_CD, "cd" },
    };
    FILE *f = col->out;
    char when[128], name[DNSPRINT_NAME_MAX];
    char b1[DNSPRINT_MNEMONIC_MAX], b2[DNSPRINT_MNEMONIC_MAX];
    size_t pos = m->answers;

    format_time(ts, when, sizeof(when));
    fprintf(f, "{\"time\":\"%s\",\"sender\":", when);
    json_str(f, peer);
    fprintf(f, ",\"proto\":\"%s\",\"nameserver\":", proto);
    if (ns[0] | ns[1] | ns[2] | ns[3])
        fprintf(f, "\"%u.%u.%u.%u\"", ns[0], ns[1], ns[2], ns[3]);
    else
        fputs("null", f);
    fprintf(f, ",\"id\":%u", (unsigned)m->id);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        fprintf(f, ",\"%s\":%s", flags[i].key,
                m->flags & flags[i].bit ? "true" : "false");
    fprintf(f, ",\"opcode\":\"%s\",\"rcode\":\"%s\",\"question\":",
            dnsprint_opcode(m->opcode, b1), dnsprint_rcode(m->rcode, b2));
    if (m->has_question) {
        fputs("{\"name\":", f);
        json_str(f, m->qname);
        fprintf(f, ",\"type\":\"%s\",\"class\":\"%s\"}",
                dnsprint_type(m->qtype, b1), dnsprint_class(m->qclass, b2));
    } else {
        fputs("null", f);
    }
    fputs(",\"answers\":[", f);
    for (unsigned i = 0; i < m->ancount; i++) {
        struct dnsprint_rr rr;

        /* dnsprint_walk() has checked every record already, so these
         * cannot fail; if they did, the list would end early. */
        if (dnsprint_rr(dns, dns_len, pos, &rr, &pos) < 0 ||
            dnsprint_name(dns, dns_len, rr.owner, name, sizeof(name),
                          NULL) < 0 ||
            dnsprint_rdata(dns, dns_len, &rr, col->rdata,
                           DNSPRINT_RDATA_MAX) < 0)
            break;
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        json_str(f, name);
        fprintf(f, ",\"ttl\":%" PRIu32 ",\"class\":\"%s\","
                "\"type\":\"%s\",\"data\":", rr.ttl,
                dnsprint_class(rr.cls, b1), dnsprint_type(rr.type, b2));
        json_str(f, col->rdata);
        putc('}', f);
    }
    fprintf(f, "],\"authority_count\":%u,\"additional_count\":%u,"
            "\"length\":%zu}\n",
            (unsigned)m->nscount, (unsigned)m->arcount, dns_len);
}

static void output_text(struct collector *col, const char *peer,
                        const char *proto, const uint8_t ns[4],
                        const struct dnsprint_msg *m)
{
    char summary[DNSPRINT_SUMMARY_MAX];
    char nsbuf[16];

    if (ns[0] | ns[1] | ns[2] | ns[3])
        snprintf(nsbuf, sizeof(nsbuf), "%u.%u.%u.%u", ns[0], ns[1], ns[2],
                 ns[3]);
    else
        strcpy(nsbuf, "0");
    /* DNSPRINT_SUMMARY_MAX is documented to be always enough. */
    dnsprint_summary(m, summary, sizeof(summary));
    fprintf(col->out, "%s %s ns=%s %s\n", peer, proto, nsbuf, summary);
}

static void output_hex(struct collector *col, const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char chunk[1024];
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        chunk[n++] = digits[buf[i] >> 4];
        chunk[n++] = digits[buf[i] & 0xf];
        if (n == sizeof(chunk)) {
            fwrite(chunk, 1, n, col->out);
            n = 0;
        }
    }
    chunk[n++] = '\n'; /* there is always room: n is even, below 1024 */
    fwrite(chunk, 1, n, col->out);
}

/* The message as a UDP packet from the nameserver (0.0.0.0 when the
 * field is zero) to 127.0.0.1, both port 53. tapxfr puts the source
 * address of an AA response into the field, so tapxfr -r gives back the
 * same DNSXFR01 message whenever the field is zero or AA is set: for
 * everything tapxfr sends. */
static void output_pcap(struct collector *col, const struct timespec *ts,
                        const char *peer, const uint8_t ns[4],
                        const uint8_t *dns, size_t dns_len)
{
    static const uint8_t dst[4] = { 127, 0, 0, 1 };
    uint8_t prefix[DNSPRINT_PCAP_RECORD_PREFIX_LEN];

    if (dnsprint_pcap_record(prefix, (uint32_t)ts->tv_sec,
                             (uint32_t)(ts->tv_nsec / 1000), ns, dst,
                             dns_len) < 0) {
        col->pcap_too_long++;
        log_debug("message from %s: %zu bytes of DNS are too long for an "
                  "IPv4 packet, not in the pcap file", peer, dns_len);
        return;
    }
    fwrite(prefix, 1, sizeof(prefix), col->pcap);
    fwrite(dns, 1, dns_len, col->pcap);
}

/* Checks and prints one DNSXFR01 message (without TCP prefix), received
 * at ts. */
static int collect_message(struct collector *col, const struct timespec *ts,
                           const char *peer, const char *proto,
                           const uint8_t *buf, size_t len)
{
    const uint8_t *ns, *dns;
    size_t dns_len;
    struct dnsprint_msg m;
    int rc;

    if (dnsxfr_parse(buf, len, &ns, &dns, &dns_len) < 0) {
        col->invalid++;
        log_debug("invalid message from %s (%s): %s", peer, proto,
                  len < DNSXFR_HEADER_LEN ? "shorter than the header"
                                          : "bad magic");
        return MSG_BAD_FRAME;
    }
    rc = dnsprint_walk(dns, dns_len, &m);
    if (rc < 0) {
        col->invalid++;
        log_debug("invalid message from %s (%s): DNS message %s", peer,
                  proto, dnsprint_strerror(rc));
        return MSG_BAD_DNS;
    }
    if (col->format == FORMAT_HEX)
        output_hex(col, buf, len);
    else if (col->format == FORMAT_TEXT)
        output_text(col, peer, proto, ns, &m);
    else
        output_json(col, ts, peer, proto, ns, dns, dns_len, &m);
    if (col->pcap)
        output_pcap(col, ts, peer, ns, dns, dns_len);
    col->dirty = 1;
    col->received++;
    output_check(col);
    if (col->limit && col->received >= col->limit) {
        log_debug("%" PRIu64 " messages received, stopping", col->received);
        collector_stop(col, EXIT_OK);
    }
    return MSG_OK;
}

/* ----------------------------------------------------------------- UDP */

static void on_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct listener *l = h->data;

    *buf = uv_buf_init((char *)l->col->udp_buf, COLLECT_UDP_BUF);
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags)
{
    struct listener *l = h->data;
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

/* ----------------------------------------------------------------- TCP */

/* The stream cannot be resynchronized after a bad frame: there is no
 * marker to search for, so the connection goes. */
static void protocol_error(struct conn *cn, const char *why, size_t flen)
{
    cn->col->invalid++;
    log_debug("protocol error from %s (tcp): %s (frame length %zu), "
              "closing", cn->peer, why, flen);
    conn_close(cn);
}

/* Consumes every complete frame in the buffer and keeps the rest for the
 * next read, so frames may be split or merged across reads at will. A
 * frame's reception time is that of the read that completed it. */
static void conn_consume(struct conn *cn, const struct timespec *now)
{
    struct collector *col = cn->col;
    size_t off = 0;

    while (!col->stopping) {
        size_t avail = cn->fill - off;
        size_t flen;

        if (avail < DNSXFR_TCP_PREFIX)
            break;
        flen = rd16(cn->buf + off);
        if (flen < DNSXFR_HEADER_LEN) {
            protocol_error(cn, "frame shorter than the header", flen);
            return;
        }
        /* Checking the magic as soon as it is in lets a peer speaking
         * another protocol be dropped now, not after up to 64 KiB. */
        if (avail >= DNSXFR_TCP_PREFIX + DNSXFR_MAGIC_LEN &&
            memcmp(cn->buf + off + DNSXFR_TCP_PREFIX, DNSXFR_MAGIC,
                   DNSXFR_MAGIC_LEN) != 0) {
            protocol_error(cn, "bad magic", flen);
            return;
        }
        if (avail < DNSXFR_TCP_PREFIX + flen)
            break;
        collect_message(col, now, cn->peer, "tcp",
                        cn->buf + off + DNSXFR_TCP_PREFIX, flen);
        off += DNSXFR_TCP_PREFIX + flen;
    }
    if (off > 0) {
        memmove(cn->buf, cn->buf + off, cn->fill - off);
        cn->fill -= off;
    }
}

static void on_tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *cn = h->data;
    size_t want = COLLECT_TCP_BUF_INITIAL;

    /* conn_consume() leaves at most one incomplete frame, whose length is
     * known once its prefix is in: grow to hold exactly that frame. */
    if (cn->fill >= DNSXFR_TCP_PREFIX &&
        DNSXFR_TCP_PREFIX + (size_t)rd16(cn->buf) > want)
        want = DNSXFR_TCP_PREFIX + (size_t)rd16(cn->buf);
    if (cn->cap < want) {
        uint8_t *p = realloc(cn->buf, want);

        if (!p) {
            /* libuv reports UV_ENOBUFS to on_tcp_read, which closes. */
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        cn->buf = p;
        cn->cap = want;
    }
    *buf = uv_buf_init((char *)cn->buf + cn->fill,
                       (unsigned)(cn->cap - cn->fill));
}

static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *cn = s->data;
    struct timespec now;

    if (nread < 0) {
        if (nread == UV_EOF && cn->fill > 0) {
            cn->col->invalid++;
            log_debug("connection from %s closed inside a message",
                      cn->peer);
        } else if (nread == UV_EOF) {
            log_debug("connection from %s closed", cn->peer);
        } else if (nread == UV_ENOBUFS) {
            log_warnx("out of memory reading from %s, closing", cn->peer);
        } else {
            log_debug("connection from %s: %s", cn->peer,
                      uv_strerror((int)nread));
        }
        conn_close(cn);
        return;
    }
    cn->fill += (size_t)nread;
    clock_gettime(CLOCK_REALTIME, &now);
    conn_consume(cn, &now);
}

static void on_banner_written(uv_write_t *req, int status)
{
    struct conn *cn = req->data;

    /* UV_ECANCELED: the connection is already being closed. */
    if (status < 0 && status != UV_ECANCELED) {
        log_debug("cannot send banner to %s: %s", cn->peer,
                  uv_strerror(status));
        conn_close(cn);
    }
}

static void on_tcp_connection(uv_stream_t *server, int status)
{
    struct listener *l = server->data;
    struct collector *col = l->col;
    struct sockaddr_storage ss;
    int ss_len = sizeof(ss);
    struct conn *cn;
    int rc;

    if (status < 0) {
        log_warnx("accept: %s", uv_strerror(status));
        return;
    }
    cn = calloc(1, sizeof(*cn));
    if (!cn) {
        log_warnx("out of memory accepting a connection");
        return;
    }
    rc = uv_tcp_init(&col->loop, &cn->tcp);
    if (rc < 0) {
        log_warnx("accept: %s", uv_strerror(rc));
        free(cn);
        return;
    }
    cn->tcp.data = cn;
    cn->banner_req.data = cn;
    cn->col = col;
    strcpy(cn->peer, "?");
    cn->next = col->conns;
    if (col->conns)
        col->conns->prev = cn;
    col->conns = cn;
    col->n_conns++;

    rc = uv_accept(server, (uv_stream_t *)&cn->tcp);
    if (rc < 0) {
        log_warnx("accept: %s", uv_strerror(rc));
        goto fail;
    }
    if (uv_tcp_getpeername(&cn->tcp, (struct sockaddr *)&ss, &ss_len) == 0)
        netaddr_str((struct sockaddr *)&ss, cn->peer, sizeof(cn->peer));
    if (col->n_conns > COLLECT_MAX_CONNS) {
        col->refused++;
        log_debug("too many connections, refusing %s", cn->peer);
        goto fail;
    }
    log_debug("connection from %s", cn->peer);
    if (col->banner_len > 0) {
        uv_buf_t b = uv_buf_init(col->banner, (unsigned)col->banner_len);

        rc = uv_write(&cn->banner_req, (uv_stream_t *)&cn->tcp, &b, 1,
                      on_banner_written);
        if (rc < 0) {
            log_debug("cannot send banner to %s: %s", cn->peer,
                      uv_strerror(rc));
            goto fail;
        }
    }
    rc = uv_read_start((uv_stream_t *)&cn->tcp, on_tcp_alloc, on_tcp_read);
    if (rc < 0) {
        log_debug("cannot read from %s: %s", cn->peer, uv_strerror(rc));
        goto fail;
    }
    return;

fail:
    conn_close(cn);
}

/* ------------------------------------------------------------- startup */

static void on_signal(uv_signal_t *h, int signum)
{
    struct collector *col = h->data;

    log_debug("signal %d, stopping", signum);
    collector_stop(col, EXIT_OK);
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

static int listener_start(struct collector *col, const struct listen_spec *s)
{
    struct listener *l = &col->listeners[col->n_listeners];
    const struct sockaddr *sa = (const struct sockaddr *)&s->addr;
    const char *proto = s->proto == PROTO_UDP ? "udp" : "tcp";
    struct sockaddr_storage bound;
    int bound_len = sizeof(bound);
    char text[NETADDR_STRLEN];
    int rc;

    l->proto = s->proto;
    l->col = col;
    if (s->proto == PROTO_UDP)
        rc = uv_udp_init(&col->loop, &l->u.udp);
    else
        rc = uv_tcp_init(&col->loop, &l->u.tcp);
    if (rc < 0)
        goto fail;
    l->u.handle.data = l;
    col->n_listeners++;

    if (s->proto == PROTO_UDP) {
        rc = uv_udp_bind(&l->u.udp, sa, 0);
        if (rc == 0)
            grow_rcvbuf(&l->u.udp);
        if (rc == 0)
            rc = uv_udp_recv_start(&l->u.udp, on_udp_alloc, on_udp_recv);
        if (rc == 0)
            rc = uv_udp_getsockname(&l->u.udp, (struct sockaddr *)&bound,
                                    &bound_len);
    } else {
        /* A bind error on a TCP socket surfaces only at uv_listen(). */
        rc = uv_tcp_bind(&l->u.tcp, sa, 0);
        if (rc == 0)
            rc = uv_listen(&l->u.stream, COLLECT_TCP_BACKLOG,
                           on_tcp_connection);
        if (rc == 0)
            rc = uv_tcp_getsockname(&l->u.tcp, (struct sockaddr *)&bound,
                                    &bound_len);
    }
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
static int collector_open(struct collector *col, const struct opts *o)
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
    if (o->pcap) {
        uint8_t header[DNSPRINT_PCAP_FILE_HEADER_LEN];

        col->pcap = fopen(o->pcap, "wb");
        if (!col->pcap) {
            log_warn("cannot open %s", o->pcap);
            goto fail;
        }
        setvbuf(col->pcap, NULL, _IOFBF, COLLECT_OUT_BUF);
        dnsprint_pcap_file_header(header);
        fwrite(header, 1, sizeof(header), col->pcap);
        /* A reader started now finds a valid, empty file. */
        if (fflush(col->pcap) != 0) {
            log_warn("cannot write %s", o->pcap);
            goto fail;
        }
    }
    col->banner = make_banner(o->banner ? o->banner : COLLECT_DEFAULT_BANNER,
                              &col->banner_len);
    col->udp_buf = malloc(COLLECT_UDP_BUF);
    if (col->format == FORMAT_JSON)
        col->rdata = malloc(DNSPRINT_RDATA_MAX);
    if (!col->banner || !col->udp_buf ||
        (col->format == FORMAT_JSON && !col->rdata)) {
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
    rc = uv_check_start(&col->flusher, on_flush);
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
    collector_stop(col, EXIT_RUNTIME);
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
            status = EXIT_RUNTIME;
        }
    }
    if (fflush(col->out) != 0 || ferror(col->out)) {
        log_warn("cannot write output");
        status = EXIT_RUNTIME;
    }
    if (col->out_is_file && fclose(col->out) != 0) {
        log_warn("cannot close output");
        status = EXIT_RUNTIME;
    }
    if (col->pcap) {
        int bad = ferror(col->pcap);

        if (fclose(col->pcap) != 0 || bad) {
            log_warn("cannot write the pcap file");
            status = EXIT_RUNTIME;
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

/* -------------------------------------------------------- command line */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [-u ADDR:PORT]... [-t ADDR:PORT]... "
            "[-f json|text|hex] [-n N]\n"
            "       [-o FILE] [--pcap FILE] [--banner TEXT] [-v]\n"
            "       " PROG " -h | -V\n"
            "\n"
            "Receives DNSXFR01 messages and prints one line per valid "
            "message.\n"
            "\n"
            "  -u, --udp ADDR:PORT     listen on UDP (repeatable, port 0: "
            "any free port)\n"
            "  -t, --tcp ADDR:PORT     listen on TCP (repeatable)\n"
            "  -f, --format FORMAT     json (default: one JSON object per "
            "line), text or hex\n"
            "  -n, --count N           exit after N valid messages (0: "
            "never)\n"
            "  -o, --output FILE       append lines to FILE instead of "
            "stdout\n"
            "      --pcap FILE         also write every valid message as a "
            "UDP packet\n"
            "                          to the pcap file FILE (truncated "
            "first)\n"
            "      --banner TEXT       TCP banner (default "
            "\"dnslogger/DNSXFR01\";\n"
            "                          CR LF appended, empty: none)\n"
            "  -v, --verbose           debug lines on stderr\n"
            "  -h, --help              print this help and exit\n"
            "  -V, --version           print the version and exit\n"
            "\n"
            "ADDR is an IPv4 address or a bracketed IPv6 address, e.g. "
            "[::1]:5353.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    return -1;
}

static int parse_count(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

enum { OPT_BANNER = 256, OPT_PCAP };

/* Returns 0 to run, 1 when --help or --version was handled, -1 on a bad
 * command line (one line already printed). */
static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        { "udp", required_argument, NULL, 'u' },
        { "tcp", required_argument, NULL, 't' },
        { "format", required_argument, NULL, 'f' },
        { "count", required_argument, NULL, 'n' },
        { "output", required_argument, NULL, 'o' },
        { "banner", required_argument, NULL, OPT_BANNER },
        { "pcap", required_argument, NULL, OPT_PCAP },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    char optname[3] = "-?";
    int c;

    memset(o, 0, sizeof(*o));
    o->format = FORMAT_JSON;
    /* Our own messages: getopt's would add a second line to ours. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":u:t:f:n:o:vhV", longopts, NULL)) !=
           -1) {
        struct listen_spec *ls;

        switch (c) {
        case 'u':
        case 't':
            if (o->n_listen == COLLECT_MAX_LISTENERS)
                return usage_error("too many listeners (at most 64), "
                                   "at %s", optarg);
            ls = &o->listen[o->n_listen];
            ls->proto = c == 'u' ? PROTO_UDP : PROTO_TCP;
            ls->text = optarg;
            if (netaddr_parse(optarg, -1, &ls->addr, &ls->addr_len) < 0)
                return usage_error("invalid listen address '%s', expected "
                                   "ADDR:PORT", optarg);
            o->n_listen++;
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0)
                o->format = FORMAT_JSON;
            else if (strcmp(optarg, "text") == 0)
                o->format = FORMAT_TEXT;
            else if (strcmp(optarg, "hex") == 0)
                o->format = FORMAT_HEX;
            else
                return usage_error("invalid format '%s', expected json, "
                                   "text or hex", optarg);
            break;
        case 'n':
            if (parse_count(optarg, &o->count) < 0)
                return usage_error("invalid count '%s', expected a "
                                   "non-negative integer", optarg);
            break;
        case 'o':
            if (*optarg == '\0')
                return usage_error("empty output file name%s", "");
            o->output = optarg;
            break;
        case OPT_BANNER:
            o->banner = optarg;
            break;
        case OPT_PCAP:
            if (*optarg == '\0')
                return usage_error("empty pcap file name%s", "");
            o->pcap = optarg;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf(PROG " %s\n", PACKAGE_VERSION);
            return 1;
        case ':':
            /* glibc leaves optind past the option that lacked its
             * argument; a long one is named by that element. */
            if (strncmp(argv[optind - 1], "--", 2) == 0)
                return usage_error("option %s needs an argument",
                                   argv[optind - 1]);
            optname[1] = (char)optopt;
            return usage_error("option %s needs an argument", optname);
        default:
            /* optopt is 0 for an unknown or ambiguous long option. */
            if (optopt == 0)
                return usage_error("unknown or ambiguous option %s",
                                   argv[optind - 1]);
            optname[1] = (char)optopt;
            return usage_error("unknown option %s", optname);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->n_listen == 0)
        return usage_error("no listener given, use -u and/or -t%s", "");
    return 0;
}

int main(int argc, char **argv)
{
    static struct opts o; /* large: listen addresses */
    static struct collector col;
    int rc;

    rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        if (fflush(stdout) != 0)
            return EXIT_RUNTIME;
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    log_init(PROG, 0, o.verbose, 0);
    /* A collector whose TCP peer vanished must see EPIPE, not die. */
    signal(SIGPIPE, SIG_IGN);

    collector_open(&col, &o);
    if (col.loop_open)
        uv_run(&col.loop, UV_RUN_DEFAULT);
    rc = collector_close(&col);
    log_close();
    return rc;
}
