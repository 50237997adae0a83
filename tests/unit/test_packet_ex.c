/* Unit tests of what the packet decoder gives a reassembler
 * (src/codec/packet.c: pkt_decode_ex(), pkt_decode_transport(), NFLOG):
 * TCP headers and checksums (with the TX offload rule), the fields of
 * IPv4 and IPv6 fragments, the UDP and TCP header of a reassembled
 * datagram, and the NFLOG TLV layout in either byte order. pkt_decode()
 * keeps the 2004 program's view: TCP is not UDP, a fragment is a
 * fragment. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/packet.h"

static const uint8_t S4[4] = {192, 0, 2, 53}, D4[4] = {198, 51, 100, 7};
static const uint8_t S6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x53};
static const uint8_t D6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x07};
static const uint8_t MSG[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
                              3, 'c', 'o', 'm', 0, 0, 1, 0, 1};

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The checksum field for a segment of proto from src to dst (alen 4 or
 * 16): the complement of the pseudo header plus the segment. */
static uint16_t l4_sum(const uint8_t *src, const uint8_t *dst, size_t alen, unsigned proto,
                       const uint8_t *seg, size_t len)
{
    uint8_t ph[40];
    uint32_t s;

    memcpy(ph, src, alen);
    memcpy(ph + alen, dst, alen);
    s = ~pkt_checksum(ph, 2 * alen, proto + (uint32_t)len) & 0xffff;
    return pkt_checksum(seg, len, s);
}

/* An IPv4 header (20 bytes) for len bytes of payload. */
static size_t ipv4(uint8_t *p, unsigned proto, size_t len, unsigned id, unsigned frag)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, (unsigned)(20 + len));
    put16(p + 4, id);
    put16(p + 6, frag);
    p[8] = 64;
    p[9] = (uint8_t)proto;
    memcpy(p + 12, S4, 4);
    memcpy(p + 16, D4, 4);
    put16(p + 10, pkt_checksum(p, 20, 0));
    return 20;
}

/* A TCP segment with flags and data at p; returns its length. csum: 0
 * right, 1 wrong, 2 the offload form (the pseudo header sum only). */
static size_t tcp4(uint8_t *p, unsigned flags, const uint8_t *data, size_t n, int csum)
{
    memset(p, 0, 20);
    put16(p, 53);
    put16(p + 2, 40000);
    p[4] = 0x11;
    p[7] = 0x22; /* seq 0x11000022 */
    p[12] = 0x50;
    p[13] = (uint8_t)flags;
    if (n)
        memcpy(p + 20, data, n);
    if (csum == 2) {
        uint8_t ph[8];
        memcpy(ph, S4, 4);
        memcpy(ph + 4, D4, 4);
        put16(p + 16, (unsigned)~pkt_checksum(ph, 8, 6 + (uint32_t)(20 + n)) & 0xffff);
    } else {
        put16(p + 16, l4_sum(S4, D4, 4, 6, p, 20 + n) ^ (csum ? 1 : 0));
    }
    return 20 + n;
}

static void test_tcp(void **state)
{
    uint8_t pkt[256], seg[2 + sizeof(MSG)];
    struct pkt_info info;
    size_t n;

    (void)state;
    put16(seg, sizeof(MSG));
    memcpy(seg + 2, MSG, sizeof(MSG));
    for (int csum = 0; csum < 3; csum++) {
        n = tcp4(pkt + 20, 0x18, seg, sizeof(seg), csum);
        ipv4(pkt, 6, n, 1, 0);
        assert_int_equal(pkt_decode(PKT_LINK_RAW, pkt, 20 + n, &info), PKT_NOT_UDP);
        assert_int_equal(info.detail_a, 6);
        if (csum == 1) {
            assert_int_equal(pkt_decode_ex(PKT_LINK_RAW, pkt, 20 + n, PKT_WANT_TCP, &info),
                             PKT_TCP_CHECKSUM);
            continue;
        }
        assert_int_equal(pkt_decode_ex(PKT_LINK_RAW, pkt, 20 + n, PKT_WANT_TCP, &info), PKT_OK);
        assert_int_equal(info.proto, 6);
        assert_int_equal(info.sport, 53);
        assert_int_equal(info.dport, 40000);
        assert_int_equal(info.tcp_seq, 0x11000022);
        assert_int_equal(info.tcp_flags, 0x18);
        assert_int_equal(info.csum_offloaded, csum == 2);
        assert_int_equal(info.payload_len, sizeof(seg));
        assert_memory_equal(info.payload, seg, sizeof(seg));
    }
    /* A data offset below 5 words or past the segment. */
    n = tcp4(pkt + 20, 0x10, NULL, 0, 0);
    pkt[20 + 12] = 0x40;
    ipv4(pkt, 6, n, 1, 0);
    assert_int_equal(pkt_decode_ex(PKT_LINK_RAW, pkt, 20 + n, PKT_WANT_TCP, &info),
                     PKT_TCP_HDR_LEN);
    ipv4(pkt, 6, 12, 1, 0);
    assert_int_equal(pkt_decode_ex(PKT_LINK_RAW, pkt, 32, PKT_WANT_TCP, &info), PKT_TCP_SHORT);
}

static void test_ipv4_fragment_fields(void **state)
{
    uint8_t pkt[128];
    struct pkt_info info;

    (void)state;
    memset(pkt + 20, 0xab, 48);
    ipv4(pkt, 17, 48, 0x4242, 0x2000 | 5); /* MF, offset 5 * 8 */
    assert_int_equal(pkt_decode(PKT_LINK_RAW, pkt, 68, &info), PKT_FRAGMENT);
    assert_int_equal(pkt_decode_ex(PKT_LINK_RAW, pkt, 68, PKT_WANT_TCP, &info), PKT_FRAGMENT);
    assert_int_equal(info.frag_id, 0x4242);
    assert_int_equal(info.frag_offset, 40);
    assert_int_equal(info.frag_more, 1);
    assert_int_equal(info.frag_proto, 17);
    assert_ptr_equal(info.frag_data, pkt + 20);
    assert_int_equal(info.frag_len, 48);
}

/* A reassembled UDP datagram decodes with the first fragment's addresses;
 * a wrong checksum over it is a checksum error. */
static void test_transport_after_reassembly(void **state)
{
    uint8_t pkt[64], dg[8 + sizeof(MSG)];
    struct pkt_info info;

    (void)state;
    put16(dg, 53);
    put16(dg + 2, 40000);
    put16(dg + 4, sizeof(dg));
    put16(dg + 6, 0);
    memcpy(dg + 8, MSG, sizeof(MSG));
    put16(dg + 6, l4_sum(S4, D4, 4, 17, dg, sizeof(dg)));
    memcpy(pkt + 20, dg, 16);
    ipv4(pkt, 17, 16, 7, 0x2000);
    assert_int_equal(pkt_decode_ex(PKT_LINK_RAW, pkt, 36, PKT_WANT_TCP, &info), PKT_FRAGMENT);
    assert_int_equal(pkt_decode_transport(17, dg, sizeof(dg), &info), PKT_OK);
    assert_int_equal(info.sport, 53);
    assert_int_equal(info.payload_len, sizeof(MSG));
    assert_memory_equal(info.payload, MSG, sizeof(MSG));
    dg[sizeof(dg) - 1] ^= 1;
    assert_int_equal(pkt_decode_ex(PKT_LINK_RAW, pkt, 36, PKT_WANT_TCP, &info), PKT_FRAGMENT);
    assert_int_equal(pkt_decode_transport(17, dg, sizeof(dg), &info), PKT_UDP_CHECKSUM);
}

static void test_ipv6_fragment_fields(void **state)
{
    uint8_t pkt[128];
    struct pkt_info info;

    (void)state;
    memset(pkt, 0, sizeof(pkt));
    pkt[0] = 0x60;
    put16(pkt + 4, 8 + 32);
    pkt[6] = 44;
    pkt[7] = 64;
    memcpy(pkt + 8, S6, 16);
    memcpy(pkt + 24, D6, 16);
    pkt[40] = 17;                 /* next header */
    put16(pkt + 42, (16 << 3) | 1); /* offset 16 * 8, M */
    pkt[44] = 0xde, pkt[45] = 0xad, pkt[46] = 0xbe, pkt[47] = 0xef;
    assert_int_equal(pkt_decode(PKT_LINK_RAW, pkt, 80, &info), PKT_FRAGMENT);
    assert_int_equal(pkt_decode_ex(PKT_LINK_RAW, pkt, 80, PKT_WANT_TCP, &info), PKT_FRAGMENT);
    assert_int_equal(info.frag_id, 0xdeadbeef);
    assert_int_equal(info.frag_offset, 128);
    assert_int_equal(info.frag_more, 1);
    assert_int_equal(info.frag_proto, 17);
    assert_ptr_equal(info.frag_data, pkt + 48);
    assert_int_equal(info.frag_len, 32);
    /* A fragment header cut short: a fragment with no data. */
    put16(pkt + 4, 4);
    assert_int_equal(pkt_decode(PKT_LINK_RAW, pkt, 44, &info), PKT_FRAGMENT);
    assert_int_equal(pkt_decode_ex(PKT_LINK_RAW, pkt, 44, PKT_WANT_TCP, &info), PKT_FRAGMENT);
    assert_null(info.frag_data);
}

/* NFLOG: header, a prefix TLV, then NFULA_PAYLOAD, in either byte order. */
static size_t nflog(uint8_t *p, int big, const uint8_t *ip, size_t n)
{
    size_t off = 4;

    p[0] = 2; /* AF_INET */
    p[1] = 0;
    put16(p + 2, 1);
    /* NFULA_PREFIX (10), "dns\0", padded */
    p[off + 0] = big ? 0 : 8, p[off + 1] = big ? 8 : 0;
    p[off + 2] = big ? 0 : 10, p[off + 3] = big ? 10 : 0;
    memcpy(p + off + 4, "dns", 4);
    off += 8;
    p[off + 0] = big ? (uint8_t)((4 + n) >> 8) : (uint8_t)(4 + n);
    p[off + 1] = big ? (uint8_t)(4 + n) : (uint8_t)((4 + n) >> 8);
    p[off + 2] = big ? 0 : 9, p[off + 3] = big ? 9 : 0;
    memcpy(p + off + 4, ip, n);
    return off + 4 + n;
}

static void test_nflog(void **state)
{
    uint8_t ip[64], frame[128], dg[8 + sizeof(MSG)];
    struct pkt_info info;
    size_t n;

    (void)state;
    assert_true(pkt_link_supported(PKT_LINK_NFLOG));
    put16(dg, 53);
    put16(dg + 2, 40000);
    put16(dg + 4, sizeof(dg));
    put16(dg + 6, 0);
    memcpy(dg + 8, MSG, sizeof(MSG));
    put16(dg + 6, l4_sum(S4, D4, 4, 17, dg, sizeof(dg)));
    ipv4(ip, 17, sizeof(dg), 1, 0);
    memcpy(ip + 20, dg, sizeof(dg));
    for (int big = 0; big < 2; big++) {
        n = nflog(frame, big, ip, 20 + sizeof(dg));
        assert_int_equal(pkt_decode(PKT_LINK_NFLOG, frame, n, &info), PKT_OK);
        assert_int_equal(info.payload_len, sizeof(MSG));
        assert_memory_equal(info.payload, MSG, sizeof(MSG));
        assert_memory_equal(info.src, S4, 4);
    }
    /* No payload TLV, a TLV longer than the frame, another family. */
    n = nflog(frame, 0, ip, 20 + sizeof(dg));
    assert_int_equal(pkt_decode(PKT_LINK_NFLOG, frame, 12, &info), PKT_LINK_TRUNCATED);
    frame[12] = 0xff, frame[13] = 0xff;
    assert_int_equal(pkt_decode(PKT_LINK_NFLOG, frame, n, &info), PKT_LINK_TRUNCATED);
    frame[0] = 7;
    assert_int_equal(pkt_decode(PKT_LINK_NFLOG, frame, n, &info), PKT_NOT_IP);
    assert_int_equal(pkt_decode(PKT_LINK_NFLOG, frame, 3, &info), PKT_LINK_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_ipv4_fragment_fields),
        cmocka_unit_test(test_transport_after_reassembly),
        cmocka_unit_test(test_ipv6_fragment_fields),
        cmocka_unit_test(test_nflog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
