/* fuzz_ipfrag.c: IP fragment reassembly on any sequence of fragments,
 * checked against its own bounds and against a second table with another
 * hash seed.
 *
 * Input:
 *   byte 0       bits 0-1: max_datagrams, one of max_datagrams[] below
 *                bits 2-3: max_bytes, one of max_bytes[]
 *                bits 4-5: timeout, one of timeouts[]
 *   then records of 5 bytes, one fragment each (a short tail is ignored):
 *     byte 0     bit 0: family (0 IPv4, 1 IPv6)
 *                bits 1-2: which of 4 datagram keys (id, addresses, and
 *                          for IPv4 the protocol, 6 or 17)
 *                bit 3: more (MF / M)
 *                bits 4-7: time step, see fuzz_time_step() in fuzz.h
 *     bytes 1-2  offset, big-endian: bits 0-12 in units of 8 bytes;
 *                bit 15 adds 1 (a misaligned offset, which is invalid)
 *     bytes 3-4  payload length, big-endian
 *
 * Payload bytes are a function of the key and the position in the
 * datagram, so every output can be checked byte by byte: a reassembled
 * datagram must be exactly the bytes its fragments carried. Each payload
 * is its own allocation of exactly its size (ASan sees any over-read).
 * The unused bytes of IPv4 addresses are filled with junk that changes per
 * fragment: the table must ignore them. IPv6 fragments at offset 0 carry
 * next header 17 and the others 59, so an output's protocol must be 17.
 *
 * After each call: the return value is in range and has a name, the gauges
 * respect the bounds, and every fragment is counted exactly once. Both
 * tables must agree on every result and counter (the seed only places
 * entries in buckets). At the end, expiry far in the future must leave
 * nothing held. */
#include "config.h"

#include <string.h>

#include "codec/ipfrag.h"
#include "fuzz.h"

static const size_t max_datagrams[4] = {1, 2, 4, 64};
static const size_t max_bytes[4] = {64, 1500, 9000, 200000};
static const uint64_t timeouts[4] = {1, 1000, 1000000, IPFRAG_TIMEOUT_NS};

#define START_NS 1700000000000000000ll

static uint8_t content(unsigned family, unsigned key, size_t pos)
{
    uint32_t h = (uint32_t)(pos * 2654435761u) ^ (family * 131u + key * 31u);

    return (uint8_t)(h ^ h >> 8 ^ h >> 16);
}

static void make_key(struct ipfrag_key *k, unsigned family, unsigned key,
                     size_t junk)
{
    memset(k, 0, sizeof(*k));
    k->family = family == 0 ? 4 : 6;
    k->proto = key & 1 ? 17 : 6;
    k->id = 0x4000u + (key >> 1);
    memset(k->src, 0x20, sizeof(k->src));
    memset(k->dst, 0x30, sizeof(k->dst));
    k->src[3] = (uint8_t)key;
    k->dst[15] = (uint8_t)key;
    if (family == 0) {
        /* Not part of an IPv4 key: must make no difference. */
        memset(k->src + 4, (int)junk, sizeof(k->src) - 4);
        memset(k->dst + 4, (int)(junk >> 8), sizeof(k->dst) - 4);
        k->dst[3] = (uint8_t)key;
        k->id |= 0x10000u * (uint32_t)junk; /* only 16 bits are the id */
    }
}

static void check_stats(const struct ipfrag_stats *s, size_t maxb,
                        size_t maxd, uint64_t held, uint64_t done)
{
    FUZZ_CHECK(s->bytes <= maxb);
    FUZZ_CHECK(s->datagrams <= maxd);
    FUZZ_CHECK(s->reassembled + s->atomic == done);
    FUZZ_CHECK(s->fragments == held + done + s->duplicates +
                                   s->overlapping + s->invalid +
                                   s->too_big + s->no_room +
                                   s->dropped_dead);
}

static void check_out(const struct ipfrag_out *o, const uint8_t *payload,
                      size_t len, unsigned family, unsigned key,
                      uint8_t proto, int atomic)
{
    FUZZ_CHECK(o->len <= (family == 0 ? IPFRAG_MAX_LEN_V4 : IPFRAG_MAX_LEN));
    if (atomic) {
        FUZZ_CHECK(o->data == payload && o->len == len && o->proto == proto);
        return;
    }
    FUZZ_CHECK(o->len >= len);
    /* That of the offset-0 fragment: IPv4 keys have one protocol, IPv6
     * offset-0 fragments all carry 17. */
    FUZZ_CHECK(o->proto == (family == 0 ? proto : 17));
    for (size_t p = 0; p < o->len; p++)
        FUZZ_CHECK(o->data[p] == content(family, key, p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ipfrag a, b;
    struct ipfrag_conf conf;
    uint64_t held = 0, done = 0;
    int64_t now = START_NS, latest = START_NS;

    if (size < 1)
        return 0;
    memset(&conf, 0, sizeof(conf));
    conf.max_datagrams = max_datagrams[data[0] & 3];
    conf.max_bytes = max_bytes[(data[0] >> 2) & 3];
    conf.timeout_ns = timeouts[(data[0] >> 4) & 3];
    conf.seed[0] = 1;
    FUZZ_CHECK(ipfrag_init(&a, &conf) == 0);
    conf.seed[0] = 0x9e3779b97f4a7c15ull;
    conf.seed[1] = 2;
    FUZZ_CHECK(ipfrag_init(&b, &conf) == 0);

    for (size_t i = 1; i + 5 <= size; i += 5) {
        const uint8_t *r = data + i;
        unsigned family = r[0] & 1, key = (r[0] >> 1) & 3, more = (r[0] >> 3) & 1;
        unsigned ov = (unsigned)r[1] << 8 | r[2];
        uint32_t offset = (ov & 0x1fff) * 8 + (ov >> 15);
        size_t len = (size_t)r[3] << 8 | r[4];
        struct ipfrag_key k;
        struct ipfrag_out oa, ob;
        uint8_t proto, *payload;
        int ra, rb;

        now += fuzz_time_step(r[0] >> 4, conf.timeout_ns);
        if (now > latest)
            latest = now;
        make_key(&k, family, key, i);
        proto = family == 0 ? k.proto : offset == 0 ? 17 : 59;
        payload = malloc(len ? len : 1);
        if (!payload)
            abort();
        for (size_t p = 0; p < len; p++)
            payload[p] = content(family, key, offset + p);

        ra = ipfrag_add(&a, &k, offset, (int)more, proto, payload, len, now, &oa);
        FUZZ_CHECK(ra <= IPFRAG_DONE && ra > -IPFRAG_REASON_COUNT);
        FUZZ_CHECK(strcmp(ipfrag_reason_name(ra), "unknown") != 0);
        if (ra == IPFRAG_DONE)
            check_out(&oa, payload, len, family, key, proto,
                      offset == 0 && !more);
        held += ra == IPFRAG_HELD;
        done += ra == IPFRAG_DONE;
        check_stats(ipfrag_stats(&a), conf.max_bytes, conf.max_datagrams,
                    held, done);

        rb = ipfrag_add(&b, &k, offset, (int)more, proto, payload, len, now, &ob);
        FUZZ_CHECK(ra == rb);
        if (ra == IPFRAG_DONE)
            FUZZ_CHECK(oa.len == ob.len && oa.proto == ob.proto);
        FUZZ_CHECK(memcmp(ipfrag_stats(&a), ipfrag_stats(&b),
                          sizeof(struct ipfrag_stats)) == 0);
        free(payload);
    }

    /* Past the timeout of the newest datagram, wherever time went. */
    ipfrag_expire(&a, latest + (int64_t)conf.timeout_ns + 1);
    FUZZ_CHECK(ipfrag_stats(&a)->bytes == 0);
    FUZZ_CHECK(ipfrag_stats(&a)->datagrams == 0);
    ipfrag_close(&a);
    ipfrag_close(&b);
    return 0;
}
