/* packet.h: link layer / IP / UDP decoding of one captured packet (pure).
 *
 * Bytes in, a UDP payload (the DNS message) and its endpoints out, or a
 * reason why not. No pcap, libuv or socket types, no I/O, no allocation:
 * unit tests and fuzzers drive it directly.
 *
 * Supported link types (the pcap DLT_* values, passed as plain ints):
 *   PKT_LINK_NULL  (0)   BSD loopback: 4-byte address family, host order
 *                        of the capturing machine (either byte order is
 *                        accepted; 2 = IPv4, 24/28/30 = IPv6)
 *   PKT_LINK_EN10MB (1)  Ethernet II, with any number (up to
 *                        PKT_MAX_VLAN_TAGS) of 802.1Q (0x8100), 802.1ad
 *                        (0x88a8) or legacy QinQ (0x9100) tags
 *   PKT_LINK_RAW   (12)  raw IP, version from the first nibble (also
 *                        LINKTYPE_RAW 101, DLT_IPV4 228, DLT_IPV6 229)
 *   PKT_LINK_LOOP  (108) OpenBSD loopback: family in network order
 *   PKT_LINK_SLL   (113) Linux cooked v1 (16 bytes, protocol at 14)
 *   PKT_LINK_NFLOG (239) Linux NFLOG: a 4-byte header (family 2 or 10),
 *                        then TLVs; the packet is the NFULA_PAYLOAD value
 *   PKT_LINK_SLL2  (276) Linux cooked v2 (20 bytes, protocol at 0)
 * VLAN tags are also accepted after SLL/SLL2 protocol fields.
 *
 * IPv4: version 4, IHL >= 5 and within the data, header checksum verified,
 * options skipped, total length >= header and <= captured bytes (trailing
 * link padding beyond total length ignored). Fragments (MF set or offset
 * non-zero) are rejected with PKT_FRAGMENT.
 * IPv6: payload length <= captured bytes; extension headers hop-by-hop (0),
 * routing (43), destination options (60) and AH (51) are skipped, at most
 * PKT_MAX_EXT_HEADERS of them; a fragment header (44) gives PKT_FRAGMENT;
 * ESP (50) and no-next-header (59) give PKT_NOT_UDP.
 * UDP: length >= 8 and <= the IP payload; checksum verified over the UDP
 * length with the pseudo header. IPv4 checksum 0 means "none"; IPv6
 * checksum 0 is invalid (RFC 8200). A checksum field that holds exactly
 * the pseudo header sum (TX checksum offload on the capturing host) is
 * accepted and flagged in csum_offloaded. The payload is the UDP length - 8
 * bytes (bytes past the UDP length inside the IP payload are ignored).
 *
 * pkt_decode() is the 2004 program's view (fragments and TCP are not
 * DNS). pkt_decode_ex() with PKT_WANT_TCP decodes TCP too (header length,
 * checksum over the pseudo header with the same offload rule; payload =
 * the segment's data), and fills the frag_* fields of a fragment, which
 * still returns PKT_FRAGMENT: a reassembler (codec/ipfrag.h) takes it, and
 * pkt_decode_transport() decodes the UDP or TCP header of the whole
 * datagram with the addresses of the first call.
 */
#ifndef TAPXFR_CODEC_PACKET_H
#define TAPXFR_CODEC_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define PKT_LINK_NULL 0
#define PKT_LINK_EN10MB 1
#define PKT_LINK_RAW 12
#define PKT_LINK_RAW_ALT 101 /* LINKTYPE_RAW as stored in files */
#define PKT_LINK_LOOP 108
#define PKT_LINK_SLL 113
#define PKT_LINK_IPV4 228
#define PKT_LINK_IPV6 229
#define PKT_LINK_NFLOG 239
#define PKT_LINK_SLL2 276

#define PKT_MAX_VLAN_TAGS 4
#define PKT_MAX_EXT_HEADERS 8

/* Why a packet did not yield a UDP payload. 0 is success. The values are
 * negative so they can be returned as status codes; PKT_REASON_COUNT
 * sizes per-reason counter arrays indexed by -reason. */
enum pkt_reason {
    PKT_OK = 0,
    PKT_LINK_UNSUPPORTED = -1, /* link type not in the list above */
    PKT_LINK_TRUNCATED = -2,   /* shorter than the link header */
    PKT_NOT_IP = -3,           /* ethertype / family not IPv4 or IPv6 */
    PKT_IP_SHORT = -4,         /* fewer bytes than a minimal IP header */
    PKT_IP_VERSION = -5,       /* version nibble not 4 / not the one expected */
    PKT_IP_HDR_LEN = -6,       /* IHL < 5 or header beyond captured data */
    PKT_IP_CHECKSUM = -7,      /* IPv4 header checksum wrong */
    PKT_IP_TOTAL_LEN = -8,     /* total length < header length */
    PKT_IP_TRUNCATED = -9,     /* total / payload length > captured bytes */
    PKT_FRAGMENT = -10,        /* IPv4 fragment or IPv6 fragment header */
    PKT_EXT_HEADERS = -11,     /* IPv6 ext header chain too long / cut */
    PKT_NOT_UDP = -12,         /* upper protocol is not UDP */
    PKT_UDP_SHORT = -13,       /* fewer than 8 bytes for the UDP header */
    PKT_UDP_LEN = -14,         /* UDP length < 8 */
    PKT_UDP_TRUNCATED = -15,   /* UDP length > IP payload available */
    PKT_UDP_CHECKSUM = -16,    /* checksum wrong, or zero over IPv6 */
    PKT_TCP_SHORT = -17,       /* fewer than 20 bytes for the TCP header */
    PKT_TCP_HDR_LEN = -18,     /* data offset < 5 words or beyond the segment */
    PKT_TCP_CHECKSUM = -19,    /* TCP checksum wrong */
    PKT_NOT_DNS_PORT = -20,    /* reassembled, but port 53 at neither end
                                  (input/wire.c; the decoder never says it) */
    PKT_REASON_COUNT = 21
};

/* What the decoder learned. On failure, the fields reached before the
 * failure are filled (e.g. addresses once the IP header was read), and
 * detail_a / detail_b carry the numbers that explain the reason:
 *   PKT_IP_SHORT        a = bytes available
 *   PKT_IP_VERSION      a = the first byte
 *   PKT_IP_HDR_LEN      a = header length claimed, b = bytes available
 *   PKT_IP_TOTAL_LEN    a = total length, b = header length
 *   PKT_IP_TRUNCATED    a = length claimed, b = bytes available
 *   PKT_NOT_IP          a = ethertype or family
 *   PKT_NOT_UDP         a = protocol number
 *   PKT_UDP_LEN         a = UDP length, b = 8
 *   PKT_UDP_TRUNCATED   a = UDP length, b = bytes available
 *   PKT_LINK_UNSUPPORTED a = link type
 */
struct pkt_info {
    uint8_t ip_version; /* 4 or 6, 0 before the IP header was read */
    uint8_t src[16];    /* IPv4 in the first 4 bytes, network order */
    uint8_t dst[16];
    uint16_t sport, dport; /* host order */
    const uint8_t *payload; /* into the caller's buffer */
    size_t payload_len;
    uint32_t detail_a, detail_b;
    /* Set when the UDP checksum field holds only the pseudo header sum, as
     * outgoing packets do when captured on a host with checksum offload;
     * such packets are accepted unverified. */
    uint8_t csum_offloaded;

    /* pkt_decode_ex() only: */
    unsigned want;     /* PKT_WANT_* of the call */
    uint8_t proto;     /* the upper-layer protocol decoded (17, 6) */
    uint64_t pseudo;   /* unfolded sum of the pseudo header's addresses */
    uint32_t tcp_seq;  /* TCP: sequence number, */
    uint8_t tcp_flags; /* and flags (FIN 0x01, SYN 0x02, RST 0x04, ...) */
    /* PKT_FRAGMENT: the fragment, for a reassembler. IPv4: the IP id and
     * protocol; IPv6: the fragment header's id and next header. */
    uint32_t frag_id;
    uint32_t frag_offset; /* bytes */
    uint8_t frag_more;
    uint8_t frag_proto;
    const uint8_t *frag_data; /* the fragment's payload, in data; NULL
                                 when the fragment header is cut short */
    size_t frag_len;
};

#define PKT_WANT_TCP 1 /* decode TCP rather than return PKT_NOT_UDP */

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04

/* Decodes one packet of the given link type. data/caplen are the captured
 * bytes. Returns PKT_OK and fills *info (payload points into data), or a
 * negative enum pkt_reason. Never reads outside [data, data + caplen). */
int pkt_decode(int linktype, const uint8_t *data, size_t caplen,
               struct pkt_info *info);

/* The same, with the PKT_WANT_* of want: TCP decoded (PKT_OK, proto 6),
 * and a fragment's frag_* fields filled (PKT_FRAGMENT). */
int pkt_decode_ex(int linktype, const uint8_t *data, size_t caplen,
                  unsigned want, struct pkt_info *info);

/* Decodes the UDP (or, with PKT_WANT_TCP in info->want, TCP) header of a
 * reassembled IP payload of protocol proto, with the addresses and
 * pseudo header sum that pkt_decode_ex() left in *info. Returns PKT_OK
 * with payload / ports filled, or a negative enum pkt_reason. */
int pkt_decode_transport(unsigned proto, const uint8_t *data, size_t len,
                         struct pkt_info *info);

/* Whether pkt_decode() supports the link type. */
int pkt_link_supported(int linktype);

/* A short fixed name for a reason, e.g. "udp_checksum"; used in stats. */
const char *pkt_reason_name(int reason);

/* The Internet checksum (RFC 1071) of buf folded into 16 bits, seeded with
 * a 32-bit partial sum; returns the one's complement. A buffer that
 * includes a correct checksum field sums to 0. */
uint16_t pkt_checksum(const uint8_t *buf, size_t len, uint32_t seed);

#endif
