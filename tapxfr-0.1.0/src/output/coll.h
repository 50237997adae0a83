/* coll.h: one collector: what every kind of collector shares, and the
 * table of operations through which a kind plugs in.
 *
 * The base owns the collector's name, its bounded queue, its counters,
 * its timer, and the way to an address (resolve, back off, reconnect):
 *   RESOLVE -> CONNECT -> BANNER (TCP only) -> READY
 *   any failure -> BACKOFF -> RESOLVE ...   (100 ms doubling to 5 s,
 *   reset once a connection made progress)
 *   CLOSED after coll_close().
 * Every state change goes through coll_set_state(), which logs it at
 * debug level.
 *
 * A kind (output/udp.c, output/tcp.c: one file each, listed in
 * output/kinds.c) fills a struct coll_ops: how to connect, how to encode a
 * record into the queue, how to send what is queued, what to do when the
 * timer fires or the socket is ready, how to stop. It reports back only
 * through the coll_* functions below; the base tells its owner (the
 * collector set) that something moved through the on_progress pointer,
 * and the owner acts on it later, on the loop, never inside the call. */
#ifndef TAPXFR_OUTPUT_COLL_H
#define TAPXFR_OUTPUT_COLL_H

#include <sys/socket.h>
#include <uv.h>

#include "output/queue.h"
#include "record.h"
#include "stats/stats.h"

#define COLL_BACKOFF_MIN_MS 100
#define COLL_BACKOFF_MAX_MS 5000
#define COLL_SNDBUF (4 << 20)

enum coll_state {
    COLL_RESOLVE,
    COLL_CONNECT,
    COLL_BANNER,
    COLL_READY,
    COLL_BACKOFF,
    COLL_CLOSED,
};

struct coll;

/* What a collector needs from the configuration; owned by the caller and
 * valid for the collector's life. */
struct coll_conf {
    const struct sockaddr_storage *bind_addr; /* -b, or NULL */
    socklen_t bind_len;
    size_t queue_bytes, queue_msgs;
    unsigned banner_ms; /* connect + banner deadline (TCP) */
};

struct coll_ops {
    int socktype; /* SOCK_DGRAM or SOCK_STREAM: for resolving */
    size_t overhead; /* queue bytes an entry adds to its DNS message, at most */
    /* Whether the queue drains at tapxfr's own pace (a sending thread of
     * ours): inputs that can wait should wait for it rather than drop. */
    int paces_inputs;
    /* Allocates c->priv. Returns 0 or a negative errno. */
    int (*init)(struct coll *c);
    /* c->addr is set: open a socket (coll_socket()) and start connecting;
     * the kind moves the state to READY when it can send. */
    int (*connect)(struct coll *c);
    /* Encodes r into the queue. Returns 0, or -ENOBUFS when it does not
     * fit (the caller counts the drop). */
    int (*encode)(struct coll *c, const struct rec *r);
    /* Sends (or hands over) what is queued; called each loop iteration, at
     * shutdown and when a good batch waits. */
    void (*flush)(struct coll *c);
    /* The socket is ready for events (see coll_poll()), or failed. */
    void (*event)(struct coll *c, int status, int events);
    /* The timer armed with coll_arm_timer() fired. */
    void (*timeout)(struct coll *c);
    /* The connection is about to go, or the queue about to be emptied:
     * stop sending and settle what was sent. */
    void (*stop)(struct coll *c);
    /* Frees c->priv; every handle of the kind is closed. */
    void (*free)(struct coll *c);
};

/* A poll handle with the socket it owns: the socket is closed in the
 * handle's close callback, so it is never closed while being polled. */
struct coll_sock {
    uv_poll_t poll;
    int fd;
    struct coll *coll;
    int events;
};

struct coll {
    uv_loop_t *loop;
    const struct coll_ops *ops;
    const struct coll_conf *conf;
    char name[300]; /* "udp://host:port" */
    char host[256], port[8];
    struct sockaddr_storage addr;
    socklen_t addr_len;
    enum coll_state state;
    struct queue q;
    struct stats_out st;
    struct coll_sock *sock; /* NULL when not connected */
    uv_timer_t timer;       /* backoff, and the kind's deadlines */
    uv_getaddrinfo_t gai;
    int gai_busy;
    uint64_t backoff_ms;
    int failures; /* consecutive, for quiet logging */
    int closing;
    int open_handles; /* timer, resolver, socket, and the kind's own */
    void *priv;       /* the kind's state */
    /* The owner's: something was sent or dropped (may come from inside
     * any coll_* call; the owner must only take note). */
    void (*on_progress)(struct coll *c);
    void (*on_closed)(struct coll *c);
    void *data;
};

/* Sets up a collector of the given kind for scheme://host:port. Returns 0
 * or a negative errno (nothing to close). */
int coll_init(struct coll *c, uv_loop_t *loop, const struct coll_ops *ops,
              const char *scheme, const char *host, const char *port,
              const struct coll_conf *conf);

/* Resolves and connects (asynchronously; failures are retried with
 * backoff, never fatal). */
void coll_start(struct coll *c);

/* Encodes and queues a record; counts it as queued, or as drop_queue_full. */
void coll_submit(struct coll *c, const struct rec *r);

/* Sends what is queued when the collector is ready. */
void coll_flush(struct coll *c);

/* At the flush deadline: what is still queued is dropped, counted. */
void coll_discard(struct coll *c);

/* Closes every handle; on_closed runs from the last close callback. */
void coll_close(struct coll *c, void (*on_closed)(struct coll *c));

/* Frees the queue and the kind's state, after on_closed. */
void coll_free(struct coll *c);

/* Refreshes the gauges in c->st (queued_messages, collector_up). */
void coll_refresh_stats(struct coll *c);

/* For the kinds: */
void coll_set_state(struct coll *c, enum coll_state s);
/* Drops the connection (if any) and schedules a reconnect. why is logged. */
void coll_fail(struct coll *c, const char *why, int err);
/* Opens a non-blocking socket of the given type to c->addr and starts
 * connecting. Returns 0 (connected or in progress) or a negative errno. */
int coll_socket(struct coll *c, int type);
/* Arms the collector's timer; ops->timeout runs when it fires. */
void coll_arm_timer(struct coll *c, uint64_t ms);
void coll_stop_timer(struct coll *c);
/* Sets the events the socket is polled for; ops->event gets them. */
void coll_poll(struct coll *c, int events);
/* Notes that the head entries of total bytes / n messages went out. */
void coll_sent(struct coll *c, size_t bytes, size_t n);
/* Notes that the head entries were dropped for the given reason. */
void coll_dropped(struct coll *c, size_t bytes, size_t n, enum stats_drop why);
/* Encodes r as a queue entry of the DNSXFR01 kinds: the 16-bit length,
 * then the DNSXFR01 message (the TCP framing; UDP skips the length).
 * Returns 0 or -ENOBUFS. */
int coll_queue_dnsxfr(struct coll *c, const struct rec *r);
/* For a kind that holds handles of its own: one more / one less open. */
void coll_hold(struct coll *c);
void coll_release(struct coll *c);

#endif
