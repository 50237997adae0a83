/* stats.h: the counters of one tapxfr process, in three scopes.
 *
 * Every packet or frame an input reads is counted once in `received` and
 * then in exactly one of: malformed (it did not decode), ignored (decoded,
 * but not DNS: other protocols, and fragments when not reassembling),
 * held (taken by a reassembler: input/wire.h), dns_error (DNS header too
 * short or insane), queries, responses. A message a reassembler completes
 * is counted in `reassembled` and then in one of those outcomes, so
 *   received + reassembled == malformed + ignored + held + dns_error
 *                             + queries + responses. Every response is
 * then counted, per collector, in exactly one of forwarded or a drop_*
 * counter once it has left the queue, so at exit
 *   forwarded + dropped == responses   (for each collector).
 *
 * The structs only hold the numbers. What each number is called, what it
 * means and where it appears is declared once, in the registry
 * (stats/registry.h): the stats line, SIGUSR1, the exit summary and the
 * Prometheus file are all generated from it. A new counter is a field
 * here plus one line there. */
#ifndef TAPXFR_STATS_STATS_H
#define TAPXFR_STATS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "codec/frame.h"
#include "codec/ipfrag.h"
#include "codec/match.h"
#include "codec/tcpdns.h"
#include "codec/packet.h"

#define STATS_DNSTAP_TYPES 15 /* Dnstap Message.Type values 1..14 */

/* Why a response was not forwarded. */
enum stats_drop {
    STATS_DROP_NO_ANSWER = 0, /* -D */
    STATS_DROP_NOT_AUTH,      /* -A */
    STATS_DROP_OVERSIZE,      /* --max-size */
    STATS_DROP_UNMATCHED,     /* --match require: no query seen for it */
    STATS_DROP_BAILIWICK,     /* --bailiwick check: question outside query_zone */
    STATS_DROP_UNPARSABLE,    /* --bailiwick scrub: the message does not parse */
    STATS_DROP_QUEUE_FULL,    /* live input, queue full */
    STATS_DROP_SHUTDOWN,      /* still queued when the flush deadline passed */
    STATS_DROP_SEND_ERROR,    /* the socket refused it for good */
    STATS_DROP_COUNT
};

/* The whole process: what the inputs read and what the stage decided. */
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
    uint64_t held;        /* packets taken by a reassembler */
    uint64_t bw_checked;  /* responses with a query_zone that were checked */
    uint64_t bw_scrubbed; /* responses rewritten without some records */
    uint64_t bw_removed;  /* records removed by --bailiwick scrub */
    uint64_t reassembled; /* records a reassembler completed */
    struct match_stats match; /* copied from the matcher on report */
    struct match_hist latency; /* of matched pairs */
    struct ipfrag_stats frag; /* copied from the reassemblers on report */
    struct tcpdns_stats stream;
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
    /* gauges, refreshed by the collector before each report */
    uint64_t queued_now;
    uint64_t up;
};

/* Per dnstap input (a socket listener or a file). */
struct stats_in {
    uint64_t connections;
    uint64_t conn_rejected;   /* over the connection limit */
    uint64_t handshake_fail;  /* closed before START: timeout or error */
    uint64_t protocol_errors; /* closed on a Frame Streams violation */
    uint64_t frames, bytes, oversize;
    uint64_t by_type[STATS_DNSTAP_TYPES];
    uint64_t malformed, not_selected, no_response, queries;
    uint64_t accepted; /* passed the DNS checks, queued */
    uint64_t rejected; /* stopped by the DNS checks */
    uint64_t pauses;   /* reads stopped for room (dtsock) */
    uint64_t fs_errors[FS_ERR_COUNT];
};

const char *stats_drop_name(enum stats_drop d);

#endif
