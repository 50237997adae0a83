/* Unit tests for the bailiwick codec (src/codec/bailiwick.c).
 *
 * Three tables: bw_in_zone() on wire names (root zone, the zone itself,
 * below, siblings with a common suffix, case, invalid zones and names);
 * bw_check() on small messages; bw_scrub() on hand-made responses, one
 * comment per field (a referral with glue in and out of bailiwick, an
 * answer whose CNAME target's A is removed, an authority NS for another
 * zone, OPT and TSIG, pointers into removed records, and the malformed
 * cases). Every scrub row is checked against the invariants of
 * bailiwick.h by check_scrubbed(); the rows whose output matters to the
 * octet give it. Then every fixture is cut at every length and damaged at
 * every offset: BW_MALFORMED or a valid result, never a crash (each input
 * is in a heap block of exactly its length, for valgrind). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/bailiwick.h"
#include "codec/dnsprint.h"

/* A wire name from a C string: its NUL is the root label. */
#define W(s) (const uint8_t *)(s), sizeof(s)
#define BYTES(a) a, sizeof(a)
#define TTL(v) (v) >> 24 & 0xff, (v) >> 16 & 0xff, (v) >> 8 & 0xff, (v) & 0xff

/* ---------------------------------------------------------- bw_in_zone */

struct zone_case {
    const char *name;
    const uint8_t *n;
    size_t nlen;
    const uint8_t *z;
    size_t zlen;
    int rc;
};

static const struct zone_case zone_cases[] = {
    {"root in root", W(""), W(""), 1},
    {"anything in root", W("\3www\7example\3com"), W(""), 1},
    {"the zone itself", W("\7example\3com"), W("\7example\3com"), 1},
    {"one below", W("\3www\7example\3com"), W("\7example\3com"), 1},
    {"two below", W("\1a\3www\7example\3com"), W("\7example\3com"), 1},
    {"sibling with a common suffix", W("\10xexample\3com"),
     W("\7example\3com"), 0},
    {"below a sibling", W("\3www\10xexample\3com"), W("\7example\3com"), 0},
    {"the parent", W("\3com"), W("\7example\3com"), 0},
    {"root not in a zone", W(""), W("\3com"), 0},
    {"other TLD", W("\7example\3org"), W("\7example\3com"), 0},
    {"zone as a prefix", W("\7example\3com\4evil"), W("\7example\3com"), 0},
    {"upper-case name", W("\3WWW\7ExAmPlE\3COM"), W("\7example\3com"), 1},
    {"upper-case zone", W("\3www\7example\3com"), W("\7EXAMPLE\3Com"), 1},
    {"Latin-1 does not fold", W("\1\xc9\3com"), W("\1\xe9\3com"), 0},
    {"'@' and '`' do not fold", W("\1@\3com"), W("\1`\3com"), 0},
    {"a string suffix, not a label suffix", W("\2ab\3com"), W("\1b\3com"),
     0},
    /* ---- invalid zones: checked first ---- */
    {"empty zone", W("\3com"), (const uint8_t *)"", 0, BW_NO_ZONE},
    {"zone without root", W("\3com"), (const uint8_t *)"\3com", 4,
     BW_NO_ZONE},
    {"zone with a trailing byte", W("\3com"), (const uint8_t *)"\3com\0\0", 6,
     BW_NO_ZONE},
    {"zone is a pointer", W("\3com"), (const uint8_t *)"\xc0\x0c", 2,
     BW_NO_ZONE},
    {"zone label type 0x40", W("\3com"), W("\x41x"), BW_NO_ZONE},
    {"zone label past the end", W("\3com"), (const uint8_t *)"\5com", 4,
     BW_NO_ZONE},
    {"both invalid: the zone wins", (const uint8_t *)"\3com", 4,
     (const uint8_t *)"\3com", 4, BW_NO_ZONE},
    /* ---- invalid names ---- */
    {"empty name", (const uint8_t *)"", 0, W("\3com"), BW_MALFORMED},
    {"name without root", (const uint8_t *)"\3com", 4, W("\3com"),
     BW_MALFORMED},
    {"name with a pointer", (const uint8_t *)"\3www\xc0\x0c", 6, W("\3com"),
     BW_MALFORMED},
    {"name label type 0x80", W("\x81x\3com"), W("\3com"), BW_MALFORMED},
};

static void test_in_zone_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(zone_cases) / sizeof(zone_cases[0]); i++) {
        const struct zone_case *c = &zone_cases[i];
        /* Exact-size copies, so a read past either end is seen. */
        uint8_t *n = malloc(c->nlen ? c->nlen : 1);
        uint8_t *z = malloc(c->zlen ? c->zlen : 1);
        int rc;

        assert_non_null(n);
        assert_non_null(z);
        memcpy(n, c->n, c->nlen);
        memcpy(z, c->z, c->zlen);
        rc = bw_in_zone(n, c->nlen, z, c->zlen);
        if (rc != c->rc)
            fail_msg("%s: %d, expected %d", c->name, rc, c->rc);
        free(n);
        free(z);
    }
}

/* Fills buf with a name of labels of the given lengths ('a's), root
 * included; returns its length. */
static size_t make_name(uint8_t *buf, const unsigned *lens, size_t n)
{
    size_t p = 0;

    for (size_t i = 0; i < n; i++) {
        buf[p++] = (uint8_t)lens[i];
        memset(buf + p, 'a', lens[i]);
        p += lens[i];
    }
    buf[p++] = 0;
    return p;
}

static void test_name_limits(void **state)
{
    static const unsigned max[] = { 63, 63, 63, 61 };    /* 255 octets */
    static const unsigned over[] = { 63, 63, 63, 62 };   /* 256 octets */
    static const unsigned big[] = { 64 };                /* a 64 label */
    uint8_t name[300];
    size_t n;

    (void)state;
    n = make_name(name, max, 4);
    assert_int_equal(n, 255);
    assert_int_equal(bw_in_zone(name, n, W("")), 1);
    assert_int_equal(bw_in_zone(W("\3com"), name, n), 0);
    n = make_name(name, over, 4);
    assert_int_equal(n, 256);
    assert_int_equal(bw_in_zone(name, n, W("")), BW_MALFORMED);
    assert_int_equal(bw_in_zone(W(""), name, n), BW_NO_ZONE);
    n = make_name(name, big, 1);
    assert_int_equal(bw_in_zone(name, n, W("")), BW_MALFORMED);
}

/* ----------------------------------------------------------- fixtures */

/* A referral from a com server (query_zone com.) for www.example.com:
 * glue for ns1.example.com (in bailiwick) and ns2.example.net (not). The
 * input is compressed the way this codec compresses, so the output is
 * the input without the removed record. 123 bytes. */
static const uint8_t referral[] = {
    0x12, 0x34,             /* ID */
    0x80, 0x00,             /* QR, NOERROR */
    0x00, 0x01,             /* QDCOUNT 1 */
    0x00, 0x00,             /* ANCOUNT 0 */
    0x00, 0x02,             /* NSCOUNT 2 */
    0x00, 0x03,             /* ARCOUNT 3 */
    /* 12: www.example.com (example at 16, com at 24) */
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm',
    0,
    0x00, 0x01,             /* QTYPE A */
    0x00, 0x01,             /* QCLASS IN */
    /* 33: example.com NS ns1.example.com */
    0xc0, 0x10,             /* owner -> 16 example.com */
    0x00, 0x02,             /* NS */
    0x00, 0x01,             /* IN */
    TTL(172800),            /* TTL */
    0x00, 0x06,             /* RDLENGTH */
    3, 'n', 's', '1', 0xc0, 0x10, /* 45: ns1 -> 16 */
    /* 51: example.com NS ns2.example.net */
    0xc0, 0x10,             /* owner -> 16 */
    0x00, 0x02,             /* NS */
    0x00, 0x01,             /* IN */
    TTL(172800),            /* TTL */
    0x00, 0x11,             /* RDLENGTH 17 */
    3, 'n', 's', '2', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't',
    0,                      /* 63: ns2.example.net, uncompressed */
    /* 80: ns1.example.com A 192.0.2.1: in com, kept */
    0xc0, 0x2d,             /* owner -> 45 */
    0x00, 0x01,             /* A */
    0x00, 0x01,             /* IN */
    TTL(172800),            /* TTL */
    0x00, 0x04,             /* RDLENGTH */
    192, 0, 2, 1,           /* address */
    /* 96: ns2.example.net A 198.51.100.2: not in com, removed */
    0xc0, 0x3f,             /* owner -> 63 */
    0x00, 0x01,             /* A */
    0x00, 0x01,             /* IN */
    TTL(172800),            /* TTL */
    0x00, 0x04,             /* RDLENGTH */
    198, 51, 100, 2,        /* address */
    /* 112: OPT, kept though the root is not in com */
    0x00,                   /* owner: root */
    0x00, 0x29,             /* OPT */
    0x04, 0xd0,             /* UDP payload size 1232 */
    0x00, 0x00, 0x00, 0x00, /* extended RCODE, version, flags */
    0x00, 0x00,             /* RDLENGTH 0 */
};

/* The referral scrubbed for com.: bytes 96..112 gone, ARCOUNT 2. */
static const uint8_t referral_out[] = {
    0x12, 0x34, 0x80, 0x00, /* ID, flags */
    0x00, 0x01, 0x00, 0x00, /* QDCOUNT 1, ANCOUNT 0 */
    0x00, 0x02, 0x00, 0x02, /* NSCOUNT 2, ARCOUNT 2 */
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm',
    0, 0x00, 0x01, 0x00, 0x01,
    0xc0, 0x10, 0x00, 0x02, 0x00, 0x01, TTL(172800), 0x00, 0x06,
    3, 'n', 's', '1', 0xc0, 0x10,
    0xc0, 0x10, 0x00, 0x02, 0x00, 0x01, TTL(172800), 0x00, 0x11,
    3, 'n', 's', '2', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't',
    0,
    0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01, TTL(172800), 0x00, 0x04, 192, 0, 2, 1,
    0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* An answer from example.com's servers (query_zone example.com.) that
 * starts with a record for evil.other.net, which the later, kept records
 * point into: the CNAME target's labels and the MX exchange. 102 bytes. */
static const uint8_t poisoned[] = {
    0xbe, 0xef,             /* ID */
    0x81, 0x80,             /* QR RD RA, NOERROR */
    0x00, 0x01,             /* QDCOUNT 1 */
    0x00, 0x03,             /* ANCOUNT 3 */
    0x00, 0x00,             /* NSCOUNT 0 */
    0x00, 0x00,             /* ARCOUNT 0 */
    /* 12: www.example.com (example at 16) */
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm',
    0,
    0x00, 0x01,             /* QTYPE A */
    0x00, 0x01,             /* QCLASS IN */
    /* 33: evil.other.net A 203.0.113.66: removed */
    4, 'e', 'v', 'i', 'l', 5, 'o', 't', 'h', 'e', 'r', 3, 'n', 'e', 't', 0,
    0x00, 0x01,             /* A */
    0x00, 0x01,             /* IN */
    TTL(300),               /* TTL */
    0x00, 0x04,             /* RDLENGTH */
    203, 0, 113, 66,        /* address */
    /* 63: www.example.com CNAME cdn.other.net */
    0xc0, 0x0c,             /* owner -> 12 */
    0x00, 0x05,             /* CNAME */
    0x00, 0x01,             /* IN */
    TTL(300),               /* TTL */
    0x00, 0x06,             /* RDLENGTH */
    3, 'c', 'd', 'n', 0xc0, 0x26, /* cdn -> 38 other.net, removed bytes */
    /* 81: mail.example.com MX 10 evil.other.net */
    4, 'm', 'a', 'i', 'l', 0xc0, 0x10, /* owner: mail -> 16 */
    0x00, 0x0f,             /* MX */
    0x00, 0x01,             /* IN */
    TTL(300),               /* TTL */
    0x00, 0x04,             /* RDLENGTH */
    0x00, 0x0a,             /* preference 10 */
    0xc0, 0x21,             /* exchange -> 33 evil.other.net, removed */
};

/* The poisoned answer scrubbed: the removed names are written again
 * where first needed, and the MX points at the CNAME's copy. */
static const uint8_t poisoned_out[] = {
    0xbe, 0xef, 0x81, 0x80, /* ID, flags */
    0x00, 0x01, 0x00, 0x02, /* QDCOUNT 1, ANCOUNT 2 */
    0x00, 0x00, 0x00, 0x00, /* NSCOUNT 0, ARCOUNT 0 */
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm',
    0, 0x00, 0x01, 0x00, 0x01,
    /* 33: CNAME, RDATA at 45: cdn at 45, other at 49, net at 55 */
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, TTL(300), 0x00, 0x0f,
    3, 'c', 'd', 'n', 5, 'o', 't', 'h', 'e', 'r', 3, 'n', 'e', 't', 0,
    /* 60: MX */
    4, 'm', 'a', 'i', 'l', 0xc0, 0x10, 0x00, 0x0f, 0x00, 0x01, TTL(300),
    0x00, 0x09, 0x00, 0x0a, 4, 'e', 'v', 'i', 'l', 0xc0, 0x31,
};

/* An authoritative SOA answer from example.com with a glue record for
 * ns.net and a TSIG, which stays last. 149 bytes. */
static const uint8_t signed_soa[] = {
    0x00, 0x01,             /* ID */
    0x84, 0x00,             /* QR AA, NOERROR */
    0x00, 0x01,             /* QDCOUNT 1 */
    0x00, 0x01,             /* ANCOUNT 1 */
    0x00, 0x00,             /* NSCOUNT 0 */
    0x00, 0x02,             /* ARCOUNT 2 */
    /* 12: example.com */
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
    0x00, 0x06,             /* QTYPE SOA */
    0x00, 0x01,             /* QCLASS IN */
    /* 29: example.com SOA */
    0xc0, 0x0c,             /* owner -> 12 */
    0x00, 0x06,             /* SOA */
    0x00, 0x01,             /* IN */
    TTL(3600),              /* TTL */
    0x00, 0x26,             /* RDLENGTH 38 */
    2, 'n', 's', 0xc0, 0x0c, /* mname ns.example.com */
    10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r', 0xc0, 0x0c,
                            /* rname hostmaster.example.com */
    TTL(2024010101),        /* serial */
    TTL(7200),              /* refresh */
    TTL(900),               /* retry */
    TTL(1209600),           /* expire */
    TTL(300),               /* minimum */
    /* 79: ns.net A 192.0.2.53: removed */
    2, 'n', 's', 3, 'n', 'e', 't', 0,
    0x00, 0x01,             /* A */
    0x00, 0x01,             /* IN */
    TTL(3600),              /* TTL */
    0x00, 0x04,             /* RDLENGTH */
    192, 0, 2, 53,          /* address */
    /* 101: key. TSIG: kept */
    3, 'k', 'e', 'y', 0,    /* owner key. */
    0x00, 0xfa,             /* TSIG */
    0x00, 0xff,             /* ANY */
    TTL(0),                 /* TTL */
    0x00, 0x21,             /* RDLENGTH 33 */
    11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0,
                            /* algorithm, never compressed */
    0x00, 0x00, 0x65, 0x92, 0x00, 0x00, /* time signed */
    0x01, 0x2c,             /* fudge 300 */
    0x00, 0x04,             /* MAC size */
    0xde, 0xad, 0xbe, 0xef, /* MAC */
    0x00, 0x01,             /* original ID */
    0x00, 0x00,             /* error */
    0x00, 0x00,             /* other length */
};

/* An answer from example.com with an authority section naming another
 * zone's servers and their glue (both removed), and glue of its own
 * (kept). 139 bytes. */
static const uint8_t foreign_ns[] = {
    0x00, 0x07,             /* ID */
    0x84, 0x00,             /* QR AA */
    0x00, 0x01,             /* QDCOUNT 1 */
    0x00, 0x01,             /* ANCOUNT 1 */
    0x00, 0x02,             /* NSCOUNT 2 */
    0x00, 0x02,             /* ARCOUNT 2 */
    /* 12: www.example.com (example at 16, com at 24) */
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm',
    0,
    0x00, 0x01,             /* QTYPE A */
    0x00, 0x01,             /* QCLASS IN */
    /* 33: www.example.com A 192.0.2.80 */
    0xc0, 0x0c,             /* owner -> 12 */
    0x00, 0x01, 0x00, 0x01, /* A IN */
    TTL(60),                /* TTL */
    0x00, 0x04,             /* RDLENGTH */
    192, 0, 2, 80,          /* address */
    /* 49: example.com NS ns1.example.com: kept */
    0xc0, 0x10,             /* owner -> 16 */
    0x00, 0x02, 0x00, 0x01, /* NS IN */
    TTL(3600),              /* TTL */
    0x00, 0x06,             /* RDLENGTH */
    3, 'n', 's', '1', 0xc0, 0x10, /* 61: ns1 -> 16 */
    /* 67: example.org NS ns.example.org: removed */
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0,
                            /* owner, org at 75 */
    0x00, 0x02, 0x00, 0x01, /* NS IN */
    TTL(3600),              /* TTL */
    0x00, 0x05,             /* RDLENGTH */
    2, 'n', 's', 0xc0, 0x43, /* 90: ns -> 67 example.org */
    /* 95: ns.example.org A 203.0.113.1: removed */
    0xc0, 0x5a,             /* owner -> 90 */
    0x00, 0x01, 0x00, 0x01, /* A IN */
    TTL(3600),              /* TTL */
    0x00, 0x04,             /* RDLENGTH */
    203, 0, 113, 1,         /* address */
    /* 111: ns1.example.com AAAA 2001:db8::53: kept */
    0xc0, 0x3d,             /* owner -> 61 */
    0x00, 0x1c, 0x00, 0x01, /* AAAA IN */
    TTL(3600),              /* TTL */
    0x00, 0x10,             /* RDLENGTH */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
};

/* An NXDOMAIN from the root (query_zone .), no compression at all: the
 * output is compressed, everything is kept. 80 bytes. */
static const uint8_t root_nx[] = {
    0xab, 0xcd,             /* ID */
    0x84, 0x03,             /* QR AA, NXDOMAIN */
    0x00, 0x01,             /* QDCOUNT 1 */
    0x00, 0x00,             /* ANCOUNT 0 */
    0x00, 0x01,             /* NSCOUNT 1 */
    0x00, 0x00,             /* ARCOUNT 0 */
    4, 'n', 'o', 'p', 'e', 0, /* 12: nope. */
    0x00, 0x01, 0x00, 0x01, /* A IN */
    /* 22: . SOA a.net nstld.verisign.net */
    0,                      /* owner: root */
    0x00, 0x06, 0x00, 0x01, /* SOA IN */
    TTL(86400),             /* TTL */
    0x00, 0x2f,             /* RDLENGTH 47 */
    1, 'a', 3, 'n', 'e', 't', 0, /* mname a.net */
    5, 'n', 's', 't', 'l', 'd', 8, 'v', 'e', 'r', 'i', 's', 'i', 'g', 'n',
    3, 'n', 'e', 't', 0,    /* rname nstld.verisign.net */
    TTL(2024010100), TTL(1800), TTL(900), TTL(604800), TTL(86400),
};

/* No question: a bare NS answer out of bailiwick. 32 bytes. */
static const uint8_t no_question[] = {
    0x00, 0x09,             /* ID */
    0x80, 0x00,             /* QR */
    0x00, 0x00,             /* QDCOUNT 0 */
    0x00, 0x01,             /* ANCOUNT 1 */
    0x00, 0x00,             /* NSCOUNT 0 */
    0x00, 0x00,             /* ARCOUNT 0 */
    3, 'o', 'r', 'g', 0,    /* 12: org */
    0x00, 0x02, 0x00, 0x01, /* NS IN */
    TTL(86400),             /* TTL */
    0x00, 0x05,             /* RDLENGTH */
    2, 'a', '0', 0xc0, 0x0c, /* a0.org: a0 -> 12 */
};

/* ---- the malformed, each a header and a little after it ---- */
#define HDR(qd, an, ns, ar) 0x00, 0x01, 0x80, 0x00, 0, qd, 0, an, 0, ns, 0, ar
#define Q_COM 3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01 /* at 12..21 */
#define RR_FIXED(type, rdlen) 0x00, type, 0x00, 0x01, TTL(60), 0x00, rdlen

static const uint8_t m_short[] = { HDR(0, 0, 0, 0) };
static const uint8_t m_qname_cut[] = { HDR(1, 0, 0, 0), 3, 'c', 'o' };
static const uint8_t m_qtype_cut[] = { HDR(1, 0, 0, 0), 3, 'c', 'o', 'm', 0,
                                       0x00, 0x01, 0x00 };
static const uint8_t m_count_lies[] = { HDR(1, 2, 0, 0), Q_COM,
                                        0xc0, 0x0c, RR_FIXED(1, 4), 1, 2, 3,
                                        4 };
static const uint8_t m_fixed_cut[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0c,
                                       0x00, 0x01, 0x00, 0x01, 0, 0 };
static const uint8_t m_rdata_cut[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0c,
                                       RR_FIXED(1, 5), 1, 2, 3, 4 };
static const uint8_t m_trailing[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0c,
                                      RR_FIXED(1, 4), 1, 2, 3, 4, 0 };
static const uint8_t m_ptr_forward[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x18,
                                         RR_FIXED(1, 4), 1, 2, 3, 4 };
static const uint8_t m_ptr_self[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x15,
                                      RR_FIXED(1, 4), 1, 2, 3, 4 };
static const uint8_t m_ptr_header[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0b,
                                        RR_FIXED(1, 4), 1, 2, 3, 4 };
/* 12: a, then a pointer back to 12: a loop of backward pointers. */
static const uint8_t m_ptr_loop[] = { HDR(1, 0, 0, 0), 1, 'a', 0xc0, 0x0c,
                                      0x00, 0x01, 0x00, 0x01 };
static const uint8_t m_ptr_cut[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0 };
static const uint8_t m_label_40[] = { HDR(1, 0, 0, 0), 0x43, 'c', 'o', 'm', 0,
                                      0x00, 0x01, 0x00, 0x01 };
static const uint8_t m_label_80[] = { HDR(1, 1, 0, 0), Q_COM, 0x81, 'x', 0,
                                      RR_FIXED(1, 4), 1, 2, 3, 4 };
static const uint8_t m_ns_extra[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0c,
                                      RR_FIXED(2, 3), 0xc0, 0x0c, 0 };
static const uint8_t m_ns_past[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0c,
                                     RR_FIXED(2, 2), 1, 'a', 0 };
static const uint8_t m_mx_cut[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0c,
                                    RR_FIXED(15, 1), 0 };
static const uint8_t m_soa_cut[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0c,
                                     RR_FIXED(6, 6), 0xc0, 0x0c, 0xc0, 0x0c,
                                     0, 0 };
static const uint8_t m_rdata_ptr_bad[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0,
                                           0x0c, RR_FIXED(5, 2), 0xc0, 0x30 };
/* Not malformed: an empty NS is RFC 2136's "any", and an opaque type may
 * hold anything, even what looks like a forward pointer. */
static const uint8_t m_ns_empty[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0c,
                                      RR_FIXED(2, 0) };
static const uint8_t m_opaque[] = { HDR(1, 1, 0, 0), Q_COM, 0xc0, 0x0c,
                                    RR_FIXED(16, 3), 2, 0xc0, 0xff };

/* ------------------------------------------------------------ bw_scrub */

struct scrub_case {
    const char *name;
    const uint8_t *msg;
    size_t len;
    const uint8_t *zone;
    size_t zlen;
    int rc;
    size_t removed[3];
    size_t kept;
    const uint8_t *out; /* the exact output, or NULL */
    size_t out_len;
};

#define COM W("\3com")
#define EXAMPLE W("\7example\3com")
#define ROOT W("")
#define NO_OUT NULL, 0

static const struct scrub_case scrub_cases[] = {
    {"referral: glue out removed, in kept, OPT kept", BYTES(referral), COM,
     BW_OK, {0, 0, 1}, 4, BYTES(referral_out)},
    {"referral in the root: all kept, same octets", BYTES(referral), ROOT,
     BW_OK, {0, 0, 0}, 5, BYTES(referral)},
    {"referral seen from example.net: its glue and OPT kept",
     BYTES(referral), W("\7example\3net"), BW_OK, {0, 2, 1}, 2, NO_OUT},
    {"pointers into a removed record", BYTES(poisoned), EXAMPLE, BW_OK,
     {1, 0, 0}, 2, BYTES(poisoned_out)},
    {"the same for EXAMPLE.COM", BYTES(poisoned), W("\7EXAMPLE\3COM"), BW_OK,
     {1, 0, 0}, 2, BYTES(poisoned_out)},
    {"TSIG kept last, glue out removed", BYTES(signed_soa), EXAMPLE, BW_OK,
     {0, 0, 1}, 2, NO_OUT},
    {"authority NS for another zone", BYTES(foreign_ns), EXAMPLE, BW_OK,
     {0, 1, 1}, 3, NO_OUT},
    {"sibling zone removes everything", BYTES(foreign_ns),
     W("\10xexample\3com"), BW_OK, {1, 2, 2}, 0, NO_OUT},
    {"uncompressed input, root zone", BYTES(root_nx), ROOT, BW_OK, {0, 0, 0},
     1, NO_OUT},
    {"root SOA not in com", BYTES(root_nx), COM, BW_OK, {0, 1, 0}, 0,
     NO_OUT},
    {"empty NS is kept as it is", BYTES(m_ns_empty), COM, BW_OK, {0, 0, 0},
     1, BYTES(m_ns_empty)},
    {"opaque RDATA copied", BYTES(m_opaque), COM, BW_OK, {0, 0, 0}, 1,
     BYTES(m_opaque)},
    /* ---- errors ---- */
    {"zone invalid, message fine", BYTES(referral), (const uint8_t *)"\3com",
     4, BW_NO_ZONE, {0, 0, 0}, 0, NO_OUT},
    {"zone invalid, message short", BYTES(m_short), (const uint8_t *)"", 0,
     BW_NO_ZONE, {0, 0, 0}, 0, NO_OUT},
    {"shorter than a header", m_short, 11, COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"question name cut", BYTES(m_qname_cut), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"question type cut", BYTES(m_qtype_cut), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"ANCOUNT beyond the records", BYTES(m_count_lies), COM, BW_MALFORMED,
     {0}, 0, NO_OUT},
    {"RR fixed fields cut", BYTES(m_fixed_cut), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"RDATA past the end", BYTES(m_rdata_cut), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"a byte after the last record", BYTES(m_trailing), COM, BW_MALFORMED,
     {0}, 0, NO_OUT},
    {"pointer forward", BYTES(m_ptr_forward), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"pointer to itself", BYTES(m_ptr_self), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"pointer into the header", BYTES(m_ptr_header), COM, BW_MALFORMED, {0},
     0, NO_OUT},
    {"pointer loop", BYTES(m_ptr_loop), COM, BW_MALFORMED, {0}, 0, NO_OUT},
    {"pointer cut", BYTES(m_ptr_cut), COM, BW_MALFORMED, {0}, 0, NO_OUT},
    {"label type 0x40", BYTES(m_label_40), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"label type 0x80", BYTES(m_label_80), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"NS RDATA with a byte left over", BYTES(m_ns_extra), COM, BW_MALFORMED,
     {0}, 0, NO_OUT},
    {"NS name past its RDATA", BYTES(m_ns_past), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"MX cut", BYTES(m_mx_cut), COM, BW_MALFORMED, {0}, 0, NO_OUT},
    {"SOA without its numbers", BYTES(m_soa_cut), COM, BW_MALFORMED, {0}, 0,
     NO_OUT},
    {"CNAME pointer forward", BYTES(m_rdata_ptr_bad), COM, BW_MALFORMED, {0},
     0, NO_OUT},
};

/* Reads the whole message; the number of records (questions included),
 * or -1. */
static int count_records(const uint8_t *msg, size_t len)
{
    struct bw_reader r;
    struct bw_rr rr;
    int n = 0, rc;

    if (bw_reader_init(&r, msg, len) < 0)
        return -1;
    while ((rc = bw_reader_next(&r, &rr)) == 1)
        n++;
    return rc == 0 ? n : -1;
}

static int rr_equal(const struct bw_rr *a, const struct bw_rr *b)
{
    size_t na, nb;
    const uint8_t *ra = bw_rr_rdata(a, &na), *rb = bw_rr_rdata(b, &nb);

    return a->section == b->section && a->type == b->type &&
           a->cls == b->cls && a->ttl == b->ttl &&
           a->owner_len == b->owner_len &&
           memcmp(a->owner, b->owner, a->owner_len) == 0 && na == nb &&
           (na == 0 || memcmp(ra, rb, na) == 0);
}

/* The contract of bw_scrub() on a BW_OK result: the output walks whole
 * (here and for the collector), keeps the input's questions, OPT, TSIG
 * and records in bailiwick, equal and in order, and counts them. */
static void check_scrubbed(const char *name, const uint8_t *msg, size_t len,
                           const uint8_t *zone, size_t zlen,
                           const uint8_t *out, size_t olen,
                           const struct bw_scrub *st)
{
    struct bw_reader ri, ro;
    struct bw_rr a, b;
    struct dnsprint_msg m;
    size_t removed[3] = { 0, 0, 0 }, kept = 0;
    unsigned count[4] = { 0, 0, 0, 0 };

    if (dnsprint_walk(out, olen, &m) != DNSPRINT_OK || m.end != olen)
        fail_msg("%s: the output does not walk", name);
    assert_int_equal(bw_reader_init(&ri, msg, len), BW_OK);
    assert_int_equal(bw_reader_init(&ro, out, olen), BW_OK);
    assert_int_equal(ro.id, ri.id);
    assert_int_equal(ro.flags, ri.flags);
    while (bw_reader_next(&ri, &a) == 1) {
        if (a.section != BW_QUESTION && a.type != BW_TYPE_OPT &&
            a.type != BW_TYPE_TSIG &&
            bw_in_zone(a.owner, a.owner_len, zone, zlen) == 0) {
            removed[a.section - 1]++;
            continue;
        }
        if (bw_reader_next(&ro, &b) != 1 || !rr_equal(&a, &b))
            fail_msg("%s: kept record %u differs", name, count[0] +
                     (unsigned)kept);
        count[b.section]++;
        kept += b.section != BW_QUESTION;
    }
    assert_int_equal(bw_reader_next(&ri, &a), 0);
    assert_int_equal(bw_reader_next(&ro, &b), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ro.count[i], count[i]);
    assert_int_equal(st->kept, kept);
    for (int i = 0; i < 3; i++)
        assert_int_equal(st->removed[i], removed[i]);
}

static uint8_t out[BW_MSG_MAX];

static void run_scrub_case(const struct scrub_case *c)
{
    uint8_t *msg = malloc(c->len ? c->len : 1);
    struct bw_scrub st;
    size_t olen = 12345;
    int rc;

    assert_non_null(msg);
    memcpy(msg, c->msg, c->len);
    rc = bw_scrub(msg, c->len, c->zone, c->zlen, out, sizeof(out), &olen,
                  &st);
    if (rc != c->rc)
        fail_msg("%s: %s, expected %s", c->name, bw_result_name(rc),
                 bw_result_name(c->rc));
    if (rc != BW_OK) {
        assert_int_equal(olen, 0);
        assert_int_equal(st.kept, 0);
        free(msg);
        return;
    }
    for (int i = 0; i < 3; i++)
        if (st.removed[i] != c->removed[i])
            fail_msg("%s: removed[%d] %zu, expected %zu", c->name, i,
                     st.removed[i], c->removed[i]);
    if (st.kept != c->kept)
        fail_msg("%s: kept %zu, expected %zu", c->name, st.kept, c->kept);
    check_scrubbed(c->name, msg, c->len, c->zone, c->zlen, out, olen, &st);
    if (c->out && (olen != c->out_len || memcmp(out, c->out, olen) != 0))
        fail_msg("%s: output differs (%zu bytes, expected %zu)", c->name,
                 olen, c->out_len);
    free(msg);
}

static void test_scrub_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(scrub_cases) / sizeof(scrub_cases[0]); i++)
        run_scrub_case(&scrub_cases[i]);
}

#define N_SCRUB (sizeof(scrub_cases) / sizeof(scrub_cases[0]))

/* A result on damaged input: malformed, or a message that keeps the
 * contract. */
static void check_any(const char *name, const uint8_t *msg, size_t len,
                      const uint8_t *zone, size_t zlen)
{
    uint8_t *copy = malloc(len ? len : 1);
    struct bw_scrub st;
    size_t olen;
    int rc;

    assert_non_null(copy);
    memcpy(copy, msg, len);
    rc = bw_scrub(copy, len, zone, zlen, out, sizeof(out), &olen, &st);
    if (rc == BW_OK)
        check_scrubbed(name, copy, len, zone, zlen, out, olen, &st);
    else if (rc != BW_MALFORMED)
        fail_msg("%s: %s", name, bw_result_name(rc));
    assert_int_equal(rc == BW_OK, count_records(copy, len) >= 0);
    rc = bw_check(copy, len, zone, zlen);
    assert_true(rc == BW_OK || rc == BW_OUT || rc == BW_MALFORMED ||
                rc == BW_NO_QUESTION);
    free(copy);
}

static void test_truncated(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SCRUB; i++) {
        const struct scrub_case *c = &scrub_cases[i];

        if (c->rc != BW_OK)
            continue;
        for (size_t n = 0; n < c->len; n++) {
            uint8_t *msg = malloc(n ? n : 1);
            struct bw_scrub st;
            size_t olen;

            assert_non_null(msg);
            memcpy(msg, c->msg, n);
            /* Every count is met only by the whole message. */
            if (bw_scrub(msg, n, c->zone, c->zlen, out, sizeof(out), &olen,
                         &st) != BW_MALFORMED)
                fail_msg("%s: cut at %zu not malformed", c->name, n);
            free(msg);
            check_any(c->name, c->msg, n, c->zone, c->zlen);
        }
    }
}

static void test_damaged(void **state)
{
    static const uint8_t values[] = { 0x00, 0x01, 0x3f, 0x40, 0xc0, 0xff };
    uint8_t buf[256];

    (void)state;
    for (size_t i = 0; i < N_SCRUB; i++) {
        const struct scrub_case *c = &scrub_cases[i];

        if (c->rc != BW_OK)
            continue;
        assert_true(c->len <= sizeof(buf));
        for (size_t p = 0; p < c->len; p++) {
            for (size_t v = 0; v < sizeof(values); v++) {
                memcpy(buf, c->msg, c->len);
                buf[p] = values[v];
                check_any(c->name, buf, c->len, c->zone, c->zlen);
            }
        }
    }
}

/* A cap below the output is BW_TOO_BIG, exactly the output is fine. */
static void test_cap(void **state)
{
    uint8_t small[sizeof(referral_out)];
    struct bw_scrub st;
    size_t olen;

    (void)state;
    assert_int_equal(bw_scrub(BYTES(referral), COM, small, sizeof(small),
                              &olen, &st), BW_OK);
    assert_memory_equal(small, referral_out, sizeof(referral_out));
    assert_int_equal(bw_scrub(BYTES(referral), COM, small, sizeof(small) - 1,
                              &olen, &st), BW_TOO_BIG);
    assert_int_equal(olen, 0);
    assert_int_equal(st.removed[2], 0);
    assert_int_equal(bw_scrub(BYTES(referral), COM, small, 0, &olen, NULL),
                     BW_TOO_BIG);
    /* Malformed wins over too big, whatever the buffer. */
    assert_int_equal(bw_scrub(BYTES(m_trailing), COM, small, 0, &olen, NULL),
                     BW_MALFORMED);
}

/* Appends a record with the given owner octets and type, class IN, no
 * RDATA; returns the new length. */
static size_t add_rr(uint8_t *m, size_t p, const uint8_t *owner, size_t n,
                     uint16_t type, const uint8_t *rdata, size_t rdlen)
{
    memcpy(m + p, owner, n);
    p += n;
    m[p++] = (uint8_t)(type >> 8);
    m[p++] = (uint8_t)type;
    m[p++] = 0;
    m[p++] = 1;
    memset(m + p, 0, 4);
    p += 4;
    m[p++] = (uint8_t)(rdlen >> 8);
    m[p++] = (uint8_t)rdlen;
    memcpy(m + p, rdata, rdlen);
    return p + rdlen;
}

static void set_counts(uint8_t *m, unsigned qd, unsigned an)
{
    memset(m, 0, BW_HEADER_LEN);
    m[2] = 0x80;
    m[4] = (uint8_t)(qd >> 8);
    m[5] = (uint8_t)qd;
    m[6] = (uint8_t)(an >> 8);
    m[7] = (uint8_t)an;
}

/* k pointers in a TXT RDATA, each to the one before, the first to the
 * question; an owner pointing at the last takes k + 1 hops. */
static size_t hop_chain(uint8_t *m, unsigned k)
{
    uint8_t rd[2 * 130], owner[2];
    size_t p, rdstart;

    set_counts(m, 1, 2);
    memcpy(m + 12, "\1a\0\0\1\0\1", 7);
    p = 19;
    rdstart = p + 1 + 10; /* after the root owner and the fixed fields */
    for (unsigned i = 0; i < k; i++) {
        size_t target = i == 0 ? 12 : rdstart + 2 * (i - 1);

        rd[2 * i] = (uint8_t)(0xc0 | target >> 8);
        rd[2 * i + 1] = (uint8_t)target;
    }
    p = add_rr(m, p, (const uint8_t *)"", 1, 16, rd, 2 * k);
    owner[0] = (uint8_t)(0xc0 | (rdstart + 2 * (k - 1)) >> 8);
    owner[1] = (uint8_t)(rdstart + 2 * (k - 1));
    return add_rr(m, p, owner, 2, 1, (const uint8_t *)"\1\2\3\4", 4);
}

static void test_hops_and_length(void **state)
{
    static uint8_t m[2048];
    size_t len, olen, p;
    struct bw_scrub st;
    uint8_t lab[70];

    (void)state;
    len = hop_chain(m, 126); /* 127 hops */
    assert_int_equal(bw_scrub(m, len, ROOT, out, sizeof(out), &olen, &st),
                     BW_OK);
    check_scrubbed("127 hops", m, len, ROOT, out, olen, &st);
    len = hop_chain(m, 127); /* 128 hops */
    assert_int_equal(bw_scrub(m, len, ROOT, out, sizeof(out), &olen, &st),
                     BW_MALFORMED);

    /* Names of 63-octet labels chained by pointers: 65, 129, 193, then
     * 257 octets decompressed, one too many. */
    set_counts(m, 1, 3);
    m[12] = 63;
    memset(m + 13, 'q', 63);
    m[76] = 0;
    memcpy(m + 77, "\0\1\0\1", 4);
    p = 81;
    /* Each record: owner = label + pointer to the previous owner. */
    {
        size_t prev = 12;

        for (int i = 0; i < 3; i++) {
            size_t here = p;

            lab[0] = 63;
            memset(lab + 1, 'r' + i, 63);
            lab[64] = (uint8_t)(0xc0 | prev >> 8);
            lab[65] = (uint8_t)prev;
            p = add_rr(m, p, lab, 66, 1, (const uint8_t *)"\1\2\3\4", 4);
            prev = here;
        }
    }
    assert_int_equal(bw_scrub(m, p, ROOT, out, sizeof(out), &olen, &st),
                     BW_MALFORMED);
    set_counts(m, 1, 2); /* without the third: 193 octets */
    p -= 66 + 10 + 4;
    assert_int_equal(bw_scrub(m, p, ROOT, out, sizeof(out), &olen, &st),
                     BW_OK);
    check_scrubbed("193-octet owner", m, p, ROOT, out, olen, &st);
}

/* Past COMP_ENTRIES remembered labels, new names are written whole: the
 * output stays valid, but may then outgrow BW_MSG_MAX though the input
 * is small (every owner a pointer to one long name). */
static void test_table_full(void **state)
{
    static uint8_t m[16384];
    uint8_t name[256];
    size_t p = BW_HEADER_LEN, n, olen, last = 0;
    struct bw_scrub st;
    unsigned records = 0;

    (void)state;
    for (unsigned i = 0; i < 6; i++) {
        /* a.a....a.tI: 120 labels "a" below a TLD of its own */
        n = 0;
        for (int j = 0; j < 120; j++) {
            name[n++] = 1;
            name[n++] = 'a';
        }
        name[n++] = 2;
        name[n++] = 't';
        name[n++] = (uint8_t)('0' + i);
        name[n++] = 0;
        last = p;
        p = add_rr(m, p, name, n, 1, (const uint8_t *)"\1\2\3\4", 4);
        records++;
    }
    for (unsigned k = 0; k < 20; k++, records++) {
        uint8_t ptr[2] = { (uint8_t)(0xc0 | last >> 8), (uint8_t)last };

        p = add_rr(m, p, ptr, 2, 1, (const uint8_t *)"\1\2\3\4", 4);
    }
    set_counts(m, 0, records);
    assert_int_equal(bw_scrub(m, p, ROOT, out, sizeof(out), &olen, &st),
                     BW_OK);
    check_scrubbed("table full", m, p, ROOT, out, olen, &st);
    assert_true(olen > 20 * n);

    for (; records < 300 && p + 16 < sizeof(m); records++) {
        uint8_t ptr[2] = { (uint8_t)(0xc0 | last >> 8), (uint8_t)last };

        p = add_rr(m, p, ptr, 2, 1, (const uint8_t *)"\1\2\3\4", 4);
    }
    set_counts(m, 0, records);
    assert_true(p < 8192);
    assert_int_equal(bw_scrub(m, p, ROOT, out, sizeof(out), &olen, &st),
                     BW_TOO_BIG);
    assert_int_equal(count_records(m, p), (int)records);
}

static void test_too_long_input(void **state)
{
    uint8_t *m = calloc(BW_MSG_MAX + 1, 1);
    size_t olen;

    (void)state;
    assert_non_null(m);
    assert_int_equal(bw_scrub(m, BW_MSG_MAX + 1, ROOT, out, sizeof(out),
                              &olen, NULL), BW_MALFORMED);
    assert_int_equal(bw_check(m, BW_MSG_MAX + 1, ROOT), BW_MALFORMED);
    free(m);
}

/* ------------------------------------------------------------ bw_check */

struct check_case {
    const char *name;
    const uint8_t *msg;
    size_t len;
    const uint8_t *zone;
    size_t zlen;
    int rc;
};

static const struct check_case check_cases[] = {
    {"question in com", BYTES(referral), COM, BW_OK},
    {"question is the zone", BYTES(signed_soa), EXAMPLE, BW_OK},
    {"question in root", BYTES(root_nx), ROOT, BW_OK},
    {"question out", BYTES(referral), W("\3net"), BW_OUT},
    {"question in a sibling", BYTES(referral), W("\10xexample\3com"),
     BW_OUT},
    {"question case-folded", BYTES(poisoned), W("\3WWW\7Example\3CoM"),
     BW_OK},
    {"below the question is out", BYTES(referral),
     W("\1a\3www\7example\3com"), BW_OUT},
    {"no question", BYTES(no_question), ROOT, BW_NO_QUESTION},
    {"header only", BYTES(m_short), ROOT, BW_NO_QUESTION},
    {"shorter than a header", m_short, 11, ROOT, BW_MALFORMED},
    {"question name cut", BYTES(m_qname_cut), ROOT, BW_MALFORMED},
    {"question type cut", BYTES(m_qtype_cut), ROOT, BW_MALFORMED},
    {"question pointer loop", BYTES(m_ptr_loop), ROOT, BW_MALFORMED},
    {"question label type 0x40", BYTES(m_label_40), ROOT, BW_MALFORMED},
    /* Only the question is read. */
    {"bad record after a good question", BYTES(m_trailing), COM, BW_OK},
    {"zone invalid", BYTES(referral), (const uint8_t *)"\3com", 4,
     BW_NO_ZONE},
};

static void test_check_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]);
         i++) {
        const struct check_case *c = &check_cases[i];
        uint8_t *msg = malloc(c->len);
        int rc;

        assert_non_null(msg);
        memcpy(msg, c->msg, c->len);
        rc = bw_check(msg, c->len, c->zone, c->zlen);
        if (rc != c->rc)
            fail_msg("%s: %s, expected %s", c->name, bw_result_name(rc),
                     bw_result_name(c->rc));
        free(msg);
    }
}

static void test_qname(void **state)
{
    uint8_t name[BW_NAME_MAX];
    size_t n = 0;

    (void)state;
    assert_int_equal(bw_qname(BYTES(poisoned), name, &n), BW_OK);
    assert_int_equal(n, 17);
    assert_memory_equal(name, "\3www\7example\3com", 17);
    assert_int_equal(bw_qname(BYTES(root_nx), name, &n), BW_OK);
    assert_int_equal(n, 6);
    assert_int_equal(bw_qname(BYTES(no_question), name, &n), BW_NO_QUESTION);
    assert_int_equal(bw_qname(BYTES(m_qtype_cut), name, &n), BW_MALFORMED);
}

/* The reader: sections in order, the RDATA of name types expanded. */
static void test_reader(void **state)
{
    struct bw_reader r;
    struct bw_rr rr;
    static const unsigned sections[] = { 0, 1, 1, 1 };
    const uint8_t *rd;
    size_t n;

    (void)state;
    assert_int_equal(bw_reader_init(&r, BYTES(poisoned)), BW_OK);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(bw_reader_next(&r, &rr), 1);
        assert_int_equal(rr.section, sections[i]);
    }
    /* The last one: the MX, exchange expanded. */
    assert_int_equal(rr.type, 15);
    assert_int_equal(rr.ttl, 300);
    assert_int_equal(rr.raw_len, 4);
    rd = bw_rr_rdata(&rr, &n);
    assert_int_equal(n, 2 + 16);
    assert_memory_equal(rd, "\0\x0a\4evil\5other\3net", 18);
    assert_int_equal(bw_reader_next(&r, &rr), 0);
    assert_int_equal(bw_reader_next(&r, &rr), 0);
    /* A failure is sticky. */
    assert_int_equal(bw_reader_init(&r, BYTES(m_trailing)), BW_OK);
    assert_int_equal(bw_reader_next(&r, &rr), 1);
    assert_int_equal(bw_reader_next(&r, &rr), 1);
    assert_int_equal(bw_reader_next(&r, &rr), BW_MALFORMED);
    assert_int_equal(bw_reader_next(&r, &rr), BW_MALFORMED);
    assert_int_equal(bw_reader_init(&r, m_short, 11), BW_MALFORMED);
    assert_int_equal(bw_reader_next(&r, &rr), BW_MALFORMED);
}

static void test_result_names(void **state)
{
    static const int codes[] = { BW_OK, BW_OUT, BW_MALFORMED, BW_TOO_BIG,
                                 BW_NO_ZONE, BW_NO_QUESTION };

    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_string_not_equal(bw_result_name(codes[i]), "unknown");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(bw_result_name(codes[i]),
                                    bw_result_name(codes[j]));
    }
    assert_string_equal(bw_result_name(1), "unknown");
    assert_string_equal(bw_result_name(-6), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_zone_table),
        cmocka_unit_test(test_name_limits),
        cmocka_unit_test(test_check_table),
        cmocka_unit_test(test_qname),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_scrub_table),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_hops_and_length),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_too_long_input),
        cmocka_unit_test(test_result_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
