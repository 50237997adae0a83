/* siphash.h: SipHash-1-3, the keyed hash of the codecs' tables (pure,
 * header only).
 *
 * Tables keyed on what a sender chooses (addresses, ports, IDs) place
 * entries by siphash13() under a secret 128-bit seed, so that a sender
 * who does not know the seed cannot aim collisions at one bucket. Words
 * are loaded in host order: the value never leaves the process, so it
 * need not agree across machines. */
#ifndef TAPXFR_CODEC_SIPHASH_H
#define TAPXFR_CODEC_SIPHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t siphash_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPHASH_ROUND(v0, v1, v2, v3)                                       \
    do {                                                                    \
        v0 += v1; v1 = siphash_rotl(v1, 13); v1 ^= v0;                      \
        v0 = siphash_rotl(v0, 32);                                          \
        v2 += v3; v3 = siphash_rotl(v3, 16); v3 ^= v2;                      \
        v0 += v3; v3 = siphash_rotl(v3, 21); v3 ^= v0;                      \
        v2 += v1; v1 = siphash_rotl(v1, 17); v1 ^= v2;                      \
        v2 = siphash_rotl(v2, 32);                                          \
    } while (0)

/* SipHash-1-3 of p[0 .. len) under seed. */
static inline uint64_t siphash13(const uint64_t seed[2], const uint8_t *p,
                                 size_t len)
{
    uint64_t v0 = seed[0] ^ 0x736f6d6570736575ull;
    uint64_t v1 = seed[1] ^ 0x646f72616e646f6dull;
    uint64_t v2 = seed[0] ^ 0x6c7967656e657261ull;
    uint64_t v3 = seed[1] ^ 0x7465646279746573ull;
    uint64_t m;
    size_t i;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&m, p + i, 8);
        v3 ^= m;
        SIPHASH_ROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    m = (uint64_t)len << 56;
    for (; i < len; i++)
        m |= (uint64_t)p[i] << (8 * (i % 8));
    v3 ^= m;
    SIPHASH_ROUND(v0, v1, v2, v3);
    v0 ^= m;
    v2 ^= 0xff;
    SIPHASH_ROUND(v0, v1, v2, v3);
    SIPHASH_ROUND(v0, v1, v2, v3);
    SIPHASH_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

#endif
