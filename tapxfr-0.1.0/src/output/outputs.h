/* outputs.h: the set of collectors, on the loop: their lifecycle, the
 * room questions inputs ask, the shutdown flush.
 *
 * Records come in from the stage (outputs_submit()) and go to every
 * collector's queue. Which kind a collector is (output/kinds.c) is its
 * own business: this file never names one, it only asks a kind whether
 * it paces inputs (drains at tapxfr's own pace).
 *
 * Flow control. An input that can wait (a file) asks outputs_full()
 * before each record and, when full, calls outputs_wait() and stops; a
 * dnstap connection asks outputs_full_live() after each read. Questions
 * have no side effects. Once there is room again, on_room runs: always
 * from a loop callback of its own (posted with a uv_idle_t, as libuv posts
 * write completions), never from inside the submit or send that made
 * room, so an input resumed there never re-enters itself. */
#ifndef TAPXFR_OUTPUT_OUTPUTS_H
#define TAPXFR_OUTPUT_OUTPUTS_H

#include <uv.h>

#include "output/coll.h"
#include "record.h"

#define OUTPUTS_MAX 16
#define OUTPUTS_BACKLOG_BYTES ((size_t)1 << 20) /* see outputs_full() */

struct outputs {
    uv_loop_t *loop;
    struct coll_conf conf;
    size_t max_msg;      /* the largest DNS message a record may hold */
    struct coll *colls[OUTPUTS_MAX];
    int n;
    uv_prepare_t prepare; /* flushes what a loop iteration queued */
    uv_idle_t settle;     /* posted: resume inputs, end the flush */
    uv_timer_t deadline;  /* flush deadline at shutdown */
    void (*on_room)(void *arg);
    void *on_room_arg;
    int waiting;      /* an input that waits for every queue */
    int waiting_live; /* a live input waits for the pacing queues */
    int flushing;     /* shutdown: waiting for the queues to drain */
    void (*on_flushed)(struct outputs *o);
    int open_handles;
    void (*on_closed)(struct outputs *o);
    void *data;
};

/* Sets up the set and its handles. conf's queue bounds apply to each
 * collector; max_msg sizes the room an input that waits asks for. */
void outputs_init(struct outputs *o, uv_loop_t *loop, const struct coll_conf *conf,
                  size_t max_msg);

/* Adds a collector for scheme://host:port before outputs_start(). Returns
 * 0, -EINVAL for an unknown scheme, -ENOSPC, or -ENOMEM. */
int outputs_add(struct outputs *o, const char *scheme, const char *host, const char *port);

/* Resolves and connects every collector. */
void outputs_start(struct outputs *o);

/* Queues a record for every collector (each encodes it its own way). The
 * record's bytes are copied; the caller keeps ownership. A collector
 * whose queue is full drops it and counts it. */
void outputs_submit(struct outputs *o, const struct rec *r);

/* True when some collector could not take one more message of the
 * largest allowed size, or already holds the backlog an input that waits
 * may run ahead of it (OUTPUTS_BACKLOG_BYTES, at most half the queue). */
int outputs_full(const struct outputs *o);

/* For live stream inputs, after each read: true when a pacing collector
 * that is up holds the backlog or has no room for bytes / msgs more
 * (what the next read may bring). Such a queue drains at the pace of our
 * own sending thread, so the input should stop reading until on_room. A
 * collector that does not pace inputs never stops one: when its queue is
 * full, its records are dropped and counted. */
int outputs_full_live(const struct outputs *o, size_t bytes, size_t msgs);

/* Asks for on_room once every queue (live: every pacing queue) is down to
 * half the backlog. */
void outputs_wait(struct outputs *o, int live);

/* Whether every queue is empty. */
int outputs_idle(const struct outputs *o);

/* Starts the shutdown flush: cb runs (posted) once every queue is empty,
 * or when timeout_ms passes (0: no deadline) with what is left counted as
 * drop_shutdown. Calling it again only shortens the deadline. */
void outputs_flush(struct outputs *o, uint64_t timeout_ms, void (*cb)(struct outputs *o));

/* Closes every handle; cb runs when the last close callback has. */
void outputs_close(struct outputs *o, void (*cb)(struct outputs *o));

/* Frees the collectors; call after outputs_close()'s callback has run. */
void outputs_free(struct outputs *o);

/* The collector's counters (gauges refreshed) and name, for reports. */
const struct stats_out *outputs_stats(struct outputs *o, int i);
const char *outputs_name(const struct outputs *o, int i);

#endif
