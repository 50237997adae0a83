/* tcpdns.h: DNS over TCP stream reassembly (RFC 1035 4.2.2, RFC 7766),
 * pure: no I/O, no libuv or pcap types, no allocation after init, time
 * only as the packet timestamps the caller passes.
 *
 * The caller decodes IP and TCP, verifies checksums and hands over the
 * segments of one direction of a connection (struct tcpdns_key); the
 * reassembler yields whole DNS messages (without their 2-byte length
 * prefix) in stream order. It owns:
 *   - a flow table of max_flows entries, found through a hash table with
 *     a hash keyed by a seed set at init (SipHash-2-4), so a sender cannot
 *     aim collisions; one LRU list of all flows (count eviction, idle
 *     expiry) and one of the flows holding bytes (byte eviction), O(1);
 *   - a pool of TCPDNS_BLOCK-byte blocks for buffered bytes (a partial
 *     message and out-of-order data); a flow that holds no bytes (a SYN
 *     alone, or a stream at a message boundary) holds no block;
 *   - a ready area that the messages completed by one call are copied to,
 *     so that they stay valid until the next tcpdns_add / tcpdns_expire.
 *
 * Memory bound, all allocated by tcpdns_init:
 *     max_flows * sizeof(struct tcpdns_flow)     (176 bytes on x86-64)
 *   + 4 * next_pow2(max_flows)                   (hash buckets)
 *   + (max_bytes / TCPDNS_BLOCK) * (TCPDNS_BLOCK + 8)      (block pool)
 *   + max_flow_bytes + TCPDNS_SEGMENT_MAX + 2 + TCPDNS_BLOCK (ready area)
 * tcpdns_memory() returns the exact figure (68 MiB with the defaults, the
 * 64 MiB pool being most of it). Nothing grows with traffic: a
 * SYN flood or a million half-open flows costs at most the flow table.
 *
 * Stream handling:
 *   - SYN sets the initial sequence number: data starts at ISN + 1; data
 *     in the SYN (TCP Fast Open) is stream data from ISN + 1. A SYN with
 *     another ISN on a known flow starts a new connection (the old one
 *     counts as closed). FIN ends the flow once every byte before it was
 *     seen (a partial message left then is discarded: truncated); RST
 *     drops the flow at once.
 *   - A flow whose start was not seen (the first segment has no SYN) is
 *     picked up mid-stream and hunted: a candidate boundary needs a length
 *     >= 12 that fits, a plausible header behind it (dns_header_read,
 *     counts below DNS_MAX_QDCOUNT / DNS_MAX_RRCOUNT, and QR set from port
 *     53, clear to it, when one end is port 53) and, when those
 *     bytes are already there, a plausible next boundary too. The same
 *     hunt follows a length below 12 (0 included) and a skipped gap.
 *   - In sync, a framed message whose counts are not plausible is skipped
 *     (invalid) and the framing kept; a message longer than a flow can
 *     buffer (2 + length > max_flow_bytes - 2 * TCPDNS_BLOCK) is skipped
 *     as it streams by (oversize; its later segments count as
 *     retransmits, since they hold no byte the stream still wants).
 *   - Bytes before the next unread byte, or already held, are ignored
 *     (the first copy wins). Out-of-order data is held when it starts
 *     within `window` bytes of the first missing byte and fits the flow
 *     bound and TCPDNS_MAX_RANGES separate runs. A gap is given up (the
 *     stream skips to the next held data, or to the new segment, and
 *     hunts for a boundary there; counted in gaps) when a segment starts
 *     beyond the window, when holding it would pass the flow bound, or
 *     when data has waited behind it for gap_ns.
 *   - Full table: the least recently used flow is evicted; pool empty:
 *     the least recently used flow holding blocks is evicted (evicted).
 *     Flows idle for idle_ns are dropped (timed_out), by tcpdns_expire()
 *     and by every tcpdns_add(), which first deliver what they hold
 *     behind a gap, as room allows (tcpdns_next_key() tells whose).
 *   - A hunt's candidate that would end past a FIN already seen is
 *     rejected, so a stream picked up mid-message still finds its
 *     next boundary.
 *
 * Counters: flows == active + evicted + timed_out + closed + resets. */
#ifndef TAPXFR_CODEC_TCPDNS_H
#define TAPXFR_CODEC_TCPDNS_H

#include <stddef.h>
#include <stdint.h>

#define TCPDNS_BLOCK 512          /* bytes per pool block */
#define TCPDNS_MAX_RANGES 8       /* separate runs of held bytes per flow */
#define TCPDNS_SEGMENT_MAX 65535  /* longer segments are dropped */
#define TCPDNS_MSG_MAX 65535

#define TCPDNS_DEFAULT_FLOWS 16384
#define TCPDNS_DEFAULT_FLOW_BYTES (2 * 65536 + 4 * TCPDNS_BLOCK)
#define TCPDNS_DEFAULT_BYTES (64u << 20)
#define TCPDNS_DEFAULT_IDLE_NS 60000000000LL
#define TCPDNS_DEFAULT_GAP_NS 3000000000LL
#define TCPDNS_DEFAULT_WINDOW 65535u
#define TCPDNS_WINDOW_MAX (1u << 30)

#define TCPDNS_DNS_PORT 53 /* a hunt expects responses from it, queries to it */
#define TCPDNS_SYN 1
#define TCPDNS_FIN 2
#define TCPDNS_RST 4

/* One direction of a connection. family is 4 or 6 (any value works: it
 * only takes part in the key); unused address bytes must be zero. */
struct tcpdns_key {
    uint8_t family;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
};

/* Zero fields take the defaults above. Needs max_flow_bytes >=
 * 3 * TCPDNS_BLOCK, max_bytes >= max_flow_bytes, window <=
 * TCPDNS_WINDOW_MAX; max_flows < 2^31. */
struct tcpdns_conf {
    size_t max_flows;
    size_t max_flow_bytes; /* buffered per direction, incl. out-of-order */
    size_t max_bytes;      /* buffered in total */
    uint64_t idle_ns;      /* default 60 s */
    uint32_t window;       /* how far ahead of the first missing byte an
                            * out-of-order segment may start and be held */
    uint64_t gap_ns;       /* how long data may wait behind a gap: 3 s */
    uint64_t seed[2];      /* hash key; both 0: random (getrandom) */
};

struct tcpdns_stats {
    uint64_t segments;     /* tcpdns_add calls */
    uint64_t flows;        /* flows created */
    uint64_t messages;     /* messages made ready */
    uint64_t midstream;    /* flows picked up without a SYN */
    uint64_t resyncs;      /* boundaries found by hunting */
    uint64_t gaps;         /* gaps given up */
    uint64_t out_of_order; /* segments held ahead of a gap */
    uint64_t retransmits;  /* segments with no new byte */
    uint64_t overlaps;     /* segments partly old or already held */
    uint64_t evicted;      /* flows evicted (table or pool full) */
    uint64_t timed_out;    /* flows idle for idle_ns */
    uint64_t closed;       /* flows ended by FIN (or by a new SYN) */
    uint64_t oversize;     /* messages too long to buffer, skipped */
    uint64_t dropped;      /* segments refused (tcpdns_add < 0) */
    uint64_t resets;       /* flows ended by RST */
    uint64_t invalid;      /* framed messages with an implausible header */
    uint64_t bad_length;   /* in-sync lengths below 12: sync lost */
    uint64_t truncated;    /* partial messages discarded at FIN */
    uint64_t unread;       /* ready messages never taken by tcpdns_next,
                            * or not delivered for want of room */
    uint64_t active;       /* gauge: flows now in the table */
};

/* Why tcpdns_add dropped a segment (negative return values). */
enum tcpdns_reason {
    TCPDNS_OK = 0,
    TCPDNS_ERR_SEGMENT = -1,  /* longer than TCPDNS_SEGMENT_MAX */
    TCPDNS_ERR_NOMEM = -2,    /* no block to be had (not expected: the
                               * bounds checked at init rule it out) */
    TCPDNS_ERR_ARG = -3,      /* NULL key, or NULL data with len > 0 */
    TCPDNS_REASON_COUNT = 4
};

struct tcpdns_flow;
struct tcpdns_block;

enum { TCPDNS_LIST_ALL = 0, TCPDNS_LIST_HOLD = 1 };

/* All of it is private; read the counters through stats. */
struct tcpdns {
    struct tcpdns_conf conf;
    struct tcpdns_stats stats;
    uint64_t key[2];
    struct tcpdns_flow *flows;
    uint32_t *buckets;
    uint32_t nbuckets;             /* power of two */
    uint32_t free_flow;            /* free list of flow entries */
    /* LRU lists, most recent first: all flows, and those holding blocks */
    uint32_t list_head[2], list_tail[2];
    struct tcpdns_block *blocks;
    uint8_t *block_data;
    uint32_t nblocks, free_block, blocks_used;
    uint32_t flow_blocks;          /* max_flow_bytes / TCPDNS_BLOCK */
    uint32_t cur;                  /* the flow being added to, or none */
    uint8_t *ready;                /* [len16][message] ... */
    size_t ready_cap, ready_len, ready_off;
    size_t ready_count;            /* not yet taken */
    struct tcpdns_key *ready_keys; /* the flow of each ready message */
    size_t ready_n, ready_keys_cap;
};

/* Allocates everything. Returns 0, -EINVAL (a limit out of range) or
 * -ENOMEM; on failure nothing is left allocated. */
int tcpdns_init(struct tcpdns *t, const struct tcpdns_conf *c);
/* Frees everything (flows are dropped, not counted). NULL-safe. */
void tcpdns_close(struct tcpdns *t);

/* Adds one segment of the direction k (seq: the TCP sequence number of
 * its first payload byte, or of the SYN; flags: TCPDNS_SYN / FIN / RST;
 * now_ns: its packet time). Ready messages not yet taken are dropped
 * (unread) first. Runs idle expiry. Returns the number of whole messages
 * now ready (>= 0), or a negative enum tcpdns_reason when the segment was
 * dropped (counted in dropped). data is copied; the caller keeps it. */
int tcpdns_add(struct tcpdns *t, const struct tcpdns_key *k, uint32_t seq,
               unsigned flags, const uint8_t *data, size_t len,
               int64_t now_ns);

/* The next ready message, without its length prefix: returns 1 with
 * *msg / *len (len >= 12, the header plausible; valid until the next
 * tcpdns_add, tcpdns_expire or tcpdns_close), or 0 when none is left. */
int tcpdns_next(struct tcpdns *t, const uint8_t **msg, size_t *len);

/* Ready messages not yet taken. */
/* The same, with the direction the message came on in *k (when k is not
 * NULL): what tcpdns_expire() delivers comes from any flow. */
int tcpdns_next_key(struct tcpdns *t, const uint8_t **msg, size_t *len,
                    struct tcpdns_key *k);

size_t tcpdns_pending(const struct tcpdns *t);

/* Drops the flows idle for idle_ns at now_ns; unlike the expiry inside
 * tcpdns_add, first makes ready the whole messages they hold behind gaps
 * (while the ready area has room for a flow's worth; the rest is counted
 * unread), to be taken with tcpdns_next. Ready messages not yet taken are
 * dropped (unread) first. Call it from a timer in packet time. */
void tcpdns_expire(struct tcpdns *t, int64_t now_ns);

/* Bytes allocated by tcpdns_init for this configuration. */
size_t tcpdns_memory(const struct tcpdns *t);
/* Bytes now held in pool blocks (always <= max_bytes rounded down to
 * blocks) and by one flow (<= max_flow_bytes rounded down), 0 if the key
 * is unknown. */
size_t tcpdns_bytes_held(const struct tcpdns *t);
size_t tcpdns_flow_bytes(const struct tcpdns *t, const struct tcpdns_key *k);

/* A short fixed name, e.g. "segment"; "unknown" outside the enum. */
const char *tcpdns_reason_name(int reason);

#endif
