/* tcpdns.c: DNS over TCP stream reassembly (see tcpdns.h for the
 * contract). Sequence numbers are compared in serial arithmetic: every
 * position a flow holds lies within window + 2 * 65,535 bytes of its next
 * unread byte, far inside 2^31. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "codec/dns.h"
#include "codec/tcpdns.h"

#define NONE UINT32_MAX

enum { ST_SYNC = 0, ST_HUNT = 1 };

struct range {
    uint32_t lo, hi; /* [lo, hi) in sequence space */
};

struct flow_link {
    uint32_t prev, next;
};

struct tcpdns_flow {
    struct tcpdns_key key;
    uint32_t hnext;          /* hash chain, or the free list */
    struct flow_link link[2];/* on the LRU lists, most recent first */
    uint32_t head;           /* first block, in stream order */
    uint32_t nblocks;
    uint32_t origin;         /* blocks start at origin + k * TCPDNS_BLOCK */
    uint32_t rd;             /* the first byte not consumed */
    uint32_t isn, fin_seq;
    uint32_t gap_at;         /* the first missing byte the gap timer is for */
    int64_t last_ns, gap_ns;
    uint8_t used, state, syn, fin, has_gap;
    uint8_t nranges;
    struct range r[TCPDNS_MAX_RANGES]; /* held bytes, sorted, all >= rd */
};

struct tcpdns_block {
    uint32_t next; /* in its flow's list, or the free list */
    uint32_t seq;  /* the stream position of its first byte */
};

static int lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static uint32_t smin(uint32_t a, uint32_t b)
{
    return lt(a, b) ? a : b;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ------------------------------------------------------------ hashing */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                            \
    do {                                                                    \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);           \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                              \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                              \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);           \
    } while (0)

/* SipHash-2-4: a keyed hash, so that without the key nobody can choose
 * tuples that land in one bucket. */
static uint64_t siphash(const uint64_t k[2], const uint8_t *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ull ^ k[0], v1 = 0x646f72616e646f6dull ^ k[1];
    uint64_t v2 = 0x6c7967656e657261ull ^ k[0], v3 = 0x7465646279746573ull ^ k[1];
    uint64_t b = (uint64_t)len << 56, m;
    size_t i, left = len & 7;

    for (i = 0; i + 8 <= len; i += 8) {
        m = 0;
        for (int j = 7; j >= 0; j--)
            m = m << 8 | in[i + (size_t)j];
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; j < left; j++)
        b |= (uint64_t)in[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* The key's fields without its padding byte. */
static uint32_t bucket_of(const struct tcpdns *t, const struct tcpdns_key *k)
{
    uint8_t b[37];

    b[0] = k->family;
    memcpy(b + 1, k->src, 16);
    memcpy(b + 17, k->dst, 16);
    b[33] = (uint8_t)(k->sport >> 8);
    b[34] = (uint8_t)k->sport;
    b[35] = (uint8_t)(k->dport >> 8);
    b[36] = (uint8_t)k->dport;
    return (uint32_t)siphash(t->key, b, sizeof(b)) & (t->nbuckets - 1);
}

static int key_eq(const struct tcpdns_key *a, const struct tcpdns_key *b)
{
    return a->family == b->family && a->sport == b->sport &&
           a->dport == b->dport && memcmp(a->src, b->src, 16) == 0 &&
           memcmp(a->dst, b->dst, 16) == 0;
}

static uint32_t lookup(const struct tcpdns *t, const struct tcpdns_key *k)
{
    uint32_t i = t->buckets[bucket_of(t, k)];

    while (i != NONE && !key_eq(&t->flows[i].key, k))
        i = t->flows[i].hnext;
    return i;
}

/* -------------------------------------------------------------- lists */

static uint32_t idx(const struct tcpdns *t, const struct tcpdns_flow *f)
{
    return (uint32_t)(f - t->flows);
}

/* Unlinks f from list l (TCPDNS_LIST_ALL or TCPDNS_LIST_HOLD). */
static void list_unlink(struct tcpdns *t, int l, struct tcpdns_flow *f)
{
    struct flow_link *k = &f->link[l];

    if (k->prev != NONE)
        t->flows[k->prev].link[l].next = k->next;
    else
        t->list_head[l] = k->next;
    if (k->next != NONE)
        t->flows[k->next].link[l].prev = k->prev;
    else
        t->list_tail[l] = k->prev;
}

/* Puts f first (most recently used) on list l. */
static void list_push(struct tcpdns *t, int l, struct tcpdns_flow *f)
{
    struct flow_link *k = &f->link[l];

    k->prev = NONE;
    k->next = t->list_head[l];
    if (t->list_head[l] != NONE)
        t->flows[t->list_head[l]].link[l].prev = idx(t, f);
    else
        t->list_tail[l] = idx(t, f);
    t->list_head[l] = idx(t, f);
}

static void touch(struct tcpdns *t, struct tcpdns_flow *f, int64_t now)
{
    if (now > f->last_ns)
        f->last_ns = now;
    list_unlink(t, TCPDNS_LIST_ALL, f);
    list_push(t, TCPDNS_LIST_ALL, f);
    if (f->nblocks) {
        list_unlink(t, TCPDNS_LIST_HOLD, f);
        list_push(t, TCPDNS_LIST_HOLD, f);
    }
}

/* ------------------------------------------------------------- blocks */

static uint8_t *block_bytes(const struct tcpdns *t, uint32_t b)
{
    return t->block_data + (size_t)b * TCPDNS_BLOCK;
}

static void block_release(struct tcpdns *t, struct tcpdns_flow *f, uint32_t b)
{
    t->blocks[b].next = t->free_block;
    t->free_block = b;
    t->blocks_used--;
    if (--f->nblocks == 0)
        list_unlink(t, TCPDNS_LIST_HOLD, f);
}

/* Frees the blocks wholly before rd: they hold only consumed bytes. */
static void release_consumed(struct tcpdns *t, struct tcpdns_flow *f)
{
    while (f->head != NONE &&
           !lt(f->rd, t->blocks[f->head].seq + TCPDNS_BLOCK)) {
        uint32_t b = f->head;
        f->head = t->blocks[b].next;
        block_release(t, f, b);
    }
}

static void free_flow(struct tcpdns *t, struct tcpdns_flow *f)
{
    uint32_t *p = &t->buckets[bucket_of(t, &f->key)];

    while (f->head != NONE) {
        uint32_t b = f->head;
        f->head = t->blocks[b].next;
        block_release(t, f, b);
    }
    while (*p != idx(t, f))
        p = &t->flows[*p].hnext;
    *p = f->hnext;
    list_unlink(t, TCPDNS_LIST_ALL, f);
    f->used = 0;
    f->hnext = t->free_flow;
    t->free_flow = idx(t, f);
    t->stats.active--;
}

/* A block from the pool; when it is empty the least recently used flow
 * holding blocks, other than f, is evicted. */
static uint32_t block_take(struct tcpdns *t, struct tcpdns_flow *f)
{
    uint32_t b;

    while (t->free_block == NONE) {
        uint32_t v = t->list_tail[TCPDNS_LIST_HOLD];
        if (v != NONE && &t->flows[v] == f)
            v = f->link[TCPDNS_LIST_HOLD].prev;
        if (v == NONE)
            return NONE;
        free_flow(t, &t->flows[v]);
        t->stats.evicted++;
    }
    b = t->free_block;
    t->free_block = t->blocks[b].next;
    t->blocks_used++;
    if (f->nblocks++ == 0)
        list_push(t, TCPDNS_LIST_HOLD, f);
    return b;
}

#define BLOCK_FULL (NONE - 1)

/* The block that starts at bseq, created if need be. Returns BLOCK_FULL
 * when the flow holds its bound, NONE when the pool cannot give one. */
static uint32_t block_get(struct tcpdns *t, struct tcpdns_flow *f,
                          uint32_t bseq)
{
    uint32_t prev = NONE, i = f->head, b;

    while (i != NONE && lt(t->blocks[i].seq, bseq)) {
        prev = i;
        i = t->blocks[i].next;
    }
    if (i != NONE && t->blocks[i].seq == bseq)
        return i;
    if (f->nblocks >= t->flow_blocks)
        return BLOCK_FULL;
    b = block_take(t, f);
    if (b == NONE)
        return NONE;
    t->blocks[b].seq = bseq;
    t->blocks[b].next = i;
    if (prev == NONE)
        f->head = b;
    else
        t->blocks[prev].next = b;
    return b;
}

/* Copies n held bytes from seq on; they must be contiguous. */
static void peek(const struct tcpdns *t, const struct tcpdns_flow *f,
                 uint32_t seq, uint8_t *dst, size_t n)
{
    uint32_t b = f->head;

    while (!lt(seq, t->blocks[b].seq + TCPDNS_BLOCK))
        b = t->blocks[b].next;
    while (n) {
        size_t off = seq - t->blocks[b].seq;
        size_t k = TCPDNS_BLOCK - off < n ? TCPDNS_BLOCK - off : n;
        memcpy(dst, block_bytes(t, b) + off, k);
        dst += k;
        seq += (uint32_t)k;
        n -= k;
        b = t->blocks[b].next;
    }
}

/* ------------------------------------------------------------- ranges */

static uint32_t first_missing(const struct tcpdns_flow *f)
{
    return f->nranges && f->r[0].lo == f->rd ? f->r[0].hi : f->rd;
}

static size_t contiguous(const struct tcpdns_flow *f)
{
    return first_missing(f) - f->rd;
}

/* The first held byte beyond the first missing one, or NONE. */
static uint32_t next_held(const struct tcpdns_flow *f)
{
    if (f->nranges && f->r[0].lo == f->rd)
        return f->nranges > 1 ? f->r[1].lo : NONE;
    return f->nranges ? f->r[0].lo : NONE;
}

static void range_cut_below(struct tcpdns_flow *f, uint32_t seq)
{
    unsigned n = 0;

    for (unsigned i = 0; i < f->nranges; i++) {
        if (!lt(seq, f->r[i].hi))
            continue;
        f->r[n] = f->r[i];
        if (lt(f->r[n].lo, seq))
            f->r[n].lo = seq;
        n++;
    }
    f->nranges = (uint8_t)n;
}

/* Whether [lo, hi) (not held) would start a run of its own. */
static int range_is_new(const struct tcpdns_flow *f, uint32_t lo, uint32_t hi)
{
    for (unsigned i = 0; i < f->nranges; i++)
        if (f->r[i].hi == lo || f->r[i].lo == hi)
            return 0;
    return 1;
}

/* Adds [lo, hi), which overlaps nothing held, merging neighbours. */
static void range_add(struct tcpdns_flow *f, uint32_t lo, uint32_t hi)
{
    unsigned i = 0;

    while (i < f->nranges && lt(f->r[i].lo, lo))
        i++;
    if (i > 0 && f->r[i - 1].hi == lo) {
        f->r[i - 1].hi = hi;
        if (i < f->nranges && f->r[i].lo == hi) {
            f->r[i - 1].hi = f->r[i].hi;
            memmove(&f->r[i], &f->r[i + 1],
                    (f->nranges - i - 1) * sizeof(f->r[0]));
            f->nranges--;
        }
        return;
    }
    if (i < f->nranges && f->r[i].lo == hi) {
        f->r[i].lo = lo;
        return;
    }
    memmove(&f->r[i + 1], &f->r[i], (f->nranges - i) * sizeof(f->r[0]));
    f->r[i].lo = lo;
    f->r[i].hi = hi;
    f->nranges++;
}

/* The stream moves on to seq: what lies before it is gone. */
static void advance(struct tcpdns *t, struct tcpdns_flow *f, uint32_t seq)
{
    f->rd = seq;
    range_cut_below(f, seq);
    release_consumed(t, f);
}

/* Drops the flow's last block if it lies after bseq, with what it holds:
 * in-order bytes matter more than held ones. Returns whether it did. */
static int shed_tail(struct tcpdns *t, struct tcpdns_flow *f, uint32_t bseq)
{
    uint32_t prev = NONE, b = f->head;

    if (b == NONE)
        return 0;
    while (t->blocks[b].next != NONE) {
        prev = b;
        b = t->blocks[b].next;
    }
    if (!lt(bseq, t->blocks[b].seq))
        return 0;
    for (unsigned i = 0; i < f->nranges; i++) {
        if (!lt(f->r[i].lo, t->blocks[b].seq)) {
            f->nranges = (uint8_t)i;
            break;
        }
        f->r[i].hi = smin(f->r[i].hi, t->blocks[b].seq);
    }
    if (prev == NONE)
        f->head = NONE;
    else
        t->blocks[prev].next = NONE;
    block_release(t, f, b);
    return 1;
}

/* ------------------------------------------------------------ parsing */

static size_t msg_cap(const struct tcpdns *t)
{
    return (size_t)(t->flow_blocks - 2) * TCPDNS_BLOCK;
}

/* A header with counts a message can have. In sync that is enough (a
 * query is a message too); a hunt, which only guesses a boundary, also
 * wants QR to say what the direction carries: responses from the DNS
 * port, queries to it (either on a stream with the port at neither or
 * both ends). */
static int plausible(const uint8_t *p, const struct tcpdns_flow *hunt)
{
    struct dns_header h;

    if (dns_header_read(p, DNS_HEADER_LEN, &h) < 0)
        return 0;
    if (hunt && (hunt->key.sport == TCPDNS_DNS_PORT) != (hunt->key.dport == TCPDNS_DNS_PORT) &&
        !(h.flags & DNS_FLAG_QR) != (hunt->key.sport != TCPDNS_DNS_PORT))
        return 0;
    return h.qdcount < DNS_MAX_QDCOUNT && h.ancount < DNS_MAX_RRCOUNT &&
           h.nscount < DNS_MAX_RRCOUNT && h.arcount < DNS_MAX_RRCOUNT;
}

/* Copies a framed message (prefix included) to the ready area. */
static void emit(struct tcpdns *t, const struct tcpdns_flow *f, size_t n)
{
    if (t->ready_cap - t->ready_len < n || t->ready_n == t->ready_keys_cap) {
        t->stats.unread++;
        return;
    }
    t->ready_keys[t->ready_n++] = f->key;
    peek(t, f, f->rd, t->ready + t->ready_len, n);
    t->ready_len += n;
    t->ready_count++;
    t->stats.messages++;
}

/* One step at a message boundary. Returns 0 when it needs more bytes. */
static int sync_step(struct tcpdns *t, struct tcpdns_flow *f, size_t avail)
{
    uint8_t h[2 + DNS_HEADER_LEN];
    size_t n;

    if (avail < 2)
        return 0;
    peek(t, f, f->rd, h, 2);
    n = 2 + (size_t)rd16(h);
    if (n < 2 + DNS_HEADER_LEN) {
        t->stats.bad_length++;
        f->state = ST_HUNT;
        return 1;
    }
    if (n > msg_cap(t)) {
        t->stats.oversize++;
        advance(t, f, f->rd + (uint32_t)n);
        return 1;
    }
    if (avail < n)
        return 0;
    peek(t, f, f->rd, h, sizeof(h));
    if (plausible(h + 2, NULL))
        emit(t, f, n);
    else
        t->stats.invalid++;
    advance(t, f, f->rd + (uint32_t)n);
    return 1;
}

/* One step of the hunt for a boundary: a candidate at rd needs a length
 * that a DNS message can have and the flow can hold, a plausible header,
 * and, if the bytes are there, a plausible next boundary. Returns 0 when
 * it needs more bytes. */
static int hunt_step(struct tcpdns *t, struct tcpdns_flow *f, size_t avail)
{
    uint8_t h[2 + DNS_HEADER_LEN];
    size_t n;
    int ok;

    if (avail < sizeof(h))
        return 0;
    peek(t, f, f->rd, h, sizeof(h));
    n = 2 + (size_t)rd16(h);
    ok = n >= sizeof(h) && n <= msg_cap(t) && plausible(h + 2, f);
    if (ok && avail < n) {
        /* The candidate is decided once it is whole, unless it would end
         * past the FIN: then it never comes whole. */
        if (!f->fin || !lt(f->fin_seq, f->rd + (uint32_t)n))
            return 0;
        ok = 0;
    }
    if (ok && avail >= n + 2) {
        peek(t, f, f->rd + (uint32_t)n, h, 2);
        ok = rd16(h) >= DNS_HEADER_LEN;
        if (ok && avail >= n + sizeof(h)) {
            peek(t, f, f->rd + (uint32_t)n, h, sizeof(h));
            ok = plausible(h + 2, f);
        }
    }
    if (!ok) {
        advance(t, f, f->rd + 1);
        return 1;
    }
    t->stats.resyncs++;
    f->state = ST_SYNC;
    return 1;
}

static void parse(struct tcpdns *t, struct tcpdns_flow *f)
{
    for (;;) {
        size_t avail = contiguous(f);
        int more = f->state == ST_HUNT ? hunt_step(t, f, avail)
                                       : sync_step(t, f, avail);
        if (!more)
            return;
    }
}

/* Gives up the bytes missing before target: the stream resumes at the end
 * of the message in progress if its length is known and reaches past the
 * gap, else at target, and hunts for a boundary there. */
static void gap_to(struct tcpdns *t, struct tcpdns_flow *f, uint32_t target)
{
    if (f->state == ST_SYNC && contiguous(f) >= 2) {
        uint8_t h[2];
        uint32_t end;
        peek(t, f, f->rd, h, 2);
        end = f->rd + 2 + rd16(h);
        if (rd16(h) >= DNS_HEADER_LEN && lt(target, end))
            target = end;
    }
    advance(t, f, target);
    f->state = ST_HUNT;
    t->stats.gaps++;
    parse(t, f);
}

/* Out-of-order data at pos does not fit: give up the first gap. */
static void make_room(struct tcpdns *t, struct tcpdns_flow *f, uint32_t pos)
{
    uint32_t held = next_held(f);

    gap_to(t, f, held != NONE ? smin(held, pos) : pos);
}

/* -------------------------------------------------------- segments */

/* Moves pos past bytes already held; returns whether it moved. */
static int skip_held(const struct tcpdns_flow *f, uint32_t *pos, uint32_t end)
{
    for (unsigned i = 0; i < f->nranges; i++)
        if (!lt(*pos, f->r[i].lo) && lt(*pos, f->r[i].hi)) {
            *pos = smin(end, f->r[i].hi);
            return 1;
        }
    return 0;
}

/* Bytes of [seq, end) neither consumed nor held. */
static uint32_t new_bytes(const struct tcpdns_flow *f, uint32_t seq,
                          uint32_t end)
{
    uint32_t lo = lt(seq, f->rd) ? f->rd : seq, n;

    if (!lt(lo, end))
        return 0;
    n = end - lo;
    for (unsigned i = 0; i < f->nranges; i++) {
        uint32_t a = lt(f->r[i].lo, lo) ? lo : f->r[i].lo;
        uint32_t b = smin(f->r[i].hi, end);
        if (lt(a, b))
            n -= b - a;
    }
    return n;
}

static void classify(struct tcpdns *t, const struct tcpdns_flow *f,
                     uint32_t seq, uint32_t end)
{
    uint32_t n = new_bytes(f, seq, end);

    if (seq == end)
        return;
    if (n == 0)
        t->stats.retransmits++;
    else if (n < end - seq)
        t->stats.overlaps++;
    if (n && lt(first_missing(f), seq))
        t->stats.out_of_order++;
}

/* Whether out-of-order bytes at [pos, lim) may be held as they are. */
static int may_hold(const struct tcpdns *t, const struct tcpdns_flow *f,
                    uint32_t pos, uint32_t lim)
{
    return pos - first_missing(f) <= t->conf.window &&
           (f->nranges < TCPDNS_MAX_RANGES || !range_is_new(f, pos, lim));
}

/* Writes [seq, end) into the flow one block at a time, the first copy of
 * every byte winning, and parses whenever the in-order data grows. */
static int store(struct tcpdns *t, struct tcpdns_flow *f, uint32_t seq,
                 const uint8_t *data, uint32_t end)
{
    uint32_t pos = seq;

    while (lt(pos, end)) {
        uint32_t lim = end, bseq, b;
        int ooo;

        if (lt(pos, f->rd)) {
            pos = smin(end, f->rd);
            continue;
        }
        if (skip_held(f, &pos, end))
            continue;
        for (unsigned i = 0; i < f->nranges; i++)
            if (lt(pos, f->r[i].lo) && lt(f->r[i].lo, lim))
                lim = f->r[i].lo;
        bseq = f->origin + ((pos - f->origin) & ~(uint32_t)(TCPDNS_BLOCK - 1));
        lim = smin(lim, bseq + TCPDNS_BLOCK);
        ooo = pos != first_missing(f);
        if (ooo && !may_hold(t, f, pos, lim)) {
            make_room(t, f, pos);
            continue;
        }
        if (!ooo && f->nranges == TCPDNS_MAX_RANGES &&
            range_is_new(f, pos, lim)) {
            f->nranges--; /* forget the farthest run: in order comes first */
            continue;
        }
        b = block_get(t, f, bseq);
        if (b == BLOCK_FULL) {
            if (ooo)
                make_room(t, f, pos);
            else if (!shed_tail(t, f, bseq))
                return TCPDNS_ERR_NOMEM;
            continue;
        }
        if (b == NONE)
            return TCPDNS_ERR_NOMEM;
        memcpy(block_bytes(t, b) + (pos - bseq), data + (pos - seq), lim - pos);
        range_add(f, pos, lim);
        pos = lim;
        if (!ooo)
            parse(t, f);
    }
    return 0;
}

/* Starts the gap timer when data waits behind a gap, and gives the gap up
 * once it has waited gap_ns for the same missing byte. */
static void gap_timer(struct tcpdns *t, struct tcpdns_flow *f, int64_t now)
{
    for (int round = 0; round < 2; round++) {
        uint32_t fm = first_missing(f);
        if (next_held(f) == NONE) {
            f->has_gap = 0;
            return;
        }
        if (!f->has_gap || f->gap_at != fm) {
            f->has_gap = 1;
            f->gap_at = fm;
            f->gap_ns = now;
            return;
        }
        if (now - f->gap_ns < (int64_t)t->conf.gap_ns)
            return;
        make_room(t, f, next_held(f));
        f->has_gap = 0;
    }
}

static struct tcpdns_flow *flow_new(struct tcpdns *t,
                                    const struct tcpdns_key *k,
                                    uint32_t start, int64_t now)
{
    struct tcpdns_flow *f;
    uint32_t i, *bucket;

    if (t->free_flow == NONE) {
        free_flow(t, &t->flows[t->list_tail[TCPDNS_LIST_ALL]]);
        t->stats.evicted++;
    }
    i = t->free_flow;
    f = &t->flows[i];
    t->free_flow = f->hnext;
    memset(f, 0, sizeof(*f));
    f->key = *k;
    f->used = 1;
    f->head = NONE;
    f->origin = f->rd = start;
    f->last_ns = now;
    bucket = &t->buckets[bucket_of(t, k)];
    f->hnext = *bucket;
    *bucket = i;
    list_push(t, TCPDNS_LIST_ALL, f);
    t->stats.flows++;
    t->stats.active++;
    return f;
}

static void ready_reset(struct tcpdns *t)
{
    t->stats.unread += t->ready_count;
    t->ready_len = t->ready_off = t->ready_count = t->ready_n = 0;
}

/* Drops the flows idle for idle_ns; with flush, first delivers what they
 * hold behind gaps, as long as the ready area can take a flow's worth. */
static void expire(struct tcpdns *t, int64_t now, int flush)
{
    while (t->list_tail[TCPDNS_LIST_ALL] != NONE) {
        struct tcpdns_flow *f = &t->flows[t->list_tail[TCPDNS_LIST_ALL]];

        if (now - f->last_ns < (int64_t)t->conf.idle_ns)
            return;
        if (flush && next_held(f) != NONE) {
            if (t->ready_cap - t->ready_len < (size_t)f->nblocks * TCPDNS_BLOCK)
                return;
            while (next_held(f) != NONE)
                make_room(t, f, next_held(f));
        }
        free_flow(t, f);
        t->stats.timed_out++;
    }
}

/* The flow for a segment, created when the segment can start one. */
static struct tcpdns_flow *flow_for(struct tcpdns *t, const struct tcpdns_key *k,
                                    uint32_t seq, unsigned flags, size_t len,
                                    int64_t now)
{
    uint32_t i = lookup(t, k);
    struct tcpdns_flow *f = i == NONE ? NULL : &t->flows[i];

    if (flags & TCPDNS_SYN) {
        if (f && f->syn && f->isn == seq)
            return f; /* the SYN again */
        if (f) {
            free_flow(t, f); /* a new connection on the same tuple */
            t->stats.closed++;
        }
        f = flow_new(t, k, seq + 1, now);
        f->syn = 1;
        f->isn = seq;
        return f;
    }
    if (f || len == 0)
        return f; /* a bare ACK or FIN starts nothing */
    f = flow_new(t, k, seq, now);
    f->state = ST_HUNT;
    t->stats.midstream++;
    return f;
}

int tcpdns_add(struct tcpdns *t, const struct tcpdns_key *k, uint32_t seq,
               unsigned flags, const uint8_t *data, size_t len,
               int64_t now_ns)
{
    struct tcpdns_flow *f;
    uint32_t end;
    int rc = TCPDNS_OK;

    t->stats.segments++;
    ready_reset(t);
    if (!k || (!data && len))
        rc = TCPDNS_ERR_ARG;
    else if (len > TCPDNS_SEGMENT_MAX)
        rc = TCPDNS_ERR_SEGMENT;
    if (rc < 0) {
        t->stats.dropped++;
        return rc;
    }
    /* Flows gone idle give what they hold behind a gap first: their
     * messages come out with this segment's, each with its own key. */
    expire(t, now_ns, 1);
    if (flags & TCPDNS_RST) {
        uint32_t i = lookup(t, k);
        if (i != NONE) {
            free_flow(t, &t->flows[i]);
            t->stats.resets++;
        }
        return (int)t->ready_count; /* what expiring idle flows gave */
    }
    f = flow_for(t, k, seq, flags, len, now_ns);
    if (!f)
        return (int)t->ready_count;
    touch(t, f, now_ns);
    if (flags & TCPDNS_SYN)
        seq++;
    end = seq + (uint32_t)len;
    if ((flags & TCPDNS_FIN) && !f->fin) {
        f->fin = 1;
        f->fin_seq = end;
    }
    if (f->fin && lt(f->fin_seq, end))
        end = lt(f->fin_seq, seq) ? seq : f->fin_seq; /* nothing after FIN */
    classify(t, f, seq, end);
    rc = store(t, f, seq, data, end);
    if (rc < 0)
        t->stats.dropped++;
    if (f->fin && f->state == ST_HUNT)
        parse(t, f); /* the FIN may rule out the candidate it waits for */
    gap_timer(t, f, now_ns);
    if (f->fin && !lt(first_missing(f), f->fin_seq)) {
        if (contiguous(f))
            t->stats.truncated++;
        free_flow(t, f);
        t->stats.closed++;
    }
    return rc < 0 ? rc : (int)t->ready_count;
}

int tcpdns_next(struct tcpdns *t, const uint8_t **msg, size_t *len)
{
    return tcpdns_next_key(t, msg, len, NULL);
}

int tcpdns_next_key(struct tcpdns *t, const uint8_t **msg, size_t *len,
                    struct tcpdns_key *k)
{
    size_t n;

    if (t->ready_count == 0)
        return 0;
    if (k)
        *k = t->ready_keys[t->ready_n - t->ready_count];
    n = rd16(t->ready + t->ready_off);
    *msg = t->ready + t->ready_off + 2;
    *len = n;
    t->ready_off += 2 + n;
    t->ready_count--;
    return 1;
}

size_t tcpdns_pending(const struct tcpdns *t)
{
    return t->ready_count;
}

void tcpdns_expire(struct tcpdns *t, int64_t now_ns)
{
    ready_reset(t);
    expire(t, now_ns, 1);
}

/* ------------------------------------------------------------ set-up */

static int conf_set(struct tcpdns_conf *c, const struct tcpdns_conf *in)
{
    *c = *in;
    if (!c->max_flows)
        c->max_flows = TCPDNS_DEFAULT_FLOWS;
    if (!c->max_flow_bytes)
        c->max_flow_bytes = TCPDNS_DEFAULT_FLOW_BYTES;
    if (!c->max_bytes)
        c->max_bytes = TCPDNS_DEFAULT_BYTES;
    if (!c->idle_ns)
        c->idle_ns = TCPDNS_DEFAULT_IDLE_NS;
    if (!c->gap_ns)
        c->gap_ns = TCPDNS_DEFAULT_GAP_NS;
    if (!c->window)
        c->window = TCPDNS_DEFAULT_WINDOW;
    if (c->max_flows >= (1u << 31) || c->max_flow_bytes < 3 * TCPDNS_BLOCK ||
        c->max_bytes < c->max_flow_bytes ||
        c->max_bytes / TCPDNS_BLOCK >= NONE - 1 ||
        c->window > TCPDNS_WINDOW_MAX || c->idle_ns > INT64_MAX ||
        c->gap_ns > INT64_MAX)
        return -EINVAL;
    return 0;
}

/* The hash key: the caller's, else from the kernel, else (no getrandom)
 * from the clock and an address, which is weaker but still not fixed. */
static void seed(struct tcpdns *t)
{
    struct timespec ts;

    memcpy(t->key, t->conf.seed, sizeof(t->key));
    if (t->key[0] || t->key[1])
        return;
    if (getrandom(t->key, sizeof(t->key), GRND_NONBLOCK) ==
        (ssize_t)sizeof(t->key))
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t->key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uintptr_t)t;
    t->key[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4full ^ (uintptr_t)&ts;
}

int tcpdns_init(struct tcpdns *t, const struct tcpdns_conf *c)
{
    static const struct tcpdns_conf defaults;
    int rc;

    memset(t, 0, sizeof(*t));
    rc = conf_set(&t->conf, c ? c : &defaults);
    if (rc < 0)
        return rc;
    seed(t);
    t->nbuckets = 1;
    while (t->nbuckets < t->conf.max_flows)
        t->nbuckets <<= 1;
    t->nblocks = (uint32_t)(t->conf.max_bytes / TCPDNS_BLOCK);
    t->flow_blocks = (uint32_t)(t->conf.max_flow_bytes / TCPDNS_BLOCK);
    t->ready_cap = (size_t)t->flow_blocks * TCPDNS_BLOCK + TCPDNS_SEGMENT_MAX;
    t->flows = calloc(t->conf.max_flows, sizeof(*t->flows));
    t->buckets = malloc(t->nbuckets * sizeof(*t->buckets));
    t->blocks = malloc(t->nblocks * sizeof(*t->blocks));
    t->block_data = malloc((size_t)t->nblocks * TCPDNS_BLOCK);
    t->ready = malloc(t->ready_cap);
    /* Every ready message takes at least a prefix and a DNS header. */
    t->ready_keys_cap = t->ready_cap / (2 + DNS_HEADER_LEN) + 1;
    t->ready_keys = malloc(t->ready_keys_cap * sizeof(*t->ready_keys));
    if (!t->flows || !t->buckets || !t->blocks || !t->block_data ||
        !t->ready || !t->ready_keys) {
        tcpdns_close(t);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < t->nbuckets; i++)
        t->buckets[i] = NONE;
    for (uint32_t i = 0; i < t->conf.max_flows; i++)
        t->flows[i].hnext = i + 1 < t->conf.max_flows ? i + 1 : NONE;
    for (uint32_t i = 0; i < t->nblocks; i++)
        t->blocks[i].next = i + 1 < t->nblocks ? i + 1 : NONE;
    t->free_flow = 0;
    t->free_block = t->nblocks ? 0 : NONE;
    for (int l = 0; l < 2; l++)
        t->list_head[l] = t->list_tail[l] = NONE;
    return 0;
}

void tcpdns_close(struct tcpdns *t)
{
    if (!t)
        return;
    free(t->flows);
    free(t->buckets);
    free(t->blocks);
    free(t->block_data);
    free(t->ready);
    free(t->ready_keys);
    t->ready_keys = NULL;
    t->flows = NULL;
    t->buckets = NULL;
    t->blocks = NULL;
    t->block_data = NULL;
    t->ready = NULL;
}

size_t tcpdns_memory(const struct tcpdns *t)
{
    return t->conf.max_flows * sizeof(*t->flows) +
           t->nbuckets * sizeof(*t->buckets) +
           t->nblocks * (sizeof(*t->blocks) + TCPDNS_BLOCK) + t->ready_cap +
           t->ready_keys_cap * sizeof(struct tcpdns_key);
}

size_t tcpdns_bytes_held(const struct tcpdns *t)
{
    return (size_t)t->blocks_used * TCPDNS_BLOCK;
}

size_t tcpdns_flow_bytes(const struct tcpdns *t, const struct tcpdns_key *k)
{
    uint32_t i = lookup(t, k);

    return i == NONE ? 0 : (size_t)t->flows[i].nblocks * TCPDNS_BLOCK;
}

const char *tcpdns_reason_name(int reason)
{
    static const char *const names[TCPDNS_REASON_COUNT] = {
        "ok", "segment", "nomem", "arg",
    };
    if (reason > 0 || -reason >= TCPDNS_REASON_COUNT)
        return "unknown";
    return names[-reason];
}
