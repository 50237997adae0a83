/* dtsock.h: the dnstap listener: a Unix socket (--dnstap-socket) or a TCP
 * socket (--dnstap-listen) that DNS servers connect to as Frame Streams
 * writers.
 *
 * tapxfr creates the Unix socket itself: Unbound, Knot, BIND and kresd
 * connect to an existing reader and retry while it is absent. A stale
 * socket left by a previous run is removed; a path that is not a socket,
 * or a socket another process still listens on, is refused.
 *
 * Each connection has its own Frame Streams state (codec/frame.h) and a
 * handshake deadline; a protocol violation closes that connection only.
 * A connection stops reading only while a UDP collector's queue lacks room
 * for one more read (stage_full_live()): that queue drains at the pace
 * of tapxfr's own sending thread, and the writer's buffers hold the rest
 * for that moment. Behind a full TCP collector, records are dropped and
 * counted instead: a slow collector never slows down the DNS server. */
#ifndef TAPXFR_INPUT_DTSOCK_H
#define TAPXFR_INPUT_DTSOCK_H

#include <sys/socket.h>
#include <sys/types.h>
#include <uv.h>

#include "input/dtin.h"

#define DTSOCK_MAX_CONNS 1024
#define DTSOCK_HANDSHAKE_MS 10000 /* default of --dnstap-timeout */
#define DTSOCK_READ_BUF (256 * 1024)
/* What one read can add to a queue: a data frame holding a response is at
 * least 12 bytes and its queue entry at most 2 bytes longer. */
#define DTSOCK_PAUSE_BYTES (2 * DTSOCK_READ_BUF)
#define DTSOCK_PAUSE_MSGS (DTSOCK_READ_BUF / 12)

struct dtconn;

struct dtsock {
    uv_loop_t *loop;
    struct dtin in;
    const char *path; /* Unix socket path, or NULL for TCP */
    struct sockaddr_storage addr;
    union dtsock_listener {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } *listener; /* on the heap: a removed socket file gets a new one */
    ino_t ino;   /* of the socket file we created */
    unsigned mode;
    gid_t gid;
    size_t max_frame;
    unsigned handshake_ms;
    struct dtconn *conns; /* doubly linked */
    int n_conns;
    uint8_t *rbuf; /* one read buffer: libuv reads one stream at a time */
    int rbuf_busy;
    int closing;
    int open_handles;
    void (*on_closed)(struct dtsock *s);
    void *data;
};

struct dtsock_opts {
    const char *path;       /* Unix socket, or NULL */
    const char *listen;     /* "ADDR:PORT" for TCP, or NULL */
    unsigned mode;          /* Unix socket permissions */
    gid_t gid;              /* (gid_t)-1: leave the group */
    size_t max_frame;
    unsigned handshake_ms;
    uint32_t types;
};

/* Creates the socket and starts listening. errbuf receives one line on
 * failure. Returns 0 or a negative code. */
int dtsock_init(struct dtsock *s, uv_loop_t *loop, struct stage *stage,
                const struct dtsock_opts *o,
                char *errbuf, size_t errlen);

/* Re-creates the Unix socket if its file was removed or replaced (on
 * SIGHUP): writers connecting later reach this tapxfr again. Connected
 * writers are not affected. Returns 1 if re-created, 0 if nothing to do,
 * or a negative code (logged). */
int dtsock_check(struct dtsock *s);

/* Reads again on the connections paused for room (the stage's on_room). */
void dtsock_resume(struct dtsock *s);

/* Closes the listener and every connection (their queued replies are
 * abandoned), removes the socket file; cb runs when all handles closed. */
void dtsock_close(struct dtsock *s, void (*cb)(struct dtsock *s));

#endif
