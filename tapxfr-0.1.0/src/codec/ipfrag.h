/* ipfrag.h: IPv4 and IPv6 fragment reassembly (pure: no I/O, no libuv or
 * pcap types, explicit packet time).
 *
 * One struct ipfrag owns a table of datagrams in progress and every byte
 * they hold. The caller decodes the IP header (and for IPv6 the fragment
 * header) and passes each fragment's payload; ipfrag_add() either keeps a
 * copy, returns the whole upper-layer payload once the last hole is
 * filled, or drops the fragment with a reason and counts it. The caller
 * decodes UDP after reassembly, so a first fragment shorter than a UDP
 * header is fine.
 *
 * Datagrams are keyed on (src, dst, id, protocol) for IPv4 and
 * (src, dst, id) for IPv6. Rules, for both families:
 *  - fragments may come in any order; an exact duplicate (same offset,
 *    same length) is counted and ignored, its bytes unread (the first copy
 *    wins);
 *  - any other overlap kills the datagram (RFC 5722): its bytes are freed
 *    and later fragments with its key are dropped (dropped_dead) until the
 *    timeout, counted from its first fragment, runs out;
 *  - a fragment with more set must carry a non-zero multiple of 8 bytes,
 *    and every offset must be a multiple of 8; a last fragment (more
 *    clear) whose end differs from an earlier last fragment's, or that
 *    ends before bytes already held, and a fragment that goes past a
 *    known end, are invalid: these kill the datagram like an overlap;
 *  - the reassembled payload is limited to 65,535 - 20 bytes for IPv4 and
 *    65,535 for IPv6; a fragment ending past it kills the datagram
 *    (too_big);
 *  - a datagram whose fragments add up to more than max_bytes can never be
 *    held and is killed on the fragment that would exceed it (no_room);
 *  - an IPv6 atomic fragment (offset 0, more clear; RFC 6946) is returned
 *    at once and never touches a datagram in progress with the same key.
 *    An IPv4 packet with offset 0 and MF clear is not a fragment and the
 *    caller does not pass it; if it does, it is treated the same way.
 *
 * Bounds: at most max_datagrams entries (in progress or dead) and at most
 * max_bytes payload bytes held. A new datagram with no free entry evicts
 * the oldest entry; a fragment that does not fit max_bytes evicts the
 * oldest other datagrams holding bytes until it does. Both are O(1) per
 * eviction (entries sit on age lists in the order they were created).
 * Datagrams older than timeout_ns (in packet time: now_ns minus the time
 * of the first fragment) are dropped by ipfrag_expire(), which
 * ipfrag_add() calls first. Packet time that goes backwards delays
 * expiry (lists are in creation order) but never lifts a bound.
 *
 * Lookup is a hash table with chaining, keyed with SipHash-1-3 under a
 * 128-bit seed, so a sender who does not know the seed cannot aim
 * collisions. Each fragment is checked against the fragments already held
 * for its datagram, so a fragment costs O(fragments of that datagram).
 *
 * Memory: everything is allocated by ipfrag_init(), nothing afterwards;
 * ipfrag_memory() gives the exact total. Per unit of configuration:
 *   each of max_datagrams: an entry (104 bytes on LP64), 2 to 4 hash
 *     buckets (4 bytes each), one spare block (IPFRAG_BLOCK + 4) and one
 *     spare fragment descriptor (8): about 640 bytes;
 *   each byte of max_bytes: itself in a block (+ 4 / IPFRAG_BLOCK for the
 *     block links) and 1/8 of a descriptor: about 2.01 bytes;
 *   once: the 65,535-byte output buffer.
 * So max_datagrams 1024 and max_bytes 4 MiB take about 9 MiB. The pools
 * never run out while max_bytes holds: each datagram's bytes are appended
 * to its own chain of blocks, which wastes less than one block, and every
 * held fragment but a datagram's last carries at least 8 bytes.
 */
#ifndef TAPXFR_CODEC_IPFRAG_H
#define TAPXFR_CODEC_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

#define IPFRAG_BLOCK 512          /* bytes per pool block */
#define IPFRAG_MAX_LEN 65535      /* the output buffer; IPv6 payload limit */
#define IPFRAG_MAX_LEN_V4 (65535 - 20) /* IPv4: total length minus header */
#define IPFRAG_TIMEOUT_NS 30000000000ull /* default timeout: 30 s */
/* Limits that keep every index in 32 bits. */
#define IPFRAG_MAX_DATAGRAMS (1u << 24)
#define IPFRAG_MAX_BYTES ((uint64_t)1 << 32)

/* What ipfrag_add() returns: >= 0 the fragment was taken, < 0 it was
 * dropped (and counted). IPFRAG_REASON_COUNT sizes arrays indexed by
 * -reason. */
enum ipfrag_reason {
    IPFRAG_DONE = 1,          /* *out holds a whole datagram */
    IPFRAG_HELD = 0,          /* kept, the datagram still has holes */
    IPFRAG_DUPLICATE = -1,    /* same offset and length as one held */
    IPFRAG_OVERLAP = -2,      /* overlaps a held fragment: datagram dead */
    IPFRAG_INVALID = -3,      /* length, offset or end rules: dead */
    IPFRAG_TOO_BIG = -4,      /* ends past the IP limit: dead */
    IPFRAG_NO_ROOM = -5,      /* datagram > max_bytes: dead */
    IPFRAG_DEAD = -6,         /* its datagram was killed earlier */
    IPFRAG_REASON_COUNT = 7
};

struct ipfrag_key {
    uint8_t family; /* 4 or 6 */
    uint8_t proto;  /* IPv4 protocol; ignored for IPv6 */
    uint32_t id;    /* IPv4: 16-bit id (higher bits ignored); IPv6: 32-bit */
    uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes (rest ignored) */
};

struct ipfrag_conf {
    size_t max_datagrams; /* entries at once, 1 .. IPFRAG_MAX_DATAGRAMS */
    size_t max_bytes;     /* payload bytes held, 1 .. IPFRAG_MAX_BYTES */
    uint64_t timeout_ns;  /* 0: IPFRAG_TIMEOUT_NS */
    /* The hash key. All zero: ipfrag_init() draws one with getentropy(),
     * which is what the daemon wants; tests pass a fixed one. */
    uint64_t seed[2];
};

/* Counters only grow, except the two gauges at the end. Each call to
 * ipfrag_add() counts in fragments and, when it returns < 0, in exactly
 * one of duplicates .. dropped_dead. */
struct ipfrag_stats {
    uint64_t fragments;    /* calls to ipfrag_add() */
    uint64_t reassembled;  /* datagrams returned whole (IPFRAG_DONE) */
    uint64_t atomic;       /* atomic fragments returned at once */
    uint64_t duplicates;   /* fragments: IPFRAG_DUPLICATE */
    uint64_t overlapping;  /* fragments: IPFRAG_OVERLAP */
    uint64_t invalid;      /* fragments: IPFRAG_INVALID */
    uint64_t too_big;      /* fragments: IPFRAG_TOO_BIG */
    uint64_t no_room;      /* fragments: IPFRAG_NO_ROOM */
    uint64_t dropped_dead; /* fragments: IPFRAG_DEAD */
    uint64_t timed_out;    /* datagrams (in progress or dead) expired */
    uint64_t evicted;      /* datagrams (in progress or dead) evicted */
    uint64_t bytes;        /* gauge: payload bytes held now */
    uint64_t datagrams;    /* gauge: entries in use now (incl. dead) */
};

/* What a completed datagram gives. data points into t's output buffer,
 * valid until the next call on t; for an atomic fragment it is the
 * caller's data. */
struct ipfrag_out {
    const uint8_t *data;
    size_t len;
    uint8_t proto; /* upper-layer protocol: that of the offset-0 fragment */
};

struct ipfrag_entry; /* private to ipfrag.c */
struct ipfrag_frag;

/* All fields are private; read them through ipfrag_stats(). */
struct ipfrag {
    struct ipfrag_conf conf;
    struct ipfrag_stats stats;
    struct ipfrag_entry *entries; /* max_datagrams */
    uint32_t *buckets;            /* nbuckets heads, a power of two */
    uint32_t nbuckets;
    uint32_t free_entry;          /* free list through the entries */
    uint32_t age_head, age_tail;  /* every entry in use, oldest first */
    uint32_t live_head, live_tail;/* entries not dead, oldest first */
    uint8_t *blocks;              /* nblocks * IPFRAG_BLOCK */
    uint32_t *block_next;         /* chain of each block; free list */
    uint32_t nblocks, free_block;
    struct ipfrag_frag *frags;    /* fragment descriptors */
    uint32_t nfrags, free_frag;
    uint8_t *out;                 /* IPFRAG_MAX_LEN */
};

/* Bytes ipfrag_init() allocates for c, or 0 if c is out of range. */
size_t ipfrag_memory(const struct ipfrag_conf *c);

/* Allocates everything once. Returns 0, -EINVAL when c is out of range
 * (see struct ipfrag_conf), -ENOMEM, or the negative errno of
 * getentropy() when no seed was given and none could be drawn. On
 * failure nothing is held and ipfrag_close() is still safe. */
int ipfrag_init(struct ipfrag *t, const struct ipfrag_conf *c);
/* Frees everything; safe on a table whose init failed, and twice. */
void ipfrag_close(struct ipfrag *t);

/* Adds one fragment: data/len is its payload (after the IPv4 header, or
 * for IPv6 after the fragment header), offset in bytes (fragment offset *
 * 8), more the MF / M flag, proto the upper-layer protocol (IPv4: the
 * header's, IPv6: the fragment header's next header), now_ns the packet
 * time. Expires old datagrams first. data is only read during the call
 * (and, for an atomic fragment, returned in *out). Returns IPFRAG_HELD,
 * IPFRAG_DONE with *out filled, or a negative enum ipfrag_reason (the
 * fragment is dropped and counted; *out is untouched). */
int ipfrag_add(struct ipfrag *t, const struct ipfrag_key *k, uint32_t offset,
               int more, uint8_t proto, const uint8_t *data, size_t len,
               int64_t now_ns, struct ipfrag_out *out);

/* Drops every datagram whose first fragment came more than timeout_ns
 * before now_ns (an age of exactly timeout_ns is kept). */
void ipfrag_expire(struct ipfrag *t, int64_t now_ns);

/* The counters and gauges. */
const struct ipfrag_stats *ipfrag_stats(const struct ipfrag *t);

/* A short fixed name for a return value, e.g. "overlap"; "unknown" for
 * anything else. */
const char *ipfrag_reason_name(int reason);

#endif
