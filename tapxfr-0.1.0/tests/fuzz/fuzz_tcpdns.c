/* fuzz_tcpdns.c: the DNS over TCP reassembler on any sequence of
 * segments, of up to eight flows, with any flags, sequence numbers and
 * packet times.
 *
 * Input:
 *   byte 0      bits 0-1: max_flows, one of 1, 2, 3, 8
 *               bits 2-3: max_flow_bytes in blocks, one of 3, 4, 16, 260
 *               bits 4-5: window, one of 16, 600, 4096, 65535
 *               bit 6:    the pool holds two flows' bytes, else eight
 *               bit 7:    messages are left untaken after odd segments
 *   then records, until the input ends:
 *     byte 0    bits 0-2: TCPDNS_SYN / FIN / RST
 *               bits 3-5: the flow (which also picks the key)
 *               bit 6:    call tcpdns_expire before the segment
 *               bit 7:    the time step below is in seconds, else in ms
 *     byte 1    time step
 *     bytes 2-3 signed sequence offset from where the flow's last segment
 *               ended (big endian): 0 is in order
 *     byte 4    payload length n (cut short by the end of the input)
 *     n bytes   payload
 *
 * Every segment is copied into its own allocation of exactly its size.
 * Invariants: add returns a count equal to tcpdns_pending() or a reason
 * with a name; every message taken is whole (12 to 65,535 bytes,
 * counts within the codec/dns.h limits) and inside the ready area; the
 * bytes held stay within max_bytes, each flow's within max_flow_bytes;
 * the flow count within max_flows; the counters add up. */
#include "config.h"

#include <string.h>

#include "codec/dns.h"
#include "codec/tcpdns.h"
#include "fuzz.h"

#define FLOWS 8

static void check_msg(const struct tcpdns *t, const uint8_t *m, size_t len)
{
    struct dns_header h;

    FUZZ_CHECK(len >= DNS_HEADER_LEN && len <= TCPDNS_MSG_MAX);
    FUZZ_CHECK(fuzz_inside(m, len, t->ready, t->ready_cap));
    FUZZ_CHECK(dns_header_read(m, len, &h) == 0);
    FUZZ_CHECK(h.qdcount < DNS_MAX_QDCOUNT && h.ancount < DNS_MAX_RRCOUNT &&
               h.nscount < DNS_MAX_RRCOUNT && h.arcount < DNS_MAX_RRCOUNT);
}

static uint64_t take(struct tcpdns *t, uint64_t hash)
{
    const uint8_t *m;
    size_t len;

    while (tcpdns_next(t, &m, &len)) {
        check_msg(t, m, len);
        hash = fuzz_hash(hash, m, len);
    }
    FUZZ_CHECK(tcpdns_pending(t) == 0);
    return hash;
}

static void check_bounds(const struct tcpdns *t,
                         const struct tcpdns_key *keys)
{
    const struct tcpdns_stats *st = &t->stats;

    FUZZ_CHECK(tcpdns_bytes_held(t) <= t->conf.max_bytes);
    for (int i = 0; i < FLOWS; i++)
        FUZZ_CHECK(tcpdns_flow_bytes(t, &keys[i]) <= t->conf.max_flow_bytes);
    FUZZ_CHECK(st->active <= t->conf.max_flows);
    FUZZ_CHECK(st->flows == st->active + st->evicted + st->timed_out +
                                st->closed + st->resets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t flows[4] = {1, 2, 3, 8};
    static const size_t blocks[4] = {3, 4, 16, 260};
    static const uint32_t windows[4] = {16, 600, 4096, 65535};
    struct tcpdns_conf c = {0};
    struct tcpdns t;
    struct tcpdns_key keys[FLOWS];
    uint32_t next[FLOWS] = {0};
    uint64_t hash = FUZZ_HASH_INIT, segs = 0;
    int64_t now = 0;
    size_t off = 1;
    size_t mem;

    if (size < 1)
        return 0;
    c.max_flows = flows[data[0] & 3];
    c.max_flow_bytes = blocks[(data[0] >> 2) & 3] * TCPDNS_BLOCK;
    c.window = windows[(data[0] >> 4) & 3];
    c.max_bytes = c.max_flow_bytes * (data[0] & 0x40 ? 2 : 8);
    c.seed[0] = 1; /* reproducible */
    FUZZ_CHECK(tcpdns_init(&t, &c) == 0);
    mem = tcpdns_memory(&t);
    for (int i = 0; i < FLOWS; i++) {
        memset(&keys[i], 0, sizeof(keys[i]));
        keys[i].family = (uint8_t)(i & 1 ? 6 : 4);
        keys[i].src[15] = (uint8_t)i;
        keys[i].sport = 53;
        keys[i].dport = (uint16_t)(1000 + i);
    }

    while (size - off >= 5) {
        const uint8_t *r = data + off;
        unsigned flags = r[0] & 7, fl = (r[0] >> 3) & 7;
        size_t n = r[4];
        uint32_t seq;
        uint8_t *copy;
        int rc;

        off += 5;
        if (n > size - off)
            n = size - off;
        now += (int64_t)r[1] * (r[0] & 0x80 ? 1000000000LL : 1000000LL);
        if (r[0] & 0x40) {
            tcpdns_expire(&t, now);
            hash = take(&t, hash);
            check_bounds(&t, keys);
        }
        seq = next[fl] + (uint32_t)(int32_t)(int16_t)(r[2] << 8 | r[3]);
        next[fl] = seq + (flags & TCPDNS_SYN ? 1 : 0) + (uint32_t)n;
        copy = malloc(n ? n : 1);
        if (!copy)
            abort();
        memcpy(copy, data + off, n);
        rc = tcpdns_add(&t, &keys[fl], seq, flags, copy, n, now);
        free(copy);
        off += n;
        FUZZ_CHECK(strcmp(tcpdns_reason_name(rc), "unknown") != 0 || rc > 0);
        FUZZ_CHECK(rc < 0 || (size_t)rc == tcpdns_pending(&t));
        if (!(data[0] & 0x80) || (++segs & 1) == 0)
            hash = take(&t, hash);
        check_bounds(&t, keys);
    }
    /* Each call delivers at least one flow's worth: FLOWS calls end all. */
    for (int i = 0; i < FLOWS && t.stats.active; i++) {
        tcpdns_expire(&t, now + (int64_t)t.conf.idle_ns);
        hash = take(&t, hash);
    }
    FUZZ_CHECK(t.stats.active == 0 && tcpdns_bytes_held(&t) == 0);
    check_bounds(&t, keys);
    FUZZ_CHECK(tcpdns_memory(&t) == mem);
    (void)hash;
    tcpdns_close(&t);
    return 0;
}
