/* stage.h: the one place every record passes between the inputs and the
 * collectors.
 *
 *   input (src/input/) -> struct rec -> stage_submit() -> checks -> hooks
 *     -> outputs_submit() -> each collector's queue -> its transport
 *
 * Inputs call only the stage. It counts every record in exactly one
 * outcome (struct stats: received, then malformed / ignored / dns_error /
 * queries / responses, and the filter drops), runs the DNS checks of the
 * 2004 program, and fans each accepted response out to the collectors.
 *
 * The hooks for the next checks sit in stage_submit(), in this order:
 * reassembled records (IP fragments, DNS over TCP) enter through
 * stage_submit() like any other; query/response matching and the
 * bailiwick check come after the DNS checks; deduplication across inputs
 * comes last, right before the fan-out, so that only what would be
 * forwarded is remembered. */
#ifndef TAPXFR_STAGE_STAGE_H
#define TAPXFR_STAGE_STAGE_H

#include <stddef.h>

#include "codec/dns.h"
#include "codec/match.h"
#include "codec/verdict.h"
#include "output/outputs.h"
#include "record.h"
#include "stats/stats.h"

enum stage_bailiwick { STAGE_BW_OFF = 0, STAGE_BW_CHECK, STAGE_BW_SCRUB };
enum stage_match { STAGE_MATCH_OFF = 0, STAGE_MATCH_COUNT, STAGE_MATCH_REQUIRE };

#define STAGE_EXPIRE_NS 1000000000 /* queries expire, checked every second */

struct stage_conf {
    struct dns_filter filter;
    enum stage_bailiwick bailiwick;
    enum stage_match match;
    struct match_conf match_conf;
};

struct stage {
    struct stats stats;
    struct dns_filter filter;
    enum stage_match match_mode;
    struct match match; /* pcap queries and responses, when matching */
    int64_t next_expire;
    enum stage_bailiwick bailiwick;
    uint8_t *scrubbed; /* --bailiwick scrub: the rewritten message */
    struct outputs *outputs; /* borrowed */
};

/* The stage for the given configuration, fanning out to outputs.
 * Returns 0 or -ENOMEM. */
int stage_init(struct stage *s, const struct stage_conf *conf, struct outputs *outputs);
void stage_close(struct stage *s);

/* Copies the matcher's counters into s->stats (before a report). */
void stage_update_stats(struct stage *s);

/* A record read but not decoded: counts it as received and under the
 * verdict's outcome (malformed, or ignored for fragments and non-UDP). */
void stage_undecoded(struct stage *s, int verdict);

/* A packet taken by a reassembler (a fragment, a TCP segment): counted as
 * received and held. */
void stage_held(struct stage *s);

/* A reassembled datagram that gave no DNS message (bad checksum, not port
 * 53): counted as reassembled and under the verdict's outcome. */
void stage_reassembled_bad(struct stage *s, int verdict);

/* A reassembled datagram that is a TCP segment: reassembled, and held by
 * the TCP reassembler. */
void stage_reassembled_segment(struct stage *s);

/* Packets the kernel dropped before a live capture read them. */
void stage_kernel_drops(struct stage *s, uint64_t n);

/* A record from a dnstap frame that is no response to forward (a query,
 * an unselected type, a frame without a message): counted, not checked. */
void stage_skipped(struct stage *s, int is_query);

/* Checks one decoded record and hands it to every collector. The record's
 * bytes are copied; the caller keeps ownership. Returns VERDICT_OK when it
 * was a response that passed the checks, or the negative enum verdict
 * that stopped it. */
int stage_submit(struct stage *s, const struct rec *r);

/* Flow control, for inputs (see output/outputs.h): questions without side
 * effects, then the explicit wait for on_room. */
static inline int stage_full(const struct stage *s)
{
    return outputs_full(s->outputs);
}

static inline int stage_full_live(const struct stage *s, size_t bytes, size_t msgs)
{
    return outputs_full_live(s->outputs, bytes, msgs);
}

static inline void stage_wait(struct stage *s, int live)
{
    outputs_wait(s->outputs, live);
}

#endif
