/* collect.h: the state tapxfr-collect's files share (internal to
 * collect/).
 *
 * tapxfr-collect is a small DNSXFR01 collector. It listens on UDP and TCP
 * sockets, checks every DNSXFR01 message it receives (magic, then a full
 * walk of the DNS message) and prints one line per valid message: a JSON
 * object with the answers decoded, a text summary, or hex. With --pcap it
 * also writes every valid message as a UDP packet into a pcap file. It
 * exists to test tapxfr end to end and to look at a live feed; it is not
 * a store.
 *
 * One libuv loop, handles embedded by value and closed through their close
 * callbacks; shutdown (signal, -n reached, fatal error) closes every
 * handle and then checks that uv_loop_close() returns 0. The one struct
 * collector owns the loop, every handle, the output streams and every
 * buffer; main.c opens and closes it, the other files only borrow it.
 *
 *   main.c     lifecycle: open, stop, close, signals, listeners
 *   args.c     the command line
 *   udp.c      UDP receive
 *   tcp.c      TCP accept, banner and the framing reader
 *   message.c  one received message: check, print, count; flushing
 *   format.c   the json, text and hex lines
 *   pcapout.c  the pcap file */
#ifndef TAPXFR_COLLECT_COLLECT_H
#define TAPXFR_COLLECT_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#include "codec/dnsprint.h"
#include "codec/dnsxfr.h"
#include "netaddr.h"

#define COLLECT_PROG "tapxfr-collect"
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

enum collect_exit {
    COLLECT_EXIT_OK = 0,
    COLLECT_EXIT_RUNTIME = 1,
    COLLECT_EXIT_USAGE = 2,
};

enum collect_proto { COLLECT_UDP, COLLECT_TCP };

enum collect_format { COLLECT_JSON, COLLECT_TEXT, COLLECT_HEX };

/* What collect_message() made of one DNSXFR01 message. */
enum collect_verdict {
    COLLECT_MSG_OK = 0,
    COLLECT_MSG_BAD_FRAME = -1, /* too short or bad magic: the stream is
                                   not ours */
    COLLECT_MSG_BAD_DNS = -2,   /* framing fine, DNS part fails the walk */
};

struct collect_listen {
    enum collect_proto proto;
    const char *text; /* as given, for error messages */
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

struct collect_opts {
    struct collect_listen listen[COLLECT_MAX_LISTENERS];
    int n_listen;
    enum collect_format format;
    uint64_t count; /* -n, 0: no limit */
    const char *output;
    const char *pcap;   /* --pcap, NULL: none */
    const char *banner; /* NULL: the default */
    int verbose;
};

struct collector;

struct collect_listener {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_udp_t udp;
        uv_tcp_t tcp;
    } u;
    enum collect_proto proto;
    struct collector *col;
};

/* One accepted TCP connection. It lives on the heap, linked into the
 * collector's list, and is freed only in its close callback. */
struct collect_conn {
    uv_tcp_t tcp;
    uv_write_t banner_req;
    struct collector *col;
    struct collect_conn *prev, *next;
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
    struct collect_listener listeners[COLLECT_MAX_LISTENERS];
    int n_listeners; /* initialized handles, closed at shutdown */
    struct collect_conn *conns;
    unsigned n_conns;

    FILE *out;
    int out_is_file;
    FILE *pcap; /* NULL: no --pcap */
    int dirty;  /* lines or packets written since the last flush */
    enum collect_format format;
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

/* main.c */

/* Starts an orderly stop: every handle is closed, uv_run() returns once
 * their close callbacks have run. status only ever goes up, so a failure
 * is not hidden by a later clean stop. */
void collect_stop(struct collector *col, int status);

/* args.c */

/* Returns 0 to run, 1 when --help or --version was handled, -1 on a bad
 * command line (one line already printed). */
int collect_parse_args(int argc, char **argv, struct collect_opts *o);

/* udp.c */

/* Binds the initialized handle l->u.udp to sa, grows its receive buffer
 * and starts receiving. Returns 0 or a libuv error. */
int collect_udp_listen(struct collect_listener *l, const struct sockaddr *sa);

/* tcp.c */

/* Binds the initialized handle l->u.tcp to sa and starts accepting.
 * Returns 0 or a libuv error. */
int collect_tcp_listen(struct collect_listener *l, const struct sockaddr *sa);

/* Closes the connection, unless it is closing already; it is unlinked and
 * freed in its close callback. */
void collect_conn_close(struct collect_conn *cn);

/* message.c */

/* Checks and prints one DNSXFR01 message (without TCP prefix), received
 * at ts; returns an enum collect_verdict. */
int collect_message(struct collector *col, const struct timespec *ts,
                    const char *peer, const char *proto, const uint8_t *buf,
                    size_t len);

/* Stops the collector when an output stream has failed. */
void collect_output_check(struct collector *col);

/* The flusher's callback (col->flusher). */
void collect_on_flush(uv_check_t *h);

/* format.c: one line on col->out per valid message. */

void collect_print_json(struct collector *col, const struct timespec *ts,
                        const char *peer, const char *proto,
                        const uint8_t ns[4], const uint8_t *dns,
                        size_t dns_len, const struct dnsprint_msg *m);
void collect_print_text(struct collector *col, const char *peer,
                        const char *proto, const uint8_t ns[4],
                        const struct dnsprint_msg *m);
void collect_print_hex(struct collector *col, const uint8_t *buf, size_t len);

/* pcapout.c */

/* Creates (truncates) the pcap file at path as col->pcap and writes its
 * header. Returns 0, or -1 with a warning logged. */
int collect_pcap_open(struct collector *col, const char *path);

/* Appends the message as one packet of the pcap file. */
void collect_pcap_write(struct collector *col, const struct timespec *ts,
                        const char *peer, const uint8_t ns[4],
                        const uint8_t *dns, size_t dns_len);

#endif
