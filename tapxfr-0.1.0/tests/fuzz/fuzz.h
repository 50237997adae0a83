/* fuzz.h: what every fuzz target shares.
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput(). Linked with
 * libFuzzer (tests/fuzz/build.sh) it is a fuzzer; linked with replay.c
 * (make check) it replays the checked-in corpus as a regression test.
 *
 * Invariants are checked with FUZZ_CHECK rather than assert(), so that
 * they hold in an NDEBUG build too; a failure prints the condition and
 * aborts, which both libFuzzer and the replayer report as a crash. */
#ifndef TAPXFR_FUZZ_H
#define TAPXFR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_fail(const char *file, int line, const char *cond)
{
    fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, cond);
    fflush(stderr);
    abort();
}

#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond))                                                          \
            fuzz_fail(__FILE__, __LINE__, #cond);                             \
    } while (0)

/* Whether [p, p + n) lies inside [base, base + size). */
static inline int fuzz_inside(const void *p, size_t n, const void *base,
                              size_t size)
{
    const uint8_t *q = p, *b = base;

    return q >= b && q <= b + size && n <= (size_t)(b + size - q);
}

/* FNV-1a, to compare what two runs produced without keeping it, and to
 * make every byte of a returned buffer be read (ASan then checks it). */
static inline uint64_t fuzz_hash(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define FUZZ_HASH_INIT 0xcbf29ce484222325ull

/* A time step for the targets with explicit packet time (ipfrag, match):
 * steps that reach the edges of the timeout, and going backwards. */
static inline int64_t fuzz_time_step(unsigned code, uint64_t timeout)
{
    switch (code) {
    case 0: return 0;
    case 1: return 1;
    case 2: return (int64_t)(timeout / 2);
    case 3: return (int64_t)timeout;
    case 4: return (int64_t)timeout + 1;
    case 5: return -1;
    case 6: return -(int64_t)timeout;
    default: return (int64_t)code * 997;
    }
}

#endif
