/* Unit tests for the link/IP/UDP decoder (src/codec/packet.c).
 *
 * Fixtures are built here rather than stored: one builder makes an IPv4 or
 * IPv6 UDP packet carrying a DNS response, with checksums computed by a
 * deliberately naive byte-at-a-time reference (an oracle independent of
 * pkt_checksum), and another puts a link header in front of it. Every test
 * that feeds truncated input copies the bytes into a heap block of exactly
 * that size, so a build with -fsanitize=address catches any over-read. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec/packet.h"

/* example.com. IN A response, 45 bytes: an odd length, so the UDP checksum
 * always covers a padded trailing byte. */
static const uint8_t dns_answer[] = {
    0x12, 0x34,             /* ID */
    0x81, 0x80,             /* QR RD RA, NOERROR */
    0x00, 0x01, 0x00, 0x01, /* QDCOUNT 1, ANCOUNT 1 */
    0x00, 0x00, 0x00, 0x00, /* NSCOUNT 0, ARCOUNT 0 */
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
    0x00, 0x01, 0x00, 0x01, /* QTYPE A, QCLASS IN */
    0xc0, 0x0c,             /* NAME: pointer to the QNAME */
    0x00, 0x01, 0x00, 0x01, /* TYPE A, CLASS IN */
    0x00, 0x00, 0x0e, 0x10, /* TTL 3600 */
    0x00, 0x04, 192, 0, 2, 80, /* RDLENGTH 4, 192.0.2.80 */
};

static const uint8_t v4_src[4] = {192, 0, 2, 53};
static const uint8_t v4_dst[4] = {198, 51, 100, 7};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0x53};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0x07};
static const uint8_t zero12[12];

#define SPORT 53
#define DPORT 40000

/* ---- byte helpers and the reference checksum ---- */

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* One's complement sum, one byte at a time, folded after every step:
 * slow and obviously right. Chunks must have even length except the
 * last. */
static uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t s)
{
    size_t i;

    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    for (i = 0; i < n; i++) {
        s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
        while (s >> 16)
            s = (s & 0xffff) + (s >> 16);
    }
    return s;
}

/* ---- fixtures ---- */

#define FX_MAX 2048

struct fx {
    uint8_t b[FX_MAX];
    size_t len;  /* bytes captured */
    size_t ip;   /* offset of the IP header */
    size_t udp;  /* offset of the UDP header */
    size_t nh;   /* offset of the protocol / next-header byte naming UDP */
    size_t ext;  /* bytes of IPv6 extension headers */
    int version;
};

enum link_kind { L_ETH, L_SLL, L_SLL2, L_NULL_LE, L_NULL_BE, L_LOOP, L_RAW };

struct link {
    const char *name;
    int linktype;
    enum link_kind kind;
    int only;       /* 4 or 6 for DLT_IPV4 / DLT_IPV6, else 0 */
    size_t ntags;
    uint16_t tpid[5];
};

static const struct link links[] = {
    {"eth", PKT_LINK_EN10MB, L_ETH, 0, 0, {0}},
    {"eth 8100", PKT_LINK_EN10MB, L_ETH, 0, 1, {0x8100}},
    {"eth 8100x2", PKT_LINK_EN10MB, L_ETH, 0, 2, {0x8100, 0x8100}},
    {"eth 8100x3", PKT_LINK_EN10MB, L_ETH, 0, 3, {0x8100, 0x8100, 0x8100}},
    {"eth 88a8", PKT_LINK_EN10MB, L_ETH, 0, 1, {0x88a8}},
    {"eth 88a8x2", PKT_LINK_EN10MB, L_ETH, 0, 2, {0x88a8, 0x88a8}},
    {"eth 88a8x3", PKT_LINK_EN10MB, L_ETH, 0, 3, {0x88a8, 0x88a8, 0x88a8}},
    {"eth 9100", PKT_LINK_EN10MB, L_ETH, 0, 1, {0x9100}},
    {"eth 9100x2", PKT_LINK_EN10MB, L_ETH, 0, 2, {0x9100, 0x9100}},
    {"eth 9100x3", PKT_LINK_EN10MB, L_ETH, 0, 3, {0x9100, 0x9100, 0x9100}},
    {"eth 88a8+8100", PKT_LINK_EN10MB, L_ETH, 0, 2, {0x88a8, 0x8100}},
    {"eth 4 mixed", PKT_LINK_EN10MB, L_ETH, 0, 4,
     {0x9100, 0x88a8, 0x8100, 0x8100}},
    {"sll", PKT_LINK_SLL, L_SLL, 0, 0, {0}},
    {"sll 8100", PKT_LINK_SLL, L_SLL, 0, 1, {0x8100}},
    {"sll 88a8+8100", PKT_LINK_SLL, L_SLL, 0, 2, {0x88a8, 0x8100}},
    {"sll 9100x3", PKT_LINK_SLL, L_SLL, 0, 3, {0x9100, 0x9100, 0x9100}},
    {"sll2", PKT_LINK_SLL2, L_SLL2, 0, 0, {0}},
    {"sll2 8100", PKT_LINK_SLL2, L_SLL2, 0, 1, {0x8100}},
    {"sll2 88a8+8100", PKT_LINK_SLL2, L_SLL2, 0, 2, {0x88a8, 0x8100}},
    {"sll2 9100x3", PKT_LINK_SLL2, L_SLL2, 0, 3, {0x9100, 0x9100, 0x9100}},
    {"null le", PKT_LINK_NULL, L_NULL_LE, 0, 0, {0}},
    {"null be", PKT_LINK_NULL, L_NULL_BE, 0, 0, {0}},
    {"loop", PKT_LINK_LOOP, L_LOOP, 0, 0, {0}},
    {"raw 12", PKT_LINK_RAW, L_RAW, 0, 0, {0}},
    {"raw 101", PKT_LINK_RAW_ALT, L_RAW, 0, 0, {0}},
    {"ipv4 228", PKT_LINK_IPV4, L_RAW, 4, 0, {0}},
    {"ipv6 229", PKT_LINK_IPV6, L_RAW, 6, 0, {0}},
};

#define NLINKS (sizeof(links) / sizeof(links[0]))

static const struct link *link_by_name(const char *name)
{
    size_t i;

    for (i = 0; i < NLINKS; i++)
        if (strcmp(links[i].name, name) == 0)
            return &links[i];
    fail_msg("no link %s", name);
    return NULL;
}

static int link_fits(const struct link *l, int version)
{
    return l->only == 0 || l->only == version;
}

/* Writes the link header for an IP packet of the given version and sets
 * f->ip. family overrides the NULL/LOOP address family when non-zero. */
static void fx_link_fam(struct fx *f, const struct link *l, int version,
                        uint32_t family)
{
    unsigned etype = version == 4 ? 0x0800 : 0x86dd;
    size_t tpos = 0, hlen = 0, off, i;

    memset(f, 0, sizeof(*f));
    if (!family)
        family = version == 4 ? 2 : 24;
    switch (l->kind) {
    case L_ETH:
        memcpy(f->b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
        tpos = 12;
        hlen = 14;
        break;
    case L_SLL:
        put16(f->b, 0);      /* packet type: to us */
        put16(f->b + 2, 1);  /* ARPHRD_ETHER */
        put16(f->b + 4, 6);  /* address length */
        memcpy(f->b + 6, "\x02\x00\x00\x00\x00\x01\x00\x00", 8);
        tpos = 14;
        hlen = 16;
        break;
    case L_SLL2:
        put32(f->b + 4, 3);  /* interface index */
        put16(f->b + 8, 1);  /* ARPHRD_ETHER */
        f->b[10] = 0;        /* packet type */
        f->b[11] = 6;        /* address length */
        memcpy(f->b + 12, "\x02\x00\x00\x00\x00\x01\x00\x00", 8);
        tpos = 0;
        hlen = 20;
        break;
    case L_NULL_LE:
        put32le(f->b, family);
        f->ip = 4;
        return;
    case L_NULL_BE:
    case L_LOOP:
        put32(f->b, family);
        f->ip = 4;
        return;
    case L_RAW:
        f->ip = 0;
        return;
    }
    put16(f->b + tpos, l->ntags ? l->tpid[0] : etype);
    off = hlen;
    for (i = 0; i < l->ntags; i++) {
        put16(f->b + off, 0x0064 + (unsigned)i); /* TCI: VLAN 100 + i */
        put16(f->b + off + 2, i + 1 < l->ntags ? l->tpid[i + 1] : etype);
        off += 4;
    }
    f->ip = off;
}

static void fx_link(struct fx *f, const struct link *l, int version)
{
    fx_link_fam(f, l, version, 0);
}

static void fx_fix_ip(struct fx *f)
{
    uint8_t *ip = f->b + f->ip;
    size_t hl = (size_t)(ip[0] & 0x0f) * 4;

    if (f->version != 4)
        return;
    put16(ip + 10, 0);
    put16(ip + 10, ~ref_sum(ip, hl, 0) & 0xffff);
}

/* Recomputes the UDP checksum over the UDP length in the header, as a
 * sender would; a result of 0 goes on the wire as 0xffff (RFC 768). */
static void fx_fix_udp(struct fx *f)
{
    uint8_t *ip = f->b + f->ip, *u = f->b + f->udp;
    uint8_t ph[40] = {0};
    size_t phl, ulen = get16(u + 4);
    unsigned ck;

    if (ulen > f->len - f->udp)
        ulen = f->len - f->udp;
    if (f->version == 4) {
        memcpy(ph, ip + 12, 8);
        ph[9] = 17;
        put16(ph + 10, get16(u + 4));
        phl = 12;
    } else {
        memcpy(ph, ip + 8, 32);
        put32(ph + 32, get16(u + 4));
        ph[39] = 17;
        phl = 40;
    }
    put16(u + 6, 0);
    ck = ~ref_sum(u, ulen, ref_sum(ph, phl, 0)) & 0xffff;
    put16(u + 6, ck ? ck : 0xffff);
}

static void fx_fix(struct fx *f)
{
    fx_fix_udp(f);
    fx_fix_ip(f);
}

static size_t fx_udp(struct fx *f, size_t at, const uint8_t *pl, size_t plen)
{
    uint8_t *u = f->b + at;

    f->udp = at;
    put16(u, SPORT);
    put16(u + 2, DPORT);
    put16(u + 4, (unsigned)(8 + plen));
    put16(u + 6, 0);
    memcpy(u + 8, pl, plen);
    return at + 8 + plen;
}

/* IPv4 at f->ip with optlen bytes of options (NOPs ending in EOL). */
static void fx_ipv4_opt(struct fx *f, size_t optlen, const uint8_t *pl,
                        size_t plen)
{
    uint8_t *ip = f->b + f->ip;
    size_t hl = 20 + optlen;

    f->version = 4;
    ip[0] = (uint8_t)(0x40 | hl / 4);
    ip[1] = 0;
    put16(ip + 2, (unsigned)(hl + 8 + plen));
    put16(ip + 4, 0xbeef); /* identification */
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, v4_src, 4);
    memcpy(ip + 16, v4_dst, 4);
    if (optlen) {
        memset(ip + 20, 1, optlen);
        ip[hl - 1] = 0;
    }
    f->nh = f->ip + 9;
    f->len = fx_udp(f, f->ip + hl, pl, plen);
    fx_fix(f);
}

static void fx_ipv4(struct fx *f)
{
    fx_ipv4_opt(f, 0, dns_answer, sizeof(dns_answer));
}

/* Length of each extension header the builder emits: sizes chosen so that
 * mixing up the 8-byte and the AH 4-byte units gives a wrong offset. */
static size_t ext_len(uint8_t type)
{
    switch (type) {
    case 0: return 8;   /* hop-by-hop, Hdr Ext Len 0 */
    case 43: return 24; /* routing, Hdr Ext Len 2 */
    case 60: return 16; /* destination options, Hdr Ext Len 1 */
    case 51: return 24; /* AH, Payload Len 4 */
    case 44: return 8;  /* fragment */
    default: return 0;
    }
}

static void fx_ipv6_ext(struct fx *f, const uint8_t *ext, size_t n,
                        const uint8_t *pl, size_t plen)
{
    uint8_t *ip = f->b + f->ip, *h;
    size_t off = f->ip + 40, i, total = 0;

    f->version = 6;
    for (i = 0; i < n; i++)
        total += ext_len(ext[i]);
    f->ext = total;
    ip[0] = 0x60;
    ip[1] = 0x01; /* flow label, so only the top nibble is the version */
    ip[2] = 0x23;
    ip[3] = 0x45;
    put16(ip + 4, (unsigned)(total + 8 + plen));
    ip[6] = n ? ext[0] : 17;
    ip[7] = 64;
    memcpy(ip + 8, v6_src, 16);
    memcpy(ip + 24, v6_dst, 16);
    f->nh = f->ip + 6;
    for (i = 0; i < n; i++) {
        size_t hl = ext_len(ext[i]);

        h = f->b + off;
        memset(h, 0, hl);
        h[0] = i + 1 < n ? ext[i + 1] : 17;
        f->nh = off;
        switch (ext[i]) {
        case 0:
            h[2] = 1; /* PadN over the rest */
            h[3] = 4;
            break;
        case 43:
            h[1] = 2;
            h[2] = 4; /* segment routing, segments left 0 */
            break;
        case 60:
            h[1] = 1;
            h[2] = 1;
            h[3] = 12;
            break;
        case 51:
            h[1] = 4;
            put32(h + 4, 0x1000); /* SPI */
            put32(h + 8, 1);      /* sequence */
            memset(h + 12, 0xaa, 12); /* ICV */
            break;
        case 44:
            put32(h + 4, 0x12345678);
            break;
        }
        off += hl;
    }
    f->len = fx_udp(f, off, pl, plen);
    fx_fix(f);
}

static void fx_ipv6(struct fx *f)
{
    fx_ipv6_ext(f, NULL, 0, dns_answer, sizeof(dns_answer));
}

static void fx_ip(struct fx *f, int version)
{
    if (version == 4)
        fx_ipv4(f);
    else
        fx_ipv6(f);
}

/* ---- assertions ---- */

static void expect_eq(const char *what, const char *ctx, size_t n, long got,
                      long want)
{
    if (got != want)
        print_error("%s (%zu): %s is %ld, want %ld\n", ctx, n, what, got,
                    want);
    assert_int_equal(got, want);
}

static void expect_fail(const char *ctx, size_t n, int rc,
                        const struct pkt_info *info, int reason, uint32_t a,
                        uint32_t b)
{
    expect_eq("reason", ctx, n, rc, reason);
    expect_eq("detail_a", ctx, n, (long)info->detail_a, (long)a);
    expect_eq("detail_b", ctx, n, (long)info->detail_b, (long)b);
    assert_null(info->payload);
    assert_int_equal(info->payload_len, 0);
}

static void expect_addrs(const struct fx *f, const struct pkt_info *info)
{
    assert_int_equal(info->ip_version, f->version);
    if (f->version == 4) {
        assert_memory_equal(info->src, v4_src, 4);
        assert_memory_equal(info->dst, v4_dst, 4);
        assert_memory_equal(info->src + 4, zero12, 12);
        assert_memory_equal(info->dst + 4, zero12, 12);
    } else {
        assert_memory_equal(info->src, v6_src, 16);
        assert_memory_equal(info->dst, v6_dst, 16);
    }
}

static void expect_ports(const struct pkt_info *info)
{
    assert_int_equal(info->sport, SPORT);
    assert_int_equal(info->dport, DPORT);
}

static void expect_ok_len(const char *ctx, const struct fx *f, int linktype,
                          size_t plen)
{
    struct pkt_info info;
    int rc;

    /* Poison, so a field the decoder forgets to set shows up. */
    memset(&info, 0xa5, sizeof(info));
    rc = pkt_decode(linktype, f->b, f->len, &info);
    expect_eq("reason", ctx, f->len, rc, PKT_OK);
    expect_addrs(f, &info);
    expect_ports(&info);
    assert_ptr_equal(info.payload, f->b + f->udp + 8);
    assert_int_equal(info.payload_len, plen);
    assert_int_equal(info.detail_a, 0);
    assert_int_equal(info.detail_b, 0);
}

static void expect_ok(const char *ctx, const struct fx *f, int linktype)
{
    struct pkt_info info;

    expect_ok_len(ctx, f, linktype, sizeof(dns_answer));
    pkt_decode(linktype, f->b, f->len, &info);
    assert_memory_equal(info.payload, dns_answer, sizeof(dns_answer));
}

static int decode(const struct fx *f, int linktype, struct pkt_info *info)
{
    memset(info, 0xa5, sizeof(*info));
    return pkt_decode(linktype, f->b, f->len, info);
}

/* Decodes the first n bytes from a heap block of exactly n bytes. */
static int decode_exact(int linktype, const uint8_t *data, size_t n,
                        struct pkt_info *info)
{
    uint8_t *copy = malloc(n ? n : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, data, n);
    memset(info, 0xa5, sizeof(*info));
    rc = pkt_decode(linktype, copy, n, info);
    if (rc == PKT_OK) {
        assert_true(info->payload >= copy);
        assert_true(info->payload + info->payload_len <= copy + n);
    }
    free(copy);
    return rc;
}

/* ---- checksum, names, link list ---- */

static void test_checksum_rfc1071(void **state)
{
    /* The worked example of RFC 1071 section 3: the sum is ddf2. */
    static const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03,
                                 0xf4, 0xf5, 0xf6, 0xf7};
    static const uint8_t odd[] = {0x12, 0x34, 0x56};
    uint8_t with[10];

    (void)state;
    assert_int_equal(pkt_checksum(ex, sizeof(ex), 0), 0x220d);
    /* A correct checksum appended makes the whole sum to zero. */
    memcpy(with, ex, 8);
    put16(with + 8, 0x220d);
    assert_int_equal(pkt_checksum(with, 10, 0), 0);
    /* The odd byte is the high half of a zero-padded word. */
    assert_int_equal(pkt_checksum(odd, 3, 0), (uint16_t)~(0x1234 + 0x5600));
    assert_int_equal(pkt_checksum(ex, 0, 0), 0xffff);
    assert_int_equal(pkt_checksum(ex, 0, 0x1234), 0xedcb);
    /* Seeds wider than 16 bits fold their carries. */
    assert_int_equal(pkt_checksum(ex, 0, 0x0001fffe), 0x0000);
    assert_int_equal(pkt_checksum(ex, 0, 0xffffffffu), 0x0000);
    assert_int_equal(pkt_checksum(ex, sizeof(ex), 0x10000),
                     (uint16_t)~ref_sum(ex, sizeof(ex), 1));
}

static void test_checksum_random(void **state)
{
    uint8_t buf[1600];
    uint32_t x = 0x9e3779b9, seed;
    size_t i, len, start;

    (void)state;
    for (i = 0; i < sizeof(buf); i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    /* All-0xff words stress the carries. */
    memset(buf + 1000, 0xff, 300);
    for (len = 0; len <= 300; len++) {
        for (start = 0; start < 4; start++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            seed = (len % 3 == 0) ? 0 : (len % 3 == 1) ? x & 0x3ffff : x;
            assert_int_equal(pkt_checksum(buf + start, len, seed),
                             (uint16_t)~ref_sum(buf + start, len, seed));
            assert_int_equal(pkt_checksum(buf + 1000 + start, len, seed),
                             (uint16_t)~ref_sum(buf + 1000 + start, len,
                                                seed));
        }
    }
    assert_int_equal(pkt_checksum(buf, sizeof(buf), 0),
                     (uint16_t)~ref_sum(buf, sizeof(buf), 0));
}

static void test_reason_names(void **state)
{
    int r, s;

    (void)state;
    assert_string_equal(pkt_reason_name(PKT_OK), "ok");
    assert_string_equal(pkt_reason_name(PKT_UDP_CHECKSUM), "udp_checksum");
    assert_string_equal(pkt_reason_name(PKT_FRAGMENT), "fragment");
    assert_string_equal(pkt_reason_name(PKT_LINK_UNSUPPORTED),
                        "link_unsupported");
    for (r = 0; r > -PKT_REASON_COUNT; r--) {
        const char *n = pkt_reason_name(r);

        assert_non_null(n);
        assert_string_not_equal(n, "unknown");
        for (s = 0; s > r; s--)
            assert_string_not_equal(n, pkt_reason_name(s));
    }
    assert_string_equal(pkt_reason_name(-PKT_REASON_COUNT), "unknown");
    assert_string_equal(pkt_reason_name(1), "unknown");
    assert_string_equal(pkt_reason_name(-1000), "unknown");
    assert_string_equal(pkt_reason_name(-2147483647 - 1), "unknown");
}

static void test_link_supported(void **state)
{
    static const int yes[] = {0, 1, 12, 101, 108, 113, 228, 229, 276};
    static const int no[] = {-1, 2, 9, 10, 14, 105, 127, 192, 227, 230,
                             275, 277, 1000};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(pkt_link_supported(yes[i]));
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(pkt_link_supported(no[i]));
}

/* ---- every link type ---- */

static void test_links_ipv4(void **state)
{
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < NLINKS; i++) {
        if (!link_fits(&links[i], 4))
            continue;
        fx_link(&f, &links[i], 4);
        fx_ipv4(&f);
        expect_ok(links[i].name, &f, links[i].linktype);
    }
}

static void test_links_ipv6(void **state)
{
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < NLINKS; i++) {
        if (!link_fits(&links[i], 6))
            continue;
        fx_link(&f, &links[i], 6);
        fx_ipv6(&f);
        expect_ok(links[i].name, &f, links[i].linktype);
    }
}

static void test_link_offsets(void **state)
{
    struct fx f;

    /* The fixtures themselves: make sure the header lengths are the real
     * ones, so the tests above prove the decoder's offsets. */
    (void)state;
    fx_link(&f, link_by_name("eth"), 4);
    assert_int_equal(f.ip, 14);
    assert_int_equal(get16(f.b + 12), 0x0800);
    fx_link(&f, link_by_name("eth 88a8+8100"), 6);
    assert_int_equal(f.ip, 22);
    assert_int_equal(get16(f.b + 12), 0x88a8);
    assert_int_equal(get16(f.b + 16), 0x8100);
    assert_int_equal(get16(f.b + 20), 0x86dd);
    fx_link(&f, link_by_name("sll"), 4);
    assert_int_equal(f.ip, 16);
    assert_int_equal(get16(f.b + 14), 0x0800);
    fx_link(&f, link_by_name("sll2"), 6);
    assert_int_equal(f.ip, 20);
    assert_int_equal(get16(f.b), 0x86dd);
    fx_link(&f, link_by_name("sll2 8100"), 4);
    assert_int_equal(f.ip, 24);
    assert_int_equal(get16(f.b), 0x8100);
    assert_int_equal(get16(f.b + 22), 0x0800);
    fx_link(&f, link_by_name("null le"), 4);
    assert_memory_equal(f.b, "\x02\x00\x00\x00", 4);
    fx_link(&f, link_by_name("null be"), 4);
    assert_memory_equal(f.b, "\x00\x00\x00\x02", 4);
}

static void test_vlan_too_many(void **state)
{
    static const struct link five = {
        "eth 5 tags", PKT_LINK_EN10MB, L_ETH, 0, 5,
        {0x8100, 0x8100, 0x88a8, 0x9100, 0x8100}};
    static const struct link sll_five = {
        "sll 5 tags", PKT_LINK_SLL, L_SLL, 0, 5,
        {0x8100, 0x8100, 0x8100, 0x8100, 0x88a8}};
    struct pkt_info info;
    struct fx f;

    (void)state;
    /* After PKT_MAX_VLAN_TAGS tags the next type is still a TPID. */
    fx_link(&f, &five, 4);
    fx_ipv4(&f);
    expect_fail(five.name, 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_NOT_IP, 0x8100, 0);
    assert_int_equal(info.ip_version, 0);
    fx_link(&f, &sll_five, 6);
    fx_ipv6(&f);
    expect_fail(sll_five.name, 0, decode(&f, PKT_LINK_SLL, &info), &info,
                PKT_NOT_IP, 0x88a8, 0);
}

static void test_null_loop_families(void **state)
{
    static const uint32_t fam6[] = {24, 28, 30};
    struct pkt_info info;
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        fx_link_fam(&f, link_by_name("null le"), 6, fam6[i]);
        fx_ipv6(&f);
        expect_ok("null le v6", &f, PKT_LINK_NULL);
        fx_link_fam(&f, link_by_name("null be"), 6, fam6[i]);
        fx_ipv6(&f);
        expect_ok("null be v6", &f, PKT_LINK_NULL);
        fx_link_fam(&f, link_by_name("loop"), 6, fam6[i]);
        fx_ipv6(&f);
        expect_ok("loop v6", &f, PKT_LINK_LOOP);
    }
    /* LOOP is always network order: a little-endian 2 is not AF_INET. */
    fx_link(&f, link_by_name("null le"), 4);
    fx_ipv4(&f);
    expect_fail("loop le", 0, decode(&f, PKT_LINK_LOOP, &info), &info,
                PKT_NOT_IP, 0x02000000, 0);
    /* Unknown families, in both orders for NULL. */
    fx_link_fam(&f, link_by_name("null le"), 4, 7);
    fx_ipv4(&f);
    expect_fail("null le 7", 0, decode(&f, PKT_LINK_NULL, &info), &info,
                PKT_NOT_IP, 7, 0);
    fx_link_fam(&f, link_by_name("null be"), 4, 7);
    fx_ipv4(&f);
    expect_fail("null be 7", 0, decode(&f, PKT_LINK_NULL, &info), &info,
                PKT_NOT_IP, 7, 0);
    /* Linux AF_INET6 (10) is not a BSD loopback family. */
    fx_link_fam(&f, link_by_name("loop"), 6, 10);
    fx_ipv6(&f);
    expect_fail("loop 10", 0, decode(&f, PKT_LINK_LOOP, &info), &info,
                PKT_NOT_IP, 10, 0);
    /* The family and the version nibble must agree. */
    fx_link_fam(&f, link_by_name("loop"), 4, 24);
    fx_ipv4(&f);
    expect_fail("loop 24 v4", 0, decode(&f, PKT_LINK_LOOP, &info), &info,
                PKT_IP_VERSION, 0x45, 0);
}

static void test_ip_version_mismatch(void **state)
{
    struct pkt_info info;
    struct fx f;

    (void)state;
    fx_link(&f, link_by_name("raw 12"), 6);
    fx_ipv6(&f);
    expect_fail("228 v6", 0, decode(&f, PKT_LINK_IPV4, &info), &info,
                PKT_IP_VERSION, 0x60, 0);
    assert_int_equal(info.ip_version, 0);
    fx_link(&f, link_by_name("raw 12"), 4);
    fx_ipv4(&f);
    expect_fail("229 v4", 0, decode(&f, PKT_LINK_IPV6, &info), &info,
                PKT_IP_VERSION, 0x45, 0);
    /* Raw IP with a version that is neither. */
    f.b[0] = 0x55;
    expect_fail("raw v5", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_VERSION, 0x55, 0);
    expect_fail("raw101 v5", 0, decode(&f, PKT_LINK_RAW_ALT, &info), &info,
                PKT_IP_VERSION, 0x55, 0);
    f.b[0] = 0x05;
    expect_fail("raw v0", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_VERSION, 0x05, 0);
    /* Ethertype and version nibble disagree. */
    fx_link(&f, link_by_name("eth"), 4);
    fx_ipv6(&f);
    expect_fail("eth 0800 v6", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_IP_VERSION, 0x60, 0);
    fx_link(&f, link_by_name("sll2 8100"), 6);
    fx_ipv4(&f);
    expect_fail("sll2 86dd v4", 0, decode(&f, PKT_LINK_SLL2, &info), &info,
                PKT_IP_VERSION, 0x45, 0);
}

static void test_unsupported_link(void **state)
{
    static const int lts[] = {-1, 2, 14, 105, 127, 230, 277, 65536};
    struct pkt_info info;
    struct fx f;
    size_t i;

    (void)state;
    fx_link(&f, link_by_name("raw 12"), 4);
    fx_ipv4(&f);
    for (i = 0; i < sizeof(lts) / sizeof(lts[0]); i++) {
        expect_fail("unsupported", i, decode(&f, lts[i], &info), &info,
                    PKT_LINK_UNSUPPORTED, (uint32_t)lts[i], 0);
        assert_int_equal(info.ip_version, 0);
    }
    /* Checked before the length: even an empty capture names the link. */
    memset(&info, 0xa5, sizeof(info));
    expect_fail("unsupported empty", 0, pkt_decode(105, f.b, 0, &info),
                &info, PKT_LINK_UNSUPPORTED, 105, 0);
}

static void test_not_ip(void **state)
{
    struct pkt_info info;
    struct fx f;

    (void)state;
    fx_link(&f, link_by_name("eth"), 4);
    fx_ipv4(&f);
    put16(f.b + 12, 0x0806); /* ARP */
    expect_fail("eth arp", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_NOT_IP, 0x0806, 0);
    assert_int_equal(info.ip_version, 0);
    put16(f.b + 12, 0x05dc); /* an 802.3 length, not a type */
    expect_fail("eth 802.3", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_NOT_IP, 0x05dc, 0);
    fx_link(&f, link_by_name("eth 8100"), 4);
    fx_ipv4(&f);
    put16(f.b + 16, 0x88cc); /* LLDP inside a VLAN */
    expect_fail("eth vlan lldp", 0, decode(&f, PKT_LINK_EN10MB, &info),
                &info, PKT_NOT_IP, 0x88cc, 0);
    fx_link(&f, link_by_name("sll"), 4);
    fx_ipv4(&f);
    put16(f.b + 14, 0x0004); /* ETH_P_802_2 */
    expect_fail("sll 802.2", 0, decode(&f, PKT_LINK_SLL, &info), &info,
                PKT_NOT_IP, 0x0004, 0);
    fx_link(&f, link_by_name("sll2"), 6);
    fx_ipv6(&f);
    put16(f.b, 0x0806);
    expect_fail("sll2 arp", 0, decode(&f, PKT_LINK_SLL2, &info), &info,
                PKT_NOT_IP, 0x0806, 0);
}

/* ---- IPv4 ---- */

static void test_ipv4_options(void **state)
{
    static const size_t opts[] = {4, 8, 12, 40};
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        fx_link(&f, link_by_name("eth 8100"), 4);
        fx_ipv4_opt(&f, opts[i], dns_answer, sizeof(dns_answer));
        assert_int_equal(f.udp, f.ip + 20 + opts[i]);
        expect_ok("ipv4 options", &f, PKT_LINK_EN10MB);
        fx_link(&f, link_by_name("raw 12"), 4);
        fx_ipv4_opt(&f, opts[i], dns_answer, sizeof(dns_answer));
        expect_ok("ipv4 options raw", &f, PKT_LINK_RAW);
    }
}

static void test_ipv4_hdr_len(void **state)
{
    struct pkt_info info;
    struct fx f;
    unsigned ihl;

    (void)state;
    for (ihl = 0; ihl < 5; ihl++) {
        fx_link(&f, link_by_name("eth"), 4);
        fx_ipv4(&f);
        f.b[f.ip] = (uint8_t)(0x40 | ihl);
        expect_fail("ihl < 5", ihl, decode(&f, PKT_LINK_EN10MB, &info),
                    &info, PKT_IP_HDR_LEN, ihl * 4,
                    (uint32_t)(f.len - f.ip));
        expect_addrs(&f, &info);
    }
    /* IHL 15 claims 60 bytes; only 40 are there. */
    fx_link(&f, link_by_name("raw 12"), 4);
    fx_ipv4(&f);
    f.b[0] = 0x4f;
    f.len = 40;
    expect_fail("ihl 15", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_HDR_LEN, 60, 40);
    expect_addrs(&f, &info);
}

static void test_ipv4_header_checksum(void **state)
{
    struct pkt_info info;
    struct fx f;

    (void)state;
    fx_link(&f, link_by_name("eth"), 4);
    fx_ipv4(&f);
    f.b[f.ip + 11] ^= 0x01;
    expect_fail("ip checksum", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_IP_CHECKSUM, 0, 0);
    /* The caller logs the endpoints of a bad packet. */
    expect_addrs(&f, &info);
    /* Damage inside the options is covered too. */
    fx_link(&f, link_by_name("eth"), 4);
    fx_ipv4_opt(&f, 8, dns_answer, sizeof(dns_answer));
    f.b[f.ip + 22] ^= 0x80;
    expect_fail("ip checksum opts", 0, decode(&f, PKT_LINK_EN10MB, &info),
                &info, PKT_IP_CHECKSUM, 0, 0);
    /* A damaged TTL alone: nothing but the header checksum notices. */
    fx_link(&f, link_by_name("sll"), 4);
    fx_ipv4(&f);
    f.b[f.ip + 8]--;
    expect_fail("ip checksum ttl", 0, decode(&f, PKT_LINK_SLL, &info), &info,
                PKT_IP_CHECKSUM, 0, 0);
}

static void test_ipv4_total_len(void **state)
{
    struct pkt_info info;
    struct fx f;

    (void)state;
    fx_link(&f, link_by_name("eth"), 4);
    fx_ipv4(&f);
    put16(f.b + f.ip + 2, 19);
    fx_fix_ip(&f);
    expect_fail("total 19", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_IP_TOTAL_LEN, 19, 20);
    expect_addrs(&f, &info);
    put16(f.b + f.ip + 2, 0);
    fx_fix_ip(&f);
    expect_fail("total 0", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_IP_TOTAL_LEN, 0, 20);
    fx_ipv4_opt(&f, 4, dns_answer, sizeof(dns_answer));
    put16(f.b + f.ip + 2, 22);
    fx_fix_ip(&f);
    expect_fail("total 22 opts", 0, decode(&f, PKT_LINK_EN10MB, &info),
                &info, PKT_IP_TOTAL_LEN, 22, 24);
    /* Exactly the header: no room for UDP. */
    put16(f.b + f.ip + 2, 24);
    fx_fix_ip(&f);
    expect_fail("total = header", 0, decode(&f, PKT_LINK_EN10MB, &info),
                &info, PKT_UDP_SHORT, 0, 0);
}

static void test_ipv4_truncated(void **state)
{
    struct pkt_info info;
    struct fx f;
    size_t avail;

    (void)state;
    fx_link(&f, link_by_name("eth"), 4);
    fx_ipv4(&f);
    avail = f.len - f.ip;
    put16(f.b + f.ip + 2, (unsigned)avail + 1);
    fx_fix_ip(&f);
    expect_fail("total + 1", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_IP_TRUNCATED, (uint32_t)avail + 1, (uint32_t)avail);
    expect_addrs(&f, &info);
    put16(f.b + f.ip + 2, 0xffff);
    fx_fix_ip(&f);
    expect_fail("total max", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_IP_TRUNCATED, 0xffff, (uint32_t)avail);
}

static void test_ipv4_fragments(void **state)
{
    static const struct {
        unsigned field;
        int reason;
    } cases[] = {
        {0x2000, PKT_FRAGMENT}, /* MF, offset 0: first fragment */
        {0x2001, PKT_FRAGMENT}, /* MF, offset 8 */
        {0x0001, PKT_FRAGMENT}, /* last fragment */
        {0x1fff, PKT_FRAGMENT}, /* largest offset */
        {0x6000, PKT_FRAGMENT}, /* DF and MF */
        {0x4000, PKT_OK},       /* DF only */
        {0x0000, PKT_OK},
        {0x8000, PKT_OK},       /* reserved bit: not a fragment */
    };
    struct pkt_info info;
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx_link(&f, link_by_name("eth 88a8"), 4);
        fx_ipv4(&f);
        put16(f.b + f.ip + 6, cases[i].field);
        fx_fix_ip(&f);
        if (cases[i].reason == PKT_OK) {
            expect_ok("ipv4 flags", &f, PKT_LINK_EN10MB);
            continue;
        }
        expect_fail("ipv4 fragment", i, decode(&f, PKT_LINK_EN10MB, &info),
                    &info, PKT_FRAGMENT, 0, 0);
        expect_addrs(&f, &info);
    }
}

static void test_ipv4_not_udp(void **state)
{
    static const uint8_t protos[] = {0, 1, 6, 16, 18, 41, 50, 132, 255};
    struct pkt_info info;
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(protos); i++) {
        fx_link(&f, link_by_name("null be"), 4);
        fx_ipv4(&f);
        f.b[f.nh] = protos[i];
        fx_fix_ip(&f);
        expect_fail("ipv4 not udp", i, decode(&f, PKT_LINK_NULL, &info),
                    &info, PKT_NOT_UDP, protos[i], 0);
        expect_addrs(&f, &info);
        assert_int_equal(info.sport, 0);
    }
}

/* ---- IPv6 ---- */

static void test_ipv6_each_ext(void **state)
{
    static const uint8_t types[] = {0, 43, 60, 51};
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(types); i++) {
        fx_link(&f, link_by_name("eth"), 6);
        fx_ipv6_ext(&f, &types[i], 1, dns_answer, sizeof(dns_answer));
        assert_int_equal(f.udp, f.ip + 40 + ext_len(types[i]));
        expect_ok("ipv6 one ext", &f, PKT_LINK_EN10MB);
        fx_link(&f, link_by_name("raw 12"), 6);
        fx_ipv6_ext(&f, &types[i], 1, dns_answer, sizeof(dns_answer));
        expect_ok("ipv6 one ext raw", &f, PKT_LINK_RAW);
    }
}

static void test_ipv6_ext_chains(void **state)
{
    static const uint8_t chain[] = {0, 60, 43, 51, 60};
    static const uint8_t eight[] = {0, 60, 43, 43, 51, 51, 60, 60};
    static const uint8_t nine[] = {0, 60, 43, 43, 51, 51, 60, 60, 60};
    struct pkt_info info;
    struct fx f;

    (void)state;
    fx_link(&f, link_by_name("sll"), 6);
    fx_ipv6_ext(&f, chain, sizeof(chain), dns_answer, sizeof(dns_answer));
    assert_int_equal(f.ext, 8 + 16 + 24 + 24 + 16);
    expect_ok("ipv6 chain", &f, PKT_LINK_SLL);

    assert_int_equal(sizeof(eight), PKT_MAX_EXT_HEADERS);
    fx_link(&f, link_by_name("sll2"), 6);
    fx_ipv6_ext(&f, eight, sizeof(eight), dns_answer, sizeof(dns_answer));
    expect_ok("ipv6 chain of 8", &f, PKT_LINK_SLL2);

    fx_link(&f, link_by_name("sll2"), 6);
    fx_ipv6_ext(&f, nine, sizeof(nine), dns_answer, sizeof(dns_answer));
    expect_fail("ipv6 chain of 9", 0, decode(&f, PKT_LINK_SLL2, &info),
                &info, PKT_EXT_HEADERS, 0, 0);
    expect_addrs(&f, &info);
}

static void test_ipv6_ext_overrun(void **state)
{
    static const uint8_t one[] = {60};
    static const uint8_t ah[] = {51};
    struct pkt_info info;
    struct fx f;

    (void)state;
    /* A header length past the payload length, though inside caplen. */
    fx_link(&f, link_by_name("eth"), 6);
    fx_ipv6_ext(&f, one, 1, dns_answer, sizeof(dns_answer));
    f.b[f.ip + 41] = 9; /* 80 bytes; the payload is 16 + 8 + 45 */
    memset(f.b + f.len, 0, 64);
    f.len += 64;
    expect_fail("ext overrun", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_EXT_HEADERS, 0, 0);
    /* The largest AH length, far beyond anything captured. */
    fx_link(&f, link_by_name("eth"), 6);
    fx_ipv6_ext(&f, ah, 1, dns_answer, sizeof(dns_answer));
    f.b[f.ip + 41] = 255;
    expect_fail("ah overrun", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_EXT_HEADERS, 0, 0);
}

static void test_ipv6_fragment(void **state)
{
    static const uint8_t first[] = {44};
    static const uint8_t later[] = {0, 43, 44};
    static const uint8_t nine_then_frag[] = {0, 60, 60, 60, 60,
                                             60, 60, 60, 44};
    struct pkt_info info;
    struct fx f;

    (void)state;
    fx_link(&f, link_by_name("eth"), 6);
    fx_ipv6_ext(&f, first, 1, dns_answer, sizeof(dns_answer));
    expect_fail("v6 frag", 0, decode(&f, PKT_LINK_EN10MB, &info), &info,
                PKT_FRAGMENT, 0, 0);
    expect_addrs(&f, &info);
    fx_link(&f, link_by_name("raw 101"), 6);
    fx_ipv6_ext(&f, later, 3, dns_answer, sizeof(dns_answer));
    expect_fail("v6 frag later", 0, decode(&f, PKT_LINK_RAW_ALT, &info),
                &info, PKT_FRAGMENT, 0, 0);
    /* Reaching a fragment header as the ninth counts as a fragment. */
    fx_link(&f, link_by_name("raw 101"), 6);
    fx_ipv6_ext(&f, nine_then_frag, 9, dns_answer, sizeof(dns_answer));
    expect_fail("v6 frag ninth", 0, decode(&f, PKT_LINK_RAW_ALT, &info),
                &info, PKT_FRAGMENT, 0, 0);
}

static void test_ipv6_not_udp(void **state)
{
    static const uint8_t protos[] = {50, 59, 6, 58, 41, 4};
    static const uint8_t hop[] = {0};
    struct pkt_info info;
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(protos); i++) {
        fx_link(&f, link_by_name("loop"), 6);
        fx_ipv6(&f);
        f.b[f.nh] = protos[i];
        expect_fail("v6 not udp", i, decode(&f, PKT_LINK_LOOP, &info), &info,
                    PKT_NOT_UDP, protos[i], 0);
        expect_addrs(&f, &info);
        fx_link(&f, link_by_name("loop"), 6);
        fx_ipv6_ext(&f, hop, 1, dns_answer, sizeof(dns_answer));
        f.b[f.nh] = protos[i];
        expect_fail("v6 hop not udp", i, decode(&f, PKT_LINK_LOOP, &info),
                    &info, PKT_NOT_UDP, protos[i], 0);
    }
}

static void test_ipv6_short(void **state)
{
    struct pkt_info info;
    struct fx f;

    (void)state;
    /* 20..39 bytes: enough for the version, not for an IPv6 header. */
    fx_link(&f, link_by_name("raw 12"), 6);
    fx_ipv6(&f);
    f.len = 39;
    expect_fail("v6 39", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_SHORT, 39, 0);
    assert_int_equal(info.ip_version, 0);
    f.len = 20;
    expect_fail("v6 20", 0, decode(&f, PKT_LINK_IPV6, &info), &info,
                PKT_IP_SHORT, 20, 0);
    f.len = 19;
    expect_fail("v6 19", 0, decode(&f, PKT_LINK_IPV6, &info), &info,
                PKT_IP_SHORT, 19, 0);
    /* Payload length beyond what was captured. */
    fx_ipv6(&f);
    put16(f.b + 4, (unsigned)(f.len - 40 + 1));
    expect_fail("v6 plen + 1", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_TRUNCATED, (uint32_t)(f.len - 40 + 1),
                (uint32_t)(f.len - 40));
    expect_addrs(&f, &info);
}

/* ---- UDP ---- */

static void test_udp_checksum_bad(void **state)
{
    struct pkt_info info;
    struct fx f;
    int v;

    (void)state;
    for (v = 4; v <= 6; v += 2) {
        fx_link(&f, link_by_name("eth"), v);
        fx_ip(&f, v);
        f.b[f.len - 1] ^= 0x40; /* the odd last byte */
        expect_fail("udp checksum", (size_t)v,
                    decode(&f, PKT_LINK_EN10MB, &info), &info,
                    PKT_UDP_CHECKSUM, 0, 0);
        expect_addrs(&f, &info);
        expect_ports(&info);
        fx_ip(&f, v);
        f.b[f.udp + 6] ^= 0x01;
        expect_fail("udp checksum field", (size_t)v,
                    decode(&f, PKT_LINK_EN10MB, &info), &info,
                    PKT_UDP_CHECKSUM, 0, 0);
        /* The pseudo header is covered: change the destination address
         * (and, for IPv4, repair the header checksum). */
        fx_ip(&f, v);
        f.b[f.ip + (v == 4 ? 19 : 39)] ^= 0x02;
        fx_fix_ip(&f);
        expect_fail("udp pseudo header", (size_t)v,
                    decode(&f, PKT_LINK_EN10MB, &info), &info,
                    PKT_UDP_CHECKSUM, 0, 0);
    }
}

static void test_udp_checksum_zero(void **state)
{
    struct pkt_info info;
    struct fx f;

    (void)state;
    fx_link(&f, link_by_name("eth"), 4);
    fx_ipv4(&f);
    put16(f.b + f.udp + 6, 0);
    expect_ok("v4 zero checksum", &f, PKT_LINK_EN10MB);
    /* Zero is "none" even over a damaged payload. */
    f.b[f.len - 1] ^= 0xff;
    expect_ok_len("v4 zero checksum damaged", &f, PKT_LINK_EN10MB,
                  sizeof(dns_answer));

    fx_link(&f, link_by_name("eth"), 6);
    fx_ipv6(&f);
    put16(f.b + f.udp + 6, 0);
    expect_fail("v6 zero checksum", 0, decode(&f, PKT_LINK_EN10MB, &info),
                &info, PKT_UDP_CHECKSUM, 0, 0);
    expect_addrs(&f, &info);
    expect_ports(&info);
}

/* Makes the UDP checksum compute to 0, which goes on the wire as 0xffff,
 * by choosing the DNS ID. */
static void fx_make_ffff(struct fx *f)
{
    uint8_t *id = f->b + f->udp + 8;
    uint32_t s;

    put16(id, 0);
    fx_fix_udp(f);
    s = ~get16(f->b + f->udp + 6) & 0xffff; /* the sum with ID 0 */
    put16(id, 0xffff - s);
    fx_fix(f);
    assert_int_equal(get16(f->b + f->udp + 6), 0xffff);
}

static void test_udp_checksum_ffff(void **state)
{
    struct pkt_info info;
    struct fx f;
    int v;

    (void)state;
    for (v = 4; v <= 6; v += 2) {
        fx_link(&f, link_by_name("eth"), v);
        fx_ip(&f, v);
        fx_make_ffff(&f);
        expect_ok_len("checksum ffff", &f, PKT_LINK_EN10MB,
                      sizeof(dns_answer));
        /* 0x0000 and 0xffff are the same number in one's complement, so
         * for IPv4 the zero field is "none" and still accepted; for IPv6
         * zero is refused regardless. */
        put16(f.b + f.udp + 6, 0);
        if (v == 4) {
            expect_ok_len("checksum ffff as 0", &f, PKT_LINK_EN10MB,
                          sizeof(dns_answer));
        } else {
            expect_fail("checksum ffff as 0", 6,
                        decode(&f, PKT_LINK_EN10MB, &info), &info,
                        PKT_UDP_CHECKSUM, 0, 0);
        }
    }
}

static void test_ethernet_padding(void **state)
{
    struct fx f;
    size_t before;
    int v;

    (void)state;
    for (v = 4; v <= 6; v += 2) {
        fx_link(&f, link_by_name("eth"), v);
        fx_ip(&f, v);
        before = f.len;
        /* Trailer bytes that are not part of the IP packet: must not be
         * taken into the payload or the checksum. */
        memset(f.b + f.len, 0xee, 24);
        f.len += 24;
        expect_ok("eth padding", &f, PKT_LINK_EN10MB);
        assert_int_equal(f.len, before + 24);
    }
    /* A tiny IPv4 UDP packet padded to the 60-byte Ethernet minimum. */
    fx_link(&f, link_by_name("eth"), 4);
    fx_ipv4_opt(&f, 0, dns_answer, 4);
    memset(f.b + f.len, 0, 60 - f.len);
    f.len = 60;
    expect_ok_len("eth min frame", &f, PKT_LINK_EN10MB, 4);
}

static void test_udp_len_shorter(void **state)
{
    struct pkt_info info;
    struct fx f;
    size_t ulen;
    int v;

    (void)state;
    for (v = 4; v <= 6; v += 2) {
        for (ulen = 8; ulen <= 8 + sizeof(dns_answer); ulen++) {
            fx_link(&f, link_by_name("sll"), v);
            fx_ip(&f, v);
            put16(f.b + f.udp + 4, (unsigned)ulen);
            fx_fix_udp(&f);
            expect_ok_len("udp len shorter", &f, PKT_LINK_SLL, ulen - 8);
            /* The checksum covers only the UDP length: damage past it is
             * invisible. */
            if (ulen < 8 + sizeof(dns_answer)) {
                f.b[f.len - 1] ^= 0x5a;
                expect_ok_len("udp len shorter tail", &f, PKT_LINK_SLL,
                              ulen - 8);
            }
        }
        for (ulen = 0; ulen < 8; ulen++) {
            fx_link(&f, link_by_name("sll"), v);
            fx_ip(&f, v);
            put16(f.b + f.udp + 4, (unsigned)ulen);
            expect_fail("udp len < 8", ulen, decode(&f, PKT_LINK_SLL, &info),
                        &info, PKT_UDP_LEN, (uint32_t)ulen, 8);
            expect_ports(&info);
        }
    }
}

/* The two messages quoted from the 2004 program. */
static void test_udp_2004_examples(void **state)
{
    uint8_t big[330];
    struct pkt_info info;
    struct fx f;

    (void)state;
    /* "UDP total length smaller than header, indicated total length is 0,
     * header is 8 bytes long": 8 bytes of IP payload, UDP length 0. */
    fx_link(&f, link_by_name("raw 12"), 4);
    fx_ipv4_opt(&f, 0, dns_answer, 0);
    assert_int_equal(f.len, 28);
    put16(f.b + f.udp + 4, 0);
    expect_fail("udp len 0", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_UDP_LEN, 0, 8);

    /* "Truncated UDP packet (UDP length 338, available 337)". */
    memset(big, 0x33, sizeof(big));
    fx_link(&f, link_by_name("raw 12"), 4);
    fx_ipv4_opt(&f, 0, big, sizeof(big));
    assert_int_equal(get16(f.b + f.udp + 4), 338);
    put16(f.b + 2, 20 + 337);
    fx_fix_ip(&f);
    expect_fail("udp 338/337", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_UDP_TRUNCATED, 338, 337);
    expect_addrs(&f, &info);
    expect_ports(&info);
    /* The same with the capture also cut at the IP total length. */
    f.len = 20 + 337;
    expect_fail("udp 338/337 cut", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_UDP_TRUNCATED, 338, 337);
}

/* Shrinks the IPv4 total length one byte at a time, with the capture left
 * whole (the UDP checks must use the IP length, not caplen) and with the
 * capture cut at the same place. */
static void test_ipv4_total_sweep(void **state)
{
    struct pkt_info info;
    struct fx f;
    size_t k, ulen = 8 + sizeof(dns_answer);
    int rc, cut;

    (void)state;
    for (k = 0; k < ulen; k++) {
        fx_link(&f, link_by_name("eth"), 4);
        fx_ipv4_opt(&f, 4, dns_answer, sizeof(dns_answer));
        put16(f.b + f.ip + 2, (unsigned)(24 + k));
        fx_fix_ip(&f);
        for (cut = 0; cut < 2; cut++) {
            if (cut)
                rc = decode_exact(PKT_LINK_EN10MB, f.b, f.ip + 24 + k, &info);
            else
                rc = decode(&f, PKT_LINK_EN10MB, &info);
            if (k < 8) {
                expect_fail("v4 total sweep", k, rc, &info, PKT_UDP_SHORT, 0,
                            0);
                assert_int_equal(info.sport, 0);
                assert_int_equal(info.dport, 0);
            } else {
                expect_fail("v4 total sweep", k, rc, &info,
                            PKT_UDP_TRUNCATED, (uint32_t)ulen, (uint32_t)k);
                expect_ports(&info);
            }
            expect_addrs(&f, &info);
        }
    }
}

/* The same for the IPv6 payload length, through an extension chain: a cut
 * inside the chain is PKT_EXT_HEADERS. */
static void test_ipv6_payload_sweep(void **state)
{
    static const uint8_t chain[] = {0, 43, 60, 51};
    struct pkt_info info;
    struct fx f;
    size_t k, ext, ulen = 8 + sizeof(dns_answer);
    int rc, cut;

    (void)state;
    fx_link(&f, link_by_name("eth 9100"), 6);
    fx_ipv6_ext(&f, chain, sizeof(chain), dns_answer, sizeof(dns_answer));
    ext = f.ext;
    assert_int_equal(ext, 72);
    for (k = 0; k < ext + ulen; k++) {
        fx_ipv6_ext(&f, chain, sizeof(chain), dns_answer, sizeof(dns_answer));
        put16(f.b + f.ip + 4, (unsigned)k);
        /* Once with the rest of the bytes still captured, once with the
         * capture ending exactly at the payload length. */
        for (cut = 0; cut < 2; cut++) {
            if (cut)
                rc = decode_exact(PKT_LINK_EN10MB, f.b, f.ip + 40 + k, &info);
            else
                rc = decode(&f, PKT_LINK_EN10MB, &info);
            if (k < ext)
                expect_fail("v6 plen sweep", k, rc, &info, PKT_EXT_HEADERS,
                            0, 0);
            else if (k - ext < 8)
                expect_fail("v6 plen sweep", k, rc, &info, PKT_UDP_SHORT, 0,
                            0);
            else
                expect_fail("v6 plen sweep", k, rc, &info, PKT_UDP_TRUNCATED,
                            (uint32_t)ulen, (uint32_t)(k - ext));
            expect_addrs(&f, &info);
        }
    }
}

/* ---- truncation at every offset ---- */

static void check_prefixes(const char *ctx, const struct fx *f,
                           int linktype)
{
    struct pkt_info info;
    size_t n, m, hl;
    const uint8_t *ip = f->b + f->ip;
    int rc;

    for (n = 0; n < f->len; n++) {
        rc = decode_exact(linktype, f->b, n, &info);
        if (rc >= 0)
            print_error("%s (%zu): decoded a truncated packet\n", ctx, n);
        assert_true(rc < 0);
        if (n < f->ip) {
            expect_fail(ctx, n, rc, &info, PKT_LINK_TRUNCATED, 0, 0);
            continue;
        }
        m = n - f->ip;
        if (m < 20 || (f->version == 6 && m < 40)) {
            expect_fail(ctx, n, rc, &info, PKT_IP_SHORT, (uint32_t)m, 0);
            assert_int_equal(info.ip_version, 0);
            continue;
        }
        expect_addrs(f, &info);
        if (f->version == 4) {
            hl = (size_t)(ip[0] & 0x0f) * 4;
            if (m < hl)
                expect_fail(ctx, n, rc, &info, PKT_IP_HDR_LEN, (uint32_t)hl,
                            (uint32_t)m);
            else
                expect_fail(ctx, n, rc, &info, PKT_IP_TRUNCATED,
                            get16(ip + 2), (uint32_t)m);
        } else {
            expect_fail(ctx, n, rc, &info, PKT_IP_TRUNCATED, get16(ip + 4),
                        (uint32_t)(m - 40));
        }
    }
    /* And the whole packet, from an exact-size block. */
    rc = decode_exact(linktype, f->b, f->len, &info);
    expect_eq("reason", ctx, f->len, rc, PKT_OK);
}

static void test_prefixes_all_links(void **state)
{
    static const uint8_t chain[] = {0, 43, 60, 51};
    struct fx f;
    size_t i;

    (void)state;
    for (i = 0; i < NLINKS; i++) {
        const struct link *l = &links[i];

        if (link_fits(l, 4)) {
            fx_link(&f, l, 4);
            fx_ipv4(&f);
            check_prefixes(l->name, &f, l->linktype);
            fx_link(&f, l, 4);
            fx_ipv4_opt(&f, 12, dns_answer, sizeof(dns_answer));
            check_prefixes(l->name, &f, l->linktype);
        }
        if (link_fits(l, 6)) {
            fx_link(&f, l, 6);
            fx_ipv6(&f);
            check_prefixes(l->name, &f, l->linktype);
            fx_link(&f, l, 6);
            fx_ipv6_ext(&f, chain, sizeof(chain), dns_answer,
                        sizeof(dns_answer));
            check_prefixes(l->name, &f, l->linktype);
        }
    }
}

/* ---- order of the IPv4 checks (2004 compatibility) ---- */

static void test_ipv4_check_order(void **state)
{
    struct pkt_info info;
    struct fx f;

    (void)state;
    /* Short beats version. */
    fx_link(&f, link_by_name("raw 12"), 4);
    fx_ipv4(&f);
    f.b[0] = 0x55;
    f.len = 19;
    expect_fail("short+version", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_SHORT, 19, 0);
    f.len = 0;
    expect_fail("empty", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_SHORT, 0, 0);

    /* Version beats header length. */
    fx_ipv4(&f);
    f.b[0] = 0x3f;
    f.len = 40;
    expect_fail("version+ihl", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_VERSION, 0x3f, 0);

    /* Header length beats checksum. */
    fx_ipv4(&f);
    f.b[0] = 0x4f;
    f.b[10] ^= 0xff;
    f.len = 40;
    expect_fail("ihl+checksum", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_HDR_LEN, 60, 40);

    /* Checksum beats total length. */
    fx_ipv4(&f);
    put16(f.b + 2, 10);
    expect_fail("checksum+total", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_IP_CHECKSUM, 0, 0);
    put16(f.b + 2, 0xffff);
    expect_fail("checksum+truncated", 0, decode(&f, PKT_LINK_RAW, &info),
                &info, PKT_IP_CHECKSUM, 0, 0);

    /* Truncated beats fragment and protocol. */
    fx_ipv4(&f);
    put16(f.b + 2, (unsigned)f.len + 1);
    put16(f.b + 6, 0x2000);
    f.b[9] = 6;
    fx_fix_ip(&f);
    expect_fail("truncated+frag+proto", 0, decode(&f, PKT_LINK_RAW, &info),
                &info, PKT_IP_TRUNCATED, (uint32_t)f.len + 1,
                (uint32_t)f.len);

    /* Fragment beats protocol. */
    fx_ipv4(&f);
    put16(f.b + 6, 0x2000);
    f.b[9] = 6;
    fx_fix_ip(&f);
    expect_fail("frag+proto", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_FRAGMENT, 0, 0);

    /* Protocol beats a short UDP header. */
    fx_ipv4(&f);
    put16(f.b + 2, 24);
    f.b[9] = 6;
    fx_fix_ip(&f);
    expect_fail("proto+udp short", 0, decode(&f, PKT_LINK_RAW, &info), &info,
                PKT_NOT_UDP, 6, 0);

    /* UDP length beats checksum. */
    fx_ipv4(&f);
    put16(f.b + f.udp + 4, 4);
    put16(f.b + f.udp + 6, 0x1234);
    expect_fail("udp len+checksum", 0, decode(&f, PKT_LINK_RAW, &info),
                &info, PKT_UDP_LEN, 4, 8);
    put16(f.b + f.udp + 4, 0xffff);
    expect_fail("udp truncated+checksum", 0, decode(&f, PKT_LINK_RAW, &info),
                &info, PKT_UDP_TRUNCATED, 0xffff,
                (uint32_t)(8 + sizeof(dns_answer)));
}

/* ---- state across calls, and random damage ---- */

static void test_info_reset(void **state)
{
    struct pkt_info info;
    struct fx f;

    (void)state;
    fx_link(&f, link_by_name("eth"), 4);
    fx_ipv4(&f);
    assert_int_equal(pkt_decode(PKT_LINK_EN10MB, f.b, f.len, &info), PKT_OK);
    assert_non_null(info.payload);
    /* A later failure must not leave the previous packet's results. */
    assert_int_equal(pkt_decode(PKT_LINK_EN10MB, f.b, 10, &info),
                     PKT_LINK_TRUNCATED);
    assert_int_equal(info.ip_version, 0);
    assert_null(info.payload);
    assert_int_equal(info.payload_len, 0);
    assert_int_equal(info.sport, 0);
    assert_int_equal(info.dport, 0);
    assert_int_equal(info.detail_a, 0);
    assert_int_equal(info.detail_b, 0);
    assert_int_equal(pkt_decode(PKT_LINK_EN10MB, f.b, 20, &info),
                     PKT_IP_SHORT);
    assert_int_equal(info.detail_a, 6);
    assert_int_equal(pkt_decode(PKT_LINK_EN10MB, f.b, f.len, &info), PKT_OK);
    assert_int_equal(info.detail_a, 0);
}

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void test_random_damage(void **state)
{
    static const uint8_t chain[] = {0, 51};
    struct pkt_info info;
    struct fx f;
    uint32_t x = 0x2545f491;
    size_t iter, j, n;
    int rc;

    (void)state;
    for (iter = 0; iter < 40000; iter++) {
        const struct link *l = &links[rnd(&x) % NLINKS];
        int v = l->only ? l->only : (rnd(&x) & 1) ? 4 : 6;

        fx_link(&f, l, v);
        if (v == 4)
            fx_ipv4_opt(&f, (rnd(&x) % 3) * 4, dns_answer,
                        sizeof(dns_answer));
        else
            fx_ipv6_ext(&f, chain, rnd(&x) % 3, dns_answer,
                        sizeof(dns_answer));
        for (j = rnd(&x) % 4 + 1; j > 0; j--)
            f.b[rnd(&x) % f.len] ^= (uint8_t)(1u << (rnd(&x) % 8));
        /* Often repair the checksums so damage reaches the later checks. */
        if (rnd(&x) & 1)
            fx_fix_ip(&f);
        n = (rnd(&x) & 3) ? f.len : rnd(&x) % (f.len + 1);
        rc = decode_exact(l->linktype, f.b, n, &info);
        assert_true(rc <= 0 && rc > -PKT_REASON_COUNT);
        if (rc == PKT_OK)
            assert_true(info.ip_version == 4 || info.ip_version == 6);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_rfc1071),
        cmocka_unit_test(test_checksum_random),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_link_supported),
        cmocka_unit_test(test_links_ipv4),
        cmocka_unit_test(test_links_ipv6),
        cmocka_unit_test(test_link_offsets),
        cmocka_unit_test(test_vlan_too_many),
        cmocka_unit_test(test_null_loop_families),
        cmocka_unit_test(test_ip_version_mismatch),
        cmocka_unit_test(test_unsupported_link),
        cmocka_unit_test(test_not_ip),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv4_hdr_len),
        cmocka_unit_test(test_ipv4_header_checksum),
        cmocka_unit_test(test_ipv4_total_len),
        cmocka_unit_test(test_ipv4_truncated),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_ipv4_not_udp),
        cmocka_unit_test(test_ipv6_each_ext),
        cmocka_unit_test(test_ipv6_ext_chains),
        cmocka_unit_test(test_ipv6_ext_overrun),
        cmocka_unit_test(test_ipv6_fragment),
        cmocka_unit_test(test_ipv6_not_udp),
        cmocka_unit_test(test_ipv6_short),
        cmocka_unit_test(test_udp_checksum_bad),
        cmocka_unit_test(test_udp_checksum_zero),
        cmocka_unit_test(test_udp_checksum_ffff),
        cmocka_unit_test(test_ethernet_padding),
        cmocka_unit_test(test_udp_len_shorter),
        cmocka_unit_test(test_udp_2004_examples),
        cmocka_unit_test(test_ipv4_total_sweep),
        cmocka_unit_test(test_ipv6_payload_sweep),
        cmocka_unit_test(test_prefixes_all_links),
        cmocka_unit_test(test_ipv4_check_order),
        cmocka_unit_test(test_info_reset),
        cmocka_unit_test(test_random_damage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
