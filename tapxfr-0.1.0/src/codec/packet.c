#include "config.h"

#include <string.h>

#include "codec/packet.h"

#define ETH_HDR_LEN 14
#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define LOOP_HDR_LEN 4
#define VLAN_TAG_LEN 4
#define IPV4_MIN_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define UDP_HDR_LEN 8

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ 0x9100

#define NFLOG_HDR_LEN 4
#define NFLOG_TLV_LEN 4
#define NFULA_PAYLOAD 9

#define PROTO_HOPOPTS 0
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_DSTOPTS 60

/* MF flag and the 13-bit fragment offset; DF and the reserved bit do not
 * make a packet a fragment. */
#define IPV4_FRAG_MASK 0x3fff
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define TCP_MIN_HDR_LEN 20
#define IPV6_FRAG_HDR_LEN 8

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Adds buf as big-endian 16-bit words to an unfolded sum. Loading 32 bits
 * at a time is the same sum modulo 0xffff (2^16 == 1), halves the number
 * of additions, and the byte-shift pattern compiles to one load plus a
 * byte swap on either host byte order. The 64-bit accumulator cannot
 * overflow for any length a packet can have. */
static inline uint64_t sum_words(const uint8_t *p, size_t len, uint64_t acc)
{
    while (len >= 8) {
        acc += rd32be(p);
        acc += rd32be(p + 4);
        p += 8;
        len -= 8;
    }
    if (len >= 4) {
        acc += rd32be(p);
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        acc += rd16(p);
        p += 2;
        len -= 2;
    }
    /* An odd trailing byte is the high half of a word padded with zero. */
    if (len)
        acc += (uint32_t)p[0] << 8;
    return acc;
}

static inline uint16_t fold(uint64_t acc)
{
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

uint16_t pkt_checksum(const uint8_t *buf, size_t len, uint32_t seed)
{
    return fold(sum_words(buf, len, seed));
}

static int fail(struct pkt_info *info, int reason, size_t a, size_t b)
{
    info->detail_a = (uint32_t)a;
    info->detail_b = (uint32_t)b;
    return reason;
}

/* acc is the pseudo header sum without the length, which only the UDP
 * header supplies. */
static int decode_udp(const uint8_t *u, size_t avail, uint64_t acc,
                      int zero_invalid, struct pkt_info *info)
{
    size_t ulen;
    uint16_t ck;

    if (avail < UDP_HDR_LEN)
        return PKT_UDP_SHORT;
    info->sport = rd16(u);
    info->dport = rd16(u + 2);
    ulen = rd16(u + 4);
    if (ulen > avail)
        return fail(info, PKT_UDP_TRUNCATED, ulen, avail);
    if (ulen < UDP_HDR_LEN)
        return fail(info, PKT_UDP_LEN, ulen, UDP_HDR_LEN);
    ck = rd16(u + 6);
    if (ck == 0) {
        /* Zero means the sender did not compute one; IPv6 forbids that
         * because it has no header checksum to fall back on. */
        if (zero_invalid)
            return PKT_UDP_CHECKSUM;
    } else if (fold(sum_words(u, ulen, acc + ulen)) != 0) {
        /* A capture taken on the sending host sees its outgoing packets
         * before the NIC fills in the checksum (TX offload): the field then
         * holds just the folded pseudo header sum. Such a packet was never
         * on a wire that could corrupt it, so it is accepted as unverified. */
        uint16_t pseudo = fold(acc + ulen);
        if ((ck ^ pseudo) != 0xffff)
            return PKT_UDP_CHECKSUM;
        info->csum_offloaded = 1;
    }
    info->payload = u + UDP_HDR_LEN;
    info->payload_len = ulen - UDP_HDR_LEN;
    return PKT_OK;
}

/* acc as for UDP; TCP has no "no checksum" value. */
static int decode_tcp(const uint8_t *t, size_t avail, uint64_t acc, struct pkt_info *info)
{
    size_t hl;

    if (avail < TCP_MIN_HDR_LEN)
        return fail(info, PKT_TCP_SHORT, avail, TCP_MIN_HDR_LEN);
    info->sport = rd16(t);
    info->dport = rd16(t + 2);
    info->tcp_seq = rd32be(t + 4);
    hl = (size_t)(t[12] >> 4) * 4;
    if (hl < TCP_MIN_HDR_LEN || hl > avail)
        return fail(info, PKT_TCP_HDR_LEN, hl, avail);
    info->tcp_flags = t[13];
    if (fold(sum_words(t, avail, acc + avail)) != 0) {
        /* The same TX offload rule as for UDP. */
        uint16_t pseudo = fold(acc + avail);
        if ((rd16(t + 16) ^ pseudo) != 0xffff)
            return PKT_TCP_CHECKSUM;
        info->csum_offloaded = 1;
    }
    info->payload = t + hl;
    info->payload_len = avail - hl;
    return PKT_OK;
}

/* The upper layer of a whole IP payload: UDP, or TCP when asked for. */
static int decode_transport(unsigned proto, const uint8_t *p, size_t len, struct pkt_info *info)
{
    info->proto = (uint8_t)proto;
    if (proto == PROTO_UDP)
        return decode_udp(p, len, info->pseudo + PROTO_UDP, info->ip_version == 6, info);
    if (proto == PROTO_TCP && (info->want & PKT_WANT_TCP))
        return decode_tcp(p, len, info->pseudo + PROTO_TCP, info);
    return fail(info, PKT_NOT_UDP, proto, 0);
}

int pkt_decode_transport(unsigned proto, const uint8_t *data, size_t len, struct pkt_info *info)
{
    info->payload = NULL;
    info->payload_len = 0;
    info->csum_offloaded = 0;
    return decode_transport(proto, data, len, info);
}

/* The caller has checked that len >= 20 and the version is 4. The order of
 * the checks reproduces the 2004 dnslogger-forward, whose compatibility
 * suite compares drop reasons. */
static int decode_ipv4(const uint8_t *ip, size_t len, struct pkt_info *info)
{
    size_t hlen, total;

    /* Addresses come first so that every later failure can be logged
     * with its endpoints. */
    info->ip_version = 4;
    memcpy(info->src, ip + 12, 4);
    memset(info->src + 4, 0, sizeof(info->src) - 4);
    memcpy(info->dst, ip + 16, 4);
    memset(info->dst + 4, 0, sizeof(info->dst) - 4);

    hlen = (size_t)(ip[0] & 0x0f) * 4;
    if (hlen < IPV4_MIN_HDR_LEN || hlen > len)
        return fail(info, PKT_IP_HDR_LEN, hlen, len);
    if (pkt_checksum(ip, hlen, 0) != 0)
        return PKT_IP_CHECKSUM;
    total = rd16(ip + 2);
    if (total < hlen)
        return fail(info, PKT_IP_TOTAL_LEN, total, hlen);
    if (total > len)
        return fail(info, PKT_IP_TRUNCATED, total, len);
    info->pseudo = sum_words(ip + 12, 8, 0);
    if (rd16(ip + 6) & IPV4_FRAG_MASK) {
        info->frag_id = rd16(ip + 4);
        info->frag_offset = (uint32_t)(rd16(ip + 6) & IPV4_OFFSET_MASK) * 8;
        info->frag_more = (rd16(ip + 6) & IPV4_MF) != 0;
        info->frag_proto = ip[9];
        info->frag_data = ip + hlen;
        info->frag_len = total - hlen;
        return PKT_FRAGMENT;
    }
    return decode_transport(ip[9], ip + hlen, total - hlen, info);
}

/* An IPv6 fragment header at p with left bytes of payload from there on. */
static int ipv6_fragment(const uint8_t *p, size_t left, struct pkt_info *info)
{
    /* Cut short, it is still a fragment to the 2004 program's eyes; a
     * reassembler sees no data (frag_data NULL) and calls it broken. */
    info->frag_data = NULL;
    info->frag_len = 0;
    if (left < IPV6_FRAG_HDR_LEN)
        return PKT_FRAGMENT;
    info->frag_proto = p[0];
    info->frag_offset = rd16(p + 2) & 0xfff8;
    info->frag_more = p[3] & 1;
    info->frag_id = rd32be(p + 4);
    info->frag_data = p + IPV6_FRAG_HDR_LEN;
    info->frag_len = left - IPV6_FRAG_HDR_LEN;
    return PKT_FRAGMENT;
}

static int decode_ipv6(const uint8_t *ip, size_t len, struct pkt_info *info)
{
    const uint8_t *p, *final_dst = ip + 24;
    size_t left, plen, hl;
    unsigned nh, n;

    if (len < IPV6_HDR_LEN)
        return fail(info, PKT_IP_SHORT, len, 0);
    info->ip_version = 6;
    memcpy(info->src, ip + 8, 16);
    memcpy(info->dst, ip + 24, 16);

    plen = rd16(ip + 4);
    if (plen > len - IPV6_HDR_LEN)
        return fail(info, PKT_IP_TRUNCATED, plen, len - IPV6_HDR_LEN);

    /* Extension headers are bounded by the payload length, not by the
     * captured bytes, so link padding is never taken for a header. */
    p = ip + IPV6_HDR_LEN;
    left = plen;
    nh = ip[6];
    for (n = 0;; n++) {
        if (nh == PROTO_FRAGMENT) {
            /* The routing header is in the unfragmentable part, so the
             * final destination is known here. */
            info->pseudo = sum_words(ip + 8, 16, sum_words(final_dst, 16, 0));
            return ipv6_fragment(p, left, info);
        }
        if (nh != PROTO_HOPOPTS && nh != PROTO_ROUTING &&
            nh != PROTO_DSTOPTS && nh != PROTO_AH)
            break;
        if (n == PKT_MAX_EXT_HEADERS || left < 2)
            return PKT_EXT_HEADERS;
        /* AH counts 32-bit words minus 2 (RFC 4302); the others count
         * 8-byte units beyond the first (RFC 8200). */
        if (nh == PROTO_AH)
            hl = ((size_t)p[1] + 2) * 4;
        else
            hl = ((size_t)p[1] + 1) * 8;
        if (hl > left)
            return PKT_EXT_HEADERS;
        /* With segments left, the UDP checksum covers the final
         * destination (RFC 8200 8.1), not the address the packet is on its
         * way to: the last address of a type 0 or 2 routing header, or
         * segment 0 of a segment routing header (RFC 8754). */
        if (nh == PROTO_ROUTING && p[3] > 0 && hl >= 24) {
            if (p[2] == 0 || p[2] == 2)
                final_dst = p + 8 + 16 * ((hl - 8) / 16 - 1);
            else if (p[2] == 4)
                final_dst = p + 8;
        }
        nh = p[0];
        p += hl;
        left -= hl;
    }
    info->pseudo = sum_words(ip + 8, 16, sum_words(final_dst, 16, 0));
    return decode_transport(nh, p, left, info);
}

/* want is 4 or 6 when the link layer already said which, 0 for raw IP
 * that names its version only in the first nibble. The short check comes
 * before the version check, as in the 2004 program, so an empty or tiny
 * packet reports its length rather than a bogus version. */
static int decode_ip(const uint8_t *ip, size_t len, unsigned want,
                     struct pkt_info *info)
{
    unsigned v;

    if (len < IPV4_MIN_HDR_LEN)
        return fail(info, PKT_IP_SHORT, len, 0);
    v = ip[0] >> 4;
    if ((want && v != want) || (v != 4 && v != 6))
        return fail(info, PKT_IP_VERSION, ip[0], 0);
    if (v == 4)
        return decode_ipv4(ip, len, info);
    return decode_ipv6(ip, len, info);
}

static int is_vlan_tpid(unsigned etype)
{
    return etype == ETHERTYPE_8021Q || etype == ETHERTYPE_8021AD ||
           etype == ETHERTYPE_QINQ;
}

/* off points just past the field holding etype. Each tag is a 2-byte TCI
 * followed by the next type, the same after Ethernet, SLL and SLL2. A
 * type still naming a tag after PKT_MAX_VLAN_TAGS falls through to
 * PKT_NOT_IP with the TPID as detail. */
static int decode_ethertype(const uint8_t *data, size_t caplen, size_t off,
                            unsigned etype, struct pkt_info *info)
{
    unsigned tags;

    for (tags = 0; tags < PKT_MAX_VLAN_TAGS && is_vlan_tpid(etype); tags++) {
        if (caplen - off < VLAN_TAG_LEN)
            return PKT_LINK_TRUNCATED;
        etype = rd16(data + off + 2);
        off += VLAN_TAG_LEN;
    }
    if (etype == ETHERTYPE_IPV4)
        return decode_ip(data + off, caplen - off, 4, info);
    if (etype == ETHERTYPE_IPV6)
        return decode_ip(data + off, caplen - off, 6, info);
    return fail(info, PKT_NOT_IP, etype, 0);
}

/* AF_INET6 differs between the BSDs (24 NetBSD/OpenBSD, 28 FreeBSD,
 * 30 macOS) and a capture file keeps the writer's value. */
static int decode_family(const uint8_t *data, size_t caplen, uint32_t fam,
                         struct pkt_info *info)
{
    if (fam == 2)
        return decode_ip(data + LOOP_HDR_LEN, caplen - LOOP_HDR_LEN, 4, info);
    if (fam == 24 || fam == 28 || fam == 30)
        return decode_ip(data + LOOP_HDR_LEN, caplen - LOOP_HDR_LEN, 6, info);
    return fail(info, PKT_NOT_IP, fam, 0);
}

/* Linux NFLOG: a 4-byte header (family, version, resource id), then TLVs
 * whose 16-bit length (header included) and type are in the capturing
 * host's byte order, each padded to 4 bytes; the packet is the value of
 * NFULA_PAYLOAD. A file read elsewhere does not say which order, so a
 * length that cannot be is read the other way. */
static int decode_nflog(const uint8_t *data, size_t caplen, struct pkt_info *info)
{
    size_t off = NFLOG_HDR_LEN;
    unsigned fam;

    if (caplen < NFLOG_HDR_LEN)
        return PKT_LINK_TRUNCATED;
    fam = data[0];
    if (fam != 2 && fam != 10)
        return fail(info, PKT_NOT_IP, fam, 0);
    while (caplen - off >= NFLOG_TLV_LEN) {
        size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
        unsigned type = data[off + 2] | data[off + 3] << 8;

        if (len < NFLOG_TLV_LEN || len > caplen - off) {
            len = rd16(data + off);
            type = rd16(data + off + 2);
        }
        if (len < NFLOG_TLV_LEN || len > caplen - off)
            return PKT_LINK_TRUNCATED;
        if ((type & 0x7fff) == NFULA_PAYLOAD)
            return decode_ip(data + off + NFLOG_TLV_LEN, len - NFLOG_TLV_LEN,
                             fam == 2 ? 4 : 6, info);
        off += (len + 3) & ~(size_t)3;
        if (off > caplen)
            break;
    }
    return PKT_LINK_TRUNCATED;
}

int pkt_decode(int linktype, const uint8_t *data, size_t caplen,
               struct pkt_info *info)
{
    return pkt_decode_ex(linktype, data, caplen, 0, info);
}

int pkt_decode_ex(int linktype, const uint8_t *data, size_t caplen, unsigned want,
                  struct pkt_info *info)
{
    uint32_t fam;

    /* Only the fields a caller may look at after a failure are reset;
     * the addresses are meaningful only once ip_version is set. */
    info->want = want;
    info->proto = 0;
    info->ip_version = 0;
    info->sport = 0;
    info->dport = 0;
    info->payload = NULL;
    info->payload_len = 0;
    info->detail_a = 0;
    info->detail_b = 0;
    info->csum_offloaded = 0;

    switch (linktype) {
    case PKT_LINK_EN10MB:
        if (caplen < ETH_HDR_LEN)
            return PKT_LINK_TRUNCATED;
        return decode_ethertype(data, caplen, ETH_HDR_LEN, rd16(data + 12),
                                info);
    case PKT_LINK_SLL:
        if (caplen < SLL_HDR_LEN)
            return PKT_LINK_TRUNCATED;
        return decode_ethertype(data, caplen, SLL_HDR_LEN, rd16(data + 14),
                                info);
    case PKT_LINK_SLL2:
        if (caplen < SLL2_HDR_LEN)
            return PKT_LINK_TRUNCATED;
        return decode_ethertype(data, caplen, SLL2_HDR_LEN, rd16(data),
                                info);
    case PKT_LINK_NULL:
        if (caplen < LOOP_HDR_LEN)
            return PKT_LINK_TRUNCATED;
        /* Written in the capturing host's order, which a file read
         * elsewhere does not tell us; families are small, so a value
         * above 0xffff must be the other order. */
        fam = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
              (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
        if (fam > 0xffff)
            fam = rd32be(data);
        return decode_family(data, caplen, fam, info);
    case PKT_LINK_LOOP:
        if (caplen < LOOP_HDR_LEN)
            return PKT_LINK_TRUNCATED;
        return decode_family(data, caplen, rd32be(data), info);
    case PKT_LINK_RAW:
    case PKT_LINK_RAW_ALT:
        return decode_ip(data, caplen, 0, info);
    case PKT_LINK_IPV4:
        return decode_ip(data, caplen, 4, info);
    case PKT_LINK_IPV6:
        return decode_ip(data, caplen, 6, info);
    case PKT_LINK_NFLOG:
        return decode_nflog(data, caplen, info);
    default:
        return fail(info, PKT_LINK_UNSUPPORTED, (uint32_t)linktype, 0);
    }
}

int pkt_link_supported(int linktype)
{
    switch (linktype) {
    case PKT_LINK_NULL:
    case PKT_LINK_EN10MB:
    case PKT_LINK_RAW:
    case PKT_LINK_RAW_ALT:
    case PKT_LINK_LOOP:
    case PKT_LINK_SLL:
    case PKT_LINK_IPV4:
    case PKT_LINK_NFLOG:
    case PKT_LINK_IPV6:
    case PKT_LINK_SLL2:
        return 1;
    default:
        return 0;
    }
}

const char *pkt_reason_name(int reason)
{
    static const char *const names[PKT_REASON_COUNT] = {
        "ok",           "link_unsupported", "link_truncated", "not_ip",
        "ip_short",     "ip_version",       "ip_hdr_len",     "ip_checksum",
        "ip_total_len", "ip_truncated",     "fragment",       "ext_headers",
        "not_udp",      "udp_short",        "udp_len",        "udp_truncated",
        "udp_checksum", "tcp_short",        "tcp_hdr_len",    "tcp_checksum",
        "not_dns_port",
    };
    /* Compared without negating, which would overflow for INT_MIN. */
    if (reason > 0 || reason <= -PKT_REASON_COUNT)
        return "unknown";
    return names[-reason];
}
