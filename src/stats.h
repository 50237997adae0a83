/* stats.h: the counters of one tapxfr process and their one-line form.
 *
 * Every record an input reads is counted once in `received` and then in
 * exactly one of: malformed (the packet or frame did not decode), ignored
 * (decoded, but not DNS over UDP: fragments, other protocols), dns_error
 * (DNS header too short or insane), queries, responses. Every response is
 * then counted, per collector, in exactly one of forwarded or a drop_*
 * counter once it has left the queue, so at exit
 *   forwarded + dropped == responses   (for each collector). */
#ifndef TAPXFR_STATS_H
#define TAPXFR_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "codec/packet.h"

/* Why a response was not forwarded. */
enum stats_drop {
    STATS_DROP_NO_ANSWER = 0, /* -D */
    STATS_DROP_NOT_AUTH,      /* -A */
    STATS_DROP_OVERSIZE,      /* --max-size */
    STATS_DROP_QUEUE_FULL,    /* live input, queue full */
    STATS_DROP_SHUTDOWN,      /* still queued when the flush deadline passed */
    STATS_DROP_SEND_ERROR,    /* the socket refused it for good */
    STATS_DROP_COUNT
};

struct stats {
    uint64_t received;
    uint64_t malformed;
    uint64_t malformed_by[PKT_REASON_COUNT]; /* index: -pkt_reason */
    uint64_t ignored; /* fragments and non-UDP */
    uint64_t dns_error;
    uint64_t queries;
    uint64_t responses;
    uint64_t filtered[STATS_DROP_COUNT]; /* drops decided before queueing */
    uint64_t kernel_drops;               /* pcap ps_drop + ps_ifdrop */
    uint64_t csum_offloaded; /* UDP checksum left to the NIC, unverified */
};

/* Per collector: what happened to the responses queued for it. */
struct stats_out {
    uint64_t queued;
    uint64_t forwarded;
    uint64_t forwarded_bytes;
    uint64_t drop[STATS_DROP_COUNT]; /* queue_full, shutdown, send_error */
    uint64_t connects;
    uint64_t disconnects;
    uint64_t send_errors; /* transient errors (e.g. ECONNREFUSED), retried */
};

const char *stats_drop_name(enum stats_drop d);

/* Formats "key=value ..." for the whole process into buf: the global
 * counters (filter drops counted once per record) plus the sum over the n
 * collectors' counters (so with one collector forwarded + dropped ==
 * responses; with several, that holds per collector). Returns the
 * length written (truncated at size - 1). */
size_t stats_format(char *buf, size_t size, const struct stats *s,
                    const struct stats_out *const *outs, size_t n_outs);

/* Formats one collector's counters. */
size_t stats_format_out(char *buf, size_t size, const struct stats_out *o);

#endif
