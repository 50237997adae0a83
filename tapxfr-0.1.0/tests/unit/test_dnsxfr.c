/* Unit tests for the DNSXFR01 encoder and parser (src/codec/dnsxfr.c).
 *
 * Expected bytes are written out by hand, one comment per field, never
 * produced by the code under test. Output buffers are heap blocks of
 * exactly the capacity passed, so a write past cap is caught by valgrind
 * or -fsanitize=address. One fixture is a real case from the 2004
 * program's conformance set: the raw IPv4 packet it was fed and the bytes
 * it forwarded. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec/dns.h"
#include "codec/dnsxfr.h"

static const uint8_t ns_v4[4] = {192, 0, 2, 53};

/* A 5-byte "message": the codec does not look inside. */
static const uint8_t msg5[] = {0xde, 0xad, 0xbe, 0xef, 0x42};

static uint8_t *xmalloc(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);

    assert_non_null(p);
    return p;
}

/* ---- dnsxfr_encode_framed ---- */

static void test_encode_exact_bytes(void **state)
{
    static const uint8_t want[] = {
        0x00, 0x11,                             /* length 12 + 5 = 17 */
        'D', 'N', 'S', 'X', 'F', 'R', '0', '1', /* magic */
        192, 0, 2, 53,                          /* nameserver */
        0xde, 0xad, 0xbe, 0xef, 0x42,           /* message */
    };
    uint8_t *out = xmalloc(sizeof want);

    (void)state;
    memset(out, 0xaa, sizeof want);
    assert_int_equal(dnsxfr_encode_framed(out, sizeof want, ns_v4, msg5,
                                          sizeof msg5),
                     (long)sizeof want);
    assert_memory_equal(out, want, sizeof want);
    free(out);
}

static void test_encode_cap_too_small(void **state)
{
    size_t need = sizeof msg5 + 14;
    size_t cap;

    (void)state;
    /* Every capacity below the need fails, one short included. */
    for (cap = 0; cap < need; cap++) {
        uint8_t *out = xmalloc(cap);

        assert_int_equal(dnsxfr_encode_framed(out, cap, ns_v4, msg5,
                                              sizeof msg5),
                         -1);
        free(out);
    }
    /* A larger cap than needed is fine and writes only what it returns. */
    {
        uint8_t *out = xmalloc(need + 10);
        size_t i;

        memset(out, 0xaa, need + 10);
        assert_int_equal(dnsxfr_encode_framed(out, need + 10, ns_v4, msg5,
                                              sizeof msg5),
                         (long)need);
        for (i = need; i < need + 10; i++)
            assert_int_equal(out[i], 0xaa);
        free(out);
    }
}

static void test_encode_ns_null(void **state)
{
    static const uint8_t want[] = {
        0x00, 0x11,                             /* length 17 */
        'D', 'N', 'S', 'X', 'F', 'R', '0', '1', /* magic */
        0, 0, 0, 0,                             /* nameserver: zero */
        0xde, 0xad, 0xbe, 0xef, 0x42,           /* message */
    };
    uint8_t *out = xmalloc(sizeof want);

    (void)state;
    memset(out, 0xaa, sizeof want);
    assert_int_equal(dnsxfr_encode_framed(out, sizeof want, NULL, msg5,
                                          sizeof msg5),
                     (long)sizeof want);
    assert_memory_equal(out, want, sizeof want);
    free(out);
}

static void test_encode_empty_message(void **state)
{
    static const uint8_t want[] = {
        0x00, 0x0c,                             /* length 12 */
        'D', 'N', 'S', 'X', 'F', 'R', '0', '1', /* magic */
        192, 0, 2, 53,                          /* nameserver */
    };
    uint8_t *out = xmalloc(sizeof want);

    (void)state;
    assert_int_equal(dnsxfr_encode_framed(out, sizeof want, ns_v4, msg5, 0),
                     (long)sizeof want);
    assert_memory_equal(out, want, sizeof want);
    free(out);
}

/* The prefix is big-endian with both bytes non-zero and distinct. */
static void test_encode_length_big_endian(void **state)
{
    size_t msg_len = 0x0123 - 12; /* total 0x0123 */
    uint8_t *msg = xmalloc(msg_len);
    uint8_t *out = xmalloc(msg_len + 14);
    size_t i;

    (void)state;
    for (i = 0; i < msg_len; i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(dnsxfr_encode_framed(out, msg_len + 14, ns_v4, msg,
                                          msg_len),
                     (long)(msg_len + 14));
    assert_int_equal(out[0], 0x01);
    assert_int_equal(out[1], 0x23);
    assert_memory_equal(out + 2, DNSXFR_MAGIC, DNSXFR_MAGIC_LEN);
    assert_memory_equal(out + 10, ns_v4, 4);
    assert_memory_equal(out + 14, msg, msg_len);
    free(out);
    free(msg);
}

static void test_encode_max_message(void **state)
{
    size_t max = DNSXFR_MAX_MSG;
    uint8_t *msg = xmalloc(max + 1);
    uint8_t *out = xmalloc(max + 1 + 14);
    size_t i;

    (void)state;
    assert_int_equal(DNSXFR_MAX_MSG, 65523);
    for (i = 0; i <= max; i++)
        msg[i] = (uint8_t)(i ^ (i >> 8));

    /* The largest message: the length prefix is 0xffff. */
    assert_int_equal(dnsxfr_encode_framed(out, max + 14, ns_v4, msg, max),
                     65537);
    assert_int_equal(out[0], 0xff);
    assert_int_equal(out[1], 0xff);
    assert_memory_equal(out + 2, DNSXFR_MAGIC, DNSXFR_MAGIC_LEN);
    assert_memory_equal(out + 10, ns_v4, 4);
    assert_memory_equal(out + 14, msg, max);

    /* One more byte no longer fits the prefix, whatever the cap. */
    assert_int_equal(dnsxfr_encode_framed(out, max + 1 + 14, ns_v4, msg,
                                          max + 1),
                     -1);
    assert_int_equal(dnsxfr_encode_framed(out, max + 1 + 14, NULL, msg,
                                          (size_t)-1),
                     -1);
    free(out);
    free(msg);
}

/* ---- dnsxfr_nameserver ---- */

static void test_nameserver_rules(void **state)
{
    static const uint8_t zero[4];
    static const uint8_t any4[4] = {0, 0, 0, 0};
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0x53};
    static const uint8_t bcast[4] = {255, 255, 255, 255};
    static const uint8_t low[4] = {0, 0, 0, 1};
    static const struct {
        const char *name;
        int aa, family;
        const uint8_t *addr;
        const uint8_t *want;
    } cases[] = {
        {"aa ipv4", 1, 4, ns_v4, ns_v4},
        {"aa flag bit as passed by callers", DNS_FLAG_AA, 4, ns_v4, ns_v4},
        {"aa ipv4 255.255.255.255", 1, 4, bcast, bcast},
        {"aa ipv4 0.0.0.1", 1, 4, low, low},
        {"aa ipv4 0.0.0.0", 1, 4, any4, zero},
        {"aa ipv6", 1, 6, v6, zero},
        {"aa unknown family", 1, 0, ns_v4, zero},
        {"not aa ipv4", 0, 4, ns_v4, zero},
        {"not aa ipv6", 0, 6, v6, zero},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t ns[4];

        memset(ns, 0xaa, sizeof ns);
        dnsxfr_nameserver(ns, cases[i].aa, cases[i].family, cases[i].addr);
        if (memcmp(ns, cases[i].want, 4) != 0) {
            print_error("case \"%s\": got %u.%u.%u.%u\n", cases[i].name,
                        ns[0], ns[1], ns[2], ns[3]);
            fail();
        }
    }
}

/* ---- dnsxfr_parse ---- */

static void test_parse_round_trip(void **state)
{
    size_t lens[] = {0, 1, 12, 512, DNSXFR_MAX_MSG};
    size_t k;

    (void)state;
    for (k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = lens[k], i;
        uint8_t *msg = xmalloc(n);
        uint8_t *out = xmalloc(n + 14);
        const uint8_t *ns = NULL, *m = NULL;
        size_t mlen = (size_t)-1;
        long w;

        for (i = 0; i < n; i++)
            msg[i] = (uint8_t)(i * 13 + k);
        w = dnsxfr_encode_framed(out, n + 14, ns_v4, msg, n);
        assert_int_equal(w, (long)(n + 14));
        /* The prefix holds exactly what follows it. */
        assert_int_equal((size_t)out[0] << 8 | out[1], (size_t)w - 2);
        assert_int_equal(dnsxfr_parse(out + 2, (size_t)w - 2, &ns, &m, &mlen),
                         0);
        assert_ptr_equal(ns, out + 2 + DNSXFR_MAGIC_LEN);
        assert_memory_equal(ns, ns_v4, 4);
        assert_ptr_equal(m, out + 2 + DNSXFR_HEADER_LEN);
        assert_int_equal(mlen, n);
        if (n)
            assert_memory_equal(m, msg, n);
        free(out);
        free(msg);
    }
}

static void test_parse_bad_magic(void **state)
{
    static const uint8_t good[] = {
        'D', 'N', 'S', 'X', 'F', 'R', '0', '1', /* magic */
        192, 0, 2, 53,                          /* nameserver */
        0x12, 0x34,                             /* message */
    };
    uint8_t buf[sizeof good];
    const uint8_t *ns, *m;
    size_t mlen;
    size_t i;

    (void)state;
    assert_int_equal(dnsxfr_parse(good, sizeof good, &ns, &m, &mlen), 0);
    assert_int_equal(mlen, 2);
    /* Any one magic byte changed, including "DNSXFR02" and lower case. */
    for (i = 0; i < DNSXFR_MAGIC_LEN; i++) {
        memcpy(buf, good, sizeof good);
        buf[i] ^= 0x20;
        assert_int_equal(dnsxfr_parse(buf, sizeof buf, &ns, &m, &mlen), -1);
        buf[i] ^= 0x21;
        assert_int_equal(dnsxfr_parse(buf, sizeof buf, &ns, &m, &mlen), -1);
    }
    memcpy(buf, good, sizeof good);
    buf[7] = '2';
    assert_int_equal(dnsxfr_parse(buf, sizeof buf, &ns, &m, &mlen), -1);
    /* The TCP prefix is not part of what parse takes. */
    {
        uint8_t framed[2 + sizeof good];

        framed[0] = 0x00;
        framed[1] = (uint8_t)sizeof good;
        memcpy(framed + 2, good, sizeof good);
        assert_int_equal(dnsxfr_parse(framed, sizeof framed, &ns, &m, &mlen),
                         -1);
    }
}

static void test_parse_short(void **state)
{
    static const uint8_t hdr[DNSXFR_HEADER_LEN] = {
        'D', 'N', 'S', 'X', 'F', 'R', '0', '1', /* magic */
        192, 0, 2, 53,                          /* nameserver */
    };
    const uint8_t *ns, *m;
    size_t len, mlen;

    (void)state;
    for (len = 0; len < DNSXFR_HEADER_LEN; len++) {
        uint8_t *b = xmalloc(len);

        memcpy(b, hdr, len);
        assert_int_equal(dnsxfr_parse(b, len, &ns, &m, &mlen), -1);
        free(b);
    }
    /* Exactly a header: an empty message. */
    {
        uint8_t *b = xmalloc(DNSXFR_HEADER_LEN);

        memcpy(b, hdr, DNSXFR_HEADER_LEN);
        ns = m = NULL;
        mlen = 99;
        assert_int_equal(dnsxfr_parse(b, DNSXFR_HEADER_LEN, &ns, &m, &mlen),
                         0);
        assert_ptr_equal(ns, b + DNSXFR_MAGIC_LEN);
        assert_memory_equal(ns, ns_v4, 4);
        assert_int_equal(mlen, 0);
        free(b);
    }
}

/* ---- a real case: conformance/cases/default_auto-complete-40 ----
 *
 * The 2004 program, fed this packet with default options, logged
 * "Forwarded 24 bytes." and "Received data: " followed by the hex of
 * 444e535846523031 515ba105 acd985000001000b00000007 (spaces added): the
 * DNSXFR01 message over UDP, that is our framed output without its 2-byte
 * prefix. The DNS payload starts at byte 28 of the raw IPv4 packet. */

static const uint8_t case40_in[] = {
    0x45, 0x00,             /* IPv4, IHL 5; TOS 0 */
    0x00, 0x28,             /* total length 40 */
    0x87, 0x6d,             /* identification */
    0x40, 0x00,             /* DF, fragment offset 0 */
    0xf6, 0x11,             /* TTL 246, protocol UDP */
    0x79, 0x41,             /* header checksum */
    0x51, 0x5b, 0xa1, 0x05, /* source 81.91.161.5: the responder */
    0xd4, 0x09, 0xbd, 0xab, /* destination 212.9.189.171 */
    0x00, 0x35,             /* UDP source port 53 */
    0x80, 0x20,             /* UDP destination port 32800 */
    0x00, 0x14,             /* UDP length 20 */
    0xc9, 0x6d,             /* UDP checksum */
    0xac, 0xd9,             /* DNS ID */
    0x85, 0x00,             /* QR AA RD, NOERROR */
    0x00, 0x01,             /* QDCOUNT 1 */
    0x00, 0x0b,             /* ANCOUNT 11 */
    0x00, 0x00,             /* NSCOUNT 0 */
    0x00, 0x07,             /* ARCOUNT 7 */
};

static const uint8_t case40_expected[] = {
    0x44, 0x4e, 0x53, 0x58, 0x46, 0x52, 0x30, 0x31, /* "DNSXFR01" */
    0x51, 0x5b, 0xa1, 0x05,                         /* 81.91.161.5 */
    0xac, 0xd9,                                     /* DNS ID */
    0x85, 0x00,                                     /* flags */
    0x00, 0x01,                                     /* QDCOUNT 1 */
    0x00, 0x0b,                                     /* ANCOUNT 11 */
    0x00, 0x00,                                     /* NSCOUNT 0 */
    0x00, 0x07,                                     /* ARCOUNT 7 */
};

static void test_conformance_case40(void **state)
{
    const uint8_t *dns = case40_in + 28;
    size_t dns_len = sizeof case40_in - 28;
    struct dns_filter f = {0, 0, 65535};
    struct dns_header h;
    uint8_t ns[4];
    uint8_t *out = xmalloc(2 + sizeof case40_expected);
    const uint8_t *pns, *pm;
    size_t pmlen;
    long w;

    (void)state;
    assert_int_equal(sizeof case40_expected, 24); /* "Forwarded 24 bytes." */
    assert_int_equal(dns_check(&f, dns, dns_len, &h), DNS_FORWARD);
    dnsxfr_nameserver(ns, h.flags & DNS_FLAG_AA, 4, case40_in + 12);
    w = dnsxfr_encode_framed(out, 2 + sizeof case40_expected, ns, dns,
                             dns_len);
    assert_int_equal(w, 2 + 24);
    assert_int_equal(out[0], 0x00);
    assert_int_equal(out[1], 24);
    assert_memory_equal(out + 2, case40_expected, sizeof case40_expected);

    assert_int_equal(dnsxfr_parse(out + 2, (size_t)w - 2, &pns, &pm, &pmlen),
                     0);
    assert_memory_equal(pns, case40_in + 12, 4);
    assert_int_equal(pmlen, dns_len);
    assert_memory_equal(pm, dns, dns_len);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_exact_bytes),
        cmocka_unit_test(test_encode_cap_too_small),
        cmocka_unit_test(test_encode_ns_null),
        cmocka_unit_test(test_encode_empty_message),
        cmocka_unit_test(test_encode_length_big_endian),
        cmocka_unit_test(test_encode_max_message),
        cmocka_unit_test(test_nameserver_rules),
        cmocka_unit_test(test_parse_round_trip),
        cmocka_unit_test(test_parse_bad_magic),
        cmocka_unit_test(test_parse_short),
        cmocka_unit_test(test_conformance_case40),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
