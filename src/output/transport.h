/* transport.h: one collector and its transport (internal to output/).
 *
 * A collector moves through these states; every change goes through
 * coll_set_state(), which logs it at debug level:
 *   RESOLVE -> CONNECT -> BANNER (TCP only) -> READY
 *   any failure -> BACKOFF -> RESOLVE ...   (100 ms doubling to 5 s,
 *   reset once a connection is READY)
 *   CLOSED after out_close(). */
#ifndef TAPXFR_OUTPUT_TRANSPORT_H
#define TAPXFR_OUTPUT_TRANSPORT_H

#include <sys/socket.h>
#include <uv.h>

#include "netaddr.h"
#include "output/out.h"
#include "output/queue.h"
#include "stats.h"

#define COLL_BACKOFF_MIN_MS 100
#define COLL_BACKOFF_MAX_MS 5000
#define COLL_BANNER_MAX 1024
#define COLL_EARLY_JOB 64 /* unsent entries that make a job at once */
#define COLL_SNDBUF (4 << 20)

enum coll_state {
    COLL_RESOLVE,
    COLL_CONNECT,
    COLL_BANNER,
    COLL_READY,
    COLL_BACKOFF,
    COLL_CLOSED,
};

/* A poll handle with the socket it owns: the socket is closed in the
 * handle's close callback, so it is never closed while being polled. */
struct coll_sock {
    uv_poll_t poll;
    int fd;
    struct out_coll *coll;
    int events;
};

struct out_coll {
    struct out *out;
    enum cli_proto proto;
    char name[300]; /* "udp://host:port" */
    const char *host, *port;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    enum coll_state state;
    struct queue q;
    struct stats_out st;
    struct coll_sock *sock; /* NULL when not connected */
    uv_timer_t timer;       /* backoff, connect and banner timeouts */
    uv_getaddrinfo_t gai;
    int gai_busy;
    uint64_t backoff_ms;
    int failures;          /* consecutive, for quiet logging */
    size_t partial;        /* TCP: bytes of the head entry already sent */
    struct sender *snd;    /* UDP: the sending thread, while connected */
    size_t inflight_bytes; /* UDP: the head entries the sender holds */
    size_t inflight_n;
    unsigned inflight_jobs; /* UDP: so that a full sender costs no lock */
    char banner[COLL_BANNER_MAX];
    size_t banner_len;
};

/* The close callback of a handle the stage counted in open_handles. */
void out_release(struct out *o);

void coll_set_state(struct out_coll *c, enum coll_state s);
/* Drops the connection (if any) and schedules a reconnect. why is logged. */
void coll_fail(struct out_coll *c, const char *why, int err);
/* Opens a non-blocking socket of the given type to c->addr and starts
 * connecting. Returns 0 (connected or in progress) or a negative errno. */
int coll_socket(struct out_coll *c, int type);
/* Arms the collector's timer (connect / banner deadline). */
void coll_arm_timer(struct out_coll *c, uint64_t ms);
/* Sets the events the socket is polled for. */
void coll_poll(struct out_coll *c, int events);
/* Notes that the head entries of total bytes / n messages went out. */
void coll_sent(struct out_coll *c, size_t bytes, size_t n);
/* Notes that the head entries were dropped for the given reason. */
void coll_dropped(struct out_coll *c, size_t bytes, size_t n, enum stats_drop why);
/* After coll_sent/coll_dropped: resumes paused inputs when there is room
 * and ends a shutdown flush when all is out. May close the stage: the
 * caller must not touch c afterwards. */
void coll_progress(struct out_coll *c);

/* UDP transport (sending on a thread of its own: output/sender.h) */
int out_udp_connect(struct out_coll *c);
void out_udp_flush(struct out_coll *c);
/* Settles the jobs the sender finished, hands it more, and lets paused
 * inputs resume (each loop iteration, and when the sender asks). */
void out_udp_poll(struct out_coll *c);
/* Stops the sending thread and settles what it sent (before the socket
 * goes, or before the queue is emptied at the flush deadline). */
void out_udp_stop(struct out_coll *c);

/* TCP transport */
int out_tcp_connect(struct out_coll *c);
void out_tcp_flush(struct out_coll *c);
void out_tcp_event(struct out_coll *c, int status, int events);
void out_tcp_timeout(struct out_coll *c);

#endif
