/* Unit tests for IP fragment reassembly (src/codec/ipfrag.c).
 *
 * Payload bytes are a function of the datagram and the position in it
 * (pattern() below), so every reassembled datagram is checked byte by byte
 * against what its fragments carried. Every fragment is copied into a heap
 * block of exactly its size, so a build with -fsanitize=address catches
 * any read past it.
 *
 * The rule cases are one table: a sequence of fragments, the result each
 * must give and the counters at the end, run for IPv4 and IPv6. Orders
 * are covered by every permutation of up to 6 fragments and by random
 * orders (fixed seed) of many, interleaved with other datagrams. The
 * bounds (eviction by count and by bytes, datagrams larger than
 * max_bytes) are scripts checking the counters after every fragment.
 * Every table that held datagrams is drained by expiry at the end, which
 * must leave no byte and no entry held. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ipfrag.h"

#define T0 1000000000000ll /* packet time of the first fragment */
#define SEC 1000000000ll

/* ------------------------------------------------------------ helpers */

static uint8_t pattern(uint32_t dgram, size_t pos)
{
    uint32_t h = (uint32_t)pos * 2654435761u ^ dgram * 40503u;

    return (uint8_t)(h ^ h >> 11 ^ h >> 19);
}

/* Datagram n of a family: addresses and id from n, protocol UDP. */
static struct ipfrag_key key_of(int family, uint32_t n)
{
    struct ipfrag_key k;

    memset(&k, 0, sizeof(k));
    k.family = (uint8_t)family;
    k.proto = family == 4 ? 17 : 0;
    k.id = family == 4 ? (n & 0xffff) : n * 2654435761u;
    k.src[0] = family == 4 ? 192 : 0x20;
    k.src[3] = (uint8_t)(n >> 16);
    k.dst[0] = family == 4 ? 198 : 0x20;
    k.dst[3] = (uint8_t)(n >> 24);
    return k;
}

static struct ipfrag_conf conf_of(size_t datagrams, size_t bytes)
{
    struct ipfrag_conf c;

    memset(&c, 0, sizeof(c));
    c.max_datagrams = datagrams;
    c.max_bytes = bytes;
    c.timeout_ns = 30 * SEC;
    c.seed[0] = 0x0123456789abcdefull;
    c.seed[1] = 0xfedcba9876543210ull;
    return c;
}

static void table_init(struct ipfrag *t, size_t datagrams, size_t bytes)
{
    struct ipfrag_conf c = conf_of(datagrams, bytes);

    assert_int_equal(ipfrag_init(t, &c), 0);
}

/* Adds [off, off + len) of datagram dg with pattern bytes; the proto
 * passed is 17 at offset 0 and 59 elsewhere, so the output's protocol
 * shows which fragment it came from. */
static int add(struct ipfrag *t, const struct ipfrag_key *k, uint32_t dg,
               uint32_t off, size_t len, int more, int64_t now,
               struct ipfrag_out *out)
{
    uint8_t *p = malloc(len ? len : 1);
    uint8_t proto = k->family == 4 ? k->proto : off == 0 ? 17 : 59;
    int rc;

    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = pattern(dg, off + i);
    rc = ipfrag_add(t, k, off, more, proto, p, len, now, out);
    /* An atomic fragment is returned in place: check it before freeing. */
    if (rc == IPFRAG_DONE && out->data == p) {
        assert_int_equal(out->len, len);
        for (size_t i = 0; i < len; i++)
            assert_int_equal(out->data[i], pattern(dg, i));
    }
    free(p);
    return rc;
}

static void assert_datagram(const struct ipfrag_out *o, uint32_t dg,
                            size_t len)
{
    assert_int_equal(o->len, len);
    assert_int_equal(o->proto, 17);
    for (size_t i = 0; i < len; i++)
        if (o->data[i] != pattern(dg, i))
            fail_msg("datagram %u byte %zu: %02x, want %02x", dg, i,
                     o->data[i], pattern(dg, i));
}

/* Nothing held once everything has timed out, and the table is closed. */
static void drain_and_close(struct ipfrag *t, int64_t now)
{
    ipfrag_expire(t, now + 31 * SEC);
    assert_int_equal(ipfrag_stats(t)->bytes, 0);
    assert_int_equal(ipfrag_stats(t)->datagrams, 0);
    ipfrag_close(t);
}

static void shuffle(uint32_t *v, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j;
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        j = (size_t)(*rng >> 33) % i;
        uint32_t x = v[i - 1];
        v[i - 1] = v[j];
        v[j] = x;
    }
}

/* ------------------------------------------------------------ the rules */

struct frag {
    uint32_t off;
    uint32_t len;
    int more;
    int want; /* IPFRAG_HELD, IPFRAG_DONE or a negative reason */
};

struct rule_case {
    const char *name;
    struct frag f[8];
    size_t n;
    size_t done_len;    /* length of the IPFRAG_DONE output, if any */
    /* counters at the end */
    unsigned reassembled, duplicates, overlapping, invalid, dead;
    unsigned datagrams; /* entries left (dead ones included) */
};

#define H IPFRAG_HELD
#define D IPFRAG_DONE

static const struct rule_case rule_cases[] = {
    {"two in order", {{0, 16, 1, H}, {16, 5, 0, D}}, 2, 21, 1, 0, 0, 0, 0, 0},
    {"two reversed", {{16, 5, 0, H}, {0, 16, 1, D}}, 2, 21, 1, 0, 0, 0, 0, 0},
    {"first fragment of 8 bytes, the UDP header alone",
     {{8, 8, 0, H}, {0, 8, 1, D}}, 2, 16, 1, 0, 0, 0, 0, 0},
    {"last of zero bytes", {{0, 8, 1, H}, {8, 0, 0, D}}, 2, 8, 1, 0, 0, 0, 0, 0},
    {"last of zero bytes first", {{8, 0, 0, H}, {0, 8, 1, D}}, 2, 8, 1, 0, 0, 0, 0, 0},
    {"middle last", {{0, 8, 1, H}, {16, 3, 0, H}, {8, 8, 1, D}}, 3, 19, 1, 0, 0, 0, 0, 0},
    {"duplicate first", {{0, 8, 1, H}, {0, 8, 1, IPFRAG_DUPLICATE}, {8, 1, 0, D}},
     3, 9, 1, 1, 0, 0, 0, 0},
    {"duplicate last", {{8, 1, 0, H}, {8, 1, 0, IPFRAG_DUPLICATE}, {0, 8, 1, D}},
     3, 9, 1, 1, 0, 0, 0, 0},
    {"duplicate zero-byte last",
     {{8, 0, 0, H}, {8, 0, 0, IPFRAG_DUPLICATE}, {0, 8, 1, D}},
     3, 8, 1, 1, 0, 0, 0, 0},
    {"overlap left", {{16, 24, 1, H}, {8, 16, 1, IPFRAG_OVERLAP}, {0, 8, 1, IPFRAG_DEAD}},
     3, 0, 0, 0, 1, 0, 1, 1},
    {"overlap right", {{16, 24, 1, H}, {32, 16, 1, IPFRAG_OVERLAP}, {48, 1, 0, IPFRAG_DEAD}},
     3, 0, 0, 0, 1, 0, 1, 1},
    {"overlap inside", {{16, 24, 1, H}, {24, 8, 1, IPFRAG_OVERLAP}}, 2, 0, 0, 0, 1, 0, 0, 1},
    {"overlap covering", {{16, 24, 1, H}, {8, 40, 1, IPFRAG_OVERLAP}}, 2, 0, 0, 0, 1, 0, 0, 1},
    {"overlap same start, shorter", {{16, 24, 1, H}, {16, 8, 1, IPFRAG_OVERLAP}},
     2, 0, 0, 0, 1, 0, 0, 1},
    {"overlap same start, longer", {{16, 24, 1, H}, {16, 32, 1, IPFRAG_OVERLAP}},
     2, 0, 0, 0, 1, 0, 0, 1},
    {"overlap same end, shorter", {{16, 24, 1, H}, {32, 8, 1, IPFRAG_OVERLAP}},
     2, 0, 0, 0, 1, 0, 0, 1},
    {"overlap same end, longer", {{16, 24, 1, H}, {8, 32, 1, IPFRAG_OVERLAP}},
     2, 0, 0, 0, 1, 0, 0, 1},
    {"overlap of a last fragment", {{8, 9, 0, H}, {8, 5, 0, IPFRAG_INVALID}},
     2, 0, 0, 0, 0, 1, 0, 1},
    {"overlap by a last fragment", {{8, 16, 1, H}, {16, 3, 0, IPFRAG_INVALID}},
     2, 0, 0, 0, 0, 1, 0, 1},
    {"overlap of two, then the rest dead",
     {{0, 8, 1, H}, {16, 8, 1, H}, {0, 24, 1, IPFRAG_OVERLAP},
      {8, 8, 1, IPFRAG_DEAD}, {24, 1, 0, IPFRAG_DEAD}, {0, 8, 1, IPFRAG_DEAD}},
     6, 0, 0, 0, 1, 0, 3, 1},
    {"not a multiple of 8", {{0, 8, 1, H}, {8, 12, 1, IPFRAG_INVALID}, {20, 1, 0, IPFRAG_DEAD}},
     3, 0, 0, 0, 0, 1, 1, 1},
    {"not a multiple of 8, first seen", {{0, 9, 1, IPFRAG_INVALID}, {8, 1, 0, IPFRAG_DEAD}},
     2, 0, 0, 0, 0, 1, 1, 1},
    {"zero bytes, not last", {{0, 8, 1, H}, {8, 0, 1, IPFRAG_INVALID}}, 2, 0, 0, 0, 0, 1, 0, 1},
    {"misaligned offset", {{0, 8, 1, H}, {9, 8, 0, IPFRAG_INVALID}}, 2, 0, 0, 0, 0, 1, 0, 1},
    {"second last, other end", {{16, 4, 0, H}, {16, 5, 0, IPFRAG_INVALID}, {0, 16, 1, IPFRAG_DEAD}},
     3, 0, 0, 0, 0, 1, 1, 1},
    {"second last, earlier", {{16, 4, 0, H}, {8, 4, 0, IPFRAG_INVALID}}, 2, 0, 0, 0, 0, 1, 0, 1},
    {"last before bytes held", {{32, 8, 1, H}, {8, 4, 0, IPFRAG_INVALID}}, 2, 0, 0, 0, 0, 1, 0, 1},
    {"past the end", {{8, 4, 0, H}, {8, 8, 1, IPFRAG_INVALID}}, 2, 0, 0, 0, 0, 1, 0, 1},
    {"past the end, not touching", {{8, 4, 0, H}, {16, 8, 1, IPFRAG_INVALID}},
     2, 0, 0, 0, 0, 1, 0, 1},
    {"many small", {{8, 8, 1, H}, {24, 8, 1, H}, {40, 1, 0, H}, {16, 8, 1, H},
                    {0, 8, 1, H}, {32, 8, 1, D}}, 6, 41, 1, 0, 0, 0, 0, 0},
};

#define NRULES (sizeof(rule_cases) / sizeof(rule_cases[0]))

static void run_rule(const struct rule_case *c, int family)
{
    struct ipfrag t;
    struct ipfrag_key k = key_of(family, 7);
    const struct ipfrag_stats *s;
    struct ipfrag_out out;

    table_init(&t, 8, 4096);
    for (size_t i = 0; i < c->n; i++) {
        int rc = add(&t, &k, 7, c->f[i].off, c->f[i].len, c->f[i].more,
                     T0 + (int64_t)i, &out);
        if (rc != c->f[i].want)
            fail_msg("%s (IPv%d) fragment %zu: %s, want %s", c->name, family,
                     i, ipfrag_reason_name(rc),
                     ipfrag_reason_name(c->f[i].want));
        if (rc == IPFRAG_DONE)
            assert_datagram(&out, 7, c->done_len);
    }
    s = ipfrag_stats(&t);
    assert_int_equal(s->fragments, c->n);
    assert_int_equal(s->reassembled, c->reassembled);
    assert_int_equal(s->duplicates, c->duplicates);
    assert_int_equal(s->overlapping, c->overlapping);
    assert_int_equal(s->invalid, c->invalid);
    assert_int_equal(s->dropped_dead, c->dead);
    assert_int_equal(s->datagrams, c->datagrams);
    if (c->datagrams == 1 && c->reassembled == 0 &&
        (c->overlapping || c->invalid))
        assert_int_equal(s->bytes, 0); /* a dead datagram holds nothing */
    drain_and_close(&t, T0);
}

static void test_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < NRULES; i++) {
        run_rule(&rule_cases[i], 4);
        run_rule(&rule_cases[i], 6);
    }
}

/* ------------------------------------------------------------ orders */

/* Fragment i of a datagram cut into n pieces of `piece` bytes, the last
 * one `tail` bytes. */
static void piece_of(size_t i, size_t n, uint32_t piece, uint32_t tail,
                     uint32_t *off, uint32_t *len, int *more)
{
    *off = (uint32_t)i * piece;
    *len = i + 1 < n ? piece : tail;
    *more = i + 1 < n;
}

/* Feeds the fragments in the order given; only the last one completes. */
static void feed_order(struct ipfrag *t, int family, uint32_t dg,
                       const uint32_t *order, size_t n, uint32_t piece,
                       uint32_t tail)
{
    struct ipfrag_key k = key_of(family, dg);
    struct ipfrag_out out;

    for (size_t i = 0; i < n; i++) {
        uint32_t off, len;
        int more, rc;

        piece_of(order[i], n, piece, tail, &off, &len, &more);
        rc = add(t, &k, dg, off, len, more, T0, &out);
        if (n == 1 || i + 1 < n) {
            /* One fragment at offset 0 without more is atomic. */
            if (!(n == 1 && rc == IPFRAG_DONE))
                assert_int_equal(rc, IPFRAG_HELD);
        } else {
            assert_int_equal(rc, IPFRAG_DONE);
        }
        /* An atomic fragment's output is the freed input: add() checked
         * it. */
        if (rc == IPFRAG_DONE && n > 1)
            assert_datagram(&out, dg, (n - 1) * piece + tail);
    }
}

/* Heap's algorithm, iterative: every permutation of order[0..n). */
static size_t each_permutation(uint32_t *order, size_t n,
                               void (*fn)(const uint32_t *, size_t, void *),
                               void *arg)
{
    size_t c[8] = {0}, i = 1, count = 1;

    fn(order, n, arg);
    while (i < n) {
        if (c[i] < i) {
            size_t j = i % 2 ? c[i] : 0;
            uint32_t x = order[j];
            order[j] = order[i];
            order[i] = x;
            fn(order, n, arg);
            count++;
            c[i]++;
            i = 1;
        } else {
            c[i++] = 0;
        }
    }
    return count;
}

struct perm_run {
    struct ipfrag *t;
    int family;
    uint32_t dg;
};

static void feed_perm(const uint32_t *order, size_t n, void *arg)
{
    struct perm_run *r = arg;

    feed_order(r->t, r->family, r->dg++, order, n, 24, 13);
}

static void test_all_permutations(void **state)
{
    static const size_t fact[7] = {1, 1, 2, 6, 24, 120, 720};
    (void)state;
    for (int family = 4; family <= 6; family += 2) {
        for (size_t n = 1; n <= 6; n++) {
            struct ipfrag t;
            struct perm_run r = {&t, family, 1};
            uint32_t order[8];
            const struct ipfrag_stats *s;

            for (size_t i = 0; i < n; i++)
                order[i] = (uint32_t)i;
            table_init(&t, 4, 4096);
            assert_int_equal(each_permutation(order, n, feed_perm, &r), fact[n]);
            s = ipfrag_stats(&t);
            assert_int_equal(s->reassembled + s->atomic, fact[n]);
            assert_int_equal(s->bytes, 0);
            assert_int_equal(s->datagrams, 0);
            drain_and_close(&t, T0);
        }
    }
}

static void test_random_orders(void **state)
{
    static const struct { size_t n; uint32_t piece, tail; } shapes[] = {
        {8, 8, 1}, {20, 64, 40}, {44, 1480, 400}, {100, 504, 7},
        {8190, 8, 3}, /* the smallest pieces, up to the IPv4 limit */
    };
    uint64_t rng = 42;
    uint32_t *order = malloc(8192 * sizeof(*order));
    (void)state;

    assert_non_null(order);
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        for (int family = 4; family <= 6; family += 2) {
            struct ipfrag t;
            int rounds = shapes[s].n > 1000 ? 1 : 50;

            table_init(&t, 4, 70000);
            for (int r = 0; r < rounds; r++) {
                for (size_t i = 0; i < shapes[s].n; i++)
                    order[i] = (uint32_t)i;
                shuffle(order, shapes[s].n, &rng);
                feed_order(&t, family, (uint32_t)r, order, shapes[s].n,
                           shapes[s].piece, shapes[s].tail);
            }
            assert_int_equal(ipfrag_stats(&t)->reassembled, rounds);
            drain_and_close(&t, T0);
        }
    }
    free(order);
}

/* Many datagrams of both families at once, fragments shuffled together:
 * each must come out whole, once, whatever lies between its fragments. */
static void test_interleaved(void **state)
{
    enum { NDG = 40, PIECES = 5, PIECE = 16, TAIL = 9 };
    uint32_t order[NDG * PIECES];
    int done[NDG] = {0};
    uint64_t rng = 7;
    struct ipfrag t;
    (void)state;

    for (int round = 0; round < 20; round++) {
        table_init(&t, NDG, NDG * PIECES * PIECE);
        memset(done, 0, sizeof(done));
        for (uint32_t i = 0; i < NDG * PIECES; i++)
            order[i] = i;
        shuffle(order, NDG * PIECES, &rng);
        for (size_t i = 0; i < NDG * PIECES; i++) {
            uint32_t dg = order[i] / PIECES, off, len;
            int family = dg % 2 ? 6 : 4, more, rc;
            struct ipfrag_key k = key_of(family, dg);
            struct ipfrag_out out;

            piece_of(order[i] % PIECES, PIECES, PIECE, TAIL, &off, &len, &more);
            rc = add(&t, &k, dg, off, len, more, T0 + (int64_t)i, &out);
            if (rc == IPFRAG_DONE) {
                assert_datagram(&out, dg, (PIECES - 1) * PIECE + TAIL);
                done[dg]++;
            } else {
                assert_int_equal(rc, IPFRAG_HELD);
            }
        }
        for (int dg = 0; dg < NDG; dg++)
            assert_int_equal(done[dg], 1);
        assert_int_equal(ipfrag_stats(&t)->evicted, 0);
        drain_and_close(&t, T0);
    }
}

/* ------------------------------------------------------------ keys */

/* Two fragments that differ in one key field are two datagrams; fields
 * outside the key make no difference. */
static void test_keys(void **state)
{
    struct ipfrag t;
    struct ipfrag_key a = key_of(4, 1), b;
    struct ipfrag_out out;
    (void)state;

    table_init(&t, 16, 4096);
    /* IPv4: the protocol is part of the key. */
    b = a;
    b.proto = 6;
    assert_int_equal(add(&t, &a, 1, 0, 8, 1, T0, &out), IPFRAG_HELD);
    assert_int_equal(add(&t, &b, 1, 8, 1, 0, T0, &out), IPFRAG_HELD);
    assert_int_equal(ipfrag_stats(&t)->datagrams, 2);
    /* IPv4: address bytes past the fourth and id bits past 16 are not. */
    b = a;
    memset(b.src + 4, 0xee, 12);
    memset(b.dst + 4, 0xdd, 12);
    b.id |= 0xabcd0000u;
    assert_int_equal(add(&t, &b, 1, 8, 1, 0, T0, &out), IPFRAG_DONE);
    assert_datagram(&out, 1, 9);
    /* Source, destination and id each make another datagram. */
    for (int field = 0; field < 3; field++) {
        for (int family = 4; family <= 6; family += 2) {
            struct ipfrag_key c = key_of(family, 2), d = c;
            if (field == 0)
                d.src[family == 4 ? 3 : 15] ^= 1;
            else if (field == 1)
                d.dst[family == 4 ? 0 : 15] ^= 1;
            else
                d.id ^= 0x8000;
            assert_int_equal(add(&t, &c, 2, 0, 8, 1, T0, &out), IPFRAG_HELD);
            assert_int_equal(add(&t, &d, 2, 8, 1, 0, T0, &out), IPFRAG_HELD);
            assert_int_equal(add(&t, &d, 2, 0, 8, 1, T0, &out), IPFRAG_DONE);
            assert_int_equal(add(&t, &c, 2, 8, 1, 0, T0, &out), IPFRAG_DONE);
        }
    }
    /* IPv6: the protocol is not part of the key, and the output's is the
     * offset-0 fragment's next header (add() passes 17 there, 59 else). */
    a = key_of(6, 3);
    b = a;
    b.proto = 99;
    assert_int_equal(add(&t, &a, 3, 8, 1, 0, T0, &out), IPFRAG_HELD);
    assert_int_equal(add(&t, &b, 3, 0, 8, 1, T0, &out), IPFRAG_DONE);
    assert_datagram(&out, 3, 9);
    /* The same addresses and id in the other family are another key. */
    a = key_of(4, 4);
    b = key_of(6, 4);
    memcpy(b.src, a.src, 16);
    memcpy(b.dst, a.dst, 16);
    b.id = a.id;
    assert_int_equal(add(&t, &a, 4, 0, 8, 1, T0, &out), IPFRAG_HELD);
    assert_int_equal(add(&t, &b, 4, 8, 1, 0, T0, &out), IPFRAG_HELD);
    assert_int_equal(ipfrag_stats(&t)->datagrams, 3);
    /* Neither 4 nor 6. */
    a.family = 5;
    assert_int_equal(add(&t, &a, 4, 0, 8, 1, T0, &out), IPFRAG_INVALID);
    drain_and_close(&t, T0);
}

/* RFC 6946: offset 0 without M is a whole datagram, returned at once,
 * never stored, and no business of a datagram in progress with its key. */
static void test_atomic(void **state)
{
    struct ipfrag t;
    struct ipfrag_out out;
    (void)state;

    for (int family = 4; family <= 6; family += 2) {
        struct ipfrag_key k = key_of(family, 5);
        const struct ipfrag_stats *s;

        table_init(&t, 4, 4096);
        s = ipfrag_stats(&t);
        assert_int_equal(add(&t, &k, 5, 0, 100, 0, T0, &out), IPFRAG_DONE);
        assert_int_equal(out.proto, 17);
        assert_int_equal(s->atomic, 1);
        assert_int_equal(s->datagrams, 0);
        assert_int_equal(add(&t, &k, 5, 0, 0, 0, T0, &out), IPFRAG_DONE);
        assert_int_equal(out.len, 0);
        /* In progress with the same key: untouched, even by an atomic
         * fragment that would overlap it. */
        assert_int_equal(add(&t, &k, 5, 8, 8, 1, T0, &out), IPFRAG_HELD);
        assert_int_equal(add(&t, &k, 5, 0, 30, 0, T0, &out), IPFRAG_DONE);
        assert_int_equal(s->overlapping, 0);
        assert_int_equal(add(&t, &k, 5, 16, 2, 0, T0, &out), IPFRAG_HELD);
        assert_int_equal(add(&t, &k, 5, 0, 8, 1, T0, &out), IPFRAG_DONE);
        assert_datagram(&out, 5, 18);
        /* Killed datagram: an atomic fragment still goes through. */
        assert_int_equal(add(&t, &k, 5, 8, 8, 1, T0, &out), IPFRAG_HELD);
        assert_int_equal(add(&t, &k, 5, 8, 16, 1, T0, &out), IPFRAG_OVERLAP);
        assert_int_equal(add(&t, &k, 5, 0, 9, 0, T0, &out), IPFRAG_DONE);
        assert_int_equal(add(&t, &k, 5, 0, 8, 1, T0, &out), IPFRAG_DEAD);
        assert_int_equal(s->atomic, 4);
        assert_int_equal(s->reassembled, 1);
        /* Too long to be a datagram at all. */
        assert_int_equal(add(&t, &k, 5, 0, family == 4 ? 65516 : 65536, 0, T0,
                             &out), IPFRAG_TOO_BIG);
        assert_int_equal(add(&t, &k, 5, 0, family == 4 ? 65515 : 65535, 0, T0,
                             &out), IPFRAG_DONE);
        drain_and_close(&t, T0);
    }
}

/* ------------------------------------------------------------ limits */

/* The reassembled payload may reach 65,515 bytes (IPv4) or 65,535 (IPv6)
 * and not one more, wherever the fragment that passes it sits. */
static void test_max_len(void **state)
{
    struct ipfrag_out out;
    (void)state;

    for (int family = 4; family <= 6; family += 2) {
        uint32_t limit = family == 4 ? 65515 : 65535;
        uint32_t piece = 1480, n = limit / piece;  /* n full pieces */
        uint32_t tail = limit - n * piece;
        struct ipfrag t;
        struct ipfrag_key k = key_of(family, 9);

        table_init(&t, 4, 3 * 65536);
        /* Exactly at the limit, last fragment first. */
        assert_int_equal(add(&t, &k, 9, n * piece, tail, 0, T0, &out), IPFRAG_HELD);
        for (uint32_t i = 0; i < n; i++)
            assert_int_equal(add(&t, &k, 9, i * piece, piece, 1, T0, &out),
                             i + 1 < n ? IPFRAG_HELD : IPFRAG_DONE);
        assert_datagram(&out, 9, limit);
        /* One byte past it: a last fragment, then a middle one. */
        assert_int_equal(add(&t, &k, 9, 0, 8, 1, T0, &out), IPFRAG_HELD);
        assert_int_equal(add(&t, &k, 9, n * piece, tail + 1, 0, T0, &out),
                         IPFRAG_TOO_BIG);
        assert_int_equal(add(&t, &k, 9, 8, 8, 1, T0, &out), IPFRAG_DEAD);
        k.id ^= 1;
        assert_int_equal(add(&t, &k, 9, (limit & ~7u) - 8, 16, 1, T0, &out),
                         IPFRAG_TOO_BIG);
        k.id ^= 2;
        /* The largest offset, and lengths that would wrap 32 bits. */
        assert_int_equal(add(&t, &k, 9, 65528, 7, 0, T0, &out),
                         family == 4 ? IPFRAG_TOO_BIG : IPFRAG_HELD);
        k.id ^= 4;
        assert_int_equal(ipfrag_add(&t, &k, 0xfffffff8u, 1, 17, NULL,
                                    SIZE_MAX - 7, T0, &out),
                         IPFRAG_TOO_BIG);
        assert_int_equal(ipfrag_stats(&t)->too_big, family == 4 ? 4 : 3);
        drain_and_close(&t, T0);
    }
}

/* ------------------------------------------------------------ time */

/* An age of exactly the timeout is kept, one nanosecond more is not; the
 * age counts from the first fragment, not the latest. */
static void test_timeout_edges(void **state)
{
    static const struct {
        int64_t second, third; /* times after T0 */
        int want_third;
        unsigned timed_out;
    } cases[] = {
        {1, 30 * SEC, IPFRAG_DONE, 0},
        {1, 30 * SEC + 1, IPFRAG_HELD, 1},  /* a new datagram starts */
        {30 * SEC, 30 * SEC, IPFRAG_DONE, 0},
        {30 * SEC, 30 * SEC + 1, IPFRAG_HELD, 1},
        {-SEC, 30 * SEC, IPFRAG_DONE, 0},   /* time going back a little */
    };
    struct ipfrag_out out;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ipfrag t;
        struct ipfrag_key k = key_of(4, 11);

        table_init(&t, 4, 4096);
        assert_int_equal(add(&t, &k, 11, 0, 8, 1, T0, &out), IPFRAG_HELD);
        assert_int_equal(add(&t, &k, 11, 8, 8, 1, T0 + cases[i].second, &out),
                         IPFRAG_HELD);
        assert_int_equal(add(&t, &k, 11, 16, 1, 0, T0 + cases[i].third, &out),
                         cases[i].want_third);
        if (cases[i].want_third == IPFRAG_DONE)
            assert_datagram(&out, 11, 17);
        assert_int_equal(ipfrag_stats(&t)->timed_out, cases[i].timed_out);
        drain_and_close(&t, T0 + cases[i].third);
    }
}

/* A dead datagram drops its fragments until its timeout, then its key is
 * free again; ipfrag_expire() on its own does the same as add. */
static void test_timeout_dead(void **state)
{
    struct ipfrag t;
    struct ipfrag_key k = key_of(6, 12);
    struct ipfrag_out out;
    const struct ipfrag_stats *s;
    (void)state;

    table_init(&t, 4, 4096);
    s = ipfrag_stats(&t);
    assert_int_equal(add(&t, &k, 12, 0, 16, 1, T0, &out), IPFRAG_HELD);
    assert_int_equal(add(&t, &k, 12, 8, 16, 1, T0 + 1, &out), IPFRAG_OVERLAP);
    assert_int_equal(add(&t, &k, 12, 16, 1, 0, T0 + 30 * SEC, &out), IPFRAG_DEAD);
    assert_int_equal(add(&t, &k, 12, 16, 1, 0, T0 + 30 * SEC + 1, &out),
                     IPFRAG_HELD);
    assert_int_equal(s->timed_out, 1);
    assert_int_equal(s->dropped_dead, 1);
    assert_int_equal(add(&t, &k, 12, 0, 16, 1, T0 + 30 * SEC + 2, &out),
                     IPFRAG_DONE);
    assert_datagram(&out, 12, 17);

    /* Expiry alone, and in creation order. */
    for (uint32_t dg = 0; dg < 3; dg++) {
        struct ipfrag_key d = key_of(4, 100 + dg);
        assert_int_equal(add(&t, &d, 100 + dg, 0, 8, 1, T0 + (int64_t)dg * SEC,
                             &out), IPFRAG_HELD);
    }
    ipfrag_expire(&t, T0 + 30 * SEC);
    assert_int_equal(s->datagrams, 3);
    ipfrag_expire(&t, T0 + 31 * SEC + 1);
    assert_int_equal(s->datagrams, 1);
    assert_int_equal(s->bytes, 8);
    assert_int_equal(s->timed_out, 3);
    drain_and_close(&t, T0 + 2 * SEC);
}

/* ------------------------------------------------------------ bounds */

/* A script: fragments of up to 4 datagrams (datagram i is key_of(family
 * of i, base + i)), each with the result it must give and, where not -1,
 * the counters and gauges right after it. */
struct step {
    int dg;           /* 0..3 */
    uint32_t off, len;
    int more;
    int want;
    int evicted, no_room, datagrams, bytes; /* -1: not checked */
    size_t done_len;  /* the output's length, for IPFRAG_DONE */
};

struct script {
    const char *name;
    size_t max_datagrams, max_bytes;
    uint32_t base;
    struct step steps[16];
    size_t n;
};

#define ANY -1, -1, -1, -1

static const struct script bound_scripts[] = {
    /* With every entry in use, a new datagram evicts the oldest entry,
     * live or dead. */
    {"evict by count", 2, 4096, 20, {
        {0, 0, 8, 1, H, 0, 0, 1, 8, 0},
        {1, 0, 8, 1, H, 0, 0, 2, 16, 0},
        {2, 8, 1, 0, H, 1, 0, 2, 9, 0},      /* 0 goes */
        {0, 8, 1, 0, H, 2, 0, 2, 2, 0},      /* 0 afresh: 1 goes */
        {2, 0, 8, 1, D, 2, 0, 1, 1, 9},
        {0, 0, 8, 1, D, 2, 0, 0, 0, 9},
        {3, 0, 9, 1, IPFRAG_INVALID, 2, 0, 1, 0, 0}, /* 3 dead */
        {1, 0, 8, 1, H, 2, 0, 2, 8, 0},
        {2, 0, 8, 1, H, 3, 0, 2, 16, 0},     /* dead 3 is the oldest */
        {3, 8, 1, 0, H, 4, 0, 2, 9, 0},      /* 3 afresh: 1 goes */
        {2, 8, 1, 0, D, 4, 0, 1, 1, 9},
    }, 11},
    /* A fragment that does not fit max_bytes evicts the oldest datagrams
     * that hold bytes, never its own, and only as many as needed. */
    {"evict by bytes", 8, 100, 30, {
        {0, 0, 40, 1, H, 0, 0, 1, 40, 0},
        {1, 0, 40, 1, H, 0, 0, 2, 80, 0},
        {2, 0, 16, 1, H, 0, 0, 3, 96, 0},
        {2, 16, 8, 1, H, 1, 0, 2, 64, 0},    /* 0 goes, not 1 */
        {1, 40, 1, 0, D, 1, 0, 1, 24, 41},
        {3, 0, 64, 1, H, 1, 0, 2, 88, 0},
        {2, 24, 40, 1, H, 2, 0, 1, 64, 0},   /* 2 is the oldest: 3 goes */
        {2, 64, 3, 0, D, 2, 0, 0, 0, 67},
        {0, 0, 8, 1, H, ANY, 0},
        {0, 0, 16, 1, IPFRAG_OVERLAP, 2, 0, 1, 0, 0},
        {1, 0, 96, 1, H, 2, 0, 2, 96, 0},
        {3, 0, 8, 1, H, 3, 0, 2, 8, 0},      /* dead 0 holds nothing: 1 goes */
        {0, 16, 8, 1, IPFRAG_DEAD, 3, 0, 2, 8, 0},
    }, 13},
    /* A datagram larger than max_bytes can never be held: dropped when it
     * passes the bound, even by the fragment that would complete it. */
    {"no room", 8, 64, 40, {
        {0, 0, 72, 1, IPFRAG_NO_ROOM, 0, 1, 1, 0, 0},
        {0, 72, 1, 0, IPFRAG_DEAD, 0, 1, 1, 0, 0},
        {1, 0, 64, 1, H, 0, 1, 2, 64, 0},
        {1, 64, 1, 0, IPFRAG_NO_ROOM, 0, 2, 2, 0, 0},
        {2, 56, 8, 0, H, 0, 2, 3, 8, 0},     /* exactly max_bytes fits */
        {2, 0, 56, 1, D, 0, 2, 2, 0, 64},
    }, 6},
};

static void run_script(const struct script *sc)
{
    struct ipfrag t;
    struct ipfrag_out out;
    const struct ipfrag_stats *s;
    struct ipfrag_key k[4];

    for (uint32_t i = 0; i < 4; i++)
        k[i] = key_of(i % 2 ? 6 : 4, sc->base + i);
    table_init(&t, sc->max_datagrams, sc->max_bytes);
    s = ipfrag_stats(&t);
    for (size_t i = 0; i < sc->n; i++) {
        const struct step *st = &sc->steps[i];
        uint32_t dg = sc->base + (uint32_t)st->dg;
        int rc = add(&t, &k[st->dg], dg, st->off, st->len, st->more,
                     T0 + (int64_t)i, &out);

        if (rc != st->want)
            fail_msg("%s step %zu: %s, want %s", sc->name, i,
                     ipfrag_reason_name(rc), ipfrag_reason_name(st->want));
        if (rc == IPFRAG_DONE)
            assert_datagram(&out, dg, st->done_len);
        if (st->evicted < 0)
            continue;
        if (s->evicted != (uint64_t)st->evicted ||
            s->no_room != (uint64_t)st->no_room ||
            s->datagrams != (uint64_t)st->datagrams ||
            s->bytes != (uint64_t)st->bytes)
            fail_msg("%s step %zu: evicted %llu no_room %llu datagrams %llu "
                     "bytes %llu", sc->name, i,
                     (unsigned long long)s->evicted,
                     (unsigned long long)s->no_room,
                     (unsigned long long)s->datagrams,
                     (unsigned long long)s->bytes);
    }
    drain_and_close(&t, T0 + (int64_t)sc->n);
}

static void test_bounds(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bound_scripts) / sizeof(bound_scripts[0]); i++)
        run_script(&bound_scripts[i]);
}

/* ------------------------------------------------------------ reuse */

/* Many datagrams through a small table, with every kind of ending
 * (completed, killed, evicted by count and by bytes, timed out): the
 * pools must come back whole, or a later round would run out of them. */
static void test_reuse(void **state)
{
    struct ipfrag t;
    struct ipfrag_out out;
    const struct ipfrag_stats *s;
    uint64_t rng = 99;
    int64_t now = T0;
    uint32_t order[12];
    (void)state;

    table_init(&t, 4, 2048);
    s = ipfrag_stats(&t);
    for (uint32_t dg = 0; dg < 20000; dg++) {
        int family = dg % 3 ? 4 : 6;
        struct ipfrag_key k = key_of(family, dg);
        size_t n = 1 + dg % 12, stop = n;

        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        shuffle(order, n, &rng);
        if (dg % 5 == 1)
            stop = n / 2; /* left to be evicted or to time out */
        for (size_t i = 0; i < stop; i++) {
            uint32_t off, len;
            int more;
            piece_of(order[i], n, 160, 77, &off, &len, &more);
            if (add(&t, &k, dg, off, len, more, now, &out) == IPFRAG_DONE &&
                n > 1)
                assert_datagram(&out, dg, (n - 1) * 160 + 77);
            assert_true(s->bytes <= 2048);
            assert_true(s->datagrams <= 4);
        }
        if (dg % 7 == 3) /* killed */
            (void)add(&t, &k, dg, 8, 8, 1, now, &out);
        now += dg % 100 == 0 ? 40 * SEC : 1000;
    }
    assert_true(s->reassembled > 10000);
    assert_true(s->evicted > 100);
    assert_true(s->timed_out > 0);
    assert_true(s->overlapping > 0);
    /* Still works at full size after all that. */
    for (uint32_t i = 0; i < 12; i++) {
        struct ipfrag_key k = key_of(6, 1u << 20);
        uint32_t off, len;
        int more;
        piece_of(i, 12, 160, 77, &off, &len, &more);
        assert_int_equal(add(&t, &k, 1u << 20, off, len, more, now, &out),
                         i < 11 ? IPFRAG_HELD : IPFRAG_DONE);
    }
    assert_datagram(&out, 1u << 20, 11 * 160 + 77);
    drain_and_close(&t, now);
}

/* ------------------------------------------------------------ API */

static void test_init(void **state)
{
    struct ipfrag t;
    struct ipfrag_conf c = conf_of(0, 100);
    struct ipfrag_out out;
    struct ipfrag_key k = key_of(4, 50);
    size_t mem;
    (void)state;

    assert_int_equal(ipfrag_init(&t, &c), -EINVAL);
    ipfrag_close(&t);
    c = conf_of(IPFRAG_MAX_DATAGRAMS + 1, 100);
    assert_int_equal(ipfrag_init(&t, &c), -EINVAL);
    c = conf_of(4, 0);
    assert_int_equal(ipfrag_init(&t, &c), -EINVAL);
    assert_int_equal(ipfrag_memory(&c), 0);
    /* The documented estimate for 1024 datagrams and 4 MiB. */
    c = conf_of(1024, 4u << 20);
    mem = ipfrag_memory(&c);
    assert_true(mem > 8u << 20 && mem < 10u << 20);
    /* No seed given: one is drawn, and the table works the same. */
    c = conf_of(4, 4096);
    c.seed[0] = c.seed[1] = 0;
    c.timeout_ns = 0;
    assert_int_equal(ipfrag_init(&t, &c), 0);
    assert_true(t.conf.seed[0] != 0 || t.conf.seed[1] != 0);
    assert_int_equal(t.conf.timeout_ns, IPFRAG_TIMEOUT_NS);
    assert_int_equal(add(&t, &k, 50, 8, 1, 0, T0, &out), IPFRAG_HELD);
    assert_int_equal(add(&t, &k, 50, 0, 8, 1, T0, &out), IPFRAG_DONE);
    assert_datagram(&out, 50, 9);
    /* Closing with datagrams in progress frees them; twice is harmless. */
    assert_int_equal(add(&t, &k, 50, 8, 1, 0, T0, &out), IPFRAG_HELD);
    ipfrag_close(&t);
    ipfrag_close(&t);
}

static void test_reason_names(void **state)
{
    static const struct { int r; const char *name; } names[] = {
        {IPFRAG_DONE, "done"},       {IPFRAG_HELD, "held"},
        {IPFRAG_DUPLICATE, "duplicate"}, {IPFRAG_OVERLAP, "overlap"},
        {IPFRAG_INVALID, "invalid"}, {IPFRAG_TOO_BIG, "too_big"},
        {IPFRAG_NO_ROOM, "no_room"}, {IPFRAG_DEAD, "dead"},
        {2, "unknown"}, {-IPFRAG_REASON_COUNT, "unknown"},
        {-2147483647 - 1, "unknown"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_string_equal(ipfrag_reason_name(names[i].r), names[i].name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_all_permutations),
        cmocka_unit_test(test_random_orders),
        cmocka_unit_test(test_interleaved),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_atomic),
        cmocka_unit_test(test_max_len),
        cmocka_unit_test(test_timeout_edges),
        cmocka_unit_test(test_timeout_dead),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_reason_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
