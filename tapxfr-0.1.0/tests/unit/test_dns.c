/* Unit tests for the DNS header checks (src/codec/dns.c).
 *
 * One table holds every verdict in the order dns.h documents: short, header
 * counts, query, no answer (-D), not authoritative (-A), oversize. Each row
 * is a 12-byte header fixture, one comment per field, plus the length the
 * message is fed at; the runner copies the header into a heap block of
 * exactly that length (zero-padded past the header), so an over-read is
 * caught by valgrind or -fsanitize=address. Whenever the length covers a
 * header, the runner also checks *h against a reference big-endian read of
 * the fixture. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec/dns.h"

#define BIG 65535 /* a max_size that never matters */

/* Filters: none, -A, -D, -A -D; rows testing the size limit spell theirs
 * out. */
#define F_NONE {0, 0, BIG}
#define F_A {1, 0, BIG}
#define F_D {0, 1, BIG}
#define F_AD {1, 1, BIG}

struct dns_case {
    const char *name;
    uint8_t hdr[DNS_HEADER_LEN];
    size_t len;
    struct dns_filter f;
    int verdict;
};

static const struct dns_case cases[] = {
    /* ---- forward: the plain cases every later row differs from ---- */
    {"authoritative answer, no filter",
     {0x12, 0x34,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_FORWARD},
    {"authoritative answer, -A -D",
     {0x12, 0x34,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_AD, DNS_FORWARD},
    {"empty non-AA answer, no filter",
     {0x00, 0x01,             /* ID */
      0x80, 0x03,             /* QR, NXDOMAIN */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x01,             /* NSCOUNT 1 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_FORWARD},

    /* ---- short: checked before anything else, so the bytes that are
     * there describe a query with garbage counts ---- */
#define SHORT(n)                                                           \
    {"short " #n,                                                          \
     {0xff, 0xff,             /* ID */                                     \
      0x00, 0x00,             /* no flags: a query */                      \
      0xff, 0xff,             /* QDCOUNT 65535 */                          \
      0xff, 0xff,             /* ANCOUNT 65535 */                          \
      0xff, 0xff,             /* NSCOUNT 65535 */                          \
      0xff, 0xff},            /* ARCOUNT 65535 */                          \
     n, {1, 1, 0}, DNS_DROP_SHORT}
    SHORT(0), SHORT(1), SHORT(2), SHORT(3), SHORT(4), SHORT(5),
    SHORT(6), SHORT(7), SHORT(8), SHORT(9), SHORT(10), SHORT(11),
#undef SHORT

    /* ---- header sanity limits: a count at or above its limit ---- */
    {"qdcount 15 ok",
     {0x00, 0x02,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x0f,             /* QDCOUNT 15 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_FORWARD},
    {"qdcount 16 dropped",
     {0x00, 0x02,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x10,             /* QDCOUNT 16 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_DROP_HEADER},
    {"qdcount 256 dropped (high byte only)",
     {0x00, 0x02,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x01, 0x00,             /* QDCOUNT 256 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_DROP_HEADER},
    {"ancount 1023 ok",
     {0x00, 0x03,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x03, 0xff,             /* ANCOUNT 1023 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_FORWARD},
    {"ancount 1024 dropped",
     {0x00, 0x03,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x04, 0x00,             /* ANCOUNT 1024 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_DROP_HEADER},
    {"nscount 1023 ok",
     {0x00, 0x04,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x03, 0xff,             /* NSCOUNT 1023 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_FORWARD},
    {"nscount 1024 dropped",
     {0x00, 0x04,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x04, 0x00,             /* NSCOUNT 1024 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_DROP_HEADER},
    {"arcount 1023 ok",
     {0x00, 0x05,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x03, 0xff},            /* ARCOUNT 1023 */
     12, F_NONE, DNS_FORWARD},
    {"arcount 1024 dropped",
     {0x00, 0x05,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x04, 0x00},            /* ARCOUNT 1024 */
     12, F_NONE, DNS_DROP_HEADER},
    {"all counts at the limit minus one",
     {0x00, 0x06,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x0f,             /* QDCOUNT 15 */
      0x03, 0xff,             /* ANCOUNT 1023 */
      0x03, 0xff,             /* NSCOUNT 1023 */
      0x03, 0xff},            /* ARCOUNT 1023 */
     12, F_AD, DNS_FORWARD},
    {"header before query",
     {0x00, 0x07,             /* ID */
      0x00, 0x00,             /* no flags: a query */
      0x00, 0x10,             /* QDCOUNT 16 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     13, {1, 1, 12}, DNS_DROP_HEADER},

    /* ---- query: QR clear, whatever else is wrong after it ---- */
    {"query, no filter",
     {0x00, 0x08,             /* ID */
      0x01, 0x00,             /* RD, QR clear */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_NONE, DNS_DROP_QUERY},
    {"query with AA ANCOUNT TC, -A -D",
     {0x00, 0x09,             /* ID */
      0x7f, 0xff,             /* every flag but QR */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_AD, DNS_DROP_QUERY},
    {"query before no_answer and not_auth, -A -D",
     {0x00, 0x0a,             /* ID */
      0x00, 0x00,             /* no flags: a query */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_AD, DNS_DROP_QUERY},
    {"query before oversize",
     {0x00, 0x0b,             /* ID */
      0x00, 0x00,             /* no flags: a query */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     513, {0, 0, 512}, DNS_DROP_QUERY},

    /* ---- no_answer: -D, ANCOUNT 0 and TC clear ---- */
    {"-D empty answer dropped",
     {0x00, 0x0c,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x01,             /* NSCOUNT 1 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_D, DNS_DROP_NO_ANSWER},
    {"-D empty answer with TC kept",
     {0x00, 0x0d,             /* ID */
      0x86, 0x00,             /* QR AA TC */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_D, DNS_FORWARD},
    {"-D empty answer with TC, not AA, -A -D",
     {0x00, 0x0e,             /* ID */
      0x82, 0x00,             /* QR TC */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_AD, DNS_DROP_NOT_AUTH},
    {"-D one answer kept",
     {0x00, 0x0f,             /* ID */
      0x80, 0x00,             /* QR */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_D, DNS_FORWARD},
    {"-D ancount 0x0100 is not empty",
     {0x00, 0x10,             /* ID */
      0x80, 0x00,             /* QR */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x01, 0x00,             /* ANCOUNT 256 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_D, DNS_FORWARD},
    {"no_answer before not_auth (D before A)",
     {0x00, 0x11,             /* ID */
      0x80, 0x03,             /* QR, NXDOMAIN, AA clear */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x01,             /* NSCOUNT 1 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_AD, DNS_DROP_NO_ANSWER},
    {"no_answer before oversize",
     {0x00, 0x12,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     513, {0, 1, 512}, DNS_DROP_NO_ANSWER},

    /* ---- not_auth: -A and AA clear ---- */
    {"-A non-AA answer dropped",
     {0x00, 0x13,             /* ID */
      0x81, 0x80,             /* QR RD RA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_A, DNS_DROP_NOT_AUTH},
    {"-A every flag but AA dropped",
     {0x00, 0x14,             /* ID */
      0xfb, 0xff,             /* every flag but AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_A, DNS_DROP_NOT_AUTH},
    {"-A AA answer kept",
     {0x00, 0x15,             /* ID */
      0x85, 0x80,             /* QR AA RD RA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_A, DNS_FORWARD},
    {"-A empty AA answer kept without -D",
     {0x00, 0x16,             /* ID */
      0x84, 0x03,             /* QR AA, NXDOMAIN */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x00,             /* ANCOUNT 0 */
      0x00, 0x01,             /* NSCOUNT 1 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, F_A, DNS_FORWARD},
    {"not_auth before oversize",
     {0x00, 0x17,             /* ID */
      0x80, 0x00,             /* QR */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     513, {1, 0, 512}, DNS_DROP_NOT_AUTH},

    /* ---- oversize: longer than max_size; equal is fine ---- */
    {"-T 512 bytes kept",
     {0x00, 0x18,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     512, {1, 1, 512}, DNS_FORWARD},
    {"-T 513 bytes dropped",
     {0x00, 0x18,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     513, {1, 1, 512}, DNS_DROP_OVERSIZE},
    {"max_size 12, 12 bytes kept",
     {0x00, 0x19,             /* ID */
      0x80, 0x00,             /* QR */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, {0, 0, 12}, DNS_FORWARD},
    {"max_size 12, 13 bytes dropped",
     {0x00, 0x19,             /* ID */
      0x80, 0x00,             /* QR */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     13, {0, 0, 12}, DNS_DROP_OVERSIZE},
    {"max_size 0 drops every header",
     {0x00, 0x1a,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     12, {0, 0, 0}, DNS_DROP_OVERSIZE},
    {"max_size 65535, 65535 bytes kept",
     {0x00, 0x1b,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     65535, {1, 1, 65535}, DNS_FORWARD},
    {"max_size 65535, 65536 bytes dropped",
     {0x00, 0x1b,             /* ID */
      0x84, 0x00,             /* QR AA */
      0x00, 0x01,             /* QDCOUNT 1 */
      0x00, 0x01,             /* ANCOUNT 1 */
      0x00, 0x00,             /* NSCOUNT 0 */
      0x00, 0x00},            /* ARCOUNT 0 */
     65536, {1, 1, 65535}, DNS_DROP_OVERSIZE},
};

/* Reference big-endian read, independent of dns.c. */
static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] * 256u + p[1]);
}

/* A heap block of exactly len bytes: the header fixture, then zeros. */
static uint8_t *exact_copy(const uint8_t *hdr, size_t len)
{
    uint8_t *m = malloc(len ? len : 1);

    assert_non_null(m);
    memset(m, 0, len ? len : 1);
    memcpy(m, hdr, len < DNS_HEADER_LEN ? len : DNS_HEADER_LEN);
    return m;
}

static void test_table(void **state)
{
    size_t i;
    int failures = 0;
    int seen[DNS_VERDICT_COUNT] = {0};

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct dns_case *c = &cases[i];
        uint8_t *m = exact_copy(c->hdr, c->len);
        struct dns_header h;
        int v;

        memset(&h, 0xa5, sizeof h);
        v = dns_check(&c->f, m, c->len, &h);
        if (v != c->verdict) {
            print_error("case \"%s\": verdict %d (%s), want %d (%s)\n",
                        c->name, v, dns_verdict_name(v), c->verdict,
                        dns_verdict_name(c->verdict));
            failures++;
        }
        if (c->len >= DNS_HEADER_LEN &&
            (h.id != be16(c->hdr) || h.flags != be16(c->hdr + 2) ||
             h.qdcount != be16(c->hdr + 4) || h.ancount != be16(c->hdr + 6) ||
             h.nscount != be16(c->hdr + 8) ||
             h.arcount != be16(c->hdr + 10))) {
            print_error("case \"%s\": header not filled in\n", c->name);
            failures++;
        }
        if (c->verdict <= 0 && -c->verdict < DNS_VERDICT_COUNT)
            seen[-c->verdict]++;
        free(m);
    }
    assert_int_equal(failures, 0);
    /* The table covers every verdict at least twice (kept and dropped
     * sides of each boundary). */
    for (i = 0; i < DNS_VERDICT_COUNT; i++)
        assert_true(seen[i] >= 2);
}

/* dns_header_read on its own: big-endian, every byte lands in the right
 * field, and no sign extension of bytes >= 0x80. */
static void test_header_read_big_endian(void **state)
{
    static const uint8_t msg[] = {
        0x12, 0x34, /* ID 0x1234 */
        0xfe, 0xdc, /* flags 0xfedc */
        0x56, 0x78, /* QDCOUNT 0x5678 */
        0x9a, 0xbc, /* ANCOUNT 0x9abc */
        0xde, 0xf0, /* NSCOUNT 0xdef0 */
        0x80, 0x01, /* ARCOUNT 0x8001 */
        0xaa,       /* a byte past the header, ignored */
    };
    struct dns_header h;
    uint8_t *m;

    (void)state;
    m = exact_copy(msg, DNS_HEADER_LEN);
    memset(&h, 0, sizeof h);
    assert_int_equal(dns_header_read(m, DNS_HEADER_LEN, &h), 0);
    assert_int_equal(h.id, 0x1234);
    assert_int_equal(h.flags, 0xfedc);
    assert_int_equal(h.qdcount, 0x5678);
    assert_int_equal(h.ancount, 0x9abc);
    assert_int_equal(h.nscount, 0xdef0);
    assert_int_equal(h.arcount, 0x8001);
    free(m);

    memset(&h, 0, sizeof h);
    assert_int_equal(dns_header_read(msg, sizeof msg, &h), 0);
    assert_int_equal(h.id, 0x1234);
    assert_int_equal(h.arcount, 0x8001);
}

static void test_header_read_short(void **state)
{
    static const uint8_t msg[DNS_HEADER_LEN] = {
        0x12, 0x34, /* ID */
        0x84, 0x00, /* QR AA */
        0x00, 0x01, /* QDCOUNT 1 */
        0x00, 0x01, /* ANCOUNT 1 */
        0x00, 0x00, /* NSCOUNT 0 */
        0x00, 0x00, /* ARCOUNT 0 */
    };
    size_t len;

    (void)state;
    for (len = 0; len < DNS_HEADER_LEN; len++) {
        struct dns_header h;
        uint8_t *m = exact_copy(msg, len);

        assert_int_equal(dns_header_read(m, len, &h), DNS_DROP_SHORT);
        free(m);
    }
}

/* The flag constants are the RFC 1035 bit positions. */
static void test_flag_constants(void **state)
{
    (void)state;
    assert_int_equal(DNS_FLAG_QR, 1 << 15);
    assert_int_equal(DNS_FLAG_AA, 1 << 10);
    assert_int_equal(DNS_FLAG_TC, 1 << 9);
    assert_int_equal(DNS_HEADER_LEN, 12);
    assert_int_equal(DNS_MAX_QDCOUNT, 16);
    assert_int_equal(DNS_MAX_RRCOUNT, 1024);
}

static void test_verdict_names(void **state)
{
    static const struct {
        int verdict;
        const char *name;
    } names[] = {
        {DNS_FORWARD, "forward"},
        {DNS_DROP_SHORT, "dns_short"},
        {DNS_DROP_HEADER, "dns_header"},
        {DNS_DROP_QUERY, "query"},
        {DNS_DROP_NO_ANSWER, "no_answer"},
        {DNS_DROP_NOT_AUTH, "not_auth"},
        {DNS_DROP_OVERSIZE, "oversize"},
    };
    static const int unknown[] = {1, 2, 100, -DNS_VERDICT_COUNT,
                                  -DNS_VERDICT_COUNT - 1, -1000};
    size_t i, j;

    (void)state;
    assert_int_equal(sizeof names / sizeof names[0], DNS_VERDICT_COUNT);
    for (i = 0; i < DNS_VERDICT_COUNT; i++) {
        assert_int_equal(names[i].verdict, -(int)i);
        assert_string_equal(dns_verdict_name(names[i].verdict),
                            names[i].name);
        /* Names are distinct: stats keys must not collide. */
        for (j = 0; j < i; j++)
            assert_string_not_equal(dns_verdict_name(names[i].verdict),
                                    dns_verdict_name(names[j].verdict));
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_string_equal(dns_verdict_name(unknown[i]), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_header_read_big_endian),
        cmocka_unit_test(test_header_read_short),
        cmocka_unit_test(test_flag_constants),
        cmocka_unit_test(test_verdict_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
