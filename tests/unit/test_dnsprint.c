/* Unit tests for the DNS message walker and printer (codec/dnsprint). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/dnsprint.h"

/* A real-shaped authoritative response with compression in owner names
 * and in RDATA, and an EDNS OPT record: 78 bytes. */
static const uint8_t response[] = {
    0x12, 0x34,             /* id */
    0x85, 0x80,             /* qr aa rd ra, opcode 0, rcode NOERROR */
    0x00, 0x01,             /* qdcount 1 */
    0x00, 0x02,             /* ancount 2 */
    0x00, 0x00,             /* nscount 0 */
    0x00, 0x01,             /* arcount 1 */
    /* 12: question www.example.com. A IN */
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o',
    'm', 0,
    0x00, 0x01,             /* qtype A */
    0x00, 0x01,             /* qclass IN */
    /* 33: www.example.com. CNAME web.example.com. */
    0xc0, 0x0c,             /* owner: pointer to 12 */
    0x00, 0x05,             /* type CNAME */
    0x00, 0x01,             /* class IN */
    0x00, 0x00, 0x0e, 0x10, /* ttl 3600 */
    0x00, 0x06,             /* rdlength */
    3, 'w', 'e', 'b', 0xc0, 0x10, /* 45: web + pointer to example.com. */
    /* 51: web.example.com. A 192.0.2.1 */
    0xc0, 0x2d,             /* owner: pointer to 45 */
    0x00, 0x01,             /* type A */
    0x00, 0x01,             /* class IN */
    0x00, 0x00, 0x0e, 0x10, /* ttl 3600 */
    0x00, 0x04,             /* rdlength */
    192, 0, 2, 1,
    /* 67: OPT, udp size 4096, extended rcode 0, no options */
    0x00,                   /* owner: root */
    0x00, 0x29,             /* type OPT */
    0x10, 0x00,             /* class: udp payload size */
    0x00, 0x00, 0x00, 0x00, /* ttl: ext rcode, version, flags */
    0x00, 0x00,             /* rdlength */
};

/* A 12-byte header followed by the bytes of a test case; names are read
 * at offset 12 unless a test says otherwise. */
static size_t with_header(uint8_t *out, const uint8_t *body, size_t n)
{
    memset(out, 0, 12);
    memcpy(out + 12, body, n);
    return 12 + n;
}

static void test_walk_response(void **state)
{
    struct dnsprint_msg m;
    char line[DNSPRINT_SUMMARY_MAX];

    (void)state;
    assert_int_equal(sizeof(response), 78);
    assert_int_equal(dnsprint_walk(response, sizeof(response), &m), 0);
    assert_int_equal(m.id, 0x1234);
    assert_int_equal(m.qdcount, 1);
    assert_int_equal(m.ancount, 2);
    assert_int_equal(m.nscount, 0);
    assert_int_equal(m.arcount, 1);
    assert_int_equal(m.opcode, 0);
    assert_int_equal(m.rcode, 0);
    assert_true(m.has_opt);
    assert_true(m.has_question);
    assert_string_equal(m.qname, "www.example.com.");
    assert_int_equal(m.qtype, 1);
    assert_int_equal(m.qclass, 1);
    assert_int_equal(m.len, 78);
    assert_int_equal(m.end, 78);
    assert_int_equal(dnsprint_summary(&m, line, sizeof(line)), 56);
    assert_string_equal(line, "www.example.com. A NOERROR "
                              "flags=qr,aa,rd,ra an=2 len=78");
}

static void test_walk_every_truncation(void **state)
{
    struct dnsprint_msg m;

    (void)state;
    /* The counts promise more than any prefix holds, so every prefix must
     * fail, cleanly. Run under valgrind/ASan to see any over-read. */
    for (size_t n = 0; n < sizeof(response); n++) {
        /* A heap copy of exactly n bytes, so that valgrind or ASan flags
         * any read past the end. */
        uint8_t *copy = malloc(n > 0 ? n : 1);

        assert_non_null(copy);
        memcpy(copy, response, n);
        assert_true(dnsprint_walk(copy, n, &m) < 0);
        free(copy);
    }
}

static void test_walk_every_mutation(void **state)
{
    static const uint8_t values[] = { 0x00, 0x01, 0x3f, 0x40, 0x80,
                                      0xc0, 0xc1, 0xff };
    struct dnsprint_msg m;
    char line[DNSPRINT_SUMMARY_MAX];

    (void)state;
    /* Garbage anywhere must give 0 or a status code, never a crash; when
     * the walk succeeds the summary must fit its documented maximum. */
    for (size_t i = 0; i < sizeof(response); i++) {
        for (size_t v = 0; v < sizeof(values); v++) {
            uint8_t copy[sizeof(response)];
            int rc;

            memcpy(copy, response, sizeof(copy));
            copy[i] = values[v];
            rc = dnsprint_walk(copy, sizeof(copy), &m);
            assert_true(rc == 0 || rc == DNSPRINT_ESHORT ||
                        rc == DNSPRINT_EPTR || rc == DNSPRINT_ELABEL ||
                        rc == DNSPRINT_ENAMELEN);
            if (rc == 0)
                assert_true(dnsprint_summary(&m, line, sizeof(line)) > 0);
        }
    }
}

static void test_walk_trailing_and_short(void **state)
{
    uint8_t buf[sizeof(response) + 3];
    struct dnsprint_msg m;

    (void)state;
    memcpy(buf, response, sizeof(response));
    memset(buf + sizeof(response), 0xee, 3);
    assert_int_equal(dnsprint_walk(buf, sizeof(buf), &m), 0);
    assert_int_equal(m.len, sizeof(buf));
    assert_int_equal(m.end, sizeof(response));

    assert_int_equal(dnsprint_walk(buf, 0, &m), DNSPRINT_ESHORT);
    assert_int_equal(dnsprint_walk(buf, 11, &m), DNSPRINT_ESHORT);
}

static void test_walk_rr_overruns(void **state)
{
    uint8_t buf[sizeof(response)];
    struct dnsprint_msg m;

    (void)state;
    /* The A record's rdlength one past the end. */
    memcpy(buf, response, sizeof(buf));
    buf[61] = 0x00;
    buf[62] = 0x05;
    assert_int_equal(dnsprint_walk(buf, sizeof(buf), &m), DNSPRINT_ESHORT);
    /* One more RR promised than present. */
    memcpy(buf, response, sizeof(buf));
    buf[11] = 2;
    assert_int_equal(dnsprint_walk(buf, sizeof(buf), &m), DNSPRINT_ESHORT);
    /* An owner name pointing forward. */
    memcpy(buf, response, sizeof(buf));
    buf[52] = 0x44;
    assert_int_equal(dnsprint_walk(buf, sizeof(buf), &m), DNSPRINT_EPTR);
}

static void test_walk_no_question(void **state)
{
    static const uint8_t msg[] = {
        0xab, 0xcd, /* id */
        0x80, 0x04, /* qr, NOTIMP */
        0, 0, 0, 0, 0, 0, 0, 0, /* no records */
    };
    struct dnsprint_msg m;
    char line[DNSPRINT_SUMMARY_MAX];

    (void)state;
    assert_int_equal(dnsprint_walk(msg, sizeof(msg), &m), 0);
    assert_false(m.has_question);
    assert_string_equal(m.qname, "");
    assert_int_equal(dnsprint_summary(&m, line, sizeof(line)), 31);
    assert_string_equal(line, "- - NOTIMP flags=qr an=0 len=12");
}

static void test_walk_extended_rcode(void **state)
{
    static const uint8_t msg[] = {
        0, 1,       /* id */
        0x81, 0x00, /* qr rd, header rcode 0 */
        0, 0, 0, 0, 0, 0,
        0, 1,       /* arcount 1 */
        0x00, 0x00, 0x29, 0x04, 0xd0,
        0x01, 0x00, 0x00, 0x00, /* ext rcode 1: 1 << 4 | 0 = BADVERS */
        0x00, 0x00,
    };
    struct dnsprint_msg m;
    char line[DNSPRINT_SUMMARY_MAX];

    (void)state;
    assert_int_equal(dnsprint_walk(msg, sizeof(msg), &m), 0);
    assert_true(m.has_opt);
    assert_int_equal(m.rcode, 16);
    assert_true(dnsprint_summary(&m, line, sizeof(line)) > 0);
    assert_string_equal(line, "- - BADVERS flags=qr,rd an=0 len=23");
}

static void test_name_simple_and_next(void **state)
{
    char buf[DNSPRINT_NAME_MAX];
    size_t next = 0;

    (void)state;
    assert_int_equal(dnsprint_name(response, sizeof(response), 12, buf,
                                   sizeof(buf), &next),
                     16);
    assert_string_equal(buf, "www.example.com.");
    assert_int_equal(next, 29);
    /* Compressed: web + pointer, next is just past the pointer. */
    assert_int_equal(dnsprint_name(response, sizeof(response), 45, buf,
                                   sizeof(buf), &next),
                     16);
    assert_string_equal(buf, "web.example.com.");
    assert_int_equal(next, 51);
    /* A pointer to a name ending in a pointer. */
    assert_true(dnsprint_name(response, sizeof(response), 51, buf,
                              sizeof(buf), &next) > 0);
    assert_string_equal(buf, "web.example.com.");
    assert_int_equal(next, 53);
    /* The root. */
    assert_int_equal(dnsprint_name(response, sizeof(response), 67, buf,
                                   sizeof(buf), &next),
                     1);
    assert_string_equal(buf, ".");
    assert_int_equal(next, 68);
    /* Check only. */
    next = 0;
    assert_int_equal(dnsprint_name(response, sizeof(response), 33, NULL, 0,
                                   &next),
                     0);
    assert_int_equal(next, 35);
}

static void test_name_escapes(void **state)
{
    static const uint8_t body[] = {
        13, 'a', '.', ' ', 0x00, 0xff, '\\', '"', '(', ')', ';', '@', '$',
        '-',
        1, 0x7f,
        0,
    };
    uint8_t msg[64];
    size_t len = with_header(msg, body, sizeof(body));
    char buf[DNSPRINT_NAME_MAX];
    const char *want = "a\\.\\032\\000\\255\\\\\\\"\\(\\)\\;\\@\\$-.\\127.";

    (void)state;
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     (int)strlen(want));
    assert_string_equal(buf, want);
}

static void test_name_small_buffers(void **state)
{
    const char *want = "www.example.com.";
    char buf[32];

    (void)state;
    /* Every size short of the text plus NUL fails, never overruns and
     * leaves a NUL-terminated prefix. */
    for (size_t size = 0; size <= strlen(want); size++) {
        size_t next = 999;

        memset(buf, 'X', sizeof(buf));
        assert_int_equal(dnsprint_name(response, sizeof(response), 12, buf,
                                       size, &next),
                         DNSPRINT_ENOSPC);
        assert_int_equal(next, 999);
        if (size > 0) {
            assert_int_equal(strlen(buf), size - 1);
            assert_memory_equal(buf, want, size - 1);
        }
        assert_int_equal(buf[size], 'X');
    }
    assert_int_equal(dnsprint_name(response, sizeof(response), 12, buf,
                                   strlen(want) + 1, NULL),
                     (int)strlen(want));
}

static void test_name_loops(void **state)
{
    uint8_t msg[600];
    size_t len;
    char buf[DNSPRINT_NAME_MAX];

    (void)state;
    /* A pointer to itself. */
    len = with_header(msg, (const uint8_t[]){ 0xc0, 0x0c }, 2);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_EPTR);
    /* Two pointers to each other. */
    len = with_header(msg, (const uint8_t[]){ 0xc0, 0x0e, 0xc0, 0x0c }, 4);
    assert_int_equal(dnsprint_name(msg, len, 14, buf, sizeof(buf), NULL),
                     DNSPRINT_EPTR);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_EPTR);
    /* Backward pointer after a label, back to that label: every hop is
     * backwards yet it loops; the hop and length limits end it. */
    len = with_header(msg, (const uint8_t[]){ 1, 'a', 0xc0, 0x0c }, 4);
    assert_true(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL) < 0);
    assert_true(dnsprint_name(msg, len, 14, buf, sizeof(buf), NULL) < 0);
    /* A forward pointer. */
    len = with_header(msg, (const uint8_t[]){ 0xc0, 0x0e, 0 }, 3);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_EPTR);
    /* Into the header. */
    len = with_header(msg, (const uint8_t[]){ 0xc0, 0x05 }, 2);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_EPTR);
    /* Past the end (and forward). */
    len = with_header(msg, (const uint8_t[]){ 0xff, 0xff }, 2);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_EPTR);
    /* A pointer cut in half. */
    len = with_header(msg, (const uint8_t[]){ 0xc0 }, 1);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_ESHORT);
}

/* A chain of n pointers, each to the previous one, ending at a root. */
static size_t pointer_chain(uint8_t *msg, unsigned n)
{
    size_t pos = 12;

    memset(msg, 0, 12);
    msg[pos++] = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t target = pos - (i == 0 ? 1 : 2);

        msg[pos++] = (uint8_t)(0xc0 | target >> 8);
        msg[pos++] = (uint8_t)target;
    }
    return pos;
}

static void test_name_hop_limit(void **state)
{
    uint8_t msg[12 + 1 + 2 * (DNSPRINT_MAX_HOPS + 1)];
    char buf[DNSPRINT_NAME_MAX];
    size_t len, next;

    (void)state;
    len = pointer_chain(msg, DNSPRINT_MAX_HOPS);
    assert_int_equal(dnsprint_name(msg, len, len - 2, buf, sizeof(buf),
                                   &next),
                     1);
    assert_string_equal(buf, ".");
    assert_int_equal(next, len);
    len = pointer_chain(msg, DNSPRINT_MAX_HOPS + 1);
    assert_int_equal(dnsprint_name(msg, len, len - 2, buf, sizeof(buf),
                                   NULL),
                     DNSPRINT_EPTR);
}

static size_t labels(uint8_t *msg, const unsigned *sizes, size_t n)
{
    size_t pos = 12;

    memset(msg, 0, 12);
    for (size_t i = 0; i < n; i++) {
        msg[pos++] = (uint8_t)sizes[i];
        memset(msg + pos, 'x', sizes[i]);
        pos += sizes[i];
    }
    msg[pos++] = 0;
    return pos;
}

static void test_name_lengths(void **state)
{
    uint8_t msg[600];
    char buf[DNSPRINT_NAME_MAX];
    size_t len;

    (void)state;
    /* 3 * 64 + 62 + 1 = 255 octets: the longest legal name. */
    len = labels(msg, (const unsigned[]){ 63, 63, 63, 61 }, 4);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     63 * 3 + 61 + 4);
    /* One octet more. */
    len = labels(msg, (const unsigned[]){ 63, 63, 63, 62 }, 4);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_ENAMELEN);
    /* The longest name all in escapes still fits DNSPRINT_NAME_MAX. */
    len = labels(msg, (const unsigned[]){ 63, 63, 63, 61 }, 4);
    for (size_t i = 12; i < len - 1; i++)
        if (msg[i] == 'x')
            msg[i] = 0x01;
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     (63 * 3 + 61) * 4 + 4);
    /* Reserved label types. */
    len = with_header(msg, (const uint8_t[]){ 0x41, 'a', 0 }, 3);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_ELABEL);
    len = with_header(msg, (const uint8_t[]){ 0x80, 'a', 0 }, 3);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_ELABEL);
    /* A label running past the end, a name without its root. */
    len = with_header(msg, (const uint8_t[]){ 5, 'a', 'b' }, 3);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_ESHORT);
    len = with_header(msg, (const uint8_t[]){ 1, 'a' }, 2);
    assert_int_equal(dnsprint_name(msg, len, 12, buf, sizeof(buf), NULL),
                     DNSPRINT_ESHORT);
    assert_int_equal(dnsprint_name(msg, len, len, buf, sizeof(buf), NULL),
                     DNSPRINT_ESHORT);
}

static void test_type_names(void **state)
{
    static const struct {
        uint16_t type;
        const char *name;
    } cases[] = {
        { 1, "A" },       { 2, "NS" },       { 5, "CNAME" },
        { 6, "SOA" },     { 12, "PTR" },     { 15, "MX" },
        { 16, "TXT" },    { 28, "AAAA" },    { 33, "SRV" },
        { 35, "NAPTR" },  { 41, "OPT" },     { 43, "DS" },
        { 46, "RRSIG" },  { 47, "NSEC" },    { 48, "DNSKEY" },
        { 50, "NSEC3" },  { 64, "SVCB" },    { 65, "HTTPS" },
        { 252, "AXFR" },  { 255, "ANY" },    { 257, "CAA" },
        { 0, "TYPE0" },   { 54, "TYPE54" },  { 65280, "TYPE65280" },
        { 65535, "TYPE65535" },
    };
    char buf[DNSPRINT_MNEMONIC_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(dnsprint_type(cases[i].type, buf),
                            cases[i].name);
    assert_string_equal(dnsprint_class(1, buf), "IN");
    assert_string_equal(dnsprint_class(3, buf), "CH");
    assert_string_equal(dnsprint_class(65535, buf), "CLASS65535");
}

static void test_rcode_names(void **state)
{
    static const struct {
        uint16_t rcode;
        const char *name;
    } cases[] = {
        { 0, "NOERROR" },   { 1, "FORMERR" },   { 2, "SERVFAIL" },
        { 3, "NXDOMAIN" },  { 4, "NOTIMP" },    { 5, "REFUSED" },
        { 9, "NOTAUTH" },   { 16, "BADVERS" },  { 23, "BADCOOKIE" },
        { 12, "RCODE12" },  { 4095, "RCODE4095" },
    };
    char buf[DNSPRINT_MNEMONIC_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(dnsprint_rcode(cases[i].rcode, buf),
                            cases[i].name);
}

static void test_flags(void **state)
{
    char buf[DNSPRINT_FLAGS_MAX];

    (void)state;
    assert_int_equal(dnsprint_flags(0, ',', buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    /* Opcode, Z and rcode bits are not flags. */
    assert_int_equal(dnsprint_flags(0x784f, ',', buf, sizeof(buf)), 0);
    assert_int_equal(dnsprint_flags(0xffff, ',', buf, sizeof(buf)), 20);
    assert_string_equal(buf, "qr,aa,tc,rd,ra,ad,cd");
    assert_int_equal(dnsprint_flags(0x8180, ' ', buf, sizeof(buf)), 8);
    assert_string_equal(buf, "qr rd ra");
    assert_int_equal(dnsprint_flags(0x8180, ' ', buf, 8), DNSPRINT_ENOSPC);
    assert_string_equal(buf, "qr rd r");
    assert_int_equal(dnsprint_flags(0, ' ', buf, 0), DNSPRINT_ENOSPC);
}

static void test_summary_small_buffers(void **state)
{
    struct dnsprint_msg m;
    char full[DNSPRINT_SUMMARY_MAX];
    char buf[DNSPRINT_SUMMARY_MAX];
    int n;

    (void)state;
    assert_int_equal(dnsprint_walk(response, sizeof(response), &m), 0);
    n = dnsprint_summary(&m, full, sizeof(full));
    assert_true(n > 0);
    for (size_t size = 0; size <= (size_t)n; size++) {
        memset(buf, 'X', sizeof(buf));
        assert_int_equal(dnsprint_summary(&m, buf, size), DNSPRINT_ENOSPC);
        assert_int_equal(buf[size], 'X');
        if (size > 0)
            assert_memory_equal(buf, full, size - 1);
    }
    assert_int_equal(dnsprint_summary(&m, buf, (size_t)n + 1), n);
}

static void test_summary_types_and_rcodes(void **state)
{
    uint8_t msg[sizeof(response)];
    struct dnsprint_msg m;
    char line[DNSPRINT_SUMMARY_MAX];

    (void)state;
    memcpy(msg, response, sizeof(msg));
    msg[3] = 0x03;  /* NXDOMAIN, ra cleared */
    msg[30] = 0x41; /* qtype HTTPS */
    assert_int_equal(dnsprint_walk(msg, sizeof(msg), &m), 0);
    assert_true(dnsprint_summary(&m, line, sizeof(line)) > 0);
    assert_string_equal(line, "www.example.com. HTTPS NXDOMAIN "
                              "flags=qr,aa,rd an=2 len=78");
    msg[29] = 0xff;
    msg[30] = 0x00; /* qtype 65280 */
    assert_int_equal(dnsprint_walk(msg, sizeof(msg), &m), 0);
    assert_true(dnsprint_summary(&m, line, sizeof(line)) > 0);
    assert_string_equal(line, "www.example.com. TYPE65280 NXDOMAIN "
                              "flags=qr,aa,rd an=2 len=78");
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(dnsprint_strerror(DNSPRINT_ESHORT), "truncated");
    assert_string_equal(dnsprint_strerror(DNSPRINT_EPTR),
                        "bad compression pointer");
    assert_string_equal(dnsprint_strerror(-100), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_response),
        cmocka_unit_test(test_walk_every_truncation),
        cmocka_unit_test(test_walk_every_mutation),
        cmocka_unit_test(test_walk_trailing_and_short),
        cmocka_unit_test(test_walk_rr_overruns),
        cmocka_unit_test(test_walk_no_question),
        cmocka_unit_test(test_walk_extended_rcode),
        cmocka_unit_test(test_name_simple_and_next),
        cmocka_unit_test(test_name_escapes),
        cmocka_unit_test(test_name_small_buffers),
        cmocka_unit_test(test_name_loops),
        cmocka_unit_test(test_name_hop_limit),
        cmocka_unit_test(test_name_lengths),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_rcode_names),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_summary_small_buffers),
        cmocka_unit_test(test_summary_types_and_rcodes),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
