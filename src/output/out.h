/* out.h: the output stage: DNS checks, DNSXFR01 encoding, one bounded
 * queue and one transport (UDP or TCP) per collector, all on the loop.
 *
 * Inputs hand every record to out_submit(). Live inputs do not wait for a
 * TCP collector: when its queue is full the record is dropped for that
 * collector and counted (dnstap connections pause for a UDP collector,
 * see out_congested_live()). File inputs ask out_congested() before each record and pause
 * until the on_space callback says there is room again (backpressure), so
 * nothing read from a file is ever dropped for lack of room. */
#ifndef TAPXFR_OUTPUT_OUT_H
#define TAPXFR_OUTPUT_OUT_H

#include <uv.h>

#include "cli.h"
#include "codec/dns.h"
#include "record.h"
#include "stats.h"

#define OUT_MAX_COLLECTORS 16
#define OUT_BACKLOG_BYTES ((size_t)1 << 20) /* see out_congested() */

struct out_coll; /* one collector: output/transport.h */

struct out {
    uv_loop_t *loop;
    const struct cli *cli;
    struct stats *stats;
    struct dns_filter filter;
    struct out_coll *colls[OUT_MAX_COLLECTORS];
    int n_colls;
    uv_prepare_t prepare; /* flushes what a loop iteration queued */
    uv_timer_t deadline;  /* flush deadline at shutdown */
    void (*on_space)(void *arg);
    void *on_space_arg;
    void *data; /* the owner's, for the flushed and closed callbacks */
    int waiting;      /* a file input is paused on congestion */
    int waiting_live; /* a live input is paused on a UDP collector */
    int flushing;  /* shutdown: waiting for the queues to drain */
    void (*on_flushed)(struct out *o);
    int closing;
    int open_handles;
    void (*on_closed)(struct out *o);
};

/* Sets up the stage and its handles. Collectors are added with out_add()
 * before out_start(). Returns 0 or a negative errno. */
int out_init(struct out *o, uv_loop_t *loop, const struct cli *cli,
             struct stats *stats);

/* Adds a collector. host is a name or address, port a number. */
int out_add(struct out *o, enum cli_proto proto, const char *host,
            const char *port);

/* Resolves and connects every collector (asynchronously; failures are
 * retried with backoff, never fatal). */
int out_start(struct out *o);

/* Checks, encodes and queues one record for every collector. The record's
 * bytes are copied; the caller keeps ownership. A collector whose queue is
 * full drops it and counts it (a file input avoids that by asking
 * out_congested() first). Returns 0 when the record was a response that
 * passed the filters, or the negative enum dns_verdict that stopped it. */
int out_submit(struct out *o, const struct rec *r);

/* True when some collector could not take one more message of the
 * largest allowed size, or already holds the backlog an input that waits
 * may run ahead of it (OUT_BACKLOG_BYTES, at most half the queue). Marks
 * the caller as waiting for on_space, which comes once every queue is
 * down to half that backlog. */
int out_congested(struct out *o);

/* For live stream inputs (dnstap connections), after each read: true when
 * a UDP collector that is up holds the backlog (as for out_congested()) or
 * has no room for bytes / msgs more (what the next read may bring). Such a queue drains at the pace of our own sending
 * thread, so the input should stop reading until on_space: the writer's
 * buffers hold the rest for that moment, where dropping would lose it. A
 * TCP collector drains at its own pace and never pauses an input: when
 * its queue is full, its records are dropped and counted. Marks the
 * caller as waiting for on_space. */
int out_congested_live(struct out *o, size_t bytes, size_t msgs);

/* Whether every queue is empty. */
int out_idle(const struct out *o);

/* Starts the shutdown flush: cb runs once every queue is empty, or when
 * timeout_ms passes (0: no deadline) with what is left counted as
 * drop_shutdown. Calling it again only shortens the deadline. */
void out_flush(struct out *o, uint64_t timeout_ms, void (*cb)(struct out *o));

/* Closes every handle; cb runs when the last close callback has. */
void out_close(struct out *o, void (*cb)(struct out *o));

/* Frees the collectors; call after out_close()'s callback has run. */
void out_free_colls(struct out *o);

/* The per-collector counters and names, for the statistics. */
const struct stats_out *out_coll_stats(const struct out *o, int i);
const char *out_coll_name(const struct out *o, int i);
size_t out_coll_queued(const struct out *o, int i);
int out_coll_up(const struct out *o, int i);

#endif
