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
#include "codec/dnsprint_pcap.h"

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

/* ------------------------------------------------------------- RDATA */

/* A response with one question "example.com. <type> <class>" at offset
 * 12 and one answer, owner a pointer to it, TTL 300, with the given RDATA
 * at offset RR_RDATA. RDATA may point at offset 12 for example.com. */
#define RR_ANSWER 29
#define RR_RDATA 41
#define RR_MSG_MAX (RR_RDATA + 10000)

static size_t build_rr(uint8_t *msg, uint16_t type, uint16_t cls,
                       const uint8_t *rdata, size_t rdlen)
{
    static const uint8_t head[] = {
        0xbe, 0xef, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,
        7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
    };
    size_t pos = sizeof(head);

    memcpy(msg, head, pos);
    msg[pos++] = (uint8_t)(type >> 8);       /* qtype */
    msg[pos++] = (uint8_t)type;
    msg[pos++] = (uint8_t)(cls >> 8);        /* qclass */
    msg[pos++] = (uint8_t)cls;
    msg[pos++] = 0xc0;                       /* owner: pointer to 12 */
    msg[pos++] = 0x0c;
    msg[pos++] = (uint8_t)(type >> 8);
    msg[pos++] = (uint8_t)type;
    msg[pos++] = (uint8_t)(cls >> 8);
    msg[pos++] = (uint8_t)cls;
    msg[pos++] = 0;                          /* ttl 300 */
    msg[pos++] = 0;
    msg[pos++] = 0x01;
    msg[pos++] = 0x2c;
    msg[pos++] = (uint8_t)(rdlen >> 8);
    msg[pos++] = (uint8_t)rdlen;
    assert_int_equal(pos, RR_RDATA);
    if (rdlen > 0)
        memcpy(msg + pos, rdata, rdlen);
    return pos + rdlen;
}

/* Walks msg[0..len), reads the answer and prints its RDATA into buf. */
static int print_answer(const uint8_t *msg, size_t len, char *buf,
                        size_t size)
{
    struct dnsprint_msg m;
    struct dnsprint_rr rr;
    size_t next = 0;

    assert_int_equal(dnsprint_walk(msg, len, &m), 0);
    assert_int_equal(m.answers, RR_ANSWER);
    assert_int_equal(dnsprint_rr(msg, len, m.answers, &rr, &next), 0);
    assert_int_equal(next, len);
    return dnsprint_rdata(msg, len, &rr, buf, size);
}

#define RD(...) (const uint8_t[]){ __VA_ARGS__ }, \
    sizeof((const uint8_t[]){ __VA_ARGS__ })
#define EXAMPLE_COM 0xc0, 0x0c /* a pointer to the question's name */

struct rdata_case {
    const char *what;
    uint16_t type, cls;
    const uint8_t *rdata;
    size_t rdlen;
    const char *want;
};

/* Every supported type in its typed form, then every way a supported
 * type falls back to the RFC 3597 generic form. */
static const struct rdata_case rdata_cases[] = {
    { "A", 1, 1, RD(192, 0, 2, 1), "192.0.2.1" },
    { "A zero", 1, 1, RD(0, 0, 0, 0), "0.0.0.0" },
    { "AAAA", 28, 1,
      RD(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10),
      "2001:db8::10" },
    { "AAAA full", 28, 1,
      RD(0x20, 0x01, 0x04, 0x70, 0xc6, 0x78, 0x2f, 0xd3, 0x8d, 0x0e, 0xba,
         0x33, 0xcf, 0xe0, 0x9c, 0xfa),
      "2001:470:c678:2fd3:8d0e:ba33:cfe0:9cfa" },
    { "NS", 2, 1, RD(3, 'n', 's', '1', EXAMPLE_COM), "ns1.example.com." },
    { "CNAME", 5, 1, RD(3, 'w', 'e', 'b', 0), "web." },
    { "PTR", 12, 1, RD(0), "." },
    { "DNAME", 39, 1, RD(EXAMPLE_COM), "example.com." },
    { "NS escapes", 2, 1, RD(3, 'a', '"', 0x00, 2, '\\', ' ', 0),
      "a\\\"\\000.\\\\\\032." },
    { "MX", 15, 1, RD(0, 10, 4, 'm', 'a', 'i', 'l', EXAMPLE_COM),
      "10 mail.example.com." },
    { "MX 65535 root", 15, 1, RD(0xff, 0xff, 0), "65535 ." },
    { "TXT", 16, 1, RD(3, 'a', ' ', 'b'), "\"a b\"" },
    { "TXT strings and escapes", 16, 1,
      RD(3, 'a', ' ', 'b', 0, 4, '"', '\\', 0x01, 0xff),
      "\"a b\" \"\" \"\\\"\\\\\\001\\255\"" },
    { "TXT empty string", 16, 1, RD(0), "\"\"" },
    { "TXT control and DEL", 16, 1, RD(3, '\n', 0x7f, '~'),
      "\"\\010\\127~\"" },
    { "SPF", 99, 1, RD(6, 'v', '=', 's', 'p', 'f', '1'), "\"v=spf1\"" },
    { "SOA", 6, 1,
      RD(3, 'n', 's', '1', EXAMPLE_COM, 10, 'h', 'o', 's', 't', 'm', 'a',
         's', 't', 'e', 'r', EXAMPLE_COM, 0x78, 0xa4, 0xf3, 0x75, /* serial */
         0, 0, 0x1c, 0x20, 0, 0, 0x0e, 0x10, 0, 0x12, 0x75, 0,
         0xff, 0xff, 0xff, 0xff),
      "ns1.example.com. hostmaster.example.com. 2024076149 7200 3600 "
      "1209600 4294967295" },
    { "SOA pointer into its own RDATA", 6, 1,
      RD(3, 'n', 's', '1', EXAMPLE_COM, 0xc0, RR_RDATA, 0, 0, 0, 1, 0, 0,
         0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5),
      "ns1.example.com. ns1.example.com. 1 2 3 4 5" },
    { "SRV", 33, 1,
      RD(0, 10, 0, 60, 0x13, 0xc4, 3, 's', 'i', 'p', EXAMPLE_COM),
      "10 60 5060 sip.example.com." },
    { "SRV no target", 33, 1, RD(0, 0, 0, 0, 0, 0, 0), "0 0 0 ." },
    { "CAA", 257, 1,
      RD(0, 5, 'i', 's', 's', 'u', 'e', 'c', 'a', '.', 'e', 'x', 'a', 'm',
         'p', 'l', 'e'),
      "0 issue \"ca.example\"" },
    { "CAA critical, escapes", 257, 1,
      RD(128, 5, 'i', 'o', 'd', 'e', 'f', 'a', '"', ';', 0x00),
      "128 iodef \"a\\\";\\000\"" },
    { "CAA empty value", 257, 1, RD(0, 9, 'i', 's', 's', 'u', 'e', 'w',
                                    'i', 'l', 'd'),
      "0 issuewild \"\"" },
    { "CAA 15-octet tag", 257, 1,
      RD(0, 15, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l',
         'm', 'n', 'O', '9'),
      "0 abcdefghijklmnO \"9\"" },
    { "DS", 43, 1, RD(0x30, 0x39, 8, 2, 0xab, 0xcd, 0x01, 0xef),
      "12345 8 2 ABCD01EF" },
    { "CDS delete", 59, 1, RD(0, 0, 0, 0, 0), "0 0 0 00" },
    { "DNSKEY one octet", 48, 1, RD(0x01, 0x01, 3, 13, 'f'),
      "257 3 13 Zg==" },
    { "DNSKEY two octets", 48, 1, RD(0x01, 0x00, 3, 8, 'f', 'o'),
      "256 3 8 Zm8=" },
    { "DNSKEY three octets", 48, 1, RD(0x01, 0x01, 3, 13, 'f', 'o', 'o'),
      "257 3 13 Zm9v" },
    { "DNSKEY four octets", 48, 1,
      RD(0x01, 0x01, 3, 13, 'f', 'o', 'o', 'b'), "257 3 13 Zm9vYg==" },
    { "DNSKEY all bits", 48, 1, RD(0, 0, 3, 15, 0xfb, 0xff, 0xbf),
      "0 3 15 +/+/" },
    { "CDNSKEY delete", 60, 1, RD(0, 0, 3, 0, 0), "0 3 0 AA==" },
    { "RRSIG", 46, 1,
      RD(0, 1, 13, 2, 0, 0, 0x0e, 0x10, 0x65, 0x74, 0xe6, 0x80, 0x65, 0x4c,
         0x08, 0x00, 0xd6, 0x73, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
         'c', 'o', 'm', 0, 'f', 'o', 'o', 'b'),
      "A 13 2 3600 20231209221320 20231108221320 54899 example.com. "
      "Zm9vYg==" },
    { "RRSIG dates", 46, 1,
      RD(0xff, 0x00, 8, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0x38, 0xbb, 0x0c, 0x00, 0, 0, EXAMPLE_COM, 0),
      "TYPE65280 8 0 4294967295 21060207062815 20000229000000 0 "
      "example.com. AA==" },
    { "RRSIG epoch", 46, 1,
      RD(0, 46, 8, 0, 0, 0, 0, 0, 0xf4, 0xd4, 0x1f, 0x80, 0, 0, 0, 0,
         0, 0, 0, 0xff),
      "RRSIG 8 0 0 21000301000000 19700101000000 0 . /w==" },
    { "NSEC", 47, 1,
      RD(1, 'a', EXAMPLE_COM, 0, 7, 0x62, 0x01, 0x80, 0x08, 0, 0x03, 0x80,
         1, 1, 0x40),
      "a.example.com. A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY CAA" },
    { "NSEC no types", 47, 1, RD(0), "." },
    { "NSEC high window, zero octets", 47, 1,
      RD(0, 0xff, 3, 0x00, 0x80, 0x01), ". TYPE65288 TYPE65303" },
    /* The generic form: types without a typed form. */
    { "HTTPS", 65, 1, RD(0, 1, 0, 0, 1, 0, 3, 2, 'h', '2'),
      "\\# 10 00010000010003026832" },
    { "unknown type", 65280, 1, RD(0xde, 0xad, 0xbe, 0xef),
      "\\# 4 DEADBEEF" },
    { "unknown, empty", 65535, 1, NULL, 0, "\\# 0" },
    { "OPT in the answers", 41, 4096, RD(0, 10, 0, 2, 0xca, 0xfe),
      "\\# 6 000A0002CAFE" },
    /* The generic form: supported types that do not fit their shape. */
    { "A, 3 octets", 1, 1, RD(192, 0, 2), "\\# 3 C00002" },
    { "A, 5 octets", 1, 1, RD(192, 0, 2, 1, 0), "\\# 5 C000020100" },
    { "A in class CH", 1, 3, RD(192, 0, 2, 1), "\\# 4 C0000201" },
    { "AAAA, 4 octets", 28, 1, RD(192, 0, 2, 1), "\\# 4 C0000201" },
    { "AAAA in class HS", 28, 4,
      RD(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10),
      "\\# 16 20010DB8000000000000000000000010" },
    { "NS, no name", 2, 1, NULL, 0, "\\# 0" },
    { "NS, bytes after the name", 2, 1, RD(0, 0), "\\# 2 0000" },
    { "NS, label past the RDATA", 2, 1, RD(3, 'a', 'b'), "\\# 3 036162" },
    { "NS, forward pointer", 2, 1, RD(0xc0, RR_RDATA + 2, 0),
      "\\# 3 C02B00" },
    { "NS, pointer into the header", 2, 1, RD(0xc0, 0x02),
      "\\# 2 C002" },
    { "NS, pointer to itself", 2, 1, RD(0xc0, RR_RDATA),
      "\\# 2 C029" },
    { "NS, reserved label type", 2, 1, RD(0x40, 0), "\\# 2 4000" },
    { "CNAME, half a pointer", 5, 1, RD(0xc0), "\\# 1 C0" },
    { "MX, no name", 15, 1, RD(0, 10), "\\# 2 000A" },
    { "MX, one octet", 15, 1, RD(0), "\\# 1 00" },
    { "TXT, no string", 16, 1, NULL, 0, "\\# 0" },
    { "TXT, string past the end", 16, 1, RD(2, 'a', 1, 'b', 'c'),
      "\\# 5 0261016263" },
    { "SOA, one number short", 6, 1,
      RD(0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4),
      "\\# 18 000000000001000000020000000300000004" },
    { "SOA, a byte over", 6, 1,
      RD(0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0,
         5, 9),
      "\\# 23 0000000000010000000200000003000000040000000509" },
    { "SRV, bytes after the target", 33, 1, RD(0, 0, 0, 0, 0, 0, 0, 1),
      "\\# 8 0000000000000001" },
    { "CAA, empty tag", 257, 1, RD(0, 0, 'x'), "\\# 3 000078" },
    { "CAA, 16-octet tag", 257, 1,
      RD(0, 16, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
         'a', 'a', 'a', 'a'),
      "\\# 18 001061616161616161616161616161616161" },
    { "CAA, tag past the end", 257, 1, RD(0, 5, 'i', 's'),
      "\\# 4 00056973" },
    { "CAA, tag not alphanumeric", 257, 1, RD(0, 2, 'i', '-', 'x'),
      "\\# 5 0002692D78" },
    { "CAA, no tag length", 257, 1, RD(0), "\\# 1 00" },
    { "DS, no digest", 43, 1, RD(0x30, 0x39, 8, 2), "\\# 4 30390802" },
    { "DNSKEY, no key", 48, 1, RD(1, 1, 3, 13), "\\# 4 0101030D" },
    { "RRSIG, no signature", 46, 1,
      RD(0, 1, 13, 2, 0, 0, 0x0e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
      "\\# 19 00010D0200000E1000000000000000000000" "00" },
    { "RRSIG, short fixed part", 46, 1,
      RD(0, 1, 13, 2, 0, 0, 0x0e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0),
      "\\# 17 00010D0200000E100000000000000000" "00" },
    { "RRSIG, signer past the end", 46, 1,
      RD(0, 1, 13, 2, 0, 0, 0x0e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3,
         'a'),
      "\\# 20 00010D0200000E1000000000000000000000" "0361" },
    { "NSEC, windows decreasing", 47, 1, RD(0, 1, 1, 0x40, 0, 1, 0x40),
      "\\# 7 00010140000140" },
    { "NSEC, window repeated", 47, 1, RD(0, 0, 1, 0x40, 0, 1, 0x20),
      "\\# 7 00000140000120" },
    { "NSEC, empty window", 47, 1, RD(0, 0, 0), "\\# 3 000000" },
    { "NSEC, 33-octet window", 47, 1,
      RD(0, 0, 33, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33),
      "\\# 36 0000210102030405060708090A0B0C0D0E0F101112131415161718191A1B"
      "1C1D1E1F2021" },
    { "NSEC, bitmap past the end", 47, 1, RD(0, 0, 2, 0x40),
      "\\# 4 00000240" },
    { "NSEC, window length missing", 47, 1, RD(0, 0), "\\# 2 0000" },
};

/* Large enough for any RDATA text: static, it does not fit a stack. */
static char rdbuf[DNSPRINT_RDATA_MAX];

static void assert_printable(const char *s)
{
    for (; *s; s++)
        assert_true(*s >= 0x20 && *s < 0x7f);
}

static void test_rdata_cases(void **state)
{
    uint8_t msg[RR_MSG_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(rdata_cases) / sizeof(rdata_cases[0]);
         i++) {
        const struct rdata_case *c = &rdata_cases[i];
        size_t len = build_rr(msg, c->type, c->cls, c->rdata, c->rdlen);
        int rc = print_answer(msg, len, rdbuf, sizeof(rdbuf));

        if (rc < 0 || strcmp(rdbuf, c->want) != 0)
            print_message("case \"%s\": got \"%s\"\n", c->what, rdbuf);
        assert_string_equal(rdbuf, c->want);
        assert_int_equal(rc, strlen(c->want));
        assert_printable(rdbuf);
    }
}

/* A heap copy of exactly n bytes, so that valgrind or ASan flags any read
 * past the end. */
static uint8_t *exact_copy(const uint8_t *msg, size_t n)
{
    uint8_t *copy = malloc(n > 0 ? n : 1);

    assert_non_null(copy);
    memcpy(copy, msg, n);
    return copy;
}

static void test_rdata_every_truncation(void **state)
{
    uint8_t msg[RR_MSG_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(rdata_cases) / sizeof(rdata_cases[0]);
         i++) {
        const struct rdata_case *c = &rdata_cases[i];
        size_t len = build_rr(msg, c->type, c->cls, c->rdata, c->rdlen);
        struct dnsprint_rr rr, rr2;
        struct dnsprint_msg m;

        assert_int_equal(dnsprint_rr(msg, len, RR_ANSWER, &rr, NULL), 0);
        /* The message cut at every offset: the walk, the record and its
         * RDATA all fail cleanly, the RDATA always as ESHORT since it is
         * the last thing in the message. */
        for (size_t n = 0; n < len; n++) {
            uint8_t *copy = exact_copy(msg, n);

            assert_true(dnsprint_walk(copy, n, &m) < 0);
            assert_true(dnsprint_rr(copy, n, RR_ANSWER, &rr2, NULL) < 0);
            assert_int_equal(dnsprint_rdata(copy, n, &rr, rdbuf,
                                            sizeof(rdbuf)),
                             DNSPRINT_ESHORT);
            free(copy);
        }
        /* The RDATA cut at every offset, its length field agreeing: a
         * valid message whose record prints in some form. */
        for (size_t r = 0; r < c->rdlen; r++) {
            size_t n = build_rr(msg, c->type, c->cls, c->rdata, r);
            uint8_t *copy = exact_copy(msg, n);
            int rc = print_answer(copy, n, rdbuf, sizeof(rdbuf));

            assert_true(rc >= 0);
            assert_int_equal(rc, strlen(rdbuf));
            assert_printable(rdbuf);
            free(copy);
        }
    }
}

static void test_rdata_every_mutation(void **state)
{
    static const uint8_t values[] = { 0x00, 0x01, 0x02, 0x1f, 0x20, 0x3f,
                                      0x40, 0x7f, 0x80, 0xc0, 0xc1, 0xff };
    uint8_t msg[RR_MSG_MAX];

    (void)state;
    /* Garbage anywhere in the RDATA of every case still gives a text. */
    for (size_t i = 0; i < sizeof(rdata_cases) / sizeof(rdata_cases[0]);
         i++) {
        const struct rdata_case *c = &rdata_cases[i];
        size_t len = build_rr(msg, c->type, c->cls, c->rdata, c->rdlen);

        for (size_t at = RR_RDATA; at < len; at++) {
            for (size_t v = 0; v < sizeof(values); v++) {
                uint8_t *copy = exact_copy(msg, len);
                int rc;

                copy[at] = values[v];
                rc = print_answer(copy, len, rdbuf, sizeof(rdbuf));
                assert_true(rc >= 0);
                assert_int_equal(rc, strlen(rdbuf));
                assert_printable(rdbuf);
                free(copy);
            }
        }
    }
}

static const struct rdata_case *find_case(const char *what)
{
    for (size_t i = 0; i < sizeof(rdata_cases) / sizeof(rdata_cases[0]);
         i++)
        if (strcmp(rdata_cases[i].what, what) == 0)
            return &rdata_cases[i];
    fail_msg("no case \"%s\"", what);
    return NULL;
}

static void test_rdata_small_buffers(void **state)
{
    /* Typed forms with names, numbers, dates, quotes and base64, and
     * generic ones, one of them after a failed typed attempt. */
    static const char *const which[] = {
        "SOA", "TXT strings and escapes", "RRSIG", "NSEC", "unknown type",
        "A, 3 octets",
    };
    uint8_t msg[RR_MSG_MAX];
    char buf[256];

    (void)state;
    for (size_t w = 0; w < sizeof(which) / sizeof(which[0]); w++) {
        const struct rdata_case *c = find_case(which[w]);
        size_t len = build_rr(msg, c->type, c->cls, c->rdata, c->rdlen);
        size_t n = strlen(c->want);

        assert_true(n + 1 < sizeof(buf));
        for (size_t size = 0; size <= n; size++) {
            memset(buf, 'X', sizeof(buf));
            assert_int_equal(print_answer(msg, len, buf, size),
                             DNSPRINT_ENOSPC);
            assert_int_equal(buf[size], 'X');
            if (size > 0) {
                assert_int_equal(strlen(buf), size - 1);
                assert_memory_equal(buf, c->want, size - 1);
            }
        }
        assert_int_equal(print_answer(msg, len, buf, n + 1), (int)n);
        assert_string_equal(buf, c->want);
    }
}

/* The largest text there is: an NSEC record with the longest name, all
 * in escapes, and every type of every window. It must fit
 * DNSPRINT_RDATA_MAX. */
static void test_rdata_nsec_worst_case(void **state)
{
    static uint8_t rdata[255 + 256 * 34];
    static uint8_t msg[RR_RDATA + sizeof(rdata)];
    char tbuf[DNSPRINT_MNEMONIC_MAX];
    size_t pos = 0, want = (63 * 3 + 61) * 4 + 4, len;
    const unsigned sizes[] = { 63, 63, 63, 61 };
    int rc;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        rdata[pos++] = (uint8_t)sizes[i];
        memset(rdata + pos, 0x01, sizes[i]);
        pos += sizes[i];
    }
    rdata[pos++] = 0;
    for (unsigned w = 0; w < 256; w++) {
        rdata[pos++] = (uint8_t)w;
        rdata[pos++] = 32;
        memset(rdata + pos, 0xff, 32);
        pos += 32;
    }
    assert_int_equal(pos, sizeof(rdata));
    for (unsigned t = 0; t < 65536; t++)
        want += 1 + strlen(dnsprint_type((uint16_t)t, tbuf));
    len = build_rr(msg, 47, 1, rdata, sizeof(rdata));
    rc = print_answer(msg, len, rdbuf, sizeof(rdbuf));
    assert_int_equal(rc, want);
    assert_true(want < DNSPRINT_RDATA_MAX);
    assert_memory_equal(rdbuf, "\\001\\001", 8);
    assert_string_equal(rdbuf + rc - 20, " TYPE65534 TYPE65535");
}

static void test_rr(void **state)
{
    struct dnsprint_msg m;
    struct dnsprint_rr rr;
    char name[DNSPRINT_NAME_MAX];
    uint8_t copy[sizeof(response)];
    size_t pos;

    (void)state;
    assert_int_equal(dnsprint_walk(response, sizeof(response), &m), 0);
    assert_int_equal(m.answers, 33);
    pos = m.answers;
    assert_int_equal(dnsprint_rr(response, sizeof(response), pos, &rr, &pos),
                     0);
    assert_int_equal(rr.owner, 33);
    assert_int_equal(rr.type, 5);
    assert_int_equal(rr.cls, 1);
    assert_int_equal(rr.ttl, 3600);
    assert_int_equal(rr.rdlen, 6);
    assert_int_equal(rr.rdata, 45);
    assert_int_equal(pos, 51);
    assert_int_equal(dnsprint_rdata(response, sizeof(response), &rr, name,
                                    sizeof(name)),
                     16);
    assert_string_equal(name, "web.example.com.");
    assert_int_equal(dnsprint_rr(response, sizeof(response), pos, &rr, &pos),
                     0);
    assert_int_equal(dnsprint_rdata(response, sizeof(response), &rr, name,
                                    sizeof(name)),
                     9);
    assert_string_equal(name, "192.0.2.1");
    assert_int_equal(dnsprint_rr(response, sizeof(response), pos, &rr, &pos),
                     0);
    assert_int_equal(rr.type, DNSPRINT_TYPE_OPT);
    assert_int_equal(rr.cls, 4096);
    assert_int_equal(pos, sizeof(response));
    /* Nothing more: ESHORT, and next untouched. */
    assert_int_equal(dnsprint_rr(response, sizeof(response), pos, &rr, &pos),
                     DNSPRINT_ESHORT);
    assert_int_equal(pos, sizeof(response));
    /* A bad owner name: a forward pointer. */
    memcpy(copy, response, sizeof(copy));
    copy[52] = 0x44;
    assert_int_equal(dnsprint_rr(copy, sizeof(copy), 51, &rr, NULL),
                     DNSPRINT_EPTR);
    /* The fixed fields or the RDATA cut short. */
    assert_int_equal(dnsprint_rr(response, 60, 51, &rr, NULL),
                     DNSPRINT_ESHORT);
    assert_int_equal(dnsprint_rr(response, 66, 51, &rr, NULL),
                     DNSPRINT_ESHORT);
    assert_int_equal(dnsprint_rr(response, 67, 51, &rr, NULL), 0);
    /* An RR struct that does not fit the message given. */
    rr.rdata = sizeof(response) + 1;
    rr.rdlen = 0;
    assert_int_equal(dnsprint_rdata(response, sizeof(response), &rr, name,
                                    sizeof(name)),
                     DNSPRINT_ESHORT);
    rr.rdata = sizeof(response) - 1;
    rr.rdlen = 2;
    assert_int_equal(dnsprint_rdata(response, sizeof(response), &rr, name,
                                    sizeof(name)),
                     DNSPRINT_ESHORT);
    rr.rdata = sizeof(response);
    rr.rdlen = 0;
    rr.type = 65280;
    assert_int_equal(dnsprint_rdata(response, sizeof(response), &rr, name,
                                    sizeof(name)),
                     4);
    assert_string_equal(name, "\\# 0");
}

static void test_opcode_names(void **state)
{
    char buf[DNSPRINT_MNEMONIC_MAX];

    (void)state;
    assert_string_equal(dnsprint_opcode(0, buf), "QUERY");
    assert_string_equal(dnsprint_opcode(1, buf), "IQUERY");
    assert_string_equal(dnsprint_opcode(2, buf), "STATUS");
    assert_string_equal(dnsprint_opcode(3, buf), "OPCODE3");
    assert_string_equal(dnsprint_opcode(4, buf), "NOTIFY");
    assert_string_equal(dnsprint_opcode(5, buf), "UPDATE");
    assert_string_equal(dnsprint_opcode(6, buf), "DSO");
    assert_string_equal(dnsprint_opcode(15, buf), "OPCODE15");
}

/* ---------------------------------------------------------------- pcap */

/* RFC 1071, written again here: the header with its checksum sums to
 * 0xffff. */
static unsigned ip_sum(const uint8_t *p, size_t n)
{
    unsigned long sum = 0;

    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (unsigned)(p[i] << 8 | p[i + 1]);
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    return (unsigned)sum;
}

static void test_pcap_file_header(void **state)
{
    static const uint8_t want[DNSPRINT_PCAP_FILE_HEADER_LEN] = {
        0xd4, 0xc3, 0xb2, 0xa1, /* magic, little-endian, microseconds */
        0x02, 0x00, 0x04, 0x00, /* version 2.4 */
        0, 0, 0, 0,             /* thiszone */
        0, 0, 0, 0,             /* sigfigs */
        0xff, 0xff, 0x00, 0x00, /* snaplen 65535 */
        101, 0, 0, 0,           /* LINKTYPE_RAW */
    };
    uint8_t out[DNSPRINT_PCAP_FILE_HEADER_LEN];

    (void)state;
    dnsprint_pcap_file_header(out);
    assert_memory_equal(out, want, sizeof(want));
}

static void test_pcap_record(void **state)
{
    static const uint8_t src[4] = { 192, 0, 2, 53 };
    static const uint8_t dst[4] = { 127, 0, 0, 1 };
    static const uint8_t zero[4] = { 0, 0, 0, 0 };
    static const uint8_t want[DNSPRINT_PCAP_RECORD_PREFIX_LEN] = {
        0x04, 0x03, 0x02, 0x01, /* ts_sec 0x01020304 */
        0x3f, 0x42, 0x0f, 0x00, /* ts_usec 999999 */
        73, 0, 0, 0,            /* incl_len: 20 + 8 + 45 */
        73, 0, 0, 0,            /* orig_len */
        0x45, 0x00,             /* IPv4, IHL 5, TOS 0 */
        0x00, 73,               /* total length */
        0x00, 0x00,             /* ID */
        0x40, 0x00,             /* DF */
        64, 17,                 /* TTL, UDP */
        0xf9, 0x6d,             /* header checksum */
        192, 0, 2, 53,
        127, 0, 0, 1,
        0, 53, 0, 53,           /* ports */
        0, 53,                  /* UDP length: 8 + 45 */
        0, 0,                   /* no checksum */
    };
    uint8_t out[DNSPRINT_PCAP_RECORD_PREFIX_LEN];

    (void)state;
    assert_int_equal(dnsprint_pcap_record(out, 0x01020304, 999999, src, dst,
                                          45),
                     DNSPRINT_PCAP_RECORD_PREFIX_LEN);
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(ip_sum(out + 16, 20), 0xffff);

    /* The longest message an IPv4 packet holds, from 0.0.0.0. */
    assert_int_equal(dnsprint_pcap_record(out, 0, 0, zero, dst,
                                          DNSPRINT_PCAP_DNS_MAX),
                     DNSPRINT_PCAP_RECORD_PREFIX_LEN);
    assert_int_equal(DNSPRINT_PCAP_DNS_MAX, 65507);
    assert_memory_equal(out + 8, ((const uint8_t[]){ 0xff, 0xff, 0, 0 }), 4);
    assert_memory_equal(out + 18, ((const uint8_t[]){ 0xff, 0xff }), 2);
    assert_memory_equal(out + 26, ((const uint8_t[]){ 0xbb, 0xec }), 2);
    assert_memory_equal(out + 40, ((const uint8_t[]){ 0xff, 0xeb }), 2);
    assert_int_equal(ip_sum(out + 16, 20), 0xffff);

    /* One more does not fit, and nothing is written. */
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(dnsprint_pcap_record(out, 0, 0, src, dst,
                                          DNSPRINT_PCAP_DNS_MAX + 1),
                     DNSPRINT_ETOOBIG);
    for (size_t i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], 0xaa);

    /* The checksum for many addresses and lengths. */
    for (unsigned i = 0; i < 4096; i++) {
        uint8_t a[4] = { (uint8_t)(i * 37), (uint8_t)(i >> 3), 255,
                         (uint8_t)i };

        assert_int_equal(dnsprint_pcap_record(out, i, i, a, dst, i * 15),
                         DNSPRINT_PCAP_RECORD_PREFIX_LEN);
        assert_int_equal(ip_sum(out + 16, 20), 0xffff);
    }
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(dnsprint_strerror(DNSPRINT_ESHORT), "truncated");
    assert_string_equal(dnsprint_strerror(DNSPRINT_EPTR),
                        "bad compression pointer");
    assert_string_equal(dnsprint_strerror(DNSPRINT_ETOOBIG),
                        "too long for an IPv4/UDP packet");
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
        cmocka_unit_test(test_rdata_cases),
        cmocka_unit_test(test_rdata_every_truncation),
        cmocka_unit_test(test_rdata_every_mutation),
        cmocka_unit_test(test_rdata_small_buffers),
        cmocka_unit_test(test_rdata_nsec_worst_case),
        cmocka_unit_test(test_rr),
        cmocka_unit_test(test_opcode_names),
        cmocka_unit_test(test_pcap_file_header),
        cmocka_unit_test(test_pcap_record),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
